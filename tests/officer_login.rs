//! The officer login method over real HTTP on both backends: password + TOTP (a code is
//! accepted once), first-login TOTP enrolment with recovery codes, password + a WebAuthn soft
//! passkey, lockout and unlock, unknown usernames answered like known ones, set-up links, and
//! what the tokens say (acr, amr, the officer scope).

mod support;

use support::browser::Browser;
use support::officers::*;
use support::op::{Backend, TestOp, http};
use xacthuc::officers::NewOfficer;
use xacthuc::officers::OfficerStatus;
use xacthuc::officers::auth::{lockout, password::Hasher, totp};
use xacthuc::officers::setup::SetupPurpose;

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
    // The officer scope, in the ID token and at userinfo alike.
    for claims in [&id, &info] {
        assert_eq!(claims["unit"]["code"], "31.x1", "{claims}");
        assert_eq!(claims["position"], "Chuyên viên");
        assert_eq!(claims["roles"], serde_json::json!(["van_thu"]));
    }
    // The commune merges into a new one, which is then renamed: the same token's userinfo
    // follows at once (claims are read live).
    let db = &op.state.db;
    let into = xacthuc::officers::NewUnit {
        code: "31.x9".into(),
        name: "Xã Hợp Nhất".into(),
        kind: xacthuc::officers::UnitKind::Commune,
        parent_code: Some("31".into()),
    };
    let into = db.create_unit(&into, 2).await.unwrap();
    let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
    assert_eq!(db.merge_units(&[x1.id], &into.id, 3).await.unwrap(), 1);
    db.rename_unit(&into.id, "Xã Hợp Nhất Mới", 4).await.unwrap();
    let info = userinfo(&op, &access).await;
    assert_eq!(
        (info["unit"]["code"].as_str(), info["unit"]["name"].as_str()),
        (Some("31.x9"), Some("Xã Hợp Nhất Mới"))
    );

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
    assert_eq!(audit_actions(&op, "mfa.enrolled").await, 1, "the enrolment is audited");

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

/// How many audit entries of this action there are.
async fn audit_actions(op: &TestOp, action: &str) -> usize {
    let filter = xacthuc::audit::AuditFilter { action_prefix: Some(action.into()), ..Default::default() };
    op.state.audit.query(&filter, xacthuc::audit::Page::default()).await.unwrap().len()
}

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
    assert_eq!(audit_actions(&op, "login.locked").await, 1, "the lock is in the audit log, once");
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
    // Up to five credentials: the login transaction carries them all and stays within bounds.
    let mut page = page;
    for i in 2..=5 {
        let options: CreationChallengeResponse = serde_json::from_str(&attr(&page, "data-options=\"")).unwrap();
        let cred = serde_json::to_string(&SoftPasskey::new(true).do_registration(origin.clone(), options).unwrap());
        let form = [("csrf", csrf.as_str()), ("name", &format!("Khóa {i}")), ("credential", &cred.unwrap())];
        assert_eq!(post(&op, &b, "/officer/security/passkeys/add", &form).await.status(), 303);
        page = b.http.get(op.url("/officer/security")).send().await.unwrap().text().await.unwrap();
    }
    assert!(!page.contains("id=\"webauthn-form\""), "no sixth credential is offered");

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
    let left = op.state.db.webauthn_credentials(&o.id).await.unwrap();
    assert_eq!(left.len(), 4);
    assert!(left.iter().all(|c| c.id != cred_id && c.name != "Khóa USB"));
    op.stop().await;
}
on_both_backends!(password_and_passkey_login, super::passkey);

// The demo accounts are made by development mode, compiled only with the `dev` feature.
#[cfg(feature = "dev")]
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
#[cfg(feature = "dev")]
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

async fn optional_second_factor(backend: Backend) {
    let Some(op) = start_with(backend, |c| c.officer_second_factor_required = false).await else { return };
    officer(&op, "cb.tuy.chon", false).await;
    // Nothing demanded: the password alone, and the token says so.
    let b = Browser::new();
    let (r, _) = password_step_for(&op.base, &b, None, "cb.tuy.chon", PASSWORD).await;
    let (id, _) = id_token(&op, &to_client(&op, &b, r).await).await;
    assert_eq!(id["acr"], "urn:xacthuc:acr:officer-pwd");
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    // A service demanding a second factor still gets one: enrolment first.
    let (r, _) = password_step(&op, &Browser::new(), "cb.tuy.chon", PASSWORD).await;
    assert!(r.text().await.unwrap().contains("id=\"officer-enrol\""));
    op.stop().await;
}
on_both_backends!(second_factor_optional_by_configuration, super::optional_second_factor);

async fn concurrent_replay(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    let (_, secret) = officer(&op, "cb.song.song", true).await;
    let code = code(&secret.unwrap());
    let (b1, b2) = (Browser::new(), Browser::new());
    let (_, tx1) = password_step(&op, &b1, "cb.song.song", PASSWORD).await;
    let (_, tx2) = password_step(&op, &b2, "cb.song.song", PASSWORD).await;
    // The same code on two logins at once: the step is taken by exactly one.
    let (f1, f2) = ([("tx", tx1.as_str()), ("code", code.as_str())], [("tx", tx2.as_str()), ("code", code.as_str())]);
    let (r1, r2) = tokio::join!(post(&op, &b1, "/login/officer/otp", &f1), post(&op, &b2, "/login/officer/otp", &f2));
    let accepted = [r1.status(), r2.status()].iter().filter(|s| s.is_redirection()).count();
    assert_eq!(accepted, 1, "{} {}", r1.status(), r2.status());
    op.stop().await;
}
on_both_backends!(totp_code_accepted_once_under_concurrency, super::concurrent_replay);

/// An officer suspended outside the API and console (the CLI, or SQL) loses everything at its
/// next use: userinfo, a refresh, a code issued before, and the single sign-on session.
async fn suspended_elsewhere(backend: Backend) {
    let Some(op) = start(backend).await else { return };
    let (o, secret) = officer(&op, "cb.tam", true).await;
    let b = Browser::new();
    let (_, tx) = password_step(&op, &b, "cb.tam", PASSWORD).await;
    let r = post(&op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &code(&secret.unwrap()))]).await;
    let code_a = to_client(&op, &b, r).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code_a.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let tokens: serde_json::Value = http()
        .post(op.url("/token"))
        .basic_auth("eoffice", Some(SECRET))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (access, refresh) = (tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap());
    // A second service's login rides the session: a code at once, not yet redeemed.
    let r = b.http.get(auth_url(&op.base, Some(MFA))).send().await.unwrap();
    let code_b =
        url::Url::parse(&location(&r)).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();

    op.state.db.set_officer_status(&o.id, OfficerStatus::Suspended, 5).await.unwrap();
    let r = http().get(op.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let refresh_form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let r = http().post(op.url("/token")).basic_auth("eoffice", Some(SECRET)).form(&refresh_form).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let form_b = [
        ("grant_type", "authorization_code"),
        ("code", code_b.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let r = http().post(op.url("/token")).basic_auth("eoffice", Some(SECRET)).form(&form_b).send().await.unwrap();
    assert_eq!(r.status(), 400, "a code issued before the suspension");
    // The session is gone: the next login asks again (and the password step refuses).
    let r = b.http.get(auth_url(&op.base, Some(MFA))).send().await.unwrap();
    assert!(location(&r).starts_with("/login?tx="), "{}", location(&r));
    op.stop().await;
}
on_both_backends!(suspension_outside_the_api_ends_everything, super::suspended_elsewhere);
