"""Checks a request's query parameters and JSON body against its discovery method, the way Google's
front end (ESF) parses them: an unknown query parameter or body field, a value of the wrong JSON
type, a string outside the enum, or a repeated value for a single parameter is a Violation naming
the field (`settings.activationPolicy`, `additions[0].ttl`).

Type rules follow the proto3 JSON mapping (https://protobuf.dev/programming-guides/proto3/#json):
64-bit integers may be a JSON string or number, 32-bit ones a number or a numeric string, booleans
only true/false, Timestamps RFC 3339, Durations "1.5s".
"""
import base64
import binascii
import re

from .discovery import Violation

INT_RE = re.compile(r"^-?\d+$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ---- query parameters ---------------------------------------------------------------------------
def validate_query(method, query):
    """{name: value or [values]} with values converted to their types; raises Violation."""
    out = {}
    for name, values in query.items():
        spec = method.params.get(name)
        if spec is None:
            raise Violation(name, f"unknown query parameter for {method.id}")
        if spec.get("location") != "query":
            raise Violation(name, f"is a {spec.get('location')} parameter of {method.id}, not a query parameter")
        if len(values) > 1 and not spec.get("repeated"):
            raise Violation(name, "given more than once but is not repeated")
        typed = [_query_value(name, spec, v) for v in values]
        out[name] = typed if spec.get("repeated") else typed[0]
    for name, spec in method.params.items():
        if spec.get("location") == "query" and spec.get("required") and name not in out:
            raise Violation(name, "required query parameter is missing")
    return out


def _query_value(name, spec, raw):
    t, fmt = spec.get("type", "string"), spec.get("format")
    if "enum" in spec and raw not in spec["enum"]:
        raise Violation(name, f"{raw!r} is not one of {spec['enum']}")
    if t == "boolean":
        if raw not in ("true", "false"):
            raise Violation(name, f"{raw!r} is not a boolean (true or false)")
        return raw == "true"
    if t == "integer" or fmt in ("int64", "uint64"):
        if not INT_RE.match(raw) or (raw.startswith("-") and fmt in ("uint32", "uint64")):
            raise Violation(name, f"{raw!r} is not an {fmt or 'integer'}")
        return int(raw)
    if t == "number":
        try:
            return float(raw)
        except ValueError:
            raise Violation(name, f"{raw!r} is not a number")
    _string_format(name, fmt, raw)
    if spec.get("pattern") and not re.search(spec["pattern"], raw):
        raise Violation(name, f"{raw!r} does not match {spec['pattern']}")
    return raw


# ---- JSON bodies --------------------------------------------------------------------------------
def validate_body(method, body):
    schemas = method.doc.get("schemas", {})
    ref = method.request_schema
    _check(schemas, {"$ref": ref}, body, "", ref)
    return body


def _check(schemas, spec, value, path, where):
    ref = spec.get("$ref")
    if ref:
        if ref not in schemas:
            raise Violation(path or "body", f"schema {ref} is missing from the discovery document")
        return _check(schemas, schemas[ref], value, path, ref)
    name = path or "body"
    if value is None:
        return  # proto3 JSON: null means the field's default
    t = spec.get("type")
    if t == "object" or "properties" in spec or "additionalProperties" in spec:
        if not isinstance(value, dict):
            raise Violation(name, f"expected a JSON object ({where}), found {_kind(value)}")
        props = spec.get("properties", {})
        extra = spec.get("additionalProperties")
        for key, v in value.items():
            sub = f"{path}.{key}" if path else key
            if key in props:
                _check(schemas, props[key], v, sub, where)
            elif extra is not None:
                _check(schemas, extra, v, sub, where)
            else:
                raise Violation(sub, f"Unknown name \"{key}\" at '{path or where}': Cannot find field "
                                     f"(not a field of {where})")
        return
    if t == "array":
        if not isinstance(value, list):
            raise Violation(name, f"expected a JSON array, found {_kind(value)}")
        for i, item in enumerate(value):
            _check(schemas, spec.get("items", {}), item, f"{path}[{i}]", where)
        return
    if t == "any":
        return
    fmt = spec.get("format")
    if t == "boolean":
        if not isinstance(value, bool):
            raise Violation(name, f"expected true or false, found {_kind(value)}")
    elif t == "integer" or (t == "string" and fmt in ("int64", "uint64")):
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and INT_RE.match(value))):
            raise Violation(name, f"expected an integer ({fmt}), found {_kind(value)} {value!r}")
        if fmt in ("uint32", "uint64") and int(value) < 0:
            raise Violation(name, f"expected an unsigned integer, found {value!r}")
    elif t == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) and value not in ("NaN", "Infinity", "-Infinity"):
            raise Violation(name, f"expected a number, found {_kind(value)}")
    elif t == "string":
        if not isinstance(value, str):
            raise Violation(name, f"expected a string, found {_kind(value)} {value!r}")
        if "enum" in spec and value not in spec["enum"]:
            raise Violation(name, f"Invalid value {value!r}: not one of {spec['enum']}")
        _string_format(name, fmt, value)


def _string_format(name, fmt, value):
    if fmt in ("google-datetime", "date-time") and not RFC3339.match(value):
        raise Violation(name, f"{value!r} is not an RFC 3339 timestamp")
    if fmt == "google-duration" and not DURATION.match(value):
        raise Violation(name, f"{value!r} is not a duration like \"3.5s\"")
    if fmt == "date" and not DATE.match(value):
        raise Violation(name, f"{value!r} is not a date YYYY-MM-DD")
    if fmt == "byte":
        try:
            base64.b64decode(value.replace("-", "+").replace("_", "/") + "==", validate=True)
        except (binascii.Error, ValueError):
            raise Violation(name, f"{value!r} is not base64")


def _kind(value):
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def parse_form_as_schema(method, form):
    """An RFC 8693 form (snake_case keys, as google-auth sends to STS) checked as the JSON request
    (camelCase fields) it stands for."""
    body = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in form.items()}
    return validate_body(method, body)
