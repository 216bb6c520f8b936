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

/// RSA keys: PKCS#1 v1.5 and PSS signatures (SHA-256) both log in.
async fn rsa_login(backend: Backend) {
    use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaEncoding, RsaKeyPair};
    let Some(op) = support::officers::start(backend).await else { return };
    let officer = officer_with_id(&op, "cb.rsa", PID).await;
    let body = serde_json::json!({
        "name": "Trần Thị Bình", "personal_id": PID, "unit": "UBND xã An Lư",
        "province": "Thành phố Hải Phòng", "key_type": "rsa",
    });
    let issued = ca::issue_with(ca::ca(&op), body).await;
    register(&op, &officer, &issued.cert_pem, true).await;
    let key = pem::parse(issued.key_pem.as_deref().unwrap()).unwrap();
    let key = RsaKeyPair::from_pkcs8(key.contents()).unwrap();
    let encodings: [&'static dyn RsaEncoding; 2] = [&RSA_PKCS1_SHA256, &RSA_PSS_SHA256];
    for padding in encodings {
        let b = Browser::new();
        let c = start(&op.base, &b).await;
        let mut sig = vec![0; key.public_modulus_len()];
        key.sign(padding, &aws_lc_rs::rand::SystemRandom::new(), c.message.as_bytes(), &mut sig).unwrap();
        let sig = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &sig);
        let r = submit(&op.base, &b, &c, &issued.cert_pem, &sig).await;
        let (id, _) = id_token(&op, &to_client(&op, &b, r).await).await;
        assert_eq!(id["acr"], CERT_ACR);
    }
    op.stop().await;
}
on_both_backends!(rsa, super::rsa_login);

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

/// An officer whose key lives in a PKCS#11 token (SoftHSM) logs in to the demo portal: the
/// challenge is signed inside the token by `pkcs11-tool`, and the portal shows the ID token's
/// certificate-login `acr`, `amr` and thumbprint.
#[cfg(feature = "dev")]
async fn softhsm_login_to_the_portal(backend: Backend) {
    use base64::Engine;
    use xacthuc::dev_setup::{PORTAL_CLIENT_ID, register_portal};
    use xacthuc::portal::PortalConfig;

    let Some(token) = support::softhsm::Token::with_p256_key() else { return };
    let portal_port = support::free_port();
    let Some(op) = support::officers::start_with(backend, |c| c.portal_port = portal_port).await else { return };
    let officer = officer_with_id(&op, "cb.token", PID).await;
    let issued = ca::issue_with(
        ca::ca(&op),
        serde_json::json!({
            "name": "Trần Thị Bình", "personal_id": PID, "unit": "UBND xã An Lư",
            "province": "Thành phố Hải Phòng", "public_key_pem": token.public_key_pem(),
        }),
    )
    .await;
    assert!(issued.key_pem.is_none(), "the key never left the token");
    register(&op, &officer, &issued.cert_pem, true).await;
    let thumbprint = parse_certificate(issued.cert_pem.as_bytes()).unwrap().thumbprint;

    let secret = register_portal(&op.state.db, &op.config, unix_now()).await.unwrap();
    let portal_base = format!("http://localhost:{portal_port}");
    let portal = xacthuc::portal::router(PortalConfig {
        issuer: op.config.issuer.clone(),
        base_url: portal_base.clone(),
        client_id: PORTAL_CLIENT_ID.into(),
        client_secret: secret,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", portal_port)).await.unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, portal).await });

    // The portal sends the officer to the provider, demanding the certificate level.
    let b = Browser::new();
    let issuer = op.config.issuer.trim_end_matches('/').to_owned();
    let mut r = b.http.get(format!("{portal_base}/login?kind=officer-cert")).send().await.unwrap();
    let mut url = url::Url::parse(&portal_base).unwrap();
    let c = loop {
        let loc = support::officers::location(&r);
        assert!(r.status().is_redirection(), "{} at {url}: {}", r.status(), r.text().await.unwrap_or_default());
        url = url.join(&loc).unwrap();
        if url.path() == "/login" {
            break support::certlogin::choose_certificate(&issuer, &b, url.as_str()).await;
        }
        r = b.http.get(url.clone()).send().await.unwrap();
    };
    let signature = base64::engine::general_purpose::STANDARD.encode(token.sign(c.message.as_bytes()));
    let mut r = submit(&issuer, &b, &c, &issued.cert_pem, &signature).await;
    // Consent if asked, then back to the portal's callback and its home page.
    let home = loop {
        if r.status() == 200 {
            break r.text().await.unwrap();
        }
        let loc = support::officers::location(&r);
        assert!(r.status().is_redirection(), "{}: {}", r.status(), r.text().await.unwrap_or_default());
        url = url.join(&loc).unwrap();
        r = if url.path() == "/consent" {
            let body = b.http.get(url.clone()).send().await.unwrap().text().await.unwrap();
            let tx = support::officers::hidden(&body, "tx");
            b.http
                .post(format!("{issuer}/consent"))
                .form(&[("tx", tx.as_str()), ("decision", "allow")])
                .send()
                .await
                .unwrap()
        } else {
            b.http.get(url.clone()).send().await.unwrap()
        };
    };
    let home = support::officers::unescape(&home);
    assert!(home.contains("id=\"claims\""), "{home}");
    assert!(home.contains(CERT_ACR), "the acr: {home}");
    assert!(home.contains("x5t#S256") && home.contains(&thumbprint), "the thumbprint: {home}");
    assert!(home.contains(r#"["pop"]"#), "the amr: {home}");
    server.abort();
    op.stop().await;
}
#[cfg(feature = "dev")]
on_both_backends!(softhsm_portal, super::softhsm_login_to_the_portal);
