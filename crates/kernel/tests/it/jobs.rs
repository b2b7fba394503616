//! The job queue: enqueueing, claiming due jobs, retries with backoff, leases, and many
//! workers claiming at once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kernel::jobs::{self, Job, JobError, JobStatus, NewJob, Ran, Runner};
use kernel::{Db, JobId, Kernel};
use serde_json::json;

use crate::{Setup, setup};

const LEASE_SECS: i64 = 300;

/// Enqueues a job in its own transaction at the kernel's current time.
async fn enqueue(kernel: &Kernel, job: NewJob) -> Option<JobId> {
    let mut tx = kernel.db.begin().await.expect("begin");
    let id = jobs::enqueue(&mut tx, kernel.clock.now(), job).await.expect("enqueue");
    tx.commit().await.expect("commit");
    id
}

/// Enqueues a job of `kind` that may be attempted `max_attempts` times.
async fn enqueue_kind(kernel: &Kernel, kind: &'static str, max_attempts: i64) -> JobId {
    let job = NewJob { max_attempts, ..NewJob::new(kind, json!({ "n": 1 })) };
    enqueue(kernel, job).await.expect("a new job")
}

async fn job(db: &Db, id: JobId) -> Job {
    jobs::get(db, id).await.expect("get").expect("job exists")
}

/// A runner whose only handler fails with `err` every time.
fn failing_runner(kind: &'static str, err: fn() -> JobError) -> Runner {
    let mut runner = Runner::default();
    runner.register(kind, move |_, _| async move { Err(err()) });
    runner
}

async fn run_next(s: &Setup, runner: &Runner) -> Ran {
    runner.run_next(&s.kernel, "worker-1").await.expect("run_next")
}

#[tokio::test]
async fn an_enqueued_job_is_stored_queued_and_due_now() {
    let s = setup().await;
    let id = enqueue(&s.kernel, NewJob::new("test.echo", json!({ "hello": "Auenthal" }))).await.expect("an id");

    let j = job(s.db(), id).await;
    assert_eq!((j.kind.as_str(), j.status, j.attempts, j.max_attempts), ("test.echo", JobStatus::Queued, 0, 8));
    assert_eq!(j.payload, json!({ "hello": "Auenthal" }));
    assert_eq!(j.run_at, s.clock().now());
    assert_eq!(j.locked_by, None);
}

#[tokio::test]
async fn enqueueing_twice_with_the_same_idempotency_key_creates_one_job() {
    let s = setup().await;
    let keyed = || NewJob { idempotency_key: Some("bescheid:42".into()), ..NewJob::new("test.echo", json!({})) };

    let first = enqueue(&s.kernel, keyed()).await;
    let second = enqueue(&s.kernel, keyed()).await;

    assert!(first.is_some());
    assert_eq!(second, None);
    assert_eq!(jobs::stats(s.db()).await.expect("stats").queued, 1);
}

#[tokio::test]
async fn claim_returns_only_jobs_that_are_due() {
    let s = setup().await;
    // Enqueued with a time a minute ahead, so it becomes due only then.
    let later = s.clock().now().plus_secs(60);
    let mut tx = s.db().begin().await.expect("begin");
    let id = jobs::enqueue(&mut tx, later, NewJob::new("test.echo", json!({}))).await.expect("enqueue").expect("id");
    tx.commit().await.expect("commit");

    let now = s.clock().now();
    assert!(jobs::claim(s.db(), now, "worker-1", LEASE_SECS).await.expect("claim").is_none());

    let claimed = jobs::claim(s.db(), later, "worker-1", LEASE_SECS).await.expect("claim").expect("due now");
    assert_eq!(claimed.id, id);
    assert_eq!((claimed.status, claimed.attempts), (JobStatus::Running, 1));
    assert_eq!(claimed.locked_by.as_deref(), Some("worker-1"));
    assert!(jobs::claim(s.db(), later, "worker-2", LEASE_SECS).await.expect("claim").is_none(), "held by worker-1");
}

#[tokio::test]
async fn a_failing_job_is_retried_after_ten_then_twenty_seconds_and_then_fails_for_good() {
    let s = setup().await;
    let runner = failing_runner("test.flaky", || JobError::Retry("upstream unavailable".into()));
    let id = enqueue_kind(&s.kernel, "test.flaky", 3).await;

    for (attempt, backoff) in [(1, 10), (2, 20)] {
        let failed_at = s.clock().now();
        assert_eq!(run_next(&s, &runner).await, Ran::Failed(id, JobStatus::Queued));
        let j = job(s.db(), id).await;
        assert_eq!((j.status, j.attempts), (JobStatus::Queued, attempt));
        assert_eq!(j.run_at, failed_at.plus_secs(backoff), "backoff after attempt {attempt}");
        assert_eq!(j.last_error.as_deref(), Some("upstream unavailable"));

        s.clock().advance_secs(backoff - 1);
        assert_eq!(run_next(&s, &runner).await, Ran::Nothing, "not due before its backoff");
        s.clock().advance_secs(1);
    }

    assert_eq!(run_next(&s, &runner).await, Ran::Failed(id, JobStatus::Failed));
    let j = job(s.db(), id).await;
    assert_eq!((j.status, j.attempts), (JobStatus::Failed, 3));
    assert_eq!(j.finished_at, Some(s.clock().now()));
    assert_eq!(run_next(&s, &runner).await, Ran::Nothing);
}

#[tokio::test]
async fn a_permanent_error_fails_the_job_at_once() {
    let s = setup().await;
    let runner = failing_runner("test.broken", || JobError::Permanent("payload is nonsense".into()));
    let id = enqueue_kind(&s.kernel, "test.broken", 8).await;

    assert_eq!(run_next(&s, &runner).await, Ran::Failed(id, JobStatus::Failed));
    let j = job(s.db(), id).await;
    assert_eq!((j.status, j.attempts), (JobStatus::Failed, 1));
    assert_eq!(j.last_error.as_deref(), Some("payload is nonsense"));
}

#[tokio::test]
async fn retry_puts_a_failed_job_back_into_the_queue() {
    let s = setup().await;
    let runner = failing_runner("test.broken", || JobError::Permanent("mailbox full".into()));
    let id = enqueue_kind(&s.kernel, "test.broken", 8).await;
    run_next(&s, &runner).await;
    s.clock().advance_secs(3600);

    assert!(jobs::retry(s.db(), id, s.clock().now()).await.expect("retry"));
    let j = job(s.db(), id).await;
    assert_eq!((j.status, j.attempts, j.finished_at), (JobStatus::Queued, 0, None));
    assert_eq!(j.run_at, s.clock().now());
    assert!(!jobs::retry(s.db(), id, s.clock().now()).await.expect("retry"), "only a failed job can be retried");

    let claimed = jobs::claim(s.db(), s.clock().now(), "worker-1", LEASE_SECS).await.expect("claim");
    assert_eq!(claimed.map(|j| j.id), Some(id));
}

#[tokio::test]
async fn a_job_of_an_unknown_kind_fails_permanently() {
    let s = setup().await;
    let id = enqueue_kind(&s.kernel, "test.nobody_handles_this", 8).await;

    assert_eq!(run_next(&s, &Runner::default()).await, Ran::Failed(id, JobStatus::Failed));
    let j = job(s.db(), id).await;
    assert_eq!(j.attempts, 1);
    assert!(j.last_error.as_deref().is_some_and(|e| e.contains("no handler")), "{:?}", j.last_error);
}

#[tokio::test]
async fn a_job_whose_lease_expired_is_claimed_again_by_another_worker() {
    let s = setup().await;
    let id = enqueue_kind(&s.kernel, "test.echo", 8).await;
    let first = jobs::claim(s.db(), s.clock().now(), "node-a", LEASE_SECS).await.expect("claim").expect("a job");
    assert_eq!(first.id, id);

    s.clock().advance_secs(LEASE_SECS);
    assert!(jobs::claim(s.db(), s.clock().now(), "node-b", LEASE_SECS).await.expect("claim").is_none(), "lease holds");

    s.clock().advance_secs(1);
    let again =
        jobs::claim(s.db(), s.clock().now(), "node-b", LEASE_SECS).await.expect("claim").expect("lease ran out");
    assert_eq!((again.id, again.attempts, again.locked_by.as_deref()), (id, 2, Some("node-b")));

    // The node that lost the lease can no longer finish the job; the new holder can.
    jobs::complete(s.db(), id, "node-a", s.clock().now()).await.expect("complete");
    assert_eq!(job(s.db(), id).await.status, JobStatus::Running);
    jobs::complete(s.db(), id, "node-b", s.clock().now()).await.expect("complete");
    assert_eq!(job(s.db(), id).await.status, JobStatus::Done);
}

#[tokio::test]
async fn run_next_completes_a_job_exactly_once() {
    let s = setup().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let mut runner = Runner::default();
    let seen = calls.clone();
    runner.register("test.count", move |_, job| {
        let seen = seen.clone();
        async move {
            assert_eq!(job.payload, json!({ "n": 1 }));
            seen.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let id = enqueue_kind(&s.kernel, "test.count", 8).await;

    assert_eq!(run_next(&s, &runner).await, Ran::Done(id));
    assert_eq!(run_next(&s, &runner).await, Ran::Nothing);
    s.clock().advance_secs(LEASE_SECS * 2);
    assert_eq!(run_next(&s, &runner).await, Ran::Nothing, "a done job is never claimed again");

    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let j = job(s.db(), id).await;
    assert_eq!((j.status, j.attempts, j.last_error), (JobStatus::Done, 1, None));
    assert!(j.finished_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_claim_every_job_exactly_once() {
    const JOBS: usize = 200;
    const WORKERS: usize = 8;
    let s = setup().await;
    let mut tx = s.db().begin().await.expect("begin");
    for n in 0..JOBS {
        jobs::enqueue(&mut tx, s.clock().now(), NewJob::new("test.echo", json!({ "n": n }))).await.expect("enqueue");
    }
    tx.commit().await.expect("commit");

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (db, now) = (s.db().clone(), s.clock().now());
            tokio::spawn(async move {
                let worker = format!("node-{w}");
                let mut claimed = Vec::new();
                while let Some(job) = jobs::claim(&db, now, &worker, LEASE_SECS).await.expect("claim") {
                    jobs::complete(&db, job.id, &worker, now).await.expect("complete");
                    claimed.push(job.id);
                }
                claimed
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker task"));
    }

    let distinct: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), JOBS, "claims in total");
    assert_eq!(distinct.len(), JOBS, "no job was claimed twice");
    let stats = jobs::stats(s.db()).await.expect("stats");
    assert_eq!((stats.done, stats.queued, stats.running), (JOBS as i64, 0, 0));
}
