//! The SQL of news, events, registrations and content pages. Every function takes the tenant
//! where a row belongs to one; public reads ask for published rows only.

use kernel::{Db, DbResult, Row, TenantId, Timestamp, Tx, query, query_owned};

use super::model::{
    Cursor, Event, EventFilter, EventTimes, News, NewsDraft, Occupancy, Page, PageDraft, Publishable, Registration,
    Status,
};

fn ts(r: &Row, column: &str) -> DbResult<Timestamp> {
    Ok(Timestamp::from_millis(r.get(column)?))
}

fn opt_ts(r: &Row, column: &str) -> DbResult<Option<Timestamp>> {
    Ok(r.get::<Option<i64>>(column)?.map(Timestamp::from_millis))
}

const NEWS: &str = "id, tenant_id, slug, title, summary, body, published_at, updated_at";

fn news_from(r: &Row) -> DbResult<News> {
    Ok(News {
        id: r.get("id")?,
        tenant: TenantId(r.get("tenant_id")?),
        slug: r.get("slug")?,
        title: r.get("title")?,
        summary: r.get("summary")?,
        body: r.get("body")?,
        published_at: opt_ts(r, "published_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

/// Published news of every tenant (or one), newest first; with `before`, only the news after
/// that one in this order.
pub async fn published_news(
    db: &Db,
    tenant: Option<TenantId>,
    before: Option<Cursor>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<News>> {
    let sql = format!(
        "SELECT {NEWS} FROM news WHERE published_at IS NOT NULL AND ($1 IS NULL OR tenant_id = $1) \
         AND ($4 IS NULL OR published_at < $4 OR (published_at = $4 AND id < $5)) \
         ORDER BY published_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let q =
        query_owned(sql).bind(tenant).bind(limit).bind(offset).bind(before.map(|c| c.at)).bind(before.map(|c| c.id));
    db.fetch_all(q).await?.iter().map(news_from).collect()
}

/// One news item, published or not (the caller decides who may see a draft).
pub async fn news(db: &Db, id: i64) -> DbResult<Option<News>> {
    let sql = format!("SELECT {NEWS} FROM news WHERE id = $1");
    db.fetch_optional(query_owned(sql).bind(id)).await?.as_ref().map(news_from).transpose()
}

/// A tenant's news, drafts included, newest change first.
pub async fn tenant_news(db: &Db, tenant: TenantId) -> DbResult<Vec<News>> {
    let sql = format!("SELECT {NEWS} FROM news WHERE tenant_id = $1 ORDER BY updated_at DESC, id DESC");
    db.fetch_all(query_owned(sql).bind(tenant)).await?.iter().map(news_from).collect()
}

/// Adds a news item as a draft; None when the tenant already has one with that slug.
pub async fn insert_news(tx: &mut Tx, tenant: TenantId, d: &NewsDraft, now: Timestamp) -> DbResult<Option<i64>> {
    let row = tx
        .fetch_optional(
            query(
                "INSERT INTO news (tenant_id, slug, title, summary, body, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, slug) DO NOTHING RETURNING id",
            )
            .bind(tenant)
            .bind(&d.slug)
            .bind(&d.title)
            .bind(&d.summary)
            .bind(&d.body)
            .bind(now),
        )
        .await?;
    row.map(|r| r.get("id")).transpose()
}

/// Saves a tenant's news item; the number of rows changed (0: not the tenant's).
pub async fn update_news(tx: &mut Tx, tenant: TenantId, id: i64, d: &NewsDraft, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE news SET slug = $3, title = $4, summary = $5, body = $6, updated_at = $7 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(&d.slug)
        .bind(&d.title)
        .bind(&d.summary)
        .bind(&d.body)
        .bind(now),
    )
    .await
}

/// The table a publishable item lives in.
fn table(kind: Publishable) -> &'static str {
    match kind {
        Publishable::News => "news",
        Publishable::Event => "events",
        Publishable::Page => "content_pages",
    }
}

/// Publishes (keeping the first publication time) or withdraws a tenant's item.
pub async fn set_published(
    tx: &mut Tx,
    kind: Publishable,
    tenant: TenantId,
    id: i64,
    at: Option<Timestamp>,
    now: Timestamp,
) -> DbResult<u64> {
    let sql = format!(
        "UPDATE {} SET published_at = CASE WHEN $3 IS NULL THEN NULL ELSE COALESCE(published_at, $3) END, \
         updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        table(kind)
    );
    tx.execute(query_owned(sql).bind(tenant).bind(id).bind(at).bind(now)).await
}

const EVENTS: &str = "id, tenant_id, slug, title, summary, body, category, place, starts_at, ends_at, capacity, published_at, updated_at";

fn event_from(r: &Row) -> DbResult<Event> {
    Ok(Event {
        id: r.get("id")?,
        tenant: TenantId(r.get("tenant_id")?),
        slug: r.get("slug")?,
        title: r.get("title")?,
        summary: r.get("summary")?,
        body: r.get("body")?,
        category: r.get("category")?,
        place: r.get("place")?,
        starts_at: ts(r, "starts_at")?,
        ends_at: ts(r, "ends_at")?,
        capacity: r.get("capacity")?,
        published_at: opt_ts(r, "published_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

/// Published events by start time.
pub async fn published_events(db: &Db, f: &EventFilter, limit: i64) -> DbResult<Vec<Event>> {
    let sql = format!(
        "SELECT {EVENTS} FROM events WHERE published_at IS NOT NULL AND ends_at >= $1 \
         AND ($2 IS NULL OR starts_at < $2) AND ($3 IS NULL OR tenant_id = $3) AND ($4 IS NULL OR category = $4) \
         AND ($6 IS NULL OR starts_at > $6 OR (starts_at = $6 AND id > $7)) \
         ORDER BY starts_at, id LIMIT $5"
    );
    let (after_at, after_id) = (f.after.map(|c| c.at), f.after.map(|c| c.id));
    let q = query_owned(sql).bind(f.from).bind(f.until).bind(f.tenant).bind(f.category.clone()).bind(limit);
    let q = q.bind(after_at).bind(after_id);
    db.fetch_all(q).await?.iter().map(event_from).collect()
}

pub async fn event(db: &Db, id: i64) -> DbResult<Option<Event>> {
    let sql = format!("SELECT {EVENTS} FROM events WHERE id = $1");
    db.fetch_optional(query_owned(sql).bind(id)).await?.as_ref().map(event_from).transpose()
}

/// A tenant's events, drafts included, by start.
pub async fn tenant_events(db: &Db, tenant: TenantId) -> DbResult<Vec<Event>> {
    let sql = format!("SELECT {EVENTS} FROM events WHERE tenant_id = $1 ORDER BY starts_at DESC, id DESC");
    db.fetch_all(query_owned(sql).bind(tenant)).await?.iter().map(event_from).collect()
}

/// The columns an editor writes, as a draft with its checked times.
pub struct EventRow<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
    pub category: &'a str,
    pub place: &'a str,
    pub times: EventTimes,
}

pub async fn insert_event(tx: &mut Tx, tenant: TenantId, e: &EventRow<'_>, now: Timestamp) -> DbResult<Option<i64>> {
    let row = tx
        .fetch_optional(
            query(
                "INSERT INTO events (tenant_id, slug, title, summary, body, category, place, starts_at, ends_at, capacity, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                 ON CONFLICT (tenant_id, slug) DO NOTHING RETURNING id",
            )
            .bind(tenant)
            .bind(e.slug)
            .bind(e.title)
            .bind(e.summary)
            .bind(e.body)
            .bind(e.category)
            .bind(e.place)
            .bind(e.times.starts_at)
            .bind(e.times.ends_at)
            .bind(e.times.capacity)
            .bind(now),
        )
        .await?;
    row.map(|r| r.get("id")).transpose()
}

pub async fn update_event(tx: &mut Tx, tenant: TenantId, id: i64, e: &EventRow<'_>, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE events SET slug = $3, title = $4, summary = $5, body = $6, category = $7, place = $8, starts_at = $9, \
             ends_at = $10, capacity = $11, updated_at = $12 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(e.slug)
        .bind(e.title)
        .bind(e.summary)
        .bind(e.body)
        .bind(e.category)
        .bind(e.place)
        .bind(e.times.starts_at)
        .bind(e.times.ends_at)
        .bind(e.times.capacity)
        .bind(now),
    )
    .await
}

/// The id of a tenant's event by its slug.
pub async fn event_id(tx: &mut Tx, tenant: TenantId, slug: &str) -> DbResult<Option<i64>> {
    let row = tx
        .fetch_optional(query("SELECT id FROM events WHERE tenant_id = $1 AND slug = $2").bind(tenant).bind(slug))
        .await?;
    row.map(|r| r.get("id")).transpose()
}

/// Takes the event's row lock for the rest of the transaction (a no-op write both engines
/// serialise on), so two registrations cannot both take the last place.
pub async fn lock_event(tx: &mut Tx, id: i64) -> DbResult<Option<Event>> {
    tx.execute(query("UPDATE events SET capacity = capacity WHERE id = $1").bind(id)).await?;
    let sql = format!("SELECT {EVENTS} FROM events WHERE id = $1");
    tx.fetch_optional(query_owned(sql).bind(id)).await?.as_ref().map(event_from).transpose()
}

/// Confirmed and waiting registrations of an event.
pub async fn occupancy(tx: &mut Tx, event: i64) -> DbResult<Occupancy> {
    let row = tx
        .fetch_one(
            query(
                "SELECT COALESCE(SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), 0) AS confirmed, \
                 COALESCE(SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END), 0) AS waiting \
                 FROM event_registrations WHERE event_id = $1",
            )
            .bind(event),
        )
        .await?;
    Ok(Occupancy { confirmed: row.get("confirmed")?, waiting: row.get("waiting")? })
}

/// The occupancy of many events at once (for lists), by event id.
pub async fn occupancies(db: &Db, events: &[i64]) -> DbResult<Vec<(i64, Occupancy)>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=events.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT event_id, SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END) AS confirmed, \
         SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END) AS waiting \
         FROM event_registrations WHERE event_id IN ({}) GROUP BY event_id",
        marks.join(", ")
    );
    let q = events.iter().fold(query_owned(sql), |q, id| q.bind(*id));
    db.fetch_all(q)
        .await?
        .iter()
        .map(|r| Ok((r.get("event_id")?, Occupancy { confirmed: r.get("confirmed")?, waiting: r.get("waiting")? })))
        .collect()
}

const REGISTRATIONS: &str = "id, event_id, name, email, organisation, status, created_at";

fn registration_from(r: &Row) -> DbResult<Registration> {
    Ok(Registration {
        id: r.get("id")?,
        event: r.get("event_id")?,
        name: r.get("name")?,
        email: r.get("email")?,
        organisation: r.get("organisation")?,
        status: Status::parse(&r.get::<String>("status")?),
        created_at: ts(r, "created_at")?,
    })
}

/// A new registration; the cancellation token is kept as its hash.
pub struct NewRegistration<'a> {
    pub tenant: TenantId,
    pub event: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub organisation: &'a str,
    pub status: Status,
    pub token_sha256: &'a str,
}

pub async fn insert_registration(tx: &mut Tx, r: &NewRegistration<'_>, now: Timestamp) -> DbResult<i64> {
    tx.fetch_one(
        query(
            "INSERT INTO event_registrations (tenant_id, event_id, name, email, organisation, status, \
             cancel_token_sha256, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(r.tenant)
        .bind(r.event)
        .bind(r.name)
        .bind(r.email)
        .bind(r.organisation)
        .bind(r.status.as_str())
        .bind(r.token_sha256)
        .bind(now),
    )
    .await?
    .get("id")
}

/// Whether an address holds a registration (a place or on the waiting list) for an event.
pub async fn is_registered(tx: &mut Tx, event: i64, email: &str) -> DbResult<bool> {
    let row = tx
        .fetch_optional(
            query(
                "SELECT id FROM event_registrations WHERE event_id = $1 AND LOWER(email) = LOWER($2) \
                 AND status <> 'cancelled' LIMIT 1",
            )
            .bind(event)
            .bind(email),
        )
        .await?;
    Ok(row.is_some())
}

/// The registration a cancellation token belongs to.
pub async fn registration_by_token(db: &Db, token_sha256: &str) -> DbResult<Option<(TenantId, Registration)>> {
    let sql = format!("SELECT tenant_id, {REGISTRATIONS} FROM event_registrations WHERE cancel_token_sha256 = $1");
    let row = db.fetch_optional(query_owned(sql).bind(token_sha256)).await?;
    row.map(|r| Ok((TenantId(r.get("tenant_id")?), registration_from(&r)?))).transpose()
}

pub async fn set_status(tx: &mut Tx, id: i64, status: Status, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query("UPDATE event_registrations SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status.as_str())
            .bind(now),
    )
    .await
}

/// Where a registration stands now, read inside the transaction.
pub async fn status_of(tx: &mut Tx, id: i64) -> DbResult<Option<Status>> {
    let row = tx.fetch_optional(query("SELECT status FROM event_registrations WHERE id = $1").bind(id)).await?;
    row.map(|r| Ok(Status::parse(&r.get::<String>("status")?))).transpose()
}

/// The first `n` on the waiting list, in the order they registered.
pub async fn first_waiting(tx: &mut Tx, event: i64, n: i64) -> DbResult<Vec<Registration>> {
    let sql = format!(
        "SELECT {REGISTRATIONS} FROM event_registrations WHERE event_id = $1 AND status = 'waiting' ORDER BY id LIMIT $2"
    );
    tx.fetch_all(query_owned(sql).bind(event).bind(n)).await?.iter().map(registration_from).collect()
}

/// Everyone registered for a tenant's event, in the order they registered.
pub async fn registrations(db: &Db, tenant: TenantId, event: i64) -> DbResult<Vec<Registration>> {
    let sql =
        format!("SELECT {REGISTRATIONS} FROM event_registrations WHERE tenant_id = $1 AND event_id = $2 ORDER BY id");
    db.fetch_all(query_owned(sql).bind(tenant).bind(event)).await?.iter().map(registration_from).collect()
}

const PAGES: &str = "id, tenant_id, slug, title, body, published_at, updated_at";

fn page_from(r: &Row) -> DbResult<Page> {
    Ok(Page {
        id: r.get("id")?,
        tenant: TenantId(r.get("tenant_id")?),
        slug: r.get("slug")?,
        title: r.get("title")?,
        body: r.get("body")?,
        published_at: opt_ts(r, "published_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn page(db: &Db, tenant: TenantId, slug: &str) -> DbResult<Option<Page>> {
    let sql = format!("SELECT {PAGES} FROM content_pages WHERE tenant_id = $1 AND slug = $2");
    db.fetch_optional(query_owned(sql).bind(tenant).bind(slug)).await?.as_ref().map(page_from).transpose()
}

pub async fn page_by_id(db: &Db, tenant: TenantId, id: i64) -> DbResult<Option<Page>> {
    let sql = format!("SELECT {PAGES} FROM content_pages WHERE tenant_id = $1 AND id = $2");
    db.fetch_optional(query_owned(sql).bind(tenant).bind(id)).await?.as_ref().map(page_from).transpose()
}

pub async fn tenant_pages(db: &Db, tenant: TenantId) -> DbResult<Vec<Page>> {
    let sql = format!("SELECT {PAGES} FROM content_pages WHERE tenant_id = $1 ORDER BY title, id");
    db.fetch_all(query_owned(sql).bind(tenant)).await?.iter().map(page_from).collect()
}

/// Every published page of every tenant (for the search).
pub async fn published_pages(db: &Db) -> DbResult<Vec<Page>> {
    let sql = format!("SELECT {PAGES} FROM content_pages WHERE published_at IS NOT NULL ORDER BY id");
    db.fetch_all(query_owned(sql)).await?.iter().map(page_from).collect()
}

pub async fn insert_page(tx: &mut Tx, tenant: TenantId, d: &PageDraft, now: Timestamp) -> DbResult<Option<i64>> {
    let row = tx
        .fetch_optional(
            query(
                "INSERT INTO content_pages (tenant_id, slug, title, body, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (tenant_id, slug) DO NOTHING RETURNING id",
            )
            .bind(tenant)
            .bind(&d.slug)
            .bind(&d.title)
            .bind(&d.body)
            .bind(now),
        )
        .await?;
    row.map(|r| r.get("id")).transpose()
}

pub async fn update_page(tx: &mut Tx, tenant: TenantId, id: i64, d: &PageDraft, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query("UPDATE content_pages SET slug = $3, title = $4, body = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .bind(&d.slug)
            .bind(&d.title)
            .bind(&d.body)
            .bind(now),
    )
    .await
}

/// A fingerprint of all content for the search index: row counts and the newest change.
pub async fn content_version(db: &Db) -> DbResult<(i64, i64)> {
    let row = db
        .fetch_one(query(
            "SELECT (SELECT COUNT(*) FROM news) + (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM content_pages) AS n, \
             (SELECT COALESCE(MAX(updated_at), 0) FROM news) + (SELECT COALESCE(MAX(updated_at), 0) FROM events) \
             + (SELECT COALESCE(MAX(updated_at), 0) FROM content_pages) AS latest",
        ))
        .await?;
    Ok((row.get("n")?, row.get("latest")?))
}

/// Every published news item and event (past events too: the search filters by time).
pub async fn searchable(db: &Db) -> DbResult<(Vec<News>, Vec<Event>)> {
    let news = format!("SELECT {NEWS} FROM news WHERE published_at IS NOT NULL ORDER BY id");
    let events = format!("SELECT {EVENTS} FROM events WHERE published_at IS NOT NULL ORDER BY id");
    Ok((
        db.fetch_all(query_owned(news)).await?.iter().map(news_from).collect::<DbResult<_>>()?,
        db.fetch_all(query_owned(events)).await?.iter().map(event_from).collect::<DbResult<_>>()?,
    ))
}
