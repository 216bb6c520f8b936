//! `xacthuc-bench`: drives complete OpenID Connect logins (and token operations) against any
//! provider and reports throughput, latency percentiles, errors, waiting-room time and server
//! CPU per operation.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use xacthuc_bench::load::LoadModel;
use xacthuc_bench::report::{Report, compare};
use xacthuc_bench::run::{RunOptions, run};
use xacthuc_bench::scenario::{LoadFile, Overrides, Scenario};

/// Load tool for OpenID Connect providers: complete browserless logins (discovery, authorize
/// with PKCE, redirects with a cookie jar per virtual user, HTML forms filled from a scenario,
/// code exchange, ID token checked against the JWKS), client_credentials, refresh, userinfo, and
/// a mixed "day in the province"; closed or open load; a report as a table, JSON and SVG.
#[derive(Parser)]
#[command(name = "xacthuc-bench", version, after_help = "The scenario file format and examples: bench/README.md.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario under load and report.
    Run(RunArgs),
    /// Check a scenario file (and its identity list) without sending anything; print what it does.
    Check(CheckArgs),
    /// Perform a few operations one after the other and show every step and error: to build or
    /// debug a scenario against a provider.
    Try(TryArgs),
    /// Compare JSON reports side by side: server CPU per operation and the ratio to the first.
    Compare(CompareArgs),
}

#[derive(Args)]
struct ScenarioArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Override provider.issuer.
    #[arg(long)]
    issuer: Option<String>,
    /// Override provider.client_id.
    #[arg(long)]
    client_id: Option<String>,
    /// Override provider.client_secret.
    #[arg(long, env = "XACTHUC_BENCH_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Override provider.redirect_uri.
    #[arg(long)]
    redirect_uri: Option<String>,
    /// Override scenario.kind: login, sso_login, client_credentials, refresh, userinfo or day.
    #[arg(long)]
    kind: Option<String>,
    /// Override provider.scope (space separated).
    #[arg(long)]
    scope: Option<String>,
    /// Add or replace an authorization parameter, NAME=VALUE (templated), e.g. prompt=consent
    /// (repeatable).
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Use this identity list (CSV with a header row) instead of the scenario's.
    #[arg(long)]
    identities: Option<PathBuf>,
    /// Skip this many identities (after `where`), e.g. those an earlier run used.
    #[arg(long)]
    skip_identities: Option<usize>,
}

#[derive(Args)]
struct LoadArgs {
    /// Closed model: number of virtual users (open model: users logged in up front for
    /// refresh/userinfo/SSO operations).
    #[arg(long)]
    users: Option<usize>,
    /// How long to run (closed model, or open constant/ramp), e.g. 30s, 2m.
    #[arg(long)]
    duration: Option<String>,
    /// Closed model: stop after this many operations.
    #[arg(long)]
    iterations: Option<u64>,
    /// Open model: a constant arrival rate per second (with --duration).
    #[arg(long, conflicts_with_all = ["ramp", "spike"])]
    rate: Option<f64>,
    /// Open model: a ramp FROM:TO arrivals per second over --duration, e.g. 0:200.
    #[arg(long, conflicts_with = "spike")]
    ramp: Option<String>,
    /// Open model: COUNT arrivals within a time, e.g. 10000/10s.
    #[arg(long)]
    spike: Option<String>,
    /// Open model: arrivals beyond this many operations in flight are dropped (and counted).
    #[arg(long)]
    max_in_flight: Option<usize>,
    /// Timeout of each HTTP request, e.g. 30s.
    #[arg(long)]
    request_timeout: Option<String>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    load: LoadArgs,
    /// PID of a server process whose CPU (user+system) counts per operation; repeat to sum
    /// several (e.g. the provider, PostgreSQL, Redis).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    /// A name for this run in the report.
    #[arg(long, default_value = "")]
    label: String,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a chart of throughput and latency over time (SVG) to this file.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// No live progress.
    #[arg(long, short)]
    quiet: bool,
    /// Exit with status 1 if any operation failed.
    #[arg(long)]
    fail_on_error: bool,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Args)]
struct TryArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// How many operations, one after the other.
    #[arg(long, default_value_t = 1)]
    count: u64,
}

#[derive(Args)]
struct CompareArgs {
    /// JSON reports written by `run --json`; ratios are to the first.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("{s:?}: write NAME=VALUE")),
    }
}

fn overrides(s: &ScenarioArgs, l: Option<&LoadArgs>) -> anyhow::Result<Overrides> {
    let mut load = LoadFile::default();
    if let Some(l) = l {
        load.users = l.users;
        load.duration = l.duration.clone();
        load.iterations = l.iterations;
        load.max_in_flight = l.max_in_flight;
        load.request_timeout = l.request_timeout.clone();
        if let Some(r) = l.rate {
            load.arrival = Some("constant".into());
            load.rate = Some(r);
        }
        if let Some(r) = &l.ramp {
            let (a, b) = r.split_once(':').context("--ramp: write FROM:TO, e.g. 0:200")?;
            load.arrival = Some("ramp".into());
            load.from = Some(a.trim().parse().context("--ramp FROM")?);
            load.to = Some(b.trim().parse().context("--ramp TO")?);
        }
        if let Some(s) = &l.spike {
            let (n, w) = s.split_once('/').context("--spike: write COUNT/TIME, e.g. 10000/10s")?;
            load.arrival = Some("spike".into());
            load.count = Some(n.trim().parse().context("--spike COUNT")?);
            load.within = Some(w.trim().to_string());
        }
        // Closed-model flags alone on the command line mean the closed model.
        if load.arrival.is_none() && (l.iterations.is_some() || l.duration.is_some()) && l.users.is_some() {
            load.model = Some("closed".into());
        }
    }
    Ok(Overrides {
        issuer: s.issuer.clone(),
        client_id: s.client_id.clone(),
        client_secret: s.client_secret.clone(),
        redirect_uri: s.redirect_uri.clone(),
        kind: s.kind.clone(),
        scope: s.scope.clone(),
        authorize_params: s.params.clone(),
        identities_file: s.identities.clone(),
        load,
        identities_skip: s.skip_identities,
    })
}

async fn main_inner(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(a) => {
            let sc = Scenario::load(&a.scenario.scenario, &overrides(&a.scenario, Some(&a.load))?)?;
            println!("{}", sc.describe());
            if let LoadModel::Open { arrivals, .. } = &sc.load {
                let s = arrivals.schedule();
                println!(
                    "schedule   {} arrivals, the last at {:.2} s",
                    s.len(),
                    s.last().map(|d| d.as_secs_f64()).unwrap_or(0.0)
                );
            }
            println!("OK");
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(a) => {
            let sc = Arc::new(Scenario::load(&a.scenario.scenario, &overrides(&a.scenario, Some(&a.load))?)?);
            if !a.quiet {
                eprintln!("{}\n", sc.describe());
            }
            let report = run(sc, RunOptions { pids: a.pids, quiet: a.quiet, label: a.label }).await?;
            println!("{}", report.table());
            if let Some(p) = &a.json {
                report.write_json(p)?;
                eprintln!("JSON report: {}", p.display());
            }
            if let Some(p) = &a.svg {
                report.write_svg(p)?;
                eprintln!("chart: {}", p.display());
            }
            Ok(if a.fail_on_error && report.ops_failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Try(a) => {
            let mut o = overrides(&a.scenario, None)?;
            o.load = LoadFile {
                model: Some("closed".into()),
                users: Some(1),
                iterations: Some(a.count.max(1)),
                ..LoadFile::default()
            };
            let sc = Arc::new(Scenario::load(&a.scenario.scenario, &o)?);
            let report = run(sc, RunOptions { pids: vec![], quiet: true, label: "try".into() }).await?;
            println!("{}", report.table());
            Ok(if report.ops_failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Compare(a) => {
            let reports = a.reports.iter().map(|p| Report::read_json(p)).collect::<anyhow::Result<Vec<_>>>()?;
            print!("{}", compare(&reports));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(main_inner(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
