//! Bad input never crashes a mock: arbitrary query strings, form bodies and JSON values get an
//! answer (an OAuth error, an error page, a SOAP fault), never a 500 or a dropped connection.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use xacthuc_mocks::faults::FaultConfig;

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: 200, failure_persistence: None, ..Config::default() })
}

#[test]
fn arbitrary_requests_get_answers_not_crashes() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (vneid, vbase) = rt.block_on(common::start_vneid(vec![common::secret_client()], FaultConfig::default()));
    let (pop, pbase) = rt.block_on(common::start_population(FaultConfig::default()));
    let c = common::http();

    // Values that look like the real thing, or nothing like it.
    let text = prop_oneof![
        "\\PC{0,40}",
        "[0-9]{10,13}",
        Just("rp-secret".to_string()),
        Just(common::REDIRECT.to_string()),
        Just("openid".to_string()),
        Just("S256".to_string()),
    ];
    let params = proptest::collection::vec(
        (
            prop_oneof![
                Just("client_id"),
                Just("redirect_uri"),
                Just("response_type"),
                Just("scope"),
                Just("code_challenge"),
                Just("code_challenge_method"),
                Just("acr_values"),
                Just("grant_type"),
                Just("code"),
                Just("client_assertion_type"),
                Just("client_assertion"),
                Just("client_secret"),
                Just("txn"),
                Just("login"),
                Just("passcode"),
                Just("code_verifier"),
            ],
            text.clone(),
        ),
        0..8,
    );

    runner()
        .run(&params, |ps| {
            let pairs: Vec<(&str, &str)> = ps.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            rt.block_on(async {
                for req in [
                    c.get(format!("{vbase}/oauth2/authorize?{query}")),
                    c.post(format!("{vbase}/oauth2/token"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(query.clone()),
                    c.post(format!("{vbase}/oauth2/login"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(query.clone()),
                    c.get(format!("{vbase}/oauth2/login/status?{query}")),
                    c.get(format!("{vbase}/oauth2/logout?{query}")),
                ] {
                    let r = req.send().await.map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
                    prop_assert!(r.status() != 500, "500 for {query}");
                }
                Ok(())
            })
        })
        .unwrap();

    let bodies = proptest::collection::vec(
        (
            prop_oneof![
                Just("SoDinhDanh"),
                Just("HoVaTen"),
                Just("Nam"),
                Just("MaYeuCau"),
                Just("code"),
                Just("login")
            ],
            prop_oneof![
                text.clone().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
                Just(json!([1, 2])),
                Just(json!({"a": 1})),
            ],
        ),
        0..6,
    );
    runner()
        .run(&bodies, |fields| {
            let body: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            rt.block_on(async {
                for path in ["/api/congdan/tracuu", "/api/congdan/hogiadinh"] {
                    let r = c
                        .post(format!("{pbase}{path}"))
                        .header("X-API-Key", "xacthuc-dev-population-key")
                        .json(&body)
                        .send()
                        .await
                        .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
                    prop_assert!(r.status() != 500, "500 for {body:?}");
                }
                let r = c
                    .post(format!("{vbase}/mock/approve"))
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(r.status() != 500);
                Ok(())
            })
        })
        .unwrap();

    rt.block_on(async {
        vneid.shutdown().await;
        pop.shutdown().await;
    });
}
