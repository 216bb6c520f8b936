//! Persistence of signing keys: the record type and the port the database layer implements.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::Alg;

/// Errors of a [`KeyStore`] implementation, boxed so the database layer keeps its own type.
pub type StoreError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One signing key as persisted. Flat and made of TEXT/BIGINT/bytes columns so one row type
/// serves SQLite and PostgreSQL.
///
/// Life cycle: active (`retire_at` is `None`) → retiring (`retire_at` set; no longer signs, still
/// in JWKS so tokens it signed keep verifying) → expired (`expires_at` passed; out of JWKS,
/// deleted at the next rotation).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// RFC 7638 thumbprint of the public key; primary key.
    pub kid: String,
    pub alg: Alg,
    /// Unix seconds.
    pub created_at: i64,
    /// When the key stopped signing (Unix seconds).
    pub retire_at: Option<i64>,
    /// When the public key leaves JWKS: `retire_at` + the longest token lifetime.
    pub expires_at: Option<i64>,
    /// PKCS#8 private key sealed with the master key (AES-256-GCM, kid and alg as associated
    /// data). Base64url in JSON, raw bytes in the database.
    #[serde(with = "b64_bytes")]
    pub private_key_enc: Vec<u8>,
    /// Public JWK (kty and key parameters) as JSON text. Kept for the admin console and for
    /// checking, at load, that it matches the decrypted private key.
    pub public_jwk: String,
}

/// Hand-written so a record in a log line shows no ciphertext (not secret, but noise).
impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retire_at", &self.retire_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl KeyRecord {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// Port for persisting signing keys. Implemented by the database adapters; [`MemoryKeyStore`]
/// serves tests and the in-process dev mode.
///
/// Declared with `impl Future + Send` rather than `async fn` so callers can hold the futures
/// across threads (tokio's multi-threaded runtime); implementations may still write `async fn`.
///
/// When several instances share a database, the adapter should serialise rotations (e.g. an
/// advisory lock around `KeyRing::rotate`); the ring reloads from the store before rotating.
pub trait KeyStore: Send + Sync {
    fn load_keys(&self) -> impl Future<Output = Result<Vec<KeyRecord>, StoreError>> + Send;
    fn save_key(&self, rec: &KeyRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn update_key(&self, rec: &KeyRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn delete_key(&self, kid: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// In-memory key store, for tests and for `xacthuc dev` without a database.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    records: Mutex<BTreeMap<String, KeyRecord>>,
}

impl MemoryKeyStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, KeyRecord>) -> T) -> T {
        // A poisoned lock only means another test thread panicked; the map itself is intact.
        let mut guard = self.records.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("key {0} not found in the store")]
struct NotFound(String);

#[derive(Debug, thiserror::Error)]
#[error("key {0} already exists in the store")]
struct Duplicate(String);

impl KeyStore for MemoryKeyStore {
    async fn load_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        Ok(self.with(|m| m.values().cloned().collect()))
    }

    async fn save_key(&self, rec: &KeyRecord) -> Result<(), StoreError> {
        self.with(|m| {
            if m.contains_key(&rec.kid) {
                return Err(Duplicate(rec.kid.clone()).into());
            }
            m.insert(rec.kid.clone(), rec.clone());
            Ok(())
        })
    }

    async fn update_key(&self, rec: &KeyRecord) -> Result<(), StoreError> {
        self.with(|m| match m.get_mut(&rec.kid) {
            Some(slot) => {
                *slot = rec.clone();
                Ok(())
            }
            None => Err(NotFound(rec.kid.clone()).into()),
        })
    }

    async fn delete_key(&self, kid: &str) -> Result<(), StoreError> {
        self.with(|m| {
            m.remove(kid);
            Ok(())
        })
    }
}

mod b64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        URL_SAFE_NO_PAD.decode(s.as_bytes()).map_err(serde::de::Error::custom)
    }
}
