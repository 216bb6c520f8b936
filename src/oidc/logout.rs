//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0): every client that shared the session gets a signed
//! logout token, POSTed with retries; each delivery's outcome is recorded.

use std::time::Duration;

use serde_json::{Value, json};

use super::error::OAuthError;
use super::provider::Provider;
use super::request::Params;
use super::session::{self, Session};
use crate::clock::unix_now;
use crate::crypto::random_token;
use crate::store::DbError;

pub enum LogoutNext {
    /// Logged out: go to the client's registered post-logout URI (with state)...
    Redirect(String),
    /// ...or show our logged-out page.
    LoggedOut,
    /// No trustworthy hint: ask the user to confirm (prevents forced logout by a third party).
    Confirm {
        token: String,
    },
    ErrorPage(OAuthError),
}

/// Validates the request; logs out at once when an `id_token_hint` proves the caller is the
/// client the user is logged in to, otherwise asks for confirmation.
pub async fn end_session(p: &Provider, params: &Params, current: Option<Session>) -> LogoutNext {
    let hint_claims = match params.get("id_token_hint") {
        // Expired hints are fine here (the point is who the user was), forged ones are not.
        Some(h) => match p.keys.verify_jwt(h, "JWT", unix_now()) {
            Ok(c) => Some(c),
            Err(_) => {
                return LogoutNext::ErrorPage(OAuthError::invalid_request(
                    "id_token_hint is not an ID token from this provider",
                ));
            }
        },
        None => None,
    };
    let hint_client = hint_claims.as_ref().and_then(|c| c.get("aud")).and_then(Value::as_str).map(str::to_owned);
    let client_id = match (params.get("client_id"), &hint_client) {
        (Some(a), Some(b)) if a != b => {
            return LogoutNext::ErrorPage(OAuthError::invalid_request("client_id does not match id_token_hint"));
        }
        (Some(a), _) => Some(a.clone()),
        (None, b) => b.clone(),
    };
    let mut target = None;
    if let Some(uri) = params.get("post_logout_redirect_uri") {
        let Some(cid) = &client_id else {
            return LogoutNext::ErrorPage(OAuthError::invalid_request(
                "post_logout_redirect_uri needs id_token_hint or client_id",
            ));
        };
        match p.clients.get(cid).await {
            Ok(Some(c)) if c.has_post_logout_redirect_uri(uri) => {
                let mut u = match url::Url::parse(uri) {
                    Ok(u) => u,
                    Err(_) => {
                        return LogoutNext::ErrorPage(OAuthError::invalid_request("bad post_logout_redirect_uri"));
                    }
                };
                if let Some(state) = params.get("state") {
                    u.query_pairs_mut().append_pair("state", state);
                }
                target = Some(u.to_string());
            }
            Ok(_) => {
                return LogoutNext::ErrorPage(OAuthError::invalid_request(
                    "post_logout_redirect_uri is not registered for this client",
                ));
            }
            Err(_) => return LogoutNext::ErrorPage(OAuthError::unavailable()),
        }
    }
    // The hint carries the sid as its client saw it (derived per client), so compare with the
    // current session's sid derived for that same client.
    let hint_matches_session = match (&hint_claims, &current, &hint_client) {
        (Some(c), Some(s), Some(aud)) => {
            c.get("sid").and_then(Value::as_str) == Some(p.client_sid(aud, &s.sid).as_str())
        }
        (Some(_), Some(_), None) => false,
        (_, None, _) => true,
        (None, Some(_), _) => false,
    };
    if !hint_matches_session {
        let token = random_token();
        let pending = json!({ "target": target });
        if p.kv.set(&format!("logout:{token}"), pending.to_string().as_bytes(), p.tx_ttl).await.is_err() {
            return LogoutNext::ErrorPage(OAuthError::unavailable());
        }
        return LogoutNext::Confirm { token };
    }
    if let Some(s) = current {
        logout_session(p, s).await;
    }
    target.map(LogoutNext::Redirect).unwrap_or(LogoutNext::LoggedOut)
}

/// The user confirmed on our page.
pub async fn confirm(p: &Provider, token: &str, current: Option<Session>) -> LogoutNext {
    let pending =
        p.kv.take(&format!("logout:{token}"))
            .await
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let Some(pending) = pending else {
        return LogoutNext::ErrorPage(OAuthError::invalid_request("this logout request has expired; please try again"));
    };
    if let Some(s) = current {
        logout_session(p, s).await;
    }
    match pending.get("target").and_then(Value::as_str) {
        Some(t) => LogoutNext::Redirect(t.to_owned()),
        None => LogoutNext::LoggedOut,
    }
}

/// Ends the session, revokes what it issued, and notifies its clients in the background.
pub async fn logout_session(p: &Provider, s: Session) {
    let _ = session::end(p, &s).await;
    let _ = p.db.revoke_grants_of_session(&s.sid, unix_now()).await;
    for client_id in s.clients.clone() {
        let p = p.clone();
        let s = s.clone();
        tokio::spawn(async move { notify(&p, &client_id, &s).await });
    }
}

const ATTEMPTS: u32 = 4;

async fn notify(p: &Provider, client_id: &str, s: &Session) {
    let Ok(Some(client)) = p.clients.get(client_id).await else { return };
    let Some(uri) = client.backchannel_logout_uri.clone() else { return };
    let iat = unix_now();
    let claims = json!({
        "iss": p.issuer,
        "aud": client.client_id,
        "iat": iat,
        "exp": iat + 120,
        "jti": random_token(),
        "sub": p.subject_for(&client, &s.account_id),
        "sid": p.client_sid(&client.client_id, &s.sid),
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    let Ok(token) = p.keys.sign_jwt(p.id_token_alg(&client), "logout+jwt", &claims) else { return };
    let id = uuid::Uuid::now_v7().to_string();
    let mut last_error = None;
    for attempt in 1..=ATTEMPTS {
        let result =
            p.http.post(&uri).form(&[("logout_token", token.as_str())]).timeout(Duration::from_secs(5)).send().await;
        match result {
            Ok(r) if r.status().is_success() => {
                let _ = record(p, &id, client_id, &s.sid, attempt, "delivered", None).await;
                metrics::counter!("backchannel_logout_total", "outcome" => "delivered").increment(1);
                return;
            }
            Ok(r) => last_error = Some(format!("HTTP {}", r.status().as_u16())),
            Err(e) => last_error = Some(if e.is_timeout() { "timeout".into() } else { "connection failed".into() }),
        }
        let _ = record(p, &id, client_id, &s.sid, attempt, "retrying", last_error.as_deref()).await;
        // Exponential backoff: 0.5 s, 1 s, 2 s.
        tokio::time::sleep(Duration::from_millis(500 << (attempt - 1))).await;
    }
    tracing::warn!(client_id, error = ?last_error, "back-channel logout not delivered");
    metrics::counter!("backchannel_logout_total", "outcome" => "failed").increment(1);
    let _ = record(p, &id, client_id, &s.sid, ATTEMPTS, "failed", last_error.as_deref()).await;
}

async fn record(
    p: &Provider,
    id: &str,
    client_id: &str,
    sid: &str,
    attempts: u32,
    status: &str,
    error: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO logout_deliveries (id, client_id, sid, attempts, status, last_error, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, status = excluded.status, last_error = excluded.last_error, updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(client_id)
    .bind(sid)
    .bind(attempts as i64)
    .bind(status)
    .bind(error)
    .bind(unix_now())
    .execute(p.db.pool())
    .await?;
    Ok(())
}
