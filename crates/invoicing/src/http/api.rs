//! The intake API: an organisation account sends an XRechnung (`POST /api/v1/invoices`, body
//! the XML) and follows its invoices. Authentication as the rest of the API: the citizen
//! session (bearer token or cookie); the citizen must act for an organisation they belong to.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use identity::citizen::model::Citizen;
use identity::http::citizen::CitizenUser;
use kernel::{AppError, OrganisationId};
use serde::{Deserialize, Serialize};

use super::InvoicingCtx;
use crate::model::{Channel, Finding, Status, StoredInvoice};
use crate::service::{self, Refusal, Submission};

/// For whom the citizen sends: `?organisation=ID`, else the organisation the session acts for.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ForOrganisation {
    organisation: Option<i64>,
}

/// The organisation the request acts for, checked to be one of the citizen's.
pub async fn sender_of(ctx: &InvoicingCtx, citizen: &Citizen, asked: Option<i64>) -> Result<OrganisationId, AppError> {
    let org = asked
        .map(OrganisationId)
        .or(citizen.session.acting_for)
        .ok_or(AppError::invalid("invoicing.organisation_required", "organisation"))?;
    identity::citizen::service::organisation(&ctx.kernel, citizen, org).await?;
    Ok(org)
}

/// An invoice as its sender sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: i64,
    pub status: Status,
    /// `accept` or `reject` (KoSIT semantics).
    pub verdict: String,
    pub leitweg_id: String,
    pub invoice_number: String,
    pub sha256: String,
    /// The earlier invoice this one repeats (same seller, number, amount and date).
    pub duplicate_of: Option<i64>,
    /// True when these very bytes had been sent before.
    pub repeated: bool,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// Why the invoice was set aside (status `dismissed`): it will not be paid.
    pub reason: Option<String>,
    /// When it was paid (status `paid`), as the county's finance system reported: `2026-03-12`.
    pub paid_on: Option<String>,
    #[schema(value_type = String)]
    pub received_at: String,
}

fn receipt(i: &StoredInvoice, repeated: bool) -> Receipt {
    let of = |sev: &str| i.findings.iter().filter(|f| f.severity == sev).cloned().collect();
    Receipt {
        id: i.id,
        status: i.status,
        verdict: i.verdict.clone(),
        leitweg_id: i.leitweg_id.clone(),
        invoice_number: i.invoice_number.clone(),
        sha256: i.blob_sha256.clone(),
        duplicate_of: i.duplicate_of,
        repeated,
        errors: of("fatal"),
        warnings: of("warning"),
        reason: (i.status == Status::Dismissed).then(|| i.status_note.clone()),
        paid_on: i.paid_on.clone(),
        received_at: i.created_at.rfc3339(),
    }
}

/// A refused or rejected invoice: the standard error envelope plus every reason, each naming
/// its rule, so the sender can correct the invoice.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Rejection {
    pub error: RejectionBody,
    /// The stored invoice, when it was routed and validation rejected it.
    pub invoice: Option<Receipt>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RejectionBody {
    pub code: String,
    pub message: String,
    pub fields: Vec<web::shell::FieldProblem>,
    pub reasons: Vec<Reason>,
}

/// One reason, in German.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// The rule id (`BR-CO-10`, `BR-DE-15`) or the intake check (`invoicing.leitweg_unknown`).
    pub rule: String,
    pub message: String,
    pub location: Option<String>,
}

fn rejection(
    status: StatusCode,
    code: &str,
    message: String,
    reasons: Vec<Reason>,
    invoice: Option<Receipt>,
) -> Response {
    let body = RejectionBody { code: code.to_owned(), message, fields: Vec::new(), reasons };
    (status, Json(Rejection { error: body, invoice })).into_response()
}

#[utoipa::path(post, path = "/api/v1/invoices", tag = "invoices", security(("bearer" = [])),
    params(ForOrganisation),
    request_body(content = String, content_type = "application/xml", description = "An XRechnung (UBL or CII)"),
    responses(
        (status = 201, description = "Received (status `received`, or `duplicate` when flagged)", body = Receipt),
        (status = 200, description = "These bytes were received before", body = Receipt),
        (status = 401, body = web::ErrorEnvelope),
        (status = 413, body = Rejection),
        (status = 422, description = "Refused (unreadable, Leitweg-ID) or rejected by validation", body = Rejection)))]
pub async fn submit(
    State(ctx): State<InvoicingCtx>,
    CitizenUser(citizen): CitizenUser,
    Query(q): Query<ForOrganisation>,
    body: Bytes,
) -> Result<Response, AppError> {
    let org = sender_of(&ctx, &citizen, q.organisation).await?;
    let actor = kernel::audit::Actor { on_behalf_of: Some(format!("organisation:{org}")), ..citizen.actor() };
    let submission = Submission { bytes: body, channel: Channel::Api, sender: format!("organisation:{org}"), actor };
    Ok(intake_response(service::intake(&ctx.kernel, submission).await))
}

/// The API answer to an intake, shared by every channel that answers in JSON.
pub fn intake_response(outcome: Result<service::Intake, Refusal>) -> Response {
    match outcome {
        Ok(intake) if intake.invoice.status == Status::Rejected => {
            let reasons = intake
                .invoice
                .errors()
                .into_iter()
                .map(|f| Reason {
                    rule: f.rule.clone(),
                    message: f.message.clone(),
                    location: Some(f.location.clone()),
                })
                .collect();
            let message = format!(
                "Die Rechnung wurde geprüft und abgewiesen: {} Fehler. Bitte korrigieren Sie die genannten Regeln und senden Sie sie erneut.",
                intake.invoice.errors().len()
            );
            rejection(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invoicing.rejected",
                message,
                reasons,
                Some(receipt(&intake.invoice, intake.repeated)),
            )
        }
        Ok(intake) => {
            let status = if intake.repeated { StatusCode::OK } else { StatusCode::CREATED };
            (status, Json(receipt(&intake.invoice, intake.repeated))).into_response()
        }
        Err(Refusal::Internal(e)) => e.into_response(),
        Err(r) => {
            let status = if r.code() == "invoicing.too_large" {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let reason = Reason { rule: r.code().to_owned(), message: r.reason(), location: None };
            rejection(status, r.code(), r.reason(), vec![reason], None)
        }
    }
}

/// A list of items.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Receipts {
    pub items: Vec<Receipt>,
}

#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices", security(("bearer" = [])), params(ForOrganisation),
    responses((status = 200, description = "The organisation's invoices, newest first", body = Receipts), (status = 401, body = web::ErrorEnvelope)))]
pub async fn list(
    State(ctx): State<InvoicingCtx>,
    CitizenUser(citizen): CitizenUser,
    Query(q): Query<ForOrganisation>,
) -> Result<Json<Receipts>, AppError> {
    let org = sender_of(&ctx, &citizen, q.organisation).await?;
    let items = service::sent_by(&ctx.kernel, &format!("organisation:{org}")).await?;
    Ok(Json(Receipts { items: items.iter().map(|i| receipt(i, false)).collect() }))
}

#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The invoice id from the receipt"), ForOrganisation),
    responses((status = 200, body = Receipt), (status = 404, body = web::ErrorEnvelope)))]
pub async fn show(
    State(ctx): State<InvoicingCtx>,
    CitizenUser(citizen): CitizenUser,
    Path(id): Path<i64>,
    Query(q): Query<ForOrganisation>,
) -> Result<Json<Receipt>, AppError> {
    let org = sender_of(&ctx, &citizen, q.organisation).await?;
    let invoice = service::sent_invoice(&ctx.kernel, &format!("organisation:{org}"), id).await?;
    Ok(Json(receipt(&invoice, false)))
}

/// The invoices' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(submit, list, show),
    components(schemas(Receipt, Receipts, Rejection, RejectionBody, Reason, Finding, Status, web::ErrorEnvelope))
)]
pub struct InvoicingApi;
