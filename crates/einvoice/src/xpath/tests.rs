use super::eval::Evaluator;
use super::*;

const DOC: &str = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount></cac:TaxTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount>60.10</cbc:LineExtensionAmount></cac:InvoiceLine>
  <cac:InvoiceLine><cbc:ID>2</cbc:ID><cbc:LineExtensionAmount>39.90</cbc:LineExtensionAmount></cac:InvoiceLine>
  <cac:InvoicePeriod><cbc:StartDate>2024-01-31</cbc:StartDate><cbc:EndDate>2024-02-01</cbc:EndDate></cac:InvoicePeriod>
</Invoice>"#;

fn check(expr: &str) -> bool {
    let doc = roxmltree::Document::parse(DOC).expect("xml");
    let compiled = Expr::compile(expr, UBL_NAMESPACES).expect("compiles");
    Evaluator::new().test(&compiled, XNode::new(doc.root_element())).expect("evaluates")
}

#[test]
fn paths_comparisons_and_functions_evaluate_like_xpath() {
    assert!(check("normalize-space(cbc:DocumentCurrencyCode) != ''"));
    assert!(check("sum(//cac:InvoiceLine/xs:decimal(cbc:LineExtensionAmount)) = 100"));
    assert!(check(
        "round(sum(//(cac:InvoiceLine|cac:CreditNoteLine)/xs:decimal(cbc:LineExtensionAmount)) * 10 * 10) div 100 = 100.00"
    ));
    assert!(check(
        "every $c in cbc:DocumentCurrencyCode satisfies count(cac:TaxTotal/xs:decimal(cbc:TaxAmount[@currencyID=$c])) eq 1"
    ));
    assert!(check("xs:date(cac:InvoicePeriod/cbc:EndDate) >= xs:date(cac:InvoicePeriod/cbc:StartDate)"));
    assert!(check("count(cac:InvoiceLine[2]) = 1 and cac:InvoiceLine[last()]/cbc:ID = '2'"));
    assert!(check("cac:InvoiceLine/cbc:ID = ('3', '2')"));
    assert!(check("not(cac:Missing) and not(exists(//cbc:Nope))"));
    assert!(check("string-length(substring-after(cac:TaxTotal/cbc:TaxAmount, '.')) <= 2"));
    assert!(check("matches(cbc:DocumentCurrencyCode, '^[A-Z]{3}$')"));
    assert!(check("contains(' EUR USD ', concat(' ', cbc:DocumentCurrencyCode, ' '))"));
    assert!(check("(if (cac:TaxTotal) then 1 else 0) = 1"));
    assert!(check("cac:TaxTotal/cbc:TaxAmount/@currencyID = ../cbc:DocumentCurrencyCode or true()"));
    assert!(check("//cbc:ID[. = '2']/../preceding-sibling::cac:InvoiceLine/cbc:ID = '1'"));
    assert!(check("upper-case('vat') = 'VAT' and 5 mod 3 = 2 and -1 < 0"));
    assert!(!check("cac:InvoiceLine/cbc:ID = '3'"));
}

#[test]
fn patterns_match_anywhere_below_the_root() {
    let doc = roxmltree::Document::parse(DOC).expect("xml");
    let pattern = Expr::compile_pattern("cac:InvoiceLine | /ubl:Invoice", UBL_NAMESPACES).expect("compiles");
    let nodes = Evaluator::new().eval(&pattern, XNode::new(doc.root())).expect("evaluates");
    assert_eq!(nodes.len(), 3);
}

#[test]
fn optimised_and_literal_compilations_select_the_same_nodes() {
    let doc = roxmltree::Document::parse(DOC).expect("xml");
    let mut eval = Evaluator::new();
    for text in [
        "//cbc:ID",
        "//cac:InvoiceLine[cbc:ID = '2']/cbc:LineExtensionAmount",
        "/ubl:Invoice//cbc:ID[1]",
        "//cbc:ID[last()]",
        "cac:InvoiceLine//cbc:*",
        "count(//cbc:ID) + count(/ubl:Invoice/cac:InvoiceLine)",
        "not(cac:InvoiceLine/cbc:Missing) and exists(cac:InvoiceLine[cbc:ID = '1']/cbc:ID)",
    ] {
        let optimised = Expr::compile(text, UBL_NAMESPACES).expect("compiles");
        let literal = Expr::compile_raw(text, UBL_NAMESPACES).expect("compiles");
        let root = XNode::new(doc.root_element());
        // Twice: the second evaluation reads memoised absolute paths.
        for _ in 0..2 {
            let (a, b) =
                (eval.eval(&optimised, root).expect("evaluates"), eval.eval(&literal, root).expect("evaluates"));
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{text}");
        }
    }
}
