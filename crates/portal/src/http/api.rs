//! The portal's JSON API: the search in the same ranking as the page, suggestions while typing,
//! and the catalogue export.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kernel::AppError;
use serde::{Deserialize, Serialize};

use super::{PortalCtx, content_api, service_url};
use crate::catalogue::Level;
use crate::details::Fee;
use crate::exchange::{CatalogueFile, Entry};
use crate::service::{self, Residence};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ServicesQuery {
    /// What the citizen is looking for, in their words.
    pub q: Option<String>,
    /// The citizen's municipality: its short name, its name or a postcode.
    pub municipality: Option<String>,
    /// At most this many services (1–100, default 10).
    pub limit: Option<usize>,
}

/// A service found, with the tenant responsible for the citizen.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ServiceItem {
    pub id: String,
    pub name: String,
    pub summary: String,
    /// The responsible tenant's short name; null for a municipal service while the municipality
    /// is not known.
    pub tenant: Option<String>,
    pub url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ServiceList {
    pub items: Vec<ServiceItem>,
    /// The municipality the answer is for, when one was given and found.
    pub municipality: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/services", tag = "portal", params(ServicesQuery),
    responses((status = 200, body = ServiceList), (status = 422, description = "Unknown municipality or postcode", body = web::ErrorEnvelope)))]
pub async fn services(
    State(ctx): State<PortalCtx>,
    Query(q): Query<ServicesQuery>,
) -> Result<Json<ServiceList>, AppError> {
    let text = q.q.unwrap_or_default();
    let result =
        service::search(&ctx.kernel, &ctx.index, &text, q.municipality.as_deref(), q.limit.unwrap_or(10)).await?;
    let municipality = match &result.residence {
        Residence::In(t) => Some(t.slug.clone()),
        Residence::NotFound(_) => return Err(AppError::invalid("portal.municipality_unknown", "municipality")),
        Residence::Unknown => None,
    };
    let items = result
        .found
        .into_iter()
        .map(|f| ServiceItem {
            url: service_url(&f.service.id, municipality.as_deref()),
            id: f.service.id,
            name: f.service.name,
            summary: f.service.summary,
            tenant: f.responsible.map(|t| t.slug),
        })
        .collect();
    Ok(Json(ServiceList { items, municipality }))
}

/// The portal's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(services, suggest, catalogue, xzufi, search, content_api::news, content_api::events),
    components(schemas(
        content_api::NewsList,
        content_api::NewsItem,
        content_api::EventList,
        content_api::EventItem,
        content_api::RegistrationInfo,
        crate::content::model::Admission,
        ServiceList,
        ServiceItem,
        Suggestions,
        Suggestion,
        CatalogueFile,
        Entry,
        Fee,
        Level,
        SearchList,
        SearchItem,
        service::Kind
    ))
)]
pub struct PortalApi;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SuggestQuery {
    /// What the citizen has typed so far.
    pub q: Option<String>,
}

/// A suggestion while typing: a service's name and page.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub name: String,
    pub url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    pub suggestions: Vec<Suggestion>,
}

/// Suggestions for the search field: the names of the best matching services for what was typed
/// so far (word beginnings, synonyms and typos count as in the search).
#[utoipa::path(get, path = "/api/v1/services/suggest", tag = "portal", params(SuggestQuery),
    responses((status = 200, body = Suggestions)))]
pub async fn suggest(
    State(ctx): State<PortalCtx>,
    Query(q): Query<SuggestQuery>,
) -> Result<Json<Suggestions>, AppError> {
    let text: String = q.q.unwrap_or_default().chars().take(100).collect();
    let result = service::search(&ctx.kernel, &ctx.index, &text, None, 8).await?;
    let suggestions = result
        .found
        .into_iter()
        .map(|f| Suggestion { url: service_url(&f.service.id, None), name: f.service.name })
        .collect();
    Ok(Json(Suggestions { suggestions }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CatalogueQuery {
    /// Only this tenant's entries (its short name); all tenants without it.
    pub tenant: Option<String>,
}

/// The service catalogue with every detail, in the exchange format of
/// `docs/CATALOGUE-FORMAT.md`; what `kreishaus import services` and the editor's import read.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "portal", params(CatalogueQuery),
    responses((status = 200, body = CatalogueFile), (status = 404, description = "Unknown tenant", body = web::ErrorEnvelope)))]
pub async fn catalogue(
    State(ctx): State<PortalCtx>,
    Query(q): Query<CatalogueQuery>,
) -> Result<Json<CatalogueFile>, AppError> {
    let only = match q.tenant {
        Some(slug) => Some(identity::service::tenant_by_slug(&ctx.kernel, &slug).await?),
        None => None,
    };
    Ok(Json(service::export_catalogue(&ctx.kernel, only.as_ref()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct XzufiQuery {
    /// The providing tenant's short name; needed for a municipal service.
    pub tenant: Option<String>,
}

/// A service as an XZuFi 2.2 `leistung` object (namespace `http://xoev.de/schemata/xzufi/2_2_0`).
/// The document names, in a comment, what it does not map.
#[utoipa::path(get, path = "/api/v1/services/{id}/xzufi", tag = "portal", params(("id" = String, Path, description = "The catalogue id"), XzufiQuery),
    responses((status = 200, content_type = "application/xml", body = String),
              (status = 404, description = "Unknown service or tenant", body = web::ErrorEnvelope),
              (status = 422, description = "A municipal service needs the tenant", body = web::ErrorEnvelope)))]
pub async fn xzufi(
    State(ctx): State<PortalCtx>,
    Path(id): Path<String>,
    Query(q): Query<XzufiQuery>,
) -> Result<Response, AppError> {
    let xml = service::xzufi_export(&ctx.kernel, &id, q.tenant.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// What the citizen is looking for, in their words.
    pub q: Option<String>,
    /// The citizen's municipality: its short name, its name or a postcode.
    pub municipality: Option<String>,
    /// At most this many hits (1–100, default 10).
    pub limit: Option<usize>,
}

/// One hit of the search over everything, with what kind it is.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchItem {
    pub kind: service::Kind,
    pub title: String,
    pub summary: String,
    /// For services the responsible tenant's short name (null while it depends on the
    /// municipality); for content the name of the tenant that published it.
    pub tenant: Option<String>,
    pub url: String,
    /// When an event takes place or a news item was published (German notation); empty else.
    pub date: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchList {
    pub items: Vec<SearchItem>,
}

/// The search over services, news, events and pages of every tenant.
#[utoipa::path(get, path = "/api/v1/search", tag = "portal", params(SearchQuery),
    responses((status = 200, body = SearchList)))]
pub async fn search(State(ctx): State<PortalCtx>, Query(q): Query<SearchQuery>) -> Result<Json<SearchList>, AppError> {
    let text = q.q.unwrap_or_default();
    let (result, hits) =
        service::search_everything(&ctx.kernel, &ctx.index, &text, q.municipality.as_deref(), q.limit.unwrap_or(10))
            .await?;
    let place = match &result.residence {
        Residence::In(t) => Some(t.slug.as_str()),
        _ => None,
    };
    let items = hits
        .into_iter()
        .map(|h| match h {
            service::AnyHit::Service(f) => SearchItem {
                kind: service::Kind::Service,
                url: service_url(&f.service.id, place),
                title: f.service.name,
                summary: f.service.summary,
                tenant: f.responsible.map(|t| t.slug),
                date: String::new(),
            },
            service::AnyHit::Content(c) => SearchItem {
                kind: c.kind,
                title: c.title,
                summary: c.summary,
                tenant: Some(c.tenant_slug),
                url: c.url,
                date: c.date,
            },
        })
        .collect();
    Ok(Json(SearchList { items }))
}
