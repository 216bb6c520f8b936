//! Discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas, as the caller
//! sees them: the personal ID is in the officer extension only for callers allowed to see it,
//! and `unitCode` and `parentCode` list (as `canonicalValues`) the unit codes the caller may
//! assign.

use serde_json::{Value, json};

use super::error::ScimError;
use super::{BASE, GROUP_SCHEMA, LIST_SCHEMA, MAX_BULK_OPERATIONS, MAX_PAGE, OFFICER_SCHEMA, UNIT_SCHEMA, USER_SCHEMA};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// One attribute definition, built from the RFC 7643 §7 defaults.
struct A(Value);

impl A {
    fn new(name: &str, ty: &str, description: &str) -> A {
        A(json!({ "name": name, "type": ty, "multiValued": false, "description": description, "required": false,
            "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none" }))
    }
    fn set(mut self, k: &str, v: Value) -> A {
        self.0[k] = v;
        self
    }
    fn required(self) -> A {
        self.set("required", true.into())
    }
    fn read_only(self) -> A {
        self.set("mutability", "readOnly".into())
    }
    fn immutable(self) -> A {
        self.set("mutability", "immutable".into())
    }
    fn multi(self) -> A {
        self.set("multiValued", true.into())
    }
    fn exact(self) -> A {
        self.set("caseExact", true.into())
    }
    fn unique(self) -> A {
        self.set("uniqueness", "server".into())
    }
    fn sub(self, subs: Vec<A>) -> A {
        self.set("subAttributes", subs.into_iter().map(|a| a.0).collect())
    }
    fn canonical(self, values: &[&str]) -> A {
        self.set("canonicalValues", json!(values))
    }
    fn refs(self, types: &[&str]) -> A {
        self.set("referenceTypes", json!(types))
    }
}

fn schema(id: &str, name: &str, description: &str, attributes: Vec<A>, issuer: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA], "id": id, "name": name, "description": description,
        "attributes": attributes.into_iter().map(|a| a.0).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{issuer}{BASE}/Schemas/{id}") },
    })
}

fn typed_value(name: &str, description: &str) -> A {
    A::new(name, "complex", description)
        .multi()
        .sub(vec![A::new("value", "string", "The value"), A::new("type", "string", "Its kind").canonical(&["work"])])
}

/// Every schema, as this caller sees them. `unit_codes` are the codes the caller may assign
/// (`None` when there are too many to list).
pub fn schemas(issuer: &str, personal_id: bool, unit_codes: Option<&[String]>) -> Vec<Value> {
    let user = vec![
        A::new("userName", "string", "The officer code, used to log in; lower-case, never changes")
            .required()
            .immutable()
            .unique(),
        A::new("displayName", "string", "Full name (Vietnamese order: family, middle, given)").required(),
        A::new("name", "complex", "The full name, as displayName")
            .read_only()
            .sub(vec![A::new("formatted", "string", "Full name").read_only()]),
        A::new(
            "active",
            "boolean",
            "Every officer has a status: false is suspended (sessions ended); deleting disables",
        )
        .required(),
        typed_value("emails", "The work e-mail address (one)"),
        typed_value("phoneNumbers", "The work phone number (one, 8 to 15 digits)"),
        A::new("groups", "complex", "The officer's unit").multi().read_only().sub(vec![
            A::new("value", "string", "Unit id").read_only(),
            A::new("display", "string", "Unit name").read_only(),
            A::new("$ref", "reference", "The unit's Group").read_only().refs(&["Group"]),
        ]),
    ];
    let mut unit_code = A::new(
        "unitCode",
        "string",
        "The code of the officer's unit (every officer has one); changing it moves the officer",
    )
    .required()
    .exact();
    if let Some(codes) = unit_codes {
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        unit_code = unit_code.canonical(&codes);
    }
    let mut parent_code =
        A::new("parentCode", "string", "The parent unit's code (default on creation: the province, or the client's unit); changing it moves the unit with its subtree")
            .required()
            .exact();
    if let Some(codes) = unit_codes {
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        parent_code = parent_code.canonical(&codes);
    }
    let mut officer = vec![
        unit_code,
        A::new("position", "string", "Position (chức vụ) in the unit"),
        A::new("setupUrl", "reference", "One-time password set-up link, in the answer to a creation only")
            .read_only()
            .refs(&["external"]),
    ];
    if personal_id {
        officer.push(A::new("personalId", "string", "12-digit personal ID number (CCCD)").exact().unique());
    }
    let group = vec![
        A::new("displayName", "string", "The unit's name; changing it renames the unit (history kept)").required(),
        A::new("members", "complex", "Officers posted to the unit; adding one moves them here").multi().sub(vec![
            A::new("value", "string", "User id").immutable(),
            A::new("$ref", "reference", "The User").immutable().refs(&["User"]),
            A::new("type", "string", "Always User").immutable().canonical(&["User"]),
        ]),
    ];
    let kinds = ["province", "department", "agency", "commune", "ward", "special_zone"];
    let unit = vec![
        A::new(
            "code",
            "string",
            "The unit's administrative code (1 to 64 of A-Z a-z 0-9 . _ -); changing it recodes the unit",
        )
        .required()
        .exact()
        .unique(),
        A::new("kind", "string", "What the unit is; changing it reclassifies the unit").required().canonical(&kinds),
        parent_code,
    ];
    let ro = |n: &str, t: &str| A::new(n, t, n).read_only();
    vec![
        schema(USER_SCHEMA, "User", "An officer (cán bộ, công chức)", user, issuer),
        schema(OFFICER_SCHEMA, "Officer", "An officer's posting", officer, issuer),
        schema(GROUP_SCHEMA, "Group", "An administrative unit and the officers posted to it", group, issuer),
        schema(UNIT_SCHEMA, "Unit", "An administrative unit's code, kind and parent", unit, issuer),
        schema(
            SPC_SCHEMA,
            "ServiceProviderConfig",
            "What this service supports",
            vec![
                ro("documentationUri", "reference"),
                ro("patch", "complex"),
                ro("bulk", "complex"),
                ro("filter", "complex"),
                ro("changePassword", "complex"),
                ro("sort", "complex"),
                ro("etag", "complex"),
                ro("authenticationSchemes", "complex").multi(),
            ],
            issuer,
        ),
        schema(
            RESOURCE_TYPE_SCHEMA,
            "ResourceType",
            "A resource type",
            vec![
                ro("id", "string"),
                ro("name", "string"),
                ro("description", "string"),
                ro("endpoint", "reference"),
                ro("schema", "reference"),
                ro("schemaExtensions", "complex").multi(),
            ],
            issuer,
        ),
        schema(
            SCHEMA_SCHEMA,
            "Schema",
            "A schema",
            vec![
                ro("id", "string"),
                ro("name", "string"),
                ro("description", "string"),
                ro("attributes", "complex").multi(),
            ],
            issuer,
        ),
    ]
}

pub fn resource_types(issuer: &str) -> Vec<Value> {
    let rt = |name: &str, endpoint: &str, schema: &str, ext: &str, description: &str| {
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA], "id": name, "name": name, "description": description,
            "endpoint": endpoint, "schema": schema, "schemaExtensions": [{ "schema": ext, "required": true }],
            "meta": { "resourceType": "ResourceType", "location": format!("{issuer}{BASE}/ResourceTypes/{name}") },
        })
    };
    vec![
        rt("User", "/Users", USER_SCHEMA, OFFICER_SCHEMA, "Officers"),
        rt("Group", "/Groups", GROUP_SCHEMA, UNIT_SCHEMA, "Administrative units"),
    ]
}

pub fn service_provider_config(issuer: &str, max_payload: usize) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": format!("{issuer}{BASE}/ServiceProviderConfig"),
        "patch": { "supported": true },
        "bulk": { "supported": true, "maxOperations": MAX_BULK_OPERATIONS, "maxPayloadSize": max_payload },
        "filter": { "supported": true, "maxResults": MAX_PAGE },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
            "description": "An access token of this provider from client_credentials, with scim.read or scim.write",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{issuer}{BASE}/ServiceProviderConfig") },
    })
}

/// A discovery collection as a ListResponse.
pub fn listed(items: Vec<Value>) -> Value {
    json!({ "schemas": [LIST_SCHEMA], "totalResults": items.len(), "startIndex": 1, "itemsPerPage": items.len(), "Resources": items })
}

/// One item of a collection by id.
pub fn by_id(items: Vec<Value>, id: &str, what: &str) -> Result<Value, ScimError> {
    items.into_iter().find(|v| v["id"].as_str() == Some(id)).ok_or_else(|| ScimError::not_found(what))
}
