//! Load shedding at the edge: per-address and per-client request limits on the protocol
//! endpoints, counted in the shared key-value store so that every instance sees one count.
//!
//! Fixed windows aligned on the clock (`rl:{limit}:{who}:{window number}`): one atomic
//! INCR-with-expiry per limit checked, and Retry-After is the time left in the window, known
//! without another round trip. A fixed window lets through at most twice the limit across a
//! window boundary; that is enough to shed a burst, and costs a single key per client.
//!
//! The check runs before the handler does anything: a refused request has changed no state
//! but the counters. To find the client of a token or PAR request, the form (bounded by the
//! body limit) or the Basic header is read, but the client is not authenticated first: a
//! claimed client_id costs the claimant its per-address allowance as well.

use std::net::IpAddr;
use std::time::Duration;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use base64::Engine;

use super::client_addr::ClientAddress;
use super::page::{self, Frame, Lang};
use crate::store::Kv;

/// Longest client_id counted as such; longer ones share one counter (no such client exists).
const MAX_CLIENT_ID: usize = 128;

#[derive(Clone)]
pub struct EdgeLimits {
    pub kv: Kv,
    pub address: ClientAddress,
    pub window_secs: u64,
    /// Requests per window and client address on browser pages; 0 is no limit.
    pub page_per_ip: i64,
    /// Requests per window and client address on back-channel endpoints; 0 is no limit.
    pub api_per_ip: i64,
    /// Token and PAR requests per window and client_id; 0 is no limit.
    pub per_client: i64,
    /// The request body limit, which also bounds reading a form for its client_id.
    pub body_limit: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A browser page: an over-limit answer is a page.
    Page,
    /// A back-channel endpoint: an over-limit answer is OAuth error JSON.
    Api,
}

/// Which limits a path falls under; None for everything else (JWKS, discovery, health, the
/// admin API, which have their own guards or are cheap and cacheable).
fn classify(path: &str) -> Option<Class> {
    match path {
        "/authorize" | "/consent" | "/login" => Some(Class::Page),
        "/par" | "/token" | "/userinfo" => Some(Class::Api),
        p if p.starts_with("/login/") || p.starts_with("/callback/") => Some(Class::Page),
        _ => None,
    }
}

/// The middleware. When the store cannot be reached the request goes on (fails open): the
/// limits shed load but do not guard secrets (lockouts do), every endpoint that needs the store
/// answers 503 with Retry-After by itself, and refusing all traffic would turn a store blip
/// into an outage of the endpoints that work without it (JWKS-validated tokens, client
/// credentials). Each store call is bounded by `redis_timeout_ms`.
pub async fn check(State(l): State<EdgeLimits>, req: Request, next: Next) -> Response {
    let Some(class) = classify(req.uri().path()) else {
        return next.run(req).await;
    };
    let now = crate::clock::unix_now().max(0) as u64;
    let per_ip = if class == Class::Page { l.page_per_ip } else { l.api_per_ip };
    if let Some(ip) = l.address.resolve(req.extensions(), req.headers())
        && let Some(wait) = l.over(class_label(class), &ip_key(ip), per_ip, now).await
    {
        return refuse(class, wait, req.headers(), req.uri().query());
    }
    let req = if l.per_client > 0 && req.method() == Method::POST && matches!(req.uri().path(), "/token" | "/par") {
        let (parts, body) = req.into_parts();
        // A declared length over the limit is refused before waiting for a body that may never
        // come (the body-limit layer further in would refuse it at once too).
        let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > l.body_limit as u64) {
            return too_large();
        }
        let Ok(bytes) = axum::body::to_bytes(body, l.body_limit).await else {
            return too_large();
        };
        if let Some(client) = claimed_client(&parts.headers, &bytes)
            && let Some(wait) = l.over("client", &client, l.per_client, now).await
        {
            return refuse(Class::Api, wait, &parts.headers, None);
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    next.run(req).await
}

impl EdgeLimits {
    /// Counts the request; Some(seconds to wait) when it is over `limit`.
    async fn over(&self, label: &'static str, who: &str, limit: i64, now: u64) -> Option<u64> {
        if limit <= 0 {
            return None;
        }
        let window = now / self.window_secs;
        let key = format!("rl:{label}:{who}:{window}");
        match self.kv.incr(&key, Duration::from_secs(self.window_secs)).await {
            Ok(n) if n > limit => {
                metrics::counter!("rate_limited_total", "limit" => label).increment(1);
                Some(((window + 1) * self.window_secs).saturating_sub(now).max(1))
            }
            Ok(_) => None,
            Err(e) => {
                metrics::counter!("rate_limit_unchecked_total").increment(1);
                tracing::warn!(error = %e, "rate limit not checked: store unavailable; request let through");
                None
            }
        }
    }
}

fn class_label(class: Class) -> &'static str {
    match class {
        Class::Page => "page_ip",
        Class::Api => "api_ip",
    }
}

fn ip_key(ip: IpAddr) -> String {
    ip.to_string()
}

/// The client a token or PAR request names: `client_id` in the form, the issuer of a
/// `client_assertion`, or the Basic user name. Nothing is verified here.
fn claimed_client(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    let mut assertion = None;
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "client_id" => return Some(bounded(&v)),
            "client_assertion" => assertion = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(iss) = assertion.as_deref().and_then(assertion_issuer) {
        return Some(bounded(&iss));
    }
    let basic = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, creds) = basic.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(creds.trim()).ok()?;
    let user = decoded.split(|b| *b == b':').next()?;
    let user: String = url::form_urlencoded::parse(user).map(|(k, _)| k.into_owned()).next()?;
    Some(bounded(&user))
}

/// The unverified `iss` of a JWT client assertion (RFC 7523: it is the client_id).
fn assertion_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

fn bounded(client_id: &str) -> String {
    if client_id.len() > MAX_CLIENT_ID { "(too-long)".to_owned() } else { client_id.to_owned() }
}

#[derive(Template)]
#[template(path = "web/rate_limited.html")]
struct RateLimitedPage<'a> {
    frame: Frame,
    title: &'static str,
    message: &'static str,
    wait: &'a str,
}

/// 429 with Retry-After (RFC 6585). Back-channel callers get OAuth error JSON with the code
/// RFC 6749 defines for an overloaded server, `temporarily_unavailable` (`slow_down` belongs to
/// device-flow polling); browsers get a page, since nothing has been validated that would make
/// a redirect to the client safe.
fn refuse(class: Class, wait: u64, headers: &HeaderMap, query: Option<&str>) -> Response {
    let mut r = match class {
        Class::Api => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(serde_json::json!({
                "error": "temporarily_unavailable",
                "error_description": format!("too many requests; retry after {wait} seconds"),
            })),
        )
            .into_response(),
        Class::Page => {
            let lang = Lang::pick(query_lang(query).as_deref(), headers);
            let title = lang.t("Quá nhiều yêu cầu", "Too many requests");
            let message = lang.t(
                "Có quá nhiều yêu cầu từ mạng của bạn trong thời gian ngắn. Yêu cầu này chưa được xử lý.",
                "Too many requests came from your network in a short time. This request was not processed.",
            );
            let wait = match lang {
                Lang::Vi => format!("Vui lòng đợi khoảng {wait} giây rồi thử lại."),
                Lang::En => format!("Please wait about {wait} seconds, then try again."),
            };
            page::render(
                StatusCode::TOO_MANY_REQUESTS,
                &RateLimitedPage { frame: Frame::new(lang, title), title, message, wait: &wait },
            )
        }
    };
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn query_lang(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "lang" || k == "ui_locales")
        .map(|(_, v)| v.into_owned())
}

fn too_large() -> Response {
    let body = serde_json::json!({"error": "invalid_request", "error_description": "the request body is too large"});
    (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_found_without_authenticating_it() {
        let h = HeaderMap::new();
        assert_eq!(claimed_client(&h, &Bytes::from("grant_type=x&client_id=rp%201")), Some("rp 1".into()));
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"iss":"fapi-rp"}"#);
        let form = format!("client_assertion=eyJhbGciOiJub25lIn0.{claims}.sig");
        assert_eq!(claimed_client(&h, &Bytes::from(form)), Some("fapi-rp".into()));
        let mut h = HeaderMap::new();
        let basic = base64::engine::general_purpose::STANDARD.encode("my%3Arp:secret");
        h.insert(header::AUTHORIZATION, format!("Basic {basic}").parse().unwrap());
        assert_eq!(claimed_client(&h, &Bytes::from("grant_type=x")), Some("my:rp".into()));
        assert_eq!(claimed_client(&HeaderMap::new(), &Bytes::from("grant_type=x")), None);
        let long = format!("client_id={}", "a".repeat(500));
        assert_eq!(claimed_client(&HeaderMap::new(), &Bytes::from(long)), Some("(too-long)".into()));
    }

    #[test]
    fn only_protocol_endpoints_are_limited() {
        assert!(classify("/authorize") == Some(Class::Page));
        assert!(classify("/login/officer/password") == Some(Class::Page));
        assert!(classify("/callback/vneid") == Some(Class::Page));
        assert!(classify("/token") == Some(Class::Api));
        assert!(classify("/jwks").is_none());
        assert!(classify("/healthz").is_none());
        assert!(classify("/admin/clients").is_none());
    }
}
