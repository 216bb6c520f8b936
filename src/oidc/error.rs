//! OAuth 2.0 / OIDC errors in their wire format (RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::{DbError, KvError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    InvalidRequestUri,
    InvalidRequestObject,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidToken,
    UnsupportedTokenType,
    /// OpenID Connect Core Unmet Authentication Requirements 1.0: an essential `acr` cannot be met.
    UnmetAuthenticationRequirements,
    /// RFC 9449 §5: the DPoP proof is missing where required, malformed or fails a check.
    InvalidDpopProof,
    /// RFC 9449 §8: retry with the server nonce of the `DPoP-Nonce` header.
    UseDpopNonce,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }
}

/// An OAuth error. At the token-style endpoints it renders as JSON; the authorization endpoint
/// turns it into a redirect (or an error page when the redirect URI is not trusted).
#[derive(Clone, Debug, Serialize)]
pub struct OAuthError {
    pub error: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl OAuthError {
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        Self { error, error_description: Some(description.into()) }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }

    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }

    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }

    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "internal error")
    }

    pub fn unavailable() -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, "temporarily unavailable; retry shortly")
    }

    fn status(&self) -> StatusCode {
        match self.error {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error.as_str())?;
        if let Some(d) = &self.error_description {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = (status, Json(&self)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self.error {
            ErrorCode::InvalidClient => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"xacthuc\""));
            }
            ErrorCode::InvalidToken => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
            }
            ErrorCode::TemporarilyUnavailable => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(crate::web::error::RETRY_AFTER_SECS));
            }
            _ => {}
        }
        resp
    }
}

impl From<KvError> for OAuthError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Unavailable(d) => {
                tracing::warn!(detail = %d, "session store unavailable");
                Self::unavailable()
            }
            KvError::Misuse(d) => {
                tracing::error!(detail = %d, "session store misuse");
                Self::server_error()
            }
        }
    }
}

impl From<DbError> for OAuthError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(d) => {
                tracing::warn!(detail = %d, "database unavailable");
                Self::unavailable()
            }
            other => {
                tracing::error!(error = %other, "database error");
                Self::server_error()
            }
        }
    }
}
