//! The whole pipeline on arbitrary bytes: reader (size, encoding, XML, syntax), scenario, schema
//! step and rules, and the EN 16931 model the intake maps every readable document to, with its
//! attachments decoded. It must return a report and a model, never panic or hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let report = einvoice::validate(data);
    if report.verdict == einvoice::Verdict::Accept {
        assert!(report.errors().next().is_none());
    }
    let _ = einvoice::validate::rules_only(data, einvoice::rules::RuleSyntax::Cii);
    if let Ok(text) = einvoice::reader::decode(data, einvoice::reader::DEFAULT_MAX_BYTES)
        && let Ok((doc, syntax)) = einvoice::reader::parse(&text)
    {
        let invoice = einvoice::model::Invoice::from_document(&doc, syntax);
        for n in 0..=invoice.documents.len() {
            let _ = einvoice::model::attachment(&doc, syntax, n);
        }
    }
});
