//! Units: the subtree a caller administers (read), and for super administrators creation,
//! renames, merges and dissolutions (of empty units).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Admin, ApiResult, Body, PathOf, QueryOf};
use crate::admin::ops::units as ops;
use crate::officers::{NewUnit, Unit, UnitKind};
use crate::oidc::Provider;

#[derive(Serialize, ToSchema)]
pub struct UnitView {
    pub id: String,
    pub code: String,
    pub name: String,
    #[schema(inline)]
    pub kind: UnitKind,
    pub parent_id: Option<String>,
    pub valid_from: i64,
    /// Set when the unit was merged or dissolved.
    pub valid_to: Option<i64>,
    pub merged_into: Option<String>,
}

impl From<Unit> for UnitView {
    fn from(u: Unit) -> Self {
        UnitView {
            id: u.id,
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent_id: u.parent_id,
            valid_from: u.valid_from,
            valid_to: u.valid_to,
            merged_into: u.merged_into,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// The subtree's root (a unit id); default: every unit the caller administers.
    root: Option<String>,
    /// Include merged and dissolved units.
    #[serde(default)]
    with_closed: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    code: String,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(inline)]
    kind: UnitKind,
    /// The parent's code; none only for the province.
    parent_code: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameInput {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// Ids of the units merged into this one.
    #[schema(min_items = 1)]
    from: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MergeResult {
    /// How many officers moved.
    moved: u64,
}

/// Units in the caller's subtrees (or below `root`), ordered by path.
#[utoipa::path(get, path = "/units", tag = "units", params(UnitQuery),
    responses((status = 200, body = Vec<UnitView>)))]
pub async fn list(
    State(p): State<Provider>,
    Admin(c): Admin,
    QueryOf(q): QueryOf<UnitQuery>,
) -> ApiResult<Vec<UnitView>> {
    let units = ops::list(&p, &c, q.root.as_deref(), q.with_closed).await?;
    Ok(Json(units.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/units/{id}", tag = "units", params(("id" = String, Path, description = "Unit id")),
    responses((status = 200, body = UnitView)))]
pub async fn get(State(p): State<Provider>, Admin(c): Admin, PathOf(id): PathOf<String>) -> ApiResult<UnitView> {
    Ok(Json(c.unit_in_scope(&p, &id).await?.into()))
}

/// Creates a unit (super administrators).
#[utoipa::path(post, path = "/units", tag = "units", request_body = UnitInput,
    responses((status = 201, body = UnitView)))]
pub async fn create(
    State(p): State<Provider>,
    Admin(c): Admin,
    Body(u): Body<UnitInput>,
) -> Result<(StatusCode, Json<UnitView>), super::ApiError> {
    let new = NewUnit { code: u.code, name: u.name, kind: u.kind, parent_code: u.parent_code };
    Ok((StatusCode::CREATED, Json(ops::create(&p, &c, &new).await?.into())))
}

/// Renames a unit (super administrators); officers' claims follow at once.
#[utoipa::path(patch, path = "/units/{id}", tag = "units", params(("id" = String, Path, description = "Unit id")),
    request_body = RenameInput, responses((status = 200, body = UnitView)))]
pub async fn rename(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(r): Body<RenameInput>,
) -> ApiResult<UnitView> {
    Ok(Json(ops::rename(&p, &c, &id, &r.name).await?.into()))
}

/// Merges units into this one (super administrators): their officers and child units move.
#[utoipa::path(post, path = "/units/{id}/merge", tag = "units", params(("id" = String, Path, description = "Target unit id")),
    request_body = MergeInput, responses((status = 200, body = MergeResult)))]
pub async fn merge(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(m): Body<MergeInput>,
) -> ApiResult<MergeResult> {
    Ok(Json(MergeResult { moved: ops::merge(&p, &c, &id, &m.from).await? }))
}

/// Dissolves an empty unit (super administrators): no officers, no current units below it, no
/// unit merged into it (else 409). The unit closes, keeping its history; its code stays taken.
#[utoipa::path(delete, path = "/units/{id}", tag = "units", params(("id" = String, Path, description = "Unit id")),
    responses((status = 200, body = UnitView), (status = 409, description = "The unit is not empty")))]
pub async fn dissolve(State(p): State<Provider>, Admin(c): Admin, PathOf(id): PathOf<String>) -> ApiResult<UnitView> {
    Ok(Json(ops::dissolve(&p, &c, &id).await?.into()))
}
