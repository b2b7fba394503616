//! Tagged PDF (PDF 1.7, 14.7–14.8; PDF/UA-1, ISO 14289-1): every text and figure on a page is
//! marked content of a structure element (`H1`, `P`, `Table`, `TH`, `Figure`, …), so assistive
//! technology reads a document in order, with its headings, paragraphs, tables and the figures'
//! alternative texts. A writer lays out its pages and tells [`Tagged`] what each piece is;
//! [`Tagged::write`] adds the structure tree, the embedded fonts, the language, the title and
//! the metadata that identifies the file as PDF/UA-1.
//!
//! What PDF/UA-1 (and the Matterhorn protocol's checks) ask and a document written here has:
//! no content outside marked content of a structure element (nothing is drawn as an artifact);
//! only standard structure types; the parent tree from each page's MCIDs to their elements;
//! `MarkInfo /Marked true`; `Lang`; the title in the information dictionary and in the XMP
//! metadata (`dc:title`), shown by viewers (`DisplayDocTitle`); `pdfuaid:part` 1; header cells
//! with their `Scope`; figures with `Alt` and a bounding box; pages with the structure's tab
//! order; fonts embedded with a Unicode map of every glyph ([`super::font`]). Not checked by
//! veraPDF here (a Java tool not installable on this machine); poppler reads the tree back in
//! the tests.

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Object, ObjectId, Stream, dictionary};

use super::font::{Face, Fonts};
use super::text_string;

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;

/// A structure element: its role, its parent, its kids in reading order, and for a figure its
/// alternative text and bounding box.
struct Element {
    role: &'static str,
    parent: Option<usize>,
    kids: Vec<Kid>,
    figure: Option<(String, [f32; 4])>,
}

/// A kid of a structure element: marked content on a page (by page and MCID), or an element.
enum Kid {
    Content { page: usize, mcid: i64 },
    Element(usize),
}

/// Pages of content and their structure, laid out top to bottom within a margin: a line that
/// does not fit goes onto a new page.
pub struct Tagged {
    margin: f32,
    /// The baseline of the last line (the top margin on a new page).
    y: f32,
    pages: Vec<Vec<Operation>>,
    /// The structure tree; element 0 is the `Document`.
    elements: Vec<Element>,
    /// The element new elements go into.
    open: usize,
    /// Per page, the element of each MCID (the page's entry of the parent tree).
    owners: Vec<Vec<usize>>,
    fonts: Fonts,
}

impl Tagged {
    /// One empty page, with `margin` points on every side of every page.
    pub fn new(margin: f32) -> Tagged {
        Tagged {
            margin,
            y: PAGE_HEIGHT - margin,
            pages: vec![Vec::new()],
            elements: vec![Element { role: "Document", parent: None, kids: Vec::new(), figure: None }],
            open: 0,
            owners: vec![Vec::new()],
            fonts: Fonts::new(),
        }
    }

    /// The baseline of the last line.
    pub fn y(&self) -> f32 {
        self.y
    }

    /// Moves down by `points`.
    pub fn skip(&mut self, points: f32) {
        self.y -= points;
    }

    /// Goes on to a new page unless `height` more points fit on this one.
    pub fn keep(&mut self, height: f32) {
        if self.y - height < self.margin {
            self.pages.push(Vec::new());
            self.owners.push(Vec::new());
            self.y = PAGE_HEIGHT - self.margin;
        }
    }

    /// The baseline of a new line `height` points below the last one, on a new page when it
    /// does not fit.
    pub fn next_line(&mut self, height: f32) -> f32 {
        self.keep(height);
        self.y -= height;
        self.y
    }

    /// A new element in the open one.
    pub fn element(&mut self, role: &'static str) -> usize {
        let id = self.elements.len();
        self.elements.push(Element { role, parent: Some(self.open), kids: Vec::new(), figure: None });
        let open = self.open;
        self.elements[open].kids.push(Kid::Element(id));
        id
    }

    /// New elements go into `element` from now on; returns the element they went into.
    pub fn open(&mut self, element: usize) -> usize {
        std::mem::replace(&mut self.open, element)
    }

    /// `operations` on the current page as marked content of `owner`.
    fn mark(&mut self, owner: usize, operations: impl IntoIterator<Item = Operation>) {
        let page = self.pages.len() - 1;
        let mcid = self.owners[page].len() as i64;
        self.owners[page].push(owner);
        self.elements[owner].kids.push(Kid::Content { page, mcid });
        let role = self.elements[owner].role;
        let begin =
            Operation::new("BDC", vec![Object::Name(role.into()), Object::Dictionary(dictionary! { "MCID" => mcid })]);
        let current = &mut self.pages[page];
        current.push(begin);
        current.extend(operations);
        current.push(Operation::new("EMC", vec![]));
    }

    /// One line of `text` at (`x`, `y`) in `face` and `size`, belonging to `owner`.
    pub fn text(&mut self, owner: usize, face: Face, size: f32, (x, y): (f32, f32), text: &str) {
        let shown = self.fonts.show(face, text);
        self.mark(
            owner,
            [
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec![face.resource().into(), size.into()]),
                Operation::new("Td", vec![x.into(), y.into()]),
                Operation::new("Tj", vec![shown]),
                Operation::new("ET", vec![]),
            ],
        );
    }

    /// A `Figure` in the open element: `drawing` on the current page, inside `bbox` (left,
    /// bottom, right, top), read as `alt`.
    pub fn figure(&mut self, alt: &str, bbox: [f32; 4], drawing: Vec<Operation>) {
        let figure = self.element("Figure");
        self.elements[figure].figure = Some((alt.to_owned(), bbox));
        self.mark(figure, drawing);
    }

    /// The PDF: A4 pages, the structure tree, the fonts, and `title` as the document's title
    /// (shown by viewers instead of the file name) in the information and the metadata.
    /// `created` is a PDF date (`D:20261207120000Z`), if any.
    pub fn write(self, title: &str, created: Option<String>) -> Result<Vec<u8>, String> {
        let mut doc = lopdf::Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let fonts = self.fonts.embed(&mut doc)?;
        let resources = doc.add_object(dictionary! { "Font" => fonts });
        let mut page_ids = Vec::new();
        for (index, operations) in self.pages.into_iter().enumerate() {
            let mut content =
                Stream::new(Dictionary::new(), Content { operations }.encode().map_err(|e| e.to_string())?);
            content.compress().map_err(|e| e.to_string())?;
            let content = doc.add_object(content);
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
                "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
            }),
        );
        let root = structure_tree(&mut doc, &self.elements, &self.owners, &page_ids);
        let mut info = dictionary! { "Title" => text_string(title), "Producer" => Object::string_literal("Kreishaus") };
        if let Some(created) = created {
            info.set("CreationDate", Object::string_literal(created));
        }
        let info = doc.add_object(info);
        let metadata = doc.add_object(Stream::new(
            dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
            xmp_metadata(title).into_bytes(),
        ));
        let catalog = doc.add_object(dictionary! {
            "Type" => "Catalog", "Pages" => pages_id, "StructTreeRoot" => root,
            "MarkInfo" => dictionary! { "Marked" => true }, "Lang" => Object::string_literal("de-DE"),
            "ViewerPreferences" => dictionary! { "DisplayDocTitle" => true }, "Metadata" => metadata,
        });
        doc.trailer.set("Root", catalog);
        doc.trailer.set("Info", info);
        let mut out = Vec::new();
        doc.save_to(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// Writes the structure elements and the parent tree (each page's MCIDs to their elements);
/// returns the structure tree root.
fn structure_tree(
    doc: &mut lopdf::Document,
    elements: &[Element],
    owners: &[Vec<usize>],
    pages: &[ObjectId],
) -> ObjectId {
    let root = doc.new_object_id();
    let ids: Vec<ObjectId> = elements.iter().map(|_| doc.new_object_id()).collect();
    for (index, element) in elements.iter().enumerate() {
        let kids: Vec<Object> = element
            .kids
            .iter()
            .map(|kid| match *kid {
                Kid::Element(e) => ids[e].into(),
                Kid::Content { page, mcid } => {
                    Object::Dictionary(dictionary! { "Type" => "MCR", "Pg" => pages[page], "MCID" => mcid })
                }
            })
            .collect();
        let parent = element.parent.map_or(root, |p| ids[p]);
        let mut dict = dictionary! { "Type" => "StructElem", "S" => element.role, "P" => parent, "K" => kids };
        if let Some(scope) = header_scope(elements, index) {
            dict.set("A", dictionary! { "O" => "Table", "Scope" => scope });
        }
        if let Some((alt, bbox)) = &element.figure {
            dict.set("Alt", text_string(alt));
            dict.set("A", dictionary! { "O" => "Layout", "BBox" => bbox.map(Object::from).to_vec() });
        }
        doc.objects.insert(ids[index], Object::Dictionary(dict));
    }
    let mut nums = Vec::new();
    for (page, owners) in owners.iter().enumerate() {
        nums.push(Object::from(page as i64));
        nums.push(Object::Array(owners.iter().map(|e| ids[*e].into()).collect()));
    }
    doc.objects.insert(
        root,
        Object::Dictionary(dictionary! {
            "Type" => "StructTreeRoot", "K" => ids[0],
            "ParentTree" => dictionary! { "Nums" => nums }, "ParentTreeNextKey" => owners.len() as i64,
        }),
    );
    root
}

/// What a header cell heads (PDF/UA requires it of a table without header ids): its column
/// when its whole row is header cells, else its row.
fn header_scope(elements: &[Element], index: usize) -> Option<&'static str> {
    let element = &elements[index];
    if element.role != "TH" {
        return None;
    }
    let row = &elements[element.parent?];
    let all_headers = row.kids.iter().all(|kid| matches!(kid, Kid::Element(e) if elements[*e].role == "TH"));
    Some(if all_headers { "Column" } else { "Row" })
}

/// The XMP metadata (ISO 16684-1) PDF/UA-1 asks for: the title, the language, and the
/// PDF/UA identification.
fn xmp_metadata(title: &str) -> String {
    let title = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\">\n\
         <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n\
         <dc:language><rdf:Bag><rdf:li>de-DE</rdf:li></rdf:Bag></dc:language>\n\
         <pdf:Producer>Kreishaus</pdf:Producer>\n\
         <pdfuaid:part>1</pdfuaid:part>\n\
         </rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
}
