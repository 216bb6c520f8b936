//! Verifying signed documents for relying parties (e-office, one-stop software): who signed
//! (the officer and unit, from the registry), the certificate, whether the signature is intact,
//! and whether the certificate was valid and unrevoked at the signing time and now.
//!
//! Callers present a client_credentials access token with [`SCOPE`]; calls are rate-limited
//! per client and every verification is audited. Parsing and signature checks run off the async
//! threads under [`TIME_LIMIT`]; request size is bounded by the route ([`MAX_BODY`]).

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::digest_sig::Scheme;
use super::parse::CertInfo;
use super::signature_input::{Examined, Input, InputError, TimeSource, examine};
use super::store::RegisteredCert;
use super::validate::{Validation, Validator};
use crate::audit::{Action, Actor, Audit, Event};
use crate::officers::DirectoryError;
use crate::oidc::Provider;
use crate::oidc::resource::Presented;
use crate::oidc::service::{self, ServiceAuthError};
use crate::store::DbError;

/// The scope a caller's access token must carry.
pub const SCOPE: &str = "signatures.verify";
/// Largest request body: a PDF of about 15 MB once base64-encoded in JSON.
pub const MAX_BODY: usize = 20 * 1024 * 1024;
/// Longest time spent parsing and checking one request.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SignatureVerifier {
    pub oidc: Provider,
    pub certs: Validator,
    pub audit: Audit,
    /// Calls per client per minute.
    pub per_minute: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error(transparent)]
    Service(#[from] ServiceAuthError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("the input took longer than {} seconds to check", TIME_LIMIT.as_secs())]
    TimedOut,
    #[error("the registry is unavailable")]
    Unavailable,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for SignatureError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(_) => SignatureError::Unavailable,
            other => SignatureError::Internal(other.to_string()),
        }
    }
}

impl From<DirectoryError> for SignatureError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Db(e) => e.into(),
            other => SignatureError::Internal(other.to_string()),
        }
    }
}

/// `valid` only if every signature is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// `raw`, `cms` or `pdf`.
    pub kind: &'static str,
    pub checked_at: i64,
    pub signatures: Vec<SignatureReport>,
}

#[derive(Debug, Serialize)]
pub struct SignatureReport {
    pub verdict: Verdict,
    /// Why the verdict is not `valid`, in words.
    pub reasons: Vec<String>,
    pub intact: bool,
    pub intact_problem: Option<String>,
    pub scheme: Option<Scheme>,
    /// PDFs: whether the signature covers the whole file (false: changed after signing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covers_whole_document: Option<bool>,
    pub signer: Option<Signer>,
    pub signer_problem: Option<String>,
    /// Present when `expected_officer` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_officer_matches: Option<bool>,
    pub certificate: CertSummary,
    /// Unix seconds, as the signer claims it; null when the signature carries none.
    pub signing_time: Option<i64>,
    pub signing_time_source: Option<TimeSource>,
    pub at_signing_time: Option<ValidationReport>,
    pub now: ValidationReport,
}

#[derive(Debug, Serialize)]
pub struct Signer {
    pub officer_id: String,
    pub full_name: String,
    pub unit: Option<UnitRef>,
    /// The certificate's status in the registry (`active`, `revoked`, `retired`).
    pub registry_status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct UnitRef {
    pub id: String,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct CertSummary {
    pub thumbprint: String,
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
}

#[derive(Debug, Serialize)]
pub struct ValidationReport {
    pub valid: bool,
    pub at: i64,
    pub chain: Vec<String>,
    pub revocation: super::validate::Revocation,
    pub failures: Vec<FailureReport>,
}

#[derive(Debug, Serialize)]
pub struct FailureReport {
    pub code: &'static str,
    pub message: String,
    pub detail: super::validate::Failure,
}

impl From<Validation> for ValidationReport {
    fn from(v: Validation) -> Self {
        Self {
            valid: v.is_valid(),
            at: v.at,
            chain: v.chain,
            revocation: v.revocation,
            failures: v
                .failures
                .into_iter()
                .map(|f| FailureReport { code: f.code(), message: f.to_string(), detail: f })
                .collect(),
        }
    }
}

impl SignatureVerifier {
    pub async fn verify(
        &self,
        token: Option<&Presented>,
        input: Result<Input, InputError>,
        expected_officer: Option<String>,
    ) -> Result<Report, SignatureError> {
        let client_id = self.caller(token).await?;
        let key = format!("sigverify:c:{}", crate::crypto::sha256_hex(&client_id));
        service::admit(&self.oidc.kv, &key, self.per_minute).await?;
        let input = match input {
            Ok(input) => input,
            Err(e) => {
                self.record(&client_id, "unknown", None, Some(&e.to_string())).await;
                return Err(e.into());
            }
        };
        let kind = input.kind();
        let examined = match self.examine(input).await {
            Ok(e) => e,
            Err(e) => {
                self.record(&client_id, kind, None, Some(&e.to_string())).await;
                return Err(e);
            }
        };
        let now = self.certs.now();
        let mut signatures = Vec::with_capacity(examined.len());
        for e in examined {
            signatures.push(self.judge(e, expected_officer.as_deref(), now).await?);
        }
        let all_valid = signatures.iter().all(|s| s.verdict == Verdict::Valid);
        let report = Report {
            verdict: if all_valid { Verdict::Valid } else { Verdict::Invalid },
            kind,
            checked_at: now,
            signatures,
        };
        self.record(&client_id, kind, Some(&report), None).await;
        Ok(report)
    }

    async fn caller(&self, token: Option<&Presented>) -> Result<String, SignatureError> {
        match service::client_with_scope(&self.oidc, token, SCOPE).await {
            Ok(client_id) => Ok(client_id),
            Err(e) => {
                if let ServiceAuthError::MissingScope { client_id, .. } = &e {
                    let event = Event::new(Action::SignatureRefused)
                        .actor(Actor::Client(client_id.clone()))
                        .detail(json!({ "client_id": client_id, "reason": e.to_string() }));
                    let _ = self.audit.record(event).await;
                }
                Err(e.into())
            }
        }
    }

    /// Parsing and signature checks, off the async threads and under the time limit. A panic
    /// in a parser on hostile input is a refusal of that input, not a server error.
    async fn examine(&self, input: Input) -> Result<Vec<Examined>, SignatureError> {
        let kind = input.kind();
        let work = tokio::task::spawn_blocking(move || examine(&input));
        match tokio::time::timeout(TIME_LIMIT, work).await {
            Err(_) => Err(SignatureError::TimedOut),
            Ok(Ok(result)) => Ok(result?),
            Ok(Err(join)) => {
                tracing::error!(error = %join, kind, "signature input parser failed");
                let code = if kind == "pdf" { "invalid_pdf" } else { "invalid_cms" };
                Err(InputError { code, message: "the input could not be read".into() }.into())
            }
        }
    }

    async fn judge(&self, e: Examined, expected: Option<&str>, now: i64) -> Result<SignatureReport, SignatureError> {
        let mut reasons = Vec::new();
        let registered = self.oidc.db.certificate_by_thumbprint(&e.certificate.thumbprint).await?;
        let (signer, personal_id) = match &registered {
            Some(r) => self.signer(r).await?,
            None => (None, None),
        };
        let signer_problem = match (&registered, &signer) {
            (None, _) => Some("the certificate is not registered to any officer".to_owned()),
            (Some(_), None) => Some("the certificate's officer no longer exists".to_owned()),
            _ => None,
        };
        let personal_id = personal_id.as_deref();
        let at_signing_time = match e.signing_time {
            Some((t, _)) => Some(self.certs.validate(&e.certificate, &e.extra, t, personal_id).await.into()),
            None => None,
        };
        let now_report: ValidationReport = self.certs.validate(&e.certificate, &e.extra, now, personal_id).await.into();
        let expected_officer_matches = expected.map(|x| {
            let x = x.trim();
            matches!(&signer, Some(s) if s.officer_id == x) || (personal_id.is_some() && personal_id == Some(x))
        });
        let intact = e.intact.problem.is_none();
        if let Some(p) = &e.intact.problem {
            reasons.push(format!("not intact: {p}"));
        }
        if e.covers_whole_document == Some(false) {
            reasons.push("the document was changed after this signature".into());
        }
        if let Some(p) = &signer_problem {
            reasons.push(p.clone());
        }
        if let Some(v) = at_signing_time.as_ref().filter(|v: &&ValidationReport| !v.valid) {
            reasons.push(format!("at the signing time: {}", messages(v)));
        }
        if !now_report.valid {
            reasons.push(format!("now: {}", messages(&now_report)));
        }
        if expected_officer_matches == Some(false) {
            reasons.push("the signer is not the expected officer".into());
        }
        Ok(SignatureReport {
            verdict: if reasons.is_empty() { Verdict::Valid } else { Verdict::Invalid },
            reasons,
            intact,
            intact_problem: e.intact.problem,
            scheme: e.intact.scheme,
            covers_whole_document: e.covers_whole_document,
            signer,
            signer_problem,
            expected_officer_matches,
            certificate: summary(&e.certificate),
            signing_time: e.signing_time.map(|(t, _)| t),
            signing_time_source: e.signing_time.map(|(_, s)| s),
            at_signing_time,
            now: now_report,
        })
    }

    /// The officer holding a registered certificate, and their personal ID.
    async fn signer(&self, r: &RegisteredCert) -> Result<(Option<Signer>, Option<String>), SignatureError> {
        let Some(officer) = self.oidc.db.officer(&r.officer_id).await? else { return Ok((None, None)) };
        let unit = self.oidc.db.unit(&officer.unit_id).await?;
        let signer = Signer {
            officer_id: officer.id,
            full_name: officer.full_name,
            unit: unit.map(|u| UnitRef { id: u.id, code: u.code, name: u.name }),
            registry_status: r.status.as_str(),
        };
        Ok((Some(signer), officer.personal_id))
    }

    /// Which client checked which signature, and the outcome.
    async fn record(&self, client_id: &str, kind: &str, report: Option<&Report>, refused: Option<&str>) {
        let signatures: Vec<_> = report
            .map(|r| {
                r.signatures
                    .iter()
                    .map(|s| {
                        json!({
                            "thumbprint": s.certificate.thumbprint,
                            "officer_id": s.signer.as_ref().map(|x| &x.officer_id),
                            "intact": s.intact,
                            "verdict": s.verdict,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut e = Event::new(Action::SignatureVerified).actor(Actor::Client(client_id.to_owned())).detail(json!({
            "client_id": client_id,
            "kind": kind,
            "verdict": report.map(|r| r.verdict),
            "refused": refused,
            "signatures": signatures,
        }));
        // About the signer, so their unit's administrators see who checked their signatures.
        if let Some(officer) = report.and_then(|r| r.signatures.iter().find_map(|s| s.signer.as_ref())) {
            e = e.object("officer", &officer.officer_id);
        }
        let _ = self.audit.record(e).await;
    }
}

fn messages(v: &ValidationReport) -> String {
    v.failures.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; ")
}

fn summary(c: &CertInfo) -> CertSummary {
    CertSummary {
        thumbprint: c.thumbprint.clone(),
        serial: c.serial.clone(),
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        not_before: c.not_before,
        not_after: c.not_after,
    }
}
