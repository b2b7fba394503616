//! Plain A4 documents as PDF: receipts, certificates, notices. A document is a title and blocks
//! (headings, paragraphs, label/value rows, a QR code) laid out top to bottom over as many pages
//! as they need, in the standard Helvetica fonts (no embedded font files, so a receipt is a few
//! kilobytes). Text is encoded in WinAnsi, which covers German; other characters become `?`.

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Object, Stream, StringFormat, dictionary};

use crate::Timestamp;

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
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

    /// The PDF bytes. `created` goes into the document information.
    pub fn to_pdf(&self, created: Timestamp) -> Result<Vec<u8>, String> {
        let pages = self.layout()?;
        write(&self.title, pages, created)
    }

    fn layout(&self) -> Result<Vec<Vec<Operation>>, String> {
        let mut pen = Pen::new();
        pen.text_block(&self.title, Font::Bold, 17.0, MARGIN, PAGE_WIDTH - 2.0 * MARGIN);
        pen.skip(8.0);
        for block in &self.blocks {
            match block {
                Block::Heading(t) => {
                    pen.skip(10.0);
                    pen.text_block(t, Font::Bold, 12.5, MARGIN, PAGE_WIDTH - 2.0 * MARGIN);
                    pen.skip(2.0);
                }
                Block::Paragraph(t) => {
                    pen.text_block(t, Font::Regular, BODY_SIZE, MARGIN, PAGE_WIDTH - 2.0 * MARGIN);
                    pen.skip(5.0);
                }
                Block::Row(label, value) => pen.row(label, value),
                Block::Qr { data, caption } => pen.qr(data, caption)?,
            }
        }
        Ok(pen.finish())
    }
}

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }
}

/// Lays out lines top to bottom and starts a new page when one is full.
struct Pen {
    pages: Vec<Vec<Operation>>,
    ops: Vec<Operation>,
    y: f32,
}

impl Pen {
    fn new() -> Self {
        Pen { pages: Vec::new(), ops: Vec::new(), y: PAGE_HEIGHT - MARGIN }
    }

    fn skip(&mut self, points: f32) {
        self.y -= points;
    }

    /// Room for `height` more points, else a new page.
    fn need(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.pages.push(std::mem::take(&mut self.ops));
            self.y = PAGE_HEIGHT - MARGIN;
        }
    }

    fn line(&mut self, text: &str, font: Font, size: f32, x: f32) {
        self.ops.extend([
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec![font.resource().into(), size.into()]),
            Operation::new("Td", vec![x.into(), self.y.into()]),
            Operation::new("Tj", vec![Object::String(win_ansi(text), StringFormat::Literal)]),
            Operation::new("ET", vec![]),
        ]);
    }

    fn text_block(&mut self, text: &str, font: Font, size: f32, x: f32, width: f32) {
        for line in wrap(text, font, size, width) {
            let leading = size * 1.35;
            self.need(leading);
            self.y -= leading;
            self.line(&line, font, size, x);
        }
    }

    fn row(&mut self, label: &str, value: &str) {
        let leading = BODY_SIZE * 1.35;
        let labels = wrap(label, Font::Bold, BODY_SIZE, LABEL_WIDTH - 10.0);
        let values = wrap(value, Font::Regular, BODY_SIZE, PAGE_WIDTH - 2.0 * MARGIN - LABEL_WIDTH);
        let lines = labels.len().max(values.len()).max(1);
        self.need(leading * lines.min(3) as f32);
        for i in 0..lines {
            self.need(leading);
            self.y -= leading;
            if let Some(l) = labels.get(i) {
                self.line(l, Font::Bold, BODY_SIZE, MARGIN);
            }
            if let Some(v) = values.get(i) {
                self.line(v, Font::Regular, BODY_SIZE, MARGIN + LABEL_WIDTH);
            }
        }
        self.skip(3.0);
    }

    fn qr(&mut self, data: &str, caption: &str) -> Result<(), String> {
        let code = qrcode::QrCode::new(data.as_bytes()).map_err(|e| format!("QR code: {e}"))?;
        let modules = code.width();
        let quiet = 4.0;
        let module = 2.6_f32;
        let side = (modules as f32 + 2.0 * quiet) * module;
        self.skip(8.0);
        self.need(side);
        let top = self.y;
        let left = MARGIN;
        self.ops.push(Operation::new("q", vec![]));
        self.ops.push(Operation::new("rg", vec![0.into(), 0.into(), 0.into()]));
        for y in 0..modules {
            for x in 0..modules {
                if code[(x, y)] == qrcode::Color::Dark {
                    let px = left + (x as f32 + quiet) * module;
                    let py = top - (y as f32 + quiet + 1.0) * module;
                    self.ops.push(Operation::new("re", vec![px.into(), py.into(), module.into(), module.into()]));
                }
            }
        }
        self.ops.push(Operation::new("f", vec![]));
        self.ops.push(Operation::new("Q", vec![]));
        let caption_x = left + side + 12.0;
        let mut y = top;
        for line in wrap(caption, Font::Regular, BODY_SIZE, PAGE_WIDTH - MARGIN - caption_x) {
            y -= BODY_SIZE * 1.35;
            let saved = self.y;
            self.y = y;
            self.line(&line, Font::Regular, BODY_SIZE, caption_x);
            self.y = saved;
        }
        self.y = top - side;
        Ok(())
    }

    fn finish(mut self) -> Vec<Vec<Operation>> {
        if !self.ops.is_empty() || self.pages.is_empty() {
            self.pages.push(self.ops);
        }
        self.pages
    }
}

fn write(title: &str, pages: Vec<Vec<Operation>>, created: Timestamp) -> Result<Vec<u8>, String> {
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = |name: &str| {
        Object::Dictionary(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => name, "Encoding" => "WinAnsiEncoding",
        })
    };
    let regular = doc.add_object(font("Helvetica"));
    let bold = doc.add_object(font("Helvetica-Bold"));
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => regular, "F2" => bold } });
    let mut kids = Vec::new();
    for operations in pages {
        let content = Content { operations }.encode().map_err(|e| e.to_string())?;
        let mut stream = Stream::new(Dictionary::new(), content);
        stream.compress().map_err(|e| e.to_string())?;
        let content_id = doc.add_object(stream);
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(
        dictionary! { "Type" => "Catalog", "Pages" => pages_id, "Lang" => Object::string_literal("de-DE") },
    );
    let date = created.rfc3339().replace(['-', ':', 'T'], "").replace('Z', "");
    let info = doc.add_object(dictionary! {
        "Title" => Object::String(win_ansi(title), StringFormat::Literal),
        "Producer" => Object::string_literal("Kreishaus"),
        "CreationDate" => Object::string_literal(format!("D:{}Z", &date[..date.len().min(14)])),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Breaks text into lines no wider than `width` points (explicit line breaks kept; a word
/// longer than a line is cut).
fn wrap(text: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if text_width(&candidate, font, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut rest = word.to_owned();
            while text_width(&rest, font, size) > width {
                let mut cut = String::new();
                for c in rest.chars() {
                    if text_width(&format!("{cut}{c}"), font, size) > width {
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

/// The width of a text in points, from the Helvetica metrics (bold taken as 6% wider).
fn text_width(text: &str, font: Font, size: f32) -> f32 {
    let units: u32 = text.chars().map(helvetica_width).sum();
    let factor = match font {
        Font::Regular => 1.0,
        Font::Bold => 1.06,
    };
    units as f32 * size * factor / 1000.0
}

/// Helvetica glyph widths in thousandths of the font size (Adobe's AFM), for printable ASCII;
/// other characters count as a digit's width.
fn helvetica_width(c: char) -> u32 {
    const ASCII: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space – /
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 – ?
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ – O
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P – _
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` – o
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p – ~
    ];
    match c {
        ' '..='~' => u32::from(ASCII[c as usize - 32]),
        'Ä' => 667,
        'Ö' => 778,
        'Ü' => 722,
        'ß' => 611,
        _ => 556,
    }
}

/// The text as WinAnsi (Windows-1252) bytes, the encoding of the standard fonts.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{0}'..='\u{7f}' => c as u8,
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
        })
        .collect()
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
        let content = Content::decode(&doc.get_page_content(page)).expect("ops");
        let squares = content.operations.iter().filter(|o| o.operator == "re").count();
        assert!(squares > 100, "{squares} modules");
        assert!(text_of(&pdf).1.contains("Echtheit prüfen"));
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        let lines = wrap("Der Antrag auf Erteilung einer Fahrerlaubnis ist eingegangen", Font::Regular, 10.0, 100.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| text_width(l, Font::Regular, 10.0) <= 100.0));
    }
}
