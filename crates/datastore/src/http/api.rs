//! The data API: `/api/v1/data` lists the published resources; `/api/v1/data/{resource}`
//! answers a query as JSON, `…/{resource}.csv` as CSV and `…/{resource}.geojson` as GeoJSON.
//! A bad parameter is a 400 in the error envelope; an unknown column lists the valid ones.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::DatastoreCtx;
use crate::model::{Cell, ColumnType};
use crate::query::{self, QueryError};
use crate::service::{self, DataError, Field, QueryResult, Reader};

/// A published resource in the list.
#[derive(Serialize, ToSchema)]
pub struct ResourceItem {
    pub id: String,
    pub title: String,
    pub rows: i64,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResourceList {
    pub items: Vec<ResourceItem>,
}

/// Which values are hidden: count columns show nothing below `k`.
#[derive(Serialize, ToSchema)]
pub struct Suppression {
    pub k: i64,
    pub columns: Vec<String>,
}

/// One page of a query's answer.
#[derive(Serialize, ToSchema)]
pub struct DataPage {
    pub resource: String,
    pub title: String,
    pub fields: Vec<Field>,
    /// One object per row, keyed by field id.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Rows (or groups) in all pages.
    pub total: i64,
    pub limit: u64,
    pub offset: u64,
    /// The next page, absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub suppression: Suppression,
}

/// The error envelope of a refused query; `valid_columns` when a column was unknown.
#[derive(Serialize, ToSchema)]
pub struct QueryErrorBody {
    pub error: QueryErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct QueryErrorDetail {
    pub code: String,
    pub message: String,
    pub fields: Vec<QueryErrorField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_columns: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct QueryErrorField {
    pub field: String,
    pub code: String,
}

/// A refused query as a 400 response.
pub fn query_error(e: &QueryError) -> Response {
    let (field, message, valid) = match e {
        QueryError::UnknownColumn { column, valid } => (
            column.clone(),
            format!("Unbekannte Spalte „{column}“ / unknown column. Gültig / valid: {}", valid.join(", ")),
            Some(valid.clone()),
        ),
        QueryError::Invalid { parameter, code } => {
            (parameter.clone(), format!("Ungültiger Parameter / invalid parameter: {parameter} ({code})"), None)
        }
    };
    let body = QueryErrorBody {
        error: QueryErrorDetail {
            code: e.code().to_owned(),
            message,
            fields: vec![QueryErrorField { field, code: e.code().to_owned() }],
            valid_columns: valid,
        },
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Maps a service error to a response.
pub fn data_error(e: DataError) -> Response {
    match e {
        DataError::NotFound => kernel::AppError::NotFound.into_response(),
        DataError::Query(q) => query_error(&q),
        DataError::App(a) => a.into_response(),
    }
}

/// The URL parameters of a request, in order.
pub fn params(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|r| serde_urlencoded::from_str::<Vec<(String, String)>>(r).ok()).unwrap_or_default()
}

#[utoipa::path(get, path = "/api/v1/data", tag = "datastore",
    responses((status = 200, description = "The published data tables", body = ResourceList)))]
pub async fn list(State(ctx): State<DatastoreCtx>) -> Result<Json<ResourceList>, kernel::AppError> {
    let items = service::published_resources(&ctx.kernel)
        .await?
        .into_iter()
        .map(|r| ResourceItem { url: format!("/api/v1/data/{}", r.id), id: r.id, title: r.title, rows: r.row_count })
        .collect();
    Ok(Json(ResourceList { items }))
}

/// The output formats.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    GeoJson,
}

#[utoipa::path(get, path = "/api/v1/data/{resource}", tag = "datastore",
    params(
        ("resource" = String, Path, description = "The resource's UUID; append `.csv` or `.geojson` for those formats"),
        ("q" = Option<String>, Query, description = "Full text: every word must occur (prefix match)"),
        ("fields" = Option<String>, Query, description = "Columns to return, comma-separated; `join.<name>` for the joined resource"),
        ("sort" = Option<String>, Query, description = "Sort columns, comma-separated; `-name` descending"),
        ("limit" = Option<u64>, Query, description = "Rows per page, default 100, at most 10000"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("group_by" = Option<String>, Query, description = "Group by these columns"),
        ("aggregate" = Option<String>, Query, description = "Aggregates per group: `count`, `sum:col`, `avg:col`, `min:col`, `max:col`"),
        ("join" = Option<String>, Query, description = "`<resource>:<left column>=<right column>`: a left join of a second resource"),
        ("<column>" = Option<String>, Query, description = "A filter: `name=value` or `name__op=value` with op eq, ne, lt, lte, gt, gte, contains, in (comma list), isnull"),
    ),
    responses(
        (status = 200, description = "A page of rows (JSON; CSV and GeoJSON by suffix)", body = DataPage),
        (status = 400, description = "A bad parameter; an unknown column lists the valid ones", body = QueryErrorBody),
        (status = 404, description = "No such published resource", body = web::ErrorEnvelope),
    ))]
pub async fn data(State(ctx): State<DatastoreCtx>, Path(resource): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let (id, format) = match resource.rsplit_once('.') {
        Some((id, "csv")) => (id.to_owned(), Format::Csv),
        Some((id, "geojson")) => (id.to_owned(), Format::GeoJson),
        Some((id, "json")) => (id.to_owned(), Format::Json),
        _ => (resource.clone(), Format::Json),
    };
    let p = params(raw.as_deref());
    let q = match query::from_params(&p) {
        Ok(q) => q,
        Err(e) => return query_error(&e),
    };
    let result = match service::query(&ctx.kernel, Reader::Public, &id, &q).await {
        Ok(r) => r,
        Err(e) => return data_error(e),
    };
    match format {
        Format::Json => Json(page(&result, &id, &p)).into_response(),
        Format::Csv => with_type(csv(&result), "text/csv; charset=utf-8"),
        Format::GeoJson => match geojson(&result) {
            Some(g) => with_type(g, "application/geo+json"),
            None => query_error(&QueryError::Invalid { parameter: "format".into(), code: "datastore.no_coordinates" }),
        },
    }
}

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A result as the JSON page.
pub fn page(r: &QueryResult, id: &str, params: &[(String, String)]) -> DataPage {
    let records = r
        .records
        .iter()
        .map(|row| r.fields.iter().zip(row).map(|(f, c)| (f.id.clone(), c.to_json())).collect())
        .collect();
    let next_offset = r.offset + r.limit;
    let next = (i64::try_from(next_offset).unwrap_or(i64::MAX) < r.total).then(|| {
        let mut p: Vec<(String, String)> = params.iter().filter(|(k, _)| k != "offset").cloned().collect();
        p.push(("offset".into(), next_offset.to_string()));
        format!("/api/v1/data/{id}?{}", serde_urlencoded::to_string(&p).unwrap_or_default())
    });
    DataPage {
        resource: r.resource.id.clone(),
        title: r.resource.title.clone(),
        fields: r.fields.clone(),
        records,
        total: r.total,
        limit: r.limit,
        offset: r.offset,
        next,
        suppression: Suppression { k: r.resource.k_min, columns: r.suppressed_columns.clone() },
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// A result as CSV (comma, UTF-8, a header line; suppressed and empty cells are empty).
pub fn csv(r: &QueryResult) -> String {
    let mut out = r.fields.iter().map(|f| csv_cell(&f.id)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in &r.records {
        out.push_str(&row.iter().map(|c| csv_cell(&c.display())).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[derive(Serialize)]
struct FeatureCollection {
    #[serde(rename = "type")]
    ty: &'static str,
    features: Vec<Feature>,
}

#[derive(Serialize)]
struct Feature {
    #[serde(rename = "type")]
    ty: &'static str,
    geometry: Point,
    properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct Point {
    #[serde(rename = "type")]
    ty: &'static str,
    coordinates: [f64; 2],
}

/// The positions of the latitude and longitude fields, when the result has both.
pub fn coordinate_fields(fields: &[Field]) -> Option<(usize, usize)> {
    let lat = fields.iter().position(|f| f.ty == ColumnType::Latitude)?;
    let lon = fields.iter().position(|f| f.ty == ColumnType::Longitude)?;
    Some((lat, lon))
}

/// A result as GeoJSON points; rows without coordinates are left out.
pub fn geojson(r: &QueryResult) -> Option<String> {
    let (lat, lon) = coordinate_fields(&r.fields)?;
    let features = r
        .records
        .iter()
        .filter_map(|row| {
            let (Cell::Float(y), Cell::Float(x)) = (&row[lat], &row[lon]) else { return None };
            let properties = r
                .fields
                .iter()
                .zip(row)
                .enumerate()
                .filter(|(i, _)| *i != lat && *i != lon)
                .map(|(_, (f, c))| (f.id.clone(), c.to_json()))
                .collect();
            Some(Feature { ty: "Feature", geometry: Point { ty: "Point", coordinates: [*x, *y] }, properties })
        })
        .collect();
    serde_json::to_string(&FeatureCollection { ty: "FeatureCollection", features }).ok()
}

#[derive(OpenApi)]
#[openapi(paths(list, data))]
pub struct DatastoreApi;
