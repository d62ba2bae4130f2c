#!/usr/bin/env python3
"""The AWS half of a mixed plan (Runbooks/examples/mixed-postgres-aws.yaml): the databases are
self-managed PostgreSQL (a postgres.sh pair), traffic and capacity are AWS. Under a prefix P it
creates, in the running test bed (boto3, signed, straight to moto):
- the hosted zone P.example.com. with app.P.example.com. CNAME -> app-use1.P.example.com.;
- the Auto Scaling group P-web in us-west-2 (min 0, max 10, desired 0: a warm standby at zero).

  mixed_topology.py seed P          # creates P's resources (safe to run twice)
  mixed_topology.py seed -          # one prefix per line on stdin, touching DIR/seeded-P after each
                                    # (DIR: --markers DIR); boto3 is imported once for a whole sweep
  mixed_topology.py inspect P       # prints {"record": [...], "asg": {"desired", "in_service", "min", "max"}}
  mixed_topology.py inspect P1,P2   # prints {"P1": {...}, "P2": {...}} (one process for a whole sweep)
(env: DRCTL_TESTBED_MOTO_URL, DRCTL_TESTBED_ACCESS_KEY_ID, DRCTL_TESTBED_SECRET_ACCESS_KEY)
"""
import argparse
import json
import os
import sys

import boto3
from botocore.config import Config

KW = dict(endpoint_url=os.environ["DRCTL_TESTBED_MOTO_URL"], aws_access_key_id=os.environ["DRCTL_TESTBED_ACCESS_KEY_ID"],
          aws_secret_access_key=os.environ["DRCTL_TESTBED_SECRET_ACCESS_KEY"],
          config=Config(retries={"total_max_attempts": 5, "mode": "standard"}))
DR = "us-west-2"


def client(service, region="us-east-1"):
    return boto3.client(service, region_name=region, **KW)


def zone_id(r53, zone):
    # By name: a long-lived test bed holds more zones than one page of ListHostedZones.
    zones = [z for z in r53.list_hosted_zones_by_name(DNSName=zone)["HostedZones"] if z["Name"] == zone]
    return zones[0]["Id"].split("/")[-1] if zones else None


def seed(prefix):
    zone = f"{prefix}.example.com."
    r53 = client("route53")
    zid = zone_id(r53, zone) or r53.create_hosted_zone(Name=zone, CallerReference=f"drctl-{zone}")["HostedZone"]["Id"].split("/")[-1]
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"app.{zone}", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": f"app-use1.{zone}"}]}}]})
    ec2, asg = client("ec2", DR), client("autoscaling", DR)
    template = f"{prefix}-web"
    if not ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": [template]}])["LaunchTemplates"]:
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]   # one of moto's own AMIs
        ec2.create_launch_template(LaunchTemplateName=template, LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"})
    if not asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{prefix}-web"])["AutoScalingGroups"]:
        asg.create_auto_scaling_group(AutoScalingGroupName=f"{prefix}-web", MinSize=0, MaxSize=10, DesiredCapacity=0,
                                      LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
                                      AvailabilityZones=[f"{DR}a", f"{DR}b"])


def inspect(prefix):
    zone = f"{prefix}.example.com."
    r53 = client("route53")
    sets = r53.list_resource_record_sets(HostedZoneId=zone_id(r53, zone))["ResourceRecordSets"]
    record = [v["Value"] for s in sets if s["Name"] == f"app.{zone}" and s["Type"] == "CNAME" for v in s.get("ResourceRecords", [])]
    group = client("autoscaling", DR).describe_auto_scaling_groups(AutoScalingGroupNames=[f"{prefix}-web"])["AutoScalingGroups"][0]
    in_service = sum(1 for i in group["Instances"] if i["LifecycleState"] == "InService")
    return {"record": record, "asg": {"desired": group["DesiredCapacity"], "in_service": in_service,
                                      "min": group["MinSize"], "max": group["MaxSize"]}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["seed", "inspect"])
    parser.add_argument("prefix")
    parser.add_argument("--markers", help="seed -: the directory where seeded-P marks each prefix done")
    args = parser.parse_args()
    if args.command == "inspect" and "," in args.prefix:
        print(json.dumps({prefix: inspect(prefix) for prefix in args.prefix.split(",")}))
    elif args.command == "inspect":
        print(json.dumps(inspect(args.prefix)))
    elif args.prefix == "-":
        for line in sys.stdin:
            prefix = line.strip()
            seed(prefix)
            open(os.path.join(args.markers, "seeded-" + prefix), "w").close()
    else:
        seed(args.prefix)


if __name__ == "__main__":
    sys.exit(main())
