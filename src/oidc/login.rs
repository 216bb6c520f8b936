//! The login-method contract. The provider owns the login transaction, the browser binding,
//! the choice page, abort and finishing a login; a method (an upstream identity provider, an
//! officer's password and second factor, a certificate) only establishes who the user is, at which level,
//! by which means, and reports it as an [`Authenticated`].
//!
//! Methods are registered in `app.rs`; their HTTP faces use the helpers in
//! `routes::login` (begin, resume, finish, fail).

use super::acr::{Class, Level, Requirement};
use crate::web::page::Text;

/// A registered login method.
#[derive(Clone, Debug)]
pub struct LoginMethod {
    /// Stable id: metrics, the button's HTML id (`login-<id>`), the transaction's state.
    pub id: &'static str,
    pub name: Text,
    /// A line under the button saying what will happen, if useful.
    pub hint: Option<Text>,
    /// The assurance levels it can produce.
    pub classes: &'static [Class],
    /// Where its button posts the transaction id (a path on this server).
    pub start: &'static str,
}

impl LoginMethod {
    pub fn can_meet(&self, r: &Requirement) -> bool {
        let levels: Vec<Level> = self.classes.iter().map(|c| c.level).collect();
        r.met_by_any(&levels)
    }
}

/// What a method established about the user.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub method: &'static str,
    pub account_id: String,
    /// The `acr` value actually reached (one of the method's classes).
    pub acr: &'static str,
    /// RFC 8176 values for what was really used; empty when the method cannot tell.
    pub amr: Vec<String>,
    /// When the user actually authenticated, if the method knows. Required whenever the
    /// request carries `max_age`: a method that cannot tell fails closed.
    pub auth_time: Option<i64>,
    /// The account of the person who acted for this one, when the account is not a person's
    /// (an organisation's legal representative). The audit log names them as the actor.
    pub actor: Option<String>,
    /// The `x5t#S256` thumbprint of the certificate the user proved possession of (a
    /// certificate login): it follows the session into ID tokens and userinfo, so a service
    /// knows which certificate the person signs with. `None` for every other method.
    pub cert_thumbprint: Option<String>,
}

/// Why a login ended without success; the relying party gets the matching OAuth error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Abort {
    /// The user cancelled, or could not be identified as required.
    AccessDenied,
    /// A system the method depends on is down; the service may retry later.
    TemporarilyUnavailable,
    /// Something unexpected.
    ServerError,
}

impl Abort {
    pub fn as_str(self) -> &'static str {
        match self {
            Abort::AccessDenied => "access_denied",
            Abort::TemporarilyUnavailable => "temporarily_unavailable",
            Abort::ServerError => "server_error",
        }
    }
}

/// Where a login attempt came from and for which service.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub client_id: &'a str,
    pub ip: Option<std::net::IpAddr>,
}

/// Something that wants to hear about every login's outcome (the audit log).
pub trait LoginObserver: Send + Sync {
    fn succeeded(&self, who: &Authenticated, attempt: Attempt<'_>);
    fn failed(&self, method: &str, attempt: Attempt<'_>, outcome: &str);
}

/// The registered methods, in the order they are offered.
#[derive(Clone, Default)]
pub struct Registry {
    methods: Vec<LoginMethod>,
    observers: Vec<std::sync::Arc<dyn LoginObserver>>,
}

impl Registry {
    pub fn register(&mut self, m: LoginMethod) {
        self.methods.push(m);
    }

    pub fn observe(&mut self, o: std::sync::Arc<dyn LoginObserver>) {
        self.observers.push(o);
    }

    pub fn all(&self) -> &[LoginMethod] {
        &self.methods
    }

    pub fn get(&self, id: &str) -> Option<&LoginMethod> {
        self.methods.iter().find(|m| m.id == id)
    }

    /// The methods that can meet what the request demands.
    pub fn offered<'a>(&'a self, r: &'a Requirement) -> impl Iterator<Item = &'a LoginMethod> + 'a {
        self.methods.iter().filter(move |m| m.can_meet(r))
    }

    pub fn succeeded(&self, who: &Authenticated, attempt: Attempt<'_>) {
        metrics::counter!("logins_total", "method" => who.method, "outcome" => "success").increment(1);
        for o in &self.observers {
            o.succeeded(who, attempt);
        }
    }

    pub fn failed(&self, method: &'static str, attempt: Attempt<'_>, outcome: &'static str) {
        metrics::counter!("logins_total", "method" => method, "outcome" => outcome).increment(1);
        for o in &self.observers {
            o.failed(method, attempt, outcome);
        }
    }
}
