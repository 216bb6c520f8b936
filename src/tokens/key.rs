//! Parsed key material: generation, signing, verification, public JWK and RFC 7638 thumbprint.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ParsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::{Alg, Error, Result};

enum Pair {
    Es256(EcdsaKeyPair),
    Rs256(rsa::KeyPair),
    EdDsa(Ed25519KeyPair),
    /// RSASSA-PSS. A key of its own, never shared with RS256: each published key names one
    /// `alg`, and one key used with two padding schemes is a cross-algorithm risk.
    Ps256(rsa::KeyPair),
}

/// One signing key, parsed once. Verification uses a pre-parsed public key too, so neither
/// path re-parses DER per token.
pub(crate) struct SigningKey {
    pub(crate) alg: Alg,
    pub(crate) kid: String,
    pair: Pair,
    verifier: ParsedPublicKey,
    /// The thumbprint members of the public JWK (kty and key parameters only).
    pub(crate) public_jwk: Map<String, Value>,
}

impl SigningKey {
    /// Generates a new key; returns it with its unencrypted PKCS#8 encoding for sealing.
    pub(crate) fn generate(alg: Alg, rsa_size: rsa::KeySize) -> Result<(Self, Zeroizing<Vec<u8>>)> {
        let gen_failed = || Error::Crypto("key generation failed");
        let pkcs8 = match alg {
            Alg::Es256 => {
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                    .map_err(|_| gen_failed())?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
            Alg::Rs256 | Alg::Ps256 => {
                let pair = rsa::KeyPair::generate(rsa_size).map_err(|_| gen_failed())?;
                let der = pair.as_der().map_err(|_| gen_failed())?;
                Zeroizing::new(der.as_ref().to_vec())
            }
            Alg::EdDsa => {
                let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| gen_failed())?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
        };
        // Round-trip through the same parser as loading, so a fresh key and a reloaded one are
        // the same thing and the kid is always derived the same way.
        let key = Self::from_pkcs8(alg, &pkcs8).map_err(|_| gen_failed())?;
        Ok((key, pkcs8))
    }

    /// Parses a PKCS#8 private key; the kid is its RFC 7638 thumbprint.
    pub(crate) fn from_pkcs8(alg: Alg, pkcs8: &[u8]) -> std::result::Result<Self, &'static str> {
        let bad = "private key does not parse for its algorithm";
        let (pair, verifier, public_jwk) = match alg {
            Alg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).map_err(|_| bad)?;
                let point = pair.public_key().as_ref();
                // Uncompressed SEC1 point: 0x04 || x (32) || y (32).
                if point.len() != 65 || point[0] != 4 {
                    return Err("unexpected EC public key encoding");
                }
                let jwk = json!({
                    "kty": "EC", "crv": "P-256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..]),
                });
                let verifier = ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).map_err(|_| bad)?;
                (Pair::Es256(pair), verifier, jwk)
            }
            Alg::Rs256 | Alg::Ps256 => {
                let pair = rsa::KeyPair::from_pkcs8(pkcs8).map_err(|_| bad)?;
                if pair.public_modulus_len() < 256 {
                    return Err("RSA key shorter than 2048 bits");
                }
                let public = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                });
                let verify_alg: &'static signature::RsaParameters = match alg {
                    Alg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => &signature::RSA_PKCS1_2048_8192_SHA256,
                };
                let verifier = ParsedPublicKey::new(verify_alg, public.as_ref()).map_err(|_| bad)?;
                let pair = if alg == Alg::Ps256 { Pair::Ps256(pair) } else { Pair::Rs256(pair) };
                (pair, verifier, jwk)
            }
            Alg::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| bad)?;
                let public = pair.public_key().as_ref();
                let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(public) });
                let verifier = ParsedPublicKey::new(&signature::ED25519, public).map_err(|_| bad)?;
                (Pair::EdDsa(pair), verifier, jwk)
            }
        };
        let Value::Object(public_jwk) = public_jwk else {
            return Err("internal: JWK is not an object");
        };
        let kid = thumbprint(&public_jwk)?;
        Ok(Self { alg, kid, pair, verifier, public_jwk })
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let failed = || Error::Crypto("signing failed");
        match &self.pair {
            // The rng argument is ignored by aws-lc-rs (it uses its own), but the API wants one.
            Pair::Es256(pair) => {
                pair.sign(&SystemRandom::new(), msg).map(|s| s.as_ref().to_vec()).map_err(|_| failed())
            }
            Pair::Rs256(pair) => rsa_sign(pair, &signature::RSA_PKCS1_SHA256, msg),
            // PSS with a salt as long as the hash (RFC 7518 §3.5), from aws-lc-rs's own rng.
            Pair::Ps256(pair) => rsa_sign(pair, &signature::RSA_PSS_SHA256, msg),
            Pair::EdDsa(pair) => pair.try_sign(msg).map(|s| s.as_ref().to_vec()).map_err(|_| failed()),
        }
    }

    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verifier.verify_sig(msg, sig).is_ok()
    }

    /// The JWKS entry: public parameters plus `kid`, `alg` and `use`.
    pub(crate) fn jwks_entry(&self) -> Value {
        let mut jwk = self.public_jwk.clone();
        jwk.insert("kid".into(), Value::String(self.kid.clone()));
        jwk.insert("alg".into(), Value::String(self.alg.jose_name().into()));
        jwk.insert("use".into(), Value::String("sig".into()));
        Value::Object(jwk)
    }
}

fn rsa_sign(pair: &rsa::KeyPair, padding: &'static dyn signature::RsaEncoding, msg: &[u8]) -> Result<Vec<u8>> {
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(padding, &SystemRandom::new(), msg, &mut sig).map_err(|_| Error::Crypto("signing failed"))?;
    Ok(sig)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638 thumbprint: SHA-256 over the required members, in lexicographic order, without
/// whitespace, base64url-encoded. The member lists below are sorted and inserted in that order,
/// so the text is canonical whether serde_json's map is sorted (default) or keeps insertion order
/// (its `preserve_order` feature, which another crate could switch on). Member values are
/// base64url or fixed ASCII, so no escaping differences can arise.
pub(crate) fn thumbprint(jwk: &Map<String, Value>) -> std::result::Result<String, &'static str> {
    let required: &[&str] = match jwk.get("kty").and_then(Value::as_str) {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("RSA") => &["e", "kty", "n"],
        Some("OKP") => &["crv", "kty", "x"],
        _ => return Err("JWK has an unsupported kty"),
    };
    let mut canonical = Map::new();
    for &name in required {
        let value = jwk.get(name).ok_or("JWK lacks a required member")?;
        canonical.insert(name.to_owned(), value.clone());
    }
    let text = Value::Object(canonical).to_string();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    Ok(b64(digest.as_ref()))
}
