#!/usr/bin/env python3
"""The reference run for `kreishaus bench invoices`: the official schematrons (CEN EN 16931 1.3.16
and XRechnung, from ../shared/testdata/einvoice) compiled to XSLT 2.0 and run with Saxon
(`saxonche` from PyPI) on the same files, one after the other on one core.

The schematron is compiled here the way the ISO schematron skeleton does it (there is no
compiled XSLT in the test data and no skeleton on PyPI): one mode per pattern, one template per
rule with a priority falling in document order (so a node is taken by the first matching rule of
a pattern), rule <let>s as variables, pattern <let>s as global variables, asserts and reports as
<xsl:if>, then a walk over attributes and child elements. The KoSIT scenario (by CustomizationID)
chooses CEN alone or CEN and XRechnung and its customLevel overrides; verdict: reject if any
error remains. The schema (XSD) step is not run here.

    python3 crates/einvoice/bench/saxon_bench.py [--rounds N] [--json OUT] FILE...

prints the timing and writes one JSON line per file {"file","verdict","fired":[ids],"errors":[ids of asserts that raised a
dynamic error]} to OUT.
"""
import argparse
import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor

S = "{http://purl.oclc.org/dsdl/schematron}"
XSL = "http://www.w3.org/1999/XSL/Transform"
TESTDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "einvoice"
CEN = {
    "ubl": "en16931-cen/ubl/schematron/preprocessed/EN16931-UBL-validation-preprocessed.sch",
    "cii": "en16931-cen/cii/schematron/preprocessed/EN16931-CII-validation-preprocessed.sch",
}
XRECHNUNG = {
    "ubl": "xrechnung-schematron/src/validation/schematron/ubl/XRechnung-UBL-validation.sch",
    "cii": "xrechnung-schematron/src/validation/schematron/cii/XRechnung-CII-validation.sch",
}
XR = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
SCENARIOS = {
    # (syntax, CustomizationID) -> (XRechnung rules too, overrides)
    ("ubl-invoice", XR): (True, {"BR-CL-23": "warning", "BR-CL-21": "warning", "UBL-CR-646": "fatal"}),
    ("ubl-invoice", XR + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0"): (True, {
        "BR-CL-21": "information", "BR-CL-23": "warning", "BR-CL-24": "information", "BR-CL-10": "information",
        "BR-CL-11": "information", "BR-CL-25": "information", "BR-CL-26": "information", "BR-CO-16": "information",
        "UBL-CR-470": "information", "UBL-CR-646": "information"}),
    ("ubl-invoice", XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"): (True, {
        "BR-CL-13": "information", "BR-CL-23": "warning", "BR-CL-21": "warning", "UBL-CR-646": "fatal"}),
    ("ubl-creditnote", XR): (True, {"BR-CL-23": "warning", "BR-CL-21": "warning"}),
    ("ubl-creditnote", XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"): (True, {
        "BR-CL-13": "information", "BR-CL-23": "warning", "BR-CL-21": "warning", "UBL-CR-646": "fatal"}),
    ("cii", XR): (True, {"BR-CL-23": "warning", "BR-CL-21": "warning", "CII-SR-452": "fatal", "CII-SR-453": "fatal",
                         "CII-SR-454": "fatal"}),
    ("cii", XR + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0"): (True, {
        "BR-CL-23": "warning", "BR-CL-21": "information", "BR-CL-11": "information", "BR-CL-10": "information",
        "BR-CL-24": "information", "BR-CL-25": "information", "BR-CL-26": "information", "CII-SR-452": "fatal",
        "CII-SR-453": "fatal", "CII-SR-454": "fatal"}),
    ("cii", XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"): (True, {
        "BR-CL-13": "information", "BR-CL-23": "warning", "BR-CL-21": "warning", "CII-SR-452": "fatal",
        "CII-SR-453": "fatal", "CII-SR-454": "fatal"}),
    ("ubl-invoice", "urn:cen.eu:en16931:2017"): (False, {}),
    ("ubl-creditnote", "urn:cen.eu:en16931:2017"): (False, {}),
    ("cii", "urn:cen.eu:en16931:2017"): (False, {}),
}


def attr(text):
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def patterns(root, base):
    for child in root:
        if child.tag == S + "include":
            included = ET.parse(base.parent / child.get("href")).getroot()
            yield from [included] if included.tag == S + "pattern" else included.iter(S + "pattern")
        elif child.tag == S + "pattern":
            yield child


def compile_schematron(paths):
    """One XSLT 2.0 stylesheet for the schematrons in `paths` (run one after the other)."""
    namespaces, functions, globals_, templates, modes = {}, [], [], [], []
    for path in paths:
        full = TESTDATA / path
        root = ET.parse(full).getroot()
        for ns in root.iter(S + "ns"):
            namespaces[ns.get("prefix")] = ns.get("uri")
        for fn in root.findall("{%s}function" % XSL):
            functions.append(ET.tostring(fn, encoding="unicode"))
        for pattern in patterns(root, full):
            mode = f"M{len(modes)}"
            for let in pattern.findall(S + "let"):
                globals_.append(f'<xsl:variable name="{let.get("name")}" select="{attr(let.get("value"))}"/>')
            rules = pattern.findall(S + "rule")
            if not rules:
                continue
            modes.append(mode)
            for order, rule in enumerate(rules):
                # each assert evaluates the rule's <let>s inside its own xsl:try (variables are lazy), so a
                # dynamic error fails the asserts it reaches and no other
                lets = "".join(f'<xsl:variable name="{l.get("name")}" select="{attr(l.get("value"))}"/>' for l in rule.findall(S + "let"))
                body = []
                for a in rule:
                    if a.tag not in (S + "assert", S + "report"):
                        continue
                    test = a.get("test") if a.tag == S + "report" else f"not({a.get('test')})"
                    fired = f'<fired id="{a.get("id")}" flag="{a.get("flag", "fatal")}"/>'
                    body.append(f'<xsl:try>{lets}<xsl:if test="{attr(test)}">{fired}</xsl:if>'
                                f'<xsl:catch><fired id="{a.get("id")}" flag="error"/></xsl:catch></xsl:try>')
                body.append(f'<xsl:apply-templates select="@*|*" mode="{mode}"/>')
                templates.append(f'<xsl:template match="{attr(rule.get("context"))}" priority="{10000 - order}" mode="{mode}">{"".join(body)}</xsl:template>')
            templates.append(f'<xsl:template match="text()" priority="-1" mode="{mode}"/>')
            templates.append(f'<xsl:template match="@*|node()" priority="-2" mode="{mode}"><xsl:apply-templates select="@*|*" mode="{mode}"/></xsl:template>')
    namespaces.setdefault("xs", "http://www.w3.org/2001/XMLSchema")
    namespaces["u"] = "utils"
    decls = " ".join(f'xmlns:{p}="{u}"' for p, u in namespaces.items())
    run = "".join(f'<xsl:apply-templates select="/" mode="{m}"/>' for m in modes)
    return (f'<xsl:stylesheet version="2.0" xmlns:xsl="{XSL}" {decls} exclude-result-prefixes="#all">'
            + "".join(functions) + "".join(globals_)
            + f'<xsl:template match="/"><report>{run}</report></xsl:template>' + "".join(templates) + "</xsl:stylesheet>")


# KoSIT's <match> expressions of scenarios.xml, in its order (XPath 1.0 suffices for them):
# UBL Invoice's XRechnung scenarios compare the CustomizationID's string value (`[. = …]`),
# all others each of its text nodes (`text() = …`); exactly, without trimming.
MATCH_NS = {"invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
            "creditnote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
            "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
            "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
            "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
CII_ID = "/rsm:CrossIndustryInvoice[rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text() = '{}']"
MATCHES = [("ubl-invoice", cid, f"/invoice:Invoice/cbc:CustomizationID[. = '{cid}']")
           for cid in [XR, XR + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0",
                       XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"]] + [
    ("ubl-creditnote", XR, f"/creditnote:CreditNote[cbc:CustomizationID/text() = '{XR}']"),
    ("ubl-creditnote", XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9",
     f"/creditnote:CreditNote[cbc:CustomizationID/text() = '{XR}#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9']"),
] + [("cii", cid, CII_ID.format(cid)) for cid in [XR, XR + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0",
                                                  XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"]] + [
    ("ubl-invoice", "urn:cen.eu:en16931:2017", "/invoice:Invoice[cbc:CustomizationID/text() = 'urn:cen.eu:en16931:2017']"),
    ("ubl-creditnote", "urn:cen.eu:en16931:2017", "/creditnote:CreditNote[cbc:CustomizationID/text() = 'urn:cen.eu:en16931:2017']"),
    ("cii", "urn:cen.eu:en16931:2017", CII_ID.format("urn:cen.eu:en16931:2017")),
]


def scenario_of(text):
    """The syntax and the KoSIT scenario (XRechnung rules too, overrides) of a document."""
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    tag = etree.QName(root).localname
    syntax = {"Invoice": "ubl-invoice", "CreditNote": "ubl-creditnote"}.get(tag, "cii")
    for match_syntax, cid, expr in MATCHES:
        if match_syntax == syntax and root.xpath(f"boolean({expr})", namespaces=MATCH_NS):
            return syntax, SCENARIOS[(syntax, cid)]
    return syntax, None


def document_text(path):
    """The document as text for Saxon, whatever its encoding: UTF-8 (a byte-order mark dropped)
    as it is, any other encoding (UTF-16, ISO-8859-1) read by lxml and written out again."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        return etree.tostring(root, encoding="unicode")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    with PySaxonProcessor(license=False) as proc:
        xslt = proc.new_xslt30_processor()
        started = time.perf_counter()
        executables = {}
        for key in [("ubl", False), ("ubl", True), ("cii", False), ("cii", True)]:
            syntax, xrechnung = key
            sources = [CEN[syntax]] + ([XRECHNUNG[syntax]] if xrechnung else [])
            executables[key] = xslt.compile_stylesheet(stylesheet_text=compile_schematron(sources))
        compile_seconds = time.perf_counter() - started
        inputs = [(f, document_text(f)) for f in args.files]
        results, elapsed, largest = [], 0.0, (0, None, 0.0)
        cpu_started = time.process_time()
        for round_ in range(args.rounds):
            for name, text in inputs:
                t0 = time.perf_counter()
                syntax, scenario = scenario_of(text)
                errors = []
                if scenario is None:
                    verdict, fired = "reject", []
                else:
                    xrechnung, overrides = scenario
                    node = proc.parse_xml(xml_text=text)
                    try:
                        out = executables[("cii" if syntax == "cii" else "ubl", xrechnung)].transform_to_string(xdm_node=node)
                    except PySaxonApiError as e:
                        # a dynamic error outside the asserts (a global <let>): a processing error, rejected
                        print(f"{name}: {e}", file=sys.stderr)
                        out = '<fired id="DYNAMIC-ERROR" flag="error"/>'
                    found = re.findall(r'<fired id="([^"]*)" flag="([^"]*)"', out)
                    fired = sorted({i for i, _ in found})
                    errors = sorted({i for i, flag in found if flag == "error"})
                    # a dynamic error in a test is a processing error in KoSIT: the document is rejected
                    fatal = any(flag == "error" or overrides.get(i, flag) == "fatal" for i, flag in found)
                    verdict = "reject" if fatal else "accept"
                dt = time.perf_counter() - t0
                elapsed += dt
                if round_ == 0:
                    results.append({"file": name, "verdict": verdict, "fired": fired, "errors": errors})
                    if len(text) > largest[0]:
                        largest = (len(text), name, dt)
        count = len(inputs) * args.rounds
        cpu = time.process_time() - cpu_started
        print(f"saxon: {count} validations in {elapsed:.2f} s = {count / elapsed:.1f} invoices/s (one core), "
              f"{count / cpu:.1f} per CPU second; "
              f"stylesheets compiled in {compile_seconds:.1f} s; largest {largest[1]} ({largest[0]} bytes) {largest[2] * 1000:.1f} ms")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                for r in results:
                    f.write(json.dumps(r) + "\n")
                f.write(json.dumps({"summary": {"invoices_per_second": count / elapsed, "invoices_per_cpu_second": count / cpu, "largest_ms": largest[2] * 1000}}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
