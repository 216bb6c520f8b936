//! Compact JWS: encoding with our keys, parsing untrusted tokens, and standard claim checks.
//!
//! Written by hand rather than through a JWT library so signing uses our pre-parsed keys (the
//! libraries re-parse DER per call) and so parsing of wire input is small enough to audit.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::key::SigningKey;
use super::{Error, Result};

/// Tokens larger than this are rejected before any decoding: ours are well under 4 KiB, and a
/// bound keeps a hostile `id_token_hint` from costing us memory.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Serialize)]
struct OutHeader<'a> {
    alg: &'static str,
    typ: &'a str,
    kid: &'a str,
}

pub(crate) fn encode(key: &SigningKey, typ: &str, claims: &impl Serialize) -> Result<String> {
    let header = serde_json::to_vec(&OutHeader { alg: key.alg.jose_name(), typ, kid: &key.kid })?;
    let payload = serde_json::to_vec(claims)?;
    // One allocation: header and payload grow by 4/3, the signature is at most 384 bytes
    // (RSA-3072) → 512 in base64.
    let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 520);
    URL_SAFE_NO_PAD.encode_string(&header, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
    let sig = key.sign(out.as_bytes())?;
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
    Ok(out)
}

#[derive(Deserialize)]
pub(crate) struct InHeader {
    pub(crate) alg: String,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
    /// RFC 7515 §4.1.11: we understand no extensions, so any `crit` makes the token invalid.
    crit: Option<Value>,
}

/// A compact JWS split and decoded, signature not yet checked.
pub(crate) struct Unverified<'a> {
    pub(crate) header: InHeader,
    /// `base64(header) "." base64(payload)`: the signed bytes.
    pub(crate) signing_input: &'a str,
    pub(crate) payload_b64: &'a str,
    pub(crate) signature: Vec<u8>,
}

pub(crate) fn split(token: &str) -> Result<Unverified<'_>> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::Malformed("token too long"));
    }
    let (signing_input, sig_b64) = token.rsplit_once('.').ok_or(Error::Malformed("not a compact JWS"))?;
    let (header_b64, payload_b64) = signing_input.split_once('.').ok_or(Error::Malformed("not a compact JWS"))?;
    if payload_b64.contains('.') {
        // Five parts would be a JWE; anything else is garbage. We accept neither.
        return Err(Error::Malformed("not a compact JWS"));
    }
    let header_json = URL_SAFE_NO_PAD.decode(header_b64).map_err(|_| Error::Malformed("header is not base64url"))?;
    let header: InHeader = serde_json::from_slice(&header_json).map_err(|_| Error::Malformed("header is not JSON"))?;
    if header.crit.is_some() {
        return Err(Error::Malformed("unsupported critical header"));
    }
    let signature = URL_SAFE_NO_PAD.decode(sig_b64).map_err(|_| Error::Malformed("signature is not base64url"))?;
    Ok(Unverified { header, signing_input, payload_b64, signature })
}

/// Decodes the payload of a token whose signature has been checked.
pub(crate) fn payload(payload_b64: &str) -> Result<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| Error::Malformed("payload is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(Error::Malformed("payload is not a JSON object")),
    }
}

/// `typ` comparison per RFC 7515 §4.1.9: media types are case-insensitive and the
/// `application/` prefix may be omitted, so `at+jwt` equals `application/at+jwt` (RFC 9068 §4).
pub(crate) fn typ_matches(actual: Option<&str>, expected: &str) -> bool {
    fn strip(t: &str) -> &str {
        match t.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        }
    }
    actual.is_some_and(|a| strip(a).eq_ignore_ascii_case(strip(expected)))
}

/// Checks `iss`, `aud`, `exp`, `nbf` and `iat` of verified claims.
///
/// `aud` may be a string or an array (OIDC Core §2); `exp` is required, `nbf` and `iat` are
/// checked when present. `leeway` (seconds) absorbs clock skew between machines; keep it small
/// (≤ 60). Times may be JSON integers or floats (RFC 7519 NumericDate allows fractions).
pub fn validate_standard_claims(claims: &Value, iss: &str, aud: &str, now: i64, leeway: i64) -> Result<()> {
    let leeway = leeway.max(0);
    match claims.get("iss").and_then(Value::as_str) {
        Some(v) if v == iss => {}
        Some(_) => return Err(Error::WrongIssuer),
        None => return Err(Error::MissingClaim("iss")),
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == aud,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(aud)),
        Some(_) | None => return Err(Error::MissingClaim("aud")),
    };
    if !aud_ok {
        return Err(Error::WrongAudience);
    }
    let exp = numeric_date(claims, "exp")?.ok_or(Error::MissingClaim("exp"))?;
    if now.saturating_sub(leeway) >= exp {
        return Err(Error::Expired);
    }
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && now.saturating_add(leeway) < nbf
    {
        return Err(Error::NotYetValid);
    }
    if let Some(iat) = numeric_date(claims, "iat")?
        && now.saturating_add(leeway) < iat
    {
        return Err(Error::NotYetValid);
    }
    Ok(())
}

/// Reads a NumericDate; `Ok(None)` if absent, an error if present with the wrong type.
fn numeric_date(claims: &Value, name: &'static str) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => {
            if let Some(i) = v.as_i64() {
                Ok(Some(i))
            } else if let Some(f) = v.as_f64().filter(|f| f.is_finite()) {
                // Saturating float → int cast; floor so a fractional exp never extends validity.
                Ok(Some(f.floor() as i64))
            } else {
                Err(Error::MissingClaim(name))
            }
        }
    }
}
