//! The provider's shared parts: stores, keys, clients and the few secrets it derives subjects
//! from. Built once in `app.rs`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::acr::Catalog;
use super::claims::Scopes;
use super::clients::{Client, ClientCache, SubjectType};
use super::jwks_cache::JwksCache;
use super::login::Registry;
use super::tx::Limits;
use crate::store::{Db, Kv};
use crate::tokens::{Alg, KeyRing};

#[derive(Clone)]
pub struct Provider {
    pub issuer: String,
    pub db: Db,
    pub kv: Kv,
    pub keys: KeyRing,
    pub clients: ClientCache,
    pub client_jwks: JwksCache,
    pub http: reqwest::Client,
    /// Mixed into pairwise subjects so they cannot be recomputed outside xacthuc.
    pub pairwise_salt: String,
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    pub code_ttl: Duration,
    pub tx_ttl: Duration,
    pub tx_limits: Limits,
    /// Behind a trusted proxy: the header carrying the client's address (its last entry).
    pub client_ip_header: Option<String>,
    /// The registered login methods (and who observes their outcomes).
    pub methods: Arc<Registry>,
    /// Every `acr` value the provider knows.
    pub acr: Arc<Catalog>,
    pub scopes: Arc<Scopes>,
}

/// Every algorithm a client may choose for its ID tokens has an active key: ES256 (default),
/// RS256 (required by OIDC Core) and EdDSA.
pub fn key_policy() -> crate::tokens::KeyPolicy {
    crate::tokens::KeyPolicy { algs: Alg::ALL.to_vec(), ..Default::default() }
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// 256 random bits, base64url: codes, session ids, refresh tokens, transaction ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256, for storing bearer secrets (codes, refresh tokens) by hash only.
pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Provider {
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer.trim_end_matches('/'))
    }

    /// The `sub` a client sees for an account (OIDC Core §8): pairwise per sector by default.
    pub fn subject_for(&self, client: &Client, account_id: &str) -> String {
        match client.subject_type {
            SubjectType::Public => account_id.to_owned(),
            SubjectType::Pairwise => {
                let input = format!("{}|{}|{}", client.sector(), account_id, self.pairwise_salt);
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
            }
        }
    }

    pub fn id_token_alg(&self, client: &Client) -> Alg {
        client.id_token_signed_response_alg.parse().unwrap_or(Alg::Es256)
    }
}
