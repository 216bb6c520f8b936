//! The admin API over real HTTP on both backends: tokens obtained the way real callers get them
//! (an administrator's login through a login method, client_credentials with the `admin`
//! scope), the access-control matrix of a unit administrator, JSON errors, the clients shared
//! with the CLI, sessions, and the OpenAPI document.

mod support;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use support::browser::Browser;
use support::op::{Backend, TestOp, http};
use xacthuc::app::MethodPlugin;
use xacthuc::crypto::sha256_hex;
use xacthuc::officers::directory::AdminRole;
use xacthuc::officers::{NewOfficer, NewUnit, UnitKind};
use xacthuc::oidc::Provider;
use xacthuc::oidc::acr::{Class, Level, Party};
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};
use xacthuc::oidc::login::{Authenticated, LoginMethod};
use xacthuc::oidc::routes::login::{self as op, PageForm};
use xacthuc::oidc::routes::pages::PageError;
use xacthuc::web::page::Text;

const CONSOLE_REDIRECT: &str = "https://console.example.vn/cb";
const SECRET: &str = "console-secret-value-123";
const ACR: &str = "urn:test:acr:officer";
const METHOD: &str = "test-officer";

static CLASSES: &[Class] =
    &[Class { acr: ACR, level: Level::new(Party::Officer, 1), name: Text::new("Cán bộ thử", "Test officer") }];

#[derive(Deserialize)]
struct StartForm {
    tx: String,
    /// The account (officer id) the test "authenticates".
    account: String,
    /// A password-only login (no second factor).
    #[serde(default)]
    single_factor: bool,
}

/// A login method that authenticates whichever officer the test names.
async fn start(
    State(p): State<Provider>,
    headers: HeaderMap,
    PageForm(f): PageForm<StartForm>,
) -> Result<Response, PageError> {
    let (tx, _lang) = op::begin(&p, &headers, &f.tx, METHOD).await?;
    let who = Authenticated {
        method: METHOD,
        account_id: f.account,
        acr: ACR,
        amr: if f.single_factor { vec!["pwd".into()] } else { vec!["pwd".into(), "otp".into(), "mfa".into()] },
        auth_time: Some(xacthuc::clock::unix_now()),
        actor: None,
        cert_thumbprint: None,
    };
    Ok(op::finish(&p, &headers, tx, who).await)
}

fn plugin() -> MethodPlugin {
    MethodPlugin {
        method: LoginMethod {
            id: METHOD,
            name: Text::new("Cán bộ thử", "Test officer"),
            hint: None,
            classes: CLASSES,
            start: "/login/test-officer",
        },
        routes: |p| Router::new().route("/login/test-officer", post(start)).with_state(p),
    }
}

/// The fixture: province P with units A (and A1 below it) and B; a unit administrator of A, an
/// officer in A1 and one in B; an admin console client and an automation client.
struct World {
    op: TestOp,
    a: String,
    a1: String,
    b: String,
    admin_a: String,
    in_a1: String,
    in_b: String,
}

async fn world(backend: Backend) -> Option<World> {
    let op = TestOp::start_with_methods(backend, |_| {}, vec![plugin()]).await?;
    let db = &op.state.db;
    let unit = |code: &str, kind, parent: Option<&str>| NewUnit {
        code: code.into(),
        name: format!("Unit {code}"),
        kind,
        parent_code: parent.map(String::from),
    };
    let root = db.create_unit(&unit("P", UnitKind::Province, None), 1).await.unwrap();
    let a = db.create_unit(&unit("A", UnitKind::Department, Some("P")), 1).await.unwrap();
    let a1 = db.create_unit(&unit("A1", UnitKind::Agency, Some("A")), 1).await.unwrap();
    let b = db.create_unit(&unit("B", UnitKind::Commune, Some("P")), 1).await.unwrap();
    let officer = |username: &str, unit_code: &str| NewOfficer {
        username: username.into(),
        full_name: format!("Officer {username}"),
        unit_code: unit_code.into(),
        ..NewOfficer::default()
    };
    let admin_a = db.create_officer(&officer("admin.a", "A"), 1).await.unwrap();
    db.grant_admin(&admin_a.id, AdminRole::UnitAdmin, &a.id).await.unwrap();
    let in_a1 = db.create_officer(&officer("clerk.a1", "A1"), 1).await.unwrap();
    let in_b = db.create_officer(&officer("clerk.b", "B"), 1).await.unwrap();
    let console = Client {
        secret_hash: Some(sha256_hex(SECRET)),
        scopes: ["openid", "admin"].map(String::from).to_vec(),
        trusted: true,
        ..Client::new("console", "Admin console", AuthMethod::ClientSecretBasic, vec![CONSOLE_REDIRECT.into()])
    };
    db.put_client(&console, 0).await.unwrap();
    for (id, scopes) in [("automation", vec!["admin"]), ("reporting", vec!["reports"])] {
        let c = Client {
            secret_hash: Some(sha256_hex(SECRET)),
            scopes: scopes.into_iter().map(String::from).collect(),
            grant_types: vec![GrantType::ClientCredentials],
            ..Client::new(id, id, AuthMethod::ClientSecretBasic, Vec::new())
        };
        db.put_client(&c, 0).await.unwrap();
    }
    let _ = root;
    Some(World { op, a: a.id, a1: a1.id, b: b.id, admin_a: admin_a.id, in_a1: in_a1.id, in_b: in_b.id })
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Logs `account` in to the console in a fresh browser; the access token and the browser.
async fn officer_token(op: &TestOp, account: &str) -> (String, Browser) {
    officer_token_with(op, account, "false").await
}

/// As [`officer_token`], `single_factor` saying whether the login had no second factor.
async fn officer_token_with(op: &TestOp, account: &str, single_factor: &str) -> (String, Browser) {
    let b = Browser::new();
    let mut u = url::Url::parse(&op.url("/authorize")).unwrap();
    let challenge = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        <sha2::Sha256 as sha2::Digest>::digest(b"verifier-verifier-verifier-verifier-verifier-0123"),
    );
    u.query_pairs_mut().extend_pairs([
        ("client_id", "console"),
        ("redirect_uri", CONSOLE_REDIRECT),
        ("response_type", "code"),
        ("scope", "openid admin"),
        ("state", "s"),
        ("nonce", "n"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let r = b.http.get(u.as_str()).send().await.unwrap();
    let loc = location(&r);
    assert!(loc.starts_with("/login?tx="), "a login page: {loc}");
    let page = b.http.get(op.url(&loc)).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"tx\" value=\"";
    let at = page.find(marker).unwrap_or_else(|| panic!("no tx in {page}")) + marker.len();
    let tx = page[at..].split('"').next().unwrap_or_default().to_owned();
    let mut r = b
        .http
        .post(op.url("/login/test-officer"))
        .form(&[("tx", tx.as_str()), ("account", account), ("single_factor", single_factor)])
        .send()
        .await
        .unwrap();
    for _ in 0..4 {
        if location(&r).starts_with(CONSOLE_REDIRECT) {
            break;
        }
        assert!(r.status().is_redirection(), "{} {}", r.status(), r.text().await.unwrap_or_default());
        r = b.http.get(op.url(&location(&r))).send().await.unwrap();
    }
    let loc = location(&r);
    let back = match url::Url::parse(&loc) {
        Ok(u) => u,
        Err(_) => panic!("back at the console: {} {loc} {}", r.status(), r.text().await.unwrap_or_default()),
    };
    let code = back.query_pairs().find(|(k, _)| k == "code").expect("a code").1.into_owned();
    let t: Value = http()
        .post(op.url("/token"))
        .basic_auth("console", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CONSOLE_REDIRECT),
            ("code_verifier", "verifier-verifier-verifier-verifier-verifier-0123"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (t["access_token"].as_str().unwrap_or_else(|| panic!("a token: {t}")).to_owned(), b)
}

async fn client_token(op: &TestOp, client_id: &str, scope: &str) -> String {
    support::rp::client_credentials_token(op, client_id, SECRET, scope).await
}

/// Calls the API; the status and the JSON body (Null when empty).
async fn call(op: &TestOp, token: Option<&str>, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = http().request(method, op.url(&format!("/admin/api{path}")));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}"))
    };
    (status, json)
}

/// Every officer operation, on one officer (`id`) with `unit_code` as a destination.
fn officer_ops(id: &str, unit_code: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, format!("/officers/{id}"), None),
        (Method::PATCH, format!("/officers/{id}"), Some(json!({ "position": "Chuyên viên" }))),
        (Method::POST, format!("/officers/{id}/move"), Some(json!({ "unit_code": unit_code }))),
        (Method::PUT, format!("/officers/{id}/status"), Some(json!({ "status": "active" }))),
        (Method::POST, format!("/officers/{id}/reset-link"), None),
        (Method::GET, format!("/officers/{id}/roles/console"), None),
        (Method::PUT, format!("/officers/{id}/roles/console"), Some(json!({ "roles": ["reviewer"] }))),
        (Method::GET, format!("/officers/{id}/sessions"), None),
        (Method::DELETE, format!("/officers/{id}/sessions/no-such-session"), None),
        (Method::DELETE, format!("/officers/{id}/sessions"), None),
    ]
}

async fn unit_admin_acts_only_inside_its_subtree(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let (ta, _b) = officer_token(op, &w.admin_a).await;
    // Another unit's officer: every create, read, update and delete is refused.
    for (m, path, body) in officer_ops(&w.in_b, "A1") {
        let (status, err) = call(op, Some(&ta), m.clone(), &path, body).await;
        assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")), "{m} {path}: {err}");
    }
    let (status, _) = call(op, Some(&ta), Method::GET, &format!("/officers?unit={}", w.b), None).await;
    assert_eq!(status, 403, "listing another unit");
    let (status, _) = call(op, Some(&ta), Method::GET, &format!("/units/{}", w.b), None).await;
    assert_eq!(status, 403, "reading another unit");
    let new_in_b = json!({ "username": "new.b", "full_name": "Người Mới", "unit_code": "B" });
    assert_eq!(call(op, Some(&ta), Method::POST, "/officers", Some(new_in_b)).await.0, 403, "creating in B");
    // Moving into another unit is refused even from inside: both ends must be in scope.
    let into_b = Some(json!({ "unit_code": "B" }));
    assert_eq!(call(op, Some(&ta), Method::POST, &format!("/officers/{}/move", w.in_a1), into_b).await.0, 403);
    // Its own subtree: the same operations are allowed.
    for (m, path, body) in officer_ops(&w.in_a1, "A") {
        let (status, resp) = call(op, Some(&ta), m.clone(), &path, body).await;
        let expected = if path.ends_with("no-such-session") {
            404
        } else if path.ends_with("reset-link") {
            201
        } else {
            200
        };
        assert_eq!(status, expected, "{m} {path}: {resp}");
    }
    let (status, page) = call(op, Some(&ta), Method::GET, "/officers", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = page["items"].as_array().unwrap().iter().map(|o| o["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin.a", "clerk.a1"], "only its subtree, by username");
    let new_in_a1 = json!({ "username": "new.a1", "full_name": "Người Mới", "unit_code": "A1" });
    let (status, created) = call(op, Some(&ta), Method::POST, "/officers", Some(new_in_a1)).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["setup_path"].as_str().unwrap().starts_with("/officer/setup?token="));
    // The creation is in the audit log, by this administrator; refused calls changed nothing.
    let filter =
        xacthuc::audit::AuditFilter { action_prefix: Some("admin.officer.created".into()), ..Default::default() };
    let entries = op.state.audit.query(&filter, xacthuc::audit::Page::default()).await.unwrap();
    assert_eq!(entries.len(), 1, "one creation succeeded");
    assert!(entries[0].actor.starts_with("officer:"), "{}", entries[0].actor);
    assert_eq!(entries[0].object_id.as_deref(), created["officer"]["id"].as_str());
    // Units, clients and admin grants are for super administrators only.
    let supers: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/units".into(),
            Some(json!({ "code": "A2", "name": "A2", "kind": "agency", "parent_code": "A" })),
        ),
        (Method::PATCH, format!("/units/{}", w.a), Some(json!({ "name": "Renamed" }))),
        (Method::POST, format!("/units/{}/merge", w.a), Some(json!({ "from": [w.a1] }))),
        (Method::DELETE, format!("/units/{}", w.a1), None),
        (Method::GET, "/clients".into(), None),
        (Method::GET, "/clients/console".into(), None),
        (
            Method::POST,
            "/clients".into(),
            Some(json!({ "client_id": "x", "name": "x", "redirect_uris": ["https://x.vn/cb"] })),
        ),
        (Method::POST, "/clients/console/secret".into(), None),
        (Method::PUT, "/clients/console/redirect-uris".into(), Some(json!({ "redirect_uris": ["https://x.vn/cb"] }))),
        (Method::DELETE, "/clients/console".into(), None),
        (Method::PUT, "/clients/console/disabled".into(), Some(json!({ "disabled": true }))),
        (Method::GET, format!("/officers/{}/admin-grants", w.in_a1), None),
        (Method::POST, format!("/officers/{}/admin-grants", w.in_a1), Some(json!({ "unit_id": w.a1 }))),
        (Method::DELETE, format!("/officers/{}/admin-grants/{}", w.admin_a, w.a), None),
    ];
    for (m, path, body) in supers {
        let (status, err) = call(op, Some(&ta), m.clone(), &path, body).await;
        assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")), "{m} {path}: {err}");
    }
    op.state.db.grant_admin(&w.admin_a, AdminRole::UnitAdmin, &w.b).await.unwrap();
    assert_eq!(
        call(op, Some(&ta), Method::GET, &format!("/officers/{}", w.in_b), None).await.0,
        200,
        "grants are read live"
    );
    w.op.stop().await;
}
on_both_backends!(access_matrix, super::unit_admin_acts_only_inside_its_subtree);

async fn callers_without_admin_rights_are_refused(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let (status, err) = call(op, None, Method::GET, "/units", None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthenticated")));
    assert_eq!(call(op, Some("not-a-token"), Method::GET, "/units", None).await.0, 401);
    // An officer without an admin grant, and a client without the admin scope.
    let (plain, _b) = officer_token(op, &w.in_a1).await;
    let (status, err) = call(op, Some(&plain), Method::GET, &format!("/officers/{}", w.in_a1), None).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")), "{err}");
    let reporting = client_token(op, "reporting", "reports").await;
    assert_eq!(call(op, Some(&reporting), Method::GET, "/units", None).await.0, 403);
    // An administrator's password-only login does not administer.
    let (weak, _b) = officer_token_with(op, &w.admin_a, "true").await;
    let (status, err) = call(op, Some(&weak), Method::GET, "/units", None).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")), "{err}");
    assert!(err["message"].as_str().unwrap().contains("second factor"), "{err}");
    // A revoked grant is refused: ending the administrator's sessions revokes their tokens.
    let (ta, _b) = officer_token(op, &w.admin_a).await;
    assert_eq!(call(op, Some(&ta), Method::GET, "/units", None).await.0, 200);
    let auto = client_token(op, "automation", "admin").await;
    let (status, revoked) =
        call(op, Some(&auto), Method::DELETE, &format!("/officers/{}/sessions", w.admin_a), None).await;
    // Two: the password-only login's session and this one's.
    assert_eq!((status, revoked["revoked"].as_u64()), (200, Some(2)), "{revoked}");
    assert_eq!(call(op, Some(&ta), Method::GET, "/units", None).await.0, 401, "a revoked grant");
    // Suspending an administrator withdraws their rights at once.
    let (ta, _b) = officer_token(op, &w.admin_a).await;
    let suspend = Some(json!({ "status": "suspended" }));
    assert_eq!(call(op, Some(&auto), Method::PUT, &format!("/officers/{}/status", w.admin_a), suspend).await.0, 200);
    assert!([401, 403].contains(&call(op, Some(&ta), Method::GET, "/units", None).await.0));
    // Malformed JSON, wrong types and unknown fields are 400 JSON errors.
    let r = http()
        .post(op.url("/admin/api/officers"))
        .bearer_auth(&auto)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid");
    for bad in [json!({ "username": 5 }), json!({ "status": "retired" }), json!({ "status": "active", "x": 1 })] {
        let (status, err) =
            call(op, Some(&auto), Method::PUT, &format!("/officers/{}/status", w.in_a1), Some(bad)).await;
        assert_eq!((status, err["code"].as_str()), (400, Some("invalid")), "{err}");
    }
    let (status, err) = call(op, Some(&auto), Method::GET, "/officers?limit=notanumber", None).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("invalid")));
    let (status, err) = call(op, Some(&auto), Method::DELETE, "/units", None).await;
    assert_eq!((status, err["code"].as_str()), (405, Some("method_not_allowed")), "{err}");
    w.op.stop().await;
}
on_both_backends!(refusals, super::callers_without_admin_rights_are_refused);

async fn super_administration_shares_the_cli_paths(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let auto = client_token(op, "automation", "admin").await;
    // Units: create, rename, merge (officers move).
    let (status, unit) = call(
        op,
        Some(&auto),
        Method::POST,
        "/units",
        Some(json!({ "code": "C", "name": "Xã C", "kind": "commune", "parent_code": "P" })),
    )
    .await;
    assert_eq!(status, 201, "{unit}");
    let c = unit["id"].as_str().unwrap().to_owned();
    let (_, renamed) =
        call(op, Some(&auto), Method::PATCH, &format!("/units/{c}"), Some(json!({ "name": "Phường C" }))).await;
    assert_eq!(renamed["name"], "Phường C");
    let (status, merged) =
        call(op, Some(&auto), Method::POST, &format!("/units/{c}/merge"), Some(json!({ "from": [w.b] }))).await;
    assert_eq!((status, merged["moved"].as_u64()), (200, Some(1)), "{merged}");
    assert_eq!(call(op, Some(&auto), Method::GET, &format!("/officers/{}", w.in_b), None).await.1["unit_id"], c);
    let (_, units) = call(op, Some(&auto), Method::GET, "/units", None).await;
    assert_eq!(units.as_array().unwrap().len(), 4, "P, A, A1, C (B closed): {units}");
    // Dissolving: refused while the unit has officers (or units merged into it); an empty one
    // closes, audited, and its code stays taken.
    let (status, err) = call(op, Some(&auto), Method::DELETE, &format!("/units/{c}"), None).await;
    assert_eq!((status, err["code"].as_str()), (409, Some("in_use")), "{err}");
    let new_d = json!({ "code": "D", "name": "Xã D", "kind": "commune", "parent_code": "P" });
    let (_, d) = call(op, Some(&auto), Method::POST, "/units", Some(new_d.clone())).await;
    let (status, dissolved) =
        call(op, Some(&auto), Method::DELETE, &format!("/units/{}", d["id"].as_str().unwrap()), None).await;
    assert_eq!(status, 200, "{dissolved}");
    assert!(dissolved["valid_to"].is_i64(), "{dissolved}");
    assert_eq!(call(op, Some(&auto), Method::POST, "/units", Some(new_d)).await.0, 409);
    let filter =
        xacthuc::audit::AuditFilter { action_prefix: Some("admin.unit.dissolved".into()), ..Default::default() };
    assert_eq!(op.state.audit.query(&filter, xacthuc::audit::Page::default()).await.unwrap().len(), 1);
    // Admin grants.
    let grant = Some(json!({ "unit_id": c }));
    assert_eq!(call(op, Some(&auto), Method::POST, &format!("/officers/{}/admin-grants", w.in_b), grant).await.0, 204);
    let (_, grants) = call(op, Some(&auto), Method::GET, &format!("/officers/{}/admin-grants", w.in_b), None).await;
    assert_eq!(grants[0]["role"], "unit_admin");
    let path = format!("/officers/{}/admin-grants/{c}", w.in_b);
    assert_eq!(call(op, Some(&auto), Method::DELETE, &path, None).await.0, 204);
    assert_eq!(call(op, Some(&auto), Method::DELETE, &path, None).await.0, 404);
    // Clients: the registration is validated like the CLI's, and the secret works at once.
    let bad = json!({ "client_id": "svc", "name": "Svc", "redirect_uris": ["http://evil.example/cb"] });
    assert_eq!(call(op, Some(&auto), Method::POST, "/clients", Some(bad)).await.0, 400);
    let spec =
        json!({ "client_id": "svc", "name": "Svc", "grant_types": ["client_credentials"], "scopes": ["reports"] });
    let (status, reg) = call(op, Some(&auto), Method::POST, "/clients", Some(spec.clone())).await;
    assert_eq!(status, 201, "{reg}");
    assert!(reg["client"].get("secret_hash").is_none() && reg["client"]["has_secret"] == true);
    assert_eq!(call(op, Some(&auto), Method::POST, "/clients", Some(spec)).await.0, 409);
    let first = reg["client_secret"].as_str().unwrap().to_owned();
    let token_with = |secret: String| async move {
        http()
            .post(op.url("/token"))
            .basic_auth("svc", Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "reports")])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(token_with(first.clone()).await, 200);
    let (_, rotated) = call(op, Some(&auto), Method::POST, "/clients/svc/secret", None).await;
    assert_eq!(token_with(first).await, 401, "the old secret stops working at once");
    let second = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(token_with(second.clone()).await, 200);
    let off = Some(json!({ "disabled": true }));
    assert_eq!(call(op, Some(&auto), Method::PUT, "/clients/svc/disabled", off).await.1["disabled"], true);
    assert_eq!(token_with(second.clone()).await, 401, "a disabled client is unknown to the protocol");
    let on = Some(json!({ "disabled": false }));
    assert_eq!(call(op, Some(&auto), Method::PUT, "/clients/svc/disabled", on).await.0, 200);
    assert_eq!(token_with(second).await, 200, "enabled again with the same registration");
    let uris = Some(json!({ "redirect_uris": ["https://console.example.vn/cb2"] }));
    let (status, edited) = call(op, Some(&auto), Method::PUT, "/clients/console/redirect-uris", uris).await;
    assert_eq!((status, edited["redirect_uris"][0].as_str()), (200, Some("https://console.example.vn/cb2")));
    let (status, err) = call(op, Some(&auto), Method::DELETE, "/clients/automation", None).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")), "a client cannot remove itself");
    assert_eq!(call(op, Some(&auto), Method::DELETE, "/clients/svc", None).await.0, 204);
    assert_eq!(call(op, Some(&auto), Method::GET, "/clients/svc", None).await.0, 404);
    w.op.stop().await;
}
on_both_backends!(super_admin, super::super_administration_shares_the_cli_paths);

async fn sessions_are_listed_and_revoked(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let (ta, _b) = officer_token(op, &w.admin_a).await;
    let (clerk_token, _clerk) = officer_token(op, &w.in_a1).await;
    let path = format!("/officers/{}/sessions", w.in_a1);
    let (_, sessions) = call(op, Some(&ta), Method::GET, &path, None).await;
    let sid = sessions[0]["sid"].as_str().unwrap_or_else(|| panic!("a session: {sessions}")).to_owned();
    assert_eq!(sessions[0]["clients"][0], "console");
    assert_eq!(call(op, Some(&ta), Method::DELETE, &format!("{path}/{sid}"), None).await.0, 204);
    assert_eq!(call(op, Some(&ta), Method::GET, &path, None).await.1, json!([]));
    // The session's grants are revoked with it.
    let r = http().get(op.url("/userinfo")).bearer_auth(&clerk_token).send().await.unwrap();
    assert_eq!(r.status(), 401);
    w.op.stop().await;
}
on_both_backends!(sessions, super::sessions_are_listed_and_revoked);

async fn the_openapi_document_lists_every_route(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let doc: Value = http().get(w.op.url("/admin/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let expected = [
        ("/admin/api/units", &["get", "post"][..]),
        ("/admin/api/units/{id}", &["get", "patch", "delete"]),
        ("/admin/api/units/{id}/merge", &["post"]),
        ("/admin/api/officers", &["get", "post"]),
        ("/admin/api/officers/{id}", &["get", "patch"]),
        ("/admin/api/officers/{id}/move", &["post"]),
        ("/admin/api/officers/{id}/status", &["put"]),
        ("/admin/api/officers/{id}/reset-link", &["post"]),
        ("/admin/api/officers/{id}/roles/{client_id}", &["get", "put"]),
        ("/admin/api/officers/{id}/admin-grants", &["get", "post"]),
        ("/admin/api/officers/{id}/admin-grants/{unit_id}", &["delete"]),
        ("/admin/api/officers/{id}/sessions", &["get", "delete"]),
        ("/admin/api/officers/{id}/sessions/{sid}", &["delete"]),
        ("/admin/api/clients", &["get", "post"]),
        ("/admin/api/clients/{client_id}", &["get", "delete"]),
        ("/admin/api/clients/{client_id}/secret", &["post"]),
        ("/admin/api/clients/{client_id}/redirect-uris", &["put"]),
        ("/admin/api/clients/{client_id}/disabled", &["put"]),
        ("/admin/api/clients/{client_id}/unit", &["get", "put"]),
        ("/admin/api/officers/import", &["post"]),
        ("/admin/api/officers/{id}/lock", &["get", "delete"]),
        ("/admin/api/audit", &["get"]),
        ("/admin/api/officers/{id}/certificates", &["get", "post"]),
        ("/admin/api/certificates", &["post"]),
        ("/admin/api/certificates/request", &["post"]),
        ("/admin/api/certificates/{id}/renew", &["post"]),
        ("/admin/api/certificates/{id}/revoke", &["post"]),
        ("/admin/api/certificates/expiring", &["get"]),
        ("/admin/api/certificates/reissue", &["post"]),
        ("/admin/api/certificate-jobs/{id}", &["get"]),
        ("/admin/api/certificate-jobs/{id}/resume", &["post"]),
    ];
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), expected.len(), "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, methods) in expected {
        for m in methods {
            let o = &paths[path][m];
            assert!(o.is_object(), "{m} {path}");
            for status in ["400", "401", "403", "404"] {
                assert_eq!(
                    o["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody"
                );
            }
        }
    }
    w.op.stop().await;
}
on_both_backends!(openapi, super::the_openapi_document_lists_every_route);

async fn bootstrap_makes_the_first_super_administrator(backend: Backend) {
    use xacthuc::admin::bootstrap::{BootstrapArgs, BootstrapError, bootstrap};
    let Some(w) = world(backend).await else { return };
    let db = &w.op.state.db;
    let mut args = BootstrapArgs {
        username: "chief".into(),
        full_name: "Trần Văn Trưởng".into(),
        email: None,
        unit_code: None,
        unit_name: None,
        force: false,
    };
    // The province exists in this world: the administrator is made on it.
    let done = bootstrap(db, &args, 10).await.unwrap();
    assert_eq!(done.root.code, "P");
    assert!(!done.created_root && done.setup_path.starts_with("/officer/setup?token="));
    assert!(matches!(bootstrap(db, &args, 11).await, Err(BootstrapError::AlreadyBootstrapped)));
    args.force = true;
    bootstrap(db, &args, 12).await.unwrap();
    // The new super administrator's login is a super administrator's token.
    let (token, _b) = officer_token(&w.op, &done.officer.id).await;
    assert_eq!(call(&w.op, Some(&token), Method::GET, "/clients", None).await.0, 200);
    w.op.stop().await;
}
on_both_backends!(bootstrap, super::bootstrap_makes_the_first_super_administrator);

#[tokio::test]
async fn bootstrap_creates_the_province_when_there_is_none() {
    use xacthuc::admin::bootstrap::{BootstrapArgs, BootstrapError, bootstrap};
    let (db, _dir) = support::sqlite_db().await;
    let mut args = BootstrapArgs {
        username: "chief".into(),
        full_name: "Trần Văn Trưởng".into(),
        email: Some("chief@example.vn".into()),
        unit_code: None,
        unit_name: None,
        force: false,
    };
    assert!(matches!(bootstrap(&db, &args, 1).await, Err(BootstrapError::NoRoot)));
    args.unit_code = Some("HN".into());
    args.unit_name = Some("Thành phố Hà Nội".into());
    let done = bootstrap(&db, &args, 1).await.unwrap();
    assert!(done.created_root && done.root.kind == UnitKind::Province);
    let grants = db.admin_grants(&done.officer.id).await.unwrap();
    assert_eq!(grants[0].0, AdminRole::SuperAdmin);
}

#[test]
fn bootstrap_help_names_every_option() {
    use clap::Parser;
    let err = xacthuc::cli::Cli::try_parse_from(["xacthuc", "admin", "bootstrap", "--help"]).unwrap_err();
    let help = err.to_string();
    for flag in ["--username", "--full-name", "--email", "--unit-code", "--unit-name", "--force"] {
        assert!(help.contains(flag), "{flag} in {help}");
    }
}

async fn officers_are_searched_and_paged(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let auto = client_token(op, "automation", "admin").await;
    let names = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|o| o["username"].as_str().unwrap().to_owned()).collect()
    };
    let (status, first) = call(op, Some(&auto), Method::GET, "/officers?limit=2", None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(names(&first), ["admin.a", "clerk.a1"]);
    assert_eq!(first["next_after"], "clerk.a1");
    let (_, second) = call(op, Some(&auto), Method::GET, "/officers?limit=2&after=clerk.a1", None).await;
    assert_eq!(names(&second), ["clerk.b"]);
    assert!(second["next_after"].is_null(), "the last page");
    let (_, clerks) = call(op, Some(&auto), Method::GET, "/officers?username_prefix=clerk", None).await;
    assert_eq!(names(&clerks), ["clerk.a1", "clerk.b"]);
    let (_, none) = call(op, Some(&auto), Method::GET, "/officers?username_prefix=clerk_", None).await;
    assert_eq!(names(&none), Vec::<String>::new(), "'_' is not a wildcard");
    let (_, in_a) = call(op, Some(&auto), Method::GET, &format!("/officers?unit={}", w.a), None).await;
    assert_eq!(names(&in_a), ["admin.a", "clerk.a1"], "the unit's subtree");
    let suspend = Some(json!({ "status": "suspended" }));
    assert_eq!(call(op, Some(&auto), Method::PUT, &format!("/officers/{}/status", w.in_b), suspend).await.0, 200);
    let (_, suspended) = call(op, Some(&auto), Method::GET, "/officers?status=suspended", None).await;
    assert_eq!(names(&suspended), ["clerk.b"]);
    let (status, _) = call(op, Some(&auto), Method::GET, "/officers?status=retired", None).await;
    assert_eq!(status, 400);
    w.op.stop().await;
}
on_both_backends!(search, super::officers_are_searched_and_paged);

async fn import_csv(op: &TestOp, token: &str, query: &str, csv: &str) -> (u16, Value) {
    let r = http()
        .post(op.url(&format!("/admin/api/officers/import?{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A unit administrator imports inside their subtree; locks are seen and lifted; the audit log
/// answers super administrators whole and unit administrators for their subtree.
async fn bulk_import_locks_and_audit(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let (ta, _b) = officer_token(op, &w.admin_a).await;
    let header = "username,full_name,personal_id,email,phone,unit_code,position,roles\n";
    let good = format!("{header}new.one,Nguyễn Một,,,,A1,Chuyên viên,\n");
    let (status, r) = import_csv(op, &ta, "unit=A", &good).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!((r["report"]["created"].as_u64(), r["report"]["applied"].as_bool()), (Some(1), Some(true)), "{r}");
    assert!(r["setup_links"][0]["setup_path"].as_str().unwrap().starts_with("/officer/setup?token="));
    let (_, again) = import_csv(op, &ta, "unit=A", &good).await;
    assert_eq!((again["report"]["unchanged"].as_u64(), again["report"]["created"].as_u64()), (Some(1), Some(0)));
    // Outside the subtree: the whole import is refused, or each row outside it is.
    assert_eq!(import_csv(op, &ta, "unit=B", &good).await.0, 403);
    let outside = format!("{header}new.two,Trần Hai,,,,B,,\n");
    let (status, r) = import_csv(op, &ta, "unit=A", &outside).await;
    assert_eq!((status, r["report"]["applied"].as_bool()), (200, Some(false)), "{r}");
    assert_eq!(r["report"]["errors"][0]["row"], 2, "{r}");
    // The lock of an officer in scope, seen and lifted.
    let policy = xacthuc::officers::auth::lockout::Policy {
        delay_after: 100,
        delay_max: std::time::Duration::from_secs(1),
        account_threshold: 3,
        ip_threshold: 100,
        lock_for: std::time::Duration::from_secs(60),
    };
    for _ in 0..3 {
        xacthuc::officers::auth::lockout::failed(&op.state.kv, &policy, "clerk.a1", None).await.unwrap();
    }
    let lock = format!("/officers/{}/lock", w.in_a1);
    assert_eq!(call(op, Some(&ta), Method::GET, &lock, None).await.1["locked"], true);
    assert_eq!(call(op, Some(&ta), Method::DELETE, &lock, None).await.0, 200);
    assert_eq!(call(op, Some(&ta), Method::GET, &lock, None).await.1["locked"], false);
    assert_eq!(call(op, Some(&ta), Method::DELETE, &format!("/officers/{}/lock", w.in_b), None).await.0, 403);
    // Something about unit B, by automation: a unit administrator of A must not see it.
    let auto = client_token(op, "automation", "admin").await;
    assert_eq!(call(op, Some(&auto), Method::DELETE, &format!("/officers/{}/lock", w.in_b), None).await.0, 200);
    // The audit log: a unit administrator reads what is tagged with their subtree (the import
    // into A, the unlock of an officer of A1), never B's, and may not name B.
    let (status, mine) = call(op, Some(&ta), Method::GET, "/audit", None).await;
    assert_eq!(status, 200, "{mine}");
    let mine = mine["items"].as_array().unwrap().clone();
    let actions: Vec<&str> = mine.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"admin.officers.imported") && actions.contains(&"admin.officer.unlocked"), "{actions:?}");
    assert!(mine.iter().all(|e| e["unit_id"] == w.a || e["unit_id"] == w.a1), "only A's subtree: {mine:?}");
    assert!(mine.iter().all(|e| e["object_id"] != w.in_b.as_str()), "nothing about B's officer: {mine:?}");
    assert_eq!(call(op, Some(&ta), Method::GET, &format!("/audit?unit={}", w.b), None).await.0, 403);
    let (_, b_log) = call(op, Some(&auto), Method::GET, &format!("/audit?unit={}", w.b), None).await;
    assert_eq!(b_log["items"][0]["action"], "admin.officer.unlocked", "tagged with B: {b_log}");
    let (status, page) = call(op, Some(&auto), Method::GET, "/audit?action=admin.officers.imported", None).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the unchanged re-import and the refused one changed nothing: {page}");
    assert_eq!(items[0]["actor"], format!("officer:{}", w.admin_a));
    assert_eq!(items[0]["detail"]["created"], 1);
    let (_, page) = call(op, Some(&auto), Method::GET, &format!("/audit?officer={}", w.in_a1), None).await;
    assert_eq!(page["items"][0]["action"], "admin.officer.unlocked", "{page}");
    w.op.stop().await;
}
on_both_backends!(bulk_and_audit, super::bulk_import_locks_and_audit);
