//! Logs, request ids and Prometheus metrics.
//!
//! Every request gets an `x-request-id` (kept if the caller sent one) and runs inside a span
//! that carries it, so each log line of the request names it.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global log subscriber once; later calls (tests) are no-ops.
pub fn init_logging(format: LogFormat, level: &str, production: bool) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => production,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.compact().try_init() };
}

/// The process-wide Prometheus recorder (the `metrics` facade allows one per process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed (another test harness): keep ours
            // rendering what it can rather than abort.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Per-route request counts and latency. Every label comes from a closed set, so the number of
/// series stays bounded whatever clients send: the route is the matched pattern (never the raw
/// path), the method one of the standard ones or `other`, the status a three-digit code.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = route_label(req.extensions().get::<MatchedPath>());
    let method = method_label(req.method());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    response
}

fn route_label(matched: Option<&MatchedPath>) -> String {
    matched.map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

/// HTTP lets a client invent any method token; only the standard ones get a label of their own.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// `GET /metrics` in the Prometheus text format.
pub fn metrics_router<S: Clone + Send + Sync + 'static>(handle: PrometheusHandle) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || {
            let body = handle.render();
            async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response() }
        }),
    )
}

/// `/metrics` on the main listener only when no separate one is configured (`metrics_addr`):
/// with a separate listener the public port must not show it.
pub fn main_port_metrics<S: Clone + Send + Sync + 'static>(config: &Config, handle: PrometheusHandle) -> Router<S> {
    if config.metrics_addr.is_some() { Router::new() } else { metrics_router(handle) }
}

/// Span for each request, carrying the request id set by `SetRequestIdLayer`.
pub fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = req.headers().get("x-request-id").and_then(|v: &HeaderValue| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        for m in ["PROPFIND", "FOO", "get", "X-RANDOM-1"] {
            assert_eq!(method_label(&Method::from_bytes(m.as_bytes()).unwrap()), "other", "{m}");
        }
        assert_eq!(method_label(&Method::POST), "POST");
    }
}
