//! The provider's side of every login method: the browser binding, the choice page, abort, and
//! the helpers a method's HTTP face uses to begin, resume and finish a login, so that a method
//! only establishes who the user is.

use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::pages::{LoginPage, MethodButton, OrPage, PageError};
use super::render_next;
use crate::crypto::{random_token, sha256_hex};
use crate::oidc::error::OAuthError;
use crate::oidc::flow;
use crate::oidc::login::{Abort, Attempt, Authenticated};
use crate::oidc::provider::Provider;
use crate::oidc::session::{self, Session};
use crate::oidc::texts;
use crate::oidc::tx::{self, LoginTx, Origin};
use crate::web::page::{self, Frame, Lang};

/// Binds login transactions to the browser that started them: a random value per browser,
/// kept hashed in each transaction, so a method's callback URL carried to another browser
/// (login CSRF) goes nowhere. One value serves every tab, so parallel logins do not collide.
const BROWSER_COOKIE: &str = "xacthuc_browser";

/// The browser's binding cookie, made if it has none; `Some(value)` must be (re)set.
pub fn browser(p: &Provider, headers: &HeaderMap) -> (String, String) {
    match session::cookie(p, headers, BROWSER_COOKIE).filter(|v| v.len() == 43) {
        Some(v) => (sha256_hex(v), v.to_owned()),
        None => {
            let v = random_token();
            (sha256_hex(&v), v)
        }
    }
}

pub fn set_browser_cookie(p: &Provider, value: &str, r: &mut Response) {
    session::set_cookie(p, BROWSER_COOKIE, Some(value), p.tx_ttl.as_secs() as i64, r.headers_mut());
}

/// Where a request comes from: the browser binding and the client address (from the
/// forwarded-for header when the peer is a trusted proxy, else the peer).
pub struct RequestOrigin {
    pub origin: Origin,
    pub cookie: String,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestOrigin
where
    Provider: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p = Provider::from_ref(state);
        let (browser, cookie) = browser(&p, &parts.headers);
        let ip = p.client_address.resolve(&parts.extensions, &parts.headers);
        Ok(Self { origin: Origin { browser, ip }, cookie })
    }
}

/// The SSO session named by the request's cookie, if alive and its account still served (a
/// session of a suspended account is ended here, and the request goes on without it).
pub struct CurrentSession(pub Option<Session>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentSession
where
    Provider: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p = Provider::from_ref(state);
        let lang = Lang::pick(None, &parts.headers);
        let Some(s) = session::from_headers(&p, &parts.headers).await.or_page(lang)? else {
            return Ok(CurrentSession(None));
        };
        if p.account_active(&s.account_id).await.or_page(lang)? {
            return Ok(CurrentSession(Some(s)));
        }
        crate::oidc::logout::logout_session(&p, s).await;
        Ok(CurrentSession(None))
    }
}

/// A page's form: a malformed or incomplete one gets an error page, not a bare 4xx.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = Lang::pick(None, req.headers());
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(_) => Err(PageError::Invalid(lang, OAuthError::invalid_request("the form is malformed or incomplete"))),
        }
    }
}

fn language(tx: &LoginTx, headers: &HeaderMap) -> Lang {
    tx.lang.unwrap_or_else(|| Lang::pick(tx.request.ui_locales.as_deref(), headers))
}

/// As [`resume`], for a page whose language link (`?lang=`) was followed: the choice is kept
/// in the transaction, so every later page of this login speaks it.
pub(super) async fn resume_choosing(
    p: &Provider,
    headers: &HeaderMap,
    q: &TxQuery,
) -> Result<(LoginTx, Lang), PageError> {
    let (mut tx, lang) = resume(p, headers, &q.tx).await?;
    let Some(chosen) = q.lang.as_deref().map(|l| Lang::pick(Some(l), &HeaderMap::new())) else { return Ok((tx, lang)) };
    if chosen != lang {
        tx.lang = Some(chosen);
        save(p, &tx, chosen).await?;
    }
    Ok((tx, chosen))
}

/// The transaction, which must be alive and this browser's.
pub async fn resume(p: &Provider, headers: &HeaderMap, tx_id: &str) -> Result<(LoginTx, Lang), PageError> {
    let lang = Lang::pick(None, headers);
    let tx = tx::load(p, tx_id).await.or_page(lang)?.ok_or(PageError::Expired(lang))?;
    let presented = session::cookie(p, headers, BROWSER_COOKIE).map(sha256_hex).unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), tx.browser.as_bytes())) {
        tracing::warn!("login transaction used from a browser that did not start it");
        return Err(PageError::Expired(lang));
    }
    let lang = language(&tx, headers);
    Ok((tx, lang))
}

/// A method's start: the form must come from our own pages, the transaction must be this
/// browser's, and the method must be one that can meet the request's demand.
pub async fn begin(p: &Provider, headers: &HeaderMap, tx_id: &str, method: &str) -> Result<(LoginTx, Lang), PageError> {
    let lang = Lang::pick(None, headers);
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "cross-site") {
        return Err(PageError::Expired(lang));
    }
    let (tx, lang) = resume(p, headers, tx_id).await?;
    if !p.methods.get(method).is_some_and(|m| m.can_meet(&tx.requirement)) {
        return Err(PageError::Invalid(lang, OAuthError::invalid_request("this login method cannot be used here")));
    }
    Ok((tx, lang))
}

/// Saves the transaction with the method's state in it.
pub async fn save(p: &Provider, tx: &LoginTx, lang: Lang) -> Result<(), PageError> {
    tx::save(p, tx).await.map_err(|e| match e {
        tx::TxError::TooMany => PageError::TooMany(lang),
        _ => PageError::Unavailable(lang),
    })
}

/// The method established who the user is: the provider checks it against the demand, starts
/// the session, asks for consent or sends the code, and tells the observers.
pub async fn finish(p: &Provider, headers: &HeaderMap, tx: LoginTx, who: Authenticated) -> Response {
    let lang = language(&tx, headers);
    let (client_id, ip) = (tx.request.client_id.clone(), tx.ip);
    let old = session::from_headers(p, headers).await.ok().flatten();
    let (next, new_session) = flow::complete_login(p, tx, &who, old).await;
    let attempt = Attempt { client_id: &client_id, ip };
    match &new_session {
        Some(_) => p.methods.succeeded(&who, attempt),
        None => p.methods.failed(who.method, attempt, "refused"),
    }
    let mut r = render_next(lang, next);
    if let Some(value) = new_session.and_then(|s| s.cookie_value()) {
        session::set_cookie(p, session::COOKIE_NAME, Some(&value), p.session_ttl.as_secs() as i64, r.headers_mut());
    }
    r
}

/// A method failed; the transaction stays so the user may retry or go back (abort).
pub fn failed(p: &Provider, tx: &LoginTx, method: &'static str, why: Abort) {
    p.methods.failed(method, tx.attempt(), why.as_str());
}

#[derive(Deserialize)]
pub(super) struct TxQuery {
    #[serde(default)]
    tx: String,
    lang: Option<String>,
}

/// The login choice: the registered methods that can meet the request's demand.
pub(super) async fn choice(
    State(p): State<Provider>,
    headers: HeaderMap,
    Query(q): Query<TxQuery>,
) -> Result<Response, PageError> {
    let (tx, lang) = resume_choosing(&p, &headers, &q).await?;
    let t = texts::of(lang);
    let client = super::client_name(&p, &tx.request.client_id).await;
    let methods = p
        .methods
        .offered(&tx.requirement)
        .map(|m| MethodButton { id: m.id, start: m.start, name: m.name.get(lang), hint: m.hint.map(|h| h.get(lang)) })
        .collect();
    let frame = Frame::new(lang, t.login_title).switchable(&format!("/login?tx={}", tx.id));
    Ok(page::render(StatusCode::OK, &LoginPage { frame, t, tx: &tx.id, client: &client, methods }))
}

#[derive(Deserialize)]
pub(super) struct AbortForm {
    tx: String,
    #[serde(default)]
    reason: String,
}

/// Abandons the login: the service gets the OAuth error for the reason given.
pub(super) async fn abort(
    State(p): State<Provider>,
    headers: HeaderMap,
    PageForm(f): PageForm<AbortForm>,
) -> Result<Response, PageError> {
    let (tx, lang) = resume(&p, &headers, &f.tx).await?;
    let why = match f.reason.as_str() {
        "temporarily_unavailable" => Abort::TemporarilyUnavailable,
        "server_error" => Abort::ServerError,
        _ => Abort::AccessDenied,
    };
    Ok(render_next(lang, flow::abort(&p, &tx, why).await))
}
