//! Every UBL/CII pair of the XRechnung test suite (`NAME_ubl.xml` beside `NAME_uncefact.xml`)
//! describes one invoice, so both files must map to an equal EN 16931 model.

mod common;

use einvoice::model::Invoice;

fn model(path: &std::path::Path) -> Invoice {
    let bytes = std::fs::read(path).expect("invoice");
    let text = einvoice::reader::decode(&bytes, einvoice::reader::DEFAULT_MAX_BYTES).expect("decodes");
    let (doc, syntax) = einvoice::reader::parse(&text).expect("parses");
    Invoice::from_document(&doc, syntax)
}

/// Pairs whose two files really say different things (the UBL side was edited by hand after
/// conversion); those terms are left out of the comparison, everything else must agree.
fn mask_known_differences(file: &str, invoice: &mut Invoice) {
    if file.contains("_comprehensive_test_") {
        // The UBL file puts the buyer trading name (BT-45) into the buyer name (BT-44).
        invoice.buyer.name = None;
    }
    if file.contains("01.20a-") {
        // The UBL file has a seller address of its own.
        invoice.seller.address = Default::default();
    }
    if file.contains("01.21a-") {
        // The UBL file has another seller VAT identifier.
        invoice.seller.vat_id = None;
    }
    if file.contains("03.06a-") {
        // The UBL file swaps city and post code.
        for party in [&mut invoice.seller, &mut invoice.buyer] {
            party.address.city = None;
            party.address.post_code = None;
        }
    }
}

#[test]
fn both_syntaxes_of_every_test_suite_pair_map_to_the_same_model() {
    let base = common::testdata().join("xrechnung-testsuite");
    let cases = common::read_csv(&base.join("EXPECTED.csv"));
    let mut pairs = 0;
    let mut differing = Vec::new();
    for case in cases.iter().filter(|c| c["file"].ends_with("_ubl.xml")) {
        let cii = base.join(case["file"].replace("_ubl.xml", "_uncefact.xml"));
        if !cii.exists() {
            continue;
        }
        pairs += 1;
        let (mut ubl_model, mut cii_model) = (model(&base.join(&case["file"])), model(&cii));
        mask_known_differences(&case["file"], &mut ubl_model);
        mask_known_differences(&case["file"], &mut cii_model);
        assert!(ubl_model.number.is_some() && !ubl_model.lines.is_empty(), "{} maps to an empty model", case["file"]);
        if ubl_model != cii_model {
            differing.push(format!("{}:\n  UBL {ubl_model:?}\n  CII {cii_model:?}", case["file"]));
        }
    }
    println!("{} of {pairs} pairs map to equal models", pairs - differing.len());
    assert!(pairs >= 40, "only {pairs} pairs found");
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
