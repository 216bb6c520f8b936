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

use serde_json::Value;

use super::error::AdminError;
use crate::officers::directory::AdminRole;
use crate::officers::{DirectoryError, Officer, OfficerStatus, Unit};
use crate::oidc::Provider;
use crate::oidc::resource::live_access_token;

/// The scope an access token must carry to call the admin API.
pub const ADMIN_SCOPE: &str = "admin";

#[derive(Clone, Debug)]
pub enum Caller {
    Officer {
        id: String,
        /// Current units the officer administers (their subtrees).
        units: Vec<Unit>,
        /// Holds super_admin on the root unit.
        is_super: bool,
    },
    /// A client authenticated with client_credentials and the `admin` scope.
    Automation { client_id: String },
}

const OUTSIDE: &str = "outside the units you administer";

impl Caller {
    pub fn is_super(&self) -> bool {
        match self {
            Caller::Officer { is_super, .. } => *is_super,
            Caller::Automation { .. } => true,
        }
    }

    /// Who, for logs and the audit log: `officer:<id>` or `client:<id>`.
    pub fn actor(&self) -> String {
        match self {
            Caller::Officer { id, .. } => format!("officer:{id}"),
            Caller::Automation { client_id } => format!("client:{client_id}"),
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
            Caller::Automation { .. } => true,
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
            _ => Ok(p.db.root_units().await?),
        }
    }
}

fn scopes(claims: &Value) -> impl Iterator<Item = &str> {
    claims.get("scope").and_then(Value::as_str).unwrap_or_default().split(' ')
}

/// Identifies the caller from a bearer token: a live access token of this provider with the
/// `admin` scope, naming either an administrator officer (through its grant) or an automation
/// client still allowed the `admin` scope.
pub async fn caller(p: &Provider, token: Option<&str>) -> Result<Caller, AdminError> {
    let token = token.ok_or(AdminError::Unauthenticated("a bearer access token is required"))?;
    let claims = live_access_token(p, token)
        .await
        .map_err(|_| AdminError::Unauthenticated("the access token is invalid, expired or revoked"))?;
    if !scopes(&claims).any(|s| s == ADMIN_SCOPE) {
        return Err(AdminError::Forbidden("the access token lacks the admin scope"));
    }
    let gid = claims.get("gid").and_then(Value::as_str).unwrap_or_default();
    let grant = p.db.grant(gid).await?.ok_or(AdminError::Unauthenticated("the access token's grant is gone"))?;
    // The registration is read again: a client whose `admin` scope was withdrawn loses it at
    // once, whatever tokens it still holds.
    let client = p.clients.get(&grant.client_id).await?;
    if !client.is_some_and(|c| c.scopes.iter().any(|s| s == ADMIN_SCOPE)) {
        return Err(AdminError::Forbidden("the client is no longer allowed the admin scope"));
    }
    let Some(account_id) = grant.account_id else {
        return Ok(Caller::Automation { client_id: grant.client_id });
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
        assert!(Caller::Automation { client_id: "ci".into() }.covers(&sibling));
    }
}
