//! The secure reader: bytes in, a parsed XML tree and the detected syntax out.
//!
//! Outside data is hostile until proven otherwise, so the reader bounds the input size and the
//! nesting depth, refuses any document type declaration (no entities, so no entity-expansion
//! bombs and no external entities), never touches the network, and says precisely why it refused.

use std::borrow::Cow;
use std::fmt;

/// Namespaces that identify the three syntaxes (and those the rules need).
pub mod ns {
    pub const UBL_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
    pub const UBL_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
    pub const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
    pub const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
    pub const EXT: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2";
    pub const CII: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
    pub const RAM: &str = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
    pub const UDT: &str = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
    pub const QDT: &str = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100";
}

/// Largest accepted input unless the caller says otherwise (20 MB).
pub const DEFAULT_MAX_BYTES: usize = 20 * 1024 * 1024;
/// Deepest accepted element nesting; real invoices stay below 20.
pub const MAX_DEPTH: usize = 256;
/// Most accepted XML nodes; bounds memory independently of the byte size.
const MAX_NODES: u32 = 2_000_000;

/// The e-invoice syntax, detected from the root element and its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// OASIS UBL 2.1 `Invoice`.
    UblInvoice,
    /// OASIS UBL 2.1 `CreditNote`.
    UblCreditNote,
    /// UN/CEFACT `CrossIndustryInvoice` (D16B), the XML inside ZUGFeRD/Factur-X.
    Cii,
}

impl Syntax {
    /// Detects the syntax of a root element, if it is one of the three.
    pub fn of_root(root: roxmltree::Node<'_, '_>) -> Option<Syntax> {
        let name = root.tag_name();
        match (name.namespace(), name.name()) {
            (Some(ns::UBL_INVOICE), "Invoice") => Some(Syntax::UblInvoice),
            (Some(ns::UBL_CREDIT_NOTE), "CreditNote") => Some(Syntax::UblCreditNote),
            (Some(ns::CII), "CrossIndustryInvoice") => Some(Syntax::Cii),
            _ => None,
        }
    }

    /// `true` for both UBL roots.
    pub fn is_ubl(self) -> bool {
        matches!(self, Syntax::UblInvoice | Syntax::UblCreditNote)
    }

    /// Stable lower-case name, as the CLI prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Syntax::UblInvoice => "ubl-invoice",
            Syntax::UblCreditNote => "ubl-creditnote",
            Syntax::Cii => "cii",
        }
    }
}

/// Why an input was refused. Every variant reads as a reason the sender can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The input is empty or only whitespace.
    Empty,
    /// The input exceeds the size limit.
    TooLarge { size: usize, limit: usize },
    /// The input is a PDF; the embedded XML must be extracted first.
    Pdf,
    /// The input holds bytes that never occur in a text document.
    Binary,
    /// The XML declaration names an encoding the bytes do not match or the reader does not know.
    Encoding { declared: String, reason: String },
    /// A document type declaration (DTD, entities) is present.
    Dtd,
    /// The text is not well-formed XML.
    NotXml(String),
    /// Elements nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The root element is not a UBL Invoice, UBL CreditNote or CII CrossIndustryInvoice.
    WrongRoot { namespace: Option<String>, name: String },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Empty => write!(f, "the file is empty"),
            ReadError::TooLarge { size, limit } => {
                write!(f, "the file has {size} bytes; at most {limit} bytes are accepted")
            }
            ReadError::Pdf => {
                write!(f, "the file is a PDF, not XML; send the XML invoice or a PDF/A-3 with the XML attached")
            }
            ReadError::Binary => write!(f, "the file holds binary data, not XML text"),
            ReadError::Encoding { declared, reason } => {
                write!(f, "the XML declaration says encoding \"{declared}\", but {reason}")
            }
            ReadError::Dtd => write!(
                f,
                "the XML holds a document type declaration (DTD or entities), which e-invoices must not contain"
            ),
            ReadError::NotXml(detail) => write!(f, "the file is not well-formed XML: {detail}"),
            ReadError::TooDeep => write!(f, "the XML nests elements deeper than {MAX_DEPTH} levels"),
            ReadError::WrongRoot { namespace, name } => write!(
                f,
                "the root element {{{}}}{name} is not a UBL Invoice, UBL CreditNote or CII CrossIndustryInvoice",
                namespace.as_deref().unwrap_or("")
            ),
        }
    }
}

impl std::error::Error for ReadError {}

/// Turns raw bytes into XML text: checks size, binary content, byte-order marks and the declared
/// encoding. UTF-8 (with or without BOM) is borrowed; UTF-16 (by its byte-order mark, as XML
/// requires it), ISO-8859-1 and windows-1252 are decoded, as the KoSIT validator's XML parser
/// reads them; every other declared encoding is refused unless the bytes are plain ASCII.
pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<Cow<'_, str>, ReadError> {
    if bytes.len() > max_bytes {
        return Err(ReadError::TooLarge { size: bytes.len(), limit: max_bytes });
    }
    if bytes.starts_with(b"%PDF") {
        return Err(ReadError::Pdf);
    }
    if let Some(text) = utf16(bytes) {
        return text.map(Cow::Owned);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty);
    }
    if memchr::memchr(0, bytes).is_some() {
        return Err(ReadError::Binary);
    }
    let declared = declared_encoding(bytes);
    let label = declared.as_deref().map(str::to_ascii_lowercase);
    match label.as_deref() {
        None | Some("utf-8" | "utf8") => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(_) if declared.is_some() => Err(ReadError::Encoding {
                declared: declared.unwrap_or_default(),
                reason: "the bytes are not valid UTF-8".into(),
            }),
            Err(_) => Err(ReadError::Binary),
        },
        Some(_) if bytes.is_ascii() => Ok(Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default())),
        Some("iso-8859-1" | "latin1" | "latin-1" | "iso_8859-1") => {
            Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()))
        }
        Some("windows-1252" | "cp1252") => {
            bytes.iter().map(|&b| windows_1252(b)).collect::<Option<String>>().map_or_else(
                || {
                    Err(ReadError::Encoding {
                        declared: declared.unwrap_or_default(),
                        reason: "the bytes hold one that windows-1252 leaves undefined".into(),
                    })
                },
                |text| Ok(Cow::Owned(text)),
            )
        }
        Some(_) => Err(ReadError::Encoding {
            declared: declared.unwrap_or_default(),
            reason: "only UTF-8, UTF-16, ISO-8859-1 and windows-1252 are accepted; convert the file to UTF-8".into(),
        }),
    }
}

/// The character of a windows-1252 byte: ISO-8859-1 but for 0x80–0x9F, where five bytes are
/// undefined.
fn windows_1252(byte: u8) -> Option<char> {
    const HIGH: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D,
        0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,
        0x017E, 0x0178,
    ];
    match byte {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(byte - 0x80)])).filter(|&c| c != '\0'),
        _ => Some(char::from(byte)),
    }
}

/// The text of a UTF-16 document (little or big endian by its byte-order mark), if it is one:
/// its units must form characters, none of them NUL, and a declared encoding must be UTF-16.
fn utf16(bytes: &[u8]) -> Option<Result<String, ReadError>> {
    let unit: fn([u8; 2]) -> u16 = match bytes {
        [0xFF, 0xFE, ..] => u16::from_le_bytes,
        [0xFE, 0xFF, ..] => u16::from_be_bytes,
        _ => return None,
    };
    let invalid =
        |declared: &str, reason: &str| ReadError::Encoding { declared: declared.into(), reason: reason.into() };
    let body = &bytes[2..];
    if !body.len().is_multiple_of(2) {
        return Some(Err(invalid("UTF-16", "the bytes are not valid UTF-16 (an odd number of bytes)")));
    }
    let units = body.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let Ok(text) = char::decode_utf16(units).collect::<Result<String, _>>() else {
        return Some(Err(invalid("UTF-16", "the bytes are not valid UTF-16 (an unpaired surrogate)")));
    };
    if text.trim().is_empty() {
        return Some(Err(ReadError::Empty));
    }
    if text.contains('\0') {
        return Some(Err(ReadError::Binary));
    }
    Some(match declared_encoding(text.as_bytes()) {
        Some(declared) if !declared.to_ascii_lowercase().starts_with("utf-16") => {
            Err(invalid(&declared, "the file is UTF-16 by its byte-order mark"))
        }
        _ => Ok(text),
    })
}

/// The `encoding` pseudo-attribute of the XML declaration, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.strip_prefix(b"<?xml")?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let rest = &decl[decl.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    let value = rest.get(1..)?;
    Some(value[..value.find(quote)?].to_string())
}

/// Parses XML text without DTD support, bounded in nodes and depth.
pub fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, ReadError> {
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => ReadError::Dtd,
        other => ReadError::NotXml(other.to_string()),
    })?;
    check_depth(doc.root_element())?;
    Ok(doc)
}

fn check_depth(root: roxmltree::Node<'_, '_>) -> Result<(), ReadError> {
    let mut stack = vec![(root, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(ReadError::TooDeep);
        }
        stack.extend(node.children().filter(roxmltree::Node::is_element).map(|c| (c, depth + 1)));
    }
    Ok(())
}

/// Parses XML text and detects the syntax from its root element.
pub fn parse(text: &str) -> Result<(roxmltree::Document<'_>, Syntax), ReadError> {
    let doc = parse_xml(text)?;
    let root = doc.root_element();
    let syntax = Syntax::of_root(root).ok_or_else(|| ReadError::WrongRoot {
        namespace: root.tag_name().namespace().map(str::to_string),
        name: root.tag_name().name().to_string(),
    })?;
    Ok((doc, syntax))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UBL: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"#;

    fn read(bytes: &[u8]) -> Result<Syntax, ReadError> {
        let text = decode(bytes, 1000)?;
        parse(&text).map(|(_, syntax)| syntax)
    }

    #[test]
    fn the_three_syntaxes_are_detected_from_the_root() {
        assert_eq!(read(UBL.as_bytes()), Ok(Syntax::UblInvoice));
        let cn = r#"<cn:CreditNote xmlns:cn="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"/>"#;
        assert_eq!(read(cn.as_bytes()), Ok(Syntax::UblCreditNote));
        let cii =
            r#"<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>"#;
        assert_eq!(read(cii.as_bytes()), Ok(Syntax::Cii));
    }

    #[test]
    fn a_wrong_root_or_namespace_is_refused() {
        assert!(matches!(read(b"<Invoice/>"), Err(ReadError::WrongRoot { .. })));
        assert!(matches!(read(b"<html xmlns='x'/>"), Err(ReadError::WrongRoot { .. })));
    }

    #[test]
    fn bad_input_gets_a_specific_reason() {
        assert_eq!(read(b""), Err(ReadError::Empty));
        assert_eq!(read(b"%PDF-1.7 ..."), Err(ReadError::Pdf));
        assert_eq!(read(&[0x50, 0x4b, 0x03, 0x04, 0x00, 0x01]), Err(ReadError::Binary));
        assert!(matches!(read(&[0xff, 0xfe, b'<', 0, b'x']), Err(ReadError::Encoding { .. })));
        assert!(matches!(read(&[0xfe, 0xff, 0xdc, 0x00, 0, b'<']), Err(ReadError::Encoding { .. })));
        assert_eq!(read(&[0xff, 0xfe, 0, 0, b'<', 0]), Err(ReadError::Binary));
        assert!(matches!(read(b"hello"), Err(ReadError::NotXml(_))));
        assert!(matches!(read(&[b'a'; 1001]), Err(ReadError::TooLarge { size: 1001, limit: 1000 })));
    }

    #[test]
    fn entity_declarations_and_external_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Invoice>&lol2;</Invoice>"#;
        assert_eq!(read(bomb.as_bytes()), Err(ReadError::Dtd));
        let xxe = r#"<!DOCTYPE x [<!ENTITY e SYSTEM "http://example.org/">]><x>&e;</x>"#;
        assert_eq!(read(xxe.as_bytes()), Err(ReadError::Dtd));
    }

    #[test]
    fn a_declared_encoding_must_match_the_bytes() {
        let latin = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">M\xfcller</Invoice>";
        assert!(matches!(read(latin), Err(ReadError::Encoding { .. })));
        let declared_latin = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">M\xfcller</Invoice>";
        assert_eq!(read(declared_latin), Ok(Syntax::UblInvoice));
        let windows = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">M\xfcller \x80 \x84Z\x93</Invoice>";
        assert!(decode(windows, 1000).is_ok_and(|text| text.contains("Müller € „Z“")));
        let undefined = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><x>\x81</x>";
        assert!(matches!(read(undefined), Err(ReadError::Encoding { .. })));
        let ebcdic = b"<?xml version=\"1.0\" encoding=\"EBCDIC\"?><x>\xc1</x>";
        assert!(matches!(read(ebcdic), Err(ReadError::Encoding { .. })));
    }

    #[test]
    fn utf16_with_its_byte_order_mark_is_read_as_the_same_text() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">Müller 𝄞</Invoice>";
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        for bytes in [&le, &be] {
            assert_eq!(decode(bytes, 10_000).as_deref(), Ok(text));
            assert_eq!(read(bytes), Ok(Syntax::UblInvoice));
        }
        // A UTF-16 file that declares another encoding is refused with both named.
        let wrong = text.replace("UTF-16", "UTF-8");
        let wrong: Vec<u8> = [0xFF, 0xFE].into_iter().chain(wrong.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let Err(error) = decode(&wrong, 10_000) else { panic!("accepted") };
        assert_eq!(
            error.to_string(),
            "the XML declaration says encoding \"UTF-8\", but the file is UTF-16 by its byte-order mark"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert_eq!(parse_xml(&deep).err(), Some(ReadError::TooDeep));
    }
}
