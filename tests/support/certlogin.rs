//! Certificate login helpers: an officer with a personal ID, certificates from the mock CA
//! registered for them (validated first, as the registry does), and the login pages driven over
//! HTTP.
#![allow(dead_code)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use xacthuc::certs::parse_certificate;
use xacthuc::certs::store::{CertStatus, RegisteredCert};
use xacthuc::clock::unix_now;
use xacthuc::officers::{NewOfficer, Officer};

use super::browser::Browser;
use super::ca::Issued;
use super::officers::{choice_at, hidden, unescape};
use super::op::TestOp;

pub const CERT_ACR: &str = "urn:xacthuc:acr:officer-cert";

/// An officer of the test commune with this personal ID.
pub async fn officer_with_id(op: &TestOp, username: &str, personal_id: &str) -> Officer {
    let new = NewOfficer {
        username: username.into(),
        full_name: "Trần Thị Bình".into(),
        personal_id: Some(personal_id.into()),
        unit_code: "31.x1".into(),
        ..Default::default()
    };
    op.state.db.create_officer(&new, 1).await.unwrap()
}

/// Puts a certificate in the registry for `officer`. With `validated`, it must first pass the
/// validator for the officer's personal ID (what registration does); without, it goes in as
/// is (a certificate that became invalid after registration: expired, or a registry mistake).
pub async fn register(op: &TestOp, officer: &Officer, pem: &str, validated: bool) -> RegisteredCert {
    let info = parse_certificate(pem.as_bytes()).unwrap();
    if validated {
        let v = op.state.certs.validate(&info, &[], unix_now(), officer.personal_id.as_deref()).await;
        assert!(v.is_valid(), "registration validates: {v:?}");
    }
    let now = unix_now();
    let c = RegisteredCert {
        id: uuid::Uuid::now_v7().to_string(),
        officer_id: officer.id.clone(),
        thumbprint: info.thumbprint.clone(),
        serial: info.serial.clone(),
        issuer: info.issuer.clone(),
        subject: info.subject.clone(),
        not_before: info.not_before,
        not_after: info.not_after,
        pem: xacthuc::certs::parse::to_pem(&info.der),
        status: CertStatus::Active,
        status_reason: None,
        replaced_by: None,
        created_at: now,
        updated_at: now,
    };
    op.state.db.insert_certificate(&c).await.unwrap();
    c
}

/// ECDSA P-256 with SHA-256 (DER) by the CA-generated key of `issued`, base64.
pub fn sign(issued: &Issued, message: &str) -> String {
    let pem = pem::parse(issued.key_pem.as_deref().expect("a CA-generated key")).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pem.contents()).unwrap();
    STANDARD.encode(key.sign(&SystemRandom::new(), message.as_bytes()).unwrap().as_ref())
}

/// The challenge page as the officer sees it.
pub struct Challenge {
    pub tx: String,
    pub nonce: String,
    /// The exact text to sign, read from the page.
    pub message: String,
    pub status: u16,
    pub body: String,
}

impl Challenge {
    pub fn read(status: u16, body: String) -> Self {
        let start = body.find("<pre id=\"challenge\"").map(|i| i + body[i..].find('>').unwrap() + 1);
        let message = start.map(|s| unescape(&body[s..s + body[s..].find("</pre>").unwrap()])).unwrap_or_default();
        Challenge { tx: hidden(&body, "tx"), nonce: hidden(&body, "nonce"), message, status, body }
    }

    /// The refusal's code on the page, if any.
    pub fn reason(&self) -> Option<String> {
        let marker = "data-reason=\"";
        self.body.find(marker).map(|i| self.body[i + marker.len()..].split('"').next().unwrap().to_owned())
    }
}

/// From `/authorize` (demanding the certificate level) to the challenge page.
pub async fn start(base: &str, b: &Browser) -> Challenge {
    let (_, tx) = choice_at(base, b, Some(CERT_ACR)).await;
    choose_certificate(base, b, &format!("{base}/login?tx={tx}")).await
}

/// On the login choice page at `choice_url`, the certificate login's button.
pub async fn choose_certificate(base: &str, b: &Browser, choice_url: &str) -> Challenge {
    let page = b.http.get(choice_url).send().await.unwrap().text().await.unwrap();
    let tx = hidden(&page, "tx");
    assert!(page.contains("id=\"login-officer-cert\"") && page.contains("action=\"/login/cert\""), "{page}");
    let r = b.http.post(format!("{base}/login/cert")).form(&[("tx", &tx)]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c = Challenge::read(200, r.text().await.unwrap());
    assert!(c.message.ends_with(&c.nonce) && !c.nonce.is_empty(), "{}", c.body);
    c
}

/// Submits a certificate (PEM or thumbprint) and a signature for `c`.
pub async fn submit(base: &str, b: &Browser, c: &Challenge, certificate: &str, signature: &str) -> reqwest::Response {
    let form = [("tx", c.tx.as_str()), ("nonce", &c.nonce), ("certificate", certificate), ("signature", signature)];
    b.http.post(format!("{base}/login/cert/verify")).form(&form).send().await.unwrap()
}

/// A submission that must be refused: the new challenge page, with its reason.
pub async fn refused(base: &str, b: &Browser, c: &Challenge, certificate: &str, signature: &str) -> Challenge {
    let r = submit(base, b, c, certificate, signature).await;
    let status = r.status().as_u16();
    assert!(r.headers().get("location").is_none(), "a refusal stays on the page");
    let next = Challenge::read(status, r.text().await.unwrap());
    assert_ne!(next.nonce, c.nonce, "a refusal spends the challenge");
    next
}
