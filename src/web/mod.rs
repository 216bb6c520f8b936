//! The HTTP baseline shared by every feature: the error type, security headers, health and the
//! connection loop.

pub mod client_addr;
pub mod error;
pub mod health;
pub mod page;
pub mod rate_limit;
pub mod security;
pub mod server;
pub mod service_auth;

pub use error::ApiError;
