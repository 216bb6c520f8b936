//! `POST /api/population/verify`: JSON in, JSON out; errors are JSON with a stable `code`.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::{Keyed, Report, Verification, VerificationError};
use crate::oidc::resource::bearer;
use crate::web::error::ApiError;

pub const PATH: &str = "/api/population/verify";

pub fn router(v: Verification) -> Router {
    Router::new().route(PATH, post(verify)).with_state(v)
}

async fn verify(
    State(v): State<Verification>,
    headers: HeaderMap,
    body: Result<Json<Keyed>, JsonRejection>,
) -> Result<Json<Report>, Failure> {
    let Json(keyed) =
        body.map_err(|r| Failure::from(ApiError::new(StatusCode::BAD_REQUEST, "invalid", r.body_text())))?;
    let token = bearer(&headers, None);
    Ok(Json(v.verify(token.as_deref(), keyed).await?))
}

/// An API error, with the headers its status calls for (`WWW-Authenticate`, `Retry-After`).
struct Failure(ApiError, Option<(header::HeaderName, HeaderValue)>);

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure(e, None)
    }
}

impl From<VerificationError> for Failure {
    fn from(e: VerificationError) -> Self {
        let message = e.to_string();
        match e {
            VerificationError::Unauthenticated(_) => Failure(
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message),
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))),
            ),
            VerificationError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message).into(),
            VerificationError::Invalid { .. } => ApiError::new(StatusCode::BAD_REQUEST, "invalid", message).into(),
            VerificationError::RateLimited(secs) => Failure(
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message),
                Some((header::RETRY_AFTER, HeaderValue::from(secs))),
            ),
            VerificationError::Unavailable => ApiError::unavailable("the population database").into(),
            VerificationError::Internal(detail) => {
                tracing::error!(%detail, "population verification failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream_error",
                    "the population database gave an unusable answer",
                )
                .into()
            }
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut r = self.0.into_response();
        if let Some((name, value)) = self.1 {
            r.headers_mut().insert(name, value);
        }
        r
    }
}
