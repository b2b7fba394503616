//! The only SQL of the data store: the catalogue, the import jobs, and each resource's own
//! table. Table and column identifiers in dynamic SQL come only from the catalogue (`ds_<hex>`,
//! `c<n>`) and are checked again here; every value is bound.
//!
//! Engine differences, each in one place: column types in `CREATE TABLE`, and the full-text
//! index (SQLite: an external-content FTS5 table over the text and code columns; PostgreSQL: a
//! GIN index over `to_tsvector('simple', _text)`, `_text` a generated column of those columns).

use kernel::{Db, DbResult, Engine, Row, TenantId, Timestamp, Tx, query, query_owned};

use crate::model::{Cell, Column, ColumnType, DecimalMark, Dialect, Storage};
use crate::query::{AggFn, Op, Plan};

/// A resource: one imported table and its catalogue.
#[derive(Clone, Debug)]
pub struct Resource {
    pub id: String,
    pub tenant: TenantId,
    pub title: String,
    pub source: String,
    pub table_name: Option<String>,
    pub row_count: i64,
    pub k_min: i64,
    pub published: bool,
    pub dialect: Dialect,
    pub staged_path: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub columns: Vec<Column>,
}

/// The state of an import.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Import {
    pub id: String,
    pub resource_id: String,
    pub state: String,
    pub bytes_total: Option<i64>,
    pub bytes_done: i64,
    pub rows_done: i64,
    pub rows_bad: i64,
    pub message: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// A bad row: its line, a message code, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub line: u64,
    pub code: String,
    pub detail: String,
}

/// True for an identifier this crate made (`ds_…`, `c…`): lowercase letters, digits, `_`.
fn safe_ident(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn ident(s: &str) -> DbResult<&str> {
    if safe_ident(s) { Ok(s) } else { Err(kernel::DbError(sqlx_config_error(format!("unsafe identifier {s:?}")))) }
}

fn sqlx_config_error(msg: String) -> sqlx::Error {
    sqlx::Error::Protocol(msg)
}

fn resource_from(r: &Row, columns: Vec<Column>) -> DbResult<Resource> {
    let dialect: String = r.get("dialect")?;
    Ok(Resource {
        id: r.get("id")?,
        tenant: TenantId(r.get("tenant_id")?),
        title: r.get("title")?,
        source: r.get("source")?,
        table_name: r.get("table_name")?,
        row_count: r.get("row_count")?,
        k_min: r.get("k_min")?,
        published: r.get("published")?,
        dialect: serde_json::from_str(&dialect)
            .map_err(|e| kernel::DbError(sqlx_config_error(format!("bad dialect: {e}"))))?,
        staged_path: r.get("staged_path")?,
        created_at: Timestamp::from_millis(r.get("created_at")?),
        updated_at: Timestamp::from_millis(r.get("updated_at")?),
        columns,
    })
}

const RESOURCE_COLUMNS: &str = "id, tenant_id, title, source, table_name, row_count, k_min, published, dialect, \
     staged_path, created_at, updated_at";

fn dialect_json(d: &Dialect) -> String {
    serde_json::to_string(d).unwrap_or_default()
}

pub async fn insert_resource(db: &Db, r: &Resource) -> DbResult<()> {
    db.execute(
        query(
            "INSERT INTO datastore_resources (id, tenant_id, title, source, table_name, row_count, k_min, published, \
             dialect, staged_path, created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, 0, $5, FALSE, $6, $7, $8, $8)",
        )
        .bind(&r.id)
        .bind(r.tenant)
        .bind(&r.title)
        .bind(&r.source)
        .bind(r.k_min)
        .bind(dialect_json(&r.dialect))
        .bind(r.staged_path.clone())
        .bind(r.created_at.millis()),
    )
    .await
    .map(drop)
}

async fn columns_of(db: &Db, id: &str) -> DbResult<Vec<Column>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT position, name, label, col_type, decimal_mark, is_count FROM datastore_columns \
                 WHERE resource_id = $1 ORDER BY position",
            )
            .bind(id),
        )
        .await?;
    rows.iter()
        .map(|r| {
            let ty: String = r.get("col_type")?;
            let mark: String = r.get("decimal_mark")?;
            Ok(Column {
                position: r.get("position")?,
                name: r.get("name")?,
                label: r.get("label")?,
                ty: ColumnType::parse(&ty).unwrap_or(ColumnType::Text),
                mark: DecimalMark::parse(&mark),
                is_count: r.get("is_count")?,
            })
        })
        .collect()
}

/// One resource with its columns.
pub async fn resource(db: &Db, id: &str) -> DbResult<Option<Resource>> {
    let sql = format!("SELECT {RESOURCE_COLUMNS} FROM datastore_resources WHERE id = $1");
    match db.fetch_optional(query_owned(sql).bind(id)).await? {
        Some(r) => Ok(Some(resource_from(&r, columns_of(db, id).await?)?)),
        None => Ok(None),
    }
}

/// A tenant's resources (without columns), newest first; or every published one.
pub async fn resources(db: &Db, tenant: Option<TenantId>) -> DbResult<Vec<Resource>> {
    let rows = match tenant {
        Some(t) => {
            let sql = format!(
                "SELECT {RESOURCE_COLUMNS} FROM datastore_resources WHERE tenant_id = $1 ORDER BY created_at DESC, id"
            );
            db.fetch_all(query_owned(sql).bind(t)).await?
        }
        None => {
            let sql =
                format!("SELECT {RESOURCE_COLUMNS} FROM datastore_resources WHERE published = TRUE ORDER BY title, id");
            db.fetch_all(query_owned(sql)).await?
        }
    };
    rows.iter().map(|r| resource_from(r, Vec::new())).collect()
}

/// Replaces the catalogue of a resource.
pub async fn replace_columns(tx: &mut Tx, id: &str, columns: &[Column]) -> DbResult<()> {
    tx.execute(query("DELETE FROM datastore_columns WHERE resource_id = $1").bind(id)).await?;
    for c in columns {
        tx.execute(
            query(
                "INSERT INTO datastore_columns (resource_id, position, name, label, col_type, decimal_mark, is_count) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(c.position)
            .bind(&c.name)
            .bind(&c.label)
            .bind(c.ty.as_str())
            .bind(c.mark.as_str())
            .bind(c.is_count),
        )
        .await?;
    }
    Ok(())
}

/// Points the resource at a freshly imported table; returns the table it replaces.
pub async fn switch_table(
    tx: &mut Tx,
    id: &str,
    table: &str,
    rows: i64,
    dialect: &Dialect,
    now: Timestamp,
) -> DbResult<Option<String>> {
    let old = tx.fetch_one(query("SELECT table_name FROM datastore_resources WHERE id = $1").bind(id)).await?;
    tx.execute(
        query(
            "UPDATE datastore_resources SET table_name = $2, row_count = $3, dialect = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(table)
        .bind(rows)
        .bind(dialect_json(dialect))
        .bind(now.millis()),
    )
    .await?;
    old.get("table_name")
}

/// Sets title, k and publication.
pub async fn update_settings(
    tx: &mut Tx,
    tenant: TenantId,
    id: &str,
    title: &str,
    k: i64,
    published: bool,
    now: Timestamp,
) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE datastore_resources SET title = $3, k_min = $4, published = $5, updated_at = $6 \
             WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id)
        .bind(tenant)
        .bind(title)
        .bind(k)
        .bind(published)
        .bind(now.millis()),
    )
    .await
}

fn sql_type(engine: Engine, s: Storage) -> &'static str {
    match (engine, s) {
        (Engine::Sqlite, Storage::Int | Storage::Bool) => "INTEGER",
        (Engine::Sqlite, Storage::Float) => "REAL",
        (Engine::Postgres, Storage::Int) => "BIGINT",
        (Engine::Postgres, Storage::Float) => "DOUBLE PRECISION",
        (Engine::Postgres, Storage::Bool) => "BOOLEAN",
        (_, Storage::Text) => "TEXT",
    }
}

/// Creates an empty data table: `_id` (the row number, assigned by the database in the order
/// the rows are written) and one column per catalogue entry; an import binds nothing but the
/// cells. On PostgreSQL a generated column `_text` holds the words of the text and code columns
/// for the full-text index; SQLite's FTS5 index reads those columns themselves.
pub async fn create_data_table(db: &Db, table: &str, columns: &[Column]) -> DbResult<()> {
    let engine = db.engine();
    let cols: String =
        columns.iter().map(|c| format!(", c{} {}", c.position, sql_type(engine, c.ty.storage()))).collect();
    let t = ident(table)?;
    db.execute_script(match engine {
        // INTEGER PRIMARY KEY is SQLite's rowid, which FTS5 refers to.
        Engine::Sqlite => format!("CREATE TABLE {t} (_id INTEGER PRIMARY KEY{cols})"),
        Engine::Postgres => format!(
            "CREATE TABLE {t} (_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY{cols}, \
             _text TEXT GENERATED ALWAYS AS ({}) STORED)",
            text_expression(columns)
        ),
    })
    .await
}

fn searchable(columns: &[Column]) -> impl Iterator<Item = String> + '_ {
    columns.iter().filter(|c| c.ty.is_searchable()).map(|c| format!("c{}", c.position))
}

/// The words of a row for full-text search on PostgreSQL: its text and code cells.
fn text_expression(columns: &[Column]) -> String {
    let words: Vec<String> = searchable(columns).map(|c| format!("coalesce({c}, '')")).collect();
    if words.is_empty() { "''".to_owned() } else { words.join(" || ' ' || ") }
}

/// Builds the indexes after the rows are in: full text, and one per code column (the usual
/// filter and join key).
pub async fn index_data_table(db: &Db, table: &str, columns: &[Column]) -> DbResult<()> {
    let t = ident(table)?;
    match db.engine() {
        Engine::Sqlite => {
            // An external-content index over the text and code columns (FTS5 reads them by
            // name); a table without any has an empty index, so a search finds nothing. Results
            // are ordered by row, never ranked, so the index keeps no column sizes
            // (`columnsize=0`: a third less work to build).
            let words: Vec<String> = searchable(columns).collect();
            let words = if words.is_empty() { "_id UNINDEXED".to_owned() } else { words.join(", ") };
            db.execute_script(format!(
                "CREATE VIRTUAL TABLE {t}_fts USING fts5({words}, content='{t}', content_rowid='_id', \
                 columnsize=0, tokenize='unicode61 remove_diacritics 0'); \
                 INSERT INTO {t}_fts({t}_fts) VALUES('rebuild');"
            ))
            .await?
        }
        Engine::Postgres => {
            db.execute_script(format!("CREATE INDEX {t}_fts ON {t} USING GIN (to_tsvector('simple', _text))")).await?
        }
    }
    for c in columns.iter().filter(|c| c.ty == ColumnType::Code) {
        db.execute_script(format!("CREATE INDEX {t}_c{p} ON {t} (c{p})", p = c.position)).await?;
    }
    Ok(())
}

pub async fn drop_data_table(db: &Db, table: &str) -> DbResult<()> {
    let t = ident(table)?;
    if db.engine() == Engine::Sqlite {
        db.execute_script(format!("DROP TABLE IF EXISTS {t}_fts")).await?;
    }
    db.execute_script(format!("DROP TABLE IF EXISTS {t}")).await
}

fn bind_cell(q: kernel::db::Query, c: Cell, storage: Storage) -> kernel::db::Query {
    match (c, storage) {
        (Cell::Int(i), _) => q.bind(i),
        (Cell::Float(f), _) => q.bind(f),
        (Cell::Bool(b), _) => q.bind(b),
        (Cell::Text(s), _) => q.bind(s),
        (Cell::Null, Storage::Int) => q.bind(None::<i64>),
        (Cell::Null, Storage::Float) => q.bind(None::<f64>),
        (Cell::Null, Storage::Bool) => q.bind(None::<bool>),
        (Cell::Null, Storage::Text) => q.bind(None::<String>),
    }
}

/// The rows one INSERT statement carries: up to 30,000 parameters on PostgreSQL (fewer round
/// trips), 4,000 on SQLite (beyond that a statement gains nothing).
pub fn rows_per_statement(engine: Engine, columns: usize) -> usize {
    let params = match engine {
        Engine::Sqlite => 4_000,
        Engine::Postgres => 30_000,
    };
    (params / columns.max(1)).clamp(1, 1000)
}

/// The placeholder of the `n`-th parameter (from 1). SQLite gets anonymous `?`: sqlx binds a
/// named one (`$n`) by asking SQLite for each parameter's name, which SQLite finds by a linear
/// scan, so a statement's cost grew with the square of its parameters (measured: 35–61 % of an
/// import in `sqlite3_bind_parameter_name`). Anonymous ones are bound in order, without names.
fn placeholder(engine: Engine, n: usize, sql: &mut String) {
    match engine {
        Engine::Sqlite => sql.push('?'),
        Engine::Postgres => {
            sql.push('$');
            sql.push_str(&n.to_string());
        }
    }
}

/// The multi-row INSERT statements that write `rows` (their cells move into them), in order.
/// Built apart from running them, so the importer builds them on its reading thread.
pub fn insert_statements(
    engine: Engine,
    table: &str,
    columns: &[Column],
    rows: Vec<Vec<Cell>>,
) -> DbResult<Vec<kernel::db::Query>> {
    let t = ident(table)?;
    let names: Vec<String> = columns.iter().map(|c| format!("c{}", c.position)).collect();
    let names = names.join(", ");
    let per_statement = rows_per_statement(engine, columns.len());
    let mut statements = Vec::with_capacity(rows.len().div_ceil(per_statement));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per_statement).collect();
        let mut sql = format!("INSERT INTO {t} ({names}) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for j in 0..columns.len() {
                if j > 0 {
                    sql.push(',');
                }
                placeholder(engine, i * columns.len() + j + 1, &mut sql);
            }
            sql.push(')');
        }
        let mut q = query_owned(sql);
        for cells in chunk {
            for (cell, col) in cells.into_iter().zip(columns) {
                q = bind_cell(q, cell, col.ty.storage());
            }
        }
        statements.push(q);
    }
    Ok(statements)
}

pub async fn insert_import(
    db: &Db,
    id: &str,
    resource: &str,
    tenant: TenantId,
    total: Option<i64>,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        query(
            "INSERT INTO datastore_imports (id, resource_id, tenant_id, state, bytes_total, started_at) \
             VALUES ($1, $2, $3, 'running', $4, $5)",
        )
        .bind(id)
        .bind(resource)
        .bind(tenant)
        .bind(total)
        .bind(now.millis()),
    )
    .await
    .map(drop)
}

pub async fn import_progress(db: &Db, id: &str, bytes: i64, rows: i64, bad: i64) -> DbResult<()> {
    db.execute(
        query("UPDATE datastore_imports SET bytes_done = $2, rows_done = $3, rows_bad = $4 WHERE id = $1")
            .bind(id)
            .bind(bytes)
            .bind(rows)
            .bind(bad),
    )
    .await
    .map(drop)
}

pub async fn finish_import(db: &Db, id: &str, state: &str, message: Option<String>, now: Timestamp) -> DbResult<()> {
    db.execute(
        query("UPDATE datastore_imports SET state = $2, message = $3, finished_at = $4 WHERE id = $1")
            .bind(id)
            .bind(state)
            .bind(message)
            .bind(now.millis()),
    )
    .await
    .map(drop)
}

pub async fn add_row_errors(db: &Db, id: &str, errors: &[RowError]) -> DbResult<()> {
    let mut tx = db.begin().await?;
    for e in errors {
        tx.execute(
            query("INSERT INTO datastore_import_errors (import_id, line, code, detail) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(e.line as i64)
                .bind(&e.code)
                .bind(&e.detail),
        )
        .await?;
    }
    tx.commit().await
}

fn import_from(r: &Row) -> DbResult<Import> {
    Ok(Import {
        id: r.get("id")?,
        resource_id: r.get("resource_id")?,
        state: r.get("state")?,
        bytes_total: r.get("bytes_total")?,
        bytes_done: r.get("bytes_done")?,
        rows_done: r.get("rows_done")?,
        rows_bad: r.get("rows_bad")?,
        message: r.get("message")?,
        started_at: Timestamp::from_millis(r.get("started_at")?),
        finished_at: r.get::<Option<i64>>("finished_at")?.map(Timestamp::from_millis),
    })
}

const IMPORT_COLUMNS: &str =
    "id, resource_id, state, bytes_total, bytes_done, rows_done, rows_bad, message, started_at, finished_at";

/// The imports of a resource, newest first.
pub async fn imports(db: &Db, tenant: TenantId, resource: &str) -> DbResult<Vec<Import>> {
    let sql = format!(
        "SELECT {IMPORT_COLUMNS} FROM datastore_imports WHERE resource_id = $1 AND tenant_id = $2 ORDER BY started_at DESC, id"
    );
    db.fetch_all(query_owned(sql).bind(resource).bind(tenant)).await?.iter().map(import_from).collect()
}

/// Every import still marked running, oldest first.
pub async fn running_imports(db: &Db) -> DbResult<Vec<Import>> {
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM datastore_imports WHERE state = 'running' ORDER BY started_at, id");
    db.fetch_all(query_owned(sql)).await?.iter().map(import_from).collect()
}

pub async fn import(db: &Db, tenant: TenantId, id: &str) -> DbResult<Option<Import>> {
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM datastore_imports WHERE id = $1 AND tenant_id = $2");
    db.fetch_optional(query_owned(sql).bind(id).bind(tenant)).await?.as_ref().map(import_from).transpose()
}

pub async fn row_errors(db: &Db, import: &str, limit: i64) -> DbResult<Vec<RowError>> {
    let rows = db
        .fetch_all(
            query("SELECT line, code, detail FROM datastore_import_errors WHERE import_id = $1 ORDER BY line LIMIT $2")
                .bind(import)
                .bind(limit),
        )
        .await?;
    rows.iter()
        .map(|r| Ok(RowError { line: r.get::<i64>("line")? as u64, code: r.get("code")?, detail: r.get("detail")? }))
        .collect()
}

fn read_cell(r: &Row, alias: &str, s: Storage) -> DbResult<Cell> {
    Ok(match s {
        Storage::Int => r.get::<Option<i64>>(alias)?.map_or(Cell::Null, Cell::Int),
        Storage::Float => r.get::<Option<f64>>(alias)?.map_or(Cell::Null, Cell::Float),
        Storage::Bool => r.get::<Option<bool>>(alias)?.map_or(Cell::Null, Cell::Bool),
        Storage::Text => r.get::<Option<String>>(alias)?.map_or(Cell::Null, Cell::Text),
    })
}

/// The FROM and WHERE of a plan with its parameters.
fn from_where(plan: &Plan, table: &str, engine: Engine) -> DbResult<(String, Vec<Cell>)> {
    let t = ident(table)?;
    let mut sql = format!(" FROM {t} t");
    if let Some((jt, left, right)) = &plan.join {
        sql.push_str(&format!(" LEFT JOIN {} j ON {} = {}", ident(jt)?, left.expr(), right.expr()));
    }
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Cell> = Vec::new();
    let next = |params: &mut Vec<Cell>, c: Cell| {
        params.push(c);
        format!("${}", params.len())
    };
    if !plan.terms.is_empty() {
        match engine {
            Engine::Sqlite => {
                let m = plan.terms.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" AND ");
                let p = next(&mut params, Cell::Text(m));
                conds.push(format!("t._id IN (SELECT rowid FROM {t}_fts WHERE {t}_fts MATCH {p})"));
            }
            Engine::Postgres => {
                let m = plan.terms.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
                let p = next(&mut params, Cell::Text(m));
                conds.push(format!("to_tsvector('simple', t._text) @@ to_tsquery('simple', {p})"));
            }
        }
    }
    for f in &plan.filters {
        let e = f.col.expr();
        let cond = match f.op {
            Op::Isnull => format!("{e} IS {}NULL", if f.values == [Cell::Bool(true)] { "" } else { "NOT " }),
            Op::Contains => {
                let pattern = match &f.values[0] {
                    Cell::Text(s) => kernel::db::contains_pattern(s),
                    other => other.display(),
                };
                format!("LOWER({e}) LIKE {} ESCAPE '\\'", next(&mut params, Cell::Text(pattern)))
            }
            Op::In => {
                let ps: Vec<String> = f.values.iter().map(|v| next(&mut params, v.clone())).collect();
                format!("{e} IN ({})", ps.join(", "))
            }
            op => {
                let sym = match op {
                    Op::Eq => "=",
                    Op::Ne => "<>",
                    Op::Lt => "<",
                    Op::Lte => "<=",
                    Op::Gt => ">",
                    _ => ">=",
                };
                format!("{e} {sym} {}", next(&mut params, f.values[0].clone()))
            }
        };
        conds.push(cond);
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    Ok((sql, params))
}

fn bind_all(mut q: kernel::db::Query, params: &[Cell]) -> kernel::db::Query {
    for p in params {
        q = bind_cell(q, p.clone(), Storage::Text);
    }
    q
}

fn agg_expr(a: &crate::query::CheckedAggregate) -> String {
    let Some(col) = &a.col else { return "COUNT(*)".to_owned() };
    let e = col.expr();
    let cast = |inner: String, s: Storage| match s {
        Storage::Int => format!("CAST({inner} AS BIGINT)"),
        Storage::Float => format!("CAST({inner} AS DOUBLE PRECISION)"),
        _ => inner,
    };
    match a.func {
        AggFn::Count => format!("COUNT({e})"),
        AggFn::Sum => cast(format!("SUM({e})"), a.storage),
        AggFn::Avg => cast(format!("AVG({e})"), Storage::Float),
        AggFn::Min => cast(format!("MIN({e})"), a.storage),
        AggFn::Max => cast(format!("MAX({e})"), a.storage),
    }
}

/// One column of a data table in row order (for grouping in memory, `crate::columnar`).
pub async fn column_values(db: &Db, table: &str, position: i64, storage: Storage) -> DbResult<Vec<Cell>> {
    let sql = format!("SELECT c{position} AS v FROM {} ORDER BY _id", ident(table)?);
    db.fetch_all(query_owned(sql)).await?.iter().map(|r| read_cell(r, "v", storage)).collect()
}

/// Runs a checked plan: the rows of the page (in the order of `plan.fields`, then the
/// aggregates) and the number of rows (or groups) in all pages. Aggregates of count columns
/// below k come back as NULL.
pub async fn run(db: &Db, plan: &Plan, table: &str) -> DbResult<(Vec<Vec<Cell>>, i64)> {
    let (from, params) = from_where(plan, table, db.engine())?;
    let mut select: Vec<String> =
        plan.fields.iter().enumerate().map(|(i, f)| format!("{} AS o{i}", f.expr())).collect();
    let n = select.len();
    select.extend(plan.aggregates.iter().enumerate().map(|(i, a)| format!("{} AS o{}", agg_expr(a), n + i)));
    let grouped = !plan.group_by.is_empty() || !plan.aggregates.is_empty();
    let group = if plan.group_by.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", plan.group_by.iter().map(|g| g.expr()).collect::<Vec<_>>().join(", "))
    };
    let mut order: Vec<String> = plan
        .sort
        .iter()
        .map(|(c, desc)| {
            let e = c.expr();
            format!("({e} IS NULL), {e}{}", if *desc { " DESC" } else { "" })
        })
        .collect();
    if grouped {
        order.extend(plan.group_by.iter().map(|g| g.expr()));
    } else {
        order.push("t._id".to_owned());
        if plan.join.is_some() {
            order.push("j._id".to_owned());
        }
    }
    let order = if order.is_empty() { String::new() } else { format!(" ORDER BY {}", order.join(", ")) };
    let sql = format!("SELECT {}{from}{group}{order} LIMIT {} OFFSET {}", select.join(", "), plan.limit, plan.offset);
    let rows = db.fetch_all(bind_all(query_owned(sql), &params)).await?;
    let storages: Vec<(Storage, Option<i64>)> = plan
        .fields
        .iter()
        .map(|f| (f.column.ty.storage(), None))
        .chain(plan.aggregates.iter().map(|a| (a.storage, a.k)))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut cells = Vec::with_capacity(storages.len());
        for (i, (s, k)) in storages.iter().enumerate() {
            let cell = read_cell(r, &format!("o{i}"), *s)?;
            cells.push(if crate::query::hidden(*k, &cell) { Cell::Null } else { cell });
        }
        out.push(cells);
    }
    // A page that is not full ends the result: its rows tell the total without a second scan.
    if (out.len() as u64) < plan.limit && (plan.offset == 0 || !out.is_empty()) {
        let total = plan.offset as i64 + out.len() as i64;
        return Ok((out, total));
    }
    let count_sql = if plan.group_by.is_empty() && grouped {
        "SELECT 1 AS n".to_owned()
    } else if grouped {
        format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one{from}{group}) g")
    } else {
        format!("SELECT COUNT(*) AS n{from}")
    };
    let total: i64 = db.fetch_one(bind_all(query_owned(count_sql), &params)).await?.get("n")?;
    Ok((out, total))
}
