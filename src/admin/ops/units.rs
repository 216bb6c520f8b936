//! Units: the subtree a caller administers (read); creation, renames, restructuring (code,
//! kind, parent), merges and dissolutions are the province's (super administrators).

use serde_json::json;

use super::record;
use crate::admin::authz::Caller;
use crate::admin::error::AdminError;
use crate::audit::Action;
use crate::clock::unix_now;
use crate::officers::{NewUnit, Unit, UnitChange};
use crate::oidc::Provider;
use crate::provisioning::{self, Change};

/// The units under `root` (default: every unit the caller administers), each once, parents
/// before children; closed (merged, dissolved) units too if asked.
pub async fn list(p: &Provider, c: &Caller, root: Option<&str>, with_closed: bool) -> Result<Vec<Unit>, AdminError> {
    let roots = match root {
        Some(id) => vec![c.unit_in_scope(p, id).await?],
        None => c.default_roots(p).await?,
    };
    // Subtrees of several roots may overlap (a unit under another administered unit).
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Unit> = Vec::new();
    for root in roots {
        out.extend(p.db.subtree(&root, with_closed).await?.into_iter().filter(|u| seen.insert(u.id.clone())));
    }
    Ok(out)
}

pub async fn create(p: &Provider, c: &Caller, new: &NewUnit) -> Result<Unit, AdminError> {
    c.require_super()?;
    let unit = p.db.create_unit(new, unix_now()).await?;
    record(p, c, Action::AdminUnitCreated, ("unit", &unit.id), Some(&unit.id), json!({ "code": unit.code })).await?;
    Ok(unit)
}

/// Renames a unit: every officer's `unit` claim follows at once (claims are read live).
pub async fn rename(p: &Provider, c: &Caller, id: &str, name: &str) -> Result<Unit, AdminError> {
    c.require_super()?;
    let unit = p.db.rename_unit(id, name, unix_now()).await?;
    record(p, c, Action::AdminUnitRenamed, ("unit", &unit.id), Some(&unit.id), json!({ "name": unit.name })).await?;
    let change = Change::UnitRenamed { unit_id: unit.id.clone(), code: unit.code.clone(), name: unit.name.clone() };
    provisioning::changed(&p.db, change).await;
    Ok(unit)
}

/// Merges units into `into`, moving their officers (each keeps its history); returns how many
/// officers moved.
pub async fn merge(p: &Provider, c: &Caller, into: &str, from: &[String]) -> Result<u64, AdminError> {
    c.require_super()?;
    if from.is_empty() {
        return Err(AdminError::invalid("from", "name at least one unit"));
    }
    // The merged units' codes, read before they are retired, for downstream systems.
    let mut from_codes = Vec::with_capacity(from.len());
    for id in from {
        from_codes.extend(p.db.unit(id).await?.map(|u| u.code));
    }
    let moved = p.db.merge_units(from, into, unix_now()).await?;
    let detail = json!({ "from": from, "officers_moved": moved });
    record(p, c, Action::AdminUnitMerged, ("unit", into), Some(into), detail).await?;
    if let Some(target) = p.db.unit(into).await? {
        let mut members: Vec<String> = Vec::new();
        loop {
            let after = members.last().cloned().unwrap_or_default();
            let page = p.db.officers_in(&target, &after, 1000).await?;
            let full = page.len() == 1000;
            members.extend(page.into_iter().map(|o| o.username));
            if !full {
                break;
            }
        }
        provisioning::changed(&p.db, Change::UnitMerged { into_code: target.code, from_codes, members }).await;
    }
    Ok(moved)
}

/// Changes a unit's code, kind and/or parent (moving its subtree along); audited with the old
/// and new values of what changed.
pub async fn restructure(p: &Provider, c: &Caller, id: &str, change: &UnitChange) -> Result<Unit, AdminError> {
    c.require_super()?;
    let before = c.unit_in_scope(p, id).await?;
    let old_parent = match &before.parent_id {
        Some(pid) => p.db.unit(pid).await?.map(|u| u.code),
        None => None,
    };
    let unit = p.db.restructure_unit(id, change, unix_now()).await?;
    let new_parent = match &unit.parent_id {
        Some(pid) => p.db.unit(pid).await?.map(|u| u.code),
        None => None,
    };
    let mut detail = serde_json::Map::new();
    if unit.code != before.code {
        detail.insert("code".into(), json!({ "from": before.code, "to": unit.code }));
    }
    if unit.kind != before.kind {
        detail.insert("kind".into(), json!({ "from": before.kind.as_str(), "to": unit.kind.as_str() }));
    }
    if new_parent != old_parent {
        detail.insert("parent_code".into(), json!({ "from": old_parent, "to": new_parent }));
    }
    if !detail.is_empty() {
        record(p, c, Action::AdminUnitRestructured, ("unit", &unit.id), Some(&unit.id), detail.into()).await?;
    }
    Ok(unit)
}

/// Dissolves an empty unit (no officers, no current child units, nothing merged into it): it
/// closes, keeping its history, and is no longer listed.
pub async fn dissolve(p: &Provider, c: &Caller, id: &str) -> Result<Unit, AdminError> {
    c.require_super()?;
    c.unit_in_scope(p, id).await?;
    let unit = p.db.dissolve_unit(id, unix_now()).await?;
    record(p, c, Action::AdminUnitDissolved, ("unit", &unit.id), Some(&unit.id), json!({ "code": unit.code })).await?;
    Ok(unit)
}
