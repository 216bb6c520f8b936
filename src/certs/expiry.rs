//! The expiry notification job: every `cert_expiry_check_secs`, the active certificates ending
//! within `cert_expiry_notify_days` are counted per unit and the administrators told, through
//! the log, the `certificates_expiring` gauge and a [`Notifier`] (a log line now; e-mail and
//! SMS later implement the same trait).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::queries::Expiring;
use super::registry::{Registry, RegistryError, Who};

/// What one unit's administrators are told.
#[derive(Clone, Debug)]
pub struct ExpiryNotice {
    pub unit_id: String,
    pub unit_code: String,
    pub unit_name: String,
    pub within_days: u64,
    /// The certificates, soonest first.
    pub certificates: Vec<Expiring>,
}

/// How administrators are told; e-mail and SMS later.
pub trait Notifier: Send + Sync {
    fn notify<'a>(&'a self, notice: &'a ExpiryNotice) -> BoxFuture<'a, ()>;
}

/// Writes each notice to the log (a warning, so it reaches whoever watches warnings).
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn notify<'a>(&'a self, n: &'a ExpiryNotice) -> BoxFuture<'a, ()> {
        let soonest = n.certificates.iter().map(|e| e.certificate.not_after).min().unwrap_or_default();
        tracing::warn!(
            unit = %n.unit_code,
            unit_name = %n.unit_name,
            certificates = n.certificates.len(),
            within_days = n.within_days,
            soonest_not_after = soonest,
            "officers' certificates expire soon: renew them"
        );
        Box::pin(std::future::ready(()))
    }
}

/// One pass: notices per unit (units without expiring certificates are not bothered). The
/// gauge is set to the province-wide count.
pub async fn check(registry: &Registry, within_days: u64, notifier: &dyn Notifier) -> Result<usize, RegistryError> {
    let all = registry.expiring(Who::Operator, None, within_days as i64).await?;
    metrics::gauge!("certificates_expiring", "within_days" => within_days.to_string()).set(all.len() as f64);
    let mut by_unit: BTreeMap<String, ExpiryNotice> = BTreeMap::new();
    for e in all {
        by_unit
            .entry(e.unit_id.clone())
            .or_insert_with(|| ExpiryNotice {
                unit_id: e.unit_id.clone(),
                unit_code: e.unit_code.clone(),
                unit_name: e.unit_name.clone(),
                within_days,
                certificates: Vec::new(),
            })
            .certificates
            .push(e);
    }
    for notice in by_unit.values() {
        notifier.notify(notice).await;
        metrics::counter!("certificate_expiry_notices_total").increment(1);
    }
    Ok(by_unit.len())
}

/// Runs [`check`] every `every` (not at all when zero).
pub fn spawn(registry: Registry, within_days: u64, every: Duration, notifier: Arc<dyn Notifier>) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = check(&registry, within_days, notifier.as_ref()).await {
                tracing::error!(error = %e, "certificate expiry check failed");
            }
        }
    });
}
