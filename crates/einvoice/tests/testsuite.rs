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

#[test]
fn an_invoice_sent_as_utf16_or_windows_1252_is_validated_as_the_same_invoice() {
    let base = common::testdata().join("xrechnung-testsuite/src/test/business-cases/standard");
    for name in ["01.01a-INVOICE_ubl.xml", "01.01a-INVOICE_uncefact.xml"] {
        let utf8 = std::fs::read_to_string(base.join(name)).expect("invoice");
        let declaring = |encoding: &str| utf8.replacen("encoding=\"UTF-8\"", &format!("encoding=\"{encoding}\""), 1);
        let utf16 = declaring("UTF-16");
        assert_ne!(utf16, utf8, "{name} declares UTF-8");
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(utf16.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        // Its umlauts are the same bytes in windows-1252 as in ISO-8859-1, its `…` is 0x85.
        let windows: Vec<u8> = declaring("windows-1252")
            .chars()
            .map(|c| if c == '…' { 0x85 } else { u8::try_from(c).expect("Latin-1") })
            .collect();
        for bytes in [le, windows] {
            let report = einvoice::validate(&bytes);
            assert_eq!(report.verdict, Verdict::Accept, "{name}: {:?}", report.findings);
            assert_eq!(report.findings, einvoice::validate(utf8.as_bytes()).findings, "{name}");
        }
    }
}
