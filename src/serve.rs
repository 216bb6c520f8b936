//! Production mode (`xacthuc serve`): PostgreSQL, Redis and a real master key, all checked
//! before anything binds. Also the listener helpers development mode shares.

use std::net::SocketAddr;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{self, AppState};
use crate::config::{Config, Mode};
use crate::failure::{Failure, runtime};
use crate::observability;

/// Where `serve` exposes `/metrics` unless `metrics_addr` says otherwise: loopback only, on a
/// port of its own, so the public listener behind the load balancer never shows it.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";

pub async fn run(mut config: Config) -> Result<(), Failure> {
    production_defaults(&mut config, std::env::var_os("XACTHUC_HOST").is_some());
    config.validate(Mode::Serve)?;
    observability::init_logging(config.log_format, &config.log_level, true);
    let listener = bind(config.listen_addr()?).await?;
    let metrics_listener = bind_metrics(&config).await?;
    let state = AppState::build(config.clone(), Mode::Serve).await.map_err(runtime)?;
    app::spawn_background_jobs(&state);
    tracing::info!(addr = %local_addr(&listener), metrics = %metrics_listener.as_ref().map(local_addr).unwrap_or_default(),
        issuer = %config.issuer, session_store = state.kv.backend_name(), "xacthuc serving");

    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let (stop_tx, stop_rx) = watch::channel(false);
    let metrics = spawn_metrics(metrics_listener, state.metrics.clone(), stop_rx, grace);
    let result = app::serve(listener, app::router(state.clone()), stop_on_signal(stop_tx), grace).await;
    if let Some(m) = metrics {
        let _ = m.await;
    }
    state.db.close().await;
    result.map_err(runtime)
}

/// Where production listens when the operator did not say: every interface for the service
/// (behind a load balancer it must listen beyond loopback), loopback for the metrics.
pub fn production_defaults(config: &mut Config, host_set_by_env: bool) {
    if config.host == Config::default().host && !host_set_by_env {
        config.host = "0.0.0.0".into();
    }
    config.metrics_addr.get_or_insert_with(|| DEFAULT_METRICS_ADDR.into());
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, Failure> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {addr}: {e} (is another instance running?)")))
}

/// The separate metrics listener, when `metrics_addr` is set.
pub async fn bind_metrics(config: &Config) -> Result<Option<TcpListener>, Failure> {
    match config.metrics_socket_addr()? {
        Some(addr) => bind(addr).await.map(Some),
        None => Ok(None),
    }
}

/// Serves `/metrics` alone on its own listener until `stop` turns true.
pub fn spawn_metrics(
    listener: Option<TcpListener>,
    handle: PrometheusHandle,
    stop: watch::Receiver<bool>,
    grace: Duration,
) -> Option<JoinHandle<std::io::Result<()>>> {
    let listener = listener?;
    Some(tokio::spawn(app::serve(listener, observability::metrics_router(handle), wait_stop(stop), grace)))
}

/// Waits for Ctrl-C or SIGTERM, then tells the other listeners to stop too.
pub async fn stop_on_signal(stop: watch::Sender<bool>) {
    app::shutdown_signal().await;
    let _ = stop.send(true);
}

pub async fn wait_stop(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

fn local_addr(listener: &TcpListener) -> String {
    listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_puts_metrics_on_their_own_loopback_port() {
        let mut c = Config::default();
        production_defaults(&mut c, false);
        assert_eq!(c.metrics_addr.as_deref(), Some(DEFAULT_METRICS_ADDR));
        assert_eq!(c.host, "0.0.0.0");
        let addr = c.metrics_socket_addr().unwrap().unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != c.port);

        let mut c = Config { metrics_addr: Some("10.0.0.5:9100".into()), ..Config::default() };
        production_defaults(&mut c, true);
        assert_eq!(c.metrics_addr.as_deref(), Some("10.0.0.5:9100"), "the operator's choice stands");
        assert_eq!(c.host, "127.0.0.1", "XACTHUC_HOST=127.0.0.1 stands");
    }
}
