//! Short-lived state of the e-ID mock: login transactions, codes, access tokens, seen client
//! assertion IDs. In memory, with expiry, because the mock is one process.

use std::collections::HashMap;
use std::sync::Mutex;

use super::accounts::Account;

#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// Minimum level asked with `acr_values`.
    pub min_level: u8,
}

#[derive(Debug, Clone)]
pub struct LoginTxn {
    pub request: AuthRequest,
    /// The code in the QR, which `POST /mock/approve` names.
    pub qr_code: String,
    /// Set when the phone approved: where the browser goes next.
    pub approved_redirect: Option<String>,
    pub expires: i64,
}

#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub request: AuthRequest,
    pub account: Account,
    pub amr: Vec<&'static str>,
    pub auth_time: i64,
    pub expires: i64,
}

#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub account: Account,
    pub client_id: String,
    pub expires: i64,
}

#[derive(Default)]
pub struct Store {
    pub txns: Mutex<HashMap<String, LoginTxn>>,
    /// QR code → transaction id.
    pub qr: Mutex<HashMap<String, String>>,
    pub codes: Mutex<HashMap<String, CodeGrant>>,
    pub access: Mutex<HashMap<String, AccessGrant>>,
    /// `jti` of accepted client assertions → their `exp`.
    pub jtis: Mutex<HashMap<String, i64>>,
}

/// Drops expired entries once a map grows, so a long benchmark does not grow memory forever.
/// The scan runs only every 1024 entries past the threshold, so its cost stays amortised
/// even when nothing has expired yet (a burst of logins within the TTL).
pub fn prune<V>(map: &mut HashMap<String, V>, now: i64, expires: impl Fn(&V) -> i64) {
    if map.len() > 10_000 && map.len().is_multiple_of(1024) {
        map.retain(|_, v| expires(v) > now);
    }
}

/// A random URL-safe token of 128 bits.
pub fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // The system RNG failing is not recoverable in any meaningful way; fall back to a v4
        // UUID (also OS randomness) rather than panic on a request path.
        return uuid::Uuid::new_v4().simple().to_string();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
