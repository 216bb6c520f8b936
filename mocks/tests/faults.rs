//! Every fault mode, observed from the client side: latency, 500, timeout, malformed JSON, the
//! concurrency cap's maintenance page, clock skew in tokens; both set at start and at runtime.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use xacthuc_mocks::faults::{ErrorKind, FaultConfig, Latency};

fn only(kind: ErrorKind) -> FaultConfig {
    FaultConfig { error_rate: 1.0, error_kinds: vec![kind], timeout_ms: 3_000, ..FaultConfig::default() }
}

async fn put_faults(c: &reqwest::Client, base: &str, f: &FaultConfig) {
    let r = c.put(format!("{base}/mock/faults")).json(f).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn latency_errors_timeouts_and_malformed_json_at_runtime() {
    let (mock, base) = start_vneid(vec![secret_client()], FaultConfig::default()).await;
    let c = http();
    let disco = format!("{base}/.well-known/openid-configuration");

    // Latency: at least the minimum is added.
    put_faults(
        &c,
        &base,
        &FaultConfig { latency: Latency { min_ms: 150, max_ms: 200, ..Latency::default() }, ..FaultConfig::default() },
    )
    .await;
    let t = Instant::now();
    assert_eq!(c.get(&disco).send().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(150), "{:?}", t.elapsed());
    let current: FaultConfig = c.get(format!("{base}/mock/faults")).send().await.unwrap().json().await.unwrap();
    assert_eq!(current.latency.min_ms, 150);

    // 500.
    put_faults(&c, &base, &only(ErrorKind::Http500)).await;
    assert_eq!(c.get(&disco).send().await.unwrap().status(), 500);

    // Malformed JSON: 200 with a body that does not parse.
    put_faults(&c, &base, &only(ErrorKind::MalformedJson)).await;
    let r = c.get(&disco).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.is_err());

    // Timeout: the client's own timeout fires.
    put_faults(&c, &base, &only(ErrorKind::Timeout)).await;
    let err = c.get(&disco).timeout(Duration::from_millis(300)).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");

    // Paths under /mock/ stay reachable, so the test can repair the mock.
    put_faults(&c, &base, &FaultConfig::default()).await;
    assert_eq!(c.get(&disco).send().await.unwrap().status(), 200);

    // A fault can target some paths only.
    let mut f = only(ErrorKind::Http500);
    f.only_paths = vec!["/oauth2/token".into()];
    put_faults(&c, &base, &f).await;
    assert_eq!(c.get(&disco).send().await.unwrap().status(), 200);
    assert_eq!(c.post(format!("{base}/oauth2/token")).send().await.unwrap().status(), 500);

    // Invalid configurations are refused.
    let r = c.put(format!("{base}/mock/faults")).json(&json!({"error_rate": 2.0})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = c.put(format!("{base}/mock/faults")).json(&json!({"no_such_knob": 1})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    mock.shutdown().await;
}

#[tokio::test]
async fn concurrency_cap_answers_maintenance_page() {
    // Set at start: one request at a time, each held 400 ms.
    let faults = FaultConfig {
        max_concurrent: Some(1),
        latency: Latency { min_ms: 400, max_ms: 400, ..Latency::default() },
        ..FaultConfig::default()
    };
    let (mock, base) = start_population(faults).await;
    let c = http();
    let body = json!({"SoDinhDanh": "001188271828", "MaYeuCau": "R"});
    let send = || {
        c.post(format!("{base}/api/congdan/tracuu"))
            .header("X-API-Key", "xacthuc-dev-population-key")
            .json(&body)
            .send()
    };
    let (a, b, d) = tokio::join!(send(), send(), send());
    let statuses: Vec<u16> = [a, b, d].into_iter().map(|r| r.unwrap()).map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 2, "{statuses:?}");
    let page = send_one_while_busy(&c, &base).await;
    assert!(page.contains("Hệ thống đang bảo trì"), "{page}");
    mock.shutdown().await;
}

async fn send_one_while_busy(c: &reqwest::Client, base: &str) -> String {
    let body = json!({"SoDinhDanh": "001188271828", "MaYeuCau": "R"});
    let req = || {
        c.post(format!("{base}/api/congdan/tracuu"))
            .header("X-API-Key", "xacthuc-dev-population-key")
            .json(&body)
            .send()
    };
    let (a, b) = tokio::join!(req(), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        req().await
    });
    let _ = a;
    b.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn population_errors_at_start() {
    let (mock, base) = start_population(only(ErrorKind::Http500)).await;
    let c = http();
    let r =
        c.post(format!("{base}/api/congdan/tracuu")).header("X-API-Key", "k").json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 500);
    mock.shutdown().await;
}

#[tokio::test]
async fn clock_skew_shifts_issued_tokens() {
    let skew = FaultConfig { clock_skew_secs: -3_600, ..FaultConfig::default() };
    let (mock, base) = start_vneid(vec![secret_client()], skew).await;
    let c = http();
    let d = xacthuc_mocks::demo_citizens().remove(0);
    let p = pkce();
    let (txn, _) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "")).await;
    let code = query_param(&location(&form_login(&c, &base, &txn, &d.login, &d.passcode).await), "code").unwrap();
    let tok: Value = c
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
            ("client_id", "rp-secret"),
            ("client_secret", "s3cret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(tok["id_token"].as_str().unwrap()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now - 3_600 - iat).abs() < 5, "iat {iat} now {now}");
    // With the default 300 s lifetime, a token issued an hour "ago" is already expired.
    assert!(claims["exp"].as_i64().unwrap() < now);
    mock.shutdown().await;
}
