//! Review findings on clients, over real HTTP on both backend pairs: the audience of client
//! assertions, request objects and assertions kept apart, request-object lifetime and replay,
//! a `sid` of its own per client, the pairwise salt encrypted at rest, and client changes
//! taking effect (at once here, within the cache TTL elsewhere).

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::browser::{Browser, ConsentChoice, EidLogin};
use support::keys::ClientKey;
use support::op::{Backend, TestOp, http};
use tokio::sync::Mutex;
use xacthuc::crypto::sha256_hex;
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9.qwertyuiopasdfghjklzxcvbnm0123456789";
const NGOC: (&str, &str) = ("001188271828", "271828");

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn jti() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn redirect(id: &str) -> String {
    format!("https://{id}.example.vn/cb")
}

/// A private_key_jwt client that may use client credentials and the code flow.
async fn register_pkjwt(op: &TestOp, id: &str, key: &ClientKey) {
    let c = Client {
        jwks: Some(key.jwks()),
        scopes: ["openid", "profile", "api.read"].map(String::from).to_vec(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::ClientCredentials],
        ..Client::new(id, id, AuthMethod::PrivateKeyJwt, vec![redirect(id)])
    };
    op.state.db.put_client(&c, 0).await.expect("register");
}

fn secret_client(id: &str, secret: &str, backchannel: Option<String>) -> Client {
    Client {
        secret_hash: Some(sha256_hex(secret)),
        backchannel_logout_uri: backchannel,
        post_logout_redirect_uris: vec![format!("https://{id}.example.vn/bye")],
        scopes: ["openid", "profile", "api.read"].map(String::from).to_vec(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::ClientCredentials],
        ..Client::new(id, id, AuthMethod::ClientSecretBasic, vec![redirect(id)])
    }
}

/// `POST /token` with client credentials, authenticated by `assertion`.
async fn token_with_assertion(op: &TestOp, assertion: &str) -> u16 {
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "api.read"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    http().post(op.url("/token")).form(&form).send().await.unwrap().status().as_u16()
}

async fn token_with_secret(op: &TestOp, id: &str, secret: &str) -> u16 {
    let form = [("grant_type", "client_credentials"), ("scope", "api.read")];
    http().post(op.url("/token")).basic_auth(id, Some(secret)).form(&form).send().await.unwrap().status().as_u16()
}

fn assertion_claims(id: &str, aud: Value) -> Value {
    json!({ "iss": id, "sub": id, "aud": aud, "iat": now(), "exp": now() + 60, "jti": jti() })
}

/// The claims of a valid request object of `id` (fresh `jti`).
fn request_object(op: &TestOp, id: &str) -> Value {
    json!({
        "iss": id, "aud": op.base, "iat": now(), "exp": now() + 300, "jti": jti(),
        "client_id": id, "response_type": "code", "redirect_uri": redirect(id), "scope": "openid",
        "state": "st", "nonce": "n", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
    })
}

/// `POST /par` of `request` by client `id`, authenticated with a fresh assertion.
async fn push(op: &TestOp, id: &str, key: &ClientKey, request: &str) -> (u16, Value) {
    let form = [
        ("client_id", id.to_owned()),
        ("request", request.to_owned()),
        ("client_assertion_type", JWT_BEARER.to_owned()),
        ("client_assertion", key.assertion(id, &op.base)),
    ];
    let r = http().post(op.url("/par")).form(&form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn assertion_audience_is_the_issuer_only(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let key = ClientKey::generate("k");
    register_pkjwt(&op, "svc", &key).await;
    for aud in [json!(op.base), json!([op.base])] {
        assert_eq!(token_with_assertion(&op, &key.sign(&assertion_claims("svc", aud.clone()))).await, 200, "{aud}");
    }
    for aud in [
        json!(op.url("/token")),
        json!(op.url("/par")),
        json!(format!("{}/", op.base)),
        json!([op.base, "https://other.example.vn"]),
        json!([op.url("/token")]),
    ] {
        assert_eq!(token_with_assertion(&op, &key.sign(&assertion_claims("svc", aud.clone()))).await, 401, "{aud}");
    }
    op.stop().await;
}
on_both_backends!(assertion_audience, super::assertion_audience_is_the_issuer_only);

async fn request_objects_and_assertions_are_not_interchangeable(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let key = ClientKey::generate("k");
    register_pkjwt(&op, "rp", &key).await;
    // A request object (it passes through the browser) presented as a client assertion, even
    // one that also carries `sub`: refused for its typ, and for its authorization parameters.
    let mut obj = request_object(&op, "rp");
    obj["sub"] = json!("rp");
    for typ in [Some("oauth-authz-req+jwt"), Some("JWT"), None] {
        let mut o = obj.clone();
        o["jti"] = json!(jti());
        assert_eq!(token_with_assertion(&op, &key.sign_typed(typ, &o)).await, 401, "request object typ {typ:?}");
    }
    // An assertion explicitly typed oauth-authz-req+jwt is refused even with assertion claims.
    let claims = assertion_claims("rp", json!(op.base));
    assert_eq!(token_with_assertion(&op, &key.sign_typed(Some("oauth-authz-req+jwt"), &claims)).await, 401);
    for typ in [Some("client-authentication+jwt"), Some("JWT"), None] {
        let claims = assertion_claims("rp", json!(op.base));
        assert_eq!(token_with_assertion(&op, &key.sign_typed(typ, &claims)).await, 200, "assertion typ {typ:?}");
    }
    // A client assertion presented as a request object: refused (no authorization parameters).
    let (status, body) = push(&op, "rp", &key, &key.assertion("rp", &op.base)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request_object")));
    // Typed as an assertion, it is refused even with the parameters of a request.
    let (status, body) = push(&op, "rp", &key, &key.sign_typed(Some("client-authentication+jwt"), &obj)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request_object")));
    // The same object typed as a request object is accepted.
    let (status, body) = push(&op, "rp", &key, &key.sign_typed(Some("oauth-authz-req+jwt"), &obj)).await;
    assert_eq!(status, 201, "{body}");
    op.stop().await;
}
on_both_backends!(not_interchangeable, super::request_objects_and_assertions_are_not_interchangeable);

/// Alters the claims of a request object made at the given time.
type Change = fn(&mut Value, i64);

async fn request_objects_are_short_lived_and_single_use(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let key = ClientKey::generate("k");
    register_pkjwt(&op, "rp", &key).await;
    let t = now();
    let variants: [(&str, Change); 5] = [
        ("no exp", |o, _| drop(o.as_object_mut().unwrap().remove("exp"))),
        ("no jti", |o, _| drop(o.as_object_mut().unwrap().remove("jti"))),
        // exp itself is less than an hour ahead in these two: the span is what is refused.
        ("exp - iat above an hour", |o, t| {
            o["iat"] = json!(t - 600);
            o["exp"] = json!(t + 3100);
        }),
        ("exp - nbf above an hour, no iat", |o, t| {
            o.as_object_mut().unwrap().remove("iat");
            o["nbf"] = json!(t - 100);
            o["exp"] = json!(t + 3520);
        }),
        ("exp two hours ahead, no iat", |o, t| {
            o.as_object_mut().unwrap().remove("iat");
            o["exp"] = json!(t + 7200);
        }),
    ];
    for (what, change) in variants {
        let mut o = request_object(&op, "rp");
        change(&mut o, t);
        let (status, body) = push(&op, "rp", &key, &key.sign(&o)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request_object")), "{what}: {body}");
    }
    // Exactly an hour is allowed.
    let mut o = request_object(&op, "rp");
    o["exp"] = json!(t + 3600);
    o["iat"] = json!(t);
    assert_eq!(push(&op, "rp", &key, &key.sign(&o)).await.0, 201);
    // A request object is used once, also across instances (the replay memory is the shared
    // session store; the embedded store is per process, so that part is for the real pair).
    let signed = key.sign(&request_object(&op, "rp"));
    assert_eq!(push(&op, "rp", &key, &signed).await.0, 201);
    let (status, body) = push(&op, "rp", &key, &signed).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request_object")), "replay: {body}");
    if matches!(backend, Backend::Real) {
        let other = op.another_instance().await;
        let fresh = key.sign(&request_object(&op, "rp"));
        let form = |request: &str| -> HashMap<String, String> {
            [
                ("client_id", "rp".to_owned()),
                ("request", request.to_owned()),
                ("client_assertion_type", JWT_BEARER.to_owned()),
                ("client_assertion", key.assertion("rp", &op.base)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
        };
        let headers = axum::http::HeaderMap::new();
        assert!(xacthuc::oidc::par::push(&other.oidc, &headers, &form(&fresh), None).await.is_ok());
        assert_eq!(push(&op, "rp", &key, &fresh).await.0, 400, "used on another instance");
        // Client assertions too: one accepted by the other instance is refused here.
        let assertion = key.assertion("rp", &op.base);
        let form: HashMap<String, String> =
            [("client_assertion_type", JWT_BEARER), ("client_assertion", assertion.as_str())]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        assert!(xacthuc::oidc::client_auth::authenticate(&other.oidc, &headers, &form).await.is_ok());
        assert_eq!(token_with_assertion(&op, &assertion).await, 401, "assertion used on another instance");
    }
    op.stop().await;
}
on_both_backends!(request_object_lifetime_replay, super::request_objects_are_short_lived_and_single_use);

/// A relying-party stub that records the logout tokens POSTed to `/bcl/<client>`.
async fn logout_sink() -> (u16, Arc<Mutex<HashMap<String, String>>>) {
    let received: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/bcl/{client}",
        axum::routing::post(
            move |axum::extract::Path(client): axum::extract::Path<String>,
                  axum::extract::Form(f): axum::extract::Form<HashMap<String, String>>| {
                let sink = sink.clone();
                async move {
                    sink.lock().await.insert(client, f.get("logout_token").cloned().unwrap_or_default());
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, received)
}

/// Logs the browser in to `client` (SSO after the first time) and returns its ID token.
async fn id_token_for(op: &TestOp, b: &Browser, client: &str) -> String {
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let mut u = url::Url::parse(&op.url("/authorize")).unwrap();
    u.query_pairs_mut().extend_pairs([
        ("client_id", client),
        ("redirect_uri", &redirect(client)),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let eid = EidLogin::Form { login: NGOC.0, passcode: NGOC.1 };
    let code = b.journey(u.as_str(), &redirect(client), eid, ConsentChoice::Allow).await.code();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", &redirect(client)),
        ("code_verifier", VERIFIER),
    ];
    let r = http().post(op.url("/token")).basic_auth(client, Some("secret-of-the-rp")).form(&form).send().await;
    let body: Value = r.unwrap().json().await.unwrap();
    body["id_token"].as_str().expect("id_token").to_owned()
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn sid_is_per_client(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let (port, received) = logout_sink().await;
    for id in ["rpa", "rpb"] {
        let c = secret_client(id, "secret-of-the-rp", Some(format!("http://127.0.0.1:{port}/bcl/{id}")));
        op.state.db.put_client(&c, 0).await.unwrap();
    }
    let b = Browser::new();
    let (a, bb) = (claims_of(&id_token_for(&op, &b, "rpa").await), id_token_for(&op, &b, "rpb").await);
    let b_claims = claims_of(&bb);
    let (sid_a, sid_b) = (a["sid"].as_str().unwrap().to_owned(), b_claims["sid"].as_str().unwrap().to_owned());
    assert_ne!(sid_a, sid_b, "two services must not be able to join their users on sid");
    // A second login to the same client in the same session sees the same sid.
    assert_eq!(claims_of(&id_token_for(&op, &b, "rpa").await)["sid"], json!(sid_a));
    // RP-initiated logout with rpb's hint matches the session (no confirmation page).
    let r = b
        .http
        .get(op.url("/logout"))
        .query(&[("id_token_hint", bb.as_str()), ("post_logout_redirect_uri", "https://rpb.example.vn/bye")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "https://rpb.example.vn/bye");
    // Each client's logout token carries the sid that client saw.
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.lock().await.len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = received.lock().await.clone();
    assert_eq!(claims_of(got.get("rpa").expect("rpa notified"))["sid"], json!(sid_a));
    assert_eq!(claims_of(got.get("rpb").expect("rpb notified"))["sid"], json!(sid_b));
    op.stop().await;
}
on_both_backends!(sid_per_client, super::sid_is_per_client);

fn pairwise(sector: &str, account: &str, salt: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{sector}|{account}|{salt}")))
}

async fn pairwise_salt_is_encrypted_at_rest(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let salt = op.state.oidc.pairwise_salt.clone();
    let stored = op.state.db.setting("pairwise_salt").await.unwrap().expect("salt row");
    assert_ne!(stored, salt);
    assert!(!stored.contains(&salt), "the stored value must not reveal the salt");
    let client = secret_client("rps", "s", None);
    let sub = op.state.oidc.subject_for(&client, "acct-1");
    // A restart (or another replica) reads the same salt: subjects are stable.
    let again = op.another_instance().await;
    assert_eq!(again.oidc.pairwise_salt, salt);
    assert_eq!(again.oidc.subject_for(&client, "acct-1"), sub);
    // An older installation stored the salt in clear: it is encrypted in place, value kept.
    let legacy = "legacy-plaintext-salt-0123456789abcdefghijkl";
    op.state.db.set_setting("pairwise_salt", legacy, 0).await.unwrap();
    let migrated = op.another_instance().await;
    assert_eq!(migrated.oidc.pairwise_salt, legacy);
    assert_eq!(migrated.oidc.subject_for(&client, "acct-1"), pairwise("rps.example.vn", "acct-1", legacy));
    let stored = op.state.db.setting("pairwise_salt").await.unwrap().expect("salt row");
    assert!(!stored.contains(legacy), "the legacy salt was encrypted in place");
    let after = op.another_instance().await;
    assert_eq!(after.oidc.subject_for(&client, "acct-1"), pairwise("rps.example.vn", "acct-1", legacy));
    op.stop().await;
}
on_both_backends!(pairwise_salt_encrypted, super::pairwise_salt_is_encrypted_at_rest);

/// Polls until `id` with `secret` gets `status`, for at most `limit`.
async fn settles_to(op: &TestOp, id: &str, secret: &str, status: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if token_with_secret(op, id, secret).await == status {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn client_changes_take_effect(backend: Backend) {
    const TTL: u64 = 2;
    let Some(op) = TestOp::start_with(backend, |c| c.client_cache_ttl_secs = TTL).await else { return };
    let clients = &op.state.oidc.clients;
    // Through the provider's own functions: effective at once on this instance.
    clients.save(&secret_client("svc", "first-secret", None), now()).await.unwrap();
    assert_eq!(token_with_secret(&op, "svc", "first-secret").await, 200);
    clients.save(&secret_client("svc", "second-secret", None), now()).await.unwrap();
    assert_eq!(token_with_secret(&op, "svc", "first-secret").await, 401, "rotated secret refused at once");
    assert_eq!(token_with_secret(&op, "svc", "second-secret").await, 200);
    assert!(clients.remove("svc").await.unwrap());
    assert_eq!(token_with_secret(&op, "svc", "second-secret").await, 401, "removed client refused at once");
    assert!(!clients.remove("svc").await.unwrap());
    let invalid = Client { redirect_uris: vec!["javascript:alert(1)".into()], ..secret_client("bad", "s", None) };
    assert!(clients.save(&invalid, now()).await.is_err(), "registrations are validated");
    // Directly in the database, as another instance would: effective within the TTL.
    clients.save(&secret_client("svc2", "first-secret", None), now()).await.unwrap();
    assert_eq!(token_with_secret(&op, "svc2", "first-secret").await, 200);
    op.state.db.put_client(&secret_client("svc2", "second-secret", None), now()).await.unwrap();
    let bound = Duration::from_secs(TTL + 2);
    assert!(settles_to(&op, "svc2", "first-secret", 401, bound).await, "rotation elsewhere seen within the TTL");
    assert_eq!(token_with_secret(&op, "svc2", "second-secret").await, 200);
    let other = op.another_instance().await;
    assert!(other.oidc.clients.remove("svc2").await.unwrap());
    assert!(settles_to(&op, "svc2", "second-secret", 401, bound).await, "removal elsewhere seen within the TTL");
    op.stop().await;
}
on_both_backends!(client_changes, super::client_changes_take_effect);
