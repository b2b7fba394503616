//! The citizen pages of news, events and content pages, the feeds, and event registration.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::model::{Tenant, TenantKind};
use kernel::{AppError, TenantId, Timestamp};
use serde::Deserialize;
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::PortalCtx;
use crate::content::feeds::{self, CalendarEntry, FeedEntry};
use crate::content::model::{
    CATEGORIES, Event, News, Occupancy, Page, Signup, Status, category_message, category_name, event_when, german_day,
    is_category,
};
use crate::content::model::{EventFilter, day_start};
use crate::content::service;
use crate::details::markdown_html;

/// News items on one page of the list.
const NEWS_PER_PAGE: i64 = 10;

pub(super) async fn tenants(ctx: &PortalCtx) -> Result<Vec<Tenant>, AppError> {
    identity::service::public_tenants(&ctx.kernel).await
}

fn tenant_name(tenants: &[Tenant], id: TenantId) -> String {
    tenants.iter().find(|t| t.id == id).map(|t| t.name.clone()).unwrap_or_default()
}

/// The tenant named by `?mandant=`; an unknown one is a 404, none is every tenant.
pub(super) fn chosen_tenant(tenants: &[Tenant], slug: Option<&str>) -> Result<Option<Tenant>, AppError> {
    match slug.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => tenants.iter().find(|t| t.slug == s).cloned().map(Some).ok_or(AppError::NotFound),
    }
}

#[derive(Deserialize)]
pub struct NewsParams {
    mandant: Option<String>,
    seite: Option<i64>,
}

#[derive(Template)]
#[template(path = "content/news_list.html")]
struct NewsListPage {
    chrome: Chrome,
    items: Vec<(News, String)>,
    tenants: Vec<Tenant>,
    tenant: Option<Tenant>,
    page: i64,
    more: bool,
}

impl NewsListPage {
    fn day(&self, n: &News) -> String {
        n.published_at.map(german_day).unwrap_or_default()
    }

    fn is_chosen(&self, t: &Tenant) -> bool {
        self.tenant.as_ref().is_some_and(|c| c.id == t.id)
    }

    fn page_url(&self, page: i64) -> String {
        let tenant = self.tenant.as_ref().map(|t| format!("&mandant={}", t.slug)).unwrap_or_default();
        format!("/aktuelles?seite={page}{tenant}")
    }
}

/// `GET /aktuelles?mandant=…&seite=…`: the news of every tenant or one, newest first.
pub async fn news_list(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    Query(p): Query<NewsParams>,
) -> Result<Response, AppError> {
    let all = tenants(&ctx).await?;
    let tenant = chosen_tenant(&all, p.mandant.as_deref())?;
    let page_no = p.seite.unwrap_or(1).clamp(1, 10_000);
    let mut news = service::news_list(
        &ctx.kernel,
        tenant.as_ref().map(|t| t.id),
        NEWS_PER_PAGE + 1,
        (page_no - 1) * NEWS_PER_PAGE,
    )
    .await?;
    let more = news.len() as i64 > NEWS_PER_PAGE;
    news.truncate(NEWS_PER_PAGE as usize);
    let items = news
        .into_iter()
        .map(|n| {
            let name = tenant_name(&all, n.tenant);
            (n, name)
        })
        .collect();
    Ok(page(&NewsListPage { chrome, items, tenants: all, tenant, page: page_no, more }))
}

#[derive(Template)]
#[template(path = "content/news.html")]
struct NewsPage {
    chrome: Chrome,
    news: News,
    tenant: String,
    body: String,
}

impl NewsPage {
    fn day(&self) -> String {
        self.news.published_at.map(german_day).unwrap_or_default()
    }
}

/// `GET /aktuelles/{id}`
pub async fn news(State(ctx): State<PortalCtx>, chrome: Chrome, Path(id): Path<String>) -> Result<Response, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let news = service::news(&ctx.kernel, id).await?;
    let tenant = tenant_name(&tenants(&ctx).await?, news.tenant);
    let body = markdown_html(&news.body);
    Ok(page(&NewsPage { chrome, news, tenant, body }))
}

/// `GET /aktuelles.atom`: the newest 50 news items of every tenant (or `?mandant=`) as Atom 1.0.
pub async fn news_feed(State(ctx): State<PortalCtx>, Query(p): Query<NewsParams>) -> Result<Response, AppError> {
    let all = tenants(&ctx).await?;
    let tenant = chosen_tenant(&all, p.mandant.as_deref())?;
    let news = service::news_list(&ctx.kernel, tenant.as_ref().map(|t| t.id), 50, 0).await?;
    let names: Vec<String> = news.iter().map(|n| tenant_name(&all, n.tenant)).collect();
    let entries: Vec<FeedEntry<'_>> = news
        .iter()
        .zip(&names)
        .map(|(n, name)| FeedEntry { news: n, tenant_name: name, html: markdown_html(&n.body) })
        .collect();
    let title = match &tenant {
        Some(t) => format!("Aktuelles – {}", t.name),
        None => format!("Aktuelles – {}", county_name(&all)),
    };
    let body = feeds::atom(ctx.public_url.trim_end_matches('/'), &title, &entries, ctx.kernel.clock.now());
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], body).into_response())
}

fn county_name(tenants: &[Tenant]) -> String {
    tenants.iter().find(|t| t.kind == TenantKind::County).map(|t| t.name.clone()).unwrap_or_else(|| "Kreishaus".into())
}

#[derive(Deserialize, Default)]
pub struct EventParams {
    mandant: Option<String>,
    kategorie: Option<String>,
    /// `2026-12-01`: from this day on.
    von: Option<String>,
    /// `2026-12-31`: up to and including this day.
    bis: Option<String>,
}

/// The filter the parameters ask for; unknown categories and tenants are 404s.
fn event_filter(p: &EventParams, all: &[Tenant], now: Timestamp) -> Result<(EventFilter, Option<Tenant>), AppError> {
    let tenant = chosen_tenant(all, p.mandant.as_deref())?;
    let category = p.kategorie.clone().filter(|c| !c.is_empty());
    if category.as_deref().is_some_and(|c| !is_category(c)) {
        return Err(AppError::NotFound);
    }
    let (from, until) = (p.von.as_deref().and_then(day_start), p.bis.as_deref().and_then(day_start));
    Ok((EventFilter::days(tenant.as_ref().map(|t| t.id), category, from, until, now), tenant))
}

/// An event as the list shows it.
pub struct EventLine {
    pub event: Event,
    pub tenant: String,
    pub when: String,
    pub occupancy: Occupancy,
}

impl EventLine {
    pub fn fully_booked(&self) -> bool {
        self.event.capacity.is_some_and(|c| self.occupancy.free(c) == 0)
    }

    pub fn free(&self) -> i64 {
        self.event.capacity.map_or(0, |c| self.occupancy.free(c))
    }
}

#[derive(Template)]
#[template(path = "content/events.html")]
struct EventsPage {
    chrome: Chrome,
    events: Vec<EventLine>,
    tenants: Vec<Tenant>,
    tenant: Option<Tenant>,
    category: String,
    from: String,
    until: String,
    ics_url: String,
}

impl EventsPage {
    fn categories(&self) -> Vec<(&'static str, &'static str)> {
        CATEGORIES.iter().map(|(k, _)| (*k, category_message(k))).collect()
    }

    fn is_chosen(&self, t: &Tenant) -> bool {
        self.tenant.as_ref().is_some_and(|c| c.id == t.id)
    }

    fn category_key(&self, e: &Event) -> &'static str {
        category_message(&e.category)
    }
}

fn lines(all: &[Tenant], events: Vec<(Event, Occupancy)>) -> Vec<EventLine> {
    events
        .into_iter()
        .map(|(event, occupancy)| EventLine {
            tenant: tenant_name(all, event.tenant),
            when: event_when(event.starts_at, event.ends_at),
            event,
            occupancy,
        })
        .collect()
}

/// `GET /veranstaltungen?kategorie=…&mandant=…&von=…&bis=…`: events that have not ended.
pub async fn events(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    Query(p): Query<EventParams>,
) -> Result<Response, AppError> {
    let all = tenants(&ctx).await?;
    let (filter, tenant) = event_filter(&p, &all, ctx.kernel.clock.now())?;
    let events = lines(&all, service::events(&ctx.kernel, &filter, 200).await?);
    let query = [("mandant", &p.mandant), ("kategorie", &p.kategorie), ("von", &p.von), ("bis", &p.bis)]
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", web::url_encode(v))))
        .collect::<Vec<_>>()
        .join("&");
    let ics_url =
        if query.is_empty() { "/veranstaltungen.ics".into() } else { format!("/veranstaltungen.ics?{query}") };
    Ok(page(&EventsPage {
        chrome,
        events,
        tenants: all,
        tenant,
        category: filter.category.unwrap_or_default(),
        from: p.von.unwrap_or_default(),
        until: p.bis.unwrap_or_default(),
        ics_url,
    }))
}

/// The host name of the portal, for calendar UIDs.
fn host(ctx: &PortalCtx) -> String {
    let url = ctx.public_url.split("://").nth(1).unwrap_or(&ctx.public_url);
    url.split(['/', ':']).next().unwrap_or("kreishaus").to_owned()
}

fn calendar(ctx: &PortalCtx, name: &str, all: &[Tenant], events: &[Event]) -> Response {
    let base = ctx.public_url.trim_end_matches('/');
    let entries: Vec<CalendarEntry<'_>> = events
        .iter()
        .map(|e| CalendarEntry {
            event: e,
            url: format!("{base}/veranstaltungen/{}", e.id),
            category: category_name(&e.category),
            organiser: all.iter().find(|t| t.id == e.tenant).map_or("", |t| t.name.as_str()),
        })
        .collect();
    let body = feeds::icalendar(name, &host(ctx), &entries, ctx.kernel.clock.now());
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response()
}

/// `GET /veranstaltungen.ics`: the events of the list (same filters) as iCalendar.
pub async fn events_feed(State(ctx): State<PortalCtx>, Query(p): Query<EventParams>) -> Result<Response, AppError> {
    let all = tenants(&ctx).await?;
    let (filter, tenant) = event_filter(&p, &all, ctx.kernel.clock.now())?;
    let events: Vec<Event> = service::events(&ctx.kernel, &filter, 500).await?.into_iter().map(|(e, _)| e).collect();
    let name = format!("Veranstaltungen – {}", tenant.map_or_else(|| county_name(&all), |t| t.name));
    Ok(calendar(&ctx, &name, &all, &events))
}

#[derive(Template)]
#[template(path = "content/event.html")]
struct EventPage {
    chrome: Chrome,
    line: EventLine,
    body: String,
    signup: Signup,
    errors: FormErrors,
    /// Shown once after registering: the cancellation link.
    registered: Option<(Status, String)>,
    registration_open: bool,
}

impl EventPage {
    fn category_key(&self) -> &'static str {
        category_message(&self.line.event.category)
    }

    fn is_confirmed(&self, s: &Status) -> bool {
        *s == Status::Confirmed
    }
}

async fn event_page(
    ctx: &PortalCtx,
    chrome: Chrome,
    id: i64,
    signup: Signup,
    errors: FormErrors,
    registered: Option<(Status, String)>,
) -> Result<EventPage, AppError> {
    let (event, occupancy) = service::event(&ctx.kernel, id).await?;
    let all = tenants(ctx).await?;
    let body = markdown_html(&event.body);
    let registration_open = event.capacity.is_some() && event.starts_at > ctx.kernel.clock.now();
    let line = lines(&all, vec![(event, occupancy)]).pop().ok_or(AppError::NotFound)?;
    Ok(EventPage { chrome, line, body, signup, errors, registered, registration_open })
}

/// `GET /veranstaltungen/{id}` (the page) and `GET /veranstaltungen/{id}.ics` (the event alone).
pub async fn event(State(ctx): State<PortalCtx>, chrome: Chrome, Path(id): Path<String>) -> Result<Response, AppError> {
    if let Some(id) = id.strip_suffix(".ics") {
        let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
        let (event, _) = service::event(&ctx.kernel, id).await?;
        let all = tenants(&ctx).await?;
        let name = event.title.clone();
        return Ok(calendar(&ctx, &name, &all, &[event]));
    }
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(page(&event_page(&ctx, chrome, id, Signup::default(), FormErrors::none(), None).await?))
}

/// `POST /veranstaltungen/{id}/anmeldung`: registers, or says what is wrong with the form.
pub async fn register(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    Path(id): Path<i64>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let signup = Signup {
        name: field(&f, "name").into(),
        email: field(&f, "email").into(),
        organisation: field(&f, "organisation").into(),
    };
    let base = ctx.public_url.trim_end_matches('/').to_owned();
    match service::register(&ctx.kernel, &base, id, &signup).await {
        Ok(done) => {
            let link = service::cancel_url(&base, &done.cancel_token);
            Ok(page(
                &event_page(&ctx, chrome, id, Signup::default(), FormErrors::none(), Some((done.status, link))).await?,
            ))
        }
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &event_page(&ctx, chrome, id, signup, errors, None).await?))
        }
        Err(AppError::Conflict { code }) => {
            let errors = FormErrors::general(&chrome, code);
            Ok(html(StatusCode::CONFLICT, &event_page(&ctx, chrome, id, signup, errors, None).await?))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "content/cancel.html")]
struct CancelPage {
    chrome: Chrome,
    token: String,
    event: Event,
    when: String,
    cancelled: bool,
}

/// `GET /veranstaltungen/abmelden/{token}`: asks before cancelling (a mail scanner following the
/// link must not cancel anything).
pub async fn cancel_form(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let (registration, event) = service::registration(&ctx.kernel, &token).await?;
    let when = event_when(event.starts_at, event.ends_at);
    let cancelled = registration.status == Status::Cancelled;
    Ok(page(&CancelPage { chrome, token, event, when, cancelled }))
}

/// `POST /veranstaltungen/abmelden/{token}`
pub async fn cancel(State(ctx): State<PortalCtx>, Path(token): Path<String>) -> Result<Response, AppError> {
    let event = service::cancel(&ctx.kernel, ctx.public_url.trim_end_matches('/'), &token).await?;
    Ok(redirect_with_flash(
        &format!("/veranstaltungen/{}", event.id),
        FlashKind::Success,
        "content.cancelled",
        Some(event.title),
    ))
}

#[derive(Deserialize)]
pub struct PageParams {
    mandant: Option<String>,
}

#[derive(Template)]
#[template(path = "content/page.html")]
struct ContentPage {
    chrome: Chrome,
    page: Page,
    tenant: Tenant,
    body: String,
}

/// `GET /seiten/{slug}?mandant=…`: a content page of the county, or of the tenant named.
pub async fn content_page(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    Path(slug): Path<String>,
    Query(p): Query<PageParams>,
) -> Result<Response, AppError> {
    let all = tenants(&ctx).await?;
    let tenant = match chosen_tenant(&all, p.mandant.as_deref())? {
        Some(t) => t,
        None => all.iter().find(|t| t.kind == TenantKind::County).cloned().ok_or(AppError::NotFound)?,
    };
    let found = service::page(&ctx.kernel, tenant.id, &slug).await?;
    let body = markdown_html(&found.body);
    Ok(page(&ContentPage { chrome, page: found, tenant, body }))
}
