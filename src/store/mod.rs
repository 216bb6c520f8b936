//! Ports and adapters for state: the database (durable) and the key-value store (short-lived,
//! with TTLs). Features are written once against these.

pub mod db;
pub mod keys;
pub mod kv;
pub mod settings;

pub use db::{Db, DbError, Dialect};
pub use kv::{Kv, KvError};
