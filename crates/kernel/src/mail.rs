//! The mail outbox: mails are enqueued as jobs in the transaction that causes them and sent
//! over SMTP by a worker, so a mail is neither lost in a crash nor sent for a rolled-back change.
//!
//! Each mail carries a Message-ID derived from its job, so a resend after a crash (at least
//! once delivery) can be recognised as a duplicate by the receiving side.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::db::{DbResult, Tx};
use crate::ids::{JobId, TenantId};
use crate::jobs::{self, JobError, NewJob, Runner};
use crate::secret::Secret;
use crate::time::Timestamp;

/// `[mail]` in the config file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://host:465`.
    /// Empty: mails stay in the outbox as failed jobs with a note that SMTP is not configured.
    pub smtp_url: Secret,
    /// The sender, e.g. `Kreis Musterland <noreply@kreis-musterland.de>`.
    pub from: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig { smtp_url: Secret::default(), from: "Kreishaus <noreply@kreishaus.invalid>".into() }
    }
}

/// The job kind of an outgoing mail.
pub const SEND_MAIL: &str = "mail.send";

/// A plain-text mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Puts a mail into the outbox inside the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    now: Timestamp,
    tenant: Option<TenantId>,
    mail: &Mail,
    idempotency_key: Option<String>,
) -> DbResult<Option<JobId>> {
    let payload = serde_json::to_value(mail).unwrap_or_default();
    jobs::enqueue(tx, now, NewJob { tenant, idempotency_key, ..NewJob::new(SEND_MAIL, payload) }).await
}

/// Registers the SMTP sender for [`SEND_MAIL`] jobs.
pub fn register(runner: &mut Runner, cfg: &MailConfig) -> Result<(), String> {
    let transport = if cfg.smtp_url.is_empty() {
        None
    } else {
        Some(
            AsyncSmtpTransport::<Tokio1Executor>::from_url(cfg.smtp_url.expose())
                .map_err(|e| format!("mail.smtp_url is not a valid SMTP URL: {e}"))?
                .build(),
        )
    };
    let from =
        cfg.from.parse::<lettre::message::Mailbox>().map_err(|e| format!("mail.from is not a valid address: {e}"))?;
    runner.register(SEND_MAIL, move |_kernel, job| {
        let transport = transport.clone();
        let from = from.clone();
        async move {
            let Some(transport) = transport else {
                return Err(JobError::Permanent("SMTP is not configured (mail.smtp_url)".into()));
            };
            let mail: Mail = serde_json::from_value(job.payload)
                .map_err(|e| JobError::Permanent(format!("bad mail payload: {e}")))?;
            let to = mail.to.parse().map_err(|e| JobError::Permanent(format!("bad recipient: {e}")))?;
            let message = Message::builder()
                .from(from)
                .to(to)
                .subject(mail.subject)
                .message_id(Some(format!("<job-{}@kreishaus>", job.id)))
                .header(ContentType::TEXT_PLAIN)
                // Every mail of ours is sent by a machine: auto-responders must not answer it
                // (RFC 3834), so that no two robots mail each other forever.
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()))
                .body(mail.body)
                .map_err(|e| JobError::Permanent(format!("cannot build mail: {e}")))?;
            transport.send(message).await.map(drop).map_err(|e| {
                if e.is_permanent() { JobError::Permanent(e.to_string()) } else { JobError::Retry(e.to_string()) }
            })
        }
    });
    Ok(())
}
