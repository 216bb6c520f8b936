//! The OpenID Connect provider: protocol only. It knows nothing of VNeID or officers: an
//! authentication method reports who the user is, at which `acr`, with which `amr`, through
//! [`flow::complete_login`].

pub mod account;
pub mod acr;
pub mod claims;
pub mod client_auth;
pub mod clients;
pub mod consent;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod flow;
pub mod grants;
pub mod jwks_cache;
pub mod key_schedule;
pub mod logout;
pub mod mint;
pub mod pages;
pub mod par;
pub mod provider;
pub mod purge;
pub mod request;
pub mod resource;
pub mod routes;
pub mod session;
pub mod token;

// The old name of `extract`, until `routes.rs` imports it by the new one.
pub(crate) use extract as wire;
pub use provider::Provider;
