//! The forms' routes: the citizen's journey and status page, the Redaktion's form editor, and
//! the clerks' inbox.

pub mod api;
pub mod apply;
pub mod certificate;
pub mod editor;
pub mod inbox;
pub mod mine;
pub mod status;

use axum::routing::{get, post};
use axum::{Extension, Router};
use kernel::Kernel;

use crate::intake::Intake;

/// What the forms' handlers need.
#[derive(Clone)]
pub struct FormsCtx {
    pub kernel: Kernel,
    /// The public URL (`web.public_url`), for the links in certificates' QR codes.
    pub public_url: String,
}

/// The forms' routes. Submissions go through one [`Intake`] (group commit) per router.
pub fn routes(ctx: FormsCtx) -> Router {
    let intake = Intake::new(ctx.kernel.clone());
    Router::new()
        .route("/antrag/status", get(status::show).post(status::lookup))
        .route("/antrag/eingang/{tracking}/quittung.pdf", get(apply::receipt_pdf))
        .route("/antrag/eingang/{tracking}/bescheinigung.pdf", get(certificate::pdf))
        .route("/bescheinigung/{code}", get(certificate::verify))
        .route("/buergerkonto/antraege", get(mine::list))
        .route("/buergerkonto/antraege/verwerfen", post(mine::discard))
        .route("/api/v1/forms", get(api::list))
        .route("/api/v1/forms/{id}", get(api::show))
        .route("/api/v1/forms/{id}/submissions", post(api::submit))
        .route("/api/v1/submissions/{tracking_id}/status", get(api::status))
        .route("/antrag/{tenant}/{form}", get(apply::start).post(apply::post))
        .route("/verwaltung/mandanten/{slug}/formulare", get(editor::list).post(editor::create))
        .route("/verwaltung/mandanten/{slug}/formulare/{form}", get(editor::edit).post(editor::save))
        .route("/verwaltung/mandanten/{slug}/fim-import", post(editor::import_fim))
        .route("/verwaltung/mandanten/{slug}/eingang", get(inbox::list))
        .route("/verwaltung/mandanten/{slug}/eingang/{tracking}", get(inbox::show).post(inbox::change))
        .route("/verwaltung/mandanten/{slug}/eingang/{tracking}/dateien/{hash}", get(inbox::file))
        .route("/verwaltung/mandanten/{slug}/eingang/{tracking}/zustellung", post(inbox::retry_delivery))
        .route("/verwaltung/mandanten/{slug}/eingang/{tracking}/{file}", get(inbox::download))
        .layer(Extension(intake))
        .with_state(ctx)
}
