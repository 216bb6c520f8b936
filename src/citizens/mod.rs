//! Citizens: login through the national e-ID, verification against the population database,
//! and the claims released to provincial services.
//!
//! - [`upstream`]: xacthuc as a relying party of the national e-ID (discovery, state, nonce,
//!   PKCE, private_key_jwt, ID-token validation, JWKS refresh on rotation), with timeouts, a
//!   bound on calls in flight and a circuit breaker ([`resilience`]).
//! - [`population`]: verification of the e-ID identity against the population database, with
//!   explicit match rules, a TTL cache and single-flight lookups.
//! - [`claims`]: the OIDC standard claims (and, under its own scope, the personal ID) built from
//!   a verified citizen.
//!
//! # How the OIDC module drives a citizen login
//! 1. `Upstream::begin(acr_min, login_hint)` → redirect the browser to the URL; keep the
//!    `PendingUpstream` in the login transaction (server-side: it holds the PKCE verifier),
//!    indexed by `pending.state()` if convenient.
//! 2. On the callback: `error=…` → `Upstream::callback_error`; otherwise
//!    `Upstream::complete(&pending, code, state)` → `EidLogin`: a citizen's `EidIdentity`, or
//!    an organisation's `OrgIdentity` ([`organisations`]).
//! 3. `PopulationClient::verify(&identity)` → `PopulationRecord` (for an organisation, of its
//!    legal representative).
//! 4. At token / UserInfo time: `citizen_claims(&identity, &record, ClaimOptions { personal_id })`
//!    with `personal_id` decided by the consent logic; the `acr` comes from `identity.level`.
//!
//! Every error type has `message()` (Vietnamese + English, for the citizen page), `rp_error()`
//! (the OAuth error for the relying party if the login is abandoned) and `retryable()`. A code
//! cannot be redeemed twice, so "retry" after an upstream failure means a new `begin` within the
//! same relying-party login transaction — which is therefore never lost.
//!
//! [`routes`] is the HTTP face that does exactly this; the rest of the module knows no HTTP
//! and renders nothing: every error carries a Vietnamese and English [`Message`] and the OAuth
//! error for the relying party.

pub mod claims;
pub mod login;
mod national_formats;
pub mod organisations;
pub mod population;
pub mod resilience;
pub mod routes;
pub mod upstream;

use serde::{Deserialize, Serialize};

pub use claims::{CitizenClaims, ClaimOptions, PERSONAL_ID_CLAIM, PERSONAL_ID_SCOPE, citizen_claims};
pub use population::{PersonKey, PopulationClient, PopulationConfig, PopulationRecord, RecordAnswer, VerifyError};
pub use resilience::{CircuitState, GuardConfig};
pub use upstream::{EidIdentity, EidLogin, OrgIdentity, PendingUpstream, Upstream, UpstreamConfig, UpstreamError};

/// e-ID account level (Decree 69/2024). Level 2 was verified in person with fingerprints; it is
/// what a service asks for when it needs the strongest identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccountLevel {
    #[serde(rename = "1")]
    Level1 = 1,
    #[serde(rename = "2")]
    Level2 = 2,
}

impl AccountLevel {
    /// The `acr` value the national e-ID uses ("1", "2").
    pub fn upstream_acr(self) -> &'static str {
        match self {
            AccountLevel::Level1 => "1",
            AccountLevel::Level2 => "2",
        }
    }

    /// Parses an e-ID `acr`: "1"/"2", or the national portal's "LoA1"/"LoA2".
    pub fn from_upstream_acr(acr: &str) -> Option<Self> {
        match acr.trim().trim_start_matches("LoA") {
            "1" => Some(AccountLevel::Level1),
            "2" => Some(AccountLevel::Level2),
            _ => None,
        }
    }
}

/// A citizen-facing message in Vietnamese (the default) and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub vi: &'static str,
    pub en: &'static str,
}

/// The OAuth error (RFC 6749 §4.1.2.1) a relying party gets when a citizen login fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RpError {
    /// The national systems are down or over capacity; the service may retry later.
    TemporarilyUnavailable,
    /// The citizen cancelled, or could not be identified as required (level, population data).
    AccessDenied,
    /// Something unexpected: a broken upstream answer, a tampered callback.
    ServerError,
}

impl RpError {
    pub fn as_str(self) -> &'static str {
        match self {
            RpError::TemporarilyUnavailable => "temporarily_unavailable",
            RpError::AccessDenied => "access_denied",
            RpError::ServerError => "server_error",
        }
    }
}

/// A personal ID fit for logs: province code and last two digits only (Decree 13/2023).
pub fn mask_personal_id(id: &str) -> String {
    let digits: Vec<char> = id.chars().collect();
    if digits.len() < 6 {
        return "*".repeat(digits.len());
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(digits.len() - 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_parse() {
        assert!(AccountLevel::Level2 > AccountLevel::Level1);
        assert_eq!(AccountLevel::from_upstream_acr("LoA2"), Some(AccountLevel::Level2));
        assert_eq!(AccountLevel::from_upstream_acr("1"), Some(AccountLevel::Level1));
        assert_eq!(AccountLevel::from_upstream_acr("3"), None);
        assert_eq!(serde_json::to_string(&AccountLevel::Level2).ok().as_deref(), Some("\"2\""));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_personal_id("001188012345"), "001*******45");
        assert_eq!(mask_personal_id("12"), "**");
    }
}
