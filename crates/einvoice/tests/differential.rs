//! Regression cases found by the differential test against Saxon (`bench/differential.py`):
//! test-suite invoices with one change, validated as KoSIT does it after the schema step.

mod common;

use einvoice::Verdict;
use einvoice::rules::EVALUATION_ERROR_RULE;
use einvoice::validate::{Options, validate_with};

fn changed(file: &str, from: &str, to: &str) -> Vec<u8> {
    let path = common::testdata().join("xrechnung-testsuite/src/test").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.contains(from), "{file} lacks {from}");
    text.replacen(from, to, 1).into_bytes()
}

fn rules_of(bytes: &[u8]) -> (Verdict, Vec<&'static str>) {
    let report = validate_with(bytes, Options { schema: false, ..Options::default() });
    (report.verdict, report.findings.iter().map(|f| f.rule).collect())
}

#[test]
fn a_dynamic_error_in_a_warning_rejects_the_invoice() {
    // Two telephone numbers: normalize-space() of both fails in BR-DE-27, a warning. KoSIT
    // stops on the failed schematron and does not accept the invoice.
    let number = "<ram:CompleteNumber>012 3456789</ram:CompleteNumber>";
    let bytes = changed("technical-cases/cius/01.06_minimal_test_uncefact.xml", number, &number.repeat(2));
    let (verdict, rules) = rules_of(&bytes);
    assert!(rules.contains(&"BR-DE-27") && rules.contains(&EVALUATION_ERROR_RULE), "{rules:?}");
    assert_eq!(verdict, Verdict::Reject);
    // Without the change it is accepted.
    let (verdict, rules) = rules_of(&changed("technical-cases/cius/01.06_minimal_test_uncefact.xml", number, number));
    assert_eq!(verdict, Verdict::Accept, "{rules:?}");
}

#[test]
fn a_negative_zero_tax_total_differs_from_the_rounded_sum_of_its_breakdown() {
    // BR-CO-14 (CII) compares the tax total with `round(sum(CalculatedAmount) * 10 * 10) div
    // 100`, a double: the sum and the rounding keep -0, which an untyped 0.00 is not equal to
    // (Saxon's comparison). Found by mutating a public invoice (`ram:CalculatedAmount` -0).
    let file = "business-cases/standard/01.21a-INVOICE_uncefact.xml";
    let calculated = "<ram:CalculatedAmount>0.00</ram:CalculatedAmount>";
    let negative = "<ram:CalculatedAmount>-0.00</ram:CalculatedAmount>";
    let (verdict, rules) = rules_of(&changed(file, calculated, negative));
    assert_eq!((verdict, rules), (Verdict::Reject, vec!["BR-CO-14", "BR-AE-09"]));
    // With the total -0.00 as well, the two agree.
    let both = String::from_utf8(changed(file, calculated, negative)).expect("UTF-8").replacen(
        "<ram:TaxTotalAmount currencyID=\"EUR\">0.00</ram:TaxTotalAmount>",
        "<ram:TaxTotalAmount currencyID=\"EUR\">-0.00</ram:TaxTotalAmount>",
        1,
    );
    assert_eq!(rules_of(both.as_bytes()).1, ["BR-AE-09"]);
}
