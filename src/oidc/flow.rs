//! The authorization flow between `/authorize` and the code: decide whether the user must
//! (re-)authenticate or consent, keep the request in a login transaction while they do, and
//! finish with a code sent back to the client.
//!
//! This module knows no authentication method: a method (e-ID federation, officer login)
//! reports an [`Authenticated`] through [`complete_login`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::acr;
use super::clients::Client;
use super::error::{ErrorCode, OAuthError};
use super::grants::{self, CodeData};
use super::provider::{Provider, now, random_token};
use super::request::{self, AuthRequest, Params, RequestError, ResponseMode};
use super::session::{self, Session};
use crate::store::KvError;

/// A login in progress, kept in the session store while the user is away authenticating.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginTx {
    pub id: String,
    pub request: AuthRequest,
    /// The weakest acceptable `acr` rank.
    pub min_rank: u8,
    /// State of the authentication method (e.g. the upstream state/nonce/PKCE verifier).
    #[serde(default)]
    pub method_state: Option<serde_json::Value>,
    /// Set once authenticated, while consent is pending.
    #[serde(default)]
    pub session: Option<SessionRef>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionRef {
    pub account_id: String,
    pub sid: String,
}

/// What an authentication method established.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub account_id: String,
    pub acr: String,
    pub amr: Vec<String>,
    pub auth_time: i64,
}

/// What the HTTP layer must do next.
#[derive(Debug)]
pub enum Next {
    /// An error that must not be redirected (unknown client or redirect URI).
    ErrorPage(OAuthError),
    /// Send the browser back to the client with these parameters.
    Respond { redirect_uri: String, mode: ResponseMode, params: Vec<(String, String)> },
    /// Show the login choice for this transaction.
    Login { tx: String },
    /// Show the consent page for this transaction.
    Consent { tx: String },
    /// The session store or database is down: an honest "try again" page.
    Unavailable,
}

fn tx_key(id: &str) -> String {
    format!("tx:{id}")
}

pub async fn save_tx(p: &Provider, tx: &LoginTx) -> Result<(), KvError> {
    let doc = serde_json::to_vec(tx).map_err(|e| KvError::Misuse(e.to_string()))?;
    p.kv.set(&tx_key(&tx.id), &doc, p.tx_ttl).await
}

pub async fn load_tx(p: &Provider, id: &str) -> Result<Option<LoginTx>, KvError> {
    if id.len() > 64 {
        return Ok(None);
    }
    Ok(p.kv.get(&tx_key(id)).await?.and_then(|b| serde_json::from_slice(&b).ok()))
}

pub async fn drop_tx(p: &Provider, id: &str) -> Result<(), KvError> {
    p.kv.delete(&tx_key(id)).await
}

/// An error response to the client, with `state` and the RFC 9207 `iss`.
pub fn error_to_client(p: &Provider, req: &AuthRequest, e: OAuthError) -> Next {
    respond_error(p, req.redirect_uri.clone(), req.response_mode, req.state.clone(), e)
}

fn respond_error(p: &Provider, redirect_uri: String, mode: ResponseMode, state: Option<String>, e: OAuthError) -> Next {
    let mut params = vec![("error".to_owned(), e.error.as_str().to_owned())];
    if let Some(d) = e.error_description {
        params.push(("error_description".into(), d));
    }
    if let Some(s) = state {
        params.push(("state".into(), s));
    }
    params.push(("iss".into(), p.issuer.clone()));
    Next::Respond { redirect_uri, mode, params }
}

/// `/authorize`: validates the request and decides the next step.
pub async fn authorize(
    p: &Provider,
    client: Arc<Client>,
    params: &Params,
    via_par: bool,
    session: Option<Session>,
) -> Next {
    let req = match request::parse(&client, params, via_par) {
        Ok(r) => r,
        Err(RequestError::Page(e)) => return Next::ErrorPage(e),
        Err(RequestError::Redirect { error, redirect_uri, state, response_mode }) => {
            return respond_error(p, redirect_uri, response_mode, state, error);
        }
    };
    let min_rank = match acr::required_rank(&req.acr_values, client.default_acr.as_deref()) {
        Ok(r) => r,
        Err(msg) => return error_to_client(p, &req, OAuthError::new(ErrorCode::InvalidRequest, msg)),
    };
    if let Some(hint) = &req.id_token_hint
        && let Err(e) = check_id_token_hint(p, &client, hint, session.as_ref())
    {
        return error_to_client(p, &req, e);
    }
    let tx = LoginTx { id: random_token(), request: req, min_rank, method_state: None, session: None };
    match session {
        Some(s) if !needs_login(&tx, &s) => continue_with_session(p, &client, tx, s).await,
        _ if tx.request.prompt.none => {
            error_to_client(p, &tx.request, OAuthError::new(ErrorCode::LoginRequired, "the user must log in"))
        }
        _ => match save_tx(p, &tx).await {
            Ok(()) => Next::Login { tx: tx.id },
            Err(_) => Next::Unavailable,
        },
    }
}

/// Re-authentication is needed for prompt=login, an expired `max_age`, or a weaker `acr`
/// than demanded (step-up).
fn needs_login(tx: &LoginTx, s: &Session) -> bool {
    let r = &tx.request;
    // max_age=0 means "always" (OIDC Core §3.1.2.1: the same as prompt=login).
    r.prompt.login
        || r.max_age.is_some_and(|m| m == 0 || now() - s.auth_time > m)
        || acr::rank(&s.acr).unwrap_or(0) < tx.min_rank
}

/// The hint must be an ID token we issued to this client; if a session exists it must be the
/// same user's (OIDC Core §3.1.2.1).
fn check_id_token_hint(p: &Provider, client: &Client, hint: &str, session: Option<&Session>) -> Result<(), OAuthError> {
    let claims = p
        .keys
        .verify_jwt(hint, "JWT", now())
        .map_err(|_| OAuthError::invalid_request("id_token_hint is not a valid ID token from this provider"))?;
    if claims.get("aud").and_then(|a| a.as_str()) != Some(client.client_id.as_str()) {
        return Err(OAuthError::invalid_request("id_token_hint was issued to another client"));
    }
    if let Some(s) = session
        && claims.get("sub").and_then(|v| v.as_str()) != Some(p.subject_for(client, &s.account_id).as_str())
    {
        return Err(OAuthError::new(ErrorCode::LoginRequired, "the logged-in user is not the one in id_token_hint"));
    }
    Ok(())
}

/// Called by an authentication method once the user is authenticated. Returns the next step
/// and the new session, whose cookie the caller sets.
pub async fn complete_login(
    p: &Provider,
    mut tx: LoginTx,
    who: Authenticated,
    old: Option<Session>,
) -> (Next, Option<Session>) {
    let Ok(Some(client)) = p.clients.get(&tx.request.client_id).await else { return (Next::Unavailable, None) };
    if acr::rank(&who.acr).unwrap_or(0) < tx.min_rank {
        let _ = drop_tx(p, &tx.id).await;
        let e =
            OAuthError::new(ErrorCode::AccessDenied, "the authentication level demanded by acr_values was not reached");
        return (error_to_client(p, &tx.request, e), None);
    }
    // A new login starts a new session (no fixation). A different person's session on this
    // browser is logged out completely: its services are told and its tokens revoked.
    let previous = match old {
        Some(o) if o.account_id != who.account_id => {
            super::logout::logout_session(p, o).await;
            None
        }
        other => other,
    };
    let s = match session::create(p, &who.account_id, &who.acr, who.amr, who.auth_time, previous.as_ref()).await {
        Ok(s) => s,
        Err(_) => return (Next::Unavailable, None),
    };
    tx.session = Some(SessionRef { account_id: s.account_id.clone(), sid: s.sid.clone() });
    (continue_with_session(p, &client, tx, s.clone()).await, Some(s))
}

/// With an authenticated session: consent if needed, else the code.
async fn continue_with_session(p: &Provider, client: &Client, mut tx: LoginTx, s: Session) -> Next {
    // prompt=consent always asks again; otherwise trusted first-party clients and recorded
    // consents covering every requested scope skip the page.
    // The personal ID is released only with a recorded consent, even to trusted clients.
    let trusted = client.trusted && !tx.request.scopes.iter().any(|sc| sc == super::claims::PERSONAL_ID_SCOPE);
    let consented = !tx.request.prompt.consent
        && (trusted || p.db.has_consent(&s.account_id, &client.client_id, &tx.request.scopes).await.unwrap_or(false));
    if !consented {
        if tx.request.prompt.none {
            return error_to_client(
                p,
                &tx.request,
                OAuthError::new(ErrorCode::ConsentRequired, "the user must consent"),
            );
        }
        tx.session = Some(SessionRef { account_id: s.account_id.clone(), sid: s.sid.clone() });
        return match save_tx(p, &tx).await {
            Ok(()) => Next::Consent { tx: tx.id },
            Err(_) => Next::Unavailable,
        };
    }
    issue(p, tx, s).await
}

/// Called when the user approves on the consent page.
pub async fn consent_given(p: &Provider, tx: LoginTx, s: Session) -> Next {
    let Ok(Some(account)) = p.db.account(&s.account_id).await else { return Next::Unavailable };
    let released: Vec<String> = super::claims::released(&account.profile, &tx.request.scopes).keys().cloned().collect();
    if p.db.record_consent(&s.account_id, &tx.request.client_id, &tx.request.scopes, &released, now()).await.is_err() {
        return Next::Unavailable;
    }
    issue(p, tx, s).await
}

async fn issue(p: &Provider, tx: LoginTx, mut s: Session) -> Next {
    let _ = drop_tx(p, &tx.id).await;
    if session::add_client(p, &mut s, &tx.request.client_id).await.is_err() {
        return Next::Unavailable;
    }
    let data = CodeData {
        request: tx.request,
        account_id: s.account_id,
        sid: s.sid,
        acr: s.acr,
        amr: s.amr,
        auth_time: s.auth_time,
    };
    let code = match grants::issue_code(p, &data).await {
        Ok(c) => c,
        Err(_) => return Next::Unavailable,
    };
    let mut params = vec![("code".to_owned(), code)];
    if let Some(st) = &data.request.state {
        params.push(("state".into(), st.clone()));
    }
    params.push(("iss".into(), p.issuer.clone()));
    Next::Respond { redirect_uri: data.request.redirect_uri, mode: data.request.response_mode, params }
}
