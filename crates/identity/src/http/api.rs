//! Identity's JSON API: who am I, and the public directory of tenants and their offices.

use axum::Json;
use axum::extract::{Path, State};
use kernel::AppError;
use serde::Serialize;

use super::{IdentityCtx, StaffUser};
use crate::model::{OrgUnit, RoleGrant, StaffMember, Tenant};
use crate::service;

/// The logged-in member of staff.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub staff: StaffMember,
    pub roles: Vec<RoleGrant>,
}

/// A list of items.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "identity",
    responses((status = 200, body = Me), (status = 401, body = web::ErrorEnvelope)))]
pub async fn me(StaffUser(staff): StaffUser) -> Json<Me> {
    Json(Me { staff: staff.member.clone(), roles: staff.roles.clone() })
}

#[utoipa::path(get, path = "/api/v1/tenants", tag = "identity",
    responses((status = 200, description = "The active tenants: county, municipalities, job centre, companies", body = Page<Tenant>)))]
pub async fn tenants(State(ctx): State<IdentityCtx>) -> Result<Json<Page<Tenant>>, AppError> {
    Ok(Json(Page { items: service::public_tenants(&ctx.kernel).await? }))
}

#[utoipa::path(get, path = "/api/v1/tenants/{slug}/org-units", tag = "identity",
    params(("slug" = String, Path, description = "The tenant's short name")),
    responses((status = 200, description = "The tenant's offices with addresses and opening hours", body = Page<OrgUnit>), (status = 404, body = web::ErrorEnvelope)))]
pub async fn org_units(
    State(ctx): State<IdentityCtx>,
    Path(slug): Path<String>,
) -> Result<Json<Page<OrgUnit>>, AppError> {
    let tenant = service::tenant_by_slug(&ctx.kernel, &slug).await?;
    if !tenant.active {
        return Err(AppError::NotFound);
    }
    Ok(Json(Page { items: service::org_units(&ctx.kernel, tenant.id).await? }))
}

/// Identity's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(me, tenants, org_units), components(schemas(Me, Page<Tenant>, Page<OrgUnit>, web::ErrorEnvelope)))]
pub struct IdentityApi;
