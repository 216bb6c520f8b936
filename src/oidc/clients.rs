//! Relying parties (clients): their registration, stored as one JSON document per client so
//! that one row type serves both databases, and client secrets kept only as hashes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::crypto::sha256_hex;
use crate::store::{Db, DbError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// Public clients: PKCE only.
    None,
}

impl AuthMethod {
    pub const ALL: [&'static str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// A different `sub` per sector: services cannot correlate a citizen across sectors.
    #[default]
    Pairwise,
    Public,
}

fn default_alg() -> String {
    "ES256".into()
}
fn default_access_ttl() -> u64 {
    300
}
fn default_id_ttl() -> u64 {
    300
}
fn default_refresh_ttl() -> u64 {
    8 * 3600
}

/// The longest refresh-token grace window a client may ask for: long enough for tabs or
/// workers racing on one token, short enough that a stolen copy is still caught soon.
pub const MAX_REFRESH_TOKEN_GRACE_SECS: u64 = 60;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// Hex SHA-256 of the secret. Secrets are 256-bit random values made by us, so a fast hash
    /// is enough (no dictionary to attack); a slow password hash would only cost latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    pub auth_method: AuthMethod,
    /// Public keys for private_key_jwt and signed request objects, by value...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// ...or by reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    pub grant_types: Vec<GrantType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier: Option<String>,
    #[serde(default)]
    pub subject_type: SubjectType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_acr: Option<String>,
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// First-party services skip the consent page.
    #[serde(default)]
    pub trusted: bool,
    #[serde(default = "default_access_ttl")]
    pub access_token_ttl_secs: u64,
    #[serde(default = "default_id_ttl")]
    pub id_token_ttl_secs: u64,
    #[serde(default = "default_refresh_ttl")]
    pub refresh_token_ttl_secs: u64,
    /// Opt-in (0 = off): for this long after a rotation, the client presenting the rotated
    /// token again (two tabs refreshing at once) gets the same successor instead of having its
    /// whole family revoked as a theft. At most [`MAX_REFRESH_TOKEN_GRACE_SECS`].
    #[serde(default)]
    pub refresh_token_grace_secs: u64,
    /// Disabled by an administrator: the protocol treats the client as unknown (see
    /// [`ClientCache::get`]) until it is enabled again; the registration is kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,

    // --- High-assurance profile (see `oidc::fapi2`) ---
    /// FAPI 2.0 Security Profile: PAR, PKCE S256, private_key_jwt, DPoP-bound tokens, codes of
    /// at most 60 s, and only PS256, ES256 or EdDSA signatures.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fapi2: bool,
    /// Signed and encrypted ID token and userinfo responses (JWE), flattened so each field keeps
    /// its registration name.
    #[serde(flatten)]
    pub encryption: super::encryption::ResponseEncryption,
}

impl Client {
    /// A registration with the defaults for everything but identity and redirect URIs:
    /// `openid` scope, code + refresh grants, pairwise subjects, ES256 ID tokens, short-lived
    /// tokens. Callers adjust the fields they care about.
    pub fn new(client_id: &str, name: &str, auth_method: AuthMethod, redirect_uris: Vec<String>) -> Self {
        Client {
            client_id: client_id.into(),
            name: name.into(),
            secret_hash: None,
            auth_method,
            jwks: None,
            jwks_uri: None,
            redirect_uris,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            scopes: vec!["openid".into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            sector_identifier: None,
            subject_type: SubjectType::Pairwise,
            default_acr: None,
            id_token_signed_response_alg: default_alg(),
            require_pushed_authorization_requests: false,
            trusted: false,
            access_token_ttl_secs: default_access_ttl(),
            id_token_ttl_secs: default_id_ttl(),
            refresh_token_ttl_secs: default_refresh_ttl(),
            refresh_token_grace_secs: 0,
            disabled: false,
            fapi2: false,
            encryption: Default::default(),
        }
    }

    /// Whether authorization requests must be pushed (PAR): on request, and always for FAPI 2.0.
    pub fn must_push(&self) -> bool {
        self.require_pushed_authorization_requests || self.fapi2
    }

    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }

    /// How long a rotated-out refresh token may be presented again and get the successor it
    /// got the first time, while that successor is unspent. FAPI 2.0 SP §5.3.2.1 allows
    /// rotation only if such a retry succeeds (the client may have lost the response), so a
    /// fapi2 client keeps the retry for the token's whole life; other clients opt in.
    pub fn refresh_retry_secs(&self) -> u64 {
        if self.fapi2 { self.refresh_token_ttl_secs } else { self.refresh_token_grace_secs }
    }

    pub fn allows_grant(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }

    /// Exact string comparison, as RFC 9700 §4.1.3 requires: no prefix, wildcard or
    /// normalisation, so a different port, path, query or fragment never matches.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// Constant-time comparison of the presented secret with the stored hash.
    pub fn verify_secret(&self, presented: &str) -> bool {
        let Some(stored) = &self.secret_hash else { return false };
        let presented = sha256_hex(presented);
        presented.as_bytes().ct_eq(stored.as_bytes()).into()
    }

    /// The sector for pairwise subjects: the configured sector identifier, else the host of
    /// the (single) redirect URI host, as OIDC Core §8.1 describes.
    pub fn sector(&self) -> String {
        if let Some(s) = &self.sector_identifier {
            return s.clone();
        }
        self.redirect_uris
            .first()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| self.client_id.clone())
    }

    /// Checks a registration for mistakes that would weaken security.
    pub fn validate(&self) -> Result<(), String> {
        if self.client_id.is_empty() || self.client_id.len() > 128 {
            return Err("client_id must be 1-128 characters".into());
        }
        for uri in self.redirect_uris.iter().chain(&self.post_logout_redirect_uris) {
            let u = url::Url::parse(uri).map_err(|e| format!("redirect URI {uri:?}: {e}"))?;
            if u.fragment().is_some() {
                return Err(format!("redirect URI {uri:?} must not contain a fragment"));
            }
            // RFC 9700 §2.1: no script or data URIs, and plain http only for loopback (native
            // apps and development); RFC 8252 private-use schemes stay possible for apps.
            let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            match u.scheme() {
                "javascript" | "data" | "file" | "vbscript" => {
                    return Err(format!("redirect URI {uri:?}: scheme not allowed"));
                }
                "http" if !loopback => {
                    return Err(format!("redirect URI {uri:?} must use https (http only for loopback)"));
                }
                _ => {}
            }
        }
        // OIDC Core §8.1: without a sector identifier, the sector is the redirect URIs' host,
        // so they must share one or pairwise subjects would depend on which URI came first.
        if self.subject_type == SubjectType::Pairwise && self.sector_identifier.is_none() {
            let hosts: std::collections::HashSet<_> = self
                .redirect_uris
                .iter()
                .filter_map(|u| url::Url::parse(u).ok()?.host_str().map(str::to_owned))
                .collect();
            if hosts.len() > 1 {
                return Err(
                    "redirect URIs on several hosts need a sector identifier (--sector) for pairwise subjects".into()
                );
            }
        }
        if self.refresh_token_grace_secs > MAX_REFRESH_TOKEN_GRACE_SECS {
            return Err(format!(
                "refresh_token_grace_secs must be at most {MAX_REFRESH_TOKEN_GRACE_SECS} seconds (0 turns it off)"
            ));
        }
        // The FAPI 2.0 profile (src/oidc/fapi2.rs) at registration: §5.3.1 (client
        // authentication; mTLS is not built) and §5.4.1 (signature algorithms).
        if self.fapi2 && self.auth_method != AuthMethod::PrivateKeyJwt {
            return Err("a fapi2 client must authenticate with private_key_jwt".into());
        }
        if self.fapi2 && !["PS256", "ES256", "EdDSA"].contains(&self.id_token_signed_response_alg.as_str()) {
            return Err("a fapi2 client's ID tokens must be signed with PS256, ES256 or EdDSA".into());
        }
        self.encryption.validate(self.jwks.as_ref(), self.jwks_uri.is_some())?;
        if self.allows_grant(GrantType::AuthorizationCode) && self.redirect_uris.is_empty() {
            return Err("the authorization_code grant needs at least one redirect URI".into());
        }
        match self.auth_method {
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost if self.secret_hash.is_none() => {
                Err("a client_secret_* client needs a secret".into())
            }
            AuthMethod::PrivateKeyJwt if self.jwks.is_none() && self.jwks_uri.is_none() => {
                Err("a private_key_jwt client needs jwks or jwks_uri".into())
            }
            AuthMethod::None if self.allows_grant(GrantType::ClientCredentials) => {
                Err("a public client cannot use client_credentials".into())
            }
            _ => Ok(()),
        }
    }
}

impl Db {
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, DbError> {
        let row = sqlx::query("SELECT doc FROM clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let doc: String = row.try_get(0)?;
        serde_json::from_str(&doc).map(Some).map_err(|e| DbError::Query(format!("client {client_id}: {e}")))
    }

    pub async fn put_client(&self, client: &Client, now: i64) -> Result<(), DbError> {
        let doc = serde_json::to_string(client).map_err(|e| DbError::Query(e.to_string()))?;
        sqlx::query(
            "INSERT INTO clients (client_id, doc, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (client_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
        )
        .bind(&client.client_id)
        .bind(doc)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes a registration; true if there was one. Only through [`remove_client`], which
    /// also drops the cached copy.
    async fn delete_client(&self, client_id: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn list_clients(&self) -> Result<Vec<Client>, DbError> {
        let rows = sqlx::query("SELECT doc FROM clients ORDER BY client_id").fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let doc: String = r.try_get(0)?;
                serde_json::from_str(&doc).map_err(|e| DbError::Query(e.to_string()))
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("client {client_id}: {problem}")]
    Invalid { client_id: String, problem: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The one write path for client registrations (CLI, clients file, admin API): validates,
/// stores, and drops this instance's cached copy so the change (a rotated secret, a new redirect
/// URI) applies here at once. Other instances see it within their cache TTL
/// (`client_cache_ttl_secs`). Callers without a provider (CLI, start-up) pass `None`.
pub async fn save_client(
    db: &Db,
    cache: Option<&ClientCache>,
    client: &Client,
    now: i64,
) -> Result<(), RegistrationError> {
    client.validate().map_err(|problem| RegistrationError::Invalid { client_id: client.client_id.clone(), problem })?;
    db.put_client(client, now).await?;
    if let Some(cache) = cache {
        cache.invalidate(&client.client_id);
    }
    Ok(())
}

/// Removes a client; true if it existed. Its credentials stop working at once on this instance
/// and within the cache TTL elsewhere; tokens it already holds expire on their own schedule.
pub async fn remove_client(db: &Db, cache: Option<&ClientCache>, client_id: &str) -> Result<bool, DbError> {
    let existed = db.delete_client(client_id).await?;
    if let Some(cache) = cache {
        cache.invalidate(client_id);
    }
    Ok(existed)
}

/// One entry of the clients file (`clients_file`): a registration, with the secret given either
/// in clear (hashed on load, e.g. injected from a secret store) or already hashed.
#[derive(Deserialize)]
struct FileEntry {
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(flatten)]
    client: Client,
}

/// Registers (or updates) every client of a JSON file: an array of registrations with the
/// fields of [`Client`]. Each is validated; the first bad one stops start-up with its id.
pub async fn load_file(db: &Db, path: &std::path::Path, now: i64) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries: Vec<FileEntry> = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let count = entries.len();
    for FileEntry { client_secret, mut client } in entries {
        if let Some(secret) = client_secret {
            client.secret_hash = Some(sha256_hex(&secret));
        }
        save_client(db, None, &client, now).await.map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(count)
}

/// When it was read, and what was found (unknown ids are remembered too).
type CachedClient = (Instant, Option<Arc<Client>>);

/// Clients are read on every protocol request; a short-lived cache spares the database.
/// Changes made through [`save_client`]/[`remove_client`] with this cache apply at once here;
/// changes made elsewhere reach this instance within `ttl` (`client_cache_ttl_secs`).
#[derive(Clone)]
pub struct ClientCache {
    db: Db,
    ttl: Duration,
    entries: Arc<RwLock<HashMap<String, CachedClient>>>,
    /// Bumped by every invalidation: a read that started before one must not cache what it
    /// read, or a concurrent request could put a removed client back for a whole TTL.
    generation: Arc<AtomicU64>,
}

impl ClientCache {
    pub fn new(db: Db, ttl: Duration) -> Self {
        Self { db, ttl, entries: Arc::default(), generation: Arc::default() }
    }

    /// [`save_client`] through this instance's cache.
    pub async fn save(&self, client: &Client, now: i64) -> Result<(), RegistrationError> {
        save_client(&self.db, Some(self), client, now).await
    }

    /// [`remove_client`] through this instance's cache.
    pub async fn remove(&self, client_id: &str) -> Result<bool, DbError> {
        remove_client(&self.db, Some(self), client_id).await
    }

    pub async fn get(&self, client_id: &str) -> Result<Option<Arc<Client>>, DbError> {
        if let Some((at, c)) = self.entries.read().unwrap_or_else(|p| p.into_inner()).get(client_id)
            && at.elapsed() < self.ttl
        {
            return Ok(c.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        // Every protocol path reads clients here, so a disabled one is unknown to all of them.
        let client = self.db.client(client_id).await?.filter(|c| !c.disabled).map(Arc::new);
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(client);
        }
        // Unknown ids are cached too (briefly), but the map must not grow without bound under
        // a flood of random client ids.
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(client_id.to_owned(), (Instant::now(), client.clone()));
        Ok(client)
    }

    pub fn invalidate(&self, client_id: &str) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_redirect(uri: &str) -> Client {
        Client {
            secret_hash: Some(sha256_hex("s")),
            ..Client::new("c", "c", AuthMethod::ClientSecretBasic, vec![uri.into()])
        }
    }

    #[test]
    fn registration_refuses_unsafe_redirect_uris() {
        for ok in ["https://rp.example.vn/cb", "http://localhost:9999/cb", "http://127.0.0.1/cb", "vn.gov.app:/cb"] {
            with_redirect(ok).validate().unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "http://rp.example.vn/cb",
            "https://rp.example.vn/cb#f",
            "not a uri",
        ] {
            assert!(with_redirect(bad).validate().is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn refresh_grace_is_off_by_default_and_bounded() {
        let c = with_redirect("https://rp.example.vn/cb");
        assert_eq!(c.refresh_token_grace_secs, 0);
        let ok = Client { refresh_token_grace_secs: MAX_REFRESH_TOKEN_GRACE_SECS, ..c.clone() };
        ok.validate().unwrap();
        let too_long = Client { refresh_token_grace_secs: MAX_REFRESH_TOKEN_GRACE_SECS + 1, ..c };
        assert!(too_long.validate().unwrap_err().contains("refresh_token_grace_secs"));
    }

    #[test]
    fn secrets_compare_by_hash() {
        let c = with_redirect("https://rp.example.vn/cb");
        assert!(c.verify_secret("s"));
        assert!(!c.verify_secret("S"));
        assert!(!c.verify_secret(""));
    }
}
