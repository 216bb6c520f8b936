//! Groups through the admin operations: units are listed, created, renamed, restructured and
//! dissolved by `admin::ops::units` (all but listing are the province's: unrestricted clients
//! only), members are moved by `admin::ops::officers::move_to`. Merged or dissolved units, and units
//! outside a restricted client's subtree, are not found.

use std::collections::HashMap;

use scim_v2::filter::{AttrExp, CompValue, Filter};
use serde_json::Value;
use sqlx::Row;

use super::error::{ScimError, ScimResult};
use super::filter::{self, plain_name};
use super::groups::{GroupInput, Member, to_json, version};
use super::list::{self, Query};
use super::{GROUP_SCHEMA, UNIT_SCHEMA, check_if_match, external_ids};

const KIND: &str = "Group";
use crate::admin::authz::ScimCaller;
use crate::admin::ops::{officers as officer_ops, units as ops};
use crate::officers::{NewUnit, OfficerStatus, Unit, UnitChange};
use crate::oidc::Provider;

/// Officers posted directly to the unit (not disabled), by username.
async fn members(p: &Provider, unit_id: &str) -> ScimResult<Vec<Member>> {
    let rows = sqlx::query("SELECT id FROM officers WHERE unit_id = $1 AND status <> 'disabled' ORDER BY username")
        .bind(unit_id)
        .fetch_all(p.db.pool())
        .await
        .map_err(crate::store::DbError::from)?;
    rows.iter()
        .map(|r| Ok(Member { id: r.try_get(0)? }))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| crate::store::DbError::from(e).into())
}

async fn parent_code(p: &Provider, u: &Unit) -> ScimResult<Option<String>> {
    match &u.parent_id {
        Some(id) => Ok(p.db.unit(id).await?.map(|x| x.code)),
        None => Ok(None),
    }
}

/// The unit, if current and inside the caller's subtrees.
async fn load(p: &Provider, sc: &ScimCaller, id: &str) -> ScimResult<Unit> {
    match p.db.unit(id).await? {
        Some(u) if u.is_current() && sc.caller.covers(&u) => Ok(u),
        _ => Err(ScimError::not_found("Group")),
    }
}

/// The Group with its members, and its version.
async fn full(p: &Provider, sc: &ScimCaller, u: &Unit) -> ScimResult<(Value, String)> {
    let parent = parent_code(p, u).await?;
    let m = members(p, &u.id).await?;
    let external = external_ids::get(&p.db, external_ids::client_of(sc), KIND, &u.id).await?;
    Ok((to_json(u, parent.as_deref(), Some(&m), external.as_deref(), &p.issuer), version(u, parent.as_deref(), &m)))
}

pub async fn get(p: &Provider, sc: &ScimCaller, id: &str) -> ScimResult<Value> {
    Ok(full(p, sc, &load(p, sc, id).await?).await?.0)
}

/// Moves each named officer (keeping their position) into `unit`.
async fn add_members(p: &Provider, sc: &ScimCaller, unit: &Unit, ids: &[String]) -> ScimResult<()> {
    for id in ids {
        let officer = p.db.officer(id).await?.filter(|o| o.status != OfficerStatus::Disabled);
        let Some(o) = officer else { return Err(ScimError::bad("invalidValue", format!("no User {id}"))) };
        if o.unit_id != unit.id {
            officer_ops::move_to(p, &sc.caller, &o.id, &unit.code, o.position.as_deref()).await?;
        }
    }
    Ok(())
}

/// POST /Groups: a new unit (unrestricted clients only, as in the admin API). Without
/// `parentCode` it goes under the province's root unit.
pub async fn create(p: &Provider, sc: &ScimCaller, body: &Value) -> ScimResult<Value> {
    let input = GroupInput::parse(body)?;
    let code =
        input.code.clone().ok_or_else(|| ScimError::bad("invalidValue", format!("{UNIT_SCHEMA}:code is required")))?;
    let kind = input.kind.ok_or_else(|| ScimError::bad("invalidValue", format!("{UNIT_SCHEMA}:kind is required")))?;
    let parent_code = match &input.parent_code {
        Some(c) => Some(c.clone()),
        None => match sc.caller.default_roots(p).await?.as_slice() {
            [root] => Some(root.code.clone()),
            _ => None,
        },
    };
    let unit =
        ops::create(p, &sc.caller, &NewUnit { code, name: input.display_name.clone(), kind, parent_code }).await?;
    add_members(p, sc, &unit, input.members.as_deref().unwrap_or_default()).await?;
    if let Some(x) = &input.external_id {
        external_ids::set(&p.db, external_ids::client_of(sc), KIND, &unit.id, Some(x)).await?;
    }
    Ok(full(p, sc, &unit).await?.0)
}

/// Makes the unit what `input` says: a new code, kind or parent restructures the unit (its
/// subtree moves with it); a new name is a rename; new members move here.
async fn save(p: &Provider, sc: &ScimCaller, u: &Unit, input: &GroupInput) -> ScimResult<Value> {
    let parent = parent_code(p, u).await?;
    let change = UnitChange {
        code: input.code.clone().filter(|c| *c != u.code),
        kind: input.kind.filter(|k| *k != u.kind),
        parent_code: input.parent_code.clone().filter(|c| Some(c) != parent.as_ref()),
    };
    // Members who leave: refused from the province's root unit (there is nowhere above it).
    let leaving: Vec<Member> = match &input.members {
        Some(wanted) => members(p, &u.id).await?.into_iter().filter(|m| !wanted.contains(&m.id)).collect(),
        None => Vec::new(),
    };
    if let (Some(gone), None) = (leaving.first(), &parent) {
        return Err(ScimError::bad(
            "mutability",
            format!("{} cannot leave the province's root unit: add them to another Group", gone.id),
        ));
    }
    let restructured = if change != UnitChange::default() {
        Some(ops::restructure(p, &sc.caller, &u.id, &change).await?)
    } else {
        None
    };
    let u = restructured.as_ref().unwrap_or(u);
    let renamed = if input.display_name != u.name {
        Some(ops::rename(p, &sc.caller, &u.id, &input.display_name).await?)
    } else {
        None
    };
    let u = renamed.as_ref().unwrap_or(u);
    add_members(p, sc, u, input.members.as_deref().unwrap_or_default()).await?;
    // An officer always belongs to one unit: one who leaves this unit goes up to its parent
    // (keeping their position); for a client restricted to this very unit that is a move out of
    // its subtree, refused (403) as any other.
    if let (false, Some(up)) = (leaving.is_empty(), parent_code(p, u).await?) {
        for m in &leaving {
            if let Some(o) = p.db.officer(&m.id).await?.filter(|o| o.unit_id == u.id) {
                officer_ops::move_to(p, &sc.caller, &o.id, &up, o.position.as_deref()).await?;
            }
        }
    }
    external_ids::sync(&p.db, sc, KIND, &u.id, input.external_id.as_deref()).await?;
    Ok(full(p, sc, u).await?.0)
}

pub async fn replace(
    p: &Provider,
    sc: &ScimCaller,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    let u = load(p, sc, id).await?;
    check_if_match(if_match, &full(p, sc, &u).await?.1)?;
    save(p, sc, &u, &GroupInput::parse(body)?).await
}

pub async fn patch(p: &Provider, sc: &ScimCaller, id: &str, body: &Value, if_match: Option<&str>) -> ScimResult<Value> {
    let u = load(p, sc, id).await?;
    let (mut v, current) = full(p, sc, &u).await?;
    check_if_match(if_match, &current)?;
    super::patch::apply(&mut v, body, &[UNIT_SCHEMA])?;
    // The Group as read always lists `members` (maybe empty): gone after the operations means
    // they were all removed, not "left as they are" (which is what a PUT without it means).
    if super::filter::get_ci(&v, "members").is_none() {
        v["members"] = Value::Array(Vec::new());
    }
    save(p, sc, &u, &GroupInput::parse(&v)?).await
}

/// DELETE /Groups/{id}: dissolves the unit if it is empty (no officers, no units below it,
/// nothing merged into it), else 409. The unit is closed, not erased: its history stays, it is
/// no longer found or listed, and its code stays taken.
pub async fn delete(p: &Provider, sc: &ScimCaller, id: &str, if_match: Option<&str>) -> ScimResult<()> {
    let u = load(p, sc, id).await?;
    check_if_match(if_match, &full(p, sc, &u).await?.1)?;
    ops::dissolve(p, &sc.caller, &u.id).await?;
    Ok(())
}

/// Officer ids a filter compares `members` (or `members.value`) with.
fn member_ids(f: &Filter, out: &mut Vec<String>) {
    match f {
        Filter::Attr(AttrExp::Comparison(p, _, CompValue::Str(s)))
            if plain_name(p, &[GROUP_SCHEMA]).is_some_and(|n| n.starts_with("members")) =>
        {
            out.push(s.clone());
        }
        Filter::ValuePath(vp) if vp.attr.name.eq_ignore_ascii_case("members") => {
            let mut values = Vec::new();
            collect_val(&vp.filter, &mut values);
            out.extend(values);
        }
        Filter::Not(inner) => member_ids(inner, out),
        Filter::And(items) | Filter::Or(items) => items.iter().for_each(|f| member_ids(f, out)),
        _ => {}
    }
}

fn collect_val(f: &scim_v2::filter::ValFilter, out: &mut Vec<String>) {
    use scim_v2::filter::ValFilter;
    match f {
        ValFilter::Attr(AttrExp::Comparison(_, _, CompValue::Str(s))) => out.push(s.clone()),
        ValFilter::Not(inner) => collect_val(inner, out),
        ValFilter::And(items) | ValFilter::Or(items) => items.iter().for_each(|f| collect_val(f, out)),
        _ => {}
    }
}

/// GET /Groups: the caller's units, filtered on their JSON. A filter on members is answered by
/// looking up the officers it names, not by loading every unit's members.
pub async fn list(p: &Provider, sc: &ScimCaller, q: &Query) -> ScimResult<Value> {
    let units = ops::list(p, &sc.caller, None, false).await?;
    let codes: HashMap<&str, &str> = units.iter().map(|u| (u.id.as_str(), u.code.as_str())).collect();
    let mut named_members: HashMap<String, Vec<Member>> = HashMap::new();
    if let Some(f) = &q.filter {
        filter::check_group_filter(f)?;
        let mut ids = Vec::new();
        member_ids(f, &mut ids);
        for id in ids.iter().take(super::MAX_PAGE) {
            if let Some(o) = p.db.officer(id).await?.filter(|o| o.status != OfficerStatus::Disabled) {
                named_members.entry(o.unit_id.clone()).or_default().push(Member { id: o.id });
            }
        }
    }
    let externals = external_ids::all(&p.db, external_ids::client_of(sc), KIND).await?;
    let parent = |u: &Unit| u.parent_id.as_deref().and_then(|id| codes.get(id).copied());
    let mut matching: Vec<(&Unit, Value)> = units
        .iter()
        .map(|u| {
            let m = named_members.get(&u.id).map(Vec::as_slice).unwrap_or_default();
            (u, to_json(u, parent(u), Some(m), externals.get(&u.id).map(String::as_str), &p.issuer))
        })
        .filter(|(_, v)| q.filter.as_ref().is_none_or(|f| filter::matches(f, v)))
        .collect();
    if let Some(path) = &q.sort_by {
        let key = plain_name(path, &[GROUP_SCHEMA, UNIT_SCHEMA]).unwrap_or_default();
        let sort_key = |u: &Unit| match key.as_str() {
            "displayname" => u.name.to_lowercase(),
            "code" => u.code.clone(),
            "id" => u.id.clone(),
            _ => String::new(),
        };
        if !matches!(key.as_str(), "displayname" | "code" | "id") {
            return Err(ScimError::bad("invalidValue", format!("cannot sort Groups on {path}")));
        }
        matching.sort_by_key(|(u, _)| sort_key(u));
        if q.descending {
            matching.reverse();
        }
    }
    let total = matching.len();
    let mut page = Vec::new();
    let skip_members = q.excluded.iter().any(|a| a.eq_ignore_ascii_case("members"));
    for (u, _) in matching.into_iter().skip(q.start_index - 1).take(q.count) {
        let v = if skip_members {
            to_json(u, parent(u), None, externals.get(&u.id).map(String::as_str), &p.issuer)
        } else {
            full(p, sc, u).await?.0
        };
        page.push(list::project(v, &q.attributes, &q.excluded));
    }
    Ok(list::response(total, q.start_index, page))
}
