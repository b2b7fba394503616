//! The public open data pages: every published dataset (`/daten`, with a text search), one
//! publisher's (`/daten/{tenant}`), one dataset with its distributions, and file downloads.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use identity::model::Tenant;
use kernel::AppError;
use serde::Deserialize;
use web::{Chrome, page};

use super::OpendataCtx;
use crate::model::{self, Dataset, DistributionKind};
use crate::service;

/// A dataset in a list, with its publisher.
pub struct Entry {
    pub set: Dataset,
    pub tenant: Tenant,
}

impl Entry {
    pub fn formats(&self) -> String {
        let mut f: Vec<&str> = self.set.distributions.iter().map(|d| d.format.as_str()).collect();
        f.sort_unstable();
        f.dedup();
        f.join(", ")
    }

    pub fn excerpt(&self) -> String {
        let d = &self.set.meta.description;
        if d.chars().count() > 240 {
            format!("{} …", d.chars().take(240).collect::<String>().trim_end())
        } else {
            d.clone()
        }
    }
}

#[derive(Template)]
#[template(path = "opendata/index.html")]
struct IndexPage {
    chrome: Chrome,
    heading: String,
    q: String,
    action: String,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn matches(set: &Dataset, q: &str) -> bool {
    let q = q.to_lowercase();
    q.split_whitespace().all(|w| {
        set.meta.title.to_lowercase().contains(w)
            || set.meta.description.to_lowercase().contains(w)
            || set.meta.keywords.iter().any(|k| k.to_lowercase().contains(w))
    })
}

async fn listing(ctx: &OpendataCtx, only: Option<&Tenant>, q: &str) -> Result<Vec<Entry>, AppError> {
    let tenants = identity::service::public_tenants(&ctx.kernel).await?;
    let sets = service::published_cached(&ctx.kernel, &ctx.cache).await?;
    let mut entries: Vec<Entry> = sets
        .iter()
        .filter(|s| only.is_none_or(|t| t.id == s.tenant) && matches(s, q))
        .cloned()
        .filter_map(|set| Some(Entry { tenant: tenants.iter().find(|t| t.id == set.tenant)?.clone(), set }))
        .collect();
    entries.sort_by_key(|e| e.set.meta.title.to_lowercase());
    Ok(entries)
}

/// `GET /daten`
pub async fn index(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let q = q.q.trim().chars().take(200).collect::<String>();
    let entries = listing(&ctx, None, &q).await?;
    let heading = chrome.t("opendata.portal").to_owned();
    Ok(page(&IndexPage { chrome, heading, q, action: "/daten".into(), entries }))
}

/// `GET /daten/{tenant}`
pub async fn publisher(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    Path(slug): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, &slug).await?;
    if !tenant.active {
        return Err(AppError::NotFound);
    }
    let q = q.q.trim().chars().take(200).collect::<String>();
    let entries = listing(&ctx, Some(&tenant), &q).await?;
    let heading = format!("{} – {}", chrome.t("opendata.portal"), tenant.name);
    Ok(page(&IndexPage { chrome, heading, q, action: format!("/daten/{slug}"), entries }))
}

#[derive(Template)]
#[template(path = "opendata/dataset.html")]
struct DatasetPage {
    chrome: Chrome,
    tenant: Tenant,
    set: Dataset,
}

impl DatasetPage {
    fn theme_names(&self) -> String {
        let en = self.chrome.lang_code() == "en";
        let names: Vec<&str> = self
            .set
            .meta
            .themes
            .iter()
            .filter_map(|c| model::THEMES.iter().find(|t| t.code == c))
            .map(|t| if en { t.en } else { t.de })
            .collect();
        names.join(", ")
    }

    fn licence_title(&self) -> &str {
        model::licence(&self.set.meta.licence).map_or("", |l| l.title)
    }

    fn licence_url(&self) -> &str {
        model::licence(&self.set.meta.licence).map_or("", |l| l.url)
    }

    fn frequency(&self) -> &str {
        let en = self.chrome.lang_code() == "en";
        model::FREQUENCIES
            .iter()
            .find(|(c, _, _)| *c == self.set.meta.frequency)
            .map_or("", |(_, de, en_name)| if en { en_name } else { de })
    }

    fn href(&self, d: &model::Distribution) -> String {
        match (&d.url, d.kind) {
            (Some(u), DistributionKind::Api | DistributionKind::Link) => u.clone(),
            _ => format!("/daten/{}/{}/dateien/{}", self.tenant.slug, self.set.name, d.uuid),
        }
    }

    fn kind_key(&self, d: &model::Distribution) -> &'static str {
        kind_key(d.kind)
    }

    fn size(&self, d: &model::Distribution) -> String {
        d.file.as_ref().map(|f| human_size(f.size)).unwrap_or_default()
    }

    fn modified(&self) -> String {
        self.set.modified_at.display_german()
    }
}

/// The message key of a distribution kind.
pub fn kind_key(k: DistributionKind) -> &'static str {
    match k {
        DistributionKind::File => "opendata.kind.file",
        DistributionKind::Api => "opendata.kind.api",
        DistributionKind::Link => "opendata.kind.link",
    }
}

/// `12.3 kB`, `1.2 MB`: sizes as people read them.
pub fn human_size(bytes: i64) -> String {
    match bytes {
        b if b < 1000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{:.1} kB", b as f64 / 1000.0),
        b => format!("{:.1} MB", b as f64 / 1_000_000.0),
    }
}

/// `GET /daten/{tenant}/{name}`
pub async fn dataset(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, &slug).await?;
    if !tenant.active {
        return Err(AppError::NotFound);
    }
    let set = service::published_dataset(&ctx.kernel, tenant.id, &name).await?;
    Ok(page(&DatasetPage { chrome, tenant, set }))
}

/// `GET /daten/{tenant}/{name}/dateien/{id}`: a file of a published dataset.
pub async fn file(
    State(ctx): State<OpendataCtx>,
    Path((slug, name, id)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, &slug).await?;
    let set = service::published_dataset(&ctx.kernel, tenant.id, &name).await?;
    if !set.distributions.iter().any(|d| d.uuid == id) {
        return Err(AppError::NotFound);
    }
    let (d, bytes) = service::published_file(&ctx.kernel, &id).await?;
    let media_type = d.file.as_ref().map_or("application/octet-stream", |f| f.media_type.as_str());
    let file_name = format!("{}.{}", model::name_from_title(&d.title), d.format.to_lowercase());
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}
