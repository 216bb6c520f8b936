//! Name normalisation for Vietnamese full names (`HoVaTen`).
//!
//! Two different needs:
//! - the population database's lookup wants `HoVaTen` upper-case without diacritics
//!   ([`fold_name`]): "Nguyễn Văn Đức" → "NGUYEN VAN DUC";
//! - xacthuc matches an e-ID name against a population record ([`names_match`]).
//!
//! **Matching rule (decided here, relied on by xacthuc):** two names match when they are equal
//! after Unicode NFC normalisation, trimming, collapsing runs of whitespace to one space, and
//! case folding. Diacritics are significant: "Nguyễn" and "Nguyen" do NOT match, because in
//! Vietnamese they are different names (Lê/Lễ, Đào/Dao), and the population database is the
//! authority on the diacritics. What does match is the same name in a different Unicode
//! encoding (NFC vs NFD, as some keyboards and older systems produce), a different case
//! ("NGUYỄN VĂN AN" vs "Nguyễn Văn An"), or different spacing. A caller that only has a folded
//! name (no diacritics) must compare with [`fold_name`] on both sides instead, knowingly.
//!
//! One Vietnamese-specific wrinkle: the tone mark on "oà/òa", "uỳ/ùy" may sit on either vowel
//! (old and new orthography). Those are different code points even after NFC, so they do not
//! match here; the population database itself is inconsistent on them, and treating them as
//! equal is a policy decision left to the caller.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// NFC, trimmed, with every run of whitespace collapsed to one ASCII space.
/// Keeps case and diacritics: this is the canonical stored form of a name.
pub fn normalize_name(name: &str) -> String {
    let nfc: String = name.nfc().collect();
    collapse_whitespace(&nfc)
}

/// Upper-case, without diacritics, whitespace collapsed: the form the population database's
/// `HoVaTen` expects. "đ"/"Đ" (and the look-alike "Ð", U+00D0, which some hand-keyed data
/// carries) become "D", since NFD does not decompose them.
pub fn fold_name(name: &str) -> String {
    let stripped: String = name
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' | 'Ð' => 'D',
            other => other,
        })
        .collect();
    collapse_whitespace(&stripped.to_uppercase())
}

/// Whether two full names denote the same name: equal after NFC, whitespace collapsing and
/// case folding; diacritics must match (see the module documentation).
pub fn names_match(a: &str, b: &str) -> bool {
    match_key(a) == match_key(b)
}

/// The key [`names_match`] compares; useful to index names.
pub fn match_key(name: &str) -> String {
    // Lower-casing can in principle produce decomposed sequences, so normalise again after it.
    let lowered = normalize_name(name).to_lowercase();
    lowered.nfc().collect()
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds() {
        assert_eq!(fold_name("Nguyễn Văn Đức"), "NGUYEN VAN DUC");
        assert_eq!(fold_name("  trần   thị  ánh\tnguyệt "), "TRAN THI ANH NGUYET");
        assert_eq!(fold_name("ĐẶNG"), "DANG");
        assert_eq!(fold_name("Ðỗ"), "DO");
    }

    #[test]
    fn matches_per_policy() {
        let nfc = "Nguyễn Văn An";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        assert!(names_match(nfc, &nfd));
        assert!(names_match(nfc, "NGUYỄN VĂN AN"));
        assert!(names_match(nfc, " nguyễn  văn   an "));
        assert!(!names_match(nfc, "Nguyen Van An"));
        assert!(!names_match("Lê Thị Hoa", "Lễ Thị Hoa"));
        assert!(!names_match("Đào", "Dao"));
    }
}
