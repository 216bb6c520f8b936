//! Callers of the service APIs (population verification, signed-document verification): a
//! relying party presenting a live client_credentials access token that carries the API's
//! scope, within per-minute limits kept in the shared store so they hold across instances.

use std::time::Duration;

use super::provider::Provider;
use super::resource::{Presented, live_presented};
use crate::store::{Kv, KvError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceAuthError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A known client whose token lacks the scope (worth an audit entry).
    #[error("the access token lacks the {scope} scope")]
    MissingScope { client_id: String, scope: &'static str },
    #[error("too many requests; retry after {0} seconds")]
    RateLimited(u64),
    #[error("the rate-limit store is unavailable")]
    Unavailable,
}

impl From<KvError> for ServiceAuthError {
    fn from(e: KvError) -> Self {
        tracing::warn!(error = %e, "rate-limit store unavailable");
        ServiceAuthError::Unavailable
    }
}

/// The client id behind `token`, which must be a live access token carrying `scope`, presented
/// as a bearer token or, if DPoP-bound, with a proof of its key.
pub async fn client_with_scope(
    p: &Provider,
    token: Option<&Presented>,
    scope: &'static str,
) -> Result<String, ServiceAuthError> {
    let token = token.ok_or(ServiceAuthError::Unauthenticated("an access token is required"))?;
    let claims = live_presented(p, token)
        .await
        .map_err(|_| ServiceAuthError::Unauthenticated("the access token is invalid, expired or revoked"))?;
    let client_id = claims.get("client_id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let scopes = claims.get("scope").and_then(|v| v.as_str()).unwrap_or_default();
    if !scopes.split(' ').any(|s| s == scope) {
        return Err(ServiceAuthError::MissingScope { client_id, scope });
    }
    Ok(client_id)
}

/// Counts one call under `key` in a fixed one-minute window; refuses past `per_minute`.
pub async fn admit(kv: &Kv, key: &str, per_minute: i64) -> Result<(), ServiceAuthError> {
    let now = crate::clock::unix_now();
    let window = now / 60;
    if kv.incr(&format!("{key}:{window}"), Duration::from_secs(120)).await? > per_minute {
        return Err(ServiceAuthError::RateLimited((60 - now % 60) as u64));
    }
    Ok(())
}
