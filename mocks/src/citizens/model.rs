//! The synthetic citizen record: what the population database holds and the e-ID knows.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use vn_identity::{Gender, PersonalId};

/// Generation happens "as of" this date, not today, so a seed gives the same population on
/// every run (ages, who is under 14, card dates).
pub const REFERENCE_DATE: (u16, u8, u8) = (2025, 10, 1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeStatus {
    Living,
    Deceased,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// A valid chip-based citizen identity card (CCCD / thẻ căn cước).
    Valid,
    /// The card was revoked (thu hồi), e.g. lost and reported.
    Revoked,
    /// No card issued, typically a child under 14.
    NotIssued,
}

/// How the population database spells the name compared with the e-ID. Most records agree;
/// the rest are the hand-keying accidents that make real applications fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameVariant {
    Same,
    /// Stored upper-case, with diacritics: "NGUYỄN VĂN AN".
    UpperCase,
    /// Stored in Unicode NFD (decomposed) form: looks identical, different bytes.
    Decomposed,
    /// Keyed without diacritics: "Nguyen Van An". Does not match under xacthuc's rule.
    NoDiacritics,
}

/// A place in both structures: old province/district/commune and post-2025 province/commune.
/// Codes are synthetic but shaped like the real ones (2-digit province, 3-digit district,
/// 5-digit commune).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Address {
    pub old_province: u16,
    pub old_district: u16,
    pub old_commune: u32,
    pub new_province: u16,
    pub new_commune: u32,
    /// Index into the place-name stems; the names are derived from it.
    #[serde(skip)]
    pub stem: u16,
    #[serde(skip)]
    pub new_stem: u16,
    /// House number, part of the street line.
    #[serde(skip)]
    pub house: u16,
}

/// e-ID account type (`LoaiTaiKhoan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Citizen = 1,
    Enterprise = 2,
    Organisation = 3,
}

#[derive(Debug, Clone, Serialize)]
pub struct Citizen {
    pub index: u32,
    pub personal_id: PersonalId,
    /// Old (63-province) code of the province of birth registration, digits 1–3 of the ID.
    pub birth_registration_province: u16,
    /// The name as the e-ID has it: NFC, title case, with diacritics.
    pub name: String,
    pub name_variant: NameVariant,
    pub birth_year: u16,
    pub birth_month: u8,
    pub birth_day: u8,
    pub gender: Gender,
    pub ethnicity_code: &'static str,
    pub ethnicity: &'static str,
    pub religion_code: &'static str,
    pub religion: &'static str,
    pub nationality: &'static str,
    pub origin: Address,
    pub permanent: Address,
    pub current: Address,
    pub household_head: PersonalId,
    /// Relation to the household head, as the register writes it ("Chủ hộ", "Vợ", "Con", …).
    pub relation: &'static str,
    pub status: LifeStatus,
    pub card: CardStatus,
    /// e-ID account level (1 or 2), `None` when the person has no e-ID account.
    pub eid_level: Option<u8>,
}

impl Citizen {
    /// The name as stored in the population database (see [`NameVariant`]).
    pub fn population_name(&self) -> String {
        match self.name_variant {
            NameVariant::Same => self.name.clone(),
            NameVariant::UpperCase => self.name.to_uppercase(),
            NameVariant::Decomposed => self.name.nfd().collect(),
            NameVariant::NoDiacritics => title_case(&vn_identity::fold_name(&self.name)),
        }
    }

    /// `YYYYMMDD`, as the e-ID's `NgayThangNamSinh`.
    pub fn birth_date_compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.birth_year, self.birth_month, self.birth_day)
    }

    /// Age in whole years at [`REFERENCE_DATE`].
    pub fn age(&self) -> u16 {
        let (y, m, d) = REFERENCE_DATE;
        let had_birthday = (self.birth_month, self.birth_day) <= (m, d);
        (y - self.birth_year).saturating_sub(u16::from(!had_birthday))
    }

    /// The old 9-digit identity card number (CMND) the population database links to the
    /// personal ID, for people born before 2000 (who were issued one before the 12-digit
    /// citizen ID card). See [`old_id_for`].
    pub fn old_id(&self) -> Option<String> {
        old_id_for(&self.personal_id, self.birth_year)
    }

    /// The e-ID passcode of a synthetic citizen: digits 7–12 of the personal ID. A documented
    /// rule rather than a stored secret, so testers can log in as anyone.
    pub fn passcode(&self) -> String {
        passcode_for(&self.personal_id)
    }
}

/// Our invention: a CMND number derived from the personal ID (two digits of the old province
/// of birth registration, then seven digits of a hash), so it is stable without storage. Real
/// CMND numbers were issued by the province of residence at 14; nobody links them this way.
pub fn old_id_for(id: &PersonalId, birth_year: u16) -> Option<String> {
    use sha2::{Digest, Sha256};
    if birth_year >= 2000 {
        return None;
    }
    let h = Sha256::new().chain_update(b"cmnd").chain_update(id.as_str().as_bytes()).finalize();
    let n = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % 10_000_000;
    Some(format!("{}{n:07}", &id.as_str()[1..3]))
}

pub fn passcode_for(id: &PersonalId) -> String {
    id.as_str()[6..].to_string()
}

fn title_case(upper: &str) -> String {
    upper
        .split(' ')
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_string() + &cs.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Address {
    pub fn old_commune_name(&self) -> String {
        format!("Xã {}", stem(self.stem))
    }
    pub fn old_district_name(&self) -> String {
        format!("Huyện {}", stem(self.stem.wrapping_add(7)))
    }
    pub fn new_commune_name(&self) -> String {
        format!("Xã {}", stem(self.new_stem))
    }
    pub fn old_province_name(&self) -> &'static str {
        vn_identity::Province::by_code(self.old_province).map_or("", |p| p.name)
    }
    pub fn new_province_name(&self) -> &'static str {
        vn_identity::NewProvince::by_code(self.new_province).map_or("", |p| p.name)
    }
    pub fn street(&self) -> String {
        format!("Số {} thôn {}", self.house, stem(self.stem.wrapping_add(3)))
    }
}

fn stem(i: u16) -> &'static str {
    let stems = super::tables::PLACE_STEMS;
    stems[usize::from(i) % stems.len()]
}
