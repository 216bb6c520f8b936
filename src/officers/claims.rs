//! What relying parties learn about an officer, under the `officer` scope and apart from citizen
//! claims: the unit (code and name), the position, and the officer's roles at that relying
//! party only. Read live, so a unit rename or an officer's move reaches every token issued
//! after it, with no re-login.

use serde_json::{Map, Value, json};

use super::DirectoryError;
use crate::oidc::claims::{ActiveFuture, ClaimSource, ClaimsFuture, Scope};
use crate::store::{Db, DbError};
use crate::web::page::Text;

pub const OFFICER_SCOPE: &str = "officer";
/// The provider's account kind for officers.
pub const ACCOUNT_KIND: &str = "officer";

pub fn officer_scope() -> Scope {
    Scope {
        name: OFFICER_SCOPE,
        claims: &["unit", "position", "roles"],
        describe: Some(Text::new("Đơn vị, chức vụ và vai trò của cán bộ", "Your unit, position and roles")),
        always_consent: false,
    }
}

/// Reads officer claims from the directory.
pub struct OfficerClaims {
    pub db: Db,
}

impl OfficerClaims {
    async fn read(&self, account_id: &str, client_id: &str) -> Result<Map<String, Value>, DirectoryError> {
        let mut out = Map::new();
        let Some(o) = self.db.officer(account_id).await? else { return Ok(out) };
        if let Some(unit) = self.db.unit(&o.unit_id).await? {
            out.insert("unit".into(), json!({ "code": unit.code, "name": unit.name }));
        }
        if let Some(p) = o.position {
            out.insert("position".into(), json!(p));
        }
        out.insert("roles".into(), json!(self.db.officer_roles(account_id, client_id).await?));
        out.insert("name".into(), json!(o.full_name));
        Ok(out)
    }
}

impl ClaimSource for OfficerClaims {
    fn kind(&self) -> &'static str {
        ACCOUNT_KIND
    }

    fn claims<'a>(&'a self, account_id: &'a str, client_id: &'a str) -> ClaimsFuture<'a> {
        Box::pin(async move { self.read(account_id, client_id).await.map_err(db_error) })
    }

    /// Only an active officer is served; a suspended or disabled one (by the API, the console,
    /// the CLI or SQL) loses sessions and tokens at their next use.
    fn active<'a>(&'a self, account_id: &'a str) -> ActiveFuture<'a> {
        Box::pin(async move {
            let officer = self.db.officer(account_id).await.map_err(db_error)?;
            Ok(officer.is_some_and(|o| o.status == super::OfficerStatus::Active))
        })
    }
}

fn db_error(e: DirectoryError) -> DbError {
    match e {
        DirectoryError::Db(d) => d,
        other => DbError::Query(other.to_string()),
    }
}
