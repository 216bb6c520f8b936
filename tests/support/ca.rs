//! Certificates from the mock Government CA, over its HTTP API.
#![allow(dead_code)]

use std::net::SocketAddr;

use serde_json::{Value, json};

use super::op::{TestOp, http};

/// What the CA answered to an issue request.
#[derive(Clone, Debug)]
pub struct Issued {
    pub serial: String,
    pub cert_pem: String,
    pub chain_pem: String,
    /// PKCS#8 PEM, when the CA generated the key.
    pub key_pem: Option<String>,
    pub raw: Value,
}

pub fn ca(op: &TestOp) -> SocketAddr {
    op.mocks.as_ref().expect("mocks").gov_ca
}

/// A certificate for `personal_id`, with a key the CA generates; `variant` as the mock CA
/// documents (`normal`, `expired`, `not_yet_valid`, `unknown_ca`, `wrong_key_usage`).
pub async fn issue(ca: SocketAddr, personal_id: &str, variant: &str) -> Issued {
    issue_with(
        ca,
        json!({
            "name": "Trần Thị Bình",
            "personal_id": personal_id,
            "unit": "UBND xã An Lư",
            "province": "Thành phố Hải Phòng",
            "variant": variant,
        }),
    )
    .await
}

/// Any issue request.
pub async fn issue_with(ca: SocketAddr, body: Value) -> Issued {
    let r = http().post(format!("http://{ca}/api/certificates")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201, "issue {body}");
    let v: Value = r.json().await.unwrap();
    Issued {
        serial: v["serial"].as_str().unwrap().to_owned(),
        cert_pem: v["certificate_pem"].as_str().unwrap().to_owned(),
        chain_pem: v["chain_pem"].as_str().unwrap_or_default().to_owned(),
        key_pem: v["private_key_pem"].as_str().map(str::to_owned),
        raw: v,
    }
}

pub async fn revoke(ca: SocketAddr, serial: &str, reason: &str) {
    let r = http()
        .post(format!("http://{ca}/api/certificates/{serial}/revoke"))
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "revoke {serial}: {}", r.status());
}
