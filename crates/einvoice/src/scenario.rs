//! KoSIT validator scenarios (`validator-configuration-xrechnung/scenarios.xml`): which scenario
//! a document falls under, chosen from its syntax and CustomizationID (BT-24), and the severity
//! overrides (`customLevel`) the scenario applies to the fired rules.
//!
//! Only the matching, the rule sets and the overrides live here; [`crate::validate()`] runs the
//! pipeline.

use crate::reader::Syntax;
use crate::rules::{Finding, Flag, Sources};

/// CustomizationID of XRechnung 3.0.
pub const XRECHNUNG: &str = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0";
/// CustomizationID of the XRechnung 3.0 extension.
pub const XRECHNUNG_EXTENSION: &str = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0";
/// CustomizationID of XRechnung CVD 0.9.
pub const XRECHNUNG_CVD: &str = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9";
/// CustomizationID of plain EN 16931.
pub const EN16931: &str = "urn:cen.eu:en16931:2017";

use Flag::{Fatal as E, Information as I, Warning as W};

const UBL_STANDARD: &[(&str, Flag)] = &[("BR-CL-23", W), ("BR-CL-21", W), ("UBL-CR-646", E)];
const UBL_CREDIT_NOTE: &[(&str, Flag)] = &[("BR-CL-23", W), ("BR-CL-21", W)];
const UBL_EXTENSION: &[(&str, Flag)] = &[
    ("BR-CL-21", I),
    ("BR-CL-23", W),
    ("BR-CL-24", I),
    ("BR-CL-10", I),
    ("BR-CL-11", I),
    ("BR-CL-25", I),
    ("BR-CL-26", I),
    ("BR-CO-16", I),
    ("UBL-CR-470", I),
    ("UBL-CR-646", I),
];
const UBL_CVD: &[(&str, Flag)] = &[("BR-CL-13", I), ("BR-CL-23", W), ("BR-CL-21", W), ("UBL-CR-646", E)];
const CII_STANDARD: &[(&str, Flag)] =
    &[("BR-CL-23", W), ("BR-CL-21", W), ("CII-SR-452", E), ("CII-SR-453", E), ("CII-SR-454", E)];
const CII_EXTENSION: &[(&str, Flag)] = &[
    ("BR-CL-23", W),
    ("BR-CL-21", I),
    ("BR-CL-11", I),
    ("BR-CL-10", I),
    ("BR-CL-24", I),
    ("BR-CL-25", I),
    ("BR-CL-26", I),
    ("CII-SR-452", E),
    ("CII-SR-453", E),
    ("CII-SR-454", E),
];
const CII_CVD: &[(&str, Flag)] =
    &[("BR-CL-13", I), ("BR-CL-23", W), ("BR-CL-21", W), ("CII-SR-452", E), ("CII-SR-453", E), ("CII-SR-454", E)];

/// A KoSIT scenario: its name, the schematrons it runs and its severity overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    pub name: &'static str,
    /// The rule sets: CEN alone for plain EN 16931, CEN and XRechnung otherwise.
    pub sources: Sources,
    pub overrides: &'static [(&'static str, Flag)],
}

impl Scenario {
    /// The scenario for a syntax and CustomizationID, or `None` when KoSIT has none (the
    /// document is then rejected).
    pub fn select(syntax: Syntax, customization_id: &str) -> Option<Scenario> {
        let scenario = |name, overrides| Some(Scenario { name, sources: Sources::All, overrides });
        let cen_only = |name| Some(Scenario { name, sources: Sources::Cen, overrides: &[] });
        match (syntax, customization_id) {
            (Syntax::UblInvoice, XRECHNUNG) => scenario("EN16931 XRechnung (UBL Invoice)", UBL_STANDARD),
            (Syntax::UblInvoice, XRECHNUNG_EXTENSION) => {
                scenario("EN16931 XRechnung Extension (UBL Invoice)", UBL_EXTENSION)
            }
            (Syntax::UblInvoice, XRECHNUNG_CVD) => scenario("EN16931 XRechnung CVD (UBL Invoice)", UBL_CVD),
            (Syntax::UblCreditNote, XRECHNUNG) => scenario("EN16931 XRechnung (UBL CreditNote)", UBL_CREDIT_NOTE),
            (Syntax::UblCreditNote, XRECHNUNG_CVD) => scenario("EN16931 XRechnung CVD (UBL CreditNote)", UBL_CVD),
            (Syntax::Cii, XRECHNUNG) => scenario("EN16931 XRechnung (CII)", CII_STANDARD),
            (Syntax::Cii, XRECHNUNG_EXTENSION) => scenario("EN16931 XRechnung Extension (CII)", CII_EXTENSION),
            (Syntax::Cii, XRECHNUNG_CVD) => scenario("EN16931 XRechnung CVD (CII)", CII_CVD),
            (Syntax::UblInvoice, EN16931) => cen_only("EN16931 (UBL Invoice)"),
            (Syntax::UblCreditNote, EN16931) => cen_only("EN16931 (UBL CreditNote)"),
            (Syntax::Cii, EN16931) => cen_only("EN16931 (CII)"),
            _ => None,
        }
    }

    /// Applies the scenario's severity overrides to fired rules.
    pub fn apply(&self, findings: &mut [Finding]) {
        for finding in findings {
            if let Some((_, flag)) = self.overrides.iter().find(|(id, _)| *id == finding.rule) {
                finding.severity = *flag;
            }
        }
    }
}

/// The CustomizationID (BT-24) elements of a document: UBL's `cbc:CustomizationID` children of
/// the root, CII's `rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/
/// ram:ID`.
fn customization_elements<'a, 'i>(doc: &'a roxmltree::Document<'i>, syntax: Syntax) -> Vec<roxmltree::Node<'a, 'i>> {
    let root = doc.root_element();
    if syntax.is_ubl() {
        return root.children().filter(|n| n.has_tag_name((crate::reader::ns::CBC, "CustomizationID"))).collect();
    }
    root.children()
        .filter(|n| n.has_tag_name((crate::reader::ns::CII, "ExchangedDocumentContext")))
        .flat_map(|n| n.children())
        .filter(|n| n.has_tag_name((crate::reader::ns::RAM, "GuidelineSpecifiedDocumentContextParameter")))
        .flat_map(|n| n.children())
        .filter(|n| n.has_tag_name((crate::reader::ns::RAM, "ID")))
        .collect()
}

/// An element's string value: its text, comments and processing instructions left out.
fn string_value(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect()
}

/// Whether one of the elements has the CustomizationID `id` as KoSIT's `<match>` asks: the
/// three XRechnung scenarios of a UBL Invoice compare the element's string value
/// (`cbc:CustomizationID[. = '…']`), all others compare each of its text nodes
/// (`cbc:CustomizationID/text() = '…'`), so a comment inside the identifier counts only for
/// the former. Exactly, without trimming.
fn matches(syntax: Syntax, id: &str, elements: &[roxmltree::Node<'_, '_>]) -> bool {
    if syntax == Syntax::UblInvoice && id != EN16931 {
        elements.iter().any(|e| string_value(*e) == id)
    } else {
        elements.iter().flat_map(|e| e.children()).any(|t| t.is_text() && t.text() == Some(id))
    }
}

/// The scenario KoSIT picks for a parsed document: the first of XRechnung, its extension, CVD
/// and plain EN 16931 whose `<match>` holds (see [`matches`]).
pub fn of_document(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Option<Scenario> {
    let elements = customization_elements(doc, syntax);
    [XRECHNUNG, XRECHNUNG_EXTENSION, XRECHNUNG_CVD, EN16931]
        .into_iter()
        .filter(|id| matches(syntax, id, &elements))
        .find_map(|id| Scenario::select(syntax, id))
}

/// The CustomizationID (BT-24) of a parsed invoice (the first element's string value), white
/// space trimmed, to name it in a message.
pub fn customization_id(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Option<String> {
    customization_elements(doc, syntax).first().map(|e| string_value(*e).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario_of(xml: &str) -> Option<&'static str> {
        let doc = roxmltree::Document::parse(xml).expect("xml");
        let syntax = Syntax::of_root(doc.root_element()).expect("a syntax");
        of_document(&doc, syntax).map(|s| s.name)
    }

    fn ubl(root: &str, id: &str) -> String {
        let ns = if root == "Invoice" { "Invoice-2" } else { "CreditNote-2" };
        format!(
            r#"<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{ns}"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
            <cbc:CustomizationID>{id}</cbc:CustomizationID></{root}>"#
        )
    }

    fn cii(id: &str) -> String {
        format!(
            r#"<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
            xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
            <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{id}</ram:ID>
            </ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext></rsm:CrossIndustryInvoice>"#
        )
    }

    #[test]
    fn a_comment_inside_the_customization_id_counts_as_kosit_matches_it() {
        // "urn:cen.eu:en16931:2017#compliant#<!-- -->urn:xeinkauf.de:kosit:xrechnung_3.0"
        let split = XRECHNUNG.replacen("#urn:xeinkauf", "#<!-- Kommentar -->urn:xeinkauf", 1);
        // UBL Invoice, XRechnung: `cbc:CustomizationID[. = …]`, the string value, matches.
        assert_eq!(scenario_of(&ubl("Invoice", &split)), Some("EN16931 XRechnung (UBL Invoice)"));
        // CreditNote and CII: `text() = …`, no single text node matches.
        assert_eq!(scenario_of(&ubl("CreditNote", &split)), None);
        assert_eq!(scenario_of(&cii(&split)), None);
        // Plain EN 16931 compares text nodes in every syntax, UBL Invoice included.
        let en = EN16931.replacen(":2017", "<!-- -->:2017", 1);
        assert_eq!(scenario_of(&ubl("Invoice", &en)), None);
        // A CDATA section is text like any other.
        let cdata = format!("<![CDATA[{XRECHNUNG}]]>");
        assert_eq!(scenario_of(&cii(&cdata)), Some("EN16931 XRechnung (CII)"));
        // No trimming: a space makes it another identifier.
        assert_eq!(scenario_of(&ubl("Invoice", &format!(" {XRECHNUNG}"))), None);
        assert_eq!(scenario_of(&ubl("CreditNote", XRECHNUNG)), Some("EN16931 XRechnung (UBL CreditNote)"));
    }
}
