//! Discovery, JWKS, token, userinfo, end-session and key rotation.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::authorize::with_query;
use super::store::{AccessGrant, prune, random_token};
use super::{Shared, client_auth, now, page};

/// An OAuth error response (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: &str) -> Self {
        OAuthError { status, error, description: description.to_string() }
    }
    pub fn server() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
    }
    fn grant(desc: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", desc)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

pub async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let iss = s.issuer();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth2/authorize"),
        "token_endpoint": format!("{iss}/oauth2/token"),
        "userinfo_endpoint": format!("{iss}/oauth2/userinfo"),
        "jwks_uri": format!("{iss}/oauth2/jwks"),
        "end_session_endpoint": format!("{iss}/oauth2/logout"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid"],
        "acr_values_supported": ["1", "2"],
        "claims_supported": ["sub", "SoDinhDanh", "HoVaTen", "NgayThangNamSinh", "GioiTinh",
            "LoaiTaiKhoan", "MaSoDoanhNghiep", "TenDoanhNghiep", "TenToChuc", "DiaChi", "NguoiDaiDien", "TechID",
            "loginIdp", "acr", "amr"],
        "ui_locales_supported": ["vi"],
    }))
}

pub async fn jwks(State(s): State<Shared>) -> Json<Value> {
    Json(s.keys.jwks())
}

pub async fn token(State(s): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    match token_inner(&s, &headers, &body) {
        Ok(v) => ([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn token_inner(s: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let form: HashMap<String, String> = serde_urlencoded_parse(body).ok_or_else(|| {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "body must be application/x-www-form-urlencoded")
    })?;
    let client_id = client_auth::authenticate(s, headers, &form)?;
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code is supported",
        ));
    }
    let code = form.get("code").ok_or_else(|| OAuthError::grant("missing code"))?;
    // Take-once: a code is gone after its first use, successful or not.
    let grant = s.store.codes.lock().map_err(|_| OAuthError::server())?.remove(code);
    let grant = grant.ok_or_else(|| OAuthError::grant("unknown, used or expired code"))?;
    let t = now();
    if grant.expires < t {
        return Err(OAuthError::grant("code expired"));
    }
    if grant.request.client_id != client_id {
        return Err(OAuthError::grant("code was issued to another client"));
    }
    if form.get("redirect_uri") != Some(&grant.request.redirect_uri) {
        return Err(OAuthError::grant("redirect_uri does not match the authorization request"));
    }
    if let Some(challenge) = &grant.request.code_challenge {
        let verifier = form.get("code_verifier").ok_or_else(|| OAuthError::grant("missing code_verifier"))?;
        let ok = match grant.request.code_challenge_method.as_deref() {
            Some("S256") => B64.encode(Sha256::digest(verifier.as_bytes())) == *challenge,
            _ => verifier == challenge,
        };
        if !ok {
            return Err(OAuthError::grant("code_verifier does not match code_challenge"));
        }
    }

    let access_token = random_token();
    let ttl = s.config.token_ttl_secs as i64;
    let issued = s.skewed_now();
    let digest = Sha256::digest(access_token.as_bytes());
    let mut claims = grant.account.claims().clone();
    let extra = json!({
        "iss": s.issuer(),
        "aud": client_id,
        "azp": client_id,
        "iat": issued,
        "exp": issued + ttl,
        "auth_time": grant.auth_time + s.faults.clock_skew_secs(),
        "acr": grant.account.level.to_string(),
        "amr": grant.amr,
        "at_hash": B64.encode(&digest[..16]),
        "jti": random_token(),
    });
    if let Value::Object(m) = extra {
        claims.extend(m);
    }
    if let Some(nonce) = &grant.request.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let id_token = s.keys.sign(&Value::Object(claims)).map_err(|_| OAuthError::server())?;
    {
        let mut access = s.store.access.lock().map_err(|_| OAuthError::server())?;
        prune(&mut access, t, |v| v.expires);
        access.insert(access_token.clone(), AccessGrant { account: grant.account, client_id, expires: t + ttl });
    }
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "id_token": id_token,
        "scope": grant.request.scope,
    }))
}

fn serde_urlencoded_parse(body: &[u8]) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        // A repeated parameter is an error in OAuth (RFC 6749 §3.2).
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return None;
        }
    }
    Some(out)
}

pub async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let grant = token.and_then(|t| s.store.access.lock().ok().and_then(|m| m.get(t).cloned()));
    match grant {
        Some(g) if g.expires >= now() => {
            let mut claims = g.account.claims().clone();
            claims.insert("acr".into(), json!(g.account.level.to_string()));
            let _ = g.client_id;
            Json(Value::Object(claims)).into_response()
        }
        _ => {
            let mut r = OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", "unknown or expired access token")
                .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer error=\"invalid_token\""));
            r
        }
    }
}

#[derive(Deserialize)]
pub struct EndSession {
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

/// RP-initiated logout. The mock keeps no SSO session, so this only redirects back, if the
/// target shares an origin with some registered redirect URI (never an open redirector).
pub async fn end_session(State(s): State<Shared>, Query(q): Query<EndSession>) -> Response {
    if let Some(target) = q.post_logout_redirect_uri.as_deref() {
        let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
        let allowed = origin(target).is_some_and(|o| {
            s.config.clients.iter().flat_map(|c| c.redirect_uris.iter()).any(|r| origin(r).as_ref() == Some(&o))
        });
        if !allowed {
            return page::error_page(StatusCode::BAD_REQUEST, "post_logout_redirect_uri không hợp lệ");
        }
        let pairs: Vec<(&str, &str)> = q.state.as_deref().map(|st| ("state", st)).into_iter().collect();
        return Redirect::to(&with_query(target, &pairs)).into_response();
    }
    Html("<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>Đã đăng xuất</title><h1>Bạn đã đăng xuất</h1></html>").into_response()
}

#[derive(Deserialize)]
pub struct RotateQuery {
    #[serde(default)]
    drop_old: bool,
}

/// `POST /mock/rotate-key[?drop_old=true]`: a new signing key and `kid`.
pub async fn rotate_key(State(s): State<Shared>, Query(q): Query<RotateQuery>) -> Response {
    match s.keys.rotate(q.drop_old) {
        Ok(kid) => Json(json!({ "kid": kid, "jwks": s.keys.jwks() })).into_response(),
        Err(_) => OAuthError::server().into_response(),
    }
}
