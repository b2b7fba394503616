//! The service catalogue in the tab-separated exchange format of `../shared/testdata/search/`
//! (`id, name, summary, lebenslagen, level`), relevance queries (`query, expected ids`), and the
//! evaluation of the search on them.

use crate::search::{Document, Index};

/// Whether a service is the county's or a municipality's to provide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    County,
    Municipality,
}

/// A service (Leistung) of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub summary: String,
    /// Life situations (Lebenslagen).
    pub life_situations: Vec<String>,
    /// Business situations (Unternehmenslagen), for companies.
    pub business_situations: Vec<String>,
    /// The key of the federal service catalogue (LeiKa-Schlüssel, 14 digits), where known.
    pub leika: String,
    pub level: Level,
}

impl Service {
    pub fn document(&self) -> Document {
        Document {
            id: self.id.clone(),
            name: self.name.clone(),
            summary: self.summary.clone(),
            keywords: self.life_situations.iter().chain(&self.business_situations).cloned().collect(),
        }
    }
}

/// A problem in an imported file, with its line number.
#[derive(Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Data lines of a TSV file with a header: (line number, fields).
fn rows<'a>(text: &'a str, header: &str) -> Result<Vec<(usize, Vec<&'a str>)>, Vec<LineError>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, h)) if h.trim_end() == header => {}
        _ => {
            return Err(vec![LineError {
                line: 1,
                message: format!("the header must be `{}`", header.replace('\t', "<TAB>")),
            }]);
        }
    }
    Ok(lines.map(|(i, l)| (i + 1, l.trim_end_matches('\r').split('\t').collect())).collect())
}

/// Reads a catalogue; every bad line is reported, none is skipped silently.
pub fn parse_services(text: &str) -> Result<Vec<Service>, Vec<LineError>> {
    let mut services = Vec::new();
    let mut errors = Vec::new();
    for (line, f) in rows(text, "id\tname\tsummary\tlebenslagen\tlevel")? {
        let level = match f.get(4).map(|l| l.trim()) {
            Some("kreis") => Some(Level::County),
            Some("kommune") => Some(Level::Municipality),
            _ => None,
        };
        match (f.len(), level) {
            (5, Some(level)) if !f[0].trim().is_empty() && !f[1].trim().is_empty() => services.push(Service {
                id: f[0].trim().to_owned(),
                name: f[1].trim().to_owned(),
                summary: f[2].trim().to_owned(),
                life_situations: list(f[3]),
                business_situations: Vec::new(),
                leika: String::new(),
                level,
            }),
            (5, None) => errors.push(LineError { line, message: "level must be `kreis` or `kommune`".into() }),
            (5, _) => errors.push(LineError { line, message: "id and name must not be empty".into() }),
            (n, _) => errors.push(LineError { line, message: format!("expected 5 tab-separated fields, found {n}") }),
        }
    }
    if errors.is_empty() { Ok(services) } else { Err(errors) }
}

/// A `;`-separated list, trimmed, without empty entries.
pub fn list(text: &str) -> Vec<String> {
    text.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A name as a readable address segment: `Mobilität` → `mobilitaet`, `Bauen & Wohnen` → `bauen-wohnen`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().to_lowercase().chars() {
        match c {
            'ä' => slug.push_str("ae"),
            'ö' => slug.push_str("oe"),
            'ü' => slug.push_str("ue"),
            'ß' => slug.push_str("ss"),
            c if c.is_ascii_alphanumeric() => slug.push(c),
            _ if !slug.is_empty() && !slug.ends_with('-') => slug.push('-'),
            _ => {}
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Life situations are for citizens, business situations for companies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SituationKind {
    Life,
    Business,
}

impl Service {
    pub fn situations(&self, kind: SituationKind) -> &[String] {
        match kind {
            SituationKind::Life => &self.life_situations,
            SituationKind::Business => &self.business_situations,
        }
    }
}

/// Whether `key` is a LeiKa key: 14 digits (Leistungsschlüssel of the federal catalogue).
pub fn is_leika_key(key: &str) -> bool {
    key.len() == 14 && key.bytes().all(|b| b.is_ascii_digit())
}

/// A relevance query: what a citizen types, and the services that answer it (any counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub expected: Vec<String>,
}

pub fn parse_queries(text: &str) -> Result<Vec<Query>, Vec<LineError>> {
    let mut queries = Vec::new();
    let mut errors = Vec::new();
    for (line, f) in rows(text, "query\texpected")? {
        let expected: Vec<String> = f.get(1).map(|e| list(e)).unwrap_or_default();
        if f.len() == 2 && !expected.is_empty() {
            queries.push(Query { text: f[0].to_owned(), expected });
        } else {
            errors.push(LineError { line, message: "expected a query and `;`-separated service ids".into() });
        }
    }
    if errors.is_empty() { Ok(queries) } else { Err(errors) }
}

/// Relevance figures: a query is a hit at k when any expected id is among the first k results.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub queries: usize,
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    /// Mean reciprocal rank of the first expected id (0 when not in the first 10).
    pub mrr: f64,
    /// The queries that missed the first three places, with what came first.
    pub misses: Vec<(String, Vec<String>)>,
}

pub fn evaluate(index: &Index, queries: &[Query]) -> Evaluation {
    let (mut h1, mut h3, mut rr) = (0, 0, 0.0);
    let mut misses = Vec::new();
    for q in queries {
        let hits = index.search(&q.text, 10);
        let rank = hits.iter().position(|h| q.expected.contains(&h.id));
        if rank == Some(0) {
            h1 += 1;
        }
        match rank {
            Some(r) if r < 3 => h3 += 1,
            _ => misses.push((q.text.clone(), hits.iter().take(3).map(|h| h.id.clone()).collect())),
        }
        rr += rank.map_or(0.0, |r| 1.0 / (r + 1) as f64);
    }
    let n = queries.len().max(1) as f64;
    Evaluation { queries: queries.len(), hit_at_1: h1 as f64 / n, hit_at_3: h3 as f64 / n, mrr: rr / n, misses }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_catalogue_line_is_reported_with_its_number() {
        let text = "id\tname\tsummary\tlebenslagen\tlevel\na\tA\ts\tX\tkreis\nb\tB\ts\tX\tland\nc\tC\n";
        let errors = parse_services(text).expect_err("two bad lines");
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
        assert!(parse_services("name\tid\n").is_err());
    }

    #[test]
    fn names_become_readable_address_segments() {
        assert_eq!(slugify("Mobilität"), "mobilitaet");
        assert_eq!(slugify(" Bauen & Wohnen "), "bauen-wohnen");
        assert_eq!(slugify("Straße!"), "strasse");
        assert!(is_leika_key("99102013000000") && !is_leika_key("9910201300000") && !is_leika_key("9910201300000x"));
    }

    #[test]
    fn a_good_catalogue_line_becomes_a_service() {
        let text = "id\tname\tsummary\tlebenslagen\tlevel\nwohngeld\tWohngeld beantragen\tZuschuss zur Miete.\tWohnen;Soziales\tkreis\n";
        let s = &parse_services(text).expect("valid")[0];
        assert_eq!((s.id.as_str(), s.level, s.life_situations.len()), ("wohngeld", Level::County, 2));
    }
}
