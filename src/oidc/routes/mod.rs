//! The HTTP face of the provider. Handlers parse the wire, call `flow`/`token`/`resource`/
//! `logout`, and render; nothing else here decides anything.

pub mod account;
pub mod login;
pub mod pages;
pub mod token;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use self::login::{CurrentSession, PageForm, RequestOrigin};
use self::pages::{ConsentPage, OrPage, PageError};
use super::error::{ErrorCode, OAuthError};
use super::extract::WireParams;
use super::flow::{self, Next};
use super::logout::{self, LogoutNext};
use super::provider::Provider;
use super::request::ResponseMode;
use super::session::{self, Session};
use super::{discovery, fapi2, par, resource, texts, tx};
use crate::web::page::{self, Frame, Lang};

pub fn router() -> Router<Provider> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery_doc))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize_endpoint).post(authorize_endpoint))
        .route("/par", post(token::par_endpoint))
        .route("/token", post(token::token_endpoint))
        .route("/userinfo", get(token::userinfo_get).post(token::userinfo_post))
        .route("/introspect", post(introspect))
        .route("/revoke", post(revoke))
        .route("/logout", get(logout_endpoint).post(logout_endpoint))
        .route("/logout/confirm", post(logout_confirm))
        .route("/login", get(login::choice))
        .route("/login/abort", post(login::abort))
        .route("/consent", get(consent_page).post(consent_post))
        .route("/assets/form-post.js", get(form_post_js))
        .merge(account::router())
}

async fn discovery_doc(State(p): State<Provider>) -> Response {
    let mut r = Json(discovery::metadata(&p)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

async fn jwks(State(p): State<Provider>) -> Response {
    let body = p.keys.jwks_json(crate::clock::unix_now());
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Short: relying parties refetch on an unknown kid anyway, and rotation must propagate.
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

async fn authorize_endpoint(
    State(p): State<Provider>,
    headers: HeaderMap,
    from: RequestOrigin,
    CurrentSession(session): CurrentSession,
    WireParams(params): WireParams,
) -> Result<Response, PageError> {
    let lang = Lang::pick(None, &headers);
    let params = params.map_err(|e| PageError::Invalid(lang, e))?;
    let lang = Lang::pick(params.get("ui_locales").map(String::as_str), &headers);
    let client_id = params
        .get("client_id")
        .ok_or_else(|| PageError::Invalid(lang, OAuthError::invalid_request("client_id is required")))?;
    let client = p
        .clients
        .get(client_id)
        .await
        .or_page(lang)?
        .ok_or_else(|| PageError::Invalid(lang, OAuthError::invalid_request("unknown client_id")))?;
    fapi2::check_front_channel(&client, &params).map_err(|e| PageError::Invalid(lang, e))?;
    let (params, via_par) = par::resolve(&p, &client, params).await.map_err(|e| PageError::Invalid(lang, e))?;
    let next = flow::authorize(&p, client, &params, via_par, session, &from.origin).await;
    // A transaction was stored, bound to this browser: the browser keeps its binding cookie.
    let stored = matches!(next, Next::Login { .. } | Next::Consent { .. });
    let mut r = render_next(lang, next);
    if stored {
        login::set_browser_cookie(&p, &from.cookie, &mut r);
    }
    Ok(r)
}

/// Turns a flow decision into a response. Shared with the login methods' callbacks.
pub fn render_next(lang: Lang, next: Next) -> Response {
    match next {
        Next::ErrorPage(e) => PageError::Invalid(lang, e).into_response(),
        Next::Unavailable => PageError::Unavailable(lang).into_response(),
        Next::TooMany => PageError::TooMany(lang).into_response(),
        Next::Login { tx } => Redirect::to(&format!("/login?tx={tx}&lang={}", lang.code())).into_response(),
        Next::Consent { tx } => Redirect::to(&format!("/consent?tx={tx}&lang={}", lang.code())).into_response(),
        Next::Respond { redirect_uri, mode: ResponseMode::FormPost, params } => {
            pages::form_post(lang, &redirect_uri, &params)
        }
        Next::Respond { redirect_uri, mode: ResponseMode::Query, params } => match url::Url::parse(&redirect_uri) {
            Ok(mut u) => {
                u.query_pairs_mut().extend_pairs(params);
                Redirect::to(u.as_str()).into_response()
            }
            Err(_) => pages::error(lang, &OAuthError::invalid_request("redirect_uri is malformed")),
        },
    }
}

pub(super) fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

async fn introspect(
    State(p): State<Provider>,
    headers: HeaderMap,
    WireParams(form): WireParams,
) -> Result<Response, OAuthError> {
    let body = resource::introspect(&p, &headers, &form?).await?;
    Ok(no_store(Json(body).into_response()))
}

async fn revoke(
    State(p): State<Provider>,
    headers: HeaderMap,
    WireParams(form): WireParams,
) -> Result<Response, OAuthError> {
    resource::revoke(&p, &headers, &form?).await?;
    Ok(no_store(StatusCode::OK.into_response()))
}

async fn logout_endpoint(
    State(p): State<Provider>,
    headers: HeaderMap,
    CurrentSession(current): CurrentSession,
    WireParams(params): WireParams,
) -> Result<Response, PageError> {
    let params = params.map_err(|e| PageError::Invalid(Lang::pick(None, &headers), e))?;
    let lang = Lang::pick(params.get("ui_locales").map(String::as_str), &headers);
    let next = logout::end_session(&p, &params, current).await;
    Ok(render_logout(&p, lang, next))
}

#[derive(Deserialize)]
struct ConfirmForm {
    token: String,
}

async fn logout_confirm(
    State(p): State<Provider>,
    lang: Lang,
    CurrentSession(current): CurrentSession,
    PageForm(f): PageForm<ConfirmForm>,
) -> Response {
    let next = logout::confirm(&p, &f.token, current).await;
    render_logout(&p, lang, next)
}

fn render_logout(p: &Provider, lang: Lang, next: LogoutNext) -> Response {
    let mut r = match next {
        LogoutNext::Redirect(u) => Redirect::to(&u).into_response(),
        LogoutNext::LoggedOut => pages::logged_out(lang),
        LogoutNext::Confirm { token } => return pages::confirm_logout(lang, &token),
        LogoutNext::ErrorPage(e) => return pages::error(lang, &e),
    };
    session::set_cookie(p, session::COOKIE_NAME, None, 0, r.headers_mut());
    r
}

async fn client_name(p: &Provider, client_id: &str) -> String {
    p.clients.get(client_id).await.ok().flatten().map(|c| c.name.clone()).unwrap_or_else(|| client_id.to_owned())
}

async fn consent_page(
    State(p): State<Provider>,
    headers: HeaderMap,
    CurrentSession(s): CurrentSession,
    Query(q): Query<login::TxQuery>,
) -> Result<Response, PageError> {
    let (tx, lang) = login::resume_choosing(&p, &headers, &q).await?;
    let (tx, s, lang) = consent_context(tx, lang, s)?;
    let person = p.db.account(&s.account_id).await.or_page(lang)?.ok_or(PageError::Expired(lang))?;
    let person = person.profile.get("name").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let client = client_name(&p, &tx.request.client_id).await;
    let t = texts::of(lang);
    let items = tx.request.scopes.iter().filter_map(|s| p.scopes.describe(s)).map(|d| d.get(lang)).collect();
    let frame = Frame::new(lang, t.consent_title).switchable(&format!("/consent?tx={}", tx.id));
    Ok(page::render(StatusCode::OK, &ConsentPage { frame, t, tx: &tx.id, client: &client, person: &person, items }))
}

/// The transaction (already resumed in this browser) and the session it belongs to: the
/// consent decision can only come from the person who logged in.
fn consent_context(tx: tx::LoginTx, lang: Lang, s: Option<Session>) -> Result<(tx::LoginTx, Session, Lang), PageError> {
    let s = s.ok_or(PageError::Expired(lang))?;
    match &tx.session {
        Some(r) if r.sid == s.sid && r.account_id == s.account_id => Ok((tx, s, lang)),
        _ => Err(PageError::Expired(lang)),
    }
}

#[derive(Deserialize)]
struct ConsentForm {
    tx: String,
    decision: String,
}

async fn consent_post(
    State(p): State<Provider>,
    headers: HeaderMap,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<ConsentForm>,
) -> Result<Response, PageError> {
    let (tx, lang) = login::resume(&p, &headers, &f.tx).await?;
    let (tx, s, lang) = consent_context(tx, lang, s)?;
    if f.decision != "allow" {
        let _ = tx::drop(&p, &tx.id).await;
        let e = OAuthError::new(ErrorCode::AccessDenied, "the user declined to share the requested information");
        return Ok(render_next(lang, flow::error_to_client(&p, &tx.request, e)));
    }
    Ok(render_next(lang, flow::consent_given(&p, tx, s).await))
}

async fn form_post_js() -> Response {
    let mut r = pages::FORM_POST_JS.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript"));
    r
}
