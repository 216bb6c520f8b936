//! Applies one batch of an import's planned rows in one transaction: multi-row inserts for new
//! officers (with their postings, provider accounts, roles and set-up links), and per-officer
//! updates for changed ones (moves go through the postings like any move).

use std::collections::HashMap;

use super::{Plan, Valid};
use crate::officers::bulk::move_in;
use crate::officers::directory::{CHUNK, values_sql};
use crate::officers::setup::{SetupPurpose, issue_setup_links_in};
use crate::officers::{DirectoryError, is_unique_violation};
use crate::store::{Db, DbError};

/// A unique-constraint violation here means another writer took a username or personal ID
/// after the checks: a conflict, and this batch is rolled back.
fn conflict(e: sqlx::Error) -> DirectoryError {
    let e = DbError::from(e);
    if is_unique_violation(&e) {
        let field = if e.to_string().contains("personal_id") { "personal_id" } else { "username" };
        DirectoryError::Conflict { field }
    } else {
        DirectoryError::Db(e)
    }
}

/// Applies the batch; returns (username, token) of the set-up links of the officers created.
pub(crate) async fn apply(db: &Db, batch: &[Plan], now: i64) -> Result<Vec<(String, String)>, DirectoryError> {
    let created: Vec<(String, &Valid)> = batch
        .iter()
        .filter_map(|p| match p {
            Plan::Create(v) => Some((uuid::Uuid::now_v7().to_string(), v)),
            Plan::Update { .. } => None,
        })
        .collect();
    // (officer id, client, role) rows to insert, after their clients' old roles are deleted.
    let mut roles: Vec<(&str, &str, &str)> = Vec::new();
    for (id, v) in &created {
        for (client, rs) in &v.roles {
            roles.extend(rs.iter().map(|r| (id.as_str(), client.as_str(), r.as_str())));
        }
    }
    let mut tx = db.pool().begin().await?;
    for chunk in created.chunks(CHUNK) {
        insert_officers(&mut tx, chunk, now).await?;
    }
    let mut moves: HashMap<&str, Vec<(&str, Option<&str>)>> = HashMap::new();
    for p in batch {
        let Plan::Update { row, id, moved, renamed, clients } = p else { continue };
        let o = &row.officer;
        sqlx::query(
            "UPDATE officers SET full_name = $1, personal_id = $2, email = $3, phone = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&o.full_name)
        .bind(&o.personal_id)
        .bind(&o.email)
        .bind(&o.phone)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        if *renamed {
            sqlx::query("UPDATE accounts SET profile = $1, updated_at = $2 WHERE id = $3")
                .bind(profile(&o.full_name))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if *moved {
            moves.entry(row.unit_id.as_str()).or_default().push((id.as_str(), o.position.as_deref()));
        }
        for client in clients {
            sqlx::query("DELETE FROM officer_roles WHERE officer_id = $1 AND client_id = $2")
                .bind(id)
                .bind(client)
                .execute(&mut *tx)
                .await?;
            let rs = row.roles.get(client).into_iter().flatten();
            roles.extend(rs.map(|r| (id.as_str(), client.as_str(), r.as_str())));
        }
    }
    for (unit_id, list) in &moves {
        move_in(&mut tx, list, unit_id, now).await?;
    }
    for chunk in roles.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO officer_roles (officer_id, client_id, role) VALUES {}",
            values_sql("(?, ?, ?)", chunk.len(), 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, client, role) in chunk {
            q = q.bind(*id).bind(*client).bind(*role);
        }
        q.execute(&mut *tx).await?;
    }
    let ids: Vec<&str> = created.iter().map(|(id, _)| id.as_str()).collect();
    let tokens = issue_setup_links_in(&mut tx, &ids, SetupPurpose::Initial, now).await?;
    tx.commit().await?;
    Ok(created.iter().map(|(_, v)| v.officer.username.clone()).zip(tokens).collect())
}

/// The provider account's profile, as [`Db::create_officer`] writes it.
fn profile(full_name: &str) -> String {
    serde_json::json!({ "name": full_name }).to_string()
}

/// New officers, their first postings and their provider accounts: three statements.
async fn insert_officers(
    conn: &mut sqlx::AnyConnection,
    rows: &[(String, &Valid)],
    now: i64,
) -> Result<(), DirectoryError> {
    let sql = format!(
        "INSERT INTO officers (id, username, full_name, personal_id, email, phone, unit_id, position, status, created_at, updated_at) VALUES {}",
        values_sql("(?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)", rows.len(), 1)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, v) in rows {
        let o = &v.officer;
        q = q
            .bind(id.as_str())
            .bind(o.username.as_str())
            .bind(o.full_name.as_str())
            .bind(o.personal_id.as_deref())
            .bind(o.email.as_deref())
            .bind(o.phone.as_deref())
            .bind(v.unit_id.as_str())
            .bind(o.position.as_deref())
            .bind(now)
            .bind(now);
    }
    q.execute(&mut *conn).await.map_err(conflict)?;
    let sql = format!(
        "INSERT INTO officer_postings (officer_id, unit_id, position, valid_from) VALUES {}",
        values_sql("(?, ?, ?, ?)", rows.len(), 1)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, v) in rows {
        q = q.bind(id.as_str()).bind(v.unit_id.as_str()).bind(v.officer.position.as_deref()).bind(now);
    }
    q.execute(&mut *conn).await?;
    let sql = format!(
        "INSERT INTO accounts (id, kind, external_key, profile, created_at, updated_at) VALUES {}",
        values_sql("(?, 'officer', ?, ?, ?, ?)", rows.len(), 1)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, v) in rows {
        q = q.bind(id.as_str()).bind(format!("officer:{id}")).bind(profile(&v.officer.full_name)).bind(now).bind(now);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}
