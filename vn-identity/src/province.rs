//! Province codes of birth registration (digits 1–3 of a personal ID), and the 2025 merger.
//!
//! Personal IDs keep their old 63-province code for life; the July 2025 reform (Resolution
//! 202/2025/QH15) merged the provinces into 34. Both are needed: the ID encodes the old code,
//! addresses issued after the reform use the new one.

/// One of the 63 pre-2025 provinces, as encoded in personal IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Province {
    /// Three-digit code as it appears in the ID, e.g. 1 for "001".
    pub code: u16,
    pub name: &'static str,
    /// Code of the post-2025 province this one merged into (see [`NEW_PROVINCES`]).
    pub new_code: u16,
}

/// One of the 34 provinces and centrally-run cities since 1 July 2025.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NewProvince {
    /// Two-digit administrative code (the code of the province that kept its seat).
    pub code: u16,
    pub name: &'static str,
}

const fn p(code: u16, name: &'static str, new_code: u16) -> Province {
    Province { code, name, new_code }
}

/// The 63 old province codes (Circular 07/2016), each with the province it merged into.
pub const PROVINCES: [Province; 63] = [
    p(1, "Hà Nội", 1),
    p(2, "Hà Giang", 8),
    p(4, "Cao Bằng", 4),
    p(6, "Bắc Kạn", 19),
    p(8, "Tuyên Quang", 8),
    p(10, "Lào Cai", 15),
    p(11, "Điện Biên", 11),
    p(12, "Lai Châu", 12),
    p(14, "Sơn La", 14),
    p(15, "Yên Bái", 15),
    p(17, "Hòa Bình", 25),
    p(19, "Thái Nguyên", 19),
    p(20, "Lạng Sơn", 20),
    p(22, "Quảng Ninh", 22),
    p(24, "Bắc Giang", 24),
    p(25, "Phú Thọ", 25),
    p(26, "Vĩnh Phúc", 25),
    p(27, "Bắc Ninh", 24),
    p(30, "Hải Dương", 31),
    p(31, "Hải Phòng", 31),
    p(33, "Hưng Yên", 33),
    p(34, "Thái Bình", 33),
    p(35, "Hà Nam", 37),
    p(36, "Nam Định", 37),
    p(37, "Ninh Bình", 37),
    p(38, "Thanh Hóa", 38),
    p(40, "Nghệ An", 40),
    p(42, "Hà Tĩnh", 42),
    p(44, "Quảng Bình", 44),
    p(45, "Quảng Trị", 44),
    p(46, "Thừa Thiên Huế", 46),
    p(48, "Đà Nẵng", 48),
    p(49, "Quảng Nam", 48),
    p(51, "Quảng Ngãi", 51),
    p(52, "Bình Định", 52),
    p(54, "Phú Yên", 66),
    p(56, "Khánh Hòa", 56),
    p(58, "Ninh Thuận", 56),
    p(60, "Bình Thuận", 68),
    p(62, "Kon Tum", 51),
    p(64, "Gia Lai", 52),
    p(66, "Đắk Lắk", 66),
    p(67, "Đắk Nông", 68),
    p(68, "Lâm Đồng", 68),
    p(70, "Bình Phước", 75),
    p(72, "Tây Ninh", 80),
    p(74, "Bình Dương", 79),
    p(75, "Đồng Nai", 75),
    p(77, "Bà Rịa–Vũng Tàu", 79),
    p(79, "TP Hồ Chí Minh", 79),
    p(80, "Long An", 80),
    p(82, "Tiền Giang", 82),
    p(83, "Bến Tre", 86),
    p(84, "Trà Vinh", 86),
    p(86, "Vĩnh Long", 86),
    p(87, "Đồng Tháp", 82),
    p(89, "An Giang", 91),
    p(91, "Kiên Giang", 91),
    p(92, "Cần Thơ", 92),
    p(93, "Hậu Giang", 92),
    p(94, "Sóc Trăng", 92),
    p(95, "Bạc Liêu", 96),
    p(96, "Cà Mau", 96),
];

const fn n(code: u16, name: &'static str) -> NewProvince {
    NewProvince { code, name }
}

/// The 34 provinces and cities since 1 July 2025. A merged province is named after, and keeps
/// the code of, the province that kept the seat.
pub const NEW_PROVINCES: [NewProvince; 34] = [
    n(1, "Hà Nội"),
    n(4, "Cao Bằng"),
    n(8, "Tuyên Quang"),
    n(11, "Điện Biên"),
    n(12, "Lai Châu"),
    n(14, "Sơn La"),
    n(15, "Lào Cai"),
    n(19, "Thái Nguyên"),
    n(20, "Lạng Sơn"),
    n(22, "Quảng Ninh"),
    n(24, "Bắc Ninh"),
    n(25, "Phú Thọ"),
    n(31, "Hải Phòng"),
    n(33, "Hưng Yên"),
    n(37, "Ninh Bình"),
    n(38, "Thanh Hóa"),
    n(40, "Nghệ An"),
    n(42, "Hà Tĩnh"),
    n(44, "Quảng Trị"),
    n(46, "Huế"),
    n(48, "Đà Nẵng"),
    n(51, "Quảng Ngãi"),
    n(52, "Gia Lai"),
    n(56, "Khánh Hòa"),
    n(66, "Đắk Lắk"),
    n(68, "Lâm Đồng"),
    n(75, "Đồng Nai"),
    n(79, "TP Hồ Chí Minh"),
    n(80, "Tây Ninh"),
    n(82, "Đồng Tháp"),
    n(86, "Vĩnh Long"),
    n(91, "An Giang"),
    n(92, "Cần Thơ"),
    n(96, "Cà Mau"),
];

impl Province {
    /// Looks up an old (ID) province code. Returns `None` for codes never assigned, such as 3.
    pub fn by_code(code: u16) -> Option<&'static Province> {
        // The table is sorted by code, so a binary search keeps ID parsing cheap.
        PROVINCES.binary_search_by_key(&code, |p| p.code).ok().map(|i| &PROVINCES[i])
    }

    /// The code as the three digits used in personal IDs, e.g. "001".
    pub fn code_str(&self) -> String {
        format!("{:03}", self.code)
    }

    /// The post-2025 province this one belongs to.
    pub fn merged_into(&self) -> &'static NewProvince {
        // Every entry of PROVINCES names a code in NEW_PROVINCES (checked by a test), so the
        // fallback is unreachable; it avoids a panic path all the same.
        NewProvince::by_code(self.new_code).unwrap_or(&NEW_PROVINCES[0])
    }
}

impl NewProvince {
    pub fn by_code(code: u16) -> Option<&'static NewProvince> {
        NEW_PROVINCES.binary_search_by_key(&code, |p| p.code).ok().map(|i| &NEW_PROVINCES[i])
    }

    /// The old provinces merged into this one.
    pub fn predecessors(&self) -> impl Iterator<Item = &'static Province> + '_ {
        PROVINCES.iter().filter(move |p| p.new_code == self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_consistent() {
        assert!(PROVINCES.windows(2).all(|w| w[0].code < w[1].code));
        assert!(NEW_PROVINCES.windows(2).all(|w| w[0].code < w[1].code));
        for p in &PROVINCES {
            assert!(NewProvince::by_code(p.new_code).is_some(), "{}", p.name);
        }
        for n in &NEW_PROVINCES {
            assert!(n.predecessors().count() >= 1, "{}", n.name);
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(Province::by_code(1).map(|p| p.name), Some("Hà Nội"));
        assert_eq!(Province::by_code(96).map(|p| p.name), Some("Cà Mau"));
        assert!(Province::by_code(3).is_none());
        assert_eq!(Province::by_code(30).map(|p| p.merged_into().name), Some("Hải Phòng"));
        assert_eq!(Province::by_code(79).map(|p| p.code_str()), Some("079".to_string()));
    }
}
