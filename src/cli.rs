//! The command line. Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, Mode};
use crate::failure::Failure;

const ABOUT: &str = "Identity and e-authentication service of a province: an OpenID Connect provider";

/// What runs without a command depends on whether development mode is built in.
#[cfg(feature = "dev")]
macro_rules! without_command {
    () => {
        "Without a command it runs `dev`."
    };
}
#[cfg(not(feature = "dev"))]
macro_rules! without_command {
    () => {
        "This production build has no development mode: give a command."
    };
}

/// `--help`'s description.
const LONG_ABOUT: &str = concat!(
    "Identity and e-authentication service of a province: an OpenID Connect provider that federates citizen \
login to the national e-ID, verifies citizens against the population database and issues tokens to the \
province's services.\n\n",
    without_command!(),
    " Configuration comes from built-in defaults, then the TOML file given by --config, then XACTHUC_* \
environment variables (DATABASE_URL and REDIS_URL are read too). README.md lists every key."
);

#[derive(Parser, Debug)]
#[command(name = "xacthuc", version, about = ABOUT, long_about = LONG_ABOUT)]
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
    #[cfg(feature = "dev")]
    Dev,
    /// Production mode: requires PostgreSQL (DATABASE_URL), Redis or Redis Cluster (REDIS_URL)
    /// and a master key (XACTHUC_MASTER_KEY); refuses development credentials and a non-HTTPS
    /// issuer, e-ID or population URL (unless allow_insecure_issuer for a loopback host).
    /// `/metrics` is on its own listener (metrics_addr, default 127.0.0.1:9464).
    Serve,
    /// Apply database migrations to DATABASE_URL (SQLite or PostgreSQL), then exit.
    Migrate,
    /// Register and list relying parties (clients).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Officers in bulk: CSV import and export, moves, suspensions, reset links.
    #[command(subcommand)]
    Officers(crate::officers_cli::OfficersCommand),
    /// Officers' digital-signature certificates: register, request from a CSR, renew,
    /// revoke, the expiry report, and the bulk re-issue after units change.
    #[command(subcommand)]
    Certs(crate::certs_cli::CertsCommand),
    /// Downstream systems told of officer and unit changes (SCIM or Security Event Tokens).
    #[command(subcommand)]
    Provisioning(crate::provisioning::cli::ProvisioningCommand),
    /// Administration: the first super administrator.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Validate the configuration for a mode and print the effective non-secret settings.
    CheckConfig {
        /// The mode whose rules apply.
        #[arg(long, value_enum, default_value_t = CheckMode::Serve)]
        mode: CheckMode,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientsCommand {
    /// Register a client, or replace the registration with the same id. A confidential
    /// client's secret is generated and printed once; only its hash is stored.
    Add(Box<crate::commands::ClientArgs>),
    /// List registered clients as JSON (secret hashes omitted).
    List,
    /// Remove a client. Running instances refuse it within `client_cache_ttl_secs`.
    Remove {
        /// The client_id.
        #[arg(long)]
        id: String,
    },
    /// Restrict an automation or SCIM client to a unit's subtree (it then sees and changes only
    /// officers and units there), or lift the restriction with --none. Applies to its next call.
    Restrict {
        /// The client_id.
        #[arg(long)]
        id: String,
        /// The code of the unit whose subtree the client is restricted to.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        unit: Option<String>,
        /// Lift the restriction: the client reaches the whole province again.
        #[arg(long)]
        none: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Make new signing keys active now. Old public keys stay in JWKS until every token they
    /// signed has expired (`--max-token-lifetime`).
    Rotate {
        /// Seconds the retired keys stay published; must cover the longest token lifetime.
        #[arg(long, default_value_t = 86_400)]
        max_token_lifetime: i64,
    },
    /// Show the key ring: kid, algorithm, state.
    List,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Prove the audit log of DATABASE_URL unaltered: walk the hash chain from the first entry
    /// to the recorded head, checking every entry's hash, its link to the one before and that
    /// no seq is missing. Shows progress on a terminal for long logs. Exit 0 when intact; 1 when
    /// broken, naming the first broken entry's seq and why, or when the database fails.
    #[command(
        after_help = "Exit codes: 0 intact; 1 broken (the first broken seq is named) or a database error; 2 bad \
configuration."
    )]
    Verify,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create the first super administrator (and the province's root unit if no unit exists,
    /// with --unit-code and --unit-name) and print their one-time set-up link. Refuses when a
    /// super administrator exists, unless --force.
    Bootstrap(crate::admin::bootstrap::BootstrapArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CheckMode {
    Dev,
    Serve,
    Migrate,
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
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Without a command: development mode where it is built in, otherwise the help, since a
/// production binary must not guess what the operator meant.
#[cfg(feature = "dev")]
fn default_command() -> Result<Command, Failure> {
    Ok(Command::Dev)
}

#[cfg(not(feature = "dev"))]
fn default_command() -> Result<Command, Failure> {
    let help = <Cli as clap::CommandFactory>::command().render_help();
    Err(Failure::Usage(format!(
        "no command given; this is a production build without development mode, choose a command:\n\n{help}"
    )))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let command = match cli.command {
        Some(c) => c,
        None => default_command()?,
    };
    let config = Config::load(cli.config.as_deref())?;
    match command {
        #[cfg(feature = "dev")]
        Command::Dev => crate::dev::run(config).await,
        Command::Serve => crate::serve::run(config).await,
        Command::Migrate => crate::commands::migrate(config).await,
        Command::Clients(ClientsCommand::Add(args)) => crate::commands::add_client(config, *args).await,
        Command::Clients(ClientsCommand::List) => crate::commands::list_clients(config).await,
        Command::Clients(ClientsCommand::Remove { id }) => crate::commands::remove_client(config, &id).await,
        Command::Clients(ClientsCommand::Restrict { id, unit, none: _ }) => {
            crate::commands::restrict_client(config, &id, unit.as_deref()).await
        }
        Command::Keys(KeysCommand::Rotate { max_token_lifetime }) => {
            crate::commands::rotate_keys(config, max_token_lifetime).await
        }
        Command::Keys(KeysCommand::List) => crate::commands::list_keys(config).await,
        Command::Audit(AuditCommand::Verify) => crate::commands::audit_verify(config).await,
        Command::Officers(c) => crate::officers_cli::run(config, c).await,
        Command::Certs(c) => crate::certs_cli::run(config, c).await,
        Command::Provisioning(c) => crate::provisioning::cli::run(config, c).await,
        Command::Admin(AdminCommand::Bootstrap(args)) => crate::commands::admin_bootstrap(config, args).await,
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
