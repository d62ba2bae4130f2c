#!/usr/bin/env python3
"""Prints the state of a reference topology (see reference_topology.py) as JSON, read straight
from moto with boto3, so that tests assert on the test bed rather than on drctl's output.

  inspect_topology.py --prefix P
"""
import argparse
import json
import os

import boto3
from botocore.exceptions import ClientError

KW = dict(endpoint_url=os.environ["DRCTL_TESTBED_MOTO_URL"], aws_access_key_id=os.environ["DRCTL_TESTBED_ACCESS_KEY_ID"],
          aws_secret_access_key=os.environ["DRCTL_TESTBED_SECRET_ACCESS_KEY"])


def instance(region, identifier):
    try:
        db = boto3.client("rds", region_name=region, **KW).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        return {"status": db["DBInstanceStatus"], "source": db.get("ReadReplicaSourceDBInstanceIdentifier"),
                "replicas": db.get("ReadReplicaDBInstanceIdentifiers", []), "backup_retention": db.get("BackupRetentionPeriod"),
                "security_groups": [g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])]}
    except ClientError as error:
        return {"error": error.response["Error"]["Code"]}


def secret(region, name):
    """The secret's replication as DescribeSecret reports it in `region` (metadata only)."""
    try:
        described = boto3.client("secretsmanager", region_name=region, **KW).describe_secret(SecretId=name)
        return {"primary_region": described.get("PrimaryRegion"),
                "replicas": [r["Region"] for r in described.get("ReplicationStatus", [])]}
    except ClientError as error:
        return {"error": error.response["Error"]["Code"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default="orders")
    args = parser.parse_args()
    p = args.prefix
    zone_name = "example.com." if p == "orders" else f"{p}.example.com."
    r53 = boto3.client("route53", region_name="us-east-1", **KW)
    # By name: a long-lived test bed holds more zones than one page of ListHostedZones.
    zone = [z for z in r53.list_hosted_zones_by_name(DNSName=zone_name)["HostedZones"] if z["Name"] == zone_name][0]["Id"]
    records = {r["Name"]: [v["Value"] for v in r.get("ResourceRecords", [])]
               for r in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"] if r["Type"] == "CNAME"}
    nodegroup = boto3.client("eks", region_name="us-west-2", **KW).describe_nodegroup(
        clusterName=f"{p}-dr", nodegroupName="workers")["nodegroup"]["scalingConfig"]
    print(json.dumps({"primary": instance("us-east-1", f"{p}-primary"), "replica": instance("us-west-2", f"{p}-replica"),
                      "records": records, "standby_nodegroup": nodegroup,
                      "secret": {"us-east-1": secret("us-east-1", f"{p}/db-credentials"),
                                 "us-west-2": secret("us-west-2", f"{p}/db-credentials")}}))


if __name__ == "__main__":
    main()
