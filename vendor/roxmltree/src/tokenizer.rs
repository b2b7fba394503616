use core::ops::Range;
use core::str;
use alloc::string::String;

use memchr::memchr2;

use crate::{Error, TextPos};

type Result<T> = core::result::Result<T, Error>;

/// Extension methods for XML-subset only operations.
trait XmlCharExt {
    /// Checks if the value is within the
    /// [NameStartChar](https://www.w3.org/TR/xml/#NT-NameStartChar) range.
    fn is_xml_name_start(&self) -> bool;

    /// Checks if the value is within the
    /// [NameChar](https://www.w3.org/TR/xml/#NT-NameChar) range.
    fn is_xml_name(&self) -> bool;

    /// Checks if the value is within the
    /// [Char](https://www.w3.org/TR/xml/#NT-Char) range.
    fn is_xml_char(&self) -> bool;
}

impl XmlCharExt for char {
    #[inline]
    fn is_xml_name_start(&self) -> bool {
        // Check for ASCII first.
        if *self as u32 <= 128 {
            return (*self as u8).is_xml_name_start();
        }

        matches!(*self as u32,
            0x0000C0..=0x0000D6
            | 0x0000D8..=0x0000F6
            | 0x0000F8..=0x0002FF
            | 0x000370..=0x00037D
            | 0x00037F..=0x001FFF
            | 0x00200C..=0x00200D
            | 0x002070..=0x00218F
            | 0x002C00..=0x002FEF
            | 0x003001..=0x00D7FF
            | 0x00F900..=0x00FDCF
            | 0x00FDF0..=0x00FFFD
            | 0x010000..=0x0EFFFF)
    }

    #[inline]
    fn is_xml_name(&self) -> bool {
        // Check for ASCII first.
        if *self as u32 <= 128 {
            return (*self as u8).is_xml_name();
        }

        matches!(*self as u32, 0x0000B7
                | 0x0000C0..=0x0000D6
                | 0x0000D8..=0x0000F6
                | 0x0000F8..=0x0002FF
                | 0x000300..=0x00036F
                | 0x000370..=0x00037D
                | 0x00037F..=0x001FFF
                | 0x00200C..=0x00200D
                | 0x00203F..=0x002040
                | 0x002070..=0x00218F
                | 0x002C00..=0x002FEF
                | 0x003001..=0x00D7FF
                | 0x00F900..=0x00FDCF
                | 0x00FDF0..=0x00FFFD
                | 0x010000..=0x0EFFFF)
    }

    #[inline]
    fn is_xml_char(&self) -> bool {
        // Does not check for surrogate code points U+D800-U+DFFF,
        // since that check was performed by Rust when the `&str` was constructed.
        if (*self as u32) < 0x20 {
            return (*self as u8).is_xml_space();
        }

        !matches!(*self as u32, 0xFFFF | 0xFFFE)
    }
}

trait XmlByteExt {
    /// Checks if byte is a space.
    ///
    /// `[ \r\n\t]`
    fn is_xml_space(&self) -> bool;

    /// Checks if the value is within the
    /// [NameStartChar](https://www.w3.org/TR/xml/#NT-NameStartChar) range.
    fn is_xml_name_start(&self) -> bool;

    /// Checks if byte is within the ASCII
    /// [Char](https://www.w3.org/TR/xml/#NT-Char) range.
    fn is_xml_name(&self) -> bool;

    /// Checks if the value is within the
    /// [Char](https://www.w3.org/TR/xml/#NT-Char) range.
    fn is_xml_char(&self) -> bool;
}

impl XmlByteExt for u8 {
    #[inline]
    fn is_xml_space(&self) -> bool {
        matches!(*self, b' ' | b'\t' | b'\n' | b'\r')
    }

    #[inline]
    fn is_xml_name_start(&self) -> bool {
        matches!(*self, b'A'..=b'Z' | b'a'..=b'z' | b':' | b'_')
    }

    #[inline]
    fn is_xml_name(&self) -> bool {
        matches!(*self, b'A'..=b'Z' | b'a'..=b'z'| b'0'..=b'9'| b':' | b'_' | b'-' | b'.')
    }

    #[inline]
    fn is_xml_char(&self) -> bool {
        *self > 0x20 || self.is_xml_space()
    }
}

#[inline]
fn is_xml_str(s: &str, value_start: usize, stream: &mut Stream<'_>) -> Result<()> {
    if s.as_bytes().is_ascii() {
        for (i, b) in s.as_bytes().iter().enumerate() {
            if !b.is_xml_char() {
                return Err(Error::NonXmlChar(*b as char, stream.gen_text_pos_from(value_start + i)));
            }
        }

        Ok(())
    } else {
        is_xml_str_unicode(s, value_start, stream)
    }
}


#[cold]
#[inline(never)]
fn is_xml_str_unicode(s: &str, value_start: usize, stream: &mut Stream<'_>) -> Result<()> {
    for (i, ch) in s.char_indices() {
        if !ch.is_xml_char() {
            return Err(Error::NonXmlChar(ch, stream.gen_text_pos_from(value_start + i)));
        }
    }

    Ok(())
}

/// A string slice.
///
/// Like `&str`, but also contains the position in the input XML
/// from which it was parsed.
#[must_use]
#[derive(Clone, Copy)]
pub struct StrSpan<'input> {
    text: &'input str,
    start: usize,
}

impl<'input> From<&'input str> for StrSpan<'input> {
    #[inline]
    fn from(text: &'input str) -> Self {
        StrSpan { text, start: 0 }
    }
}

impl<'input> StrSpan<'input> {
    #[inline]
    pub fn from_substr(text: &'input str, start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        StrSpan {
            text: &text[start..end],
            start,
        }
    }

    #[inline]
    pub fn range(&self) -> Range<usize> {
        self.start..(self.start + self.text.len())
    }

    #[inline]
    pub fn as_str(&self) -> &'input str {
        self.text
    }

    #[inline]
    fn slice_region(&self, start: usize, end: usize) -> &'input str {
        &self.text[start..end]
    }
}

pub enum Token<'input> {
    // <?target content?>
    ProcessingInstruction(&'input str, Option<&'input str>, Range<usize>),

    // <!-- text -->
    Comment(&'input str, Range<usize>),

    // <!ENTITY ns_extend "http://test.com">
    EntityDeclaration(&'input str, StrSpan<'input>),

    // <ns:elem
    ElementStart(&'input str, &'input str, usize),

    // ns:attr="value"
    Attribute(Range<usize>, u16, u8, &'input str, &'input str, StrSpan<'input>),

    ElementEnd(ElementEnd<'input>, Range<usize>),

    // Contains text between elements including whitespaces.
    // Basically everything between `>` and `<`.
    // Except `]]>`, which is not allowed and will lead to an error.
    // The flag (a vendored change) tells whether the text holds a `&` or a carriage return,
    // i.e. whether it has to be unescaped or have its line ends normalised.
    Text(&'input str, Range<usize>, bool),

    // <![CDATA[text]]>
    Cdata(&'input str, Range<usize>),
}

/// `ElementEnd` token.
#[derive(Clone, Copy)]
pub enum ElementEnd<'input> {
    /// Indicates `>`
    Open,
    /// Indicates `</ns:name>`
    Close(&'input str, &'input str),
    /// Indicates `/>`
    Empty,
}

pub trait XmlEvents<'input> {
    fn token(&mut self, token: Token<'input>) -> Result<()>;

    fn resolve_entity(&mut self, _pub_id: Option<&str>, _uri: &str) -> core::result::Result<Option<&'input str>, String> { Ok(None) }
}

// document ::= prolog element Misc*
pub fn parse<'input>(
    text: &'input str,
    allow_dtd: bool,
    events: &mut impl XmlEvents<'input>,
) -> Result<()> {
    let s = &mut Stream::new(text);

    parse_declaration(s)?;

    parse_misc(s, events)?;

    s.skip_spaces();
    if s.starts_with(b"<!DOCTYPE") {
        if !allow_dtd {
            return Err(Error::DtdDetected);
        }

        parse_doctype(s, events)?;
        parse_misc(s, events)?;
    }

    s.skip_spaces();
    if s.curr_byte().ok() == Some(b'<') && parse_start_tag(s, events)? {
        parse_content(s, events)?;
    }

    parse_misc(s, events)?;

    if !s.at_end() {
        return Err(Error::UnknownToken(s.gen_text_pos()));
    }

    Ok(())
}

// Misc ::= Comment | PI | S
fn parse_misc<'input>(s: &mut Stream<'input>, events: &mut impl XmlEvents<'input>) -> Result<()> {
    while !s.at_end() {
        s.skip_spaces();
        if s.starts_with(b"<!--") {
            parse_comment(s, events)?;
        } else if s.starts_with(b"<?") {
            parse_pi(s, events)?;
        } else {
            break;
        }
    }

    Ok(())
}

// XMLDecl ::= '<?xml' VersionInfo EncodingDecl? SDDecl? S? '?>'
//
// We don't actually return a token for the XML declaration and only validate it.
fn parse_declaration(s: &mut Stream) -> Result<()> {
    // Skip UTF-8 BOM.
    if s.starts_with(&[0xEF, 0xBB, 0xBF]) {
        s.advance(3);
    }

    // Vendored change: the declaration is `<?xml` and any white space (the released crate
    // required a space and took `<?xml\tversion="1.0"?>` for a processing instruction).
    if !is_declaration_start(s) {
        return Ok(())
    }

    fn consume_spaces(s: &mut Stream) -> Result<()> {
        if s.starts_with_space() {
            s.skip_spaces();
        } else if !s.starts_with(b"?>") && !s.at_end() {
            return Err(Error::InvalidChar2(
                "a whitespace",
                s.curr_byte_unchecked(),
                s.gen_text_pos(),
            ));
        }

        Ok(())
    }

    s.advance(5); // <?xml
    consume_spaces(s)?;

    // The `version` "attribute" is mandatory.
    if !s.starts_with(b"version") {
        // Will trigger the InvalidString error, which is what we want.
        return s.skip_string(b"version");
    }
    let _ = parse_attribute(s)?;
    consume_spaces(s)?;

    if s.starts_with(b"encoding") {
        let _ = parse_attribute(s)?;
        consume_spaces(s)?;
    }

    if s.starts_with(b"standalone") {
        let _ = parse_attribute(s)?;
    }

    s.skip_spaces();
    s.skip_string(b"?>")?;

    Ok(())
}

// '<!--' ((Char - '-') | ('-' (Char - '-')))* '-->'
fn parse_comment<'input>(s: &mut Stream<'input>, events: &mut impl XmlEvents<'input>) -> Result<()> {
    let start = s.pos();
    s.advance(4);
    let text = s.consume_chars(|s, c| !(c == '-' && s.starts_with(b"-->")))?;
    s.skip_string(b"-->")?;

    if text.contains("--") {
        return Err(Error::InvalidComment(s.gen_text_pos_from(start)));
    }

    if text.ends_with('-') {
        return Err(Error::InvalidComment(s.gen_text_pos_from(start)));
    }

    let range = s.range_from(start);
    events.token(Token::Comment(text, range))?;

    Ok(())
}

// PI       ::= '<?' PITarget (S (Char* - (Char* '?>' Char*)))? '?>'
// PITarget ::= Name - (('X' | 'x') ('M' | 'm') ('L' | 'l'))
fn parse_pi<'input>(s: &mut Stream<'input>, events: &mut impl XmlEvents<'input>) -> Result<()> {
    if is_declaration_start(s) {
        return Err(Error::UnexpectedDeclaration(s.gen_text_pos()));
    }

    let start = s.pos();
    s.advance(2);
    let target = s.consume_name()?;
    // Vendored change: the target `xml` in any case is reserved (`<?XML x?>`, `<?xml?>`), and
    // white space must separate the target from the data (`<?pi"x"?>`); the released crate
    // took both.
    if target.eq_ignore_ascii_case("xml") {
        return Err(Error::ReservedPiTarget(s.gen_text_pos_from(start)));
    }
    if !s.starts_with(b"?>") {
        s.consume_spaces()?;
    }
    let content = s.consume_chars(|s, c| !(c == '?' && s.starts_with(b"?>")))?;
    let content = if !content.is_empty() {
        Some(content)
    } else {
        None
    };

    s.skip_string(b"?>")?;

    let range = s.range_from(start);
    events.token(Token::ProcessingInstruction(target, content, range))?;
    Ok(())
}

/// `<?xml` and a white space character: the XML declaration (at the start) or a misplaced one.
fn is_declaration_start(s: &Stream) -> bool {
    s.starts_with(b"<?xml") && matches!(s.as_bytes().get(5), Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn parse_doctype<'input>(s: &mut Stream<'input>, events: &mut impl XmlEvents<'input>) -> Result<()> {
    let start = s.pos();
    parse_doctype_start(s)?;
    s.skip_spaces();

    if s.curr_byte() == Ok(b'>') {
        s.advance(1);
        return Ok(());
    }

    s.advance(1); // [
    while !s.at_end() {
        s.skip_spaces();
        if s.starts_with(b"<!ENTITY") {
            parse_entity_decl(s, events)?;
        } else if s.starts_with(b"<!--") {
            parse_comment(s, events)?;
        } else if s.starts_with(b"<?") {
            parse_pi(s, events)?;
        } else if s.starts_with(b"]") {
            // DTD ends with ']' S? '>', therefore we have to skip possible spaces.
            s.advance(1);
            s.skip_spaces();
            match s.curr_byte() {
                Ok(b'>') => {
                    s.advance(1);
                    break;
                }
                Ok(c) => {
                    return Err(Error::InvalidChar2("'>'", c, s.gen_text_pos()));
                }
                Err(_) => {
                    return Err(Error::UnexpectedEndOfStream);
                }
            }
        } else if s.starts_with(b"<!ELEMENT")
            || s.starts_with(b"<!ATTLIST")
            || s.starts_with(b"<!NOTATION")
        {
            if consume_decl(s).is_err() {
                let pos = s.gen_text_pos_from(start);
                return Err(Error::UnknownToken(pos));
            }
        } else {
            return Err(Error::UnknownToken(s.gen_text_pos()));
        }
    }

    Ok(())
}

// doctypedecl ::= '<!DOCTYPE' S Name (S ExternalID)? S? ('[' intSubset ']' S?)? '>'
fn parse_doctype_start(s: &mut Stream) -> Result<()> {
    s.advance(9);

    s.consume_spaces()?;
    s.skip_name()?;
    s.skip_spaces();

    let _ = parse_external_id(s)?;
    s.skip_spaces();

    let c = s.curr_byte()?;
    if c != b'[' && c != b'>' {
        return Err(Error::InvalidChar2("'[' or '>'", c, s.gen_text_pos()));
    }

    Ok(())
}

// ExternalID ::= 'SYSTEM' S SystemLiteral | 'PUBLIC' S PubidLiteral S SystemLiteral
fn parse_external_id<'input>(s: &mut Stream<'input>) -> Result<Option<(Option<&'input str>, &'input str)>> {
    let v = if s.starts_with(b"SYSTEM") || s.starts_with(b"PUBLIC") {
        let start = s.pos();
        s.advance(6);
        let id = s.slice_back(start);

        s.consume_spaces()?;
        let quote = s.consume_quote()?;
        let first = s.consume_bytes(|c| c != quote);
        s.consume_byte(quote)?;

        if id == "SYSTEM" {
            Some((None, first))
        } else {
            s.consume_spaces()?;
            let quote = s.consume_quote()?;
            let second = s.consume_bytes(|c| c != quote);
            s.consume_byte(quote)?;

            Some((Some(first), second))
        }
    } else {
        None
    };

    Ok(v)
}

// EntityDecl  ::= GEDecl | PEDecl
// GEDecl      ::= '<!ENTITY' S Name S EntityDef S? '>'
// PEDecl      ::= '<!ENTITY' S '%' S Name S PEDef S? '>'
fn parse_entity_decl<'input>(
    s: &mut Stream<'input>,
    events: &mut impl XmlEvents<'input>,
) -> Result<()> {
    s.advance(8);
    s.consume_spaces()?;

    let is_ge = if s.try_consume_byte(b'%') {
        s.consume_spaces()?;
        false
    } else {
        true
    };

    let name = s.consume_name()?;
    s.consume_spaces()?;
    if let Some(definition) = parse_entity_def(s, events, is_ge)? {
        events.token(Token::EntityDeclaration(name, definition))?;
    }
    s.skip_spaces();
    s.consume_byte(b'>')?;

    Ok(())
}

// EntityDef   ::= EntityValue | (ExternalID NDataDecl?)
// PEDef       ::= EntityValue | ExternalID
// EntityValue ::= '"' ([^%&"] | PEReference | Reference)* '"' |  "'" ([^%&']
//                             | PEReference | Reference)* "'"
// ExternalID  ::= 'SYSTEM' S SystemLiteral | 'PUBLIC' S PubidLiteral S SystemLiteral
// NDataDecl   ::= S 'NDATA' S Name
fn parse_entity_def<'input>(
    s: &mut Stream<'input>,
    events: &mut impl XmlEvents<'input>,
    is_ge: bool,
) -> Result<Option<StrSpan<'input>>> {
    let c = s.curr_byte()?;
    match c {
        b'"' | b'\'' => {
            let quote = s.consume_quote()?;
            let start = s.pos();
            s.skip_bytes(|c| c != quote);
            let value = s.slice_back_span(start);
            s.consume_byte(quote)?;
            Ok(Some(value))
        }
        b'S' | b'P' => {
            if let Some((pub_id, uri)) = parse_external_id(s)? {
                if is_ge {
                    s.skip_spaces();
                    if s.starts_with(b"NDATA") {
                        s.advance(5);
                        s.consume_spaces()?;
                        s.skip_name()?;
                        // TODO: NDataDecl is not supported
                    }
                }

                let value = events.resolve_entity(pub_id, uri).map_err(|msg| Error::EntityResolver(s.gen_text_pos(), msg))?;

                match value {
                    Some(value) => {
                        let mut stream = Stream::new(value);
                        parse_declaration(&mut stream)?;
                        let value = StrSpan::from(&value[stream.pos..]);

                        Ok(Some(value))
                    }
                    None => Ok(None),
                }
            } else {
                Err(Error::InvalidExternalID(s.gen_text_pos()))
            }
        }
        _ => {
            let pos = s.gen_text_pos();
            Err(Error::InvalidChar2("a quote, SYSTEM or PUBLIC", c, pos))
        }
    }
}

fn consume_decl(s: &mut Stream) -> Result<()> {
    s.skip_bytes(|c| c != b'>');
    s.consume_byte(b'>')?;
    Ok(())
}

// EmptyElemTag ::= '<' Name (S Attribute)* S? '/>'
// STag         ::= '<' Name (S Attribute)* S? '>'
//
// Returns `true` for a start tag, i.e. when the element's content still has to be parsed.
fn parse_start_tag<'input>(s: &mut Stream<'input>, events: &mut impl XmlEvents<'input>) -> Result<bool> {
    let start = s.pos();
    s.advance(1); // <
    let (prefix, local) = s.consume_qname()?;
    events.token(Token::ElementStart(prefix, local, start))?;

    let mut open = false;
    while !s.at_end() {
        let has_space = s.starts_with_space();
        s.skip_spaces();
        let start = s.pos();
        match s.curr_byte()? {
            b'/' => {
                s.advance(1);
                s.consume_byte(b'>')?;
                let range = s.range_from(start);
                events.token(Token::ElementEnd(ElementEnd::Empty, range))?;
                break;
            }
            b'>' => {
                s.advance(1);
                let range = s.range_from(start);
                events.token(Token::ElementEnd(ElementEnd::Open, range))?;
                open = true;
                break;
            }
            _ => {
                // An attribute must be preceded with a whitespace.
                if !has_space {
                    // Will always trigger an error. Which is what we want.
                    s.consume_spaces()?;
                }

                // Manual inlining of `parse_attribute` for performance.
                // We cannot mark `parse_attribute` as `#[inline(always)]`
                // because it will blow up the binary size.
                let (prefix, local) = s.consume_qname()?;
                let qname_end = s.pos();
                let qname_len = u16::try_from(qname_end - start).unwrap_or(u16::MAX);
                s.consume_eq()?;
                let eq_len = u8::try_from(s.pos() - qname_end).unwrap_or(u8::MAX);
                let quote = s.consume_quote()?;
                // The attribute value must not contain the < character.
                let value_start = s.pos();
                s.advance_until2(quote, b'<')?;
                let value = s.slice_back_span(value_start);
                is_xml_str(value.as_str(), value_start, s)?;
                s.consume_byte(quote)?;
                let end = s.pos();
                events.token(Token::Attribute(start..end, qname_len, eq_len, prefix, local, value))?;
            }
        }
    }

    Ok(open)
}

// Attribute ::= Name Eq AttValue
fn parse_attribute<'input>(
    s: &mut Stream<'input>,
) -> Result<(&'input str, &'input str, StrSpan<'input>)> {
    let (prefix, local) = s.consume_qname()?;
    s.consume_eq()?;
    let quote = s.consume_quote()?;
    let quote_c = quote as char;
    // The attribute value must not contain the < character.
    let value_start = s.pos();
    s.skip_chars(|_, c| c != quote_c && c != '<')?;
    let value = s.slice_back_span(value_start);
    s.consume_byte(quote)?;
    Ok((prefix, local, value))
}

// content ::= CharData? ((element | Reference | CDSect | PI | Comment) CharData?)*
// element ::= EmptyElemTag | STag content ETag
//
// Nested elements are parsed iteratively, tracking the depth explicitly
// instead of recursing, so deeply nested documents cannot overflow the stack.
// An end tag at depth 0 closes the caller's element and ends this call.
pub fn parse_content<'input>(
    s: &mut Stream<'input>,
    events: &mut impl XmlEvents<'input>,
) -> Result<()> {
    let mut depth: u32 = 0;

    while !s.at_end() {
        match s.curr_byte() {
            Ok(b'<') => match s.next_byte() {
                Ok(b'!') => {
                    if s.starts_with(b"<!--") {
                        parse_comment(s, events)?;
                    } else if s.starts_with(b"<![CDATA[") {
                        parse_cdata(s, events)?;
                    } else {
                        return Err(Error::UnknownToken(s.gen_text_pos()));
                    }
                }
                Ok(b'?') => parse_pi(s, events)?,
                Ok(b'/') => {
                    parse_close_element(s, events)?;
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                Ok(_) => {
                    if parse_start_tag(s, events)? {
                        depth = depth.checked_add(1).ok_or(Error::NodesLimitReached)?;
                    }
                }
                Err(_) => return Err(Error::UnknownToken(s.gen_text_pos())),
            },
            Ok(_) => parse_text(s, events)?,
            Err(_) => return Err(Error::UnknownToken(s.gen_text_pos())),
        }
    }

    Ok(())
}

// CDSect  ::= CDStart CData CDEnd
// CDStart ::= '<![CDATA['
// CData   ::= (Char* - (Char* ']]>' Char*))
// CDEnd   ::= ']]>'
fn parse_cdata<'input>(s: &mut Stream<'input>, events: &mut impl XmlEvents<'input>) -> Result<()> {
    let start = s.pos();
    s.advance(9); // <![CDATA[
    let text = s.consume_chars(|s, c| !(c == ']' && s.starts_with(b"]]>")))?;
    s.skip_string(b"]]>")?;
    let range = s.range_from(start);
    events.token(Token::Cdata(text, range))?;
    Ok(())
}

// '</' Name S? '>'
fn parse_close_element<'input>(
    s: &mut Stream<'input>,
    events: &mut impl XmlEvents<'input>,
) -> Result<()> {
    let start = s.pos();
    s.advance(2); // </

    let (prefix, tag_name) = s.consume_qname()?;
    s.skip_spaces();
    s.consume_byte(b'>')?;

    let range = s.range_from(start);
    events.token(Token::ElementEnd(
        ElementEnd::Close(prefix, tag_name),
        range,
    ))?;
    Ok(())
}

fn parse_text<'input>(s: &mut Stream<'input>, events: &mut impl XmlEvents<'input>) -> Result<()> {
    let start = s.pos();
    let (text, marks) = s.consume_text()?;

    // According to the spec, `]]>` must not appear inside a Text node.
    // https://www.w3.org/TR/xml/#syntax
    //
    // Look for `]]>` only if the scan saw a `>` (vendored change: the scan tells, instead of a
    // second pass over the text with `memchr`).
    if marks.greater_than && text.contains("]]>") {
        return Err(Error::InvalidCharacterData(s.gen_text_pos()));
    }

    let range = s.range_from(start);
    events.token(Token::Text(text, range, marks.amp_or_cr))?;
    Ok(())
}

/// What `Stream::consume_text` saw in a text besides its characters being XML `Char`s.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct TextMarks {
    /// The text holds a `>` (and so perhaps a `]]>`).
    pub greater_than: bool,
    /// The text holds a `&` or a carriage return.
    pub amp_or_cr: bool,
}

/// Representation of the [Reference](https://www.w3.org/TR/xml/#NT-Reference) value.
#[derive(Clone, Copy)]
pub enum Reference<'input> {
    /// An entity reference.
    ///
    /// <https://www.w3.org/TR/xml/#NT-EntityRef>
    Entity(&'input str),

    /// A character reference.
    ///
    /// <https://www.w3.org/TR/xml/#NT-CharRef>
    Char(char),
}

#[derive(Clone)]
pub struct Stream<'input> {
    pos: usize,
    end: usize,
    span: StrSpan<'input>,
}

impl<'input> Stream<'input> {
    #[inline]
    pub fn new(text: &'input str) -> Self {
        Stream {
            pos: 0,
            end: text.len(),
            span: text.into(),
        }
    }

    #[inline]
    pub fn from_substr(text: &'input str, fragment: Range<usize>) -> Self {
        Stream {
            pos: fragment.start,
            end: fragment.end,
            span: text.into(),
        }
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    #[inline]
    pub fn curr_byte(&self) -> Result<u8> {
        if self.at_end() {
            return Err(Error::UnexpectedEndOfStream);
        }

        Ok(self.curr_byte_unchecked())
    }

    #[inline]
    pub fn curr_byte_unchecked(&self) -> u8 {
        self.span.text.as_bytes()[self.pos]
    }

    #[inline]
    fn next_byte(&self) -> Result<u8> {
        if self.pos + 1 >= self.end {
            return Err(Error::UnexpectedEndOfStream);
        }

        Ok(self.span.as_str().as_bytes()[self.pos + 1])
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.span.text.as_bytes()[self.pos..self.end]
    }

    #[inline]
    pub fn advance(&mut self, n: usize) {
        debug_assert!(self.pos + n <= self.end);
        self.pos += n;
    }

    #[inline]
    fn starts_with(&self, text: &[u8]) -> bool {
        self.span.text.as_bytes()[self.pos..self.end].starts_with(text)
    }

    fn consume_byte(&mut self, c: u8) -> Result<()> {
        let curr = self.curr_byte()?;
        if curr != c {
            return Err(Error::InvalidChar(c, curr, self.gen_text_pos()));
        }

        self.advance(1);
        Ok(())
    }

    // Unlike `consume_byte()` will not return any errors.
    fn try_consume_byte(&mut self, c: u8) -> bool {
        match self.curr_byte() {
            Ok(b) if b == c => {
                self.advance(1);
                true
            }
            _ => false,
        }
    }

    fn skip_string(&mut self, text: &'static [u8]) -> Result<()> {
        if !self.starts_with(text) {
            let pos = self.gen_text_pos();

            // Assume that all input `text` are valid UTF-8 strings, so unwrap is safe.
            let expected = str::from_utf8(text).unwrap();

            return Err(Error::InvalidString(expected, pos));
        }

        self.advance(text.len());
        Ok(())
    }

    #[inline]
    fn consume_bytes<F: Fn(u8) -> bool>(&mut self, f: F) -> &'input str {
        let start = self.pos;
        self.skip_bytes(f);
        self.slice_back(start)
    }

    fn skip_bytes<F: Fn(u8) -> bool>(&mut self, f: F) {
        while !self.at_end() && f(self.curr_byte_unchecked()) {
            self.advance(1);
        }
    }

    #[inline]
    fn consume_chars<F>(&mut self, f: F) -> Result<&'input str>
    where
        F: Fn(&Stream, char) -> bool,
    {
        let start = self.pos;
        self.skip_chars(f)?;
        Ok(self.slice_back(start))
    }

    #[inline]
    fn skip_chars<F>(&mut self, f: F) -> Result<()>
    where
        F: Fn(&Stream, char) -> bool,
    {
        for c in self.chars() {
            if !c.is_xml_char() {
                return Err(Error::NonXmlChar(c, self.gen_text_pos()));
            } else if f(self, c) {
                self.advance(c.len_utf8());
            } else {
                break;
            }
        }

        Ok(())
    }

    /// Consumes character data up to the next `<` or the end, like
    /// `consume_chars(|_, c| c != '<')`, but skips runs of plain characters 64 and eight bytes
    /// at a time (vendored change: base64 attachments are most of an e-invoice's bytes), and
    /// tells whether the text holds a `>`, and whether it holds a `&` or a carriage return:
    /// the plain characters are none of these, so every such byte goes the byte-wise way.
    fn consume_text(&mut self) -> Result<(&'input str, TextMarks)> {
        let start = self.pos;
        let bytes = &self.span.text.as_bytes()[..self.end];
        let mut marks = TextMarks::default();
        loop {
            let mut plain_words = 0;
            while let Some(word) = array_at::<8>(bytes, self.pos) {
                if !is_plain_text_word(u64::from_le_bytes(*word)) {
                    break;
                }
                self.pos += word.len();
                plain_words += 1;
                // After 32 plain bytes in a row, a long run (an attachment) is likely: try 64
                // bytes at a time (not earlier, the test costs as much as eight words).
                if plain_words == 4 {
                    while let Some(chunk) = array_at::<64>(bytes, self.pos) {
                        if is_plain_text_chunk(chunk, false) {
                            self.pos += chunk.len();
                        } else if is_plain_text_chunk(chunk, true) {
                            // Plain but for a carriage return (an attachment in a file with
                            // CR LF line ends).
                            marks.amp_or_cr = true;
                            self.pos += chunk.len();
                        } else {
                            break;
                        }
                    }
                }
            }
            match bytes.get(self.pos) {
                None | Some(b'<') => break,
                Some(b'>') => {
                    marks.greater_than = true;
                    self.pos += 1;
                }
                Some(b'&' | b'\r') => {
                    marks.amp_or_cr = true;
                    self.pos += 1;
                }
                Some(&b) if (0x20..0x80).contains(&b) || b == b'\t' || b == b'\n' => self.pos += 1,
                Some(_) => match self.chars().next() {
                    Some(c) if c.is_xml_char() => self.advance(c.len_utf8()),
                    Some(c) => return Err(Error::NonXmlChar(c, self.gen_text_pos())),
                    None => break,
                },
            }
        }
        Ok((self.slice_back(start), marks))
    }

    #[inline]
    fn advance_until2(&mut self, needle1: u8, needle2: u8) -> Result<()> {
        match memchr2(needle1, needle2, self.as_bytes()) {
            Some(pos) => {
                self.advance(pos);
                Ok(())
            }
            None => Err(Error::UnexpectedEndOfStream),
        }
    }

    #[inline]
    fn chars(&self) -> str::Chars<'input> {
        self.span.as_str()[self.pos..self.end].chars()
    }

    #[inline]
    fn slice_back(&self, pos: usize) -> &'input str {
        self.span.slice_region(pos, self.pos)
    }

    #[inline]
    fn slice_back_span(&self, pos: usize) -> StrSpan<'input> {
        StrSpan::from_substr(self.span.text, pos, self.pos)
    }

    #[inline]
    fn range_from(&self, start: usize) -> Range<usize> {
        start..self.pos
    }

    #[inline]
    fn skip_spaces(&mut self) {
        while self.starts_with_space() {
            self.advance(1);
        }
    }

    #[inline]
    fn starts_with_space(&self) -> bool {
        !self.at_end() && self.curr_byte_unchecked().is_xml_space()
    }

    // Like `skip_spaces()`, but checks that first char is actually a space.
    fn consume_spaces(&mut self) -> Result<()> {
        if self.at_end() {
            return Err(Error::UnexpectedEndOfStream);
        }

        if !self.starts_with_space() {
            return Err(Error::InvalidChar2(
                "a whitespace",
                self.curr_byte_unchecked(),
                self.gen_text_pos(),
            ));
        }

        self.skip_spaces();
        Ok(())
    }

    /// Consumes according to: <https://www.w3.org/TR/xml/#NT-Reference>
    #[inline(never)]
    pub fn consume_reference(&mut self) -> Option<Reference<'input>> {
        if !self.try_consume_byte(b'&') {
            return None;
        }

        let reference = if self.try_consume_byte(b'#') {
            let (value, radix) = if self.try_consume_byte(b'x') {
                let value =
                    self.consume_bytes(|c| c.is_ascii_hexdigit());
                (value, 16)
            } else {
                let value = self.consume_bytes(|c| c.is_ascii_digit());
                (value, 10)
            };

            let n = u32::from_str_radix(value, radix).ok()?;

            // Vendored change: a reference to a surrogate or beyond U+10FFFF is malformed (the
            // released crate read it as U+FFFD).
            let c = char::from_u32(n)?;
            if !c.is_xml_char() {
                return None;
            }

            Reference::Char(c)
        } else {
            let name = self.consume_name().ok()?;
            match name {
                "quot" => Reference::Char('"'),
                "amp" => Reference::Char('&'),
                "apos" => Reference::Char('\''),
                "lt" => Reference::Char('<'),
                "gt" => Reference::Char('>'),
                _ => Reference::Entity(name),
            }
        };

        self.consume_byte(b';').ok()?;

        Some(reference)
    }

    /// Consumes according to: <https://www.w3.org/TR/xml/#NT-Name>
    fn consume_name(&mut self) -> Result<&'input str> {
        let start = self.pos();
        self.skip_name()?;

        let name = self.slice_back(start);
        if name.is_empty() {
            return Err(Error::InvalidName(self.gen_text_pos_from(start)));
        }

        Ok(name)
    }

    /// The same as `consume_name()`, but does not return a consumed name.
    fn skip_name(&mut self) -> Result<()> {
        let start = self.pos();
        let mut iter = self.chars();
        if let Some(c) = iter.next() {
            if c.is_xml_name_start() {
                self.advance(c.len_utf8());
            } else {
                return Err(Error::InvalidName(self.gen_text_pos_from(start)));
            }
        }

        for c in iter {
            if c.is_xml_name() {
                self.advance(c.len_utf8());
            } else {
                break;
            }
        }

        Ok(())
    }

    /// Consumes a qualified XML name and returns it.
    ///
    /// Consumes according to: <https://www.w3.org/TR/xml-names/#ns-qualnames>
    #[inline(never)]
    fn consume_qname(&mut self) -> Result<(&'input str, &'input str)> {
        let start = self.pos();

        // Vendored change: a name of ASCII name characters with at most one `:` (nearly every
        // name) is read by table lookup alone; one that goes on with a non-ASCII character or a
        // second `:` is read again from its start by the released loop below.
        let mut splitter = None;
        self.skip_ascii_name_run();
        if self.curr_byte().ok() == Some(b':') {
            splitter = Some(self.pos());
            self.advance(1);
            self.skip_ascii_name_run();
        }
        if matches!(self.curr_byte(), Ok(b) if b >= 128 || b == b':') {
            self.pos = start;
            splitter = None;
            self.consume_qname_chars(start, &mut splitter)?;
        }

        let (prefix, local) = if let Some(splitter) = splitter {
            let prefix = self.span.slice_region(start, splitter);
            let local = self.slice_back(splitter + 1);
            (prefix, local)
        } else {
            let local = self.slice_back(start);
            // Slice an empty prefix. This way we can preserve attribute start position.
            (self.span.slice_region(start, start), local)
        };

        fn is_xml_name_start(name: &str) -> bool {
            if let Some(b) = name.as_bytes().first() {
                if *b < 128 {
                    return b.is_xml_name_start();
                } else if let Some(c) = name.chars().next() {
                    return c.is_xml_name_start();
                }
            }

            false
        }

        // Prefix must be empty or start with a `NameStartChar`.
        if !prefix.is_empty() && !is_xml_name_start(prefix) {
            return Err(Error::InvalidName(self.gen_text_pos_from(start)));
        }

        // Local name must start with a `NameStartChar`.
        if !is_xml_name_start(local) {
            return Err(Error::InvalidName(self.gen_text_pos_from(start)));
        }

        Ok((prefix, local))
    }

    /// The released loop of `consume_qname`: reads the name characters from `start` on and
    /// notes the position of the `:` in `splitter` (a second `:` is an error).
    #[cold]
    #[inline(never)]
    fn consume_qname_chars(&mut self, start: usize, splitter: &mut Option<usize>) -> Result<()> {
        while !self.at_end() {
            // Check for ASCII first for performance reasons.
            let b = self.curr_byte_unchecked();
            if b < 128 {
                if b == b':' {
                    if splitter.is_none() {
                        *splitter = Some(self.pos());
                        self.advance(1);
                    } else {
                        // Multiple `:` is an error.
                        return Err(Error::InvalidName(self.gen_text_pos_from(start)));
                    }
                } else if b.is_xml_name() {
                    self.advance(1);
                    self.skip_ascii_name_run();
                } else {
                    break;
                }
            } else {
                // Fallback to Unicode code point.
                match self.chars().next() {
                    Some(c) if c.is_xml_name() => {
                        self.advance(c.len_utf8());
                    }
                    _ => break,
                }
            }
        }

        Ok(())
    }

    /// Skips ASCII name characters other than `:` by table lookup (a vendored change: the
    /// byte-wise checks of `consume_qname` took a tenth of an e-invoice's parse).
    #[inline]
    fn skip_ascii_name_run(&mut self) {
        let bytes = &self.span.text.as_bytes()[..self.end];
        while let Some(&b) = bytes.get(self.pos) {
            if !ASCII_NAME_CHAR[usize::from(b)] {
                break;
            }
            self.pos += 1;
        }
    }

    fn consume_eq(&mut self) -> Result<()> {
        self.skip_spaces();
        self.consume_byte(b'=')?;
        self.skip_spaces();

        Ok(())
    }

    fn consume_quote(&mut self) -> Result<u8> {
        let c = self.curr_byte()?;
        if c == b'\'' || c == b'"' {
            self.advance(1);
            Ok(c)
        } else {
            Err(Error::InvalidChar2("a quote", c, self.gen_text_pos()))
        }
    }

    /// Calculates a current absolute position.
    ///
    /// This operation is very expensive. Use only for errors.
    #[inline(never)]
    pub fn gen_text_pos(&self) -> TextPos {
        let text = self.span.as_str();
        let end = self.pos;

        let row = Self::calc_curr_row(text, end);
        let col = Self::calc_curr_col(text, end);
        TextPos::new(row, col)
    }

    /// Calculates an absolute position at `pos`.
    ///
    /// This operation is very expensive. Use only for errors.
    #[inline(never)]
    pub fn gen_text_pos_from(&self, pos: usize) -> TextPos {
        let mut s = self.clone();
        s.pos = core::cmp::min(pos, s.span.as_str().len());
        s.gen_text_pos()
    }

    fn calc_curr_row(text: &str, end: usize) -> u32 {
        let mut row = 1;
        for c in &text.as_bytes()[..end] {
            if *c == b'\n' {
                row += 1;
            }
        }

        row
    }

    fn calc_curr_col(text: &str, end: usize) -> u32 {
        let mut col = 1;
        for c in text[..end].chars().rev() {
            if c == '\n' {
                break;
            } else {
                col += 1;
            }
        }

        col
    }
}

/// The bytes that are ASCII `NameChar`s other than `:` (`is_xml_name` on bytes below 128).
static ASCII_NAME_CHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = matches!(b as u8, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.');
        b += 1;
    }
    table
};

/// The `N` bytes from `pos` on, if there are that many (`<[u8]>::first_chunk` is newer than the
/// crate's minimum Rust version).
#[inline]
fn array_at<const N: usize>(bytes: &[u8], pos: usize) -> Option<&[u8; N]> {
    bytes.get(pos..pos.checked_add(N)?).and_then(|bytes| bytes.try_into().ok())
}

/// `true` if all 64 bytes are plain text: printable ASCII (0x20..=0x7F) other than `&`, `<`, `>`,
/// or a line feed, or with `carriage_return` a carriage return. Each is an XML `Char` that
/// continues a text node and needs no further look but the carriage return (`&`, `>` and the
/// carriage return are for `TextMarks`; `<` and `>` are the bytes `b` with `b | 2 == b'>'`).
///
/// Written without an early exit and without branches so that the compiler checks the bytes 16
/// at a time with vector instructions (on x86_64 with SSE2, about 13 instructions per 16 bytes:
/// the signed comparison takes control characters and bytes from 0x80 up at once); base64
/// attachments, the bulk of an e-invoice, go through here.
#[inline]
fn is_plain_text_chunk(chunk: &[u8; 64], carriage_return: bool) -> bool {
    let line = |b: u8| (b == b'\n') | carriage_return & (b == b'\r');
    let refused = |b: u8| ((b as i8) < 0x20) & !line(b) | (b | 2 == b'>') | (b == b'&');
    !chunk.iter().fold(false, |any, &b| any | refused(b))
}

/// `true` if all eight bytes of `word` are printable ASCII (0x20..=0x7F) other than `&`, `<`, `>`
/// (the plain text of `is_plain_text_chunk` but the line feed). The byte-wise sums
/// cannot carry into the next byte once every byte is below 0x80, which the first test ensures
/// (and if it fails, the answer is `false` whatever the others say).
#[inline]
fn is_plain_text_word(word: u64) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let ascii = word & HIGH == 0;
    let at_least_space = word.wrapping_add(0x6060_6060_6060_6060);
    let no_markup = ((word | 0x0202_0202_0202_0202) ^ 0x3E3E_3E3E_3E3E_3E3E).wrapping_add(LOW);
    let no_amp = (word ^ 0x2626_2626_2626_2626).wrapping_add(LOW);
    ascii && at_least_space & no_markup & no_amp & HIGH == HIGH
}

#[cfg(test)]
mod plain_text_word_tests {
    use super::*;

    #[test]
    fn the_name_table_holds_the_ascii_name_characters_but_the_colon() {
        for b in 0..=255u8 {
            assert_eq!(ASCII_NAME_CHAR[usize::from(b)], b < 128 && b != b':' && b.is_xml_name(), "{b:#x}");
        }
    }

    /// `consume_qname` as released, before the table lookup.
    fn consume_qname_as_released<'input>(s: &mut Stream<'input>) -> Result<(&'input str, &'input str)> {
        let start = s.pos();

        let mut splitter = None;

        while !s.at_end() {
            // Check for ASCII first for performance reasons.
            let b = s.curr_byte_unchecked();
            if b < 128 {
                if b == b':' {
                    if splitter.is_none() {
                        splitter = Some(s.pos());
                        s.advance(1);
                    } else {
                        // Multiple `:` is an error.
                        return Err(Error::InvalidName(s.gen_text_pos_from(start)));
                    }
                } else if b.is_xml_name() {
                    s.advance(1);
                } else {
                    break;
                }
            } else {
                // Fallback to Unicode code point.
                match s.chars().next() {
                    Some(c) if c.is_xml_name() => {
                        s.advance(c.len_utf8());
                    }
                    _ => break,
                }
            }
        }

        let (prefix, local) = if let Some(splitter) = splitter {
            let prefix = s.span.slice_region(start, splitter);
            let local = s.slice_back(splitter + 1);
            (prefix, local)
        } else {
            let local = s.slice_back(start);
            // Slice an empty prefix. This way we can preserve attribute start position.
            (s.span.slice_region(start, start), local)
        };

        fn is_xml_name_start(name: &str) -> bool {
            if let Some(b) = name.as_bytes().first() {
                if *b < 128 {
                    return b.is_xml_name_start();
                } else if let Some(c) = name.chars().next() {
                    return c.is_xml_name_start();
                }
            }

            false
        }

        // Prefix must be empty or start with a `NameStartChar`.
        if !prefix.is_empty() && !is_xml_name_start(prefix) {
            return Err(Error::InvalidName(s.gen_text_pos_from(start)));
        }

        // Local name must start with a `NameStartChar`.
        if !is_xml_name_start(local) {
            return Err(Error::InvalidName(s.gen_text_pos_from(start)));
        }

        Ok((prefix, local))
    }

    #[test]
    fn consume_qname_answers_as_released() {
        let alphabet = ['a', 'Z', '0', '_', '-', '.', ':', ' ', '>', '/', '=', '\u{e4}', '\u{b7}', '\u{20ac}', '\u{1f600}', '<'];
        let mut seed = 0x1234_5678_9abc_def1_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..50_000 {
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 5 != 0 { alphabet[(r >> 8) as usize % 6] } else { alphabet[(r >> 8) as usize % alphabet.len()] }
                })
                .collect();
            let mut fast = Stream::new(&text);
            let mut released = Stream::new(&text);
            let answer = fast.consume_qname();
            let expected = consume_qname_as_released(&mut released);
            assert_eq!(answer, expected, "{text:?}");
            assert_eq!(fast.pos(), released.pos(), "{text:?}");
        }
    }

    /// The plain text of `is_plain_text_chunk`, byte by byte.
    fn plain_in_chunk(b: u8) -> bool {
        (0x20..0x80).contains(&b) && !matches!(b, b'&' | b'<' | b'>') || b == b'\n'
    }

    /// The plain text of `is_plain_text_word`, byte by byte.
    fn plain_in_word(b: u8) -> bool {
        plain_in_chunk(b) && b != b'\n'
    }

    #[test]
    fn a_chunk_is_plain_text_exactly_when_every_byte_is() {
        for b in 0..=255u8 {
            for position in 0..64 {
                for fill in [b'A', b'\n', b'~', b' '] {
                    let mut chunk = [fill; 64];
                    chunk[position] = b;
                    assert_eq!(
                        is_plain_text_chunk(&chunk, false),
                        plain_in_chunk(b),
                        "byte {b:#x} at {position} in {fill:#x}"
                    );
                    assert_eq!(
                        is_plain_text_chunk(&chunk, true),
                        plain_in_chunk(b) || b == b'\r',
                        "byte {b:#x} at {position} in {fill:#x}"
                    );
                }
            }
        }
        let mut seed = 0x5851_f42d_4c95_7f2d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..100_000 {
            let mut chunk = [0u8; 64];
            // Any bytes in a quarter of the places, or in one of 128 (then often a plain chunk but
            // one byte); plain bytes (and tabs) in the others.
            let odds = if round % 2 == 0 { 4 } else { 128 };
            for b in &mut chunk {
                let r = next();
                *b = if r % odds == 0 { (r >> 16) as u8 } else { b"AZaz09+/ \n\t\r~!%_"[(r >> 8) as usize % 16] };
            }
            assert_eq!(is_plain_text_chunk(&chunk, false), chunk.iter().all(|&b| plain_in_chunk(b)), "{chunk:?}");
            assert_eq!(
                is_plain_text_chunk(&chunk, true),
                chunk.iter().all(|&b| plain_in_chunk(b) || b == b'\r'),
                "{chunk:?}"
            );
        }
    }

    #[test]
    fn a_word_is_plain_text_exactly_when_every_byte_is() {
        for b in 0..=255u8 {
            for position in 0..8 {
                for fill in [b'A', b' ', b'~'] {
                    let mut bytes = [fill; 8];
                    bytes[position] = b;
                    assert_eq!(
                        is_plain_text_word(u64::from_le_bytes(bytes)),
                        plain_in_word(b),
                        "byte {b:#x} at {position}"
                    );
                }
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bytes = seed.to_le_bytes();
            if round % 2 == 1 {
                // Mostly plain bytes, at most one other.
                for (i, b) in bytes.iter_mut().enumerate() {
                    if i != (seed >> 61) as usize {
                        *b = b"AZaz09+/"[*b as usize % 8];
                    }
                }
            }
            assert_eq!(
                is_plain_text_word(u64::from_le_bytes(bytes)),
                bytes.iter().all(|&b| plain_in_word(b)),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn consume_text_answers_as_the_per_character_scan_does() {
        let alphabet = [
            'a',
            'Z',
            '0',
            '+',
            '/',
            ' ',
            '=',
            '?',
            '>',
            ']',
            '&',
            ';',
            '<',
            '\n',
            '\t',
            '\r',
            '\u{1}',
            '\u{7f}',
            '\u{e4}',
            '\u{20ac}',
            '\u{1f600}',
            '\u{fffe}',
            '\u{b}',
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..60_000 {
            // Short texts with many special characters, and long ones with runs of plain
            // characters (and line ends) long enough for the 32- and 8-byte paths.
            let (len, odds) = match round % 3 {
                0 => ((next() % 40) as usize, 4),
                1 => ((next() % 160) as usize, 24),
                _ => ((next() % 400) as usize, 200),
            };
            let text: String = (0..len)
                .map(|_| {
                    let r = next();
                    if r % odds != 0 { alphabet[(r >> 8) as usize % 6] } else { alphabet[(r >> 8) as usize % alphabet.len()] }
                })
                .collect();
            let fast = Stream::new(&text).consume_text().map(|(text, marks)| (text.len(), marks));
            let plain = Stream::new(&text).consume_chars(|_, c| c != '<').map(|text| {
                let marks = TextMarks { greater_than: text.contains('>'), amp_or_cr: text.contains(['&', '\r']) };
                (text.len(), marks)
            });
            assert_eq!(fast, plain, "{text:?}");
        }
    }

    #[test]
    fn text_ends_at_the_first_less_than_sign_and_refuses_non_xml_characters() {
        for (text, valid) in [
            ("abcdefghijklmnopqrstuvwxyz0123456789+/=<x", true),
            ("abc\ndefghijkl\tmnop\u{e4}qrstuvwxyz</x>", true),
            ("0123456789abcdef", true),
            ("01234567\u{1}89", false),
            ("0123456789abcdef\u{FFFE}", false),
        ] {
            let expected = valid.then(|| text.find('<').unwrap_or(text.len()));
            let mut stream = Stream::new(text);
            let consumed = stream.consume_text().ok().map(|(text, _)| text.len());
            assert_eq!(consumed, expected, "{text:?}");
        }
    }

    #[test]
    fn a_text_is_marked_for_a_greater_than_sign_an_ampersand_or_a_carriage_return() {
        let long = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789abcdefghijklmnopqrstuvwxyz+/+/=";
        for (special, greater_than, amp_or_cr) in
            [("", false, false), (">", true, false), ("&amp;", false, true), ("\r", false, true), ("]]>", true, false)]
        {
            for at in [0, 1, 7, 8, 31, 32, 33, 64, long.len()] {
                let text = alloc::format!("{}{special}{}<end/>", &long[..at], &long[at..]);
                let (consumed, marks) = Stream::new(&text).consume_text().unwrap();
                assert_eq!(consumed.len(), long.len() + special.len(), "{text:?}");
                assert_eq!(marks, TextMarks { greater_than, amp_or_cr }, "{text:?}");
            }
        }
        // Attachments with line ends, LF or CR LF (the chunks with a carriage return).
        for line_end in ["\n", "\r\n"] {
            for line in [60, 64, 76] {
                for lines in [1, 2, 5] {
                    for tail in ["", ">", "&amp;", "\r", "\u{e4}"] {
                        let body = alloc::vec![&long[..line]; lines].join(line_end);
                        let text = alloc::format!("{body}{line_end}{tail}<end/>");
                        let expected = TextMarks { greater_than: tail == ">", amp_or_cr: text.contains(['&', '\r']) };
                        let (consumed, marks) = Stream::new(&text).consume_text().unwrap();
                        assert_eq!(consumed.len(), text.len() - "<end/>".len(), "{text:?}");
                        assert_eq!(marks, expected, "{text:?}");
                    }
                }
            }
        }
    }
}
