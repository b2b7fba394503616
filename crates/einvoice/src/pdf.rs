//! ZUGFeRD 2.x / Factur-X: the invoice XML embedded in a PDF/A-3 as an associated file.
//!
//! The attachment is looked up in the catalog's `/AF` array (PDF/A-3 associated files) and in
//! the `/Names` → `/EmbeddedFiles` name tree, by the file names the specifications use:
//! `factur-x.xml`, `zugferd-invoice.xml`, `xrechnung.xml` (and ZUGFeRD 1's `ZUGFeRD-invoice.xml`).
//! Input is bounded: the PDF's size, the decompressed size of every stream, the depth of the
//! name tree; an encrypted PDF is refused (PDF/A forbids encryption).

use lopdf::{Dictionary, Document, LoadOptions, Object};
use std::fmt;

/// The attachment names of ZUGFeRD 2.x / Factur-X (first), XRechnung in a PDF, ZUGFeRD 1.
pub const INVOICE_FILE_NAMES: [&str; 4] =
    ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "ZUGFeRD-invoice.xml"];

/// Largest accepted embedded XML after decompression.
pub const MAX_XML_BYTES: usize = crate::reader::DEFAULT_MAX_BYTES;
/// Deepest name tree followed.
const MAX_TREE_DEPTH: usize = 16;

/// Why no invoice XML came out of a PDF; each reads as a reason the sender can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfError {
    /// The input does not start like a PDF.
    NotPdf,
    /// The PDF is larger than the limit.
    TooLarge { size: usize, limit: usize },
    /// The PDF is encrypted.
    Encrypted,
    /// The PDF cannot be parsed.
    Malformed(String),
    /// The PDF has no embedded invoice XML.
    NoAttachment { found: Vec<String> },
    /// The embedded XML decompresses to more than the limit, or cannot be decompressed.
    BadAttachment(String),
}

impl fmt::Display for PdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdfError::NotPdf => f.write_str("The file is not a PDF (it does not start with %PDF-)."),
            PdfError::TooLarge { size, limit } => {
                write!(f, "The PDF has {size} bytes; at most {limit} bytes are accepted.")
            }
            PdfError::Encrypted => f.write_str(
                "The PDF is encrypted; a ZUGFeRD/Factur-X invoice must be an unencrypted PDF/A-3. Please send it without password protection.",
            ),
            PdfError::Malformed(e) => write!(f, "The PDF cannot be read ({e})."),
            PdfError::NoAttachment { found } if found.is_empty() => f.write_str(
                "The PDF has no embedded invoice: a ZUGFeRD/Factur-X PDF carries factur-x.xml (or zugferd-invoice.xml, xrechnung.xml) as an attachment. Please send the e-invoice, not only its printout.",
            ),
            PdfError::NoAttachment { found } => write!(
                f,
                "The PDF has attachments ({}) but none named factur-x.xml, zugferd-invoice.xml or xrechnung.xml.",
                found.join(", ")
            ),
            PdfError::BadAttachment(e) => write!(f, "The embedded invoice XML cannot be extracted ({e})."),
        }
    }
}

impl std::error::Error for PdfError {}

/// `true` if the bytes start like a PDF (leading white space tolerated).
pub fn is_pdf(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[start..].starts_with(b"%PDF-")
}

/// An embedded invoice: its attachment name and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    pub name: String,
    pub xml: Vec<u8>,
}

/// Extracts the invoice XML from a ZUGFeRD / Factur-X PDF of at most `max_bytes`.
pub fn extract(bytes: &[u8], max_bytes: usize) -> Result<Embedded, PdfError> {
    if !is_pdf(bytes) {
        return Err(PdfError::NotPdf);
    }
    if bytes.len() > max_bytes {
        return Err(PdfError::TooLarge { size: bytes.len(), limit: max_bytes });
    }
    let options = LoadOptions { max_decompressed_size: Some(MAX_XML_BYTES), ..LoadOptions::default() };
    let doc = match Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(_) if has_encrypt_entry(bytes) => return Err(PdfError::Encrypted),
        Err(e) => return Err(PdfError::Malformed(e.to_string())),
    };
    if doc.is_encrypted() || doc.was_encrypted() {
        return Err(PdfError::Encrypted);
    }
    let catalog = doc.catalog().map_err(|e| PdfError::Malformed(e.to_string()))?;
    let mut specs = Vec::new();
    if let Ok(af) = catalog.get_deref(b"AF", &doc).and_then(Object::as_array) {
        specs.extend(af.iter().filter_map(|o| doc.dereference(o).ok()).filter_map(|(_, o)| o.as_dict().ok()));
    }
    if let Ok(tree) = catalog
        .get_deref(b"Names", &doc)
        .and_then(Object::as_dict)
        .and_then(|names| names.get_deref(b"EmbeddedFiles", &doc))
        .and_then(Object::as_dict)
    {
        name_tree_values(&doc, tree, 0, &mut specs);
    }
    let named: Vec<(String, &Dictionary)> = specs.into_iter().map(|spec| (file_name(spec), spec)).collect();
    for wanted in INVOICE_FILE_NAMES {
        if let Some((name, spec)) = named.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)) {
            return embedded_file(&doc, spec).map(|xml| Embedded { name: name.clone(), xml });
        }
    }
    let mut found: Vec<String> = named.into_iter().map(|(name, _)| name).collect();
    found.sort();
    found.dedup();
    Err(PdfError::NoAttachment { found })
}

/// A trailer `/Encrypt` entry, seen in the raw bytes when the PDF cannot even be loaded.
fn has_encrypt_entry(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|w| w == b"/Encrypt")
}

/// The values (file specifications) of a name tree, depth-bounded.
fn name_tree_values<'d>(doc: &'d Document, node: &'d Dictionary, depth: usize, out: &mut Vec<&'d Dictionary>) {
    if depth > MAX_TREE_DEPTH {
        return;
    }
    if let Ok(names) = node.get_deref(b"Names", doc).and_then(Object::as_array) {
        // [key1 value1 key2 value2 …]
        for value in names.iter().skip(1).step_by(2) {
            if let Ok((_, Object::Dictionary(spec))) = doc.dereference(value) {
                out.push(spec);
            }
        }
    }
    if let Ok(kids) = node.get_deref(b"Kids", doc).and_then(Object::as_array) {
        for kid in kids {
            if let Ok((_, Object::Dictionary(kid))) = doc.dereference(kid) {
                name_tree_values(doc, kid, depth + 1, out);
            }
        }
    }
}

/// The file name of a file specification (`/UF`, else `/F`).
fn file_name(spec: &Dictionary) -> String {
    [b"UF".as_slice(), b"F".as_slice()]
        .iter()
        .filter_map(|key| spec.get(key).ok())
        .find_map(|o| lopdf::decode_text_string(o).ok())
        .unwrap_or_default()
}

/// The decompressed content of a file specification's embedded file stream (`/EF` `/F`).
fn embedded_file(doc: &Document, spec: &Dictionary) -> Result<Vec<u8>, PdfError> {
    let ef = spec.get_deref(b"EF", doc).and_then(Object::as_dict).map_err(|_| bad("no /EF entry"))?;
    let stream = ef
        .get_deref(b"F", doc)
        .or_else(|_| ef.get_deref(b"UF", doc))
        .and_then(Object::as_stream)
        .map_err(|_| bad("no embedded file stream"))?;
    stream.get_plain_content_with_limit(MAX_XML_BYTES).map_err(|e| bad(&e.to_string()))
}

fn bad(what: &str) -> PdfError {
    PdfError::BadAttachment(what.to_string())
}

/// Builds a PDF with the given attachments, registered both in `/AF` and in the
/// `/EmbeddedFiles` name tree, the embedded streams Flate-compressed — the shape of a
/// ZUGFeRD/Factur-X PDF. Used by tests and the fuzz seeds.
pub fn build_with_attachments(files: &[(&str, &[u8])]) -> Vec<u8> {
    use lopdf::{Stream, dictionary};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
    );
    let mut af = Vec::new();
    let mut names = Vec::new();
    for (name, content) in files {
        let mut stream =
            Stream::new(dictionary! { "Type" => "EmbeddedFile", "Subtype" => "text#2Fxml" }, content.to_vec());
        // Compression only fails on an I/O error of the in-memory writer; then the stream stays plain.
        let _ = stream.compress();
        let stream_id = doc.add_object(stream);
        let spec = doc.add_object(dictionary! {
            "Type" => "Filespec",
            "F" => Object::string_literal(*name),
            "UF" => lopdf::text_string(name),
            "AFRelationship" => "Alternative",
            "EF" => dictionary! { "F" => stream_id, "UF" => stream_id },
        });
        af.push(Object::Reference(spec));
        names.push(lopdf::text_string(name));
        names.push(Object::Reference(spec));
    }
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "AF" => af,
        "Names" => dictionary! { "EmbeddedFiles" => dictionary! { "Names" => names } },
    });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = doc.save_to(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &[u8] =
        b"<rsm:CrossIndustryInvoice xmlns:rsm=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\"/>";

    #[test]
    fn the_factur_x_attachment_is_extracted() {
        let pdf = build_with_attachments(&[("logo.png", b"\x89PNG"), ("factur-x.xml", XML)]);
        let embedded = extract(&pdf, 1 << 20).expect("extracts");
        assert_eq!(embedded.name, "factur-x.xml");
        assert_eq!(embedded.xml, XML);
    }

    #[test]
    fn bad_pdfs_are_refused_with_a_reason() {
        assert_eq!(extract(b"<xml/>", 1 << 20), Err(PdfError::NotPdf));
        let without = build_with_attachments(&[]);
        assert_eq!(extract(&without, 1 << 20), Err(PdfError::NoAttachment { found: vec![] }));
        let other = build_with_attachments(&[("notes.txt", b"hello")]);
        let err = extract(&other, 1 << 20).expect_err("no invoice");
        assert!(err.to_string().contains("notes.txt"), "{err}");
        assert!(matches!(extract(&without, 10), Err(PdfError::TooLarge { limit: 10, .. })));
        assert!(matches!(extract(b"%PDF-1.7\n garbage", 1 << 20), Err(PdfError::Malformed(_))));
    }

    #[test]
    fn an_encrypted_pdf_is_refused() {
        use lopdf::dictionary;
        let mut doc = Document::load_mem(&build_with_attachments(&[("factur-x.xml", XML)])).expect("loads");
        let encrypt = doc.add_object(dictionary! {
            "Filter" => "Standard", "V" => 1, "R" => 2, "P" => -4, "Length" => 40,
            "O" => Object::string_literal(vec![0u8; 32]), "U" => Object::string_literal(vec![0u8; 32]),
        });
        doc.trailer.set("Encrypt", encrypt);
        doc.trailer.set("ID", vec![Object::string_literal(vec![1u8; 16]), Object::string_literal(vec![1u8; 16])]);
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).expect("saves");
        let err = extract(&pdf, 1 << 20).expect_err("refused");
        assert_eq!(err, PdfError::Encrypted);
        assert!(err.to_string().contains("encrypted"));
    }
}
