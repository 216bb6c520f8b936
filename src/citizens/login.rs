//! Login through the national e-ID as one of the provider's login methods: its `acr` classes
//! (the e-ID account levels, for citizens and for organisations), its registration, and the
//! scopes releasing the personal ID and an organisation's data. No HTTP here.

use super::AccountLevel;
use super::claims::{PERSONAL_ID_CLAIM, PERSONAL_ID_SCOPE};
use super::organisations::{ORGANISATION_CLAIMS, ORGANISATION_SCOPE};
use super::upstream::EidLogin;
use crate::oidc::acr::{Class, Level, Party, Requirement};
use crate::oidc::claims::Scope;
use crate::oidc::login::{Abort, LoginMethod};
use crate::web::page::Text;

pub const METHOD: &str = "vneid";

/// National e-ID account at level 1 (basic identification).
pub const EID1: &str = "urn:xacthuc:acr:eid1";
/// National e-ID account at level 2 (identity verified in person, Decree 69/2024).
pub const EID2: &str = "urn:xacthuc:acr:eid2";
/// An enterprise's or organisation's e-ID account at level 1.
pub const ORG1: &str = "urn:xacthuc:acr:org-eid1";
/// An enterprise's or organisation's e-ID account at level 2.
pub const ORG2: &str = "urn:xacthuc:acr:org-eid2";

/// Every class the e-ID method can reach: a citizen's account or an organisation's, whichever
/// the person chooses at the e-ID. Which one the service accepts is its `acr` demand.
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
    Class {
        acr: ORG1,
        level: Level::new(Party::Organisation, 1),
        name: Text::new("Định danh điện tử tổ chức mức 1", "Organisation e-ID level 1"),
    },
    Class {
        acr: ORG2,
        level: Level::new(Party::Organisation, 2),
        name: Text::new("Định danh điện tử tổ chức mức 2", "Organisation e-ID level 2"),
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

/// An enterprise's or organisation's data: a scope of its own, consented to like personal data
/// since it names the legal representative.
pub fn organisation_scope() -> Scope {
    Scope {
        name: ORGANISATION_SCOPE,
        claims: ORGANISATION_CLAIMS,
        describe: Some(Text::new(
            "Mã số doanh nghiệp hoặc mã định danh tổ chức, tên, địa chỉ và người đại diện theo pháp luật",
            "Tax code or organisation ID, registered name, address and legal representative",
        )),
        always_consent: true,
    }
}

/// The e-ID level to ask for: level 2 when the service accepts nothing weaker from either kind
/// of account the e-ID can log in (a citizen's, an organisation's).
pub fn level_to_ask(r: &Requirement) -> Option<AccountLevel> {
    let weakest = [Party::Citizen, Party::Organisation].into_iter().filter_map(|p| r.min_strength(p)).min();
    (weakest.unwrap_or(0) >= 2).then_some(AccountLevel::Level2)
}

/// The `acr` class an e-ID login reached.
pub fn acr_of(login: &EidLogin) -> &'static str {
    match (login, login.level()) {
        (EidLogin::Citizen(_), AccountLevel::Level2) => EID2,
        (EidLogin::Citizen(_), AccountLevel::Level1) => EID1,
        (EidLogin::Organisation(_), AccountLevel::Level2) => ORG2,
        (EidLogin::Organisation(_), AccountLevel::Level1) => ORG1,
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
