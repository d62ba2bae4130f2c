"""gcpbed's control planes over real HTTP, driven by google-api-python-client (whose requests must
pass validation) and by hand-made wrong requests (which must be flagged)."""
import json
import time
import unittest
from googleapiclient.errors import HttpError

from harness import BedTestCase

P = "drctl-dr"


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class CloudSQL(BedTestCase):
    def seed_pair(self):
        self.admin("sqladmin/instances", {"name": "orders", "region": "us-east4",
                                          "settings": {"availabilityType": "REGIONAL"}})
        self.admin("sqladmin/instances", {"name": "orders-dr", "masterInstanceName": "orders", "drReplica": True})

    def test_promote_replica_is_an_operation_whose_effect_comes_at_done(self):
        self.seed_pair()
        sql = self.client("sqladmin", "v1")
        op = sql.instances().promoteReplica(project=P, instance="orders-dr").execute()
        self.assertEqual((op["kind"], op["status"], op["operationType"], op["targetId"]),
                         ("sql#operation", "PENDING", "PROMOTE_REPLICA", "orders-dr"))
        self.assertEqual(sql.instances().get(project=P, instance="orders-dr").execute()["instanceType"],
                         "READ_REPLICA_INSTANCE")
        status, err = self.error_of(sql.instances().promoteReplica(project=P, instance="orders-dr"))
        self.assertEqual((status, err["errors"][0]["reason"]), (409, "operationInProgress"))
        done, seen = self.wait_sql(sql, op)
        self.assertEqual(seen[-2:], ["RUNNING", "DONE"])
        self.assertNotIn("error", done)
        replica = sql.instances().get(project=P, instance="orders-dr").execute()
        primary = sql.instances().get(project=P, instance="orders").execute()
        self.assertEqual((replica["instanceType"], replica.get("masterInstanceName")), ("CLOUD_SQL_INSTANCE", None))
        self.assertNotIn("replicaNames", primary)
        self.assertEqual(self.admin("calls", method="GET")["sql.instances.promoteReplica"], 2)
        self.assertNoViolations()

    def test_refusals_as_cloud_sql(self):
        self.seed_pair()
        sql = self.client("sqladmin", "v1")
        status, err = self.error_of(sql.instances().promoteReplica(project=P, instance="orders"))
        self.assertEqual((status, err["status"]), (400, "INVALID_ARGUMENT"))
        status, err = self.error_of(sql.instances().get(project=P, instance="nope"))
        self.assertEqual((status, err["errors"][0]["reason"]), (404, "instanceDoesNotExist"))
        status, _ = self.error_of(sql.instances().failover(project=P, instance="orders-dr", body={}))
        self.assertEqual(status, 400)  # not HA
        status, _ = self.error_of(sql.instances().failover(
            project=P, instance="orders", body={"failoverContext": {"settingsVersion": "99"}}))
        self.assertEqual(status, 412)
        status, _ = self.error_of(sql.instances().failover(project=P, instance="orders", body={}))
        self.assertEqual(status, 400)  # settingsVersion is required
        status, _ = self.error_of(sql.instances().switchover(project=P, instance="orders"))
        self.assertEqual(status, 400)  # switchover is called on the DR replica

    def test_replica_of_an_external_primary_promotes(self):
        self.admin("sqladmin/instances", {"name": "rds-source", "instanceType": "ON_PREMISES_INSTANCE",
                                          "onPremisesConfiguration": {"hostPort": "203.0.113.5:5432"}})
        self.admin("sqladmin/instances", {"name": "orders-gcp", "masterInstanceName": "rds-source"})
        sql = self.client("sqladmin", "v1")
        source = sql.instances().get(project=P, instance="rds-source").execute()
        self.assertEqual((source["instanceType"], source["replicaNames"]), ("ON_PREMISES_INSTANCE", ["orders-gcp"]))
        self.wait_sql(sql, sql.instances().promoteReplica(project=P, instance="orders-gcp").execute())
        self.assertEqual(sql.instances().get(project=P, instance="orders-gcp").execute()["instanceType"],
                         "CLOUD_SQL_INSTANCE")

    def test_ha_failover_moves_the_primary_to_its_secondary_zone(self):
        self.seed_pair()
        sql = self.client("sqladmin", "v1")
        before = sql.instances().get(project=P, instance="orders").execute()
        self.wait_sql(sql, sql.instances().failover(project=P, instance="orders", body={"failoverContext": {
            "settingsVersion": before["settings"]["settingsVersion"]}}).execute())
        after = sql.instances().get(project=P, instance="orders").execute()
        self.assertEqual((after["gceZone"], after["secondaryGceZone"]), (before["secondaryGceZone"], before["gceZone"]))
        self.assertNoViolations()

    def test_switchover_swaps_primary_and_dr_replica(self):
        self.seed_pair()
        sql = self.client("sqladmin", "v1")
        self.wait_sql(sql, sql.instances().switchover(project=P, instance="orders-dr").execute())
        new, old = (sql.instances().get(project=P, instance=n).execute() for n in ("orders-dr", "orders"))
        self.assertEqual(new["replicationCluster"], {"failoverDrReplicaName": "orders", "drReplica": False})
        self.assertEqual((old["instanceType"], old["masterInstanceName"]), ("READ_REPLICA_INSTANCE", "orders-dr"))

    def test_patch_fences_and_a_failed_operation_changes_nothing(self):
        self.seed_pair()
        self.admin("sqladmin/instances", {"name": "solo"})
        sql = self.client("sqladmin", "v1")
        self.admin("fail-next", {"kind": "sqladmin.patch", "message": "disk quota"})
        done, _ = self.wait_sql(sql, sql.instances().patch(project=P, instance="solo",
                                                           body={"settings": {"activationPolicy": "NEVER"}}).execute())
        self.assertEqual(done["error"]["errors"][0]["message"], "disk quota")
        self.assertEqual(sql.instances().get(project=P, instance="solo").execute()["settings"]["activationPolicy"],
                         "ALWAYS")
        self.wait_sql(sql, sql.instances().patch(project=P, instance="solo",
                                                 body={"settings": {"activationPolicy": "NEVER"}}).execute())
        settings = sql.instances().get(project=P, instance="solo").execute()["settings"]
        self.assertEqual((settings["activationPolicy"], settings["settingsVersion"]), ("NEVER", "2"))

    def test_a_primary_with_replicas_is_not_stopped(self):
        self.seed_pair()
        sql = self.client("sqladmin", "v1")
        with self.assertRaises(HttpError) as refused:
            sql.instances().patch(project=P, instance="orders", body={"settings": {"activationPolicy": "NEVER"}}).execute()
        self.assertEqual(refused.exception.resp.status, 400)
        self.assertEqual(sql.instances().get(project=P, instance="orders").execute()["settings"]["activationPolicy"],
                         "ALWAYS")

    def test_backups_and_clone_at_a_point_in_time(self):
        self.seed_pair()
        sql = self.client("sqladmin", "v1")
        self.wait_sql(sql, sql.backupRuns().insert(project=P, instance="orders", body={"description": "drill"}).execute())
        runs = sql.backupRuns().list(project=P, instance="orders").execute()["items"]
        self.assertEqual([(r["type"], r["status"], r["description"]) for r in runs], [("ON_DEMAND", "SUCCESSFUL", "drill")])
        status, _ = self.error_of(sql.instances().clone(project=P, instance="orders", body={"cloneContext": {
            "destinationInstanceName": "drill", "pointInTime": rfc3339(time.time() - 30 * 86400)}}))
        self.assertEqual(status, 400)  # outside the 7-day log retention
        op = sql.instances().clone(project=P, instance="orders", body={"cloneContext": {
            "destinationInstanceName": "drill", "pointInTime": rfc3339(time.time() - 600)}}).execute()
        self.assertEqual(sql.instances().get(project=P, instance="drill").execute()["state"], "PENDING_CREATE")
        self.wait_sql(sql, op)
        self.assertEqual(sql.instances().get(project=P, instance="drill").execute()["state"], "RUNNABLE")
        self.wait_sql(sql, sql.instances().delete(project=P, instance="drill").execute())
        status, _ = self.error_of(sql.instances().get(project=P, instance="drill"))
        self.assertEqual(status, 404)
        self.assertNoViolations()


class OtherControlPlanes(BedTestCase):
    def test_dns_change_is_atomic_and_refuses_stale_deletions(self):
        self.admin("dns/zones", {"name": "app", "dnsName": "app.example.com.", "records": [
            {"name": "db.app.example.com.", "type": "CNAME", "ttl": 60, "rrdatas": ["aws.example.com."]}]})
        dns = self.client("dns", "v1")
        current = dns.resourceRecordSets().list(project=P, managedZone="app", name="db.app.example.com.",
                                                type="CNAME").execute()["rrsets"]
        stale = [dict(current[0], rrdatas=["old.example.com."])]
        status, err = self.error_of(dns.changes().create(project=P, managedZone="app", body={
            "deletions": stale, "additions": [dict(current[0], rrdatas=["gcp.example.com."])]}))
        self.assertEqual((status, err["errors"][0]["reason"]), (412, "conditionNotMet"))
        change = dns.changes().create(project=P, managedZone="app", body={
            "deletions": current, "additions": [dict(current[0], rrdatas=["gcp.example.com."])]}).execute()
        self.assertEqual(change["status"], "pending")
        time.sleep(0.4)
        self.assertEqual(dns.changes().get(project=P, managedZone="app", changeId=change["id"]).execute()["status"], "done")
        now = dns.resourceRecordSets().list(project=P, managedZone="app", name="db.app.example.com.").execute()
        self.assertEqual(now["rrsets"][0]["rrdatas"], ["gcp.example.com."])
        self.assertNoViolations()

    def test_gke_node_pool_resize_reaches_its_count_when_the_operation_is_done(self):
        self.admin("container/clusters", {"name": "dr", "location": "us-central1",
                                          "nodePools": [{"name": "standby", "nodeCount": 0}]})
        gke = self.client("container", "v1")
        pools = gke.projects().locations().clusters().nodePools()
        name = f"projects/{P}/locations/us-central1/clusters/dr/nodePools/standby"
        op = pools.setSize(name=name, body={"nodeCount": 4}).execute()
        self.assertEqual(pools.get(name=name).execute()["status"], "RECONCILING")
        status, err = self.error_of(pools.setAutoscaling(name=name, body={"autoscaling": {
            "enabled": True, "minNodeCount": 1, "maxNodeCount": 6}}))
        self.assertEqual((status, err["status"]), (400, "FAILED_PRECONDITION"))
        ops = gke.projects().locations().operations()
        deadline = time.monotonic() + 10
        while ops.get(name=f"projects/{P}/locations/us-central1/operations/{op['name']}").execute()["status"] != "DONE":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertEqual(pools.get(name=name).execute()["status"], "RUNNING")
        self.assertEqual(self.admin("container/clusters", method="GET")[0]["nodePools"][0]["nodeCount"], 4)
        self.assertNoViolations()

    def test_replica_lag_series_filtered_by_database_and_interval(self):
        self.admin("monitoring/series", {"database_id": f"{P}:orders-dr", "points": [
            {"seconds_ago": 30, "value": 3.0}, {"seconds_ago": 400, "value": 9.0}]})
        self.admin("monitoring/series", {"database_id": f"{P}:other", "constant": 1.0})
        mon = self.client("monitoring", "v3").projects().timeSeries()
        lag = 'metric.type = "cloudsql.googleapis.com/database/replication/replica_lag"'
        out = mon.list(name=f"projects/{P}", filter=f'{lag} AND resource.labels.database_id = "{P}:orders-dr"',
                       interval_startTime=rfc3339(time.time() - 300), interval_endTime=rfc3339(time.time() + 1)).execute()
        self.assertEqual([[p["value"]["doubleValue"] for p in s["points"]] for s in out["timeSeries"]], [[3.0]])
        both = mon.list(name=f"projects/{P}", filter=lag, interval_startTime=rfc3339(time.time() - 600),
                        interval_endTime=rfc3339(time.time() + 1), aggregation_alignmentPeriod="600s",
                        aggregation_perSeriesAligner="ALIGN_MAX").execute()
        self.assertEqual(sorted(s["points"][0]["value"]["doubleValue"] for s in both["timeSeries"]), [1.0, 9.0])
        status, _ = self.error_of(mon.list(name=f"projects/{P}", filter="metric.type starts_with x",
                                           interval_endTime=rfc3339(time.time())))
        self.assertEqual(status, 400)

    def test_transfer_job_last_operation_and_bucket_metadata(self):
        self.admin("storagetransfer/jobs", {"name": "transferJobs/s3-to-gcs"})
        self.admin("storagetransfer/operations", {"job": "transferJobs/s3-to-gcs", "ended_seconds_ago": 900})
        self.admin("storagetransfer/operations", {"job": "transferJobs/s3-to-gcs", "started_seconds_ago": 60,
                                                  "status": "FAILED", "objectsFromSourceFailed": 3})
        sts = self.client("storagetransfer", "v1")
        job = sts.transferJobs().get(jobName="transferJobs/s3-to-gcs", projectId=P).execute()
        ops = sts.transferOperations().list(name="transferOperations", filter=json.dumps(
            {"projectId": P, "jobNames": [job["name"]]})).execute()["operations"]
        self.assertEqual(job["latestOperationName"], ops[0]["name"])
        self.assertEqual((ops[0]["metadata"]["status"], ops[0]["metadata"]["counters"]["objectsFromSourceFailed"]),
                         ("FAILED", "3"))
        self.admin("storage/buckets", {"name": "dr-bucket", "locationType": "dual-region", "rpo": "ASYNC_TURBO",
                                       "dataLocations": ["us-east4", "us-central1"]})
        bucket = self.client("storage", "v1").buckets().get(bucket="dr-bucket").execute()
        self.assertEqual((bucket["locationType"], bucket["rpo"], bucket["customPlacementConfig"]["dataLocations"]),
                         ("dual-region", "ASYNC_TURBO", ["US-EAST4", "US-CENTRAL1"]))
        self.assertNoViolations()


class ValidationAndFaults(BedTestCase):
    def test_hand_made_wrong_requests_are_400_naming_the_field_and_recorded(self):
        self.admin("sqladmin/instances", {"name": "pg"})
        auth = {"Authorization": f"Bearer {self.token()}"}
        base = f"/sqladmin/v1/projects/{P}/instances/pg"
        cases = [("PATCH", base, {"settings": {"activationPolicy": "OFF"}}, "settings.activationPolicy"),
                 ("PATCH", base, {"settings": {"tier": 2}}, "settings.tier"),
                 ("POST", base + "/failover", {"failoverContext": {"settingVersion": "1"}}, "failoverContext.settingVersion"),
                 ("POST", base + "/promoteReplica?failover=1", None, "failover"),
                 ("GET", base + "?view=FULL", None, "view"),
                 ("POST", base + "/promoteReplica", {"force": True}, "body")]
        for method, path, body, field in cases:
            with self.subTest(field):
                status, _, err = self.raw(method, path, body=body, headers=auth)
                self.assertEqual((status, err["error"]["status"]), (400, "INVALID_ARGUMENT"))
                self.assertIn(field, err["error"]["message"])
        status, _, _ = self.raw("POST", base + "/promote", headers=auth)
        self.assertEqual(status, 404)
        # `{}` is the JSON spelling of no body: not a violation (the refusal is Cloud SQL's own).
        status, _, err = self.raw("POST", base + "/promoteReplica", body={}, headers=auth)
        self.assertEqual((status, err["error"]["errors"][0]["reason"]), (400, "notAReplica"))
        fields = [v["field"] for v in self.admin("violations", method="GET")]
        self.assertEqual(fields, [c[3] for c in cases] + ["path"])

    def test_throttle_then_5xx_faults_in_googles_shape(self):
        self.admin("sqladmin/instances", {"name": "pg"})
        self.admin("faults", {"rules": [{"method": "sqladmin.instances.get", "fault": "throttle", "times": 2},
                                        {"method": "*", "fault": "error5xx", "times": 1}]})
        sql = self.client("sqladmin", "v1")
        for _ in range(2):
            status, err = self.error_of(sql.instances().get(project=P, instance="pg"))
            self.assertEqual((status, err["status"]), (429, "RESOURCE_EXHAUSTED"))
        status, err = self.error_of(sql.instances().get(project=P, instance="pg"))
        self.assertEqual((status, err["status"]), (503, "UNAVAILABLE"))
        self.assertEqual(sql.instances().get(project=P, instance="pg").execute()["name"], "pg")
        self.assertEqual(self.admin("calls", method="GET"), {"sql.instances.get": 4})
        self.admin("faults", {"rules": [{"method": "*", "fault": "error5xx", "status": 500}]})
        status, err = self.error_of(sql.instances().list(project=P))
        self.assertEqual((status, err["status"]), (500, "INTERNAL"))

    def test_latency_fault_delays_the_answer(self):
        self.admin("faults", {"rules": [{"method": "sql.instances.list", "fault": "latency", "ms": 300}]})
        sql = self.client("sqladmin", "v1")
        t0 = time.monotonic()
        sql.instances().list(project=P).execute()
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)


if __name__ == "__main__":
    unittest.main()
