//! Reading the audit log: by actor, object, unit, action and time, newest first.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Admin, ApiResult, QueryOf};
use crate::admin::ops::audit as ops;
use crate::oidc::Provider;

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Exact actor, e.g. `officer:<id>` or `client:<client_id>`.
    actor: Option<String>,
    /// Entries about this officer (its id).
    officer: Option<String>,
    /// Entries of this unit's subtree (a unit id).
    unit: Option<String>,
    /// Action name prefix, e.g. `login.` or `admin.officer.`.
    action: Option<String>,
    /// From this time on (Unix seconds, inclusive).
    since: Option<i64>,
    /// Before this time (Unix seconds, exclusive).
    until: Option<i64>,
    /// Entries older than this seq (the next page).
    before_seq: Option<i64>,
    /// At most this many (capped at 500).
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    object_type: Option<String>,
    object_id: Option<String>,
    unit_id: Option<String>,
    ip: Option<String>,
    detail: serde_json::Value,
    hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditEntryView>,
    /// Pass as `before_seq` for the next page; absent on the last one.
    next_before_seq: Option<i64>,
}

/// Queries the audit log: all of it for super administrators; for a unit administrator, the
/// entries tagged with a unit of their subtrees.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = AuditPage)))]
pub async fn query(
    State(p): State<Provider>,
    Admin(c): Admin,
    QueryOf(q): QueryOf<AuditQuery>,
) -> ApiResult<AuditPage> {
    let query = ops::AuditQuery {
        actor: q.actor,
        officer: q.officer,
        unit: q.unit,
        action: q.action,
        since: q.since,
        until: q.until,
        before_seq: q.before_seq,
        limit: q.limit.unwrap_or(100),
    };
    let found = ops::query(&p, &c, query).await?;
    let items = found
        .items
        .into_iter()
        .map(|e| AuditEntryView {
            detail: e.detail_json(),
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            unit_id: e.unit_id,
            ip: e.ip,
            hash: e.hash,
        })
        .collect();
    Ok(Json(AuditPage { items, next_before_seq: found.next_before_seq }))
}
