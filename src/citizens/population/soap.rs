//! Parsing the SOAP envelope the provincial platform relays in the JSON `message` field:
//! `Envelope/Body/CongdanCollection/CongDan`, or `Envelope/Body/Fault`.
//!
//! A real XML parser (roxmltree) rather than string searching: namespaces, prefixes, entities
//! and CDATA all vary between platform versions, and a substring match on "<HoVaTen>" would
//! happily read a value from the wrong element. roxmltree refuses DTDs by default, so no entity
//! expansion tricks either.

use chrono::NaiveDate;
use roxmltree::{Document, Node};
use serde::{Deserialize, Serialize};
use vn_identity::{Gender, PersonalId};

use crate::citizens::national_formats::{parse_compact_date, parse_gender};

const SOAP_11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP_12: &str = "http://www.w3.org/2003/05/soap-envelope";

/// A coded catalogue value (ethnicity, religion, nationality).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeName {
    pub code: String,
    pub name: String,
}

/// An administrative unit: code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub code: String,
    pub name: String,
}

/// The pre-July-2025 three-level address units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyUnits {
    pub province: Option<Unit>,
    pub district: Option<Unit>,
    pub commune: Option<Unit>,
}

/// An address. `province`/`commune` are the current two-level units (after the 2025 reform)
/// when the record has them, else the old ones; `legacy` keeps the old three levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// House number, street, hamlet (`ChiTiet`).
    pub detail: Option<String>,
    pub province: Option<Unit>,
    pub commune: Option<Unit>,
    pub legacy: LegacyUnits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeStatus {
    Living,
    Deceased,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    Valid,
    Revoked,
    NotIssued,
    /// A status this version does not know; not refused (only a revoked card is).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdHead {
    pub personal_id: Option<PersonalId>,
    pub name: Option<String>,
}

/// A person as the population database records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationRecord {
    pub personal_id: PersonalId,
    /// The old 9-digit identity card number (CMND) the database links, if any (`SoCMND`).
    pub old_id: Option<String>,
    /// As stored (trimmed); may be upper-case or in NFD. Compare with `vn_identity::names_match`.
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub gender: Option<Gender>,
    pub ethnicity: Option<CodeName>,
    pub religion: Option<CodeName>,
    pub nationality: Option<CodeName>,
    /// Place of origin (`QueQuan`).
    pub origin: Option<Address>,
    /// Permanent residence (`ThuongTru`).
    pub permanent: Option<Address>,
    /// Current residence (`NoiOHienTai`).
    pub current: Option<Address>,
    pub household_head: Option<HouseholdHead>,
    pub relation_to_head: Option<String>,
    pub life_status: LifeStatus,
    pub card: CardStatus,
}

/// The body of a SOAP answer.
#[derive(Debug)]
pub enum Answer {
    Records(Vec<PopulationRecord>),
    Fault { code: Option<String>, message: String },
}

pub fn parse(xml: &str) -> Result<Answer, String> {
    let doc = Document::parse(xml).map_err(|e| format!("SOAP message is not XML: {e}"))?;
    let envelope = doc.root_element();
    if !is_soap(envelope, "Envelope") {
        return Err("SOAP message has no Envelope".into());
    }
    let body = elements(envelope).find(|n| is_soap(*n, "Body")).ok_or("SOAP Envelope has no Body")?;
    let content = elements(body).next().ok_or("SOAP Body is empty")?;
    if is_soap(content, "Fault") {
        let detail_code = child(content, "detail").and_then(|d| text(d, "MaLoi"));
        let message = text(content, "faultstring").unwrap_or_default();
        return Ok(Answer::Fault { code: detail_code, message });
    }
    if content.tag_name().name() != "CongdanCollection" {
        return Err(format!("unexpected SOAP Body content {:?}", content.tag_name().name()));
    }
    elements(content)
        .filter(|n| n.tag_name().name() == "CongDan")
        .map(congdan)
        .collect::<Result<Vec<_>, _>>()
        .map(Answer::Records)
}

fn congdan(n: Node) -> Result<PopulationRecord, String> {
    let personal_id = text(n, "SoDinhDanh").ok_or("CongDan without SoDinhDanh")?;
    let personal_id = PersonalId::parse(&personal_id).map_err(|_| "CongDan with a malformed SoDinhDanh")?;
    let full_name = text(n, "HoVaTen").ok_or("CongDan without HoVaTen")?;
    let birth_date = text(n, "NgayThangNamSinh").ok_or("CongDan without NgayThangNamSinh")?;
    let birth_date = parse_compact_date(&birth_date).ok_or("CongDan NgayThangNamSinh is not YYYYMMDD")?;
    let life_status = match text(n, "TinhTrang").as_deref() {
        Some("CON_SONG") | None => LifeStatus::Living,
        Some("DA_MAT") => LifeStatus::Deceased,
        Some(_) => return Err("CongDan with an unknown TinhTrang".into()),
    };
    let card = match child(n, "TheCanCuoc").and_then(|c| text(c, "TrangThai")).as_deref() {
        Some("HOP_LE") => CardStatus::Valid,
        Some("DA_THU_HOI") => CardStatus::Revoked,
        Some("CHUA_CAP") | None => CardStatus::NotIssued,
        Some(_) => CardStatus::Unknown,
    };
    Ok(PopulationRecord {
        personal_id,
        old_id: text(n, "SoCMND").filter(|s| s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())),
        full_name,
        birth_date,
        gender: text(n, "GioiTinh").as_deref().and_then(parse_gender),
        ethnicity: code_name(n, "DanToc"),
        religion: code_name(n, "TonGiao"),
        nationality: code_name(n, "QuocTich"),
        origin: child(n, "QueQuan").map(address),
        permanent: child(n, "ThuongTru").map(address),
        current: child(n, "NoiOHienTai").map(address),
        household_head: child(n, "ChuHo").map(|h| HouseholdHead {
            personal_id: text(h, "SoDinhDanh").and_then(|s| PersonalId::parse(&s).ok()),
            name: text(h, "HoVaTen"),
        }),
        relation_to_head: text(n, "QuanHeVoiChuHo"),
        life_status,
        card,
    })
}

fn address(n: Node) -> Address {
    let unit = |scope: Node, code: &str, name: &str| match (text(scope, code), text(scope, name)) {
        (None, None) => None,
        (c, nm) => Some(Unit { code: c.unwrap_or_default(), name: nm.unwrap_or_default() }),
    };
    let legacy = LegacyUnits {
        province: unit(n, "MaTinhThanh", "TenTinhThanh"),
        district: unit(n, "MaQuanHuyen", "TenQuanHuyen"),
        commune: unit(n, "MaPhuongXa", "TenPhuongXa"),
    };
    let (province, commune) = match child(n, "SauSapNhap") {
        Some(new) => (unit(new, "MaTinhThanh", "TenTinhThanh"), unit(new, "MaPhuongXa", "TenPhuongXa")),
        None => (legacy.province.clone(), legacy.commune.clone()),
    };
    Address { detail: text(n, "ChiTiet"), province, commune, legacy }
}

fn code_name(n: Node, tag: &str) -> Option<CodeName> {
    let c = child(n, tag)?;
    Some(CodeName { code: text(c, "Ma").unwrap_or_default(), name: text(c, "Ten")? })
}

fn is_soap(n: Node, local: &str) -> bool {
    let tag = n.tag_name();
    tag.name() == local && matches!(tag.namespace(), Some(SOAP_11 | SOAP_12))
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(Node::is_element)
}

/// The first child element with this local name, namespace ignored: the platform's payload
/// elements are unqualified in some versions and qualified in others.
fn child<'a, 'i>(n: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    elements(n).find(|c| c.tag_name().name() == local)
}

/// Trimmed text of a child element; `None` if absent or blank.
fn text(n: Node, local: &str) -> Option<String> {
    let c = child(n, local)?;
    let t: String = c.descendants().filter(Node::is_text).filter_map(|t| t.text()).collect();
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#;
    const TAIL: &str = "</soap:Body></soap:Envelope>";

    #[test]
    fn parses_a_record_with_both_address_shapes() {
        let xml = format!(
            "{HEAD}<CongdanCollection><CongDan><SoDinhDanh>001188012345</SoDinhDanh>\
             <HoVaTen>TRẦN THỊ &amp; BÍCH</HoVaTen><NgayThangNamSinh>19880314</NgayThangNamSinh>\
             <GioiTinh>2</GioiTinh><DanToc><Ma>01</Ma><Ten>Kinh</Ten></DanToc>\
             <NoiOHienTai><ChiTiet>Số 5 thôn Đông</ChiTiet><MaTinhThanh>01</MaTinhThanh><TenTinhThanh>Hà Nội</TenTinhThanh>\
             <MaQuanHuyen>001</MaQuanHuyen><TenQuanHuyen>Huyện X</TenQuanHuyen><MaPhuongXa>00001</MaPhuongXa>\
             <TenPhuongXa>Xã Y</TenPhuongXa><SauSapNhap><MaTinhThanh>01</MaTinhThanh><TenTinhThanh>Hà Nội</TenTinhThanh>\
             <MaPhuongXa>00009</MaPhuongXa><TenPhuongXa>Xã Z</TenPhuongXa></SauSapNhap></NoiOHienTai>\
             <TinhTrang>CON_SONG</TinhTrang><TheCanCuoc><SoThe>001188012345</SoThe><TrangThai>DA_THU_HOI</TrangThai></TheCanCuoc>\
             </CongDan></CongdanCollection>{TAIL}"
        );
        let Ok(Answer::Records(records)) = parse(&xml) else { panic!("records expected") };
        let r = &records[0];
        assert_eq!(r.full_name, "TRẦN THỊ & BÍCH");
        assert_eq!(r.gender, Some(Gender::Female));
        assert_eq!(r.card, CardStatus::Revoked);
        let cur = r.current.as_ref().expect("current");
        assert_eq!(cur.commune.as_ref().map(|u| u.name.as_str()), Some("Xã Z"));
        assert_eq!(cur.legacy.district.as_ref().map(|u| u.code.as_str()), Some("001"));
    }

    #[test]
    fn faults_and_garbage() {
        let xml = format!(
            "{HEAD}<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Không tìm thấy</faultstring>\
             <detail><MaLoi>KHONG_TIM_THAY</MaLoi></detail></soap:Fault>{TAIL}"
        );
        let Ok(Answer::Fault { code, .. }) = parse(&xml) else { panic!("fault expected") };
        assert_eq!(code.as_deref(), Some("KHONG_TIM_THAY"));
        assert!(parse("<soap:Envel").is_err());
        assert!(parse("<Envelope><Body/></Envelope>").is_err(), "no SOAP namespace");
        let dtd = format!("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>{HEAD}<CongdanCollection/>{TAIL}");
        assert!(parse(&dtd).is_err(), "DTDs refused");
    }
}
