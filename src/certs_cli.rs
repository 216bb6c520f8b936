//! `xacthuc certs …`: the certificate registry from the operator's shell. The operator acts
//! as the system (every unit; audited as `system`). The CA and the trust anchors are the
//! configured ones (`cert_ca_url`, `cert_trust_anchors`); in a build with the `dev` feature
//! and neither configured, the mock CA of development mode, like `cargo run`.

use std::path::{Path, PathBuf};

use crate::certs::{self, Registry, RegistryError, Who};
use crate::commands::open_db;
use crate::config::{Config, Mode};
use crate::failure::{Failure, runtime};
use crate::officers_cli::Progress;
use crate::store::Kv;

#[derive(clap::Subcommand, Debug)]
pub enum CertsCommand {
    /// List an officer's certificates (history included) as JSON lines.
    List {
        /// The officer's username.
        #[arg(long)]
        officer: String,
    },
    /// Register a certificate from a PEM (optionally followed by its chain) or DER file.
    ///
    /// It is validated now (chain to a trust anchor, validity, key usage, revocation) and bound
    /// to the officer whose personal ID its `UID=CCCD:` carries. Refused with each failed
    /// check named (exit code 1).
    Register {
        /// The certificate file.
        file: PathBuf,
        /// Bind it to this officer (username) instead; the certificate must carry their CCCD.
        #[arg(long)]
        officer: Option<String>,
    },
    /// Send an officer's CSR (PKCS#10, PEM or DER) to the CA and register what it issues.
    Request {
        /// The officer's username.
        #[arg(long)]
        officer: String,
        /// The CSR file.
        csr: PathBuf,
    },
    /// Renew an active certificate (at most 3 years); the old one is retired.
    Renew {
        /// The certificate's id in the registry (see `certs list`).
        id: String,
        /// A new key's CSR; without it, the CA renews for the same key.
        #[arg(long, value_name = "FILE")]
        csr: Option<PathBuf>,
    },
    /// Revoke a certificate at the CA and in the registry.
    Revoke {
        /// The certificate's id in the registry.
        id: String,
        /// RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, superseded,
        /// cessationOfOperation, certificateHold, privilegeWithdrawn.
        #[arg(long)]
        reason: String,
    },
    /// Active certificates expiring soon, by unit.
    Expiring {
        /// The period ahead: days, as `30d` or `30`.
        #[arg(long, default_value = "30d", value_parser = parse_days)]
        within: i64,
        /// Only this unit (code) and the units below it.
        #[arg(long)]
        unit: Option<String>,
        /// JSON lines instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Re-issue certificates after units were renamed or merged ("information changed").
    ///
    /// Officers under the unit whose active certificate names another unit than their current
    /// one get a new certificate from the CA for the same key; the old one is retired. The job
    /// is recorded: if interrupted, run `--resume JOB` (or the same command again later: what
    /// is done is not done twice). Exit code 1 if items failed or remain pending.
    Reissue {
        /// The unit's code (e.g. the unit others were merged into).
        #[arg(long, required_unless_present = "resume")]
        unit: Option<String>,
        /// Continue this job instead of starting one.
        #[arg(long, value_name = "JOB", conflicts_with = "unit")]
        resume: Option<String>,
        /// Stop after this many certificates (a trial run); resume the rest later.
        #[arg(long, value_name = "N")]
        max: Option<usize>,
    },
}

fn parse_days(s: &str) -> Result<i64, String> {
    let n = s.trim().trim_end_matches('d');
    match n.parse::<i64>() {
        Ok(d) if (0..=3660).contains(&d) => Ok(d),
        _ => Err(format!("{s}: a number of days such as 30d (0 to 3660)")),
    }
}

async fn registry(config: &mut Config) -> Result<Registry, Failure> {
    let db = open_db(config).await?;
    let dev = cfg!(feature = "dev") && config.cert_ca_url.is_none() && config.cert_trust_anchors.is_empty();
    let mode = if dev { Mode::Dev } else { Mode::Serve };
    // A command's own CRL cache: revocation is fetched fresh.
    let validator = certs::validator(config, mode, Kv::memory()).map_err(runtime)?;
    Ok(certs::registry(config, mode, db, validator))
}

/// A registry failure: refusals with their reasons (exit code 1), outages as errors.
fn refused(e: RegistryError) -> Failure {
    match e {
        RegistryError::Invalid(failures) => {
            for f in &failures {
                println!("{}: {f}", f.code());
            }
            Failure::Runtime(format!("the certificate is not valid ({} failed check(s))", failures.len()))
        }
        other => Failure::Runtime(other.to_string()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    let meta = std::fs::metadata(path).map_err(|e| runtime(format!("{}: {e}", path.display())))?;
    if meta.len() > certs::parse::MAX_INPUT as u64 {
        return Err(Failure::Usage(format!("{}: larger than {} bytes", path.display(), certs::parse::MAX_INPUT)));
    }
    std::fs::read(path).map_err(|e| runtime(format!("{}: {e}", path.display())))
}

async fn officer_id(r: &Registry, username: &str) -> Result<String, Failure> {
    let o = r.db.officer_by_username(username).await.map_err(runtime)?;
    Ok(o.ok_or_else(|| Failure::Usage(format!("no officer {username}")))?.id)
}

fn line(v: &impl serde::Serialize) -> Result<(), Failure> {
    println!("{}", serde_json::to_string(v).map_err(runtime)?);
    Ok(())
}

fn date(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

pub async fn run(mut config: Config, command: CertsCommand) -> Result<(), Failure> {
    let r = registry(&mut config).await?;
    let who = Who::Operator;
    match command {
        CertsCommand::List { officer } => {
            let id = officer_id(&r, &officer).await?;
            for c in r.list(who, &id).await.map_err(refused)? {
                line(&c)?;
            }
            Ok(())
        }
        CertsCommand::Register { file, officer } => {
            let id = match officer {
                Some(u) => Some(officer_id(&r, &u).await?),
                None => None,
            };
            let c = r.register(who, id.as_deref(), &read(&file)?).await.map_err(refused)?;
            println!("registered {} (serial {}, until {})", c.id, c.serial, date(c.not_after));
            Ok(())
        }
        CertsCommand::Request { officer, csr } => {
            let id = officer_id(&r, &officer).await?;
            let c = r.request(who, &id, &read(&csr)?).await.map_err(refused)?;
            println!("issued and registered {} (serial {}, until {})", c.id, c.serial, date(c.not_after));
            print!("{}", c.pem);
            Ok(())
        }
        CertsCommand::Renew { id, csr } => {
            let csr = csr.as_deref().map(read).transpose()?;
            let c = r.renew(who, &id, csr.as_deref()).await.map_err(refused)?;
            println!("renewed: {} replaces {id} (serial {}, until {})", c.id, c.serial, date(c.not_after));
            Ok(())
        }
        CertsCommand::Revoke { id, reason } => {
            let c = r.revoke(who, &id, &reason).await.map_err(refused)?;
            println!("revoked {} ({reason})", c.id);
            Ok(())
        }
        CertsCommand::Expiring { within, unit, json } => {
            let unit_id = match unit {
                Some(code) => {
                    let u = r.db.unit_by_code(&code).await.map_err(runtime)?;
                    Some(u.ok_or_else(|| Failure::Usage(format!("no unit {code}")))?.id)
                }
                None => None,
            };
            let list = r.expiring(who, unit_id.as_deref(), within).await.map_err(refused)?;
            let mut current = String::new();
            for e in &list {
                if json {
                    line(e)?;
                    continue;
                }
                if e.unit_id != current {
                    println!("{} {}", e.unit_code, e.unit_name);
                    current.clone_from(&e.unit_id);
                }
                let c = &e.certificate;
                println!("  {}  {}  {}  {}  {}", date(c.not_after), e.officer_username, e.officer_name, c.serial, c.id);
            }
            if !json {
                println!("{} certificate(s) expiring within {within} days", list.len());
            }
            Ok(())
        }
        CertsCommand::Reissue { unit, resume, max } => {
            let id = match (resume, unit) {
                (Some(job), _) => job,
                (None, Some(code)) => {
                    let u = r.db.unit_by_code(&code).await.map_err(runtime)?;
                    let u = u.ok_or_else(|| Failure::Usage(format!("no unit {code}")))?;
                    let job = r.start_reissue(who, &u.id).await.map_err(refused)?;
                    println!("job {}: {} certificate(s) to re-issue", job.id, job.total);
                    job.id
                }
                (None, None) => return Err(Failure::Usage("name --unit or --resume".into())),
            };
            let bar = Progress::new("certificates");
            let started = std::time::Instant::now();
            let p = r.run_reissue(&id, max, &|done, total| bar.update(done as usize, total as usize)).await;
            bar.finish();
            let p = p.map_err(refused)?;
            println!(
                "job {}: {} done, {} pending, {} failed, {} skipped of {} ({:.1} s)",
                p.id,
                p.done,
                p.pending,
                p.failed,
                p.skipped,
                p.total,
                started.elapsed().as_secs_f64()
            );
            for e in &p.errors {
                println!("  {e}");
            }
            if p.failed > 0 || p.pending > 0 {
                return Err(Failure::Runtime(format!("resume with: xacthuc certs reissue --resume {}", p.id)));
            }
            Ok(())
        }
    }
}
