//! `/officer/security`: an officer's own second factors. Needs an SSO session from an officer
//! login with a second factor; every change is a form carrying the session's CSRF token and
//! coming from our own pages. Ceremony state (a WebAuthn registration, a TOTP secret being
//! re-enrolled) waits in the session store under the session, never in memory.

use serde_json::json;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

use super::OfficerOrPage;
use super::pages::{self, KeyRow, SecurityPage, fmt_time};
use crate::audit::Action;
use crate::clock::unix_now;
use crate::officers::Officer;
use crate::officers::auth::{OfficerAuth, texts, totp, webauthn};
use crate::oidc::routes::account::check_form;
use crate::oidc::routes::login::{CurrentSession, PageForm};
use crate::oidc::routes::pages::{OrPage, PageError};
use crate::oidc::session::Session;
use crate::web::page::{self, Frame, Lang};

const CEREMONY_TTL: Duration = Duration::from_secs(600);

pub fn router() -> Router<OfficerAuth> {
    Router::new()
        .route("/officer/security", get(show))
        .route("/officer/security/passkeys/add", post(add_key))
        .route("/officer/security/passkeys/rename", post(rename_key))
        .route("/officer/security/passkeys/remove", post(remove_key))
        .route("/officer/security/totp", post(reenrol))
        .route("/officer/security/totp/confirm", post(confirm_totp))
        .route("/officer/security/recovery-codes", post(new_codes))
}

fn reg_key(s: &Session) -> String {
    format!("owa:reg:{}", s.sid)
}

fn totp_key(s: &Session) -> String {
    format!("ototp:pending:{}", s.sid)
}

/// The session's officer; the session must come from an officer login (a password at least:
/// where a second factor is optional, this is where the officer adds one).
async fn officer(a: &OfficerAuth, s: Option<Session>, lang: Lang) -> Result<(Session, Officer), PageError> {
    let s = s.filter(|s| s.amr.iter().any(|m| m == "pwd")).ok_or(PageError::NotLoggedIn(lang))?;
    let o = a.oidc.db.officer(&s.account_id).await.or_page(lang)?.ok_or(PageError::NotLoggedIn(lang))?;
    Ok((s, o))
}

/// The officer behind a state-changing form of this page: an officer session, a form from our
/// own pages, and the session's anti-CSRF token.
async fn officer_form(
    a: &OfficerAuth,
    headers: &HeaderMap,
    s: Option<Session>,
    csrf: &str,
    lang: Lang,
) -> Result<(Session, Officer), PageError> {
    let (s, o) = officer(a, s, lang).await?;
    check_form(headers, &s, csrf, lang)?;
    Ok((s, o))
}

fn back() -> Response {
    Redirect::to("/officer/security").into_response()
}

async fn show(
    State(a): State<OfficerAuth>,
    lang: Lang,
    CurrentSession(s): CurrentSession,
) -> Result<Response, PageError> {
    let (s, o) = officer(&a, s, lang).await?;
    let db = &a.oidc.db;
    let creds = db.webauthn_credentials(&o.id).await.or_page(lang)?;
    let mut options = None;
    if let Some(w) = a.webauthn.as_ref().filter(|_| creds.len() < webauthn::MAX_CREDENTIALS) {
        let exclude = db.passkeys(&o.id).await.or_page(lang)?.iter().map(|p| p.cred_id().clone()).collect();
        let user = Uuid::parse_str(&o.id).unwrap_or_else(|_| Uuid::new_v4());
        let (challenge, state) = w
            .start_passkey_registration(user, &o.username, &o.full_name, Some(exclude))
            .map_err(|_| PageError::Unavailable(lang))?;
        let doc = serde_json::to_vec(&state).map_err(|_| PageError::Unavailable(lang))?;
        a.oidc.kv.set(&reg_key(&s), &doc, CEREMONY_TTL).await.or_page(lang)?;
        options = Some(serde_json::to_string(&challenge).map_err(|_| PageError::Unavailable(lang))?);
    }
    let keys = creds
        .into_iter()
        .map(|c| KeyRow {
            id: c.id,
            name: c.name,
            added: fmt_time(Some(c.created_at)),
            last_used: fmt_time(c.last_used_at),
        })
        .collect();
    let t = texts::of(lang);
    let page = SecurityPage {
        frame: Frame::new(lang, t.security_title).switchable("/officer/security"),
        t,
        name: &o.full_name,
        csrf: s.csrf_token(),
        keys,
        webauthn: options,
        totp: db.totp_secret(&o.id).await.or_page(lang)?.is_some(),
        codes_left: db.recovery_codes_left(&o.id).await.or_page(lang)?,
    };
    Ok(page::render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    credential: String,
}

async fn add_key(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<AddForm>,
) -> Result<Response, PageError> {
    let (s, o) = officer_form(&a, &headers, s, &f.csrf, lang).await?;
    let state = a.oidc.kv.take(&reg_key(&s)).await.or_page(lang)?;
    if a.oidc.db.webauthn_credentials(&o.id).await.or_page(lang)?.len() >= webauthn::MAX_CREDENTIALS {
        return Ok(pages::security_message(StatusCode::BAD_REQUEST, lang, |t| t.key_failed));
    }
    let state = state.and_then(|b| serde_json::from_slice::<PasskeyRegistration>(&b).ok());
    let cred = serde_json::from_str::<RegisterPublicKeyCredential>(&f.credential).ok();
    let passkey = match (&a.webauthn, state, cred) {
        (Some(w), Some(state), Some(cred)) => w.finish_passkey_registration(&cred, &state).ok(),
        _ => None,
    };
    let Some(passkey) = passkey else {
        return Ok(pages::security_message(StatusCode::BAD_REQUEST, lang, |t| t.key_failed));
    };
    a.oidc.db.add_webauthn(&o.id, &webauthn::credential_name(&f.name), &passkey, unix_now()).await.or_page(lang)?;
    a.audit_officer(Action::MfaEnrolled, &o.id, json!({ "factor": "webauthn" })).await;
    Ok(back())
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

async fn rename_key(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<KeyForm>,
) -> Result<Response, PageError> {
    let (_, o) = officer_form(&a, &headers, s, &f.csrf, lang).await?;
    // Scoped to the officer's own credentials: another officer's id matches nothing.
    let _ = a.oidc.db.rename_webauthn(&o.id, &f.id, &webauthn::credential_name(&f.name)).await;
    Ok(back())
}

async fn remove_key(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<KeyForm>,
) -> Result<Response, PageError> {
    let (_, o) = officer_form(&a, &headers, s, &f.csrf, lang).await?;
    if a.oidc.db.remove_webauthn(&o.id, &f.id).await.is_ok() {
        a.audit_officer(Action::MfaRemoved, &o.id, json!({ "factor": "webauthn", "credential": f.id })).await;
    }
    Ok(back())
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// A new TOTP secret, active only once a code from it is typed; the old one works until then.
async fn reenrol(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let (s, o) = officer_form(&a, &headers, s, &f.csrf, lang).await?;
    let secret = totp::new_secret();
    let sealed = totp::seal(&a.oidc.keys, &o.id, &secret).or_page(lang)?;
    a.oidc.kv.set(&totp_key(&s), sealed.as_bytes(), CEREMONY_TTL).await.or_page(lang)?;
    let hidden = vec![("csrf", f.csrf.clone())];
    Ok(super::enrol_page(lang, &secret, &o.username, "/officer/security/totp/confirm", hidden, None))
}

async fn confirm_totp(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let (s, o) = officer_form(&a, &headers, s, &f.csrf, lang).await?;
    let sealed = a.oidc.kv.get(&totp_key(&s)).await.or_page(lang)?.and_then(|b| String::from_utf8(b).ok());
    let Some(sealed) = sealed else { return Err(PageError::Expired(lang)) };
    let secret = totp::open(&a.oidc.keys, &o.id, &sealed).or_page(lang)?;
    let now = unix_now();
    let Some(step) = totp::matching_step(&secret, &f.code, now) else {
        let hidden = vec![("csrf", f.csrf.clone())];
        let t = texts::of(lang);
        return Ok(super::enrol_page(
            lang,
            &secret,
            &o.username,
            "/officer/security/totp/confirm",
            hidden,
            Some(t.bad_code),
        ));
    };
    a.oidc.db.activate_totp(&o.id, &sealed, step, now).await.or_page(lang)?;
    a.audit_officer(Action::MfaEnrolled, &o.id, json!({ "factor": "totp" })).await;
    a.oidc.kv.delete(&totp_key(&s)).await.or_page(lang)?;
    Ok(back())
}

/// New recovery codes replace the old ones and are shown once.
async fn new_codes(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    lang: Lang,
    CurrentSession(s): CurrentSession,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let (_, o) = officer_form(&a, &headers, s, &f.csrf, lang).await?;
    let codes = totp::new_recovery_codes();
    a.oidc.db.replace_recovery_codes(&o.id, &codes).await.or_page(lang)?;
    a.audit_officer(Action::MfaRecoveryCodesRenewed, &o.id, json!({ "count": codes.len() })).await;
    Ok(super::codes_page(lang, &codes, "get", "/officer/security", Vec::new()))
}
