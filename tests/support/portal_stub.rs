//! A stub OpenID provider for the portal's tests, on a real port: discovery, JWKS (an ES256 key
//! made per test), a token endpoint that checks client_secret_basic, single-use codes and PKCE
//! S256 like a real provider, UserInfo and an end-session endpoint. Knobs in `StubState` make it
//! misbehave one way at a time. Shared by `portal_rp.rs` and `portal_backchannel.rs`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::body::Body;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::{Router, http::Request};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use xacthuc::portal::{PortalConfig, router};

pub const CLIENT_ID: &str = "demo-portal";
pub const SECRET: &str = "s3cret-for-tests";
pub const ACCESS_TOKEN: &str = "at-1234";
pub const SUB: &str = "citizen-1";
pub const SID: &str = "sid-1";
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

pub struct StubState {
    pub discovery_down: bool,
    pub acr: String,
    pub nonce: Option<String>,
    pub at_hash: Option<String>,
    pub aud: String,
    pub iss: Option<String>,
    pub exp_offset: i64,
    pub sign_with_other_key: bool,
    pub token_calls: usize,
    /// The citizen's `name` in the ID token and UserInfo.
    pub name: String,
    /// code → (PKCE challenge, nonce), registered when the test "approves" a login.
    pub codes: HashMap<String, (String, String)>,
}

impl Default for StubState {
    fn default() -> Self {
        Self {
            discovery_down: false,
            acr: "urn:xacthuc:acr:eid1".into(),
            nonce: None,
            at_hash: None,
            aud: CLIENT_ID.into(),
            iss: None,
            exp_offset: 300,
            sign_with_other_key: false,
            token_calls: 0,
            name: "Nguyễn Văn An".into(),
            codes: HashMap::new(),
        }
    }
}

pub struct TestKey {
    pkcs8: Vec<u8>,
    pub jwk: Value,
}

impl TestKey {
    pub fn new(kid: &str) -> Self {
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
        let point = pair.public_key().as_ref(); // 0x04 || x || y
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])});
        Self { pkcs8: doc.as_ref().to_vec(), jwk }
    }

    pub fn sign(&self, typ: Option<&str>, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = self.jwk["kid"].as_str().map(str::to_owned);
        h.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&h, claims, &EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
    }
}

#[derive(Clone)]
pub struct Stub {
    pub issuer: String,
    pub state: Arc<Mutex<StubState>>,
    pub key: Arc<TestKey>,
    /// Signs "forged" tokens: same shape, a kid the JWKS does not have.
    pub other_key: Arc<TestKey>,
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Stub {
    pub async fn start() -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let stub = Stub {
            issuer,
            state: Arc::new(Mutex::new(StubState::default())),
            key: Arc::new(TestKey::new("k1")),
            other_key: Arc::new(TestKey::new("k2")),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(|State(s): State<Stub>| async move { Json(json!({"keys": [s.key.jwk]})) }))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(stub.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        stub
    }

    pub fn portal(&self) -> Router {
        router(PortalConfig {
            issuer: self.issuer.clone(),
            base_url: "http://portal.test".into(),
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
        })
    }

    pub fn set(&self, f: impl FnOnce(&mut StubState)) {
        f(&mut self.state.lock().unwrap())
    }

    pub fn get<T>(&self, f: impl FnOnce(&StubState) -> T) -> T {
        f(&self.state.lock().unwrap())
    }

    /// Starts a login at the portal, "approves" it at the stub and returns the callback's answer.
    pub async fn callback(&self, portal: &Router, login_query: &str, tweak: impl FnOnce(&mut StubState)) -> Response {
        let r = portal.clone().oneshot(get_req(&format!("/login{login_query}"), None)).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = set_cookie(&r).unwrap();
        let q = query(&location(&r));
        let code = format!("code-{}", q["state"].len() + self.get(|s| s.codes.len()));
        self.set(|s| {
            s.codes.insert(code.clone(), (q["code_challenge"].clone(), q["nonce"].clone()));
            tweak(s);
        });
        let uri = format!("/callback?code={code}&state={}&iss={}", urlenc(&q["state"]), urlenc(&self.issuer));
        portal.clone().oneshot(get_req(&uri, Some(&cookie))).await.unwrap()
    }

    pub async fn try_login(
        &self,
        portal: &Router,
        login_query: &str,
        tweak: impl FnOnce(&mut StubState),
    ) -> (StatusCode, String) {
        let r = self.callback(portal, login_query, tweak).await;
        (r.status(), body(r).await)
    }

    /// A successful login; returns the portal's (rotated) session cookie.
    pub async fn login(&self, portal: &Router, login_query: &str) -> String {
        let r = self.callback(portal, login_query, |_| {}).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login failed: {}", body(r).await);
        set_cookie(&r).unwrap()
    }

    pub fn logout_claims(&self) -> Value {
        json!({"iss": self.issuer, "aud": CLIENT_ID, "iat": now(), "exp": now() + 120, "jti": "j-1",
            "sub": SUB, "sid": SID, "events": {EVENT: {}}})
    }
}

async fn discovery(State(s): State<Stub>) -> Response {
    if s.get(|st| st.discovery_down) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let i = &s.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    }))
    .into_response()
}

fn oauth_error(code: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": code}))).into_response()
}

async fn token(State(s): State<Stub>, headers: HeaderMap, Form(f): Form<HashMap<String, String>>) -> Response {
    let basic = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{SECRET}")));
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
    }
    if f.get("grant_type").map(String::as_str) != Some("authorization_code")
        || f.get("redirect_uri").map(String::as_str) != Some("http://portal.test/callback")
    {
        return oauth_error("invalid_request");
    }
    let mut st = s.state.lock().unwrap();
    let Some((challenge, nonce)) = f.get("code").and_then(|c| st.codes.remove(c)) else {
        return oauth_error("invalid_grant");
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
        return oauth_error("invalid_grant");
    }
    st.token_calls += 1;
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(ACCESS_TOKEN.as_bytes())[..16]);
    let t = now();
    let claims = json!({
        "iss": st.iss.clone().unwrap_or_else(|| s.issuer.clone()), "sub": SUB, "aud": st.aud,
        "iat": t, "exp": t + st.exp_offset, "auth_time": t, "nonce": st.nonce.clone().unwrap_or(nonce),
        "acr": st.acr, "amr": ["pwd"], "sid": SID, "at_hash": st.at_hash.clone().unwrap_or(at_hash),
        "name": st.name,
    });
    let key = if st.sign_with_other_key { &s.other_key } else { &s.key };
    let id_token = key.sign(Some("JWT"), &claims);
    Json(json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
        .into_response()
}

async fn userinfo(State(s): State<Stub>, headers: HeaderMap) -> Response {
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token"}))).into_response();
    }
    Json(json!({"sub": SUB, "name": s.get(|st| st.name.clone()), "personal_id": "079203001234",
        "address": {"formatted": "Phường Bến Thành, Thành phố Hồ Chí Minh"}}))
    .into_response()
}

pub fn get_req(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("portal_session={c}"));
    }
    b.body(Body::empty()).unwrap()
}

pub fn set_cookie(r: &Response) -> Option<String> {
    let v = r.headers().get(header::SET_COOKIE)?.to_str().ok()?;
    let (name_value, _) = v.split_once(';')?;
    name_value.strip_prefix("portal_session=").map(str::to_owned)
}

pub fn location(r: &Response) -> String {
    r.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

pub fn query(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

pub fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn body(r: Response) -> String {
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Page text as a browser reads it: undoes HTML character references, in either spelling an
/// escaper may choose (`&lt;` or `&#60;`), `&` last.
pub fn unescape_html(s: &str) -> String {
    [("&lt;", "<"), ("&#60;", "<"), ("&gt;", ">"), ("&#62;", ">"), ("&quot;", "\""), ("&#34;", "\"")]
        .into_iter()
        .chain([("&#39;", "'"), ("&#x27;", "'"), ("&amp;", "&"), ("&#38;", "&")])
        .fold(s.to_owned(), |acc, (from, to)| acc.replace(from, to))
}
