//! Outbound provisioning: the province's other systems (e-office, one-stop software) are told
//! when an officer is suspended, disabled, reactivated or moved, or a unit renamed or merged,
//! instead of each re-keying its own copy after a reform.
//!
//! A registered receiver gets each change in one of two ways:
//! - [`ReceiverKind::Set`]: a signed Security Event Token (RFC 8417) pushed to its endpoint
//!   (RFC 8935), ES256 with the provider's keys (so the receiver verifies it with our JWKS);
//! - [`ReceiverKind::Scim`]: the same change as SCIM 2.0 calls (RFC 7644) against the
//!   receiver's own `/Users` and `/Groups`, found by `userName` and by `externalId` (the unit
//!   code).
//!
//! Changes go to an outbox in the database when the administrative operation succeeds (after
//! its audit entry), one row per receiver. [`deliver::tick`] delivers each receiver's oldest
//! pending change first (so a suspension never overtakes an earlier move), retries with
//! exponential back-off, and records every outcome; being in the database, the outbox survives
//! a restart, and a lease keeps two instances from sending the same row at once. Receivers
//! must accept a change twice (each carries a stable `jti`), since a crash between sending and
//! recording cannot be ruled out.

pub mod cli;
pub mod deliver;
mod push;
mod store;

use serde::{Deserialize, Serialize};

use crate::store::Db;

pub use store::{Delivery, Receiver};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ReceiverKind {
    /// Security Event Tokens pushed to the endpoint (RFC 8417, RFC 8935).
    Set,
    /// SCIM 2.0 calls against the endpoint's `/Users` and `/Groups`.
    Scim,
}

impl ReceiverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Set => "set",
            ReceiverKind::Scim => "scim",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "set" => Some(ReceiverKind::Set),
            "scim" => Some(ReceiverKind::Scim),
            _ => None,
        }
    }
}

/// What changed, with what a receiver needs to find its own copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// Activated, suspended or disabled.
    OfficerStatus {
        officer_id: String,
        username: String,
        status: String,
    },
    OfficerMoved {
        officer_id: String,
        username: String,
        unit_code: String,
    },
    UnitRenamed {
        unit_id: String,
        code: String,
        name: String,
    },
    /// `from_codes` merged into `into_code`; `members` are the usernames now in it.
    UnitMerged {
        into_code: String,
        from_codes: Vec<String>,
        members: Vec<String>,
    },
}

impl Change {
    /// The SET event type (a URI of ours: these are provisioning events, not RFC 8935's
    /// risk events).
    pub fn event_type(&self) -> &'static str {
        match self {
            Change::OfficerStatus { .. } => "urn:xacthuc:event:officer-status",
            Change::OfficerMoved { .. } => "urn:xacthuc:event:officer-moved",
            Change::UnitRenamed { .. } => "urn:xacthuc:event:unit-renamed",
            Change::UnitMerged { .. } => "urn:xacthuc:event:unit-merged",
        }
    }
}

/// A receiver as an operator registers it. `token`, when given, is sent as a bearer
/// credential and stored sealed under the master key.
pub async fn register(
    db: &crate::store::Db,
    keys: &crate::tokens::KeyRing,
    id: &str,
    kind: ReceiverKind,
    endpoint: &str,
    audience: Option<&str>,
    token: Option<&str>,
) -> Result<Receiver, String> {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err("the receiver id must be 1 to 64 letters, digits, '-', '_' or '.'".into());
    }
    let url = url::Url::parse(endpoint).map_err(|e| format!("endpoint: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err("endpoint: an http(s) URL with a host is required".into());
    }
    let token_sealed = token.map(|t| push::seal_token(keys, id, t)).transpose()?;
    let r = Receiver {
        id: id.to_owned(),
        kind,
        endpoint: url.to_string(),
        audience: audience.unwrap_or(endpoint).to_owned(),
        token_sealed,
        created_at: crate::clock::unix_now(),
    };
    db.add_receiver(&r).await.map_err(|e| e.to_string())?;
    Ok(r)
}

/// Queues a change for every receiver. The change itself is already made and audited; a
/// failure to queue is logged and counted, never turned into a failed operation.
pub async fn changed(db: &Db, change: Change) {
    let now = crate::clock::unix_now();
    if let Err(e) = db.enqueue_change(&change, now).await {
        metrics::counter!("provisioning_enqueue_failures_total").increment(1);
        tracing::error!(error = %e, event = change.event_type(), "PROVISIONING NOT QUEUED: downstream systems will not hear of this change");
    }
}
