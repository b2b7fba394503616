//! CKAN's `datastore_search` (crate opendata) answered by the data store's query engine (crate
//! datastore): the two crates stay independent; the binary wires one into the other.

use std::future::Future;
use std::pin::Pin;

use datastore::model::ColumnType;
use datastore::query::{DataQuery, Filter, Op, QueryError};
use datastore::service::{DataError, Reader};
use kernel::Kernel;
use opendata::ckan::{CkanError, Params};
use serde_json::{Map, Value, json};

/// CKAN's default and maximum page size of `datastore_search`.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 32_000;

pub struct DatastoreBridge;

impl opendata::http::api::DatastoreSearch for DatastoreBridge {
    fn search<'a>(
        &'a self,
        kernel: &'a Kernel,
        table: &'a str,
        params: &'a Params,
    ) -> Pin<Box<dyn Future<Output = Result<Value, CkanError>> + Send + 'a>> {
        Box::pin(async move {
            let query = data_query(params)?;
            let result = datastore::service::query(kernel, Reader::Public, table, &query).await.map_err(ckan_error)?;
            let fields: Vec<Value> =
                result.fields.iter().map(|f| json!({ "id": f.id, "type": ckan_type(f.ty) })).collect();
            let records: Vec<Value> = result
                .records
                .iter()
                .map(|row| {
                    let m: Map<String, Value> =
                        result.fields.iter().zip(row).map(|(f, cell)| (f.id.clone(), cell.to_json())).collect();
                    Value::Object(m)
                })
                .collect();
            let start = format!("/api/3/action/datastore_search?resource_id={table}");
            let next = format!("{start}&offset={}&limit={}", result.offset + result.limit, result.limit);
            Ok(json!({
                "resource_id": table,
                "fields": fields,
                "records": records,
                "total": result.total,
                "limit": result.limit,
                "offset": result.offset,
                "_links": { "start": start, "next": next },
            }))
        })
    }
}

/// CKAN's parameters as a data store query: `q`, `filters` (an object of column → value or
/// list of values), `fields`, `sort` (`"a, b desc"`), `limit`, `offset`.
fn data_query(p: &Params) -> Result<DataQuery, CkanError> {
    let text = |name: &str| opendata::ckan::text(p, name).map(|s| s.into_owned()).filter(|s| !s.trim().is_empty());
    let number = |name: &str, default: u64| -> Result<u64, CkanError> {
        match text(name) {
            None => Ok(default),
            Some(s) => s.trim().parse().map_err(|_| CkanError::validation(name, "Invalid integer")),
        }
    };
    let filters = match p.get("filters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(CkanError::validation("filters", "Not a JSON object")),
        },
        Some(_) => return Err(CkanError::validation("filters", "Not a JSON object")),
    };
    let filters = filters
        .into_iter()
        .map(|(column, v)| {
            let scalar = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match v {
                Value::Array(items) => {
                    Filter { column, op: Op::In, value: items.iter().map(scalar).collect::<Vec<_>>().join(",") }
                }
                v => Filter { column, op: Op::Eq, value: scalar(&v) },
            }
        })
        .collect();
    let list = |name: &str| -> Vec<String> {
        match p.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
            _ => text(name)
                .map(|s| s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect())
                .unwrap_or_default(),
        }
    };
    let sort = list("sort")
        .into_iter()
        .map(|key| match key.rsplit_once(' ') {
            Some((column, dir)) if dir.eq_ignore_ascii_case("desc") => (column.trim().to_owned(), true),
            Some((column, dir)) if dir.eq_ignore_ascii_case("asc") => (column.trim().to_owned(), false),
            _ => (key, false),
        })
        .collect();
    Ok(DataQuery {
        q: text("q"),
        filters,
        fields: list("fields"),
        sort,
        limit: Some(number("limit", DEFAULT_LIMIT)?.min(MAX_LIMIT)),
        offset: Some(number("offset", 0)?),
        ..DataQuery::default()
    })
}

fn ckan_error(e: DataError) -> CkanError {
    match e {
        DataError::NotFound => CkanError::not_found("Resource was not found."),
        DataError::Query(QueryError::UnknownColumn { column, valid }) => {
            CkanError::validation(&column, &format!("field not found; fields: {}", valid.join(", ")))
        }
        DataError::Query(QueryError::Invalid { parameter, code }) => CkanError::validation(&parameter, code),
        DataError::App(e) => CkanError::bad_request(format!("the data store could not answer: {e}")),
    }
}

/// The data store's column types as CKAN's DataStore names them.
fn ckan_type(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Integer => "int",
        ColumnType::Decimal | ColumnType::Latitude | ColumnType::Longitude => "numeric",
        ColumnType::Date => "date",
        ColumnType::Boolean => "bool",
        ColumnType::Text | ColumnType::Code => "text",
    }
}
