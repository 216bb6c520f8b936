//! The HTTP baseline shared by every feature: the error type, security headers and health.

pub mod client_addr;
pub mod error;
pub mod health;
pub mod page;
pub mod rate_limit;
pub mod security;
pub mod service_auth;

pub use error::ApiError;
