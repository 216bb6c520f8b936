//! A provider started in-process on a free port, on either backend pair: embedded (SQLite +
//! in-process store) or real (a PostgreSQL database of its own + Redis with its own prefix).
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use tokio::net::TcpListener;
use xacthuc::app::{self, AppState};
use xacthuc::config::{Config, Mode};

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Embedded,
    Real,
}

pub struct TestOp {
    pub base: String,
    pub state: AppState,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    pg: Option<super::PgDb>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestOp {
    /// None when the real backends are not configured (outside CI only).
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut config = Config {
            issuer: format!("http://127.0.0.1:{port}"),
            data_dir: dir.path().join("data"),
            keys_dir: dir.path().join("keys"),
            master_key: Some(base64::engine::general_purpose::STANDARD.encode([5u8; 32]).into()),
            ..Config::default()
        };
        let mut pg = None;
        match backend {
            Backend::Embedded => {
                config.database_url = Some(format!("sqlite://{}?mode=rwc", dir.path().join("op.db").display()).into());
            }
            Backend::Real => {
                let (Ok(_), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
                    super::skip_or_fail("DATABASE_URL and REDIS_URL are not both set");
                    return None;
                };
                let db = super::pg_db().await?;
                config.database_url = Some(db.url.clone().into());
                config.redis_url = Some(redis.into());
                config.redis_key_prefix = super::unique("t:") + ":";
                pg = Some(db);
            }
        }
        tweak(&mut config);
        let state = AppState::build(config, Mode::Dev).await.expect("build state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = app::router(state.clone());
        tokio::spawn(app::serve(
            listener,
            router,
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(1),
        ));
        Some(Self { base: format!("http://127.0.0.1:{port}"), state, backend, _dir: dir, pg, stop: Some(tx) })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(pg) = self.pg.take() {
            pg.drop_db().await;
        }
    }
}

/// A browser-like client that does not follow redirects, so tests can inspect each hop.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// Runs `$f(Backend)` on both backend pairs, as tests `<name>::embedded` and `<name>::real`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $f:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                $f(super::support::op::Backend::Embedded).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn real() {
                $f(super::support::op::Backend::Real).await
            }
        }
    };
}
