//! The Redaktion's editor of a tenant's services, with a preview before saving.

use askama::Template;
use axum::Form;
use axum::extract::Multipart;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::http::StaffUser;
use identity::model::{OrgUnit, Tenant};
use identity::{Authorized, Staff};
use kernel::{AppError, FieldError, OrgUnitId};
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::PortalCtx;
use crate::catalogue::{self, Service};
use crate::details::{self, Details, Maturity};
use crate::exchange;
use crate::service::{self, EditCatalogue, Importer};

async fn editable(ctx: &PortalCtx, staff: &Staff, slug: &str) -> Result<(Tenant, Authorized<EditCatalogue>), AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, slug).await?;
    let proof = staff.authorize::<EditCatalogue>(tenant.id)?;
    Ok((tenant, proof))
}

#[derive(Template)]
#[template(path = "portal/editor_tenants.html")]
struct TenantsPage {
    chrome: Chrome,
    tenants: Vec<Tenant>,
    /// The county's Redaktion also maintains the search's synonyms.
    edits_synonyms: bool,
}

/// `GET /verwaltung/leistungen`: the catalogues this member of staff may edit.
pub async fn tenants(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    let all = identity::service::public_tenants(&ctx.kernel).await?;
    let tenants: Vec<Tenant> = all.into_iter().filter(|t| staff.authorize::<EditCatalogue>(t.id).is_ok()).collect();
    if tenants.is_empty() {
        return Err(AppError::Forbidden);
    }
    let county = service::county(&ctx.kernel).await?;
    let edits_synonyms = staff.authorize::<service::EditSynonyms>(county.id).is_ok();
    Ok(page(&TenantsPage { chrome, tenants, edits_synonyms }))
}

#[derive(Template)]
#[template(path = "portal/editor_list.html")]
struct ListPage {
    chrome: Chrome,
    tenant: Tenant,
    services: Vec<(Service, Maturity)>,
    /// What was wrong with an uploaded catalogue file.
    errors: FormErrors,
}

impl ListPage {
    /// How many services reach each maturity: the tenant's OZG overview.
    fn overview(&self) -> Vec<(Maturity, usize)> {
        Maturity::ALL.iter().map(|m| (*m, self.services.iter().filter(|(_, s)| s == m).count())).collect()
    }
}

/// `GET /verwaltung/mandanten/{slug}/leistungen`
pub async fn list(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    Ok(page(&list_page(&ctx, chrome, tenant, &proof, FormErrors::none()).await?))
}

async fn list_page(
    ctx: &PortalCtx,
    chrome: Chrome,
    tenant: Tenant,
    proof: &Authorized<EditCatalogue>,
    errors: FormErrors,
) -> Result<ListPage, AppError> {
    let services = service::tenant_services(&ctx.kernel, proof)
        .await?
        .into_iter()
        .map(|(s, d)| (s, details::maturity(d.offered())))
        .collect();
    Ok(ListPage { chrome, tenant, services, errors })
}

/// `POST /verwaltung/mandanten/{slug}/leistungen/import`: a catalogue file of this tenant's
/// services (as exported); every problem is listed with its entry, and nothing is saved then.
pub async fn import(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let refuse = |chrome: Chrome, tenant, problems: Vec<(String, String)>| async {
        let page = list_page(&ctx, chrome, tenant, &proof, FormErrors::messages(problems)).await?;
        Ok::<_, AppError>(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
    };
    let Some(bytes) = web::form::uploaded_file(form, "datei").await? else {
        let message = chrome.error_message("portal.import_no_file");
        return refuse(chrome, tenant, vec![("datei".into(), message)]).await;
    };
    let file = match std::str::from_utf8(&bytes).map_err(|e| e.to_string()).and_then(exchange::parse) {
        Ok(file) => file,
        Err(reason) => {
            let message = format!("{} ({reason})", chrome.error_message("portal.import_unreadable"));
            return refuse(chrome, tenant, vec![("datei".into(), message)]).await;
        }
    };
    match service::import_file(&ctx.kernel, &ctx.index, Importer::Redaktion(&proof), &file).await {
        Ok(done) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}/leistungen"),
            FlashKind::Success,
            "portal.imported",
            Some(format!("{} / {}", done.added, done.updated)),
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let problems = fields.iter().map(|f| (String::new(), entry_problem(&chrome, &file, f))).collect();
            refuse(chrome, tenant, problems).await
        }
        Err(e) => Err(e),
    }
}

/// `Eintrag 3 (wohngeld), leika: Ein LeiKa-Schlüssel hat 14 Ziffern …`
fn entry_problem(chrome: &Chrome, file: &exchange::CatalogueFile, f: &FieldError) -> String {
    let (index, field) = f
        .field
        .strip_prefix("services[")
        .and_then(|rest| rest.split_once("]."))
        .and_then(|(i, field)| Some((i.parse::<usize>().ok()?, field)))
        .unwrap_or((0, f.field.as_str()));
    let id = file.services.get(index).map(|e| e.id.as_str()).unwrap_or_default();
    format!("{} {} ({id}), {field}: {}", chrome.t("portal.entry"), index + 1, chrome.error_message(f.code))
}

#[derive(Template)]
#[template(path = "portal/editor.html")]
struct EditPage {
    chrome: Chrome,
    tenant: Tenant,
    service: Service,
    details: Details,
    fee_text: String,
    units: Vec<OrgUnit>,
    errors: FormErrors,
    preview: bool,
}

impl EditPage {
    fn description_html(&self) -> String {
        details::markdown_html(&self.details.description)
    }

    fn life_situations_text(&self) -> String {
        self.service.life_situations.join("; ")
    }

    fn business_situations_text(&self) -> String {
        self.service.business_situations.join("; ")
    }

    fn documents_text(&self) -> String {
        self.details.documents.join("\n")
    }

    fn is_office(&self, id: &OrgUnitId) -> bool {
        self.details.org_unit == Some(*id)
    }
}

/// What the editor is working on: the service, its details and the fee text as typed.
struct Draft {
    service: Service,
    details: Details,
    fee_text: String,
}

async fn edit_page(
    ctx: &PortalCtx,
    chrome: Chrome,
    tenant: Tenant,
    draft: Draft,
    errors: FormErrors,
    preview: bool,
) -> Result<EditPage, AppError> {
    let units = identity::service::org_units(&ctx.kernel, tenant.id).await?;
    let Draft { service, details, fee_text } = draft;
    Ok(EditPage { chrome, tenant, service, details, fee_text, units, errors, preview })
}

/// `GET /verwaltung/mandanten/{slug}/leistungen/{id}`
pub async fn edit(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let (service, details) = service::tenant_service(&ctx.kernel, &proof, &id).await?;
    let fee_text = details::fee_lines(&details.fees);
    Ok(page(&edit_page(&ctx, chrome, tenant, Draft { service, details, fee_text }, FormErrors::none(), false).await?))
}

/// `POST /verwaltung/mandanten/{slug}/leistungen/{id}`: `aktion=vorschau` shows the page as
/// citizens will see it without saving; `aktion=speichern` saves.
pub async fn save(
    State(ctx): State<PortalCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, String)>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = editable(&ctx, &staff, &slug).await?;
    let (stored, _) = service::tenant_service(&ctx.kernel, &proof, &id).await?;
    let service = Service {
        name: field(&f, "name").into(),
        summary: field(&f, "summary").into(),
        leika: field(&f, "leika").trim().into(),
        life_situations: catalogue::list(field(&f, "life_situations")),
        business_situations: catalogue::list(field(&f, "business_situations")),
        ..stored
    };
    let fee_text = field(&f, "fees").to_owned();
    let mut problems = Vec::new();
    let fees = details::parse_fees(&fee_text).unwrap_or_else(|_| {
        problems.push(FieldError { field: "fees".into(), code: "portal.fee_invalid" });
        Vec::new()
    });
    let details = Details {
        description: field(&f, "description").into(),
        documents: field(&f, "documents").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        fees,
        legal_basis: field(&f, "legal_basis").into(),
        processing_time: field(&f, "processing_time").into(),
        online_url: field(&f, "online_url").trim().into(),
        appointment_url: field(&f, "appointment_url").trim().into(),
        form_url: field(&f, "form_url").trim().into(),
        org_unit: field(&f, "org_unit").parse().ok().map(OrgUnitId),
    };
    let preview = field(&f, "aktion") == "vorschau";
    let result = if !problems.is_empty() {
        Err(AppError::Invalid { code: "invalid", fields: problems })
    } else if preview {
        Ok(())
    } else {
        service::save_service(&ctx.kernel, &ctx.index, &proof, &service, &details).await
    };
    match result {
        Ok(()) if preview => Ok(page(
            &edit_page(&ctx, chrome, tenant, Draft { service, details, fee_text }, FormErrors::none(), true).await?,
        )),
        Ok(()) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}/leistungen"),
            FlashKind::Success,
            "portal.saved",
            Some(service.name),
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            let page = edit_page(&ctx, chrome, tenant, Draft { service, details, fee_text }, errors, false).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e),
    }
}
