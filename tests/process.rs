//! The `xacthuc` binary as an operator meets it: dev mode start and restart, production mode
//! riding out a Redis restart, and bad configuration refused with one clear line.

mod support;

use std::process::Stdio;

use std::time::{Duration, Instant};
use support::{Proc, xacthuc_cmd as xacthuc};

use base64::Engine;

async fn wait_status(client: &reqwest::Client, url: &str, want: u16, limit: Duration) -> reqwest::Response {
    let start = Instant::now();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().as_u16() == want
        {
            return r;
        }
        assert!(start.elapsed() < limit, "{url} did not answer {want} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client")
}

#[cfg(feature = "dev")]
#[tokio::test]
async fn dev_mode_serves_and_restarts_on_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let (op, portal) = (support::free_port(), support::free_port());
    let env = vec![
        ("XACTHUC_PORT", op.to_string()),
        ("XACTHUC_PORTAL_PORT", portal.to_string()),
        ("XACTHUC_ISSUER", format!("http://localhost:{op}")),
        ("XACTHUC_DATA_DIR", dir.path().join("data").display().to_string()),
        ("XACTHUC_KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("XACTHUC_MOCK_VNEID_PORT", support::free_port().to_string()),
        ("XACTHUC_MOCK_POPULATION_PORT", support::free_port().to_string()),
        ("XACTHUC_MOCK_GOV_CA_PORT", support::free_port().to_string()),
        ("XACTHUC_DEV_CITIZENS", "2000".to_string()),
    ];
    let c = client();
    for round in 0..2 {
        let child = Proc(xacthuc(&["dev"], &env).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap());
        wait_status(&c, &format!("http://127.0.0.1:{op}/healthz"), 200, Duration::from_secs(30)).await;
        let ready = wait_status(&c, &format!("http://127.0.0.1:{op}/readyz"), 200, Duration::from_secs(10)).await;
        let body: serde_json::Value = ready.json().await.unwrap();
        assert_eq!(body["database"], "ok");
        let page = c.get(format!("http://127.0.0.1:{portal}/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("lang=\"vi\""));
        // The mocks run in-process, and discovery works end to end.
        let vneid_port = &env.iter().find(|(k, _)| *k == "XACTHUC_MOCK_VNEID_PORT").unwrap().1;
        let d = c.get(format!("http://127.0.0.1:{vneid_port}/.well-known/openid-configuration")).send().await.unwrap();
        assert_eq!(d.status(), 200);
        let d = c.get(format!("http://127.0.0.1:{op}/.well-known/openid-configuration")).send().await.unwrap();
        assert_eq!(d.status(), 200);
        let metrics = c.get(format!("http://127.0.0.1:{op}/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}"), "{metrics}");
        assert_eq!(child.terminate().code(), Some(0), "round {round}: Ctrl-C/SIGTERM stops cleanly");
    }
    assert!(dir.path().join("data/xacthuc.db").exists(), "data reused across starts");
    let key = std::fs::read_to_string(dir.path().join("keys/dev-master.key")).unwrap();
    assert!(key.starts_with("dev:"), "the dev key is marked as such");
}

#[tokio::test]
async fn serve_rides_out_a_redis_restart() {
    if !support::have("redis-server") {
        support::skip_or_fail("redis-server is not installed");
        return;
    }
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        support::skip_or_fail("DATABASE_URL is not set");
        return;
    };
    let db_url = support::create_pg_database(&admin_url).await;
    let mut redis = tokio::task::spawn_blocking(|| support::RedisProc::start(support::free_port(), &[])).await.unwrap();
    let port = support::free_port();
    let master = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let env = vec![
        ("XACTHUC_HOST", "127.0.0.1".to_string()),
        ("XACTHUC_PORT", port.to_string()),
        ("XACTHUC_ISSUER", format!("http://127.0.0.1:{port}")),
        ("XACTHUC_ALLOW_INSECURE_ISSUER", "true".into()),
        ("XACTHUC_MASTER_KEY", master),
        ("XACTHUC_REDIS_TIMEOUT_MS", "300".into()),
        ("XACTHUC_METRICS_ADDR", format!("127.0.0.1:{}", support::free_port())),
        ("DATABASE_URL", db_url.clone()),
        ("REDIS_URL", format!("redis://127.0.0.1:{}", redis.port)),
        // Never contacted in this test: the national systems are only called during a login.
        ("XACTHUC_VNEID_ISSUER", "http://127.0.0.1:9".to_string()),
        ("XACTHUC_VNEID_CLIENT_SECRET", "not-a-real-secret".to_string()),
        ("XACTHUC_POPULATION_URL", "http://127.0.0.1:9".to_string()),
        ("XACTHUC_POPULATION_API_KEY", "not-a-real-key".to_string()),
    ];
    let child = Proc(xacthuc(&["serve"], &env).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let c = client();
    let ready = format!("http://127.0.0.1:{port}/readyz");
    wait_status(&c, &ready, 200, Duration::from_secs(30)).await;

    redis.kill();
    for _ in 0..5 {
        let start = Instant::now();
        let r = c.get(&ready).send().await.unwrap();
        assert_eq!(r.status(), 503, "a request needing Redis fails while it is down");
        assert!(r.headers().contains_key("retry-after"), "503 carries Retry-After");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "temporarily_unavailable");
        assert!(start.elapsed() < Duration::from_secs(3), "fails fast, took {:?}", start.elapsed());
    }
    // Liveness is unaffected: the process is fine, only a dependency is away.
    assert_eq!(c.get(format!("http://127.0.0.1:{port}/healthz")).send().await.unwrap().status(), 200);

    let redis = tokio::task::spawn_blocking(move || {
        redis.restart();
        redis
    })
    .await
    .unwrap();
    // Service resumes by itself: same process, no restart.
    wait_status(&c, &ready, 200, Duration::from_secs(15)).await;
    assert_eq!(child.terminate().code(), Some(0));
    drop(redis);
    support::drop_pg_database(&admin_url, db_url.rsplit('/').next().unwrap()).await;
}

fn run_expecting_config_error(args: &[&str], env: &[(&str, String)], key: &str) {
    let out = xacthuc(args, env).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code 2 for a bad configuration; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr}");
    assert!(lines[0].contains(&format!("`{key}`")), "names the key {key}: {stderr}");
}

#[test]
fn bad_configuration_is_one_clear_line_and_exit_2() {
    let good_master = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
    let prod = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        let mut env: Vec<(&'static str, String)> = vec![
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test".to_string()),
            ("REDIS_URL", "redis://127.0.0.1:6379".to_string()),
            ("XACTHUC_ISSUER", "https://id.example.vn".to_string()),
            ("XACTHUC_MASTER_KEY", good_master.clone()),
            ("XACTHUC_VNEID_ISSUER", "https://vneid.example.vn".to_string()),
            ("XACTHUC_VNEID_CLIENT_SECRET", "not-a-real-secret".to_string()),
            ("XACTHUC_POPULATION_URL", "https://lgsp.example.vn".to_string()),
            ("XACTHUC_POPULATION_API_KEY", "not-a-real-key".to_string()),
        ];
        for (k, v) in extra {
            env.retain(|(ek, _)| ek != k);
            let k: &'static str = k;
            if !v.is_empty() {
                env.push((k, v.to_string()));
            }
        }
        env
    };
    run_expecting_config_error(&["serve"], &prod(&[("XACTHUC_PORT", "99999")]), "port");
    #[cfg(feature = "dev")]
    run_expecting_config_error(&["dev"], &[("XACTHUC_PORT", "http".to_string())], "port");
    run_expecting_config_error(&["serve"], &prod(&[("DATABASE_URL", "postgres//no-host")]), "database_url");
    run_expecting_config_error(&["serve"], &prod(&[("DATABASE_URL", "sqlite://data/x.db")]), "database_url");
    run_expecting_config_error(&["serve"], &prod(&[("XACTHUC_MASTER_KEY", "")]), "master_key");
    run_expecting_config_error(&["serve"], &prod(&[("XACTHUC_MASTER_KEY", "dev:AAAA")]), "master_key");
    run_expecting_config_error(&["serve"], &prod(&[("REDIS_URL", "")]), "redis_url");
    run_expecting_config_error(&["serve"], &prod(&[("XACTHUC_ISSUER", "http://id.example.vn")]), "issuer");
    run_expecting_config_error(&["serve"], &prod(&[("XACTHUC_LOG_FORMAT", "xml")]), "log_format");
    run_expecting_config_error(&["serve"], &prod(&[("XACTHUC_VNEID_ISSUER", "")]), "vneid_issuer");
    // Citizens' identities and the population API key never travel in clear text to a remote
    // host, whatever the flags.
    let insecure = [("XACTHUC_ALLOW_INSECURE_ISSUER", "true")];
    for (key, var) in [("vneid_issuer", "XACTHUC_VNEID_ISSUER"), ("population_url", "XACTHUC_POPULATION_URL")] {
        run_expecting_config_error(&["serve"], &prod(&[(var, "http://national.example.vn")]), key);
        run_expecting_config_error(&["serve"], &prod(&[(var, "http://national.example.vn"), insecure[0]]), key);
        run_expecting_config_error(&["serve"], &prod(&[(var, "http://127.0.0.1:8081")]), key);
    }
    run_expecting_config_error(&["serve"], &prod(&[("XACTHUC_METRICS_ADDR", "everywhere")]), "metrics_addr");
    // Secrets never appear in the message.
    let out = xacthuc(&["serve"], &prod(&[("DATABASE_URL", "postgres//user:hunter2@x")])).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    // The good production configuration passes validation.
    let out = xacthuc(&["check-config"], &prod(&[])).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&good_master), "secrets are not printed");
}

/// The subcommands `--help` lists, one per line in its command table.
fn listed_commands() -> Vec<String> {
    let out = xacthuc(&["--help"], &[]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let table = text.split("Commands:").nth(1).unwrap_or_default().split("Options:").next().unwrap_or_default();
    table.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect()
}

#[test]
fn help_lists_every_command() {
    let listed = listed_commands();
    for cmd in ["serve", "migrate", "clients", "keys", "check-config"] {
        assert!(listed.iter().any(|c| c == cmd), "--help lists {cmd}: {listed:?}");
    }
    assert_eq!(listed.iter().any(|c| c == "dev"), cfg!(feature = "dev"), "`dev` exactly when built in: {listed:?}");
}

/// The production build (`--no-default-features`): no development mode, and no guessing.
#[cfg(not(feature = "dev"))]
#[test]
fn production_build_has_no_dev_mode() {
    let out = xacthuc(&["dev"], &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "`dev` is not a command here");
    let out = xacthuc(&[], &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "no command: usage error, not a start-up; stderr: {stderr}");
    assert!(stderr.contains("no command given") && stderr.contains("serve"), "says what to run: {stderr}");
}

/// `serve` shows `/metrics` only on its own listener, never on the public port.
#[tokio::test]
async fn serve_keeps_metrics_off_the_public_port() {
    let (Ok(admin_url), Ok(redis_url)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        support::skip_or_fail("DATABASE_URL and REDIS_URL are not both set");
        return;
    };
    let db_url = support::create_pg_database(&admin_url).await;
    let (port, metrics_port) = (support::free_port(), support::free_port());
    let env = vec![
        ("XACTHUC_HOST", "127.0.0.1".to_string()),
        ("XACTHUC_PORT", port.to_string()),
        ("XACTHUC_METRICS_ADDR", format!("127.0.0.1:{metrics_port}")),
        ("XACTHUC_ISSUER", format!("http://127.0.0.1:{port}")),
        ("XACTHUC_ALLOW_INSECURE_ISSUER", "true".into()),
        ("XACTHUC_MASTER_KEY", base64::engine::general_purpose::STANDARD.encode([8u8; 32])),
        ("XACTHUC_REDIS_KEY_PREFIX", support::unique("t:") + ":"),
        ("DATABASE_URL", db_url.clone()),
        ("REDIS_URL", redis_url),
        // Never contacted in this test: the national systems are only called during a login.
        ("XACTHUC_VNEID_ISSUER", "http://127.0.0.1:9".to_string()),
        ("XACTHUC_VNEID_CLIENT_SECRET", "not-a-real-secret".to_string()),
        ("XACTHUC_POPULATION_URL", "http://127.0.0.1:9".to_string()),
        ("XACTHUC_POPULATION_API_KEY", "not-a-real-key".to_string()),
    ];
    let child = Proc(xacthuc(&["serve"], &env).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let c = client();
    wait_status(&c, &format!("http://127.0.0.1:{port}/readyz"), 200, Duration::from_secs(30)).await;
    let public = c.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "the public port does not serve /metrics");
    let metrics = c.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/readyz",status="200"}"#), "{text}");
    assert_eq!(child.terminate().code(), Some(0), "both listeners stop on SIGTERM");
    support::drop_pg_database(&admin_url, db_url.rsplit('/').next().unwrap()).await;
}
