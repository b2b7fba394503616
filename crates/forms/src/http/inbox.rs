//! The clerks' inbox (Posteingang) per org unit: list and filter submissions, open one with its
//! answers, files and history, and set its status with a note the applicant sees.

use askama::Template;
use axum::Form as PostedForm;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use identity::http::StaffUser;
use identity::model::Tenant;
use identity::{Authorized, Staff};
use kernel::AppError;
use serde::Deserialize;
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, page, redirect_with_flash};

use super::FormsCtx;
use crate::model::{Status, StoredFile, Submission, SubmissionEvent};
use crate::service::{self, AssignmentFilter, WorkInbox};

/// The inbox of a tenant for this member of staff: a tenant-wide role sees every unit's
/// submissions, a role in a unit that unit's.
fn inbox_proof(staff: &Staff, tenant: &Tenant) -> Result<Authorized<WorkInbox>, AppError> {
    staff.authorize::<WorkInbox>(tenant.id).or_else(|_| {
        staff
            .roles
            .iter()
            .filter(|g| g.tenant == tenant.id)
            .find_map(|g| g.org_unit.and_then(|u| staff.authorize_in_unit::<WorkInbox>(tenant.id, u).ok()))
            .ok_or(AppError::Forbidden)
    })
}

async fn proof_for(ctx: &FormsCtx, staff: &Staff, slug: &str) -> Result<(Tenant, Authorized<WorkInbox>), AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, slug).await?;
    let proof = inbox_proof(staff, &tenant)?;
    Ok((tenant, proof))
}

#[derive(Deserialize)]
pub struct Filter {
    status: Option<String>,
    /// `mir` (assigned to me) or `niemand` (unassigned).
    zuweisung: Option<String>,
}

#[derive(Template)]
#[template(path = "forms/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    tenant: Tenant,
    submissions: Vec<Submission>,
    filter: Option<Status>,
    statuses: [Status; 5],
    assignment: AssignmentFilter,
}

impl InboxPage {
    fn is_assignment(&self, a: &str) -> bool {
        matches!(
            (self.assignment, a),
            (AssignmentFilter::All, "") | (AssignmentFilter::Mine, "mir") | (AssignmentFilter::Unassigned, "niemand")
        )
    }

    fn received(&self, s: &Submission) -> String {
        s.created_at.display_german()
    }

    fn is_filter(&self, s: &Status) -> bool {
        self.filter == Some(*s)
    }
}

/// `GET /verwaltung/mandanten/{slug}/eingang?status=…`
pub async fn list(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    Query(q): Query<Filter>,
) -> Result<Response, AppError> {
    let (tenant, proof) = proof_for(&ctx, &staff, &slug).await?;
    let filter = q.status.as_deref().filter(|s| !s.is_empty()).map(Status::parse);
    let assignment = match q.zuweisung.as_deref() {
        Some("mir") => AssignmentFilter::Mine,
        Some("niemand") => AssignmentFilter::Unassigned,
        _ => AssignmentFilter::All,
    };
    let submissions = service::inbox(&ctx.kernel, &proof, filter, assignment).await?;
    Ok(page(&InboxPage { chrome, tenant, submissions, filter, statuses: Status::ALL, assignment }))
}

#[derive(Template)]
#[template(path = "forms/submission.html")]
struct SubmissionPage {
    chrome: Chrome,
    tenant: Tenant,
    submission: Submission,
    answers: Vec<(String, String)>,
    files: Vec<StoredFile>,
    history: Vec<SubmissionEvent>,
    statuses: [Status; 5],
    /// The delivery to the back-office system, if the form delivers.
    delivery: Option<kernel::jobs::Job>,
    /// Who may take it on.
    colleagues: Vec<identity::model::StaffMember>,
    me: kernel::StaffId,
}

impl SubmissionPage {
    fn is_assignee(&self, m: &identity::model::StaffMember) -> bool {
        self.submission.assigned_to == Some(m.id)
    }

    fn assignee(&self) -> Option<&str> {
        let to = self.submission.assigned_to?;
        self.colleagues.iter().find(|m| m.id == to).map(|m| m.display_name.as_str())
    }

    fn mine(&self) -> bool {
        self.submission.assigned_to == Some(self.me)
    }

    fn delivery_state_key(&self, job: &kernel::jobs::Job) -> &'static str {
        use kernel::jobs::JobStatus;
        match job.status {
            JobStatus::Queued => "forms.delivery_state.queued",
            JobStatus::Running => "forms.delivery_state.running",
            JobStatus::Done => "forms.delivery_state.done",
            JobStatus::Failed => "forms.delivery_state.failed",
        }
    }

    fn delivery_failed(&self, job: &kernel::jobs::Job) -> bool {
        job.status == kernel::jobs::JobStatus::Failed
    }

    fn at(&self, e: &SubmissionEvent) -> String {
        e.at.display_german()
    }

    fn received(&self) -> String {
        self.submission.created_at.display_german()
    }

    fn fee(&self) -> Option<String> {
        self.submission.fee_cents.map(portal::details::format_euro)
    }

    fn is_current(&self, s: &Status) -> bool {
        self.submission.status == *s
    }
}

/// The answers as (key, value) text, flattened for reading.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| flatten(&format!("{prefix}{k}."), v, out)),
        serde_json::Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            items.iter().enumerate().for_each(|(i, v)| flatten(&format!("{prefix}{}.", i + 1), v, out))
        }
        serde_json::Value::String(s) => out.push((prefix.trim_end_matches('.').to_owned(), s.clone())),
        other => out.push((prefix.trim_end_matches('.').to_owned(), other.to_string())),
    }
}

/// `GET /verwaltung/mandanten/{slug}/eingang/{tracking}`: opening a submission is recorded.
pub async fn show(
    State(ctx): State<FormsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, tracking)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = proof_for(&ctx, &staff, &slug).await?;
    let (submission, files, history) = service::open(&ctx.kernel, &proof, &tracking).await?;
    let mut answers = Vec::new();
    flatten("", &serde_json::Value::Object(submission.data.clone()), &mut answers);
    let delivery = service::delivery_of(&ctx.kernel, &submission).await?;
    let colleagues = service::colleagues(&ctx.kernel, &submission).await?;
    let me = proof.staff();
    let statuses = Status::ALL;
    Ok(page(&SubmissionPage {
        chrome,
        tenant,
        submission,
        answers,
        files,
        history,
        statuses,
        delivery,
        colleagues,
        me,
    }))
}

/// `POST /verwaltung/mandanten/{slug}/eingang/{tracking}`: a new status with a note, or with
/// `aktion=zuweisen` an assignment.
pub async fn change(
    State(ctx): State<FormsCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, tracking)): Path<(String, String)>,
    PostedForm(f): PostedForm<FormFields>,
) -> Result<Response, AppError> {
    let (_, proof) = proof_for(&ctx, &staff, &slug).await?;
    if field(&f, "aktion") == "zuweisen" {
        return assign(&ctx, &proof, &slug, &tracking, &f).await;
    }
    let status = Status::ALL
        .into_iter()
        .find(|s| s.as_str() == field(&f, "status"))
        .ok_or(AppError::invalid("forms.status_unknown", "status"))?;
    service::set_status(&ctx.kernel, &proof, &tracking, status, field(&f, "notiz")).await?;
    let here = format!("/verwaltung/mandanten/{slug}/eingang/{tracking}");
    Ok(redirect_with_flash(&here, FlashKind::Success, "forms.status_changed", None))
}

/// `GET /verwaltung/mandanten/{slug}/eingang/{tracking}/dateien/{hash}`: a file as uploaded,
/// as a download (never shown inline: it came from outside).
pub async fn file(
    State(ctx): State<FormsCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, tracking, hash)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let (_, proof) = proof_for(&ctx, &staff, &slug).await?;
    let (f, bytes) = service::file(&ctx.kernel, &proof, &tracking, &hash).await?;
    Ok(attachment(bytes, &f.media_type, &f.file_name))
}

/// A download, never shown inline.
fn attachment(body: impl IntoResponse, media_type: &str, file_name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", file_name.replace(['"', '\\'], "_"));
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    res
}

/// `POST /verwaltung/mandanten/{slug}/eingang/{tracking}/zustellung`: a failed delivery again.
pub async fn retry_delivery(
    State(ctx): State<FormsCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, tracking)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (_, proof) = proof_for(&ctx, &staff, &slug).await?;
    service::retry_delivery(&ctx.kernel, &proof, &tracking).await?;
    let here = format!("/verwaltung/mandanten/{slug}/eingang/{tracking}");
    Ok(redirect_with_flash(&here, FlashKind::Success, "forms.delivery_retried", None))
}

/// `GET /verwaltung/mandanten/{slug}/eingang/{tracking}/antrag.{json|xml}`: the submission as a
/// document to download; recorded.
pub async fn download(
    State(ctx): State<FormsCtx>,
    StaffUser(staff): StaffUser,
    Path((slug, tracking, file)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let (_, proof) = proof_for(&ctx, &staff, &slug).await?;
    let (format, media_type) = match file.as_str() {
        "antrag.json" => (service::ExportFormat::Json, "application/json"),
        "antrag.xml" => (service::ExportFormat::Xml, "application/xml; charset=utf-8"),
        _ => return Err(AppError::NotFound),
    };
    let body = service::export(&ctx.kernel, &proof, &tracking, format).await?;
    let ext = if format == service::ExportFormat::Json { "json" } else { "xml" };
    Ok(attachment(body, media_type, &format!("{tracking}.{ext}")))
}

/// The assignment part of the detail page's post: `zustaendig` = a staff id, `ich` (myself) or
/// empty (nobody).
async fn assign(
    ctx: &FormsCtx,
    proof: &Authorized<WorkInbox>,
    slug: &str,
    tracking: &str,
    f: &FormFields,
) -> Result<Response, AppError> {
    let to = match field(f, "zustaendig") {
        "" => None,
        "ich" => Some(proof.staff()),
        id => Some(kernel::StaffId(id.parse().map_err(|_| AppError::invalid("forms.assignee_unknown", "zustaendig"))?)),
    };
    service::assign(&ctx.kernel, proof, tracking, to).await?;
    let here = format!("/verwaltung/mandanten/{slug}/eingang/{tracking}");
    Ok(redirect_with_flash(&here, FlashKind::Success, "forms.assigned", None))
}
