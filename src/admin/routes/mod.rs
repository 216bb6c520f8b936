//! The admin API's HTTP face: JSON in and out under `/admin/api`, every error a JSON
//! `{code, message}` (never a framework rejection in plain text), every call identified and
//! checked by [`crate::admin::authz`] before it reads or changes anything.

mod audit;
mod bulk;
mod clients;
mod officers;
mod sessions;
mod units;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::{Json, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::authz;
use super::authz::Caller;
use super::error::AdminError;
use crate::officers::DirectoryError;
use crate::oidc::Provider;
use crate::oidc::resource::bearer;
pub use crate::web::error::ApiError;

/// Where the API lives.
pub const BASE: &str = "/admin/api";

pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// A JSON body whose rejections (bad syntax, wrong types, wrong content type) are `invalid`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

/// Path parameters, with rejections as `invalid`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathOf<T>(pub T);

/// Query parameters, with rejections as `invalid`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryOf<T>(pub T);

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        invalid(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        invalid(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        invalid(r.body_text())
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        let (code, message) = (e.code(), e.to_string());
        let status = match e {
            DirectoryError::NotFound(_) => StatusCode::NOT_FOUND,
            DirectoryError::Conflict { .. } | DirectoryError::InUse(_) => StatusCode::CONFLICT,
            DirectoryError::Invalid { .. } => StatusCode::BAD_REQUEST,
            // The web layer's mapping: 503 when the database is down, a logged 500 otherwise.
            DirectoryError::Db(db) => return db.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Unauthenticated(m) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m),
            AdminError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            AdminError::Directory(d) => d.into(),
            AdminError::Kv(kv) => kv.into(),
        }
    }
}

/// The authenticated administrator making the request.
pub struct Admin(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    Provider: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p = Provider::from_ref(state);
        let token = bearer(&parts.headers, None);
        let caller = authz::caller(&p, token.as_deref()).await?;
        Ok(Admin(caller))
    }
}

/// Every route of the API with its OpenAPI description, and the document itself. `extra`:
/// routes other features add under [`BASE`] (with their own state), in the same document.
pub fn router(p: Provider, extra: OpenApiRouter) -> Router {
    let routes = OpenApiRouter::new()
        .routes(routes!(units::list, units::create))
        .routes(routes!(units::get, units::rename, units::dissolve))
        .routes(routes!(units::merge))
        .routes(routes!(officers::list, officers::create))
        .routes(routes!(officers::get, officers::update))
        .routes(routes!(officers::move_to))
        .routes(routes!(officers::set_status))
        .routes(routes!(officers::reset_link))
        .routes(routes!(officers::get_roles, officers::set_roles))
        .routes(routes!(officers::list_grants, officers::grant))
        .routes(routes!(officers::revoke_grant))
        .routes(routes!(sessions::list, sessions::revoke_all))
        .routes(routes!(sessions::revoke))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::remove))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(clients::set_redirect_uris))
        .routes(routes!(clients::set_disabled))
        .routes(routes!(clients::get_unit, clients::set_unit))
        .routes(routes!(bulk::import))
        .routes(routes!(bulk::lock_status, bulk::unlock))
        .routes(routes!(audit::query));
    let (api_router, api) = OpenApiRouter::with_openapi(super::openapi::base())
        .nest(BASE, routes)
        .with_state(p)
        .merge(extra)
        .split_for_parts();
    let doc = super::openapi::finish(api);
    let doc = std::sync::Arc::new(doc);
    let serve_doc = axum::routing::get(move || {
        let doc = doc.clone();
        async move { Json(doc.as_ref().clone()) }
    });
    api_router.route(&format!("{BASE}/openapi.json"), serve_doc).method_not_allowed_fallback(method_not_allowed)
}

/// A known path with another method: JSON like every other error, not an empty 405.
async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed on this path")
}
