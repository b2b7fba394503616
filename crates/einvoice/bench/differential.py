#!/usr/bin/env python3
"""Differential testing of the e-invoice rule engine against Saxon.

Takes seed invoices (by default the XRechnung test suite, the xrechnung-schematron instances and
the CEN examples of ../shared/testdata/einvoice), writes N mutants of them into a directory
(deterministic with --seed), validates all mutants with Saxon (saxon_bench.py, one run) and with
our rule engine (the throwaway example `difftool`, which prints one JSON line
{"file","verdict","fired"} per file, the schema step off and READ / SCENARIO findings left out),
and prints every mutant whose verdict or set of fired rule ids differs, with the ids only one
side fired, then a summary per rule id.

    python3 crates/einvoice/bench/differential.py --seed 1 --count 2000 [--out DIR] [SEED.xml ...]
    python3 crates/einvoice/bench/differential.py --minimise MUTANT.xml --rule BR-XX [--out DIR]
    python3 crates/einvoice/bench/differential.py --as-is FILE ...

The third form compares the files themselves, unchanged (e.g. public invoices from elsewhere).
The second form shrinks a differing mutant by deleting elements while the rule id stays on the
same side of the difference, and writes DIR/minimal.xml.

Needs lxml (`pip install lxml`), Saxon's venv (`--saxon-python`, default
/var/tmp/saxon/bin/python) and the example `crates/einvoice/examples/difftool.rs` (written from
DIFFTOOL_RS below when missing; examples/ is not committed), built with
`cargo build --release -p einvoice --example difftool` (done here unless --no-build; the binary
is taken from $CARGO_TARGET_DIR, default /var/tmp/kreishaus-target-diff).
"""
import argparse
import copy
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
TESTDATA = (REPO / ".." / "shared" / "testdata" / "einvoice").resolve()
if not TESTDATA.exists():
    TESTDATA = Path("/work/shared/testdata/einvoice")


# The throwaway examples the bench scripts build (examples/ is not committed) begin alike: these
# lints allowed, then the example's doc comment, then EXAMPLE_HELPERS (a JSON string writer and
# `files()`, the paths the arguments name).
EXAMPLE_LINTS = r"""#![allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing
)]
"""
EXAMPLE_HELPERS = r"""use std::io::Write;

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// The files the arguments name: paths, or @LIST with one path per line.
fn files() -> Vec<String> {
    let mut files = vec![];
    for a in std::env::args().skip(1) {
        if let Some(list) = a.strip_prefix('@') {
            files.extend(std::fs::read_to_string(list).unwrap().lines().filter(|l| !l.is_empty()).map(String::from));
        } else {
            files.push(a);
        }
    }
    files
}
"""


def build_example(name, source, target_dir, no_build):
    """Writes crates/einvoice/examples/NAME.rs from SOURCE (when it differs) and builds it."""
    example = REPO / "crates" / "einvoice" / "examples" / f"{name}.rs"
    if not example.exists() or example.read_text(encoding="utf-8") != source:
        example.parent.mkdir(exist_ok=True)
        example.write_text(source, encoding="utf-8")
    if no_build:
        return
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir)
    subprocess.run(["nice", "cargo", "build", "--quiet", "--release", "-p", "einvoice", "--example", name], cwd=REPO,
                   env=env, check=True)
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
XR = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
CUSTOMIZATION_IDS = [
    XR,
    XR + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0",
    XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9",
    "urn:cen.eu:en16931:2017",
]
OTHER_CUSTOMIZATION_IDS = [" " + XR, XR + " ", "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.3", ""]

NBSP = "\u00a0"
NUMBERS = ["-1", "0", "0.00", "-0", "-0.00", "1.123456789", "1e3", "+5", " 12 ", "12.", ".5", "abc", "", "NaN", "INF",
           "1,5", "100", "19", "7", "19.00", "0.005", "1.005", "-12.50", "99999999999999999999.99", "1 000", "0x10",
           "5%", "1.5E2", "-INF", "00012.3400",
           # beyond an i128's 38 digits (Saxon's decimals are unbounded)
           "9999999999999999999999999999999999999.99", "123456789012345678901234567890123456789012",
           "-0.000000000000000000000000000000000000000012", "100000000000000000000000000000000000000000.00"]
DATES = ["2024-02-30", "20240230", "2024-02-29", "2023-02-29", "20240101", "2024-01-01", "2024-1-1", "01.01.2024",
         "2024-01-01Z", "2024-01-01+01:00", "2024-13-01", " 2024-01-01 ", "2024-01-01T10:00:00", "1900-01-01",
         "99991231", "2024-12-31", "20241231", "202401", "2024", "2024-01-02+14:00", "2023-12-31-12:00",
         "2024-01-01+14:30", "2024-01-01+15:00", "02024-01-01", "2024-01-01+1:00"]
VAT_CODES = ["S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B", "s", "ae", "XX", " S", "S "]
IBANS = ["DE75512108001245126199", "DE75512108001245126198", "DE75 5121 0800 1245 1261 99", "de75512108001245126199",
         "GB82WEST12345698765432", "GB82WEST12345698765433", "NL91ABNA0417164300", "XX00", "DE00", "FR7630006000011234567890189",
         "MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001T", "LC55HEMM000100010012001200023015",
         "DE75" + NBSP + "512108001245126199", "DE75512108001245126199" + NBSP, "DE75\t5121\n0800\r1245126199"]
EMAILS = ["a@b.de", "a@b", "@b.de", "a@@b.de", " a@b.de", "a b@c.de", "a@b.de ", "ab.de", "a@b.c", "x@y.zz@q", "A@B.DE",
          "a" + NBSP + "b@c.de", "a@b" + NBSP + ".de", "a\rb@c.de", "ä@ö.de"]
PHONES = ["+49 123 456", "123", "12", "abc", "+49-(0)30/123", " ", "0", "+49 30 1234567", "1\r2\n3", "\u0663\u0664\u0665",
          "1" + NBSP + "23"]
STRINGS = ["", " ", "x", "\n\t", "a" * 300, "ä€", "0", "true", "null", "  x  ", NBSP, "\u2003", "a\r\nb", "S" + NBSP,
           "_$+", "a\u2028b"]
ATTRS = {
    "currencyID": ["EUR", "USD", "eur", "XXX", "EUR ", "", "CHF", "ZZZ"],
    "unitCode": ["C62", "H87", "XPP", "c62", "ZZZ", "C62 ", "", "HUR", "KGM"],
    "schemeID": ["0088", "0204", "9930", "VA", "SEPA", "EM", "0060", "EM ", "em", "XX", "", "0002", "9958", "FC"],
    "listID": ["UNCL7143", "UNCL1001", "UNCL5305", "SRV", "HS", "STI", "", "XX"],
    "format": ["102", "610", "616", "103", "", "xx", " 102"],
    "mimeCode": ["application/pdf", "image/png", "text/xml", "application/xml", "text/plain", "", "PDF"],
    "filename": ["a.pdf", "", " "],
    "languageID": ["de", "en", ""],
    "unitCodeListID": ["UNECERec20", ""],
}
CUSTOMIZATION_TAGS = {f"{{{CBC}}}CustomizationID"}
SAXON_PYTHON = "/var/tmp/saxon/bin/python"


def default_seeds():
    seeds = []
    suite = TESTDATA / "xrechnung-testsuite"
    for line in (suite / "EXPECTED.csv").read_text(encoding="utf-8").splitlines()[1:]:
        seeds.append(suite / line.split(",", 1)[0])
    for d in ["xrechnung-schematron/test/instances", "en16931-cen/ubl/examples", "en16931-cen/cii/examples",
              "en16931-cen/test/testfiles", "en16931-cen/test/Invoice-unit-UBL", "en16931-cen/test/CreditNote-unit-UBL",
              "en16931-cen/test/cii"]:
        seeds += sorted(p for p in (TESTDATA / d).rglob("*") if p.suffix.lower() == ".xml")
    return seeds


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def elements(root):
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root]


def leaves(root):
    return [e for e in elements(root) if not any(isinstance(c.tag, str) for c in e)]


def path(el):
    return el.getroottree().getpath(el)


def kind(el):
    text = (el.text or "").strip()
    name = local(el.tag)
    if "Date" in name or re.fullmatch(r"\d{4}-\d\d-\d\d|\d{8}", text):
        return "date"
    if re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        return "number"
    if "@" in text or "URIID" in name or "EndpointID" in name:
        return "email"
    if "IBAN" in name or re.fullmatch(r"[A-Z]{2}\d\d[A-Z0-9]{8,30}", text):
        return "iban"
    if "Telephone" in name or "CompleteNumber" in name:
        return "phone"
    if "CategoryCode" in name or ("ID" == name and local(el.getparent().tag) in ("TaxCategory", "ClassifiedTaxCategory")):
        return "vat"
    if re.fullmatch(r"[A-Za-z0-9]{1,4}", text):
        return "code"
    return "string"


class Harvest:
    """Values seen in the seeds, by element and attribute local name (code list values, realistic text)."""

    def __init__(self):
        self.by_name = defaultdict(set)
        self.attrs = defaultdict(set)
        self.codes = set()

    def add(self, root):
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            if el.text and el.text.strip() and not any(isinstance(c.tag, str) for c in el):
                t = el.text.strip()
                if len(t) < 60:
                    self.by_name[local(el.tag)].add(t)
                if re.fullmatch(r"[A-Z0-9]{1,4}", t):
                    self.codes.add(t)
            for k, v in el.attrib.items():
                self.attrs[local(k)].add(v)

    def freeze(self):
        self.by_name = {k: sorted(v) for k, v in self.by_name.items()}
        self.attrs = {k: sorted(v) for k, v in self.attrs.items()}
        self.codes = sorted(self.codes)


def new_value(rng, el, harvest):
    k = kind(el)
    r = rng.random()
    if r < 0.3 and harvest.by_name.get(local(el.tag)):
        return rng.choice(harvest.by_name[local(el.tag)])
    if r < 0.4:
        return rng.choice(harvest.codes + VAT_CODES)
    if r < 0.5:
        pool = rng.choice([NUMBERS, DATES, VAT_CODES, IBANS, EMAILS, PHONES, STRINGS])
        return rng.choice(pool)
    pool = {"date": DATES, "number": NUMBERS, "email": EMAILS, "iban": IBANS, "phone": PHONES, "vat": VAT_CODES,
            "code": harvest.codes + [c.lower() for c in harvest.codes[:50]] + VAT_CODES, "string": STRINGS}[k]
    if k == "number" and rng.random() < 0.4:
        # a plausible number near the original, so sums and rounding rules are reached
        try:
            v = float(el.text)
            # the tolerance (`- 1 <`) and rounding (half a cent) boundaries of the sum rules
            nudge = rng.choice([0.01, -0.01, 1, -1, 0.99, -0.99, 1.01, -1.01, 0.005, -0.005, 0.5, -0.5, 0.004])
            return rng.choice([f"{v + nudge:.2f}", f"{v + nudge:.3f}", f"{v:.4f}", f"{-v:.2f}", f"{v * 2:.2f}",
                               f"{v:.3f}".rstrip("0"), f"{v:.0f}", f"{v:.2f}0", f"{v * 1.19:.2f}", f"{v * 1.07:.4f}"])
        except ValueError:
            pass
    return rng.choice(pool)


OPERATORS = ["delete", "duplicate", "empty", "pad", "value", "value", "value", "attr", "attr", "swap", "move", "customization"]


def mutate(rng, root, harvest, operators=OPERATORS):
    """Applies one random mutation to the tree, returns its description (None if not applicable)."""
    op = rng.choice(operators)
    els = elements(root)
    if not els:
        return None
    if op == "delete":
        el = rng.choice(els)
        d = f"delete {path(el)}"
        el.getparent().remove(el)
        return d
    if op == "duplicate":
        el = rng.choice(els)
        parent = el.getparent()
        parent.insert(parent.index(el) + 1, copy.deepcopy(el))
        return f"duplicate {path(el)}"
    if op == "empty":
        el = rng.choice(leaves(root) if rng.random() < 0.7 else els)
        d = f"empty {path(el)}"
        for c in list(el):
            el.remove(c)
        el.text = rng.choice([None, ""])
        return d
    if op == "pad":
        el = rng.choice(leaves(root))
        t = el.text or ""
        el.text = rng.choice([" " + t, t + " ", "\n  " + t + "\n", t.replace(" ", "  "), "\t" + t, " " + t + " ",
                              NBSP + t, t + NBSP, "\r" + t, t.replace(" ", NBSP), "\u2003" + t])
        return f"pad {path(el)} -> {el.text!r}"
    if op == "value":
        el = rng.choice(leaves(root))
        el.text = new_value(rng, el, harvest)
        return f"value {path(el)} -> {el.text!r}"
    if op == "attr":
        names = list(ATTRS)
        with_attr = [e for e in els if any(local(a) in ATTRS for a in e.attrib)]
        if with_attr and rng.random() < 0.75:
            el = rng.choice(with_attr)
            name = rng.choice([a for a in el.attrib if local(a) in ATTRS])
        else:
            el = rng.choice(leaves(root))
            name = rng.choice(names)
        r = rng.random()
        if r < 0.15:
            if name in el.attrib:
                del el.attrib[name]
            return f"attr {path(el)} del @{name}"
        pool = ATTRS[local(name)] + harvest.attrs.get(local(name), [])
        el.set(name, rng.choice(pool))
        return f"attr {path(el)} @{name}={el.get(name)!r}"
    if op == "swap":
        parents = [e for e in [root] + els if sum(isinstance(c.tag, str) for c in e) >= 2]
        if not parents:
            return None
        p = rng.choice(parents)
        kids = [c for c in p if isinstance(c.tag, str)]
        a, b = rng.sample(kids, 2)
        ia, ib = p.index(a), p.index(b)
        if ia > ib:
            a, b, ia, ib = b, a, ib, ia
        p.remove(b)
        p.insert(ia, b)
        p.remove(a)
        p.insert(ib, a)
        return f"swap {path(b)} {path(a)}"
    if op == "move":
        el = rng.choice(els)
        inside = set(el.iter())
        targets = [e for e in [root] + els if e not in inside and e is not el.getparent()]
        if not targets:
            return None
        t = rng.choice(targets)
        d = f"move {path(el)} into {path(t)}"
        el.getparent().remove(el)
        t.insert(rng.randint(0, len(t)), el)
        return d
    if op == "customization":
        ids = customization_elements(root)
        if not ids:
            return None
        el = rng.choice(ids)
        el.text = rng.choice(CUSTOMIZATION_IDS * 3 + OTHER_CUSTOMIZATION_IDS)
        return f"customization {path(el)} -> {el.text!r}"
    return None


def customization_elements(root):
    if local(root.tag) == "CrossIndustryInvoice":
        return [e for e in root.iter(f"{{{RAM}}}ID") if local(e.getparent().tag) == "GuidelineSpecifiedDocumentContextParameter"]
    return [e for e in root if isinstance(e.tag, str) and e.tag in CUSTOMIZATION_TAGS]


def load_seeds(paths):
    """(name, tree) of every invoice among `paths`; a VEFA test set (the CEN unit tests) gives the
    invoice fragment of each of its tests."""
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True)
    seeds = []
    for p in paths:
        try:
            tree = etree.parse(str(p), parser)
        except etree.XMLSyntaxError:
            continue
        root = tree.getroot()
        if local(root.tag) == "testSet":
            for i, test in enumerate(t for t in root if local(t.tag) == "test"):
                for doc in test:
                    if local(doc.tag) in ("Invoice", "CreditNote", "CrossIndustryInvoice"):
                        seeds.append((f"{p}#test{i + 1}", etree.ElementTree(copy.deepcopy(doc))))
            continue
        if local(root.tag) not in ("Invoice", "CreditNote", "CrossIndustryInvoice"):
            continue
        seeds.append((str(p), tree))
    return seeds


def write(tree, path_):
    tree.write(str(path_), xml_declaration=True, encoding="UTF-8")


def mutations(rng, root, count, harvest, operators, kinds, mutator=None):
    """Applies `count` random mutations to `root` (by `mutator`, default `mutate`); returns their
    descriptions, counted by kind in `kinds`."""
    ops = []
    for _ in range(count):
        d = (mutator or mutate)(rng, root, harvest, operators)
        if d:
            ops.append(d)
            kinds[d.split()[0]] += 1
    return ops


def save_mutant(tree, out, i, seed_path, ops, files, manifest):
    """Writes mutant number `i` into `out` and records it in `files` and `manifest`."""
    name = out / f"m{i:05d}.xml"
    write(tree, name)
    files.append(name)
    manifest[str(name)] = {"seed": seed_path, "mutations": ops}


# Our side: written to crates/einvoice/examples/difftool.rs when missing (examples/ is not
# committed) and built with cargo.
DIFFTOOL_RS = EXAMPLE_LINTS + r"""//! Throwaway (not committed): validate files without the schema step and print one JSON line
//! per file {"file","verdict","fired":[ids],"schema_valid"} (SCHEMA, READ, SCENARIO and XPATH-ERROR
//! findings left out; schema_valid: no SCHEMA finding with the schema step on).
//! Arguments: files, or @LIST with one path per line.
""" + EXAMPLE_HELPERS + r"""
fn main() {
    let files = files();
    let mut o = std::io::BufWriter::new(std::io::stdout());
    let opts = einvoice::validate::Options { schema: false, ..Default::default() };
    for f in &files {
        let b = std::fs::read(f).unwrap();
        let r = einvoice::validate::validate_with(&b, opts);
        let schema_valid = !einvoice::validate::validate(&b).findings.iter().any(|f| f.rule == "SCHEMA");
        let mut fired: Vec<&str> = r
            .findings
            .iter()
            .map(|f| f.rule)
            .filter(|r| !matches!(*r, "SCHEMA" | "READ" | "SCENARIO" | "XPATH-ERROR"))
            .collect();
        fired.sort();
        fired.dedup();
        let fired: Vec<String> = fired.iter().map(|s| json_str(s)).collect();
        writeln!(
            o,
            "{{\"file\":{},\"verdict\":\"{}\",\"fired\":[{}],\"schema_valid\":{}}}",
            json_str(f),
            r.verdict,
            fired.join(","),
            schema_valid
        )
        .unwrap();
    }
}
"""


def build(args):
    build_example("difftool", DIFFTOOL_RS, args.target_dir, args.no_build)


def run_both(args, files, workdir):
    """{file: (verdict, set(fired))} for Saxon and for ours."""
    list_file = Path(workdir) / "files.txt"
    list_file.write_text("\n".join(map(str, files)) + "\n", encoding="utf-8")
    saxon_out = Path(workdir) / "saxon.jsonl"
    started = time.perf_counter()
    with open(Path(workdir) / "saxon.stderr", "w", encoding="utf-8") as err:
        code = subprocess.run([args.saxon_python, str(HERE / "saxon_bench.py"), "--rounds", "1", "--json", str(saxon_out)]
                              + [str(f) for f in files], stdout=subprocess.DEVNULL, stderr=err).returncode
    if code:
        sys.exit(f"saxon_bench.py failed ({code}), see {workdir}/saxon.stderr")
    saxon_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours_text = subprocess.run([str(Path(args.target_dir) / "release" / "examples" / "difftool"), f"@{list_file}"],
                               check=True, capture_output=True, text=True).stdout
    ours_seconds = time.perf_counter() - started

    def parse(lines):
        out = {}
        for line in lines:
            if line.strip():
                r = json.loads(line)
                if "file" in r:
                    out[r["file"]] = (r["verdict"], set(r["fired"]), r.get("errors", []), r.get("schema_valid"))
        return out

    return parse(saxon_out.read_text(encoding="utf-8").splitlines()), parse(ours_text.splitlines()), saxon_seconds, ours_seconds


def compare(saxon, ours, files):
    diffs = []
    for f in map(str, files):
        sv, sf, errors, _ = saxon.get(f, ("missing", set(), [], None))
        ov, of, _, schema_valid = ours.get(f, ("missing", set(), [], None))
        if sv != ov or sf != of:
            diffs.append((f, sv, ov, sorted(of - sf), sorted(sf - of), errors, schema_valid))
    return diffs


def fuzz(args):
    rng = random.Random(args.seed)
    seeds = load_seeds(args.files or default_seeds())
    harvest = Harvest()
    for _, tree in seeds:
        harvest.add(tree.getroot())
    harvest.freeze()
    out = Path(args.out or tempfile.mkdtemp(prefix="differential-"))
    out.mkdir(parents=True, exist_ok=True)
    manifest, files = {}, []
    kinds = defaultdict(int)
    for i in range(args.count):
        seed_path, seed_tree = rng.choice(seeds)
        tree = copy.deepcopy(seed_tree)
        root = tree.getroot()
        ops = []
        # a seed whose CustomizationID no KoSIT scenario takes reaches no rule: give it one
        cids = customization_elements(root)
        if not cids and local(root.tag) != "CrossIndustryInvoice":
            # a CEN unit-test fragment without one
            cid = etree.Element(f"{{{CBC}}}CustomizationID")
            root.insert(0, cid)
            cids = [cid]
        if cids and not any((e.text or "") in CUSTOMIZATION_IDS for e in cids):
            cids[0].text = rng.choice(CUSTOMIZATION_IDS)
            ops.append(f"customization {path(cids[0])} -> {cids[0].text!r}")
        count = rng.choice([1, 1, 1, 2, 2, 3, 5]) if args.mutations is None else rng.randint(1, args.mutations)
        ops += mutations(rng, root, count, harvest, args.operators, kinds)
        save_mutant(tree, out, i, seed_path, ops, files, manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    build(args)
    saxon, ours, ss, os_ = run_both(args, files, out)
    diffs = compare(saxon, ours, files)
    by_rule = defaultdict(list)
    valid = sum(1 for f in files if ours.get(str(f), (0, 0, 0, False))[3])
    for f, sv, ov, only_ours, only_saxon, errors, schema_valid in diffs:
        # KoSIT runs the schematron only on schema-valid documents: those differences matter most
        print(f"DIFF {f} (seed {manifest[f]['seed']}){' SCHEMA-VALID' if schema_valid else ''}")
        print(f"  verdict ours {ov} saxon {sv}; only ours: {only_ours}; only saxon: {only_saxon}"
              + (f"; dynamic errors in Saxon: {errors}" if errors else ""))
        for m in manifest[f]["mutations"]:
            print(f"  - {m}")
        tag = "valid " if schema_valid else ""
        for r in only_ours:
            by_rule[(tag + "ours", r)].append(f)
        for r in only_saxon:
            by_rule[(tag + "saxon", r)].append(f)
        if not only_ours and not only_saxon:
            by_rule[(tag + "verdict", f"{ov}/{sv}")].append(f)
    print(f"\n{len(files)} mutants from {len(seeds)} seeds in {out} (mutations: "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + f"); saxon {ss:.1f} s, ours {os_:.1f} s")
    print(f"{len(diffs)} differing mutants ({sum(1 for d in diffs if d[6])} of them schema-valid; "
          f"{valid} schema-valid mutants in all)")
    for (side, rule), fs in sorted(by_rule.items(), key=lambda kv: (not kv[0][0].startswith("valid"), -len(kv[1]))):
        print(f"  only {side:13} {rule:14} {len(fs):5} mutants, e.g. {fs[0]}")
    return 1 if diffs else 0


def as_is(args):
    """Compares the files themselves, unchanged."""
    files = [Path(f).resolve() for f in (args.files or default_seeds())]
    build(args)
    with tempfile.TemporaryDirectory(prefix="differential-") as work:
        saxon, ours, ss, os_ = run_both(args, files, work)
    diffs = compare(saxon, ours, files)
    for f, sv, ov, only_ours, only_saxon, errors, schema_valid in diffs:
        print(f"DIFF {f}{' SCHEMA-VALID' if schema_valid else ''}: verdict ours {ov} saxon {sv}; "
              f"only ours: {only_ours}; only saxon: {only_saxon}" + (f"; dynamic errors in Saxon: {errors}" if errors else ""))
    valid = sum(1 for f in files if ours.get(str(f), (0, 0, 0, False))[3])
    print(f"{len(files)} files ({valid} schema-valid), {len(diffs)} differing "
          f"({sum(1 for d in diffs if d[6])} of them schema-valid); saxon {ss:.1f} s, ours {os_:.1f} s")
    return 1 if diffs else 0


def minimise(args):
    parser = etree.XMLParser(remove_blank_text=False)
    tree = etree.parse(args.minimise, parser)
    out = Path(args.out or tempfile.mkdtemp(prefix="minimise-"))
    out.mkdir(parents=True, exist_ok=True)
    build(args)

    def sides(results):
        # (ids only ours fired, ids only Saxon fired), "verdict" on the side that rejects alone
        saxon, ours = results
        return {f: (sorted(ours[f][1] - saxon[f][1]) + (["verdict"] if ours[f][0] == "reject" != saxon[f][0] else []),
                    sorted(saxon[f][1] - ours[f][1]) + (["verdict"] if saxon[f][0] == "reject" != ours[f][0] else []))
                for f in saxon}

    def check(trees):
        files = []
        for i, t in enumerate(trees):
            f = out / f"c{i:04d}.xml"
            write(t, f)
            files.append(f)
        saxon, ours, _, _ = run_both(args, files, out)
        s = sides((saxon, ours))
        return [args.rule in s[str(f)][side] for f in files]

    write(tree, out / "c0000.xml")
    s0 = sides(run_both(args, [out / "c0000.xml"], out)[:2])[str(out / "c0000.xml")]
    side = 0 if args.rule in s0[0] else 1
    if args.rule not in s0[side]:
        print(f"{args.rule} is not in the difference of {args.minimise}: {s0}")
        return 1
    while True:
        els = elements(tree.getroot())
        candidates = []
        for i, el in enumerate(els):
            t = copy.deepcopy(tree)
            victim = elements(t.getroot())[i]
            victim.getparent().remove(victim)
            candidates.append((len(list(el.iter())), i, t))
        if not candidates:
            break
        ok = check([c[2] for c in candidates])
        keep = sorted([c for c, k in zip(candidates, ok) if k], key=lambda c: -c[0])
        if not keep:
            break
        # try all kept removals at once (outermost first), else the largest one
        combined = copy.deepcopy(tree)
        all_elements = elements(combined.getroot())
        removed = set()
        for _, i, _ in keep:
            victim = all_elements[i]
            if not any(a in removed for a in victim.iterancestors()):
                victim.getparent().remove(victim)
                removed.add(victim)
        if check([combined])[0]:
            tree = combined
        else:
            tree = keep[0][2]
        print(f"{len(elements(tree.getroot()))} elements left", file=sys.stderr)
    write(tree, out / "minimal.xml")
    print((out / "minimal.xml").read_text(encoding="utf-8"))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--out", help="directory for the mutants (default: a new temp dir)")
    parser.add_argument("--mutations", type=int, help="1 to this many mutations per mutant (default: 1, 2, 3 or 5)")
    parser.add_argument("--operators", type=lambda t: t.split(","), default=OPERATORS,
                        help="comma-separated mutation kinds to draw from (default: all): " + ", ".join(sorted(set(OPERATORS))))
    parser.add_argument("--saxon-python", default=SAXON_PYTHON)
    parser.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "/var/tmp/kreishaus-target-diff"))
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--minimise", help="a differing mutant to shrink")
    parser.add_argument("--rule", help="with --minimise: the rule id that must stay in the difference "
                        "('verdict': the verdicts must stay different)")
    parser.add_argument("--as-is", action="store_true", help="compare the files themselves, not mutants of them")
    parser.add_argument("files", nargs="*", help="seed files (default: the test data)")
    args = parser.parse_args()
    if args.minimise:
        return minimise(args)
    return as_is(args) if args.as_is else fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
