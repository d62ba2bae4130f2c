#!/usr/bin/env python3
"""Checks the AWS permissions drctl's actions declare against botocore's service models, and the
Google Cloud ones against google-api-python-client's discovery documents (each `operation` is the
method id of a discovery document, drctl writing Cloud SQL's `sql.` as `sqladmin.`; each IAM
permission is `service.resource.verb`).

Reads `drctl actions --output json` from the file named as the first argument (or stdin); prints one line per AWS permission whose operation
is not an operation of the service's model (`prefix:Operation`, the prefix being the IAM prefix),
and exits 1 if there is any, 0 otherwise (printing how many it checked). IAM prefixes differ from
botocore's model directory names for some services (`elasticloadbalancing` is both `elb` and
`elbv2`); most are the same (`cloudwatch`, whose endpoint and signing name are `monitoring`).
"""
import gzip
import json
import os
import sys

import botocore

MODELS = os.path.join(os.path.dirname(botocore.__file__), "data")
# IAM prefix → botocore model directories (where the names differ or there are several).
PREFIX_TO_MODELS = {
    "elasticloadbalancing": ["elb", "elbv2"],
    "route53-recovery-cluster": ["route53-recovery-cluster"],
}


def operations(prefix):
    names = set()
    for model in PREFIX_TO_MODELS.get(prefix, [prefix]):
        directory = os.path.join(MODELS, model)
        if not os.path.isdir(directory):
            continue
        # The newest API version; botocore ships the model plain or gzipped.
        newest = os.path.join(directory, sorted(os.listdir(directory))[-1], "service-2.json")
        opener = (gzip.open, newest + ".gz") if not os.path.exists(newest) else (open, newest)
        with opener[0](opener[1], "rt") as f:
            names |= set(json.load(f)["operations"])
    return names


def discovery_methods():
    """Every method id of the discovery documents of the services drctl calls."""
    import googleapiclient
    directory = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
    ids = set()

    def walk(resource):
        for method in resource.get("methods", {}).values():
            ids.add(method["id"])
        for child in resource.get("resources", {}).values():
            walk(child)
    for doc in ("sqladmin.v1", "dns.v1", "container.v1", "monitoring.v3", "storagetransfer.v1", "storage.v1"):
        with open(os.path.join(directory, doc + ".json")) as f:
            walk(json.load(f))
    return ids


def check_gcp(action, permission, methods, problems):
    operation = permission.get("operation") or ""
    method = "sql." + operation[len("sqladmin."):] if operation.startswith("sqladmin.") else operation
    if method not in methods:
        problems.append(f"{action['name']}: '{operation}' is not a method of Google's discovery documents")
    if len(permission["name"].split(".")) != 3 or not all(permission["name"].split(".")):
        problems.append(f"{action['name']}: '{permission['name']}' is not an IAM permission (service.resource.verb)")


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            catalogue = json.load(f)
    else:
        catalogue = json.load(sys.stdin)
    problems, checked, gcp_checked = [], 0, 0
    cache, methods = {}, None
    for action in catalogue["actions"]:
        for permission in action["permissions"]:
            if permission["kind"] == "gcp":
                methods = methods if methods is not None else discovery_methods()
                gcp_checked += 1
                check_gcp(action, permission, methods, problems)
                continue
            if permission["kind"] != "aws":
                continue
            checked += 1
            operation = permission.get("operation") or ""
            prefix, _, name = operation.partition(":")
            if not prefix or not name:
                problems.append(f"{action['name']}: '{operation}' is not prefix:Operation")
                continue
            if prefix not in cache:
                cache[prefix] = operations(prefix)
            if not cache[prefix]:
                problems.append(f"{action['name']}: {operation}: no botocore model for the IAM prefix '{prefix}'")
            elif name not in cache[prefix]:
                problems.append(f"{action['name']}: {operation}: '{name}' is not an operation of {prefix}'s model")
    for line in problems:
        print(line)
    print(f"{checked} AWS and {gcp_checked} Google Cloud permissions checked, {len(problems)} unknown")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
