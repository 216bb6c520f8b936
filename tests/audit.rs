//! The audit log on both databases: the chain verifies, every kind of tampering is found at the
//! exact entry (also by `xacthuc audit verify`), concurrent writers on several instances keep
//! one gapless chain, queries filter and page, and real logins, consents and revocations leave
//! their entries.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use support::browser::{Browser, ConsentChoice, EidLogin};
use support::op::{Backend, TestOp};
use support::rp::Rp;
use xacthuc::audit::{Action, Actor, Audit, AuditFilter, Defect, Entry, Event, MAX_PAGE, Page, VerifyReport};
use xacthuc::store::Db;

/// A database of the test's own on the backend's engine, dropped at the end.
enum TestDb {
    Sqlite(Db, tempfile::TempDir),
    Pg(support::PgDb),
}

impl TestDb {
    async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Embedded => {
                let (db, dir) = support::sqlite_db().await;
                Some(TestDb::Sqlite(db, dir))
            }
            Backend::Real => support::pg_db().await.map(TestDb::Pg),
        }
    }

    fn db(&self) -> &Db {
        match self {
            TestDb::Sqlite(db, _) => db,
            TestDb::Pg(pg) => &pg.db,
        }
    }

    fn url(&self) -> String {
        match self {
            TestDb::Sqlite(_, dir) => format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
            TestDb::Pg(pg) => pg.url.clone(),
        }
    }

    /// Another pool on the same database, as another instance has.
    async fn another_instance(&self) -> Db {
        Db::connect(&self.url(), 4, Duration::from_secs(10)).await.expect("second pool")
    }

    async fn drop_db(self) {
        if let TestDb::Pg(pg) = self {
            pg.drop_db().await;
        }
    }
}

fn event(i: usize) -> Event {
    Event::new(if i.is_multiple_of(3) { Action::LoginFailed } else { Action::AdminOfficerCreated })
        .actor(Actor::Officer(format!("o{}", i % 4)))
        .object("officer", &format!("x{i}"))
        .unit(&format!("unit-{}", i % 5))
        .ip("10.1.2.3".parse().expect("ip"))
        .detail(json!({ "i": i, "name": "Nguyễn Văn An" }))
}

async fn record_n(audit: &Audit, n: usize) {
    for i in 0..n {
        audit.record(event(i)).await.expect("record");
    }
}

async fn sql(db: &Db, statement: &str) {
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(db.pool()).await.expect(statement);
}

/// The entry at `seq`, read through the public query.
async fn entry(audit: &Audit, seq: i64) -> Entry {
    let found =
        audit.query(&AuditFilter::default(), Page { before_seq: Some(seq + 1), limit: 1 }).await.expect("query");
    found.into_iter().next().filter(|e| e.seq == seq).expect("entry exists")
}

async fn chain_verifies(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let audit = Audit::new(t.db().clone());
    assert_eq!(audit.verify().await.unwrap(), VerifyReport::Ok { entries: 0 }, "an empty log is intact");
    record_n(&audit, 2_050).await;
    let mut batches = Vec::new();
    let report = audit.verify_with_progress(|checked, total| batches.push((checked, total))).await.unwrap();
    assert_eq!(report, VerifyReport::Ok { entries: 2_050 });
    assert_eq!(batches, vec![(1000, 2_050), (2000, 2_050), (2_050, 2_050)], "walked in bounded batches");
    let first = entry(&audit, 1).await;
    assert_eq!(first.prev_hash, xacthuc::audit::GENESIS);
    assert_eq!(first.actor, "officer:o0");
    assert_eq!(first.action, "login.failed");
    assert_eq!(first.detail_json(), json!({ "i": 0, "name": "Nguyễn Văn An" }));
    assert_eq!((first.unit_id.as_deref(), first.ip.as_deref()), (Some("unit-0"), Some("10.1.2.3")));
    t.drop_db().await;
}
on_both_backends!(chain_verifies_after_many_records, super::chain_verifies);

/// SQL statements that tamper with the log, given entry 12.
type Tamper = fn(&Entry) -> Vec<String>;

/// Each kind of tampering, on a fresh chain of 30 entries, and the report it must give.
async fn tampering_is_found_at_the_exact_row(backend: Backend) {
    let cases: [(&str, Tamper, i64, Defect); 5] = [
        (
            "detail altered",
            |_| vec!["UPDATE audit_log SET detail = '{\"i\":999}' WHERE seq = 17".into()],
            17,
            Defect::HashMismatch,
        ),
        (
            "actor altered",
            |_| vec!["UPDATE audit_log SET actor = 'system' WHERE seq = 5".into()],
            5,
            Defect::HashMismatch,
        ),
        (
            "middle row deleted",
            |_| vec!["DELETE FROM audit_log WHERE seq = 9".into()],
            9,
            Defect::Missing { next: Some(10) },
        ),
        (
            "last row deleted",
            |_| vec!["DELETE FROM audit_log WHERE seq = 30".into()],
            30,
            Defect::Missing { next: None },
        ),
        (
            "row re-hashed consistently",
            |e: &Entry| {
                let mut forged = e.clone();
                forged.actor = "officer:someone-else".into();
                let hash = xacthuc::audit::entry_hash(&forged);
                vec![format!("UPDATE audit_log SET actor = '{}', hash = '{hash}' WHERE seq = {}", forged.actor, e.seq)]
            },
            13,
            Defect::PrevHashMismatch,
        ),
    ];
    for (what, tamper, seq, defect) in cases {
        let Some(t) = TestDb::new(backend).await else { return };
        let audit = Audit::new(t.db().clone());
        record_n(&audit, 30).await;
        assert_eq!(audit.verify().await.unwrap(), VerifyReport::Ok { entries: 30 }, "{what}: intact before");
        let target = entry(&audit, 12).await;
        for s in tamper(&target) {
            sql(t.db(), &s).await;
        }
        assert_eq!(audit.verify().await.unwrap(), VerifyReport::Broken { seq, reason: defect }, "{what}");
        t.drop_db().await;
    }
}
on_both_backends!(tampering_is_found_at_the_exact_row, super::tampering_is_found_at_the_exact_row);

fn verify_cli(url: &str) -> std::process::Output {
    Command::new(support::xacthuc_bin())
        .args(["audit", "verify"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .output()
        .expect("run xacthuc audit verify")
}

async fn cli_verify(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let audit = Audit::new(t.db().clone());
    record_n(&audit, 40).await;
    let out = verify_cli(&t.url());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("intact") && stdout.contains("40 entries"), "{stdout}");

    sql(t.db(), "UPDATE audit_log SET detail = '{}' WHERE seq = 23").await;
    let out = verify_cli(&t.url());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("seq 23") && stderr.contains("hash mismatch"), "{stderr}");
    t.drop_db().await;
}
on_both_backends!(cli_exits_0_when_intact_and_1_naming_the_seq, super::cli_verify);

/// Writes a valid chain of `n` entries straight into the tables, many rows per statement: the
/// quick way to a long log.
async fn bulk_chain(db: &Db, n: i64) {
    let mut tx = db.pool().begin().await.expect("begin");
    let mut prev = xacthuc::audit::GENESIS.to_owned();
    let mut seq = 1;
    while seq <= n {
        let rows: Vec<Entry> = (seq..=n.min(seq + 499))
            .map(|s| {
                let mut e = Entry {
                    seq: s,
                    at: 1_800_000_000,
                    actor: "system".into(),
                    action: "login.failed".into(),
                    object_type: None,
                    object_id: None,
                    unit_id: None,
                    ip: None,
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = xacthuc::audit::entry_hash(&e);
                prev.clone_from(&e.hash);
                e
            })
            .collect();
        let values: Vec<String> = rows
            .iter()
            .map(|e| {
                format!("({}, {}, 'system', 'login.failed', '{{}}', '{}', '{}')", e.seq, e.at, e.prev_hash, e.hash)
            })
            .collect();
        let insert = format!(
            "INSERT INTO audit_log (seq, at, actor, action, detail, prev_hash, hash) VALUES {}",
            values.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(insert)).execute(&mut *tx).await.expect("bulk insert");
        seq += 500;
    }
    let head = format!("UPDATE audit_head SET seq = {n}, hash = '{prev}' WHERE id = 1");
    sqlx::query(sqlx::AssertSqlSafe(head)).execute(&mut *tx).await.expect("head");
    tx.commit().await.expect("commit");
}

/// A long log: the command reports progress on the way (as lines, stderr not being a terminal).
async fn cli_progress(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    bulk_chain(t.db(), 101_000).await;
    let out = verify_cli(&t.url());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("101000 entries"), "{stdout}");
    assert!(stderr.contains("100000 of 101000 entries checked"), "{stderr}");
    t.drop_db().await;
}
on_both_backends!(cli_shows_progress_on_a_long_log, super::cli_progress);

#[test]
fn cli_help_explains_audit_verify() {
    let out = Command::new(support::xacthuc_bin()).arg("--help").output().expect("help");
    let top = String::from_utf8_lossy(&out.stdout);
    assert!(top.lines().any(|l| l.trim_start().starts_with("audit ")), "--help lists audit: {top}");
    let out = Command::new(support::xacthuc_bin()).args(["audit", "verify", "--help"]).output().expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for words in ["hash chain", "DATABASE_URL", "Exit codes", "seq"] {
        assert!(help.contains(words), "{words} in {help}");
    }
}

/// Four instances (pools of their own), fifty appends each, all at once.
async fn concurrent_writers(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let mut writers = Vec::new();
    for w in 0..4 {
        let audit = Audit::new(t.another_instance().await);
        writers.push(tokio::spawn(async move {
            for i in 0..50 {
                let e =
                    Event::new(Action::LoginSucceeded).actor(Actor::Account(format!("w{w}"))).detail(json!({ "i": i }));
                audit.record(e).await.expect("concurrent record");
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let audit = Audit::new(t.db().clone());
    assert_eq!(audit.verify().await.unwrap(), VerifyReport::Ok { entries: 200 });
    let all = audit.query(&AuditFilter::default(), Page { before_seq: None, limit: 500 }).await.unwrap();
    let seqs: Vec<i64> = all.iter().rev().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>(), "seq 1..200 without gaps");
    for w in 0..4 {
        let mine = AuditFilter { actor: Some(format!("account:w{w}")), ..Default::default() };
        assert_eq!(audit.query(&mine, Page::default()).await.unwrap().len(), 50);
    }
    t.drop_db().await;
}
on_both_backends!(concurrent_writers_keep_one_gapless_chain, super::concurrent_writers);

async fn queries(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let audit = Audit::new(t.db().clone());
    let start = xacthuc::clock::unix_now();
    record_n(&audit, 600).await;
    let q = |f: AuditFilter, page: Page| {
        let audit = audit.clone();
        async move { audit.query(&f, page).await.expect("query") }
    };
    let all = Page { before_seq: None, limit: 500 };

    let by_actor = q(AuditFilter { actor: Some("officer:o1".into()), ..Default::default() }, all).await;
    assert_eq!(by_actor.len(), 150);
    assert!(by_actor.iter().all(|e| e.actor == "officer:o1"));
    assert!(by_actor.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");

    let units = AuditFilter { units: Some(vec!["unit-1".into(), "unit-3".into()]), ..Default::default() };
    let in_units = q(units, all).await;
    assert_eq!(in_units.len(), 240);
    assert!(in_units.iter().all(|e| matches!(e.unit_id.as_deref(), Some("unit-1" | "unit-3"))));
    let no_units = AuditFilter { units: Some(Vec::new()), ..Default::default() };
    assert!(q(no_units, all).await.is_empty(), "an empty unit scope sees nothing");

    let admin = q(AuditFilter { action_prefix: Some("admin.".into()), ..Default::default() }, all).await;
    assert_eq!(admin.len(), 400);
    assert!(admin.iter().all(|e| e.action == "admin.officer.created"));
    let wildcard = AuditFilter { action_prefix: Some("%".into()), ..Default::default() };
    assert!(q(wildcard, all).await.is_empty(), "LIKE wildcards in the prefix are literal");

    let object = AuditFilter { object: Some(("officer".into(), "x7".into())), ..Default::default() };
    assert_eq!(q(object, all).await.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![8]);

    let now = xacthuc::clock::unix_now();
    let window = AuditFilter { since: Some(start), until: Some(now + 1), ..Default::default() };
    assert_eq!(q(window, Page { before_seq: None, limit: 10 }).await.len(), 10);
    let future = AuditFilter { since: Some(now + 1), ..Default::default() };
    assert!(q(future, all).await.is_empty());
    let past = AuditFilter { until: Some(start), ..Default::default() };
    assert!(q(past, all).await.is_empty());

    // Keyset pages: capped at MAX_PAGE, each continuing before the last seq seen.
    let first = q(AuditFilter::default(), Page { before_seq: None, limit: 10_000 }).await;
    assert_eq!(first.len(), MAX_PAGE as usize);
    assert_eq!((first[0].seq, first[first.len() - 1].seq), (600, 101));
    let next = q(AuditFilter::default(), Page { before_seq: Some(101), limit: 500 }).await;
    assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=100).rev().collect::<Vec<_>>());
    t.drop_db().await;
}
on_both_backends!(queries_filter_and_page, super::queries);

/// Polls until an entry matching `prefix` for `actor` appears: login entries are written off
/// the request path.
async fn wait_for(audit: &Audit, prefix: &str) -> Vec<Entry> {
    let start = Instant::now();
    loop {
        let f = AuditFilter { action_prefix: Some(prefix.into()), ..Default::default() };
        let found = audit.query(&f, Page::default()).await.expect("query");
        if !found.is_empty() {
            return found;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no {prefix} entry");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn logins_consents_revocations(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let rp = Rp::new("portal");
    rp.register(&op, &rp.client()).await;
    let audit = &op.state.audit;
    // Demo citizens of the mock: Ngọc logs in; Hùng is deceased, so his login fails.
    let b = Browser::new();
    let ngoc = EidLogin::Form { login: "001188271828", passcode: "271828" };
    let code = b.journey(&rp.auth_url(&op, &[]), &rp.redirect, ngoc, ConsentChoice::Allow).await.code();

    let ok = wait_for(audit, "login.succeeded").await;
    let account = ok[0].object_id.clone().expect("the account is the object");
    assert_eq!(ok[0].actor, format!("account:{account}"));
    assert_eq!(ok[0].ip.as_deref(), Some("127.0.0.1"), "from where the login came");
    let d = ok[0].detail_json();
    assert_eq!(
        (d["method"].as_str(), d["client_id"].as_str(), d["outcome"].as_str()),
        (Some("vneid"), Some("portal"), Some("success"))
    );
    assert_eq!(d["account_id"].as_str(), Some(account.as_str()));

    let granted = wait_for(audit, "consent.granted").await;
    assert_eq!(granted[0].actor, format!("account:{account}"));
    assert_eq!((granted[0].object_type.as_deref(), granted[0].object_id.as_deref()), (Some("client"), Some("portal")));

    let hung = EidLogin::Form { login: "036041964113", passcode: "964113" };
    Browser::new().journey(&rp.auth_url(&op, &[]), &rp.redirect, hung, ConsentChoice::Allow).await;
    let failed = wait_for(audit, "login.failed").await;
    assert_eq!(failed[0].actor, "anonymous");
    assert_eq!(failed[0].detail_json()["method"].as_str(), Some("vneid"));

    let tokens: serde_json::Value = rp.redeem(&op, &code).await.json().await.expect("tokens");
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let revoke = support::op::http()
        .post(op.url("/revoke"))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(&[("token", refresh)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoke.status(), 200);
    let revoked = wait_for(audit, "token.revoked").await;
    assert_eq!((revoked[0].actor.as_str(), revoked[0].object_type.as_deref()), ("client:portal", Some("grant")));

    let consent = op.state.db.consents(&account).await.expect("consents").remove(0);
    assert!(op.state.db.revoke_consent(&account, &consent.id, 0).await.expect("withdraw"));
    let withdrawn = wait_for(audit, "consent.withdrawn").await;
    assert_eq!(withdrawn[0].detail_json()["consent_id"].as_str(), Some(consent.id.as_str()));

    assert!(matches!(audit.verify().await.unwrap(), VerifyReport::Ok { entries } if entries >= 5));
    op.stop().await;
}
on_both_backends!(logins_consents_and_revocations_are_recorded, super::logins_consents_revocations);

/// With the audit log unwritable, a login still succeeds and the failed write is counted.
async fn login_survives_audit_failure(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let rp = Rp::new("firstparty");
    // Trusted: no consent page, whose record (with its audit entry) would rightly fail.
    rp.register(&op, &xacthuc::oidc::clients::Client { trusted: true, ..rp.client() }).await;
    sql(&op.state.db, "DROP TABLE audit_log").await;
    let ngoc = EidLogin::Form { login: "001188271828", passcode: "271828" };
    let end = Browser::new().journey(&rp.auth_url(&op, &[]), &rp.redirect, ngoc, ConsentChoice::Allow).await;
    assert!(!end.code().is_empty(), "the login went through");
    let series = r#"audit_write_failures_total{action="login.succeeded"}"#;
    let start = Instant::now();
    loop {
        let metrics = support::op::http().get(op.url("/metrics")).send().await.expect("metrics");
        if metrics.text().await.expect("metrics text").contains(series) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{series} is not counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    op.stop().await;
}
on_both_backends!(login_proceeds_when_the_audit_log_fails, super::login_survives_audit_failure);

/// An entry written in the caller's transaction exists only if it commits.
async fn transactional(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let audit = Audit::new(t.db().clone());
    record_n(&audit, 3).await;
    let mut tx = audit.begin().await.unwrap();
    audit.record_in(&mut tx, event(3)).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(audit.verify().await.unwrap(), VerifyReport::Ok { entries: 3 }, "rolled back: no entry, no gap");
    let mut tx = audit.begin().await.unwrap();
    audit.record_in(&mut tx, event(3)).await.unwrap();
    tx.commit().await.unwrap();
    record_n(&audit, 1).await;
    assert_eq!(audit.verify().await.unwrap(), VerifyReport::Ok { entries: 5 });
    t.drop_db().await;
}
on_both_backends!(entries_in_a_transaction_follow_it, super::transactional);
