//! The whole pipeline on arbitrary bytes: reader (size, encoding, XML, syntax), scenario, schema
//! step and rules. It must return a report, never panic or hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let report = einvoice::validate(data);
    if report.verdict == einvoice::Verdict::Accept {
        assert!(report.errors().next().is_none());
    }
    let _ = einvoice::validate::rules_only(data, einvoice::rules::RuleSyntax::Cii);
});
