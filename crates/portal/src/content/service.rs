//! The use cases of news, events and pages: what citizens read and how they register for an
//! event (with its waiting list), and what the Redaktion writes and publishes. Every write is
//! audited; reading a participant list is audited too (it is personal data).

use identity::Authorized;
use identity::model::Tenant;
use kernel::audit::{self, Actor, NewEntry};
use kernel::mail::{self, Mail};
use kernel::{AppError, FieldError, Kernel, TenantId, Timestamp, Tx};
use serde_json::json;

use super::model::{Cursor, EventFilter, Publishable, page_of};
use super::model::{Event, EventDraft, News, NewsDraft, Occupancy, Page, PageDraft, Registration, Signup, Status};
use super::store::{self, EventRow, NewRegistration};
use crate::service::SearchIndex;

/// Write news, events and pages of a tenant (Redaktion, Administration), as the service
/// catalogue's editors do.
#[derive(Debug)]
pub struct EditContent;
impl identity::Permission for EditContent {
    const ROLES: &'static [identity::Role] = &[identity::Role::Editor, identity::Role::Administrator];
}

fn invalid(fields: Vec<FieldError>) -> AppError {
    AppError::Invalid { code: "invalid", fields }
}

fn duplicate_slug() -> AppError {
    AppError::invalid("content.slug_taken", "slug")
}

async fn record(
    tx: &mut Tx,
    now: Timestamp,
    tenant: TenantId,
    actor: &Actor,
    action: &str,
    subject: String,
    details: serde_json::Value,
) -> Result<(), AppError> {
    audit::append(tx, now, NewEntry { tenant, actor, action, subject: &subject, details }).await?;
    Ok(())
}

// ---- public reading ----

/// Published news, newest first, of every tenant or one.
pub async fn news_list(k: &Kernel, tenant: Option<TenantId>, limit: i64, offset: i64) -> Result<Vec<News>, AppError> {
    Ok(store::published_news(&k.db, tenant, None, limit.clamp(1, 100), offset.max(0)).await?)
}

/// Most items on one page of the JSON API's lists (docs/API-DESIGN.md).
pub const MAX_PAGE: usize = 500;

/// A page of published news for the API, newest first, after `cursor`; with the cursor of the
/// next page when there is one.
pub async fn news_page(
    k: &Kernel,
    tenant: Option<TenantId>,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<(Vec<News>, Option<Cursor>), AppError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let news = store::published_news(&k.db, tenant, cursor, limit as i64 + 1, 0).await?;
    // Every published item has its publication time.
    Ok(page_of(news, limit, |n| Cursor { at: n.published_at.unwrap_or(n.updated_at), id: n.id }))
}

/// A page of the events of [`events`] for the API, by start, after `filter.after`; with the
/// cursor of the next page when there is one.
pub async fn events_page(
    k: &Kernel,
    filter: &EventFilter,
    limit: usize,
) -> Result<(Vec<(Event, Occupancy)>, Option<Cursor>), AppError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let events = events(k, filter, limit as i64 + 1).await?;
    Ok(page_of(events, limit, |(e, _)| Cursor { at: e.starts_at, id: e.id }))
}

/// A published news item.
pub async fn news(k: &Kernel, id: i64) -> Result<News, AppError> {
    store::news(&k.db, id).await?.filter(|n| n.published_at.is_some()).ok_or(AppError::NotFound)
}

/// Published events that have not ended, by start, with how full those with registration are.
pub async fn events(k: &Kernel, filter: &EventFilter, limit: i64) -> Result<Vec<(Event, Occupancy)>, AppError> {
    let events = store::published_events(&k.db, filter, limit.clamp(1, MAX_PAGE as i64 + 1)).await?;
    let ids: Vec<i64> = events.iter().filter(|e| e.capacity.is_some()).map(|e| e.id).collect();
    let counts = store::occupancies(&k.db, &ids).await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let o = counts.iter().find(|(id, _)| *id == e.id).map(|(_, o)| *o).unwrap_or_default();
            (e, o)
        })
        .collect())
}

/// A published event with how full it is.
pub async fn event(k: &Kernel, id: i64) -> Result<(Event, Occupancy), AppError> {
    let event = store::event(&k.db, id).await?.filter(|e| e.published_at.is_some()).ok_or(AppError::NotFound)?;
    let occupancy = store::occupancies(&k.db, &[id]).await?.first().map(|(_, o)| *o).unwrap_or_default();
    Ok((event, occupancy))
}

/// A tenant's published page.
pub async fn page(k: &Kernel, tenant: TenantId, slug: &str) -> Result<Page, AppError> {
    store::page(&k.db, tenant, slug).await?.filter(|p| p.published_at.is_some()).ok_or(AppError::NotFound)
}

// ---- registration ----

/// What a registration became, and the link that cancels it (shown once and mailed).
#[derive(Debug)]
pub struct Registered {
    pub status: Status,
    pub cancel_token: String,
}

/// The address of the cancellation page for a token.
pub fn cancel_url(base: &str, token: &str) -> String {
    format!("{base}/veranstaltungen/abmelden/{token}")
}

/// Registers someone for an event that takes registrations and has not started: a free place
/// confirms, else the waiting list. A mail with the cancellation link goes out in the same
/// transaction (outbox).
pub async fn register(k: &Kernel, base: &str, event_id: i64, signup: &Signup) -> Result<Registered, AppError> {
    let problems = signup.problems();
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let event =
        store::lock_event(&mut tx, event_id).await?.filter(|e| e.published_at.is_some()).ok_or(AppError::NotFound)?;
    let Some(capacity) = event.capacity else { return Err(AppError::Conflict { code: "content.no_registration" }) };
    if event.starts_at <= now {
        return Err(AppError::Conflict { code: "content.registration_closed" });
    }
    if store::is_registered(&mut tx, event.id, signup.email.trim()).await? {
        return Err(AppError::Conflict { code: "content.already_registered" });
    }
    let status = store::occupancy(&mut tx, event.id).await?.next(capacity);
    let token = kernel::random_token();
    let new = NewRegistration {
        tenant: event.tenant,
        event: event.id,
        name: signup.name.trim(),
        email: signup.email.trim(),
        organisation: signup.organisation.trim(),
        status,
        token_sha256: &kernel::sha256_hex(&token),
    };
    let id = store::insert_registration(&mut tx, &new, now).await?;
    let (subject, text) = match status {
        Status::Confirmed => ("Anmeldung bestätigt", "Ihre Anmeldung ist bestätigt. Ein Platz ist für Sie reserviert."),
        _ => (
            "Auf der Warteliste",
            "Die Veranstaltung ist ausgebucht. Sie stehen auf der Warteliste; wird ein Platz frei, rücken Sie \
             automatisch nach und bekommen eine E-Mail.",
        ),
    };
    let body = format!(
        "Guten Tag {},\n\n{text}\n\n{}\n{}\n{}\n\nAbmelden können Sie sich hier:\n{}\n\nDiese E-Mail wurde automatisch erstellt.",
        new.name,
        event.title,
        super::model::event_when(event.starts_at, event.ends_at),
        event.place,
        cancel_url(base, &token),
    );
    let mail = Mail { to: new.email.to_owned(), subject: format!("{subject}: {}", event.title), body };
    mail::enqueue(&mut tx, now, Some(event.tenant), &mail, Some(format!("event-registration-{id}"))).await?;
    let details = json!({ "registration": id, "status": status.as_str() });
    record(
        &mut tx,
        now,
        event.tenant,
        &Actor::system(),
        "portal.event.registered",
        format!("event:{}", event.id),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(Registered { status, cancel_token: token })
}

/// The registration and event a cancellation link belongs to.
pub async fn registration(k: &Kernel, token: &str) -> Result<(Registration, Event), AppError> {
    let (_, r) = store::registration_by_token(&k.db, &kernel::sha256_hex(token)).await?.ok_or(AppError::NotFound)?;
    let event = store::event(&k.db, r.event).await?.ok_or(AppError::NotFound)?;
    Ok((r, event))
}

/// Cancels a registration by its link; a place that becomes free goes to the first on the
/// waiting list, who is told by mail. Cancelling twice changes nothing.
pub async fn cancel(k: &Kernel, base: &str, token: &str) -> Result<Event, AppError> {
    let (tenant, r) =
        store::registration_by_token(&k.db, &kernel::sha256_hex(token)).await?.ok_or(AppError::NotFound)?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let event = store::lock_event(&mut tx, r.event).await?.ok_or(AppError::NotFound)?;
    // Read again under the lock: a concurrent cancellation may have been first.
    if store::status_of(&mut tx, r.id).await?.is_some_and(|s| s != Status::Cancelled) {
        store::set_status(&mut tx, r.id, Status::Cancelled, now).await?;
        let details = json!({ "registration": r.id, "was": r.status.as_str() });
        record(
            &mut tx,
            now,
            tenant,
            &Actor::system(),
            "portal.event.cancelled",
            format!("event:{}", event.id),
            details,
        )
        .await?;
        fill_places(&mut tx, &event, base, now).await?;
    }
    tx.commit().await?;
    Ok(event)
}

/// Moves people up from the waiting list into free places, and tells them.
async fn fill_places(tx: &mut Tx, event: &Event, base: &str, now: Timestamp) -> Result<(), AppError> {
    let Some(capacity) = event.capacity else { return Ok(()) };
    let free = store::occupancy(tx, event.id).await?.free(capacity);
    if free == 0 {
        return Ok(());
    }
    for r in store::first_waiting(tx, event.id, free).await? {
        store::set_status(tx, r.id, Status::Confirmed, now).await?;
        let body = format!(
            "Guten Tag {},\n\nfür „{}“ ist ein Platz frei geworden. Sie sind von der Warteliste nachgerückt; \
             Ihre Anmeldung ist bestätigt.\n\n{}\n{}\n\nWenn Sie nicht kommen können, melden Sie sich bitte über den Link \
             aus Ihrer ersten E-Mail ab. Die Veranstaltung: {base}/veranstaltungen/{}\n\nDiese E-Mail wurde automatisch erstellt.",
            r.name,
            event.title,
            super::model::event_when(event.starts_at, event.ends_at),
            event.place,
            event.id,
        );
        let mail = Mail { to: r.email.clone(), subject: format!("Platz frei: {}", event.title), body };
        mail::enqueue(tx, now, Some(event.tenant), &mail, Some(format!("event-moved-up-{}", r.id))).await?;
        let details = json!({ "registration": r.id });
        record(
            tx,
            now,
            event.tenant,
            &Actor::system(),
            "portal.event.moved_up",
            format!("event:{}", event.id),
            details,
        )
        .await?;
    }
    Ok(())
}

// ---- the Redaktion ----

/// A tenant's news, events and pages, drafts included.
pub struct Overview {
    pub news: Vec<News>,
    pub events: Vec<Event>,
    pub pages: Vec<Page>,
}

pub async fn overview(k: &Kernel, proof: &Authorized<EditContent>) -> Result<Overview, AppError> {
    let t = proof.tenant();
    Ok(Overview {
        news: store::tenant_news(&k.db, t).await?,
        events: store::tenant_events(&k.db, t).await?,
        pages: store::tenant_pages(&k.db, t).await?,
    })
}

/// A tenant's news item for the editor.
pub async fn editable_news(k: &Kernel, proof: &Authorized<EditContent>, id: i64) -> Result<News, AppError> {
    store::news(&k.db, id).await?.filter(|n| n.tenant == proof.tenant()).ok_or(AppError::NotFound)
}

pub async fn editable_event(k: &Kernel, proof: &Authorized<EditContent>, id: i64) -> Result<Event, AppError> {
    store::event(&k.db, id).await?.filter(|e| e.tenant == proof.tenant()).ok_or(AppError::NotFound)
}

pub async fn editable_page(k: &Kernel, proof: &Authorized<EditContent>, id: i64) -> Result<Page, AppError> {
    store::page_by_id(&k.db, proof.tenant(), id).await?.ok_or(AppError::NotFound)
}

/// Saves a news item (new when `id` is None, as a draft); returns its id.
pub async fn save_news(
    k: &Kernel,
    index: &SearchIndex,
    proof: &Authorized<EditContent>,
    id: Option<i64>,
    d: &NewsDraft,
) -> Result<i64, AppError> {
    let problems = d.problems();
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let id = match id {
        None => store::insert_news(&mut tx, proof.tenant(), d, now).await?.ok_or_else(duplicate_slug)?,
        Some(id) => {
            let updated = store::update_news(&mut tx, proof.tenant(), id, d, now).await.map_err(slug_conflict)?;
            if updated == 0 {
                return Err(AppError::NotFound);
            }
            id
        }
    };
    let details = json!({ "title": d.title });
    record(&mut tx, now, proof.tenant(), proof.actor(), "portal.news.saved", format!("news:{id}"), details).await?;
    tx.commit().await?;
    index.invalidate().await;
    Ok(id)
}

/// A unique violation on update means the slug is taken; anything else is an outage.
fn slug_conflict(e: kernel::DbError) -> AppError {
    if e.is_unique_violation() { duplicate_slug() } else { e.into() }
}

/// Saves an event (new when `id` is None, as a draft); returns its id. More places move people
/// up from the waiting list.
pub async fn save_event(
    k: &Kernel,
    index: &SearchIndex,
    base: &str,
    proof: &Authorized<EditContent>,
    id: Option<i64>,
    d: &EventDraft,
) -> Result<i64, AppError> {
    let times = d.check().map_err(invalid)?;
    let row = EventRow {
        slug: &d.slug,
        title: &d.title,
        summary: &d.summary,
        body: &d.body,
        category: &d.category,
        place: &d.place,
        times,
    };
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let id = match id {
        None => store::insert_event(&mut tx, proof.tenant(), &row, now).await?.ok_or_else(duplicate_slug)?,
        Some(id) => {
            store::lock_event(&mut tx, id).await?;
            if store::update_event(&mut tx, proof.tenant(), id, &row, now).await.map_err(slug_conflict)? == 0 {
                return Err(AppError::NotFound);
            }
            id
        }
    };
    if let Some(event) = store::lock_event(&mut tx, id).await? {
        fill_places(&mut tx, &event, base, now).await?;
    }
    let details = json!({ "title": d.title, "capacity": times.capacity });
    record(&mut tx, now, proof.tenant(), proof.actor(), "portal.event.saved", format!("event:{id}"), details).await?;
    tx.commit().await?;
    index.invalidate().await;
    Ok(id)
}

/// Saves a page (new when `id` is None, as a draft); returns its id.
pub async fn save_page(
    k: &Kernel,
    index: &SearchIndex,
    proof: &Authorized<EditContent>,
    id: Option<i64>,
    d: &PageDraft,
) -> Result<i64, AppError> {
    let problems = d.problems();
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let id = match id {
        None => store::insert_page(&mut tx, proof.tenant(), d, now).await?.ok_or_else(duplicate_slug)?,
        Some(id) => {
            if store::update_page(&mut tx, proof.tenant(), id, d, now).await.map_err(slug_conflict)? == 0 {
                return Err(AppError::NotFound);
            }
            id
        }
    };
    let details = json!({ "title": d.title });
    record(&mut tx, now, proof.tenant(), proof.actor(), "portal.page.saved", format!("page:{id}"), details).await?;
    tx.commit().await?;
    index.invalidate().await;
    Ok(id)
}

/// Publishes or withdraws a tenant's news item, event or page.
pub async fn publish(
    k: &Kernel,
    index: &SearchIndex,
    proof: &Authorized<EditContent>,
    kind: Publishable,
    id: i64,
    public: bool,
) -> Result<(), AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if store::set_published(&mut tx, kind, proof.tenant(), id, public.then_some(now), now).await? == 0 {
        return Err(AppError::NotFound);
    }
    let subject = match kind {
        Publishable::News => "news",
        Publishable::Event => "event",
        Publishable::Page => "page",
    };
    let action = if public { "portal.content.published" } else { "portal.content.withdrawn" };
    record(&mut tx, now, proof.tenant(), proof.actor(), action, format!("{subject}:{id}"), json!({})).await?;
    tx.commit().await?;
    index.invalidate().await;
    Ok(())
}

/// Who registered for a tenant's event. Reading it is logged: it is personal data.
pub async fn participants(
    k: &Kernel,
    proof: &Authorized<EditContent>,
    event_id: i64,
    purpose: &str,
) -> Result<(Event, Vec<Registration>), AppError> {
    let event = editable_event(k, proof, event_id).await?;
    let list = store::registrations(&k.db, proof.tenant(), event_id).await?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let details = json!({ "registrations": list.len(), "as": purpose });
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "portal.event.participants_read",
        format!("event:{event_id}"),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok((event, list))
}

/// The tenants whose content this member of staff may edit.
pub fn editable_tenants(staff: &identity::Staff, tenants: Vec<Tenant>) -> Vec<Tenant> {
    tenants.into_iter().filter(|t| staff.authorize::<EditContent>(t.id).is_ok()).collect()
}

// ---- the installation (demo data) ----

/// A published item the installation adds (demo content).
pub enum Seed {
    News(NewsDraft),
    Event(EventDraft),
    Page(PageDraft),
}

/// Adds and publishes items for a tenant as the installation itself; items whose slug the
/// tenant already has are left as they are, so loading twice changes nothing. Returns how
/// many were added.
pub async fn seed(k: &Kernel, tenant: TenantId, items: &[Seed]) -> Result<usize, AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let mut added = 0;
    for item in items {
        let (kind, id) = match item {
            Seed::News(d) => (Publishable::News, store::insert_news(&mut tx, tenant, d, now).await?),
            Seed::Page(d) => (Publishable::Page, store::insert_page(&mut tx, tenant, d, now).await?),
            Seed::Event(d) => {
                let times = d.check().map_err(invalid)?;
                let row = EventRow {
                    slug: &d.slug,
                    title: &d.title,
                    summary: &d.summary,
                    body: &d.body,
                    category: &d.category,
                    place: &d.place,
                    times,
                };
                (Publishable::Event, store::insert_event(&mut tx, tenant, &row, now).await?)
            }
        };
        if let Some(id) = id {
            store::set_published(&mut tx, kind, tenant, id, Some(now), now).await?;
            added += 1;
        }
    }
    if added > 0 {
        let details = json!({ "items": added });
        record(&mut tx, now, tenant, &Actor::system(), "portal.content.published", "demo".into(), details).await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// Registers people for a tenant's event as the installation (demo data, no mails), in order,
/// while the event has no registrations yet.
pub async fn seed_registrations(
    k: &Kernel,
    tenant: TenantId,
    event_slug: &str,
    people: &[Signup],
) -> Result<usize, AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let Some(id) = store::event_id(&mut tx, tenant, event_slug).await? else { return Ok(0) };
    let Some(event) = store::lock_event(&mut tx, id).await? else { return Ok(0) };
    let capacity = event.capacity.unwrap_or(0);
    let start = store::occupancy(&mut tx, id).await?;
    if start != Occupancy::default() {
        return Ok(0);
    }
    for p in people {
        let status = store::occupancy(&mut tx, id).await?.next(capacity);
        let token = kernel::sha256_hex(&kernel::random_token());
        let new = NewRegistration {
            tenant,
            event: id,
            name: &p.name,
            email: &p.email,
            organisation: &p.organisation,
            status,
            token_sha256: &token,
        };
        store::insert_registration(&mut tx, &new, now).await?;
    }
    tx.commit().await?;
    Ok(people.len())
}
