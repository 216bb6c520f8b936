//! Relying-party clients (super administrators), through `admin::ops::clients`: the same
//! build, validation and write path as `xacthuc clients`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Admin, ApiError, ApiResult, Body, PathOf};
use crate::admin::ops::clients as ops;
use crate::oidc::Provider;
use crate::oidc::client_spec::ClientSpec;
use crate::oidc::clients::Client;

const ID: &str = "client_id";

/// A registration as the API shows it: everything but the secret's hash.
#[derive(Serialize, ToSchema)]
pub struct ClientView {
    client_id: String,
    name: String,
    auth_method: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    backchannel_logout_uri: Option<String>,
    scopes: Vec<String>,
    grant_types: Vec<String>,
    jwks_uri: Option<String>,
    sector_identifier: Option<String>,
    /// pairwise or public.
    subject_type: String,
    trusted: bool,
    require_par: bool,
    default_acr: Option<String>,
    id_token_alg: String,
    has_secret: bool,
    /// A disabled client is refused by every protocol endpoint; its registration is kept.
    disabled: bool,
    /// Held to the FAPI 2.0 Security Profile (PAR, DPoP, private_key_jwt).
    fapi2: bool,
}

/// The wire name of a serde enum (auth method, grant type, subject type).
fn wire<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        ClientView {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            auth_method: wire(&c.auth_method),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            scopes: c.scopes.clone(),
            grant_types: c.grant_types.iter().map(wire).collect(),
            jwks_uri: c.jwks_uri.clone(),
            sector_identifier: c.sector_identifier.clone(),
            subject_type: wire(&c.subject_type),
            trusted: c.trusted,
            require_par: c.require_pushed_authorization_requests,
            default_acr: c.default_acr.clone(),
            id_token_alg: c.id_token_signed_response_alg.clone(),
            has_secret: c.secret_hash.is_some(),
            disabled: c.disabled,
            fapi2: c.fapi2,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    client: ClientView,
    /// Shown once; only its hash is stored. Absent for public and private_key_jwt clients.
    client_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NewSecret {
    /// Shown once; the previous secret stops working at once on this instance.
    client_secret: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enablement {
    disabled: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectUris {
    redirect_uris: Vec<String>,
    /// Kept as they are when absent.
    post_logout_redirect_uris: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/clients", tag = "clients", responses((status = 200, body = Vec<ClientView>)))]
pub async fn list(State(p): State<Provider>, Admin(c): Admin) -> ApiResult<Vec<ClientView>> {
    Ok(Json(ops::list(&p, &c).await?.iter().map(ClientView::from).collect()))
}

#[utoipa::path(get, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = ID)), responses((status = 200, body = ClientView)))]
pub async fn get(State(p): State<Provider>, Admin(c): Admin, PathOf(id): PathOf<String>) -> ApiResult<ClientView> {
    Ok(Json((&ops::get(&p, &c, &id).await?).into()))
}

/// Registers a new client; a confidential client's secret is returned once.
#[utoipa::path(post, path = "/clients", tag = "clients", request_body = ClientSpec,
    responses((status = 201, body = Registered)))]
pub async fn create(
    State(p): State<Provider>,
    Admin(c): Admin,
    Body(spec): Body<ClientSpec>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let (client, client_secret) = ops::create(&p, &c, &spec).await?;
    Ok((StatusCode::CREATED, Json(Registered { client: (&client).into(), client_secret })))
}

/// Issues a new secret for a confidential client; the old one stops working.
#[utoipa::path(post, path = "/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path, description = ID)), responses((status = 200, body = NewSecret)))]
pub async fn rotate_secret(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> ApiResult<NewSecret> {
    Ok(Json(NewSecret { client_secret: ops::rotate_secret(&p, &c, &id).await? }))
}

/// Replaces the client's redirect URIs (validated like a registration).
#[utoipa::path(put, path = "/clients/{client_id}/redirect-uris", tag = "clients",
    params(("client_id" = String, Path, description = ID)), request_body = RedirectUris,
    responses((status = 200, body = ClientView)))]
pub async fn set_redirect_uris(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(r): Body<RedirectUris>,
) -> ApiResult<ClientView> {
    let client = ops::set_redirect_uris(&p, &c, &id, r.redirect_uris, r.post_logout_redirect_uris).await?;
    Ok(Json((&client).into()))
}

/// Disables or enables the client. Disabled, it is refused by every protocol endpoint (here at
/// once, elsewhere within the client cache TTL), and its tokens' grants are not renewed.
#[utoipa::path(put, path = "/clients/{client_id}/disabled", tag = "clients",
    params(("client_id" = String, Path, description = ID)), request_body = Enablement,
    responses((status = 200, body = ClientView)))]
pub async fn set_disabled(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(e): Body<Enablement>,
) -> ApiResult<ClientView> {
    Ok(Json((&ops::set_disabled(&p, &c, &id, e.disabled).await?).into()))
}

/// Removes the client: its credentials stop working (here at once, elsewhere within the client
/// cache TTL); tokens it holds expire on their own schedule.
#[utoipa::path(delete, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = ID)), responses((status = 204, description = "Removed")))]
pub async fn remove(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> Result<StatusCode, ApiError> {
    ops::remove(&p, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitRestriction {
    /// The code of the unit whose subtree the client is restricted to; null lifts it.
    unit_code: Option<String>,
}

/// The unit subtree the client is restricted to (null: not restricted).
#[utoipa::path(get, path = "/clients/{client_id}/unit", tag = "clients",
    params(("client_id" = String, Path, description = ID)), responses((status = 200, body = UnitRestriction)))]
pub async fn get_unit(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> ApiResult<UnitRestriction> {
    Ok(Json(UnitRestriction { unit_code: ops::unit(&p, &c, &id).await?.map(|u| u.code) }))
}

/// Restricts an automation or SCIM client to a unit's subtree: it then sees and changes only
/// officers and units there, as that unit's administrator would. Null lifts the restriction.
#[utoipa::path(put, path = "/clients/{client_id}/unit", tag = "clients",
    params(("client_id" = String, Path, description = ID)), request_body = UnitRestriction,
    responses((status = 200, body = UnitRestriction)))]
pub async fn set_unit(
    State(p): State<Provider>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(r): Body<UnitRestriction>,
) -> ApiResult<UnitRestriction> {
    let unit = ops::set_unit(&p, &c, &id, r.unit_code.as_deref()).await?;
    Ok(Json(UnitRestriction { unit_code: unit.map(|u| u.code) }))
}
