//! Client authentication towards the national e-ID.
//!
//! `private_key_jwt` with an ES256 key is preferred: a leaked client secret (which has happened
//! with national-portal integrations in public repositories) lets anyone redeem codes, while a
//! private key never leaves xacthuc and each assertion is single-use (`jti`) and short-lived.
//! `client_secret_post` stays for upstreams that support nothing else.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// How xacthuc authenticates at the e-ID's token endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum ClientAuthConfig {
    /// An ES256 (P-256) private key, PEM: PKCS#8 (`PRIVATE KEY`, preferred) or SEC1
    /// (`EC PRIVATE KEY`). `kid` defaults to the key's RFC 7638 thumbprint.
    PrivateKeyJwt {
        private_key_pem: SecretString,
        #[serde(default)]
        kid: Option<String>,
    },
    ClientSecretPost {
        client_secret: SecretString,
    },
}

/// How long a client assertion is valid. Short, because it is single-use and sent at once
/// (Singpass caps it at 2 minutes).
const ASSERTION_LIFETIME_SECS: i64 = 60;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An ES256 key for `private_key_jwt`, parsed once and kept in memory.
pub struct ClientKey {
    pair: EcdsaKeyPair,
    kid: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl ClientKey {
    /// Parses a P-256 private key from PEM. `kid`: `None` for the RFC 7638 thumbprint.
    pub fn from_pem(pem_text: &str, kid: Option<String>) -> Result<Self, String> {
        let block = pem::parse(pem_text.trim()).map_err(|e| format!("client key is not PEM: {e}"))?;
        if !matches!(block.tag(), "PRIVATE KEY" | "EC PRIVATE KEY") {
            return Err(format!("client key PEM is a {:?}, expected PRIVATE KEY (PKCS#8)", block.tag()));
        }
        let pair = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, block.contents())
            .map_err(|_| "client key is not a P-256 (ES256) private key".to_string())?;
        let mut key = ClientKey { pair, kid: String::new(), rng: SystemRandom::new() };
        key.kid = match kid.filter(|k| !k.is_empty()) {
            Some(k) => k,
            None => key.thumbprint(),
        };
        Ok(key)
    }

    /// Reads the PKCS#8 PEM key at `path`, first making one (mode 0600) if there is none: how
    /// development mode and the tests get a key to register at the e-ID mock.
    pub fn load_or_create(path: &std::path::Path) -> Result<Self, String> {
        if !path.exists() {
            let rng = SystemRandom::new();
            let der =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|e| e.to_string())?;
            let text = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_pem(&text, None)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, to register at the e-ID (`{"keys": [this]}`).
    pub fn public_jwk(&self) -> Value {
        let (x, y) = self.coordinates();
        json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "sig", "alg": "ES256", "kid": self.kid })
    }

    fn coordinates(&self) -> (String, String) {
        // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
        let point = self.pair.public_key().as_ref();
        let (x, y) = point.get(1..).unwrap_or_default().split_at(point.len().saturating_sub(1) / 2);
        (B64.encode(x), B64.encode(y))
    }

    fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        // RFC 7638: the required members, lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        B64.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A fresh client assertion (RFC 7523): `iss` = `sub` = client_id, `aud` = the token
    /// endpoint, a random `jti` and an `exp` one minute ahead.
    pub fn assertion(&self, client_id: &str, token_endpoint: &str) -> Result<String, String> {
        let now = crate::clock::unix_now();
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": self.kid });
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": token_endpoint,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        // The FIXED encoding is r || s, exactly the JWS ES256 signature format.
        let sig = self.pair.sign(&self.rng, signing_input.as_bytes()).map_err(|_| "signing failed".to_string())?;
        Ok(format!("{signing_input}.{}", B64.encode(sig.as_ref())))
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    use super::*;

    fn pem_key() -> String {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("generate");
        let der = pair.private_key().as_der().expect("der");
        pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()))
    }

    #[test]
    fn signs_verifiable_short_lived_assertions() {
        let key = ClientKey::from_pem(&pem_key(), None).expect("key");
        assert_eq!(key.kid().len(), 43, "SHA-256 thumbprint, base64url");
        let jwt = key.assertion("xacthuc", "https://eid.example/oauth2/token").expect("sign");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: Value = serde_json::from_slice(&B64.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["aud"], "https://eid.example/oauth2/token");
        assert_eq!(claims["iss"], "xacthuc");
        assert!(claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0) <= 60);
        let sig = B64.decode(parts[2]).expect("sig");
        let public = key.pair.public_key().as_ref().to_vec();
        let input = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public).verify(input.as_bytes(), &sig).expect("verifies");
        let other = key.assertion("xacthuc", "https://eid.example/oauth2/token").expect("sign");
        assert_ne!(jwt, other, "fresh jti each time");
    }

    #[test]
    fn refuses_other_keys() {
        assert!(ClientKey::from_pem("not pem", None).is_err());
        let cert = pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3]));
        assert!(ClientKey::from_pem(&cert, None).unwrap_err().contains("CERTIFICATE"));
    }
}
