#!/usr/bin/env python3
"""Differential testing of the schema step (`einvoice::schema::check`) against Xerces's or libxml2's XSD 1.0 validator.

Takes seed invoices (by default those of differential.py: the XRechnung test suite, the
xrechnung-schematron instances and the CEN examples and unit tests of ../shared/testdata/einvoice;
only the seeds that are schema-valid, so that a mutant's verdict is the mutation's), writes N
mutants of them into a directory (deterministic with --seed), validates every mutant with the
reference (--reference xerces, the default: the JDK's Xerces through javax.xml.validation, as KoSIT
runs it, from the single-file Java program XERCES_JAVA below, one JVM for all files; or
--reference libxml2: lxml's `etree.XMLSchema`) against the official XSD its root element's namespace names (UBL 2.1
`UBL-Invoice-2.1.xsd` / `UBL-CreditNote-2.1.xsd`, CII D16B uncoupled
`CrossIndustryInvoice_100pD16B.xsd`, as KoSIT's scenarios.xml) and with our schema step (the
throwaway example `schemadiff`, which prints one JSON line {"file","error","findings"} per file:
`schema::check` called directly, since `validate` stops before it when no scenario matches), and
prints every mutant where the two verdicts (valid/invalid) differ, grouped by cause (the first
message of the side that refuses, with names and values left out), then a summary.

    python3 crates/einvoice/bench/schema_differential.py --seed 1 --count 5000 [--out DIR] [SEED.xml ...]
    python3 crates/einvoice/bench/schema_differential.py --as-is FILE ...

The second form compares the files themselves, unchanged (every file, schema-valid or not).
The mutations are differential.py's (`mutate`: delete, duplicate, empty, pad, value, attr, swap,
move, customization) and the structural ones of this file that XSD validation is about (`OPERATORS`
below): wrong element order, unknown element, element of another namespace, renamed namespace,
element in a value, text in element-only content, values of the typed elements and attributes
(dates, times, decimals, booleans, base64, languages, URIs) with whitespace around them,
undeclared and removed attributes, xsi:type / xsi:nil / other xsi: attributes, comments,
processing instructions and CDATA, and a `ext:UBLExtensions` block with content (checked laxly by
a real validator). Which elements and attributes are typed is read from the generated tables
(`data/schema/*.tsv`), only to aim the mutations.

libxml2 is not Xerces (what KoSIT runs): a libxml2 difference is a lead, decided by the XSD 1.0
specification and Xerces; the known differences and their decisions are in the README (section
"Differential test of the schema step against Xerces and libxml2").

Needs lxml (`pip install lxml`, also for the mutations), `java` (a JDK, for Xerces), the UBL 2.1 XSDs (--ubl, default /tmp/ublx/...; see
tools/gen_schema.py for the download) and the example `crates/einvoice/examples/schemadiff.rs`
(written from SCHEMADIFF_RS below when missing; examples/ is not committed), built with
`cargo build --release -p einvoice --example schemadiff` (done here unless --no-build; the binary
is taken from $CARGO_TARGET_DIR, default /var/tmp/kreishaus-target-schemadiff). Mutants on which
both sides agree are deleted afterwards unless --keep.
"""
import argparse
import copy
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lxml import etree

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
sys.path.insert(0, str(Path(__file__).resolve().parent))
import differential  # noqa: E402  (the mutation machinery and the seeds)
from differential import (  # noqa: E402
    EXAMPLE_HELPERS, EXAMPLE_LINTS, Harvest, build_example, default_seeds, elements, leaves, load_seeds, local, mutations,
    path, save_mutant, write,
)

REPO = differential.REPO
TESTDATA = differential.TESTDATA
UBL_XSD = Path("/tmp/ublx/odoo/addons/base_ubl/data/xsd-2.1")
CII_XSD = (TESTDATA / "en16931-cen/cii/schema/D16B SCRDM (Subset)/uncoupled clm/CII/uncefact/data/standard"
           / "CrossIndustryInvoice_100pD16B.xsd")
TABLES = REPO / "crates" / "einvoice" / "data" / "schema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
XML_NS = "http://www.w3.org/XML/1998/namespace"
UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
INVOICE, CREDIT_NOTE = UBL + "Invoice-2", UBL + "CreditNote-2"
CBC, CAC, EXT = UBL + "CommonBasicComponents-2", UBL + "CommonAggregateComponents-2", UBL + "CommonExtensionComponents-2"
SIG = UBL + "CommonSignatureComponents-2"
RSM = differential.RSM
RAM = differential.RAM
UDT_CII = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT_CII = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
FOREIGN = "urn:example:foreign"
NBSP = "\u00a0"

# Values by built-in type: valid ones, edge cases and invalid ones.
VALUES = {
    "date": ["2024-02-29", "2023-02-29", "2100-02-29", "2000-02-29", "2024-04-31", "2024-04-30", "2024-13-01",
             "2024-00-10", "2024-01-00", "2024-1-01", "2024-01-1", "20240101", "24-01-01", "0000-01-01", "-0001-01-01",
             "-0000-01-01", "10000-01-01", "02024-01-01", "12024-02-29", "-2024-02-29", "+2024-01-01", "2024-01-01Z",
             "2024-01-01z", "2024-01-01+14:00", "2024-01-01-14:00", "2024-01-01+14:01", "2024-01-01+13:59",
             "2024-01-01+15:00", "2024-01-01+00:60", "2024-01-01+1:00", "2024-01-01+01", "2024-01-01 Z",
             "2024-01-01T00:00:00", "2024-01-01T", " 2024-01-01 ", "\n2024-01-01\t", NBSP + "2024-01-01", "",
             "2024-01-01+00:00", "2024-01-01-00:00", "2024-02-30", "99999-12-31", "2024-01-01ZZ", "2024-W01-1"],
    "time": ["12:00:00", "00:00:00", "23:59:59", "24:00:00", "24:00:00.0", "24:00:00.000", "24:00:00.1", "24:00:01",
             "23:59:60", "23:60:00", "12:00:00.", "12:00:00.5", "12:00:00.123456789012345", "12:00:00Z",
             "12:00:00+14:00", "12:00:00+14:01", "12:00:00-00:00", "12:00", "1:00:00", "12:0:00", "12:00:0",
             "12:00:00 ", " 12:00:00", "12:00:00.5Z", "T12:00:00", "", "12:00:00+01:00", "-12:00:00"],
    "dateTime": ["2024-01-01T12:00:00", "2024-01-01T24:00:00", "2024-12-31T24:00:00", "2024-01-01T24:00:01",
                 "2024-01-01T12:00:00Z", "2024-01-01t12:00:00", "2024-01-01T12:00:00.5+01:00", "2024-01-01T12:00",
                 "2024-01-01 12:00:00", "2024-01-01", "2024-02-30T00:00:00", " 2024-01-01T00:00:00\n",
                 "2024-01-01T12:00:00+14:30", "-0001-01-01T00:00:00", "20240101T120000", ""],
    "decimal": ["1", "+1", "-1", "-0", "+0.0", ".5", "5.", ".", "+.5", "-.5", "+", "-", "", "1e2", "1E2", " 1 ",
                "\t1.50\n", "1 2", "1,5", "0x1", "INF", "NaN", "-INF", "00000.0000", "1_000", "\u0661", "\uff11",
                NBSP + "1", "12345678901234567890123456789012345678901234567890.5", "--1", "+-1", "1.2.3", "1.-2"],
    "integer": ["1", "+1", "-1", "1.0", "", "01", " 7 "],
    "boolean": ["true", "false", "1", "0", " true ", "\nfalse\t", "TRUE", "True", "yes", "", "01", "t", NBSP + "true"],
    "base64Binary": ["", "QUJD", "QUI=", "QQ==", "Q===", "QUJ", "QU JD", "Q U J D", "QUJD\n", "QUI= ", "QUI=QUJD",
                     "QU=D", "QUJD====", "QUJD=", "QR==", "QUJ=", "QUF=", "QQ= =", "QQ = =", "=QUJ", "QUJD\r\nQUJD",
                     " QUJD ", "QUJ\u00e9", "Q-_D", "QUJDQ", "QQ==QQ==", "\n", "AA==", "Ag==", "AAB=", "AAA="],
    "language": ["de", "en-GB", "de-DE-1996", "x-klingon", "", "de_DE", "abcdefghi", "de-", "-de", "d3", "de-123456789",
                 " de ", "en-GB-oed", "i-klingon"],
    "anyURI": ["http://example.org/a", "urn:x:y", "", "a b", "http://a b/c", "%zz", "%20", "::", ":abc", "1abc:def",
               "http://[::1]/", "http://[::1/", "#frag", "a#b#c", "http://example.org/ä", "mailto:a@b.de", "\\\\server",
               "http://example.org/?q=<x>", "../relative/path", "a:b:c", "http://host:port/", "http:"],
    "string": ["", " ", "x", "  x  ", NBSP, "\t\n", "a" * 200, "ä€"],
}
VALUES["token"] = VALUES["string"] + [" two  words ", "\nline\n"]
VALUES["normalizedString"] = VALUES["token"]
WHITESPACE = [" {}", "{} ", "\n  {}\n", "\t{}\t", "\r{}", "{}\r\n", NBSP + "{}", "{}" + NBSP, "\u2003{}", "{}\u2028"]
TEXTS = ["x", " text ", NBSP, "\u2003", "\n    ", " ", "0", "&", "<>"]
BASE64_ENDINGS = ["QR==", "QUJ=", "QUI=", "QQ==", "Q===", "====", "QUJD", "QU=D", "QUI= ", " Q U I =", "QQ", "Q", "QQ=",
                  "AB==", "AAC="]


def read_tables():
    """Built-in type of each element (simple content) and attribute name, and element -> type keys,
    from the generated tables (only to aim the mutations)."""
    elements_builtin, attributes_builtin, element_types = defaultdict(set), defaultdict(set), defaultdict(set)
    for table in ("ubl.tsv", "cii.tsv"):
        prefixes, simple_builtin, complex_simple, complex_attrs, el_types = {}, {}, {}, defaultdict(list), []
        current = None
        for line in (TABLES / table).read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            f = line.split("\t")
            if f[0] == "ns":
                prefixes[f[1]] = f[2]
            elif f[0] == "simple":
                simple_builtin[f[1]] = f[2]
            elif f[0] == "complex":
                current = f[1]
                if f[2] == "simple":
                    complex_simple[f[1]] = f[3]
            elif f[0] == "attr":
                complex_attrs[current].append((f[1], f[3]))
            elif f[0] == "el":
                el_types.append((f[4], f[5]))

        def expand(qualified):
            prefix, _, name = qualified.partition(":")
            return prefixes[prefix], name

        for element, type_key in el_types:
            name = expand(element)
            element_types[name].add((table, type_key, expand(type_key) if not type_key.startswith("anon:") else None))
            simple = complex_simple.get(type_key, type_key if type_key in simple_builtin else None)
            if simple:
                elements_builtin[name].add(simple_builtin[simple])
            for attribute, simple in complex_attrs.get(type_key, []):
                attributes_builtin[attribute].add(simple_builtin[simple])
    return elements_builtin, attributes_builtin, element_types


ELEMENT_BUILTIN, ATTRIBUTE_BUILTIN, ELEMENT_TYPES = read_tables()
TYPED = {"date", "time", "dateTime", "decimal", "boolean", "base64Binary", "language", "anyURI", "integer"}


def qname(el):
    tag = etree.QName(el)
    return tag.namespace or "", tag.localname


def builtin_of(el):
    found = ELEMENT_BUILTIN.get(qname(el))
    return sorted(found)[0] if found else None


def ensure_prefix(el, namespace):
    """(element, prefix): a prefix bound to `namespace` in scope at the element (None for the
    default namespace); when there is none, the element is replaced by a copy declaring one."""
    for prefix, uri in el.nsmap.items():
        if uri == namespace:
            return el, prefix
    parent = el.getparent()
    if parent is None:
        return el, None
    prefix = next(p for p in (f"t{i}" for i in range(100)) if p not in el.nsmap)
    copy_ = etree.Element(el.tag, attrib=dict(el.attrib), nsmap={prefix: namespace})
    copy_.text, copy_.tail = el.text, el.tail
    copy_.extend(list(el))
    parent.replace(el, copy_)
    return copy_, prefix


def with_prefix(prefix, local_name):
    return local_name if prefix is None else f"{prefix}:{local_name}"


def siblings_namespace(el):
    children = [c for c in el if isinstance(c.tag, str)]
    return etree.QName(children[0]).namespace if children else etree.QName(el).namespace


def element_parents(root):
    return [e for e in [root] + elements(root) if any(isinstance(c.tag, str) for c in e)]


def insert_somewhere(rng, parent, new):
    parent.insert(rng.randint(0, len(parent)), new)


def extension_block(rng, root):
    """An ext:UBLExtensions block with content (lax wildcard in ext:ExtensionContent)."""
    ext = etree.Element(f"{{{EXT}}}UBLExtensions", nsmap={"ext": EXT, "cbc": CBC, "cac": CAC})
    count = rng.choice([1, 1, 2])
    kinds = []
    for _ in range(count):
        extension = etree.SubElement(ext, f"{{{EXT}}}UBLExtension")
        optional = [(CBC, "ID"), (CBC, "Name"), (EXT, "ExtensionAgencyID"), (EXT, "ExtensionAgencyName"),
                    (EXT, "ExtensionVersionID"), (EXT, "ExtensionAgencyURI"), (EXT, "ExtensionURI"),
                    (EXT, "ExtensionReasonCode"), (EXT, "ExtensionReason")]
        chosen = sorted(rng.sample(range(len(optional)), rng.choice([0, 0, 1, 2, 3])))
        if rng.random() < 0.15:
            rng.shuffle(chosen)
        for i in chosen:
            child = etree.SubElement(extension, "{%s}%s" % optional[i])
            child.text = rng.choice(["1", "x", "urn:x", ""])
        content = etree.SubElement(extension, f"{{{EXT}}}ExtensionContent")
        kind = rng.choice(["foreign", "foreign", "nested", "none", "two", "text", "cbc-note", "cbc-date", "cac-party",
                           "ext-element", "no-namespace", "foreign-with-bad-cbc", "signatures", "xsi-type",
                           "foreign-attributes", "comment-only", "whitespace", "signature-information", "cbc-attribute",
                           "cbc-in-cbc"])
        kinds.append(kind)
        if kind in ("foreign", "two"):
            for _ in range(2 if kind == "two" else 1):
                e = etree.SubElement(content, f"{{{FOREIGN}}}Data", nsmap={"x": FOREIGN})
                e.text = "anything"
        elif kind == "nested":
            e = etree.SubElement(content, f"{{{FOREIGN}}}Data", nsmap={"x": FOREIGN})
            inner = etree.SubElement(e, f"{{{FOREIGN}}}Inner", a="1")
            inner.text = "t"
            etree.SubElement(e, "plain").text = "no namespace inside"
        elif kind == "text":
            content.text = "text"
        elif kind == "cbc-note":
            etree.SubElement(content, f"{{{CBC}}}Note").text = "a note"
        elif kind == "cbc-date":
            etree.SubElement(content, f"{{{CBC}}}IssueDate").text = rng.choice(["2024-02-30", "2024-02-29", "x"])
        elif kind == "cac-party":
            party = etree.SubElement(content, f"{{{CAC}}}Party")
            etree.SubElement(party, f"{{{CBC}}}" + rng.choice(["Foo", "EndpointID", "WebsiteURI"])).text = "x"
        elif kind == "ext-element":
            etree.SubElement(content, f"{{{EXT}}}Foo").text = "x"
        elif kind == "no-namespace":
            etree.SubElement(content, "Foo").text = "x"
        elif kind == "foreign-with-bad-cbc":
            e = etree.SubElement(content, f"{{{FOREIGN}}}Data", nsmap={"x": FOREIGN})
            etree.SubElement(e, f"{{{CBC}}}IssueDate").text = rng.choice(["2024-02-30", "2024-01-01"])
        elif kind == "signatures":
            signatures = etree.SubElement(content, f"{{{SIG}}}UBLDocumentSignatures", nsmap={"sig": SIG})
            if rng.random() < 0.5:
                etree.SubElement(signatures, f"{{{FOREIGN}}}Other")
        elif kind == "signature-information":
            signatures = etree.SubElement(content, f"{{{SIG}}}UBLDocumentSignatures", nsmap={"sig": SIG})
            information = etree.SubElement(signatures, f"{{{UBL}SignatureAggregateComponents-2}}SignatureInformation")
            etree.SubElement(information, f"{{{CBC}}}ID").text = rng.choice(["urn:x", "1"])
        elif kind == "cbc-attribute":
            etree.SubElement(content, f"{{{CBC}}}Note", rng.choice([{"foo": "1"}, {"languageID": "de"}])).text = "x"
        elif kind == "cbc-in-cbc":
            note = etree.SubElement(content, f"{{{CBC}}}Note")
            etree.SubElement(note, f"{{{CBC}}}ID").text = "x"
        elif kind == "xsi-type":
            e = etree.SubElement(content, f"{{{FOREIGN}}}Data", nsmap={"x": FOREIGN, "xsi": XSI, "cbc": CBC})
            e.set(f"{{{XSI}}}type", rng.choice(["cbc:IssueDateType", "cbc:NoteType", "x:Unknown"]))
            e.text = rng.choice(["2024-02-30", "2024-01-01", "text"])
        elif kind == "foreign-attributes":
            e = etree.SubElement(content, f"{{{FOREIGN}}}Data", nsmap={"x": FOREIGN})
            e.set("anything", "1")
            e.set(f"{{{FOREIGN}}}other", "2")
        elif kind == "comment-only":
            content.append(etree.Comment("no element"))
        elif kind == "whitespace":
            content.text = "\n   "
            e = etree.SubElement(content, f"{{{FOREIGN}}}Data", nsmap={"x": FOREIGN})
            e.tail = "\n"
    first = rng.random() < 0.85
    old = root.find(f"{{{EXT}}}UBLExtensions")
    if old is not None and rng.random() < 0.7:
        root.replace(old, ext)
    elif first:
        root.insert(0, ext)
    else:
        insert_somewhere(rng, root, ext)
    return f"extension {'first' if first else 'anywhere'} {'+'.join(kinds)}"


def typed_value(rng, builtin, current):
    if builtin == "base64Binary" and current and rng.random() < 0.5:
        body = re.sub(r"\s+", "", current)
        body = body[:max(0, len(body) - 4 * rng.randint(1, 2))]
        if rng.random() < 0.3 and len(body) > 80:
            cut = rng.randrange(len(body))
            body = body[:cut] + rng.choice(["\n", " ", "\r\n", "  ", "=", "*", "\t"]) + body[cut:]
        return body + rng.choice(BASE64_ENDINGS)
    value = rng.choice(VALUES.get(builtin, VALUES["string"]))
    if rng.random() < 0.2:
        value = rng.choice(WHITESPACE).format(value)
    return value


OPERATORS = ["order", "order", "unknown", "foreign", "rename", "typed", "typed", "typed", "typed", "attr-unknown",
             "attr-remove", "attr-typed", "attr-typed", "text", "xsi", "xsi", "comment", "extension", "extension",
             "child-in-value", "repeat", "missing", "old", "old", "old"]


def mutate(rng, root, harvest, operators=OPERATORS):
    """Applies one random mutation to the tree, returns its description (None if not applicable)."""
    op = rng.choice(operators)
    els = elements(root)
    if not els:
        return None
    if op == "old":
        return differential.mutate(rng, root, harvest)
    if op == "missing":
        return differential.mutate(rng, root, harvest, ["delete"])
    if op == "repeat":
        return differential.mutate(rng, root, harvest, ["duplicate"])
    if op == "order":
        parent = rng.choice(element_parents(root))
        kids = [c for c in parent if isinstance(c.tag, str)]
        if len(kids) < 2:
            return None
        i = rng.randrange(len(kids) - 1)
        a, b = kids[i], kids[i + 1]
        d = f"order {path(a)} <-> {path(b)}"
        a.addprevious(b)
        return d
    if op == "unknown":
        parent = rng.choice(element_parents(root))
        namespace = siblings_namespace(parent)
        new = etree.Element(f"{{{namespace}}}" + rng.choice(["Foo", "Unknown", "IDs", "id"]) if namespace else "Foo")
        new.text = rng.choice([None, "x", "1"])
        insert_somewhere(rng, parent, new)
        return f"unknown {path(new)}"
    if op == "foreign":
        parent = rng.choice(element_parents(root))
        kids = [c for c in parent if isinstance(c.tag, str)]
        sibling = rng.choice(kids)
        name = rng.choice([f"{{{FOREIGN}}}Data", "Data", f"{{{FOREIGN}}}{local(sibling.tag)}", local(sibling.tag),
                           f"{{{XSD}}}element", f"{{{EXT}}}UBLExtension", f"{{{CBC}}}ID", f"{{{RAM}}}ID",
                           f"{{{UDT_CII}}}DateTimeString"])
        new = etree.Element(name)
        new.text = rng.choice([None, "x"])
        insert_somewhere(rng, parent, new)
        return f"foreign {path(new)}"
    if op == "rename":
        el = rng.choice(els)
        namespaces = [None, FOREIGN, CBC, CAC, RAM, RSM, UDT_CII, QDT_CII, INVOICE, EXT]
        namespace = rng.choice([n for n in namespaces if n != etree.QName(el).namespace])
        d = f"rename {path(el)} to namespace {namespace}"
        el.tag = f"{{{namespace}}}{local(el.tag)}" if namespace else local(el.tag)
        return d
    if op == "typed":
        typed = [e for e in leaves(root) if builtin_of(e) in TYPED]
        if not typed:
            return None
        el = rng.choice(typed)
        el.text = typed_value(rng, builtin_of(el), el.text)
        shown = el.text if len(el.text or "") < 60 else el.text[:20] + "…" + el.text[-20:]
        return f"typed {builtin_of(el)} {path(el)} -> {shown!r}"
    if op == "attr-unknown":
        el = rng.choice(els + [root])
        name = rng.choice(["foo", f"{{{FOREIGN}}}foo", f"{{{XML_NS}}}lang", f"{{{XML_NS}}}space", "schemeID", "currencyID",
                           "unitCode", "languageID", "ID", f"{{{CBC}}}currencyID", f"{{{RAM}}}unitCode", "listID",
                           "listAgencyID"])
        el.set(name, rng.choice(["1", "de", "preserve", "EUR", ""]))
        return f"attr-unknown {path(el)} @{name}"
    if op == "attr-remove":
        with_attributes = [e for e in els if e.attrib]
        if not with_attributes:
            return None
        el = rng.choice(with_attributes)
        name = rng.choice(sorted(el.attrib))
        del el.attrib[name]
        return f"attr-remove {path(el)} @{name}"
    if op == "attr-typed":
        with_attributes = [e for e in els if any(ATTRIBUTE_BUILTIN.get(a) for a in e.attrib)]
        if with_attributes and rng.random() < 0.7:
            el = rng.choice(with_attributes)
            name = rng.choice([a for a in el.attrib if ATTRIBUTE_BUILTIN.get(a)])
        else:
            el = rng.choice(leaves(root))
            name = rng.choice(sorted(ATTRIBUTE_BUILTIN))
        builtin = sorted(ATTRIBUTE_BUILTIN[name])[0]
        el.set(name, typed_value(rng, builtin, None))
        return f"attr-typed {builtin} {path(el)} @{name}={el.get(name)!r}"
    if op == "text":
        parent = rng.choice(element_parents(root))
        text = rng.choice(TEXTS)
        kids = [c for c in parent if isinstance(c.tag, str)]
        at = rng.randrange(len(kids) + 1)
        if at == 0:
            parent.text = (parent.text or "") + text
        else:
            kids[at - 1].tail = (kids[at - 1].tail or "") + text
        return f"text {path(parent)} child {at} {text!r}"
    if op == "xsi":
        el = rng.choice(els + [root])
        kind = rng.choice(["type-own", "type-own", "type-other", "type-builtin", "type-unknown", "type-undeclared",
                           "nil", "schemaLocation", "noNamespaceSchemaLocation", "other"])
        name = f"{{{XSI}}}" + {"nil": "nil", "schemaLocation": "schemaLocation", "other": rng.choice(["foo", "Type"]),
                               "noNamespaceSchemaLocation": "noNamespaceSchemaLocation"}.get(kind, "type")
        if kind.startswith("type-own") or kind == "type-other":
            types = [t for t in ELEMENT_TYPES.get(qname(el), ()) if t[2]]
            if kind == "type-other":
                pool = sorted({t[2] for ts in ELEMENT_TYPES.values() for t in ts if t[2]})
                types = [(None, None, rng.choice(pool))]
            if not types:
                return None
            namespace, type_name = sorted(types)[0][2]
            el, prefix = ensure_prefix(el, namespace)
            if prefix is None and namespace != el.nsmap.get(None):
                return None
            value = with_prefix(prefix, type_name)
            if rng.random() < 0.2:
                value = f" {value} "
        elif kind == "type-builtin":
            el, prefix = ensure_prefix(el, XSD)
            if prefix is None and el.nsmap.get(None) != XSD:
                return None
            value = with_prefix(prefix, rng.choice(["string", "anyType", "decimal", "date", "boolean", "token"]))
        elif kind == "type-unknown":
            value = rng.choice(["NoSuchType", "xsi:type"])
        elif kind == "type-undeclared":
            value = "undeclared:IDType"
        elif kind == "nil":
            value = rng.choice(["true", "false", "1", "0", "maybe"])
        elif kind == "schemaLocation":
            value = rng.choice(["urn:x x.xsd", "urn:x", "urn:x x.xsd urn:y", ""])
        elif kind == "noNamespaceSchemaLocation":
            value = rng.choice(["x.xsd", "", "a b"])
        else:
            value = "1"
        el.set(name, value)
        return f"xsi {path(el)} @{name}={value!r}"
    if op == "comment":
        el = rng.choice(els)
        kind = rng.choice(["comment", "pi", "cdata", "comment-in-value", "pi-in-value"])
        if kind == "cdata":
            if el.text is None or len(el) or not el.text.strip():
                return None
            el.text = etree.CDATA(el.text)
        elif kind.endswith("in-value"):
            if len(el) or not el.text or len(el.text) < 2:
                return None
            text = el.text
            cut = rng.randrange(1, len(text))
            node = etree.Comment(" c ") if kind.startswith("comment") else etree.ProcessingInstruction("pi", "x")
            el.text = text[:cut]
            node.tail = text[cut:]
            el.append(node)
        else:
            node = etree.Comment(" c ") if kind == "comment" else etree.ProcessingInstruction("pi", "x")
            insert_somewhere(rng, el, node)
        return f"comment {kind} {path(el)}"
    if op == "extension":
        if local(root.tag) == "CrossIndustryInvoice":
            return None
        return extension_block(rng, root)
    if op == "child-in-value":
        el = rng.choice(leaves(root))
        namespace = etree.QName(el).namespace
        child = etree.SubElement(el, f"{{{namespace}}}X" if namespace else "X")
        child.tail = rng.choice([None, "1"])
        return f"child-in-value {path(el)}"
    return None


# Our side: written to crates/einvoice/examples/schemadiff.rs when missing (examples/ is not
# committed) and built with cargo.
SCHEMADIFF_RS = EXAMPLE_LINTS + r"""//! Throwaway (not committed): the schema step alone on files. Prints one JSON line per file
//! {"file","error","findings":[{"location","message"}]}; "error" is the reader's refusal (then
//! no schema step ran). Arguments: files, or @LIST with one path per line.
""" + EXAMPLE_HELPERS + r"""
fn main() {
    let files = files();
    let mut o = std::io::BufWriter::new(std::io::stdout());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let (error, findings) = match einvoice::reader::decode(&bytes, einvoice::reader::DEFAULT_MAX_BYTES) {
            Err(e) => (Some(format!("{e:?}")), vec![]),
            Ok(text) => match einvoice::reader::parse(&text) {
                Err(e) => (Some(format!("{e:?}")), vec![]),
                Ok((doc, syntax)) => (None, einvoice::schema::check(&doc, syntax)),
            },
        };
        let findings: Vec<String> = findings
            .iter()
            .map(|f| format!("{{\"location\":{},\"message\":{}}}", json_str(&f.location), json_str(&f.message)))
            .collect();
        let error = error.map_or("null".to_string(), |e| json_str(&e));
        writeln!(o, "{{\"file\":{},\"error\":{},\"findings\":[{}]}}", json_str(f), error, findings.join(",")).unwrap();
    }
}
"""


# The reference KoSIT runs: the JDK's Xerces through javax.xml.validation, one JVM for all files.
# Arguments: the three main XSDs (Invoice, CreditNote, CrossIndustryInvoice); one path per line on
# stdin; prints path TAB ok|no TAB messages (each "line N: message", separated by " || ").
XERCES_JAVA = r"""
import java.io.*;
import java.nio.file.*;
import java.util.*;
import javax.xml.XMLConstants;
import javax.xml.stream.*;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.*;
import org.xml.sax.*;

public class XsdCheck {
    public static void main(String[] args) throws Exception {
        SchemaFactory sf = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
        sf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        // Secure processing forbids external access; the imports of the main XSDs are local files
        // (KoSIT resolves them inside its repository).
        sf.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "file");
        String[] namespaces = {
            "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
            "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
            "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"};
        Map<String, Schema> schemas = new HashMap<>();
        for (int i = 0; i < 3; i++) schemas.put(namespaces[i], sf.newSchema(new File(args[i])));
        XMLInputFactory xif = XMLInputFactory.newInstance();
        xif.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        xif.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            final List<String> errors = new ArrayList<>();
            try {
                String ns = null;
                try (InputStream s = new BufferedInputStream(Files.newInputStream(Paths.get(line)))) {
                    XMLStreamReader r = xif.createXMLStreamReader(s);
                    while (r.hasNext()) {
                        if (r.next() == XMLStreamConstants.START_ELEMENT) {
                            ns = r.getNamespaceURI() == null ? "" : r.getNamespaceURI();
                            break;
                        }
                    }
                    r.close();
                } catch (XMLStreamException e) {
                    // not well-formed: the validator below reports it
                }
                Schema schema = ns == null ? schemas.get(namespaces[0]) : schemas.get(ns);
                if (schema == null) {
                    errors.add("no schema for the root's namespace");
                } else {
                    Validator v = schema.newValidator();
                    v.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
                    v.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
                    v.setErrorHandler(new ErrorHandler() {
                        public void warning(SAXParseException e) {}
                        public void error(SAXParseException e) { errors.add("line " + e.getLineNumber() + ": " + e.getMessage()); }
                        public void fatalError(SAXParseException e) throws SAXException {
                            errors.add("line " + e.getLineNumber() + ": not well-formed: " + e.getMessage());
                            throw e;
                        }
                    });
                    v.validate(new StreamSource(new File(line)));
                }
            } catch (SAXParseException e) {
                // already recorded
            } catch (Throwable e) {
                errors.add(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            String msg = String.join(" || ", errors).replaceAll("[\\t\\n\\r\\u0085\\u2028\\u2029]", " ");
            out.println(line + "\t" + (errors.isEmpty() ? "ok" : "no") + "\t" + msg);
        }
    }
}
"""


def build(args):
    build_example("schemadiff", SCHEMADIFF_RS, args.target_dir, args.no_build)


class Libxml2:
    """The three XSDs, loaded once; `check(file)` gives (valid, first error or None, all errors)."""

    def __init__(self, ubl):
        maindoc = Path(ubl) / "maindoc"
        if not maindoc.exists():
            sys.exit(f"{maindoc} is missing: download the UBL 2.1 XSDs (see tools/gen_schema.py) or pass --ubl")
        self.schemas = {
            (INVOICE, "Invoice"): etree.XMLSchema(etree.parse(str(maindoc / "UBL-Invoice-2.1.xsd"))),
            (CREDIT_NOTE, "CreditNote"): etree.XMLSchema(etree.parse(str(maindoc / "UBL-CreditNote-2.1.xsd"))),
            (RSM, "CrossIndustryInvoice"): etree.XMLSchema(etree.parse(str(CII_XSD))),
        }
        self.by_namespace = {namespace: schema for (namespace, _), schema in self.schemas.items()}
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

    def check(self, file):
        try:
            tree = etree.parse(str(file), self.parser)
        except etree.XMLSyntaxError as e:
            return False, f"not well-formed: {e}", []
        schema = self.by_namespace.get(etree.QName(tree.getroot()).namespace or "")
        if schema is None:
            return False, "no schema for the root's namespace", []
        if schema.validate(tree):
            return True, None, []
        errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
        return False, errors[0] if errors else "invalid", errors

    def check_all(self, files):
        return {str(f): self.check(f) for f in files}


class Xerces:
    """The JDK's Xerces (javax.xml.validation, as KoSIT), one JVM per run over all files."""

    def __init__(self, ubl):
        maindoc = Path(ubl) / "maindoc"
        if not maindoc.exists():
            sys.exit(f"{maindoc} is missing: download the UBL 2.1 XSDs (see tools/gen_schema.py) or pass --ubl")
        self.java = shutil.which("java") or sys.exit("--reference xerces needs java (a JDK) on PATH")
        self.xsds = [str(maindoc / "UBL-Invoice-2.1.xsd"), str(maindoc / "UBL-CreditNote-2.1.xsd"), str(CII_XSD)]

    def check_all(self, files):
        with tempfile.TemporaryDirectory(prefix="schema-differential-java-") as work:
            src = Path(work) / "XsdCheck.java"
            src.write_text(XERCES_JAVA, encoding="utf-8")
            out = subprocess.run([self.java, str(src), *self.xsds], input="\n".join(map(str, files)) + "\n",
                                 capture_output=True, text=True, encoding="utf-8", check=True).stdout
        result = {}
        for line in out.split("\n"):
            if not line:
                continue
            path_, verdict, msg = line.split("\t", 2)
            errors = msg.split(" || ") if msg else []
            result[path_] = (verdict == "ok", errors[0] if errors else None, errors)
        return result


def run_ours(args, files, workdir):
    """{file: (valid, first finding or None, all findings)} from the schemadiff example."""
    list_file = Path(workdir) / "files.txt"
    list_file.write_text("\n".join(map(str, files)) + "\n", encoding="utf-8")
    started = time.perf_counter()
    text = subprocess.run([str(Path(args.target_dir) / "release" / "examples" / "schemadiff"), f"@{list_file}"],
                          check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - started
    out = {}
    for line in text.split("\n"):
        if line.strip():
            r = json.loads(line)
            findings = [f"{f['location']}: {f['message']}" for f in r["findings"]]
            if r["error"]:
                out[r["file"]] = (False, f"read error: {r['error']}", [r["error"]])
            else:
                out[r["file"]] = (not findings, findings[0] if findings else None, findings)
    return out, seconds


def run_reference(reference, files):
    started = time.perf_counter()
    out = reference.check_all(files)
    return out, time.perf_counter() - started


def cause(side, message):
    """A difference's class: the refusing side and its first message without names and values."""
    if side == "xerces":
        text = re.sub(r"^line -?\d+: ", "", message)
        text = re.sub(r"'[^']*'", "'…'", text)
        text = re.sub(r"One of .* is expected", "One of … is expected", text)
        return "only Xerces refuses: " + text.strip()
    if side == "libxml2":
        text = re.sub(r"^line \d+: ", "", message)
        text = re.sub(r"'xs:(\w+)'", r"xs:\1", text)
        text = re.sub(r"\{[^}]*\}", "", text)
        text = re.sub(r"'[^']*('|$)", "'…'", text)
        text = re.sub(r"Expected is (one of )?\(.*\)", "Expected is …", text)
        text = re.sub(r"Expected is \S+", "Expected is …", text)
        return "only libxml2 refuses: " + text.strip()
    text = re.sub(r"^\S+: ", "", message, count=1)  # the location
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"expected .*$", "expected …", text)
    text = re.sub(r"\b[\w-]+:[\w-]+\b", "X", text)
    text = re.sub(r"\{[^}]*\}\w+", "X", text)
    text = re.sub(r"allowed: .*$", "allowed: …", text)
    return "only ours refuses: " + text.strip()


def differences(files, ours, theirs, name):
    """(file, class, our messages, the reference's messages) of every file whose verdicts differ."""
    found = []
    for f in map(str, files):
        our_valid, our_first, our_all = ours.get(f, (False, "missing from our output", []))
        lib_valid, lib_first, lib_all = theirs[f]
        if our_valid != lib_valid:
            side = "ours" if lib_valid else name
            found.append((f, cause(side, our_first if side == "ours" else lib_first), our_all, lib_all))
    return found


def clip(message, limit=300):
    message = message.replace("\n", "\\n")
    return message if len(message) <= limit else message[:limit] + "…"


def largest_first(by_class):
    return sorted(by_class.items(), key=lambda kv: -len(kv[1]))


def print_classes(by_class):
    for cls, members in largest_first(by_class):
        print(f"  {len(members):5}  {cls}")


def report(diffs, name, manifest=None, examples=3):
    by_class = defaultdict(list)
    for d in diffs:
        by_class[d[1]].append(d)
    for cls, members in largest_first(by_class):
        print(f"\n== {len(members)} × {cls}")
        for f, _, our_all, lib_all in members[:examples]:
            print(f"  {f}" + (f" (seed {manifest[f]['seed']})" if manifest else ""))
            if manifest:
                for m in manifest[f]["mutations"]:
                    print(f"    - {m}")
            for m in our_all[:2]:
                print(f"    ours:    {clip(m)}")
            for m in lib_all[:2]:
                print(f"    {name + ':':8} {clip(m)}")
    return by_class


def valid_seeds(reference, seeds, workdir):
    """The seeds the reference finds schema-valid (written out once to be checked as files)."""
    files = []
    for i, (_, tree) in enumerate(seeds):
        f = Path(workdir) / f"seed{i:04d}.xml"
        write(tree, f)
        files.append(f)
    verdicts = reference.check_all(files)
    for f in files:
        f.unlink()
    return [seed for seed, f in zip(seeds, files) if verdicts[str(f)][0]]


def make_reference(args):
    return Xerces(args.ubl) if args.reference == "xerces" else Libxml2(args.ubl)


def fuzz(args):
    started = time.perf_counter()
    rng = random.Random(args.seed)
    reference = make_reference(args)
    out = Path(args.out or tempfile.mkdtemp(prefix="schema-differential-"))
    out.mkdir(parents=True, exist_ok=True)
    all_seeds = load_seeds(args.files or default_seeds())
    seeds = all_seeds if args.all_seeds else valid_seeds(reference, all_seeds, out)
    if not seeds:
        sys.exit("no (schema-valid) seeds")
    harvest = Harvest()
    for _, tree in seeds:
        harvest.add(tree.getroot())
    harvest.freeze()
    manifest, files = {}, []
    kinds = defaultdict(int)
    for i in range(args.count):
        seed_path, seed_tree = rng.choice(seeds)
        tree = copy.deepcopy(seed_tree)
        root = tree.getroot()
        ops = mutations(rng, root, rng.randint(1, args.mutations), harvest, args.operators, kinds, mutate)
        save_mutant(tree, out, i, seed_path, ops, files, manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    build(args)
    ours, ours_seconds = run_ours(args, files, out)
    theirs, reference_seconds = run_reference(reference, files)
    diffs = differences(files, ours, theirs, args.reference)
    by_class = report(diffs, args.reference, manifest, args.examples)
    if not args.keep:
        differing = {d[0] for d in diffs}
        for f in files:
            if str(f) not in differing:
                f.unlink()
    invalid = sum(1 for f in files if not theirs[str(f)][0])
    print(f"\n{len(files)} mutants of {len(seeds)} seeds ({len(all_seeds)} before the schema-valid filter) in {out} "
          f"(mutations: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")")
    print(f"{args.reference}: {invalid} invalid, {len(files) - invalid} valid; {len(diffs)} differing in "
          f"{len(by_class)} classes; {args.reference} {reference_seconds:.1f} s, ours {ours_seconds:.1f} s, "
          f"{time.perf_counter() - started:.1f} s in all")
    print_classes(by_class)
    return 1 if diffs else 0


def as_is(args):
    """Compares the files themselves, unchanged."""
    started = time.perf_counter()
    reference = make_reference(args)
    files = [Path(f).resolve() for f in (args.files or default_seeds())]
    build(args)
    with tempfile.TemporaryDirectory(prefix="schema-differential-") as work:
        ours, ours_seconds = run_ours(args, files, work)
    theirs, reference_seconds = run_reference(reference, files)
    diffs = differences(files, ours, theirs, args.reference)
    by_class = report(diffs, args.reference, None, args.examples)
    valid = sum(1 for f in files if theirs[str(f)][0])
    print(f"\n{len(files)} files ({valid} valid for {args.reference}), {len(diffs)} differing in {len(by_class)} "
          f"classes; {args.reference} {reference_seconds:.1f} s, ours {ours_seconds:.1f} s, "
          f"{time.perf_counter() - started:.1f} s in all")
    print_classes(by_class)
    return 1 if diffs else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--out", help="directory for the mutants (default: a new temp dir)")
    parser.add_argument("--mutations", type=int, default=2, help="1 to this many mutations per mutant (default 2)")
    parser.add_argument("--operators", type=lambda t: t.split(","), default=OPERATORS,
                        help="comma-separated mutation kinds to draw from (default: all): " + ", ".join(sorted(set(OPERATORS))))
    parser.add_argument("--all-seeds", action="store_true", help="mutate schema-invalid seeds too")
    parser.add_argument("--examples", type=int, default=3, help="differing files shown per class")
    parser.add_argument("--keep", action="store_true", help="keep the mutants on which both sides agree")
    parser.add_argument("--ubl", default=str(UBL_XSD), help="the UBL 2.1 xsd directory (with maindoc/ and common/)")
    parser.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "/var/tmp/kreishaus-target-schemadiff"))
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--reference", choices=["xerces", "libxml2"], default="xerces",
                        help="the validator to compare with: the JDK's Xerces (what KoSIT runs; default) or libxml2")
    parser.add_argument("--as-is", action="store_true", help="compare the files themselves, not mutants of them")
    parser.add_argument("files", nargs="*", help="seed files (default: the test data)")
    args = parser.parse_args()
    return as_is(args) if args.as_is else fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
