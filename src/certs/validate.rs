//! Path validation of an officer's certificate: signatures up to a trust anchor (completing the
//! chain from the configured pool), validity at a given time, basic constraints, key usage, the
//! officer's personal ID in `UID`, and revocation through the CRL. The answer names every
//! failed check.

use std::sync::Arc;

use serde::Serialize;
use x509_parser::prelude::X509Certificate;

use super::crl::{CrlAnswer, CrlCache};
use super::parse::{CertInfo, x509};
use super::trust::TrustStore;

/// A chain longer than this is refused (the Government CA's is 3 with the leaf).
const MAX_DEPTH: usize = 6;

pub use crate::config::UnknownPolicy;

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Failure {
    /// No trusted certificate signed it (or the chain above it).
    UnknownIssuer {
        issuer: String,
    },
    NotYetValid {
        subject: String,
        not_before: i64,
    },
    Expired {
        subject: String,
        not_after: i64,
    },
    /// A CA certificate in the chain is not marked as a CA, or the leaf is one.
    BasicConstraints {
        subject: String,
        detail: String,
    },
    /// The leaf lacks digitalSignature or nonRepudiation.
    KeyUsage {
        detail: String,
    },
    /// `UID=CCCD:…` is absent or names someone else.
    PersonalId {
        expected: String,
        found: Option<String>,
    },
    Revoked {
        reason: String,
        revoked_at: i64,
    },
    /// No current CRL, and policy refuses unknown status.
    RevocationUnknown {
        detail: String,
    },
    ChainTooLong,
}

impl Failure {
    /// The stable code, for APIs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::UnknownIssuer { .. } => "unknown_issuer",
            Failure::NotYetValid { .. } => "not_yet_valid",
            Failure::Expired { .. } => "expired",
            Failure::BasicConstraints { .. } => "basic_constraints",
            Failure::KeyUsage { .. } => "key_usage",
            Failure::PersonalId { .. } => "personal_id",
            Failure::Revoked { .. } => "revoked",
            Failure::RevocationUnknown { .. } => "revocation_unknown",
            Failure::ChainTooLong => "chain_too_long",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let when = |t: &i64| chrono::DateTime::from_timestamp(*t, 0).map(|d| d.to_rfc3339()).unwrap_or_default();
        match self {
            Failure::UnknownIssuer { issuer } => write!(f, "no trusted CA issued it (issuer {issuer})"),
            Failure::NotYetValid { subject, not_before } => {
                write!(f, "{subject} is valid only from {}", when(not_before))
            }
            Failure::Expired { subject, not_after } => write!(f, "{subject} expired at {}", when(not_after)),
            Failure::BasicConstraints { subject, detail } => write!(f, "{subject}: {detail}"),
            Failure::KeyUsage { detail } => write!(f, "key usage: {detail}"),
            Failure::PersonalId { expected, found: Some(found) } => {
                write!(f, "it names personal ID {found}, not the officer's {expected}")
            }
            Failure::PersonalId { expected, found: None } => {
                write!(f, "it carries no UID=CCCD personal ID (the officer's is {expected})")
            }
            Failure::Revoked { reason, revoked_at } => write!(f, "revoked ({reason}) at {}", when(revoked_at)),
            Failure::RevocationUnknown { detail } => write!(f, "revocation status unknown: {detail}"),
            Failure::ChainTooLong => write!(f, "the chain is longer than {MAX_DEPTH}"),
        }
    }
}

/// The revocation status found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Revocation {
    Good {
        crl_next_update: i64,
    },
    Revoked {
        reason: String,
        revoked_at: i64,
    },
    Unknown {
        detail: String,
    },
    /// Not looked up: the chain did not validate, so the CRL could not be trusted either.
    NotChecked,
}

/// The outcome of validating one certificate at one time.
#[derive(Clone, Debug, Serialize)]
pub struct Validation {
    pub thumbprint: String,
    pub serial: String,
    pub subject: String,
    /// The time the certificate was judged at.
    pub at: i64,
    /// Subjects from the leaf up to the anchor, when a chain was found.
    pub chain: Vec<String>,
    pub revocation: Revocation,
    pub failures: Vec<Failure>,
}

impl Validation {
    pub fn is_valid(&self) -> bool {
        self.failures.is_empty()
    }

    /// The failures' codes, for logs and tests.
    pub fn codes(&self) -> Vec<&'static str> {
        self.failures.iter().map(Failure::code).collect()
    }
}

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Validates certificates against the configured trust.
#[derive(Clone)]
pub struct Validator {
    trust: Arc<TrustStore>,
    crl: CrlCache,
    policy: UnknownPolicy,
    clock: Clock,
}

impl Validator {
    pub fn new(trust: TrustStore, crl: CrlCache, policy: UnknownPolicy) -> Self {
        Self { trust: Arc::new(trust), crl, policy, clock: Arc::new(crate::clock::unix_now) }
    }

    /// Another notion of "now" for CRL freshness (tests of a CRL past its `nextUpdate`).
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    pub fn crl(&self) -> &CrlCache {
        &self.crl
    }

    /// Validates `cert` as of `at` (validity periods; a revocation counts if dated at or before
    /// `at`), using `extra` (certificates that came with it) and the pool to build the chain.
    /// With `personal_id`, the subject's `UID=CCCD:` must name it.
    pub async fn validate(
        &self,
        cert: &CertInfo,
        extra: &[CertInfo],
        at: i64,
        personal_id: Option<&str>,
    ) -> Validation {
        let mut failures = Vec::new();
        let chain = self.chain(cert, extra, &mut failures);
        for (i, c) in chain.iter().enumerate() {
            dates(c, at, &mut failures);
            if i > 0 && !c.is_ca {
                let detail = "it issued a certificate but is not a CA".to_owned();
                failures.push(Failure::BasicConstraints { subject: c.subject.clone(), detail });
            }
        }
        if chain.is_empty() {
            dates(cert, at, &mut failures);
        }
        leaf_checks(cert, &mut failures);
        if let Some(expected) = personal_id
            && cert.personal_id.as_deref() != Some(expected)
        {
            failures.push(Failure::PersonalId { expected: expected.to_owned(), found: cert.personal_id.clone() });
        }
        let chained = !failures.iter().any(|f| matches!(f, Failure::UnknownIssuer { .. } | Failure::ChainTooLong));
        let revocation = match chain.get(1) {
            Some(issuer) if chained => self.revocation(cert, issuer, at).await,
            _ => Revocation::NotChecked,
        };
        match &revocation {
            Revocation::Revoked { reason, revoked_at } => {
                failures.push(Failure::Revoked { reason: reason.clone(), revoked_at: *revoked_at })
            }
            Revocation::Unknown { detail } if self.policy == UnknownPolicy::Refuse => {
                failures.push(Failure::RevocationUnknown { detail: detail.clone() })
            }
            _ => {}
        }
        metrics::counter!("certificate_validations_total", "outcome" => if failures.is_empty() { "valid" } else { "invalid" })
            .increment(1);
        Validation {
            thumbprint: cert.thumbprint.clone(),
            serial: cert.serial.clone(),
            subject: cert.subject.clone(),
            at,
            chain: chain.iter().map(|c| c.subject.clone()).collect(),
            revocation,
            failures,
        }
    }

    /// The chain from `cert` to an anchor (inclusive), or empty with the failure recorded.
    fn chain(&self, cert: &CertInfo, extra: &[CertInfo], failures: &mut Vec<Failure>) -> Vec<CertInfo> {
        let mut chain = vec![cert.clone()];
        loop {
            let last = chain.last().cloned().unwrap_or_else(|| cert.clone());
            if self.trust.is_anchor(&last) {
                return chain;
            }
            if chain.len() > MAX_DEPTH {
                failures.push(Failure::ChainTooLong);
                return Vec::new();
            }
            let Ok(child) = x509(&last.der) else {
                failures.push(Failure::UnknownIssuer { issuer: last.issuer.clone() });
                return Vec::new();
            };
            let candidates = extra.iter().filter(|c| c.is_ca).map(|c| (c, false)).chain(self.trust.issuers());
            let found = candidates
                .filter(|(c, _)| !chain.iter().any(|seen| seen.der == c.der))
                .find(|(c, _)| signed_by(&child, c))
                .map(|(c, _)| c.clone());
            match found {
                // Only a chain that ends in an anchor is trusted; extra certificates merely
                // help build it.
                Some(issuer) => chain.push(issuer),
                None => {
                    failures.push(Failure::UnknownIssuer { issuer: last.issuer.clone() });
                    return Vec::new();
                }
            }
        }
    }

    async fn revocation(&self, cert: &CertInfo, issuer: &CertInfo, at: i64) -> Revocation {
        let Some(url) = cert.crl_urls.first() else {
            return Revocation::Unknown { detail: "the certificate names no CRL distribution point".into() };
        };
        match self.crl.lookup(url, issuer, &cert.serial, self.now()).await {
            CrlAnswer::NotListed { next_update } => Revocation::Good { crl_next_update: next_update },
            // Revoked after the time asked about: it was good then (a signature made before).
            CrlAnswer::Listed { revoked_at, .. } if revoked_at > at => Revocation::Good { crl_next_update: 0 },
            CrlAnswer::Listed { reason, revoked_at } => Revocation::Revoked { reason, revoked_at },
            CrlAnswer::Unavailable(detail) => Revocation::Unknown { detail },
        }
    }
}

fn dates(c: &CertInfo, at: i64, failures: &mut Vec<Failure>) {
    if at < c.not_before {
        failures.push(Failure::NotYetValid { subject: c.subject.clone(), not_before: c.not_before });
    }
    if at > c.not_after {
        failures.push(Failure::Expired { subject: c.subject.clone(), not_after: c.not_after });
    }
}

fn signed_by(child: &X509Certificate<'_>, issuer: &CertInfo) -> bool {
    let Ok(parent) = x509(&issuer.der) else { return false };
    child.issuer() == parent.subject() && child.verify_signature(Some(parent.public_key())).is_ok()
}

/// Basic constraints and key usage of the end-entity certificate.
fn leaf_checks(cert: &CertInfo, failures: &mut Vec<Failure>) {
    if cert.is_ca {
        let detail = "an officer's certificate must not be a CA".to_owned();
        failures.push(Failure::BasicConstraints { subject: cert.subject.clone(), detail });
    }
    let Ok(c) = x509(&cert.der) else { return };
    match c.key_usage() {
        Ok(Some(ku)) => {
            let mut missing = Vec::new();
            if !ku.value.digital_signature() {
                missing.push("digitalSignature");
            }
            if !ku.value.non_repudiation() {
                missing.push("nonRepudiation");
            }
            if !missing.is_empty() {
                failures.push(Failure::KeyUsage { detail: format!("{} missing", missing.join(" and ")) });
            }
        }
        Ok(None) => failures.push(Failure::KeyUsage { detail: "no keyUsage extension".into() }),
        Err(e) => failures.push(Failure::KeyUsage { detail: format!("unreadable keyUsage: {e}") }),
    }
}
