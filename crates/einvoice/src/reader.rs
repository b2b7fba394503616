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

/// Turns raw bytes into XML text: checks size, binary content, byte-order marks and the XML
/// declaration, and decodes the declared encoding as the KoSIT validator's XML parser (the JDK's
/// Xerces) reads it. UTF-8 (with or without BOM, the default) is borrowed; UTF-16 (by its
/// byte-order mark, or by `<?xml` in UTF-16 at the start), ISO-8859-1, ISO-8859-15 and
/// windows-1252 are decoded; any other encoding the JDK knows is read if the bytes are ASCII;
/// an encoding name the JDK does not know is refused, as Xerces refuses it.
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
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty);
    }
    if memchr::memchr(0, bytes).is_some() {
        return Err(ReadError::Binary);
    }
    if bytes.starts_with(UTF8_BOM) {
        return Err(second_byte_order_mark());
    }
    let Some(declared) = Declaration::read(bytes)?.encoding else {
        return std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|_| ReadError::Binary);
    };
    let invalid = |reason: &str| ReadError::Encoding { declared: declared.to_string(), reason: reason.into() };
    let charset = Charset::of(declared);
    match charset {
        // Xerces reads "UTF-8" itself and refuses malformed bytes; other spellings of UTF-8 go to
        // the JDK's decoder, which replaces them with U+FFFD.
        Charset::Utf8 => {
            std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|_| invalid("the bytes are not valid UTF-8"))
        }
        Charset::Utf8Replacing => Ok(String::from_utf8_lossy(bytes)),
        Charset::Utf16 => Err(invalid(
            "the file does not start with a UTF-16 byte-order mark or with \"<?xml\" in UTF-16; save it as UTF-8 and declare encoding=\"UTF-8\"",
        )),
        Charset::Unknown => Err(invalid(
            "the KoSIT validator's XML parser does not read that encoding; save the file as UTF-8 and declare encoding=\"UTF-8\"",
        )),
        _ if bytes.is_ascii() => Ok(Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default())),
        Charset::Latin1 => Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())),
        Charset::Latin9 => Ok(Cow::Owned(bytes.iter().map(|&b| iso_8859_15(b)).collect())),
        Charset::Windows1252 => Ok(Cow::Owned(bytes.iter().map(|&b| windows_1252(b)).collect())),
        Charset::AsciiReplacing => {
            Ok(Cow::Owned(bytes.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '\u{FFFD}' }).collect()))
        }
        Charset::Ascii => Err(invalid(
            "the bytes are not ASCII (one is above 127); save the file as UTF-8 and declare encoding=\"UTF-8\"",
        )),
        Charset::OtherAscii => Err(invalid(
            "only UTF-8, UTF-16, ISO-8859-1, ISO-8859-15 and windows-1252 are read beyond ASCII; save the file as UTF-8 and declare encoding=\"UTF-8\"",
        )),
    }
}

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

fn second_byte_order_mark() -> ReadError {
    ReadError::NotXml("the file starts with two byte-order marks (U+FEFF); remove the second one".into())
}

/// How the JDK's Xerces reads a declared encoding, by its name (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    /// "UTF-8", read by Xerces itself: malformed bytes are refused.
    Utf8,
    /// Other spellings of UTF-8 (the JDK's decoder: malformed bytes become U+FFFD).
    Utf8Replacing,
    /// UTF-16 or UCS-2, which needs a byte-order mark or `<?xml` in UTF-16 at the start.
    Utf16,
    /// ISO-8859-1 and its aliases.
    Latin1,
    /// ISO-8859-15 (Latin-9, with the euro sign) and its aliases.
    Latin9,
    /// windows-1252 (the JDK's decoder: its five undefined bytes become U+FFFD).
    Windows1252,
    /// US-ASCII by the names Xerces reads itself: a byte above 127 is refused.
    Ascii,
    /// Other names of US-ASCII (the JDK's decoder: a byte above 127 becomes U+FFFD).
    AsciiReplacing,
    /// Another encoding the JDK reads, ASCII-compatible: read here if the bytes are ASCII.
    OtherAscii,
    /// Not an encoding the JDK reads (or not ASCII-compatible, as EBCDIC or UTF-32).
    Unknown,
}

impl Charset {
    fn of(name: &str) -> Charset {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "utf-8" => Charset::Utf8,
            "utf8" | "unicode-1-1-utf-8" => Charset::Utf8Replacing,
            "utf-16" | "utf-16le" | "utf-16be" | "iso-10646-ucs-2" => Charset::Utf16,
            "iso-8859-1" | "iso_8859-1" | "iso8859-1" | "iso8859_1" | "iso_8859_1" | "latin1" | "l1" | "cp819"
            | "ibm819" | "ibm-819" | "csisolatin1" | "iso-ir-100" => Charset::Latin1,
            "iso-8859-15" | "iso_8859-15" | "iso8859-15" | "iso8859_15" | "iso8859_15_fdis" | "latin-9" | "latin9"
            | "latin0" | "l9" | "csiso885915" | "csisolatin9" | "csisolatin0" | "cp923" | "ibm923" | "ibm-923" => {
                Charset::Latin9
            }
            "windows-1252" | "cp1252" | "cp5348" | "ibm1252" | "ibm-1252" => Charset::Windows1252,
            "us-ascii" | "ascii" | "us" | "iso646-us" | "ansi_x3.4-1968" | "ansi_x3.4-1986" | "cp367" | "ibm367"
            | "ibm-367" | "csascii" | "iso-ir-6" => Charset::Ascii,
            "ascii7" | "default" => Charset::AsciiReplacing,
            other if OTHER_ASCII_ENCODINGS.split(' ').any(|known| known == other) => Charset::OtherAscii,
            _ => Charset::Unknown,
        }
    }
}

/// The other ASCII-compatible encodings the JDK's Xerces reads, by every name it takes: Xerces's
/// IANA table and the JDK's charset names and aliases, valid XML encoding names, lower case.
// 459 labels from OpenJDK 17.0.15, printed by `bench/reader_differential.py --jdk-encodings`.
const OTHER_ASCII_ENCODINGS: &str = "\
ansi-1251 arabic asmo-708 big5 big5-hkscs big5-hkscs-2001 big5_hkscs big5_hkscs_2001 big5_solaris \
big5hk big5hk-2001 big5hkscs big5hkscs-2001 ccsid00858 cesu-8 cesu8 cns11643 cp-ar cp-gr cp-is \
cp00858 cp1006 cp1046 cp1089 cp1098 cp1124 cp1129 cp1250 cp1251 cp1253 cp1254 cp1255 cp1256 cp1257 \
cp1258 cp1381 cp1383 cp29626c cp437 cp50220 cp50221 cp5346 cp5347 cp5349 cp5350 cp5353 cp737 cp775 \
cp813 cp850 cp852 cp855 cp856 cp857 cp858 cp860 cp861 cp862 cp863 cp865 cp866 cp868 cp869 cp874 \
cp912 cp913 cp914 cp915 cp916 cp920 cp921 cp922 cp932 cp936 cp942c cp943c cp948 cp949c cp950 cp964 \
cp970 cpeuccn csbig5 cscesu-8 cseuckr cseucpkdfmtjapanese csgb2312 cshalfwidthkatakana csibm855 \
csibm857 csibm860 csibm861 csibm862 csibm863 csibm865 csibm866 csibm868 csibm869 csiso13jisc6220jp \
csiso153gost1976874 csiso2022jp csiso2022jp2 csiso2022kr csiso885916 csisolatin2 csisolatin3 \
csisolatin4 csisolatin5 csisolatinarabic csisolatincyrillic csisolatingreek csisolatinhebrew \
csjisencoding cskoi8r csksc56011987 cspc775baltic cspc850multilingual cspc862latinhebrew \
cspc8codepage437 cspcp852 cspcp855 csshiftjis cswindows31j cyrillic ecma-114 ecma-118 elot_928 \
euc-cn euc-jp euc-jp-linux euc-kr euc-tw euc_cn euc_jp euc_jp_linux euc_jp_solaris euc_kr euc_tw \
euccn eucjis eucjp eucjp-open euckr euctw extended_unix_code_packed_format_for_japanese gb18030 \
gb18030-2022 gb2312 gb2312-1980 gb2312-80 gbk greek greek8 hebrew ibm-1006 ibm-1046 ibm-1089 \
ibm-1098 ibm-1124 ibm-1129 ibm-1381 ibm-1383 ibm-29626c ibm-437 ibm-737 ibm-775 ibm-813 ibm-850 \
ibm-852 ibm-855 ibm-856 ibm-857 ibm-858 ibm-860 ibm-861 ibm-862 ibm-863 ibm-865 ibm-866 ibm-868 \
ibm-869 ibm-874 ibm-912 ibm-913 ibm-914 ibm-915 ibm-916 ibm-920 ibm-921 ibm-922 ibm-932 ibm-942c \
ibm-943c ibm-948 ibm-949c ibm-950 ibm-964 ibm-970 ibm-euccn ibm-eucjp ibm-euckr ibm-euctw ibm00858 \
ibm1006 ibm1046 ibm1089 ibm1098 ibm1124 ibm1129 ibm1381 ibm1383 ibm29626c ibm437 ibm737 ibm775 \
ibm813 ibm850 ibm852 ibm855 ibm856 ibm857 ibm858 ibm860 ibm861 ibm862 ibm863 ibm865 ibm866 ibm868 \
ibm869 ibm874 ibm912 ibm913 ibm914 ibm915 ibm916 ibm920 ibm921 ibm922 ibm932 ibm942c ibm943c ibm948 \
ibm949c ibm950 ibm964 ibm970 ibmeuccn iscii iscii91 iso-2022-cn-cns iso-2022-cn-gb iso-2022-jp \
iso-2022-jp-2 iso-2022-kr iso-8859-11 iso-8859-13 iso-8859-16 iso-8859-2 iso-8859-3 iso-8859-4 \
iso-8859-5 iso-8859-6 iso-8859-7 iso-8859-8 iso-8859-8-i iso-8859-9 iso-ir-101 iso-ir-109 iso-ir-110 \
iso-ir-126 iso-ir-127 iso-ir-138 iso-ir-144 iso-ir-148 iso-ir-149 iso-ir-153 iso-ir-226 \
iso2022cn_cns iso2022cn_gb iso2022jp iso2022jp2 iso2022kr iso8859-13 iso8859-2 iso8859-3 iso8859-4 \
iso8859-5 iso8859-6 iso8859-7 iso8859-8 iso8859-9 iso8859_11 iso8859_13 iso8859_16 iso8859_2 \
iso8859_3 iso8859_4 iso8859_5 iso8859_6 iso8859_7 iso8859_8 iso8859_9 iso_8859-13 iso_8859-16 \
iso_8859-2 iso_8859-3 iso_8859-4 iso_8859-5 iso_8859-6 iso_8859-7 iso_8859-8 iso_8859-9 jis jis0201 \
jis_encoding jis_x0201 johab koi8 koi8-r koi8-u koi8_r koi8_u korean ks_c_5601-1987 ks_c_5601-1989 \
ksc5601 ksc5601-1987 ksc5601-1992 ksc5601_1987 ksc5601_1992 ksc_5601 l10 l2 l3 l4 l5 latin10 latin2 \
latin3 latin4 latin5 macarabic maccentraleurope maccroatian maccyrillic macgreek machebrew \
maciceland macroman macromania macthai macturkish macukraine ms-874 ms1361 ms50220 ms50221 ms874 \
ms932 ms932-0213 ms932_0213 ms936 ms949 ms950 ms950_hkscs ms950_hkscs_xp ms_936 ms_949 ms_kanji pck \
shift-jis shift_jis sjis sjis-0213 sjis_0213 st_sev_358-88 sun_eu_greek tis-620 tis620 tis620.2533 \
windows-1250 windows-1251 windows-1253 windows-1254 windows-1255 windows-1256 windows-1257 \
windows-1258 windows-31j windows-437 windows-874 windows-932 windows-932-0213 windows-936 \
windows-949 windows-950 windows-iso2022jp windows949 x-big5-hkscs-2001 x-big5-solaris x-euc-cn \
x-euc-jp x-euc-jp-linux x-euc-tw x-eucjp x-eucjp-open x-ibm1006 x-ibm1046 x-ibm1098 x-ibm1124 \
x-ibm1129 x-ibm1381 x-ibm1383 x-ibm29626c x-ibm737 x-ibm856 x-ibm874 x-ibm921 x-ibm922 x-ibm932 \
x-ibm942c x-ibm943c x-ibm948 x-ibm949c x-ibm950 x-ibm964 x-ibm970 x-iscii91 x-iso-2022-cn-cns \
x-iso-2022-cn-gb x-iso-8859-11 x-johab x-macarabic x-maccentraleurope x-maccroatian x-maccyrillic \
x-macgreek x-machebrew x-maciceland x-macroman x-macromania x-macthai x-macturkish x-macukraine \
x-ms932_0213 x-ms950-hkscs x-ms950-hkscs-xp x-mswin-936 x-pck x-sjis x-sjis_0213 x-windows-50220 \
x-windows-50221 x-windows-874 x-windows-949 x-windows-950 x-windows-iso2022jp x0201 \
";

/// The character of a windows-1252 byte as the JDK decodes it: ISO-8859-1 but for 0x80–0x9F;
/// the five bytes windows-1252 leaves undefined become U+FFFD.
fn windows_1252(byte: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD,
        0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0xFFFD, 0x017E, 0x0178,
    ];
    match byte {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(byte - 0x80)])).unwrap_or('\u{FFFD}'),
        _ => char::from(byte),
    }
}

/// The character of an ISO-8859-15 byte: ISO-8859-1 but for eight (the euro sign among them).
fn iso_8859_15(byte: u8) -> char {
    match byte {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        _ => char::from(byte),
    }
}

/// The text of a UTF-16 document, if it is one: by its byte-order mark (little or big endian),
/// or, without one, by `<?` in UTF-16 at the start (as Xerces detects it). Its units must form
/// characters, none of them NUL, and a declared encoding must be UTF-16 (or UCS-2, or the
/// endianness read).
fn utf16(bytes: &[u8]) -> Option<Result<String, ReadError>> {
    let (little, body, by) = match bytes {
        [0xFF, 0xFE, body @ ..] => (true, body, "by its byte-order mark"),
        [0xFE, 0xFF, body @ ..] => (false, body, "by its byte-order mark"),
        [b'<', 0, b'?', 0, ..] => (true, bytes, "by its first bytes"),
        [0, b'<', 0, b'?', ..] => (false, bytes, "by its first bytes"),
        _ => return None,
    };
    let unit: fn([u8; 2]) -> u16 = if little { u16::from_le_bytes } else { u16::from_be_bytes };
    let invalid =
        |declared: &str, reason: &str| ReadError::Encoding { declared: declared.into(), reason: reason.into() };
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
    if text.starts_with('\u{FEFF}') {
        return Some(Err(second_byte_order_mark()));
    }
    Some(match Declaration::read(text.as_bytes()) {
        Err(error) => Err(error),
        Ok(Declaration { encoding: Some(declared), .. }) => {
            let name = declared.to_ascii_lowercase();
            let endianness = if little { "utf-16le" } else { "utf-16be" };
            if matches!(name.as_str(), "utf-16" | "iso-10646-ucs-2") || name == endianness {
                Ok(text)
            } else {
                let endian = if little { "little" } else { "big" };
                Err(invalid(declared, &format!("the file is UTF-16 ({endian} endian) {by}")))
            }
        }
        Ok(_) => Ok(text),
    })
}

/// The pseudo-attributes of the XML declaration, if the text starts with one (the parser checks
/// its form).
#[derive(Debug, Default)]
struct Declaration<'a> {
    encoding: Option<&'a str>,
}

impl<'a> Declaration<'a> {
    /// Reads the declaration and refuses what the KoSIT validator's XML parser refuses: a version
    /// other than 1.0 (or 1.1), a standalone other than yes or no, a malformed encoding name.
    fn read(bytes: &'a [u8]) -> Result<Declaration<'a>, ReadError> {
        let mut declaration = Declaration::default();
        let Some(rest) = bytes.strip_prefix(b"<?xml") else { return Ok(declaration) };
        if !rest.first().is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
            return Ok(declaration);
        }
        let Some(head) = memchr::memmem::find(rest, b"?>").and_then(|end| std::str::from_utf8(&rest[..end]).ok())
        else {
            return Ok(declaration);
        };
        let mut rest = head;
        while let Some((name, value, tail)) = pseudo_attribute(rest) {
            rest = tail;
            match name {
                "version" if value != "1.0" && value != "1.1" => {
                    return Err(ReadError::NotXml(format!(
                        "the XML declaration says version=\"{value}\", but only XML 1.0 (and 1.1) is read; write version=\"1.0\""
                    )));
                }
                "standalone" if value != "yes" && value != "no" => {
                    return Err(ReadError::NotXml(format!(
                        "the XML declaration says standalone=\"{value}\", but only \"yes\" or \"no\" are allowed"
                    )));
                }
                "encoding" => {
                    let mut chars = value.chars();
                    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                    if !valid {
                        return Err(ReadError::Encoding {
                            declared: value.to_string(),
                            reason: "that is not an encoding name (a letter, then letters, digits, '.', '_' or '-'); write encoding=\"UTF-8\"".into(),
                        });
                    }
                    declaration.encoding = Some(value);
                }
                _ => {}
            }
        }
        Ok(declaration)
    }
}

/// The first `name = "value"` of a declaration and the rest after it.
fn pseudo_attribute(text: &str) -> Option<(&str, &str, &str)> {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r']);
    let end = text.find(|c: char| !c.is_ascii_alphabetic())?;
    let (name, rest) = text.split_at(end);
    let rest = rest.trim_start_matches([' ', '\t', '\n', '\r']).strip_prefix('=')?;
    let rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
    let quote = rest.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let (value, tail) = rest[1..].split_once(quote)?;
    (!name.is_empty()).then_some((name, value, tail))
}

/// Most namespaces in scope of one element (a security bound, as the depth: the parser looks a
/// prefix up among them, so many of them above many elements would take time without bound;
/// the JDK has no such limit, an invoice needs a few dozen at most).
const MAX_NAMESPACES_IN_SCOPE: u32 = 256;
/// Longest name (each side of a prefix's colon, in UTF-16 units) the KoSIT validator's XML
/// parser reads: the JDK's `jdk.xml.maxXMLNameLimit`.
const MAX_NAME: usize = 1000;
/// Most attributes (namespace declarations included) of one element the KoSIT validator's XML
/// parser reads: the JDK's `jdk.xml.elementAttributeLimit`.
const MAX_ATTRIBUTES: usize = 10_000;

/// Parses XML text without DTD support, bounded in nodes and depth, and within the JDK's limits
/// on names and attributes.
pub fn parse_xml(text: &str) -> Result<roxmltree::Document<'_>, ReadError> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        namespaces_in_scope_limit: MAX_NAMESPACES_IN_SCOPE,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => ReadError::Dtd,
        roxmltree::Error::NamespacesInScopeLimitReached(pos) => ReadError::NotXml(format!(
            "at {pos} more than {MAX_NAMESPACES_IN_SCOPE} namespace prefixes are in scope of one element; an invoice needs a few dozen at most"
        )),
        roxmltree::Error::NodesLimitReached => ReadError::NotXml(format!(
            "it holds more than {MAX_NODES} nodes (elements, texts, comments, or namespaces in scope of elements that declare one)"
        )),
        other => ReadError::NotXml(other.to_string()),
    })?;
    check_tree(&doc)?;
    Ok(doc)
}

/// Checks the depth, and the names and attributes against the JDK's limits, in one walk. A
/// prefix is checked where it is declared: an element with more namespaces in scope than its
/// parent declares a new prefix (every prefix used is declared, else the parser refused it).
fn check_tree(doc: &roxmltree::Document<'_>) -> Result<(), ReadError> {
    let mut stack = vec![(doc.root(), 0usize, 0usize)];
    while let Some((node, depth, in_scope)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(ReadError::TooDeep);
        }
        for child in node.children() {
            if child.is_element() {
                let namespaces = child.namespaces().len();
                check_element(doc, child, namespaces > in_scope, namespaces)?;
                stack.push((child, depth + 1, namespaces));
            } else if let Some(pi) = child.pi()
                && too_long(pi.target)
            {
                return Err(long_name(doc, child.range().start));
            }
        }
    }
    Ok(())
}

fn check_element(
    doc: &roxmltree::Document<'_>,
    node: roxmltree::Node<'_, '_>,
    declares: bool,
    namespaces: usize,
) -> Result<(), ReadError> {
    let start = node.range().start + 1;
    if too_long(node.tag_name().name()) || (declares && node.namespaces().filter_map(|ns| ns.name()).any(too_long)) {
        return Err(long_name(doc, start));
    }
    let attributes = node.attributes();
    if attributes.len() + namespaces > MAX_ATTRIBUTES && attributes.len() + declared(node) > MAX_ATTRIBUTES {
        return Err(ReadError::NotXml(format!(
            "the element at {} has more than {MAX_ATTRIBUTES} attributes, more than the KoSIT validator's XML parser reads",
            doc.text_pos_at(start)
        )));
    }
    if let Some(attribute) = attributes.into_iter().find(|a| too_long(a.name())) {
        return Err(long_name(doc, attribute.range_qname().start));
    }
    Ok(())
}

/// The namespace declarations of an element (its in-scope namespaces its parent has not).
fn declared(node: roxmltree::Node<'_, '_>) -> usize {
    let inherited: std::collections::HashSet<_> = node
        .parent_element()
        .into_iter()
        .flat_map(|parent| parent.namespaces())
        .map(|ns| (ns.name(), ns.uri()))
        .collect();
    node.namespaces().filter(|ns| !inherited.contains(&(ns.name(), ns.uri()))).count()
}

/// Longer than the JDK reads: its length counts UTF-16 units (never more than UTF-8 bytes).
fn too_long(name: &str) -> bool {
    name.len() > MAX_NAME && name.encode_utf16().count() > MAX_NAME
}

fn long_name(doc: &roxmltree::Document<'_>, pos: usize) -> ReadError {
    ReadError::NotXml(format!(
        "the name at {} is longer than {MAX_NAME} characters, more than the KoSIT validator's XML parser reads",
        doc.text_pos_at(pos)
    ))
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
        // As the JDK decodes it: an undefined byte becomes U+FFFD.
        let undefined = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><x>\x81</x>";
        assert!(decode(undefined, 1000).is_ok_and(|text| text.ends_with("<x>\u{FFFD}</x>")));
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
            "the XML declaration says encoding \"UTF-8\", but the file is UTF-16 (little endian) by its byte-order mark"
        );
        // UTF-16LE with a little-endian mark is read; UTF-16BE is not (Xerces reads the rest big endian).
        let utf16 = |text: &str| -> Vec<u8> {
            [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
        };
        assert!(decode(&utf16(&text.replace("UTF-16", "UTF-16LE")), 10_000).is_ok());
        assert!(decode(&utf16(&text.replace("UTF-16", "ISO-10646-UCS-2")), 10_000).is_ok());
        assert!(matches!(decode(&utf16(&text.replace("UTF-16", "UTF-16BE")), 10_000), Err(ReadError::Encoding { .. })));
    }

    #[test]
    fn utf16_without_byte_order_mark_is_read_by_its_first_bytes() {
        // As Xerces detects it: "<?" in UTF-16 at the start, then the declaration must agree.
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16LE\"?><Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">Müller</Invoice>";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&le, 10_000).as_deref(), Ok(text));
        assert_eq!(read(&le), Ok(Syntax::UblInvoice));
        let be: Vec<u8> = text.replace("UTF-16LE", "UTF-16").encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(read(&be), Ok(Syntax::UblInvoice));
        let wrong: Vec<u8> = text.replace("UTF-16LE", "UTF-16BE").encode_utf16().flat_map(u16::to_le_bytes).collect();
        let Err(error) = decode(&wrong, 10_000) else { panic!("accepted") };
        assert_eq!(
            error.to_string(),
            "the XML declaration says encoding \"UTF-16BE\", but the file is UTF-16 (little endian) by its first bytes"
        );
        // Without "<?" at the start, UTF-16 needs its byte-order mark.
        let bare: Vec<u8> = "<x/>".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&bare, 1000), Err(ReadError::Binary));
        // Declared UTF-16 in a file that is not.
        let Err(error) = decode(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><x/>", 1000) else { panic!("accepted") };
        assert!(error.to_string().starts_with(
            "the XML declaration says encoding \"UTF-16\", but the file does not start with a UTF-16 byte-order mark"
        ));
    }

    #[test]
    fn a_second_byte_order_mark_is_refused() {
        let message = "the file is not well-formed XML: the file starts with two byte-order marks (U+FEFF); remove the second one";
        let twice = [UTF8_BOM, UTF8_BOM, UBL.as_bytes()].concat();
        assert_eq!(read(&twice).map_err(|e| e.to_string()), Err(message.to_string()));
        assert_eq!(read(&[UTF8_BOM, UBL.as_bytes()].concat()), Ok(Syntax::UblInvoice));
        let utf16: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(format!("\u{FEFF}{UBL}").encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(read(&utf16).map_err(|e| e.to_string()), Err(message.to_string()));
    }

    #[test]
    fn encoding_names_are_read_as_the_kosit_validators_parser_reads_them() {
        let doc = |encoding: &str, body: &[u8]| -> Vec<u8> {
            [format!("<?xml version=\"1.0\" encoding=\"{encoding}\"?><x>").as_bytes(), body, b"</x>"].concat()
        };
        let text = |encoding: &str, body: &[u8]| {
            decode(&doc(encoding, body), 1000)
                .map(|t| t.split_once("<x>").and_then(|(_, x)| x.strip_suffix("</x>")).unwrap_or_default().to_string())
        };
        let refused = |encoding: &str, body: &[u8]| match decode(&doc(encoding, body), 1000) {
            Err(ReadError::Encoding { reason, .. }) => reason,
            other => panic!("{encoding}: {other:?}"),
        };
        // Not an encoding name: a space, empty, a digit first.
        for name in ["UTF-8 ", " UTF-8", "", "8859_1", "ISO_8859-1:1987"] {
            assert!(refused(name, b"a").starts_with("that is not an encoding name"), "{name:?}");
        }
        // Names the JDK does not know, or encodings that are not ASCII-compatible.
        for name in ["latin-1", "UTF_8", "foo", "EBCDIC", "IBM037", "UTF-32", "UTF-7"] {
            assert!(refused(name, b"a").starts_with("the KoSIT validator's XML parser does not read"), "{name}");
        }
        // Aliases of the decoded encodings, in any case.
        for name in ["l1", "LATIN1", "ISO8859_1", "cp819", "iso-8859-1"] {
            assert_eq!(text(name, b"M\xfcller").as_deref(), Ok("Müller"), "{name}");
        }
        for name in ["ISO-8859-15", "latin9", "LATIN-9", "l9"] {
            assert_eq!(text(name, b"\xa4 \xbc").as_deref(), Ok("€ Œ"), "{name}");
        }
        assert_eq!(text("Cp1252", b"\x80\x81").as_deref(), Ok("€\u{FFFD}"));
        // "UTF-8" is read strictly, its other spellings as the JDK's decoder reads them.
        assert_eq!(refused("UTF-8", b"\xff"), "the bytes are not valid UTF-8");
        assert_eq!(text("utf8", b"M\xc3\xbcller \xff").as_deref(), Ok("Müller \u{FFFD}"));
        assert_eq!(text("UTF8", b"a").as_deref(), Ok("a"));
        // US-ASCII refuses other bytes; other encodings are read as far as the bytes are ASCII.
        assert!(refused("US-ASCII", b"\xe4").starts_with("the bytes are not ASCII"));
        assert_eq!(text("us-ascii", b"a").as_deref(), Ok("a"));
        assert_eq!(text("ISO-8859-2", b"a").as_deref(), Ok("a"));
        assert_eq!(text("Shift_JIS", b"a").as_deref(), Ok("a"));
        assert!(
            refused("ISO-8859-2", b"\xe4").starts_with("only UTF-8, UTF-16, ISO-8859-1, ISO-8859-15 and windows-1252")
        );
    }

    #[test]
    fn the_xml_declaration_is_checked_as_the_kosit_validators_parser_checks_it() {
        let with = |decl: &str| read(UBL.replacen(r#"<?xml version="1.0" encoding="UTF-8"?>"#, decl, 1).as_bytes());
        let message = |decl: &str| with(decl).map_err(|e| e.to_string()).err().unwrap_or_default();
        for ok in [
            r#"<?xml version="1.0"?>"#,
            r#"<?xml version='1.1' encoding='utf-8' standalone='yes'?>"#,
            "<?xml\tversion=\"1.0\"\r\nencoding=\"UTF-8\" ?>",
            "",
        ] {
            assert_eq!(with(ok), Ok(Syntax::UblInvoice), "{ok}");
        }
        assert_eq!(
            message(r#"<?xml version="1.2"?>"#),
            "the file is not well-formed XML: the XML declaration says version=\"1.2\", but only XML 1.0 (and 1.1) is read; write version=\"1.0\""
        );
        assert!(message(r#"<?xml version="1"?>"#).contains("version=\"1\""));
        assert_eq!(
            message(r#"<?xml version="1.0" standalone="maybe"?>"#),
            "the file is not well-formed XML: the XML declaration says standalone=\"maybe\", but only \"yes\" or \"no\" are allowed"
        );
        assert!(message(r#"<?XML version="1.0"?>"#).contains("a processing instruction named 'xml' at 1:1"));
        assert!(message("<?xml?>").contains("a processing instruction named 'xml' at 1:1"));
        assert!(message(r#" <?xml version="1.0"?>"#).contains("unexpected XML declaration"));
        assert!(matches!(read(&[UBL.as_bytes(), b"<?xml version=\"1.0\"?>"].concat()), Err(ReadError::NotXml(_))));
    }

    #[test]
    fn processing_instructions_character_references_and_namespaces_are_checked() {
        let inside = |xml: &str| read(UBL.replace("/>", &format!(">{xml}</Invoice>")).as_bytes());
        // Processing instructions: the target xml is reserved in any case, data needs a space before it.
        assert_eq!(inside("<?pi data?><?xml-stylesheet href='a'?><?p:q x?>"), Ok(Syntax::UblInvoice));
        for bad in ["<?XML x?>", "<?xml?>", "<?xml\tversion='1.0'?>", "<?pi\"x\"?>"] {
            assert!(matches!(inside(bad), Err(ReadError::NotXml(_))), "{bad}");
        }
        // Character references to surrogates or beyond U+10FFFF are malformed.
        assert_eq!(inside("&#x10FFFF;&#xFFFD;&#x9;"), Ok(Syntax::UblInvoice));
        for bad in ["&#xD800;", "&#xDFFF;", "&#55296;", "&#x110000;", "&#1114112;", "<a b='&#xD800;'/>"] {
            assert!(matches!(inside(bad), Err(ReadError::NotXml(_))), "{bad}");
        }
        // Namespaces: no second default declaration, no empty prefix binding, no xmlns prefix;
        // the xml prefix is bound on elements too.
        assert_eq!(inside("<xml:a xml:lang='de'/><a xmlns=''/>"), Ok(Syntax::UblInvoice));
        for bad in [
            "<a xmlns='urn:a' xmlns='urn:b'/>",
            "<a xmlns:p=''/>",
            "<a xmlns:xmlns='urn:a'/>",
            "<a xmlns:p='urn:a' xmlns:p='urn:b'/>",
        ] {
            assert!(matches!(inside(bad), Err(ReadError::NotXml(_))), "{bad}");
        }
    }

    #[test]
    fn names_and_attributes_beyond_the_jdk_limits_are_refused() {
        let inside = |xml: &str| {
            let bytes = UBL.replace("/>", &format!(">{xml}</Invoice>"));
            parse(&decode(bytes.as_bytes(), DEFAULT_MAX_BYTES)?).map(|(_, syntax)| syntax)
        };
        let name = |n: usize| "n".repeat(n);
        let ok = [
            format!("<{}/>", name(1000)),
            format!("<{}:{} xmlns:{0}='urn:a'/>", name(1000), name(1000)),
            format!("<a {}='1' xmlns:{}='urn:a' {1}:{0}='2'/>", name(1000), name(999)),
            format!("<?{} x?>", name(1000)),
        ];
        for xml in &ok {
            assert_eq!(inside(xml), Ok(Syntax::UblInvoice), "{}", &xml[..40.min(xml.len())]);
        }
        let too_long = [
            format!("<{}/>", name(1001)),
            format!("<{}:a xmlns:{0}='urn:a'/>", name(1001)),
            format!("<a:{} xmlns:a='urn:a'/>", name(1001)),
            format!("<a {}='1'/>", name(1001)),
            format!("<a xmlns:{}='urn:a' {0}:b='1'/>", name(1001)),
            format!("<?{} x?>", name(1001)),
        ];
        for xml in &too_long {
            let Err(ReadError::NotXml(message)) = inside(xml) else { panic!("accepted {}", &xml[..40]) };
            assert!(message.contains("is longer than 1000 characters"), "{message}");
        }
        // A name's length counts UTF-16 units, as the JDK counts it.
        assert_eq!(inside(&format!("<{}/>", "ä".repeat(1000))), Ok(Syntax::UblInvoice));
        let attributes = |n: usize| (0..n).map(|i| format!(" a{i}='1'")).collect::<String>();
        assert_eq!(inside(&format!("<a{}/>", attributes(10_000))), Ok(Syntax::UblInvoice));
        for xml in [format!("<a{}/>", attributes(10_001)), format!("<a xmlns:p='urn:a'{}/>", attributes(10_000))] {
            let Err(ReadError::NotXml(message)) = inside(&xml) else { panic!("accepted") };
            assert!(message.contains("has more than 10000 attributes"), "{message}");
        }
    }

    #[test]
    fn many_attributes_or_namespaces_are_refused_without_quadratic_work() {
        // Each took minutes while duplicates or inherited namespaces were compared pairwise.
        let attributes: String = (0..50_000).map(|i| format!(" a{i}='1'")).collect();
        let Err(ReadError::NotXml(message)) = parse_xml(&format!("<r{attributes}/>")) else { panic!("accepted") };
        assert!(message.contains("more than 10000 attributes"), "{message}");
        let declarations = |n: usize| (0..n).map(|i| format!(" xmlns:p{i}='urn:{i}'")).collect::<String>();
        // Each prefix is looked up among the namespaces in scope: at most 256 of them.
        let xml = format!("<r{}>{}</r>", declarations(5000), "<a/>".repeat(200_000));
        let Err(ReadError::NotXml(message)) = parse_xml(&xml) else { panic!("accepted") };
        // Found at the name of the 257th declaration (` xmlns:pN='urn:N'`: 17, 19 and 21 bytes
        // for N below 10, 100 and 1000).
        let position = 1 + "<r".len() + 10 * 17 + 90 * 19 + 156 * 21 + 1;
        assert_eq!(
            message,
            format!(
                "at 1:{position} more than 256 namespace prefixes are in scope of one element; an invoice needs a few dozen at most"
            )
        );
        let nested = format!("<r{}><a xmlns:q='urn:q'/><b xmlns:q='urn:q' xmlns:s='urn:s'/></r>", declarations(255));
        let Err(ReadError::NotXml(message)) = parse_xml(&nested) else { panic!("accepted") };
        assert!(message.contains("more than 256 namespace prefixes are in scope"), "{message}");
        assert!(parse_xml(&format!("<r{}><a xmlns:q='urn:q'/></r>", declarations(255))).is_ok());
        // Each element declaring one gets a copy of those in scope: the copies count as nodes.
        let xml = format!("<r{}>{}</r>", declarations(250), "<a xmlns=''/>".repeat(8100));
        let Err(ReadError::NotXml(message)) = parse_xml(&xml) else { panic!("accepted") };
        assert!(message.contains("more than 2000000 nodes"), "{message}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert_eq!(parse_xml(&deep).err(), Some(ReadError::TooDeep));
    }
}
