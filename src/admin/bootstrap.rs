//! The first super administrator: `xacthuc admin bootstrap`. Without one nobody can use the
//! admin API, so this is the one way in that needs no token. No HTTP here.

use crate::officers::directory::AdminRole;
use crate::officers::setup::{SetupPurpose, setup_path};
use crate::officers::{DirectoryError, NewOfficer, NewUnit, Officer, Unit, UnitKind};
use crate::store::Db;

/// `xacthuc admin bootstrap`: the first super administrator, on the province's root unit.
#[derive(clap::Args, Debug, Clone)]
pub struct BootstrapArgs {
    /// The administrator's username (officer code; 3 to 64 of a-z, 0-9, '.', '_', '-'). An
    /// existing officer with this username is made super administrator instead.
    #[arg(long)]
    pub username: String,
    /// The administrator's full name (for a new officer).
    #[arg(long)]
    pub full_name: String,
    /// The administrator's email.
    #[arg(long)]
    pub email: Option<String>,
    /// Code of the province's root unit, created when no unit exists yet (e.g. 01 or HN).
    #[arg(long)]
    pub unit_code: Option<String>,
    /// Name of the province's root unit, created when no unit exists yet.
    #[arg(long)]
    pub unit_name: Option<String>,
    /// Proceed even though a super administrator already exists (e.g. every one lost access).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("a super administrator already exists; use --force to add another")]
    AlreadyBootstrapped,
    #[error("no unit exists yet: give --unit-code and --unit-name to create the province")]
    NoRoot,
    #[error("several root units exist; the province must be the only one")]
    SeveralRoots,
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

pub struct Bootstrapped {
    pub officer: Officer,
    pub root: Unit,
    /// Whether the root unit was created now.
    pub created_root: bool,
    /// The set-up link's path, relative to the issuer.
    pub setup_path: String,
}

/// Makes (or promotes) the super administrator and issues their one-time set-up link.
pub async fn bootstrap(db: &Db, a: &BootstrapArgs, now: i64) -> Result<Bootstrapped, BootstrapError> {
    if !a.force && db.super_admin_exists().await? {
        return Err(BootstrapError::AlreadyBootstrapped);
    }
    let roots = db.root_units().await?;
    let (root, created_root) = match roots.as_slice() {
        [only] => (only.clone(), false),
        [] => {
            let (Some(code), Some(name)) = (&a.unit_code, &a.unit_name) else { return Err(BootstrapError::NoRoot) };
            let new = NewUnit { code: code.clone(), name: name.clone(), kind: UnitKind::Province, parent_code: None };
            (db.create_unit(&new, now).await?, true)
        }
        _ => return Err(BootstrapError::SeveralRoots),
    };
    let officer = match db.officer_by_username(&a.username).await? {
        Some(o) => o,
        None => {
            let new = NewOfficer {
                username: a.username.clone(),
                full_name: a.full_name.clone(),
                email: a.email.clone(),
                unit_code: root.code.clone(),
                ..NewOfficer::default()
            };
            db.create_officer(&new, now).await?
        }
    };
    db.grant_admin(&officer.id, AdminRole::SuperAdmin, &root.id).await?;
    let purpose = if officer.has_password { SetupPurpose::Reset } else { SetupPurpose::Initial };
    let token = db.issue_setup_link(&officer.id, purpose, now).await?;
    Ok(Bootstrapped { officer, root, created_root, setup_path: setup_path(&token) })
}
