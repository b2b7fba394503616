//! ZUGFeRD / Factur-X PDFs from other producers (`zugferd_peers.py`): the `factur-x` library's
//! PDF/A-3, qpdf's rewrites of it (object and cross-reference streams, linearized), the
//! attachment only in the catalog's /AF or only in the name tree, an `xrechnung.xml` attached by
//! pikepdf — each yields the embedded XML byte for byte; an encrypted PDF and one without an
//! attachment are refused with their reasons.

mod common;

use einvoice::pdf::{PdfError, extract};

#[test]
fn pdfs_of_other_producers_yield_the_embedded_invoice_byte_for_byte() {
    let xml_path =
        common::testdata().join("xrechnung-testsuite/src/test/business-cases/standard/01.01a-INVOICE_uncefact.xml");
    let xml = std::fs::read(&xml_path).expect("test suite invoice");
    let out = std::env::temp_dir().join(format!("kreishaus-zugferd-peers-{}", std::process::id()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zugferd_peers.py");
    let run = std::process::Command::new("python3")
        .args([script, &xml_path.to_string_lossy(), &out.to_string_lossy()])
        .output()
        .expect("python3 (pip install -r requirements-test.txt)");
    assert!(run.status.success(), "zugferd_peers.py: {}", String::from_utf8_lossy(&run.stderr));
    let pdf = |name: &str| std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    for name in [
        "factur-x.pdf",
        "object-streams.pdf",
        "linearized.pdf",
        "af-only.pdf",
        "names-only.pdf",
        "xrechnung-attached.pdf",
    ] {
        let embedded = extract(&pdf(name), 10_000_000).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(embedded.xml, xml, "{name} yields another XML");
        assert_eq!(einvoice::validate(&pdf(name)).verdict, einvoice::Verdict::Accept, "{name}");
    }
    assert_eq!(extract(&pdf("encrypted.pdf"), 10_000_000), Err(PdfError::Encrypted));
    assert_eq!(extract(&pdf("no-attachment.pdf"), 10_000_000), Err(PdfError::NoAttachment { found: Vec::new() }));
    let _ = std::fs::remove_dir_all(&out);
}
