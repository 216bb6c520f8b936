//! Starting every mock together, as `xacthuc dev` and `xacthuc-mocks all` do.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::citizens::Population;
use crate::gov_ca::GovCaConfig;
use crate::population::PopulationConfig;
use crate::server::Running;
use crate::vneid::VneidConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MocksConfig {
    /// Persistent state: the e-ID signing key (`vneid/`) and the CA (`gov-ca/`).
    pub data_dir: PathBuf,
    /// Address to bind all mocks on.
    pub bind: std::net::IpAddr,
    pub vneid: VneidConfig,
    pub population: PopulationConfig,
    pub gov_ca: GovCaConfig,
    /// Seed of the synthetic population (same seed, same citizens).
    pub seed: u64,
    /// Number of synthetic citizens (the demo citizens are always included).
    pub citizens: usize,
}

impl Default for MocksConfig {
    fn default() -> Self {
        MocksConfig {
            data_dir: PathBuf::from("./data/mocks"),
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            vneid: VneidConfig::default(),
            population: PopulationConfig::default(),
            gov_ca: GovCaConfig::default(),
            seed: 2025,
            citizens: 100_000,
        }
    }
}

/// The three mocks, serving in the background.
#[derive(Debug)]
pub struct RunningMocks {
    pub vneid: SocketAddr,
    pub population: SocketAddr,
    pub gov_ca: SocketAddr,
    servers: Vec<Running>,
}

impl RunningMocks {
    /// Stops all three and waits for in-flight requests to finish.
    pub async fn shutdown(self) {
        for s in self.servers {
            s.shutdown().await;
        }
    }
}

/// Generates the population once, binds the three listeners (port 0 picks a free port) and
/// spawns the servers. Returns as soon as they accept connections.
pub async fn start_all(mut cfg: MocksConfig) -> anyhow::Result<RunningMocks> {
    let (seed, count) = (cfg.seed, cfg.citizens);
    let population = Arc::new(
        tokio::task::spawn_blocking(move || Population::generate(seed, count)).await.context("generating citizens")?,
    );
    if cfg.vneid.key_dir.is_none() {
        cfg.vneid.key_dir = Some(cfg.data_dir.join("vneid"));
    }
    if cfg.gov_ca.data_dir.is_none() {
        cfg.gov_ca.data_dir = Some(cfg.data_dir.join("gov-ca"));
    }
    let bind = |port: u16| {
        let addr = SocketAddr::new(cfg.bind, port);
        async move { TcpListener::bind(addr).await.with_context(|| format!("binding {addr}")) }
    };
    let (l1, l2, l3) = (bind(cfg.vneid.port).await?, bind(cfg.population.port).await?, bind(cfg.gov_ca.port).await?);
    let vneid = crate::vneid::start(cfg.vneid, population.clone(), l1).await?;
    let pop = crate::population::start(cfg.population, population, l2).await?;
    let ca = crate::gov_ca::start(cfg.gov_ca, l3).await?;
    Ok(RunningMocks { vneid: vneid.addr, population: pop.addr, gov_ca: ca.addr, servers: vec![vneid, pop, ca] })
}
