//! The SCIM 2.0 server (`/scim/v2`) over real HTTP on both backends: tokens from
//! client_credentials as provisioning systems get them, Users and Groups read, filtered, paged,
//! sorted and changed through the admin operations (same rules, same audit entries), ETags,
//! bulk limits, scopes, the personal-ID scope and a client's unit-subtree restriction.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Row;
use support::op::{Backend, TestOp, http};
use xacthuc::crypto::sha256_hex;
use xacthuc::officers::{NewOfficer, NewUnit, OfficerStatus, UnitKind};
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};

const SECRET: &str = "scim-secret-value-123";
const OFFICER_EXT: &str = "urn:xacthuc:params:scim:schemas:extension:officer:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// Province P with A (A1 below it) and B; officers in A1 and B; clients: `hr` (read, write,
/// personal ID), `reader` (read), `other` (no SCIM scope), `hr-a` (read, write; restricted to A
/// once a test says so) and `admin` (the admin API).
struct World {
    op: TestOp,
    a1: String,
    b: String,
    in_a1: String,
    in_b: String,
}

async fn world(backend: Backend) -> Option<World> {
    let op = TestOp::start(backend).await?;
    let db = &op.state.db;
    let unit = |code: &str, kind, parent: Option<&str>| NewUnit {
        code: code.into(),
        name: format!("Đơn vị {code}"),
        kind,
        parent_code: parent.map(String::from),
    };
    db.create_unit(&unit("P", UnitKind::Province, None), 1).await.unwrap();
    db.create_unit(&unit("A", UnitKind::Department, Some("P")), 1).await.unwrap();
    let a1 = db.create_unit(&unit("A1", UnitKind::Agency, Some("A")), 1).await.unwrap();
    let b = db.create_unit(&unit("B", UnitKind::Commune, Some("P")), 1).await.unwrap();
    let officer = |username: &str, unit_code: &str, pid: &str| NewOfficer {
        username: username.into(),
        full_name: format!("Nguyễn Văn {username}"),
        unit_code: unit_code.into(),
        personal_id: Some(pid.into()),
        email: Some(format!("{username}@example.vn")),
        ..NewOfficer::default()
    };
    let in_a1 = db.create_officer(&officer("clerk.a1", "A1", "031090000001"), 1).await.unwrap();
    let in_b = db.create_officer(&officer("clerk.b", "B", "031090000002"), 1).await.unwrap();
    for (id, scopes) in [
        ("hr", vec!["scim.read", "scim.write", "scim.personal_id"]),
        ("reader", vec!["scim.read"]),
        ("other", vec!["reports"]),
        ("hr-a", vec!["scim.read", "scim.write"]),
        ("admin", vec!["admin"]),
    ] {
        let c = Client {
            secret_hash: Some(sha256_hex(SECRET)),
            scopes: scopes.into_iter().map(String::from).collect(),
            grant_types: vec![GrantType::ClientCredentials],
            ..Client::new(id, id, AuthMethod::ClientSecretBasic, Vec::new())
        };
        db.put_client(&c, 0).await.unwrap();
    }
    Some(World { op, a1: a1.id, b: b.id, in_a1: in_a1.id, in_b: in_b.id })
}

async fn token(op: &TestOp, client_id: &str, scope: &str) -> String {
    let t: Value = http()
        .post(op.url("/token"))
        .basic_auth(client_id, Some(SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t["access_token"].as_str().unwrap_or_else(|| panic!("a token: {t}")).to_owned()
}

struct Answer {
    status: u16,
    etag: Option<String>,
    content_type: String,
    body: Value,
}

async fn call(
    op: &TestOp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> Answer {
    let mut r = http().request(method, op.url(&format!("/scim/v2{path}")));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.header("content-type", "application/scim+json").body(b.to_string());
    }
    if let Some(m) = if_match {
        r = r.header("if-match", m);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let header = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
    let (etag, content_type) = (header("etag"), header("content-type").unwrap_or_default());
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}"))
    };
    Answer { status, etag, content_type, body }
}

fn user_names(list: &Value) -> Vec<String> {
    list["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap().to_owned()).collect()
}

/// Audit actions written by a client, oldest first.
async fn audited(op: &TestOp, client: &str) -> Vec<String> {
    let rows = sqlx::query("SELECT action FROM audit_log WHERE actor = $1 ORDER BY seq")
        .bind(format!("client:{client}"))
        .fetch_all(op.state.db.pool())
        .await
        .unwrap();
    rows.iter().map(|r| r.try_get::<String, _>(0).unwrap()).collect()
}

async fn users_are_listed_filtered_paged_and_sorted(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    for n in 0..5 {
        let new = NewOfficer {
            username: format!("staff.{n}"),
            full_name: format!("Trần Thị Mai {n}"),
            unit_code: "A1".into(),
            ..NewOfficer::default()
        };
        op.state.db.create_officer(&new, 1).await.unwrap();
    }
    let t = token(op, "hr", "scim.read scim.write scim.personal_id").await;
    let all = call(op, Some(&t), Method::GET, "/Users", None, None).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.content_type.starts_with("application/scim+json"), "{}", all.content_type);
    assert_eq!(all.body["totalResults"], 7);
    // Filtering: sw, co (case-insensitive), and/or, a value path, the extension's unit code.
    let q =
        |f: &str| format!("/Users?filter={}", url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>());
    let staff = call(op, Some(&t), Method::GET, &q(r#"userName sw "STAFF.""#), None, None).await;
    assert_eq!(staff.body["totalResults"], 5, "{}", staff.body);
    let mai =
        call(op, Some(&t), Method::GET, &q(r#"displayName co "thị mai 3" or userName eq "clerk.b""#), None, None).await;
    assert_eq!(user_names(&mai.body), ["clerk.b", "staff.3"]);
    let email =
        call(op, Some(&t), Method::GET, &q(r#"emails[value ew "@example.vn"] and active eq true"#), None, None).await;
    assert_eq!(user_names(&email.body), ["clerk.a1", "clerk.b"]);
    let in_b = call(op, Some(&t), Method::GET, &q(&format!(r#"{OFFICER_EXT}:unitCode eq "B""#)), None, None).await;
    assert_eq!(user_names(&in_b.body), ["clerk.b"]);
    let by_pid =
        call(op, Some(&t), Method::GET, &q(&format!(r#"{OFFICER_EXT}:personalId eq "031090000001""#)), None, None)
            .await;
    assert_eq!(user_names(&by_pid.body), ["clerk.a1"]);
    assert_eq!(by_pid.body["Resources"][0][OFFICER_EXT]["personalId"], "031090000001");
    // Pagination (1-based) and sorting.
    let page =
        call(op, Some(&t), Method::GET, "/Users?startIndex=3&count=2&sortBy=userName&sortOrder=descending", None, None)
            .await;
    assert_eq!(page.body["totalResults"], 7);
    assert_eq!(page.body["startIndex"], 3);
    assert_eq!(user_names(&page.body), ["staff.2", "staff.1"]);
    let counted = call(op, Some(&t), Method::GET, "/Users?count=0", None, None).await;
    assert_eq!((counted.body["totalResults"].clone(), counted.body["itemsPerPage"].clone()), (json!(7), json!(0)));
    let big = call(op, Some(&t), Method::GET, "/Users?count=100000", None, None).await;
    assert_eq!(big.status, 200, "a huge count is capped, not refused");
    // POST /.search takes the same query as a body.
    let search = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"clerk.a1\"", "attributes": ["userName"] });
    let found = call(op, Some(&t), Method::POST, "/Users/.search", Some(search), None).await;
    assert_eq!(user_names(&found.body), ["clerk.a1"]);
    assert!(found.body["Resources"][0].get("emails").is_none(), "attributes projects: {}", found.body);
    // Malformed or unsupported filters are invalidFilter, never a 500.
    for bad in [r#"userName eq"#, r#"userName zz "x""#, r#"nickName eq "x""#, "((((userName pr"] {
        let r = call(op, Some(&t), Method::GET, &q(bad), None, None).await;
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidFilter")), "{bad}: {}", r.body);
        assert!(r.content_type.starts_with("application/scim+json"));
    }
    let long = "userName eq \"x\" or ".repeat(200) + "userName eq \"y\"";
    assert_eq!(call(op, Some(&t), Method::GET, &q(&long), None, None).await.status, 400);
    // Without scim.personal_id the personal ID is neither shown nor filterable.
    let r = token(op, "reader", "scim.read").await;
    let plain = call(op, Some(&r), Method::GET, &format!("/Users/{}", w.in_a1), None, None).await;
    assert_eq!(plain.status, 200);
    assert!(plain.body[OFFICER_EXT].get("personalId").is_none(), "{}", plain.body);
    let hidden =
        call(op, Some(&r), Method::GET, &q(&format!(r#"{OFFICER_EXT}:personalId eq "031090000001""#)), None, None)
            .await;
    assert_eq!(hidden.body["scimType"], "invalidFilter");
    op_stop(w).await;
}
on_both_backends!(users_are_listed_filtered_paged_and_sorted, super::users_are_listed_filtered_paged_and_sorted);

async fn op_stop(w: World) {
    w.op.stop().await;
}

async fn users_change_through_the_admin_operations(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let t = token(op, "hr", "scim.read scim.write scim.personal_id").await;
    let new = json!({
        "schemas": [USER, OFFICER_EXT],
        "userName": "Le.Thu",
        "displayName": "Lê Thị Thu",
        "externalId": "hr-4711",
        "emails": [{ "value": "thu@example.vn", "type": "work" }],
        OFFICER_EXT: { "unitCode": "A1", "position": "Chuyên viên", "personalId": "031190000003" },
    });
    let created = call(op, Some(&t), Method::POST, "/Users", Some(new.clone()), None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["userName"], "le.thu");
    assert_eq!(created.body["externalId"], "hr-4711");
    assert!(created.body[OFFICER_EXT]["setupUrl"].as_str().unwrap().contains("/officer/setup"));
    assert_eq!(created.etag.as_deref(), created.body["meta"]["version"].as_str());
    let dup = call(op, Some(&t), Method::POST, "/Users", Some(new), None).await;
    assert_eq!((dup.status, dup.body["scimType"].as_str()), (409, Some("uniqueness")));
    let invalid = json!({ "userName": "x y", "displayName": "X" , OFFICER_EXT: { "unitCode": "A1" } });
    let r = call(op, Some(&t), Method::POST, "/Users", Some(invalid), None).await;
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{}", r.body);

    // PUT replaces: a new name and phone, the e-mail cleared, the position kept.
    let mut user = created.body.clone();
    user["displayName"] = "Lê Thị Thu Hà".into();
    user["phoneNumbers"] = json!([{ "value": "0912345678" }]);
    user.as_object_mut().unwrap().remove("emails");
    let put = call(op, Some(&t), Method::PUT, &format!("/Users/{id}"), Some(user.clone()), None).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let o = op.state.db.officer(&id).await.unwrap().unwrap();
    assert_eq!(
        (o.full_name.as_str(), o.email.as_deref(), o.phone.as_deref()),
        ("Lê Thị Thu Hà", None, Some("0912345678"))
    );
    assert_eq!(o.position.as_deref(), Some("Chuyên viên"));
    // Suspended, a PUT that leaves `active` out keeps the suspension.
    let off = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "active", "value": false }] });
    assert_eq!(call(op, Some(&t), Method::PATCH, &format!("/Users/{id}"), Some(off), None).await.status, 200);
    let mut quiet = put.body.clone();
    quiet.as_object_mut().unwrap().remove("active");
    assert_eq!(call(op, Some(&t), Method::PUT, &format!("/Users/{id}"), Some(quiet), None).await.status, 200);
    assert_eq!(op.state.db.officer(&id).await.unwrap().unwrap().status, OfficerStatus::Suspended);
    let on = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "active", "value": true }] });
    assert_eq!(call(op, Some(&t), Method::PATCH, &format!("/Users/{id}"), Some(on), None).await.status, 200);
    user["userName"] = "someone.else".into();
    let renamed = call(op, Some(&t), Method::PUT, &format!("/Users/{id}"), Some(user), None).await;
    assert_eq!((renamed.status, renamed.body["scimType"].as_str()), (400, Some("mutability")));

    // PATCH: suspend (sessions end, status suspended), then move to B with a new position.
    let patch = |ops: Value| json!({ "schemas": [PATCH], "Operations": ops });
    let off = call(
        op,
        Some(&t),
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch(json!([{ "op": "replace", "path": "active", "value": false }]))),
        None,
    )
    .await;
    assert_eq!((off.status, off.body["active"].clone()), (200, json!(false)), "{}", off.body);
    assert_eq!(op.state.db.officer(&id).await.unwrap().unwrap().status, OfficerStatus::Suspended);
    let moved = json!([
        { "op": "replace", "path": format!("{OFFICER_EXT}:unitCode"), "value": "B" },
        { "op": "Replace", "value": { "active": "True", OFFICER_EXT: { "position": "Phó chủ tịch" } } },
    ]);
    let r = call(op, Some(&t), Method::PATCH, &format!("/Users/{id}"), Some(patch(moved)), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let o = op.state.db.officer(&id).await.unwrap().unwrap();
    assert_eq!(
        (o.unit_id.as_str(), o.position.as_deref(), o.status),
        (w.b.as_str(), Some("Phó chủ tịch"), OfficerStatus::Active)
    );
    assert_eq!(r.body["groups"][0]["value"], w.b.as_str());
    let bad = patch(json!([{ "op": "replace", "path": "emails[type eq", "value": "x" }]));
    let r = call(op, Some(&t), Method::PATCH, &format!("/Users/{id}"), Some(bad), None).await;
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidPath")));

    // DELETE disables: kept for history, not found through SCIM.
    assert_eq!(call(op, Some(&t), Method::DELETE, &format!("/Users/{id}"), None, None).await.status, 204);
    assert_eq!(op.state.db.officer(&id).await.unwrap().unwrap().status, OfficerStatus::Disabled);
    assert_eq!(call(op, Some(&t), Method::GET, &format!("/Users/{id}"), None, None).await.status, 404);
    let listed = call(op, Some(&t), Method::GET, "/Users?filter=userName%20eq%20%22le.thu%22", None, None).await;
    assert_eq!(listed.body["totalResults"], 0);

    // The same audit entries as the admin API, by the client.
    let actions = audited(op, "hr").await;
    for a in ["admin.officer.created", "admin.officer.updated", "admin.officer.status", "admin.officer.moved"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|x| *x == "admin.officer.status").count(),
        5,
        "two suspensions, two reactivations, a disabling: {actions:?}"
    );
    op_stop(w).await;
}
on_both_backends!(users_change_through_the_admin_operations, super::users_change_through_the_admin_operations);

async fn etags_guard_changes(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let t = token(op, "hr", "scim.read scim.write").await;
    let path = format!("/Users/{}", w.in_a1);
    let first = call(op, Some(&t), Method::GET, &path, None, None).await;
    let v1 = first.etag.clone().expect("an ETag");
    assert!(v1.starts_with("W/\""), "{v1}");
    let rename = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "displayName", "value": "Nguyễn Văn Một" }] });
    let ok = call(op, Some(&t), Method::PATCH, &path, Some(rename.clone()), Some(&v1)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let v2 = ok.etag.clone().unwrap();
    assert_ne!(v1, v2, "a change is a new version");
    let stale = call(op, Some(&t), Method::PATCH, &path, Some(rename), Some(&v1)).await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    let mut body = ok.body.clone();
    body["displayName"] = "Nguyễn Văn Hai".into();
    assert_eq!(call(op, Some(&t), Method::PUT, &path, Some(body.clone()), Some(&v1)).await.status, 412);
    assert_eq!(call(op, Some(&t), Method::PUT, &path, Some(body), Some(&v2)).await.status, 200);
    assert_eq!(call(op, Some(&t), Method::DELETE, &path, None, Some(&v2)).await.status, 412);
    assert_eq!(op.state.db.officer(&w.in_a1).await.unwrap().unwrap().full_name, "Nguyễn Văn Hai");
    op_stop(w).await;
}
on_both_backends!(etags_guard_changes, super::etags_guard_changes);

async fn groups_are_units_with_their_officers(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let t = token(op, "hr", "scim.read scim.write").await;
    let all = call(op, Some(&t), Method::GET, "/Groups?sortBy=displayName", None, None).await;
    assert_eq!(all.body["totalResults"], 4, "{}", all.body);
    let b = call(
        op,
        Some(&t),
        Method::GET,
        "/Groups?filter=displayName%20eq%20%22%C4%90%C6%A1n%20v%E1%BB%8B%20B%22",
        None,
        None,
    )
    .await;
    assert_eq!(b.body["totalResults"], 1, "{}", b.body);
    assert_eq!(b.body["Resources"][0]["members"][0]["value"], w.in_b.as_str());
    let member_of = call(
        op,
        Some(&t),
        Method::GET,
        &format!("/Groups?filter=members%5Bvalue%20eq%20%22{}%22%5D", w.in_a1),
        None,
        None,
    )
    .await;
    assert_eq!(member_of.body["Resources"][0]["id"], w.a1.as_str(), "{}", member_of.body);
    // Adding a member moves the officer; removing one moves them up to the parent unit (an
    // officer always has one unit), except from the province's root unit.
    let path = format!("/Groups/{}", w.b);
    let add = json!({ "schemas": [PATCH], "Operations": [{ "op": "add", "path": "members", "value": [{ "value": w.in_a1 }] }] });
    let r = call(op, Some(&t), Method::PATCH, &path, Some(add), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
    assert_eq!(op.state.db.officer(&w.in_a1).await.unwrap().unwrap().unit_id, w.b);
    let remove = json!({ "schemas": [PATCH], "Operations": [{ "op": "remove", "path": format!("members[value eq \"{}\"]", w.in_b) }] });
    let r = call(op, Some(&t), Method::PATCH, &path, Some(remove), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1, "{}", r.body);
    let p_unit = op.state.db.unit_by_code("P").await.unwrap().unwrap();
    let moved = op.state.db.officer(&w.in_b).await.unwrap().unwrap();
    assert_eq!(moved.unit_id, p_unit.id, "a removed member goes up to the parent unit");
    let from_root = json!({ "schemas": [PATCH], "Operations": [{ "op": "remove", "path": "members" }] });
    let r = call(op, Some(&t), Method::PATCH, &format!("/Groups/{}", p_unit.id), Some(from_root), None).await;
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("mutability")), "{}", r.body);
    assert_eq!(op.state.db.officer(&w.in_b).await.unwrap().unwrap().unit_id, p_unit.id);
    // A rename is the admin API's rename (audited); a unit with officers is not deleted.
    let rename = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "displayName", "value": "Xã Bình Minh" }] });
    assert_eq!(call(op, Some(&t), Method::PATCH, &path, Some(rename), None).await.status, 200);
    assert_eq!(op.state.db.unit(&w.b).await.unwrap().unwrap().name, "Xã Bình Minh");
    let r = call(op, Some(&t), Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("officers"), "{}", r.body);
    assert!(op.state.db.unit(&w.b).await.unwrap().unwrap().is_current());
    // Creating a unit: under the province by default.
    let ext = "urn:xacthuc:params:scim:schemas:extension:unit:2.0:Group";
    let new = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", ext], "displayName": "Xã Mới", ext: { "code": "C", "kind": "commune" } });
    let created = call(op, Some(&t), Method::POST, "/Groups", Some(new), None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body[ext]["parentCode"], "P");
    let actions = audited(op, "hr").await;
    for a in ["admin.officer.moved", "admin.unit.renamed", "admin.unit.created"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    op_stop(w).await;
}
on_both_backends!(groups_are_units_with_their_officers, super::groups_are_units_with_their_officers);

/// Unit codes up to 64 characters; code, kind and parent change by a restructuring (audited,
/// the subtree moves along); DELETE dissolves an empty unit only.
async fn groups_are_restructured_and_dissolved(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let t = token(op, "hr", "scim.read scim.write").await;
    let ext = "urn:xacthuc:params:scim:schemas:extension:unit:2.0:Group";
    let group = |code: &str| json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", ext], "displayName": "Mới", ext: { "code": code, "kind": "agency" } });
    let long = "c".repeat(64);
    let r = call(op, Some(&t), Method::POST, "/Groups", Some(group(&long)), None).await;
    assert_eq!((r.status, r.body[ext]["code"].as_str()), (201, Some(long.as_str())), "{}", r.body);
    let r = call(op, Some(&t), Method::POST, "/Groups", Some(group(&"c".repeat(65))), None).await;
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{}", r.body);
    let uuid_code = "0b6f1a52-3c1e-4f0e-9a57-6d1b2b0c9e11";
    let r = call(op, Some(&t), Method::POST, "/Groups", Some(group(uuid_code)), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let new_id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{new_id}");

    // A: code, kind and parent change (A1 moves along under B); each change is audited.
    let a = op.state.db.unit_by_code("A").await.unwrap().unwrap();
    let ops = json!({ "schemas": [PATCH], "Operations": [
        { "op": "replace", "path": format!("{ext}:code"), "value": "A-2026" },
        { "op": "replace", "path": format!("{ext}:kind"), "value": "agency" },
        { "op": "replace", "path": format!("{ext}:parentCode"), "value": "B" },
    ] });
    let r = call(op, Some(&t), Method::PATCH, &format!("/Groups/{}", a.id), Some(ops), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body[ext]["code"].as_str(), r.body[ext]["kind"].as_str()), (Some("A-2026"), Some("agency")));
    assert_eq!(r.body[ext]["parentCode"], "B");
    let (a_now, b, a1) = (
        op.state.db.unit(&a.id).await.unwrap().unwrap(),
        op.state.db.unit(&w.b).await.unwrap().unwrap(),
        op.state.db.unit(&w.a1).await.unwrap().unwrap(),
    );
    assert_eq!(a_now.parent_id.as_deref(), Some(w.b.as_str()));
    assert!(b.contains(&a_now) && b.contains(&a1) && a_now.contains(&a1), "the subtree moved along");
    assert_eq!(op.state.db.officer(&w.in_a1).await.unwrap().unwrap().unit_id, w.a1, "officers stay");
    // Under itself or its own units, or a code already used: refused, nothing changes.
    let under_own = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": format!("{ext}:parentCode"), "value": "A1" }] });
    let r = call(op, Some(&t), Method::PATCH, &format!("/Groups/{}", a.id), Some(under_own), None).await;
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{}", r.body);
    let taken =
        json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": format!("{ext}:code"), "value": "B" }] });
    let r = call(op, Some(&t), Method::PATCH, &format!("/Groups/{}", a.id), Some(taken), None).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(op.state.db.unit(&a.id).await.unwrap().unwrap(), a_now);
    // A replace with the same values is no change (and no audit entry).
    let same = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": format!("{ext}:parentCode"), "value": "B" }] });
    assert_eq!(call(op, Some(&t), Method::PATCH, &format!("/Groups/{}", a.id), Some(same), None).await.status, 200);
    let actions = audited(op, "hr").await;
    assert_eq!(actions.iter().filter(|a| *a == "admin.unit.restructured").count(), 1, "{actions:?}");

    // DELETE: a unit with units below it, or the province's root unit, stays.
    let r = call(op, Some(&t), Method::DELETE, &format!("/Groups/{}", a.id), None, None).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let root = op.state.db.unit_by_code("P").await.unwrap().unwrap();
    assert_eq!(call(op, Some(&t), Method::DELETE, &format!("/Groups/{}", root.id), None, None).await.status, 409);
    // An empty unit is dissolved: audited, no longer found or listed, its code stays taken.
    assert_eq!(call(op, Some(&t), Method::DELETE, &path, None, Some("W/\"stale\"")).await.status, 412);
    let r = call(op, Some(&t), Method::DELETE, &path, None, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(!op.state.db.unit(&new_id).await.unwrap().unwrap().is_current());
    assert_eq!(call(op, Some(&t), Method::GET, &path, None, None).await.status, 404);
    assert_eq!(call(op, Some(&t), Method::DELETE, &path, None, None).await.status, 404);
    let all = call(op, Some(&t), Method::GET, "/Groups?excludedAttributes=members", None, None).await;
    assert!(!all.body.to_string().contains(&new_id), "{}", all.body);
    assert_eq!(call(op, Some(&t), Method::POST, "/Groups", Some(group(uuid_code)), None).await.status, 409);
    assert!(audited(op, "hr").await.contains(&"admin.unit.dissolved".to_owned()));
    // A restricted client (not the province's) may not dissolve units.
    let admin = token(op, "admin", "admin").await;
    let r = http()
        .put(op.url("/admin/api/clients/hr-a/unit"))
        .bearer_auth(&admin)
        .json(&json!({ "unit_code": "A-2026" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let ta = token(op, "hr-a", "scim.read scim.write").await;
    let empty = call(op, Some(&t), Method::POST, "/Groups", Some(json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", ext], "displayName": "Trống", ext: { "code": "E", "kind": "agency", "parentCode": "A1" } })), None).await;
    assert_eq!(empty.status, 201, "{}", empty.body);
    let r = call(op, Some(&ta), Method::DELETE, &format!("/Groups/{}", empty.body["id"].as_str().unwrap()), None, None)
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    op_stop(w).await;
}
on_both_backends!(groups_are_restructured_and_dissolved, super::groups_are_restructured_and_dissolved);

async fn scopes_and_the_unit_restriction(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let none = call(op, None, Method::GET, "/Users", None, None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["status"], "401");
    let garbage = call(op, Some("not-a-token"), Method::GET, "/Users", None, None).await;
    assert_eq!(garbage.status, 401);
    let other = token(op, "other", "reports").await;
    assert_eq!(call(op, Some(&other), Method::GET, "/Users", None, None).await.status, 403);
    let reader = token(op, "reader", "scim.read").await;
    assert_eq!(call(op, Some(&reader), Method::GET, "/Users", None, None).await.status, 200);
    let new = json!({ "userName": "new.one", "displayName": "Mới", OFFICER_EXT: { "unitCode": "A1" } });
    assert_eq!(call(op, Some(&reader), Method::POST, "/Users", Some(new.clone()), None).await.status, 403);

    // Restricted to A through the admin API (super administrators only, audited).
    let admin = token(op, "admin", "admin").await;
    let r = http()
        .put(op.url("/admin/api/clients/hr-a/unit"))
        .bearer_auth(&admin)
        .json(&json!({ "unit_code": "A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t = token(op, "hr-a", "scim.read scim.write").await;
    let users = call(op, Some(&t), Method::GET, "/Users", None, None).await;
    assert_eq!(user_names(&users.body), ["clerk.a1"]);
    let groups = call(op, Some(&t), Method::GET, "/Groups", None, None).await;
    assert_eq!(groups.body["totalResults"], 2, "A and A1: {}", groups.body);
    assert_eq!(call(op, Some(&t), Method::GET, &format!("/Users/{}", w.in_b), None, None).await.status, 404);
    assert_eq!(call(op, Some(&t), Method::GET, &format!("/Groups/{}", w.b), None, None).await.status, 404);
    let in_b = json!({ "userName": "new.b", "displayName": "B", OFFICER_EXT: { "unitCode": "B" } });
    assert_eq!(call(op, Some(&t), Method::POST, "/Users", Some(in_b), None).await.status, 403);
    // Without a unit code a new officer joins the client's unit.
    let created =
        call(op, Some(&t), Method::POST, "/Users", Some(json!({ "userName": "new.a", "displayName": "A" })), None)
            .await;
    assert_eq!((created.status, created.body[OFFICER_EXT]["unitCode"].as_str()), (201, Some("A")), "{}", created.body);
    // Moving an officer out of the subtree is refused; units are the province's.
    let out = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": format!("{OFFICER_EXT}:unitCode"), "value": "B" }] });
    assert_eq!(call(op, Some(&t), Method::PATCH, &format!("/Users/{}", w.in_a1), Some(out), None).await.status, 403);
    let rename =
        json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "displayName", "value": "X" }] });
    assert_eq!(call(op, Some(&t), Method::PATCH, &format!("/Groups/{}", w.a1), Some(rename), None).await.status, 403);
    // No personal IDs without the scope: not shown, not settable.
    let pid = json!({ "schemas": [PATCH], "Operations": [{ "op": "add", "path": format!("{OFFICER_EXT}:personalId"), "value": "031090000009" }] });
    assert_eq!(call(op, Some(&t), Method::PATCH, &format!("/Users/{}", w.in_a1), Some(pid), None).await.status, 403);
    let schemas = call(op, Some(&t), Method::GET, &format!("/Schemas/{OFFICER_EXT}"), None, None).await;
    assert!(!schemas.body.to_string().contains("personalId"), "{}", schemas.body);
    assert_eq!(op.state.db.officer(&w.in_a1).await.unwrap().unwrap().personal_id.as_deref(), Some("031090000001"));
    // A restriction to a merged unit refuses the client until it is restricted anew.
    op.state.db.merge_units(&[op.state.db.unit_by_code("A").await.unwrap().unwrap().id], &w.b, 2).await.unwrap();
    assert_eq!(call(op, Some(&t), Method::GET, "/Users", None, None).await.status, 403);
    assert!(audited(op, "admin").await.contains(&"admin.client.unit".to_owned()));
    op_stop(w).await;
}
on_both_backends!(scopes_and_the_unit_restriction, super::scopes_and_the_unit_restriction);

async fn bulk_runs_within_its_limits(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let t = token(op, "hr", "scim.read scim.write").await;
    let spc = call(op, Some(&t), Method::GET, "/ServiceProviderConfig", None, None).await;
    assert_eq!(spc.body["bulk"]["maxOperations"], 100);
    assert_eq!(spc.body["bulk"]["maxPayloadSize"], op.config.body_limit_bytes);
    assert_eq!(
        (spc.body["patch"]["supported"].clone(), spc.body["etag"]["supported"].clone()),
        (json!(true), json!(true))
    );
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            { "method": "POST", "path": "/Users", "bulkId": "u1", "data": { "userName": "bulk.one", "displayName": "Một", OFFICER_EXT: { "unitCode": "A1" } } },
            { "method": "PATCH", "path": "/Groups/".to_owned() + &w.b, "data": { "schemas": [PATCH], "Operations": [{ "op": "add", "path": "members", "value": [{ "value": "bulkId:u1" }] }] } },
            { "method": "POST", "path": "/Users", "bulkId": "u2", "data": { "userName": "bulk.one", "displayName": "Trùng", OFFICER_EXT: { "unitCode": "A1" } } },
            { "method": "DELETE", "path": format!("/Users/{}", w.in_b) },
        ],
    });
    let r = call(op, Some(&t), Method::POST, "/Bulk", Some(bulk), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let statuses: Vec<&str> =
        r.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "200", "409", "204"], "{}", r.body);
    let one = op.state.db.officer_by_username("bulk.one").await.unwrap().unwrap();
    assert_eq!(one.unit_id, w.b, "the bulkId reference reached the new officer");
    let fail_fast = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "failOnErrors": 1, "Operations": [
        { "method": "DELETE", "path": "/Users/nobody" },
        { "method": "DELETE", "path": format!("/Users/{}", w.in_a1) },
    ] });
    let r = call(op, Some(&t), Method::POST, "/Bulk", Some(fail_fast), None).await;
    assert_eq!(r.body["Operations"].as_array().unwrap().len(), 1, "stopped after the first error: {}", r.body);
    assert_eq!(op.state.db.officer(&w.in_a1).await.unwrap().unwrap().status, OfficerStatus::Active);
    let too_many: Vec<Value> = (0..101).map(|_| json!({ "method": "DELETE", "path": "/Users/x" })).collect();
    let r = call(
        op,
        Some(&t),
        Method::POST,
        "/Bulk",
        Some(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": too_many })),
        None,
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    let huge = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [], "pad": "x".repeat(op.config.body_limit_bytes) });
    // The app's body limit answers before SCIM does: the status is SCIM's, the body plain text.
    let r = http().post(op.url("/scim/v2/Bulk")).bearer_auth(&t).body(huge.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let r = http().post(op.url("/scim/v2/Users")).bearer_auth(&t).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["scimType"], "invalidSyntax");
    let reader = token(op, "reader", "scim.read").await;
    let r = call(
        op,
        Some(&reader),
        Method::POST,
        "/Bulk",
        Some(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [] })),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    // Unknown endpoints and methods answer in SCIM's terms.
    let r = call(op, Some(&t), Method::GET, "/Nothing/here", None, None).await;
    assert_eq!((r.status, r.body["status"].as_str()), (404, Some("404")));
    let r = call(op, Some(&t), Method::DELETE, "/Schemas", None, None).await;
    assert_eq!(r.status, 405);
    op_stop(w).await;
}
on_both_backends!(bulk_runs_within_its_limits, super::bulk_runs_within_its_limits);

/// `xacthuc clients restrict`: the same checks as the admin API (known client, current unit),
/// audited as the operator, lifted with `--none`.
#[tokio::test]
async fn the_cli_restricts_a_client_to_a_unit() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let cli = |args: &[&str]| {
        std::process::Command::new(support::xacthuc_bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &url)
            .output()
            .expect("run xacthuc")
    };
    let help = String::from_utf8(cli(&["clients", "restrict", "--help"]).stdout).unwrap();
    assert!(help.contains("--unit") && help.contains("--none") && help.contains("subtree"), "{help}");
    let add = [
        "clients",
        "add",
        "--id",
        "hr",
        "--name",
        "HR",
        "--scope",
        "scim.read scim.write",
        "--grants",
        "client_credentials",
    ];
    assert!(cli(&add).status.success());
    let out = cli(&["clients", "restrict", "--id", "hr", "--unit", "P"]);
    assert_eq!(out.status.code(), Some(2), "no such unit yet: {}", String::from_utf8_lossy(&out.stderr));
    let db = xacthuc::store::Db::connect(&url, 1, std::time::Duration::from_secs(5)).await.unwrap();
    let unit = NewUnit { code: "P".into(), name: "Tỉnh".into(), kind: UnitKind::Province, parent_code: None };
    db.create_unit(&unit, 1).await.unwrap();
    let out = cli(&["clients", "restrict", "--id", "hr", "--unit", "P"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(db.client_unit("hr").await.unwrap().map(|u| u.code).as_deref(), Some("P"));
    assert_eq!(cli(&["clients", "restrict", "--id", "nobody", "--unit", "P"]).status.code(), Some(2));
    assert_eq!(cli(&["clients", "restrict", "--id", "hr"]).status.code(), Some(2), "--unit or --none is required");
    assert!(cli(&["clients", "restrict", "--id", "hr", "--none"]).status.success());
    assert!(db.client_unit("hr").await.unwrap().is_none());
    let rows = sqlx::query("SELECT actor FROM audit_log WHERE action = 'admin.client.unit'")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].try_get::<String, _>(0).unwrap(), "system");
}
