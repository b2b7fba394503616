//! The page for invoice senders (`/e-rechnung`, public): which formats are accepted, the ways
//! to send an invoice, every Leitweg-ID with the unit it reaches, and a check of a Leitweg-ID
//! before sending. Viersen's strategy names it: "für die E-Rechnung gezielt zu werben (z.B.
//! Angabe der Leitweg-ID auf Kopfbögen sowie gezielte Information der Rechnungssteller)".

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use kernel::AppError;
use serde::Deserialize;
use web::{Chrome, FormErrors, page};

use super::InvoicingCtx;
use crate::service::{self, MAX_MESSAGE_BYTES};
use crate::store::PublishedRoute;

#[derive(Template)]
#[template(path = "invoicing/senders.html")]
struct SendersPage {
    chrome: Chrome,
    routes: Vec<PublishedRoute>,
    mailbox_address: String,
    /// The Leitweg-ID to check, as typed.
    given: String,
    /// The unit it reaches, when it was checked and is ours.
    found: Option<PublishedRoute>,
    errors: FormErrors,
}

impl SendersPage {
    fn max_mail_mb(&self) -> u64 {
        MAX_MESSAGE_BYTES / 1_000_000
    }
}

#[derive(Deserialize)]
pub struct Check {
    leitweg_id: Option<String>,
}

/// `GET /e-rechnung[?leitweg_id=…]`
pub async fn show(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    Query(q): Query<Check>,
) -> Result<Response, AppError> {
    let given = q.leitweg_id.unwrap_or_default();
    let routes = service::published_routes(&ctx.kernel).await?;
    let (found, errors) = match given.trim() {
        "" => (None, FormErrors::none()),
        typed => match service::check_leitweg_id(typed, &routes) {
            Ok(route) => (Some(route.clone()), FormErrors::none()),
            Err(reason) => (None, FormErrors::messages(vec![("leitweg_id".into(), reason)])),
        },
    };
    let mailbox_address = ctx.mailbox_address.clone();
    Ok(page(&SendersPage { chrome, routes, mailbox_address, given, found, errors }))
}
