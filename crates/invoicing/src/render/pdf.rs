//! The rendering as PDF: the same German text as the HTML page, laid out on A4 pages in the
//! PDF standard font Helvetica (WinAnsiEncoding, so no font file is embedded), written with
//! `lopdf`, the crate `einvoice` reads ZUGFeRD PDFs with: one PDF library in the build.
//!
//! It is a reading copy for people (print, file), not an archival PDF/A: the original XML
//! stays the legal invoice.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

use super::{Rendering, Section};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;

/// A character in WinAnsiEncoding (Windows-1252); what it cannot show becomes `?`.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        _ => b'?',
    }
}

fn encode(text: &str, max_chars: usize) -> Vec<u8> {
    let mut out: Vec<u8> = text.chars().take(max_chars).map(win_ansi).collect();
    if text.chars().count() > max_chars {
        out.pop();
        out.push(0x85);
    }
    out
}

/// Words joined into lines of at most `width` characters; a longer word (a URN, an IBAN) is
/// broken into pieces of `width`.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let pieces = text.split_whitespace().flat_map(|word| {
        let chars: Vec<char> = word.chars().collect();
        chars.chunks(width.max(1)).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>()
    });
    let mut lines = vec![String::new()];
    for word in pieces {
        let line = lines.last_mut().expect("a line");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word);
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
    }
    lines
}

/// Text placed on pages, top to bottom, with a new page when one is full.
struct Writer {
    pages: Vec<Vec<Operation>>,
    y: f32,
}

impl Writer {
    fn new() -> Writer {
        Writer { pages: vec![Vec::new()], y: HEIGHT - MARGIN }
    }

    fn advance(&mut self, by: f32) {
        self.y -= by;
        if self.y < MARGIN {
            self.pages.push(Vec::new());
            self.y = HEIGHT - MARGIN;
        }
    }

    /// One line of cells: (x offset, max characters, text), at font `font` and `size`.
    fn row(&mut self, font: &str, size: f32, cells: &[(f32, usize, &str)]) {
        self.advance(size + 4.0);
        let page = self.pages.last_mut().expect("a page");
        for (x, max, text) in cells {
            page.extend([
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec![font.into(), size.into()]),
                Operation::new("Td", vec![(MARGIN + x).into(), self.y.into()]),
                Operation::new("Tj", vec![Object::string_literal(encode(text, *max))]),
                Operation::new("ET", vec![]),
            ]);
        }
    }

    /// A label in the left column and its value, wrapped, in the right one.
    fn fact(&mut self, label: &str, value: &str) {
        for (i, line) in wrap(value, 60).iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            self.row("F1", 9.0, &[(0.0, 42, label), (200.0, 65, line)]);
        }
    }

    /// A detail under a table row, indented and wrapped.
    fn indented(&mut self, text: &str) {
        for line in wrap(text, 85) {
            self.row("F1", 8.0, &[(30.0, 90, &line)]);
        }
    }

    fn heading(&mut self, text: &str) {
        self.advance(6.0);
        self.row("F2", 11.0, &[(0.0, 80, text)]);
    }
}

/// One row of the invoice lines' table.
fn table_row(w: &mut Writer, font: &str, texts: [&str; 6]) {
    const COLUMNS: [(f32, usize); 6] = [(0.0, 5), (30.0, 36), (215.0, 15), (290.0, 16), (365.0, 11), (420.0, 18)];
    let cells: Vec<(f32, usize, &str)> = COLUMNS.iter().zip(texts).map(|((x, max), t)| (*x, *max, t)).collect();
    w.row(font, 8.0, &cells);
}

/// A section: its heading, then one row per fact (label and term left, value right, wrapped).
fn section(w: &mut Writer, s: &Section) {
    w.heading(&s.heading);
    for f in &s.facts {
        w.fact(&format!("{} ({})", f.label, f.term), &f.value);
    }
}

/// The invoice as a PDF document.
pub fn pdf(r: &Rendering) -> Result<Vec<u8>, lopdf::Error> {
    let mut w = Writer::new();
    w.row("F2", 16.0, &[(0.0, 60, &format!("{} {}", r.title, r.number))]);
    w.advance(4.0);
    for s in r.head.iter().chain(&r.parties) {
        section(&mut w, s);
    }
    w.heading("Rechnungspositionen");
    table_row(&mut w, "F2", ["Pos.", "Bezeichnung", "Menge", "Einzelpreis", "USt", "Gesamt (netto)"]);
    for l in &r.lines {
        let name = format!("{}{}", "- ".repeat(l.depth), l.name);
        table_row(&mut w, "F1", [&l.id, &name, &l.quantity, &l.price, &l.vat, &l.net]);
        for f in &l.details {
            w.indented(&format!("{}: {}", f.label, f.value));
        }
    }
    if !r.allowances.is_empty() {
        w.heading("Nachlässe und Zuschläge auf Dokumentebene");
        for a in &r.allowances {
            let what = format!("{} {}", a.kind, a.reason);
            w.row("F1", 9.0, &[(0.0, 45, &what), (230.0, 10, &a.percent), (300.0, 20, &a.vat), (420.0, 20, &a.amount)]);
        }
    }
    if !r.vat.is_empty() {
        w.heading("Aufschlüsselung der Umsatzsteuer");
        for v in &r.vat {
            w.row(
                "F1",
                9.0,
                &[(0.0, 45, &v.category), (230.0, 10, &v.rate), (300.0, 20, &v.taxable), (420.0, 20, &v.tax)],
            );
            if !v.exemption.is_empty() {
                w.indented(&format!("Befreiungsgrund: {}", v.exemption));
            }
        }
    }
    w.heading("Summen");
    for (label, value) in &r.totals {
        w.row("F1", 9.0, &[(0.0, 40, label), (300.0, 25, value)]);
    }
    for s in &r.tail {
        section(&mut w, s);
    }
    write(w.pages)
}

fn write(pages: Vec<Vec<Operation>>) -> Result<Vec<u8>, lopdf::Error> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = |name: &str| {
        dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => name, "Encoding" => "WinAnsiEncoding"
        }
    };
    let regular = doc.add_object(font("Helvetica"));
    let bold = doc.add_object(font("Helvetica-Bold"));
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => regular, "F2" => bold } });
    let mut kids = Vec::new();
    for operations in pages {
        let content = doc.add_object(Stream::new(dictionary! {}, Content { operations }.encode()?));
        kids.push(Object::from(
            doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content }),
        ));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), WIDTH.into(), HEIGHT.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_text_is_encoded_in_win_ansi() {
        assert_eq!(encode("Größe 5 €", 20), b"Gr\xf6\xdfe 5 \x80".to_vec());
        assert_eq!(encode("漢字", 20), b"??".to_vec());
        assert_eq!(encode("abcdef", 4), b"abc\x85".to_vec());
    }

    #[test]
    fn text_wraps_at_words_and_breaks_words_longer_than_a_line() {
        assert_eq!(wrap("Zahlbar  ohne Abzug", 12), ["Zahlbar ohne", "Abzug"]);
        assert_eq!(wrap("urn:cen.eu:en16931", 8), ["urn:cen.", "eu:en169", "31"]);
        assert_eq!(wrap("", 8), [""]);
    }
}
