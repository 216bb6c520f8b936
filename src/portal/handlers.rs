//! The portal's HTTP face: home, login start, callback, logout, the back-channel receiver and a
//! debug view of received logout events.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;

use super::PortalConfig;
use super::backchannel::{self, Rejection};
use super::pages::{self, Notice};
use super::rp::{PortalError, Rp, describe_error};
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

fn page(status: StatusCode, html: String) -> Response {
    let mut r = (status, Html(html)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn see_other(location: &str) -> Response {
    let mut r = Redirect::to(location).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn lang_of(code: &str) -> Lang {
    if code == "en" { Lang::En } else { Lang::Vi }
}

#[derive(Deserialize)]
struct HomeQuery {
    lang: Option<String>,
    /// Present when the provider sends the browser back after RP-initiated logout.
    state: Option<String>,
}

async fn home(State(app): State<App>, headers: HeaderMap, Query(q): Query<HomeQuery>) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let Some((id, mut s)) = app.store.get(&headers) else {
        return page(StatusCode::OK, pages::home(lang, None, None));
    };
    let mut notice = None;
    if q.state.is_some() && q.state == s.logout_state {
        notice = Some(Notice::LoggedOut);
        s.logout_state = None;
    } else if s.ended_by_provider {
        notice = Some(Notice::EndedByProvider);
        s.ended_by_provider = false;
    }
    let html = pages::home(lang, Some(&s), notice);
    app.store.put(&id, s);
    page(StatusCode::OK, html)
}

#[derive(Deserialize)]
struct LoginQuery {
    lang: Option<String>,
    level: Option<String>,
}

async fn login(State(app): State<App>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let level2 = q.level.as_deref() == Some("2");
    let (url, pending) = match app.rp.authorization_url(level2, lang.code()).await {
        Ok(x) => x,
        Err(e) => return rp_failure(lang, &e),
    };
    let (id, mut s, _) = app.store.get_or_new(&headers);
    s.pending.push(pending);
    app.store.put(&id, s);
    let mut r = see_other(&url);
    session::set_cookie(r.headers_mut(), &id, app.secure);
    r
}

async fn callback(State(app): State<App>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let guess = Lang::pick(None, &headers);
    let stale = || {
        page(
            StatusCode::BAD_REQUEST,
            pages::problem(
                guess,
                guess.t("Yêu cầu đăng nhập không hợp lệ", "Invalid login response"),
                guess.t(
                    "Phản hồi đăng nhập không khớp với yêu cầu nào của trình duyệt này, hoặc đã hết hạn. Vui lòng đăng nhập lại.",
                    "This login response does not match a request from this browser, or it has expired. Please log in again.",
                ),
                None,
                None,
            ),
        )
    };
    // The state must name a login this browser started: this is what stops login CSRF.
    let (Some(state), Some((id, mut s))) = (q.get("state"), app.store.get(&headers)) else { return stale() };
    let Some(pos) = s.pending.iter().position(|p| &p.state == state) else { return stale() };
    let pending = s.pending.remove(pos);
    app.store.put(&id, s.clone());
    let lang = lang_of(pending.lang);

    if let Err(e) = app.rp.check_response_iss(q.get("iss").map(String::as_str)).await {
        return rp_failure(lang, &e);
    }
    if let Some(error) = q.get("error") {
        let e = PortalError::OAuth { error: error.clone(), description: q.get("error_description").cloned() };
        return rp_failure(lang, &e);
    }
    let Some(code) = q.get("code") else {
        return rp_failure(lang, &PortalError::Invalid("the response has neither code nor error".into()));
    };
    match app.rp.finish_login(code, &pending).await {
        Ok(user) => {
            // A fresh session id at login, so an id planted before login is worth nothing.
            let new_id = crate::crypto::random_token();
            app.store.remove(&id);
            s.user = Some(user);
            s.ended_by_provider = false;
            s.logout_state = None;
            app.store.put(&new_id, s);
            let mut r = see_other(&format!("/?lang={}", lang.code()));
            session::set_cookie(r.headers_mut(), &new_id, app.secure);
            r
        }
        Err(e) => rp_failure(lang, &e),
    }
}

fn rp_failure(lang: Lang, e: &PortalError) -> Response {
    match e {
        PortalError::Unavailable(m) => {
            tracing::warn!(reason = %m, "portal: identity provider unavailable");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                pages::problem(
                    lang,
                    lang.t("Hệ thống xác thực chưa sẵn sàng", "The identity service is not available"),
                    lang.t(
                        "Không kết nối được tới hệ thống xác thực. Vui lòng thử lại sau ít phút.",
                        "The identity service could not be reached. Please try again in a few minutes.",
                    ),
                    None,
                    None,
                ),
            )
        }
        PortalError::OAuth { error, description } => page(
            StatusCode::BAD_REQUEST,
            pages::problem(
                lang,
                lang.t("Đăng nhập không thành công", "Login failed"),
                lang.t("Hệ thống xác thực trả về lỗi:", "The identity service returned an error:"),
                Some(error),
                description.as_deref(),
            ),
        ),
        PortalError::Invalid(m) => {
            tracing::warn!(reason = %m, "portal: response from the identity provider rejected");
            page(
                StatusCode::BAD_REQUEST,
                pages::problem(
                    lang,
                    lang.t("Đăng nhập không thành công", "Login failed"),
                    lang.t(
                        "Phản hồi từ hệ thống xác thực không hợp lệ nên đã bị từ chối.",
                        "The identity service's response was not valid and has been refused.",
                    ),
                    Some("invalid_response"),
                    Some(&describe_error(e)),
                ),
            )
        }
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    lang: Option<String>,
}

/// Ends the local login at once, then sends the browser to the provider's end-session endpoint.
/// Only a same-site POST reaches here with the cookie (SameSite=Lax), so a forged cross-site
/// form cannot log the user out.
async fn logout(State(app): State<App>, headers: HeaderMap, axum::Form(f): axum::Form<LogoutForm>) -> Response {
    let lang = Lang::pick(f.lang.as_deref(), &headers);
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

fn backchannel_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (status, Json(json!({ "error": error, "error_description": description }))).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Back-Channel Logout 1.0 §2.5–2.8: the provider POSTs `logout_token`; we validate it, end the
/// matching sessions and answer 200, or 400 when the token is bad.
async fn backchannel_logout(State(app): State<App>, body: Bytes) -> Response {
    let token = url::form_urlencoded::parse(&body).find(|(k, _)| k == "logout_token").map(|(_, v)| v.into_owned());
    let Some(token) = token else {
        return backchannel_error(StatusCode::BAD_REQUEST, "invalid_request", "logout_token is required");
    };
    let op = match app.rp.op().await {
        Ok(op) => op,
        // Not the token's fault: a 503 makes the provider retry later.
        Err(_) => {
            return backchannel_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "provider keys unavailable",
            );
        }
    };
    let (issuer, client_id) = (app.rp.cfg.issuer.as_str(), app.rp.cfg.client_id.as_str());
    let mut result = backchannel::validate(&token, &op.keys, issuer, client_id);
    if result == Err(Rejection::UnknownKey)
        && let Ok(op) = app.rp.refresh_keys().await
    {
        result = backchannel::validate(&token, &op.keys, issuer, client_id);
    }
    match result {
        Ok(target) => {
            let ended = app.store.end_by_provider(target.sid.as_deref(), target.sub.as_deref());
            tracing::info!(sessions_ended = ended, "portal: back-channel logout received");
            let mut r = StatusCode::OK.into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(Rejection::UnknownKey) => {
            backchannel_error(StatusCode::BAD_REQUEST, "invalid_request", "logout_token signed with an unknown key")
        }
        Err(Rejection::Invalid(m)) => backchannel_error(StatusCode::BAD_REQUEST, "invalid_request", &m),
    }
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
