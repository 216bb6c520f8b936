//! The e-ID's discovery metadata and JWKS, cached.
//!
//! Both are fetched once and kept for a TTL, so a burst of logins costs the e-ID nothing beyond
//! the logins themselves. The JWKS is also refetched when an ID token names a `kid` we do not
//! know (the e-ID rotated its key), at most once per token and collapsed across concurrent
//! logins. When a refresh fails, the stale copy keeps serving: metadata rarely changes, and a
//! failed refresh must not turn a slow e-ID into a dead login page.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{DiscoveryError, IssuerUrl, JsonWebKeySet};

use super::error::{Unavailability, UpstreamError};
use super::http::{HttpClient, HttpError};
use crate::citizens::resilience::Guard;

/// One consistent view of the e-ID: its discovery metadata with the JWKS it names.
#[derive(Debug)]
pub struct EidMetadata {
    pub metadata: CoreProviderMetadata,
    /// Bumped on every JWKS fetch, so concurrent refreshers can tell whether someone else
    /// already refreshed.
    pub jwks_generation: u64,
    fetched_at: Instant,
}

impl EidMetadata {
    pub fn jwks(&self) -> &CoreJsonWebKeySet {
        self.metadata.jwks()
    }
}

#[derive(Debug)]
pub struct MetadataCache {
    issuer: IssuerUrl,
    ttl: Duration,
    current: RwLock<Option<Arc<EidMetadata>>>,
    /// Serialises refreshes: a hundred logins seeing an unknown `kid` make one JWKS request.
    refresh: tokio::sync::Mutex<()>,
}

impl MetadataCache {
    pub fn new(issuer: IssuerUrl, ttl: Duration) -> Self {
        MetadataCache { issuer, ttl, current: RwLock::new(None), refresh: tokio::sync::Mutex::new(()) }
    }

    fn cached(&self) -> Option<Arc<EidMetadata>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    fn store(&self, p: Arc<EidMetadata>) {
        if let Ok(mut c) = self.current.write() {
            *c = Some(p);
        }
    }

    /// The e-ID's metadata, from cache when fresh.
    pub async fn get(&self, http: &HttpClient, guard: &Guard) -> Result<Arc<EidMetadata>, UpstreamError> {
        if let Some(p) = self.cached().filter(|p| p.fetched_at.elapsed() < self.ttl) {
            return Ok(p);
        }
        let _one_at_a_time = self.refresh.lock().await;
        let stale = self.cached();
        if let Some(p) = stale.as_ref().filter(|p| p.fetched_at.elapsed() < self.ttl) {
            return Ok(p.clone());
        }
        let generation = stale.as_ref().map_or(0, |p| p.jwks_generation + 1);
        let fetched = guard
            .run(CoreProviderMetadata::discover_async(self.issuer.clone(), http), |e| {
                discovery_error(e).is_upstream_fault()
            })
            .await
            .map_err(|g| UpstreamError::from(g.map_inner(|e| discovery_error(&e))));
        match (fetched, stale) {
            (Ok(metadata), _) => {
                let p = Arc::new(EidMetadata { metadata, jwks_generation: generation, fetched_at: Instant::now() });
                self.store(p.clone());
                Ok(p)
            }
            (Err(e), Some(stale)) => {
                tracing::warn!(error = %e, "e-ID discovery refresh failed; serving the cached metadata");
                Ok(stale)
            }
            (Err(e), None) => Err(e),
        }
    }

    /// Refetches the JWKS after an unknown `kid`, unless another task already did since `seen`
    /// was read.
    pub async fn refresh_jwks(
        &self,
        seen: &EidMetadata,
        http: &HttpClient,
        guard: &Guard,
    ) -> Result<Arc<EidMetadata>, UpstreamError> {
        let _one_at_a_time = self.refresh.lock().await;
        if let Some(p) = self.cached().filter(|p| p.jwks_generation != seen.jwks_generation) {
            return Ok(p);
        }
        let uri = seen.metadata.jwks_uri().clone();
        let jwks: CoreJsonWebKeySet = guard
            .run(JsonWebKeySet::fetch_async(&uri, http), |e| discovery_error(e).is_upstream_fault())
            .await
            .map_err(|g| UpstreamError::from(g.map_inner(|e| discovery_error(&e))))?;
        tracing::info!(keys = jwks.keys().len(), "e-ID JWKS refreshed after an unknown key id");
        let p = Arc::new(EidMetadata {
            metadata: seen.metadata.clone().set_jwks(jwks),
            jwks_generation: seen.jwks_generation + 1,
            // Keeps the metadata's own age: only the keys are new.
            fetched_at: seen.fetched_at,
        });
        self.store(p.clone());
        Ok(p)
    }
}

fn discovery_error(e: &DiscoveryError<HttpError>) -> UpstreamError {
    match e {
        DiscoveryError::Request(h) => UpstreamError::from(h),
        DiscoveryError::Response(status, _, _) if status.as_u16() == 503 => {
            UpstreamError::Unavailable(Unavailability::Maintenance)
        }
        DiscoveryError::Response(status, _, msg) => UpstreamError::InvalidResponse(format!("HTTP {status}: {msg}")),
        DiscoveryError::Parse(p) => UpstreamError::InvalidResponse(format!("discovery/JWKS: {p}")),
        DiscoveryError::Validation(v) => UpstreamError::InvalidResponse(format!("discovery: {v}")),
        other => UpstreamError::InvalidResponse(other.to_string()),
    }
}
