//! The one error type of the HTTP edge. API errors are JSON with a stable `code` and a human
//! `message`; internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::{DbError, KvError};

/// Seconds a client should wait before retrying when a backing store is down.
pub const RETRY_AFTER_SECS: u32 = 2;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub fn unavailable(what: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            format!("{what} is temporarily unavailable; retry shortly"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(Body { code: self.code, message: &self.message })).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        resp
    }
}

impl From<KvError> for ApiError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Unavailable(detail) => {
                tracing::warn!(%detail, "session store unavailable");
                Self::unavailable("the session store")
            }
            KvError::Misuse(detail) => {
                tracing::error!(%detail, "session store misuse");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
            }
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                Self::unavailable("the database")
            }
            other => {
                tracing::error!(error = %other, "database error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
            }
        }
    }
}

/// Used by the catch-panic layer: a panic becomes a plain JSON 500, with no trace sent.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error").into_response()
}

/// Fallback for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// An API error with the header its status calls for (`WWW-Authenticate`, `Retry-After`).
#[derive(Debug)]
pub struct ApiFailure(pub ApiError, pub Option<(header::HeaderName, HeaderValue)>);

impl From<ApiError> for ApiFailure {
    fn from(e: ApiError) -> Self {
        ApiFailure(e, None)
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let mut r = self.0.into_response();
        if let Some((name, value)) = self.1 {
            r.headers_mut().insert(name, value);
        }
        r
    }
}
