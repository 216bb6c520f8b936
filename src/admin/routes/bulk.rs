//! Officers in bulk and their login locks: a CSV import inside the caller's subtree, and the
//! brute-force lock an administrator can see and lift.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Admin, ApiResult, PathOf, QueryOf};
use crate::admin::ops::officers as ops;
use crate::officers::import::{ImportOptions, ImportReport};
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
    let opts = ImportOptions { partial: q.partial, dry_run: q.dry_run };
    let report = ops::import(&p, &c, &q.unit, &csv, &opts).await?;
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
    let s = ops::lock_status(&p, &c, &id).await?;
    Ok(Json(LockView { failures: s.failures, locked: s.locked }))
}

/// Lifts the officer's lock and forgets their failed attempts.
#[utoipa::path(delete, path = "/officers/{id}/lock", tag = "officers", params(("id" = String, Path, description = ID)),
    responses((status = 200, body = LockView)))]
pub async fn unlock(State(p): State<Provider>, Admin(c): Admin, PathOf(id): PathOf<String>) -> ApiResult<LockView> {
    ops::unlock(&p, &c, &id).await?;
    Ok(Json(LockView { failures: 0, locked: false }))
}
