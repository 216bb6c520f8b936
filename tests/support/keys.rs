//! Client-side keys for tests: an ES256 key pair with its public JWK, to sign client assertions
//! and request objects the way a relying party would.
#![allow(dead_code)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub struct ClientKey {
    pub kid: String,
    pkcs8: Vec<u8>,
    pub jwk: Value,
}

impl ClientKey {
    pub fn generate(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("keygen");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("parse");
        let public = pair.public_key().as_ref().to_vec(); // 0x04 || x || y
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": b64(&public[1..33]), "y": b64(&public[33..65]), "kid": kid, "alg": "ES256", "use": "sig" });
        Self { kid: kid.into(), pkcs8: pkcs8.as_ref().to_vec(), jwk }
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_typed(Some("JWT"), claims)
    }

    /// Signs with the given header `typ` (`None`: no `typ` at all).
    pub fn sign_typed(&self, typ: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = typ.map(str::to_owned);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.pkcs8)).expect("sign")
    }

    /// An RFC 7523 client assertion for `client_id` at `aud`.
    pub fn assertion(&self, client_id: &str, aud: &str) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        self.sign(&json!({ "iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string() }))
    }

    /// An RFC 9449 DPoP proof for `htm` `htu`, with this key's public JWK in the header;
    /// `extra` claims (nonce, ath, or overrides of jti/iat) are merged in.
    pub fn dpop(&self, htm: &str, htu: &str, extra: Value) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let mut claims = json!({ "htm": htm, "htu": htu, "iat": now, "jti": uuid::Uuid::new_v4().to_string() });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            claims[k] = v;
        }
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        let public = json!({ "kty": "EC", "crv": "P-256", "x": self.jwk["x"], "y": self.jwk["y"] });
        header.jwk = Some(serde_json::from_value(public).expect("JWK"));
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&self.pkcs8)).expect("sign")
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key, computed here from its members.
    pub fn thumbprint(&self) -> String {
        use sha2::Digest;
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()))
    }
}
