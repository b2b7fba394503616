//! The Redaktion's synonym list: edit it, try a search with the changed list, save it.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use identity::Authorized;
use identity::http::StaffUser;
use kernel::{AppError, Timestamp};
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::PortalCtx;
use crate::catalogue::Service;
use crate::search::Synonyms;
use crate::service::{self, EditSynonyms};

const PATH: &str = "/verwaltung/suche/synonyme";

#[derive(Template)]
#[template(path = "portal/synonyms.html")]
struct SynonymsPage {
    chrome: Chrome,
    rules: String,
    saved_at: Option<Timestamp>,
    test_query: String,
    /// The test search's results, once the editor tried one.
    tried: Option<Vec<Service>>,
    errors: FormErrors,
}

impl SynonymsPage {
    fn saved_text(&self) -> String {
        self.saved_at.map(|t| t.display_german()).unwrap_or_default()
    }
}

async fn authorized(ctx: &PortalCtx, staff: &identity::Staff) -> Result<Authorized<EditSynonyms>, AppError> {
    let county = service::county(&ctx.kernel).await?;
    staff.authorize::<EditSynonyms>(county.id)
}

/// `GET /verwaltung/suche/synonyme`
pub async fn show(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    let proof = authorized(&ctx, &staff).await?;
    let (rules, saved_at) = service::synonym_list(&ctx.kernel, &proof).await?;
    let page_data =
        SynonymsPage { chrome, rules, saved_at, test_query: String::new(), tried: None, errors: FormErrors::none() };
    Ok(page(&page_data))
}

/// `POST /verwaltung/suche/synonyme`: `aktion=testen` searches with the list as typed without
/// saving it; `aktion=speichern` saves it.
pub async fn save(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let proof = authorized(&ctx, &staff).await?;
    let (_, saved_at) = service::synonym_list(&ctx.kernel, &proof).await?;
    let rules = f.iter().find(|(k, _)| k == "rules").map(|(_, v)| v.replace("\r\n", "\n")).unwrap_or_default();
    let test_query = field(&f, "test").chars().take(200).collect::<String>();
    let mut data = SynonymsPage { chrome, rules, saved_at, test_query, tried: None, errors: FormErrors::none() };
    let parsed = match Synonyms::parse(&data.rules) {
        Ok(parsed) => parsed,
        Err(e) => {
            let message =
                format!("{} ({} {})", data.chrome.error_message(e.code), data.chrome.t("portal.line"), e.line);
            data.errors = FormErrors::messages(vec![("rules".into(), message)]);
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &data));
        }
    };
    if field(&f, "aktion") == "testen" {
        let query = data.test_query.clone();
        data.tried = Some(service::search_with_synonyms(&ctx.kernel, &ctx.index, &proof, parsed, &query).await?);
        return Ok(page(&data));
    }
    service::save_synonyms(&ctx.kernel, &ctx.index, &proof, &data.rules).await?;
    Ok(redirect_with_flash(PATH, FlashKind::Success, "portal.synonyms_saved", None))
}
