//! Verification against the population-database mock over real HTTP: the match rules on the
//! demo citizens, the citizen-facing refusals, the cache and single-flight (counted at the
//! mock), and failures that are not cached and open the breaker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use vn_identity::{Gender, PersonalId};
use xacthuc::citizens::population::{CardStatus, MismatchField};
use xacthuc::citizens::upstream::{AccountType, Unavailability};
use xacthuc::citizens::{
    AccountLevel, CircuitState, ClaimOptions, EidIdentity, GuardConfig, PopulationClient, PopulationConfig, RpError,
    VerifyError, citizen_claims,
};
use xacthuc_mocks::citizens::{DemoCase, Population};
use xacthuc_mocks::population::PopulationConfig as MockConfig;
use xacthuc_mocks::{Running, demo_citizens};

const API_KEY: &str = "test-population-key";

struct Env {
    mock: Running,
    base: String,
    http: reqwest::Client,
    population: Arc<Population>,
}

impl Env {
    async fn start() -> Env {
        let population = Arc::new(Population::generate(7, 2_000));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let cfg = MockConfig { port: 0, api_keys: vec![API_KEY.into()], ..MockConfig::default() };
        let mock = xacthuc_mocks::population::start(cfg, population.clone(), listener).await.expect("start mock");
        Env { mock, base, http: reqwest::Client::new(), population }
    }

    fn config(&self) -> PopulationConfig {
        let mut cfg = PopulationConfig::new(&self.base, API_KEY);
        cfg.guard = GuardConfig {
            timeout: Duration::from_millis(800),
            max_in_flight: 64,
            failure_threshold: 3,
            cool_down: Duration::from_millis(300),
        };
        cfg
    }

    fn client(&self) -> PopulationClient {
        PopulationClient::new(self.config()).expect("client")
    }

    /// The e-ID identity of a demo citizen, as `Upstream::complete` would return it.
    fn eid(&self, case: DemoCase) -> EidIdentity {
        let d = demo_citizens().into_iter().find(|d| d.case == case).expect("demo");
        let id = PersonalId::parse(&d.personal_id).expect("id");
        let c = self.population.get(&id).expect("in population");
        EidIdentity {
            subject: format!("sub-{}", d.personal_id),
            personal_id: id,
            full_name: d.name,
            birth_date: NaiveDate::from_ymd_opt(c.birth_year.into(), c.birth_month.into(), c.birth_day.into())
                .expect("date"),
            gender: Some(c.gender),
            account_type: AccountType::Citizen,
            level: if d.level == 2 { AccountLevel::Level2 } else { AccountLevel::Level1 },
            amr: vec!["pwd".into()],
            auth_time: None,
        }
    }

    async fn lookups(&self) -> usize {
        let log: Vec<Value> = self
            .http
            .get(format!("{}/mock/requests", self.base))
            .send()
            .await
            .expect("requests")
            .json()
            .await
            .expect("json");
        log.iter().filter(|r| r["endpoint"] == "tracuu").count()
    }

    async fn faults(&self, f: Value) {
        let r = self.http.put(format!("{}/mock/faults", self.base)).json(&f).send().await.expect("faults");
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn found_and_mapped_to_claims() {
    let env = Env::start().await;
    let client = env.client();
    let eid = env.eid(DemoCase::NormalLevel2);
    let record = client.verify(&eid).await.expect("verified");
    assert_eq!(record.personal_id, eid.personal_id);
    assert_eq!(record.gender, Some(Gender::Female));
    assert_eq!(record.card, CardStatus::Valid);
    assert_eq!(record.ethnicity.as_ref().map(|e| e.name.as_str()), Some("Kinh"));
    let current = record.current.as_ref().expect("current residence");
    assert!(current.province.is_some() && current.commune.is_some() && current.legacy.district.is_some());

    let claims = citizen_claims(&eid, &record, ClaimOptions::default()).to_json();
    assert_eq!(claims["name"], "Trần Thị Bích Ngọc");
    assert_eq!(claims["family_name"], "Trần");
    assert_eq!(claims["given_name"], "Ngọc");
    assert_eq!(claims["birthdate"], "1988-03-14");
    assert_eq!(claims["gender"], "female");
    assert_eq!(claims["address"]["country"], "VN");
    assert!(claims["address"]["formatted"].as_str().is_some_and(|f| f.ends_with("Việt Nam")));
    assert!(!claims.contains_key("personal_id"));
    let with_id = citizen_claims(&eid, &record, ClaimOptions { personal_id: true }).to_json();
    assert_eq!(with_id["personal_id"], eid.personal_id.as_str());

    // Case and Unicode-form differences in the record still match.
    for case in [DemoCase::NameDiffersInCase, DemoCase::NameDiffersInUnicodeForm, DemoCase::ChildUnder14] {
        let eid = env.eid(case);
        let record = client.verify(&eid).await.unwrap_or_else(|e| panic!("{case:?}: {e}"));
        let name = citizen_claims(&eid, &record, ClaimOptions::default()).name;
        assert_eq!(name, eid.full_name, "{case:?}: NFC, e-ID case when the record shouts");
    }
    env.mock.shutdown().await;
}

#[tokio::test]
async fn refusals_say_what_to_do() {
    let env = Env::start().await;
    let client = env.client();

    let e = client.verify(&env.eid(DemoCase::NameDiffersInDiacritics)).await.expect_err("no diacritics");
    assert!(matches!(e, VerifyError::Mismatch { field: MismatchField::Name }), "{e:?}");
    assert!(e.message().vi.contains("Công an xã, phường") && e.message().en.contains("police"));
    assert_eq!(e.rp_error(), RpError::AccessDenied);

    let e = client.verify(&env.eid(DemoCase::Deceased)).await.expect_err("deceased");
    assert!(matches!(e, VerifyError::Deceased), "{e:?}");
    assert!(e.message().vi.contains("đã mất"));

    let e = client.verify(&env.eid(DemoCase::RevokedCard)).await.expect_err("revoked");
    assert!(matches!(e, VerifyError::CardRevoked), "{e:?}");
    assert!(e.message().vi.contains("thu hồi") && !e.retryable());

    // Same year, another day: only our own rule sees it.
    let mut eid = env.eid(DemoCase::NormalLevel2);
    eid.birth_date = eid.birth_date.succ_opt().expect("date");
    let e = client.verify(&eid).await.expect_err("birth date");
    assert!(matches!(e, VerifyError::Mismatch { field: MismatchField::BirthDate }), "{e:?}");
    // Another year: the database itself reports the mismatch.
    let mut eid = env.eid(DemoCase::NormalLevel2);
    eid.birth_date = NaiveDate::from_ymd_opt(1989, 3, 14).expect("date");
    let e = client.verify(&eid).await.expect_err("birth year");
    assert!(matches!(e, VerifyError::Mismatch { field: MismatchField::NameOrBirthYear }), "{e:?}");

    // A well-formed ID nobody holds.
    let mut eid = env.eid(DemoCase::NormalLevel2);
    eid.personal_id = (0..1_000_000)
        .filter_map(|serial| PersonalId::from_parts(1, Gender::Female, 1988, serial).ok())
        .find(|id| env.population.get(id).is_none())
        .expect("a free ID");
    let e = client.verify(&eid).await.expect_err("unknown person");
    assert!(matches!(e, VerifyError::NotFound), "{e:?}");
    assert!(e.message().en.contains("not found"));
    env.mock.shutdown().await;
}

#[tokio::test]
async fn concurrent_lookups_of_one_person_make_one_request_and_are_cached() {
    let env = Env::start().await;
    // Latency makes the 50 lookups overlap for real.
    env.faults(json!({ "latency": { "min_ms": 200, "max_ms": 200 } })).await;
    let client = Arc::new(env.client());
    let eid = env.eid(DemoCase::NormalLevel2);
    let before = env.lookups().await;

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (client, eid) = (client.clone(), eid.clone());
            tokio::spawn(async move { client.verify(&eid).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("verified");
    }
    assert_eq!(env.lookups().await - before, 1, "50 concurrent verifies, one upstream request");

    let t = Instant::now();
    for _ in 0..50 {
        client.verify(&eid).await.expect("cached");
    }
    assert!(t.elapsed() < Duration::from_millis(200), "served from cache");
    assert_eq!(env.lookups().await - before, 1, "cache hit");

    // Definitive refusals are cached too (briefly); a different person is a new request.
    let deceased = env.eid(DemoCase::Deceased);
    for _ in 0..3 {
        assert!(matches!(client.verify(&deceased).await, Err(VerifyError::Deceased)));
    }
    assert_eq!(env.lookups().await - before, 2);
    client.invalidate(&eid.personal_id).await;
    client.verify(&eid).await.expect("refetched");
    assert_eq!(env.lookups().await - before, 3, "invalidated");
    env.mock.shutdown().await;
}

#[tokio::test]
async fn failures_are_not_cached_and_open_the_breaker() {
    let env = Env::start().await;
    let client = env.client();
    let eid = env.eid(DemoCase::NormalLevel2);

    env.faults(json!({ "error_rate": 1.0, "error_kinds": ["malformed_json"] })).await;
    let e = client.verify(&eid).await.expect_err("garbage");
    assert!(matches!(e, VerifyError::InvalidResponse(_)), "{e:?}");
    env.faults(json!({ "error_rate": 1.0, "error_kinds": ["http500"] })).await;
    let e = client.verify(&eid).await.expect_err("down");
    assert!(matches!(e, VerifyError::Unavailable(Unavailability::ServerError)), "{e:?}");
    assert_eq!(e.rp_error(), RpError::TemporarilyUnavailable);
    env.faults(json!({ "max_concurrent": 0 })).await;
    let e = client.verify(&eid).await.expect_err("maintenance");
    assert!(matches!(e, VerifyError::Unavailable(Unavailability::Maintenance)), "{e:?}");
    assert!(e.message().vi.contains("thử lại"));

    // Three consecutive failures: open, and refusing without a request.
    assert_eq!(client.circuit_state(), CircuitState::Open);
    let before = env.lookups().await;
    let t = Instant::now();
    let e = client.verify(&eid).await.expect_err("open");
    assert!(matches!(e, VerifyError::Unavailable(Unavailability::CircuitOpen)), "{e:?}");
    assert!(t.elapsed() < Duration::from_millis(50));
    assert_eq!(env.lookups().await, before);

    // Repaired and cooled down: the failure was not cached, the probe closes the circuit.
    env.faults(json!({})).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    client.verify(&eid).await.expect("recovered");
    assert_eq!(client.circuit_state(), CircuitState::Closed);

    // A timeout is bounded by ours, not the database's.
    env.faults(json!({ "error_rate": 1.0, "error_kinds": ["timeout"], "timeout_ms": 3000 })).await;
    let t = Instant::now();
    let e = client.verify(&env.eid(DemoCase::NameDiffersInCase)).await.expect_err("timeout");
    assert!(matches!(e, VerifyError::Unavailable(Unavailability::Timeout)), "{e:?}");
    assert!(t.elapsed() < Duration::from_millis(1500));
    // Not `shutdown()`: it would wait for the held request.
    drop(env);
}

#[tokio::test]
async fn a_wrong_api_key_is_our_problem_not_the_citizens() {
    let env = Env::start().await;
    let mut cfg = env.config();
    cfg.api_key = "wrong".to_string().into();
    let client = PopulationClient::new(cfg).expect("client");
    let e = client.verify(&env.eid(DemoCase::NormalLevel2)).await.expect_err("refused");
    assert!(matches!(e, VerifyError::Rejected(_)), "{e:?}");
    assert_eq!(e.rp_error(), RpError::ServerError);
    assert_eq!(client.circuit_state(), CircuitState::Closed, "a refusal is not an outage");
    env.mock.shutdown().await;
}
