//! The admin console: server-rendered pages under `/admin`, Vietnamese by default with English,
//! light enough for a commune office's link, working without JavaScript.
//!
//! The console is a first-party relying party of this provider, as in peers' admin consoles:
//! it sends the administrator through an ordinary authorization request (PKCE, an essential
//! officer second-factor `acr`), redeems the code in-process, and keeps the access token in a
//! server-side console session. Every page then identifies the caller from that token with
//! [`authz::caller`], exactly as the API does, and every change goes through [`crate::admin::ops`],
//! so the console can do nothing the API would refuse, and revoking the grant (log-out,
//! suspension, a withdrawn admin grant) ends console access at once.

mod audit;
mod clients;
mod import;
mod officers;
pub mod pages;
mod session;
pub mod texts;
mod units;

use axum::Router;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::authz::{self, Caller};
use super::error::AdminError;
use crate::officers::DirectoryError;
use crate::oidc::Provider;
use crate::oidc::clients::Client;
use crate::web::page::Lang;
pub use session::CLIENT_ID;

/// The console's pages.
pub fn router(p: Provider) -> Router {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/officers") }))
        .route("/admin/callback", get(session::callback))
        .route("/admin/logout", post(session::logout))
        .merge(officers::router())
        .merge(import::router())
        .merge(units::router())
        .merge(clients::router())
        .merge(audit::router())
        .with_state(p)
}

/// The console's registration: a public client (PKCE) of this provider, trusted (no consent
/// page: it is the provider's own), allowed the `admin` scope, redirecting only to this
/// issuer's `/admin/callback`. Written at start-up so it follows the configured issuer.
pub fn registration(issuer: &str) -> Client {
    serde_json::from_value(serde_json::json!({
        "client_id": CLIENT_ID,
        "name": "Bảng quản trị / Admin console",
        "auth_method": "none",
        "redirect_uris": [format!("{}/admin/callback", issuer.trim_end_matches('/'))],
        "scopes": ["openid", authz::ADMIN_SCOPE],
        "grant_types": ["authorization_code"],
        "trusted": true,
        "default_acr": crate::officers::acr::OFFICER_MFA,
        "access_token_ttl_secs": session::TOKEN_TTL_SECS,
    }))
    .expect("the console's registration is well-formed")
}

/// The administrator behind a console page: identified from the console session's access
/// token on every request.
pub struct Console {
    pub caller: Caller,
    pub csrf: String,
    pub lang: Lang,
    /// Who is signed in, for the page header.
    pub who: String,
}

/// Why a console page is not shown.
pub enum ConsoleError {
    /// Not (or no longer) logged in: off to the login, then back.
    Login(Box<Response>),
    Admin(Lang, AdminError),
    /// A form without this console session's token, or from another site.
    Expired(Lang),
}

impl From<(Lang, AdminError)> for ConsoleError {
    fn from((lang, e): (Lang, AdminError)) -> Self {
        ConsoleError::Admin(lang, e)
    }
}

/// `?` inside console handlers: an [`AdminError`] becomes a page in the request's language.
pub trait OrConsole<T> {
    fn or_console(self, lang: Lang) -> Result<T, ConsoleError>;
}

impl<T, E: Into<AdminError>> OrConsole<T> for Result<T, E> {
    fn or_console(self, lang: Lang) -> Result<T, ConsoleError> {
        self.map_err(|e| ConsoleError::Admin(lang, e.into()))
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::Login(r) => *r,
            ConsoleError::Expired(lang) => pages::problem(StatusCode::FORBIDDEN, lang, texts::of(lang).expired.into()),
            ConsoleError::Admin(lang, e) => {
                let t = texts::of(lang);
                let (status, message) = match e {
                    AdminError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, t.login_failed.to_owned()),
                    AdminError::Forbidden(_) => (StatusCode::FORBIDDEN, t.forbidden.to_owned()),
                    AdminError::Directory(DirectoryError::NotFound(_)) => {
                        (StatusCode::NOT_FOUND, t.not_found.to_owned())
                    }
                    // The directory's own words name the field and the rule that was broken.
                    AdminError::Directory(
                        d @ (DirectoryError::Invalid { .. }
                        | DirectoryError::Conflict { .. }
                        | DirectoryError::InUse(_)),
                    ) => (StatusCode::BAD_REQUEST, d.to_string()),
                    AdminError::Directory(DirectoryError::Db(e)) => {
                        tracing::warn!(error = %e, "console: database error");
                        (StatusCode::SERVICE_UNAVAILABLE, t.unavailable.to_owned())
                    }
                    AdminError::Kv(e) => {
                        tracing::warn!(error = %e, "console: session store error");
                        (StatusCode::SERVICE_UNAVAILABLE, t.unavailable.to_owned())
                    }
                };
                pages::problem(status, lang, message)
            }
        }
    }
}

/// Any router whose state holds the provider (a feature's console pages) may use it.
impl<S: Send + Sync> FromRequestParts<S> for Console
where
    Provider: FromRef<S>,
{
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p = Provider::from_ref(state);
        let lang = Lang::from_request_parts(parts, &p).await.unwrap_or(Lang::Vi);
        session::current(&p, parts, lang).await
    }
}

/// A state-changing form of the console, accepted only with the console session's token
/// (constant-time) and from our own pages (Sec-Fetch-Site, when the browser sends it). A
/// malformed form is refused like a forged one: nothing is done.
pub struct ConsoleForm<T> {
    pub c: Console,
    pub form: T,
}

/// A form that carries the console session's anti-CSRF token.
pub trait CsrfField {
    fn csrf(&self) -> &str;
}

/// Forms whose token is their `csrf` field.
macro_rules! csrf_field {
    ($($t:ty),+) => {
        $(impl $crate::admin::console::CsrfField for $t {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use csrf_field;

/// A form read as pairs (repeated fields, such as the bulk form's checkboxes).
impl CsrfField for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default()
    }
}

impl<S: Send + Sync, T: DeserializeOwned + CsrfField + Send> FromRequest<S> for ConsoleForm<T>
where
    Provider: FromRef<S>,
{
    type Rejection = ConsoleError;

    async fn from_request(req: Request, p: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let c = Console::from_request_parts(&mut parts, p).await?;
        let cross_site =
            parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v != "same-origin");
        let form = axum::Form::<T>::from_request(Request::from_parts(parts, body), p).await.ok().map(|f| f.0);
        let token_ok = form
            .as_ref()
            .is_some_and(|f| bool::from(subtle::ConstantTimeEq::ct_eq(f.csrf().as_bytes(), c.csrf.as_bytes())));
        match form {
            Some(form) if token_ok && !cross_site => Ok(ConsoleForm { c, form }),
            _ => {
                tracing::warn!("console form refused: malformed, or not from this console session's page");
                Err(ConsoleError::Expired(c.lang))
            }
        }
    }
}

/// `/admin` pages read their query leniently: a malformed query is an empty one.
pub(crate) fn lenient<T: for<'de> Deserialize<'de> + Default>(q: Result<Query<T>, impl std::fmt::Debug>) -> T {
    q.map(|Query(q)| q).unwrap_or_default()
}
