//! PDF extraction on arbitrary bytes (prefixed with a PDF header so the parser is reached).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(data);
    if let Ok(embedded) = einvoice::pdf::extract(&pdf, 1 << 20) {
        let _ = einvoice::validate(&embedded.xml);
    }
    let _ = einvoice::pdf::extract(data, 1 << 20);
});
