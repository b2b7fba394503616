"""Talks to a running Kreishaus with the real `ckanapi` client (PyPI), as a harvester would,
and checks CKAN's result and error shapes. Prints one JSON object with what it saw; exits
non-zero on the first failed check.

usage: ckanapi_check.py <base url> <get|post>
"""
import json
import sys

import ckanapi

base, mode = sys.argv[1], sys.argv[2]
ck = ckanapi.RemoteCKAN(base, user_agent="kreishaus-test/1.0", get_only=(mode == "get"))
seen = {}

names = ck.action.package_list()
assert names == sorted(names), names
seen["package_list"] = names

pkg = ck.action.package_show(id="kfz-bestand")
for key in ["id", "name", "title", "notes", "license_id", "organization", "resources", "tags", "groups", "extras",
            "metadata_modified", "num_resources"]:
    assert key in pkg, key
assert pkg["organization"]["name"] == "kreis"
assert pkg["num_resources"] == len(pkg["resources"]) >= 1
by_uuid = ck.action.package_show(id=pkg["id"])
assert by_uuid["name"] == "kfz-bestand"
seen["package_show"] = {"title": pkg["title"], "license_id": pkg["license_id"],
                        "extras": {e["key"]: e["value"] for e in pkg["extras"]}}

res = ck.action.resource_show(id=pkg["resources"][0]["id"])
assert res["package_id"] == pkg["id"]
seen["resource_format"] = res["format"]

found = ck.call_action("package_search", {"q": "Schule", "rows": 1, "start": 0,
                                          "facet.field": json.dumps(["tags", "organization", "groups"])})
assert found["count"] == 2, found["count"]
assert len(found["results"]) == 1
seen["search_schulen"] = {"count": found["count"], "first": found["results"][0]["name"],
                          "facets": found["facets"],
                          "search_facets_groups": sorted(i["name"] for i in found["search_facets"]["groups"]["items"])}
filtered = ck.call_action("package_search", {"fq": "groups:gesundheit", "sort": "name asc"})
seen["search_gesundheit"] = [p["name"] for p in filtered["results"]]
page2 = ck.call_action("package_search", {"rows": 2, "start": 2, "sort": "name asc"})
seen["search_page2"] = [p["name"] for p in page2["results"]]

seen["organization_list"] = ck.action.organization_list()
org = ck.action.organization_show(id="kreis", include_datasets=True)
assert org["is_organization"] is True and org["package_count"] == len(names)
seen["organization_packages"] = sorted(p["name"] for p in org["packages"])
seen["group_list"] = ck.action.group_list()
grp = ck.action.group_show(id="bildung")
seen["group_bildung_count"] = grp["package_count"]
seen["tag_list"] = ck.action.tag_list()
seen["license_ids"] = [l["id"] for l in ck.action.license_list()]
seen["with_resources"] = len(ck.action.current_package_list_with_resources(limit=2))
seen["status_ckan_version"] = ck.action.status_show()["ckan_version"]

# The vehicle table behind the dataset's first distribution, through the data store.
# Over GET, objects and lists travel as CKAN's query strings do: filters as JSON, fields joined.
filters, fields = {"kraftstoff": "Diesel"}, ["gemeinde", "anzahl"]
if mode == "get":
    filters, fields = json.dumps(filters), ",".join(fields)
diesel = ck.action.datastore_search(resource_id=pkg["resources"][0]["id"], filters=filters, fields=fields,
                                    sort="anzahl desc", limit=5)
assert [f["id"] for f in diesel["fields"]] == ["gemeinde", "anzahl"], diesel["fields"]
assert len(diesel["records"]) == 5
counts = [r["anzahl"] for r in diesel["records"]]
assert counts == sorted(counts, reverse=True), counts
seen["datastore_diesel_total"] = diesel["total"]

errors = {}
try:
    ck.action.package_show(id="gibt-es-nicht")
except ckanapi.NotFound as e:
    errors["not_found"] = str(e)
try:
    ck.call_action("package_search", {"rows": "zehn"})
except ckanapi.ValidationError as e:
    errors["validation"] = e.error_dict
try:
    ck.call_action("package_search", {"fq": "farbe:rot"})
except ckanapi.SearchQueryError as e:
    errors["search_query"] = str(e)
try:
    ck.action.package_show()
except ckanapi.ValidationError as e:
    errors["missing_id"] = e.error_dict
try:
    ck.action.datastore_search(resource_id="00000000-0000-4000-8000-000000000000")
except ckanapi.NotFound as e:
    errors["datastore_not_found"] = str(e)
seen["errors"] = errors
print(json.dumps(seen, ensure_ascii=False))
