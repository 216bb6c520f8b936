//! The certificate registry's operations, the same for the admin API, the console and the CLI:
//! register (validated on entry, bound to the officer whose CCCD it carries), request from a
//! CSR, renew, revoke, list and the expiry report. Each checks the caller's unit scope and
//! writes the audit log. No HTTP here.

use serde_json::json;

use super::ca_client::{CaClient, CaError, REVOCATION_REASONS, Subject};
use super::csr::{self, CsrError};
use super::queries::Expiring;
use super::store::{CertStatus, RegisteredCert};
use super::{CertInfo, Failure, ParseError, Validator, parse_certificates};
use crate::admin::authz::Caller;
use crate::admin::error::AdminError;
use crate::audit::{Action, Actor, Audit, Event};
use crate::officers::{DirectoryError, Officer, Unit};
use crate::store::{Db, DbError};

/// Who acts: an administrator (API, console), held to their units, or the operator at the
/// server's shell (CLI), who may do everything.
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    Admin(&'a Caller),
    Operator,
}

impl Who<'_> {
    pub fn actor(&self) -> Actor {
        match self {
            Who::Admin(Caller::Officer { id, .. }) => Actor::Officer(id.clone()),
            Who::Admin(Caller::Automation { client_id, .. }) => Actor::Client(client_id.clone()),
            Who::Operator => Actor::System,
        }
    }

    pub fn require_unit(&self, unit: &Unit) -> Result<(), AdminError> {
        match self {
            Who::Admin(c) => c.require_unit(unit),
            Who::Operator => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Csr(#[from] CsrError),
    /// Validation on entry failed: each failed check, named.
    #[error("the certificate is not valid: {}", .0.iter().map(|f| f.code()).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<Failure>),
    #[error("the certificate's subject carries no UID=CCCD:<12 digits>")]
    NoPersonalId,
    #[error("no officer has the personal ID the certificate carries")]
    UnknownOfficer,
    #[error("the officer has no personal ID on record")]
    OfficerWithoutPersonalId,
    #[error("the certificate is already registered")]
    AlreadyRegistered,
    #[error("the certificate is {}, not active", .0.as_str())]
    NotActive(CertStatus),
    #[error("reason must be one of {}", REVOCATION_REASONS.join(", "))]
    BadReason,
    #[error(transparent)]
    Ca(#[from] CaError),
}

impl From<DirectoryError> for RegistryError {
    fn from(e: DirectoryError) -> Self {
        Self::Admin(e.into())
    }
}

impl From<DbError> for RegistryError {
    fn from(e: DbError) -> Self {
        Self::Admin(e.into())
    }
}

/// What the operations need: the database, the validator, the CA, the audit log.
#[derive(Clone)]
pub struct Registry {
    pub db: Db,
    pub validator: Validator,
    /// `None` when no CA is configured: requests, renewals and revocations are refused.
    pub ca: Option<CaClient>,
    pub audit: Audit,
}

impl Registry {
    pub fn new(db: Db, validator: Validator, ca: Option<CaClient>) -> Self {
        let audit = Audit::new(db.clone());
        Self { db, validator, ca, audit }
    }

    pub(crate) fn ca(&self) -> Result<&CaClient, CaError> {
        self.ca.as_ref().ok_or(CaError::NotConfigured)
    }

    /// The officer, if in scope, with their current unit.
    pub async fn officer_in_scope(&self, who: Who<'_>, id: &str) -> Result<(Officer, Unit), RegistryError> {
        let officer = self.db.officer(id).await?.ok_or(DirectoryError::NotFound("officer"))?;
        let unit = self.db.unit(&officer.unit_id).await?.ok_or(DirectoryError::NotFound("unit"))?;
        who.require_unit(&unit)?;
        Ok((officer, unit))
    }

    /// A registered certificate, if its officer is in scope.
    pub async fn certificate_in_scope(
        &self,
        who: Who<'_>,
        id: &str,
    ) -> Result<(RegisteredCert, Officer, Unit), RegistryError> {
        let cert = self.db.certificate(id).await?.ok_or(DirectoryError::NotFound("certificate"))?;
        let (officer, unit) = self.officer_in_scope(who, &cert.officer_id).await?;
        Ok((cert, officer, unit))
    }

    pub(crate) async fn audit(
        &self,
        who: Who<'_>,
        action: Action,
        officer_id: &str,
        detail: serde_json::Value,
    ) -> Result<(), RegistryError> {
        let e = Event::new(action).actor(who.actor()).object("officer", officer_id).detail(detail);
        self.audit.record(e).await.map_err(|e| RegistryError::Admin(e.into()))?;
        Ok(())
    }

    /// An officer's certificates, newest first, history included.
    pub async fn list(&self, who: Who<'_>, officer_id: &str) -> Result<Vec<RegisteredCert>, RegistryError> {
        self.officer_in_scope(who, officer_id).await?;
        Ok(self.db.certificates_of(officer_id).await?)
    }

    /// Registers an uploaded certificate (PEM or DER; a PEM may carry the chain after the
    /// leaf). It is bound to the officer whose personal ID its `UID=CCCD:` carries; when
    /// `officer_id` names the officer, the certificate must carry theirs. Validated now.
    pub async fn register(
        &self,
        who: Who<'_>,
        officer_id: Option<&str>,
        input: &[u8],
    ) -> Result<RegisteredCert, RegistryError> {
        let mut certs = parse_certificates(input)?;
        let leaf = certs.remove(0);
        let officer_id = match officer_id {
            Some(id) => id.to_owned(),
            None => {
                let pid = leaf.personal_id.as_deref().ok_or(RegistryError::NoPersonalId)?;
                self.db.officer_id_by_personal_id(pid).await?.ok_or(RegistryError::UnknownOfficer)?
            }
        };
        let (officer, _) = self.officer_in_scope(who, &officer_id).await?;
        let cert = self.admit(&officer, &leaf, &certs).await?;
        self.db.insert_certificate(&cert).await.map_err(already_or)?;
        let detail = json!({ "certificate": cert.id, "serial": cert.serial, "thumbprint": cert.thumbprint });
        self.audit(who, Action::CertRegistered, &officer.id, detail).await?;
        Ok(cert)
    }

    /// Validates a certificate for an officer and builds its registry row (not yet stored).
    pub(crate) async fn admit(
        &self,
        officer: &Officer,
        leaf: &CertInfo,
        extra: &[CertInfo],
    ) -> Result<RegisteredCert, RegistryError> {
        let pid = officer.personal_id.as_deref().ok_or(RegistryError::OfficerWithoutPersonalId)?;
        if self.db.certificate_by_thumbprint(&leaf.thumbprint).await?.is_some() {
            return Err(RegistryError::AlreadyRegistered);
        }
        let now = self.validator.now();
        let v = self.validator.validate(leaf, extra, now, Some(pid)).await;
        if !v.is_valid() {
            return Err(RegistryError::Invalid(v.failures));
        }
        Ok(RegisteredCert {
            id: uuid::Uuid::now_v7().to_string(),
            officer_id: officer.id.clone(),
            thumbprint: leaf.thumbprint.clone(),
            serial: leaf.serial.clone(),
            issuer: leaf.issuer.clone(),
            subject: leaf.subject.clone(),
            not_before: leaf.not_before,
            not_after: leaf.not_after,
            pem: super::parse::to_pem(&leaf.der),
            status: CertStatus::Active,
            status_reason: None,
            replaced_by: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// What the CA should put in the officer's certificate now: name, current unit, province.
    pub async fn subject_of(&self, officer: &Officer, unit: &Unit) -> Result<Subject, RegistryError> {
        // The province is the root of the unit tree (`/root/…/`).
        let root_id = unit.path.trim_matches('/').split('/').next().unwrap_or(&unit.id);
        let province = match self.db.unit(root_id).await? {
            Some(root) => root.name,
            None => unit.name.clone(),
        };
        Ok(Subject { name: officer.full_name.clone(), unit: unit.name.clone(), department: None, province })
    }

    /// Sends an officer's CSR to the CA and registers the certificate it issues.
    pub async fn request(
        &self,
        who: Who<'_>,
        officer_id: &str,
        csr_input: &[u8],
    ) -> Result<RegisteredCert, RegistryError> {
        let (officer, unit) = self.officer_in_scope(who, officer_id).await?;
        let pid = officer.personal_id.clone().ok_or(RegistryError::OfficerWithoutPersonalId)?;
        let csr_pem = csr::check(csr_input)?;
        let subject = self.subject_of(&officer, &unit).await?;
        let issued = self.ca()?.issue(&subject, &pid, &csr_pem, false, None).await?;
        let cert = self.admit_issued(&officer, &issued.certificate_pem, &issued.chain_pem).await?;
        self.db.insert_certificate(&cert).await.map_err(already_or)?;
        let detail = json!({ "certificate": cert.id, "serial": cert.serial, "thumbprint": cert.thumbprint });
        self.audit(who, Action::CertRequested, &officer.id, detail).await?;
        Ok(cert)
    }

    pub(crate) async fn admit_issued(
        &self,
        officer: &Officer,
        cert_pem: &str,
        chain_pem: &str,
    ) -> Result<RegisteredCert, RegistryError> {
        let leaf = super::parse_certificate(cert_pem.as_bytes())?;
        let chain = if chain_pem.trim().is_empty() { Vec::new() } else { parse_certificates(chain_pem.as_bytes())? };
        self.admit(officer, &leaf, &chain).await
    }

    /// Renews an active certificate: from a new CSR, or (without one) for the same key. The
    /// new certificate is at most 3 years; the old one is retired pointing at it.
    pub async fn renew(
        &self,
        who: Who<'_>,
        cert_id: &str,
        csr_input: Option<&[u8]>,
    ) -> Result<RegisteredCert, RegistryError> {
        let (old, officer, unit) = self.certificate_in_scope(who, cert_id).await?;
        if old.status != CertStatus::Active {
            return Err(RegistryError::NotActive(old.status));
        }
        let pid = officer.personal_id.clone().ok_or(RegistryError::OfficerWithoutPersonalId)?;
        let subject = self.subject_of(&officer, &unit).await?;
        // One renewal per certificate: asked twice (a retry), the CA answers with the same one.
        let request_id = format!("renew:{}", old.id);
        let issued = match csr_input {
            Some(input) => {
                let csr_pem = csr::check(input)?;
                self.ca()?.issue(&subject, &pid, &csr_pem, true, Some(&request_id)).await?
            }
            None => self.ca()?.reissue(&old.serial, &subject, &request_id).await?,
        };
        let new = self.admit_issued(&officer, &issued.certificate_pem, &issued.chain_pem).await?;
        if !self.db.replace_certificate(&old.id, &new, "renewed").await? {
            return Err(RegistryError::NotActive(CertStatus::Retired));
        }
        let detail =
            json!({ "certificate": new.id, "serial": new.serial, "replaces": old.id, "same_key": csr_input.is_none() });
        self.audit(who, Action::CertRenewed, &officer.id, detail).await?;
        Ok(new)
    }

    /// Revokes a certificate at the CA, then in the registry, with an RFC 5280 reason.
    pub async fn revoke(&self, who: Who<'_>, cert_id: &str, reason: &str) -> Result<RegisteredCert, RegistryError> {
        if !REVOCATION_REASONS.contains(&reason) {
            return Err(RegistryError::BadReason);
        }
        let (cert, officer, _) = self.certificate_in_scope(who, cert_id).await?;
        if cert.status == CertStatus::Revoked {
            return Err(RegistryError::NotActive(cert.status));
        }
        self.ca()?.revoke(&cert.serial, reason).await?;
        self.db.set_certificate_status(&cert.id, CertStatus::Revoked, Some(reason), None, self.validator.now()).await?;
        let detail = json!({ "certificate": cert.id, "serial": cert.serial, "reason": reason });
        self.audit(who, Action::CertRevoked, &officer.id, detail).await?;
        Ok(self.db.certificate(&cert.id).await?.ok_or(DirectoryError::NotFound("certificate"))?)
    }

    /// Active certificates ending within `days`, by unit, under `unit_id` (default: every unit
    /// the caller administers).
    pub async fn expiring(
        &self,
        who: Who<'_>,
        unit_id: Option<&str>,
        days: i64,
    ) -> Result<Vec<Expiring>, RegistryError> {
        let until = self.validator.now() + days.clamp(0, 3660) * 86_400;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for root in self.roots(who, unit_id).await? {
            out.extend(
                self.db.expiring_in(&root, until).await?.into_iter().filter(|e| seen.insert(e.certificate.id.clone())),
            );
        }
        Ok(out)
    }

    /// The subtrees a unit-scoped request covers: the named unit (if in scope), or the
    /// caller's own units, or every root.
    pub async fn roots(&self, who: Who<'_>, unit_id: Option<&str>) -> Result<Vec<Unit>, RegistryError> {
        if let Some(id) = unit_id {
            let unit = self.db.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))?;
            who.require_unit(&unit)?;
            return Ok(vec![unit]);
        }
        Ok(match who {
            Who::Admin(Caller::Officer { units, is_super: false, .. }) => units.clone(),
            Who::Admin(Caller::Automation { within: Some(unit), .. }) => vec![unit.clone()],
            _ => self.db.root_units().await?,
        })
    }
}

/// A unique-thumbprint violation is a certificate registered in the meantime.
fn already_or(e: DbError) -> RegistryError {
    if crate::officers::is_unique_violation(&e) { RegistryError::AlreadyRegistered } else { e.into() }
}
