//! The data store's routes: the data API, the public previews (table, charts, map, drill-down)
//! and the staff pages (upload, import progress, columns and publication).

pub mod api;
pub mod pages;

use std::path::PathBuf;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use kernel::Kernel;

/// The largest CSV upload (4 GiB): it is streamed to disk, never held in memory.
pub const UPLOAD_LIMIT: usize = 4 << 30;

/// What the data store's handlers need.
#[derive(Clone)]
pub struct DatastoreCtx {
    pub kernel: Kernel,
    /// Where uploaded and downloaded files wait for their import.
    pub staging_dir: PathBuf,
    /// Background tiles of the interactive maps: URL template and attribution (`[web]`
    /// `map_tiles`, `map_attribution`); empty: points without a background.
    pub map_tiles: (String, String),
}

pub fn routes(ctx: DatastoreCtx) -> Router {
    Router::new()
        .route("/api/v1/data", get(api::list))
        .route("/api/v1/data/{resource}", get(api::data))
        .route("/datentabellen", get(pages::public_list))
        .route("/datentabellen/{id}", get(pages::public_table))
        .route("/datentabellen/{id}/diagramm.svg", get(pages::chart_svg))
        .route("/datentabellen/{id}/aufschluesselung", get(pages::drilldown))
        .route(
            "/verwaltung/mandanten/{slug}/datentabellen",
            get(pages::staff_list).post(pages::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/verwaltung/mandanten/{slug}/datentabellen/{id}", get(pages::staff_resource).post(pages::staff_save))
        .with_state(ctx)
}
