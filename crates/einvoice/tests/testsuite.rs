//! The KoSIT XRechnung test suite (`xrechnung-testsuite/EXPECTED.csv`): all 86 invoices are
//! valid, so the whole pipeline (scenario, schema step, CEN and XRechnung rules, the scenario's
//! severity overrides) must accept every one of them.

mod common;

use einvoice::Verdict;

#[test]
fn every_invoice_of_the_xrechnung_test_suite_is_accepted() {
    let base = common::testdata().join("xrechnung-testsuite");
    let cases = common::read_csv(&base.join("EXPECTED.csv"));
    assert_eq!(cases.len(), 86);
    let mut rejected = Vec::new();
    for case in &cases {
        assert!(case["expected"].starts_with("accept"));
        let report = einvoice::validate(&std::fs::read(base.join(&case["file"])).expect("invoice"));
        assert!(report.scenario.is_some(), "{}: no scenario", case["file"]);
        if report.verdict != Verdict::Accept {
            rejected.extend(report.errors().map(|finding| format!("{}: {finding}", case["file"])));
        }
    }
    println!("{} of {} invoices accepted", cases.len() - rejected.len(), cases.len());
    assert!(rejected.is_empty(), "errors:\n{}", rejected.join("\n"));
}
