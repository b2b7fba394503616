//! Delivery of submissions to a back-office system by signed webhook (issue 5, item 6).
//!
//! The Redaktion gives a form a URL; a secret is generated, shown once and stored. Every
//! submission of the form enqueues a `forms.deliver` job in the submission's own transaction,
//! so a submission that was acknowledged is delivered even after a crash. The job POSTs the
//! submission document (see docs/FORMS.md, "Delivery") with
//! `X-Kreishaus-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`,
//! `X-Kreishaus-Timestamp` (Unix seconds) and `X-Kreishaus-Delivery` (the same id on every
//! attempt, for the receiver to drop repeats). A non-2xx answer or a timeout fails the attempt;
//! the kernel's queue retries with backoff, and after the last attempt the delivery stays
//! failed, shown on the inbox page with a "retry" action.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use kernel::jobs::{self, Job, JobError, NewJob, Runner};
use kernel::{AppError, Kernel, TenantId, Timestamp, Tx};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::model::{StoredFile, Submission};
use crate::store;

/// The job kind of a delivery.
pub const DELIVER: &str = "forms.deliver";
/// Attempts before a delivery stays failed: with the queue's backoff (10 s, doubling, at most an
/// hour) the last one is about 2.5 hours after the submission.
pub const ATTEMPTS: i64 = 10;
/// How long the receiver may take to answer one attempt.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The idempotency key of a submission's delivery job, also sent as `X-Kreishaus-Delivery`.
pub fn delivery_id(tracking_id: &str) -> String {
    format!("forms-delivery:{tracking_id}")
}

/// `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length; the error case cannot happen.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", kernel::hex(&mac.finalize().into_bytes()))
}

/// Checks a delivery URL: `https://`, or `http://` only to this machine (tests, a local relay);
/// no credentials in the URL (they would show wherever the URL shows).
pub fn check_url(url: &str) -> Result<String, AppError> {
    let bad = || AppError::invalid("forms.delivery_url_invalid", "url");
    let url = url.trim();
    if url.len() > 2000 {
        return Err(bad());
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    let local = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && local);
    if !scheme_ok || parsed.host_str().is_none() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad());
    }
    Ok(parsed.to_string())
}

/// Enqueues the delivery of a submission inside its transaction.
pub async fn enqueue(tx: &mut Tx, now: Timestamp, tenant: TenantId, tracking_id: &str) -> kernel::DbResult<()> {
    let job = NewJob {
        kind: DELIVER,
        tenant: Some(tenant),
        payload: json!({ "tracking_id": tracking_id }),
        idempotency_key: Some(delivery_id(tracking_id)),
        max_attempts: ATTEMPTS,
    };
    jobs::enqueue(tx, now, job).await?;
    Ok(())
}

/// A file of a submission in a document: its facts, and either its content or where staff
/// download it.
pub enum FileContent {
    Base64(bytes::Bytes),
    Link(String),
}

/// The submission as a JSON document: the webhook's body and the staff's JSON download.
pub fn document(s: &Submission, tenant_slug: &str, files: &[(StoredFile, FileContent)]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|(f, content)| {
            let mut v = json!({
                "field": f.field,
                "file_name": f.file_name,
                "media_type": f.media_type,
                "size": f.size,
                "sha256": f.blob_sha256.trim_start_matches("sha256:"),
            });
            match content {
                FileContent::Base64(b) => {
                    v["content_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(b));
                }
                FileContent::Link(url) => v["download_url"] = json!(url),
            }
            v
        })
        .collect();
    json!({
        "tracking_id": s.tracking_id,
        "tenant": tenant_slug,
        "form": { "id": s.form_id, "version": s.version },
        "received_at": s.created_at.rfc3339(),
        "data": s.data,
        "data_sha256": s.data_sha256,
        "fee_cents": s.fee_cents,
        "files": files,
    })
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry(e.to_string())
}

/// One attempt: the document with the files' content, signed and POSTed.
async fn deliver(k: Kernel, client: reqwest::Client, job: Job) -> Result<(), JobError> {
    let tracking = job.payload["tracking_id"].as_str().unwrap_or_default().to_owned();
    let s = store::submission_by_tracking_id(&k.db, &tracking)
        .await
        .map_err(retry)?
        .ok_or_else(|| JobError::Permanent(format!("submission {tracking} not found")))?;
    let Some((url, secret)) = store::delivery_target(&k.db, s.tenant, &s.form_id).await.map_err(retry)? else {
        return Err(JobError::Permanent("the form has no delivery address any more".into()));
    };
    let tenant = identity::service::tenant(&k, s.tenant).await.map_err(retry)?;
    let mut files = Vec::new();
    for f in store::files(&k.db, s.id).await.map_err(retry)? {
        let hash = kernel::blobs::BlobHash::parse(&f.blob_sha256)
            .ok_or_else(|| JobError::Permanent(format!("bad file reference {}", f.blob_sha256)))?;
        let bytes = k.blobs.get(&hash).await.map_err(retry)?;
        files.push((f, FileContent::Base64(bytes)));
    }
    let body = document(&s, &tenant.slug, &files).to_string().into_bytes();
    let timestamp = k.clock.now().millis() / 1000;
    let response = client
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-Kreishaus-Signature", signature(&secret, timestamp, &body))
        .header("X-Kreishaus-Timestamp", timestamp.to_string())
        .header("X-Kreishaus-Delivery", delivery_id(&s.tracking_id))
        .body(body)
        .send()
        .await
        .map_err(|e| retry(format!("no answer from the receiver: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(retry(format!("the receiver answered HTTP {}", status.as_u16()))) }
}

/// Registers the delivery job with the runner.
pub fn register(runner: &mut Runner) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Kreishaus-Webhook/1")
        .build()
        .map_err(|e| format!("the webhook client cannot start: {e}"))?;
    runner.register(DELIVER, move |k, job| deliver(k, client.clone(), job));
    Ok(())
}
