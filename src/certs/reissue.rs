//! The bulk "information changed" job: after units are renamed or merged (the 2025 reform),
//! every officer under a unit whose active certificate names another unit (`O`) than their
//! current one gets a re-issued certificate from the CA, for the same key, and the old one is
//! retired pointing at it.
//!
//! **Resumable, nothing done twice.** The job's items are fixed when it starts (table
//! `cert_job_items`), each with a CA request id made before the CA is ever called. The CA
//! answers a repeated request id with the certificate it issued the first time, so a crash
//! between the CA's answer and our write costs nothing: the next run asks again and gets the
//! same certificate. The new certificate, the old one's retirement and the item's `done` are
//! one transaction, guarded by `state = 'pending'`, so two runners cannot both apply an item.

use futures::StreamExt;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::ca_client::CaError;
use super::registry::{Registry, RegistryError, Who};
use super::store::CertStatus;
use super::store::insert_in;
use crate::admin::error::AdminError;
use crate::audit::{Action, Actor, Event};
use crate::officers::DirectoryError;
use crate::store::DbError;

/// CA calls in flight at once: the CA is a remote service, one at a time would be slow, many
/// would overload it.
const CONCURRENCY: usize = 8;

/// Where a job stands.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct JobProgress {
    pub id: String,
    pub unit_id: String,
    /// `running` (items pending) or `done`.
    pub status: String,
    pub total: u64,
    pub done: u64,
    pub pending: u64,
    /// Refused by the CA or by validation; see `errors`.
    pub failed: u64,
    /// Items left as they were (the certificate was revoked or renewed meanwhile).
    pub skipped: u64,
    /// The first few failures, `officer_id: message`.
    pub errors: Vec<String>,
}

/// One certificate to re-issue.
struct Item {
    cert_id: String,
    officer_id: String,
    request_id: String,
}

enum Outcome {
    Done,
    Skipped(String),
    Failed(String),
    /// The CA could not be reached: the item stays pending for the next run.
    Retry(String),
}

fn actor_of(s: &str) -> Actor {
    match s.split_once(':') {
        Some(("officer", id)) => Actor::Officer(id.to_owned()),
        Some(("client", id)) => Actor::Client(id.to_owned()),
        _ => Actor::System,
    }
}

impl Registry {
    /// Starts a job for the officers under `unit_id` whose active certificate names another
    /// unit than theirs. Certificates already pending in an unfinished job are left to it.
    pub async fn start_reissue(&self, who: Who<'_>, unit_id: &str) -> Result<JobProgress, RegistryError> {
        let root = self.roots(who, Some(unit_id)).await?.remove(0);
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.validator.now();
        let mut items = Vec::new();
        for e in self.db.expiring_in(&root, i64::MAX).await? {
            let named = super::parse_certificate(e.certificate.pem.as_bytes()).ok().and_then(|c| c.organisation);
            if named.as_deref() != Some(e.unit_name.as_str()) {
                items.push((e.certificate.id, e.certificate.officer_id));
            }
        }
        let mut tx = self.db.pool().begin().await.map_err(DbError::from)?;
        sqlx::query(concat!(
            "INSERT INTO cert_jobs (id, kind, unit_id, actor, status, created_at, updated_at) ",
            "VALUES ($1, 'reissue', $2, $3, 'running', $4, $4)"
        ))
        .bind(&id)
        .bind(&root.id)
        .bind(who.actor().to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
        for (cert_id, officer_id) in &items {
            // A certificate still pending in another job stays that job's.
            sqlx::query(concat!(
                "INSERT INTO cert_job_items (job_id, cert_id, officer_id, request_id, state, updated_at) ",
                "SELECT $1, $2, $3, $4, 'pending', $5 WHERE NOT EXISTS ",
                "(SELECT 1 FROM cert_job_items WHERE cert_id = $6 AND state = 'pending')"
            ))
            .bind(&id)
            .bind(cert_id)
            .bind(officer_id)
            .bind(format!("reissue:{id}:{cert_id}"))
            .bind(now)
            .bind(cert_id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
        }
        tx.commit().await.map_err(DbError::from)?;
        let p = self.progress(&id).await?;
        let detail = json!({ "job": id, "unit": root.id, "items": p.total });
        let e = Event::new(Action::CertReissueJob)
            .actor(who.actor())
            .object("unit", &root.id)
            .unit(&root.id)
            .detail(detail);
        self.audit.record(e).await.map_err(|e| RegistryError::Admin(e.into()))?;
        Ok(p)
    }

    /// A job's progress, if its unit is in scope.
    pub async fn job(&self, who: Who<'_>, id: &str) -> Result<JobProgress, RegistryError> {
        let p = self.progress(id).await?;
        self.roots(who, Some(&p.unit_id)).await?;
        Ok(p)
    }

    /// Jobs with items still pending (to resume after a restart).
    pub async fn unfinished_jobs(&self) -> Result<Vec<String>, RegistryError> {
        let rows = sqlx::query("SELECT id FROM cert_jobs WHERE status = 'running' ORDER BY id")
            .fetch_all(self.db.pool())
            .await
            .map_err(DbError::from)?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>().map_err(DbError::from)?)
    }

    pub(crate) async fn progress(&self, id: &str) -> Result<JobProgress, RegistryError> {
        let job = sqlx::query("SELECT unit_id, status FROM cert_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
            .map_err(DbError::from)?
            .ok_or(DirectoryError::NotFound("certificate job"))?;
        let counts = sqlx::query("SELECT state, COUNT(*) FROM cert_job_items WHERE job_id = $1 GROUP BY state")
            .bind(id)
            .fetch_all(self.db.pool())
            .await
            .map_err(DbError::from)?;
        let errors = sqlx::query(concat!(
            "SELECT officer_id, error FROM cert_job_items WHERE job_id = $1 AND error IS NOT NULL ",
            "ORDER BY updated_at, cert_id LIMIT 20"
        ))
        .bind(id)
        .fetch_all(self.db.pool())
        .await
        .map_err(DbError::from)?;
        let mut p = JobProgress {
            id: id.to_owned(),
            unit_id: job.try_get(0).map_err(DbError::from)?,
            status: job.try_get(1).map_err(DbError::from)?,
            total: 0,
            done: 0,
            pending: 0,
            failed: 0,
            skipped: 0,
            errors: Vec::new(),
        };
        for r in &counts {
            let state: String = r.try_get(0).map_err(DbError::from)?;
            let n = r.try_get::<i64, _>(1).map_err(DbError::from)? as u64;
            p.total += n;
            match state.as_str() {
                "done" => p.done += n,
                "pending" => p.pending += n,
                "failed" => p.failed += n,
                _ => p.skipped += n,
            }
        }
        for r in &errors {
            let (o, e): (String, String) = (r.try_get(0).map_err(DbError::from)?, r.try_get(1).map_err(DbError::from)?);
            p.errors.push(format!("{o}: {e}"));
        }
        Ok(p)
    }

    /// Works through the job's pending items (at most `limit` of them, if given), reporting
    /// `(handled in this run, items pending when it started)` after each. Safe to run again
    /// after an interruption, and alongside another runner of the same job.
    pub async fn run_reissue(
        &self,
        id: &str,
        limit: Option<usize>,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<JobProgress, RegistryError> {
        let actor: String = sqlx::query("SELECT actor FROM cert_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
            .map_err(DbError::from)?
            .ok_or(DirectoryError::NotFound("certificate job"))?
            .try_get(0)
            .map_err(DbError::from)?;
        let actor = actor_of(&actor);
        let rows = sqlx::query(concat!(
            "SELECT cert_id, officer_id, request_id FROM cert_job_items WHERE job_id = $1 AND state = 'pending' ",
            "ORDER BY cert_id"
        ))
        .bind(id)
        .fetch_all(self.db.pool())
        .await
        .map_err(DbError::from)?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            items.push(Item {
                cert_id: r.try_get(0).map_err(DbError::from)?,
                officer_id: r.try_get(1).map_err(DbError::from)?,
                request_id: r.try_get(2).map_err(DbError::from)?,
            });
        }
        items.truncate(limit.unwrap_or(usize::MAX));
        let total = items.len() as u64;
        let handled = std::sync::atomic::AtomicU64::new(0);
        let mut unreachable = None;
        // Collected first: a lazily mapped iterator makes the future not provably Send.
        let work: Vec<_> = items.iter().map(|it| self.reissue_one(id, it, &actor)).collect();
        let mut results = futures::stream::iter(work).buffer_unordered(CONCURRENCY);
        while let Some(r) = results.next().await {
            match r? {
                Outcome::Retry(e) => unreachable = Some(e),
                Outcome::Done | Outcome::Skipped(_) | Outcome::Failed(_) => {}
            }
            progress(handled.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, total);
        }
        drop(results);
        let p = self.progress(id).await?;
        if p.pending == 0 {
            sqlx::query("UPDATE cert_jobs SET status = 'done', updated_at = $1 WHERE id = $2")
                .bind(self.validator.now())
                .bind(id)
                .execute(self.db.pool())
                .await
                .map_err(DbError::from)?;
        } else if let Some(e) = unreachable {
            tracing::warn!(job = id, pending = p.pending, error = %e, "certificate re-issue: the CA was unreachable, resume later");
        }
        self.progress(id).await
    }

    async fn reissue_one(&self, job: &str, it: &Item, actor: &Actor) -> Result<Outcome, RegistryError> {
        let outcome = match self.try_reissue(job, it, actor).await {
            Ok(o) => o,
            Err(RegistryError::Ca(CaError::Unavailable(e))) => Outcome::Retry(e),
            // The stores failing stops the run (resume later); anything else is this item's.
            Err(e @ RegistryError::Admin(AdminError::Directory(DirectoryError::Db(_)) | AdminError::Kv(_))) => {
                return Err(e);
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
        let (state, error) = match &outcome {
            Outcome::Done => return Ok(outcome),
            Outcome::Skipped(e) => ("skipped", e),
            Outcome::Failed(e) => ("failed", e),
            Outcome::Retry(e) => ("pending", e),
        };
        sqlx::query(
            "UPDATE cert_job_items SET state = $1, error = $2, updated_at = $3 WHERE job_id = $4 AND cert_id = $5 AND state = 'pending'",
        )
        .bind(state)
        .bind(error.chars().take(500).collect::<String>())
        .bind(self.validator.now())
        .bind(job)
        .bind(&it.cert_id)
        .execute(self.db.pool())
        .await
        .map_err(DbError::from)?;
        Ok(outcome)
    }

    async fn try_reissue(&self, job: &str, it: &Item, actor: &Actor) -> Result<Outcome, RegistryError> {
        let old = self.db.certificate(&it.cert_id).await?.ok_or(DirectoryError::NotFound("certificate"))?;
        if old.status != CertStatus::Active {
            return Ok(Outcome::Skipped(format!("the certificate is {} now", old.status.as_str())));
        }
        let (officer, unit) = self.officer_in_scope(Who::Operator, &it.officer_id).await?;
        let subject = self.subject_of(&officer, &unit).await?;
        let issued = self.ca()?.reissue(&old.serial, &subject, &it.request_id).await?;
        let new = self.admit_issued(&officer, &issued.certificate_pem, &issued.chain_pem).await?;
        let mut tx = self.db.pool().begin().await.map_err(DbError::from)?;
        let claimed = sqlx::query(concat!(
            "UPDATE cert_job_items SET state = 'done', new_cert_id = $1, error = NULL, updated_at = $2 ",
            "WHERE job_id = $3 AND cert_id = $4 AND state = 'pending'"
        ))
        .bind(&new.id)
        .bind(new.created_at)
        .bind(job)
        .bind(&it.cert_id)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let retired = sqlx::query(concat!(
            "UPDATE officer_certificates SET status = 'retired', status_reason = 'reissued', replaced_by = $1, ",
            "updated_at = $2 WHERE id = $3 AND status = 'active'"
        ))
        .bind(&new.id)
        .bind(new.created_at)
        .bind(&old.id)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
        if claimed.rows_affected() == 0 || retired.rows_affected() == 0 {
            // Another runner applied it, or the certificate changed meanwhile.
            tx.rollback().await.map_err(DbError::from)?;
            return Ok(Outcome::Skipped("applied elsewhere meanwhile".into()));
        }
        insert_in(&mut tx, &new).await?;
        tx.commit().await.map_err(DbError::from)?;
        let detail =
            json!({ "certificate": new.id, "serial": new.serial, "replaces": old.id, "job": job, "unit": unit.name });
        let e = Event::new(Action::CertReissued).actor(actor.clone()).object("officer", &officer.id).detail(detail);
        self.audit.record(e).await.map_err(|e| RegistryError::Admin(e.into()))?;
        Ok(Outcome::Done)
    }
}
