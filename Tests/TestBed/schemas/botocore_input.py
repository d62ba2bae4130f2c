"""Checks a JSON document as the input of one AWS operation, against botocore's model of it (the
`--cli-input-json` of `aws scheduler create-schedule`, `aws ecs register-task-definition` …).

botocore's own `validate_parameters` checks member names, types, required members and minimum
lengths; the service also refuses values outside an enum, over a maximum length or range, or not
matching a member's pattern, which botocore leaves to the server: checked here too from the same model.

Usage: python3 botocore_input.py SERVICE OPERATION < input.json
  exits 1 with one "path: problem" line per violation on stderr, 0 when the input is valid.
"""
import json
import re
import sys

try:
    # Java's regex dialect (the models' patterns use \p{L} …): the `regex` module reads it (moto's
    # cfn-lint brings it); Python's `re` does not.
    import regex as java_like_re
except ImportError:  # pragma: no cover
    java_like_re = re

import botocore.session
import botocore.validate
from botocore.exceptions import ParamValidationError


def input_shape(service, operation):
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape


def model_rules(value, shape, path, problems):
    """Enum, maximum length/range and pattern of every member (botocore's validator skips them)."""
    if value is None:
        return
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, item in value.items():
            if name in shape.members:
                model_rules(item, shape.members[name], f"{path}.{name}" if path else name, problems)
    elif shape.type_name == "list" and isinstance(value, list):
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append(f"{path}: {len(value)} items, at most {shape.metadata['max']}")
        for index, item in enumerate(value):
            model_rules(item, shape.member, f"{path}[{index}]", problems)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            model_rules(key, shape.key, f"{path} key {key!r}", problems)
            model_rules(item, shape.value, f"{path}.{key}", problems)
    elif shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append(f"{path}: {len(value)} characters, at most {shape.metadata['max']}")
        pattern = shape.metadata.get("pattern")
        # The service matches the whole value (Java's String.matches).
        if pattern:
            try:
                matched = java_like_re.fullmatch(pattern, value, java_like_re.DOTALL)
            except java_like_re.error as error:
                problems.append(f"{path}: the model's pattern {pattern} cannot be checked here ({error})")
            else:
                if not matched:
                    problems.append(f"{path}: {value!r} does not match the pattern {pattern}")
    elif shape.type_name in ("integer", "long") and isinstance(value, int):
        if "max" in shape.metadata and value > shape.metadata["max"]:
            problems.append(f"{path}: {value} is over the maximum {shape.metadata['max']}")


def problems_of(document, service, operation):
    shape = input_shape(service, operation)
    problems = []
    try:
        botocore.validate.validate_parameters(document, shape)
    except ParamValidationError as error:
        problems += [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
    model_rules(document, shape, "", problems)
    return problems


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    problems = problems_of(json.load(sys.stdin), sys.argv[1], sys.argv[2])
    for problem in problems:
        print(f"{sys.argv[1]}.{sys.argv[2]}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
