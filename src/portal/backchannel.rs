//! Validation of back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.6).
//!
//! The `openidconnect` crate has no logout-token type, so this uses `jsonwebtoken` against the
//! same JWKS document the ID-token verifier uses (fetched once, parsed for both).

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Clock-skew tolerance between the provider and us.
const LEEWAY_SECS: u64 = 60;

/// The provider's signing keys, in `jsonwebtoken`'s form.
pub struct Keys {
    set: JwkSet,
}

impl Keys {
    pub fn parse(raw: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(raw).map(|set| Self { set }).map_err(|e| format!("JWKS unreadable: {e}"))
    }
}

/// Who is to be logged out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutTarget {
    pub sid: Option<String>,
    pub sub: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The `kid` is not in our JWKS: refresh the keys and try once more.
    UnknownKey,
    Invalid(String),
}

fn invalid(m: impl Into<String>) -> Rejection {
    Rejection::Invalid(m.into())
}

/// Validates a logout token: signature, `typ`, iss, aud, iat/exp, jti, the logout event, no
/// nonce, and a `sid` or `sub`.
pub fn validate(token: &str, keys: &Keys, issuer: &str, client_id: &str) -> Result<LogoutTarget, Rejection> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("logout_token is not a JWT"))?;
    // Only asymmetric algorithms: an HMAC "signature" would be keyed with public JWKS material.
    if !matches!(
        header.alg,
        Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::EdDSA
    ) {
        return Err(invalid("logout_token algorithm not accepted"));
    }
    // Explicit typing (§2.4) keeps an ID token, signed by the same keys, from being replayed as a
    // logout token. xacthuc always sets it.
    let typ = header.typ.as_deref().unwrap_or_default().to_ascii_lowercase();
    if typ != "logout+jwt" && typ != "application/logout+jwt" {
        return Err(invalid("logout_token typ must be logout+jwt"));
    }
    let jwk = pick_key(&keys.set, header.kid.as_deref(), header.alg)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("JWKS key unusable"))?;

    let mut v = Validation::new(header.alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[client_id]);
    v.set_required_spec_claims(&["iss", "aud", "iat", "exp"]);
    v.leeway = LEEWAY_SECS;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v)
        .map_err(|e| invalid(format!("logout_token rejected: {:?}", e.kind())))?
        .claims;
    check_claims(&claims, chrono::Utc::now().timestamp())
}

fn pick_key<'a>(set: &'a JwkSet, kid: Option<&str>, alg: Algorithm) -> Result<&'a Jwk, Rejection> {
    let jwk = match kid {
        Some(kid) => set.find(kid).ok_or(Rejection::UnknownKey)?,
        // Without a kid, only an unambiguous single key will do.
        None => match set.keys.as_slice() {
            [only] => only,
            _ => return Err(invalid("logout_token has no kid")),
        },
    };
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
        return Err(invalid("JWKS key is not a signing key"));
    }
    // A key that names its algorithm may be used with that algorithm only.
    if let Some(key_alg) = &jwk.common.key_algorithm {
        let same = serde_json::to_value(key_alg).ok() == serde_json::to_value(alg).ok();
        if !same {
            return Err(invalid("logout_token alg does not match the key"));
        }
    }
    Ok(jwk)
}

/// The checks beyond signature, iss, aud and exp. `now` is Unix seconds.
fn check_claims(c: &Map<String, Value>, now: i64) -> Result<LogoutTarget, Rejection> {
    let iat = c.get("iat").and_then(Value::as_i64).ok_or_else(|| invalid("iat must be a number"))?;
    if iat > now + LEEWAY_SECS as i64 {
        return Err(invalid("iat is in the future"));
    }
    if !c.get("jti").is_some_and(Value::is_string) {
        return Err(invalid("jti is required"));
    }
    let event = c.get("events").and_then(Value::as_object).and_then(|e| e.get(BACKCHANNEL_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(invalid("events must contain the back-channel logout event"));
    }
    // A nonce marks an ID token; a logout token must not have one (§2.6 step 5).
    if c.contains_key("nonce") {
        return Err(invalid("a logout token must not contain a nonce"));
    }
    let string = |k: &str| -> Result<Option<String>, Rejection> {
        match c.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(invalid(format!("{k} must be a non-empty string"))),
        }
    };
    let target = LogoutTarget { sid: string("sid")?, sub: string("sub")? };
    if target.sid.is_none() && target.sub.is_none() {
        return Err(invalid("a logout token needs sid or sub"));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn claim_rules() {
        let now = 1_000_000;
        let good = json!({"iat": now, "jti": "j", "sid": "s",
            "events": {BACKCHANNEL_EVENT: {}}});
        assert!(check_claims(&claims(good.clone()), now).is_ok());
        let mut future = good.clone();
        future["iat"] = json!(now + 3600);
        assert!(check_claims(&claims(future), now).is_err());
        let mut event_not_object = good.clone();
        event_not_object["events"] = json!({BACKCHANNEL_EVENT: "yes"});
        assert!(check_claims(&claims(event_not_object), now).is_err());
        let mut no_jti = claims(good.clone());
        no_jti.remove("jti");
        assert!(check_claims(&no_jti, now).is_err());
        let mut neither = claims(good);
        neither.remove("sid");
        assert_eq!(check_claims(&neither, now), Err(invalid("a logout token needs sid or sub")));
    }
}
