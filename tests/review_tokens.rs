//! Authorization codes and refresh tokens after the outside review, over real HTTP on both
//! backend pairs: a code outlives neither its session nor its consent; a leaked code or refresh
//! token presented by another client burns and revokes nothing; and the opt-in refresh grace
//! window, under 200 concurrent presentations of one token.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use support::browser::{Browser, ConsentChoice, EidLogin};
use support::op::{Backend, TestOp};
use support::rp::Rp;
use xacthuc::crypto::sha256_hex;
use xacthuc::oidc::clients::{Client, MAX_REFRESH_TOKEN_GRACE_SECS};
use xacthuc_mocks::{DemoCase, demo_citizens};

/// The login and passcode of a demo citizen who logs in successfully.
fn citizen(case: DemoCase) -> (String, String) {
    let c = demo_citizens().into_iter().find(|c| c.case == case).expect("demo citizen");
    (c.login, c.passcode)
}

/// Logs `who` in at `rp` through the e-ID, consenting; the code that comes back.
async fn login(op: &TestOp, b: &Browser, rp: &Rp, who: &(String, String), extra: &[(&str, &str)]) -> String {
    let eid = EidLogin::Form { login: &who.0, passcode: &who.1 };
    b.journey(&rp.auth_url(op, extra), &rp.redirect, eid, ConsentChoice::Allow).await.code()
}

async fn json(r: reqwest::Response) -> (u16, Value) {
    (r.status().as_u16(), r.json().await.expect("JSON answer"))
}

/// Tokens from a successful token request.
async fn tokens(r: reqwest::Response) -> Value {
    let (status, body) = json(r).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn assert_invalid_grant(r: reqwest::Response, what: &str) {
    let (status, body) = json(r).await;
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["error"], "invalid_grant", "{what}");
}

fn refresh_token(tokens: &Value) -> String {
    tokens["refresh_token"].as_str().expect("a refresh token").to_owned()
}

/// How many usable refresh tokens the family of `token` holds: unspent, in a live grant.
async fn live_in_family(op: &TestOp, token: &str) -> i64 {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT COUNT(*) FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
         WHERE r.used_at IS NULL AND g.revoked_at IS NULL \
         AND r.grant_id = (SELECT grant_id FROM refresh_tokens WHERE token_hash = $1)",
    )
    .bind(sha256_hex(token))
    .fetch_one(op.state.db.pool())
    .await
    .expect("count the family");
    row.try_get(0).expect("count")
}

/// Withdraws the first consent listed on the account page, as the user would.
async fn withdraw_consent(b: &Browser, op: &TestOp) -> reqwest::Response {
    let page = b.http.get(op.url("/account")).send().await.unwrap().text().await.unwrap();
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        page.split(marker.as_str()).nth(1).expect("a consent row").split('"').next().unwrap().to_owned()
    };
    let form = [("id", field("id")), ("csrf", field("csrf"))];
    b.http.post(op.url("/account/consents/revoke")).form(&form).send().await.unwrap()
}

async fn code_after_logout_or_withdrawn_consent(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let portal = Rp::new("portal");
    portal.register(&op, &portal.client()).await;

    // RP-initiated logout between the code and its redemption.
    let b = Browser::new();
    let first =
        tokens(portal.redeem(&op, &login(&op, &b, &portal, &citizen(DemoCase::NormalLevel2), &[]).await).await).await;
    let pending = portal.code_from_session(&op, &b, &[]).await;
    let r = b
        .http
        .get(op.url("/logout"))
        .query(&[("id_token_hint", first["id_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "logout: {}", r.status());
    assert_invalid_grant(portal.redeem(&op, &pending).await, "code of a logged-out session").await;

    // The consent withdrawn on the account page between the code and its redemption.
    let b = Browser::new();
    tokens(portal.redeem(&op, &login(&op, &b, &portal, &citizen(DemoCase::Level1Only), &[]).await).await).await;
    let pending = portal.code_from_session(&op, &b, &[]).await;
    assert_eq!(withdraw_consent(&b, &op).await.status(), 303);
    assert_invalid_grant(portal.redeem(&op, &pending).await, "code under a withdrawn consent").await;

    // A trusted client needs no consent, except for the personal ID.
    let first_party = Rp::new("firstparty");
    first_party.register(&op, &Client { trusted: true, ..first_party.client() }).await;
    let b = Browser::new();
    let who = citizen(DemoCase::NameDiffersInCase);
    let scope = [("scope", "openid profile personal_id")];
    tokens(first_party.redeem(&op, &login(&op, &b, &first_party, &who, &scope).await).await).await;
    let with_id = first_party.code_from_session(&op, &b, &scope).await;
    assert_eq!(withdraw_consent(&b, &op).await.status(), 303);
    assert_invalid_grant(first_party.redeem(&op, &with_id).await, "personal ID without consent").await;
    let without_id = first_party.code_from_session(&op, &b, &[("scope", "openid profile")]).await;
    tokens(first_party.redeem(&op, &without_id).await).await;
    op.stop().await;
}
on_both_backends!(code_needs_live_session_and_consent, super::code_after_logout_or_withdrawn_consent);

async fn leaked_code_and_refresh_token_at_another_client(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let (portal, thief) = (Rp::new("portal"), Rp::new("thief"));
    portal.register(&op, &portal.client()).await;
    thief.register(&op, &thief.client()).await;
    let b = Browser::new();
    let code = login(&op, &b, &portal, &citizen(DemoCase::NormalLevel2), &[]).await;

    // Another registered client, authenticated as itself, presents the leaked code: refused,
    // and the code is neither burnt nor its redemption taken for a replay.
    assert_invalid_grant(thief.redeem_for(&op, &portal, &code).await, "code of another client").await;
    let t = tokens(portal.redeem(&op, &code).await).await;
    let rt1 = refresh_token(&t);

    // The same with a live refresh token, then with a spent one (reuse must not be detected
    // on someone else's behalf: that would revoke the owner's family).
    assert_invalid_grant(thief.refresh(&op, &rt1).await, "live refresh token of another client").await;
    let rt2 = refresh_token(&tokens(portal.refresh(&op, &rt1).await).await);
    assert_invalid_grant(thief.refresh(&op, &rt1).await, "spent refresh token of another client").await;
    let rt3 = refresh_token(&tokens(portal.refresh(&op, &rt2).await).await);
    assert_eq!(live_in_family(&op, &rt3).await, 1);

    // The owner's own replays are still caught, and revoke.
    assert_invalid_grant(portal.redeem(&op, &code).await, "code replayed by its owner").await;
    assert_invalid_grant(portal.refresh(&op, &rt3).await, "family revoked by the code replay").await;
    let code = portal.code_from_session(&op, &b, &[]).await;
    let rt1 = refresh_token(&tokens(portal.redeem(&op, &code).await).await);
    let rt2 = refresh_token(&tokens(portal.refresh(&op, &rt1).await).await);
    assert_invalid_grant(portal.refresh(&op, &rt1).await, "refresh token reused by its owner").await;
    assert_invalid_grant(portal.refresh(&op, &rt2).await, "family revoked by the reuse").await;
    op.stop().await;
}
on_both_backends!(leaks_at_another_client, super::leaked_code_and_refresh_token_at_another_client);

/// A client's refresh token, already rotated once: (the rotated token, its successor).
async fn rotated_once(op: &TestOp, b: &Browser, rp: &Rp) -> (String, String) {
    let code = rp.code_from_session(op, b, &[]).await;
    let rt1 = refresh_token(&tokens(rp.redeem(op, &code).await).await);
    let rt2 = refresh_token(&tokens(rp.refresh(op, &rt1).await).await);
    assert_ne!(rt1, rt2);
    (rt1, rt2)
}

/// Every one of `answers` succeeded, each with a fresh access token and all with one and the
/// same refresh token, which it returns.
fn one_successor(answers: &[(u16, Value)]) -> String {
    for (status, body) in answers {
        assert_eq!(*status, 200, "{body}");
    }
    let successors: HashSet<&str> = answers.iter().map(|(_, b)| b["refresh_token"].as_str().unwrap()).collect();
    assert_eq!(successors.len(), 1, "the family must not fork: {successors:?}");
    let access: HashSet<&str> = answers.iter().map(|(_, b)| b["access_token"].as_str().unwrap()).collect();
    assert_eq!(access.len(), answers.len(), "each answer carries its own access token");
    successors.into_iter().next().unwrap_or_default().to_owned()
}

async fn refresh_grace_under_concurrency(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let (tabs, strict) = (Rp::new("tabs"), Rp::new("strict"));
    tabs.register(&op, &Client { refresh_token_grace_secs: 30, ..tabs.client() }).await;
    strict.register(&op, &strict.client()).await;
    let b = Browser::new();
    let who = citizen(DemoCase::NormalLevel2);
    login(&op, &b, &tabs, &who, &[]).await;
    login(&op, &b, &strict, &who, &[]).await;

    // Grace on: 200 concurrent presentations of the just-rotated token all get its successor.
    let (rt1, rt2) = rotated_once(&op, &b, &tabs).await;
    let answers = tabs.refresh_concurrently(&op, &rt1, 200).await;
    assert_eq!(one_successor(&answers), rt2);
    assert_eq!(live_in_family(&op, &rt2).await, 1, "exactly one live token in the family");
    // The successor keeps working, and the chain goes on with one live token.
    let rt3 = refresh_token(&tokens(tabs.refresh(&op, &rt2).await).await);
    assert_eq!(live_in_family(&op, &rt3).await, 1);
    // 200 concurrent presentations of a token not yet rotated: one rotates it, the others
    // race with that rotation, and every one of them still gets the same successor.
    let answers = tabs.refresh_concurrently(&op, &rt3, 200).await;
    let rt4 = one_successor(&answers);
    assert_ne!(rt4, rt3);
    assert_eq!(live_in_family(&op, &rt4).await, 1);
    tokens(tabs.refresh(&op, &rt4).await).await;

    // Grace off (the default): the same experiment is theft, and revokes the family.
    let (rt1, rt2) = rotated_once(&op, &b, &strict).await;
    for (status, body) in strict.refresh_concurrently(&op, &rt1, 200).await {
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
    assert_invalid_grant(strict.refresh(&op, &rt2).await, "family revoked without grace").await;
    assert_eq!(live_in_family(&op, &rt2).await, 0);
    op.stop().await;
}
on_both_backends!(refresh_grace_concurrency, super::refresh_grace_under_concurrency);

async fn refresh_grace_limits(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let (tabs, brief, other) = (Rp::new("tabs"), Rp::new("brief"), Rp::new("other"));
    tabs.register(&op, &Client { refresh_token_grace_secs: 30, ..tabs.client() }).await;
    brief.register(&op, &Client { refresh_token_grace_secs: 1, ..brief.client() }).await;
    other.register(&op, &Client { refresh_token_grace_secs: 30, ..other.client() }).await;
    let b = Browser::new();
    let who = citizen(DemoCase::NormalLevel2);
    for rp in [&tabs, &brief, &other] {
        login(&op, &b, rp, &who, &[]).await;
    }

    // Another client presenting the just-rotated token (within the window, and with a grace
    // window of its own): refused, and nothing is revoked.
    let (rt1, rt2) = rotated_once(&op, &b, &tabs).await;
    assert_invalid_grant(other.refresh(&op, &rt1).await, "another client within the window").await;
    assert_eq!(refresh_token(&tokens(tabs.refresh(&op, &rt1).await).await), rt2, "the owner's grace still works");
    let rt3 = refresh_token(&tokens(tabs.refresh(&op, &rt2).await).await);
    // An older ancestor (rt1, whose successor rt2 is spent) is theft even within the window.
    assert_invalid_grant(tabs.refresh(&op, &rt1).await, "ancestor within the window").await;
    assert_invalid_grant(tabs.refresh(&op, &rt3).await, "family revoked by the ancestor").await;

    // Outside the window: theft again.
    let (rt1, rt2) = rotated_once(&op, &b, &brief).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_invalid_grant(brief.refresh(&op, &rt1).await, "outside the window").await;
    assert_invalid_grant(brief.refresh(&op, &rt2).await, "family revoked after the window").await;
    op.stop().await;
}
on_both_backends!(refresh_grace_bounds, super::refresh_grace_limits);

/// The opt-in is set through the clients file (or `xacthuc clients add
/// --refresh-token-grace-secs`), and bounded.
#[tokio::test]
async fn refresh_grace_registration() {
    let (db, dir) = support::sqlite_db().await;
    let file = dir.path().join("clients.json");
    let entry = |grace: u64| {
        serde_json::json!([{
            "client_id": "tabs", "name": "Tabs", "auth_method": "client_secret_basic", "client_secret": "s3cret-s3cret",
            "redirect_uris": ["https://tabs.example.vn/cb"], "scopes": ["openid"],
            "grant_types": ["authorization_code", "refresh_token"], "refresh_token_grace_secs": grace,
        }])
        .to_string()
    };
    std::fs::write(&file, entry(20)).unwrap();
    xacthuc::oidc::clients::load_file(&db, &file, 0).await.unwrap();
    assert_eq!(db.client("tabs").await.unwrap().unwrap().refresh_token_grace_secs, 20);
    std::fs::write(&file, entry(MAX_REFRESH_TOKEN_GRACE_SECS + 1)).unwrap();
    let e = xacthuc::oidc::clients::load_file(&db, &file, 0).await.unwrap_err();
    assert!(e.contains("refresh_token_grace_secs"), "{e}");

    let cli = |args: &[&str]| {
        std::process::Command::new(support::xacthuc_bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display()))
            .output()
            .expect("run xacthuc")
    };
    let add = ["clients", "add", "--id", "x", "--name", "X", "--redirect-uri", "https://x.example.vn/cb"];
    let out = cli(&[&add[..], &["--refresh-token-grace-secs", "61"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refresh_token_grace_secs"));
    let out = cli(&[&add[..], &["--refresh-token-grace-secs", "15"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: Value = serde_json::from_slice(&cli(&["clients", "list"]).stdout).expect("clients list is JSON");
    assert_eq!(listed[0]["refresh_token_grace_secs"], 15);
}
