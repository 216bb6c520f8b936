//! The portal's HTTP face: home, login start, callback, logout, the back-channel receiver and a
//! debug view of received logout events.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;

use super::PortalConfig;
use super::backchannel::{self, Rejection};
use super::pages::{self, Notice, OrPage, PageError};
use super::rp::{LoginKind, PortalError, Rp, describe_error};
use super::session::{self, Store};
use crate::web::page::Lang;

#[derive(Clone)]
struct App {
    rp: Arc<Rp>,
    store: Store,
    secure: bool,
}

pub fn router(cfg: PortalConfig) -> Router {
    let csp = csp(&cfg.issuer);
    let app = App { secure: cfg.secure_cookies(), rp: Arc::new(Rp::new(cfg)), store: Store::default() };
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", post(logout))
        .route("/backchannel-logout", post(backchannel_logout))
        .route("/debug/backchannel", get(debug_backchannel))
        .route("/assets/portal.css", get(css))
        .with_state(app)
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // The callback URL carries a code: never let it leak to another site in a Referer.
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
}

/// No scripts at all; styles from our stylesheet. The logout form's redirect goes on to the
/// provider, and browsers apply `form-action` to redirects too, so the provider is allowed there.
fn csp(issuer: &str) -> HeaderValue {
    let op = url::Url::parse(issuer).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self' {op}; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'; style-src 'self'"))
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn see_other(location: &str) -> Response {
    no_store(Redirect::to(location).into_response())
}

fn lang_of(code: &str) -> Lang {
    if code == "en" { Lang::En } else { Lang::Vi }
}

/// Query parameters read leniently (a repeated one keeps its last value), so that no odd URL
/// gets a bare rejection instead of a page.
type Params = Query<HashMap<String, String>>;

/// A form field from a urlencoded body, whatever the declared content type: the first value.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn page_lang(explicit: Option<&String>, headers: &HeaderMap) -> Lang {
    Lang::pick(explicit.map(String::as_str), headers)
}

async fn home(State(app): State<App>, headers: HeaderMap, Query(q): Params) -> Response {
    let lang = page_lang(q.get("lang"), &headers);
    let Some((id, mut s)) = app.store.get(&headers) else {
        return pages::home(lang, None, None);
    };
    let mut notice = None;
    // `state` is present when the provider sends the browser back after RP-initiated logout.
    if q.get("state").is_some_and(|st| Some(st) == s.logout_state.as_ref()) {
        notice = Some(Notice::LoggedOut);
        s.logout_state = None;
    } else if s.ended_by_provider {
        notice = Some(Notice::EndedByProvider);
        s.ended_by_provider = false;
    }
    let page = pages::home(lang, Some(&s), notice);
    app.store.put(&id, s);
    page
}

async fn login(State(app): State<App>, headers: HeaderMap, Query(q): Params) -> Result<Response, PageError> {
    let lang = page_lang(q.get("lang"), &headers);
    let kind = match (q.get("kind").map(String::as_str), q.get("level").map(String::as_str)) {
        (Some("organisation"), _) => LoginKind::Organisation,
        (Some("officer-cert"), _) => LoginKind::OfficerCert,
        (_, Some("2")) => LoginKind::CitizenLevel2,
        _ => LoginKind::Citizen,
    };
    let (url, pending) = app.rp.authorization_url(kind, lang.code()).await.or_page(lang)?;
    let (id, mut s, _) = app.store.get_or_new(&headers);
    s.pending.push(pending);
    app.store.put(&id, s);
    let mut r = see_other(&url);
    session::set_cookie(r.headers_mut(), &id, app.secure);
    Ok(r)
}

async fn callback(State(app): State<App>, headers: HeaderMap, Query(q): Params) -> Result<Response, PageError> {
    let stale = PageError::Stale(Lang::pick(None, &headers));
    // The state must name a login this browser started: this is what stops login CSRF.
    let (Some(state), Some((id, mut s))) = (q.get("state"), app.store.get(&headers)) else { return Err(stale) };
    let pos = s.pending.iter().position(|p| &p.state == state).ok_or(stale)?;
    let pending = s.pending.remove(pos);
    app.store.put(&id, s.clone());
    let lang = lang_of(pending.lang);

    app.rp.check_response_iss(q.get("iss").map(String::as_str)).await.or_page(lang)?;
    if let Some(error) = q.get("error") {
        let description = q.get("error_description").cloned();
        return Err(PageError::Provider(lang, PortalError::OAuth { error: error.clone(), description }));
    }
    let code = q
        .get("code")
        .ok_or_else(|| PortalError::Invalid("the response has neither code nor error".into()))
        .or_page(lang)?;
    let user = app.rp.finish_login(code, &pending).await.or_page(lang)?;
    // A fresh session id at login, so an id planted before login is worth nothing.
    let new_id = crate::crypto::random_token();
    app.store.remove(&id);
    s.user = Some(user);
    s.ended_by_provider = false;
    s.logout_state = None;
    app.store.put(&new_id, s);
    let mut r = see_other(&format!("/?lang={}", lang.code()));
    session::set_cookie(r.headers_mut(), &new_id, app.secure);
    Ok(r)
}

/// Ends the local login at once, then sends the browser to the provider's end-session endpoint.
/// Only a same-site POST reaches here with the cookie (SameSite=Lax), so a forged cross-site
/// form cannot log the user out.
async fn logout(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = page_lang(form_field(&body, "lang").as_ref(), &headers);
    let home = format!("/?lang={}", lang.code());
    let Some((id, mut s)) = app.store.get(&headers) else { return see_other(&home) };
    let Some(user) = s.user.take() else { return see_other(&home) };
    let next = match app.rp.logout_url(&user.id_token, lang.code()).await {
        Ok(Some((url, state))) => {
            s.logout_state = Some(state);
            url
        }
        // No end-session endpoint, or the provider is unreachable: the local logout stands.
        Ok(None) => home,
        Err(e) => {
            tracing::warn!(reason = %describe_error(&e), "portal: RP-initiated logout not possible");
            home
        }
    };
    app.store.put(&id, s);
    see_other(&next)
}

/// A refused back-channel request, answered as an OAuth error in JSON (Back-Channel Logout 1.0
/// §2.8).
struct BackchannelError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl BackchannelError {
    fn invalid(description: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error: "invalid_request", description: description.into() }
    }
}

impl From<Rejection> for BackchannelError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::UnknownKey => Self::invalid("logout_token signed with an unknown key"),
            Rejection::Invalid(m) => Self::invalid(m),
        }
    }
}

impl IntoResponse for BackchannelError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "error_description": self.description }));
        no_store((self.status, body).into_response())
    }
}

/// Back-Channel Logout 1.0 §2.5–2.8: the provider POSTs `logout_token`; we validate it, end the
/// matching sessions and answer 200, or 400 when the token is bad.
async fn backchannel_logout(State(app): State<App>, body: Bytes) -> Result<Response, BackchannelError> {
    let token =
        form_field(&body, "logout_token").ok_or_else(|| BackchannelError::invalid("logout_token is required"))?;
    // Not the token's fault: a 503 makes the provider retry later.
    let op = app.rp.op().await.map_err(|_| BackchannelError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        error: "temporarily_unavailable",
        description: "provider keys unavailable".into(),
    })?;
    let (issuer, client_id) = (app.rp.cfg.issuer.as_str(), app.rp.cfg.client_id.as_str());
    let mut result = backchannel::validate(&token, &op.keys, issuer, client_id);
    if result == Err(Rejection::UnknownKey)
        && let Ok(op) = app.rp.refresh_keys().await
    {
        result = backchannel::validate(&token, &op.keys, issuer, client_id);
    }
    let target = result?;
    let ended = app.store.end_by_provider(target.sid.as_deref(), target.sub.as_deref());
    tracing::info!(sessions_ended = ended, "portal: back-channel logout received");
    Ok(no_store(StatusCode::OK.into_response()))
}

/// For tests and demos: the back-channel logouts this portal has received.
async fn debug_backchannel(State(app): State<App>) -> Response {
    Json(app.store.events()).into_response()
}

async fn css() -> Response {
    let mut r = pages::CSS.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}
