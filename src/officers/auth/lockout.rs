//! Brute-force protection for officer logins: failure counters per account (the username as
//! typed, so unknown usernames are counted alike and a lock reveals nothing) and per client
//! address, kept in the session store so every instance sees them. A few failures are free;
//! then each failing answer is delayed (1, 2, 4 s… capped); at the threshold the account or
//! address is locked for a while. Administrators see and lift locks with [`status`] and
//! [`unlock`].

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::store::{Kv, KvError};

/// The limits, from configuration.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Failures answered without delay.
    pub delay_after: i64,
    pub delay_max: Duration,
    /// Failures on one account that lock it.
    pub account_threshold: i64,
    /// Failures from one address that lock it (higher: a commune office is one address).
    pub ip_threshold: i64,
    /// How long a lock lasts; also the window in which failures are counted.
    pub lock_for: Duration,
}

impl Policy {
    /// The officer login limits of the configuration; every officer login method counts
    /// failures under the same policy.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            delay_after: config.officer_login_delay_after,
            delay_max: Duration::from_secs(config.officer_login_delay_max_secs),
            account_threshold: config.officer_lockout_threshold,
            ip_threshold: config.officer_lockout_ip_threshold,
            lock_for: Duration::from_secs(config.officer_lockout_secs),
        }
    }
}

/// What an administrator sees about an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub failures: i64,
    pub locked: bool,
}

/// Whether a login attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    Locked,
}

fn norm(username: &str) -> String {
    username.trim().to_lowercase()
}

fn fail_account(u: &str) -> String {
    format!("ofail:a:{}", crate::crypto::sha256_hex(&norm(u)))
}

fn lock_account(u: &str) -> String {
    format!("olock:a:{}", crate::crypto::sha256_hex(&norm(u)))
}

fn fail_ip(ip: IpAddr) -> String {
    format!("ofail:ip:{ip}")
}

fn lock_ip(ip: IpAddr) -> String {
    format!("olock:ip:{ip}")
}

async fn count(kv: &Kv, key: &str) -> Result<i64, KvError> {
    Ok(kv.get(key).await?.and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok()).unwrap_or(0))
}

/// Refuses an attempt on a locked account or from a locked address.
pub async fn gate(kv: &Kv, username: &str, ip: Option<IpAddr>) -> Result<Gate, KvError> {
    if kv.get(&lock_account(username)).await?.is_some() {
        return Ok(Gate::Locked);
    }
    if let Some(ip) = ip
        && kv.get(&lock_ip(ip)).await?.is_some()
    {
        return Ok(Gate::Locked);
    }
    Ok(Gate::Open)
}

/// Counts a failure; returns how long to wait before answering, and locks at the threshold.
pub async fn failed(kv: &Kv, policy: &Policy, username: &str, ip: Option<IpAddr>) -> Result<Duration, KvError> {
    let n = kv.incr(&fail_account(username), policy.lock_for).await?;
    if n >= policy.account_threshold {
        kv.set(&lock_account(username), b"1", policy.lock_for).await?;
        tracing::warn!(failures = n, "officer account locked after repeated login failures");
    }
    let mut worst = n;
    if let Some(ip) = ip {
        let m = kv.incr(&fail_ip(ip), policy.lock_for).await?;
        if m >= policy.ip_threshold {
            kv.set(&lock_ip(ip), b"1", policy.lock_for).await?;
            tracing::warn!(%ip, failures = m, "address locked after repeated officer login failures");
        }
        // The per-address count delays only once it is itself high, so colleagues behind one
        // NAT are not slowed by one person's typos.
        worst = worst.max(m - policy.ip_threshold / 2);
    }
    Ok(delay(policy, worst))
}

/// 0 up to `delay_after` failures, then 1 s, 2 s, 4 s… capped at `delay_max`.
pub fn delay(policy: &Policy, failures: i64) -> Duration {
    let over = failures - policy.delay_after;
    if over <= 0 {
        return Duration::ZERO;
    }
    let secs = 1u64.checked_shl((over - 1).min(30) as u32).unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(policy.delay_max)
}

/// A successful login clears the account's failures (not the address's).
pub async fn succeeded(kv: &Kv, username: &str) -> Result<(), KvError> {
    kv.delete(&fail_account(username)).await
}

/// The account's failures and lock, for administrators.
pub async fn status(kv: &Kv, username: &str) -> Result<Status, KvError> {
    Ok(Status {
        failures: count(kv, &fail_account(username)).await?,
        locked: kv.get(&lock_account(username)).await?.is_some(),
    })
}

/// Lifts an account's lock and forgets its failures (an administrator's action).
pub async fn unlock(kv: &Kv, username: &str) -> Result<(), KvError> {
    kv.delete(&lock_account(username)).await?;
    kv.delete(&fail_account(username)).await
}

/// Lifts an address's lock.
pub async fn unlock_ip(kv: &Kv, ip: IpAddr) -> Result<(), KvError> {
    kv.delete(&lock_ip(ip)).await?;
    kv.delete(&fail_ip(ip)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            delay_after: 3,
            delay_max: Duration::from_secs(8),
            account_threshold: 5,
            ip_threshold: 100,
            lock_for: Duration::from_secs(60),
        }
    }

    #[test]
    fn progressive_delay() {
        let d: Vec<u64> = (1..=9).map(|n| delay(&policy(), n).as_secs()).collect();
        assert_eq!(d, [0, 0, 0, 1, 2, 4, 8, 8, 8]);
        assert_eq!(delay(&policy(), i64::MAX), Duration::from_secs(8));
    }

    #[tokio::test]
    async fn locks_at_the_threshold_and_unlocks() {
        let kv = Kv::memory();
        let ip: Option<IpAddr> = "10.0.0.1".parse().ok();
        for _ in 0..4 {
            failed(&kv, &policy(), "CB001", ip).await.unwrap();
        }
        assert_eq!(gate(&kv, "cb001", ip).await.unwrap(), Gate::Open);
        failed(&kv, &policy(), "cb001 ", ip).await.unwrap();
        assert_eq!(gate(&kv, "cb001", ip).await.unwrap(), Gate::Locked);
        assert_eq!(status(&kv, "cb001").await.unwrap(), Status { failures: 5, locked: true });
        unlock(&kv, "cb001").await.unwrap();
        assert_eq!(status(&kv, "cb001").await.unwrap(), Status { failures: 0, locked: false });
        assert_eq!(gate(&kv, "cb001", ip).await.unwrap(), Gate::Open);
    }
}
