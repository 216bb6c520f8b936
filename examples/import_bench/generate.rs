//! A realistic officer file for benchmarks and tests: a province with `units` communes, wards
//! and departments, and officers with Vietnamese names and valid personal IDs taken from the
//! mocks' synthetic citizens (each birth-registration province, gender and year consistent).

use xacthuc::officers::{NewUnit, UnitKind};

const PLACES: [&str; 10] = [
    "An Lư",
    "Thủy Triều",
    "Đông Hải",
    "Hưng Đạo",
    "Kiến Thụy",
    "Lê Chân",
    "Ngô Quyền",
    "Bạch Đằng",
    "Cát Hải",
    "Tiên Lãng",
];
const POSITIONS: [&str; 5] =
    ["Chuyên viên", "Công chức tư pháp - hộ tịch", "Phó Chủ tịch", "Văn thư", "Cán bộ một cửa"];

/// The province `31` and `n` units below it, codes `31.u001`…
pub fn units(n: usize) -> Vec<NewUnit> {
    let mut out = vec![NewUnit {
        code: "31".into(),
        name: "Thành phố Hải Phòng".into(),
        kind: UnitKind::Province,
        parent_code: None,
    }];
    for i in 1..=n {
        let (kind, prefix) = match i % 3 {
            0 => (UnitKind::Department, "Sở"),
            1 => (UnitKind::Commune, "Xã"),
            _ => (UnitKind::Ward, "Phường"),
        };
        out.push(NewUnit {
            code: format!("31.u{i:03}"),
            name: format!("{prefix} {} {i}", PLACES[i % PLACES.len()]),
            kind,
            parent_code: Some("31".into()),
        });
    }
    out
}

/// `count` officers spread over `units` units, as an import file (header included).
pub fn officers_csv(count: usize, units: usize, seed: u64) -> Vec<u8> {
    let citizens = xacthuc_mocks::citizens::generate(seed, count);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = ["username", "full_name", "personal_id", "email", "phone", "unit_code", "position", "roles"];
    w.write_record(header).expect("in memory");
    for (i, c) in citizens.iter().take(count).enumerate() {
        let folded = vn_identity::fold_name(&c.name).to_lowercase();
        let base: String = folded.split_whitespace().collect::<Vec<_>>().join(".");
        let base: String = base.chars().filter(|ch| ch.is_ascii_alphanumeric() || *ch == '.').take(40).collect();
        let username = format!("{base}.{i}");
        w.write_record([
            username.as_str(),
            &c.name,
            c.personal_id.as_str(),
            &format!("{username}@haiphong.gov.vn"),
            &format!("09{:08}", i * 7919 % 100_000_000),
            &format!("31.u{:03}", i % units + 1),
            POSITIONS[i % POSITIONS.len()],
            if i % 4 == 0 { "eoffice:lanh-dao;one-stop:xu-ly" } else { "eoffice:chuyen-vien" },
        ])
        .expect("in memory");
    }
    w.into_inner().expect("in memory")
}
