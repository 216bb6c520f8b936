//! Officer accounts: who they are, where they serve, their roles per relying party and, for
//! administrators, the unit subtree they administer.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use vn_identity::PersonalId;

use super::{DirectoryError, Unit, is_unique_violation};
use crate::store::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfficerStatus {
    Active,
    /// Temporarily barred (an investigation, a long leave); can be reactivated.
    Suspended,
    /// Left the service; kept for history.
    Disabled,
}

impl OfficerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OfficerStatus::Active => "active",
            OfficerStatus::Suspended => "suspended",
            OfficerStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    pub id: String,
    /// The officer code, used to log in.
    pub username: String,
    pub full_name: String,
    pub personal_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_id: String,
    pub position: Option<String>,
    pub status: OfficerStatus,
    /// Whether a password is set (the hash itself never leaves `password_hash`).
    pub has_password: bool,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NewOfficer {
    pub username: String,
    pub full_name: String,
    pub personal_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_code: String,
    pub position: Option<String>,
}

/// Administrator roles, granted on a unit: they reach that unit's whole subtree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    /// Manages officers of a unit subtree.
    UnitAdmin,
    /// Manages units and relying parties of the whole province (granted on the root unit).
    SuperAdmin,
}

impl AdminRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::UnitAdmin => "unit_admin",
            AdminRole::SuperAdmin => "super_admin",
        }
    }
}

/// `SELECT` of every officer column (as `o`), followed by the rest of the statement.
macro_rules! select_officers {
    ($rest:literal) => {
        concat!(
            "SELECT o.id, o.username, o.full_name, o.personal_id, o.email, o.phone, o.unit_id, o.position, \
             o.status, o.password_hash, o.updated_at FROM officers o ",
            $rest
        )
    };
}

fn officer_of(r: &AnyRow) -> Result<Officer, DirectoryError> {
    let status: String = r.try_get(8)?;
    let hash: Option<String> = r.try_get(9)?;
    Ok(Officer {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        full_name: r.try_get(2)?,
        personal_id: r.try_get(3)?,
        email: r.try_get(4)?,
        phone: r.try_get(5)?,
        unit_id: r.try_get(6)?,
        position: r.try_get(7)?,
        status: OfficerStatus::parse(&status).ok_or_else(|| DirectoryError::invalid("status", "unknown status"))?,
        has_password: hash.is_some(),
        updated_at: r.try_get(10)?,
    })
}

/// Exports are opened in spreadsheets, which run a cell starting with one of these as a formula.
fn starts_like_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@'])
}

/// Normalises and validates what an administrator or an import typed.
pub fn validate(o: &NewOfficer) -> Result<NewOfficer, DirectoryError> {
    let username = o.username.trim().to_lowercase();
    let ok = (3..=64).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(DirectoryError::invalid("username", "3 to 64 of a-z, 0-9, '.', '_', '-'"));
    }
    let full_name = vn_identity::normalize_name(&o.full_name);
    if !(1..=200).contains(&full_name.chars().count()) {
        return Err(DirectoryError::invalid("full_name", "1 to 200 characters"));
    }
    if starts_like_formula(&full_name) {
        return Err(DirectoryError::invalid("full_name", "must not start with = + - @ (spreadsheet formula)"));
    }
    let personal_id = match o.personal_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(
            PersonalId::parse(id)
                .map_err(|e| DirectoryError::invalid("personal_id", e.to_string()))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let email = o.email.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(e) = &email
        && (e.len() > 254 || !e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.')))
    {
        return Err(DirectoryError::invalid("email", "not an email address"));
    }
    let phone = o.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(p) = &phone
        && !(8..=15).contains(&p.trim_start_matches('+').len())
    {
        return Err(DirectoryError::invalid("phone", "8 to 15 digits"));
    }
    if let Some(p) = &phone
        && !p.trim_start_matches('+').bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DirectoryError::invalid("phone", "8 to 15 digits"));
    }
    let position = o.position.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if position.as_ref().is_some_and(|p| p.chars().count() > 200) {
        return Err(DirectoryError::invalid("position", "at most 200 characters"));
    }
    if position.as_deref().is_some_and(starts_like_formula) {
        return Err(DirectoryError::invalid("position", "must not start with = + - @ (spreadsheet formula)"));
    }
    Ok(NewOfficer {
        username,
        full_name,
        personal_id,
        email,
        phone,
        unit_code: o.unit_code.trim().to_owned(),
        position,
    })
}

fn conflict_field(e: &crate::store::DbError) -> &'static str {
    let msg = e.to_string();
    if msg.contains("personal_id") { "personal_id" } else { "username" }
}

impl Db {
    /// Creates an officer (and the provider account that carries their sessions and grants).
    /// No password: the officer sets one through a set-up link.
    pub async fn create_officer(&self, o: &NewOfficer, now: i64) -> Result<Officer, DirectoryError> {
        let o = validate(o)?;
        let unit = self.unit_by_code(&o.unit_code).await?.ok_or(DirectoryError::NotFound("unit"))?;
        if !unit.is_current() {
            return Err(DirectoryError::invalid("unit_code", "the unit was merged or dissolved"));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO officers (id, username, full_name, personal_id, email, phone, unit_id, position, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9)",
        )
        .bind(&id)
        .bind(&o.username)
        .bind(&o.full_name)
        .bind(&o.personal_id)
        .bind(&o.email)
        .bind(&o.phone)
        .bind(&unit.id)
        .bind(&o.position)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(crate::store::DbError::from);
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(DirectoryError::Conflict { field: conflict_field(&e) }),
            other => other?,
        };
        sqlx::query("INSERT INTO officer_postings (officer_id, unit_id, position, valid_from) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(&unit.id)
            .bind(&o.position)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let profile = serde_json::json!({ "name": o.full_name }).to_string();
        sqlx::query(
            "INSERT INTO accounts (id, kind, external_key, profile, created_at, updated_at) VALUES ($1, 'officer', $2, $3, $4, $4)",
        )
        .bind(&id)
        .bind(format!("officer:{id}"))
        .bind(&profile)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.officer(&id).await?.ok_or(DirectoryError::NotFound("officer"))
    }

    pub async fn officer(&self, id: &str) -> Result<Option<Officer>, DirectoryError> {
        let row = sqlx::query(select_officers!("WHERE o.id = $1")).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(officer_of).transpose()
    }

    pub async fn officer_by_username(&self, username: &str) -> Result<Option<Officer>, DirectoryError> {
        let row = sqlx::query(select_officers!("WHERE o.username = $1"))
            .bind(username.trim().to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(officer_of).transpose()
    }

    /// Officers of a unit subtree, by username, `limit` after `after_username` (keyset paging).
    pub async fn officers_in(
        &self,
        root: &Unit,
        after_username: &str,
        limit: i64,
    ) -> Result<Vec<Officer>, DirectoryError> {
        let q = select_officers!(
            "JOIN units u ON u.id = o.unit_id WHERE u.path LIKE $1 AND o.username > $2 ORDER BY o.username LIMIT $3"
        );
        let rows = sqlx::query(q)
            .bind(format!("{}%", root.path))
            .bind(after_username)
            .bind(limit.clamp(1, 1000))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(officer_of).collect()
    }

    pub async fn set_officer_status(&self, id: &str, status: OfficerStatus, now: i64) -> Result<(), DirectoryError> {
        let n = sqlx::query("UPDATE officers SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        if n == 0 { Err(DirectoryError::NotFound("officer")) } else { Ok(()) }
    }

    /// Moves an officer to another unit and/or position, closing the current posting.
    pub async fn move_officer(
        &self,
        id: &str,
        unit_code: &str,
        position: Option<&str>,
        now: i64,
    ) -> Result<Officer, DirectoryError> {
        let unit = self.unit_by_code(unit_code).await?.ok_or(DirectoryError::NotFound("unit"))?;
        if !unit.is_current() {
            return Err(DirectoryError::invalid("unit_code", "the unit was merged or dissolved"));
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE officer_postings SET valid_to = $1 WHERE officer_id = $2 AND valid_to IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO officer_postings (officer_id, unit_id, position, valid_from) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(&unit.id)
            .bind(position)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("UPDATE officers SET unit_id = $1, position = $2, updated_at = $3 WHERE id = $4")
            .bind(&unit.id)
            .bind(position)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(DirectoryError::NotFound("officer"));
        }
        tx.commit().await?;
        self.officer(id).await?.ok_or(DirectoryError::NotFound("officer"))
    }

    /// The stored password hash (PHC string), if any.
    pub async fn officer_password_hash(&self, id: &str) -> Result<Option<String>, DirectoryError> {
        let row = sqlx::query("SELECT password_hash FROM officers WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => None,
        })
    }

    pub async fn set_officer_password_hash(&self, id: &str, hash: &str, now: i64) -> Result<(), DirectoryError> {
        let n =
            sqlx::query("UPDATE officers SET password_hash = $1, password_set_at = $2, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?
                .rows_affected();
        if n == 0 { Err(DirectoryError::NotFound("officer")) } else { Ok(()) }
    }

    /// The officer's roles at one relying party.
    pub async fn officer_roles(&self, id: &str, client_id: &str) -> Result<Vec<String>, DirectoryError> {
        let rows = sqlx::query("SELECT role FROM officer_roles WHERE officer_id = $1 AND client_id = $2 ORDER BY role")
            .bind(id)
            .bind(client_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    /// Replaces the officer's roles at one relying party.
    pub async fn set_officer_roles(&self, id: &str, client_id: &str, roles: &[String]) -> Result<(), DirectoryError> {
        if roles.iter().any(|r| r.is_empty() || r.len() > 64) {
            return Err(DirectoryError::invalid("roles", "1 to 64 characters each"));
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM officer_roles WHERE officer_id = $1 AND client_id = $2")
            .bind(id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        for role in roles {
            sqlx::query("INSERT INTO officer_roles (officer_id, client_id, role) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(client_id)
                .bind(role)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The units on which the officer holds an administrator role.
    pub async fn admin_grants(&self, id: &str) -> Result<Vec<(AdminRole, Unit)>, DirectoryError> {
        let rows = sqlx::query("SELECT role, unit_id FROM admin_grants WHERE officer_id = $1")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let role: String = r.try_get(0)?;
            let unit_id: String = r.try_get(1)?;
            let role = match role.as_str() {
                "super_admin" => AdminRole::SuperAdmin,
                "unit_admin" => AdminRole::UnitAdmin,
                _ => continue,
            };
            if let Some(u) = self.unit(&unit_id).await? {
                out.push((role, u));
            }
        }
        Ok(out)
    }

    pub async fn grant_admin(&self, id: &str, role: AdminRole, unit_id: &str) -> Result<(), DirectoryError> {
        let done = sqlx::query("INSERT INTO admin_grants (officer_id, role, unit_id) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(role.as_str())
            .bind(unit_id)
            .execute(self.pool())
            .await
            .map_err(crate::store::DbError::from);
        match done {
            Err(e) if is_unique_violation(&e) => Ok(()),
            other => other.map(|_| ()).map_err(DirectoryError::from),
        }
    }
}

/// An officer's roles, per relying party.
pub type RolesByClient = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// How many values one statement lists (`IN (…)`, multi-row `VALUES`): far under both
/// backends' bound-parameter limits, large enough that thousands of rows take a few queries.
pub(crate) const CHUNK: usize = 500;

/// `($1, $2, 'x'), ($3, $4, 'x'), …`: `tpl` (one row, `?` for each bound value) repeated `rows`
/// times with numbered placeholders from `$first`. Built from counts only, never from input.
pub(crate) fn values_sql(tpl: &str, rows: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * (tpl.len() + 8));
    let mut n = first;
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        for c in tpl.chars() {
            if c == '?' {
                out.push('$');
                out.push_str(&n.to_string());
                n += 1;
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// `$first, …` for an `IN (…)` list of `n` values.
pub(crate) fn in_list(n: usize, first: usize) -> String {
    values_sql("?", n, first)
}

impl Db {
    /// Officers by (normalised) username, looked up in bulk: a query per [`CHUNK`] names.
    pub async fn officers_by_usernames(
        &self,
        usernames: &[String],
    ) -> Result<std::collections::HashMap<String, Officer>, DirectoryError> {
        self.officers_where("o.username", usernames).await
    }

    /// Officers by personal ID, in bulk (to tell which account already holds an ID).
    pub async fn officers_by_personal_ids(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, Officer>, DirectoryError> {
        let found = self.officers_where("o.personal_id", ids).await?;
        Ok(found.into_values().filter_map(|o| Some((o.personal_id.clone()?, o))).collect())
    }

    /// Keyed by username.
    async fn officers_where(
        &self,
        column: &'static str,
        values: &[String],
    ) -> Result<std::collections::HashMap<String, Officer>, DirectoryError> {
        let mut out = std::collections::HashMap::with_capacity(values.len());
        for chunk in values.chunks(CHUNK) {
            let sql = format!("{} WHERE {column} IN ({})", select_officers!(""), in_list(chunk.len(), 1));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(v);
            }
            for r in q.fetch_all(self.pool()).await? {
                let o = officer_of(&r)?;
                out.insert(o.username.clone(), o);
            }
        }
        Ok(out)
    }

    /// Every role of these officers (by id), per relying party, in bulk.
    pub async fn roles_of_officers(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, RolesByClient>, DirectoryError> {
        let mut out: std::collections::HashMap<String, RolesByClient> = std::collections::HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT officer_id, client_id, role FROM officer_roles WHERE officer_id IN ({})",
                in_list(chunk.len(), 1)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(v);
            }
            for r in q.fetch_all(self.pool()).await? {
                let (id, client, role): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                out.entry(id).or_default().entry(client).or_default().insert(role);
            }
        }
        Ok(out)
    }
}
