//! Who is calling the admin API, and what they may touch. No HTTP here: the routes hand over
//! the bearer token and ask before every read or change.
//!
//! - An administrator is an active officer holding an admin grant on a current unit: a unit
//!   administrator acts only inside that unit's subtree; a super administrator (granted on the
//!   root unit) also manages units, clients and admin grants.
//! - Automation uses client_credentials: a client whose registration allows the `admin` scope
//!   and whose token carries it acts as a super administrator.
//! - An administrator's token must come from a login with a second factor (`amr` has `mfa`).
//! - Either way the token is an access token of this provider, checked live (a revoked grant is
//!   refused), and must carry the `admin` scope, so a token issued to some other service for an
//!   officer who happens to be an administrator is not enough.
//! - SCIM provisioning (`crate::scim`) is automation too: client_credentials with `scim.read` or
//!   `scim.write` ([`scim_caller`]), through the same operations and checks.
//! - An automation client may be restricted to a unit subtree (its row in `client_units`, set by
//!   `xacthuc clients restrict` or the admin API): it then acts as that unit's administrator.

use serde_json::Value;

use super::error::AdminError;
use crate::officers::directory::AdminRole;
use crate::officers::{DirectoryError, Officer, OfficerStatus, Unit};
use crate::oidc::Provider;
use crate::oidc::grants::Grant;
use crate::oidc::resource::live_access_token;

/// The scope an access token must carry to call the admin API.
pub const ADMIN_SCOPE: &str = "admin";
/// SCIM provisioning: read Users and Groups.
pub const SCIM_READ_SCOPE: &str = "scim.read";
/// SCIM provisioning: create, change and delete them (reading included).
pub const SCIM_WRITE_SCOPE: &str = "scim.write";
/// SCIM provisioning: officers' personal ID numbers are shown and may be set. Personal data
/// (Decree 13/2023, Law 91/2025/QH15): a client sees them only when registered for this scope
/// and its token carries it.
pub const SCIM_PERSONAL_ID_SCOPE: &str = "scim.personal_id";

#[derive(Clone, Debug)]
pub enum Caller {
    Officer {
        id: String,
        /// Current units the officer administers (their subtrees).
        units: Vec<Unit>,
        /// Holds super_admin on the root unit.
        is_super: bool,
    },
    /// A client authenticated with client_credentials (the `admin` or a SCIM scope).
    Automation {
        client_id: String,
        /// The unit whose subtree the client is restricted to, if its registration says so.
        within: Option<Unit>,
    },
}

const OUTSIDE: &str = "outside the units you administer";

impl Caller {
    pub fn is_super(&self) -> bool {
        match self {
            Caller::Officer { is_super, .. } => *is_super,
            // Restricted to the root unit is the whole province, as a grant on it would be.
            Caller::Automation { within, .. } => within.as_ref().is_none_or(|u| u.parent_id.is_none()),
        }
    }

    /// Who, for logs and the audit log: `officer:<id>` or `client:<id>`.
    pub fn actor(&self) -> String {
        match self {
            Caller::Officer { id, .. } => format!("officer:{id}"),
            Caller::Automation { client_id, .. } => format!("client:{client_id}"),
        }
    }

    /// Units, clients and admin grants are the province's: super administrators only.
    pub fn require_super(&self) -> Result<(), AdminError> {
        if self.is_super() { Ok(()) } else { Err(AdminError::Forbidden("only a super administrator may do this")) }
    }

    /// Whether the unit is inside what the caller administers.
    pub fn covers(&self, unit: &Unit) -> bool {
        match self {
            Caller::Officer { units, is_super, .. } => *is_super || units.iter().any(|u| u.contains(unit)),
            Caller::Automation { within, .. } => within.as_ref().is_none_or(|w| w.contains(unit)),
        }
    }

    pub fn require_unit(&self, unit: &Unit) -> Result<(), AdminError> {
        if self.covers(unit) { Ok(()) } else { Err(AdminError::Forbidden(OUTSIDE)) }
    }

    /// Loads the officer and checks that their current unit is in scope: every read or change
    /// of an officer, their roles, sessions and reset links goes through here.
    pub async fn officer_in_scope(&self, p: &Provider, id: &str) -> Result<Officer, AdminError> {
        let officer = p.db.officer(id).await?.ok_or(DirectoryError::NotFound("officer"))?;
        let unit = p.db.unit(&officer.unit_id).await?.ok_or(DirectoryError::NotFound("unit"))?;
        self.require_unit(&unit)?;
        Ok(officer)
    }

    /// A unit by id, if in scope.
    pub async fn unit_in_scope(&self, p: &Provider, id: &str) -> Result<Unit, AdminError> {
        let unit = p.db.unit(id).await?.ok_or(DirectoryError::NotFound("unit"))?;
        self.require_unit(&unit)?;
        Ok(unit)
    }

    /// A unit by code, if in scope (creating and moving officers name units by code).
    pub async fn unit_code_in_scope(&self, p: &Provider, code: &str) -> Result<Unit, AdminError> {
        let unit = p.db.unit_by_code(code.trim()).await?.ok_or(DirectoryError::NotFound("unit"))?;
        self.require_unit(&unit)?;
        Ok(unit)
    }

    /// The subtrees a listing without an explicit unit covers: the caller's own units, or
    /// every root for a super administrator.
    pub async fn default_roots(&self, p: &Provider) -> Result<Vec<Unit>, AdminError> {
        match self {
            Caller::Officer { units, is_super: false, .. } => Ok(units.clone()),
            Caller::Automation { within: Some(unit), .. } => Ok(vec![unit.clone()]),
            _ => Ok(p.db.root_units().await?),
        }
    }
}

fn scopes(claims: &Value) -> impl Iterator<Item = &str> {
    claims.get("scope").and_then(Value::as_str).unwrap_or_default().split(' ')
}

/// The live token's claims.
async fn live(p: &Provider, token: Option<&str>) -> Result<Value, AdminError> {
    let token = token.ok_or(AdminError::Unauthenticated("a bearer access token is required"))?;
    live_access_token(p, token)
        .await
        .map_err(|_| AdminError::Unauthenticated("the access token is invalid, expired or revoked"))
}

/// The token's grant, once the client's registration still allows `scope`.
async fn grant_for_scope(p: &Provider, claims: &Value, scope: &str) -> Result<Grant, AdminError> {
    let gid = claims.get("gid").and_then(Value::as_str).unwrap_or_default();
    let grant = p.db.grant(gid).await?.ok_or(AdminError::Unauthenticated("the access token's grant is gone"))?;
    // The registration is read again: a client whose scope was withdrawn loses it at once,
    // whatever tokens it still holds.
    if !client_allows(p, &grant.client_id, scope).await? {
        return Err(AdminError::Forbidden("the client is no longer allowed this scope"));
    }
    Ok(grant)
}

async fn client_allows(p: &Provider, client_id: &str, scope: &str) -> Result<bool, AdminError> {
    Ok(p.clients.get(client_id).await?.is_some_and(|c| c.scopes.iter().any(|s| s == scope)))
}

/// An automation client, with the unit subtree its registration restricts it to. A restriction
/// to a merged or dissolved unit refuses the client until an administrator moves it.
async fn automation(p: &Provider, client_id: String) -> Result<Caller, AdminError> {
    let within = match p.db.client_unit(&client_id).await? {
        Some(unit) if !unit.is_current() => {
            return Err(AdminError::Forbidden("the client's unit was merged or dissolved: restrict it anew"));
        }
        other => other,
    };
    Ok(Caller::Automation { client_id, within })
}

/// What a SCIM caller may do beyond the admin checks.
#[derive(Clone, Debug)]
pub struct ScimCaller {
    pub caller: Caller,
    /// May change Users and Groups (`scim.write`); otherwise read only.
    pub write: bool,
    /// May see and set personal ID numbers (`scim.personal_id`).
    pub personal_id: bool,
}

/// Identifies a SCIM caller: a live client_credentials token carrying `scim.read` or
/// `scim.write` (and a registration still allowing it), restricted as its registration says.
/// Officers' own tokens are refused: provisioning is for services.
pub async fn scim_caller(p: &Provider, token: Option<&str>, wants_write: bool) -> Result<ScimCaller, AdminError> {
    let claims = live(p, token).await?;
    let has = |s: &str| scopes(&claims).any(|x| x == s);
    let scope = if has(SCIM_WRITE_SCOPE) {
        SCIM_WRITE_SCOPE
    } else if has(SCIM_READ_SCOPE) {
        SCIM_READ_SCOPE
    } else {
        return Err(AdminError::Forbidden("the access token lacks the scim.read or scim.write scope"));
    };
    if wants_write && scope != SCIM_WRITE_SCOPE {
        return Err(AdminError::Forbidden("changes need the scim.write scope"));
    }
    let grant = grant_for_scope(p, &claims, scope).await?;
    if grant.account_id.is_some() {
        return Err(AdminError::Forbidden("SCIM takes a client_credentials token"));
    }
    let personal_id = has(SCIM_PERSONAL_ID_SCOPE) && client_allows(p, &grant.client_id, SCIM_PERSONAL_ID_SCOPE).await?;
    Ok(ScimCaller { caller: automation(p, grant.client_id).await?, write: scope == SCIM_WRITE_SCOPE, personal_id })
}

/// Identifies the caller from a bearer token: a live access token of this provider with the
/// `admin` scope, naming either an administrator officer (through its grant) or an automation
/// client still allowed the `admin` scope.
pub async fn caller(p: &Provider, token: Option<&str>) -> Result<Caller, AdminError> {
    let claims = live(p, token).await?;
    if !scopes(&claims).any(|s| s == ADMIN_SCOPE) {
        return Err(AdminError::Forbidden("the access token lacks the admin scope"));
    }
    let grant = grant_for_scope(p, &claims, ADMIN_SCOPE).await?;
    let Some(account_id) = grant.account_id.clone() else {
        return automation(p, grant.client_id).await;
    };
    let Some(officer) = p.db.officer(&account_id).await? else {
        return Err(AdminError::Forbidden("only officers administer"));
    };
    if officer.status != OfficerStatus::Active {
        return Err(AdminError::Forbidden("the officer account is not active"));
    }
    // Administration needs a login with a second factor, whatever the officer policy lets
    // other services accept (where a second factor is optional, that is the officer's login
    // for their e-office, never for the province's accounts).
    if !grant.amr.iter().any(|m| m == "mfa") {
        return Err(AdminError::Forbidden("administration needs a login with a second factor"));
    }
    let mut units = Vec::new();
    let mut is_super = false;
    // Grants on merged or dissolved units are void: their officers moved elsewhere.
    for (role, unit) in p.db.admin_grants(&officer.id).await?.into_iter().filter(|(_, u)| u.is_current()) {
        is_super |= role == AdminRole::SuperAdmin && unit.parent_id.is_none();
        units.push(unit);
    }
    if units.is_empty() {
        return Err(AdminError::Forbidden("the officer holds no admin grant"));
    }
    Ok(Caller::Officer { id: officer.id, units, is_super })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::officers::UnitKind;

    fn unit(id: &str, path: &str) -> Unit {
        Unit {
            id: id.into(),
            code: id.into(),
            name: id.into(),
            kind: UnitKind::Commune,
            parent_id: Some("root".into()),
            path: path.into(),
            valid_from: 0,
            valid_to: None,
            merged_into: None,
        }
    }

    #[test]
    fn a_unit_administrator_covers_its_subtree_only() {
        let a = unit("a", "/root/a/");
        let below = unit("a1", "/root/a/a1/");
        let sibling = unit("b", "/root/b/");
        let caller = Caller::Officer { id: "o".into(), units: vec![a.clone()], is_super: false };
        assert!(caller.covers(&a) && caller.covers(&below));
        assert!(!caller.covers(&sibling));
        assert!(caller.require_super().is_err());
        let boss = Caller::Officer { id: "s".into(), units: vec![a], is_super: true };
        assert!(boss.covers(&sibling) && boss.require_super().is_ok());
        assert!(Caller::Automation { client_id: "ci".into(), within: None }.covers(&sibling));
        let restricted = Caller::Automation { client_id: "ci".into(), within: Some(unit("a", "/root/a/")) };
        assert!(restricted.covers(&below) && !restricted.covers(&sibling) && !restricted.is_super());
    }
}
