//! `/Bulk` (RFC 7644 §3.7): up to [`MAX_BULK_OPERATIONS`] operations, each the same call its
//! own endpoint would make, in order. `bulkId:` references to resources created earlier in the
//! request are resolved; `failOnErrors` stops the run after that many errors. Its bytes are
//! capped by the request body limit, advertised as `maxPayloadSize`.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::error::{ScimError, ScimResult};
use super::filter::get_ci;
use super::{MAX_BULK_OPERATIONS, group_ops, user_ops};
use crate::admin::authz::ScimCaller;
use crate::oidc::Provider;

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidSyntax", detail)
}

/// Replaces `bulkId:<id>` with the ids created so far; an unknown one is an error.
fn resolve(text: &str, created: &HashMap<String, String>) -> ScimResult<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("bulkId:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 7..];
        let end =
            after.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(after.len());
        let id = &after[..end];
        let real = created.get(id).ok_or_else(|| ScimError::bad("invalidValue", format!("unknown bulkId {id}")))?;
        out.push_str(real);
        rest = &after[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One operation: its status and, for a creation or change, the resource.
async fn one(
    p: &Provider,
    sc: &ScimCaller,
    method: &str,
    path: &str,
    data: Option<&Value>,
    version: Option<&str>,
) -> ScimResult<(u16, Option<Value>)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let body = || data.ok_or_else(|| syntax("data is required"));
    match (method, segments.as_slice()) {
        ("POST", ["Users"]) => Ok((201, Some(user_ops::create(p, sc, body()?).await?))),
        ("POST", ["Groups"]) => Ok((201, Some(group_ops::create(p, sc, body()?).await?))),
        ("PUT", ["Users", id]) => Ok((200, Some(user_ops::replace(p, sc, id, body()?, version).await?))),
        ("PUT", ["Groups", id]) => Ok((200, Some(group_ops::replace(p, sc, id, body()?, version).await?))),
        ("PATCH", ["Users", id]) => Ok((200, Some(user_ops::patch(p, sc, id, body()?, version).await?))),
        ("PATCH", ["Groups", id]) => Ok((200, Some(group_ops::patch(p, sc, id, body()?, version).await?))),
        ("DELETE", ["Users", id]) => user_ops::delete(p, sc, id, version).await.map(|()| (204, None)),
        ("DELETE", ["Groups", id]) => group_ops::delete(p, sc, id, version).await.map(|()| (204, None)),
        _ => Err(syntax(format!("{method} {path} is not a bulk operation"))),
    }
}

/// Runs a BulkRequest.
pub async fn run(p: &Provider, sc: &ScimCaller, body: &Value) -> ScimResult<Value> {
    if !get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|x| x.as_str() == Some(BULK_REQUEST)))
    {
        return Err(syntax(format!("a bulk request names the schema {BULK_REQUEST}")));
    }
    let ops = get_ci(body, "Operations").and_then(Value::as_array).ok_or_else(|| syntax("Operations is required"))?;
    if ops.len() > MAX_BULK_OPERATIONS {
        return Err(ScimError::new(413, None, format!("at most {MAX_BULK_OPERATIONS} operations per bulk request")));
    }
    let fail_on = get_ci(body, "failOnErrors").and_then(Value::as_u64).map(|n| n.max(1) as usize);
    let mut created: HashMap<String, String> = HashMap::new();
    let mut results = Vec::new();
    let mut errors = 0;
    for op in ops {
        if fail_on.is_some_and(|n| errors >= n) {
            break;
        }
        let method = get_ci(op, "method").and_then(Value::as_str).unwrap_or_default().to_ascii_uppercase();
        let bulk_id = get_ci(op, "bulkId").and_then(Value::as_str).map(str::to_owned);
        let version = get_ci(op, "version").and_then(Value::as_str);
        let outcome = async {
            let path = resolve(
                get_ci(op, "path").and_then(Value::as_str).ok_or_else(|| syntax("path is required"))?,
                &created,
            )?;
            let data = match get_ci(op, "data") {
                Some(d) => Some(
                    serde_json::from_str::<Value>(&resolve(&d.to_string(), &created)?)
                        .map_err(|e| syntax(e.to_string()))?,
                ),
                None => None,
            };
            if method == "POST" && bulk_id.is_none() {
                return Err(syntax("a POST needs a bulkId"));
            }
            one(p, sc, &method, &path, data.as_ref(), version).await
        }
        .await;
        let mut result = json!({ "method": method });
        if let Some(b) = &bulk_id {
            result["bulkId"] = b.clone().into();
        }
        match outcome {
            Ok((status, resource)) => {
                result["status"] = status.to_string().into();
                if let Some(r) = resource {
                    if let (Some(b), Some(id)) = (&bulk_id, r["id"].as_str()) {
                        created.insert(b.clone(), id.to_owned());
                    }
                    result["location"] = r["meta"]["location"].clone();
                    result["version"] = r["meta"]["version"].clone();
                }
            }
            Err(e) => {
                errors += 1;
                result["status"] = e.status.to_string().into();
                result["response"] = e.json();
            }
        }
        results.push(result);
    }
    Ok(json!({ "schemas": [BULK_RESPONSE], "Operations": results }))
}
