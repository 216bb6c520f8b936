//! The `acr` values of officer logins. They are of the officer party: no citizen login, however
//! strong, meets them.

use crate::oidc::acr::{Class, Level, Party};
use crate::web::page::Text;

/// Password plus a second factor (TOTP or a passkey).
pub const OFFICER_MFA: &str = "urn:xacthuc:acr:officer-mfa";
/// Password plus a hardware security key.
pub const OFFICER_HWK: &str = "urn:xacthuc:acr:officer-hwk";
/// The officer's digital-signature certificate.
pub const OFFICER_CERT: &str = "urn:xacthuc:acr:officer-cert";

pub const CLASSES: &[Class] = &[
    Class {
        acr: OFFICER_MFA,
        level: Level::new(Party::Officer, 1),
        name: Text::new("Cán bộ: mật khẩu và yếu tố thứ hai", "Officer: password and a second factor"),
    },
    Class {
        acr: OFFICER_HWK,
        level: Level::new(Party::Officer, 2),
        name: Text::new("Cán bộ: mật khẩu và khóa bảo mật phần cứng", "Officer: password and a hardware key"),
    },
    Class {
        acr: OFFICER_CERT,
        level: Level::new(Party::Officer, 3),
        name: Text::new("Cán bộ: chứng thư số", "Officer: digital-signature certificate"),
    },
];
