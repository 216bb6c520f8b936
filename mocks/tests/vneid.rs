//! The e-ID mock over real HTTP: form and QR logins with PKCE, the ID token verified
//! independently (jsonwebtoken + the JWKS fetched over HTTP), client authentication methods,
//! assurance levels, userinfo, logout and key rotation.

mod common;

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use common::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use xacthuc_mocks::citizens::DemoCase;
use xacthuc_mocks::demo_citizens;
use xacthuc_mocks::faults::FaultConfig;
use xacthuc_mocks::vneid::VneidClient;

fn demo(case: DemoCase) -> xacthuc_mocks::DemoCitizen {
    demo_citizens().into_iter().find(|d| d.case == case).expect("demo case")
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

async fn redeem_with_secret(c: &reqwest::Client, base: &str, code: &str, verifier: &str) -> reqwest::Response {
    c.post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_id", "rp-secret"),
            ("client_secret", "s3cret"),
        ])
        .send()
        .await
        .expect("token")
}

/// Verifies an ID token with nothing from the mock but its JWKS, fetched over HTTP.
async fn verify_id_token(c: &reqwest::Client, base: &str, token: &str, aud: &str) -> Value {
    let jwks: JwkSet = c.get(format!("{base}/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid");
    let jwk = jwks.find(&kid).expect("kid in JWKS");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[base]);
    jsonwebtoken::decode::<Value>(token, &key, &v).expect("ID token verifies").claims
}

#[tokio::test]
async fn form_login_with_pkce_gives_a_verifiable_rs256_id_token() {
    let (mock, base) = start_vneid(vec![secret_client()], FaultConfig::default()).await;
    let c = http();
    let disco: Value =
        c.get(format!("{base}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(disco["issuer"], base);
    assert_eq!(disco["id_token_signing_alg_values_supported"], json!(["RS256"]));

    let d = demo(DemoCase::NormalLevel2);
    let p = pkce();
    let (txn, _) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "")).await;

    // A wrong passcode stays on the page with a Vietnamese error.
    let bad = form_login(&c, &base, &txn, &d.login, "000000").await;
    assert_eq!(bad.status(), 401);
    assert!(bad.text().await.unwrap().contains("không đúng"));

    let ok = form_login(&c, &base, &txn, &d.login, &d.passcode).await;
    assert_eq!(ok.status(), 303);
    let loc = location(&ok);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-1"));
    let code = query_param(&loc, "code").expect("code");

    let tok = redeem_with_secret(&c, &base, &code, &p.verifier).await;
    assert_eq!(tok.status(), 200);
    let tok: Value = tok.json().await.unwrap();
    let claims = verify_id_token(&c, &base, tok["id_token"].as_str().unwrap(), "rp-secret").await;
    assert_eq!(claims["SoDinhDanh"], d.personal_id);
    assert_eq!(claims["HoVaTen"], d.name);
    assert_eq!(claims["NgayThangNamSinh"], "19880314");
    assert_eq!(claims["GioiTinh"], "Nữ");
    assert_eq!(claims["LoaiTaiKhoan"], "1");
    assert_eq!(claims["acr"], "2");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["nonce"], "n-1");

    // Codes are single-use.
    let again = redeem_with_secret(&c, &base, &code, &p.verifier).await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<Value>().await.unwrap()["error"], "invalid_grant");

    // Userinfo with the access token.
    let ui: Value = c
        .get(format!("{base}/oauth2/userinfo"))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ui["SoDinhDanh"], d.personal_id);
    let denied = c.get(format!("{base}/oauth2/userinfo")).bearer_auth("nope").send().await.unwrap();
    assert_eq!(denied.status(), 401);

    // Logout redirects back only to a registered origin.
    let out = c
        .get(format!("{base}/oauth2/logout?post_logout_redirect_uri={}&state=bye", urlencode("http://rp.example/")))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "http://rp.example/?state=bye");
    let evil = c
        .get(format!("{base}/oauth2/logout?post_logout_redirect_uri={}", urlencode("http://evil.example/")))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 400);
    mock.shutdown().await;
}

#[tokio::test]
async fn qr_login_approved_from_the_phone() {
    let (mock, base) = start_vneid(vec![secret_client()], FaultConfig::default()).await;
    let c = http();
    let d = demo(DemoCase::NameDiffersInCase);
    let p = pkce();
    let (txn, qr) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "")).await;
    let status: Value =
        c.get(format!("{base}/oauth2/login/status?txn={txn}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "pending");

    let unknown =
        c.post(format!("{base}/mock/approve")).json(&json!({"code": "nope", "login": d.login})).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let approved =
        c.post(format!("{base}/mock/approve")).json(&json!({"code": qr, "login": d.login})).send().await.unwrap();
    assert_eq!(approved.status(), 200);

    let status: Value =
        c.get(format!("{base}/oauth2/login/status?txn={txn}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "approved");
    let code = query_param(status["redirect_to"].as_str().unwrap(), "code").expect("code");
    let tok: Value = redeem_with_secret(&c, &base, &code, &p.verifier).await.json().await.unwrap();
    let claims = verify_id_token(&c, &base, tok["id_token"].as_str().unwrap(), "rp-secret").await;
    assert_eq!(claims["HoVaTen"], "Nguyễn Văn An");
    assert_eq!(claims["amr"], json!(["swk", "mfa"]));
    mock.shutdown().await;
}

#[tokio::test]
async fn level_2_requested_for_a_level_1_account_is_an_oauth_error() {
    let (mock, base) = start_vneid(vec![secret_client()], FaultConfig::default()).await;
    let c = http();
    let d = demo(DemoCase::Level1Only);
    let p = pkce();
    let (txn, _) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "&acr_values=2")).await;
    let r = form_login(&c, &base, &txn, &d.login, &d.passcode).await;
    let loc = location(&r);
    assert_eq!(query_param(&loc, "error").as_deref(), Some("unmet_authentication_requirements"), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-1"));
    assert!(query_param(&loc, "code").is_none());

    // The same account is fine when level 1 is acceptable, and acr says 1.
    let (txn, _) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "&acr_values=LoA1")).await;
    let r = form_login(&c, &base, &txn, &d.login, &d.passcode).await;
    let code = query_param(&location(&r), "code").expect("code");
    let tok: Value = redeem_with_secret(&c, &base, &code, &p.verifier).await.json().await.unwrap();
    let claims = verify_id_token(&c, &base, tok["id_token"].as_str().unwrap(), "rp-secret").await;
    assert_eq!(claims["acr"], "1");
    mock.shutdown().await;
}

#[tokio::test]
async fn authorize_rejects_bad_requests() {
    let (mock, base) = start_vneid(vec![secret_client()], FaultConfig::default()).await;
    let c = http();
    let p = pkce();
    // Unknown client or redirect URI: an error page, never a redirect.
    let r = c.get(authorize_url(&base, "nobody", &p, "")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .get(format!(
            "{base}/oauth2/authorize?response_type=code&client_id=rp-secret&redirect_uri=http://evil/&scope=openid"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Missing PKCE: an OAuth error at the client.
    let r = c
        .get(format!(
            "{base}/oauth2/authorize?response_type=code&client_id=rp-secret&redirect_uri={}&scope=openid&state=x",
            urlencode(REDIRECT)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(query_param(&location(&r), "error").as_deref(), Some("invalid_request"));
    // A wrong PKCE verifier at the token endpoint.
    let d = demo(DemoCase::NormalLevel2);
    let (txn, _) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "")).await;
    let code = query_param(&location(&form_login(&c, &base, &txn, &d.login, &d.passcode).await), "code").unwrap();
    let r = redeem_with_secret(&c, &base, &code, "wrong-verifier-wrong-verifier-wrong-verifier").await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    mock.shutdown().await;
}

enum ClientKey {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(EcdsaKeyPair),
}

impl ClientKey {
    fn jwk(&self, kid: &str) -> Value {
        match self {
            ClientKey::Rsa(k) => {
                let p = aws_lc_rs::signature::KeyPair::public_key(k);
                json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                    "n": B64.encode(p.modulus().big_endian_without_leading_zero()),
                    "e": B64.encode(p.exponent().big_endian_without_leading_zero())})
            }
            ClientKey::Ec(k) => {
                let point = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                    "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
            }
        }
    }

    fn assertion(&self, kid: &str, claims: &Value) -> String {
        let (alg, key) = match self {
            ClientKey::Rsa(k) => {
                let der = k.as_der().unwrap();
                let pem = format!(
                    "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                    STANDARD.encode(der.as_ref())
                );
                (Algorithm::RS256, EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap())
            }
            ClientKey::Ec(k) => (Algorithm::ES256, EncodingKey::from_ec_der(k.to_pkcs8v1().unwrap().as_ref())),
        };
        let mut h = Header::new(alg);
        h.kid = Some(kid.to_string());
        jsonwebtoken::encode(&h, claims, &key).unwrap()
    }
}

async fn code_for(c: &reqwest::Client, base: &str, client_id: &str, p: &Pkce) -> String {
    let d = demo(DemoCase::NormalLevel2);
    let (txn, _) = open_login(c, &authorize_url(base, client_id, p, "")).await;
    query_param(&location(&form_login(c, base, &txn, &d.login, &d.passcode).await), "code").expect("code")
}

async fn redeem_with_assertion(
    c: &reqwest::Client,
    base: &str,
    code: &str,
    verifier: &str,
    assertion: &str,
) -> reqwest::Response {
    c.post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn private_key_jwt_rs256_and_es256_with_aud_exp_and_replay_checks() {
    let rsa = ClientKey::Rsa(aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap());
    let ec = ClientKey::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap());
    let client = |id: &str, key: &ClientKey| VneidClient {
        client_id: id.into(),
        redirect_uris: vec![REDIRECT.into()],
        client_secret: None,
        jwks: Some(json!({ "keys": [key.jwk("k1")] })),
    };
    let (mock, base) = start_vneid(vec![client("rp-rsa", &rsa), client("rp-ec", &ec)], FaultConfig::default()).await;
    let c = http();
    let token_url = format!("{base}/oauth2/token");
    for (id, key) in [("rp-rsa", &rsa), ("rp-ec", &ec)] {
        let claims = |aud: &str, exp: i64, jti: &str| json!({"iss": id, "sub": id, "aud": aud, "exp": exp, "iat": now(), "jti": jti});

        let p = pkce();
        let code = code_for(&c, &base, id, &p).await;
        let good = key.assertion("k1", &claims(&token_url, now() + 60, &format!("{id}-1")));
        let r = redeem_with_assertion(&c, &base, &code, &p.verifier, &good).await;
        assert_eq!(r.status(), 200, "{id}: {}", r.text().await.unwrap_or_default());

        // The same assertion again (a replayed jti) is refused.
        let p = pkce();
        let code = code_for(&c, &base, id, &p).await;
        let r = redeem_with_assertion(&c, &base, &code, &p.verifier, &good).await;
        assert_eq!(r.status(), 401, "{id} replay");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert!(body["error_description"].as_str().unwrap().contains("replay"), "{body}");

        // Wrong audience, expired, missing jti.
        for (what, bad) in [
            ("aud", key.assertion("k1", &claims("https://elsewhere/token", now() + 60, &format!("{id}-2")))),
            ("exp", key.assertion("k1", &claims(&token_url, now() - 300, &format!("{id}-3")))),
            ("jti", key.assertion("k1", &json!({"iss": id, "sub": id, "aud": token_url, "exp": now() + 60}))),
        ] {
            let p = pkce();
            let code = code_for(&c, &base, id, &p).await;
            let r = redeem_with_assertion(&c, &base, &code, &p.verifier, &bad).await;
            assert_eq!(r.status(), 401, "{id} bad {what}");
        }
    }
    // An ES256 assertion signed by a key the client did not register.
    let other = ClientKey::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap());
    let p = pkce();
    let code = code_for(&c, &base, "rp-ec", &p).await;
    let forged = other
        .assertion("k1", &json!({"iss": "rp-ec", "sub": "rp-ec", "aud": token_url, "exp": now() + 60, "jti": "x"}));
    assert_eq!(redeem_with_assertion(&c, &base, &code, &p.verifier, &forged).await.status(), 401);
    mock.shutdown().await;
}

#[tokio::test]
async fn key_rotation_publishes_a_new_kid() {
    let (mock, base) = start_vneid(vec![secret_client()], FaultConfig::default()).await;
    let c = http();
    let before: Value = c.get(format!("{base}/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    let old_kid = before["keys"][0]["kid"].as_str().unwrap().to_string();
    let r: Value = c.post(format!("{base}/mock/rotate-key")).send().await.unwrap().json().await.unwrap();
    let new_kid = r["kid"].as_str().unwrap().to_string();
    assert_ne!(old_kid, new_kid);
    let after: Value = c.get(format!("{base}/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    let kids: HashSet<&str> = after["keys"].as_array().unwrap().iter().filter_map(|k| k["kid"].as_str()).collect();
    assert!(kids.contains(old_kid.as_str()) && kids.contains(new_kid.as_str()));

    // Tokens are now signed with the new key.
    let p = pkce();
    let d = demo(DemoCase::NormalLevel2);
    let (txn, _) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "")).await;
    let code = query_param(&location(&form_login(&c, &base, &txn, &d.login, &d.passcode).await), "code").unwrap();
    let tok: Value = redeem_with_secret(&c, &base, &code, &p.verifier).await.json().await.unwrap();
    let h = jsonwebtoken::decode_header(tok["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(h.kid.as_deref(), Some(new_kid.as_str()));

    // An abrupt rotation drops the old keys.
    c.post(format!("{base}/mock/rotate-key?drop_old=true")).send().await.unwrap();
    let after: Value = c.get(format!("{base}/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(after["keys"].as_array().unwrap().len(), 1);
    mock.shutdown().await;
}

#[tokio::test]
async fn enterprise_account_claims() {
    let (mock, base) = start_vneid(vec![secret_client()], FaultConfig::default()).await;
    let c = http();
    let d = demo(DemoCase::Enterprise);
    let p = pkce();
    let (txn, _) = open_login(&c, &authorize_url(&base, "rp-secret", &p, "")).await;
    let code = query_param(&location(&form_login(&c, &base, &txn, &d.login, &d.passcode).await), "code").unwrap();
    let tok: Value = redeem_with_secret(&c, &base, &code, &p.verifier).await.json().await.unwrap();
    let claims = verify_id_token(&c, &base, tok["id_token"].as_str().unwrap(), "rp-secret").await;
    assert_eq!(claims["LoaiTaiKhoan"], "2");
    assert_eq!(claims["MaSoDoanhNghiep"], d.login);
    mock.shutdown().await;
}
