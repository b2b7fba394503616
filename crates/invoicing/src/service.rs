//! The invoices' use cases: intake (API, drop folder, invoice mailbox, portal) with validation,
//! Leitweg-ID routing and duplicate detection; hand-overs between org units; the approval
//! workflow with separation of duties; the account assignment and its proposal; reminders; the
//! booking export and the payment file coming back; the tenants' Leitweg-ID table and its
//! public list for senders.
//! Every step that changes something writes its audit entry in the same transaction.

use bytes::Bytes;
use einvoice::reader::{self, ReadError};
use einvoice::scenario;
use identity::{Authorized, Permission, Role};
use kernel::audit::{self, Actor, NewEntry};
use kernel::blobs::BlobHash;
use kernel::mail::{self, Mail};
use kernel::{AppError, FieldError, Kernel, OrgUnitId, TenantId, Timestamp};
use serde_json::json;

use crate::mailbox::{Fetched, Letter, Mailbox, MailboxConfig};
use crate::model::{
    self, Approval, AssignmentLine, Channel, Finding, Forward, InboxQuery, LeitwegError, LeitwegId, Status, Step,
    StoredInvoice, Suggestion,
};
use crate::store::{self, PublishedRoute, Route};

/// Largest invoice accepted on any channel (the reader's default, 20 MB).
pub const MAX_INVOICE_BYTES: usize = reader::DEFAULT_MAX_BYTES;

/// Work the invoice inbox of an org unit: open invoices, sign "sachlich richtig" and
/// "rechnerisch richtig", assign accounts, set invoices aside.
#[derive(Debug)]
pub struct WorkInvoices;
impl Permission for WorkInvoices {
    const ROLES: &'static [Role] = &[Role::Clerk, Role::HeadOfOffice, Role::Finance, Role::Administrator];
}

/// Order payment (Anordnung): heads of office and finance.
#[derive(Debug)]
pub struct OrderPayment;
impl Permission for OrderPayment {
    const ROLES: &'static [Role] = &[Role::HeadOfOffice, Role::Finance];
}

/// Export booking records for the finance system (Kasse).
#[derive(Debug)]
pub struct ExportBookings;
impl Permission for ExportBookings {
    const ROLES: &'static [Role] = &[Role::Finance];
}

/// Administer the tenant's Leitweg-IDs.
#[derive(Debug)]
pub struct ManageLeitwegIds;
impl Permission for ManageLeitwegIds {
    const ROLES: &'static [Role] = &[Role::Administrator];
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

// ---- intake ----

/// An invoice as it arrives.
pub struct Submission {
    pub bytes: Bytes,
    pub channel: Channel,
    /// Who sends it: `organisation:4`, `citizen:9`, `folder`, `mail:buchhaltung@firma.de` (the
    /// address answers go to: Reply-To, else From).
    pub sender: String,
    /// The audit actor of the intake.
    pub actor: Actor,
}

/// Why an invoice could not be taken in at all (nothing is stored): reasons a sender can act on.
#[derive(Debug)]
pub enum Refusal {
    /// The bytes are not a readable e-invoice (size, PDF, binary, encoding, DTD, not XML, root).
    Unreadable(ReadError),
    /// A PDF without a readable ZUGFeRD / Factur-X invoice inside (encrypted, broken, none).
    Pdf(einvoice::pdf::PdfError),
    /// BT-10 (Leitweg-ID) is missing.
    NoLeitwegId,
    /// BT-10 is not a well-formed Leitweg-ID, or its check digits are wrong.
    LeitwegInvalid { given: String, error: LeitwegError },
    /// No tenant owns this Leitweg-ID.
    UnknownLeitwegId(String),
    /// A failure on our side.
    Internal(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Internal(e)
    }
}

impl From<kernel::DbError> for Refusal {
    fn from(e: kernel::DbError) -> Self {
        Refusal::Internal(e.into())
    }
}

impl Refusal {
    /// A stable code: `invoicing.unreadable`, `invoicing.leitweg_missing`, …
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unreadable(ReadError::TooLarge { .. }) => "invoicing.too_large",
            Refusal::Unreadable(_) | Refusal::Pdf(_) => "invoicing.unreadable",
            Refusal::NoLeitwegId => "invoicing.leitweg_missing",
            Refusal::LeitwegInvalid { .. } => "invoicing.leitweg_invalid",
            Refusal::UnknownLeitwegId(_) => "invoicing.leitweg_unknown",
            Refusal::Internal(_) => "internal",
        }
    }

    /// The reason in plain German, specific enough to fix the invoice.
    pub fn reason(&self) -> String {
        match self {
            Refusal::Unreadable(e) => read_error_german(e),
            Refusal::Pdf(e) => pdf_error_german(e),
            Refusal::NoLeitwegId => "Die Rechnung enthält keine Leitweg-ID. Tragen Sie die Leitweg-ID des Empfängers \
                als Käuferreferenz (BT-10, BuyerReference) ein."
                .into(),
            Refusal::LeitwegInvalid { given, error: LeitwegError::Format } => format!(
                "„{given}“ in BT-10 ist keine Leitweg-ID. Eine Leitweg-ID hat die Form Grobadressierung (2 bis 12 \
                 Ziffern), Feinadressierung (bis 30 Buchstaben oder Ziffern, freiwillig) und zwei Prüfziffern, \
                 getrennt durch Bindestriche, z. B. 05999000-RE1-17."
            ),
            Refusal::LeitwegInvalid { given, error: LeitwegError::CheckDigits { expected } } => format!(
                "Die Prüfziffern der Leitweg-ID „{given}“ (BT-10) stimmen nicht; richtig wäre {expected}. Bitte \
                 prüfen Sie die Leitweg-ID auf Tippfehler."
            ),
            Refusal::UnknownLeitwegId(id) => format!(
                "Die Leitweg-ID „{id}“ (BT-10) gehört zu keiner Stelle dieses Portals. Bitte fragen Sie Ihren \
                 Auftraggeber nach der richtigen Leitweg-ID."
            ),
            Refusal::Internal(_) => "Die Rechnung konnte wegen einer Störung nicht angenommen werden. Bitte senden \
                Sie sie später erneut."
                .into(),
        }
    }
}

/// The reader's refusals in German.
pub fn read_error_german(e: &ReadError) -> String {
    match e {
        ReadError::Empty => "Die Datei ist leer.".into(),
        ReadError::TooLarge { size, limit } => {
            format!("Die Datei ist {size} Bytes groß; angenommen werden höchstens {limit} Bytes.")
        }
        ReadError::Pdf => "Die Datei ist ein PDF ohne lesbare XML-Rechnung. Senden Sie die XRechnung als XML \
            (UBL oder CII) oder ein ZUGFeRD-PDF mit eingebetteter XML-Datei."
            .into(),
        ReadError::Binary => "Die Datei enthält Binärdaten, keine XML-Rechnung.".into(),
        ReadError::Encoding { declared, .. } => format!(
            "Die XML-Deklaration nennt die Kodierung „{declared}“, die Bytes passen aber nicht dazu. Speichern Sie \
             die Rechnung als UTF-8."
        ),
        ReadError::Dtd => "Die XML-Datei enthält eine Dokumenttyp-Deklaration (DTD oder Entitäten); das ist in \
            E-Rechnungen nicht erlaubt."
            .into(),
        ReadError::NotXml(detail) => format!("Die Datei ist kein wohlgeformtes XML ({detail})."),
        ReadError::TooDeep => "Die XML-Elemente sind zu tief verschachtelt.".into(),
        ReadError::WrongRoot { name, .. } => format!(
            "Das Wurzelelement „{name}“ ist keine Rechnung: erwartet wird UBL Invoice, UBL CreditNote oder CII \
             CrossIndustryInvoice."
        ),
    }
}

/// What became of an invoice that was taken in.
#[derive(Debug)]
pub struct Intake {
    pub invoice: StoredInvoice,
    /// The same bytes had been received before; nothing new was stored.
    pub repeated: bool,
}

/// A finding as a sentence for the sender: `BR-CO-10 (Fehler) bei /Invoice/…: message`.
pub fn finding_german(f: &Finding) -> String {
    let severity = match f.severity.as_str() {
        "fatal" => "Fehler",
        "warning" => "Warnung",
        _ => "Hinweis",
    };
    format!("Regel {} ({severity}) an {}: {}", f.rule, f.location, f.message)
}

/// Validates the document as `kreishaus invoice validate` does (`einvoice::validate`: KoSIT
/// scenario of its CustomizationID, schema step, the scenario's rules and severity overrides):
/// the scenario's name, every finding and whether it is accepted. A document without a
/// scenario is told so in German, with the identifier expected.
fn validate(doc: &roxmltree::Document<'_>, syntax: reader::Syntax) -> (String, Vec<Finding>, bool) {
    let report = einvoice::validate::validate_parsed(doc, syntax, einvoice::validate::Options::default());
    let findings = report
        .findings
        .into_iter()
        .map(|f| {
            let message = if f.rule == einvoice::validate::SCENARIO_RULE {
                let customization = scenario::customization_id(doc, syntax).unwrap_or_default();
                format!(
                    "Für die Spezifikationskennung (BT-24, CustomizationID) „{customization}“ gibt es kein \
                     Prüfszenario; erwartet wird XRechnung 3.0 ({}).",
                    scenario::XRECHNUNG
                )
            } else {
                f.message
            };
            Finding { rule: f.rule.to_owned(), severity: f.severity.as_str().to_owned(), message, location: f.location }
        })
        .collect();
    let accepted = report.verdict == einvoice::validate::Verdict::Accept;
    (report.scenario.unwrap_or_default().to_owned(), findings, accepted)
}

fn amount_cents(a: Option<einvoice::model::Amount>) -> i64 {
    a.and_then(model::cents).unwrap_or(0)
}

/// Takes an invoice in: reads it safely, routes it by its Leitweg-ID, validates it, stores the
/// original by hash and the verdict with every finding, and flags a duplicate. The same bytes
/// a second time return the invoice stored the first time.
pub async fn intake(k: &Kernel, s: Submission) -> Result<Intake, Refusal> {
    let xml = invoice_xml(&s.bytes)?;
    let text = reader::decode(&xml, MAX_INVOICE_BYTES).map_err(Refusal::Unreadable)?;
    let (doc, syntax) = reader::parse(&text).map_err(Refusal::Unreadable)?;
    let inv = einvoice::model::Invoice::from_document(&doc, syntax);
    let given = inv.buyer_reference.clone().ok_or(Refusal::NoLeitwegId)?;
    let leitweg = LeitwegId::parse(&given).map_err(|error| Refusal::LeitwegInvalid { given: given.clone(), error })?;
    let route = store::route(&k.db, leitweg.as_str())
        .await?
        .ok_or_else(|| Refusal::UnknownLeitwegId(leitweg.as_str().to_owned()))?;
    let hash = BlobHash::of(&s.bytes);
    if let Some(existing) = store::by_hash(&k.db, route.tenant, hash.as_str()).await? {
        return Ok(Intake { invoice: existing, repeated: true });
    }
    let (scenario, findings, accepted) = validate(&doc, syntax);
    let pdf = crate::render::pdf::pdf(&crate::render::Rendering::of(&inv)).map_err(AppError::internal)?;
    let issue_date = inv.issue_date.clone().unwrap_or_default();
    let terms = inv.payment_terms.as_deref().unwrap_or_default();
    let dates = model::payment_dates(&issue_date, inv.due_date.as_deref(), terms);
    let mut invoice = StoredInvoice {
        id: 0,
        tenant: route.tenant,
        org_unit: route.org_unit,
        leitweg_id: leitweg.as_str().to_owned(),
        channel: s.channel,
        sender: s.sender,
        blob_sha256: hash.as_str().to_owned(),
        rendering_sha256: None,
        size: s.bytes.len() as i64,
        syntax: syntax.as_str().to_owned(),
        scenario,
        verdict: if accepted { "accept" } else { "reject" }.to_owned(),
        findings,
        invoice_number: inv.number.clone().unwrap_or_default(),
        issue_date: issue_date.clone(),
        seller_name: inv.seller.name.clone().unwrap_or_default(),
        seller_key: model::seller_key(inv.seller.vat_id.as_deref(), inv.seller.name.as_deref()),
        currency: inv.currency.clone().unwrap_or_else(|| "EUR".into()),
        total_cents: amount_cents(inv.totals.with_vat),
        due_cents: amount_cents(inv.totals.due.or(inv.totals.with_vat)),
        due_date: dates.due_date,
        skonto: dates.skonto,
        skonto_until: dates.skonto_until,
        duplicate_of: None,
        status: if accepted { Status::Received } else { Status::Rejected },
        status_note: String::new(),
        export_id: None,
        paid_on: None,
        paid_cents: None,
        created_at: k.clock.now(),
    };
    drop(doc);
    k.blobs.put(s.bytes).await.map_err(AppError::internal)?;
    let rendering = k.blobs.put(Bytes::from(pdf)).await.map_err(AppError::internal)?;
    invoice.rendering_sha256 = Some(rendering.as_str().to_owned());
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::lock_route(&mut tx, route.id).await?;
    if accepted {
        flag_duplicate(&mut tx, &mut invoice).await?;
    }
    let mut tx = match insert_new(k, tx, &mut invoice, now).await? {
        Inserted::New(tx) => tx,
        Inserted::Known(existing) => return Ok(Intake { invoice: *existing, repeated: true }),
    };
    let details = json!({
        "channel": invoice.channel.as_str(), "sender": invoice.sender, "leitweg_id": invoice.leitweg_id,
        "sha256": invoice.blob_sha256, "verdict": invoice.verdict, "duplicate_of": invoice.duplicate_of,
        "errors": invoice.findings.iter().filter(|f| f.severity == "fatal").map(|f| f.rule.as_str()).collect::<Vec<_>>(),
    });
    record(&mut tx, now, route.tenant, &s.actor, "invoicing.invoice.received", &invoice.subject(), details).await?;
    tx.commit().await?;
    Ok(Intake { invoice, repeated: false })
}

/// Marks the invoice a possible duplicate (Doppelrechnung) of an earlier valid invoice of the
/// same seller with the same number, total and issue date, if there is one.
async fn flag_duplicate(tx: &mut kernel::Tx, invoice: &mut StoredInvoice) -> Result<(), AppError> {
    invoice.duplicate_of = store::find_duplicate(
        tx,
        invoice.tenant,
        &invoice.seller_key,
        &invoice.invoice_number,
        invoice.total_cents,
        &invoice.issue_date,
    )
    .await?;
    if invoice.duplicate_of.is_some() {
        invoice.status = Status::Duplicate;
    }
    Ok(())
}

/// What [`insert_new`] did.
enum Inserted {
    /// Stored (its id set); the transaction goes on.
    New(kernel::Tx),
    /// The same bytes arrived on another request at the same moment: the invoice they became.
    Known(Box<StoredInvoice>),
}

async fn insert_new(
    k: &Kernel,
    mut tx: kernel::Tx,
    invoice: &mut StoredInvoice,
    now: Timestamp,
) -> Result<Inserted, AppError> {
    match store::insert_invoice(&mut tx, invoice, now).await {
        Ok(id) => {
            invoice.id = id;
            Ok(Inserted::New(tx))
        }
        Err(e) if e.is_unique_violation() => {
            drop(tx);
            let existing =
                store::by_hash(&k.db, invoice.tenant, &invoice.blob_sha256).await?.ok_or(AppError::internal(e))?;
            Ok(Inserted::Known(Box::new(existing)))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- paper invoices ----

/// Takes in a paper invoice (Papierrechnung): the scan — a PDF without an e-invoice inside, or
/// a PNG, JPEG or TIFF image — is the original, stored by hash; the facts a clerk typed off it
/// ([`model::check_capture`]) go into the workflow like an e-invoice's, into the proof's unit,
/// with the same duplicate check. The same scan a second time returns the invoice it became,
/// or, when that invoice lies with another unit, is refused as known. `proof` is for the unit
/// chosen; without one (none of the staff's units was chosen) nothing is stored and that is
/// reported with every other problem of the form.
pub async fn capture(
    k: &Kernel,
    proof: Option<&Authorized<WorkInvoices>>,
    scan: Bytes,
    form: &model::CaptureForm,
) -> Result<Intake, AppError> {
    let unit_chosen = proof.and_then(|p| p.org_unit().map(|unit| (p, unit)));
    let (proof, unit, captured) = match (unit_chosen, check_paper(k.clock.now(), &scan, form)) {
        (Some((proof, unit)), Ok(captured)) => (proof, unit, captured),
        (unit_chosen, checked) => {
            let no_unit = unit_chosen
                .is_none()
                .then(|| FieldError { field: "einheit".to_owned(), code: "invoicing.org_unit_unknown" });
            let fields = no_unit.into_iter().chain(checked.err().unwrap_or_default()).collect();
            return Err(AppError::Invalid { code: "invoicing.capture_invalid", fields });
        }
    };
    let hash = BlobHash::of(&scan);
    match store::by_hash(&k.db, proof.tenant(), hash.as_str()).await? {
        Some(existing) if existing.org_unit == unit => return Ok(Intake { invoice: existing, repeated: true }),
        // Scanned twice in two offices: the second learns of the first, not what it is.
        Some(_) => return Err(AppError::invalid("invoicing.scan_known_elsewhere", "datei")),
        None => {}
    }
    let media_type = model::original_media_type(&scan);
    let now = k.clock.now();
    let mut invoice = paper_invoice(proof, unit, &captured, &scan, hash.as_str(), now);
    k.blobs.put(scan).await.map_err(AppError::internal)?;
    let mut tx = k.db.begin().await?;
    flag_duplicate(&mut tx, &mut invoice).await?;
    let mut tx = match insert_new(k, tx, &mut invoice, now).await? {
        Inserted::New(tx) => tx,
        Inserted::Known(existing) => return Ok(Intake { invoice: *existing, repeated: true }),
    };
    let capture = model::PaperCapture {
        seller_vat_id: captured.seller_vat_id,
        seller_iban: captured.seller_iban,
        staff: proof.staff(),
        staff_name: proof.actor().name.clone(),
    };
    store::insert_capture(&mut tx, invoice.id, &capture).await?;
    let details = json!({
        "sha256": invoice.blob_sha256, "media_type": media_type,
        "duplicate_of": invoice.duplicate_of,
    });
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.invoice.captured", &invoice.subject(), details)
        .await?;
    tx.commit().await?;
    Ok(Intake { invoice, repeated: false })
}

/// The facts of a paper invoice as checked ([`model::check_capture`]), or every problem with
/// them and with the scan, in form order.
fn check_paper(now: Timestamp, scan: &[u8], form: &model::CaptureForm) -> Result<model::Captured, Vec<FieldError>> {
    let checked = model::check_capture(form, now.german_date());
    match (checked, scan_problem(scan)) {
        (Ok(captured), None) => Ok(captured),
        (checked, scan_problem) => Err(scan_problem
            .map(|code| ("datei", code))
            .into_iter()
            .chain(checked.err().unwrap_or_default())
            .map(|(field, code)| FieldError { field: field.to_owned(), code })
            .collect()),
    }
}

/// Why a file is no scan of a paper invoice: none chosen, too large, not a PDF or image, or a
/// PDF that carries an e-invoice (which is taken in and validated as one, not typed in).
fn scan_problem(scan: &[u8]) -> Option<&'static str> {
    match model::original_media_type(scan) {
        _ if scan.is_empty() => Some("invoicing.scan_required"),
        _ if scan.len() > MAX_INVOICE_BYTES => Some("invoicing.scan_too_large"),
        "application/xml" => Some("invoicing.scan_format"),
        "application/pdf" if einvoice::pdf::extract(scan, MAX_INVOICE_BYTES).is_ok() => {
            Some("invoicing.scan_is_einvoice")
        }
        _ => None,
    }
}

/// What a paper invoice's typed facts are in EN 16931 terms, for the booking export as for an
/// e-invoice: an invoice (380) with number, dates, currency, the seller with name and VAT
/// identifier, and a credit transfer to the typed IBAN with the invoice number as remittance.
pub fn paper_document(invoice: &StoredInvoice, capture: &model::PaperCapture) -> einvoice::model::Invoice {
    let given = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let transfer =
        |iban| einvoice::model::PaymentMeans { code: Some("58".to_owned()), account: Some(iban), ..Default::default() };
    einvoice::model::Invoice {
        number: given(&invoice.invoice_number),
        issue_date: given(&invoice.issue_date),
        type_code: Some("380".to_owned()),
        currency: given(&invoice.currency),
        due_date: invoice.due_date.clone(),
        seller: einvoice::model::Party {
            name: given(&invoice.seller_name),
            vat_id: given(&capture.seller_vat_id),
            ..Default::default()
        },
        payment_means: given(&capture.seller_iban).map(transfer).into_iter().collect(),
        ..Default::default()
    }
}

/// The `syntax` of a paper invoice: a scan, no e-invoice syntax.
const PAPER_SYNTAX: &str = "scan";

/// The stored invoice a paper capture becomes: received in `unit`, sent by the clerk
/// (`staff:ID`), without Leitweg-ID, validation or rendering (the scan is what people read).
fn paper_invoice(
    proof: &Authorized<WorkInvoices>,
    unit: OrgUnitId,
    c: &model::Captured,
    scan: &[u8],
    sha256: &str,
    now: Timestamp,
) -> StoredInvoice {
    let skonto_until = c.skonto.as_ref().and_then(|s| model::add_days(&c.issue_date, s.days));
    StoredInvoice {
        id: 0,
        tenant: proof.tenant(),
        org_unit: unit,
        leitweg_id: String::new(),
        channel: Channel::Paper,
        sender: format!("staff:{}", proof.staff()),
        blob_sha256: sha256.to_owned(),
        rendering_sha256: None,
        size: scan.len() as i64,
        syntax: PAPER_SYNTAX.to_owned(),
        scenario: String::new(),
        verdict: "accept".to_owned(),
        findings: Vec::new(),
        invoice_number: c.invoice_number.clone(),
        issue_date: c.issue_date.clone(),
        seller_name: c.seller_name.clone(),
        seller_key: model::seller_key(Some(&c.seller_vat_id), Some(&c.seller_name)),
        currency: "EUR".to_owned(),
        total_cents: c.total_cents,
        due_cents: c.total_cents,
        due_date: c.due_date.clone(),
        skonto: c.skonto.clone(),
        skonto_until,
        duplicate_of: None,
        status: Status::Received,
        status_note: String::new(),
        export_id: None,
        paid_on: None,
        paid_cents: None,
        created_at: now,
    }
}

/// The invoices an organisation (or citizen) sent, newest first.
pub async fn sent_by(k: &Kernel, sender: &str) -> Result<Vec<StoredInvoice>, AppError> {
    Ok(store::sent_by(&k.db, sender, 200).await?)
}

/// One invoice a sender sent, with its status; NotFound for anyone else's.
pub async fn sent_invoice(k: &Kernel, sender: &str, id: i64) -> Result<StoredInvoice, AppError> {
    store::sent_one(&k.db, sender, id).await?.ok_or(AppError::NotFound)
}

// ---- the staff's view ----

/// The invoice, if the proof covers its tenant and unit.
async fn invoice_for<P>(k: &Kernel, proof: &Authorized<P>, id: i64) -> Result<StoredInvoice, AppError> {
    let invoice = store::invoice(&k.db, proof.tenant(), id).await?.ok_or(AppError::NotFound)?;
    match proof.org_unit() {
        Some(unit) if unit != invoice.org_unit => Err(AppError::NotFound),
        _ => Ok(invoice),
    }
}

/// [`invoice_for`] an e-invoice: a paper invoice has no XML to render or take attachments from.
async fn e_invoice_for<P>(k: &Kernel, proof: &Authorized<P>, id: i64) -> Result<StoredInvoice, AppError> {
    let invoice = invoice_for(k, proof, id).await?;
    match invoice.channel {
        Channel::Paper => Err(AppError::NotFound),
        _ => Ok(invoice),
    }
}

/// One page of the inbox: invoices of the proof's unit (for a tenant-wide role all units, or
/// the one the query names) as the query asks, and how many match in all.
pub async fn inbox(
    k: &Kernel,
    proof: &Authorized<WorkInvoices>,
    q: &InboxQuery,
) -> Result<(Vec<StoredInvoice>, i64), AppError> {
    Ok(store::search(&k.db, proof.tenant(), proof.org_unit().or(q.unit), q).await?)
}

/// Everything the detail page shows.
pub struct InvoiceFile {
    pub invoice: StoredInvoice,
    /// The EN 16931 model, read again from the hash-verified original, or what was typed off a
    /// paper invoice's scan ([`paper_document`]).
    pub document: einvoice::model::Invoice,
    /// Who typed in a paper invoice; None for an e-invoice.
    pub capture: Option<model::PaperCapture>,
    /// The name of the org unit whose inbox holds it.
    pub unit_name: String,
    pub approvals: Vec<Approval>,
    /// The hand-overs between org units, oldest first.
    pub forwards: Vec<Forward>,
    /// The units it may be handed on to now (none after the first sign-off).
    pub forward_targets: Vec<(OrgUnitId, String)>,
    pub assignment: Vec<AssignmentLine>,
    /// While nothing is assigned: the assignment of the seller's latest assigned invoice in
    /// the unit, carried over to this total.
    pub suggestion: Option<Suggestion>,
}

/// The original bytes, re-verified against their hash (a damaged object is an error, never
/// shown as if it were the invoice).
async fn original_bytes(k: &Kernel, invoice: &StoredInvoice) -> Result<Bytes, AppError> {
    let hash = BlobHash::parse(&invoice.blob_sha256).ok_or(AppError::internal("stored hash malformed"))?;
    k.blobs.get(&hash).await.map_err(|e| AppError::internal(format!("invoice {}: {e}", invoice.id)))
}

/// The invoice XML of the bytes: the bytes themselves, or the XML embedded in a ZUGFeRD /
/// Factur-X PDF (the PDF stays the original that is stored).
fn invoice_xml(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Refusal> {
    if !einvoice::pdf::is_pdf(bytes) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    einvoice::pdf::extract(bytes, MAX_INVOICE_BYTES).map(|e| std::borrow::Cow::Owned(e.xml)).map_err(Refusal::Pdf)
}

/// Why a PDF was refused, in plain German.
fn pdf_error_german(e: &einvoice::pdf::PdfError) -> String {
    use einvoice::pdf::PdfError;
    match e {
        PdfError::Encrypted => "Die PDF-Datei ist verschlüsselt. Senden Sie die Rechnung ohne Kennwortschutz.".into(),
        PdfError::NoAttachment { .. } => "Die PDF-Datei enthält keine elektronische Rechnung (ZUGFeRD/Factur-X).             Senden Sie die XRechnung als XML oder eine ZUGFeRD-PDF mit eingebetteter XML-Datei."
            .into(),
        other => format!("Die PDF-Datei kann nicht gelesen werden ({other}). Senden Sie die Rechnung als XRechnung (XML)."),
    }
}

/// The invoice in EN 16931 terms: read again from its hash-verified original, or, for a paper
/// invoice, from what was typed off the scan (whose integrity is verified all the same), with
/// that capture.
async fn document_for(
    k: &Kernel,
    invoice: &StoredInvoice,
) -> Result<(einvoice::model::Invoice, Option<model::PaperCapture>), AppError> {
    let original = original_bytes(k, invoice).await?;
    if invoice.channel != Channel::Paper {
        return Ok((document_of(&original)?, None));
    }
    let capture = store::capture(&k.db, invoice.id)
        .await?
        .ok_or_else(|| AppError::internal(format!("paper invoice {} without its capture", invoice.id)))?;
    Ok((paper_document(invoice, &capture), Some(capture)))
}

/// Parses stored bytes into the model (they were readable on intake).
pub fn document_of(bytes: &[u8]) -> Result<einvoice::model::Invoice, AppError> {
    read_original(bytes, einvoice::model::Invoice::from_document)
}

/// Reads a stored original (the XML, or the XML in a ZUGFeRD PDF) and hands its tree to `read`;
/// it was read at intake, so a failure now is ours.
fn read_original<T>(
    bytes: &[u8],
    read: impl FnOnce(&roxmltree::Document<'_>, einvoice::Syntax) -> T,
) -> Result<T, AppError> {
    read_tree(bytes, read).map_err(|e| AppError::internal(e.reason()))
}

/// Reads an invoice (the XML, or the XML in a ZUGFeRD PDF) and hands its tree to `read`.
fn read_tree<T>(
    bytes: &[u8],
    read: impl FnOnce(&roxmltree::Document<'_>, einvoice::Syntax) -> T,
) -> Result<T, Refusal> {
    let xml = invoice_xml(bytes)?;
    let text = reader::decode(&xml, MAX_INVOICE_BYTES).map_err(Refusal::Unreadable)?;
    let (doc, syntax) = reader::parse(&text).map_err(Refusal::Unreadable)?;
    Ok(read(&doc, syntax))
}

/// The EN 16931 model of an invoice file that was not taken in (`kreishaus invoice render`);
/// why it cannot be read, as a [`Refusal`] with its reason.
pub fn read_document(bytes: &[u8]) -> Result<einvoice::model::Invoice, Refusal> {
    read_tree(bytes, einvoice::model::Invoice::from_document)
}

/// Opens an invoice: the stored facts, the document read from the verified original, the
/// sign-offs and the assignment. Opening is recorded.
pub async fn open(k: &Kernel, proof: &Authorized<WorkInvoices>, id: i64) -> Result<InvoiceFile, AppError> {
    let invoice = invoice_for(k, proof, id).await?;
    let (document, capture) = document_for(k, &invoice).await?;
    let approvals = store::approvals(&k.db, id).await?;
    let forwards = store::forwards(&k.db, id).await?;
    let units = identity::service::org_units(k, proof.tenant()).await?;
    let unit_name = units.iter().find(|u| u.id == invoice.org_unit).map(|u| u.name.clone()).unwrap_or_default();
    let forward_targets = match invoice.status.may_forward() {
        true => units.into_iter().filter(|u| u.id != invoice.org_unit).map(|u| (u.id, u.name)).collect(),
        false => Vec::new(),
    };
    let assignment = store::assignment(&k.db, id).await?;
    let suggestion = if assignment.is_empty() { suggestion(k, &invoice).await? } else { None };
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.invoice.opened", &invoice.subject(), json!({}))
        .await?;
    tx.commit().await?;
    Ok(InvoiceFile {
        invoice,
        document,
        capture,
        unit_name,
        approvals,
        forwards,
        forward_targets,
        assignment,
        suggestion,
    })
}

/// The assignment proposed for an invoice (Kontierungsvorschlag): the seller's latest assigned
/// invoice in the same unit, its lines carried over to this total by their shares.
async fn suggestion(k: &Kernel, invoice: &StoredInvoice) -> Result<Option<Suggestion>, AppError> {
    let Some((earlier, earlier_total)) = store::latest_assigned_of_seller(&k.db, invoice).await? else {
        return Ok(None);
    };
    let lines = model::carry_over(&earlier.lines, earlier_total, invoice.total_cents);
    Ok((!lines.is_empty()).then_some(Suggestion { lines, ..earlier }))
}

/// The original XML as received, hash-verified.
pub async fn original(
    k: &Kernel,
    proof: &Authorized<WorkInvoices>,
    id: i64,
) -> Result<(StoredInvoice, Bytes), AppError> {
    let invoice = invoice_for(k, proof, id).await?;
    let bytes = original_bytes(k, &invoice).await?;
    Ok((invoice, bytes))
}

/// An attachment of the invoice (BT-125 of the `n`-th supporting document, BG-24), decoded from
/// the verified original: its file name, MIME code and content. Opening it is recorded.
pub async fn attachment(
    k: &Kernel,
    proof: &Authorized<WorkInvoices>,
    id: i64,
    n: usize,
) -> Result<(einvoice::model::Attachment, Bytes), AppError> {
    let invoice = e_invoice_for(k, proof, id).await?;
    let (meta, content) =
        read_original(&original_bytes(k, &invoice).await?, |doc, syntax| einvoice::model::attachment(doc, syntax, n))?
            .ok_or(AppError::NotFound)?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let details = json!({ "attachment": n, "filename": meta.filename });
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.attachment.opened", &invoice.subject(), details)
        .await?;
    tx.commit().await?;
    Ok((meta, Bytes::from(content)))
}

/// The PDF rendering as made on receipt, hash-verified; made from the verified original for an
/// invoice stored without one.
pub async fn rendering(
    k: &Kernel,
    proof: &Authorized<WorkInvoices>,
    id: i64,
) -> Result<(StoredInvoice, Bytes), AppError> {
    let invoice = e_invoice_for(k, proof, id).await?;
    let pdf = match invoice.rendering_sha256.as_deref().and_then(BlobHash::parse) {
        Some(hash) => {
            k.blobs.get(&hash).await.map_err(|e| AppError::internal(format!("invoice {id} rendering: {e}")))?
        }
        None => {
            let document = document_of(&original_bytes(k, &invoice).await?)?;
            Bytes::from(crate::render::pdf::pdf(&crate::render::Rendering::of(&document)).map_err(AppError::internal)?)
        }
    };
    Ok((invoice, pdf))
}

// ---- approval ----

async fn sign<P>(k: &Kernel, proof: &Authorized<P>, id: i64, step: Step, note: &str) -> Result<Status, AppError> {
    let invoice = invoice_for(k, proof, id).await?;
    let done = store::approvals(&k.db, id).await?;
    let lines = store::assignment(&k.db, id).await?;
    let complete = !lines.is_empty() && model::check_assignment(&lines, invoice.total_cents).is_empty();
    model::check_step(invoice.status, &done, step, proof.staff(), complete)
        .map_err(|r| AppError::Conflict { code: r.code() })?;
    let now = k.clock.now();
    let (from, to) = step.transition();
    let approval = Approval {
        step,
        staff: proof.staff(),
        staff_name: proof.actor().name.clone(),
        note: note.trim().chars().take(2000).collect(),
        at: now,
    };
    let mut tx = k.db.begin().await?;
    if !store::set_status(&mut tx, &invoice, from, to, "", now).await? {
        return Err(AppError::Conflict { code: "invoicing.step_wrong_state" });
    }
    // The table's UNIQUE (invoice, staff) holds the separation of duties even against a race.
    store::insert_approval(&mut tx, id, &approval).await.map_err(|e| {
        if e.is_unique_violation() { AppError::Conflict { code: "invoicing.same_person" } } else { e.into() }
    })?;
    let details = json!({ "step": step.as_str(), "note": approval.note, "role": proof.role().map(Role::as_str) });
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.invoice.signed", &invoice.subject(), details)
        .await?;
    tx.commit().await?;
    Ok(to)
}

/// Signs "sachlich richtig" or "rechnerisch richtig". The payment order needs
/// [`order_payment`] and its own permission.
pub async fn check(
    k: &Kernel,
    proof: &Authorized<WorkInvoices>,
    id: i64,
    step: Step,
    note: &str,
) -> Result<Status, AppError> {
    if step == Step::PaymentOrder {
        return Err(AppError::Forbidden);
    }
    sign(k, proof, id, step, note).await
}

/// Signs the payment order (Anordnung): the third person, after a complete assignment.
pub async fn order_payment(
    k: &Kernel,
    proof: &Authorized<OrderPayment>,
    id: i64,
    note: &str,
) -> Result<Status, AppError> {
    sign(k, proof, id, Step::PaymentOrder, note).await
}

/// Saves the account assignment (before the payment order): the lines must add up to the total.
pub async fn assign(
    k: &Kernel,
    proof: &Authorized<WorkInvoices>,
    id: i64,
    lines: Vec<AssignmentLine>,
) -> Result<(), AppError> {
    let invoice = invoice_for(k, proof, id).await?;
    if !invoice.status.may_assign() {
        return Err(AppError::Conflict { code: "invoicing.assignment_closed" });
    }
    let problems = model::check_assignment(&lines, invoice.total_cents);
    if let Some((_, code)) = problems.first() {
        return Err(AppError::Invalid {
            code,
            fields: problems.iter().map(|(field, code)| FieldError { field: field.clone(), code }).collect(),
        });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    // Still open in this transaction: a payment order signed since the check above must not
    // find its assignment changed after it.
    if !store::lock_if_assignable(&mut tx, &invoice).await? {
        return Err(AppError::Conflict { code: "invoicing.assignment_closed" });
    }
    store::replace_assignment(&mut tx, id, &lines).await?;
    let details = json!({ "lines": lines });
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.invoice.assigned", &invoice.subject(), details)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Hands an invoice on to another org unit of the tenant (the central invoice receipt passes
/// it to the office that ordered), with a note for that unit; only before the first sign-off
/// ([`Status::may_forward`]). Afterwards the invoice is in the other unit's inbox and no longer
/// in this one's; the hand-over is kept on the invoice and in the audit log.
pub async fn forward(
    k: &Kernel,
    proof: &Authorized<WorkInvoices>,
    id: i64,
    to: OrgUnitId,
    note: &str,
) -> Result<(), AppError> {
    let invoice = invoice_for(k, proof, id).await?;
    if !invoice.status.may_forward() {
        return Err(AppError::Conflict { code: "invoicing.forward_closed" });
    }
    let units = identity::service::org_units(k, proof.tenant()).await?;
    let Some(target) = units.iter().find(|u| u.id == to) else {
        return Err(AppError::invalid("invoicing.forward_unit_unknown", "einheit"));
    };
    if to == invoice.org_unit {
        return Err(AppError::invalid("invoicing.forward_same_unit", "einheit"));
    }
    let note: String = note.trim().chars().take(2000).collect();
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if !store::move_to_unit(&mut tx, &invoice, to, now).await? {
        return Err(AppError::Conflict { code: "invoicing.step_wrong_state" });
    }
    store::insert_forward(&mut tx, id, (invoice.org_unit, to), (proof.staff(), &proof.actor().name), &note, now)
        .await?;
    if !target.email.is_empty() {
        let mail = forward_mail(&invoice, &proof.actor().name, &note, &target.email);
        mail::enqueue(&mut tx, now, Some(invoice.tenant), &mail, None).await?;
    }
    let details = json!({ "from": invoice.org_unit.0, "to": to.0, "to_name": target.name, "note": note });
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.invoice.forwarded", &invoice.subject(), details)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The mail telling a unit's address that an invoice was handed on to it.
fn forward_mail(invoice: &StoredInvoice, by: &str, note: &str, to: &str) -> Mail {
    let note = if note.is_empty() { String::new() } else { format!("\nHinweis: {note}\n") };
    Mail {
        to: to.to_owned(),
        subject: format!("Rechnung {} an Sie weitergeleitet", invoice.invoice_number),
        body: format!(
            "{by} hat Ihnen die Rechnung {} von {} über {} weitergeleitet.\n{note}\n\
             Bitte prüfen Sie sie im Rechnungseingang (sachlich richtig).\n",
            invoice.invoice_number,
            invoice.seller_name,
            invoice.total()
        ),
    }
}

/// Sets an invoice aside (not to be paid), with the reason, which the sender is told.
pub async fn dismiss(k: &Kernel, proof: &Authorized<WorkInvoices>, id: i64, reason: &str) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("invoicing.reason_required", "grund"));
    }
    let invoice = invoice_for(k, proof, id).await?;
    if !invoice.status.may_dismiss() {
        return Err(AppError::Conflict { code: "invoicing.step_wrong_state" });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if !store::set_status(&mut tx, &invoice, invoice.status, Status::Dismissed, reason, now).await? {
        return Err(AppError::Conflict { code: "invoicing.step_wrong_state" });
    }
    // The sender learns the reason: in the business account and the API from the status note,
    // by mail if the invoice came by mail.
    if let Some(to) = invoice.sender.strip_prefix("mail:") {
        let mail = dismissal_mail(&invoice, reason, to);
        mail::enqueue(&mut tx, now, Some(invoice.tenant), &mail, Some(format!("invoice-dismissed:{id}"))).await?;
    }
    let details = json!({ "from": invoice.status.as_str(), "reason": reason });
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.invoice.dismissed", &invoice.subject(), details)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The mail telling a sender that their invoice will not be paid, and why.
fn dismissal_mail(invoice: &StoredInvoice, reason: &str, to: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("Rechnung {} wird nicht bezahlt", invoice.invoice_number),
        body: format!(
            "Guten Tag,\n\nIhre Rechnung {} vom {} über {} (Leitweg-ID {}) haben wir geprüft. Wir werden sie \
             nicht bezahlen.\n\nGrund: {reason}\n\nBitte senden Sie, falls nötig, eine Gutschrift oder eine \
             berichtigte Rechnung. Bei Fragen antworten Sie der Stelle, die Sie beauftragt hat.\n\n\
             Diese Nachricht wurde automatisch erstellt.\n",
            invoice.invoice_number,
            model::german_date(&invoice.issue_date),
            invoice.total(),
            invoice.leitweg_id
        ),
    }
}

// ---- booking export ----

/// The header of the booking export.
pub const EXPORT_HEADER: &str = "Rechnung;Leitweg-ID;Lieferant;Rechnungsnummer;Rechnungsdatum;Faellig;\
    Skonto_bis;Skonto_Betrag;Zahlbetrag;Waehrung;Rechnungsart;IBAN;BIC;Verwendungszweck;USt-IdNr;Steuernummer;\
    Bestellnummer;Position;Sachkonto;Kostenstelle;Produkt;Betrag;SHA256\r\n";

/// What the cash office pays to and books with, from the invoice itself: the invoice type code
/// (BT-3: 381 is a credit note, money the county receives, not pays), the first payment means
/// with an account (BT-84 IBAN, BT-86 BIC), the remittance information (BT-83, else the invoice
/// number), the seller's VAT identifier (BT-31) and tax number (BT-32), the purchase order
/// reference (BT-13).
fn payment_fields(document: &einvoice::model::Invoice) -> [String; 7] {
    let means = document.payment_means.iter().find(|m| m.account.is_some());
    let field = |value: Option<&String>| value.cloned().unwrap_or_default();
    [
        field(document.type_code.as_ref()),
        field(means.and_then(|m| m.account.as_ref())),
        field(means.and_then(|m| m.provider.as_ref())),
        field(means.and_then(|m| m.remittance.as_ref()).or(document.number.as_ref())),
        field(document.seller.vat_id.as_ref()),
        field(document.seller.tax_registration.as_ref()),
        field(document.order_reference.as_ref()),
    ]
}

fn export_rows(invoice: &StoredInvoice, document: &einvoice::model::Invoice, lines: &[AssignmentLine]) -> String {
    let skonto = invoice.skonto.as_ref().map(|s| model::csv_amount(s.discount_cents(invoice.due_cents)));
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let [kind, iban, bic, remittance, vat_id, tax_number, order] = payment_fields(document);
            let fields = [
                invoice.id.to_string(),
                invoice.leitweg_id.clone(),
                invoice.seller_name.clone(),
                invoice.invoice_number.clone(),
                invoice.issue_date.clone(),
                invoice.due_date.clone().unwrap_or_default(),
                invoice.skonto_until.clone().unwrap_or_default(),
                skonto.clone().unwrap_or_default(),
                model::csv_amount(invoice.due_cents),
                invoice.currency.clone(),
                kind,
                iban,
                bic,
                remittance,
                vat_id,
                tax_number,
                order,
                (i + 1).to_string(),
                l.account.clone(),
                l.cost_centre.clone(),
                l.product.clone(),
                model::csv_amount(l.amount_cents),
                invoice.blob_sha256.clone(),
            ];
            let mut row = fields.iter().map(|f| model::csv_field(f)).collect::<Vec<_>>().join(";");
            row.push_str("\r\n");
            row
        })
        .collect()
}

/// Exports every ordered invoice not exported yet as one CSV file (one row per assignment
/// line; payment data read from the verified original), keeps the file in the object store and
/// marks the invoices exported, all or none. `None` when nothing is ready.
///
/// The file is made before the transaction (reading the originals from the object store may
/// take a while); the transaction then marks exactly those invoices, each only if it is still
/// ordered and not exported, so two exports at the same moment can never both book one
/// invoice: the later one is refused and changes nothing.
pub async fn export(k: &Kernel, proof: &Authorized<ExportBookings>) -> Result<Option<(i64, Bytes)>, AppError> {
    let ready = store::ready_for_export(&k.db, proof.tenant()).await?;
    if ready.is_empty() {
        return Ok(None);
    }
    let mut csv = String::from(EXPORT_HEADER);
    for invoice in &ready {
        let lines = store::assignment(&k.db, invoice.id).await?;
        let (document, _) = document_for(k, invoice).await?;
        csv.push_str(&export_rows(invoice, &document, &lines));
    }
    let bytes = Bytes::from(csv.into_bytes());
    let hash = k.blobs.put(bytes.clone()).await.map_err(AppError::internal)?;
    let ids: Vec<i64> = ready.iter().map(|i| i.id).collect();
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let Some(export) = store::insert_export(&mut tx, proof.tenant(), proof.staff(), &ids, hash.as_str(), now).await?
    else {
        return Err(AppError::Conflict { code: "invoicing.export_taken" });
    };
    let details = json!({ "invoices": ids, "sha256": hash.as_str() });
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "invoicing.export.created",
        &format!("invoice-export:{export}"),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(Some((export, bytes)))
}

/// Largest payment file accepted.
pub const MAX_PAYMENT_FILE_BYTES: usize = 5 << 20;

/// What a payment import did.
#[derive(Debug, PartialEq, Eq)]
pub struct PaymentImport {
    /// Invoices marked paid now.
    pub paid: usize,
    /// Lines for invoices already paid with the same date and amount (a file imported again).
    pub known: usize,
}

/// Takes in the finance system's payment file ([`model::read_payments`]): every line must
/// name an exported invoice of the tenant (or one already paid with the same date and amount),
/// paid no later than today and not before its issue date, at most its amount due (less a
/// Skonto is fine). All lines or none: any problem refuses the file with every problem listed
/// by line, so the Kasse mends and imports it again; importing a file twice changes nothing.
/// The sender sees the payment date in the business account and the API.
pub async fn import_payments(
    k: &Kernel,
    proof: &Authorized<ExportBookings>,
    bytes: &[u8],
) -> Result<Result<PaymentImport, Vec<model::PaymentProblem>>, AppError> {
    if bytes.len() > MAX_PAYMENT_FILE_BYTES {
        return Ok(Err(vec![(0, "invoicing.payments_too_large")]));
    }
    let (payments, mut problems) = model::read_payments(bytes);
    let today = model::iso_date(k.clock.now().german_date());
    let ids: Vec<i64> = payments.iter().map(|p| p.invoice).collect();
    let mut by_id: std::collections::HashMap<i64, StoredInvoice> =
        store::invoices(&k.db, proof.tenant(), &ids).await?.into_iter().map(|i| (i.id, i)).collect();
    let mut due = Vec::new();
    for p in &payments {
        let Some(invoice) = by_id.remove(&p.invoice) else {
            problems.push((p.line, "invoicing.payment_invoice_unknown"));
            continue;
        };
        let problem = match invoice.status {
            _ if p.paid_on > today => Some("invoicing.payment_date_future"),
            _ if p.paid_on < invoice.issue_date => Some("invoicing.payment_date_before_issue"),
            _ if p.cents > invoice.due_cents => Some("invoicing.payment_amount_too_high"),
            Status::Exported => None,
            Status::Paid
                if invoice.paid_on.as_deref() == Some(p.paid_on.as_str()) && invoice.paid_cents == Some(p.cents) =>
            {
                continue;
            }
            Status::Paid => Some("invoicing.payment_differs"),
            _ => Some("invoicing.payment_not_exported"),
        };
        match problem {
            Some(code) => problems.push((p.line, code)),
            None => due.push((p, invoice)),
        }
    }
    if !problems.is_empty() {
        problems.sort_unstable();
        return Ok(Err(problems));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    for (payment, invoice) in &due {
        if !store::mark_paid(&mut tx, proof.tenant(), payment, now).await? {
            return Err(AppError::Conflict { code: "invoicing.payments_taken" });
        }
        let details = json!({ "paid_on": payment.paid_on, "cents": payment.cents });
        record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.invoice.paid", &invoice.subject(), details)
            .await?;
    }
    let known = payments.len() - due.len();
    let details = json!({ "paid": due.len(), "known": known, "lines": payments.len() });
    let subject = format!("tenant:{}", proof.tenant());
    record(&mut tx, now, proof.tenant(), proof.actor(), "invoicing.payments.imported", &subject, details).await?;
    tx.commit().await?;
    Ok(Ok(PaymentImport { paid: due.len(), known }))
}

/// A booking export's file again, hash-verified.
pub async fn export_file(k: &Kernel, proof: &Authorized<ExportBookings>, id: i64) -> Result<Bytes, AppError> {
    let hash = store::export_blob(&k.db, proof.tenant(), id).await?.ok_or(AppError::NotFound)?;
    let hash = BlobHash::parse(&hash).ok_or(AppError::internal("stored hash malformed"))?;
    k.blobs.get(&hash).await.map_err(AppError::internal)
}

/// The tenant's booking exports: (id, invoices, created).
pub async fn exports(k: &Kernel, proof: &Authorized<ExportBookings>) -> Result<Vec<(i64, i64, Timestamp)>, AppError> {
    Ok(store::exports(&k.db, proof.tenant()).await?)
}

// ---- reminders ----

/// Days before a Skonto deadline, and before a due date, that the unit is reminded.
pub const SKONTO_WARNING_DAYS: i64 = 3;
pub const DUE_WARNING_DAYS: i64 = 5;

/// Reminds the receiving unit (by mail to its address, and in the audit log) of open invoices
/// whose Skonto deadline or due date comes close. Each invoice is reminded once per kind, so
/// the job may run on every node as often as it likes. Returns the reminders sent.
pub async fn send_reminders(k: &Kernel) -> Result<usize, AppError> {
    let now = k.clock.now();
    let today = now.german_date();
    let iso = |days: i64| {
        let d = today.checked_add(time::Duration::days(days)).unwrap_or(today);
        model::iso_date(d)
    };
    let mut sent = 0;
    for (kind, days) in [("skonto", SKONTO_WARNING_DAYS), ("due", DUE_WARNING_DAYS)] {
        for invoice in store::due_for_reminder(&k.db, kind, &iso(days)).await? {
            let unit =
                identity::service::org_units(k, invoice.tenant).await?.into_iter().find(|u| u.id == invoice.org_unit);
            let mut tx = k.db.begin().await?;
            if !store::insert_reminder(&mut tx, invoice.id, kind, now).await? {
                continue;
            }
            let (what, date) = match kind {
                "skonto" => ("Skontofrist", invoice.skonto_until.clone().unwrap_or_default()),
                _ => ("Zahlungsfrist", invoice.due_date.clone().unwrap_or_default()),
            };
            if let Some(to) = unit.as_ref().map(|u| u.email.clone()).filter(|e| !e.is_empty()) {
                let mail = Mail {
                    to,
                    subject: format!(
                        "Rechnung {}: {what} endet am {}",
                        invoice.invoice_number,
                        model::german_date(&date)
                    ),
                    body: format!(
                        "Die Rechnung {} von {} über {} ist noch nicht angeordnet. Die {what} endet am {}.\n\n\
                         Bitte bearbeiten Sie die Rechnung im Rechnungseingang.\n",
                        invoice.invoice_number,
                        invoice.seller_name,
                        invoice.total(),
                        model::german_date(&date)
                    ),
                };
                mail::enqueue(
                    &mut tx,
                    now,
                    Some(invoice.tenant),
                    &mail,
                    Some(format!("invoice-reminder:{}:{kind}", invoice.id)),
                )
                .await?;
            }
            let details = json!({ "kind": kind, "date": date });
            record(
                &mut tx,
                now,
                invoice.tenant,
                &Actor::system(),
                "invoicing.invoice.reminded",
                &invoice.subject(),
                details,
            )
            .await?;
            tx.commit().await?;
            sent += 1;
        }
    }
    Ok(sent)
}

// ---- drop folder ----

/// What one scan of the drop folder did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FolderReport {
    pub received: usize,
    pub refused: usize,
    /// Files whose bytes had been received before (moved away, nothing stored).
    pub known: usize,
}

/// Sub-folders of the drop folder: processed files and refused ones (with a `.grund.txt`).
pub const FOLDER_DONE: &str = "erledigt";
pub const FOLDER_REFUSED: &str = "abgewiesen";

fn io(e: std::io::Error) -> AppError {
    AppError::internal(format!("drop folder: {e}"))
}

/// Moves a processed file into `sub`, never overwriting: a name taken gets a numbered suffix.
async fn move_into(dir: &std::path::Path, sub: &str, name: &str) -> Result<std::path::PathBuf, AppError> {
    let target_dir = dir.join(sub);
    tokio::fs::create_dir_all(&target_dir).await.map_err(io)?;
    let mut target = target_dir.join(name);
    let mut n = 1;
    while tokio::fs::try_exists(&target).await.map_err(io)? {
        target = target_dir.join(format!("{n}-{name}"));
        n += 1;
    }
    tokio::fs::rename(dir.join(name), &target).await.map_err(io)?;
    Ok(target)
}

/// Takes in every file of the drop folder (not its sub-folders or hidden files): received
/// ones move to `erledigt/`, refused or rejected ones to `abgewiesen/` with the reasons
/// beside them. Idempotent by hash: bytes received before are moved away, not stored twice.
pub async fn scan_folder(k: &Kernel, dir: &std::path::Path) -> Result<FolderReport, AppError> {
    let mut report = FolderReport::default();
    let mut entries = tokio::fs::read_dir(dir).await.map_err(io)?;
    let mut names = Vec::new();
    while let Some(e) = entries.next_entry().await.map_err(io)? {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().await.map_err(io)?.is_file() && !name.starts_with('.') {
            names.push((name, e.metadata().await.map_err(io)?.len()));
        }
    }
    names.sort();
    for (name, size) in names {
        let bytes = if size as usize > MAX_INVOICE_BYTES {
            // Not read at all: the reader would refuse it by size.
            Bytes::from(vec![0u8; 0])
        } else {
            Bytes::from(tokio::fs::read(dir.join(&name)).await.map_err(io)?)
        };
        if size as usize <= MAX_INVOICE_BYTES && store::hash_known(&k.db, BlobHash::of(&bytes).as_str()).await? {
            move_into(dir, FOLDER_DONE, &name).await?;
            report.known += 1;
            continue;
        }
        let outcome = if size as usize > MAX_INVOICE_BYTES {
            Err(Refusal::Unreadable(ReadError::TooLarge { size: size as usize, limit: MAX_INVOICE_BYTES }))
        } else {
            let sender = "folder".to_owned();
            let actor = Actor { id: "system".into(), name: format!("Ablageordner ({name})"), on_behalf_of: None };
            intake(k, Submission { bytes, channel: Channel::Folder, sender, actor }).await
        };
        let reasons = match outcome {
            Ok(i) if i.invoice.status != Status::Rejected => {
                move_into(dir, FOLDER_DONE, &name).await?;
                report.received += 1;
                continue;
            }
            Ok(i) => i.invoice.errors().into_iter().map(finding_german).collect::<Vec<_>>(),
            Err(Refusal::Internal(e)) => return Err(e),
            Err(r) => vec![r.reason()],
        };
        let moved = move_into(dir, FOLDER_REFUSED, &name).await?;
        let mut note = moved.into_os_string();
        note.push(".grund.txt");
        tokio::fs::write(&note, format!("{}\n", reasons.join("\n"))).await.map_err(io)?;
        report.refused += 1;
    }
    Ok(report)
}

// ---- invoice mailbox ----

/// What one scan of the invoice mailbox did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MailboxReport {
    /// Messages handled (moved out of the watched folder).
    pub messages: usize,
    /// Invoices taken in (stored as received or duplicate).
    pub received: usize,
    /// Invoices refused or rejected, and messages without any invoice.
    pub refused: usize,
    /// Invoices whose bytes had been received before.
    pub known: usize,
}

/// Messages handled per scan, so one scan stays short; the next scan takes the rest.
pub const MAILBOX_BATCH: usize = 50;
/// Largest message fetched: an invoice of [`MAX_INVOICE_BYTES`] (20 MiB) is 28 MB in base64,
/// and the message has some text besides.
pub const MAX_MESSAGE_BYTES: u64 = 32_000_000;
const _: () = assert!(MAX_MESSAGE_BYTES > (MAX_INVOICE_BYTES as u64).div_ceil(3) * 4 + 1_000_000);

/// Takes in the invoices of the messages in the invoice mailbox: every XML and PDF file
/// attached (also in forwarded messages) goes through [`intake`] with the sender's address;
/// the message then moves to `Erledigt`, or to `Abgewiesen` when a file was refused or
/// rejected or none was attached, and the sender gets one answer with every reason (a machine
/// never does). A scan broken off takes the message again: intake is idempotent by hash and
/// the answer by the message's hash.
pub async fn scan_mailbox(k: &Kernel, cfg: &MailboxConfig) -> Result<MailboxReport, AppError> {
    let mailbox_error = |e: crate::mailbox::MailboxError| AppError::internal(e.to_string());
    let mut mailbox = Mailbox::open(cfg).await.map_err(mailbox_error)?;
    let mut report = MailboxReport::default();
    for uid in mailbox.waiting(MAILBOX_BATCH).await.map_err(mailbox_error)? {
        let refused = match mailbox.fetch(uid, MAX_MESSAGE_BYTES).await.map_err(mailbox_error)? {
            Fetched::Message(raw) => take_in_letter(k, &raw, &mut report).await?,
            Fetched::TooLarge { size, header } => {
                report.refused += 1;
                refuse_too_large(k, size, &header).await?;
                true
            }
            Fetched::Gone => continue,
        };
        let folder = if refused { &cfg.refused_folder } else { &cfg.done_folder };
        mailbox.file(uid, folder).await.map_err(mailbox_error)?;
        report.messages += 1;
    }
    mailbox.logout().await.map_err(mailbox_error)?;
    Ok(report)
}

/// Checks the invoice mailbox as the job will use it (connect, secure, log in, select the
/// folder): the number of messages waiting. For `kreishaus invoice mailbox`.
pub async fn check_mailbox(cfg: &MailboxConfig) -> Result<usize, crate::mailbox::MailboxError> {
    let mut mailbox = Mailbox::open(cfg).await?;
    let waiting = mailbox.waiting(usize::MAX).await?.len();
    mailbox.logout().await?;
    Ok(waiting)
}

/// Answers the sender of a message too large to be fetched, from its header.
async fn refuse_too_large(k: &Kernel, size: u64, header: &[u8]) -> Result<(), AppError> {
    let Some(letter) = Letter::parse(header) else { return Ok(()) };
    let reason = format!(
        "Ihre E-Mail ist {} MB groß; angenommen werden E-Mails bis {} MB. Bitte senden Sie jede Rechnung in \
         einer eigenen E-Mail und ohne weitere Anlagen.",
        size.div_ceil(1_000_000),
        MAX_MESSAGE_BYTES / 1_000_000
    );
    answer(k, &letter, header, None, refusal_mail(&letter.subject, &[(String::new(), vec![reason])])).await
}

/// Takes in the files of one message and answers the sender if anything was refused.
/// Returns whether something was.
async fn take_in_letter(k: &Kernel, raw: &[u8], report: &mut MailboxReport) -> Result<bool, AppError> {
    let Some(mut letter) = Letter::parse(raw) else {
        report.refused += 1;
        return Ok(true);
    };
    let files = std::mem::take(&mut letter.files);
    let actor = Actor { id: "system".into(), name: format!("E-Mail-Eingang ({})", letter.from), on_behalf_of: None };
    let mut reasons = Vec::new();
    let mut tenant = None;
    let attached = !files.is_empty();
    for file in files {
        let submission = Submission {
            bytes: Bytes::from(file.bytes),
            channel: Channel::Mail,
            sender: format!("mail:{}", letter.reply_to.as_deref().unwrap_or(&letter.from)),
            actor: actor.clone(),
        };
        let why = match intake(k, submission).await {
            Ok(i) => {
                tenant = Some(i.invoice.tenant);
                match i.invoice.status {
                    Status::Rejected => i.invoice.errors().into_iter().map(finding_german).collect(),
                    _ if i.repeated => {
                        report.known += 1;
                        continue;
                    }
                    _ => {
                        report.received += 1;
                        continue;
                    }
                }
            }
            Err(Refusal::Internal(e)) => return Err(e),
            Err(r) => vec![r.reason()],
        };
        report.refused += 1;
        reasons.push((file.name, why));
    }
    if !attached {
        report.refused += 1;
        reasons.push((String::new(), vec![NO_INVOICE_ATTACHED.to_owned()]));
    }
    if !reasons.is_empty() {
        answer(k, &letter, raw, tenant, refusal_mail(&letter.subject, &reasons)).await?;
    }
    Ok(!reasons.is_empty())
}

/// Puts the answer to a message into the outbox, once per message (keyed by its bytes), to
/// Reply-To or From, never to a machine.
async fn answer(k: &Kernel, letter: &Letter, raw: &[u8], tenant: Option<TenantId>, mail: Mail) -> Result<(), AppError> {
    let Some(to) = letter.reply_to.clone().filter(|_| !letter.automatic) else { return Ok(()) };
    let mut tx = k.db.begin().await?;
    let key = format!("invoice-mail-answer:{}", BlobHash::of(raw).as_str());
    mail::enqueue(&mut tx, k.clock.now(), tenant, &Mail { to, ..mail }, Some(key)).await?;
    tx.commit().await?;
    Ok(())
}

/// The reason given for a message without an invoice file.
const NO_INVOICE_ATTACHED: &str = "Ihre E-Mail enthält keine Rechnung als Anhang. Bitte senden Sie die Rechnung \
    als XRechnung (XML-Datei) oder als ZUGFeRD-PDF im Anhang. Eine eingescannte oder ausgedruckte Rechnung können \
    wir nicht annehmen.";

/// The answer to a message whose invoices could not all be taken in: the reasons per file
/// (under an empty name: about the whole message) and what to do next. [`answer`] addresses it.
fn refusal_mail(subject: &str, reasons: &[(String, Vec<String>)]) -> Mail {
    let mut body = String::from("Guten Tag,\n\nwir konnten Ihre Rechnung nicht annehmen.\n");
    for (name, why) in reasons {
        body.push_str(&if name.is_empty() { "\n".to_owned() } else { format!("\nDatei „{name}“:\n") });
        why.iter().for_each(|reason| body.push_str(&format!("- {reason}\n")));
    }
    if reasons.iter().any(|(name, _)| !name.is_empty()) {
        body.push_str(
            "\nBitte berichtigen Sie die Rechnung und senden Sie sie erneut. Andere Rechnungen aus Ihrer E-Mail, \
             die hier nicht genannt sind, haben wir angenommen.\n",
        );
    }
    body.push_str("\nDiese Nachricht wurde automatisch erstellt.\n");
    let subject = if subject.is_empty() { String::new() } else { format!(": {subject}") };
    Mail { to: String::new(), subject: format!("Rechnung nicht angenommen{subject}"), body }
}

// ---- Leitweg-IDs ----

/// Every tenant's Leitweg-IDs for invoice senders (public, as on the letterheads).
pub async fn published_routes(k: &Kernel) -> Result<Vec<PublishedRoute>, AppError> {
    Ok(store::published_routes(&k.db).await?)
}

/// What a sender's Leitweg-ID leads to among the published ones: the route of the unit that
/// receives invoices sent with it, or why an invoice with it would be refused (the reason
/// intake would give).
pub fn check_leitweg_id<'r>(given: &str, published: &'r [PublishedRoute]) -> Result<&'r PublishedRoute, String> {
    let id = LeitwegId::parse(given)
        .map_err(|error| Refusal::LeitwegInvalid { given: given.trim().to_owned(), error }.reason())?;
    published
        .iter()
        .find(|r| r.leitweg_id == id.as_str())
        .ok_or_else(|| Refusal::UnknownLeitwegId(id.as_str().to_owned()).reason())
}

pub async fn routes(k: &Kernel, proof: &Authorized<ManageLeitwegIds>) -> Result<Vec<Route>, AppError> {
    Ok(store::routes_of(&k.db, proof.tenant()).await?)
}

/// Adds a Leitweg-ID of the tenant, routed to one of its org units.
pub async fn add_route(
    k: &Kernel,
    proof: &Authorized<ManageLeitwegIds>,
    leitweg_id: &str,
    unit: OrgUnitId,
    description: &str,
) -> Result<i64, AppError> {
    let id = LeitwegId::parse(leitweg_id).map_err(|e| match e {
        LeitwegError::Format => AppError::invalid("invoicing.leitweg_format", "leitweg_id"),
        LeitwegError::CheckDigits { .. } => AppError::invalid("invoicing.leitweg_check_digits", "leitweg_id"),
    })?;
    if !identity::service::org_units(k, proof.tenant()).await?.iter().any(|u| u.id == unit) {
        return Err(AppError::invalid("invoicing.org_unit_unknown", "org_unit"));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let route = store::insert_route(&mut tx, proof.tenant(), id.as_str(), unit, description.trim(), now)
        .await
        .map_err(|e| {
            if e.is_unique_violation() { AppError::invalid("invoicing.leitweg_taken", "leitweg_id") } else { e.into() }
        })?;
    let details = json!({ "leitweg_id": id.as_str(), "org_unit": unit });
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "invoicing.leitweg_id.added",
        &format!("leitweg-id:{route}"),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(route)
}

pub async fn remove_route(k: &Kernel, proof: &Authorized<ManageLeitwegIds>, id: i64) -> Result<(), AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let removed = store::delete_route(&mut tx, proof.tenant(), id).await?.ok_or(AppError::NotFound)?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "invoicing.leitweg_id.removed",
        &format!("leitweg-id:{id}"),
        json!({ "leitweg_id": removed }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Demo and set-up: routes a Leitweg-ID without a member of staff (idempotent).
pub async fn setup_route(
    k: &Kernel,
    tenant: TenantId,
    leitweg_id: &str,
    unit: OrgUnitId,
    description: &str,
) -> Result<(), AppError> {
    let id = LeitwegId::parse(leitweg_id).map_err(|_| AppError::invalid("invoicing.leitweg_format", "leitweg_id"))?;
    if store::route(&k.db, id.as_str()).await?.is_some() {
        return Ok(());
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::insert_route(&mut tx, tenant, id.as_str(), unit, description, now).await?;
    record(
        &mut tx,
        now,
        tenant,
        &Actor::system(),
        "invoicing.leitweg_id.added",
        &format!("leitweg-id:{}", id.as_str()),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The org unit that received an invoice of the tenant (to ask for a proof in that unit).
pub async fn unit_of(k: &Kernel, tenant: TenantId, id: i64) -> Result<OrgUnitId, AppError> {
    Ok(store::invoice(&k.db, tenant, id).await?.ok_or(AppError::NotFound)?.org_unit)
}
