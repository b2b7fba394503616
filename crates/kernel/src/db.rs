//! One database handle over two engines.
//!
//! SQL is written once, in the subset SQLite and PostgreSQL both accept (`$1` placeholders,
//! `RETURNING`, `ON CONFLICT`), and run through [`Db`] (a pool) or [`Tx`] (a transaction).
//! Parameters are [`Value`]s and rows are read with [`Row::get`], so a store never names an
//! engine. The few real differences (job claiming, migrations locking) ask [`Db::engine`].
//! See `docs/adr/0001-two-database-engines.md`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Database, Decode, Postgres, Sqlite, Type};

/// Which engine a [`Db`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The folder name of this engine's migrations.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A connection pool on either engine. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A database error. Stores map it into their domain errors; [`DbError::is_unique_violation`]
/// tells a duplicate and [`DbError::is_foreign_key_violation`] a row still referred to from a
/// failure.
#[derive(Debug)]
pub struct DbError(pub sqlx::Error);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl std::error::Error for DbError {}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        DbError(e)
    }
}

impl DbError {
    /// True when the statement broke a UNIQUE or PRIMARY KEY constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(&self.0, sqlx::Error::Database(e) if e.is_unique_violation())
    }

    /// True when the statement broke a FOREIGN KEY constraint (e.g. deleting a row others
    /// still refer to).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(&self.0, sqlx::Error::Database(e) if e.is_foreign_key_violation())
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// How to open a database.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// `sqlite:path/to/file.db` or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
    /// On PostgreSQL: the schema to use (tests get a fresh one each).
    pub schema: Option<String>,
}

impl Db {
    /// Opens a pool. SQLite files are created when missing and run in WAL mode; a clear error
    /// is returned (never a panic) when the server cannot be reached.
    pub async fn connect(opts: &ConnectOptions) -> DbResult<Db> {
        let acquire_timeout = Duration::from_secs(5);
        if opts.url.starts_with("postgres://") || opts.url.starts_with("postgresql://") {
            let mut pg = PgConnectOptions::from_str(&opts.url)?;
            if let Some(schema) = &opts.schema {
                pg = pg.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(pg)
                .await?;
            Ok(Db::Postgres(pool))
        } else if opts.url.starts_with("sqlite:") {
            let lite = SqliteConnectOptions::from_str(&opts.url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(lite)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(DbError(sqlx::Error::Configuration(
                format!("unsupported database URL (use sqlite:… or postgres://…): {}", redact_url(&opts.url)).into(),
            )))
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so two
    /// writers queue on the busy timeout instead of failing on a lock upgrade.
    pub async fn begin(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn fetch_all(&self, q: Query) -> DbResult<Vec<Row>> {
        match self {
            Db::Sqlite(p) => Ok(q.build::<Sqlite>().fetch_all(p).await?.into_iter().map(Row::Sqlite).collect()),
            Db::Postgres(p) => Ok(q.build::<Postgres>().fetch_all(p).await?.into_iter().map(Row::Postgres).collect()),
        }
    }

    pub async fn fetch_optional(&self, q: Query) -> DbResult<Option<Row>> {
        match self {
            Db::Sqlite(p) => Ok(q.build::<Sqlite>().fetch_optional(p).await?.map(Row::Sqlite)),
            Db::Postgres(p) => Ok(q.build::<Postgres>().fetch_optional(p).await?.map(Row::Postgres)),
        }
    }

    pub async fn fetch_one(&self, q: Query) -> DbResult<Row> {
        self.fetch_optional(q).await?.ok_or(DbError(sqlx::Error::RowNotFound))
    }

    /// Runs a statement and returns the number of rows it touched.
    pub async fn execute(&self, q: Query) -> DbResult<u64> {
        match self {
            Db::Sqlite(p) => Ok(q.build::<Sqlite>().execute(p).await?.rows_affected()),
            Db::Postgres(p) => Ok(q.build::<Postgres>().execute(p).await?.rows_affected()),
        }
    }

    /// Runs a script of several statements without parameters (migrations, test set-up).
    pub async fn execute_script(&self, sql: String) -> DbResult<()> {
        match self {
            Db::Sqlite(p) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(p).await.map(drop)?,
            Db::Postgres(p) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(p).await.map(drop)?,
        }
        Ok(())
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.execute(query("SELECT 1")).await.is_ok()
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    pub async fn commit(self) -> DbResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn fetch_all(&mut self, q: Query) -> DbResult<Vec<Row>> {
        match self {
            Tx::Sqlite(t) => Ok(q.build::<Sqlite>().fetch_all(&mut **t).await?.into_iter().map(Row::Sqlite).collect()),
            Tx::Postgres(t) => {
                Ok(q.build::<Postgres>().fetch_all(&mut **t).await?.into_iter().map(Row::Postgres).collect())
            }
        }
    }

    pub async fn fetch_optional(&mut self, q: Query) -> DbResult<Option<Row>> {
        match self {
            Tx::Sqlite(t) => Ok(q.build::<Sqlite>().fetch_optional(&mut **t).await?.map(Row::Sqlite)),
            Tx::Postgres(t) => Ok(q.build::<Postgres>().fetch_optional(&mut **t).await?.map(Row::Postgres)),
        }
    }

    pub async fn fetch_one(&mut self, q: Query) -> DbResult<Row> {
        self.fetch_optional(q).await?.ok_or(DbError(sqlx::Error::RowNotFound))
    }

    pub async fn execute(&mut self, q: Query) -> DbResult<u64> {
        match self {
            Tx::Sqlite(t) => Ok(q.build::<Sqlite>().execute(&mut **t).await?.rows_affected()),
            Tx::Postgres(t) => Ok(q.build::<Postgres>().execute(&mut **t).await?.rows_affected()),
        }
    }

    pub async fn execute_script(&mut self, sql: String) -> DbResult<()> {
        match self {
            Tx::Sqlite(t) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **t).await.map(drop)?,
            Tx::Postgres(t) => sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **t).await.map(drop)?,
        }
        Ok(())
    }
}

/// A bound parameter. Each variant carries its SQL type even when NULL, because PostgreSQL
/// refuses a NULL of the wrong type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
    Float(Option<f64>),
}

macro_rules! value_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$variant(Some($conv(v))) }
        }
        impl From<Option<$t>> for Value {
            fn from(v: Option<$t>) -> Self { Value::$variant(v.map($conv)) }
        }
    )*};
}
value_from!(Int: i64 => |v| v, i32 => i64::from, u32 => i64::from);
value_from!(Text: String => |v| v, &str => str::to_owned, &String => String::clone);
value_from!(Bool: bool => |v| v);
value_from!(Bytes: Vec<u8> => |v| v);
value_from!(Float: f64 => |v| v);

/// A statement with its parameters: `query("SELECT … WHERE id = $1").bind(id)`.
#[derive(Clone, Debug)]
pub struct Query {
    sql: Sql,
    params: Vec<Value>,
}

#[derive(Clone, Debug)]
enum Sql {
    Static(&'static str),
    Owned(String),
}

/// A statement written as a literal: the normal case.
pub fn query(sql: &'static str) -> Query {
    Query { sql: Sql::Static(sql), params: Vec::new() }
}

/// The `LIKE` pattern that finds `text` anywhere, its `%`, `_` and `\` taken literally; use it
/// with `ESCAPE '\'`.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// A statement assembled at run time from literals (for the few engine-specific clauses).
/// Never put user input in `sql`: bind it.
pub fn query_owned(sql: String) -> Query {
    Query { sql: Sql::Owned(sql), params: Vec::new() }
}

impl Query {
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.params.push(value.into());
        self
    }

    fn build<'a, DB>(self) -> sqlx::query::Query<'a, DB, <DB as Database>::Arguments>
    where
        DB: Database,
        Option<i64>: sqlx::Encode<'a, DB> + Type<DB>,
        Option<String>: sqlx::Encode<'a, DB> + Type<DB>,
        Option<bool>: sqlx::Encode<'a, DB> + Type<DB>,
        Option<Vec<u8>>: sqlx::Encode<'a, DB> + Type<DB>,
        Option<f64>: sqlx::Encode<'a, DB> + Type<DB>,
    {
        let mut q = match self.sql {
            Sql::Static(s) => sqlx::query::<DB>(s),
            Sql::Owned(s) => sqlx::query::<DB>(AssertSqlSafe(s)),
        };
        for p in self.params {
            q = match p {
                Value::Int(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
                Value::Bytes(v) => q.bind(v),
                Value::Float(v) => q.bind(v),
            };
        }
        q
    }
}

/// A type a column can be read as on both engines.
pub trait Column: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> {}
impl<T> Column for T where T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> {}

/// A result row from either engine.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    /// Reads the named column.
    pub fn get<T: Column>(&self, column: &str) -> DbResult<T> {
        use sqlx::Row as _;
        Ok(match self {
            Row::Sqlite(r) => r.try_get(column)?,
            Row::Postgres(r) => r.try_get(column)?,
        })
    }
}

/// A database URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contains_pattern_takes_the_like_wildcards_and_the_escape_literally() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn a_redacted_url_hides_the_password_but_keeps_the_host() {
        assert_eq!(redact_url("postgres://kh:geheim@db:5432/kh"), "postgres://kh:***@db:5432/kh");
        assert_eq!(redact_url("postgres://db/kh"), "postgres://db/kh");
        assert_eq!(redact_url("sqlite:data/kreishaus.db"), "sqlite:data/kreishaus.db");
    }
}
