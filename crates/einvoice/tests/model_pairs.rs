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
/// conversion); those terms are left out of the comparison, everything else must agree. Each
/// difference was checked in both files.
fn mask_known_differences(file: &str, invoice: &mut Invoice) {
    if file.contains("_comprehensive_test_") {
        // The UBL file swaps the buyer's name (BT-44) and trading name (BT-45).
        invoice.buyer.name = None;
        invoice.buyer.trading_name = None;
        // Only the CII file has the payee's legal registration (BT-61).
        clear_payee_registration(invoice);
        // Only the UBL file has a price base quantity (BT-149/150) on line 2.
        if let Some(line) = invoice.lines.get_mut(1) {
            (line.base_quantity, line.base_quantity_unit) = (None, None);
        }
    }
    if file.contains("01.01_comprehensive_test_") {
        // The UBL file has a second preceding invoice (BG-3).
        invoice.preceding_invoices.truncate(1);
    }
    if file.contains("01.03_comprehensive_test_") || file.contains("01.04_comprehensive_test_") {
        // The seller contact point (BT-41) is a person in UBL, a department in CII.
        invoice.seller.contact.name = None;
    }
    if ["01.02a-", "01.08a-", "01.09a-", "01.10a-", "01.11a-", "01.12a-", "01.13a-"].iter().any(|f| file.contains(f)) {
        // UBL needs an order reference (BT-13) beside the sales order reference, so the UBL
        // file carries the placeholder `Dummywert` the CII file does not.
        invoice.order_reference = None;
    }
    if file.contains("01.20a-") {
        // The UBL file has a seller address of its own.
        invoice.seller.address = Default::default();
    }
    if file.contains("01.21a-") {
        // The UBL file has another seller VAT identifier, payment means text (BT-82) and VAT
        // exemption reason (BT-120).
        invoice.seller.vat_id = None;
        invoice.payment_means.iter_mut().for_each(|m| m.text = None);
        invoice.vat_breakdown.iter_mut().for_each(|v| v.exemption_reason = None);
    }
    if file.contains("02.01a-cvd_") {
        // The item description differs by a typo, and the item attributes come in another order.
        for line in &mut invoice.lines {
            line.item_description = None;
            line.attributes.sort();
        }
    }
    if file.contains("03.01a-") {
        // Only the UBL file gives the buyer a trading name (BT-45).
        invoice.buyer.trading_name = None;
    }
    if file.contains("03.06a-") {
        // The UBL file swaps city and post code.
        for party in [&mut invoice.seller, &mut invoice.buyer] {
            party.address.city = None;
            party.address.post_code = None;
        }
    }
    if file.contains("03.07a-") || file.contains("02.01a-") {
        // Only the CII file has the payee's legal registration (BT-61).
        clear_payee_registration(invoice);
    }
}

fn clear_payee_registration(invoice: &mut Invoice) {
    if let Some(payee) = invoice.payee.as_mut() {
        payee.legal_registration = None;
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

/// Every attachment (BT-125) of the test suite decodes to the size the model states, a PDF to a
/// PDF, and the UBL and CII files of a pair carry the same bytes.
#[test]
fn attachments_decode_to_the_size_the_model_states_in_both_syntaxes() {
    let base = common::testdata().join("xrechnung-testsuite");
    let mut decoded = 0;
    for case in common::read_csv(&base.join("EXPECTED.csv")).iter().filter(|c| c["file"].ends_with("_ubl.xml")) {
        let attachments = |path: &std::path::Path| {
            let bytes = std::fs::read(path).expect("invoice");
            let text = einvoice::reader::decode(&bytes, einvoice::reader::DEFAULT_MAX_BYTES).expect("decodes");
            let (doc, syntax) = einvoice::reader::parse(&text).expect("parses");
            let invoice = Invoice::from_document(&doc, syntax);
            let contents: Vec<Option<Vec<u8>>> = (0..invoice.documents.len())
                .map(|n| einvoice::model::attachment(&doc, syntax, n).map(|(_, content)| content))
                .collect();
            for (document, content) in invoice.documents.iter().zip(&contents) {
                let stated = document.attachment.as_ref().map(|a| (a.bytes, a.mime_code.clone()));
                match (stated, content) {
                    (Some((size, mime)), Some(content)) => {
                        assert_eq!(content.len(), size, "{}", path.display());
                        if mime.as_deref() == Some("application/pdf") {
                            assert!(content.starts_with(b"%PDF"), "{}", path.display());
                        }
                    }
                    (None, None) => {}
                    other => panic!("{}: {:?}", path.display(), other.0),
                }
            }
            contents
        };
        let ubl = attachments(&base.join(&case["file"]));
        decoded += ubl.iter().flatten().count();
        let cii = base.join(case["file"].replace("_ubl.xml", "_uncefact.xml"));
        if cii.exists() {
            assert_eq!(ubl, attachments(&cii), "{}", case["file"]);
        }
    }
    assert!(decoded >= 10, "only {decoded} attachments in the test suite");
    assert_eq!(
        einvoice::model::attachment(&roxmltree::Document::parse("<x/>").expect("xml"), einvoice::Syntax::Cii, 0),
        None
    );
}
