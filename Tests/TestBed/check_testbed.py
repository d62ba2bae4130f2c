#!/usr/bin/env python3
"""Smoke test of a running test bed (start it with testbed.sh start).

Usage: check_testbed.py [STATE_DIR]   (reads DRCTL_TESTBED_* from the environment, else
STATE_DIR/testbed.env, default .testbed/ at the repo root). Exit 0 when every check passes.
Talks to AWS through the fault proxy with the generated keys, exactly like drctl will.
It resets moto state and the fault rules first (POST /_testbed/reset, DELETE /_faults).
"""
import http.client
import json
import os
import sys
import time
import urllib.parse
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))


def load_env():
    state = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", ".testbed")
    env = {}
    path = os.path.join(state, "testbed.env")
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.strip().removeprefix("export ").partition("=")
            env[k] = v
    env.update({k: v for k, v in os.environ.items() if k.startswith("DRCTL_TESTBED_")})
    if "DRCTL_TESTBED_PROXY_URL" not in env:
        sys.exit(f"no test bed env: run testbed.sh start first ({path} missing)")
    return env


E = load_env()
PROXY, MOTO = E["DRCTL_TESTBED_PROXY_URL"], E["DRCTL_TESTBED_MOTO_URL"]
FAILED = []


def http_json(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=30))


def client(service, region="us-east-1", secret=None, **cfg):
    return boto3.client(service, endpoint_url=PROXY, region_name=region,
                        aws_access_key_id=E["DRCTL_TESTBED_ACCESS_KEY_ID"],
                        aws_secret_access_key=secret or E["DRCTL_TESTBED_SECRET_ACCESS_KEY"],
                        config=Config(retries={"total_max_attempts": 1}, **cfg))


def error_code(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def wait_for(fn, want, timeout=20, step=0.2):
    """Poll fn() until it returns want; return (seen values in order, seconds waited)."""
    t0, seen = time.time(), []
    while True:
        v = fn()
        if not seen or seen[-1] != v:
            seen.append(v)
        if v == want or time.time() - t0 > timeout:
            return seen, time.time() - t0
        time.sleep(step)


def check(name):
    def deco(fn):
        t0 = time.time()
        try:
            fn()
            print(f"ok   {name} ({time.time() - t0:.1f}s)")
        except Exception as e:  # report all checks, not just the first failure
            FAILED.append(name)
            print(f"FAIL {name}: {type(e).__name__}: {e}")
        return fn
    return deco


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


# Short delays keep the smoke test fast while still showing every intermediate state.
http_json("DELETE", PROXY + "/_faults")
http_json("POST", MOTO + "/_testbed/reset")  # clean AWS state, so a re-run after a failure works
http_json("POST", MOTO + "/_testbed/config", {
    "rds": {"creating": 1, "modifying": 1, "backing_up": 1, "snapshot": 1, "copy": 1, "promote": 1.5, "deleting": 1},
    "s3": {"replication_delay": 1}, "route53": {"insync": 1}})


@check("sts GetCallerIdentity signed")
def _():
    ident = client("sts").get_caller_identity()
    expect(ident["Arn"] == E["DRCTL_TESTBED_USER_ARN"], ident)
    expect(ident["Account"] == E["DRCTL_TESTBED_ACCOUNT_ID"], ident)


@check("unsigned and wrong-secret requests are rejected")
def _():
    code = error_code(client("sts", secret="x" * 40).get_caller_identity)
    expect(code == ("SignatureDoesNotMatch", 403), code)
    code = error_code(client("rds", secret="x" * 40).describe_db_instances)
    expect(code == ("SignatureDoesNotMatch", 403), code)
    r = urllib.request.Request(PROXY + "/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(r, timeout=10)
        raise AssertionError("unsigned request accepted")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        expect(e.code == 403 and "MissingAuthenticationToken" in body, (e.code, body))


@check("s3 bodiless GET/HEAD/DELETE verify with auth on")
def _():
    s3 = client("s3")
    s3.create_bucket(Bucket="tb-plain")
    s3.put_object(Bucket="tb-plain", Key="a/b.txt", Body=b"hello")
    expect(s3.get_object(Bucket="tb-plain", Key="a/b.txt")["Body"].read() == b"hello", "body")
    expect(s3.head_object(Bucket="tb-plain", Key="a/b.txt")["ContentLength"] == 5, "head")
    expect([o["Key"] for o in s3.list_objects_v2(Bucket="tb-plain")["Contents"]] == ["a/b.txt"], "list")
    s3.delete_object(Bucket="tb-plain", Key="a/b.txt")
    expect(client("rds").describe_db_instances()["DBInstances"] is not None, "rds GET-less describe")


def db_status(rds, ident):
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]["DBInstanceStatus"]
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


@check("rds create -> creating -> available; snapshot; delete")
def _():
    rds = client("rds")
    db = rds.create_db_instance(DBInstanceIdentifier="tb-db1", DBInstanceClass="db.t3.micro", Engine="postgres",
                                MasterUsername="u", MasterUserPassword="p" * 10, AllocatedStorage=20)["DBInstance"]
    expect(db["DBInstanceStatus"] == "creating", db["DBInstanceStatus"])
    code = error_code(rds.modify_db_instance, DBInstanceIdentifier="tb-db1", AllocatedStorage=30, ApplyImmediately=True)
    expect(code == ("InvalidDBInstanceState", 400), code)
    seen, took = wait_for(lambda: db_status(rds, "tb-db1"), "available")
    expect(seen == ["creating", "available"] and 0.8 <= took <= 5, (seen, took))
    rds.create_db_snapshot(DBInstanceIdentifier="tb-db1", DBSnapshotIdentifier="tb-snap1")
    expect(db_status(rds, "tb-db1") == "backing-up", "backing-up")
    snap = lambda: rds.describe_db_snapshots(DBSnapshotIdentifier="tb-snap1")["DBSnapshots"][0]["Status"]  # noqa
    seen, _ = wait_for(snap, "available")
    expect(seen == ["creating", "available"], seen)
    west = client("rds", "us-west-2")
    arn = rds.describe_db_snapshots(DBSnapshotIdentifier="tb-snap1")["DBSnapshots"][0]["DBSnapshotArn"]
    cp = west.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="tb-snap1-copy",
                               SourceRegion="us-east-1")["DBSnapshot"]
    expect(cp["Status"] == "pending", cp["Status"])
    seen, _ = wait_for(lambda: west.describe_db_snapshots(DBSnapshotIdentifier="tb-snap1-copy")
                       ["DBSnapshots"][0]["Status"], "available")
    expect(seen == ["pending", "available"], seen)
    wait_for(lambda: db_status(rds, "tb-db1"), "available")
    rds.delete_db_instance(DBInstanceIdentifier="tb-db1", SkipFinalSnapshot=True)
    seen, _ = wait_for(lambda: db_status(rds, "tb-db1"), "DBInstanceNotFound")
    expect(seen == ["deleting", "DBInstanceNotFound"], seen)


@check("rds cross-region replica, promote detaches")
def _():
    east, west = client("rds"), client("rds", "us-west-2")
    src = east.create_db_instance(DBInstanceIdentifier="tb-src", DBInstanceClass="db.t3.micro", Engine="postgres",
                                  MasterUsername="u", MasterUserPassword="p" * 10,
                                  AllocatedStorage=20)["DBInstance"]
    wait_for(lambda: db_status(east, "tb-src"), "available")
    rep = west.create_db_instance_read_replica(DBInstanceIdentifier="tb-rep", DBInstanceClass="db.t3.micro",
                                               SourceDBInstanceIdentifier=src["DBInstanceArn"],
                                               SourceRegion="us-east-1")["DBInstance"]
    expect(rep["DBInstanceStatus"] == "creating", rep["DBInstanceStatus"])
    wait_for(lambda: db_status(west, "tb-rep"), "available")
    r = west.describe_db_instances(DBInstanceIdentifier="tb-rep")["DBInstances"][0]
    expect(r.get("ReadReplicaSourceDBInstanceIdentifier") == src["DBInstanceArn"], r)
    expect(r["DBInstanceArn"].split(":")[3] == "us-west-2", r["DBInstanceArn"])
    s = east.describe_db_instances(DBInstanceIdentifier="tb-src")["DBInstances"][0]
    expect(s["ReadReplicaDBInstanceIdentifiers"] == [r["DBInstanceArn"]], s["ReadReplicaDBInstanceIdentifiers"])
    expect(all(d["DBInstanceIdentifier"] != "tb-rep" for d in east.describe_db_instances()["DBInstances"]),
           "replica leaked into us-east-1")
    p = west.promote_read_replica(DBInstanceIdentifier="tb-rep")["DBInstance"]
    expect(p["DBInstanceStatus"] == "modifying", p["DBInstanceStatus"])
    seen, took = wait_for(lambda: db_status(west, "tb-rep"), "available")
    expect(seen == ["modifying", "available"] and took >= 1.2, (seen, took))
    r = west.describe_db_instances(DBInstanceIdentifier="tb-rep")["DBInstances"][0]
    expect("ReadReplicaSourceDBInstanceIdentifier" not in r, r.get("ReadReplicaSourceDBInstanceIdentifier"))
    s = east.describe_db_instances(DBInstanceIdentifier="tb-src")["DBInstances"][0]
    expect(not s.get("ReadReplicaDBInstanceIdentifiers"), s.get("ReadReplicaDBInstanceIdentifiers"))
    code = error_code(west.promote_read_replica, DBInstanceIdentifier="tb-rep")
    expect(code[0] == "InvalidDBInstanceState", code)


@check("s3 replication PENDING -> COMPLETED, REPLICA at destination, FAILED when gone")
def _():
    s3, s3w = client("s3"), client("s3", "us-west-2")
    s3.create_bucket(Bucket="tb-src")
    s3w.create_bucket(Bucket="tb-dst", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    for b in ("tb-src", "tb-dst"):
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket="tb-src", ReplicationConfiguration={
        "Role": f"arn:aws:iam::{E['DRCTL_TESTBED_ACCOUNT_ID']}:role/repl",
        "Rules": [
            {"ID": "r1", "Priority": 2, "Status": "Enabled", "Filter": {"Prefix": "data/"},
             "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": "arn:aws:s3:::tb-dst", "StorageClass": "STANDARD_IA"}},
            {"ID": "r2", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "lost/"},
             "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": "arn:aws:s3:::tb-nonexistent"}}]})
    s3.put_object(Bucket="tb-src", Key="data/x.bin", Body=b"payload")
    s3.put_object(Bucket="tb-src", Key="lost/y.bin", Body=b"payload")
    s3.put_object(Bucket="tb-src", Key="other/z.bin", Body=b"payload")
    st = lambda b, k: s3.head_object(Bucket=b, Key=k).get("ReplicationStatus")  # noqa
    expect(st("tb-src", "other/z.bin") is None, "unmatched object has a status")
    expect(st("tb-src", "lost/y.bin") == "PENDING", "lost/y.bin not PENDING at first")
    seen, took = wait_for(lambda: st("tb-src", "data/x.bin"), "COMPLETED")
    expect(seen == ["PENDING", "COMPLETED"] and took >= 0.7, (seen, took))
    h = s3.head_object(Bucket="tb-dst", Key="data/x.bin")
    expect(h.get("ReplicationStatus") == "REPLICA" and h.get("StorageClass") == "STANDARD_IA", h)
    expect(s3.get_object(Bucket="tb-dst", Key="data/x.bin")["Body"].read() == b"payload", "replica body")
    seen, _ = wait_for(lambda: st("tb-src", "lost/y.bin"), "FAILED")
    expect(seen[-1] == "FAILED", seen)
    rules = s3.get_bucket_replication(Bucket="tb-src")["ReplicationConfiguration"]["Rules"]
    expect(sorted(r["Filter"]["Prefix"] for r in rules) == ["data/", "lost/"], rules)


@check("route53 unique change ids, PENDING -> INSYNC")
def _():
    r53 = client("route53")
    zid = r53.create_hosted_zone(Name="tb.example.", CallerReference=str(time.time()))["HostedZone"]["Id"]
    ids = []
    for ip in ("10.0.0.1", "10.0.0.2"):
        c = r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {"Name": "db.tb.example.", "Type": "A", "TTL": 60,
                                                      "ResourceRecords": [{"Value": ip}]}}]})["ChangeInfo"]
        expect(c["Status"] == "PENDING", c)
        ids.append(c["Id"])
    expect(len(set(ids)) == 2, ids)
    seen, took = wait_for(lambda: r53.get_change(Id=ids[1])["ChangeInfo"]["Status"], "INSYNC")
    expect(seen == ["PENDING", "INSYNC"] and took >= 0.5, (seen, took))


@check("fault proxy: throttle per protocol, 5xx, latency, reset, hang, counts")
def _():
    http_json("DELETE", PROXY + "/_faults")
    rules = [{"service": "sts", "operation": "GetCallerIdentity", "fault": "throttle", "times": 1},
             {"service": "s3", "operation": "ListBuckets", "fault": "throttle", "times": 1},
             {"service": "dynamodb", "operation": "ListTables", "fault": "throttle", "times": 1},
             {"service": "eks", "operation": "ListClusters", "fault": "throttle", "times": 1},
             {"service": "route53", "operation": "ListHostedZones", "fault": "throttle", "times": 1},
             {"service": "rds", "operation": "DescribeDBInstances", "fault": "error5xx", "status": 503, "times": 1},
             {"service": "sts", "operation": "GetCallerIdentity", "fault": "latency", "ms": 400, "times": 1},
             {"service": "s3", "operation": "ListBuckets", "fault": "reset", "times": 1},
             {"service": "s3", "operation": "ListBuckets", "fault": "hang", "max_s": 10, "times": 1}]
    http_json("POST", PROXY + "/_faults", {"seed": 42, "rules": rules})
    want = [(client("sts").get_caller_identity, ("Throttling", 400)),
            (client("s3").list_buckets, ("SlowDown", 503)),
            (client("dynamodb").list_tables, ("ThrottlingException", 400)),
            (client("eks").list_clusters, ("ThrottlingException", 429)),
            (client("route53").list_hosted_zones, ("Throttling", 400)),
            (client("rds").describe_db_instances, ("ServiceUnavailable", 503))]
    for fn, code in want:
        got = error_code(fn)
        expect(got == code, (fn.__name__, got, code))
    t0 = time.time()
    client("sts").get_caller_identity()  # throttle used up -> latency then success
    expect(time.time() - t0 >= 0.4, "latency")
    try:
        client("s3").list_buckets()
        raise AssertionError("reset not seen")
    except botocore.exceptions.ConnectionClosedError:
        pass
    except botocore.exceptions.EndpointConnectionError:
        pass
    t0 = time.time()
    try:
        client("s3", read_timeout=1, connect_timeout=2).list_buckets()
        raise AssertionError("hang not seen")
    except botocore.exceptions.ReadTimeoutError:
        expect(time.time() - t0 < 5, "hang timeout")
    client("s3").list_buckets()  # all one-shot rules used up
    counts = http_json("GET", PROXY + "/_faults/counts")
    expect(counts["faults"]["sts"]["GetCallerIdentity"] == {"throttle": 1, "latency": 1}, counts["faults"]["sts"])
    expect(counts["faults"]["s3"]["ListBuckets"] == {"throttle": 1, "reset": 1, "hang": 1}, counts["faults"]["s3"])
    expect(counts["requests"]["s3"]["ListBuckets"] == 4, counts["requests"]["s3"])
    # probability with a seed is reproducible
    seqs = []
    for _ in range(2):
        http_json("POST", PROXY + "/_faults", {"seed": 7, "rules": [
            {"service": "sts", "fault": "throttle", "probability": 0.5}]})
        seqs.append([error_code(client("sts").get_caller_identity)[0] for _ in range(8)])
    expect(seqs[0] == seqs[1] and len(set(seqs[0])) == 2, seqs)
    http_json("DELETE", PROXY + "/_faults")
    expect(http_json("GET", PROXY + "/_faults/counts")["total_requests"] == 0, "DELETE clears counts")


@check("proxy keeps client connections alive")
def _():
    u = urllib.parse.urlsplit(PROXY)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    socks = set()
    for _ in range(3):
        conn.request("GET", "/_testbed/health")  # forwarded to moto, unauthenticated
        r = conn.getresponse()
        expect(r.status == 200 and json.loads(r.read())["status"] == "ok", r.status)
        socks.add(id(conn.sock))
    expect(len(socks) == 1 and conn.sock is not None, "connection was not reused")
    conn.close()


@check("/_testbed/reset keeps the keys and auth")
def _():
    http_json("POST", MOTO + "/_testbed/reset")
    expect(client("sts").get_caller_identity()["Arn"] == E["DRCTL_TESTBED_USER_ARN"], "keys after reset")
    expect(client("s3").list_buckets()["Buckets"] == [], "buckets survived reset")
    code = error_code(client("sts", secret="x" * 40).get_caller_identity)
    expect(code[0] == "SignatureDoesNotMatch", code)
    expect(http_json("GET", MOTO + "/_testbed/config")["rds"]["promote"] == 1.5, "config survives reset")


@check("postgres primary -> streaming hot standby")
def _():
    import subprocess

    if "DRCTL_TESTBED_PG_PRIMARY_URL" not in E:
        print("     (skipped: started with --no-postgres)")
        return
    sql = lambda url, q: subprocess.run(["psql", "-X", "-At", url, "-c", q], check=True, timeout=30,  # noqa
                                        capture_output=True, text=True).stdout.strip()
    p, sb = E["DRCTL_TESTBED_PG_PRIMARY_URL"], E["DRCTL_TESTBED_PG_STANDBY_URL"]
    token = str(time.time())
    sql(p, "CREATE TABLE IF NOT EXISTS tb_check(v text); INSERT INTO tb_check VALUES ('%s')" % token)
    expect(sql(p, "SELECT pg_is_in_recovery()") == "f" and sql(sb, "SELECT pg_is_in_recovery()") == "t", "roles")
    seen, _ = wait_for(lambda: sql(sb, "SELECT count(*) FROM tb_check WHERE v='%s'" % token), "1", timeout=10)
    expect(seen[-1] == "1", "row not replicated")
    expect(sql(p, "SELECT state FROM pg_stat_replication") == "streaming", "not streaming")


@check("gcp: key file -> token -> Cloud SQL; metadata server; GCS object in the emulator")
def _():
    import google.auth.transport.requests
    from google.oauth2 import service_account
    from googleapiclient.discovery import build

    gcp, gcs = E["DRCTL_TESTBED_GCP_URL"], E["DRCTL_TESTBED_GCS_URL"]
    http_json("POST", gcp + "/_gcp/reset")
    http_json("POST", gcp + "/_gcp/sqladmin/instances", {"name": "tb-check"})
    creds = service_account.Credentials.from_service_account_file(
        E["DRCTL_TESTBED_GCP_KEY_FILE"], scopes=["https://www.googleapis.com/auth/cloud-platform"])
    sql = build("sqladmin", "v1", credentials=creds, static_discovery=True,
                client_options={"api_endpoint": gcp + "/sqladmin/"})
    got = sql.instances().get(project=E["DRCTL_TESTBED_GCP_PROJECT"], instance="tb-check").execute()
    expect(got["state"] == "RUNNABLE", got)
    req = urllib.request.Request(gcp + "/computeMetadata/v1/project/project-id", headers={"Metadata-Flavor": "Google"})
    expect(urllib.request.urlopen(req, timeout=5).read().decode() == E["DRCTL_TESTBED_GCP_PROJECT"], "metadata")
    expect(http_json("GET", gcp + "/_gcp/violations") == [], "discovery violations")
    # gcp-storage-emulator speaks the JSON API at /storage/v1 and media uploads at /upload/storage/v1.
    bucket = "tb-check-" + str(int(time.time()))
    http_json("POST", gcs + "/storage/v1/b?project=" + E["DRCTL_TESTBED_GCP_PROJECT"], {"name": bucket})
    up = urllib.request.Request(f"{gcs}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=canary",
                                data=b"hello", method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(up, timeout=5).read()
    body = urllib.request.urlopen(f"{gcs}/storage/v1/b/{bucket}/o/canary?alt=media", timeout=5).read()
    expect(body == b"hello", body)


if FAILED:
    print(f"{len(FAILED)} check(s) failed: {', '.join(FAILED)}")
    sys.exit(1)
print("all test bed checks passed")
