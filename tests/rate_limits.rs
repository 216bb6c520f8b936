//! Edge rate limits over real HTTP, on both backend pairs: 429 with Retry-After once a limit is
//! passed, per-client counts apart from per-address ones, forwarded-for honoured only from
//! trusted proxies, and one count across instances sharing Redis.

mod support;

use support::op::{Backend, TestOp};
use xacthuc::config::Config;

/// A day-long window: a test never straddles two windows (unless run across midnight UTC).
const WINDOW: u64 = 86_400;

fn limits(page: i64, api: i64, client: i64) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.rate_limit_window_secs = WINDOW;
        c.rate_limit_page_per_ip = page;
        c.rate_limit_api_per_ip = api;
        c.rate_limit_per_client = client;
    }
}

async fn authorize(op: &TestOp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = support::op::http().get(op.url("/authorize?client_id=nobody&response_type=code"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("authorize")
}

async fn token(op: &TestOp, client: &str) -> reqwest::Response {
    support::op::http()
        .post(op.url("/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", client), ("client_secret", "wrong")])
        .send()
        .await
        .expect("token")
}

fn retry_after(r: &reqwest::Response) -> u64 {
    let v = r.headers().get("retry-after").expect("Retry-After on a 429").to_str().unwrap();
    let secs: u64 = v.parse().expect("Retry-After in seconds");
    assert!((1..=WINDOW).contains(&secs), "Retry-After {secs} is within the window");
    secs
}

async fn pages_over_the_address_limit_get_a_429_page(backend: Backend) {
    let Some(op) = TestOp::start_with(backend, limits(3, 100, 100)).await else { return };
    for i in 0..3 {
        let r = authorize(&op, &[]).await;
        assert_ne!(r.status(), 429, "request {i} is within the limit");
        assert_ne!(r.status(), 500);
    }
    let r = authorize(&op, &[("accept-language", "en")]).await;
    assert_eq!(r.status(), 429);
    retry_after(&r);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(page.contains("lang=\"en\"") && page.contains("Too many requests"), "{page}");
    assert!(page.contains("role=\"alert\""), "the message is announced: {page}");
    let r = authorize(&op, &[]).await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Quá nhiều yêu cầu"), "Vietnamese by default");
    // Endpoints outside the limits still answer: JWKS, discovery, health.
    let jwks = support::op::http().get(op.url("/jwks")).send().await.unwrap();
    assert_eq!(jwks.status(), 200);
    // The refusal is counted.
    let metrics = support::op::http().get(op.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"rate_limited_total{limit="page_ip"}"#), "{metrics}");
    op.stop().await;
}
on_both_backends!(pages_over_the_address_limit, super::pages_over_the_address_limit_get_a_429_page);

async fn clients_are_counted_apart_from_addresses(backend: Backend) {
    let Some(op) = TestOp::start_with(backend, limits(100, 100, 2)).await else { return };
    for _ in 0..2 {
        let r = token(&op, "rp-a").await;
        assert_eq!(r.status(), 401, "within the limit the request is processed (and fails authentication)");
    }
    let r = token(&op, "rp-a").await;
    assert_eq!(r.status(), 429);
    retry_after(&r);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // The same client named in a Basic header is the same client.
    let basic = support::op::http()
        .post(op.url("/token"))
        .basic_auth("rp-a", Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 429);
    // Another client from the same address is not affected.
    assert_eq!(token(&op, "rp-b").await.status(), 401);
    // PAR shares the client's count.
    let par = support::op::http()
        .post(op.url("/par"))
        .form(&[("client_id", "rp-a"), ("response_type", "code")])
        .send()
        .await
        .unwrap();
    assert_eq!(par.status(), 429);
    op.stop().await;
}
on_both_backends!(clients_apart_from_addresses, super::clients_are_counted_apart_from_addresses);

async fn the_api_address_limit_covers_every_client(backend: Backend) {
    let Some(op) = TestOp::start_with(backend, limits(100, 3, 100)).await else { return };
    for i in 0..3 {
        assert_eq!(token(&op, &format!("rp-{i}")).await.status(), 401);
    }
    // A new client_id per request does not escape the address's limit.
    assert_eq!(token(&op, "rp-new").await.status(), 429);
    let userinfo = support::op::http().get(op.url("/userinfo")).bearer_auth("x").send().await.unwrap();
    assert_eq!(userinfo.status(), 429);
    op.stop().await;
}
on_both_backends!(api_address_limit, super::the_api_address_limit_covers_every_client);

async fn forwarded_for_is_believed_only_from_trusted_proxies(backend: Backend) {
    // The test's peer address is 127.0.0.1: here a trusted proxy.
    let Some(op) = TestOp::start_with(backend, |c| {
        limits(2, 100, 100)(c);
        c.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await
    else {
        return;
    };
    let citizen = [("x-forwarded-for", "198.51.100.1")];
    assert_ne!(authorize(&op, &citizen).await.status(), 429);
    assert_ne!(authorize(&op, &citizen).await.status(), 429);
    assert_eq!(authorize(&op, &citizen).await.status(), 429, "the citizen's third request");
    // Another address behind the same proxy has its own count; a hop the client wrote to the
    // left of what the proxy appended changes nothing.
    assert_ne!(authorize(&op, &[("x-forwarded-for", "198.51.100.2")]).await.status(), 429);
    let spoof = [("x-forwarded-for", "203.0.113.66, 198.51.100.1")];
    assert_eq!(authorize(&op, &spoof).await.status(), 429, "the rightmost untrusted hop counts");
    op.stop().await;

    // Here 127.0.0.1 is not a trusted proxy: its X-Forwarded-For is ignored, however it varies.
    let Some(op) = TestOp::start_with(backend, |c| {
        limits(2, 100, 100)(c);
        c.trusted_proxies = vec!["10.0.0.0/8".into()];
    })
    .await
    else {
        return;
    };
    for (i, ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"].iter().enumerate() {
        let r = authorize(&op, &[("x-forwarded-for", ip)]).await;
        assert_eq!(r.status() == 429, i == 2, "request {i} from one untrusted peer");
    }
    op.stop().await;
}
on_both_backends!(trusted_proxies, super::forwarded_for_is_believed_only_from_trusted_proxies);

/// Two instances on one Redis prefix share one count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_instances_sharing_redis() {
    let Some(a) = TestOp::start_with(Backend::Real, limits(3, 100, 2)).await else { return };
    let prefix = a.config.redis_key_prefix.clone();
    let Some(b) = TestOp::start_with(Backend::Real, |c| {
        limits(3, 100, 2)(c);
        c.redis_key_prefix = prefix;
    })
    .await
    else {
        return;
    };
    assert_ne!(authorize(&a, &[]).await.status(), 429);
    assert_ne!(authorize(&b, &[]).await.status(), 429);
    assert_ne!(authorize(&a, &[]).await.status(), 429);
    assert_eq!(authorize(&b, &[]).await.status(), 429, "the fourth request, whichever instance");
    assert_eq!(token(&a, "rp-shared").await.status(), 401);
    assert_eq!(token(&b, "rp-shared").await.status(), 401);
    assert_eq!(token(&a, "rp-shared").await.status(), 429);
    b.stop().await;
    a.stop().await;
}

/// Without the store the limits cannot be counted: requests go on (fail open) and the
/// endpoints that need the store answer 503 themselves, never 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_lets_requests_through() {
    let Some(op) = TestOp::start_with(Backend::Real, |c| {
        limits(1, 1, 1)(c);
        c.redis_url = Some(format!("redis://127.0.0.1:{}", support::free_port()).into());
        c.redis_timeout_ms = 200;
    })
    .await
    else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(token(&op, "rp-a").await.status(), 401, "processed although nothing could be counted");
        let r = authorize(&op, &[]).await;
        assert_ne!(r.status(), 429);
        assert_ne!(r.status(), 500);
    }
    op.stop().await;
}

/// A refused request has done nothing: a refresh token presented over the limit is not
/// rotated away, and works once the window has passed.
async fn a_refused_request_is_not_half_processed(backend: Backend) {
    use support::browser::{Browser, ConsentChoice, EidLogin};
    let Some(op) = TestOp::start_with(backend, limits(100, 100, 2)).await else { return };
    let rp = support::rp::Rp::new("limited");
    rp.register(&op, &rp.client()).await;
    let login = EidLogin::Form { login: "001188271828", passcode: "271828" };
    let end = Browser::new().journey(&rp.auth_url(&op, &[]), &rp.redirect, login, ConsentChoice::Allow).await;
    let tokens: serde_json::Value = rp.redeem(&op, &end.code()).await.json().await.unwrap();
    let first = tokens["refresh_token"].as_str().expect("a refresh token");
    let r = rp.refresh(&op, first).await;
    assert_eq!(r.status(), 200, "the client's second request");
    let second: serde_json::Value = r.json().await.unwrap();
    let second = second["refresh_token"].as_str().unwrap();
    let refused = rp.refresh(&op, second).await;
    assert_eq!(refused.status(), 429, "the third is over the limit");
    // The window passes (its counter expires).
    let window = xacthuc::clock::unix_now() as u64 / WINDOW;
    op.state.kv.delete(&format!("rl:client:{}:{window}", rp.id)).await.unwrap();
    let r = rp.refresh(&op, second).await;
    assert_eq!(r.status(), 200, "the refused refresh did not use up the token: {}", r.text().await.unwrap());
    op.stop().await;
}
on_both_backends!(not_half_processed, super::a_refused_request_is_not_half_processed);

/// The per-client limit reads a form for its client_id; a declared body over the body limit is
/// refused at once, not waited for (a client that declares a terabyte and sends nothing must not
/// hold the request until the timeout).
#[tokio::test]
async fn an_oversized_declared_body_is_refused_before_it_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(op) = TestOp::start_with(Backend::Embedded, limits(100, 100, 100)).await else { return };
    let url = url::Url::parse(&op.url("/token")).unwrap();
    let addr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 1000000000000\r\n\r\n";
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("an answer within 5 s, not after the request timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    op.stop().await;
}
