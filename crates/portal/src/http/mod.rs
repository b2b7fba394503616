//! The portal's routes: the search page, the service page and the services API.

pub mod api;
pub mod content;
pub mod content_api;
pub mod content_editor;
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
    /// The portal's public address (`https://…`), for feeds and links in mails.
    pub public_url: String,
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
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/news", get(content_api::news))
        .route("/api/v1/events", get(content_api::events))
        .route("/aktuelles", get(content::news_list))
        .route("/aktuelles.atom", get(content::news_feed))
        .route("/aktuelles/{id}", get(content::news))
        .route("/veranstaltungen", get(content::events))
        .route("/veranstaltungen.ics", get(content::events_feed))
        .route("/veranstaltungen/{id}", get(content::event))
        .route("/veranstaltungen/{id}/anmeldung", post(content::register))
        .route("/veranstaltungen/abmelden/{token}", get(content::cancel_form).post(content::cancel))
        .route("/seiten/{slug}", get(content::content_page))
        .route("/verwaltung/inhalte", get(content_editor::tenants))
        .route("/verwaltung/inhalte/{tenant}", get(content_editor::overview))
        .route("/verwaltung/inhalte/{tenant}/teilnehmende/{file}", get(content_editor::participants))
        .route("/verwaltung/inhalte/{tenant}/{kind}/{id}", get(content_editor::edit).post(content_editor::save))
        .route("/verwaltung/inhalte/{tenant}/{kind}/{id}/veroeffentlichen", post(content_editor::publish))
        .with_state(ctx)
}

/// The address of a content page: the county's at `/seiten/{slug}`, another tenant's with
/// `?mandant=`.
pub fn page_url(slug: &str, tenant: Option<&identity::model::Tenant>) -> String {
    match tenant.filter(|t| t.kind != identity::model::TenantKind::County) {
        Some(t) => format!("/seiten/{slug}?mandant={}", web::url_encode(&t.slug)),
        None => format!("/seiten/{slug}"),
    }
}

/// The address of a service page for a citizen of `municipality`.
pub fn service_url(slug: &str, municipality: Option<&str>) -> String {
    match municipality {
        Some(m) => format!("/leistungen/{slug}?gemeinde={}", web::url_encode(m)),
        None => format!("/leistungen/{slug}"),
    }
}
