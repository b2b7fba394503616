//! The citizen pages: search and service.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use identity::model::Tenant;
use kernel::AppError;
use serde::Deserialize;
use web::{Chrome, page};

use super::{PortalCtx, service_url};
use crate::service::{self, Found, Residence};

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    gemeinde: Option<String>,
}

/// What the pages show about the citizen's municipality.
struct Place {
    residence: Residence,
    municipalities: Vec<Tenant>,
    /// The value to carry in links and forms.
    given: String,
}

impl Place {
    fn known(&self) -> Option<&Tenant> {
        match &self.residence {
            Residence::In(t) => Some(t),
            _ => None,
        }
    }

    fn not_found(&self) -> Option<&str> {
        match &self.residence {
            Residence::NotFound(g) => Some(g),
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "portal/search.html")]
struct SearchPage {
    chrome: Chrome,
    query: String,
    place: Place,
    found: Vec<Found>,
}

impl SearchPage {
    fn url(&self, f: &Found) -> String {
        service_url(&f.service.id, self.place.known().map(|t| t.slug.as_str()))
    }

    fn switch_url(&self, m: &Tenant) -> String {
        format!("/leistungen?q={}&gemeinde={}", web::url_encode(&self.query), web::url_encode(&m.slug))
    }
}

/// `GET /leistungen?q=…&gemeinde=…`: works without JavaScript; an empty query shows the form.
pub async fn search(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    Query(p): Query<SearchParams>,
) -> Result<Response, AppError> {
    let query = p.q.unwrap_or_default().chars().take(200).collect::<String>();
    let given = p.gemeinde.unwrap_or_default();
    let result = service::search(&ctx.kernel, &ctx.index, &query, Some(&given), 20).await?;
    let place = Place { residence: result.residence, municipalities: result.municipalities, given };
    Ok(page(&SearchPage { chrome, query, place, found: result.found }))
}

#[derive(Template)]
#[template(path = "portal/service.html")]
struct ServicePage {
    chrome: Chrome,
    found: Found,
    place: Place,
}

impl ServicePage {
    fn switch_url(&self, m: &Tenant) -> String {
        service_url(&self.found.service.id, Some(&m.slug))
    }
}

/// `GET /leistungen/{id}?gemeinde=…`: a service and who is responsible for the citizen.
pub async fn service(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    Path(slug): Path<String>,
    Query(p): Query<SearchParams>,
) -> Result<Response, AppError> {
    let given = p.gemeinde.unwrap_or_default();
    let (found, result) = service::service(&ctx.kernel, &ctx.index, &slug, Some(&given)).await?;
    let place = Place { residence: result.residence, municipalities: result.municipalities, given };
    Ok(page(&ServicePage { chrome, found, place }))
}
