//! `POST /api/signatures/verify`: a JSON request, or a raw PDF (`Content-Type:
//! application/pdf`, `?expected_officer=` in the query). Errors are JSON with a stable code.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::signature_input::{Input, InputError, Request};
use super::signatures::{MAX_BODY, Report, SignatureError, SignatureVerifier};
use crate::oidc::resource::presented;
use crate::web::error::{ApiError, ApiFailure};

pub const PATH: &str = "/api/signatures/verify";

/// Its own body limit: signed PDFs are far larger than the service's default.
pub fn router(v: SignatureVerifier) -> Router {
    Router::new().route(PATH, post(verify)).layer(DefaultBodyLimit::max(MAX_BODY)).with_state(v)
}

#[derive(Deserialize)]
struct PdfQuery {
    expected_officer: Option<String>,
}

async fn verify(
    State(v): State<SignatureVerifier>,
    headers: HeaderMap,
    query: Result<Query<PdfQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Report>, ApiFailure> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let message = format!("the request is larger than {MAX_BODY} bytes");
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", r.body_text())
        }
    })?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    // Decoded now, refused only once the caller is known (so strangers learn nothing).
    let (input, expected) = if content_type.starts_with("application/pdf") {
        (Ok(Input::Pdf { pdf: body.to_vec() }), query.ok().and_then(|q| q.0.expected_officer))
    } else {
        match serde_json::from_slice::<Request>(&body) {
            Ok(request) => {
                let expected = request.expected_officer.clone();
                (request.into_input(), expected)
            }
            Err(e) => (Err(InputError { code: "invalid_request", message: format!("invalid JSON: {e}") }), None),
        }
    };
    // A malformed DPoP header counts as no credentials (401 below).
    let token = presented(&headers, None, "POST", v.oidc.endpoint(PATH)).ok().flatten();
    v.verify(token.as_ref(), input, expected).await.map(Json).map_err(failure)
}

fn failure(e: SignatureError) -> ApiFailure {
    let message = e.to_string();
    match e {
        SignatureError::Service(e) => e.into(),
        // The request's shape is wrong (400), or its content cannot be read (422).
        SignatureError::Input(e) if e.code == "invalid_request" => {
            ApiError::new(StatusCode::BAD_REQUEST, e.code, e.message).into()
        }
        SignatureError::Input(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code, e.message).into(),
        SignatureError::TimedOut => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_complex", message).into(),
        SignatureError::Unavailable => ApiError::unavailable("the certificate registry").into(),
        SignatureError::Internal(detail) => {
            tracing::error!(%detail, "signature verification failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error").into()
        }
    }
}
