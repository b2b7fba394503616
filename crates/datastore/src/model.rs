//! Pure rules of the data store: column types and how a text cell becomes a typed value, the
//! dialect of a CSV file (encoding, delimiter, header lines), and type inference per column.

use serde::{Deserialize, Serialize};

use kernel::csv::{self, Encoding, RawRecord};

/// The type of a column, as inferred and as staff may correct it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Integer,
    Decimal,
    Date,
    Boolean,
    Text,
    /// An official regional key (AGS 8 digits, ARS 12 digits, or a prefix of one): text with
    /// its leading zeros kept.
    Code,
    Latitude,
    Longitude,
}

impl ColumnType {
    pub const ALL: [ColumnType; 8] = [
        ColumnType::Integer,
        ColumnType::Decimal,
        ColumnType::Date,
        ColumnType::Boolean,
        ColumnType::Text,
        ColumnType::Code,
        ColumnType::Latitude,
        ColumnType::Longitude,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Decimal => "decimal",
            ColumnType::Date => "date",
            ColumnType::Boolean => "boolean",
            ColumnType::Text => "text",
            ColumnType::Code => "code",
            ColumnType::Latitude => "latitude",
            ColumnType::Longitude => "longitude",
        }
    }

    pub fn parse(s: &str) -> Option<ColumnType> {
        ColumnType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// How the value is stored.
    pub fn storage(self) -> Storage {
        match self {
            ColumnType::Integer => Storage::Int,
            ColumnType::Decimal | ColumnType::Latitude | ColumnType::Longitude => Storage::Float,
            ColumnType::Boolean => Storage::Bool,
            ColumnType::Date | ColumnType::Text | ColumnType::Code => Storage::Text,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self.storage(), Storage::Int | Storage::Float)
    }

    /// Whether the column's words go into the full-text index.
    pub fn is_searchable(self) -> bool {
        matches!(self, ColumnType::Text | ColumnType::Code)
    }
}

/// A column of a resource: its public name and label, type, and whether it holds counts
/// (suppressed below k). Stored as `c<position>` in the resource's table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// 1-based.
    pub position: i64,
    pub name: String,
    pub label: String,
    pub ty: ColumnType,
    pub mark: DecimalMark,
    pub is_count: bool,
}

impl Column {
    pub fn new(position: i64, name: &str, ty: ColumnType) -> Self {
        Column {
            position,
            name: name.to_owned(),
            label: name.to_owned(),
            ty,
            mark: DecimalMark::Point,
            is_count: false,
        }
    }
}

/// The physical kind of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    Int,
    Float,
    Bool,
    Text,
}

/// A typed cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl Cell {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Int(i) => (*i).into(),
            Cell::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Cell::Bool(b) => (*b).into(),
            Cell::Text(s) => s.clone().into(),
        }
    }

    /// The cell as CSV or HTML text.
    pub fn display(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Text(s) => s.clone(),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// Cells German statistics use for "nothing", "unknown" or "secret" in numeric columns.
const MISSING_MARKERS: [&str; 6] = ["-", ".", "x", "X", "...", "/"];

/// How a decimal number is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecimalMark {
    /// `1234.5`
    Point,
    /// `1.234,5` or `1234,5`
    Comma,
}

fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a decimal written with the given mark; with a comma, points may group thousands.
pub fn parse_decimal(s: &str, mark: DecimalMark) -> Option<f64> {
    let (sign, body) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.strip_prefix('+').unwrap_or(s)),
    };
    let digits_ok = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (int_part, frac) = match mark {
        DecimalMark::Point => {
            // Checked digits around at most one point: the text itself is what `f64` reads.
            let (a, b) = body.split_once('.').map_or((body, None), |(a, b)| (a, Some(b)));
            if !digits_ok(a) || b.is_some_and(|f| !digits_ok(f)) {
                return None;
            }
            return s.parse().ok().filter(|v: &f64| v.is_finite());
        }
        DecimalMark::Comma => {
            let (a, b) = body.split_once(',').map_or((body, None), |(a, b)| (a, Some(b)));
            let mut groups = a.split('.');
            let first = groups.next().unwrap_or("");
            let grouped = a.contains('.');
            let grouped_ok = !grouped || (!first.is_empty() && first.len() <= 3 && groups.all(|g| g.len() == 3));
            if !grouped_ok {
                return None;
            }
            (a, b)
        }
    };
    let int_ok = !int_part.is_empty() && int_part.bytes().all(|c| c.is_ascii_digit() || c == b'.');
    if !int_ok || frac.is_some_and(|f| !digits_ok(f)) {
        return None;
    }
    // The number in Rust's syntax (sign, digits without group marks, a point; never longer
    // than the input), assembled on the stack for the usual lengths: an import reads millions.
    let int_digits = int_part.bytes().filter(|&c| c != b'.');
    let fraction = frac.map(|f| std::iter::once(b'.').chain(f.bytes())).into_iter().flatten();
    let bytes = sign.bytes().chain(int_digits).chain(fraction);
    let mut buf = [0u8; 64];
    let text = if s.len() <= buf.len() {
        let mut len = 0;
        for c in bytes {
            buf[len] = c;
            len += 1;
        }
        std::borrow::Cow::Borrowed(std::str::from_utf8(&buf[..len]).ok()?)
    } else {
        std::borrow::Cow::Owned(String::from_utf8(bytes.collect()).ok()?)
    };
    text.parse().ok().filter(|v: &f64| v.is_finite())
}

/// Parses `2024-03-11` or `11.03.2024` into ISO form.
pub fn parse_date(s: &str) -> Option<String> {
    let (y, m, d) = date_parts(s)?;
    let mut iso = String::with_capacity(10);
    let mut digits = |n: u32, width: u32| {
        for p in (0..width).rev() {
            iso.push(char::from(b'0' + (n / 10u32.pow(p) % 10) as u8));
        }
    };
    digits(y, 4);
    digits(m.into(), 2);
    digits(d.into(), 2);
    iso.insert(4, '-');
    iso.insert(7, '-');
    Some(iso)
}

/// Year, month and day of a valid date written `2024-03-11` or `11.03.2024`.
fn date_parts(s: &str) -> Option<(u32, u8, u8)> {
    let b = s.as_bytes();
    let (y, m, d) = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        (&s[0..4], &s[5..7], &s[8..10])
    } else if b.len() == 10 && b[2] == b'.' && b[5] == b'.' {
        (&s[6..10], &s[3..5], &s[0..2])
    } else {
        return None;
    };
    if ![y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (y, m, d): (i32, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let month = time::Month::try_from(m).ok()?;
    let date = time::Date::from_calendar_date(y, month, d).ok()?;
    Some((u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?, m, date.day()))
}

fn parse_bool(s: &str) -> Option<bool> {
    let is = |words: &[&str]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
    if is(&["true", "wahr", "ja", "yes"]) {
        Some(true)
    } else if is(&["false", "falsch", "nein", "no"]) {
        Some(false)
    } else {
        None
    }
}

/// Converts one cell to its column's type. `Err` carries a message code for the bad-row report.
pub fn convert(raw: &str, ty: ColumnType, mark: DecimalMark) -> Result<Cell, &'static str> {
    let s = raw.trim();
    if s.is_empty() || (ty.is_numeric() && MISSING_MARKERS.contains(&s)) {
        return Ok(Cell::Null);
    }
    match ty {
        ColumnType::Integer => parse_int(s).map(Cell::Int).ok_or("datastore.not_an_integer"),
        ColumnType::Decimal => parse_decimal(s, mark).map(Cell::Float).ok_or("datastore.not_a_decimal"),
        ColumnType::Latitude => {
            parse_decimal(s, mark).filter(|v| v.abs() <= 90.0).map(Cell::Float).ok_or("datastore.not_a_latitude")
        }
        ColumnType::Longitude => {
            parse_decimal(s, mark).filter(|v| v.abs() <= 180.0).map(Cell::Float).ok_or("datastore.not_a_longitude")
        }
        ColumnType::Date => parse_date(s).map(Cell::Text).ok_or("datastore.not_a_date"),
        ColumnType::Boolean => parse_bool(s).map(Cell::Bool).ok_or("datastore.not_a_boolean"),
        ColumnType::Code => {
            if s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Cell::Text(s.to_owned()))
            } else {
                Err("datastore.not_a_code")
            }
        }
        ColumnType::Text => Ok(Cell::Text(raw.to_owned())),
    }
}

/// What the importer learnt about a column while reading the whole file.
#[derive(Clone, Debug)]
pub struct ColumnStats {
    pub header: String,
    seen: u64,
    int: bool,
    dec_point: bool,
    dec_comma: bool,
    date: bool,
    boolean: bool,
    code: bool,
    leading_zero: bool,
    lat: bool,
    lon: bool,
    saw_comma: bool,
}

impl DecimalMark {
    pub fn as_str(self) -> &'static str {
        match self {
            DecimalMark::Point => "point",
            DecimalMark::Comma => "comma",
        }
    }

    pub fn parse(s: &str) -> DecimalMark {
        if s == "comma" { DecimalMark::Comma } else { DecimalMark::Point }
    }
}

impl ColumnStats {
    pub fn new(header: String) -> Self {
        ColumnStats {
            header,
            seen: 0,
            int: true,
            dec_point: true,
            dec_comma: true,
            date: true,
            boolean: true,
            code: true,
            leading_zero: false,
            lat: true,
            lon: true,
            saw_comma: false,
        }
    }

    pub fn observe(&mut self, raw: &str) {
        let s = raw.trim();
        if s.is_empty() {
            return;
        }
        let marker = MISSING_MARKERS.contains(&s);
        if !marker {
            self.seen += 1;
        }
        let all_digits = s.bytes().all(|b| b.is_ascii_digit());
        if self.code {
            self.code = all_digits && s.len() <= 12 && !marker;
            self.leading_zero |= s.len() > 1 && s.starts_with('0');
        }
        if marker {
            return;
        }
        // Only the types still possible are tried (a ruled-out type stays ruled out).
        self.int = self.int && parse_int(s).is_some();
        self.date = self.date && date_parts(s).is_some();
        self.boolean = self.boolean && parse_bool(s).is_some();
        let coordinate = self.lat || self.lon;
        // Plain digits are a decimal with either mark; only a coordinate needs their value.
        if all_digits && s.len() <= 300 && !coordinate {
            return;
        }
        let point = if self.dec_point || coordinate { parse_decimal(s, DecimalMark::Point) } else { None };
        let comma = if self.dec_comma || coordinate { parse_decimal(s, DecimalMark::Comma) } else { None };
        self.dec_point &= point.is_some();
        self.dec_comma &= comma.is_some();
        self.saw_comma |= s.contains(',');
        let value = if self.dec_comma && !self.dec_point { comma } else { point.or(comma) };
        self.lat &= value.is_some_and(|v| v.abs() <= 90.0);
        self.lon &= value.is_some_and(|v| v.abs() <= 180.0);
    }

    /// The header as a lowercase word for naming rules.
    fn header_key(&self) -> String {
        self.header.to_lowercase()
    }

    /// The inferred type and decimal mark.
    pub fn inferred(&self) -> (ColumnType, DecimalMark) {
        let h = self.header_key();
        let names_key = ["schluessel", "schlüssel", "ags", "ars", "gkz", "regionalschl", "gemeindekennziffer"]
            .iter()
            .any(|k| h.contains(k))
            || h == "rs";
        let mark =
            if self.dec_comma && (self.saw_comma || !self.dec_point) { DecimalMark::Comma } else { DecimalMark::Point };
        let numeric = self.dec_point || self.dec_comma;
        let t = if self.seen == 0 {
            ColumnType::Text
        } else if self.boolean {
            ColumnType::Boolean
        } else if self.code && (self.leading_zero || names_key) {
            ColumnType::Code
        } else if self.int {
            ColumnType::Integer
        } else if numeric && self.lat && ["lat", "latitude", "breite", "breitengrad", "y"].contains(&h.as_str()) {
            ColumnType::Latitude
        } else if numeric
            && self.lon
            && ["lon", "lng", "long", "longitude", "laenge", "länge", "längengrad", "x"].contains(&h.as_str())
        {
            ColumnType::Longitude
        } else if numeric {
            ColumnType::Decimal
        } else if self.date {
            ColumnType::Date
        } else {
            ColumnType::Text
        };
        (t, mark)
    }
}

/// How a file is written: what the sniffer found, and what staff may override.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialect {
    pub encoding: Encoding,
    pub delimiter: u8,
    /// The lines (1-based, inclusive) that form the header; none when the file has no header.
    pub header_lines: Option<(u64, u64)>,
    /// Records before this line are preamble (titles) and skipped.
    pub data_from_line: u64,
}

/// Decodes a record's fields, or says which byte position did not decode.
pub fn decode_record(r: &RawRecord, enc: Encoding) -> Result<Vec<std::borrow::Cow<'_, str>>, &'static str> {
    // UTF-8: one check of the whole record; when every field starts and ends on a character
    // boundary, each field is valid too (else the fields are checked one by one for the error).
    if enc == Encoding::Utf8
        && let Ok(text) = std::str::from_utf8(r.data())
        && let Some(fields) = (0..r.len()).map(|i| text.get(r.span(i)).map(std::borrow::Cow::Borrowed)).collect()
    {
        return Ok(fields);
    }
    (0..r.len()).map(|i| enc.decode(r.field(i)).map_err(|_| "datastore.undecodable_byte")).collect()
}

/// The fields as owned strings (for the few records that are kept: sample and header).
pub fn owned(fields: Vec<std::borrow::Cow<'_, str>>) -> Vec<String> {
    fields.into_iter().map(std::borrow::Cow::into_owned).collect()
}

fn looks_like_data(fields: &[String]) -> bool {
    fields.iter().any(|f| {
        let s = f.trim();
        !s.is_empty()
            && (parse_decimal(s, DecimalMark::Point).is_some()
                || parse_decimal(s, DecimalMark::Comma).is_some()
                || parse_date(s).is_some())
    })
}

fn modal_width(recs: &[RawRecord]) -> (usize, usize) {
    let mut counts = std::collections::BTreeMap::<usize, usize>::new();
    for r in recs.iter().filter(|r| r.error.is_none()) {
        *counts.entry(r.len()).or_default() += 1;
    }
    counts.into_iter().max_by_key(|&(w, n)| (n, w)).unwrap_or((0, 0))
}

/// Finds encoding, delimiter and header lines from the first bytes of a file.
pub fn sniff(sample: &[u8]) -> Dialect {
    let sample = sample.strip_prefix(b"\xef\xbb\xbf").unwrap_or(sample);
    let encoding = csv::detect_encoding(sample);
    // Only whole lines count: the sample may end inside one.
    let cut = if sample.len() >= 65536 {
        sample.iter().rposition(|&b| b == b'\n').unwrap_or(sample.len())
    } else {
        sample.len()
    };
    let sample = &sample[..cut];
    let mut best = (b',', Vec::new(), (0usize, 0usize));
    for d in [b',', b';', b'\t', b'|'] {
        let recs = csv::parse_all(sample, d);
        let (width, n) = modal_width(&recs);
        // More records at one width wins; a width of 1 means the delimiter never occurs.
        if width > 1 && (n, width) > (best.2.1, best.2.0) {
            best = (d, recs, (width, n));
        }
    }
    let (delimiter, recs, (width, _)) = best;
    let decoded: Vec<(u64, Vec<String>)> =
        recs.iter().filter_map(|r| decode_record(r, encoding).ok().map(|f| (r.line, owned(f)))).collect();
    let full: Vec<&(u64, Vec<String>)> = decoded.iter().filter(|(_, f)| f.len() == width).collect();
    let first_data = full.iter().position(|(_, f)| looks_like_data(f));
    let header_lines = match first_data {
        // No typed values at all: the first full-width line is the header.
        None => full.first().map(|(l, _)| (*l, *l)),
        Some(0) => None,
        Some(i) => {
            // The header is the block of full-width lines with at least two labels right before the data.
            let mut start = i;
            while start > 0 && full[start - 1].1.iter().filter(|c| !c.trim().is_empty()).count() >= 2 {
                start -= 1;
            }
            if start == i { Some((full[i - 1].0, full[i - 1].0)) } else { Some((full[start].0, full[i - 1].0)) }
        }
    };
    let data_from_line = match (first_data, header_lines) {
        (Some(i), _) => full[i].0,
        (None, Some((_, end))) => end + 1,
        (None, None) => 1,
    };
    Dialect { encoding, delimiter, header_lines, data_from_line }
}

/// Turns header cells into column names: lowercase ASCII words joined by `_`, German letters
/// transcribed, unique, never empty.
pub fn column_names(headers: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let mut name = String::new();
        for c in h.trim().to_lowercase().chars() {
            let piece = match c {
                'ä' => "ae".to_owned(),
                'ö' => "oe".to_owned(),
                'ü' => "ue".to_owned(),
                'ß' => "ss".to_owned(),
                c if c.is_ascii_alphanumeric() => c.to_string(),
                _ => "_".to_owned(),
            };
            name.push_str(&piece);
        }
        let mut name = name.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_");
        name.truncate(60);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name = format!("spalte_{}{}", i + 1, if name.is_empty() { String::new() } else { format!("_{name}") });
        }
        let base = name.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// True for a name a caller may use for a column (what [`column_names`] makes).
pub fn valid_column_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 60
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '_')
}

/// Merges the lines of a multi-line header column by column ("Investitionen" over "Tsd. EUR"
/// becomes "Investitionen (Tsd. EUR)").
pub fn merge_header(lines: &[Vec<String>], width: usize) -> Vec<String> {
    (0..width)
        .map(|i| {
            let parts: Vec<&str> =
                lines.iter().filter_map(|l| l.get(i)).map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
            match parts.as_slice() {
                [] => String::new(),
                [one] => (*one).to_owned(),
                [first, rest @ ..] => format!("{first} ({})", rest.join(", ")),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn a_character_split_by_a_delimiter_is_an_undecodable_byte() {
        // "ä" is C3 A4: with a delimiter between its bytes, the record's bytes without the
        // delimiter decode, but neither field does.
        let split = &csv::parse_all(b"\xC3;\xA4\n", b';')[0];
        assert_eq!(decode_record(split, Encoding::Utf8), Err("datastore.undecodable_byte"));
        let fine = &csv::parse_all("ä;ö\n".as_bytes(), b';')[0];
        assert_eq!(decode_record(fine, Encoding::Utf8).unwrap(), ["ä", "ö"]);
    }

    #[test]
    fn german_decimals_with_thousands_points_parse() {
        assert_eq!(parse_decimal("1.234,5", DecimalMark::Comma), Some(1234.5));
        assert_eq!(parse_decimal("3,3", DecimalMark::Comma), Some(3.3));
        assert_eq!(parse_decimal("-0,25", DecimalMark::Comma), Some(-0.25));
        assert_eq!(parse_decimal("12.34", DecimalMark::Comma), None);
        assert_eq!(parse_decimal("12.5", DecimalMark::Point), Some(12.5));
        assert_eq!(parse_decimal("1e5", DecimalMark::Point), None);
        for (text, value) in [("+7.25", Some(7.25)), ("-0.5", Some(-0.5)), ("12", Some(12.0))] {
            assert_eq!(parse_decimal(text, DecimalMark::Point), value, "{text}");
        }
        for text in ["1.", ".5", "1.2.3", "inf", "NaN", "1,5", "+-1", "", "-"] {
            assert_eq!(parse_decimal(text, DecimalMark::Point), None, "{text}");
        }
        for (text, value) in [("12.345.678,9", Some(12_345_678.9)), ("+1.000", Some(1000.0)), ("007", Some(7.0))] {
            assert_eq!(parse_decimal(text, DecimalMark::Comma), value, "{text}");
        }
        for text in ["1.23,4", ".123", "1.", "1,", ",5", "1.2345", "1234.567", "1,2,3", "1.a34", "", "-", "-,5"] {
            assert_eq!(parse_decimal(text, DecimalMark::Comma), None, "{text}");
        }
        // Longer than the stack buffer: the same number.
        let long = format!("1{},5", ".000".repeat(30));
        assert_eq!(parse_decimal(&long, DecimalMark::Comma), Some(1e90));
    }

    #[test]
    fn yes_and_no_in_any_case() {
        assert_eq!(parse_bool("JA"), Some(true));
        assert_eq!(parse_bool("Nein"), Some(false));
        assert_eq!(parse_bool("jein"), None);
        assert_eq!(parse_bool("ß"), None);
    }

    #[test]
    fn dates_in_iso_and_german_form_become_iso() {
        assert_eq!(parse_date("11.03.2024").as_deref(), Some("2024-03-11"));
        assert_eq!(parse_date("2024-02-29").as_deref(), Some("2024-02-29"));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("01.01.0099").as_deref(), Some("0099-01-01"));
        assert_eq!(parse_date("31.12.9999").as_deref(), Some("9999-12-31"));
        for text in ["2024-13-01", "32.01.2024", "+024-01-01", "2024/01/01", "1.1.2024", "2024-1-01x"] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }

    fn infer(header: &str, values: &[&str]) -> (ColumnType, DecimalMark) {
        let mut s = ColumnStats::new(header.to_owned());
        values.iter().for_each(|v| s.observe(v));
        s.inferred()
    }

    #[test]
    fn types_are_inferred_from_every_value() {
        assert_eq!(infer("anzahl", &["1", "20", "-", "300"]).0, ColumnType::Integer);
        assert_eq!(infer("quote", &["3,3", "2,9", "1"]), (ColumnType::Decimal, DecimalMark::Comma));
        assert_eq!(infer("ags", &["05", "051", "05111"]).0, ColumnType::Code);
        assert_eq!(infer("kreis_schluessel", &["13003"]).0, ColumnType::Code);
        assert_eq!(infer("latitude", &["54.1071421904233"]).0, ColumnType::Latitude);
        assert_eq!(infer("longitude", &["12.11"]).0, ColumnType::Longitude);
        assert_eq!(infer("offen", &["ja", "Nein"]).0, ColumnType::Boolean);
        assert_eq!(infer("tag", &["01.02.2024", "2024-02-03"]).0, ColumnType::Date);
        assert_eq!(infer("name", &["Aachen", "12"]).0, ColumnType::Text);
        assert_eq!(infer("leer", &["", " "]).0, ColumnType::Text);
    }

    #[test]
    fn names_are_safe_unique_identifiers() {
        let h = ["Größe (m²)", "", "Größe (m²)", "2022"].map(str::to_owned);
        assert_eq!(column_names(&h), ["groesse_m", "spalte_2", "groesse_m_2", "spalte_4_2022"]);
        assert!(column_names(&h).iter().all(|n| valid_column_name(n)));
        assert!(!valid_column_name("a; DROP TABLE x"));
    }

    #[test]
    fn a_genesis_table_has_its_preamble_skipped_and_two_header_lines_merged() {
        let f = "Titel\nErhebung;;\n;;Wert;Quote\n;;Tsd. EUR;Prozent\n2022;05;10;3,3\n2022;051;20;2,9\n";
        let d = sniff(f.as_bytes());
        assert_eq!(d.delimiter, b';');
        assert_eq!(d.header_lines, Some((3, 4)));
        assert_eq!(d.data_from_line, 5);
    }

    #[test]
    fn a_plain_file_has_its_header_on_line_one() {
        let d = sniff(b"name,einwohner\nAachen,250000\n");
        assert_eq!((d.delimiter, d.header_lines, d.data_from_line), (b',', Some((1, 1)), 2));
        let d = sniff(b"1\t2\n3\t4\n");
        assert_eq!((d.delimiter, d.header_lines), (b'\t', None));
    }
}
