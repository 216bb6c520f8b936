//! Removes what can no longer be used, so the tables do not grow without bound under
//! client-credentials traffic and refresh rotation. A day of slack keeps recent rows for
//! investigation; consents are never purged (they are the legal record).

use std::time::Duration;

use crate::store::{Db, DbError};

const KEEP_EXPIRED_SECS: i64 = 86_400;
const KEEP_DELIVERIES_SECS: i64 = 30 * 86_400;

impl Db {
    /// Deletes expired refresh tokens and grants, and old logout-delivery records. Returns the
    /// number of rows removed.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, DbError> {
        let cutoff = now - KEEP_EXPIRED_SECS;
        let mut removed = 0;
        for (sql, t) in [
            ("DELETE FROM refresh_tokens WHERE expires_at < $1", cutoff),
            ("DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE expires_at < $1)", cutoff),
            ("DELETE FROM grants WHERE expires_at < $1", cutoff),
            ("DELETE FROM logout_deliveries WHERE updated_at < $1", now - KEEP_DELIVERIES_SECS),
        ] {
            removed += sqlx::query(sql).bind(t).execute(self.pool()).await?.rows_affected();
        }
        Ok(removed)
    }
}

pub fn spawn(db: Db, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match db.purge_expired(crate::clock::unix_now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "purged expired tokens and grants"),
                Err(e) => tracing::warn!(error = %e, "purge failed; will retry"),
            }
        }
    });
}
