//! Operator commands that touch the database and exit: migrate, clients, keys, audit. In dev mode's
//! layout (no DATABASE_URL) they act on the embedded database, like `cargo run` does.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::clock::unix_now;
use crate::config::{Config, Mode};
use crate::failure::{Failure, runtime};
use crate::oidc::client_spec::{ClientSpec, build_client};
use crate::oidc::clients::{self, Client};
use crate::oidc::provider::key_policy as oidc_key_policy;
use crate::store::Db;
use crate::tokens::{KeyRing, KeyStore, MasterKey};

/// The database named by the configuration, or the embedded one of dev mode.
pub(crate) async fn open_db(config: &mut Config) -> Result<Db, Failure> {
    if config.database_url.is_none() {
        let path = config.data_dir.join("xacthuc.db");
        config.database_url = Some(SecretString::from(format!("sqlite://{}?mode=rwc", path.display())));
    }
    config.validate(Mode::Migrate)?;
    let url = config.database_url.as_ref().map(|u| u.expose_secret().to_owned()).unwrap_or_default();
    let db = Db::connect(&url, 2, Duration::from_millis(config.database_acquire_timeout_ms)).await.map_err(runtime)?;
    db.migrate().await.map_err(runtime)?;
    Ok(db)
}

pub async fn migrate(mut config: Config) -> Result<(), Failure> {
    let db = open_db(&mut config).await?;
    println!("migrations applied ({:?})", db.dialect());
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct ClientArgs {
    /// The client_id.
    #[arg(long)]
    pub id: String,
    /// Display name shown on the login and consent pages.
    #[arg(long)]
    pub name: String,
    /// Exact redirect URI (repeat for several).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URI (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where back-channel logout tokens are POSTed.
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// client_secret_basic, client_secret_post, private_key_jwt or none (public client).
    #[arg(long, default_value = "client_secret_basic")]
    pub auth_method: String,
    /// Allowed scopes, space separated.
    #[arg(long, default_value = "openid profile")]
    pub scope: String,
    /// Allowed grants, comma separated: authorization_code, refresh_token, client_credentials.
    #[arg(long, default_value = "authorization_code,refresh_token")]
    pub grants: String,
    /// File holding the client's public JWK set (private_key_jwt, signed request objects).
    #[arg(long)]
    pub jwks_file: Option<PathBuf>,
    /// URL of the client's public JWK set.
    #[arg(long)]
    pub jwks_uri: Option<String>,
    /// Sector identifier for pairwise subjects (default: the redirect URI's host).
    #[arg(long)]
    pub sector: Option<String>,
    /// Give this client the account's internal id as `sub` instead of a pairwise one.
    #[arg(long)]
    pub public_subject: bool,
    /// First-party service: skip the consent page.
    #[arg(long)]
    pub trusted: bool,
    /// Refuse authorization requests that were not pushed (PAR).
    #[arg(long)]
    pub require_par: bool,
    /// ID token signing algorithm: ES256, RS256, PS256 or EdDSA.
    #[arg(long, default_value = "ES256")]
    pub id_token_alg: String,
    /// Default acr for this client's logins (e.g. urn:xacthuc:acr:eid2): a floor the request
    /// may raise but not lower. Several values separated by spaces accept several kinds of
    /// user, e.g. "urn:xacthuc:acr:eid1 urn:xacthuc:acr:org-eid1" for citizens and businesses.
    #[arg(long)]
    pub default_acr: Option<String>,
    /// Seconds (at most 60; 0 = off) during which presenting the just-rotated refresh token
    /// again returns the same new token instead of revoking the family (tabs refreshing at once).
    #[arg(long, default_value_t = 0)]
    pub refresh_token_grace_secs: u64,
    /// FAPI 2.0 Security Profile: PAR, PKCE S256, private_key_jwt, DPoP-bound tokens, codes of
    /// at most 60 s (needs --auth-method private_key_jwt and an ES256, PS256 or EdDSA ID token).
    #[arg(long)]
    pub fapi2: bool,
    #[command(flatten)]
    pub encryption: EncryptionArgs,
}

/// Signed and encrypted responses (JWE) of `clients add`; the key comes from --jwks-file or
/// --jwks-uri (`"use": "enc"`, or `"alg"` naming the algorithm).
#[derive(clap::Args, Debug, Default)]
pub struct EncryptionArgs {
    /// Encrypt ID tokens (after signing): RSA-OAEP-256 or ECDH-ES+A256KW.
    #[arg(long)]
    pub id_token_encryption_alg: Option<String>,
    /// Content encryption of ID tokens (default A256GCM).
    #[arg(long)]
    pub id_token_encryption_enc: Option<String>,
    /// Return userinfo as a JWT signed with this algorithm (ES256, RS256, PS256 or EdDSA).
    #[arg(long)]
    pub userinfo_signing_alg: Option<String>,
    /// Encrypt userinfo responses (signed, then encrypted): RSA-OAEP-256 or ECDH-ES+A256KW.
    #[arg(long)]
    pub userinfo_encryption_alg: Option<String>,
    /// Content encryption of userinfo responses (default A256GCM).
    #[arg(long)]
    pub userinfo_encryption_enc: Option<String>,
    /// Release personal_id only encrypted (needs both encryption algorithms and a key).
    #[arg(long)]
    pub require_encryption_for_personal_id: bool,
}

/// The CLI's flag for each registration field named in error messages.
const FLAG_NAMES: [(&str, &str); 8] = [
    ("auth_method", "--auth-method"),
    ("id_token_alg", "--id-token-alg"),
    ("id_token_encrypted_response_alg", "--id-token-encryption-alg"),
    ("id_token_encrypted_response_enc", "--id-token-encryption-enc"),
    ("userinfo_signed_response_alg", "--userinfo-signing-alg"),
    ("userinfo_encrypted_response_alg", "--userinfo-encryption-alg"),
    ("userinfo_encrypted_response_enc", "--userinfo-encryption-enc"),
    ("require_encryption_for_personal_id", "--require-encryption-for-personal-id"),
];

/// Builds (and validates) a client from the command-line arguments through the function the
/// admin API uses too; the secret, if any, is returned to be shown once.
pub fn client_from_args(a: &ClientArgs) -> Result<(Client, Option<String>), String> {
    let jwks = match &a.jwks_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(serde_json::from_str(&text).map_err(|e| format!("{}: not a JWK set: {e}", path.display()))?)
        }
        None => None,
    };
    let spec = ClientSpec {
        client_id: a.id.clone(),
        name: a.name.clone(),
        redirect_uris: a.redirect_uris.clone(),
        post_logout_redirect_uris: a.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: a.backchannel_logout_uri.clone(),
        auth_method: a.auth_method.clone(),
        scopes: a.scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        grant_types: a.grants.split(',').map(|g| g.trim().to_owned()).collect(),
        jwks,
        jwks_uri: a.jwks_uri.clone(),
        sector_identifier: a.sector.clone(),
        public_subject: a.public_subject,
        trusted: a.trusted,
        require_par: a.require_par,
        id_token_alg: a.id_token_alg.clone(),
        default_acr: a.default_acr.clone(),
        refresh_token_grace_secs: a.refresh_token_grace_secs,
        fapi2: a.fapi2,
        id_token_encrypted_response_alg: a.encryption.id_token_encryption_alg.clone(),
        id_token_encrypted_response_enc: a.encryption.id_token_encryption_enc.clone(),
        userinfo_signed_response_alg: a.encryption.userinfo_signing_alg.clone(),
        userinfo_encrypted_response_alg: a.encryption.userinfo_encryption_alg.clone(),
        userinfo_encrypted_response_enc: a.encryption.userinfo_encryption_enc.clone(),
        require_encryption_for_personal_id: a.encryption.require_encryption_for_personal_id,
    };
    // The CLI names its flags with dashes; longer field names first, so none is rewritten
    // inside another.
    build_client(&spec).map_err(|e| {
        let mut names = FLAG_NAMES;
        names.sort_by_key(|(field, _)| std::cmp::Reverse(field.len()));
        names.iter().fold(e, |e, (field, flag)| e.replace(field, flag))
    })
}

pub async fn add_client(mut config: Config, args: ClientArgs) -> Result<(), Failure> {
    let (client, secret) = client_from_args(&args).map_err(|e| Failure::Usage(format!("clients add: {e}")))?;
    let db = open_db(&mut config).await?;
    // This process has no client cache; running instances see the change within their TTL.
    clients::save_client(&db, None, &client, unix_now()).await.map_err(runtime)?;
    println!("client {} registered", client.client_id);
    if let Some(s) = secret {
        println!("client_secret: {s}\n(shown once; only its hash is stored)");
    }
    Ok(())
}

pub async fn remove_client(mut config: Config, client_id: &str) -> Result<(), Failure> {
    let db = open_db(&mut config).await?;
    if !clients::remove_client(&db, None, client_id).await.map_err(runtime)? {
        return Err(Failure::Usage(format!("clients remove: no client {client_id}")));
    }
    println!(
        "client {client_id} removed; running instances refuse it within client_cache_ttl_secs ({} s)",
        config.client_cache_ttl_secs
    );
    Ok(())
}

/// `clients restrict`: the same checks as the admin API (client known, unit current); audited as
/// the operator (`system`).
pub async fn restrict_client(mut config: Config, client_id: &str, unit_code: Option<&str>) -> Result<(), Failure> {
    let db = open_db(&mut config).await?;
    let unit = crate::admin::restriction::resolve(&db, client_id, unit_code).await.map_err(|e| match e {
        crate::officers::DirectoryError::Db(d) => runtime(d),
        other => Failure::Usage(format!("clients restrict: {other}")),
    })?;
    db.set_client_unit(client_id, unit.as_ref().map(|u| u.id.as_str())).await.map_err(runtime)?;
    let mut event = crate::audit::Event::new(crate::audit::Action::AdminClientUnit)
        .actor(crate::audit::Actor::System)
        .object("client", client_id)
        .detail(serde_json::json!({ "unit": unit.as_ref().map(|u| u.id.clone()) }));
    if let Some(u) = &unit {
        event = event.unit(&u.id);
    }
    crate::audit::Audit::new(db).record(event).await.map_err(runtime)?;
    match unit {
        Some(u) => println!("client {client_id} restricted to unit {} ({}) and its subtree", u.code, u.name),
        None => println!("client {client_id} is no longer restricted to a unit"),
    }
    Ok(())
}

pub async fn list_clients(mut config: Config) -> Result<(), Failure> {
    let db = open_db(&mut config).await?;
    let mut clients = db.list_clients().await.map_err(runtime)?;
    for c in &mut clients {
        c.secret_hash = None;
    }
    println!("{}", serde_json::to_string_pretty(&clients).map_err(runtime)?);
    Ok(())
}

pub(crate) async fn ring(config: &mut Config) -> Result<(Db, KeyRing), Failure> {
    if config.master_key.is_none() {
        // Dev layout: the generated development key.
        let path = config.keys_dir.join("dev-master.key");
        let key = std::fs::read_to_string(&path)
            .map_err(|e| runtime(format!("no master key: set XACTHUC_MASTER_KEY ({}: {e})", path.display())))?;
        config.master_key = Some(SecretString::from(key.trim().to_owned()));
    }
    let bytes = config.master_key_bytes()?.ok_or_else(|| runtime("master_key is not set"))?;
    let master = MasterKey::from_bytes(&bytes).map_err(runtime)?;
    let db = open_db(config).await?;
    let ring = KeyRing::ensure_keys(&db, master, oidc_key_policy(), unix_now()).await.map_err(runtime)?;
    Ok((db, ring))
}

pub async fn rotate_keys(mut config: Config, max_token_lifetime: i64) -> Result<(), Failure> {
    let (db, ring) = ring(&mut config).await?;
    ring.rotate(&db, unix_now(), max_token_lifetime).await.map_err(runtime)?;
    println!("rotated; active keys:");
    for alg in ring.signing_algs() {
        println!("  {} {}", alg.jose_name(), ring.active_kid(alg).unwrap_or_default());
    }
    println!("running instances pick the new keys up at their next key reload");
    Ok(())
}

pub async fn list_keys(mut config: Config) -> Result<(), Failure> {
    let (db, _ring) = ring(&mut config).await?;
    let t = unix_now();
    for k in db.load_keys().await.map_err(runtime)? {
        let state = match (k.retire_at, k.expires_at) {
            (None, _) => "active".to_string(),
            (Some(_), Some(e)) if e <= t => "expired".to_string(),
            (Some(_), Some(e)) => format!("retiring, published until {e}"),
            (Some(_), None) => "retiring".to_string(),
        };
        println!("{} {} created {} {state}", k.kid, k.alg.jose_name(), k.created_at);
    }
    Ok(())
}

/// `audit verify`: exit 0 when the chain is intact, 1 naming the first broken entry.
pub async fn audit_verify(mut config: Config) -> Result<(), Failure> {
    use std::io::IsTerminal;
    let db = open_db(&mut config).await?;
    // A bar on a terminal; elsewhere (a scheduled job's log) a line now and then.
    let terminal = std::io::stderr().is_terminal();
    let mut next_line = 100_000;
    let bar = indicatif::ProgressBar::new(0).with_message("audit entries checked");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg}: {pos}/{len} ({percent}%, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = crate::audit::Audit::new(db)
        .verify_with_progress(|checked, total| {
            if terminal {
                bar.set_length(total);
                bar.set_position(checked);
            } else if checked >= next_line {
                eprintln!("audit verify: {checked} of {total} entries checked");
                next_line = checked + 100_000;
            }
        })
        .await
        .map_err(runtime)?;
    bar.finish_and_clear();
    match report {
        crate::audit::VerifyReport::Ok { entries } => {
            println!("audit log intact: {entries} entries verified");
            Ok(())
        }
        crate::audit::VerifyReport::Broken { seq, reason } => {
            Err(runtime(format!("audit log BROKEN at seq {seq}: {reason}")))
        }
    }
}

/// `xacthuc admin bootstrap`: prints the new super administrator's one-time set-up link.
pub async fn admin_bootstrap(mut config: Config, args: crate::admin::bootstrap::BootstrapArgs) -> Result<(), Failure> {
    let db = open_db(&mut config).await?;
    let done = crate::admin::bootstrap::bootstrap(&db, &args, unix_now()).await.map_err(|e| match e {
        crate::admin::bootstrap::BootstrapError::Directory(d)
            if d.code() == "internal" || d.code() == "unavailable" =>
        {
            runtime(d)
        }
        other => Failure::Usage(format!("admin bootstrap: {other}")),
    })?;
    if done.created_root {
        println!("province unit {} ({}) created", done.root.code, done.root.name);
    }
    println!("super administrator {} on unit {}", done.officer.username, done.root.code);
    println!("set-up link (one-time): {}{}", config.issuer.trim_end_matches('/'), done.setup_path);
    Ok(())
}
