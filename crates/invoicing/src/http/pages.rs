//! The staff's pages: the invoice inbox per org unit, an invoice with its German rendering and
//! the workflow (sign-offs, account assignment, setting aside), the original XML, the booking
//! export, and the tenant's Leitweg-IDs.

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use identity::http::StaffUser;
use identity::model::{OrgUnit, Tenant};
use identity::{Authorized, Permission, Staff};
use kernel::{AppError, OrgUnitId, Timestamp};
use serde::Deserialize;
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::InvoicingCtx;
use crate::model::{
    self, Approval, AssignmentLine, CaptureForm, Forward, InboxOrder, InboxQuery, PaperCapture, Status, StatusFilter,
    Step, StoredInvoice,
};
use crate::render::Rendering;
use crate::service::{self, ExportBookings, InvoiceFile, ManageLeitwegIds, OrderPayment, WorkInvoices};
use crate::store::Route;

/// A proof of `P` in the tenant: tenant-wide, or for the first unit where the staff holds it.
fn any_unit_proof<P: Permission>(staff: &Staff, tenant: &Tenant) -> Result<Authorized<P>, AppError> {
    staff.authorize::<P>(tenant.id).or_else(|_| {
        staff
            .roles
            .iter()
            .filter(|g| g.tenant == tenant.id)
            .find_map(|g| g.org_unit.and_then(|u| staff.authorize_in_unit::<P>(tenant.id, u).ok()))
            .ok_or(AppError::Forbidden)
    })
}

async fn tenant(ctx: &InvoicingCtx, slug: &str) -> Result<Tenant, AppError> {
    identity::service::tenant_by_slug(&ctx.kernel, slug).await
}

/// A proof of `P` for the unit that received invoice `id`.
async fn invoice_proof<P: Permission>(
    ctx: &InvoicingCtx,
    staff: &Staff,
    tenant: &Tenant,
    id: i64,
) -> Result<Authorized<P>, AppError> {
    let unit = service::unit_of(&ctx.kernel, tenant.id, id).await?;
    staff.authorize_in_unit::<P>(tenant.id, unit)
}

fn base(slug: &str) -> String {
    format!("/verwaltung/mandanten/{slug}/rechnungen")
}

// ---- inbox ----

/// The inbox's query parameters: `einheit` (an org unit id, for staff who see all units),
/// `status` (a status or `offen`), `suche`, `sortierung` (`eingang`, `frist`), `seite` (from 1).
#[derive(Deserialize)]
pub struct Filter {
    einheit: Option<String>,
    status: Option<String>,
    suche: Option<String>,
    sortierung: Option<String>,
    seite: Option<i64>,
}

/// Invoices per inbox page.
const INBOX_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "invoicing/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    tenant: Tenant,
    invoices: Vec<StoredInvoice>,
    /// How many invoices match the query in all.
    matching: i64,
    query: InboxQuery,
    page: i64,
    statuses: [Status; 9],
    /// The tenant's units, for staff who see all of them (their filter and column); else empty.
    units: Vec<(OrgUnitId, String)>,
}

impl InboxPage {
    fn is_filter(&self, s: &Status) -> bool {
        self.query.status == StatusFilter::Only(*s)
    }

    fn date(&self, iso: &str) -> String {
        model::german_date(iso)
    }

    fn is_unit(&self, id: &OrgUnitId) -> bool {
        self.query.unit == Some(*id)
    }

    fn unit_name(&self, id: &OrgUnitId) -> &str {
        self.units.iter().find(|(unit, _)| unit == id).map_or("", |(_, name)| name.as_str())
    }

    fn pages(&self) -> i64 {
        (self.matching + INBOX_PAGE - 1) / INBOX_PAGE
    }

    /// The address of another page of the same query.
    fn page_link(&self, page: i64) -> String {
        let q = &self.query;
        let unit = q.unit.map(|u| u.to_string()).unwrap_or_default();
        let params = [
            ("einheit", unit.as_str()),
            ("status", q.status.as_str()),
            ("suche", q.text.trim()),
            ("sortierung", q.order.as_str()),
            ("seite", &page.to_string()),
        ];
        let query: Vec<String> = params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| {
                format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC))
            })
            .collect();
        format!("{}?{}", base(&self.tenant.slug), query.join("&"))
    }
}

/// `GET /verwaltung/mandanten/{slug}/rechnungen?status=…&suche=…&sortierung=…&seite=…`
pub async fn inbox(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    Query(f): Query<Filter>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = any_unit_proof::<WorkInvoices>(&staff, &tenant)?;
    let number = f.seite.unwrap_or(1).clamp(1, 100_000);
    let units = match proof.org_unit() {
        Some(_) => Vec::new(),
        None => {
            identity::service::org_units(&ctx.kernel, tenant.id).await?.into_iter().map(|u| (u.id, u.name)).collect()
        }
    };
    let query = InboxQuery {
        unit: f.einheit.and_then(|e| e.parse().ok()).filter(|id| units.iter().any(|(unit, _)| unit == id)),
        status: StatusFilter::parse(f.status.as_deref().unwrap_or_default()),
        text: f.suche.unwrap_or_default().chars().take(200).collect(),
        order: InboxOrder::parse(f.sortierung.as_deref().unwrap_or_default()),
        offset: (number - 1) * INBOX_PAGE,
        limit: INBOX_PAGE,
    };
    let (invoices, matching) = service::inbox(&ctx.kernel, &proof, &query).await?;
    Ok(page(&InboxPage { chrome, tenant, invoices, matching, query, page: number, statuses: Status::ALL, units }))
}

// ---- paper invoices ----

#[derive(Template)]
#[template(path = "invoicing/capture.html")]
struct CapturePage {
    chrome: Chrome,
    tenant: Tenant,
    /// The units the staff may capture into; a choice only when more than one.
    units: Vec<(OrgUnitId, String)>,
    unit: Option<OrgUnitId>,
    values: CaptureForm,
    errors: FormErrors,
}

impl CapturePage {
    fn is_unit(&self, id: &OrgUnitId) -> bool {
        self.unit == Some(*id)
    }
}

/// The units of the tenant whose invoices the staff may work; Forbidden when none.
async fn capture_units(
    ctx: &InvoicingCtx,
    staff: &Staff,
    tenant: &Tenant,
) -> Result<Vec<(OrgUnitId, String)>, AppError> {
    let units: Vec<(OrgUnitId, String)> = identity::service::org_units(&ctx.kernel, tenant.id)
        .await?
        .into_iter()
        .filter(|u| staff.authorize_in_unit::<WorkInvoices>(tenant.id, u.id).is_ok())
        .map(|u| (u.id, u.name))
        .collect();
    if units.is_empty() { Err(AppError::Forbidden) } else { Ok(units) }
}

/// `GET /verwaltung/mandanten/{slug}/rechnungen/erfassen`: the form to capture a paper invoice.
pub async fn capture_form(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let units = capture_units(&ctx, &staff, &tenant).await?;
    let unit = (units.len() == 1).then(|| units[0].0);
    let values = CaptureForm::default();
    Ok(page(&CapturePage { chrome, tenant, units, unit, values, errors: FormErrors::none() }))
}

/// `POST /verwaltung/mandanten/{slug}/rechnungen/erfassen` (multipart: the scan in `datei`,
/// the unit in `einheit`, the facts as [`CaptureForm::from_fields`] names them): on to the new
/// invoice.
pub async fn capture(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let units = capture_units(&ctx, &staff, &tenant).await?;
    let (fields, files) = web::form::multipart(form, 200).await?;
    let values = CaptureForm::from_fields(|name| field(&fields, name).to_owned());
    let chosen = field(&fields, "einheit").parse().ok().or((units.len() == 1).then(|| units[0].0));
    let unit = chosen.filter(|id| units.iter().any(|(u, _)| u == id));
    let scan = files.into_iter().find(|(name, _)| name == "datei").map(|(_, bytes)| bytes).unwrap_or_default();
    let proof = unit.map(|unit| staff.authorize_in_unit::<WorkInvoices>(tenant.id, unit)).transpose()?;
    match service::capture(&ctx.kernel, proof.as_ref(), scan, &values).await {
        Ok(intake) => {
            let key = match (intake.repeated, intake.invoice.status) {
                (true, _) => "invoicing.capture_known",
                (false, Status::Duplicate) => "invoicing.captured_duplicate",
                (false, _) => "invoicing.captured",
            };
            let here = format!("{}/{}", base(&slug), intake.invoice.id);
            Ok(redirect_with_flash(&here, FlashKind::Success, key, Some(intake.invoice.invoice_number)))
        }
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            let p = CapturePage { chrome, tenant, units, unit, values, errors };
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(e),
    }
}

// ---- one invoice ----

/// The assignment form's rows as typed: (account, cost centre, product, amount).
type Rows = Vec<[String; 4]>;

const MAX_ROWS: usize = 10;

#[derive(Template)]
#[template(path = "invoicing/invoice.html")]
struct InvoicePage {
    chrome: Chrome,
    tenant: Tenant,
    invoice: StoredInvoice,
    unit_name: String,
    approvals: Vec<Approval>,
    forwards: Vec<Forward>,
    forward_targets: Vec<(OrgUnitId, String)>,
    assignment: Vec<AssignmentLine>,
    r: Rendering,
    /// Who typed in a paper invoice; None for an e-invoice.
    capture: Option<PaperCapture>,
    /// The embedded attachments: (index of the supporting document, label).
    attachments: Vec<(usize, String)>,
    rows: Rows,
    /// The rows are a proposal from this earlier invoice of the seller: (number, issue date).
    suggested_from: Option<(String, String)>,
    errors: FormErrors,
}

impl InvoicePage {
    fn steps(&self) -> [Step; 3] {
        Step::ALL
    }

    fn signed(&self, step: &Step) -> Option<&Approval> {
        self.approvals.iter().find(|a| a.step == *step)
    }

    fn at(&self, t: &Timestamp) -> String {
        t.display_german()
    }

    fn next_step(&self) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.transition().0 == self.invoice.status)
    }

    fn may_assign(&self) -> bool {
        self.invoice.status.may_assign()
    }

    fn amount(&self, cents: &i64) -> String {
        model::format_amount(*cents, &self.invoice.currency)
    }

    fn assigned_sum(&self) -> String {
        self.amount(&self.assignment.iter().map(|l| l.amount_cents).sum())
    }

    fn date(&self, iso: &str) -> String {
        model::german_date(iso)
    }

    fn row_no(&self, i: impl std::borrow::Borrow<usize>) -> usize {
        i.borrow() + 1
    }
}

fn rows_from(lines: &[AssignmentLine]) -> Rows {
    let mut rows: Rows = lines
        .iter()
        .map(|l| [l.account.clone(), l.cost_centre.clone(), l.product.clone(), model::csv_amount(l.amount_cents)])
        .collect();
    while rows.len() < lines.len().max(1) + 2 && rows.len() < MAX_ROWS {
        rows.push(Default::default());
    }
    rows
}

fn invoice_page(
    chrome: Chrome,
    tenant: Tenant,
    file: InvoiceFile,
    rows: Option<Rows>,
    errors: FormErrors,
) -> InvoicePage {
    let r = Rendering::of(&file.document);
    let attachments = crate::render::attachments(&file.document);
    let (rows, suggested_from) = match (rows, file.suggestion) {
        (Some(typed), _) => (typed, None),
        (None, Some(s)) => (rows_from(&s.lines), Some((s.invoice_number, model::german_date(&s.issue_date)))),
        (None, None) => (rows_from(&file.assignment), None),
    };
    InvoicePage {
        chrome,
        tenant,
        invoice: file.invoice,
        unit_name: file.unit_name,
        approvals: file.approvals,
        forwards: file.forwards,
        forward_targets: file.forward_targets,
        assignment: file.assignment,
        r,
        capture: file.capture,
        attachments,
        rows,
        suggested_from,
        errors,
    }
}

/// `GET /verwaltung/mandanten/{slug}/rechnungen/{id}`
pub async fn show(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
    let file = service::open(&ctx.kernel, &proof, id).await?;
    Ok(page(&invoice_page(chrome, tenant, file, None, FormErrors::none())))
}

/// The typed assignment rows; rows left entirely empty are dropped.
fn typed_rows(f: &FormFields) -> Rows {
    (1..=MAX_ROWS)
        .map(|n| ["konto", "kostenstelle", "produkt", "betrag"].map(|k| field(f, &format!("zeile{n}_{k}")).to_owned()))
        .filter(|row| row.iter().any(|v| !v.is_empty()))
        .collect()
}

/// Rows into lines; an unreadable amount becomes 0 (reported as "amount invalid").
fn lines_of(rows: &Rows) -> Vec<AssignmentLine> {
    rows.iter()
        .map(|[account, cost_centre, product, amount]| AssignmentLine {
            account: account.clone(),
            cost_centre: cost_centre.clone(),
            product: product.clone(),
            amount_cents: model::parse_cents(amount).unwrap_or(0),
        })
        .collect()
}

/// `POST /verwaltung/mandanten/{slug}/rechnungen/{id}`: `aktion` = `sachlich`, `rechnerisch`,
/// `anordnung`, `kontierung` or `zuruecklegen`.
pub async fn act(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let here = format!("{}/{id}", base(&slug));
    let note = field(&f, "notiz");
    let outcome = match field(&f, "aktion") {
        "sachlich" | "rechnerisch" => {
            let step = if field(&f, "aktion") == "sachlich" { Step::Factual } else { Step::Arithmetical };
            let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
            service::check(&ctx.kernel, &proof, id, step, note).await.map(|_| "invoicing.signed")
        }
        "anordnung" => {
            let proof = invoice_proof::<OrderPayment>(&ctx, &staff, &tenant, id).await?;
            service::order_payment(&ctx.kernel, &proof, id, note).await.map(|_| "invoicing.ordered")
        }
        "weiterleiten" => {
            let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
            let to = field(&f, "einheit").parse().unwrap_or(OrgUnitId(0));
            match service::forward(&ctx.kernel, &proof, id, to, note).await {
                // The invoice left this unit's inbox: back to the inbox, not to the invoice.
                Ok(()) => {
                    return Ok(redirect_with_flash(&base(&slug), FlashKind::Success, "invoicing.forwarded", None));
                }
                Err(e) => Err(e),
            }
        }
        "zuruecklegen" => {
            let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
            service::dismiss(&ctx.kernel, &proof, id, field(&f, "grund")).await.map(|_| "invoicing.dismissed")
        }
        "kontierung" => {
            let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
            let rows = typed_rows(&f);
            match service::assign(&ctx.kernel, &proof, id, lines_of(&rows)).await {
                Err(AppError::Invalid { fields, .. }) => {
                    let errors = FormErrors::new(&chrome, &fields);
                    let file = service::open(&ctx.kernel, &proof, id).await?;
                    let p = invoice_page(chrome, tenant, file, Some(rows), errors);
                    return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p));
                }
                other => other.map(|_| "invoicing.assigned"),
            }
        }
        _ => return Err(AppError::invalid("invoicing.action_unknown", "aktion")),
    };
    match outcome {
        Ok(key) => Ok(redirect_with_flash(&here, FlashKind::Success, key, None)),
        Err(AppError::Conflict { code }) | Err(AppError::Invalid { code, .. }) => {
            Ok(redirect_with_flash(&here, FlashKind::Error, code, None))
        }
        Err(e) => Err(e),
    }
}

fn download(bytes: Bytes, media_type: &'static str, file_name: &str) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-', "_")
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    res
}

/// `GET …/rechnungen/{id}/original`: the original exactly as received (hash-verified), as a
/// download: the XML, the ZUGFeRD PDF, or a paper invoice's scan.
pub async fn original(
    State(ctx): State<InvoicingCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
    let (invoice, bytes) = service::original(&ctx.kernel, &proof, id).await?;
    let media_type = model::original_media_type(&bytes);
    let name = format!("rechnung-{}.{}", invoice.id, kernel::formats::extension(media_type));
    Ok(download(bytes, media_type, &name))
}

/// `GET …/rechnungen/{id}/pdf`: the German rendering as PDF, as made on receipt (hash-verified).
pub async fn pdf(
    State(ctx): State<InvoicingCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
    let (invoice, pdf) = service::rendering(&ctx.kernel, &proof, id).await?;
    Ok(download(pdf, "application/pdf", &format!("rechnung-{}.pdf", invoice.id)))
}

/// The MIME codes XRechnung allows for an attachment (BT-125-1); anything else is served as
/// bytes. Always as a download, never shown in the browser.
fn attachment_media_type(mime_code: Option<&str>) -> &'static str {
    const ALLOWED: [&str; 6] = [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    ];
    ALLOWED.into_iter().find(|m| Some(*m) == mime_code).unwrap_or("application/octet-stream")
}

/// `GET …/rechnungen/{id}/anlagen/{n}`: the attachment of the `n`-th supporting document,
/// decoded from the verified original.
pub async fn attachment(
    State(ctx): State<InvoicingCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, id, n)): Path<(String, i64, usize)>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = invoice_proof::<WorkInvoices>(&ctx, &staff, &tenant, id).await?;
    let (meta, content) = service::attachment(&ctx.kernel, &proof, id, n).await?;
    let name = meta.filename.unwrap_or_else(|| format!("rechnung-{id}-anlage-{}", n + 1));
    Ok(download(content, attachment_media_type(meta.mime_code.as_deref()), &name))
}

// ---- booking export ----

#[derive(Template)]
#[template(path = "invoicing/exports.html")]
struct ExportsPage {
    chrome: Chrome,
    tenant: Tenant,
    exports: Vec<(i64, i64, Timestamp)>,
    /// Why the payment file just sent was refused, by line (0: the file as a whole).
    problems: Vec<model::PaymentProblem>,
}

impl ExportsPage {
    fn at(&self, t: &Timestamp) -> String {
        t.display_german()
    }
}

/// `GET /verwaltung/mandanten/{slug}/buchungsexport`
pub async fn exports(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = any_unit_proof::<ExportBookings>(&staff, &tenant)?;
    let exports = service::exports(&ctx.kernel, &proof).await?;
    Ok(page(&ExportsPage { chrome, tenant, exports, problems: Vec::new() }))
}

/// `POST /verwaltung/mandanten/{slug}/buchungsexport`: exports every ordered invoice.
pub async fn export(
    State(ctx): State<InvoicingCtx>,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = any_unit_proof::<ExportBookings>(&staff, &tenant)?;
    let here = format!("/verwaltung/mandanten/{slug}/buchungsexport");
    Ok(match service::export(&ctx.kernel, &proof).await {
        Ok(Some((id, _))) => redirect_with_flash(&here, FlashKind::Success, "invoicing.exported", Some(id.to_string())),
        Ok(None) => redirect_with_flash(&here, FlashKind::Info, "invoicing.nothing_to_export", None),
        Err(AppError::Conflict { code }) => redirect_with_flash(&here, FlashKind::Warning, code, None),
        Err(e) => return Err(e),
    })
}

/// `POST /verwaltung/mandanten/{slug}/buchungsexport/zahlungen` (multipart, the file in
/// `datei`): the finance system's payment file.
pub async fn import_payments(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = any_unit_proof::<ExportBookings>(&staff, &tenant)?;
    let bytes = web::form::uploaded_file(form, "datei").await?.unwrap_or_default();
    let here = format!("/verwaltung/mandanten/{slug}/buchungsexport");
    match service::import_payments(&ctx.kernel, &proof, &bytes).await {
        Ok(Ok(done)) => {
            let count = format!("{} ({} {})", done.paid, done.known, chrome.t("invoicing.payments_known"));
            Ok(redirect_with_flash(&here, FlashKind::Success, "invoicing.payments_imported", Some(count)))
        }
        Ok(Err(problems)) => {
            let exports = service::exports(&ctx.kernel, &proof).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &ExportsPage { chrome, tenant, exports, problems }))
        }
        Err(AppError::Conflict { code }) => Ok(redirect_with_flash(&here, FlashKind::Warning, code, None)),
        Err(e) => Err(e),
    }
}

/// `GET /verwaltung/mandanten/{slug}/buchungsexport/{id}`: the CSV file.
pub async fn export_file(
    State(ctx): State<InvoicingCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = any_unit_proof::<ExportBookings>(&staff, &tenant)?;
    let bytes = service::export_file(&ctx.kernel, &proof, id).await?;
    Ok(download(bytes, "text/csv; charset=utf-8", &format!("buchungsexport-{}-{id}.csv", tenant.slug)))
}

// ---- Leitweg-IDs ----

#[derive(Template)]
#[template(path = "invoicing/leitweg.html")]
struct LeitwegPage {
    chrome: Chrome,
    tenant: Tenant,
    routes: Vec<Route>,
    units: Vec<OrgUnit>,
    typed: (String, String, String),
    errors: FormErrors,
}

impl LeitwegPage {
    fn unit_name(&self, id: &OrgUnitId) -> String {
        self.units.iter().find(|u| u.id == *id).map(|u| format!("{} {}", u.code, u.name)).unwrap_or_default()
    }

    fn is_typed_unit(&self, id: &OrgUnitId) -> bool {
        self.typed.1 == id.0.to_string()
    }
}

async fn leitweg_page(
    ctx: &InvoicingCtx,
    chrome: Chrome,
    tenant: Tenant,
    proof: &Authorized<ManageLeitwegIds>,
    typed: (String, String, String),
    errors: FormErrors,
) -> Result<LeitwegPage, AppError> {
    let routes = service::routes(&ctx.kernel, proof).await?;
    let units = identity::service::org_units(&ctx.kernel, tenant.id).await?;
    Ok(LeitwegPage { chrome, tenant, routes, units, typed, errors })
}

/// `GET /verwaltung/mandanten/{slug}/leitweg-ids`
pub async fn leitweg_ids(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = staff.authorize::<ManageLeitwegIds>(tenant.id)?;
    Ok(page(&leitweg_page(&ctx, chrome, tenant, &proof, Default::default(), FormErrors::none()).await?))
}

/// `POST /verwaltung/mandanten/{slug}/leitweg-ids`: `aktion` = `hinzufuegen` or `entfernen`.
pub async fn change_leitweg_ids(
    State(ctx): State<InvoicingCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let tenant = tenant(&ctx, &slug).await?;
    let proof = staff.authorize::<ManageLeitwegIds>(tenant.id)?;
    let here = format!("/verwaltung/mandanten/{slug}/leitweg-ids");
    if field(&f, "aktion") == "entfernen" {
        let id = field(&f, "id").parse().map_err(|_| AppError::NotFound)?;
        service::remove_route(&ctx.kernel, &proof, id).await?;
        return Ok(redirect_with_flash(&here, FlashKind::Success, "invoicing.leitweg_removed", None));
    }
    let typed =
        (field(&f, "leitweg_id").to_owned(), field(&f, "org_unit").to_owned(), field(&f, "beschreibung").to_owned());
    let unit = OrgUnitId(typed.1.parse().unwrap_or(0));
    match service::add_route(&ctx.kernel, &proof, &typed.0, unit, &typed.2).await {
        Ok(_) => Ok(redirect_with_flash(&here, FlashKind::Success, "invoicing.leitweg_added", None)),
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            let p = leitweg_page(&ctx, chrome, tenant, &proof, typed, errors).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(e),
    }
}
