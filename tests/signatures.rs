//! Verification of signed documents (`POST /api/signatures/verify`) over real HTTP, on both
//! backends, with certificates from the mock Government CA registered to officers: raw ECDSA
//! and RSA signatures, a CMS made by the OpenSSL CLI, a PDF signed by pyHanko; refusals of a
//! tampered document, a revoked certificate, another officer's certificate, callers without
//! the scope, and malformed input with stable error codes.

mod support;
#[path = "signatures/tools.rs"]
mod tools;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::ca::{self, Issued};
use support::op::{Backend, TestOp, http};
use xacthuc::certs::parse_certificate;
use xacthuc::certs::store::{CertStatus, RegisteredCert};
use xacthuc::clock::unix_now;
use xacthuc::crypto::sha256_hex;
use xacthuc::officers::directory::{NewOfficer, Officer};
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};

const SECRET: &str = "e-office-secret-value-123";
const PID_A: &str = "001085012345";
const PID_B: &str = "036190000123";
const DOC: &[u8] = "Quyết định số 12/QĐ-UBND về việc phân công nhiệm vụ".as_bytes();

/// e-office (allowed `signatures.verify`) and another service (not allowed).
async fn start(backend: Backend) -> Option<(TestOp, String)> {
    let op = support::officers::start(backend).await?;
    for (id, scope) in [("vanphong", "signatures.verify"), ("other", "reports")] {
        let c = Client {
            secret_hash: Some(sha256_hex(SECRET)),
            scopes: vec![scope.to_owned()],
            grant_types: vec![GrantType::ClientCredentials],
            ..Client::new(id, id, AuthMethod::ClientSecretBasic, Vec::new())
        };
        op.state.db.put_client(&c, 0).await.unwrap();
    }
    let token = support::rp::client_credentials_token(&op, "vanphong", SECRET, "signatures.verify").await;
    Some((op, token))
}

/// An officer with `personal_id` holding a fresh certificate (`ec` or `rsa`), validated and
/// registered as the registry does.
async fn officer_with_cert(op: &TestOp, personal_id: &str, key_type: &str) -> (Officer, Issued) {
    let new = NewOfficer {
        username: support::unique("ky."),
        full_name: "Trần Thị Bình".into(),
        personal_id: Some(personal_id.into()),
        unit_code: "31.x1".into(),
        ..Default::default()
    };
    let officer = op.state.db.create_officer(&new, 1).await.unwrap();
    let issued = ca::issue_with(
        ca::ca(op),
        json!({ "name": "Trần Thị Bình", "personal_id": personal_id, "unit": "UBND xã An Lư",
                "province": "Thành phố Hải Phòng", "key_type": key_type }),
    )
    .await;
    let info = parse_certificate(issued.cert_pem.as_bytes()).unwrap();
    let v = op.state.certs.validate(&info, &[], unix_now(), Some(personal_id)).await;
    assert!(v.is_valid(), "{v:?}");
    let now = unix_now();
    let row = RegisteredCert {
        id: support::unique("cert-"),
        officer_id: officer.id.clone(),
        thumbprint: info.thumbprint.clone(),
        serial: info.serial.clone(),
        issuer: info.issuer.clone(),
        subject: info.subject.clone(),
        not_before: info.not_before,
        not_after: info.not_after,
        pem: issued.cert_pem.clone(),
        status: CertStatus::Active,
        status_reason: None,
        replaced_by: None,
        created_at: now,
        updated_at: now,
    };
    op.state.db.insert_certificate(&row).await.unwrap();
    (officer, issued)
}

fn key(i: &Issued) -> &str {
    i.key_pem.as_deref().expect("a CA-generated key")
}

fn hash_hex(doc: &[u8]) -> String {
    Sha256::digest(doc).iter().map(|b| format!("{b:02x}")).collect()
}

async fn verify(op: &TestOp, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = http().post(op.url("/api/signatures/verify")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn raw(doc: &[u8], sig: &[u8], cert_pem: &str) -> Value {
    json!({ "document_sha256": hash_hex(doc), "signature": STANDARD.encode(sig), "certificate": cert_pem })
}

/// The one signature of a valid answer, with its signer checked.
fn valid_by(answer: &Value, officer: &Officer) -> Value {
    assert_eq!(answer["verdict"], "valid", "{answer:#}");
    let s = answer["signatures"][0].clone();
    assert_eq!(s["intact"], true, "{s:#}");
    assert_eq!(s["signer"]["officer_id"], officer.id.as_str(), "{s:#}");
    assert_eq!(s["signer"]["full_name"], "Trần Thị Bình");
    assert_eq!(s["signer"]["unit"]["name"], "Xã An Lư");
    assert_eq!(s["now"]["valid"], true, "{s:#}");
    s
}

async fn accepts(backend: Backend) {
    let Some((op, token)) = start(backend).await else { return };
    let (alice, ec) = officer_with_cert(&op, PID_A, "ec").await;
    let (_, rsa) = officer_with_cert(&op, PID_B, "rsa").await;

    // Raw ECDSA, DER and r||s, with the expected officer named by id and by personal ID.
    for fixed in [false, true] {
        let mut body = raw(DOC, &tools::ecdsa(key(&ec), DOC, fixed), &ec.cert_pem);
        body["expected_officer"] = json!(if fixed { PID_A } else { alice.id.as_str() });
        let (status, answer) = verify(&op, Some(&token), body).await;
        assert_eq!(status, 200, "{answer}");
        let s = valid_by(&answer, &alice);
        assert_eq!(s["scheme"], if fixed { "ecdsa_fixed" } else { "ecdsa_der" });
        assert_eq!(s["expected_officer_matches"], true);
        let thumbprint = parse_certificate(ec.cert_pem.as_bytes()).unwrap().thumbprint;
        assert_eq!(s["certificate"]["thumbprint"], thumbprint.as_str());
        assert_eq!(s["signing_time"], Value::Null, "a raw signature carries no time");
    }
    // Raw RSA, PKCS#1 v1.5 and PSS; the hash as base64 this time.
    for pss in [false, true] {
        let mut body = raw(DOC, &tools::rsa(key(&rsa), DOC, pss), &rsa.cert_pem);
        body["document_sha256"] = json!(STANDARD.encode(Sha256::digest(DOC)));
        let (status, answer) = verify(&op, Some(&token), body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["verdict"], "valid", "{answer:#}");
        assert_eq!(answer["signatures"][0]["scheme"], if pss { "rsa_pss" } else { "rsa_pkcs1" });
    }

    // A CMS from the OpenSSL CLI: its signingTime is judged too.
    if let Some(cms) = tools::openssl_cms(&ec.cert_pem, key(&ec), DOC) {
        let body = json!({ "document_sha256": hash_hex(DOC), "cms": STANDARD.encode(&cms) });
        let (status, answer) = verify(&op, Some(&token), body).await;
        assert_eq!(status, 200, "{answer}");
        let s = valid_by(&answer, &alice);
        assert_eq!(s["signing_time_source"], "cms_signing_time");
        assert!((s["signing_time"].as_i64().unwrap() - unix_now()).abs() < 120, "{s:#}");
        assert_eq!(s["at_signing_time"]["valid"], true, "{s:#}");
        // PEM works as well.
        let pem = pem::encode(&pem::Pem::new("CMS", cms));
        let (status, answer) = verify(&op, Some(&token), json!({ "document_sha256": hash_hex(DOC), "cms": pem })).await;
        assert_eq!((status, answer["verdict"].as_str()), (200, Some("valid")), "{answer}");
    }

    // A PDF signed by pyHanko with the CA's PKCS#12: as JSON and as the raw body.
    if let Some(pdf) = tools::pyhanko_pdf(ec.raw["pkcs12_base64"].as_str().unwrap(), "xacthuc-mock") {
        let (status, answer) = verify(&op, Some(&token), json!({ "pdf": STANDARD.encode(&pdf) })).await;
        assert_eq!(status, 200, "{answer}");
        let s = valid_by(&answer, &alice);
        assert_eq!(answer["kind"], "pdf");
        assert_eq!(s["covers_whole_document"], true);
        assert!(s["signing_time"].is_i64(), "pyHanko writes /M: {s:#}");
        let r = http()
            .post(op.url(&format!("/api/signatures/verify?expected_officer={}", alice.id)))
            .bearer_auth(&token)
            .header("content-type", "application/pdf")
            .body(pdf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.unwrap();
        assert_eq!(valid_by(&answer, &alice)["expected_officer_matches"], true);
    }

    // Every verification is audited with the client.
    let filter = xacthuc::audit::AuditFilter { action_prefix: Some("signature.".into()), ..Default::default() };
    let entries = op.state.audit.query(&filter, xacthuc::audit::Page::default()).await.unwrap();
    assert!(entries.len() >= 4, "{entries:?}");
    assert!(entries.iter().all(|e| e.action == "signature.verified" && e.actor == "client:vanphong"), "{entries:?}");
}

async fn refuses(backend: Backend) {
    let Some((op, token)) = start(backend).await else { return };
    let (alice, ec) = officer_with_cert(&op, PID_A, "ec").await;
    let (bob, other) = officer_with_cert(&op, PID_B, "ec").await;
    let sig = tools::ecdsa(key(&ec), DOC, false);

    // Tampered: the document differs from what was signed.
    let (status, answer) = verify(&op, Some(&token), raw(b"another document", &sig, &ec.cert_pem)).await;
    assert_eq!(status, 200);
    assert_eq!((answer["verdict"].as_str(), &answer["signatures"][0]["intact"]), (Some("invalid"), &json!(false)));
    if let Some(cms) = tools::openssl_cms(&ec.cert_pem, key(&ec), DOC) {
        let body = json!({ "document_sha256": hash_hex(b"tampered"), "cms": STANDARD.encode(&cms) });
        let (_, answer) = verify(&op, Some(&token), body).await;
        let s = &answer["signatures"][0];
        assert_eq!(s["intact"], false, "{s:#}");
        assert!(s["intact_problem"].as_str().unwrap().contains("message digest"), "{s:#}");
    }
    if let Some(pdf) = tools::pyhanko_pdf(ec.raw["pkcs12_base64"].as_str().unwrap(), "xacthuc-mock") {
        // One byte of the page size, inside the signed range.
        let at = pdf.windows(3).position(|w| w == b"595").expect("the MediaBox");
        let mut changed = pdf.clone();
        changed[at + 2] = b'6';
        let (status, answer) = verify(&op, Some(&token), json!({ "pdf": STANDARD.encode(&changed) })).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["signatures"][0]["intact"], false, "{answer:#}");
        assert_eq!(answer["verdict"], "invalid");
        // Bytes appended after the signature: intact, but not the whole document.
        let mut extended = pdf.clone();
        extended.extend_from_slice(b"\n% appended\n");
        let (_, answer) = verify(&op, Some(&token), json!({ "pdf": STANDARD.encode(&extended) })).await;
        let s = &answer["signatures"][0];
        assert_eq!((s["intact"].as_bool(), s["covers_whole_document"].as_bool()), (Some(true), Some(false)), "{s:#}");
        assert_eq!(answer["verdict"], "invalid");
    }

    // Another officer's certificate: intact, but not the expected signer.
    let mut body = raw(DOC, &tools::ecdsa(key(&other), DOC, false), &other.cert_pem);
    body["expected_officer"] = json!(alice.id);
    let (_, answer) = verify(&op, Some(&token), body).await;
    let s = &answer["signatures"][0];
    assert_eq!((s["intact"].as_bool(), s["signer"]["officer_id"].as_str()), (Some(true), Some(bob.id.as_str())));
    assert_eq!(s["expected_officer_matches"], false);
    assert_eq!(answer["verdict"], "invalid");

    // A certificate the registry does not know: no signer, with the reason.
    let stray = ca::issue(ca::ca(&op), PID_A, "normal").await;
    let (_, answer) =
        verify(&op, Some(&token), raw(DOC, &tools::ecdsa(key(&stray), DOC, false), &stray.cert_pem)).await;
    let s = &answer["signatures"][0];
    assert_eq!((s["signer"].clone(), answer["verdict"].as_str()), (Value::Null, Some("invalid")), "{s:#}");
    assert!(s["signer_problem"].as_str().unwrap().contains("not registered"));

    // Revoked after signing: valid at the signing time, revoked now.
    if let Some(cms) = tools::openssl_cms(&ec.cert_pem, key(&ec), DOC) {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        ca::revoke(ca::ca(&op), &ec.serial, "keyCompromise").await;
        op.state.certs.crl().refresh_all(unix_now()).await;
        let body = json!({ "document_sha256": hash_hex(DOC), "cms": STANDARD.encode(&cms) });
        let (_, answer) = verify(&op, Some(&token), body).await;
        let s = &answer["signatures"][0];
        assert_eq!(s["intact"], true);
        assert_eq!(s["at_signing_time"]["valid"], true, "{s:#}");
        assert_eq!(s["now"]["valid"], false, "{s:#}");
        assert_eq!(s["now"]["failures"][0]["code"], "revoked", "{s:#}");
        assert_eq!(s["now"]["revocation"]["reason"], "keyCompromise");
        assert_eq!(answer["verdict"], "invalid");
    }
}

async fn callers_and_malformed_input(backend: Backend) {
    let Some((op, token)) = start(backend).await else { return };
    let (_, ec) = officer_with_cert(&op, PID_A, "ec").await;
    let good = raw(DOC, &tools::ecdsa(key(&ec), DOC, false), &ec.cert_pem);

    let r = http().post(op.url("/api/signatures/verify")).json(&good).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let (status, answer) = verify(&op, Some("not-a-token"), good.clone()).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("unauthenticated")));
    let other = support::rp::client_credentials_token(&op, "other", SECRET, "reports").await;
    let (status, answer) = verify(&op, Some(&other), good.clone()).await;
    assert_eq!((status, answer["code"].as_str()), (403, Some("forbidden")), "{answer}");
    // Malformed input from a stranger is refused for the token, not read.
    let (status, _) = verify(&op, None, json!({ "cms": "!!" })).await;
    assert_eq!(status, 401);

    let hash = hash_hex(DOC);
    let garbage = STANDARD.encode(b"\x30\x82\x01\x00 not DER at all");
    let cases = [
        (json!({ "document_sha256": hash, "cms": garbage }), 422, "invalid_cms"),
        (json!({ "document_sha256": hash, "cms": "%%%" }), 422, "invalid_cms"),
        (json!({ "pdf": STANDARD.encode(b"%PDF-1.7\n garbage") }), 422, "invalid_pdf"),
        (json!({ "pdf": STANDARD.encode(b"hello") }), 422, "invalid_pdf"),
        (json!({ "document_sha256": hash, "signature": "AAAA", "certificate": garbage }), 422, "invalid_certificate"),
        (
            json!({ "document_sha256": hash, "signature": "AAAA", "certificate": "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----" }),
            422,
            "invalid_certificate",
        ),
        (
            json!({ "document_sha256": hash, "signature": "not base64 ***", "certificate": ec.cert_pem }),
            422,
            "invalid_signature_encoding",
        ),
        (
            json!({ "document_sha256": "abc", "signature": "AAAA", "certificate": ec.cert_pem }),
            422,
            "invalid_document_hash",
        ),
        (json!({ "document_sha256": hash, "cms": garbage, "pdf": garbage }), 400, "invalid_request"),
        (json!({ "document_sha256": hash }), 400, "invalid_request"),
        (json!({ "pdf": garbage, "surprise": 1 }), 400, "invalid_request"),
        (json!([1, 2, 3]), 400, "invalid_request"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = verify(&op, Some(&token), body.clone()).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{body} → {answer}");
        assert!(!answer["message"].as_str().unwrap_or_default().is_empty(), "{answer}");
    }
    // A bad signature value is not malformed input: it is a signature that does not hold.
    let mut bad = good.clone();
    bad["signature"] = json!(STANDARD.encode([7u8; 70]));
    let (status, answer) = verify(&op, Some(&token), bad).await;
    assert_eq!((status, &answer["signatures"][0]["intact"]), (200, &json!(false)));
    // Larger than the route's limit.
    let huge = json!({ "pdf": "A".repeat(xacthuc::certs::signatures::MAX_BODY + 10) });
    let (status, answer) = verify(&op, Some(&token), huge).await;
    assert_eq!((status, answer["code"].as_str()), (413, Some("payload_too_large")), "{answer}");
}

/// The certificate the CMS names is the CA's, byte for byte (same thumbprint), whatever the
/// key and serial: a regression test for certificates re-encoded on the way through.
async fn cms_keeps_certificates_exact(backend: Backend) {
    let Some((op, _)) = start(backend).await else { return };
    for _ in 0..12 {
        let issued = ca::issue(ca::ca(&op), PID_A, "normal").await;
        let Some(der) = tools::openssl_cms(&issued.cert_pem, key(&issued), DOC) else { return };
        let signed = xacthuc::certs::cms::parse(&der).unwrap_or_else(|e| panic!("{e}: {}", issued.cert_pem));
        let expected = parse_certificate(issued.cert_pem.as_bytes()).unwrap();
        assert_eq!(signed.signers[0].certificate.thumbprint, expected.thumbprint);
        assert_eq!(signed.signers[0].check(&Sha256::digest(DOC)).problem, None);
    }
}

#[tokio::test]
async fn cms_keeps_certificates_exact_embedded() {
    cms_keeps_certificates_exact(Backend::Embedded).await;
}

#[tokio::test]
async fn accepts_genuine_signatures_embedded() {
    accepts(Backend::Embedded).await;
}

#[tokio::test]
async fn accepts_genuine_signatures_real() {
    accepts(Backend::Real).await;
}

#[tokio::test]
async fn refuses_tampered_revoked_and_others_embedded() {
    refuses(Backend::Embedded).await;
}

#[tokio::test]
async fn refuses_tampered_revoked_and_others_real() {
    refuses(Backend::Real).await;
}

#[tokio::test]
async fn callers_and_malformed_input_embedded() {
    callers_and_malformed_input(Backend::Embedded).await;
}

#[tokio::test]
async fn callers_and_malformed_input_real() {
    callers_and_malformed_input(Backend::Real).await;
}
