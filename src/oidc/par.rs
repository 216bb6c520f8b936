//! Pushed authorization requests (RFC 9126) and signed request objects (JAR, RFC 9101).
//! Both produce the parameter set that `/authorize` then validates as usual.

use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::client_auth;
use super::clients::Client;
use super::error::{ErrorCode, OAuthError};
use super::jwks_cache::{CLOCK_LEEWAY, Purpose, first_use, numeric_claim};
use super::provider::Provider;
use super::request::{self, Params, RequestError};
use super::token::proof_at_server;
use crate::clock::unix_now;
use crate::crypto::random_token;

const PAR_TTL: Duration = Duration::from_secs(90);
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Longest validity of a request object (`exp` − `iat`/`nbf`, and `exp` − now), in seconds.
pub const MAX_REQUEST_OBJECT_LIFETIME: i64 = 3600;

/// `POST /par`: authenticates the client, validates the request now (errors as JSON), stores it.
/// With a DPoP proof (`dpop_proof`, the `DPoP` header), the code will be bound to its key.
pub async fn push(
    p: &Provider,
    headers: &HeaderMap,
    form: &Params,
    dpop_proof: Option<&str>,
) -> Result<Value, OAuthError> {
    let client = client_auth::authenticate(p, headers, form).await?;
    let proof = proof_at_server(p, &client, dpop_proof, "/par").await?;
    if form.contains_key("request_uri") {
        return Err(OAuthError::invalid_request("request_uri is not allowed at the PAR endpoint"));
    }
    let mut form = form.clone();
    // Client credentials are for this call only; they must not sit in the store.
    for k in ["client_secret", "client_assertion", "client_assertion_type"] {
        form.remove(k);
    }
    form.insert("client_id".into(), client.client_id.clone());
    let mut params = unpack_request_object(p, &client, form).await?;
    // RFC 9449 §10.1: the proof's key binds the code; a dpop_jkt sent along must name it.
    if let Some(proof) = proof {
        match params.get("dpop_jkt") {
            Some(jkt) if jkt != &proof.jkt => {
                return Err(OAuthError::new(ErrorCode::InvalidDpopProof, "dpop_jkt does not match the DPoP proof"));
            }
            _ => params.insert("dpop_jkt".into(), proof.jkt),
        };
    }
    match request::parse(&client, &params, true) {
        Ok(_) => {}
        Err(RequestError::Page(e)) | Err(RequestError::Redirect { error: e, .. }) => return Err(e),
    }
    let id = random_token();
    let doc = serde_json::to_vec(&params).map_err(|_| OAuthError::server_error())?;
    p.kv.set(&format!("par:{id}"), &doc, PAR_TTL).await?;
    Ok(json!({ "request_uri": format!("{REQUEST_URI_PREFIX}{id}"), "expires_in": PAR_TTL.as_secs() }))
}

/// The parameters `/authorize` acts on, and whether they came through PAR. A pushed request is
/// used once; a request object replaces the query parameters.
pub async fn resolve(p: &Provider, client: &Client, params: Params) -> Result<(Params, bool), OAuthError> {
    if let Some(uri) = params.get("request_uri") {
        let id = uri
            .strip_prefix(REQUEST_URI_PREFIX)
            .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequestUri, "unknown request_uri"))?;
        let key = format!("par:{id}");
        let gone = || OAuthError::new(ErrorCode::InvalidRequestUri, "request_uri is unknown, expired or already used");
        // Check the owner before consuming, so another client cannot burn someone's request.
        let stored = p.kv.get(&key).await?.ok_or_else(gone)?;
        let pushed: Params = serde_json::from_slice(&stored).map_err(|_| OAuthError::server_error())?;
        if pushed.get("client_id") != Some(&client.client_id) {
            return Err(OAuthError::new(ErrorCode::InvalidRequestUri, "request_uri was pushed by another client"));
        }
        p.kv.take(&key).await?.ok_or_else(gone)?;
        return Ok((pushed, true));
    }
    Ok((unpack_request_object(p, client, params).await?, false))
}

/// RFC 9101 §4–6: verify the request object with the client's registered keys; its claims are
/// the request (client_id must agree). Unsigned (`alg: none`) objects are refused, and so is a
/// client assertion presented as a request object (wrong `typ`, no authorization parameters).
///
/// A request object passes through the browser, so it is bounded like a bearer credential:
/// `exp` and `jti` are required, it lives at most [`MAX_REQUEST_OBJECT_LIFETIME`], and each
/// `jti` is accepted once (across instances, through the session store).
async fn unpack_request_object(p: &Provider, client: &Client, mut params: Params) -> Result<Params, OAuthError> {
    let Some(jwt) = params.remove("request") else { return Ok(params) };
    let bad = |m: &str| OAuthError::new(ErrorCode::InvalidRequestObject, m);
    let claims =
        p.client_jwks.verify(&p.http, client, &jwt, Purpose::RequestObject).await.map_err(|e| bad(&e.to_string()))?;
    let obj = claims.as_object().ok_or_else(|| bad("the request object is not a JSON object"))?;
    if obj.get("iss").and_then(Value::as_str) != Some(client.client_id.as_str()) {
        return Err(bad("iss must be the client_id"));
    }
    let aud_ok = match obj.get("aud") {
        Some(Value::String(a)) => a == &p.issuer,
        Some(Value::Array(l)) => l.iter().any(|a| a.as_str() == Some(p.issuer.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("aud must be the issuer"));
    }
    let t = unix_now();
    let exp = numeric_claim(&claims, "exp").ok_or_else(|| bad("exp is required"))?;
    let too_long = |start: Option<i64>| start.is_some_and(|s| exp.saturating_sub(s) > MAX_REQUEST_OBJECT_LIFETIME);
    // Measured from now too (with the clock leeway), so omitting iat and nbf does not lift the cap.
    let ahead = exp.saturating_sub(t) > MAX_REQUEST_OBJECT_LIFETIME + CLOCK_LEEWAY;
    if too_long(numeric_claim(&claims, "iat")) || too_long(numeric_claim(&claims, "nbf")) || ahead {
        return Err(bad("the request object may be valid for at most 60 minutes"));
    }
    let jti = obj.get("jti").and_then(Value::as_str).filter(|j| !j.is_empty()).ok_or_else(|| bad("jti is required"))?;
    let mut out = Params::new();
    for (k, v) in obj {
        if matches!(k.as_str(), "iss" | "aud" | "exp" | "iat" | "nbf" | "jti") {
            continue;
        }
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        out.insert(k.clone(), s);
    }
    if out.get("client_id") != Some(&client.client_id) {
        return Err(bad("client_id in the request object must match"));
    }
    // Last, so a request refused for another reason does not use up its jti.
    if !first_use(&p.kv, Purpose::RequestObject, &client.client_id, jti, exp, t, MAX_REQUEST_OBJECT_LIFETIME).await? {
        return Err(bad("this request object was already used"));
    }
    Ok(out)
}
