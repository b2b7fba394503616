//! The CEN VEFA unit tests (`en16931-cen/EXPECTED-vefa-unit-cases.csv`): for each test, the rules
//! in `success` must not fire and those in `error`/`warning` must fire. Only the rules named in
//! the test's scope are compared; scope rules that are not implemented yet are counted as skipped.
//!
//! Run with `cargo test -p einvoice --test vefa -- --nocapture` to see the table per family.

mod common;

use einvoice::rules::{self, RuleSyntax};
use std::collections::HashSet;

#[test]
fn the_vefa_unit_cases_fire_exactly_the_expected_rules() {
    let base = common::testdata().join("en16931-cen");
    let cases = common::read_csv(&base.join("EXPECTED-vefa-unit-cases.csv"));
    let mut tally = common::Tally::default();
    let mut current: Option<(String, String)> = None;
    for case in &cases {
        let file = &case["file"];
        if current.as_ref().is_none_or(|(f, _)| f != file) {
            let text = std::fs::read_to_string(base.join(file)).expect("test file");
            current = Some((file.clone(), text));
        }
        let Some((_, text)) = &current else { continue };
        let set = roxmltree::Document::parse(text).expect("testSet XML");
        let index: usize = case["test_index"].parse().expect("index");
        let test = set.root_element().children().filter(|n| n.has_tag_name("test")).nth(index).expect("the test");
        let root = test.children().find(|n| n.is_element() && !n.has_tag_name("assert")).expect("a document");
        let fragment = common::standalone(root);
        let doc = roxmltree::Document::parse(&fragment).expect("fragment XML");
        let fired: HashSet<&str> = rules::evaluate(&doc, RuleSyntax::Ubl).iter().map(|f| f.rule).collect();
        let ids = |column: &str| case[column].split_whitespace().map(str::to_string).collect::<Vec<_>>();
        for scope in ids("scope") {
            if !rules::is_implemented(&scope, RuleSyntax::Ubl) {
                tally.skip(&scope);
                continue;
            }
            let must_fire = ids("error").contains(&scope) || ids("warning").contains(&scope);
            let must_hold = ids("success").contains(&scope);
            let fires = fired.contains(scope.as_str());
            if (must_fire && !fires) || (must_hold && fires) {
                let expected = if must_fire { "fire" } else { "hold" };
                tally.fail(&scope, format!("{file}#{index} {scope} should {expected}: {}", case["description"]));
            } else {
                tally.pass(&scope);
            }
        }
    }
    let failures = tally.report("VEFA unit cases (UBL), per scope rule family");
    assert_eq!(failures, 0, "VEFA unit cases failed");
}
