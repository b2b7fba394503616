//! The CEN examples (`en16931-cen/EXPECTED-examples.csv`): those with the plain EN 16931
//! CustomizationID fall under KoSIT's "EN16931 (…)" scenarios (schema and CEN rules only) and
//! are accepted; the Peppol BIS and old XRechnung 2.0 ones match no scenario and are rejected.

mod common;

use einvoice::Verdict;
use einvoice::validate::SCENARIO_RULE;

#[test]
fn the_cen_examples_behave_as_expected() {
    let base = common::testdata().join("en16931-cen");
    let cases = common::read_csv(&base.join("EXPECTED-examples.csv"));
    assert_eq!(cases.len(), 63);
    let mut wrong = Vec::new();
    for case in &cases {
        let report = einvoice::validate(&std::fs::read(base.join(&case["file"])).expect("example"));
        let expected = if case["expected"].starts_with("accept") { Verdict::Accept } else { Verdict::Reject };
        if expected == Verdict::Reject {
            // Rejected for the right reason: no scenario, not some rule.
            if report.findings.first().map(|f| f.rule) != Some(SCENARIO_RULE) {
                wrong.push(format!("{}: expected no scenario, got {:?}", case["file"], report.scenario));
            }
        } else if report.verdict != Verdict::Accept {
            let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
            wrong.push(format!("{}: rejected by\n    {}", case["file"], errors.join("\n    ")));
        } else if Some(case["kosit_scenario"].as_str()).is_some_and(|s| !s.contains(report.scenario.unwrap_or("-"))) {
            wrong.push(format!("{}: scenario {:?}", case["file"], report.scenario));
        }
    }
    println!("{} of {} examples as expected", cases.len() - wrong.len(), cases.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
