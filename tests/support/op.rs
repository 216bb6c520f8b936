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
    pub mocks: Option<xacthuc_mocks::RunningMocks>,
    pub state: AppState,
    pub backend: Backend,
    /// The configuration the provider was built from (database, Redis prefix, master key).
    pub config: Config,
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
        Self::start_with_methods(backend, tweak, Vec::new()).await
    }

    /// With extra login methods registered next to the built-in ones.
    pub async fn start_with_methods(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        methods: Vec<app::MethodPlugin>,
    ) -> Option<Self> {
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
        let mocks = start_mocks(&mut config, port, dir.path()).await;
        tweak(&mut config);
        let state = AppState::build_with(config.clone(), Mode::Dev, methods).await.expect("build state");
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
        Some(Self {
            base: format!("http://127.0.0.1:{port}"),
            mocks: Some(mocks),
            state,
            backend,
            config,
            _dir: dir,
            pg,
            stop: Some(tx),
        })
    }

    /// Another instance on the same database and session store, as a second replica (or a
    /// restart) would be: it runs the whole start-up again but serves no HTTP.
    pub async fn another_instance(&self) -> AppState {
        AppState::build(self.config.clone(), Mode::Dev).await.expect("build another instance")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn vneid(&self) -> String {
        format!("http://127.0.0.1:{}", self.mocks.as_ref().map(|m| m.vneid.port()).unwrap_or_default())
    }

    pub fn population(&self) -> String {
        format!("http://127.0.0.1:{}", self.mocks.as_ref().map(|m| m.population.port()).unwrap_or_default())
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(m) = self.mocks.take() {
            m.shutdown().await;
        }
        if let Some(pg) = self.pg.take() {
            pg.drop_db().await;
        }
    }
}

/// The national-system mocks on free ports, with xacthuc registered at the e-ID for
/// private_key_jwt with a key made for this test.
///
/// A port found free may be taken by a parallel test before the mocks bind it: a few fresh
/// pairs are tried before giving up.
pub async fn start_mocks(config: &mut Config, op_port: u16, dir: &std::path::Path) -> xacthuc_mocks::RunningMocks {
    let mut last = None;
    for _ in 0..5 {
        match try_start_mocks(config, op_port, dir).await {
            Ok(m) => return m,
            Err(e) => last = Some(e),
        }
    }
    panic!("mocks: {:?}", last);
}

async fn try_start_mocks(
    config: &mut Config,
    op_port: u16,
    dir: &std::path::Path,
) -> anyhow::Result<xacthuc_mocks::RunningMocks> {
    let (vneid_port, population_port, ca_port) = (super::free_port(), super::free_port(), super::free_port());
    let key_path = dir.join("vneid-client.pem");
    let jwk = xacthuc::citizens::upstream::ClientKey::load_or_create(&key_path).expect("upstream key").public_jwk();
    let mut mocks = xacthuc_mocks::MocksConfig { data_dir: dir.join("mocks"), citizens: 2_000, ..Default::default() };
    mocks.vneid.issuer = format!("http://127.0.0.1:{vneid_port}");
    mocks.vneid.port = vneid_port;
    mocks.vneid.clients = vec![xacthuc_mocks::VneidClient {
        client_id: "xacthuc".into(),
        redirect_uris: vec![format!("http://127.0.0.1:{op_port}/callback/vneid")],
        client_secret: None,
        jwks: Some(serde_json::json!({ "keys": [jwk] })),
    }];
    mocks.population.port = population_port;
    mocks.population.api_keys = vec!["test-population-key".into()];
    mocks.gov_ca.port = ca_port;
    mocks.gov_ca.public_url = format!("http://127.0.0.1:{ca_port}");
    let ca_dir = mocks.data_dir.join("gov-ca");
    let running = xacthuc_mocks::start_all(mocks).await?;
    config.mock_gov_ca_port = ca_port;
    config.cert_ca_url = Some(format!("http://127.0.0.1:{ca_port}"));
    config.cert_trust_anchors = vec![ca_dir.join("root.pem")];
    config.cert_intermediates = vec![ca_dir.join("issuing.pem")];
    config.vneid_issuer = Some(format!("http://127.0.0.1:{vneid_port}"));
    config.vneid_client_key_file = Some(key_path);
    config.population_url = Some(format!("http://127.0.0.1:{population_port}"));
    config.population_api_key = Some("test-population-key".to_string().into());
    Ok(running)
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
