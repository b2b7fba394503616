//! The invoices' routes: the page for invoice senders, the intake API for organisation
//! accounts, the staff's invoice inbox
//! with the rendering and the workflow, the booking export and the Leitweg-ID table.

pub mod api;
pub mod pages;
pub mod portal;
pub mod senders;

use axum::Router;
use axum::routing::{get, post};
use kernel::Kernel;

/// What the invoices' handlers need.
#[derive(Clone)]
pub struct InvoicingCtx {
    pub kernel: Kernel,
    /// The invoice mailbox's address for senders (`[invoicing] mailbox_address`), or empty.
    pub mailbox_address: String,
}

pub fn routes(ctx: InvoicingCtx) -> Router {
    Router::new()
        .route("/e-rechnung", get(senders::show))
        .route("/api/v1/invoices", get(api::list).post(api::submit))
        .route("/api/v1/invoices/{id}", get(api::show))
        .route("/buergerkonto/rechnungen", get(portal::show).post(portal::upload))
        .route("/verwaltung/mandanten/{slug}/rechnungen", get(pages::inbox))
        .route("/verwaltung/mandanten/{slug}/rechnungen/erfassen", get(pages::capture_form).post(pages::capture))
        .route("/verwaltung/mandanten/{slug}/rechnungen/{id}", get(pages::show).post(pages::act))
        .route("/verwaltung/mandanten/{slug}/rechnungen/{id}/original", get(pages::original))
        .route("/verwaltung/mandanten/{slug}/rechnungen/{id}/pdf", get(pages::pdf))
        .route("/verwaltung/mandanten/{slug}/rechnungen/{id}/anlagen/{n}", get(pages::attachment))
        .route("/verwaltung/mandanten/{slug}/buchungsexport", get(pages::exports).post(pages::export))
        .route("/verwaltung/mandanten/{slug}/buchungsexport/zahlungen", post(pages::import_payments))
        .route("/verwaltung/mandanten/{slug}/buchungsexport/{id}", get(pages::export_file))
        .route("/verwaltung/mandanten/{slug}/leitweg-ids", get(pages::leitweg_ids).post(pages::change_leitweg_ids))
        .with_state(ctx)
}
