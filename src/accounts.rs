//! People who log in, whatever the method: citizens (keyed by their e-ID personal ID) and,
//! later, officers. The profile holds the claims last verified for them.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::store::{Db, DbError};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub kind: String,
    pub external_key: String,
    /// OIDC claims (standard names plus ours), refreshed at each login.
    pub profile: serde_json::Value,
}

impl Db {
    /// Creates the account on first login, refreshes its profile afterwards. The internal id
    /// never changes, so pairwise subjects stay stable.
    pub async fn upsert_account(
        &self,
        kind: &str,
        external_key: &str,
        profile: &serde_json::Value,
        now: i64,
    ) -> Result<Account, DbError> {
        let sql = concat!(
            "INSERT INTO accounts (id, kind, external_key, profile, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ",
            "ON CONFLICT (external_key) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at"
        );
        let id = self.write_account(sql, kind, external_key, profile, now).await?;
        Ok(Account { id, kind: kind.to_owned(), external_key: external_key.to_owned(), profile: profile.clone() })
    }

    /// The account with this key, created with `profile` if there is none; an existing
    /// profile is left as it is. For a person known only second-hand (an organisation's legal
    /// representative), whose own login keeps their profile current.
    pub async fn ensure_account(
        &self,
        kind: &str,
        external_key: &str,
        profile: &serde_json::Value,
        now: i64,
    ) -> Result<String, DbError> {
        let sql = concat!(
            "INSERT INTO accounts (id, kind, external_key, profile, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ",
            "ON CONFLICT (external_key) DO NOTHING"
        );
        self.write_account(sql, kind, external_key, profile, now).await
    }

    /// Runs an insert of an account (binding id, kind, key, profile, time) and returns the id
    /// the key has afterwards, new or old.
    async fn write_account(
        &self,
        sql: &'static str,
        kind: &str,
        external_key: &str,
        profile: &serde_json::Value,
        now: i64,
    ) -> Result<String, DbError> {
        sqlx::query(sql)
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(kind)
            .bind(external_key)
            .bind(profile.to_string())
            .bind(now)
            .execute(self.pool())
            .await?;
        let row = sqlx::query("SELECT id FROM accounts WHERE external_key = $1")
            .bind(external_key)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn account(&self, id: &str) -> Result<Option<Account>, DbError> {
        let row = sqlx::query("SELECT id, kind, external_key, profile FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let profile: String = r.try_get(3)?;
        Ok(Some(Account {
            id: r.try_get(0)?,
            kind: r.try_get(1)?,
            external_key: r.try_get(2)?,
            profile: serde_json::from_str(&profile).map_err(|e| DbError::Query(e.to_string()))?,
        }))
    }
}
