//! The business account's invoice page (`/buergerkonto/rechnungen`): a member acting for an
//! organisation uploads an XRechnung and sees what became of the organisation's invoices,
//! with the reasons of a rejection in plain German.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::http::citizen::CitizenUser;
use kernel::{AppError, OrganisationId};
use web::{Chrome, FlashKind, html, page, redirect_with_flash};

use super::InvoicingCtx;
use crate::model::{Channel, Status, StoredInvoice};
use crate::service::{self, Refusal, Submission};

#[derive(Template)]
#[template(path = "invoicing/portal.html")]
struct UploadPage {
    chrome: Chrome,
    organisation: Option<OrganisationId>,
    invoices: Vec<StoredInvoice>,
    reasons: Vec<String>,
}

impl UploadPage {
    /// Why validation rejected a sent invoice, in German (nothing for the others).
    fn rejection_reasons(&self, i: &StoredInvoice) -> Vec<String> {
        if i.status != Status::Rejected {
            return Vec::new();
        }
        i.errors().into_iter().map(service::finding_german).collect()
    }
}

const HERE: &str = "/buergerkonto/rechnungen";

async fn upload_page(
    ctx: &InvoicingCtx,
    chrome: Chrome,
    organisation: Option<OrganisationId>,
    reasons: Vec<String>,
) -> Result<UploadPage, AppError> {
    let invoices = match organisation {
        Some(org) => service::sent_by(&ctx.kernel, &format!("organisation:{org}")).await?,
        None => Vec::new(),
    };
    Ok(UploadPage { chrome, organisation, invoices, reasons })
}

/// `GET /buergerkonto/rechnungen`
pub async fn show(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    CitizenUser(c): CitizenUser,
) -> Result<Response, AppError> {
    Ok(page(&upload_page(&ctx, chrome, c.session.acting_for, Vec::new()).await?))
}

/// `POST /buergerkonto/rechnungen` (multipart, the file in `datei`).
pub async fn upload(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    CitizenUser(c): CitizenUser,
    form: Multipart,
) -> Result<Response, AppError> {
    let org = super::api::sender_of(&ctx, &c, None).await?;
    let bytes = web::form::uploaded_file(form, "datei").await?.unwrap_or_default();
    let actor = kernel::audit::Actor { on_behalf_of: Some(format!("organisation:{org}")), ..c.actor() };
    let submission = Submission { bytes, channel: Channel::Portal, sender: format!("organisation:{org}"), actor };
    let reasons = match service::intake(&ctx.kernel, submission).await {
        Ok(i) if i.invoice.status != Status::Rejected => {
            let key = if i.invoice.status == Status::Duplicate {
                "invoicing.uploaded_duplicate"
            } else {
                "invoicing.uploaded"
            };
            return Ok(redirect_with_flash(HERE, FlashKind::Success, key, Some(i.invoice.invoice_number)));
        }
        Ok(i) => i.invoice.errors().into_iter().map(service::finding_german).collect(),
        Err(Refusal::Internal(e)) => return Err(e),
        Err(r) => vec![r.reason()],
    };
    let p = upload_page(&ctx, chrome, Some(org), reasons).await?;
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
}
