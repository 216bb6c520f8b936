//! The identity the e-ID asserts, parsed from the wire claims (`SoDinhDanh`, `HoVaTen`, …) into
//! typed values once, at the edge.

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
    pub(crate) fn from_claims(claims: &IdTokenClaims<VneidClaims, CoreGenderClaim>) -> Result<Self, UpstreamError> {
        let extra = claims.additional_claims();
        let invalid = |what: &str| UpstreamError::InvalidResponse(format!("ID token: {what}"));
        let account_type = match extra.account_type.as_ref().map(account_type_digit) {
            Some(Some(1)) | None => AccountType::Citizen,
            Some(Some(2)) => AccountType::Enterprise,
            Some(Some(3)) => AccountType::Organisation,
            Some(_) => return Err(invalid("unknown LoaiTaiKhoan")),
        };
        if account_type != AccountType::Citizen {
            return Err(UpstreamError::UnsupportedAccount(account_type));
        }
        let acr = claims.auth_context_ref().ok_or_else(|| invalid("no acr (account level)"))?;
        let level = AccountLevel::from_upstream_acr(acr.as_str()).ok_or_else(|| invalid("unknown acr"))?;
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
            account_type,
            level,
            amr: claims
                .auth_method_refs()
                .map(|v| v.iter().map(|a| a.as_str().to_string()).collect())
                .unwrap_or_default(),
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
