"""Cloud SQL Admin API v1 stand-in (PostgreSQL): instances, their long-running Operations and
backup runs. The mutating methods are in cloudsql_actions.py.

Reference: https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances and
https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/operations. A mutating call answers an
Operation at once (PENDING), which is RUNNING from its startTime and DONE after the configured
duration (`POST /_gcp/config {"durations": {"sql.promoteReplica": 3}}`); its effect on the
instances happens at DONE, as the real control plane's. While an operation runs on an instance,
another mutating call on it is refused with 409 `operationInProgress`.
"""
import copy
import secrets
import uuid

from .core import GoogleError, rfc3339

DEFAULT_DURATIONS = {"sql.promoteReplica": 3, "sql.failover": 3, "sql.switchover": 4, "sql.patch": 2,
                     "sql.backupRuns.insert": 2, "sql.restoreBackup": 3, "sql.clone": 3, "sql.demote": 3,
                     "sql.demoteMaster": 2, "sql.delete": 1, "sql.restart": 2}


def not_found():
    return GoogleError(404, "The Cloud SQL instance does not exist.", reason="instanceDoesNotExist")


class CloudSQL:
    def __init__(self, bed):
        self.bed = bed
        self.reset()

    def reset(self):
        self.instances = {}   # (project, name) -> DatabaseInstance dict
        self.operations = {}  # (project, name) -> Operation dict + "_done"
        self.backups = {}     # (project, instance) -> [BackupRun]
        self.busy = {}        # (project, instance) -> operation name while not DONE

    # ---- resources --------------------------------------------------------------------------
    def link(self, project, *parts):
        return f"{self.bed.base_url}/sqladmin/v1/projects/{project}/" + "/".join(parts)

    def instance(self, project, name):
        inst = self.instances.get((project, name))
        if inst is None:
            raise not_found()
        return inst

    def seed(self, spec):
        """A DatabaseInstance from a partial one (admin API). `masterInstanceName` makes a read replica
        (listed in its master's replicaNames); `drReplica: true` on a replica makes it its master's
        cross-region DR replica (replicationCluster); instanceType ON_PREMISES_INSTANCE is the source
        representation instance of an external primary (onPremisesConfiguration.hostPort)."""
        spec = copy.deepcopy(spec)
        project = spec.pop("project", None) or self.bed.services["identities"].default_project
        name = spec["name"]
        dr = spec.pop("drReplica", False)
        region = spec.get("region", "us-central1")
        inst = {
            "kind": "sql#instance", "name": name, "project": project, "databaseVersion": "POSTGRES_15",
            "region": region, "gceZone": f"{region}-a", "state": "RUNNABLE", "instanceType": "CLOUD_SQL_INSTANCE",
            "backendType": "SECOND_GEN", "connectionName": f"{project}:{region}:{name}",
            "createTime": rfc3339(self.bed.now() - 86400), "etag": secrets.token_hex(16),
            "selfLink": self.link(project, "instances", name),
            "serviceAccountEmailAddress": f"p123456789012-{secrets.token_hex(3)}@gcp-sa-cloud-sql.iam.gserviceaccount.com",
            "ipAddresses": [{"type": "PRIMARY", "ipAddress": f"10.20.{len(self.instances) % 250}.{secrets.randbelow(250) + 2}"}],
            "settings": {"kind": "sql#settings", "tier": "db-custom-2-7680", "activationPolicy": "ALWAYS",
                         "availabilityType": "ZONAL", "settingsVersion": "1", "dataDiskSizeGb": "100",
                         "dataDiskType": "PD_SSD", "pricingPlan": "PER_USE", "replicationType": "SYNCHRONOUS",
                         "backupConfiguration": {"kind": "sql#backupConfiguration", "enabled": True,
                                                 "pointInTimeRecoveryEnabled": True, "transactionLogRetentionDays": 7,
                                                 "startTime": "03:00"},
                         "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": f"projects/{project}/global/networks/default"}},
        }
        settings = spec.pop("settings", {})
        inst.update(spec)
        inst["settings"].update(settings)
        if inst["settings"].get("availabilityType") == "REGIONAL" and "secondaryGceZone" not in inst:
            inst["secondaryGceZone"] = f"{region}-b"
        if inst["instanceType"] == "ON_PREMISES_INSTANCE":
            for k in ("settings", "ipAddresses", "gceZone", "serviceAccountEmailAddress", "backendType"):
                inst.pop(k, None)
            inst.setdefault("onPremisesConfiguration", {"kind": "sql#onPremisesConfiguration",
                                                        "hostPort": "192.0.2.10:5432"})
        master = inst.get("masterInstanceName")
        if master:
            inst["instanceType"] = "READ_REPLICA_INSTANCE"
            inst.setdefault("replicaConfiguration", {"kind": "sql#replicaConfiguration", "failoverTarget": False})
            m = self.instances.get((project, master))
            if m is not None:
                m.setdefault("replicaNames", [])
                if name not in m["replicaNames"]:
                    m["replicaNames"].append(name)
                if dr:
                    m["replicationCluster"] = {"failoverDrReplicaName": name, "drReplica": False}
                    inst["replicationCluster"] = {"drReplica": True}
        self.instances[(project, name)] = inst
        return inst

    def view(self, inst):
        return {k: v for k, v in copy.deepcopy(inst).items() if not k.startswith("_")}

    # ---- operations -------------------------------------------------------------------------
    def start(self, project, name, kind, op_type, effect, user, target=None):
        """An Operation on instance `name` that applies effect() when DONE (unless a failure was
        armed for `kind` with /_gcp/fail-next); 409 while another one runs on the instance."""
        key = (project, name)
        if key in self.busy:
            raise GoogleError(409, "Operation failed because another operation was already in progress. "
                                   "Try your request after the current operation is complete.",
                              status="ABORTED", reason="operationInProgress")
        now = self.bed.now()
        duration = self.bed.config.get("durations", {}).get(kind, DEFAULT_DURATIONS.get(kind, 2))
        op_name = str(uuid.uuid4())
        op = {"kind": "sql#operation", "name": op_name, "operationType": op_type, "user": user,
              "targetId": target or name, "targetProject": project,
              "targetLink": self.link(project, "instances", target or name),
              "selfLink": self.link(project, "operations", op_name),
              "insertTime": rfc3339(now), "startTime": rfc3339(now + min(0.5, duration / 4)),
              "_start": now + min(0.5, duration / 4), "_done": False}
        fail = self.bed.fail_next[kind] > 0
        if fail:
            self.bed.fail_next[kind] -= 1
        self.operations[(project, op_name)] = op
        self.busy[key] = op_name

        def finish():
            self.busy.pop(key, None)
            op["_done"] = True
            op["endTime"] = rfc3339(self.bed.now())
            if fail:
                msg = self.bed.config.get("fail_messages", {}).get(kind, "An internal error occurred.")
                op["error"] = {"kind": "sql#operationErrors",
                               "errors": [{"kind": "sql#operationError", "code": "INTERNAL_ERROR", "message": msg}]}
            else:
                effect()

        self.bed.after(duration, finish)
        return self.op_view(op)

    def op_view(self, op):
        out = {k: v for k, v in copy.deepcopy(op).items() if not k.startswith("_")}
        if op["_done"]:
            out["status"] = "DONE"
        elif self.bed.now() >= op["_start"]:
            out["status"] = "RUNNING"
        else:
            out["status"] = "PENDING"
            out.pop("startTime", None)
        return out

    # ---- admin ------------------------------------------------------------------------------
    def admin(self, method, parts, query, body):
        what = parts[0] if parts else ""
        if method == "POST" and what == "instances":
            return 200, self.view(self.seed(body))
        if method == "GET" and what == "instances":
            # `restoredFrom`: the backup run the last restoreBackup put in (the stand-in's own record).
            return 200, [self.view(i) | {"project": p, "restoredFrom": i.get("_restoredFrom")}
                         for (p, _), i in self.instances.items()]
        if method == "DELETE" and what == "instances" and len(parts) == 2:
            self.instances = {k: v for k, v in self.instances.items() if k[1] != parts[1]}
            return 200, {}
        if method == "GET" and what == "operations":
            return 200, [self.op_view(o) for o in self.operations.values()]
        if method == "POST" and what == "backupRuns":
            return 200, self.add_backup(body.get("project") or self.bed.services["identities"].default_project,
                                        body["instance"], body.get("type", "AUTOMATED"), body.get("age_seconds", 0),
                                        body.get("status", "SUCCESSFUL"))
        return 404, {"error": f"no {method} /_gcp/sqladmin/{'/'.join(parts)}"}

    def add_backup(self, project, instance, run_type, age_seconds=0, status="SUCCESSFUL", description=None):
        inst = self.instance(project, instance)
        end = self.bed.now() - float(age_seconds)
        run = {"kind": "sql#backupRun", "id": str(int(end * 1000)), "instance": instance, "type": run_type,
               "status": status, "backupKind": "SNAPSHOT", "location": inst.get("region"),
               "databaseVersion": inst.get("databaseVersion"), "enqueuedTime": rfc3339(end - 60),
               "startTime": rfc3339(end - 60), "endTime": rfc3339(end), "windowStartTime": rfc3339(end - 60),
               "selfLink": self.link(project, "instances", instance, "backupRuns", str(int(end * 1000)))}
        if description:
            run["description"] = description
        if status != "SUCCESSFUL":
            run.pop("endTime")
        self.backups.setdefault((project, instance), []).append(run)
        return run
