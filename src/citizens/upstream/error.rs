//! What can go wrong in a login through the national e-ID, and what to tell whom.

use serde::Serialize;

use super::identity::AccountType;
use crate::citizens::resilience::Guarded;
use crate::citizens::{AccountLevel, Message, RpError};

/// Why the e-ID could not be reached or answered unusably at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unavailability {
    /// Our circuit breaker is open after repeated failures; no call was made.
    CircuitOpen,
    Timeout,
    /// HTTP 503: the e-ID's own overload page ("Hệ thống đang bảo trì").
    Maintenance,
    /// Another 5xx.
    ServerError,
    Network,
    /// The e-ID sent the citizen back with `server_error` / `temporarily_unavailable`.
    ReportedByUpstream,
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the national e-ID is unavailable ({0:?})")]
    Unavailable(Unavailability),
    /// Our own bound on calls in flight is reached; refused at once rather than queued.
    #[error("too many calls to the national e-ID in flight")]
    Overloaded,
    /// The e-ID sent the citizen back with an error: cancelled, or the account does not meet
    /// the requested level (`unmet_authentication_requirements`).
    #[error("the national e-ID refused the login: {error}")]
    Denied { error: String, description: Option<String> },
    /// The ID token's `acr` is below what was asked: never accept a weaker login.
    #[error("account level {got:?} is below the required {required:?}")]
    LevelTooLow { required: AccountLevel, got: AccountLevel },
    /// The token endpoint refused our code (`invalid_grant`, `invalid_client`, …).
    #[error("the national e-ID refused the authorization code: {error}")]
    CodeRejected { error: String, description: Option<String> },
    /// Signature, issuer, audience, expiry or nonce check failed.
    #[error("ID token rejected: {0}")]
    TokenRejected(String),
    /// Malformed JSON, missing fields, unparsable claims.
    #[error("invalid answer from the national e-ID: {0}")]
    InvalidResponse(String),
    /// The callback's `state` is not the one we sent: a forged or crossed callback.
    #[error("state mismatch in the e-ID callback")]
    StateMismatch,
    /// The pending login is older than the configured lifetime.
    #[error("the login transaction expired")]
    Expired,
    /// The person logged in at the e-ID with a kind of account (a citizen's, an enterprise's,
    /// an organisation's) that the service does not accept.
    #[error("e-ID account type {0:?} is not accepted by this service")]
    UnsupportedAccount(AccountType),
    #[error("upstream configuration: {0}")]
    Config(String),
}

impl UpstreamError {
    /// The OAuth error for the relying party if the login is abandoned.
    pub fn rp_error(&self) -> RpError {
        match self {
            UpstreamError::Unavailable(_) | UpstreamError::Overloaded => RpError::TemporarilyUnavailable,
            UpstreamError::Denied { .. } | UpstreamError::LevelTooLow { .. } | UpstreamError::UnsupportedAccount(_) => {
                RpError::AccessDenied
            }
            UpstreamError::CodeRejected { .. }
            | UpstreamError::TokenRejected(_)
            | UpstreamError::InvalidResponse(_)
            | UpstreamError::StateMismatch
            | UpstreamError::Expired
            | UpstreamError::Config(_) => RpError::ServerError,
        }
    }

    /// Whether the citizen page should offer "try again" (same login, later or now).
    pub fn retryable(&self) -> bool {
        !matches!(self, UpstreamError::LevelTooLow { .. } | UpstreamError::Config(_)) && !self.is_level_denial()
    }

    /// Seconds a page or `Retry-After` should suggest before retrying, when it is worth waiting.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            UpstreamError::Unavailable(_) | UpstreamError::Overloaded => Some(30),
            _ => None,
        }
    }

    fn is_level_denial(&self) -> bool {
        matches!(self, UpstreamError::Denied { error, .. } if error == "unmet_authentication_requirements")
    }

    /// What to tell the citizen.
    pub fn message(&self) -> Message {
        match self {
            UpstreamError::Unavailable(_) => Message {
                vi: "Hệ thống định danh điện tử quốc gia (VNeID) tạm thời không phản hồi. \
                     Vui lòng thử lại sau ít phút; bạn không cần nhập lại thông tin.",
                en: "The national e-ID (VNeID) is temporarily not responding. \
                     Please try again in a few minutes; you do not need to re-enter anything.",
            },
            UpstreamError::Overloaded => Message {
                vi: "Hiện có rất nhiều người đăng nhập cùng lúc. Vui lòng thử lại sau ít phút.",
                en: "Very many people are logging in right now. Please try again in a few minutes.",
            },
            UpstreamError::LevelTooLow { .. } => LEVEL_2_REQUIRED,
            e if e.is_level_denial() => LEVEL_2_REQUIRED,
            UpstreamError::Denied { .. } => Message {
                vi: "Đăng nhập bằng VNeID đã bị hủy hoặc không được chấp thuận. Bạn có thể đăng nhập lại.",
                en: "The VNeID login was cancelled or not approved. You can log in again.",
            },
            UpstreamError::StateMismatch | UpstreamError::Expired => Message {
                vi: "Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Vui lòng đăng nhập lại từ đầu.",
                en: "Your login session expired or is not valid. Please start the login again.",
            },
            UpstreamError::UnsupportedAccount(AccountType::Citizen) => Message {
                vi: "Dịch vụ này dành cho doanh nghiệp và tổ chức. Vui lòng đăng nhập lại và chọn \
                     tài khoản định danh điện tử của doanh nghiệp hoặc tổ chức.",
                en: "This service is for enterprises and organisations. Please log in again and \
                     choose the enterprise's or organisation's e-ID account.",
            },
            UpstreamError::UnsupportedAccount(_) => Message {
                vi: "Dịch vụ này dành cho công dân. Vui lòng đăng nhập lại bằng tài khoản định danh \
                     điện tử cá nhân, không phải tài khoản của doanh nghiệp hoặc tổ chức.",
                en: "This service is for citizens. Please log in again with your personal e-ID \
                     account, not an enterprise's or organisation's.",
            },
            UpstreamError::CodeRejected { .. }
            | UpstreamError::TokenRejected(_)
            | UpstreamError::InvalidResponse(_)
            | UpstreamError::Config(_) => Message {
                vi: "Không thể xác nhận kết quả đăng nhập từ VNeID. Vui lòng đăng nhập lại; \
                     nếu lỗi lặp lại, hãy liên hệ bộ phận hỗ trợ của cổng dịch vụ công tỉnh.",
                en: "The login result from VNeID could not be confirmed. Please log in again; \
                     if this keeps happening, contact the provincial portal's support.",
            },
        }
    }

    /// Whether this failure says the e-ID is unhealthy (counts towards opening the circuit).
    pub(crate) fn is_upstream_fault(&self) -> bool {
        matches!(self, UpstreamError::Unavailable(_) | UpstreamError::InvalidResponse(_))
    }
}

const LEVEL_2_REQUIRED: Message = Message {
    vi: "Dịch vụ này yêu cầu tài khoản định danh điện tử mức độ 2. Vui lòng nâng cấp tài khoản \
         lên mức độ 2 (tại cơ quan Công an nơi cư trú hoặc trên ứng dụng VNeID) rồi đăng nhập lại.",
    en: "This service requires a level-2 e-ID account. Please upgrade your account to level 2 \
         (at your local police office or in the VNeID app) and log in again.",
};

impl From<Guarded<UpstreamError>> for UpstreamError {
    fn from(g: Guarded<UpstreamError>) -> Self {
        match g {
            Guarded::CircuitOpen => UpstreamError::Unavailable(Unavailability::CircuitOpen),
            Guarded::Overloaded => UpstreamError::Overloaded,
            Guarded::TimedOut => UpstreamError::Unavailable(Unavailability::Timeout),
            Guarded::Inner(e) => e,
        }
    }
}

impl From<&super::http::HttpError> for UpstreamError {
    fn from(e: &super::http::HttpError) -> Self {
        use super::http::HttpError;
        match e {
            HttpError::Timeout => UpstreamError::Unavailable(Unavailability::Timeout),
            HttpError::Connect(_) | HttpError::Other(_) => UpstreamError::Unavailable(Unavailability::Network),
            HttpError::Status(503) => UpstreamError::Unavailable(Unavailability::Maintenance),
            HttpError::Status(_) => UpstreamError::Unavailable(Unavailability::ServerError),
            HttpError::TooLarge => UpstreamError::InvalidResponse(e.to_string()),
        }
    }
}
