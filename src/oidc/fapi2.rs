//! The per-client FAPI 2.0 Security Profile (final) flag: what such a client must do, in one
//! place. The endpoints ask here; anything weaker is refused with the error the profile (and
//! the RFCs it builds on) names:
//!
//! - PAR only (RFC 9126 §5: `invalid_request`), with the redirect URI in the pushed request
//!   and nowhere else (§5.3.2.2);
//! - PKCE with S256 (already the only method this provider accepts);
//! - `private_key_jwt` (`invalid_client` for any other method; mTLS is not built);
//! - DPoP-bound access tokens (`invalid_dpop_proof` at the token endpoint without a proof);
//! - `iss` in authorization responses (RFC 9207, sent to every client);
//! - codes valid for at most 60 s;
//! - PS256, ES256 or EdDSA for every signature the client makes or receives (§5.4.1).

use std::time::Duration;

use super::clients::Client;
use super::error::{ErrorCode, OAuthError};
use super::request::Params;

/// FAPI 2.0 §5.3.2.1: authorization codes live at most 60 seconds.
const MAX_CODE_TTL: Duration = Duration::from_secs(60);

/// The signature algorithms the profile allows (§5.4.1); `Ed25519` is the fully-specified
/// name (RFC 9864) of EdDSA over Ed25519. Registration rules live with the registration
/// (`Client::validate`).
pub const ALGS: [&str; 4] = ["PS256", "ES256", "EdDSA", "Ed25519"];

/// Whether a JWT the client signed (assertion, request object) uses an algorithm it may use.
pub fn signing_alg_allowed(c: &Client, alg: jsonwebtoken::Algorithm) -> bool {
    use jsonwebtoken::Algorithm::{ES256, EdDSA, PS256};
    !c.fapi2 || matches!(alg, PS256 | ES256 | EdDSA)
}

/// How long a code lives: `fapi2` says whether the client is under the profile.
pub fn code_ttl(fapi2: bool, configured: Duration) -> Duration {
    if fapi2 { configured.min(MAX_CODE_TTL) } else { configured }
}

/// At `/authorize` after a pushed request: the front channel may only name the pushed request.
/// A redirect URI there is not one the client authenticated, so it is refused outright.
pub fn check_front_channel(c: &Client, query: &Params) -> Result<(), OAuthError> {
    if c.fapi2 && query.contains_key("request_uri") && query.contains_key("redirect_uri") {
        return Err(OAuthError::invalid_request(
            "this client's redirect_uri must be sent only in the pushed authorization request",
        ));
    }
    Ok(())
}

/// At the token endpoint: a `fapi2` client's tokens are always sender-constrained.
pub fn require_proof(c: &Client, has_proof: bool) -> Result<(), OAuthError> {
    if c.fapi2 && !has_proof {
        return Err(OAuthError::new(ErrorCode::InvalidDpopProof, "this client must present a DPoP proof"));
    }
    Ok(())
}
