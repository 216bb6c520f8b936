//! The claims a provincial service receives about a verified citizen.
//!
//! Standard OIDC claims (OpenID Connect Core §5.1) come from the population record, the
//! authority, once [`crate::citizens::population`] has verified it against the e-ID:
//! - `name`: the full name in Vietnamese order (family name first), NFC. The record's spelling
//!   is used unless the record keeps it all upper-case, in which case the e-ID's spelling is
//!   used: the two are equal under the match rule, so only the letter case differs.
//! - `family_name` = the first word ("Trần"), `given_name` = the last word ("Ngọc"),
//!   `middle_name` = the words between ("Thị Bích"). This is how Vietnamese names are used:
//!   people are addressed by the given name, the last word.
//! - `birthdate`: `YYYY-MM-DD`; `gender`: `male` / `female`.
//! - `address`: the current residence (else the permanent one) in the post-2025 two-level
//!   units: `street_address` (house, street, hamlet), `locality` (commune or ward), `region`
//!   (province or city), `country` "VN", and `formatted` joining them with ", ".
//!
//! The personal ID number is personal data (Decree 13/2023). It is released, as the private
//! claim [`PERSONAL_ID_CLAIM`], only when the caller says the dedicated [`PERSONAL_ID_SCOPE`]
//! was allowed for the client and consented to by the citizen: that decision lives with
//! consent, not here.

use serde::Serialize;
use serde_json::{Map, Value};
use vn_identity::{Gender, normalize_name};

use super::population::{Address, PopulationRecord};
use super::upstream::EidIdentity;

/// The scope under which a service may receive the personal ID (suggested name for the OIDC
/// module's scope registry).
pub const PERSONAL_ID_SCOPE: &str = "personal_id";
/// The claim carrying the 12-digit personal ID (`SoDinhDanh`).
pub const PERSONAL_ID_CLAIM: &str = "personal_id";

/// What the consent logic decided may be released.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClaimOptions {
    /// The client is allowed [`PERSONAL_ID_SCOPE`] and the citizen consented to it.
    pub personal_id: bool,
}

/// OIDC address claim (§5.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressClaim {
    pub formatted: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub country: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitizenClaims {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    pub birthdate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressClaim>,
    #[serde(rename = "personal_id", skip_serializing_if = "Option::is_none")]
    pub personal_id: Option<String>,
}

impl CitizenClaims {
    /// As a JSON object, to merge into an ID token or a UserInfo response.
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// Builds the claims of a citizen whose record [`crate::citizens::PopulationClient::verify`]
/// returned for this e-ID identity.
pub fn citizen_claims(eid: &EidIdentity, record: &PopulationRecord, opts: ClaimOptions) -> CitizenClaims {
    let name = display_name(&record.full_name, &eid.full_name);
    let words: Vec<&str> = name.split(' ').collect();
    let (family_name, middle_name, given_name) = match words.as_slice() {
        [] | [""] => (None, None, None),
        [only] => (None, None, Some(only.to_string())),
        [first, middle @ .., last] => {
            (Some(first.to_string()), (!middle.is_empty()).then(|| middle.join(" ")), Some(last.to_string()))
        }
    };
    CitizenClaims {
        family_name,
        middle_name,
        given_name,
        birthdate: record.birth_date.format("%Y-%m-%d").to_string(),
        gender: record.gender.or(eid.gender).map(|g| match g {
            Gender::Male => "male",
            Gender::Female => "female",
        }),
        address: record.current.as_ref().or(record.permanent.as_ref()).and_then(address_claim),
        personal_id: opts.personal_id.then(|| record.personal_id.as_str().to_string()),
        name,
    }
}

fn display_name(record_name: &str, eid_name: &str) -> String {
    let record_name = normalize_name(record_name);
    let shouting = record_name.chars().any(char::is_alphabetic) && record_name == record_name.to_uppercase();
    if shouting && vn_identity::names_match(&record_name, eid_name) { normalize_name(eid_name) } else { record_name }
}

fn address_claim(a: &Address) -> Option<AddressClaim> {
    let locality = a.commune.as_ref().map(|u| u.name.trim().to_string()).filter(|s| !s.is_empty());
    let region = a.province.as_ref().map(|u| u.name.trim().to_string()).filter(|s| !s.is_empty());
    let street_address = a.detail.clone();
    let parts: Vec<&str> =
        [street_address.as_deref(), locality.as_deref(), region.as_deref()].into_iter().flatten().collect();
    if parts.is_empty() {
        return None;
    }
    let formatted = format!("{}, Việt Nam", parts.join(", "));
    Some(AddressClaim { formatted, street_address, locality, region, country: "VN" })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use vn_identity::PersonalId;

    use super::*;
    use crate::citizens::AccountLevel;
    use crate::citizens::population::{CardStatus, LegacyUnits, LifeStatus, Unit};
    use crate::citizens::upstream::AccountType;

    fn fixture(record_name: &str) -> (EidIdentity, PopulationRecord) {
        let id = PersonalId::parse("001188012345").expect("id");
        let birth = NaiveDate::from_ymd_opt(1988, 3, 14).expect("date");
        let unit = |code: &str, name: &str| Some(Unit { code: code.into(), name: name.into() });
        let eid = EidIdentity {
            subject: "s".into(),
            personal_id: id,
            full_name: "Trần Thị Bích Ngọc".into(),
            birth_date: birth,
            gender: Some(Gender::Female),
            account_type: AccountType::Citizen,
            level: AccountLevel::Level2,
            amr: vec!["pwd".into()],
            auth_time: None,
        };
        let record = PopulationRecord {
            personal_id: id,
            old_id: None,
            full_name: record_name.into(),
            birth_date: birth,
            gender: Some(Gender::Female),
            ethnicity: None,
            religion: None,
            nationality: None,
            origin: None,
            permanent: None,
            current: Some(Address {
                detail: Some("Số 5 thôn Đông".into()),
                province: unit("01", "Hà Nội"),
                commune: unit("00009", "Phường Ba Đình"),
                legacy: LegacyUnits { province: None, district: None, commune: None },
            }),
            household_head: None,
            relation_to_head: None,
            life_status: LifeStatus::Living,
            card: CardStatus::Valid,
        };
        (eid, record)
    }

    #[test]
    fn standard_claims_in_vietnamese_order() {
        let (eid, record) = fixture("Trần Thị Bích Ngọc");
        let c = citizen_claims(&eid, &record, ClaimOptions::default());
        assert_eq!(c.name, "Trần Thị Bích Ngọc");
        assert_eq!(c.family_name.as_deref(), Some("Trần"));
        assert_eq!(c.middle_name.as_deref(), Some("Thị Bích"));
        assert_eq!(c.given_name.as_deref(), Some("Ngọc"));
        assert_eq!(c.birthdate, "1988-03-14");
        assert_eq!(c.gender, Some("female"));
        let a = c.address.as_ref().expect("address");
        assert_eq!(a.formatted, "Số 5 thôn Đông, Phường Ba Đình, Hà Nội, Việt Nam");
        assert_eq!(a.country, "VN");
        let json = c.to_json();
        assert!(!json.contains_key(PERSONAL_ID_CLAIM), "not without the scope");
        assert_eq!(json["address"]["region"], "Hà Nội");
    }

    #[test]
    fn personal_id_only_when_granted_and_upper_case_records_use_the_eid_case() {
        let (eid, record) = fixture("TRẦN THỊ BÍCH NGỌC");
        let c = citizen_claims(&eid, &record, ClaimOptions { personal_id: true });
        assert_eq!(c.name, "Trần Thị Bích Ngọc");
        assert_eq!(c.to_json()[PERSONAL_ID_CLAIM], "001188012345");
    }
}
