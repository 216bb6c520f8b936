//! xacthuc: the identity and e-authentication service of a Vietnamese province.
//!
//! Layers run from the outside in: `web` (HTTP baseline) → feature modules → `store` (ports and
//! their adapters). `app` is the one place where they are wired together.
//!
//! The `dev` feature (on by default) adds development mode: the national-system mocks and the
//! demo portal. Production builds leave it out (`--no-default-features`).

pub mod accounts;
pub mod admin;
pub mod app;
pub mod audit;
pub mod certs;
pub mod certs_cli;
pub mod citizens;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod crypto;
#[cfg(feature = "dev")]
pub mod dev;
#[cfg(feature = "dev")]
pub mod dev_setup;
pub mod failure;
pub mod observability;
pub mod officers;
pub mod officers_cli;
pub mod oidc;
#[cfg(feature = "dev")]
pub mod portal;
pub mod provisioning;
pub mod scim;
pub mod serve;
pub mod store;
pub mod tokens;
pub mod verification;
pub mod web;
