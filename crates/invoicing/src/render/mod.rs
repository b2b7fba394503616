//! The human-readable rendering of an e-invoice in German, after the KoSIT visualisation:
//! seller, buyer, lines, VAT breakdown, totals and payment terms. The view holds only
//! formatted text; the template escapes every value (it all came from outside).

use einvoice::decimal::Decimal;
use einvoice::model::{Invoice, Party};

use crate::model::{self, format_amount};

pub mod pdf;

/// A party as shown: name, address lines, identifiers.
pub struct PartyView {
    pub name: String,
    pub lines: Vec<String>,
    pub vat_id: String,
    pub electronic_address: String,
}

pub struct LineView {
    pub id: String,
    pub name: String,
    pub quantity: String,
    pub price: String,
    pub vat: String,
    pub net: String,
}

pub struct VatView {
    pub category: String,
    pub rate: String,
    pub taxable: String,
    pub tax: String,
}

/// The whole invoice as the page shows it.
pub struct Rendering {
    pub title: &'static str,
    pub number: String,
    pub issue_date: String,
    pub due_date: String,
    pub buyer_reference: String,
    pub currency: String,
    pub specification: String,
    pub seller: PartyView,
    pub buyer: PartyView,
    pub lines: Vec<LineView>,
    pub vat: Vec<VatView>,
    pub totals: Vec<(&'static str, String)>,
    pub terms: Vec<String>,
    pub payment_means: Vec<String>,
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
        _ => "",
    };
    if name.is_empty() { code.to_owned() } else { format!("{name} ({code})") }
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

fn party(p: &Party) -> PartyView {
    let a = &p.address;
    let city = format!("{} {}", text(&a.post_code), text(&a.city)).trim().to_owned();
    let lines = [text(&a.line1), city, text(&a.country)].into_iter().filter(|l| !l.is_empty()).collect();
    PartyView {
        name: text(&p.name),
        lines,
        vat_id: text(&p.vat_id),
        electronic_address: p
            .electronic_address
            .as_ref()
            .map(|(s, id)| format!("{id} (Schema {s})"))
            .unwrap_or_default(),
    }
}

/// Payment terms: each Skonto line of the XRechnung convention as a sentence, other lines as given.
fn terms(raw: &str, issue_date: &str, currency: &str) -> Vec<String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match model::parse_skonto(line).first() {
            Some(s) => {
                let until = model::add_days(issue_date, s.days).map(|d| model::german_date(&d)).unwrap_or_default();
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
        let t = &inv.totals;
        let totals: Vec<(&'static str, String)> = [
            ("Summe der Positionen (netto)", t.line_net),
            ("Nachlässe auf Dokumentebene", t.allowances),
            ("Zuschläge auf Dokumentebene", t.charges),
            ("Gesamtbetrag ohne Umsatzsteuer", t.without_vat),
            ("Umsatzsteuer", t.vat),
            ("Gesamtbetrag mit Umsatzsteuer", t.with_vat),
            ("Bereits gezahlt", t.paid),
            ("Rundungsbetrag", t.rounding),
            ("Fälliger Betrag", t.due),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(label, v)| (label, money(v, &cur)))
        .collect();
        Rendering {
            title: if inv.type_code.as_deref() == Some("381") { "Gutschrift" } else { "Rechnung" },
            number: text(&inv.number),
            issue_date: model::german_date(&text(&inv.issue_date)),
            due_date: inv.due_date.as_deref().map(model::german_date).unwrap_or_default(),
            buyer_reference: text(&inv.buyer_reference),
            currency: cur.clone(),
            specification: text(&inv.specification),
            seller: party(&inv.seller),
            buyer: party(&inv.buyer),
            lines: inv
                .lines
                .iter()
                .map(|l| LineView {
                    id: text(&l.id),
                    name: text(&l.item_name),
                    quantity: match l.quantity {
                        Some(q) => format!("{} {}", german_number(q), unit_name(l.unit.as_deref().unwrap_or_default())),
                        None => String::new(),
                    },
                    price: money(l.net_price, &cur),
                    vat: format!("{} {}", text(&l.vat_category), percent(l.vat_rate)).trim().to_owned(),
                    net: money(l.net_amount, &cur),
                })
                .collect(),
            vat: inv
                .vat_breakdown
                .iter()
                .map(|v| VatView {
                    category: vat_category(v.category.as_deref().unwrap_or_default()),
                    rate: percent(v.rate),
                    taxable: money(v.taxable, &cur),
                    tax: money(v.tax, &cur),
                })
                .collect(),
            totals,
            terms: terms(
                inv.payment_terms.as_deref().unwrap_or_default(),
                inv.issue_date.as_deref().unwrap_or_default(),
                &cur,
            ),
            payment_means: inv
                .payment_means
                .iter()
                .map(|m| {
                    let code = text(&m.code);
                    let account = m.account.as_ref().map(|a| format!(": {a}")).unwrap_or_default();
                    format!("{} ({code}){account}", payment_means(&code))
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_terms_read_as_german() {
        let d = |s: &str| Decimal::parse(s, false).unwrap_or(Decimal::ZERO);
        assert_eq!(german_number(d("1234567.5")), "1.234.567,5");
        assert_eq!(german_number(d("-12")), "-12");
        assert_eq!(money(Some(d("1234.5")), "EUR"), "1.234,50 EUR");
        assert_eq!(money(Some(d("0.125")), "EUR"), "0,125 EUR");
        assert_eq!(
            terms("Zahlbar sofort\n#SKONTO#TAGE=14#PROZENT=2.00#\n", "2026-12-01", "EUR"),
            vec![
                "Zahlbar sofort".to_owned(),
                "Skonto: 2,00 % bei Zahlung innerhalb von 14 Tagen (bis 15.12.2026)".into()
            ]
        );
    }
}
