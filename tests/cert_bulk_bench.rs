//! Benchmark (ignored by default): the bulk "information changed" re-issue of 3,000 officers'
//! certificates against the mock CA after a unit merge, as docs/BENCHMARKS.md reports.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test CERT_BENCH_N=3000 \
//!   cargo test --test cert_bulk_bench -- --ignored --nocapture
//! ```
//! `CERT_BENCH_BACKEND=embedded` uses SQLite and the in-process store instead.

mod support;

use std::time::Instant;

use futures::StreamExt;
use serde_json::json;
use support::op::Backend;
use support::registry::{UNIT_A, UNIT_B, issued, officer, world};
use xacthuc::certs::Who;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bulk_reissue_of_3000_certificates() {
    let n: u32 = std::env::var("CERT_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let backend = match std::env::var("CERT_BENCH_BACKEND").as_deref() {
        Ok("embedded") => Backend::Embedded,
        _ => Backend::Real,
    };
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let reg = &op.state.registry;

    // Seeding: officers of B, each with a certificate naming B (issued and registered).
    let t = Instant::now();
    let seeded = futures::stream::iter(1..=n)
        .map(|i| async move {
            let id = officer(op, &format!("can.bo.{i}"), i, "31.b").await;
            let c = issued(op, i, UNIT_B, json!({})).await;
            reg.register(Who::Operator, Some(&id), c.cert_pem.as_bytes()).await.expect("registered");
        })
        .buffer_unordered(16)
        .count()
        .await;
    let seeding = t.elapsed();
    assert_eq!(seeded, n as usize);

    // The reform: B merged into A; every one of them needs a certificate naming A.
    let t = Instant::now();
    let caller = xacthuc::admin::authz::Caller::Automation { client_id: "bench".into(), within: None };
    xacthuc::admin::ops::units::merge(&op.state.oidc, &caller, &w.a, std::slice::from_ref(&w.b)).await.unwrap();
    let merging = t.elapsed();

    let t = Instant::now();
    let job = reg.start_reissue(Who::Operator, &w.a).await.unwrap();
    let planning = t.elapsed();
    assert_eq!(job.total, u64::from(n));
    let t = Instant::now();
    let p = reg.run_reissue(&job.id, None, &|_, _| {}).await.unwrap();
    let running = t.elapsed();
    assert_eq!((p.done, p.failed, p.pending), (u64::from(n), 0, 0), "{p:?}");
    let again = reg.start_reissue(Who::Operator, &w.a).await.unwrap();
    assert_eq!(again.total, 0, "nothing twice");
    let active = op.state.db.expiring_in(&op.state.db.unit(&w.a).await.unwrap().unwrap(), i64::MAX).await.unwrap();
    let naming_a = active
        .iter()
        .filter(|e| {
            xacthuc::certs::parse_certificate(e.certificate.pem.as_bytes()).unwrap().organisation.as_deref()
                == Some(UNIT_A)
        })
        .count();
    assert_eq!(naming_a, n as usize);

    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "certificates: {n} ({backend:?}, {build} build)\n  seeding (issue + register): {:.1} s\n  unit merge: {:.2} s\n  \
         job planning: {:.2} s\n  re-issue job: {:.1} s = {:.0} certificates/s ({:.1} ms each, {} CA calls in flight)",
        seeding.as_secs_f64(),
        merging.as_secs_f64(),
        planning.as_secs_f64(),
        running.as_secs_f64(),
        f64::from(n) / running.as_secs_f64(),
        running.as_secs_f64() * 1000.0 / f64::from(n),
        8
    );
    w.op.stop().await;
}
