//! The human-readable rendering of an e-invoice in German, after the KoSIT visualisation: every
//! term of the EN 16931 model the invoice carries, in the standard's groups (invoice data,
//! references, notes, seller, buyer, payee, tax representative, delivery, lines with their
//! details, allowances and charges, VAT breakdown, totals, payment terms and means, supporting
//! documents), each value labelled with its term (BT-n). Groups without a value are left out.
//! The view holds only formatted text, shared by the page and the PDF; the template escapes
//! every value (it all came from outside).

use einvoice::decimal::Decimal;
use einvoice::model::{
    Address, AllowanceCharge, Attachment, Delivery, Identifier, Invoice, Line, Party, PaymentMeans, Period,
    SupportingDocument, Totals,
};

use crate::model::{self, format_amount};

pub mod pdf;

/// The rendering as a document of its own (`kreishaus invoice render --html`): the page's
/// rendering in a plain HTML shell with its styles inline, every value escaped.
#[derive(askama::Template)]
#[template(path = "invoicing/document.html")]
struct HtmlDocument<'r> {
    r: &'r Rendering,
}

/// The rendering as a standalone HTML document.
pub fn html(r: &Rendering) -> Result<String, askama::Error> {
    askama::Template::render(&HtmlDocument { r })
}

/// One labelled value of the rendering, with the EN 16931 term it shows (e.g. `BT-1`), as the
/// KoSIT visualisation labels its fields.
pub struct Fact {
    pub label: &'static str,
    pub term: &'static str,
    pub value: String,
}

/// A titled group of facts (a business group of EN 16931); shown only when it has facts.
pub struct Section {
    pub heading: String,
    pub facts: Vec<Fact>,
}

pub struct LineView {
    /// 0 for a line, 1 … for XRechnung's sub-invoice lines below it.
    pub depth: usize,
    pub id: String,
    pub name: String,
    pub quantity: String,
    pub price: String,
    pub vat: String,
    pub net: String,
    /// Everything else the line says: description, item identifiers, period, price details,
    /// allowances and charges, attributes, note, references.
    pub details: Vec<Fact>,
}

/// A document level allowance (Nachlass) or charge (Zuschlag).
pub struct AllowanceView {
    pub kind: &'static str,
    pub reason: String,
    pub base: String,
    pub percent: String,
    pub vat: String,
    pub amount: String,
}

pub struct VatView {
    pub category: String,
    pub rate: String,
    pub taxable: String,
    pub tax: String,
    pub exemption: String,
}

/// The whole invoice as the page and the PDF show it.
pub struct Rendering {
    pub title: &'static str,
    pub number: String,
    /// Invoice data, references, preceding invoices, notes.
    pub head: Vec<Section>,
    /// Seller, buyer, payee, tax representative, delivery.
    pub parties: Vec<Section>,
    pub lines: Vec<LineView>,
    pub allowances: Vec<AllowanceView>,
    pub vat: Vec<VatView>,
    pub totals: Vec<(&'static str, String)>,
    /// Payment terms, payment means, supporting documents.
    pub tail: Vec<Section>,
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// A decimal in German notation: `1234.5` → `1.234,5`.
fn german_number(d: Decimal) -> String {
    let s = d.to_string();
    let (sign, s) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let grouped = model::group_thousands(int);
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped},{frac}") }
}

/// An amount with its currency: two decimals where exact, all digits otherwise.
fn money(d: Option<Decimal>, currency: &str) -> String {
    match d {
        Some(d) => match model::cents(d) {
            Some(c) => format_amount(c, currency),
            None => format!("{} {currency}", german_number(d)),
        },
        None => String::new(),
    }
}

fn percent(d: Option<Decimal>) -> String {
    d.map(|d| format!("{} %", german_number(d))).unwrap_or_default()
}

/// UN/ECE Recommendation 20 units that invoices to a county use most, in German.
fn unit_name(code: &str) -> &str {
    match code {
        "C62" | "H87" | "XPP" | "EA" => "Stück",
        "HUR" => "Stunden",
        "DAY" => "Tage",
        "MON" => "Monate",
        "ANN" => "Jahre",
        "KGM" => "kg",
        "TNE" => "t",
        "MTR" => "m",
        "KMT" => "km",
        "MTK" => "m²",
        "MTQ" => "m³",
        "LTR" => "l",
        "LS" => "pauschal",
        other => other,
    }
}

/// A code with its German name, e.g. `Normalsatz (S)`; an unknown code as it is.
fn named(code: &str, name: Option<&str>) -> String {
    match name {
        Some(name) if !code.is_empty() => format!("{name} ({code})"),
        _ => code.to_owned(),
    }
}

/// VAT category codes (UNCL 5305 as EN 16931 uses them), in German.
fn vat_category(code: &str) -> String {
    let name = match code {
        "S" => "Normalsatz",
        "Z" => "Nullsatz",
        "E" => "steuerbefreit",
        "AE" => "Steuerschuldnerschaft des Leistungsempfängers",
        "K" => "innergemeinschaftliche Lieferung",
        "G" => "steuerfreie Ausfuhr",
        "O" => "nicht steuerbar",
        "L" => "IGIC (Kanarische Inseln)",
        "M" => "IPSI (Ceuta und Melilla)",
        _ => return code.to_owned(),
    };
    named(code, Some(name))
}

/// Payment means codes (UNCL 4461) in German.
fn payment_means(code: &str) -> &str {
    match code {
        "58" => "SEPA-Überweisung",
        "59" => "SEPA-Lastschrift",
        "30" => "Überweisung",
        "31" => "Auslandsüberweisung",
        "42" => "Zahlung auf Bankkonto",
        "48" | "54" | "55" => "Kartenzahlung",
        "10" => "Barzahlung",
        "57" => "Dauerauftrag",
        "97" => "Verrechnung",
        _ => "Zahlungsart",
    }
}

/// Invoice type codes (UNTDID 1001) that EN 16931 and XRechnung allow, in German.
fn type_name(code: &str) -> String {
    let name = match code {
        "380" => "Rechnung",
        "381" => "Gutschrift",
        "384" => "Rechnungskorrektur",
        "389" => "Selbst ausgestellte Rechnung (Gutschriftsverfahren)",
        "326" => "Teilrechnung",
        "875" => "Teilschlussrechnung",
        "876" => "Teilrechnung für Bauleistungen",
        "877" => "Schlussrechnung für Bauleistungen",
        "751" => "Rechnungsinformation für Buchungszwecke",
        "261" => "Selbst ausgestellte Gutschrift",
        "386" => "Vorauszahlungsrechnung",
        "383" => "Belastungsanzeige",
        _ => "Rechnungsart",
    };
    named(code, Some(name))
}

/// BT-8 in UNTDID 2005: which date the VAT is due on.
fn tax_point_code(code: &str) -> String {
    let name = match code {
        "3" => Some("Rechnungsdatum"),
        "35" => Some("Liefer- oder Leistungsdatum"),
        "432" => Some("Zahlungsdatum"),
        _ => None,
    };
    named(code, name)
}

/// Collects the facts of a section, leaving out empty values.
#[derive(Default)]
struct Facts(Vec<Fact>);

impl Facts {
    fn add(mut self, label: &'static str, term: &'static str, value: impl Into<String>) -> Facts {
        let value = value.into();
        if !value.trim().is_empty() {
            self.0.push(Fact { label, term, value });
        }
        self
    }

    fn opt(self, label: &'static str, term: &'static str, value: &Option<String>) -> Facts {
        self.add(label, term, text(value))
    }

    fn date(self, label: &'static str, term: &'static str, value: &Option<String>) -> Facts {
        self.add(label, term, value.as_deref().map(model::german_date).unwrap_or_default())
    }

    fn section(self, heading: impl Into<String>) -> Option<Section> {
        (!self.0.is_empty()).then(|| Section { heading: heading.into(), facts: self.0 })
    }
}

/// An identifier with its scheme, e.g. `4000001123452 (Schema 0088)`.
fn identifier(id: Option<&Identifier>) -> String {
    match id {
        Some(Identifier { id, scheme: Some(scheme) }) => format!("{id} (Schema {scheme})"),
        Some(Identifier { id, scheme: None }) => id.clone(),
        None => String::new(),
    }
}

fn identifiers(ids: &[Identifier]) -> String {
    ids.iter().map(|i| identifier(Some(i))).collect::<Vec<_>>().join(", ")
}

fn period(p: &Period) -> String {
    let day = |d: &Option<String>| d.as_deref().map(model::german_date).unwrap_or_default();
    match (day(&p.start), day(&p.end)) {
        (start, end) if start.is_empty() && end.is_empty() => String::new(),
        (start, end) if end.is_empty() => format!("ab {start}"),
        (start, end) if start.is_empty() => format!("bis {end}"),
        (start, end) => format!("{start} – {end}"),
    }
}

/// The postal address as one line: street lines, post code and city, subdivision, country.
fn address(a: &Address) -> String {
    let city = format!("{} {}", text(&a.post_code), text(&a.city)).trim().to_owned();
    [text(&a.line1), text(&a.line2), text(&a.line3), city, text(&a.subdivision), text(&a.country)]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The term numbers of a party's values in its role (BG-4 seller, BG-7 buyer, BG-10 payee,
/// BG-11 tax representative); `""` where the role has no such term.
struct PartyTerms {
    name: &'static str,
    trading_name: &'static str,
    identifiers: &'static str,
    legal_registration: &'static str,
    vat_id: &'static str,
    address: &'static str,
    electronic_address: &'static str,
    contact: [&'static str; 3],
}

const SELLER: PartyTerms = PartyTerms {
    name: "BT-27",
    trading_name: "BT-28",
    identifiers: "BT-29",
    legal_registration: "BT-30",
    vat_id: "BT-31",
    address: "BG-5",
    electronic_address: "BT-34",
    contact: ["BT-41", "BT-42", "BT-43"],
};
const BUYER: PartyTerms = PartyTerms {
    name: "BT-44",
    trading_name: "BT-45",
    identifiers: "BT-46",
    legal_registration: "BT-47",
    vat_id: "BT-48",
    address: "BG-8",
    electronic_address: "BT-49",
    contact: ["BT-56", "BT-57", "BT-58"],
};
const PAYEE: PartyTerms = PartyTerms { name: "BT-59", identifiers: "BT-60", legal_registration: "BT-61", ..NO_TERMS };
const TAX_REPRESENTATIVE: PartyTerms = PartyTerms { name: "BT-62", vat_id: "BT-63", address: "BG-12", ..NO_TERMS };
const NO_TERMS: PartyTerms = PartyTerms {
    name: "",
    trading_name: "",
    identifiers: "",
    legal_registration: "",
    vat_id: "",
    address: "",
    electronic_address: "",
    contact: ["", "", ""],
};

/// A party's section. The model leaves the terms a role does not have empty, so every value
/// shown has a term of the role.
fn party(heading: &str, t: &PartyTerms, p: &Party) -> Option<Section> {
    let [contact, telephone, email] = t.contact;
    Facts::default()
        .opt("Name", t.name, &p.name)
        .opt("Handelsname", t.trading_name, &p.trading_name)
        .add("Kennung", t.identifiers, identifiers(&p.identifiers))
        .add("Registernummer", t.legal_registration, identifier(p.legal_registration.as_ref()))
        .opt("Umsatzsteuer-Identifikationsnummer", t.vat_id, &p.vat_id)
        .opt("Steuernummer", "BT-32", &p.tax_registration)
        .opt("Weitere rechtliche Informationen", "BT-33", &p.legal_information)
        .add("Anschrift", t.address, address(&p.address))
        .add(
            "Elektronische Adresse",
            t.electronic_address,
            p.electronic_address.as_ref().map(|(s, id)| format!("{id} (Schema {s})")).unwrap_or_default(),
        )
        .opt("Kontaktstelle", contact, &p.contact.name)
        .opt("Telefon", telephone, &p.contact.telephone)
        .opt("E-Mail", email, &p.contact.email)
        .section(heading)
}

fn delivery(d: &Delivery) -> Option<Section> {
    Facts::default()
        .opt("Empfänger", "BT-70", &d.party_name)
        .add("Lieferort", "BT-71", identifier(d.location.as_ref()))
        .date("Lieferdatum", "BT-72", &d.date)
        .add("Lieferanschrift", "BG-15", address(&d.address))
        .section("Lieferung")
}

fn invoice_data(inv: &Invoice) -> Option<Section> {
    Facts::default()
        .opt("Rechnungsnummer", "BT-1", &inv.number)
        .date("Rechnungsdatum", "BT-2", &inv.issue_date)
        .add("Rechnungsart", "BT-3", type_name(inv.type_code.as_deref().unwrap_or_default()))
        .opt("Währung", "BT-5", &inv.currency)
        .opt("Umsatzsteuer-Buchungswährung", "BT-6", &inv.tax_currency)
        .date("Steuerdatum", "BT-7", &inv.tax_point_date)
        .add("Steuerdatum nach", "BT-8", tax_point_code(inv.tax_point_date_code.as_deref().unwrap_or_default()))
        .date("Fälligkeitsdatum", "BT-9", &inv.due_date)
        .add("Abrechnungszeitraum", "BG-14", period(&inv.period))
        .opt("Leitweg-ID (Käuferreferenz)", "BT-10", &inv.buyer_reference)
        .opt("Geschäftsprozess", "BT-23", &inv.business_process)
        .opt("Spezifikation", "BT-24", &inv.specification)
        .section("Rechnungsdaten")
}

fn references(inv: &Invoice) -> Option<Section> {
    let preceding = inv.preceding_invoices.iter().map(|p| match &p.issue_date {
        Some(date) => format!("{} vom {}", p.number, model::german_date(date)),
        None => p.number.clone(),
    });
    Facts::default()
        .opt("Projektnummer", "BT-11", &inv.project_reference)
        .opt("Vertragsnummer", "BT-12", &inv.contract_reference)
        .opt("Bestellnummer", "BT-13", &inv.order_reference)
        .opt("Auftragsnummer", "BT-14", &inv.sales_order_reference)
        .opt("Wareneingangsmeldung", "BT-15", &inv.receiving_advice_reference)
        .opt("Lieferavis", "BT-16", &inv.despatch_advice_reference)
        .opt("Vergabe- oder Losnummer", "BT-17", &inv.tender_reference)
        .add("Objektkennung", "BT-18", identifier(inv.invoiced_object.as_ref()))
        .opt("Buchungsreferenz des Käufers", "BT-19", &inv.buyer_accounting_reference)
        .add("Vorausgegangene Rechnung", "BG-3", preceding.collect::<Vec<_>>().join("; "))
        .section("Referenzen")
}

fn notes(inv: &Invoice) -> Option<Section> {
    let facts = inv.notes.iter().fold(Facts::default(), |facts, note| {
        let subject = note.subject.as_deref().map(|s| format!("[{s}] ")).unwrap_or_default();
        facts.add("Bemerkung", "BT-22", format!("{subject}{}", note.text))
    });
    facts.section("Bemerkungen")
}

/// One payment means (BG-16 … BG-19); `number` counts them when there are several.
fn payment(number: Option<usize>, means: &PaymentMeans) -> Option<Section> {
    let code = text(&means.code);
    let kind = format!("{} ({code})", payment_means(&code));
    Facts::default()
        .add("Zahlungsart", "BT-81", if code.is_empty() { String::new() } else { kind })
        .opt("Bezeichnung", "BT-82", &means.text)
        .opt("Verwendungszweck", "BT-83", &means.remittance)
        .opt("IBAN / Kontonummer", "BT-84", &means.account)
        .opt("Kontoinhaber", "BT-85", &means.account_name)
        .opt("BIC", "BT-86", &means.provider)
        .opt("Kartennummer", "BT-87", &means.card_number)
        .opt("Karteninhaber", "BT-88", &means.card_holder)
        .opt("Mandatsreferenz", "BT-89", &means.mandate)
        .opt("Gläubiger-ID", "BT-90", &means.creditor_id)
        .opt("Belastetes Konto", "BT-91", &means.debited_account)
        .section(number.map_or_else(|| "Zahlungsweg".to_owned(), |n| format!("Zahlungsweg {n}")))
}

fn terms_section(inv: &Invoice, currency: &str) -> Option<Section> {
    let lines = terms(
        inv.payment_terms.as_deref().unwrap_or_default(),
        inv.issue_date.as_deref().unwrap_or_default(),
        currency,
    );
    lines
        .into_iter()
        .fold(Facts::default(), |f, line| f.add("Zahlungsbedingung", "BT-20", line))
        .section("Zahlungsbedingungen")
}

/// An attachment as a person reads it: `ls.pdf (application/pdf, 13 KB)`.
fn attachment_label(a: &Attachment) -> String {
    let name = a.filename.clone().unwrap_or_else(|| "Anhang".into());
    format!("{name} ({}, {})", text(&a.mime_code), size(a.bytes))
}

/// The embedded attachments (BT-125) by the index of their supporting document (BG-24), for
/// the links that open them.
pub fn attachments(inv: &Invoice) -> Vec<(usize, String)> {
    let label = |d: &SupportingDocument| {
        let a = d.attachment.as_ref()?;
        let named_alike = a.filename.as_deref() == Some(d.reference.as_str()) || d.reference.is_empty();
        let label = attachment_label(a);
        Some(if named_alike { label } else { format!("{}: {label}", d.reference) })
    };
    inv.documents.iter().enumerate().filter_map(|(n, d)| Some((n, label(d)?))).collect()
}

fn documents(inv: &Invoice) -> Option<Section> {
    let facts = inv.documents.iter().fold(Facts::default(), |facts, doc| {
        let attachment = doc.attachment.as_ref().map(attachment_label);
        let parts = [Some(doc.reference.clone()), doc.description.clone(), attachment, doc.location.clone()];
        facts.add("Unterlage", "BG-24", parts.into_iter().flatten().collect::<Vec<_>>().join(" – "))
    });
    facts.section("Rechnungsbegründende Unterlagen")
}

/// A byte count as people read it: `512 Bytes`, `12 KB`, `1,2 MB`.
fn size(bytes: usize) -> String {
    match bytes {
        0..1_000 => format!("{bytes} Bytes"),
        1_000..1_000_000 => format!("{} KB", bytes.div_ceil(1_000)),
        _ => format!("{},{} MB", bytes / 1_000_000, bytes % 1_000_000 / 100_000),
    }
}

/// An allowance or charge of a line as one sentence: reason, amount, base and percentage.
fn line_allowance(kind: &str, a: &AllowanceCharge, currency: &str) -> String {
    let reason = [text(&a.reason), a.reason_code.as_ref().map(|c| format!("({c})")).unwrap_or_default()]
        .join(" ")
        .trim()
        .to_owned();
    let rate = match (a.percent, a.base) {
        (Some(p), Some(b)) => format!(" ({} von {})", percent(Some(p)), money(Some(b), currency)),
        (Some(p), None) => format!(" ({})", percent(Some(p))),
        _ => String::new(),
    };
    format!(
        "{kind} {}{rate}{}",
        money(a.amount, currency),
        if reason.is_empty() { String::new() } else { format!(": {reason}") }
    )
}

/// The lines in document order, each followed by its sub-invoice lines (XRechnung's extension).
fn lines(all: &[Line], depth: usize, currency: &str, out: &mut Vec<LineView>) {
    for l in all {
        out.push(line(l, depth, currency));
        lines(&l.sub_lines, depth + 1, currency, out);
    }
}

fn line(l: &Line, depth: usize, currency: &str) -> LineView {
    let allowances = l.allowances.iter().map(|a| line_allowance("Nachlass", a, currency));
    let charges = l.charges.iter().map(|c| line_allowance("Zuschlag", c, currency));
    let attributes = l.attributes.iter().map(|(name, value)| format!("{name}: {value}"));
    let quantity = |q: Option<Decimal>, unit: &Option<String>| match q {
        Some(q) => format!("{} {}", german_number(q), unit_name(unit.as_deref().unwrap_or_default())),
        None => String::new(),
    };
    let details = Facts::default()
        .opt("Beschreibung", "BT-154", &l.item_description)
        .opt("Artikelnummer des Verkäufers", "BT-155", &l.seller_item_id)
        .opt("Artikelnummer des Käufers", "BT-156", &l.buyer_item_id)
        .add("Standardkennung", "BT-157", identifier(l.standard_item_id.as_ref()))
        .add("Klassifizierung", "BT-158", identifiers(&l.classifications))
        .opt("Herkunftsland", "BT-159", &l.origin_country)
        .add("Merkmale", "BG-32", attributes.collect::<Vec<_>>().join("; "))
        .add("Leistungszeitraum", "BG-26", period(&l.period))
        .add("Bruttopreis", "BT-148", money(l.gross_price, currency))
        .add("Rabatt auf den Preis", "BT-147", money(l.price_discount, currency))
        .add("Preiseinheit", "BT-149", quantity(l.base_quantity, &l.base_quantity_unit))
        .add("Nachlässe und Zuschläge", "BG-27/28", allowances.chain(charges).collect::<Vec<_>>().join("; "))
        .add("Objektkennung", "BT-128", identifier(l.object.as_ref()))
        .opt("Bestellposition", "BT-132", &l.order_line)
        .opt("Buchungsreferenz des Käufers", "BT-133", &l.buyer_accounting_reference)
        .opt("Bemerkung", "BT-127", &l.note)
        .0;
    LineView {
        depth,
        id: text(&l.id),
        name: text(&l.item_name),
        quantity: quantity(l.quantity, &l.unit),
        price: money(l.net_price, currency),
        vat: format!("{} {}", text(&l.vat_category), percent(l.vat_rate)).trim().to_owned(),
        net: money(l.net_amount, currency),
        details,
    }
}

fn allowance(kind: &'static str, a: &AllowanceCharge, currency: &str) -> AllowanceView {
    let reason = [text(&a.reason), a.reason_code.as_ref().map(|c| format!("({c})")).unwrap_or_default()];
    AllowanceView {
        kind,
        reason: reason.join(" ").trim().to_owned(),
        base: money(a.base, currency),
        percent: percent(a.percent),
        vat: format!("{} {}", text(&a.vat_category), percent(a.vat_rate)).trim().to_owned(),
        amount: money(a.amount, currency),
    }
}

fn totals(t: &Totals, currency: &str, tax_currency: &str) -> Vec<(&'static str, String)> {
    [
        ("Summe der Positionen (netto)", t.line_net, currency),
        ("Nachlässe auf Dokumentebene", t.allowances, currency),
        ("Zuschläge auf Dokumentebene", t.charges, currency),
        ("Gesamtbetrag ohne Umsatzsteuer", t.without_vat, currency),
        ("Umsatzsteuer", t.vat, currency),
        ("Umsatzsteuer in Buchungswährung", t.vat_in_tax_currency, tax_currency),
        ("Gesamtbetrag mit Umsatzsteuer", t.with_vat, currency),
        ("Bereits gezahlt", t.paid, currency),
        ("Rundungsbetrag", t.rounding, currency),
        ("Fälliger Betrag", t.due, currency),
    ]
    .into_iter()
    .filter(|(_, v, _)| v.is_some())
    .map(|(label, v, currency)| (label, money(v, currency)))
    .collect()
}

/// Payment terms: each Skonto line of the XRechnung convention as a sentence, other lines as given.
fn terms(raw: &str, issue_date: &str, currency: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match model::parse_skonto(line).first() {
            Some(s) => {
                let until = model::add_days(issue_date, s.days).map(|d| model::german_date(&d)).unwrap_or_default();
                if s.percent_bp == 0 {
                    // XRechnung writes "net within N days" as a Skonto of 0 %.
                    return format!("Zahlbar ohne Abzug innerhalb von {} Tagen (bis {until})", s.days);
                }
                let base = s.base_cents.map(|b| format!(" auf {}", format_amount(b, currency))).unwrap_or_default();
                format!(
                    "Skonto: {},{:02} %{base} bei Zahlung innerhalb von {} Tagen (bis {until})",
                    s.percent_bp / 100,
                    s.percent_bp % 100,
                    s.days
                )
            }
            None => line.to_owned(),
        })
        .collect()
}

impl Rendering {
    pub fn of(inv: &Invoice) -> Rendering {
        let cur = text(&inv.currency);
        let head = [invoice_data(inv), references(inv), notes(inv)];
        let parties = [
            party("Verkäufer", &SELLER, &inv.seller),
            party("Käufer", &BUYER, &inv.buyer),
            inv.payee.as_ref().and_then(|p| party("Zahlungsempfänger", &PAYEE, p)),
            inv.tax_representative
                .as_ref()
                .and_then(|p| party("Steuervertreter des Verkäufers", &TAX_REPRESENTATIVE, p)),
            delivery(&inv.delivery),
        ];
        let allowances = inv.allowances.iter().map(|a| allowance("Nachlass", a, &cur));
        let charges = inv.charges.iter().map(|c| allowance("Zuschlag", c, &cur));
        let mut tail = vec![terms_section(inv, &cur)];
        let several = inv.payment_means.len() > 1;
        tail.extend(inv.payment_means.iter().enumerate().map(|(i, m)| payment(several.then_some(i + 1), m)));
        tail.push(documents(inv));
        Rendering {
            title: if inv.type_code.as_deref() == Some("381") { "Gutschrift" } else { "Rechnung" },
            number: text(&inv.number),
            head: head.into_iter().flatten().collect(),
            parties: parties.into_iter().flatten().collect(),
            lines: {
                let mut views = Vec::with_capacity(inv.lines.len());
                lines(&inv.lines, 0, &cur, &mut views);
                views
            },
            allowances: allowances.chain(charges).collect(),
            vat: inv
                .vat_breakdown
                .iter()
                .map(|v| VatView {
                    category: vat_category(v.category.as_deref().unwrap_or_default()),
                    rate: percent(v.rate),
                    taxable: money(v.taxable, &cur),
                    tax: money(v.tax, &cur),
                    exemption: [text(&v.exemption_reason), text(&v.exemption_code)]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" – "),
                })
                .collect(),
            totals: totals(&inv.totals, &cur, inv.tax_currency.as_deref().unwrap_or(&cur)),
            tail: tail.into_iter().flatten().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use einvoice::model::{Contact, Note, PrecedingInvoice};

    #[test]
    fn numbers_and_terms_read_as_german() {
        let d = |s: &str| Decimal::parse(s, false).unwrap_or(Decimal::ZERO);
        assert_eq!(german_number(d("1234567.5")), "1.234.567,5");
        assert_eq!(german_number(d("-12")), "-12");
        assert_eq!(money(Some(d("1234.5")), "EUR"), "1.234,50 EUR");
        assert_eq!(money(Some(d("0.125")), "EUR"), "0,125 EUR");
        assert_eq!(
            terms(
                "Zahlbar sofort\n#SKONTO#TAGE=14#PROZENT=2.00#\n#SKONTO#TAGE=30#PROZENT=0.00#\n",
                "2026-12-01",
                "EUR"
            ),
            vec![
                "Zahlbar sofort".to_owned(),
                "Skonto: 2,00 % bei Zahlung innerhalb von 14 Tagen (bis 15.12.2026)".into(),
                "Zahlbar ohne Abzug innerhalb von 30 Tagen (bis 31.12.2026)".into(),
            ]
        );
    }

    fn facts_of<'r>(sections: &'r [Section], heading: &str) -> Vec<(&'r str, &'r str)> {
        let section = sections.iter().find(|s| s.heading == heading).unwrap_or_else(|| panic!("no {heading}"));
        section.facts.iter().map(|f| (f.term, f.value.as_str())).collect()
    }

    #[test]
    fn every_group_the_invoice_carries_is_shown_with_its_terms_and_empty_groups_are_left_out() {
        let d = |s: &str| Decimal::parse(s, false);
        let some = |s: &str| Some(s.to_owned());
        let invoice = Invoice {
            number: some("R-1"),
            issue_date: some("2026-11-02"),
            type_code: some("380"),
            currency: some("EUR"),
            tax_point_date_code: some("35"),
            order_reference: some("B-77"),
            notes: vec![Note { subject: some("AAI"), text: "Lieferung frei Haus".into() }],
            preceding_invoices: vec![PrecedingInvoice { number: "R-0".into(), issue_date: some("2026-10-01") }],
            seller: Party {
                name: some("Büro <Müller> GmbH"),
                tax_registration: some("201/123/45678"),
                contact: Contact { email: some("rechnung@mueller.example"), ..Contact::default() },
                ..Party::default()
            },
            payee: Some(Party { name: some("Factoring AG"), ..Party::default() }),
            lines: vec![Line {
                id: some("1"),
                item_name: some("Toner"),
                item_description: some("schwarz, 10.000 Seiten"),
                allowances: vec![AllowanceCharge { amount: d("5"), reason: some("Rabatt"), ..Default::default() }],
                sub_lines: vec![Line { id: some("1.1"), item_name: some("Trommel"), ..Line::default() }],
                ..Line::default()
            }],
            documents: vec![SupportingDocument {
                reference: "Lieferschein 4711".into(),
                attachment: Some(Attachment {
                    filename: some("ls.pdf"),
                    mime_code: some("application/pdf"),
                    bytes: 12_345,
                }),
                ..Default::default()
            }],
            ..Invoice::default()
        };
        let r = Rendering::of(&invoice);
        let data = facts_of(&r.head, "Rechnungsdaten");
        assert!(
            data.contains(&("BT-3", "Rechnung (380)")) && data.contains(&("BT-8", "Liefer- oder Leistungsdatum (35)"))
        );
        assert_eq!(facts_of(&r.head, "Referenzen"), [("BT-13", "B-77"), ("BG-3", "R-0 vom 01.10.2026")]);
        assert_eq!(facts_of(&r.head, "Bemerkungen"), [("BT-22", "[AAI] Lieferung frei Haus")]);
        let seller = facts_of(&r.parties, "Verkäufer");
        assert!(seller.contains(&("BT-27", "Büro <Müller> GmbH")) && seller.contains(&("BT-32", "201/123/45678")));
        assert!(seller.contains(&("BT-43", "rechnung@mueller.example")));
        assert_eq!(facts_of(&r.parties, "Zahlungsempfänger"), [("BT-59", "Factoring AG")]);
        // No buyer, delivery, tax representative or payment terms in this invoice: no section.
        let headings: Vec<&str> = r.parties.iter().chain(&r.tail).map(|s| s.heading.as_str()).collect();
        assert_eq!(headings, ["Verkäufer", "Zahlungsempfänger", "Rechnungsbegründende Unterlagen"]);
        assert_eq!(attachments(&invoice), [(0, "Lieferschein 4711: ls.pdf (application/pdf, 13 KB)".to_owned())]);
        assert_eq!(
            facts_of(&r.tail, "Rechnungsbegründende Unterlagen"),
            [("BG-24", "Lieferschein 4711 – ls.pdf (application/pdf, 13 KB)")]
        );
        let lines: Vec<(usize, &str)> = r.lines.iter().map(|l| (l.depth, l.name.as_str())).collect();
        assert_eq!(lines, [(0, "Toner"), (1, "Trommel")]);
        let details: Vec<String> = r.lines[0].details.iter().map(|f| format!("{}: {}", f.label, f.value)).collect();
        assert_eq!(
            details,
            ["Beschreibung: schwarz, 10.000 Seiten", "Nachlässe und Zuschläge: Nachlass 5,00 EUR: Rabatt"]
        );
        let pdf = lopdf::Document::load_mem(&pdf::pdf(&r).expect("pdf")).expect("a PDF lopdf reads");
        let text = pdf.extract_text(&pdf.get_pages().keys().copied().collect::<Vec<_>>()).expect("text");
        assert!(text.contains("Steuernummer (BT-32)") && text.contains("Büro <Müller> GmbH"), "{text}");
    }
}
