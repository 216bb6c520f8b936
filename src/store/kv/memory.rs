//! In-process adapter for development and single-instance use. Sharded mutexes keep contention
//! low under a login burst; expired entries are dropped when touched and by a periodic sweep
//! of one shard per write batch, so memory stays bounded without a background task.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::KvError;

const SHARDS: usize = 32;
const SWEEP_EVERY: u64 = 1024;

enum Value {
    Bytes(Vec<u8>),
    Counter(i64),
    Set(HashSet<String>),
}

struct Entry {
    value: Value,
    expires: Instant,
}

type Shard = HashMap<String, Entry>;

#[derive(Clone)]
pub struct MemoryKv {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
    writes: AtomicU64,
}

impl Default for MemoryKv {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
                hasher: RandomState::new(),
                writes: AtomicU64::new(0),
            }),
        }
    }
}

impl MemoryKv {
    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        lock(&self.inner.shards[self.shard_index(key)])
    }

    /// Every SWEEP_EVERY writes, drop expired entries from one shard (round robin).
    fn note_write(&self) {
        let n = self.inner.writes.fetch_add(1, Ordering::Relaxed);
        if n.is_multiple_of(SWEEP_EVERY) {
            let idx = ((n / SWEEP_EVERY) as usize) % SHARDS;
            let now = Instant::now();
            lock(&self.inner.shards[idx]).retain(|_, e| e.expires > now);
        }
    }

    fn live<'a>(shard: &'a mut Shard, key: &str) -> Option<&'a mut Entry> {
        let now = Instant::now();
        if shard.get(key).is_some_and(|e| e.expires <= now) {
            shard.remove(key);
        }
        shard.get_mut(key)
    }

    pub fn ping(&self) -> Result<(), KvError> {
        Ok(())
    }

    pub fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
        self.shard(key)
            .insert(key.to_owned(), Entry { value: Value::Bytes(value.to_vec()), expires: Instant::now() + ttl });
        self.note_write();
        Ok(())
    }

    pub fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, KvError> {
        let created = {
            let mut shard = self.shard(key);
            if Self::live(&mut shard, key).is_some() {
                false
            } else {
                shard.insert(
                    key.to_owned(),
                    Entry { value: Value::Bytes(value.to_vec()), expires: Instant::now() + ttl },
                );
                true
            }
        };
        self.note_write();
        Ok(created)
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let mut shard = self.shard(key);
        Ok(Self::live(&mut shard, key).and_then(|e| bytes_of(&e.value)))
    }

    pub fn take(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let mut shard = self.shard(key);
        Self::live(&mut shard, key);
        Ok(shard.remove(key).and_then(|e| bytes_of(&e.value)))
    }

    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        self.shard(key).remove(key);
        Ok(())
    }

    pub fn mark_used(
        &self,
        key: &str,
        prefix: &[u8],
        marker: &[u8],
        ttl: Duration,
    ) -> Result<Option<Vec<u8>>, KvError> {
        let mut shard = self.shard(key);
        match Self::live(&mut shard, key) {
            Some(e) => match &e.value {
                Value::Bytes(v) if v.starts_with(prefix) => Ok(Some(v.clone())),
                Value::Bytes(v) => {
                    let old = v.clone();
                    *e = Entry { value: Value::Bytes(marker.to_vec()), expires: Instant::now() + ttl };
                    Ok(Some(old))
                }
                _ => Err(KvError::Misuse(format!("{key} does not hold bytes"))),
            },
            None => Ok(None),
        }
    }

    pub fn incr(&self, key: &str, ttl: Duration) -> Result<i64, KvError> {
        let value = {
            let mut shard = self.shard(key);
            match Self::live(&mut shard, key) {
                Some(Entry { value: Value::Counter(n), .. }) => {
                    *n += 1;
                    *n
                }
                Some(_) => return Err(KvError::Misuse(format!("{key} is not a counter"))),
                None => {
                    shard.insert(key.to_owned(), Entry { value: Value::Counter(1), expires: Instant::now() + ttl });
                    1
                }
            }
        };
        self.note_write();
        Ok(value)
    }

    pub fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), KvError> {
        let mut shard = self.shard(key);
        Self::add_member(&mut shard, key, member, ttl)?;
        drop(shard);
        self.note_write();
        Ok(())
    }

    fn add_member(shard: &mut Shard, key: &str, member: &str, ttl: Duration) -> Result<(), KvError> {
        let expires = Instant::now() + ttl;
        match Self::live(shard, key) {
            Some(Entry { value: Value::Set(s), expires: e }) => {
                s.insert(member.to_owned());
                *e = (*e).max(expires);
            }
            Some(_) => return Err(KvError::Misuse(format!("{key} is not a set"))),
            None => {
                shard.insert(key.to_owned(), Entry { value: Value::Set(HashSet::from([member.to_owned()])), expires });
            }
        }
        Ok(())
    }

    pub fn set_remove(&self, key: &str, member: &str) -> Result<(), KvError> {
        let mut shard = self.shard(key);
        if let Some(Entry { value: Value::Set(s), .. }) = Self::live(&mut shard, key) {
            s.remove(member);
            if s.is_empty() {
                shard.remove(key);
            }
        }
        Ok(())
    }

    pub fn set_members(&self, key: &str) -> Result<Vec<String>, KvError> {
        let mut shard = self.shard(key);
        Ok(match Self::live(&mut shard, key) {
            Some(Entry { value: Value::Set(s), .. }) => s.iter().cloned().collect(),
            _ => Vec::new(),
        })
    }

    pub fn set_indexed(&self, key: &str, value: &[u8], ttl: Duration, index: &str) -> Result<(), KvError> {
        // Both keys may live in different shards: lock in a fixed order so two writers cannot
        // deadlock, and hold both so no reader sees one without the other.
        let (a, b) = (self.shard_index(key), self.shard_index(index));
        let expires = Instant::now() + ttl;
        let entry = Entry { value: Value::Bytes(value.to_vec()), expires };
        if a == b {
            let mut shard = lock(&self.inner.shards[a]);
            Self::add_member(&mut shard, index, key, ttl)?;
            shard.insert(key.to_owned(), entry);
        } else {
            let (first, second) = (a.min(b), a.max(b));
            let mut g1 = lock(&self.inner.shards[first]);
            let mut g2 = lock(&self.inner.shards[second]);
            let (key_shard, index_shard) = if a == first { (&mut *g1, &mut *g2) } else { (&mut *g2, &mut *g1) };
            Self::add_member(index_shard, index, key, ttl)?;
            key_shard.insert(key.to_owned(), entry);
        }
        self.note_write();
        Ok(())
    }

    fn shard_index(&self, key: &str) -> usize {
        (self.inner.hasher.hash_one(key) as usize) % SHARDS
    }
}

fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Bytes(b) => Some(b.clone()),
        Value::Counter(n) => Some(n.to_string().into_bytes()),
        Value::Set(_) => None,
    }
}

/// A poisoned shard only means another thread panicked mid-operation on plain data; the map
/// itself is still consistent, so keep serving rather than cascading the panic.
fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
