//! `xacthuc officers …`: bulk provisioning from the operator's shell. CSV import (with a
//! progress bar) and export, bulk moves, suspensions and resets. Set-up links are secrets: they
//! go to a file of their own (mode 0600), never to the terminal or a log.

use crate::provisioning::{self, Change};
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::audit::{Action, Actor, Audit, Event};
use crate::clock::unix_now;
use crate::commands::open_db;
use crate::config::Config;
use crate::failure::{Failure, runtime};
use crate::officers::bulk::{self, BulkReport};
use crate::officers::import::{BATCH_FAILED, ImportOptions, import_csv};
use crate::officers::setup::setup_path;
use crate::officers::{OfficerStatus, export};

#[derive(clap::Subcommand, Debug)]
pub enum OfficersCommand {
    /// Import officers from a CSV file, with a progress bar.
    ///
    /// The file is UTF-8 (a byte-order mark is accepted) with the header
    /// `username,full_name,personal_id,email,phone,unit_code,position,roles`; roles are
    /// `client:role;client:role`. Every row is validated first and every error printed as
    /// `row N, FIELD: message` (the header is row 1); nothing is applied unless every row is
    /// valid. Existing officers are updated (a changed unit or position is a move); importing
    /// the same file again changes nothing. New officers get one-time set-up links, written to
    /// the links file. Exit code 0 when applied (or a clean dry run), 1 when refused.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Apply the valid rows even if some rows have errors.
        #[arg(long)]
        partial: bool,
        /// Validate and report only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where to write new officers' set-up links as CSV `username,setup_url` (created, mode
        /// 0600; must not exist). Default: FILE with `.links.csv` appended.
        #[arg(long, value_name = "FILE")]
        links_out: Option<PathBuf>,
    },
    /// Export the officers of a unit and everything below it, in the import format.
    Export {
        /// The unit's code.
        #[arg(long)]
        unit: String,
        /// Output file (default: standard output).
        file: Option<PathBuf>,
    },
    /// Move officers to a unit (positions kept). All or nothing.
    Move {
        /// The target unit's code.
        #[arg(long)]
        unit: String,
        /// The officers' usernames.
        #[arg(required = true)]
        usernames: Vec<String>,
    },
    /// Suspend officers (they can no longer log in). All or nothing.
    Suspend {
        /// The officers' usernames.
        #[arg(required = true)]
        usernames: Vec<String>,
    },
    /// Reactivate suspended or disabled officers. All or nothing.
    Activate {
        /// The officers' usernames.
        #[arg(required = true)]
        usernames: Vec<String>,
    },
    /// Issue password-reset links (older links stop working). All or nothing.
    Reset {
        /// Where to write the links as CSV `username,setup_url` (created, mode 0600).
        #[arg(long, value_name = "FILE")]
        links_out: PathBuf,
        /// The officers' usernames.
        #[arg(required = true)]
        usernames: Vec<String>,
    },
}

/// The audit entry of a command run on the host: the operator acts as the system.
async fn audit(db: &crate::store::Db, action: Action, detail: serde_json::Value) -> Result<(), Failure> {
    let e = Event::new(action).actor(Actor::System).detail(detail);
    Audit::new(db.clone()).record(e).await.map_err(|e| runtime(format!("the change was made but not audited: {e}")))
}

pub async fn run(mut config: Config, command: OfficersCommand) -> Result<(), Failure> {
    match command {
        OfficersCommand::Import { file, partial, dry_run, links_out } => {
            let links_out = links_out.unwrap_or_else(|| {
                let mut p = file.clone().into_os_string();
                p.push(".links.csv");
                p.into()
            });
            import(config, &file, ImportOptions { partial, dry_run }, &links_out).await
        }
        OfficersCommand::Export { unit, file } => {
            let db = open_db(&mut config).await?;
            let root = db.unit_by_code(&unit).await.map_err(runtime)?;
            let root = root.ok_or_else(|| Failure::Usage(format!("officers export: no unit {unit}")))?;
            let csv = export::export_csv(&db, &root).await.map_err(runtime)?;
            audit(&db, Action::AdminOfficersExported, json!({ "via": "cli", "unit": unit, "bytes": csv.len() }))
                .await?;
            match file {
                Some(path) => std::fs::write(&path, csv).map_err(|e| runtime(format!("{}: {e}", path.display()))),
                None => std::io::stdout().write_all(&csv).map_err(runtime),
            }
        }
        OfficersCommand::Move { unit, usernames } => {
            let db = open_db(&mut config).await?;
            let r = bulk::move_officers(&db, &usernames, &unit, None, unix_now()).await.map_err(runtime)?;
            if r.applied {
                audit(&db, Action::AdminOfficersMoved, json!({ "via": "cli", "unit": unit, "usernames": usernames }))
                    .await?;
                for o in db.officers_by_usernames(&usernames).await.map_err(runtime)?.into_values() {
                    let change =
                        Change::OfficerMoved { officer_id: o.id, username: o.username, unit_code: unit.clone() };
                    provisioning::changed(&db, change).await;
                }
            }
            bulk_outcome("moved", &r)
        }
        OfficersCommand::Suspend { usernames } => status(config, &usernames, OfficerStatus::Suspended).await,
        OfficersCommand::Activate { usernames } => status(config, &usernames, OfficerStatus::Active).await,
        OfficersCommand::Reset { links_out, usernames } => {
            let db = open_db(&mut config).await?;
            let mut out = links_file(&links_out)?;
            let r = bulk::reset(&db, &usernames, None, unix_now()).await.map_err(runtime)?;
            if r.applied {
                audit(&db, Action::AdminOfficersResetIssued, json!({ "via": "cli", "usernames": usernames })).await?;
            }
            let written = write_links(&mut out, &config.issuer, &r.setup_links);
            finish_links(&links_out, r.setup_links.len(), written)?;
            bulk_outcome("reset", &r)
        }
    }
}

async fn status(mut config: Config, usernames: &[String], status: OfficerStatus) -> Result<(), Failure> {
    let db = open_db(&mut config).await?;
    let r = bulk::set_status(&db, usernames, status, None, unix_now()).await.map_err(runtime)?;
    if r.applied {
        let detail = json!({ "via": "cli", "status": status.as_str(), "usernames": usernames });
        audit(&db, Action::AdminOfficersStatusChanged, detail).await?;
        for o in db.officers_by_usernames(usernames).await.map_err(runtime)?.into_values() {
            let change =
                Change::OfficerStatus { officer_id: o.id, username: o.username, status: status.as_str().to_owned() };
            provisioning::changed(&db, change).await;
        }
    }
    bulk_outcome(status.as_str(), &r)
}

fn bulk_outcome(what: &str, r: &BulkReport) -> Result<(), Failure> {
    for e in &r.errors {
        println!("{}: {}", e.username, e.message);
    }
    if r.applied {
        println!("{what}: {} officer(s) changed", r.changed);
        Ok(())
    } else {
        Err(runtime(format!("refused: {} error(s), nothing changed", r.errors.len())))
    }
}

async fn import(mut config: Config, file: &Path, opts: ImportOptions, links_out: &Path) -> Result<(), Failure> {
    let csv = std::fs::read(file).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
    let db = open_db(&mut config).await?;
    // Opened before anything changes: links that cannot be written would be lost.
    let mut out = if opts.dry_run { None } else { Some(links_file(links_out)?) };
    let bar = Progress::new("rows");
    let report = import_csv(&db, &csv, &opts, None, unix_now(), &|done, total| bar.update(done, total)).await;
    bar.finish();
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            // Only a file this run created, and still empty, is removed.
            if out.take().is_some() {
                let _ = std::fs::remove_file(links_out);
            }
            return Err(runtime(e));
        }
    };
    for e in &report.errors {
        println!("row {}, {}: {}", e.row, e.field, e.message);
    }
    if let Some(out) = &mut out {
        let written = write_links(out, &config.issuer, &report.setup_links);
        finish_links(links_out, report.setup_links.len(), written)?;
    }
    let interrupted = report.errors.iter().any(|e| e.field == BATCH_FAILED);
    if report.applied && report.created + report.updated > 0 {
        let mut detail = report.audit_detail(&csv, opts.partial);
        detail["via"] = json!("cli");
        audit(&db, Action::AdminOfficersImported, detail).await?;
    }
    let outcome = if interrupted {
        "interrupted: partly applied"
    } else if report.applied {
        "applied"
    } else if opts.dry_run {
        "dry run: nothing applied"
    } else {
        "refused: nothing applied"
    };
    println!(
        "rows: {}, created: {}, updated: {}, unchanged: {}, errors: {}; {outcome}",
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.errors.len()
    );
    if (report.applied && !interrupted) || (opts.dry_run && report.errors.is_empty()) {
        Ok(())
    } else {
        Err(runtime(format!("import refused: {} row error(s)", report.errors.len())))
    }
}

/// Creates the links file (never overwriting one: it may hold links not yet handed over).
fn links_file(path: &Path) -> Result<File, Failure> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(|e| {
        Failure::Usage(format!("links file {}: {e} (move the old one away or pass --links-out)", path.display()))
    })
}

fn write_links(out: &mut File, issuer: &str, links: &[(String, String)]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["username", "setup_url"])?;
    for (username, token) in links {
        w.write_record([username.as_str(), &format!("{}{}", issuer.trim_end_matches('/'), setup_path(token))])?;
    }
    w.flush()
}

/// Says where the links are; an empty links file is removed.
fn finish_links(path: &Path, count: usize, written: std::io::Result<()>) -> Result<(), Failure> {
    if let Err(e) = written {
        return Err(runtime(format!(
            "{}: {e}; the links are lost, issue them again with `officers reset`",
            path.display()
        )));
    }
    if count == 0 {
        let _ = std::fs::remove_file(path);
    } else {
        println!("{count} set-up link(s) written to {}: hand them over, then delete the file", path.display());
    }
    Ok(())
}

/// A progress bar on a terminal, plain lines otherwise (logs, CI), counting `noun`s.
pub(crate) struct Progress(Option<indicatif::ProgressBar>, &'static str);

impl Progress {
    pub(crate) fn new(noun: &'static str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress(None, noun);
        }
        let bar = indicatif::ProgressBar::new(0);
        let template = format!("{{bar:40}} {{pos}}/{{len}} {noun} {{elapsed}} (eta {{eta}})");
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        Progress(Some(bar), noun)
    }

    pub(crate) fn update(&self, done: usize, total: usize) {
        match &self.0 {
            Some(bar) => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            None => eprintln!("applied {done}/{total} {}", self.1),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
