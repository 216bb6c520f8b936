//! The officer's digital-signature certificate as a login factor (proof of possession). No
//! HTTP here: `certs::login_routes` is its face.
//!
//! The page shows a server nonce inside a fixed text ([`Challenge::message`]); the officer's
//! local signing tool or token signs those exact bytes with the certificate's private key; the
//! officer submits the certificate (PEM, or the `x5t#S256` thumbprint of a registered one) and
//! the signature. The login succeeds when the signature verifies under the certificate's
//! public key, the certificate is in the registry and active there, it validates now against
//! the Government CA (chain, dates, key usage, CRL, the officer's personal ID in `UID`), and the
//! officer may log in. Every refusal is a [`Refusal`] that names its reason.

use std::time::Duration;

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::store::{CertStatus, RegisteredCert};
use super::{CertInfo, Failure, Validator, parse_certificate};
use crate::config::Mode;
use crate::officers::acr::CLASSES;
use crate::officers::auth::lockout;
use crate::officers::{DirectoryError, Officer};
use crate::oidc::Provider;
use crate::oidc::login::LoginMethod;
use crate::store::KvError;
use crate::web::page::Text;

pub const METHOD: &str = "officer-cert";
pub const START: &str = "/login/cert";

/// How long a challenge may be signed: enough to plug in a token and type its PIN.
pub const CHALLENGE_TTL_SECS: i64 = 300;
/// Bounds on the unauthenticated form fields: a PEM certificate is 1–3 KB, a signature
/// (RSA 8192 in base64) under 1.5 KB.
pub const MAX_CERT_FIELD: usize = 16 * 1024;
pub const MAX_SIGNATURE_FIELD: usize = 2048;

/// What a certificate login reaches. RFC 8176 `amr`: `pop`, proof of possession of a key,
/// is exactly what was verified. Not `hwk`/`swk`/`sc`: nothing tells us where the key lives
/// (no attestation of the token), and not `mfa`/`pin`: whether the token asked for a PIN is
/// unknown to us.
pub const AMR: &[&str] = &["pop"];

/// The certificate login as registered with the provider.
pub fn method() -> LoginMethod {
    LoginMethod {
        id: METHOD,
        name: Text::new("Đăng nhập bằng chứng thư số", "Log in with a digital-signature certificate"),
        hint: Some(Text::new(
            "Ký một chuỗi xác thực bằng chữ ký số chuyên dùng công vụ",
            "Sign a challenge with your public-service digital signature",
        )),
        classes: &CLASSES[2..3],
        start: START,
    }
}

/// Everything the certificate login needs, shared by its handlers.
#[derive(Clone)]
pub struct CertLogin {
    pub oidc: Provider,
    pub certs: Validator,
    pub mode: Mode,
    /// The officer login limits; failures are counted per certificate and per address.
    pub lockout: lockout::Policy,
    /// Where a lock engaged by failures is recorded (each login's outcome goes there through
    /// the provider's login observer).
    pub audit: crate::audit::Audit,
}

/// The nonce of one login attempt, kept in the login transaction (which binds it to the
/// browser) and recorded in the session store (which spends it once, see
/// [`CertLogin::spend`]). Every submission spends it; a refusal comes with a new one.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Challenge {
    /// 32 random bytes, base64url.
    pub nonce: String,
    pub issued_at: i64,
}

impl Challenge {
    pub fn new(now: i64) -> Self {
        Self { nonce: crate::crypto::random_token(), issued_at: now }
    }

    /// The exact bytes to sign (ASCII, no newline). The issuer is in it so a signature made
    /// for this provider says so, and the prefix keeps it from meaning anything else.
    pub fn message(&self, issuer: &str) -> String {
        format!("xacthuc-login-v1:{issuer}:{}", self.nonce)
    }

    pub fn expired(&self, now: i64) -> bool {
        now.saturating_sub(self.issued_at) > CHALLENGE_TTL_SECS || now < self.issued_at - 60
    }
}

/// Why a certificate login was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The nonce submitted is not the transaction's current one (used, or replaced).
    ChallengeUsed,
    ChallengeExpired,
    /// A field could not be read (what, why).
    Malformed(&'static str, String),
    /// A key type we do not verify (curve or algorithm).
    UnsupportedKey(String),
    BadSignature,
    NotRegistered,
    /// Registered, but revoked or retired in the registry.
    Status(CertStatus),
    /// The validation against the CA failed: every failed check.
    Invalid(Vec<Failure>),
    /// The officer holding it is suspended, disabled or gone.
    OfficerInactive,
    /// Too many failures for this certificate or from this address.
    Locked,
}

impl Refusal {
    /// Stable code: the page's `data-reason`, the audit entry and the metric.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ChallengeUsed => "challenge_used",
            Refusal::ChallengeExpired => "challenge_expired",
            Refusal::Malformed(..) => "malformed",
            Refusal::UnsupportedKey(_) => "unsupported_key",
            Refusal::BadSignature => "bad_signature",
            Refusal::NotRegistered => "not_registered",
            Refusal::Status(_) => "certificate_not_active",
            Refusal::Invalid(_) => "certificate_invalid",
            Refusal::OfficerInactive => "officer_inactive",
            Refusal::Locked => "locked",
        }
    }

    /// The reason in words.
    pub fn text(&self) -> Text {
        match self {
            Refusal::ChallengeUsed => Text::new(
                "Chuỗi xác thực này đã được dùng. Hãy ký chuỗi mới bên dưới.",
                "This challenge was already used. Sign the new one below.",
            ),
            Refusal::ChallengeExpired => Text::new(
                "Chuỗi xác thực đã hết hạn. Hãy ký chuỗi mới bên dưới.",
                "The challenge has expired. Sign the new one below.",
            ),
            Refusal::Malformed(..) => Text::new(
                "Không đọc được chứng thư số hoặc chữ ký đã gửi.",
                "The certificate or the signature could not be read.",
            ),
            Refusal::UnsupportedKey(_) => Text::new(
                "Loại khóa của chứng thư số không được hỗ trợ.",
                "The certificate's key type is not supported.",
            ),
            Refusal::BadSignature => Text::new(
                "Chữ ký không khớp với chứng thư số và chuỗi xác thực.",
                "The signature does not match the certificate and the challenge.",
            ),
            Refusal::NotRegistered => Text::new(
                "Chứng thư số chưa được đăng ký cho cán bộ nào.",
                "The certificate is not registered to any officer.",
            ),
            Refusal::Status(_) => Text::new(
                "Chứng thư số đã bị thu hồi hoặc thay thế trong sổ đăng ký.",
                "The certificate has been revoked or replaced in the registry.",
            ),
            Refusal::Invalid(_) => Text::new(
                "Chứng thư số không hợp lệ theo Tổ chức chứng thực của Chính phủ.",
                "The certificate is not valid according to the Government CA.",
            ),
            Refusal::OfficerInactive => {
                Text::new("Tài khoản cán bộ không được phép đăng nhập.", "The officer account may not log in.")
            }
            Refusal::Locked => Text::new(
                "Quá nhiều lần thử không thành công. Vui lòng thử lại sau.",
                "Too many failed attempts. Please try again later.",
            ),
        }
    }

    /// Details for the page (English, technical): each failed check, the field, the status.
    pub fn details(&self) -> Vec<String> {
        match self {
            Refusal::Malformed(what, why) => vec![format!("{what}: {why}")],
            Refusal::UnsupportedKey(k) => vec![k.clone()],
            Refusal::Status(s) => vec![format!("registry status: {}", s.as_str())],
            Refusal::Invalid(f) => f.iter().map(|f| format!("{}: {f}", f.code())).collect(),
            _ => Vec::new(),
        }
    }
}

/// The certificate as submitted: its PEM, or the thumbprint of a registered one.
pub enum Presented {
    Pem(Box<CertInfo>),
    Thumbprint(String),
}

impl Presented {
    pub fn read(field: &str) -> Result<Self, Refusal> {
        let field = field.trim();
        if field.len() > MAX_CERT_FIELD {
            return Err(Refusal::Malformed("certificate", "too large".into()));
        }
        if field.len() == 43 && URL_SAFE_NO_PAD.decode(field).is_ok() {
            return Ok(Presented::Thumbprint(field.to_owned()));
        }
        parse_certificate(field.as_bytes())
            .map(|c| Presented::Pem(Box::new(c)))
            .map_err(|e| Refusal::Malformed("certificate", e.to_string()))
    }

    pub fn thumbprint(&self) -> &str {
        match self {
            Presented::Pem(c) => &c.thumbprint,
            Presented::Thumbprint(t) => t,
        }
    }

    /// The lockout counter's key: per certificate, never the officer's username, so failures
    /// by someone holding only the (public) certificate cannot lock the officer's password
    /// login.
    pub fn lock_key(&self) -> String {
        format!("cert:{}", self.thumbprint())
    }
}

/// A successful proof.
pub struct Proven {
    pub officer: Officer,
    pub cert: RegisteredCert,
}

/// Decodes a signature in base64 (standard or URL alphabet, padded or not, line breaks
/// allowed: `openssl base64` wraps at 64 columns).
pub fn decode_signature(field: &str) -> Result<Vec<u8>, Refusal> {
    if field.len() > MAX_SIGNATURE_FIELD {
        return Err(Refusal::Malformed("signature", "too large".into()));
    }
    let compact: String = field.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let unpadded = compact.trim_end_matches('=');
    let decoded = if unpadded.contains(['-', '_']) {
        URL_SAFE_NO_PAD.decode(unpadded)
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(unpadded)
    };
    match decoded {
        Ok(b) if !b.is_empty() => Ok(b),
        _ => Err(Refusal::Malformed("signature", "not base64".into())),
    }
}

const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const RSA: &str = "1.2.840.113549.1.1.1";

/// Verifies `signature` over `message` with the certificate's SubjectPublicKeyInfo: ECDSA
/// P-256 (DER or raw r||s) or P-384 (DER) with SHA-256; RSA PKCS#1 v1.5 or PSS with SHA-256.
pub fn verify_signature(cert_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Refusal> {
    let (_, x) = X509Certificate::from_der(cert_der).map_err(|e| Refusal::Malformed("certificate", e.to_string()))?;
    let spki = x.public_key();
    let key = spki.subject_public_key.data.as_ref();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
    let candidates: &[&'static dyn VerificationAlgorithm] = match (algorithm.as_str(), curve.as_deref()) {
        (EC_PUBLIC_KEY, Some(P256)) => &[&sig::ECDSA_P256_SHA256_ASN1, &sig::ECDSA_P256_SHA256_FIXED],
        // aws-lc-rs has no fixed-length (r||s) verifier for P-384 with SHA-256.
        (EC_PUBLIC_KEY, Some(P384)) => &[&sig::ECDSA_P384_SHA256_ASN1],
        (RSA, _) => &[&sig::RSA_PKCS1_2048_8192_SHA256, &sig::RSA_PSS_2048_8192_SHA256],
        (a, c) => return Err(Refusal::UnsupportedKey(format!("algorithm {a}, parameters {}", c.unwrap_or("none")))),
    };
    let ok = candidates.iter().any(|alg| UnparsedPublicKey::new(*alg, key).verify(message, signature).is_ok());
    if ok { Ok(()) } else { Err(Refusal::BadSignature) }
}

/// The session store's record of a challenge: present while it may be signed, then marked
/// spent. It is what makes a nonce single use, atomically, across instances.
fn nonce_key(nonce: &str) -> String {
    format!("certlogin:nonce:{}", crate::crypto::sha256_hex(nonce))
}

const SPENT: &[u8] = b"spent";

impl CertLogin {
    /// Records a new challenge as open for [`CHALLENGE_TTL_SECS`].
    pub async fn open(&self, c: &Challenge) -> Result<(), KvError> {
        self.oidc.kv.set(&nonce_key(&c.nonce), b"open", Duration::from_secs(CHALLENGE_TTL_SECS as u64)).await
    }

    /// Spends the challenge the transaction holds, if `submitted` is it: of two concurrent
    /// submissions only one gets through.
    pub async fn spend(&self, current: &Challenge, submitted: &str, now: i64) -> Result<Result<(), Refusal>, KvError> {
        let same = bool::from(subtle::ConstantTimeEq::ct_eq(current.nonce.as_bytes(), submitted.as_bytes()));
        if current.nonce.is_empty() || !same {
            return Ok(Err(Refusal::ChallengeUsed));
        }
        let ttl = Duration::from_secs(CHALLENGE_TTL_SECS as u64);
        Ok(match self.oidc.kv.mark_used(&nonce_key(submitted), SPENT, SPENT, ttl).await? {
            Some(v) if v.starts_with(SPENT) => Err(Refusal::ChallengeUsed),
            Some(_) if !current.expired(now) => Ok(()),
            _ => Err(Refusal::ChallengeExpired),
        })
    }

    /// Checks a proof for `message`. `Ok(Err(_))` is a refusal; `Err(_)` a store failure.
    pub async fn authenticate(
        &self,
        presented: Presented,
        signature: &[u8],
        message: &[u8],
    ) -> Result<Result<Proven, Refusal>, DirectoryError> {
        let db = &self.oidc.db;
        let registered = db.certificate_by_thumbprint(presented.thumbprint()).await?;
        let cert = match presented {
            Presented::Pem(c) => *c,
            Presented::Thumbprint(_) => match &registered {
                Some(r) => match parse_certificate(r.pem.as_bytes()) {
                    Ok(c) => c,
                    Err(e) => return Ok(Err(Refusal::Malformed("registered certificate", e.to_string()))),
                },
                None => return Ok(Err(Refusal::NotRegistered)),
            },
        };
        // The signature first: without the private key, nothing about the registry is told.
        if let Err(r) = verify_signature(&cert.der, message, signature) {
            return Ok(Err(r));
        }
        let Some(registered) = registered else { return Ok(Err(Refusal::NotRegistered)) };
        if registered.status != CertStatus::Active {
            return Ok(Err(Refusal::Status(registered.status)));
        }
        let officer = match db.officer(&registered.officer_id).await? {
            Some(o) if crate::officers::auth::may_log_in(db, self.mode, &o).await? => o,
            _ => return Ok(Err(Refusal::OfficerInactive)),
        };
        // An officer without a personal ID on record cannot match any certificate's UID.
        let personal_id = officer.personal_id.as_deref().unwrap_or_default();
        let v = self.certs.validate(&cert, &[], self.certs.now(), Some(personal_id)).await;
        if !v.is_valid() {
            return Ok(Err(Refusal::Invalid(v.failures)));
        }
        Ok(Ok(Proven { officer, cert: registered }))
    }
}
