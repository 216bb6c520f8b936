//! The audit log: security-relevant events, append-only and hash-chained, so that
//! `xacthuc audit verify` can prove that no entry was altered or removed since it was written.
//!
//! Record an event:
//!
//! ```ignore
//! state.audit.record(
//!     Event::new(Action::AdminOfficerCreated)
//!         .actor(Actor::Officer(admin_id))
//!         .object("officer", &officer_id)
//!         .unit(&unit_id)
//!         .ip(peer_ip)
//!         .detail(json!({ "roles": roles })),
//! ).await?;
//! ```
//!
//! **When the audit log cannot be written.** [`Audit::record`] logs every failure loudly (an
//! error line and the `audit_write_failures_total` counter) and returns it; the caller decides:
//! - administrative actions fail with it: no change without its trace. To make the change and
//!   its entry one unit, write both in one transaction from [`Audit::begin`] with
//!   [`Audit::record_in`] (consents do);
//! - logins are recorded by [`LoginAudit`] off the request path: the login proceeds, and the
//!   failed write is logged and counted.
//!
//! `detail` is a small JSON object (at most [`MAX_DETAIL_BYTES`]); never put secrets in it.

mod chain;
mod observer;
mod store;

use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

pub use chain::{Defect, GENESIS, entry_hash};
pub use observer::LoginAudit;
pub use store::MAX_PAGE;

use crate::store::{Db, DbError};

/// Declares the closed set of actions: the enum, its stable dotted names, and the list of all.
/// To add one, add a line.
macro_rules! actions {
    ($($variant:ident => $name:literal,)+) => {
        /// What happened. The dotted names are stable: queries match on their prefixes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)+
                }
            }
        }
    };
}

actions! {
    LoginSucceeded => "login.succeeded",
    LoginFailed => "login.failed",
    LoginLocked => "login.locked",
    MfaEnrolled => "mfa.enrolled",
    MfaRemoved => "mfa.removed",
    MfaRecoveryCodesRenewed => "mfa.recovery.renewed",
    OfficerPasswordSet => "officer.password.set",
    AdminOfficerCreated => "admin.officer.created",
    AdminOfficerUpdated => "admin.officer.updated",
    AdminOfficerDisabled => "admin.officer.disabled",
    AdminUnitCreated => "admin.unit.created",
    AdminUnitMerged => "admin.unit.merged",
    AdminUnitRenamed => "admin.unit.renamed",
    AdminUnitRestructured => "admin.unit.restructured",
    AdminUnitDissolved => "admin.unit.dissolved",
    AdminOfficerMoved => "admin.officer.moved",
    AdminOfficerStatus => "admin.officer.status",
    AdminOfficerReset => "admin.officer.reset",
    AdminOfficerUnlocked => "admin.officer.unlocked",
    AdminOfficerRoles => "admin.officer.roles",
    AdminGrantAdded => "admin.grant.added",
    AdminGrantRevoked => "admin.grant.revoked",
    AdminClientCreated => "admin.client.created",
    AdminClientSecretRotated => "admin.client.secret",
    AdminClientRedirectUris => "admin.client.redirects",
    AdminClientEnablement => "admin.client.enablement",
    AdminClientRemoved => "admin.client.removed",
    AdminClientUnit => "admin.client.unit",
    AdminSessionRevoked => "admin.session.revoked",
    AdminOfficersImported => "admin.officers.imported",
    AdminOfficersExported => "admin.officers.exported",
    AdminOfficersMoved => "admin.officers.moved",
    AdminOfficersStatusChanged => "admin.officers.status",
    AdminOfficersResetIssued => "admin.officers.reset",
    CertRegistered => "cert.registered",
    CertRequested => "cert.requested",
    CertRenewed => "cert.renewed",
    CertRevoked => "cert.revoked",
    CertReissued => "cert.reissued",
    CertReissueJob => "cert.reissue.job",
    ConsentGranted => "consent.granted",
    ConsentWithdrawn => "consent.withdrawn",
    TokenRevoked => "token.revoked",
    PopulationVerified => "population.verified",
    PopulationRefused => "population.refused",
    SignatureVerified => "signature.verified",
    SignatureRefused => "signature.refused",
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did it, stored as `officer:<id>`, `client:<client_id>`, `account:<id>`, `system` or
/// `anonymous`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Officer(String),
    /// A relying party acting on its own behalf (revocation, client credentials).
    Client(String),
    /// A person who logged in (a citizen's account).
    Account(String),
    /// The provider itself (scheduled jobs, start-up).
    System,
    /// Nobody identified yet (a failed login).
    Anonymous,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Officer(id) => write!(f, "officer:{id}"),
            Actor::Client(id) => write!(f, "client:{id}"),
            Actor::Account(id) => write!(f, "account:{id}"),
            Actor::System => f.write_str("system"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// Largest `detail` stored; a larger one is replaced by a note saying so, so a careless caller
/// cannot bloat every verification.
pub const MAX_DETAIL_BYTES: usize = 4096;

/// An event to record; built with [`Event::new`] and the builder methods.
#[derive(Clone, Debug)]
pub struct Event {
    action: Action,
    actor: Actor,
    object: Option<(String, String)>,
    unit: Option<String>,
    ip: Option<IpAddr>,
    detail: Value,
}

impl Event {
    /// An event by `anonymous` with an empty detail, until said otherwise.
    pub fn new(action: Action) -> Self {
        Self {
            action,
            actor: Actor::Anonymous,
            object: None,
            unit: None,
            ip: None,
            detail: Value::Object(Default::default()),
        }
    }

    pub fn actor(mut self, actor: Actor) -> Self {
        self.actor = actor;
        self
    }

    /// What the action was done to, e.g. `("officer", id)`.
    pub fn object(mut self, object_type: &str, object_id: &str) -> Self {
        self.object = Some((object_type.to_owned(), object_id.to_owned()));
        self
    }

    /// The administrative unit the object belongs to, for unit-scoped queries.
    pub fn unit(mut self, unit_id: &str) -> Self {
        self.unit = Some(unit_id.to_owned());
        self
    }

    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// A small JSON object; anything else is stored under `{"value": …}`. Never secrets.
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = match detail {
            Value::Object(_) => detail,
            other => serde_json::json!({ "value": other }),
        };
        self
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// The detail as stored: compact JSON, bounded in size.
    fn detail_text(&self) -> String {
        let text = self.detail.to_string();
        if text.len() <= MAX_DETAIL_BYTES {
            return text;
        }
        tracing::warn!(action = self.action.as_str(), bytes = text.len(), "audit detail too large, omitted");
        serde_json::json!({ "omitted": format!("detail of {} bytes exceeded {MAX_DETAIL_BYTES}", text.len()) })
            .to_string()
    }
}

/// One stored entry, as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    /// An [`Action`] name (kept as text: entries outlive the code that wrote them).
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub unit_id: Option<String>,
    pub ip: Option<String>,
    /// The JSON text exactly as stored and hashed; serialized as JSON.
    #[serde(serialize_with = "detail_as_json")]
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The detail as a JSON value (`null` if the stored text is not JSON).
    pub fn detail_json(&self) -> Value {
        serde_json::from_str(&self.detail).unwrap_or(Value::Null)
    }
}

fn detail_as_json<S: serde::Serializer>(detail: &str, s: S) -> Result<S::Ok, S::Error> {
    serde_json::from_str::<Value>(detail).unwrap_or(Value::Null).serialize(s)
}

/// Which entries a query returns; every set criterion must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Exact actor, e.g. `officer:<id>` (see [`Actor`]'s display).
    pub actor: Option<String>,
    /// Entries about this object, e.g. `("officer", id)` (which also matches the officer's
    /// logins, recorded about the `account`).
    pub object: Option<(String, String)>,
    /// Entries of any of these units (a unit administrator passes the subtree). An empty list
    /// matches nothing; `None` does not filter.
    pub units: Option<Vec<String>>,
    /// Action name prefix, e.g. `login.` or `admin.officer.`.
    pub action_prefix: Option<String>,
    /// From this time on (Unix seconds, inclusive).
    pub since: Option<i64>,
    /// Before this time (Unix seconds, exclusive).
    pub until: Option<i64>,
}

/// Keyset pagination, newest first: the next page starts before the last `seq` seen.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub before_seq: Option<i64>,
    /// Capped at [`MAX_PAGE`].
    pub limit: u32,
}

impl Default for Page {
    fn default() -> Self {
        Self { before_seq: None, limit: 100 }
    }
}

/// The outcome of walking the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyReport {
    /// Every entry is intact and linked.
    Ok { entries: u64 },
    /// The first broken link: the entry at `seq` (or missing at `seq`) and why.
    Broken { seq: i64, reason: Defect },
}

/// The audit log handle: cheap to clone, holds the database.
#[derive(Clone)]
pub struct Audit {
    db: Db,
}

impl Audit {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Appends the event in a transaction of its own. A failure is logged and counted here,
    /// then returned (see the module's failure policy).
    pub async fn record(&self, e: Event) -> Result<(), DbError> {
        let action = e.action;
        let result = async {
            let mut tx = store::begin(&self.db).await?;
            store::append(&mut tx, self.db.dialect(), &e).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(err) = &result {
            write_failed(action, err);
        }
        result
    }

    /// A write transaction in which [`Audit::record_in`] may be called (on SQLite it takes the
    /// write lock up front, so it cannot fail to upgrade later).
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, DbError> {
        store::begin(&self.db).await
    }

    /// Appends the event inside the caller's transaction (from [`Audit::begin`]): it is kept
    /// only if the transaction commits. Call it last, just before committing: from here on,
    /// every other audit writer waits for this transaction.
    pub async fn record_in(&self, tx: &mut sqlx::AnyConnection, e: Event) -> Result<(), DbError> {
        let result = store::append(tx, self.db.dialect(), &e).await.map(|_| ());
        if let Err(err) = &result {
            write_failed(e.action, err);
        }
        result
    }

    /// Walks the whole chain in `seq` order, in batches (bounded memory).
    pub async fn verify(&self) -> Result<VerifyReport, DbError> {
        self.verify_with_progress(|_, _| {}).await
    }

    /// As [`Audit::verify`], calling `progress(checked, total)` after each batch.
    pub async fn verify_with_progress(&self, progress: impl FnMut(u64, u64)) -> Result<VerifyReport, DbError> {
        store::verify(&self.db, progress).await
    }

    /// Entries matching `filter`, newest first.
    pub async fn query(&self, filter: &AuditFilter, page: Page) -> Result<Vec<Entry>, DbError> {
        store::query(&self.db, filter, page).await
    }
}

fn write_failed(action: Action, err: &DbError) {
    metrics::counter!("audit_write_failures_total", "action" => action.as_str()).increment(1);
    tracing::error!(action = action.as_str(), error = %err, "AUDIT LOG WRITE FAILED: the event is not recorded");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_and_dotted() {
        let names: std::collections::HashSet<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), Action::ALL.len());
        assert!(names.iter().all(|n| n.contains('.') && n.chars().all(|c| c.is_ascii_lowercase() || c == '.')));
    }

    #[test]
    fn actors_display_as_stored() {
        assert_eq!(Actor::Officer("7".into()).to_string(), "officer:7");
        assert_eq!(Actor::Client("portal".into()).to_string(), "client:portal");
        assert_eq!(Actor::System.to_string(), "system");
    }

    #[test]
    fn detail_is_an_object_and_bounded() {
        let e = Event::new(Action::LoginFailed).detail(serde_json::json!("x"));
        assert_eq!(e.detail_text(), r#"{"value":"x"}"#);
        let big = Event::new(Action::LoginFailed).detail(serde_json::json!({ "k": "a".repeat(MAX_DETAIL_BYTES) }));
        assert!(big.detail_text().len() < MAX_DETAIL_BYTES && big.detail_text().contains("omitted"));
    }
}
