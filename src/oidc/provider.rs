//! The provider's shared parts: stores, keys, clients and the few secrets it derives subjects
//! from. Built once in `app.rs`.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::acr::Catalog;
use super::claims::Scopes;
use super::clients::{Client, ClientCache, SubjectType};
use super::jwks_cache::JwksCache;
use super::login::Registry;
use crate::crypto::random_token;
use crate::store::{Db, DbError, Kv};
use crate::tokens::{Alg, KeyRing};

/// Limits on what anonymous requests may store.
#[derive(Clone, Copy, Debug)]
pub struct TxLimits {
    pub max_bytes: usize,
    pub per_browser: i64,
    pub per_ip: i64,
}

#[derive(Clone)]
pub struct Provider {
    pub issuer: String,
    pub db: Db,
    pub kv: Kv,
    pub keys: KeyRing,
    pub clients: ClientCache,
    pub client_jwks: JwksCache,
    pub http: reqwest::Client,
    /// Mixed into pairwise subjects so they cannot be recomputed outside xacthuc, and the key
    /// of the per-client `sid`. Stored encrypted (see [`pairwise_salt`]).
    pub pairwise_salt: String,
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    pub code_ttl: Duration,
    pub tx_ttl: Duration,
    pub tx_limits: TxLimits,
    /// Behind a trusted proxy: the header carrying the client's address (its last entry).
    pub client_ip_header: Option<String>,
    /// The registered login methods (and who observes their outcomes).
    pub methods: Arc<Registry>,
    /// Every `acr` value the provider knows.
    pub acr: Arc<Catalog>,
    pub scopes: Arc<Scopes>,
}

/// Every algorithm a client may choose for its ID tokens has an active key: ES256 (default),
/// RS256 (required by OIDC Core), EdDSA and PS256 (allowed by FAPI 2.0).
pub fn key_policy() -> crate::tokens::KeyPolicy {
    crate::tokens::KeyPolicy { algs: Alg::ALL.to_vec(), ..Default::default() }
}

impl Provider {
    /// The account with its live claims merged over the stored profile, as `client_id` sees it.
    pub async fn account_for(
        &self,
        account_id: &str,
        client_id: &str,
    ) -> Result<Option<crate::accounts::Account>, DbError> {
        let Some(mut a) = self.db.account(account_id).await? else { return Ok(None) };
        let live = self.scopes.live(&a.kind, account_id, client_id).await?;
        if let Some(profile) = a.profile.as_object_mut() {
            profile.extend(live);
        }
        Ok(Some(a))
    }

    /// Whether the account still exists and its feature still serves it (see
    /// [`ClaimSource::active`](crate::oidc::claims::ClaimSource::active)).
    pub async fn account_active(&self, account_id: &str) -> Result<bool, DbError> {
        match self.db.account(account_id).await? {
            Some(a) => self.scopes.active(&a.kind, account_id).await,
            None => Ok(false),
        }
    }

    /// What a client receives about an account under these scopes: the claims the scopes
    /// release, plus, when someone acted for the account, `act` naming that person by the
    /// subject this client knows them by (RFC 8693 §4.1).
    pub fn released(
        &self,
        client: &Client,
        profile: &serde_json::Value,
        scopes: &[String],
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut out = self.scopes.released(profile, scopes);
        if let Some(actor) = profile.get(crate::oidc::claims::ACTOR_KEY).and_then(|v| v.as_str()) {
            out.insert("act".into(), serde_json::json!({ "sub": self.subject_for(client, actor) }));
        }
        out
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer.trim_end_matches('/'))
    }

    /// The `sub` a client sees for an account (OIDC Core §8): pairwise per sector by default.
    pub fn subject_for(&self, client: &Client, account_id: &str) -> String {
        match client.subject_type {
            SubjectType::Public => account_id.to_owned(),
            SubjectType::Pairwise => {
                let input = format!("{}|{}|{}", client.sector(), account_id, self.pairwise_salt);
                URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
            }
        }
    }

    /// The `sid` a client sees in ID and logout tokens (OIDC Back-Channel Logout §2.1 only asks
    /// that it identify the session to that client): an HMAC of the internal session id and
    /// the client_id. Two services therefore cannot join their users on it, and the internal
    /// id, which also names the session on our own pages and in our database, stays internal.
    pub fn client_sid(&self, client_id: &str, sid: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.pairwise_salt.as_bytes());
        // Length-prefixed, so no (client_id, sid) pair can be confused with another.
        let tag = hmac::sign(&key, format!("sid|{}|{client_id}|{sid}", client_id.len()).as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    pub fn id_token_alg(&self, client: &Client) -> Alg {
        client.id_token_signed_response_alg.parse().unwrap_or(Alg::Es256)
    }
}

/// The settings row of the pairwise salt.
pub const PAIRWISE_SALT_SETTING: &str = "pairwise_salt";
/// Marks an encrypted setting value. A legacy plaintext salt (base64url) never contains `:`.
const SEALED_PREFIX: &str = "sealed:v1:";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("pairwise salt: {0}")]
    Crypto(#[from] crate::tokens::Error),
    #[error("pairwise salt: the stored value is not valid base64url")]
    Encoding,
}

/// The installation's pairwise salt, kept encrypted under the master key (through the key ring)
/// so that a database dump alone cannot link pairwise subjects to personal ids. The first
/// start makes one; concurrent first starts agree through `setting_or_insert`. A plaintext salt
/// from an older installation keeps its value (subjects must not change) and is encrypted in
/// place; instances racing on that write each store an encryption of the same value.
pub async fn pairwise_salt(db: &Db, keys: &KeyRing, now: i64) -> Result<String, SecretError> {
    let seal = |plain: &str| -> Result<String, SecretError> {
        let sealed = keys.seal_setting(PAIRWISE_SALT_SETTING, plain.as_bytes())?;
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)))
    };
    let stored = db.setting_or_insert(PAIRWISE_SALT_SETTING, &seal(&random_token())?, now).await?;
    match stored.strip_prefix(SEALED_PREFIX) {
        Some(encoded) => {
            let sealed = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| SecretError::Encoding)?;
            let plain = keys.open_setting(PAIRWISE_SALT_SETTING, &sealed)?;
            String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Encoding)
        }
        None => {
            db.set_setting(PAIRWISE_SALT_SETTING, &seal(&stored)?, now).await?;
            tracing::info!("pairwise salt encrypted under the master key (value unchanged)");
            Ok(stored)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::oidc::clients::ClientCache;

    async fn provider(salt: &str) -> (Provider, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
        let db = Db::connect(&url, 1, Duration::from_secs(5)).await.expect("db");
        let keys =
            KeyRing::from_records(&[], crate::tokens::MasterKey::from_bytes(&[3; 32]).expect("key"), key_policy(), 0)
                .expect("ring");
        let p = Provider {
            issuer: "https://id.example.vn".into(),
            clients: ClientCache::new(db.clone(), Duration::from_secs(1)),
            db,
            kv: Kv::memory(),
            keys,
            client_jwks: JwksCache::default(),
            http: reqwest::Client::new(),
            pairwise_salt: salt.into(),
            secure_cookies: false,
            session_ttl: Duration::from_secs(60),
            code_ttl: Duration::from_secs(60),
            tx_ttl: Duration::from_secs(60),
            tx_limits: TxLimits { max_bytes: 8192, per_browser: 10, per_ip: 10 },
            client_ip_header: None,
            methods: Arc::new(Registry::default()),
            acr: Arc::new(Catalog::default()),
            scopes: Arc::new(Scopes::default()),
        };
        (p, dir)
    }

    #[tokio::test]
    async fn sid_is_derived_per_client_and_hides_the_internal_one() {
        let (p, _dir) = provider("salt-1").await;
        let a = p.client_sid("portal-a", "internal-sid");
        assert_eq!(a, p.client_sid("portal-a", "internal-sid"), "stable for one client");
        assert_ne!(a, p.client_sid("portal-b", "internal-sid"), "differs per client");
        assert_ne!(a, p.client_sid("portal-a", "other-sid"), "differs per session");
        assert!(!a.contains("internal-sid"));
        let (other, _dir2) = provider("salt-2").await;
        assert_ne!(a, other.client_sid("portal-a", "internal-sid"), "keyed by the installation secret");
    }
}
