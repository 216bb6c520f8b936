//! Redis adapter, standalone (connection manager) or Cluster (cluster-async). Both reconnect by
//! themselves; every call is bounded by `op_timeout` so an outage turns into a fast
//! `Unavailable` (503 with Retry-After upstream) instead of a hang.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, RedisError, Script};

use super::{KvError, ttl_ms};
use crate::config::RedisTarget;

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

#[derive(Clone)]
pub struct RedisKv {
    conn: Conn,
    prefix: String,
    op_timeout: Duration,
}

// Scripts run atomically on the server; each touches the keys it declares, so Cluster routes
// them by their (shared) slot.
const MARK_USED: &str = "local v = redis.call('GET', KEYS[1]) if not v then return false end if string.sub(v, 1, string.len(ARGV[1])) ~= ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return v";
const INCR_TTL: &str =
    "local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";
const SADD_TTL: &str = "redis.call('SADD', KEYS[1], ARGV[1]) if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 1";
const SET_INDEXED: &str = "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) redis.call('SADD', KEYS[2], ARGV[3]) if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end return 1";

impl RedisKv {
    /// Builds the client without waiting for the server, so an instance can start while Redis
    /// is briefly away; `/readyz` reports it until it is back.
    pub async fn connect(target: &RedisTarget, prefix: &str, op_timeout: Duration) -> Result<Self, KvError> {
        if prefix.contains('{') || prefix.contains('}') {
            return Err(KvError::Misuse("key prefix must not contain hash-tag braces".into()));
        }
        let conn = match target {
            RedisTarget::Standalone(url) => {
                let client = redis::Client::open(url.as_str()).map_err(unavailable)?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(op_timeout))
                    .set_response_timeout(Some(op_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_secs(1));
                Conn::Single(ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?)
            }
            RedisTarget::Cluster(nodes) => {
                let client = redis::cluster::ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                    .connection_timeout(op_timeout)
                    .response_timeout(op_timeout)
                    .retries(1)
                    .build()
                    .map_err(unavailable)?;
                let conn = tokio::time::timeout(op_timeout * 4, client.get_async_connection())
                    .await
                    .map_err(|_| KvError::Unavailable("timed out connecting to the cluster".into()))?
                    .map_err(unavailable)?;
                Conn::Cluster(conn)
            }
        };
        Ok(Self { conn, prefix: prefix.to_owned(), op_timeout })
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self.conn, Conn::Cluster(_))
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn run<T: FromRedisValue>(&self, cmd: Cmd) -> Result<T, KvError> {
        match self.conn.clone() {
            Conn::Single(mut c) => self.bounded(cmd.query_async(&mut c)).await,
            Conn::Cluster(mut c) => self.bounded(cmd.query_async(&mut c)).await,
        }
    }

    async fn script<T: FromRedisValue>(&self, src: &str, keys: &[String], args: &[&[u8]]) -> Result<T, KvError> {
        async fn go<T: FromRedisValue, C: ConnectionLike>(
            s: &Script,
            keys: &[String],
            args: &[&[u8]],
            c: &mut C,
        ) -> redis::RedisResult<T> {
            let mut inv = s.prepare_invoke();
            for k in keys {
                inv.key(k);
            }
            for a in args {
                inv.arg(*a);
            }
            inv.invoke_async(c).await
        }
        let script = Script::new(src);
        match self.conn.clone() {
            Conn::Single(mut c) => self.bounded(go(&script, keys, args, &mut c)).await,
            Conn::Cluster(mut c) => self.bounded(go(&script, keys, args, &mut c)).await,
        }
    }

    async fn bounded<T>(&self, fut: impl Future<Output = redis::RedisResult<T>>) -> Result<T, KvError> {
        match tokio::time::timeout(self.op_timeout, fut).await {
            Ok(r) => r.map_err(unavailable),
            Err(_) => Err(unavailable_msg("timed out")),
        }
    }

    pub async fn ping(&self) -> Result<(), KvError> {
        self.run::<String>(redis::cmd("PING")).await.map(|_| ())
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("PX").arg(ttl_ms(ttl));
        self.run::<()>(cmd).await
    }

    pub async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, KvError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("NX").arg("PX").arg(ttl_ms(ttl));
        Ok(self.run::<Option<String>>(cmd).await?.is_some())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(key));
        self.run(cmd).await
    }

    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(self.key(key));
        self.run(cmd).await
    }

    pub async fn delete(&self, key: &str) -> Result<(), KvError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(key));
        self.run::<()>(cmd).await
    }

    pub async fn mark_used(
        &self,
        key: &str,
        prefix: &[u8],
        marker: &[u8],
        ttl: Duration,
    ) -> Result<Option<Vec<u8>>, KvError> {
        let ttl = ttl_ms(ttl).to_string();
        self.script(MARK_USED, &[self.key(key)], &[prefix, marker, ttl.as_bytes()]).await
    }

    pub async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, KvError> {
        let ttl = ttl_ms(ttl).to_string();
        self.script(INCR_TTL, &[self.key(key)], &[ttl.as_bytes()]).await
    }

    pub async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), KvError> {
        let ttl = ttl_ms(ttl).to_string();
        self.script::<i64>(SADD_TTL, &[self.key(key)], &[member.as_bytes(), ttl.as_bytes()]).await.map(|_| ())
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> Result<(), KvError> {
        let mut cmd = redis::cmd("SREM");
        cmd.arg(self.key(key)).arg(member);
        self.run::<()>(cmd).await
    }

    pub async fn set_members(&self, key: &str) -> Result<Vec<String>, KvError> {
        let mut cmd = redis::cmd("SMEMBERS");
        cmd.arg(self.key(key));
        self.run(cmd).await
    }

    pub async fn set_indexed(&self, key: &str, value: &[u8], ttl: Duration, index: &str) -> Result<(), KvError> {
        let ttl = ttl_ms(ttl).to_string();
        self.script::<i64>(SET_INDEXED, &[self.key(key), self.key(index)], &[value, ttl.as_bytes(), key.as_bytes()])
            .await
            .map(|_| ())
    }
}

fn unavailable(e: RedisError) -> KvError {
    unavailable_msg(&e.to_string())
}

fn unavailable_msg(msg: &str) -> KvError {
    metrics::counter!("store_errors_total", "store" => "kv", "kind" => "unavailable").increment(1);
    KvError::Unavailable(msg.to_owned())
}
