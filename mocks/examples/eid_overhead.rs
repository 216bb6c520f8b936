//! Measures the e-ID mock's own overhead: discovery requests/s and complete logins/s
//! (authorize page + passcode form + token with an RS256 ID token), from a tokio load loop in
//! the same process (client and server share the machine, so the figures are a floor).
//!
//! Also population-database lookups/s.
//!
//! `cargo run --release -p xacthuc-mocks --example eid_overhead -- [seconds] [concurrency]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};
use xacthuc_mocks::citizens::Population;
use xacthuc_mocks::vneid::{self, VneidClient, VneidConfig};

const REDIRECT: &str = "http://rp.example/cb";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let conc: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", l.local_addr()?);
    let cfg = VneidConfig {
        issuer: base.clone(),
        clients: vec![VneidClient {
            client_id: "bench".into(),
            redirect_uris: vec![REDIRECT.into()],
            client_secret: Some("bench-secret".into()),
            jwks: None,
        }],
        ..VneidConfig::default()
    };
    let pop = Arc::new(Population::generate(2025, 10_000));
    let ids: Arc<Vec<(String, String)>> = Arc::new(
        pop.iter()
            .filter(|c| c.eid_level.is_some())
            .take(5_000)
            .map(|c| (c.personal_id.to_string(), c.passcode()))
            .collect(),
    );
    let pl = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let pop_base = format!("http://{}", pl.local_addr()?);
    let pop_server = xacthuc_mocks::population::start(Default::default(), pop.clone(), pl).await?;
    let server = vneid::start(cfg, pop, l).await?;
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(conc).build()?;

    let disco = format!("{base}/.well-known/openid-configuration");
    let n = run(secs, conc, {
        let client = client.clone();
        move |_| {
            let (c, u) = (client.clone(), disco.clone());
            async move { c.get(&u).send().await.map(|r| r.status().is_success()).unwrap_or(false) }
        }
    })
    .await;
    println!("discovery: {:.0} requests/s ({n} in {secs} s, concurrency {conc})", n as f64 / secs as f64);

    let authz = format!(
        "{base}/oauth2/authorize?response_type=code&client_id=bench&redirect_uri={REDIRECT}&scope=openid&code_challenge=0123456789012345678901234567890123456789abc&code_challenge_method=S256"
    );
    let n = run(secs, conc, {
        let client = client.clone();
        move |_| {
            let (c, u) = (client.clone(), authz.clone());
            async move { c.get(&u).send().await.map(|r| r.status().is_success()).unwrap_or(false) }
        }
    })
    .await;
    println!(
        "login page (authorize, with QR code): {:.0} requests/s ({n} in {secs} s, concurrency {conc})",
        n as f64 / secs as f64
    );

    let n = run(secs, conc, {
        let client = client.clone();
        let ids = ids.clone();
        move |i| {
            let (c, base, ids) = (client.clone(), base.clone(), ids.clone());
            async move { login(&c, &base, &ids[i as usize % ids.len()]).await.unwrap_or(false) }
        }
    })
    .await;
    println!(
        "complete logins (3 requests + RS256 signature each): {:.0} logins/s ({n} in {secs} s, concurrency {conc})",
        n as f64 / secs as f64
    );

    let n = run(secs, conc, {
        let client = client.clone();
        let ids = ids.clone();
        move |i| {
            let (c, u, ids) = (client.clone(), format!("{pop_base}/api/congdan/tracuu"), ids.clone());
            async move {
                let body =
                    serde_json::json!({"SoDinhDanh": ids[i as usize % ids.len()].0, "MaYeuCau": format!("bench-{i}")});
                c.post(&u)
                    .header("X-API-Key", "xacthuc-dev-population-key")
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        }
    })
    .await;
    println!(
        "population lookups (SOAP record in JSON): {:.0} requests/s ({n} in {secs} s, concurrency {conc})",
        n as f64 / secs as f64
    );
    server.shutdown().await;
    pop_server.shutdown().await;
    Ok(())
}

async fn run<F, Fut>(secs: u64, conc: usize, f: F) -> u64
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let ok = Arc::new(AtomicU64::new(0));
    let seq = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..conc)
        .map(|_| {
            let (ok, seq, f) = (ok.clone(), seq.clone(), f.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    if f(seq.fetch_add(1, Ordering::Relaxed)).await {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    ok.load(Ordering::Relaxed)
}

async fn login(c: &reqwest::Client, base: &str, (id, pass): &(String, String)) -> anyhow::Result<bool> {
    let verifier = format!("bench-verifier-{id}-0123456789abcdefghijklmnop");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let page = c
        .get(format!(
            "{base}/oauth2/authorize?response_type=code&client_id=bench&redirect_uri={REDIRECT}&scope=openid&state=s&code_challenge={challenge}&code_challenge_method=S256"
        ))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"txn\" value=\"";
    let start = page.find(marker).map(|i| i + marker.len()).unwrap_or(0);
    let txn = page[start..].split('"').next().unwrap_or("");
    let r =
        c.post(format!("{base}/oauth2/login")).form(&[("txn", txn), ("login", id), ("passcode", pass)]).send().await?;
    let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("");
    let code =
        url::Url::parse(loc)?.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).unwrap_or_default();
    let t = c
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
            ("client_id", "bench"),
            ("client_secret", "bench-secret"),
        ])
        .send()
        .await?;
    Ok(t.status().is_success())
}
