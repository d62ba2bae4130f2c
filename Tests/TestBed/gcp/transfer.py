"""Storage Transfer Service v1 stand-in (transfer jobs and their operations, for an S3 → GCS copy)
and Cloud Storage v1 bucket metadata (location type, turbo replication).

References: https://cloud.google.com/storage-transfer/docs/reference/rest/v1/transferOperations/list
(the `filter` is JSON: {"projectId", "jobNames", "operationNames", "transferStatuses"}; projectId is
required), .../transferJobs/get (projectId query parameter required), and
https://cloud.google.com/storage/docs/json_api/v1/buckets (locationType, rpo, customPlacementConfig).
"""
import copy
import json
import secrets

from .core import GoogleError, rfc3339

OP_TYPE = "type.googleapis.com/google.storagetransfer.v1.TransferOperation"
STATUSES = {"IN_PROGRESS", "PAUSED", "SUCCESS", "FAILED", "ABORTED", "QUEUED", "SUSPENDING"}


class StorageTransfer:
    def __init__(self, bed):
        self.bed = bed
        self.reset()

    def reset(self):
        self.jobs = {}        # job name -> TransferJob
        self.operations = []  # TransferOperation metadata dicts (newest last)

    def seed_job(self, spec):
        ids = self.bed.services["identities"]
        name = spec.get("name") or f"transferJobs/{secrets.randbelow(10 ** 19)}"
        job = {"name": name, "projectId": spec.get("project") or ids.default_project,
               "description": spec.get("description", "S3 to GCS for DR"), "status": spec.get("status", "ENABLED"),
               "transferSpec": spec.get("transferSpec") or {
                   "awsS3DataSource": {"bucketName": spec.get("source_bucket", "drctl-primary")},
                   "gcsDataSink": {"bucketName": spec.get("sink_bucket", "drctl-dr-us-central1")}},
               "schedule": {"scheduleStartDate": {"year": 2026, "month": 1, "day": 1},
                            "repeatInterval": spec.get("repeatInterval", "3600s")},
               "creationTime": rfc3339(self.bed.now() - 86400), "lastModificationTime": rfc3339(self.bed.now() - 86400)}
        self.jobs[name] = job
        return job

    def seed_operation(self, spec):
        """{"job", "status", "started_seconds_ago", "ended_seconds_ago", "objectsFromSourceFailed",
        "objectsCopiedToSink", "duration"}: with `duration` the operation is IN_PROGRESS and ends with
        `status` (default SUCCESS) that many seconds later."""
        job = self.jobs[spec["job"]]
        now = self.bed.now()
        final = spec.get("status", "SUCCESS")
        if final not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}")
        started = now - float(spec.get("started_seconds_ago", 600))
        name = f"transferOperations/{job['name'].replace('/', '-')}-{int(started * 1000)}"
        counters = {"objectsFoundFromSource": str(spec.get("objectsFoundFromSource", 10)),
                    "objectsCopiedToSink": str(spec.get("objectsCopiedToSink", 10)),
                    "bytesCopiedToSink": str(spec.get("bytesCopiedToSink", 10240))}
        if spec.get("objectsFromSourceFailed"):
            counters["objectsFromSourceFailed"] = str(spec["objectsFromSourceFailed"])
        op = {"name": name.split("/", 1)[1], "projectId": job["projectId"], "transferJobName": job["name"],
              "transferSpec": job["transferSpec"], "startTime": rfc3339(started), "status": final,
              "counters": counters}
        if "duration" in spec:
            op["status"] = "IN_PROGRESS"

            def finish():
                op["status"], op["endTime"] = final, rfc3339(self.bed.now())
            self.bed.after(float(spec["duration"]), finish)
        else:
            op["endTime"] = rfc3339(now - float(spec.get("ended_seconds_ago", 300)))
        self.operations.append(op)
        job["latestOperationName"] = name
        return self.op_view(op)

    def op_view(self, op):
        done = op["status"] in ("SUCCESS", "FAILED", "ABORTED")
        out = {"name": f"transferOperations/{op['name']}", "metadata": {"@type": OP_TYPE, **copy.deepcopy(op)},
               "done": done}
        out["metadata"]["name"] = out["name"]
        if done and op["status"] == "SUCCESS":
            out["response"] = {"@type": "type.googleapis.com/google.protobuf.Empty"}
        elif done:
            out["error"] = {"code": 10 if op["status"] == "ABORTED" else 2,
                            "message": f"Transfer operation {op['status'].lower()}"}
        return out

    def admin(self, method, parts, query, body):
        if method == "POST" and parts == ["jobs"]:
            return 200, self.seed_job(body)
        if method == "POST" and parts == ["operations"]:
            return 200, self.seed_operation(body)
        if method == "GET" and parts == ["jobs"]:
            return 200, {"jobs": list(self.jobs.values()), "operations": [self.op_view(o) for o in self.operations]}
        return 404, {"error": f"no {method} /_gcp/storagetransfer/{'/'.join(parts)}"}


class StorageBuckets:
    def __init__(self, bed):
        self.bed = bed
        self.reset()

    def reset(self):
        self.buckets = {}

    def seed(self, spec):
        ids = self.bed.services["identities"]
        project = spec.get("project") or ids.default_project
        name = spec["name"]
        loc_type = spec.get("locationType", "region")
        location = spec.get("location", {"region": "US-CENTRAL1", "dual-region": "US", "multi-region": "US"}[loc_type])
        b = {"kind": "storage#bucket", "id": name, "name": name, "selfLink": f"{self.bed.base_url}/storage/storage/v1/b/{name}",
             "projectNumber": ids.projects[project]["number"], "location": location.upper(), "locationType": loc_type,
             "storageClass": spec.get("storageClass", "STANDARD"), "metageneration": "1",
             "etag": "CAE=", "timeCreated": rfc3339(self.bed.now() - 86400), "updated": rfc3339(self.bed.now() - 86400),
             "versioning": {"enabled": bool(spec.get("versioning", True))},
             "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"},
             "_project": project}
        if loc_type in ("dual-region", "multi-region"):
            b["rpo"] = spec.get("rpo", "DEFAULT")
        if spec.get("dataLocations"):
            b["customPlacementConfig"] = {"dataLocations": [d.upper() for d in spec["dataLocations"]]}
        if b.get("rpo") == "ASYNC_TURBO" and loc_type != "dual-region":
            raise ValueError("rpo ASYNC_TURBO needs a dual-region bucket, as Cloud Storage requires")
        self.buckets[name] = b
        return self.view(b)

    def view(self, b):
        return {k: v for k, v in b.items() if not k.startswith("_")}

    def admin(self, method, parts, query, body):
        if method == "POST" and parts == ["buckets"]:
            return 200, self.seed(body)
        if method == "GET" and parts == ["buckets"]:
            return 200, [self.view(b) for b in self.buckets.values()]
        return 404, {"error": f"no {method} /_gcp/storage/{'/'.join(parts)}"}


def register(bed, ids, handlers):
    sts = bed.services.setdefault("storagetransfer", StorageTransfer(bed))
    gcs = bed.services.setdefault("storage", StorageBuckets(bed))

    def job_get(req):
        job = sts.jobs.get(req.params["jobName"])
        if job is None or job["projectId"] != req.params["projectId"]:
            raise GoogleError(404, f"Transfer job {req.params['jobName']} does not exist.", reason="notFound")
        return 200, job

    def ops_list(req):
        try:
            flt = json.loads(req.params["filter"])
            assert isinstance(flt, dict)
        except (ValueError, AssertionError):
            raise GoogleError(400, "Invalid filter: must be a JSON object with projectId.", reason="badRequest")
        unknown = set(flt) - {"projectId", "project_id", "jobNames", "job_names", "operationNames",
                              "operation_names", "transferStatuses", "transfer_statuses"}
        if unknown:
            bed.violation(req.method.id, req.raw_path, "filter", f"unknown filter keys {sorted(unknown)}")
            raise GoogleError(400, f"Invalid filter: unknown keys {sorted(unknown)}.", reason="badRequest")
        project = flt.get("projectId") or flt.get("project_id")
        if not project:
            raise GoogleError(400, "Invalid filter: projectId is required.", reason="badRequest")
        jobs = flt.get("jobNames") or flt.get("job_names")
        statuses = flt.get("transferStatuses") or flt.get("transfer_statuses")
        ops = [o for o in reversed(sts.operations) if o["projectId"] == project
               and (not jobs or o["transferJobName"] in jobs) and (not statuses or o["status"] in statuses)]
        size = int(req.params.get("pageSize") or 256)
        start = int(req.params.get("pageToken") or 0)
        out = {"operations": [sts.op_view(o) for o in ops[start:start + size]]}
        if start + size < len(ops):
            out["nextPageToken"] = str(start + size)
        return 200, out if out["operations"] else {}

    def bucket_get(req):
        b = gcs.buckets.get(req.params["bucket"])
        if b is None:
            raise GoogleError(404, "The specified bucket does not exist.", reason="notFound")
        req.authorize(b["_project"])
        return 200, gcs.view(b)

    handlers.update({"storagetransfer.transferJobs.get": job_get,
                     "storagetransfer.transferOperations.list": ops_list, "storage.buckets.get": bucket_get})
