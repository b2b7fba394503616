//! A push parser for CSV (RFC 4180 plus what real German files do): it is fed chunks of bytes
//! as they arrive, so a file of any size streams through a small buffer, and it counts lines so
//! every record (and every bad one) carries the line number where it starts.
//!
//! Bounded: a field longer than [`MAX_FIELD_BYTES`] or a record with more than [`MAX_FIELDS`]
//! fields is reported as bad and skipped up to the next line end, so a runaway quote cannot
//! swallow the file into memory.

/// The longest field accepted (1 MiB).
pub const MAX_FIELD_BYTES: usize = 1 << 20;
/// The most fields a record may have.
pub const MAX_FIELDS: usize = 4096;
/// Every reason a record can be bad ([`RawRecord::error`]); the web layer's messages hold their
/// German and English texts (section `[csv]`).
pub const ERRORS: [&str; 4] =
    ["csv.too_many_fields", "csv.field_too_long", "csv.text_after_quote", "csv.unclosed_quote"];

/// The text encodings the importer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    Windows1252,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Windows1252 => "windows1252",
        }
    }

    pub fn parse(s: &str) -> Option<Encoding> {
        match s {
            "utf8" | "utf-8" => Some(Encoding::Utf8),
            "windows1252" | "windows-1252" | "cp1252" | "latin1" => Some(Encoding::Windows1252),
            _ => None,
        }
    }

    /// Decodes one field. UTF-8 that does not decode is an error (never replaced silently);
    /// every byte has a meaning in Windows-1252.
    pub fn decode(self, bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, usize> {
        match self {
            Encoding::Utf8 => std::str::from_utf8(bytes).map(std::borrow::Cow::Borrowed).map_err(|e| e.valid_up_to()),
            Encoding::Windows1252 => Ok(std::borrow::Cow::Owned(bytes.iter().map(|&b| windows1252(b)).collect())),
        }
    }
}

/// The characters of Windows-1252 at 0x80..=0x9F; the rest is Latin-1. The five undefined
/// positions map to the C1 control of the same number, as the WHATWG encoding standard does.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn windows1252(b: u8) -> char {
    if (0x80..0xA0).contains(&b) { CP1252_HIGH[usize::from(b - 0x80)] } else { char::from(b) }
}

/// Chooses the encoding from the first bytes: UTF-8 when they decode as UTF-8 (a sequence cut
/// at the end of the sample is allowed), Windows-1252 otherwise.
pub fn detect_encoding(sample: &[u8]) -> Encoding {
    match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

/// One record as raw bytes: the fields end at `ends`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawRecord {
    /// The line (1-based) where the record starts.
    pub line: u64,
    data: Vec<u8>,
    ends: Vec<usize>,
    /// Why the record is bad, if it is.
    pub error: Option<&'static str>,
}

impl RawRecord {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn field(&self, i: usize) -> &[u8] {
        &self.data[self.span(i)]
    }

    /// Where field `i` lies in [`RawRecord::data`].
    pub fn span(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }

    /// The bytes of all fields, one after the other.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// True for a line with nothing on it (skipped, not an error).
    fn is_blank(&self) -> bool {
        self.ends.len() == 1 && self.data.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: either the first of `""` or the closing one.
    QuoteInQuoted,
    /// After an error: everything up to the next line end belongs to the bad record.
    SkipLine,
}

/// The UTF-8 encoding of U+FEFF, which some programs put before the first header.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// The push parser. Feed chunks with [`Parser::feed`], then call [`Parser::finish`].
#[derive(Debug)]
pub struct Parser {
    delimiter: u8,
    /// Nothing fed yet: a UTF-8 byte order mark (as spreadsheet programs write) is skipped.
    at_start: bool,
    state: State,
    line: u64,
    current: RawRecord,
    field_start: usize,
}

impl Parser {
    pub fn new(delimiter: u8) -> Self {
        Parser {
            delimiter,
            at_start: true,
            state: State::FieldStart,
            line: 1,
            current: RawRecord { line: 1, ..RawRecord::default() },
            field_start: 0,
        }
    }

    fn end_field(&mut self) {
        self.current.ends.push(self.current.data.len());
        self.field_start = self.current.data.len();
        if self.current.ends.len() > MAX_FIELDS {
            self.fail("csv.too_many_fields");
        }
    }

    fn fail(&mut self, error: &'static str) {
        if self.current.error.is_none() {
            self.current.error = Some(error);
        }
        self.state = State::SkipLine;
    }

    fn end_record(&mut self, out: &mut Vec<RawRecord>) {
        if self.state != State::SkipLine {
            self.end_field();
        }
        // The next record is likely shaped like this one: room for as much, in one allocation each.
        let next = RawRecord {
            line: self.line,
            data: Vec::with_capacity(self.current.data.len().min(MAX_FIELD_BYTES)),
            ends: Vec::with_capacity(self.current.ends.len()),
            error: None,
        };
        let record = std::mem::replace(&mut self.current, next);
        self.field_start = 0;
        self.state = State::FieldStart;
        if record.error.is_some() || !record.is_blank() {
            out.push(record);
        }
    }

    /// Appends a run of field bytes and says how many it consumed: all of them, or up to and
    /// including the byte that makes the field too long (the record is then bad and the
    /// parser skips to the next line end from there, as it would byte by byte).
    fn push_run(&mut self, run: &[u8]) -> usize {
        let room = MAX_FIELD_BYTES - (self.current.data.len() - self.field_start);
        if run.len() > room {
            self.current.data.extend_from_slice(&run[..room]);
            self.fail("csv.field_too_long");
            room + 1
        } else {
            self.current.data.extend_from_slice(run);
            run.len()
        }
    }

    /// Parses a chunk; complete records are appended to `out`. Runs of ordinary bytes inside a
    /// field are copied at once; only the bytes that can change the state are looked at singly.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<RawRecord>) {
        let mut i = 0;
        if std::mem::take(&mut self.at_start) && chunk.starts_with(BYTE_ORDER_MARK) {
            i = BYTE_ORDER_MARK.len();
        }
        while i < chunk.len() {
            let b = chunk[i];
            match self.state {
                State::SkipLine => {
                    if b == b'\n' {
                        self.line += 1;
                        self.end_record(out);
                    }
                }
                State::FieldStart | State::Unquoted => {
                    if b == self.delimiter {
                        self.end_field();
                        self.state = State::FieldStart;
                    } else if b == b'\n' {
                        self.line += 1;
                        self.end_record(out);
                    } else if b == b'\r' {
                        // CR of CRLF; a lone CR inside an unquoted field carries no data either.
                    } else if b == b'"' && self.state == State::FieldStart {
                        self.state = State::Quoted;
                    } else {
                        self.state = State::Unquoted;
                        let rest = &chunk[i..];
                        let end = i + memchr::memchr3(self.delimiter, b'\n', b'\r', rest).unwrap_or(rest.len());
                        i += self.push_run(&chunk[i..end]);
                        continue;
                    }
                }
                State::Quoted => {
                    if b == b'"' {
                        self.state = State::QuoteInQuoted;
                    } else {
                        let end = memchr::memchr(b'"', &chunk[i..]).map_or(chunk.len(), |n| i + n);
                        let consumed = self.push_run(&chunk[i..end]);
                        self.line += memchr::memchr_iter(b'\n', &chunk[i..i + consumed]).count() as u64;
                        i += consumed;
                        continue;
                    }
                }
                State::QuoteInQuoted => {
                    if b == b'"' {
                        self.state = State::Quoted;
                        self.push_run(b"\"");
                    } else if b == self.delimiter {
                        self.end_field();
                        self.state = State::FieldStart;
                    } else if b == b'\n' {
                        self.line += 1;
                        self.end_record(out);
                    } else if b != b'\r' {
                        self.fail("csv.text_after_quote");
                    }
                }
            }
            i += 1;
        }
    }

    /// Ends the input: the last record without a line end, or an unclosed quote.
    pub fn finish(mut self, out: &mut Vec<RawRecord>) {
        let pending = !self.current.data.is_empty() || !self.current.ends.is_empty() || self.state != State::FieldStart;
        if self.state == State::Quoted {
            self.fail("csv.unclosed_quote");
        }
        if pending {
            self.end_record(out);
        }
    }
}

/// Parses a whole byte slice (tests and samples).
pub fn parse_all(bytes: &[u8], delimiter: u8) -> Vec<RawRecord> {
    let mut out = Vec::new();
    let mut p = Parser::new(delimiter);
    p.feed(bytes, &mut out);
    p.finish(&mut out);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the failure report
mod tests {
    use super::*;

    fn fields(r: &RawRecord) -> Vec<String> {
        (0..r.len()).map(|i| String::from_utf8_lossy(r.field(i)).into_owned()).collect()
    }

    #[test]
    fn a_byte_order_mark_before_the_header_is_not_part_of_the_first_field() {
        let recs = parse_all(b"\xEF\xBB\xBFname;wert\n\xEF\xBB\xBFx;1\n", b';');
        assert_eq!(recs[0].field(0), b"name");
        // Only at the very start: elsewhere the bytes are data.
        assert_eq!(recs[1].field(0), b"\xEF\xBB\xBFx");
    }

    #[test]
    fn quoted_fields_may_hold_delimiters_quotes_and_line_breaks() {
        let recs = parse_all(b"a,b\r\n\"x,y\",\"er sagte \"\"ja\"\"\"\n\"zwei\nZeilen\",3\nlast,row", b',');
        assert_eq!(recs.len(), 4);
        assert_eq!(fields(&recs[1]), ["x,y", "er sagte \"ja\""]);
        assert_eq!(fields(&recs[2]), ["zwei\nZeilen", "3"]);
        assert_eq!(recs[2].line, 3);
        assert_eq!(recs[3].line, 5);
        assert_eq!(fields(&recs[3]), ["last", "row"]);
    }

    #[test]
    fn a_record_fed_in_pieces_is_the_same_record() {
        let whole = parse_all(b"eins;\"zw;ei\";drei\n4;5;6\n", b';');
        let mut out = Vec::new();
        let mut p = Parser::new(b';');
        for b in b"eins;\"zw;ei\";drei\n4;5;6\n" {
            p.feed(std::slice::from_ref(b), &mut out);
        }
        p.finish(&mut out);
        assert_eq!(out.len(), whole.len());
        assert_eq!(fields(&out[0]), fields(&whole[0]));
        assert_eq!(fields(&out[0]), ["eins", "zw;ei", "drei"]);
    }

    #[test]
    fn broken_quoting_is_reported_with_its_line_and_parsing_goes_on() {
        let recs = parse_all(b"a,b\n\"ok\"x,1\n2,3\n\"offen,4", b',');
        assert_eq!(recs[1].error, Some("csv.text_after_quote"));
        assert_eq!(recs[1].line, 2);
        assert_eq!(fields(&recs[2]), ["2", "3"]);
        assert_eq!(recs[3].error, Some("csv.unclosed_quote"));
        assert_eq!(recs[3].line, 4);
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        let recs = parse_all(b"a\n\n\nb\n", b',');
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].line, 4);
    }

    #[test]
    fn windows_1252_decodes_umlauts_and_the_euro_sign() {
        let bytes = b"M\xfcnster \x80 \xdf";
        assert_eq!(detect_encoding(bytes), Encoding::Windows1252);
        assert_eq!(Encoding::Windows1252.decode(bytes).unwrap(), "Münster € ß");
        assert_eq!(detect_encoding("Münster".as_bytes()), Encoding::Utf8);
        assert_eq!(Encoding::Utf8.decode(b"ab\xfc"), Err(2));
    }

    fn byte_by_byte(bytes: &[u8], delimiter: u8) -> Vec<RawRecord> {
        let mut out = Vec::new();
        let mut p = Parser::new(delimiter);
        for b in bytes {
            p.feed(std::slice::from_ref(b), &mut out);
        }
        p.finish(&mut out);
        out
    }

    #[test]
    fn runs_read_at_once_give_the_records_of_reading_byte_by_byte() {
        // Pseudo-random text over the bytes that matter (a fixed seed: the same cases each run).
        let alphabet = b"ab;\"\r\n";
        let mut seed: u64 = 0x5eed;
        for case in 0..2_000 {
            let len = case % 97;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            assert_eq!(parse_all(&input, b';'), byte_by_byte(&input, b';'), "{:?}", String::from_utf8_lossy(&input));
        }
    }

    #[test]
    fn a_field_beyond_the_bound_makes_a_bad_record_not_a_huge_one() {
        let mut big = b"\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_FIELD_BYTES + 10));
        big.extend_from_slice(b"\n1,2\n");
        let recs = parse_all(&big, b',');
        assert_eq!(recs[0].error, Some("csv.field_too_long"));
        // Line breaks inside the overlong quoted field: the bad record ends at the first one
        // after the bound, and the lines are counted as when reading byte by byte.
        let mut big = b"\"".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_FIELD_BYTES));
        big.extend_from_slice(b"yz\nrest\n1,2\n");
        let recs = parse_all(&big, b',');
        assert_eq!(recs, byte_by_byte(&big, b','));
        assert_eq!((recs[0].error, recs.last().map(|r| r.line)), (Some("csv.field_too_long"), Some(3)));
    }
}
