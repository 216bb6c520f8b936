//! The database side of the signing-key port (`tokens::KeyStore`): one row per key, private
//! half encrypted, the same SQL on SQLite and PostgreSQL.

use sqlx::Row;

use super::Db;
use crate::tokens::{Alg, KeyRecord, KeyStore, StoreError};

impl KeyStore for Db {
    async fn load_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, created_at, retire_at, expires_at, private_key_enc, public_jwk FROM signing_keys",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| -> Result<KeyRecord, StoreError> {
                let alg: String = r.try_get(1)?;
                Ok(KeyRecord {
                    kid: r.try_get(0)?,
                    alg: alg.parse::<Alg>()?,
                    created_at: r.try_get(2)?,
                    retire_at: r.try_get(3)?,
                    expires_at: r.try_get(4)?,
                    private_key_enc: r.try_get(5)?,
                    public_jwk: r.try_get(6)?,
                })
            })
            .collect()
    }

    async fn save_key(&self, rec: &KeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, created_at, retire_at, expires_at, private_key_enc, public_jwk) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&rec.kid)
        .bind(rec.alg.jose_name())
        .bind(rec.created_at)
        .bind(rec.retire_at)
        .bind(rec.expires_at)
        .bind(&rec.private_key_enc)
        .bind(&rec.public_jwk)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn update_key(&self, rec: &KeyRecord) -> Result<(), StoreError> {
        sqlx::query("UPDATE signing_keys SET retire_at = $1, expires_at = $2 WHERE kid = $3")
            .bind(rec.retire_at)
            .bind(rec.expires_at)
            .bind(&rec.kid)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn delete_key(&self, kid: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(self.pool()).await?;
        Ok(())
    }
}
