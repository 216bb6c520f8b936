//! An officer's single sign-on sessions: list, and revoke one or all. Revoking goes through the
//! provider's logout, so the session's grants are revoked and its services told (back-channel).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::audited;
use super::{Admin, ApiError, ApiResult, PathOf};
use crate::audit::Action;
use crate::officers::DirectoryError;
use crate::oidc::Provider;
use crate::oidc::logout::logout_session;
use crate::oidc::session;

const ID: &str = "Officer id";

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// The session's id on this provider (not the per-client `sid` services see).
    sid: String,
    auth_time: i64,
    acr: String,
    amr: Vec<String>,
    /// Services that received tokens in this session.
    clients: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    revoked: usize,
}

/// Ends every session of the account (also used when an officer is suspended or disabled).
pub async fn end_all(p: &Provider, account_id: &str) -> Result<usize, ApiError> {
    let sessions = session::list(p, account_id).await?;
    let n = sessions.len();
    for s in sessions {
        logout_session(p, s).await;
    }
    Ok(n)
}

#[utoipa::path(get, path = "/officers/{id}/sessions", tag = "sessions",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = Vec<SessionView>)))]
pub async fn list(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> ApiResult<Vec<SessionView>> {
    c.officer_in_scope(&p, &id).await?;
    let sessions = session::list(&p, &id).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView { sid: s.sid, auth_time: s.auth_time, acr: s.acr, amr: s.amr, clients: s.clients })
            .collect(),
    ))
}

/// Ends every session of the officer.
#[utoipa::path(delete, path = "/officers/{id}/sessions", tag = "sessions",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = Revoked)))]
pub async fn revoke_all(State(p): State<Provider>, Admin(c): Admin, PathOf(id): PathOf<String>) -> ApiResult<Revoked> {
    c.officer_in_scope(&p, &id).await?;
    let revoked = end_all(&p, &id).await?;
    audited(&p, &c, Action::AdminSessionRevoked, ("officer", &id), json!({ "all": true, "revoked": revoked })).await?;
    Ok(Json(Revoked { revoked }))
}

/// Ends one session of the officer.
#[utoipa::path(delete, path = "/officers/{id}/sessions/{sid}", tag = "sessions",
    params(("id" = String, Path, description = ID), ("sid" = String, Path, description = "Session id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf((id, sid)): PathOf<(String, String)>,
) -> Result<StatusCode, ApiError> {
    c.officer_in_scope(&p, &id).await?;
    let s = session::find_by_sid(&p, &id, &sid).await?.ok_or(DirectoryError::NotFound("session"))?;
    logout_session(&p, s).await;
    audited(&p, &c, Action::AdminSessionRevoked, ("officer", &id), json!({ "all": false })).await?;
    Ok(StatusCode::NO_CONTENT)
}
