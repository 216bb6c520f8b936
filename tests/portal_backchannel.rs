//! The portal's back-channel logout receiver (Back-Channel Logout 1.0 §2.6) against the stub
//! provider's JWKS: a good token ends exactly the matching session; each defect is refused with
//! 400 `invalid_request` and ends nothing.

// The demo portal exists only in builds with development mode.
#![cfg(feature = "dev")]

#[path = "support/portal_stub.rs"]
mod portal_stub;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_stub::*;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn deliver(portal: &Router, token: &str) -> (StatusCode, Value) {
    let form = format!("logout_token={}", urlenc(token));
    let req = Request::post("/backchannel-logout")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let r = portal.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let text = body(r).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn events(portal: &Router) -> Vec<Value> {
    let text = body(portal.clone().oneshot(get_req("/debug/backchannel", None)).await.unwrap()).await;
    serde_json::from_str(&text).unwrap()
}

async fn logged_in(portal: &Router, cookie: &str) -> bool {
    body(portal.clone().oneshot(get_req("/", Some(cookie))).await.unwrap()).await.contains(r#"id="claims""#)
}

#[tokio::test]
async fn valid_logout_token_ends_the_matching_session() {
    let op = Stub::start().await;
    let portal = op.portal();
    let cookie = op.login(&portal, "").await;
    assert!(logged_in(&portal, &cookie).await);

    // A token for another provider session ends nothing but is still a valid request.
    let mut other = op.logout_claims();
    other["sid"] = json!("another-sid");
    let (status, _) = deliver(&portal, &op.key.sign(Some("logout+jwt"), &other)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(logged_in(&portal, &cookie).await);

    let (status, _) = deliver(&portal, &op.key.sign(Some("logout+jwt"), &op.logout_claims())).await;
    assert_eq!(status, StatusCode::OK);
    let page = body(portal.clone().oneshot(get_req("/", Some(&cookie))).await.unwrap()).await;
    assert!(!page.contains(r#"id="claims""#), "the session must be over");
    assert!(page.contains(r#"id="login""#));
    // Told why, once.
    assert!(page.contains("Phiên của bạn đã kết thúc vì bạn đăng xuất ở hệ thống xác thực."), "{page}");
    let page = body(portal.clone().oneshot(get_req("/", Some(&cookie))).await.unwrap()).await;
    assert!(!page.contains("Phiên của bạn đã kết thúc") && page.contains(r#"id="login""#), "{page}");

    let ev = events(&portal).await;
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1]["sid"], json!(SID));
    assert_eq!(ev[1]["sub"], json!(SUB));
    assert_eq!(ev[1]["sessions_ended"], json!(1));
    assert_eq!(ev[0]["sessions_ended"], json!(0));
    assert!(ev[1]["received_at"].as_i64().is_some_and(|t| t > 0));
}

#[tokio::test]
async fn sub_only_token_ends_the_subjects_sessions() {
    let op = Stub::start().await;
    let portal = op.portal();
    let cookie = op.login(&portal, "").await;
    let mut c = op.logout_claims();
    c.as_object_mut().unwrap().remove("sid");
    let (status, _) = deliver(&portal, &op.key.sign(Some("logout+jwt"), &c)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!logged_in(&portal, &cookie).await);
}

#[tokio::test]
async fn defective_logout_tokens_are_refused() {
    let op = Stub::start().await;
    let portal = op.portal();
    let cookie = op.login(&portal, "").await;
    let good = op.logout_claims();
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let mut both_ids_gone = without("sid");
    both_ids_gone.as_object_mut().unwrap().remove("sub");
    let hs256 = {
        let mut h = Header::new(Algorithm::HS256);
        h.typ = Some("logout+jwt".into());
        h.kid = Some("k1".into());
        jsonwebtoken::encode(&h, &good, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
    };
    let sign = |c: &Value| op.key.sign(Some("logout+jwt"), c);
    let cases: Vec<(&str, String)> = vec![
        ("nonce present", sign(&with("nonce", json!("n")))),
        ("no events", sign(&without("events"))),
        ("events without the logout event", sign(&with("events", json!({"http://example.com/other": {}})))),
        ("wrong aud", sign(&with("aud", json!("another-client")))),
        ("wrong iss", sign(&with("iss", json!("http://evil.test")))),
        ("no iat", sign(&without("iat"))),
        ("iat in the future", sign(&with("iat", json!(now() + 3600)))),
        ("expired", sign(&with("exp", json!(now() - 3600)))),
        ("no jti", sign(&without("jti"))),
        ("neither sid nor sub", sign(&both_ids_gone)),
        ("typ JWT (an ID token shape)", op.key.sign(Some("JWT"), &good)),
        ("no typ", op.key.sign(None, &good)),
        ("unknown key", op.other_key.sign(Some("logout+jwt"), &good)),
        ("HS256 keyed with a shared secret", hs256),
        ("not a JWT", "not-a-jwt".into()),
    ];
    for (name, token) in cases {
        let (status, json) = deliver(&portal, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name} must be refused");
        assert_eq!(json["error"], json!("invalid_request"), "{name}");
    }
    // A missing parameter too.
    let req = Request::post("/backchannel-logout")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("other=1"))
        .unwrap();
    let r = portal.clone().oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    assert!(logged_in(&portal, &cookie).await, "no refused token may end the session");
    assert!(events(&portal).await.is_empty());
    // And the good token still works, so the refusals above were about their defects.
    assert_eq!(deliver(&portal, &sign(&good)).await.0, StatusCode::OK);
    assert!(!logged_in(&portal, &cookie).await);
}
