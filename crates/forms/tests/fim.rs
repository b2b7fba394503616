//! The FIM import against the fixtures of `../shared/testdata/forms/fim/`: every row of
//! `EXPECTED.csv` is checked (accepted or refused with the stated message, and the stated
//! detail), and every accepted schema becomes a definition without problems whose report
//! accounts for every field and rule it does not carry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use forms::definition::{Field, Form, Kind};
use forms::fim::model::{Child, DataField, Element, FieldKind, Group, XdfVersion};
use forms::fim::{self, Imported};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/forms/fim")
}

/// A CSV line: fields separated by commas, a field in double quotes may contain commas and `""`.
fn csv_line(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

struct Row {
    file: String,
    xdf_version: String,
    expected: String,
    detail: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(fixtures().join("EXPECTED.csv")).expect("EXPECTED.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f = csv_line(l);
            assert_eq!(f.len(), 4, "{l}");
            Row { file: f[0].clone(), xdf_version: f[1].clone(), expected: f[2].clone(), detail: f[3].clone() }
        })
        .collect()
}

fn import(row: &Row) -> Result<Imported, fim::FimError> {
    let path = fixtures().join("xdatenfelder-ts-fixtures").join(&row.file);
    let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fim::import(&xml)
}

/// The stated message, or the stated message with the column our messages add after the line.
fn same_message(actual: &str, expected: &str) -> bool {
    let stem = expected.strip_suffix(')').unwrap_or(expected);
    actual.strip_prefix(stem).is_some_and(|rest| rest.is_empty() || rest.starts_with([')', ',', ' ']))
}

fn groups(children: &[Child]) -> Vec<&Group> {
    let mut out = Vec::new();
    for c in children {
        if let Element::Group(g) = &c.element {
            out.push(g.as_ref());
            out.extend(groups(&g.children));
        }
    }
    out
}

fn data_fields(children: &[Child]) -> Vec<&DataField> {
    let mut out = Vec::new();
    for c in children {
        match &c.element {
            Element::Field(f) => out.push(f.as_ref()),
            Element::Group(g) => out.extend(data_fields(&g.children)),
        }
    }
    out
}

fn form_field<'a>(form: &'a Form, fim_id: &str) -> Option<&'a Field> {
    form.all_fields().into_iter().find(|f| f.name == fim_id.to_lowercase())
}

fn reported(imported: &Imported, element: &str, words: &str) -> bool {
    imported.report.iter().any(|n| n.element == element && n.message.contains(words))
}

/// The detail column, checked against what was read and made.
fn check_detail(row: &Row, imported: &Imported) {
    let schema = &imported.schema;
    let fields = data_fields(&schema.children);
    let detail = row.detail.trim();
    if detail.is_empty() {
        return;
    }
    if let Some(list) = detail.strip_prefix("schema rules == [").and_then(|d| d.strip_suffix(']')) {
        let expected: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        assert_eq!(schema.rules, expected, "{}", row.file);
    } else if let Some(id) = detail.strip_prefix("field ").and_then(|d| d.strip_suffix(" carries a rule")) {
        let f = fields
            .iter()
            .find(|f| f.common.identifier() == id)
            .unwrap_or_else(|| panic!("{}: no field {id}", row.file));
        assert!(!f.rules.is_empty(), "{}: {id} has no rule", row.file);
        for r in &f.rules {
            assert!(schema.all_rules.contains_key(r));
        }
    } else if let Some(rule) = detail.strip_prefix("group carries rule ") {
        assert!(groups(&schema.children).iter().any(|g| g.rules.iter().any(|r| r == rule)), "{}", row.file);
    } else if detail == "select field with code list" {
        let select =
            fields.iter().find(|f| f.kind == FieldKind::Select && f.code_list.is_some()).expect("a select field");
        let uri = select.code_list.as_ref().and_then(|c| c.canonical_uri.clone()).expect("the code list's URI");
        // The values are not in the file: the field stays (as text) and the report says why.
        assert!(form_field(&imported.form, &select.common.id).is_some());
        assert!(reported(imported, &select.common.identifier(), &uri), "{:?}", imported.report);
    } else if detail == "label field" {
        let label = fields.iter().find(|f| f.kind == FieldKind::Label).expect("a label field");
        let field = form_field(&imported.form, &label.common.id).expect("imported");
        assert_eq!(field.kind, Kind::Info);
        assert_eq!(Some(field.help.de.clone()), label.content);
    } else if detail == "input constraints" {
        let f = fields.iter().find(|f| f.constraints != Default::default()).expect("a field with constraints");
        let c = &f.constraints;
        let id = f.common.identifier();
        let field = form_field(&imported.form, &f.common.id).expect("imported");
        // Each limit is either on the field or in the report.
        let Kind::Text { min_length, max_length, pattern } = &field.kind else { panic!("{:?}", field.kind) };
        assert_eq!(min_length.map(|n| n.to_string()), c.min_length);
        assert_eq!(max_length.map(|n| n.to_string()), c.max_length);
        assert_eq!(pattern, &c.pattern);
        for key in ["minValue", "maxValue"] {
            assert!(reported(imported, &id, key), "{key}: {:?}", imported.report);
        }
        assert!(c.other.iter().all(|o| reported(imported, &id, o)), "{:?}", imported.report);
        assert!(f.remarks.iter().all(|r| reported(imported, &id, r)));
    } else if detail == "full schema with groups/fields/rules" {
        assert!(!groups(&schema.children).is_empty() && !fields.is_empty() && !schema.all_rules.is_empty());
    } else {
        panic!("{}: no check for the detail `{detail}`", row.file);
    }
}

/// Nothing silently dropped: every data field of the schema is in the form or in the report,
/// and so is every rule.
fn accounted_for(imported: &Imported) {
    let form = &imported.form;
    for f in data_fields(&imported.schema.children) {
        let id = f.common.identifier();
        assert!(
            form_field(form, &f.common.id).is_some() || imported.report.iter().any(|n| n.element == id),
            "field {id} is neither imported nor reported"
        );
    }
    for id in imported.schema.all_rules.keys() {
        assert!(!form.rules.is_empty() || imported.report.iter().any(|n| &n.element == id), "rule {id}");
    }
}

#[test]
fn every_fixture_gives_the_result_expected_csv_states() {
    let rows = rows();
    assert!(rows.len() >= 18, "{} rows", rows.len());
    for row in &rows {
        let result = import(row);
        match row.expected.as_str() {
            "parse OK" => {
                let imported = result.unwrap_or_else(|e| panic!("{}: {e}", row.file));
                let version = match imported.schema.xdf {
                    XdfVersion::V2 => "2.0",
                    XdfVersion::V3 => "3.0.0",
                };
                assert_eq!(version, row.xdf_version, "{}", row.file);
                assert_eq!(imported.form.problems(), Vec::<String>::new(), "{}", row.file);
                let json = serde_json::to_string(&imported.form).unwrap();
                assert_eq!(forms::service::read_definition(&json).unwrap(), imported.form);
                check_detail(row, &imported);
                accounted_for(&imported);
            }
            "reject" => {
                let err = result.err().unwrap_or_else(|| panic!("{}: accepted", row.file));
                // Some rows write `error "…"` (the quotes are gone after reading the CSV line).
                let expected = row.detail.strip_prefix("error ").unwrap_or(&row.detail);
                assert!(same_message(&err.0, expected), "{}: `{err}` is not `{expected}`", row.file);
            }
            other => {
                // Not asserted upstream; the detail says what a strict parser does.
                assert!(other.starts_with("untested upstream"), "{}: unknown expectation `{other}`", row.file);
                let (what, verdict) = row.detail.split_once(" - ").expect("detail: what - verdict");
                assert!(verdict.contains("should reject"), "{}", row.detail);
                let err = result.err().unwrap_or_else(|| panic!("{}: accepted", row.file));
                assert!(err.0.to_lowercase().starts_with(what), "{}: `{err}`", row.file);
            }
        }
    }
}

#[test]
fn the_message_comparison_needs_the_whole_line_number() {
    assert!(same_message(
        "Duplicate value (node <xdf:id>, line 11, column 29)",
        "Duplicate value (node <xdf:id>, line 11)"
    ));
    assert!(!same_message(
        "Duplicate value (node <xdf:id>, line 110, column 29)",
        "Duplicate value (node <xdf:id>, line 11)"
    ));
    assert!(same_message(
        "Invalid FreigabeStatus: 10 (node <xdf:freigabestatus>, line 18, column 9)",
        "Invalid FreigabeStatus: 10"
    ));
    assert!(!same_message("Invalid FreigabeStatus: 100", "Invalid FreigabeStatus: 10"));
}

#[test]
fn the_nested_v3_group_keeps_its_structure_and_reports_its_rule() {
    let row = rows().into_iter().find(|r| r.file.ends_with("v3-data/simple.xml")).unwrap();
    let imported = import(&row).unwrap();
    let form = &imported.form;
    assert_eq!(form.id, "fim-g60000000088");
    assert_eq!(form.title.de, "Anschrift in Deutschland");
    let street = form.field("f60000000243").expect("the street");
    assert_eq!(street.kind, Kind::Text { min_length: Some(1), max_length: Some(55), pattern: None });
    assert_eq!(street.help.de, "Geben Sie an, wie die Straße heißt.");
    // The street is 1:1 in a group that is 0:1: the model has no optional groups, so the
    // street is optional, and the report says so.
    assert!(!street.required);
    assert!(reported(&imported, "G60000000086:1.2.0", "optional"), "{:?}", imported.report);
    assert!(reported(&imported, "R60000000019:1.2.0", "not mapped"), "{:?}", imported.report);
}
