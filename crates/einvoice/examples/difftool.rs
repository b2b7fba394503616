#![allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing
)]
//! Throwaway (not committed): validate files without the schema step and print one JSON line
//! per file {"file","verdict","fired":[ids],"schema_valid"} (SCHEMA, READ, SCENARIO and XPATH-ERROR
//! findings left out; schema_valid: no SCHEMA finding with the schema step on).
//! Arguments: files, or @LIST with one path per line.
use std::io::Write;

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn main() {
    let mut files = vec![];
    for a in std::env::args().skip(1) {
        if let Some(list) = a.strip_prefix('@') {
            files.extend(std::fs::read_to_string(list).unwrap().lines().filter(|l| !l.is_empty()).map(String::from));
        } else {
            files.push(a);
        }
    }
    let mut o = std::io::BufWriter::new(std::io::stdout());
    let opts = einvoice::validate::Options { schema: false, ..Default::default() };
    for f in &files {
        let b = std::fs::read(f).unwrap();
        let r = einvoice::validate::validate_with(&b, opts);
        let schema_valid = !einvoice::validate::validate(&b).findings.iter().any(|f| f.rule == "SCHEMA");
        let mut fired: Vec<&str> = r
            .findings
            .iter()
            .map(|f| f.rule)
            .filter(|r| !matches!(*r, "SCHEMA" | "READ" | "SCENARIO" | "XPATH-ERROR"))
            .collect();
        fired.sort();
        fired.dedup();
        let fired: Vec<String> = fired.iter().map(|s| json_str(s)).collect();
        writeln!(
            o,
            "{{\"file\":{},\"verdict\":\"{}\",\"fired\":[{}],\"schema_valid\":{}}}",
            json_str(f),
            r.verdict,
            fired.join(","),
            schema_valid
        )
        .unwrap();
    }
}
