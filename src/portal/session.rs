//! The portal's own sessions: in memory, keyed by a random cookie value. A demo service needs no
//! more; a real one would use its own store. Each session holds the login in progress (state,
//! nonce, PKCE verifier) and, after login, the tokens, the claims and the provider's `sid`, which
//! is what a back-channel logout names.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::random_token;

/// Cookies ignore ports: on localhost the provider (:8080) and the portal (:8084) share a cookie
/// jar, so the name must differ from the provider's `xacthuc_session`.
pub const COOKIE: &str = "portal_session";
/// Idle sessions go after this long.
const TTL: Duration = Duration::from_secs(8 * 3600);
/// A login not finished in this time is dropped (the provider's transaction expires too).
const PENDING_TTL: Duration = Duration::from_secs(15 * 60);
/// Bounds memory: anyone can create sessions by starting logins.
const MAX_SESSIONS: usize = 10_000;
/// Logins in progress per browser (several tabs), oldest dropped first.
const MAX_PENDING: usize = 5;
/// Back-channel events kept for `/debug/backchannel`.
const MAX_EVENTS: usize = 100;

/// A login started here and not yet finished at `/callback`.
#[derive(Clone)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The `acr` values the user asked for, one of which the ID token must carry; empty when
    /// any will do.
    pub acr_accepted: Vec<String>,
    pub lang: &'static str,
    pub started: Instant,
}

#[derive(Clone)]
pub struct LoggedIn {
    /// Kept for `id_token_hint` at logout.
    pub id_token: String,
    pub sub: String,
    pub sid: Option<String>,
    pub acr: Option<String>,
    pub id_claims: Map<String, Value>,
    /// `None` when the UserInfo call failed; the reason is in `userinfo_error`.
    pub userinfo: Option<Map<String, Value>>,
    pub userinfo_error: Option<String>,
}

#[derive(Clone, Default)]
pub struct PortalSession {
    pub pending: Vec<Pending>,
    pub user: Option<LoggedIn>,
    /// The `state` sent with the last RP-initiated logout, to recognise the return.
    pub logout_state: Option<String>,
    /// Set when a back-channel logout ended this session, so the page can say why.
    pub ended_by_provider: bool,
    touched: Option<Instant>,
}

/// A received back-channel logout, as shown by `/debug/backchannel`.
#[derive(Clone, Serialize)]
pub struct LogoutEvent {
    pub sid: Option<String>,
    pub sub: Option<String>,
    /// Unix seconds when it arrived.
    pub received_at: i64,
    /// How many local sessions it ended.
    pub sessions_ended: usize,
}

#[derive(Clone, Default)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, PortalSession>,
    events: Vec<LogoutEvent>,
}

impl Store {
    // A poisoned lock only means another request panicked mid-update; the map is still usable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session named by the request's cookie, if it exists and is fresh.
    pub fn get(&self, headers: &HeaderMap) -> Option<(String, PortalSession)> {
        let id = cookie_value(headers)?;
        let mut inner = self.lock();
        let s = inner.sessions.get_mut(&id)?;
        if s.touched.is_some_and(|t| t.elapsed() > TTL) {
            inner.sessions.remove(&id);
            return None;
        }
        s.touched = Some(Instant::now());
        let s = s.clone();
        Some((id, s))
    }

    /// The existing session, or a new empty one with a new id (the caller sets the cookie).
    pub fn get_or_new(&self, headers: &HeaderMap) -> (String, PortalSession, bool) {
        match self.get(headers) {
            Some((id, s)) => (id, s, false),
            None => (random_token(), PortalSession::default(), true),
        }
    }

    pub fn put(&self, id: &str, mut s: PortalSession) {
        s.touched = Some(Instant::now());
        s.pending.retain(|p| p.started.elapsed() < PENDING_TTL);
        while s.pending.len() > MAX_PENDING {
            s.pending.remove(0);
        }
        let mut inner = self.lock();
        if inner.sessions.len() >= MAX_SESSIONS && !inner.sessions.contains_key(id) {
            inner.sessions.retain(|_, s| s.touched.is_some_and(|t| t.elapsed() < TTL));
            if inner.sessions.len() >= MAX_SESSIONS {
                // Still full of live sessions: drop the least recently used one.
                let oldest = inner.sessions.iter().min_by_key(|(_, s)| s.touched).map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    inner.sessions.remove(&k);
                }
            }
        }
        inner.sessions.insert(id.to_owned(), s);
    }

    /// Ends every local login that belongs to the provider session `sid` (or, when the token
    /// names no session, to the subject `sub`), and records the event.
    pub fn end_by_provider(&self, sid: Option<&str>, sub: Option<&str>) -> usize {
        let mut inner = self.lock();
        let mut ended = 0;
        for s in inner.sessions.values_mut() {
            let Some(user) = &s.user else { continue };
            let hit = match (sid, sub) {
                // Both given: both must match, so one user's token cannot end another's session.
                (Some(sid), Some(sub)) => user.sid.as_deref() == Some(sid) && user.sub == sub,
                (Some(sid), None) => user.sid.as_deref() == Some(sid),
                (None, Some(sub)) => user.sub == sub,
                (None, None) => false,
            };
            if hit {
                s.user = None;
                s.ended_by_provider = true;
                ended += 1;
            }
        }
        inner.events.push(LogoutEvent {
            sid: sid.map(str::to_owned),
            sub: sub.map(str::to_owned),
            received_at: chrono::Utc::now().timestamp(),
            sessions_ended: ended,
        });
        if inner.events.len() > MAX_EVENTS {
            inner.events.remove(0);
        }
        ended
    }

    pub fn remove(&self, id: &str) {
        self.lock().sessions.remove(id);
    }

    pub fn events(&self) -> Vec<LogoutEvent> {
        self.lock().events.clone()
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE && !v.is_empty()).then(|| v.to_owned())
    })
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Lax (sent on the provider's
/// top-level redirect back to `/callback`, not on cross-site POSTs such as a forged logout).
pub fn set_cookie(headers: &mut HeaderMap, id: &str, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", TTL.as_secs());
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.append(header::SET_COOKIE, v);
    }
}
