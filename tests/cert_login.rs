//! The officer's certificate as a login factor, over real HTTP on both backends: a challenge
//! signed with the certificate's key, the registry and the Government CA's validation (the mock
//! CA, CRL over HTTP), `acr`/`amr` and the `x5t#S256` thumbprint in the ID token, and every
//! refusal named on the page and counted.

mod support;

use support::browser::Browser;
use support::ca;
use support::certlogin::{CERT_ACR, officer_with_id, refused, register, sign, start, submit};
use support::officers::{id_token, to_client, userinfo};
use support::op::Backend;
use xacthuc::certs::parse_certificate;
use xacthuc::clock::unix_now;
use xacthuc::officers::auth::lockout;

const PID: &str = "001085012345";
const OTHER_PID: &str = "036190000123";

async fn software_key_login(backend: Backend) {
    let Some(op) = support::officers::start(backend).await else { return };
    let ca = ca::ca(&op);
    let officer = officer_with_id(&op, "cb.binh", PID).await;
    let issued = ca::issue(ca, PID, "normal").await;
    let registered = register(&op, &officer, &issued.cert_pem, true).await;
    let thumbprint = parse_certificate(issued.cert_pem.as_bytes()).unwrap().thumbprint;
    assert_eq!(registered.thumbprint, thumbprint);

    let b = Browser::new();
    let c = start(&op.base, &b).await;
    // A 32-byte nonce (base64url), in a text that names this provider.
    assert_eq!(c.nonce.len(), 43);
    assert_eq!(c.message, format!("xacthuc-login-v1:{}:{}", op.config.issuer.trim_end_matches('/'), c.nonce));
    let signature = sign(&issued, &c.message);
    let r = submit(&op.base, &b, &c, &issued.cert_pem, &signature).await;
    let code = to_client(&op, &b, r).await;
    let (id, access) = id_token(&op, &code).await;
    assert_eq!(id["acr"], CERT_ACR);
    assert_eq!(id["amr"], serde_json::json!(["pop"]));
    assert_eq!(id["x5t#S256"], thumbprint.as_str());
    assert_eq!(id["sub"].as_str().map(str::is_empty), Some(false));
    assert_eq!(userinfo(&op, &access).await["x5t#S256"], thumbprint.as_str(), "userinfo names it too");

    // The same proof again: the transaction and its challenge are spent.
    let r = submit(&op.base, &b, &c, &issued.cert_pem, &signature).await;
    assert!(r.status().is_client_error(), "a replay is refused: {}", r.status());
    assert!(r.headers().get("location").is_none());

    // The thumbprint of a registered certificate stands for its PEM; the signature here is
    // raw r||s (what PKCS#11 tokens return), not DER.
    let b = Browser::new();
    let c = start(&op.base, &b).await;
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sign(&issued, &c.message)).unwrap();
    let raw = raw_from_der(&der);
    let raw_b64 = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw);
    let r = submit(&op.base, &b, &c, &thumbprint, &raw_b64).await;
    let (id, _) = id_token(&op, &to_client(&op, &b, r).await).await;
    assert_eq!(id["x5t#S256"], thumbprint.as_str());

    // A password login carries no thumbprint.
    let (o2, secret) = support::officers::officer(&op, "cb.mk", true).await;
    let b = Browser::new();
    let (r, _) = support::officers::password_step(&op, &b, &o2.username, support::officers::PASSWORD).await;
    let tx = support::officers::hidden(&r.text().await.unwrap(), "tx");
    let code = support::officers::code(secret.as_ref().unwrap());
    let r = support::officers::post(&op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &code)]).await;
    let (id, _) = id_token(&op, &to_client(&op, &b, r).await).await;
    assert!(id.get("x5t#S256").is_none(), "{id}");
    op.stop().await;
}
on_both_backends!(software_key, super::software_key_login);

/// The two integers of a DER ECDSA signature as r||s, 32 bytes each (test helper: the
/// provider itself never hand-parses ASN.1).
fn raw_from_der(der: &[u8]) -> Vec<u8> {
    let (_, seq) = x509_parser::der_parser::parse_der(der).unwrap();
    let items = seq.as_sequence().unwrap();
    let mut out = Vec::new();
    for i in items {
        let b = i.as_slice().unwrap();
        let b = &b[b.len().saturating_sub(32)..];
        out.extend(std::iter::repeat_n(0u8, 32 - b.len()));
        out.extend_from_slice(b);
    }
    out
}

async fn refusals(backend: Backend) {
    let Some(op) = support::officers::start(backend).await else { return };
    let ca = ca::ca(&op);
    let officer = officer_with_id(&op, "cb.binh", PID).await;
    let good = ca::issue(ca, PID, "normal").await;
    register(&op, &officer, &good.cert_pem, true).await;
    let other_key = ca::issue(ca, PID, "normal").await;
    let b = Browser::new();
    let first = start(&op.base, &b).await;

    // Signed by another key.
    let c = refused(&op.base, &b, &first, &good.cert_pem, &sign(&other_key, &first.message)).await;
    assert_eq!((c.status, c.reason().as_deref()), (403, Some("bad_signature")), "{}", c.body);
    assert!(c.body.contains("Chữ ký không khớp"), "the reason in Vietnamese");
    // The first challenge again, now correctly signed: it was spent by the failure.
    let c = refused(&op.base, &b, &first, &good.cert_pem, &sign(&good, &first.message)).await;
    assert_eq!(c.reason().as_deref(), Some("challenge_used"));
    let thumb = parse_certificate(good.cert_pem.as_bytes()).unwrap().thumbprint;
    let counted = lockout::status(&op.state.kv, &format!("cert:{thumb}")).await.unwrap();
    assert_eq!(counted.failures, 2, "each refusal is a failed attempt");

    // Not in the registry (a good certificate of the same officer, never registered).
    let c = refused(&op.base, &b, &c, &other_key.cert_pem, &sign(&other_key, &c.message)).await;
    assert_eq!(c.reason().as_deref(), Some("not_registered"));

    // Revoked at the CA after registration: the CRL says so.
    let revoked = ca::issue(ca, PID, "normal").await;
    register(&op, &officer, &revoked.cert_pem, true).await;
    ca::revoke(ca, &revoked.serial, "keyCompromise").await;
    op.state.certs.crl().refresh_all(unix_now()).await;
    let c = refused(&op.base, &b, &c, &revoked.cert_pem, &sign(&revoked, &c.message)).await;
    assert_eq!(c.reason().as_deref(), Some("certificate_invalid"), "{}", c.body);
    assert!(c.body.contains("revoked"), "{}", c.body);

    // Someone else's certificate registered to this officer: its UID does not match.
    let foreign = ca::issue(ca, OTHER_PID, "normal").await;
    register(&op, &officer, &foreign.cert_pem, false).await;
    let c = refused(&op.base, &b, &c, &foreign.cert_pem, &sign(&foreign, &c.message)).await;
    assert_eq!(c.reason().as_deref(), Some("certificate_invalid"));
    assert!(c.body.contains("personal_id"), "{}", c.body);

    // Expired since registration.
    let expired = ca::issue(ca, PID, "expired").await;
    register(&op, &officer, &expired.cert_pem, false).await;
    let c = refused(&op.base, &b, &c, &expired.cert_pem, &sign(&expired, &c.message)).await;
    assert_eq!(c.reason().as_deref(), Some("certificate_invalid"));
    assert!(c.body.contains("expired"), "{}", c.body);

    // Garbage in either field.
    let c = refused(&op.base, &b, &c, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "x").await;
    assert_eq!(c.reason().as_deref(), Some("malformed"));
    let c = refused(&op.base, &b, &c, &good.cert_pem, "%%%").await;
    assert_eq!(c.reason().as_deref(), Some("malformed"));

    // A suspended officer's registered, valid certificate.
    let pid2 = "079203001234";
    let o2 = officer_with_id(&op, "cb.tam", pid2).await;
    let theirs = ca::issue(ca, pid2, "normal").await;
    register(&op, &o2, &theirs.cert_pem, true).await;
    op.state.db.set_officer_status(&o2.id, xacthuc::officers::OfficerStatus::Suspended, 2).await.unwrap();
    let c = refused(&op.base, &b, &c, &theirs.cert_pem, &sign(&theirs, &c.message)).await;
    assert_eq!(c.reason().as_deref(), Some("officer_inactive"));

    // Failures lock the certificate (threshold 5 in these tests): even a good proof waits.
    let mut c = c;
    for _ in 0..3 {
        c = refused(&op.base, &b, &c, &good.cert_pem, "AAAA").await;
    }
    let c = refused(&op.base, &b, &c, &good.cert_pem, &sign(&good, &c.message)).await;
    assert_eq!((c.status, c.reason().as_deref()), (429, Some("locked")), "{}", c.body);
    op.stop().await;
}
on_both_backends!(refused_logins, super::refusals);
