//! Sending one change to one receiver: a pushed Security Event Token, or SCIM calls.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use super::store::{Delivery, Receiver};
use super::{Change, ReceiverKind};
use crate::oidc::Provider;
use crate::tokens::{Alg, KeyRing};

const TIMEOUT: Duration = Duration::from_secs(10);
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub enum Outcome {
    Delivered,
    /// The receiver refused the change itself: sending it again will not help.
    Refused(String),
    /// Down, overloaded, or not reachable: try again later.
    Retry(String),
}

pub async fn send(p: &Provider, r: &Receiver, d: &Delivery) -> Outcome {
    let token = match r.token_sealed.as_deref().map(|s| open_token(&p.keys, &r.id, s)).transpose() {
        Ok(t) => t,
        Err(e) => return Outcome::Refused(e),
    };
    let c = Call { p, base: r.endpoint.trim_end_matches('/'), token: token.as_deref() };
    let result = match r.kind {
        ReceiverKind::Set => c.set(r, d).await,
        ReceiverKind::Scim => c.scim(&d.change).await,
    };
    match result {
        Ok(()) => Outcome::Delivered,
        Err(o) => o,
    }
}

/// The receiver's credential, sealed at rest under the master key.
pub fn seal_token(keys: &KeyRing, receiver_id: &str, token: &str) -> Result<String, String> {
    use base64::Engine;
    let sealed =
        keys.seal_setting(&format!("provisioning:{receiver_id}"), token.as_bytes()).map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
}

fn open_token(keys: &KeyRing, receiver_id: &str, sealed: &str) -> Result<String, String> {
    use base64::Engine;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).map_err(|_| "sealed token is not base64url")?;
    let plain = keys.open_setting(&format!("provisioning:{receiver_id}"), &bytes).map_err(|e| e.to_string())?;
    String::from_utf8(plain.to_vec()).map_err(|_| "sealed token is not UTF-8".to_string())
}

struct Call<'a> {
    p: &'a Provider,
    base: &'a str,
    token: Option<&'a str>,
}

impl Call<'_> {
    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let b = self.p.http.request(method, url).timeout(TIMEOUT);
        match self.token {
            Some(t) => b.bearer_auth(t),
            None => b,
        }
    }

    /// RFC 8935: the SET as the body; 202 (any 2xx) accepted, 400 refused for good.
    async fn set(&self, r: &Receiver, d: &Delivery) -> Result<(), Outcome> {
        let mut payload = serde_json::to_value(&d.change).unwrap_or(Value::Null);
        if let Some(o) = payload.as_object_mut() {
            o.remove("type");
        }
        let claims = json!({
            "iss": self.p.issuer,
            "iat": crate::clock::unix_now(),
            // Stable across retries: the receiver drops a SET it has already seen.
            "jti": d.id,
            "aud": r.audience,
            "events": { d.change.event_type(): payload },
        });
        let jwt = self
            .p
            .keys
            .sign_jwt(Alg::Es256, "secevent+jwt", &claims)
            .map_err(|e| Outcome::Retry(format!("signing: {e}")))?;
        let resp = self
            .request(Method::POST, self.base)
            .header("content-type", "application/secevent+jwt")
            .header("accept", "application/json")
            .body(jwt)
            .send()
            .await
            .map_err(|e| Outcome::Retry(format!("network: {e}")))?;
        check(resp).await.map(|_| ())
    }

    async fn scim(&self, change: &Change) -> Result<(), Outcome> {
        match change {
            Change::OfficerStatus { username, status, .. } => {
                let Some(id) = self.find("Users", "userName", username).await? else { return Ok(()) };
                self.patch("Users", &id, json!([{ "op": "replace", "path": "active", "value": status == "active" }]))
                    .await
            }
            Change::OfficerMoved { username, unit_code, .. } => {
                let Some(id) = self.find("Users", "userName", username).await? else { return Ok(()) };
                let path = format!("{ENTERPRISE}:department");
                self.patch("Users", &id, json!([{ "op": "replace", "path": path, "value": unit_code }])).await
            }
            Change::UnitRenamed { code, name, .. } => {
                let Some(id) = self.find("Groups", "externalId", code).await? else { return Ok(()) };
                self.patch("Groups", &id, json!([{ "op": "replace", "path": "displayName", "value": name }])).await
            }
            Change::UnitMerged { into_code, from_codes, members } => {
                if let Some(into) = self.find("Groups", "externalId", into_code).await? {
                    let mut values = Vec::new();
                    for m in members {
                        if let Some(uid) = self.find("Users", "userName", m).await? {
                            values.push(json!({ "value": uid }));
                        }
                    }
                    if !values.is_empty() {
                        self.patch("Groups", &into, json!([{ "op": "add", "path": "members", "value": values }]))
                            .await?;
                    }
                }
                for code in from_codes {
                    if let Some(gid) = self.find("Groups", "externalId", code).await? {
                        let url = format!("{}/Groups/{gid}", self.base);
                        let resp = self.request(Method::DELETE, &url).send().await;
                        match resp.map_err(|e| Outcome::Retry(format!("network: {e}")))? {
                            r if r.status() == StatusCode::NOT_FOUND => {}
                            r => {
                                check(r).await?;
                            }
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// The receiver's id of the resource whose `attr` equals `value`; `None` if it has none
    /// (nothing to change there).
    async fn find(&self, resource: &str, attr: &str, value: &str) -> Result<Option<String>, Outcome> {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        let url = format!("{}/{resource}", self.base);
        let resp = self
            .request(Method::GET, &url)
            .query(&[("filter", format!("{attr} eq \"{escaped}\""))])
            .header("accept", "application/scim+json")
            .send()
            .await
            .map_err(|e| Outcome::Retry(format!("network: {e}")))?;
        let body = check(resp).await?;
        Ok(body["Resources"].get(0).and_then(|r| r["id"].as_str()).map(str::to_owned))
    }

    async fn patch(&self, resource: &str, id: &str, operations: Value) -> Result<(), Outcome> {
        let url = format!("{}/{resource}/{id}", self.base);
        let resp = self
            .request(Method::PATCH, &url)
            .header("content-type", "application/scim+json")
            .json(&json!({ "schemas": [PATCH_OP], "Operations": operations }))
            .send()
            .await
            .map_err(|e| Outcome::Retry(format!("network: {e}")))?;
        check(resp).await.map(|_| ())
    }
}

/// 2xx: the JSON body (or Null). 5xx, 408 and 429, and 401/403 (credentials an operator can
/// fix): retry. Other 4xx: refused.
async fn check(resp: reqwest::Response) -> Result<Value, Outcome> {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let short: String = text.chars().take(300).collect();
    if status.is_success() {
        return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
    }
    let why = format!("HTTP {}: {short}", status.as_u16());
    let retry = status.is_server_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
        );
    Err(if retry { Outcome::Retry(why) } else { Outcome::Refused(why) })
}
