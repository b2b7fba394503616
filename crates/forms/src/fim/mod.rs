//! The FIM import: an XDatenfelder 2.0 or 3.0.0 schema (Stammdatenschema or Datenfeldgruppe)
//! becomes a form definition, with a report of everything the form model could not take over.
//! See `docs/FORMS-FIM.md` for the mapping.

mod convert;
pub mod model;
mod parse;
mod xml;

pub use convert::convert;
pub use parse::{NS_V2, NS_V3, parse};

use crate::definition::Form;

/// Files larger than this are refused before parsing.
pub const MAX_BYTES: usize = 10 * 1_048_576;

/// Why a file was refused: the first problem, with the node and its position where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FimError(pub String);

impl std::fmt::Display for FimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FimError {}

/// Something of the schema the form does not carry, or carries differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The element it concerns (`F60000227:1.1`, `R60000037:1.2`), or the schema's identifier.
    pub element: String,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.element, self.message)
    }
}

/// The result of an import: the schema as read, the form, and the report.
#[derive(Clone, Debug)]
pub struct Imported {
    pub schema: model::Schema,
    pub form: Form,
    pub report: Vec<Note>,
}

/// The text of a file as uploaded: UTF-8, or ISO-8859-1 where the XML declaration says so.
/// Anything else (or a file above [`MAX_BYTES`]) is refused.
pub fn decode(bytes: &[u8]) -> Result<String, FimError> {
    if bytes.len() > MAX_BYTES {
        return Err(FimError(format!("File too large: at most {} MB", MAX_BYTES / 1_048_576)));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let head: String = bytes.iter().take(200).take_while(|b| **b != b'>').map(|b| char::from(*b)).collect();
    let head = head.to_ascii_lowercase();
    let latin1 = head.starts_with("<?xml")
        && ["iso-8859-1", "latin1", "latin-1"]
            .iter()
            .any(|e| head.contains(&format!("encoding=\"{e}\"")) || head.contains(&format!("encoding='{e}'")));
    if latin1 {
        // ISO-8859-1 maps every byte to the code point of the same value.
        return Ok(bytes.iter().map(|b| char::from(*b)).collect());
    }
    Err(FimError("The file is neither UTF-8 nor declared as ISO-8859-1".into()))
}

/// Reads an XDatenfelder file and converts it into a form definition.
pub fn import(xml: &str) -> Result<Imported, FimError> {
    let schema = parse(xml)?;
    let (form, report) = convert(&schema);
    Ok(Imported { schema, form, report })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::definition::{CrossRule, Kind};

    fn field(id: &str, label: &str, kind: &str, data_type: &str, extra: &str) -> String {
        format!(
            "<xdf:datenfeld><xdf:identifikation><xdf:id>{id}</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>\
             <xdf:name>{label}</xdf:name><xdf:bezeichnungEingabe>{label}</xdf:bezeichnungEingabe>\
             <xdf:feldart><code>{kind}</code></xdf:feldart><xdf:datentyp><code>{data_type}</code></xdf:datentyp>{extra}</xdf:datenfeld>"
        )
    }

    fn part(count: &str, element: &str) -> String {
        format!("<xdf:struktur><xdf:anzahl>{count}</xdf:anzahl><xdf:enthaelt>{element}</xdf:enthaelt></xdf:struktur>")
    }

    fn group(id: &str, label: &str, inner: &str) -> String {
        format!(
            "<xdf:datenfeldgruppe><xdf:identifikation><xdf:id>{id}</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>\
             <xdf:name>{label}</xdf:name><xdf:bezeichnungEingabe>{label}</xdf:bezeichnungEingabe>{inner}</xdf:datenfeldgruppe>"
        )
    }

    fn message(inner: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><xdf:xdatenfelder.datenfeldgruppe.0103 xmlns:xdf=\"{NS_V3}\">\
             <xdf:header><xdf:nachrichtID>1</xdf:nachrichtID></xdf:header>{}</xdf:xdatenfelder.datenfeldgruppe.0103>",
            group("G1", "Antrag", inner)
        )
    }

    fn values(codes: &[&str]) -> String {
        let items: String = codes
            .iter()
            .map(|c| format!("<xdf:wert><xdf:code>{c}</xdf:code><xdf:name>Wert {c}</xdf:name></xdf:wert>"))
            .collect();
        format!("<xdf:werte>{items}</xdf:werte>")
    }

    #[test]
    fn values_in_the_file_become_radio_buttons_or_a_select() {
        let few = part("1:1", &field("F1", "Farbe", "select", "text", &values(&["r", "g"])));
        let many = part("0:1", &field("F2", "Land", "select", "text", &values(&["a", "b", "c", "d", "e"])));
        let imported = import(&message(&format!("{few}{many}"))).unwrap();
        let f1 = imported.form.field("f1").unwrap();
        assert!(matches!(&f1.kind, Kind::Radio { options } if options.len() == 2 && options[1].label.de == "Wert g"));
        assert!(f1.required);
        let f2 = imported.form.field("f2").unwrap();
        assert!(matches!(&f2.kind, Kind::Select { options } if options.len() == 5));
        assert!(!f2.required);
        assert_eq!(imported.form.problems(), Vec::<String>::new());
    }

    #[test]
    fn repeating_groups_and_fields_become_repetitions() {
        let child = group("G2", "Kind", &part("1:1", &field("F3", "Vorname", "input", "text", "")));
        let inner = format!("{}{}", part("0:*", &child), part("1:3", &field("F4", "Telefon", "input", "text", "")));
        let imported = import(&message(&inner)).unwrap();
        let form = &imported.form;
        let Kind::Repeat { fields, min, max } = &form.field("g2").unwrap().kind else { panic!() };
        assert_eq!((fields.len(), *min, *max), (1, 0, convert::UNBOUNDED_MAX));
        assert!(fields[0].required);
        let Kind::Repeat { min, max, .. } = &form.field("f4_liste").unwrap().kind else { panic!() };
        assert_eq!((*min, *max), (1, 3));
        assert!(imported.report.iter().any(|n| n.element == "G2:1.0" && n.message.contains("unbounded")));
        assert_eq!(form.problems(), Vec::<String>::new());
    }

    #[test]
    fn a_comparison_of_two_dates_becomes_a_cross_rule_and_other_rules_are_reported() {
        let rule = |id: &str, script: &str| {
            format!(
                "<xdf:regel><xdf:identifikation><xdf:id>{id}</xdf:id></xdf:identifikation><xdf:name>{id}</xdf:name>\
                 <xdf:beschreibung>Das Ende liegt nicht vor dem Beginn.</xdf:beschreibung><xdf:skript>{script}</xdf:skript></xdf:regel>"
            )
        };
        let inner = format!(
            "{}{}{}{}",
            rule("R1", "F6 &gt;= F5"),
            rule("R2", "F5.length &gt; 3"),
            part("1:1", &field("F5", "Beginn", "input", "date", "")),
            part("1:1", &field("F6", "Ende", "input", "date", ""))
        );
        let imported = import(&message(&inner)).unwrap();
        assert_eq!(imported.form.rules.len(), 1);
        let CrossRule::NotBefore { end, start, message } = &imported.form.rules[0];
        assert_eq!((end.as_str(), start.as_str()), ("f6", "f5"));
        assert_eq!(message.de, "Das Ende liegt nicht vor dem Beginn.");
        assert!(imported.report.iter().any(|n| n.element == "R2" && n.message.contains("not mapped")));
        assert!(!imported.report.iter().any(|n| n.element == "R1"));
    }

    #[test]
    fn input_limits_become_the_fields_limits() {
        let inner = format!(
            "{}{}{}",
            part(
                "1:1",
                &field("F7", "Anzahl", "input", "num_int", "<xdf:praezisierung minValue=\"1\" maxValue=\"9\"/>")
            ),
            part("1:1", &field("F8", "Betrag", "input", "num_currency", "<xdf:praezisierung maxValue=\"12.5\"/>")),
            part(
                "1:1",
                &field(
                    "F9",
                    "Nachweis",
                    "input",
                    "file",
                    "<xdf:maxSize>2000</xdf:maxSize><xdf:mediaType>application/pdf</xdf:mediaType>"
                )
            )
        );
        let imported = import(&message(&inner)).unwrap();
        let form = &imported.form;
        assert_eq!(form.field("f7").unwrap().kind, Kind::Number { min: Some(1.0), max: Some(9.0), decimals: 0 });
        assert_eq!(form.field("f8").unwrap().kind, Kind::Money { min_cents: None, max_cents: Some(1250) });
        assert_eq!(
            form.field("f9").unwrap().kind,
            Kind::File { accept: vec!["application/pdf".into()], max_bytes: 2000 }
        );
        assert_eq!(form.problems(), Vec::<String>::new());
    }

    #[test]
    fn a_latin1_file_is_read_when_it_says_so() {
        let to_latin1 = |text: &str| -> Vec<u8> { text.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect() };
        let utf8 = message(&part("1:1", &field("F1", "Straße", "input", "text", "")));
        let declared = utf8.replace("<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>");
        let text = decode(&to_latin1(&declared)).unwrap();
        assert_eq!(import(&text).unwrap().form.field("f1").unwrap().label.de, "Straße");
        // Without the declaration the bytes are not UTF-8 and say nothing else: refused.
        assert!(decode(&to_latin1(&utf8)).unwrap_err().0.contains("neither UTF-8"));
    }

    #[test]
    fn the_parser_is_bounded() {
        let huge = format!("<a>{}</a>", " ".repeat(MAX_BYTES));
        assert!(import(&huge).unwrap_err().0.starts_with("File too large"));
        let dtd = "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>";
        assert!(import(dtd).unwrap_err().0.starts_with("Not well-formed XML"));
        assert_eq!(import("<a/>").unwrap_err().0, "Not an XDatenfelder message: <a> has no namespace");
        let mut deep = part("1:1", &field("F1", "Tief", "input", "text", ""));
        for i in 0..30 {
            deep = part("1:1", &group(&format!("G{}", i + 10), "Ebene", &deep));
        }
        assert!(import(&message(&deep)).unwrap_err().0.starts_with("Groups nested deeper"));
    }
}
