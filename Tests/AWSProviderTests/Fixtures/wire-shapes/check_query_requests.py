#!/usr/bin/env python3
"""Checks recorded AWS requests against botocore's service models.

Input (argv[1]): a JSON list of {"service": "rds"|"monitoring"|"kms", "target": X-Amz-Target or null,
"body": form-encoded Query body or JSON text}. Output: a JSON list of problems (empty = all good).

Query requests: the Action must be an operation of the model, Version its apiVersion, and every
parameter name must be a path through the input shape with the Query protocol's serialization
rules (structure members; lists as Name.<member locationName or "member">.N, or Name.N when
flattened; maps as Name.entry.N.key/value). A PreSignedUrl's own query is checked the same way
(DestinationRegion and X-Amz-* are added by the SDK presigner, not members).
JSON requests (KMS): the target's operation exists and top-level keys are members.
"""
import json
import sys
from urllib.parse import parse_qsl, urlsplit

import botocore.session

SERVICES = {"rds": "rds", "monitoring": "cloudwatch", "kms": "kms"}
PRESIGN_EXTRAS = {"DestinationRegion"}


def check_path(shape, parts, name):
    if not parts:
        return None if shape.type_name not in ("structure", "list", "map") else f"{name}: stops at a {shape.type_name}"
    if shape.type_name == "structure":
        head = parts[0]
        if head not in shape.members:
            return f"{name}: '{head}' is not a member of {shape.name}"
        return check_path(shape.members[head], parts[1:], name)
    if shape.type_name == "list":
        flattened = shape.serialization.get("flattened", False)
        if not flattened:
            member_name = shape.member.serialization.get("name", "member")
            if parts[0] != member_name:
                return f"{name}: list {shape.name} members are '{member_name}', not '{parts[0]}'"
            parts = parts[1:]
        if not parts or not parts[0].isdigit() or int(parts[0]) < 1:
            return f"{name}: list index expected"
        return check_path(shape.member, parts[1:], name)
    if shape.type_name == "map":
        if len(parts) < 3 or parts[0] != "entry" or not parts[1].isdigit() or parts[2] not in ("key", "value"):
            return f"{name}: map entries are entry.N.key/value"
        return check_path(shape.key if parts[2] == "key" else shape.value, parts[3:], name)
    return f"{name}: '{parts[0]}' inside scalar {shape.name}"


def check_query(model, pairs, where):
    params = dict(pairs)
    problems = []
    action = params.get("Action")
    if action not in model.operation_names:
        return [f"{where}: {action} is not an operation of {model.service_name}"]
    if params.get("Version") != model.api_version:
        problems.append(f"{where}: {action} Version {params.get('Version')} != {model.api_version}")
    shape = model.operation_model(action).input_shape
    for name, value in pairs:
        if name in ("Action", "Version") or (where.endswith("PreSignedUrl") and (name.startswith("X-Amz-") or name in PRESIGN_EXTRAS)):
            continue
        problem = check_path(shape, name.split("."), name) if shape else f"{name}: {action} takes no input"
        if problem:
            problems.append(f"{where}: {action}: {problem}")
        if name == "PreSignedUrl":
            inner = parse_qsl(urlsplit(value).query, keep_blank_values=True)
            inner_action = dict(inner).get("Action")
            if inner_action != action:
                problems.append(f"{where}: PreSignedUrl presigns {inner_action}, not {action}")
            if "X-Amz-Signature" not in dict(inner):
                problems.append(f"{where}: PreSignedUrl is not signed")
            problems += check_query(model, inner, f"{where} {action} PreSignedUrl")
    required = shape.required_members if shape else []
    for member in required:
        if not any(name == member or name.startswith(member + ".") for name, _ in pairs):
            problems.append(f"{where}: {action}: required member {member} missing")
    return problems


def main():
    records = json.load(open(sys.argv[1]))
    session = botocore.session.get_session()
    models = {}
    problems = []
    seen = set()
    for index, record in enumerate(records):
        name = SERVICES.get(record["service"])
        if name is None:
            problems.append(f"request {index}: unexpected service {record['service']}")
            continue
        model = models.get(name) or session.get_service_model(name)
        models[name] = model
        if record.get("target"):
            operation = record["target"].split(".")[-1]
            seen.add(f"{name}.{operation}")
            if operation not in model.operation_names:
                problems.append(f"request {index}: {operation} is not an operation of {name}")
                continue
            shape = model.operation_model(operation).input_shape
            for key in json.loads(record["body"] or "{}"):
                if key not in shape.members:
                    problems.append(f"request {index}: {operation}: '{key}' is not a member")
        else:
            pairs = parse_qsl(record["body"], keep_blank_values=True)
            seen.add(f"{name}.{dict(pairs).get('Action')}")
            problems += check_query(model, pairs, f"request {index}")
    print(json.dumps({"problems": problems, "operations": sorted(seen)}))


if __name__ == "__main__":
    main()
