//! HTML pages. Staff: the tenant's tables with the upload form, one table's columns (types,
//! count marks), k and publication with its imports, progress and bad rows. Public: the list
//! of published tables and a table's preview with a chart, a map and a drill-down, all
//! server-rendered and working without JavaScript.

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use identity::http::StaffUser;
use identity::model::Tenant;
use identity::{Authorized, Staff};
use kernel::AppError;
use tokio::io::AsyncWriteExt;
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, page, redirect_with_flash};

use super::DatastoreCtx;
use super::api::{coordinate_fields, data_error, params};
use crate::chart::{self, Kind};
use crate::model::{Cell, ColumnType};
use crate::query::{self, AggFn, Aggregate, DataQuery, Filter, Op, QueryError};
use crate::service::{self, DataError, ManageData, QueryResult, Reader};
use crate::store::{Import, Resource, RowError};

async fn manageable(
    ctx: &DatastoreCtx,
    staff: &Staff,
    slug: &str,
) -> Result<(Tenant, Authorized<ManageData>), AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, slug).await?;
    let proof = staff.authorize::<ManageData>(tenant.id)?;
    Ok((tenant, proof))
}

#[derive(Template)]
#[template(path = "datastore/staff_list.html")]
struct StaffList {
    chrome: Chrome,
    tenant: Tenant,
    resources: Vec<Resource>,
}

/// `GET /verwaltung/mandanten/{slug}/datentabellen`
pub async fn staff_list(
    State(ctx): State<DatastoreCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (tenant, proof) = manageable(&ctx, &staff, &slug).await?;
    let resources = service::own_resources(&ctx.kernel, &proof).await?;
    Ok(page(&StaffList { chrome, tenant, resources }))
}

/// `POST /verwaltung/mandanten/{slug}/datentabellen`: the upload, streamed to the staging folder
/// chunk by chunk (never whole in memory), then imported in the background.
pub async fn upload(
    State(ctx): State<DatastoreCtx>,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    mut form: Multipart,
) -> Result<Response, AppError> {
    let (_, proof) = manageable(&ctx, &staff, &slug).await?;
    let unreadable = || AppError::invalid("datastore.file_required", "file");
    tokio::fs::create_dir_all(&ctx.staging_dir).await.map_err(AppError::internal)?;
    let (mut title, mut staged, mut url) = (String::new(), None, String::new());
    while let Some(mut part) = form.next_field().await.map_err(|_| unreadable())? {
        match (part.name().unwrap_or_default(), part.file_name().map(str::to_owned)) {
            ("file", Some(name)) if !name.is_empty() => {
                let path = ctx.staging_dir.join(format!("{}.csv", service::new_uuid()));
                let mut f = tokio::fs::File::create(&path).await.map_err(AppError::internal)?;
                let mut written = 0u64;
                while let Some(chunk) = part.chunk().await.map_err(|_| AppError::PayloadTooLarge)? {
                    written += chunk.len() as u64;
                    f.write_all(&chunk).await.map_err(AppError::internal)?;
                }
                f.flush().await.map_err(AppError::internal)?;
                if written > 0 {
                    staged = Some((name, path));
                }
            }
            ("title", _) => title = part.text().await.map_err(|_| unreadable())?,
            ("url", _) => url = part.text().await.map_err(|_| unreadable())?,
            _ => {}
        }
    }
    let (name, path) = match staged {
        Some(s) => s,
        None if !url.trim().is_empty() => {
            (url.trim().to_owned(), service::stage_url(&url, &ctx.staging_dir, false).await?)
        }
        None => return Err(unreadable()),
    };
    if title.trim().is_empty() {
        title = name.clone();
    }
    let r = service::create_resource(&ctx.kernel, &proof, &title, &name, &path).await?;
    service::start_import(&ctx.kernel, &proof, &r.id, None).await?;
    let to = format!("/verwaltung/mandanten/{slug}/datentabellen/{}", r.id);
    Ok(redirect_with_flash(&to, FlashKind::Success, "datastore.saved", None))
}

#[derive(Template)]
#[template(path = "datastore/staff_resource.html")]
struct StaffResource {
    chrome: Chrome,
    tenant: Tenant,
    resource: Resource,
    imports: Vec<Import>,
    errors: Vec<RowError>,
    running: bool,
}

impl StaffResource {
    fn types(&self) -> Vec<String> {
        ColumnType::ALL.iter().map(|t| t.as_str().to_owned()).collect()
    }

    fn type_label(&self, ty: &str) -> String {
        self.chrome.label("datastore", &format!("type_{ty}"))
    }

    fn state_label(&self, i: &Import) -> String {
        self.chrome.label("datastore", &format!("state_{}", i.state))
    }

    fn message(&self, code: &str) -> String {
        self.chrome.error_message(code)
    }

    fn percent(&self, i: &Import) -> i64 {
        match i.bytes_total {
            Some(t) if t > 0 => (i.bytes_done * 100 / t).min(100),
            _ => 0,
        }
    }
}

/// `GET /verwaltung/mandanten/{slug}/datentabellen/{id}`; refreshes itself while an import runs.
pub async fn staff_resource(
    State(ctx): State<DatastoreCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = manageable(&ctx, &staff, &slug).await?;
    let resource = service::own_resource(&ctx.kernel, &proof, &id).await?;
    let imports = service::imports_of(&ctx.kernel, &proof, &id).await?;
    let errors = match imports.first() {
        Some(i) => service::import_status(&ctx.kernel, &proof, &i.id).await?.1,
        None => Vec::new(),
    };
    let running = imports.first().is_some_and(|i| i.state == "running");
    let mut r = page(&StaffResource { chrome, tenant, resource, imports, errors, running });
    if running {
        r.headers_mut().insert(header::REFRESH, HeaderValue::from_static("2"));
    }
    Ok(r)
}

/// `POST /verwaltung/mandanten/{slug}/datentabellen/{id}`: title, k, publication, column types and
/// count marks.
pub async fn staff_save(
    State(ctx): State<DatastoreCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, String)>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let (_, proof) = manageable(&ctx, &staff, &slug).await?;
    let r = service::own_resource(&ctx.kernel, &proof, &id).await?;
    let columns = r
        .columns
        .iter()
        .map(|c| {
            let ty = ColumnType::parse(field(&f, &format!("typ_{}", c.position))).unwrap_or(c.ty);
            (ty, field(&f, &format!("zahl_{}", c.position)) == "1")
        })
        .collect();
    let settings = service::Settings {
        title: field(&f, "title").to_owned(),
        k: field(&f, "k").trim().parse().unwrap_or(0),
        published: field(&f, "published") == "1",
        columns,
    };
    let reimport = service::save_settings(&ctx.kernel, &proof, &id, &settings).await?;
    let key = if reimport { "datastore.reimport_started" } else { "datastore.saved" };
    Ok(redirect_with_flash(&format!("/verwaltung/mandanten/{slug}/datentabellen/{id}"), FlashKind::Success, key, None))
}

#[derive(Template)]
#[template(path = "datastore/public_list.html")]
struct PublicList {
    chrome: Chrome,
    resources: Vec<Resource>,
}

/// `GET /datentabellen`
pub async fn public_list(State(ctx): State<DatastoreCtx>, chrome: Chrome) -> Result<Response, AppError> {
    let resources = service::published_resources(&ctx.kernel).await?;
    Ok(page(&PublicList { chrome, resources }))
}

/// A chart as the page shows it: the SVG and the same figures as rows of a table.
struct ChartView {
    svg: String,
    rows: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "datastore/public_table.html")]
struct PublicTable {
    chrome: Chrome,
    result: QueryResult,
    rows: Vec<Vec<String>>,
    query: String,
    prev: Option<String>,
    next: Option<String>,
    chart: Option<ChartView>,
    chart_x: String,
    chart_y: String,
    chart_kind: String,
    map: Option<String>,
    /// The data API query of the interactive map: the page's filters, all rows up to the limit.
    map_query: String,
    /// The tile URL template and attribution of interactive maps (empty: no tiles).
    map_tiles: (String, String),
    numeric: Vec<String>,
}

fn page_link(id: &str, p: &[(String, String)], offset: u64) -> String {
    let mut p: Vec<(String, String)> = p.iter().filter(|(k, _)| k != "offset").cloned().collect();
    p.push(("offset".into(), offset.to_string()));
    format!("/datentabellen/{id}?{}", serde_urlencoded::to_string(&p).unwrap_or_default())
}

/// A refused query on a page: an HTML error page that names the problem (the API answers
/// its JSON envelope instead).
fn page_error(e: DataError) -> Response {
    let app = match e {
        DataError::NotFound => AppError::NotFound,
        DataError::Query(QueryError::UnknownColumn { column, .. }) => {
            AppError::invalid("datastore.unknown_column", &column)
        }
        DataError::Query(QueryError::Invalid { parameter, code }) => AppError::invalid(code, &parameter),
        DataError::App(a) => a,
    };
    app.into_response()
}

/// The first value of a URL parameter, empty when absent.
fn param(all: &[(String, String)], name: &str) -> String {
    all.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The values of a one-column group-by with one aggregate, for a chart.
fn chart_values(r: &QueryResult) -> Vec<(String, Option<f64>)> {
    r.records.iter().map(|row| (row[0].display(), row.get(1).and_then(Cell::as_f64))).collect()
}

/// Parses `sum:col` or `count` into an aggregate.
fn aggregate(y: &str) -> Aggregate {
    match y.split_once(':') {
        Some((f, c)) => Aggregate { func: AggFn::parse(f).unwrap_or(AggFn::Sum), column: Some(c.to_owned()) },
        None => Aggregate { func: AggFn::Count, column: None },
    }
}

/// `GET /datentabellen/{id}`: a page of rows (the data API's parameters apply), a chart of a chosen
/// group-by (`diagramm_x`, `diagramm_y`, `diagramm_art`) and, for point data, a map.
pub async fn public_table(
    State(ctx): State<DatastoreCtx>,
    chrome: Chrome,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let all = params(raw.as_deref());
    let get = |k: &str| param(&all, k);
    let (chart_x, chart_y, chart_kind) = (get("diagramm_x"), get("diagramm_y"), get("diagramm_art"));
    let p: Vec<(String, String)> = all.iter().filter(|(k, _)| !k.starts_with("diagramm_")).cloned().collect();
    let mut q = match query::from_params(&p) {
        Ok(q) => q,
        Err(e) => return page_error(DataError::Query(e)),
    };
    q.limit = Some(q.limit.unwrap_or(50).min(500));
    let result = match service::query(&ctx.kernel, Reader::Public, &id, &q).await {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let chart = if chart_x.is_empty() {
        None
    } else {
        let cq = DataQuery {
            filters: q.filters.clone(),
            q: q.q.clone(),
            group_by: vec![chart_x.clone()],
            aggregates: vec![aggregate(&chart_y)],
            limit: Some(60),
            ..DataQuery::default()
        };
        match service::query(&ctx.kernel, Reader::Public, &id, &cq).await {
            Ok(c) => {
                let values = chart_values(&c);
                let title = format!("{} – {}", result.resource.title, c.fields.get(1).map_or("", |f| f.id.as_str()));
                let rows = values
                    .iter()
                    .map(|(l, v)| (l.clone(), v.map_or_else(|| "–".to_owned(), |v| v.to_string())))
                    .collect();
                Some(ChartView { svg: chart::render(Kind::parse(&chart_kind), &title, &values), rows })
            }
            Err(e) => return page_error(e),
        }
    };
    let map = coordinate_fields(&result.fields).map(|(lat, lon)| {
        let points: Vec<(f64, f64, String)> = result
            .records
            .iter()
            .filter_map(|row| match (&row[lat], &row[lon]) {
                (Cell::Float(y), Cell::Float(x)) => {
                    let label =
                        row.iter().find_map(|c| matches!(c, Cell::Text(_)).then(|| c.display())).unwrap_or_default();
                    Some((*y, *x, label))
                }
                _ => None,
            })
            .collect();
        chart::map(&result.resource.title, &points)
    });
    let rows = result.records.iter().map(|r| r.iter().map(Cell::display).collect()).collect();
    let prev = (result.offset > 0).then(|| page_link(&id, &p, result.offset.saturating_sub(result.limit)));
    let next = ((result.offset + result.limit) < result.total as u64)
        .then(|| page_link(&id, &p, result.offset + result.limit));
    let numeric = result.resource.columns.iter().filter(|c| c.ty.is_numeric()).map(|c| c.name.clone()).collect();
    let query = serde_urlencoded::to_string(&p).unwrap_or_default();
    let mut whole: Vec<(String, String)> = p.iter().filter(|(k, _)| k != "offset" && k != "limit").cloned().collect();
    whole.push(("limit".into(), query::MAX_LIMIT.to_string()));
    let map_query = serde_urlencoded::to_string(&whole).unwrap_or_default();
    let map_tiles = ctx.map_tiles.clone();
    page(&PublicTable {
        chrome,
        result,
        rows,
        query,
        prev,
        next,
        chart,
        chart_x,
        chart_y,
        chart_kind,
        map,
        map_query,
        map_tiles,
        numeric,
    })
}

/// `GET /datentabellen/{id}/diagramm.svg?x=…&y=sum:…&art=bar`: the chart alone, for embedding.
pub async fn chart_svg(State(ctx): State<DatastoreCtx>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let all = params(raw.as_deref());
    let get = |k: &str| param(&all, k);
    let q = DataQuery {
        group_by: vec![get("x")],
        aggregates: vec![aggregate(&get("y"))],
        limit: Some(60),
        ..DataQuery::default()
    };
    match service::query(&ctx.kernel, Reader::Public, &id, &q).await {
        Ok(c) => {
            let svg = chart::render(Kind::parse(&get("art")), &c.resource.title, &chart_values(&c));
            ([(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"))], svg).into_response()
        }
        Err(e) => data_error(e),
    }
}

#[derive(Template)]
#[template(path = "datastore/drilldown.html")]
struct Drilldown {
    chrome: Chrome,
    resource: Resource,
    /// The path so far: (column, value, link back to that level).
    trail: Vec<(String, String, String)>,
    level: String,
    value_field: String,
    rows: Vec<(String, String, Option<String>)>,
    chart: String,
}

/// `GET /datentabellen/{id}/aufschluesselung?ebenen=a,b,c&wert=betrag&a=X`: the sum of `wert` by the
/// first level not yet fixed; each group links one level deeper (the interactive budget).
pub async fn drilldown(
    State(ctx): State<DatastoreCtx>,
    chrome: Chrome,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let all = params(raw.as_deref());
    let get = |k: &str| param(&all, k);
    let levels: Vec<String> = get("ebenen").split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let value = get("wert");
    let fixed: Vec<(String, String)> =
        levels.iter().filter_map(|l| all.iter().find(|(n, _)| n == l).map(|(_, v)| (l.clone(), v.clone()))).collect();
    let Some(level) = levels.get(fixed.len()).or(levels.last()).cloned() else {
        return kernel::AppError::invalid("datastore.invalid_value", "ebenen").into_response();
    };
    let deeper = fixed.len() + 1 < levels.len();
    let q = DataQuery {
        filters: fixed.iter().map(|(c, v)| Filter { column: c.clone(), op: Op::Eq, value: v.clone() }).collect(),
        group_by: vec![level.clone()],
        aggregates: vec![Aggregate { func: AggFn::Sum, column: Some(value.clone()) }],
        limit: Some(500),
        ..DataQuery::default()
    };
    let r = match service::query(&ctx.kernel, Reader::Public, &id, &q).await {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let base = |upto: usize| -> Vec<(String, String)> {
        let mut p = vec![("ebenen".to_owned(), levels.join(",")), ("wert".to_owned(), value.clone())];
        p.extend(fixed.iter().take(upto).cloned());
        p
    };
    let link = |p: &[(String, String)]| {
        format!("/datentabellen/{id}/aufschluesselung?{}", serde_urlencoded::to_string(p).unwrap_or_default())
    };
    let trail = fixed.iter().enumerate().map(|(i, (c, v))| (c.clone(), v.clone(), link(&base(i)))).collect();
    let rows = r
        .records
        .iter()
        .map(|row| {
            let key = row[0].display();
            let href = deeper.then(|| {
                let mut p = base(fixed.len());
                p.push((level.clone(), key.clone()));
                link(&p)
            });
            (key, row.get(1).map(Cell::display).unwrap_or_default(), href)
        })
        .collect();
    let chart = chart::render(Kind::Bar, &r.resource.title, &chart_values(&r));
    page(&Drilldown { chrome, resource: r.resource, trail, level, value_field: value, rows, chart })
}
