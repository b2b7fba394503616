//! The kernel against real services, on a fresh database each: SQLite by default, PostgreSQL
//! when `KREISHAUS_TEST_POSTGRES` holds a server URL. The audit chain and its tamper detection,
//! the job queue (including many workers at once), the mail outbox against a real SMTP server
//! (a Python `aiosmtpd` sink) and the object store on disk and on an S3-compatible server (moto).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod audit;
mod blobs;
mod jobs;
mod mail;

use kernel::blobs::BlobStore;
use kernel::{Clock, Db, Kernel, TenantId};
pub use testkit::free_port;
use testkit::{START, TestDb};

/// A migrated fresh database and a kernel on it with a manual clock at [`START`] and the
/// filesystem object store in the test's temporary directory.
pub struct Setup {
    pub kernel: Kernel,
    /// Keeps the database (and its temporary directory) alive.
    pub test_db: TestDb,
}

impl Setup {
    pub fn db(&self) -> &Db {
        &self.kernel.db
    }

    pub fn clock(&self) -> &Clock {
        &self.kernel.clock
    }
}

pub async fn setup() -> Setup {
    let test_db = testkit::fresh_db().await;
    kernel::migrate::run(&test_db.db, START).await.expect("migrations apply");
    let blobs = BlobStore::open(&Default::default(), test_db.dir.path()).expect("object store");
    let kernel = Kernel { db: test_db.db.clone(), clock: Clock::manual(START), blobs };
    Setup { kernel, test_db }
}

/// Inserts a tenant row (the audit log and jobs refer to tenants) and returns its id.
pub async fn tenant(db: &Db, slug: &str) -> TenantId {
    let row = db
        .fetch_one(
            kernel::query(
                "INSERT INTO tenants (slug, name, kind, created_at) VALUES ($1, $2, 'county', 0) RETURNING id",
            )
            .bind(slug)
            .bind(format!("Tenant {slug}")),
        )
        .await
        .expect("insert tenant");
    TenantId(row.get("id").expect("tenant id"))
}
