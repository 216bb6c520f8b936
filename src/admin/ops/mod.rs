//! Administrative operations, the same for the API and the console: each checks the caller
//! ([`Caller`]) against what it touches, makes the change, and writes the audit entry. No HTTP
//! here: `admin::routes` turns them into JSON, `admin::console` into pages.

pub mod audit;
pub mod clients;
pub mod officers;
pub mod units;

use serde_json::Value;

use super::authz::Caller;
use super::error::AdminError;
use crate::audit::{Action, Actor, Audit, Event};
use crate::oidc::Provider;

/// An administrative change into the audit log, after it was made. Entries about an officer
/// are tagged with the officer's unit by the log itself; `unit` tags any other object. If the
/// entry cannot be written the caller gets an error (the change stands; `Audit::record` logs
/// it loudly).
pub(crate) async fn record(
    p: &Provider,
    c: &Caller,
    action: Action,
    object: (&str, &str),
    unit: Option<&str>,
    detail: Value,
) -> Result<(), AdminError> {
    let actor = match c {
        Caller::Officer { id, .. } => Actor::Officer(id.clone()),
        Caller::Automation { client_id, .. } => Actor::Client(client_id.clone()),
    };
    let mut e = Event::new(action).actor(actor).object(object.0, object.1).detail(detail);
    if let Some(unit) = unit {
        e = e.unit(unit);
    }
    Audit::new(p.db.clone()).record(e).await?;
    Ok(())
}
