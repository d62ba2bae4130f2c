"""Google's discovery documents, as shipped inside google-api-python-client, as the contract every
request is checked against: which method a request is (HTTP method + path template), its query
parameters, and its JSON body against the request schema.

Discovery format: https://developers.google.com/discovery/v1/reference/apis. Path templates are
RFC 6570 level 2: `{x}` is simple expansion (one segment, reserved characters percent-encoded) and
`{+x}` reserved expansion (may contain `/`); a parameter's `pattern` says which values it takes,
which is how `v1/{+name}` tells clusters.get from nodePools.get.
"""
import json
import os
import re
import urllib.parse

import googleapiclient

DOCS = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
# Service prefix in the bed's URL (lowercase discovery name) -> discovery document.
SERVICES = {"sqladmin": "sqladmin.v1", "dns": "dns.v1", "container": "container.v1", "monitoring": "monitoring.v3",
            "storagetransfer": "storagetransfer.v1", "storage": "storage.v1", "iamcredentials": "iamcredentials.v1",
            "sts": "sts.v1"}


class Violation(Exception):
    """A request that breaks the discovery document: `field` names what is wrong."""

    def __init__(self, field, problem):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


class Method:
    def __init__(self, doc, spec):
        self.doc, self.spec = doc, spec
        self.id, self.http_method = spec["id"], spec["httpMethod"]
        self.params = dict(doc.get("parameters", {}))   # global: alt, fields, prettyPrint, ...
        self.params.update(spec.get("parameters", {}))
        self.scopes = spec.get("scopes", [])
        self.request_schema = (spec.get("request") or {}).get("$ref")
        template = doc.get("servicePath", "") + spec["path"]
        rx, self.literal = "", 0
        for part in re.split(r"(\{\+?[^}]+\})", template):
            if part.startswith("{+"):
                rx += f"(?P<{_group(part[2:-1])}>.+?)"
            elif part.startswith("{"):
                rx += f"(?P<{_group(part[1:-1])}>[^/]+?)"
            else:
                rx += re.escape(part)
                self.literal += len(part)
        self.rx = re.compile("^" + rx + "$")

    def match(self, path):
        """Path parameters (decoded) when `path` is this method's, else None."""
        m = self.rx.match(path)
        if not m:
            return None
        values = {}
        for group, raw in m.groupdict().items():
            name = _ungroup(group)
            value = urllib.parse.unquote(raw)
            pattern = self.params.get(name, {}).get("pattern")
            if pattern and not re.search(pattern, value):
                return None
            values[name] = value
        return values


def _group(name):  # regex group names cannot hold '.' or '$'
    return "p_" + name.replace(".", "_DOT_").replace("$", "_DOLLAR_")


def _ungroup(group):
    return group[2:].replace("_DOT_", ".").replace("_DOLLAR_", "$")


class Service:
    def __init__(self, prefix):
        with open(os.path.join(DOCS, SERVICES[prefix] + ".json")) as f:
            self.doc = json.load(f)
        self.prefix = prefix
        self.schemas = self.doc.get("schemas", {})
        self.methods = []
        self._walk(self.doc)
        self.by_id = {m.id: m for m in self.methods}

    def _walk(self, node):
        for spec in node.get("methods", {}).values():
            self.methods.append(Method(self.doc, spec))
        for sub in node.get("resources", {}).values():
            self._walk(sub)

    def find(self, http_method, path):
        """(Method, path params) for a request path below the service prefix (no leading '/'),
        preferring the most literal template, or None."""
        best = None
        for m in self.methods:
            if m.http_method != http_method:
                continue
            params = m.match(path)
            if params is not None and (best is None or m.literal > best[0].literal):
                best = (m, params)
        return best


_services = {}


def service(prefix):
    if prefix not in _services:
        _services[prefix] = Service(prefix)
    return _services[prefix]
