//! The identity the e-ID asserts, parsed from the wire claims (`SoDinhDanh`, `HoVaTen`, …) into
//! typed values once, at the edge: a citizen ([`EidIdentity`]) or an enterprise or organisation
//! ([`OrgIdentity`]) with the legal representative the e-ID reports for it.

use chrono::NaiveDate;
use openidconnect::core::CoreGenderClaim;
use openidconnect::{AdditionalClaims, IdTokenClaims};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vn_identity::{Gender, PersonalId, normalize_name};

use super::UpstreamError;
use crate::citizens::AccountLevel;
use crate::citizens::national_formats::{parse_compact_date, parse_gender};

/// The e-ID's own claims, wire names kept. All optional here: which are required is decided in
/// [`EidIdentity::from_claims`], with a precise error.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VneidClaims {
    #[serde(rename = "SoDinhDanh", default, skip_serializing_if = "Option::is_none")]
    personal_id: Option<String>,
    #[serde(rename = "HoVaTen", default, skip_serializing_if = "Option::is_none")]
    full_name: Option<String>,
    #[serde(rename = "NgayThangNamSinh", default, skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    #[serde(rename = "GioiTinh", default, skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    /// "1"/"2"/"3" in practice; a number is accepted too.
    #[serde(rename = "LoaiTaiKhoan", default, skip_serializing_if = "Option::is_none")]
    account_type: Option<Value>,
    /// An enterprise's tax code (`LoaiTaiKhoan` 2).
    #[serde(rename = "MaSoDoanhNghiep", default, skip_serializing_if = "Option::is_none")]
    tax_code: Option<String>,
    /// The e-ID's technical account ID; what keys an organisation (`LoaiTaiKhoan` 3).
    #[serde(rename = "TechID", default, skip_serializing_if = "Option::is_none")]
    tech_id: Option<String>,
    #[serde(rename = "TenDoanhNghiep", default, skip_serializing_if = "Option::is_none")]
    enterprise_name: Option<String>,
    #[serde(rename = "TenToChuc", default, skip_serializing_if = "Option::is_none")]
    organisation_name: Option<String>,
    #[serde(rename = "DiaChi", default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    /// The legal representative: an object (`HoVaTen`, `SoDinhDanh`, `NgayThangNamSinh`), or
    /// just a name.
    #[serde(rename = "NguoiDaiDien", default, skip_serializing_if = "Option::is_none")]
    representative: Option<Value>,
}

impl AdditionalClaims for VneidClaims {}

/// `LoaiTaiKhoan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Citizen,
    Enterprise,
    Organisation,
}

/// What an e-ID login established: a citizen, or an organisation through a person acting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EidLogin {
    Citizen(EidIdentity),
    Organisation(OrgIdentity),
}

impl EidLogin {
    pub fn level(&self) -> AccountLevel {
        match self {
            EidLogin::Citizen(c) => c.level,
            EidLogin::Organisation(o) => o.level,
        }
    }

    pub(crate) fn from_claims(claims: &IdTokenClaims<VneidClaims, CoreGenderClaim>) -> Result<Self, UpstreamError> {
        let extra = claims.additional_claims();
        match extra.account_type.as_ref().map(account_type_digit) {
            Some(Some(1)) | None => EidIdentity::from_claims(claims).map(EidLogin::Citizen),
            Some(Some(2)) => OrgIdentity::from_claims(claims, AccountType::Enterprise).map(EidLogin::Organisation),
            Some(Some(3)) => OrgIdentity::from_claims(claims, AccountType::Organisation).map(EidLogin::Organisation),
            Some(_) => Err(invalid("unknown LoaiTaiKhoan")),
        }
    }
}

fn invalid(what: &str) -> UpstreamError {
    UpstreamError::InvalidResponse(format!("ID token: {what}"))
}

/// An enterprise or organisation as the national e-ID identified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgIdentity {
    /// The e-ID's `sub`.
    pub subject: String,
    /// [`AccountType::Enterprise`] or [`AccountType::Organisation`].
    pub account_type: AccountType,
    /// The enterprise's tax code; `None` for an organisation.
    pub tax_code: Option<String>,
    /// The e-ID's technical ID, which keys an organisation.
    pub tech_id: Option<String>,
    /// The registered name, NFC.
    pub name: String,
    pub address: Option<String>,
    pub representative: Option<Representative>,
    pub level: AccountLevel,
    pub amr: Vec<String>,
    pub auth_time: Option<i64>,
}

/// The legal representative as the e-ID reports them (`NguoiDaiDien`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    pub full_name: String,
    /// Present for a representative with a Vietnamese personal ID; then the birth date is too,
    /// so the person can be checked against the population database.
    pub personal_id: Option<PersonalId>,
    pub birth_date: Option<NaiveDate>,
}

impl OrgIdentity {
    /// The stable key of the organisation: its tax code (enterprise) or `TechID`.
    pub fn key(&self) -> &str {
        self.tax_code.as_deref().or(self.tech_id.as_deref()).unwrap_or(&self.subject)
    }

    fn from_claims(
        claims: &IdTokenClaims<VneidClaims, CoreGenderClaim>,
        account_type: AccountType,
    ) -> Result<Self, UpstreamError> {
        let extra = claims.additional_claims();
        let clean = |v: &Option<String>| v.as_deref().map(normalize_name).filter(|s| !s.is_empty());
        let tax_code = clean(&extra.tax_code);
        let tech_id = clean(&extra.tech_id);
        match account_type {
            AccountType::Enterprise if tax_code.is_none() => return Err(invalid("enterprise without MaSoDoanhNghiep")),
            AccountType::Organisation if tech_id.is_none() => return Err(invalid("organisation without TechID")),
            _ => {}
        }
        let name = clean(&extra.enterprise_name)
            .or_else(|| clean(&extra.organisation_name))
            .ok_or_else(|| invalid("no TenDoanhNghiep or TenToChuc"))?;
        Ok(OrgIdentity {
            subject: claims.subject().as_str().to_string(),
            account_type,
            tax_code: if account_type == AccountType::Enterprise { tax_code } else { None },
            tech_id,
            name,
            address: clean(&extra.address),
            representative: extra.representative.as_ref().map(parse_representative).transpose()?.flatten(),
            level: level_of(claims)?,
            amr: amr_of(claims),
            auth_time: claims.auth_time().map(|t| t.timestamp()),
        })
    }
}

/// `NguoiDaiDien`: a name alone, or an object with the personal ID and birth date that let the
/// person be checked. A personal ID without a birth date cannot be checked and is an error
/// rather than silently dropped.
fn parse_representative(v: &Value) -> Result<Option<Representative>, UpstreamError> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let full_name = match v {
        Value::String(s) => normalize_name(s),
        Value::Object(_) => normalize_name(text("HoVaTen").unwrap_or("")),
        _ => return Err(invalid("NguoiDaiDien is neither a name nor an object")),
    };
    if full_name.is_empty() {
        return Ok(None);
    }
    let personal_id = match text("SoDinhDanh") {
        Some(id) => Some(PersonalId::parse(id).map_err(|_| invalid("malformed NguoiDaiDien.SoDinhDanh"))?),
        None => None,
    };
    let birth_date = match text("NgayThangNamSinh") {
        Some(d) => Some(parse_compact_date(d).ok_or_else(|| invalid("NguoiDaiDien.NgayThangNamSinh is not YYYYMMDD"))?),
        None => None,
    };
    if personal_id.is_some() && birth_date.is_none() {
        return Err(invalid("NguoiDaiDien has SoDinhDanh but no NgayThangNamSinh"));
    }
    Ok(Some(Representative { full_name, personal_id, birth_date }))
}

fn level_of(claims: &IdTokenClaims<VneidClaims, CoreGenderClaim>) -> Result<AccountLevel, UpstreamError> {
    let acr = claims.auth_context_ref().ok_or_else(|| invalid("no acr (account level)"))?;
    AccountLevel::from_upstream_acr(acr.as_str()).ok_or_else(|| invalid("unknown acr"))
}

fn amr_of(claims: &IdTokenClaims<VneidClaims, CoreGenderClaim>) -> Vec<String> {
    claims.auth_method_refs().map(|v| v.iter().map(|a| a.as_str().to_string()).collect()).unwrap_or_default()
}

/// A citizen as the national e-ID identified them. Serializable so the OIDC module can keep it
/// in its login transaction or session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EidIdentity {
    /// The e-ID's `sub` (stable per account).
    pub subject: String,
    pub personal_id: PersonalId,
    /// NFC-normalised, whitespace collapsed; case and diacritics as the e-ID has them.
    pub full_name: String,
    pub birth_date: NaiveDate,
    /// `None` when the e-ID sent no or an unknown `GioiTinh`.
    pub gender: Option<Gender>,
    pub account_type: AccountType,
    pub level: AccountLevel,
    /// Authentication methods at the e-ID (`pwd`, `swk`, `mfa`, …).
    pub amr: Vec<String>,
    /// When the citizen authenticated at the e-ID (Unix seconds).
    pub auth_time: Option<i64>,
}

impl EidIdentity {
    fn from_claims(claims: &IdTokenClaims<VneidClaims, CoreGenderClaim>) -> Result<Self, UpstreamError> {
        let extra = claims.additional_claims();
        let level = level_of(claims)?;
        let personal_id = extra.personal_id.as_deref().ok_or_else(|| invalid("no SoDinhDanh"))?;
        // The error text could echo the number; keep it out of messages and logs.
        let personal_id = PersonalId::parse(personal_id.trim()).map_err(|_| invalid("malformed SoDinhDanh"))?;
        let full_name = normalize_name(extra.full_name.as_deref().unwrap_or(""));
        if full_name.is_empty() {
            return Err(invalid("no HoVaTen"));
        }
        let birth_date = extra.birth_date.as_deref().ok_or_else(|| invalid("no NgayThangNamSinh"))?;
        let birth_date = parse_compact_date(birth_date).ok_or_else(|| invalid("NgayThangNamSinh is not YYYYMMDD"))?;
        Ok(EidIdentity {
            subject: claims.subject().as_str().to_string(),
            personal_id,
            full_name,
            birth_date,
            gender: extra.gender.as_deref().and_then(parse_gender),
            account_type: AccountType::Citizen,
            level,
            amr: amr_of(claims),
            auth_time: claims.auth_time().map(|t| t.timestamp()),
        })
    }
}

fn account_type_digit(v: &Value) -> Option<u8> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn representative_shapes() {
        let name_only = parse_representative(&json!("  Lý   Văn Phúc ")).expect("ok").expect("some");
        assert_eq!(name_only.full_name, "Lý Văn Phúc");
        assert_eq!((name_only.personal_id, name_only.birth_date), (None, None), "a bare name cannot be checked");
        let full =
            json!({"HoVaTen": "Trần Thị Bích Ngọc", "SoDinhDanh": "001188271828", "NgayThangNamSinh": "19880314"});
        let r = parse_representative(&full).expect("ok").expect("some");
        assert_eq!(r.personal_id.map(|p| p.as_str().to_string()).as_deref(), Some("001188271828"));
        assert_eq!(r.birth_date, NaiveDate::from_ymd_opt(1988, 3, 14));
        assert!(parse_representative(&json!({"HoVaTen": ""})).expect("ok").is_none(), "no name, no representative");
        // What cannot be checked is an error, not silently an unverified person.
        for bad in [
            json!({"HoVaTen": "A", "SoDinhDanh": "001188271828"}),
            json!({"HoVaTen": "A", "SoDinhDanh": "12", "NgayThangNamSinh": "19880314"}),
            json!({"HoVaTen": "A", "SoDinhDanh": "001188271828", "NgayThangNamSinh": "1988-03-14"}),
            json!(42),
        ] {
            assert!(parse_representative(&bad).is_err(), "{bad}");
        }
    }
}
