//! Background jobs: a durable queue in the database.
//!
//! A job is a row. Any number of nodes claim jobs with a lease; PostgreSQL skips rows another
//! node holds (`FOR UPDATE SKIP LOCKED`), SQLite has one writer and needs nothing more. A job
//! whose node died is claimed again when its lease runs out. Failures are retried with
//! exponential backoff up to `max_attempts`. Handlers must be idempotent: a job may run again
//! after a crash between doing its work and being marked done. Enqueueing with an idempotency
//! key twice creates one job.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Kernel;
use crate::db::{Db, DbResult, Engine, Row, Tx, query, query_owned};
use crate::ids::{JobId, TenantId};
use crate::time::Timestamp;

/// The lifecycle of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            _ => JobStatus::Queued,
        }
    }
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: &'static str,
    pub tenant: Option<TenantId>,
    pub payload: serde_json::Value,
    /// Enqueueing a second job with the same key does nothing.
    pub idempotency_key: Option<String>,
    pub max_attempts: i64,
}

impl NewJob {
    pub fn new(kind: &'static str, payload: serde_json::Value) -> Self {
        NewJob { kind, tenant: None, payload, idempotency_key: None, max_attempts: 8 }
    }
}

/// A stored job.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub tenant: Option<TenantId>,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

const JOB_COLUMNS: &str = "id, kind, tenant_id, payload, status, attempts, max_attempts, run_at, locked_by, last_error, created_at, finished_at";

fn job_from(r: &Row) -> DbResult<Job> {
    let payload: String = r.get("payload")?;
    Ok(Job {
        id: JobId(r.get("id")?),
        kind: r.get("kind")?,
        tenant: r.get::<Option<i64>>("tenant_id")?.map(TenantId),
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        status: JobStatus::parse(&r.get::<String>("status")?),
        attempts: r.get("attempts")?,
        max_attempts: r.get("max_attempts")?,
        run_at: Timestamp::from_millis(r.get("run_at")?),
        locked_by: r.get("locked_by")?,
        last_error: r.get("last_error")?,
        created_at: Timestamp::from_millis(r.get("created_at")?),
        finished_at: r.get::<Option<i64>>("finished_at")?.map(Timestamp::from_millis),
    })
}

/// Enqueues a job inside the caller's transaction, so it exists exactly when the change that
/// asked for it was committed. Returns `None` when a job with the same idempotency key exists.
pub async fn enqueue(tx: &mut Tx, now: Timestamp, job: NewJob) -> DbResult<Option<JobId>> {
    let row = tx
        .fetch_optional(
            query(
                "INSERT INTO jobs (kind, tenant_id, payload, status, attempts, max_attempts, run_at, idempotency_key, created_at) \
                 VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $5) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            )
            .bind(job.kind)
            .bind(job.tenant)
            .bind(job.payload.to_string())
            .bind(job.max_attempts)
            .bind(now)
            .bind(job.idempotency_key),
        )
        .await?;
    row.map(|r| r.get("id").map(JobId)).transpose()
}

/// Claims the next due job for `worker`, holding it for `lease_secs`.
pub async fn claim(db: &Db, now: Timestamp, worker: &str, lease_secs: i64) -> DbResult<Option<Job>> {
    // The only engine difference in the queue: PostgreSQL must skip rows that a concurrent
    // claim on another node has locked; SQLite serialises writers and has no such clause.
    let skip_locked = match db.engine() {
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2 \
         WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND locked_until < $3) \
                     ORDER BY run_at, id LIMIT 1{skip_locked}) \
         RETURNING {JOB_COLUMNS}"
    );
    let row = db.fetch_optional(query_owned(sql).bind(worker).bind(now.plus_secs(lease_secs)).bind(now)).await?;
    row.as_ref().map(job_from).transpose()
}

/// Marks a job done; only the worker holding it can.
pub async fn complete(db: &Db, id: JobId, worker: &str, now: Timestamp) -> DbResult<()> {
    db.execute(
        query("UPDATE jobs SET status = 'done', finished_at = $3, locked_until = NULL, last_error = NULL WHERE id = $1 AND locked_by = $2 AND status = 'running'")
            .bind(id)
            .bind(worker)
            .bind(now),
    )
    .await
    .map(drop)
}

/// The wait before attempt `attempts + 1`: 10 s, 20 s, 40 s … at most one hour.
pub fn backoff_secs(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    (10_i64 << exp).min(3600)
}

/// Records a failed attempt: the job is queued again after a backoff, or failed for good when
/// it was permanent or the attempts are used up.
pub async fn fail(
    db: &Db,
    job: &Job,
    worker: &str,
    now: Timestamp,
    error: &str,
    permanent: bool,
) -> DbResult<JobStatus> {
    let give_up = permanent || job.attempts >= job.max_attempts;
    let (status, run_at, finished) = if give_up {
        (JobStatus::Failed, job.run_at, Some(now))
    } else {
        (JobStatus::Queued, now.plus_secs(backoff_secs(job.attempts)), None)
    };
    db.execute(
        query("UPDATE jobs SET status = $3, run_at = $4, finished_at = $5, last_error = $6, locked_until = NULL WHERE id = $1 AND locked_by = $2")
            .bind(job.id)
            .bind(worker)
            .bind(status.as_str())
            .bind(run_at)
            .bind(finished)
            .bind(truncate(error, 2000)),
    )
    .await?;
    Ok(status)
}

fn truncate(s: &str, max: usize) -> String {
    s.char_indices().take_while(|(i, _)| *i < max).map(|(_, c)| c).collect()
}

/// Puts a failed job back in the queue (an administrator's "retry").
pub async fn retry(db: &Db, id: JobId, now: Timestamp) -> DbResult<bool> {
    let n = db
        .execute(
            query("UPDATE jobs SET status = 'queued', run_at = $2, attempts = 0, finished_at = NULL WHERE id = $1 AND status = 'failed'")
                .bind(id)
                .bind(now),
        )
        .await?;
    Ok(n == 1)
}

/// How many jobs are in each state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

pub async fn stats(db: &Db) -> DbResult<QueueStats> {
    let rows = db.fetch_all(query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")).await?;
    let mut s = QueueStats::default();
    for r in rows {
        let n: i64 = r.get("n")?;
        match JobStatus::parse(&r.get::<String>("status")?) {
            JobStatus::Queued => s.queued = n,
            JobStatus::Running => s.running = n,
            JobStatus::Done => s.done = n,
            JobStatus::Failed => s.failed = n,
        }
    }
    Ok(s)
}

/// The newest jobs, optionally of one status.
pub async fn recent(db: &Db, status: Option<JobStatus>, limit: i64) -> DbResult<Vec<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR status = $1) ORDER BY id DESC LIMIT $2");
    let rows = db.fetch_all(query_owned(sql).bind(status.map(JobStatus::as_str)).bind(limit)).await?;
    rows.iter().map(job_from).collect()
}

pub async fn get(db: &Db, id: JobId) -> DbResult<Option<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    let row = db.fetch_optional(query_owned(sql).bind(id)).await?;
    row.as_ref().map(job_from).transpose()
}

/// The job enqueued with this idempotency key, if any.
pub async fn by_idempotency_key(db: &Db, key: &str) -> DbResult<Option<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE idempotency_key = $1");
    let row = db.fetch_optional(query_owned(sql).bind(key)).await?;
    row.as_ref().map(job_from).transpose()
}

/// Why a job failed: worth another attempt, or not.
#[derive(Debug)]
pub enum JobError {
    Retry(String),
    Permanent(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Retry(m) | JobError::Permanent(m) => f.write_str(m),
        }
    }
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
pub type Handler = Arc<dyn Fn(Kernel, Job) -> HandlerFuture + Send + Sync>;

/// The job kinds this node can run, and the loop that runs them.
#[derive(Clone, Default)]
pub struct Runner {
    handlers: HashMap<&'static str, Handler>,
}

/// What one call of [`Runner::run_next`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ran {
    Nothing,
    Done(JobId),
    Failed(JobId, JobStatus),
}

impl Runner {
    pub fn register<F, Fut>(&mut self, kind: &'static str, f: F)
    where
        F: Fn(Kernel, Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers.insert(kind, Arc::new(move |k, j| Box::pin(f(k, j))));
    }

    /// Claims and runs one due job.
    pub async fn run_next(&self, kernel: &Kernel, worker: &str) -> DbResult<Ran> {
        const LEASE_SECS: i64 = 300;
        let Some(job) = claim(&kernel.db, kernel.clock.now(), worker, LEASE_SECS).await? else {
            return Ok(Ran::Nothing);
        };
        let id = job.id;
        let outcome = match self.handlers.get(job.kind.as_str()) {
            _ if job.attempts > job.max_attempts => Err(JobError::Permanent("lease expired too often".into())),
            None => Err(JobError::Permanent(format!("no handler for job kind {}", job.kind))),
            Some(h) => h(kernel.clone(), job.clone()).await,
        };
        let now = kernel.clock.now();
        match outcome {
            Ok(()) => {
                complete(&kernel.db, id, worker, now).await?;
                Ok(Ran::Done(id))
            }
            Err(e) => {
                tracing::warn!(job = %id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                let permanent = matches!(e, JobError::Permanent(_));
                Ok(Ran::Failed(id, fail(&kernel.db, &job, worker, now, &e.to_string(), permanent).await?))
            }
        }
    }

    /// Runs jobs until `shutdown` turns true, sleeping `idle` when the queue is empty.
    pub async fn run(
        self,
        kernel: Kernel,
        worker: String,
        idle: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        while !*shutdown.borrow() {
            let pause = match self.run_next(&kernel, &worker).await {
                Ok(Ran::Nothing) => idle,
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    tracing::error!(error = %e, "job queue unavailable");
                    idle
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_and_stops_at_one_hour() {
        assert_eq!(backoff_secs(1), 10);
        assert_eq!(backoff_secs(2), 20);
        assert_eq!(backoff_secs(4), 80);
        assert_eq!(backoff_secs(30), 3600);
    }
}
