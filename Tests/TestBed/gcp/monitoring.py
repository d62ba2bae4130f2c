"""Cloud Monitoring v3 stand-in: `projects.timeSeries.list` over seeded series, for Cloud SQL's
replica lag (cloudsql.googleapis.com/database/replication/replica_lag, resource cloudsql_database,
label database_id = "PROJECT:INSTANCE").

Reference: https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list and the
filter grammar https://cloud.google.com/monitoring/api/v3/filters. Supported filter terms, joined by
AND: `metric.type = "…"`, `resource.type = "…"`, `resource.labels.KEY = "…"` (also `resource.label.`),
`metric.labels.KEY = "…"`, and `= one_of("a", "b")`; anything else is 400 and a violation. Points
come newest first, as Monitoring returns them; `aggregation.perSeriesAligner` ALIGN_MAX / MEAN /
MIN / NEXT_OLDER with `aggregation.alignmentPeriod` buckets them.
"""
import re

from .core import GoogleError, rfc3339
from .cloudsql_actions import _parse_time

LAG = "cloudsql.googleapis.com/database/replication/replica_lag"
TERM = re.compile(r'^\s*(metric\.type|resource\.type|resource\.labels?\.(\w+)|metric\.labels?\.(\w+))\s*=\s*'
                  r'(?:"([^"]*)"|one_of\(\s*((?:"[^"]*"\s*,?\s*)+)\))\s*$')


class Monitoring:
    def __init__(self, bed):
        self.bed = bed
        self.reset()

    def reset(self):
        self.series = []  # {"metric": {...}, "resource": {...}, "points": [(t, value)], "constant": v or None}

    def seed(self, spec):
        """{"database_id": "p:i", "points": [{"seconds_ago": 30, "value": 4.2}] } or a full
        {"metric", "resource", "points"}; `"constant": v` adds a point every 60 s whatever the interval
        asked (a steady lag without reseeding). Seeding the same series again replaces it."""
        ids = self.bed.services["identities"]
        if "database_id" in spec:
            project = spec["database_id"].split(":")[0]
            metric = {"type": spec.get("metric", LAG), "labels": {}}
            resource = {"type": "cloudsql_database",
                        "labels": {"database_id": spec["database_id"], "project_id": project,
                                   "region": spec.get("region", "us-central1")}}
        else:
            metric, resource = spec["metric"], spec["resource"]
            metric.setdefault("labels", {})
        project = resource["labels"].get("project_id", ids.default_project)
        now = self.bed.now()
        points = [(now - float(p.get("seconds_ago", 0)) if "t" not in p else float(p["t"]), float(p["value"]))
                  for p in spec.get("points", [])]
        self.series = [s for s in self.series if (s["metric"], s["resource"]) != (metric, resource)]
        self.series.append({"project": project, "metric": metric, "resource": resource, "points": points,
                            "constant": spec.get("constant")})
        return {"series": len(self.series)}

    def admin(self, method, parts, query, body):
        if method == "POST" and parts == ["series"]:
            return 200, self.seed(body)
        if method == "GET" and parts == ["series"]:
            return 200, self.series
        return 404, {"error": f"no {method} /_gcp/monitoring/{'/'.join(parts)}"}

    def list(self, project, params):
        terms = _parse_filter(params["filter"])
        end = _parse_time(params["interval.endTime"])
        start = _parse_time(params["interval.startTime"]) if params.get("interval.startTime") else end
        if start > end:
            raise GoogleError(400, "The start time must be before the end time.", reason="badRequest")
        out = []
        for s in self.series:
            if s["project"] != project or not all(_matches(s, k, vs) for k, vs in terms):
                continue
            pts = [(t, v) for t, v in s["points"] if start <= t <= end]
            if s["constant"] is not None:
                t = end
                while t >= start and len(pts) < 10000:
                    pts.append((t, float(s["constant"])))
                    t -= 60
            pts = _align(sorted(pts, reverse=True), params, start, end)
            if not pts:
                continue
            ts = {"metric": s["metric"], "resource": s["resource"], "metricKind": "GAUGE", "valueType": "DOUBLE",
                  "points": [{"interval": {"startTime": rfc3339(t), "endTime": rfc3339(t)}, "value": {"doubleValue": v}}
                             for t, v in pts]}
            if params.get("view") == "HEADERS":
                ts.pop("points")
            out.append(ts)
        return {"timeSeries": out, "unit": "s"} if out else {"unit": "s"}


def _parse_filter(text):
    terms = []
    for part in re.split(r"\s+AND\s+", text.strip()):
        m = TERM.match(part)
        if not m:
            raise ValueError(f"unsupported filter term {part!r}")
        key = m.group(1)
        values = [m.group(4)] if m.group(4) is not None else re.findall(r'"([^"]*)"', m.group(5))
        terms.append((key, values))
    return terms


def _matches(series, key, values):
    if key == "metric.type":
        have = series["metric"]["type"]
    elif key == "resource.type":
        have = series["resource"]["type"]
    elif key.startswith("resource."):
        have = series["resource"]["labels"].get(key.split(".")[-1])
    else:
        have = series["metric"]["labels"].get(key.split(".")[-1])
    return have in values


def _align(points, params, start, end):
    aligner = params.get("aggregation.perSeriesAligner")
    if not aligner or aligner == "ALIGN_NONE":
        return points
    period = float(str(params.get("aggregation.alignmentPeriod", "60s")).rstrip("s"))
    fns = {"ALIGN_MAX": max, "ALIGN_MIN": min, "ALIGN_MEAN": lambda v: sum(v) / len(v),
           "ALIGN_NEXT_OLDER": lambda v: v[0]}
    if aligner not in fns:
        raise GoogleError(400, f"The aligner {aligner} is not supported by the test bed for a GAUGE DOUBLE metric.",
                          reason="badRequest")
    out, t = [], end
    while t > start - period:
        bucket = [v for pt, v in points if t - period < pt <= t]
        if bucket:
            out.append((t, fns[aligner](bucket)))
        t -= period
    return out


def register(bed, ids, handlers):
    mon = bed.services.setdefault("monitoring", Monitoring(bed))

    def ts_list(req):
        project = req.params["name"].split("/")[1]
        if "interval.endTime" not in req.params:
            raise GoogleError(400, "Field interval.endTime is required.", reason="badRequest")
        try:
            return 200, mon.list(project, req.params)
        except ValueError as e:
            bed.violation(req.method.id, req.raw_path, "filter", str(e))
            raise GoogleError(400, f"Field filter had an invalid value: {e}", reason="badRequest")

    handlers["monitoring.projects.timeSeries.list"] = ts_list
