//! Delivering the outbox: each receiver's oldest pending change, with exponential back-off.

use std::time::Duration;

use super::push::{self, Outcome};
use crate::oidc::Provider;
use crate::store::DbError;

/// First retry after this many seconds, doubling up to [`MAX_BACKOFF_SECS`].
pub const BASE_BACKOFF_SECS: i64 = 2;
pub const MAX_BACKOFF_SECS: i64 = 3600;
/// After this many attempts (about a day and a half of back-off) a change is `failed`: an
/// operator looks at `last_error` and the audit log.
pub const MAX_ATTEMPTS: i64 = 40;
/// How long one instance holds a row while sending it.
const LEASE_SECS: i64 = 60;
/// Receivers served per pass.
const BATCH: i64 = 100;

/// Delivers what is due at `now`; returns how many changes were delivered.
pub async fn tick(p: &Provider, now: i64) -> Result<usize, DbError> {
    let receivers = p.db.receivers().await?;
    let mut delivered = 0;
    for (d, lease_until) in p.db.pending_heads(BATCH).await? {
        if d.next_attempt_at > now || lease_until > now {
            continue;
        }
        let Some(r) = receivers.iter().find(|r| r.id == d.receiver_id) else { continue };
        if !p.db.lease_delivery(&d.id, now, LEASE_SECS).await? {
            continue;
        }
        let outcome = push::send(p, r, &d).await;
        let kind = r.kind.as_str();
        match outcome {
            Outcome::Delivered => {
                delivered += 1;
                metrics::counter!("provisioning_deliveries_total", "kind" => kind, "outcome" => "delivered")
                    .increment(1);
                p.db.record_attempt(&d.id, "delivered", now, None, now).await?;
            }
            Outcome::Refused(why) => {
                metrics::counter!("provisioning_deliveries_total", "kind" => kind, "outcome" => "refused").increment(1);
                tracing::error!(receiver = %r.id, delivery = %d.id, error = %why, "provisioning refused by the receiver; not retried");
                p.db.record_attempt(&d.id, "failed", now, Some(&why), now).await?;
            }
            Outcome::Retry(why) => {
                metrics::counter!("provisioning_deliveries_total", "kind" => kind, "outcome" => "retry").increment(1);
                let attempts = d.attempts + 1;
                let status = if attempts >= MAX_ATTEMPTS { "failed" } else { "pending" };
                tracing::warn!(receiver = %r.id, delivery = %d.id, attempts, error = %why, "provisioning not delivered");
                p.db.record_attempt(&d.id, status, now + backoff(attempts), Some(&why), now).await?;
            }
        }
    }
    Ok(delivered)
}

/// Seconds before attempt `attempts + 1`.
pub fn backoff(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    BASE_BACKOFF_SECS.saturating_mul(1i64 << exp).min(MAX_BACKOFF_SECS)
}

/// Runs [`tick`] every `every` until the process ends.
pub fn spawn(p: Provider, every: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = tick(&p, crate::clock::unix_now()).await {
                tracing::warn!(error = %e, "provisioning pass failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), 2);
        assert_eq!(backoff(2), 4);
        assert_eq!(backoff(5), 32);
        assert_eq!(backoff(30), MAX_BACKOFF_SECS);
    }
}
