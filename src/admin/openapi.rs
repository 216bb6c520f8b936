//! The admin API's OpenAPI 3.1 document, generated from the handlers' annotations. What every
//! operation shares (bearer security, the JSON error responses) is added here once.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::officers::{OfficerStatus, UnitKind};

/// Every error of the API: a stable code and a human message.
#[derive(serde::Serialize, ToSchema)]
pub struct ErrorBody {
    /// invalid, unauthenticated, forbidden, not_found, conflict, temporarily_unavailable, internal_error.
    pub code: String,
    pub message: String,
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token of this provider carrying the `admin` scope: an administrator officer's \
                 login, or client_credentials of a client registered with the `admin` scope.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "xacthuc admin API",
        version = "1",
        description = "Units, officers, roles, admin grants, relying-party clients and sessions. \
            A unit administrator acts only inside the subtree of the units it administers; units, \
            clients and admin grants are for super administrators."
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    tags(
        (name = "units"), (name = "officers"), (name = "admin grants"), (name = "sessions"), (name = "clients"), (name = "certificates")
    )
)]
struct ApiDoc;

/// The document before the routes add their paths.
pub fn base() -> Document {
    ApiDoc::openapi()
}

/// The errors any operation may answer, besides its own success.
const ERRORS: [(&str, &str); 7] = [
    ("400", "Invalid input (`invalid`)"),
    ("401", "No or no live access token (`unauthenticated`)"),
    ("403", "Not allowed for this caller (`forbidden`)"),
    ("404", "No such object (`not_found`)"),
    ("409", "A unique value is taken (`conflict`)"),
    ("500", "Unexpected failure (`internal_error`), never expected"),
    ("503", "A backing store is down (`temporarily_unavailable`)"),
];

/// Adds the shared error responses to every operation.
pub fn finish(mut doc: Document) -> Document {
    for item in doc.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            for (status, description) in ERRORS {
                let content = Content::new(Some(Ref::from_schema_name("ErrorBody")));
                let response =
                    ResponseBuilder::new().description(description).content("application/json", content).build();
                op.responses.responses.entry(status.to_owned()).or_insert(RefOr::T(response));
            }
        }
    }
    doc
}

/// Unit kinds and officer statuses are the directory's own enums; the API documents them as
/// the strings serde reads and writes.
const UNIT_KINDS: [&str; 6] = ["province", "department", "agency", "commune", "ward", "special_zone"];
const OFFICER_STATUSES: [&str; 3] = ["active", "suspended", "disabled"];

fn string_enum(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).into()
}

impl PartialSchema for UnitKind {
    fn schema() -> RefOr<Schema> {
        string_enum(&UNIT_KINDS)
    }
}
impl ToSchema for UnitKind {}

impl PartialSchema for OfficerStatus {
    fn schema() -> RefOr<Schema> {
        string_enum(&OFFICER_STATUSES)
    }
}
impl ToSchema for OfficerStatus {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_enums_are_exactly_the_directory_ones() {
        for k in UNIT_KINDS {
            assert_eq!(UnitKind::parse(k).map(UnitKind::as_str), Some(k));
        }
        for s in OFFICER_STATUSES {
            assert_eq!(OfficerStatus::parse(s).map(OfficerStatus::as_str), Some(s));
        }
        // Exhaustive: a new variant breaks this match until it is documented above.
        for k in [UnitKind::Province] {
            match k {
                UnitKind::Province
                | UnitKind::Department
                | UnitKind::Agency
                | UnitKind::Commune
                | UnitKind::Ward
                | UnitKind::SpecialZone => {}
            }
        }
    }
}
