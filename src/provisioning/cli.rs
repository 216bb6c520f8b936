//! `xacthuc provisioning …`: the downstream systems told of officer and unit changes.

use clap::Subcommand;

use super::ReceiverKind;
use crate::config::Config;
use crate::failure::{Failure, runtime};

#[derive(Subcommand, Debug)]
pub enum ProvisioningCommand {
    /// Register a downstream system. Every later change to officers (status, unit) and units
    /// (rename, merge) is delivered to it, retried with back-off until it accepts.
    Add {
        /// A short name for it (letters, digits, '-', '_', '.').
        #[arg(long)]
        id: String,
        /// `set`: Security Event Tokens pushed to the endpoint (RFC 8417/8935); `scim`: SCIM
        /// 2.0 calls against the endpoint's /Users and /Groups.
        #[arg(long, value_enum)]
        kind: ReceiverKind,
        /// For `set`, the push URL; for `scim`, the SCIM base URL.
        #[arg(long)]
        endpoint: String,
        /// The SET `aud` claim (default: the endpoint).
        #[arg(long)]
        audience: Option<String>,
        /// Name of an environment variable holding a bearer token to send (kept out of the
        /// command line; stored encrypted under the master key).
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
    },
    /// List the registered systems as JSON (tokens never shown).
    List,
    /// Remove a system and the changes still waiting for it.
    Remove {
        #[arg(long)]
        id: String,
    },
    /// The latest deliveries as JSON: status (pending, delivered, failed), attempts, last error.
    Deliveries {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

pub async fn run(mut config: Config, cmd: ProvisioningCommand) -> Result<(), Failure> {
    match cmd {
        ProvisioningCommand::Add { id, kind, endpoint, audience, token_env } => {
            let token = match token_env {
                Some(var) => Some(std::env::var(&var).map_err(|_| runtime(format!("{var} is not set")))?),
                None => None,
            };
            let (db, keys) = crate::commands::ring(&mut config).await?;
            let r = super::register(&db, &keys, &id, kind, &endpoint, audience.as_deref(), token.as_deref())
                .await
                .map_err(runtime)?;
            println!("{}", serde_json::to_string_pretty(&r).map_err(runtime)?);
        }
        ProvisioningCommand::List => {
            let db = crate::commands::open_db(&mut config).await?;
            println!("{}", serde_json::to_string_pretty(&db.receivers().await.map_err(runtime)?).map_err(runtime)?);
        }
        ProvisioningCommand::Remove { id } => {
            let db = crate::commands::open_db(&mut config).await?;
            if !db.remove_receiver(&id).await.map_err(runtime)? {
                return Err(runtime(format!("no receiver {id}")));
            }
            println!("removed {id}");
        }
        ProvisioningCommand::Deliveries { limit } => {
            let db = crate::commands::open_db(&mut config).await?;
            let rows = db.deliveries(limit.clamp(1, 1000)).await.map_err(runtime)?;
            println!("{}", serde_json::to_string_pretty(&rows).map_err(runtime)?);
        }
    }
    Ok(())
}
