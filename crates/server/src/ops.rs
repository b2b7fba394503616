//! Operations: `/healthz`, `/readyz`, `/metrics`, the OpenAPI document, and the platform
//! administrators' page of background jobs (with "retry" and "send a test mail").

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use identity::http::StaffUser;
use kernel::jobs::{self, Job, QueueStats};
use kernel::{AppError, JobId, Kernel};
use serde::Serialize;
use utoipa::OpenApi;
use web::metrics::Metrics;
use web::{Chrome, FlashKind, page, redirect_with_flash};

#[derive(Clone)]
pub struct OpsCtx {
    pub kernel: Kernel,
    pub metrics: Arc<Metrics>,
}

pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };

pub fn routes(ctx: OpsCtx) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/verwaltung/auftraege", get(jobs_page))
        .route("/verwaltung/auftraege/{id}/wiederholen", post(retry_job))
        .route("/verwaltung/auftraege/testmail", post(test_mail))
        .with_state(ctx)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
struct Readiness {
    database: bool,
}

/// Ready: the database answers. A load balancer sends traffic only to ready nodes.
async fn readyz(State(ctx): State<OpsCtx>) -> Response {
    let database = ctx.kernel.db.ping().await;
    let status = if database { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut res = (status, Json(Readiness { database })).into_response();
    // Already a complete answer: the error pages must not replace it.
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Prometheus text: requests and latency by route, and the job queue by state.
async fn metrics(State(ctx): State<OpsCtx>) -> Response {
    let mut body = ctx.metrics.render();
    if let Ok(s) = jobs::stats(&ctx.kernel.db).await {
        body.push_str("# HELP kreishaus_jobs Background jobs by state.\n# TYPE kreishaus_jobs gauge\n");
        for (state, n) in [("queued", s.queued), ("running", s.running), ("done", s.done), ("failed", s.failed)] {
            body.push_str(&format!("kreishaus_jobs{{state=\"{state}\"}} {n}\n"));
        }
    }
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], body)
        .into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kreishaus API",
        description = "The JSON API of Kreishaus, the digital county hall. Errors use one envelope: {\"error\":{\"code\",\"message\",\"fields\"}}.",
        license(name = "EUPL-1.2")
    ),
    paths(openapi)
)]
struct KreishausApi;

/// The OpenAPI 3.1 document of every `/api/v1` route, generated from the code.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = KreishausApi::openapi();
    doc.merge(identity::http::api::IdentityApi::openapi());
    doc.merge(identity::http::citizen::api::AccountApi::openapi());
    doc.merge(portal::http::api::PortalApi::openapi());
    doc.merge(forms::http::api::FormsApi::openapi());
    doc.merge(invoicing::http::api::InvoicingApi::openapi());
    doc.merge(datastore::http::api::DatastoreApi::openapi());
    doc
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "This document")))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

#[derive(Template)]
#[template(path = "ops/jobs.html")]
struct JobsPage {
    chrome: Chrome,
    stats: QueueStats,
    jobs: Vec<Job>,
}

impl JobsPage {
    fn state_key(&self, job: &Job) -> &'static str {
        match job.status {
            jobs::JobStatus::Queued => "ops.queued",
            jobs::JobStatus::Running => "ops.running",
            jobs::JobStatus::Done => "ops.done",
            jobs::JobStatus::Failed => "ops.failed",
        }
    }
}

async fn jobs_page(
    State(ctx): State<OpsCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    staff.authorize_platform()?;
    let stats = jobs::stats(&ctx.kernel.db).await?;
    let jobs = jobs::recent(&ctx.kernel.db, None, 100).await?;
    Ok(page(&JobsPage { chrome, stats, jobs }))
}

async fn retry_job(
    State(ctx): State<OpsCtx>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    staff.authorize_platform()?;
    let retried = jobs::retry(&ctx.kernel.db, JobId(id), ctx.kernel.clock.now()).await?;
    let (kind, key) =
        if retried { (FlashKind::Success, "ops.job_retried") } else { (FlashKind::Warning, "ops.job_not_failed") };
    Ok(redirect_with_flash("/verwaltung/auftraege", kind, key, Some(format!("#{id}"))))
}

#[derive(serde::Deserialize)]
struct TestMailForm {
    to: String,
}

/// Enqueues a test mail: checks the SMTP settings end to end through the outbox.
async fn test_mail(
    State(ctx): State<OpsCtx>,
    StaffUser(staff): StaffUser,
    Form(f): Form<TestMailForm>,
) -> Result<Response, AppError> {
    staff.authorize_platform()?;
    let to = f.to.trim();
    if !identity::model::looks_like_email(to) {
        return Err(AppError::invalid("identity.email_invalid", "to"));
    }
    let now = ctx.kernel.clock.now();
    let mail = kernel::mail::Mail {
        to: to.to_owned(),
        subject: "Kreishaus: Testnachricht".into(),
        body: "Diese Testnachricht bestätigt, dass Kreishaus E-Mails versenden kann.\n\nThis test message confirms that Kreishaus can send e-mail.".into(),
    };
    let mut tx = ctx.kernel.db.begin().await?;
    kernel::mail::enqueue(&mut tx, now, Some(staff.tenant()), &mail, None).await?;
    kernel::audit::append(
        &mut tx,
        now,
        kernel::audit::NewEntry {
            tenant: staff.tenant(),
            actor: &staff.actor(),
            action: "ops.test_mail",
            subject: "mail",
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash("/verwaltung/auftraege", FlashKind::Success, "ops.test_mail_queued", Some(to.to_owned())))
}
