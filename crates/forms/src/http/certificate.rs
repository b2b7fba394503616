//! Certificates issued with an application (the §43 IfSG instruction): the PDF for the applicant
//! and the public verification page its QR code opens.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kernel::AppError;
use web::{Chrome, html, page};

use super::FormsCtx;
use super::apply::{ReceiptQuery, pdf_response};
use crate::service::{self, CertificateFacts};

#[derive(Template)]
#[template(path = "forms/certificate.html")]
struct VerificationPage {
    chrome: Chrome,
    code: String,
    found: Option<CertificateFacts>,
}

impl VerificationPage {
    fn issued(&self, f: &CertificateFacts) -> String {
        f.issued_at.display_german()
    }
}

/// `GET /antrag/eingang/{tracking}/bescheinigung.pdf?t=…`
pub async fn pdf(
    State(ctx): State<FormsCtx>,
    Path(tracking): Path<String>,
    Query(q): Query<ReceiptQuery>,
) -> Result<Response, AppError> {
    let pdf = service::certificate_pdf(&ctx.kernel, &tracking, &q.t, &ctx.public_url).await?;
    pdf_response(pdf, "Bescheinigung", &tracking)
}

/// `GET /bescheinigung/{code}`: whether a certificate with this code was issued, and what it says.
pub async fn verify(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let code: String = code.chars().take(20).collect();
    match service::verify_certificate(&ctx.kernel, &code).await {
        Ok(facts) => Ok(page(&VerificationPage { chrome, code, found: Some(facts) })),
        Err(AppError::NotFound) => Ok(html(StatusCode::NOT_FOUND, &VerificationPage { chrome, code, found: None })),
        Err(e) => Err(e),
    }
}
