//! A virtual user: a browser without a browser. It follows redirects with its own cookie jar,
//! acts on the pages the scenario describes, redeems the code and checks the ID token; and it
//! performs the token operations (refresh, userinfo, client_credentials).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use url::Url;

use crate::html::{FormSubmission, Method, Page};
use crate::oidc::{self, Endpoints, KeyStore, OAuthError, TokenResponse};
use crate::pkce::{Pkce, random_token};
use crate::scenario::{Op, Scenario};
use crate::stats::Recorder;

const MAX_HOPS: usize = 40;

/// Why an operation failed: `kind` groups failures in the report (no ids in it), `detail` is
/// one example.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: String,
    pub detail: String,
}

fn fail(kind: impl Into<String>, detail: impl Into<String>) -> Failure {
    Failure { kind: kind.into(), detail: detail.into() }
}

/// What a run shares between its virtual users.
pub struct Shared {
    pub http: reqwest::Client,
    pub sc: Arc<Scenario>,
    pub ep: Endpoints,
    pub keys: Option<KeyStore>,
    next_identity: AtomicUsize,
    pub identities_wrapped: AtomicU64,
}

impl Shared {
    pub fn new(http: reqwest::Client, sc: Arc<Scenario>, ep: Endpoints, keys: Option<KeyStore>) -> Self {
        Self { http, sc, ep, keys, next_identity: AtomicUsize::new(0), identities_wrapped: AtomicU64::new(0) }
    }

    pub fn identities_used(&self) -> usize {
        self.next_identity.load(Ordering::Relaxed)
    }

    fn take_identity(&self) -> usize {
        let n = self.next_identity.fetch_add(1, Ordering::Relaxed);
        let rows = self.sc.identities.rows.len().max(1);
        if n >= rows {
            self.identities_wrapped.fetch_add(1, Ordering::Relaxed);
        }
        n % rows
    }
}

/// The run's shared state plus where this phase records (set-up logins apart from the run).
#[derive(Clone)]
pub struct Ctx {
    pub shared: Arc<Shared>,
    pub rec: Arc<Recorder>,
}

pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// One virtual user: a browser (cookie jar), who it is, and the tokens its service holds.
pub struct Vu {
    pub id: usize,
    jar: Jar,
    identity: usize,
    tokens: Option<Tokens>,
}

impl Vu {
    pub fn new(id: usize) -> Self {
        Self { id, jar: Jar::default(), identity: 0, tokens: None }
    }

    pub fn has_session(&self) -> bool {
        self.tokens.is_some()
    }
}

struct Resp {
    status: reqwest::StatusCode,
    location: Option<String>,
    body: String,
}

enum Action {
    Submit { page: String, form: FormSubmission },
    Queue { page: String, delay: Duration, next: Url },
    Unexpected(String),
}

/// "GET localhost:8080/interaction/:id": a step name without the ids some providers put in paths.
pub fn step_name(method: &str, url: &Url) -> String {
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let path: Vec<&str> = url
        .path()
        .split('/')
        .map(|seg| {
            let digits = seg.chars().filter(char::is_ascii_digit).count();
            if seg.len() >= 16
                || (seg.len() >= 8 && digits > 0 && digits < seg.len())
                || (digits == seg.len() && digits > 4)
            {
                ":id"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {host}{}", path.join("/"))
}

fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

fn reqwest_failure(e: &reqwest::Error, step: &str) -> Failure {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect_error"
    } else if e.is_body() || e.is_decode() {
        "body_error"
    } else {
        "http_error"
    };
    fail(format!("{kind} at {step}"), error_chain(e))
}

/// An error with its causes, "a: b: c" (reqwest hides the useful part in the sources), with the
/// query of any URL in it left out (it holds state, PKCE and identity values).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    if let Some(start) = out.find("for url (")
        && let Some(q) = out[start..].find('?').map(|i| start + i)
        && let Some(end) = out[q..].find(')').map(|i| q + i)
    {
        out.replace_range(q..end, "");
    }
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(&format!(": {s_text}"));
        }
        src = s.source();
    }
    out
}

impl Ctx {
    fn sc(&self) -> &Scenario {
        &self.shared.sc
    }

    /// Runs one operation and records it. Operations needing a session start with a login when
    /// the user has none (recorded as a login). Returns whether it succeeded.
    pub async fn run_op(&self, vu: &mut Vu, op: Op) -> bool {
        let op = if op.needs_session() && !vu.has_session() { Op::Login } else { op };
        let t0 = Instant::now();
        let r = match op {
            Op::Login => self.login(vu, true).await,
            Op::SsoLogin => self.login(vu, false).await,
            Op::Refresh => self.refresh(vu).await,
            Op::Userinfo => self.userinfo(vu).await,
            Op::ClientCredentials => self.client_credentials().await,
        };
        match r {
            Ok(()) => {
                self.rec.op_ok(op.name(), t0.elapsed());
                true
            }
            Err(f) => {
                // Whatever the user held may be spent or revoked now: the next operation that
                // needs a session starts with a new login.
                vu.tokens = None;
                self.rec.op_failed(&format!("{}: {}", op.name(), f.kind), &f.detail);
                false
            }
        }
    }

    async fn send(
        &self,
        vu: &Vu,
        method: &Method,
        url: &Url,
        form: Option<&[(String, String)]>,
        step: &str,
    ) -> Result<Resp, Failure> {
        let http = &self.shared.http;
        let mut req = match method {
            Method::Get => http.get(url.clone()),
            Method::Post => http.post(url.clone()).form(form.unwrap_or(&[])),
        };
        if let Some(c) = vu.jar.cookies(url) {
            req = req.header(COOKIE, c);
        }
        let t0 = Instant::now();
        let resp = req.send().await.map_err(|e| reqwest_failure(&e, step))?;
        let mut set = resp.headers().get_all(SET_COOKIE).iter();
        vu.jar.set_cookies(&mut set, url);
        let status = resp.status();
        let location = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(String::from);
        let body = resp.text().await.map_err(|e| reqwest_failure(&e, step))?;
        self.rec.step(step, t0.elapsed());
        Ok(Resp { status, location, body })
    }

    /// A complete login: authorize with PKCE, redirects and pages until the redirect URI, then
    /// the code exchange and the ID-token check. `fresh`: in a new browser as the next identity;
    /// otherwise in the user's browser (single sign-on).
    pub async fn login(&self, vu: &mut Vu, fresh: bool) -> Result<(), Failure> {
        if fresh {
            vu.jar = Jar::default();
            vu.identity = self.shared.take_identity();
            vu.tokens = None;
        }
        let sc = self.sc();
        let p = &sc.provider;
        let empty = Vec::new();
        let row = sc.identities.rows.get(vu.identity).unwrap_or(&empty);
        let pkce = Pkce::generate();
        let state = random_token(16);
        let nonce = random_token(16);
        let mut url = self.shared.ep.authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &p.client_id)
                .append_pair("redirect_uri", p.redirect_uri.as_str())
                .append_pair("scope", &p.scope)
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256");
            for (k, t) in &p.authorize_params {
                q.append_pair(k, &t.render(row, vu.id));
            }
        }
        let mut method = Method::Get;
        let mut form: Option<Vec<(String, String)>> = None;
        let mut step = "authorize".to_string();
        let mut queue_since: Option<Instant> = None;
        let mut queue_pages = 0u64;
        let mut code = None;
        for _ in 0..MAX_HOPS {
            let resp = self.send(vu, &method, &url, form.as_deref(), &step).await?;
            let leave_queue = |since: &mut Option<Instant>| {
                if let Some(s) = since.take() {
                    self.rec.queued(s.elapsed(), queue_pages);
                }
            };
            if resp.status.is_redirection() {
                let loc = resp.location.ok_or_else(|| fail(format!("redirect_without_location at {step}"), ""))?;
                let next =
                    url.join(&loc).map_err(|_| fail(format!("bad_location at {step}"), format!("Location {loc:?}")))?;
                if queue_since.is_some() {
                    leave_queue(&mut queue_since);
                }
                if same_endpoint(&next, &p.redirect_uri) {
                    code = Some(self.callback(&next, &state)?);
                    break;
                }
                url = next;
                method = Method::Get;
                form = None;
                step = step_name("GET", &url);
                continue;
            }
            if !resp.status.is_success() {
                let title = Page::parse(&resp.body, url.clone()).title().unwrap_or_default();
                return Err(fail(
                    format!("http_{} at {step}", resp.status.as_u16()),
                    format!(
                        "{} {}: {}",
                        resp.status,
                        url.path(),
                        if title.is_empty() { snippet(&resp.body) } else { title }
                    ),
                ));
            }
            match analyze(&resp.body, &url, sc, row, vu.id) {
                Action::Submit { page, form: f } => {
                    if queue_since.is_some() {
                        leave_queue(&mut queue_since);
                    }
                    method = f.method;
                    url = f.action;
                    if method == Method::Get {
                        url.query_pairs_mut().clear().extend_pairs(&f.fields);
                        form = None;
                    } else {
                        form = Some(f.fields);
                    }
                    step = format!("submit {page}");
                }
                Action::Queue { page, delay, next } => {
                    let since = *queue_since.get_or_insert_with(Instant::now);
                    queue_pages += 1;
                    if since.elapsed() + delay > sc.max_queue_wait {
                        self.rec.queued(since.elapsed(), queue_pages);
                        return Err(fail(
                            "queue_timeout",
                            format!("still on {page} after {:.0} s", since.elapsed().as_secs_f64()),
                        ));
                    }
                    tokio::time::sleep(delay).await;
                    url = next;
                    method = Method::Get;
                    form = None;
                    step = format!("queue {page}");
                }
                Action::Unexpected(detail) => {
                    return Err(fail(format!("unexpected_page at {step}"), format!("{}: {detail}", url.path())));
                }
            }
        }
        let code = code.ok_or_else(|| fail("too_many_redirects", format!("more than {MAX_HOPS} hops, last {url}")))?;
        let mut form = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".to_string(), code),
            ("redirect_uri".to_string(), p.redirect_uri.to_string()),
            ("code_verifier".to_string(), pkce.verifier),
        ];
        let tokens = self.token_request(&mut form, "token").await?;
        let id_token =
            tokens.id_token.as_deref().ok_or_else(|| fail("no_id_token", "token response without id_token"))?;
        if p.verify_id_token {
            self.check_id_token(id_token, &nonce).await?;
        }
        vu.tokens = Some(Tokens { access_token: tokens.access_token, refresh_token: tokens.refresh_token });
        Ok(())
    }

    fn callback(&self, at: &Url, state: &str) -> Result<String, Failure> {
        let get = |k: &str| at.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
        if let Some(e) = get("error") {
            return Err(fail(format!("oauth_error {e}"), get("error_description").unwrap_or_default()));
        }
        if get("state").as_deref() != Some(state) {
            return Err(fail("state_mismatch", "the redirect carries another state"));
        }
        get("code").ok_or_else(|| fail("no_code", "redirect to the client without code or error"))
    }

    async fn check_id_token(&self, token: &str, nonce: &str) -> Result<(), Failure> {
        let Some(keys) = &self.shared.keys else { return Err(fail("no_jwks", "the provider publishes no jwks_uri")) };
        let t0 = Instant::now();
        let (issuer, client) = (&self.shared.ep.issuer, &self.sc().provider.client_id);
        let mut r = oidc::verify_id_token(token, &keys.current(), issuer, client, nonce);
        if matches!(r, Err(oidc::IdTokenError::UnknownKey(_))) && keys.may_refresh() {
            if let Some(uri) = &self.shared.ep.jwks_uri
                && let Ok(resp) = self.shared.http.get(uri.clone()).send().await
                && let Ok(set) = KeyStore::parse(&resp.bytes().await.unwrap_or_default())
            {
                keys.replace(set);
            }
            r = oidc::verify_id_token(token, &keys.current(), issuer, client, nonce);
        }
        self.rec.step("(client) verify id_token", t0.elapsed());
        r.map(|_| ()).map_err(|e| fail("id_token_invalid", e.to_string()))
    }

    async fn token_request(&self, form: &mut Vec<(String, String)>, step: &str) -> Result<TokenResponse, Failure> {
        let p = &self.sc().provider;
        let auth = oidc::client_auth(p, form);
        let mut req = self.shared.http.post(self.shared.ep.token_endpoint.clone()).form(&form);
        if let Some(a) = auth {
            req = req.header(AUTHORIZATION, a);
        }
        let t0 = Instant::now();
        let resp = req.send().await.map_err(|e| reqwest_failure(&e, step))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| reqwest_failure(&e, step))?;
        self.rec.step(step, t0.elapsed());
        if !status.is_success() {
            let kind = match serde_json::from_slice::<OAuthError>(&body) {
                Ok(e) => format!("token_error {} at {step}", e.error),
                Err(_) => format!("http_{} at {step}", status.as_u16()),
            };
            return Err(fail(kind, format!("{status}: {}", snippet(&String::from_utf8_lossy(&body)))));
        }
        serde_json::from_slice(&body).map_err(|e| {
            fail(format!("bad_token_response at {step}"), format!("{e}: {}", snippet(&String::from_utf8_lossy(&body))))
        })
    }

    async fn refresh(&self, vu: &mut Vu) -> Result<(), Failure> {
        let rt = vu
            .tokens
            .as_ref()
            .and_then(|t| t.refresh_token.clone())
            .ok_or_else(|| fail("no_refresh_token", "the login gave no refresh token (scope offline_access?)"))?;
        let mut form = vec![("grant_type".to_string(), "refresh_token".to_string()), ("refresh_token".to_string(), rt)];
        let t = self.token_request(&mut form, "refresh").await?;
        if let Some(tokens) = vu.tokens.as_mut() {
            tokens.access_token = t.access_token;
            if t.refresh_token.is_some() {
                tokens.refresh_token = t.refresh_token;
            }
        }
        Ok(())
    }

    async fn userinfo(&self, vu: &mut Vu) -> Result<(), Failure> {
        let ep = self.shared.ep.userinfo_endpoint.clone().ok_or_else(|| fail("no_userinfo_endpoint", ""))?;
        let at = vu.tokens.as_ref().map(|t| t.access_token.clone()).unwrap_or_default();
        let t0 = Instant::now();
        let resp = self
            .shared
            .http
            .get(ep)
            .header(AUTHORIZATION, format!("Bearer {at}"))
            .send()
            .await
            .map_err(|e| reqwest_failure(&e, "userinfo"))?;
        let status = resp.status();
        let json = resp.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let body = resp.bytes().await.map_err(|e| reqwest_failure(&e, "userinfo"))?;
        self.rec.step("userinfo", t0.elapsed());
        if !status.is_success() {
            return Err(fail(
                format!("http_{} at userinfo", status.as_u16()),
                snippet(&String::from_utf8_lossy(&body)),
            ));
        }
        if !json || serde_json::from_slice::<serde_json::Value>(&body).map(|v| v.get("sub").is_none()).unwrap_or(true) {
            return Err(fail("bad_userinfo", "userinfo is not a JSON object with sub"));
        }
        Ok(())
    }

    async fn client_credentials(&self) -> Result<(), Failure> {
        let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
        if let Some(s) = &self.sc().provider.client_credentials_scope {
            form.push(("scope".into(), s.clone()));
        }
        self.token_request(&mut form, "client_credentials").await.map(|_| ())
    }
}

fn sel_ref(o: &Option<(scraper::Selector, String)>) -> Option<(&scraper::Selector, &str)> {
    o.as_ref().map(|(s, src)| (s, src.as_str()))
}

/// Decides what to do on an HTML page. Synchronous: the parsed page is not `Send`.
fn analyze(body: &str, url: &Url, sc: &Scenario, row: &[String], vu: usize) -> Action {
    let page = Page::parse(body, url.clone());
    for rule in &sc.pages {
        if rule.when_url.as_deref().is_some_and(|u| !url.as_str().contains(u)) {
            continue;
        }
        if rule.when_selector.as_ref().is_some_and(|(s, _)| !page.matches(s)) {
            continue;
        }
        if rule.queue {
            return match page.meta_refresh() {
                Some((delay, next)) => Action::Queue { page: rule.name.clone(), delay, next },
                None => Action::Unexpected(format!("queue page {:?} without a meta refresh", rule.name)),
            };
        }
        return match page.form(sel_ref(&rule.form), sel_ref(&rule.submit)) {
            Ok(mut form) => {
                for (k, t) in &rule.fields {
                    form.set(k, t.render(row, vu));
                }
                Action::Submit { page: rule.name.clone(), form }
            }
            Err(e) => Action::Unexpected(format!("page {:?}: {e}", rule.name)),
        };
    }
    if sc.meta_refresh_is_queue
        && let Some((delay, next)) = page.meta_refresh()
    {
        return Action::Queue { page: "meta-refresh".into(), delay, next };
    }
    Action::Unexpected(format!("no page rule matches (title {:?})", page.title().unwrap_or_default()))
}

fn snippet(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_details_leave_queries_out() {
        #[derive(Debug)]
        struct E;
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error sending request for url (http://op.test/auth?login_hint=0011&state=x): reset")
            }
        }
        impl std::error::Error for E {}
        assert_eq!(error_chain(&E), "error sending request for url (http://op.test/auth): reset");
    }

    #[test]
    fn step_names_hide_ids() {
        let u = Url::parse("http://localhost:3000/interaction/Xk2rLp0aQ9vTz8WmN1bcd?x=1").unwrap();
        assert_eq!(step_name("GET", &u), "GET localhost:3000/interaction/:id");
        let u = Url::parse("http://127.0.0.1:8080/callback/vneid").unwrap();
        assert_eq!(step_name("GET", &u), "GET 127.0.0.1:8080/callback/vneid");
        let u = Url::parse("https://op.example/auth/123456/x").unwrap();
        assert_eq!(step_name("POST", &u), "POST op.example/auth/:id/x");
    }
}
