//! The data store's routes: the data API, the public previews (table, charts, map, drill-down)
//! and the staff pages (upload, import progress, columns and publication).

pub mod api;

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use kernel::Kernel;

/// What the data store's handlers need.
#[derive(Clone)]
pub struct DatastoreCtx {
    pub kernel: Kernel,
    /// Where uploaded and downloaded files wait for their import.
    pub staging_dir: PathBuf,
}

pub fn routes(ctx: DatastoreCtx) -> Router {
    Router::new().route("/api/v1/data", get(api::list)).route("/api/v1/data/{resource}", get(api::data)).with_state(ctx)
}
