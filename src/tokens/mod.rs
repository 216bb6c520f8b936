//! Signing keys, minting and verification of JWTs (ID tokens, RFC 9068 access tokens, logout
//! tokens).
//!
//! This module knows no HTTP and no database: persistence goes through the [`KeyStore`] port,
//! which the database layer implements. Private keys are kept parsed in memory, because parsing
//! a PKCS#8 key costs more than signing with it and signing is on the hot path of every login.
//!
//! Layout:
//! - [`Alg`] and the `at_hash`/`c_hash` helper ([`alg`]);
//! - [`MasterKey`], encryption of private keys at rest ([`master`]);
//! - parsed key material, JWKs and thumbprints ([`key`]);
//! - [`KeyRecord`] and the [`KeyStore`] port ([`store`]);
//! - [`KeyRing`]: active keys, JWKS, rotation ([`ring`]);
//! - compact JWS encoding and decoding plus claim checks ([`jwt`]);
//! - compact JWE encryption to a client's key ([`jwe`]).

pub mod alg;
pub mod error;
pub mod jwe;
pub mod jwt;
mod key;
pub mod master;
pub mod ring;
pub mod store;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_jwe;
#[cfg(test)]
mod tests_ring;

pub use alg::{Alg, token_hash};
pub use error::{Error, Result};
pub use jwt::validate_standard_claims;
pub use master::MasterKey;
pub use ring::{KeyPolicy, KeyRing, RsaBits};
pub use store::{KeyRecord, KeyStore, MemoryKeyStore, StoreError};
