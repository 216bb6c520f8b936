//! Relying-party clients (super administrators): the same build, validation and write path as
//! `xacthuc clients` ([`build_client`], [`save_client`](crate::oidc::clients::save_client)
//! through this instance's cache, [`remove_client`](crate::oidc::clients::remove_client)).

use serde_json::json;

use super::record;
use crate::admin::authz::Caller;
use crate::admin::error::AdminError;
use crate::admin::restriction;
use crate::audit::Action;
use crate::clock::unix_now;
use crate::officers::{DirectoryError, Unit};
use crate::oidc::Provider;
use crate::oidc::client_spec::{ClientSpec, build_client, new_secret};
use crate::oidc::clients::{Client, RegistrationError};

impl From<RegistrationError> for AdminError {
    fn from(e: RegistrationError) -> Self {
        match e {
            RegistrationError::Invalid { problem, .. } => AdminError::invalid("client", problem),
            RegistrationError::Db(db) => db.into(),
        }
    }
}

pub async fn list(p: &Provider, c: &Caller) -> Result<Vec<Client>, AdminError> {
    c.require_super()?;
    Ok(p.db.list_clients().await?)
}

pub async fn get(p: &Provider, c: &Caller, id: &str) -> Result<Client, AdminError> {
    c.require_super()?;
    Ok(p.db.client(id).await?.ok_or(DirectoryError::NotFound("client"))?)
}

/// Registers a client; returns it with its secret (shown once), if it has one. Unlike
/// `xacthuc clients add`, this never silently replaces a registration.
pub async fn create(p: &Provider, c: &Caller, spec: &ClientSpec) -> Result<(Client, Option<String>), AdminError> {
    c.require_super()?;
    let (client, secret) = build_client(spec).map_err(|m| AdminError::invalid("client", m))?;
    if p.db.client(&client.client_id).await?.is_some() {
        return Err(DirectoryError::Conflict { field: "client_id" }.into());
    }
    p.clients.save(&client, unix_now()).await?;
    record(p, c, Action::AdminClientCreated, ("client", &client.client_id), None, json!({})).await?;
    Ok((client, secret))
}

/// A new secret (shown once); the old one stops working at once.
pub async fn rotate_secret(p: &Provider, c: &Caller, id: &str) -> Result<String, AdminError> {
    let mut client = get(p, c, id).await?;
    let secret = new_secret(&mut client)
        .ok_or_else(|| AdminError::invalid("client", "this client authenticates without a secret"))?;
    p.clients.save(&client, unix_now()).await?;
    record(p, c, Action::AdminClientSecretRotated, ("client", id), None, json!({})).await?;
    Ok(secret)
}

/// Replaces the redirect URIs (and, if given, the post-logout ones), validated like any
/// registration.
pub async fn set_redirect_uris(
    p: &Provider,
    c: &Caller,
    id: &str,
    redirect_uris: Vec<String>,
    post_logout: Option<Vec<String>>,
) -> Result<Client, AdminError> {
    let mut client = get(p, c, id).await?;
    client.redirect_uris = redirect_uris;
    if let Some(post) = post_logout {
        client.post_logout_redirect_uris = post;
    }
    p.clients.save(&client, unix_now()).await?;
    let detail = json!({ "redirect_uris": client.redirect_uris });
    record(p, c, Action::AdminClientRedirectUris, ("client", id), None, detail).await?;
    Ok(client)
}

/// Disables or re-enables a client. A client cannot disable itself: it would lock itself out
/// mid-run.
pub async fn set_disabled(p: &Provider, c: &Caller, id: &str, disabled: bool) -> Result<Client, AdminError> {
    if disabled && is_self(c, id) {
        return Err(AdminError::Forbidden("a client cannot disable itself"));
    }
    let mut client = get(p, c, id).await?;
    client.disabled = disabled;
    p.clients.save(&client, unix_now()).await?;
    record(p, c, Action::AdminClientEnablement, ("client", id), None, json!({ "disabled": disabled })).await?;
    Ok(client)
}

/// Removes a registration (another super administrator may remove an automation client; it
/// cannot remove itself).
pub async fn remove(p: &Provider, c: &Caller, id: &str) -> Result<(), AdminError> {
    c.require_super()?;
    if is_self(c, id) {
        return Err(AdminError::Forbidden("a client cannot remove its own registration"));
    }
    if !p.clients.remove(id).await? {
        return Err(DirectoryError::NotFound("client").into());
    }
    record(p, c, Action::AdminClientRemoved, ("client", id), None, json!({})).await
}

/// The unit subtree a client is restricted to (super administrators).
pub async fn unit(p: &Provider, c: &Caller, id: &str) -> Result<Option<Unit>, AdminError> {
    get(p, c, id).await?;
    Ok(p.db.client_unit(id).await?)
}

/// Restricts a client to a unit's subtree (`Some(code)`) or lifts the restriction; it applies to
/// its next call. A client cannot change its own restriction.
pub async fn set_unit(p: &Provider, c: &Caller, id: &str, unit_code: Option<&str>) -> Result<Option<Unit>, AdminError> {
    c.require_super()?;
    if is_self(c, id) {
        return Err(AdminError::Forbidden("a client cannot change its own restriction"));
    }
    let unit = restriction::resolve(&p.db, id, unit_code).await?;
    p.db.set_client_unit(id, unit.as_ref().map(|u| u.id.as_str())).await?;
    let detail = json!({ "unit": unit.as_ref().map(|u| u.id.clone()) });
    record(p, c, Action::AdminClientUnit, ("client", id), unit.as_ref().map(|u| u.id.as_str()), detail).await?;
    Ok(unit)
}

fn is_self(c: &Caller, id: &str) -> bool {
    matches!(c, Caller::Automation { client_id, .. } if client_id == id)
}
