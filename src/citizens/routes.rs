//! The HTTP face of citizen login: start at the national e-ID, come back, verify against the
//! population database, then hand the result to the OIDC flow. Pages for every failure tell
//! the citizen what happened and what to do; the service gets a proper OAuth error.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{
    AccountLevel, ClaimOptions, Message, PendingUpstream, PopulationClient, RpError, Upstream, citizen_claims,
};
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::flow::{self, Authenticated, LoginTx};
use crate::oidc::provider::now;
use crate::oidc::routes::{expired, render_next, unavailable};
use crate::oidc::session;
use crate::oidc::{Provider, acr};
use crate::web::page::{self, Lang};

/// Binds a login to the browser that started it: a fresh secret per start, kept hashed in the
/// transaction, so a callback URL carried to another browser (login CSRF) goes nowhere. The
/// transaction id cannot serve: it appears in URLs an attacker can obtain.
const TX_COOKIE: &str = "xacthuc_login";

/// What the login transaction keeps for this method.
#[derive(serde::Serialize, Deserialize)]
struct MethodState {
    pending: PendingUpstream,
    binding_hash: String,
}

#[derive(Clone)]
pub struct CitizenLogin {
    pub oidc: Provider,
    pub upstream: Arc<Upstream>,
    pub population: Arc<PopulationClient>,
}

pub fn router() -> Router<CitizenLogin> {
    Router::new()
        .route("/login/vneid", post(start))
        .route("/callback/vneid", get(callback))
        .route("/login/abort", get(abort))
}

fn upstream_key(state: &str) -> String {
    format!("upstream:{}", crate::oidc::provider::sha256_hex(state))
}

#[derive(Deserialize)]
struct StartForm {
    tx: String,
}

async fn start(State(c): State<CitizenLogin>, headers: HeaderMap, Form(f): Form<StartForm>) -> Response {
    let lang = Lang::pick(None, &headers);
    // Browsers say where a form came from; a login may only be started from our own pages.
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "cross-site") {
        return expired(lang);
    }
    let mut tx = match flow::load_tx(&c.oidc, &f.tx).await {
        Ok(Some(tx)) => tx,
        Ok(None) => return expired(lang),
        Err(_) => return unavailable(lang),
    };
    let lang = Lang::pick(tx.request.ui_locales.as_deref(), &headers);
    // Ask the e-ID for the level the service demands; level 2 maps to e-ID level 2.
    let level = (tx.min_rank >= acr::rank(acr::EID2).unwrap_or(2)).then_some(AccountLevel::Level2);
    let (mut url, pending) = match c.upstream.begin(level, tx.request.login_hint.as_deref()).await {
        Ok(x) => x,
        Err(e) => return failure_page(&tx, lang, e.message(), e.rp_error(), e.retryable()),
    };
    // A service that demands fresh authentication gets it from the e-ID too, not from an SSO
    // session there (OIDC Core §3.1.2.1 parameters passed through).
    if tx.request.prompt.login || tx.request.max_age.is_some() {
        url.query_pairs_mut().append_pair("prompt", "login");
    }
    if let Some(m) = tx.request.max_age {
        url.query_pairs_mut().append_pair("max_age", &m.to_string());
    }
    let binding = crate::oidc::provider::random_token();
    let state = MethodState { pending: pending.clone(), binding_hash: crate::oidc::provider::sha256_hex(&binding) };
    tx.method_state = serde_json::to_value(&state).ok();
    let saved = async {
        flow::save_tx(&c.oidc, &tx).await?;
        c.oidc.kv.set(&upstream_key(pending.state()), tx.id.as_bytes(), c.oidc.tx_ttl).await
    };
    if saved.await.is_err() {
        return unavailable(lang);
    }
    let mut r = Redirect::to(url.as_str()).into_response();
    session::set_cookie(&c.oidc, TX_COOKIE, Some(&binding), c.oidc.tx_ttl.as_secs() as i64, r.headers_mut());
    r
}

#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(State(c): State<CitizenLogin>, headers: HeaderMap, Query(q): Query<CallbackQuery>) -> Response {
    let lang = Lang::pick(None, &headers);
    let Some(state) = q.state.as_deref() else { return expired(lang) };
    let tx_id = match c.oidc.kv.take(&upstream_key(state)).await {
        Ok(Some(id)) => String::from_utf8_lossy(&id).into_owned(),
        Ok(None) => return expired(lang),
        Err(_) => return unavailable(lang),
    };
    let tx = match flow::load_tx(&c.oidc, &tx_id).await {
        Ok(Some(tx)) => tx,
        Ok(None) => return expired(lang),
        Err(_) => return unavailable(lang),
    };
    let lang = Lang::pick(tx.request.ui_locales.as_deref(), &headers);
    let Some(MethodState { pending, binding_hash }) =
        tx.method_state.clone().and_then(|v| serde_json::from_value(v).ok())
    else {
        return expired(lang);
    };
    let presented =
        session::cookie(&c.oidc, &headers, TX_COOKIE).map(crate::oidc::provider::sha256_hex).unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), binding_hash.as_bytes())) {
        tracing::warn!("e-ID callback in a browser that did not start the login");
        return expired(lang);
    }
    let eid = match (&q.code, &q.error) {
        (Some(code), None) => c.upstream.complete(&pending, code, state).await,
        (_, Some(err)) => Err(c.upstream.callback_error(&pending, state, err, q.error_description.as_deref())),
        (None, None) => return expired(lang),
    };
    let eid = match eid {
        Ok(e) => e,
        Err(e) => return failure_page(&tx, lang, e.message(), e.rp_error(), e.retryable()),
    };
    // The e-ID's auth_time must honour max_age (with a minute of clock tolerance); an older
    // authentication is not the fresh one the service asked for.
    if let (Some(max_age), Some(at)) = (tx.request.max_age, eid.auth_time)
        && now() - at > max_age + 60
    {
        let e = OAuthError::new(
            ErrorCode::LoginRequired,
            "the national e-ID did not re-authenticate the citizen within max_age",
        );
        return render_next(lang, flow::error_to_client(&c.oidc, &tx.request, e));
    }
    let record = match c.population.verify(&eid).await {
        Ok(r) => r,
        Err(e) => return failure_page(&tx, lang, e.message(), e.rp_error(), e.retryable()),
    };
    // The profile keeps every claim; what a service receives is decided per grant by scope.
    let claims = citizen_claims(&eid, &record, ClaimOptions { personal_id: true });
    let mut profile = serde_json::Value::Object(claims.to_json());
    profile["eid_level"] = serde_json::json!(eid.level as u8);
    let t = now();
    let external = format!("vneid:{}", eid.personal_id.as_str());
    let account = match c.oidc.db.upsert_account("citizen", &external, &profile, t).await {
        Ok(a) => a,
        Err(_) => return unavailable(lang),
    };
    let who = Authenticated {
        account_id: account.id,
        acr: match eid.level {
            AccountLevel::Level2 => acr::EID2.into(),
            AccountLevel::Level1 => acr::EID1.into(),
        },
        amr: if eid.amr.is_empty() { vec!["vneid".into()] } else { eid.amr.clone() },
        auth_time: eid.auth_time.unwrap_or(t),
    };
    let old = session::from_headers(&c.oidc, &headers).await.ok().flatten();
    let (next, new_session) = flow::complete_login(&c.oidc, tx, who, old).await;
    let mut r = render_next(lang, next);
    session::set_cookie(&c.oidc, TX_COOKIE, None, 0, r.headers_mut());
    if let Some(value) = new_session.and_then(|s| s.cookie_value()) {
        session::set_cookie(
            &c.oidc,
            session::COOKIE_NAME,
            Some(&value),
            c.oidc.session_ttl.as_secs() as i64,
            r.headers_mut(),
        );
    }
    metrics::counter!("logins_total", "method" => "vneid", "outcome" => "success").increment(1);
    r
}

/// A failed citizen login: the transaction stays (so "try again" works) and the page offers to
/// go back to the service, which then gets the OAuth error.
fn failure_page(tx: &LoginTx, lang: Lang, msg: Message, rp: RpError, retryable: bool) -> Response {
    metrics::counter!("logins_total", "method" => "vneid", "outcome" => rp.as_str()).increment(1);
    let retry = retryable.then(|| format!("/login?tx={}&lang={}", tx.id, lang.code()));
    let back = format!("/login/abort?tx={}&error={}", tx.id, rp.as_str());
    let status =
        if rp == RpError::TemporarilyUnavailable { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::FORBIDDEN };
    let body = crate::oidc::pages::login_failed(lang, msg.vi, msg.en, retry.as_deref(), &back);
    let mut r = page::html(status, body);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::web::error::RETRY_AFTER_SECS));
    }
    r
}

#[derive(Deserialize)]
struct AbortQuery {
    tx: String,
    error: String,
}

async fn abort(State(c): State<CitizenLogin>, headers: HeaderMap, Query(q): Query<AbortQuery>) -> Response {
    let lang = Lang::pick(None, &headers);
    let tx = match flow::load_tx(&c.oidc, &q.tx).await {
        Ok(Some(tx)) => tx,
        Ok(None) => return expired(lang),
        Err(_) => return unavailable(lang),
    };
    let _ = flow::drop_tx(&c.oidc, &tx.id).await;
    let (code, desc) = match q.error.as_str() {
        "temporarily_unavailable" => {
            (ErrorCode::TemporarilyUnavailable, "the national e-ID or population database is unavailable")
        }
        "server_error" => (ErrorCode::ServerError, "the citizen login failed"),
        _ => (ErrorCode::AccessDenied, "the citizen could not be identified as required"),
    };
    render_next(lang, flow::error_to_client(&c.oidc, &tx.request, OAuthError::new(code, desc)))
}
