//! `/metrics` over real HTTP: every label comes from a closed set, so nothing a client sends
//! (an invented method, a random path) creates new series; and with a separate metrics
//! listener the public port does not serve `/metrics` at all.

mod support;

use support::op::{Backend, TestOp, http};

/// The metrics recorder is process-wide: the tests of this file take turns so one does not
/// count the other's series.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The series `/metrics` shows: name and labels, without the value.
async fn series(client: &reqwest::Client, op: &TestOp) -> Vec<String> {
    let r = client.get(op.url("/metrics")).send().await.expect("GET /metrics");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("body");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.rsplit_once(' ').map_or(l, |(series, _value)| series).to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_input_does_not_create_series() {
    let _turn = SERIAL.lock().await;
    let Some(op) = TestOp::start(Backend::Embedded).await else { return };
    let c = http();
    // Every legitimate label set this test can reach, seen once before counting.
    c.get(op.url("/healthz")).send().await.expect("healthz");
    c.get(op.url("/no-such-page")).send().await.expect("404");
    series(&c, &op).await;
    let before = series(&c, &op).await;

    let mut raw_paths = Vec::new();
    for i in 0..30 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).expect("method token");
        let path = format!("/random/{}", uuid::Uuid::new_v4().simple());
        let r = c.request(method.clone(), op.url(&path)).send().await.expect("invented method, random path");
        assert_eq!(r.status(), 404);
        let r = c.request(method, op.url("/healthz")).send().await.expect("invented method, known route");
        assert_eq!(r.status(), 405);
        let r = c.get(op.url(&path)).send().await.expect("GET, random path");
        assert_eq!(r.status(), 404);
        raw_paths.push(path);
    }

    let after = series(&c, &op).await;
    let new: Vec<&String> = after.iter().filter(|s| !before.contains(s)).collect();
    // At most the three label sets this traffic maps to (an unknown method on an unknown and
    // on a known route), each a counter and a histogram of 16 lines.
    assert!(
        new.len() <= 3 * 17,
        "{} new series after 90 requests:\n{}",
        new.len(),
        new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    let text = after.join("\n");
    assert!(!text.contains("INVENTED"), "an invented method became a label");
    assert!(raw_paths.iter().all(|p| !text.contains(p.as_str())), "a raw path became a label");
    assert!(text.contains(r#"method="other",route="/healthz",status="405""#), "{text}");
    assert!(text.contains(r#"method="other",route="unmatched",status="404""#), "{text}");
    op.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_metrics_listener_takes_metrics_off_the_main_port() {
    let _turn = SERIAL.lock().await;
    let port = support::free_port();
    let Some(op) = TestOp::start_with(Backend::Embedded, |c| c.metrics_addr = Some(format!("127.0.0.1:{port}"))).await
    else {
        return;
    };
    let c = http();
    assert_eq!(c.get(op.url("/healthz")).send().await.expect("healthz").status(), 200);
    let r = c.get(op.url("/metrics")).send().await.expect("GET /metrics");
    assert_eq!(r.status(), 404, "the public port must not show metrics when they have their own listener");
    op.stop().await;
}
