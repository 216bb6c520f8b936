//! The certificate registry's fixture: a province with communes A and B, officers with
//! personal IDs, certificates from the mock CA, admin API tokens (one for the province, one
//! restricted to B).
#![allow(dead_code)]

use reqwest::Method;
use serde_json::{Value, json};
use xacthuc::crypto::sha256_hex;
use xacthuc::officers::{NewOfficer, NewUnit, UnitKind};
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};

use super::ca;
use super::op::{Backend, TestOp, http};

pub const SECRET: &str = "automation-secret-value-123";
pub const PROVINCE: &str = "Thành phố Hải Phòng";
pub const UNIT_A: &str = "Xã An Lư";
pub const UNIT_B: &str = "Xã Bạch Đằng";

/// A valid personal ID (Hà Nội, male, born 1985) numbered `n`.
pub fn pid(n: u32) -> String {
    format!("001085{n:06}")
}

pub struct World {
    pub op: TestOp,
    pub a: String,
    pub b: String,
    /// Admin token for the whole province, and one restricted to unit B.
    pub all: String,
    pub only_b: String,
}

pub async fn world(backend: Backend) -> Option<World> {
    let op = TestOp::start(backend).await?;
    let db = &op.state.db;
    let unit = |code: &str, name: &str, kind, parent: Option<&str>| NewUnit {
        code: code.into(),
        name: name.into(),
        kind,
        parent_code: parent.map(String::from),
    };
    db.create_unit(&unit("31", PROVINCE, UnitKind::Province, None), 1).await.unwrap();
    let a = db.create_unit(&unit("31.a", UNIT_A, UnitKind::Commune, Some("31")), 1).await.unwrap();
    let b = db.create_unit(&unit("31.b", UNIT_B, UnitKind::Commune, Some("31")), 1).await.unwrap();
    for id in ["automation", "automation.b"] {
        let c = Client {
            secret_hash: Some(sha256_hex(SECRET)),
            scopes: vec!["admin".into()],
            grant_types: vec![GrantType::ClientCredentials],
            ..Client::new(id, id, AuthMethod::ClientSecretBasic, Vec::new())
        };
        db.put_client(&c, 0).await.unwrap();
    }
    db.set_client_unit("automation.b", Some(&b.id)).await.unwrap();
    let all = super::rp::client_credentials_token(&op, "automation", SECRET, "admin").await;
    let only_b = super::rp::client_credentials_token(&op, "automation.b", SECRET, "admin").await;
    Some(World { op, a: a.id, b: b.id, all, only_b })
}

pub async fn officer(op: &TestOp, username: &str, n: u32, unit_code: &str) -> String {
    let new = NewOfficer {
        username: username.into(),
        full_name: format!("Cán bộ {n}"),
        personal_id: Some(pid(n)),
        unit_code: unit_code.into(),
        ..Default::default()
    };
    op.state.db.create_officer(&new, 1).await.unwrap().id
}

/// A certificate for `n` naming `unit`, from the CA with a generated key; PEM with its chain.
pub async fn issued(op: &TestOp, n: u32, unit: &str, extra: Value) -> ca::Issued {
    let mut body = json!({ "name": format!("Cán bộ {n}"), "personal_id": pid(n), "unit": unit, "province": PROVINCE });
    body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    ca::issue_with(ca::ca(op), body).await
}

pub async fn call(op: &TestOp, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = http().request(method, op.url(&format!("/admin/api{path}"))).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    read(r.send().await.unwrap()).await
}

pub async fn read(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON ({status}): {text}")))
}
