//! Bulk operations on officers named by username: move to a unit, suspend or activate, reset
//! (issue reset links). Each is all or nothing: every name is checked first, every problem is
//! reported, and nothing changes unless all of them are fine. Shared by the admin API and the
//! CLI; also home of the unit scope and the batched moves that imports reuse.

use std::collections::HashMap;

use serde::Serialize;

use super::directory::{CHUNK, in_list, values_sql};
use super::setup::{SetupPurpose, issue_setup_links_in};
use super::{DirectoryError, Officer, OfficerStatus, Unit};
use crate::store::Db;

/// The units an operation may touch: an administrator's subtree, or every unit. Closed units
/// are included so that an officer still posted there can be found; callers check currency.
pub(crate) struct Scope {
    pub by_code: HashMap<String, Unit>,
    pub by_id: HashMap<String, Unit>,
    /// Whether the scope is a subtree (messages then do not tell "unknown" from "not yours").
    pub limited: bool,
}

impl Scope {
    /// Two queries whatever the number of units (a province has a few thousand).
    pub async fn load(db: &Db, within: Option<&Unit>) -> Result<Self, DirectoryError> {
        let mut units = Vec::new();
        match within {
            Some(root) => units = db.subtree(root, true).await?,
            None => {
                use sqlx::Row;
                let roots = sqlx::query("SELECT id FROM units WHERE parent_id IS NULL").fetch_all(db.pool()).await?;
                for r in roots {
                    let id: String = r.try_get(0)?;
                    if let Some(root) = db.unit(&id).await? {
                        units.extend(db.subtree(&root, true).await?);
                    }
                }
            }
        }
        let by_id = units.iter().map(|u| (u.id.clone(), u.clone())).collect();
        let by_code = units.into_iter().map(|u| (u.code.clone(), u)).collect();
        Ok(Scope { by_code, by_id, limited: within.is_some() })
    }

    /// The current unit with this code, or why it cannot be used.
    pub fn target(&self, code: &str) -> Result<&Unit, String> {
        match self.by_code.get(code.trim()) {
            Some(u) if u.is_current() => Ok(u),
            Some(_) => Err("the unit was merged or dissolved".into()),
            None if self.limited => Err("unknown unit, or not one of your units".into()),
            None => Err("unknown unit".into()),
        }
    }
}

/// One name a bulk operation could not act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemError {
    pub username: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct BulkReport {
    /// Whether the change was made (false when any name had an error).
    pub applied: bool,
    /// Officers actually changed (already in the wanted state: not counted, not touched).
    pub changed: usize,
    pub errors: Vec<ItemError>,
    /// For resets: (username, token) of each link issued; the caller shows them once.
    #[serde(skip)]
    #[schema(ignore)]
    pub setup_links: Vec<(String, String)>,
}

/// The officers named, each inside the scope, or an error per name. An officer outside the
/// scope gets the same message as an unknown one, so a unit administrator learns nothing.
async fn resolve(
    db: &Db,
    usernames: &[String],
    scope: &Scope,
) -> Result<(Vec<Officer>, Vec<ItemError>), DirectoryError> {
    let mut names: Vec<String> = usernames.iter().map(|u| u.trim().to_lowercase()).collect();
    names.sort();
    names.dedup();
    let found = db.officers_by_usernames(&names).await?;
    let mut officers = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        match found.get(&name) {
            Some(o) if scope.by_id.contains_key(&o.unit_id) => officers.push(o.clone()),
            _ => errors.push(ItemError { username: name, message: "no such officer in your units".into() }),
        }
    }
    Ok((officers, errors))
}

/// Moves officers (id, position kept) to a unit in the caller's transaction: their current
/// postings close and new ones open, a few statements per [`CHUNK`] officers.
pub(crate) async fn move_in(
    conn: &mut sqlx::AnyConnection,
    moves: &[(&str, Option<&str>)],
    unit_id: &str,
    now: i64,
) -> Result<(), DirectoryError> {
    for chunk in moves.chunks(CHUNK) {
        let close = format!(
            "UPDATE officer_postings SET valid_to = $1 WHERE valid_to IS NULL AND officer_id IN ({})",
            in_list(chunk.len(), 2)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(close)).bind(now);
        for (id, _) in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
        let open = format!(
            "INSERT INTO officer_postings (officer_id, unit_id, position, valid_from) VALUES {}",
            values_sql("(?, ?, ?, ?)", chunk.len(), 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(open));
        for (id, position) in chunk {
            q = q.bind(*id).bind(unit_id).bind(*position).bind(now);
        }
        q.execute(&mut *conn).await?;
        for (id, position) in chunk {
            sqlx::query("UPDATE officers SET unit_id = $1, position = $2, updated_at = $3 WHERE id = $4")
                .bind(unit_id)
                .bind(*position)
                .bind(now)
                .bind(*id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Moves the officers to the unit `unit_code`, keeping their positions. Officers already
/// there are left alone.
pub async fn move_officers(
    db: &Db,
    usernames: &[String],
    unit_code: &str,
    within: Option<&Unit>,
    now: i64,
) -> Result<BulkReport, DirectoryError> {
    let scope = Scope::load(db, within).await?;
    let target = scope.target(unit_code).map_err(|m| DirectoryError::invalid("unit_code", m))?;
    let (officers, errors) = resolve(db, usernames, &scope).await?;
    if !errors.is_empty() {
        return Ok(BulkReport { errors, ..Default::default() });
    }
    let moves: Vec<(&str, Option<&str>)> =
        officers.iter().filter(|o| o.unit_id != target.id).map(|o| (o.id.as_str(), o.position.as_deref())).collect();
    let mut tx = db.pool().begin().await?;
    move_in(&mut tx, &moves, &target.id, now).await?;
    tx.commit().await?;
    Ok(BulkReport { applied: true, changed: moves.len(), ..Default::default() })
}

/// Suspends or reactivates (or disables) the officers. Those already in that status are left
/// alone.
pub async fn set_status(
    db: &Db,
    usernames: &[String],
    status: OfficerStatus,
    within: Option<&Unit>,
    now: i64,
) -> Result<BulkReport, DirectoryError> {
    let scope = Scope::load(db, within).await?;
    let (officers, errors) = resolve(db, usernames, &scope).await?;
    if !errors.is_empty() {
        return Ok(BulkReport { errors, ..Default::default() });
    }
    let ids: Vec<&str> = officers.iter().filter(|o| o.status != status).map(|o| o.id.as_str()).collect();
    let mut tx = db.pool().begin().await?;
    for chunk in ids.chunks(CHUNK) {
        let sql = format!("UPDATE officers SET status = $1, updated_at = $2 WHERE id IN ({})", in_list(chunk.len(), 3));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(status.as_str()).bind(now);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(BulkReport { applied: true, changed: ids.len(), ..Default::default() })
}

/// Issues a reset link to each officer (voiding their older links).
pub async fn reset(
    db: &Db,
    usernames: &[String],
    within: Option<&Unit>,
    now: i64,
) -> Result<BulkReport, DirectoryError> {
    let scope = Scope::load(db, within).await?;
    let (officers, errors) = resolve(db, usernames, &scope).await?;
    if !errors.is_empty() {
        return Ok(BulkReport { errors, ..Default::default() });
    }
    let ids: Vec<&str> = officers.iter().map(|o| o.id.as_str()).collect();
    let mut tx = db.pool().begin().await?;
    let tokens = issue_setup_links_in(&mut tx, &ids, SetupPurpose::Reset, now).await?;
    tx.commit().await?;
    let setup_links: Vec<(String, String)> = officers.iter().map(|o| o.username.clone()).zip(tokens).collect();
    Ok(BulkReport { applied: true, changed: setup_links.len(), setup_links, ..Default::default() })
}
