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

/// The scenario KoSIT picks for a parsed document: its `<match>` compares every
/// CustomizationID (BT-24) element's text exactly (no trimming), the first scenario wins.
pub fn of_document(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Option<Scenario> {
    let root = doc.root_element();
    let ids: Vec<&str> = if syntax.is_ubl() {
        root.children()
            .filter(|n| n.has_tag_name((crate::reader::ns::CBC, "CustomizationID")))
            .map(|n| n.text().unwrap_or(""))
            .collect()
    } else {
        root.children()
            .filter(|n| n.has_tag_name((crate::reader::ns::CII, "ExchangedDocumentContext")))
            .flat_map(|n| n.children())
            .filter(|n| n.has_tag_name((crate::reader::ns::RAM, "GuidelineSpecifiedDocumentContextParameter")))
            .flat_map(|n| n.children())
            .filter(|n| n.has_tag_name((crate::reader::ns::RAM, "ID")))
            .map(|n| n.text().unwrap_or(""))
            .collect()
    };
    // KoSIT's scenario order: XRechnung, extension, CVD, then plain EN 16931.
    [XRECHNUNG, XRECHNUNG_EXTENSION, XRECHNUNG_CVD, EN16931]
        .into_iter()
        .filter(|id| ids.contains(id))
        .find_map(|id| Scenario::select(syntax, id))
}

/// The CustomizationID (BT-24) of a parsed invoice, white space trimmed.
pub fn customization_id(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Option<String> {
    let root = doc.root_element();
    let text = if syntax.is_ubl() {
        root.children().find(|n| n.has_tag_name((crate::reader::ns::CBC, "CustomizationID")))?.text()
    } else {
        root.children()
            .find(|n| n.has_tag_name((crate::reader::ns::CII, "ExchangedDocumentContext")))?
            .children()
            .find(|n| n.has_tag_name((crate::reader::ns::RAM, "GuidelineSpecifiedDocumentContextParameter")))?
            .children()
            .find(|n| n.has_tag_name((crate::reader::ns::RAM, "ID")))?
            .text()
    };
    text.map(|t| t.trim().to_string())
}
