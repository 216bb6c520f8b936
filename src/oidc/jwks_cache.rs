//! Verifying JWTs that clients sign (private_key_jwt assertions, request objects) against the
//! keys they registered: a JWKS by value, or a `jwks_uri` fetched and cached. An unknown `kid`
//! refetches once, so clients can rotate their keys without re-registering.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::clients::Client;

const TTL: Duration = Duration::from_secs(300);
/// Refetching on unknown kids must not let a client make us hammer its server.
const MIN_REFETCH: Duration = Duration::from_secs(10);

/// When the set was last fetched (or a fetch last failed), and the last good set.
type FetchedSet = (Instant, Option<Arc<JwkSet>>);

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
}

const ALLOWED: [Algorithm; 6] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA, Algorithm::RS384];

impl JwksCache {
    /// Verifies signature and `exp` (plus `nbf` when present), returning the claims.
    /// Symmetric algorithms and `none` are refused: only registered public keys count.
    pub async fn verify(&self, http: &reqwest::Client, client: &Client, jwt: &str) -> Result<Value, ClientJwtError> {
        let header = jsonwebtoken::decode_header(jwt).map_err(|_| ClientJwtError::Malformed)?;
        if !ALLOWED.contains(&header.alg) {
            return Err(ClientJwtError::Invalid(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let mut set = self.keys(http, client, false).await?;
        if find(&set, header.kid.as_deref(), header.alg).is_none() && client.jwks_uri.is_some() {
            set = self.keys(http, client, true).await?;
        }
        let jwk = find(&set, header.kid.as_deref(), header.alg).ok_or(ClientJwtError::NoMatchingKey)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| ClientJwtError::Invalid(e.to_string()))?;
        let mut v = Validation::new(header.alg);
        v.validate_aud = false;
        v.leeway = 30;
        v.set_required_spec_claims(&["exp"]);
        v.validate_nbf = true;
        jsonwebtoken::decode::<Value>(jwt, &key, &v)
            .map(|d| d.claims)
            .map_err(|e| ClientJwtError::Invalid(e.to_string()))
    }

    async fn keys(
        &self,
        http: &reqwest::Client,
        client: &Client,
        refresh: bool,
    ) -> Result<Arc<JwkSet>, ClientJwtError> {
        if let Some(jwks) = &client.jwks {
            return serde_json::from_value(jwks.clone()).map(Arc::new).map_err(|_| ClientJwtError::NoKeys);
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
            serde_json::from_slice::<JwkSet>(&body).ok()
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
    match kid {
        Some(kid) => set.find(kid),
        // Without a kid, accept the only key of a suitable type.
        None => {
            let mut fitting = set.keys.iter().filter(|k| DecodingKey::from_jwk(k).is_ok() && key_fits(k, alg));
            let first = fitting.next();
            if fitting.next().is_some() { None } else { first }
        }
    }
}

fn key_fits(k: &jsonwebtoken::jwk::Jwk, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    matches!(
        (&k.algorithm, alg),
        (P::EllipticCurve(_), Algorithm::ES256 | Algorithm::ES384)
            | (P::RSA(_), Algorithm::RS256 | Algorithm::RS384 | Algorithm::PS256)
            | (P::OctetKeyPair(_), Algorithm::EdDSA)
    )
}
