//! JOSE signing algorithms we issue with, and the `at_hash`/`c_hash` computation.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::Error;

/// A JWS algorithm the provider signs with.
///
/// ES256 is the default because it is the fastest to sign with small tokens; RS256 exists because
/// OIDC Core makes it mandatory to implement; EdDSA (Ed25519 only) for clients that ask for it;
/// PS256 (RSASSA-PSS) because the FAPI 2.0 Security Profile allows only PS256, ES256 and EdDSA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    #[default]
    Es256,
    Rs256,
    EdDsa,
    Ps256,
}

impl Alg {
    pub const ALL: [Alg; 4] = [Alg::Es256, Alg::Rs256, Alg::EdDsa, Alg::Ps256];

    /// The JOSE name, as in the `alg` header and in discovery metadata.
    pub const fn jose_name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
            Alg::EdDsa => "EdDSA",
            Alg::Ps256 => "PS256",
        }
    }

    /// Dense index, used for per-algorithm arrays in the ring.
    pub(crate) const fn index(self) -> usize {
        match self {
            Alg::Es256 => 0,
            Alg::Rs256 => 1,
            Alg::EdDsa => 2,
            Alg::Ps256 => 3,
        }
    }

    /// Digest for `at_hash`, `c_hash` (and `s_hash`).
    ///
    /// OIDC Core §3.1.3.6 says "the hash algorithm used in the alg header", which is undefined
    /// for EdDSA. We use SHA-512 for Ed25519 (the hash Ed25519 itself uses), as the OpenID
    /// Foundation's errata discussion settled and as panva's `oidc-token-hash` (used by
    /// openid-client and node-oidc-provider, our interop targets) does.
    fn token_hash_digest(self) -> &'static digest::Algorithm {
        match self {
            Alg::Es256 | Alg::Rs256 | Alg::Ps256 => &digest::SHA256,
            Alg::EdDsa => &digest::SHA512,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jose_name())
    }
}

impl FromStr for Alg {
    type Err = Error;

    /// JOSE names are case-sensitive (RFC 7515 §4.1.1), so "es256" is rejected.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "ES256" => Ok(Alg::Es256),
            "RS256" => Ok(Alg::Rs256),
            "EdDSA" => Ok(Alg::EdDsa),
            "PS256" => Ok(Alg::Ps256),
            other => Err(Error::UnknownAlg(other.chars().take(32).collect())),
        }
    }
}

impl Serialize for Alg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.jose_name())
    }
}

impl<'de> Deserialize<'de> for Alg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `at_hash` / `c_hash`: base64url of the left-most half of the hash of the ASCII value
/// (OIDC Core §3.1.3.6, §3.3.2.11).
pub fn token_hash(alg: Alg, value: &str) -> String {
    let d = digest::digest(alg.token_hash_digest(), value.as_bytes());
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}
