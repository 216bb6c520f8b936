//! `xacthuc-mocks`: run the national-system mocks alone, or generate synthetic citizens.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;
use xacthuc_mocks::citizens::{self, OutputFormat, Population};
use xacthuc_mocks::faults::FaultConfig;
use xacthuc_mocks::{MocksConfig, VneidClient, demo_citizens, gov_ca, population, vneid};

/// Mocks of the Vietnamese national systems for xacthuc: the VNeID-like e-ID (OIDC), the
/// population database (CSDLQGVDC) and the Government CA. For development and tests only.
#[derive(Parser)]
#[command(name = "xacthuc-mocks", version, after_help = "See mocks/README.md for every knob.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mock national e-ID (VNeID-like OpenID Connect provider), default port 8081.
    Vneid(ServeArgs),
    /// Mock population database behind the provincial platform, default port 8082.
    Population(ServeArgs),
    /// Mock Government CA (officer certificates, CRL), default port 8083.
    GovCa(ServeArgs),
    /// All three mocks on one shared synthetic population.
    All(ServeArgs),
    /// Write synthetic citizens to a file (CSV or JSON Lines) and report throughput.
    Generate(GenerateArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// JSON file with a full MocksConfig (see README); flags below override it.
    #[arg(long, env = "MOCKS_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "MOCKS_BIND")]
    bind: Option<IpAddr>,
    /// Port (for a single mock; `all` uses --vneid-port/--population-port/--gov-ca-port).
    #[arg(long)]
    port: Option<u16>,
    /// e-ID port (default 8081).
    #[arg(long)]
    vneid_port: Option<u16>,
    /// Population database port (default 8082).
    #[arg(long)]
    population_port: Option<u16>,
    /// Government CA port (default 8083).
    #[arg(long)]
    gov_ca_port: Option<u16>,
    /// Folder for persistent state (e-ID signing key, CA keys and registry).
    #[arg(long, env = "MOCKS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Seed of the synthetic population.
    #[arg(long, env = "MOCKS_SEED")]
    seed: Option<u64>,
    /// Number of synthetic citizens.
    #[arg(long, env = "MOCKS_CITIZENS")]
    citizens: Option<usize>,
    /// e-ID issuer (public base URL), e.g. http://localhost:8081.
    #[arg(long)]
    issuer: Option<String>,
    /// Register an e-ID client: `client_id,client_secret,redirect_uri[,redirect_uri...]`
    /// (repeatable; replaces the default client).
    #[arg(long = "client")]
    clients: Vec<String>,
    /// Population API key (repeatable; replaces the default key).
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// Fault configuration (JSON, as for PUT /mock/faults) for the e-ID and population mocks.
    #[arg(long)]
    faults: Option<String>,
    /// Gov CA public URL (used in the CRL distribution point).
    #[arg(long)]
    ca_public_url: Option<String>,
}

#[derive(Args)]
struct GenerateArgs {
    /// Seed: the same seed and count always give the same citizens.
    #[arg(long, default_value_t = 2025)]
    seed: u64,
    /// Number of citizens (the demo citizens are always the first ones).
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Jsonl)]
    format: OutputFormat,
    /// Output file; standard output if absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Generate(a) => tokio::task::spawn_blocking(move || generate(a)).await?,
        Command::All(a) => {
            let cfg = config(&a)?;
            let running = xacthuc_mocks::start_all(cfg).await?;
            eprintln!(
                "e-ID http://{}  population http://{}  gov-ca http://{}",
                running.vneid, running.population, running.gov_ca
            );
            print_demo();
            shutdown_signal().await;
            running.shutdown().await;
            Ok(())
        }
        Command::Vneid(a) => {
            let cfg = config(&a)?;
            let pop = population_of(&cfg).await?;
            let l = listen(&cfg, a.port.unwrap_or(cfg.vneid.port)).await?;
            let r = vneid::start(cfg.vneid, pop, l).await?;
            print_demo();
            shutdown_signal().await;
            r.shutdown().await;
            Ok(())
        }
        Command::Population(a) => {
            let cfg = config(&a)?;
            let pop = population_of(&cfg).await?;
            let l = listen(&cfg, a.port.unwrap_or(cfg.population.port)).await?;
            let r = population::start(cfg.population, pop, l).await?;
            shutdown_signal().await;
            r.shutdown().await;
            Ok(())
        }
        Command::GovCa(a) => {
            let cfg = config(&a)?;
            let l = listen(&cfg, a.port.unwrap_or(cfg.gov_ca.port)).await?;
            let r = gov_ca::start(cfg.gov_ca, l).await?;
            shutdown_signal().await;
            r.shutdown().await;
            Ok(())
        }
    }
}

fn config(a: &ServeArgs) -> anyhow::Result<MocksConfig> {
    let mut cfg: MocksConfig = match &a.config {
        Some(p) => serde_json::from_slice(&std::fs::read(p).with_context(|| format!("reading {}", p.display()))?)
            .with_context(|| format!("parsing {}", p.display()))?,
        None => MocksConfig::default(),
    };
    if let Some(v) = a.bind {
        cfg.bind = v;
    }
    if let Some(v) = a.vneid_port {
        cfg.vneid.port = v;
    }
    if let Some(v) = a.population_port {
        cfg.population.port = v;
    }
    if let Some(v) = a.gov_ca_port {
        cfg.gov_ca.port = v;
    }
    if let Some(v) = &a.data_dir {
        cfg.data_dir = v.clone();
    }
    if let Some(v) = a.seed {
        cfg.seed = v;
    }
    if let Some(v) = a.citizens {
        cfg.citizens = v;
    }
    if let Some(v) = &a.issuer {
        cfg.vneid.issuer = v.clone();
    }
    if let Some(v) = &a.ca_public_url {
        cfg.gov_ca.public_url = v.clone();
    }
    if !a.clients.is_empty() {
        cfg.vneid.clients = a.clients.iter().map(|c| parse_client(c)).collect::<anyhow::Result<_>>()?;
    }
    if !a.api_keys.is_empty() {
        cfg.population.api_keys = a.api_keys.clone();
    }
    if let Some(f) = &a.faults {
        let faults: FaultConfig = serde_json::from_str(f).context("--faults is not a valid fault configuration")?;
        cfg.vneid.faults = faults.clone();
        cfg.population.faults = faults;
    }
    // Single mocks started from the CLI keep their state in the data folder too.
    cfg.vneid.key_dir.get_or_insert_with(|| cfg.data_dir.join("vneid"));
    cfg.gov_ca.data_dir.get_or_insert_with(|| cfg.data_dir.join("gov-ca"));
    Ok(cfg)
}

fn parse_client(s: &str) -> anyhow::Result<VneidClient> {
    let mut parts = s.split(',');
    let (Some(id), Some(secret)) = (parts.next(), parts.next()) else {
        anyhow::bail!("--client is client_id,client_secret,redirect_uri[,...]");
    };
    let redirect_uris: Vec<String> = parts.map(str::to_string).collect();
    anyhow::ensure!(!redirect_uris.is_empty(), "--client needs at least one redirect URI");
    Ok(VneidClient {
        client_id: id.to_string(),
        client_secret: (!secret.is_empty()).then(|| secret.to_string()),
        redirect_uris,
        jwks: None,
    })
}

async fn population_of(cfg: &MocksConfig) -> anyhow::Result<Arc<Population>> {
    let (seed, n) = (cfg.seed, cfg.citizens);
    Ok(Arc::new(tokio::task::spawn_blocking(move || Population::generate(seed, n)).await?))
}

async fn listen(cfg: &MocksConfig, port: u16) -> anyhow::Result<TcpListener> {
    let addr = std::net::SocketAddr::new(cfg.bind, port);
    TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))
}

fn print_demo() {
    eprintln!("Demo identities at the e-ID (login / passcode / level / name / case):");
    for d in demo_citizens() {
        eprintln!("  {:<12} {}  L{}  {:<32} {}", d.login, d.passcode, d.level, d.name, d.case.description());
    }
    eprintln!("Any other synthetic citizen: passcode = digits 7-12 of the personal ID.");
}

/// Ctrl-C or SIGTERM (what process managers and `docker stop` send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("shutting down");
}

fn generate(a: GenerateArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    citizens::write_header(&mut out, a.format)?;
    let written = citizens::generate_to(a.seed, a.count, a.format, &mut out)?;
    out.flush()?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "generated {written} citizens in {secs:.2} s ({:.0} citizens/s), seed {}, format {:?}",
        written as f64 / secs.max(1e-9),
        a.seed,
        a.format
    );
    Ok(())
}
