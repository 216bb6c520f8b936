//! Every login's outcome into the audit log. Observers are called synchronously on the login's
//! path, so the write is spawned: a slow or failing audit log never holds a login up. A failed
//! write is logged and counted by `Audit::record` (`audit_write_failures_total`).

use serde_json::json;

use super::{Action, Actor, Audit, Event};
use crate::oidc::login::{Attempt, Authenticated, LoginObserver};

pub struct LoginAudit {
    audit: Audit,
}

impl LoginAudit {
    pub fn new(audit: Audit) -> Self {
        Self { audit }
    }

    fn spawn(&self, mut e: Event, attempt: Attempt<'_>) {
        if let Some(ip) = attempt.ip {
            e = e.ip(ip);
        }
        let action = e.action();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let audit = self.audit.clone();
                rt.spawn(async move {
                    // Already logged and counted by `record`; the login has moved on.
                    let _ = audit.record(e).await;
                });
            }
            Err(_) => super::write_failed(
                action,
                &crate::store::DbError::Unavailable("no async runtime to write the audit entry".into()),
            ),
        }
    }
}

impl LoginObserver for LoginAudit {
    fn succeeded(&self, who: &Authenticated, attempt: Attempt<'_>) {
        let mut detail = json!({
            "method": who.method,
            "client_id": attempt.client_id,
            "outcome": "success",
            "account_id": who.account_id,
            "acting_account_id": who.actor,
            "acr": who.acr,
            "amr": who.amr,
        });
        if let Some(t) = &who.cert_thumbprint {
            // Which certificate proved the login: the registry answers whose and which one.
            detail["cert_thumbprint"] = json!(t);
        }
        self.spawn(
            // A person acting for an organisation is the actor; the organisation is the object.
            Event::new(Action::LoginSucceeded)
                .actor(Actor::Account(who.actor.clone().unwrap_or_else(|| who.account_id.clone())))
                .object("account", &who.account_id)
                .detail(detail),
            attempt,
        );
    }

    fn failed(&self, method: &str, attempt: Attempt<'_>, outcome: &str) {
        self.spawn(
            Event::new(Action::LoginFailed).actor(Actor::Anonymous).detail(json!({
                "method": method,
                "client_id": attempt.client_id,
                "outcome": outcome,
            })),
            attempt,
        );
    }
}
