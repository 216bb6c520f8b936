//! e-ID accounts: every synthetic citizen with an e-ID level, plus the demo enterprise and
//! organisation accounts. Nothing is stored per account; it is all derived from the population.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use vn_identity::PersonalId;

use crate::citizens::{DEMO_ORGS, DemoCase, Population, passcode_for};

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
    claims: Map<String, Value>,
}

impl Account {
    /// Looks up an account by login name. `None` if unknown or without an e-ID account.
    pub fn find(population: &Population, login: &str) -> Option<Account> {
        let login = login.trim();
        if let Some(org) = DEMO_ORGS.iter().find(|o| o.login == login) {
            return Some(org_account(org.case, org.login, org.name, org.passcode));
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

fn org_account(case: DemoCase, login: &str, name: &str, passcode: &str) -> Account {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(subject(login)));
    claims.insert("TechID".into(), json!(tech_id(login)));
    claims.insert("loginIdp".into(), json!("BCA"));
    let kind = if case == DemoCase::Enterprise {
        claims.insert("LoaiTaiKhoan".into(), json!("2"));
        claims.insert("MaSoDoanhNghiep".into(), json!(login));
        claims.insert("TenDoanhNghiep".into(), json!(name));
        AccountKind::Enterprise
    } else {
        claims.insert("LoaiTaiKhoan".into(), json!("3"));
        claims.insert("TenToChuc".into(), json!(name));
        AccountKind::Organisation
    };
    Account { kind, login: login.to_string(), level: 2, passcode: passcode.to_string(), claims }
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
