//! CKAN's Action API v3 at `/api/3/action/{name}`: GET with query parameters or POST with a
//! JSON object, answered in CKAN's envelope `{"help", "success", "result" | "error"}` with
//! CKAN's error types and statuses, so CKAN clients and harvesters work unchanged.

use std::future::Future;
use std::pin::Pin;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::model::Tenant;
use kernel::{AppError, Kernel};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::OpendataCtx;
use crate::ckan::{self, CkanError, Envelope, ErrorObject, Params, Site};
use crate::model::{self, Dataset, Group};
use crate::service;

/// The data store's query engine, as `datastore_search` calls it: `table` is the data store
/// resource id the distribution names; `params` are the call's parameters (`q`, `filters`,
/// `limit`, `offset`, `sort`, `fields`). It answers CKAN's `datastore_search` result object.
pub trait DatastoreSearch: Send + Sync {
    fn search<'a>(
        &'a self,
        kernel: &'a Kernel,
        table: &'a str,
        params: &'a Params,
    ) -> Pin<Box<dyn Future<Output = Result<Value, CkanError>> + Send + 'a>>;
}

/// `GET /api/3`: the API version, as CKAN answers.
pub async fn version() -> Response {
    axum::Json(json!({ "version": 3 })).into_response()
}

const ACTIONS: &[&str] = &[
    "package_list",
    "package_show",
    "package_search",
    "current_package_list_with_resources",
    "organization_list",
    "organization_show",
    "group_list",
    "group_show",
    "tag_list",
    "license_list",
    "resource_show",
    "status_show",
    "datastore_search",
];

/// Reads the parameters: the query string (GET) or a JSON object or form (POST).
fn params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Params, CkanError> {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !body.is_empty() && (json_body || body.first() == Some(&b'{')) {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(CkanError::bad_request("Bad request - JSON Error: Request data must be a JSON object".into())),
        };
    }
    let raw = if body.is_empty() { query.unwrap_or_default().as_bytes() } else { body };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw)
        .map_err(|_| CkanError::bad_request("Bad request - could not read the parameters".into()))?;
    let mut m = Map::new();
    for (k, v) in pairs {
        match m.get_mut(&k) {
            // A repeated parameter (fq_list=…&fq_list=…) becomes a list.
            Some(Value::Array(a)) => a.push(Value::String(v)),
            Some(prev) => *prev = Value::Array(vec![prev.clone(), Value::String(v)]),
            None => {
                m.insert(k, Value::String(v));
            }
        }
    }
    Ok(m)
}

fn reply<T: Serialize>(help: String, result: Result<T, CkanError>) -> Response {
    match result {
        Ok(r) => axum::Json(Envelope { help, success: true, result: Some(r), error: None }).into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            let error = ErrorObject { kind: e.kind, message: e.message, fields: e.fields };
            (status, axum::Json(Envelope::<()> { help, success: false, result: None, error: Some(error) }))
                .into_response()
        }
    }
}

fn internal(e: AppError) -> CkanError {
    match e {
        AppError::NotFound => CkanError::not_found("Not found"),
        other => {
            tracing::error!(error = %other, "CKAN API");
            CkanError {
                status: 500,
                kind: "Internal Server Error",
                message: Some("Internal error".into()),
                fields: Default::default(),
            }
        }
    }
}

/// What every call reads: the published datasets, the publishers and the groups.
struct Catalogue {
    sets: std::sync::Arc<Vec<Dataset>>,
    tenants: Vec<Tenant>,
    groups: Vec<Group>,
}

async fn load(ctx: &OpendataCtx) -> Result<Catalogue, CkanError> {
    let k = &ctx.kernel;
    let sets = service::published_cached(k, &ctx.cache).await.map_err(internal)?;
    let tenants = identity::service::public_tenants(k).await.map_err(internal)?;
    let groups = service::groups(k).await.map_err(internal)?;
    Ok(Catalogue { sets, tenants, groups })
}

impl Catalogue {
    /// The datasets of publishers that are active now (the cache may predate a deactivation).
    fn visible(&self) -> impl Iterator<Item = &Dataset> {
        self.sets.iter().filter(|d| self.tenants.iter().any(|t| t.id == d.tenant))
    }
}

/// `GET|POST /api/3/action/{name}`
pub async fn action(
    State(ctx): State<OpendataCtx>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let help = format!("{}/api/3/action/help_show?name={}", ctx.public_url, web::url_encode(&name));
    if !ACTIONS.contains(&name.as_str()) {
        return reply::<()>(help, Err(CkanError::bad_request(format!("Bad request - Action name not known: {name}"))));
    }
    let p = match params(query.as_deref(), &headers, &body) {
        Ok(p) => p,
        Err(e) => return reply::<()>(help, Err(e)),
    };
    match run(&ctx, &name, &p).await {
        Ok(v) => reply(help, Ok(v)),
        Err(e) => reply::<()>(help, Err(e)),
    }
}

fn to_value<T: Serialize>(v: T) -> Result<Value, CkanError> {
    serde_json::to_value(v).map_err(|e| internal(AppError::internal(e)))
}

/// `limit`/`offset` paging of a list, as CKAN's list actions do.
fn paged<T>(items: Vec<T>, p: &Params, default_limit: i64) -> Result<Vec<T>, CkanError> {
    let limit = usize::try_from(ckan::int(p, "limit", default_limit, i64::MAX)?).unwrap_or(usize::MAX);
    let offset = usize::try_from(ckan::int(p, "offset", 0, i64::MAX)?).unwrap_or(0);
    Ok(items.into_iter().skip(offset).take(limit).collect())
}

async fn run(ctx: &OpendataCtx, name: &str, p: &Params) -> Result<Value, CkanError> {
    if name == "status_show" {
        return to_value(json!({
            "site_title": "Kreishaus – Offene Daten",
            "site_description": "Offene Daten des Kreises und seiner Kommunen",
            "site_url": ctx.public_url,
            "ckan_version": "2.11.0",
            "locale_default": "de",
            "extensions": ["dcat", "datastore"],
        }));
    }
    if name == "license_list" {
        return to_value(ckan::licence_list());
    }
    if name == "datastore_search" {
        return datastore_search(ctx, p).await;
    }
    let k = &ctx.kernel;
    // The calls about one dataset or a page of them read only that.
    if matches!(name, "package_list" | "package_show" | "resource_show" | "current_package_list_with_resources") {
        let tenants = identity::service::public_tenants(k).await.map_err(internal)?;
        let groups = service::groups(k).await.map_err(internal)?;
        let site = Site::new(&ctx.public_url, &tenants, &groups);
        return match name {
            "package_list" => to_value(paged(service::published_names(k).await.map_err(internal)?, p, i64::MAX)?),
            "current_package_list_with_resources" => {
                let limit = usize::try_from(ckan::int(p, "limit", i64::MAX, i64::MAX)?).unwrap_or(usize::MAX);
                let offset = usize::try_from(ckan::int(p, "offset", 0, i64::MAX)?).unwrap_or(0);
                let (sets, _) = service::published_page(k, limit, offset).await.map_err(internal)?;
                to_value(sets.iter().filter_map(|d| site.package(d)).collect::<Vec<_>>())
            }
            "package_show" => {
                let id = ckan::required_id(p)?;
                let set = service::published_by_ref(k, &id).await.map_err(internal)?;
                to_value(site.package(&set).ok_or_else(|| CkanError::not_found("Not found"))?)
            }
            _ => {
                let id = ckan::required_id(p)?;
                let gone = |_| CkanError::not_found("Resource was not found.");
                let (_, dataset) = service::published_distribution(k, &id).await.map_err(gone)?;
                let set = service::published_by_ref(k, &dataset).await.map_err(gone)?;
                let found = set
                    .distributions
                    .iter()
                    .find(|d| d.uuid == id)
                    .and_then(|d| Some(site.resource(site.tenant(set.tenant)?, &set, d)));
                to_value(found.ok_or_else(|| CkanError::not_found("Resource was not found."))?)
            }
        };
    }
    let c = load(ctx).await?;
    let site = Site::new(&ctx.public_url, &c.tenants, &c.groups);
    match name {
        "package_search" => to_value(ckan::search(&site, &c.visible().collect::<Vec<_>>(), p)?),
        "organization_list" => {
            let mut orgs: Vec<_> = c
                .tenants
                .iter()
                .map(|t| {
                    let mut o = site.organization(t);
                    o.package_count = Some(c.sets.iter().filter(|d| d.tenant == t.id).count());
                    o
                })
                .collect();
            sort_groups(&mut orgs, p)?;
            list_or_names(paged(orgs, p, 1000)?, p)
        }
        "group_list" => {
            let mut groups: Vec<_> = c
                .groups
                .iter()
                .map(|g| {
                    let mut o = site.group(g);
                    o.package_count = Some(c.visible().filter(|d| d.groups.contains(&g.name)).count());
                    o
                })
                .collect();
            sort_groups(&mut groups, p)?;
            list_or_names(paged(groups, p, 1000)?, p)
        }
        "organization_show" => {
            let id = ckan::required_id(p)?;
            let t = c
                .tenants
                .iter()
                .find(|t| t.slug == id || ckan::tenant_uuid(t) == id)
                .ok_or_else(|| CkanError::not_found("Organization not found"))?;
            let mine: Vec<&Dataset> = c.sets.iter().filter(|d| d.tenant == t.id).collect();
            let mut o = site.organization(t);
            fill_show(&mut o, &site, &mine, p);
            to_value(o)
        }
        "group_show" => {
            let id = ckan::required_id(p)?;
            let g = c
                .groups
                .iter()
                .find(|g| g.name == id || g.uuid == id)
                .ok_or_else(|| CkanError::not_found("Group not found"))?;
            let mine: Vec<&Dataset> = c.visible().filter(|d| d.groups.contains(&g.name)).collect();
            let mut o = site.group(g);
            fill_show(&mut o, &site, &mine, p);
            to_value(o)
        }
        "tag_list" => {
            if ckan::text(p, "vocabulary_id").is_some_and(|v| !v.is_empty()) {
                return Err(CkanError::not_found("Could not find vocabulary"));
            }
            let query = ckan::text(p, "query").map(|q| q.to_lowercase()).unwrap_or_default();
            let mut tags: Vec<String> = c.visible().flat_map(|d| d.meta.keywords.iter().cloned()).collect();
            tags.sort();
            tags.dedup();
            tags.retain(|t| t.to_lowercase().contains(&query));
            if ckan::boolean(p, "all_fields") {
                to_value(
                    tags.into_iter()
                        .map(|t| json!({ "id": t, "name": t, "display_name": t, "vocabulary_id": null, "state": "active" }))
                        .collect::<Vec<_>>(),
                )
            } else {
                to_value(tags)
            }
        }
        _ => Err(CkanError::bad_request(format!("Bad request - Action name not known: {name}"))),
    }
}

/// `sort` of organization_list and group_list: `name`, `title` or `package_count`, asc/desc.
fn sort_groups(list: &mut [ckan::Organization], p: &Params) -> Result<(), CkanError> {
    let sort = ckan::text(p, "sort").map(|s| s.into_owned()).unwrap_or_else(|| "title asc".into());
    let mut words = sort.split_whitespace();
    let field = words.next().unwrap_or("title").to_owned();
    let desc = match words.next().unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        _ => return Err(CkanError::validation("sort", "Invalid sort order")),
    };
    match field.as_str() {
        "name" => list.sort_by(|a, b| a.name.cmp(&b.name)),
        "title" => list.sort_by_key(|o| o.title.to_lowercase()),
        "package_count" => list.sort_by_key(|o| o.package_count),
        _ => return Err(CkanError::validation("sort", &format!("Cannot sort by field `{field}`"))),
    }
    if desc {
        list.reverse();
    }
    Ok(())
}

fn list_or_names(list: Vec<ckan::Organization>, p: &Params) -> Result<Value, CkanError> {
    if ckan::boolean(p, "all_fields") {
        to_value(list)
    } else {
        to_value(list.into_iter().map(|o| o.name).collect::<Vec<_>>())
    }
}

/// The details organization_show and group_show add: counts, the first ten datasets when
/// asked for, the tags of its datasets.
fn fill_show(o: &mut ckan::Organization, site: &Site<'_>, sets: &[&Dataset], p: &Params) {
    o.package_count = Some(sets.len());
    o.extras = Some(Vec::new());
    o.users = Some(Vec::new());
    o.groups = Some(Vec::new());
    let mut tags: Vec<String> = sets.iter().flat_map(|d| d.meta.keywords.iter().cloned()).collect();
    tags.sort();
    tags.dedup();
    o.tags = Some(
        tags.into_iter()
            .map(|t| ckan::Tag { display_name: t.clone(), name: t, state: "active", vocabulary_id: None })
            .collect(),
    );
    if ckan::boolean(p, "include_datasets") {
        o.packages = Some(sets.iter().take(10).filter_map(|d| site.package(d)).collect());
    }
}

/// `datastore_search`: the distribution (CKAN resource) must belong to a published dataset and
/// name a data store table; the query itself is the data store's.
async fn datastore_search(ctx: &OpendataCtx, p: &Params) -> Result<Value, CkanError> {
    let id = ckan::text(p, "resource_id")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CkanError::validation("resource_id", "Missing value"))?;
    let not_found = || CkanError::not_found(&format!("Resource \"{id}\" was not found."));
    let (dist, _) = service::published_distribution(&ctx.kernel, &id).await.map_err(|e| match e {
        AppError::NotFound => not_found(),
        other => internal(other),
    })?;
    let table = dist.datastore_resource.ok_or_else(not_found)?;
    let engine = ctx.datastore.as_ref().ok_or_else(not_found)?;
    let _ = model::parse_uuid(&table).ok_or_else(not_found)?;
    // The engine knows its table, not the CKAN resource: a missing table is this resource's 404.
    engine.search(&ctx.kernel, &table, p).await.map_err(|e| if e.status == 404 { not_found() } else { e })
}
