//! Which claims each scope releases (OIDC Core §5.4). The standard scopes are here; features
//! register their own (the personal ID is the citizens module's) in `app.rs`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::store::DbError;
use crate::web::page::Text;

/// The certificate of a certificate login, as a top-level claim named after the JOSE
/// thumbprint parameter (RFC 7515 §4.1.8: base64url SHA-256 of the DER). Deliberately not in
/// `cnf` (RFC 8705): the tokens are not bound to a TLS client certificate, the claim only
/// says which certificate the person proved they hold.
pub const CERT_THUMBPRINT_CLAIM: &str = "x5t#S256";

/// Claims read when a token or userinfo is produced, for accounts of one kind: what a feature
/// keeps in its own tables (an officer's unit, position and roles at that client) and changes
/// under a live account. They are merged over the stored profile, then released by scope.
pub type ClaimsFuture<'a> = Pin<Box<dyn Future<Output = Result<Map<String, Value>, DbError>> + Send + 'a>>;

pub trait ClaimSource: Send + Sync {
    /// The `accounts.kind` it serves.
    fn kind(&self) -> &'static str;
    fn claims<'a>(&'a self, account_id: &'a str, client_id: &'a str) -> ClaimsFuture<'a>;

    /// Whether the account may still be served: a feature that can suspend its accounts (an
    /// officer suspended or disabled) says no here, and the provider then ends its sessions
    /// and refuses its codes, refreshes and userinfo, however the suspension was made.
    fn active<'a>(&'a self, _account_id: &'a str) -> ActiveFuture<'a> {
        Box::pin(async { Ok(true) })
    }
}

pub type ActiveFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, DbError>> + Send + 'a>>;

#[derive(Clone, Debug)]
pub struct Scope {
    pub name: &'static str,
    pub claims: &'static [&'static str],
    /// What the consent page says the service will receive; `None` for `openid`.
    pub describe: Option<Text>,
    /// Personal data that needs the user's recorded consent even for trusted clients.
    pub always_consent: bool,
}

/// The profile key naming the account that acted for this one (an organisation's legal
/// representative). It is never released as it stands: the provider turns it into an RFC 8693
/// `act` claim holding the actor's subject as the client sees it.
pub const ACTOR_KEY: &str = "actor_account";

#[derive(Clone)]
pub struct Scopes {
    all: Vec<Scope>,
    /// Claims released whatever the scopes: what a client must know to read the rest (which
    /// kind of account logged in).
    always: Vec<&'static str>,
    sources: Vec<Arc<dyn ClaimSource>>,
}

const PROFILE_CLAIMS: &[&str] =
    &["name", "family_name", "given_name", "middle_name", "birthdate", "gender", "locale", "updated_at"];

impl Default for Scopes {
    fn default() -> Self {
        let scope = |name, claims, describe| Scope { name, claims, describe, always_consent: false };
        Self {
            all: vec![
                scope("openid", &[], None),
                scope(
                    "profile",
                    PROFILE_CLAIMS,
                    Some(Text::new("Họ tên, ngày sinh, giới tính", "Full name, date of birth, gender")),
                ),
                scope("address", &["address"], Some(Text::new("Địa chỉ thường trú", "Permanent address"))),
                scope(
                    "offline_access",
                    &[],
                    Some(Text::new("Duy trì truy cập khi bạn không trực tuyến", "Keep access while you are offline")),
                ),
            ],
            always: Vec::new(),
            sources: Vec::new(),
        }
    }
}

impl Scopes {
    pub fn register(&mut self, s: Scope) {
        self.all.retain(|k| k.name != s.name);
        self.all.push(s);
    }

    /// Releases these claims with every token and userinfo answer, whatever the scopes.
    pub fn release_always(&mut self, claims: &[&'static str]) {
        for c in claims {
            if !self.always.contains(c) {
                self.always.push(c);
            }
        }
    }

    pub fn register_source(&mut self, s: Arc<dyn ClaimSource>) {
        self.sources.push(s);
    }

    /// The live claims of an account of `kind`, as `client_id` sees them.
    pub async fn live(&self, kind: &str, account_id: &str, client_id: &str) -> Result<Map<String, Value>, DbError> {
        let mut out = Map::new();
        for s in self.sources.iter().filter(|s| s.kind() == kind) {
            out.extend(s.claims(account_id, client_id).await?);
        }
        Ok(out)
    }

    /// Whether every source of the account's kind still serves it.
    pub async fn active(&self, kind: &str, account_id: &str) -> Result<bool, DbError> {
        for s in self.sources.iter().filter(|s| s.kind() == kind) {
            if !s.active(account_id).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.all.iter().map(|s| s.name).collect()
    }

    fn get(&self, name: &str) -> Option<&Scope> {
        self.all.iter().find(|s| s.name == name)
    }

    pub fn supported_claims(&self) -> Vec<&'static str> {
        let mut all =
            vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash"];
        all.push(CERT_THUMBPRINT_CLAIM);
        all.push("act");
        all.extend_from_slice(&self.always);
        for s in &self.all {
            all.extend_from_slice(s.claims);
        }
        all
    }

    /// The profile claims a set of granted scopes releases.
    pub fn released(&self, profile: &Value, scopes: &[String]) -> Map<String, Value> {
        let mut out = Map::new();
        for &claim in &self.always {
            if let Some(v) = profile.get(claim).filter(|v| !v.is_null()) {
                out.insert(claim.to_owned(), v.clone());
            }
        }
        for scope in scopes.iter().filter_map(|s| self.get(s)) {
            for &claim in scope.claims {
                if let Some(v) = profile.get(claim).filter(|v| !v.is_null()) {
                    out.insert(claim.to_owned(), v.clone());
                }
            }
        }
        out
    }

    pub fn describe(&self, scope: &str) -> Option<Text> {
        self.get(scope).and_then(|s| s.describe)
    }

    /// Whether any of `scopes` needs a recorded consent even from a trusted client.
    pub fn needs_recorded_consent(&self, scopes: &[String]) -> bool {
        scopes.iter().filter_map(|s| self.get(s)).any(|s| s.always_consent)
    }
}
