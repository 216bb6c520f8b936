//! Citizen login as one of the provider's login methods: its `acr` classes (the e-ID account
//! levels), its registration, and the scope releasing the personal ID. No HTTP here.

use super::claims::{PERSONAL_ID_CLAIM, PERSONAL_ID_SCOPE};
use super::{AccountLevel, EidIdentity};
use crate::oidc::acr::{Class, Level, Party};
use crate::oidc::claims::Scope;
use crate::oidc::login::{Abort, LoginMethod};
use crate::web::page::Text;

pub const METHOD: &str = "vneid";

/// National e-ID account at level 1 (basic identification).
pub const EID1: &str = "urn:xacthuc:acr:eid1";
/// National e-ID account at level 2 (identity verified in person, Decree 69/2024).
pub const EID2: &str = "urn:xacthuc:acr:eid2";

pub const CLASSES: &[Class] = &[
    Class {
        acr: EID1,
        level: Level::new(Party::Citizen, 1),
        name: Text::new("Định danh điện tử mức 1", "e-ID level 1"),
    },
    Class {
        acr: EID2,
        level: Level::new(Party::Citizen, 2),
        name: Text::new("Định danh điện tử mức 2", "e-ID level 2"),
    },
];

pub fn method() -> LoginMethod {
    LoginMethod {
        id: METHOD,
        name: Text::new(
            "Đăng nhập bằng tài khoản định danh điện tử VNeID",
            "Log in with your VNeID electronic identity",
        ),
        hint: Some(Text::new(
            "Bạn sẽ được chuyển đến hệ thống định danh điện tử quốc gia, rồi quay lại đây.",
            "You will be taken to the national electronic identification system, then brought back here.",
        )),
        classes: CLASSES,
        start: "/login/vneid",
    }
}

/// The personal ID is personal data: a scope of its own, with a recorded consent even for
/// trusted clients (Law 91/2025/QH15).
pub fn personal_id_scope() -> Scope {
    Scope {
        name: PERSONAL_ID_SCOPE,
        claims: &[PERSONAL_ID_CLAIM],
        describe: Some(Text::new("Số định danh cá nhân (số CCCD)", "Personal ID number (citizen ID card number)")),
        always_consent: true,
    }
}

/// The e-ID level to ask for: level 2 when the service accepts nothing weaker.
pub fn level_to_ask(min_strength: Option<u8>) -> Option<AccountLevel> {
    (min_strength.unwrap_or(0) >= 2).then_some(AccountLevel::Level2)
}

pub fn acr_of(eid: &EidIdentity) -> &'static str {
    match eid.level {
        AccountLevel::Level2 => EID2,
        AccountLevel::Level1 => EID1,
    }
}

/// How a failure looks to the service if the citizen gives up.
pub fn abort_of(rp: super::RpError) -> Abort {
    match rp {
        super::RpError::TemporarilyUnavailable => Abort::TemporarilyUnavailable,
        super::RpError::AccessDenied => Abort::AccessDenied,
        super::RpError::ServerError => Abort::ServerError,
    }
}
