//! The one wiring place: shared state, the router of every feature, the middleware stack, and
//! the server loop with graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::audit::{Audit, LoginAudit};
use crate::citizens::routes::CitizenLogin;
use crate::citizens::upstream::ClientAuthConfig;
use crate::citizens::{self, PopulationClient, PopulationConfig, Upstream, UpstreamConfig};
use crate::config::{Config, Mode};
use crate::observability;
use crate::oidc::acr::Catalog;
use crate::oidc::claims::Scopes;
use crate::oidc::clients::ClientCache;
use crate::oidc::jwks_cache::JwksCache;
use crate::oidc::login::{LoginMethod, Registry};
use crate::oidc::provider::key_policy as oidc_key_policy;
use crate::oidc::{self, Provider};
use crate::store::kv::RedisKv;
use crate::store::{Db, Kv};
use crate::tokens::{KeyRing, MasterKey};
use crate::web::{self, health};

/// Everything a handler may need. Cheap to clone: all parts are shared handles.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub mode: Mode,
    pub db: Db,
    pub kv: Kv,
    pub metrics: PrometheusHandle,
    pub oidc: Provider,
    /// The audit log.
    pub audit: Audit,
    /// Citizen login through the national e-ID, when the national systems are configured.
    pub citizens: Option<CitizenLogin>,
    /// Officers' certificates: trust, CRLs, validation.
    pub certs: crate::certs::Validator,
    /// The certificate registry: register, request, renew, revoke, re-issue (over the CA).
    pub registry: crate::certs::Registry,
    /// Routes of login methods added by the embedding program (tests).
    extra_routes: Router,
}

/// A login method brought by the program that builds the app (a test, or a later feature):
/// its registration and its HTTP face, built once the provider exists.
pub struct MethodPlugin {
    pub method: LoginMethod,
    pub routes: fn(Provider) -> Router,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] crate::store::DbError),
    #[error(transparent)]
    Kv(#[from] crate::store::KvError),
    #[error("{0}")]
    Other(String),
}

impl AppState {
    /// Connects the stores named by `config` (in-process store when no Redis is configured)
    /// and applies migrations.
    pub async fn build(config: Config, mode: Mode) -> Result<Self, StartError> {
        Self::build_with(config, mode, Vec::new()).await
    }

    /// As [`AppState::build`], with extra login methods.
    pub async fn build_with(config: Config, mode: Mode, plugins: Vec<MethodPlugin>) -> Result<Self, StartError> {
        let url = config.database_url.as_ref().ok_or_else(|| StartError::Other("database_url is not set".into()))?;
        let db = Db::connect(
            url.expose_secret(),
            config.database_max_connections,
            Duration::from_millis(config.database_acquire_timeout_ms),
        )
        .await?;
        db.migrate().await?;
        if let Some(path) = &config.clients_file {
            let n = oidc::clients::load_file(&db, path, crate::clock::unix_now()).await.map_err(StartError::Other)?;
            tracing::info!(clients = n, "clients registered from clients_file");
        }
        let kv = match config.redis_target().map_err(|e| StartError::Other(e.to_string()))? {
            Some(target) => Kv::Redis(
                RedisKv::connect(&target, &config.redis_key_prefix, Duration::from_millis(config.redis_timeout_ms))
                    .await?,
            ),
            None => Kv::memory(),
        };
        let with_citizens = citizens_configured(&config);
        let audit = Audit::new(db.clone());
        let mut extensions = Extensions::register(&db, with_citizens, plugins.iter().map(|p| p.method.clone()));
        extensions.methods.observe(Arc::new(LoginAudit::new(audit.clone())));
        let oidc = build_provider(&config, mode, db.clone(), kv.clone(), extensions).await?;
        // The admin console is a client of this provider; its registration follows the issuer.
        let console = crate::admin::console::registration(&oidc.issuer);
        oidc.clients
            .save(&console, crate::clock::unix_now())
            .await
            .map_err(|e| StartError::Other(format!("admin console registration: {e}")))?;
        let citizens = if with_citizens { build_citizen_login(&config, &oidc)? } else { None };
        let certs = crate::certs::validator(&config, mode, kv.clone()).map_err(|e| StartError::Other(e.to_string()))?;
        let registry = crate::certs::registry(&config, mode, db.clone(), certs.clone());
        let extra_routes = plugins.iter().fold(Router::new(), |r, p| r.merge((p.routes)(oidc.clone())));
        Ok(Self {
            config: Arc::new(config),
            mode,
            db,
            kv,
            metrics: observability::metrics_handle(),
            oidc,
            audit,
            citizens,
            certs,
            registry,
            extra_routes,
        })
    }
}

/// What the features add to the provider: login methods, the `acr` values they produce or
/// that services may demand, and scopes. This is the one place they are registered.
struct Extensions {
    methods: Registry,
    acr: Catalog,
    scopes: Scopes,
}

impl Extensions {
    fn register(db: &Db, with_citizens: bool, extra: impl Iterator<Item = LoginMethod>) -> Self {
        let mut methods = Registry::default();
        let mut acr = Catalog::default();
        let mut scopes = Scopes::default();
        // Citizens and organisations: the national e-ID, the personal ID and an organisation's
        // data under scopes of their own, and which kind of account it was with every login.
        acr.register(citizens::login::CLASSES);
        scopes.register(citizens::login::personal_id_scope());
        scopes.register(citizens::login::organisation_scope());
        scopes.release_always(&[citizens::organisations::ACCOUNT_TYPE_CLAIM]);
        if with_citizens {
            methods.register(citizens::login::method());
        }
        // Officers' levels are known even before an officer method is registered, so a service
        // demanding an officer is never served a citizen.
        acr.register(crate::officers::acr::CLASSES);
        scopes.register(crate::officers::claims::officer_scope());
        scopes.register_source(Arc::new(crate::officers::claims::OfficerClaims { db: db.clone() }));
        methods.register(crate::officers::auth::method());
        acr.register(crate::officers::auth::PASSWORD_ONLY);
        // The officer's certificate: the strongest officer level (its class is among
        // `officers::acr::CLASSES`, registered above).
        methods.register(crate::certs::login::method());
        for m in extra {
            acr.register(m.classes);
            methods.register(m);
        }
        Self { methods, acr, scopes }
    }
}

fn citizens_configured(config: &Config) -> bool {
    config.vneid_issuer.is_some() && config.population_url.is_some()
}

/// Signing keys come from the database, decrypted with the master key; the first start makes
/// them. Pairwise subjects are salted with a per-installation secret kept in the database.
async fn build_provider(config: &Config, mode: Mode, db: Db, kv: Kv, ext: Extensions) -> Result<Provider, StartError> {
    let master = config
        .master_key_bytes()
        .map_err(|e| StartError::Other(e.to_string()))?
        .ok_or_else(|| StartError::Other("master_key is not set".into()))?;
    let master = MasterKey::from_bytes(&master).map_err(|e| StartError::Other(e.to_string()))?;
    let now = crate::clock::unix_now();
    let keys = KeyRing::ensure_keys(&db, master, oidc_key_policy(), now)
        .await
        .map_err(|e| StartError::Other(format!("signing keys: {e}")))?;
    let salt = oidc::provider::pairwise_salt(&db, &keys, now).await.map_err(|e| StartError::Other(e.to_string()))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| StartError::Other(e.to_string()))?;
    Ok(Provider {
        issuer: config.issuer.trim_end_matches('/').to_owned(),
        clients: ClientCache::new(db.clone(), Duration::from_secs(config.client_cache_ttl_secs)),
        db,
        kv,
        keys,
        client_jwks: JwksCache::default(),
        http,
        pairwise_salt: salt,
        secure_cookies: mode == Mode::Serve,
        session_ttl: Duration::from_secs(config.session_ttl_secs),
        code_ttl: Duration::from_secs(60),
        tx_ttl: Duration::from_secs(900),
        tx_limits: oidc::provider::TxLimits {
            max_bytes: config.login_tx_max_bytes,
            per_browser: config.login_tx_per_browser,
            per_ip: config.login_tx_per_ip,
        },
        client_address: client_address(config),
        methods: Arc::new(ext.methods),
        acr: Arc::new(ext.acr),
        scopes: Arc::new(ext.scopes),
    })
}

/// The e-ID relying party and the population client, from configuration. Nothing is
/// contacted here: discovery happens at the first login, so start-up does not depend on the
/// national systems being up.
fn build_citizen_login(config: &Config, oidc: &Provider) -> Result<Option<CitizenLogin>, StartError> {
    let (Some(issuer), Some(population_url)) = (&config.vneid_issuer, &config.population_url) else {
        return Ok(None);
    };
    let auth = match (&config.vneid_client_key_file, &config.vneid_client_secret) {
        (Some(path), _) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| StartError::Other(format!("vneid_client_key_file {}: {e}", path.display())))?;
            ClientAuthConfig::PrivateKeyJwt { private_key_pem: pem.into(), kid: None }
        }
        (None, Some(secret)) => ClientAuthConfig::ClientSecretPost { client_secret: secret.clone() },
        (None, None) => {
            return Err(StartError::Other("vneid_client_key_file or vneid_client_secret is required".into()));
        }
    };
    let redirect = format!("{}/callback/vneid", oidc.issuer);
    let upstream = Upstream::new(UpstreamConfig::new(issuer, &config.vneid_client_id, &redirect, auth))
        .map_err(|e| StartError::Other(format!("national e-ID: {e}")))?;
    let api_key = config.population_api_key.as_ref().map(|k| k.expose_secret().to_owned()).unwrap_or_default();
    let population = PopulationClient::new(PopulationConfig::new(population_url, &api_key))
        .map_err(|e| StartError::Other(format!("population database: {e}")))?;
    Ok(Some(CitizenLogin { oidc: oidc.clone(), upstream: Arc::new(upstream), population: Arc::new(population) }))
}

/// The identity provider's router with the full middleware stack.
pub fn router(state: AppState) -> Router {
    let hsts = state.mode == Mode::Serve && state.config.issuer.starts_with("https://");
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let body_limit = state.config.body_limit_bytes;
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(observability::main_port_metrics(&state.config, state.metrics.clone()))
        .fallback(web::error::not_found)
        .with_state(state.clone())
        .merge(oidc::routes::router().with_state(state.oidc.clone()))
        .merge(match state.citizens.clone() {
            Some(c) => citizens::routes::router().with_state(c),
            None => Router::new(),
        })
        .merge(verification_routes(&state))
        .merge(state.extra_routes.clone())
        .merge(officer_routes(&state))
        .merge(crate::certs::login_routes::router(crate::certs::login::CertLogin {
            oidc: state.oidc.clone(),
            certs: state.certs.clone(),
            mode: state.mode,
            lockout: crate::officers::auth::lockout::Policy::from_config(&state.config),
            audit: state.audit.clone(),
        }))
        .merge(crate::admin::router(
            state.oidc.clone(),
            crate::certs::routes::routes(crate::certs::routes::CertsApi {
                oidc: state.oidc.clone(),
                registry: state.registry.clone(),
            }),
        ))
        .merge(crate::admin::console::router(state.oidc.clone()))
        .merge(crate::certs::console::router(crate::certs::console::CertsConsole {
            oidc: state.oidc.clone(),
            registry: state.registry.clone(),
        }))
        .merge(crate::scim::router(state.oidc.clone(), body_limit))
        // Every route but signature verification (signed PDFs) takes the service's default.
        .layer(RequestBodyLimitLayer::new(body_limit))
        .merge(signature_routes(&state))
        // Inside the metrics and trace layers, so refusals are counted and logged like any answer.
        .layer(axum::middleware::from_fn_with_state(edge_limits(&state), web::rate_limit::check))
        .layer(axum::middleware::from_fn(observability::track_metrics))
        .layer(axum::middleware::from_fn(move |req, next| web::security::headers(hsts, req, next)))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::COOKIE,
                ]))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(observability::request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(web::error::panic_response))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout)),
        )
}

/// Per-address and per-client request limits on the protocol endpoints, counted in the shared
/// store.
fn edge_limits(state: &AppState) -> web::rate_limit::EdgeLimits {
    let c = &state.config;
    if c.client_ip_header.is_some() && c.trusted_proxies.is_empty() {
        tracing::warn!("client_ip_header is set but trusted_proxies is empty: the header is ignored");
    }
    web::rate_limit::EdgeLimits {
        kv: state.kv.clone(),
        address: client_address(c),
        window_secs: c.rate_limit_window_secs.max(1),
        page_per_ip: c.rate_limit_page_per_ip,
        api_per_ip: c.rate_limit_api_per_ip,
        per_client: c.rate_limit_per_client,
        body_limit: c.body_limit_bytes,
    }
}

/// One rule for the client address everywhere: the peer, or what a trusted proxy says.
fn client_address(c: &Config) -> web::client_addr::ClientAddress {
    web::client_addr::ClientAddress::new(c.client_ip_header.as_deref(), c.trusted_proxy_nets())
}

/// Population-data verification for counters and forms: it needs the population database,
/// which the citizen login configures.
fn verification_routes(state: &AppState) -> Router {
    match &state.citizens {
        Some(c) => crate::verification::routes::router(crate::verification::Verification {
            oidc: state.oidc.clone(),
            population: c.population.clone(),
            audit: state.audit.clone(),
            limits: crate::verification::Limits::default(),
        }),
        None => Router::new(),
    }
}

/// Signed-document verification for relying parties (its own body and time limits).
fn signature_routes(state: &AppState) -> Router {
    crate::certs::signature_routes::router(crate::certs::signatures::SignatureVerifier {
        oidc: state.oidc.clone(),
        certs: state.certs.clone(),
        audit: state.audit.clone(),
        per_minute: 600,
    })
}

/// The officer login's pages; without them (parameters refused) the method's button leads to
/// the not-found page, and start-up validation has already refused such parameters.
fn officer_routes(state: &AppState) -> Router {
    match crate::officers::auth::OfficerAuth::new(&state.config, state.mode, state.oidc.clone(), state.audit.clone()) {
        Ok(auth) => crate::officers::routes::router(auth),
        Err(e) => {
            tracing::error!(error = %e, "officer login disabled");
            Router::new()
        }
    }
}

/// Serves `app` until `shutdown` resolves, then lets in-flight requests finish (bounded by
/// `grace`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let server = web::server::run(listener, app, async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    tokio::select! {
        r = server => r,
        _ = async move {
            let _ = rx.wait_for(|v| *v).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("in-flight requests did not finish within the shutdown grace period");
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// The jobs every instance runs beside its listeners: key reloads and rotation, and the purge
/// of expired rows.
pub fn spawn_background_jobs(state: &AppState) {
    let c = &state.config;
    oidc::key_schedule::spawn(
        state.oidc.clone(),
        Duration::from_secs(c.key_reload_secs),
        Duration::from_secs(c.key_rotation_days * 86_400),
    );
    oidc::purge::spawn(state.db.clone(), Duration::from_secs(3600));
    crate::provisioning::deliver::spawn(state.oidc.clone(), Duration::from_secs(5));
    crate::certs::crl::spawn_refresh(state.certs.crl().clone(), Duration::from_secs(c.cert_crl_refresh_secs.max(60)));
    crate::certs::expiry::spawn(
        state.registry.clone(),
        c.cert_expiry_notify_days,
        Duration::from_secs(c.cert_expiry_check_secs),
        Arc::new(crate::certs::expiry::LogNotifier),
    );
    // Re-issue jobs interrupted by a stop continue (safe alongside another instance doing the
    // same: see certs::reissue).
    let registry = state.registry.clone();
    tokio::spawn(async move {
        for id in registry.unfinished_jobs().await.unwrap_or_default() {
            if let Err(e) = registry.run_reissue(&id, None, &|_, _| {}).await {
                tracing::error!(job = %id, error = %e, "certificate re-issue job stopped");
            }
        }
    });
}

/// The readiness probe sees only the stores it checks.
impl FromRef<AppState> for health::Readiness {
    fn from_ref(state: &AppState) -> Self {
        health::Readiness { db: state.db.clone(), kv: state.kv.clone() }
    }
}
