//! Stand-ins for the national systems xacthuc cannot reach (see `mocks/README.md`):
//! - [`vneid`]: a VNeID-like OpenID Connect provider;
//! - [`population`]: the population database (CSDLQGVDC) behind the provincial platform;
//! - [`gov_ca`]: the Government CA for specialised public-service signatures;
//! - [`citizens`]: the deterministic synthetic population all of them share.
//!
//! Every mock is a library (`router`/`start`) so tests and `xacthuc dev` run them in-process;
//! [`start_all`] starts the three together on one shared population.

pub mod all;
pub mod citizens;
pub mod faults;
pub mod gov_ca;
pub mod population;
mod server;
pub mod vneid;

pub use all::{MocksConfig, RunningMocks, start_all};
pub use citizens::{DemoCase, DemoCitizen, demo_citizens};
pub use gov_ca::GovCaConfig;
pub use population::PopulationConfig;
pub use server::Running;
pub use vneid::{VneidClient, VneidConfig};
