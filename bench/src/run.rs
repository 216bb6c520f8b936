//! One run: discovery and keys, set-up logins when the operations need sessions, then the load
//! (closed or open) with live progress, CPU read from /proc before and after.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::Rng;
use tokio::sync::Mutex;

use crate::cpu;
use crate::flow::{Ctx, Shared, Vu};
use crate::load::LoadModel;
use crate::oidc::{Endpoints, KeyStore};
use crate::report::{CpuReport, ProcCpu, Report};
use crate::scenario::{Op, Scenario};
use crate::stats::Recorder;

/// How long a closed-model virtual user waits after a failed operation.
pub const FAILURE_PAUSE: Duration = Duration::from_millis(100);

pub struct RunOptions {
    pub pids: Vec<u32>,
    pub quiet: bool,
    pub label: String,
}

/// Resolves each host name once per run and keeps the answer. The system resolver, called per
/// new connection from a blocking pool, fails under thousands of simultaneous connections
/// ("Device or resource busy"): that would be the load generator's failure, not the server's.
#[derive(Default)]
struct CachingResolver {
    cache: Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<std::net::SocketAddr>>>>,
    lookups: Arc<tokio::sync::Mutex<()>>,
}

impl reqwest::dns::Resolve for CachingResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let (cache, lookups) = (self.cache.clone(), self.lookups.clone());
        let get =
            move |cache: &std::sync::Mutex<std::collections::HashMap<String, Vec<std::net::SocketAddr>>>,
                  host: &str| { cache.lock().unwrap_or_else(|p| p.into_inner()).get(host).cloned() };
        Box::pin(async move {
            if let Some(addrs) = get(&cache, &host) {
                return Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs);
            }
            let _one_at_a_time = lookups.lock().await;
            if let Some(addrs) = get(&cache, &host) {
                return Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs);
            }
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            cache.lock().unwrap_or_else(|p| p.into_inner()).insert(host, addrs.clone());
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

pub fn http_client(sc: &Scenario) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CachingResolver::default()))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(sc.request_timeout)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        // Bounded, so that a spike's connections do not all stay open once it passes (they count
        // against the open-files limit, with the next spike's).
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .user_agent(concat!("xacthuc-bench/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the HTTP client")
}

/// Discovery and the JWKS: the run stops here with a clear message if the provider is away.
pub async fn connect(sc: Arc<Scenario>, rec: &Recorder) -> anyhow::Result<Shared> {
    let http = http_client(&sc)?;
    let issuer = sc.provider.issuer.clone();
    let disc_url = format!("{issuer}/.well-known/openid-configuration");
    let t0 = Instant::now();
    let resp =
        http.get(&disc_url).send().await.map_err(|e| {
            anyhow::anyhow!("cannot reach the provider at {disc_url}: {}", crate::flow::error_chain(&e))
        })?;
    let status = resp.status();
    let body = resp.bytes().await.with_context(|| format!("reading {disc_url}"))?;
    rec.step("discovery", t0.elapsed());
    if !status.is_success() {
        anyhow::bail!("discovery at {disc_url} answered {status}");
    }
    let ep = Endpoints::from_discovery(&body, &issuer)?;
    let needs_keys = sc.provider.verify_id_token && sc.mix.iter().any(|(op, _)| *op != Op::ClientCredentials);
    let keys = match (&ep.jwks_uri, needs_keys) {
        (Some(uri), true) => {
            let t0 = Instant::now();
            let resp = http.get(uri.clone()).send().await.with_context(|| format!("cannot fetch the JWKS at {uri}"))?;
            let body = resp.bytes().await?;
            rec.step("jwks", t0.elapsed());
            Some(KeyStore::new(KeyStore::parse(&body).with_context(|| format!("JWKS at {uri}"))?))
        }
        (None, true) => anyhow::bail!("the provider publishes no jwks_uri; set provider.verify_id_token = false"),
        _ => None,
    };
    Ok(Shared::new(http, sc, ep, keys))
}

fn pick(mix: &[(Op, u32)]) -> Op {
    if mix.len() == 1 {
        return mix[0].0;
    }
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut x = rand::thread_rng().gen_range(0..total);
    for (op, w) in mix {
        if x < *w {
            return *op;
        }
        x -= w;
    }
    mix[0].0
}

fn progress(total: Option<u64>, quiet: bool) -> ProgressBar {
    let pb = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if quiet {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    let tpl = if total.is_some() {
        "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}"
    } else {
        "{elapsed_precise} {spinner} {msg}"
    };
    pb.set_style(
        ProgressStyle::with_template(tpl).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    );
    pb
}

/// Logs in `n` users (at most 32 at a time) before the measured run, recording into `rec`.
async fn prepare(ctx: &Ctx, n: usize, quiet: bool) -> anyhow::Result<Vec<Arc<Mutex<Vu>>>> {
    let pb = progress(Some(n as u64), quiet);
    pb.set_message("set-up logins");
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let (ctx, sem, pb) = (ctx.clone(), sem.clone(), pb.clone());
        set.spawn(async move {
            let _p = sem.acquire_owned().await;
            let mut vu = Vu::new(i);
            let _ = ctx.run_op(&mut vu, Op::Login).await;
            pb.inc(1);
            vu
        });
    }
    let mut vus = Vec::new();
    while let Some(r) = set.join_next().await {
        vus.push(r.context("a set-up task panicked")?);
    }
    pb.finish_and_clear();
    if !vus.iter().any(Vu::has_session) {
        let snap = ctx.rec.snapshot();
        let first = snap.errors.first().map(|(k, _, d)| format!("{k}: {d}")).unwrap_or_default();
        anyhow::bail!("no set-up login succeeded; first error: {first}");
    }
    vus.sort_by_key(|v| v.id);
    Ok(vus.into_iter().map(|v| Arc::new(Mutex::new(v))).collect())
}

pub async fn run(sc: Arc<Scenario>, opts: RunOptions) -> anyhow::Result<Report> {
    cpu::raise_nofile_limit();
    for pid in &opts.pids {
        cpu::cpu_seconds(*pid)?;
    }
    let setup_rec = Arc::new(Recorder::new());
    let shared = Arc::new(connect(sc.clone(), &setup_rec).await?);
    let setup_ctx = Ctx { shared: shared.clone(), rec: setup_rec.clone() };
    let needs_sessions = sc.mix.iter().any(|(op, _)| op.needs_session());
    let pool = if needs_sessions { prepare(&setup_ctx, sc.users, opts.quiet).await? } else { Vec::new() };

    let rec = Arc::new(Recorder::new());
    let ctx = Ctx { shared: shared.clone(), rec: rec.clone() };
    let cpu_before: Vec<f64> = opts.pids.iter().map(|p| cpu::cpu_seconds(*p).unwrap_or(0.0)).collect();
    let names: std::collections::HashMap<u32, String> = opts.pids.iter().map(|p| (*p, cpu::process_name(*p))).collect();
    let own_before = cpu::own_cpu_seconds();
    let wall = Instant::now();
    let dropped = Arc::new(AtomicU64::new(0));

    let total = match &sc.load {
        LoadModel::Closed { iterations, .. } => *iterations,
        LoadModel::Open { arrivals, .. } => Some(arrivals.schedule().len() as u64),
    };
    let pb = progress(total, opts.quiet);
    let ticker = {
        let (rec, pb, dropped) = (rec.clone(), pb.clone(), dropped.clone());
        tokio::spawn(async move {
            loop {
                let (ok, failed) = (rec.ok.load(Ordering::Relaxed), rec.failed.load(Ordering::Relaxed));
                let secs = rec.elapsed().as_secs_f64().max(1e-3);
                pb.set_position(ok + failed);
                pb.set_message(format!(
                    "ok {ok}  failed {failed}  in flight {}  {:.1} ops/s{}",
                    rec.in_flight.load(Ordering::Relaxed),
                    ok as f64 / secs,
                    match dropped.load(Ordering::Relaxed) {
                        0 => String::new(),
                        d => format!("  dropped {d}"),
                    }
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    match &sc.load {
        LoadModel::Closed { duration, iterations } => {
            let deadline = duration.map(|d| Instant::now() + d);
            let claimed = Arc::new(AtomicU64::new(0));
            let mut set = tokio::task::JoinSet::new();
            for i in 0..sc.users {
                let (ctx, claimed, sc) = (ctx.clone(), claimed.clone(), sc.clone());
                let pooled = pool.get(i).cloned();
                let iterations = *iterations;
                set.spawn(async move {
                    let own = Arc::new(Mutex::new(Vu::new(i)));
                    let vu = pooled.unwrap_or(own);
                    let mut vu = vu.lock().await;
                    loop {
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                        if iterations.is_some_and(|n| claimed.fetch_add(1, Ordering::Relaxed) >= n) {
                            break;
                        }
                        ctx.rec.in_flight.fetch_add(1, Ordering::Relaxed);
                        let op = pick(&sc.mix);
                        // A run ends at its deadline: an operation still going then is not counted.
                        let ok = match deadline {
                            Some(d) => tokio::time::timeout_at(d.into(), ctx.run_op(&mut vu, op)).await.unwrap_or(true),
                            None => ctx.run_op(&mut vu, op).await,
                        };
                        ctx.rec.in_flight.fetch_sub(1, Ordering::Relaxed);
                        // After a failure a user pauses a moment (as people do) instead of
                        // hammering in a tight loop: a failure that sends nothing would spin.
                        if !ok {
                            tokio::time::sleep(FAILURE_PAUSE).await;
                        }
                    }
                });
            }
            while set.join_next().await.is_some() {}
        }
        LoadModel::Open { arrivals, max_in_flight } => {
            let schedule = arrivals.schedule();
            let start = tokio::time::Instant::now();
            let mut set = tokio::task::JoinSet::new();
            let mut next_pooled = 0usize;
            for (i, at) in schedule.into_iter().enumerate() {
                tokio::time::sleep_until(start + at).await;
                while set.try_join_next().is_some() {}
                if rec.in_flight.load(Ordering::Relaxed) as usize >= *max_in_flight {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    rec.op_failed("dropped: max_in_flight reached", "the load generator's own cap");
                    continue;
                }
                let op = pick(&sc.mix);
                let vu = if op.needs_session() && !pool.is_empty() {
                    next_pooled = (next_pooled + 1) % pool.len();
                    Some(pool[next_pooled].clone())
                } else {
                    None
                };
                let ctx = ctx.clone();
                ctx.rec.in_flight.fetch_add(1, Ordering::Relaxed);
                set.spawn(async move {
                    match vu {
                        Some(vu) => ctx.run_op(&mut *vu.lock().await, op).await,
                        None => ctx.run_op(&mut Vu::new(i), op).await,
                    };
                    ctx.rec.in_flight.fetch_sub(1, Ordering::Relaxed);
                });
            }
            while set.join_next().await.is_some() {}
        }
    }
    let wall = wall.elapsed();
    let own_cpu = cpu::own_cpu_seconds() - own_before;
    let procs: Vec<ProcCpu> = opts
        .pids
        .iter()
        .zip(cpu_before)
        .map(|(pid, before)| {
            let after = cpu::cpu_seconds(*pid).ok();
            ProcCpu {
                pid: *pid,
                name: names.get(pid).cloned().unwrap_or_default(),
                cpu_seconds: after.map_or(0.0, |a| a - before),
                us_per_op: 0.0,
                exited: after.is_none(),
            }
        })
        .collect();
    ticker.abort();
    pb.finish_and_clear();

    let snap = rec.snapshot();
    let setup = needs_sessions.then(|| setup_rec.snapshot());
    let ok = rec.ok.load(Ordering::Relaxed);
    let cpu = (!procs.is_empty()).then(|| CpuReport::new(procs, ok));
    Ok(Report::build(
        &opts.label,
        &sc,
        wall,
        &snap,
        setup.as_ref(),
        cpu,
        own_cpu,
        shared.identities_used(),
        shared.identities_wrapped.load(Ordering::Relaxed),
    ))
}
