//! Officers inside the caller's subtrees: search, create, edit, move, status, reset links,
//! roles per relying party, login locks, sessions and CSV import; admin grants for super
//! administrators.

use serde_json::json;

use super::record;
use crate::admin::authz::Caller;
use crate::admin::error::AdminError;
use crate::admin::store::{OfficerPatch, OfficerSearch};
use crate::audit::Action;
use crate::clock::unix_now;
use crate::officers::auth::lockout;
use crate::officers::directory::AdminRole;
use crate::officers::import::{ImportOptions, ImportReport, import_csv};
use crate::officers::setup::{SetupPurpose, setup_path};
use crate::officers::{DirectoryError, NewOfficer, Officer, OfficerStatus, Unit};
use crate::oidc::Provider;
use crate::oidc::logout::logout_session;
use crate::oidc::session::{self, Session};
use crate::provisioning::{self, Change};

/// What to list: a unit's subtree (the caller's only unit by default), optionally by status
/// and username prefix, a page at a time after a username.
#[derive(Clone, Debug, Default)]
pub struct OfficerFilter {
    pub unit: Option<String>,
    pub status: Option<OfficerStatus>,
    pub username_prefix: Option<String>,
    pub after: Option<String>,
    /// 1 to 200.
    pub limit: i64,
}

pub struct OfficerList {
    pub items: Vec<Officer>,
    /// The last username of this page when there may be more.
    pub next_after: Option<String>,
}

/// One page of the officers matching `f` inside the caller's subtrees.
pub async fn search(p: &Provider, c: &Caller, f: &OfficerFilter) -> Result<OfficerList, AdminError> {
    let root = match &f.unit {
        Some(id) => c.unit_in_scope(p, id).await?,
        None => match c.default_roots(p).await?.as_slice() {
            [only] => only.clone(),
            [] => return Ok(OfficerList { items: Vec::new(), next_after: None }),
            _ => return Err(AdminError::invalid("unit", "you administer several units: name one")),
        },
    };
    let limit = f.limit.clamp(1, 200);
    let search = OfficerSearch {
        root: &root,
        status: f.status,
        username_prefix: f.username_prefix.as_deref(),
        after: f.after.as_deref().unwrap_or(""),
        limit,
    };
    let items = p.db.search_officers(&search).await?;
    let next_after = (items.len() as i64 == limit).then(|| items.last().map(|o| o.username.clone())).flatten();
    Ok(OfficerList { items, next_after })
}

/// Creates an officer in a unit of the caller's subtrees; returns it with the path of its
/// one-time set-up link.
pub async fn create(p: &Provider, c: &Caller, new: &NewOfficer) -> Result<(Officer, String), AdminError> {
    c.unit_code_in_scope(p, &new.unit_code).await?;
    let now = unix_now();
    let officer = p.db.create_officer(new, now).await?;
    let token = p.db.issue_setup_link(&officer.id, SetupPurpose::Initial, now).await?;
    record(p, c, Action::AdminOfficerCreated, ("officer", &officer.id), None, json!({ "username": officer.username }))
        .await?;
    Ok((officer, setup_path(&token)))
}

/// Edits the profile; absent fields are kept, an empty string clears an optional one.
pub async fn update(p: &Provider, c: &Caller, id: &str, patch: &OfficerPatch) -> Result<Officer, AdminError> {
    let current = c.officer_in_scope(p, id).await?;
    let officer = p.db.update_officer(&current, patch, unix_now()).await?;
    record(p, c, Action::AdminOfficerUpdated, ("officer", id), None, json!({})).await?;
    Ok(officer)
}

/// Moves an officer: both the current and the new unit must be in the caller's subtrees.
pub async fn move_to(
    p: &Provider,
    c: &Caller,
    id: &str,
    unit_code: &str,
    position: Option<&str>,
) -> Result<Officer, AdminError> {
    c.officer_in_scope(p, id).await?;
    let target = c.unit_code_in_scope(p, unit_code).await?;
    let position = position.map(str::trim).filter(|s| !s.is_empty());
    let officer = p.db.move_officer(id, &target.code, position, unix_now()).await?;
    record(p, c, Action::AdminOfficerMoved, ("officer", id), None, json!({ "unit": target.id })).await?;
    let (officer_id, username, unit_code) = (officer.id.clone(), officer.username.clone(), target.code.clone());
    provisioning::changed(&p.db, Change::OfficerMoved { officer_id, username, unit_code }).await;
    Ok(officer)
}

/// Activates, suspends or disables an officer. Suspending or disabling ends every session.
pub async fn set_status(p: &Provider, c: &Caller, id: &str, status: OfficerStatus) -> Result<Officer, AdminError> {
    c.officer_in_scope(p, id).await?;
    p.db.set_officer_status(id, status, unix_now()).await?;
    if status != OfficerStatus::Active {
        end_all(p, id).await?;
    }
    record(p, c, Action::AdminOfficerStatus, ("officer", id), None, json!({ "status": status.as_str() })).await?;
    let officer = p.db.officer(id).await?.ok_or(DirectoryError::NotFound("officer"))?;
    let (officer_id, username, status) = (officer.id.clone(), officer.username.clone(), status.as_str().to_owned());
    provisioning::changed(&p.db, Change::OfficerStatus { officer_id, username, status }).await;
    Ok(officer)
}

/// Issues a one-time password reset link (older links stop working); returns its path.
pub async fn reset_link(p: &Provider, c: &Caller, id: &str) -> Result<String, AdminError> {
    c.officer_in_scope(p, id).await?;
    let token = p.db.issue_setup_link(id, SetupPurpose::Reset, unix_now()).await?;
    record(p, c, Action::AdminOfficerReset, ("officer", id), None, json!({})).await?;
    Ok(setup_path(&token))
}

async fn known_client(p: &Provider, client_id: &str) -> Result<(), AdminError> {
    match p.clients.get(client_id).await? {
        Some(_) => Ok(()),
        None => Err(DirectoryError::NotFound("client").into()),
    }
}

pub async fn roles(p: &Provider, c: &Caller, id: &str, client_id: &str) -> Result<Vec<String>, AdminError> {
    c.officer_in_scope(p, id).await?;
    Ok(p.db.officer_roles(id, client_id).await?)
}

/// Replaces the officer's roles at one relying party.
pub async fn set_roles(
    p: &Provider,
    c: &Caller,
    id: &str,
    client_id: &str,
    roles: &[String],
) -> Result<Vec<String>, AdminError> {
    c.officer_in_scope(p, id).await?;
    known_client(p, client_id).await?;
    p.db.set_officer_roles(id, client_id, roles).await?;
    record(p, c, Action::AdminOfficerRoles, ("officer", id), None, json!({ "client": client_id, "roles": roles }))
        .await?;
    Ok(p.db.officer_roles(id, client_id).await?)
}

/// The officer's admin grants (super administrators).
pub async fn grants(p: &Provider, c: &Caller, id: &str) -> Result<Vec<(AdminRole, Unit)>, AdminError> {
    c.require_super()?;
    p.db.officer(id).await?.ok_or(DirectoryError::NotFound("officer"))?;
    Ok(p.db.admin_grants(id).await?)
}

/// Makes the officer a unit administrator of a unit's subtree (super administrators).
pub async fn grant(p: &Provider, c: &Caller, id: &str, unit_id: &str) -> Result<(), AdminError> {
    c.require_super()?;
    p.db.officer(id).await?.ok_or(DirectoryError::NotFound("officer"))?;
    let unit = p.db.unit(unit_id).await?.ok_or(DirectoryError::NotFound("unit"))?;
    if !unit.is_current() {
        return Err(AdminError::invalid("unit_id", "the unit was merged or dissolved"));
    }
    p.db.grant_admin(id, AdminRole::UnitAdmin, &unit.id).await?;
    record(p, c, Action::AdminGrantAdded, ("officer", id), None, json!({ "role": "unit_admin", "unit": unit.id })).await
}

/// Withdraws a unit administrator grant (super administrators).
pub async fn revoke_grant(p: &Provider, c: &Caller, id: &str, unit_id: &str) -> Result<(), AdminError> {
    c.require_super()?;
    if !p.db.revoke_admin(id, AdminRole::UnitAdmin, unit_id).await? {
        return Err(DirectoryError::NotFound("admin grant").into());
    }
    record(p, c, Action::AdminGrantRevoked, ("officer", id), None, json!({ "role": "unit_admin", "unit": unit_id }))
        .await
}

/// The officer's brute-force lock.
pub async fn lock_status(p: &Provider, c: &Caller, id: &str) -> Result<lockout::Status, AdminError> {
    let officer = c.officer_in_scope(p, id).await?;
    Ok(lockout::status(&p.kv, &officer.username).await?)
}

/// Lifts the officer's lock and forgets their failed attempts.
pub async fn unlock(p: &Provider, c: &Caller, id: &str) -> Result<(), AdminError> {
    let officer = c.officer_in_scope(p, id).await?;
    lockout::unlock(&p.kv, &officer.username).await?;
    record(p, c, Action::AdminOfficerUnlocked, ("officer", id), None, json!({})).await
}

/// Ends every session of the account (also when an officer is suspended or disabled).
async fn end_all(p: &Provider, account_id: &str) -> Result<usize, AdminError> {
    let sessions = session::list(p, account_id).await?;
    let n = sessions.len();
    for s in sessions {
        logout_session(p, s).await;
    }
    Ok(n)
}

/// The officer's single sign-on sessions.
pub async fn sessions(p: &Provider, c: &Caller, id: &str) -> Result<Vec<Session>, AdminError> {
    c.officer_in_scope(p, id).await?;
    Ok(session::list(p, id).await?)
}

/// Ends every session of the officer (through the provider's logout: grants revoked, services
/// told); returns how many.
pub async fn end_sessions(p: &Provider, c: &Caller, id: &str) -> Result<usize, AdminError> {
    c.officer_in_scope(p, id).await?;
    let revoked = end_all(p, id).await?;
    record(p, c, Action::AdminSessionRevoked, ("officer", id), None, json!({ "all": true, "revoked": revoked }))
        .await?;
    Ok(revoked)
}

/// Ends one session of the officer.
pub async fn end_session(p: &Provider, c: &Caller, id: &str, sid: &str) -> Result<(), AdminError> {
    c.officer_in_scope(p, id).await?;
    let s = session::find_by_sid(p, id, sid).await?.ok_or(DirectoryError::NotFound("session"))?;
    logout_session(p, s).await;
    record(p, c, Action::AdminSessionRevoked, ("officer", id), None, json!({ "all": false })).await
}

/// Imports officers from CSV inside the subtree of `unit_code`, which the caller must
/// administer. What changed officers is audited; a re-import that changed nothing changed
/// nothing.
pub async fn import(
    p: &Provider,
    c: &Caller,
    unit_code: &str,
    csv: &[u8],
    opts: &ImportOptions,
) -> Result<ImportReport, AdminError> {
    let within = c.unit_code_in_scope(p, unit_code).await?;
    let report = import_csv(&p.db, csv, opts, Some(&within), unix_now(), &|_, _| {}).await?;
    if report.applied && report.created + report.updated > 0 {
        let detail = report.audit_detail(csv, opts.partial);
        record(p, c, Action::AdminOfficersImported, ("unit", &within.id), Some(&within.id), detail).await?;
    }
    Ok(report)
}
