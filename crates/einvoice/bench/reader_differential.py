#!/usr/bin/env python3
"""Differential testing of the secure reader's well-formedness decisions against libxml2 (lxml)
and, when a JDK is installed, against the JDK's Xerces configured as the KoSIT validator
configures it.

Takes seed invoices (by default the XML files of the XRechnung test suite and the CEN UBL and CII
examples in ../shared/testdata/einvoice), writes byte-level and lexical mutants of them aimed at
the well-formedness rules of XML 1.0 (fifth edition) and Namespaces in XML 1.0 (the XML
declaration and its encoding spellings, byte-order marks, invalid UTF-8, control and
non-characters, character and entity references, `]]>`, CDATA, comments, processing
instructions, DOCTYPE, duplicate and namespace-duplicate attributes, unbound or misused prefixes,
unquoted attributes, `<` in attribute values, tags that do not match, content after the root,
line ends, long names, deep nesting, ...) into a directory, and records three decisions per
mutant, well-formed or not:

* lxml: `etree.fromstring(bytes)` with recover=False, resolve_entities=False, no_network=True,
  load_dtd=False, huge_tree=True (so libxml2's own depth and size limits stay out of the way);
* ours: `einvoice::reader::decode(bytes, DEFAULT_MAX_BYTES)` and `reader::parse_xml`, through the
  throwaway example `readerdiff` (prints one JSON line {"file","ok","error"} per file);
* Xerces (unless --no-xerces or no `java` on PATH): the JDK's SAX parser, namespace aware, with
  secure processing on, DOCTYPE disallowed and external DTDs and entities off, as the KoSIT
  validator's Saxon asks for it; a fatal error or an error refuses (Saxon refuses the document
  after either). Run from XERCES_JAVA below by `java XercesCheck.java` (a single-file program,
  written to a temp dir).

It prints every mutant where our decision differs from lxml's, grouped by cause (mutation class,
the two decisions, our message without numbers), with Xerces's decision beside it; then every
mutant where ours differs from Xerces's; then a summary per mutation class.

    python3 crates/einvoice/bench/reader_differential.py [--seed 0] [--per-mutation 4] [--out DIR]
        [--only CLASS,...] [--table] [--no-xerces] [--no-build] [SEED.xml ...]
    python3 crates/einvoice/bench/reader_differential.py --as-is FILE ...

    python3 crates/einvoice/bench/reader_differential.py --jdk-encodings

The second form compares the files themselves, unchanged. The third prints the list of encoding
labels reader.rs accepts for ASCII content (`OTHER_ASCII_ENCODINGS`) from the installed JDK.

Needs lxml (`pip install lxml`) and the example `crates/einvoice/examples/readerdiff.rs` (written
from READERDIFF_RS below when missing; examples/ is not committed), built with
`cargo build --release -p einvoice --example readerdiff` (done here unless --no-build; the binary
is taken from $CARGO_TARGET_DIR, default /var/tmp/kreishaus-target-readerdiff).
"""
import argparse
import codecs
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
from differential import EXAMPLE_HELPERS, EXAMPLE_LINTS, TESTDATA, build_example  # noqa: E402

XML_NS = "http://www.w3.org/XML/1998/namespace"
XMLNS_NS = "http://www.w3.org/2000/xmlns/"
UMLAUTS = "Müller Straße 5 € „Zahlung“ Œuvre Š"

READERDIFF_RS = EXAMPLE_LINTS + r"""//! Throwaway (not committed; written by bench/reader_differential.py): reads files with
//! `reader::decode` and `reader::parse_xml` and prints one JSON line {"file","ok","error"} per
//! file. Arguments: files, or @LIST with one path per line.
use einvoice::reader;

""" + EXAMPLE_HELPERS + r"""
fn main() {
    let files = files();
    let mut o = std::io::BufWriter::new(std::io::stdout());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let result =
            reader::decode(&bytes, reader::DEFAULT_MAX_BYTES).and_then(|text| reader::parse_xml(&text).map(|_| ()));
        let error = match &result {
            Ok(()) => "null".to_string(),
            Err(e) => json_str(&e.to_string()),
        };
        writeln!(o, "{{\"file\":{},\"ok\":{},\"error\":{}}}", json_str(f), result.is_ok(), error).unwrap();
    }
}
"""

XERCES_JAVA = r"""
import java.io.*;
import java.nio.file.*;
import javax.xml.XMLConstants;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.*;
import org.xml.sax.helpers.DefaultHandler;

/** One path per line on stdin; prints path TAB ok|no TAB message. */
public class XercesCheck {
    public static void main(String[] args) throws Exception {
        SAXParserFactory f = SAXParserFactory.newInstance();
        f.setNamespaceAware(true);
        f.setValidating(false);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        f.setFeature("http://xml.org/sax/features/external-general-entities", false);
        f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            final StringBuilder err = new StringBuilder();
            try {
                XMLReader r = f.newSAXParser().getXMLReader();
                r.setErrorHandler(new ErrorHandler() {
                    public void warning(SAXParseException e) {}
                    public void error(SAXParseException e) {
                        if (err.length() == 0) err.append("(error) " + e.getMessage());
                    }
                    public void fatalError(SAXParseException e) throws SAXException { throw e; }
                });
                r.setContentHandler(new DefaultHandler());
                try (InputStream s = new BufferedInputStream(Files.newInputStream(Paths.get(line)))) {
                    InputSource src = new InputSource(s);
                    src.setSystemId(Paths.get(line).toUri().toString());
                    r.parse(src);
                }
            } catch (Throwable e) {
                if (err.length() == 0) err.append(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            String msg = err.toString().replace('\n', ' ').replace('\t', ' ');
            out.println(line + "\t" + (err.length() == 0 ? "ok" : "no") + "\t" + msg);
        }
    }
}
"""

# Prints every encoding label the JDK's Xerces accepts in an XML declaration (the names of its
# IANA table and the JDK's charset names and aliases; Xerces asks the JDK for names outside its
# table), tab-separated with the JDK charset and "A" if the charset reads the ASCII bytes an XML
# document is made of (tab, line feed, carriage return, space to tilde) as ASCII, "X" if not.
CHARSETS_JAVA = r"""
import java.lang.reflect.Field;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class Charsets {
    public static void main(String[] args) throws Exception {
        byte[] ascii = new byte[98];
        int k = 0;
        ascii[k++] = 9; ascii[k++] = 10; ascii[k++] = 13;
        for (int b = 0x20; b < 0x7f; b++) ascii[k++] = (byte) b;
        ascii = Arrays.copyOf(ascii, k);
        String expect = new String(ascii, StandardCharsets.ISO_8859_1);
        Map<String, String> labels = new TreeMap<>();
        for (Charset c : Charset.availableCharsets().values()) {
            labels.put(c.name(), c.name());
            for (String a : c.aliases()) labels.put(a, c.name());
        }
        Class<?> map = Class.forName("com.sun.org.apache.xerces.internal.util.EncodingMap");
        Field f = map.getDeclaredField("fIANA2JavaMap");
        f.setAccessible(true);
        for (Map.Entry<?, ?> e : ((Map<?, ?>) f.get(null)).entrySet()) {
            String java = (String) e.getValue();
            labels.put((String) e.getKey(), Charset.isSupported(java) ? Charset.forName(java).name() : "?");
        }
        for (Map.Entry<String, String> e : labels.entrySet()) {
            String compat = "X";
            if (!e.getValue().equals("?")) {
                Charset c = Charset.forName(e.getValue());
                try {
                    if (c.canEncode() && new String(ascii, c).equals(expect)) compat = "A";
                } catch (Exception ignored) {
                }
            }
            System.out.println(e.getKey() + "\t" + e.getValue() + "\t" + compat);
        }
    }
}
"""

# The families reader.rs decodes itself (by their JDK charset): left out of the generated list.
DECODED_CHARSETS = {"UTF-8", "ISO-8859-1", "ISO-8859-15", "windows-1252", "US-ASCII"}


def jdk_encodings():
    """Prints the Rust constant `OTHER_ASCII_ENCODINGS` of reader.rs: the lower-case labels of the
    ASCII-compatible JDK charsets reader.rs does not decode itself, valid as XML EncName."""
    java = shutil.which("java") or sys.exit("needs java (a JDK) on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "Charsets.java"
        src.write_text(CHARSETS_JAVA, encoding="utf-8")
        out = subprocess.run([java, "--add-opens", "java.xml/com.sun.org.apache.xerces.internal.util=ALL-UNNAMED",
                              str(src)], capture_output=True, text=True, check=True).stdout
        version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    names = set()
    for line in out.splitlines():
        label, charset, compat = line.split("\t")
        if compat == "A" and charset not in DECODED_CHARSETS and re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]*", label):
            names.add(label.lower())
    lines, line = [], ""
    for n in sorted(names):
        if len(line) + len(n) + 1 > 100:
            lines.append(line)
            line = ""
        line += (" " if line else "") + n
    lines.append(line)
    print(f"// {len(names)} labels, from {version}: python3 crates/einvoice/bench/reader_differential.py --jdk-encodings")
    print('const OTHER_ASCII_ENCODINGS: &str = "\\')
    for ln in lines:
        print(ln + " \\")
    print('";')


# --------------------------------------------------------------------------------------------
# Seeds


def default_seeds():
    seeds = sorted(p for p in (TESTDATA / "xrechnung-testsuite").rglob("*") if p.suffix.lower() == ".xml")
    for d in ["en16931-cen/ubl/examples", "en16931-cen/cii/examples"]:
        seeds += sorted(p for p in (TESTDATA / d).rglob("*") if p.suffix.lower() == ".xml")
    return seeds


class Seed:
    """A seed invoice as text (UTF-8, without BOM) with the places mutations go to."""

    DECL = re.compile(r"\A<\?xml[^>]*\?>")
    TEXT = re.compile(r">([^<>&]*[^\s<>&][^<>&]*)</")
    START = re.compile(r"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)(?=[\s/>])")
    ATTR = re.compile(r"\s([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)=(\"[^\"<]*\"|'[^'<]*')")
    END = re.compile(r"</([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)\s*>")

    def __init__(self, path, text):
        self.path = path
        self.name = Path(path).stem
        self.text = text
        m = self.DECL.match(text)
        self.decl = m.group(0) if m else ""
        self.body = text[m.end():] if m else text
        self.prolog_end = m.end() if m else 0
        starts = [m for m in self.START.finditer(text) if m.start() >= self.prolog_end]
        self.root = starts[0]
        self.root_name = self.root.group(1)
        self.prefix = self.root_name.split(":")[0] + ":" if ":" in self.root_name else ""
        self.root_close = text.rindex("</" + self.root_name)
        self.inner_starts = starts[1:]
        self.texts = [m for m in self.TEXT.finditer(text) if m.start() > self.root.start()]
        self.attrs = [m for m in self.ATTR.finditer(text) if m.start() > self.root.start()
                      and not m.group(1).startswith("xmlns")]
        self.ends = [m for m in self.END.finditer(text) if m.start() < self.root_close]
        self.tag_ends = [m.start() for m in re.finditer(r">", text) if self.root.start() < m.start() < self.root_close]


def load_seeds(paths):
    seeds = []
    for p in paths:
        data = Path(p).read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
            seeds.append(Seed(str(p), text))
        except (UnicodeDecodeError, ValueError, IndexError):
            print(f"skipping seed {p}: not a UTF-8 document this script understands", file=sys.stderr)
    return seeds


# --------------------------------------------------------------------------------------------
# Mutation helpers: each returns the new text (str) or bytes.


def u8(s):
    return s.encode("utf-8") if isinstance(s, str) else s


def splice(seed, pos, payload, cut=0):
    """seed text with payload (str or bytes) at pos, replacing cut characters."""
    if isinstance(payload, bytes):
        return u8(seed.text[:pos]) + payload + u8(seed.text[pos + cut:])
    return seed.text[:pos] + payload + seed.text[pos + cut:]


def in_text(payload):
    def f(seed, rng):
        if not seed.texts:
            return None
        m = rng.choice(seed.texts)
        pos = rng.randint(m.start(1), m.end(1))
        return splice(seed, pos, payload)
    return f


def in_attr(payload):
    def f(seed, rng):
        if not seed.attrs:
            return None
        m = rng.choice(seed.attrs)
        pos = rng.randint(m.start(2) + 1, m.end(2) - 1)
        return splice(seed, pos, payload)
    return f


def new_attr(attrs, root=False):
    """Inserts ' attrs' after the name of a start tag (the root or another one)."""
    def f(seed, rng):
        m = seed.root if root or not seed.inner_starts else rng.choice(seed.inner_starts)
        return splice(seed, m.end(), b" " + u8(attrs) if isinstance(attrs, bytes) else " " + attrs)
    return f


def between_elements(payload):
    """payload as content of the root or a child, right after an end tag."""
    def f(seed, rng):
        if not seed.ends:
            return None
        m = rng.choice(seed.ends)
        return splice(seed, m.end(), payload)
    return f


def before_root(payload):
    return lambda seed, rng: splice(seed, seed.root.start(), payload)


def after_root(payload):
    return lambda seed, rng: seed.text + payload if isinstance(payload, str) else u8(seed.text) + payload


def at_start(payload):
    return lambda seed, rng: payload + seed.text if isinstance(payload, str) else payload + u8(seed.text)


def with_decl(decl, body_transform=None):
    """Replaces the XML declaration (None: removes it)."""
    def f(seed, rng):
        body = seed.body.lstrip("\r\n") if decl is None else seed.body
        if body_transform:
            body = body_transform(body)
        return (decl or "") + body
    return f


def sub_root_name(fn):
    """Applies fn(name) to the name of a random child element (start and end tag)."""
    def f(seed, rng):
        cands = [m for m in seed.ends]
        if not cands:
            return None
        end = rng.choice(cands)
        name = end.group(1)
        start = seed.text.rfind("<" + name, 0, end.start())
        while start >= 0 and seed.text[start + 1 + len(name)] not in " \t\r\n/>":
            start = seed.text.rfind("<" + name, 0, start)
        if start < 0:
            return None
        new = fn(name)
        t = seed.text
        return t[:start + 1] + new + t[start + 1 + len(name):end.start() + 2] + new + t[end.start() + 2 + len(name):]
    return f


def element(content):
    """content as a new element inside the root (after an end tag); content may use {p} for the
    root's prefix."""
    def f(seed, rng):
        if not seed.ends:
            return None
        m = rng.choice(seed.ends)
        if isinstance(content, bytes):
            return splice(seed, m.end(), content)
        return splice(seed, m.end(), content.replace("{p}", seed.prefix))
    return f


def encode_doc(decl, codec, bom=b"", umlauts=True):
    """The seed with decl, the text (plus umlauts in a text node) encoded with codec."""
    def f(seed, rng):
        body = seed.body
        if umlauts and seed.texts:
            m = rng.choice(seed.texts)
            t = seed.text
            body = (t[:m.end(1)] + " " + UMLAUTS + t[m.end(1):])[seed.prolog_end:]
        text = (decl or "") + body
        return bom + text.encode(codec, "xmlcharrefreplace")
    return f


def truncate(seed, rng):
    data = u8(seed.text)
    return data[:rng.randint(1, len(data) - 1)]


def deep(levels):
    def f(seed, rng):
        if not seed.ends:
            return None
        m = rng.choice(seed.ends)
        return splice(seed, m.end(), "<d>" * levels + "x" + "</d>" * levels)
    return f


def crlf(kind):
    def f(seed, rng):
        t = seed.text.replace("\r\n", "\n")
        if kind == "crlf":
            return t.replace("\n", "\r\n")
        if kind == "cr":
            return t.replace("\n", "\r")
        return "".join(c if c != "\n" else rng.choice(["\n", "\r\n", "\r"]) for c in t)
    return f


def all_text(fn):
    """Applies fn to every text node's content."""
    def f(seed, rng):
        return Seed.TEXT.sub(lambda m: ">" + fn(m.group(1)) + "</", seed.text)
    return f


def utf16(codec, bom, decl):
    def f(seed, rng):
        text = (decl + seed.body) if decl is not None else seed.body.lstrip("\r\n")
        if seed.texts:
            m = rng.choice(seed.texts)
            text = text.replace(m.group(0), ">" + m.group(1) + " " + UMLAUTS + "</", 1)
        return bom + text.encode(codec)
    return f


# --------------------------------------------------------------------------------------------
# The catalogue: (class, label, function)


def catalogue():
    M = []

    def add(cls, label, fn):
        M.append((cls, label, fn))

    # XML declaration
    decls = {
        "none": None,
        "version 1.0 only": '<?xml version="1.0"?>',
        "version 1.1": '<?xml version="1.1" encoding="UTF-8"?>',
        "version 1.2": '<?xml version="1.2"?>',
        "version 2.0": '<?xml version="2.0"?>',
        "version 1": '<?xml version="1"?>',
        "version '1.0 '": '<?xml version="1.0 "?>',
        "version missing": '<?xml encoding="UTF-8"?>',
        "single quotes": "<?xml version='1.0' encoding='UTF-8'?>",
        "mixed quotes": "<?xml version=\"1.0' encoding='UTF-8'?>",
        "standalone yes": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        "standalone no": '<?xml version="1.0" standalone="no"?>',
        "standalone maybe": '<?xml version="1.0" encoding="UTF-8" standalone="maybe"?>',
        "standalone YES": '<?xml version="1.0" standalone="YES"?>',
        "standalone before encoding": '<?xml version="1.0" standalone="yes" encoding="UTF-8"?>',
        "encoding before version": '<?xml encoding="UTF-8" version="1.0"?>',
        "unknown pseudo-attribute": '<?xml version="1.0" foo="bar"?>',
        "no space between": '<?xml version="1.0"encoding="UTF-8"?>',
        "spaces around =": '<?xml version = "1.0" encoding = "UTF-8" ?>',
        "tab after xml": '<?xml\tversion="1.0" encoding="UTF-8"?>',
        "newline after xml": '<?xml\nversion="1.0"\nencoding="UTF-8"\n?>',
        "CR LF inside": '<?xml version="1.0"\r\nencoding="UTF-8"?>',
        "upper-case XML": '<?XML version="1.0" encoding="UTF-8"?>',
        "mixed-case Xml": '<?Xml version="1.0"?>',
        "empty <?xml?>": "<?xml?>",
        "<?xml ?>": "<?xml ?>",
        "unterminated": '<?xml version="1.0" encoding="UTF-8">',
        "version upper-case VERSION": '<?xml VERSION="1.0"?>',
        "space before ?>": '<?xml version="1.0" encoding="UTF-8"  ?>',
        "duplicate version": '<?xml version="1.0" version="1.0"?>',
    }
    for label, decl in decls.items():
        add("decl", label, with_decl(decl))
    add("decl-position", "space before decl", at_start(" "))
    add("decl-position", "newline before decl", at_start("\n"))
    add("decl-position", "comment before decl", at_start("<!-- x -->"))
    add("decl-position", "PI before decl", at_start("<?foo bar?>"))
    add("decl-position", "BOM then space before decl", at_start(b"\xef\xbb\xbf "))
    add("decl-position", "decl twice", lambda s, r: s.decl + s.text if s.decl else None)
    add("decl-position", "decl inside root", between_elements('<?xml version="1.0"?>'))
    add("decl-position", "decl after root", after_root('<?xml version="1.0"?>'))
    add("decl-position", "decl with tab inside root", between_elements('<?xml\tversion="1.0"?>'))
    add("decl-position", "decl after a comment, no decl before", with_decl("<!-- c --><?xml version=\"1.0\"?>"))

    # Encoding declarations: spelling x bytes
    spellings = ["UTF-8", "utf-8", "utf8", "UTF8", "Utf-8", "UTF-8 ", " UTF-8", "UTF_8", "unicode-1-1-utf-8", "",
                 "ISO-8859-1", "iso-8859-1", "latin1", "LATIN1", "latin-1", "l1", "ISO_8859-1", "ISO8859-1",
                 "ISO8859_1", "8859_1", "ISO_8859-1:1987", "cp819", "IBM819", "csISOLatin1", "iso-ir-100",
                 "ISO-8859-15", "iso-8859-15", "ISO_8859-15", "LATIN-9", "latin9", "Latin-9", "ISO8859-15", "L9",
                 "csISOlatin9", "US-ASCII", "us-ascii", "ASCII", "ascii", "ISO646-US", "ANSI_X3.4-1968",
                 "windows-1252", "Windows-1252", "WINDOWS-1252", "Cp1252", "cp1252", "CP1252", "ibm-1252",
                 "windows-1250", "ISO-8859-2", "KOI8-R", "Shift_JIS", "UTF-16", "UTF-16LE", "UTF-16BE", "UTF-32",
                 "UCS-2", "ISO-10646-UCS-2", "IBM037", "EBCDIC-CP-US", "EBCDIC", "x-unknown", "foo", "UTF-7"]
    python_codec = {"UTF-8 ": "utf-8", " UTF-8": "utf-8", "UTF_8": "utf-8", "unicode-1-1-utf-8": "utf-8",
                    "ISO8859_1": "latin-1", "8859_1": "latin-1", "ISO_8859-1:1987": "latin-1", "IBM819": "latin-1",
                    "csISOLatin1": "latin-1", "iso-ir-100": "latin-1", "LATIN-9": "iso8859-15",
                    "Latin-9": "iso8859-15", "latin9": "iso8859-15", "L9": "iso8859-15", "csISOlatin9": "iso8859-15",
                    "ISO8859-15": "iso8859-15", "ISO646-US": "ascii", "ANSI_X3.4-1968": "ascii",
                    "ibm-1252": "cp1252", "EBCDIC-CP-US": "cp037"}
    for sp in spellings:
        decl = f'<?xml version="1.0" encoding="{sp}"?>'
        add("encoding", f"{sp!r}, ASCII bytes", encode_doc(decl, "ascii", umlauts=False))
        add("encoding", f"{sp!r}, UTF-8 bytes with umlauts", encode_doc(decl, "utf-8"))
        codec = python_codec.get(sp, sp.strip())
        try:
            name = codecs.lookup(codec).name
        except LookupError:
            continue
        if name not in ("utf-8", "ascii") and not name.startswith(("utf-16", "utf-32")):
            add("encoding", f"{sp!r}, {name} bytes with umlauts", encode_doc(decl, name))
    # bytes a single-byte encoding leaves undefined or maps differently
    for sp, raw in [("windows-1252", b"\x81"), ("windows-1252", b"\x8d\x8f\x90\x9d"), ("Cp1252", b"\x81"),
                    ("ISO-8859-1", b"\x80\x9f"), ("ISO-8859-15", b"\xa4\xbc"), ("US-ASCII", b"\xe4"),
                    ("ASCII", b"\x80"), ("utf8", b"\xff"), ("UTF8", b"\xc3"), ("UTF-8", b"\xff"),
                    ("ISO-8859-2", b"\xe4")]:
        add("encoding", f"{sp!r} with raw bytes {raw.hex()}",
            lambda s, r, sp=sp, raw=raw: (f'<?xml version="1.0" encoding="{sp}"?>' + s.body).encode("ascii", "xmlcharrefreplace")
            .replace(b"</", raw + b"</", 1) if s.texts else None)

    # Byte-order marks and UTF-16/32
    bom8 = b"\xef\xbb\xbf"
    add("bom", "UTF-8 BOM, decl UTF-8", lambda s, r: bom8 + u8(s.text))
    add("bom", "UTF-8 BOM, no decl", lambda s, r: bom8 + u8(s.body.lstrip()))
    add("bom", "UTF-8 BOM twice", lambda s, r: bom8 + bom8 + u8(s.text))
    add("bom", "UTF-8 BOM, decl ISO-8859-1, UTF-8 bytes", encode_doc('<?xml version="1.0" encoding="ISO-8859-1"?>', "utf-8", bom8))
    add("bom", "UTF-8 BOM, decl ISO-8859-1, latin-1 bytes", encode_doc('<?xml version="1.0" encoding="ISO-8859-1"?>', "latin-1", bom8))
    add("bom", "UTF-8 BOM, decl windows-1252, ASCII bytes", encode_doc('<?xml version="1.0" encoding="windows-1252"?>', "ascii", bom8, False))
    add("bom", "UTF-8 BOM, decl UTF-16", encode_doc('<?xml version="1.0" encoding="UTF-16"?>', "utf-8", bom8))
    add("bom", "U+FEFF in text", in_text("\ufeff"))
    add("bom", "U+FEFF before root", before_root("\ufeff"))
    add("bom", "U+FEFF after decl", lambda s, r: s.decl + "\ufeff" + s.body if s.decl else None)
    le, be = b"\xff\xfe", b"\xfe\xff"
    add("utf16", "LE BOM, decl UTF-16", utf16("utf-16-le", le, '<?xml version="1.0" encoding="UTF-16"?>'))
    add("utf16", "BE BOM, decl UTF-16", utf16("utf-16-be", be, '<?xml version="1.0" encoding="UTF-16"?>'))
    add("utf16", "LE BOM, decl utf-16", utf16("utf-16-le", le, '<?xml version="1.0" encoding="utf-16"?>'))
    add("utf16", "LE BOM, decl UTF-16LE", utf16("utf-16-le", le, '<?xml version="1.0" encoding="UTF-16LE"?>'))
    add("utf16", "BE BOM, decl UTF-16BE", utf16("utf-16-be", be, '<?xml version="1.0" encoding="UTF-16BE"?>'))
    add("utf16", "LE BOM, decl UTF-16BE", utf16("utf-16-le", le, '<?xml version="1.0" encoding="UTF-16BE"?>'))
    add("utf16", "LE BOM, no decl", utf16("utf-16-le", le, None))
    add("utf16", "BE BOM, no decl", utf16("utf-16-be", be, None))
    add("utf16", "LE BOM, decl without encoding", utf16("utf-16-le", le, '<?xml version="1.0"?>'))
    add("utf16", "LE BOM, decl UTF-8", utf16("utf-16-le", le, '<?xml version="1.0" encoding="UTF-8"?>'))
    add("utf16", "LE BOM, decl ISO-8859-1", utf16("utf-16-le", le, '<?xml version="1.0" encoding="ISO-8859-1"?>'))
    add("utf16", "LE BOM, decl UCS-2", utf16("utf-16-le", le, '<?xml version="1.0" encoding="ISO-10646-UCS-2"?>'))
    add("utf16", "no BOM LE, decl UTF-16LE", utf16("utf-16-le", b"", '<?xml version="1.0" encoding="UTF-16LE"?>'))
    add("utf16", "no BOM BE, decl UTF-16BE", utf16("utf-16-be", b"", '<?xml version="1.0" encoding="UTF-16BE"?>'))
    add("utf16", "no BOM LE, decl UTF-16", utf16("utf-16-le", b"", '<?xml version="1.0" encoding="UTF-16"?>'))
    add("utf16", "no BOM BE, decl UTF-16", utf16("utf-16-be", b"", '<?xml version="1.0" encoding="UTF-16"?>'))
    add("utf16", "no BOM LE, no decl", utf16("utf-16-le", b"", None))
    add("utf16", "no BOM LE, decl without encoding", utf16("utf-16-le", b"", '<?xml version="1.0"?>'))
    add("utf16", "no BOM LE, decl UTF-16BE", utf16("utf-16-le", b"", '<?xml version="1.0" encoding="UTF-16BE"?>'))
    add("utf16", "no BOM LE, decl UTF-8", utf16("utf-16-le", b"", '<?xml version="1.0" encoding="UTF-8"?>'))
    add("utf16", "no BOM BE, decl UCS-2", utf16("utf-16-be", b"", '<?xml version="1.0" encoding="ISO-10646-UCS-2"?>'))
    add("utf16", "BE BOM, decl UCS-2", utf16("utf-16-be", be, '<?xml version="1.0" encoding="ISO-10646-UCS-2"?>'))
    add("utf16", "BE BOM, decl UTF-16LE", utf16("utf-16-be", be, '<?xml version="1.0" encoding="UTF-16LE"?>'))
    add("utf16", "LE BOM, version 1.2", utf16("utf-16-le", le, '<?xml version="1.2" encoding="UTF-16"?>'))
    add("utf16", "BE BOM, second BOM", lambda s, r: be + ("\ufeff" + s.text).encode("utf-16-be"))
    add("utf16", "LE BOM, lone surrogate", lambda s, r: le + (s.text.replace("</", "\ud800</", 1)).encode("utf-16-le", "surrogatepass"))
    add("utf16", "LE BOM, odd length", lambda s, r: le + s.text.encode("utf-16-le") + b"\x00")
    add("utf16", "LE BOM, BOM twice", lambda s, r: le + le + s.text.encode("utf-16-le"))
    add("utf16", "UTF-32LE BOM, decl UTF-32", utf16("utf-32-le", b"\xff\xfe\x00\x00", '<?xml version="1.0" encoding="UTF-32"?>'))
    add("utf16", "UTF-32BE BOM, decl UTF-32", utf16("utf-32-be", b"\x00\x00\xfe\xff", '<?xml version="1.0" encoding="UTF-32"?>'))

    # Invalid UTF-8 (no declared encoding or UTF-8)
    bad = {"lone continuation 80": b"\x80", "lone continuation bf": b"\xbf", "truncated c3": b"\xc3",
           "truncated e2 82": b"\xe2\x82", "ff": b"\xff", "fe": b"\xfe", "overlong c0 80 (NUL)": b"\xc0\x80",
           "overlong c1 bf": b"\xc1\xbf", "overlong e0 80 80": b"\xe0\x80\x80", "overlong e0 80 bc (<)": b"\xe0\x80\xbc",
           "overlong f0 80 80 80": b"\xf0\x80\x80\x80", "surrogate ed a0 80": b"\xed\xa0\x80",
           "surrogate ed bf bf": b"\xed\xbf\xbf", "surrogate pair as UTF-8": b"\xed\xa0\xbd\xed\xb8\x80",
           "above U+10FFFF f4 90 80 80": b"\xf4\x90\x80\x80", "f5 80 80 80": b"\xf5\x80\x80\x80",
           "5-byte f8 88 80 80 80": b"\xf8\x88\x80\x80\x80"}
    for label, raw in bad.items():
        add("utf8", f"{label} in text", in_text(raw))
        add("utf8", f"{label} in attribute", in_attr(raw))
    add("utf8", "c3 in comment", between_elements(b"<!-- \xc3 -->"))
    add("utf8", "ed a0 80 in element name", element(b"<a\xed\xa0\x80b/>"))
    add("utf8", "truncated at end e2 82", after_root(b"\n\xe2\x82"))
    add("utf8", "invalid byte, decl UTF-8", lambda s, r: u8(s.text).replace(b"</", b"\xff</", 1))

    # Characters
    for c in [0x01, 0x08, 0x0B, 0x0C, 0x0E, 0x1B, 0x1F]:
        add("char", f"C0 U+{c:04X} in text", in_text(chr(c)))
        add("char", f"C0 U+{c:04X} in attribute", in_attr(chr(c)))
    add("char", "NUL byte in text", in_text(b"\x00"))
    add("char", "NUL byte in attribute", in_attr(b"\x00"))
    for c, name in [(0x7F, "DEL"), (0x80, "C1 PAD"), (0x85, "NEL"), (0x9F, "C1 APC"), (0x2028, "LS"),
                    (0xFFFE, "U+FFFE"), (0xFFFF, "U+FFFF"), (0xFFFD, "U+FFFD"), (0xFDD0, "U+FDD0"),
                    (0x1FFFF, "U+1FFFF"), (0x10FFFF, "U+10FFFF"), (0xE000, "private use")]:
        add("char", f"{name} in text", in_text(chr(c)))
        add("char", f"{name} in attribute", in_attr(chr(c)))
    for c in [0x01, 0xFFFE, 0xFFFF]:
        add("char", f"U+{c:04X} in comment", between_elements(f"<!-- {chr(c)} -->"))
        add("char", f"U+{c:04X} in PI", between_elements(f"<?pi {chr(c)}?>"))
        add("char", f"U+{c:04X} in CDATA", in_text(f"<![CDATA[{chr(c)}]]>"))
    add("char", "U+FFFE in element name", element("<a\ufffeb/>"))
    add("char", "C1 U+0085 in text, version 1.1", lambda s, r: '<?xml version="1.1"?>' + s.body.replace("</", "\x85</", 1))
    add("char", "C1 U+0080 in text, version 1.1", lambda s, r: '<?xml version="1.1"?>' + s.body.replace("</", "\x80</", 1))
    add("char", "C0 U+0001 in text, version 1.1", lambda s, r: '<?xml version="1.1"?>' + s.body.replace("</", "\x01</", 1))
    add("char", "&#x1; in text, version 1.1", lambda s, r: '<?xml version="1.1"?>' + s.body.replace("</", "&#x1;</", 1))
    add("char", "non-ASCII element name", element("<{p}Übersicht/>"))
    add("char", "name starting with combining mark", element("<\u0301a/>"))
    add("char", "name starting with digit", element("<1a/>"))
    add("char", "name starting with -", element("<-a/>"))
    add("char", "name with middle dot", element("<a\u00b7b/>"))
    add("char", "name starting with middle dot", element("<\u00b7b/>"))
    add("char", "name with U+2070 (XML 1.0 5th ed. NameStartChar)", element("<\u2070a/>"))
    add("char", "name with U+0E33 (only 5th ed.)", element("<\u0e33a/>"))
    add("char", "name with U+FFFD", element("<a\ufffd/>"))

    # Character references
    refs = ["&#x0;", "&#0;", "&#x1;", "&#1;", "&#x8;", "&#xB;", "&#x1F;", "&#x9;", "&#xA;", "&#xD;", "&#x7F;",
            "&#x85;", "&#xFFFE;", "&#xFFFF;", "&#xFFFD;", "&#xD800;", "&#xDFFF;", "&#55296;", "&#x10FFFF;",
            "&#x110000;", "&#1114112;", "&#xFFFFFFFFF;", "&#99999999999999999999;", "&#x;", "&#;", "&#x-1;",
            "&#X41;", "&#65", "&#x 41;", "&#0065;", "&#x0000000041;", "&#x41 ;", "&# 65;", "&#6 5;", "&#xG;",
            "&#x1F600;", "&#128512;"]
    for ref in refs:
        add("charref", f"{ref} in text", in_text(ref))
        add("charref", f"{ref} in attribute", in_attr(ref))

    # Entity references
    ents = ["&undefined;", "&AMP;", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&", "& ", "&amp", "&lt",
            "&123;", "&a b;", "&nbsp;", "&euro;", "&-x;", "&x:y;", "&;", "&&amp;"]
    for e in ents:
        add("entity", f"{e!r} in text", in_text(e))
        add("entity", f"{e!r} in attribute", in_attr(e))

    # ]]>, CDATA
    add("cdata", "]]> in text", in_text("]]>"))
    add("cdata", "]]]> in text", in_text("]]]>"))
    add("cdata", "]]&gt; in text", in_text("]]&gt;"))
    add("cdata", "] ]> in text", in_text("] ]>"))
    add("cdata", "> in text", in_text(">"))
    add("cdata", "]]> in attribute", in_attr("]]>"))
    add("cdata", "CDATA in text", in_text("<![CDATA[a < b & c]]>"))
    add("cdata", "CDATA with ]] inside", in_text("<![CDATA[a]]b]]>"))
    add("cdata", "empty CDATA", in_text("<![CDATA[]]>"))
    add("cdata", "CDATA unterminated", in_text("<![CDATA[abc"))
    add("cdata", "CDATA nested", in_text("<![CDATA[a<![CDATA[b]]>c]]>"))
    add("cdata", "CDATA lower-case", in_text("<![cdata[x]]>"))
    add("cdata", "CDATA before root", before_root("<![CDATA[x]]>"))
    add("cdata", "CDATA after root", after_root("<![CDATA[x]]>"))
    add("cdata", "CDATA with CR LF", in_text("<![CDATA[a\r\nb\rc]]>"))
    add("cdata", "CDATA between elements", between_elements("<![CDATA[x]]>"))

    # Comments
    for label, c in [("plain", "<!-- x -->"), ("with --", "<!-- a -- b -->"), ("ending --->", "<!-- a --->"),
                     ("<!---->", "<!---->"), ("<!-- - -->", "<!-- - -->"), ("<!--->", "<!--->"), ("<!-->", "<!-->"),
                     ("unterminated", "<!-- x"), ("<!- x ->", "<!- x ->"), ("with <", "<!-- <a> & -->"),
                     ("with ]]>", "<!-- ]]> -->"), ("<!--x-->", "<!--x-->")]:
        add("comment", f"comment {label} inside root", between_elements(c))
        add("comment", f"comment {label} in text", in_text(c))
    add("comment", "comment before root", before_root("<!-- c -->"))
    add("comment", "comment with -- before root", before_root("<!-- a -- b -->"))
    add("comment", "comment after root", after_root("\n<!-- c -->\n"))
    add("comment", "comment inside a tag", new_attr("<!-- c -->"))

    # Processing instructions
    for label, pi in [("plain", "<?pi data?>"), ("no data", "<?pi?>"), ("target xml-stylesheet", '<?xml-stylesheet href="a.xsl"?>'),
                      ("target xmlfoo", "<?xmlfoo x?>"), ("target XML", "<?XML x?>"), ("target xml", "<?xml x?>"),
                      ("target Xml", "<?Xml?>"), ("<?xml?>", "<?xml?>"), ("colon target", "<?p:q x?>"),
                      ("space before target", "<? pi x?>"), ("target starts with digit", "<?1pi x?>"),
                      ("unterminated", "<?pi x"), ("data without space", '<?pi"x"?>'), ("data with ?", "<?pi a?b?>"),
                      ("data with <", "<?pi <a>?>"), ("target only punctuation", "<?-?>"), ("empty", "<??>"),
                      ("CR LF in data", "<?pi a\r\nb?>")]:
        add("pi", f"PI {label} inside root", between_elements(pi))
        add("pi", f"PI {label} before root", before_root(pi))
    add("pi", "PI after root", after_root("<?pi x?>"))
    add("pi", "PI in text", in_text("<?pi x?>"))

    # DOCTYPE
    for label, d in [("plain", "<!DOCTYPE Invoice>"), ("internal subset", '<!DOCTYPE Invoice [<!ENTITY e "x">]>'),
                     ("SYSTEM", '<!DOCTYPE Invoice SYSTEM "invoice.dtd">'),
                     ("PUBLIC", '<!DOCTYPE Invoice PUBLIC "-//X//DTD X//EN" "http://example.org/x.dtd">'),
                     ("empty subset", "<!DOCTYPE Invoice []>"), ("lower-case doctype", "<!doctype Invoice>")]:
        add("doctype", f"DOCTYPE {label} before root", before_root(d + "\n"))
    add("doctype", "DOCTYPE after root", after_root("<!DOCTYPE Invoice>"))
    add("doctype", "DOCTYPE inside root", between_elements("<!DOCTYPE Invoice>"))
    add("doctype", "DOCTYPE twice", before_root("<!DOCTYPE a><!DOCTYPE b>"))
    add("doctype", "ENTITY outside DOCTYPE", before_root('<!ENTITY e "x">'))
    add("doctype", "entity defined in DOCTYPE, used", lambda s, r: s.text[:s.root.start()] + '<!DOCTYPE x [<!ENTITY e "x">]>' + s.text[s.root.start():].replace("</", "&e;</", 1))

    # Attributes
    add("attr", "duplicate attribute", new_attr('dup="1" dup="2"'))
    add("attr", "duplicate attribute, same value", new_attr('dup="1" dup="1"'))
    add("attr", "duplicate expanded name", new_attr('xmlns:p1="urn:x" xmlns:p2="urn:x" p1:a="1" p2:a="2"'))
    add("attr", "prefixed and unprefixed same local", new_attr('xmlns:p1="urn:x" p1:a="1" a="2"'))
    add("attr", "duplicate expanded name, default ns", new_attr('xmlns="urn:x" xmlns:p1="urn:x" p1:a="1" a="2"'))
    add("attr", "duplicate xmlns", new_attr('xmlns:q="urn:a" xmlns:q="urn:b"'))
    add("attr", "duplicate default xmlns", new_attr('xmlns="urn:a" xmlns="urn:b"'))
    add("attr", "duplicate xml:lang", new_attr('xml:lang="de" xml:lang="en"'))
    add("attr", "xml:lang", new_attr('xml:lang="de"'))
    add("attr", "xml:space bad value", new_attr('xml:space="sometimes"'))
    add("attr", "unquoted value", new_attr("a=1"))
    add("attr", "no value", new_attr("a"))
    add("attr", "empty value", new_attr('a=""'))
    add("attr", "< in value", new_attr('a="x<y"'))
    add("attr", "> in value", new_attr('a="x>y"'))
    add("attr", "raw & in value", new_attr('a="x&y"'))
    add("attr", "mismatched quotes", new_attr("a=\"x'"))
    add("attr", "quote of the other kind inside", new_attr("a=\"it's\" b='say \"hi\"'"))
    add("attr", "no space between attributes", new_attr('a="1"b="2"'))
    add("attr", "spaces around =", new_attr('a = "1"'))
    add("attr", "newline around =", new_attr('a\n=\n"1"'))
    add("attr", "name starting with digit", new_attr('1a="1"'))
    add("attr", "name with colon twice", new_attr('xmlns:p1="urn:x" p1:a:b="1"'))
    add("attr", "name :a", new_attr(':a="1"'))
    add("attr", "name a:", new_attr('a:="1"'))
    add("attr", "tab in value", new_attr('a="x\ty"'))
    add("attr", "newline in value", new_attr('a="x\ny"'))
    add("attr", "CR LF in value", new_attr('a="x\r\ny"'))
    add("attr", "CR in value", new_attr('a="x\ry"'))
    add("attr", "&#9;&#10;&#13; in value", new_attr('a="x&#9;&#10;&#13;y"'))
    add("attr", "very long value", new_attr('a="' + "x" * 200_000 + '"'))
    add("attr", "10000 attributes", new_attr(" ".join(f'a{i}="1"' for i in range(10_000)), root=True))
    add("attr", "10001 attributes", new_attr(" ".join(f'a{i}="1"' for i in range(10_001)), root=True))
    add("attr", "10000 attributes on a child", new_attr(" ".join(f'a{i}="1"' for i in range(10_000))))
    add("attr", "9990 attributes and 20 namespace declarations",
        new_attr(" ".join(f'a{i}="1"' for i in range(9_990)) + " " + " ".join(f'xmlns:n{i}="urn:{i}"' for i in range(20))))
    add("attr", "duplicate among 100 attributes", new_attr(" ".join(f'a{i}="1"' for i in range(100)) + ' a50="2"'))
    add("attr", "duplicate expanded name among 100 attributes",
        new_attr('xmlns:p1="urn:x" xmlns:p2="urn:x" ' + " ".join(f'p1:a{i}="1"' for i in range(100)) + ' p2:a7="2"'))
    add("attr", "attribute in end tag", lambda s, r: s.text[:s.root_close] + s.text[s.root_close:].replace(">", ' a="1">', 1))
    add("attr", "attribute on decl-less root, slash before name", new_attr('/a="1"'))

    # Namespaces
    ns_cases = {
        "unbound element prefix": element("<zz:a/>"),
        "unbound attribute prefix": new_attr('zz:a="1"'),
        "prefix bound by a later attribute": element('<p1:a b="1" xmlns:p1="urn:x"/>'),
        "xmlns:p empty": new_attr('xmlns:p1=""'),
        "xmlns:p empty then used": element('<p1:a xmlns:p1=""/>'),
        "xmlns empty (undeclare default)": element('<a xmlns=""/>'),
        "xmlns:xml correct": new_attr(f'xmlns:xml="{XML_NS}"'),
        "xmlns:xml other": new_attr('xmlns:xml="urn:x"'),
        "xmlns:xmlns": new_attr('xmlns:xmlns="urn:x"'),
        "xmlns:xmlns to its namespace": new_attr(f'xmlns:xmlns="{XMLNS_NS}"'),
        "xmlns:p to XML namespace": new_attr(f'xmlns:p1="{XML_NS}"'),
        "xmlns:p to xmlns namespace": new_attr(f'xmlns:p1="{XMLNS_NS}"'),
        "default to XML namespace": element(f'<a xmlns="{XML_NS}"/>'),
        "default to xmlns namespace": element(f'<a xmlns="{XMLNS_NS}"/>'),
        "element prefix xmlns": element('<xmlns:a/>'),
        "element prefix xml": element('<xml:a/>'),
        "attribute xmlns:p without local": new_attr('xmlns:="urn:x"'),
        "prefix starting with xml": new_attr('xmlns:xmlfoo="urn:x" xmlfoo:a="1"'),
        "attribute xml:foo": new_attr('xml:foo="1"'),
        "prefix bound in a sibling only": element('<p1:a xmlns:p1="urn:x"/><p1:b/>'),
        "relative namespace URI": new_attr('xmlns:p1="relative/uri"'),
        "namespace URI with space": new_attr('xmlns:p1="urn:a b"'),
        "namespace URI with char ref": new_attr('xmlns:p1="urn:&#x41;"'),
        "element a:b:c": element('<p1:a:b xmlns:p1="urn:x"/>'),
        "element :a": element("<:a/>"),
        "element a:": element("<a:/>"),
        "end tag other prefix, same namespace": element('<p1:a xmlns:p1="urn:x" xmlns:p2="urn:x"></p2:a>'),
        "rebinding prefix inside": element('<p1:a xmlns:p1="urn:x"><p1:b xmlns:p1="urn:y"/></p1:a>'),
        "xmlns with undeclared prefix xmlns:p with value using entity": new_attr('xmlns:p1="&amp;"'),
    }
    for label, fn in ns_cases.items():
        add("ns", label, fn)

    # Tags and structure
    add("tag", "child renamed in both tags", sub_root_name(lambda n: n + "X"))
    add("tag", "end tag renamed", lambda s, r: (lambda m: s.text[:m.start() + 2] + m.group(1) + "X" + s.text[m.end(1):])(r.choice(s.ends)) if s.ends else None)
    add("tag", "end tag case differs", lambda s, r: (lambda m: s.text[:m.start() + 2] + m.group(1).upper() + s.text[m.end(1):])(r.choice(s.ends)) if s.ends else None)
    add("tag", "end tag removed", lambda s, r: (lambda m: s.text[:m.start()] + s.text[m.end():])(r.choice(s.ends)) if s.ends else None)
    add("tag", "root not closed", lambda s, r: s.text[:s.root_close])
    add("tag", "end tag with space", lambda s, r: (lambda m: s.text[:m.end() - 1] + " >" + s.text[m.end():])(r.choice(s.ends)) if s.ends else None)
    add("tag", "space after <", element("< a/>"))
    add("tag", "space after </", element("<a></ a>"))
    add("tag", "space in />", element("<a/ >"))
    add("tag", "empty element tag", element("<a/>"))
    add("tag", "text after root", after_root("x"))
    add("tag", "whitespace after root", after_root(" \n\t\r\n"))
    add("tag", "second root", after_root("<a/>"))
    add("tag", "text before root", before_root("x"))
    add("tag", "end tag before root", before_root("</a>"))
    add("tag", "stray < in text", in_text("<"))
    add("tag", "stray </ in text", in_text("</"))
    add("tag", "<> in text", in_text("<>"))
    add("tag", "< space in text", in_text("< "))
    add("tag", "<! in text", in_text("<!x>"))
    add("tag", "truncated", truncate)
    add("tag", "empty file", lambda s, r: b"")
    add("tag", "only whitespace", lambda s, r: b" \n ")
    add("tag", "only the decl", lambda s, r: u8(s.decl or '<?xml version="1.0"?>'))
    add("tag", "only a comment", lambda s, r: b"<!-- x -->")
    add("tag", "only decl and comment", lambda s, r: u8((s.decl or "") + "<!-- x -->"))

    # Line ends
    add("lineend", "CR LF line ends", crlf("crlf"))
    add("lineend", "CR line ends", crlf("cr"))
    add("lineend", "mixed line ends", crlf("mixed"))
    add("lineend", "NEL line ends (XML 1.0)", lambda s, r: s.text.replace("\n", "\x85"))
    add("lineend", "LS line ends", lambda s, r: s.text.replace("\n", "\u2028"))
    add("lineend", "CR in text", in_text("\r"))
    add("lineend", "CR LF in text", in_text("\r\n"))
    add("lineend", "&#13; in text", in_text("&#13;"))
    add("lineend", "tabs and newlines in every text", all_text(lambda t: "\t" + t + "\r\n"))

    # Long names, deep nesting
    for n in [999, 1000, 1001, 5000, 100_000]:
        add("long", f"element name {n}", element("<" + "a" * n + "/>"))
        add("long", f"attribute name {n}", new_attr("a" * n + '="1"'))
    add("long", "prefix 999 + local", element("<" + "p" * 999 + ":a xmlns:" + "p" * 999 + '="urn:x"/>'))
    add("long", "prefix 600 + local 600", element("<" + "p" * 600 + ":" + "a" * 600 + " xmlns:" + "p" * 600 + '="urn:x"/>'))
    add("long", "PI target 1001", between_elements("<?" + "t" * 1001 + " x?>"))
    add("long", "declared prefix 1001, unused", element("<a xmlns:" + "p" * 1001 + '="urn:x"/>'))
    add("long", "non-ASCII element name 1000 chars", element("<" + "ä" * 1000 + "/>"))
    add("long", "non-BMP element name 600 chars", element("<" + "\U00010000" * 600 + "/>"))
    add("long", "text 1 MB", in_text("x" * 1_000_000))
    for n in [100, 250, 255, 256, 257, 1000, 5000]:
        add("deep", f"nesting +{n}", deep(n))
    return M


# --------------------------------------------------------------------------------------------
# Running the three parsers


def lxml_decision(data):
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=True, dtd_validation=False, remove_blank_text=False)
    try:
        etree.fromstring(data, parser)
        return True, ""
    except (etree.XMLSyntaxError, ValueError) as e:
        return False, str(e).replace("\n", " ")


def build(args):
    build_example("readerdiff", READERDIFF_RS, args.target_dir, args.no_build)


def ours_decisions(args, files, workdir):
    list_file = Path(workdir) / "files.txt"
    list_file.write_text("\n".join(map(str, files)) + "\n", encoding="utf-8")
    exe = Path(args.target_dir) / "release" / "examples" / "readerdiff"
    out = subprocess.run([str(exe), f"@{list_file}"], check=True, capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        r = json.loads(line)
        result[r["file"]] = (r["ok"], r["error"] or "")
    return result


def xerces_decisions(files, workdir):
    java = shutil.which("java")
    if not java:
        return None
    src = Path(workdir) / "XercesCheck.java"
    src.write_text(XERCES_JAVA, encoding="utf-8")
    out = subprocess.run([java, str(src)], input="\n".join(map(str, files)) + "\n", capture_output=True,
                         text=True, encoding="utf-8", check=True).stdout
    result = {}
    for line in out.splitlines():
        path, verdict, msg = line.split("\t", 2)
        result[path] = (verdict == "ok", msg)
    return result


def show(ok, msg, width=160):
    return ("well-formed" if ok else "refused") + ("" if ok else ": " + msg[:width])


def cause_of(msg):
    """Our message without positions and numbers, for grouping."""
    return re.sub(r"\d+", "N", re.sub(r"'.'|\".*?\"", "_", msg))[:90]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-mutation", type=int, default=4, help="seeds each mutation is applied to")
    parser.add_argument("--out", help="directory for the mutants (default: a new temp dir)")
    parser.add_argument("--only", type=lambda t: t.split(","), help="mutation classes to run")
    parser.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "/var/tmp/kreishaus-target-readerdiff"))
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--no-xerces", action="store_true")
    parser.add_argument("--table", action="store_true", help="also print every mutant's decisions, one line each")
    parser.add_argument("--as-is", action="store_true", help="compare the files themselves, not mutants of them")
    parser.add_argument("--jdk-encodings", action="store_true",
                        help="print reader.rs's OTHER_ASCII_ENCODINGS from the installed JDK and stop")
    parser.add_argument("files", nargs="*", help="seed files (default: the test data)")
    args = parser.parse_args()
    if args.jdk_encodings:
        jdk_encodings()
        return

    started = time.perf_counter()
    build(args)
    workdir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="readerdiff-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)

    mutants = []  # (class, label, path, bytes)
    if args.as_is:
        for f in args.files:
            mutants.append(("as-is", Path(f).name, str(Path(f).resolve()), Path(f).read_bytes()))
    else:
        seeds = load_seeds(args.files or default_seeds())
        # Small seeds first: most mutations care about the syntax, not the size.
        small = sorted(seeds, key=lambda s: len(s.text))[:max(8, len(seeds) // 2)]
        n = 0
        for cls, label, fn in catalogue():
            if args.only and cls not in args.only:
                continue
            picks = rng.sample(small, min(args.per_mutation - 1, len(small))) + [rng.choice(seeds)]
            for seed in picks:
                data = fn(seed, rng)
                if data is None:
                    continue
                data = u8(data)
                n += 1
                path = workdir / f"{n:05d}-{cls}.xml"
                path.write_bytes(data)
                mutants.append((cls, f"{label} [{seed.name}]", str(path), data))
    generated = time.perf_counter()

    files = [m[2] for m in mutants]
    ours = ours_decisions(args, files, workdir)
    ours_done = time.perf_counter()
    xerces = None if args.no_xerces else xerces_decisions(files, workdir)
    xerces_done = time.perf_counter()
    lx = {m[2]: lxml_decision(m[3]) for m in mutants}
    lxml_done = time.perf_counter()

    groups = defaultdict(list)
    xgroups = defaultdict(list)
    summary = defaultdict(lambda: [0, 0, 0])
    for cls, label, path, _ in mutants:
        o, l = ours[path], lx[path]
        x = xerces.get(path) if xerces else None
        summary[cls][0] += 1
        if o[0] != l[0]:
            summary[cls][1] += 1
            key = (cls, "lxml " + ("accepts" if l[0] else "refuses"), "ours " + ("accepts" if o[0] else "refuses"),
                   cause_of(o[1]) if not o[0] else cause_of(l[1]))
            groups[key].append((label, path, l, o, x))
        if x is not None and o[0] != x[0]:
            summary[cls][2] += 1
            key = (cls, "Xerces " + ("accepts" if x[0] else "refuses"), "ours " + ("accepts" if o[0] else "refuses"),
                   cause_of(o[1]) if not o[0] else cause_of(x[1]))
            xgroups[key].append((label, path, l, o, x))

    def dump(title, gs):
        print(f"==== {title}: {sum(len(v) for v in gs.values())} mutants in {len(gs)} groups")
        for key in sorted(gs):
            items = gs[key]
            print(f"\n--- [{key[0]}] {key[1]}, {key[2]} ({len(items)}): {key[3]}")
            for label, path, l, o, x in items:
                print(f"  {label}  {path}")
                print(f"      lxml:   {show(*l)}")
                print(f"      ours:   {show(*o)}")
                if x is not None:
                    print(f"      Xerces: {show(*x)}")

    if args.table:
        print("==== every mutant: lxml / ours / Xerces (+ well-formed, - refused)")
        for cls, label, path, _ in mutants:
            x = xerces.get(path) if xerces else None
            marks = "".join("+" if d[0] else "-" for d in (lx[path], ours[path]) + ((x,) if x else ()))
            print(f"  {marks:3} [{cls}] {label}  {Path(path).name}  ours: {ours[path][1][:100]}")
        print()
    dump("ours vs lxml", groups)
    print()
    if xerces is not None:
        dump("ours vs Xerces", xgroups)
        print()
    print("==== summary (class: mutants, differ from lxml, differ from Xerces)")
    for cls, (total, dl, dx) in summary.items():
        print(f"  {cls:15} {total:6} {dl:6} {dx if xerces is not None else '-':>6}")
    total = sum(v[0] for v in summary.values())
    print(f"  {'all':15} {total:6} {sum(v[1] for v in summary.values()):6} "
          f"{sum(v[2] for v in summary.values()) if xerces is not None else '-':>6}")
    print(f"mutants in {workdir}; generate {generated - started:.1f} s (with build), ours {ours_done - generated:.1f} s, "
          f"Xerces {xerces_done - ours_done:.1f} s, lxml {lxml_done - xerces_done:.1f} s")


if __name__ == "__main__":
    main()
