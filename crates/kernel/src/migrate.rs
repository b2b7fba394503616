//! Forward-only schema migrations, embedded from `migrations/<engine>/` at build time.
//!
//! Both engines have the same file names (a test checks it). A migration that was applied is
//! never edited: its checksum is recorded and a changed file stops the start. Several nodes may
//! start at once: the run holds the write lock (SQLite) or an advisory lock (PostgreSQL).

use sha2::{Digest, Sha256};

use crate::db::{Db, DbError, Engine, query};
use crate::time::Timestamp;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

/// The embedded migrations of one engine, as (file name, SQL), in order.
pub fn migrations(engine: Engine) -> &'static [(&'static str, &'static str)] {
    match engine {
        Engine::Sqlite => embedded::SQLITE,
        Engine::Postgres => embedded::POSTGRES,
    }
}

#[derive(Debug)]
pub enum MigrateError {
    Db(DbError),
    /// An applied migration's file differs from what was applied.
    Changed(String),
    /// The database has a migration this binary does not know (it is newer than the binary).
    Unknown(String),
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateError::Db(e) => write!(f, "{e}"),
            MigrateError::Changed(n) => write!(
                f,
                "migration {n} was changed after it was applied; migrations are forward-only, add a new one instead"
            ),
            MigrateError::Unknown(n) => {
                write!(f, "the database has migration {n}, which this binary does not know; run a newer kreishaus")
            }
        }
    }
}

impl std::error::Error for MigrateError {}

impl From<DbError> for MigrateError {
    fn from(e: DbError) -> Self {
        MigrateError::Db(e)
    }
}

fn checksum(sql: &str) -> String {
    crate::hex(&Sha256::digest(sql.as_bytes()))
}

/// Applies every migration not yet applied, in one transaction. Returns the names applied.
pub async fn run(db: &Db, now: Timestamp) -> Result<Vec<String>, MigrateError> {
    let mut tx = db.begin().await?;
    if db.engine() == Engine::Postgres {
        // Serialises concurrent starts of several nodes; released at commit.
        tx.execute(query("SELECT pg_advisory_xact_lock(4711000001)")).await?;
    }
    tx.execute(query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    ))
    .await?;
    let applied = tx.fetch_all(query("SELECT name, checksum FROM schema_migrations ORDER BY name")).await?;
    let known = migrations(db.engine());
    for row in &applied {
        let name: String = row.get("name")?;
        let sum: String = row.get("checksum")?;
        match known.iter().find(|(n, _)| *n == name) {
            None => return Err(MigrateError::Unknown(name)),
            Some((_, sql)) if checksum(sql) != sum => return Err(MigrateError::Changed(name)),
            Some(_) => {}
        }
    }
    let mut done = Vec::new();
    for (name, sql) in known {
        let already = applied.iter().any(|r| r.get::<String>("name").is_ok_and(|n| n == *name));
        if already {
            continue;
        }
        tx.execute_script((*sql).to_owned()).await?;
        tx.execute(
            query("INSERT INTO schema_migrations (name, checksum, applied_at) VALUES ($1, $2, $3)")
                .bind(*name)
                .bind(checksum(sql))
                .bind(now.millis()),
        )
        .await?;
        done.push((*name).to_owned());
    }
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_have_migrations_with_identical_file_names() {
        let names = |e| migrations(e).iter().map(|(n, _)| *n).collect::<Vec<_>>();
        assert!(!names(Engine::Sqlite).is_empty());
        assert_eq!(names(Engine::Sqlite), names(Engine::Postgres));
    }

    #[test]
    fn migration_names_are_numbered_in_order_without_gaps() {
        for (i, (name, _)) in migrations(Engine::Sqlite).iter().enumerate() {
            let number: usize = name[..4].parse().expect("four-digit prefix");
            assert_eq!(number, i + 1, "{name}");
            assert!(name.as_bytes()[4] == b'_' && name.ends_with(".sql"), "{name}");
        }
    }
}
