//! Officers (cán bộ, công chức): accounts by administrative unit, their roles per relying
//! party, administrators scoped to a unit subtree, and the claims services receive about them.
//! No HTTP here.
//!
//! - [`units`]: the unit tree (province → departments, agencies, communes, wards, special
//!   zones) with validity periods, renames and merges that keep the history.
//! - [`directory`]: officer accounts, their postings, roles and administrator grants.
//! - [`claims`]: the `officer` scope (unit, position, roles), read live so a rename or a move
//!   reaches every token issued afterwards.
//! - [`acr`]: the assurance levels of officer logins.
//! - [`import`], [`export`], [`bulk`]: bulk provisioning (CSV import and export, bulk moves,
//!   suspensions and resets), shared by the admin API and the CLI.
//! - [`auth`]: the officer login method (password, TOTP, WebAuthn, lockout); [`routes`] is
//!   its HTTP face (login steps, set-up links, the officer's security page).

pub mod acr;
pub mod auth;
pub mod bulk;
pub mod claims;
pub mod directory;
pub mod export;
pub mod import;
pub mod routes;
pub mod setup;
pub mod units;

pub use directory::{NewOfficer, Officer, OfficerStatus};
pub use units::{NewUnit, Unit, UnitChange, UnitKind};

/// What went wrong with a change to units or officers: a stable code and a message for the
/// admin API, never a database detail.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken (unit code, username, personal ID).
    #[error("{field} is already used")]
    Conflict { field: &'static str },
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The object is still in use (a unit with officers or child units cannot be dissolved).
    #[error("{0}")]
    InUse(&'static str),
    #[error(transparent)]
    Db(#[from] crate::store::DbError),
}

impl DirectoryError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    /// A stable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::InUse(_) => "in_use",
            Self::Invalid { .. } => "invalid",
            Self::Db(crate::store::DbError::Unavailable(_)) => "unavailable",
            Self::Db(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for DirectoryError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A unique-constraint violation, told apart from other database errors portably.
pub(crate) fn is_unique_violation(e: &crate::store::DbError) -> bool {
    let msg = e.to_string().to_ascii_lowercase();
    msg.contains("unique") || msg.contains("duplicate key")
}
