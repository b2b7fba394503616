//! `GET /api/v1/services`: the search as JSON, in the same ranking as the page.

use axum::Json;
use axum::extract::{Query, State};
use kernel::AppError;
use serde::{Deserialize, Serialize};

use super::{PortalCtx, service_url};
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
#[openapi(paths(services), components(schemas(ServiceList, ServiceItem)))]
pub struct PortalApi;
