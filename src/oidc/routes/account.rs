//! The account page: the services the user consented to (with withdrawal, Law 91/2025/QH15)
//! and their active sessions (with log-out). Needs a live SSO session; its forms carry a token
//! tied to the session and must come from our own pages.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::login::{CurrentSession, PageForm};
use super::pages::{self, OrPage, PageError};
use crate::clock::unix_now;
use crate::oidc::provider::Provider;
use crate::oidc::session::{self, Session};
use crate::oidc::texts::{self, Texts};
use crate::web::page::{self, Frame, Lang, fmt_time};

pub fn router() -> Router<Provider> {
    Router::new()
        .route("/account", get(show))
        .route("/account/consents/revoke", post(revoke_consent))
        .route("/account/sessions/end", post(end_session))
}

#[derive(Template)]
#[template(path = "oidc/account.html")]
struct AccountPage<'a> {
    frame: Frame,
    t: &'static Texts,
    name: &'a str,
    /// The person who logged in for this account (an organisation's legal representative).
    acting: Option<String>,
    csrf: String,
    consents: Vec<ConsentRow>,
    sessions: Vec<SessionRow>,
}

struct ConsentRow {
    id: String,
    service: String,
    scopes: String,
    when: String,
}

struct SessionRow {
    sid: String,
    when: String,
    services: String,
    this: bool,
}

fn logged_in(s: Option<Session>, lang: Lang) -> Result<Session, PageError> {
    s.ok_or(PageError::NotLoggedIn(lang))
}

async fn show(State(p): State<Provider>, lang: Lang, CurrentSession(s): CurrentSession) -> Result<Response, PageError> {
    let s = logged_in(s, lang)?;
    let account = p.db.account(&s.account_id).await.or_page(lang)?.ok_or(PageError::NotLoggedIn(lang))?;
    let mut consents = Vec::new();
    for c in p.db.consents(&s.account_id).await.or_page(lang)? {
        let service = p.clients.get(&c.client_id).await.ok().flatten().map(|k| k.name.clone()).unwrap_or(c.client_id);
        consents.push(ConsentRow { id: c.id, service, scopes: c.scopes.join(", "), when: fmt_time(c.granted_at) });
    }
    let sessions = session::list(&p, &s.account_id)
        .await
        .or_page(lang)?
        .into_iter()
        .map(|o| SessionRow {
            this: o.sid == s.sid,
            when: fmt_time(o.auth_time),
            services: o.clients.join(", "),
            sid: o.sid,
        })
        .collect();
    let t = texts::of(lang);
    let name = account.profile.get("name").and_then(|v| v.as_str()).unwrap_or_default();
    let acting = match account.profile.get(crate::oidc::claims::ACTOR_KEY).and_then(|v| v.as_str()) {
        Some(actor) => {
            p.db.account(actor).await.or_page(lang)?.and_then(|a| a.profile.get("name")?.as_str().map(str::to_owned))
        }
        None => None,
    };
    let frame = Frame::new(lang, t.account_title).switchable("/account");
    let csrf = s.csrf_token();
    Ok(page::render(StatusCode::OK, &AccountPage { frame, t, name, acting, csrf, consents, sessions }))
}

/// A state-changing form of the account page: a live session, a form from our own pages
/// (Sec-Fetch-Site when the browser sends it) and the session's token.
pub(crate) fn check_form(headers: &HeaderMap, s: &Session, csrf: &str, lang: Lang) -> Result<(), PageError> {
    let cross_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v != "same-origin");
    let token_ok: bool = subtle::ConstantTimeEq::ct_eq(csrf.as_bytes(), s.csrf_token().as_bytes()).into();
    if cross_site || !token_ok {
        tracing::warn!("account form refused: not from this session's page");
        return Err(PageError::Expired(lang));
    }
    Ok(())
}

#[derive(Deserialize)]
struct ConsentForm {
    id: String,
    #[serde(default)]
    csrf: String,
}

async fn revoke_consent(
    State(p): State<Provider>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<ConsentForm>,
) -> Result<Response, PageError> {
    let s = logged_in(s, lang)?;
    check_form(&headers, &s, &f.csrf, lang)?;
    // Scoped to the session's own account: one cannot withdraw another person's consent.
    p.db.revoke_consent(&s.account_id, &f.id, unix_now()).await.or_page(lang)?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
struct SessionForm {
    sid: String,
    #[serde(default)]
    csrf: String,
}

async fn end_session(
    State(p): State<Provider>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<SessionForm>,
) -> Result<Response, PageError> {
    let s = logged_in(s, lang)?;
    check_form(&headers, &s, &f.csrf, lang)?;
    let target =
        session::find_by_sid(&p, &s.account_id, &f.sid).await.or_page(lang)?.ok_or(PageError::Expired(lang))?;
    crate::oidc::logout::logout_session(&p, target).await;
    if f.sid != s.sid {
        return Ok(Redirect::to("/account").into_response());
    }
    let mut r = pages::logged_out(lang);
    session::set_cookie(&p, session::COOKIE_NAME, None, 0, r.headers_mut());
    Ok(r)
}
