//! The KoSIT XRechnung test suite (`xrechnung-testsuite/EXPECTED.csv`): all 86 invoices are
//! valid, so no fatal rule among the implemented ones may fire on any of them once the KoSIT
//! scenario's severity overrides are applied.

mod common;

use einvoice::rules::{self, Flag};

#[test]
fn every_invoice_of_the_xrechnung_test_suite_is_accepted() {
    let base = common::testdata().join("xrechnung-testsuite");
    let cases = common::read_csv(&base.join("EXPECTED.csv"));
    assert_eq!(cases.len(), 86);
    let mut rejected = Vec::new();
    for case in &cases {
        let bytes = std::fs::read(base.join(&case["file"])).expect("invoice");
        let text = einvoice::reader::decode(&bytes, einvoice::reader::DEFAULT_MAX_BYTES).expect("decodes");
        let (doc, syntax) = einvoice::reader::parse(&text).expect("parses");
        let id = einvoice::scenario::customization_id(&doc, syntax).unwrap_or_default();
        let scenario = einvoice::scenario::Scenario::select(syntax, &id).expect("a KoSIT scenario");
        let mut findings = rules::evaluate(&doc, syntax.into());
        scenario.apply(&mut findings);
        for finding in findings.iter().filter(|f| f.severity == Flag::Fatal) {
            rejected.push(format!("{}: {finding}", case["file"]));
        }
    }
    println!("{} of {} invoices accepted", cases.len() - rejected.len(), cases.len());
    assert!(rejected.is_empty(), "fatal rules fired:\n{}", rejected.join("\n"));
}
