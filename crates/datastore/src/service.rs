//! Use cases: stage a CSV file as a new resource, analyse and import it (streaming, in batches,
//! with progress and a report of every bad row), correct the column types, publish, and query.

use std::io::Read;
use std::path::{Path, PathBuf};

use identity::Authorized;
use identity::model::{Permission, Role};
use kernel::audit::{self, Actor, NewEntry};
use kernel::{AppError, Kernel, TenantId};

use crate::columnar;
use crate::model::{
    Cell, Column, ColumnStats, ColumnType, Dialect, column_names, convert, decode_record, merge_header, sniff,
};
use crate::query::{Catalogue, DataQuery, QueryError, plan};
use crate::store::{self, Import, Resource, RowError};
use kernel::csv::{Parser, RawRecord};

/// Load, correct and publish a tenant's data tables (Redaktion, Administration).
#[derive(Debug)]
pub struct ManageData;
impl Permission for ManageData {
    const ROLES: &'static [Role] = &[Role::Editor, Role::Administrator];
}

/// The default bound of small-count suppression.
pub const DEFAULT_K: i64 = 3;
/// Bad rows kept per import with their details (all are counted).
pub const MAX_STORED_ERRORS: usize = 10_000;
/// Rows per insert transaction.
const BATCH_ROWS: usize = 20_000;
/// How much of the file the sniffer reads.
const SNIFF_BYTES: usize = 64 * 1024;

/// A fresh random UUID (version 4), the id of resources and imports.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    // The OS random source failing is not recoverable.
    getrandom::fill(&mut b).expect("operating system random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = kernel::hex(&b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// True for a UUID in canonical lowercase form.
pub fn valid_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_digit() || (b'a'..=b'f').contains(&b) }
        })
}

fn io_error(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("datastore file: {e}"))
}

/// Reads the first bytes of a staged file and sniffs its dialect.
pub fn sniff_file(path: &Path) -> std::io::Result<Dialect> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(SNIFF_BYTES);
    f.by_ref().take(SNIFF_BYTES as u64).read_to_end(&mut buf)?;
    Ok(sniff(&buf))
}

/// Streams a file through the parser, handing each record to `each`; returns the bytes read.
fn stream_records(
    path: &Path,
    dialect: &Dialect,
    mut each: impl FnMut(RawRecord, u64) -> bool,
) -> std::io::Result<u64> {
    let mut f = std::fs::File::open(path)?;
    let mut parser = Parser::new(dialect.delimiter);
    let mut buf = vec![0u8; 256 * 1024];
    let mut out = Vec::new();
    let mut done = 0u64;
    let mut first = true;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        if first {
            chunk = chunk.strip_prefix(b"\xef\xbb\xbf").unwrap_or(chunk);
            first = false;
        }
        done += n as u64;
        parser.feed(chunk, &mut out);
        for r in out.drain(..) {
            if !each(r, done) {
                return Ok(done);
            }
        }
    }
    parser.finish(&mut out);
    for r in out.drain(..) {
        each(r, done);
    }
    Ok(done)
}

/// What the analysis of a whole file proposes: a column per field with name, label and type.
pub fn analyse(path: &Path, dialect: &Dialect) -> std::io::Result<Vec<Column>> {
    let mut header_lines: Vec<Vec<String>> = Vec::new();
    let mut stats: Vec<ColumnStats> = Vec::new();
    let mut width = 0usize;
    stream_records(path, dialect, |r, _| {
        let in_header = dialect.header_lines.is_some_and(|(a, b)| r.line >= a && r.line <= b);
        if r.error.is_some() || (!in_header && r.line < dialect.data_from_line) {
            return true;
        }
        let Ok(fields) = decode_record(&r, dialect.encoding) else { return true };
        if in_header {
            width = width.max(fields.len());
            header_lines.push(crate::model::owned(fields));
            return true;
        }
        if stats.is_empty() {
            width = width.max(fields.len());
            let labels = merge_header(&header_lines, width);
            stats = labels.into_iter().map(ColumnStats::new).collect();
        }
        if fields.len() == stats.len() {
            for (s, v) in stats.iter_mut().zip(&fields) {
                s.observe(v);
            }
        }
        true
    })?;
    if stats.is_empty() {
        stats = merge_header(&header_lines, width).into_iter().map(ColumnStats::new).collect();
    }
    let names = column_names(&stats.iter().map(|s| s.header.clone()).collect::<Vec<_>>());
    Ok(stats
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (s, name))| {
            let (ty, mark) = s.inferred();
            let label = if s.header.is_empty() { name.clone() } else { s.header.clone() };
            Column { position: i as i64 + 1, name, label, ty, mark, is_count: false }
        })
        .collect())
}

/// A batch from the reading thread to the writing task.
struct Batch {
    rows: Vec<Vec<Cell>>,
    errors: Vec<RowError>,
    bytes_done: u64,
}

/// A batch as the writer gets it: its rows already as INSERT statements.
struct Statements {
    rows: usize,
    statements: kernel::db::DbResult<Vec<kernel::db::Query>>,
    errors: Vec<RowError>,
    bytes_done: u64,
}

impl Batch {
    fn into_statements(self, engine: kernel::Engine, table: &str, columns: &[Column]) -> Statements {
        let rows = self.rows.len();
        let statements = store::insert_statements(engine, table, columns, self.rows);
        Statements { rows, statements, errors: self.errors, bytes_done: self.bytes_done }
    }
}

fn convert_record(r: &RawRecord, dialect: &Dialect, columns: &[Column]) -> Result<Vec<Cell>, RowError> {
    let bad = |code: &str, detail: String| RowError { line: r.line, code: code.to_owned(), detail };
    if let Some(e) = r.error {
        return Err(bad(e, String::new()));
    }
    if r.len() != columns.len() {
        return Err(bad("datastore.wrong_field_count", format!("{} / {}", r.len(), columns.len())));
    }
    let fields = decode_record(r, dialect.encoding).map_err(|code| bad(code, String::new()))?;
    let mut cells = Vec::with_capacity(columns.len());
    for (c, raw) in columns.iter().zip(&fields) {
        let cell = convert(raw, c.ty, c.mark).map_err(|code| {
            let mut shown: String = raw.chars().take(80).collect();
            if shown.len() < raw.len() {
                shown.push('…');
            }
            bad(code, format!("{}: {shown}", c.name))
        })?;
        cells.push(cell);
    }
    Ok(cells)
}

/// The result of an import.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportReport {
    pub import_id: String,
    pub rows: i64,
    pub bad_rows: i64,
    /// The first bad rows (all are stored up to [`MAX_STORED_ERRORS`]).
    pub errors: Vec<RowError>,
    pub columns: Vec<Column>,
}

/// Creates a resource from a staged file: sniffs its dialect; the import follows.
pub async fn create_resource(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    title: &str,
    source: &str,
    staged: &Path,
) -> Result<Resource, AppError> {
    create_resource_for(k, proof.tenant(), proof.actor(), title, source, staged).await
}

/// Creates a resource for a tenant as an actor. For the demo loader and the benchmark, which
/// act as the system; nothing reachable over HTTP calls it without a proof.
pub async fn create_resource_for(
    k: &Kernel,
    tenant: TenantId,
    actor: &Actor,
    title: &str,
    source: &str,
    staged: &Path,
) -> Result<Resource, AppError> {
    let dialect = sniff_file(staged).map_err(io_error)?;
    let now = k.clock.now();
    let r = Resource {
        id: new_uuid(),
        tenant,
        title: title.trim().to_owned(),
        source: source.to_owned(),
        table_name: None,
        row_count: 0,
        k_min: DEFAULT_K,
        published: false,
        dialect,
        staged_path: Some(staged.display().to_string()),
        created_at: now,
        updated_at: now,
        columns: Vec::new(),
    };
    if r.title.is_empty() {
        return Err(AppError::invalid("datastore.title_required", "title"));
    }
    store::insert_resource(&k.db, &r).await?;
    let mut tx = k.db.begin().await?;
    audit::append(
        &mut tx,
        now,
        NewEntry {
            tenant: r.tenant,
            actor,
            action: "datastore.resource.created",
            subject: &format!("resource:{}", r.id),
            details: serde_json::json!({ "title": r.title, "source": r.source }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// A resource of the proof's tenant.
pub async fn own_resource(k: &Kernel, proof: &Authorized<ManageData>, id: &str) -> Result<Resource, AppError> {
    if !valid_uuid(id) {
        return Err(AppError::NotFound);
    }
    match store::resource(&k.db, id).await? {
        Some(r) if r.tenant == proof.tenant() => Ok(r),
        _ => Err(AppError::NotFound),
    }
}

/// The resources of the proof's tenant.
pub async fn own_resources(k: &Kernel, proof: &Authorized<ManageData>) -> Result<Vec<Resource>, AppError> {
    Ok(store::resources(&k.db, Some(proof.tenant())).await?)
}

/// Every published resource.
pub async fn published_resources(k: &Kernel) -> Result<Vec<Resource>, AppError> {
    Ok(store::resources(&k.db, None).await?)
}

/// Starts an import in the background and returns its id at once; its progress is in
/// [`import_status`].
pub async fn start_import(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    id: &str,
    columns: Option<Vec<Column>>,
) -> Result<String, AppError> {
    let r = own_resource(k, proof, id).await?;
    let import_id = begin_import(k, &r).await?;
    let (k2, actor, iid) = (k.clone(), proof.actor().clone(), import_id.clone());
    tokio::spawn(async move {
        let _ = run_import(&k2, &actor, r, columns, &iid).await; // the outcome is in the import's row
    });
    Ok(import_id)
}

/// Restarts the imports a stopped process left running (a crash or a restart mid-import), for
/// every one whose staged file is on this node: it is marked failed (`datastore.interrupted`)
/// and the file imported again from the start, in the background, with the resource's current
/// column types. Safe to repeat: an import builds a new table and switches to it only at its
/// end. Imports whose file is not here are left to the node that has it. Returns how many
/// were restarted.
pub async fn resume_interrupted_imports(k: &Kernel) -> Result<usize, AppError> {
    let mut restarted = 0;
    for i in store::running_imports(&k.db).await? {
        let Some(r) = store::resource(&k.db, &i.resource_id).await? else { continue };
        if !r.staged_path.as_deref().is_some_and(|p| Path::new(p).is_file()) {
            continue;
        }
        store::finish_import(&k.db, &i.id, "failed", Some("datastore.interrupted".into()), k.clock.now()).await?;
        let columns = (!r.columns.is_empty()).then(|| r.columns.clone());
        let import_id = begin_import(k, &r).await?;
        tracing::info!(import = %i.id, again = %import_id, resource = %r.id, "restarting an interrupted import");
        let k2 = k.clone();
        tokio::spawn(async move {
            let _ = run_import(&k2, &Actor::system(), r, columns, &import_id).await; // the outcome is in its row
        });
        restarted += 1;
    }
    Ok(restarted)
}

/// Imports the staged file of a resource now and waits for the end (tests, demo, benchmark).
pub async fn import_now(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    id: &str,
    columns: Option<Vec<Column>>,
) -> Result<ImportReport, AppError> {
    let r = own_resource(k, proof, id).await?;
    import_as(k, proof.actor(), r, columns).await
}

/// Imports a resource for an actor (the demo loader acts as the system).
pub async fn import_as(
    k: &Kernel,
    actor: &Actor,
    r: Resource,
    columns: Option<Vec<Column>>,
) -> Result<ImportReport, AppError> {
    let import_id = begin_import(k, &r).await?;
    run_import(k, actor, r, columns, &import_id).await
}

/// Records a new running import of the resource's staged file.
async fn begin_import(k: &Kernel, r: &Resource) -> Result<String, AppError> {
    let staged = r.staged_path.as_ref().ok_or(AppError::Conflict { code: "datastore.nothing_staged" })?;
    let total = std::fs::metadata(staged).map(|m| m.len() as i64).ok();
    let import_id = new_uuid();
    store::insert_import(&k.db, &import_id, &r.id, r.tenant, total, k.clock.now()).await?;
    Ok(import_id)
}

async fn run_import(
    k: &Kernel,
    actor: &Actor,
    r: Resource,
    columns: Option<Vec<Column>>,
    import_id: &str,
) -> Result<ImportReport, AppError> {
    let result = import_rows(k, actor, &r, columns, import_id).await;
    // The message is a message code for staff; an internal cause goes to the log only.
    let (state, message) = match &result {
        Ok(_) => ("done", None),
        Err(e) => {
            tracing::error!(import = %import_id, error = %e, "datastore import failed");
            ("failed", Some(e.code().to_owned()))
        }
    };
    store::finish_import(&k.db, import_id, state, message, k.clock.now()).await?;
    result
}

async fn import_rows(
    k: &Kernel,
    actor: &Actor,
    r: &Resource,
    columns: Option<Vec<Column>>,
    import_id: &str,
) -> Result<ImportReport, AppError> {
    let path = PathBuf::from(r.staged_path.clone().ok_or(AppError::Conflict { code: "datastore.nothing_staged" })?);
    let dialect = r.dialect.clone();
    let started = std::time::Instant::now();
    let columns = match columns {
        Some(c) => c,
        None => {
            let (p, d) = (path.clone(), dialect.clone());
            tokio::task::spawn_blocking(move || analyse(&p, &d)).await.map_err(io_error)?.map_err(io_error)?
        }
    };
    if columns.is_empty() {
        return Err(AppError::invalid("datastore.no_columns", "file"));
    }
    let table = format!("ds_{}_{}", r.id.replace('-', ""), &import_id[..8]);
    store::create_data_table(&k.db, &table, &columns).await?;
    let analysed = started.elapsed();
    let outcome = fill_table(k, &table, &path, &dialect, &columns, import_id).await;
    let filled = started.elapsed();
    let (rows, bad, errors) = match outcome {
        Ok(v) => v,
        Err(e) => {
            store::drop_data_table(&k.db, &table).await?;
            return Err(e);
        }
    };
    store::index_data_table(&k.db, &table, &columns).await?;
    tracing::info!(
        import = %import_id, rows, bad,
        analyse_ms = analysed.as_millis() as u64,
        write_ms = (filled - analysed).as_millis() as u64,
        index_ms = (started.elapsed() - filled).as_millis() as u64,
        "datastore import written"
    );
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::replace_columns(&mut tx, &r.id, &columns).await?;
    let old = store::switch_table(&mut tx, &r.id, &table, rows, &dialect, now).await?;
    audit::append(
        &mut tx,
        now,
        NewEntry {
            tenant: r.tenant,
            actor,
            action: "datastore.resource.imported",
            subject: &format!("resource:{}", r.id),
            details: serde_json::json!({ "import": import_id, "rows": rows, "bad_rows": bad }),
        },
    )
    .await?;
    tx.commit().await?;
    if let Some(old) = old {
        store::drop_data_table(&k.db, &old).await?;
    }
    Ok(ImportReport { import_id: import_id.to_owned(), rows, bad_rows: bad, errors, columns })
}

/// Reads the file on a blocking thread and inserts its batches as they come.
async fn fill_table(
    k: &Kernel,
    table: &str,
    path: &Path,
    dialect: &Dialect,
    columns: &[Column],
    import_id: &str,
) -> Result<(i64, i64, Vec<RowError>), AppError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Statements>(2);
    let (p, d, cols) = (path.to_path_buf(), dialect.clone(), columns.to_vec());
    let (engine, name) = (k.db.engine(), table.to_owned());
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Batch { rows: Vec::with_capacity(BATCH_ROWS), errors: Vec::new(), bytes_done: 0 };
        let result = stream_records(&p, &d, |rec, done| {
            if rec.line < d.data_from_line {
                return true;
            }
            match convert_record(&rec, &d, &cols) {
                Ok(row) => batch.rows.push(row),
                Err(e) => batch.errors.push(e),
            }
            batch.bytes_done = done;
            if batch.rows.len() >= BATCH_ROWS {
                let full = std::mem::replace(
                    &mut batch,
                    Batch { rows: Vec::with_capacity(BATCH_ROWS), errors: Vec::new(), bytes_done: done },
                );
                return tx.blocking_send(full.into_statements(engine, &name, &cols)).is_ok();
            }
            true
        });
        if let Ok(done) = result {
            batch.bytes_done = done;
        }
        // The receiver gone means the writer failed; it reports why.
        let _ = tx.blocking_send(batch.into_statements(engine, &name, &cols));
        result
    });
    let (mut rows, mut bad, mut kept) = (0i64, 0i64, Vec::new());
    while let Some(b) = rx.recv().await {
        rows += b.rows as i64;
        let statements = b.statements?;
        if !statements.is_empty() {
            let mut t = k.db.begin().await?;
            for q in statements {
                t.execute(q).await?;
            }
            t.commit().await?;
        }
        bad += b.errors.len() as i64;
        let room = MAX_STORED_ERRORS.saturating_sub(kept.len());
        let keep: Vec<RowError> = b.errors.into_iter().take(room).collect();
        if !keep.is_empty() {
            store::add_row_errors(&k.db, import_id, &keep).await?;
            kept.extend(keep);
        }
        store::import_progress(&k.db, import_id, b.bytes_done as i64, rows, bad).await?;
    }
    reader.await.map_err(io_error)?.map_err(io_error)?;
    kept.truncate(1000);
    Ok((rows, bad, kept))
}

/// An import of the proof's tenant with its first bad rows.
pub async fn import_status(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    import_id: &str,
) -> Result<(Import, Vec<RowError>), AppError> {
    if !valid_uuid(import_id) {
        return Err(AppError::NotFound);
    }
    let i = store::import(&k.db, proof.tenant(), import_id).await?.ok_or(AppError::NotFound)?;
    let errors = store::row_errors(&k.db, import_id, 1000).await?;
    Ok((i, errors))
}

/// The imports of a resource, newest first.
pub async fn imports_of(k: &Kernel, proof: &Authorized<ManageData>, id: &str) -> Result<Vec<Import>, AppError> {
    let r = own_resource(k, proof, id).await?;
    Ok(store::imports(&k.db, proof.tenant(), &r.id).await?)
}

/// What staff change about a resource.
#[derive(Clone, Debug)]
pub struct Settings {
    pub title: String,
    pub k: i64,
    /// Staff confirm the table holds no personal data; only then is it public.
    pub published: bool,
    /// Per column: type and whether it holds counts.
    pub columns: Vec<(ColumnType, bool)>,
}

/// Saves settings. Changed column types need a re-import (returned as true); count marks and
/// k apply at once, because suppression happens when data is read.
pub async fn save_settings(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    id: &str,
    s: &Settings,
) -> Result<bool, AppError> {
    let r = own_resource(k, proof, id).await?;
    if s.title.trim().is_empty() {
        return Err(AppError::invalid("datastore.title_required", "title"));
    }
    if !(1..=100).contains(&s.k) {
        return Err(AppError::invalid("datastore.invalid_k", "k"));
    }
    if s.columns.len() != r.columns.len() {
        return Err(AppError::invalid("datastore.columns_changed", "columns"));
    }
    let mut columns = r.columns.clone();
    let mut retype = false;
    for (c, (ty, is_count)) in columns.iter_mut().zip(&s.columns) {
        if *is_count && !ty.is_numeric() {
            return Err(AppError::invalid("datastore.count_needs_number", &c.name));
        }
        retype |= c.ty != *ty;
        c.ty = *ty;
        c.is_count = *is_count;
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::update_settings(&mut tx, r.tenant, &r.id, s.title.trim(), s.k, s.published && !retype, now).await?;
    if !retype {
        store::replace_columns(&mut tx, &r.id, &columns).await?;
    }
    audit::append(
        &mut tx,
        now,
        NewEntry {
            tenant: r.tenant,
            actor: proof.actor(),
            action: "datastore.resource.changed",
            subject: &format!("resource:{}", r.id),
            details: serde_json::json!({ "k": s.k, "published": s.published, "retype": retype,
                "counts": columns.iter().filter(|c| c.is_count).map(|c| c.name.clone()).collect::<Vec<_>>() }),
        },
    )
    .await?;
    tx.commit().await?;
    if retype {
        start_import(k, proof, &r.id, Some(columns)).await?;
    }
    Ok(retype)
}

/// A field of a query result: its name, type and label.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Field {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub label: String,
}

/// The answer to a query.
#[derive(Clone, Debug)]
pub struct QueryResult {
    pub resource: Resource,
    pub fields: Vec<Field>,
    pub records: Vec<Vec<Cell>>,
    pub total: i64,
    pub limit: u64,
    pub offset: u64,
    /// The columns whose values below `k` are suppressed in this result.
    pub suppressed_columns: Vec<String>,
}

/// Why a query fails.
#[derive(Debug)]
pub enum DataError {
    NotFound,
    Query(QueryError),
    App(AppError),
}

impl From<AppError> for DataError {
    fn from(e: AppError) -> Self {
        DataError::App(e)
    }
}

impl From<kernel::DbError> for DataError {
    fn from(e: kernel::DbError) -> Self {
        DataError::App(e.into())
    }
}

/// Who reads: the public sees published resources; staff also their own tenant's unpublished ones.
#[derive(Clone, Copy)]
pub enum Reader {
    Public,
    Staff(TenantId),
}

impl Reader {
    /// Staff of the proof's tenant.
    pub fn staff(proof: &Authorized<ManageData>) -> Self {
        Reader::Staff(proof.tenant())
    }

    fn may_read(self, r: &Resource) -> bool {
        r.table_name.is_some()
            && match self {
                Reader::Public => r.published,
                Reader::Staff(t) => r.published || r.tenant == t,
            }
    }
}

async fn readable(k: &Kernel, reader: Reader, id: &str) -> Result<Resource, DataError> {
    if !valid_uuid(id) {
        return Err(DataError::NotFound);
    }
    match store::resource(&k.db, id).await? {
        Some(r) if reader.may_read(&r) => Ok(r),
        _ => Err(DataError::NotFound),
    }
}

/// The resource a reader may see, with its columns.
pub async fn resource_for(k: &Kernel, reader: Reader, id: &str) -> Result<Resource, DataError> {
    readable(k, reader, id).await
}

/// Answers already computed, keyed by everything an answer depends on: the resource's table
/// (which never changes after its import: a re-import makes a new table), its catalogue and k,
/// and the query. So an entry can never be stale; each node fills its own.
static ANSWERS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, QueryResult>>> =
    std::sync::LazyLock::new(Default::default);
/// Entries kept before the cache starts afresh.
const MAX_ANSWERS: usize = 2048;
/// Whether answers are cached (on by default; `kreishaus bench opendata --uncached` measures
/// the query engine without it).
static CACHE_ANSWERS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// The queries being computed now, each with the lock its waiters queue on.
type InFlight = std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>;
static IN_FLIGHT: std::sync::LazyLock<std::sync::Mutex<InFlight>> = std::sync::LazyLock::new(Default::default);

/// Turns the answer cache of this process on or off.
pub fn cache_answers(on: bool) {
    CACHE_ANSWERS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Queries a resource: the public service API used by the data API, the previews and CKAN's
/// `datastore_search`. Count columns are suppressed below the resource's k in every value.
pub async fn query(k: &Kernel, reader: Reader, id: &str, q: &DataQuery) -> Result<QueryResult, DataError> {
    let r = readable(k, reader, id).await?;
    let key = format!(
        "{}|{}|{}|{}",
        r.table_name.as_deref().unwrap_or_default(),
        r.k_min,
        serde_json::to_string(&r.columns).unwrap_or_default(),
        serde_json::to_string(q).unwrap_or_default()
    );
    // A join reads a second resource whose version is not in the key: never cached.
    let cacheable = q.join.is_none() && CACHE_ANSWERS.load(std::sync::atomic::Ordering::Relaxed);
    if !cacheable {
        return compute(k, reader, r, q).await;
    }
    let cached = || ANSWERS.lock().ok().and_then(|m| m.get(&key).cloned());
    if let Some(hit) = cached() {
        return Ok(QueryResult { resource: r, ..hit });
    }
    // One computation per key at a time: requests for the same answer wait for the first one
    // (no stampede of identical scans when a popular query is not cached yet).
    let turn = IN_FLIGHT.lock().map(|mut m| m.entry(key.clone()).or_default().clone()).ok();
    let _guard = match &turn {
        Some(t) => Some(t.lock().await),
        None => None,
    };
    if let Some(hit) = cached() {
        return Ok(QueryResult { resource: r, ..hit });
    }
    let answer = compute(k, reader, r, q).await;
    if let Ok(a) = &answer
        && a.records.len() <= 1000
        && let Ok(mut m) = ANSWERS.lock()
    {
        if m.len() >= MAX_ANSWERS {
            m.clear();
        }
        m.insert(key.clone(), a.clone());
    }
    if let Ok(mut m) = IN_FLIGHT.lock() {
        m.remove(&key);
    }
    answer
}

/// Data queries running at once: two per core. More would only queue for the CPU, and
/// waiting here (as long as the client waits) keeps the database pool free for the rest of
/// the application, where a long queue of scans would otherwise time out taking connections.
static RUNNING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(2 * std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

async fn compute(k: &Kernel, reader: Reader, r: Resource, q: &DataQuery) -> Result<QueryResult, DataError> {
    let _permit = RUNNING.acquire().await.map_err(|e| DataError::App(AppError::internal(e)))?;
    let joined = match &q.join {
        Some(j) => Some(readable(k, reader, &j.resource).await.map_err(|e| match e {
            DataError::NotFound => {
                DataError::Query(QueryError::Invalid { parameter: "join".into(), code: "datastore.unknown_resource" })
            }
            other => other,
        })?),
        None => None,
    };
    let main = Catalogue { columns: &r.columns, k: r.k_min };
    let other = joined.as_ref().map(|j| Catalogue { columns: &j.columns, k: j.k_min });
    let jt = joined.as_ref().and_then(|j| j.table_name.clone()).unwrap_or_default();
    let p = plan(q, &main, other.as_ref().map(|c| (c, jt.as_str()))).map_err(DataError::Query)?;
    let table = r.table_name.clone().unwrap_or_default();
    let in_memory = k.db.engine() == kernel::Engine::Sqlite && columnar::applies(&p, r.row_count);
    let answer = if in_memory { columnar::run(&k.db, &p, &table, r.row_count).await? } else { None };
    let (records, total) = match answer {
        Some(a) => a,
        None => store::run(&k.db, &p, &table).await?,
    };
    let mut fields: Vec<Field> = p
        .fields
        .iter()
        .map(|f| Field { id: f.output.clone(), ty: f.column.ty, label: f.column.label.clone() })
        .collect();
    fields.extend(p.aggregates.iter().map(|a| Field {
        id: a.output.clone(),
        ty: match (a.func, &a.col) {
            (crate::query::AggFn::Count, _) | (_, None) => ColumnType::Integer,
            (crate::query::AggFn::Avg, _) => ColumnType::Decimal,
            (_, Some(c)) => c.column.ty,
        },
        label: a.output.clone(),
    }));
    let mut suppressed_columns: Vec<String> =
        p.fields.iter().filter(|f| f.k.is_some()).map(|f| f.output.clone()).collect();
    suppressed_columns.extend(p.aggregates.iter().filter(|a| a.k.is_some()).map(|a| a.output.clone()));
    Ok(QueryResult { resource: r, fields, records, total, limit: p.limit, offset: p.offset, suppressed_columns })
}

/// The largest file fetched from a URL (4 GiB).
pub const MAX_DOWNLOAD_BYTES: u64 = 4 << 30;

/// True for an address on the public internet: not loopback, private, link-local, shared or
/// unspecified (so a URL cannot make the server read its own network).
fn is_public(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => {
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation()
                || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64))
        }
        std::net::IpAddr::V6(a) => {
            !(a.is_loopback()
                || a.is_unspecified()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
                || a.to_ipv4_mapped().is_some_and(|v4| !is_public(std::net::IpAddr::V4(v4))))
        }
    }
}

/// Downloads a CSV file from an `http(s)` URL into the staging folder, streaming it to disk
/// with a size bound; returns the staged path. The host must resolve to public addresses only
/// (unless `allow_private`, for tests), the connection is pinned to the checked address, and
/// redirects are not followed.
pub async fn stage_url(url: &str, staging_dir: &Path, allow_private: bool) -> Result<PathBuf, AppError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let bad = || AppError::invalid("datastore.bad_url", "url");
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad());
    }
    let host = parsed.host_str().ok_or_else(bad)?.to_owned();
    let port = parsed.port_or_known_default().ok_or_else(bad)?;
    let addrs: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((host.as_str(), port)).await.map_err(|_| bad())?.collect();
    let addr = *addrs.first().ok_or_else(bad)?;
    if !allow_private && !addrs.iter().all(|a| is_public(a.ip())) {
        return Err(AppError::invalid("datastore.url_not_public", "url"));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .resolve(&host, addr)
        .build()
        .map_err(AppError::internal)?;
    let response =
        client.get(parsed).send().await.map_err(|_| AppError::invalid("datastore.url_unreachable", "url"))?;
    if !response.status().is_success() {
        return Err(AppError::invalid("datastore.url_unreachable", "url"));
    }
    tokio::fs::create_dir_all(staging_dir).await.map_err(io_error)?;
    let path = staging_dir.join(format!("{}.csv", new_uuid()));
    let mut file = tokio::fs::File::create(&path).await.map_err(io_error)?;
    let mut stream = response.bytes_stream();
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::invalid("datastore.url_unreachable", "url"))?;
        written += chunk.len() as u64;
        if written > MAX_DOWNLOAD_BYTES {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
            return Err(AppError::PayloadTooLarge);
        }
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    file.flush().await.map_err(io_error)?;
    Ok(path)
}
