//! Enterprises and organisations that log in through their national e-ID account, and the
//! person acting for them.
//!
//! Since 1 July 2025 businesses and organisations reach public services only through their
//! electronic identification accounts (`LoaiTaiKhoan` 2, keyed by tax code; 3, keyed by
//! `TechID`). Such a login is an organisation's, not a person's: it gets its own account (and so
//! its own pairwise subject and consents) and its own `acr` party, so a service that asks for a
//! citizen never receives one.
//!
//! The e-ID reports the legal representative (`NguoiDaiDien`). When it gives their personal ID
//! the person is checked against the population database exactly like a citizen who logs in,
//! and gets (or keeps) their own citizen account: the organisation's account then names that
//! account as its actor, which relying parties see as an RFC 8693 `act` claim holding the
//! representative's pairwise subject at that service.
//!
//! Claims, released under the [`ORGANISATION_SCOPE`] with a recorded consent:
//! - `account_type`: `enterprise` or `organisation` (always released, with every login through
//!   the e-ID, so a service that accepts both kinds knows which it got; `citizen` for people);
//! - `tax_code` (`MaSoDoanhNghiep`) for an enterprise, `org_id` (`TechID`) for both;
//! - `org_name` (`TenDoanhNghiep` / `TenToChuc`) and `org_address` (`DiaChi`);
//! - `legal_representative`: `{ "name", "verified" }`, `verified` saying whether the person was
//!   checked against the population database. Their personal ID is never released here.

use serde_json::{Map, Value, json};

use super::Message;
use super::upstream::{AccountType, EidIdentity, OrgIdentity, Representative};

pub const ORGANISATION_SCOPE: &str = "organisation";
pub const ORGANISATION_CLAIMS: &[&str] = &["tax_code", "org_id", "org_name", "org_address", "legal_representative"];
/// Says which kind of account logged in; released whatever the scopes.
pub const ACCOUNT_TYPE_CLAIM: &str = "account_type";

/// The `accounts.kind` of an organisation.
pub const ACCOUNT_KIND: &str = "organisation";

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Citizen => "citizen",
            AccountType::Enterprise => "enterprise",
            AccountType::Organisation => "organisation",
        }
    }
}

/// The account key of an organisation: kind and tax code or `TechID`, never confused with a
/// citizen's (`vneid:<personal ID>`).
pub fn external_key(org: &OrgIdentity) -> String {
    format!("vneid-org:{}:{}", org.account_type.as_str(), org.key())
}

/// The profile kept for an organisation's account: every claim, released per grant by scope.
/// `representative_verified` says whether the representative was checked against the
/// population database.
pub fn profile(org: &OrgIdentity, representative_verified: bool) -> Value {
    let mut p = Map::new();
    p.insert(ACCOUNT_TYPE_CLAIM.into(), json!(org.account_type.as_str()));
    // A person-shaped client showing `name` shows the organisation's registered name.
    p.insert("name".into(), json!(org.name));
    p.insert("org_name".into(), json!(org.name));
    if let Some(t) = &org.tax_code {
        p.insert("tax_code".into(), json!(t));
    }
    if let Some(t) = &org.tech_id {
        p.insert("org_id".into(), json!(t));
    }
    if let Some(a) = &org.address {
        p.insert("org_address".into(), json!(a));
    }
    if let Some(r) = &org.representative {
        p.insert("legal_representative".into(), json!({ "name": r.full_name, "verified": representative_verified }));
    }
    p.insert("eid_level".into(), json!(org.level as u8));
    Value::Object(p)
}

/// The representative as a person to check against the population database, when the e-ID
/// gave what a check needs (personal ID and birth date). They authenticated at the e-ID for
/// this login, at the organisation account's level.
pub fn representative_as_person(org: &OrgIdentity, r: &Representative) -> Option<EidIdentity> {
    Some(EidIdentity {
        subject: String::new(),
        personal_id: r.personal_id?,
        full_name: r.full_name.clone(),
        birth_date: r.birth_date?,
        gender: None,
        account_type: AccountType::Citizen,
        level: org.level,
        amr: org.amr.clone(),
        auth_time: org.auth_time,
    })
}

/// Why an organisation's login is refused when its representative fails the population check.
pub const REPRESENTATIVE_NOT_VERIFIED: Message = Message {
    vi: "Thông tin người đại diện theo pháp luật của doanh nghiệp, tổ chức mà hệ thống định danh \
         điện tử cung cấp không khớp với Cơ sở dữ liệu quốc gia về dân cư, nên chưa thể đăng nhập \
         thay mặt doanh nghiệp, tổ chức. Vui lòng liên hệ cơ quan đăng ký kinh doanh hoặc Công an \
         nơi cư trú để cập nhật thông tin.",
    en: "The legal representative the national e-ID reports for this enterprise or organisation \
         does not match the National Population Database, so nobody can log in on its behalf yet. \
         Please contact the business registration office or your local police to correct the data.",
};

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use vn_identity::PersonalId;

    use super::*;
    use crate::citizens::AccountLevel;

    fn org(representative: Option<Representative>) -> OrgIdentity {
        OrgIdentity {
            subject: "s".into(),
            account_type: AccountType::Enterprise,
            tax_code: Some("0101234567".into()),
            tech_id: Some("t-1".into()),
            name: "Công ty TNHH Phần mềm Sông Hồng".into(),
            address: Some("Số 1 phố Tràng Tiền, Phường Hoàn Kiếm, Hà Nội".into()),
            representative,
            level: AccountLevel::Level2,
            amr: vec!["pwd".into()],
            auth_time: Some(1),
        }
    }

    #[test]
    fn profile_names_the_kind_and_never_the_representatives_id() {
        let rep = Representative {
            full_name: "Trần Thị Bích Ngọc".into(),
            personal_id: Some(PersonalId::parse("001188012345").expect("id")),
            birth_date: NaiveDate::from_ymd_opt(1988, 3, 14),
        };
        let o = org(Some(rep.clone()));
        let p = profile(&o, true);
        assert_eq!(p[ACCOUNT_TYPE_CLAIM], "enterprise");
        assert_eq!(p["tax_code"], "0101234567");
        assert_eq!(p["legal_representative"]["verified"], true);
        assert!(!p.to_string().contains("001188012345"), "the representative's personal ID stays out: {p}");
        assert_eq!(external_key(&o), "vneid-org:enterprise:0101234567");
        let person = representative_as_person(&o, &rep).expect("checkable");
        assert_eq!(person.full_name, "Trần Thị Bích Ngọc");
        let unchecked = Representative { personal_id: None, birth_date: None, ..rep };
        assert!(representative_as_person(&o, &unchecked).is_none());
    }
}
