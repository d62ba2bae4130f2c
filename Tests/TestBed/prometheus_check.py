#!/usr/bin/env python3
"""Strict check of the Prometheus text exposition format 0.0.4 (promtool is not installed here).

  prometheus_check.py < metrics.txt      exit 0 and the parsed families as JSON on stdout,
                                         or exit 1 with one line per problem on stderr

Checks: metric and label name grammar, reserved label names, label value escaping (only \\\\, \\"
and \\n), HELP/TYPE at most once per family and before its samples, known TYPEs, one group of
lines per family, float values as Go's ParseFloat reads them, optional integer timestamps, no
duplicate series, a final newline. Stricter than Prometheus in one way: every family must have
HELP and TYPE. https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
"""
import json
import re
import sys

METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|NaN)$")
TIMESTAMP = re.compile(r"-?[0-9]+$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = ("_bucket", "_sum", "_count")


def family_of(name, types):
    for suffix in SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            return base
    return name


def parse_labels(text, pos, problems, lineno):
    labels = {}
    assert text[pos] == "{"
    pos += 1
    while True:
        if pos < len(text) and text[pos] == "}":
            return labels, pos + 1
        m = LABEL.match(text, pos)
        if not m:
            problems.append(f"line {lineno}: bad label name at column {pos + 1}")
            return labels, None
        name = m.group(0)
        if name.startswith("__"):
            problems.append(f"line {lineno}: reserved label name {name}")
        pos = m.end()
        if text[pos:pos + 2] != '="':
            problems.append(f"line {lineno}: expected =\" after label {name}")
            return labels, None
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                problems.append(f"line {lineno}: unterminated label value of {name}")
                return labels, None
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt not in ("\\", '"', "n"):
                    problems.append(f"line {lineno}: bad escape \\{nxt} in label {name}")
                    return labels, None
                value.append({"n": "\n"}.get(nxt, nxt))
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                problems.append(f"line {lineno}: raw newline in label {name}")
                return labels, None
            else:
                value.append(c)
                pos += 1
        if name in labels:
            problems.append(f"line {lineno}: label {name} twice")
        labels[name] = "".join(value)
        if text[pos:pos + 1] == ",":
            pos += 1
        elif text[pos:pos + 1] != "}":
            problems.append(f"line {lineno}: expected , or }} after label {name}")
            return labels, None


def check(text):
    problems = []
    if text and not text.endswith("\n"):
        problems.append("the last line does not end with a newline")
    helps, types, families, order, seen_series = {}, {}, {}, [], set()
    for lineno, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[0] == "#" and parts[1] in ("HELP", "TYPE"):
                kind, name = parts[1], parts[2]
                if not METRIC.fullmatch(name):
                    problems.append(f"line {lineno}: bad metric name in {kind}: {name!r}")
                    continue
                if name in families and families[name]["samples"]:
                    problems.append(f"line {lineno}: {kind} for {name} after its samples")
                if order and order[-1] != name and name in order:
                    problems.append(f"line {lineno}: family {name} is not one group of lines")
                if name not in order:
                    order.append(name)
                family = families.setdefault(name, {"help": None, "type": None, "samples": []})
                if kind == "HELP":
                    if name in helps:
                        problems.append(f"line {lineno}: second HELP for {name}")
                    doc = parts[3] if len(parts) > 3 else ""
                    if re.search(r"\\[^\\n]", doc.replace("\\\\", "")):
                        problems.append(f"line {lineno}: bad escape in HELP of {name}")
                    helps[name] = family["help"] = doc
                else:
                    if name in types:
                        problems.append(f"line {lineno}: second TYPE for {name}")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        problems.append(f"line {lineno}: unknown TYPE for {name}: {parts[3:] }")
                    types[name] = family["type"] = parts[3] if len(parts) == 4 else None
            continue
        m = METRIC.match(line)
        if not m:
            problems.append(f"line {lineno}: bad metric name: {line!r}")
            continue
        name, pos, labels = m.group(0), m.end(), {}
        if line[pos:pos + 1] == "{":
            labels, pos = parse_labels(line, pos, problems, lineno)
            if pos is None:
                continue
        rest = line[pos:]
        if not rest.startswith(" "):
            problems.append(f"line {lineno}: expected a space before the value")
            continue
        fields = rest.strip().split(" ")
        if len(fields) not in (1, 2) or not FLOAT.match(fields[0]):
            problems.append(f"line {lineno}: bad value {rest.strip()!r}")
            continue
        if len(fields) == 2 and not TIMESTAMP.match(fields[1]):
            problems.append(f"line {lineno}: bad timestamp {fields[1]!r}")
        base = family_of(name, types)
        if order and order[-1] != base and base in order:
            problems.append(f"line {lineno}: family {base} is not one group of lines")
        if base not in order:
            order.append(base)
        family = families.setdefault(base, {"help": None, "type": None, "samples": []})
        series = (name, tuple(sorted(labels.items())))
        if series in seen_series:
            problems.append(f"line {lineno}: duplicate series {name}{labels}")
        seen_series.add(series)
        family["samples"].append({"name": name, "labels": labels, "value": float(fields[0].replace("Inf", "inf"))})
    for name, family in families.items():
        if family["help"] is None:
            problems.append(f"family {name} has no HELP")
        if family["type"] is None:
            problems.append(f"family {name} has no TYPE")
    return families, problems


def main():
    families, problems = check(sys.stdin.read())
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    json.dump(families, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
