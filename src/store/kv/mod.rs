//! The key-value / session store port: short-lived state with TTLs (login transactions,
//! authorization codes, SSO sessions, rate counters, queues).
//!
//! Two adapters: in-process (embedded default) and Redis (standalone or Cluster). An enum rather
//! than a trait object: the set is closed, and calls stay static with no boxed futures.
//!
//! Every operation touches one key, except `set_indexed`, whose two keys must share a Redis
//! Cluster hash tag (`{...}`) so that it stays on one slot; `hash_tagged` builds such keys.

mod memory;
mod redis;

use std::time::Duration;

pub use self::memory::MemoryKv;
pub use self::redis::RedisKv;

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The store is down or too slow; callers answer 503 with Retry-After.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// A programming error such as keys on different cluster slots.
    #[error("session store misuse: {0}")]
    Misuse(String),
}

#[derive(Clone)]
pub enum Kv {
    Memory(MemoryKv),
    Redis(RedisKv),
}

/// `{tag}rest`: keys built with the same tag land on the same Redis Cluster slot.
pub fn hash_tagged(tag: &str, rest: &str) -> String {
    format!("{{{tag}}}{rest}")
}

macro_rules! dispatch {
    ($self:ident, $kv:ident => $call:expr) => {
        match $self {
            Kv::Memory($kv) => $call,
            Kv::Redis($kv) => $call.await,
        }
    };
}

impl Kv {
    pub fn memory() -> Self {
        Kv::Memory(MemoryKv::default())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Kv::Memory(_) => "memory",
            Kv::Redis(r) if r.is_cluster() => "redis-cluster",
            Kv::Redis(_) => "redis",
        }
    }

    pub async fn ping(&self) -> Result<(), KvError> {
        dispatch!(self, kv => kv.ping())
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
        dispatch!(self, kv => kv.set(key, value, ttl))
    }

    /// Sets only if absent; true when this call created it (replay guards, locks).
    pub async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, KvError> {
        dispatch!(self, kv => kv.set_nx(key, value, ttl))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        dispatch!(self, kv => kv.get(key))
    }

    /// Atomic get-and-delete: of many concurrent callers, exactly one gets the value.
    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        dispatch!(self, kv => kv.take(key))
    }

    pub async fn delete(&self, key: &str) -> Result<(), KvError> {
        dispatch!(self, kv => kv.delete(key))
    }

    /// Marks a value used in one round trip: returns what `key` held (if anything) and, unless
    /// that began with `prefix` (already marked), replaces it with `marker` for `ttl`. Of two
    /// concurrent callers exactly one sees the unmarked value.
    pub async fn mark_used(
        &self,
        key: &str,
        prefix: &[u8],
        marker: &[u8],
        ttl: Duration,
    ) -> Result<Option<Vec<u8>>, KvError> {
        dispatch!(self, kv => kv.mark_used(key, prefix, marker, ttl))
    }

    /// Increments a counter; the TTL starts with the first increment (fixed windows).
    pub async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, KvError> {
        dispatch!(self, kv => kv.incr(key, ttl))
    }

    /// Adds to a set (e.g. a user's sessions) and extends the set's TTL.
    pub async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), KvError> {
        dispatch!(self, kv => kv.set_add(key, member, ttl))
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> Result<(), KvError> {
        dispatch!(self, kv => kv.set_remove(key, member))
    }

    pub async fn set_members(&self, key: &str) -> Result<Vec<String>, KvError> {
        dispatch!(self, kv => kv.set_members(key))
    }

    /// Atomically stores `key` and records it in the set `index`: both or neither. The two keys
    /// must share a hash tag.
    pub async fn set_indexed(&self, key: &str, value: &[u8], ttl: Duration, index: &str) -> Result<(), KvError> {
        if hash_tag(key) != hash_tag(index) || hash_tag(key).is_none() {
            return Err(KvError::Misuse(format!(
                "set_indexed needs keys with one hash tag, got {key:?} and {index:?}"
            )));
        }
        dispatch!(self, kv => kv.set_indexed(key, value, ttl, index))
    }
}

fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let close = key[open + 1..].find('}')? + open + 1;
    (close > open + 1).then(|| &key[open + 1..close])
}

fn ttl_ms(ttl: Duration) -> u64 {
    // Redis rejects a zero expiry; a sub-millisecond TTL rounds up to one millisecond.
    (ttl.as_millis() as u64).max(1)
}
