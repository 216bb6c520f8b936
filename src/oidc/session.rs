//! Single sign-on sessions, kept in the session store with a TTL and indexed per account so the
//! account page can list and end them. The cookie names the account and a random session id;
//! both keys share the account's hash tag, so they live on one Redis Cluster slot.

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use serde::{Deserialize, Serialize};

use super::login::Authenticated;
use super::provider::Provider;
use crate::crypto::{random_token, sha256_hex};
use crate::store::KvError;
use crate::store::kv::hash_tagged;

pub const COOKIE_NAME: &str = "xacthuc_session";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// Internal session id (database, account page). Clients never see it: their ID and logout
    /// tokens carry a per-client derivation (`Provider::client_sid`). It is never what
    /// authenticates the browser.
    pub sid: String,
    pub account_id: String,
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    /// See `Authenticated::cert_thumbprint`.
    #[serde(default)]
    pub cert_thumbprint: Option<String>,
    /// Clients that received tokens in this session: they get back-channel logout.
    #[serde(default)]
    pub clients: Vec<String>,
    /// SHA-256 of the cookie secret; the store key is derived from it.
    handle: String,
    /// The cookie secret itself, known only right after creation (to set the cookie).
    #[serde(skip)]
    secret: Option<String>,
}

fn key(account_id: &str, handle: &str) -> String {
    hash_tagged(&format!("a:{account_id}"), &format!(":sess:{handle}"))
}

fn index(account_id: &str) -> String {
    hash_tagged(&format!("a:{account_id}"), ":sessions")
}

impl Session {
    /// The anti-CSRF token of this session's forms: derived from the cookie secret's hash, which
    /// never leaves the server, so another site cannot know it.
    pub fn csrf_token(&self) -> String {
        sha256_hex(&format!("csrf|{}", self.handle))
    }

    /// `account.secret`: the secret is 256 random bits that appear nowhere else.
    pub fn cookie_value(&self) -> Option<String> {
        self.secret.as_ref().map(|s| format!("{}.{s}", self.account_id))
    }
}

/// A new session with a fresh secret (no fixation). Re-authentication of the same account
/// (step-up, prompt=login, max_age) keeps the public `sid` and the list of clients, so a later
/// logout still reaches every service the person used.
pub async fn create(
    p: &Provider,
    who: &Authenticated,
    auth_time: i64,
    previous: Option<&Session>,
) -> Result<Session, KvError> {
    let account_id = who.account_id.as_str();
    let secret = random_token();
    let same = previous.filter(|o| o.account_id == account_id);
    let s = Session {
        sid: same.map(|o| o.sid.clone()).unwrap_or_else(random_token),
        account_id: account_id.to_owned(),
        auth_time,
        acr: who.acr.to_owned(),
        amr: who.amr.clone(),
        cert_thumbprint: who.cert_thumbprint.clone(),
        clients: same.map(|o| o.clients.clone()).unwrap_or_default(),
        handle: sha256_hex(&secret),
        secret: Some(secret),
    };
    save(p, &s).await?;
    if let Some(old) = same {
        end(p, old).await?;
    }
    Ok(s)
}

pub async fn save(p: &Provider, s: &Session) -> Result<(), KvError> {
    let doc = serde_json::to_vec(s).map_err(|e| KvError::Misuse(e.to_string()))?;
    p.kv.set_indexed(&key(&s.account_id, &s.handle), &doc, p.session_ttl, &index(&s.account_id)).await
}

/// The session named by the request's cookie, if it is still alive.
pub async fn from_headers(p: &Provider, headers: &HeaderMap) -> Result<Option<Session>, KvError> {
    let Some(value) = cookie(p, headers, COOKIE_NAME) else { return Ok(None) };
    let Some((account_id, secret)) = value.split_once('.') else { return Ok(None) };
    if account_id.len() > 64 || secret.len() > 64 {
        return Ok(None);
    }
    Ok(p.kv.get(&key(account_id, &sha256_hex(secret))).await?.and_then(|b| serde_json::from_slice(&b).ok()))
}

/// One of the account's sessions, by its public id (the account page's "log out" button).
pub async fn find_by_sid(p: &Provider, account_id: &str, sid: &str) -> Result<Option<Session>, KvError> {
    Ok(list(p, account_id).await?.into_iter().find(|s| s.sid == sid))
}

pub async fn add_client(p: &Provider, s: &mut Session, client_id: &str) -> Result<(), KvError> {
    if !s.clients.iter().any(|c| c == client_id) {
        s.clients.push(client_id.to_owned());
        save(p, s).await?;
    }
    Ok(())
}

pub async fn end(p: &Provider, s: &Session) -> Result<(), KvError> {
    let k = key(&s.account_id, &s.handle);
    p.kv.delete(&k).await?;
    p.kv.set_remove(&index(&s.account_id), &k).await
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

/// Over HTTPS every cookie gets the `__Host-` prefix: browsers then refuse it unless it is
/// Secure, host-only and path `/`, so a sibling subdomain cannot plant or overwrite it.
fn wire_name(p: &Provider, name: &str) -> String {
    if p.secure_cookies { format!("__Host-{name}") } else { name.to_owned() }
}

pub fn cookie<'a>(p: &Provider, headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let name = wire_name(p, name);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a value; `None` clears it. Lax so the redirect back from an upstream identity provider carries
/// it; HttpOnly so scripts cannot read it; Secure outside development.
pub fn set_cookie(p: &Provider, name: &str, value: Option<&str>, max_age: i64, headers: &mut HeaderMap) {
    let secure = if p.secure_cookies { "; Secure" } else { "" };
    let name = wire_name(p, name);
    let c = match value {
        Some(v) => format!("{name}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    if let Ok(v) = c.parse() {
        headers.append(SET_COOKIE, v);
    }
}
