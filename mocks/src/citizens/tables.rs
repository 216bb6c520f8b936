//! Weighted tables for synthetic citizens.
//!
//! Surname weights follow commonly cited shares of Vietnamese surnames (Nguyễn ≈ 38 %, Trần ≈
//! 11 %, Lê ≈ 9.5 %, …). Middle and given names are frequent ones, weighted by rough
//! impression, not by a statistic: that part is our own invention.

pub const SURNAMES: &[(&str, u32)] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 30),
    ("Huỳnh", 21),
    ("Phan", 45),
    ("Vũ", 22),
    ("Võ", 17),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 6),
    ("Trịnh", 5),
    ("Đào", 5),
    ("Mai", 4),
    ("Lương", 3),
    ("Tạ", 2),
    ("Quách", 1),
];

pub const MALE_MIDDLE: &[(&str, u32)] = &[
    ("Văn", 300),
    ("Hữu", 60),
    ("Đức", 80),
    ("Minh", 90),
    ("Quang", 60),
    ("Công", 40),
    ("Thành", 40),
    ("Xuân", 30),
    ("Ngọc", 20),
    ("Gia", 30),
    ("Hoàng", 30),
    ("Trọng", 25),
    ("Tuấn", 20),
    ("Đình", 30),
];

pub const FEMALE_MIDDLE: &[(&str, u32)] = &[
    ("Thị", 350),
    ("Ngọc", 70),
    ("Thu", 40),
    ("Thanh", 50),
    ("Minh", 30),
    ("Phương", 30),
    ("Hoài", 15),
    ("Bảo", 20),
    ("Khánh", 25),
    ("Mai", 20),
    ("Thùy", 25),
    ("Hồng", 25),
];

pub const MALE_GIVEN: &[(&str, u32)] = &[
    ("An", 30),
    ("Anh", 50),
    ("Bình", 25),
    ("Cường", 25),
    ("Dũng", 35),
    ("Đức", 30),
    ("Hải", 35),
    ("Hiếu", 25),
    ("Hoàng", 20),
    ("Hùng", 40),
    ("Huy", 40),
    ("Khoa", 20),
    ("Long", 35),
    ("Minh", 45),
    ("Nam", 40),
    ("Phong", 25),
    ("Phúc", 20),
    ("Quân", 25),
    ("Sơn", 30),
    ("Thắng", 25),
    ("Thành", 30),
    ("Trung", 30),
    ("Tuấn", 45),
    ("Việt", 20),
    ("Vinh", 20),
    ("Khôi", 15),
    ("Nghĩa", 15),
    ("Quý", 10),
];

pub const FEMALE_GIVEN: &[(&str, u32)] = &[
    ("Anh", 45),
    ("Chi", 25),
    ("Dung", 25),
    ("Giang", 20),
    ("Hà", 30),
    ("Hằng", 30),
    ("Hạnh", 25),
    ("Hoa", 30),
    ("Hương", 45),
    ("Huyền", 30),
    ("Lan", 35),
    ("Linh", 45),
    ("Loan", 15),
    ("Mai", 35),
    ("My", 20),
    ("Nga", 25),
    ("Ngọc", 25),
    ("Nhung", 20),
    ("Oanh", 15),
    ("Phương", 30),
    ("Quỳnh", 25),
    ("Thảo", 35),
    ("Thủy", 30),
    ("Trang", 45),
    ("Vy", 20),
    ("Yến", 20),
    ("Ánh Nguyệt", 5),
    ("Ngọc Ánh", 5),
];

/// Ethnic groups with their codes in the national catalogue (01 Kinh, …), roughly weighted by
/// the 2019 census.
pub const ETHNICITIES: &[((&str, &str), u32)] = &[
    (("01", "Kinh"), 853),
    (("02", "Tày"), 19),
    (("03", "Thái"), 18),
    (("04", "Hoa"), 8),
    (("05", "Khơ-me"), 14),
    (("06", "Mường"), 15),
    (("07", "Nùng"), 11),
    (("08", "Mông"), 15),
    (("09", "Dao"), 9),
    (("10", "Gia-rai"), 5),
    (("11", "Ngái"), 1),
    (("12", "Ê-đê"), 4),
];

pub const RELIGIONS: &[((&str, &str), u32)] = &[
    (("00", "Không"), 860),
    (("01", "Phật giáo"), 48),
    (("02", "Công giáo"), 61),
    (("03", "Tin lành"), 10),
    (("04", "Cao Đài"), 6),
    (("05", "Phật giáo Hòa Hảo"), 10),
    (("06", "Hồi giáo"), 1),
];

/// Stems for synthetic commune and district names. Real unit names are not reproduced: the
/// codes and names of communes here are our own invention.
pub const PLACE_STEMS: &[&str] = &[
    "An Phú", "Bình An", "Tân Lập", "Hòa Bình", "Quang Trung", "Đông Hưng", "Tân Tiến",
    "Phú Lợi", "Hưng Thịnh", "Thuận An", "Vĩnh Phúc", "Minh Khai", "Trung Hòa", "Đồng Tâm",
    "Hợp Thành", "Thanh Xuân", "Long Biên", "Phước Long", "Tân Phong", "Yên Hòa",
];

/// Relative population weights of old provinces; provinces not listed weigh 12. Rough, in
/// hundreds of thousands of people, so that the two big cities dominate as they do.
pub const PROVINCE_WEIGHTS: &[(u16, u32)] = &[
    (1, 85),
    (79, 94),
    (38, 37),
    (40, 34),
    (75, 32),
    (74, 26),
    (31, 21),
    (89, 19),
    (30, 19),
    (64, 15),
    (66, 19),
    (36, 18),
    (34, 19),
    (52, 15),
];
