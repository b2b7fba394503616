//! The portal's routes: the search page, the service page and the services API.

pub mod api;
pub mod editor;
pub mod pages;
pub mod synonyms;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use kernel::Kernel;

use crate::service::SearchIndex;

/// What the portal's handlers need.
#[derive(Clone)]
pub struct PortalCtx {
    pub kernel: Kernel,
    pub index: Arc<SearchIndex>,
    pub cookies: web::cookies::CookiePolicy,
}

pub fn routes(ctx: PortalCtx) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/lebenslagen/{slug}", get(pages::life_situation))
        .route("/unternehmenslagen/{slug}", get(pages::business_situation))
        .route("/leistungen", get(pages::search))
        .route("/leistungen/{slug}", get(pages::service))
        .route("/api/v1/services", get(api::services))
        .route("/api/v1/services/suggest", get(api::suggest))
        .route("/api/v1/services/{id}/xzufi", get(api::xzufi))
        .route("/api/v1/catalogue", get(api::catalogue))
        .route("/verwaltung/leistungen", get(editor::tenants))
        .route("/verwaltung/mandanten/{slug}/leistungen", get(editor::list))
        .route("/verwaltung/mandanten/{slug}/leistungen/import", post(editor::import))
        .route("/verwaltung/mandanten/{slug}/leistungen/{id}", get(editor::edit).post(editor::save))
        .route("/verwaltung/suche/synonyme", get(synonyms::show).post(synonyms::save))
        .with_state(ctx)
}

/// The address of a service page for a citizen of `municipality`.
pub fn service_url(slug: &str, municipality: Option<&str>) -> String {
    match municipality {
        Some(m) => format!("/leistungen/{slug}?gemeinde={}", web::url_encode(m)),
        None => format!("/leistungen/{slug}"),
    }
}
