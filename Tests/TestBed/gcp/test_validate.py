"""The discovery-document validator on its own (no server): requests that Google's own client
library builds must pass, hand-made wrong ones must be caught with the field named.

Run: python3 -m unittest discover -s Tests/TestBed/gcp -p 'test_validate.py'
"""
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from googleapiclient.discovery import build  # noqa: E402

from gcp import discovery  # noqa: E402
from gcp.discovery import Violation  # noqa: E402
from gcp.validate import parse_form_as_schema, validate_body, validate_query  # noqa: E402

BASE = "http://127.0.0.1:9"


def client(name, version):
    # googleapiclient's api_endpoint replaces rootUrl + servicePath; only storage has a servicePath.
    service_path = "storage/v1/" if name == "storage" else ""
    return build(name, version, developerKey="unused", static_discovery=True,
                 client_options={"api_endpoint": f"{BASE}/{name}/{service_path}"})


def check(prefix, http_method, path_and_query, body=None):
    """Validates one request as the server does; returns the method id (or raises Violation)."""
    url = urllib.parse.urlsplit(path_and_query)
    found = discovery.service(prefix).find(http_method, url.path.lstrip("/"))
    if found is None:
        raise Violation("path", f"no method for {http_method} {url.path}")
    method, _ = found
    validate_query(method, urllib.parse.parse_qs(url.query, keep_blank_values=True))
    if body is not None:
        validate_body(method, body)
    return method.id


def check_built(prefix, request):
    """A googleapiclient HttpRequest (built, not sent) through the validator."""
    url = urllib.parse.urlsplit(request.uri)
    path = url.path[len(f"/{prefix}"):]
    body = json.loads(request.body) if request.body else None
    return check(prefix, request.method, path + ("?" + url.query if url.query else ""), body)


class ClientLibraryRequestsPass(unittest.TestCase):
    """Proves the validator is not too strict: what Google's client sends is valid by definition."""

    def test_cloud_sql_methods_built_by_google_api_python_client_pass(self):
        sql = client("sqladmin", "v1")
        cases = {
            "sql.instances.get": sql.instances().get(project="p", instance="i"),
            "sql.instances.list": sql.instances().list(project="p", maxResults=10, filter="region:us-central1"),
            "sql.instances.promoteReplica": sql.instances().promoteReplica(project="p", instance="i", failover=True),
            "sql.instances.failover": sql.instances().failover(
                project="p", instance="i", body={"failoverContext": {"kind": "sql#failoverContext",
                                                                     "settingsVersion": "7"}}),
            "sql.instances.switchover": sql.instances().switchover(project="p", instance="i", dbTimeout="30s"),
            "sql.instances.patch": sql.instances().patch(
                project="p", instance="i", body={"settings": {"activationPolicy": "NEVER", "settingsVersion": "3",
                                                              "databaseFlags": [{"name": "x", "value": "1"}]}}),
            "sql.instances.clone": sql.instances().clone(
                project="p", instance="i", body={"cloneContext": {"destinationInstanceName": "d",
                                                                  "pointInTime": "2026-12-05T01:02:03.456Z"}}),
            "sql.instances.restoreBackup": sql.instances().restoreBackup(
                project="p", instance="i", body={"restoreBackupContext": {"backupRunId": "1733", "instanceId": "i"}}),
            "sql.instances.demoteMaster": sql.instances().demoteMaster(
                project="p", instance="i", body={"demoteMasterContext": {"masterInstanceName": "src"}}),
            "sql.instances.delete": sql.instances().delete(project="p", instance="i"),
            "sql.backupRuns.insert": sql.backupRuns().insert(project="p", instance="i", body={}),
            "sql.backupRuns.list": sql.backupRuns().list(project="p", instance="i", maxResults=1),
            "sql.operations.get": sql.operations().get(project="p", operation="0f1c-uuid"),
        }
        for expected, request in cases.items():
            with self.subTest(expected):
                self.assertEqual(check_built("sqladmin", request), expected)

    def test_other_services_built_by_google_api_python_client_pass(self):
        pool = "projects/p/locations/us-central1/clusters/c/nodePools/np"
        gke, dns = client("container", "v1"), client("dns", "v1")
        mon, sts = client("monitoring", "v3"), client("storagetransfer", "v1")
        gcs, iam = client("storage", "v1"), client("iamcredentials", "v1")
        cases = [
            ("container", "container.projects.locations.clusters.nodePools.get",
             gke.projects().locations().clusters().nodePools().get(name=pool)),
            ("container", "container.projects.locations.clusters.get",
             gke.projects().locations().clusters().get(name="projects/p/locations/us-central1/clusters/c")),
            ("container", "container.projects.locations.clusters.nodePools.setSize",
             gke.projects().locations().clusters().nodePools().setSize(name=pool, body={"nodeCount": 3})),
            ("container", "container.projects.locations.clusters.nodePools.setAutoscaling",
             gke.projects().locations().clusters().nodePools().setAutoscaling(
                 name=pool, body={"autoscaling": {"enabled": True, "minNodeCount": 1, "maxNodeCount": 5}})),
            ("container", "container.projects.locations.operations.get",
             gke.projects().locations().operations().get(name="projects/p/locations/us-central1/operations/op-1")),
            ("dns", "dns.changes.create", dns.changes().create(
                project="p", managedZone="z", body={"additions": [{"name": "a.example.com.", "type": "A", "ttl": 60,
                                                                   "rrdatas": ["10.0.0.1"]}],
                                                    "deletions": [{"name": "a.example.com.", "type": "A", "ttl": 60,
                                                                   "rrdatas": ["10.0.0.2"]}]})),
            ("dns", "dns.resourceRecordSets.list", dns.resourceRecordSets().list(
                project="p", managedZone="z", name="a.example.com.", type="A")),
            ("monitoring", "monitoring.projects.timeSeries.list", mon.projects().timeSeries().list(
                name="projects/p", filter='metric.type = "cloudsql.googleapis.com/database/replication/replica_lag"',
                interval_startTime="2026-12-05T00:00:00Z", interval_endTime="2026-12-05T00:05:00Z",
                aggregation_alignmentPeriod="60s", aggregation_perSeriesAligner="ALIGN_MAX", view="FULL")),
            ("storagetransfer", "storagetransfer.transferJobs.get",
             sts.transferJobs().get(jobName="transferJobs/123", projectId="p")),
            ("storagetransfer", "storagetransfer.transferOperations.list", sts.transferOperations().list(
                name="transferOperations", filter=json.dumps({"projectId": "p", "jobNames": ["transferJobs/123"]}))),
            ("storage", "storage.buckets.get", gcs.buckets().get(bucket="drctl-dr-bucket", projection="full")),
            ("iamcredentials", "iamcredentials.projects.serviceAccounts.generateAccessToken",
             iam.projects().serviceAccounts().generateAccessToken(
                 name="projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com",
                 body={"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "3600s"})),
        ]
        for prefix, expected, request in cases:
            with self.subTest(expected):
                self.assertEqual(check_built(prefix, request), expected)

    def test_sts_form_as_google_auth_sends_it_passes(self):
        method = discovery.service("sts").by_id["sts.token"]
        parse_form_as_schema(method, {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                                      "audience": "//iam.googleapis.com/projects/1/locations/global/x",
                                      "scope": "https://www.googleapis.com/auth/cloud-platform",
                                      "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
                                      "subject_token": "eyJ", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"})


class WrongRequestsAreCaught(unittest.TestCase):
    """Proves the validator is not too lax: each hand-made mistake is named by its field."""

    def assertViolation(self, field, *args):
        with self.assertRaises(Violation) as ctx:
            check(*args)
        self.assertEqual(ctx.exception.field, field, ctx.exception.problem)

    def test_unknown_query_parameter(self):
        self.assertViolation("force", "sqladmin", "POST", "v1/projects/p/instances/i/promoteReplica?force=true")

    def test_boolean_query_parameter_with_a_non_boolean(self):
        self.assertViolation("failover", "sqladmin", "POST", "v1/projects/p/instances/i/promoteReplica?failover=yes")

    def test_integer_query_parameter_with_text(self):
        self.assertViolation("maxResults", "sqladmin", "GET", "v1/projects/p/instances?maxResults=ten")

    def test_enum_query_parameter_outside_the_list(self):
        self.assertViolation("view", "monitoring", "GET", "v3/projects/p/timeSeries?filter=x&view=ALL")

    def test_single_query_parameter_given_twice(self):
        self.assertViolation("location", "sqladmin", "GET", "v1/projects/p/instances/i?location=a&location=b")

    def test_path_parameter_sent_as_query(self):
        self.assertViolation("project", "sqladmin", "GET", "v1/projects/p/instances/i?project=p")

    def test_unknown_body_field_nested(self):
        self.assertViolation("settings.activation", "sqladmin", "PATCH", "v1/projects/p/instances/i",
                             {"settings": {"activation": "NEVER"}})

    def test_enum_body_value_outside_the_list(self):
        self.assertViolation("settings.activationPolicy", "sqladmin", "PATCH", "v1/projects/p/instances/i",
                             {"settings": {"activationPolicy": "OFF"}})

    def test_wrong_json_types(self):
        self.assertViolation("nodeCount", "container", "POST",
                             "v1/projects/p/locations/l/clusters/c/nodePools/n:setSize", {"nodeCount": "three"})
        self.assertViolation("autoscaling.enabled", "container", "POST",
                             "v1/projects/p/locations/l/clusters/c/nodePools/n:setAutoscaling",
                             {"autoscaling": {"enabled": "true"}})
        self.assertViolation("additions[0].rrdatas", "dns", "POST", "dns/v1/projects/p/managedZones/z/changes",
                             {"additions": [{"name": "a.", "type": "A", "rrdatas": "10.0.0.1"}]})
        self.assertViolation("failoverContext", "sqladmin", "POST", "v1/projects/p/instances/i/failover",
                             {"failoverContext": "7"})

    def test_timestamp_and_duration_formats(self):
        self.assertViolation("cloneContext.pointInTime", "sqladmin", "POST", "v1/projects/p/instances/i/clone",
                             {"cloneContext": {"destinationInstanceName": "d", "pointInTime": "yesterday"}})
        self.assertViolation("lifetime", "iamcredentials", "POST",
                             "v1/projects/-/serviceAccounts/a@b:generateAccessToken", {"scope": ["s"], "lifetime": "1h"})

    def test_body_on_a_method_without_request_schema_is_not_validated_here_but_unknown_path_is(self):
        with self.assertRaises(Violation):
            check("sqladmin", "POST", "v1/projects/p/instances/i/promote")
        with self.assertRaises(Violation):  # right path, wrong HTTP method
            check("sqladmin", "DELETE", "v1/projects/p/instances/i/promoteReplica")

    def test_reserved_expansion_path_must_match_the_parameter_pattern(self):
        # `v1/{+name}:setSize` only for names shaped projects/*/locations/*/clusters/*/nodePools/*.
        with self.assertRaises(Violation):
            check("container", "POST", "v1/projects/p/locations/l/clusters/c:setSize", {"nodeCount": 1})

    def test_repeated_query_parameter_may_repeat(self):
        self.assertEqual(check("dns", "GET", "dns/v1/projects/p/managedZones/z/rrsets?name=a.&type=A"),
                         "dns.resourceRecordSets.list")


if __name__ == "__main__":
    unittest.main()
