//! Client authentication at the token endpoint: `client_secret_post` (what the national
//! portal's relying parties use), `client_secret_basic`, and `private_key_jwt` with RS256 or
//! ES256 assertions (what xacthuc should prefer).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::token::OAuthError;
use super::{Shared, now};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Assertions valid for longer than this are refused: they are meant to be single-use and
/// short-lived (Singpass caps them at 2 minutes; we are a little more lenient).
const MAX_ASSERTION_LIFETIME: i64 = 600;
const LEEWAY: u64 = 30;

/// Returns the authenticated client's id.
pub fn authenticate(s: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> Result<String, OAuthError> {
    if let Some(kind) = form.get("client_assertion_type") {
        if kind != JWT_BEARER {
            return Err(invalid_client("client_assertion_type must be jwt-bearer"));
        }
        let assertion = form.get("client_assertion").map(String::as_str).unwrap_or("");
        return private_key_jwt(s, assertion, form.get("client_id").map(String::as_str));
    }
    if let Some((id, secret)) = basic_credentials(headers) {
        return check_secret(s, &id, &secret);
    }
    match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => check_secret(s, id, secret),
        _ => Err(invalid_client("client authentication required")),
    }
}

fn check_secret(s: &Shared, id: &str, secret: &str) -> Result<String, OAuthError> {
    let client = s.client(id).ok_or_else(|| invalid_client("unknown client"))?;
    let expected = client.client_secret.as_deref().ok_or_else(|| invalid_client("client has no secret"))?;
    // Comparing digests keeps the comparison time independent of where the strings differ.
    if Sha256::digest(expected.as_bytes()) != Sha256::digest(secret.as_bytes()) {
        return Err(invalid_client("wrong client secret"));
    }
    Ok(id.to_string())
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    exp: i64,
    jti: Option<String>,
}

fn private_key_jwt(s: &Shared, assertion: &str, form_client_id: Option<&str>) -> Result<String, OAuthError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid_client("client_assertion is not a JWT"))?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(invalid_client("client_assertion must be RS256 or ES256"));
    }
    // The issuer names the client; read it before verifying to know whose keys to use.
    let unverified: AssertionClaims = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| invalid_client("client_assertion lacks iss or exp"))?;
    let client_id = unverified.iss.clone();
    if form_client_id.is_some_and(|id| id != client_id) {
        return Err(invalid_client("client_id differs from the assertion's iss"));
    }
    let client = s.client(&client_id).ok_or_else(|| invalid_client("unknown client"))?;
    let keys: Vec<Jwk> = client
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(|k| serde_json::from_value(k.clone()).ok())
        .ok_or_else(|| invalid_client("client has no registered JWK set"))?;

    let mut validation = Validation::new(header.alg);
    let token_endpoint = format!("{}/oauth2/token", s.issuer());
    validation.set_audience(&[token_endpoint.as_str(), s.issuer()]);
    validation.set_issuer(&[client_id.as_str()]);
    validation.sub = Some(client_id.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = LEEWAY;

    let candidates = keys.iter().filter(|k| match (&header.kid, &k.common.key_id) {
        (Some(want), Some(have)) => want == have,
        _ => true,
    });
    let mut last_error = None;
    let mut verified = None;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
        match jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation) {
            Ok(data) => {
                verified = Some(data.claims);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let claims = verified.ok_or_else(|| {
        let why = last_error.map_or_else(|| "no matching key".to_string(), |e| e.to_string());
        invalid_client(&format!("client_assertion rejected: {why}"))
    })?;
    let t = now();
    if claims.exp - t > MAX_ASSERTION_LIFETIME {
        return Err(invalid_client("client_assertion lives too long (exp more than 10 minutes ahead)"));
    }
    let jti = claims.jti.filter(|j| !j.is_empty()).ok_or_else(|| invalid_client("client_assertion needs a jti"))?;
    let mut seen = s.store.jtis.lock().map_err(|_| OAuthError::server())?;
    super::store::prune(&mut seen, t - LEEWAY as i64, |exp| *exp);
    let key = format!("{client_id}\u{0}{jti}");
    if seen.contains_key(&key) {
        return Err(invalid_client("client_assertion jti already used (replay)"));
    }
    seen.insert(key, claims.exp);
    Ok(client_id)
}

fn invalid_client(desc: &str) -> OAuthError {
    OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", desc)
}
