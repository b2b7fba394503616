//! Open data routes: the public pages (`/daten`), the staff editor, CKAN's Action API
//! (`/api/3/action/…`) and the DCAT-AP.de catalogue (`/catalog.ttl|rdf|jsonld`).

pub mod api;
pub mod catalog;
pub mod editor;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use kernel::Kernel;

/// What the open data handlers need.
#[derive(Clone)]
pub struct OpendataCtx {
    pub kernel: Kernel,
    /// The public address of the portal (`web.public_url`), for links in CKAN and DCAT.
    pub public_url: String,
    /// The data store's query engine behind `datastore_search`, when one is wired in.
    pub datastore: Option<Arc<dyn api::DatastoreSearch>>,
    /// Datasets per page of the DCAT catalogue.
    pub catalog_page_size: usize,
    /// The published catalogue as last read (search and listings).
    pub cache: Arc<crate::service::PublishedCache>,
}

impl OpendataCtx {
    pub fn new(kernel: Kernel, public_url: &str) -> Self {
        OpendataCtx {
            kernel,
            public_url: public_url.trim_end_matches('/').to_owned(),
            datastore: None,
            catalog_page_size: 100,
            cache: Arc::default(),
        }
    }
}

pub fn routes(ctx: OpendataCtx) -> Router {
    Router::new()
        .route("/daten", get(pages::index))
        .route("/daten/{tenant}", get(pages::publisher))
        .route("/daten/{tenant}/{name}", get(pages::dataset))
        .route("/daten/{tenant}/{name}/dateien/{id}", get(pages::file))
        .route("/catalog.ttl", get(catalog::turtle))
        .route("/catalog.rdf", get(catalog::rdf_xml))
        .route("/catalog.jsonld", get(catalog::json_ld))
        .route("/api/3", get(api::version))
        .route("/api/3/action/{action}", get(api::action).post(api::action))
        // CKAN serves the same actions without the version; `ckanapi` calls this address.
        .route("/api/action/{action}", get(api::action).post(api::action))
        .route("/verwaltung/mandanten/{slug}/daten", get(editor::list).post(editor::create))
        .route("/verwaltung/mandanten/{slug}/daten/{name}", get(editor::edit).post(editor::save))
        .route("/verwaltung/mandanten/{slug}/daten/{name}/verteilungen", post(editor::add_distribution))
        .route("/verwaltung/mandanten/{slug}/datengruppen", post(editor::create_group))
        .with_state(ctx)
}
