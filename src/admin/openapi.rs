//! The admin API's OpenAPI 3.1 document, generated from the handlers' annotations. What every
//! operation shares (bearer security, the JSON error responses) is added here once.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

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
        (name = "units"), (name = "officers"), (name = "admin grants"), (name = "sessions"), (name = "clients")
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
