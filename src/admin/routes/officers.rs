//! Officers inside the caller's subtrees: search, read, create, edit, move, status, reset
//! links, roles per relying party; admin grants for super administrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Admin, ApiError, ApiResult, Body, PathOf, QueryOf};
use crate::admin::ops::officers::{self as ops, OfficerFilter};
use crate::admin::store::OfficerPatch;
use crate::officers::setup::SetupPurpose;
use crate::officers::{NewOfficer, Officer, OfficerStatus};
use crate::oidc::Provider;

const ID: &str = "Officer id";

#[derive(Serialize, ToSchema)]
pub struct OfficerView {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub personal_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_id: String,
    pub position: Option<String>,
    #[schema(inline)]
    pub status: OfficerStatus,
    pub has_password: bool,
    pub updated_at: i64,
}

impl From<Officer> for OfficerView {
    fn from(o: Officer) -> Self {
        OfficerView {
            id: o.id,
            username: o.username,
            full_name: o.full_name,
            personal_id: o.personal_id,
            email: o.email,
            phone: o.phone,
            unit_id: o.unit_id,
            position: o.position,
            status: o.status,
            has_password: o.has_password,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficerQuery {
    /// The unit whose subtree is searched (id); default: the caller's only unit, or the province.
    unit: Option<String>,
    #[param(inline)]
    status: Option<OfficerStatus>,
    username_prefix: Option<String>,
    /// The last username of the previous page.
    after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OfficerPage {
    items: Vec<OfficerView>,
    /// Pass as `after` for the next page; absent on the last one.
    next_after: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerInput {
    username: String,
    full_name: String,
    personal_id: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    unit_code: String,
    position: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    officer: OfficerView,
    /// The one-time set-up link's path (relative to the issuer): the officer chooses a password there.
    setup_path: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    unit_code: String,
    position: Option<String>,
}

/// The new status. Suspending or disabling ends the officer's sessions.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    // No doc comment here: on an inlined enum it would turn the property into an `allOf`.
    #[schema(inline)]
    status: OfficerStatus,
}

#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    /// The one-time link's path (relative to the issuer); older links stop working.
    path: String,
    expires_in: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    roles: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    /// The unit whose subtree the officer will administer (unit_admin).
    unit_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct GrantView {
    /// unit_admin or super_admin.
    role: String,
    unit_id: String,
    unit_code: String,
}

/// Officers of a unit subtree, by username, a page at a time.
#[utoipa::path(get, path = "/officers", tag = "officers", params(OfficerQuery),
    responses((status = 200, body = OfficerPage)))]
pub async fn list(
    State(p): State<Provider>,
    Admin(c): Admin,
    QueryOf(q): QueryOf<OfficerQuery>,
) -> ApiResult<OfficerPage> {
    let filter = OfficerFilter {
        unit: q.unit,
        status: q.status,
        username_prefix: q.username_prefix,
        after: q.after,
        limit: q.limit.unwrap_or(50),
    };
    let found = ops::search(&p, &c, &filter).await?;
    Ok(Json(OfficerPage { items: found.items.into_iter().map(Into::into).collect(), next_after: found.next_after }))
}

#[utoipa::path(get, path = "/officers/{id}", tag = "officers", params(("id" = String, Path, description = ID)),
    responses((status = 200, body = OfficerView)))]
pub async fn get(State(p): State<Provider>, Admin(c): Admin, PathOf(id): PathOf<String>) -> ApiResult<OfficerView> {
    Ok(Json(c.officer_in_scope(&p, &id).await?.into()))
}

/// Creates an officer in a unit of the caller's subtrees, with a one-time set-up link.
#[utoipa::path(post, path = "/officers", tag = "officers", request_body = OfficerInput,
    responses((status = 201, body = Created)))]
pub async fn create(
    State(p): State<Provider>,
    Admin(c): Admin,
    Body(o): Body<OfficerInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let new = NewOfficer {
        username: o.username,
        full_name: o.full_name,
        personal_id: o.personal_id,
        email: o.email,
        phone: o.phone,
        unit_code: o.unit_code,
        position: o.position,
    };
    let (officer, setup_path) = ops::create(&p, &c, &new).await?;
    Ok((StatusCode::CREATED, Json(Created { officer: officer.into(), setup_path })))
}

/// Edits the profile; absent fields are kept, an empty string clears an optional one.
#[utoipa::path(patch, path = "/officers/{id}", tag = "officers", params(("id" = String, Path, description = ID)),
    request_body = OfficerPatch, responses((status = 200, body = OfficerView)))]
pub async fn update(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(patch): Body<OfficerPatch>,
) -> ApiResult<OfficerView> {
    Ok(Json(ops::update(&p, &c, &id, &patch).await?.into()))
}

/// Moves an officer: both the current and the new unit must be in the caller's subtrees.
#[utoipa::path(post, path = "/officers/{id}/move", tag = "officers", params(("id" = String, Path, description = ID)),
    request_body = MoveInput, responses((status = 200, body = OfficerView)))]
pub async fn move_to(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(m): Body<MoveInput>,
) -> ApiResult<OfficerView> {
    Ok(Json(ops::move_to(&p, &c, &id, &m.unit_code, m.position.as_deref()).await?.into()))
}

/// Activates, suspends or disables an officer. Suspending or disabling ends every session.
#[utoipa::path(put, path = "/officers/{id}/status", tag = "officers", params(("id" = String, Path, description = ID)),
    request_body = StatusInput, responses((status = 200, body = OfficerView)))]
pub async fn set_status(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(s): Body<StatusInput>,
) -> ApiResult<OfficerView> {
    Ok(Json(ops::set_status(&p, &c, &id, s.status).await?.into()))
}

/// Issues a one-time password reset link (older links stop working).
#[utoipa::path(post, path = "/officers/{id}/reset-link", tag = "officers", params(("id" = String, Path, description = ID)),
    responses((status = 201, body = ResetLink)))]
pub async fn reset_link(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> Result<(StatusCode, Json<ResetLink>), ApiError> {
    let path = ops::reset_link(&p, &c, &id).await?;
    Ok((StatusCode::CREATED, Json(ResetLink { path, expires_in: SetupPurpose::Reset.ttl_secs() })))
}

#[utoipa::path(get, path = "/officers/{id}/roles/{client_id}", tag = "officers",
    params(("id" = String, Path, description = ID), ("client_id" = String, Path, description = "Relying party")),
    responses((status = 200, body = Roles)))]
pub async fn get_roles(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf((id, client_id)): PathOf<(String, String)>,
) -> ApiResult<Roles> {
    Ok(Json(Roles { roles: ops::roles(&p, &c, &id, &client_id).await? }))
}

/// Replaces the officer's roles at one relying party.
#[utoipa::path(put, path = "/officers/{id}/roles/{client_id}", tag = "officers",
    params(("id" = String, Path, description = ID), ("client_id" = String, Path, description = "Relying party")),
    request_body = Roles, responses((status = 200, body = Roles)))]
pub async fn set_roles(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf((id, client_id)): PathOf<(String, String)>,
    Body(r): Body<Roles>,
) -> ApiResult<Roles> {
    Ok(Json(Roles { roles: ops::set_roles(&p, &c, &id, &client_id, &r.roles).await? }))
}

/// The officer's admin grants (super administrators).
#[utoipa::path(get, path = "/officers/{id}/admin-grants", tag = "admin grants",
    params(("id" = String, Path, description = ID)), responses((status = 200, body = Vec<GrantView>)))]
pub async fn list_grants(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> ApiResult<Vec<GrantView>> {
    let grants = ops::grants(&p, &c, &id).await?;
    Ok(Json(
        grants
            .into_iter()
            .map(|(role, u)| GrantView { role: role.as_str().to_owned(), unit_id: u.id, unit_code: u.code })
            .collect(),
    ))
}

/// Makes the officer a unit administrator of a unit's subtree (super administrators).
#[utoipa::path(post, path = "/officers/{id}/admin-grants", tag = "admin grants",
    params(("id" = String, Path, description = ID)), request_body = GrantInput,
    responses((status = 204, description = "Granted (or already held)")))]
pub async fn grant(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(g): Body<GrantInput>,
) -> Result<StatusCode, ApiError> {
    ops::grant(&p, &c, &id, &g.unit_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws a unit administrator grant (super administrators).
#[utoipa::path(delete, path = "/officers/{id}/admin-grants/{unit_id}", tag = "admin grants",
    params(("id" = String, Path, description = ID), ("unit_id" = String, Path, description = "Unit id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_grant(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf((id, unit_id)): PathOf<(String, String)>,
) -> Result<StatusCode, ApiError> {
    ops::revoke_grant(&p, &c, &id, &unit_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
