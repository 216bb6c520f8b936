//! The demo relying party on :8084, "Cổng dịch vụ công tỉnh (thử nghiệm)": a provincial service
//! that logs in through xacthuc exactly as an outside service would — over HTTP, with discovery,
//! authorization code + PKCE, ID-token validation, UserInfo, RP-initiated logout and a
//! back-channel logout receiver — and shows what it received. It shares no code path with the
//! provider, so it also checks the provider from the outside.
//!
//! - `rp`: the OpenID Connect client (the `openidconnect` crate over our own reqwest adapter).
//! - `backchannel`: logout-token validation (Back-Channel Logout 1.0 §2.6).
//! - `session`: the portal's own in-memory sessions, keyed by a random cookie.
//! - `handlers`, `pages` (templates under `templates/portal/`) and `texts`: the HTTP face.

mod backchannel;
mod handlers;
mod http;
mod pages;
mod rp;
mod session;
mod texts;

use axum::Router;

/// Everything the portal needs to be a relying party of xacthuc.
#[derive(Clone)]
pub struct PortalConfig {
    /// The provider's issuer identifier, e.g. `http://localhost:8080`.
    pub issuer: String,
    /// Where the portal itself is reachable, e.g. `http://localhost:8084` (no trailing slash
    /// needed). Redirect, post-logout and back-channel URIs are derived from it.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for PortalConfig {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalConfig")
            .field("issuer", &self.issuer)
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl PortalConfig {
    fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base())
    }
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.base())
    }
    pub fn backchannel_logout_uri(&self) -> String {
        format!("{}/backchannel-logout", self.base())
    }
    fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// The portal's routes. Discovery happens lazily on first use: the provider may start in the
/// same process after this.
pub fn router(cfg: PortalConfig) -> Router {
    handlers::router(cfg)
}
