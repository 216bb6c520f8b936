//! Population-data verification for one-stop counters over real HTTP, on both backend pairs,
//! against the mock population database with the demo citizens: field-by-field answers, old
//! CMND numbers, honest statuses, suggestions only for an officer at a counter, scope checks,
//! rate limits and the audit log.

mod support;

use serde_json::{Value, json};
use support::browser::Browser;
use support::officers::{self, PASSWORD, id_token, officer, password_step, post, to_client};
use support::op::{Backend, TestOp, http};
use xacthuc::crypto::sha256_hex;
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};
use xacthuc_mocks::citizens::DemoCase;
use xacthuc_mocks::{DemoCitizen, demo_citizens};

const SECRET: &str = "one-stop-secret-value-123";

fn demo(case: DemoCase) -> DemoCitizen {
    demo_citizens().into_iter().find(|d| d.case == case).expect("demo case")
}

/// The one-stop software (allowed `population.verify`) and another service (not allowed).
async fn register(op: &TestOp) {
    for (id, scopes) in [("motcua", vec!["population.verify"]), ("other", vec!["reports"])] {
        let c = Client {
            secret_hash: Some(sha256_hex(SECRET)),
            scopes: scopes.into_iter().map(String::from).collect(),
            grant_types: vec![GrantType::ClientCredentials],
            ..Client::new(id, id, AuthMethod::ClientSecretBasic, Vec::new())
        };
        op.state.db.put_client(&c, 0).await.unwrap();
    }
}

async fn client_token(op: &TestOp, client_id: &str, scope: &str) -> String {
    support::rp::client_credentials_token(op, client_id, SECRET, scope).await
}

async fn verify(op: &TestOp, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = http().post(op.url("/api/population/verify")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// An officer at the counter, logged in to the e-office client: their access token.
async fn officer_token(op: &TestOp) -> String {
    let username = support::unique("cb.");
    let (_, secret) = officer(op, &username, true).await;
    let b = Browser::new();
    let (_, tx) = password_step(op, &b, &username, PASSWORD).await;
    let code = officers::code(&secret.expect("a TOTP secret"));
    let r = post(op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &code)]).await;
    id_token(op, &to_client(op, &b, r).await).await.1
}

async fn fields_and_suggestions(backend: Backend) {
    let Some(op) = officers::start(backend).await else { return };
    register(&op).await;
    let token = client_token(&op, "motcua", "population.verify").await;
    let at_counter = officer_token(&op).await;
    // The record keeps the name without diacritics: reported as such; the suggested form only
    // for an officer at the counter.
    let huong = demo(DemoCase::NameDiffersInDiacritics);
    let keyed = json!({ "personal_id": huong.personal_id, "full_name": huong.name, "birth_date": "09/05/1992", "gender": "Nữ" });
    let (status, r) = verify(&op, Some(&token), keyed.clone()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "found");
    assert_eq!(r["fields"]["full_name"]["result"], "diacritics_or_spacing", "{r}");
    assert!(r["fields"]["full_name"]["explanation"]["en"].as_str().unwrap().contains("without diacritics"), "{r}");
    assert!(r["fields"]["full_name"].get("suggestion").is_none(), "no suggestion without an officer: {r}");
    assert_eq!(r["fields"]["birth_date"]["result"], "exact");
    assert_eq!(r["fields"]["gender"]["result"], "exact");
    assert_eq!(r["fields"]["permanent_residence"]["result"], "not_provided");
    let mut with_officer = keyed.clone();
    with_officer["acting_officer_token"] = json!(at_counter);
    let (_, r) = verify(&op, Some(&token), with_officer).await;
    assert_eq!(r["fields"]["full_name"]["suggestion"], "Pham Thi Huong", "{r}");
    // Upper case with diacritics, and Unicode NFD, match.
    for case in [DemoCase::NameDiffersInCase, DemoCase::NameDiffersInUnicodeForm] {
        let d = demo(case);
        let (_, r) = verify(&op, Some(&token), json!({ "personal_id": d.personal_id, "full_name": d.name })).await;
        assert_eq!(r["fields"]["full_name"]["result"], "equivalent", "{case:?}: {r}");
    }
    // A real mismatch, a wrong birth date, a wrong gender.
    let ngoc = demo(DemoCase::NormalLevel2);
    let (_, r) = verify(
        &op,
        Some(&token),
        json!({ "personal_id": ngoc.personal_id, "full_name": "Trần Thị Bích Ngân", "birth_date": "1988-14-03", "gender": "male" }),
    )
    .await;
    assert_eq!(r["fields"], Value::Null, "an unparsable date is refused before any lookup: {r}");
    let (_, r) = verify(
        &op,
        Some(&token),
        json!({ "personal_id": ngoc.personal_id, "full_name": "Trần Thị Bích Ngân", "birth_date": "1988-03-15", "gender": "male" }),
    )
    .await;
    assert_eq!(r["fields"]["full_name"]["result"], "mismatch", "{r}");
    assert_eq!(r["fields"]["birth_date"]["result"], "mismatch");
    assert_eq!(r["fields"]["gender"]["result"], "mismatch");
    op.stop().await;
}
on_both_backends!(fields, super::fields_and_suggestions);

async fn statuses_old_numbers_and_residence(backend: Backend) {
    let Some(op) = officers::start(backend).await else { return };
    register(&op).await;
    let token = client_token(&op, "motcua", "population.verify").await;
    // Deceased and revoked-card records are reported honestly.
    let hung = demo(DemoCase::Deceased);
    let (_, r) = verify(&op, Some(&token), json!({ "personal_id": hung.personal_id, "full_name": hung.name })).await;
    assert_eq!(r["status"], "deceased", "{r}");
    assert!(r["explanation"]["en"].as_str().unwrap().contains("deceased"));
    let lan = demo(DemoCase::RevokedCard);
    let (_, r) = verify(&op, Some(&token), json!({ "personal_id": lan.personal_id, "full_name": lan.name })).await;
    assert_eq!(r["status"], "found");
    assert!(r["notes"][0]["en"].as_str().unwrap_or_default().contains("revoked"), "{r}");
    assert_eq!(r["fields"]["full_name"]["result"], "exact");
    // An old CMND number resolves to the person; the 12-digit number itself only for an
    // officer at the counter.
    let ngoc = demo(DemoCase::NormalLevel2);
    assert_eq!(ngoc.old_id.len(), 9, "born 1988: has an old CMND number");
    let (_, r) = verify(&op, Some(&token), json!({ "personal_id": ngoc.old_id, "full_name": ngoc.name })).await;
    assert_eq!(r["status"], "found", "{r}");
    assert_eq!(r["old_id_linked"], true);
    assert_eq!(r["fields"]["full_name"]["result"], "exact");
    assert!(r.get("personal_id").is_none(), "{r}");
    let mut with_officer = json!({ "personal_id": ngoc.old_id, "full_name": ngoc.name });
    with_officer["acting_officer_token"] = json!(officer_token(&op).await);
    let (_, r) = verify(&op, Some(&token), with_officer).await;
    assert_eq!(r["personal_id"], ngoc.personal_id.as_str());
    assert!(demo(DemoCase::ChildUnder14).old_id.is_empty(), "born 2015: no CMND");
    // Unknown numbers are not found; a malformed one is a clear 400.
    let (_, r) = verify(&op, Some(&token), json!({ "personal_id": "001080999999", "full_name": "Lý Văn Phúc" })).await;
    assert_eq!(r["status"], "not_found", "{r}");
    let (_, r) = verify(&op, Some(&token), json!({ "personal_id": "123456789", "full_name": "X" })).await;
    assert_eq!(r["status"], "not_found", "an unlinked CMND: {r}");
    let (status, r) = verify(&op, Some(&token), json!({ "personal_id": "12ab", "full_name": "X" })).await;
    assert_eq!((status, r["code"].as_str()), (400, Some("invalid")), "{r}");
    let (status, _) = verify(&op, Some(&token), json!({ "personal_id": ngoc.personal_id, "surprise": 1 })).await;
    assert_eq!(status, 400, "unknown fields are refused");
    // The residence, keyed as on an old document (pre-2025 units) or a new one.
    let record = op.state.citizens.as_ref().unwrap().population.clone();
    let key = xacthuc::citizens::PersonKey::PersonalId(vn_identity::PersonalId::parse(&ngoc.personal_id).unwrap());
    let xacthuc::citizens::RecordAnswer::Found(rec) = record.record(&key, "TEST", "TEST").await.unwrap() else {
        panic!("Ngọc is in the population database")
    };
    let home = rec.permanent.clone().expect("a permanent residence");
    let name = |u: &Option<xacthuc::citizens::population::Unit>| u.as_ref().unwrap().name.clone();
    let new_style = format!("{}, {}", name(&home.commune), name(&home.province));
    let (_, r) =
        verify(&op, Some(&token), json!({ "personal_id": ngoc.personal_id, "permanent_residence": new_style })).await;
    assert_eq!(r["fields"]["permanent_residence"]["result"], "equivalent", "{r}");
    assert_eq!(r["fields"]["permanent_residence"]["units"]["after_2025"]["commune"], name(&home.commune));
    assert!(r["fields"]["permanent_residence"]["units"]["before_2025"]["district"].is_string(), "{r}");
    let old_style =
        format!("{}, {}, {}", name(&home.legacy.commune), name(&home.legacy.district), name(&home.legacy.province));
    let (_, r) =
        verify(&op, Some(&token), json!({ "personal_id": ngoc.personal_id, "permanent_residence": old_style })).await;
    assert_eq!(r["fields"]["permanent_residence"]["result"], "equivalent", "{r}");
    assert!(r["fields"]["permanent_residence"]["explanation"]["en"].as_str().unwrap().contains("old"), "{r}");
    let (_, r) = verify(
        &op,
        Some(&token),
        json!({ "personal_id": ngoc.personal_id, "permanent_residence": "Xã Không Có, Tỉnh Không Có" }),
    )
    .await;
    assert_eq!(r["fields"]["permanent_residence"]["result"], "mismatch");
    assert!(r["fields"]["permanent_residence"].get("units").is_none(), "nothing revealed: {r}");
    op.stop().await;
}
on_both_backends!(statuses, super::statuses_old_numbers_and_residence);

async fn who_may_ask_limits_and_audit(backend: Backend) {
    let Some(op) = officers::start(backend).await else { return };
    register(&op).await;
    let ngoc = demo(DemoCase::NormalLevel2);
    let body = json!({ "personal_id": ngoc.personal_id, "full_name": ngoc.name });
    let (status, r) = verify(&op, None, body.clone()).await;
    assert_eq!((status, r["code"].as_str()), (401, Some("unauthenticated")));
    let (status, _) = verify(&op, Some("not-a-token"), body.clone()).await;
    assert_eq!(status, 401);
    let other = client_token(&op, "other", "reports").await;
    let (status, r) = verify(&op, Some(&other), body.clone()).await;
    assert_eq!((status, r["code"].as_str()), (403, Some("forbidden")), "a caller without the scope: {r}");
    let token = client_token(&op, "motcua", "population.verify").await;
    // An acting officer token that is not an officer's is refused, not ignored.
    let mut forged = body.clone();
    forged["acting_officer_token"] = json!(token);
    let (status, _) = verify(&op, Some(&token), forged).await;
    assert_eq!(status, 403);
    // Every call is audited: which officer checked which citizen (masked), and when.
    let at_counter = officer_token(&op).await;
    let mut with_officer = body.clone();
    with_officer["acting_officer_token"] = json!(at_counter);
    let (status, _) = verify(&op, Some(&token), with_officer.clone()).await;
    assert_eq!(status, 200);
    let filter = xacthuc::audit::AuditFilter { action_prefix: Some("population.".into()), ..Default::default() };
    let entries = op.state.audit.query(&filter, xacthuc::audit::Page::default()).await.unwrap();
    let by_officer: Vec<_> =
        entries.iter().filter(|e| e.action == "population.verified" && e.actor.starts_with("officer:")).collect();
    let refused: Vec<_> = entries.iter().filter(|e| e.action == "population.refused").collect();
    assert_eq!(refused.len(), 2, "the caller without the scope and the forged officer token: {entries:?}");
    assert!(refused.iter().any(|e| e.actor == "client:other"), "{refused:?}");
    assert_eq!(by_officer.len(), 1, "{entries:?}");
    assert!(
        by_officer[0].detail.contains("\"client_id\":\"motcua\"") && !by_officer[0].detail.contains(&ngoc.personal_id)
    );
    assert!(by_officer[0].detail.contains(&ngoc.personal_id[..3]), "masked, not dropped: {}", by_officer[0].detail);
    // Rate limits per officer: the 31st call in a minute is refused with Retry-After.
    let mut refused = None;
    // Generous, so that a minute boundary during the loop cannot make it pass vacuously.
    for _ in 0..80 {
        let r =
            http().post(op.url("/api/population/verify")).bearer_auth(&token).json(&with_officer).send().await.unwrap();
        if r.status() == 429 {
            refused = Some(r.headers().get("retry-after").is_some());
            break;
        }
        assert_eq!(r.status(), 200);
    }
    assert_eq!(refused, Some(true), "the per-officer limit holds, with Retry-After");
    op.stop().await;
}
on_both_backends!(access, super::who_may_ask_limits_and_audit);
