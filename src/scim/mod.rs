//! Inbound SCIM 2.0 (RFC 7643, RFC 7644) under `/scim/v2`: provincial systems provision
//! officers (Users) and units (Groups, their officers as members) the way they do with the
//! admin API, through the same operations ([`crate::admin::ops`]): the same rules, the same
//! authorization (`admin::authz::scim_caller`, with a client's unit-subtree restriction) and
//! the same audit entries. Nothing here writes to the directory on its own.
//!
//! - [`error`]: SCIM error bodies (RFC 7644 §3.12).
//! - [`filter`]: filters (parsed by the `scim_v2` crate, with its depth and term limits) into
//!   SQL for Users; [`matching`]: a match over JSON for Groups and PATCH value paths.
//! - [`patch`]: PATCH operations applied to a resource's JSON (then saved as a replacement).
//! - [`users`], [`groups`]: the mapping of officers and units, and their operations.
//! - [`discovery`]: ServiceProviderConfig, ResourceTypes and Schemas.
//! - [`bulk`]: `/Bulk`, within the limits ServiceProviderConfig advertises.
//! - `routes`: the only file that knows HTTP.

pub mod bulk;
pub mod discovery;
pub mod error;
pub mod external_ids;
pub mod filter;
pub mod group_ops;
pub mod groups;
pub mod list;
pub mod matching;
pub mod patch;
mod routes;
pub mod user_ops;
pub mod users;

pub use error::ScimError;
pub use routes::router;

/// Where SCIM lives.
pub const BASE: &str = "/scim/v2";

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// An officer's posting: unit, position and (to callers allowed to see it) personal ID.
pub const OFFICER_SCHEMA: &str = "urn:xacthuc:params:scim:schemas:extension:officer:2.0:User";
/// A unit's code, kind and parent.
pub const UNIT_SCHEMA: &str = "urn:xacthuc:params:scim:schemas:extension:unit:2.0:Group";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Bounded work per request: a page is at most this many resources...
pub const MAX_PAGE: usize = 200;
/// ...a filter at most this long (the parser also caps its depth and terms)...
pub const MAX_FILTER_LEN: usize = 2_000;
/// ...a bulk request at most this many operations (its bytes are capped by the body limit)...
pub const MAX_BULK_OPERATIONS: usize = 100;
/// ...and a PATCH at most this many operations.
pub const MAX_PATCH_OPERATIONS: usize = 100;
/// Unit codes listed as `canonicalValues` of `unitCode` in the caller's schema, at most.
pub const MAX_LISTED_UNITS: usize = 1_000;

/// A weak ETag: the resource's version (RFC 7644 §3.14).
pub fn etag(version: &str) -> String {
    format!("W/\"{version}\"")
}

/// Unix seconds as RFC 3339 (`meta.lastModified`).
pub fn timestamp(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `If-Match` (RFC 7644 §3.14): absent or `*` passes; otherwise one of its tags must be the
/// current version (weak and strong forms compare alike), else 412.
pub fn check_if_match(if_match: Option<&str>, version: &str) -> Result<(), ScimError> {
    let Some(header) = if_match.map(str::trim).filter(|h| !h.is_empty()) else { return Ok(()) };
    let matches =
        header.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == version);
    if matches { Ok(()) } else { Err(ScimError::new(412, None, "the resource changed since that version (If-Match)")) }
}
