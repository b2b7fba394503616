//! "Meine Anträge": a logged-in citizen's unfinished applications (to resume or discard) and the
//! sent ones with their status history and receipt.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{Redirect, Response};
use identity::http::citizen::CitizenUser;
use kernel::AppError;
use web::form::{FormFields, field};
use web::{Chrome, page};

use super::FormsCtx;
use crate::service::{self, MyApplications};

#[derive(Template)]
#[template(path = "forms/mine.html")]
struct MinePage {
    chrome: Chrome,
    mine: MyApplications,
}

impl MinePage {
    fn when(&self, t: &kernel::Timestamp) -> String {
        t.display_german()
    }
}

/// `GET /buergerkonto/antraege`
pub async fn list(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
) -> Result<Response, AppError> {
    let mine = service::my_applications(&ctx.kernel, citizen.id()).await?;
    Ok(page(&MinePage { chrome, mine }))
}

/// `POST /buergerkonto/antraege/verwerfen`: discards the draft of one form.
pub async fn discard(
    State(ctx): State<FormsCtx>,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, field(&f, "mandant")).await?;
    service::discard_application_draft(&ctx.kernel, citizen.id(), &tenant, field(&f, "formular")).await?;
    Ok(axum::response::IntoResponse::into_response(Redirect::to("/buergerkonto/antraege")))
}
