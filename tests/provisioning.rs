//! Outbound provisioning end to end, on both backend pairs: a small SCIM server and a Security
//! Event Token receiver, started by the test, hear of an officer suspension and a unit merge
//! made through the admin API, after being down for a while and across a restart of xacthuc.

mod support;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use support::officers;
use support::op::{Backend, TestOp, http};
use xacthuc::crypto::sha256_hex;
use xacthuc::officers::{NewOfficer, NewUnit, UnitKind};
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};
use xacthuc::provisioning::{ReceiverKind, deliver};

const SECRET: &str = "automation-secret-value-123";
const DOWNSTREAM_TOKEN: &str = "downstream-bearer-token-value";

#[derive(Default)]
struct Downstream {
    down: bool,
    users: Vec<Value>,
    groups: Vec<Value>,
    sets: Vec<String>,
}

type Shared = Arc<Mutex<Downstream>>;

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response()
}

/// Refuses calls while down, and calls without the registered bearer token.
fn gate(s: &Shared, headers: &HeaderMap) -> Option<Response> {
    if s.lock().unwrap().down {
        return Some(unavailable());
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    (auth != Some(&format!("Bearer {DOWNSTREAM_TOKEN}"))).then(|| StatusCode::UNAUTHORIZED.into_response())
}

/// `attr eq "value"`, the only filter this small server understands.
fn filtered(items: &[Value], q: &std::collections::HashMap<String, String>) -> Value {
    let f = q.get("filter").cloned().unwrap_or_default();
    let (attr, value) = f.split_once(" eq ").unwrap_or_default();
    let value = value.trim_matches('"');
    let found: Vec<Value> = items.iter().filter(|i| i[attr] == value).cloned().collect();
    json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": found.len(), "Resources": found })
}

fn apply(item: &mut Value, ops: &Value) {
    for op in ops["Operations"].as_array().into_iter().flatten() {
        let path = op["path"].as_str().unwrap_or_default();
        match op["op"].as_str() {
            Some("add") if path == "members" => {
                let members = item["members"].as_array_mut().expect("members");
                members.extend(op["value"].as_array().cloned().unwrap_or_default());
            }
            _ => item[path] = op["value"].clone(),
        }
    }
}

fn downstream(s: Shared) -> Router {
    let list = |which: &'static str| {
        move |State(s): State<Shared>, h: HeaderMap, Query(q): Query<std::collections::HashMap<String, String>>| async move {
            if let Some(r) = gate(&s, &h) {
                return r;
            }
            let d = s.lock().unwrap();
            Json(filtered(if which == "users" { &d.users } else { &d.groups }, &q)).into_response()
        }
    };
    let change = |which: &'static str| {
        move |State(s): State<Shared>, h: HeaderMap, Path(id): Path<String>, Json(ops): Json<Value>| async move {
            if let Some(r) = gate(&s, &h) {
                return r;
            }
            let mut d = s.lock().unwrap();
            let items = if which == "users" { &mut d.users } else { &mut d.groups };
            match items.iter_mut().find(|i| i["id"] == id.as_str()) {
                Some(i) => {
                    apply(i, &ops);
                    Json(i.clone()).into_response()
                }
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
    };
    let delete_group = |State(s): State<Shared>, h: HeaderMap, Path(id): Path<String>| async move {
        if let Some(r) = gate(&s, &h) {
            return r;
        }
        s.lock().unwrap().groups.retain(|g| g["id"] != id.as_str());
        StatusCode::NO_CONTENT.into_response()
    };
    let set = |State(s): State<Shared>, body: String| async move {
        let mut d = s.lock().unwrap();
        if d.down {
            return unavailable();
        }
        d.sets.push(body);
        StatusCode::ACCEPTED.into_response()
    };
    Router::new()
        .route("/scim/Users", get(list("users")))
        .route("/scim/Users/{id}", patch(change("users")))
        .route("/scim/Groups", get(list("groups")))
        .route("/scim/Groups/{id}", patch(change("groups")).delete(delete_group))
        .route("/set", post(set))
        .with_state(s)
}

async fn admin_api(op: &TestOp, token: &str, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r = http().request(method, op.url(&format!("/admin/api{path}"))).bearer_auth(token).json(&body).send().await;
    let r = r.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn deliver_everything(p: &xacthuc::oidc::Provider, at: i64) -> usize {
    let mut total = 0;
    for _ in 0..10 {
        match deliver::tick(p, at).await.expect("a delivery pass") {
            0 => break,
            n => total += n,
        }
    }
    total
}

async fn suspension_and_merge_reach_downstream(backend: Backend) {
    let Some(op) = officers::start(backend).await else { return };
    let db = &op.state.db;
    // The province: commune x1 absorbs commune x2 in the reform.
    let unit = |code: &str, name: &str| NewUnit {
        code: code.into(),
        name: name.into(),
        kind: UnitKind::Commune,
        parent_code: Some("31".into()),
    };
    db.create_unit(&unit("31.x2", "Xã An Tiến"), 1).await.unwrap();
    let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
    let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
    let new = |u: &str, unit: &str| NewOfficer {
        username: u.into(),
        full_name: format!("Cán bộ {u}"),
        personal_id: None,
        email: None,
        phone: None,
        unit_code: unit.into(),
        position: None,
    };
    let lan = db.create_officer(&new("cb.lan", "31.x1"), 1).await.unwrap();
    db.create_officer(&new("cb.tien", "31.x2"), 1).await.unwrap();
    let automation = Client {
        secret_hash: Some(sha256_hex(SECRET)),
        scopes: vec!["admin".into()],
        grant_types: vec![GrantType::ClientCredentials],
        ..Client::new("automation", "automation", AuthMethod::ClientSecretBasic, Vec::new())
    };
    db.put_client(&automation, 0).await.unwrap();
    let token = support::rp::client_credentials_token(&op, "automation", SECRET, "admin").await;

    // The downstream e-office: a SCIM server that knows the officers and communes, and a SET
    // receiver. Both start down.
    let state: Shared = Arc::new(Mutex::new(Downstream { down: true, ..Default::default() }));
    {
        let mut d = state.lock().unwrap();
        d.users = vec![
            json!({ "id": "u-1", "userName": "cb.lan", "active": true }),
            json!({ "id": "u-2", "userName": "cb.tien", "active": true }),
        ];
        d.groups = vec![
            json!({ "id": "g-1", "externalId": "31.x1", "displayName": "Xã An Lư", "members": [{ "value": "u-1" }] }),
            json!({ "id": "g-2", "externalId": "31.x2", "displayName": "Xã An Tiến", "members": [{ "value": "u-2" }] }),
        ];
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(axum::serve(listener, downstream(state.clone())).into_future());
    let keys = &op.state.oidc.keys;
    let scim = format!("{base}/scim");
    xacthuc::provisioning::register(db, keys, "eoffice-scim", ReceiverKind::Scim, &scim, None, Some(DOWNSTREAM_TOKEN))
        .await
        .unwrap();
    let set = format!("{base}/set");
    xacthuc::provisioning::register(db, keys, "eoffice-set", ReceiverKind::Set, &set, Some("urn:test:set"), None)
        .await
        .unwrap();
    assert!(
        xacthuc::provisioning::register(db, keys, "bad id!", ReceiverKind::Set, &set, None, None).await.is_err(),
        "a malformed id is refused"
    );
    let listed = serde_json::to_string(&db.receivers().await.unwrap()).unwrap();
    assert!(!listed.contains(DOWNSTREAM_TOKEN), "the token is sealed and never listed");

    // The changes, through the admin API: the same operations as the console and SCIM.
    let (status, _) = admin_api(
        &op,
        &token,
        reqwest::Method::PUT,
        &format!("/officers/{}/status", lan.id),
        json!({ "status": "suspended" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, r) =
        admin_api(&op, &token, reqwest::Method::POST, &format!("/units/{}/merge", x1.id), json!({ "from": [x2.id] }))
            .await;
    assert_eq!(status, 200, "{r}");

    // The downstream is down: nothing delivered, every row kept with its error and a back-off.
    let now = xacthuc::clock::unix_now();
    assert_eq!(deliver_everything(&op.state.oidc, now).await, 0);
    let rows = db.deliveries(10).await.unwrap();
    assert_eq!(rows.len(), 4, "two changes for each of two receivers: {rows:?}");
    let attempted: Vec<_> = rows.iter().filter(|d| d.attempts == 1).collect();
    assert_eq!(attempted.len(), 2, "one head per receiver tried, the rest wait their turn: {rows:?}");
    assert!(attempted.iter().all(|d| d.status == "pending" && d.last_error.as_deref().unwrap_or("").contains("503")));
    assert!(attempted.iter().all(|d| d.next_attempt_at > now), "backed off");
    assert_eq!(deliver_everything(&op.state.oidc, now).await, 0, "not retried before the back-off");

    // xacthuc restarts (a new instance on the same database), and the downstream comes back.
    let restarted = op.another_instance().await;
    state.lock().unwrap().down = false;
    assert_eq!(deliver_everything(&restarted.oidc, now + 3600).await, 4);
    assert!(db.deliveries(10).await.unwrap().iter().all(|d| d.status == "delivered"));
    {
        let d = state.lock().unwrap();
        assert_eq!(d.users[0]["active"], false, "the suspension reached the SCIM server");
        assert_eq!(d.users[1]["active"], true);
        assert!(d.groups.iter().all(|g| g["externalId"] != "31.x2"), "the merged commune is gone downstream");
        let x1 = d.groups.iter().find(|g| g["externalId"] == "31.x1").unwrap();
        assert!(x1["members"].as_array().unwrap().iter().any(|m| m["value"] == "u-2"), "its officer joined: {x1}");
        assert_eq!(d.sets.len(), 2);
    }
    // The SETs are signed by xacthuc (checked with its JWKS by an independent library), in the
    // order the changes were made.
    let sets = state.lock().unwrap().sets.clone();
    let first = support::rp::verified_set(&op, &sets[0], "urn:test:set").await;
    let second = support::rp::verified_set(&op, &sets[1], "urn:test:set").await;
    assert_eq!(first["events"]["urn:xacthuc:event:officer-status"]["username"], "cb.lan");
    assert_eq!(first["events"]["urn:xacthuc:event:officer-status"]["status"], "suspended");
    let merged = &second["events"]["urn:xacthuc:event:unit-merged"];
    assert_eq!(merged["into_code"], "31.x1");
    assert_eq!(merged["from_codes"], json!(["31.x2"]));
    assert!(merged["members"].as_array().unwrap().contains(&json!("cb.tien")));
    assert_eq!(jsonwebtoken::decode_header(&sets[0]).unwrap().typ.as_deref(), Some("secevent+jwt"));
    // Nothing is sent twice.
    assert_eq!(deliver_everything(&restarted.oidc, now + 7200).await, 0);
    assert_eq!(state.lock().unwrap().sets.len(), 2);
    op.stop().await;
}
on_both_backends!(suspension_and_merge, super::suspension_and_merge_reach_downstream);
