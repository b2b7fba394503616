//! The Redaktion's dataset editor: the list of a tenant's datasets with a form for a new one,
//! and per dataset the metadata form, the privacy confirmation, publishing, distributions,
//! groups and the history of changes.

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::http::StaffUser;
use identity::model::Tenant;
use identity::{Authorized, Staff};
use kernel::AppError;
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::OpendataCtx;
use super::pages::kind_key;
use crate::model::{self, Change, Dataset, DistributionInput, DistributionKind, Group, Metadata};
use crate::service::{self, ManageData};

async fn editable(ctx: &OpendataCtx, staff: &Staff, slug: &str) -> Result<(Tenant, Authorized<ManageData>), AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, slug).await?;
    let proof = staff.authorize::<ManageData>(tenant.id)?;
    Ok((tenant, proof))
}

/// The metadata as the form sent it.
fn metadata_from(f: &FormFields) -> Metadata {
    Metadata {
        title: field(f, "title").to_owned(),
        description: field(f, "description").to_owned(),
        keywords: model::split_keywords(field(f, "keywords")),
        themes: f.iter().filter(|(k, _)| k == "themes").map(|(_, v)| v.clone()).collect(),
        licence: field(f, "licence").to_owned(),
        contact_name: field(f, "contact_name").to_owned(),
        contact_email: field(f, "contact_email").to_owned(),
        contact_url: field(f, "contact_url").to_owned(),
        spatial: field(f, "spatial").to_owned(),
        temporal_start: field(f, "temporal_start").to_owned(),
        temporal_end: field(f, "temporal_end").to_owned(),
        frequency: field(f, "frequency").to_owned(),
        issued: field(f, "issued").to_owned(),
        landing_page: field(f, "landing_page").to_owned(),
    }
}

/// What the metadata form shows: choices and the values.
pub struct MetaForm {
    pub meta: Metadata,
    pub lang_en: bool,
}

impl MetaForm {
    pub fn keywords(&self) -> String {
        self.meta.keywords.join(", ")
    }

    pub fn themes(&self) -> Vec<(&'static str, &'static str, bool)> {
        model::THEMES
            .iter()
            .map(|t| (t.code, if self.lang_en { t.en } else { t.de }, self.meta.themes.iter().any(|x| x == t.code)))
            .collect()
    }

    pub fn licences(&self) -> Vec<(&'static str, &'static str, bool)> {
        model::LICENCES.iter().map(|l| (l.id, l.title, l.id == self.meta.licence)).collect()
    }

    pub fn frequencies(&self) -> Vec<(&'static str, &'static str, bool)> {
        model::FREQUENCIES
            .iter()
            .map(|(c, de, en)| (*c, if self.lang_en { *en } else { *de }, *c == self.meta.frequency))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "opendata/editor_list.html")]
struct ListPage {
    chrome: Chrome,
    tenant: Tenant,
    sets: Vec<Dataset>,
    name: String,
    form: MetaForm,
    errors: FormErrors,
    group_errors: FormErrors,
    groups: Vec<Group>,
}

async fn list_page(
    ctx: &OpendataCtx,
    chrome: Chrome,
    tenant: Tenant,
    proof: &Authorized<ManageData>,
) -> Result<ListPage, AppError> {
    let sets = service::datasets_of(&ctx.kernel, proof).await?;
    let groups = service::groups(&ctx.kernel).await?;
    let form = MetaForm { meta: Metadata::default(), lang_en: chrome.lang_code() == "en" };
    Ok(ListPage {
        chrome,
        tenant,
        sets,
        name: String::new(),
        form,
        errors: FormErrors::none(),
        group_errors: FormErrors::none(),
        groups,
    })
}

/// `GET /verwaltung/mandanten/{slug}/daten`
pub async fn list(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    Ok(page(&list_page(&ctx, chrome, tenant, &proof).await?))
}

/// `POST /verwaltung/mandanten/{slug}/daten`: a new dataset (a draft).
pub async fn create(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let meta = metadata_from(&f);
    let name = field(&f, "name").to_owned();
    match service::create(&ctx.kernel, &proof, &name, meta.clone()).await {
        Ok(set) => {
            let to = format!("/verwaltung/mandanten/{slug}/daten/{}", set.name);
            Ok(redirect_with_flash(&to, FlashKind::Success, "opendata.created", None))
        }
        Err(AppError::Invalid { fields, .. }) => {
            let mut p = list_page(&ctx, chrome, tenant, &proof).await?;
            p.errors = FormErrors::new(&p.chrome, &fields);
            p.form.meta = meta;
            p.name = name;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(e),
    }
}

/// `POST /verwaltung/mandanten/{slug}/datengruppen`: a new group.
pub async fn create_group(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let (name, title) = (field(&f, "group_name"), field(&f, "group_title"));
    match service::create_group(&ctx.kernel, &proof, name, title, field(&f, "group_description")).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}/daten"),
            FlashKind::Success,
            "opendata.group_created",
            Some(title.to_owned()),
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let mut p = list_page(&ctx, chrome, tenant, &proof).await?;
            p.group_errors = FormErrors::new(&p.chrome, &fields);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "opendata/editor.html")]
struct EditPage {
    chrome: Chrome,
    tenant: Tenant,
    set: Dataset,
    form: MetaForm,
    errors: FormErrors,
    dist: DistributionInput,
    dist_errors: FormErrors,
    groups: Vec<Group>,
    history: Vec<Change>,
}

impl EditPage {
    fn in_group(&self, g: &Group) -> bool {
        self.set.groups.contains(&g.name)
    }

    fn confirmed_at(&self) -> String {
        self.set.privacy_confirmed.map(|(at, _)| at.display_german()).unwrap_or_default()
    }

    fn action_label(&self, c: &Change) -> String {
        self.chrome.label("opendata.action", &c.action)
    }

    fn formats(&self) -> Vec<(&'static str, bool)> {
        model::FORMATS.iter().map(|(f, _)| (*f, *f == self.dist.format)).collect()
    }

    fn kinds(&self) -> Vec<(&'static str, &'static str, bool)> {
        [DistributionKind::File, DistributionKind::Api, DistributionKind::Link]
            .iter()
            .map(|k| (k.as_str(), kind_key(*k), self.dist.kind == Some(*k)))
            .collect()
    }

    fn kind_key(&self, d: &model::Distribution) -> &'static str {
        kind_key(d.kind)
    }
}

async fn edit_page(
    ctx: &OpendataCtx,
    chrome: Chrome,
    tenant: Tenant,
    proof: &Authorized<ManageData>,
    name: &str,
) -> Result<EditPage, AppError> {
    let set = service::dataset(&ctx.kernel, proof, name).await?;
    let history = service::history(&ctx.kernel, proof, &set).await?;
    let groups = service::groups(&ctx.kernel).await?;
    let form = MetaForm { meta: set.meta.clone(), lang_en: chrome.lang_code() == "en" };
    Ok(EditPage {
        chrome,
        tenant,
        set,
        form,
        errors: FormErrors::none(),
        dist: DistributionInput { kind: Some(DistributionKind::File), format: "CSV".into(), ..Default::default() },
        dist_errors: FormErrors::none(),
        groups,
        history,
    })
}

/// `GET /verwaltung/mandanten/{slug}/daten/{name}`
pub async fn edit(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    Ok(page(&edit_page(&ctx, chrome, tenant, &proof, &name).await?))
}

/// `POST /verwaltung/mandanten/{slug}/daten/{name}`: `aktion` = `speichern` (metadata),
/// `datenschutz` / `datenschutz_zuruecknehmen` (privacy confirmation), `veroeffentlichen`,
/// `zurueckziehen`, `gruppen`, `verteilung_entfernen`.
pub async fn save(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, name)): Path<(String, String)>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let here = format!("/verwaltung/mandanten/{slug}/daten/{name}");
    let k = &ctx.kernel;
    let result = match field(&f, "aktion") {
        "datenschutz" if field(&f, "keine_personendaten") == "ja" => {
            service::confirm_privacy(k, &proof, &name, true).await.map(|()| "opendata.privacy_confirmed")
        }
        "datenschutz" => Err(AppError::invalid("opendata.privacy_checkbox_required", "keine_personendaten")),
        "datenschutz_zuruecknehmen" => {
            service::confirm_privacy(k, &proof, &name, false).await.map(|()| "opendata.privacy_withdrawn")
        }
        "veroeffentlichen" => service::publish(k, &proof, &name).await.map(|()| "opendata.published"),
        "zurueckziehen" => service::withdraw(k, &proof, &name).await.map(|()| "opendata.withdrawn"),
        "gruppen" => {
            let names: Vec<String> = f.iter().filter(|(k, _)| k == "groups").map(|(_, v)| v.clone()).collect();
            service::set_groups(k, &proof, &name, &names).await.map(|()| "opendata.groups_saved")
        }
        "verteilung_entfernen" => service::remove_distribution(k, &proof, &name, field(&f, "verteilung"))
            .await
            .map(|()| "opendata.distribution_removed"),
        _ => {
            let meta = metadata_from(&f);
            match service::update(k, &proof, &name, meta.clone()).await {
                Err(AppError::Invalid { fields, .. }) => {
                    let mut p = edit_page(&ctx, chrome, tenant, &proof, &name).await?;
                    p.errors = FormErrors::new(&p.chrome, &fields);
                    p.form.meta = meta;
                    return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p));
                }
                other => other.map(|()| "opendata.saved"),
            }
        }
    };
    match result {
        Ok(key) => Ok(redirect_with_flash(&here, FlashKind::Success, key, None)),
        Err(AppError::Conflict { code }) => Ok(redirect_with_flash(&here, FlashKind::Error, code, None)),
        Err(AppError::Invalid { fields, .. }) => {
            let mut p = edit_page(&ctx, chrome, tenant, &proof, &name).await?;
            p.errors = FormErrors::new(&p.chrome, &fields);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(e),
    }
}

/// `POST /verwaltung/mandanten/{slug}/daten/{name}/verteilungen` (multipart): a new
/// distribution, a file upload or an address.
pub async fn add_distribution(
    State(ctx): State<OpendataCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, name)): Path<(String, String)>,
    form: Multipart,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let (fields, files) = web::form::multipart(form, 2000).await?;
    let text = |key: &str| field(&fields, key).to_owned();
    let input = DistributionInput {
        kind: DistributionKind::parse(field(&fields, "kind")),
        title: text("dist_title"),
        description: text("dist_description"),
        format: text("format"),
        url: text("url"),
        datastore_resource: text("datastore_resource"),
    };
    let file = files.into_iter().next().map(|(_, bytes)| bytes);
    match service::add_distribution(&ctx.kernel, &proof, &name, &input, file).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}/daten/{name}"),
            FlashKind::Success,
            "opendata.distribution_added",
            None,
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let mut p = edit_page(&ctx, chrome, tenant, &proof, &name).await?;
            p.dist_errors = FormErrors::new(&p.chrome, &fields);
            p.dist = input;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(e),
    }
}
