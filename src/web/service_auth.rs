//! The HTTP face of the refusals every service API shares (token, scope, rate limit), kept
//! apart from `error` so the error type stays free of the provider's modules.

use axum::http::{HeaderValue, StatusCode, header};

use super::error::{ApiError, ApiFailure};
use crate::oidc::service::ServiceAuthError;

/// The refusals every service API shares (token, scope, rate limit).
impl From<ServiceAuthError> for ApiFailure {
    fn from(e: ServiceAuthError) -> Self {
        let message = e.to_string();
        match e {
            ServiceAuthError::Unauthenticated(_) => ApiFailure(
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message),
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))),
            ),
            ServiceAuthError::MissingScope { .. } => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message).into(),
            ServiceAuthError::RateLimited(secs) => ApiFailure(
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message),
                Some((header::RETRY_AFTER, HeaderValue::from(secs))),
            ),
            ServiceAuthError::Unavailable => ApiError::unavailable("the rate-limit store").into(),
        }
    }
}
