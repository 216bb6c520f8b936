//! What can go wrong in an administrative operation, whoever asked (the API or the console):
//! the caller is unknown or not allowed, the directory refuses (not found, conflict, invalid),
//! or a store is down. Each face maps it to its own answer (JSON or a page).

use crate::officers::DirectoryError;
use crate::store::{DbError, KvError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No token, or not a live access token of this provider.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Kv(#[from] KvError),
}

impl From<DbError> for AdminError {
    fn from(e: DbError) -> Self {
        Self::Directory(DirectoryError::Db(e))
    }
}

impl AdminError {
    /// A refusal of the input, in the directory's terms.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Directory(DirectoryError::invalid(field, message))
    }
}
