//! The SOAP XML envelope the provincial platform relays inside the JSON `message` field.
//!
//! The element names follow public integration code (`Envelope/Body/CongdanCollection/
//! CongDan`, `MaTinhThanh`/`MaQuanHuyen`/`MaPhuongXa`); the exact child elements, the
//! `SauSapNhap` (post-2025) address block and the fault codes are our own invention.

use std::fmt::Write;

use crate::citizens::{Address, CardStatus, Citizen, LifeStatus};

const HEAD: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>"#;
const TAIL: &str = "</soap:Body></soap:Envelope>";

/// Fault codes (`detail/MaLoi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    NotFound,
    Mismatch,
    Deceased,
    InvalidRequest,
}

impl FaultCode {
    pub fn code(self) -> &'static str {
        match self {
            FaultCode::NotFound => "KHONG_TIM_THAY",
            FaultCode::Mismatch => "THONG_TIN_KHONG_KHOP",
            FaultCode::Deceased => "CONG_DAN_DA_MAT",
            FaultCode::InvalidRequest => "YEU_CAU_KHONG_HOP_LE",
        }
    }
}

pub fn fault(code: FaultCode, message: &str) -> String {
    let side = if code == FaultCode::InvalidRequest { "soap:Client" } else { "soap:Server" };
    format!(
        "{HEAD}<soap:Fault><faultcode>{side}</faultcode><faultstring>{}</faultstring>\
         <detail><MaLoi>{}</MaLoi></detail></soap:Fault>{TAIL}",
        escape(message),
        code.code()
    )
}

/// A `CongdanCollection` of the given records.
pub fn collection<'a>(
    records: impl IntoIterator<Item = &'a Citizen>,
    head_name: impl Fn(&Citizen) -> String,
) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str(HEAD);
    out.push_str("<CongdanCollection>");
    for c in records {
        congdan(&mut out, c, &head_name(c));
    }
    out.push_str("</CongdanCollection>");
    out.push_str(TAIL);
    out
}

fn congdan(out: &mut String, c: &Citizen, head_name: &str) {
    let _ = write!(
        out,
        "<CongDan><SoDinhDanh>{}</SoDinhDanh><HoVaTen>{}</HoVaTen>\
         <NgayThangNamSinh>{}</NgayThangNamSinh><GioiTinh>{}</GioiTinh>\
         <DanToc><Ma>{}</Ma><Ten>{}</Ten></DanToc><TonGiao><Ma>{}</Ma><Ten>{}</Ten></TonGiao>\
         <QuocTich><Ma>VN</Ma><Ten>{}</Ten></QuocTich>",
        c.personal_id,
        escape(&c.population_name()),
        c.birth_date_compact(),
        // The national catalogue codes gender 1 male, 2 female (the e-ID says "Nam"/"Nữ").
        if c.gender == vn_identity::Gender::Male { 1 } else { 2 },
        c.ethnicity_code,
        escape(c.ethnicity),
        c.religion_code,
        escape(c.religion),
        escape(c.nationality),
    );
    if let Some(old) = c.old_id() {
        let _ = write!(out, "<SoCMND>{old}</SoCMND>");
    }
    address(out, "QueQuan", &c.origin, false);
    address(out, "ThuongTru", &c.permanent, true);
    address(out, "NoiOHienTai", &c.current, true);
    let _ = write!(
        out,
        "<ChuHo><SoDinhDanh>{}</SoDinhDanh><HoVaTen>{}</HoVaTen></ChuHo>\
         <QuanHeVoiChuHo>{}</QuanHeVoiChuHo><TinhTrang>{}</TinhTrang>\
         <TheCanCuoc><SoThe>{}</SoThe><TrangThai>{}</TrangThai></TheCanCuoc></CongDan>",
        c.household_head,
        escape(head_name),
        escape(c.relation),
        match c.status {
            LifeStatus::Living => "CON_SONG",
            LifeStatus::Deceased => "DA_MAT",
        },
        // The card number is the personal ID since 2021; none when not issued.
        if c.card == CardStatus::NotIssued { String::new() } else { c.personal_id.to_string() },
        match c.card {
            CardStatus::Valid => "HOP_LE",
            CardStatus::Revoked => "DA_THU_HOI",
            CardStatus::NotIssued => "CHUA_CAP",
        },
    );
}

/// Old three-level shape (province 2 digits, district 3, commune 5), plus the post-2025
/// two-level shape in `SauSapNhap`.
fn address(out: &mut String, tag: &str, a: &Address, street: bool) {
    let _ = write!(out, "<{tag}>");
    if street {
        let _ = write!(out, "<ChiTiet>{}</ChiTiet>", escape(&a.street()));
    }
    let _ = write!(
        out,
        "<MaTinhThanh>{:02}</MaTinhThanh><TenTinhThanh>{}</TenTinhThanh>\
         <MaQuanHuyen>{:03}</MaQuanHuyen><TenQuanHuyen>{}</TenQuanHuyen>\
         <MaPhuongXa>{:05}</MaPhuongXa><TenPhuongXa>{}</TenPhuongXa>\
         <SauSapNhap><MaTinhThanh>{:02}</MaTinhThanh><TenTinhThanh>{}</TenTinhThanh>\
         <MaPhuongXa>{:05}</MaPhuongXa><TenPhuongXa>{}</TenPhuongXa></SauSapNhap></{tag}>",
        a.old_province,
        escape(a.old_province_name()),
        a.old_district,
        escape(&a.old_district_name()),
        a.old_commune,
        escape(&a.old_commune_name()),
        a.new_province,
        escape(a.new_province_name()),
        a.new_commune,
        escape(&a.new_commune_name()),
    );
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
