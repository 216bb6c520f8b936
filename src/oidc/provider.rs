//! The provider's shared parts: stores, keys, clients and the few secrets it derives subjects
//! from. Built once in `app.rs`.

use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::clients::{Client, ClientCache, SubjectType};
use super::jwks_cache::JwksCache;
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
}

/// Every algorithm a client may choose for its ID tokens has an active key: ES256 (default),
/// RS256 (required by OIDC Core) and EdDSA.
pub fn key_policy() -> crate::tokens::KeyPolicy {
    crate::tokens::KeyPolicy { algs: Alg::ALL.to_vec(), ..Default::default() }
}

// Kept at their old path until the last callers (flow, routes, pages, account, citizens
// routes) import them from `crate::clock` / `crate::crypto` directly.
pub use crate::clock::unix_now as now;
pub use crate::crypto::{random_token, sha256_hex};

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
