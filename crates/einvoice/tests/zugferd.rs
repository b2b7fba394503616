//! ZUGFeRD / Factur-X PDFs of the Mustang project (`mustang/library-samples`): the embedded XML is
//! extracted and validated like any XML invoice. The EN 16931 profile falls under KoSIT's
//! "EN16931 (CII)" scenario and is accepted; the EXTENDED profile matches no scenario; ZUGFeRD 1
//! (`urn:ferd:CrossIndustryDocument:invoice:1p0`) is not a syntax the validator reads.

mod common;

use einvoice::validate::{READ_RULE, SCENARIO_RULE};
use einvoice::{Verdict, pdf};

#[test]
fn the_invoice_xml_is_extracted_from_every_mustang_sample_and_validated() {
    let base = common::testdata().join("mustang/library-samples");
    let mut files: Vec<_> = std::fs::read_dir(&base).expect("samples").map(|e| e.expect("entry").path()).collect();
    files.sort();
    assert!(files.len() >= 5);
    let mut accepted = 0;
    for file in &files {
        let bytes = std::fs::read(file).expect("pdf");
        let embedded = pdf::extract(&bytes, einvoice::reader::DEFAULT_MAX_BYTES).expect("an embedded invoice");
        assert!(pdf::INVOICE_FILE_NAMES.iter().any(|n| n.eq_ignore_ascii_case(&embedded.name)), "{}", embedded.name);
        let xml = String::from_utf8(embedded.xml).expect("UTF-8 XML");
        let report = einvoice::validate(&bytes);
        let first = report.findings.first().map(|f| f.rule);
        if xml.contains("<ram:ID>urn:cen.eu:en16931:2017</ram:ID>") {
            let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
            assert_eq!(report.verdict, Verdict::Accept, "{}: {errors:?}", file.display());
            assert_eq!(report.scenario, Some("EN16931 (CII)"));
            accepted += 1;
        } else if xml.contains("urn:ferd:CrossIndustryDocument:invoice:1p0") {
            assert_eq!((report.verdict, first), (Verdict::Reject, Some(READ_RULE)), "{}", file.display());
        } else {
            assert_eq!((report.verdict, first), (Verdict::Reject, Some(SCENARIO_RULE)), "{}", file.display());
        }
    }
    assert!(accepted >= 2);
}
