//! Units as SCIM Groups: a unit's name is the Group's `displayName`, its officers (those posted
//! directly to it) are its `members`, and its code, kind and parent travel in the unit
//! extension ([`UNIT_SCHEMA`]). An officer belongs to exactly one unit, so adding a member moves
//! the officer here, and removing a member moves the officer up to the parent unit.

use serde_json::{Value, json};

use super::error::{ScimError, ScimResult};
use super::filter::get_ci;
use super::users::boolean;
use super::{BASE, GROUP_SCHEMA, UNIT_SCHEMA, etag};
use crate::crypto::sha256_hex;
use crate::officers::{Unit, UnitKind};

/// An officer as a Group member (by id: the published member has no `display`, so a member a
/// client adds reads back exactly as it was sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: String,
}

/// The unit's version: its fields and its members.
pub fn version(u: &Unit, parent_code: Option<&str>, members: &[Member]) -> String {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let all = json!([u.id, u.code, u.name, u.kind.as_str(), parent_code, u.valid_to, ids]);
    sha256_hex(&all.to_string())[..20].to_owned()
}

/// The Group for a unit. `members` is `None` when they were not loaded (a filter pass).
pub fn to_json(
    u: &Unit,
    parent_code: Option<&str>,
    members: Option<&[Member]>,
    external_id: Option<&str>,
    issuer: &str,
) -> Value {
    let mut ext = json!({ "code": u.code, "kind": u.kind.as_str() });
    if let Some(code) = parent_code {
        ext["parentCode"] = code.into();
    }
    let mut v = json!({
        "schemas": [GROUP_SCHEMA, UNIT_SCHEMA],
        "id": u.id,
        "displayName": u.name,
        UNIT_SCHEMA: ext,
        "meta": { "resourceType": "Group", "location": format!("{issuer}{BASE}/Groups/{}", u.id) },
    });
    if let Some(x) = external_id {
        v["externalId"] = x.into();
    }
    if let Some(members) = members {
        v["members"] = members
            .iter()
            .map(|m| json!({ "value": m.id, "type": "User", "$ref": format!("{issuer}{BASE}/Users/{}", m.id) }))
            .collect();
        v["meta"]["version"] = etag(&version(u, parent_code, members)).into();
    }
    v
}

/// What a client sends as a whole Group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInput {
    pub display_name: String,
    pub code: Option<String>,
    pub kind: Option<UnitKind>,
    pub parent_code: Option<String>,
    /// Officer ids; `None` when the body has no `members` (left as they are).
    pub members: Option<Vec<String>>,
    pub external_id: Option<String>,
}

fn text(v: Option<&Value>, name: &str) -> ScimResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(ScimError::bad("invalidValue", format!("{name} is a string"))),
    }
}

impl GroupInput {
    pub fn parse(v: &Value) -> ScimResult<GroupInput> {
        if !v.is_object() {
            return Err(ScimError::bad("invalidSyntax", "a Group is a JSON object"));
        }
        let display_name = text(get_ci(v, "displayName"), "displayName")?
            .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required"))?;
        let ext = get_ci(v, UNIT_SCHEMA);
        let field = |k: &str| ext.and_then(|e| get_ci(e, k));
        let kind = match text(field("kind"), "kind")? {
            Some(k) => Some(UnitKind::parse(&k.to_ascii_lowercase()).ok_or_else(|| {
                ScimError::bad("invalidValue", "kind is province, department, agency, commune, ward or special_zone")
            })?),
            None => None,
        };
        let members = match get_ci(v, "members") {
            None => None,
            Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|m| {
                        // A member `type` other than User (a nested Group) is not a thing here.
                        if get_ci(m, "type").and_then(Value::as_str).is_some_and(|t| !t.eq_ignore_ascii_case("User")) {
                            return Err(ScimError::bad("invalidValue", "members are Users (officers)"));
                        }
                        text(get_ci(m, "value"), "members.value")?
                            .ok_or_else(|| ScimError::bad("invalidValue", "members.value is required"))
                    })
                    .collect::<ScimResult<Vec<_>>>()?,
            ),
            Some(_) => return Err(ScimError::bad("invalidValue", "members is a list")),
        };
        // `active` has no meaning for a unit; refuse it rather than ignore a client's intent.
        if boolean(get_ci(v, "active"))?.is_some() {
            return Err(ScimError::bad("invalidValue", "Groups have no active attribute"));
        }
        Ok(GroupInput {
            display_name,
            code: text(field("code"), "code")?,
            kind,
            parent_code: text(field("parentCode"), "parentCode")?,
            members,
            external_id: super::users::external_id(v)?,
        })
    }
}
