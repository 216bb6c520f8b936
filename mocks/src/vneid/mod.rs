//! Mock national e-ID (VNeID-like): an OpenID Connect provider.
//!
//! Paths follow the national portal's SSO (`/oauth2/authorize`, `/oauth2/token`,
//! `/oauth2/userinfo`); the rest (`/oauth2/jwks`, `/oauth2/logout`, `/oauth2/login*`,
//! `/mock/*`) are our own choice. See `mocks/README.md`.

mod accounts;
mod authorize;
mod client_auth;
mod keys;
mod page;
mod store;
mod token;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::citizens::Population;
use crate::faults::{FaultConfig, Faults};
use crate::server::{self, Running};

pub use accounts::{Account, AccountKind};
pub use keys::KeyRing;

/// A relying party registered at the mock e-ID.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VneidClient {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    /// For `client_secret_post` (and `client_secret_basic`).
    pub client_secret: Option<String>,
    /// Public JWK set (`{"keys": [...]}`) for `private_key_jwt`, RS256 or ES256.
    pub jwks: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct VneidConfig {
    /// Public base URL, also the `iss` of tokens, e.g. `http://localhost:8081`.
    pub issuer: String,
    pub port: u16,
    pub clients: Vec<VneidClient>,
    /// Reject authorization requests without an S256 PKCE challenge.
    pub require_pkce: bool,
    /// Lifetime of ID and access tokens.
    pub token_ttl_secs: u64,
    /// Where the signing key is kept across restarts; `None`: a fresh key per start.
    pub key_dir: Option<PathBuf>,
    pub faults: FaultConfig,
}

impl Default for VneidConfig {
    fn default() -> Self {
        VneidConfig {
            issuer: "http://localhost:8081".into(),
            port: 8081,
            clients: vec![VneidClient {
                client_id: "xacthuc".into(),
                redirect_uris: vec!["http://localhost:8080/callback/vneid".into()],
                client_secret: Some("xacthuc-dev-secret".into()),
                jwks: None,
            }],
            require_pkce: true,
            token_ttl_secs: 300,
            key_dir: None,
            faults: FaultConfig::default(),
        }
    }
}

/// Everything the handlers share.
pub struct VneidState {
    pub config: VneidConfig,
    pub population: Arc<Population>,
    pub keys: KeyRing,
    pub faults: Arc<Faults>,
    pub store: store::Store,
}

pub type Shared = Arc<VneidState>;

impl VneidState {
    pub fn new(config: VneidConfig, population: Arc<Population>) -> anyhow::Result<Shared> {
        let keys = KeyRing::load_or_generate(config.key_dir.as_deref())?;
        let faults = Faults::new(config.faults.clone());
        Ok(Arc::new(VneidState { config, population, keys, faults, store: store::Store::default() }))
    }

    fn issuer(&self) -> &str {
        self.config.issuer.trim_end_matches('/')
    }

    fn client(&self, id: &str) -> Option<&VneidClient> {
        self.config.clients.iter().find(|c| c.client_id == id)
    }

    /// Unix time as the mock believes it is (with the injected clock skew).
    fn skewed_now(&self) -> i64 {
        now() + self.faults.clock_skew_secs()
    }
}

/// Unix time, seconds.
pub fn now_unix() -> i64 {
    now()
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The e-ID router with fault injection applied.
pub fn router(state: Shared) -> Router {
    let faults = state.faults.clone();
    Router::new()
        .route("/.well-known/openid-configuration", get(token::discovery))
        .route("/oauth2/jwks", get(token::jwks))
        .route("/oauth2/authorize", get(authorize::authorize))
        .route("/oauth2/login", post(authorize::login_form))
        .route("/oauth2/login/status", get(authorize::login_status))
        .route("/oauth2/login/qr", get(authorize::login_qr))
        .route("/oauth2/token", post(token::token))
        .route("/oauth2/userinfo", get(token::userinfo).post(token::userinfo))
        .route("/oauth2/logout", get(token::end_session))
        .route("/mock/approve", post(authorize::approve))
        .route("/mock/rotate-key", post(token::rotate_key))
        .with_state(state)
        .merge(crate::faults::router(faults.clone()))
        .layer(axum::middleware::from_fn_with_state(faults, crate::faults::inject))
}

/// Starts the e-ID mock on `listener`.
pub async fn start(config: VneidConfig, population: Arc<Population>, listener: TcpListener) -> anyhow::Result<Running> {
    let state = VneidState::new(config, population)?;
    Ok(server::spawn(listener, router(state), "vneid")?)
}
