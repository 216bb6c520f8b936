//! xacthuc: the identity and e-authentication service of a Vietnamese province.
//!
//! Layers run from the outside in: `web` (HTTP baseline) → feature modules → `store` (ports and
//! their adapters). `app` is the one place where they are wired together.

pub mod accounts;
pub mod app;
pub mod citizens;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dev;
pub mod dev_setup;
pub mod observability;
pub mod officers;
pub mod oidc;
pub mod portal;
pub mod store;
pub mod tokens;
pub mod web;
