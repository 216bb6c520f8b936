//! The administrative unit tree. A unit keeps a stable code; renames and merges close validity
//! periods instead of deleting, so every past claim can be explained.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DirectoryError, is_unique_violation};
use crate::store::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Province,
    Department,
    Agency,
    Commune,
    Ward,
    SpecialZone,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::Department => "department",
            UnitKind::Agency => "agency",
            UnitKind::Commune => "commune",
            UnitKind::Ward => "ward",
            UnitKind::SpecialZone => "special_zone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<String>,
    /// Ids from the root, `/a/b/c/`: a subtree is a prefix.
    pub path: String,
    pub valid_from: i64,
    /// Set when the unit was merged or dissolved.
    pub valid_to: Option<i64>,
    pub merged_into: Option<String>,
}

impl Unit {
    pub fn is_current(&self) -> bool {
        self.valid_to.is_none()
    }

    /// Whether `other` is this unit or below it.
    pub fn contains(&self, other: &Unit) -> bool {
        other.path.starts_with(&self.path)
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// The parent's code; none only for the province itself.
    pub parent_code: Option<String>,
}

/// `SELECT` of every unit column, followed by the rest of the statement.
macro_rules! select_units {
    ($rest:literal) => {
        concat!("SELECT id, code, name, kind, parent_id, path, valid_from, valid_to, merged_into FROM units ", $rest)
    };
}

fn unit_of(r: &AnyRow) -> Result<Unit, DirectoryError> {
    let kind: String = r.try_get(3)?;
    Ok(Unit {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        name: r.try_get(2)?,
        kind: UnitKind::parse(&kind)
            .ok_or_else(|| DirectoryError::invalid("kind", "unknown unit kind in the database"))?,
        parent_id: r.try_get(4)?,
        path: r.try_get(5)?,
        valid_from: r.try_get(6)?,
        valid_to: r.try_get(7)?,
        merged_into: r.try_get(8)?,
    })
}

/// The longest unit code: real codes are short, but other systems' identifiers (a UUID is 36
/// characters) must fit when they provision units.
pub const MAX_CODE_LEN: usize = 64;

/// A change of a unit's structure: a new code, kind or parent (each `None` when unchanged).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitChange {
    pub code: Option<String>,
    pub kind: Option<UnitKind>,
    pub parent_code: Option<String>,
}

fn check_code(code: &str) -> Result<(), DirectoryError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if ok { Ok(()) } else { Err(DirectoryError::invalid("code", "1 to 64 letters, digits, '-', '.', '_'")) }
}

fn check_name(name: &str) -> Result<(), DirectoryError> {
    let n = name.trim().chars().count();
    if (1..=200).contains(&n) { Ok(()) } else { Err(DirectoryError::invalid("name", "1 to 200 characters")) }
}

impl Db {
    pub async fn create_unit(&self, u: &NewUnit, now: i64) -> Result<Unit, DirectoryError> {
        check_code(&u.code)?;
        check_name(&u.name)?;
        let parent = match &u.parent_code {
            Some(code) => {
                let p = self.unit_by_code(code).await?.ok_or(DirectoryError::NotFound("parent unit"))?;
                if !p.is_current() {
                    return Err(DirectoryError::invalid("parent_code", "the parent unit was merged or dissolved"));
                }
                Some(p)
            }
            None if u.kind == UnitKind::Province => None,
            None => return Err(DirectoryError::invalid("parent_code", "only the province has no parent")),
        };
        let id = uuid::Uuid::now_v7().to_string();
        let path = format!("{}{id}/", parent.as_ref().map(|p| p.path.as_str()).unwrap_or("/"));
        let inserted = sqlx::query(
            "INSERT INTO units (id, code, name, kind, parent_id, path, valid_from, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)",
        )
        .bind(&id)
        .bind(&u.code)
        .bind(u.name.trim())
        .bind(u.kind.as_str())
        .bind(parent.as_ref().map(|p| p.id.clone()))
        .bind(&path)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(crate::store::DbError::from);
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(DirectoryError::Conflict { field: "code" }),
            other => other?,
        };
        self.unit(&id).await?.ok_or(DirectoryError::NotFound("unit"))
    }

    pub async fn unit(&self, id: &str) -> Result<Option<Unit>, DirectoryError> {
        let row = sqlx::query(select_units!("WHERE id = $1")).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(unit_of).transpose()
    }

    pub async fn unit_by_code(&self, code: &str) -> Result<Option<Unit>, DirectoryError> {
        let row = sqlx::query(select_units!("WHERE code = $1")).bind(code).fetch_optional(self.pool()).await?;
        row.as_ref().map(unit_of).transpose()
    }

    /// The unit and everything below it, current units only unless `with_closed`.
    pub async fn subtree(&self, root: &Unit, with_closed: bool) -> Result<Vec<Unit>, DirectoryError> {
        let q = if with_closed {
            select_units!("WHERE path LIKE $1 ORDER BY path")
        } else {
            select_units!("WHERE path LIKE $1 AND valid_to IS NULL ORDER BY path")
        };
        let rows = sqlx::query(q).bind(format!("{}%", root.path)).fetch_all(self.pool()).await?;
        rows.iter().map(unit_of).collect()
    }

    /// Renames a unit; the old name is kept in its history. Officers' `unit` claims change at
    /// once, since they are read live.
    pub async fn rename_unit(&self, id: &str, name: &str, now: i64) -> Result<Unit, DirectoryError> {
        check_name(name)?;
        let u = self.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))?;
        if !u.is_current() {
            return Err(DirectoryError::invalid("unit", "a merged or dissolved unit cannot be renamed"));
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO unit_names (unit_id, name, valid_from, valid_to) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(&u.name)
            .bind(u.valid_from)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE units SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name.trim())
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))
    }

    /// Merges `from` into `into`: their officers move (each posting closed and a new one
    /// opened, so history is kept), their child units move under `into`, and they close with
    /// `merged_into` set. All or nothing. Returns how many officers moved.
    pub async fn merge_units(&self, from: &[String], into: &str, now: i64) -> Result<u64, DirectoryError> {
        let target = self.unit(into).await?.ok_or(DirectoryError::NotFound("target unit"))?;
        if !target.is_current() {
            return Err(DirectoryError::invalid("into", "the target unit was merged or dissolved"));
        }
        let mut sources = Vec::new();
        for id in from {
            let u = self.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))?;
            if !u.is_current() || u.id == target.id || u.contains(&target) {
                return Err(DirectoryError::invalid(
                    "from",
                    "each merged unit must be current and not contain the target",
                ));
            }
            sources.push(u);
        }
        let mut tx = self.pool().begin().await?;
        let mut moved = 0;
        for u in &sources {
            // Postings: close the old ones, open new ones in the target, then move the officers.
            sqlx::query(
                "INSERT INTO officer_postings (officer_id, unit_id, position, valid_from) \
                 SELECT id, $1, position, $2 FROM officers WHERE unit_id = $3",
            )
            .bind(&target.id)
            .bind(now)
            .bind(&u.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE officer_postings SET valid_to = $1 WHERE unit_id = $2 AND valid_to IS NULL \
                 AND officer_id IN (SELECT id FROM officers WHERE unit_id = $2)",
            )
            .bind(now)
            .bind(&u.id)
            .execute(&mut *tx)
            .await?;
            moved += sqlx::query("UPDATE officers SET unit_id = $1, updated_at = $2 WHERE unit_id = $3")
                .bind(&target.id)
                .bind(now)
                .bind(&u.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Child units move under the target: their paths change prefix.
            sqlx::query(
                "UPDATE units SET path = $1 || substr(path, CAST($2 AS INTEGER)), updated_at = $3 WHERE path LIKE $4 AND id <> $5",
            )
            .bind(&target.path)
            .bind((u.path.len() + 1) as i64)
            .bind(now)
            .bind(format!("{}%", u.path))
            .bind(&u.id)
            .execute(&mut *tx)
            .await
            ?;
            sqlx::query("UPDATE units SET parent_id = $1 WHERE parent_id = $2")
                .bind(&target.id)
                .bind(&u.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE units SET valid_to = $1, merged_into = $2, updated_at = $1 WHERE id = $3")
                .bind(now)
                .bind(&target.id)
                .bind(&u.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Changes a unit's code, kind and/or parent, all or nothing. A new parent moves the unit
    /// with its whole subtree (officers stay where they are); it must be current and not the
    /// unit itself or below it. The province's root unit keeps having no parent.
    pub async fn restructure_unit(&self, id: &str, change: &UnitChange, now: i64) -> Result<Unit, DirectoryError> {
        let u = self.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))?;
        if !u.is_current() {
            return Err(DirectoryError::invalid("unit", "a merged or dissolved unit cannot be changed"));
        }
        if let Some(code) = &change.code {
            check_code(code)?;
        }
        let parent = match &change.parent_code {
            Some(code) => {
                let p = self.unit_by_code(code).await?.ok_or(DirectoryError::NotFound("parent unit"))?;
                if !p.is_current() {
                    return Err(DirectoryError::invalid("parent_code", "the parent unit was merged or dissolved"));
                }
                if u.contains(&p) {
                    return Err(DirectoryError::invalid(
                        "parent_code",
                        "a unit cannot move under itself or its own units",
                    ));
                }
                if u.parent_id.is_none() {
                    return Err(DirectoryError::invalid("parent_code", "the province's root unit has no parent"));
                }
                Some(p).filter(|p| Some(&p.id) != u.parent_id.as_ref())
            }
            None => None,
        };
        let mut tx = self.pool().begin().await?;
        if let Some(code) = change.code.as_ref().filter(|c| **c != u.code) {
            let updated = sqlx::query("UPDATE units SET code = $1, updated_at = $2 WHERE id = $3")
                .bind(code)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(crate::store::DbError::from);
            match updated {
                Err(e) if is_unique_violation(&e) => return Err(DirectoryError::Conflict { field: "code" }),
                other => other?,
            };
        }
        if let Some(kind) = change.kind.filter(|k| *k != u.kind) {
            sqlx::query("UPDATE units SET kind = $1, updated_at = $2 WHERE id = $3")
                .bind(kind.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(p) = parent {
            // The unit and its subtree: their paths change prefix.
            let new_path = format!("{}{}/", p.path, u.id);
            sqlx::query(
                "UPDATE units SET path = $1 || substr(path, CAST($2 AS INTEGER)), updated_at = $3 WHERE path LIKE $4",
            )
            .bind(&new_path)
            .bind((u.path.len() + 1) as i64)
            .bind(now)
            .bind(format!("{}%", u.path))
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE units SET parent_id = $1 WHERE id = $2").bind(&p.id).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))
    }

    /// Dissolves an empty unit: no officers (other than disabled ones, kept for history), no
    /// current child units, and no unit merged into it. Like a merge, it closes the unit's
    /// validity rather than deleting the row, so postings, names and audit entries keep
    /// pointing at it; its code stays taken. The province's root unit cannot be dissolved.
    pub async fn dissolve_unit(&self, id: &str, now: i64) -> Result<Unit, DirectoryError> {
        let u = self.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))?;
        if !u.is_current() {
            return Err(DirectoryError::invalid("unit", "the unit was already merged or dissolved"));
        }
        if u.parent_id.is_none() {
            return Err(DirectoryError::InUse("the province's root unit cannot be dissolved"));
        }
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(self.pool());
        if count("SELECT COUNT(*) FROM officers WHERE unit_id = $1 AND status <> 'disabled'").await? > 0 {
            return Err(DirectoryError::InUse("the unit still has officers: move them to another unit first"));
        }
        if count("SELECT COUNT(*) FROM units WHERE parent_id = $1 AND valid_to IS NULL").await? > 0 {
            return Err(DirectoryError::InUse("the unit still has units below it: move or dissolve them first"));
        }
        if count("SELECT COUNT(*) FROM units WHERE merged_into = $1").await? > 0 {
            return Err(DirectoryError::InUse("units were merged into this unit: it holds their history"));
        }
        // The conditions again, in the statement itself: an officer moved in meanwhile wins.
        let closed = sqlx::query(
            "UPDATE units SET valid_to = $1, updated_at = $1 WHERE id = $2 AND valid_to IS NULL \
             AND NOT EXISTS (SELECT 1 FROM officers o WHERE o.unit_id = $2 AND o.status <> 'disabled') \
             AND NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_id = $2 AND c.valid_to IS NULL) \
             AND NOT EXISTS (SELECT 1 FROM units m WHERE m.merged_into = $2)",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(crate::store::DbError::from)?
        .rows_affected();
        if closed == 0 {
            return Err(DirectoryError::InUse("the unit changed meanwhile (an officer or unit joined it): retry"));
        }
        self.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))
    }
}
