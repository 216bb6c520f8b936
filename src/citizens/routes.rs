//! The HTTP face of citizen login: start at the national e-ID, come back, verify against the
//! population database, and hand the citizen to the provider. A failure shows the citizen what
//! happened and what to do; going back gives the service a proper OAuth error.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{FromRef, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::login::{self, METHOD};
use super::organisations::{self, ACCOUNT_TYPE_CLAIM};
use super::upstream::AccountType;
use super::{
    ClaimOptions, EidIdentity, EidLogin, Message, OrgIdentity, PendingUpstream, PopulationClient, PopulationRecord,
    RpError, Upstream, UpstreamError, VerifyError, citizen_claims,
};
use crate::crypto::sha256_hex;
use crate::oidc::Provider;
use crate::oidc::claims::ACTOR_KEY;
use crate::oidc::login::Authenticated;
use crate::oidc::routes::login::{self as op, PageForm};
use crate::oidc::routes::pages::{OrPage, PageError};
use crate::oidc::tx::LoginTx;
use crate::web::page::{self, Frame, Lang};

#[derive(Clone)]
pub struct CitizenLogin {
    pub oidc: Provider,
    pub upstream: Arc<Upstream>,
    pub population: Arc<PopulationClient>,
}

impl FromRef<CitizenLogin> for Provider {
    fn from_ref(c: &CitizenLogin) -> Provider {
        c.oidc.clone()
    }
}

pub fn router() -> Router<CitizenLogin> {
    Router::new().route("/login/vneid", post(start)).route("/callback/vneid", get(callback))
}

/// What the login transaction keeps for this method.
#[derive(serde::Serialize, Deserialize)]
struct EidState {
    pending: PendingUpstream,
}

/// The e-ID's `state` names the transaction; kept hashed so the store holds no live value.
fn upstream_key(state: &str) -> String {
    format!("upstream:{}", sha256_hex(state))
}

#[derive(Deserialize)]
struct StartForm {
    tx: String,
}

async fn start(
    State(c): State<CitizenLogin>,
    headers: HeaderMap,
    PageForm(f): PageForm<StartForm>,
) -> Result<Response, PageError> {
    let (mut tx, lang) = op::begin(&c.oidc, &headers, &f.tx, METHOD).await?;
    let level = login::level_to_ask(&tx.requirement);
    let (mut url, pending) = match c.upstream.begin(level, tx.request.login_hint.as_deref()).await {
        Ok(x) => x,
        Err(e) => return Ok(failure_page(&c, &tx, lang, e.message(), e.rp_error(), e.retryable())),
    };
    // A service that demands fresh authentication gets it from the e-ID too, not from an SSO
    // session there (OIDC Core §3.1.2.1 parameters passed through).
    if tx.request.prompt.login || tx.request.max_age.is_some() {
        url.query_pairs_mut().append_pair("prompt", "login");
    }
    if let Some(m) = tx.request.max_age {
        url.query_pairs_mut().append_pair("max_age", &m.to_string());
    }
    tx.set_method_state(METHOD, &EidState { pending: pending.clone() }).or_page(lang)?;
    op::save(&c.oidc, &tx, lang).await?;
    c.oidc.kv.set(&upstream_key(pending.state()), tx.id.as_bytes(), c.oidc.tx_ttl).await.or_page(lang)?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Back from the e-ID: verify the answer, check the citizen against the population database,
/// and hand the authenticated citizen to the provider.
async fn callback(
    State(c): State<CitizenLogin>,
    headers: HeaderMap,
    lang: Lang,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let state = q.state.as_deref().ok_or(PageError::Expired(lang))?;
    let tx_id = c.oidc.kv.take(&upstream_key(state)).await.or_page(lang)?.ok_or(PageError::Expired(lang))?;
    let (tx, lang) = op::resume(&c.oidc, &headers, &String::from_utf8_lossy(&tx_id)).await?;
    let EidState { pending } = tx.method_state(METHOD).ok_or(PageError::Expired(lang))?;
    let eid = match (&q.code, &q.error) {
        (Some(code), None) => c.upstream.complete(&pending, code, state).await,
        (_, Some(err)) => Err(c.upstream.callback_error(&pending, state, err, q.error_description.as_deref())),
        (None, None) => return Err(PageError::Expired(lang)),
    };
    let login = match eid {
        Ok(e) => e,
        Err(e) => return Ok(failure_page(&c, &tx, lang, e.message(), e.rp_error(), e.retryable())),
    };
    let acr = login::acr_of(&login);
    let who = match &login {
        // The wrong kind of account for this service is refused before any further work; the
        // person may go back to the e-ID and choose the other account.
        _ if c.oidc.acr.level(acr).is_none_or(|l| tx.requirement.min_strength(l.party).is_none()) => {
            let e = UpstreamError::UnsupportedAccount(account_type(&login));
            Err(Refusal::Shown { msg: e.message(), rp: e.rp_error(), retryable: e.retryable() })
        }
        EidLogin::Citizen(eid) => citizen(&c, eid, acr, lang).await,
        EidLogin::Organisation(org) => organisation(&c, org, acr, lang).await,
    };
    match who {
        Ok(who) => Ok(op::finish(&c.oidc, &headers, tx, who).await),
        Err(Refusal::Page(e)) => Err(e),
        Err(Refusal::Shown { msg, rp, retryable }) => Ok(failure_page(&c, &tx, lang, msg, rp, retryable)),
    }
}

/// Why a login the e-ID vouched for goes no further: an error page of the provider's, or a
/// failure shown to the person with what to do.
enum Refusal {
    Page(PageError),
    Shown { msg: Message, rp: RpError, retryable: bool },
}

impl From<PageError> for Refusal {
    fn from(e: PageError) -> Self {
        Refusal::Page(e)
    }
}

impl From<VerifyError> for Refusal {
    fn from(e: VerifyError) -> Self {
        Refusal::Shown { msg: e.message(), rp: e.rp_error(), retryable: e.retryable() }
    }
}

fn account_type(login: &EidLogin) -> AccountType {
    match login {
        EidLogin::Citizen(_) => AccountType::Citizen,
        EidLogin::Organisation(o) => o.account_type,
    }
}

/// The profile of a citizen verified against the population database: every claim, released
/// per grant by scope.
fn citizen_profile(eid: &EidIdentity, record: &PopulationRecord) -> serde_json::Value {
    let mut profile =
        serde_json::Value::Object(citizen_claims(eid, record, ClaimOptions { personal_id: true }).to_json());
    profile[ACCOUNT_TYPE_CLAIM] = serde_json::json!(AccountType::Citizen.as_str());
    profile
}

fn citizen_key(eid: &EidIdentity) -> String {
    format!("vneid:{}", eid.personal_id.as_str())
}

/// A citizen: checked against the population database, then their account created or
/// refreshed.
async fn citizen(c: &CitizenLogin, eid: &EidIdentity, acr: &'static str, lang: Lang) -> Result<Authenticated, Refusal> {
    let record = c.population.verify(eid).await?;
    let mut profile = citizen_profile(eid, &record);
    profile["eid_level"] = serde_json::json!(eid.level as u8);
    let account = c
        .oidc
        .db
        .upsert_account("citizen", &citizen_key(eid), &profile, crate::clock::unix_now())
        .await
        .or_page(lang)?;
    Ok(Authenticated {
        method: METHOD,
        account_id: account.id,
        acr,
        // What the e-ID reported, and nothing guessed.
        amr: eid.amr.clone(),
        auth_time: eid.auth_time,
        actor: None,
        cert_thumbprint: None,
    })
}

/// An enterprise or organisation. A legal representative the e-ID identifies by personal ID is
/// checked like a citizen, and is the person acting for the organisation; one who fails the
/// check stops the login, since nobody verified would then be acting for it.
async fn organisation(
    c: &CitizenLogin,
    org: &OrgIdentity,
    acr: &'static str,
    lang: Lang,
) -> Result<Authenticated, Refusal> {
    let now = crate::clock::unix_now();
    let person = org.representative.as_ref().and_then(|r| organisations::representative_as_person(org, r));
    let actor = match &person {
        Some(person) => {
            let record = c.population.verify(person).await.map_err(|e| match e.rp_error() {
                RpError::AccessDenied => Refusal::Shown {
                    msg: organisations::REPRESENTATIVE_NOT_VERIFIED,
                    rp: RpError::AccessDenied,
                    retryable: false,
                },
                _ => Refusal::from(e),
            })?;
            let profile = citizen_profile(person, &record);
            Some(c.oidc.db.ensure_account("citizen", &citizen_key(person), &profile, now).await.or_page(lang)?)
        }
        None => None,
    };
    let mut profile = organisations::profile(org, actor.is_some());
    if let Some(a) = &actor {
        profile[ACTOR_KEY] = serde_json::json!(a);
    }
    let key = organisations::external_key(org);
    let account = c.oidc.db.upsert_account(organisations::ACCOUNT_KIND, &key, &profile, now).await.or_page(lang)?;
    Ok(Authenticated {
        method: METHOD,
        account_id: account.id,
        acr,
        amr: org.amr.clone(),
        auth_time: org.auth_time,
        actor,
        cert_thumbprint: None,
    })
}

#[derive(Template)]
#[template(path = "citizens/failed.html")]
struct FailedPage<'a> {
    frame: Frame,
    t: &'static FailedTexts,
    message: &'static str,
    retry: Option<String>,
    tx: &'a str,
    reason: &'static str,
}

struct FailedTexts {
    title: &'static str,
    failed_heading: &'static str,
    retry: &'static str,
    back: &'static str,
}

static FAILED_VI: FailedTexts = FailedTexts {
    title: "Chưa đăng nhập được",
    failed_heading: "Chưa đăng nhập được",
    retry: "Thử lại",
    back: "Quay lại dịch vụ",
};
static FAILED_EN: FailedTexts = FailedTexts {
    title: "Login did not succeed",
    failed_heading: "Login did not succeed",
    retry: "Try again",
    back: "Back to the service",
};

/// A failed citizen login: the transaction stays (so "try again" works) and the page offers to
/// go back to the service, which then gets the OAuth error.
fn failure_page(c: &CitizenLogin, tx: &LoginTx, lang: Lang, msg: Message, rp: RpError, retryable: bool) -> Response {
    let why = login::abort_of(rp);
    op::failed(&c.oidc, tx, METHOD, why);
    let t = match lang {
        Lang::Vi => &FAILED_VI,
        Lang::En => &FAILED_EN,
    };
    let status =
        if rp == RpError::TemporarilyUnavailable { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::FORBIDDEN };
    let page = FailedPage {
        frame: Frame::new(lang, t.title),
        t,
        message: lang.t(msg.vi, msg.en),
        retry: retryable.then(|| format!("/login?tx={}&lang={}", tx.id, lang.code())),
        tx: &tx.id,
        reason: why.as_str(),
    };
    let mut r = page::render(status, &page);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::web::error::RETRY_AFTER_SECS));
    }
    r
}
