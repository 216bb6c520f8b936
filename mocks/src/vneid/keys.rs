//! The e-ID's RS256 signing keys, with rotation on demand.
//!
//! Signing goes straight to aws-lc-rs with the parsed key kept in memory: re-parsing a DER key
//! per token (as a generic JWT library does) would make the mock's own overhead show up in
//! xacthuc's login benchmarks.

use std::path::Path;
use std::sync::RwLock;

use anyhow::Context;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

struct SigningKey {
    kid: String,
    pair: KeyPair,
    jwk: Value,
}

/// Current key first; earlier keys stay published in the JWKS after a rotation (unless dropped)
/// so tokens already issued still verify, as a well-run provider does.
pub struct KeyRing {
    keys: RwLock<Vec<SigningKey>>,
    rng: SystemRandom,
}

const KEY_FILE: &str = "vneid-signing-key.pk8";

impl KeyRing {
    pub fn load_or_generate(dir: Option<&Path>) -> anyhow::Result<Self> {
        let pair = match dir {
            Some(dir) => {
                let path = dir.join(KEY_FILE);
                match std::fs::read(&path) {
                    Ok(der) => KeyPair::from_pkcs8(&der).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                    Err(_) => {
                        let pair = generate()?;
                        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                        let der = pair.as_der().map_err(|_| anyhow::anyhow!("encoding key"))?;
                        std::fs::write(&path, der.as_ref()).with_context(|| format!("writing {}", path.display()))?;
                        pair
                    }
                }
            }
            None => generate()?,
        };
        Ok(KeyRing { keys: RwLock::new(vec![signing_key(pair)]), rng: SystemRandom::new() })
    }

    /// Makes a new current key and returns its `kid`. With `drop_old`, earlier keys vanish from
    /// the JWKS at once (an abrupt rotation, which relying parties must survive too).
    pub fn rotate(&self, drop_old: bool) -> anyhow::Result<String> {
        let key = signing_key(generate()?);
        let kid = key.kid.clone();
        let mut keys = self.keys.write().map_err(|_| anyhow::anyhow!("key ring poisoned"))?;
        if drop_old {
            keys.clear();
        }
        keys.insert(0, key);
        keys.truncate(3);
        Ok(kid)
    }

    pub fn jwks(&self) -> Value {
        let keys = self.keys.read().map(|k| k.iter().map(|k| k.jwk.clone()).collect());
        json!({ "keys": keys.unwrap_or_else(|_| Vec::<Value>::new()) })
    }

    pub fn current_kid(&self) -> String {
        self.keys.read().ok().and_then(|k| k.first().map(|k| k.kid.clone())).unwrap_or_default()
    }

    /// A compact RS256 JWS of `claims` with the current key.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let keys = self.keys.read().map_err(|_| anyhow::anyhow!("key ring poisoned"))?;
        let key = keys.first().context("no signing key")?;
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": key.kid });
        let mut out = B64.encode(serde_json::to_vec(&header)?);
        out.push('.');
        out.push_str(&B64.encode(serde_json::to_vec(claims)?));
        let mut sig = vec![0u8; key.pair.public_modulus_len()];
        key.pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, out.as_bytes(), &mut sig)
            .map_err(|_| anyhow::anyhow!("signing failed"))?;
        out.push('.');
        out.push_str(&B64.encode(sig));
        Ok(out)
    }
}

fn generate() -> anyhow::Result<KeyPair> {
    KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow::anyhow!("RSA key generation failed"))
}

fn signing_key(pair: KeyPair) -> SigningKey {
    let public = pair.public_key();
    let n = B64.encode(public.modulus().big_endian_without_leading_zero());
    let e = B64.encode(public.exponent().big_endian_without_leading_zero());
    // RFC 7638 thumbprint as kid: stable for a key, new for a new key.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = B64.encode(Sha256::digest(canonical.as_bytes()));
    let jwk = json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e });
    SigningKey { kid, pair, jwk }
}
