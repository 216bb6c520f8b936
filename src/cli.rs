//! The command line. Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, ConfigError, Mode};

#[derive(Parser, Debug)]
#[command(
    name = "xacthuc",
    version,
    about = "Identity and e-authentication service of a province: an OpenID Connect provider",
    long_about = "Identity and e-authentication service of a province: an OpenID Connect provider that \
federates citizen login to the national e-ID, verifies citizens against the population database and \
issues tokens to the province's services.\n\nWithout a command it runs `dev`. Configuration comes from \
built-in defaults, then the TOML file given by --config, then XACTHUC_* environment variables \
(DATABASE_URL and REDIS_URL are read too). README.md lists every key."
)]
pub struct Cli {
    /// TOML configuration file; its keys are those of README.md's configuration table.
    #[arg(long, short, env = "XACTHUC_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Development mode (default): embedded SQLite under ./data, in-process session store, the
    /// national-system mocks and the demo portal, with demo credentials printed at start.
    Dev,
    /// Production mode: requires PostgreSQL (DATABASE_URL), Redis or Redis Cluster (REDIS_URL)
    /// and a master key (XACTHUC_MASTER_KEY); refuses development credentials and a non-HTTPS
    /// issuer (unless allow_insecure_issuer for a loopback test).
    Serve,
    /// Apply database migrations to DATABASE_URL (SQLite or PostgreSQL), then exit.
    Migrate,
    /// Validate the configuration for a mode and print the effective non-secret settings.
    CheckConfig {
        /// The mode whose rules apply.
        #[arg(long, value_enum, default_value_t = CheckMode::Serve)]
        mode: CheckMode,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CheckMode {
    Dev,
    Serve,
    Migrate,
}

/// Failures that end the process, each with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Runtime(String),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Dev) {
        Command::Dev => crate::dev::run(config).await,
        Command::Serve => crate::dev::serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::CheckConfig { mode } => {
            let mode = match mode {
                CheckMode::Dev => Mode::Dev,
                CheckMode::Serve => Mode::Serve,
                CheckMode::Migrate => Mode::Migrate,
            };
            config.validate(mode)?;
            println!("configuration is valid for {mode:?} mode (secrets not shown):\n{config:#?}");
            Ok(())
        }
    }
}

async fn migrate(config: Config) -> Result<(), Failure> {
    use secrecy::ExposeSecret;
    config.validate(Mode::Migrate)?;
    let url = config.database_url.as_ref().map(|u| u.expose_secret().to_owned()).unwrap_or_default();
    let db = crate::store::Db::connect(&url, 1, std::time::Duration::from_millis(config.database_acquire_timeout_ms))
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    db.migrate().await.map_err(|e| Failure::Runtime(e.to_string()))?;
    println!("migrations applied ({:?})", db.dialect());
    Ok(())
}
