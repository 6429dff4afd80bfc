"""docs/openapi.yaml documents every route of the daemon's routing table (src/daemon/api/http.c)."""
import os
import re

from conftest import ROOT

HTTP_C = os.path.join(ROOT, "src", "daemon", "api", "http.c")
OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def table_routes():
    """(method, path) of each row of `routes[]`; a prefix route "/x/" is documented as "/x/{id}"."""
    src = open(HTTP_C).read()
    table = re.search(r"static const struct route routes\[\] = \{(.*?)\n\};", src, re.S)
    assert table, "routes[] table not found in http.c"
    rows = re.findall(r'\{\s*EVHTTP_REQ_(\w+),\s*"([^"]+)",\s*([01]),[^}"]*(?:"([^"]*)")?\s*\}', table.group(1))
    assert rows, "no rows parsed from routes[]"
    return [(m, p if exact == "1" else p + "{id}" + suffix) for m, p, exact, suffix in rows]


def openapi_paths():
    """{path: {methods}} from the YAML, without PyYAML: path lines are `  /...:`, methods `    get:`;
    a path parameter of any name counts as the routing table's {id}."""
    paths, cur, in_paths = {}, None, False
    for line in open(OPENAPI):
        if re.match(r"^\S", line):
            in_paths = line.startswith("paths:")
            cur = None
            continue
        if not in_paths:
            continue
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            cur = re.sub(r"\{[a-z_]+\}", "{id}", m.group(1))   # /ui/{file} is the prefix route /ui/
            paths[cur] = set()
            continue
        m = re.match(r"^    (\w+):", line)
        if m and cur and m.group(1).upper() in METHODS:
            paths[cur].add(m.group(1).upper())
    return paths


def test_every_route_is_documented():
    doc = openapi_paths()
    routes = table_routes()
    assert len(routes) >= 9
    missing = [(m, p) for m, p in routes if m not in doc.get(p, set())]
    assert not missing, "routes in http.c but not in docs/openapi.yaml: %s" % missing


def test_nothing_documented_that_is_not_routed():
    routed = set(table_routes())
    extra = [(m, p) for p, ms in openapi_paths().items() for m in ms if (m, p) not in routed]
    assert not extra, "docs/openapi.yaml documents routes http.c does not have: %s" % extra


def test_openapi_document_is_valid_yaml_with_an_operation_per_path():
    import yaml   # python3-yaml, installed by make deps
    with open(os.path.join(ROOT, "docs", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    assert doc["openapi"].startswith("3.")
    # the parser above sees the same paths and methods as a YAML library does
    parsed = {re.sub(r"\{[a-z_]+\}", "{id}", p): {m.upper() for m in ops if m.upper() in METHODS}
              for p, ops in doc["paths"].items()}
    assert parsed == openapi_paths()
    assert all(parsed.values()), "every path has an operation"
