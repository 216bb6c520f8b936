//! Officer password + TOTP logins per second, against what argon2 alone allows, measured in
//! the same run. Ignored by default (it is a measurement, not a check); run in release:
//!
//! `DATABASE_URL=… REDIS_URL=… cargo test --release --test officer_login_bench -- --ignored --nocapture`
//!
//! Without DATABASE_URL/REDIS_URL it runs on the embedded backend. Prints argon2's time per
//! verification at the configured (default, OWASP) parameters, the logins per second over
//! HTTP with `officer_password_hashes_max` logins hashing at once, and that rate as a fraction
//! of 1/(argon2 time) and of hashes_max/(argon2 time).

mod support;

use std::time::{Duration, Instant};

use support::browser::Browser;
use support::officers::*;
use support::op::Backend;
use xacthuc::officers::auth::password::Hasher;

const OFFICERS: usize = 40;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run with --ignored --release"]
async fn officer_logins_per_second() {
    let backend = if std::env::var("DATABASE_URL").is_ok() { Backend::Real } else { Backend::Embedded };
    let Some(op) = start_with(backend, |c| {
        c.login_tx_per_ip = 100_000;
        c.request_timeout_secs = 300;
    })
    .await
    else {
        return;
    };
    let c = op.config.clone();
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
    // argon2 alone: the median of a few verifications at the configured parameters.
    let hasher = Hasher::new(c.officer_argon2_m_kib, c.officer_argon2_t, c.officer_argon2_p, 1).unwrap();
    let stored = hasher.hash(PASSWORD).await.unwrap();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        assert!(hasher.verify(PASSWORD, Some(&stored)).await.unwrap().ok);
        times.push(t.elapsed());
    }
    times.sort();
    let argon2 = times[times.len() / 2].as_secs_f64();

    let mut officers = Vec::new();
    for i in 0..OFFICERS {
        let (_, secret) = officer(&op, &format!("bench.{i:03}"), true).await;
        officers.push((format!("bench.{i:03}"), secret.unwrap()));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (username, secret) in officers {
        let base = op.base.clone();
        tasks.push(tokio::spawn(async move {
            let b = Browser::new();
            let (r, tx) = password_step_at(&base, &b, &username, PASSWORD).await;
            assert_eq!(r.status(), 200);
            let r = b
                .http
                .post(format!("{base}/login/officer/otp"))
                .form(&[("tx", tx), ("code", code(&secret))])
                .send()
                .await;
            let r = r.unwrap();
            assert!(r.status().is_redirection(), "login {username}: {}", r.status());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = OFFICERS as f64 / started.elapsed().as_secs_f64();
    println!(
        "officer logins ({backend:?}): argon2 m={} KiB t={} p={}: {:.1} ms per verification; {rate:.1} logins/s \
         = {:.2} × 1/(argon2 time), {:.2} × {parallel}/(argon2 time) with {parallel} CPUs",
        c.officer_argon2_m_kib,
        c.officer_argon2_t,
        c.officer_argon2_p,
        argon2 * 1000.0,
        rate * argon2,
        rate * argon2 / parallel as f64,
    );
    op.stop().await;
}
