//! The forms' JSON API: the forms online, a form's definition, sending an application (checked
//! like the web journey, idempotent by `Idempotency-Key`), and the status of an application for
//! whoever has its tracking id and the postcode given in it.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use identity::http::citizen::{ClientInfo, MaybeCitizen};
use kernel::{AppError, FieldError};
use serde::{Deserialize, Serialize};

use super::FormsCtx;
use super::apply::{given_email, given_postcode};
use crate::definition::{Form, Kind};
use crate::intake::Intake;
use crate::model::{Status, StoredFile};
use crate::service::{self, Application, OnlineForm};
use crate::validate::{self, Answers};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FormsQuery {
    /// Only this tenant's forms (its short name).
    pub tenant: Option<String>,
}

/// A form online.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FormItem {
    pub id: String,
    /// The tenant's short name; form ids are unique per tenant.
    pub tenant: String,
    pub title: String,
    /// The version applications are made with now.
    pub version: i64,
    /// The catalogue service the form applies for.
    pub service: Option<String>,
    /// The form's page for citizens.
    pub url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FormList {
    pub items: Vec<FormItem>,
}

fn item(o: &OnlineForm, lang: &str) -> FormItem {
    FormItem {
        id: o.version.form_id.clone(),
        tenant: o.tenant.slug.clone(),
        title: o.form.title.get(lang).to_owned(),
        version: o.version.version,
        service: o.version.service_slug.clone(),
        url: format!("/antrag/{}/{}", o.tenant.slug, o.version.form_id),
    }
}

#[utoipa::path(get, path = "/api/v1/forms", tag = "forms", params(FormsQuery),
    responses((status = 200, description = "The forms online (the newest published version of each)", body = FormList)))]
pub async fn list(
    State(ctx): State<FormsCtx>,
    chrome: web::Chrome,
    Query(q): Query<FormsQuery>,
) -> Result<Json<FormList>, AppError> {
    let forms = service::online_forms(&ctx.kernel, q.tenant.as_deref()).await?;
    Ok(Json(FormList { items: forms.iter().map(|o| item(o, chrome.lang_code())).collect() }))
}

/// A form online with its definition (format: docs/FORMS.md).
#[derive(Serialize, utoipa::ToSchema)]
pub struct FormDetail {
    #[serde(flatten)]
    pub item: FormItem,
    pub definition: Form,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TenantQuery {
    /// The tenant's short name; needed only where several tenants have a form with this id.
    pub tenant: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/forms/{id}", tag = "forms", params(("id" = String, Path, description = "The form's id"), TenantQuery),
    responses((status = 200, body = FormDetail),
        (status = 404, body = web::ErrorEnvelope),
        (status = 409, description = "`forms.closed`: the form is offline", body = web::ErrorEnvelope),
        (status = 422, description = "`forms.tenant_required`", body = web::ErrorEnvelope)))]
pub async fn show(
    State(ctx): State<FormsCtx>,
    chrome: web::Chrome,
    Path(id): Path<String>,
    Query(q): Query<TenantQuery>,
) -> Result<Json<FormDetail>, AppError> {
    let o = service::online_form(&ctx.kernel, &id, q.tenant.as_deref()).await?;
    Ok(Json(FormDetail { item: item(&o, chrome.lang_code()), definition: o.form }))
}

/// An answer: one value, or several (checkboxes).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AnswerValue {
    One(String),
    Many(Vec<String>),
}

/// A file for a file field, in the request.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct FileUpload {
    /// The answer key of the file field (`plan`, or `kinder.0.nachweis` inside a repetition).
    pub field: String,
    pub file_name: String,
    /// The content, base64 (standard alphabet, with padding). Its type is decided by the content.
    pub content_base64: String,
}

/// An application. Answer keys are the field names; inside a repeating group
/// `<group>.<row>.<field>` (rows from 0); an address has `<field>.street`, `.postcode`, `.city`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewSubmission {
    #[schema(value_type = BTreeMap<String, Object>)]
    pub answers: BTreeMap<String, AnswerValue>,
    #[serde(default)]
    pub files: Vec<FileUpload>,
    /// The postcode that, with the tracking id, opens the status; needed when the form asks for
    /// no postcode or address.
    pub status_postcode: Option<String>,
}

/// An amount of money.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Money {
    pub amount_cents: i64,
    pub currency: String,
}

/// The acknowledgement of receipt (Eingangsbestätigung).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmissionReceipt {
    /// Short, with a check character; with the postcode it opens the status.
    pub tracking_id: String,
    pub form: String,
    pub tenant: String,
    pub version: i64,
    /// RFC 3339.
    pub received_at: String,
    /// SHA-256 of the submitted data (canonical JSON), as on the receipt.
    pub data_sha256: String,
    pub fee: Option<Money>,
    pub status_url: String,
}

/// The `Idempotency-Key` header: at most 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key =
        value.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|k| Some(k.to_owned())).ok_or_else(|| AppError::invalid("forms.idempotency_key_invalid", "Idempotency-Key"))
}

/// The uploads of the request, checked and stored; answers get their references.
async fn store_files(
    ctx: &FormsCtx,
    form: &Form,
    files: &[FileUpload],
    answers: &mut Answers,
) -> Result<(Vec<StoredFile>, Vec<FieldError>), AppError> {
    let mut stored = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        let name = f.field.rsplit('.').next().unwrap_or(&f.field);
        if !form.field(name).is_some_and(|x| matches!(x.kind, Kind::File { .. })) {
            problems.push(FieldError { field: f.field.clone(), code: "forms.not_a_file_field" });
            continue;
        }
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(f.content_base64.as_bytes()) else {
            problems.push(FieldError { field: f.field.clone(), code: "forms.file_unreadable" });
            continue;
        };
        match service::upload(&ctx.kernel, form, name, &f.file_name, bytes.into()).await {
            Ok(mut file) => {
                file.field = f.field.clone();
                answers.insert(f.field.clone(), vec![format!("sha256:{}", file.blob_sha256)]);
                stored.push(file);
            }
            Err(AppError::Invalid { fields, .. }) => {
                problems.extend(fields.into_iter().map(|e| FieldError { field: f.field.clone(), code: e.code }))
            }
            Err(e) => return Err(e),
        }
    }
    Ok((stored, problems))
}

#[utoipa::path(post, path = "/api/v1/forms/{id}/submissions", tag = "forms",
    params(("id" = String, Path, description = "The form's id"), TenantQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Sending again with the same key gives the first receipt; with other answers 409 `forms.idempotency_key_reused`")),
    request_body = NewSubmission,
    responses((status = 201, body = SubmissionReceipt),
        (status = 401, description = "The form needs a logged-in citizen", body = web::ErrorEnvelope),
        (status = 403, description = "The session's trust level is below the form's", body = web::ErrorEnvelope),
        (status = 404, body = web::ErrorEnvelope),
        (status = 409, description = "`forms.closed`, `forms.idempotency_key_reused`", body = web::ErrorEnvelope),
        (status = 422, description = "`invalid` with one entry per field (`forms.required`, `forms.too_long`, …), `forms.status_postcode_required`, `forms.tenant_required`", body = web::ErrorEnvelope)))]
pub async fn submit(
    State(ctx): State<FormsCtx>,
    Extension(intake): Extension<Intake>,
    Path(id): Path<String>,
    Query(q): Query<TenantQuery>,
    MaybeCitizen(citizen): MaybeCitizen,
    headers: HeaderMap,
    Json(body): Json<NewSubmission>,
) -> Result<Response, AppError> {
    let key = idempotency_key(&headers)?;
    let o = service::online_form(&ctx.kernel, &id, q.tenant.as_deref()).await?;
    service::may_send(&o.form, citizen.as_deref())?;
    let mut answers: Answers = body
        .answers
        .into_iter()
        .map(|(k, v)| match v {
            AnswerValue::One(s) => (k, vec![s]),
            AnswerValue::Many(list) => (k, list),
        })
        .collect();
    // A file field's answer is the reference to a file of this request, never one given directly.
    answers.retain(|k, _| !service::is_file_field(&o.form, k.rsplit('.').next().unwrap_or(k)));
    let (files, mut problems) = store_files(&ctx, &o.form, &body.files, &mut answers).await?;
    if !problems.is_empty() {
        let today = ctx.kernel.clock.now().german_date();
        let checked = validate::check(&o.form, &answers, today);
        let others = checked.problems.into_iter().filter(|p| !problems.iter().any(|u| u.field == p.field));
        problems.extend(others.map(|p| FieldError { field: p.field, code: p.code }).collect::<Vec<_>>());
        return Err(AppError::Invalid { code: "invalid", fields: problems });
    }
    let postcode = given_postcode(&o.form, &answers).or_else(|| {
        let p = body.status_postcode.as_deref().unwrap_or_default().trim();
        Some(p.to_owned()).filter(|p| p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit()))
    });
    let Some(secret) = postcode else {
        return Err(AppError::invalid("forms.status_postcode_required", "status_postcode"));
    };
    let token = match &key {
        Some(k) => kernel::sha256_hex(&format!("api\n{}\n{}\n{k}", o.tenant.id.0, o.version.form_id)),
        None => kernel::random_token(),
    };
    let email = given_email(&o.form, &answers);
    let app = Application {
        answers: &answers,
        files: &files,
        submit_token: &token,
        email: email.as_deref(),
        status_secret: Some(&secret),
        same_answers_only: true,
        citizen: citizen.as_ref().map(|c| c.id()),
    };
    let r = service::submit(&intake, &o.tenant, &o.version, &o.form, app).await?;
    let body = SubmissionReceipt {
        status_url: format!("/api/v1/submissions/{}/status", r.tracking_id),
        tracking_id: r.tracking_id,
        form: o.version.form_id.clone(),
        tenant: o.tenant.slug.clone(),
        version: o.version.version,
        received_at: r.received_at.rfc3339(),
        data_sha256: r.data_sha256,
        fee: r.fee_cents.map(|amount_cents| Money { amount_cents, currency: "EUR".into() }),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct StatusQuery {
    /// The postcode given in the application (the second factor).
    pub postcode: String,
}

/// A step of the history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusEvent {
    /// RFC 3339.
    pub at: String,
    pub status: String,
    /// The clerk's note for the applicant.
    pub note: String,
}

/// How far an application is.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmissionStatus {
    pub tracking_id: String,
    pub form: String,
    /// `received`, `in_progress`, `waiting` (for the applicant), `decided`, `closed`.
    pub status: String,
    pub received_at: String,
    pub updated_at: String,
    pub history: Vec<StatusEvent>,
}

fn status_name(s: Status) -> String {
    s.as_str().to_owned()
}

#[utoipa::path(get, path = "/api/v1/submissions/{tracking_id}/status", tag = "forms",
    params(("tracking_id" = String, Path, description = "The tracking id from the receipt"), StatusQuery),
    responses((status = 200, body = SubmissionStatus),
        (status = 422, description = "`forms.status_not_found` (the same for an unknown id and a wrong postcode), `forms.tracking_id_invalid`", body = web::ErrorEnvelope),
        (status = 429, description = "`forms.too_many_status_lookups`: too many failed lookups from this address or for this id", body = web::ErrorEnvelope)))]
pub async fn status(
    State(ctx): State<FormsCtx>,
    client: ClientInfo,
    Path(tracking_id): Path<String>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<SubmissionStatus>, AppError> {
    let tracking_id: String = tracking_id.chars().take(40).collect();
    let (s, events) = service::status_lookup(&ctx.kernel, &tracking_id, &q.postcode, &client.ip).await?;
    let history = events
        .into_iter()
        .map(|e| StatusEvent { at: e.at.rfc3339(), status: status_name(e.status), note: e.note })
        .collect();
    Ok(Json(SubmissionStatus {
        tracking_id: s.tracking_id,
        form: s.form_id,
        status: status_name(s.status),
        received_at: s.created_at.rfc3339(),
        updated_at: s.updated_at.rfc3339(),
        history,
    }))
}

/// The forms' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, show, submit, status),
    components(schemas(
        FormList,
        FormItem,
        FormDetail,
        NewSubmission,
        AnswerValue,
        FileUpload,
        SubmissionReceipt,
        Money,
        SubmissionStatus,
        StatusEvent
    ))
)]
pub struct FormsApi;
