//! The registry's queries beyond `store.rs`: officers by personal ID, the expiry report by
//! unit subtree, and a renewal or re-issue written as one transaction (the new certificate in,
//! the old one retired pointing at it).

use serde::Serialize;
use sqlx::Row;

use super::store::{CertStatus, RegisteredCert, cert_of, insert_in};
use crate::officers::Unit;
use crate::store::{Db, DbError};

/// An active certificate near its end, with whom and where it belongs.
#[derive(Clone, Debug, Serialize)]
pub struct Expiring {
    pub certificate: RegisteredCert,
    pub officer_username: String,
    pub officer_name: String,
    pub unit_id: String,
    pub unit_code: String,
    pub unit_name: String,
}

/// Columns of `officer_certificates` prefixed by `c.` in `cert_of`'s order.
macro_rules! cert_columns {
    () => {
        "c.id, c.officer_id, c.thumbprint, c.serial, c.issuer, c.subject, c.not_before, c.not_after, c.pem, \
         c.status, c.status_reason, c.replaced_by, c.created_at, c.updated_at"
    };
}

impl Db {
    /// The officer whose personal ID (CCCD) this is.
    pub async fn officer_id_by_personal_id(&self, personal_id: &str) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT id FROM officers WHERE personal_id = $1")
            .bind(personal_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Active certificates ending before `until` of officers whose current unit is under
    /// `root`, by unit (path order) then end date.
    pub async fn expiring_in(&self, root: &Unit, until: i64) -> Result<Vec<Expiring>, DbError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            cert_columns!(),
            ", o.username, o.full_name, u.id, u.code, u.name FROM officer_certificates c ",
            "JOIN officers o ON o.id = c.officer_id JOIN units u ON u.id = o.unit_id ",
            "WHERE c.status = 'active' AND c.not_after <= $1 AND u.path LIKE $2 ORDER BY u.path, c.not_after, c.id"
        ))
        .bind(until)
        .bind(format!("{}%", root.path))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Expiring {
                    certificate: cert_of(r)?,
                    officer_username: r.try_get(14)?,
                    officer_name: r.try_get(15)?,
                    unit_id: r.try_get(16)?,
                    unit_code: r.try_get(17)?,
                    unit_name: r.try_get(18)?,
                })
            })
            .collect()
    }

    /// Inserts `new` and retires `old_id` in its favour, in one transaction; false (and
    /// nothing written) when `old_id` is no longer active.
    pub async fn replace_certificate(&self, old_id: &str, new: &RegisteredCert, reason: &str) -> Result<bool, DbError> {
        let mut tx = self.pool().begin().await?;
        let retired = sqlx::query(concat!(
            "UPDATE officer_certificates SET status = $1, status_reason = $2, replaced_by = $3, updated_at = $4 ",
            "WHERE id = $5 AND status = 'active'"
        ))
        .bind(CertStatus::Retired.as_str())
        .bind(reason)
        .bind(&new.id)
        .bind(new.created_at)
        .bind(old_id)
        .execute(&mut *tx)
        .await?;
        if retired.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(true)
    }
}
