//! Checking a signature over a SHA-256 digest with a certificate's public key (aws-lc-rs):
//! ECDSA on P-256 (DER or fixed `r||s`) or P-384 (DER), RSA PKCS#1 v1.5 or PSS. The digest, not the
//! document, is what relying parties send and what CMS signed attributes reduce to.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use serde::Serialize;

use super::parse::x509;

const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const RSA: &str = "1.2.840.113549.1.1.1";

/// How a signature that checked out was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// ECDSA with SHA-256, the signature DER-encoded.
    EcdsaDer,
    /// ECDSA with SHA-256, the signature as fixed-size `r||s`.
    EcdsaFixed,
    RsaPkcs1,
    RsaPss,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    P256,
    P384,
    Rsa,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unsupported public key: {0}")]
pub struct UnsupportedKey(pub String);

/// A certificate's public key, ready to check signatures.
#[derive(Clone, Debug)]
pub struct PublicKey {
    kind: Kind,
    bytes: Vec<u8>,
}

impl PublicKey {
    /// The key of a DER certificate.
    pub fn of_certificate(der: &[u8]) -> Result<Self, UnsupportedKey> {
        let c = x509(der).map_err(|e| UnsupportedKey(e.to_string()))?;
        let spki = c.public_key();
        let alg = spki.algorithm.algorithm.to_id_string();
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
        let kind = match (alg.as_str(), curve.as_deref()) {
            (EC_PUBLIC_KEY, Some(P256)) => Kind::P256,
            (EC_PUBLIC_KEY, Some(P384)) => Kind::P384,
            (RSA, _) => Kind::Rsa,
            (EC_PUBLIC_KEY, other) => return Err(UnsupportedKey(format!("elliptic curve {}", other.unwrap_or("?")))),
            (other, _) => return Err(UnsupportedKey(format!("algorithm {other}"))),
        };
        Ok(Self { kind, bytes: spki.subject_public_key.data.to_vec() })
    }

    /// Whether `signature` signs `sha256` (the digest of the signed bytes), and how. `rsa_pss`
    /// says which RSA padding the signer declared; `None` tries both.
    pub fn verify_sha256(&self, sha256: &[u8], signature: &[u8], rsa_pss: Option<bool>) -> Option<Scheme> {
        let digest = Digest::import_less_safe(sha256, &digest::SHA256).ok()?;
        let candidates: &[(Scheme, &'static dyn VerificationAlgorithm)] = match self.kind {
            Kind::P256 if signature.len() == 64 => &[(Scheme::EcdsaFixed, &sig::ECDSA_P256_SHA256_FIXED)],
            Kind::P256 => &[(Scheme::EcdsaDer, &sig::ECDSA_P256_SHA256_ASN1)],
            Kind::P384 => &[(Scheme::EcdsaDer, &sig::ECDSA_P384_SHA256_ASN1)],
            Kind::Rsa => match rsa_pss {
                Some(false) => &[(Scheme::RsaPkcs1, &sig::RSA_PKCS1_2048_8192_SHA256)],
                Some(true) => &[(Scheme::RsaPss, &sig::RSA_PSS_2048_8192_SHA256)],
                None => &[
                    (Scheme::RsaPkcs1, &sig::RSA_PKCS1_2048_8192_SHA256),
                    (Scheme::RsaPss, &sig::RSA_PSS_2048_8192_SHA256),
                ],
            },
        };
        candidates.iter().find_map(|(scheme, alg)| {
            UnparsedPublicKey::new(*alg, &self.bytes).verify_digest(&digest, signature).ok().map(|_| *scheme)
        })
    }
}
