//! The shared vocabulary of Kreishaus: typed ids, time, the two-engine database handle and
//! its migrations, the application error, the audit log, background jobs with the mail outbox,
//! the content-addressed object store, the CSV reader the imports share, and the checks of
//! common formats (IBAN, the media type of an upload). No HTTP and no domain rules live here.

pub mod audit;
pub mod blobs;
pub mod csv;
pub mod db;
pub mod error;
pub mod formats;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod migrate;
pub mod pdf;
pub mod secret;
pub mod time;

pub use db::{Db, DbError, DbResult, Engine, Row, Tx, Value, query, query_owned};
pub use error::{AppError, FieldError};
pub use ids::{CitizenId, JobId, OrgUnitId, OrganisationId, StaffId, TenantId};
pub use secret::Secret;
pub use time::{Clock, Timestamp};

/// What every service function needs: the database, the clock and the object store.
/// Cheap to clone; one per process.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub db: Db,
    pub clock: Clock,
    pub blobs: blobs::BlobStore,
}

/// Lowercase hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A fresh random token of 32 bytes as 64 hex digits (session ids, CSRF tokens, passwords).
pub fn random_token() -> String {
    let mut buf = [0u8; 32];
    // The OS random source failing is not recoverable; better to stop than to hand out weak tokens.
    getrandom::fill(&mut buf).expect("operating system random source");
    hex(&buf)
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The SHA-256 of a string as hex: how tokens are stored, so a database leak leaks no session.
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(s.as_bytes()))
}
