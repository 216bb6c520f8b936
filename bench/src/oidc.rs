//! The relying-party side of OpenID Connect: discovery, the JWKS, token requests with client
//! authentication, and ID-token validation (signature, iss, aud, exp, nonce).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use url::Url;

use crate::scenario::{ClientAuth, Provider};

#[derive(Debug, Clone)]
pub struct Endpoints {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Option<Url>,
}

#[derive(Deserialize)]
struct DiscoveryDoc {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    jwks_uri: Option<String>,
}

impl Endpoints {
    pub fn from_discovery(body: &[u8], expected_issuer: &str) -> anyhow::Result<Self> {
        let d: DiscoveryDoc = serde_json::from_slice(body)
            .map_err(|e| anyhow::anyhow!("the discovery document is not valid OpenID metadata: {e}"))?;
        if d.issuer.trim_end_matches('/') != expected_issuer.trim_end_matches('/') {
            anyhow::bail!("discovery names issuer {:?}, expected {expected_issuer:?}", d.issuer);
        }
        let u =
            |s: &str, what: &str| Url::parse(s).map_err(|_| anyhow::anyhow!("discovery: {what} {s:?} is not a URL"));
        Ok(Self {
            issuer: d.issuer.clone(),
            authorization_endpoint: u(&d.authorization_endpoint, "authorization_endpoint")?,
            token_endpoint: u(&d.token_endpoint, "token_endpoint")?,
            userinfo_endpoint: d.userinfo_endpoint.as_deref().map(|s| u(s, "userinfo_endpoint")).transpose()?,
            jwks_uri: d.jwks_uri.as_deref().map(|s| u(s, "jwks_uri")).transpose()?,
        })
    }
}

/// The provider's keys, refetched (at most once a second) when a token names an unknown `kid`.
pub struct KeyStore {
    set: RwLock<(Arc<JwkSet>, Instant)>,
}

impl KeyStore {
    pub fn new(set: JwkSet) -> Self {
        Self { set: RwLock::new((Arc::new(set), Instant::now())) }
    }

    pub fn parse(body: &[u8]) -> anyhow::Result<JwkSet> {
        serde_json::from_slice(body).map_err(|e| anyhow::anyhow!("the JWKS is not a valid JWK set: {e}"))
    }

    pub fn current(&self) -> Arc<JwkSet> {
        self.set.read().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    pub fn may_refresh(&self) -> bool {
        self.set.read().unwrap_or_else(|p| p.into_inner()).1.elapsed() > Duration::from_secs(1)
    }

    pub fn replace(&self, set: JwkSet) {
        *self.set.write().unwrap_or_else(|p| p.into_inner()) = (Arc::new(set), Instant::now());
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IdTokenError {
    #[error("malformed ID token: {0}")]
    Malformed(String),
    #[error("ID token algorithm {0:?} is not accepted (ES256, ES384, RS256, PS256, EdDSA)")]
    Algorithm(Algorithm),
    #[error("no key in the JWKS for kid {0:?}")]
    UnknownKey(Option<String>),
    #[error("ID token rejected: {0}")]
    Invalid(String),
    #[error("ID token nonce does not match the request's")]
    Nonce,
}

const ACCEPTED: &[Algorithm] =
    &[Algorithm::ES256, Algorithm::ES384, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA];

/// Checks an ID token against the key set: signature, `iss`, `aud`, `exp`, `nonce`.
pub fn verify_id_token(
    token: &str,
    set: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<serde_json::Value, IdTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| IdTokenError::Malformed(e.to_string()))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(IdTokenError::Algorithm(header.alg));
    }
    let jwk = set
        .keys
        .iter()
        .find(|k| match (&header.kid, &k.common.key_id) {
            (Some(want), Some(have)) => want == have,
            (None, _) => true,
            _ => false,
        })
        .ok_or_else(|| IdTokenError::UnknownKey(header.kid.clone()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| IdTokenError::Invalid(e.to_string()))?;
    let mut v = Validation::new(header.alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[client_id]);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v.leeway = 30;
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &v)
        .map_err(|e| IdTokenError::Invalid(e.to_string()))?
        .claims;
    if claims.get("nonce").and_then(|n| n.as_str()) != Some(nonce) {
        return Err(IdTokenError::Nonce);
    }
    Ok(claims)
}

#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OAuthError {
    pub error: String,
}

/// Adds client authentication to a token request: returns the Authorization header, if any.
pub fn client_auth(p: &Provider, form: &mut Vec<(String, String)>) -> Option<String> {
    match p.client_auth {
        ClientAuth::Basic => {
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let secret = p.client_secret.as_deref().unwrap_or("");
            let raw = format!("{}:{}", enc(&p.client_id), enc(secret));
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))
        }
        ClientAuth::Post => {
            form.push(("client_id".into(), p.client_id.clone()));
            form.push(("client_secret".into(), p.client_secret.clone().unwrap_or_default()));
            None
        }
        ClientAuth::None => {
            form.push(("client_id".into(), p.client_id.clone()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    // A fixed P-256 key (PKCS#8) and its public JWK, made for this test only.
    const EC_PRIV: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUNw3Z9z4cm3vVliW
1F/kaVNSZN5FHNfVX/E1Dz9ih96hRANCAATPYUSJFHMNRfOQyMleGB1CprtnfivT
UIdNI/7cDXQrsV7B8wPdr1gPxxEA+/h0ycLX9GmAv4oetnCc8yHNNaVe
-----END PRIVATE KEY-----";
    const EC_JWK: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig",
"x":"z2FEiRRzDUXzkMjJXhgdQqa7Z34r01CHTSP-3A10K7E","y":"XsHzA92vWA_HEQD7-HTJwtf0aYC_ih62cJzzIc01pV4"}]}"#;

    fn token(claims: serde_json::Value, kid: &str) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(kid.into());
        jsonwebtoken::encode(&h, &claims, &EncodingKey::from_ec_pem(EC_PRIV.as_bytes()).unwrap()).unwrap()
    }

    fn claims(nonce: &str) -> serde_json::Value {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        serde_json::json!({"iss": "http://op.test", "aud": "bench", "sub": "s", "exp": now + 300, "iat": now, "nonce": nonce})
    }

    #[test]
    fn es256_id_token_is_verified_against_the_jwks() {
        let set = KeyStore::parse(EC_JWK.as_bytes()).unwrap();
        let t = token(claims("n1"), "k1");
        let c = verify_id_token(&t, &set, "http://op.test", "bench", "n1").unwrap();
        assert_eq!(c["sub"], "s");
        assert_eq!(verify_id_token(&t, &set, "http://op.test", "bench", "n2"), Err(IdTokenError::Nonce));
        assert!(matches!(verify_id_token(&t, &set, "http://other", "bench", "n1"), Err(IdTokenError::Invalid(_))));
        assert!(matches!(verify_id_token(&t, &set, "http://op.test", "other", "n1"), Err(IdTokenError::Invalid(_))));
        let unknown = token(claims("n1"), "k2");
        assert!(matches!(
            verify_id_token(&unknown, &set, "http://op.test", "bench", "n1"),
            Err(IdTokenError::UnknownKey(_))
        ));
        let mut forged = t.clone();
        forged.replace_range(forged.len() - 6.., "AAAAAA");
        assert!(verify_id_token(&forged, &set, "http://op.test", "bench", "n1").is_err());
        assert!(matches!(
            verify_id_token("x.y", &set, "http://op.test", "bench", "n1"),
            Err(IdTokenError::Malformed(_))
        ));
    }

    #[test]
    fn discovery_document() {
        let body = br#"{"issuer":"http://op.test","authorization_endpoint":"http://op.test/authorize",
"token_endpoint":"http://op.test/token","jwks_uri":"http://op.test/jwks"}"#;
        let e = Endpoints::from_discovery(body, "http://op.test/").unwrap();
        assert_eq!(e.token_endpoint.path(), "/token");
        assert!(e.userinfo_endpoint.is_none());
        assert!(Endpoints::from_discovery(body, "http://elsewhere").is_err());
        assert!(Endpoints::from_discovery(b"<html>", "http://op.test").is_err());
    }
}
