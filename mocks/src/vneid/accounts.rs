//! e-ID accounts: every synthetic citizen with an e-ID level, plus the demo enterprise and
//! organisation accounts. Nothing is stored per account; it is all derived from the population.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use vn_identity::PersonalId;

use crate::citizens::{
    DEMO_ORGS, DemoCase, DemoOrg, DemoRepresentative, Population, UNREGISTERED_REPRESENTATIVE_ID, demo_citizen,
    passcode_for,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Citizen,
    Enterprise,
    Organisation,
}

/// An e-ID account as the login and token endpoints need it.
#[derive(Debug, Clone)]
pub struct Account {
    pub kind: AccountKind,
    /// What the user typed: personal ID, tax code or TechID.
    pub login: String,
    pub level: u8,
    pub passcode: String,
    /// A dissolved enterprise: the e-ID refuses its login (`access_denied`).
    pub dissolved: bool,
    claims: Map<String, Value>,
}

impl Account {
    /// Looks up an account by login name. `None` if unknown or without an e-ID account.
    pub fn find(population: &Population, login: &str) -> Option<Account> {
        let login = login.trim();
        if let Some(org) = DEMO_ORGS.iter().find(|o| o.login == login) {
            return Some(org_account(org));
        }
        let id = PersonalId::parse(login).ok()?;
        let c = population.get(&id)?;
        let level = c.eid_level?;
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(subject(login)));
        claims.insert("LoaiTaiKhoan".into(), json!("1"));
        claims.insert("SoDinhDanh".into(), json!(id.as_str()));
        claims.insert("HoVaTen".into(), json!(c.name));
        claims.insert("NgayThangNamSinh".into(), json!(c.birth_date_compact()));
        claims.insert("GioiTinh".into(), json!(c.gender.vietnamese()));
        claims.insert("TechID".into(), json!(tech_id(login)));
        claims.insert("loginIdp".into(), json!("BCA"));
        Some(Account {
            kind: AccountKind::Citizen,
            login: login.to_string(),
            level,
            passcode: passcode_for(&id),
            dissolved: false,
            claims,
        })
    }

    /// Claims about the person or body, as the real gateway releases them (wire names kept).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    pub fn subject(&self) -> String {
        subject(&self.login)
    }
}

fn org_account(org: &DemoOrg) -> Account {
    let login = org.login;
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(subject(login)));
    claims.insert("TechID".into(), json!(tech_id(login)));
    claims.insert("loginIdp".into(), json!("BCA"));
    claims.insert("LoaiTaiKhoan".into(), json!(org.account_type().to_string()));
    claims.insert("DiaChi".into(), json!(org.address));
    claims.insert("NguoiDaiDien".into(), representative(org.representative));
    let kind = if org.case == DemoCase::Organisation {
        claims.insert("TenToChuc".into(), json!(org.name));
        AccountKind::Organisation
    } else {
        claims.insert("MaSoDoanhNghiep".into(), json!(login));
        claims.insert("TenDoanhNghiep".into(), json!(org.name));
        AccountKind::Enterprise
    };
    Account {
        kind,
        login: login.to_string(),
        level: 2,
        passcode: org.passcode.to_string(),
        dissolved: org.case == DemoCase::DissolvedEnterprise,
        claims,
    }
}

/// `NguoiDaiDien` as an object with what a population check needs (our invention: the real
/// shape is not public).
fn representative(r: DemoRepresentative) -> Value {
    match r {
        DemoRepresentative::Demo(i) => {
            let c = demo_citizen(i);
            json!({ "HoVaTen": c.name, "SoDinhDanh": c.personal_id.as_str(), "NgayThangNamSinh": c.birth_date_compact() })
        }
        DemoRepresentative::Unregistered { name, birth_date } => {
            json!({ "HoVaTen": name, "SoDinhDanh": UNREGISTERED_REPRESENTATIVE_ID, "NgayThangNamSinh": birth_date })
        }
    }
}

/// A stable UUID-shaped subject per account (Keycloak realms use UUIDs), derived so that the
/// same person always gets the same `sub` without storing anything.
fn subject(login: &str) -> String {
    uuid_from(b"vneid-sub", login)
}

fn tech_id(login: &str) -> String {
    uuid_from(b"vneid-techid", login)
}

fn uuid_from(domain: &[u8], login: &str) -> String {
    let h = Sha256::new().chain_update(domain).chain_update(login.as_bytes()).finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}
