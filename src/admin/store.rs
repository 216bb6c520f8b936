//! What the admin API needs from the directory beyond `crate::officers`: filtered officer
//! search, profile edits, revoking admin grants, and the roots of the unit tree. No HTTP here.

use serde::Deserialize;
use sqlx::Row;

use crate::officers::directory::{AdminRole, NewOfficer, validate};
use crate::officers::{DirectoryError, Officer, OfficerStatus, Unit};
use crate::store::{Db, DbError};

/// A search of officers in one unit subtree, by username (keyset paging).
pub struct OfficerSearch<'a> {
    pub root: &'a Unit,
    pub status: Option<OfficerStatus>,
    pub username_prefix: Option<&'a str>,
    pub after: &'a str,
    pub limit: i64,
}

/// Changes to an officer's profile; absent fields stay as they are, an empty string clears an
/// optional one. Username and unit change elsewhere (never / by a move).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerPatch {
    pub full_name: Option<String>,
    pub personal_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
}

/// `LIKE` with the pattern's own wildcards taken literally.
fn like_prefix(prefix: &str) -> String {
    let escaped: String =
        prefix.chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect();
    format!("{escaped}%")
}

impl Db {
    /// Units without a parent: the province (normally exactly one).
    pub async fn root_units(&self) -> Result<Vec<Unit>, DirectoryError> {
        let rows = sqlx::query("SELECT id FROM units WHERE parent_id IS NULL AND valid_to IS NULL ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.try_get(0)?;
            out.extend(self.unit(&id).await?);
        }
        Ok(out)
    }

    /// One page of officers matching the search, ordered by username.
    pub async fn search_officers(&self, s: &OfficerSearch<'_>) -> Result<Vec<Officer>, DirectoryError> {
        let rows = sqlx::query(
            "SELECT o.id FROM officers o JOIN units u ON u.id = o.unit_id \
             WHERE u.path LIKE $1 AND o.username > $2 AND ($3 = '' OR o.status = $3) \
             AND o.username LIKE $4 ESCAPE '\\' ORDER BY o.username LIMIT $5",
        )
        .bind(format!("{}%", s.root.path))
        .bind(s.after)
        .bind(s.status.map(OfficerStatus::as_str).unwrap_or(""))
        .bind(like_prefix(&s.username_prefix.unwrap_or("").trim().to_lowercase()))
        .bind(s.limit.clamp(1, 200))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get(0)?;
            out.extend(self.officer(&id).await?);
        }
        Ok(out)
    }

    /// Applies a profile change, validated by the directory's own rules.
    pub async fn update_officer(
        &self,
        current: &Officer,
        patch: &OfficerPatch,
        now: i64,
    ) -> Result<Officer, DirectoryError> {
        let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
        let merged = validate(&NewOfficer {
            username: current.username.clone(),
            full_name: patch.full_name.clone().unwrap_or_else(|| current.full_name.clone()),
            personal_id: pick(&patch.personal_id, &current.personal_id),
            email: pick(&patch.email, &current.email),
            phone: pick(&patch.phone, &current.phone),
            unit_code: String::new(),
            position: pick(&patch.position, &current.position),
        })?;
        let done = sqlx::query(
            "UPDATE officers SET full_name = $1, personal_id = $2, email = $3, phone = $4, position = $5, updated_at = $6 \
             WHERE id = $7",
        )
        .bind(&merged.full_name)
        .bind(&merged.personal_id)
        .bind(&merged.email)
        .bind(&merged.phone)
        .bind(&merged.position)
        .bind(now)
        .bind(&current.id)
        .execute(self.pool())
        .await
        .map_err(DbError::from);
        match done {
            Err(e) if crate::officers::is_unique_violation(&e) => {
                return Err(DirectoryError::Conflict { field: "personal_id" });
            }
            other => other?,
        };
        self.officer(&current.id).await?.ok_or(DirectoryError::NotFound("officer"))
    }

    /// Withdraws an admin grant; false if there was none.
    pub async fn revoke_admin(&self, id: &str, role: AdminRole, unit_id: &str) -> Result<bool, DirectoryError> {
        let n = sqlx::query("DELETE FROM admin_grants WHERE officer_id = $1 AND role = $2 AND unit_id = $3")
            .bind(id)
            .bind(role.as_str())
            .bind(unit_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Whether any officer holds super_admin (bootstrap refuses to make a second one blindly).
    pub async fn super_admin_exists(&self) -> Result<bool, DirectoryError> {
        let row = sqlx::query("SELECT officer_id FROM admin_grants WHERE role = 'super_admin' LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_in_a_prefix_are_literal() {
        assert_eq!(super::like_prefix("a_b%"), "a\\_b\\%%");
    }
}
