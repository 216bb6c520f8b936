//! The audit log's SQL, written once for SQLite and PostgreSQL. The one dialect difference is
//! how an append takes the chain's head: PostgreSQL locks the `audit_head` row
//! (`SELECT … FOR UPDATE`), SQLite takes the database's write lock when the transaction begins
//! (`BEGIN IMMEDIATE`). Either way, writers on every instance append one at a time, each
//! reading the head another has just committed, so `seq` stays dense and the chain one line.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Row, Transaction};

use super::chain::{self, Walker};
use super::{AuditFilter, Entry, Event, Page, VerifyReport};
use crate::store::{Db, DbError, Dialect};

/// Most entries one query returns.
pub const MAX_PAGE: u32 = 500;

/// Entries read per round trip while verifying: memory stays bounded whatever the log's size.
const VERIFY_BATCH: i64 = 1000;

const HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
const HEAD_LOCKED: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";

const COLUMNS: &str = "seq, at, actor, action, object_type, object_id, unit_id, ip, detail, prev_hash, hash";

pub(super) async fn begin(db: &Db) -> Result<Transaction<'static, Any>, DbError> {
    Ok(match db.dialect() {
        Dialect::Sqlite => db.pool().begin_with("BEGIN IMMEDIATE").await?,
        Dialect::Postgres => db.pool().begin().await?,
    })
}

/// Objects that may be officers: an entry about one is tagged with the officer's unit at the
/// time, so a unit administrator can read what concerns their subtree (officers move later;
/// the entry keeps where the officer was).
const OFFICER_OBJECTS: [&str; 2] = ["officer", "account"];

async fn officer_unit(conn: &mut AnyConnection, id: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT unit_id FROM officers WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Appends `e` as the next entry, inside a transaction from [`begin`]. Its time is read once
/// the head is held, so on one clock `at` never decreases as `seq` grows.
pub(super) async fn append(conn: &mut AnyConnection, dialect: Dialect, e: &Event) -> Result<Entry, DbError> {
    // Looked up before the head is locked: the lock is held as briefly as possible.
    let (object_type, object_id) = e.object.clone().unzip();
    let unit_id = match (&e.unit, object_type.as_deref(), object_id.as_deref()) {
        (Some(unit), _, _) => Some(unit.clone()),
        (None, Some(kind), Some(id)) if OFFICER_OBJECTS.contains(&kind) => officer_unit(conn, id).await?,
        _ => None,
    };
    let head = match dialect {
        Dialect::Sqlite => HEAD,
        Dialect::Postgres => HEAD_LOCKED,
    };
    let row = sqlx::query(head).fetch_one(&mut *conn).await?;
    let (last_seq, prev_hash): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    let mut entry = Entry {
        seq: last_seq + 1,
        at: crate::clock::unix_now(),
        actor: e.actor.to_string(),
        action: e.action.as_str().to_owned(),
        object_type,
        object_id,
        unit_id,
        ip: e.ip.map(|ip| ip.to_string()),
        detail: e.detail_text(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = chain::entry_hash(&entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, unit_id, ip, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(entry.seq)
    .bind(entry.at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.object_type)
    .bind(&entry.object_id)
    .bind(&entry.unit_id)
    .bind(&entry.ip)
    .bind(&entry.detail)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(entry.seq)
        .bind(&entry.hash)
        .execute(&mut *conn)
        .await?;
    Ok(entry)
}

/// Walks the chain up to the head read at the start; entries appended meanwhile are left for
/// the next run.
pub(super) async fn verify(db: &Db, mut progress: impl FnMut(u64, u64)) -> Result<VerifyReport, DbError> {
    let head = sqlx::query(HEAD).fetch_one(db.pool()).await?;
    let (head_seq, head_hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    let total = u64::try_from(head_seq).unwrap_or(0);
    let mut walker = Walker::default();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, object_type, object_id, unit_id, ip, detail, prev_hash, hash \
             FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(after)
        .bind(head_seq)
        .bind(VERIFY_BATCH)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let e = entry(row)?;
            if let Err((seq, reason)) = walker.check(&e) {
                return Ok(VerifyReport::Broken { seq, reason });
            }
            after = e.seq;
        }
        progress(walker.checked(), total);
    }
    Ok(match walker.finish(head_seq, &head_hash) {
        Ok(()) => VerifyReport::Ok { entries: walker.checked() },
        Err((seq, reason)) => VerifyReport::Broken { seq, reason },
    })
}

enum Arg {
    Text(String),
    Int(i64),
}

/// A WHERE clause under construction with numbered placeholders.
#[derive(Default)]
struct Conditions {
    sql: String,
    args: Vec<Arg>,
}

impl Conditions {
    fn placeholder(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds `<column> <op> $n`.
    fn add(&mut self, column: &str, op: &str, arg: Arg) {
        let p = self.placeholder(arg);
        self.sql.push_str(&format!(" AND {column} {op} {p}"));
    }
}

pub(super) async fn query(db: &Db, f: &AuditFilter, page: Page) -> Result<Vec<Entry>, DbError> {
    if f.units.as_ref().is_some_and(Vec::is_empty) {
        // A scope of no units sees nothing (never "no filter").
        return Ok(Vec::new());
    }
    let mut w = Conditions::default();
    if let Some(actor) = &f.actor {
        w.add("actor", "=", Arg::Text(actor.clone()));
    }
    if let Some((object_type, object_id)) = &f.object {
        if object_type == "officer" {
            // An officer is also the `account` of its own logins: both are entries about it.
            let kinds: Vec<String> =
                OFFICER_OBJECTS.iter().map(|k| w.placeholder(Arg::Text((*k).to_owned()))).collect();
            w.sql.push_str(&format!(" AND object_type IN ({})", kinds.join(", ")));
        } else {
            w.add("object_type", "=", Arg::Text(object_type.clone()));
        }
        w.add("object_id", "=", Arg::Text(object_id.clone()));
    }
    if let Some(units) = &f.units {
        let list: Vec<String> = units.iter().map(|u| w.placeholder(Arg::Text(u.clone()))).collect();
        w.sql.push_str(&format!(" AND unit_id IN ({})", list.join(", ")));
    }
    if let Some(prefix) = &f.action_prefix {
        let p = w.placeholder(Arg::Text(format!("{}%", escape_like(prefix))));
        w.sql.push_str(&format!(" AND action LIKE {p} ESCAPE '\\'"));
    }
    if let Some(since) = f.since {
        w.add("at", ">=", Arg::Int(since));
    }
    if let Some(until) = f.until {
        w.add("at", "<", Arg::Int(until));
    }
    if let Some(before) = page.before_seq {
        w.add("seq", "<", Arg::Int(before));
    }
    let limit = w.placeholder(Arg::Int(i64::from(page.limit.min(MAX_PAGE))));
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1{} ORDER BY seq DESC LIMIT {limit}", w.sql);
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for a in w.args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(db.pool()).await?.iter().map(entry).collect()
}

/// `%`, `_` and the escape character itself match literally in a prefix.
fn escape_like(s: &str) -> String {
    s.chars().fold(String::with_capacity(s.len()), |mut out, c| {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

fn entry(r: &AnyRow) -> Result<Entry, DbError> {
    Ok(Entry {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        object_type: r.try_get(4)?,
        object_id: r.try_get(5)?,
        unit_id: r.try_get(6)?,
        ip: r.try_get(7)?,
        detail: r.try_get(8)?,
        prev_hash: r.try_get(9)?,
        hash: r.try_get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like("admin.unit_x%\\"), "admin.unit\\_x\\%\\\\");
    }
}
