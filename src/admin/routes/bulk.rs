//! Officers in bulk and their login locks: a CSV import inside the caller's subtree, and the
//! brute-force lock an administrator can see and lift.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{Admin, ApiError, ApiResult, PathOf, QueryOf, audited};
use crate::audit::Action;
use crate::clock::unix_now;
use crate::crypto::sha256_hex_bytes;
use crate::officers::auth::lockout;
use crate::officers::import::{ImportOptions, ImportReport, import_csv};
use crate::officers::setup::setup_path;
use crate::oidc::Provider;

const ID: &str = "The officer's id";

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Code of the unit whose subtree every row must be in (the caller must administer it).
    unit: String,
    /// Apply the valid rows even if some are not.
    #[serde(default)]
    partial: bool,
    /// Validate only.
    #[serde(default)]
    dry_run: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SetupLinkView {
    username: String,
    setup_path: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    report: ImportReport,
    /// One-time set-up links of the officers created, to hand over to them.
    setup_links: Vec<SetupLinkView>,
}

/// Imports officers from CSV (`username,full_name,personal_id,email,phone,unit_code,position,roles`):
/// every row validated first, every error with its row number; nothing applied unless all rows
/// are valid (or `partial`); importing the same file again changes nothing.
#[utoipa::path(post, path = "/officers/import", tag = "officers", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"), responses((status = 200, body = ImportResult)))]
pub async fn import(
    State(p): State<Provider>,
    Admin(c): Admin,
    QueryOf(q): QueryOf<ImportQuery>,
    csv: Bytes,
) -> ApiResult<ImportResult> {
    let within = c.unit_code_in_scope(&p, &q.unit).await?;
    let opts = ImportOptions { partial: q.partial, dry_run: q.dry_run };
    let report = import_csv(&p.db, &csv, &opts, Some(&within), unix_now(), &|_, _| {}).await?;
    // What changed officers is audited; a re-import that changed nothing changed nothing.
    if report.applied && report.created + report.updated > 0 {
        let detail = json!({
            "file_sha256": sha256_hex_bytes(&csv),
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "errors": report.errors.len(),
            "partial": q.partial,
        });
        audited(&p, &c, Action::AdminOfficersImported, ("unit", &within.id), detail).await?;
    }
    let setup_links = report
        .setup_links
        .iter()
        .map(|(username, token)| SetupLinkView { username: username.clone(), setup_path: setup_path(token) })
        .collect();
    Ok(Json(ImportResult { report, setup_links }))
}

#[derive(Serialize, ToSchema)]
pub struct LockView {
    /// Failed attempts counted in the current window.
    failures: i64,
    locked: bool,
}

/// The officer's brute-force lock.
#[utoipa::path(get, path = "/officers/{id}/lock", tag = "officers", params(("id" = String, Path, description = ID)),
    responses((status = 200, body = LockView)))]
pub async fn lock_status(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> ApiResult<LockView> {
    let officer = c.officer_in_scope(&p, &id).await?;
    let s = lockout::status(&p.kv, &officer.username).await.map_err(ApiError::from)?;
    Ok(Json(LockView { failures: s.failures, locked: s.locked }))
}

/// Lifts the officer's lock and forgets their failed attempts.
#[utoipa::path(delete, path = "/officers/{id}/lock", tag = "officers", params(("id" = String, Path, description = ID)),
    responses((status = 200, body = LockView)))]
pub async fn unlock(State(p): State<Provider>, Admin(c): Admin, PathOf(id): PathOf<String>) -> ApiResult<LockView> {
    let officer = c.officer_in_scope(&p, &id).await?;
    lockout::unlock(&p.kv, &officer.username).await.map_err(ApiError::from)?;
    audited(&p, &c, Action::AdminOfficerUnlocked, ("officer", &id), json!({})).await?;
    Ok(Json(LockView { failures: 0, locked: false }))
}
