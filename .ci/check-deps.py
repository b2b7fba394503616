#!/usr/bin/env python3
"""Checks that workspace crates depend on each other only in the directions written in
docs/ARCHITECTURE.md (the table between the dependency-rules markers), and that every crate
is in that table."""
import json
import re
import subprocess
import sys

doc = open("docs/ARCHITECTURE.md", encoding="utf-8").read()
block = re.search(r"<!-- dependency-rules -->(.*?)<!-- /dependency-rules -->", doc, re.S)
if not block:
    sys.exit("docs/ARCHITECTURE.md has no dependency-rules table")
allowed = {}
for line in block.group(1).splitlines():
    cells = [c.strip(" `") for c in line.strip().strip("|").split("|")]
    if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: ") and cells[0] != "crate":
        allowed[cells[0]] = {c.strip(" `") for c in cells[1].split(",") if c.strip(" `–-")}

meta = json.loads(subprocess.check_output(["cargo", "metadata", "--format-version", "1", "--no-deps"]))
members = {p["name"] for p in meta["packages"]}
errors = []
for p in meta["packages"]:
    name = p["name"]
    if name not in allowed:
        errors.append(f"crate {name} is missing from the dependency-rules table in docs/ARCHITECTURE.md")
        continue
    for d in p["dependencies"]:
        if d["name"] in members and d["kind"] is None and d["name"] not in allowed[name]:
            errors.append(f"{name} depends on {d['name']}, which docs/ARCHITECTURE.md does not allow")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"dependency directions ok ({len(members)} crates)")
