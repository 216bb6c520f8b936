//! Verifying JWTs that clients sign (private_key_jwt assertions, request objects) against the
//! keys they registered: a JWKS by value, or a `jwks_uri` fetched and cached. An unknown `kid`
//! refetches once, so clients can rotate their keys without re-registering.
//!
//! Both kinds of JWT are signed with the same client keys, so each is checked for what it is
//! for ([`Purpose`]): a request object travels through the browser and must never authenticate
//! the client, and an assertion must never pass as an authorization request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::clients::Client;
use crate::crypto::sha256_hex;
use crate::store::{Kv, KvError};
use crate::tokens::jwt::typ_matches;

const TTL: Duration = Duration::from_secs(300);
/// Refetching on unknown kids must not let a client make us hammer its server.
const MIN_REFETCH: Duration = Duration::from_secs(10);

/// A client's key set, typed for signature checks and as received for encryption keys (whose
/// `alg` values, such as `ECDH-ES+A256KW`, the typed form does not keep).
pub struct ClientKeys {
    set: JwkSet,
    pub raw: Value,
}

impl ClientKeys {
    fn parse(raw: Value) -> Option<Self> {
        let set = serde_json::from_value(raw.clone()).ok()?;
        Some(Self { set, raw })
    }
}

/// When the set was last fetched (or a fetch last failed), and the last good set.
type FetchedSet = (Instant, Option<Arc<ClientKeys>>);

/// A client's JWK set is a few keys; anything bigger is refused rather than buffered.
const MAX_JWKS_BYTES: usize = 64 * 1024;

#[derive(Clone, Default)]
pub struct JwksCache {
    entries: Arc<RwLock<HashMap<String, FetchedSet>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientJwtError {
    #[error("the JWT is malformed")]
    Malformed,
    #[error("the client has no keys registered")]
    NoKeys,
    #[error("no registered key matches the JWT")]
    NoMatchingKey,
    #[error("the signature or claims are invalid: {0}")]
    Invalid(String),
    #[error("the client's jwks_uri could not be fetched")]
    Fetch,
    #[error("the JWT is not a {0}")]
    WrongPurpose(&'static str),
}

/// What a client-signed JWT is presented as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// RFC 7523 client authentication (`private_key_jwt`).
    ClientAssertion,
    /// RFC 9101 signed authorization request (`request`, also inside PAR).
    RequestObject,
}

/// Claims that only an authorization request carries: their presence marks a request object,
/// their absence a client assertion.
const AUTHORIZATION_CLAIMS: [&str; 3] = ["response_type", "client_id", "redirect_uri"];

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::ClientAssertion => "client assertion",
            Purpose::RequestObject => "request object",
        }
    }

    /// RFC 9101 §10.8 and draft-ietf-oauth-rfc7523bis explicit typing: an explicit type must
    /// name this purpose, so `oauth-authz-req+jwt` is never an assertion and
    /// `client-authentication+jwt` never a request object. An absent or generic `JWT` type
    /// (the default of many JWT libraries) is left to the claims check, which tells the two
    /// apart on its own.
    fn typ_ok(self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else { return true };
        let explicit = match self {
            Purpose::ClientAssertion => "client-authentication+jwt",
            Purpose::RequestObject => "oauth-authz-req+jwt",
        };
        typ_matches(Some(typ), "JWT") || typ_matches(Some(typ), explicit)
    }

    /// A request object must carry the authorization parameters; an assertion must not.
    fn claims_ok(self, claims: &Value) -> bool {
        match self {
            Purpose::ClientAssertion => AUTHORIZATION_CLAIMS.iter().all(|k| claims.get(k).is_none()),
            Purpose::RequestObject => ["response_type", "client_id"].iter().all(|k| claims.get(k).is_some()),
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Purpose::ClientAssertion => "jti",
            Purpose::RequestObject => "rjti",
        }
    }
}

/// Replay guard shared by both purposes: records `jti` of `client_id` in the session store
/// (set-if-absent, so it holds across instances) until the JWT would have expired anyway plus
/// the clock leeway. True when this is the first use.
pub async fn first_use(
    kv: &Kv,
    purpose: Purpose,
    client_id: &str,
    jti: &str,
    exp: i64,
    now: i64,
    max_lifetime: i64,
) -> Result<bool, KvError> {
    // Callers refuse `exp` beyond `max_lifetime` (plus leeway) ahead; the bound here only
    // keeps a bug there from pinning keys forever.
    let ttl = Duration::from_secs(exp.saturating_sub(now).clamp(1, max_lifetime + CLOCK_LEEWAY) as u64 + LEEWAY);
    let key = format!("{}:{}", purpose.tag(), sha256_hex(&format!("{client_id}|{jti}")));
    kv.set_nx(&key, b"1", ttl).await
}

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const CLOCK_LEEWAY: i64 = 30;
const LEEWAY: u64 = CLOCK_LEEWAY as u64;

/// A NumericDate claim as whole seconds (RFC 7519 allows fractions; floor never extends).
pub fn numeric_claim(claims: &Value, name: &str) -> Option<i64> {
    let v = claims.get(name)?;
    v.as_i64().or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
}

const ALLOWED: [Algorithm; 6] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA, Algorithm::RS384];

impl JwksCache {
    /// Verifies signature and `exp` (plus `nbf` when present) and that the JWT is fit for
    /// `purpose` (`typ` and the kind of claims), returning the claims. Symmetric algorithms and
    /// `none` are refused: only registered public keys count.
    pub async fn verify(
        &self,
        http: &reqwest::Client,
        client: &Client,
        jwt: &str,
        purpose: Purpose,
    ) -> Result<Value, ClientJwtError> {
        let header = jsonwebtoken::decode_header(jwt).map_err(|_| ClientJwtError::Malformed)?;
        if !purpose.typ_ok(header.typ.as_deref()) {
            return Err(ClientJwtError::WrongPurpose(purpose.name()));
        }
        if !ALLOWED.contains(&header.alg) || !super::fapi2::signing_alg_allowed(client, header.alg) {
            return Err(ClientJwtError::Invalid(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let mut keys = self.keys(http, client, false).await?;
        if find(&keys.set, header.kid.as_deref(), header.alg).is_none() && client.jwks_uri.is_some() {
            keys = self.keys(http, client, true).await?;
        }
        let jwk = find(&keys.set, header.kid.as_deref(), header.alg).ok_or(ClientJwtError::NoMatchingKey)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| ClientJwtError::Invalid(e.to_string()))?;
        let mut v = Validation::new(header.alg);
        v.validate_aud = false;
        v.leeway = LEEWAY;
        v.set_required_spec_claims(&["exp"]);
        v.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Value>(jwt, &key, &v)
            .map(|d| d.claims)
            .map_err(|e| ClientJwtError::Invalid(e.to_string()))?;
        if !purpose.claims_ok(&claims) {
            return Err(ClientJwtError::WrongPurpose(purpose.name()));
        }
        Ok(claims)
    }

    /// The client's registered keys (by value, or fetched and cached from its `jwks_uri`), for
    /// encrypting to it.
    pub async fn encryption_keys(
        &self,
        http: &reqwest::Client,
        client: &Client,
    ) -> Result<Arc<ClientKeys>, ClientJwtError> {
        self.keys(http, client, false).await
    }

    async fn keys(
        &self,
        http: &reqwest::Client,
        client: &Client,
        refresh: bool,
    ) -> Result<Arc<ClientKeys>, ClientJwtError> {
        if let Some(jwks) = &client.jwks {
            return ClientKeys::parse(jwks.clone()).map(Arc::new).ok_or(ClientJwtError::NoKeys);
        }
        let uri = client.jwks_uri.as_deref().ok_or(ClientJwtError::NoKeys)?;
        let cached = self.entries.read().unwrap_or_else(|p| p.into_inner()).get(uri).cloned();
        if let Some((at, set)) = &cached {
            // After a failure, or within MIN_REFETCH of the last fetch, do not call out again:
            // a stream of assertions with unknown kids must not turn us into a request amplifier.
            let fresh_enough = at.elapsed() < MIN_REFETCH || (!refresh && at.elapsed() < TTL);
            if fresh_enough {
                return set.clone().ok_or(ClientJwtError::Fetch);
            }
        }
        let fetched = async {
            let resp = http.get(uri).timeout(Duration::from_secs(5)).send().await.ok()?.error_for_status().ok()?;
            if resp.content_length().is_some_and(|n| n as usize > MAX_JWKS_BYTES) {
                return None;
            }
            let body = resp.bytes().await.ok()?;
            if body.len() > MAX_JWKS_BYTES {
                return None;
            }
            ClientKeys::parse(serde_json::from_slice(&body).ok()?)
        }
        .await;
        let last_good = cached.and_then(|(_, s)| s);
        let (entry, result) = match fetched {
            Some(set) => {
                let set = Arc::new(set);
                (Some(set.clone()), Ok(set))
            }
            // Keep serving the last good set if the client's server hiccups.
            None => (last_good.clone(), last_good.ok_or(ClientJwtError::Fetch)),
        };
        self.entries.write().unwrap_or_else(|p| p.into_inner()).insert(uri.to_owned(), (Instant::now(), entry));
        result
    }
}

fn find<'a>(set: &'a JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<&'a jsonwebtoken::jwk::Jwk> {
    // RFC 7517 §4.2: a key the client registered for encryption never verifies its signatures.
    let for_signing =
        |k: &&jsonwebtoken::jwk::Jwk| k.common.public_key_use != Some(jsonwebtoken::jwk::PublicKeyUse::Encryption);
    match kid {
        Some(kid) => set.find(kid).filter(for_signing),
        // Without a kid, accept the only key of a suitable type.
        None => {
            let mut fitting =
                set.keys.iter().filter(for_signing).filter(|k| DecodingKey::from_jwk(k).is_ok() && key_fits(k, alg));
            let first = fitting.next();
            if fitting.next().is_some() { None } else { first }
        }
    }
}

pub(crate) fn key_fits(k: &jsonwebtoken::jwk::Jwk, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    matches!(
        (&k.algorithm, alg),
        (P::EllipticCurve(_), Algorithm::ES256 | Algorithm::ES384)
            | (P::RSA(_), Algorithm::RS256 | Algorithm::RS384 | Algorithm::PS256)
            | (P::OctetKeyPair(_), Algorithm::EdDSA)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Purpose::{ClientAssertion, RequestObject};

    #[test]
    fn explicit_types_name_one_purpose() {
        for typ in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("client-authentication+jwt"),
            Some("application/client-authentication+jwt"),
        ] {
            assert!(ClientAssertion.typ_ok(typ), "{typ:?}");
        }
        for typ in [Some("oauth-authz-req+jwt"), Some("application/oauth-authz-req+jwt"), Some("logout+jwt")] {
            assert!(!ClientAssertion.typ_ok(typ), "{typ:?}");
        }
        for typ in [None, Some("JWT"), Some("oauth-authz-req+jwt")] {
            assert!(RequestObject.typ_ok(typ), "{typ:?}");
        }
        for typ in [Some("client-authentication+jwt"), Some("at+jwt")] {
            assert!(!RequestObject.typ_ok(typ), "{typ:?}");
        }
    }

    #[test]
    fn authorization_parameters_tell_the_claims_apart() {
        let assertion = json!({ "iss": "c", "sub": "c", "aud": "i", "exp": 1, "jti": "j" });
        let request =
            json!({ "iss": "c", "aud": "i", "exp": 1, "jti": "j", "client_id": "c", "response_type": "code" });
        assert!(ClientAssertion.claims_ok(&assertion));
        assert!(!RequestObject.claims_ok(&assertion));
        assert!(RequestObject.claims_ok(&request));
        assert!(!ClientAssertion.claims_ok(&request));
        let mut with_redirect = assertion.clone();
        with_redirect["redirect_uri"] = json!("https://rp.example.vn/cb");
        assert!(!ClientAssertion.claims_ok(&with_redirect));
    }
}
