//! Fault injection shared by the e-ID and population mocks.
//!
//! A realistic mock is slow, fails and overloads; a toy mock hides the bugs the real systems
//! expose. Faults are set at start ([`FaultConfig`] in each mock's config) and changed at
//! runtime with `GET`/`PUT /mock/faults` (JSON body: a whole [`FaultConfig`]; missing fields
//! take their defaults). Paths under `/mock/` are never faulted, so a test can always repair
//! the mock it broke.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::citizens::Rng;

/// Latency added to each request: uniform in `min_ms..=max_ms`, plus `spike_ms` with
/// probability `spike_rate` (a long tail, as overloaded systems have).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    pub min_ms: u64,
    pub max_ms: u64,
    pub spike_ms: u64,
    pub spike_rate: f64,
}

/// How a failed request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// HTTP 500 with a JSON error body.
    Http500,
    /// No answer for `timeout_ms`, then 504: the client's own timeout should fire first.
    Timeout,
    /// HTTP 200, `application/json`, with a truncated JSON body.
    MalformedJson,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub latency: Latency,
    /// Fraction of requests (0.0–1.0) that fail, with a kind drawn from `error_kinds`.
    pub error_rate: f64,
    pub error_kinds: Vec<ErrorKind>,
    /// How long a `timeout` fault holds the request.
    pub timeout_ms: u64,
    /// Requests in flight beyond this get 503 "Hệ thống đang bảo trì". `None`: no cap.
    pub max_concurrent: Option<usize>,
    /// Seconds added to `iat`/`exp`/`auth_time` of issued tokens (e-ID) and to response
    /// timestamps (population). Negative: the mock's clock is behind.
    pub clock_skew_secs: i64,
    /// Only paths starting with one of these are faulted; empty: every path.
    pub only_paths: Vec<String>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            latency: Latency::default(),
            error_rate: 0.0,
            error_kinds: vec![ErrorKind::Http500, ErrorKind::Timeout, ErrorKind::MalformedJson],
            timeout_ms: 30_000,
            max_concurrent: None,
            clock_skew_secs: 0,
            only_paths: Vec::new(),
        }
    }
}

/// Live fault state of one mock.
#[derive(Debug)]
pub struct Faults {
    config: RwLock<FaultConfig>,
    in_flight: AtomicUsize,
    counter: AtomicU64,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Arc<Self> {
        Arc::new(Faults { config: RwLock::new(config), in_flight: AtomicUsize::new(0), counter: AtomicU64::new(0) })
    }

    pub fn get(&self) -> FaultConfig {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn set(&self, config: FaultConfig) {
        if let Ok(mut c) = self.config.write() {
            *c = config;
        }
    }

    pub fn clock_skew_secs(&self) -> i64 {
        self.config.read().map(|c| c.clock_skew_secs).unwrap_or(0)
    }

    fn rng(&self) -> Rng {
        Rng::new(0xFA017, self.counter.fetch_add(1, Ordering::Relaxed))
    }
}

/// `GET`/`PUT /mock/faults`.
pub fn router(faults: Arc<Faults>) -> axum::Router {
    axum::Router::new().route("/mock/faults", get(get_faults).put(put_faults)).with_state(faults)
}

async fn get_faults(State(f): State<Arc<Faults>>) -> Json<FaultConfig> {
    Json(f.get())
}

async fn put_faults(
    State(f): State<Arc<Faults>>,
    body: Result<Json<FaultConfig>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(Json(cfg)) => {
            if !(0.0..=1.0).contains(&cfg.error_rate) || !(0.0..=1.0).contains(&cfg.latency.spike_rate) {
                return (StatusCode::BAD_REQUEST, "error_rate and spike_rate are between 0 and 1").into_response();
            }
            tracing::info!(?cfg, "fault configuration changed");
            f.set(cfg.clone());
            Json(cfg).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.body_text()).into_response(),
    }
}

/// Decrements the in-flight count however the request ends (even if cancelled).
struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The middleware: cap, latency, then errors, in that order, as an overloaded system behaves
/// (the gateway sheds load before anything else happens).
pub async fn inject(State(f): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/mock/") {
        return next.run(req).await;
    }
    let cfg = f.get();
    if !cfg.only_paths.is_empty() && !cfg.only_paths.iter().any(|p| path.starts_with(p.as_str())) {
        return next.run(req).await;
    }
    let now = f.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    let _guard = InFlight(&f.in_flight);
    if cfg.max_concurrent.is_some_and(|max| now > max) {
        return maintenance_page();
    }
    let mut rng = f.rng();
    let mut delay = cfg.latency.min_ms;
    if cfg.latency.max_ms > cfg.latency.min_ms {
        delay += u64::from(rng.below((cfg.latency.max_ms - cfg.latency.min_ms + 1) as u32));
    }
    if cfg.latency.spike_rate > 0.0 && unit(&mut rng) < cfg.latency.spike_rate {
        delay += cfg.latency.spike_ms;
    }
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if cfg.error_rate > 0.0 && !cfg.error_kinds.is_empty() && unit(&mut rng) < cfg.error_rate {
        return match rng.pick(&cfg.error_kinds) {
            ErrorKind::Http500 => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":"server_error","error_description":"Lỗi hệ thống (injected)"}"#,
            )
                .into_response(),
            ErrorKind::Timeout => {
                tokio::time::sleep(Duration::from_millis(cfg.timeout_ms)).await;
                StatusCode::GATEWAY_TIMEOUT.into_response()
            }
            ErrorKind::MalformedJson => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"status":"ok","message":"<soap:Envel"#))
                .unwrap_or_default(),
        };
    }
    next.run(req).await
}

fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The page the real e-ID showed when overloaded on 28 Aug 2025.
pub fn maintenance_page() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "30")],
        Html(
            "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
             <title>Hệ thống đang bảo trì</title></head><body>\
             <h1>Hệ thống đang bảo trì</h1>\
             <p>Xin quý khách vui lòng quay lại sau.</p></body></html>",
        ),
    )
        .into_response()
}
