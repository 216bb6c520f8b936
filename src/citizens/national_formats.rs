//! Date and gender formats of the national systems, shared by the e-ID and the population
//! database parsers.

use chrono::NaiveDate;
use vn_identity::Gender;

/// `YYYYMMDD`, as both the e-ID and the population database write dates.
pub(crate) fn parse_compact_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// "Nam"/"Nữ" from the e-ID (any Unicode form or case), or the catalogue codes "1"/"2".
pub(crate) fn parse_gender(s: &str) -> Option<Gender> {
    match vn_identity::match_key(s).as_str() {
        "nam" | "1" | "male" => Some(Gender::Male),
        "nữ" | "2" | "female" => Some(Gender::Female),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_genders() {
        assert_eq!(parse_compact_date("19880314"), NaiveDate::from_ymd_opt(1988, 3, 14));
        assert_eq!(parse_compact_date("19880231"), None);
        assert_eq!(parse_compact_date("1988-03-14"), None);
        assert_eq!(parse_gender("Nữ"), Some(Gender::Female));
        assert_eq!(parse_gender("NU\u{0303}"), None, "no diacritic folding: 'Nũ' is not 'Nữ'");
        assert_eq!(parse_gender("NỮ"), Some(Gender::Female));
        assert_eq!(parse_gender("nam"), Some(Gender::Male));
        assert_eq!(parse_gender("2"), Some(Gender::Female));
        assert_eq!(parse_gender("?"), None);
    }
}
