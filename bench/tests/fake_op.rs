//! The tool against a small fake provider served in this test: a waiting room (self-refreshing
//! queue pages), a login form filled from the identity list, the code, an ES256 ID token checked
//! against the JWKS. Also: a page no rule knows, and a wrong password, counted as errors.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use xacthuc_bench::run::{RunOptions, run};
use xacthuc_bench::scenario::{LoadFile, Overrides, Scenario};

const EC_PRIV: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUNw3Z9z4cm3vVliW
1F/kaVNSZN5FHNfVX/E1Dz9ih96hRANCAATPYUSJFHMNRfOQyMleGB1CprtnfivT
UIdNI/7cDXQrsV7B8wPdr1gPxxEA+/h0ycLX9GmAv4oetnCc8yHNNaVe
-----END PRIVATE KEY-----";
const EC_JWK: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig",
"x":"z2FEiRRzDUXzkMjJXhgdQqa7Z34r01CHTSP-3A10K7E","y":"XsHzA92vWA_HEQD7-HTJwtf0aYC_ih62cJzzIc01pV4"}]}"#;

type Q = Query<HashMap<String, String>>;

fn queue_page(next: &str) -> Response {
    Html(format!(
        "<!doctype html><html><head><meta http-equiv=\"refresh\" content=\"0.1; url={next}\">\
         <title>Waiting room</title></head><body><p>You are number 3 in the queue.</p></body></html>"
    ))
    .into_response()
}

fn ctx_of(q: &HashMap<String, String>) -> String {
    // state|nonce|redirect_uri, carried through the pages (the fake keeps no state).
    format!("{}|{}|{}", q["state"], q["nonce"], q["redirect_uri"])
}

async fn authorize(Query(q): Q) -> Response {
    assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"));
    let ctx = url::form_urlencoded::byte_serialize(ctx_of(&q).as_bytes()).collect::<String>();
    queue_page(&format!("/queue?n=1&amp;ctx={ctx}"))
}

async fn queue(Query(q): Q) -> Response {
    let n: u32 = q["n"].parse().unwrap();
    let ctx = url::form_urlencoded::byte_serialize(q["ctx"].as_bytes()).collect::<String>();
    if n < 3 {
        return queue_page(&format!("/queue?n={}&amp;ctx={ctx}", n + 1));
    }
    let ctx = q["ctx"].replace('"', "&quot;");
    Html(format!(
        "<html><body><form method=post action=/login><input type=hidden name=ctx value=\"{ctx}\">\
         <input name=user><input name=password type=password><button>Go</button></form></body></html>"
    ))
    .into_response()
}

async fn login(Form(f): Form<HashMap<String, String>>) -> Response {
    if f.get("password").map(String::as_str) != Some("secret-alice") {
        return Html("<html><head><title>Wrong password</title></head><body>No.</body></html>").into_response();
    }
    let mut it = f["ctx"].splitn(3, '|');
    let (state, nonce, ru) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let loc = format!("{ru}?code={nonce}&state={state}");
    (StatusCode::SEE_OTHER, [(header::LOCATION, loc)]).into_response()
}

async fn token(State(issuer): State<Arc<String>>, Form(f): Form<HashMap<String, String>>) -> Response {
    assert!(f.contains_key("code_verifier"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = serde_json::json!({"iss": *issuer, "aud": "bench", "sub": "alice", "exp": now + 300,
        "iat": now, "nonce": f["code"]});
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("k1".into());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(EC_PRIV.as_bytes()).unwrap();
    let id_token = jsonwebtoken::encode(&h, &claims, &key).unwrap();
    Json(serde_json::json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token})).into_response()
}

async fn start() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let disc = serde_json::json!({"issuer": issuer, "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks")});
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { Json(disc) }))
        .route("/jwks", get(|| async { ([(header::CONTENT_TYPE, "application/json")], EC_JWK) }))
        .route("/authorize", get(authorize))
        .route("/queue", get(queue))
        .route("/login", post(login))
        .route("/token", post(token))
        .with_state(Arc::new(issuer.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

const SCENARIO: &str = r#"
[provider]
issuer = "http://replaced"
client_id = "bench"
client_secret = "s"
redirect_uri = "http://127.0.0.1:9/cb"
scope = "openid"

[identities]
inline = [{ user = "alice", password = "secret-alice" }, { user = "bob", password = "nope" }]

[[pages]]
name = "login-form"
when_selector = "form[action='/login']"
form = "form[action='/login']"
fields = { user = "{{user}}", password = "{{password}}" }

[[pages]]
name = "queue"
when_selector = "meta[http-equiv=refresh]"
queue = true
"#;

fn scenario(issuer: &str, load: LoadFile, identities: &str) -> Arc<Scenario> {
    let text = SCENARIO.replace("{ user = \"bob\", password = \"nope\" }", identities);
    let o = Overrides { issuer: Some(issuer.into()), load, ..Default::default() };
    Arc::new(Scenario::from_str(&text, Path::new("."), &o).unwrap())
}

#[tokio::test]
async fn queue_time_forms_and_id_tokens() {
    let issuer = start().await;
    // Only alice (the second row repeats her): every login passes three queue pages.
    let sc = scenario(
        &issuer,
        LoadFile { users: Some(2), iterations: Some(4), ..Default::default() },
        "{ user = \"alice\", password = \"secret-alice\" }",
    );
    let r = run(sc, RunOptions { pids: vec![std::process::id()], quiet: true, label: "fake".into() }).await.unwrap();
    assert_eq!((r.ops_ok, r.ops_failed), (4, 0), "{}", r.table());
    assert_eq!(r.waiting_room.logins_queued, 4);
    assert_eq!(r.waiting_room.pages_seen, 12);
    assert!(r.waiting_room.total_seconds >= 4.0 * 0.3, "{}", r.waiting_room.total_seconds);
    let login = &r.operations[0];
    assert!(login.p50_ms >= 300.0, "the whole login includes its time in the queue: {}", login.p50_ms);
    let names: Vec<&str> = r.steps.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"queue queue") && names.contains(&"submit login-form"), "{names:?}");
    assert!(r.table().contains("waiting room: 4 logins queued"));

    // Open model, a small spike; bob's wrong password ends on a page no rule knows.
    let sc = scenario(
        &issuer,
        LoadFile { arrival: Some("spike".into()), count: Some(6), within: Some("300ms".into()), ..Default::default() },
        "{ user = \"bob\", password = \"nope\" }",
    );
    let r = run(sc, RunOptions { pids: vec![], quiet: true, label: String::new() }).await.unwrap();
    assert_eq!((r.ops_ok, r.ops_failed), (3, 3), "{}", r.table());
    assert_eq!(r.errors.len(), 1);
    assert!(r.errors[0].kind.starts_with("login: unexpected_page at submit login-form"), "{:?}", r.errors);
    assert!(r.errors[0].example.contains("Wrong password"), "{:?}", r.errors);
    let dir = std::env::temp_dir().join(format!("xacthuc-bench-fake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    r.write_json(&dir.join("r.json")).unwrap();
    r.write_svg(&dir.join("r.svg")).unwrap();
    let back = xacthuc_bench::report::Report::read_json(&dir.join("r.json")).unwrap();
    assert_eq!(back.ops_ok, 3);
    assert!(std::fs::read_to_string(dir.join("r.svg")).unwrap().starts_with("<svg"));
    std::fs::remove_dir_all(&dir).unwrap();
}
