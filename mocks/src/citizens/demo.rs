//! Well-known demo identities, always the first citizens of every generated population and
//! valid at the e-ID mock, so that xacthuc can print them at start and people can try each
//! awkward case by hand. Their IDs do not depend on the seed.

use serde::Serialize;
use vn_identity::{Gender, PersonalId};

use super::generate::{address, serial_for};
use super::model::{CardStatus, Citizen, LifeStatus, NameVariant, passcode_for};
use super::rng::Rng;

/// Number of demo citizens (indices `0..DEMO_COUNT`).
pub const DEMO_COUNT: u32 = 8;

/// Which situation a demo identity illustrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DemoCase {
    NormalLevel2,
    Level1Only,
    NameDiffersInCase,
    NameDiffersInDiacritics,
    NameDiffersInUnicodeForm,
    Deceased,
    RevokedCard,
    ChildUnder14,
    Enterprise,
    Organisation,
    EnterpriseUnregisteredRepresentative,
    DissolvedEnterprise,
}

impl DemoCase {
    pub fn description(self) -> &'static str {
        match self {
            DemoCase::NormalLevel2 => "normal citizen, e-ID level 2",
            DemoCase::Level1Only => "e-ID level 1 only (acr_values=2 must fail)",
            DemoCase::NameDiffersInCase => "population record has the name upper-case with diacritics (matches)",
            DemoCase::NameDiffersInDiacritics => "population record has the name without diacritics (must not match)",
            DemoCase::NameDiffersInUnicodeForm => "population record has the name in Unicode NFD (matches)",
            DemoCase::Deceased => "population record says deceased; e-ID login still works",
            DemoCase::RevokedCard => "card revoked in the population record; level 2",
            DemoCase::ChildUnder14 => "child under 14, level 1, no card",
            DemoCase::Enterprise => {
                "enterprise account (LoaiTaiKhoan 2), log in with tax code; representative is demo citizen Trần Thị Bích Ngọc"
            }
            DemoCase::Organisation => {
                "organisation account (LoaiTaiKhoan 3), log in with its code; representative is demo citizen Nguyễn Văn An"
            }
            DemoCase::EnterpriseUnregisteredRepresentative => {
                "enterprise whose legal representative is not in the population database (login must be refused)"
            }
            DemoCase::DissolvedEnterprise => "dissolved enterprise: the e-ID refuses the login with access_denied",
        }
    }
}

/// A demo identity with its credentials, for printing at start.
#[derive(Debug, Clone, Serialize)]
pub struct DemoCitizen {
    /// What to type in the login form: the personal ID, or the tax code / TechID for
    /// enterprise and organisation accounts.
    pub login: String,
    /// Personal ID, for citizens (empty for enterprise and organisation accounts).
    pub personal_id: String,
    /// The old 9-digit CMND number the population database links, for citizens born before
    /// 2000; empty otherwise.
    pub old_id: String,
    pub passcode: String,
    /// e-ID account level (`acr`).
    pub level: u8,
    /// `LoaiTaiKhoan`: 1 citizen, 2 enterprise, 3 organisation.
    pub account_type: u8,
    /// Name at the e-ID.
    pub name: String,
    /// Name in the population database (empty for enterprise and organisation accounts).
    pub population_name: String,
    pub case: DemoCase,
}

struct Spec {
    case: DemoCase,
    name: &'static str,
    gender: Gender,
    date: (u16, u8, u8),
    province: u16,
    variant: NameVariant,
    level: u8,
}

const SPECS: [Spec; DEMO_COUNT as usize] = [
    spec(DemoCase::NormalLevel2, "Trần Thị Bích Ngọc", Gender::Female, (1988, 3, 14), 1, NameVariant::Same, 2),
    spec(DemoCase::Level1Only, "Lê Minh Tuấn", Gender::Male, (1995, 7, 2), 40, NameVariant::Same, 1),
    spec(DemoCase::NameDiffersInCase, "Nguyễn Văn An", Gender::Male, (1979, 11, 20), 79, NameVariant::UpperCase, 2),
    spec(
        DemoCase::NameDiffersInDiacritics,
        "Phạm Thị Hương",
        Gender::Female,
        (1992, 5, 9),
        38,
        NameVariant::NoDiacritics,
        2,
    ),
    spec(
        DemoCase::NameDiffersInUnicodeForm,
        "Hoàng Đức Thắng",
        Gender::Male,
        (1983, 1, 25),
        31,
        NameVariant::Decomposed,
        2,
    ),
    spec(DemoCase::Deceased, "Đỗ Văn Hùng", Gender::Male, (1941, 9, 30), 36, NameVariant::Same, 2),
    spec(DemoCase::RevokedCard, "Vũ Thị Lan", Gender::Female, (1985, 12, 1), 48, NameVariant::Same, 2),
    spec(DemoCase::ChildUnder14, "Nguyễn Gia Bảo", Gender::Male, (2015, 6, 15), 79, NameVariant::Same, 1),
];

#[allow(clippy::too_many_arguments)]
const fn spec(
    case: DemoCase,
    name: &'static str,
    gender: Gender,
    date: (u16, u8, u8),
    province: u16,
    variant: NameVariant,
    level: u8,
) -> Spec {
    Spec { case, name, gender, date, province, variant, level }
}

/// Enterprise and organisation demo accounts (e-ID only; not in the population database).
pub struct DemoOrg {
    pub case: DemoCase,
    pub login: &'static str,
    pub name: &'static str,
    pub passcode: &'static str,
    /// Head-office address (`DiaChi`).
    pub address: &'static str,
    pub representative: DemoRepresentative,
}

/// The legal representative (`NguoiDaiDien`) the e-ID reports for a demo organisation.
#[derive(Debug, Clone, Copy)]
pub enum DemoRepresentative {
    /// The demo citizen at this index (in the population database).
    Demo(u32),
    /// A person with a well-formed personal ID that the population database never holds
    /// ([`UNREGISTERED_REPRESENTATIVE_ID`]).
    Unregistered { name: &'static str, birth_date: &'static str },
}

/// A personal ID no generated population contains (the index skips it): the representative of
/// the demo enterprise whose representative is not in the population database.
pub const UNREGISTERED_REPRESENTATIVE_ID: &str = "001080999999";

pub const DEMO_ORGS: [DemoOrg; 4] = [
    DemoOrg {
        case: DemoCase::Enterprise,
        login: "0101234567",
        name: "Công ty TNHH Phần mềm Sông Hồng",
        passcode: "246810",
        address: "Số 12 phố Tràng Tiền, Phường Hoàn Kiếm, Thành phố Hà Nội",
        representative: DemoRepresentative::Demo(0),
    },
    DemoOrg {
        case: DemoCase::Organisation,
        login: "TC000000001",
        name: "Hợp tác xã Nông nghiệp Tân Lập",
        passcode: "135790",
        address: "Thôn Tân Lập, Xã Tân Lập, Tỉnh Tây Ninh",
        representative: DemoRepresentative::Demo(2),
    },
    DemoOrg {
        case: DemoCase::EnterpriseUnregisteredRepresentative,
        login: "0312345678",
        name: "Công ty Cổ phần Thương mại Bến Thành",
        passcode: "112233",
        address: "Số 8 đường Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
        representative: DemoRepresentative::Unregistered { name: "Lý Văn Phúc", birth_date: "19800412" },
    },
    DemoOrg {
        case: DemoCase::DissolvedEnterprise,
        login: "0100000001",
        name: "Công ty TNHH Xây dựng Hồng Hà",
        passcode: "000111",
        address: "Số 3 phố Hàng Bài, Phường Hoàn Kiếm, Thành phố Hà Nội",
        representative: DemoRepresentative::Demo(4),
    },
];

impl DemoOrg {
    /// `LoaiTaiKhoan`: 2 enterprise, 3 organisation.
    pub fn account_type(&self) -> u8 {
        if self.case == DemoCase::Organisation { 3 } else { 2 }
    }
}

fn demo_id(index: u32) -> PersonalId {
    let s = &SPECS[index as usize];
    PersonalId::from_parts(s.province, s.gender, s.date.0, serial_for(index)).expect("demo provinces are valid codes")
}

/// The demo citizen at `index` (< [`DEMO_COUNT`]) as a population record.
pub fn demo_citizen(index: u32) -> Citizen {
    let s = &SPECS[(index % DEMO_COUNT) as usize];
    let id = demo_id(index % DEMO_COUNT);
    // Addresses are still synthetic, from a fixed stream, so they too are seed-independent.
    let mut rng = Rng::new(0xDE70, u64::from(index));
    let home = address(&mut rng, s.province);
    let child = s.case == DemoCase::ChildUnder14;
    Citizen {
        index,
        personal_id: id,
        birth_registration_province: s.province,
        name: s.name.to_string(),
        name_variant: s.variant,
        birth_year: s.date.0,
        birth_month: s.date.1,
        birth_day: s.date.2,
        gender: s.gender,
        ethnicity_code: "01",
        ethnicity: "Kinh",
        religion_code: "00",
        religion: "Không",
        nationality: "Việt Nam",
        origin: home,
        permanent: home,
        current: home,
        // The child belongs to the household of the "case-only" demo father, Nguyễn Văn An.
        household_head: if child { demo_id(2) } else { id },
        relation: if child { "Con" } else { "Chủ hộ" },
        status: if s.case == DemoCase::Deceased { LifeStatus::Deceased } else { LifeStatus::Living },
        card: match s.case {
            DemoCase::RevokedCard => CardStatus::Revoked,
            DemoCase::ChildUnder14 => CardStatus::NotIssued,
            _ => CardStatus::Valid,
        },
        eid_level: Some(s.level),
    }
}

/// All demo identities: the eight demo citizens, then the enterprise and organisation accounts.
pub fn demo_citizens() -> Vec<DemoCitizen> {
    let mut out: Vec<DemoCitizen> = (0..DEMO_COUNT)
        .map(|i| {
            let c = demo_citizen(i);
            DemoCitizen {
                login: c.personal_id.to_string(),
                personal_id: c.personal_id.to_string(),
                old_id: c.old_id().unwrap_or_default(),
                passcode: passcode_for(&c.personal_id),
                level: c.eid_level.unwrap_or(1),
                account_type: 1,
                name: c.name.clone(),
                population_name: c.population_name(),
                case: SPECS[i as usize].case,
            }
        })
        .collect();
    out.extend(DEMO_ORGS.iter().map(|o| DemoCitizen {
        login: o.login.to_string(),
        personal_id: String::new(),
        old_id: String::new(),
        passcode: o.passcode.to_string(),
        level: 2,
        account_type: o.account_type(),
        name: o.name.to_string(),
        population_name: String::new(),
        case: o.case,
    }));
    out
}
