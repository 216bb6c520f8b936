//! DPoP (RFC 9449): proofs of possession of a client-held key, checked at PAR, at the token
//! endpoint and at resource endpoints; the key's thumbprint (`jkt`) then binds codes, access
//! tokens (`cnf.jkt`) and public clients' refresh tokens. The routes extract the `DPoP` header;
//! this module decides.
//!
//! Server nonces (§8) are stateless: an HMAC of a time bucket under a key derived from the
//! provider's secret, so every instance issues and accepts the same ones without sharing state.
//! Replayed proofs are caught through the session store, which all instances share.

use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::clients::Client;
use super::error::{ErrorCode, OAuthError};
use super::jwks_cache::{CLOCK_LEEWAY, key_fits, numeric_claim};
use super::provider::Provider;
use crate::clock::unix_now;
use crate::crypto::sha256_hex;

/// What a proof may be signed with (advertised as `dpop_signing_alg_values_supported`).
/// `Ed25519` is the fully-specified name (RFC 9864) of EdDSA over Ed25519, the only EdDSA
/// curve accepted; some libraries (oauth4webapi) sign with that name.
pub const ALGS: [&str; 5] = ["ES256", "PS256", "EdDSA", "Ed25519", "RS256"];

/// A proof is accepted for this long after its `iat` (plus the clock leeway either way).
pub const PROOF_LIFETIME: i64 = 60;
/// Nonces change every bucket; the current and the previous bucket's are accepted, so a nonce
/// lives between one and two buckets.
const NONCE_BUCKET_SECS: i64 = 120;
/// A proof is a small JWT; anything longer is refused before any parsing.
const MAX_PROOF_BYTES: usize = 8 * 1024;

/// Signature algorithms this client's proofs may use.
pub fn algs_for(c: &Client) -> &'static [&'static str] {
    if c.fapi2 { &super::fapi2::ALGS } else { &ALGS }
}

/// What the endpoint expects of a proof.
pub struct Expect<'a> {
    /// The HTTP method of the request (`htm`).
    pub htm: &'a str,
    /// The endpoint's URL (`htu`), compared without query and fragment.
    pub htu: &'a str,
    /// At resource endpoints: the access token the proof must name (`ath`).
    pub access_token: Option<&'a str>,
    /// Whether a server nonce is required (the authorization server's endpoints).
    pub nonce_required: bool,
    /// The signing algorithms accepted for this client.
    pub algs: &'a [&'a str],
}

/// A verified proof: the thumbprint (RFC 7638, SHA-256) of the key it was signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
}

fn invalid(msg: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, msg)
}

/// Verifies one proof against what the endpoint expects; a valid proof is then spent (its
/// `jti` recorded), so it cannot be presented again at any instance.
pub async fn verify(p: &Provider, jwt: &str, e: &Expect<'_>) -> Result<Proof, OAuthError> {
    let signed = read(jwt, e.algs)?;
    check_claims(&nonce_key(p), &signed.claims, e, unix_now())?;
    let jkt = signed.jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| invalid("jwk is malformed"))?;
    let jti = signed.claims.get("jti").and_then(Value::as_str).unwrap_or_default();
    // Last, so a proof refused for another reason (say, a missing nonce) is not spent.
    let key = format!("dpopjti:{}", sha256_hex(&format!("{jkt}|{jti}")));
    let ttl = Duration::from_secs((PROOF_LIFETIME + 2 * CLOCK_LEEWAY) as u64);
    if !p.kv.set_nx(&key, b"1", ttl).await? {
        // A captured proof played back: worth an operator's attention (the thumbprint is public).
        tracing::warn!(jkt = %jkt, htu = %e.htu, "DPoP proof replayed");
        return Err(invalid("this DPoP proof was already used"));
    }
    Ok(Proof { jkt })
}

/// A proof whose signature checks out under the key it embeds; its claims not yet judged.
pub struct Signed {
    pub jwk: Jwk,
    pub claims: Value,
}

/// Reads a proof from the wire: size, `typ`, `alg` among `algs`, an embedded public key that
/// fits the alg, the signature, and claims that are a JSON object. Pure, so it can be fuzzed.
pub fn read(jwt: &str, algs: &[&str]) -> Result<Signed, OAuthError> {
    if jwt.len() > MAX_PROOF_BYTES {
        return Err(invalid("the DPoP proof is too long"));
    }
    let header = raw_header(jwt).ok_or_else(|| invalid("the DPoP proof is not a JWT"))?;
    if header.get("typ").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() != Some("dpop+jwt") {
        return Err(invalid("typ must be dpop+jwt"));
    }
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    if !algs.contains(&alg_name) {
        return Err(invalid(&format!("alg must be one of {}", algs.join(", "))));
    }
    let alg: Algorithm = match alg_name {
        "Ed25519" => Algorithm::EdDSA,
        other => other.parse().map_err(|_| invalid("unknown alg"))?,
    };
    let jwk_value = header.get("jwk").filter(|j| j.is_object()).ok_or_else(|| invalid("jwk is required"))?;
    // Only a public key may be embedded: a private or symmetric one would prove nothing.
    if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|m| jwk_value.get(m).is_some()) {
        return Err(invalid("jwk must be a public key"));
    }
    let jwk: Jwk = serde_json::from_value(jwk_value.clone()).map_err(|_| invalid("jwk is malformed"))?;
    if !key_fits(&jwk, alg) {
        return Err(invalid("jwk does not fit alg"));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("jwk is malformed"))?;
    // Verified here rather than by `jsonwebtoken::decode`, whose header type does not know the
    // fully-specified `Ed25519` name; the header was read above.
    let (signed, signature) = jwt.rsplit_once('.').ok_or_else(|| invalid("the DPoP proof is not a JWT"))?;
    if !jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key, alg).unwrap_or(false) {
        return Err(invalid("the DPoP proof signature is invalid"));
    }
    let claims = signed
        .split_once('.')
        .and_then(|(_, body)| URL_SAFE_NO_PAD.decode(body).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(Value::is_object)
        .ok_or_else(|| invalid("the DPoP proof claims are malformed"))?;
    Ok(Signed { jwk, claims })
}

fn raw_header(jwt: &str) -> Option<Value> {
    let mut parts = jwt.split('.');
    let (h, _, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else { return None };
    let bytes = URL_SAFE_NO_PAD.decode(h).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object)
}

/// Judges a signed proof's claims at time `t`: `jti`, `htm`, `htu`, the `iat` window, `ath`, and
/// the server nonce (under `nonce_key`, see [`nonce_key_from`]).
pub fn check_claims(nonce_key: &hmac::Key, claims: &Value, e: &Expect<'_>, t: i64) -> Result<(), OAuthError> {
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or_default();
    if jti.is_empty() || jti.len() > 256 {
        return Err(invalid("jti is required"));
    }
    if claims.get("htm").and_then(Value::as_str) != Some(e.htm) {
        return Err(invalid("htm does not match the request method"));
    }
    let htu = claims.get("htu").and_then(Value::as_str).ok_or_else(|| invalid("htu is required"))?;
    if !same_target(htu, e.htu) {
        return Err(invalid("htu does not match the request URL"));
    }
    let iat = numeric_claim(claims, "iat").ok_or_else(|| invalid("iat is required"))?;
    if iat > t + CLOCK_LEEWAY || iat < t - PROOF_LIFETIME - CLOCK_LEEWAY {
        return Err(invalid("iat is outside the accepted window"));
    }
    if let Some(token) = e.access_token {
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        let ath = claims.get("ath").and_then(Value::as_str).unwrap_or_default();
        if !bool::from(ath.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(invalid("ath does not match the access token"));
        }
    }
    match claims.get("nonce").and_then(Value::as_str) {
        Some(n) if nonce_valid(nonce_key, n, t) => Ok(()),
        Some(_) => Err(OAuthError::new(ErrorCode::UseDpopNonce, "the DPoP nonce is invalid or expired")),
        None if e.nonce_required => Err(OAuthError::new(ErrorCode::UseDpopNonce, "a DPoP nonce is required")),
        None => Ok(()),
    }
}

/// RFC 9449 §4.3 step 9: the URIs are compared without query and fragment, after the syntax-
/// based normalisation the URL parser does (case of scheme and host, default port).
fn same_target(claimed: &str, expected: &str) -> bool {
    let strip = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    matches!((strip(claimed), strip(expected)), (Some(a), Some(b)) if a == b)
}

fn nonce_key(p: &Provider) -> hmac::Key {
    nonce_key_from(p.pairwise_salt.as_bytes())
}

/// The nonce key derived from the provider's secret salt (domain-separated from its other uses).
pub fn nonce_key_from(secret: &[u8]) -> hmac::Key {
    let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::Key::new(hmac::HMAC_SHA256, hmac::sign(&root, b"xacthuc dpop nonce v1").as_ref())
}

fn nonce_for_bucket(key: &hmac::Key, bucket: i64) -> String {
    URL_SAFE_NO_PAD.encode(hmac::sign(key, &bucket.to_be_bytes()))
}

/// The nonce to hand out now (`DPoP-Nonce` header).
pub fn current_nonce(p: &Provider) -> String {
    nonce_for_bucket(&nonce_key(p), unix_now().div_euclid(NONCE_BUCKET_SECS))
}

fn nonce_valid(key: &hmac::Key, nonce: &str, now: i64) -> bool {
    let bucket = now.div_euclid(NONCE_BUCKET_SECS);
    [bucket, bucket - 1].iter().any(|b| nonce_for_bucket(key, *b).as_bytes().ct_eq(nonce.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::same_target;

    #[test]
    fn htu_ignores_query_and_fragment_only() {
        assert!(same_target("https://id.example.vn/token?x=1#f", "https://id.example.vn/token"));
        assert!(same_target("HTTPS://ID.example.vn:443/token", "https://id.example.vn/token"));
        assert!(!same_target("https://id.example.vn/token/", "https://id.example.vn/token"));
        assert!(!same_target("https://id.example.vn/par", "https://id.example.vn/token"));
        assert!(!same_target("not a url", "https://id.example.vn/token"));
    }
}
