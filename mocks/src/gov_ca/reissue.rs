//! "Change of information" (our invention for the API; the practice is real: after the 2025
//! unit mergers the CA re-issued certificates with the new unit names): a new certificate for
//! the **same key** as an existing one, with a new subject. The officer keeps their token; the
//! old certificate stays valid until the registration authority retires or revokes it.

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{IssuedCert, Shared, already_issued, err, hex, issue, issued_response, new_serial, save};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReissueRequest {
    /// CN: the officer's full name (it may have changed too).
    name: String,
    /// O: the unit's current name.
    unit: String,
    department: Option<String>,
    province: String,
    /// Default and maximum: 3 years, as a renewal.
    validity_days: Option<i64>,
    /// Idempotency key: the same key again returns the first answer.
    request_id: Option<String>,
}

pub(super) async fn reissue(
    State(s): State<Shared>,
    UrlPath(serial): UrlPath<String>,
    body: Result<Json<ReissueRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(r)) => r,
        Err(e) => return err(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if let Some(done) = already_issued(&s, req.request_id.as_deref()) {
        return done;
    }
    if [&req.name, &req.unit, &req.province].iter().any(|v| v.trim().is_empty()) {
        return err(StatusCode::BAD_REQUEST, "name, unit and province are required");
    }
    let days = req.validity_days.unwrap_or(issue::MAX_RENEWAL_DAYS);
    if !(1..=issue::MAX_RENEWAL_DAYS).contains(&days) {
        return err(StatusCode::BAD_REQUEST, "validity_days must be 1..=1096 for a re-issue");
    }
    let serial = serial.to_lowercase();
    let old = s.registry.lock().ok().and_then(|r| r.iter().find(|c| c.serial == serial).cloned());
    let Some(old) = old else { return err(StatusCode::NOT_FOUND, "no certificate with this serial") };
    if old.revoked_at.is_some() {
        return err(StatusCode::CONFLICT, "the certificate is revoked: issue a new one from a CSR");
    }
    if old.variant != issue::Variant::Normal {
        return err(StatusCode::CONFLICT, "only normal certificates are re-issued");
    }
    let spki = match spki_of(&old.certificate_pem) {
        Ok(k) => k,
        Err(e) => return err(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let Some(new) = new_serial() else { return err(StatusCode::INTERNAL_SERVER_ERROR, "no randomness") };
    let subject = issue::Subject {
        name: req.name.trim(),
        personal_id: &old.personal_id,
        unit: req.unit.trim(),
        department: req.department.as_deref().map(str::trim).filter(|d| !d.is_empty()),
        province: req.province.trim(),
    };
    let crl_url = format!("{}/crl/issuing.crl", s.config.public_url.trim_end_matches('/'));
    let params = issue::officer_params(&subject, &new, days, issue::Variant::Normal, &crl_url);
    let not_after = params.not_after.unix_timestamp();
    let cert = match params.signed_by(&spki, &s.ca.issuing) {
        Ok(c) => c,
        Err(e) => return err(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let record = IssuedCert {
        serial: hex(&new),
        subject_name: subject.name.to_string(),
        personal_id: old.personal_id.clone(),
        variant: issue::Variant::Normal,
        not_after,
        certificate_pem: cert.pem(),
        revoked_at: None,
        revocation_reason: None,
        request_id: req.request_id.clone(),
        reissue_of: Some(old.serial.clone()),
    };
    if let Err(e) = save(&s, |r| {
        r.push(record.clone());
        Some(record.clone())
    }) {
        return err(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
    }
    let chain = format!("{}{}", s.ca.issuing_pem, s.ca.root_pem);
    issued_response(&record, &chain, None, None)
}

/// The SubjectPublicKeyInfo of a PEM certificate, as rcgen signs it.
fn spki_of(cert_pem: &str) -> Result<rcgen::SubjectPublicKeyInfo, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).map_err(|e| e.to_string())?;
    let (_, cert) = X509Certificate::from_der(&block.contents).map_err(|e| e.to_string())?;
    rcgen::SubjectPublicKeyInfo::from_der(cert.public_key().raw).map_err(|e| e.to_string())
}
