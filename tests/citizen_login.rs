//! Citizen login end to end over real HTTP, on both backend pairs: the relying party, xacthuc,
//! the mock national e-ID and the mock population database, with tokens checked by an
//! independent JWT library.

mod support;

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::browser::{Browser, ConsentChoice, EidLogin, End};
use support::op::{Backend, TestOp, http};
use xacthuc::citizens::login as acr;
use xacthuc::crypto::sha256_hex;
use xacthuc::oidc::clients::{AuthMethod, Client};

const REDIRECT: &str = "https://portal.example.vn/cb";
const SECRET: &str = "portal-secret-value-123";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9.qwertyuiopasdfghjklzxcvbnm0123456789";
// Demo citizens of the mock (see `xacthuc-mocks demo_citizens`).
const NGOC: (&str, &str) = ("001188271828", "271828"); // level 2, normal
const TUAN: (&str, &str) = ("040095010285", "010285"); // level 1 only
const HUONG: (&str, &str) = ("038192487199", "487199"); // population name lacks diacritics
const HUNG: (&str, &str) = ("036041964113", "964113"); // deceased

fn challenge() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

async fn register(op: &TestOp, backchannel: Option<String>) {
    let c = Client {
        secret_hash: Some(sha256_hex(SECRET)),
        post_logout_redirect_uris: vec!["https://portal.example.vn/bye".into()],
        backchannel_logout_uri: backchannel,
        scopes: ["openid", "profile", "address", "personal_id", "offline_access"].map(String::from).to_vec(),
        refresh_token_ttl_secs: 3600,
        ..Client::new("portal", "Cổng thử nghiệm", AuthMethod::ClientSecretBasic, vec![REDIRECT.into()])
    };
    op.state.db.put_client(&c, 0).await.unwrap();
}

fn auth_url(op: &TestOp, extra: &[(&str, &str)]) -> String {
    let challenge = challenge();
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", "portal"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile address"),
        ("state", "s-1"),
        ("nonce", "n-1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    // A parameter appears once (RFC 6749 §3.1): extras replace the defaults.
    params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    params.extend_from_slice(extra);
    let mut u = url::Url::parse(&op.url("/authorize")).unwrap();
    u.query_pairs_mut().extend_pairs(params);
    u.to_string()
}

async fn redeem(op: &TestOp, code: &str) -> reqwest::Response {
    http()
        .post(op.url("/token"))
        .basic_auth("portal", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
}

/// The portal refreshing its tokens.
async fn refresh(op: &TestOp, refresh_token: &str) -> reqwest::Response {
    http()
        .post(op.url("/token"))
        .basic_auth("portal", Some(SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)])
        .send()
        .await
        .unwrap()
}

/// Verifies a JWT with the JWKS fetched over HTTP, as a relying party would.
async fn verify(op: &TestOp, token: &str, aud: &str) -> Value {
    support::rp::verified_claims(op, token, aud).await
}

async fn login(op: &TestOp, b: &Browser, who: (&str, &str), extra: &[(&str, &str)]) -> End {
    b.journey(&auth_url(op, extra), REDIRECT, EidLogin::Form { login: who.0, passcode: who.1 }, ConsentChoice::Allow)
        .await
}

async fn full_login_by_form_and_qr(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, None).await;
    let b = Browser::new();
    let end = login(&op, &b, NGOC, &[("scope", "openid profile address personal_id")]).await;
    let p = end.params();
    assert_eq!(p.get("state").map(String::as_str), Some("s-1"));
    assert_eq!(p.get("iss"), Some(&op.base), "RFC 9207");
    let r = redeem(&op, &end.code()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let tokens: Value = r.json().await.unwrap();
    let id = verify(&op, tokens["id_token"].as_str().unwrap(), "portal").await;
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["acr"], acr::EID2);
    assert_eq!(id["name"], "Trần Thị Bích Ngọc");
    assert_eq!(id["personal_id"], NGOC.0, "released under the dedicated scope, consented");
    for k in ["sub", "auth_time", "sid", "at_hash", "amr", "iat", "exp", "birthdate", "address"] {
        assert!(id.get(k).is_some(), "ID token claim {k}: {id}");
    }
    assert_ne!(id["sub"], NGOC.0, "pairwise subject, not the personal ID");
    // at_hash binds the access token.
    let at = tokens["access_token"].as_str().unwrap();
    let digest = Sha256::digest(at.as_bytes());
    assert_eq!(id["at_hash"], base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]));
    let access = verify(&op, at, "portal").await;
    assert_eq!(access["sub"], id["sub"]);
    let info: Value = http().get(op.url("/userinfo")).bearer_auth(at).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["gender"], "female");
    assert_eq!(info["personal_id"], NGOC.0);
    // The consent is recorded and listed on the account page.
    let account = b.http.get(op.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(account.contains("Cổng thử nghiệm") && account.contains("personal_id"), "{account}");

    // Without the personal_id scope, the number is not released.
    let b2 = Browser::new();
    let end = login(&op, &b2, TUAN, &[]).await;
    let tokens: Value = redeem(&op, &end.code()).await.json().await.unwrap();
    let id2 = verify(&op, tokens["id_token"].as_str().unwrap(), "portal").await;
    assert!(id2.get("personal_id").is_none(), "{id2}");
    assert_eq!(id2["acr"], acr::EID1);

    // Each ID token algorithm a client may choose, verified independently via JWKS.
    for alg in ["RS256", "EdDSA", "PS256"] {
        let mut c = op.state.db.client("portal").await.unwrap().unwrap();
        c.id_token_signed_response_alg = alg.into();
        op.state.db.put_client(&c, 0).await.unwrap();
        op.state.oidc.clients.invalidate("portal");
        let end = login(&op, &Browser::new(), NGOC, &[]).await;
        let tokens: Value = redeem(&op, &end.code()).await.json().await.unwrap();
        let idt = tokens["id_token"].as_str().unwrap();
        assert_eq!(format!("{:?}", jsonwebtoken::decode_header(idt).unwrap().alg), alg);
        verify(&op, idt, "portal").await;
    }

    // QR approval from the phone.
    let b3 = Browser::new();
    let end = b3.journey(&auth_url(&op, &[]), REDIRECT, EidLogin::Qr { login: NGOC.0 }, ConsentChoice::Allow).await;
    let tokens: Value = redeem(&op, &end.code()).await.json().await.unwrap();
    let id3 = verify(&op, tokens["id_token"].as_str().unwrap(), "portal").await;
    assert_eq!(id3["sub"], id["sub"], "same person, same pairwise sub");
    op.stop().await;
}
on_both_backends!(full_login, super::full_login_by_form_and_qr);

async fn sessions_prompt_max_age_and_step_up(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, None).await;
    // prompt=none without a session.
    let b = Browser::new();
    let end = login(&op, &b, NGOC, &[("prompt", "none")]).await;
    assert_eq!(end.params().get("error").map(String::as_str), Some("login_required"));
    // Log in; then prompt=none answers at once from the session (consent already given).
    let end = login(&op, &b, NGOC, &[]).await;
    end.code();
    let r = b.http.get(auth_url(&op, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with(REDIRECT) && loc.contains("code="), "{loc}");
    // max_age=0 forces a fresh login.
    let r = b.http.get(auth_url(&op, &[("max_age", "0")])).send().await.unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("/login"), "max_age=0 re-authenticates: {loc}");
    let r = b.http.get(auth_url(&op, &[("max_age", "0"), ("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=login_required"));

    // Level 2 demanded of a level-1 account: an error, never a weaker login.
    let b1 = Browser::new();
    let end = login(&op, &b1, TUAN, &[("acr_values", acr::EID2)]).await;
    match &end {
        End::Page { status, body, .. } => {
            assert_eq!(*status, 403, "{body}");
            assert!(body.contains("back-to-service"), "the page offers a way back");
            // Going back gives the service a proper OAuth error.
            let r = b1.back_to_service(&op.base, body).await;
            let loc = r.headers()["location"].to_str().unwrap().to_owned();
            assert!(loc.starts_with(REDIRECT) && loc.contains("error=access_denied"), "{loc}");
        }
        End::AtClient(p) => panic!("a level-1 account must not satisfy acr_values=eid2: {p:?}"),
    }
    // Step-up: a level-1 session, then a request for level 2 goes back to the e-ID.
    let end = login(&op, &b1, TUAN, &[]).await;
    end.code();
    let r = b1.http.get(auth_url(&op, &[("acr_values", acr::EID2)])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"), "step-up needs a new login");
    // A level-2 citizen steps up fine.
    let end = login(&op, &b, NGOC, &[("acr_values", acr::EID2)]).await;
    let tokens: Value = redeem(&op, &end.code()).await.json().await.unwrap();
    assert_eq!(verify(&op, tokens["id_token"].as_str().unwrap(), "portal").await["acr"], acr::EID2);
    op.stop().await;
}
on_both_backends!(sessions_and_levels, super::sessions_prompt_max_age_and_step_up);

async fn code_replay_and_refresh_race(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, None).await;
    let b = Browser::new();
    let code = login(&op, &b, NGOC, &[("scope", "openid profile offline_access")]).await.code();
    let first: Value = redeem(&op, &code).await.json().await.unwrap();
    let at = first["access_token"].as_str().unwrap().to_owned();
    let rt = first["refresh_token"].as_str().unwrap().to_owned();
    let introspect = |t: String| {
        let url = op.url("/introspect");
        async move {
            http()
                .post(url)
                .basic_auth("portal", Some(SECRET))
                .form(&[("token", t)])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(introspect(at.clone()).await["active"], true);
    // Replay: refused, and what the code issued is revoked.
    let replay = redeem(&op, &code).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(introspect(at).await["active"], false, "access token revoked by the replay");
    assert_eq!(introspect(rt.clone()).await["active"], false, "refresh token revoked by the replay");

    // A new login, then 200 concurrent uses of one refresh token.
    let code = login(&op, &b, NGOC, &[("scope", "openid profile offline_access")]).await.code();
    let t: Value = redeem(&op, &code).await.json().await.unwrap();
    let rt = Arc::new(t["refresh_token"].as_str().unwrap().to_owned());
    let client = http();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (c, url, rt) = (client.clone(), op.url("/token"), rt.clone());
            tokio::spawn(async move {
                let r = c
                    .post(url)
                    .basic_auth("portal", Some(SECRET))
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", rt.as_str())])
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == 200 {
            winners.push(body);
        } else {
            assert_eq!(body["error"], "invalid_grant");
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of 200 concurrent refreshes succeeds");
    let new_rt = winners[0]["refresh_token"].as_str().unwrap().to_owned();
    let r = refresh(&op, new_rt.as_str()).await;
    assert_eq!(r.status(), 400, "the whole family is revoked after reuse");
    assert_eq!(introspect(winners[0]["access_token"].as_str().unwrap().to_owned()).await["active"], false);

    // Normal rotation: the new token works, the old one is spent.
    let code = login(&op, &b, NGOC, &[("scope", "openid offline_access")]).await.code();
    let t: Value = redeem(&op, &code).await.json().await.unwrap();
    let rt1 = t["refresh_token"].as_str().unwrap().to_owned();
    let r: Value = refresh(&op, rt1.as_str()).await.json().await.unwrap();
    let rt2 = r["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    assert!(r["id_token"].is_string());
    let r = refresh(&op, rt2.as_str()).await;
    assert_eq!(r.status(), 200);
    op.stop().await;
}
on_both_backends!(replay_and_refresh, super::code_replay_and_refresh_race);

async fn logout_rp_initiated_and_back_channel(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    // A relying party that records the logout tokens POSTed to it.
    let received: Arc<tokio::sync::Mutex<Vec<String>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/bcl",
        axum::routing::post(
            move |axum::extract::Form(f): axum::extract::Form<std::collections::HashMap<String, String>>| {
                let sink = sink.clone();
                async move {
                    sink.lock().await.push(f.get("logout_token").cloned().unwrap_or_default());
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp_port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    register(&op, Some(format!("http://127.0.0.1:{rp_port}/bcl"))).await;

    let b = Browser::new();
    let tokens: Value = redeem(&op, &login(&op, &b, NGOC, &[]).await.code()).await.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let id = verify(&op, id_token, "portal").await;
    let r = b
        .http
        .get(op.url("/logout"))
        .query(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "https://portal.example.vn/bye"),
            ("state", "bye-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "https://portal.example.vn/bye?state=bye-1");
    // The session is gone: prompt=none now needs a login.
    let r = b.http.get(auth_url(&op, &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=login_required"));
    // The back-channel logout token arrives and verifies.
    let mut token = None;
    for _ in 0..50 {
        if let Some(t) = received.lock().await.first().cloned() {
            token = Some(t);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let token = token.expect("back-channel logout delivered");
    assert_eq!(jsonwebtoken::decode_header(&token).unwrap().typ.as_deref(), Some("logout+jwt"));
    let claims = verify(&op, &token, "portal").await;
    assert_eq!(claims["sid"], id["sid"]);
    assert_eq!(claims["sub"], id["sub"]);
    assert!(claims["events"].get("http://schemas.openid.net/event/backchannel-logout").is_some());
    assert!(claims.get("nonce").is_none());
    // Tokens of the session are revoked too.
    let i: Value = http()
        .post(op.url("/introspect"))
        .basic_auth("portal", Some(SECRET))
        .form(&[("token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(i["active"], false);
    op.stop().await;
}
on_both_backends!(logout, super::logout_rp_initiated_and_back_channel);

async fn verification_failures_and_upstream_down(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, None).await;
    let page = |end: End| match end {
        End::Page { status, body, .. } => (status.as_u16(), body),
        End::AtClient(p) => panic!("expected a page, got a redirect {p:?}"),
    };
    let (status, body) = page(login(&op, &Browser::new(), HUONG, &[]).await);
    assert_eq!(status, 403);
    assert!(body.contains("lang=\"vi\"") && body.contains("login-error"), "mismatch page");
    let (status, body) = page(login(&op, &Browser::new(), HUNG, &[]).await);
    assert_eq!(status, 403, "deceased: {body}");
    // Login CSRF: a login started in one browser cannot be finished in another (the callback
    // URL is useless without the starting browser's binding cookie).
    let a = Browser::new();
    let r = a.http.get(auth_url(&op, &[])).send().await.unwrap();
    let login_page =
        a.http.get(op.url(r.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    let tx = login_page.split("name=\"tx\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = a.http.post(op.url("/login/vneid")).form(&[("tx", tx.as_str())]).send().await.unwrap();
    let eid_url = r.headers()["location"].to_str().unwrap().to_owned();
    let other = Browser::new();
    let (status, _) = page(
        other
            .journey(&eid_url, REDIRECT, EidLogin::Form { login: NGOC.0, passcode: NGOC.1 }, ConsentChoice::Allow)
            .await,
    );
    assert_eq!(status, 400, "callback in a foreign browser refused");
    // A cross-site form cannot start a login either.
    let r = a
        .http
        .post(op.url("/login/vneid"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("tx", tx.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Consent refused: the service gets access_denied.
    let end = Browser::new()
        .journey(&auth_url(&op, &[]), REDIRECT, EidLogin::Form { login: NGOC.0, passcode: NGOC.1 }, ConsentChoice::Deny)
        .await;
    assert_eq!(end.params().get("error").map(String::as_str), Some("access_denied"));
    // The e-ID's back channel overloaded (503 "bảo trì" on the token endpoint): an honest page,
    // quickly, with a retry that resumes the same login once the e-ID is back.
    let set_faults = |body: Value| {
        let url = format!("{}/mock/faults", op.vneid());
        async move {
            let r = http().put(url).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "set faults: {}", r.status());
        }
    };
    set_faults(json!({ "max_concurrent": 0, "only_paths": ["/oauth2/token"] })).await;
    let b = Browser::new();
    let start = std::time::Instant::now();
    let (status, body) = page(login(&op, &b, NGOC, &[]).await);
    assert_eq!(status, 503, "{body}");
    assert!(start.elapsed() < std::time::Duration::from_secs(15), "no hang: {:?}", start.elapsed());
    let retry = body
        .split("href=\"")
        .find(|s| s.starts_with("/login?tx="))
        .expect("offers a retry")
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    set_faults(json!({})).await;
    let end = b
        .journey(&op.url(&retry), REDIRECT, EidLogin::Form { login: NGOC.0, passcode: NGOC.1 }, ConsentChoice::Allow)
        .await;
    assert!(end.params().contains_key("code"), "the login transaction was not lost");
    op.stop().await;
}
on_both_backends!(failures, super::verification_failures_and_upstream_down);

async fn consent_recorded_withdrawn_and_trusted(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, None).await;
    let b = Browser::new();
    let code = login(&op, &b, NGOC, &[]).await.code();
    let tokens: Value = redeem(&op, &code).await.json().await.unwrap();
    let page = b.http.get(op.url("/account")).send().await.unwrap().text().await.unwrap();
    let consents =
        page.split("name=\"id\" value=\"").nth(1).expect("a consent row").split('"').next().unwrap().to_owned();
    // With consent recorded, a new authorization needs no page: prompt=none succeeds.
    let r = b.http.get(auth_url(&op, &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("code="));
    // The account page's forms carry the session's anti-CSRF token: a form without it (as
    // another site would post) or from another site changes nothing.
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).expect("a csrf token").split('"').next().unwrap().to_owned();
    let r = b.http.post(op.url("/account/consents/revoke")).form(&[("id", consents.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 400, "no token: refused");
    let r = b
        .http
        .post(op.url("/account/consents/revoke"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("id", consents.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "cross-site: refused");
    let r = b.http.get(auth_url(&op, &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("code="), "the consent is still there");
    // Withdraw it on the account page: the next authorization asks again.
    let r = b
        .http
        .post(op.url("/account/consents/revoke"))
        .form(&[("id", consents.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = b.http.get(auth_url(&op, &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=consent_required"));
    // ...and the data stops flowing: tokens issued under the consent are revoked.
    let r = http().get(op.url("/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 401, "withdrawn consent revokes live tokens");
    let r = refresh(&op, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 400);
    // Another person's consent cannot be withdrawn through this session.
    let r = b
        .http
        .post(op.url("/account/consents/revoke"))
        .form(&[("id", "not-mine"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // A trusted first-party client skips the consent page altogether.
    let mut c = op.state.db.client("portal").await.unwrap().unwrap();
    c.trusted = true;
    op.state.db.put_client(&c, 0).await.unwrap();
    op.state.oidc.clients.invalidate("portal");
    let r = b.http.get(auth_url(&op, &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("code="));
    // ...except for the personal ID, which always needs a recorded consent.
    let r = b.http.get(auth_url(&op, &[("prompt", "none"), ("scope", "openid personal_id")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=consent_required"));
    op.stop().await;
}
on_both_backends!(consent, super::consent_recorded_withdrawn_and_trusted);

/// The outside review's reproduction: a citizen with a level-2 e-ID, asked for an officer level,
/// used to get a code. Now no citizen login meets an officer demand, however strong.
async fn citizen_never_meets_an_officer_demand(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, None).await;
    let b = Browser::new();
    let tokens: Value =
        redeem(&op, &login(&op, &b, NGOC, &[("acr_values", acr::EID2)]).await.code()).await.json().await.unwrap();
    assert_eq!(verify(&op, tokens["id_token"].as_str().unwrap(), "portal").await["acr"], acr::EID2);
    let officer = "urn:xacthuc:acr:officer-mfa";
    let r = b.http.get(auth_url(&op, &[("acr_values", officer), ("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=login_required"));
    // A fresh login offers no e-ID button (only the officer login), and the e-ID cannot be forced.
    match login(&op, &Browser::new(), NGOC, &[("acr_values", officer)]).await {
        End::Page { body, .. } => {
            assert!(body.contains("id=\"login-officer\"") && !body.contains("login-vneid"), "{body}")
        }
        End::AtClient(p) => panic!("a citizen met an officer demand: {p:?}"),
    }
    let r = b.http.get(auth_url(&op, &[("acr_values", officer)])).send().await.unwrap();
    let page =
        b.http.get(op.url(r.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
    let tx = page.split("name=\"tx\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = b.http.post(op.url("/login/vneid")).form(&[("tx", tx.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    op.stop().await;
}
on_both_backends!(officer_demand, super::citizen_never_meets_an_officer_demand);

/// Replaces the portal's registration as stored, bypassing registration checks the way a stale
/// or hand-edited record would, and drops the cached copy.
async fn store_portal(op: &TestOp, edit: impl FnOnce(&mut Client)) {
    let mut c = op.state.db.client("portal").await.unwrap().unwrap();
    edit(&mut c);
    op.state.db.put_client(&c, 0).await.unwrap();
    op.state.oidc.clients.invalidate("portal");
}

fn jwe_header(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 5, "a compact JWE: {token}");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap()
}

/// Encrypted ID tokens and userinfo over HTTP (decryption itself is checked by the unit round
/// trip and by Authlib in the interop suite), and personal_id never leaving in clear for a
/// client that demands encryption, even when its key is gone or its record was edited.
async fn encrypted_responses_and_personal_id(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, None).await;
    let key = aws_lc_rs::agreement::PrivateKey::generate(&aws_lc_rs::agreement::ECDH_P256).unwrap();
    let point = key.compute_public_key().unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let enc_jwk = json!({"kty": "EC", "crv": "P-256", "use": "enc", "kid": "enc-1",
        "x": b64(&point.as_ref()[1..33]), "y": b64(&point.as_ref()[33..])});
    let encryption: xacthuc::oidc::encryption::ResponseEncryption = serde_json::from_value(json!({
        "id_token_encrypted_response_alg": "ECDH-ES+A256KW",
        "userinfo_encrypted_response_alg": "ECDH-ES+A256KW",
        "require_encryption_for_personal_id": true,
    }))
    .unwrap();
    store_portal(&op, |c| {
        c.jwks = Some(json!({ "keys": [enc_jwk] }));
        c.encryption = encryption.clone();
        c.validate().expect("a valid registration");
    })
    .await;
    let with_pid = [("scope", "openid profile personal_id")];
    let end = login(&op, &Browser::new(), NGOC, &with_pid).await;
    let tokens: Value = redeem(&op, &end.code()).await.json().await.unwrap();
    let h = jwe_header(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        (h["alg"].as_str(), h["enc"].as_str(), h["cty"].as_str()),
        (Some("ECDH-ES+A256KW"), Some("A256GCM"), Some("JWT"))
    );
    assert_eq!((h["kid"].as_str(), h["epk"]["crv"].as_str()), (Some("enc-1"), Some("P-256")));
    let r = http().get(op.url("/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/jwt");
    assert_eq!(jwe_header(&r.text().await.unwrap())["alg"], "ECDH-ES+A256KW");

    // The client's set loses its encryption key: refused, never answered in clear.
    store_portal(&op, |c| c.jwks = Some(json!({ "keys": [] }))).await;
    let end = login(&op, &Browser::new(), NGOC, &with_pid).await;
    let r = redeem(&op, &end.code()).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client", "{body}");
    assert!(!body.to_string().contains(NGOC.0));

    // The demand without any encryption configured (an edited record): personal_id is refused,
    // other scopes are served as usual.
    store_portal(&op, |c| {
        c.encryption = xacthuc::oidc::encryption::ResponseEncryption {
            require_encryption_for_personal_id: true,
            ..Default::default()
        };
    })
    .await;
    let end = login(&op, &Browser::new(), NGOC, &with_pid).await;
    assert_eq!(redeem(&op, &end.code()).await.status(), 400);
    let end = login(&op, &Browser::new(), NGOC, &[("scope", "openid profile")]).await;
    let tokens: Value = redeem(&op, &end.code()).await.json().await.unwrap();
    let id = verify(&op, tokens["id_token"].as_str().unwrap(), "portal").await;
    assert!(id.get("personal_id").is_none());
    op.stop().await;
}
on_both_backends!(encrypted_responses, super::encrypted_responses_and_personal_id);
