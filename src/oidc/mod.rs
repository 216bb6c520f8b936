//! The OpenID Connect provider: protocol only. It knows no particular login method: methods
//! registered in `app.rs` (see [`login`]) report who the user is, at which `acr`, with which
//! `amr`, and the provider does the rest.

pub mod acr;
pub mod claims;
pub mod client_auth;
pub mod client_spec;
pub mod clients;
pub mod consent;
pub mod discovery;
pub mod dpop;
pub mod encryption;
pub mod error;
pub mod extract;
pub mod fapi2;
pub mod flow;
pub mod grants;
pub mod jwks_cache;
pub mod key_schedule;
pub mod login;
pub mod logout;
pub mod mint;
pub mod par;
pub mod provider;
pub mod purge;
pub mod request;
pub mod resource;
pub mod routes;
pub mod sealed;
pub mod service;
pub mod session;
pub mod texts;
pub mod token;
pub mod tx;

// The old name of `extract`, until `routes.rs` imports it by the new one.
pub use provider::Provider;
