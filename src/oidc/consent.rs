//! Consent records (Decree 13/2023: specific, informed, recorded; the citizen can see and
//! withdraw them). Withdrawal keeps the record, marked revoked. Granting and withdrawing are
//! each written with their audit entry in one transaction.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::claims::Scopes;
use super::clients::Client;
use crate::audit::{Action, Actor, Audit, Event};
use crate::store::{Db, DbError};

/// Whether an authorization for these scopes rests on a recorded consent: trusted first-party
/// clients need none, except for scopes of personal data (the personal ID), which are released
/// only with one.
pub fn consent_required(catalog: &Scopes, client: &Client, scopes: &[String]) -> bool {
    !client.trusted || catalog.needs_recorded_consent(scopes)
}

#[derive(Clone, Debug, Serialize)]
pub struct Consent {
    pub id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub claims: Vec<String>,
    pub granted_at: i64,
}

impl Db {
    pub async fn record_consent(
        &self,
        account_id: &str,
        client_id: &str,
        scopes: &[String],
        claims: &[String],
        now: i64,
    ) -> Result<(), DbError> {
        // The consent and its audit entry are one unit: no consent without its trace.
        let audit = Audit::new(self.clone());
        let mut tx = audit.begin().await?;
        sqlx::query("INSERT INTO consents (id, account_id, client_id, scopes, claims, granted_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(account_id)
            .bind(client_id)
            .bind(scopes.join(" "))
            .bind(claims.join(" "))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let event = Event::new(Action::ConsentGranted)
            .actor(Actor::Account(account_id.to_owned()))
            .object("client", client_id)
            .detail(json!({ "scopes": scopes, "claims": claims }));
        audit.record_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// True if some live consent of this account for this client covers every scope.
    pub async fn has_consent(&self, account_id: &str, client_id: &str, scopes: &[String]) -> Result<bool, DbError> {
        Ok(self
            .consents(account_id)
            .await?
            .iter()
            .any(|c| c.client_id == client_id && scopes.iter().all(|s| c.scopes.contains(s))))
    }

    pub async fn consents(&self, account_id: &str) -> Result<Vec<Consent>, DbError> {
        let rows = sqlx::query(
            "SELECT id, client_id, scopes, claims, granted_at FROM consents WHERE account_id = $1 AND revoked_at IS NULL ORDER BY granted_at DESC",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        let words = |s: String| s.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect();
        rows.into_iter()
            .map(|r| {
                Ok(Consent {
                    id: r.try_get(0)?,
                    client_id: r.try_get(1)?,
                    scopes: words(r.try_get(2)?),
                    claims: words(r.try_get(3)?),
                    granted_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Withdraws a consent and stops the data flowing: the client's grants for this account
    /// (refresh tokens, live access tokens at userinfo/introspection) are revoked with it.
    pub async fn revoke_consent(&self, account_id: &str, consent_id: &str, now: i64) -> Result<bool, DbError> {
        let audit = Audit::new(self.clone());
        let mut tx = audit.begin().await?;
        let row =
            sqlx::query("SELECT client_id FROM consents WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL")
                .bind(consent_id)
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = row else { return Ok(false) };
        let client_id: String = row.try_get(0)?;
        for sql in [
            "UPDATE consents SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL",
            "UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        ] {
            sqlx::query(sql).bind(now).bind(account_id).bind(&client_id).execute(&mut *tx).await?;
        }
        let event = Event::new(Action::ConsentWithdrawn)
            .actor(Actor::Account(account_id.to_owned()))
            .object("client", &client_id)
            .detail(json!({ "consent_id": consent_id }));
        audit.record_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }
}
