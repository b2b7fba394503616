//! The JSON API of news and events: what the pages list, for apps and other portals, paged with
//! the cursor of docs/API-DESIGN.md. Only published items appear.

use axum::Json;
use axum::extract::{Query, State};
use identity::model::Tenant;
use kernel::{AppError, TenantId};
use serde::{Deserialize, Serialize};

use super::PortalCtx;
use super::content::{chosen_tenant, tenants};
use crate::content::model::{Admission, Cursor, Event, EventFilter, News, Occupancy, day_start, is_category};
use crate::content::service;

/// Items on a page when the client does not say.
const DEFAULT_LIMIT: usize = 50;

/// The cursor a client sent back, if any; Err for anything but a cursor we handed out.
fn cursor(given: Option<&str>) -> Result<Option<Cursor>, ()> {
    match given.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => Cursor::decode(c).map(Some).ok_or(()),
    }
}

/// A day parameter (`2026-12-01`), if any; Err for something that is no day.
fn day(given: Option<&str>) -> Result<Option<kernel::Timestamp>, ()> {
    match given.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => day_start(d).filter(|_| d.len() == 10).map(Some).ok_or(()),
    }
}

fn tenant_slug(all: &[Tenant], id: TenantId) -> String {
    all.iter().find(|t| t.id == id).map(|t| t.slug.clone()).unwrap_or_default()
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct NewsQuery {
    /// Only this tenant's news (its short name); every tenant's without it.
    pub tenant: Option<String>,
    /// Items per page (1–500, default 50).
    pub limit: Option<usize>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// A published news item.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewsItem {
    pub id: i64,
    pub title: String,
    pub summary: String,
    /// When it was published (RFC 3339, UTC).
    pub published: String,
    /// The publishing tenant's short name.
    pub tenant: String,
    /// Its page on the portal.
    pub url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewsList {
    pub items: Vec<NewsItem>,
    /// Absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn news_item(all: &[Tenant], n: News) -> NewsItem {
    NewsItem {
        url: format!("/aktuelles/{}", n.id),
        published: n.published_at.unwrap_or(n.updated_at).rfc3339(),
        tenant: tenant_slug(all, n.tenant),
        id: n.id,
        title: n.title,
        summary: n.summary,
    }
}

/// The published news of every tenant or one, newest first.
#[utoipa::path(get, path = "/api/v1/news", tag = "portal", params(NewsQuery),
    responses((status = 200, body = NewsList),
              (status = 404, description = "Unknown tenant", body = web::ErrorEnvelope),
              (status = 422, description = "A cursor that this API did not hand out", body = web::ErrorEnvelope)))]
pub async fn news(State(ctx): State<PortalCtx>, Query(q): Query<NewsQuery>) -> Result<Json<NewsList>, AppError> {
    let all = tenants(&ctx).await?;
    let tenant = chosen_tenant(&all, q.tenant.as_deref())?;
    let after = cursor(q.cursor.as_deref()).map_err(|()| AppError::invalid("content.cursor_invalid", "cursor"))?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    let (news, next) = service::news_page(&ctx.kernel, tenant.map(|t| t.id), after, limit).await?;
    let items = news.into_iter().map(|n| news_item(&all, n)).collect();
    Ok(Json(NewsList { items, next_cursor: next.map(Cursor::encode) }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Only events of this category: kultur, sport, bildung, fortbildung, familie, umwelt,
    /// wirtschaft, beteiligung.
    pub category: Option<String>,
    /// Only this tenant's events (its short name).
    pub tenant: Option<String>,
    /// Events not over before this day (`2026-12-01`, German time); today without it.
    pub from: Option<String>,
    /// Events starting on or before this day (`2026-12-31`, German time).
    pub to: Option<String>,
    /// Items per page (1–500, default 50).
    pub limit: Option<usize>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// How full an event with registration is.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RegistrationInfo {
    pub state: Admission,
    pub capacity: i64,
    pub free_places: i64,
    /// People on the waiting list.
    pub waiting: i64,
}

/// An upcoming published event.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventItem {
    pub id: i64,
    pub title: String,
    pub summary: String,
    /// The category's key (see the `category` parameter).
    pub category: String,
    pub place: String,
    /// When it starts (RFC 3339, UTC).
    pub start: String,
    /// When it ends (RFC 3339, UTC).
    pub end: String,
    /// The organising tenant's short name.
    pub tenant: String,
    /// Null when the event needs no registration.
    pub registration: Option<RegistrationInfo>,
    /// Its page on the portal.
    pub url: String,
    /// The event alone as iCalendar.
    pub ics_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventList {
    pub items: Vec<EventItem>,
    /// Absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn event_item(all: &[Tenant], e: Event, o: Occupancy, now: kernel::Timestamp) -> EventItem {
    let registration = Admission::of(&e, o, now).map(|state| {
        let capacity = e.capacity.unwrap_or(0);
        RegistrationInfo { state, capacity, free_places: o.free(capacity), waiting: o.waiting }
    });
    EventItem {
        url: format!("/veranstaltungen/{}", e.id),
        ics_url: format!("/veranstaltungen/{}.ics", e.id),
        start: e.starts_at.rfc3339(),
        end: e.ends_at.rfc3339(),
        tenant: tenant_slug(all, e.tenant),
        registration,
        id: e.id,
        title: e.title,
        summary: e.summary,
        category: e.category,
        place: e.place,
    }
}

/// Published events that have not ended, by start; filtered by category, tenant and days.
#[utoipa::path(get, path = "/api/v1/events", tag = "portal", params(EventsQuery),
    responses((status = 200, body = EventList),
              (status = 404, description = "Unknown tenant", body = web::ErrorEnvelope),
              (status = 422, description = "Unknown category, a day that is none, or a foreign cursor", body = web::ErrorEnvelope)))]
pub async fn events(State(ctx): State<PortalCtx>, Query(q): Query<EventsQuery>) -> Result<Json<EventList>, AppError> {
    let all = tenants(&ctx).await?;
    let tenant = chosen_tenant(&all, q.tenant.as_deref())?;
    let category = q.category.filter(|c| !c.is_empty());
    let mut problems = Vec::new();
    let mut bad = |field: &str, code: &'static str| problems.push(kernel::FieldError { field: field.into(), code });
    if category.as_deref().is_some_and(|c| !is_category(c)) {
        bad("category", "content.category_unknown");
    }
    let from = day(q.from.as_deref()).unwrap_or_else(|()| {
        bad("from", "content.day_invalid");
        None
    });
    let to = day(q.to.as_deref()).unwrap_or_else(|()| {
        bad("to", "content.day_invalid");
        None
    });
    let after = cursor(q.cursor.as_deref()).unwrap_or_else(|()| {
        bad("cursor", "content.cursor_invalid");
        None
    });
    if !problems.is_empty() {
        return Err(AppError::Invalid { code: "invalid", fields: problems });
    }
    let now = ctx.kernel.clock.now();
    let filter = EventFilter { after, ..EventFilter::days(tenant.map(|t| t.id), category, from, to, now) };
    let (events, next) = service::events_page(&ctx.kernel, &filter, q.limit.unwrap_or(DEFAULT_LIMIT)).await?;
    let items = events.into_iter().map(|(e, o)| event_item(&all, e, o, now)).collect();
    Ok(Json(EventList { items, next_cursor: next.map(Cursor::encode) }))
}
