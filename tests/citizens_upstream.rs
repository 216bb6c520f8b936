//! xacthuc as a relying party of the national e-ID, over real HTTP against the e-ID mock
//! started in-process on port 0: form and QR logins with private_key_jwt, level demands, key
//! rotation, state and clock checks, and the behaviour when the e-ID is down or overloaded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;
use xacthuc::citizens::upstream::{AccountType, ClientAuthConfig, ClientKey, Unavailability};
use xacthuc::citizens::{
    AccountLevel, CircuitState, EidIdentity, EidLogin, GuardConfig, RpError, Upstream, UpstreamConfig, UpstreamError,
};
use xacthuc_mocks::citizens::{DemoCase, Population};
use xacthuc_mocks::vneid::{VneidClient, VneidConfig};
use xacthuc_mocks::{DemoCitizen, Running, demo_citizens};

const REDIRECT: &str = "http://localhost:8080/callback/vneid";

fn demo(case: DemoCase) -> DemoCitizen {
    demo_citizens().into_iter().find(|d| d.case == case).expect("demo case")
}

fn es256_pem() -> String {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("key");
    let der = pair.private_key().as_der().expect("pkcs8");
    pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()))
}

struct Env {
    mock: Running,
    base: String,
    http: reqwest::Client,
    pem: String,
}

impl Env {
    /// The e-ID mock with xacthuc registered for private_key_jwt (public JWK only, no secret).
    async fn start() -> Env {
        let pem = es256_pem();
        let jwk = ClientKey::from_pem(&pem, None).expect("key").public_jwk();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let clients = vec![
            VneidClient {
                client_id: "xacthuc".into(),
                redirect_uris: vec![REDIRECT.into()],
                client_secret: None,
                jwks: Some(json!({ "keys": [jwk] })),
            },
            VneidClient {
                client_id: "xacthuc-secret".into(),
                redirect_uris: vec![REDIRECT.into()],
                client_secret: Some("s3cret".into()),
                jwks: None,
            },
        ];
        let cfg = VneidConfig { issuer: base.clone(), port: 0, clients, ..VneidConfig::default() };
        let population = Arc::new(Population::generate(7, 2_000));
        let mock = xacthuc_mocks::vneid::start(cfg, population, listener).await.expect("start e-ID mock");
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Env { mock, base, http, pem }
    }

    fn config(&self) -> UpstreamConfig {
        let auth = ClientAuthConfig::PrivateKeyJwt { private_key_pem: SecretString::from(self.pem.clone()), kid: None };
        let mut cfg = UpstreamConfig::new(&self.base, "xacthuc", REDIRECT, auth);
        cfg.guard = GuardConfig {
            timeout: Duration::from_millis(800),
            max_in_flight: 16,
            failure_threshold: 3,
            cool_down: Duration::from_millis(400),
        };
        cfg
    }

    fn upstream(&self) -> Upstream {
        Upstream::new(self.config()).expect("upstream")
    }

    async fn faults(&self, f: Value) {
        let r = self.http.put(format!("{}/mock/faults", self.base)).json(&f).send().await.expect("faults");
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    }

    /// Opens the e-ID login page; returns (txn, QR code).
    async fn open_login(&self, url: &Url) -> (String, String) {
        let html = self.http.get(url.as_str()).send().await.expect("authorize").text().await.expect("page");
        (between(&html, "name=\"txn\" value=\""), between(&html, "<code id=\"ma\">"))
    }

    /// Logs in with personal ID + passcode; returns the callback URL.
    async fn form_login(&self, url: &Url, who: &DemoCitizen) -> Url {
        let (txn, _) = self.open_login(url).await;
        let r = self
            .http
            .post(format!("{}/oauth2/login", self.base))
            .form(&[("txn", txn.as_str()), ("login", &who.login), ("passcode", &who.passcode)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303);
        let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        Url::parse(location).expect("callback URL")
    }

    /// Logs in by "scanning" the QR and approving on the phone; returns the callback URL.
    async fn qr_login(&self, url: &Url, who: &DemoCitizen) -> Url {
        let (txn, qr) = self.open_login(url).await;
        let r = self
            .http
            .post(format!("{}/mock/approve", self.base))
            .json(&json!({ "code": qr, "login": who.login }))
            .send()
            .await
            .expect("approve");
        assert_eq!(r.status(), 200);
        let status: Value = self
            .http
            .get(format!("{}/oauth2/login/status?txn={txn}", self.base))
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json");
        Url::parse(status["redirect_to"].as_str().expect("approved")).expect("callback URL")
    }
}

fn between(html: &str, start: &str) -> String {
    let rest = &html[html.find(start).expect("marker") + start.len()..];
    rest[..rest.find(['"', '<']).expect("end")].to_string()
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn code_and_state(callback: &Url) -> (String, String) {
    (param(callback, "code").expect("code"), param(callback, "state").expect("state"))
}

#[tokio::test]
async fn form_and_qr_logins_with_private_key_jwt() {
    let env = Env::start().await;
    let up = env.upstream();
    let who = demo(DemoCase::NormalLevel2);

    let (url, pending) = up.begin(None, Some(&who.login)).await.expect("begin");
    assert!(url.as_str().starts_with(&format!("{}/oauth2/authorize?", env.base)));
    assert_eq!(param(&url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(&url, "state").as_deref(), Some(pending.state()));
    assert!(param(&url, "nonce").is_some() && param(&url, "acr_values").is_none());
    assert_eq!(param(&url, "login_hint").as_deref(), Some(who.login.as_str()));
    // The caller stores the pending login as JSON in its transaction, and reads it back.
    let pending: xacthuc::citizens::PendingUpstream =
        serde_json::from_str(&serde_json::to_string(&pending).expect("ser")).expect("de");

    let (code, state) = code_and_state(&env.form_login(&url, &who).await);
    let id = citizen(up.complete(&pending, &code, &state).await.expect("complete"));
    assert_eq!(id.personal_id.as_str(), who.personal_id);
    assert_eq!(id.full_name, who.name);
    assert_eq!(id.birth_date.to_string(), "1988-03-14");
    assert_eq!(id.gender, Some(vn_identity::Gender::Female));
    assert_eq!(id.level, AccountLevel::Level2);
    assert_eq!(id.amr, ["pwd"]);
    assert!(!id.subject.is_empty());
    // The same code twice: the e-ID refuses the replay, and we say so.
    let again = up.complete(&pending, &code, &state).await.expect_err("replay");
    assert!(matches!(again, UpstreamError::CodeRejected { ref error, .. } if error == "invalid_grant"), "{again:?}");

    let (url, pending) = up.begin(Some(AccountLevel::Level1), None).await.expect("begin");
    assert_eq!(param(&url, "acr_values").as_deref(), Some("1"));
    let (code, state) = code_and_state(&env.qr_login(&url, &who).await);
    let id = citizen(up.complete(&pending, &code, &state).await.expect("complete QR"));
    assert_eq!(id.amr, ["swk", "mfa"]);
    env.mock.shutdown().await;
}

fn citizen(login: EidLogin) -> EidIdentity {
    match login {
        EidLogin::Citizen(c) => c,
        other => panic!("a citizen's login expected, got {other:?}"),
    }
}

/// Enterprise and organisation accounts come back as organisations, with the tax code or
/// TechID, name, address and the legal representative the e-ID reports.
#[tokio::test]
async fn enterprise_and_organisation_accounts_parse_with_their_representative() {
    let env = Env::start().await;
    let up = Upstream::new(env.config()).expect("upstream");
    let ngoc = demo(DemoCase::NormalLevel2);
    for (case, kind) in
        [(DemoCase::Enterprise, AccountType::Enterprise), (DemoCase::Organisation, AccountType::Organisation)]
    {
        let who = demo(case);
        let (url, pending) = up.begin(None, None).await.expect("begin");
        let (code, state) = code_and_state(&env.form_login(&url, &who).await);
        let EidLogin::Organisation(org) = up.complete(&pending, &code, &state).await.expect("complete") else {
            panic!("{case:?} must be an organisation");
        };
        assert_eq!(org.account_type, kind);
        assert_eq!(org.name, who.name);
        assert!(org.address.as_deref().is_some_and(|a| !a.is_empty()));
        assert!(org.tech_id.is_some());
        let rep = org.representative.clone().expect("NguoiDaiDien");
        assert!(rep.personal_id.is_some() && rep.birth_date.is_some());
        if case == DemoCase::Enterprise {
            assert_eq!(org.tax_code.as_deref(), Some(who.login.as_str()));
            assert_eq!(org.key(), who.login);
            assert_eq!(rep.full_name, ngoc.name);
            assert_eq!(rep.personal_id.map(|p| p.as_str().to_string()), Some(ngoc.personal_id.clone()));
        } else {
            assert_eq!(org.tax_code, None, "an organisation has no tax code");
        }
    }
    // A dissolved enterprise: the e-ID refuses it, and we pass the refusal on.
    let who = demo(DemoCase::DissolvedEnterprise);
    let (url, pending) = up.begin(None, None).await.expect("begin");
    let back = env.form_login(&url, &who).await;
    let error = param(&back, "error").expect("an error callback");
    let e = up.callback_error(&pending, pending.state(), &error, param(&back, "error_description").as_deref());
    assert!(matches!(e, UpstreamError::Denied { ref error, .. } if error == "access_denied"), "{e:?}");
    env.mock.shutdown().await;
}

#[tokio::test]
async fn client_secret_post_works_too() {
    let env = Env::start().await;
    let mut cfg = env.config();
    cfg.client_id = "xacthuc-secret".into();
    cfg.client_auth = ClientAuthConfig::ClientSecretPost { client_secret: SecretString::from("s3cret") };
    let up = Upstream::new(cfg).expect("upstream");
    assert!(up.client_jwks().is_none());
    let who = demo(DemoCase::NameDiffersInCase);
    let (url, pending) = up.begin(None, None).await.expect("begin");
    let (code, state) = code_and_state(&env.form_login(&url, &who).await);
    assert_eq!(citizen(up.complete(&pending, &code, &state).await.expect("complete")).full_name, "Nguyễn Văn An");
    env.mock.shutdown().await;
}

#[tokio::test]
async fn level_2_demanded_of_a_level_1_account_is_refused() {
    let env = Env::start().await;
    let up = env.upstream();
    let who = demo(DemoCase::Level1Only);

    // The e-ID honours acr_values and sends the citizen back with an error.
    let (url, pending) = up.begin(Some(AccountLevel::Level2), None).await.expect("begin");
    assert_eq!(param(&url, "acr_values").as_deref(), Some("2"));
    let callback = env.form_login(&url, &who).await;
    let error = param(&callback, "error").expect("error callback");
    let state = param(&callback, "state").expect("state");
    let e = up.callback_error(&pending, &state, &error, param(&callback, "error_description").as_deref());
    assert!(matches!(e, UpstreamError::Denied { ref error, .. } if error == "unmet_authentication_requirements"));
    assert_eq!(e.rp_error(), RpError::AccessDenied);
    assert!(e.message().vi.contains("mức độ 2") && e.message().en.contains("level-2"));
    assert!(!e.retryable());

    // An e-ID that ignored acr_values (simulated by dropping it from the URL) still cannot
    // make us accept the weaker login.
    let (url, pending) = up.begin(Some(AccountLevel::Level2), None).await.expect("begin");
    let mut weaker = url.clone();
    let kept: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != "acr_values").map(|(k, v)| (k.into(), v.into())).collect();
    weaker.query_pairs_mut().clear().extend_pairs(kept);
    let (code, state) = code_and_state(&env.form_login(&weaker, &who).await);
    let e = up.complete(&pending, &code, &state).await.expect_err("weaker login");
    assert!(
        matches!(e, UpstreamError::LevelTooLow { required: AccountLevel::Level2, got: AccountLevel::Level1 }),
        "{e:?}"
    );
    assert_eq!(e.rp_error(), RpError::AccessDenied);
    env.mock.shutdown().await;
}

#[tokio::test]
async fn unknown_kid_after_rotation_refetches_the_jwks() {
    let env = Env::start().await;
    let up = env.upstream();
    let who = demo(DemoCase::NormalLevel2);
    // First login caches discovery and the JWKS.
    let (url, pending) = up.begin(None, None).await.expect("begin");
    let (code, state) = code_and_state(&env.form_login(&url, &who).await);
    up.complete(&pending, &code, &state).await.expect("before rotation");

    for query in ["", "?drop_old=true"] {
        let r = env.http.post(format!("{}/mock/rotate-key{query}", env.base)).send().await.expect("rotate");
        assert_eq!(r.status(), 200);
        let (url, pending) = up.begin(None, None).await.expect("begin");
        let (code, state) = code_and_state(&env.form_login(&url, &who).await);
        up.complete(&pending, &code, &state).await.expect("verifies with the new key");
    }
    env.mock.shutdown().await;
}

#[tokio::test]
async fn state_mismatch_and_crossed_logins() {
    let env = Env::start().await;
    let up = env.upstream();
    let who = demo(DemoCase::NormalLevel2);
    let (url, pending) = up.begin(None, None).await.expect("begin");
    let (_, other) = up.begin(None, None).await.expect("begin");
    let (code, state) = code_and_state(&env.form_login(&url, &who).await);
    let e = up.complete(&pending, &code, "forged").await.expect_err("forged state");
    assert!(matches!(e, UpstreamError::StateMismatch));
    assert_eq!(e.rp_error(), RpError::ServerError);
    // The callback of one login presented with another's transaction.
    assert!(matches!(up.complete(&other, &code, &state).await, Err(UpstreamError::StateMismatch)));
    // A forged error callback is a state mismatch too, not a denial.
    assert!(matches!(up.callback_error(&pending, "x", "access_denied", None), UpstreamError::StateMismatch));
    // A pending login kept past its lifetime (10 min by default) is refused before any call.
    let mut stale: Value = serde_json::to_value(&pending).expect("ser");
    stale["created_at"] = json!(stale["created_at"].as_i64().unwrap_or(0) - 3600);
    let stale: xacthuc::citizens::PendingUpstream = serde_json::from_value(stale).expect("de");
    assert!(matches!(up.complete(&stale, &code, &state).await, Err(UpstreamError::Expired)));
    // The real one still completes: nothing was consumed by the refusals.
    up.complete(&pending, &code, &state).await.expect("genuine callback");
    env.mock.shutdown().await;
}

#[tokio::test]
async fn discovery_failure_at_first_begin_is_an_honest_error() {
    let env = Env::start().await;
    env.faults(json!({ "max_concurrent": 0 })).await;
    let up = env.upstream();
    let e = up.begin(None, None).await.expect_err("e-ID overloaded");
    assert!(matches!(e, UpstreamError::Unavailable(Unavailability::Maintenance)), "{e:?}");
    assert_eq!(e.rp_error(), RpError::TemporarilyUnavailable);
    env.faults(json!({})).await;
    up.begin(None, None).await.expect("discovery once the e-ID is back");
    // No e-ID at all: connection refused is "unavailable" too, not a hang.
    env.mock.shutdown().await;
    let up = env_upstream_at("http://127.0.0.1:9");
    let e = up.begin(None, None).await.expect_err("nothing listening");
    assert!(matches!(e, UpstreamError::Unavailable(_)), "{e:?}");
}

fn env_upstream_at(issuer: &str) -> Upstream {
    let auth = ClientAuthConfig::PrivateKeyJwt { private_key_pem: SecretString::from(es256_pem()), kid: None };
    Upstream::new(UpstreamConfig::new(issuer, "xacthuc", REDIRECT, auth)).expect("upstream")
}

#[tokio::test]
async fn clock_skew_is_tolerated_only_within_bounds() {
    let env = Env::start().await;
    let up = env.upstream(); // 60 s tolerance; the mock's tokens live 300 s.
    let who = demo(DemoCase::NormalLevel2);
    let login = |skew: i64| {
        let (env, up, who) = (&env, &up, &who);
        async move {
            env.faults(json!({ "clock_skew_secs": skew })).await;
            let (url, pending) = up.begin(None, None).await.expect("begin");
            let (code, state) = code_and_state(&env.form_login(&url, who).await);
            up.complete(&pending, &code, &state).await
        }
    };
    login(-30).await.expect("30 s behind");
    login(30).await.expect("30 s ahead");
    login(-330).await.expect("expired 30 s ago by our clock, within tolerance");
    let e = login(-400).await.expect_err("expired 100 s ago");
    assert!(matches!(e, UpstreamError::TokenRejected(ref m) if m.contains("xpired")), "{e:?}");
    let e = login(600).await.expect_err("issued 10 min in the future");
    assert!(matches!(e, UpstreamError::TokenRejected(_)), "{e:?}");
    env.mock.shutdown().await;
}

#[tokio::test]
async fn down_upstream_fails_fast_opens_the_breaker_and_recovers() {
    let env = Env::start().await;
    let up = env.upstream();
    let who = demo(DemoCase::NormalLevel2);
    let (_, pending) = up.begin(None, None).await.expect("begin caches discovery");
    let state = pending.state().to_string();

    // 5xx on every call: each failure is "unavailable", then the circuit opens.
    env.faults(json!({ "error_rate": 1.0, "error_kinds": ["http500"] })).await;
    for _ in 0..3 {
        let e = up.complete(&pending, "code", &state).await.expect_err("down");
        assert!(matches!(e, UpstreamError::Unavailable(Unavailability::ServerError)), "{e:?}");
        assert_eq!(e.rp_error(), RpError::TemporarilyUnavailable);
        assert!(e.retryable() && e.retry_after_secs().is_some());
    }
    assert_eq!(up.circuit_state(), CircuitState::Open);
    let t = Instant::now();
    let e = up.complete(&pending, "code", &state).await.expect_err("open");
    assert!(matches!(e, UpstreamError::Unavailable(Unavailability::CircuitOpen)), "{e:?}");
    assert!(matches!(up.begin(None, None).await, Err(UpstreamError::Unavailable(Unavailability::CircuitOpen))));
    assert!(t.elapsed() < Duration::from_millis(50), "no call made while open");

    // Repaired: after the cool-down one probe goes through and closes the circuit.
    env.faults(json!({})).await;
    tokio::time::sleep(Duration::from_millis(450)).await;
    let (url, pending) = up.begin(None, None).await.expect("begin after cool-down");
    let (code, state) = code_and_state(&env.form_login(&url, &who).await);
    up.complete(&pending, &code, &state).await.expect("login after recovery");
    assert_eq!(up.circuit_state(), CircuitState::Closed);
    env.mock.shutdown().await;
}

#[tokio::test]
async fn timeouts_maintenance_and_garbage_count_as_failures() {
    let env = Env::start().await;
    let up = env.upstream();
    let (_, pending) = up.begin(None, None).await.expect("begin");
    let state = pending.state().to_string();

    // The e-ID holds the request for 3 s; our 800 ms timeout answers first.
    env.faults(json!({ "error_rate": 1.0, "error_kinds": ["timeout"], "timeout_ms": 3000 })).await;
    let t = Instant::now();
    let e = up.complete(&pending, "code", &state).await.expect_err("timeout");
    assert!(matches!(e, UpstreamError::Unavailable(Unavailability::Timeout)), "{e:?}");
    assert!(t.elapsed() < Duration::from_millis(1500), "bounded by our timeout: {:?}", t.elapsed());

    // Over its capacity the e-ID shows its maintenance page (503 "Hệ thống đang bảo trì").
    env.faults(json!({ "max_concurrent": 0 })).await;
    let e = up.complete(&pending, "code", &state).await.expect_err("maintenance");
    assert!(matches!(e, UpstreamError::Unavailable(Unavailability::Maintenance)), "{e:?}");

    env.faults(json!({ "error_rate": 1.0, "error_kinds": ["malformed_json"] })).await;
    let e = up.complete(&pending, "code", &state).await.expect_err("garbage");
    assert!(matches!(e, UpstreamError::InvalidResponse(_)), "{e:?}");
    // Three consecutive failures of three kinds: the circuit is open.
    assert_eq!(up.circuit_state(), CircuitState::Open);
    // Not `shutdown()`: it would wait for the mock's held "timeout" request to finish.
    drop(env);
}

#[tokio::test]
async fn over_the_in_flight_bound_is_refused_at_once() {
    let env = Env::start().await;
    let mut cfg = env.config();
    cfg.guard.max_in_flight = 2;
    cfg.guard.failure_threshold = 100;
    let up = Arc::new(Upstream::new(cfg).expect("upstream"));
    let (_, pending) = up.begin(None, None).await.expect("begin");
    env.faults(json!({ "latency": { "min_ms": 400, "max_ms": 400 } })).await;

    let t = Instant::now();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (up, pending) = (up.clone(), pending.clone());
            tokio::spawn(async move {
                let r = up.complete(&pending, "no-such-code", pending.state()).await;
                (r, Instant::now())
            })
        })
        .collect();
    let mut overloaded = 0;
    let mut refused_codes = 0;
    for task in tasks {
        let (r, done) = task.await.expect("task");
        match r {
            Err(UpstreamError::Overloaded) => {
                overloaded += 1;
                assert!(done - t < Duration::from_millis(200), "refused without waiting");
            }
            Err(UpstreamError::CodeRejected { .. }) => refused_codes += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((overloaded, refused_codes), (8, 2));
    let e = UpstreamError::Overloaded;
    assert_eq!(e.rp_error().as_str(), "temporarily_unavailable");
    assert!(e.message().vi.contains("thử lại"));
    env.mock.shutdown().await;
}
