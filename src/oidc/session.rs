//! Single sign-on sessions, kept in the session store with a TTL and indexed per account so the
//! account page can list and end them. The cookie names the account and a random session id;
//! both keys share the account's hash tag, so they live on one Redis Cluster slot.

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use serde::{Deserialize, Serialize};

use super::provider::{Provider, random_token};
use crate::store::KvError;
use crate::store::kv::hash_tagged;

pub const COOKIE_NAME: &str = "xacthuc_session";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub sid: String,
    pub account_id: String,
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    /// Clients that received tokens in this session: they get back-channel logout.
    #[serde(default)]
    pub clients: Vec<String>,
}

fn key(account_id: &str, sid: &str) -> String {
    hash_tagged(&format!("a:{account_id}"), &format!(":sess:{sid}"))
}

fn index(account_id: &str) -> String {
    hash_tagged(&format!("a:{account_id}"), ":sessions")
}

impl Session {
    pub fn cookie_value(&self) -> String {
        format!("{}.{}", self.account_id, self.sid)
    }
}

pub async fn create(
    p: &Provider,
    account_id: &str,
    acr: &str,
    amr: Vec<String>,
    auth_time: i64,
) -> Result<Session, KvError> {
    let s = Session {
        sid: random_token(),
        account_id: account_id.to_owned(),
        auth_time,
        acr: acr.to_owned(),
        amr,
        clients: Vec::new(),
    };
    save(p, &s).await?;
    Ok(s)
}

pub async fn save(p: &Provider, s: &Session) -> Result<(), KvError> {
    let doc = serde_json::to_vec(s).map_err(|e| KvError::Misuse(e.to_string()))?;
    p.kv.set_indexed(&key(&s.account_id, &s.sid), &doc, p.session_ttl, &index(&s.account_id)).await
}

/// The session named by the request's cookie, if it is still alive.
pub async fn from_headers(p: &Provider, headers: &HeaderMap) -> Result<Option<Session>, KvError> {
    let Some(value) = cookie(headers, COOKIE_NAME) else { return Ok(None) };
    let Some((account_id, sid)) = value.split_once('.') else { return Ok(None) };
    if account_id.len() > 64 || sid.len() > 64 {
        return Ok(None);
    }
    load(p, account_id, sid).await
}

pub async fn load(p: &Provider, account_id: &str, sid: &str) -> Result<Option<Session>, KvError> {
    Ok(p.kv.get(&key(account_id, sid)).await?.and_then(|b| serde_json::from_slice(&b).ok()))
}

pub async fn add_client(p: &Provider, s: &mut Session, client_id: &str) -> Result<(), KvError> {
    if !s.clients.iter().any(|c| c == client_id) {
        s.clients.push(client_id.to_owned());
        save(p, s).await?;
    }
    Ok(())
}

pub async fn end(p: &Provider, account_id: &str, sid: &str) -> Result<(), KvError> {
    p.kv.delete(&key(account_id, sid)).await?;
    p.kv.set_remove(&index(account_id), &key(account_id, sid)).await
}

pub async fn list(p: &Provider, account_id: &str) -> Result<Vec<Session>, KvError> {
    let mut out = Vec::new();
    for k in p.kv.set_members(&index(account_id)).await? {
        match p.kv.get(&k).await? {
            Some(b) => out.extend(serde_json::from_slice::<Session>(&b).ok()),
            // Expired: tidy the index as we go.
            None => p.kv.set_remove(&index(account_id), &k).await?,
        }
    }
    Ok(out)
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a value; `None` clears it. Lax so the redirect back from the e-ID carries
/// it; HttpOnly so scripts cannot read it; Secure outside development.
pub fn set_cookie(p: &Provider, name: &str, value: Option<&str>, max_age: i64, headers: &mut HeaderMap) {
    let secure = if p.secure_cookies { "; Secure" } else { "" };
    let c = match value {
        Some(v) => format!("{name}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    if let Ok(v) = c.parse() {
        headers.append(SET_COOKIE, v);
    }
}
