//! Client authentication at the token, introspection, revocation and PAR endpoints
//! (RFC 6749 §2.3, OIDC Core §9): the method used must be the one the client registered.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use std::sync::Arc;

use super::clients::{AuthMethod, Client};
use super::error::OAuthError;
use super::jwks_cache::{Purpose, first_use, numeric_claim};
use super::provider::Provider;
use super::request::Params;
use crate::clock::unix_now;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Assertions valid for longer than this are refused: a leaked one must not live long.
const MAX_ASSERTION_LIFETIME: i64 = 600;

pub async fn authenticate(p: &Provider, headers: &HeaderMap, form: &Params) -> Result<Arc<Client>, OAuthError> {
    let basic = basic_credentials(headers)?;
    let assertion = form.get("client_assertion");
    let body_secret = form.get("client_secret");
    let presented = [basic.is_some(), assertion.is_some(), body_secret.is_some()].iter().filter(|b| **b).count();
    if presented > 1 {
        return Err(OAuthError::invalid_request("use exactly one client authentication method"));
    }
    if let Some((id, secret)) = basic {
        let client = known(p, &id).await?;
        check_id_param(form, &id)?;
        return expect(client, AuthMethod::ClientSecretBasic, |c| c.verify_secret(&secret));
    }
    if let Some(secret) = body_secret {
        let id = form.get("client_id").ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
        let client = known(p, id).await?;
        return expect(client, AuthMethod::ClientSecretPost, |c| c.verify_secret(secret));
    }
    if let Some(jwt) = assertion {
        if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request("client_assertion_type must be jwt-bearer"));
        }
        return private_key_jwt(p, form, jwt).await;
    }
    let id = form.get("client_id").ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
    let client = known(p, id).await?;
    expect(client, AuthMethod::None, |_| true)
}

fn expect(client: Arc<Client>, method: AuthMethod, ok: impl Fn(&Client) -> bool) -> Result<Arc<Client>, OAuthError> {
    // One message for every failure, so a caller cannot probe which part was wrong.
    if client.auth_method != method || !ok(&client) {
        return Err(OAuthError::invalid_client("client authentication failed"));
    }
    Ok(client)
}

async fn known(p: &Provider, id: &str) -> Result<Arc<Client>, OAuthError> {
    p.clients.get(id).await?.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}

fn check_id_param(form: &Params, id: &str) -> Result<(), OAuthError> {
    match form.get("client_id") {
        Some(other) if other != id => {
            Err(OAuthError::invalid_request("client_id does not match the authenticated client"))
        }
        _ => Ok(()),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else { return Ok(None) };
    let bad = || OAuthError::invalid_client("malformed Authorization header");
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else { return Ok(None) };
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Ok(Some((unescape(id).ok_or_else(bad)?, unescape(secret).ok_or_else(bad)?)))
}

async fn private_key_jwt(p: &Provider, form: &Params, jwt: &str) -> Result<Arc<Client>, OAuthError> {
    let fail = || OAuthError::invalid_client("client authentication failed");
    // The issuer names the client; read it unverified only to find whose keys to use.
    let unverified = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(jwt).map_err(|_| fail())?.claims;
    let id = unverified.get("iss").and_then(|v| v.as_str()).ok_or_else(fail)?.to_owned();
    if let Some(form_id) = form.get("client_id")
        && form_id != &id
    {
        return Err(fail());
    }
    let client = known(p, &id).await?;
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        return Err(fail());
    }
    let claims = p.client_jwks.verify(&p.http, &client, jwt, Purpose::ClientAssertion).await.map_err(|e| {
        tracing::info!(client_id = %id, error = %e, "client assertion rejected");
        fail()
    })?;
    if claims.get("sub").and_then(|v| v.as_str()) != Some(id.as_str()) {
        return Err(fail());
    }
    if !audience_is_issuer(claims.get("aud"), &p.issuer) {
        return Err(fail());
    }
    let exp = numeric_claim(&claims, "exp").ok_or_else(fail)?;
    let t = unix_now();
    if exp.saturating_sub(t) > MAX_ASSERTION_LIFETIME {
        return Err(OAuthError::invalid_client("client assertion lifetime is too long"));
    }
    let jti = claims.get("jti").and_then(|v| v.as_str()).ok_or_else(fail)?;
    if !first_use(&p.kv, Purpose::ClientAssertion, &id, jti, exp, t, MAX_ASSERTION_LIFETIME).await? {
        return Err(OAuthError::invalid_client("client assertion was already used"));
    }
    Ok(client)
}

/// RFC 7523 §3 as tightened after the 2025 audience-injection disclosures
/// (draft-ietf-oauth-rfc7523bis): the audience is the issuer identifier alone, as a string or a
/// one-element array. Endpoint URLs and multi-valued audiences are refused, so an assertion made
/// for another party can never be replayed here.
pub(crate) fn audience_is_issuer(aud: Option<&serde_json::Value>, issuer: &str) -> bool {
    match aud {
        Some(serde_json::Value::String(a)) => a == issuer,
        Some(serde_json::Value::Array(list)) => {
            matches!(list.as_slice(), [serde_json::Value::String(a)] if a == issuer)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::audience_is_issuer;

    const ISS: &str = "https://id.example.vn";

    #[test]
    fn assertion_audience_is_the_issuer_only() {
        assert!(audience_is_issuer(Some(&json!(ISS)), ISS));
        assert!(audience_is_issuer(Some(&json!([ISS])), ISS));
        for bad in [
            json!("https://id.example.vn/token"),
            json!("https://id.example.vn/"),
            json!([ISS, "https://elsewhere.example"]),
            json!(["https://elsewhere.example", ISS]),
            json!([]),
            json!(42),
        ] {
            assert!(!audience_is_issuer(Some(&bad), ISS), "{bad} must be refused");
        }
        assert!(!audience_is_issuer(None, ISS));
    }
}
