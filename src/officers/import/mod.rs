//! CSV import of officers: every row is checked first (the directory's validation, units and
//! their currency, the caller's scope, duplicates inside the file, personal IDs held by other
//! accounts) and every problem reported with its line number; then the changes are applied in
//! batches, each in one transaction, with lookups in bulk so 10,000 rows take seconds.
//! Importing the same file again changes nothing. New officers get one-time set-up links,
//! never a password.

mod apply;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::bulk::Scope;
use super::directory::{RolesByClient, validate};
use super::{DirectoryError, NewOfficer, Unit};
use crate::store::Db;

/// The columns of an import (and export) file, in the order an export writes them.
pub const COLUMNS: [&str; 8] =
    ["username", "full_name", "personal_id", "email", "phone", "unit_code", "position", "roles"];

/// A bound on one file: larger imports are split by the operator (memory stays bounded).
pub const MAX_ROWS: usize = 100_000;

/// Rows applied per transaction.
const BATCH: usize = 500;

/// The `field` of the error that says a batch failed while being applied (a database failure,
/// or another writer taking a username meanwhile) after earlier batches were committed.
pub const BATCH_FAILED: &str = "batch";

#[derive(Clone, Copy, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ImportOptions {
    /// Apply the valid rows even if others have errors.
    pub partial: bool,
    /// Validate only.
    pub dry_run: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The line in the file (the header is row 1).
    pub row: usize,
    /// A column name, or `row` / `header` for the line as a whole.
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    /// Among valid rows: officers created, updated and already as the file says (when
    /// `applied` is false these say what would happen).
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<RowError>,
    /// Whether rows were applied. With an error on field [`BATCH_FAILED`], only the rows
    /// before it were.
    pub applied: bool,
    /// (username, token) of each new officer's set-up link: shown once, never logged.
    #[serde(skip)]
    #[schema(ignore)]
    pub setup_links: Vec<(String, String)>,
}

impl ImportReport {
    /// What the audit log keeps of an applied import: the file's hash and the counts, never
    /// the rows (personal data) or the set-up links.
    pub fn audit_detail(&self, csv: &[u8], partial: bool) -> serde_json::Value {
        serde_json::json!({
            "file_sha256": crate::crypto::sha256_hex_bytes(csv),
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors.len(),
            "partial": partial,
        })
    }
}

/// `client:role;client:role` → roles per client. `client:` alone names the client with no
/// roles, which clears that client's roles.
pub fn parse_roles(s: &str) -> Result<RolesByClient, String> {
    let mut out = RolesByClient::new();
    for item in s.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((client, role)) = item.split_once(':') else {
            return Err(format!("{item:?} is not client:role"));
        };
        let (client, role) = (client.trim(), role.trim());
        if client.is_empty() || client.len() > 255 || role.len() > 64 {
            return Err(format!("{item:?}: a client id and a role of at most 64 characters"));
        }
        let roles = out.entry(client.to_owned()).or_default();
        if !role.is_empty() {
            roles.insert(role.to_owned());
        }
    }
    Ok(out)
}

/// The inverse of [`parse_roles`], sorted, so an export is stable.
pub fn format_roles(roles: &RolesByClient) -> String {
    let items: Vec<String> = roles.iter().flat_map(|(c, rs)| rs.iter().map(move |r| format!("{c}:{r}"))).collect();
    items.join(";")
}

/// A row that passed every check.
pub(crate) struct Valid {
    pub line: usize,
    pub officer: NewOfficer,
    pub unit_id: String,
    pub roles: RolesByClient,
}

impl Plan {
    fn line(&self) -> usize {
        match self {
            Plan::Create(v) | Plan::Update { row: v, .. } => v.line,
        }
    }
}

/// What a valid row does.
pub(crate) enum Plan {
    Create(Valid),
    /// `id`: the existing officer's.
    Update {
        row: Valid,
        id: String,
        moved: bool,
        renamed: bool,
        clients: Vec<String>,
    },
}

fn err(errors: &mut Vec<RowError>, row: usize, field: &str, message: impl Into<String>) {
    errors.push(RowError { row, field: field.to_owned(), message: message.into() });
}

/// A candidate row: the typed officer (not yet validated) and its raw roles.
struct Raw {
    line: usize,
    officer: NewOfficer,
    roles: String,
}

/// Reads the file: header checks and one [`Raw`] per data row. `None` when the header is
/// unusable (its errors are in `errors`).
fn read(csv: &[u8], errors: &mut Vec<RowError>) -> Option<Vec<Raw>> {
    let data = csv.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            err(errors, 1, "header", format!("unreadable header: {e}"));
            return None;
        }
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let mut index = [0usize; COLUMNS.len()];
    for (i, col) in COLUMNS.iter().enumerate() {
        match names.iter().position(|n| n == col) {
            Some(p) => index[i] = p,
            None => err(errors, 1, col, "missing column"),
        }
    }
    let mut seen = HashSet::new();
    for n in &names {
        if !COLUMNS.contains(&n.as_str()) {
            err(errors, 1, n, "unknown column");
        } else if !seen.insert(n) {
            err(errors, 1, n, "column given twice");
        }
    }
    if !errors.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e.position().map(|p| p.line() as usize).unwrap_or(line);
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    err(errors, at, "row", "not valid UTF-8 (save the file as UTF-8)");
                    rows.push(Raw { line: at, officer: NewOfficer::default(), roles: String::new() });
                    continue;
                }
                err(errors, at, "row", format!("unreadable: {e}"));
                return Some(rows);
            }
        }
        let line = record.position().map(|p| p.line() as usize).unwrap_or(line);
        if rows.len() == MAX_ROWS {
            err(errors, line, "row", format!("more than {MAX_ROWS} rows: split the file"));
            return None;
        }
        if record.len() != names.len() {
            err(errors, line, "row", format!("{} fields, the header has {}", record.len(), names.len()));
            rows.push(Raw { line, officer: NewOfficer::default(), roles: String::new() });
            continue;
        }
        let field = |i: usize| record.get(index[i]).unwrap_or_default().to_owned();
        let optional = |i: usize| Some(field(i)).filter(|s| !s.trim().is_empty());
        rows.push(Raw {
            line,
            officer: NewOfficer {
                username: field(0),
                full_name: field(1),
                personal_id: optional(2),
                email: optional(3),
                phone: optional(4),
                unit_code: field(5),
                position: optional(6),
            },
            roles: field(7),
        });
    }
    Some(rows)
}

/// Every check that needs no officer lookup: the directory's validation, the unit (known,
/// current, inside the scope), the roles. Rows already marked bad by `read` are skipped.
fn check(raw: Vec<Raw>, scope: &Scope, errors: &mut Vec<RowError>) -> Vec<Valid> {
    let bad: HashSet<usize> = errors.iter().map(|e| e.row).collect();
    let mut out = Vec::new();
    for r in raw.into_iter().filter(|r| !bad.contains(&r.line)) {
        let before = errors.len();
        let officer = validate(&r.officer).map_err(|e| match e {
            DirectoryError::Invalid { field, message } => err(errors, r.line, field, message),
            other => err(errors, r.line, "row", other.to_string()),
        });
        let unit = scope.target(&r.officer.unit_code).map_err(|m| err(errors, r.line, "unit_code", m));
        let roles = parse_roles(&r.roles).map_err(|m| err(errors, r.line, "roles", m));
        if let (Ok(officer), Ok(unit), Ok(roles)) = (officer, unit, roles)
            && errors.len() == before
        {
            out.push(Valid { line: r.line, officer, unit_id: unit.id.clone(), roles });
        }
    }
    out
}

/// The same value on several rows: an error on each of them, naming the others. Checked on
/// every row, valid or not, so that fixing one error does not reveal another.
fn duplicates(rows: &[Raw], key: impl Fn(&NewOfficer) -> Option<String>, field: &str, errors: &mut Vec<RowError>) {
    let mut lines: HashMap<String, Vec<usize>> = HashMap::new();
    for r in rows {
        if let Some(k) = key(&r.officer).filter(|k| !k.is_empty()) {
            lines.entry(k).or_default().push(r.line);
        }
    }
    for group in lines.values().filter(|g| g.len() > 1) {
        for &line in group {
            let others: Vec<String> = group.iter().filter(|&&l| l != line).map(|l| l.to_string()).collect();
            err(errors, line, field, format!("also on row {}", others.join(", ")));
        }
    }
}

/// Usernames and personal IDs given on several rows of the file.
fn file_duplicates(raw: &[Raw]) -> Vec<RowError> {
    let mut dups = Vec::new();
    duplicates(raw, |o| Some(o.username.trim().to_lowercase()), "username", &mut dups);
    // Keyed as stored (parsed), so two spellings of one ID are caught here, not by the database.
    let pid =
        |p: &str| vn_identity::PersonalId::parse(p.trim()).map_or(p.trim().to_owned(), |id| id.as_str().to_owned());
    duplicates(raw, |o| o.personal_id.as_deref().map(pid), "personal_id", &mut dups);
    dups
}

/// Every check of a file that needs no database: its structure, each row's fields and roles,
/// duplicates inside it (with no unit known, so every row also fails on its unit). Public for
/// the fuzzer (`fuzz/fuzz_targets/officer_csv.rs`): an uploaded file reaches these parsers
/// before any lookup.
pub fn offline_errors(csv: &[u8]) -> Vec<RowError> {
    let mut errors = Vec::new();
    let Some(raw) = read(csv, &mut errors) else { return errors };
    let dups = file_duplicates(&raw);
    let scope = Scope { by_code: HashMap::new(), by_id: HashMap::new(), limited: false };
    check(raw, &scope, &mut errors);
    errors.extend(dups);
    errors
}

/// Checks against the directory (in bulk) and decides what each valid row does.
async fn plan(
    db: &Db,
    rows: Vec<Valid>,
    scope: &Scope,
    errors: &mut Vec<RowError>,
) -> Result<(Vec<Plan>, usize), DirectoryError> {
    let before = errors.len();
    let usernames: Vec<String> = rows.iter().map(|r| r.officer.username.clone()).collect();
    let existing = db.officers_by_usernames(&usernames).await?;
    let ids: Vec<String> = rows.iter().filter_map(|r| r.officer.personal_id.clone()).collect();
    let holders = db.officers_by_personal_ids(&ids).await?;
    for r in &rows {
        let line = r.line;
        if let Some(o) = existing.get(&r.officer.username)
            && !scope.by_id.contains_key(&o.unit_id)
        {
            err(errors, line, "username", "taken by an officer outside your units");
        }
        if let Some(h) = r.officer.personal_id.as_ref().and_then(|p| holders.get(p))
            && h.username != r.officer.username
        {
            err(errors, line, "personal_id", "already used by another officer");
        }
    }
    let bad: HashSet<usize> = errors[before..].iter().map(|e| e.row).collect();
    let existing_ids: Vec<String> = existing.values().map(|o| o.id.clone()).collect();
    let mut roles = db.roles_of_officers(&existing_ids).await?;
    let (mut plans, mut unchanged) = (Vec::new(), 0);
    for row in rows.into_iter().filter(|r| !bad.contains(&r.line)) {
        let Some(o) = existing.get(&row.officer.username) else {
            plans.push(Plan::Create(row));
            continue;
        };
        let current = roles.remove(&o.id).unwrap_or_default();
        let clients: Vec<String> = row
            .roles
            .iter()
            .filter(|(c, rs)| current.get(*c).map_or(!rs.is_empty(), |cur| cur != *rs))
            .map(|(c, _)| c.clone())
            .collect();
        let n = &row.officer;
        let moved = o.unit_id != row.unit_id || o.position != n.position;
        let renamed = o.full_name != n.full_name;
        let details = o.personal_id != n.personal_id || o.email != n.email || o.phone != n.phone;
        if moved || renamed || details || !clients.is_empty() {
            plans.push(Plan::Update { row, id: o.id.clone(), moved, renamed, clients });
        } else {
            unchanged += 1;
        }
    }
    Ok((plans, unchanged))
}

/// Imports officers from a CSV file (see [`COLUMNS`]). `within`: a unit administrator's
/// subtree; every row's unit and every updated officer must lie inside it. `progress` is
/// called with (rows applied, rows to apply) after each batch.
pub async fn import_csv(
    db: &Db,
    csv: &[u8],
    opts: &ImportOptions,
    within: Option<&Unit>,
    now: i64,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ImportReport, DirectoryError> {
    let mut report = ImportReport::default();
    let Some(raw) = read(csv, &mut report.errors) else { return Ok(report) };
    report.rows = raw.len();
    let scope = Scope::load(db, within).await?;
    let dups = file_duplicates(&raw);
    let mut valid = check(raw, &scope, &mut report.errors);
    let dup_rows: HashSet<usize> = dups.iter().map(|e| e.row).collect();
    valid.retain(|v| !dup_rows.contains(&v.line));
    report.errors.extend(dups);
    let (plans, unchanged) = plan(db, valid, &scope, &mut report.errors).await?;
    report.errors.sort_by_key(|e| e.row);
    report.unchanged = unchanged;
    report.created = plans.iter().filter(|p| matches!(p, Plan::Create(_))).count();
    report.updated = plans.len() - report.created;
    if opts.dry_run || (!report.errors.is_empty() && !opts.partial) {
        return Ok(report);
    }
    progress(0, plans.len());
    let mut done = 0;
    report.applied = true;
    for batch in plans.chunks(BATCH) {
        match apply::apply(db, batch, now).await {
            Ok(links) => report.setup_links.extend(links),
            Err(e) if done == 0 => return Err(e),
            // Earlier batches are committed and their links issued: report them rather than
            // lose the links. Re-importing the file finishes the job (rows already applied
            // are unchanged).
            Err(e) => {
                let row = batch.first().map_or(0, |p| p.line());
                let message = format!(
                    "{e}; from this row on nothing was applied, the {done} rows before were: import the file again to finish"
                );
                report.errors.push(RowError { row, field: BATCH_FAILED.into(), message });
                return Ok(report);
            }
        }
        done += batch.len();
        progress(done, plans.len());
    }
    Ok(report)
}
