//! The portal's use cases: importing the catalogue, deciding who is responsible for a citizen
//! (Zuständigkeitsfinder), and searching with the index kept fresh on every node.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use identity::model::{Tenant, TenantKind};
use kernel::audit::{self, Actor, NewEntry};
use kernel::{AppError, Kernel, TenantId};
use serde_json::json;
use tokio::sync::{Mutex, RwLock};

use crate::catalogue::{Level, Service, SituationKind, slugify};
use crate::details::Details;
use crate::exchange::{self, CatalogueFile, Entry};
use crate::search::{Document, Index, Synonyms};
use crate::store;

/// What an import did.
#[derive(Debug, PartialEq, Eq)]
pub struct ImportSummary {
    pub services: usize,
    /// Rows written: a municipal service counts once per municipality.
    pub offers: usize,
}

/// Imports a catalogue as the installation itself (demo data, `kreishaus import services`):
/// county services go to the county, municipal services to every active municipality. Existing
/// services are updated; the import is idempotent.
pub async fn import_catalogue(k: &Kernel, services: &[Service]) -> Result<ImportSummary, AppError> {
    let tenants = identity::service::public_tenants(k).await?;
    let county: Vec<TenantId> = tenants.iter().filter(|t| t.kind == TenantKind::County).map(|t| t.id).take(1).collect();
    let municipalities: Vec<TenantId> =
        tenants.iter().filter(|t| t.kind == TenantKind::Municipality).map(|t| t.id).collect();
    if county.is_empty() {
        return Err(AppError::Conflict { code: "portal.no_county" });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let mut offers = 0;
    let mut per_tenant: std::collections::BTreeMap<TenantId, usize> = Default::default();
    for s in services {
        let providers = match s.level {
            Level::County => &county,
            Level::Municipality => &municipalities,
        };
        for tenant in providers {
            store::upsert_service(&mut tx, *tenant, s, now).await?;
            *per_tenant.entry(*tenant).or_default() += 1;
            offers += 1;
        }
    }
    record_imports(&mut tx, now, &Actor::system(), per_tenant, "tsv").await?;
    tx.commit().await?;
    Ok(ImportSummary { services: services.len(), offers })
}

/// One audit entry per tenant whose catalogue an import changed.
async fn record_imports(
    tx: &mut kernel::Tx,
    now: kernel::Timestamp,
    actor: &Actor,
    per_tenant: std::collections::BTreeMap<TenantId, usize>,
    format: &str,
) -> Result<(), AppError> {
    for (tenant, count) in per_tenant {
        let details = json!({ "services": count, "format": format });
        let entry = NewEntry { tenant, actor, action: "portal.catalogue.imported", subject: "catalogue", details };
        audit::append(tx, now, entry).await?;
    }
    Ok(())
}

/// Where a citizen lives, as far as the portal knows.
#[derive(Clone, Debug)]
pub enum Residence {
    /// Not told yet.
    Unknown,
    /// A municipality of the county.
    In(Box<Tenant>),
    /// Something was given that is no municipality or postcode of the county.
    NotFound(String),
}

/// Reads the citizen's answer against the tenants: a municipality's short name, its name, or
/// one of its postcodes.
fn residence(tenants: &[Tenant], given: Option<&str>) -> Residence {
    let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else { return Residence::Unknown };
    let lower = given.to_lowercase();
    tenants
        .iter()
        .filter(|t| t.kind == TenantKind::Municipality)
        .find(|t| t.slug == lower || t.name.to_lowercase() == lower || t.postcodes.iter().any(|p| p == given))
        .map_or_else(|| Residence::NotFound(given.chars().take(60).collect()), |t| Residence::In(Box::new(t.clone())))
}

/// A municipality named in the query (`hundesteuer lindenbach`, `perso 59910`): the citizen's
/// residence, and the query without it. Only when something else is left to search for.
fn place_in_query(tenants: &[Tenant], query: &str) -> Option<(Tenant, String)> {
    let words: Vec<&str> = query.split_whitespace().collect();
    let names = |t: &Tenant| {
        let short = t.name.rsplit(' ').next().unwrap_or(&t.name).to_lowercase();
        (short, t.slug.clone())
    };
    for (i, word) in words.iter().enumerate() {
        let w = word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        let town = tenants.iter().filter(|t| t.kind == TenantKind::Municipality).find(|t| {
            let (short, slug) = names(t);
            w == short || w == slug || t.postcodes.contains(&w)
        });
        if let Some(town) = town {
            let rest: Vec<&str> = words.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, w)| *w).collect();
            if !rest.is_empty() {
                return Some((town.clone(), rest.join(" ")));
            }
        }
    }
    None
}

/// The county's municipalities, for the chooser.
pub fn municipalities(tenants: &[Tenant]) -> Vec<Tenant> {
    let mut m: Vec<Tenant> = tenants.iter().filter(|t| t.kind == TenantKind::Municipality).cloned().collect();
    m.sort_by(|a, b| a.name.cmp(&b.name));
    m
}

/// A service and who provides it for this citizen.
#[derive(Clone, Debug)]
pub struct Found {
    pub service: Service,
    /// The responsible tenant; None for a municipal service while the residence is unknown,
    /// or when the citizen's municipality does not offer it.
    pub responsible: Option<Tenant>,
}

/// The catalogue as this node knows it: the search index and who offers which service.
///
/// The index covers services and, beside them, the published news, events and pages of every
/// tenant (`content`): one build from one database fingerprint, one synonym list, two shards
/// with their own term statistics, so content never changes how services rank among
/// themselves (adr/0010-content-and-one-search.md).
pub struct Catalogue {
    pub index: Index,
    offers: HashMap<String, (Service, Vec<TenantId>)>,
    content: Index,
    items: HashMap<String, ContentItem>,
}

impl Catalogue {
    fn build(rows: Vec<(TenantId, Service)>, content: Vec<(Document, ContentItem)>, synonyms: Synonyms) -> Catalogue {
        let mut offers: HashMap<String, (Service, Vec<TenantId>)> = HashMap::new();
        for (tenant, service) in rows {
            let (known, providers) = offers.entry(service.id.clone()).or_insert_with(|| (service.clone(), Vec::new()));
            providers.push(tenant);
            // A situation one provider names belongs to the service everywhere.
            merge(&mut known.life_situations, &service.life_situations);
            merge(&mut known.business_situations, &service.business_situations);
        }
        let content_index = Index::build(&content.iter().map(|(d, _)| d.clone()).collect::<Vec<_>>(), synonyms.clone());
        let items = content.into_iter().map(|(d, item)| (d.id, item)).collect();
        let index = Index::build(&documents(&offers), synonyms);
        Catalogue { index, offers, content: content_index, items }
    }

    /// News, events and pages for a query, best first; events that have ended are left out.
    fn content_hits(&self, query: &str, now: kernel::Timestamp, limit: usize) -> Vec<(f32, ContentItem)> {
        let hits = self.content.search(query, limit * 2);
        let floor = hits.first().map_or(0.0, |h| h.score * RELEVANCE_FLOOR);
        hits.iter()
            .take_while(|h| h.score >= floor)
            .filter_map(|h| self.items.get(&h.id).map(|item| (h.score, item.clone())))
            .filter(|(_, item)| item.ends_at.is_none_or(|end| end >= now))
            .take(limit)
            .collect()
    }

    /// Who is responsible for a service for a citizen living at `residence`: county services
    /// the county, municipal services the citizen's municipality (if it offers the service).
    fn found(&self, slug: &str, residence: &Residence, tenants: &[Tenant]) -> Option<Found> {
        let (service, providers) = self.offers.get(slug)?;
        let tenant = |id: &TenantId| tenants.iter().find(|t| t.id == *id).cloned();
        let responsible = match (service.level, residence) {
            (Level::County, _) => providers.first().and_then(tenant),
            (Level::Municipality, Residence::In(m)) => providers.iter().find(|t| **t == m.id).and_then(tenant),
            (Level::Municipality, _) => None,
        };
        Some(Found { service: service.clone(), responsible })
    }
}

/// Adds the names of `more` that `names` lacks.
fn merge(names: &mut Vec<String>, more: &[String]) {
    for name in more {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
}

/// The search documents of the catalogue, in a stable order.
fn documents(offers: &HashMap<String, (Service, Vec<TenantId>)>) -> Vec<crate::search::Document> {
    let mut docs: Vec<_> = offers.values().map(|(s, _)| s.document()).collect();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    docs
}

impl Catalogue {
    /// The situations of one kind with how many services belong to each, by name.
    pub fn situations(&self, kind: SituationKind) -> Vec<Situation> {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for (service, _) in self.offers.values() {
            for name in service.situations(kind) {
                *counts.entry(name).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|(name, services)| Situation { slug: slugify(name), name: name.to_owned(), services })
            .collect()
    }
}

/// A life or business situation (Lebenslage, Unternehmenslage) and how many services it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Situation {
    pub slug: String,
    pub name: String,
    pub services: usize,
}

/// The life and business situations, for the navigation.
pub async fn situations(k: &Kernel, index: &SearchIndex, kind: SituationKind) -> Result<Vec<Situation>, AppError> {
    Ok(index.get(k).await?.situations(kind))
}

/// The services of one situation for a citizen, by name, with who is responsible for them.
pub async fn situation(
    k: &Kernel,
    index: &SearchIndex,
    kind: SituationKind,
    slug: &str,
    living_in: Option<&str>,
) -> Result<(Situation, SearchResult), AppError> {
    let (catalogue, tenants) = index.current(k).await?;
    let situation = catalogue.situations(kind).into_iter().find(|s| s.slug == slug).ok_or(AppError::NotFound)?;
    let residence = residence(&tenants, living_in);
    let mut found: Vec<Found> = catalogue
        .offers
        .values()
        .filter(|(s, _)| s.situations(kind).contains(&situation.name))
        .filter_map(|(s, _)| catalogue.found(&s.id, &residence, &tenants))
        .collect();
    found.sort_by(|a, b| a.service.name.cmp(&b.service.name));
    Ok((situation, SearchResult { residence, municipalities: municipalities(&tenants), found }))
}

/// The database version a catalogue was built from: the services' and the content's fingerprints.
type Version = ((i64, i64, i64), (i64, i64));

/// What a node searches: the catalogue, the database version it was built from, and the
/// public tenants as read at the last check.
struct Snapshot {
    version: Version,
    catalogue: Arc<Catalogue>,
    tenants: Arc<[Tenant]>,
}

/// This node's catalogue: built from the database on first use and again when it changed
/// (checked at most every few seconds, so an import on another node shows up here too). The
/// public tenants (who is responsible, the municipalities to choose from) are read again at
/// each check too, instead of on every request.
pub struct SearchIndex {
    current: RwLock<Option<Snapshot>>,
    last_check: Mutex<Option<Instant>>,
    check_every: Duration,
}

impl Default for SearchIndex {
    fn default() -> Self {
        SearchIndex { current: RwLock::new(None), last_check: Mutex::new(None), check_every: Duration::from_secs(5) }
    }
}

impl SearchIndex {
    /// The catalogue, rebuilt first when the database has a newer one.
    pub async fn get(&self, k: &Kernel) -> Result<Arc<Catalogue>, AppError> {
        Ok(self.current(k).await?.0)
    }

    /// The catalogue and the public tenants, both read again first when a check is due.
    pub async fn current(&self, k: &Kernel) -> Result<(Arc<Catalogue>, Arc<[Tenant]>), AppError> {
        let due = {
            let mut last = self.last_check.lock().await;
            let due = last.is_none_or(|t| t.elapsed() >= self.check_every);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if let (false, Some(s)) = (due, self.current.read().await.as_ref()) {
            return Ok((s.catalogue.clone(), s.tenants.clone()));
        }
        let version = (store::catalogue_version(&k.db).await?, crate::content::store::content_version(&k.db).await?);
        let tenants: Arc<[Tenant]> = identity::service::public_tenants(k).await?.into();
        let unchanged =
            self.current.read().await.as_ref().filter(|s| s.version == version).map(|s| s.catalogue.clone());
        let catalogue = match unchanged {
            Some(catalogue) => catalogue,
            None => {
                let synonyms = current_synonyms(k).await?.0;
                let content = content_documents(k, &tenants).await?;
                Arc::new(Catalogue::build(store::all_services(&k.db).await?, content, synonyms))
            }
        };
        let snapshot = Snapshot { version, catalogue: catalogue.clone(), tenants: tenants.clone() };
        *self.current.write().await = Some(snapshot);
        Ok((catalogue, tenants))
    }

    /// Forgets the catalogue, so the next request rebuilds it (after a change on this node).
    pub async fn invalidate(&self) {
        *self.current.write().await = None;
        *self.last_check.lock().await = None;
    }
}

/// Results scoring below this share of the best result are not shown.
const RELEVANCE_FLOOR: f32 = 0.25;

/// The answer to a search: the residence as understood, the municipalities to choose from, and
/// the services, best first.
pub struct SearchResult {
    pub residence: Residence,
    pub municipalities: Vec<Tenant>,
    pub found: Vec<Found>,
}

/// Searches the catalogue for a citizen. Services their municipality does not offer move
/// behind those it does.
pub async fn search(
    k: &Kernel,
    index: &SearchIndex,
    query: &str,
    living_in: Option<&str>,
    limit: usize,
) -> Result<SearchResult, AppError> {
    let (catalogue, tenants) = index.current(k).await?;
    Ok(rank(&catalogue, &tenants, query, living_in, limit.clamp(1, 100)).0)
}

/// The services for a query, as [`search`] finds them, and the hits of the service index with
/// their scores; None when a municipality named in the query was taken out of it first.
fn rank(
    catalogue: &Catalogue,
    tenants: &[Tenant],
    query: &str,
    living_in: Option<&str>,
    limit: usize,
) -> (SearchResult, Option<Vec<crate::search::Hit>>) {
    let (residence, rest) = match residence(tenants, living_in) {
        Residence::Unknown => match place_in_query(tenants, query) {
            Some((town, rest)) => (Residence::In(Box::new(town)), Some(rest)),
            None => (Residence::Unknown, None),
        },
        known => (known, None),
    };
    let hits = catalogue.index.search(rest.as_deref().unwrap_or(query), limit * 2);
    // Results far behind the best match only a generic word (`beantragen`): leave them out.
    let floor = hits.first().map_or(0.0, |h| h.score * RELEVANCE_FLOOR);
    let mut found: Vec<Found> = hits
        .iter()
        .take_while(|h| h.score >= floor)
        .filter_map(|h| catalogue.found(&h.id, &residence, tenants))
        .collect();
    if let Residence::In(_) = residence {
        found.sort_by_key(|f| f.responsible.is_none());
    }
    found.truncate(limit);
    let result = SearchResult { residence, municipalities: municipalities(tenants), found };
    (result, rest.is_none().then_some(hits))
}

/// What kind of thing a search hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = SearchHitKind)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Service,
    News,
    Event,
    Page,
}

impl Kind {
    /// The message key of its name (`Leistung`, `Nachricht`, …).
    pub fn label_key(self) -> &'static str {
        match self {
            Kind::Service => "content.kind.service",
            Kind::News => "content.kind.news",
            Kind::Event => "content.kind.event",
            Kind::Page => "content.kind.page",
        }
    }
}

/// A news item, event or page as the search shows it.
#[derive(Clone, Debug)]
pub struct ContentItem {
    pub kind: Kind,
    pub title: String,
    pub summary: String,
    /// The page's address on the portal.
    pub url: String,
    /// The publishing tenant's name and short name.
    pub tenant: String,
    pub tenant_slug: String,
    /// When it happens (events) or was published (news).
    pub date: String,
    /// Events drop out of the results once they are over.
    pub ends_at: Option<kernel::Timestamp>,
}

/// The published content of every tenant as search documents.
async fn content_documents(k: &Kernel, tenants: &[Tenant]) -> Result<Vec<(Document, ContentItem)>, AppError> {
    use crate::content::model::{category_name, event_when, german_day};
    let name = |id: TenantId| tenants.iter().find(|t| t.id == id).map(|t| t.name.clone()).unwrap_or_default();
    let short = |id: TenantId| tenants.iter().find(|t| t.id == id).map(|t| t.slug.clone()).unwrap_or_default();
    let (news, events) = crate::content::store::searchable(&k.db).await?;
    let pages = crate::content::store::published_pages(&k.db).await?;
    let mut docs = Vec::new();
    for n in news {
        let item = ContentItem {
            kind: Kind::News,
            title: n.title.clone(),
            summary: n.summary.clone(),
            url: format!("/aktuelles/{}", n.id),
            tenant: name(n.tenant),
            tenant_slug: short(n.tenant),
            date: n.published_at.map(german_day).unwrap_or_default(),
            ends_at: None,
        };
        let doc = Document { id: format!("news:{}", n.id), name: n.title, summary: n.summary, keywords: vec![n.body] };
        docs.push((doc, item));
    }
    for e in events {
        let item = ContentItem {
            kind: Kind::Event,
            title: e.title.clone(),
            summary: e.summary.clone(),
            url: format!("/veranstaltungen/{}", e.id),
            tenant: name(e.tenant),
            tenant_slug: short(e.tenant),
            date: event_when(e.starts_at, e.ends_at),
            ends_at: Some(e.ends_at),
        };
        let keywords = vec![category_name(&e.category).to_owned(), e.place, e.body];
        let doc = Document { id: format!("event:{}", e.id), name: e.title, summary: e.summary, keywords };
        docs.push((doc, item));
    }
    for p in pages {
        let tenant = tenants.iter().find(|t| t.id == p.tenant);
        let summary: String = p.body.chars().take(200).collect();
        let item = ContentItem {
            kind: Kind::Page,
            title: p.title.clone(),
            summary: summary.clone(),
            url: crate::http::page_url(&p.slug, tenant),
            tenant: name(p.tenant),
            tenant_slug: short(p.tenant),
            date: String::new(),
            ends_at: None,
        };
        let doc = Document { id: format!("page:{}", p.id), name: p.title, summary, keywords: vec![p.body] };
        docs.push((doc, item));
    }
    Ok(docs)
}

/// News, events and pages of every tenant that answer a query, best first.
pub async fn search_content(
    k: &Kernel,
    index: &SearchIndex,
    query: &str,
    limit: usize,
) -> Result<Vec<ContentItem>, AppError> {
    let catalogue = index.get(k).await?;
    Ok(catalogue.content_hits(query, k.clock.now(), limit.clamp(1, 100)).into_iter().map(|(_, item)| item).collect())
}

/// One hit of the search over everything.
#[derive(Clone, Debug)]
pub enum AnyHit {
    Service(Box<Found>),
    Content(ContentItem),
}

/// The search over everything: services (ranked as by [`search`], responsible tenant
/// included) and news, events and pages, merged by score.
pub async fn search_everything(
    k: &Kernel,
    index: &SearchIndex,
    query: &str,
    living_in: Option<&str>,
    limit: usize,
) -> Result<(SearchResult, Vec<AnyHit>), AppError> {
    let limit = limit.clamp(1, 100);
    let (catalogue, tenants) = index.current(k).await?;
    let (result, hits) = rank(&catalogue, &tenants, query, living_in, limit);
    // Services are merged by their score for the whole query, the town in it included.
    let service_scores = hits.unwrap_or_else(|| catalogue.index.search(query, limit * 2));
    let score_of = |id: &str| service_scores.iter().find(|h| h.id == id).map_or(0.0, |h| h.score);
    let content = catalogue.content_hits(query, k.clock.now(), limit);
    // Services keep their order; content slots in by score.
    let mut merged: Vec<(f32, AnyHit)> = Vec::new();
    let mut running = f32::INFINITY;
    for f in &result.found {
        running = running.min(score_of(&f.service.id));
        merged.push((running, AnyHit::Service(Box::new(f.clone()))));
    }
    merged.extend(content.into_iter().map(|(score, item)| (score, AnyHit::Content(item))));
    merged.sort_by(|a, b| b.0.total_cmp(&a.0));
    merged.truncate(limit);
    Ok((result, merged.into_iter().map(|(_, h)| h).collect()))
}

/// One service for a citizen, with who is responsible for them.
pub async fn service(
    k: &Kernel,
    index: &SearchIndex,
    slug: &str,
    living_in: Option<&str>,
) -> Result<(Found, SearchResult), AppError> {
    let (catalogue, tenants) = index.current(k).await?;
    let residence = residence(&tenants, living_in);
    let found = catalogue.found(slug, &residence, &tenants).ok_or(AppError::NotFound)?;
    Ok((found, SearchResult { residence, municipalities: municipalities(&tenants), found: Vec::new() }))
}

/// Edit the service catalogue of a tenant (Redaktion, Administration).
#[derive(Debug)]
pub struct EditCatalogue;
impl identity::Permission for EditCatalogue {
    const ROLES: &'static [identity::Role] = &[identity::Role::Editor, identity::Role::Administrator];
}

/// A tenant's services with their details, for the editor and its maturity overview.
pub async fn tenant_services(
    k: &Kernel,
    proof: &identity::Authorized<EditCatalogue>,
) -> Result<Vec<(Service, Details)>, AppError> {
    Ok(store::services_of(&k.db, proof.tenant()).await?)
}

/// One service of the tenant with its details, for the editor.
pub async fn tenant_service(
    k: &Kernel,
    proof: &identity::Authorized<EditCatalogue>,
    slug: &str,
) -> Result<(Service, Details), AppError> {
    store::service_details(&k.db, proof.tenant(), slug).await?.ok_or(AppError::NotFound)
}

/// Saves an editor's changes: name and summary must be there, the online link must be a web
/// address, the office must be one of the tenant's. The search picks the change up.
pub async fn save_service(
    k: &Kernel,
    index: &SearchIndex,
    proof: &identity::Authorized<EditCatalogue>,
    service: &Service,
    d: &Details,
) -> Result<(), AppError> {
    let mut fields: Vec<kernel::FieldError> = exchange::problems(service, d)
        .into_iter()
        .map(|(field, code)| kernel::FieldError { field: field.to_owned(), code })
        .collect();
    if let Some(unit) = d.org_unit {
        let units = identity::service::org_units(k, proof.tenant()).await?;
        if !units.iter().any(|u| u.id == unit) {
            fields.push(kernel::FieldError { field: "org_unit".into(), code: "portal.unit_unknown" });
        }
    }
    if !fields.is_empty() {
        return Err(AppError::Invalid { code: "invalid", fields });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if store::update_service(&mut tx, proof.tenant(), service, d, now).await? == 0 {
        return Err(AppError::NotFound);
    }
    let entry = NewEntry {
        tenant: proof.tenant(),
        actor: proof.actor(),
        action: "portal.service.updated",
        subject: &format!("service:{}", service.id),
        details: json!({ "name": service.name, "fees": d.fees.len() }),
    };
    audit::append(&mut tx, now, entry).await?;
    tx.commit().await?;
    index.invalidate().await;
    Ok(())
}

/// The synonym list that applies (the Redaktion's newest, else the built-in one), its text and
/// when it was saved (None for the built-in list).
async fn current_synonyms(k: &Kernel) -> Result<(Synonyms, String, Option<kernel::Timestamp>), AppError> {
    Ok(match store::latest_synonyms(&k.db).await? {
        // A saved list was checked when it was saved.
        Some(saved) => (Synonyms::parse(&saved.rules).unwrap_or_default(), saved.rules, Some(saved.saved_at)),
        None => (Synonyms::default_list(), crate::search::synonyms::DEFAULT.to_owned(), None),
    })
}

/// Maintain the search's synonym list: the Redaktion or administration of the county, whose
/// search covers every tenant.
#[derive(Debug)]
pub struct EditSynonyms;
impl identity::Permission for EditSynonyms {
    const ROLES: &'static [identity::Role] = &[identity::Role::Editor, identity::Role::Administrator];
}

/// The county, whose Redaktion maintains what all tenants share.
pub async fn county(k: &Kernel) -> Result<Tenant, AppError> {
    let tenants = identity::service::public_tenants(k).await?;
    tenants.into_iter().find(|t| t.kind == TenantKind::County).ok_or(AppError::NotFound)
}

fn county_only(county: &Tenant, proof: &identity::Authorized<EditSynonyms>) -> Result<(), AppError> {
    if proof.tenant() == county.id { Ok(()) } else { Err(AppError::Forbidden) }
}

/// The synonym list as text and when it was saved (None: the built-in list).
pub async fn synonym_list(
    k: &Kernel,
    proof: &identity::Authorized<EditSynonyms>,
) -> Result<(String, Option<kernel::Timestamp>), AppError> {
    county_only(&county(k).await?, proof)?;
    let (_, text, saved_at) = current_synonyms(k).await?;
    Ok((text, saved_at))
}

/// What a search finds with a synonym list that is not saved yet: the editor's test.
pub async fn search_with_synonyms(
    k: &Kernel,
    index: &SearchIndex,
    proof: &identity::Authorized<EditSynonyms>,
    synonyms: Synonyms,
    query: &str,
) -> Result<Vec<Service>, AppError> {
    county_only(&county(k).await?, proof)?;
    let catalogue = index.get(k).await?;
    let trial = Index::build(&documents(&catalogue.offers), synonyms);
    Ok(trial.search(query, 5).iter().filter_map(|h| catalogue.offers.get(&h.id).map(|(s, _)| s.clone())).collect())
}

/// Saves a new version of the synonym list; every search node picks it up.
pub async fn save_synonyms(
    k: &Kernel,
    index: &SearchIndex,
    proof: &identity::Authorized<EditSynonyms>,
    rules: &str,
) -> Result<(), AppError> {
    county_only(&county(k).await?, proof)?;
    let parsed = Synonyms::parse(rules).map_err(|e| AppError::Invalid {
        code: "invalid",
        fields: vec![kernel::FieldError { field: "rules".into(), code: e.code }],
    })?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::save_synonyms(&mut tx, rules, proof.staff(), now).await?;
    let entry = NewEntry {
        tenant: proof.tenant(),
        actor: proof.actor(),
        action: "portal.synonyms.saved",
        subject: "synonyms",
        details: json!({ "rules": parsed.len() }),
    };
    audit::append(&mut tx, now, entry).await?;
    tx.commit().await?;
    index.invalidate().await;
    Ok(())
}

/// The details of a service as the responsible tenant describes them, with its office.
pub async fn details_for(
    k: &Kernel,
    found: &Found,
) -> Result<Option<(Details, Option<identity::model::OrgUnit>)>, AppError> {
    let Some(tenant) = &found.responsible else { return Ok(None) };
    let Some((_, d)) = store::service_details(&k.db, tenant.id, &found.service.id).await? else { return Ok(None) };
    let office = match d.org_unit {
        Some(unit) => identity::service::org_units(k, tenant.id).await?.into_iter().find(|u| u.id == unit),
        None => None,
    };
    Ok(Some((d, office)))
}

/// The whole catalogue, or one tenant's part of it, as a file. Everything in it is public on the
/// service pages already.
pub async fn export_catalogue(k: &Kernel, only: Option<&Tenant>) -> Result<CatalogueFile, AppError> {
    let tenants = identity::service::public_tenants(k).await?;
    let mut services = Vec::new();
    for tenant in tenants.iter().filter(|t| only.is_none_or(|o| o.id == t.id)) {
        let units = identity::service::org_units(k, tenant.id).await?;
        for (s, d) in store::services_of(&k.db, tenant.id).await? {
            let office = d.org_unit.and_then(|id| units.iter().find(|u| u.id == id)).map(|u| u.name.clone());
            services.push(Entry::new(&tenant.slug, s, d, office));
        }
    }
    services.sort_by(|a, b| (&a.id, &a.tenant).cmp(&(&b.id, &b.tenant)));
    Ok(CatalogueFile {
        format: exchange::FORMAT.into(),
        version: exchange::VERSION,
        exported_at: k.clock.now(),
        services,
    })
}

/// Who imports a catalogue file: the installation (every tenant) or one tenant's Redaktion
/// (its own entries only).
pub enum Importer<'a> {
    Installation,
    Redaktion(&'a identity::Authorized<EditCatalogue>),
}

/// What an import of a catalogue file did.
#[derive(Debug, PartialEq, Eq)]
pub struct FileImport {
    pub added: usize,
    pub updated: usize,
}

/// A problem of one entry of an imported file: `services[3].leika`.
fn entry_error(index: usize, field: &str, code: &'static str) -> kernel::FieldError {
    kernel::FieldError { field: format!("services[{index}].{field}"), code }
}

/// Imports a catalogue file in one transaction: every entry is checked by the editor's rules
/// first, and nothing is written when one is wrong. A municipality's entries are municipal
/// services, every other tenant's are county-wide.
pub async fn import_file(
    k: &Kernel,
    index: &SearchIndex,
    importer: Importer<'_>,
    file: &CatalogueFile,
) -> Result<FileImport, AppError> {
    let tenants = identity::service::public_tenants(k).await?;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut units_of: HashMap<TenantId, Vec<identity::model::OrgUnit>> = HashMap::new();
    for (i, entry) in file.services.iter().enumerate() {
        let Some(tenant) = tenants.iter().find(|t| t.slug == entry.tenant) else {
            errors.push(entry_error(i, "tenant", "portal.import_tenant_unknown"));
            continue;
        };
        if let Importer::Redaktion(proof) = &importer
            && proof.tenant() != tenant.id
        {
            errors.push(entry_error(i, "tenant", "portal.import_other_tenant"));
            continue;
        }
        let expected = if tenant.kind == TenantKind::Municipality { Level::Municipality } else { Level::County };
        if entry.level != expected {
            errors.push(entry_error(i, "level", "portal.import_level"));
        }
        let (service, mut details) = entry.parts();
        errors.extend(exchange::problems(&service, &details).into_iter().map(|(f, code)| entry_error(i, f, code)));
        if let Some(office) = &entry.office {
            if let std::collections::hash_map::Entry::Vacant(slot) = units_of.entry(tenant.id) {
                slot.insert(identity::service::org_units(k, tenant.id).await?);
            }
            let units = units_of.get(&tenant.id).map(Vec::as_slice).unwrap_or_default();
            match units.iter().find(|u| &u.name == office || &u.code == office) {
                Some(unit) => details.org_unit = Some(unit.id),
                None => errors.push(entry_error(i, "office", "portal.unit_unknown")),
            }
        }
        rows.push((tenant.id, service, details));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid { code: "portal.import_invalid", fields: errors });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let mut result = FileImport { added: 0, updated: 0 };
    let mut per_tenant: std::collections::BTreeMap<TenantId, usize> = Default::default();
    for (tenant, service, details) in &rows {
        if store::put_service(&mut tx, *tenant, service, details, now).await? {
            result.added += 1;
        } else {
            result.updated += 1;
        }
        *per_tenant.entry(*tenant).or_default() += 1;
    }
    let actor = match &importer {
        Importer::Installation => Actor::system(),
        Importer::Redaktion(proof) => proof.actor().clone(),
    };
    record_imports(&mut tx, now, &actor, per_tenant, exchange::FORMAT).await?;
    tx.commit().await?;
    index.invalidate().await;
    Ok(result)
}

/// A service as one tenant describes it, as an XZuFi 2.2 `leistung` (public data). Without a
/// tenant, the only provider's entry; a municipal service needs the municipality.
pub async fn xzufi_export(k: &Kernel, slug: &str, tenant: Option<&str>) -> Result<String, AppError> {
    let providers = store::providers(&k.db, slug).await?;
    let tenants = identity::service::public_tenants(k).await?;
    let provider = match tenant {
        Some(t) => tenants.iter().find(|x| x.slug == t).ok_or(AppError::NotFound)?,
        None if providers.len() == 1 => tenants.iter().find(|x| x.id == providers[0].0).ok_or(AppError::NotFound)?,
        None if providers.is_empty() => return Err(AppError::NotFound),
        None => return Err(AppError::invalid("portal.tenant_required", "tenant")),
    };
    let (service, details) = store::service_details(&k.db, provider.id, slug).await?.ok_or(AppError::NotFound)?;
    let issuer = crate::xzufi::Issuer { scheme_agency: provider.ags.as_deref().unwrap_or(&provider.slug) };
    crate::xzufi::leistung(&issuer, &service, &details).map_err(|e| AppError::Internal(e.to_string()))
}

/// Whether a tenant offers a service of the catalogue (forms attach only to those).
pub async fn offers(k: &Kernel, tenant: TenantId, slug: &str) -> Result<bool, AppError> {
    Ok(store::service_details(&k.db, tenant, slug).await?.is_some())
}

/// Links a service to the platform's online form for it (its OZG maturity becomes "online
/// form"), or unlinks it with an empty path; in the caller's transaction.
pub async fn set_platform_form(tx: &mut kernel::Tx, tenant: TenantId, slug: &str, path: &str) -> Result<(), AppError> {
    store::set_platform_form(tx, tenant, slug, path).await?;
    Ok(())
}

/// A tenant's services as (id, name), by name: for choosing the service a form applies for.
pub async fn tenant_service_names(k: &Kernel, tenant: TenantId) -> Result<Vec<(String, String)>, AppError> {
    Ok(store::services_of(&k.db, tenant).await?.into_iter().map(|(s, _)| (s.id, s.name)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> String {
        let path = format!("{}/../../../shared/testdata/search/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    }

    fn content_item(kind: Kind, title: &str) -> ContentItem {
        ContentItem {
            kind,
            title: title.into(),
            summary: String::new(),
            url: String::new(),
            tenant: String::new(),
            tenant_slug: String::new(),
            date: String::new(),
            ends_at: None,
        }
    }

    #[test]
    fn content_in_the_index_never_changes_how_services_rank() {
        let services = crate::catalogue::parse_services(&testdata("services.tsv")).expect("parses");
        let queries = crate::catalogue::parse_queries(&testdata("queries.tsv")).expect("parses");
        let rows: Vec<(TenantId, Service)> = services.into_iter().map(|s| (TenantId(1), s)).collect();
        // Content that shares the services' words: it must not shift their statistics.
        let content: Vec<(Document, ContentItem)> = [
            ("news:1", "Personalausweis und Reisepass: längere Wartezeiten", "Bürgerbüro Ausweis Pass beantragen"),
            ("news:2", "Wohngeld-Reform", "Mehr Haushalte bekommen Wohngeld Miete Zuschuss"),
            ("event:1", "Fahrzeug zulassen leicht gemacht", "Kfz Zulassung Auto anmelden abmelden Kennzeichen"),
            ("page:1", "Impressum", "Kreis Auenthal Kreishausplatz Landrat"),
        ]
        .iter()
        .map(|(id, name, text)| {
            let doc = Document { id: (*id).into(), name: (*name).into(), summary: (*text).into(), keywords: vec![] };
            (doc, content_item(Kind::News, name))
        })
        .collect();
        let alone = Catalogue::build(rows.clone(), Vec::new(), Synonyms::default_list());
        let with_content = Catalogue::build(rows, content, Synonyms::default_list());
        for q in &queries {
            assert_eq!(alone.index.search(&q.text, 10), with_content.index.search(&q.text, 10), "{}", q.text);
        }
        let now = kernel::Timestamp::from_millis(0);
        let hits = with_content.content_hits("wohngeld", now, 5);
        assert_eq!(hits.first().map(|(_, c)| c.title.as_str()), Some("Wohngeld-Reform"));
    }
}
