//! Simple types: the XSD built-in types these schemas use, checked by their lexical rules
//! (after XSD's whitespace processing), and the restriction facets the schemas use.

/// The built-in XSD types the UBL 2.1 and CII D16B schemas derive from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Builtin {
    String,
    NormalizedString,
    Token,
    Decimal,
    Integer,
    Date,
    Time,
    DateTime,
    Boolean,
    Base64Binary,
    AnyUri,
    Language,
}

impl Builtin {
    pub fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "string" => Builtin::String,
            "normalizedString" => Builtin::NormalizedString,
            "token" => Builtin::Token,
            "decimal" => Builtin::Decimal,
            "integer" => Builtin::Integer,
            "date" => Builtin::Date,
            "time" => Builtin::Time,
            "dateTime" => Builtin::DateTime,
            "boolean" => Builtin::Boolean,
            "base64Binary" => Builtin::Base64Binary,
            "anyURI" => Builtin::AnyUri,
            "language" => Builtin::Language,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::String => "xsd:string",
            Builtin::NormalizedString => "xsd:normalizedString",
            Builtin::Token => "xsd:token",
            Builtin::Decimal => "xsd:decimal",
            Builtin::Integer => "xsd:integer",
            Builtin::Date => "xsd:date",
            Builtin::Time => "xsd:time",
            Builtin::DateTime => "xsd:dateTime",
            Builtin::Boolean => "xsd:boolean",
            Builtin::Base64Binary => "xsd:base64Binary",
            Builtin::AnyUri => "xsd:anyURI",
            Builtin::Language => "xsd:language",
        }
    }

    /// `true` when the value (as written) is in the type's lexical space. String-like types
    /// (string, normalizedString, token) accept any text: their whitespace is replaced or
    /// collapsed, not refused.
    pub fn accepts(self, value: &str) -> bool {
        let value = trim_xml_space(value);
        match self {
            Builtin::String | Builtin::NormalizedString | Builtin::Token => true,
            Builtin::AnyUri => is_any_uri(value),
            Builtin::Decimal => is_decimal(value),
            Builtin::Integer => is_integer(value),
            Builtin::Date => is_date(value),
            Builtin::Time => is_time(value),
            Builtin::DateTime => value.split_once('T').is_some_and(|(date, time)| is_date(date) && is_time(time)),
            Builtin::Boolean => matches!(value, "true" | "false" | "1" | "0"),
            Builtin::Base64Binary => is_base64(value),
            Builtin::Language => is_language(value),
        }
    }
}

/// A simple type: a built-in base and the facets of its restrictions.
#[derive(Debug)]
pub(super) struct SimpleType {
    pub builtin: Builtin,
    enumeration: Vec<&'static str>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

impl SimpleType {
    pub fn new(builtin: Builtin) -> SimpleType {
        SimpleType { builtin, enumeration: Vec::new(), min_length: None, max_length: None }
    }

    pub fn add_facet(&mut self, kind: &str, value: &'static str) {
        let number = || value.parse::<usize>().unwrap_or_else(|_| panic!("schema table: facet {kind} {value}"));
        match kind {
            "enumeration" => self.enumeration.push(value),
            "length" => (self.min_length, self.max_length) = (Some(number()), Some(number())),
            "minLength" => self.min_length = Some(number()),
            "maxLength" => self.max_length = Some(number()),
            other => panic!("schema table: unsupported facet {other}"),
        }
    }

    /// Why the value is not valid for this type, or `None` when it is.
    pub fn problem(&self, value: &str) -> Option<String> {
        if !self.builtin.accepts(value) {
            return Some(format!("is not a valid {}", self.builtin.name()));
        }
        if self.enumeration.is_empty() && self.min_length.is_none() && self.max_length.is_none() {
            return None;
        }
        let normalized = self.normalized(value);
        if !self.enumeration.is_empty() && !self.enumeration.contains(&normalized.as_str()) {
            return Some(format!("is not one of the allowed values {}", self.enumeration.join(", ")));
        }
        let length = normalized.chars().count();
        match (self.min_length, self.max_length) {
            (Some(min), _) if length < min => Some(format!("is shorter than {min} characters")),
            (_, Some(max)) if length > max => Some(format!("is longer than {max} characters")),
            _ => None,
        }
    }

    /// `true` when the value equals the fixed value (after whitespace processing; the generator
    /// takes fixed values of string types only, whose value is their processed text).
    pub fn is_same_value(&self, value: &str, fixed: &str) -> bool {
        self.normalized(value) == self.normalized(fixed)
    }

    fn normalized(&self, value: &str) -> String {
        match self.builtin {
            Builtin::String => value.to_string(),
            Builtin::NormalizedString => value.replace(['\t', '\n', '\r'], " "),
            _ => value.split(crate::xpath::is_xml_space).filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" "),
        }
    }
}

/// `true` when the text is only XML whitespace. Indentation is most of the text between
/// elements, so runs of eight spaces are skipped at once.
pub(super) fn is_xml_whitespace(text: &str) -> bool {
    let mut chunks = text.as_bytes().chunks_exact(8);
    let all_spaces = |chunk: &[u8]| chunk.iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    for chunk in &mut chunks {
        if chunk != b"        " && !all_spaces(chunk) {
            return false;
        }
    }
    all_spaces(chunks.remainder())
}

/// The value without leading and trailing XML whitespace (space, tab, CR, LF), by bytes.
pub(super) fn trim_xml_space(value: &str) -> &str {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let bytes = value.as_bytes();
    let start = bytes.iter().position(|b| !is_space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !is_space(b)).map_or(start, |last| last + 1);
    // Both ends are next to ASCII bytes (or the ends of the string), so they are char boundaries.
    &value[start..end]
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn without_sign(s: &str) -> &str {
    s.strip_prefix(['+', '-']).unwrap_or(s)
}

fn is_integer(s: &str) -> bool {
    digits(without_sign(s))
}

fn is_decimal(s: &str) -> bool {
    let unsigned = without_sign(s);
    match unsigned.split_once('.') {
        None => digits(unsigned),
        Some((whole, fraction)) => {
            (whole.is_empty() || digits(whole))
                && (fraction.is_empty() || digits(fraction))
                && !(whole.is_empty() && fraction.is_empty())
        }
    }
}

/// Splits an optional time zone (`Z` or `±hh:mm`, hh ≤ 14) off the end; `None` if it is malformed.
fn split_timezone(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_suffix('Z') {
        return Some(rest);
    }
    let bytes = s.as_bytes();
    if bytes.len() >= 6 && matches!(bytes[bytes.len() - 6], b'+' | b'-') && bytes[bytes.len() - 3] == b':' {
        let zone = &s[s.len() - 5..];
        let (hours, minutes) = (&zone[..2], &zone[3..]);
        let valid = digits(hours) && digits(minutes) && {
            let (h, m) = (hours.parse::<u32>().unwrap_or(99), minutes.parse::<u32>().unwrap_or(99));
            m <= 59 && (h < 14 || (h == 14 && m == 0))
        };
        return valid.then(|| &s[..s.len() - 6]);
    }
    Some(s)
}

fn is_date(s: &str) -> bool {
    split_timezone(s).is_some_and(is_date_without_zone)
}

fn is_date_without_zone(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let mut parts = unsigned.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let year_ok = digits(year) && year.len() >= 4 && !(year.len() > 4 && year.starts_with('0')) && year != "0000";
    if !year_ok || month.len() != 2 || day.len() != 2 || !digits(month) || !digits(day) {
        return false;
    }
    let (month, day) = (month.parse::<u32>().unwrap_or(0), day.parse::<u32>().unwrap_or(0));
    // Leap years repeat every 400 years, so the last four digits decide (for years of any length).
    let leap = year[year.len() - 4..]
        .parse::<u32>()
        .is_ok_and(|y| y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn is_time(s: &str) -> bool {
    split_timezone(s).is_some_and(is_time_without_zone)
}

fn is_time_without_zone(s: &str) -> bool {
    let (clock, fraction) = s.split_once('.').map_or((s, None), |(c, f)| (c, Some(f)));
    if fraction.is_some_and(|f| !digits(f)) || clock.len() != 8 {
        return false;
    }
    let fields: Vec<&str> = clock.split(':').collect();
    if fields.len() != 3 || !fields.iter().all(|f| f.len() == 2 && digits(f)) {
        return false;
    }
    let number = |i: usize| fields[i].parse::<u32>().unwrap_or(99);
    let (hour, minute, second) = (number(0), number(1), number(2));
    let midnight = hour == 24 && minute == 0 && second == 0 && fraction.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    midnight || (hour < 24 && minute < 60 && second < 60)
}

/// Base64 as XSD defines it: groups of four alphabet characters, `=` padding only at the end,
/// whitespace allowed between characters, and the bits the padding leaves over zero (XSD 1.0's
/// `B04`/`B16` productions; Xerces refuses `QR==` too). Attachments are most of an invoice's
/// bytes, so runs of 64 alphabet characters are checked at once (branch-free, so the compiler
/// vectorises it).
fn is_base64(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut state = Base64State::default();
    let mut chunks = bytes.chunks_exact(64);
    for chunk in &mut chunks {
        if state.padding == 0 && !chunk.iter().fold(false, |any, &b| any | !is_base64_alphabet(b)) {
            state.count += 64;
            state.last = chunk[63];
        } else if !chunk.iter().all(|&b| state.step(b)) {
            return false;
        }
    }
    if !chunks.remainder().iter().all(|&b| state.step(b)) {
        return false;
    }
    let unused_bits = match state.padding {
        0 => 0,
        1 => 0b11,
        2 => 0b1111,
        _ => return false,
    };
    state.count.is_multiple_of(4) && base64_value(state.last) & unused_bits == 0
}

/// The six bits an alphabet character stands for.
fn base64_value(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        _ => 63,
    }
}

fn is_base64_alphabet(b: u8) -> bool {
    (b | 0x20).wrapping_sub(b'a') < 26 || b.wrapping_sub(b'0') < 10 || b == b'+' || b == b'/'
}

/// Characters counted so far (whitespace excluded), how many of them were `=`, and the last
/// alphabet character.
#[derive(Default)]
struct Base64State {
    count: usize,
    padding: usize,
    last: u8,
}

impl Base64State {
    /// Takes one byte; `false` if it cannot stand here.
    fn step(&mut self, byte: u8) -> bool {
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => return true,
            b'=' => self.padding += 1,
            _ if self.padding == 0 && is_base64_alphabet(byte) => self.last = byte,
            _ => return false,
        }
        self.count += 1;
        true
    }
}

/// anyURI: XSD 1.0 leaves its lexical space to the URI RFCs, and Xerces (KoSIT's validator)
/// checks a value by parsing it as an RFC 2396 URI reference (after escaping spaces and
/// non-ASCII characters). Of its refusals these are checked, the ones a value can hit without
/// being a deliberately odd URI: a `%` that does not start an escape, a second `#`, a scheme
/// (text before a `:` that comes before any `/`, `?`, `#`) that is not a letter followed by
/// letters, digits, `+`, `-`, `.`, a scheme with nothing or only a fragment after it, and `[`
/// or `]` in a path (RFC 2732 allows them in an IPv6 host, the opaque part after a scheme, the
/// query and the fragment only). Its authority and IPv6 rules are not reproduced (such values
/// are accepted).
fn is_any_uri(s: &str) -> bool {
    let bytes = s.as_bytes();
    let escapes_ok = bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b != b'%' || bytes.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)));
    if !escapes_ok || bytes.iter().filter(|&&b| b == b'#').count() > 1 {
        return false;
    }
    let before_path = &s[..s.find(['/', '?', '#']).unwrap_or(s.len())];
    let rest = match before_path.split_once(':') {
        None => s,
        Some((scheme, _)) => {
            let rest = &s[scheme.len() + 1..];
            let mut chars = scheme.bytes();
            let valid = chars.next().is_some_and(|b| b.is_ascii_alphabetic())
                && chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                && !rest.is_empty()
                && !rest.starts_with('#');
            if !valid {
                return false;
            }
            if !rest.starts_with('/') {
                return true; // the opaque part
            }
            rest
        }
    };
    let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let path = match path.strip_prefix("//") {
        Some(authority_and_path) => {
            &authority_and_path[authority_and_path.find('/').unwrap_or(authority_and_path.len())..]
        }
        None => path,
    };
    !path.contains(['[', ']'])
}

fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    let part_ok = |p: &str, alphanumeric: bool| {
        (1..=8).contains(&p.len())
            && p.bytes().all(|b| if alphanumeric { b.is_ascii_alphanumeric() } else { b.is_ascii_alphabetic() })
    };
    part_ok(primary, false) && parts.all(|p| part_ok(p, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 96 characters: three runs of 32 for the fast path, with `+`, `/`, digits and padding.
    const BASE64_LONG: &str =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLz8+/w+/AA==";

    #[test]
    fn built_in_types_follow_their_lexical_rules() {
        let cases: &[(Builtin, &[&str], &[&str])] = &[
            (Builtin::Decimal, &["1", "-1.5", "+.5", "10.", " 12.30\n"], &["", ".", "1,5", "1e3", "1 000", "EUR 1"]),
            (Builtin::Integer, &["0", "-12", "+3"], &["1.0", "", "x"]),
            (
                Builtin::Date,
                &["2024-02-29", "2023-12-31Z", "2023-01-01+01:00", "-0044-03-15"],
                &[
                    "2023-02-29",
                    "1900-02-29",
                    "2023-13-01",
                    "2023-1-01",
                    "20230101",
                    "2023-01-01T00:00:00",
                    "0000-01-01",
                    "2023-01-01+15:00",
                ],
            ),
            (
                Builtin::Time,
                &["12:00:00", "23:59:59.999", "24:00:00", "08:00:00+02:00"],
                &["24:00:01", "12:00", "1:00:00"],
            ),
            (Builtin::DateTime, &["2023-01-01T12:00:00Z"], &["2023-01-01", "2023-01-01 12:00:00"]),
            (Builtin::Boolean, &["true", "0", " false "], &["TRUE", "yes", ""]),
            (
                Builtin::Base64Binary,
                &["", "QUJD", "QUI=", "QQ==", "QUJD\nREVG", "AAA=", "QQ = =", BASE64_LONG],
                &[
                    "QR==",
                    "QUJ=",
                    "QUJ",
                    "Q===",
                    "QU=D",
                    "QUJ*",
                    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk@ZWZn",
                    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg=QUJD",
                ],
            ),
            (Builtin::Language, &["de", "en-GB", "de-DE-1996"], &["", "de_DE", "toolongxyz"]),
            (Builtin::Token, &["", " any\ttext "], &[]),
            (
                Builtin::AnyUri,
                &[
                    "",
                    "http://example.org/a b?q=1#f",
                    "urn:x:y",
                    "a%20b",
                    "../x",
                    "#f",
                    "http://[::1]/",
                    " mailto:a@b ",
                    "urn:a[1]",
                    "x?a[1]#b]",
                ],
                &["%zz", "50%", ":abc", "1abc:def", "a#b#c", "http:", "urn:#f", "::", "/a[1]", "http://h/a]", "a[b"],
            ),
        ];
        for (builtin, valid, invalid) in cases {
            for value in *valid {
                assert!(builtin.accepts(value), "{} should accept {value:?}", builtin.name());
            }
            for value in *invalid {
                assert!(!builtin.accepts(value), "{} should refuse {value:?}", builtin.name());
            }
        }
    }

    #[test]
    fn long_base64_is_checked_run_by_run_with_every_character_counted() {
        let run = "QUJD".repeat(16);
        assert!(is_base64(&format!("{run}{run}\n{run}QQ==")));
        assert!(is_base64(&format!("{run}Q\r\n{run}QUJ")), "a run broken by a line end");
        for bad in ["@", "=", "\u{e4}", "-", "_"] {
            for at in [0, 17, 63, 64, 100] {
                let mut text = format!("{run}{run}QUJD");
                text.replace_range(at..=at, bad);
                assert!(!is_base64(&text), "{bad:?} at {at}");
            }
        }
        assert!(!is_base64(&format!("{run}QQ=={run}")), "padding before a run");
        assert!(!is_base64(&format!("{run}{run}Q")), "130 characters are no multiple of four");
    }

    #[test]
    fn whitespace_is_told_from_text() {
        assert!(is_xml_whitespace(""));
        assert!(is_xml_whitespace("\n                    \t\r\n  "));
        assert!(!is_xml_whitespace("\n                x   "));
        assert!(!is_xml_whitespace("        \u{a0}"));
        assert_eq!(trim_xml_space("\n  12.5 \t"), "12.5");
        assert_eq!(trim_xml_space("   "), "");
    }

    #[test]
    fn facets_apply_to_the_whitespace_processed_value() {
        let mut code = SimpleType::new(Builtin::Token);
        code.add_facet("minLength", "1");
        code.add_facet("maxLength", "3");
        assert_eq!(code.problem(" KGM "), None);
        assert_eq!(code.problem("KGMX").as_deref(), Some("is longer than 3 characters"));
        assert_eq!(code.problem("  ").as_deref(), Some("is shorter than 1 characters"));
        let mut flag = SimpleType::new(Builtin::Token);
        flag.add_facet("enumeration", "A");
        flag.add_facet("enumeration", "B");
        assert_eq!(flag.problem(" B"), None);
        assert_eq!(flag.problem("C").as_deref(), Some("is not one of the allowed values A, B"));
    }
}
