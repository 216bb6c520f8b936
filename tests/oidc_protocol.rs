//! The provider's protocol surface over real HTTP, on both backend pairs: discovery, JWKS,
//! redirect-URI attacks, request validation, client authentication, client credentials,
//! introspection, revocation, PAR, JAR, key rotation and logout errors.

mod support;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};
use support::keys::ClientKey;
use support::op::{Backend, TestOp, http};
use xacthuc::crypto::sha256_hex;
use xacthuc::oidc::clients::{AuthMethod, Client, GrantType};

const RP: &str = "https://rp.example.vn/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client(id: &str, method: AuthMethod, secret: Option<&str>, jwks: Option<Value>) -> Client {
    Client {
        secret_hash: secret.map(sha256_hex),
        jwks,
        post_logout_redirect_uris: vec!["https://rp.example.vn/bye".into()],
        scopes: ["openid", "profile", "api.read"].map(String::from).to_vec(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials],
        refresh_token_ttl_secs: 3600,
        ..Client::new(id, &format!("Test {id}"), method, vec![RP.into()])
    }
}

async fn register(op: &TestOp, c: &Client) {
    op.state.db.put_client(c, 0).await.expect("register client");
}

fn authorize_query(client_id: &str, redirect_uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", client_id.into()),
        ("redirect_uri", redirect_uri.into()),
        ("response_type", "code".into()),
        ("scope", "openid profile".into()),
        ("state", "st-123".into()),
        ("nonce", "n-456".into()),
        ("code_challenge", CHALLENGE.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).map(|u| u.query_pairs().into_owned().collect()).unwrap_or_default()
}

async fn discovery_and_jwks(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let c = http();
    let meta: Value = c.get(op.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["issuer"], op.base);
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    let algs = meta["id_token_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.contains(&json!("ES256")) && algs.contains(&json!("RS256")), "{algs:?}");
    assert!(algs.contains(&json!("PS256")), "FAPI 2.0 allows PS256: {algs:?}");
    assert_eq!(meta["userinfo_signing_alg_values_supported"], meta["id_token_signing_alg_values_supported"]);
    for kind in ["id_token", "userinfo"] {
        assert_eq!(meta[format!("{kind}_encryption_alg_values_supported")], json!(["RSA-OAEP-256", "ECDH-ES+A256KW"]));
        assert_eq!(meta[format!("{kind}_encryption_enc_values_supported")], json!(["A256GCM"]));
    }
    // Every advertised endpoint exists.
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "pushed_authorization_request_endpoint",
    ] {
        let url = meta[key].as_str().unwrap();
        assert!(url.starts_with(&op.base), "{key}");
        let r = c.get(url).send().await.unwrap();
        assert_ne!(r.status(), 404, "{key} at {url} is advertised but missing");
        assert!(r.status().as_u16() < 500, "{key} answered {}", r.status());
    }
    let jwks: JwkSet = c.get(op.url("/jwks")).send().await.unwrap().json().await.unwrap();
    assert!(jwks.keys.len() >= 2);
    assert!(jwks.keys.iter().all(|k| k.common.key_id.is_some()));
    op.stop().await;
}
on_both_backends!(discovery, super::discovery_and_jwks);

async fn redirect_uri_attacks(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, &client("rp", AuthMethod::ClientSecretBasic, Some("s3cret-s3cret"), None)).await;
    let c = http();
    let attacks = [
        "https://rp.example.vn/callback/extra", // added path
        "https://rp.example.vn/callbac",        // prefix
        "https://rp.example.vn:8443/callback",  // different port
        "https://rp.example.vn/callback#frag",  // fragment
        "https://rp.example.vn/callback?x=1",   // added query
        "https://evil.example/callback",        // unregistered
        "http://rp.example.vn/callback",        // downgraded scheme
        "https://RP.example.vn/callback",       // case change
        "https://rp.example.vn/callback/",      // trailing slash
    ];
    for attack in attacks {
        let r = c.get(op.url("/authorize")).query(&authorize_query("rp", attack)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{attack} must be refused");
        assert!(location(&r).is_empty(), "{attack}: never redirect to an unverified URI");
        let body = r.text().await.unwrap();
        assert!(body.contains("invalid_request") && body.contains("lang=\"vi\""), "{attack}: error page");
    }
    // Missing redirect_uri and unknown clients also get a page.
    let mut q = authorize_query("rp", RP);
    q.retain(|(k, _)| *k != "redirect_uri");
    assert_eq!(c.get(op.url("/authorize")).query(&q).send().await.unwrap().status(), 400);
    assert_eq!(c.get(op.url("/authorize")).query(&authorize_query("nobody", RP)).send().await.unwrap().status(), 400);
    // The exact URI proceeds to login.
    let ok = c.get(op.url("/authorize")).query(&authorize_query("rp", RP)).send().await.unwrap();
    assert_eq!(ok.status(), 303);
    assert!(location(&ok).starts_with("/login?tx="), "{}", location(&ok));
    op.stop().await;
}
on_both_backends!(redirect_uris, super::redirect_uri_attacks);

/// A change to the authorization query.
type Edit = dyn Fn(&mut Vec<(&'static str, String)>);

async fn request_errors_are_redirected(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, &client("rp", AuthMethod::ClientSecretBasic, Some("s3cret-s3cret"), None)).await;
    let c = http();
    let cases: Vec<(&str, Box<Edit>, &str)> = vec![
        ("no PKCE", Box::new(|q| q.retain(|(k, _)| !k.starts_with("code_challenge"))), "invalid_request"),
        (
            "plain PKCE",
            Box::new(|q| {
                q.iter_mut().filter(|(k, _)| *k == "code_challenge_method").for_each(|(_, v)| *v = "plain".into())
            }),
            "invalid_request",
        ),
        (
            "implicit",
            Box::new(|q| q.iter_mut().filter(|(k, _)| *k == "response_type").for_each(|(_, v)| *v = "token".into())),
            "unsupported_response_type",
        ),
        (
            "scope not allowed",
            Box::new(|q| q.iter_mut().filter(|(k, _)| *k == "scope").for_each(|(_, v)| *v = "openid admin".into())),
            "invalid_scope",
        ),
        (
            "no openid",
            Box::new(|q| q.iter_mut().filter(|(k, _)| *k == "scope").for_each(|(_, v)| *v = "profile".into())),
            "invalid_scope",
        ),
        ("prompt none, no session", Box::new(|q| q.push(("prompt", "none".into()))), "login_required"),
        ("bad max_age", Box::new(|q| q.push(("max_age", "-1".into()))), "invalid_request"),
        // OIDC Core §5.5.1.1: unknown voluntary values are ignored (tests/login_methods.rs), an
        // essential acr that cannot be met is an error.
        (
            "unknown essential acr",
            Box::new(|q| q.push(("claims", r#"{"id_token":{"acr":{"essential":true,"value":"urn:nobody"}}}"#.into()))),
            "unmet_authentication_requirements",
        ),
    ];
    for (what, edit, expected) in cases {
        let mut q = authorize_query("rp", RP);
        edit(&mut q);
        let r = c.get(op.url("/authorize")).query(&q).send().await.unwrap();
        assert_eq!(r.status(), 303, "{what}");
        let params = query_of(&location(&r));
        assert!(location(&r).starts_with(RP), "{what}: back to the verified URI");
        assert_eq!(params.get("error").map(String::as_str), Some(expected), "{what}");
        assert_eq!(params.get("state").map(String::as_str), Some("st-123"), "{what}: state kept");
        assert_eq!(params.get("iss"), Some(&op.base), "{what}: RFC 9207 iss");
    }
    // form_post mode renders a self-posting form to the client instead.
    let mut q = authorize_query("rp", RP);
    q.push(("prompt", "none".into()));
    q.push(("response_mode", "form_post".into()));
    let r = c.get(op.url("/authorize")).query(&q).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("action=\"{RP}\"")) && body.contains("login_required"), "{body}");
    op.stop().await;
}
on_both_backends!(request_errors, super::request_errors_are_redirected);

async fn client_credentials(op: &TestOp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> reqwest::Response {
    let mut req = http().post(op.url("/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    req.send().await.unwrap()
}

async fn client_authentication(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let key = ClientKey::generate("k1");
    register(&op, &client("basic", AuthMethod::ClientSecretBasic, Some("basic-secret-value"), None)).await;
    register(&op, &client("post", AuthMethod::ClientSecretPost, Some("post-secret-value"), None)).await;
    register(&op, &client("pkjwt", AuthMethod::PrivateKeyJwt, None, Some(key.jwks()))).await;
    let mut public = client("public", AuthMethod::None, None, None);
    public.grant_types = vec![GrantType::AuthorizationCode];
    register(&op, &public).await;
    let cc = [("grant_type", "client_credentials"), ("scope", "api.read")];

    // client_secret_basic
    let ok = client_credentials(&op, &cc, Some(("basic", "basic-secret-value"))).await;
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let r = client_credentials(&op, &cc, Some(("basic", "wrong"))).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    // client_secret_post, and a method mismatch (a basic client posting its secret).
    let mut f = cc.to_vec();
    f.extend([("client_id", "post"), ("client_secret", "post-secret-value")]);
    assert_eq!(client_credentials(&op, &f, None).await.status(), 200);
    let mut f = cc.to_vec();
    f.extend([("client_id", "post"), ("client_secret", "nope")]);
    assert_eq!(client_credentials(&op, &f, None).await.status(), 401);
    let mut f = cc.to_vec();
    f.extend([("client_id", "basic"), ("client_secret", "basic-secret-value")]);
    assert_eq!(client_credentials(&op, &f, None).await.status(), 401, "registered method is enforced");
    // private_key_jwt, then a replay of the same assertion, a wrong audience, another key.
    let assertion = key.assertion("pkjwt", &op.base);
    let jwt_form = |a: &str| {
        let mut f = cc.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        f.push(("client_assertion_type".into(), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
        f.push(("client_assertion".into(), a.to_owned()));
        f
    };
    let r = http().post(op.url("/token")).form(&jwt_form(&assertion)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let replay = http().post(op.url("/token")).form(&jwt_form(&assertion)).send().await.unwrap();
    assert_eq!(replay.status(), 401, "jti replay refused");
    let wrong_aud = key.assertion("pkjwt", "https://elsewhere.example/token");
    assert_eq!(http().post(op.url("/token")).form(&jwt_form(&wrong_aud)).send().await.unwrap().status(), 401);
    let other = ClientKey::generate("k1").assertion("pkjwt", &op.base);
    assert_eq!(
        http().post(op.url("/token")).form(&jwt_form(&other)).send().await.unwrap().status(),
        401,
        "signature checked"
    );
    // A public client authenticates with its id only, and cannot use client_credentials.
    let f = [("grant_type", "client_credentials"), ("client_id", "public")];
    let r = client_credentials(&op, &f, None).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthorized_client");
    // Unknown grant and unknown client.
    let r = client_credentials(&op, &[("grant_type", "password")], Some(("basic", "basic-secret-value"))).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    assert_eq!(client_credentials(&op, &cc, Some(("ghost", "x"))).await.status(), 401);
    op.stop().await;
}
on_both_backends!(client_auth, super::client_authentication);

async fn access_tokens_introspection_revocation(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, &client("svc", AuthMethod::ClientSecretBasic, Some("svc-secret-value"), None)).await;
    register(&op, &client("other", AuthMethod::ClientSecretBasic, Some("other-secret-value"), None)).await;
    let r = client_credentials(
        &op,
        &[("grant_type", "client_credentials"), ("scope", "api.read")],
        Some(("svc", "svc-secret-value")),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap().to_owned();
    // RFC 9068: verifiable offline against JWKS by an independent library.
    let header = jsonwebtoken::decode_header(&at).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks: JwkSet = http().get(op.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut v = Validation::new(header.alg);
    v.set_audience(&["svc"]);
    v.set_issuer(&[&op.base]);
    let claims = jsonwebtoken::decode::<Value>(&at, &DecodingKey::from_jwk(jwk).unwrap(), &v).unwrap().claims;
    assert_eq!(claims["client_id"], "svc");
    assert_eq!(claims["scope"], "api.read");
    for k in ["exp", "iat", "jti", "sub"] {
        assert!(claims.get(k).is_some(), "RFC 9068 claim {k}");
    }
    let introspect = |token: String, who: (&'static str, &'static str)| {
        let op_url = op.url("/introspect");
        async move {
            http()
                .post(op_url)
                .basic_auth(who.0, Some(who.1))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let i = introspect(at.clone(), ("svc", "svc-secret-value")).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], "svc");
    assert_eq!(introspect("garbage".into(), ("svc", "svc-secret-value")).await["active"], false);
    // Introspection needs client authentication.
    let anon = http().post(op.url("/introspect")).form(&[("token", at.as_str())]).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    // Another client cannot revoke it; its owner can.
    let r = http()
        .post(op.url("/revoke"))
        .basic_auth("other", Some("other-secret-value"))
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(introspect(at.clone(), ("svc", "svc-secret-value")).await["active"], true);
    let r = http()
        .post(op.url("/revoke"))
        .basic_auth("svc", Some("svc-secret-value"))
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(introspect(at.clone(), ("svc", "svc-secret-value")).await["active"], false, "revoked");
    // Unknown tokens revoke "successfully" (RFC 7009 §2.2).
    let r = http()
        .post(op.url("/revoke"))
        .basic_auth("svc", Some("svc-secret-value"))
        .form(&[("token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Userinfo refuses a token without openid scope, and garbage.
    let r = http().get(op.url("/userinfo")).bearer_auth("garbage").send().await.unwrap();
    assert_eq!(r.status(), 401);
    op.stop().await;
}
on_both_backends!(introspection_revocation, super::access_tokens_introspection_revocation);

async fn par_and_jar(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let key = ClientKey::generate("rp-key");
    let mut rp = client("rp", AuthMethod::PrivateKeyJwt, None, Some(key.jwks()));
    rp.require_pushed_authorization_requests = true;
    register(&op, &rp).await;
    let c = http();
    // Without PAR, this client is refused (with a redirect: the URI is verified).
    let r = c.get(op.url("/authorize")).query(&authorize_query("rp", RP)).send().await.unwrap();
    assert_eq!(query_of(&location(&r)).get("error").map(String::as_str), Some("invalid_request"));
    // Push, then use the request_uri once.
    let mut form: Vec<(String, String)> =
        authorize_query("rp", RP).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    form.push(("client_assertion_type".into(), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
    form.push(("client_assertion".into(), key.assertion("rp", &op.base)));
    let r = c.post(op.url("/par")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let pushed: Value = r.json().await.unwrap();
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(pushed["expires_in"].as_u64().unwrap() > 0);
    let go = || c.get(op.url("/authorize")).query(&[("client_id", "rp"), ("request_uri", request_uri.as_str())]).send();
    let r = go().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login?tx="), "{}", location(&r));
    assert_eq!(go().await.unwrap().status(), 400, "a request_uri is single use");
    // PAR validates at push time: a bad request is refused as JSON.
    let mut bad = form.clone();
    bad.retain(|(k, _)| k != "code_challenge" && k != "client_assertion");
    bad.push(("client_assertion".into(), key.assertion("rp", &op.base)));
    let r = c.post(op.url("/par")).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    // PAR requires client authentication.
    let mut unauth = form.clone();
    unauth.retain(|(k, _)| !k.starts_with("client_assertion"));
    assert_eq!(c.post(op.url("/par")).form(&unauth).send().await.unwrap().status(), 401);

    // JAR: a signed request object pushed via PAR.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut obj = json!({ "iss": "rp", "aud": op.base, "exp": now + 60, "jti": "jar-1" });
    for (k, v) in authorize_query("rp", RP) {
        obj[k] = json!(v);
    }
    let signed = key.sign(&obj);
    let jar_form = |request: &str| {
        vec![
            ("client_id".to_owned(), "rp".to_owned()),
            ("request".to_owned(), request.to_owned()),
            ("client_assertion_type".to_owned(), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned()),
            ("client_assertion".to_owned(), key.assertion("rp", &op.base)),
        ]
    };
    let r = c.post(op.url("/par")).form(&jar_form(&signed)).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    // A request object signed by another key is refused.
    let forged = ClientKey::generate("rp-key").sign(&obj);
    let r = c.post(op.url("/par")).form(&jar_form(&forged)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request_object");
    op.stop().await;
}
on_both_backends!(par_jar, super::par_and_jar);

async fn key_rotation_keeps_old_tokens_valid(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, &client("svc", AuthMethod::ClientSecretBasic, Some("svc-secret-value"), None)).await;
    let token = || async {
        let r =
            client_credentials(&op, &[("grant_type", "client_credentials")], Some(("svc", "svc-secret-value"))).await;
        r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    };
    let old = token().await;
    let old_kid = jsonwebtoken::decode_header(&old).unwrap().kid.unwrap();
    let now = xacthuc::clock::unix_now();
    op.state.oidc.keys.rotate(&op.state.db, now, 3600).await.unwrap();
    let new = token().await;
    let new_kid = jsonwebtoken::decode_header(&new).unwrap().kid.unwrap();
    assert_ne!(old_kid, new_kid, "new tokens are signed with the new key");
    let jwks: JwkSet = http().get(op.url("/jwks")).send().await.unwrap().json().await.unwrap();
    assert!(jwks.find(&old_kid).is_some() && jwks.find(&new_kid).is_some(), "both keys published");
    for t in [&old, &new] {
        let i: Value = http()
            .post(op.url("/introspect"))
            .basic_auth("svc", Some("svc-secret-value"))
            .form(&[("token", t)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(i["active"], true);
    }
    // Once the retired key's publication window has passed, it leaves JWKS.
    op.state.oidc.keys.rotate(&op.state.db, now + 7200, 3600).await.unwrap();
    op.state.oidc.keys.prune(now + 7200);
    let jwks: Value = serde_json::from_str(&op.state.oidc.keys.jwks_json(now + 7200)).unwrap();
    assert!(!jwks.to_string().contains(&old_kid), "expired key removed");
    op.stop().await;
}
on_both_backends!(key_rotation, super::key_rotation_keeps_old_tokens_valid);

async fn logout_errors(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, &client("rp", AuthMethod::ClientSecretBasic, Some("s3cret-s3cret"), None)).await;
    let c = http();
    let r = c.get(op.url("/logout")).send().await.unwrap();
    assert_eq!(r.status(), 200, "no session: logged-out page");
    let r = c
        .get(op.url("/logout"))
        .query(&[("client_id", "rp"), ("post_logout_redirect_uri", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "unregistered post-logout URI refused");
    assert!(location(&r).is_empty());
    let r = c
        .get(op.url("/logout"))
        .query(&[("client_id", "rp"), ("post_logout_redirect_uri", "https://rp.example.vn/bye"), ("state", "s1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "https://rp.example.vn/bye?state=s1");
    let r = c.get(op.url("/logout")).query(&[("id_token_hint", "not.a.jwt")]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    op.stop().await;
}
on_both_backends!(logout, super::logout_errors);

async fn clients_from_configuration_file(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clients.json");
    let file = json!([{
        "client_id": "from-file",
        "name": "Một cửa tỉnh",
        "client_secret": "file-secret-value",
        "auth_method": "client_secret_post",
        "redirect_uris": [RP],
        "scopes": ["openid", "api.read"],
        "grant_types": ["authorization_code", "client_credentials"]
    }]);
    std::fs::write(&path, file.to_string()).unwrap();
    let p2 = path.clone();
    let Some(op) = TestOp::start_with(backend, move |c| c.clients_file = Some(p2)).await else { return };
    let form =
        [("grant_type", "client_credentials"), ("client_id", "from-file"), ("client_secret", "file-secret-value")];
    assert_eq!(client_credentials(&op, &form, None).await.status(), 200, "registered from the file, secret hashed");
    let stored = op.state.db.client("from-file").await.unwrap().unwrap();
    assert_ne!(stored.secret_hash.as_deref(), Some("file-secret-value"), "only the hash is stored");
    op.stop().await;
    // A bad registration stops start-up, naming the client.
    std::fs::write(&path, json!([{ "client_id": "bad", "name": "x", "auth_method": "none", "redirect_uris": ["javascript:alert(1)"], "scopes": ["openid"], "grant_types": ["authorization_code"] }]).to_string()).unwrap();
    let mut config = xacthuc::config::Config { clients_file: Some(path), ..Default::default() };
    config.database_url = Some(format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display()).into());
    config.master_key = Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [1u8; 32]).into());
    let err = xacthuc::app::AppState::build(config, xacthuc::config::Mode::Dev).await.err().expect("refused");
    assert!(err.to_string().contains("client bad"), "{err}");
}
on_both_backends!(clients_file, super::clients_from_configuration_file);

async fn malformed_requests_get_oauth_errors(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op, &client("svc", AuthMethod::ClientSecretBasic, Some("svc-secret-value"), None)).await;
    let c = http();
    // Not a form body: JSON error, never a bare 415 or a 500.
    let r = c
        .post(op.url("/token"))
        .basic_auth("svc", Some("svc-secret-value"))
        .body("{\"grant_type\":1}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    // Repeated parameters are refused (RFC 6749 §3.1).
    let r = c
        .post(op.url("/token"))
        .basic_auth("svc", Some("svc-secret-value"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    // An oversized body is refused cleanly. On a client of its own: the server answers before
    // reading the body and closes that connection, which a pooled client may try to reuse.
    let big = format!("grant_type=client_credentials&x={}", "a".repeat(200 * 1024));
    let r = http()
        .post(op.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // Repeated parameters at /authorize get the error page (the client is not yet trusted).
    let r = c.get(format!("{}&client_id=svc", op.url("/authorize?client_id=svc"))).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("repeated"));
    // Garbage in every parameter never produces a 500.
    for path in ["/authorize", "/logout", "/userinfo", "/introspect", "/revoke", "/par", "/token"] {
        let r = c
            .post(op.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("%zz=%%&\u{0}=1&client_id=%FF")
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    op.stop().await;
}
on_both_backends!(malformed, super::malformed_requests_get_oauth_errors);

async fn private_key_jwt_with_jwks_uri(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    // The client publishes its keys; we count how often the provider fetches them.
    let key = ClientKey::generate("uri-key");
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (jwks, counter) = (key.jwks(), hits.clone());
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = jwks.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut c = client("byuri", AuthMethod::PrivateKeyJwt, None, None);
    c.jwks_uri = Some(format!("http://127.0.0.1:{port}/jwks"));
    register(&op, &c).await;
    let send = |assertion: String| {
        let url = op.url("/token");
        async move {
            http()
                .post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(send(key.assertion("byuri", &op.base)).await, 200);
    assert_eq!(send(key.assertion("byuri", &op.base)).await, 200, "cached keys serve the next call");
    // A flood of assertions naming an unknown kid does not make us refetch each time.
    let stranger = ClientKey::generate("unknown-kid");
    for _ in 0..20 {
        assert_eq!(send(stranger.assertion("byuri", &op.base)).await, 401);
    }
    assert!(
        hits.load(std::sync::atomic::Ordering::SeqCst) <= 2,
        "fetches are bounded: {}",
        hits.load(std::sync::atomic::Ordering::SeqCst)
    );
    op.stop().await;
}
on_both_backends!(jwks_uri, super::private_key_jwt_with_jwks_uri);
