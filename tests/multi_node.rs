//! Two `xacthuc serve` processes (the real binary) on different ports, sharing one PostgreSQL
//! database and one Redis prefix, as two replicas behind a load balancer without sticky
//! sessions: a login started on one completes on the other, a key rotation reaches both, and
//! logout on one ends the session on both.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use support::browser::{Browser, ConsentChoice, EidLogin};
use support::rp::{Rp, VERIFIER};
use support::{Proc, xacthuc_cmd as xacthuc};
use xacthuc::config::Config;
use xacthuc::oidc::clients::Client;

// A demo citizen of the mock (see `xacthuc-mocks demo_citizens`).
const NGOC: (&str, &str) = ("001188271828", "271828");
const BYE: &str = "https://multi.example.vn/bye";

/// Two instances, A and B, behind one issuer (A's address, as a load balancer's would be).
struct Pair {
    a: String,
    b: String,
    /// Each instance's metrics listener, to tell which one served what.
    metrics: [String; 2],
    env: Vec<(&'static str, String)>,
    _procs: [Proc; 2],
    _mocks: xacthuc_mocks::RunningMocks,
    dir: tempfile::TempDir,
}

async fn wait_ready(base: &str) {
    let c = support::op::http();
    let start = Instant::now();
    while !c.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(start.elapsed() < Duration::from_secs(30), "{base} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Pair {
    async fn start(admin_url: &str, redis_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (port_a, port_b) = (support::free_port(), support::free_port());
        let issuer = format!("http://127.0.0.1:{port_a}");
        // The mocks (e-ID and population) in this process, with the issuer's callback registered.
        let mut national = Config::default();
        let mocks = support::op::start_mocks(&mut national, port_a, dir.path()).await;
        let db_url = support::create_pg_database(admin_url).await;
        let opt = |v: Option<String>| v.expect("set by the mocks");
        let env: Vec<(&'static str, String)> = vec![
            ("XACTHUC_HOST", "127.0.0.1".into()),
            ("XACTHUC_ISSUER", issuer.clone()),
            ("XACTHUC_ALLOW_INSECURE_ISSUER", "true".into()),
            ("XACTHUC_MASTER_KEY", base64::engine::general_purpose::STANDARD.encode([7u8; 32])),
            ("XACTHUC_REDIS_KEY_PREFIX", support::unique("t:") + ":"),
            ("XACTHUC_KEY_RELOAD_SECS", "1".into()),
            ("XACTHUC_CLIENT_CACHE_TTL_SECS", "1".into()),
            ("DATABASE_URL", db_url),
            ("REDIS_URL", redis_url.into()),
            ("XACTHUC_VNEID_ISSUER", opt(national.vneid_issuer)),
            ("XACTHUC_VNEID_CLIENT_KEY_FILE", national.vneid_client_key_file.unwrap().display().to_string()),
            ("XACTHUC_POPULATION_URL", opt(national.population_url)),
            ("XACTHUC_POPULATION_API_KEY", "test-population-key".into()),
        ];
        let metrics = [support::free_port(), support::free_port()].map(|p| format!("http://127.0.0.1:{p}/metrics"));
        let spawn = |port: u16, name: &str, metrics: &str| {
            let mut env = env.clone();
            env.push(("XACTHUC_PORT", port.to_string()));
            env.push((
                "XACTHUC_METRICS_ADDR",
                metrics.trim_start_matches("http://").trim_end_matches("/metrics").into(),
            ));
            let log = std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap();
            Proc(xacthuc(&["serve"], &env).stdout(Stdio::null()).stderr(log).spawn().expect("xacthuc serve"))
        };
        // A first: it applies the migrations and makes the signing keys B then loads.
        let proc_a = spawn(port_a, "a", &metrics[0]);
        let a = format!("http://127.0.0.1:{port_a}");
        wait_ready(&a).await;
        let proc_b = spawn(port_b, "b", &metrics[1]);
        let b = format!("http://127.0.0.1:{port_b}");
        wait_ready(&b).await;
        Self { a, b, metrics, env, _procs: [proc_a, proc_b], _mocks: mocks, dir }
    }

    /// How many requests to `route` instance `i` answered.
    async fn served(&self, i: usize, route: &str) -> u64 {
        let text = support::op::http().get(&self.metrics[i]).send().await.unwrap().text().await.unwrap();
        let needle = format!("route=\"{route}\"");
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains(&needle))
            .filter_map(|l| l.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok()))
            .sum::<f64>() as u64
    }

    fn db_url(&self) -> &str {
        &self.env.iter().find(|(k, _)| *k == "DATABASE_URL").unwrap().1
    }

    /// What each instance logged, for a failing assertion's message.
    fn logs(&self) -> String {
        ["a", "b"]
            .iter()
            .map(|n| std::fs::read_to_string(self.dir.path().join(format!("{n}.log"))).unwrap_or_default())
            .map(|l| l.lines().rev().take(15).collect::<Vec<_>>().join("\n"))
            .collect::<Vec<_>>()
            .join("\n---\n")
    }
}

async fn register(pair: &Pair, rp: &Rp) {
    let db = xacthuc::store::Db::connect(pair.db_url(), 2, Duration::from_secs(5)).await.unwrap();
    let client = Client { post_logout_redirect_uris: vec![BYE.into()], ..rp.client() };
    db.put_client(&client, 0).await.expect("register the relying party");
}

async fn token(base: &str, rp: &Rp, form: &[(&str, &str)]) -> Value {
    let r = support::op::http()
        .post(format!("{base}/token"))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "token at {base}: {body}");
    body
}

async fn kids(base: &str) -> Vec<String> {
    let jwks: Value = support::op::http().get(format!("{base}/jwks")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["kid"].as_str().map(str::to_owned)).collect()
}

fn kid(jwt: &str) -> String {
    jsonwebtoken::decode_header(jwt).unwrap().kid.expect("a kid")
}

async fn userinfo(base: &str, access_token: &str) -> reqwest::Response {
    support::op::http().get(format!("{base}/userinfo")).bearer_auth(access_token).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_logins_keys_and_logout() {
    let (Ok(admin_url), Ok(redis_url)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        support::skip_or_fail("DATABASE_URL and REDIS_URL are not both set");
        return;
    };
    let pair = Pair::start(&admin_url, &redis_url).await;
    let (a, b) = (pair.a.clone(), pair.b.clone());
    let rp = Rp::new("multi");
    register(&pair, &rp).await;

    // Authorize on A; the login page, the e-ID callback and consent on B; the code redeemed on B.
    let browser = Browser::new();
    let end = browser
        .journey_via(
            &rp.auth_url_at(&a, &[]),
            &rp.redirect,
            EidLogin::Form { login: NGOC.0, passcode: NGOC.1 },
            ConsentChoice::Allow,
            Some((&a, &b)),
        )
        .await;
    let code = match &end {
        support::browser::End::AtClient(p) => p.get("code").cloned().expect("a code"),
        other => panic!("login did not complete across instances: {other:?}\n{}", pair.logs()),
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", rp.redirect.as_str()),
        ("code_verifier", VERIFIER),
    ];
    for route in ["/login", "/callback/vneid", "/consent"] {
        assert_eq!(pair.served(0, route).await, 0, "A served no {route}");
        assert!(pair.served(1, route).await >= 1, "B served {route}");
    }
    assert_eq!(pair.served(0, "/authorize").await, 1, "the login began at A");
    assert_eq!(pair.served(1, "/authorize").await, 0);
    let tokens = token(&b, &rp, &form).await;
    let access = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    // Either instance serves the session and the tokens.
    let on_a = userinfo(&a, access).await;
    assert_eq!(on_a.status(), 200, "a token from B is valid on A");
    let sub = on_a.json::<Value>().await.unwrap()["sub"].clone();
    let code = {
        let r = browser.http.get(rp.auth_url_at(&b, &[("prompt", "none")])).send().await.unwrap();
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(loc.contains("code="), "the session made through B is known to B: {loc}");
        let r = browser.http.get(rp.auth_url_at(&a, &[("prompt", "none")])).send().await.unwrap();
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(loc.contains("code="), "and to A: {loc}");
        url::Url::parse(&loc).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned()
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", rp.redirect.as_str()),
        ("code_verifier", VERIFIER),
    ];
    // A's single sign-on code redeemed on B.
    let sso = token(&b, &rp, &form).await;

    // A key rotation (the operator's command, on the shared database) reaches both instances.
    let before = kids(&a).await;
    assert_eq!(before, kids(&b).await, "both publish the same keys");
    let out = xacthuc(&["keys", "rotate", "--max-token-lifetime", "3600"], &pair.env).output().unwrap();
    assert!(out.status.success(), "keys rotate: {}", String::from_utf8_lossy(&out.stderr));
    let start = Instant::now();
    let new_kid = loop {
        let (on_a, on_b) = (kids(&a).await, kids(&b).await);
        let fresh: Vec<&String> = on_a.iter().filter(|k| !before.contains(k) && on_b.contains(k)).collect();
        if let Some(k) = fresh.first() {
            break (*k).clone();
        }
        assert!(start.elapsed() < Duration::from_secs(15), "rotation not seen: {before:?} → {on_a:?} / {on_b:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(kids(&b).await.iter().any(|k| before.contains(k)), "retired keys stay published");
    let refreshed =
        token(&a, &rp, &[("grant_type", "refresh_token"), ("refresh_token", sso["refresh_token"].as_str().unwrap())])
            .await;
    let new_access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(kid(new_access), new_kid, "A signs with the new key");
    let on_b = userinfo(&b, new_access).await;
    assert_eq!(on_b.status(), 200, "B validates a token signed with A's new key");
    assert_eq!(on_b.json::<Value>().await.unwrap()["sub"], sub);
    assert_eq!(userinfo(&b, access).await.status(), 200, "and still one signed with the old key");

    // Logout on A ends the session everywhere.
    let r = browser
        .http
        .get(format!("{a}/logout"))
        .query(&[("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", BYE)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "logout at A");
    for base in [&a, &b] {
        let r = browser.http.get(rp.auth_url_at(base, &[("prompt", "none")])).send().await.unwrap();
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(loc.contains("error=login_required"), "no session at {base} after logout: {loc}");
        assert_eq!(userinfo(base, new_access).await.status(), 401, "the session's tokens are revoked at {base}");
    }
    let r = support::op::http()
        .post(format!("{b}/token"))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refreshed["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "the refresh token died with the session");
    let db = pair.db_url().rsplit('/').next().unwrap().to_owned();
    drop(pair);
    support::drop_pg_database(&admin_url, &db).await;
}
