//! SCIM `externalId` (RFC 7643 §3.1): the identifier a provisioning client gives a resource in
//! its own system, kept per client (two clients provisioning the same officer each keep theirs).
//! It is SCIM's bookkeeping, not directory data, so it is stored here and not audited.

use std::collections::HashMap;

use sqlx::Row;

use crate::admin::authz::{Caller, ScimCaller};
use crate::store::{Db, DbError};

/// The client a SCIM caller is (SCIM callers are always automation clients).
pub fn client_of(sc: &ScimCaller) -> &str {
    match &sc.caller {
        Caller::Automation { client_id, .. } => client_id,
        Caller::Officer { id, .. } => id,
    }
}

/// At most this long, as the client's own identifiers are.
pub const MAX_LEN: usize = 256;

pub async fn get(db: &Db, client: &str, kind: &str, id: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query(
        "SELECT external_id FROM scim_external_ids WHERE client_id = $1 AND resource_type = $2 AND resource_id = $3",
    )
    .bind(client)
    .bind(kind)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

/// Every externalId the client gave resources of one type, by resource id.
pub async fn all(db: &Db, client: &str, kind: &str) -> Result<HashMap<String, String>, DbError> {
    let rows = sqlx::query(
        "SELECT resource_id, external_id FROM scim_external_ids WHERE client_id = $1 AND resource_type = $2",
    )
    .bind(client)
    .bind(kind)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, sqlx::Error>>().map_err(DbError::from)
}

/// Makes the caller's `externalId` of a resource `wanted`, writing only when it differs (a PUT or
/// PATCH that leaves it alone writes nothing).
pub async fn sync(db: &Db, sc: &ScimCaller, kind: &str, id: &str, wanted: Option<&str>) -> Result<(), DbError> {
    let client = client_of(sc);
    if get(db, client, kind, id).await?.as_deref() != wanted {
        set(db, client, kind, id, wanted).await?;
    }
    Ok(())
}

/// Sets (or with `None` clears) the client's externalId of a resource.
pub async fn set(db: &Db, client: &str, kind: &str, id: &str, external: Option<&str>) -> Result<(), DbError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM scim_external_ids WHERE client_id = $1 AND resource_type = $2 AND resource_id = $3")
        .bind(client)
        .bind(kind)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if let Some(e) = external {
        sqlx::query("INSERT INTO scim_external_ids (client_id, resource_type, resource_id, external_id) VALUES ($1, $2, $3, $4)")
            .bind(client)
            .bind(kind)
            .bind(id)
            .bind(e)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
