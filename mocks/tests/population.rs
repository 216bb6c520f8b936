//! The population mock over real HTTP: found, not found, mismatch and deceased, parsed from the
//! SOAP envelope inside the JSON `message`; household lookup; API key; audit log.

mod common;

use common::*;
use serde_json::{Value, json};
use xacthuc_mocks::citizens::{CardStatus, DemoCase, LifeStatus, Population};
use xacthuc_mocks::demo_citizens;
use xacthuc_mocks::faults::FaultConfig;

const KEY: &str = "xacthuc-dev-population-key";

async fn ask(c: &reqwest::Client, base: &str, path: &str, body: Value) -> reqwest::Response {
    c.post(format!("{base}{path}")).header("X-API-Key", KEY).json(&body).send().await.unwrap()
}

/// Parses the `message` envelope: either the CongDan records or the fault code.
fn parse(resp: &Value) -> Result<Vec<roxmltree_owned::CongDan>, String> {
    roxmltree_owned::parse(resp["message"].as_str().expect("message is a string"))
}

/// A small owned view of the XML (roxmltree borrows the text).
mod roxmltree_owned {
    pub struct CongDan {
        pub so_dinh_danh: String,
        pub ho_va_ten: String,
        pub ngay_sinh: String,
        pub the: String,
        pub tinh_moi: String,
        pub chu_ho: String,
    }

    pub fn parse(xml: &str) -> Result<Vec<CongDan>, String> {
        let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "Envelope");
        let body = root.children().find(|n| n.tag_name().name() == "Body").expect("Body");
        if let Some(fault) = body.children().find(|n| n.tag_name().name() == "Fault") {
            let code =
                fault.descendants().find(|n| n.tag_name().name() == "MaLoi").and_then(|n| n.text()).unwrap_or("");
            return Err(code.to_string());
        }
        let coll = body.children().find(|n| n.tag_name().name() == "CongdanCollection").expect("CongdanCollection");
        Ok(coll
            .children()
            .filter(|n| n.tag_name().name() == "CongDan")
            .map(|cd| {
                let text = |path: &[&str]| {
                    let mut node = Some(cd);
                    for p in path {
                        node = node.and_then(|n| n.children().find(|c| c.tag_name().name() == *p));
                    }
                    node.and_then(|n| n.text()).unwrap_or("").to_string()
                };
                CongDan {
                    so_dinh_danh: text(&["SoDinhDanh"]),
                    ho_va_ten: text(&["HoVaTen"]),
                    ngay_sinh: text(&["NgayThangNamSinh"]),
                    the: text(&["TheCanCuoc", "TrangThai"]),
                    tinh_moi: text(&["ThuongTru", "SauSapNhap", "MaTinhThanh"]),
                    chu_ho: text(&["ChuHo", "SoDinhDanh"]),
                }
            })
            .collect())
    }
}

fn demo(case: DemoCase) -> xacthuc_mocks::DemoCitizen {
    demo_citizens().into_iter().find(|d| d.case == case).unwrap()
}

#[tokio::test]
async fn found_not_found_mismatch_and_deceased() {
    let (mock, base) = start_population(FaultConfig::default()).await;
    let c = http();
    let d = demo(DemoCase::NormalLevel2);
    let req = |id: &str, name: &str, year: Value, code: &str| json!({"SoDinhDanh": id, "HoVaTen": name, "Nam": year, "MaYeuCau": code, "MaCanBo": "CB01", "MaDVC": "1.000001", "MaTichHop": "XACTHUC"});

    // Found: folded name and year match.
    let r: Value =
        ask(&c, &base, "/api/congdan/tracuu", req(&d.personal_id, "TRAN THI BICH NGOC", json!(1988), "REQ-1"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(r["MaYeuCau"], "REQ-1");
    let rec = parse(&r).expect("record");
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].so_dinh_danh, d.personal_id);
    assert_eq!(rec[0].ho_va_ten, "Trần Thị Bích Ngọc");
    assert_eq!(rec[0].ngay_sinh, "19880314");
    assert_eq!(rec[0].the, "HOP_LE");
    assert_eq!(rec[0].tinh_moi, "01");

    // Not found: a valid-format ID nobody holds.
    let r: Value = ask(&c, &base, "/api/congdan/tracuu", req("001099999999", "AI DO", json!(1999), "REQ-2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(parse(&r).err().as_deref(), Some("KHONG_TIM_THAY"));

    // Mismatch: wrong name, then wrong year (given as a string, as some integrations send it).
    let r: Value =
        ask(&c, &base, "/api/congdan/tracuu", req(&d.personal_id, "TRAN THI BICH NGA", json!(1988), "REQ-3"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(parse(&r).err().as_deref(), Some("THONG_TIN_KHONG_KHOP"));
    let r: Value =
        ask(&c, &base, "/api/congdan/tracuu", req(&d.personal_id, "TRAN THI BICH NGOC", json!("1989"), "REQ-4"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(parse(&r).err().as_deref(), Some("THONG_TIN_KHONG_KHOP"));

    // Deceased.
    let dead = demo(DemoCase::Deceased);
    let r: Value = ask(&c, &base, "/api/congdan/tracuu", req(&dead.personal_id, "DO VAN HUNG", json!(1941), "REQ-5"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(parse(&r).err().as_deref(), Some("CONG_DAN_DA_MAT"));

    // A malformed ID is a client fault in the envelope.
    let r: Value =
        ask(&c, &base, "/api/congdan/tracuu", req("12345", "X", json!(2000), "REQ-6")).await.json().await.unwrap();
    assert_eq!(parse(&r).err().as_deref(), Some("YEU_CAU_KHONG_HOP_LE"));

    // Every request was logged with its MaYeuCau.
    let log: Vec<Value> = c.get(format!("{base}/mock/requests")).send().await.unwrap().json().await.unwrap();
    let codes: Vec<&str> = log.iter().filter_map(|e| e["MaYeuCau"].as_str()).collect();
    assert_eq!(codes, ["REQ-1", "REQ-2", "REQ-3", "REQ-4", "REQ-5", "REQ-6"]);
    mock.shutdown().await;
}

#[tokio::test]
async fn awkward_names_revoked_card_and_household() {
    let (mock, base) = start_population(FaultConfig::default()).await;
    let c = http();
    let ask_one = |d: xacthuc_mocks::DemoCitizen| {
        let c = c.clone();
        let base = base.clone();
        async move {
            let folded = vn_identity::fold_name(&d.name);
            let r: Value = ask(
                &c,
                &base,
                "/api/congdan/tracuu",
                json!({"SoDinhDanh": d.personal_id, "HoVaTen": folded, "MaYeuCau": "R"}),
            )
            .await
            .json()
            .await
            .unwrap();
            parse(&r).expect("found").remove(0)
        }
    };
    // Case only: same name under xacthuc's rule.
    let d = demo(DemoCase::NameDiffersInCase);
    let rec = ask_one(d.clone()).await;
    assert_eq!(rec.ho_va_ten, "NGUYỄN VĂN AN");
    assert!(vn_identity::names_match(&rec.ho_va_ten, &d.name));
    // Diacritics dropped: the lookup (folded) still finds it, but the names do not match.
    let d = demo(DemoCase::NameDiffersInDiacritics);
    let rec = ask_one(d.clone()).await;
    assert_eq!(rec.ho_va_ten, "Pham Thi Huong");
    assert!(!vn_identity::names_match(&rec.ho_va_ten, &d.name));
    // NFD: different bytes, same name.
    let d = demo(DemoCase::NameDiffersInUnicodeForm);
    let rec = ask_one(d.clone()).await;
    assert_ne!(rec.ho_va_ten, d.name);
    assert!(vn_identity::names_match(&rec.ho_va_ten, &d.name));
    // Revoked card.
    assert_eq!(ask_one(demo(DemoCase::RevokedCard)).await.the, "DA_THU_HOI");

    // Household of the child: the father (case-only demo) is the head, listed first.
    let child = demo(DemoCase::ChildUnder14);
    let r: Value = ask(&c, &base, "/api/congdan/hogiadinh", json!({"SoDinhDanh": child.personal_id, "MaYeuCau": "H1"}))
        .await
        .json()
        .await
        .unwrap();
    let members = parse(&r).expect("household");
    let father = demo(DemoCase::NameDiffersInCase);
    assert_eq!(members[0].so_dinh_danh, father.personal_id);
    assert!(members.iter().any(|m| m.so_dinh_danh == child.personal_id));
    assert!(members.iter().all(|m| m.chu_ho == father.personal_id));
    mock.shutdown().await;
}

#[tokio::test]
async fn api_key_and_request_code_are_required() {
    let (mock, base) = start_population(FaultConfig::default()).await;
    let c = http();
    let body = json!({"SoDinhDanh": "001188271828", "MaYeuCau": "R"});
    let r = c.post(format!("{base}/api/congdan/tracuu")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c.post(format!("{base}/api/congdan/tracuu")).header("X-API-Key", "wrong").json(&body).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = ask(&c, &base, "/api/congdan/tracuu", json!({"SoDinhDanh": "001188271828"})).await;
    assert_eq!(r.status(), 400);
    let r =
        c.post(format!("{base}/api/congdan/tracuu")).header("X-API-Key", KEY).body("not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    mock.shutdown().await;
}

#[test]
fn every_e_id_citizen_is_in_the_population_with_generated_awkward_records() {
    let pop = Population::generate(SEED, CITIZENS);
    assert!(pop.iter().filter(|c| c.status == LifeStatus::Deceased).count() > 0);
    assert!(pop.iter().filter(|c| c.card == CardStatus::Revoked).count() > 0 || CITIZENS < 5_000);
    assert!(pop.iter().filter(|c| c.age() < 14 && c.eid_level == Some(1)).count() > 0);
    assert!(pop.iter().all(|c| c.age() >= 14 || c.eid_level != Some(2)), "no level 2 under 14");
    for d in demo_citizens().into_iter().filter(|d| d.account_type == 1) {
        let id = vn_identity::PersonalId::parse(&d.personal_id).unwrap();
        assert!(pop.get(&id).is_some(), "{}", d.personal_id);
    }
}
