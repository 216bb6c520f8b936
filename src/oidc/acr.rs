//! Authentication context classes: how strongly the user was identified and authenticated.
//! A relying party that demands a level gets that level or an error, never a weaker login.

/// National e-ID account at level 1 (basic identification).
pub const EID1: &str = "urn:xacthuc:acr:eid1";
/// National e-ID account at level 2 (identity verified in person).
pub const EID2: &str = "urn:xacthuc:acr:eid2";
/// Officer: password plus a second factor.
pub const OFFICER_MFA: &str = "urn:xacthuc:acr:officer-mfa";
/// Officer: digital-signature certificate.
pub const OFFICER_CERT: &str = "urn:xacthuc:acr:officer-cert";

pub const SUPPORTED: [&str; 4] = [EID1, EID2, OFFICER_MFA, OFFICER_CERT];

/// A total order of strength, so "at least X" is a comparison.
pub fn rank(acr: &str) -> Option<u8> {
    match acr {
        EID1 => Some(1),
        EID2 | OFFICER_MFA => Some(2),
        OFFICER_CERT => Some(3),
        _ => None,
    }
}

/// The weakest level that satisfies a request: the lowest rank among the requested values we
/// know (OIDC lists acceptable values in order of preference; any of them will do). Values we
/// do not know are ignored; if none is known, the request cannot be met.
///
/// The client's registered default is a floor: `acr_values` in the (browser-controlled) request
/// may raise the level, never lower it.
pub fn required_rank(acr_values: &[String], default_acr: Option<&str>) -> Result<u8, String> {
    let floor = default_acr.and_then(rank).unwrap_or(0);
    if acr_values.is_empty() {
        return Ok(floor);
    }
    let asked =
        acr_values.iter().filter_map(|a| rank(a)).min().ok_or_else(|| {
            format!("none of the requested acr_values is supported; supported: {}", SUPPORTED.join(" "))
        })?;
    Ok(asked.max(floor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order() {
        assert!(rank(EID2) > rank(EID1));
        assert_eq!(required_rank(&[EID2.into()], None), Ok(2));
        assert_eq!(required_rank(&[EID2.into(), EID1.into()], None), Ok(1));
        assert_eq!(required_rank(&[], Some(EID2)), Ok(2));
        assert_eq!(required_rank(&[EID1.into()], Some(EID2)), Ok(2), "the default is a floor");
        assert!(required_rank(&["urn:other".into()], None).is_err());
    }
}
