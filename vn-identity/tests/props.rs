//! Property tests: IDs built from parts round-trip, arbitrary strings never panic the parser,
//! and name normalisation behaves as documented.

use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;
use vn_identity::province::PROVINCES;
use vn_identity::{Gender, PersonalId, fold_name, names_match};

proptest! {
    #[test]
    fn built_ids_round_trip(
        prov in 0usize..PROVINCES.len(),
        female in any::<bool>(),
        year in 1900u16..=2025,
        serial in 0u32..1_000_000,
    ) {
        let gender = if female { Gender::Female } else { Gender::Male };
        let code = PROVINCES[prov].code;
        let id = PersonalId::from_parts(code, gender, year, serial).unwrap();
        let parsed = PersonalId::parse_at(id.as_str(), 2025).unwrap();
        prop_assert_eq!(parsed, id);
        prop_assert_eq!(parsed.province_code(), code);
        prop_assert_eq!(parsed.gender(), gender);
        prop_assert_eq!(parsed.birth_year(), year);
        prop_assert_eq!(parsed.serial(), serial);
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,20}") {
        let _ = PersonalId::parse_at(&s, 2025);
    }

    #[test]
    fn twelve_digit_strings_are_accepted_or_explained(s in "[0-9]{12}") {
        match PersonalId::parse_at(&s, 2025) {
            Ok(id) => prop_assert_eq!(id.as_str(), s.as_str()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn names_match_is_invariant_under_encoding_case_and_spacing(
        words in proptest::collection::vec("[a-zA-ZàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđĐ]{1,8}", 1..5)
    ) {
        let name = words.join(" ");
        let nfd: String = name.nfd().collect();
        let upper = name.to_uppercase();
        let spaced = format!("  {}  ", words.join("   "));
        prop_assert!(names_match(&name, &nfd));
        prop_assert!(names_match(&name, &upper));
        prop_assert!(names_match(&name, &spaced));
        // Folding is idempotent, upper-case ASCII, and agrees across encodings.
        let folded = fold_name(&name);
        prop_assert_eq!(fold_name(&folded), folded.clone());
        prop_assert_eq!(fold_name(&nfd), folded.clone());
        prop_assert!(folded.chars().all(|c| c.is_ascii_uppercase() || c == ' '));
    }

    #[test]
    fn dropping_diacritics_breaks_the_match(word in "[a-z]{0,4}[ễắđộ][a-z]{0,4}") {
        let plain = fold_name(&word).to_lowercase();
        prop_assert!(!names_match(&word, &plain));
    }
}
