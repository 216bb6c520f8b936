//! The audit log in the console: by officer, unit, event type and time, newest first, a page
//! at a time; scoped like the API (`admin::ops::audit`).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use super::pages::Chrome;
use super::{Console, ConsoleError, OrConsole, lenient};
use crate::admin::ops::audit::{self as ops, AuditQuery};
use crate::oidc::Provider;
use crate::web::page;

const PAGE: u32 = 100;

pub fn router() -> Router<Provider> {
    Router::new().route("/admin/audit", get(list))
}

#[derive(Deserialize, Default)]
struct Filter {
    /// The officer's username.
    officer: Option<String>,
    /// A unit code.
    unit: Option<String>,
    action: Option<String>,
    /// YYYY-MM-DD (UTC), inclusive.
    since: Option<String>,
    /// YYYY-MM-DD (UTC), inclusive.
    until: Option<String>,
    before: Option<i64>,
}

struct Row {
    when: String,
    actor: String,
    action: String,
    object: String,
    ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    officer: String,
    unit: String,
    action: String,
    since: String,
    until: String,
    rows: Vec<Row>,
    next: Option<String>,
}

fn day_start(s: Option<&str>) -> Option<i64> {
    let d = NaiveDate::parse_from_str(s?.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

fn text(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_owned()
}

async fn list(
    State(p): State<Provider>,
    c: Console,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ConsoleError> {
    let f: Filter = lenient(q);
    let lang = c.lang;
    let (officer, unit, action) = (text(&f.officer), text(&f.unit), text(&f.action));
    let officer_id = match officer.as_str() {
        "" => None,
        // An unknown username matches nothing rather than everything.
        name => Some(p.db.officer_by_username(name).await.or_console(lang)?.map(|o| o.id).unwrap_or_default()),
    };
    let unit_id = match unit.as_str() {
        "" => None,
        code => Some(c.caller.unit_code_in_scope(&p, code).await.or_console(lang)?.id),
    };
    let query = AuditQuery {
        actor: None,
        officer: officer_id,
        unit: unit_id,
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        since: day_start(f.since.as_deref()),
        until: day_start(f.until.as_deref()).map(|t| t + 86_400),
        before_seq: f.before,
        limit: PAGE,
    };
    let found = ops::query(&p, &c.caller, query).await.or_console(lang)?;
    let rows = found
        .items
        .into_iter()
        .map(|e| Row {
            when: page::fmt_time(e.at),
            object: match (&e.object_type, &e.object_id) {
                (Some(t), Some(id)) => format!("{t}:{id}"),
                _ => String::new(),
            },
            actor: e.actor,
            action: e.action,
            ip: e.ip.unwrap_or_default(),
            detail: e.detail,
        })
        .collect();
    let mut keep = url::form_urlencoded::Serializer::new(String::new());
    keep.append_pair("officer", &officer)
        .append_pair("unit", &unit)
        .append_pair("action", &action)
        .append_pair("since", &text(&f.since))
        .append_pair("until", &text(&f.until));
    let keep = keep.finish();
    let next = found.next_before_seq.map(|b| format!("/admin/audit?{keep}&before={b}&lang={}", lang.code()));
    let page = AuditPage {
        chrome: Chrome::new(&c, |t| t.audit, &format!("/admin/audit?{keep}")),
        officer,
        unit,
        action,
        since: text(&f.since),
        until: text(&f.until),
        rows,
        next,
    };
    Ok(page::render(StatusCode::OK, &page))
}
