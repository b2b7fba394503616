//! The rendering as PDF: the same German text as the HTML page, laid out on A4 pages in the
//! embedded font of `kernel::pdf::font` (so a Polish or Greek seller's name prints as written)
//! and written by the kernel's tagged page writer (`lopdf`, the crate `einvoice` reads ZUGFeRD
//! PDFs with: one PDF library in the build).
//!
//! It is a reading copy for people (print, file), tagged (`kernel::pdf::tagged`, PDF/UA-1) so
//! that assistive technology reads it as the HTML page: headings, paragraphs, tables with
//! header cells, language `de-DE`, the title shown. Not an archival PDF/A: the original XML
//! stays the legal invoice.

use kernel::pdf::font::Face;
use kernel::pdf::tagged::Tagged;

use super::{Rendering, Section};

const MARGIN: f32 = 50.0;

/// At most `max_chars` of `text`; a longer text ends in `…`.
fn clip(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    text.chars().take(max_chars.saturating_sub(1)).chain(['…']).collect()
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

/// Text placed on pages, top to bottom, with a new page when one is full, and tagged: every
/// text belongs to a structure element, so a screen reader reads the PDF in order, with
/// headings, paragraphs and tables.
struct Writer {
    page: Tagged,
}

impl Writer {
    fn new() -> Writer {
        Writer { page: Tagged::new(MARGIN) }
    }

    /// A new element in the open one.
    fn element(&mut self, role: &'static str) -> usize {
        self.page.element(role)
    }

    /// Runs `f` with `element` open, so what it writes goes in there.
    fn inside<T>(&mut self, element: usize, f: impl FnOnce(&mut Writer) -> T) -> T {
        let outer = self.page.open(element);
        let result = f(self);
        self.page.open(outer);
        result
    }

    /// Runs `f` with a new element open.
    fn within(&mut self, role: &'static str, f: impl FnOnce(&mut Writer)) {
        let element = self.element(role);
        self.inside(element, f);
    }

    /// One line of cells: (x offset, max characters, text, element the text belongs to), in
    /// `face` at `size`. An empty text writes nothing.
    fn row(&mut self, face: Face, size: f32, cells: &[(f32, usize, &str, usize)]) {
        let y = self.page.next_line(size + 4.0);
        for &(x, max, text, owner) in cells {
            if !text.is_empty() {
                self.page.text(owner, face, size, (MARGIN + x, y), &clip(text, max));
            }
        }
    }

    /// A label in the left column and its value, wrapped, in the right one: one paragraph.
    fn fact(&mut self, label: &str, value: &str) {
        let p = self.element("P");
        for (i, line) in wrap(value, 60).iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            self.row(Face::Regular, 9.0, &[(0.0, 42, label, p), (200.0, 65, line, p)]);
        }
    }

    /// A detail under a table row, indented and wrapped: a paragraph in the open element.
    fn indented(&mut self, text: &str) {
        let p = self.element("P");
        for line in wrap(text, 85) {
            self.row(Face::Regular, 8.0, &[(30.0, 90, &line, p)]);
        }
    }

    fn heading(&mut self, role: &'static str, text: &str) {
        self.page.skip(6.0);
        let h = self.element(role);
        self.row(Face::Bold, 11.0, &[(0.0, 80, text, h)]);
    }

    /// A table row: one cell element (`TH` or `TD`) per text, at these (x, max characters);
    /// returns the cells' elements.
    fn table_row(
        &mut self,
        face: Face,
        size: f32,
        columns: &[(f32, usize)],
        cells: &[(&'static str, &str)],
    ) -> Vec<usize> {
        let tr = self.element("TR");
        let ids: Vec<usize> = self.inside(tr, |w| cells.iter().map(|(role, _)| w.element(role)).collect());
        let placed: Vec<(f32, usize, &str, usize)> =
            columns.iter().zip(cells).zip(&ids).map(|((&(x, max), (_, text)), &id)| (x, max, *text, id)).collect();
        self.row(face, size, &placed);
        ids
    }
}

/// The columns of the invoice lines' table.
const LINE_COLUMNS: [(f32, usize); 6] = [(0.0, 5), (30.0, 36), (215.0, 15), (290.0, 16), (365.0, 11), (420.0, 18)];
/// The columns of the allowances' and the VAT breakdown's tables.
const AMOUNT_COLUMNS: [(f32, usize); 4] = [(0.0, 45), (230.0, 10), (300.0, 20), (420.0, 20)];

/// A section: its heading, then one paragraph per fact (label and term left, value right,
/// wrapped).
fn section(w: &mut Writer, s: &Section) {
    w.heading("H2", &s.heading);
    for f in &s.facts {
        w.fact(&format!("{} ({})", f.label, f.term), &f.value);
    }
}

/// The invoice as a tagged PDF document.
pub fn pdf(r: &Rendering) -> Result<Vec<u8>, String> {
    let mut w = Writer::new();
    let title = format!("{} {}", r.title, r.number);
    let h1 = w.element("H1");
    w.row(Face::Bold, 16.0, &[(0.0, 60, &title, h1)]);
    w.page.skip(4.0);
    for s in r.head.iter().chain(&r.parties) {
        section(&mut w, s);
    }
    w.heading("H2", "Rechnungspositionen");
    w.within("Table", |w| {
        let header = ["Pos.", "Bezeichnung", "Menge", "Einzelpreis", "USt", "Gesamt (netto)"].map(|t| ("TH", t));
        w.table_row(Face::Bold, 8.0, &LINE_COLUMNS, &header);
        for l in &r.lines {
            let name = format!("{}{}", "- ".repeat(l.depth), l.name);
            let texts = [&l.id, &name, &l.quantity, &l.price, &l.vat, &l.net].map(|t| ("TD", t.as_str()));
            let cells = w.table_row(Face::Regular, 8.0, &LINE_COLUMNS, &texts);
            // The line's details belong to its description.
            w.inside(cells[1], |w| {
                for f in &l.details {
                    w.indented(&format!("{}: {}", f.label, f.value));
                }
            });
        }
    });
    if !r.allowances.is_empty() {
        w.heading("H2", "Nachlässe und Zuschläge auf Dokumentebene");
        w.within("Table", |w| {
            let header = ["Art und Grund", "Prozent", "USt", "Betrag (netto)"].map(|t| ("TH", t));
            w.table_row(Face::Bold, 9.0, &AMOUNT_COLUMNS, &header);
            for a in &r.allowances {
                let what = format!("{} {}", a.kind, a.reason);
                let texts = [what.as_str(), &a.percent, &a.vat, &a.amount].map(|t| ("TD", t));
                w.table_row(Face::Regular, 9.0, &AMOUNT_COLUMNS, &texts);
            }
        });
    }
    if !r.vat.is_empty() {
        w.heading("H2", "Aufschlüsselung der Umsatzsteuer");
        w.within("Table", |w| {
            let header = ["Kategorie", "Satz", "Steuerbasis", "Steuerbetrag"].map(|t| ("TH", t));
            w.table_row(Face::Bold, 9.0, &AMOUNT_COLUMNS, &header);
            for v in &r.vat {
                let texts = [&v.category, &v.rate, &v.taxable, &v.tax].map(|t| ("TD", t.as_str()));
                let cells = w.table_row(Face::Regular, 9.0, &AMOUNT_COLUMNS, &texts);
                if !v.exemption.is_empty() {
                    w.inside(cells[0], |w| w.indented(&format!("Befreiungsgrund: {}", v.exemption)));
                }
            }
        });
    }
    w.heading("H2", "Summen");
    w.within("Table", |w| {
        for (label, value) in &r.totals {
            w.table_row(Face::Regular, 9.0, &[(0.0, 40), (300.0, 25)], &[("TH", label), ("TD", value)]);
        }
    });
    for s in &r.tail {
        section(&mut w, s);
    }
    w.page.write(&title, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Document, Object};

    /// The roles of the structure element `id` and its descendants, depth first.
    fn roles(doc: &Document, id: lopdf::ObjectId, out: &mut Vec<String>) {
        let element = doc.get_dictionary(id).expect("element");
        out.push(String::from_utf8_lossy(element.get(b"S").and_then(Object::as_name).expect("S")).into_owned());
        for kid in element.get(b"K").and_then(Object::as_array).expect("K") {
            if let Ok(kid) = kid.as_reference() {
                roles(doc, kid, out);
            }
        }
    }

    #[test]
    fn the_pdf_is_tagged_and_every_text_is_in_the_structure() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/testdata/einvoice/xrechnung-testsuite/src/test/business-cases/standard/01.10a-INVOICE_ubl.xml"
        );
        // A Polish seller and a Greek buyer: their names print as written.
        let xml = std::fs::read_to_string(path)
            .expect("a test-suite invoice")
            .replace("[Seller name]", "Łódź Meble Sp. z o.o.")
            .replace("[Buyer name]", "Ελληνικά Έπιπλα Α.Ε.");
        let rendering = Rendering::of(&crate::service::read_document(xml.as_bytes()).expect("readable"));
        let doc = Document::load_mem(&pdf(&rendering).expect("pdf")).expect("a PDF lopdf reads");
        let text = doc.extract_text(&doc.get_pages().keys().copied().collect::<Vec<_>>()).expect("text");
        assert!(text.contains("Łódź Meble Sp. z o.o.") && text.contains("Ελληνικά Έπιπλα Α.Ε."), "{text}");
        let catalog = doc.catalog().expect("catalog");
        let marked =
            catalog.get(b"MarkInfo").and_then(Object::as_dict).and_then(|m| m.get(b"Marked")).expect("MarkInfo");
        assert_eq!(marked.as_bool().ok(), Some(true));
        assert_eq!(catalog.get(b"Lang").and_then(Object::as_str).ok(), Some(&b"de-DE"[..]));
        let root = catalog.get(b"StructTreeRoot").and_then(Object::as_reference).expect("StructTreeRoot");
        let document = doc.get_dictionary(root).and_then(|r| r.get(b"K")).and_then(Object::as_reference).expect("K");
        let mut all = Vec::new();
        roles(&doc, document, &mut all);
        // The title first; the lines' table with a header row, the description holding the
        // line's details; the VAT breakdown and the totals as tables too.
        assert_eq!(all[..3], ["Document", "H1", "H2"]);
        let lines_table = all.iter().position(|r| r == "Table").expect("a table");
        assert_eq!(all[lines_table..lines_table + 8], ["Table", "TR", "TH", "TH", "TH", "TH", "TH", "TH"]);
        assert_eq!(all[lines_table + 8..lines_table + 12], ["TR", "TD", "TD", "P"]);
        assert_eq!(all.iter().filter(|r| *r == "Table").count(), 3);
        // Header cells say what they head: the lines' columns, the totals' rows.
        let scopes: Vec<Vec<u8>> = doc
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .filter(|d| d.get(b"S").and_then(Object::as_name).is_ok_and(|s| s == b"TH"))
            .map(|d| d.get(b"A").and_then(Object::as_dict).and_then(|a| a.get(b"Scope")).and_then(Object::as_name))
            .map(|scope| scope.expect("every header cell has a scope").to_vec())
            .collect();
        assert!(scopes.iter().any(|s| s == b"Column") && scopes.iter().any(|s| s == b"Row"));
        assert!(all.iter().filter(|r| *r == "H2").count() >= 8 && all.iter().filter(|r| *r == "P").count() > 20);
        // Every text is shown inside marked content whose MCID the page's parent tree entry names.
        let parent_tree =
            doc.get_dictionary(root).and_then(|r| r.get(b"ParentTree")).and_then(Object::as_dict).expect("tree");
        let nums = parent_tree.get(b"Nums").and_then(Object::as_array).expect("Nums");
        for (index, (_, page)) in doc.get_pages().into_iter().enumerate() {
            let owners = nums[2 * index + 1].as_array().expect("the page's owners");
            let content = doc.get_and_decode_page_content(page).expect("content");
            let (mut depth, mut mcids) = (0, 0);
            for op in &content.operations {
                match op.operator.as_str() {
                    "BDC" => {
                        let mcid = op.operands[1].as_dict().and_then(|d| d.get(b"MCID")).and_then(Object::as_i64);
                        assert_eq!(mcid.ok(), Some(mcids), "MCIDs count up on the page");
                        mcids += 1;
                        depth += 1;
                    }
                    "EMC" => depth -= 1,
                    "Tj" => assert_eq!(depth, 1, "text outside marked content"),
                    _ => {}
                }
            }
            assert_eq!(owners.len() as i64, mcids);
        }
    }

    #[test]
    fn a_text_longer_than_its_column_ends_in_an_ellipsis() {
        assert_eq!(clip("Größe 5 €", 20), "Größe 5 €");
        assert_eq!(clip("abcdef", 4), "abc…");
    }

    #[test]
    fn text_wraps_at_words_and_breaks_words_longer_than_a_line() {
        assert_eq!(wrap("Zahlbar  ohne Abzug", 12), ["Zahlbar ohne", "Abzug"]);
        assert_eq!(wrap("urn:cen.eu:en16931", 8), ["urn:cen.", "eu:en169", "31"]);
        assert_eq!(wrap("", 8), [""]);
    }
}
