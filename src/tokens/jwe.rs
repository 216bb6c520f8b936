//! JSON Web Encryption (RFC 7516) of tokens we issue, for clients that registered an encryption
//! key: compact serialisation, `RSA-OAEP-256` or `ECDH-ES+A256KW` key management (RFC 7518
//! §4.3, §4.6) and `A256GCM` content encryption (§5.3).
//!
//! Built on aws-lc-rs primitives (RSA-OAEP, ECDH P-256, AES key wrap, AES-GCM) because the JWT
//! crates at hand lack RSA-OAEP-256 or take only claims, not an already signed JWT to nest; the
//! JOSE layer on top is a header, a KDF and five base64url parts. We only encrypt: no JWE is
//! ever accepted from the network, so there is no decryption path to attack.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey};
use aws_lc_rs::digest;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrap as _};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey, PublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// Key management algorithms (`alg`) we encrypt with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlg {
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 7518 §4.3).
    RsaOaep256,
    /// Ephemeral-static ECDH on P-256, Concat KDF, then AES-256 key wrap (RFC 7518 §4.6).
    EcdhEsA256kw,
}

/// Content encryption algorithms (`enc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentEnc {
    #[default]
    A256Gcm,
}

impl KeyAlg {
    pub const ALL: [KeyAlg; 2] = [KeyAlg::RsaOaep256, KeyAlg::EcdhEsA256kw];

    pub const fn jose_name(self) -> &'static str {
        match self {
            KeyAlg::RsaOaep256 => "RSA-OAEP-256",
            KeyAlg::EcdhEsA256kw => "ECDH-ES+A256KW",
        }
    }
}

impl ContentEnc {
    pub const ALL: [ContentEnc; 1] = [ContentEnc::A256Gcm];

    pub const fn jose_name(self) -> &'static str {
        match self {
            ContentEnc::A256Gcm => "A256GCM",
        }
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jose_name())
    }
}

impl fmt::Display for ContentEnc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jose_name())
    }
}

impl FromStr for KeyAlg {
    type Err = JweError;

    fn from_str(s: &str) -> Result<Self, JweError> {
        KeyAlg::ALL.into_iter().find(|a| a.jose_name() == s).ok_or_else(|| JweError::unsupported(s))
    }
}

impl FromStr for ContentEnc {
    type Err = JweError;

    fn from_str(s: &str) -> Result<Self, JweError> {
        ContentEnc::ALL.into_iter().find(|a| a.jose_name() == s).ok_or_else(|| JweError::unsupported(s))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JweError {
    #[error("unsupported encryption algorithm {0:?}")]
    Unsupported(String),
    #[error("the client's key set has no key for {0} (a key needs \"use\": \"enc\" or \"alg\": \"{0}\")")]
    NoKey(KeyAlg),
    #[error("the client's encryption key is unusable: {0}")]
    BadKey(&'static str),
    #[error("encryption failed: {0}")]
    Crypto(&'static str),
}

impl JweError {
    fn unsupported(s: &str) -> Self {
        JweError::Unsupported(s.chars().take(32).collect())
    }
}

/// RSA keys below this size are refused, as for signing keys.
const MIN_RSA_BYTES: usize = 256;

enum PublicKey {
    Rsa(OaepPublicEncryptingKey),
    /// Uncompressed SEC1 point, checked to be on the curve when it is used.
    P256(Vec<u8>),
}

/// A client's public encryption key, parsed from its JWK for one algorithm.
pub struct Recipient {
    alg: KeyAlg,
    kid: Option<String>,
    key: PublicKey,
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn member<'a>(jwk: &'a Value, name: &'static str) -> Result<&'a str, JweError> {
    jwk.get(name).and_then(Value::as_str).ok_or(JweError::BadKey("a required JWK member is missing"))
}

fn b64_member(jwk: &Value, name: &'static str) -> Result<Vec<u8>, JweError> {
    URL_SAFE_NO_PAD.decode(member(jwk, name)?).map_err(|_| JweError::BadKey("a JWK member is not base64url"))
}

impl Recipient {
    /// Parses `jwk` as a key for `alg`: RSA (2048 bits or more) for RSA-OAEP-256, EC P-256 for
    /// ECDH-ES+A256KW.
    pub fn from_jwk(jwk: &Value, alg: KeyAlg) -> Result<Self, JweError> {
        let key = match alg {
            KeyAlg::RsaOaep256 => {
                if member(jwk, "kty")? != "RSA" {
                    return Err(JweError::BadKey("RSA-OAEP-256 needs an RSA key"));
                }
                let components = PublicKeyComponents { n: b64_member(jwk, "n")?, e: b64_member(jwk, "e")? };
                let public: PublicEncryptingKey =
                    components.try_into().map_err(|_| JweError::BadKey("not a valid RSA public key"))?;
                if public.key_size_bytes() < MIN_RSA_BYTES {
                    return Err(JweError::BadKey("RSA key shorter than 2048 bits"));
                }
                PublicKey::Rsa(OaepPublicEncryptingKey::new(public).map_err(|_| JweError::BadKey("RSA key refused"))?)
            }
            KeyAlg::EcdhEsA256kw => {
                if member(jwk, "kty")? != "EC" || member(jwk, "crv")? != "P-256" {
                    return Err(JweError::BadKey("ECDH-ES+A256KW needs an EC P-256 key"));
                }
                let (x, y) = (b64_member(jwk, "x")?, b64_member(jwk, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JweError::BadKey("P-256 coordinates must be 32 bytes"));
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                PublicKey::P256(point)
            }
        };
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        Ok(Self { alg, kid, key })
    }

    /// Picks the key for `alg` from a client's JWK set: the first one marked for encryption
    /// (`"use": "enc"`) or for this very algorithm (`"alg"`), of the right type. A key marked
    /// for signatures or for another algorithm is never used, nor is an unmarked one: a
    /// client's signing key must not silently become its encryption key.
    pub fn select(jwks: &Value, alg: KeyAlg) -> Result<Self, JweError> {
        let keys = jwks.get("keys").and_then(Value::as_array).ok_or(JweError::NoKey(alg))?;
        keys.iter()
            .filter(|k| {
                let key_use = k.get("use").and_then(Value::as_str);
                let key_alg = k.get("alg").and_then(Value::as_str);
                let use_ok = key_use.is_none_or(|u| u == "enc");
                let alg_ok = key_alg.is_none_or(|a| a == alg.jose_name());
                use_ok && alg_ok && (key_use.is_some() || key_alg.is_some())
            })
            .find_map(|k| Self::from_jwk(k, alg).ok())
            .ok_or(JweError::NoKey(alg))
    }

    pub fn alg(&self) -> KeyAlg {
        self.alg
    }
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, JweError> {
    let mut out = Zeroizing::new([0u8; N]);
    SystemRandom::new().fill(out.as_mut()).map_err(|_| JweError::Crypto("random generator failed"))?;
    Ok(out)
}

/// The Concat KDF of NIST SP 800-56A as RFC 7518 §4.6.2 uses it: SHA-256 rounds over
/// `counter || Z || OtherInfo`, where OtherInfo is the algorithm id, PartyUInfo, PartyVInfo
/// (each length-prefixed) and the key length in bits.
pub(crate) fn concat_kdf(z: &[u8], alg_id: &str, apu: &[u8], apv: &[u8], key_bits: u32) -> Zeroizing<Vec<u8>> {
    let key_len = key_bits as usize / 8;
    let mut out = Zeroizing::new(Vec::with_capacity(key_len + 32));
    let mut counter: u32 = 1;
    while out.len() < key_len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&counter.to_be_bytes());
        ctx.update(z);
        for field in [alg_id.as_bytes(), apu, apv] {
            ctx.update(&(field.len() as u32).to_be_bytes());
            ctx.update(field);
        }
        ctx.update(&key_bits.to_be_bytes());
        out.extend_from_slice(ctx.finish().as_ref());
        counter += 1;
    }
    out.truncate(key_len);
    out
}

/// Wraps the content key for the recipient; returns the `encrypted_key` part and, for
/// ECDH-ES, the ephemeral public key that goes into the header as `epk`.
fn wrap_cek(recipient: &Recipient, cek: &[u8]) -> Result<(Vec<u8>, Option<Value>), JweError> {
    match &recipient.key {
        PublicKey::Rsa(key) => {
            let mut out = vec![0u8; key.ciphertext_size()];
            let len = key
                .encrypt(&OAEP_SHA256_MGF1SHA256, cek, &mut out, None)
                .map_err(|_| JweError::Crypto("RSA-OAEP failed"))?
                .len();
            out.truncate(len);
            Ok((out, None))
        }
        PublicKey::P256(point) => {
            let rng = SystemRandom::new();
            let ephemeral = EphemeralPrivateKey::generate(&ECDH_P256, &rng)
                .map_err(|_| JweError::Crypto("ECDH key generation failed"))?;
            let epk_point =
                ephemeral.compute_public_key().map_err(|_| JweError::Crypto("ECDH key generation failed"))?;
            let epk_point = epk_point.as_ref();
            let epk = json!({
                "kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&epk_point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&epk_point[33..65]),
            });
            // The point is checked to be on the curve here; a bad one fails the agreement.
            let kek = agreement::agree_ephemeral(
                ephemeral,
                UnparsedPublicKey::new(&ECDH_P256, point),
                JweError::BadKey("the EC point is not on P-256"),
                |z| Ok(concat_kdf(z, KeyAlg::EcdhEsA256kw.jose_name(), b"", b"", 256)),
            )?;
            let kek = AesKek::new(&AES_256, &kek).map_err(|_| JweError::Crypto("key wrap failed"))?;
            let mut out = vec![0u8; cek.len() + 8];
            let len = kek.wrap(cek, &mut out).map_err(|_| JweError::Crypto("key wrap failed"))?.len();
            out.truncate(len);
            Ok((out, Some(epk)))
        }
    }
}

/// Encrypts `plaintext` to `recipient` as a compact JWE. `cty` names what is inside (`JWT`
/// for a nested, signed JWT: OIDC Core §16.14 signs first, then encrypts).
pub fn encrypt(
    recipient: &Recipient,
    enc: ContentEnc,
    cty: Option<&str>,
    plaintext: &[u8],
) -> Result<String, JweError> {
    let ContentEnc::A256Gcm = enc;
    let cek = random::<32>()?;
    let (encrypted_key, epk) = wrap_cek(recipient, cek.as_ref())?;
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), json!(recipient.alg.jose_name()));
    header.insert("enc".into(), json!(enc.jose_name()));
    if let Some(cty) = cty {
        header.insert("cty".into(), json!(cty));
    }
    if let Some(kid) = &recipient.kid {
        header.insert("kid".into(), json!(kid));
    }
    if let Some(epk) = epk {
        header.insert("epk".into(), epk);
    }
    let header = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
    let iv = random::<NONCE_LEN>()?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, cek.as_ref()).map_err(|_| JweError::Crypto("AES-GCM key refused"))?,
    );
    let mut body = plaintext.to_vec();
    // RFC 7516 §5.1 step 14: the additional authenticated data is the encoded header.
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*iv), Aad::from(header.as_bytes()), &mut body)
        .map_err(|_| JweError::Crypto("AES-GCM failed"))?;
    let parts = [encrypted_key.as_slice(), iv.as_ref(), &body, tag.as_ref()];
    let mut out = header;
    for part in parts {
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(part, &mut out);
    }
    Ok(out)
}

/// Registrations store the JOSE names (`"RSA-OAEP-256"`), as in OIDC Dynamic Registration.
macro_rules! jose_serde {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.jose_name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
jose_serde!(KeyAlg);
jose_serde!(ContentEnc);
