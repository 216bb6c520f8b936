//! The import benchmark of docs/BENCHMARKS.md: 10,000 officers in 100 units, imported on
//! SQLite and (with DATABASE_URL) PostgreSQL; then the same file again (nothing changes), an
//! export, and a file where every tenth officer moved.
//!
//! `cargo run --release --example import_bench -- [OFFICERS] [UNITS]`

mod generate;

use std::time::{Duration, Instant};

use xacthuc::officers::NewOfficer;
use xacthuc::officers::export::export_csv;
use xacthuc::officers::import::{ImportOptions, import_csv};
use xacthuc::officers::setup::SetupPurpose;
use xacthuc::store::Db;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let units: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let file = generate::officers_csv(count, units, 7);
    let moved = moved_file(&file, units);
    println!("{count} officers, {units} units, {} KiB", file.len() / 1024);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    run("SQLite", &url, &file, &moved, units).await;
    if let Ok(admin) = std::env::var("DATABASE_URL") {
        let name = format!("xacthuc_bench_{}", uuid::Uuid::new_v4().simple());
        let admin_db = connect(&admin).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin_db.pool())
            .await
            .expect("create");
        let (base, _) = admin.rsplit_once('/').expect("a database name in DATABASE_URL");
        run("PostgreSQL", &format!("{base}/{name}"), &file, &moved, units).await;
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        sqlx::query(sqlx::AssertSqlSafe(drop)).execute(admin_db.pool()).await.expect("drop");
    }
}

async fn connect(url: &str) -> Db {
    Db::connect(url, 4, Duration::from_secs(10)).await.expect("connect")
}

/// Every tenth officer in the next unit.
fn moved_file(file: &[u8], units: usize) -> Vec<u8> {
    let mut reader = csv::Reader::from_reader(file);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(reader.headers().expect("header")).expect("in memory");
    for (i, record) in reader.records().enumerate() {
        let mut fields: Vec<String> = record.expect("record").iter().map(String::from).collect();
        if i % 10 == 0 {
            let n: usize = fields[5].trim_start_matches("31.u").parse().expect("unit number");
            fields[5] = format!("31.u{:03}", n % units + 1);
        }
        w.write_record(&fields).expect("in memory");
    }
    w.into_inner().expect("in memory")
}

async fn run(backend: &str, url: &str, file: &[u8], moved: &[u8], units: usize) {
    let db = connect(url).await;
    db.migrate().await.expect("migrate");
    for u in generate::units(units) {
        db.create_unit(&u, 1).await.expect("unit");
    }
    let opts = ImportOptions::default();
    let step = async |what: &str, csv: &[u8], now: i64| {
        let start = Instant::now();
        let r = import_csv(&db, csv, &opts, None, now, &|_, _| {}).await.expect("import");
        let took = start.elapsed();
        assert!(r.applied && r.errors.is_empty(), "{:?}", r.errors.first());
        println!(
            "{backend:<10} {what:<28} {:>7.2} s  created {} updated {} unchanged {} links {}",
            took.as_secs_f64(),
            r.created,
            r.updated,
            r.unchanged,
            r.setup_links.len()
        );
    };
    step("import (all new)", file, 10).await;
    step("same file again", file, 20).await;
    let root = db.unit_by_code("31").await.expect("root").expect("root");
    let start = Instant::now();
    let exported = export_csv(&db, &root).await.expect("export");
    println!("{backend:<10} {:<28} {:>7.2} s", "export", start.elapsed().as_secs_f64());
    step("import of the export", &exported, 30).await;
    step("every tenth officer moved", moved, 40).await;
    // The peer, in the same run: what a caller without a bulk path does, one officer and one
    // link at a time (1,000 rows, per-row time scaled to 10,000).
    let start = Instant::now();
    for i in 0..1000 {
        let o = NewOfficer {
            username: format!("peer.{i}"),
            full_name: "Nguyễn Văn Peer".into(),
            unit_code: "31.u001".into(),
            ..Default::default()
        };
        let o = db.create_officer(&o, 50).await.expect("create");
        db.issue_setup_link(&o.id, SetupPurpose::Initial, 50).await.expect("link");
    }
    let per_10k = start.elapsed().as_secs_f64() * 10.0;
    println!("{backend:<10} {:<28} {per_10k:>7.2} s  (1,000 rows × 10)", "peer: one row at a time");
    db.close().await;
}
