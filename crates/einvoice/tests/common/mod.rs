//! Helpers shared by the harnesses: where the test data lives, a CSV reader, rule families and
//! a per-family tally.
#![allow(dead_code)] // Each harness binary uses a different part of this module.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// `../shared/testdata/einvoice` beside the repository (override with `KREISHAUS_EINVOICE_TESTDATA`).
pub fn testdata() -> PathBuf {
    std::env::var_os("KREISHAUS_EINVOICE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/einvoice")))
}

/// Reads a CSV file with a header into maps from column name to value (quotes handled).
pub fn read_csv(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut records = parse_csv(&text).into_iter();
    let header = records.next().expect("a header row");
    records.map(|fields| header.iter().cloned().zip(fields).collect()).collect()
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The family of a rule id: `BR-CO-15` → `BR-CO`, `BR-01` → `BR`, `xrubl:BR-DE-23-a` → `BR-DE`.
pub fn family(id: &str) -> String {
    let id = id.rsplit(':').next().unwrap_or(id);
    let mut parts: Vec<&str> = id.split('-').collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_lowercase())) {
        parts.pop();
    }
    if parts.len() > 1 && parts.last().is_some_and(|p| p.chars().any(|c| c.is_ascii_digit())) {
        parts.pop();
    }
    parts.join("-")
}

/// Pass, fail and skip counts per rule family.
#[derive(Default)]
pub struct Tally {
    pub families: BTreeMap<String, [usize; 3]>,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn pass(&mut self, id: &str) {
        self.families.entry(family(id)).or_default()[0] += 1;
    }
    pub fn fail(&mut self, id: &str, why: String) {
        self.families.entry(family(id)).or_default()[1] += 1;
        self.failures.push(why);
    }
    pub fn skip(&mut self, id: &str) {
        self.families.entry(family(id)).or_default()[2] += 1;
    }

    /// Prints the table and the first failures; returns the total number of failures.
    pub fn report(&self, title: &str) -> usize {
        println!("{title}\n  {:<12} {:>6} {:>6} {:>8}", "family", "pass", "fail", "skipped");
        let mut total = [0; 3];
        for (family, counts) in &self.families {
            println!("  {family:<12} {:>6} {:>6} {:>8}", counts[0], counts[1], counts[2]);
            (0..3).for_each(|i| total[i] += counts[i]);
        }
        println!("  {:<12} {:>6} {:>6} {:>8}", "total", total[0], total[1], total[2]);
        for failure in self.failures.iter().take(60) {
            println!("  FAIL {failure}");
        }
        total[1]
    }
}

/// Re-parses an element of a larger document as a document of its own, declaring the
/// namespaces it inherits, so that `/ubl:Invoice` and `//` work on the fragment as on a file.
pub fn standalone(element: roxmltree::Node<'_, '_>) -> String {
    let source = &element.document().input_text()[element.range()];
    let declared: Vec<String> = element
        .namespaces()
        .filter(|ns| !source[..source.find('>').unwrap_or(0)].contains(&format!("\"{}\"", ns.uri())))
        .map(|ns| match ns.name() {
            Some(prefix) => format!(" xmlns:{prefix}=\"{}\"", ns.uri()),
            None => format!(" xmlns=\"{}\"", ns.uri()),
        })
        .collect();
    let name_end = source.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(source.len());
    format!("{}{}{}", &source[..name_end], declared.concat(), &source[name_end..])
}
