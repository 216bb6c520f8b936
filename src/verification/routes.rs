//! `POST /api/population/verify`: JSON in, JSON out; errors are JSON with a stable `code`.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};

use super::{Keyed, Report, Verification, VerificationError};
use crate::oidc::resource::presented;
use crate::web::error::{ApiError, ApiFailure};

pub const PATH: &str = "/api/population/verify";

pub fn router(v: Verification) -> Router {
    Router::new().route(PATH, post(verify)).with_state(v)
}

async fn verify(
    State(v): State<Verification>,
    headers: HeaderMap,
    body: Result<Json<Keyed>, JsonRejection>,
) -> Result<Json<Report>, ApiFailure> {
    let Json(keyed) = body.map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid", r.body_text()))?;
    // A malformed DPoP header counts as no credentials (401 below).
    let token = presented(&headers, None, "POST", v.oidc.endpoint(PATH)).ok().flatten();
    v.verify(token.as_ref(), keyed).await.map(Json).map_err(failure)
}

fn failure(e: VerificationError) -> ApiFailure {
    let message = e.to_string();
    match e {
        VerificationError::Service(e) => e.into(),
        VerificationError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message).into(),
        VerificationError::Invalid { .. } => ApiError::new(StatusCode::BAD_REQUEST, "invalid", message).into(),
        VerificationError::Unavailable => ApiError::unavailable("the population database").into(),
        VerificationError::Internal(detail) => {
            tracing::error!(%detail, "population verification failed");
            ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", "the population database gave an unusable answer")
                .into()
        }
    }
}
