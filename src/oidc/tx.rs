//! The login transaction: an authorization request kept in the session store while the user is
//! away authenticating, bound to the browser that started it, with typed state per method.
//!
//! Anonymous requests create transactions, so what they may store is bounded: one transaction's
//! size, and how many a browser and a network address may start within a transaction's
//! lifetime (an upper bound on how many can be open at once).

use std::net::IpAddr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::acr::Requirement;
use super::login::Attempt;
use super::provider::Provider;
use super::request::AuthRequest;
use crate::store::KvError;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginTx {
    pub id: String,
    pub request: AuthRequest,
    pub requirement: Requirement,
    /// When the login started: `prompt=login` wants an authentication after this.
    pub started_at: i64,
    /// SHA-256 of the browser cookie of the browser that started it (login CSRF binding).
    pub browser: String,
    /// The address the login came from, for the audit log.
    #[serde(default)]
    pub ip: Option<IpAddr>,
    /// The language the user chose on our pages, over the service's `ui_locales`.
    #[serde(default)]
    pub lang: Option<crate::web::page::Lang>,
    /// The state of the method the user chose.
    #[serde(default)]
    method: Option<MethodState>,
    /// Set once authenticated, while consent is pending.
    #[serde(default)]
    pub session: Option<SessionRef>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct MethodState {
    method: String,
    state: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionRef {
    pub account_id: String,
    pub sid: String,
}

/// Where a request comes from, for the limits.
#[derive(Clone, Debug)]
pub struct Origin {
    /// SHA-256 of the browser cookie.
    pub browser: String,
    pub ip: Option<IpAddr>,
}

#[derive(Debug)]
pub enum TxError {
    /// Larger than a transaction may be.
    TooLarge,
    /// Too many started from one browser or address.
    TooMany,
    Store(KvError),
}

impl From<KvError> for TxError {
    fn from(e: KvError) -> Self {
        TxError::Store(e)
    }
}

impl LoginTx {
    pub fn new(id: String, request: AuthRequest, requirement: Requirement, started_at: i64, origin: &Origin) -> Self {
        Self {
            id,
            request,
            requirement,
            started_at,
            browser: origin.browser.clone(),
            ip: origin.ip,
            lang: None,
            method: None,
            session: None,
        }
    }

    /// Who is told about this login's outcome sees this.
    pub fn attempt(&self) -> Attempt<'_> {
        Attempt { client_id: &self.request.client_id, ip: self.ip }
    }

    /// The state `method` saved, if this transaction is in that method.
    pub fn method_state<T: DeserializeOwned>(&self, method: &str) -> Option<T> {
        self.method.as_ref().filter(|m| m.method == method).and_then(|m| serde_json::from_value(m.state.clone()).ok())
    }

    pub fn set_method_state<T: Serialize>(&mut self, method: &str, state: &T) -> Result<(), KvError> {
        let state = serde_json::to_value(state).map_err(|e| KvError::Misuse(e.to_string()))?;
        self.method = Some(MethodState { method: method.to_owned(), state });
        Ok(())
    }

    /// The method the user is in, if any.
    pub fn method(&self) -> Option<&str> {
        self.method.as_ref().map(|m| m.method.as_str())
    }
}

fn key(id: &str) -> String {
    format!("tx:{id}")
}

/// Stores a transaction, refusing one larger than the limit.
pub async fn save(p: &Provider, tx: &LoginTx) -> Result<(), TxError> {
    let doc = serde_json::to_vec(tx).map_err(|e| KvError::Misuse(e.to_string()))?;
    if doc.len() > p.tx_limits.max_bytes {
        return Err(TxError::TooLarge);
    }
    Ok(p.kv.set(&key(&tx.id), &doc, p.tx_ttl).await?)
}

/// Refuses a transaction larger than the limit before anything is counted or stored.
pub fn check_size(p: &Provider, tx: &LoginTx) -> Result<(), TxError> {
    let len = serde_json::to_vec(tx).map_err(|e| KvError::Misuse(e.to_string()))?.len();
    if len > p.tx_limits.max_bytes { Err(TxError::TooLarge) } else { Ok(()) }
}

/// Counts a new transaction against its browser and address; `Limit` when either is over.
pub async fn admit(p: &Provider, origin: &Origin) -> Result<(), TxError> {
    let browser = p.kv.incr(&format!("txq:b:{}", origin.browser), p.tx_ttl).await?;
    let ip = match origin.ip {
        Some(ip) => p.kv.incr(&format!("txq:ip:{ip}"), p.tx_ttl).await?,
        None => 0,
    };
    if browser > p.tx_limits.per_browser || ip > p.tx_limits.per_ip {
        tracing::warn!(ip = ?origin.ip, "login transaction limit reached");
        return Err(TxError::TooMany);
    }
    Ok(())
}

pub async fn load(p: &Provider, id: &str) -> Result<Option<LoginTx>, KvError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    Ok(p.kv.get(&key(id)).await?.and_then(|b| serde_json::from_slice(&b).ok()))
}

pub async fn drop(p: &Provider, id: &str) -> Result<(), KvError> {
    p.kv.delete(&key(id)).await
}
