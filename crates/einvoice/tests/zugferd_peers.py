#!/usr/bin/env python3
"""ZUGFeRD / Factur-X PDFs made by other producers, for `zugferd_peers.rs`.

    python3 zugferd_peers.py INVOICE.xml OUT_DIR

writes into OUT_DIR: the Factur-X PDF of the `factur-x` library (Akretion; PDF/A-3 with the
XML as `factur-x.xml` in the EmbeddedFiles name tree and the catalog's /AF), the same file
rewritten by qpdf (through `pikepdf`) with object streams and cross-reference streams, and
linearized, one with the attachment only in /AF, one only in the name tree, a PDF with the XML
attached as `xrechnung.xml` by pikepdf's attachment API, an encrypted copy, and a PDF without
any attachment.
"""
import io
import sys
from pathlib import Path

import facturx
import pikepdf
import pypdf


def blank_pdf():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main(xml_path, out_dir):
    xml = Path(xml_path).read_bytes()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blank = blank_pdf()
    (out / "no-attachment.pdf").write_bytes(blank)
    factur_x = facturx.generate_from_binary(blank, xml, flavor="factur-x", level="en16931", check_xsd=False)
    (out / "factur-x.pdf").write_bytes(factur_x)

    with pikepdf.open(io.BytesIO(factur_x)) as pdf:
        pdf.save(out / "object-streams.pdf", object_stream_mode=pikepdf.ObjectStreamMode.generate,
             compress_streams=True)
    with pikepdf.open(io.BytesIO(factur_x)) as pdf:
        pdf.save(out / "linearized.pdf", linearize=True)
    with pikepdf.open(io.BytesIO(factur_x)) as pdf:
        del pdf.Root.Names
        pdf.save(out / "af-only.pdf")
    with pikepdf.open(io.BytesIO(factur_x)) as pdf:
        del pdf.Root.AF
        pdf.save(out / "names-only.pdf")
    with pikepdf.open(io.BytesIO(blank)) as pdf:
        pdf.attachments["xrechnung.xml"] = pikepdf.AttachedFileSpec(pdf, xml, mime_type="text/xml")
        pdf.save(out / "xrechnung-attached.pdf")
    with pikepdf.open(io.BytesIO(factur_x)) as pdf:
        pdf.save(out / "encrypted.pdf", encryption=pikepdf.Encryption(owner="owner", user="", R=6))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
