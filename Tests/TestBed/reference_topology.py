#!/usr/bin/env python3
"""Creates the reference DR topology of Runbooks/drplan.yaml in the running test bed (boto3,
signed, straight to moto): primary RDS PostgreSQL in us-east-1 with a cross-region read replica
in us-west-2, a replicated bucket pair, the database credentials in Secrets Manager with a replica
in us-west-2, the example.com. zone with the app record pointing at
us-east-1, EKS clusters with warm-standby node groups in both regions, and a ReplicaLag
datapoint for the replica.

  reference_topology.py [--lag SECONDS] [--replicas N] [--prefix P] [--no-secret-replica]   (env: DRCTL_TESTBED_* from testbed.env)

--prefix P names everything P-… instead of orders-… (and the zone P.example.com.), so that tests
can each have their own topology in one test bed.

Prints a JSON summary (zone id, instance ARNs). Safe to run twice: existing resources are kept.
"""
import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["DRCTL_TESTBED_MOTO_URL"]
KEYS = dict(aws_access_key_id=os.environ["DRCTL_TESTBED_ACCESS_KEY_ID"],
            aws_secret_access_key=os.environ["DRCTL_TESTBED_SECRET_ACCESS_KEY"])
CONFIG = Config(retries={"total_max_attempts": 5, "mode": "standard"})
PRIMARY, DR = "us-east-1", "us-west-2"


def client(service, region):
    return boto3.client(service, region_name=region, endpoint_url=ENDPOINT, config=CONFIG, **KEYS)


def exists(fn):
    try:
        fn()
        return True
    except ClientError:
        return False


def wait_available(rds, instance, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]["DBInstanceStatus"]
        if status == "available":
            return
        time.sleep(0.3)
    raise SystemExit(f"{instance} not available after {timeout}s")


def databases(prefix, suffixes, lag):
    east, west = client("rds", PRIMARY), client("rds", DR)
    out = {}
    for suffix in suffixes:
        primary, replica = f"{prefix}-primary{suffix}", f"{prefix}-replica{suffix}"
        if not exists(lambda: east.describe_db_instances(DBInstanceIdentifier=primary)):
            east.create_db_instance(DBInstanceIdentifier=primary, DBInstanceClass="db.r6g.large", Engine="postgres",
                                    EngineVersion="15.4", MasterUsername="orders", MasterUserPassword="testbed-only-password",
                                    AllocatedStorage=100, MultiAZ=True, BackupRetentionPeriod=30,
                                    PreferredBackupWindow="03:00-04:00", StorageEncrypted=False)
        wait_available(east, primary)
        arn = east.describe_db_instances(DBInstanceIdentifier=primary)["DBInstances"][0]["DBInstanceArn"]
        if not exists(lambda: west.describe_db_instances(DBInstanceIdentifier=replica)):
            west.create_db_instance_read_replica(DBInstanceIdentifier=replica, SourceDBInstanceIdentifier=arn,
                                                 DBInstanceClass="db.r6g.large")
        wait_available(west, replica)
        out[replica] = west.describe_db_instances(DBInstanceIdentifier=replica)["DBInstances"][0]["DBInstanceArn"]
        if lag is not None:
            client("cloudwatch", DR).put_metric_data(Namespace="AWS/RDS", MetricData=[{
                "MetricName": "ReplicaLag", "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}],
                "Timestamp": datetime.now(timezone.utc), "Value": float(lag), "Unit": "Seconds"}])
    return out


def buckets(prefix):
    east, west = client("s3", PRIMARY), client("s3", DR)
    source, destination = f"{prefix}-docs", f"{prefix}-docs-dr"
    if not exists(lambda: east.head_bucket(Bucket=source)):
        east.create_bucket(Bucket=source)
    if not exists(lambda: west.head_bucket(Bucket=destination)):
        west.create_bucket(Bucket=destination, CreateBucketConfiguration={"LocationConstraint": DR})
    for s3, bucket in ((east, source), (west, destination)):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    east.put_bucket_replication(Bucket=source, ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/s3-replication",
        "Rules": [{"ID": "to-dr", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{destination}", "StorageClass": "STANDARD_IA"}}]})
    east.put_object(Bucket=source, Key="invoices/0001.pdf", Body=b"invoice 1")


def secret(prefix, replicated=True):
    """The application's database credentials in us-east-1, replicated to us-west-2."""
    sm = client("secretsmanager", PRIMARY)
    name = f"{prefix}/db-credentials"
    if not exists(lambda: sm.describe_secret(SecretId=name)):
        extra = {"AddReplicaRegions": [{"Region": DR}]} if replicated else {}
        sm.create_secret(Name=name, SecretString='{"username":"orders","password":"testbed-only-password"}', **extra)
    return name


def dns(zone):
    r53 = client("route53", PRIMARY)
    # By name: a long-lived test bed holds more zones than one page of ListHostedZones.
    zones = [z for z in r53.list_hosted_zones_by_name(DNSName=zone)["HostedZones"] if z["Name"] == zone]
    zone_id = zones[0]["Id"].split("/")[-1] if zones else \
        r53.create_hosted_zone(Name=zone, CallerReference=f"drctl-{zone}")["HostedZone"]["Id"].split("/")[-1]
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"app.{zone}", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": f"app-use1.{zone}"}]}}]})
    return zone_id


def eks(prefix):
    for region, cluster, desired in ((DR, f"{prefix}-dr", 2), (PRIMARY, prefix, 6)):
        e = client("eks", region)
        if cluster not in e.list_clusters()["clusters"]:
            e.create_cluster(name=cluster, roleArn="arn:aws:iam::123456789012:role/eks",
                             resourcesVpcConfig={"subnetIds": ["subnet-1", "subnet-2"]})
        if "workers" not in e.list_nodegroups(clusterName=cluster)["nodegroups"]:
            e.create_nodegroup(clusterName=cluster, nodegroupName="workers", nodeRole="arn:aws:iam::123456789012:role/node",
                               subnets=["subnet-1", "subnet-2"],
                               scalingConfig={"minSize": 2, "maxSize": 20, "desiredSize": desired})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lag", type=float, default=12.0, help="ReplicaLag datapoint in seconds (negative: none)")
    parser.add_argument("--replicas", type=int, default=1, help="database pairs (orders-primary, orders-primary-2, ...)")
    parser.add_argument("--prefix", default="orders", help="name prefix of every resource")
    parser.add_argument("--no-secret-replica", action="store_true", help="create P/db-credentials without its us-west-2 replica")
    args = parser.parse_args()
    suffixes = [""] + [f"-{i}" for i in range(2, args.replicas + 1)]
    replicas = databases(args.prefix, suffixes, None if args.lag < 0 else args.lag)
    buckets(args.prefix)
    secret(args.prefix, replicated=not args.no_secret_replica)
    zone = dns("example.com." if args.prefix == "orders" else f"{args.prefix}.example.com.")
    eks(args.prefix)
    print(json.dumps({"zone_id": zone, "replicas": replicas}))


if __name__ == "__main__":
    sys.exit(main())
