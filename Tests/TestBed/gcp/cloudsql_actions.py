"""The Cloud SQL Admin v1 methods drctl uses, each refusing what Cloud SQL refuses.
https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances (one section per method)."""
import calendar
import time

from .cloudsql import CloudSQL
from .core import GoogleError

PAGE = 100


def register(bed, ids, handlers):
    sql = bed.services.setdefault("sqladmin", CloudSQL(bed))

    def user(req):
        return req.caller["principal"]

    def get(req):
        return 200, sql.view(sql.instance(req.params["project"], req.params["instance"]))

    def list_(req):
        p = req.params["project"]
        items = [sql.view(i) for (proj, _), i in sorted(sql.instances.items()) if proj == p]
        return 200, _page({"kind": "sql#instancesList"}, items, req)

    def promote(req):
        # https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/promoteReplica
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        if inst["instanceType"] != "READ_REPLICA_INSTANCE":
            raise GoogleError(400, "The instance is not a read replica instance.", reason="notAReplica")
        failover = req.params.get("failover", False)

        def effect():
            master = sql.instances.get((p, inst.get("masterInstanceName")))
            inst["instanceType"] = "CLOUD_SQL_INSTANCE"
            inst.pop("masterInstanceName", None)
            inst.pop("replicaConfiguration", None)
            inst.pop("replicationCluster", None)
            if master is not None:
                master["replicaNames"] = [r for r in master.get("replicaNames", []) if r != name]
                if not master["replicaNames"]:
                    master.pop("replicaNames")
                master.pop("replicationCluster", None)
                if failover and master["instanceType"] == "CLOUD_SQL_INSTANCE":
                    # Replica failover: the old primary comes back as a replica of the promoted DR replica.
                    _make_replica(sql, p, master, name, dr=True)
        return 200, sql.start(p, name, "sql.promoteReplica", "PROMOTE_REPLICA", effect, user(req))

    def failover(req):
        # https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/failover (HA, same region)
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        if inst.get("settings", {}).get("availabilityType") != "REGIONAL":
            raise GoogleError(400, "The requested operation is not valid for an instance that is not configured "
                                   "for high availability.", reason="invalidOperation")
        version = (req.body.get("failoverContext") or {}).get("settingsVersion")
        if version is None:
            raise GoogleError(400, "Missing required field: failoverContext.settingsVersion (the instance's "
                                   "current settings version).", reason="required")
        if str(version) != inst["settings"]["settingsVersion"]:
            raise GoogleError(412, "Precondition check failed: the settings version does not match the "
                                   "instance's current settingsVersion.", reason="staleData")

        def effect():
            inst["gceZone"], inst["secondaryGceZone"] = inst.get("secondaryGceZone"), inst.get("gceZone")
        return 200, sql.start(p, name, "sql.failover", "FAILOVER", effect, user(req))

    def switchover(req):
        # https://cloud.google.com/sql/docs/postgres/replication/cross-region-replicas#switchover:
        # called on the DR replica; the old primary becomes its DR replica, no data loss.
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        master = sql.instances.get((p, inst.get("masterInstanceName")))
        if inst["instanceType"] != "READ_REPLICA_INSTANCE" or master is None or \
                (master.get("replicationCluster") or {}).get("failoverDrReplicaName") != name:
            raise GoogleError(400, "Switchover is only supported for the DR replica of a Cloud SQL primary "
                                   "instance.", reason="invalidOperation")

        def effect():
            others = [r for r in master.get("replicaNames", []) if r != name]
            inst["instanceType"] = "CLOUD_SQL_INSTANCE"
            for k in ("masterInstanceName", "replicaConfiguration"):
                inst.pop(k, None)
            master.pop("replicaNames", None)
            _make_replica(sql, p, master, name, dr=True)
            for r in others:  # the old primary's other replicas follow the new primary
                ri = sql.instances.get((p, r))
                if ri is not None:
                    ri["masterInstanceName"] = name
                    inst.setdefault("replicaNames", []).append(r)
        return 200, sql.start(p, name, "sql.switchover", "SWITCHOVER", effect, user(req))

    def patch(req):
        # PATCH semantics: only the fields sent change; settings.settingsVersion, when sent, must be current.
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        body = req.body
        sent = (body.get("settings") or {}).get("settingsVersion")
        if sent is not None and str(sent) != inst.get("settings", {}).get("settingsVersion"):
            raise GoogleError(412, "Precondition check failed.", reason="staleData")
        if (body.get("settings") or {}).get("activationPolicy") == "NEVER" and inst.get("replicaNames"):
            # Cloud SQL does not stop a primary that still has read replicas (wording paraphrased).
            raise GoogleError(400, "The instance has read replicas; stop or delete them before stopping the primary.",
                              status="FAILED_PRECONDITION", reason="invalidOperation")

        def effect():
            _merge(inst, {k: v for k, v in body.items() if k in ("settings", "databaseVersion", "maintenanceVersion")})
            inst["settings"]["settingsVersion"] = str(int(inst["settings"]["settingsVersion"]) + 1)
        return 200, sql.start(p, name, "sql.patch", "UPDATE", effect, user(req))

    def backup_insert(req):
        p, name = req.params["project"], req.params["instance"]
        sql.instance(p, name)
        # The BackupRun keeps the description the caller gave (how a client finds its own backup).
        description = req.body.get("description")
        return 200, sql.start(p, name, "sql.backupRuns.insert", "BACKUP_VOLUME",
                              lambda: sql.add_backup(p, name, "ON_DEMAND", description=description), user(req))

    def backup_list(req):
        p, name = req.params["project"], req.params["instance"]
        sql.instance(p, name)
        runs = sorted(sql.backups.get((p, name), []), key=lambda r: r["enqueuedTime"], reverse=True)
        return 200, _page({"kind": "sql#backupRunsList"}, runs, req)

    def restore(req):
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        ctx = req.body.get("restoreBackupContext") or {}
        source = ctx.get("instanceId") or name
        run_id = ctx.get("backupRunId")
        runs = sql.backups.get((ctx.get("project") or p, source), [])
        if not any(r["id"] == str(run_id) and r["status"] == "SUCCESSFUL" for r in runs):
            raise GoogleError(404, "The backup run does not exist.", reason="backupRunDoesNotExist")
        if inst["instanceType"] == "READ_REPLICA_INSTANCE":
            raise GoogleError(400, "The requested operation is not valid for a replica instance.",
                              reason="invalidOperation")
        return 200, sql.start(p, name, "sql.restoreBackup", "RESTORE_VOLUME",
                              lambda: inst.update(_restoredFrom={"instance": source, "backupRunId": str(run_id)}),
                              user(req))

    def clone(req):
        # https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/clone; pointInTime
        # needs point-in-time recovery and lies within the log retention window, not in the future.
        p, name = req.params["project"], req.params["instance"]
        src = sql.instance(p, name)
        ctx = req.body.get("cloneContext") or {}
        dest = ctx.get("destinationInstanceName")
        if not dest:
            raise GoogleError(400, "Missing destination instance name.", reason="required")
        if (p, dest) in sql.instances:
            raise GoogleError(409, "The Cloud SQL instance already exists.", reason="instanceAlreadyExists")
        if ctx.get("pointInTime"):
            backup = src.get("settings", {}).get("backupConfiguration", {})
            t = _parse_time(ctx["pointInTime"])
            days = backup.get("transactionLogRetentionDays", 7)
            if not backup.get("pointInTimeRecoveryEnabled"):
                raise GoogleError(400, "Point-in-time recovery is not enabled on the source instance.",
                                  reason="invalidOperation")
            if t > bed.now() or t < bed.now() - days * 86400:
                raise GoogleError(400, "The point in time is not within the instance's recovery window.",
                                  reason="invalidPointInTime")
        clone_spec = {"name": dest, "project": p, "region": src.get("region"),
                      "databaseVersion": src.get("databaseVersion"), "state": "PENDING_CREATE",
                      "settings": {k: v for k, v in src.get("settings", {}).items() if k != "settingsVersion"}}
        sql.seed(clone_spec)["_clonedFrom"] = {"instance": name, "pointInTime": ctx.get("pointInTime")}
        dest_inst = sql.instances[(p, dest)]
        return 200, sql.start(p, name, "sql.clone", "CLONE", lambda: dest_inst.update(state="RUNNABLE"), user(req))

    def demote(req):
        # Demote a primary to a replica of an external source (reprotect after a cross-cloud failover).
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        rep = (req.body.get("demoteContext") or {}).get("sourceRepresentativeInstanceName")
        return _demote_to(req, p, name, inst, rep, "sql.demote", "DEMOTE")

    def demote_master(req):
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        rep = (req.body.get("demoteMasterContext") or {}).get("masterInstanceName")
        return _demote_to(req, p, name, inst, rep, "sql.demoteMaster", "DEMOTE_MASTER")

    def _demote_to(req, p, name, inst, rep, kind, op_type):
        if not rep or (p, rep) not in sql.instances or sql.instances[(p, rep)]["instanceType"] != "ON_PREMISES_INSTANCE":
            raise GoogleError(400, "The source representation instance does not exist or is not an external "
                                   "server.", reason="invalidOperation")
        if inst["instanceType"] != "CLOUD_SQL_INSTANCE" or inst.get("replicaNames"):
            raise GoogleError(400, "Only a primary instance without replicas can be demoted.",
                              reason="invalidOperation")
        return 200, sql.start(p, name, kind, op_type, lambda: _make_replica(sql, p, inst, rep), user(req))

    def delete(req):
        p, name = req.params["project"], req.params["instance"]
        inst = sql.instance(p, name)
        if inst.get("replicaNames"):
            raise GoogleError(400, "The instance has read replicas; delete them before deleting the primary.",
                              reason="invalidOperation")
        if inst.get("settings", {}).get("deletionProtectionEnabled"):
            raise GoogleError(400, "The instance is protected from deletion.", reason="deletionProtectionEnabled")

        def effect():
            sql.instances.pop((p, name), None)
            master = sql.instances.get((p, inst.get("masterInstanceName")))
            if master is not None:
                master["replicaNames"] = [r for r in master.get("replicaNames", []) if r != name]
        result = sql.start(p, name, "sql.delete", "DELETE", effect, user(req))
        inst["state"] = "PENDING_DELETE"
        return 200, result

    def op_get(req):
        op = sql.operations.get((req.params["project"], req.params["operation"]))
        if op is None:
            raise GoogleError(404, "The Cloud SQL operation does not exist.", reason="operationDoesNotExist")
        return 200, sql.op_view(op)

    def op_list(req):
        p, inst = req.params["project"], req.params.get("instance")
        ops = [sql.op_view(o) for (proj, _), o in sql.operations.items()
               if proj == p and (inst is None or o["targetId"] == inst)]
        return 200, _page({"kind": "sql#operationsList"}, ops[::-1], req)

    for mid, fn in {"get": get, "list": list_, "promoteReplica": promote, "failover": failover,
                    "switchover": switchover, "patch": patch, "restoreBackup": restore, "clone": clone,
                    "demote": demote, "demoteMaster": demote_master, "delete": delete}.items():
        handlers[f"sql.instances.{mid}"] = fn
    handlers.update({"sql.backupRuns.insert": backup_insert, "sql.backupRuns.list": backup_list,
                     "sql.operations.get": op_get, "sql.operations.list": op_list})


def _make_replica(sql, project, inst, master_name, dr=False):
    inst["instanceType"] = "READ_REPLICA_INSTANCE"
    inst["masterInstanceName"] = master_name
    inst["replicaConfiguration"] = {"kind": "sql#replicaConfiguration", "failoverTarget": False}
    inst.pop("replicaNames", None)
    master = sql.instances.get((project, master_name))
    if master is not None:
        master.setdefault("replicaNames", [])
        if inst["name"] not in master["replicaNames"]:
            master["replicaNames"].append(inst["name"])
        if dr:
            master["replicationCluster"] = {"failoverDrReplicaName": inst["name"], "drReplica": False}
            inst["replicationCluster"] = {"drReplica": True}


def _merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


def _parse_time(text):
    base = text.split(".")[0].rstrip("Z")
    frac = float("0." + text.split(".")[1].rstrip("Z")) if "." in text else 0.0
    return calendar.timegm(time.strptime(base[:19], "%Y-%m-%dT%H:%M:%S")) + frac


def _page(head, items, req):
    """maxResults/pageToken paging (the token is the next index, opaque to clients)."""
    size = int(req.params.get("maxResults") or PAGE)
    start = int(req.params.get("pageToken") or 0)
    out = dict(head, items=items[start:start + size])
    if start + size < len(items):
        out["nextPageToken"] = str(start + size)
    if not out["items"]:
        out.pop("items")  # Google omits empty repeated fields
    return out
