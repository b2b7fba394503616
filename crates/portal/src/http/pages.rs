//! The citizen pages: the start page, search, life situations and the service page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use identity::citizen::model::Citizen;
use identity::http::citizen::MaybeCitizen;
use identity::model::{OrgUnit, Tenant};
use kernel::AppError;
use serde::Deserialize;
use web::{Chrome, page};

use super::{PortalCtx, service_url};
use crate::catalogue::{SituationKind, slugify};
use crate::details::Details;
use crate::service::{self, Found, Residence, Situation};

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    gemeinde: Option<String>,
}

/// The cookie that remembers the citizen's municipality (its short name) for a year.
const PLACE_COOKIE: &str = "kh_gemeinde";
const PLACE_COOKIE_MAX_AGE: i64 = 365 * 24 * 3600;

/// The municipality asked about: given in the address, else remembered from an earlier visit,
/// else the one in the logged-in citizen's profile.
async fn given_place(
    ctx: &PortalCtx,
    headers: &HeaderMap,
    param: Option<String>,
    citizen: Option<&Citizen>,
) -> Result<(String, bool), AppError> {
    if let Some(p) = param {
        return Ok((p, true));
    }
    if let Some(remembered) = ctx.cookies.get(headers, PLACE_COOKIE).filter(|c| !c.is_empty()) {
        return Ok((remembered.to_owned(), false));
    }
    let Some(citizen) = citizen else { return Ok((String::new(), false)) };
    let profile = identity::citizen::service::profile(&ctx.kernel, citizen).await?;
    let home = identity::citizen::service::jurisdiction(&ctx.kernel, &profile).await?;
    Ok((home.map(|t| t.slug).unwrap_or_default(), false))
}

/// Renders the page and remembers a municipality the citizen chose just now (not one only
/// remembered, not an unknown one).
fn page_remembering(ctx: &PortalCtx, template: &impl Template, place: Option<String>) -> Response {
    let mut res = page(template);
    if let Some(slug) = place {
        res.headers_mut().append(header::SET_COOKIE, ctx.cookies.set(PLACE_COOKIE, &slug, Some(PLACE_COOKIE_MAX_AGE)));
    }
    res
}

impl Place {
    /// The municipality to remember, if the citizen chose a known one just now.
    fn chosen(&self, chosen_now: bool) -> Option<String> {
        self.known().filter(|_| chosen_now).map(|t| t.slug.clone())
    }
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
    /// News, events and pages that answer the query too.
    content: Vec<service::ContentItem>,
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
    headers: HeaderMap,
    MaybeCitizen(citizen): MaybeCitizen,
    Query(p): Query<SearchParams>,
) -> Result<Response, AppError> {
    let query = p.q.unwrap_or_default().chars().take(200).collect::<String>();
    let (given, chosen_now) = given_place(&ctx, &headers, p.gemeinde, citizen.as_deref()).await?;
    let result = service::search(&ctx.kernel, &ctx.index, &query, Some(&given), 20).await?;
    let place = Place { residence: result.residence, municipalities: result.municipalities, given };
    let remember = place.chosen(chosen_now);
    let content = if query.trim().is_empty() {
        Vec::new()
    } else {
        service::search_content(&ctx.kernel, &ctx.index, &query, 10).await?
    };
    Ok(page_remembering(&ctx, &SearchPage { chrome, query, place, found: result.found, content }, remember))
}

#[derive(Template)]
#[template(path = "portal/service.html")]
struct ServicePage {
    chrome: Chrome,
    found: Found,
    place: Place,
    details: Option<Details>,
    office: Option<OrgUnit>,
}

impl ServicePage {
    fn description_html(&self) -> String {
        self.details.as_ref().map(|d| crate::details::markdown_html(&d.description)).unwrap_or_default()
    }

    fn maturity(&self) -> Option<crate::details::Maturity> {
        self.details.as_ref().map(|d| crate::details::maturity(d.offered()))
    }

    fn switch_url(&self, m: &Tenant) -> String {
        service_url(&self.found.service.id, Some(&m.slug))
    }

    fn situation_url(&self, name: &str) -> String {
        situation_url(SituationKind::Life, name)
    }

    fn business_situation_url(&self, name: &str) -> String {
        situation_url(SituationKind::Business, name)
    }
}

/// The address of a situation's page.
fn situation_url(kind: SituationKind, name: &str) -> String {
    match kind {
        SituationKind::Life => format!("/lebenslagen/{}", slugify(name)),
        SituationKind::Business => format!("/unternehmenslagen/{}", slugify(name)),
    }
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    chrome: Chrome,
    life: Vec<Situation>,
    business: Vec<Situation>,
    news: Vec<(i64, String, String)>,
    events: Vec<(i64, String, String)>,
}

impl HomePage {
    fn url(&self, s: &Situation) -> String {
        situation_url(SituationKind::Life, &s.name)
    }

    fn business_url(&self, s: &Situation) -> String {
        situation_url(SituationKind::Business, &s.name)
    }
}

/// `GET /`: the start page: the search and the life situations.
pub async fn home(State(ctx): State<PortalCtx>, chrome: Chrome) -> Result<Response, AppError> {
    let life = service::situations(&ctx.kernel, &ctx.index, SituationKind::Life).await?;
    let business = service::situations(&ctx.kernel, &ctx.index, SituationKind::Business).await?;
    let (news, events) = home_content(&ctx).await?;
    Ok(page(&HomePage { chrome, life, business, news, events }))
}

/// How many news items and events the start page shows.
const HOME_ITEMS: i64 = 3;

/// The latest news and the next events as (id, title, date) for the start page.
async fn home_content(ctx: &PortalCtx) -> Result<(Vec<(i64, String, String)>, Vec<(i64, String, String)>), AppError> {
    use crate::content::model::{event_when, german_day};
    use crate::content::{model::EventFilter, service as content};
    let news = content::news_list(&ctx.kernel, None, HOME_ITEMS, 0).await?;
    let filter = EventFilter { tenant: None, category: None, from: ctx.kernel.clock.now(), until: None, after: None };
    let events = content::events(&ctx.kernel, &filter, HOME_ITEMS).await?;
    Ok((
        news.into_iter().map(|n| (n.id, n.title, n.published_at.map(german_day).unwrap_or_default())).collect(),
        events.into_iter().map(|(e, _)| (e.id, e.title, event_when(e.starts_at, e.ends_at))).collect(),
    ))
}

#[derive(Template)]
#[template(path = "portal/situation.html")]
struct SituationPage {
    chrome: Chrome,
    kind: SituationKind,
    situation: Situation,
    place: Place,
    found: Vec<Found>,
}

impl SituationPage {
    fn url(&self, f: &Found) -> String {
        service_url(&f.service.id, self.place.known().map(|t| t.slug.as_str()))
    }

    fn switch_url(&self, m: &Tenant) -> String {
        format!("{}?gemeinde={}", situation_url(self.kind, &self.situation.name), web::url_encode(&m.slug))
    }

    fn heading_key(&self) -> &'static str {
        match self.kind {
            SituationKind::Life => "portal.life_situation",
            SituationKind::Business => "portal.business_situation",
        }
    }
}

/// Who asks for a page: the request headers (the remembered municipality) and a logged-in citizen.
struct Asker {
    headers: HeaderMap,
    citizen: Option<std::sync::Arc<Citizen>>,
}

async fn situation_page(
    ctx: PortalCtx,
    chrome: Chrome,
    asker: Asker,
    kind: SituationKind,
    slug: &str,
    gemeinde: Option<String>,
) -> Result<Response, AppError> {
    let (given, chosen_now) = given_place(&ctx, &asker.headers, gemeinde, asker.citizen.as_deref()).await?;
    let (situation, result) = service::situation(&ctx.kernel, &ctx.index, kind, slug, Some(&given)).await?;
    let place = Place { residence: result.residence, municipalities: result.municipalities, given };
    let remember = place.chosen(chosen_now);
    Ok(page_remembering(&ctx, &SituationPage { chrome, kind, situation, place, found: result.found }, remember))
}

/// `GET /lebenslagen/{slug}?gemeinde=…`: the services of a life situation.
pub async fn life_situation(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    headers: HeaderMap,
    MaybeCitizen(citizen): MaybeCitizen,
    Path(slug): Path<String>,
    Query(p): Query<SearchParams>,
) -> Result<Response, AppError> {
    situation_page(ctx, chrome, Asker { headers, citizen }, SituationKind::Life, &slug, p.gemeinde).await
}

/// `GET /unternehmenslagen/{slug}?gemeinde=…`: the services of a business situation.
pub async fn business_situation(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    headers: HeaderMap,
    MaybeCitizen(citizen): MaybeCitizen,
    Path(slug): Path<String>,
    Query(p): Query<SearchParams>,
) -> Result<Response, AppError> {
    situation_page(ctx, chrome, Asker { headers, citizen }, SituationKind::Business, &slug, p.gemeinde).await
}

/// `GET /leistungen/{id}?gemeinde=…`: a service and who is responsible for the citizen.
pub async fn service(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    headers: HeaderMap,
    MaybeCitizen(citizen): MaybeCitizen,
    Path(slug): Path<String>,
    Query(p): Query<SearchParams>,
) -> Result<Response, AppError> {
    let (given, chosen_now) = given_place(&ctx, &headers, p.gemeinde, citizen.as_deref()).await?;
    let (found, result) = service::service(&ctx.kernel, &ctx.index, &slug, Some(&given)).await?;
    let place = Place { residence: result.residence, municipalities: result.municipalities, given };
    let remember = place.chosen(chosen_now);
    let (details, office) =
        service::details_for(&ctx.kernel, &found).await?.map_or((None, None), |(d, o)| (Some(d), o));
    Ok(page_remembering(&ctx, &ServicePage { chrome, found, place, details, office }, remember))
}
