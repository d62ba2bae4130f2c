#!/usr/bin/env python3
"""The GCP reference plan's topology (Runbooks/drplan-gcp.yaml) under prefix P, in the running test
bed: the RDS primary P-primary in us-east-1 (moto, boto3, signed), and in the GCP stand-in the
external primary's source representation instance P-src (ON_PREMISES_INSTANCE), the Cloud SQL
replica P-replica-usc1 that follows it, a replica_lag series and backup runs of it, the zone P-zone
(P.example.com.) with app.P.example.com. -> app-use1.P.example.com., the GKE cluster P-dr with the
pool workers at 0 nodes, and the transfer job transferJobs/P-docs with a successful run.

  gcp_topology.py seed P [--lag S] [--backup-age S] [--transfer-age S]
  gcp_topology.py inspect P     -> JSON: rds primary's security groups, replica type and state,
                                   record values, pool node count, clone names

Env: DRCTL_TESTBED_MOTO_URL, DRCTL_TESTBED_ACCESS_KEY_ID, DRCTL_TESTBED_SECRET_ACCESS_KEY,
DRCTL_TESTBED_GCP_URL, DRCTL_TESTBED_GCP_PROJECT.
"""
import argparse
import json
import os
import sys
import time
import urllib.request

import boto3
from botocore.config import Config

GCP = os.environ["DRCTL_TESTBED_GCP_URL"]
PROJECT = os.environ.get("DRCTL_TESTBED_GCP_PROJECT", "drctl-dr")


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{GCP}/_gcp/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def rds():
    return boto3.client("rds", region_name="us-east-1", endpoint_url=os.environ["DRCTL_TESTBED_MOTO_URL"],
                        aws_access_key_id=os.environ["DRCTL_TESTBED_ACCESS_KEY_ID"],
                        aws_secret_access_key=os.environ["DRCTL_TESTBED_SECRET_ACCESS_KEY"],
                        config=Config(retries={"total_max_attempts": 5, "mode": "standard"}))


def seed(prefix, lag, backup_age, transfer_age):
    east = rds()
    east.create_db_instance(DBInstanceIdentifier=f"{prefix}-primary", DBInstanceClass="db.r6g.large", Engine="postgres",
                            EngineVersion="15.4", MasterUsername="orders", MasterUserPassword="testbed-only-password",
                            AllocatedStorage=100, BackupRetentionPeriod=30, StorageEncrypted=False)
    deadline = time.time() + 60
    while east.describe_db_instances(DBInstanceIdentifier=f"{prefix}-primary")["DBInstances"][0]["DBInstanceStatus"] != "available":
        if time.time() > deadline:
            raise SystemExit(f"{prefix}-primary not available")
        time.sleep(0.2)
    admin("POST", "sqladmin/instances", {"project": PROJECT, "name": f"{prefix}-src", "instanceType": "ON_PREMISES_INSTANCE",
                                          "region": "us-central1"})
    admin("POST", "sqladmin/instances", {"project": PROJECT, "name": f"{prefix}-replica-usc1", "masterInstanceName": f"{prefix}-src",
                                          "region": "us-central1"})
    if lag is not None:
        admin("POST", "monitoring/series", {"database_id": f"{PROJECT}:{prefix}-replica-usc1", "constant": lag})
    if backup_age is not None:
        admin("POST", "sqladmin/backupRuns", {"project": PROJECT, "instance": f"{prefix}-replica-usc1", "age_seconds": backup_age * 3})
        admin("POST", "sqladmin/backupRuns", {"project": PROJECT, "instance": f"{prefix}-replica-usc1", "age_seconds": backup_age})
        admin("POST", "sqladmin/backupRuns", {"project": PROJECT, "instance": f"{prefix}-replica-usc1", "age_seconds": 5,
                                              "status": "FAILED"})
    admin("POST", "dns/zones", {"project": PROJECT, "name": f"{prefix}-zone", "dnsName": f"{prefix}.example.com.",
                                "records": [{"name": f"app.{prefix}.example.com.", "type": "CNAME", "ttl": 60,
                                             "rrdatas": [f"app-use1.{prefix}.example.com."]}]})
    admin("POST", "container/clusters", {"project": PROJECT, "name": f"{prefix}-dr", "location": "us-central1",
                                         "nodePools": [{"name": "workers", "nodeCount": 0}]})
    admin("POST", "storagetransfer/jobs", {"project": PROJECT, "name": f"transferJobs/{prefix}-docs"})
    if transfer_age is not None:
        admin("POST", "storagetransfer/operations", {"job": f"transferJobs/{prefix}-docs", "status": "SUCCESS",
                                                     "started_seconds_ago": transfer_age + 60, "ended_seconds_ago": transfer_age})
        admin("POST", "storagetransfer/operations", {"job": f"transferJobs/{prefix}-docs", "status": "FAILED",
                                                     "started_seconds_ago": 30, "ended_seconds_ago": 10})
    return {"prefix": prefix, "project": PROJECT}


def inspect(prefix):
    primary = rds().describe_db_instances(DBInstanceIdentifier=f"{prefix}-primary")["DBInstances"][0]
    instances = {i["name"]: i for i in admin("GET", "sqladmin/instances") if i.get("project") == PROJECT}
    replica = instances.get(f"{prefix}-replica-usc1", {})
    zones = [z for z in admin("GET", "dns/zones") if z["zone"]["name"] == f"{prefix}-zone" and z.get("project") == PROJECT]
    records = [r for z in zones for r in z.get("rrsets", []) if r["name"] == f"app.{prefix}.example.com."]
    clusters = [c for c in admin("GET", "container/clusters") if c.get("name") == f"{prefix}-dr"]
    pools = [p for c in clusters for p in c.get("nodePools", []) if p["name"] == "workers"]
    return {
        "rds_security_groups": sorted(g["VpcSecurityGroupId"] for g in primary.get("VpcSecurityGroups", [])),
        "replica_type": replica.get("instanceType"), "replica_state": replica.get("state"),
        "replica_master": replica.get("masterInstanceName"),
        "record": records[0]["rrdatas"] if records else None,
        "pool_nodes": pools[0].get("nodeCount") if pools else None,
        "clones": sorted(n for n in instances if n.startswith("drctl-drill-") and prefix in n),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["seed", "inspect"])
    parser.add_argument("prefix")
    parser.add_argument("--lag", type=float, default=4.0)
    parser.add_argument("--backup-age", type=float)
    parser.add_argument("--transfer-age", type=float, default=600.0)
    args = parser.parse_args()
    if args.command == "seed":
        out = seed(args.prefix, args.lag, args.backup_age, args.transfer_age)
    else:
        out = inspect(args.prefix)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
