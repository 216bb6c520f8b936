//! The HTTP face of the provider. Handlers parse the wire, call `flow`/`token`/`resource`/
//! `logout`, and render; nothing else here decides anything.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::error::OAuthError;
use super::flow::{self, Next};
use super::logout::{self, LogoutNext};
use super::pages;
use super::provider::Provider;
use super::request::{Params, ResponseMode};
use super::session;
use super::wire::WireParams;
use super::{discovery, par, resource, token};
use crate::web::page::{self, Lang};

pub fn router() -> Router<Provider> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery_doc))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize_endpoint).post(authorize_endpoint))
        .route("/par", post(par_endpoint))
        .route("/token", post(token_endpoint))
        .route("/userinfo", get(userinfo_get).post(userinfo_post))
        .route("/introspect", post(introspect))
        .route("/revoke", post(revoke))
        .route("/logout", get(logout_endpoint).post(logout_endpoint))
        .route("/logout/confirm", post(logout_confirm))
        .route("/login", get(login_page))
        .route("/consent", get(consent_page).post(consent_post))
        .route("/assets/form-post.js", get(form_post_js))
}

async fn discovery_doc(State(p): State<Provider>) -> Response {
    let mut r = Json(discovery::metadata(&p)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

async fn jwks(State(p): State<Provider>) -> Response {
    let body = p.keys.jwks_json(super::provider::now());
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Short: relying parties refetch on an unknown kid anyway, and rotation must propagate.
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

async fn authorize_endpoint(State(p): State<Provider>, headers: HeaderMap, WireParams(params): WireParams) -> Response {
    let params = match params {
        Ok(params) => params,
        Err(e) => return error_page(Lang::pick(None, &headers), &e),
    };
    let lang = Lang::pick(params.get("ui_locales").map(String::as_str), &headers);
    let Some(client_id) = params.get("client_id") else {
        return error_page(lang, &OAuthError::invalid_request("client_id is required"));
    };
    let client = match p.clients.get(client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return error_page(lang, &OAuthError::invalid_request("unknown client_id")),
        Err(_) => return unavailable(lang),
    };
    let (params, via_par) = match par::resolve(&p, &client, params).await {
        Ok(x) => x,
        Err(e) => return error_page(lang, &e),
    };
    let session = match session::from_headers(&p, &headers).await {
        Ok(s) => s,
        Err(_) => return unavailable(lang),
    };
    let next = flow::authorize(&p, client, &params, via_par, session).await;
    render_next(lang, next)
}

/// Turns a flow decision into a response. Shared with the authentication methods' callbacks.
pub fn render_next(lang: Lang, next: Next) -> Response {
    match next {
        Next::ErrorPage(e) => error_page(lang, &e),
        Next::Unavailable => unavailable(lang),
        Next::Login { tx } => Redirect::to(&format!("/login?tx={tx}&lang={}", lang.code())).into_response(),
        Next::Consent { tx } => Redirect::to(&format!("/consent?tx={tx}&lang={}", lang.code())).into_response(),
        Next::Respond { redirect_uri, mode: ResponseMode::FormPost, params } => {
            let mut r = page::html(StatusCode::OK, pages::form_post(lang, &redirect_uri, &params));
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Next::Respond { redirect_uri, mode: ResponseMode::Query, params } => match url::Url::parse(&redirect_uri) {
            Ok(mut u) => {
                u.query_pairs_mut().extend_pairs(params);
                Redirect::to(u.as_str()).into_response()
            }
            Err(_) => error_page(lang, &OAuthError::invalid_request("redirect_uri is malformed")),
        },
    }
}

pub fn error_page(lang: Lang, e: &OAuthError) -> Response {
    page::html(StatusCode::BAD_REQUEST, pages::error(lang, e))
}

pub fn unavailable(lang: Lang) -> Response {
    let mut r = page::html(StatusCode::SERVICE_UNAVAILABLE, pages::unavailable(lang));
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::web::error::RETRY_AFTER_SECS));
    r
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

async fn par_endpoint(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    let form = match form {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    match par::push(&p, &headers, &form).await {
        Ok(body) => no_store((StatusCode::CREATED, Json(body)).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn token_endpoint(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    let form = match form {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    match token::token(&p, &headers, &form).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn userinfo_get(State(p): State<Provider>, headers: HeaderMap) -> Response {
    userinfo(p, headers, None).await
}

async fn userinfo_post(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    // A bearer header with no form body is fine (OIDC Core §5.3.1).
    userinfo(p, headers, form.ok()).await
}

async fn userinfo(p: Provider, headers: HeaderMap, form: Option<Params>) -> Response {
    let Some(token) = resource::bearer(&headers, form.as_ref()) else {
        return OAuthError::new(super::error::ErrorCode::InvalidToken, "a bearer access token is required")
            .into_response();
    };
    match resource::userinfo(&p, &token).await {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn introspect(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    let form = match form {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    match resource::introspect(&p, &headers, &form).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn revoke(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    let form = match form {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    match resource::revoke(&p, &headers, &form).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => e.into_response(),
    }
}

async fn logout_endpoint(State(p): State<Provider>, headers: HeaderMap, WireParams(params): WireParams) -> Response {
    let params = match params {
        Ok(params) => params,
        Err(e) => return error_page(Lang::pick(None, &headers), &e),
    };
    let lang = Lang::pick(params.get("ui_locales").map(String::as_str), &headers);
    let current = session::from_headers(&p, &headers).await.ok().flatten();
    let next = logout::end_session(&p, &params, current).await;
    render_logout(&p, lang, next)
}

#[derive(Deserialize)]
struct ConfirmForm {
    token: String,
}

async fn logout_confirm(State(p): State<Provider>, headers: HeaderMap, Form(f): Form<ConfirmForm>) -> Response {
    let lang = Lang::pick(None, &headers);
    let current = session::from_headers(&p, &headers).await.ok().flatten();
    let next = logout::confirm(&p, &f.token, current).await;
    render_logout(&p, lang, next)
}

fn render_logout(p: &Provider, lang: Lang, next: LogoutNext) -> Response {
    let mut r = match next {
        LogoutNext::Redirect(u) => Redirect::to(&u).into_response(),
        LogoutNext::LoggedOut => page::html(StatusCode::OK, pages::logged_out(lang)),
        LogoutNext::Confirm { token } => return page::html(StatusCode::OK, pages::confirm_logout(lang, &token)),
        LogoutNext::ErrorPage(e) => return error_page(lang, &e),
    };
    session::set_cookie(p, session::COOKIE_NAME, None, 0, r.headers_mut());
    r
}

#[derive(Deserialize)]
struct TxQuery {
    tx: String,
    lang: Option<String>,
}

async fn login_page(State(p): State<Provider>, headers: HeaderMap, Query(q): Query<TxQuery>) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let tx = match flow::load_tx(&p, &q.tx).await {
        Ok(Some(tx)) => tx,
        Ok(None) => return expired(lang),
        Err(_) => return unavailable(lang),
    };
    let name = client_name(&p, &tx.request.client_id).await;
    let switch = page::switch_url(&format!("/login?tx={}", q.tx), lang);
    page::html(StatusCode::OK, pages::login_choice(lang, &tx.id, &name, &switch))
}

pub fn expired(lang: Lang) -> Response {
    page::html(
        StatusCode::BAD_REQUEST,
        pages::problem(
            lang,
            "Phiên đăng nhập đã hết hạn",
            "This login has expired",
            "Vui lòng quay lại dịch vụ và bắt đầu đăng nhập lại.",
            "Please go back to the service and start the login again.",
            None,
        ),
    )
}

async fn client_name(p: &Provider, client_id: &str) -> String {
    p.clients.get(client_id).await.ok().flatten().map(|c| c.name.clone()).unwrap_or_else(|| client_id.to_owned())
}

async fn consent_page(State(p): State<Provider>, headers: HeaderMap, Query(q): Query<TxQuery>) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tx, s) = match consent_context(&p, &headers, &q.tx).await {
        Ok(x) => x,
        Err(r) => return r(lang),
    };
    let person = match p.db.account(&s.account_id).await {
        Ok(Some(a)) => a.profile.get("name").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
        _ => return unavailable(lang),
    };
    let name = client_name(&p, &tx.request.client_id).await;
    let switch = page::switch_url(&format!("/consent?tx={}", q.tx), lang);
    page::html(StatusCode::OK, pages::consent(lang, &tx.id, &name, &tx.request.scopes, &person, &switch))
}

type PageFn = fn(Lang) -> Response;

/// The transaction, and the session it belongs to, which must be this browser's: the consent
/// decision can only come from the person who logged in.
async fn consent_context(
    p: &Provider,
    headers: &HeaderMap,
    tx_id: &str,
) -> Result<(flow::LoginTx, session::Session), PageFn> {
    let tx = match flow::load_tx(p, tx_id).await {
        Ok(Some(tx)) => tx,
        Ok(None) => return Err(expired),
        Err(_) => return Err(unavailable),
    };
    let s = match session::from_headers(p, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(expired),
        Err(_) => return Err(unavailable),
    };
    match &tx.session {
        Some(r) if r.sid == s.sid && r.account_id == s.account_id => Ok((tx, s)),
        _ => Err(expired),
    }
}

#[derive(Deserialize)]
struct ConsentForm {
    tx: String,
    decision: String,
}

async fn consent_post(State(p): State<Provider>, headers: HeaderMap, Form(f): Form<ConsentForm>) -> Response {
    let lang = Lang::pick(None, &headers);
    let (tx, s) = match consent_context(&p, &headers, &f.tx).await {
        Ok(x) => x,
        Err(r) => return r(lang),
    };
    let lang = Lang::pick(tx.request.ui_locales.as_deref(), &headers);
    if f.decision != "allow" {
        let _ = flow::drop_tx(&p, &tx.id).await;
        let e = OAuthError::new(
            super::error::ErrorCode::AccessDenied,
            "the user declined to share the requested information",
        );
        return render_next(lang, flow::error_to_client(&p, &tx.request, e));
    }
    render_next(lang, flow::consent_given(&p, tx, s).await)
}

async fn form_post_js() -> Response {
    let mut r = pages::FORM_POST_JS.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript"));
    r
}
