//! The same storage and session-store conformance suites on every backend: SQLite and the
//! in-process store always; PostgreSQL, Redis and a Redis Cluster started by the test when
//! available (required under CI=true). Test names carry the backend so the log shows which ran.

mod support;

use std::sync::Arc;
use std::time::Duration;

use xacthuc::config::RedisTarget;
use xacthuc::store::kv::RedisKv;
use xacthuc::store::kv::hash_tagged;
use xacthuc::store::{Db, Kv, KvError};

async fn db_suite(db: &Db) {
    assert_eq!(db.setting("absent").await.unwrap(), None);
    db.set_setting("install_id", "a", 1).await.unwrap();
    assert_eq!(db.setting("install_id").await.unwrap().as_deref(), Some("a"));
    db.set_setting("install_id", "b", 2).await.unwrap();
    assert_eq!(db.setting("install_id").await.unwrap().as_deref(), Some("b"));
    // Unicode survives the round trip on both dialects.
    db.set_setting("name", "Nguyễn Văn An", 3).await.unwrap();
    assert_eq!(db.setting("name").await.unwrap().as_deref(), Some("Nguyễn Văn An"));
    // Concurrent first writers agree on one winner.
    let db2 = Arc::new(db.clone());
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let db = db2.clone();
            tokio::spawn(async move { db.setting_or_insert("race", &format!("v{i}"), 0).await.unwrap() })
        })
        .collect();
    let mut winners = std::collections::HashSet::new();
    for h in handles {
        winners.insert(h.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "all writers must see the same value: {winners:?}");
    // Expired grants and refresh tokens are purged; live ones stay.
    use xacthuc::oidc::grants::Grant;
    let grant = |id: &str, expires_at: i64| Grant {
        id: id.into(),
        client_id: "c".into(),
        account_id: None,
        sid: None,
        scopes: vec![],
        auth_time: None,
        acr: None,
        amr: vec![],
        cert_thumbprint: None,
        expires_at,
        revoked: false,
        dpop_jkt: None,
    };
    let now = 10_000_000;
    assert!(db.insert_grant(&grant("old", now - 200_000), 0).await.unwrap());
    assert!(db.insert_grant(&grant("live", now + 100), 0).await.unwrap());
    db.issue_refresh_token("old", 1_000, now - 200_000).await.unwrap();
    let live_rt = db.issue_refresh_token("live", 100, now).await.unwrap();
    assert!(db.purge_expired(now).await.unwrap() >= 2);
    assert!(db.grant("old").await.unwrap().is_none());
    assert!(db.grant("live").await.unwrap().is_some());
    assert!(matches!(
        db.use_refresh_token(&live_rt, "successor", "c", now).await.unwrap(),
        xacthuc::oidc::grants::RefreshUse::Fresh { .. }
    ));
    // Migrations are idempotent.
    db.migrate().await.unwrap();
    db.ping().await.unwrap();
}

async fn kv_suite(kv: &Kv) {
    let ttl = Duration::from_secs(30);
    kv.ping().await.unwrap();

    kv.set("a", b"1", ttl).await.unwrap();
    assert_eq!(kv.get("a").await.unwrap().as_deref(), Some(&b"1"[..]));
    kv.delete("a").await.unwrap();
    assert_eq!(kv.get("a").await.unwrap(), None);

    // TTL expiry.
    kv.set("short", b"x", Duration::from_millis(100)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(kv.get("short").await.unwrap(), None, "expired value must be gone");

    // set_nx: first wins.
    assert!(kv.set_nx("jti", b"1", ttl).await.unwrap());
    assert!(!kv.set_nx("jti", b"2", ttl).await.unwrap());
    assert_eq!(kv.get("jti").await.unwrap().as_deref(), Some(&b"1"[..]));

    // take: exactly one of many concurrent callers gets the value.
    kv.set("code", b"secret", ttl).await.unwrap();
    let takers: Vec<_> = (0..64)
        .map(|_| {
            let kv = kv.clone();
            tokio::spawn(async move { kv.take("code").await.unwrap() })
        })
        .collect();
    let mut got = 0;
    for t in takers {
        if t.await.unwrap().is_some() {
            got += 1;
        }
    }
    assert_eq!(got, 1, "take-once must hand the value to exactly one caller");
    assert_eq!(kv.get("code").await.unwrap(), None);

    // mark_used: of concurrent callers exactly one sees the unmarked value; the others see
    // the marker it left; a missing key is nothing.
    kv.set("once", b"the-code-data", ttl).await.unwrap();
    let markers: Vec<_> = (0..32)
        .map(|i| {
            let kv = kv.clone();
            tokio::spawn(
                async move { kv.mark_used("once", b"used:", format!("used:{i}").as_bytes(), ttl).await.unwrap() },
            )
        })
        .collect();
    let mut fresh = 0;
    for m in markers {
        let seen = m.await.unwrap().expect("the key exists");
        if seen == b"the-code-data" {
            fresh += 1;
        } else {
            assert!(seen.starts_with(b"used:"), "a later caller sees the marker");
        }
    }
    assert_eq!(fresh, 1, "exactly one caller may mark the value used");
    assert!(kv.get("once").await.unwrap().unwrap().starts_with(b"used:"));
    assert_eq!(kv.mark_used("missing", b"used:", b"used:x", ttl).await.unwrap(), None);

    // incr with TTL from the first increment.
    let counters: Vec<_> = (0..50)
        .map(|_| {
            let kv = kv.clone();
            tokio::spawn(async move { kv.incr("rate", Duration::from_millis(400)).await.unwrap() })
        })
        .collect();
    let mut seen: Vec<i64> = Vec::new();
    for c in counters {
        seen.push(c.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=50).collect::<Vec<_>>(), "increments are atomic");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(kv.incr("rate", Duration::from_secs(1)).await.unwrap(), 1, "the window expired");

    // Per-user sets.
    let user = hash_tagged("u:42", ":sessions");
    kv.set_add(&user, "s1", ttl).await.unwrap();
    kv.set_add(&user, "s2", ttl).await.unwrap();
    kv.set_add(&user, "s2", ttl).await.unwrap();
    let mut m = kv.set_members(&user).await.unwrap();
    m.sort();
    assert_eq!(m, vec!["s1", "s2"]);
    kv.set_remove(&user, "s1").await.unwrap();
    assert_eq!(kv.set_members(&user).await.unwrap(), vec!["s2"]);
    assert!(kv.set_members("nobody").await.unwrap().is_empty());

    // A value and its index together, on one slot.
    let sid = hash_tagged("u:42", ":sid:abc");
    kv.set_indexed(&sid, b"session", ttl, &user).await.unwrap();
    assert_eq!(kv.get(&sid).await.unwrap().as_deref(), Some(&b"session"[..]));
    assert!(kv.set_members(&user).await.unwrap().contains(&sid));
    let misuse = kv.set_indexed("no-tag", b"x", ttl, &user).await;
    assert!(matches!(misuse, Err(KvError::Misuse(_))), "keys on different slots are refused");

    // Binary values survive.
    let bin: Vec<u8> = (0..=255).collect();
    kv.set("bin", &bin, ttl).await.unwrap();
    assert_eq!(kv.take("bin").await.unwrap(), Some(bin));
}

#[tokio::test]
async fn storage_on_sqlite() {
    let (db, _dir) = support::sqlite_db().await;
    db_suite(&db).await;
    eprintln!("storage suite passed on SQLite");
}

#[tokio::test]
async fn storage_on_postgres() {
    let Some(pg) = support::pg_db().await else { return };
    db_suite(&pg.db).await;
    eprintln!("storage suite passed on PostgreSQL");
    pg.drop_db().await;
}

#[tokio::test]
async fn sessions_on_memory() {
    kv_suite(&Kv::memory()).await;
    eprintln!("session-store suite passed on the in-process store");
}

#[tokio::test]
async fn sessions_on_redis() {
    let Some(kv) = support::redis_kv().await else { return };
    assert_eq!(kv.backend_name(), "redis");
    kv_suite(&kv).await;
    eprintln!("session-store suite passed on Redis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_on_redis_cluster() {
    let Some(cluster) = tokio::task::spawn_blocking(support::RedisCluster::start).await.unwrap() else { return };
    let kv = RedisKv::connect(&RedisTarget::Cluster(cluster.urls()), &support::unique("t:"), Duration::from_secs(2))
        .await
        .unwrap();
    let kv = Kv::Redis(kv);
    assert_eq!(kv.backend_name(), "redis-cluster");
    kv_suite(&kv).await;
    eprintln!("session-store suite passed on a 3-master Redis Cluster");
    drop(cluster);
}

#[tokio::test]
async fn redis_down_fails_fast() {
    // Nothing listens on this port: every call must fail within the bounded timeout.
    let port = support::free_port();
    let kv = RedisKv::connect(
        &RedisTarget::Standalone(format!("redis://127.0.0.1:{port}")),
        "t:",
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    let kv = Kv::Redis(kv);
    let start = std::time::Instant::now();
    let err = kv.get("x").await.unwrap_err();
    assert!(matches!(err, KvError::Unavailable(_)), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
}
