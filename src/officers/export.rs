//! CSV export of a unit subtree's officers, in the import format: importing an export changes
//! nothing. Written with a UTF-8 byte-order mark so spreadsheet programs show Vietnamese text
//! correctly (the import accepts it).

use std::collections::HashMap;

use super::directory::CHUNK;
use super::import::{COLUMNS, format_roles};
use super::{DirectoryError, Unit};
use crate::store::Db;

/// Every officer of `within`'s subtree, by username, with their roles at every relying party.
pub async fn export_csv(db: &Db, within: &Unit) -> Result<Vec<u8>, DirectoryError> {
    let codes: HashMap<String, String> = db.subtree(within, true).await?.into_iter().map(|u| (u.id, u.code)).collect();
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_err = |e: csv::Error| DirectoryError::invalid("export", e.to_string());
    out.write_record(COLUMNS).map_err(csv_err)?;
    let mut after = String::new();
    loop {
        let page = db.officers_in(within, &after, CHUNK as i64).await?;
        let Some(last) = page.last() else { break };
        after = last.username.clone();
        let ids: Vec<String> = page.iter().map(|o| o.id.clone()).collect();
        let roles = db.roles_of_officers(&ids).await?;
        for o in &page {
            let unit = codes.get(&o.unit_id).map(String::as_str).unwrap_or_default();
            let roles = roles.get(&o.id).map(format_roles).unwrap_or_default();
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            out.write_record([
                o.username.clone(),
                o.full_name.clone(),
                opt(&o.personal_id),
                opt(&o.email),
                opt(&o.phone),
                unit.to_owned(),
                opt(&o.position),
                roles,
            ])
            .map_err(csv_err)?;
        }
    }
    out.into_inner().map_err(|e| DirectoryError::invalid("export", e.to_string()))
}
