//! The console session: the login through this provider (authorization code with PKCE,
//! redeemed in-process), the server-side record holding the access token, and log-out.
//!
//! The browser holds only a random cookie; the store keys its records by the cookie's hash.
//! The cookie is replaced when the login completes, so a value planted before the login is
//! worth nothing after it.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Console, ConsoleError, ConsoleForm, OrConsole, csrf_field, pages, texts};
use crate::admin::authz::{self, Caller};
use crate::admin::error::AdminError;
use crate::clock::unix_now;
use crate::crypto::{random_token, sha256_hex};
use crate::officers::acr::{OFFICER_CERT, OFFICER_HWK, OFFICER_MFA};
use crate::oidc::Provider;
use crate::oidc::logout::logout_session;
use crate::oidc::request::Params;
use crate::oidc::resource::live_access_token;
use crate::oidc::session;
use crate::web::page::Lang;

/// The console's client id at this provider.
pub const CLIENT_ID: &str = "xacthuc-admin-console";
/// How long a console login lasts before the (silent, while the SSO session lives) next one.
pub const TOKEN_TTL_SECS: u64 = 3600;
const COOKIE: &str = "xacthuc_console";
/// How long a started login may take (password, second factor).
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// A token this close to its end is not used for a new page.
const MARGIN_SECS: i64 = 30;

/// A login on its way: what the callback must see again.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    verifier: String,
    return_to: String,
}

/// A logged-in console session.
#[derive(Serialize, Deserialize)]
struct Stored {
    token: String,
    expires_at: i64,
    csrf: String,
    who: String,
}

fn key(kind: &str, cookie: &str) -> String {
    format!("console:{kind}:{}", sha256_hex(cookie))
}

fn redirect_uri(p: &Provider) -> String {
    format!("{}/admin/callback", p.issuer.trim_end_matches('/'))
}

async fn stored(p: &Provider, headers: &HeaderMap) -> Result<Option<Stored>, AdminError> {
    let Some(cookie) = session::cookie(p, headers, COOKIE) else { return Ok(None) };
    let bytes = p.kv.get(&key("s", cookie)).await?;
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
}

/// The administrator of this request, or a login that comes back here.
pub(super) async fn current(p: &Provider, parts: &Parts, lang: Lang) -> Result<Console, ConsoleError> {
    if let Some(s) = stored(p, &parts.headers).await.or_console(lang)?
        && s.expires_at > unix_now() + MARGIN_SECS
    {
        match authz::caller(p, Some(&s.token)).await {
            Ok(caller) => return Ok(Console { caller, csrf: s.csrf, lang, who: s.who }),
            // Revoked or expired: log in again (silently while the SSO session lives).
            Err(AdminError::Unauthenticated(_)) => {}
            Err(e) => return Err(ConsoleError::Admin(lang, e)),
        }
    }
    // A page comes back to itself; a form whose session ended comes back to the console's
    // start (its data is not replayed after a login).
    let here = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/admin");
    let return_to = if parts.method == Method::GET && here.starts_with("/admin") { here } else { "/admin" };
    Err(ConsoleError::Login(Box::new(start_login(p, return_to, lang).await.or_console(lang)?)))
}

/// A fresh console cookie, a pending login under it, and the authorization request: PKCE, and
/// an officer login with a second factor demanded as essential (OIDC Core §5.5.1.1).
async fn start_login(p: &Provider, return_to: &str, lang: Lang) -> Result<Response, AdminError> {
    let cookie = random_token();
    let pending = Pending { state: random_token(), verifier: random_token(), return_to: return_to.to_owned() };
    let doc = serde_json::to_vec(&pending).map_err(|e| AdminError::invalid("session", e.to_string()))?;
    p.kv.set(&key("login", &cookie), &doc, LOGIN_TTL).await?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let claims = serde_json::json!({ "id_token": { "acr": {
        "essential": true, "values": [OFFICER_MFA, OFFICER_HWK, OFFICER_CERT] } } });
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", super::CLIENT_ID)
        .append_pair("redirect_uri", &redirect_uri(p))
        .append_pair("scope", &format!("openid {}", authz::ADMIN_SCOPE))
        .append_pair("state", &pending.state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("claims", &claims.to_string())
        .append_pair("ui_locales", lang.code())
        .finish();
    let mut r = Redirect::to(&format!("{}/authorize?{query}", p.issuer.trim_end_matches('/'))).into_response();
    session::set_cookie(p, COOKIE, Some(&cookie), LOGIN_TTL.as_secs() as i64, r.headers_mut());
    Ok(r)
}

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

/// Back from the login: the pending login must be this browser's and the state must match;
/// the code is redeemed in-process, and only an administrator gets a console session.
pub(super) async fn callback(
    State(p): State<Provider>,
    lang: Lang,
    headers: HeaderMap,
    q: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ConsoleError> {
    let q = q.map(|Query(q)| q).ok();
    let failed = || pages::login_failed(lang);
    let Some(cookie) = session::cookie(&p, &headers, COOKIE) else { return Ok(failed()) };
    let pending = p.kv.take(&key("login", cookie)).await.or_console(lang)?;
    let Some(pending) = pending.and_then(|b| serde_json::from_slice::<Pending>(&b).ok()) else { return Ok(failed()) };
    let Some(CallbackQuery { code: Some(code), state: Some(state) }) = q else { return Ok(failed()) };
    if !bool::from(subtle::ConstantTimeEq::ct_eq(state.as_bytes(), pending.state.as_bytes())) {
        return Ok(failed());
    }
    let form: Params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri(&p).as_str()),
        ("code_verifier", pending.verifier.as_str()),
        ("client_id", super::CLIENT_ID),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let Ok(tokens) = crate::oidc::token::token(&p, &HeaderMap::new(), &form, None).await else { return Ok(failed()) };
    let who = match authz::caller(&p, Some(&tokens.access_token)).await {
        Ok(Caller::Officer { id, .. }) => match p.db.officer(&id).await.or_console(lang)? {
            Some(o) => format!("{} ({})", o.full_name, o.username),
            None => id,
        },
        Ok(Caller::Automation { client_id, .. }) => client_id,
        Err(AdminError::Unauthenticated(_) | AdminError::Forbidden(_)) => return Ok(failed()),
        Err(e) => return Err(ConsoleError::Admin(lang, e)),
    };
    let ttl = tokens.expires_in.max(1);
    let s = Stored { token: tokens.access_token, expires_at: unix_now() + ttl as i64, csrf: random_token(), who };
    let doc = serde_json::to_vec(&s).map_err(|e| AdminError::invalid("session", e.to_string())).or_console(lang)?;
    let fresh = random_token();
    p.kv.set(&key("s", &fresh), &doc, Duration::from_secs(ttl)).await.or_console(lang)?;
    let mut r = Redirect::to(&pending.return_to).into_response();
    session::set_cookie(&p, COOKIE, Some(&fresh), ttl as i64, r.headers_mut());
    Ok(r)
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Logs out of the console and of the provider: the console's grant is revoked and the single
/// sign-on session it came from ends (a shared computer in a commune office must not stay
/// logged in anywhere).
pub(super) async fn logout(
    State(p): State<Provider>,
    headers: HeaderMap,
    ConsoleForm { c, .. }: ConsoleForm<CsrfForm>,
) -> Result<Response, ConsoleError> {
    let lang = c.lang;
    let gid = match stored(&p, &headers).await.or_console(lang)? {
        Some(s) => live_access_token(&p, &s.token)
            .await
            .ok()
            .and_then(|claims| claims.get("gid").and_then(|g| g.as_str()).map(str::to_owned)),
        None => None,
    };
    if let Some(gid) = gid
        && let Some(grant) = p.db.grant(&gid).await.or_console(lang)?
    {
        p.db.revoke_grant(&gid, unix_now()).await.or_console(lang)?;
        if let (Some(account), Some(sid)) = (grant.account_id, grant.sid)
            && let Some(sso) = session::find_by_sid(&p, &account, &sid).await.or_console(lang)?
        {
            logout_session(&p, sso).await;
        }
    }
    if let Some(cookie) = session::cookie(&p, &headers, COOKIE) {
        p.kv.delete(&key("s", cookie)).await.or_console(lang)?;
    }
    let t = texts::of(lang);
    let mut r = pages::message(lang, t.logged_out, Some(("/admin", t.log_in_again)));
    session::set_cookie(&p, COOKIE, None, 0, r.headers_mut());
    Ok(r)
}

csrf_field!(CsrfForm);
