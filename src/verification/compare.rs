//! Comparing what an officer or a form keyed in with the population record, field by field,
//! with an explanation a counter officer can act on. Pure: no I/O.

use chrono::NaiveDate;
use serde::Serialize;
use vn_identity::{Gender, fold_name, names_match, normalize_name};

use crate::citizens::Message;
use crate::citizens::population::{Address, PopulationRecord, Unit};

/// How a keyed value compares with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Character for character the record's value.
    Exact,
    /// The same after Unicode normalisation (NFC), whitespace collapsing and case folding.
    Equivalent,
    /// Differs only in diacritics or spacing: in Vietnamese a different spelling, which the
    /// portal rejects; the record's form must be used.
    DiacriticsOrSpacing,
    /// A real difference.
    Mismatch,
    /// Nothing was keyed for this field.
    NotProvided,
}

/// One field's answer.
#[derive(Debug, Clone, Serialize)]
pub struct FieldReport {
    pub result: Outcome,
    pub explanation: Message,
    /// The record's value, where the caller may see it and the keyed value is not already it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// For a residence: the units, before and after the 2025 reform, it maps to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<ResidenceUnits>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResidenceUnits {
    pub before_2025: LegacyNames,
    pub after_2025: CurrentNames,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegacyNames {
    pub province: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrentNames {
    pub province: Option<String>,
    pub commune: Option<String>,
}

const EXACT: Message =
    Message { vi: "Khớp hoàn toàn với dữ liệu dân cư.", en: "Exactly as in the population record." };
const NOT_PROVIDED: Message = Message { vi: "Không được nhập.", en: "Not provided." };

/// The full name.
pub fn name(keyed: &str, record: &str, reveal: bool) -> FieldReport {
    let (outcome, explanation) = if keyed.trim() == record.trim() {
        (Outcome::Exact, EXACT)
    } else if names_match(keyed, record) {
        (
            Outcome::Equivalent,
            Message {
                vi: "Khớp sau khi chuẩn hoá Unicode và chữ hoa/thường; nên dùng đúng cách viết trong dữ liệu dân cư.",
                en: "Matches after Unicode normalisation and case folding; prefer the record's exact spelling.",
            },
        )
    } else if squeeze(&fold_name(keyed)) == squeeze(&fold_name(record)) {
        let explanation = if has_diacritics(keyed) && !has_diacritics(record) {
            Message {
                vi: "Dữ liệu dân cư ghi họ tên không dấu; hồ sơ phải dùng đúng cách ghi này.",
                en: "The population record keeps the name without diacritics; the application must use that form.",
            }
        } else {
            Message {
                vi: "Chỉ khác dấu hoặc khoảng trắng; trong tiếng Việt đó là tên khác, hồ sơ sẽ bị từ chối.",
                en: "Differs only in diacritics or spacing; in Vietnamese that is another name, and the application would be rejected.",
            }
        };
        (Outcome::DiacriticsOrSpacing, explanation)
    } else {
        (
            Outcome::Mismatch,
            Message {
                vi: "Họ tên không khớp với dữ liệu dân cư.",
                en: "The name does not match the population record.",
            },
        )
    };
    let suggestion = (reveal && outcome != Outcome::Exact).then(|| normalize_name(record));
    FieldReport { result: outcome, explanation, suggestion, units: None }
}

/// The birth date.
pub fn birth_date(keyed: Option<NaiveDate>, record: NaiveDate, reveal: bool) -> FieldReport {
    use chrono::Datelike;
    let Some(keyed) = keyed else { return not_provided() };
    if keyed == record {
        return FieldReport { result: Outcome::Exact, explanation: EXACT, suggestion: None, units: None };
    }
    let explanation = if keyed.year() == record.year() {
        Message {
            vi: "Năm sinh đúng nhưng ngày hoặc tháng sinh không khớp (có thể nhầm thứ tự ngày/tháng).",
            en: "The year is right but the day or month differs (day and month may be swapped).",
        }
    } else {
        Message {
            vi: "Ngày sinh không khớp với dữ liệu dân cư.",
            en: "The birth date does not match the population record.",
        }
    };
    FieldReport {
        result: Outcome::Mismatch,
        explanation,
        suggestion: reveal.then(|| record.format("%Y-%m-%d").to_string()),
        units: None,
    }
}

/// The gender.
pub fn gender(keyed: Option<Gender>, record: Option<Gender>, reveal: bool) -> FieldReport {
    match (keyed, record) {
        (None, _) => not_provided(),
        (Some(k), Some(r)) if k == r => {
            FieldReport { result: Outcome::Exact, explanation: EXACT, suggestion: None, units: None }
        }
        (Some(_), r) => FieldReport {
            result: Outcome::Mismatch,
            explanation: Message {
                vi: "Giới tính không khớp với dữ liệu dân cư.",
                en: "The gender does not match the population record.",
            },
            suggestion: if reveal { r.map(gender_name) } else { None },
            units: None,
        },
    }
}

/// The place of permanent residence, keyed as one line. It matches when it names the record's
/// commune and province, in the post-2025 units or in the old ones (communes, districts and
/// provinces before the reform), which is what old documents carry.
pub fn residence(keyed: Option<&str>, record: Option<&Address>, reveal: bool) -> FieldReport {
    let Some(keyed) = keyed.filter(|k| !k.trim().is_empty()) else { return not_provided() };
    let Some(a) = record else {
        return FieldReport {
            result: Outcome::Mismatch,
            explanation: Message {
                vi: "Dữ liệu dân cư không có nơi thường trú.",
                en: "The population record has no place of permanent residence.",
            },
            suggestion: None,
            units: None,
        };
    };
    let folded = squeeze(&fold_name(keyed));
    let names = |u: &Option<Unit>| u.as_ref().map(|u| u.name.trim().to_string()).filter(|n| !n.is_empty());
    let mentions = |u: &Option<Unit>| names(u).is_some_and(|n| folded.contains(&squeeze(&fold_name(&n))));
    let current = mentions(&a.commune) && mentions(&a.province);
    let legacy = mentions(&a.legacy.commune) && mentions(&a.legacy.province);
    let units = ResidenceUnits {
        before_2025: LegacyNames {
            province: names(&a.legacy.province),
            district: names(&a.legacy.district),
            commune: names(&a.legacy.commune),
        },
        after_2025: CurrentNames { province: names(&a.province), commune: names(&a.commune) },
    };
    let (result, explanation) = match (current, legacy) {
        (true, _) => (
            Outcome::Equivalent,
            Message {
                vi: "Khớp với đơn vị hành chính hiện hành (sau sắp xếp năm 2025).",
                en: "Matches the current administrative units (after the 2025 reform).",
            },
        ),
        (false, true) => (
            Outcome::Equivalent,
            Message {
                vi: "Khớp theo đơn vị hành chính cũ (trước năm 2025); hồ sơ mới nên ghi theo đơn vị hiện hành.",
                en: "Matches the old administrative units (before 2025); new applications should use the current units.",
            },
        ),
        (false, false) => (
            Outcome::Mismatch,
            Message {
                vi: "Nơi thường trú không khớp với xã/phường và tỉnh/thành phố trong dữ liệu dân cư.",
                en: "The residence does not name the commune and province of the population record.",
            },
        ),
    };
    let matched = result != Outcome::Mismatch;
    FieldReport {
        result,
        explanation,
        suggestion: (reveal && !matched).then(|| formatted(a, &units)),
        // What a matched residence maps to is what was keyed; a mismatch reveals it only to
        // a caller who may see the record.
        units: (matched || reveal).then_some(units),
    }
}

fn formatted(a: &Address, u: &ResidenceUnits) -> String {
    [a.detail.clone(), u.after_2025.commune.clone(), u.after_2025.province.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_provided() -> FieldReport {
    FieldReport { result: Outcome::NotProvided, explanation: NOT_PROVIDED, suggestion: None, units: None }
}

fn gender_name(g: Gender) -> String {
    match g {
        Gender::Male => "male".into(),
        Gender::Female => "female".into(),
    }
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != ',').collect()
}

fn has_diacritics(s: &str) -> bool {
    fold_name(s) != normalize_name(s).to_uppercase()
}

/// Whether the record as a whole allows an application: its status, told honestly.
pub fn record_status(record: &PopulationRecord) -> Vec<Message> {
    use crate::citizens::population::CardStatus;
    let mut notes = Vec::new();
    if record.card == CardStatus::Revoked {
        notes.push(Message {
            vi: "Thẻ căn cước của công dân đã bị thu hồi; cần đề nghị công dân xuất trình giấy tờ hợp lệ.",
            en: "The citizen's ID card has been revoked; ask for a valid document.",
        });
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_graded() {
        assert_eq!(name("Trần Thị Bích Ngọc", "Trần Thị Bích Ngọc", true).result, Outcome::Exact);
        let upper = name("Nguyễn Văn An", "NGUYỄN VĂN AN", true);
        assert_eq!(upper.result, Outcome::Equivalent);
        assert_eq!(upper.suggestion.as_deref(), Some("NGUYỄN VĂN AN"));
        // "Hoàng Đức Thắng" decomposed (NFD), as some records keep it.
        let nfd = "Hoa\u{300}ng \u{110}u\u{31b}\u{301}c Tha\u{306}\u{301}ng";
        assert_ne!(nfd, "Hoàng Đức Thắng");
        assert_eq!(name("Hoàng Đức Thắng", nfd, false).result, Outcome::Equivalent);
        let plain = name("Phạm Thị Hương", "Pham Thi Huong", true);
        assert_eq!(plain.result, Outcome::DiacriticsOrSpacing);
        assert!(plain.explanation.en.contains("without diacritics"));
        assert_eq!(plain.suggestion.as_deref(), Some("Pham Thi Huong"));
        assert_eq!(name("Phạm Thị Hương", "Pham Thi Huong", false).suggestion, None, "hidden without permission");
        assert_eq!(name("Phạm ThịHương", "Phạm Thị Hương", false).result, Outcome::DiacriticsOrSpacing);
        assert_eq!(name("Phạm Thị Hường", "Phạm Thị Hương", false).result, Outcome::DiacriticsOrSpacing);
        assert_eq!(name("Lê Văn Hùng", "Phạm Thị Hương", false).result, Outcome::Mismatch);
    }

    #[test]
    fn dates_and_genders() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd);
        assert_eq!(birth_date(d(1988, 3, 14), d(1988, 3, 14).unwrap(), true).result, Outcome::Exact);
        let swapped = birth_date(d(1988, 3, 4), d(1988, 4, 3).unwrap(), true);
        assert_eq!(swapped.result, Outcome::Mismatch);
        assert!(swapped.explanation.en.contains("swapped"));
        assert_eq!(swapped.suggestion.as_deref(), Some("1988-04-03"));
        assert_eq!(birth_date(None, d(1988, 3, 14).unwrap(), true).result, Outcome::NotProvided);
        assert_eq!(gender(Some(Gender::Male), Some(Gender::Female), false).suggestion, None);
        assert_eq!(gender(Some(Gender::Female), Some(Gender::Female), false).result, Outcome::Exact);
    }

    #[test]
    fn residences_in_old_and_new_units() {
        use crate::citizens::population::LegacyUnits;
        let u = |name: &str| Some(Unit { code: "x".into(), name: name.into() });
        let a = Address {
            detail: Some("Số 5 thôn Đông".into()),
            province: u("Thành phố Hà Nội"),
            commune: u("Phường Ba Đình"),
            legacy: LegacyUnits {
                province: u("Thành phố Hà Nội"),
                district: u("Quận Ba Đình"),
                commune: u("Phường Trúc Bạch"),
            },
        };
        let now = residence(Some("Số 5 thôn Đông, phường Ba Đình, TP Hà Nội"), Some(&a), false);
        assert_eq!(now.result, Outcome::Mismatch, "an abbreviated province is not the record's province");
        let now = residence(Some("so 5 thon Dong, Phuong Ba Dinh, Thanh pho Ha Noi"), Some(&a), false);
        assert_eq!(now.result, Outcome::Equivalent);
        assert!(now.explanation.en.contains("current"));
        assert!(now.units.is_some(), "a matched residence says what it maps to");
        let old = residence(Some("Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội"), Some(&a), false);
        assert_eq!(old.result, Outcome::Equivalent);
        assert!(old.explanation.en.contains("old"));
        assert_eq!(old.units.as_ref().and_then(|u| u.after_2025.commune.as_deref()), Some("Phường Ba Đình"));
        let wrong = residence(Some("Xã An Lư, Thành phố Hải Phòng"), Some(&a), false);
        assert_eq!(wrong.result, Outcome::Mismatch);
        assert!(wrong.units.is_none() && wrong.suggestion.is_none(), "nothing revealed");
        assert!(residence(Some("Xã An Lư"), Some(&a), true).suggestion.is_some_and(|s| s.contains("Phường Ba Đình")));
    }
}
