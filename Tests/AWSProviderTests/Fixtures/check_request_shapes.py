#!/usr/bin/env python3
"""Checks HTTP requests recorded from drctl against botocore's service models.

Reads a JSON list of {"method","url","headers":{name: value},"body_base64"} from the file given as
the first argument and prints a JSON list, one entry per request (with `--serve`: one such list per
line of stdin, one answer per line of stdout):
  {"service": botocore name, "operation": matched operation or null, "problems": [text, ...]}
What is checked: the service (from the SigV4 credential scope); for REST protocols the operation
whose method + requestUri (path template and literal query) matches, the query and x-amz-* header
names against the input shape's locations, the XML/JSON body member names recursively; for JSON the
X-Amz-Target and Content-Type; for Query the Action, Version and each parameter name as a path
through the input shape with the protocol's list and map names, and a PreSignedUrl's own query.
Required members must be present.
"""
import base64
import json
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.session

SIGNING_TO_SERVICE = {
    "s3": "s3", "route53": "route53", "eks": "eks", "autoscaling": "autoscaling", "ecs": "ecs",
    "route53-recovery-cluster": "route53-recovery-cluster", "rds": "rds", "sts": "sts", "secretsmanager": "secretsmanager",
    "monitoring": "cloudwatch", "kms": "kms",
}
SIGNING_HEADERS = {"x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "x-amz-user-agent", "x-amz-target"}

session = botocore.session.Session()
models = {}


def model(name):
    if name not in models:
        models[name] = session.get_service_model(name)
    return models[name]


def local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def check_xml(element, shape, path, problems):
    if shape.type_name == "structure":
        names = {}
        for n, m in shape.members.items():
            # A flattened list's items sit directly in the structure, named after the list item.
            if m.type_name == "list" and m.serialization.get("flattened"):
                names[m.serialization.get("name") or m.member.serialization.get("name") or n] = m.member
            else:
                names[m.serialization.get("name") or n] = m
        for child in element:
            name = local(child.tag)
            if name not in names:
                problems.append(f"{path}/{name}: not a member of {shape.name}")
            else:
                check_xml(child, names[name], f"{path}/{name}", problems)
        present = {local(c.tag) for c in element}
        for required in shape.required_members:
            member = shape.members[required]
            if member.serialization.get("location"):
                continue
            if (member.serialization.get("name") or required) not in present:
                problems.append(f"{path}: required {required} missing")
    elif shape.type_name == "list":
        member_name = shape.member.serialization.get("name") or "member"
        for child in element:
            if local(child.tag) != member_name:
                problems.append(f"{path}/{local(child.tag)}: list items of {shape.name} are <{member_name}>")
            else:
                check_xml(child, shape.member, f"{path}/{member_name}", problems)


def check_json(value, shape, path, problems):
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: {shape.name} must be an object")
            return
        body_members = {n: m for n, m in shape.members.items() if not m.serialization.get("location")}
        for key, item in value.items():
            if key not in body_members:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                check_json(item, body_members[key], f"{path}.{key}", problems)
        for required in shape.required_members:
            if required in body_members and required not in value:
                problems.append(f"{path}: required {required} missing")
    elif shape.type_name == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: {shape.name} must be a list")
            return
        for index, item in enumerate(value):
            check_json(item, shape.member, f"{path}[{index}]", problems)
    elif shape.type_name == "map":
        for key, item in (value or {}).items():
            check_json(item, shape.value, f"{path}.{key}", problems)
    elif shape.type_name in ("integer", "long") and not isinstance(value, int):
        problems.append(f"{path}: {shape.name} must be an integer")
    elif shape.type_name == "string" and not isinstance(value, str):
        problems.append(f"{path}: {shape.name} must be a string")
    elif shape.type_name == "boolean" and not isinstance(value, bool):
        problems.append(f"{path}: {shape.name} must be a boolean")


def match_rest(service_model, method, path, query, headers):
    best = None
    for name in service_model.operation_names:
        op = service_model.operation_model(name)
        if op.http.get("method") != method:
            continue
        uri = op.http["requestUri"]
        template, _, literal = uri.partition("?")
        pattern = "^" + re.sub(r"\{[^}]+\+\}", "(.+)", re.sub(r"\{[^}+]+\}", "([^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))) + "$"
        if not re.match(pattern, path):
            continue
        literals = dict(urllib.parse.parse_qsl(literal, keep_blank_values=True)) if literal else {}
        if any(key not in query or (value and query[key] != value) for key, value in literals.items()):
            continue
        # Operations sharing a URI are told apart by their required headers (CopyObject: x-amz-copy-source).
        shape = op.input_shape
        required_headers = [(shape.members[r].serialization.get("name") or r).lower() for r in (shape.required_members if shape else [])
                            if shape.members[r].serialization.get("location") == "header"]
        if any(h not in headers for h in required_headers):
            continue
        score = (len(literals), len(required_headers), len(template))
        if best is None or score > best[0]:
            best = (score, op, literals)
    return best


# Query protocol: every parameter name is a path through the input shape (structure members; lists
# as Name.<member locationName or "member">.N, or Name.N when flattened; maps as
# Name.entry.N.key/value). A PreSignedUrl's own query is checked the same way (DestinationRegion
# and X-Amz-* are added by the SDK presigner, not members).
PRESIGN_EXTRAS = {"DestinationRegion"}


def check_query_path(shape, parts, name):
    if not parts:
        return None if shape.type_name not in ("structure", "list", "map") else f"{name}: stops at a {shape.type_name}"
    if shape.type_name == "structure":
        head = parts[0]
        if head not in shape.members:
            return f"{name}: '{head}' is not a member of {shape.name}"
        return check_query_path(shape.members[head], parts[1:], name)
    if shape.type_name == "list":
        if not shape.serialization.get("flattened", False):
            member_name = shape.member.serialization.get("name", "member")
            if parts[0] != member_name:
                return f"{name}: list {shape.name} members are '{member_name}', not '{parts[0]}'"
            parts = parts[1:]
        if not parts or not parts[0].isdigit() or int(parts[0]) < 1:
            return f"{name}: list index expected"
        return check_query_path(shape.member, parts[1:], name)
    if shape.type_name == "map":
        if len(parts) < 3 or parts[0] != "entry" or not parts[1].isdigit() or parts[2] not in ("key", "value"):
            return f"{name}: map entries are entry.N.key/value"
        return check_query_path(shape.key if parts[2] == "key" else shape.value, parts[3:], name)
    return f"{name}: '{parts[0]}' inside scalar {shape.name}"


def check_query(sm, pairs, where):
    params = dict(pairs)
    problems = []
    action = params.get("Action")
    if action not in sm.operation_names:
        return [f"{where}{action} is not an operation of {sm.service_name}"]
    if params.get("Version") != sm.api_version:
        problems.append(f"{where}Version {params.get('Version')} is not {sm.api_version}")
    shape = sm.operation_model(action).input_shape
    presigned = where.endswith("PreSignedUrl: ")
    for name, value in pairs:
        if name in ("Action", "Version") or (presigned and (name.startswith("X-Amz-") or name in PRESIGN_EXTRAS)):
            continue
        problem = check_query_path(shape, name.split("."), name) if shape else f"{name}: {action} takes no input"
        if problem:
            problems.append(where + problem)
        if name == "PreSignedUrl":
            inner = urllib.parse.parse_qsl(urllib.parse.urlsplit(value).query, keep_blank_values=True)
            if dict(inner).get("Action") != action:
                problems.append(f"{where}PreSignedUrl presigns {dict(inner).get('Action')}, not {action}")
            if "X-Amz-Signature" not in dict(inner):
                problems.append(f"{where}PreSignedUrl is not signed")
            problems += check_query(sm, inner, f"{where}{action} PreSignedUrl: ")
    for member in (shape.required_members if shape else []):
        if not any(name == member or name.startswith(member + ".") for name, _ in pairs):
            problems.append(f"{where}required {member} missing")
    return problems


def check(request):
    headers = {k.lower(): v for k, v in request["headers"].items()}
    body = base64.b64decode(request.get("body_base64") or "")
    scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", headers.get("authorization", ""))
    if not scope:
        return {"service": None, "operation": None, "problems": ["request is not SigV4-signed"]}
    signing = scope.group(2)
    service = SIGNING_TO_SERVICE.get(signing)
    if not service:
        return {"service": signing, "operation": None, "problems": [f"unknown signing name {signing}"]}
    sm = model(service)
    # A model may offer several protocols (CloudWatch: smithy-rpc-v2-cbor, json, query): the
    # request's own framing says which one it speaks.
    protocols = sm.metadata.get("protocols") or [sm.metadata["protocol"]]
    protocol = sm.metadata["protocol"]
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded") and "query" in protocols:
        protocol = "query"
    elif headers.get("x-amz-target") and "json" in protocols:
        protocol = "json"
    url = urllib.parse.urlsplit(request["url"])
    query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
    problems = []
    op = None

    if protocol == "json":
        target = headers.get("x-amz-target", "")
        prefix, _, name = target.partition(".")
        if prefix != sm.metadata["targetPrefix"] or name not in sm.operation_names:
            return {"service": service, "operation": None, "problems": [f"X-Amz-Target {target!r} is not an operation of {service}"]}
        op = sm.operation_model(name)
        expected = "application/x-amz-json-" + sm.metadata["jsonVersion"]
        if headers.get("content-type") != expected:
            problems.append(f"Content-Type {headers.get('content-type')!r}, expected {expected!r}")
        if request["method"] != "POST":
            problems.append("JSON protocol requests are POST")
        check_json(json.loads(body or b"{}"), op.input_shape, "$", problems)
    elif protocol == "query":
        pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        name = dict(pairs).get("Action")
        if name not in sm.operation_names:
            return {"service": service, "operation": None, "problems": [f"Action {name!r} is not an operation of {service}"]}
        op = sm.operation_model(name)
        problems += check_query(sm, pairs, "")
    else:
        found = match_rest(sm, request["method"], url.path, query, headers)
        if not found:
            return {"service": service, "operation": None,
                    "problems": [f"no {service} operation matches {request['method']} {url.path}?{url.query}"]}
        _, op, literals = found
        shape = op.input_shape
        members = shape.members if shape else {}
        query_names = {m.serialization.get("name"): n for n, m in members.items() if m.serialization.get("location") == "querystring"}
        for key in query:
            if key not in literals and key not in query_names:
                problems.append(f"query parameter {key!r} is not in {op.name}'s input")
        header_names = {(m.serialization.get("name") or n).lower(): n for n, m in members.items()
                        if m.serialization.get("location") in ("header", "headers")}
        for key in headers:
            if not key.startswith("x-amz-") and key != "content-md5" or key in SIGNING_HEADERS:
                continue
            if key.startswith("x-amz-checksum-") and op.http_checksum:
                continue
            if key.startswith("x-amz-meta-") and "x-amz-meta-" in header_names:
                continue
            if key not in header_names:
                problems.append(f"header {key} is not in {op.name}'s input")
        uri_members = [n for n, m in members.items() if m.serialization.get("location") == "uri"]
        for required in (shape.required_members if shape else []):
            location = members[required].serialization.get("location")
            if location == "querystring" and members[required].serialization.get("name") not in query:
                problems.append(f"required query member {required} missing")
        payload = shape.serialization.get("payload") if shape else None
        if body and payload and members[payload].type_name in ("blob", "string"):
            pass  # raw bytes (PutObject): nothing to check inside
        elif body and protocol == "rest-xml":
            root = ET.fromstring(body)
            if payload:
                member = members[payload]
                expected = member.serialization.get("name") or payload
                if local(root.tag) != expected:
                    problems.append(f"body root <{local(root.tag)}>, expected <{expected}>")
                check_xml(root, member, "/" + local(root.tag), problems)
            else:
                expected = shape.serialization.get("name") or shape.name
                if local(root.tag) != expected:
                    problems.append(f"body root <{local(root.tag)}>, expected <{expected}>")
                check_xml(root, shape, "/" + local(root.tag), problems)
            namespace = (shape.serialization.get("xmlNamespace") or (members[payload].serialization.get("xmlNamespace") if payload else None) or {})
            uri = namespace.get("uri") if isinstance(namespace, dict) else None
            if uri and not root.tag.startswith("{" + uri + "}"):
                problems.append(f"body root is not in namespace {uri}")
        elif body and protocol == "rest-json":
            check_json(json.loads(body), shape, "$", problems)
        elif shape and any(not m.serialization.get("location") for n, m in members.items() if n in shape.required_members):
            problems.append(f"{op.name} needs a body")
        _ = uri_members
    return {"service": service, "operation": op.name, "problems": problems}


def main():
    if sys.argv[1:] == ["--serve"]:
        # One JSON list of requests per input line, one JSON list of verdicts per output line:
        # the models load once for a whole test process instead of once per check.
        for line in sys.stdin:
            print(json.dumps([check(r) for r in json.loads(line)]), flush=True)
        return
    requests = json.load(open(sys.argv[1]))
    json.dump([check(r) for r in requests], sys.stdout)


if __name__ == "__main__":
    main()
