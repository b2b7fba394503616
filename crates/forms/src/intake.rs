//! The submissions' writer: group commit.
//!
//! Every submission is checked, hashed and given its tracking id before it comes here (see
//! [`crate::service::submit`]); what is left is the write: the submission row, its files, its
//! first status event, the delivery job, the receipt mail and the audit entry, all in one
//! transaction. One writer task per node writes them (a few take turns on PostgreSQL). While it
//! writes one transaction, new submissions queue; the next transaction takes all of them (at
//! most [`BATCH`]), so one commit (one WAL append on SQLite, one WAL flush on PostgreSQL) and
//! one wait for the write lock serve many submissions. Each sender gets its answer only after
//! the transaction that holds its submission has committed: an acknowledged submission is as
//! durable as a single one.
//!
//! When a shared transaction fails (a statement fails for one of its submissions), it is rolled
//! back and every submission of it is written again in a transaction of its own, so one bad
//! submission fails alone. Writing again is safe: the insert does nothing for a submit token
//! already stored, and that submission is answered with its first receipt.
//! See `docs/adr/0016-group-commit-for-submissions.md`.

use std::sync::{Arc, OnceLock};

use kernel::audit::{self, Actor, NewEntry};
use kernel::blobs::BlobHash;
use kernel::{AppError, CitizenId, DbResult, Engine, Kernel, TenantId, Tx};
use serde_json::json;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::model::{Status, StoredFile, Submission};
use crate::store;

/// The most submissions one transaction takes.
pub const BATCH: usize = 64;
/// Submissions waiting for the writer before senders wait to hand theirs over.
const QUEUE: usize = 1024;

/// A submission ready to be written: everything that needs no database is done.
pub(crate) struct Prepared {
    pub submission: Submission,
    pub files: Vec<StoredFile>,
    pub submit_token: String,
    /// The receipt mail, if the applicant gave an address.
    pub mail: Option<kernel::mail::Mail>,
    /// The citizen's draft of the form goes when the application is sent.
    pub citizen: Option<CitizenId>,
}

/// What the write did.
pub(crate) enum Written {
    Stored,
    /// The submit token was used before: the submission stored then.
    Replayed(Box<Submission>),
}

struct Pending {
    prepared: Prepared,
    reply: oneshot::Sender<Result<Written, AppError>>,
}

/// The handle on a node's submission writer. Cheap to clone; the writer task starts with the
/// first submission (inside the server's runtime) and ends when the last handle is dropped.
#[derive(Clone)]
pub struct Intake {
    kernel: Kernel,
    queue: Arc<OnceLock<mpsc::Sender<Pending>>>,
}

impl Intake {
    pub fn new(kernel: Kernel) -> Self {
        Intake { kernel, queue: Arc::new(OnceLock::new()) }
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Writes the submission with others queued at the same time; returns once its transaction
    /// committed.
    pub(crate) async fn write(&self, prepared: Prepared) -> Result<Written, AppError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..writers(self.kernel.db.engine()) {
                tokio::spawn(run(self.kernel.clone(), rx.clone()));
            }
            tx
        });
        let (reply, answer) = oneshot::channel();
        match queue.send(Pending { prepared, reply }).await {
            Ok(()) => answer.await.map_err(|_| AppError::internal("the submission writer stopped"))?,
            // The writer is gone (its runtime shut down): write it here, alone.
            Err(mpsc::error::SendError(p)) => alone(&self.kernel, &p.prepared).await,
        }
    }
}

/// How many writers take turns at the queue. SQLite has one writer at a time anyway. On
/// PostgreSQL a writer's batch waits for the network on every statement; while one batch holds
/// the audit chain's head (from its first audit entry to its commit), others write their rows.
fn writers(engine: Engine) -> usize {
    match engine {
        Engine::Sqlite => 1,
        Engine::Postgres => 4,
    }
}

/// A writer: takes what is queued, writes it in one transaction, answers every sender.
async fn run(kernel: Kernel, queue: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let taken = queue.lock().await.recv_many(&mut batch, BATCH).await;
        if taken == 0 {
            break;
        }
        let answers = write_batch(&kernel, &batch).await;
        for (pending, answer) in batch.drain(..).zip(answers) {
            // A sender that gave up (its connection closed) no longer listens; the submission
            // is stored all the same, and a retry with its token gets its receipt.
            let _ = pending.reply.send(answer);
        }
    }
}

async fn write_batch(k: &Kernel, batch: &[Pending]) -> Vec<Result<Written, AppError>> {
    if batch.len() > 1 {
        match together(k, batch).await {
            Ok(written) => return written.into_iter().map(Ok).collect(),
            Err(e) => tracing::warn!("a shared submission transaction failed, writing one by one: {e}"),
        }
    }
    let mut out = Vec::with_capacity(batch.len());
    for p in batch {
        out.push(alone(k, &p.prepared).await);
    }
    out
}

async fn together(k: &Kernel, batch: &[Pending]) -> DbResult<Vec<Written>> {
    let mut tx = k.db.begin().await?;
    let (mut out, mut delivering) = (Vec::with_capacity(batch.len()), Vec::new());
    for p in batch {
        out.push(write(&mut tx, &p.prepared, &mut delivering).await?);
    }
    // The audit chain's head stays locked from the first entry to the commit: entries go last,
    // all in one append.
    let stored: Vec<&Submission> = batch
        .iter()
        .zip(&out)
        .filter(|(_, w)| matches!(w, Written::Stored))
        .map(|(p, _)| &p.prepared.submission)
        .collect();
    let (actor, subjects) = (Actor::system(), stored.iter().map(|s| subject(s)).collect::<Vec<_>>());
    let entries: Vec<_> =
        stored.iter().zip(&subjects).map(|(s, subject)| (s.created_at, entry(s, &actor, subject))).collect();
    audit::append_many(&mut tx, &entries).await?;
    tx.commit().await?;
    Ok(out)
}

/// One submission in its own transaction.
pub(crate) async fn alone(k: &Kernel, p: &Prepared) -> Result<Written, AppError> {
    let mut tx = k.db.begin().await?;
    let written = match write(&mut tx, p, &mut Vec::new()).await {
        Ok(Written::Stored) => record(&mut tx, &p.submission).await.map(|()| Written::Stored),
        other => other,
    };
    match written {
        Ok(w) => {
            tx.commit().await?;
            Ok(w)
        }
        // The same token sent to another node at the same moment: stored there a moment ago.
        Err(e) if e.is_unique_violation() => {
            drop(tx);
            let mut tx = k.db.begin().await?;
            let existing = store::submission_by_token(&mut tx, &p.submit_token).await?.ok_or(AppError::internal(e))?;
            Ok(Written::Replayed(Box::new(existing)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether a form delivers to a back office, by tenant and form, as a transaction found it.
type Delivering = Vec<(TenantId, String, bool)>;

/// The rows of one submission (all but its audit entry), in the caller's transaction. A
/// repeated submit token (the insert does nothing) answers with the submission stored first.
async fn write(tx: &mut Tx, p: &Prepared, delivering: &mut Delivering) -> DbResult<Written> {
    let s = &p.submission;
    let Some(id) = store::insert_submission(tx, s, &p.submit_token).await? else {
        return Ok(Written::Replayed(Box::new(store::stored_by_token(tx, &p.submit_token).await?)));
    };
    for file in &p.files {
        let referenced = s.data.values().any(|v| mentions(v, &file.blob_sha256));
        if referenced && BlobHash::parse(&file.blob_sha256).is_some() {
            store::insert_file(tx, id, file).await?;
        }
    }
    store::insert_event(tx, id, Status::Received, "", None, s.created_at).await?;
    let delivers = match delivering.iter().find(|(t, f, _)| *t == s.tenant && *f == s.form_id) {
        Some((_, _, d)) => *d,
        None => {
            let d = store::has_delivery_target(tx, s.tenant, &s.form_id).await?;
            delivering.push((s.tenant, s.form_id.clone(), d));
            d
        }
    };
    if delivers {
        crate::delivery::enqueue(tx, s.created_at, s.tenant, &s.tracking_id).await?;
    }
    if let Some(citizen) = p.citizen {
        store::delete_draft(tx, citizen, s.tenant, &s.form_id).await?;
    }
    if let Some(mail) = &p.mail {
        let key = Some(format!("receipt:{}", s.tracking_id));
        kernel::mail::enqueue(tx, s.created_at, Some(s.tenant), mail, key).await?;
    }
    Ok(Written::Stored)
}

/// The audit entry of a stored submission.
async fn record(tx: &mut Tx, s: &Submission) -> DbResult<()> {
    let subject = subject(s);
    audit::append(tx, s.created_at, entry(s, &Actor::system(), &subject)).await.map(drop)
}

fn subject(s: &Submission) -> String {
    format!("submission:{}", s.tracking_id)
}

fn entry<'a>(s: &Submission, actor: &'a Actor, subject: &'a str) -> NewEntry<'a> {
    let details = json!({ "form": s.form_id, "version": s.version, "tracking_id": s.tracking_id });
    NewEntry { tenant: s.tenant, actor, action: "forms.submission.received", subject, details }
}

/// Whether a canonical value is (or contains) the reference to a stored file.
fn mentions(v: &serde_json::Value, hash: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s.strip_prefix("sha256:") == Some(hash),
        serde_json::Value::Array(items) => items.iter().any(|i| mentions(i, hash)),
        serde_json::Value::Object(m) => m.values().any(|i| mentions(i, hash)),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use kernel::TenantId;

    use super::*;

    fn prepared(k: &Kernel, tenant: TenantId, tracking_id: &str, token: &str) -> Prepared {
        let now = k.clock.now();
        let mut data = serde_json::Map::new();
        data.insert("name".into(), json!(format!("Antrag {token}")));
        Prepared {
            submission: Submission {
                id: 0,
                tenant,
                form_id: "gruppe".into(),
                version: 1,
                tracking_id: tracking_id.into(),
                data,
                data_sha256: kernel::sha256_hex(token),
                fee_cents: None,
                applicant_email: Some("erika@example.org".into()),
                status_secret_sha256: None,
                org_unit: None,
                assigned_to: None,
                status: Status::Received,
                citizen: None,
                receipt_token: kernel::random_token(),
                certificate_code: None,
                created_at: now,
                updated_at: now,
            },
            files: Vec::new(),
            submit_token: token.into(),
            mail: Some(kernel::mail::Mail {
                to: "erika@example.org".into(),
                subject: "Eingang".into(),
                body: "…".into(),
            }),
            citizen: None,
        }
    }

    async fn stored(k: &Kernel) -> Vec<String> {
        let rows =
            k.db.fetch_all(kernel::query("SELECT tracking_id FROM submissions WHERE form_id = 'gruppe' ORDER BY id"))
                .await
                .unwrap();
        rows.iter().map(|r| r.get::<String>("tracking_id").unwrap()).collect()
    }

    async fn chains_intact(k: &Kernel) {
        for report in audit::verify(&k.db).await.unwrap() {
            assert!(report.first_break.is_none(), "{report:?}");
        }
    }

    #[tokio::test]
    async fn a_failing_submission_fails_alone_and_the_rest_of_its_batch_is_stored() {
        let app = testkit::TestApp::new().await;
        app.load_demo().await;
        let k = &app.kernel;
        let tenant = identity::service::tenant_by_slug(k, "kreis").await.unwrap().id;
        assert!(matches!(alone(k, &prepared(k, tenant, "AAAAA-AAAAA-0", "t0")).await, Ok(Written::Stored)));

        let mut answers = Vec::new();
        let batch: Vec<Pending> = [
            ("BBBBB-BBBBB-0", "t1"),
            // The tracking id of the stored one: this insert fails, and with it the shared transaction.
            ("AAAAA-AAAAA-0", "t2"),
            ("CCCCC-CCCCC-0", "t3"),
            // A repeat of the stored one's token: its first submission.
            ("DDDDD-DDDDD-0", "t0"),
            // A repeat of a token of this batch.
            ("EEEEE-EEEEE-0", "t3"),
        ]
        .into_iter()
        .map(|(tracking, token)| {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            Pending { prepared: prepared(k, tenant, tracking, token), reply }
        })
        .collect();
        let written = write_batch(k, &batch).await;
        assert!(matches!(written[0], Ok(Written::Stored)));
        assert!(written[1].is_err());
        assert!(matches!(written[2], Ok(Written::Stored)));
        assert!(matches!(&written[3], Ok(Written::Replayed(s)) if s.tracking_id == "AAAAA-AAAAA-0"));
        assert!(matches!(&written[4], Ok(Written::Replayed(s)) if s.tracking_id == "CCCCC-CCCCC-0"));
        assert_eq!(stored(k).await, ["AAAAA-AAAAA-0", "BBBBB-BBBBB-0", "CCCCC-CCCCC-0"]);
        let mails =
            k.db.fetch_one(kernel::query("SELECT COUNT(*) AS n FROM jobs WHERE idempotency_key LIKE 'receipt:%'"))
                .await
                .unwrap();
        assert_eq!(mails.get::<i64>("n").unwrap(), 3);
        chains_intact(k).await;
    }

    #[tokio::test]
    async fn submissions_sent_at_once_are_each_acknowledged_after_their_commit() {
        let app = testkit::TestApp::new().await;
        app.load_demo().await;
        let k = app.kernel.clone();
        let tenant = identity::service::tenant_by_slug(&k, "kreis").await.unwrap().id;
        let intake = Intake::new(k.clone());
        let mut sends = Vec::new();
        for n in 0..40 {
            let (intake, k) = (intake.clone(), k.clone());
            sends.push(tokio::spawn(async move {
                let tracking = format!("GGGGG-{n:05}-0");
                let written = intake.write(prepared(&k, tenant, &tracking, &format!("token-{n}"))).await;
                // Acknowledged means committed: another connection sees it now.
                let seen = store::submission_by_tracking_id(&k.db, &tracking).await.unwrap();
                (written, seen.is_some())
            }));
        }
        for send in sends {
            let (written, seen) = send.await.unwrap();
            assert!(matches!(written, Ok(Written::Stored)) && seen);
        }
        assert_eq!(stored(&k).await.len(), 40);
        chains_intact(&k).await;
    }
}
