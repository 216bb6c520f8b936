//! The officer login's HTTP face: the login steps (password, then a second factor, or a first
//! TOTP enrolment), the set-up link page, the officer's security page, and the WebAuthn script.
//! Everything is decided in `officers::auth`; these handlers parse, call and render. The
//! per-login state lives in the login transaction, so any instance can serve any step.

mod pages;
mod security;
mod setup;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

use self::pages::{EnrolPage, PasswordPage, SecondPage};
use super::auth::texts;
use super::auth::{Factor, METHOD, OfficerAuth, lockout, totp};
use super::{DirectoryError, Officer};
use crate::audit::{Action, Actor, Event};
use crate::clock::unix_now;
use crate::oidc::login::Authenticated;
use crate::oidc::routes::login::{self as op, PageForm, RequestOrigin};
use crate::oidc::routes::pages::{OrPage, PageError};
use crate::oidc::tx::LoginTx;
use crate::web::page::{self, Frame, Lang};

pub fn router(auth: OfficerAuth) -> Router {
    Router::new()
        .route(super::auth::START, post(start))
        .route("/login/officer/password", post(password))
        .route("/login/officer/otp", post(otp))
        .route("/login/officer/webauthn", post(webauthn))
        .route("/login/officer/enrol", post(enrol))
        .route("/login/officer/done", post(done))
        .route("/assets/officer-webauthn.js", get(script))
        .merge(setup::router())
        .merge(security::router())
        .with_state(auth)
}

/// The provider's extractors (session, request origin) find the provider inside.
impl axum::extract::FromRef<OfficerAuth> for crate::oidc::Provider {
    fn from_ref(a: &OfficerAuth) -> Self {
        a.oidc.clone()
    }
}

/// `or_page` for the officer stores' errors. A trait of this module's own (not the provider's
/// `OrPage`), so no other feature's impl for the same error type can collide with it.
pub(super) trait OfficerOrPage<T> {
    fn or_page(self, lang: Lang) -> Result<T, PageError>;
}

impl<T> OfficerOrPage<T> for Result<T, DirectoryError> {
    fn or_page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| {
            tracing::error!(error = %e, "officer store call failed");
            PageError::Unavailable(lang)
        })
    }
}

impl<T> OfficerOrPage<T> for Result<T, super::auth::password::HashError> {
    fn or_page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            PageError::Unavailable(lang)
        })
    }
}

/// What this method keeps in the login transaction between steps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Step {
    /// The username as typed (the lockout counters' key).
    #[serde(default)]
    username: String,
    /// Set once the password was right.
    #[serde(default)]
    officer_id: Option<String>,
    /// A TOTP secret being enrolled (sealed), until the officer proves it with a code.
    #[serde(default)]
    pending_totp: Option<String>,
    /// The WebAuthn challenge, and the options the page passes to the browser.
    #[serde(default)]
    passkey: Option<(PasskeyAuthentication, String)>,
    /// Enrolment proved and recovery codes shown: the login may finish.
    #[serde(default)]
    enrolled: bool,
}

#[derive(Deserialize)]
struct TxForm {
    #[serde(default)]
    tx: String,
}

async fn script() -> Response {
    let mut r = include_str!("../../templates/officers/webauthn.js").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

fn step_of(tx: &LoginTx, lang: Lang) -> Result<Step, PageError> {
    tx.method_state::<Step>(METHOD).ok_or(PageError::Expired(lang))
}

async fn save(a: &OfficerAuth, tx: &mut LoginTx, step: &Step, lang: Lang) -> Result<(), PageError> {
    tx.set_method_state(METHOD, step).or_page(lang)?;
    op::save(&a.oidc, tx, lang).await
}

fn password_page(status: StatusCode, lang: Lang, tx: &str, username: &str, error: Option<&'static str>) -> Response {
    let t = texts::of(lang);
    let frame = Frame::new(lang, t.login_title);
    page::render(status, &PasswordPage { frame, t, tx, username, error })
}

/// The method's button on the choice page: the username and password form.
async fn start(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    PageForm(f): PageForm<TxForm>,
) -> Result<Response, PageError> {
    let (mut tx, lang) = op::begin(&a.oidc, &headers, &f.tx, METHOD).await?;
    save(&a, &mut tx, &Step::default(), lang).await?;
    Ok(password_page(StatusCode::OK, lang, &tx.id, "", None))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn may_log_in(a: &OfficerAuth, o: &Officer) -> Result<bool, DirectoryError> {
    super::auth::may_log_in(&a.oidc.db, a.mode, o).await
}

/// Counts a failure, waits the progressive delay, and answers.
async fn refuse(a: &OfficerAuth, from: &RequestOrigin, username: &str, lang: Lang) -> Result<(), PageError> {
    let wait = lockout::failed(&a.oidc.kv, &a.lockout, username, from.origin.ip).await.or_page(lang)?;
    if locked(a, from, username, lang).await? {
        // The failure that engaged the lock (later ones are refused before counting).
        let mut e = Event::new(Action::LoginLocked).actor(Actor::Anonymous).detail(json!({ "username": username }));
        if let Some(ip) = from.origin.ip {
            e = e.ip(ip);
        }
        let _ = a.audit.record(e).await;
    }
    tokio::time::sleep(wait).await;
    Ok(())
}

async fn locked(a: &OfficerAuth, from: &RequestOrigin, username: &str, lang: Lang) -> Result<bool, PageError> {
    Ok(lockout::gate(&a.oidc.kv, username, from.origin.ip).await.or_page(lang)? == lockout::Gate::Locked)
}

fn locked_page(lang: Lang) -> Response {
    let mut r = pages::message(StatusCode::TOO_MANY_REQUESTS, lang, |t| t.login_title, |t| t.locked);
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(60));
    r
}

/// Username and password. Whether the username exists changes neither the answer nor its
/// cost: an unknown one is verified against a dummy hash and counted alike.
async fn password(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    from: RequestOrigin,
    PageForm(f): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let (mut tx, lang) = op::resume(&a.oidc, &headers, &f.tx).await?;
    step_of(&tx, lang)?;
    let username = f.username.trim().to_lowercase();
    if username.len() > 64 || f.password.len() > 1024 {
        return Ok(password_page(StatusCode::OK, lang, &tx.id, "", Some(texts::of(lang).bad_credentials)));
    }
    if locked(&a, &from, &username, lang).await? {
        return Ok(locked_page(lang));
    }
    let officer = a.oidc.db.officer_by_username(&username).await.or_page(lang)?;
    let stored = match &officer {
        Some(o) => a.oidc.db.officer_password_hash(&o.id).await.or_page(lang)?,
        None => None,
    };
    let verified = a.hasher.verify(&f.password, stored.as_deref()).await.or_page(lang)?;
    let Some(officer) = officer.filter(|_| verified.ok) else {
        refuse(&a, &from, &username, lang).await?;
        op::failed(&a.oidc, &tx, METHOD, crate::oidc::login::Abort::AccessDenied);
        return Ok(password_page(StatusCode::OK, lang, &tx.id, &username, Some(texts::of(lang).bad_credentials)));
    };
    if verified.rehash {
        // The parameters changed since this hash was made: store one with the current ones.
        let fresh = a.hasher.hash(&f.password).await.or_page(lang)?;
        a.oidc.db.set_officer_password_hash(&officer.id, &fresh, unix_now()).await.or_page(lang)?;
    }
    if !may_log_in(&a, &officer).await.or_page(lang)? {
        return Ok(pages::message(StatusCode::FORBIDDEN, lang, |t| t.login_title, |t| t.not_active));
    }
    lockout::succeeded(&a.oidc.kv, &username).await.or_page(lang)?;
    let mut step = Step { username, officer_id: Some(officer.id.clone()), ..Step::default() };
    let has_totp = a.oidc.db.totp_secret(&officer.id).await.or_page(lang)?.is_some();
    let keys = a.oidc.db.passkeys(&officer.id).await.or_page(lang)?;
    let demands_a_factor = tx.requirement.min_strength(crate::oidc::acr::Party::Officer) != Some(0);
    if !has_totp && keys.is_empty() && !a.second_factor_required && !demands_a_factor {
        save(&a, &mut tx, &step, lang).await?;
        return Ok(finish(&a, &headers, tx, &officer, Factor::Password).await);
    }
    if !has_totp && keys.is_empty() {
        // No second factor yet: enrol TOTP now, inside this login.
        let secret = totp::new_secret();
        step.pending_totp = Some(totp::seal(&a.oidc.keys, &officer.id, &secret).or_page(lang)?);
        save(&a, &mut tx, &step, lang).await?;
        return Ok(enrol_page(
            lang,
            &secret,
            &officer.username,
            "/login/officer/enrol",
            vec![("tx", tx.id.clone())],
            None,
        ));
    }
    if let Some(w) = a.webauthn.as_ref().filter(|_| !keys.is_empty()) {
        let (challenge, state) = w.start_passkey_authentication(&keys).map_err(|_| PageError::Unavailable(lang))?;
        let options = serde_json::to_string(&challenge).map_err(|_| PageError::Unavailable(lang))?;
        step.passkey = Some((state, options));
    }
    save(&a, &mut tx, &step, lang).await?;
    Ok(second_page(StatusCode::OK, lang, &tx.id, has_totp, &step, None))
}

fn second_page(
    status: StatusCode,
    lang: Lang,
    tx: &str,
    totp: bool,
    step: &Step,
    error: Option<&'static str>,
) -> Response {
    let t = texts::of(lang);
    let webauthn = step.passkey.as_ref().map(|(_, o)| o.as_str());
    // Recovery codes are typed in the code field, so it is offered even without TOTP.
    let totp = totp || step.officer_id.is_some();
    page::render(status, &SecondPage { frame: Frame::new(lang, t.second_title), t, tx, totp, webauthn, error })
}

pub(super) fn enrol_page(
    lang: Lang,
    secret: &[u8],
    label: &str,
    action: &str,
    hidden: Vec<(&'static str, String)>,
    error: Option<&'static str>,
) -> Response {
    let t = texts::of(lang);
    let qr = totp::qr_data_uri(secret, label).unwrap_or_default();
    let b32 = totp::base32(secret);
    let frame = Frame::new(lang, t.enrol_title);
    page::render(StatusCode::OK, &EnrolPage { frame, t, qr: &qr, secret: &b32, action, hidden, error })
}

/// The step's officer, who must still be allowed in (suspended mid-login, for instance).
async fn officer_of(a: &OfficerAuth, step: &Step, lang: Lang) -> Result<Officer, PageError> {
    let id = step.officer_id.as_deref().ok_or(PageError::Expired(lang))?;
    let o = a.oidc.db.officer(id).await.or_page(lang)?.ok_or(PageError::Expired(lang))?;
    if !may_log_in(a, &o).await.or_page(lang)? {
        return Err(PageError::Invalid(
            lang,
            crate::oidc::error::OAuthError::invalid_request("the account cannot log in"),
        ));
    }
    Ok(o)
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    code: String,
}

/// A TOTP code (each time step accepted once) or a recovery code (each once).
async fn otp(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    from: RequestOrigin,
    PageForm(f): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    let (tx, lang) = op::resume(&a.oidc, &headers, &f.tx).await?;
    let step = step_of(&tx, lang)?;
    let officer = officer_of(&a, &step, lang).await?;
    if locked(&a, &from, &step.username, lang).await? {
        return Ok(locked_page(lang));
    }
    let now = unix_now();
    let sealed = a.oidc.db.totp_secret(&officer.id).await.or_page(lang)?;
    let mut factor = None;
    if let Some(sealed) = &sealed {
        let secret = totp::open(&a.oidc.keys, &officer.id, sealed).or_page(lang)?;
        if let Some(s) = totp::matching_step(&secret, &f.code, now)
            && a.oidc.db.consume_totp_step(&officer.id, s).await.or_page(lang)?
        {
            factor = Some(Factor::Otp);
        }
    }
    if factor.is_none()
        && f.code.len() <= 32
        && a.oidc.db.use_recovery_code(&officer.id, &f.code, now).await.or_page(lang)?
    {
        factor = Some(Factor::Recovery);
    }
    match factor {
        Some(factor) => Ok(finish(&a, &headers, tx, &officer, factor).await),
        None => {
            refuse(&a, &from, &step.username, lang).await?;
            let t = texts::of(lang);
            Ok(second_page(StatusCode::OK, lang, &tx.id, sealed.is_some(), &step, Some(t.bad_code)))
        }
    }
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    credential: String,
}

/// The browser's WebAuthn assertion for the challenge kept in the transaction.
async fn webauthn(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    from: RequestOrigin,
    PageForm(f): PageForm<KeyForm>,
) -> Result<Response, PageError> {
    let (tx, lang) = op::resume(&a.oidc, &headers, &f.tx).await?;
    let step = step_of(&tx, lang)?;
    let officer = officer_of(&a, &step, lang).await?;
    if locked(&a, &from, &step.username, lang).await? {
        return Ok(locked_page(lang));
    }
    let (Some(w), Some((state, _))) = (&a.webauthn, &step.passkey) else { return Err(PageError::Expired(lang)) };
    let verified = serde_json::from_str::<PublicKeyCredential>(&f.credential)
        .ok()
        .and_then(|cred| w.finish_passkey_authentication(&cred, state).ok());
    let Some(result) = verified else {
        refuse(&a, &from, &step.username, lang).await?;
        let has_totp = a.oidc.db.totp_secret(&officer.id).await.or_page(lang)?.is_some();
        return Ok(second_page(StatusCode::OK, lang, &tx.id, has_totp, &step, Some(texts::of(lang).key_failed)));
    };
    // Keep the signature counter and the last use.
    for mut pk in a.oidc.db.passkeys(&officer.id).await.or_page(lang)? {
        if pk.update_credential(&result).is_some() {
            a.oidc.db.webauthn_used(&officer.id, &pk, unix_now()).await.or_page(lang)?;
        }
    }
    Ok(finish(&a, &headers, tx, &officer, Factor::WebAuthn).await)
}

/// The first TOTP code proves the enrolment; then the recovery codes are shown once.
async fn enrol(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    PageForm(f): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    let (mut tx, lang) = op::resume(&a.oidc, &headers, &f.tx).await?;
    let mut step = step_of(&tx, lang)?;
    let officer = officer_of(&a, &step, lang).await?;
    let sealed = step.pending_totp.clone().ok_or(PageError::Expired(lang))?;
    let secret = totp::open(&a.oidc.keys, &officer.id, &sealed).or_page(lang)?;
    let now = unix_now();
    let Some(s) = totp::matching_step(&secret, &f.code, now) else {
        let hidden = vec![("tx", tx.id.clone())];
        let t = texts::of(lang);
        return Ok(enrol_page(lang, &secret, &officer.username, "/login/officer/enrol", hidden, Some(t.bad_code)));
    };
    a.oidc.db.activate_totp(&officer.id, &sealed, s, now).await.or_page(lang)?;
    let codes = totp::new_recovery_codes();
    a.oidc.db.replace_recovery_codes(&officer.id, &codes).await.or_page(lang)?;
    a.audit_officer(Action::MfaEnrolled, &officer.id, json!({ "factor": "totp", "during": "login" })).await;
    step.pending_totp = None;
    step.enrolled = true;
    save(&a, &mut tx, &step, lang).await?;
    Ok(codes_page(lang, &codes, "post", "/login/officer/done", vec![("tx", tx.id.clone())]))
}

pub(super) fn codes_page(
    lang: Lang,
    codes: &[String],
    method: &'static str,
    action: &str,
    hidden: Vec<(&'static str, String)>,
) -> Response {
    let t = texts::of(lang);
    let frame = Frame::new(lang, t.codes_title);
    page::render(StatusCode::OK, &pages::CodesPage { frame, t, codes, method, action, hidden })
}

/// After the recovery codes: the enrolment's code was the second factor.
async fn done(
    State(a): State<OfficerAuth>,
    headers: HeaderMap,
    PageForm(f): PageForm<TxForm>,
) -> Result<Response, PageError> {
    let (tx, lang) = op::resume(&a.oidc, &headers, &f.tx).await?;
    let step = step_of(&tx, lang)?;
    if !step.enrolled {
        return Err(PageError::Expired(lang));
    }
    let officer = officer_of(&a, &step, lang).await?;
    Ok(finish(&a, &headers, tx, &officer, Factor::Otp).await)
}

/// Hands the officer to the provider. The method state is emptied first, so no step can be
/// replayed on this transaction.
async fn finish(a: &OfficerAuth, headers: &HeaderMap, mut tx: LoginTx, officer: &Officer, factor: Factor) -> Response {
    let (acr, amr) = factor.acr_amr();
    if tx.set_method_state(METHOD, &Step::default()).is_err() {
        return crate::oidc::routes::pages::unavailable(Lang::pick(None, headers));
    }
    let who = Authenticated {
        method: METHOD,
        account_id: officer.id.clone(),
        acr,
        amr,
        auth_time: Some(unix_now()),
        actor: None,
        cert_thumbprint: None,
    };
    op::finish(&a.oidc, headers, tx, who).await
}
