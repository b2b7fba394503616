//! The rendering as PDF: the same German text as the HTML page, laid out on A4 pages in the
//! PDF standard font Helvetica (WinAnsiEncoding, so no font file is embedded), written with
//! `lopdf`, the crate `einvoice` reads ZUGFeRD PDFs with: one PDF library in the build.
//!
//! It is a reading copy for people (print, file), tagged so that assistive technology reads it
//! as the HTML page (headings, paragraphs, tables, language `de-DE`, the title shown), not an
//! archival PDF/A: the original XML stays the legal invoice. PDF/UA would further need embedded
//! fonts; the standard fonts are not embedded.

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

/// A PDF text string outside content streams (the document title) in UTF-16BE with its byte
/// order mark, so every character survives.
fn utf16_text(text: &str) -> Vec<u8> {
    [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect()
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

/// A structure element of the tagged PDF: its role (`H1`, `P`, `Table`, `TD`, …), its parent
/// and, in order, its kids.
struct Element {
    role: &'static str,
    parent: Option<usize>,
    kids: Vec<Kid>,
}

/// A kid of a structure element: marked content on a page (by page and MCID), or an element.
enum Kid {
    Content { page: usize, mcid: i64 },
    Element(usize),
}

/// Text placed on pages, top to bottom, with a new page when one is full, and tagged: every
/// text is marked content of a structure element, so a screen reader reads the PDF in order,
/// with headings, paragraphs and tables (PDF 1.7, 14.7 and 14.8).
struct Writer {
    pages: Vec<Vec<Operation>>,
    y: f32,
    /// The structure tree; element 0 is the `Document`.
    elements: Vec<Element>,
    /// The element new elements go into.
    open: usize,
    /// Per page, the element of each MCID (the page's entry of the parent tree).
    owners: Vec<Vec<usize>>,
}

impl Writer {
    fn new() -> Writer {
        Writer {
            pages: vec![Vec::new()],
            y: HEIGHT - MARGIN,
            elements: vec![Element { role: "Document", parent: None, kids: Vec::new() }],
            open: 0,
            owners: vec![Vec::new()],
        }
    }

    fn advance(&mut self, by: f32) {
        self.y -= by;
        if self.y < MARGIN {
            self.pages.push(Vec::new());
            self.owners.push(Vec::new());
            self.y = HEIGHT - MARGIN;
        }
    }

    /// A new element in the open one.
    fn element(&mut self, role: &'static str) -> usize {
        let id = self.elements.len();
        self.elements.push(Element { role, parent: Some(self.open), kids: Vec::new() });
        let open = self.open;
        self.elements[open].kids.push(Kid::Element(id));
        id
    }

    /// Runs `f` with `element` open, so what it writes goes in there.
    fn inside<T>(&mut self, element: usize, f: impl FnOnce(&mut Writer) -> T) -> T {
        let outer = std::mem::replace(&mut self.open, element);
        let result = f(self);
        self.open = outer;
        result
    }

    /// Runs `f` with a new element open.
    fn within(&mut self, role: &'static str, f: impl FnOnce(&mut Writer)) {
        let element = self.element(role);
        self.inside(element, f);
    }

    /// One line of cells: (x offset, max characters, text, element the text belongs to), at
    /// font `font` and `size`. An empty text writes nothing.
    fn row(&mut self, font: &str, size: f32, cells: &[(f32, usize, &str, usize)]) {
        self.advance(size + 4.0);
        let page = self.pages.len() - 1;
        for &(x, max, text, owner) in cells {
            if text.is_empty() {
                continue;
            }
            let mcid = self.owners[page].len() as i64;
            self.owners[page].push(owner);
            self.elements[owner].kids.push(Kid::Content { page, mcid });
            let role = self.elements[owner].role;
            self.pages[page].extend([
                Operation::new(
                    "BDC",
                    vec![Object::Name(role.into()), Object::Dictionary(dictionary! { "MCID" => mcid })],
                ),
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec![font.into(), size.into()]),
                Operation::new("Td", vec![(MARGIN + x).into(), self.y.into()]),
                Operation::new("Tj", vec![Object::string_literal(encode(text, max))]),
                Operation::new("ET", vec![]),
                Operation::new("EMC", vec![]),
            ]);
        }
    }

    /// A label in the left column and its value, wrapped, in the right one: one paragraph.
    fn fact(&mut self, label: &str, value: &str) {
        let p = self.element("P");
        for (i, line) in wrap(value, 60).iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            self.row("F1", 9.0, &[(0.0, 42, label, p), (200.0, 65, line, p)]);
        }
    }

    /// A detail under a table row, indented and wrapped: a paragraph in the open element.
    fn indented(&mut self, text: &str) {
        let p = self.element("P");
        for line in wrap(text, 85) {
            self.row("F1", 8.0, &[(30.0, 90, &line, p)]);
        }
    }

    fn heading(&mut self, role: &'static str, text: &str) {
        self.advance(6.0);
        let h = self.element(role);
        self.row("F2", 11.0, &[(0.0, 80, text, h)]);
    }

    /// A table row: one cell element (`TH` or `TD`) per text, at these (x, max characters);
    /// returns the cells' elements.
    fn table_row(
        &mut self,
        font: &str,
        size: f32,
        columns: &[(f32, usize)],
        cells: &[(&'static str, &str)],
    ) -> Vec<usize> {
        let tr = self.element("TR");
        let ids: Vec<usize> = self.inside(tr, |w| cells.iter().map(|(role, _)| w.element(role)).collect());
        let placed: Vec<(f32, usize, &str, usize)> =
            columns.iter().zip(cells).zip(&ids).map(|((&(x, max), (_, text)), &id)| (x, max, *text, id)).collect();
        self.row(font, size, &placed);
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
pub fn pdf(r: &Rendering) -> Result<Vec<u8>, lopdf::Error> {
    let mut w = Writer::new();
    let title = format!("{} {}", r.title, r.number);
    let h1 = w.element("H1");
    w.row("F2", 16.0, &[(0.0, 60, &title, h1)]);
    w.advance(4.0);
    for s in r.head.iter().chain(&r.parties) {
        section(&mut w, s);
    }
    w.heading("H2", "Rechnungspositionen");
    w.within("Table", |w| {
        let header = ["Pos.", "Bezeichnung", "Menge", "Einzelpreis", "USt", "Gesamt (netto)"].map(|t| ("TH", t));
        w.table_row("F2", 8.0, &LINE_COLUMNS, &header);
        for l in &r.lines {
            let name = format!("{}{}", "- ".repeat(l.depth), l.name);
            let texts = [&l.id, &name, &l.quantity, &l.price, &l.vat, &l.net].map(|t| ("TD", t.as_str()));
            let cells = w.table_row("F1", 8.0, &LINE_COLUMNS, &texts);
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
            w.table_row("F2", 9.0, &AMOUNT_COLUMNS, &header);
            for a in &r.allowances {
                let what = format!("{} {}", a.kind, a.reason);
                let texts = [what.as_str(), &a.percent, &a.vat, &a.amount].map(|t| ("TD", t));
                w.table_row("F1", 9.0, &AMOUNT_COLUMNS, &texts);
            }
        });
    }
    if !r.vat.is_empty() {
        w.heading("H2", "Aufschlüsselung der Umsatzsteuer");
        w.within("Table", |w| {
            let header = ["Kategorie", "Satz", "Steuerbasis", "Steuerbetrag"].map(|t| ("TH", t));
            w.table_row("F2", 9.0, &AMOUNT_COLUMNS, &header);
            for v in &r.vat {
                let texts = [&v.category, &v.rate, &v.taxable, &v.tax].map(|t| ("TD", t.as_str()));
                let cells = w.table_row("F1", 9.0, &AMOUNT_COLUMNS, &texts);
                if !v.exemption.is_empty() {
                    w.inside(cells[0], |w| w.indented(&format!("Befreiungsgrund: {}", v.exemption)));
                }
            }
        });
    }
    w.heading("H2", "Summen");
    w.within("Table", |w| {
        for (label, value) in &r.totals {
            w.table_row("F1", 9.0, &[(0.0, 40), (300.0, 25)], &[("TH", label), ("TD", value)]);
        }
    });
    for s in &r.tail {
        section(&mut w, s);
    }
    write(w, &title)
}

fn write(w: Writer, title: &str) -> Result<Vec<u8>, lopdf::Error> {
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
    let mut page_ids = Vec::new();
    for (index, operations) in w.pages.into_iter().enumerate() {
        let content = doc.add_object(Stream::new(dictionary! {}, Content { operations }.encode()?));
        page_ids.push(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "StructParents" => index as i64, "Tabs" => "S",
        }));
    }
    let count = page_ids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => page_ids.iter().map(|id| Object::from(*id)).collect::<Vec<_>>(),
            "Count" => count, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), WIDTH.into(), HEIGHT.into()],
        }),
    );
    let root = doc.new_object_id();
    let element_ids: Vec<lopdf::ObjectId> = w.elements.iter().map(|_| doc.new_object_id()).collect();
    for (element, id) in w.elements.iter().zip(&element_ids) {
        let kids: Vec<Object> = element
            .kids
            .iter()
            .map(|kid| match *kid {
                Kid::Element(e) => element_ids[e].into(),
                Kid::Content { page, mcid } => {
                    Object::Dictionary(dictionary! { "Type" => "MCR", "Pg" => page_ids[page], "MCID" => mcid })
                }
            })
            .collect();
        let parent = element.parent.map_or(root, |p| element_ids[p]);
        doc.objects.insert(
            *id,
            Object::Dictionary(dictionary! { "Type" => "StructElem", "S" => element.role, "P" => parent, "K" => kids }),
        );
    }
    let mut nums = Vec::new();
    for (page, owners) in w.owners.iter().enumerate() {
        nums.push(Object::from(page as i64));
        nums.push(Object::Array(owners.iter().map(|e| element_ids[*e].into()).collect()));
    }
    doc.objects.insert(
        root,
        Object::Dictionary(dictionary! {
            "Type" => "StructTreeRoot", "K" => element_ids[0],
            "ParentTree" => dictionary! { "Nums" => nums }, "ParentTreeNextKey" => count,
        }),
    );
    let info = doc.add_object(dictionary! { "Title" => Object::string_literal(utf16_text(title)) });
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages_id, "StructTreeRoot" => root,
        "MarkInfo" => dictionary! { "Marked" => true }, "Lang" => Object::string_literal("de-DE"),
        "ViewerPreferences" => dictionary! { "DisplayDocTitle" => true },
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let xml = std::fs::read(path).expect("a test-suite invoice");
        let rendering = Rendering::of(&crate::service::read_document(&xml).expect("readable"));
        let doc = Document::load_mem(&pdf(&rendering).expect("pdf")).expect("a PDF lopdf reads");
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
