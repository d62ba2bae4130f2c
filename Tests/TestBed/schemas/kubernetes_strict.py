"""A strict validator of Kubernetes manifests against Kubernetes' own OpenAPI schema, as carried by
the official Python client (PyPI `kubernetes`, generated from the OpenAPI spec of its release): each
document is walked by its kind's model class (`V1CronJob`, `V1ConfigMap` …) through the classes'
`openapi_types` (field → type) and `attribute_map` (field → JSON name). Like
`kubectl apply --validate=strict`, an unknown field, a value of the wrong type, a missing required
field or a kind that does not exist in the named apiVersion is an error naming the field's path
(`CronJob drctl-drill-x: spec.jobTemplate.spec.template.spec.containers[0].env[1].valueFrom`).

Usage: python3 kubernetes_strict.py < manifest.yaml
  prints JSON {"errors": [...], "documents": [{kind, name, containers: {name: {env: {NAME: source}}}}],
  "literal_secrets": [...]} and exits 1 when there is an error or a literal secret, 0 otherwise.

The client is installed by scripts/setup.sh beside the system's packages (its dependencies'
versions conflict with botocore's): `DRCTL_KUBERNETES_SITE`, default
~/.cache/drctl/python-kubernetes-<version>.
"""
import base64
import binascii
import datetime
import json
import os
import re
import sys

KUBERNETES_CLIENT_VERSION = "37.0.2"


def _import_client():
    site = os.environ.get("DRCTL_KUBERNETES_SITE") or os.path.expanduser(
        f"~/.cache/drctl/python-kubernetes-{KUBERNETES_CLIENT_VERSION}")
    if os.path.isdir(site) and site not in sys.path:
        # First on the path: its own dateutil/pydantic, not the (older) ones botocore needs.
        sys.path.insert(0, site)
    import kubernetes
    import kubernetes.client
    if kubernetes.__version__ != KUBERNETES_CLIENT_VERSION:
        raise ImportError(f"kubernetes {kubernetes.__version__} found, {KUBERNETES_CLIENT_VERSION} pinned (scripts/setup.sh)")
    return kubernetes.client


client = _import_client()

LIST = re.compile(r"^List\[(.+)\]$")
DICT = re.compile(r"^Dict\[str, (.+)\]$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _api_groups():
    """{(group, version): {kinds}} from the client's API classes: BatchV1Api's
    `create_namespaced_cron_job` says CronJob is served in batch/v1 (group names compared
    without dots and the `.k8s.io` suffix: RbacAuthorizationV1Api ↔ rbac.authorization.k8s.io)."""
    served = {}
    for name in dir(client):
        match = re.fullmatch(r"([A-Z][A-Za-z]*?)(V\d+(?:alpha\d+|beta\d+)?)Api", name)
        if not match:
            continue
        group, version = match.group(1).lower(), match.group(2).lower()
        kinds = served.setdefault((group, version), set())
        for method in dir(getattr(client, name)):
            found = re.fullmatch(r"create_(?:namespaced_)?([a-z0-9_]+?)(?:_with_http_info)?", method)
            if found:
                kinds.add(found.group(1).replace("_", ""))
    return served


SERVED = _api_groups()


def model_for(api_version, kind):
    """The model class of (apiVersion, kind), or an error message."""
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None, "apiVersion and kind must be strings"
    group, _, version = api_version.rpartition("/")
    group_key = (group.removesuffix(".k8s.io").replace(".", "") or "core").lower()
    if kind.lower() not in SERVED.get((group_key, version), set()):
        return None, f"no kind {kind!r} is served in apiVersion {api_version!r}"
    prefix = version[0].upper() + version[1:]
    for candidate in (f"{prefix}{kind}", f"{group_key.capitalize()}{prefix}{kind}"):
        model = getattr(client, candidate, None)
        if model is not None and hasattr(model, "openapi_types"):
            return model, None
    return None, f"the client has no model for {kind} {api_version}"


def _required(model):
    """JSON names of the model's required fields (pydantic's field declarations)."""
    fields = getattr(model, "model_fields", {}) or {}
    return {model.attribute_map[name] for name, field in fields.items()
            if field.is_required() and name in model.attribute_map}


def check_value(value, type_name, path, errors):
    """Appends "path: problem" for every violation of `type_name` (an openapi_types string) in value."""
    if value is None:
        return  # JSON null: Kubernetes treats it as absent
    listed, mapped = LIST.match(type_name), DICT.match(type_name)
    if listed:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, found {type(value).__name__}")
            return
        for index, item in enumerate(value):
            check_value(item, listed.group(1), f"{path}[{index}]", errors)
    elif mapped:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, found {type(value).__name__}")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(f"{path}: key {key!r} is not a string")
            check_value(item, mapped.group(1), f"{path}.{key}", errors)
    elif type_name == "str":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, found {type(value).__name__} {value!r}")
    elif type_name == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an integer, found {type(value).__name__} {value!r}")
    elif type_name == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: expected a number, found {type(value).__name__} {value!r}")
    elif type_name == "bool":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected true or false, found {type(value).__name__} {value!r}")
    elif type_name == "datetime":
        if not isinstance(value, datetime.datetime) and not (isinstance(value, str) and RFC3339.match(value)):
            errors.append(f"{path}: expected an RFC 3339 time, found {value!r}")
    elif type_name == "bytes":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            errors.append(f"{path}: expected base64 data, found {value!r}")
    elif type_name == "object":
        pass  # int-or-string, Quantity, RawExtension: any JSON value
    else:
        model = getattr(client, type_name, None)
        if model is None or not hasattr(model, "openapi_types"):
            errors.append(f"{path}: the schema names an unknown type {type_name}")
            return
        check_object(value, model, path, errors)


def check_object(value, model, path, errors):
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({model.__name__}), found {type(value).__name__} {value!r}")
        return
    by_json_name = {json_name: model.openapi_types[attribute] for attribute, json_name in model.attribute_map.items()}
    prefix = f"{path}." if path else ""
    for key, item in value.items():
        if key not in by_json_name:
            errors.append(f"{prefix}{key}: unknown field in {model.__name__}")
            continue
        check_value(item, by_json_name[key], f"{prefix}{key}", errors)
    for key in sorted(_required(model) - set(value)):
        errors.append(f"{prefix}{key}: required field of {model.__name__} is missing")


def check_document(document):
    """Errors of one manifest document, each prefixed with its kind and name."""
    if not isinstance(document, dict):
        return [f"document: expected an object, found {type(document).__name__}"]
    kind, name = document.get("kind"), (document.get("metadata") or {}).get("name", "?")
    label = f"{kind} {name}"
    model, problem = model_for(document.get("apiVersion"), kind)
    if model is None:
        return [f"{label}: {problem}"]
    errors = []
    check_object(document, model, "", errors)
    return [f"{label}: {error}" for error in errors]


# A URL with a password, a key=value password, an AWS access key id: what no manifest may hold.
SECRET_PATTERNS = [
    re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE),
    re.compile(r"\bpassword\s*=\s*[^\s{}'\"]+", re.IGNORECASE),
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
]


def literal_secrets(value, path=""):
    """Paths of strings that hold a secret in clear (the Secrets the manifest references are not in it)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += literal_secrets(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += literal_secrets(item, f"{path}[{index}]")
    elif isinstance(value, str) and any(pattern.search(value) for pattern in SECRET_PATTERNS):
        found.append(path)
    return found


def container_environments(document):
    """{container: {env name: {"secretKeyRef": {...}} | {"value": ...} | other source}} of a workload."""
    spec = document.get("spec") or {}
    if document.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    pod = ((spec.get("template") or {}).get("spec") or {}) if document.get("kind") != "Pod" else spec
    environments = {}
    for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        environments[container.get("name")] = {
            variable.get("name"): ({"value": variable["value"]} if "value" in variable else variable.get("valueFrom") or {})
            for variable in container.get("env") or []
        }
    return environments


def validate_stream(text):
    import yaml
    documents = [document for document in yaml.safe_load_all(text) if document is not None]
    errors, summary, secrets = [], [], []
    for document in documents:
        errors += check_document(document)
        if isinstance(document, dict):
            metadata = document.get("metadata") or {}
            summary.append({"kind": document.get("kind"), "name": metadata.get("name"),
                            "containers": container_environments(document)})
            secrets += [f"{document.get('kind')} {metadata.get('name')}: {path}" for path in literal_secrets(document)]
    return {"errors": errors, "documents": summary, "literal_secrets": secrets}


def main():
    result = validate_stream(sys.stdin.read())
    print(json.dumps(result, indent=1, default=str))
    for line in result["errors"] + [f"literal secret at {path}" for path in result["literal_secrets"]]:
        print(f"kubernetes_strict: {line}", file=sys.stderr)
    return 1 if result["errors"] or result["literal_secrets"] else 0


if __name__ == "__main__":
    sys.exit(main())
