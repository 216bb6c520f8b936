//! Officers as SCIM Users: the mapping both ways and the version behind their ETag. An officer's
//! unit, position and personal ID travel in the officer extension ([`OFFICER_SCHEMA`]); the
//! personal ID only to callers holding `scim.personal_id`.
//!
//! `active` is the officer's status: `true` active, `false` suspended (reversible). A DELETE
//! disables the officer (kept for history, every session ended); SCIM then treats them as
//! deleted (404), as RFC 7644 §3.6 requires of a resource kept after deletion.

use serde_json::{Value, json};

use super::error::{ScimError, ScimResult};
use super::filter::get_ci;
use super::{BASE, OFFICER_SCHEMA, USER_SCHEMA, etag, external_ids, timestamp};
use crate::crypto::sha256_hex;
use crate::officers::{Officer, OfficerStatus, Unit};

/// The officer's version: a digest of everything the User shows, so any change (even two in
/// one second) changes the ETag.
pub fn version(o: &Officer, unit: &Unit) -> String {
    let all = json!([
        o.id,
        o.username,
        o.full_name,
        o.personal_id,
        o.email,
        o.phone,
        unit.id,
        unit.code,
        unit.name,
        o.position,
        o.status.as_str(),
        o.updated_at
    ]);
    sha256_hex(&all.to_string())[..20].to_owned()
}

/// The User for an officer in `unit`, as `issuer` publishes it.
pub fn to_json(o: &Officer, unit: &Unit, external_id: Option<&str>, show_personal_id: bool, issuer: &str) -> Value {
    let mut ext = json!({ "unitCode": unit.code });
    if let Some(p) = &o.position {
        ext["position"] = p.clone().into();
    }
    if show_personal_id && let Some(id) = &o.personal_id {
        ext["personalId"] = id.clone().into();
    }
    let mut v = json!({
        "schemas": [USER_SCHEMA, OFFICER_SCHEMA],
        "id": o.id,
        "userName": o.username,
        "displayName": o.full_name,
        "name": { "formatted": o.full_name },
        "active": o.status == OfficerStatus::Active,
        "groups": [{ "value": unit.id, "display": unit.name, "$ref": format!("{issuer}{BASE}/Groups/{}", unit.id) }],
        OFFICER_SCHEMA: ext,
        "meta": {
            "resourceType": "User",
            "lastModified": timestamp(o.updated_at),
            "location": format!("{issuer}{BASE}/Users/{}", o.id),
            "version": etag(&version(o, unit)),
        },
    });
    if let Some(x) = external_id {
        v["externalId"] = x.into();
    }
    if let Some(e) = &o.email {
        v["emails"] = json!([{ "value": e, "type": "work" }]);
    }
    if let Some(p) = &o.phone {
        v["phoneNumbers"] = json!([{ "value": p, "type": "work" }]);
    }
    v
}

/// What a client sends as a whole User (POST, PUT, or a PATCH's result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInput {
    pub user_name: String,
    pub full_name: String,
    /// `None`: not given. A new officer is then active; a replaced one keeps their status, so a
    /// PUT that leaves `active` out never lifts a suspension.
    pub active: Option<bool>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_code: Option<String>,
    pub position: Option<String>,
    /// `None`: not given (kept as is); `Some(None)`: cleared.
    pub personal_id: Option<Option<String>>,
    pub external_id: Option<String>,
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidValue", detail)
}

fn string(v: Option<&Value>, name: &str) -> ScimResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(invalid(format!("{name} is a string"))),
    }
}

/// The primary (else the first) `value` of a multi-valued attribute.
fn primary_value(v: Option<&Value>, name: &str) -> ScimResult<Option<String>> {
    let items = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{name} is a list"))),
    };
    let chosen =
        items.iter().find(|i| get_ci(i, "primary").and_then(Value::as_bool) == Some(true)).or_else(|| items.first());
    match chosen {
        Some(i) => string(get_ci(i, "value"), &format!("{name}.value")),
        None => Ok(None),
    }
}

/// The client's `externalId`, at most [`external_ids::MAX_LEN`] bytes.
pub fn external_id(v: &Value) -> ScimResult<Option<String>> {
    let x = string(get_ci(v, "externalId"), "externalId")?;
    if x.as_ref().is_some_and(|x| x.len() > external_ids::MAX_LEN) {
        return Err(invalid(format!("externalId is at most {} bytes", external_ids::MAX_LEN)));
    }
    Ok(x)
}

/// `true`, `false`, or (as some clients send) "True" / "False".
pub fn boolean(v: Option<&Value>) -> ScimResult<Option<bool>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(invalid("active is a boolean")),
    }
}

impl UserInput {
    pub fn parse(v: &Value) -> ScimResult<UserInput> {
        if !v.is_object() {
            return Err(ScimError::bad("invalidSyntax", "a User is a JSON object"));
        }
        let user_name = string(get_ci(v, "userName"), "userName")?.ok_or_else(|| invalid("userName is required"))?;
        let name = get_ci(v, "name");
        let composed = || {
            // Vietnamese order: family, middle, given.
            let parts: Vec<&str> = ["familyName", "middleName", "givenName"]
                .iter()
                .filter_map(|k| name.and_then(|n| get_ci(n, k)).and_then(Value::as_str))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        let full_name = match string(get_ci(v, "displayName"), "displayName")? {
            Some(n) => n,
            None => match string(name.and_then(|n| get_ci(n, "formatted")), "name.formatted")? {
                Some(n) => n,
                None => composed().ok_or_else(|| invalid("displayName (or name) is required"))?,
            },
        };
        let ext = get_ci(v, OFFICER_SCHEMA);
        let ext_field = |k: &str| ext.and_then(|e| get_ci(e, k));
        let personal_id = match ext
            .and_then(|e| e.as_object())
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("personalId")))
        {
            Some((_, x)) => Some(string(Some(x), "personalId")?),
            None => None,
        };
        Ok(UserInput {
            user_name,
            full_name,
            active: boolean(get_ci(v, "active"))?,
            email: primary_value(get_ci(v, "emails"), "emails")?,
            phone: primary_value(get_ci(v, "phoneNumbers"), "phoneNumbers")?,
            unit_code: string(ext_field("unitCode"), "unitCode")?,
            position: string(ext_field("position"), "position")?,
            personal_id,
            external_id: external_id(v)?,
        })
    }
}
