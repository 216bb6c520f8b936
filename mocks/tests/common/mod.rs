//! Shared helpers for the mocks' integration tests: start mocks on 127.0.0.1:0 and drive them
//! over real HTTP.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use xacthuc_mocks::citizens::Population;
use xacthuc_mocks::faults::FaultConfig;
use xacthuc_mocks::vneid::{self, VneidClient, VneidConfig};
use xacthuc_mocks::{Running, population};

pub const SEED: u64 = 7;
pub const CITIZENS: usize = 2_000;
pub const REDIRECT: &str = "http://rp.example/callback";

pub fn population_data() -> Arc<Population> {
    Arc::new(Population::generate(SEED, CITIZENS))
}

pub async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

/// Starts the e-ID mock; its issuer is its real address, so token endpoint URLs line up.
pub async fn start_vneid(clients: Vec<VneidClient>, faults: FaultConfig) -> (Running, String) {
    let l = listener().await;
    let base = format!("http://{}", l.local_addr().expect("addr"));
    let cfg = VneidConfig { issuer: base.clone(), port: 0, clients, faults, ..VneidConfig::default() };
    let r = vneid::start(cfg, population_data(), l).await.expect("start vneid");
    (r, base)
}

pub fn secret_client() -> VneidClient {
    VneidClient {
        client_id: "rp-secret".into(),
        redirect_uris: vec![REDIRECT.into()],
        client_secret: Some("s3cret".into()),
        jwks: None,
    }
}

pub async fn start_population(faults: FaultConfig) -> (Running, String) {
    let l = listener().await;
    let base = format!("http://{}", l.local_addr().expect("addr"));
    let cfg = population::PopulationConfig { faults, ..Default::default() };
    let r = population::start(cfg, population_data(), l).await.expect("start population");
    (r, base)
}

/// A client that does not follow redirects, so tests can read `Location`.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = format!("verifier-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
    Pkce { verifier, challenge }
}

pub fn authorize_url(base: &str, client_id: &str, pkce: &Pkce, extra: &str) -> String {
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
         &scope=openid&state=st-1&nonce=n-1&code_challenge={}&code_challenge_method=S256{extra}",
        urlencode(REDIRECT),
        pkce.challenge
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Pulls `name="value"` of a hidden input or the QR code out of the login page.
pub fn page_value(html: &str, marker: &str) -> String {
    let start = html.find(marker).map(|i| i + marker.len()).expect("marker in page");
    let rest = &html[start..];
    let end = rest.find(['"', '<']).expect("end of value");
    rest[..end].to_string()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Opens the authorize URL and returns (txn, qr_code) from the login page.
pub async fn open_login(c: &reqwest::Client, url: &str) -> (String, String) {
    let resp = c.get(url).send().await.expect("authorize");
    assert_eq!(resp.status(), 200, "authorize should show the login page");
    let html = resp.text().await.expect("page");
    assert!(html.contains("Đăng nhập"), "Vietnamese login page");
    (page_value(&html, "name=\"txn\" value=\""), page_value(&html, "<code id=\"ma\">"))
}

/// Form login; returns the `Location` the browser is sent to.
pub async fn form_login(c: &reqwest::Client, base: &str, txn: &str, login: &str, passcode: &str) -> reqwest::Response {
    c.post(format!("{base}/oauth2/login"))
        .form(&[("txn", txn), ("login", login), ("passcode", passcode)])
        .send()
        .await
        .expect("login")
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}
