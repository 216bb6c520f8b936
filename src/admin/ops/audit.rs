//! Reading the audit log. A super administrator reads all of it; a unit administrator reads
//! the entries tagged with a unit of their subtrees (entries about their officers, their units
//! and imports into them), never the province's own (clients, other units).

use crate::admin::authz::Caller;
use crate::admin::error::AdminError;
use crate::audit::{Audit, AuditFilter, Entry, MAX_PAGE, Page};
use crate::oidc::Provider;

/// What to read; every set criterion must match.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// Entries about this officer (its id).
    pub officer: Option<String>,
    /// Entries of this unit's subtree (a unit id).
    pub unit: Option<String>,
    /// Action name prefix.
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}

pub struct AuditList {
    pub items: Vec<Entry>,
    /// Pass as `before_seq` for the next page, when there may be one.
    pub next_before_seq: Option<i64>,
}

pub async fn query(p: &Provider, c: &Caller, q: AuditQuery) -> Result<AuditList, AdminError> {
    let roots = match &q.unit {
        Some(id) => Some(vec![c.unit_in_scope(p, id).await?]),
        None if c.is_super() => None,
        None => Some(c.default_roots(p).await?),
    };
    let units = match roots {
        Some(roots) => {
            let mut ids = Vec::new();
            for root in roots {
                ids.extend(p.db.subtree(&root, true).await?.into_iter().map(|u| u.id));
            }
            Some(ids)
        }
        None => None,
    };
    let filter = AuditFilter {
        actor: q.actor,
        object: q.officer.map(|id| ("officer".to_owned(), id)),
        units,
        action_prefix: q.action,
        since: q.since,
        until: q.until,
    };
    let page = Page { before_seq: q.before_seq, limit: q.limit };
    let items = Audit::new(p.db.clone()).query(&filter, page).await?;
    let limit = page.limit.min(MAX_PAGE) as usize;
    let next_before_seq = (items.len() == limit).then(|| items.last().map(|e| e.seq)).flatten();
    Ok(AuditList { items, next_before_seq })
}
