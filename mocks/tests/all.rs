//! `start_all`: the three mocks on one shared population, as `xacthuc dev` starts them.

use serde_json::{Value, json};
use xacthuc_mocks::{MocksConfig, demo_citizens, start_all};

#[tokio::test]
async fn start_all_serves_the_three_mocks_on_one_population() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = MocksConfig { data_dir: dir.path().to_path_buf(), citizens: 1_000, ..MocksConfig::default() };
    cfg.vneid.port = 0;
    cfg.population.port = 0;
    cfg.gov_ca.port = 0;
    let m = start_all(cfg).await.expect("start_all");
    let c = reqwest::Client::new();

    let disco: Value = c
        .get(format!("http://{}/.well-known/openid-configuration", m.vneid))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["issuer"], "http://localhost:8081");

    // Every demo citizen known to the e-ID is in the population database.
    for d in demo_citizens().into_iter().filter(|d| d.account_type == 1) {
        let r: Value = c
            .post(format!("http://{}/api/congdan/tracuu", m.population))
            .header("X-API-Key", "xacthuc-dev-population-key")
            .json(&json!({"SoDinhDanh": d.personal_id, "MaYeuCau": "all-1"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let msg = r["message"].as_str().unwrap();
        assert!(msg.contains(&d.personal_id) || msg.contains("CONG_DAN_DA_MAT"), "{msg}");
    }

    let root = c.get(format!("http://{}/ca/root.pem", m.gov_ca)).send().await.unwrap().text().await.unwrap();
    assert!(root.contains("BEGIN CERTIFICATE"));
    // State lands in the data folder.
    assert!(dir.path().join("gov-ca/root.pem").exists());
    assert!(dir.path().join("vneid/vneid-signing-key.pk8").exists());
    m.shutdown().await;
}

#[test]
fn readme_lists_the_demo_identities_as_the_code_makes_them() {
    let readme = include_str!("../README.md");
    for d in demo_citizens() {
        let row = format!("| {} | {} | {} | {} |", d.login, d.passcode, d.level, d.name);
        assert!(readme.contains(&row), "README demo table lacks: {row}");
    }
}
