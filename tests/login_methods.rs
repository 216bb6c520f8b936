//! The login-method seam: a method registered only here completes whole logins through the
//! provider's transaction, binding, choice page, consent and code, copying nothing from the
//! citizens module; the provider holds it to what the request demands (level, party, max_age,
//! prompt=login), and bounds what anonymous requests may store.

mod support;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use support::browser::Browser;
use support::op::{Backend, TestOp, http};
use support::rp::Rp;
use xacthuc::app::MethodPlugin;
use xacthuc::oidc::Provider;
use xacthuc::oidc::acr::{Class, Level, Party};
use xacthuc::oidc::login::{Authenticated, LoginMethod};
use xacthuc::oidc::routes::login::{self as op, PageForm};
use xacthuc::oidc::routes::pages::{OrPage, PageError};
use xacthuc::web::page::Text;

const PIN: &str = "urn:test:acr:pin";
const METHOD: &str = "test-pin";

static CLASSES: &[Class] =
    &[Class { acr: PIN, level: Level::new(Party::Officer, 1), name: Text::new("Mã PIN thử", "Test PIN") }];

#[derive(Deserialize)]
struct StartForm {
    tx: String,
    /// When the test user "authenticated": `now` (default), `old` (an hour ago), `unknown`.
    #[serde(default)]
    auth: String,
}

/// The whole method: authenticate (trivially) and hand the user to the provider.
async fn start(
    State(p): State<Provider>,
    headers: HeaderMap,
    PageForm(f): PageForm<StartForm>,
) -> Result<Response, PageError> {
    let (tx, lang) = op::begin(&p, &headers, &f.tx, METHOD).await?;
    let now = xacthuc::clock::unix_now();
    let profile = serde_json::json!({ "name": "Nguyễn Văn Thử" });
    let account = p.db.upsert_account("test", "test:officer-1", &profile, now).await.or_page(lang)?;
    let auth_time = match f.auth.as_str() {
        "unknown" => None,
        "old" => Some(now - 3600),
        _ => Some(now),
    };
    let who = Authenticated {
        method: METHOD,
        account_id: account.id,
        acr: PIN,
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        auth_time,
        actor: None,
        cert_thumbprint: None,
    };
    Ok(op::finish(&p, &headers, tx, who).await)
}

fn plugin() -> MethodPlugin {
    MethodPlugin {
        method: LoginMethod {
            id: METHOD,
            name: Text::new("Đăng nhập bằng mã PIN thử", "Log in with a test PIN"),
            hint: None,
            classes: CLASSES,
            start: "/login/test-pin",
        },
        routes: |p| Router::new().route("/login/test-pin", post(start)).with_state(p),
    }
}

async fn start_op(backend: Backend, tweak: impl FnOnce(&mut xacthuc::config::Config)) -> Option<TestOp> {
    let op = TestOp::start_with_methods(backend, tweak, vec![plugin()]).await?;
    let rp = rp();
    rp.register(&op, &rp.client()).await;
    Some(op)
}

fn rp() -> Rp {
    Rp::new("eoffice")
}

fn auth_url(op: &TestOp, extra: &[(&str, &str)]) -> String {
    rp().auth_url(op, extra)
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker).unwrap_or_else(|| panic!("no {name} in {body}")) + marker.len();
    body[i..].split('"').next().unwrap().to_owned()
}

/// `/authorize` in this browser; returns the login page's body and the transaction id.
async fn login_page(op: &TestOp, b: &Browser, extra: &[(&str, &str)]) -> (String, String) {
    let r = b.http.get(auth_url(op, extra)).send().await.unwrap();
    let loc = location(&r);
    assert!(loc.starts_with("/login?tx="), "a login is needed: {loc}");
    let page = b.http.get(op.url(&loc)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    let tx = hidden(&body, "tx");
    (body, tx)
}

/// Follows redirects (and consent, allowing) until the client's redirect URI; its query.
async fn to_client(op: &TestOp, b: &Browser, mut r: reqwest::Response) -> url::Url {
    for _ in 0..6 {
        let loc = location(&r);
        if loc.starts_with(&rp().redirect) {
            return url::Url::parse(&loc).unwrap();
        }
        if loc.starts_with("/consent") {
            let body = b.http.get(op.url(&loc)).send().await.unwrap().text().await.unwrap();
            r = b
                .http
                .post(op.url("/consent"))
                .form(&[("tx", hidden(&body, "tx")), ("decision", "allow".into())])
                .send()
                .await
                .unwrap();
            continue;
        }
        panic!("unexpected answer {}: {loc} {}", r.status(), r.text().await.unwrap_or_default());
    }
    panic!("too many hops");
}

fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn start_method(op: &TestOp, b: &Browser, tx: &str, auth: &str) -> reqwest::Response {
    b.http.post(op.url("/login/test-pin")).form(&[("tx", tx), ("auth", auth)]).send().await.unwrap()
}

async fn redeem(op: &TestOp, code: &str) -> Value {
    let r = rp().redeem(op, code).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn full_login_through_a_test_method(backend: Backend) {
    let Some(op) = start_op(backend, |_| {}).await else { return };
    let b = Browser::new();
    let (page, tx) = login_page(&op, &b, &[]).await;
    // The choice lists every registered method: the e-ID and the one registered by this test.
    assert!(page.contains("id=\"login-vneid\"") && page.contains("id=\"login-test-pin\""), "{page}");
    assert!(page.contains("action=\"/login/test-pin\"") && page.contains("Đăng nhập bằng mã PIN thử"));
    let at_client = to_client(&op, &b, start_method(&op, &b, &tx, "now").await).await;
    assert_eq!(param(&at_client, "iss").as_deref(), Some(op.base.as_str()));
    let tokens = redeem(&op, &param(&at_client, "code").expect("a code")).await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], PIN, "the level actually reached");
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "what the method really used");
    assert_eq!(id["name"], "Nguyễn Văn Thử");
    // The session is the provider's: the next authorization needs no login.
    let r = b.http.get(auth_url(&op, &[("prompt", "none")])).send().await.unwrap();
    assert!(location(&r).contains("code="), "{}", location(&r));
    // ...unless the service demands a citizen: the officer's session does not meet it.
    let r =
        b.http.get(auth_url(&op, &[("prompt", "none"), ("acr_values", "urn:xacthuc:acr:eid1")])).send().await.unwrap();
    assert!(location(&r).contains("error=login_required"), "{}", location(&r));
    op.stop().await;
}
on_both_backends!(full_login, super::full_login_through_a_test_method);

async fn choice_offers_only_methods_that_meet_the_demand(backend: Backend) {
    let Some(op) = start_op(backend, |_| {}).await else { return };
    let b = Browser::new();
    let (page, _) = login_page(&op, &b, &[("acr_values", "urn:xacthuc:acr:eid2")]).await;
    assert!(page.contains("login-vneid") && !page.contains("login-test-pin"), "a citizen level: the e-ID only");
    let (page, tx) = login_page(&op, &b, &[("acr_values", "urn:xacthuc:acr:officer-mfa")]).await;
    assert!(!page.contains("login-vneid") && page.contains("login-test-pin"), "an officer level: no e-ID");
    // The e-ID cannot be forced where an officer is demanded.
    let r = b.http.post(op.url("/login/vneid")).form(&[("tx", tx.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 400, "a method that cannot meet the demand is refused");
    let (page, tx) = login_page(&op, &b, &[("acr_values", "urn:xacthuc:acr:officer-cert")]).await;
    // Only the certificate login reaches the certificate level (it was a "no method" page
    // before that method existed).
    assert!(page.contains("login-officer-cert") && !page.contains("login-vneid") && !page.contains("login-test-pin"));
    assert!(!page.contains("id=\"login-officer\""), "the password login is weaker");
    let r = start_method(&op, &b, &tx, "now").await;
    assert_eq!(r.status(), 400, "a weaker method cannot be forced either");
    // Cancelling (a POST with the browser's binding) gives the service access_denied.
    let r = b
        .http
        .post(op.url("/login/abort"))
        .form(&[("tx", tx.as_str()), ("reason", "access_denied")])
        .send()
        .await
        .unwrap();
    let u = url::Url::parse(&location(&r)).expect("back at the client");
    assert_eq!(param(&u, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&u, "state").as_deref(), Some("s-1"));
    op.stop().await;
}
on_both_backends!(choice, super::choice_offers_only_methods_that_meet_the_demand);

async fn transactions_are_bound_to_their_browser(backend: Backend) {
    let Some(op) = start_op(backend, |_| {}).await else { return };
    let (victim, attacker) = (Browser::new(), Browser::new());
    let (_, tx) = login_page(&op, &attacker, &[]).await;
    // The attacker's transaction carried to another browser goes nowhere (login CSRF).
    let r = start_method(&op, &victim, &tx, "now").await;
    assert_eq!(r.status(), 400);
    let r = victim.http.get(op.url(&format!("/login?tx={tx}"))).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = victim.http.post(op.url("/login/abort")).form(&[("tx", tx.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 400, "nor can another browser abort it");
    // A GET abort is not a thing.
    let r = attacker.http.get(op.url(&format!("/login/abort?tx={tx}&reason=access_denied"))).send().await.unwrap();
    assert_eq!(r.status(), 405);
    // Cross-site form posts cannot start a method.
    let r = attacker
        .http
        .post(op.url("/login/test-pin"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("tx", tx.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Its own browser completes it, and two tabs of one browser do not collide.
    let (_, tx2) = login_page(&op, &attacker, &[]).await;
    let u = to_client(&op, &attacker, start_method(&op, &attacker, &tx, "now").await).await;
    assert!(param(&u, "code").is_some());
    let r = attacker.http.get(op.url(&format!("/login?tx={tx2}"))).send().await.unwrap();
    assert_eq!(r.status(), 200, "the second tab's login is still alive");
    // Malformed forms get a page, never a bare 4xx from the framework.
    let r = attacker.http.post(op.url("/login/test-pin")).body("tx").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("<html"));
    op.stop().await;
}
on_both_backends!(binding, super::transactions_are_bound_to_their_browser);

async fn freshness_is_checked_against_the_method(backend: Backend) {
    let Some(op) = start_op(backend, |_| {}).await else { return };
    let b = Browser::new();
    // max_age with a method that cannot say when the user authenticated: fails closed.
    let (_, tx) = login_page(&op, &b, &[("max_age", "300")]).await;
    let u = to_client(&op, &b, start_method(&op, &b, &tx, "unknown").await).await;
    assert_eq!(param(&u, "error").as_deref(), Some("login_required"), "{u}");
    // An authentication older than max_age is refused.
    let (_, tx) = login_page(&op, &b, &[("max_age", "300")]).await;
    let u = to_client(&op, &b, start_method(&op, &b, &tx, "old").await).await;
    assert_eq!(param(&u, "error").as_deref(), Some("login_required"), "{u}");
    // prompt=login: an authentication from before this login started is not a new one.
    let (_, tx) = login_page(&op, &b, &[("prompt", "login")]).await;
    let u = to_client(&op, &b, start_method(&op, &b, &tx, "old").await).await;
    assert_eq!(param(&u, "error").as_deref(), Some("login_required"), "{u}");
    // The largest max_age there is: a proper answer (no overflow), here a code.
    let (_, tx) = login_page(&op, &b, &[("max_age", "9223372036854775807")]).await;
    let u = to_client(&op, &b, start_method(&op, &b, &tx, "now").await).await;
    let tokens = redeem(&op, &param(&u, "code").expect("a code")).await;
    assert!(claims(tokens["id_token"].as_str().unwrap())["auth_time"].is_i64(), "auth_time is there with max_age");
    // ...and with the session now alive, the same max_age is met without a login.
    let r = b.http.get(auth_url(&op, &[("max_age", "9223372036854775807"), ("prompt", "none")])).send().await.unwrap();
    assert!(location(&r).contains("code="), "{}", location(&r));
    let r = b.http.get(auth_url(&op, &[("max_age", "99999999999999999999")])).send().await.unwrap();
    assert!(location(&r).contains("error=invalid_request"), "out of range: {}", location(&r));
    op.stop().await;
}
on_both_backends!(freshness, super::freshness_is_checked_against_the_method);

async fn acr_requests_follow_oidc_core(backend: Backend) {
    let Some(op) = start_op(backend, |_| {}).await else { return };
    let b = Browser::new();
    // Unknown voluntary values are ignored: the login proceeds with every method.
    let (page, _) = login_page(&op, &b, &[("acr_values", "urn:unknown:level")]).await;
    assert!(page.contains("login-vneid") && page.contains("login-test-pin"));
    // An essential acr nobody knows cannot be met: the service is told at once.
    let claims_param = r#"{"id_token":{"acr":{"essential":true,"values":["urn:unknown:level"]}}}"#;
    let r = b.http.get(auth_url(&op, &[("claims", claims_param)])).send().await.unwrap();
    assert!(location(&r).contains("error=unmet_authentication_requirements"), "{}", location(&r));
    // An essential known value is a demand like acr_values.
    let claims_param = format!(r#"{{"id_token":{{"acr":{{"essential":true,"values":["{PIN}"]}}}}}}"#);
    let (page, _) = login_page(&op, &b, &[("claims", &claims_param)]).await;
    assert!(!page.contains("login-vneid") && page.contains("login-test-pin"));
    let r = b.http.get(auth_url(&op, &[("claims", "[1,2]")])).send().await.unwrap();
    assert!(location(&r).contains("error=invalid_request"), "{}", location(&r));
    op.stop().await;
}
on_both_backends!(acr_requests, super::acr_requests_follow_oidc_core);

async fn anonymous_transactions_are_bounded(backend: Backend) {
    let Some(op) = start_op(backend, |c| {
        c.login_tx_per_browser = 3;
        c.login_tx_per_ip = 5;
    })
    .await
    else {
        return;
    };
    // One transaction cannot be made large: every parameter below the per-parameter cap, the
    // whole over the transaction cap.
    let big = "x".repeat(4000);
    let b = Browser::new();
    let r = b.http.get(auth_url(&op, &[("login_hint", &big), ("state", &big), ("nonce", &big)])).send().await.unwrap();
    assert!(location(&r).contains("error=invalid_request"), "{}", location(&r));
    // A browser may start so many logins, then gets a 429 page.
    let b = Browser::new();
    for _ in 0..3 {
        login_page(&op, &b, &[]).await;
    }
    let r = b.http.get(auth_url(&op, &[])).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // A browser dropping its cookie is still bounded by its address.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(http().get(auth_url(&op, &[])).send().await.unwrap().status().as_u16());
    }
    // Five attempts per address in all: three logins and the refused fourth came before.
    assert_eq!(statuses, vec![303, 429, 429]);
    op.stop().await;
}
on_both_backends!(bounded, super::anonymous_transactions_are_bounded);

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// A browser whose binding cookie has expired (it lives as long as a transaction) but whose
/// session is alive is asked for consent: the new transaction binds it afresh.
async fn consent_rebinds_a_browser_without_binding(backend: Backend) {
    let Some(op) = start_op(backend, |_| {}).await else { return };
    let b = Browser::new();
    let (_, tx) = login_page(&op, &b, &[]).await;
    let r = start_method(&op, &b, &tx, "now").await;
    let session = set_cookie(&r, "xacthuc_session").expect("a session cookie");
    to_client(&op, &b, r).await;
    // Only the session cookie now, as after the binding cookie's expiry.
    let r = http().get(auth_url(&op, &[("prompt", "consent")])).header("cookie", &session).send().await.unwrap();
    let loc = location(&r);
    assert!(loc.starts_with("/consent"), "{loc}");
    let binding = set_cookie(&r, "xacthuc_browser").expect("the consent transaction binds the browser");
    let cookies = format!("{session}; {binding}");
    let r = http().get(op.url(&loc)).header("cookie", &cookies).send().await.unwrap();
    assert_eq!(r.status(), 200);
    op.stop().await;
}
on_both_backends!(consent_rebinds, super::consent_rebinds_a_browser_without_binding);

/// The choice page's language link is followed by every later page of the login, whatever
/// `ui_locales` the service sent.
async fn the_chosen_language_stays(backend: Backend) {
    let Some(op) = start_op(backend, |_| {}).await else { return };
    let b = Browser::new();
    let (page, tx) = login_page(&op, &b, &[("ui_locales", "vi"), ("prompt", "consent")]).await;
    assert!(page.contains("<html lang=\"vi\""));
    let english = b.http.get(op.url(&format!("/login?tx={tx}&lang=en"))).send().await.unwrap().text().await.unwrap();
    assert!(english.contains("<html lang=\"en\"") && english.contains("Log in"), "{english}");
    let r = start_method(&op, &b, &tx, "now").await;
    let consent = location(&r);
    assert!(consent.starts_with("/consent") && consent.contains("lang=en"), "{consent}");
    let body = b.http.get(op.url(&consent)).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("<html lang=\"en\"") && body.contains("Share your information"), "{body}");
    op.stop().await;
}
on_both_backends!(chosen_language, super::the_chosen_language_stays);
