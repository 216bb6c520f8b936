//! Why a citizen could not be verified against the population database, and what to tell them.

use serde::Serialize;

use crate::citizens::resilience::Guarded;
use crate::citizens::upstream::Unavailability;
use crate::citizens::{Message, RpError};

/// Which match rule failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchField {
    PersonalId,
    Name,
    BirthDate,
    /// The database itself reported "information does not match" for the folded name or the
    /// birth year we sent, without saying which.
    NameOrBirthYear,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum VerifyError {
    #[error("no population record for this personal ID")]
    NotFound,
    #[error("population record does not match the e-ID: {field:?}")]
    Mismatch { field: MismatchField },
    #[error("population record says the person is deceased")]
    Deceased,
    #[error("the person's identity card is revoked")]
    CardRevoked,
    #[error("population database unavailable ({0:?})")]
    Unavailable(Unavailability),
    /// Our own bound on lookups in flight is reached.
    #[error("too many population lookups in flight")]
    Overloaded,
    #[error("invalid answer from the population database: {0}")]
    InvalidResponse(String),
    /// The platform refused our request itself (API key, request format): a configuration
    /// problem on our side, not the citizen's.
    #[error("the population database refused the request: {0}")]
    Rejected(String),
}

impl VerifyError {
    pub fn rp_error(&self) -> RpError {
        match self {
            VerifyError::NotFound | VerifyError::Mismatch { .. } | VerifyError::Deceased | VerifyError::CardRevoked => {
                RpError::AccessDenied
            }
            VerifyError::Unavailable(_) | VerifyError::Overloaded => RpError::TemporarilyUnavailable,
            VerifyError::InvalidResponse(_) | VerifyError::Rejected(_) => RpError::ServerError,
        }
    }

    /// Whether retrying later can help (the data problems need the citizen to act first).
    pub fn retryable(&self) -> bool {
        matches!(self, VerifyError::Unavailable(_) | VerifyError::Overloaded | VerifyError::InvalidResponse(_))
    }

    pub fn message(&self) -> Message {
        match self {
            VerifyError::NotFound => Message {
                vi: "Không tìm thấy thông tin của bạn trong Cơ sở dữ liệu quốc gia về dân cư. Vui lòng liên hệ \
                     Công an xã, phường nơi cư trú để được kiểm tra và cập nhật thông tin, sau đó đăng nhập lại.",
                en: "Your details were not found in the National Population Database. Please contact the police \
                     of the commune or ward where you live to have them checked and updated, then log in again.",
            },
            VerifyError::Mismatch { field: MismatchField::Name } => Message {
                vi: "Họ và tên trên tài khoản định danh điện tử không khớp với Cơ sở dữ liệu quốc gia về dân cư \
                     (ví dụ: thiếu dấu hoặc sai chính tả). Vui lòng liên hệ Công an xã, phường nơi cư trú để \
                     điều chỉnh thông tin dân cư, sau đó đăng nhập lại.",
                en: "The full name on your e-ID account does not match the National Population Database (for \
                     example, missing diacritics or a misspelling). Please contact the police of the commune or \
                     ward where you live to correct your population data, then log in again.",
            },
            VerifyError::Mismatch { field: MismatchField::BirthDate } => Message {
                vi: "Ngày sinh trên tài khoản định danh điện tử không khớp với Cơ sở dữ liệu quốc gia về dân cư. \
                     Vui lòng liên hệ Công an xã, phường nơi cư trú để điều chỉnh thông tin, sau đó đăng nhập lại.",
                en: "The date of birth on your e-ID account does not match the National Population Database. \
                     Please contact the police of the commune or ward where you live to correct it, then log in \
                     again.",
            },
            VerifyError::Mismatch { .. } => Message {
                vi: "Thông tin trên tài khoản định danh điện tử không khớp với Cơ sở dữ liệu quốc gia về dân cư. \
                     Vui lòng liên hệ Công an xã, phường nơi cư trú để kiểm tra và điều chỉnh thông tin, sau đó \
                     đăng nhập lại.",
                en: "The details on your e-ID account do not match the National Population Database. Please \
                     contact the police of the commune or ward where you live to check and correct them, then log \
                     in again.",
            },
            VerifyError::Deceased => Message {
                vi: "Cơ sở dữ liệu quốc gia về dân cư ghi nhận người này đã mất, nên không thể đăng nhập. Nếu \
                     thông tin này không đúng, vui lòng liên hệ Công an xã, phường nơi cư trú để điều chỉnh.",
                en: "The National Population Database records this person as deceased, so the login cannot \
                     proceed. If this is wrong, please contact the police of the commune or ward where you live \
                     to have it corrected.",
            },
            VerifyError::CardRevoked => Message {
                vi: "Thẻ căn cước của bạn đã bị thu hồi theo Cơ sở dữ liệu quốc gia về dân cư. Vui lòng liên hệ \
                     cơ quan Công an để được cấp lại thẻ, sau đó đăng nhập lại.",
                en: "Your identity card has been revoked according to the National Population Database. Please \
                     contact the police to have a new card issued, then log in again.",
            },
            VerifyError::Unavailable(_) | VerifyError::Overloaded => Message {
                vi: "Cơ sở dữ liệu quốc gia về dân cư tạm thời không phản hồi. Vui lòng thử lại sau ít phút.",
                en: "The National Population Database is temporarily not responding. Please try again in a few \
                     minutes.",
            },
            VerifyError::InvalidResponse(_) | VerifyError::Rejected(_) => Message {
                vi: "Không thể đối chiếu thông tin với Cơ sở dữ liệu quốc gia về dân cư do lỗi hệ thống. Vui lòng \
                     thử lại sau; nếu lỗi lặp lại, hãy liên hệ bộ phận hỗ trợ của cổng dịch vụ công tỉnh.",
                en: "Your details could not be checked against the National Population Database because of a \
                     system error. Please try again later; if this keeps happening, contact the provincial \
                     portal's support.",
            },
        }
    }

    /// Whether this failure says the database is unhealthy (counts towards opening the circuit).
    pub(crate) fn is_upstream_fault(&self) -> bool {
        matches!(self, VerifyError::Unavailable(_) | VerifyError::InvalidResponse(_))
    }
}

impl From<Guarded<VerifyError>> for VerifyError {
    fn from(g: Guarded<VerifyError>) -> Self {
        match g {
            Guarded::CircuitOpen => VerifyError::Unavailable(Unavailability::CircuitOpen),
            Guarded::Overloaded => VerifyError::Overloaded,
            Guarded::TimedOut => VerifyError::Unavailable(Unavailability::Timeout),
            Guarded::Inner(e) => e,
        }
    }
}
