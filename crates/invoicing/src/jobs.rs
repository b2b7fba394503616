//! The invoices' background jobs: scanning the drop folder and the invoice mailbox, and sending
//! reminders. Each node enqueues them periodically with an idempotency key per time slot, so however many nodes
//! run, each slot runs once; the jobs themselves are idempotent (by hash, by reminder kind).

use std::path::PathBuf;

use kernel::jobs::{self, JobError, NewJob, Runner};
use kernel::{AppError, Kernel, Secret};
use serde::{Deserialize, Serialize};

use crate::mailbox::MailboxConfig;
use crate::service;

pub const SCAN_FOLDER: &str = "invoicing.scan_folder";
pub const SCAN_MAILBOX: &str = "invoicing.scan_mailbox";
pub const REMINDERS: &str = "invoicing.reminders";

/// The `[invoicing]` section of the configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InvoicingConfig {
    /// A folder whose e-invoices are taken in (empty: no drop folder).
    pub drop_folder: String,
    /// The invoice mailbox (empty: none): `imaps://user:password@host/INBOX`, see
    /// [`crate::mailbox::MailboxConfig::url`].
    pub mailbox_url: Secret,
    /// PEM file of further root certificates for the mailbox's TLS (a county's own CA).
    pub mailbox_ca_file: String,
    /// The address senders mail invoices to, published on `/e-rechnung` (empty: not shown).
    pub mailbox_address: String,
    /// The mailbox folders handled messages are moved to.
    pub mailbox_done_folder: String,
    pub mailbox_refused_folder: String,
    /// How often the drop folder and the mailbox are scanned and reminders are checked, in
    /// seconds.
    pub scan_every_secs: u64,
}

impl InvoicingConfig {
    /// The invoice mailbox, if one is configured.
    pub fn mailbox(&self) -> Option<MailboxConfig> {
        (!self.mailbox_url.is_empty()).then(|| MailboxConfig {
            url: self.mailbox_url.clone(),
            ca_file: self.mailbox_ca_file.clone(),
            done_folder: self.mailbox_done_folder.clone(),
            refused_folder: self.mailbox_refused_folder.clone(),
        })
    }
}

impl Default for InvoicingConfig {
    fn default() -> Self {
        InvoicingConfig {
            drop_folder: String::new(),
            mailbox_url: Secret::default(),
            mailbox_ca_file: String::new(),
            mailbox_address: String::new(),
            mailbox_done_folder: crate::mailbox::FOLDER_DONE.into(),
            mailbox_refused_folder: crate::mailbox::FOLDER_REFUSED.into(),
            scan_every_secs: 60,
        }
    }
}

fn retry(e: AppError) -> JobError {
    JobError::Retry(e.to_string())
}

/// Registers the handlers of both job kinds.
pub fn register(runner: &mut Runner, cfg: &InvoicingConfig) {
    let folder = (!cfg.drop_folder.is_empty()).then(|| PathBuf::from(&cfg.drop_folder));
    runner.register(SCAN_FOLDER, move |kernel, _job| {
        let folder = folder.clone();
        async move {
            let Some(dir) = folder else { return Ok(()) };
            let report = service::scan_folder(&kernel, &dir).await.map_err(retry)?;
            tracing::info!(?report, "drop folder scanned");
            Ok(())
        }
    });
    let mailbox = cfg.mailbox();
    runner.register(SCAN_MAILBOX, move |kernel, _job| {
        let mailbox = mailbox.clone();
        async move {
            let Some(mailbox) = mailbox else { return Ok(()) };
            let report = service::scan_mailbox(&kernel, &mailbox).await.map_err(retry)?;
            tracing::info!(?report, "invoice mailbox scanned");
            Ok(())
        }
    });
    runner.register(REMINDERS, |kernel, _job| async move {
        service::send_reminders(&kernel).await.map(drop).map_err(retry)
    });
}

/// Enqueues this time slot's scan and reminder jobs (once per slot across all nodes).
pub async fn enqueue_periodic(k: &Kernel, cfg: &InvoicingConfig) -> Result<(), AppError> {
    let now = k.clock.now();
    let slot = now.millis() / 1000 / cfg.scan_every_secs.max(1) as i64;
    let mut tx = k.db.begin().await?;
    let mut kinds = vec![REMINDERS];
    if !cfg.drop_folder.is_empty() {
        kinds.push(SCAN_FOLDER);
    }
    if cfg.mailbox().is_some() {
        kinds.push(SCAN_MAILBOX);
    }
    for kind in kinds {
        let job = NewJob {
            idempotency_key: Some(format!("{kind}:{slot}")),
            max_attempts: 1,
            ..NewJob::new(kind, serde_json::json!({}))
        };
        jobs::enqueue(&mut tx, now, job).await?;
    }
    tx.commit().await?;
    Ok(())
}
