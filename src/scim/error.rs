//! SCIM errors (RFC 7644 §3.12): `status`, an optional `scimType` and a `detail`, whatever went
//! wrong; a database failure is logged and answered without its detail.

use serde_json::{Value, json};

use crate::admin::error::AdminError;
use crate::officers::DirectoryError;
use crate::store::DbError;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    /// invalidFilter, invalidValue, invalidSyntax, invalidPath, noTarget, mutability,
    /// uniqueness, tooMany, invalidVers, sensitive.
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

pub type ScimResult<T> = Result<T, ScimError>;

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    /// A 400 with a scimType.
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, None, format!("{what} not found"))
    }

    pub fn json(&self) -> Value {
        let mut v = json!({ "schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            v["scimType"] = t.into();
        }
        v
    }
}

impl From<DirectoryError> for ScimError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound(what) => Self::not_found(what),
            DirectoryError::Conflict { field } => {
                Self::new(409, Some("uniqueness"), format!("{field} is already used"))
            }
            DirectoryError::Invalid { .. } => Self::bad("invalidValue", e.to_string()),
            DirectoryError::InUse(what) => Self::new(409, None, what),
            DirectoryError::Db(db) => db.into(),
        }
    }
}

impl From<DbError> for ScimError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable (SCIM)");
                Self::new(503, None, "the database is temporarily unavailable; retry shortly")
            }
            other => {
                tracing::error!(error = %other, "database error (SCIM)");
                Self::new(500, None, "internal error")
            }
        }
    }
}

impl From<AdminError> for ScimError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Unauthenticated(m) => Self::new(401, None, m),
            AdminError::Forbidden(m) => Self::new(403, None, m),
            AdminError::Directory(d) => d.into(),
            AdminError::Kv(kv) => {
                tracing::warn!(error = %kv, "session store error (SCIM)");
                Self::new(503, None, "the session store is temporarily unavailable; retry shortly")
            }
        }
    }
}
