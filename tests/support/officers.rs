//! Officer login helpers: a provider with an officer client and units, officers with a
//! password and TOTP, and the login steps driven over HTTP.
#![allow(dead_code)]

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use xacthuc::crypto::sha256_hex;
use xacthuc::officers::auth::{password::Hasher, totp};
use xacthuc::officers::{NewOfficer, NewUnit, Officer, UnitKind};
use xacthuc::oidc::clients::{AuthMethod, Client};

use super::browser::Browser;
use super::op::{Backend, TestOp, http};

pub const REDIRECT: &str = "https://eoffice.example.vn/cb";
pub const SECRET: &str = "eoffice-secret-value-123";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9.qwertyuiopasdfghjklzxcvbnm0123456789";
pub const PASSWORD: &str = "núi Voi sông Lạch Tray 1954";
pub const MFA: &str = "urn:xacthuc:acr:officer-mfa";

/// Cheap argon2 parameters and a small lockout so tests run fast; `localhost` so WebAuthn has a
/// relying-party id.
pub async fn start(backend: Backend) -> Option<TestOp> {
    start_with(backend, |c| {
        c.officer_argon2_m_kib = 256;
        c.officer_argon2_t = 1;
        c.officer_lockout_threshold = 5;
        c.officer_login_delay_after = 3;
        c.officer_login_delay_max_secs = 1;
    })
    .await
}

/// The provider with the eoffice client and a province with one commune.
pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut xacthuc::config::Config)) -> Option<TestOp> {
    let op = TestOp::start_with(backend, |c| {
        c.issuer = c.issuer.replace("127.0.0.1", "localhost");
        tweak(c);
    })
    .await?;
    let c = Client {
        secret_hash: Some(sha256_hex(SECRET)),
        scopes: ["openid", "profile", "officer"].map(String::from).to_vec(),
        ..Client::new("eoffice", "Văn phòng điện tử", AuthMethod::ClientSecretBasic, vec![REDIRECT.into()])
    };
    op.state.db.put_client(&c, 0).await.unwrap();
    let db = &op.state.db;
    let unit = |code: &str, name: &str, kind, parent: Option<&str>| NewUnit {
        code: code.into(),
        name: name.into(),
        kind,
        parent_code: parent.map(String::from),
    };
    db.create_unit(&unit("31", "Thành phố Hải Phòng", UnitKind::Province, None), 1).await.unwrap();
    db.create_unit(&unit("31.x1", "Xã An Lư", UnitKind::Commune, Some("31")), 1).await.unwrap();
    Some(op)
}

/// An officer with a password and, if asked, an active TOTP secret (returned).
pub async fn officer(op: &TestOp, username: &str, with_totp: bool) -> (Officer, Option<Vec<u8>>) {
    let db = &op.state.db;
    let new = NewOfficer {
        username: username.into(),
        full_name: "Trần Thị Bình".into(),
        unit_code: "31.x1".into(),
        position: Some("Chuyên viên".into()),
        ..Default::default()
    };
    let o = db.create_officer(&new, 1).await.unwrap();
    let c = &op.config;
    let hasher = Hasher::new(c.officer_argon2_m_kib, c.officer_argon2_t, c.officer_argon2_p, 1).unwrap();
    let hash = hasher.hash(PASSWORD).await.unwrap();
    db.set_officer_password_hash(&o.id, &hash, 1).await.unwrap();
    db.set_officer_roles(&o.id, "eoffice", &["van_thu".to_string()]).await.unwrap();
    let secret = if with_totp {
        let s = totp::new_secret().to_vec();
        let sealed = totp::seal(&op.state.oidc.keys, &o.id, &s).unwrap();
        db.activate_totp(&o.id, &sealed, 0, 1).await.unwrap();
        Some(s)
    } else {
        None
    };
    (o, secret)
}

pub fn code(secret: &[u8]) -> String {
    totp::totp(secret, "t").unwrap().generate(xacthuc::clock::unix_now() as u64).to_string()
}

pub fn auth_url(base: &str, acr: Option<&str>) -> String {
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let mut u = url::Url::parse(&format!("{base}/authorize")).unwrap();
    u.query_pairs_mut().extend_pairs([
        ("client_id", "eoffice"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile officer"),
        ("state", "s-1"),
        ("nonce", "n-1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    if let Some(acr) = acr {
        u.query_pairs_mut().append_pair("acr_values", acr);
    }
    u.to_string()
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn attr(body: &str, marker: &str) -> String {
    let i = body.find(marker).unwrap_or_else(|| panic!("no {marker} in {body}")) + marker.len();
    unescape(body[i..].split('"').next().unwrap())
}

pub fn hidden(body: &str, name: &str) -> String {
    attr(body, &format!("name=\"{name}\" value=\""))
}

/// `/authorize` then the choice page; returns its body and the transaction.
pub async fn choice(op: &TestOp, b: &Browser, acr: Option<&str>) -> (String, String) {
    choice_at(&op.base, b, acr).await
}

pub async fn choice_at(base: &str, b: &Browser, acr: Option<&str>) -> (String, String) {
    let r = b.http.get(auth_url(base, acr)).send().await.unwrap();
    let loc = location(&r);
    assert!(loc.starts_with("/login?tx="), "a login is needed: {loc}");
    let body = b.http.get(format!("{base}{loc}")).send().await.unwrap().text().await.unwrap();
    let tx = hidden(&body, "tx");
    (body, tx)
}

pub async fn post(op: &TestOp, b: &Browser, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    b.http.post(op.url(path)).form(form).send().await.unwrap()
}

/// From the choice page through the password step: the answer to the password form.
pub async fn password_step(op: &TestOp, b: &Browser, username: &str, password: &str) -> (reqwest::Response, String) {
    password_step_at(&op.base, b, username, password).await
}

pub async fn password_step_at(base: &str, b: &Browser, username: &str, password: &str) -> (reqwest::Response, String) {
    password_step_for(base, b, Some(MFA), username, password).await
}

/// The password step of a login demanding `acr` (or nothing).
pub async fn password_step_for(
    base: &str,
    b: &Browser,
    acr: Option<&str>,
    username: &str,
    password: &str,
) -> (reqwest::Response, String) {
    let (page, tx) = choice_at(base, b, acr).await;
    assert!(page.contains("id=\"login-officer\"") && page.contains("action=\"/login/officer\""), "{page}");
    let r = b.http.post(format!("{base}/login/officer")).form(&[("tx", &tx)]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"officer-password\""));
    let form = [("tx", tx.as_str()), ("username", username), ("password", password)];
    let r = b.http.post(format!("{base}/login/officer/password")).form(&form).send().await.unwrap();
    (r, tx)
}

/// Follows the provider (consent allowed) to the client; the code.
pub async fn to_client(op: &TestOp, b: &Browser, mut r: reqwest::Response) -> String {
    for _ in 0..6 {
        let loc = location(&r);
        if loc.starts_with(REDIRECT) {
            let u = url::Url::parse(&loc).unwrap();
            return u.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code");
        }
        if loc.starts_with("/consent") {
            let body = b.http.get(op.url(&loc)).send().await.unwrap().text().await.unwrap();
            r = post(op, b, "/consent", &[("tx", &hidden(&body, "tx")), ("decision", "allow")]).await;
            continue;
        }
        panic!("unexpected answer {}: {loc} {}", r.status(), r.text().await.unwrap_or_default());
    }
    panic!("too many hops");
}

pub async fn id_token(op: &TestOp, code: &str) -> (Value, String) {
    let r = http()
        .post(op.url("/token"))
        .basic_auth("eoffice", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let payload = tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let claims = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap());
    (claims.unwrap(), tokens["access_token"].as_str().unwrap_or_default().to_owned())
}

pub async fn userinfo(op: &TestOp, access_token: &str) -> Value {
    http().get(op.url("/userinfo")).bearer_auth(access_token).send().await.unwrap().json().await.unwrap()
}

/// A URL on the issuer's host: the console's cookies and the login's live there (the test
/// provider's issuer names `localhost`).
pub fn at_issuer(op: &TestOp, path: &str) -> String {
    format!("{}{path}", op.config.issuer)
}

pub async fn post_at_issuer(op: &TestOp, b: &Browser, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    b.http.post(at_issuer(op, path)).form(form).send().await.unwrap()
}

/// Opens `path` in the console, logging in through the provider with password + TOTP; the
/// page's body once back.
pub async fn console_log_in(op: &TestOp, b: &Browser, path: &str, username: &str, secret: &[u8]) -> String {
    let r = b.http.get(at_issuer(op, path)).send().await.unwrap();
    let to_op = location(&r);
    assert!(to_op.starts_with(&at_issuer(op, "/authorize?")), "off to this provider's login: {to_op}");
    for needed in ["code_challenge_method=S256", "client_id=xacthuc-admin-console", "essential"] {
        assert!(to_op.contains(needed), "{needed} in {to_op}");
    }
    let r = b.http.get(&to_op).send().await.unwrap();
    let login = location(&r);
    assert!(login.starts_with("/login?tx="), "{login}");
    let page = b.http.get(at_issuer(op, &login)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("login-vneid"), "citizens cannot administer: {page}");
    let tx = hidden(&page, "tx");
    assert_eq!(post_at_issuer(op, b, "/login/officer", &[("tx", &tx)]).await.status(), 200);
    let form = [("tx", tx.as_str()), ("username", username), ("password", PASSWORD)];
    let r = post_at_issuer(op, b, "/login/officer/password", &form).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-otp\""));
    let r = post_at_issuer(op, b, "/login/officer/otp", &[("tx", &tx), ("code", &code(secret))]).await;
    let back = location(&r);
    assert!(back.starts_with(&at_issuer(op, "/admin/callback?")), "back to the console: {back}");
    let r = b.http.get(&back).send().await.unwrap();
    assert_eq!(location(&r), path, "the page first asked for");
    let r = b.http.get(at_issuer(op, path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}
