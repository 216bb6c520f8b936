//! The one error type of the tokens module.

use super::Alg;
use super::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of key management and JWT handling.
///
/// Verification failures are deliberately coarse-grained towards the wire (the web layer maps
/// all of them to `invalid_token`/`invalid_request`), but precise here for logs and tests.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown or unsupported signing algorithm {0:?}")]
    UnknownAlg(String),

    #[error("master key is invalid: {0}")]
    InvalidMasterKey(&'static str),

    /// AES-GCM authentication failed: either the configured master key is not the one the key
    /// was encrypted with, or the record was tampered with (e.g. ciphertext moved to another
    /// kid).
    #[error(
        "cannot decrypt private key {kid}: wrong master key, or the record was altered \
         (ciphertext belongs to another key)"
    )]
    Decrypt { kid: String },

    /// A secret setting (such as the pairwise salt) does not open under the master key.
    #[error("cannot decrypt setting {name}: wrong master key, or the stored value was altered")]
    DecryptSetting { name: String },

    #[error("key record {kid} is invalid: {reason}")]
    InvalidRecord { kid: String, reason: &'static str },

    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),

    #[error("no active signing key for {0}")]
    NoActiveKey(Alg),

    #[error("cannot serialize claims: {0}")]
    Serialize(#[from] serde_json::Error),

    #[error("malformed token: {0}")]
    Malformed(&'static str),

    #[error("token type (typ) is not the expected one")]
    WrongType,

    #[error("token names an unknown or expired key")]
    UnknownKid,

    #[error("token algorithm does not match its key")]
    AlgMismatch,

    #[error("token signature is invalid")]
    BadSignature,

    #[error("claim {0} is missing or has the wrong type")]
    MissingClaim(&'static str),

    #[error("token issuer does not match")]
    WrongIssuer,

    #[error("token audience does not match")]
    WrongAudience,

    #[error("token has expired")]
    Expired,

    #[error("token is not valid yet")]
    NotYetValid,

    #[error("key store failed: {0}")]
    Store(#[source] StoreError),
}

impl Error {
    /// True for errors caused by a token from the wire (as opposed to our own keys or store).
    /// The web layer answers these with a 4xx; the others are 5xx and worth an alert.
    pub fn is_token_error(&self) -> bool {
        matches!(
            self,
            Error::Malformed(_)
                | Error::WrongType
                | Error::UnknownKid
                | Error::AlgMismatch
                | Error::BadSignature
                | Error::MissingClaim(_)
                | Error::WrongIssuer
                | Error::WrongAudience
                | Error::Expired
                | Error::NotYetValid
        )
    }
}
