//! What a citizen needs to know about a service: description, documents, fees, legal basis,
//! processing time, the responsible office and the online service. Pure rules: fee amounts in
//! German notation, and Markdown rendered without any HTML of its own.

use kernel::OrgUnitId;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// One fee, in cents (`Personalausweis ab 24 Jahren: 37,00 €`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fee {
    pub label: String,
    pub amount_cents: i64,
}

impl Fee {
    /// `37,00 €`.
    pub fn amount(&self) -> String {
        format_euro(self.amount_cents)
    }
}

/// The details of a service at one providing tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    /// Markdown.
    pub description: String,
    /// Documents to bring or upload, one each.
    pub documents: Vec<String>,
    pub fees: Vec<Fee>,
    pub legal_basis: String,
    pub processing_time: String,
    /// The online service, where there is one (`https://…`).
    pub online_url: String,
    /// Where to book an appointment, where that is possible.
    pub appointment_url: String,
    /// A form to download, print and send (`https://…/antrag.pdf`).
    pub form_url: String,
    pub org_unit: Option<OrgUnitId>,
}

/// How far a service is online (OZG maturity), from what the platform actually offers for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Maturity {
    /// Only information (OZG level 1).
    Information,
    /// A form to download and send on paper (level 2).
    Download,
    /// An online application (level 3).
    OnlineForm,
    /// An online application with e-payment of the fees (level 3, with payment).
    OnlinePayment,
    /// Fully digital including the decision delivered online (level 4).
    DigitalResult,
}

impl Maturity {
    pub const ALL: [Maturity; 5] = [
        Maturity::Information,
        Maturity::Download,
        Maturity::OnlineForm,
        Maturity::OnlinePayment,
        Maturity::DigitalResult,
    ];

    /// The OZG level (Reifegrad) 1–4.
    pub fn ozg_level(self) -> u8 {
        match self {
            Maturity::Information => 1,
            Maturity::Download => 2,
            Maturity::OnlineForm | Maturity::OnlinePayment => 3,
            Maturity::DigitalResult => 4,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Maturity::Information => "portal.maturity.information",
            Maturity::Download => "portal.maturity.download",
            Maturity::OnlineForm => "portal.maturity.online_form",
            Maturity::OnlinePayment => "portal.maturity.online_payment",
            Maturity::DigitalResult => "portal.maturity.digital_result",
        }
    }
}

/// What the platform offers for a service beyond its description. Forms, payments and the
/// mailbox come with their own capabilities; until then only an external online service counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offered {
    pub download_form: bool,
    pub online_form: bool,
    pub e_payment: bool,
    pub digital_result: bool,
}

impl Details {
    /// What is offered, as far as the details tell: a link to an online service is an online
    /// application, a form to download is paper.
    pub fn offered(&self) -> Offered {
        Offered {
            online_form: !self.online_url.is_empty(),
            download_form: !self.form_url.is_empty(),
            ..Offered::default()
        }
    }
}

/// The maturity a service reaches with what is offered for it.
pub fn maturity(o: Offered) -> Maturity {
    match o {
        Offered { online_form: true, e_payment: true, digital_result: true, .. } => Maturity::DigitalResult,
        Offered { online_form: true, e_payment: true, .. } => Maturity::OnlinePayment,
        Offered { online_form: true, .. } => Maturity::OnlineForm,
        Offered { download_form: true, .. } => Maturity::Download,
        _ => Maturity::Information,
    }
}

/// Cents as German euros: `3700` → `37,00 €`, `150000` → `1.500,00 €`.
pub fn format_euro(cents: i64) -> String {
    let (sign, cents) = if cents < 0 { ("-", -cents) } else { ("", cents) };
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02} €", cents % 100)
}

/// Reads a euro amount as people write it: `37`, `37,00`, `37,5 €`, `1.500,00 EUR`, `12.50`.
pub fn parse_euro(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches("EUR").trim_end_matches("Euro").trim_end_matches('€').trim();
    if t.is_empty() || t.len() > 20 {
        return None;
    }
    // A comma is the decimal mark; without one, a dot followed by exactly two digits is too.
    let (whole, fraction) = match t.rsplit_once(',') {
        Some((w, f)) => (w.replace('.', ""), f.to_owned()),
        None => match t.rsplit_once('.') {
            Some((w, f)) if f.len() == 2 => (w.replace('.', ""), f.to_owned()),
            _ => (t.replace('.', ""), String::new()),
        },
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<i64>().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)
}

/// Reads fee lines `Bezeichnung: 37,00 €`; returns the number of the first bad line.
pub fn parse_fees(text: &str) -> Result<Vec<Fee>, usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let (label, amount) = l.rsplit_once(':').ok_or(i + 1)?;
            let amount_cents = parse_euro(amount).ok_or(i + 1)?;
            Ok(Fee { label: label.trim().to_owned(), amount_cents })
        })
        .collect()
}

/// The fee lines for the editor: the inverse of [`parse_fees`].
pub fn fee_lines(fees: &[Fee]) -> String {
    fees.iter().map(|f| format!("{}: {}", f.label, f.amount())).collect::<Vec<_>>().join("\n")
}

/// True for addresses a service may link to: the web and e-mail, or a page of this site.
pub fn safe_link(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("https://")
        || u.starts_with("http://")
        || u.starts_with("mailto:")
        || (u.starts_with('/') && !u.starts_with("//"))
}

/// Markdown as HTML for the service page. Editors cannot smuggle in markup: raw HTML in the
/// text is shown as text, images are left out, and links go only to safe addresses.
pub fn markdown_html(markdown: &str) -> String {
    let mut unsafe_links = 0_usize;
    let events = Parser::new(markdown).filter_map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link { ref dest_url, .. }) if !safe_link(dest_url) => {
            unsafe_links += 1;
            None
        }
        Event::End(TagEnd::Link) if unsafe_links > 0 => {
            unsafe_links -= 1;
            None
        }
        other => Some(other),
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_amounts_are_read_as_germans_write_them() {
        assert_eq!(parse_euro("37"), Some(3700));
        assert_eq!(parse_euro("37,5 €"), Some(3750));
        assert_eq!(parse_euro("1.500,00 EUR"), Some(150_000));
        assert_eq!(parse_euro("12.50"), Some(1250));
        assert_eq!(parse_euro("zwölf"), None);
        assert_eq!(parse_euro("1,234"), None);
        assert_eq!(format_euro(150_000), "1.500,00 €");
        assert_eq!(format_euro(5), "0,05 €");
    }

    #[test]
    fn fee_lines_round_trip_and_bad_lines_are_numbered() {
        let fees = parse_fees("Personalausweis ab 24 Jahren: 37,00 €\n\nunter 24 Jahren: 22,80").expect("valid");
        assert_eq!(fees[1], Fee { label: "unter 24 Jahren".into(), amount_cents: 2280 });
        assert_eq!(parse_fees(&fee_lines(&fees)), Ok(fees));
        assert_eq!(parse_fees("a: 1\nohne Betrag"), Err(2));
    }

    #[test]
    fn maturity_follows_what_is_really_offered() {
        assert_eq!(maturity(Offered::default()), Maturity::Information);
        assert_eq!(maturity(Offered { download_form: true, ..Offered::default() }), Maturity::Download);
        let online = Offered { online_form: true, download_form: true, ..Offered::default() };
        assert_eq!(maturity(online), Maturity::OnlineForm);
        assert_eq!(maturity(Offered { e_payment: true, ..online }), Maturity::OnlinePayment);
        assert_eq!(maturity(Offered { e_payment: true, digital_result: true, ..online }).ozg_level(), 4);
        // Paying online without an online application is still paper.
        assert_eq!(
            maturity(Offered { e_payment: true, digital_result: true, ..Offered::default() }),
            Maturity::Information
        );
        let linked = Details { online_url: "https://kreis.example/antrag".into(), ..Details::default() };
        assert_eq!(maturity(linked.offered()).ozg_level(), 3);
    }

    #[test]
    fn markdown_keeps_formatting_but_no_markup_of_its_own() {
        let html = markdown_html(
            "**Wichtig:** Termin <script>alert(1)</script> [Formular](https://kreis.example/f) [x](javascript:alert(1)) ![b](https://e.example/b.png)",
        );
        assert!(html.contains("<strong>Wichtig:</strong>"));
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("<a href=\"https://kreis.example/f\">Formular</a>"));
        assert!(!html.contains("javascript:") && !html.contains("<img"));
    }

    proptest::proptest! {
        #[test]
        fn no_markdown_produces_a_script_tag_or_an_event_handler(md in "\\PC{0,300}") {
            let html = markdown_html(&md).to_lowercase();
            proptest::prop_assert!(!html.contains("<script") && !html.contains("href=\"javascript") && !html.contains("<img"));
        }

        #[test]
        fn any_amount_text_is_read_without_panicking(t in "\\PC{0,30}") {
            let _ = parse_euro(&t);
        }
    }
}
