//! Which claims each scope releases (OIDC Core §5.4), plus our dedicated scope for the personal
//! ID number: personal data under Decree 13/2023, released only under this scope, only to
//! clients allowed it, and only with the citizen's recorded consent.

use serde_json::{Map, Value};

/// The dedicated scope that releases the 12-digit personal ID number (SoDinhDanh).
pub const PERSONAL_ID_SCOPE: &str = "personal_id";
/// The claim it releases.
pub const PERSONAL_ID_CLAIM: &str = "personal_id";

pub const SUPPORTED_SCOPES: [&str; 5] = ["openid", "profile", "address", PERSONAL_ID_SCOPE, "offline_access"];

pub fn claims_of_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => {
            &["name", "family_name", "given_name", "middle_name", "birthdate", "gender", "locale", "updated_at"]
        }
        "address" => &["address"],
        PERSONAL_ID_SCOPE => &[PERSONAL_ID_CLAIM],
        _ => &[],
    }
}

pub fn supported_claims() -> Vec<&'static str> {
    let mut all = vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash"];
    for s in SUPPORTED_SCOPES {
        all.extend_from_slice(claims_of_scope(s));
    }
    all
}

/// The profile claims a set of granted scopes releases.
pub fn released(profile: &Value, scopes: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    for scope in scopes {
        for &claim in claims_of_scope(scope) {
            if let Some(v) = profile.get(claim).filter(|v| !v.is_null()) {
                out.insert(claim.to_owned(), v.clone());
            }
        }
    }
    out
}

/// Human descriptions for the consent page, per scope: (Vietnamese, English).
pub fn describe_scope(scope: &str) -> Option<(&'static str, &'static str)> {
    match scope {
        "profile" => Some(("Họ tên, ngày sinh, giới tính", "Full name, date of birth, gender")),
        "address" => Some(("Địa chỉ thường trú", "Permanent address")),
        PERSONAL_ID_SCOPE => Some(("Số định danh cá nhân (số CCCD)", "Personal ID number (citizen ID card number)")),
        "offline_access" => Some(("Duy trì truy cập khi bạn không trực tuyến", "Keep access while you are offline")),
        _ => None,
    }
}
