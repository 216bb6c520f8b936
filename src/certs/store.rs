//! The certificate registry in the database: which officer holds which certificate, its
//! status, and the history of renewals and re-issues (`replaced_by`).

use serde::Serialize;
use sqlx::Row;

use crate::store::{Db, DbError};

/// A certificate bound to an officer.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RegisteredCert {
    pub id: String,
    pub officer_id: String,
    /// `x5t#S256`: base64url (no padding) of the SHA-256 of the DER.
    pub thumbprint: String,
    /// Lower-case hex, no separators.
    pub serial: String,
    pub issuer: String,
    pub subject: String,
    pub not_before: i64,
    pub not_after: i64,
    /// The certificate, PEM.
    pub pem: String,
    pub status: CertStatus,
    /// Why it was revoked or retired (an RFC 5280 reason name, or `renewed`, `reissued`).
    pub status_reason: Option<String>,
    /// The certificate that took its place (renewal, re-issue after an information change).
    pub replaced_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    /// In use: it may log in and its signatures name the officer.
    Active,
    /// Revoked at the CA (from xacthuc or found on a CRL).
    Revoked,
    /// Replaced by a newer certificate; kept for history and for old signatures.
    Retired,
}

impl CertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CertStatus::Active => "active",
            CertStatus::Revoked => "revoked",
            CertStatus::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => CertStatus::Active,
            "revoked" => CertStatus::Revoked,
            "retired" => CertStatus::Retired,
            _ => return None,
        })
    }
}

/// `SELECT` of every column, in [`cert_of`]'s order, followed by the rest of the statement.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, officer_id, thumbprint, serial, issuer, subject, not_before, not_after, pem, status, ",
            "status_reason, replaced_by, created_at, updated_at FROM officer_certificates ",
            $rest
        )
    };
}

pub(crate) fn cert_of(r: &sqlx::any::AnyRow) -> Result<RegisteredCert, DbError> {
    let status: String = r.try_get(9)?;
    Ok(RegisteredCert {
        id: r.try_get(0)?,
        officer_id: r.try_get(1)?,
        thumbprint: r.try_get(2)?,
        serial: r.try_get(3)?,
        issuer: r.try_get(4)?,
        subject: r.try_get(5)?,
        not_before: r.try_get(6)?,
        not_after: r.try_get(7)?,
        pem: r.try_get(8)?,
        status: CertStatus::parse(&status).ok_or_else(|| DbError::Query(format!("certificate status {status}")))?,
        status_reason: r.try_get(10)?,
        replaced_by: r.try_get(11)?,
        created_at: r.try_get(12)?,
        updated_at: r.try_get(13)?,
    })
}

impl Db {
    pub async fn insert_certificate(&self, c: &RegisteredCert) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await?;
        insert_in(&mut tx, c).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn certificate_by_thumbprint(&self, thumbprint: &str) -> Result<Option<RegisteredCert>, DbError> {
        let row = sqlx::query(select!("WHERE thumbprint = $1")).bind(thumbprint).fetch_optional(self.pool()).await?;
        row.as_ref().map(cert_of).transpose()
    }

    pub async fn certificate(&self, id: &str) -> Result<Option<RegisteredCert>, DbError> {
        let row = sqlx::query(select!("WHERE id = $1")).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(cert_of).transpose()
    }

    /// An officer's certificates, newest first, history included.
    pub async fn certificates_of(&self, officer_id: &str) -> Result<Vec<RegisteredCert>, DbError> {
        let rows = sqlx::query(select!("WHERE officer_id = $1 ORDER BY created_at DESC, id"))
            .bind(officer_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(cert_of).collect()
    }

    /// Sets a certificate's status; `replaced_by` only when given.
    pub async fn set_certificate_status(
        &self,
        id: &str,
        status: CertStatus,
        reason: Option<&str>,
        replaced_by: Option<&str>,
        now: i64,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(concat!(
            "UPDATE officer_certificates SET status = $1, status_reason = $2, ",
            "replaced_by = COALESCE($3, replaced_by), updated_at = $4 WHERE id = $5"
        ))
        .bind(status.as_str())
        .bind(reason)
        .bind(replaced_by)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// The INSERT of a certificate inside a transaction (the re-issue job writes it with its item).
pub(crate) async fn insert_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, c: &RegisteredCert) -> Result<(), DbError> {
    sqlx::query(concat!(
        "INSERT INTO officer_certificates (id, officer_id, thumbprint, serial, issuer, subject, not_before, ",
        "not_after, pem, status, status_reason, replaced_by, created_at, updated_at) ",
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&c.id)
    .bind(&c.officer_id)
    .bind(&c.thumbprint)
    .bind(&c.serial)
    .bind(&c.issuer)
    .bind(&c.subject)
    .bind(c.not_before)
    .bind(c.not_after)
    .bind(&c.pem)
    .bind(c.status.as_str())
    .bind(&c.status_reason)
    .bind(&c.replaced_by)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
