//! Complete citizen logins against a real `xacthuc dev` on free ports (its in-process mocks).
//! Needs the built binaries, so it is ignored by default:
//!
//!   cargo build -p xacthuc -p xacthuc-mocks
//!   cargo test -p xacthuc-bench --test xacthuc_dev -- --ignored --nocapture
//!
//! `XACTHUC_BIN` / `XACTHUC_MOCKS_BIN` name other binaries (default: the target dir's debug ones).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use xacthuc_bench::run::{RunOptions, run};
use xacthuc_bench::scenario::{LoadFile, Overrides, Scenario};

fn target_bin(name: &str, var: &str) -> PathBuf {
    if let Ok(p) = std::env::var(var) {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target"));
    target.join("debug").join(name)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scenario_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/citizen-login.toml")
}

#[tokio::test]
async fn an_unreachable_provider_is_an_error_not_a_panic() {
    let o = Overrides {
        issuer: Some(format!("http://127.0.0.1:{}", free_port())),
        client_secret: Some("x".into()),
        identities_file: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/two-citizens.csv")),
        load: LoadFile { users: Some(1), iterations: Some(1), ..Default::default() },
        ..Default::default()
    };
    let sc = Arc::new(Scenario::load(&scenario_path(), &o).unwrap());
    let err = run(sc, RunOptions { pids: vec![], quiet: true, label: String::new() }).await.err().unwrap();
    assert!(format!("{err:#}").contains("cannot reach the provider"), "{err:#}");
}

#[tokio::test]
#[ignore = "needs the xacthuc and xacthuc-mocks binaries: see the module comment"]
async fn citizens_log_in_to_xacthuc_dev() {
    let (xacthuc, mocks) = (target_bin("xacthuc", "XACTHUC_BIN"), target_bin("xacthuc-mocks", "XACTHUC_MOCKS_BIN"));
    assert!(xacthuc.exists(), "{} is missing: cargo build -p xacthuc", xacthuc.display());
    assert!(mocks.exists(), "{} is missing: cargo build -p xacthuc-mocks", mocks.display());
    let dir = std::env::temp_dir().join(format!("xacthuc-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let op = free_port();
    let env: Vec<(String, String)> = [
        ("XACTHUC_PORT", op.to_string()),
        ("XACTHUC_HOST", "127.0.0.1".into()),
        ("XACTHUC_ISSUER", format!("http://localhost:{op}")),
        ("XACTHUC_MOCK_VNEID_PORT", free_port().to_string()),
        ("XACTHUC_MOCK_POPULATION_PORT", free_port().to_string()),
        ("XACTHUC_MOCK_GOV_CA_PORT", free_port().to_string()),
        ("XACTHUC_PORTAL_PORT", free_port().to_string()),
        ("XACTHUC_DATA_DIR", dir.join("data").display().to_string()),
        ("XACTHUC_KEYS_DIR", dir.join("keys").display().to_string()),
        ("XACTHUC_DEV_CITIZENS", "500".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let cmd = |bin: &PathBuf| {
        let mut c = Command::new(bin);
        c.envs(env.iter().cloned()).env_remove("DATABASE_URL").env_remove("REDIS_URL");
        c
    };
    let out = cmd(&xacthuc)
        .args(["clients", "add", "--id", "bench", "--name", "Bench", "--redirect-uri"])
        .arg("http://127.0.0.1:9/bench/callback")
        .args(["--scope", "openid profile offline_access", "--grants"])
        .arg("authorization_code,refresh_token,client_credentials")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let secret =
        text.lines().find_map(|l| l.trim().strip_prefix("client_secret: ")).expect("a client secret").to_string();
    let csv = dir.join("citizens.csv");
    let st = Command::new(&mocks)
        .args(["generate", "--count", "500", "--format", "csv", "--out"])
        .arg(&csv)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let server = Server(cmd(&xacthuc).arg("dev").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let ready = format!("http://localhost:{op}/readyz");
    let t0 = Instant::now();
    while reqwest::get(&ready).await.map(|r| !r.status().is_success()).unwrap_or(true) {
        assert!(t0.elapsed() < Duration::from_secs(60), "xacthuc dev did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let base = Overrides {
        issuer: Some(format!("http://localhost:{op}")),
        client_secret: Some(secret),
        identities_file: Some(csv.clone()),
        ..Default::default()
    };
    // Five complete first-time citizen logins (login choice, e-ID form, consent, code, ID token).
    let o = Overrides { load: LoadFile { users: Some(2), iterations: Some(5), ..Default::default() }, ..base.clone() };
    let sc = Arc::new(Scenario::load(&scenario_path(), &o).unwrap());
    let r = run(sc, RunOptions { pids: vec![server.0.id()], quiet: true, label: "test".into() }).await.unwrap();
    assert_eq!((r.ops_ok, r.ops_failed), (5, 0), "{}", r.table());
    let steps: Vec<&str> = r.steps.iter().map(|s| s.name.as_str()).collect();
    for s in
        ["authorize", "submit login-choice", "submit eid-form", "submit consent", "token", "(client) verify id_token"]
    {
        assert!(steps.contains(&s), "step {s} missing: {steps:?}");
    }
    assert_eq!(r.waiting_room.logins_queued, 0);
    assert!(r.server_cpu.as_ref().unwrap().total_cpu_seconds >= 0.0);

    // Token operations on sessions made by set-up logins, and the day mix.
    for kind in ["refresh", "userinfo", "client_credentials", "sso_login", "day"] {
        let o = Overrides {
            kind: Some(kind.into()),
            scope: Some("openid profile offline_access".into()),
            identities_skip: Some(10),
            load: LoadFile { users: Some(2), iterations: Some(6), ..Default::default() },
            ..base.clone()
        };
        let sc = Arc::new(Scenario::load(&scenario_path(), &o).unwrap());
        let r = run(sc, RunOptions { pids: vec![], quiet: true, label: kind.into() }).await.unwrap();
        assert_eq!((r.ops_ok, r.ops_failed), (6, 0), "{kind}: {}", r.table());
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
