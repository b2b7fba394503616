//! The forms' use cases: the Redaktion edits, publishes and places forms; citizens upload files
//! and submit; clerks work the inbox; anyone with the tracking id and the second answer sees the
//! status.

use identity::citizen::model::ProfileField;
use identity::model::Tenant;
use identity::{Authorized, Permission, Role};
use kernel::audit::{self, Actor, NewEntry};
use kernel::blobs::BlobHash;
use kernel::{AppError, CitizenId, FieldError, Kernel, OrgUnitId, TenantId, Timestamp};
use serde_json::json;

use crate::definition::{Form, Kind};
use crate::intake::{Intake, Prepared, Written};
use crate::model::{self, Draft, FormStatus, FormVersion, Status, StoredFile, Submission, SubmissionEvent};
use crate::validate::{self, Answers};
use crate::{store, tracking};

/// Edit, publish and place a tenant's forms (Redaktion, Administration).
#[derive(Debug)]
pub struct ManageForms;
impl Permission for ManageForms {
    const ROLES: &'static [Role] = &[Role::Editor, Role::Administrator];
}

/// Work the submissions of an org unit (Sachbearbeitung, Amtsleitung, Administration).
#[derive(Debug)]
pub struct WorkInbox;
impl Permission for WorkInbox {
    const ROLES: &'static [Role] = &[Role::Clerk, Role::HeadOfOffice, Role::Administrator];
}

fn today(k: &Kernel) -> time::Date {
    k.clock.now().german_date()
}

async fn record(
    tx: &mut kernel::Tx,
    now: Timestamp,
    tenant: TenantId,
    actor: &Actor,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    audit::append(tx, now, NewEntry { tenant, actor, action, subject, details }).await?;
    Ok(())
}

/// A tenant's forms: the newest version of each, for the editor's list.
pub async fn forms_of(k: &Kernel, proof: &Authorized<ManageForms>) -> Result<Vec<FormVersion>, AppError> {
    let mut all = store::versions_of_tenant(&k.db, proof.tenant()).await?;
    all.dedup_by(|a, b| a.form_id == b.form_id);
    Ok(all)
}

/// Every version of one form, newest first.
pub async fn versions(
    k: &Kernel,
    proof: &Authorized<ManageForms>,
    form_id: &str,
) -> Result<Vec<FormVersion>, AppError> {
    let v = store::versions(&k.db, proof.tenant(), form_id).await?;
    if v.is_empty() { Err(AppError::NotFound) } else { Ok(v) }
}

/// Reads a definition as the editor typed it: JSON that the format accepts and that has no
/// problems. The error names each problem.
pub fn read_definition(json: &str) -> Result<Form, Vec<String>> {
    let form: Form = serde_json::from_str(json).map_err(|e| vec![format!("JSON: {e}")])?;
    let problems = form.problems();
    if problems.is_empty() { Ok(form) } else { Err(problems) }
}

fn invalid_definition(problems: Vec<String>) -> AppError {
    AppError::Invalid {
        code: "forms.definition_invalid",
        fields: problems
            .into_iter()
            .map(|_| FieldError { field: "definition".into(), code: "forms.definition_invalid" })
            .collect(),
    }
}

/// Saves a definition as the form's draft: the open draft is replaced, or a new draft version
/// is started after the newest one. Published versions are never touched.
pub async fn save_draft(k: &Kernel, proof: &Authorized<ManageForms>, json: &str) -> Result<FormVersion, AppError> {
    let form = read_definition(json).map_err(invalid_definition)?;
    let pretty = serde_json::to_string_pretty(&form).map_err(AppError::internal)?;
    let now = k.clock.now();
    let existing = store::versions(&k.db, proof.tenant(), &form.id).await?;
    let mut tx = k.db.begin().await?;
    let version = match existing.first() {
        Some(v) if v.status == FormStatus::Draft => {
            store::update_draft(&mut tx, proof.tenant(), &form.id, v.version, &pretty, now).await?;
            v.version
        }
        newest => {
            let draft = FormVersion {
                id: 0,
                tenant: proof.tenant(),
                form_id: form.id.clone(),
                version: newest.map_or(1, |v| v.version + 1),
                status: FormStatus::Draft,
                definition: None,
                definition_json: pretty.clone(),
                service_slug: newest.and_then(|v| v.service_slug.clone()),
                org_unit: newest.and_then(|v| v.org_unit),
                created_at: now,
                published_at: None,
            };
            store::insert_draft(&mut tx, &draft, now).await?;
            draft.version
        }
    };
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "forms.form.saved",
        &format!("form:{}", form.id),
        json!({ "version": version }),
    )
    .await?;
    tx.commit().await?;
    store::version(&k.db, proof.tenant(), &form.id, version).await?.ok_or(AppError::NotFound)
}

/// Keeps the catalogue true: the service of a form with a published version links to it
/// (`/antrag/{tenant}/{form}`, OZG maturity "online form"); offline, or at the service it
/// `left`, the link goes.
async fn sync_service_link(
    tx: &mut kernel::Tx,
    k: &Kernel,
    tenant: TenantId,
    form_id: &str,
    left: Option<&str>,
) -> Result<(), AppError> {
    if let Some(old) = left {
        portal::service::set_platform_form(tx, tenant, old, "").await?;
    }
    let versions = store::versions_in(tx, tenant, form_id).await?;
    let Some(service) = versions.first().and_then(|v| v.service_slug.clone()) else { return Ok(()) };
    let online = versions.iter().any(|v| v.status == FormStatus::Published);
    let slug = identity::service::tenant(k, tenant).await?.slug;
    let path = if online { format!("/antrag/{slug}/{form_id}") } else { String::new() };
    portal::service::set_platform_form(tx, tenant, &service, &path).await
}

/// Saves an imported FIM schema as the draft of its form (`fim-<schema id>`): a new form, or a
/// new draft version when the schema was imported before. The import is recorded with the
/// number of notes in its report.
pub async fn save_fim_import(
    k: &Kernel,
    proof: &Authorized<ManageForms>,
    imported: &crate::fim::Imported,
) -> Result<FormVersion, AppError> {
    let json = serde_json::to_string(&imported.form).map_err(AppError::internal)?;
    let saved = save_draft(k, proof, &json).await?;
    let xdf = match imported.schema.xdf {
        crate::fim::model::XdfVersion::V2 => "2.0",
        crate::fim::model::XdfVersion::V3 => "3.0.0",
    };
    let details = json!({
        "schema": imported.schema.common.identifier(),
        "xdatenfelder": xdf,
        "version": saved.version,
        "notes": imported.report.len(),
    });
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let subject = format!("form:{}", saved.form_id);
    record(&mut tx, now, proof.tenant(), proof.actor(), "forms.form.fim_imported", &subject, details).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Publishes the form's draft: from now on it is the version citizens fill in, and it never
/// changes again.
pub async fn publish(k: &Kernel, proof: &Authorized<ManageForms>, form_id: &str) -> Result<i64, AppError> {
    let versions = versions(k, proof, form_id).await?;
    let draft =
        versions.iter().find(|v| v.status == FormStatus::Draft).ok_or(AppError::Conflict { code: "forms.no_draft" })?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::set_status(&mut tx, proof.tenant(), form_id, draft.version, FormStatus::Published, now).await?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "forms.form.published",
        &format!("form:{form_id}"),
        json!({ "version": draft.version }),
    )
    .await?;
    sync_service_link(&mut tx, k, proof.tenant(), form_id, None).await?;
    tx.commit().await?;
    Ok(draft.version)
}

/// Takes a form offline (every published version closes) or back online (the newest closed
/// version is published again).
pub async fn set_online(
    k: &Kernel,
    proof: &Authorized<ManageForms>,
    form_id: &str,
    online: bool,
) -> Result<(), AppError> {
    let versions = versions(k, proof, form_id).await?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let (from, to) =
        if online { (FormStatus::Closed, FormStatus::Published) } else { (FormStatus::Published, FormStatus::Closed) };
    let affected: Vec<i64> = versions
        .iter()
        .filter(|v| v.status == from)
        .map(|v| v.version)
        .take(if online { 1 } else { usize::MAX })
        .collect();
    for v in &affected {
        store::set_status(&mut tx, proof.tenant(), form_id, *v, to, now).await?;
    }
    let action = if online { "forms.form.reopened" } else { "forms.form.closed" };
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        action,
        &format!("form:{form_id}"),
        json!({ "versions": affected }),
    )
    .await?;
    sync_service_link(&mut tx, k, proof.tenant(), form_id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Places a form: the catalogue service it applies for and the org unit whose inbox receives
/// it. The unit must be the tenant's; the service must be one the tenant offers.
pub async fn place(
    k: &Kernel,
    proof: &Authorized<ManageForms>,
    form_id: &str,
    service: Option<&str>,
    unit: Option<OrgUnitId>,
) -> Result<(), AppError> {
    let before = versions(k, proof, form_id).await?.first().and_then(|v| v.service_slug.clone());
    if let Some(u) = unit
        && !identity::service::org_units(k, proof.tenant()).await?.iter().any(|x| x.id == u)
    {
        return Err(AppError::invalid("forms.unit_unknown", "org_unit"));
    }
    if let Some(slug) = service
        && !portal::service::offers(k, proof.tenant(), slug).await?
    {
        return Err(AppError::invalid("forms.service_unknown", "service"));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::set_placement(&mut tx, proof.tenant(), form_id, service, unit, now).await?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "forms.form.placed",
        &format!("form:{form_id}"),
        json!({ "service": service, "org_unit": unit }),
    )
    .await?;
    let left = before.as_deref().filter(|b| Some(*b) != service);
    sync_service_link(&mut tx, k, proof.tenant(), form_id, left).await?;
    tx.commit().await?;
    Ok(())
}

/// The version citizens fill in now: the newest published one.
pub async fn current(k: &Kernel, tenant: &Tenant, form_id: &str) -> Result<(FormVersion, Form), AppError> {
    let versions = store::versions(&k.db, tenant.id, form_id).await?;
    if versions.iter().all(|v| v.status != FormStatus::Published) {
        return Err(if versions.iter().any(|v| v.status == FormStatus::Closed) {
            AppError::Conflict { code: "forms.closed" }
        } else {
            AppError::NotFound
        });
    }
    let v = versions.into_iter().find(|v| v.status == FormStatus::Published).ok_or(AppError::NotFound)?;
    let form = v.definition.clone().ok_or(AppError::NotFound)?;
    Ok((v, form))
}

/// An uploaded file, checked against its field and kept in the object store. The answer to put
/// into the form is `sha256:<hash>`.
pub async fn upload(
    k: &Kernel,
    form: &Form,
    field: &str,
    file_name: &str,
    bytes: bytes::Bytes,
) -> Result<StoredFile, AppError> {
    let kind = &form.field(field).ok_or(AppError::NotFound)?.kind;
    let media_type = validate::check_upload(kind, &bytes).map_err(|(code, _)| AppError::invalid(code, field))?;
    let size = bytes.len() as i64;
    let hash = k.blobs.put(bytes).await.map_err(AppError::internal)?;
    Ok(StoredFile {
        field: field.to_owned(),
        blob_sha256: hash.as_str().to_owned(),
        media_type: media_type.to_owned(),
        size,
        file_name: file_name.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(120).collect(),
    })
}

/// What the applicant gets back: the receipt's facts.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub tracking_id: String,
    pub received_at: Timestamp,
    pub data_sha256: String,
    pub fee_cents: Option<i64>,
    /// The address of the receipt PDF (`/antrag/eingang/{tracking_id}/quittung.pdf?t=…`).
    pub pdf_path: String,
    /// The address of the certificate PDF, when the form issues one.
    pub certificate_path: Option<String>,
}

fn receipt(s: &Submission) -> Receipt {
    Receipt {
        tracking_id: s.tracking_id.clone(),
        received_at: s.created_at,
        data_sha256: s.data_sha256.clone(),
        fee_cents: s.fee_cents,
        pdf_path: format!("/antrag/eingang/{}/quittung.pdf?t={}", s.tracking_id, s.receipt_token),
        certificate_path: s
            .certificate_code
            .as_ref()
            .map(|_| format!("/antrag/eingang/{}/bescheinigung.pdf?t={}", s.tracking_id, s.receipt_token)),
    }
}

/// An application as sent: the answers, the files uploaded for it, and who to tell.
pub struct Application<'a> {
    pub answers: &'a Answers,
    pub files: &'a [StoredFile],
    /// The token of the form page: sending the same page twice gives one submission.
    pub submit_token: &'a str,
    /// Where the receipt goes, if the applicant gave an address.
    pub email: Option<&'a str>,
    /// The second answer for the status page (a postcode or birth date).
    pub status_secret: Option<&'a str>,
    /// The logged-in citizen who sends it, if any: it shows in their "Meine Anträge".
    pub citizen: Option<CitizenId>,
    /// A repeat of the token with other answers is refused (`forms.idempotency_key_reused`)
    /// instead of answered with the first receipt: the API's `Idempotency-Key`.
    pub same_answers_only: bool,
}

/// Checks an application again and stores it with its files in one transaction; the receipt
/// mail goes into the outbox in the same transaction. A second send of the same page returns
/// the first submission's receipt. The write goes through the node's [`Intake`] (group commit);
/// the receipt comes back once it is committed.
pub async fn submit(
    intake: &Intake,
    tenant: &Tenant,
    version: &FormVersion,
    form: &Form,
    app: Application<'_>,
) -> Result<Receipt, AppError> {
    let k = intake.kernel();
    if version.status != FormStatus::Published {
        return Err(AppError::Conflict { code: "forms.closed" });
    }
    let checked = validate::check(form, app.answers, today(k));
    if !checked.problems.is_empty() {
        let fields = checked.problems.iter().map(|p| FieldError { field: p.field.clone(), code: p.code }).collect();
        return Err(AppError::Invalid { code: "invalid", fields });
    }
    let data_sha256 = kernel::sha256_hex(&model::canonical_json(&checked.values));
    let now = k.clock.now();
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(AppError::internal)?;
    let certificate_code = match form.certificate {
        Some(_) => {
            let mut more = [0u8; 10];
            getrandom::fill(&mut more).map_err(AppError::internal)?;
            Some(tracking::new_id(more))
        }
        None => None,
    };
    let submission = Submission {
        id: 0,
        tenant: tenant.id,
        form_id: form.id.clone(),
        version: version.version,
        tracking_id: tracking::new_id(random),
        data: checked.values,
        data_sha256,
        fee_cents: checked.fee_cents,
        applicant_email: app.email.map(str::to_owned),
        status_secret_sha256: app.status_secret.map(model::status_secret_hash),
        org_unit: version.org_unit,
        assigned_to: None,
        status: Status::Received,
        citizen: app.citizen,
        receipt_token: kernel::random_token(),
        certificate_code,
        created_at: now,
        updated_at: now,
    };
    let mail = app.email.map(|to| kernel::mail::Mail {
        to: to.to_owned(),
        subject: format!("Eingangsbestätigung {} – {}", submission.tracking_id, form.title.de),
        body: receipt_mail(tenant, form, &submission),
    });
    let receipt = receipt(&submission);
    let data_sha256 = submission.data_sha256.clone();
    let prepared = Prepared {
        submission,
        files: app.files.to_vec(),
        submit_token: app.submit_token.to_owned(),
        mail,
        citizen: app.citizen,
    };
    match intake.write(prepared).await? {
        Written::Stored => Ok(receipt),
        Written::Replayed(existing) => replayed(&existing, &data_sha256, app.same_answers_only),
    }
}

/// The answer to a repeated send: the first receipt, or (for the API) a refusal when the answers
/// differ from the first send's.
fn replayed(existing: &Submission, data_sha256: &str, same_answers_only: bool) -> Result<Receipt, AppError> {
    if same_answers_only && existing.data_sha256 != data_sha256 {
        return Err(AppError::Conflict { code: "forms.idempotency_key_reused" });
    }
    Ok(receipt(existing))
}

fn receipt_mail(tenant: &Tenant, form: &Form, s: &Submission) -> String {
    format!(
        "Guten Tag,\n\nIhr Antrag „{}“ ist am {} bei {} eingegangen.\n\nVorgangsnummer: {}\nPrüfsumme der Angaben (SHA-256): {}\n\n\
         Ihre Eingangsbestätigung als PDF: {}\n\n\
         Den Bearbeitungsstand sehen Sie unter /antrag/status mit der Vorgangsnummer.\n\nMit freundlichen Grüßen\n{}\n",
        form.title.de,
        s.created_at.display_german(),
        tenant.name,
        s.tracking_id,
        s.data_sha256,
        receipt(s).pdf_path,
        tenant.name
    )
}

/// The submission, its tenant and form for whoever holds its receipt link.
async fn by_receipt_link(k: &Kernel, tracking_id: &str, token: &str) -> Result<(Submission, Tenant, Form), AppError> {
    let id = tracking::normalize(tracking_id).ok_or(AppError::NotFound)?;
    let s = store::submission_by_tracking_id(&k.db, &id).await?.ok_or(AppError::NotFound)?;
    if s.receipt_token.is_empty() || !kernel::constant_time_eq(s.receipt_token.as_bytes(), token.as_bytes()) {
        return Err(AppError::NotFound);
    }
    let tenant = identity::service::tenant(k, s.tenant).await?;
    let version = store::version(&k.db, s.tenant, &s.form_id, s.version).await?.ok_or(AppError::NotFound)?;
    let form = version.definition.ok_or(AppError::NotFound)?;
    Ok((s, tenant, form))
}

/// What a certificate states: its title and text, the named answers, when and by whom.
pub struct CertificateFacts {
    pub title: String,
    pub text: String,
    pub holder: Vec<(String, String)>,
    pub issued_at: Timestamp,
    pub issuer: String,
    pub code: String,
}

fn certificate_facts(s: &Submission, tenant: &Tenant, form: &Form) -> Option<CertificateFacts> {
    let c = form.certificate.as_ref()?;
    let holder = c
        .fields
        .iter()
        .filter_map(|name| {
            let field = form.field(name)?;
            let value = s.data.get(name)?;
            let text = match value {
                serde_json::Value::String(v) => v.clone(),
                other => other.to_string(),
            };
            Some((field.label.de.clone(), crate::render::german_if_date(&text)))
        })
        .collect();
    Some(CertificateFacts {
        title: c.title.de.clone(),
        text: c.text.de.clone(),
        holder,
        issued_at: s.created_at,
        issuer: tenant.name.clone(),
        code: s.certificate_code.clone()?,
    })
}

/// The certificate as PDF for whoever holds the receipt link; its QR code opens the public
/// verification page under `base_url`.
pub async fn certificate_pdf(k: &Kernel, tracking_id: &str, token: &str, base_url: &str) -> Result<Vec<u8>, AppError> {
    let (s, tenant, form) = by_receipt_link(k, tracking_id, token).await?;
    let facts = certificate_facts(&s, &tenant, &form).ok_or(AppError::NotFound)?;
    let url = format!("{}/bescheinigung/{}", base_url.trim_end_matches('/'), facts.code);
    let mut doc = kernel::pdf::Document::new(&facts.title).paragraph(&facts.text);
    for (label, value) in &facts.holder {
        doc = doc.row(label, value);
    }
    doc = doc
        .row("Ausgestellt am", facts.issued_at.display_german())
        .row("Ausgestellt von", &facts.issuer)
        .row("Prüfcode", &facts.code)
        .qr(&url, format!("Echtheit prüfen: QR-Code scannen oder {url} öffnen."));
    doc.to_pdf(s.created_at).map_err(AppError::internal)
}

/// The public verification of a certificate by its code (the QR code's link). The read is in
/// the audit log, since the page names the holder.
pub async fn verify_certificate(k: &Kernel, code: &str) -> Result<CertificateFacts, AppError> {
    let code = tracking::normalize(code).ok_or(AppError::NotFound)?;
    let s = store::submission_by_certificate(&k.db, &code).await?.ok_or(AppError::NotFound)?;
    let tenant = identity::service::tenant(k, s.tenant).await?;
    let version = store::version(&k.db, s.tenant, &s.form_id, s.version).await?.ok_or(AppError::NotFound)?;
    let form = version.definition.ok_or(AppError::NotFound)?;
    let facts = certificate_facts(&s, &tenant, &form).ok_or(AppError::NotFound)?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let subject = format!("submission:{}", s.tracking_id);
    record(&mut tx, now, s.tenant, &Actor::system(), "forms.certificate.verified", &subject, json!({})).await?;
    tx.commit().await?;
    Ok(facts)
}

/// The receipt (Eingangsbestätigung) as PDF for whoever holds the receipt link: the time, the
/// tracking id, the SHA-256 of the data, the fee, and every answer.
pub async fn receipt_pdf(k: &Kernel, tracking_id: &str, token: &str) -> Result<Vec<u8>, AppError> {
    let (s, tenant, form) = by_receipt_link(k, tracking_id, token).await?;
    let files = store::files(&k.db, s.id).await?;
    let mut doc = kernel::pdf::Document::new(format!("Eingangsbestätigung – {}", form.title.de))
        .paragraph(format!("Ihr Antrag ist bei {} eingegangen. Bitte bewahren Sie diese Bestätigung auf.", tenant.name))
        .row("Vorgangsnummer", &s.tracking_id)
        .row("Eingegangen am", s.created_at.display_german())
        .row("Formular", format!("{} (Version {})", form.title.de, s.version))
        .paragraph("Prüfsumme der Angaben (SHA-256):")
        .paragraph(&s.data_sha256);
    if let Some(fee) = s.fee_cents {
        doc = doc.row("Gebühr", portal::details::format_euro(fee));
    }
    for (_, title, answers) in crate::render::readable(&form, "de", &s.data, &files) {
        doc = doc.heading(title);
        for (label, value) in answers {
            doc = doc.row(label, value);
        }
    }
    doc = doc.paragraph(format!(
        "Den Bearbeitungsstand sehen Sie unter /antrag/status mit der Vorgangsnummer und Ihrer Postleitzahl. {}",
        tenant.name
    ));
    doc.to_pdf(s.created_at).map_err(AppError::internal)
}

/// The status of an application for whoever has its tracking id and the second answer; the same
/// answer for an unknown id and a wrong second answer, so that neither can be probed.
pub async fn public_status(
    k: &Kernel,
    tracking_id: &str,
    second_answer: &str,
) -> Result<(Submission, Vec<SubmissionEvent>), AppError> {
    let not_found = || AppError::invalid("forms.status_not_found", "vorgang");
    let id = tracking::normalize(tracking_id).ok_or(AppError::invalid("forms.tracking_id_invalid", "vorgang"))?;
    // Hash first, so that an unknown id and a wrong answer cost the same.
    let given = model::status_secret_hash(second_answer);
    let s = store::submission_by_tracking_id(&k.db, &id).await?.ok_or_else(not_found)?;
    if s.status_secret_sha256.as_deref() != Some(given.as_str()) {
        return Err(not_found());
    }
    let events = store::events(&k.db, s.id).await?;
    Ok((s, events))
}

/// Failed status lookups allowed per client address, and per tracking id, within the window.
pub const STATUS_LOOKUP_MAX_FAILURES: i64 = 10;
pub const STATUS_LOOKUP_WINDOW_SECS: i64 = 15 * 60;

/// [`public_status`] with a limit on guessing: after [`STATUS_LOOKUP_MAX_FAILURES`] failed
/// lookups from one address or for one tracking id within the window, every lookup is refused
/// (429) until the window has passed. The counters are rows, so the limit holds across nodes.
pub async fn status_lookup(
    k: &Kernel,
    tracking_id: &str,
    second_answer: &str,
    client_ip: &str,
) -> Result<(Submission, Vec<SubmissionEvent>), AppError> {
    let now = k.clock.now();
    let since = now.minus_secs(STATUS_LOOKUP_WINDOW_SECS);
    let id = tracking::normalize(tracking_id).unwrap_or_default();
    let keys = [format!("forms-status-ip:{client_ip}"), format!("forms-status-id:{id}")];
    for key in &keys {
        if identity::store::count_failures(&k.db, key, since).await? >= STATUS_LOOKUP_MAX_FAILURES {
            let retry_after_secs = STATUS_LOOKUP_WINDOW_SECS as u64;
            return Err(AppError::TooManyRequests { code: "forms.too_many_status_lookups", retry_after_secs });
        }
    }
    let found = public_status(k, tracking_id, second_answer).await;
    if matches!(found, Err(AppError::Invalid { .. })) {
        let mut tx = k.db.begin().await?;
        for key in keys.iter().filter(|key| !id.is_empty() || key.starts_with("forms-status-ip:")) {
            identity::store::record_failure(&mut tx, key, now).await?;
        }
        tx.commit().await?;
    }
    found
}

/// A form online for citizens: its tenant, the current version and the definition.
#[derive(Clone, Debug)]
pub struct OnlineForm {
    pub tenant: Tenant,
    pub version: FormVersion,
    pub form: Form,
}

/// The forms online now (the newest published version of each), of every active tenant or of
/// one.
pub async fn online_forms(k: &Kernel, tenant: Option<&str>) -> Result<Vec<OnlineForm>, AppError> {
    let tenants = identity::service::public_tenants(k).await?;
    let mut out: Vec<OnlineForm> = Vec::new();
    for v in store::online_versions(&k.db, None, false).await? {
        let Some(t) = tenants.iter().find(|t| t.id == v.tenant && tenant.is_none_or(|s| s == t.slug)) else { continue };
        let newest_seen = out.last().is_some_and(|o| o.tenant.id == v.tenant && o.version.form_id == v.form_id);
        if let (false, Some(form)) = (newest_seen, v.definition.clone()) {
            out.push(OnlineForm { tenant: t.clone(), version: v, form });
        }
    }
    Ok(out)
}

/// One form online by its id; the tenant is needed only where several tenants have a form of
/// that id (`forms.tenant_required`). A form taken offline answers `forms.closed`.
pub async fn online_form(k: &Kernel, form_id: &str, tenant: Option<&str>) -> Result<OnlineForm, AppError> {
    let tenant = match tenant {
        Some(slug) => identity::service::tenant_by_slug(k, slug).await?,
        None => {
            let tenants = identity::service::public_tenants(k).await?;
            let versions = store::online_versions(&k.db, Some(form_id), true).await?;
            let mut having: Vec<&Tenant> =
                tenants.iter().filter(|t| versions.iter().any(|v| v.tenant == t.id)).collect();
            having.dedup_by_key(|t| t.id);
            match having.as_slice() {
                [one] => (*one).clone(),
                [] => return Err(AppError::NotFound),
                _ => return Err(AppError::invalid("forms.tenant_required", "tenant")),
            }
        }
    };
    if !tenant.active {
        return Err(AppError::NotFound);
    }
    let (version, form) = current(k, &tenant, form_id).await?;
    Ok(OnlineForm { tenant, version, form })
}

/// The account level a form needs; None: anyone may send it, also without an account.
pub fn needed_level(form: &Form) -> Option<identity::citizen::model::TrustLevel> {
    use crate::definition::TrustLevel as Needed;
    use identity::citizen::model::TrustLevel as Level;
    match form.trust_level {
        Needed::None => None,
        Needed::Basic => Some(Level::Basic),
        Needed::Substantial => Some(Level::Substantial),
        Needed::High => Some(Level::High),
    }
}

/// Whether the caller may send the form: its trust level against the citizen's session.
pub fn may_send(form: &Form, citizen: Option<&identity::citizen::model::Citizen>) -> Result<(), AppError> {
    let Some(level) = needed_level(form) else { return Ok(()) };
    match citizen {
        None => Err(AppError::Unauthenticated),
        Some(c) if !c.meets(level) => Err(AppError::Forbidden),
        Some(_) => Ok(()),
    }
}

/// The units whose inbox this proof opens: its own unit, or every unit for tenant-wide roles.
fn inbox_units(proof: &Authorized<WorkInbox>) -> Option<Vec<OrgUnitId>> {
    proof.org_unit().map(|u| vec![u])
}

/// Whom the inbox shows: every submission, the caller's, or those nobody has taken on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AssignmentFilter {
    #[default]
    All,
    Mine,
    Unassigned,
}

/// A tenant's inbox for this member of staff, optionally in one status and by assignment.
pub async fn inbox(
    k: &Kernel,
    proof: &Authorized<WorkInbox>,
    status: Option<Status>,
    assignment: AssignmentFilter,
) -> Result<Vec<Submission>, AppError> {
    let units = inbox_units(proof);
    let assigned = match assignment {
        AssignmentFilter::All => store::Assigned::Any,
        AssignmentFilter::Mine => store::Assigned::To(proof.staff()),
        AssignmentFilter::Unassigned => store::Assigned::Nobody,
    };
    Ok(store::inbox(&k.db, proof.tenant(), units.as_deref(), status, assigned, 500).await?)
}

/// The staff who may take a submission on: active members of its tenant with an inbox role for
/// the whole tenant or for the submission's unit.
pub async fn colleagues(k: &Kernel, s: &Submission) -> Result<Vec<identity::model::StaffMember>, AppError> {
    let mut out = Vec::new();
    for member in identity::store::staff_of_tenant(&k.db, s.tenant).await? {
        let roles = identity::store::roles_of(&k.db, member.id).await?;
        let works_here = roles.iter().any(|g| {
            g.tenant == s.tenant
                && <WorkInbox as Permission>::ROLES.contains(&g.role)
                && (g.org_unit.is_none() || g.org_unit == s.org_unit)
        });
        if member.active && works_here {
            out.push(member);
        }
    }
    Ok(out)
}

/// Assigns a submission to a colleague who may work it (or to nobody); recorded. The applicant
/// is not told: no event, no mail.
pub async fn assign(
    k: &Kernel,
    proof: &Authorized<WorkInbox>,
    tracking_id: &str,
    to: Option<kernel::StaffId>,
) -> Result<(), AppError> {
    let s = visible(k, proof, tracking_id).await?;
    if let Some(staff) = to
        && !colleagues(k, &s).await?.iter().any(|m| m.id == staff)
    {
        return Err(AppError::invalid("forms.assignee_unknown", "zustaendig"));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::assign(&mut tx, s.id, to, now).await?;
    let subject = format!("submission:{}", s.tracking_id);
    let details = json!({ "to": to.map(|t| t.0) });
    record(&mut tx, now, s.tenant, proof.actor(), "forms.submission.assigned", &subject, details).await?;
    tx.commit().await?;
    Ok(())
}

/// A submission in this member of staff's inbox: of their tenant and, for a role in a unit, of
/// that unit. Any other is "not found".
async fn visible(k: &Kernel, proof: &Authorized<WorkInbox>, tracking_id: &str) -> Result<Submission, AppError> {
    let s = store::submission_by_tracking_id(&k.db, tracking_id).await?.ok_or(AppError::NotFound)?;
    let visible = s.tenant == proof.tenant()
        && inbox_units(proof).is_none_or(|units| s.org_unit.is_some_and(|u| units.contains(&u)));
    if visible { Ok(s) } else { Err(AppError::NotFound) }
}

/// The formats of the staff's download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Xml,
}

/// A submission as a document to download (JSON like the webhook's, or XML), with the files as
/// links to the inbox's download; recorded like opening it.
pub async fn export(
    k: &Kernel,
    proof: &Authorized<WorkInbox>,
    tracking_id: &str,
    format: ExportFormat,
) -> Result<String, AppError> {
    let s = visible(k, proof, tracking_id).await?;
    let tenant = identity::service::tenant(k, s.tenant).await?;
    let files = store::files(&k.db, s.id).await?;
    let href = |f: &StoredFile| {
        format!("/verwaltung/mandanten/{}/eingang/{}/dateien/{}", tenant.slug, s.tracking_id, f.blob_sha256)
    };
    let out = match format {
        ExportFormat::Json => {
            let linked: Vec<_> =
                files.iter().map(|f| (f.clone(), crate::delivery::FileContent::Link(href(f)))).collect();
            serde_json::to_string_pretty(&crate::delivery::document(&s, &tenant.slug, &linked))
                .map_err(AppError::internal)?
        }
        ExportFormat::Xml => crate::export::to_xml(&s, &tenant.slug, &files, href),
    };
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let details = json!({ "format": if format == ExportFormat::Json { "json" } else { "xml" } });
    let subject = format!("submission:{}", s.tracking_id);
    record(&mut tx, now, s.tenant, proof.actor(), "forms.submission.exported", &subject, details).await?;
    tx.commit().await?;
    Ok(out)
}

/// One submission with its files and history; opening it is recorded (personal data).
pub async fn open(
    k: &Kernel,
    proof: &Authorized<WorkInbox>,
    tracking_id: &str,
) -> Result<(Submission, Vec<StoredFile>, Vec<SubmissionEvent>), AppError> {
    let s = visible(k, proof, tracking_id).await?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    record(
        &mut tx,
        now,
        s.tenant,
        proof.actor(),
        "forms.submission.read",
        &format!("submission:{}", s.tracking_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let files = store::files(&k.db, s.id).await?;
    let events = store::events(&k.db, s.id).await?;
    Ok((s, files, events))
}

/// Sets a submission's status with a note the applicant sees; the clerk who does it takes it on.
pub async fn set_status(
    k: &Kernel,
    proof: &Authorized<WorkInbox>,
    tracking_id: &str,
    status: Status,
    note: &str,
) -> Result<(), AppError> {
    let (s, _, _) = open(k, proof, tracking_id).await?;
    let note: String = note.trim().chars().take(2000).collect();
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::set_submission_status(&mut tx, s.id, status, Some(proof.staff()), now).await?;
    store::insert_event(&mut tx, s.id, status, &note, Some(proof.staff()), now).await?;
    if let Some(to) = &s.applicant_email {
        let mail = kernel::mail::Mail {
            to: to.clone(),
            subject: format!("Neuer Bearbeitungsstand {}", s.tracking_id),
            body: format!(
                "Guten Tag,\n\nder Bearbeitungsstand Ihres Antrags {} hat sich geändert.\n\n{}\n",
                s.tracking_id, note
            ),
        };
        kernel::mail::enqueue(&mut tx, now, Some(s.tenant), &mail, None).await?;
    }
    let details = json!({ "status": status.as_str() });
    record(
        &mut tx,
        now,
        s.tenant,
        proof.actor(),
        "forms.submission.status",
        &format!("submission:{}", s.tracking_id),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A stored file of a submission the clerk may open.
pub async fn file(
    k: &Kernel,
    proof: &Authorized<WorkInbox>,
    tracking_id: &str,
    hash: &str,
) -> Result<(StoredFile, bytes::Bytes), AppError> {
    let (_, files, _) = open(k, proof, tracking_id).await?;
    let f = files.into_iter().find(|f| f.blob_sha256 == hash).ok_or(AppError::NotFound)?;
    let blob = BlobHash::parse(&f.blob_sha256).ok_or(AppError::NotFound)?;
    let bytes = k.blobs.get(&blob).await.map_err(AppError::internal)?;
    Ok((f, bytes))
}

/// Whether a field answer is a file reference (for showing answers).
pub fn is_file_field(form: &Form, name: &str) -> bool {
    form.field(name).is_some_and(|f| matches!(f.kind, Kind::File { .. }))
}

// ---- a logged-in citizen's applications ("Meine Anträge") ----

/// Keeps a logged-in citizen's unfinished application to resume later (one per form).
pub async fn keep_application_draft(
    k: &Kernel,
    citizen: CitizenId,
    version: &FormVersion,
    state_json: &str,
    step: i64,
) -> Result<(), AppError> {
    let now = k.clock.now();
    let draft = Draft {
        tenant: version.tenant,
        form_id: version.form_id.clone(),
        version: version.version,
        state: state_json.to_owned(),
        step,
        created_at: now,
        updated_at: now,
    };
    let mut tx = k.db.begin().await?;
    store::put_draft(&mut tx, citizen, &draft).await?;
    tx.commit().await?;
    Ok(())
}

/// The citizen's draft of a form, if one was kept.
pub async fn application_draft(
    k: &Kernel,
    citizen: CitizenId,
    tenant: &Tenant,
    form_id: &str,
) -> Result<Option<Draft>, AppError> {
    Ok(store::draft(&k.db, citizen, tenant.id, form_id).await?)
}

pub async fn discard_application_draft(
    k: &Kernel,
    citizen: CitizenId,
    tenant: &Tenant,
    form_id: &str,
) -> Result<(), AppError> {
    let mut tx = k.db.begin().await?;
    store::delete_draft(&mut tx, citizen, tenant.id, form_id).await?;
    tx.commit().await?;
    Ok(())
}

/// A kept draft with what the list shows of it.
pub struct DraftEntry {
    pub draft: Draft,
    pub tenant: Tenant,
    pub form_title: String,
}

/// A sent application with its status history.
pub struct SentEntry {
    pub submission: Submission,
    pub tenant_name: String,
    pub form_title: String,
    pub events: Vec<SubmissionEvent>,
}

/// What "Meine Anträge" shows: unfinished applications and sent ones with their status.
pub struct MyApplications {
    pub drafts: Vec<DraftEntry>,
    pub sent: Vec<SentEntry>,
}

async fn form_title(k: &Kernel, tenant: TenantId, form_id: &str, version: i64) -> Result<String, AppError> {
    title_in(k, tenant, form_id, version, "de").await
}

async fn title_in(k: &Kernel, tenant: TenantId, form_id: &str, version: i64, lang: &str) -> Result<String, AppError> {
    let v = store::version(&k.db, tenant, form_id, version).await?;
    Ok(v.and_then(|v| v.definition).map_or_else(|| form_id.to_owned(), |f| f.title.get(lang).to_owned()))
}

/// The title of the form version a submission was made with, in the reader's language (the
/// form's id if that version cannot be read).
pub async fn submission_form_title(k: &Kernel, s: &Submission, lang: &str) -> Result<String, AppError> {
    title_in(k, s.tenant, &s.form_id, s.version, lang).await
}

pub async fn my_applications(k: &Kernel, citizen: CitizenId) -> Result<MyApplications, AppError> {
    let mut drafts = Vec::new();
    for draft in store::drafts(&k.db, citizen).await? {
        let tenant = identity::service::tenant(k, draft.tenant).await?;
        let form_title = form_title(k, draft.tenant, &draft.form_id, draft.version).await?;
        drafts.push(DraftEntry { draft, tenant, form_title });
    }
    let mut sent = Vec::new();
    for submission in store::submissions_of_citizen(&k.db, citizen, 200).await? {
        let tenant_name = identity::service::tenant(k, submission.tenant).await?.name;
        let form_title = form_title(k, submission.tenant, &submission.form_id, submission.version).await?;
        let events = store::events(&k.db, submission.id).await?;
        sent.push(SentEntry { submission, tenant_name, form_title, events });
    }
    Ok(MyApplications { drafts, sent })
}

// ---- prefill from the citizen account, with consent per use ----

/// The profile values a form's fields may be prefilled from, in the form's order.
pub fn prefill_sources(form: &Form) -> Vec<ProfileField> {
    let mut out = Vec::new();
    for source in form.all_fields().iter().filter_map(|f| f.prefill.as_deref()) {
        let fields: &[ProfileField] = match source {
            "given_name" => &[ProfileField::GivenName],
            "family_name" => &[ProfileField::FamilyName],
            "name" => &[ProfileField::GivenName, ProfileField::FamilyName],
            "birth_date" => &[ProfileField::BirthDate],
            "phone" => &[ProfileField::Phone],
            "postcode" => &[ProfileField::Postcode],
            "address" => &[ProfileField::Street, ProfileField::Postcode, ProfileField::Municipality],
            _ => &[],
        };
        for f in fields {
            if !out.contains(f) {
                out.push(*f);
            }
        }
    }
    out
}

/// Fills the empty answers of fields with a `prefill` source from the citizen's profile. The
/// citizen consented on the form's page just now: identity records the consent for this use
/// (privacy cockpit) before it hands out any value. Returns how many answers were filled.
pub async fn prefill(
    k: &Kernel,
    citizen: &identity::citizen::model::Citizen,
    tenant: &Tenant,
    form: &Form,
    answers: &mut Answers,
) -> Result<usize, AppError> {
    use identity::citizen::service as account;
    let sources = prefill_sources(form);
    let request = account::PrefillRequest { office: tenant.id, form: &form.id, fields: &sources };
    let given = account::prefill_with_consent(k, citizen, request).await?;
    let profile = identity::citizen::model::Profile { values: given.values };
    let city = account::jurisdiction(k, &profile).await?.map(|t| t.address.city).unwrap_or_default();
    let value = |f: ProfileField| profile.value(f).to_owned();
    let mut filled = 0;
    for field in form.all_fields() {
        let parts: Vec<(String, String)> = match field.prefill.as_deref() {
            Some("given_name") => vec![(field.name.clone(), value(ProfileField::GivenName))],
            Some("family_name") => vec![(field.name.clone(), value(ProfileField::FamilyName))],
            Some("name") => {
                let both = format!("{} {}", value(ProfileField::GivenName), value(ProfileField::FamilyName));
                vec![(field.name.clone(), both.trim().to_owned())]
            }
            Some("birth_date") => vec![(field.name.clone(), value(ProfileField::BirthDate))],
            Some("phone") => vec![(field.name.clone(), value(ProfileField::Phone))],
            Some("postcode") => vec![(field.name.clone(), value(ProfileField::Postcode))],
            Some("address") => vec![
                (format!("{}.street", field.name), value(ProfileField::Street)),
                (format!("{}.postcode", field.name), value(ProfileField::Postcode)),
                (format!("{}.city", field.name), city.clone()),
            ],
            _ => Vec::new(),
        };
        for (key, v) in parts.into_iter().filter(|(_, v)| !v.is_empty()) {
            let slot = answers.entry(key).or_default();
            if slot.iter().all(|a| a.trim().is_empty()) {
                *slot = vec![v];
                filled += 1;
            }
        }
    }
    Ok(filled)
}

// ---- delivery to a back-office system ----

/// Where the form's submissions are delivered, if anywhere (the secret is not shown again).
pub async fn delivery_url(
    k: &Kernel,
    proof: &Authorized<ManageForms>,
    form_id: &str,
) -> Result<Option<String>, AppError> {
    Ok(store::delivery_target(&k.db, proof.tenant(), form_id).await?.map(|(url, _)| url))
}

/// Sets the form's delivery URL with a new secret, which is returned to be shown once. The audit
/// log records the URL, never the secret.
pub async fn set_delivery(
    k: &Kernel,
    proof: &Authorized<ManageForms>,
    form_id: &str,
    url: &str,
) -> Result<String, AppError> {
    versions(k, proof, form_id).await?;
    let url = crate::delivery::check_url(url)?;
    let secret = kernel::random_token();
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::put_delivery_target(&mut tx, proof.tenant(), form_id, &url, &secret, now).await?;
    let subject = format!("form:{form_id}");
    record(&mut tx, now, proof.tenant(), proof.actor(), "forms.delivery.set", &subject, json!({ "url": url })).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Stops delivering the form's submissions (jobs already queued fail for good).
pub async fn remove_delivery(k: &Kernel, proof: &Authorized<ManageForms>, form_id: &str) -> Result<(), AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::delete_delivery_target(&mut tx, proof.tenant(), form_id).await?;
    let subject = format!("form:{form_id}");
    record(&mut tx, now, proof.tenant(), proof.actor(), "forms.delivery.removed", &subject, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// The delivery of a submission the clerk has opened: its job, if the form delivers.
pub async fn delivery_of(k: &Kernel, s: &Submission) -> Result<Option<kernel::jobs::Job>, AppError> {
    Ok(kernel::jobs::by_idempotency_key(&k.db, &crate::delivery::delivery_id(&s.tracking_id)).await?)
}

/// Queues a failed delivery again (the inbox's "retry"); recorded.
pub async fn retry_delivery(k: &Kernel, proof: &Authorized<WorkInbox>, tracking_id: &str) -> Result<(), AppError> {
    let (s, _, _) = open(k, proof, tracking_id).await?;
    let job = delivery_of(k, &s).await?.ok_or(AppError::NotFound)?;
    if !kernel::jobs::retry(&k.db, job.id, k.clock.now()).await? {
        return Err(AppError::Conflict { code: "forms.delivery_not_failed" });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let subject = format!("submission:{}", s.tracking_id);
    record(&mut tx, now, s.tenant, proof.actor(), "forms.delivery.retried", &subject, json!({})).await?;
    tx.commit().await?;
    Ok(())
}
