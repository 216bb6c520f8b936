//! The 12-digit personal ID number (số định danh cá nhân, `SoDinhDanh` on the wire).
//!
//! Layout (Decree 137/2015 art. 13, Identity Law 2023 art. 12):
//! - digits 1–3: province of birth registration (old 63-province codes stay valid);
//! - digit 4: century and gender: 1900s male 0 / female 1, 2000s 2/3, 2100s 4/5, 2200s 6/7,
//!   2300s 8/9;
//! - digits 5–6: last two digits of the birth year;
//! - digits 7–12: random.
//!
//! The number carries no check digit, so a well-formed ID can still be one nobody holds; the
//! population database is the only authority on that.
//!
//! **Plausible birth year.** The century digit and the two year digits give the birth year;
//! an ID whose year lies after the current year is rejected (digits 4–9 today, or 2/3 with a
//! year not reached yet). There is deliberately no lower bound beyond 1900: numbers are kept
//! for life and records of deceased people keep theirs, so a 1900s year is always plausible.
//! Checking the year against a claimed date of birth is the caller's job (the ID only knows the
//! year): see [`PersonalId::birth_year`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::province::Province;

/// Gender as encoded in digit 4 of the ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// The word used on cards and by the e-ID: "Nam" or "Nữ".
    pub fn vietnamese(self) -> &'static str {
        match self {
            Gender::Male => "Nam",
            Gender::Female => "Nữ",
        }
    }
}

/// Why a string is not a personal ID. Each variant says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonalIdError {
    #[error("a personal ID has 12 digits, this one has {found} characters")]
    Length { found: usize },
    #[error("a personal ID has only digits; character {position} is {found:?}")]
    NonDigit { position: usize, found: char },
    #[error("{code:03} is not a province code of birth registration")]
    UnknownProvince { code: u16 },
    #[error(
        "century digit {digit} with year digits {yy:02} means born in {year}, which is after \
         the current year {current_year}"
    )]
    BirthYearInFuture { digit: u8, yy: u8, year: u16, current_year: u16 },
}

/// A validated personal ID. Holds the 12 ASCII digits; accessors decode them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonalId([u8; 12]);

impl PersonalId {
    /// Parses and validates against today's year (birth years in the future are rejected).
    pub fn parse(s: &str) -> Result<Self, PersonalIdError> {
        Self::parse_at(s, current_year())
    }

    /// Like [`PersonalId::parse`], with the "current" year given, for reproducible checks.
    ///
    /// The input must be exactly 12 ASCII digits: no trimming, no separators. Callers that
    /// accept human input should trim before calling, so that what is stored is canonical.
    pub fn parse_at(s: &str, current_year: u16) -> Result<Self, PersonalIdError> {
        let count = s.chars().count();
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            // Report a stray letter before a wrong length: "00109000012a" is a typo, not a
            // length problem, and saying so helps the person fix it.
            if i < 12 {
                return Err(PersonalIdError::NonDigit { position: i + 1, found: c });
            }
        }
        if count != 12 {
            return Err(PersonalIdError::Length { found: count });
        }
        let mut digits = [0u8; 12];
        digits.copy_from_slice(s.as_bytes());
        let d = |i: usize| u16::from(digits[i] - b'0');

        let code = d(0) * 100 + d(1) * 10 + d(2);
        if Province::by_code(code).is_none() {
            return Err(PersonalIdError::UnknownProvince { code });
        }
        let digit = d(3) as u8;
        let yy = (d(4) * 10 + d(5)) as u8;
        let year = birth_year(digit, yy);
        if year > current_year {
            return Err(PersonalIdError::BirthYearInFuture { digit, yy, year, current_year });
        }
        Ok(PersonalId(digits))
    }

    /// Builds an ID from its parts. `serial` is digits 7–12 (taken modulo 1,000,000).
    ///
    /// Returns an error for an unknown province or a year outside 1900–2399.
    pub fn from_parts(province: u16, gender: Gender, birth_year: u16, serial: u32) -> Result<Self, PersonalIdError> {
        if Province::by_code(province).is_none() {
            return Err(PersonalIdError::UnknownProvince { code: province });
        }
        // Only 1900–2399 is representable; outside that the century digit does not exist.
        let year = birth_year.clamp(1900, 2399);
        let century = (year - 1900) / 100;
        let digit = century * 2 + u16::from(gender == Gender::Female);
        let s = format!("{:03}{}{:02}{:06}", province, digit, year % 100, serial % 1_000_000);
        Self::parse_at(&s, u16::MAX)
    }

    pub fn as_str(&self) -> &str {
        // The bytes are ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Old (63-province) code of the province of birth registration.
    pub fn province_code(&self) -> u16 {
        self.digit(0) * 100 + self.digit(1) * 10 + self.digit(2)
    }

    pub fn province(&self) -> &'static Province {
        // Validated at parse time; the fallback keeps this total without a panic path.
        Province::by_code(self.province_code()).unwrap_or(&crate::province::PROVINCES[0])
    }

    pub fn gender(&self) -> Gender {
        if self.digit(3).is_multiple_of(2) { Gender::Male } else { Gender::Female }
    }

    pub fn birth_year(&self) -> u16 {
        birth_year(self.digit(3) as u8, (self.digit(4) * 10 + self.digit(5)) as u8)
    }

    /// Digits 7–12.
    pub fn serial(&self) -> u32 {
        (6..12).fold(0u32, |acc, i| acc * 10 + u32::from(self.digit(i)))
    }

    fn digit(&self, i: usize) -> u16 {
        u16::from(self.0[i] - b'0')
    }
}

fn birth_year(century_digit: u8, yy: u8) -> u16 {
    1900 + u16::from(century_digit / 2) * 100 + u16::from(yy)
}

/// The current Gregorian year (UTC), without pulling in a date library.
fn current_year() -> u16 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    u16::try_from(year).unwrap_or(u16::MAX)
}

impl fmt::Display for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PersonalId {
    // Personal data (Decree 13/2023): keep the full number out of debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalId({}******)", &self.as_str()[..6])
    }
}

impl FromStr for PersonalId {
    type Err = PersonalIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for PersonalId {
    type Error = PersonalIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl Serialize for PersonalId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PersonalId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PersonalId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_fields() {
        let id = PersonalId::parse_at("001090123456", 2025).unwrap();
        assert_eq!(id.province_code(), 1);
        assert_eq!(id.province().name, "Hà Nội");
        assert_eq!(id.gender(), Gender::Male);
        assert_eq!(id.birth_year(), 1990);
        assert_eq!(id.serial(), 123_456);
        let id = PersonalId::parse_at("079305000001", 2025).unwrap();
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.birth_year(), 2005);
    }

    #[test]
    fn each_error() {
        use PersonalIdError::*;
        assert_eq!(PersonalId::parse_at("00109012345", 2025), Err(Length { found: 11 }));
        assert_eq!(PersonalId::parse_at("0010901234567", 2025), Err(Length { found: 13 }));
        assert_eq!(PersonalId::parse_at("", 2025), Err(Length { found: 0 }));
        assert_eq!(PersonalId::parse_at("00109012345a", 2025), Err(NonDigit { position: 12, found: 'a' }));
        assert_eq!(PersonalId::parse_at("001 090123456", 2025), Err(NonDigit { position: 4, found: ' ' }));
        // Non-ASCII digits are not digits here.
        assert!(matches!(PersonalId::parse_at("00109012345٣", 2025), Err(NonDigit { position: 12, .. })));
        assert_eq!(PersonalId::parse_at("003090123456", 2025), Err(UnknownProvince { code: 3 }));
        assert_eq!(
            PersonalId::parse_at("001290123456", 2025),
            Err(BirthYearInFuture { digit: 2, yy: 90, year: 2090, current_year: 2025 })
        );
        assert!(PersonalId::parse_at("001430123456", 2025).is_err());
        // Messages are meant for people.
        let msg = PersonalId::parse_at("003090123456", 2025).unwrap_err().to_string();
        assert!(msg.contains("003"), "{msg}");
    }

    #[test]
    fn current_year_is_sane() {
        let y = current_year();
        assert!((2025..2200).contains(&y), "{y}");
    }

    #[test]
    fn from_parts_round_trip() {
        let id = PersonalId::from_parts(79, Gender::Female, 2004, 42).unwrap();
        assert_eq!(id.as_str(), "079304000042");
        assert!(PersonalId::from_parts(3, Gender::Male, 1990, 1).is_err());
    }

    #[test]
    fn serde_and_debug() {
        let id: PersonalId = serde_json_like("001090123456");
        assert_eq!(format!("{id:?}"), "PersonalId(001090******)");
    }

    fn serde_json_like(s: &str) -> PersonalId {
        s.parse().unwrap()
    }
}
