//! Units in the console: the caller's subtrees (filtered, a bounded number shown), and for super
//! administrators creation, renames and merges, through `admin::ops::units`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{self, Chrome, ResultBody};
use super::{Console, ConsoleError, ConsoleForm, OrConsole, csrf_field, lenient};
use crate::admin::ops::units as ops;
use crate::officers::{DirectoryError, NewUnit, Unit, UnitKind};
use crate::oidc::Provider;
use crate::web::page;

/// A province has thousands of units: a page shows at most this many (narrow with the filter).
const SHOWN: usize = 200;

pub fn router() -> Router<Provider> {
    Router::new()
        .route("/admin/units", get(list))
        .route("/admin/units/new", post(create))
        .route("/admin/units/merge", post(merge))
        .route("/admin/units/{id}/rename", post(rename))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
}

struct UnitRow {
    u: Unit,
    parent: String,
    since: String,
}

#[derive(Template)]
#[template(path = "admin/units.html")]
struct UnitsPage {
    chrome: Chrome,
    q: String,
    units: Vec<UnitRow>,
    more: usize,
    kinds: [UnitKind; 6],
}

async fn list(
    State(p): State<Provider>,
    c: Console,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ConsoleError> {
    let q: ListQuery = lenient(q);
    let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    let all = ops::list(&p, &c.caller, None, false).await.or_console(c.lang)?;
    // A province has thousands of units: parents' codes by id, not a search per row.
    let codes: std::collections::HashMap<&str, &str> = all.iter().map(|u| (u.id.as_str(), u.code.as_str())).collect();
    let code_of =
        |id: &Option<String>| id.as_deref().and_then(|id| codes.get(id)).map(|c| (*c).to_owned()).unwrap_or_default();
    let matching: Vec<UnitRow> = all
        .iter()
        .filter(|u| {
            needle.is_empty() || u.code.to_lowercase().contains(&needle) || u.name.to_lowercase().contains(&needle)
        })
        .map(|u| UnitRow { u: u.clone(), parent: code_of(&u.parent_id), since: page::fmt_time(u.valid_from) })
        .collect();
    let more = matching.len().saturating_sub(SHOWN);
    let here =
        format!("/admin/units?q={}", url::form_urlencoded::byte_serialize(needle.as_bytes()).collect::<String>());
    let page = UnitsPage {
        chrome: Chrome::new(&c, |t| t.units, &here),
        q: q.q.unwrap_or_default(),
        units: matching.into_iter().take(SHOWN).collect(),
        more,
        kinds: [
            UnitKind::Department,
            UnitKind::Agency,
            UnitKind::Commune,
            UnitKind::Ward,
            UnitKind::SpecialZone,
            UnitKind::Province,
        ],
    };
    Ok(page::render(StatusCode::OK, &page))
}

fn back(c: &Console) -> Response {
    Redirect::to(&format!("/admin/units?lang={}", c.lang.code())).into_response()
}

#[derive(Deserialize)]
struct UnitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_code: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    into: String,
}

async fn create(
    State(p): State<Provider>,
    ConsoleForm { c, form: f }: ConsoleForm<UnitForm>,
) -> Result<Response, ConsoleError> {
    let kind = serde_json::from_value::<UnitKind>(serde_json::Value::String(f.kind.clone()))
        .map_err(|_| DirectoryError::invalid("kind", "unknown unit kind"))
        .or_console(c.lang)?;
    let parent = Some(f.parent_code.trim().to_owned()).filter(|s| !s.is_empty());
    let new = NewUnit { code: f.code.trim().to_owned(), name: f.name.trim().to_owned(), kind, parent_code: parent };
    ops::create(&p, &c.caller, &new).await.or_console(c.lang)?;
    Ok(back(&c))
}

async fn rename(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<UnitForm>,
) -> Result<Response, ConsoleError> {
    ops::rename(&p, &c.caller, &id, f.name.trim()).await.or_console(c.lang)?;
    Ok(back(&c))
}

async fn unit_id(p: &Provider, code: &str) -> Result<String, DirectoryError> {
    Ok(p.db.unit_by_code(code.trim()).await?.ok_or(DirectoryError::NotFound("unit"))?.id)
}

async fn merge(
    State(p): State<Provider>,
    ConsoleForm { c, form: f }: ConsoleForm<UnitForm>,
) -> Result<Response, ConsoleError> {
    let lang = c.lang;
    c.caller.require_super().or_console(lang)?;
    let into = unit_id(&p, &f.into).await.or_console(lang)?;
    let mut from = Vec::new();
    for code in f.from.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).take(100) {
        from.push(unit_id(&p, code).await.or_console(lang)?);
    }
    let moved = ops::merge(&p, &c.caller, &into, &from).await.or_console(lang)?;
    let body = ResultBody { message: format!("{} {moved}", super::texts::of(lang).merged), ..Default::default() };
    Ok(pages::result(&c, |t| t.merge_heading, body, "/admin/units"))
}

csrf_field!(UnitForm);
