#!/usr/bin/env python3
"""Evaluates an IAM identity policy against the AWS calls drctl made (moto does not evaluate IAM).

    iam_evaluate.py --policy POLICY.json --calls CALLS.json --account ID

CALLS is what the fault proxy recorded (`GET /_faults/calls`: service, operation, region, path,
params, outcome), in order. Each call becomes the (IAM action, resource ARN, request context)
requests IAM authorizes it by (Service Authorization Reference: the action's resource types and
condition keys), and each request is evaluated as IAM does for one identity policy: an explicit
Deny wins, else some Allow statement must match the action (Action / NotAction, `*` and `?`
wildcards, case-insensitive), the resource (Resource / NotResource, wildcards) and every
condition. Condition operators: StringEquals, StringNotEquals, StringLike, StringNotLike,
ArnEquals, ArnLike, Bool, Null, each with IfExists; keys: aws:RequestedRegion,
aws:RequestTag/<key> (tags the call sets), aws:ResourceTag/<key> (tags the resource got when a
recorded call created it). A call the evaluator cannot map is reported as unmapped, never allowed.

Prints JSON: {"decisions": [{index, service, operation, allowed, denied: [{action, resource}]}],
"unmapped": [...], "removal": {Sid: [indexes of calls denied without that statement]}}.
"""
import argparse
import json
import re
import sys

PARTITION = "aws"


def wildcard(pattern, value, case=True):
    """IAM's `*` (any run) and `?` (one character); nothing else is special."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.I) is not None


def as_list(value):
    return value if isinstance(value, list) else [value]


def condition_holds(operator, key, wanted, context):
    if_exists = operator.endswith("IfExists")
    op = operator[:-len("IfExists")] if if_exists else operator
    present = key in context
    if op == "Null":
        return all((not present) == (str(w).lower() == "true") for w in as_list(wanted))
    if not present:
        # A missing key: positive operators do not match; negated ones do; IfExists always does.
        return if_exists or op.startswith("StringNot") or op.startswith("ArnNot")
    actual = context[key]
    values = as_list(actual)
    wanted = [str(w) for w in as_list(wanted)]
    if op in ("StringEquals", "ArnEquals"):
        return any(v in wanted for v in values)
    if op == "StringNotEquals":
        return all(v not in wanted for v in values)
    if op in ("StringLike", "ArnLike"):
        return any(wildcard(w, v) for v in values for w in wanted)
    if op == "StringNotLike":
        return not any(wildcard(w, v) for v in values for w in wanted)
    if op == "Bool":
        return any(str(v).lower() == w.lower() for v in values for w in wanted)
    raise ValueError(f"condition operator {operator} is not supported by this evaluator")


def statement_matches(statement, action, resource, context):
    if "Action" in statement:
        if not any(wildcard(a, action, case=False) for a in as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(wildcard(a, action, case=False) for a in as_list(statement["NotAction"])):
            return False
    if "Resource" in statement:
        if not any(wildcard(r, resource) for r in as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(wildcard(r, resource) for r in as_list(statement["NotResource"])):
            return False
    for operator, pairs in statement.get("Condition", {}).items():
        for key, wanted in pairs.items():
            if not condition_holds(operator, key, wanted, context):
                return False
    return True


def allowed(statements, action, resource, context):
    matching = [s for s in statements if statement_matches(s, action, resource, context)]
    if any(s.get("Effect") == "Deny" for s in matching):
        return False
    return any(s.get("Effect") == "Allow" for s in matching)


# ---------------------------------------------------------------------------
# Calls → IAM requests
# ---------------------------------------------------------------------------
def rds_arn(region, account, kind, name):
    if name.startswith("arn:"):
        return name
    return f"arn:{PARTITION}:rds:{region}:{account}:{kind}:{name}"


def query_tags(params):
    """Tags of a Query request: Tags.Tag.N.Key / Tags.member.N.Key (botocore's locationName)."""
    found = {}
    for key, value in params.items():
        m = re.fullmatch(r"Tags\.(?:Tag|member)\.(\d+)\.(Key|Value)", key)
        if m:
            found.setdefault(m.group(1), {})[m.group(2)] = value
    return {t["Key"]: t.get("Value", "") for t in found.values() if "Key" in t}


class Authorizer:
    """Maps each recorded call to its IAM requests; remembers the tags of what recorded calls created."""

    def __init__(self, account):
        self.account = account
        self.tags = {}  # ARN → tags set at creation

    def requests(self, call):
        """[(action, resource, extra context)] or None when the call is not known here."""
        service, op, region = call["service"], call["operation"], call.get("region") or "us-east-1"
        p = call.get("params") or {}
        a = self.account
        handler = getattr(self, "_" + service.replace("-", "_"), None)
        return handler(op, region, p, call, a) if handler else None

    def created(self, call, requests):
        """After a successful call: the tags its created resources carry (IAM's aws:ResourceTag later)."""
        for action, resource, context in requests:
            tags = {k[len("aws:RequestTag/"):]: v for k, v in context.items() if k.startswith("aws:RequestTag/")}
            if tags and action in ("rds:CreateDBSnapshot", "rds:RestoreDBInstanceFromDBSnapshot", "rds:CopyDBSnapshot",
                                   "rds:CreateDBInstanceReadReplica", "rds:RestoreDBInstanceToPointInTime"):
                kind = ":snapshot:" if "Snapshot" in action and action != "rds:RestoreDBInstanceFromDBSnapshot" else ":db:"
                if kind in resource:
                    self.tags[resource] = tags

    def resource_tags(self, arn):
        return {f"aws:ResourceTag/{k}": v for k, v in self.tags.get(arn, {}).items()}

    def _rds(self, op, region, p, call, a):
        db = lambda name: rds_arn(region, a, "db", name)
        snap = lambda name: rds_arn(region, a, "snapshot", name)
        tags = {f"aws:RequestTag/{k}": v for k, v in query_tags(p).items()}
        if op == "DescribeDBInstances":
            return [("rds:DescribeDBInstances", db(p.get("DBInstanceIdentifier", "*")), {})]
        if op == "DescribeDBSnapshots":
            if "DBSnapshotIdentifier" in p:
                return [("rds:DescribeDBSnapshots", snap(p["DBSnapshotIdentifier"]), {})]
            return [("rds:DescribeDBSnapshots", db(p["DBInstanceIdentifier"]) if "DBInstanceIdentifier" in p else snap("*"), {})]
        if op == "DescribeDBSubnetGroups":
            return [("rds:DescribeDBSubnetGroups", rds_arn(region, a, "subgrp", p.get("DBSubnetGroupName", "*")), {})]
        if op == "DescribeDBParameterGroups":
            return [("rds:DescribeDBParameterGroups", rds_arn(region, a, "pg", p.get("DBParameterGroupName", "*")), {})]
        if op == "DescribeOptionGroups":
            return [("rds:DescribeOptionGroups", rds_arn(region, a, "og", p.get("OptionGroupName", "*")), {})]
        if op == "CreateDBSnapshot":
            out = [("rds:CreateDBSnapshot", db(p["DBInstanceIdentifier"]), tags),
                   ("rds:CreateDBSnapshot", snap(p["DBSnapshotIdentifier"]), tags)]
            return out + ([("rds:AddTagsToResource", snap(p["DBSnapshotIdentifier"]), tags)] if tags else [])
        if op == "RestoreDBInstanceFromDBSnapshot":
            out = [("rds:RestoreDBInstanceFromDBSnapshot", db(p["DBInstanceIdentifier"]), tags),
                   ("rds:RestoreDBInstanceFromDBSnapshot", snap(p["DBSnapshotIdentifier"]), tags)]
            for param, kind in (("DBSubnetGroupName", "subgrp"), ("DBParameterGroupName", "pg"), ("OptionGroupName", "og")):
                if param in p:
                    out.append(("rds:RestoreDBInstanceFromDBSnapshot", rds_arn(region, a, kind, p[param]), tags))
            return out + ([("rds:AddTagsToResource", db(p["DBInstanceIdentifier"]), tags)] if tags else [])
        if op == "DeleteDBInstance":
            arn = db(p["DBInstanceIdentifier"])
            return [("rds:DeleteDBInstance", arn, self.resource_tags(arn))]
        if op == "DeleteDBSnapshot":
            arn = snap(p["DBSnapshotIdentifier"])
            return [("rds:DeleteDBSnapshot", arn, self.resource_tags(arn))]
        if op in ("StopDBInstance", "RebootDBInstance", "PromoteReadReplica", "StartDBInstance"):
            return [(f"rds:{op}", db(p["DBInstanceIdentifier"]), {})]
        if op == "ModifyDBInstance":
            out = [("rds:ModifyDBInstance", db(p["DBInstanceIdentifier"]), {})]
            if "DBParameterGroupName" in p:
                out.append(("rds:ModifyDBInstance", rds_arn(region, a, "pg", p["DBParameterGroupName"]), {}))
            return out
        if op in ("ListTagsForResource", "AddTagsToResource"):
            return [(f"rds:{op}", p["ResourceName"], tags)]
        return None

    def _sts(self, op, region, p, call, a):
        return [("sts:GetCallerIdentity", "*", {})] if op == "GetCallerIdentity" else None

    def _monitoring(self, op, region, p, call, a):
        return [(f"cloudwatch:{op}", "*", {})] if op in ("GetMetricData", "PutMetricData", "GetMetricStatistics") else None

    def _s3(self, op, region, p, call, a):
        parts = call.get("path", "/").lstrip("/").split("/", 1)
        bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
        bucket_arn, object_arn = f"arn:{PARTITION}:s3:::{bucket}", f"arn:{PARTITION}:s3:::{bucket}/{key}"
        table = {"ListObjectsV2": ("s3:ListBucket", bucket_arn), "ListObjects": ("s3:ListBucket", bucket_arn),
                 "HeadBucket": ("s3:ListBucket", bucket_arn), "GetBucketReplication": ("s3:GetReplicationConfiguration", bucket_arn),
                 "GetBucketVersioning": ("s3:GetBucketVersioning", bucket_arn), "GetBucketLocation": ("s3:GetBucketLocation", bucket_arn),
                 "HeadObject": ("s3:GetObject", object_arn), "GetObject": ("s3:GetObject", object_arn),
                 "PutObject": ("s3:PutObject", object_arn)}
        return [(table[op][0], table[op][1], {})] if op in table else None

    def _route53(self, op, region, p, call, a):
        path = call.get("path", "")
        if op in ("ListHostedZones", "ListHostedZonesByName"):
            return [(f"route53:{op}", "*", {})]
        m = re.search(r"/hostedzone/([^/]+)", path)
        if op in ("ListResourceRecordSets", "ChangeResourceRecordSets", "GetHostedZone") and m:
            return [(f"route53:{op}", f"arn:{PARTITION}:route53:::hostedzone/{m.group(1)}", {})]
        m = re.search(r"/change/([^/]+)", path)
        if op == "GetChange" and m:
            return [("route53:GetChange", f"arn:{PARTITION}:route53:::change/{m.group(1)}", {})]
        return None

    def _secretsmanager(self, op, region, p, call, a):
        secret = p.get("SecretId", "")
        # A name stands for the secret's ARN, which ends in six characters Secrets Manager chose.
        arn = secret if secret.startswith("arn:") else f"arn:{PARTITION}:secretsmanager:{region}:{a}:secret:{secret}-AbCdEf"
        return [(f"secretsmanager:{op}", arn, {})] if op in ("DescribeSecret", "StopReplicationToReplica", "GetSecretValue") else None

    def _eks(self, op, region, p, call, a):
        m = re.match(r"/clusters/([^/]+)/node-groups/([^/]+)", call.get("path", ""))
        if op in ("DescribeNodegroup", "UpdateNodegroupConfig", "DescribeUpdate") and m:
            return [(f"eks:{op}", f"arn:{PARTITION}:eks:{region}:{a}:nodegroup/{m.group(1)}/{m.group(2)}/0a1b2c3d", {})]
        return None

    def _autoscaling(self, op, region, p, call, a):
        if op == "DescribeAutoScalingGroups":
            return [("autoscaling:DescribeAutoScalingGroups", "*", {})]
        if op in ("UpdateAutoScalingGroup", "SetDesiredCapacity"):
            name = p["AutoScalingGroupName"]
            return [(f"autoscaling:{op}", f"arn:{PARTITION}:autoscaling:{region}:{a}:autoScalingGroup:0a1b2c3d:autoScalingGroupName/{name}", {})]
        return None

    def _ecs(self, op, region, p, call, a):
        def arn(cluster, service):
            if service.startswith("arn:"):
                return service
            cluster = cluster.split("/")[-1] if cluster.startswith("arn:") else cluster
            return f"arn:{PARTITION}:ecs:{region}:{a}:service/{cluster}/{service}"
        cluster = p.get("cluster", "default")
        if op == "DescribeServices":
            return [("ecs:DescribeServices", arn(cluster, s), {}) for s in p.get("services", [])]
        if op == "UpdateService":
            return [("ecs:UpdateService", arn(cluster, p["service"]), {})]
        return None

    def _route53_recovery_cluster(self, op, region, p, call, a):
        if op in ("GetRoutingControlState", "UpdateRoutingControlState"):
            return [(f"route53-recovery-cluster:{op}", p["RoutingControlArn"], {})]
        return None

    def _iam(self, op, region, p, call, a):
        return [("iam:SimulatePrincipalPolicy", p["PolicySourceArn"], {})] if op == "SimulatePrincipalPolicy" else None


def evaluate(policy, calls, account):
    statements = as_list(policy["Statement"])
    authorizer = Authorizer(account)
    mapped, decisions, unmapped = [], [], []
    for index, call in enumerate(calls):
        requests = authorizer.requests(call)
        if requests is None:
            unmapped.append({"index": index, "service": call["service"], "operation": call["operation"]})
            decisions.append({"index": index, "service": call["service"], "operation": call["operation"], "allowed": False,
                              "denied": [{"action": "?", "resource": "?", "reason": "unmapped"}]})
            mapped.append([])
            continue
        region = call.get("region") or "us-east-1"
        requests = [(action, resource, dict(context, **{"aws:RequestedRegion": region})) for action, resource, context in requests]
        mapped.append(requests)
        denied = [{"action": act, "resource": res} for act, res, ctx in requests if not allowed(statements, act, res, ctx)]
        decisions.append({"index": index, "service": call["service"], "operation": call["operation"], "region": region,
                          "allowed": not denied, "denied": denied})
        if str(call.get("outcome", "")).startswith("2"):
            authorizer.created(call, requests)
    removal = {}
    for position, statement in enumerate(statements):
        rest = statements[:position] + statements[position + 1:]
        removal[statement.get("Sid", str(position))] = [
            index for index, requests in enumerate(mapped)
            if requests and decisions[index]["allowed"] and any(not allowed(rest, a, r, c) for a, r, c in requests)]
    return {"decisions": decisions, "unmapped": unmapped, "removal": removal}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", required=True)
    parser.add_argument("--calls", required=True)
    parser.add_argument("--account", required=True)
    args = parser.parse_args()
    with open(args.policy) as f:
        policy = json.load(f)
    with open(args.calls) as f:
        calls = json.load(f)
    json.dump(evaluate(policy, calls, args.account), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
