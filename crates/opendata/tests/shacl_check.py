"""Validates an RDF file against the DCAT-AP.de 3.0 SHACL shapes (SEMIC DCAT-AP 3.0.0 plus the
German add-ons, combined as GovData's validator does) with pyshacl.

usage: shacl_check.py <testdata/opendata/dcat-ap-de> <data file> <rdflib format>
Prints the report; exit status 0 when the data conforms with no result at all (not even a
warning), 1 when it does not, 2 on bad usage.
"""
import sys

from pyshacl import validate
from rdflib import Graph

if len(sys.argv) != 4:
    print(__doc__)
    sys.exit(2)
base, data, fmt = sys.argv[1:4]
shapes = Graph()
shapes.parse(f"{base}/semic-dcat-ap/3.0.0/dcat-ap-SHACL.ttl", format="turtle")
for name in [
    "dcat-ap-SHACL-DE.ttl",
    "dcat-ap-de-deprecated.ttl",
    "dcat-ap-spec-german-additions.ttl",
    "dcat-ap-de-controlledvocabularies.ttl",
]:
    shapes.parse(f"{base}/shacl-validation/validator/resources/v3.0/shapes/{name}", format="turtle")
graph = Graph()
graph.parse(data, format=fmt)
conforms, report, text = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=False, advanced=True)
print(text)
print(f"triples: {len(graph)}")
clean = conforms and "Results (" not in text
sys.exit(0 if clean else 1)
