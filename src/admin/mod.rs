//! The administration API: units, officers, their roles and admin grants, relying-party
//! clients and sessions, under `/admin/api` with an OpenAPI 3.1 document.
//!
//! - [`authz`]: who the caller is and what they may touch (no HTTP).
//! - [`store`]: the directory queries the API adds (no HTTP).
//! - `routes`: the HTTP face; [`openapi`]: the document's shared parts.
//! - [`bootstrap`]: the first super administrator (`xacthuc admin bootstrap`).

pub mod authz;
pub mod bootstrap;
pub mod openapi;
mod routes;
pub mod store;

pub use routes::{BASE, router};
