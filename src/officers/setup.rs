//! One-time set-up links: how an officer gets a password without anyone choosing it for them.
//! Creation and import issue one; an administrator's reset issues one and voids the older ones.
//! Only the token's hash is stored; a link works once and expires.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::DirectoryError;
use crate::crypto::{random_token, sha256_hex};
use crate::store::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupPurpose {
    /// A new account's first password.
    Initial,
    /// A password reset (or second-factor recovery) by an administrator.
    Reset,
}

impl SetupPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            SetupPurpose::Initial => "initial",
            SetupPurpose::Reset => "reset",
        }
    }

    /// How long a link lives: a week for a new account, a day for a reset.
    pub fn ttl_secs(self) -> i64 {
        match self {
            SetupPurpose::Initial => 7 * 24 * 3600,
            SetupPurpose::Reset => 24 * 3600,
        }
    }
}

/// The path an officer opens, given the token.
pub fn setup_path(token: &str) -> String {
    format!("/officer/setup?token={token}")
}

impl Db {
    /// Issues a link for the officer and voids the links issued before it.
    pub async fn issue_setup_link(
        &self,
        officer_id: &str,
        purpose: SetupPurpose,
        now: i64,
    ) -> Result<String, DirectoryError> {
        let token = random_token();
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE officer_setup_links SET used_at = $1 WHERE officer_id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(officer_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO officer_setup_links (token_hash, officer_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&token))
        .bind(officer_id)
        .bind(purpose.as_str())
        .bind(now)
        .bind(now + purpose.ttl_secs())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The officer a live link belongs to, without using it (to show the form).
    pub async fn peek_setup_link(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<(String, SetupPurpose)>, DirectoryError> {
        if token.len() > 64 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT officer_id, purpose FROM officer_setup_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(sha256_hex(token))
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let purpose: String = r.try_get(1)?;
        let purpose = if purpose == "reset" { SetupPurpose::Reset } else { SetupPurpose::Initial };
        Ok(Some((r.try_get(0)?, purpose)))
    }

    /// Uses the link once (atomically): the officer it belonged to, or `None` if it is unknown,
    /// used or expired.
    pub async fn use_setup_link(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<(String, SetupPurpose)>, DirectoryError> {
        let Some(found) = self.peek_setup_link(token, now).await? else { return Ok(None) };
        let n = sqlx::query("UPDATE officer_setup_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(sha256_hex(token))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok((n == 1).then_some(found))
    }
}

/// Issues one link per officer inside the caller's transaction, voiding their older links: a
/// couple of statements per [`CHUNK`](super::directory::CHUNK) officers, for imports and bulk
/// resets. Returns the tokens in the order of `officer_ids`.
pub(crate) async fn issue_setup_links_in(
    conn: &mut sqlx::AnyConnection,
    officer_ids: &[&str],
    purpose: SetupPurpose,
    now: i64,
) -> Result<Vec<String>, DirectoryError> {
    use super::directory::{CHUNK, in_list, values_sql};
    let mut tokens = Vec::with_capacity(officer_ids.len());
    for chunk in officer_ids.chunks(CHUNK) {
        let void = format!(
            "UPDATE officer_setup_links SET used_at = $1 WHERE used_at IS NULL AND officer_id IN ({})",
            in_list(chunk.len(), 2)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(void)).bind(now);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
        let fresh: Vec<String> = chunk.iter().map(|_| random_token()).collect();
        let insert = format!(
            "INSERT INTO officer_setup_links (token_hash, officer_id, purpose, created_at, expires_at) VALUES {}",
            values_sql("(?, ?, ?, ?, ?)", chunk.len(), 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(insert));
        for (id, token) in chunk.iter().zip(&fresh) {
            q = q.bind(sha256_hex(token)).bind(*id).bind(purpose.as_str()).bind(now).bind(now + purpose.ttl_secs());
        }
        q.execute(&mut *conn).await?;
        tokens.extend(fresh);
    }
    Ok(tokens)
}
