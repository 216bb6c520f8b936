//! The officer login method over real HTTP on both backends: password + TOTP (a code is
//! accepted once), first-login TOTP enrolment with recovery codes, password + a WebAuthn soft
//! passkey, lockout and unlock, unknown usernames answered like known ones, set-up links, and
//! what the tokens say (acr, amr, the officer scope).

mod support;

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::browser::Browser;
use support::op::{Backend, TestOp, http};
use xacthuc::crypto::sha256_hex;
use xacthuc::officers::auth::{lockout, password::Hasher, totp};
use xacthuc::officers::setup::SetupPurpose;
use xacthuc::officers::{NewOfficer, NewUnit, Officer, OfficerStatus, UnitKind};
use xacthuc::oidc::clients::{AuthMethod, Client};

const REDIRECT: &str = "https://eoffice.example.vn/cb";
const SECRET: &str = "eoffice-secret-value-123";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9.qwertyuiopasdfghjklzxcvbnm0123456789";
const PASSWORD: &str = "núi Voi sông Lạch Tray 1954";
const MFA: &str = "urn:xacthuc:acr:officer-mfa";

/// Cheap argon2 parameters and a small lockout so tests run fast; `localhost` so WebAuthn has a
/// relying-party id.
async fn start(backend: Backend) -> Option<TestOp> {
    let op = TestOp::start_with(backend, |c| {
        c.officer_argon2_m_kib = 256;
        c.officer_argon2_t = 1;
        c.officer_lockout_threshold = 5;
        c.officer_login_delay_after = 3;
        c.officer_login_delay_max_secs = 1;
        c.issuer = c.issuer.replace("127.0.0.1", "localhost");
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
async fn officer(op: &TestOp, username: &str, with_totp: bool) -> (Officer, Option<Vec<u8>>) {
    let db = &op.state.db;
    let new = NewOfficer {
        username: username.into(),
        full_name: "Trần Thị Bình".into(),
        unit_code: "31.x1".into(),
        position: Some("Chuyên viên".into()),
        ..Default::default()
    };
    let o = db.create_officer(&new, 1).await.unwrap();
    let hash = Hasher::new(256, 1, 1, 1).unwrap().hash(PASSWORD).await.unwrap();
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

fn code(secret: &[u8]) -> String {
    totp::totp(secret, "t").unwrap().generate(xacthuc::clock::unix_now() as u64).to_string()
}

fn auth_url(base: &str, acr: Option<&str>) -> String {
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

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(body: &str, marker: &str) -> String {
    let i = body.find(marker).unwrap_or_else(|| panic!("no {marker} in {body}")) + marker.len();
    unescape(body[i..].split('"').next().unwrap())
}

fn hidden(body: &str, name: &str) -> String {
    attr(body, &format!("name=\"{name}\" value=\""))
}

/// `/authorize` then the choice page; returns its body and the transaction.
async fn choice(op: &TestOp, b: &Browser, acr: Option<&str>) -> (String, String) {
    choice_at(&op.base, b, acr).await
}

async fn choice_at(base: &str, b: &Browser, acr: Option<&str>) -> (String, String) {
    let r = b.http.get(auth_url(base, acr)).send().await.unwrap();
    let loc = location(&r);
    assert!(loc.starts_with("/login?tx="), "a login is needed: {loc}");
    let body = b.http.get(format!("{base}{loc}")).send().await.unwrap().text().await.unwrap();
    let tx = hidden(&body, "tx");
    (body, tx)
}

async fn post(op: &TestOp, b: &Browser, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    b.http.post(op.url(path)).form(form).send().await.unwrap()
}

/// From the choice page through the password step: the answer to the password form.
async fn password_step(op: &TestOp, b: &Browser, username: &str, password: &str) -> (reqwest::Response, String) {
    password_step_at(&op.base, b, username, password).await
}

async fn password_step_at(base: &str, b: &Browser, username: &str, password: &str) -> (reqwest::Response, String) {
    let (page, tx) = choice_at(base, b, Some(MFA)).await;
    assert!(page.contains("id=\"login-officer\"") && page.contains("action=\"/login/officer\""), "{page}");
    let r = b.http.post(format!("{base}/login/officer")).form(&[("tx", &tx)]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"officer-password\""));
    let form = [("tx", tx.as_str()), ("username", username), ("password", password)];
    let r = b.http.post(format!("{base}/login/officer/password")).form(&form).send().await.unwrap();
    (r, tx)
}

/// Follows the provider (consent allowed) to the client; the code.
async fn to_client(op: &TestOp, b: &Browser, mut r: reqwest::Response) -> String {
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

async fn id_token(op: &TestOp, code: &str) -> (Value, String) {
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

async fn userinfo(op: &TestOp, access_token: &str) -> Value {
    http().get(op.url("/userinfo")).bearer_auth(access_token).send().await.unwrap().json().await.unwrap()
}

async fn password_and_totp(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    let (_, secret) = officer(&op, "cb.binh", true).await;
    let secret = secret.unwrap();
    let b = Browser::new();
    // A citizen cannot be served where an officer is demanded: no e-ID button, and its start
    // is refused.
    let (page, tx) = choice(&op, &b, Some(MFA)).await;
    assert!(!page.contains("login-vneid"), "{page}");
    let r = post(&op, &b, "/login/vneid", &[("tx", &tx)]).await;
    assert_eq!(r.status(), 400);

    let (r, tx) = password_step(&op, &b, "CB.Binh ", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"officer-otp\"") && !body.contains("webauthn-form"), "{body}");
    let now_code = code(&secret);
    let r = post(&op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &now_code)]).await;
    let (id, access) = id_token(&op, &to_client(&op, &b, r).await).await;
    assert!(id["sub"].is_string());
    assert_eq!(id["acr"], MFA);
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    let info = userinfo(&op, &access).await;
    let claims = if id.get("unit").is_some() { &id } else { &info };
    assert_eq!(claims["unit"]["code"], "31.x1", "{id} {info}");
    assert_eq!(claims["position"], "Chuyên viên");
    assert_eq!(claims["roles"], serde_json::json!(["van_thu"]));

    // The same code again, from another browser, within its window: refused.
    let b2 = Browser::new();
    let (r, tx) = password_step(&op, &b2, "cb.binh", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let r = post(&op, &b2, "/login/officer/otp", &[("tx", &tx), ("code", &now_code)]).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"officer-error\"") && body.contains("id=\"officer-otp\""), "replay refused: {body}");
    op.stop().await;
}
on_both_backends!(password_and_totp_login, super::password_and_totp);

async fn first_login_enrols(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    officer(&op, "cb.moi", false).await;
    let b = Browser::new();
    let (r, tx) = password_step(&op, &b, "cb.moi", PASSWORD).await;
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"officer-enrol\"") && body.contains("src=\"data:image/png;base64,"), "{body}");
    let secret = totp::new_secret();
    let b32 = body.split("<code id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let secret_bytes = totp_rs::Secret::try_from_base32(&b32).map(|s| s.as_ref().to_vec()).unwrap_or(secret.to_vec());
    // A wrong code does not activate anything.
    let r = post(&op, &b, "/login/officer/enrol", &[("tx", &tx), ("code", "000000")]).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-error\""));
    // Finishing before enrolment is refused.
    assert_eq!(post(&op, &b, "/login/officer/done", &[("tx", &tx)]).await.status(), 400);
    let r = post(&op, &b, "/login/officer/enrol", &[("tx", &tx), ("code", &code(&secret_bytes))]).await;
    let body = r.text().await.unwrap();
    let codes: Vec<String> =
        body.split("<li><code>").skip(1).map(|s| s.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10, "{body}");
    let r = post(&op, &b, "/login/officer/done", &[("tx", &tx)]).await;
    let (id, _) = id_token(&op, &to_client(&op, &b, r).await).await;
    assert_eq!(id["acr"], MFA);

    // A recovery code works once.
    for (i, expect_ok) in [(0, true), (1, false)] {
        let b = Browser::new();
        let (r, tx) = password_step(&op, &b, "cb.moi", PASSWORD).await;
        assert_eq!(r.status(), 200, "{i}");
        let r = post(&op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &codes[0].to_uppercase())]).await;
        if expect_ok {
            to_client(&op, &b, r).await;
        } else {
            assert!(r.text().await.unwrap().contains("id=\"officer-error\""), "a used recovery code is refused");
        }
    }
    op.stop().await;
}
on_both_backends!(first_login_enrols_totp, super::first_login_enrols);

async fn lockout_and_unlock(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    officer(&op, "cb.khoa", true).await;
    let b = Browser::new();
    let started = std::time::Instant::now();
    for _ in 0..5 {
        let (r, _) = password_step(&op, &b, "cb.khoa", "wrong password").await;
        assert_eq!(r.status(), 200);
    }
    // Failures 4 and 5 were delayed (capped at 1 s here).
    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "progressive delay");
    // Locked: even the right password is refused, on any instance.
    let (r, _) = password_step(&op, &b, "cb.khoa", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("id=\"officer-message\""));
    let kv = &op.state.kv;
    assert_eq!(lockout::status(kv, "cb.khoa").await.unwrap(), lockout::Status { failures: 5, locked: true });
    lockout::unlock(kv, "cb.khoa").await.unwrap();
    assert_eq!(lockout::status(kv, "cb.khoa").await.unwrap(), lockout::Status { failures: 0, locked: false });
    let (r, _) = password_step(&op, &b, "cb.khoa", PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"officer-otp\""));
    op.stop().await;
}
on_both_backends!(lockout_then_unlock, super::lockout_and_unlock);

async fn unknown_username(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    officer(&op, "cb.that", true).await;
    let mut answers = Vec::new();
    for user in ["cb.that", "cb.khong"] {
        let b = Browser::new();
        let (r, tx) = password_step(&op, &b, user, "not the password").await;
        let status = r.status();
        let body = r.text().await.unwrap().replace(&tx, "TX").replace(user, "USER");
        answers.push((status, body));
    }
    assert_eq!(answers[0], answers[1], "an unknown username is answered exactly like a wrong password");
    // And counted alike.
    let kv = &op.state.kv;
    assert_eq!(lockout::status(kv, "cb.khong").await.unwrap().failures, 1);
    // A suspended officer with the right password cannot log in.
    let o = op.state.db.officer_by_username("cb.that").await.unwrap().unwrap();
    op.state.db.set_officer_status(&o.id, OfficerStatus::Suspended, 2).await.unwrap();
    let (r, _) = password_step(&op, &Browser::new(), "cb.that", PASSWORD).await;
    assert_eq!(r.status(), 403);
    op.stop().await;
}
on_both_backends!(unknown_username_same_answer, super::unknown_username);

async fn setup_link(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    let db = &op.state.db;
    let o = db
        .create_officer(
            &NewOfficer {
                username: "cb.dat".into(),
                full_name: "Lê Văn Đạt".into(),
                unit_code: "31.x1".into(),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap();
    let token = db.issue_setup_link(&o.id, SetupPurpose::Initial, xacthuc::clock::unix_now()).await.unwrap();
    let c = http();
    let r = c.get(op.url(&format!("/officer/setup?token={token}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"officer-setup\""));
    let submit = |pw: &'static str| {
        let c = c.clone();
        let url = op.url("/officer/setup");
        let token = token.clone();
        async move {
            c.post(url).form(&[("token", token.as_str()), ("password", pw), ("confirm", pw)]).send().await.unwrap()
        }
    };
    // Weak passwords (short, common, built from the name) are refused with a reason.
    for weak in ["short", "password12345", "levandat2024"] {
        let r = submit(weak).await;
        assert_eq!(r.status(), 400, "{weak}");
        assert!(r.text().await.unwrap().contains("id=\"officer-error\""));
    }
    let r = submit(PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(db.officer(&o.id).await.unwrap().unwrap().has_password);
    // Once only.
    assert_eq!(submit("another strong passphrase here").await.status(), 400);
    let (r, _) = password_step(&op, &Browser::new(), "cb.dat", PASSWORD).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-enrol\""), "the password works; TOTP enrolment follows");
    op.stop().await;
}
on_both_backends!(setup_link_sets_password_once, super::setup_link);

async fn passkey(backend: Backend) {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

    let Some(op) = start(backend).await else { return };
    let (_, secret) = officer(&op, "cb.khoa.cung", true).await;
    let origin = url::Url::parse(&op.config.issuer).unwrap();
    let mut key = SoftPasskey::new(true);
    // Log in with TOTP, then register a passkey on the security page.
    let b = Browser::new();
    let (r, tx) = password_step(&op, &b, "cb.khoa.cung", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let r = post(&op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &code(&secret.unwrap()))]).await;
    to_client(&op, &b, r).await;
    let page = b.http.get(op.url("/officer/security")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let options: CreationChallengeResponse = serde_json::from_str(&attr(&page, "data-options=\"")).unwrap();
    let cred = key.do_registration(origin.clone(), options).expect("soft passkey registration");
    let cred = serde_json::to_string(&cred).unwrap();
    // Without the session's CSRF token, nothing is stored.
    let r =
        post(&op, &b, "/officer/security/passkeys/add", &[("csrf", "forged"), ("name", "x"), ("credential", &cred)])
            .await;
    assert_eq!(r.status(), 400);
    let page = b.http.get(op.url("/officer/security")).send().await.unwrap().text().await.unwrap();
    let options: CreationChallengeResponse = serde_json::from_str(&attr(&page, "data-options=\"")).unwrap();
    let cred = serde_json::to_string(&key.do_registration(origin.clone(), options).unwrap()).unwrap();
    let r = post(
        &op,
        &b,
        "/officer/security/passkeys/add",
        &[("csrf", &csrf), ("name", "Khóa USB"), ("credential", &cred)],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let page = b.http.get(op.url("/officer/security")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("value=\"Khóa USB\""), "{page}");

    // Password + passkey: the hardware-key level.
    let b2 = Browser::new();
    let (r, tx) = password_step(&op, &b2, "cb.khoa.cung", PASSWORD).await;
    let body = r.text().await.unwrap();
    let options: RequestChallengeResponse = serde_json::from_str(&attr(&body, "data-options=\"")).unwrap();
    let assertion = key.do_authentication(origin.clone(), options).expect("soft passkey authentication");
    let assertion = serde_json::to_string(&assertion).unwrap();
    // Garbage is refused and counted, not a 500.
    let r = post(&op, &b2, "/login/officer/webauthn", &[("tx", &tx), ("credential", "{\"id\":1}")]).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"officer-error\""));
    let r = post(&op, &b2, "/login/officer/webauthn", &[("tx", &tx), ("credential", &assertion)]).await;
    let (id, _) = id_token(&op, &to_client(&op, &b2, r).await).await;
    assert_eq!(id["acr"], "urn:xacthuc:acr:officer-hwk");
    assert_eq!(id["amr"], serde_json::json!(["pwd", "hwk", "mfa"]));

    // Removal.
    let cred_id = attr(&page, "name=\"id\" value=\"");
    let r = post(&op, &b, "/officer/security/passkeys/remove", &[("csrf", &csrf), ("id", &cred_id)]).await;
    assert_eq!(r.status(), 303);
    let o = op.state.db.officer_by_username("cb.khoa.cung").await.unwrap().unwrap();
    assert!(op.state.db.webauthn_credentials(&o.id).await.unwrap().is_empty());
    op.stop().await;
}
on_both_backends!(password_and_passkey_login, super::passkey);

async fn demo_accounts(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    let text = xacthuc::dev_setup::demo_officers(&op.state).await.unwrap();
    assert_eq!(xacthuc::dev_setup::demo_officers(&op.state).await.unwrap(), text, "idempotent, same secrets");
    let line = text.lines().find(|l| l.contains("demo.canbo")).unwrap();
    let b32 = line.split("TOTP secret ").nth(1).unwrap().split_whitespace().next().unwrap();
    let secret = totp_rs::Secret::try_from_base32(b32).unwrap().as_ref().to_vec();
    let pw = xacthuc::dev_setup::DEMO_OFFICER_PASSWORD;
    let admin = op.state.db.officer_by_username("demo.admin").await.unwrap().unwrap();
    let grants = op.state.db.admin_grants(&admin.id).await.unwrap();
    assert!(grants.iter().any(|(r, u)| *r == xacthuc::officers::directory::AdminRole::SuperAdmin && u.code == "demo"));
    // Development mode: the printed credentials log in.
    let b = Browser::new();
    let (r, tx) = password_step(&op, &b, "demo.canbo", pw).await;
    assert_eq!(r.status(), 200);
    let r = post(&op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &code(&secret))]).await;
    to_client(&op, &b, r).await;
    // The same database served in production mode refuses them.
    let serve = xacthuc::app::AppState::build(op.config.clone(), xacthuc::config::Mode::Serve).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = xacthuc::app::router(serve);
    tokio::spawn(xacthuc::app::serve(listener, app, std::future::pending(), std::time::Duration::from_secs(1)));
    let (r, _) = password_step_at(&base, &Browser::new(), "demo.canbo", pw).await;
    assert_eq!(r.status(), 403, "demo accounts work only in development mode");
    assert!(r.text().await.unwrap().contains("id=\"officer-message\""));
    op.stop().await;
}
on_both_backends!(demo_officers_only_in_development, super::demo_accounts);

async fn reset_and_self_service(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    let (o, secret) = officer(&op, "cb.tu.phuc", true).await;
    let old = secret.unwrap();
    let b = Browser::new();
    // The security page needs an officer session.
    assert_eq!(b.http.get(op.url("/officer/security")).send().await.unwrap().status(), 401);
    let (_, tx) = password_step(&op, &b, "cb.tu.phuc", PASSWORD).await;
    let r = post(&op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &code(&old))]).await;
    to_client(&op, &b, r).await;
    let page = b.http.get(op.url("/officer/security")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    assert!(page.contains("<span id=\"codes-left\">0</span>"), "{page}");
    // A form from another site is refused even with the token.
    let r = b
        .http
        .post(op.url("/officer/security/recovery-codes"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post(&op, &b, "/officer/security/recovery-codes", &[("csrf", &csrf)]).await;
    assert_eq!(r.text().await.unwrap().matches("<li><code>").count(), 10);
    let page = b.http.get(op.url("/officer/security")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<span id=\"codes-left\">10</span>"));
    // Re-enrolment: the new secret replaces the old only once proved.
    let r = post(&op, &b, "/officer/security/totp", &[("csrf", &csrf)]).await;
    let body = r.text().await.unwrap();
    let b32 = body.split("<code id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let new = totp_rs::Secret::try_from_base32(&b32).unwrap().as_ref().to_vec();
    assert!(op.state.db.totp_secret(&o.id).await.unwrap().is_some());
    let r = post(&op, &b, "/officer/security/totp/confirm", &[("csrf", &csrf), ("code", &code(&new))]).await;
    assert_eq!(r.status(), 303);
    let b2 = Browser::new();
    let (_, tx) = password_step(&op, &b2, "cb.tu.phuc", PASSWORD).await;
    let r = post(&op, &b2, "/login/officer/otp", &[("tx", &tx), ("code", &code(&old))]).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-error\""), "the old secret no longer works");

    // A reset link sets a new password and removes the second factors: the next login enrols.
    let token = op.state.db.issue_setup_link(&o.id, SetupPurpose::Reset, xacthuc::clock::unix_now()).await.unwrap();
    let page = http().get(op.url(&format!("/officer/setup?token={token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"reset-note\""));
    let pw = "một mật khẩu mới rất dài cho cán bộ";
    let r = http()
        .post(op.url("/officer/setup"))
        .form(&[("token", token.as_str()), ("password", pw), ("confirm", pw)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(op.state.db.totp_secret(&o.id).await.unwrap().is_none());
    assert_eq!(op.state.db.recovery_codes_left(&o.id).await.unwrap(), 0);
    let (r, _) = password_step(&op, &Browser::new(), "cb.tu.phuc", PASSWORD).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-error\""), "the old password is gone");
    let (r, _) = password_step(&op, &Browser::new(), "cb.tu.phuc", pw).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-enrol\""));
    op.stop().await;
}
on_both_backends!(reset_link_and_security_page, super::reset_and_self_service);

async fn rehash(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    let (o, _) = officer(&op, "cb.cu", true).await;
    // A hash made with older (weaker) parameters is renewed at the next successful login.
    let weak = Hasher::new(128, 1, 1, 1).unwrap().hash(PASSWORD).await.unwrap();
    op.state.db.set_officer_password_hash(&o.id, &weak, 1).await.unwrap();
    let (r, _) = password_step(&op, &Browser::new(), "cb.cu", "wrong password").await;
    assert_eq!(r.status(), 200);
    assert_eq!(op.state.db.officer_password_hash(&o.id).await.unwrap().as_deref(), Some(weak.as_str()));
    let (r, _) = password_step(&op, &Browser::new(), "cb.cu", PASSWORD).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-otp\""));
    let renewed = op.state.db.officer_password_hash(&o.id).await.unwrap().unwrap();
    assert!(renewed.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{renewed}");
    op.stop().await;
}
on_both_backends!(hash_renewed_when_parameters_change, super::rehash);
