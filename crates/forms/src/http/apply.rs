//! The citizen's journey through a form, page by page, without JavaScript: each page posts
//! everything answered so far (as a hidden JSON state) plus its own fields, uploads go to the
//! object store at once, a summary comes before sending, and the receipt after.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Redirect, Response};
use identity::citizen::model::Citizen;
use identity::http::citizen::MaybeCitizen;
use identity::model::Tenant;
use kernel::AppError;
use serde::{Deserialize, Serialize};
use web::{Chrome, Flash, FlashKind, html, page};

use super::FormsCtx;
use crate::definition::{Form, Kind};
use crate::intake::Intake;
use crate::model::{FormVersion, StoredFile};
use crate::render::{self, Ctx, Words};
use crate::service::{self, Application, Receipt};
use crate::validate::{self, Answers};

/// What a page carries from one step to the next.
#[derive(Default, Serialize, Deserialize)]
struct State_ {
    answers: Answers,
    files: Vec<StoredFile>,
    /// Identifies this application across pages: sending twice gives one submission.
    token: String,
    /// Values from the citizen account were taken over (with consent): not offered again.
    #[serde(default)]
    prefilled: bool,
}

/// Which page to show: a step by index, or the summary after the last step.
const SUMMARY: usize = usize::MAX;

#[derive(Template)]
#[template(path = "forms/step.html")]
struct StepPage {
    chrome: Chrome,
    tenant: Tenant,
    form: Form,
    step: usize,
    /// `Schritt 2 von 4`.
    position: (usize, usize),
    fields_html: String,
    state_json: String,
    errors: Vec<(String, String)>,
    is_first: bool,
    /// The labels of the fields a logged-in citizen may fill from the account (with consent).
    prefill_offer: Vec<String>,
}

impl StepPage {
    fn current(&self) -> Option<&crate::definition::Step> {
        self.form.steps.get(self.step)
    }
}

#[derive(Template)]
#[template(path = "forms/summary.html")]
struct SummaryPage {
    chrome: Chrome,
    tenant: Tenant,
    form: Form,
    rows: Vec<render::ReadableStep>,
    fee: Option<String>,
    state_json: String,
    errors: Vec<(String, String)>,
    needs_postcode: bool,
    status_answer: String,
}

#[derive(Template)]
#[template(path = "forms/receipt.html")]
struct ReceiptPage {
    chrome: Chrome,
    tenant: Tenant,
    form: Form,
    receipt: Receipt,
    fee: Option<String>,
}

impl ReceiptPage {
    fn received(&self) -> String {
        self.receipt.received_at.display_german()
    }
}

pub(crate) fn words(chrome: &Chrome) -> Words {
    let t = |k: &str| chrome.t(k).to_owned();
    Words {
        optional: t("forms.optional"),
        choose: t("forms.choose"),
        add_row: t("forms.add_row"),
        remove_row: t("forms.remove_row"),
        uploaded: t("forms.uploaded"),
        street: t("forms.street"),
        postcode: t("forms.postcode"),
        city: t("forms.city"),
        yes: t("forms.consent_legend"),
    }
}

/// `1234` cents as `12,34 €`.
fn euro(cents: i64) -> String {
    portal::details::format_euro(cents)
}

async fn form_of(ctx: &FormsCtx, tenant: &str, form_id: &str) -> Result<(Tenant, FormVersion, Form), AppError> {
    let tenant = identity::service::tenant_by_slug(&ctx.kernel, tenant).await?;
    if !tenant.active {
        return Err(AppError::NotFound);
    }
    let (version, form) = service::current(&ctx.kernel, &tenant, form_id).await?;
    Ok((tenant, version, form))
}

/// The translated problems by field key, in the order of the form.
fn messages(chrome: &Chrome, problems: &[validate::Problem]) -> BTreeMap<String, String> {
    problems
        .iter()
        .map(|p| {
            let text = chrome.error_message(p.code);
            let text = if p.limit.is_empty() { text } else { text.replace("{limit}", &p.limit) };
            (p.field.clone(), text)
        })
        .collect()
}

fn ordered_errors(problems: &[validate::Problem], messages: &BTreeMap<String, String>) -> Vec<(String, String)> {
    problems.iter().filter_map(|p| messages.get(&p.field).map(|m| (p.field.clone(), m.clone()))).collect()
}

fn step_page(
    chrome: Chrome,
    tenant: Tenant,
    form: Form,
    state: &State_,
    step: usize,
    problems: &[validate::Problem],
) -> StepPage {
    let visible = validate::visible_steps(&form, &state.answers);
    let index = visible.iter().position(|s| *s == step).unwrap_or(0);
    let messages = messages(&chrome, problems);
    let words = words(&chrome);
    let lang = chrome.lang_code();
    let ctx = Ctx { lang, answers: &state.answers, errors: &messages, files: &state.files, words: &words };
    let mut fields_html = String::new();
    if let Some(s) = form.steps.get(step) {
        render::fields(&mut fields_html, &ctx, &s.fields, "");
    }
    let errors = ordered_errors(problems, &messages);
    let state_json = serde_json::to_string(state).unwrap_or_default();
    let prefill_offer = if chrome.is_citizen() && index == 0 && !state.prefilled {
        form.all_fields().iter().filter(|f| f.prefill.is_some()).map(|f| f.label.get(lang).to_owned()).collect()
    } else {
        Vec::new()
    };
    StepPage {
        prefill_offer,
        chrome,
        tenant,
        form,
        step,
        position: (index + 1, visible.len()),
        fields_html,
        state_json,
        errors,
        is_first: index == 0,
    }
}

/// The login or step-up page when the form needs a trust level the session does not have.
fn gate(form: &Form, citizen: Option<&Citizen>, tenant: &Tenant) -> Option<Response> {
    let level = service::needed_level(form)?;
    let back = format!("/antrag/{}/{}", tenant.slug, form.id);
    identity::http::citizen::step_up_path(citizen, level, &back)
        .map(|to| axum::response::IntoResponse::into_response(Redirect::to(&to)))
}

#[derive(Deserialize)]
pub struct StartQuery {
    /// `?neu=1`: discard the kept draft and start over.
    #[serde(default)]
    neu: Option<String>,
}

/// `GET /antrag/{tenant}/{form}`: the first page of the current version, or where a logged-in
/// citizen's kept draft stopped.
pub async fn start(
    State(ctx): State<FormsCtx>,
    mut chrome: Chrome,
    MaybeCitizen(citizen): MaybeCitizen,
    Path((tenant, form_id)): Path<(String, String)>,
    Query(q): Query<StartQuery>,
) -> Result<Response, AppError> {
    let (tenant, version, form) = form_of(&ctx, &tenant, &form_id).await?;
    if let Some(to) = gate(&form, citizen.as_deref(), &tenant) {
        return Ok(to);
    }
    if let Some(citizen) = &citizen {
        if q.neu.is_some() {
            service::discard_application_draft(&ctx.kernel, citizen.id(), &tenant, &form.id).await?;
        } else if let Some(draft) = service::application_draft(&ctx.kernel, citizen.id(), &tenant, &form.id).await?
            && let Ok(mut state) = serde_json::from_str::<State_>(&draft.state)
        {
            let mut key = "forms.draft_resumed";
            let mut step = usize::try_from(draft.step).ok();
            if draft.version != version.version {
                // Made with an older version: keep what still fits, start at the first page, say so.
                state.answers = validate::carry_over(&form, &state.answers, ctx.kernel.clock.now().german_date());
                state.files.retain(|f| state.answers.values().flatten().any(|v| v.ends_with(&f.blob_sha256)));
                step = None;
                key = "forms.draft_outdated";
            }
            let visible = validate::visible_steps(&form, &state.answers);
            let step = step.filter(|s| visible.contains(s));
            let step = step.or_else(|| visible.first().copied()).unwrap_or(0);
            let kind = if key == "forms.draft_resumed" { FlashKind::Info } else { FlashKind::Warning };
            chrome.flash = Some(Flash { kind, key: key.into(), arg: None });
            return Ok(page(&step_page(chrome, tenant, form, &state, step, &[])));
        }
    }
    let state = State_ { token: kernel::random_token(), ..State_::default() };
    let first = validate::visible_steps(&form, &state.answers).first().copied().unwrap_or(0);
    Ok(page(&step_page(chrome, tenant, form, &state, first, &[])))
}

/// What a page posted: its action, the step it showed, the carried state and its own fields.
struct Posted {
    action: String,
    step: usize,
    state: State_,
    fields: Answers,
    uploads: Vec<(String, String, bytes::Bytes)>,
    status_answer: String,
}

async fn read_post(mut form: Multipart) -> Result<Posted, AppError> {
    let unreadable = || AppError::invalid("forms.post_unreadable", "");
    let mut posted = Posted {
        action: String::new(),
        step: 0,
        state: State_::default(),
        fields: Answers::new(),
        uploads: Vec::new(),
        status_answer: String::new(),
    };
    while let Some(part) = form.next_field().await.map_err(|_| unreadable())? {
        let name = part.name().unwrap_or_default().to_owned();
        if let Some(file_name) = part.file_name().map(str::to_owned) {
            let bytes = part.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            if !bytes.is_empty() {
                posted.uploads.push((name, file_name, bytes));
            }
            continue;
        }
        let text = part.text().await.map_err(|_| unreadable())?;
        match name.as_str() {
            "aktion" => posted.action = text,
            "_step" => posted.step = text.parse().unwrap_or(0),
            "_state" => posted.state = serde_json::from_str(&text).map_err(|_| unreadable())?,
            "_status" => posted.status_answer = text.trim().chars().take(40).collect(),
            _ => posted.fields.entry(name).or_default().push(text),
        }
    }
    if posted.state.token.len() != 64 {
        return Err(unreadable());
    }
    Ok(posted)
}

/// The keys a step's fields own in the answers (repeating groups: every key under the group).
fn owned_by(form: &Form, step: usize, key: &str) -> bool {
    form.steps
        .get(step)
        .is_some_and(|s| s.fields.iter().any(|f| key == f.name || key.starts_with(&format!("{}.", f.name))))
}

/// `POST /antrag/{tenant}/{form}`: next, back, change a step, add or remove a repetition, send.
pub async fn post(
    State(ctx): State<FormsCtx>,
    Extension(intake): Extension<Intake>,
    chrome: Chrome,
    MaybeCitizen(citizen): MaybeCitizen,
    Path((tenant, form_id)): Path<(String, String)>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (tenant, version, form) = form_of(&ctx, &tenant, &form_id).await?;
    if let Some(to) = gate(&form, citizen.as_deref(), &tenant) {
        return Ok(to);
    }
    let Posted { action, step, mut state, fields, uploads, status_answer } = read_post(multipart).await?;
    if step != SUMMARY && step < form.steps.len() {
        state.answers.retain(|k, _| !owned_by(&form, step, k) || is_file_answer(&form, k));
        state.answers.extend(fields);
    }
    let mut upload_problems = Vec::new();
    for (field, file_name, bytes) in uploads {
        let key_field = field.rsplit('.').next().unwrap_or(&field).to_owned();
        match service::upload(&ctx.kernel, &form, &key_field, &file_name, bytes).await {
            Ok(mut stored) => {
                stored.field = field.clone();
                state.answers.insert(field, vec![format!("sha256:{}", stored.blob_sha256)]);
                state.files.retain(|f| f.field != stored.field);
                state.files.push(stored);
            }
            Err(AppError::Invalid { fields, .. }) => {
                let code = fields.first().map_or("forms.file_type", |f| f.code);
                let limit = match form.field(&key_field).map(|f| &f.kind) {
                    Some(Kind::File { accept, max_bytes }) if code == "forms.file_too_large" => {
                        format!("{} MB", max_bytes.div_ceil(1_048_576))
                    }
                    Some(Kind::File { accept, .. }) => accept.join(", "),
                    _ => String::new(),
                };
                upload_problems.push(validate::Problem { field, code, limit });
            }
            Err(e) => return Err(e),
        }
    }
    let visible = validate::visible_steps(&form, &state.answers);
    let today = ctx.kernel.clock.now().german_date();
    let (verb, argument) = action.split_once(':').unwrap_or((action.as_str(), ""));
    match verb {
        "hinzufuegen" | "entfernen" => {
            let rows = render::repetitions(&state.answers, argument);
            if verb == "hinzufuegen" {
                if let Some(Kind::Repeat { fields, .. }) = form.field(argument).map(|f| &f.kind) {
                    for f in fields {
                        state.answers.entry(format!("{argument}.{}.{}", rows.max(1), f.name)).or_default();
                    }
                }
            } else if rows > 1 {
                state.answers.retain(|k, _| !k.starts_with(&format!("{argument}.{}.", rows - 1)));
            }
            Ok(page(&step_page(chrome, tenant, form, &state, step, &upload_problems)))
        }
        "uebernehmen" => {
            let Some(citizen) = &citizen else { return Err(AppError::Unauthenticated) };
            service::prefill(&ctx.kernel, citizen, &tenant, &form, &mut state.answers).await?;
            state.prefilled = true;
            let mut chrome = chrome;
            chrome.flash = Some(Flash { kind: FlashKind::Success, key: "forms.prefilled".into(), arg: None });
            Ok(page(&step_page(chrome, tenant, form, &state, step, &upload_problems)))
        }
        "speichern" => {
            let Some(citizen) = &citizen else { return Err(AppError::Unauthenticated) };
            let state_json = serde_json::to_string(&state).map_err(AppError::internal)?;
            let at = if step == SUMMARY { visible.last().copied().unwrap_or(0) } else { step };
            service::keep_application_draft(&ctx.kernel, citizen.id(), &version, &state_json, at as i64).await?;
            let mut chrome = chrome;
            chrome.flash = Some(Flash { kind: FlashKind::Success, key: "forms.application_saved".into(), arg: None });
            Ok(page(&step_page(chrome, tenant, form, &state, at, &upload_problems)))
        }
        "zurueck" => {
            let previous = visible.iter().rev().find(|s| step == SUMMARY || **s < step).copied().unwrap_or(0);
            Ok(page(&step_page(chrome, tenant, form, &state, previous, &[])))
        }
        "schritt" => {
            let to = argument.parse().ok().filter(|s| visible.contains(s)).unwrap_or(0);
            Ok(page(&step_page(chrome, tenant, form, &state, to, &[])))
        }
        "absenden" => {
            let applicant = Applicant { citizen: citizen.as_deref(), status_answer };
            send(&intake, chrome, tenant, &version, form, state, applicant).await
        }
        _ => {
            let mut problems = validate::check_step(&form, step, &state.answers, today);
            // A refused upload says why; "please upload a file" would hide the reason.
            problems.retain(|p| !upload_problems.iter().any(|u| u.field == p.field));
            problems.splice(0..0, upload_problems);
            if !problems.is_empty() {
                let p = step_page(chrome, tenant, form, &state, step, &problems);
                return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p));
            }
            match visible.iter().find(|s| **s > step && step != SUMMARY) {
                Some(next) => Ok(page(&step_page(chrome, tenant, form, &state, *next, &[]))),
                None => {
                    let shown = Shown { errors: Vec::new(), status_answer, today };
                    Ok(page(&summary_page(chrome, tenant, form, &state, shown)))
                }
            }
        }
    }
}

fn is_file_answer(form: &Form, key: &str) -> bool {
    let name = key.rsplit('.').next().unwrap_or(key);
    service::is_file_field(form, name)
}

/// The postcode the applicant gave (a postcode field or an address), for the status page.
pub(crate) fn given_postcode(form: &Form, answers: &Answers) -> Option<String> {
    form.all_fields().iter().find_map(|f| {
        let key = match f.kind {
            Kind::Postcode => f.name.clone(),
            Kind::Address => format!("{}.postcode", f.name),
            _ => return None,
        };
        answers.get(&key).and_then(|v| v.first()).map(|p| p.trim().to_owned()).filter(|p| p.len() == 5)
    })
}

pub(crate) fn given_email(form: &Form, answers: &Answers) -> Option<String> {
    form.all_fields().iter().filter(|f| matches!(f.kind, Kind::Email)).find_map(|f| {
        answers.get(&f.name).and_then(|v| v.first()).map(|e| e.trim().to_owned()).filter(|e| e.contains('@'))
    })
}

struct Shown {
    errors: Vec<(String, String)>,
    status_answer: String,
    today: time::Date,
}

fn summary_page(chrome: Chrome, tenant: Tenant, form: Form, state: &State_, shown: Shown) -> SummaryPage {
    let Shown { errors, status_answer, today } = shown;
    let checked = validate::check(&form, &state.answers, today);
    let rows = render::readable(&form, chrome.lang_code(), &checked.values, &state.files);
    let needs_postcode = given_postcode(&form, &state.answers).is_none();
    SummaryPage {
        chrome,
        tenant,
        fee: checked.fee_cents.map(euro),
        form,
        rows,
        state_json: serde_json::to_string(state).unwrap_or_default(),
        errors,
        needs_postcode,
        status_answer,
    }
}

/// Who sends: a logged-in citizen (if any) and the second answer typed on the summary.
struct Applicant<'a> {
    citizen: Option<&'a Citizen>,
    status_answer: String,
}

async fn send(
    intake: &Intake,
    chrome: Chrome,
    tenant: Tenant,
    version: &FormVersion,
    form: Form,
    state: State_,
    applicant: Applicant<'_>,
) -> Result<Response, AppError> {
    let Applicant { citizen, status_answer } = applicant;
    let postcode = given_postcode(&form, &state.answers)
        .or_else(|| Some(status_answer.clone()).filter(|p| p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit())));
    let Some(secret) = postcode else {
        let message = chrome.error_message("forms.status_postcode_required");
        let today = intake.kernel().clock.now().german_date();
        let shown = Shown { errors: vec![("_status".into(), message)], status_answer, today };
        let p = summary_page(chrome, tenant, form, &state, shown);
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p));
    };
    let email = given_email(&form, &state.answers);
    let app = Application {
        answers: &state.answers,
        files: &state.files,
        submit_token: &state.token,
        email: email.as_deref(),
        status_secret: Some(&secret),
        citizen: citizen.map(Citizen::id),
        same_answers_only: false,
    };
    match service::submit(intake, &tenant, version, &form, app).await {
        Ok(receipt) => {
            let fee = receipt.fee_cents.map(euro);
            Ok(page(&ReceiptPage { chrome, tenant, form, receipt, fee }))
        }
        Err(AppError::Invalid { fields, .. }) => {
            // Something changed since the step was checked (a date passed midnight, say): back
            // to the first step with a problem.
            let problems: Vec<validate::Problem> = fields
                .iter()
                .map(|f| validate::Problem { field: f.field.clone(), code: f.code, limit: String::new() })
                .collect();
            let step = form
                .steps
                .iter()
                .position(|s| {
                    problems
                        .iter()
                        .any(|p| owned_by(&form, form.steps.iter().position(|x| x.id == s.id).unwrap_or(0), &p.field))
                })
                .unwrap_or(0);
            let p = step_page(chrome, tenant, form, &state, step, &problems);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ReceiptQuery {
    #[serde(default)]
    pub(crate) t: String,
}

/// `GET /antrag/eingang/{tracking}/quittung.pdf?t=…`: the receipt as PDF, for whoever holds the
/// link from the receipt page or mail.
pub async fn receipt_pdf(
    State(ctx): State<FormsCtx>,
    Path(tracking): Path<String>,
    Query(q): Query<ReceiptQuery>,
) -> Result<Response, AppError> {
    let pdf = service::receipt_pdf(&ctx.kernel, &tracking, &q.t).await?;
    pdf_response(pdf, "Eingangsbestaetigung", &tracking)
}

/// A PDF to download as `{name}-{tracking}.pdf`, never cached by shared caches.
pub(crate) fn pdf_response(pdf: Vec<u8>, name: &str, tracking: &str) -> Result<Response, AppError> {
    let disposition = format!(
        "attachment; filename=\"{name}-{}.pdf\"",
        tracking.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "application/pdf")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(axum::body::Body::from(pdf))
        .map_err(AppError::internal)
}
