//! DPoP (RFC 9449) and the per-client FAPI 2.0 profile over real HTTP, on both backend pairs:
//! server nonces, replayed proofs, wrong `htu`/`htm`, stale proofs, `ath`, `dpop_jkt` binding
//! of codes, bound access tokens refused as Bearer, public clients' refresh tokens bound across
//! rotations, and every weaker request a `fapi2` client might make refused.

mod support;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::browser::{Browser, ConsentChoice, EidLogin};
use support::keys::ClientKey;
use support::op::{Backend, TestOp, http};
use support::rp::VERIFIER;
use xacthuc::oidc::clients::{AuthMethod, Client};
use xacthuc_mocks::{DemoCase, demo_citizens};

const REDIRECT: &str = "https://fapi.example.vn/cb";

fn citizen() -> (String, String) {
    let c = demo_citizens().into_iter().find(|c| c.case == DemoCase::NormalLevel2).expect("demo citizen");
    (c.login, c.passcode)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn challenge() -> String {
    b64(&Sha256::digest(VERIFIER.as_bytes()))
}

async fn register(op: &TestOp, c: &Client) {
    c.validate().expect("a valid registration");
    op.state.db.put_client(c, 0).await.expect("register client");
    op.state.oidc.clients.invalidate(&c.client_id);
}

fn fapi_client(id: &str, key: &ClientKey) -> Client {
    Client {
        jwks: Some(key.jwks()),
        scopes: ["openid", "profile"].map(String::from).to_vec(),
        refresh_token_ttl_secs: 3600,
        fapi2: true,
        ..Client::new(id, "FAPI RP", AuthMethod::PrivateKeyJwt, vec![REDIRECT.into()])
    }
}

fn public_client(id: &str) -> Client {
    Client {
        scopes: ["openid", "profile"].map(String::from).to_vec(),
        refresh_token_ttl_secs: 3600,
        trusted: true,
        ..Client::new(id, "Public DPoP RP", AuthMethod::None, vec![REDIRECT.into()])
    }
}

fn auth_params(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", client_id.into()),
        ("redirect_uri", REDIRECT.into()),
        ("response_type", "code".into()),
        ("scope", "openid profile".into()),
        ("state", "s-1".into()),
        ("nonce", "n-1".into()),
        ("code_challenge", challenge()),
        ("code_challenge_method", "S256".into()),
    ]
}

async fn answer(r: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = r.status().as_u16();
    let nonce = r.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, nonce, r.json().await.unwrap_or(Value::Null))
}

fn error_of(v: &Value) -> &str {
    v["error"].as_str().unwrap_or_default()
}

/// The server's current nonce, as any answer of the token endpoint carries it.
async fn nonce(op: &TestOp) -> String {
    let r = http().post(op.url("/token")).form(&[("grant_type", "none")]).send().await.unwrap();
    r.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()).expect("a DPoP-Nonce header").to_owned()
}

/// A PAR request of the fapi2 client, authenticated with private_key_jwt.
async fn push(
    op: &TestOp,
    id: &str,
    key: &ClientKey,
    params: &[(&str, String)],
    proof: Option<String>,
) -> reqwest::Response {
    let mut form: Vec<(&str, String)> = params.to_vec();
    form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
    form.push(("client_assertion", key.assertion(id, &op.config.issuer)));
    let mut req = http().post(op.url("/par")).form(&form);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    req.send().await.unwrap()
}

/// Logs the citizen in at `authorize` (a full URL) and returns the code.
async fn login(authorize: &str) -> String {
    let who = citizen();
    let eid = EidLogin::Form { login: &who.0, passcode: &who.1 };
    let end = Browser::new().journey(authorize, REDIRECT, eid, ConsentChoice::Allow).await;
    end.code()
}

fn authorize_url(op: &TestOp, params: &[(&str, String)]) -> String {
    let mut u = url::Url::parse(&op.url("/authorize")).unwrap();
    u.query_pairs_mut().extend_pairs(params);
    u.to_string()
}

/// Token request with an optional DPoP proof; the client authenticates as given in `form`.
async fn token(op: &TestOp, form: &[(&str, String)], proof: Option<String>) -> reqwest::Response {
    let mut req = http().post(op.url("/token")).form(form);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    req.send().await.unwrap()
}

fn assertion_form(op: &TestOp, id: &str, key: &ClientKey) -> Vec<(&'static str, String)> {
    vec![
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()),
        ("client_assertion", key.assertion(id, &op.config.issuer)),
    ]
}

/// Redeeming `code` as the private_key_jwt client (the assertion is the second field).
fn code_form(op: &TestOp, id: &str, key: &ClientKey, code: String) -> Vec<(&'static str, String)> {
    let mut form = assertion_form(op, id, key);
    form.extend([
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", REDIRECT.into()),
        ("code_verifier", VERIFIER.into()),
    ]);
    form
}

async fn userinfo(op: &TestOp, auth: &str, proof: Option<String>) -> reqwest::Response {
    let mut req = http().get(op.url("/userinfo")).header("Authorization", auth);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    req.send().await.unwrap()
}

fn challenges(r: &reqwest::Response) -> String {
    r.headers().get_all("www-authenticate").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(" | ")
}

fn ath(token: &str) -> String {
    b64(&Sha256::digest(token.as_bytes()))
}

async fn proofs_at_par_and_the_token_endpoint(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let id = "fapi-rp";
    let client_key = ClientKey::generate("rp-1");
    register(&op, &fapi_client(id, &client_key)).await;
    let dpop = ClientKey::generate("dpop");
    let par_url = op.url("/par");
    let token_url = op.url("/token");

    let meta: Value =
        http().get(op.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["dpop_signing_alg_values_supported"], json!(["ES256", "PS256", "EdDSA", "Ed25519", "RS256"]));

    // No nonce: use_dpop_nonce, with the nonce to use in DPoP-Nonce.
    let r = push(&op, id, &client_key, &auth_params(id), Some(dpop.dpop("POST", &par_url, json!({})))).await;
    let (status, fresh, body) = answer(r).await;
    assert_eq!((status, error_of(&body)), (400, "use_dpop_nonce"), "{body}");
    let n = fresh.expect("DPoP-Nonce with use_dpop_nonce");
    // A nonce the server never gave (or one long expired): use_dpop_nonce again.
    let r =
        push(&op, id, &client_key, &auth_params(id), Some(dpop.dpop("POST", &par_url, json!({ "nonce": "stale" }))))
            .await;
    assert_eq!(error_of(&answer(r).await.2), "use_dpop_nonce");
    // Wrong htu, wrong htm, a stale iat, a wrong typ of key: invalid_dpop_proof.
    for (what, proof) in [
        ("htu of another endpoint", dpop.dpop("POST", &token_url, json!({ "nonce": n }))),
        ("htm GET", dpop.dpop("GET", &par_url, json!({ "nonce": n }))),
        ("iat ten minutes old", {
            let old = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 600;
            dpop.dpop("POST", &par_url, json!({ "nonce": n, "iat": old }))
        }),
        ("a request object is not a proof", client_key.sign(&json!({ "htm": "POST", "htu": par_url }))),
    ] {
        let r = push(&op, id, &client_key, &auth_params(id), Some(proof)).await;
        let (status, _, body) = answer(r).await;
        assert_eq!((status, error_of(&body)), (400, "invalid_dpop_proof"), "{what}: {body}");
    }
    // The query of htu does not count.
    let with_query = format!("{par_url}?x=1");
    // dpop_jkt naming another key than the proof's: refused.
    let mut params = auth_params(id);
    params.push(("dpop_jkt", ClientKey::generate("other").thumbprint()));
    let r = push(&op, id, &client_key, &params, Some(dpop.dpop("POST", &with_query, json!({ "nonce": n })))).await;
    assert_eq!(error_of(&answer(r).await.2), "invalid_dpop_proof");
    // A good proof; the same proof again is a replay.
    let proof = dpop.dpop("POST", &with_query, json!({ "nonce": n }));
    let r = push(&op, id, &client_key, &auth_params(id), Some(proof.clone())).await;
    let (status, _, pushed) = answer(r).await;
    assert_eq!(status, 201, "{pushed}");
    let r = push(&op, id, &client_key, &auth_params(id), Some(proof)).await;
    let (status, _, body) = answer(r).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_dpop_proof"), "replay: {body}");
    assert!(body["error_description"].as_str().unwrap().contains("already used"), "{body}");

    // The code is bound to the PAR proof's key: another key cannot redeem it.
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    let code = login(&authorize_url(&op, &[("client_id", id.into()), ("request_uri", request_uri)])).await;
    let thief = ClientKey::generate("thief");
    let form = code_form(&op, id, &client_key, code);
    let n = nonce(&op).await;
    let (status, _, body) =
        answer(token(&op, &form, Some(thief.dpop("POST", &token_url, json!({ "nonce": n })))).await).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"), "a code bound to another key: {body}");

    // A fresh code (dpop_jkt sent explicitly), redeemed with the right key.
    let mut params = auth_params(id);
    params.push(("dpop_jkt", dpop.thumbprint()));
    let (status, _, pushed) = answer(push(&op, id, &client_key, &params, None).await).await;
    assert_eq!(status, 201, "{pushed}");
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    let code = login(&authorize_url(&op, &[("client_id", id.into()), ("request_uri", request_uri)])).await;
    let mut form = code_form(&op, id, &client_key, code);
    let (status, _, body) = answer(token(&op, &form, None).await).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_dpop_proof"), "fapi2 without a proof: {body}");
    form[1].1 = client_key.assertion(id, &op.config.issuer);
    let (status, _, tokens) =
        answer(token(&op, &form, Some(dpop.dpop("POST", &token_url, json!({ "nonce": n })))).await).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let at = tokens["access_token"].as_str().unwrap().to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(at.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["cnf"]["jkt"], dpop.thumbprint());

    // UserInfo: the bound token as Bearer is refused, with the DPoP challenge.
    let r = userinfo(&op, &format!("Bearer {at}"), None).await;
    assert_eq!(r.status(), 401);
    assert!(challenges(&r).contains("DPoP"), "{}", challenges(&r));
    let ui = op.url("/userinfo");
    // The DPoP scheme without a proof, with a wrong ath, with another key: refused.
    let r = userinfo(&op, &format!("DPoP {at}"), None).await;
    assert_eq!(r.status(), 401);
    assert!(challenges(&r).contains("DPoP error=\"invalid_dpop_proof\""), "{}", challenges(&r));
    let r =
        userinfo(&op, &format!("DPoP {at}"), Some(dpop.dpop("GET", &ui, json!({ "ath": ath("another token") })))).await;
    assert_eq!(r.status(), 401, "ath mismatch");
    let r = userinfo(&op, &format!("DPoP {at}"), Some(thief.dpop("GET", &ui, json!({ "ath": ath(&at) })))).await;
    assert_eq!(r.status(), 401, "another key");
    let r = userinfo(&op, &format!("DPoP {at}"), Some(dpop.dpop("POST", &ui, json!({ "ath": ath(&at) })))).await;
    assert_eq!(r.status(), 401, "htm POST for a GET");
    let good = dpop.dpop("GET", &ui, json!({ "ath": ath(&at) }));
    let r = userinfo(&op, &format!("DPoP {at}"), Some(good.clone())).await;
    let (status, _, info) = answer(r).await;
    assert_eq!(status, 200, "{info}");
    assert!(info["sub"].is_string());
    let r = userinfo(&op, &format!("DPoP {at}"), Some(good)).await;
    assert_eq!(r.status(), 401, "a replayed proof at userinfo");

    // Refresh: a fapi2 client needs a proof, and gets a bound token again.
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut form = assertion_form(&op, id, &client_key);
    form.extend([("grant_type", "refresh_token".into()), ("refresh_token", rt)]);
    let (_, _, body) = answer(token(&op, &form, None).await).await;
    assert_eq!(error_of(&body), "invalid_dpop_proof");
    form[1].1 = client_key.assertion(id, &op.config.issuer);
    let r = token(&op, &form, Some(dpop.dpop("POST", &token_url, json!({ "nonce": n })))).await;
    let (status, _, refreshed) = answer(r).await;
    assert_eq!((status, refreshed["token_type"].as_str()), (200, Some("DPoP")), "{refreshed}");
    // FAPI 2.0 SP §5.3.2.1: rotation is allowed only if a retry with the previous token (the
    // client lost the answer) succeeds; it gets the same successor, and the family stays whole.
    form[1].1 = client_key.assertion(id, &op.config.issuer);
    let r = token(&op, &form, Some(dpop.dpop("POST", &token_url, json!({ "nonce": n })))).await;
    let (status, _, retried) = answer(r).await;
    assert_eq!(status, 200, "a retry with the previous refresh token: {retried}");
    assert_eq!(retried["refresh_token"], refreshed["refresh_token"], "the same successor");
    form[3].1 = refreshed["refresh_token"].as_str().unwrap().to_owned();
    form[1].1 = client_key.assertion(id, &op.config.issuer);
    let r = token(&op, &form, Some(dpop.dpop("POST", &token_url, json!({ "nonce": n })))).await;
    assert_eq!(answer(r).await.0, 200, "the successor still works");
    op.stop().await;
}
on_both_backends!(proofs, super::proofs_at_par_and_the_token_endpoint);

async fn fapi2_refuses_weaker_requests(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let id = "fapi-strict";
    let client_key = ClientKey::generate("rp-2");
    register(&op, &fapi_client(id, &client_key)).await;
    let c = http();

    // Registration: only private_key_jwt, only PS256/ES256/EdDSA ID tokens.
    let secret_based = Client {
        auth_method: AuthMethod::ClientSecretBasic,
        secret_hash: Some("x".into()),
        ..fapi_client(id, &client_key)
    };
    assert!(secret_based.validate().unwrap_err().contains("private_key_jwt"));
    let rs256 = Client { id_token_signed_response_alg: "RS256".into(), ..fapi_client(id, &client_key) };
    assert!(rs256.validate().is_err());

    // No PAR: invalid_request back at the (registered) redirect URI, with iss.
    let r = c.get(authorize_url(&op, &auth_params(id))).send().await.unwrap();
    let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let q: std::collections::HashMap<String, String> =
        url::Url::parse(&loc).unwrap().query_pairs().into_owned().collect();
    assert_eq!(q.get("error").map(String::as_str), Some("invalid_request"), "{loc}");
    assert_eq!(q.get("iss"), Some(&op.config.issuer));

    // A client secret instead of private_key_jwt: invalid_client.
    let r = c.post(op.url("/par")).basic_auth(id, Some("guess")).form(&auth_params(id)).send().await.unwrap();
    let (status, _, body) = answer(r).await;
    assert_eq!((status, error_of(&body)), (401, "invalid_client"), "{body}");

    // Plain PKCE: invalid_request.
    let mut plain = auth_params(id);
    plain.retain(|(k, _)| !k.starts_with("code_challenge"));
    plain.extend([("code_challenge", VERIFIER.into()), ("code_challenge_method", "plain".into())]);
    let (status, _, body) = answer(push(&op, id, &client_key, &plain, None).await).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_request"), "{body}");

    // A redirect URI outside the pushed request: refused, never followed.
    let (status, _, pushed) = answer(push(&op, id, &client_key, &auth_params(id), None).await).await;
    assert_eq!(status, 201, "{pushed}");
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    let url = authorize_url(
        &op,
        &[("client_id", id.into()), ("request_uri", request_uri), ("redirect_uri", REDIRECT.into())],
    );
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 400, "redirect_uri outside PAR must be refused");
    assert!(r.headers().get("location").is_none());

    // Codes live at most 60 s, and the authorization response names the issuer (RFC 9207).
    let (_, _, pushed) = answer(push(&op, id, &client_key, &auth_params(id), None).await).await;
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    let who = citizen();
    let eid = EidLogin::Form { login: &who.0, passcode: &who.1 };
    let end = Browser::new()
        .journey(
            &authorize_url(&op, &[("client_id", id.into()), ("request_uri", request_uri)]),
            REDIRECT,
            eid,
            ConsentChoice::Allow,
        )
        .await;
    assert_eq!(end.params().get("iss"), Some(&op.config.issuer));
    assert!(op.state.oidc.code_ttl.as_secs() <= 60);
    op.stop().await;
}
on_both_backends!(fapi2_refusals, super::fapi2_refuses_weaker_requests);

async fn public_clients_refresh_tokens_stay_bound(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let id = "dpop-public";
    register(&op, &public_client(id)).await;
    let key = ClientKey::generate("holder");
    let other = ClientKey::generate("other");
    let token_url = op.url("/token");
    let redeem = |code: String| {
        vec![
            ("client_id", id.to_owned()),
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT.to_owned()),
            ("code_verifier", VERIFIER.to_owned()),
        ]
    };
    let mut params = auth_params(id);
    params.push(("dpop_jkt", key.thumbprint()));

    // dpop_jkt at /authorize binds the code: another key's proof cannot redeem it.
    let code = login(&authorize_url(&op, &params)).await;
    let n = nonce(&op).await;
    let r = token(&op, &redeem(code), Some(other.dpop("POST", &token_url, json!({ "nonce": n })))).await;
    assert_eq!(error_of(&answer(r).await.2), "invalid_grant", "dpop_jkt mismatch");

    let code = login(&authorize_url(&op, &params)).await;
    let r = token(&op, &redeem(code), Some(key.dpop("POST", &token_url, json!({ "nonce": n })))).await;
    let (status, _, tokens) = answer(r).await;
    assert_eq!(status, 200, "{tokens}");
    let mut rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    for round in 0..2 {
        let form = |rt: &str| {
            vec![
                ("client_id", id.to_owned()),
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", rt.to_owned()),
            ]
        };
        // Without a proof, or with another key: refused, and the token is not spent.
        let (_, _, body) = answer(token(&op, &form(&rt), None).await).await;
        assert_eq!(error_of(&body), "invalid_dpop_proof", "round {round}: {body}");
        let r = token(&op, &form(&rt), Some(other.dpop("POST", &token_url, json!({ "nonce": n })))).await;
        assert_eq!(error_of(&answer(r).await.2), "invalid_grant", "round {round}: another key");
        // The holder's key: a new bound pair; the binding survives the rotation.
        let r = token(&op, &form(&rt), Some(key.dpop("POST", &token_url, json!({ "nonce": n })))).await;
        let (status, _, t) = answer(r).await;
        assert_eq!((status, t["token_type"].as_str()), (200, Some("DPoP")), "round {round}: {t}");
        rt = t["refresh_token"].as_str().unwrap().to_owned();
    }
    op.stop().await;
}
on_both_backends!(public_refresh, super::public_clients_refresh_tokens_stay_bound);

async fn service_apis_take_the_dpop_scheme(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let secret = "dpop-service-secret-value-123";
    let client = Client {
        secret_hash: Some(xacthuc::crypto::sha256_hex(secret)),
        scopes: vec!["population.verify".into()],
        grant_types: vec![xacthuc::oidc::clients::GrantType::ClientCredentials],
        ..Client::new("dpop-service", "DPoP service", AuthMethod::ClientSecretBasic, Vec::new())
    };
    register(&op, &client).await;
    let key = ClientKey::generate("svc");
    let n = nonce(&op).await;
    let r = http()
        .post(op.url("/token"))
        .basic_auth("dpop-service", Some(secret))
        .header("DPoP", key.dpop("POST", &op.url("/token"), json!({ "nonce": n })))
        .form(&[("grant_type", "client_credentials"), ("scope", "population.verify")])
        .send()
        .await
        .unwrap();
    let (status, _, t) = answer(r).await;
    assert_eq!((status, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let at = t["access_token"].as_str().unwrap().to_owned();
    let api = op.url("/api/population/verify");
    let who = demo_citizens().into_iter().find(|c| c.case == DemoCase::NormalLevel2).unwrap();
    let body = json!({ "personal_id": who.personal_id, "full_name": who.name });
    let call = |auth: String, proof: Option<String>| {
        let mut req = http().post(&api).header("Authorization", auth).json(&body);
        if let Some(p) = proof {
            req = req.header("DPoP", p);
        }
        req.send()
    };
    // As Bearer, or as DPoP without a proof or with another key's: refused.
    assert_eq!(call(format!("Bearer {at}"), None).await.unwrap().status(), 401);
    assert_eq!(call(format!("DPoP {at}"), None).await.unwrap().status(), 401);
    let other = ClientKey::generate("other").dpop("POST", &api, json!({ "ath": ath(&at) }));
    assert_eq!(call(format!("DPoP {at}"), Some(other)).await.unwrap().status(), 401);
    // With a proof of the bound key for this request: served.
    let r = call(format!("DPoP {at}"), Some(key.dpop("POST", &api, json!({ "ath": ath(&at) })))).await.unwrap();
    let (status, _, report) = answer(r).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "found", "{report}");
    op.stop().await;
}
on_both_backends!(service_apis, super::service_apis_take_the_dpop_scheme);
