//! The Redaktion's form editor: a definition as JSON with a check and a preview, drafts,
//! publishing, taking offline, and where a form belongs (service, inbox).

use std::collections::BTreeMap;

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::http::StaffUser;
use identity::model::{OrgUnit, Tenant};
use identity::{Authorized, Staff};
use kernel::{AppError, OrgUnitId};
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::FormsCtx;
use crate::fim;
use crate::model::{FormStatus, FormVersion};
use crate::render::{self, Ctx};
use crate::service::{self, ManageForms};
use crate::validate::Answers;

async fn editable(ctx: &FormsCtx, staff: &Staff, slug: &str) -> Result<(Tenant, Authorized<ManageForms>), AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, slug).await?;
    let proof = staff.authorize::<ManageForms>(tenant.id)?;
    Ok((tenant, proof))
}

#[derive(Template)]
#[template(path = "forms/editor_list.html")]
struct ListPage {
    chrome: Chrome,
    tenant: Tenant,
    forms: Vec<FormVersion>,
    definition: String,
    errors: FormErrors,
}

impl ListPage {
    fn status_key(&self, v: &FormVersion) -> &'static str {
        status_key(v.status)
    }
}

fn status_key(s: FormStatus) -> &'static str {
    match s {
        FormStatus::Draft => "forms.form_status.draft",
        FormStatus::Published => "forms.form_status.published",
        FormStatus::Closed => "forms.form_status.closed",
    }
}

/// `GET /verwaltung/mandanten/{slug}/formulare`
pub async fn list(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let forms = service::forms_of(&ctx.kernel, &proof).await?;
    Ok(page(&ListPage { chrome, tenant, forms, definition: String::new(), errors: FormErrors::none() }))
}

/// `POST /verwaltung/mandanten/{slug}/fim-import`: an XDatenfelder file (field `datei`) becomes
/// a draft; the editor opens with the import report.
pub async fn import_fim(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let refused = match web::form::uploaded_file(multipart, "datei").await? {
        None => chrome.t("forms.fim_file_missing").to_owned(),
        Some(bytes) if bytes.len() > fim::MAX_BYTES => chrome.t("forms.fim_too_large").to_owned(),
        Some(bytes) => match fim::decode(&bytes).and_then(|text| fim::import(&text)) {
            Ok(imported) => {
                let saved = service::save_fim_import(&ctx.kernel, &proof, &imported).await?;
                let mut p = edit_page(&ctx, chrome, tenant, &proof, &saved.form_id).await?;
                p.fim_report = Some(imported.report.iter().map(ToString::to_string).collect());
                return Ok(page(&p));
            }
            Err(e) => format!("{} {e}", chrome.t("forms.fim_refused")),
        },
    };
    let forms = service::forms_of(&ctx.kernel, &proof).await?;
    let errors = FormErrors::messages(vec![("datei".to_owned(), refused)]);
    let definition = String::new();
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &ListPage { chrome, tenant, forms, definition, errors }))
}

/// The definition problems as one error each, on the definition field.
fn definition_errors(problems: &[String]) -> FormErrors {
    FormErrors::messages(problems.iter().map(|p| ("definition".to_owned(), p.clone())).collect())
}

/// `POST /verwaltung/mandanten/{slug}/formulare`: a new form from a definition.
pub async fn create(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let definition = field(&f, "definition").to_owned();
    let problems = match service::read_definition(&definition) {
        Ok(form) if service::forms_of(&ctx.kernel, &proof).await?.iter().any(|v| v.form_id == form.id) => {
            vec![chrome.error_message("forms.form_exists")]
        }
        Ok(_) => {
            let saved = service::save_draft(&ctx.kernel, &proof, &definition).await?;
            let to = format!("/verwaltung/mandanten/{slug}/formulare/{}", saved.form_id);
            return Ok(redirect_with_flash(&to, FlashKind::Success, "forms.draft_saved", None));
        }
        Err(problems) => problems,
    };
    let forms = service::forms_of(&ctx.kernel, &proof).await?;
    let errors = definition_errors(&problems);
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &ListPage { chrome, tenant, forms, definition, errors }))
}

#[derive(Template)]
#[template(path = "forms/editor.html")]
struct EditPage {
    chrome: Chrome,
    tenant: Tenant,
    form_id: String,
    versions: Vec<FormVersion>,
    definition: String,
    preview_html: Option<String>,
    services: Vec<(String, String)>,
    units: Vec<OrgUnit>,
    service: Option<String>,
    unit: Option<OrgUnitId>,
    errors: FormErrors,
    /// After a FIM import: what the form does not carry as the schema says.
    fim_report: Option<Vec<String>>,
    /// Where submissions are delivered, if anywhere.
    delivery_url: Option<String>,
    /// A delivery secret just generated: shown this once.
    new_secret: Option<String>,
}

impl EditPage {
    fn status_key(&self, v: &FormVersion) -> &'static str {
        status_key(v.status)
    }

    fn has_draft(&self) -> bool {
        self.versions.iter().any(|v| v.status == FormStatus::Draft)
    }

    fn is_online(&self) -> bool {
        self.versions.iter().any(|v| v.status == FormStatus::Published)
    }

    fn is_closed(&self) -> bool {
        !self.is_online() && self.versions.iter().any(|v| v.status == FormStatus::Closed)
    }

    fn is_service(&self, slug: &str) -> bool {
        self.service.as_deref() == Some(slug)
    }

    fn is_unit(&self, id: &OrgUnitId) -> bool {
        self.unit == Some(*id)
    }

    fn published_at(&self, v: &FormVersion) -> String {
        v.published_at.map(|t| t.display_german()).unwrap_or_default()
    }
}

async fn edit_page(
    ctx: &FormsCtx,
    chrome: Chrome,
    tenant: Tenant,
    proof: &Authorized<ManageForms>,
    form_id: &str,
) -> Result<EditPage, AppError> {
    let versions = service::versions(&ctx.kernel, proof, form_id).await?;
    let newest = &versions[0];
    let services = portal::service::tenant_service_names(&ctx.kernel, tenant.id).await?;
    let units = identity::service::org_units(&ctx.kernel, tenant.id).await?;
    let delivery_url = service::delivery_url(&ctx.kernel, proof, form_id).await?;
    Ok(EditPage {
        chrome,
        form_id: form_id.to_owned(),
        definition: newest.definition_json.clone(),
        service: newest.service_slug.clone(),
        unit: newest.org_unit,
        tenant,
        versions,
        preview_html: None,
        services,
        units,
        errors: FormErrors::none(),
        fim_report: None,
        delivery_url,
        new_secret: None,
    })
}

/// `GET /verwaltung/mandanten/{slug}/formulare/{form}`
pub async fn edit(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, form_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    Ok(page(&edit_page(&ctx, chrome, tenant, &proof, &form_id).await?))
}

/// The first steps of a definition as citizens will see them.
fn preview(chrome: &Chrome, form: &crate::definition::Form) -> String {
    let answers = Answers::new();
    let errors = BTreeMap::new();
    let words = super::apply::words(chrome);
    let ctx = Ctx { lang: chrome.lang_code(), answers: &answers, errors: &errors, files: &[], words: &words };
    let mut out = String::new();
    for step in &form.steps {
        out.push_str(&format!(r#"<h3 class="kern-heading-small">{}</h3>"#, render::escape(step.title.get(ctx.lang))));
        render::fields(&mut out, &ctx, &step.fields, "");
    }
    out
}

/// `POST /verwaltung/mandanten/{slug}/formulare/{form}`: `aktion` = `pruefen` (check and
/// preview), `speichern` (draft), `veroeffentlichen`, `offline`, `online`, `zuordnen`,
/// `zustellung` (delivery URL and a new secret, shown once on the answer page),
/// `zustellung_beenden`.
pub async fn save(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, form_id)): Path<(String, String)>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let here = format!("/verwaltung/mandanten/{slug}/formulare/{form_id}");
    let done = |key: &str| Ok(redirect_with_flash(&here, FlashKind::Success, key, None));
    match field(&f, "aktion") {
        "veroeffentlichen" => {
            let version = service::publish(&ctx.kernel, &proof, &form_id).await?;
            Ok(redirect_with_flash(&here, FlashKind::Success, "forms.published", Some(version.to_string())))
        }
        "offline" => {
            service::set_online(&ctx.kernel, &proof, &form_id, false).await?;
            done("forms.taken_offline")
        }
        "online" => {
            service::set_online(&ctx.kernel, &proof, &form_id, true).await?;
            done("forms.back_online")
        }
        "zustellung" => match service::set_delivery(&ctx.kernel, &proof, &form_id, field(&f, "url")).await {
            Ok(secret) => {
                let mut p = edit_page(&ctx, chrome, tenant, &proof, &form_id).await?;
                p.new_secret = Some(secret);
                Ok(page(&p))
            }
            Err(AppError::Invalid { fields, .. }) => {
                let mut p = edit_page(&ctx, chrome, tenant, &proof, &form_id).await?;
                p.errors = FormErrors::new(&p.chrome, &fields);
                p.delivery_url = Some(field(&f, "url").to_owned());
                Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
            }
            Err(e) => Err(e),
        },
        "zustellung_beenden" => {
            service::remove_delivery(&ctx.kernel, &proof, &form_id).await?;
            done("forms.delivery_removed")
        }
        "zuordnen" => {
            let service_slug = Some(field(&f, "service")).filter(|s| !s.is_empty());
            let unit = field(&f, "org_unit").parse().ok().map(OrgUnitId);
            match service::place(&ctx.kernel, &proof, &form_id, service_slug, unit).await {
                Ok(()) => done("forms.placed"),
                Err(AppError::Invalid { fields, .. }) => {
                    let mut p = edit_page(&ctx, chrome, tenant, &proof, &form_id).await?;
                    p.errors = FormErrors::new(&p.chrome, &fields);
                    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
                }
                Err(e) => Err(e),
            }
        }
        action => {
            let definition = field(&f, "definition").to_owned();
            let mut p = edit_page(&ctx, chrome, tenant, &proof, &form_id).await?;
            p.definition = definition.clone();
            let form = match service::read_definition(&definition) {
                Ok(form) if form.id != form_id => Err(vec![p.chrome.error_message("forms.id_changed")]),
                other => other,
            };
            match form {
                Err(problems) => {
                    p.errors = definition_errors(&problems);
                    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
                }
                Ok(form) if action == "pruefen" => {
                    p.preview_html = Some(preview(&p.chrome, &form));
                    Ok(page(&p))
                }
                Ok(_) => {
                    service::save_draft(&ctx.kernel, &proof, &definition).await?;
                    done("forms.draft_saved")
                }
            }
        }
    }
}
