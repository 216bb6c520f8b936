//! How a command fails: each failure carries its exit code. Shared by every command so that
//! none of them needs the command line that dispatches to it.

use std::process::ExitCode;

use crate::config::ConfigError;

/// Failures that end the process, each with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Exit 2: the configuration is wrong.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Exit 1: something failed at run time (a store, a listener).
    #[error("{0}")]
    Runtime(String),
    /// Exit 2: the command line is wrong.
    #[error("{0}")]
    Usage(String),
}

/// Wraps any displayable error as a run-time failure: `.map_err(runtime)`.
pub fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(e.to_string())
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Config(_) | Failure::Usage(_) => ExitCode::from(2),
            Failure::Runtime(_) => ExitCode::FAILURE,
        }
    }
}
