//! Plain A4 documents as PDF: receipts, certificates, notices. A document is a title and blocks
//! (headings, paragraphs, label/value rows, a QR code) laid out top to bottom over as many pages
//! as they need, in the embedded font of [`font`] (so every name prints as written), tagged for
//! assistive technology ([`tagged`]).

pub mod font;
pub mod tagged;

use lopdf::Object;
use lopdf::content::Operation;

use crate::Timestamp;
use font::Face;
use tagged::{PAGE_WIDTH, Tagged};

const MARGIN: f32 = 56.0;
const BODY_SIZE: f32 = 10.5;
const LABEL_WIDTH: f32 = 170.0;

/// One block of a document.
#[derive(Clone, Debug)]
enum Block {
    Heading(String),
    Paragraph(String),
    Row(String, String),
    Qr { data: String, caption: String },
}

/// A document to be written as PDF.
#[derive(Clone, Debug)]
pub struct Document {
    title: String,
    blocks: Vec<Block>,
}

impl Document {
    pub fn new(title: impl Into<String>) -> Self {
        Document { title: title.into(), blocks: Vec::new() }
    }

    pub fn heading(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Heading(text.into()));
        self
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// A label and its value side by side (the value wraps).
    pub fn row(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.blocks.push(Block::Row(label.into(), value.into()));
        self
    }

    /// A QR code of `data` (e.g. a verification link) with a caption beside it.
    pub fn qr(mut self, data: impl Into<String>, caption: impl Into<String>) -> Self {
        self.blocks.push(Block::Qr { data: data.into(), caption: caption.into() });
        self
    }

    /// The PDF bytes, tagged (the title a heading of level 1, headings of level 2, paragraphs,
    /// the QR code a figure read as its content). `created` goes into the document information.
    pub fn to_pdf(&self, created: Timestamp) -> Result<Vec<u8>, String> {
        let mut pen = Pen::new();
        let h1 = pen.page.element("H1");
        pen.text_block(h1, &self.title, Face::Bold, 17.0);
        pen.skip(8.0);
        for block in &self.blocks {
            match block {
                Block::Heading(t) => {
                    pen.skip(10.0);
                    let h2 = pen.page.element("H2");
                    pen.text_block(h2, t, Face::Bold, 12.5);
                    pen.skip(2.0);
                }
                Block::Paragraph(t) => {
                    let p = pen.page.element("P");
                    pen.text_block(p, t, Face::Regular, BODY_SIZE);
                    pen.skip(5.0);
                }
                Block::Row(label, value) => pen.row(label, value),
                Block::Qr { data, caption } => pen.qr(data, caption)?,
            }
        }
        let date = created.rfc3339().replace(['-', ':', 'T'], "").replace('Z', "");
        pen.page.write(&self.title, Some(format!("D:{}Z", &date[..date.len().min(14)])))
    }
}

/// Lays out the blocks on tagged pages.
struct Pen {
    page: Tagged,
}

impl Pen {
    fn new() -> Self {
        Pen { page: Tagged::new(MARGIN) }
    }

    fn skip(&mut self, points: f32) {
        self.page.skip(points);
    }

    /// `text` wrapped to the text width, as part of `owner`.
    fn text_block(&mut self, owner: usize, text: &str, face: Face, size: f32) {
        for line in wrap(text, face, size, PAGE_WIDTH - 2.0 * MARGIN) {
            let y = self.page.next_line(size * 1.35);
            self.page.text(owner, face, size, (MARGIN, y), &line);
        }
    }

    /// A label and its value beside it: one paragraph.
    fn row(&mut self, label: &str, value: &str) {
        let p = self.page.element("P");
        let leading = BODY_SIZE * 1.35;
        let labels = wrap(label, Face::Bold, BODY_SIZE, LABEL_WIDTH - 10.0);
        let values = wrap(value, Face::Regular, BODY_SIZE, PAGE_WIDTH - 2.0 * MARGIN - LABEL_WIDTH);
        let lines = labels.len().max(values.len()).max(1);
        self.page.keep(leading * lines.min(3) as f32);
        for i in 0..lines {
            let y = self.page.next_line(leading);
            if let Some(l) = labels.get(i) {
                self.page.text(p, Face::Bold, BODY_SIZE, (MARGIN, y), l);
            }
            if let Some(v) = values.get(i) {
                self.page.text(p, Face::Regular, BODY_SIZE, (MARGIN + LABEL_WIDTH, y), v);
            }
        }
        self.skip(3.0);
    }

    /// The QR code of `data`, a figure read as "QR-Code: {data}", with `caption` beside it.
    fn qr(&mut self, data: &str, caption: &str) -> Result<(), String> {
        let code = qrcode::QrCode::new(data.as_bytes()).map_err(|e| format!("QR code: {e}"))?;
        let modules = code.width();
        let quiet = 4.0;
        let module = 2.6_f32;
        let side = (modules as f32 + 2.0 * quiet) * module;
        self.skip(8.0);
        self.page.keep(side);
        let top = self.page.y();
        let left = MARGIN;
        let mut drawing = vec![Operation::new("q", vec![]), Operation::new("rg", vec![0.into(), 0.into(), 0.into()])];
        for y in 0..modules {
            for x in 0..modules {
                if code[(x, y)] == qrcode::Color::Dark {
                    let px = left + (x as f32 + quiet) * module;
                    let py = top - (y as f32 + quiet + 1.0) * module;
                    drawing.push(Operation::new("re", vec![px.into(), py.into(), module.into(), module.into()]));
                }
            }
        }
        drawing.extend([Operation::new("f", vec![]), Operation::new("Q", vec![])]);
        self.page.figure(&format!("QR-Code: {data}"), [left, top - side, left + side, top], drawing);
        let caption_x = left + side + 12.0;
        let p = self.page.element("P");
        let mut y = top;
        for line in wrap(caption, Face::Regular, BODY_SIZE, PAGE_WIDTH - MARGIN - caption_x) {
            y -= BODY_SIZE * 1.35;
            self.page.text(p, Face::Regular, BODY_SIZE, (caption_x, y), &line);
        }
        self.skip(side);
        Ok(())
    }
}

/// Breaks text into lines no wider than `width` points (explicit line breaks kept; a word
/// longer than a line is cut).
fn wrap(text: &str, face: Face, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if font::width(face, &candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut rest = word.to_owned();
            while font::width(face, &rest, size) > width {
                let mut cut = String::new();
                for c in rest.chars() {
                    if font::width(face, &format!("{cut}{c}"), size) > width {
                        break;
                    }
                    cut.push(c);
                }
                if cut.is_empty() {
                    break;
                }
                rest = rest[cut.len()..].to_owned();
                lines.push(cut);
            }
            line = rest;
        }
        lines.push(line);
    }
    lines
}

/// A text string outside content streams (the document title): UTF-16BE with its byte order
/// mark, so every character survives (PDF 1.7, 7.9.2.2).
pub fn text_string(text: &str) -> Object {
    Object::string_literal(
        [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect::<Vec<u8>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(pdf: &[u8]) -> (usize, String) {
        let doc = lopdf::Document::load_mem(pdf).expect("a readable PDF");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        (pages.len(), doc.extract_text(&pages).expect("text"))
    }

    #[test]
    fn a_document_reads_back_with_its_text_and_german_characters() {
        let pdf = Document::new("Eingangsbestätigung")
            .paragraph("Ihr Antrag ist eingegangen.")
            .row("Vorgangsnummer", "ABCDE-FGHJK-7")
            .row("Gebühr", "12,50 €")
            .to_pdf(Timestamp::from_millis(1_780_000_000_000))
            .expect("pdf");
        assert!(pdf.starts_with(b"%PDF-1.7"));
        let (pages, text) = text_of(&pdf);
        assert_eq!(pages, 1);
        for expected in ["Eingangsbestätigung", "Vorgangsnummer", "ABCDE-FGHJK-7", "Gebühr", "12,50 €"] {
            assert!(text.contains(expected), "{expected} missing in {text}");
        }
    }

    /// What a command-line tool of poppler (the PDF library of most Linux viewers) prints for
    /// the PDF.
    fn poppler(command_line: &str, pdf: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("doc.pdf");
        std::fs::write(&path, pdf).expect("write");
        let mut words = command_line.split(' ');
        let tool = words.next().expect("a tool");
        let mut command = std::process::Command::new(tool);
        command.args(words).arg(&path);
        if tool == "pdftotext" {
            command.arg("-");
        }
        let out = command.output().unwrap_or_else(|e| panic!("{tool} (poppler-utils, which .ci/run installs): {e}"));
        assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    #[test]
    fn every_name_prints_as_written_with_the_font_embedded() {
        let names = ["Ayşe Yılmaz", "Łukasz Wójcik", "Dragoș Țurcanu", "Παπαδόπουλος", "Олена Шевченко"];
        let mut doc = Document::new("Eingangsbestätigung für Ayşe Yılmaz");
        for name in names {
            doc = doc.row("Antragsteller/in", name);
        }
        let pdf = doc.to_pdf(Timestamp::from_millis(0)).expect("pdf");
        let (_, text) = text_of(&pdf);
        let shown = poppler("pdftotext -enc UTF-8", &pdf);
        for name in names {
            assert!(text.contains(name), "lopdf: {name} missing in {text}");
            assert!(shown.contains(name), "poppler: {name} missing in {shown}");
        }
        // Both faces embedded as subsets, each with a Unicode map: columns emb, sub and uni.
        let fonts = poppler("pdffonts", &pdf);
        let rows: Vec<String> = fonts
            .lines()
            .filter(|l| l.contains("LiberationSans"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(rows.len(), 2, "{fonts}");
        assert!(rows.iter().all(|r| r.contains("CID TrueType Identity-H yes yes yes")), "{fonts}");
        let info = poppler("pdfinfo", &pdf);
        let title = info.lines().find_map(|l| l.strip_prefix("Title:")).map(str::trim);
        assert_eq!(title, Some("Eingangsbestätigung für Ayşe Yılmaz"), "{info}");
        // Subsets keep a receipt small.
        assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    }

    #[test]
    fn a_document_is_tagged_in_reading_order_and_identified_as_pdf_ua() {
        let pdf = Document::new("Bescheinigung")
            .heading("Angaben")
            .paragraph("Ihr Antrag ist eingegangen.")
            .row("Vorgangsnummer", "ABCDE")
            .qr("https://kreis.example/pruefen/ABC", "Echtheit prüfen: Code scannen")
            .to_pdf(Timestamp::from_millis(0))
            .expect("pdf");
        // poppler's reading of the structure tree, with each element's text.
        let tree: Vec<String> = poppler("pdfinfo -struct-text", &pdf).lines().map(|l| l.trim().to_owned()).collect();
        let expected = [
            "Document",
            "H1 (block)",
            "\"Bescheinigung\"",
            "H2 (block)",
            "\"Angaben\"",
            "P (block)",
            "\"Ihr Antrag ist eingegangen.\"",
            "P (block)",
            "\"Vorgangsnummer\"",
            "\"ABCDE\"",
            "Figure:",
        ];
        assert_eq!(tree[..expected.len()], expected, "{tree:?}");
        assert_eq!(tree[tree.len() - 2..], ["P (block)", "\"Echtheit prüfen: Code scannen\""]);
        let doc = lopdf::Document::load_mem(&pdf).expect("pdf");
        let figure = doc
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .find(|d| d.get(b"S").and_then(Object::as_name).is_ok_and(|s| s == b"Figure"))
            .expect("a figure");
        let alt = figure.get(b"Alt").and_then(Object::as_str).expect("Alt");
        assert_eq!(alt, text_string("QR-Code: https://kreis.example/pruefen/ABC").as_str().expect("a string"));
        let info = poppler("pdfinfo", &pdf);
        assert!(info.contains("Tagged:          yes") && info.contains("Metadata Stream: yes"), "{info}");
        let metadata = poppler("pdfinfo -meta", &pdf);
        assert!(metadata.contains("<pdfuaid:part>1</pdfuaid:part>") && metadata.contains(">Bescheinigung</rdf:li>"));
    }

    #[test]
    fn long_content_flows_onto_further_pages_and_long_words_are_cut() {
        let long = "Wort ".repeat(4000);
        let pdf = Document::new("Lang")
            .paragraph(long)
            .row("Prüfsumme", "a".repeat(200))
            .to_pdf(Timestamp::from_millis(0))
            .expect("pdf");
        let (pages, text) = text_of(&pdf);
        assert!(pages > 2, "{pages} pages");
        assert!(text.contains("aaaa"));
    }

    #[test]
    fn a_qr_code_is_drawn_beside_its_caption() {
        let pdf = Document::new("Bescheinigung")
            .qr("https://kreis.example/pruefen/ABC", "Echtheit prüfen: Code scannen")
            .to_pdf(Timestamp::from_millis(0))
            .expect("pdf");
        let doc = lopdf::Document::load_mem(&pdf).expect("pdf");
        let page = *doc.get_pages().values().next().expect("a page");
        let content = lopdf::content::Content::decode(&doc.get_page_content(page)).expect("ops");
        let squares = content.operations.iter().filter(|o| o.operator == "re").count();
        assert!(squares > 100, "{squares} modules");
        assert!(text_of(&pdf).1.contains("Echtheit prüfen"));
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        let lines = wrap("Der Antrag auf Erteilung einer Fahrerlaubnis ist eingegangen", Face::Regular, 10.0, 100.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| font::width(Face::Regular, l, 10.0) <= 100.0));
    }
}
