//! The Redaktion's editor of news, events and pages at `/verwaltung/inhalte`, with publishing
//! and the participant list of an event (HTML and CSV).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::http::StaffUser;
use identity::model::Tenant;
use identity::{Authorized, Staff};
use kernel::AppError;
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::PortalCtx;
use crate::content::model::{
    CATEGORIES, EventDraft, NewsDraft, PageDraft, Publishable, Registration, Status, category_message, event_when,
    participants_csv,
};
use crate::content::service::{self, EditContent, Overview};

async fn editable(ctx: &PortalCtx, staff: &Staff, slug: &str) -> Result<(Tenant, Authorized<EditContent>), AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, slug).await?;
    let proof = staff.authorize::<EditContent>(tenant.id)?;
    Ok((tenant, proof))
}

#[derive(Template)]
#[template(path = "content/editor_tenants.html")]
struct TenantsPage {
    chrome: Chrome,
    tenants: Vec<Tenant>,
}

/// `GET /verwaltung/inhalte`: the tenants whose content this member of staff may edit.
pub async fn tenants(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    let tenants = service::editable_tenants(&staff, identity::service::public_tenants(&ctx.kernel).await?);
    if tenants.is_empty() {
        return Err(AppError::Forbidden);
    }
    Ok(page(&TenantsPage { chrome, tenants }))
}

#[derive(Template)]
#[template(path = "content/editor_overview.html")]
struct OverviewPage {
    chrome: Chrome,
    tenant: Tenant,
    overview: Overview,
}

impl OverviewPage {
    fn when(&self, e: &crate::content::model::Event) -> String {
        event_when(e.starts_at, e.ends_at)
    }
}

/// `GET /verwaltung/inhalte/{tenant}`
pub async fn overview(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let overview = service::overview(&ctx.kernel, &proof).await?;
    Ok(page(&OverviewPage { chrome, tenant, overview }))
}

/// The kind of item an editor page is about, from the address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    News,
    Event,
    Page,
}

impl ItemKind {
    fn from_path(s: &str) -> Result<ItemKind, AppError> {
        match s {
            "aktuelles" => Ok(ItemKind::News),
            "veranstaltungen" => Ok(ItemKind::Event),
            "seiten" => Ok(ItemKind::Page),
            _ => Err(AppError::NotFound),
        }
    }

    fn path(self) -> &'static str {
        match self {
            ItemKind::News => "aktuelles",
            ItemKind::Event => "veranstaltungen",
            ItemKind::Page => "seiten",
        }
    }

    fn publishable(self) -> Publishable {
        match self {
            ItemKind::News => Publishable::News,
            ItemKind::Event => Publishable::Event,
            ItemKind::Page => Publishable::Page,
        }
    }

    fn heading_key(self) -> &'static str {
        match self {
            ItemKind::News => "content.news_item",
            ItemKind::Event => "content.event",
            ItemKind::Page => "content.page",
        }
    }
}

/// What the form holds: one draft of the kind.
enum Draft {
    News(NewsDraft),
    Event(EventDraft),
    Page(PageDraft),
}

#[derive(Template)]
#[template(path = "content/editor_item.html")]
struct ItemPage {
    chrome: Chrome,
    tenant: Tenant,
    kind: ItemKind,
    /// None: a new item.
    id: Option<i64>,
    published: bool,
    /// The public address, once saved.
    public_url: String,
    draft: Draft,
    errors: FormErrors,
    preview: Option<String>,
}

impl ItemPage {
    fn action(&self) -> String {
        let id = self.id.map_or_else(|| "neu".to_owned(), |id| id.to_string());
        format!("/verwaltung/inhalte/{}/{}/{id}", self.tenant.slug, self.kind.path())
    }

    fn publish_action(&self) -> String {
        format!(
            "/verwaltung/inhalte/{}/{}/{}/veroeffentlichen",
            self.tenant.slug,
            self.kind.path(),
            self.id.unwrap_or(0)
        )
    }

    fn news(&self) -> Option<&NewsDraft> {
        if let Draft::News(d) = &self.draft { Some(d) } else { None }
    }

    fn event(&self) -> Option<&EventDraft> {
        if let Draft::Event(d) = &self.draft { Some(d) } else { None }
    }

    fn content_page(&self) -> Option<&PageDraft> {
        if let Draft::Page(d) = &self.draft { Some(d) } else { None }
    }

    fn categories(&self) -> Vec<(&'static str, &'static str)> {
        CATEGORIES.iter().map(|(k, _)| (*k, category_message(k))).collect()
    }

    fn takes_registrations(&self) -> bool {
        self.event().is_some_and(|e| !e.capacity.is_empty())
    }

    fn participants_url(&self) -> String {
        format!("/verwaltung/inhalte/{}/teilnehmende/{}", self.tenant.slug, self.id.unwrap_or(0))
    }
}

fn public_url(kind: ItemKind, tenant: &Tenant, id: i64, slug: &str) -> String {
    match kind {
        ItemKind::News => format!("/aktuelles/{id}"),
        ItemKind::Event => format!("/veranstaltungen/{id}"),
        ItemKind::Page => super::page_url(slug, Some(tenant)),
    }
}

/// `GET /verwaltung/inhalte/{tenant}/{kind}/{id}` (`neu` for a new one)
pub async fn edit(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, kind, id)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let kind = ItemKind::from_path(&kind)?;
    let id = parse_id(&id)?;
    let k = &ctx.kernel;
    let (draft, published, item_slug) = match (kind, id) {
        (ItemKind::News, None) => (Draft::News(NewsDraft::default()), false, String::new()),
        (ItemKind::Event, None) => {
            (Draft::Event(EventDraft { category: "kultur".into(), ..Default::default() }), false, String::new())
        }
        (ItemKind::Page, None) => (Draft::Page(PageDraft::default()), false, String::new()),
        (ItemKind::News, Some(id)) => {
            let n = service::editable_news(k, &proof, id).await?;
            let d = NewsDraft { slug: n.slug.clone(), title: n.title, summary: n.summary, body: n.body };
            (Draft::News(d), n.published_at.is_some(), n.slug)
        }
        (ItemKind::Event, Some(id)) => {
            let e = service::editable_event(k, &proof, id).await?;
            (Draft::Event(EventDraft::of(&e)), e.published_at.is_some(), e.slug)
        }
        (ItemKind::Page, Some(id)) => {
            let p = service::editable_page(k, &proof, id).await?;
            let d = PageDraft { slug: p.slug.clone(), title: p.title, body: p.body };
            (Draft::Page(d), p.published_at.is_some(), p.slug)
        }
    };
    let public_url = id.map(|id| public_url(kind, &tenant, id, &item_slug)).unwrap_or_default();
    Ok(page(&ItemPage {
        chrome,
        tenant,
        kind,
        id,
        published,
        public_url,
        draft,
        errors: FormErrors::none(),
        preview: None,
    }))
}

fn parse_id(id: &str) -> Result<Option<i64>, AppError> {
    if id == "neu" { Ok(None) } else { id.parse().map(Some).map_err(|_| AppError::NotFound) }
}

/// `POST /verwaltung/inhalte/{tenant}/{kind}/{id}`: `aktion=vorschau` shows the text as
/// citizens will see it; `aktion=speichern` saves (a new item as a draft).
pub async fn save(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, kind, id)): Path<(String, String, String)>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let kind = ItemKind::from_path(&kind)?;
    let id = parse_id(&id)?;
    let text = |name: &str| field(&f, name).to_owned();
    // Markdown keeps its line breaks and indentation: take the body as sent.
    let body = f.iter().find(|(k, _)| k == "body").map(|(_, v)| v.replace("\r\n", "\n")).unwrap_or_default();
    let draft = match kind {
        ItemKind::News => {
            Draft::News(NewsDraft { slug: text("slug"), title: text("title"), summary: text("summary"), body })
        }
        ItemKind::Event => Draft::Event(EventDraft {
            slug: text("slug"),
            title: text("title"),
            summary: text("summary"),
            body,
            category: text("category"),
            place: text("place"),
            starts: text("starts"),
            ends: text("ends"),
            capacity: text("capacity"),
        }),
        ItemKind::Page => Draft::Page(PageDraft { slug: text("slug"), title: text("title"), body }),
    };
    let published = field(&f, "published") == "1";
    let shown = |chrome, draft, errors, preview| {
        let public_url = String::new();
        ItemPage { chrome, tenant: tenant.clone(), kind, id, published, public_url, draft, errors, preview }
    };
    if field(&f, "aktion") == "vorschau" {
        let markdown = match &draft {
            Draft::News(d) => &d.body,
            Draft::Event(d) => &d.body,
            Draft::Page(d) => &d.body,
        };
        let preview = Some(crate::details::markdown_html(markdown));
        return Ok(page(&shown(chrome, draft, FormErrors::none(), preview)));
    }
    let (k, index, base) = (&ctx.kernel, &ctx.index, ctx.public_url.trim_end_matches('/'));
    let result = match &draft {
        Draft::News(d) => service::save_news(k, index, &proof, id, d).await,
        Draft::Event(d) => service::save_event(k, index, base, &proof, id, d).await,
        Draft::Page(d) => service::save_page(k, index, &proof, id, d).await,
    };
    match result {
        Ok(saved) => Ok(redirect_with_flash(
            &format!("/verwaltung/inhalte/{}/{}/{saved}", tenant.slug, kind.path()),
            FlashKind::Success,
            "content.saved",
            None,
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &shown(chrome, draft, errors, None)))
        }
        Err(e) => Err(e),
    }
}

/// `POST /verwaltung/inhalte/{tenant}/{kind}/{id}/veroeffentlichen`: `aktion=veroeffentlichen`
/// or `aktion=zurueckziehen`.
pub async fn publish(
    State(ctx): State<PortalCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, kind, id)): Path<(String, String, i64)>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let kind = ItemKind::from_path(&kind)?;
    let public = field(&f, "aktion") == "veroeffentlichen";
    service::publish(&ctx.kernel, &ctx.index, &proof, kind.publishable(), id, public).await?;
    let key = if public { "content.published" } else { "content.withdrawn" };
    Ok(redirect_with_flash(
        &format!("/verwaltung/inhalte/{}/{}/{id}", tenant.slug, kind.path()),
        FlashKind::Success,
        key,
        None,
    ))
}

#[derive(Template)]
#[template(path = "content/participants.html")]
struct ParticipantsPage {
    chrome: Chrome,
    tenant: Tenant,
    event: crate::content::model::Event,
    when: String,
    list: Vec<Registration>,
}

impl ParticipantsPage {
    fn status_key(&self, r: &Registration) -> &'static str {
        match r.status {
            Status::Confirmed => "content.status.confirmed",
            Status::Waiting => "content.status.waiting",
            Status::Cancelled => "content.status.cancelled",
        }
    }

    fn count(&self, status: Status) -> usize {
        self.list.iter().filter(|r| r.status == status).count()
    }

    fn confirmed(&self) -> usize {
        self.count(Status::Confirmed)
    }

    fn waiting(&self) -> usize {
        self.count(Status::Waiting)
    }
}

/// `GET /verwaltung/inhalte/{tenant}/teilnehmende/{event}` (HTML) and
/// `…/teilnehmende/{event}.csv` (the spreadsheet).
pub async fn participants(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let (id, csv) = match file.strip_suffix(".csv") {
        Some(id) => (id, true),
        None => (file.as_str(), false),
    };
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let (event, list) = service::participants(&ctx.kernel, &proof, id, if csv { "csv" } else { "page" }).await?;
    if csv {
        let name = format!("attachment; filename=\"teilnehmende-{}.csv\"", event.slug);
        let headers =
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, name)];
        return Ok((headers, participants_csv(&list)).into_response());
    }
    let when = event_when(event.starts_at, event.ends_at);
    Ok(page(&ParticipantsPage { chrome, tenant, event, when, list }))
}
