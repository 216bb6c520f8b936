//! The authorization flow between `/authorize` and the code: decide whether the user must
//! (re-)authenticate or consent, keep the request in a login transaction while they do, and
//! finish with a code sent back to the client.
//!
//! This module knows no authentication method: a method reports an [`Authenticated`] through
//! [`complete_login`].

use std::sync::Arc;

use super::acr::{Ask, Level};
use super::clients::Client;
use super::error::{ErrorCode, OAuthError};
use super::grants::{self, CodeData};
use super::login::{Abort, Authenticated};
use super::provider::Provider;
use super::request::{self, AuthRequest, Params, RequestError, ResponseMode};
use super::session::{self, Session};
use super::tx::{self, LoginTx, Origin, SessionRef, TxError};
use crate::clock::unix_now as now;
use crate::crypto::random_token;

/// Clock tolerance for an `auth_time` reported by another system (an upstream identity provider).
const CLOCK_SKEW_SECS: i64 = 60;

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
    /// Too many logins in progress from this browser or address.
    TooMany,
    /// The session store or database is down: an honest "try again" page.
    Unavailable,
}

impl From<TxError> for Next {
    fn from(e: TxError) -> Self {
        match e {
            TxError::TooMany => Next::TooMany,
            // Only a new transaction can be too large, and that is answered to the client.
            TxError::TooLarge => Next::Unavailable,
            TxError::Store(e) => unavailable("login transaction", &e),
        }
    }
}

/// A 503 page whose cause goes to the log (the page only says "try again later").
fn unavailable(what: &str, e: &dyn std::fmt::Display) -> Next {
    tracing::warn!(error = %e, "login answered 503: {what}");
    Next::Unavailable
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
    origin: &Origin,
) -> Next {
    let req = match request::parse(&client, params, via_par) {
        Ok(r) => r,
        Err(RequestError::Page(e)) => return Next::ErrorPage(e),
        Err(RequestError::Redirect { error, redirect_uri, state, response_mode }) => {
            return respond_error(p, redirect_uri, response_mode, state, error);
        }
    };
    let ask = if req.acr_essential { Ask::Essential } else { Ask::Voluntary };
    let requirement = match p.acr.requirement(&req.acr_values, ask, client.default_acr.as_deref()) {
        Ok(r) => r,
        Err(msg) => return error_to_client(p, &req, OAuthError::new(ErrorCode::UnmetAuthenticationRequirements, msg)),
    };
    if let Some(hint) = &req.id_token_hint
        && let Err(e) = check_id_token_hint(p, &client, hint, session.as_ref())
    {
        return error_to_client(p, &req, e);
    }
    let tx = LoginTx::new(random_token(), req, requirement, now(), origin);
    match session {
        Some(s) if !needs_login(p, &tx, &s) => continue_with_session(p, &client, tx, s).await,
        _ if tx.request.prompt.none => {
            error_to_client(p, &tx.request, OAuthError::new(ErrorCode::LoginRequired, "the user must log in"))
        }
        _ => match save_new(p, &tx, origin).await {
            Ok(()) => Next::Login { tx: tx.id },
            Err(TxError::TooLarge) => {
                error_to_client(p, &tx.request, OAuthError::invalid_request("the authorization request is too large"))
            }
            Err(e) => e.into(),
        },
    }
}

async fn save_new(p: &Provider, t: &LoginTx, origin: &Origin) -> Result<(), TxError> {
    tx::check_size(p, t)?;
    tx::admit(p, origin).await?;
    tx::save(p, t).await
}

/// Re-authentication is needed for prompt=login, an expired `max_age`, or a level that does not
/// meet the demand (step-up, or another kind of user).
fn needs_login(p: &Provider, tx: &LoginTx, s: &Session) -> bool {
    let r = &tx.request;
    // max_age=0 means "always" (OIDC Core §3.1.2.1: the same as prompt=login).
    r.prompt.login
        || r.max_age.is_some_and(|m| m == 0 || now().saturating_sub(s.auth_time) > m)
        || !p.acr.level(&s.acr).is_some_and(|l| tx.requirement.met_by(l))
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

/// Whether what the method established is what the request demanded: the level (same party,
/// at least as strong), and an authentication recent enough for `max_age` and `prompt=login`.
/// The `auth_time` to record comes back.
fn check_authenticated(p: &Provider, tx: &LoginTx, who: &Authenticated) -> Result<i64, OAuthError> {
    let level: Option<Level> = p.acr.level(who.acr);
    if !level.is_some_and(|l| tx.requirement.met_by(l)) {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "the authentication level demanded by acr_values was not reached",
        ));
    }
    let t = now();
    let fresh_required = tx.request.max_age.is_some() || tx.request.prompt.login;
    let auth_time = match who.auth_time {
        Some(at) => at,
        None if fresh_required => {
            return Err(OAuthError::new(
                ErrorCode::LoginRequired,
                "the authentication method did not say when the user authenticated",
            ));
        }
        None => t,
    };
    if let Some(max_age) = tx.request.max_age
        && t.saturating_sub(auth_time) > max_age.saturating_add(CLOCK_SKEW_SECS)
    {
        return Err(OAuthError::new(ErrorCode::LoginRequired, "the user did not authenticate within max_age"));
    }
    if tx.request.prompt.login && auth_time < tx.started_at.saturating_sub(CLOCK_SKEW_SECS) {
        return Err(OAuthError::new(ErrorCode::LoginRequired, "prompt=login: the user did not authenticate again"));
    }
    Ok(auth_time)
}

/// Called once a method has authenticated the user. Returns the next step and the new session,
/// whose cookie the caller sets.
pub async fn complete_login(
    p: &Provider,
    mut tx: LoginTx,
    who: &Authenticated,
    old: Option<Session>,
) -> (Next, Option<Session>) {
    let Ok(Some(client)) = p.clients.get(&tx.request.client_id).await else { return (Next::Unavailable, None) };
    let auth_time = match check_authenticated(p, &tx, who) {
        Ok(t) => t,
        Err(e) => {
            let _ = tx::drop(p, &tx.id).await;
            return (error_to_client(p, &tx.request, e), None);
        }
    };
    // A new login starts a new session (no fixation). A different person's session on this
    // browser is logged out completely: its services are told and its tokens revoked.
    let previous = match old {
        Some(o) if o.account_id != who.account_id => {
            super::logout::logout_session(p, o).await;
            None
        }
        other => other,
    };
    let s = match session::create(p, who, auth_time, previous.as_ref()).await {
        Ok(s) => s,
        Err(e) => return (unavailable("session", &e), None),
    };
    tx.session = Some(SessionRef { account_id: s.account_id.clone(), sid: s.sid.clone() });
    (continue_with_session(p, &client, tx, s.clone()).await, Some(s))
}

/// Ends a login without success: the client gets the OAuth error.
pub async fn abort(p: &Provider, tx: &LoginTx, why: Abort) -> Next {
    let _ = tx::drop(p, &tx.id).await;
    let (code, desc) = match why {
        Abort::TemporarilyUnavailable => {
            (ErrorCode::TemporarilyUnavailable, "a system the login depends on is unavailable")
        }
        Abort::ServerError => (ErrorCode::ServerError, "the login failed"),
        Abort::AccessDenied => (ErrorCode::AccessDenied, "the user was not authenticated as required"),
    };
    error_to_client(p, &tx.request, OAuthError::new(code, desc))
}

/// With an authenticated session: consent if needed, else the code.
async fn continue_with_session(p: &Provider, client: &Client, mut tx: LoginTx, s: Session) -> Next {
    // prompt=consent always asks again; otherwise trusted first-party clients and recorded
    // consents covering every requested scope skip the page. Scopes of personal data (the
    // personal ID) need a recorded consent even from trusted clients.
    let needed = super::consent::consent_required(&p.scopes, client, &tx.request.scopes);
    let consented = !tx.request.prompt.consent
        && (!needed || p.db.has_consent(&s.account_id, &client.client_id, &tx.request.scopes).await.unwrap_or(false));
    if !consented {
        if tx.request.prompt.none {
            return error_to_client(
                p,
                &tx.request,
                OAuthError::new(ErrorCode::ConsentRequired, "the user must consent"),
            );
        }
        tx.session = Some(SessionRef { account_id: s.account_id.clone(), sid: s.sid.clone() });
        return match tx::save(p, &tx).await {
            Ok(()) => Next::Consent { tx: tx.id },
            Err(e) => e.into(),
        };
    }
    issue(p, tx, s).await
}

/// Called when the user approves on the consent page.
pub async fn consent_given(p: &Provider, tx: LoginTx, s: Session) -> Next {
    let Ok(Some(account)) = p.account_for(&s.account_id, &tx.request.client_id).await else { return Next::Unavailable };
    let released: Vec<String> = p.scopes.released(&account.profile, &tx.request.scopes).keys().cloned().collect();
    if let Err(e) =
        p.db.record_consent(&s.account_id, &tx.request.client_id, &tx.request.scopes, &released, now()).await
    {
        return unavailable("consent", &e);
    }
    issue(p, tx, s).await
}

async fn issue(p: &Provider, tx: LoginTx, mut s: Session) -> Next {
    let _ = tx::drop(p, &tx.id).await;
    if let Err(e) = session::add_client(p, &mut s, &tx.request.client_id).await {
        return unavailable("session", &e);
    }
    let data = CodeData {
        request: tx.request,
        account_id: s.account_id,
        sid: s.sid,
        acr: s.acr,
        amr: s.amr,
        auth_time: s.auth_time,
        cert_thumbprint: s.cert_thumbprint,
    };
    let code = match grants::issue_code(p, &data).await {
        Ok(c) => c,
        Err(e) => return unavailable("authorization code", &e),
    };
    let mut params = vec![("code".to_owned(), code)];
    if let Some(st) = &data.request.state {
        params.push(("state".into(), st.clone()));
    }
    params.push(("iss".into(), p.issuer.clone()));
    Next::Respond { redirect_uri: data.request.redirect_uri, mode: data.request.response_mode, params }
}
