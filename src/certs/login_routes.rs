//! The certificate login's HTTP face: the challenge page and the submission of a certificate
//! and a signature. Plain forms: no script is needed, the officer's own signing tool signs the
//! text shown. Everything is decided in `certs::login`.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::login::{AMR, CertLogin, Challenge, METHOD, Presented, Proven, Refusal, START, decode_signature};
use crate::audit::{Action, Actor, Event};
use crate::clock::unix_now;
use crate::officers::acr::OFFICER_CERT;
use crate::officers::auth::lockout;
use crate::oidc::login::Authenticated;
use crate::oidc::routes::login::{self as op, PageForm, RequestOrigin};
use crate::oidc::routes::pages::PageError;
use crate::oidc::tx::LoginTx;
use crate::web::page::{self, Frame, Lang, Text};

pub const VERIFY: &str = "/login/cert/verify";

pub fn router(login: CertLogin) -> Router {
    Router::new().route(START, post(start)).route(VERIFY, post(verify)).with_state(login)
}

impl axum::extract::FromRef<CertLogin> for crate::oidc::Provider {
    fn from_ref(c: &CertLogin) -> Self {
        c.oidc.clone()
    }
}

/// The page's fixed texts.
pub struct Texts {
    pub title: Text,
    pub intro: Text,
    pub to_sign: Text,
    pub how: Text,
    pub certificate: Text,
    pub certificate_hint: Text,
    pub signature: Text,
    pub signature_hint: Text,
    pub submit: Text,
    pub expires: Text,
}

pub const TEXTS: Texts = Texts {
    title: Text::new("Đăng nhập bằng chứng thư số", "Log in with a digital-signature certificate"),
    intro: Text::new(
        "Dùng công cụ ký số hoặc thiết bị ký (token) của bạn để ký chính xác chuỗi dưới đây, rồi gửi chứng thư số và chữ ký.",
        "Use your signing tool or token to sign exactly the text below, then submit your certificate and the signature.",
    ),
    to_sign: Text::new("Chuỗi cần ký (ASCII, không xuống dòng)", "Text to sign (ASCII, no newline)"),
    how: Text::new("Ví dụ với OpenSSL hoặc pkcs11-tool:", "For example with OpenSSL or pkcs11-tool:"),
    certificate: Text::new("Chứng thư số", "Certificate"),
    certificate_hint: Text::new(
        "PEM (-----BEGIN CERTIFICATE-----…) hoặc dấu vân tay x5t#S256 của chứng thư đã đăng ký",
        "PEM (-----BEGIN CERTIFICATE-----…) or the x5t#S256 thumbprint of a registered certificate",
    ),
    signature: Text::new("Chữ ký (base64)", "Signature (base64)"),
    signature_hint: Text::new(
        "ECDSA P-256/P-384 hoặc RSA (PKCS#1 v1.5 hay PSS), băm SHA-256",
        "ECDSA P-256/P-384 or RSA (PKCS#1 v1.5 or PSS), SHA-256",
    ),
    submit: Text::new("Đăng nhập", "Log in"),
    expires: Text::new(
        "Chuỗi này hết hạn sau 5 phút và chỉ dùng được một lần.",
        "This text expires after 5 minutes and works once.",
    ),
};

#[derive(Template)]
#[template(path = "certs/login.html")]
struct CertPage<'a> {
    frame: Frame,
    lang: Lang,
    t: &'static Texts,
    tx: &'a str,
    nonce: &'a str,
    message: &'a str,
    /// The refusal: code, reason, details.
    error: Option<(&'static str, &'static str, Vec<String>)>,
}

fn challenge_page(
    status: StatusCode,
    lang: Lang,
    issuer: &str,
    tx: &str,
    c: &Challenge,
    r: Option<&Refusal>,
) -> Response {
    let error = r.map(|r| (r.code(), r.text().get(lang), r.details()));
    let message = c.message(issuer);
    let frame = Frame::new(lang, TEXTS.title.get(lang));
    let mut resp =
        page::render(status, &CertPage { frame, lang, t: &TEXTS, tx, nonce: &c.nonce, message: &message, error });
    if matches!(r, Some(Refusal::Locked)) {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(60));
    }
    resp
}

/// A fresh challenge into the transaction, and the page that shows it.
async fn new_challenge(
    c: &CertLogin,
    tx: &mut LoginTx,
    lang: Lang,
    status: StatusCode,
    r: Option<&Refusal>,
) -> Result<Response, PageError> {
    let challenge = Challenge::new(unix_now());
    c.open(&challenge).await.map_err(|_| PageError::Unavailable(lang))?;
    tx.set_method_state(METHOD, &challenge).map_err(|_| PageError::Unavailable(lang))?;
    op::save(&c.oidc, tx, lang).await?;
    Ok(challenge_page(status, lang, &c.oidc.issuer, &tx.id, &challenge, r))
}

#[derive(Deserialize)]
struct TxForm {
    #[serde(default)]
    tx: String,
}

/// The method's button on the choice page: the challenge.
async fn start(
    State(c): State<CertLogin>,
    headers: HeaderMap,
    PageForm(f): PageForm<TxForm>,
) -> Result<Response, PageError> {
    let (mut tx, lang) = op::begin(&c.oidc, &headers, &f.tx, METHOD).await?;
    new_challenge(&c, &mut tx, lang, StatusCode::OK, None).await
}

#[derive(Deserialize)]
struct ProofForm {
    #[serde(default)]
    tx: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    certificate: String,
    #[serde(default)]
    signature: String,
}

/// A certificate and a signature over the challenge. The challenge is spent whatever the
/// outcome: a refusal comes with a new one.
async fn verify(
    State(c): State<CertLogin>,
    headers: HeaderMap,
    from: RequestOrigin,
    PageForm(f): PageForm<ProofForm>,
) -> Result<Response, PageError> {
    let (mut tx, lang) = op::resume(&c.oidc, &headers, &f.tx).await?;
    let current = tx.method_state::<Challenge>(METHOD).ok_or(PageError::Expired(lang))?;
    let message = current.message(&c.oidc.issuer);
    let presented = Presented::read(&f.certificate);
    let key = presented.as_ref().map(Presented::lock_key).unwrap_or_else(|_| "cert:unreadable".into());
    let locked = lockout::gate(&c.oidc.kv, &key, from.origin.ip).await.map_err(|_| PageError::Unavailable(lang))?;
    let outcome = if locked == lockout::Gate::Locked {
        Err(Refusal::Locked)
    } else if let Err(r) = c.spend(&current, &f.nonce, unix_now()).await.map_err(|_| PageError::Unavailable(lang))? {
        Err(r)
    } else {
        match (presented, decode_signature(&f.signature)) {
            (Ok(p), Ok(sig)) => c.authenticate(p, &sig, message.as_bytes()).await.map_err(|e| {
                tracing::error!(error = %e, "certificate login: store call failed");
                PageError::Unavailable(lang)
            })?,
            (Err(r), _) | (_, Err(r)) => Err(r),
        }
    };
    match outcome {
        Ok(proven) => {
            lockout::succeeded(&c.oidc.kv, &key).await.map_err(|_| PageError::Unavailable(lang))?;
            Ok(finish(&c, &headers, tx, proven).await)
        }
        Err(r) => {
            c.oidc.methods.failed(METHOD, tx.attempt(), r.code());
            let status = if r == Refusal::Locked {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                count_failure(&c, &key, &from, lang).await?;
                StatusCode::FORBIDDEN
            };
            new_challenge(&c, &mut tx, lang, status, Some(&r)).await
        }
    }
}

/// Counts a failure, records a lock it engages, and waits the progressive delay.
async fn count_failure(c: &CertLogin, key: &str, from: &RequestOrigin, lang: Lang) -> Result<(), PageError> {
    let kv = &c.oidc.kv;
    let ip = from.origin.ip;
    let wait = lockout::failed(kv, &c.lockout, key, ip).await.map_err(|_| PageError::Unavailable(lang))?;
    if lockout::gate(kv, key, ip).await.map_err(|_| PageError::Unavailable(lang))? == lockout::Gate::Locked {
        let mut e = Event::new(Action::LoginLocked).actor(Actor::Anonymous).detail(json!({ "certificate": key }));
        if let Some(ip) = ip {
            e = e.ip(ip);
        }
        let _ = c.audit.record(e).await;
    }
    tokio::time::sleep(wait).await;
    Ok(())
}

/// Hands the officer to the provider. The challenge is emptied first, so the transaction can
/// take no second proof.
async fn finish(c: &CertLogin, headers: &HeaderMap, mut tx: LoginTx, proven: Proven) -> Response {
    if tx.set_method_state(METHOD, &Challenge::default()).is_err() {
        return crate::oidc::routes::pages::unavailable(Lang::pick(None, headers));
    }
    let who = Authenticated {
        method: METHOD,
        account_id: proven.officer.id.clone(),
        acr: OFFICER_CERT,
        amr: AMR.iter().map(|s| (*s).to_owned()).collect(),
        auth_time: Some(unix_now()),
        actor: None,
        cert_thumbprint: Some(proven.cert.thumbprint),
    };
    op::finish(&c.oidc, headers, tx, who).await
}
