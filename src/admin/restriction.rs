//! Automation clients restricted to a unit subtree (table `client_units`): a SCIM provisioning
//! client of one department, or an admin automation of one commune, sees and changes only
//! officers and units below that unit. Set by `xacthuc clients restrict` and the admin API
//! (`PUT /admin/api/clients/{id}/unit`). No HTTP here.

use sqlx::Row;

use crate::officers::{DirectoryError, Unit};
use crate::store::Db;

impl Db {
    /// The unit a client is restricted to, if any.
    pub async fn client_unit(&self, client_id: &str) -> Result<Option<Unit>, DirectoryError> {
        let row = sqlx::query("SELECT unit_id FROM client_units WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => {
                let id: String = r.try_get(0)?;
                // A restriction naming a unit that no longer exists restricts to nothing.
                Ok(Some(self.unit(&id).await?.ok_or(DirectoryError::NotFound("the client's unit"))?))
            }
            None => Ok(None),
        }
    }

    /// Restricts the client to `unit_id`'s subtree, or lifts the restriction (`None`).
    pub async fn set_client_unit(&self, client_id: &str, unit_id: Option<&str>) -> Result<(), DirectoryError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM client_units WHERE client_id = $1").bind(client_id).execute(&mut *tx).await?;
        if let Some(unit_id) = unit_id {
            sqlx::query("INSERT INTO client_units (client_id, unit_id) VALUES ($1, $2)")
                .bind(client_id)
                .bind(unit_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Checks a restriction before it is stored: the client exists and the unit is current.
pub async fn resolve(db: &Db, client_id: &str, unit_code: Option<&str>) -> Result<Option<Unit>, DirectoryError> {
    if db.client(client_id).await?.is_none() {
        return Err(DirectoryError::NotFound("client"));
    }
    let Some(code) = unit_code.map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    let unit = db.unit_by_code(code).await?.ok_or(DirectoryError::NotFound("unit"))?;
    if !unit.is_current() {
        return Err(DirectoryError::invalid("unit_code", "the unit was merged or dissolved"));
    }
    Ok(Some(unit))
}
