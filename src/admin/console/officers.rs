//! Officers in the console: search and filter with paging, bulk actions on the selected rows,
//! creation with a one-time set-up link, and one officer's page (profile, status, move, reset
//! link, login lock, sessions). Every change goes through `admin::ops::officers`.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{self, Chrome, ResultBody};
use super::{Console, ConsoleError, ConsoleForm, OrConsole, csrf_field, lenient};
use crate::admin::error::AdminError;
use crate::admin::ops::officers::{self as ops, OfficerFilter};
use crate::admin::store::OfficerPatch;
use crate::officers::{DirectoryError, NewOfficer, Officer, OfficerStatus};
use crate::oidc::Provider;
use crate::web::page;

const PAGE: i64 = 50;
/// At most this many officers in one bulk action (one page's worth, and then some).
const MAX_BULK: usize = 200;

pub fn router() -> Router<Provider> {
    Router::new()
        .route("/admin/officers", get(list))
        .route("/admin/officers/bulk", post(bulk))
        .route("/admin/officers/new", get(new_form).post(create))
        .route("/admin/officers/{id}", get(show))
        .route("/admin/officers/{id}/profile", post(profile))
        .route("/admin/officers/{id}/status", post(status))
        .route("/admin/officers/{id}/move", post(move_to))
        .route("/admin/officers/{id}/reset", post(reset))
        .route("/admin/officers/{id}/unlock", post(unlock))
        .route("/admin/officers/{id}/sessions/end", post(end_sessions))
        .route("/admin/officers/{id}/roles", post(set_roles))
        .route("/admin/officers/{id}/grants", post(grant))
        .route("/admin/officers/{id}/grants/revoke", post(revoke_grant))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    unit: Option<String>,
    status: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

pub struct Row {
    id: String,
    username: String,
    full_name: String,
    unit: String,
    position: String,
    status: &'static str,
    has_password: bool,
}

#[derive(Template)]
#[template(path = "admin/officers.html")]
struct ListPage {
    chrome: Chrome,
    unit: String,
    status: String,
    q: String,
    rows: Vec<Row>,
    next: Option<String>,
}

fn status_text(t: &super::texts::Texts, s: OfficerStatus) -> &'static str {
    match s {
        OfficerStatus::Active => t.active,
        OfficerStatus::Suspended => t.suspended,
        OfficerStatus::Disabled => t.disabled,
    }
}

fn parse_status(s: Option<&str>) -> Option<OfficerStatus> {
    s.and_then(|s| serde_json::from_value(serde_json::Value::String(s.to_owned())).ok())
}

/// Unit codes by id, for the rows of one page.
async fn unit_codes(p: &Provider, officers: &[Officer]) -> Result<HashMap<String, String>, DirectoryError> {
    let mut codes = HashMap::new();
    for o in officers {
        if !codes.contains_key(&o.unit_id)
            && let Some(u) = p.db.unit(&o.unit_id).await?
        {
            codes.insert(u.id, u.code);
        }
    }
    Ok(codes)
}

async fn list(
    State(p): State<Provider>,
    c: Console,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ConsoleError> {
    let q: ListQuery = lenient(q);
    let lang = c.lang;
    let unit_code = q.unit.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let unit = match unit_code {
        Some(code) => Some(c.caller.unit_code_in_scope(&p, code).await.or_console(lang)?.id),
        // An administrator of several subtrees starts with the first (the API asks to name one).
        None => c.caller.default_roots(&p).await.or_console(lang)?.first().map(|u| u.id.clone()),
    };
    let status = parse_status(q.status.as_deref());
    let filter = OfficerFilter {
        unit,
        status,
        username_prefix: q.q.clone().filter(|s| !s.trim().is_empty()),
        after: q.after.clone(),
        limit: PAGE,
    };
    let found = ops::search(&p, &c.caller, &filter).await.or_console(lang)?;
    let codes = unit_codes(&p, &found.items).await.or_console(lang)?;
    let t = super::texts::of(lang);
    let rows = found
        .items
        .into_iter()
        .map(|o| Row {
            unit: codes.get(&o.unit_id).cloned().unwrap_or_default(),
            status: status_text(t, o.status),
            position: o.position.unwrap_or_default(),
            id: o.id,
            username: o.username,
            full_name: o.full_name,
            has_password: o.has_password,
        })
        .collect();
    let keep = |after: Option<&str>| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("unit", unit_code.unwrap_or("")).append_pair("status", status.map(|s| s.as_str()).unwrap_or(""));
        s.append_pair("q", q.q.as_deref().unwrap_or(""));
        if let Some(a) = after {
            s.append_pair("after", a);
        }
        s.finish()
    };
    let next = found.next_after.as_deref().map(|a| format!("/admin/officers?{}&lang={}", keep(Some(a)), lang.code()));
    let here = format!("/admin/officers?{}", keep(q.after.as_deref()));
    let page = ListPage {
        chrome: Chrome::new(&c, |t| t.officers, &here),
        unit: unit_code.unwrap_or("").to_owned(),
        status: status.map(|s| s.as_str()).unwrap_or("").to_owned(),
        q: q.q.unwrap_or_default(),
        rows,
        next,
    };
    Ok(page::render(StatusCode::OK, &page))
}

/// The bulk form: repeated `id` fields (checkboxes), so read as pairs rather than a struct.
async fn bulk(
    State(p): State<Provider>,
    ConsoleForm { c, form: pairs }: ConsoleForm<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let field = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let ids: Vec<&str> = pairs.iter().filter(|(n, _)| n == "id").map(|(_, v)| v.as_str()).take(MAX_BULK).collect();
    let t = super::texts::of(c.lang);
    let action = field("action");
    let target = field("unit_code");
    let mut out = ResultBody::default();
    let mut done = 0;
    for id in ids {
        let outcome = match action.as_str() {
            "suspend" => ops::set_status(&p, &c.caller, id, OfficerStatus::Suspended).await.map(|_| None),
            "activate" => ops::set_status(&p, &c.caller, id, OfficerStatus::Active).await.map(|_| None),
            "disable" => ops::set_status(&p, &c.caller, id, OfficerStatus::Disabled).await.map(|_| None),
            "move" => ops::move_to(&p, &c.caller, id, &target, None).await.map(|_| None),
            "reset" => ops::reset_link(&p, &c.caller, id).await.map(Some),
            _ => return Err(ConsoleError::Admin(c.lang, AdminError::invalid("action", "unknown bulk action"))),
        };
        match outcome {
            Ok(link) => {
                done += 1;
                if let Some(path) = link {
                    out.values.push((username(&p, id).await, format!("{}{path}", p.issuer.trim_end_matches('/'))));
                }
            }
            Err(e) => out.problems.push(format!("{}: {e}", username(&p, id).await)),
        }
    }
    out.message = format!("{}: {done}", t.bulk_done);
    Ok(pages::result(&c, |t| t.officers, out, "/admin/officers"))
}

async fn username(p: &Provider, id: &str) -> String {
    match p.db.officer(id).await {
        Ok(Some(o)) => o.username,
        _ => id.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "admin/officer_new.html")]
struct NewPage {
    chrome: Chrome,
    form: OfficerForm,
    problem: Option<String>,
}

#[derive(Deserialize, Default)]
struct OfficerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    personal_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    unit_code: String,
    #[serde(default)]
    position: String,
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn new_form(c: Console) -> Response {
    let page = NewPage {
        chrome: Chrome::new(&c, |t| t.new_officer, "/admin/officers/new"),
        form: OfficerForm::default(),
        problem: None,
    };
    page::render(StatusCode::OK, &page)
}

async fn create(
    State(p): State<Provider>,
    ConsoleForm { c, form: f }: ConsoleForm<OfficerForm>,
) -> Result<Response, ConsoleError> {
    let new = NewOfficer {
        username: f.username.trim().to_owned(),
        full_name: f.full_name.trim().to_owned(),
        personal_id: optional(&f.personal_id),
        email: optional(&f.email),
        phone: optional(&f.phone),
        unit_code: f.unit_code.trim().to_owned(),
        position: optional(&f.position),
    };
    match ops::create(&p, &c.caller, &new).await {
        Ok((officer, path)) => {
            let t = super::texts::of(c.lang);
            let link = format!("{}{path}", p.issuer.trim_end_matches('/'));
            let body = ResultBody {
                message: format!("{} {}", t.created, t.setup_link_note),
                values: vec![(officer.username.clone(), link)],
                problems: Vec::new(),
            };
            Ok(pages::result(&c, |t| t.new_officer, body, &format!("/admin/officers/{}", officer.id)))
        }
        // The form comes back filled in, with what to fix.
        Err(AdminError::Directory(d)) if !matches!(d, DirectoryError::Db(_)) => {
            let chrome = Chrome::new(&c, |t| t.new_officer, "/admin/officers/new");
            Ok(page::render(StatusCode::BAD_REQUEST, &NewPage { chrome, form: f, problem: Some(d.to_string()) }))
        }
        Err(e) => Err(ConsoleError::Admin(c.lang, e)),
    }
}

#[derive(Template)]
#[template(path = "admin/officer.html")]
struct OfficerPage {
    chrome: Chrome,
    o: Officer,
    unit: String,
    status: &'static str,
    locked: bool,
    failures: i64,
    sessions: Vec<(String, String)>,
    /// (client id, roles joined).
    roles: Vec<(String, String)>,
    /// (role, unit id, unit code) for super administrators.
    grants: Vec<(String, String, String)>,
}

async fn show(State(p): State<Provider>, c: Console, Path(id): Path<String>) -> Result<Response, ConsoleError> {
    let lang = c.lang;
    let o = c.caller.officer_in_scope(&p, &id).await.or_console(lang)?;
    let unit = p.db.unit(&o.unit_id).await.or_console(lang)?.map(|u| format!("{} — {}", u.code, u.name));
    let lock = ops::lock_status(&p, &c.caller, &id).await.or_console(lang)?;
    let sessions = ops::sessions(&p, &c.caller, &id).await.or_console(lang)?;
    let roles =
        p.db.roles_of_officers(std::slice::from_ref(&id)).await.or_console(lang)?.remove(&id).unwrap_or_default();
    let grants = match c.caller.is_super() {
        true => ops::grants(&p, &c.caller, &id).await.or_console(lang)?,
        false => Vec::new(),
    };
    let t = super::texts::of(lang);
    let page = OfficerPage {
        chrome: Chrome::new(&c, |t| t.profile, &format!("/admin/officers/{id}")),
        unit: unit.unwrap_or_default(),
        status: status_text(t, o.status),
        locked: lock.locked,
        failures: lock.failures,
        sessions: sessions.into_iter().map(|s| (page::fmt_time(s.auth_time), s.clients.join(", "))).collect(),
        roles: roles
            .into_iter()
            .map(|(client, roles)| (client, roles.into_iter().collect::<Vec<_>>().join(", ")))
            .collect(),
        grants: grants.into_iter().map(|(role, u)| (role.as_str().to_owned(), u.id, u.code)).collect(),
        o,
    };
    Ok(page::render(StatusCode::OK, &page))
}

fn back_to(c: &Console, id: &str) -> Response {
    Redirect::to(&format!("/admin/officers/{id}?lang={}", c.lang.code())).into_response()
}

async fn profile(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<OfficerForm>,
) -> Result<Response, ConsoleError> {
    // Every field of the form is sent: an empty one clears it (the full name cannot be empty).
    let patch = OfficerPatch {
        full_name: Some(f.full_name.trim().to_owned()),
        personal_id: Some(f.personal_id.trim().to_owned()),
        email: Some(f.email.trim().to_owned()),
        phone: Some(f.phone.trim().to_owned()),
        position: Some(f.position.trim().to_owned()),
    };
    ops::update(&p, &c.caller, &id, &patch).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    roles: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    unit_code: String,
    #[serde(default)]
    position: String,
}

async fn status(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    let status = parse_status(Some(&f.status)).ok_or(ConsoleError::Expired(c.lang))?;
    ops::set_status(&p, &c.caller, &id, status).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

async fn move_to(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    ops::move_to(&p, &c.caller, &id, f.unit_code.trim(), Some(&f.position)).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

async fn reset(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, .. }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    let path = ops::reset_link(&p, &c.caller, &id).await.or_console(c.lang)?;
    let body = ResultBody {
        message: super::texts::of(c.lang).setup_link_note.to_owned(),
        values: vec![(username(&p, &id).await, format!("{}{path}", p.issuer.trim_end_matches('/')))],
        problems: Vec::new(),
    };
    Ok(pages::result(&c, |t| t.issue_reset, body, &format!("/admin/officers/{id}")))
}

async fn unlock(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, .. }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    ops::unlock(&p, &c.caller, &id).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

async fn end_sessions(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, .. }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    ops::end_sessions(&p, &c.caller, &id).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

async fn set_roles(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    let roles: Vec<String> = f.roles.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect();
    ops::set_roles(&p, &c.caller, &id, f.client_id.trim(), &roles).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

/// Makes the officer a unit administrator (super administrators): the unit is named by code.
async fn grant(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    let unit = c.caller.unit_code_in_scope(&p, &f.unit_code).await.or_console(c.lang)?;
    ops::grant(&p, &c.caller, &id, &unit.id).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

async fn revoke_grant(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<ActionForm>,
) -> Result<Response, ConsoleError> {
    ops::revoke_grant(&p, &c.caller, &id, &f.unit_id).await.or_console(c.lang)?;
    Ok(back_to(&c, &id))
}

csrf_field!(OfficerForm, ActionForm);
