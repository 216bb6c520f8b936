//! Officers' digital-signature certificates from the Government CA (specialised public-service
//! signatures, Decree 68/2024): trust anchors, path and revocation validation, the registry of
//! which officer holds which certificate, certificate login and signed-document verification.
//!
//! No HTTP here except in the routes files. Every validation answer is a [`Validation`] that
//! names each failed check ([`Failure`]), never a bare boolean.

pub mod ca_client;
pub mod cms;
pub mod console;
pub mod crl;
pub mod csr;
pub mod digest_sig;
pub mod expiry;
pub mod login;
pub mod login_routes;
pub mod parse;
pub mod pdf;
pub mod queries;
pub mod registry;
pub mod reissue;
pub mod routes;
pub mod signature_input;
pub mod signature_routes;
pub mod signatures;
pub mod store;
pub mod trust;
pub mod validate;

pub use parse::{CertInfo, ParseError, parse_certificate, parse_certificates};
pub use registry::{Registry, RegistryError, Who};
pub use trust::{TrustError, TrustStore};
pub use validate::{Failure, Revocation, UnknownPolicy, Validation, Validator};

use std::time::Duration;

use crate::config::{Config, Mode};
use crate::store::Kv;

/// The validator the configuration describes. In development mode with no anchors configured,
/// the mock Government CA's root and issuing certificates (written by the mocks at start).
pub fn validator(config: &Config, mode: Mode, kv: Kv) -> Result<Validator, TrustError> {
    let (anchors, pool) = if config.cert_trust_anchors.is_empty() && mode == Mode::Dev {
        let dir = config.data_dir.join("mocks").join("gov-ca");
        let existing = |f: &str| Some(dir.join(f)).filter(|p| p.exists()).into_iter().collect::<Vec<_>>();
        (existing("root.pem"), existing("issuing.pem"))
    } else {
        (config.cert_trust_anchors.clone(), config.cert_intermediates.clone())
    };
    let trust = TrustStore::load(&anchors, &pool)?;
    if trust.is_empty() {
        tracing::warn!("no certificate trust anchors: every officer certificate will be refused");
    }
    let crl = crl::CrlCache::new(kv, Duration::from_secs(config.request_timeout_secs.clamp(1, 10)));
    Ok(Validator::new(trust, crl, config.cert_revocation_unknown))
}

/// The CA's issuing API: configured, or the mock CA's in development mode.
pub fn ca_url(config: &Config, mode: Mode) -> Option<String> {
    config
        .cert_ca_url
        .clone()
        .or_else(|| (mode == Mode::Dev).then(|| format!("http://127.0.0.1:{}", config.mock_gov_ca_port)))
}

/// The registry's operations over the configured CA (none configured: requests, renewals and
/// revocations answer `ca_not_configured`).
pub fn registry(config: &Config, mode: Mode, db: crate::store::Db, validator: Validator) -> Registry {
    let timeout = Duration::from_secs(config.request_timeout_secs.clamp(2, 30));
    let ca = ca_url(config, mode).and_then(|url| match ca_client::CaClient::new(&url, timeout) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "certificate authority client");
            None
        }
    });
    Registry::new(db, validator, ca)
}
