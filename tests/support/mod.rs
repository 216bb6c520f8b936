//! Shared test support: real backends when configured, isolation per test, and the rule that
//! under CI=true a missing backend is a failure, never a skip.
#![allow(dead_code)]

pub mod browser;
pub mod ca;
pub mod certlogin;
pub mod keys;
pub mod officers;
pub mod op;
pub mod registry;
pub mod rp;
pub mod softhsm;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use xacthuc::config::RedisTarget;
use xacthuc::store::kv::RedisKv;
use xacthuc::store::{Db, Kv};

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Says that a backend is missing outside CI (the caller then returns); panics under CI.
pub fn skip_or_fail(what: &str) {
    assert!(!in_ci(), "CI=true but {what}: real backends are required in CI");
    eprintln!("SKIPPED (not in CI): {what}");
}

pub fn unique(tag: &str) -> String {
    format!("{tag}{}", uuid::Uuid::new_v4().simple())
}

/// A fresh embedded database in a temporary directory.
pub async fn sqlite_db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Db::connect(&url, 4, Duration::from_secs(5)).await.expect("sqlite connect");
    db.migrate().await.expect("sqlite migrate");
    (db, dir)
}

/// A database of its own on the PostgreSQL server named by DATABASE_URL.
pub struct PgDb {
    pub db: Db,
    pub url: String,
    admin_url: String,
    name: String,
}

pub async fn pg_db() -> Option<PgDb> {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        skip_or_fail("DATABASE_URL is not set");
        return None;
    };
    let url = create_pg_database(&admin_url).await;
    let db = Db::connect(&url, 4, Duration::from_secs(5)).await.expect("postgres connect");
    db.migrate().await.expect("postgres migrate");
    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
    Some(PgDb { db, url, admin_url, name })
}

/// Creates an empty database and returns its URL (no migrations).
pub async fn create_pg_database(admin_url: &str) -> String {
    let name = unique("xt_");
    let admin = Db::connect(admin_url, 1, Duration::from_secs(5)).await.expect("connect to DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(admin.pool())
        .await
        .expect("create test database");
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("DATABASE_URL has a database name");
    format!("{base}/{name}")
}

impl PgDb {
    pub async fn drop_db(self) {
        self.db.close().await;
        drop_pg_database(&self.admin_url, &self.name).await;
    }
}

pub async fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(admin) = Db::connect(admin_url, 1, Duration::from_secs(5)).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(admin.pool())
            .await;
        admin.close().await;
    }
}

/// The shared Redis named by REDIS_URL, with a key prefix of this test's own.
pub async fn redis_kv() -> Option<Kv> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        skip_or_fail("REDIS_URL is not set");
        return None;
    };
    let kv =
        RedisKv::connect(&RedisTarget::Standalone(url), &unique("t:"), Duration::from_secs(2)).await.expect("redis");
    let kv = Kv::Redis(kv);
    kv.ping().await.expect("REDIS_URL answers PING");
    Some(kv)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A port p such that p and p + 10000 (the cluster bus) are both free.
pub fn free_cluster_port() -> u16 {
    loop {
        let p = free_port();
        if p < 55000 && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
}

pub fn have(binary: &str) -> bool {
    Command::new(binary).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// A redis-server child of this test, killed on drop.
pub struct RedisProc {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    extra: Vec<String>,
}

impl RedisProc {
    pub fn start(port: u16, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut me = Self { port, dir, child: None, extra: extra.iter().map(|s| s.to_string()).collect() };
        me.restart();
        me
    }

    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--dir", &self.dir.path().display().to_string()])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < limit, "port {port} did not open within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Three masters on loopback, joined with `redis-cli --cluster create`.
pub struct RedisCluster {
    pub nodes: Vec<RedisProc>,
}

impl RedisCluster {
    pub fn start() -> Option<Self> {
        if !have("redis-server") || !have("redis-cli") {
            skip_or_fail("redis-server/redis-cli are not installed");
            return None;
        }
        let nodes: Vec<RedisProc> = (0..3)
            .map(|_| {
                RedisProc::start(
                    free_cluster_port(),
                    &["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
                )
            })
            .collect();
        let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .arg("--cluster-yes")
            .output()
            .expect("redis-cli");
        assert!(out.status.success(), "cluster create failed: {}", String::from_utf8_lossy(&out.stdout));
        // Wait until every node reports the cluster healthy.
        let start = Instant::now();
        for a in &addrs {
            let port = a.rsplit(':').next().unwrap_or_default();
            loop {
                let info = Command::new("redis-cli").args(["-p", port, "cluster", "info"]).output().expect("redis-cli");
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(start.elapsed() < Duration::from_secs(20), "cluster did not become ok");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(Self { nodes })
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| format!("redis://127.0.0.1:{}", n.port)).collect()
    }
}

pub fn xacthuc_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_xacthuc"))
}

/// A child process of this test, killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// SIGTERM, then wait: a clean stop exits 0.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The `xacthuc` binary with `args` and exactly `env` (nothing inherited but PATH).
pub fn xacthuc_cmd(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(xacthuc_bin());
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}
