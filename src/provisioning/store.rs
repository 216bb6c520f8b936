//! The receivers and the outbox, in the database.

use serde::Serialize;
use sqlx::Row;

use super::{Change, ReceiverKind};
use crate::store::{Db, DbError};

/// A downstream system that hears of changes.
#[derive(Clone, Debug, Serialize)]
pub struct Receiver {
    pub id: String,
    pub kind: ReceiverKind,
    /// SET: where tokens are POSTed; SCIM: the base URL (with `/Users`, `/Groups` below it).
    pub endpoint: String,
    /// SET `aud`.
    pub audience: String,
    /// The bearer credential, sealed under the master key; never shown.
    #[serde(skip)]
    pub token_sealed: Option<String>,
    pub created_at: i64,
}

/// One change for one receiver, and how its delivery went.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: String,
    pub receiver_id: String,
    pub change: Change,
    /// `pending`, `delivered` or `failed` (refused for good, or out of attempts).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

fn delivery_of(r: &sqlx::any::AnyRow) -> Result<(Delivery, i64), DbError> {
    let change: String = r.try_get(2)?;
    let change = serde_json::from_str(&change).map_err(|e| DbError::Query(format!("outbox change: {e}")))?;
    Ok((
        Delivery {
            id: r.try_get(0)?,
            receiver_id: r.try_get(1)?,
            change,
            status: r.try_get(3)?,
            attempts: r.try_get(4)?,
            next_attempt_at: r.try_get(5)?,
            last_error: r.try_get(6)?,
            created_at: r.try_get(7)?,
        },
        r.try_get(8)?,
    ))
}

impl Db {
    pub async fn add_receiver(&self, r: &Receiver) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO provisioning_receivers (id, kind, endpoint, audience, token_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.id)
        .bind(r.kind.as_str())
        .bind(&r.endpoint)
        .bind(&r.audience)
        .bind(&r.token_sealed)
        .bind(r.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn receivers(&self) -> Result<Vec<Receiver>, DbError> {
        let rows = sqlx::query(
            "SELECT id, kind, endpoint, audience, token_sealed, created_at FROM provisioning_receivers ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(1)?;
                Ok(Receiver {
                    id: r.try_get(0)?,
                    kind: ReceiverKind::parse(&kind).ok_or_else(|| DbError::Query(format!("receiver kind {kind}")))?,
                    endpoint: r.try_get(2)?,
                    audience: r.try_get(3)?,
                    token_sealed: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Removes a receiver and what was still waiting for it; true if it existed.
    pub async fn remove_receiver(&self, id: &str) -> Result<bool, DbError> {
        sqlx::query("DELETE FROM provisioning_outbox WHERE receiver_id = $1 AND status = 'pending'")
            .bind(id)
            .execute(self.pool())
            .await?;
        let r = sqlx::query("DELETE FROM provisioning_receivers WHERE id = $1").bind(id).execute(self.pool()).await?;
        Ok(r.rows_affected() > 0)
    }

    /// One outbox row per receiver.
    pub async fn enqueue_change(&self, change: &Change, now: i64) -> Result<(), DbError> {
        let doc = serde_json::to_string(change).map_err(|e| DbError::Query(e.to_string()))?;
        for r in self.receivers().await? {
            sqlx::query(
                "INSERT INTO provisioning_outbox (id, receiver_id, change, status, attempts, next_attempt_at, lease_until, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, 0, $4, $4)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&r.id)
            .bind(&doc)
            .bind(now)
            .execute(self.pool())
            .await?;
        }
        Ok(())
    }

    /// Each receiver's oldest pending change with its lease end, at most `limit` receivers.
    pub(super) async fn pending_heads(&self, limit: i64) -> Result<Vec<(Delivery, i64)>, DbError> {
        let q = concat!(
            "SELECT id, receiver_id, change, status, attempts, next_attempt_at, last_error, created_at, lease_until ",
            "FROM provisioning_outbox o WHERE status = 'pending' AND NOT EXISTS (",
            "SELECT 1 FROM provisioning_outbox e WHERE e.receiver_id = o.receiver_id AND e.status = 'pending' ",
            "AND (e.created_at < o.created_at OR (e.created_at = o.created_at AND e.id < o.id))) ",
            "ORDER BY created_at, id LIMIT $1"
        );
        let rows = sqlx::query(q).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(delivery_of).collect()
    }

    /// Takes a row for `secs` if nobody holds it: true if this caller got it.
    pub(super) async fn lease_delivery(&self, id: &str, now: i64, secs: i64) -> Result<bool, DbError> {
        let r = sqlx::query(
            "UPDATE provisioning_outbox SET lease_until = $1 WHERE id = $2 AND status = 'pending' AND lease_until <= $3",
        )
        .bind(now + secs)
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records an attempt: delivered, failed for good, or to retry at `next`.
    pub(super) async fn record_attempt(
        &self,
        id: &str,
        status: &str,
        next: i64,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE provisioning_outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, lease_until = 0, \
             last_error = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The outbox, newest first, for operators and tests.
    pub async fn deliveries(&self, limit: i64) -> Result<Vec<Delivery>, DbError> {
        let q = concat!(
            "SELECT id, receiver_id, change, status, attempts, next_attempt_at, last_error, created_at, lease_until ",
            "FROM provisioning_outbox ORDER BY created_at DESC, id DESC LIMIT $1"
        );
        let rows = sqlx::query(q).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(|r| delivery_of(r).map(|(d, _)| d)).collect()
    }
}
