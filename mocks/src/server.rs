//! Serving a router on a bound listener with graceful shutdown.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A mock serving in the background. Dropping it leaves the server running; call
/// [`Running::shutdown`] to stop it and wait for in-flight requests.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

pub fn spawn(listener: TcpListener, app: axum::Router, name: &'static str) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(mock = name, error = %e, "server stopped");
        }
    });
    tracing::info!(mock = name, %addr, "listening");
    Ok(Running { addr, stop, task })
}
