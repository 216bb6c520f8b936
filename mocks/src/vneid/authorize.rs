//! Authorization endpoint, the Vietnamese login page, and the two ways in: personal ID +
//! passcode, or a QR code approved from the phone (`POST /mock/approve`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::accounts::Account;
use super::store::{AuthRequest, CodeGrant, LoginTxn, prune, random_token};
use super::{Shared, now, page};

/// How long the login page (and its QR code) stays usable.
const LOGIN_TTL: i64 = 600;
const CODE_TTL: i64 = 60;

pub async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // Until client and redirect URI are known good, errors go to the browser, never to a URI
    // an attacker chose (RFC 6749 §4.1.2.1).
    let Some(client_id) = get("client_id") else {
        return page::error_page(StatusCode::BAD_REQUEST, "Thiếu client_id (missing client_id)");
    };
    let Some(client) = s.client(client_id) else {
        return page::error_page(StatusCode::BAD_REQUEST, "Ứng dụng không được đăng ký (unknown client_id)");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return page::error_page(StatusCode::BAD_REQUEST, "Thiếu redirect_uri (missing redirect_uri)");
    };
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return page::error_page(StatusCode::BAD_REQUEST, "redirect_uri không hợp lệ (unregistered redirect_uri)");
    }
    let state = get("state").map(str::to_string);
    let fail = |error: &str, desc: &str| error_redirect(redirect_uri, error, desc, state.as_deref());
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "only response_type=code is supported");
    }
    let scope = get("scope").unwrap_or("");
    if !scope.split(' ').any(|v| v == "openid") {
        return fail("invalid_scope", "scope must include openid");
    }
    let challenge = get("code_challenge").map(str::to_string);
    let method = get("code_challenge_method").map(str::to_string);
    match (&challenge, method.as_deref()) {
        (None, _) if s.config.require_pkce => {
            return fail("invalid_request", "code_challenge (PKCE, S256) is required");
        }
        (Some(c), Some("S256")) if c.len() >= 43 && c.len() <= 128 => {}
        (Some(_), Some("S256")) => return fail("invalid_request", "code_challenge must be 43-128 characters"),
        (Some(_), Some("plain") | None) if !s.config.require_pkce => {}
        (Some(_), _) => return fail("invalid_request", "code_challenge_method must be S256"),
        (None, _) => {}
    }
    let request = AuthRequest {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        state: state.clone(),
        nonce: get("nonce").map(str::to_string),
        scope: scope.to_string(),
        code_challenge: challenge,
        code_challenge_method: method,
        min_level: min_level(get("acr_values")),
    };
    let txn_id = random_token();
    let qr_code = random_token();
    let t = now();
    {
        let (Ok(mut txns), Ok(mut qr)) = (s.store.txns.lock(), s.store.qr.lock()) else {
            return page::error_page(StatusCode::INTERNAL_SERVER_ERROR, "Lỗi hệ thống");
        };
        prune(&mut txns, t, |v| v.expires);
        if qr.len() > 10_000 && qr.len().is_multiple_of(1024) {
            qr.retain(|_, txn| txns.contains_key(txn));
        }
        qr.insert(qr_code.clone(), txn_id.clone());
        txns.insert(
            txn_id.clone(),
            LoginTxn { request, qr_code: qr_code.clone(), approved_redirect: None, expires: t + LOGIN_TTL },
        );
    }
    Html(page::login_page(&txn_id, &qr_code, None)).into_response()
}

/// `acr_values` is a list of acceptable levels; the weakest acceptable one is the floor.
/// Accepts "1"/"2" and "LoA1"/"LoA2" (the portal's spelling); unknown values are ignored.
fn min_level(acr_values: Option<&str>) -> u8 {
    acr_values
        .unwrap_or("")
        .split(' ')
        .filter_map(|v| match v.trim_start_matches("LoA") {
            "1" => Some(1),
            "2" => Some(2),
            _ => None,
        })
        .min()
        .unwrap_or(0)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    txn: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    passcode: String,
}

pub async fn login_form(State(s): State<Shared>, axum::Form(f): axum::Form<LoginForm>) -> Response {
    let Some(txn) = s.store.txns.lock().ok().and_then(|m| m.get(&f.txn).cloned()) else {
        return page::error_page(StatusCode::BAD_REQUEST, "Phiên đăng nhập đã hết hạn, vui lòng thử lại");
    };
    if txn.expires < now() {
        return page::error_page(StatusCode::BAD_REQUEST, "Phiên đăng nhập đã hết hạn, vui lòng thử lại");
    }
    let account = Account::find(&s.population, &f.login).filter(|a| a.passcode == f.passcode.trim());
    let Some(account) = account else {
        let msg = "Số định danh cá nhân hoặc mật mã không đúng";
        let body = page::login_page(&f.txn, &txn.qr_code, Some(msg));
        return (StatusCode::UNAUTHORIZED, Html(body)).into_response();
    };
    match complete(&s, &f.txn, account, vec!["pwd"]) {
        Some(url) => Redirect::to(&url).into_response(),
        None => page::error_page(StatusCode::BAD_REQUEST, "Phiên đăng nhập đã hết hạn, vui lòng thử lại"),
    }
}

#[derive(Deserialize)]
pub struct ApproveRequest {
    /// The code shown in the QR.
    code: String,
    /// Whose phone approves: personal ID, tax code or TechID.
    login: String,
}

/// Stands in for the VNeID app: the citizen scanned the QR and approved on the phone.
pub async fn approve(
    State(s): State<Shared>,
    body: Result<Json<ApproveRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(req)) = body else {
        return json_error(StatusCode::BAD_REQUEST, "invalid_request", "JSON body {code, login} expected");
    };
    let txn_id = s.store.qr.lock().ok().and_then(|m| m.get(&req.code).cloned());
    let Some(txn_id) = txn_id else {
        return json_error(StatusCode::NOT_FOUND, "invalid_request", "unknown or expired QR code");
    };
    let Some(account) = Account::find(&s.population, &req.login) else {
        return json_error(StatusCode::NOT_FOUND, "invalid_request", "no e-ID account for this login");
    };
    match complete(&s, &txn_id, account, vec!["swk", "mfa"]) {
        Some(url) => {
            if let Ok(mut txns) = s.store.txns.lock()
                && let Some(t) = txns.get_mut(&txn_id)
            {
                t.approved_redirect = Some(url);
            }
            Json(json!({ "status": "approved" })).into_response()
        }
        None => json_error(StatusCode::NOT_FOUND, "invalid_request", "login expired or already completed"),
    }
}

#[derive(Deserialize)]
pub struct StatusQuery {
    #[serde(default)]
    txn: String,
}

/// The QR image of a pending login.
pub async fn login_qr(State(s): State<Shared>, Query(q): Query<StatusQuery>) -> Response {
    let code = s.store.txns.lock().ok().and_then(|m| m.get(&q.txn).map(|t| t.qr_code.clone()));
    match code {
        Some(code) => ([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], page::qr_svg(&code)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Polled by the login page while the QR is shown.
pub async fn login_status(State(s): State<Shared>, Query(q): Query<StatusQuery>) -> Response {
    let txn = s.store.txns.lock().ok().and_then(|m| m.get(&q.txn).cloned());
    match txn {
        Some(t) if t.expires >= now() => match t.approved_redirect {
            Some(url) => {
                if let Ok(mut m) = s.store.txns.lock() {
                    m.remove(&q.txn);
                }
                Json(json!({ "status": "approved", "redirect_to": url })).into_response()
            }
            None => Json(json!({ "status": "pending" })).into_response(),
        },
        _ => (StatusCode::NOT_FOUND, Json(json!({ "status": "expired" }))).into_response(),
    }
}

/// Finishes a login: a code, or an error when the account's level is below what was asked.
/// Returns the URL to send the browser to; `None` if the login is gone or already finished.
fn complete(s: &Shared, txn_id: &str, account: Account, amr: Vec<&'static str>) -> Option<String> {
    let mut txns = s.store.txns.lock().ok()?;
    let txn = txns.get(txn_id)?;
    if txn.approved_redirect.is_some() || txn.expires < now() {
        return None;
    }
    let req = txn.request.clone();
    let req_qr = txn.qr_code.clone();
    // The form flow has no poller, so the transaction is done now; the QR flow keeps it until
    // the page has picked up the redirect.
    if amr.contains(&"pwd") {
        txns.remove(txn_id);
        if let Ok(mut qr) = s.store.qr.lock() {
            qr.remove(&req_qr);
        }
    }
    drop(txns);
    if account.level < req.min_level {
        return Some(error_url(
            &req.redirect_uri,
            "unmet_authentication_requirements",
            "Tài khoản định danh điện tử chưa đạt mức độ 2 (account is level 1)",
            req.state.as_deref(),
        ));
    }
    if account.dissolved {
        return Some(error_url(
            &req.redirect_uri,
            "access_denied",
            "Doanh nghiệp đã giải thể, tài khoản định danh điện tử đã bị khóa (enterprise dissolved; e-ID account locked)",
            req.state.as_deref(),
        ));
    }
    let code = random_token();
    let t = now();
    let mut codes = s.store.codes.lock().ok()?;
    prune(&mut codes, t, |v| v.expires);
    codes.insert(code.clone(), CodeGrant { request: req.clone(), account, amr, auth_time: t, expires: t + CODE_TTL });
    let mut pairs = vec![("code", code.as_str())];
    if let Some(st) = req.state.as_deref() {
        pairs.push(("state", st));
    }
    Some(with_query(&req.redirect_uri, &pairs))
}

fn error_redirect(uri: &str, error: &str, desc: &str, state: Option<&str>) -> Response {
    Redirect::to(&error_url(uri, error, desc, state)).into_response()
}

fn error_url(uri: &str, error: &str, desc: &str, state: Option<&str>) -> String {
    let mut pairs = vec![("error", error), ("error_description", desc)];
    if let Some(st) = state {
        pairs.push(("state", st));
    }
    with_query(uri, &pairs)
}

pub(crate) fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            u.query_pairs_mut().extend_pairs(pairs);
            u.to_string()
        }
        // Registered URIs are absolute; this only guards against a bad configuration.
        Err(_) => uri.to_string(),
    }
}

pub(crate) fn json_error(status: StatusCode, error: &str, desc: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": desc }))).into_response()
}
