//! The public status page: the tracking id and the postcode given in the application show how
//! far it is. An unknown id and a wrong postcode get the same answer; repeated failures from one
//! address or for one id are refused for a while.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use identity::http::citizen::ClientInfo;
use kernel::AppError;
use web::form::{FormFields, field};
use web::{Chrome, FormErrors, html, page};

use super::FormsCtx;
use crate::model::Status;
use crate::service;

/// A line of the history: when, which status, the note.
type HistoryLine = (String, Status, String);

#[derive(Template)]
#[template(path = "forms/status.html")]
struct StatusPage {
    chrome: Chrome,
    tracking_id: String,
    errors: FormErrors,
    /// The form's title, the status and its history (time, status, note).
    found: Option<(String, Status, Vec<HistoryLine>)>,
}

/// `GET /antrag/status`
pub async fn show(chrome: Chrome) -> Response {
    page(&StatusPage { chrome, tracking_id: String::new(), errors: FormErrors::none(), found: None })
}

/// `POST /antrag/status`
pub async fn lookup(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    client: ClientInfo,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let tracking_id: String = field(&f, "vorgang").chars().take(40).collect();
    match service::status_lookup(&ctx.kernel, &tracking_id, field(&f, "plz"), &client.ip).await {
        Ok((submission, events)) => {
            let history = events.into_iter().map(|e| (e.at.display_german(), e.status, e.note)).collect();
            let title = service::submission_form_title(&ctx.kernel, &submission, chrome.lang_code()).await?;
            let found = Some((title, submission.status, history));
            Ok(page(&StatusPage { chrome, tracking_id, errors: FormErrors::none(), found }))
        }
        Err(AppError::TooManyRequests { code, .. }) => {
            let errors = FormErrors::general(&chrome, code);
            let p = StatusPage { chrome, tracking_id, errors, found: None };
            Ok(html(StatusCode::TOO_MANY_REQUESTS, &p))
        }
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &StatusPage { chrome, tracking_id, errors, found: None }))
        }
        Err(e) => Err(e),
    }
}
