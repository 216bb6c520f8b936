//! Instance-wide settings that survive restarts. Small, but it is also the storage round trip
//! that the backend test suite exercises on every database.

use sqlx::Row;

use super::{Db, DbError};

impl Db {
    pub async fn setting(&self, name: &str) -> Result<Option<String>, DbError> {
        let row =
            sqlx::query("SELECT value FROM settings WHERE name = $1").bind(name).fetch_optional(self.pool()).await?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
    }

    /// Inserts or replaces; the upsert syntax is shared by SQLite and PostgreSQL.
    pub async fn set_setting(&self, name: &str, value: &str, now: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Inserts only if absent and returns the value that won, so concurrent first starts of
    /// several instances agree on one value.
    pub async fn setting_or_insert(&self, name: &str, value: &str, now: i64) -> Result<String, DbError> {
        sqlx::query("INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value)
            .bind(now)
            .execute(self.pool())
            .await?;
        self.setting(name).await?.ok_or_else(|| DbError::Query(format!("setting {name} vanished after insert")))
    }
}
