//! Users through the admin operations (`admin::ops::officers`): every change is one the admin
//! API can make, checked and audited there. A restricted client reaches only officers of its
//! subtree; others, and disabled (deleted) officers, are not found.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::Row;

use super::error::{ScimError, ScimResult};
use super::filter::{Bind, Column, UserSql};
use super::list::{self, Query};
use super::users::{UserInput, to_json, version};
use super::{OFFICER_SCHEMA, check_if_match, external_ids};
use crate::admin::authz::{Caller, ScimCaller};
use crate::admin::ops::officers as ops;
use crate::admin::store::OfficerPatch;
use crate::officers::{NewOfficer, Officer, OfficerStatus, Unit};
use crate::oidc::Provider;

/// The officer and their unit, if the caller may see them.
async fn load(p: &Provider, sc: &ScimCaller, id: &str) -> ScimResult<(Officer, Unit)> {
    let officer = p.db.officer(id).await?.filter(|o| o.status != OfficerStatus::Disabled);
    let Some(officer) = officer else { return Err(ScimError::not_found("User")) };
    let unit = p.db.unit(&officer.unit_id).await?.ok_or_else(|| ScimError::not_found("User"))?;
    if !sc.caller.covers(&unit) {
        return Err(ScimError::not_found("User"));
    }
    Ok((officer, unit))
}

/// The User as this caller sees it (their externalId, the personal ID if allowed).
async fn show(p: &Provider, sc: &ScimCaller, o: &Officer, u: &Unit) -> ScimResult<Value> {
    let external = external_ids::get(&p.db, external_ids::client_of(sc), KIND, &o.id).await?;
    Ok(to_json(o, u, external.as_deref(), sc.personal_id, &p.issuer))
}

const KIND: &str = "User";

pub async fn get(p: &Provider, sc: &ScimCaller, id: &str) -> ScimResult<Value> {
    let (o, u) = load(p, sc, id).await?;
    show(p, sc, &o, &u).await
}

fn refuse_personal_id(sc: &ScimCaller, input: &UserInput) -> ScimResult<()> {
    if input.personal_id.as_ref().is_some_and(Option::is_some) && !sc.personal_id {
        return Err(ScimError::new(403, None, "setting a personal ID needs the scim.personal_id scope"));
    }
    Ok(())
}

/// POST /Users. A client restricted to a unit may leave `unitCode` out: the officer joins that
/// unit. The answer carries the officer's one-time set-up link (`setupUrl`), as the admin API's.
pub async fn create(p: &Provider, sc: &ScimCaller, body: &Value) -> ScimResult<Value> {
    let input = UserInput::parse(body)?;
    refuse_personal_id(sc, &input)?;
    let unit_code = match (&input.unit_code, &sc.caller) {
        (Some(code), _) => code.clone(),
        (None, Caller::Automation { within: Some(u), .. }) => u.code.clone(),
        (None, _) => return Err(ScimError::bad("invalidValue", format!("{OFFICER_SCHEMA}:unitCode is required"))),
    };
    let new = NewOfficer {
        username: input.user_name.clone(),
        full_name: input.full_name.clone(),
        personal_id: input.personal_id.clone().flatten(),
        email: input.email.clone(),
        phone: input.phone.clone(),
        unit_code,
        position: input.position.clone(),
    };
    let (mut officer, setup_path) = ops::create(p, &sc.caller, &new).await?;
    if input.active == Some(false) {
        officer = ops::set_status(p, &sc.caller, &officer.id, OfficerStatus::Suspended).await?;
    }
    if let Some(x) = &input.external_id {
        external_ids::set(&p.db, external_ids::client_of(sc), KIND, &officer.id, Some(x)).await?;
    }
    let unit = p.db.unit(&officer.unit_id).await?.ok_or_else(|| ScimError::not_found("unit"))?;
    let mut v = show(p, sc, &officer, &unit).await?;
    v[OFFICER_SCHEMA]["setupUrl"] = format!("{}{setup_path}", p.issuer).into();
    Ok(v)
}

/// Makes the officer what `input` describes, through the operations that change what differs:
/// profile (`update`), unit and position (`move_to`), status (`set_status`).
async fn save(p: &Provider, sc: &ScimCaller, o: &Officer, unit: &Unit, input: &UserInput) -> ScimResult<Value> {
    if input.user_name.trim().to_lowercase() != o.username {
        return Err(ScimError::bad("mutability", "userName cannot change (officers log in with it)"));
    }
    refuse_personal_id(sc, input)?;
    let c = &sc.caller;
    let target = input.unit_code.clone().unwrap_or_else(|| unit.code.clone());
    let moving = target != unit.code;
    let personal_id = if sc.personal_id { input.personal_id.clone() } else { None };
    let profile_changed = input.full_name != o.full_name
        || input.email != o.email
        || input.phone != o.phone
        || personal_id.as_ref().is_some_and(|x| *x != o.personal_id)
        || (!moving && input.position != o.position);
    if profile_changed {
        let patch = OfficerPatch {
            full_name: Some(input.full_name.clone()),
            personal_id: personal_id.map(Option::unwrap_or_default),
            email: Some(input.email.clone().unwrap_or_default()),
            phone: Some(input.phone.clone().unwrap_or_default()),
            position: (!moving).then(|| input.position.clone().unwrap_or_default()),
        };
        ops::update(p, c, &o.id, &patch).await?;
    }
    if moving {
        ops::move_to(p, c, &o.id, &target, input.position.as_deref()).await?;
    }
    let wanted = match input.active {
        Some(true) => OfficerStatus::Active,
        Some(false) => OfficerStatus::Suspended,
        None => o.status,
    };
    if o.status != wanted {
        ops::set_status(p, c, &o.id, wanted).await?;
    }
    external_ids::sync(&p.db, sc, KIND, &o.id, input.external_id.as_deref()).await?;
    get(p, sc, &o.id).await
}

/// PUT /Users/{id}.
pub async fn replace(
    p: &Provider,
    sc: &ScimCaller,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> ScimResult<Value> {
    let (o, unit) = load(p, sc, id).await?;
    check_if_match(if_match, &version(&o, &unit))?;
    save(p, sc, &o, &unit, &UserInput::parse(body)?).await
}

/// PATCH /Users/{id}: the operations applied to the User as the caller sees it, then saved.
pub async fn patch(p: &Provider, sc: &ScimCaller, id: &str, body: &Value, if_match: Option<&str>) -> ScimResult<Value> {
    let (o, unit) = load(p, sc, id).await?;
    check_if_match(if_match, &version(&o, &unit))?;
    let mut v = show(p, sc, &o, &unit).await?;
    let (display, formatted) = (v["displayName"].clone(), v["name"]["formatted"].clone());
    super::patch::apply(&mut v, body, &[OFFICER_SCHEMA])?;
    // displayName and name.formatted are one full name: whichever the PATCH changed wins.
    if v["name"]["formatted"] != formatted && v["displayName"] == display && v["name"]["formatted"].is_string() {
        v["displayName"] = v["name"]["formatted"].clone();
    }
    save(p, sc, &o, &unit, &UserInput::parse(&v)?).await
}

/// DELETE /Users/{id}: the officer is disabled (kept for history, sessions ended).
pub async fn delete(p: &Provider, sc: &ScimCaller, id: &str, if_match: Option<&str>) -> ScimResult<()> {
    let (o, unit) = load(p, sc, id).await?;
    check_if_match(if_match, &version(&o, &unit))?;
    ops::set_status(p, &sc.caller, &o.id, OfficerStatus::Disabled).await?;
    Ok(())
}

/// GET /Users (and POST /Users/.search): one page, filtered and sorted in SQL.
pub async fn list(p: &Provider, sc: &ScimCaller, q: &Query) -> ScimResult<Value> {
    let roots = sc.caller.default_roots(p).await?;
    if roots.is_empty() {
        return Ok(list::response(0, q.start_index, Vec::new()));
    }
    // $1 is the client (its externalIds), then the subtrees' paths.
    let mut binds = vec![Bind::Text(external_ids::client_of(sc).to_owned())];
    binds.extend(roots.iter().map(|r| Bind::Text(format!("{}%", r.path))));
    let within: Vec<String> = (2..=roots.len() + 1).map(|i| format!("u.path LIKE ${i}")).collect();
    let mut condition = format!("({}) AND o.status <> 'disabled'", within.join(" OR "));
    if let Some(f) = &q.filter {
        let sql = UserSql::translate(f, binds.len() + 1, sc.personal_id)?;
        condition = format!("{condition} AND {}", sql.condition);
        binds.extend(sql.binds);
    }
    let order = match &q.sort_by {
        Some(path) => Column::of(path, sc.personal_id)
            .ok_or_else(|| ScimError::bad("invalidValue", format!("cannot sort on {path}")))?
            .sql(),
        None => Column::UserName.sql(),
    };
    let from = "FROM officers o JOIN units u ON u.id = o.unit_id LEFT JOIN scim_external_ids x \
                ON x.client_id = $1 AND x.resource_type = 'User' AND x.resource_id = o.id";
    let total: i64 =
        fetch(p, &format!("SELECT COUNT(*) {from} WHERE {condition}"), &binds).await?.first().copied().unwrap_or(0);
    let mut resources = Vec::new();
    if q.count > 0 && total > 0 {
        let dir = if q.descending { "DESC" } else { "ASC" };
        let offset = (q.start_index - 1).min(i64::MAX as usize / 2);
        let sql = format!(
            "SELECT o.id {from} WHERE {condition} ORDER BY {order} {dir}, o.id LIMIT {} OFFSET {offset}",
            q.count
        );
        let ids = fetch_ids(p, &sql, &binds).await?;
        let mut units: HashMap<String, Unit> = HashMap::new();
        for id in ids {
            let Some(o) = p.db.officer(&id).await? else { continue };
            if !units.contains_key(&o.unit_id) {
                let Some(u) = p.db.unit(&o.unit_id).await? else { continue };
                units.insert(u.id.clone(), u);
            }
            if let Some(u) = units.get(&o.unit_id) {
                resources.push(list::project(show(p, sc, &o, u).await?, &q.attributes, &q.excluded));
            }
        }
    }
    Ok(list::response(usize::try_from(total).unwrap_or(0), q.start_index, resources))
}

fn bound<'q>(sql: &'q str, binds: &'q [Bind]) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s.as_str()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query
}

async fn fetch(p: &Provider, sql: &str, binds: &[Bind]) -> ScimResult<Vec<i64>> {
    let rows = bound(sql, binds).fetch_all(p.db.pool()).await.map_err(crate::store::DbError::from)?;
    rows.iter().map(|r| r.try_get::<i64, _>(0).map_err(|e| crate::store::DbError::from(e).into())).collect()
}

async fn fetch_ids(p: &Provider, sql: &str, binds: &[Bind]) -> ScimResult<Vec<String>> {
    let rows = bound(sql, binds).fetch_all(p.db.pool()).await.map_err(crate::store::DbError::from)?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(|e| crate::store::DbError::from(e).into())).collect()
}
