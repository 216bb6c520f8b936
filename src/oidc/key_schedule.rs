//! Keeps the key ring current on every instance: reloads it from the database (so a rotation by
//! another instance or by `xacthuc keys rotate` is picked up) and rotates when the active keys
//! reach their age. One instance rotates at a time, under a lock in the session store.

use std::time::Duration;

use super::provider::Provider;
use crate::clock::unix_now;
use crate::tokens::KeyStore;

/// Retired keys stay in JWKS this long: far beyond any JWT we sign (minutes), so relying
/// parties with cached tokens and clocks a little off are never caught out.
pub const PUBLISH_RETIRED_SECS: i64 = 86_400;

pub fn spawn(p: Provider, reload_every: Duration, rotate_after: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(reload_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = maintain(&p, rotate_after).await {
                tracing::warn!(error = %e, "key maintenance failed; will retry");
            }
        }
    });
}

pub async fn maintain(p: &Provider, rotate_after: Duration) -> Result<(), String> {
    let t = unix_now();
    let records = p.db.load_keys().await.map_err(|e| e.to_string())?;
    let newest_active = records.iter().filter(|r| r.retire_at.is_none()).map(|r| r.created_at).max();
    let due = newest_active.is_none_or(|c| t - c >= rotate_after.as_secs() as i64);
    if due && p.kv.set_nx("keys:rotation-lock", b"1", Duration::from_secs(120)).await.map_err(|e| e.to_string())? {
        tracing::info!("rotating signing keys (scheduled)");
        p.keys.rotate(&p.db, t, PUBLISH_RETIRED_SECS).await.map_err(|e| e.to_string())?;
        return Ok(());
    }
    p.keys.reload(&p.db, t).await.map_err(|e| e.to_string())
}
