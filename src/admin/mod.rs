//! The administration API: units, officers, their roles and admin grants, relying-party
//! clients and sessions, under `/admin/api` with an OpenAPI 3.1 document.
//!
//! - [`authz`]: who the caller is and what they may touch (no HTTP).
//! - [`store`]: the directory queries the API adds (no HTTP).
//! - [`ops`]: every operation, checked and audited (no HTTP), shared by both faces:
//!   `routes`, the JSON API, and [`openapi`], its document's shared parts; [`console`], the
//!   server-rendered admin pages.
//! - [`restriction`]: automation clients restricted to a unit subtree (no HTTP).
//! - [`bootstrap`]: the first super administrator (`xacthuc admin bootstrap`).

pub mod authz;
pub mod bootstrap;
pub mod console;
pub mod error;
pub mod openapi;
pub mod ops;
pub mod restriction;
mod routes;
pub mod store;

pub use routes::{Admin, ApiError, ApiResult, BASE, Body, PathOf, QueryOf, router};
