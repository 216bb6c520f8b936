//! An officer's single sign-on sessions: list, and revoke one or all. Revoking goes through the
//! provider's logout, so the session's grants are revoked and its services told (back-channel).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Admin, ApiError, ApiResult, PathOf};
use crate::admin::ops::officers as ops;
use crate::oidc::Provider;

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

#[utoipa::path(get, path = "/officers/{id}/sessions", tag = "sessions",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = Vec<SessionView>)))]
pub async fn list(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> ApiResult<Vec<SessionView>> {
    let sessions = ops::sessions(&p, &c, &id).await?;
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
    Ok(Json(Revoked { revoked: ops::end_sessions(&p, &c, &id).await? }))
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
    ops::end_session(&p, &c, &id, &sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
