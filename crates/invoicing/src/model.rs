//! Pure types and rules of the invoice workflow: the Leitweg-ID with its check digits, Skonto
//! terms from BT-20, amounts in cents, the duplicate key, the approval steps with separation of
//! duties, and the account assignment. No I/O.

use einvoice::decimal::Decimal;
use kernel::{OrgUnitId, StaffId, TenantId, Timestamp};
use serde::Serialize;

// ---- Leitweg-ID ----

/// A Leitweg-ID (BT-10 in XRechnung): coarse address (2–12 digits), optional fine address (up
/// to 30 letters or digits) and two check digits, joined by hyphens. Stored in upper case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeitwegId(String);

/// Why a text is not a Leitweg-ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeitwegError {
    /// The parts do not have the form `Grobadressierung-Feinadressierung-Prüfziffer`.
    Format,
    /// The check digits do not match; `expected` are the right ones.
    CheckDigits { expected: String },
}

/// The numeric string of a Leitweg-ID for ISO 7064 MOD 97-10: letters become 10 … 35.
fn numeric(parts: &str) -> String {
    parts
        .chars()
        .map(|c| match c.to_digit(36) {
            Some(v) if v >= 10 => v.to_string(),
            _ => c.to_string(),
        })
        .collect()
}

/// The remainder of a long decimal string divided by 97, digit by digit (no overflow).
fn mod97(digits: &str) -> u32 {
    digits.bytes().filter(u8::is_ascii_digit).fold(0, |r, b| (r * 10 + u32::from(b - b'0')) % 97)
}

/// The check digits for a Leitweg-ID without them (`04011000-1234512345` → `06`), by the
/// KoSIT format specification: coarse and fine address without hyphens, letters as numbers,
/// `00` appended, 98 minus the remainder modulo 97.
pub fn leitweg_check_digits(without_check: &str) -> String {
    let body: String = without_check.chars().filter(|c| *c != '-').collect::<String>().to_uppercase();
    format!("{:02}", 98 - mod97(&format!("{}00", numeric(&body))))
}

impl LeitwegId {
    /// Parses and checks a Leitweg-ID; surrounding white space is ignored, letters may be lower case.
    pub fn parse(text: &str) -> Result<LeitwegId, LeitwegError> {
        let text = text.trim().to_uppercase();
        let parts: Vec<&str> = text.split('-').collect();
        let (coarse, fine, check) = match parts[..] {
            [coarse, check] => (coarse, "", check),
            [coarse, fine, check] if !fine.is_empty() => (coarse, fine, check),
            _ => return Err(LeitwegError::Format),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !(2..=12).contains(&coarse.len())
            || !digits(coarse)
            || fine.len() > 30
            || !fine.bytes().all(|b| b.is_ascii_alphanumeric())
            || check.len() != 2
            || !digits(check)
        {
            return Err(LeitwegError::Format);
        }
        let expected = leitweg_check_digits(&format!("{coarse}{fine}"));
        if expected != check {
            return Err(LeitwegError::CheckDigits { expected });
        }
        Ok(LeitwegId(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// ---- amounts and dates ----

/// An exact amount in cents; `None` when it has more than two decimals or is too large.
pub fn cents(amount: Decimal) -> Option<i64> {
    let scaled = amount.checked_mul(Decimal::from_int(100))?;
    if scaled.scale() != 0 {
        return None;
    }
    scaled.to_string().parse().ok()
}

/// Reads a typed amount in German or English notation (`1.234,56`, `1234.56`, `12`) as cents.
pub fn parse_cents(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('€').trim();
    let normalised = if t.contains(',') { t.replace('.', "").replace(',', ".") } else { t.to_owned() };
    cents(Decimal::parse(&normalised, false)?)
}

/// `1.234,56 EUR` (German grouping, the invoice currency after the amount).
pub fn format_amount(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let grouped = group_thousands(&(abs / 100).to_string());
    format!("{sign}{grouped},{:02} {currency}", abs % 100).trim_end().to_owned()
}

/// Digits grouped by thousands the German way: `1234567` → `1.234.567`.
pub fn group_thousands(digits: &str) -> String {
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    grouped
}

/// An ISO date (`2026-12-06`) as `06.12.2026`; anything else as it is.
pub fn german_date(iso: &str) -> String {
    match parse_date(iso) {
        Some(d) => format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year()),
        None => iso.to_owned(),
    }
}

/// A date as ISO text (`2026-12-06`), as the invoices store dates.
pub fn iso_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn parse_date(iso: &str) -> Option<time::Date> {
    time::Date::parse(iso.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// `iso + days`, as ISO.
pub fn add_days(iso: &str, days: i64) -> Option<String> {
    let d = parse_date(iso)?.checked_add(time::Duration::days(days))?;
    Some(iso_date(d))
}

// ---- payment file ----

/// The columns a payment file must have (header names, any order, any case; other columns are
/// ignored): the invoice as numbered in the booking export, the payment date, the amount paid.
pub const PAYMENT_COLUMNS: [&str; 3] = ["Rechnung", "Bezahlt_am", "Betrag"];

/// Most lines a payment file may have.
pub const MAX_PAYMENT_LINES: usize = 50_000;

/// One payment the finance system reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The line of the file it stands on (1 is the header).
    pub line: u64,
    pub invoice: i64,
    /// ISO date.
    pub paid_on: String,
    pub cents: i64,
}

/// What is wrong with a line of a payment file (line 0: the whole file), as a message code.
pub type PaymentProblem = (u64, &'static str);

/// Reads a payment file: CSV (RFC 4180) separated by `;` (or `,` when the header has no `;`),
/// UTF-8 or Windows-1252, with a header naming [`PAYMENT_COLUMNS`]. Dates as `2026-03-12` or
/// `12.03.2026`, amounts as `1.234,56` or `1234.56`. Returns the readable payments and every
/// problem (not only the first, so that the file can be mended in one go).
pub fn read_payments(bytes: &[u8]) -> (Vec<Payment>, Vec<PaymentProblem>) {
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b';') { b';' } else { b',' };
    let encoding = kernel::csv::detect_encoding(bytes);
    let records = kernel::csv::parse_all(bytes, delimiter);
    let text = |r: &kernel::csv::RawRecord, i: usize| -> String {
        encoding.decode(r.field(i)).map(|t| t.trim().to_owned()).unwrap_or_default()
    };
    let Some(header) = records.first() else { return (Vec::new(), vec![(0, "invoicing.payments_empty")]) };
    let names: Vec<String> = (0..header.len()).map(|i| text(header, i).to_lowercase()).collect();
    let Some(columns) = PAYMENT_COLUMNS
        .iter()
        .map(|c| names.iter().position(|n| n.replace(' ', "_") == c.to_lowercase()))
        .collect::<Option<Vec<usize>>>()
    else {
        return (Vec::new(), vec![(header.line, "invoicing.payments_header")]);
    };
    if records.len() > MAX_PAYMENT_LINES + 1 {
        return (Vec::new(), vec![(0, "invoicing.payments_too_many")]);
    }
    let mut payments = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &records[1..] {
        if let Some(code) = r.error {
            problems.push((r.line, code));
            continue;
        }
        let [invoice, date, amount] = [0, 1, 2].map(|k| text(r, columns[k]));
        let invoice = invoice.parse::<i64>().ok().filter(|id| *id > 0);
        let paid_on = parse_payment_date(&date);
        let cents = parse_cents(&amount).filter(|c| *c > 0);
        match (invoice, paid_on, cents) {
            (Some(invoice), Some(paid_on), Some(cents)) => {
                if seen.insert(invoice) {
                    payments.push(Payment { line: r.line, invoice, paid_on, cents });
                } else {
                    problems.push((r.line, "invoicing.payment_twice"));
                }
            }
            (None, _, _) => problems.push((r.line, "invoicing.payment_invoice_invalid")),
            (_, None, _) => problems.push((r.line, "invoicing.payment_date_invalid")),
            (_, _, None) => problems.push((r.line, "invoicing.payment_amount_invalid")),
        }
    }
    if payments.is_empty() && problems.is_empty() {
        problems.push((0, "invoicing.payments_empty"));
    }
    (payments, problems)
}

/// `2026-03-12` or `12.03.2026` as ISO.
fn parse_payment_date(text: &str) -> Option<String> {
    let date = parse_date(text)
        .or_else(|| time::Date::parse(text.trim(), time::macros::format_description!("[day].[month].[year]")).ok())?;
    Some(iso_date(date))
}

// ---- Skonto (BT-20) ----

/// One cash discount term from BT-20 in the XRechnung convention
/// `#SKONTO#TAGE=14#PROZENT=2.00#` (optionally `#BASISBETRAG=123.45#`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Skonto {
    /// Days after the issue date (BT-2) within which the discount applies.
    pub days: i64,
    /// The rate in hundredths of a percent (`2.00` → 200).
    pub percent_bp: i64,
    /// The amount the rate applies to, when not the amount due (BT-115).
    pub base_cents: Option<i64>,
}

impl Skonto {
    /// The discount in cents on `due_cents` (or on the stated base), rounded half up.
    pub fn discount_cents(&self, due_cents: i64) -> i64 {
        let base = i128::from(self.base_cents.unwrap_or(due_cents));
        let raw = base * i128::from(self.percent_bp);
        i64::try_from((raw + raw.signum() * 5_000) / 10_000).unwrap_or(0)
    }
}

/// The Skonto terms of BT-20, one per line that follows the convention exactly; other lines
/// are free text and ignored here.
pub fn parse_skonto(terms: &str) -> Vec<Skonto> {
    terms.lines().filter_map(|line| skonto_line(line.trim())).collect()
}

fn two_decimals(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.')?;
    let (neg, int) = match int.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, int),
    };
    if int.is_empty() || frac.len() != 2 || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = int.parse::<i64>().ok()?.checked_mul(100)?.checked_add(frac.parse::<i64>().ok()?)?;
    Some(if neg { -v } else { v })
}

fn skonto_line(line: &str) -> Option<Skonto> {
    let inner = line.strip_prefix("#SKONTO#")?.strip_suffix('#')?;
    let mut segments = inner.split('#');
    let days = segments.next()?.strip_prefix("TAGE=")?;
    if days.is_empty() || !days.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let percent = segments.next()?.strip_prefix("PROZENT=")?;
    if percent.starts_with('-') {
        return None;
    }
    let base = match segments.next() {
        Some(b) => Some(two_decimals(b.strip_prefix("BASISBETRAG=")?)?),
        None => None,
    };
    if segments.next().is_some() {
        return None;
    }
    Some(Skonto { days: days.parse().ok()?, percent_bp: two_decimals(percent)?, base_cents: base })
}

/// The payment dates an invoice sets: the cash discount to take (the first Skonto line with a
/// rate above 0 %) and until when, and the due date — BT-9, else the issue date plus the days
/// of the line with 0 % (XRechnung writes "net within N days" so), else none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentDates {
    pub skonto: Option<Skonto>,
    pub skonto_until: Option<String>,
    pub due_date: Option<String>,
}

pub fn payment_dates(issue_date: &str, due_date: Option<&str>, terms: &str) -> PaymentDates {
    let lines = parse_skonto(terms);
    let skonto = lines.iter().find(|s| s.percent_bp > 0).cloned();
    let skonto_until = skonto.as_ref().and_then(|s| add_days(issue_date, s.days));
    let net = lines.iter().find(|s| s.percent_bp == 0).and_then(|s| add_days(issue_date, s.days));
    PaymentDates { skonto, skonto_until, due_date: due_date.map(str::to_owned).or(net) }
}

// ---- sellers and duplicates ----

/// Who the seller is for duplicate detection: the VAT identifier when there is one, else the
/// name with case and white space normalised.
pub fn seller_key(vat_id: Option<&str>, name: Option<&str>) -> String {
    match vat_id.map(kernel::formats::compact) {
        Some(v) if !v.is_empty() => format!("vat:{v}"),
        _ => {
            format!("name:{}", name.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
        }
    }
}

// ---- status and approval ----

/// Where an invoice stands in the workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Received and valid; waiting for "sachlich richtig".
    Received,
    /// Validation rejected it; nothing more happens.
    Rejected,
    /// The same seller, number, amount and date came before; waits for a decision.
    Duplicate,
    /// Factually correct (sachlich richtig).
    FactuallyCorrect,
    /// Arithmetically correct (rechnerisch richtig).
    ArithmeticallyCorrect,
    /// Payment ordered (angeordnet): ready for the booking export.
    Ordered,
    /// Handed to the finance system in a booking export.
    Exported,
    /// Paid, as the finance system's payment file says (date and amount kept).
    Paid,
    /// Set aside by staff with a reason (not to be paid).
    Dismissed,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Received,
        Status::Duplicate,
        Status::FactuallyCorrect,
        Status::ArithmeticallyCorrect,
        Status::Ordered,
        Status::Exported,
        Status::Paid,
        Status::Rejected,
        Status::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
            Status::FactuallyCorrect => "factually_correct",
            Status::ArithmeticallyCorrect => "arithmetically_correct",
            Status::Ordered => "ordered",
            Status::Exported => "exported",
            Status::Paid => "paid",
            Status::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Status::Received => "invoicing.status.received",
            Status::Rejected => "invoicing.status.rejected",
            Status::Duplicate => "invoicing.status.duplicate",
            Status::FactuallyCorrect => "invoicing.status.factually_correct",
            Status::ArithmeticallyCorrect => "invoicing.status.arithmetically_correct",
            Status::Ordered => "invoicing.status.ordered",
            Status::Exported => "invoicing.status.exported",
            Status::Paid => "invoicing.status.paid",
            Status::Dismissed => "invoicing.status.dismissed",
        }
    }

    /// Still open in the workflow: shown in the inbox, subject to reminders.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Received | Status::Duplicate | Status::FactuallyCorrect | Status::ArithmeticallyCorrect)
    }

    /// May a member of staff set it aside?
    pub fn may_dismiss(self) -> bool {
        self.is_open() || self == Status::Ordered
    }

    /// The states in which the account assignment may change: before the payment order.
    pub const ASSIGNABLE: [Status; 3] = [Status::Received, Status::FactuallyCorrect, Status::ArithmeticallyCorrect];

    pub fn may_assign(self) -> bool {
        Status::ASSIGNABLE.contains(&self)
    }

    /// May the invoice be handed on to another org unit? Only before the first sign-off: the
    /// unit that signs "sachlich richtig" answers for the whole workflow.
    pub fn may_forward(self) -> bool {
        matches!(self, Status::Received | Status::Duplicate)
    }
}

/// Which invoices of the inbox are shown, in which order, which page (the Rechnungseingangsbuch
/// of a unit holds some 30,000 invoices a year, Viersen measure 33).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxQuery {
    /// One unit's invoices, for staff who see every unit of the tenant (others see their own).
    pub unit: Option<OrgUnitId>,
    pub status: StatusFilter,
    /// Part of the seller's name, the invoice number or the Leitweg-ID, in any case
    /// ([`search_text`]).
    pub text: String,
    pub order: InboxOrder,
    /// Invoices skipped (the pages before) and shown at most.
    pub offset: i64,
    pub limit: i64,
}

impl Default for InboxQuery {
    fn default() -> Self {
        InboxQuery {
            unit: None,
            status: StatusFilter::All,
            text: String::new(),
            order: InboxOrder::Newest,
            offset: 0,
            limit: 50,
        }
    }
}

/// What the inbox's search looks in: seller, invoice number and Leitweg-ID, lower case (Unicode,
/// so `Ökobau` is found as `ökobau` on either engine).
pub fn search_text(seller: &str, number: &str, leitweg_id: &str) -> String {
    format!("{seller} {number} {leitweg_id}").to_lowercase()
}

/// The inbox's status filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    /// Still to be signed ([`Status::is_open`]): the unit's work list.
    Open,
    Only(Status),
}

impl StatusFilter {
    /// From the query parameter: `offen`, a status name, or anything else for all.
    pub fn parse(s: &str) -> StatusFilter {
        match s {
            "offen" => StatusFilter::Open,
            other => Status::parse(other).map_or(StatusFilter::All, StatusFilter::Only),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::All => "",
            StatusFilter::Open => "offen",
            StatusFilter::Only(status) => status.as_str(),
        }
    }
}

/// The inbox's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxOrder {
    /// Latest received first.
    Newest,
    /// The nearest deadline first (the Skonto deadline, else the due date; none last): what
    /// must be paid soonest to keep the discount or avoid arrears.
    Deadline,
}

impl InboxOrder {
    pub fn parse(s: &str) -> InboxOrder {
        if s == "frist" { InboxOrder::Deadline } else { InboxOrder::Newest }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InboxOrder::Newest => "eingang",
            InboxOrder::Deadline => "frist",
        }
    }
}

/// The three sign-offs of the invoice workflow, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Sachlich richtig: the goods or services were delivered as invoiced.
    Factual,
    /// Rechnerisch richtig: prices, quantities and sums are right.
    Arithmetical,
    /// Anordnung: the payment order, after the account assignment.
    PaymentOrder,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Factual, Step::Arithmetical, Step::PaymentOrder];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Factual => "factual",
            Step::Arithmetical => "arithmetical",
            Step::PaymentOrder => "payment_order",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Step::Factual => "invoicing.step.factual",
            Step::Arithmetical => "invoicing.step.arithmetical",
            Step::PaymentOrder => "invoicing.step.payment_order",
        }
    }

    /// The status an invoice must have for this step, and the one it gets.
    pub fn transition(self) -> (Status, Status) {
        match self {
            Step::Factual => (Status::Received, Status::FactuallyCorrect),
            Step::Arithmetical => (Status::FactuallyCorrect, Status::ArithmeticallyCorrect),
            Step::PaymentOrder => (Status::ArithmeticallyCorrect, Status::Ordered),
        }
    }
}

/// One sign-off as stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub step: Step,
    #[schema(value_type = i64)]
    pub staff: StaffId,
    pub staff_name: String,
    pub note: String,
    #[schema(value_type = String)]
    pub at: Timestamp,
}

/// One hand-over of an invoice from one org unit to another, as stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Forward {
    #[schema(value_type = i64)]
    pub from_unit: OrgUnitId,
    /// The unit's name when it was read (units may be renamed later).
    pub from_name: String,
    #[schema(value_type = i64)]
    pub to_unit: OrgUnitId,
    pub to_name: String,
    pub staff_name: String,
    pub note: String,
    #[schema(value_type = String)]
    pub at: Timestamp,
}

/// Why a sign-off is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepRefusal {
    /// The invoice is not at this step (done, not yet, or out of the workflow).
    WrongState,
    /// This person already signed another step (Vier-/Sechs-Augen-Prinzip).
    SamePerson,
    /// The payment order needs a complete account assignment first.
    AssignmentIncomplete,
}

impl StepRefusal {
    pub fn code(self) -> &'static str {
        match self {
            StepRefusal::WrongState => "invoicing.step_wrong_state",
            StepRefusal::SamePerson => "invoicing.same_person",
            StepRefusal::AssignmentIncomplete => "invoicing.assignment_incomplete",
        }
    }
}

/// Separation of duties: `step` may be signed by `staff` when the invoice is at that step, no
/// other step was signed by the same person, and, for the payment order, the assignment adds up.
pub fn check_step(
    status: Status,
    done: &[Approval],
    step: Step,
    staff: StaffId,
    assignment_complete: bool,
) -> Result<(), StepRefusal> {
    if status != step.transition().0 {
        return Err(StepRefusal::WrongState);
    }
    if done.iter().any(|a| a.staff == staff) {
        return Err(StepRefusal::SamePerson);
    }
    if step == Step::PaymentOrder && !assignment_complete {
        return Err(StepRefusal::AssignmentIncomplete);
    }
    Ok(())
}

// ---- account assignment (Kontierung) ----

/// One line of the account assignment: the part of the total booked to one combination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AssignmentLine {
    /// Sachkonto (general ledger account).
    pub account: String,
    /// Kostenstelle (cost centre).
    pub cost_centre: String,
    /// Produkt (budget product of the municipal budget).
    pub product: String,
    pub amount_cents: i64,
}

/// An account assignment proposed for an invoice: the one of the seller's latest assigned
/// invoice in the same org unit, carried over to this total ([`carry_over`]). The clerk checks
/// and saves it; nothing is assigned until then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// The invoice it comes from: number and issue date (ISO).
    pub invoice_number: String,
    pub issue_date: String,
    pub lines: Vec<AssignmentLine>,
}

/// `lines`, assigned to `from_total`, carried over to `total`: each line keeps its account,
/// cost centre, product and share of the total, rounded to the cent; the last line takes what
/// rounding leaves, so the lines add up to `total` exactly. Nothing when `from_total` is 0.
pub fn carry_over(lines: &[AssignmentLine], from_total: i64, total: i64) -> Vec<AssignmentLine> {
    if from_total == 0 || lines.is_empty() {
        return Vec::new();
    }
    // cents × total / from_total, rounded half away from zero.
    let share = |cents: i64| {
        let (n, d) = (i128::from(cents) * i128::from(total), i128::from(from_total));
        let (q, r) = (n / d, n % d);
        let rounded = if 2 * r.abs() >= d.abs() { q + n.signum() * d.signum() } else { q };
        i64::try_from(rounded).unwrap_or(0)
    };
    let mut carried: Vec<AssignmentLine> =
        lines.iter().map(|l| AssignmentLine { amount_cents: share(l.amount_cents), ..l.clone() }).collect();
    let rest = total - carried.iter().map(|l| l.amount_cents).sum::<i64>();
    if let Some(last) = carried.last_mut() {
        last.amount_cents += rest;
    }
    carried
}

/// Checks the lines: each names an account (digits), a product and a non-zero amount, cost
/// centres are letters/digits, and together they add up to `total_cents`. Returns
/// (field, code) problems; the field names the line (`zeile1_konto`).
pub fn check_assignment(lines: &[AssignmentLine], total_cents: i64) -> Vec<(String, &'static str)> {
    let mut problems = Vec::new();
    let ok_code = |s: &str, max: usize| s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
    for (i, l) in lines.iter().enumerate() {
        let n = i + 1;
        if l.account.is_empty() || l.account.len() > 12 || !l.account.bytes().all(|b| b.is_ascii_digit()) {
            problems.push((format!("zeile{n}_konto"), "invoicing.account_invalid"));
        }
        if !ok_code(&l.cost_centre, 20) {
            problems.push((format!("zeile{n}_kostenstelle"), "invoicing.cost_centre_invalid"));
        }
        if l.product.is_empty() || !ok_code(&l.product, 20) {
            problems.push((format!("zeile{n}_produkt"), "invoicing.product_invalid"));
        }
        if l.amount_cents == 0 {
            problems.push((format!("zeile{n}_betrag"), "invoicing.amount_invalid"));
        }
    }
    if lines.is_empty() {
        problems.push(("zeile1_konto".into(), "invoicing.assignment_empty"));
    } else if problems.is_empty() && lines.iter().map(|l| l.amount_cents).sum::<i64>() != total_cents {
        problems.push((String::new(), "invoicing.assignment_sum"));
    }
    problems
}

// ---- the stored invoice ----

/// How an invoice came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Api,
    Folder,
    Portal,
    /// The invoice mailbox (IMAP).
    Mail,
    /// A paper invoice, scanned and typed in by staff ([`check_capture`]).
    Paper,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Folder => "folder",
            Channel::Portal => "portal",
            Channel::Mail => "mail",
            Channel::Paper => "paper",
        }
    }

    /// The message key of its German / English name.
    pub fn label_key(self) -> &'static str {
        match self {
            Channel::Api => "invoicing.channel.api",
            Channel::Folder => "invoicing.channel.folder",
            Channel::Portal => "invoicing.channel.portal",
            Channel::Mail => "invoicing.channel.mail",
            Channel::Paper => "invoicing.channel.paper",
        }
    }

    pub fn parse(s: &str) -> Channel {
        match s {
            "folder" => Channel::Folder,
            "portal" => Channel::Portal,
            "mail" => Channel::Mail,
            "paper" => Channel::Paper,
            _ => Channel::Api,
        }
    }
}

// ---- paper invoices ----

/// What a clerk types off a paper invoice when capturing its scan (Erfassung), as typed.
#[derive(Clone, Debug, Default)]
pub struct CaptureForm {
    pub seller_name: String,
    pub seller_vat_id: String,
    pub invoice_number: String,
    /// `YYYY-MM-DD`, as a date input sends it.
    pub issue_date: String,
    /// The total with VAT, `1.234,56` or `1234.56`.
    pub total: String,
    /// `YYYY-MM-DD` or empty.
    pub due_date: String,
    /// The cash discount: rate in percent (`2` or `2,5`) and days after the issue date, both
    /// or neither.
    pub skonto_percent: String,
    pub skonto_days: String,
    /// The seller's account to pay to (BT-84), as printed: spaces allowed.
    pub seller_iban: String,
}

/// A paper invoice's facts that passed [`check_capture`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub seller_name: String,
    /// Upper case without spaces, or empty.
    pub seller_vat_id: String,
    pub invoice_number: String,
    pub issue_date: String,
    pub total_cents: i64,
    pub due_date: Option<String>,
    pub skonto: Option<Skonto>,
    /// Upper case without spaces, or empty.
    pub seller_iban: String,
}

impl CaptureForm {
    /// The form as posted: `value` gives a field's text by its name.
    pub fn from_fields(value: impl Fn(&str) -> String) -> CaptureForm {
        CaptureForm {
            seller_name: value("lieferant"),
            seller_vat_id: value("ust_id"),
            invoice_number: value("rechnungsnummer"),
            issue_date: value("rechnungsdatum"),
            total: value("betrag"),
            due_date: value("faellig_am"),
            skonto_percent: value("skonto_prozent"),
            skonto_days: value("skonto_tage"),
            seller_iban: value("iban"),
        }
    }
}

/// Checks what was typed off a paper invoice: seller and number present, a real issue date not
/// after `today`, a total above 0, a due date not before the issue date, a VAT identifier of
/// the usual form (country code and 2 to 12 letters or digits) if given, a cash discount of
/// more than 0 and less than 100 % within 1 to 365 days or none, and an IBAN with right check
/// digits if given. Problems as (form field, message key), in form order.
pub fn check_capture(f: &CaptureForm, today: time::Date) -> Result<Captured, Vec<(&'static str, &'static str)>> {
    let mut problems = Vec::new();
    let seller_name = f.seller_name.trim();
    if seller_name.is_empty() || seller_name.chars().count() > 200 {
        problems.push(("lieferant", "invoicing.capture_seller"));
    }
    let seller_vat_id = kernel::formats::compact(&f.seller_vat_id);
    if !seller_vat_id.is_empty() && !is_vat_id(&seller_vat_id) {
        problems.push(("ust_id", "invoicing.capture_vat_id"));
    }
    let invoice_number = f.invoice_number.trim();
    if invoice_number.is_empty() || invoice_number.chars().count() > 100 {
        problems.push(("rechnungsnummer", "invoicing.capture_number"));
    }
    let issue = parse_date(&f.issue_date);
    match issue {
        None => problems.push(("rechnungsdatum", "invoicing.capture_date")),
        Some(d) if d > today => problems.push(("rechnungsdatum", "invoicing.capture_date_future")),
        Some(_) => {}
    }
    let total_cents = parse_cents(&f.total).filter(|c| *c > 0);
    if total_cents.is_none() {
        problems.push(("betrag", "invoicing.capture_amount"));
    }
    let due = f.due_date.trim();
    let due_date = parse_date(due);
    match (due_date, issue) {
        (None, _) if !due.is_empty() => problems.push(("faellig_am", "invoicing.capture_due")),
        (Some(d), Some(i)) if d < i => problems.push(("faellig_am", "invoicing.capture_due_before")),
        _ => {}
    }
    let skonto = capture_skonto(f.skonto_percent.trim(), f.skonto_days.trim(), &mut problems);
    let seller_iban = kernel::formats::compact(&f.seller_iban);
    if !seller_iban.is_empty() && !kernel::formats::is_iban(&seller_iban) {
        problems.push(("iban", "invoicing.capture_iban"));
    }
    match (issue, total_cents, problems.is_empty()) {
        (Some(issue), Some(total_cents), true) => Ok(Captured {
            seller_name: seller_name.to_owned(),
            seller_vat_id,
            invoice_number: invoice_number.to_owned(),
            issue_date: iso_date(issue),
            total_cents,
            due_date: due_date.map(iso_date),
            skonto,
            seller_iban,
        }),
        _ => Err(problems),
    }
}

/// A VAT identification number's form: a two-letter country code, then 2 to 12 letters or
/// digits (`DE123456789`, `ATU12345678`, `NL123456789B01`).
fn is_vat_id(v: &str) -> bool {
    let (country, rest) = v.split_at(v.len().min(2));
    country.len() == 2
        && country.chars().all(|c| c.is_ascii_uppercase())
        && (2..=12).contains(&rest.len())
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The typed cash discount: both fields or neither.
fn capture_skonto(percent: &str, days: &str, problems: &mut Vec<(&'static str, &'static str)>) -> Option<Skonto> {
    if percent.is_empty() && days.is_empty() {
        return None;
    }
    let percent_bp = parse_cents(percent).filter(|bp| (1..10_000).contains(bp));
    if percent_bp.is_none() {
        problems.push(("skonto_prozent", "invoicing.capture_skonto_percent"));
    }
    let days = days.parse::<i64>().ok().filter(|d| (1..=365).contains(d));
    if days.is_none() {
        problems.push(("skonto_tage", "invoicing.capture_skonto_days"));
    }
    Some(Skonto { days: days?, percent_bp: percent_bp?, base_cents: None })
}

/// Who typed in a paper invoice, and what was typed beyond the invoice's own columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperCapture {
    /// Upper case without spaces, or empty.
    pub seller_vat_id: String,
    /// Upper case without spaces, or empty.
    pub seller_iban: String,
    pub staff: StaffId,
    pub staff_name: String,
}

/// The media type of an original by its content: a PDF (ZUGFeRD, or a scan) as the reader
/// tells one, a scanned image (PNG, JPEG, TIFF), else XML (which the reader then decides).
pub fn original_media_type(bytes: &[u8]) -> &'static str {
    if einvoice::pdf::is_pdf(bytes) {
        return "application/pdf";
    }
    kernel::formats::sniff(bytes).unwrap_or("application/xml")
}

/// One fired validation rule, as stored with the invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub rule: String,
    /// `fatal`, `warning` or `information`.
    pub severity: String,
    pub message: String,
    pub location: String,
}

/// A received invoice with what the workflow needs of it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StoredInvoice {
    pub id: i64,
    #[schema(value_type = i64)]
    pub tenant: TenantId,
    #[schema(value_type = i64)]
    pub org_unit: OrgUnitId,
    pub leitweg_id: String,
    pub channel: Channel,
    /// Who sent it: `organisation:4`, `citizen:9`, `folder`, `mail:ADDRESS` (where answers go).
    pub sender: String,
    pub blob_sha256: String,
    /// The PDF rendering made on receipt (object store, by SHA-256).
    pub rendering_sha256: Option<String>,
    pub size: i64,
    pub syntax: String,
    pub scenario: String,
    /// `accept` or `reject`.
    pub verdict: String,
    pub findings: Vec<Finding>,
    pub invoice_number: String,
    pub issue_date: String,
    pub seller_name: String,
    pub seller_key: String,
    pub currency: String,
    /// BT-112 Invoice total amount with VAT.
    pub total_cents: i64,
    /// BT-115 Amount due for payment.
    pub due_cents: i64,
    /// BT-9, or the issue date plus the days of the 0 % Skonto line ([`payment_dates`]).
    pub due_date: Option<String>,
    /// The cash discount: the first Skonto line with a rate above 0 %, if any.
    pub skonto: Option<Skonto>,
    /// Until when the Skonto may be taken (issue date + days).
    pub skonto_until: Option<String>,
    pub duplicate_of: Option<i64>,
    pub status: Status,
    pub status_note: String,
    pub export_id: Option<i64>,
    /// When and how much the finance system paid (ISO date, cents), once it reported it.
    pub paid_on: Option<String>,
    pub paid_cents: Option<i64>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

impl StoredInvoice {
    pub fn total(&self) -> String {
        format_amount(self.total_cents, &self.currency)
    }

    pub fn received(&self) -> String {
        self.created_at.display_german()
    }

    /// `12.03.2026 (2.594,20 EUR)` once paid.
    pub fn paid(&self) -> Option<String> {
        let (on, cents) = (self.paid_on.as_ref()?, self.paid_cents?);
        Some(format!("{} ({})", german_date(on), format_amount(cents, &self.currency)))
    }

    pub fn skonto_amount(&self) -> Option<String> {
        self.skonto.as_ref().map(|s| format_amount(s.discount_cents(self.due_cents), &self.currency))
    }

    /// The fatal findings: why validation rejected it (empty when accepted).
    pub fn errors(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.severity == einvoice::rules::Flag::Fatal.as_str()).collect()
    }

    pub fn subject(&self) -> String {
        format!("invoice:{}", self.id)
    }
}

// ---- CSV ----

/// One CSV field for the finance system: `;`-separated (German Excel), quoted when needed.
/// A leading `=`, `+`, `-` or `@` in text is prefixed with `'` so no spreadsheet runs it as a formula.
pub fn csv_field(s: &str) -> String {
    let s =
        if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() { format!("'{s}") } else { s.to_owned() };
    if s.contains([';', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// A cents amount as the finance system reads it: `1234,56`.
pub fn csv_amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{},{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

/// Sets the text of the first `BuyerReference` element (BT-10) of an invoice, UBL or CII: how
/// the demo and the tests address test-suite invoices to the demo county's Leitweg-IDs.
pub fn with_buyer_reference(xml: &str, leitweg_id: &str) -> Option<String> {
    let open = xml.find("BuyerReference>")? + "BuyerReference>".len();
    let close = open + xml[open..].find('<')?;
    Some(format!("{}{leitweg_id}{}", &xml[..open], &xml[close..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(account: &str, cents: i64) -> AssignmentLine {
        AssignmentLine { account: account.into(), cost_centre: "KS1".into(), product: "P1".into(), amount_cents: cents }
    }

    fn capture() -> CaptureForm {
        CaptureForm {
            seller_name: " Druckerei Weber ".into(),
            seller_vat_id: "de 123 456 789".into(),
            invoice_number: "R-2026-117".into(),
            issue_date: "2026-11-20".into(),
            total: "1.190,00".into(),
            due_date: "2026-12-20".into(),
            skonto_percent: "2,5".into(),
            skonto_days: "10".into(),
            seller_iban: "de89 3704 0044 0532 0130 00".into(),
        }
    }

    fn capture_problems(change: impl FnOnce(&mut CaptureForm)) -> Vec<(&'static str, &'static str)> {
        let mut form = capture();
        change(&mut form);
        check_capture(&form, time::macros::date!(2026 - 12 - 07)).err().unwrap_or_default()
    }

    #[test]
    fn a_paper_invoice_is_captured_with_its_facts_normalised() {
        let captured = check_capture(&capture(), time::macros::date!(2026 - 12 - 07)).expect("a complete capture");
        assert_eq!(
            captured,
            Captured {
                seller_name: "Druckerei Weber".into(),
                seller_vat_id: "DE123456789".into(),
                invoice_number: "R-2026-117".into(),
                issue_date: "2026-11-20".into(),
                total_cents: 119_000,
                due_date: Some("2026-12-20".into()),
                skonto: Some(Skonto { days: 10, percent_bp: 250, base_cents: None }),
                seller_iban: "DE89370400440532013000".into(),
            }
        );
        let bare = CaptureForm { seller_vat_id: String::new(), due_date: String::new(), ..capture() };
        let bare = CaptureForm { skonto_percent: String::new(), skonto_days: String::new(), ..bare };
        let bare = CaptureForm { seller_iban: " ".into(), ..bare };
        let captured =
            check_capture(&bare, time::macros::date!(2026 - 11 - 20)).expect("a capture without the optional facts");
        assert_eq!((captured.seller_vat_id.as_str(), captured.due_date, captured.skonto), ("", None, None));
        assert_eq!(captured.seller_iban, "");
    }

    #[test]
    fn a_capture_names_each_field_to_correct() {
        assert_eq!(capture_problems(|f| f.seller_name = "  ".into()), [("lieferant", "invoicing.capture_seller")]);
        assert_eq!(
            capture_problems(|f| f.seller_vat_id = "123456789".into()),
            [("ust_id", "invoicing.capture_vat_id")]
        );
        assert_eq!(capture_problems(|f| f.seller_vat_id = "DE1".into()), [("ust_id", "invoicing.capture_vat_id")]);
        assert_eq!(
            capture_problems(|f| f.invoice_number = String::new()),
            [("rechnungsnummer", "invoicing.capture_number")]
        );
        assert_eq!(
            capture_problems(|f| f.issue_date = "20.11.2026".into()),
            [("rechnungsdatum", "invoicing.capture_date")]
        );
        assert_eq!(
            capture_problems(|f| f.issue_date = "2026-12-08".into()),
            [("rechnungsdatum", "invoicing.capture_date_future")]
        );
        for total in ["0", "-5,00", "12,345", "zwölf", ""] {
            assert_eq!(
                capture_problems(|f| f.total = total.into()),
                [("betrag", "invoicing.capture_amount")],
                "{total}"
            );
        }
        assert_eq!(capture_problems(|f| f.due_date = "morgen".into()), [("faellig_am", "invoicing.capture_due")]);
        assert_eq!(
            capture_problems(|f| f.due_date = "2026-11-19".into()),
            [("faellig_am", "invoicing.capture_due_before")]
        );
        assert_eq!(
            capture_problems(|f| f.skonto_days = String::new()),
            [("skonto_tage", "invoicing.capture_skonto_days")]
        );
        assert_eq!(
            capture_problems(|f| f.skonto_days = "400".into()),
            [("skonto_tage", "invoicing.capture_skonto_days")]
        );
        for percent in ["", "0", "100", "abc"] {
            assert_eq!(
                capture_problems(|f| f.skonto_percent = percent.into()),
                [("skonto_prozent", "invoicing.capture_skonto_percent")],
                "{percent}"
            );
        }
        assert_eq!(
            capture_problems(|f| f.seller_iban = "DE89 3704 0044 0532 0130 01".into()),
            [("iban", "invoicing.capture_iban")]
        );
        let all = capture_problems(|f| *f = CaptureForm { skonto_days: "x".into(), ..CaptureForm::default() });
        let fields: Vec<&str> = all.iter().map(|(field, _)| *field).collect();
        assert_eq!(
            fields,
            ["lieferant", "rechnungsnummer", "rechnungsdatum", "betrag", "skonto_prozent", "skonto_tage"]
        );
        // Each problem names the field the form posts the value in.
        let f = CaptureForm::from_fields(str::to_owned);
        let posted = [f.seller_name, f.seller_vat_id, f.invoice_number, f.issue_date, f.total, f.due_date];
        let posted: Vec<String> = posted.into_iter().chain([f.skonto_percent, f.skonto_days, f.seller_iban]).collect();
        assert!(fields.iter().all(|f| posted.iter().any(|p| p == f)), "{posted:?}");
        assert!(["ust_id", "faellig_am", "iban"].iter().all(|f| posted.iter().any(|p| p == f)));
    }

    #[test]
    fn an_original_is_told_by_its_first_bytes() {
        assert_eq!(original_media_type(b"\n %PDF-1.4"), "application/pdf", "as the reader tells a PDF");
        assert_eq!(original_media_type(b"\xff\xd8\xff\xe0"), "image/jpeg");
        assert_eq!(original_media_type(b"<?xml version='1.0'?><Invoice/>"), "application/xml");
        assert_eq!(original_media_type(b"\xef\xbb\xbf<Invoice/>"), "application/xml");
    }

    #[test]
    fn an_assignment_is_carried_over_by_shares_and_adds_up_exactly() {
        // 1/3 and 2/3 of 300.00 carried over to 100.00: 33.33 and the rest, 66.67.
        let from = [line("1", 10_000), line("2", 20_000)];
        assert_eq!(carry_over(&from, 30_000, 10_000), [line("1", 3_333), line("2", 6_667)]);
        // Half a cent rounds away from zero; the last line still closes the sum.
        assert_eq!(carry_over(&[line("1", 1), line("2", 1)], 2, 3), [line("1", 2), line("2", 1)]);
        // A credit note (negative total) keeps the shares with the sign.
        assert_eq!(carry_over(&from, 30_000, -3_000), [line("1", -1_000), line("2", -2_000)]);
        assert_eq!(carry_over(&from, 0, 3_000), []);
        let big = [line("1", i64::MAX / 2), line("2", i64::MAX / 2)];
        let carried = carry_over(&big, i64::MAX - 1, 99);
        assert_eq!(carried.iter().map(|l| l.amount_cents).sum::<i64>(), 99, "no overflow: {carried:?}");
        for total in [1, 7, 99_999, 123_456_789] {
            let carried = carry_over(&[line("1", 1), line("2", 1), line("3", 1)], 3, total);
            assert_eq!(carried.iter().map(|l| l.amount_cents).sum::<i64>(), total);
            assert!(check_assignment(&carried, total).iter().all(|(_, code)| *code != "invoicing.assignment_sum"));
        }
    }

    #[test]
    fn the_check_digits_of_the_specification_example_are_06() {
        assert_eq!(leitweg_check_digits("04011000-1234512345"), "06");
        assert!(LeitwegId::parse("04011000-1234512345-06").is_ok());
        assert_eq!(
            LeitwegId::parse("04011000-1234512345-07"),
            Err(LeitwegError::CheckDigits { expected: "06".into() })
        );
    }

    #[test]
    fn leitweg_ids_from_the_test_suite_are_checked() {
        assert!(LeitwegId::parse("04011000-12345-03").is_ok());
        assert!(LeitwegId::parse(" 991-33333test-33 ").is_ok(), "letters count as 10…35, case-insensitive");
        assert_eq!(LeitwegId::parse("991-33333TEST-33").map(|l| l.as_str().to_owned()), Ok("991-33333TEST-33".into()));
        assert!(matches!(LeitwegId::parse("04011000-12345-34"), Err(LeitwegError::CheckDigits { .. })));
    }

    #[test]
    fn malformed_leitweg_ids_are_refused() {
        for bad in ["", "PoPe", "1-12345-03", "1234567890123-1-00", "04011000--03", "04011000-12 45-03", "04011000-1-3"]
        {
            assert_eq!(LeitwegId::parse(bad), Err(LeitwegError::Format), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn computed_check_digits_always_validate(coarse in "[0-9]{2,12}", fine in "[0-9A-Z]{0,30}") {
            let body = if fine.is_empty() { coarse.clone() } else { format!("{coarse}-{fine}") };
            let id = format!("{body}-{}", leitweg_check_digits(&body));
            proptest::prop_assert!(LeitwegId::parse(&id).is_ok(), "{}", id);
            proptest::prop_assert_eq!(mod97(&numeric(&id.replace('-', ""))), 1);
        }

        #[test]
        fn outside_text_never_panics_the_parsers(s in "\\PC{0,120}") {
            let _ = LeitwegId::parse(&s);
            let _ = parse_skonto(&s);
            let _ = parse_cents(&s);
            let _ = add_days(&s, 14);
            let _ = german_date(&s);
        }

        #[test]
        fn a_csv_field_never_breaks_out_of_its_cell(s in "\\PC{0,60}") {
            let f = csv_field(&s);
            let quoted = f.starts_with('"') && f.ends_with('"') && f.len() >= 2;
            let inner = if quoted { &f[1..f.len() - 1] } else { f.as_str() };
            proptest::prop_assert!(quoted || !inner.contains([';', '"', '\n', '\r']));
            proptest::prop_assert!(!inner.replace("\"\"", "").contains('"'));
            // The value a spreadsheet reads: the quoted text with `""` back to `"`.
            let cell = inner.replace("\"\"", "\"");
            proptest::prop_assert!(!cell.starts_with(['=', '+', '@']) || s.parse::<f64>().is_ok());
        }
    }

    #[test]
    fn skonto_lines_follow_the_xrechnung_convention() {
        let terms = "Zahlbar innerhalb von 30 Tagen\n#SKONTO#TAGE=14#PROZENT=2.00#\n#SKONTO#TAGE=7#PROZENT=3.00#BASISBETRAG=100.00#\n";
        assert_eq!(
            parse_skonto(terms),
            vec![
                Skonto { days: 14, percent_bp: 200, base_cents: None },
                Skonto { days: 7, percent_bp: 300, base_cents: Some(10000) }
            ]
        );
        for bad in [
            "#SKONTO#TAGE = 14#PROZENT=1.00#",
            "#SKONTO#TAGE=14#PROZENT=1.0#",
            "#skonto#TAGE=14#PROZENT=1.00#",
            "#SKONTO#TAGE=14#PROZENT=1.00#BASISBETRAG=2,53#",
            "#SKONTO#TAGE=14#PROZENT=1.00#BASISBETRAG=-5.53#Text",
        ] {
            assert!(parse_skonto(bad).is_empty(), "{bad}");
        }
        assert_eq!(parse_skonto("#SKONTO#TAGE=14#PROZENT=1.00#BASISBETRAG=-5.53#")[0].base_cents, Some(-553));
    }

    #[test]
    fn the_due_date_is_bt9_else_the_net_term_and_a_zero_rate_is_no_cash_discount() {
        let terms = "#SKONTO#TAGE=0#PROZENT=0.00#\n#SKONTO#TAGE=7#PROZENT=2.00#\n#SKONTO#TAGE=30#PROZENT=0.00#\n";
        let dates = payment_dates("2026-12-01", None, terms);
        assert_eq!(dates.skonto, Some(Skonto { days: 7, percent_bp: 200, base_cents: None }));
        assert_eq!(dates.skonto_until.as_deref(), Some("2026-12-08"));
        // The first 0 % line is the net term (here "payable at once").
        assert_eq!(dates.due_date.as_deref(), Some("2026-12-01"));
        assert_eq!(payment_dates("2026-12-01", Some("2026-12-24"), terms).due_date.as_deref(), Some("2026-12-24"));
        let only_discount = payment_dates("2026-12-01", None, "#SKONTO#TAGE=14#PROZENT=3.00#");
        assert_eq!((only_discount.skonto_until.as_deref(), only_discount.due_date), (Some("2026-12-15"), None));
        let none = payment_dates("2026-12-01", None, "Zahlbar sofort");
        assert_eq!((none.skonto, none.skonto_until, none.due_date), (None, None, None));
    }

    #[test]
    fn a_skonto_discount_is_rounded_half_up() {
        let s = Skonto { days: 14, percent_bp: 200, base_cents: None };
        assert_eq!(s.discount_cents(11_925), 239);
        assert_eq!(Skonto { days: 1, percent_bp: 150, base_cents: Some(1000) }.discount_cents(99_999), 15);
    }

    #[test]
    fn amounts_become_cents_exactly() {
        let d = |s: &str| Decimal::parse(s, false).unwrap_or(Decimal::ZERO);
        assert_eq!(cents(d("1234.56")), Some(123_456));
        assert_eq!(cents(d("-0.5")), Some(-50));
        assert_eq!(cents(d("1.005")), None);
        assert_eq!(parse_cents("1.234,56"), Some(123_456));
        assert_eq!(parse_cents("1234.5"), Some(123_450));
        assert_eq!(parse_cents("12 €"), Some(1200));
        assert_eq!(parse_cents("abc"), None);
        assert_eq!(format_amount(123_456_789, "EUR"), "1.234.567,89 EUR");
        assert_eq!(format_amount(-5, "EUR"), "-0,05 EUR");
        assert_eq!(german_date("2026-12-06"), "06.12.2026");
        assert_eq!(add_days("2026-12-25", 14).as_deref(), Some("2027-01-08"));
    }

    fn approval(step: Step, staff: i64) -> Approval {
        Approval {
            step,
            staff: StaffId(staff),
            staff_name: String::new(),
            note: String::new(),
            at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn three_different_people_sign_the_three_steps_in_order() {
        let one = [approval(Step::Factual, 1)];
        let two = [approval(Step::Factual, 1), approval(Step::Arithmetical, 2)];
        assert_eq!(check_step(Status::Received, &[], Step::Factual, StaffId(1), false), Ok(()));
        assert_eq!(
            check_step(Status::Received, &[], Step::Arithmetical, StaffId(1), true),
            Err(StepRefusal::WrongState)
        );
        assert_eq!(
            check_step(Status::FactuallyCorrect, &one, Step::Arithmetical, StaffId(1), true),
            Err(StepRefusal::SamePerson)
        );
        assert_eq!(check_step(Status::FactuallyCorrect, &one, Step::Arithmetical, StaffId(2), false), Ok(()));
        assert_eq!(
            check_step(Status::ArithmeticallyCorrect, &two, Step::PaymentOrder, StaffId(2), true),
            Err(StepRefusal::SamePerson)
        );
        assert_eq!(
            check_step(Status::ArithmeticallyCorrect, &two, Step::PaymentOrder, StaffId(1), true),
            Err(StepRefusal::SamePerson)
        );
        assert_eq!(
            check_step(Status::ArithmeticallyCorrect, &two, Step::PaymentOrder, StaffId(3), false),
            Err(StepRefusal::AssignmentIncomplete)
        );
        assert_eq!(check_step(Status::ArithmeticallyCorrect, &two, Step::PaymentOrder, StaffId(3), true), Ok(()));
        assert_eq!(check_step(Status::Duplicate, &[], Step::Factual, StaffId(1), true), Err(StepRefusal::WrongState));
    }

    #[test]
    fn an_assignment_must_add_up_to_the_total() {
        let line = |account: &str, amount| AssignmentLine {
            account: account.into(),
            cost_centre: "KST10".into(),
            product: "1.11.01".into(),
            amount_cents: amount,
        };
        assert!(check_assignment(&[line("542100", 700), line("542200", 300)], 1000).is_empty());
        assert_eq!(check_assignment(&[line("542100", 700)], 1000), vec![(String::new(), "invoicing.assignment_sum")]);
        assert_eq!(check_assignment(&[line("54x", 1000)], 1000)[0].0, "zeile1_konto");
        assert_eq!(check_assignment(&[], 1000)[0].1, "invoicing.assignment_empty");
    }

    #[test]
    fn sellers_are_matched_by_vat_id_or_normalised_name() {
        assert_eq!(seller_key(Some("de 123 456 789"), Some("X")), "vat:DE123456789");
        assert_eq!(seller_key(None, Some("  Muster  GmbH ")), "name:muster gmbh");
        assert_eq!(seller_key(Some(""), Some("Muster GmbH")), "name:muster gmbh");
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-12"), "-12");
        assert_eq!(csv_amount(123_456), "1234,56");
        assert_eq!(csv_amount(-7), "-0,07");
    }

    #[test]
    fn a_payment_file_is_read_by_its_header_in_either_date_and_amount_form() {
        let file = "Buchung;betrag;Rechnung;Bezahlt am\r\n7;\"1.234,56\";12;12.03.2026\r\n8;99.5;13;2026-03-13\r\n\r\n";
        let (read, problems) = read_payments(file.as_bytes());
        assert_eq!(problems, []);
        assert_eq!(
            read,
            [
                Payment { line: 2, invoice: 12, paid_on: "2026-03-12".into(), cents: 123_456 },
                Payment { line: 3, invoice: 13, paid_on: "2026-03-13".into(), cents: 9_950 },
            ]
        );
        // Comma-separated when the header has no semicolon; Windows-1252 is read too.
        let comma = b"Rechnung,Bezahlt_am,Betrag\n5,2026-01-02,\"10,00\"\n";
        assert_eq!(read_payments(comma).0[0].cents, 1_000);
        let with_bom = "\u{feff}Rechnung;Bezahlt_am;Betrag\n5;2026-01-02;10,00\n";
        assert_eq!(read_payments(with_bom.as_bytes()).1, []);
        let latin = b"Rechnung;Bezahlt_am;Betrag;Empf\xe4nger\n5;2026-01-02;10,00;M\xfcller\n";
        assert_eq!(
            read_payments(latin),
            (vec![Payment { line: 2, invoice: 5, paid_on: "2026-01-02".into(), cents: 1_000 }], vec![])
        );
    }

    #[test]
    fn every_problem_of_a_payment_file_is_reported_with_its_line() {
        let file = "Rechnung;Bezahlt_am;Betrag\nx;2026-03-12;1,00\n12;31.02.2026;1,00\n13;2026-03-12;0\n\
                    12;2026-03-12;1,00\n12;2026-03-12;1,00\n14;2026-03-12;\"1,00\"x\n";
        let (payments, problems) = read_payments(file.as_bytes());
        assert_eq!(payments.iter().map(|p| p.line).collect::<Vec<_>>(), [5], "the readable line");
        assert_eq!(
            problems,
            [
                (2, "invoicing.payment_invoice_invalid"),
                (3, "invoicing.payment_date_invalid"),
                (4, "invoicing.payment_amount_invalid"),
                (6, "invoicing.payment_twice"),
                (7, "csv.text_after_quote"),
            ]
        );
        assert_eq!(read_payments(b"Rechnung;Betrag\n1;2,00\n").1, [(1, "invoicing.payments_header")]);
        assert_eq!(read_payments(b"").1, [(0, "invoicing.payments_empty")]);
        assert_eq!(read_payments(b"Rechnung;Bezahlt_am;Betrag\n").1, [(0, "invoicing.payments_empty")]);
        let many = format!("Rechnung;Bezahlt_am;Betrag\n{}", "1;2026-01-01;1,00\n".repeat(MAX_PAYMENT_LINES + 1));
        assert_eq!(read_payments(many.as_bytes()), (vec![], vec![(0, "invoicing.payments_too_many")]));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_as_a_payment_file_are_read_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = read_payments(&bytes);
        }
    }
}
