//! `/officer/setup?token=…`: an officer sets a password from a one-time link. A link of
//! purpose Reset is also the second-factor recovery: it removes the officer's TOTP, recovery
//! codes and WebAuthn credentials, so the next login enrols a second factor again (an
//! administrator issued it, having checked who asked).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::OfficerOrPage;
use super::pages::{self, SetupPage};
use crate::audit::Action;
use crate::clock::unix_now;
use crate::officers::auth::{OfficerAuth, lockout, password, texts};
use crate::officers::setup::SetupPurpose;
use crate::oidc::routes::login::PageForm;
use crate::oidc::routes::pages::{OrPage, PageError};
use crate::web::page::{self, Frame, Lang};

pub fn router() -> Router<OfficerAuth> {
    Router::new().route("/officer/setup", get(show).post(submit))
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn invalid(lang: Lang) -> Response {
    pages::message(StatusCode::BAD_REQUEST, lang, |t| t.setup_title, |t| t.setup_invalid)
}

fn form(lang: Lang, token: &str, username: &str, reset: bool, error: Option<String>) -> Response {
    let t = texts::of(lang);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page::render(status, &SetupPage { frame: Frame::new(lang, t.setup_title), t, token, username, reset, error })
}

async fn show(State(a): State<OfficerAuth>, lang: Lang, Query(q): Query<TokenQuery>) -> Result<Response, PageError> {
    let Some((officer_id, purpose)) = a.oidc.db.peek_setup_link(&q.token, unix_now()).await.or_page(lang)? else {
        return Ok(invalid(lang));
    };
    let Some(officer) = a.oidc.db.officer(&officer_id).await.or_page(lang)? else { return Ok(invalid(lang)) };
    Ok(form(lang, &q.token, &officer.username, purpose == SetupPurpose::Reset, None))
}

#[derive(Deserialize)]
struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn submit(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    lang: Lang,
    PageForm(f): PageForm<SetupForm>,
) -> Result<Response, PageError> {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "cross-site") {
        return Err(PageError::Expired(lang));
    }
    let db = &a.oidc.db;
    let now = unix_now();
    let Some((officer_id, purpose)) = db.peek_setup_link(&f.token, now).await.or_page(lang)? else {
        return Ok(invalid(lang));
    };
    let Some(officer) = db.officer(&officer_id).await.or_page(lang)? else { return Ok(invalid(lang)) };
    let reset = purpose == SetupPurpose::Reset;
    if f.password != f.confirm {
        return Ok(form(lang, &f.token, &officer.username, reset, Some(texts::of(lang).mismatch.into())));
    }
    if let Some(why) = password::weakness(&f.password, &[&officer.username, &officer.full_name], lang) {
        return Ok(form(lang, &f.token, &officer.username, reset, Some(why)));
    }
    let hash = a.hasher.hash(&f.password).await.or_page(lang)?;
    // Used only now, atomically: of two submissions racing, one sets the password.
    if db.use_setup_link(&f.token, now).await.or_page(lang)?.is_none() {
        return Ok(invalid(lang));
    }
    db.set_officer_password_hash(&officer.id, &hash, now).await.or_page(lang)?;
    if reset {
        db.clear_totp(&officer.id).await.or_page(lang)?;
        for c in db.webauthn_credentials(&officer.id).await.or_page(lang)? {
            db.remove_webauthn(&officer.id, &c.id).await.or_page(lang)?;
        }
        lockout::unlock(&a.oidc.kv, &officer.username).await.or_page(lang)?;
        a.audit_officer(Action::MfaRemoved, &officer.id, json!({ "factor": "all", "reason": "reset link" })).await;
    }
    let purpose = if reset { "reset" } else { "initial" };
    a.audit_officer(Action::OfficerPasswordSet, &officer.id, json!({ "through": purpose })).await;
    Ok(pages::message(StatusCode::OK, lang, |t| t.setup_title, |t| t.setup_done))
}
