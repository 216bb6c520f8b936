//! Development mode (`cargo run`): everything on one machine with nothing installed: embedded
//! SQLite under `data/`, the in-process session store, the national-system mocks and the demo
//! portal. Built only with the `dev` feature; production runs `serve` (see `serve.rs`).

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use secrecy::SecretString;

use crate::app::{self, AppState};
use crate::config::{Config, DEV_KEY_MARKER, Mode};
use crate::dev_setup;
use crate::failure::{Failure, runtime};
use crate::observability;
use crate::serve::{bind, bind_metrics, spawn_metrics, stop_on_signal, wait_stop};

pub async fn run(mut config: Config) -> Result<(), Failure> {
    if config.database_url.is_none() {
        let path = config.data_dir.join("xacthuc.db");
        config.database_url = Some(SecretString::from(format!("sqlite://{}?mode=rwc", path.display())));
    }
    if config.master_key.is_none() {
        config.master_key = Some(dev_master_key(&config.keys_dir)?);
    }
    let client_jwk =
        dev_setup::use_mocks(&mut config).map_err(|e| Failure::Runtime(format!("e-ID client key: {e}")))?;
    config.validate(Mode::Dev)?;
    observability::init_logging(config.log_format, &config.log_level, false);

    let op_listener = bind(config.listen_addr()?).await?;
    let portal_listener = bind(std::net::SocketAddr::new(config.listen_addr()?.ip(), config.portal_port)).await?;
    // Development keeps `/metrics` on the main port unless `metrics_addr` is set.
    let metrics_listener = bind_metrics(&config).await?;
    // The mocks first: the mock CA writes its root and issuing certificates, which the
    // provider trusts for officers' certificates in development mode.
    let mocks = dev_setup::start_mocks(&config, client_jwk)
        .await
        .map_err(|e| Failure::Runtime(format!("starting the mocks: {e:#}")))?;
    let state = AppState::build(config.clone(), Mode::Dev).await.map_err(runtime)?;
    let backends = format!("{:?} database, {} session store", state.db.dialect(), state.kv.backend_name());
    app::spawn_background_jobs(&state);
    let officers = dev_setup::demo_officers(&state).await.map_err(Failure::Runtime)?;
    let portal_secret =
        dev_setup::register_portal(&state.db, &config, crate::clock::unix_now()).await.map_err(runtime)?;
    let portal_config = crate::portal::PortalConfig {
        issuer: config.issuer.clone(),
        base_url: format!("http://localhost:{}", config.portal_port),
        client_id: dev_setup::PORTAL_CLIENT_ID.into(),
        client_secret: portal_secret,
    };

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let metrics = spawn_metrics(metrics_listener, state.metrics.clone(), stop_rx.clone(), grace);
    let portal = tokio::spawn(app::serve(
        portal_listener,
        crate::portal::router(portal_config),
        wait_stop(stop_rx.clone()),
        grace,
    ));
    print_banner(&config, &backends, &officers);
    let result = app::serve(op_listener, app::router(state.clone()), stop_on_signal(stop_tx), grace).await;
    let _ = portal.await;
    if let Some(m) = metrics {
        let _ = m.await;
    }
    mocks.shutdown().await;
    state.db.close().await;
    result.map_err(runtime)
}

/// The development master key lives in `keys/` (ignored by git), made at first start. It carries
/// a marker so that `serve` refuses it.
fn dev_master_key(dir: &Path) -> Result<SecretString, Failure> {
    let path = dir.join("dev-master.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(SecretString::from(existing.trim().to_owned()));
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let key = format!("{DEV_KEY_MARKER}{}", base64::engine::general_purpose::STANDARD.encode(bytes));
    std::fs::create_dir_all(dir).map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", dir.display())))?;
    std::fs::write(&path, &key).map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(SecretString::from(key))
}

fn print_banner(config: &Config, backends: &str, officers: &str) {
    let host = "localhost";
    println!(
        "\nxacthuc is running in development mode ({backends}).\n\
         \n  Identity provider   {issuer}\n  Health              http://{host}:{port}/healthz  ·  /readyz  ·  {metrics}\n  Demo portal         http://{host}:{portal}/   <- open this to log in as a citizen\n\
         \n  Mock e-ID (VNeID)   http://{host}:{vneid}/\n  Mock population DB  http://{host}:{population}/\n  Mock Government CA  http://{host}:{ca}/\n\
         \n{demo}\nPress Ctrl-C to stop; in-flight requests are finished first. Data stays in {data}/ for the next start.\n",
        issuer = config.issuer,
        port = config.port,
        metrics = config.metrics_addr.as_deref().map_or("/metrics".to_string(), |a| format!("http://{a}/metrics")),
        portal = config.portal_port,
        data = config.data_dir.display(),
        vneid = config.mock_vneid_port,
        population = config.mock_population_port,
        ca = config.mock_gov_ca_port,
        demo = dev_setup::demo_identities_text() + officers,
    );
}
