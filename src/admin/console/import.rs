//! CSV import in the console: the file's text pasted into a form (no script, no upload
//! encoding needed), checked row by row like `xacthuc officers import` and the API, through
//! `admin::ops::officers::import`.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::pages::{self, Chrome, ResultBody};
use super::{Console, ConsoleError, ConsoleForm, OrConsole, csrf_field};
use crate::admin::ops::officers as ops;
use crate::officers::import::ImportOptions;
use crate::oidc::Provider;
use crate::web::page;

pub fn router() -> Router<Provider> {
    Router::new().route("/admin/officers/import", get(form).post(import))
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    chrome: Chrome,
}

async fn form(c: Console) -> Response {
    page::render(StatusCode::OK, &ImportPage { chrome: Chrome::new(&c, |t| t.import, "/admin/officers/import") })
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit_code: String,
    #[serde(default)]
    csv: String,
    #[serde(default)]
    partial: Option<String>,
    #[serde(default)]
    dry_run: Option<String>,
}

async fn import(
    State(p): State<Provider>,
    ConsoleForm { c, form: f }: ConsoleForm<ImportForm>,
) -> Result<Response, ConsoleError> {
    let opts = ImportOptions { partial: f.partial.is_some(), dry_run: f.dry_run.is_some() };
    let report = ops::import(&p, &c.caller, f.unit_code.trim(), f.csv.as_bytes(), &opts).await.or_console(c.lang)?;
    let t = super::texts::of(c.lang);
    let issuer = p.issuer.trim_end_matches('/');
    let body = ResultBody {
        message: format!(
            "{}: {} · {}: {} · {}: {} · {}: {}",
            t.rows,
            report.rows,
            t.created_count,
            report.created,
            t.updated_count,
            report.updated,
            t.unchanged_count,
            report.unchanged
        ) + if report.applied { "" } else { t.nothing_applied },
        values: report
            .setup_links
            .iter()
            .map(|(u, token)| (u.clone(), format!("{issuer}/officer/setup?token={token}")))
            .collect(),
        problems: report.errors.iter().map(|e| format!("{} {}: {}: {}", t.row, e.row, e.field, e.message)).collect(),
    };
    Ok(pages::result(&c, |t| t.import, body, "/admin/officers/import"))
}

csrf_field!(ImportForm);
