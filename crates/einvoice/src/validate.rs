//! The validation pipeline with KoSIT semantics (`validator-configuration-xrechnung/scenarios.xml`):
//! read the bytes securely, choose the scenario from the syntax and the CustomizationID, run the
//! schema step ([`crate::schema`]) and, on a schema-valid document, the scenario's schematrons
//! (CEN, plus XRechnung for the XRechnung scenarios), apply the scenario's severity overrides,
//! and decide: accept when no error remains.

use crate::reader::{self, ReadError, Syntax};
use crate::rules::{self, Finding, Flag, RuleSet, Sources};
use crate::scenario::{self, Scenario};
use crate::schema;
use std::fmt;

/// The rule id of the finding that reports unreadable input.
pub const READ_RULE: &str = "READ";
/// The rule id of the finding that reports a document no scenario matches.
pub const SCENARIO_RULE: &str = "SCENARIO";

/// The verdict on one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
}

impl Verdict {
    /// `accept` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of validating one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The detected syntax, if the document could be read.
    pub syntax: Option<Syntax>,
    /// The KoSIT scenario's name, if one matched.
    pub scenario: Option<&'static str>,
    pub verdict: Verdict,
    /// Every fired rule (schema findings included), severities after the scenario's overrides,
    /// in the order of the steps: read, scenario, schema, schematron.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The findings that reject the document.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Flag::Fatal)
    }

    /// The warnings (and information) that do not.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity != Flag::Fatal)
    }

    /// The report on input that could not be read at all (e.g. a missing file), with the reason.
    pub fn unreadable(reason: String) -> Report {
        Report::rejected(None, READ_RULE, reason, "/")
    }

    fn rejected(syntax: Option<Syntax>, rule: &'static str, message: String, location: &str) -> Report {
        let finding = Finding { rule, severity: Flag::Fatal, message, location: location.to_string() };
        Report { syntax, scenario: None, verdict: Verdict::Reject, findings: vec![finding] }
    }
}

/// Options of a validation run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Largest accepted input in bytes.
    pub max_bytes: usize,
    /// Run the schema step.
    pub schema: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_bytes: reader::DEFAULT_MAX_BYTES, schema: true }
    }
}

/// Validates one document as the KoSIT validator with the XRechnung configuration does.
pub fn validate(bytes: &[u8]) -> Report {
    validate_with(bytes, Options::default())
}

/// [`validate`] with explicit options. A ZUGFeRD / Factur-X PDF is validated by its embedded
/// XML ([`crate::pdf`]).
pub fn validate_with(bytes: &[u8], options: Options) -> Report {
    if crate::pdf::is_pdf(bytes) {
        return match crate::pdf::extract(bytes, options.max_bytes) {
            Ok(embedded) => validate_with(&embedded.xml, options),
            Err(e) => Report::unreadable(e.to_string()),
        };
    }
    let text = match reader::decode(bytes, options.max_bytes) {
        Ok(text) => text,
        Err(e) => return Report::rejected(None, READ_RULE, e.to_string(), "/"),
    };
    match reader::parse(&text) {
        Ok((doc, syntax)) => validate_parsed(&doc, syntax, options),
        Err(e) => Report::rejected(None, READ_RULE, e.to_string(), "/"),
    }
}

/// The steps after reading: scenario, schema (when `options.schema`), the scenario's
/// schematrons and its severity overrides, the verdict. For callers that have parsed the
/// document already (the invoice intake reads its fields from the same tree).
pub fn validate_parsed(doc: &roxmltree::Document<'_>, syntax: Syntax, options: Options) -> Report {
    let Some(scenario) = scenario::of_document(doc, syntax) else {
        let id = scenario::customization_id(doc, syntax).unwrap_or_default();
        let message = format!(
            "No validation scenario matches this document ({} with CustomizationID {id:?}); \
             XRechnung 3.0, its extension, CVD or plain EN 16931 are accepted.",
            syntax.as_str()
        );
        return Report::rejected(Some(syntax), SCENARIO_RULE, message, "/");
    };
    let mut findings = if options.schema { schema::check(doc, syntax) } else { Vec::new() };
    // KoSIT runs the schematrons only on a schema-valid document (`SchematronValidationAction`
    // is skipped when the schema validation failed): the sender mends the structure first.
    if findings.is_empty() {
        findings = RuleSet::of(syntax.into()).evaluate_sources(doc, scenario.sources);
    }
    finish(Some(syntax), Some(scenario), findings)
}

fn finish(syntax: Option<Syntax>, scenario: Option<Scenario>, mut findings: Vec<Finding>) -> Report {
    if let Some(scenario) = scenario {
        scenario.apply(&mut findings);
    }
    let verdict = if findings.iter().any(|f| f.severity == Flag::Fatal) { Verdict::Reject } else { Verdict::Accept };
    Report { syntax, scenario: scenario.map(|s| s.name), verdict, findings }
}

/// Evaluates the business rules (CEN and XRechnung) on a document or fragment without the
/// scenario and schema steps, as the CEN unit tests need. The syntax is taken from the root
/// element when it is one of the three, else `fallback`; a fragment with another root is
/// evaluated as it is.
pub fn rules_only(bytes: &[u8], fallback: rules::RuleSyntax) -> Result<Report, ReadError> {
    if crate::pdf::is_pdf(bytes) {
        return match crate::pdf::extract(bytes, reader::DEFAULT_MAX_BYTES) {
            Ok(embedded) => rules_only(&embedded.xml, fallback),
            Err(e) => Ok(Report::unreadable(e.to_string())),
        };
    }
    let text = reader::decode(bytes, reader::DEFAULT_MAX_BYTES)?;
    let doc = reader::parse_xml(&text)?;
    let syntax = Syntax::of_root(doc.root_element());
    let rule_syntax = syntax.map_or(fallback, Into::into);
    let findings = RuleSet::of(rule_syntax).evaluate_sources(&doc, Sources::All);
    Ok(finish(syntax, None, findings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_input_and_unknown_customization_ids_are_rejected_with_a_reason() {
        let report = validate(b"%PDF-1.7 not xml");
        assert_eq!(report.verdict, Verdict::Reject);
        assert_eq!(report.findings[0].rule, READ_RULE);

        let xml = br#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
            <cbc:CustomizationID>urn:example:other</cbc:CustomizationID></Invoice>"#;
        let report = validate(xml);
        assert_eq!(report.verdict, Verdict::Reject);
        assert_eq!(report.syntax, Some(Syntax::UblInvoice));
        assert_eq!(report.findings[0].rule, SCENARIO_RULE);
        assert!(report.findings[0].message.contains("urn:example:other"));
    }

    #[test]
    fn a_plain_en16931_document_is_checked_without_the_xrechnung_rules() {
        let xml = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
            <cbc:CustomizationID>CID</cbc:CustomizationID><cbc:ID>1</cbc:ID></Invoice>"#;
        let plain = validate(xml.replace("CID", scenario::EN16931).as_bytes());
        assert_eq!(plain.scenario, Some("EN16931 (UBL Invoice)"));
        // Schema-invalid (most required elements missing): as KoSIT, the schema's findings only.
        assert!(!plain.findings.is_empty() && plain.findings.iter().all(|f| f.rule == schema::SCHEMA_RULE));
        assert_eq!(plain.verdict, Verdict::Reject);
        let rules = |cid: &str| {
            validate_with(xml.replace("CID", cid).as_bytes(), Options { schema: false, ..Options::default() })
        };
        assert!(rules(scenario::EN16931).findings.iter().all(|f| !f.rule.starts_with("BR-DE")));
        let xrechnung = rules(scenario::XRECHNUNG);
        assert_eq!(xrechnung.scenario, Some("EN16931 XRechnung (UBL Invoice)"));
        assert!(xrechnung.errors().any(|f| f.rule == "BR-DE-1"));
        assert_eq!(xrechnung.verdict, Verdict::Reject);
    }
}
