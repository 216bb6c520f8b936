//! Bulk provisioning of officers on both databases: CSV import that checks every row first and
//! reports every error by line, `partial` and dry runs, idempotent re-imports, updates as moves,
//! export round trips, unit-administrator scope, bulk moves/suspensions/resets, and the
//! `xacthuc officers` commands with their exit codes.

#[path = "../examples/import_bench/generate.rs"]
mod generate;
mod support;

use std::process::Command;

use xacthuc::officers::bulk;
use xacthuc::officers::export::export_csv;
use xacthuc::officers::import::{ImportOptions, ImportReport, RowError, import_csv};
use xacthuc::officers::setup::SetupPurpose;
use xacthuc::officers::{NewOfficer, NewUnit, OfficerStatus, UnitKind};
use xacthuc::store::Db;

/// Runs `f` on a fresh SQLite database, then on a fresh PostgreSQL one; `f` gets the URL too.
async fn with_db(name: &str, f: impl AsyncFn(Db, String)) {
    let (db, dir) = support::sqlite_db().await;
    f(db, format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await;
    match support::pg_db().await {
        Some(pg) => {
            f(pg.db.clone(), pg.url.clone()).await;
            pg.drop_db().await;
        }
        None => eprintln!("{name}: PostgreSQL part skipped (DATABASE_URL not set)"),
    }
}

async fn province(db: &Db) {
    for (code, name, kind, parent) in [
        ("31", "Thành phố Hải Phòng", UnitKind::Province, None),
        ("31.stp", "Sở Tư pháp", UnitKind::Department, Some("31")),
        ("31.x1", "Xã An Lư", UnitKind::Commune, Some("31")),
        ("31.x2", "Xã An Hưng", UnitKind::Commune, Some("31")),
        ("31.x3", "Xã Thủy Triều", UnitKind::Commune, Some("31")),
    ] {
        let u = NewUnit { code: code.into(), name: name.into(), kind, parent_code: parent.map(String::from) };
        db.create_unit(&u, 1).await.unwrap();
    }
}

const HEADER: &str = "username,full_name,personal_id,email,phone,unit_code,position,roles\n";

fn csv(rows: &[&str]) -> Vec<u8> {
    let mut s = HEADER.to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

const GOOD: [&str; 3] = [
    "an.nguyen,Nguyễn Văn An,031095012345,an@haiphong.gov.vn,0912345678,31.x1,Chuyên viên,eoffice:van-thu;eoffice:lanh-dao",
    "binh.tran,Trần Thị Bình,031195012346,,,31.x2,Công chức tư pháp,one-stop:tiep-nhan",
    "chi.le,Lê Minh Chí,,,,31.stp,,",
];

async fn import(db: &Db, file: &[u8], partial: bool, dry_run: bool, now: i64) -> ImportReport {
    import_csv(db, file, &ImportOptions { partial, dry_run }, None, now, &|_, _| {}).await.unwrap()
}

async fn count(db: &Db) -> usize {
    let root = db.unit_by_code("31").await.unwrap().unwrap();
    db.officers_in(&root, "", 1000).await.unwrap().len()
}

fn fields(r: &ImportReport) -> Vec<(usize, &str)> {
    r.errors.iter().map(|e| (e.row, e.field.as_str())).collect()
}

#[tokio::test]
async fn bad_rows_are_all_reported_and_nothing_is_applied() {
    with_db("bad rows", async |db, _| {
        province(&db).await;
        let x3 = db.unit_by_code("31.x3").await.unwrap().unwrap();
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        db.merge_units(std::slice::from_ref(&x3.id), &x2.id, 2).await.unwrap();
        let holder = NewOfficer {
            username: "dung.pham".into(),
            full_name: "Phạm Dũng".into(),
            personal_id: Some("031095099999".into()),
            unit_code: "31.x1".into(),
            ..Default::default()
        };
        db.create_officer(&holder, 2).await.unwrap();
        let file = csv(&[
            GOOD[0],                                            // row 2: fine
            "X,Tên,,,,31.x1,,",                                 // row 3: username
            "em.vo,Võ Em,123,,,31.x1,,",                        // row 4: personal ID format
            "giang.do,Đỗ Giang,,,,31.nowhere,,",                // row 5: unknown unit
            "ha.bui,Bùi Hà,,,,31.x3,,",                         // row 6: merged unit
            "an.nguyen,Nguyễn Văn An,,,,31.x1,,",               // row 7: username of row 2
            "khoa.ly,Lý Khoa,031095012345,,,31.x1,,",           // row 8: personal ID of row 2
            "lan.mai,Mai Lan,031095099999,,,31.x1,,",           // row 9: dung.pham's ID
            "minh.ho,Hồ Minh,,,,31.x1,,eoffice",                // row 10: roles
            "nam.dang,Đặng Nam,,,,31.x1",                       // row 11: field count
            "oanh.vu,Vũ Oanh,,not-an-email,12,31.nowhere,,bad", // row 12: three errors
            GOOD[1],                                            // row 13: fine
        ]);
        let r = import(&db, &file, false, false, 3).await;
        assert_eq!(
            fields(&r),
            vec![
                (2, "username"),
                (2, "personal_id"),
                (3, "username"),
                (4, "personal_id"),
                (5, "unit_code"),
                (6, "unit_code"),
                (7, "username"),
                (8, "personal_id"),
                (9, "personal_id"),
                (10, "roles"),
                (11, "row"),
                (12, "email"),
                (12, "unit_code"),
                (12, "roles"),
            ],
            "{:#?}",
            r.errors
        );
        assert!(r.errors[0].message.contains("row 7"), "{:?}", r.errors[0]);
        assert_eq!((r.errors[6].message.as_str(), r.errors[7].message.as_str()), ("also on row 2", "also on row 2"));
        assert_eq!(r.errors[8].message, "already used by another officer", "the holder is not named");
        assert_eq!(r.errors[5].message, "the unit was merged or dissolved");
        assert_eq!(r.rows, 12);
        assert!(!r.applied && r.setup_links.is_empty());
        assert_eq!(count(&db).await, 1, "nothing applied: only the pre-existing officer");
        // Partial: only the valid rows (12 and 13) are applied.
        let r = import(&db, &file, true, false, 3).await;
        assert!(r.applied);
        assert_eq!((r.created, r.updated, r.unchanged, r.errors.len()), (1, 0, 0, 14));
        assert_eq!(r.setup_links.len(), 1);
        assert_eq!(r.setup_links[0].0, "binh.tran");
        assert_eq!(count(&db).await, 2);
        // Dry run: reports, applies nothing.
        let r = import(&db, &csv(&[GOOD[2]]), false, true, 3).await;
        assert_eq!((r.created, r.applied), (1, false));
        assert_eq!(count(&db).await, 2);
    })
    .await;
}

#[tokio::test]
async fn headers_bom_and_encoding_are_checked() {
    with_db("header", async |db, _| {
        province(&db).await;
        let r = import(&db, b"username,full_name,emial\nan,An,x\n", false, false, 3).await;
        let missing: Vec<RowError> = r.errors.iter().filter(|e| e.message == "missing column").cloned().collect();
        assert_eq!(missing.len(), 6, "{:?}", r.errors);
        assert!(r.errors.iter().any(|e| e.row == 1 && e.field == "emial" && e.message == "unknown column"));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(csv(&[GOOD[2]]));
        let r = import(&db, &bom, false, false, 3).await;
        assert!(r.applied && r.errors.is_empty(), "{:?}", r.errors);
        let mut latin1 = csv(&["hoa.ng,Ho\u{e0},,,,31.x1,,"]);
        latin1.extend(b"kim.ng,Kim \xe0,,,,31.x1,,\n");
        let r = import(&db, &latin1, false, false, 3).await;
        assert_eq!(fields(&r), vec![(3, "row")], "{:?}", r.errors);
        assert!(!r.applied);
        assert!(import(&db, b"", false, false, 3).await.errors.len() >= COLUMNS_COUNT);
        // Duplicates are found among invalid rows too: fixing one error does not reveal another.
        let r = import(&db, &csv(&["an.x,An,,bad-email,,31.x1,,", " An.X ,An,,,,31.x1,,"]), true, false, 3).await;
        assert_eq!(fields(&r), vec![(2, "email"), (2, "username"), (3, "username")], "{:?}", r.errors);
        assert_eq!(r.created, 0, "neither twin is applied, even with partial");
    })
    .await;
}

const COLUMNS_COUNT: usize = 8;

#[tokio::test]
async fn reimporting_changes_nothing_and_changes_are_moves() {
    with_db("idempotent", async |db, _| {
        province(&db).await;
        let file = csv(&GOOD);
        let first = import(&db, &file, false, false, 10).await;
        assert!(first.applied && first.errors.is_empty(), "{:?}", first.errors);
        assert_eq!((first.created, first.setup_links.len()), (3, 3));
        let an = db.officer_by_username("an.nguyen").await.unwrap().unwrap();
        assert_eq!(an.full_name, "Nguyễn Văn An");
        assert!(db.account(&an.id).await.unwrap().is_some(), "the provider account exists");
        assert_eq!(db.officer_roles(&an.id, "eoffice").await.unwrap(), vec!["lanh-dao", "van-thu"]);
        let (token_owner, purpose) =
            db.peek_setup_link(&first.setup_links[0].1, 11).await.unwrap().expect("a live set-up link");
        assert_eq!((token_owner, purpose), (an.id.clone(), SetupPurpose::Initial));
        let json = serde_json::to_string(&first).unwrap();
        assert!(!json.contains(&first.setup_links[0].1), "links never reach a serialized report: {json}");
        let again = import(&db, &file, false, false, 20).await;
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        assert!(again.applied && again.setup_links.is_empty(), "no new links");
        assert_eq!(db.officer(&an.id).await.unwrap().unwrap().updated_at, 10, "untouched");
        assert!(db.peek_setup_link(&first.setup_links[0].1, 21).await.unwrap().is_some(), "old link still live");
        // A changed row updates: name, unit and position (a move), roles of the clients named.
        db.set_officer_roles(&an.id, "one-stop", &["xu-ly".into()]).await.unwrap();
        let changed = csv(&[
            "an.nguyen,Nguyễn Văn Ân,031095012345,an@haiphong.gov.vn,0912345678,31.x2,Phó chủ tịch,eoffice:lanh-dao",
            GOOD[1],
            "chi.le,Lê Minh Chí,,,,31.stp,,one-stop:",
        ]);
        let r = import(&db, &changed, false, false, 30).await;
        assert_eq!((r.created, r.updated, r.unchanged), (0, 1, 2), "{:?}", r.errors);
        let an = db.officer(&an.id).await.unwrap().unwrap();
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        assert_eq!((an.full_name.as_str(), an.unit_id.as_str()), ("Nguyễn Văn Ân", x2.id.as_str()));
        assert_eq!((an.position.as_deref(), an.updated_at), (Some("Phó chủ tịch"), 30));
        assert_eq!(db.officer_roles(&an.id, "eoffice").await.unwrap(), vec!["lanh-dao"]);
        assert_eq!(db.officer_roles(&an.id, "one-stop").await.unwrap(), vec!["xu-ly"], "client not named: kept");
        let postings: Vec<(String, Option<i64>)> =
            sqlx::query_as("SELECT unit_id, valid_to FROM officer_postings WHERE officer_id = $1 ORDER BY valid_from")
                .bind(&an.id)
                .fetch_all(db.pool())
                .await
                .unwrap();
        let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
        assert_eq!(postings, vec![(x1.id, Some(30)), (x2.id, None)], "the old posting closed");
        assert_eq!(import(&db, &changed, false, false, 40).await.unchanged, 3);
    })
    .await;
}

#[tokio::test]
async fn export_then_import_changes_nothing() {
    with_db("round trip", async |db, _| {
        province(&db).await;
        let mut tricky = GOOD.to_vec();
        tricky.push("dao.tu,\"Đào, Tú\",,,,31.x2,\"Trưởng phòng \"\"A\"\"\",eoffice:x");
        assert!(import(&db, &csv(&tricky), false, false, 10).await.applied);
        let root = db.unit_by_code("31").await.unwrap().unwrap();
        let out = export_csv(&db, &root).await.unwrap();
        assert!(out.starts_with(b"\xEF\xBB\xBF"), "a BOM for spreadsheet programs");
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("an.nguyen,Nguyễn Văn An,031095012345,an@haiphong.gov.vn,0912345678,31.x1,Chuyên viên,eoffice:lanh-dao;eoffice:van-thu"), "{text}");
        assert_eq!(text.lines().count(), 5);
        let r = import(&db, &out, false, false, 20).await;
        assert_eq!((r.created, r.updated, r.unchanged, r.errors.len()), (0, 0, 4, 0), "{:?}", r.errors);
        // A subtree exports its own officers only.
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        let part = String::from_utf8(export_csv(&db, &x2).await.unwrap()).unwrap();
        assert_eq!(part.lines().count(), 3, "{part}");
        assert!(!part.contains("an.nguyen"));
    })
    .await;
}

#[tokio::test]
async fn a_merge_after_an_import_moves_the_officers() {
    with_db("merge", async |db, _| {
        province(&db).await;
        assert!(import(&db, &csv(&GOOD), false, false, 10).await.applied);
        let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        assert_eq!(db.merge_units(std::slice::from_ref(&x1.id), &x2.id, 20).await.unwrap(), 1);
        let an = db.officer_by_username("an.nguyen").await.unwrap().unwrap();
        assert_eq!(an.unit_id, x2.id);
        // The old file now names a merged unit: refused for that row, with its line.
        let r = import(&db, &csv(&GOOD), false, false, 30).await;
        assert_eq!(fields(&r), vec![(2, "unit_code")]);
    })
    .await;
}

#[tokio::test]
async fn a_unit_administrator_imports_only_inside_their_subtree() {
    with_db("scope", async |db, _| {
        province(&db).await;
        assert!(import(&db, &csv(&GOOD[..1]), false, false, 10).await.applied);
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        let file = csv(&[
            GOOD[1],                              // row 2: in x2, fine
            "chi.le,Lê Minh Chí,,,,31.stp,,",     // row 3: unit outside
            "an.nguyen,Nguyễn Văn An,,,,31.x2,,", // row 4: takes an officer of x1
        ]);
        let opts = ImportOptions::default();
        let r = import_csv(&db, &file, &opts, Some(&x2), 20, &|_, _| {}).await.unwrap();
        assert_eq!(fields(&r), vec![(3, "unit_code"), (4, "username")], "{:?}", r.errors);
        assert!(!r.applied);
        let an = db.officer_by_username("an.nguyen").await.unwrap().unwrap();
        assert_ne!(an.unit_id, x2.id);
        // Progress is reported per batch, ending with the total.
        let seen = std::sync::Mutex::new(Vec::new());
        let r = import_csv(&db, &csv(&GOOD[1..2]), &opts, Some(&x2), 20, &|d, t| seen.lock().unwrap().push((d, t)))
            .await
            .unwrap();
        assert!(r.applied);
        assert_eq!(seen.into_inner().unwrap(), vec![(0, 1), (1, 1)]);
    })
    .await;
}

#[tokio::test]
async fn bulk_operations_are_all_or_nothing_and_scoped() {
    with_db("bulk", async |db, _| {
        province(&db).await;
        assert!(import(&db, &csv(&GOOD), false, false, 10).await.applied);
        let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // binh.tran is in x2: outside x1's subtree, reported like an unknown name.
        let r = bulk::set_status(
            &db,
            &names(&["an.nguyen", "binh.tran", "nobody"]),
            OfficerStatus::Suspended,
            Some(&x1),
            20,
        )
        .await
        .unwrap();
        assert!(!r.applied);
        let errs: Vec<&str> = r.errors.iter().map(|e| e.username.as_str()).collect();
        assert_eq!(errs, vec!["binh.tran", "nobody"]);
        assert_eq!(db.officer_by_username("an.nguyen").await.unwrap().unwrap().status, OfficerStatus::Active);
        let r = bulk::set_status(&db, &names(&["An.Nguyen", "binh.tran"]), OfficerStatus::Suspended, None, 20)
            .await
            .unwrap();
        assert_eq!((r.applied, r.changed), (true, 2));
        assert_eq!(db.officer_by_username("binh.tran").await.unwrap().unwrap().status, OfficerStatus::Suspended);
        let r = bulk::set_status(&db, &names(&["an.nguyen"]), OfficerStatus::Active, Some(&x1), 21).await.unwrap();
        assert_eq!((r.applied, r.changed), (true, 1));
        // Move: to a unit outside the scope is refused; inside, postings close and open.
        let e = bulk::move_officers(&db, &names(&["an.nguyen"]), "31.x2", Some(&x1), 22).await.unwrap_err();
        assert_eq!(e.code(), "invalid");
        let r = bulk::move_officers(&db, &names(&["an.nguyen", "chi.le"]), "31.x2", None, 22).await.unwrap();
        assert_eq!((r.applied, r.changed), (true, 2));
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        let chi = db.officer_by_username("chi.le").await.unwrap().unwrap();
        assert_eq!((chi.unit_id.as_str(), chi.updated_at), (x2.id.as_str(), 22));
        // Reset: links that void the older ones.
        let first = import(&db, &csv(&["moi.ng,Nguyễn Mới,,,,31.x1,,"]), false, false, 23).await;
        let r = bulk::reset(&db, &names(&["moi.ng"]), None, 24).await.unwrap();
        assert_eq!(r.setup_links.len(), 1);
        assert!(db.peek_setup_link(&first.setup_links[0].1, 25).await.unwrap().is_none(), "old link void");
        let moi = db.officer_by_username("moi.ng").await.unwrap().unwrap();
        assert_eq!(db.peek_setup_link(&r.setup_links[0].1, 25).await.unwrap(), Some((moi.id, SetupPurpose::Reset)));
    })
    .await;
}

fn xacthuc(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(support::xacthuc_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("XACTHUC_ISSUER", "https://id.haiphong.gov.vn")
        .output()
        .expect("run xacthuc")
}

#[tokio::test]
async fn the_cli_imports_with_exit_codes_and_a_links_file() {
    with_db("cli", async |db, url| {
        province(&db).await;
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, csv(&[GOOD[0], "X,Tên,,,,31.x1,,", "em.vo,Võ Em,123,,,31.nowhere,,"])).unwrap();
        let bad = bad.to_str().unwrap();
        let links = dir.path().join("links.csv");
        let out = xacthuc(&url, &["officers", "import", bad, "--links-out", links.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains("row 3, username: "), "{stdout}");
        assert!(stdout.contains("row 4, personal_id: "), "{stdout}");
        assert!(stdout.contains("row 4, unit_code: unknown unit"), "{stdout}");
        assert!(stdout.contains("refused: nothing applied"), "{stdout}");
        assert!(!links.exists(), "no links, no file");
        assert_eq!(count(&db).await, 0);
        let out = xacthuc(&url, &["officers", "import", bad, "--partial", "--links-out", links.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert!(stdout.contains("created: 1"), "{stdout}");
        assert!(stderr.contains("applied 1/1 rows"), "plain progress off a terminal: {stderr}");
        let written = std::fs::read_to_string(&links).unwrap();
        assert!(written.starts_with("username,setup_url\nan.nguyen,https://id.haiphong.gov.vn/officer/setup?token="));
        let token = written.lines().nth(1).unwrap().rsplit('=').next().unwrap();
        assert!(!stdout.contains(token) && !stderr.contains(token), "the link is never printed");
        // The links file is never overwritten; a dry run needs none.
        let out = xacthuc(&url, &["officers", "import", bad, "--partial", "--links-out", links.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let good = dir.path().join("good.csv");
        std::fs::write(&good, csv(&GOOD)).unwrap();
        let out = xacthuc(&url, &["officers", "import", good.to_str().unwrap(), "--dry-run"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(count(&db).await, 1);
        // Without --links-out the links go next to the file.
        let out = xacthuc(&url, &["officers", "import", good.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let default_links = std::fs::read_to_string(dir.path().join("good.csv.links.csv")).unwrap();
        assert_eq!(default_links.lines().count(), 3, "two new officers: {default_links}");
        // Each applied import is in the audit log (the dry run and the refusal are not).
        let audit = xacthuc::audit::Audit::new(db.clone());
        let filter =
            xacthuc::audit::AuditFilter { action_prefix: Some("admin.officers.imported".into()), ..Default::default() };
        let entries = audit.query(&filter, xacthuc::audit::Page::default()).await.unwrap();
        assert_eq!(entries.len(), 2, "the partial and the full import");
        assert_eq!(entries[0].detail_json()["created"], 2);
        let out = xacthuc(&url, &["officers", "export", "--unit", "31"]);
        assert_eq!(out.status.code(), Some(0));
        let exported = String::from_utf8(out.stdout).unwrap();
        assert_eq!(exported.lines().count(), 4, "{exported}");
        let out = xacthuc(&url, &["officers", "export", "--unit", "nowhere"]);
        assert_eq!(out.status.code(), Some(2));
        let out = xacthuc(&url, &["officers", "suspend", "chi.le", "nobody"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stdout).contains("nobody: no such officer"));
        let out = xacthuc(&url, &["officers", "import", "--help"]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("--links-out"));
    })
    .await;
}

/// The bar, checked on every run (a debug build takes a few seconds per backend).
#[tokio::test]
async fn ten_thousand_officers_import_in_under_a_minute() {
    let file = generate::officers_csv(10_000, 100, 7);
    with_db("10,000 officers", async |db, _| {
        for u in generate::units(100) {
            db.create_unit(&u, 1).await.unwrap();
        }
        let start = std::time::Instant::now();
        let r = import(&db, &file, false, false, 10).await;
        let took = start.elapsed();
        assert!(r.applied && r.errors.is_empty(), "{:?}", r.errors.first());
        assert_eq!((r.created, r.setup_links.len()), (10_000, 10_000));
        assert!(took < std::time::Duration::from_secs(60), "took {took:?}");
        let again = import(&db, &file, false, false, 20).await;
        assert_eq!(again.unchanged, 10_000);
    })
    .await;
}

/// A batch failing after earlier ones were committed (here a trigger stands for a database
/// failure or a concurrent writer) keeps the committed rows' set-up links and says where it
/// stopped; re-importing finishes. SQLite only: the trigger is dialect-specific.
#[tokio::test]
async fn an_interrupted_import_keeps_its_links_and_a_reimport_finishes_it() {
    let (db, _dir) = support::sqlite_db().await;
    for u in generate::units(10) {
        db.create_unit(&u, 1).await.unwrap();
    }
    let file = generate::officers_csv(600, 10, 3);
    sqlx::query(
        "CREATE TRIGGER boom BEFORE INSERT ON officers WHEN NEW.username LIKE '%.550' \
         BEGIN SELECT RAISE(ABORT, 'boom'); END",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let r = import(&db, &file, false, false, 10).await;
    assert!(r.applied, "the first batch was applied");
    assert_eq!(fields(&r), vec![(502, xacthuc::officers::import::BATCH_FAILED)], "{:?}", r.errors);
    assert!(r.errors[0].message.contains("the 500 rows before were"), "{}", r.errors[0].message);
    assert_eq!(r.setup_links.len(), 500, "the committed officers' links are not lost");
    assert_eq!(count(&db).await, 500);
    sqlx::query("DROP TRIGGER boom").execute(db.pool()).await.unwrap();
    let r = import(&db, &file, false, false, 20).await;
    assert_eq!((r.created, r.unchanged, r.errors.len()), (100, 500, 0));
}
