#!/usr/bin/env python3
"""Failover of N replicas plus the DNS change against the test bed with injected latency per call:
drctl's wall time beside (a) the floor — the longest chain of dependent calls × latency — and
(b) a boto3 script doing the same work sequentially and with a thread pool, all in one run; and
the API calls each made (counted at the fault proxy).

  failover_bench.py [--replicas 20] [--latency-ms 200] [--rounds 3] [--added-latency] --drctl PATH   (env: DRCTL_TESTBED_* of a running test bed)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "TestBed"))
import reference_topology  # noqa: E402

MOTO = os.environ["DRCTL_TESTBED_MOTO_URL"]
PROXY = os.environ["DRCTL_TESTBED_CLI_PROXY_URL"]
KEYS = dict(aws_access_key_id=os.environ["DRCTL_TESTBED_ACCESS_KEY_ID"],
            aws_secret_access_key=os.environ["DRCTL_TESTBED_SECRET_ACCESS_KEY"])


def control(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else {}


ROUND_TRIP = True


def with_latency(ms):
    """Every call takes `ms` from request to response (round trip, moto's own time included), or
    with --added-latency `ms` more than moto's own time, queueing behind other calls included."""
    control(PROXY + "/_faults", "DELETE")
    control(PROXY + "/_faults", "POST", {"seed": 1, "rules": [{"service": "*", "operation": "*", "fault": "latency", "ms": ms,
                                                              "round_trip": ROUND_TRIP}]})


def calls_made():
    return control(PROXY + "/_faults/counts")["total_requests"]


def calls_by_operation():
    counts = control(PROXY + "/_faults/counts")["requests"]
    return sorted(((n, f"{service}:{op}") for service, ops in counts.items() for op, n in ops.items()), reverse=True)


def longest_dependent_chain(latency):
    """From the proxy's log of arrival times: the longest sequence of calls each of which arrived
    after the previous one could have been answered (arrival + latency) — calls that cannot have
    overlapped, so that chain × latency is the floor for this exact call pattern."""
    times = sorted(entry["t"] for entry in control(PROXY + "/_faults/log"))
    best = []   # best[i]: longest chain ending at call i
    for i, t in enumerate(times):
        best.append(1 + max((best[j] for j in range(i) if times[j] + latency * 0.95 <= t), default=0))
    return max(best, default=0)


def topology(prefix, replicas):
    env = dict(os.environ)
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(reference_topology.__file__), "reference_topology.py"),
                          "--prefix", prefix, "--replicas", str(replicas), "--lag", "5"],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["zone_id"]


# RDS refuses to stop a primary that has read replicas (and so does the test bed): both sides fence
# by isolating the primary — ModifyDBInstance onto a security group that admits nobody, then a reboot.
ISOLATING_GROUP = "sg-0bench1so1ate"


def plan(prefix, replicas, directory):
    databases = "\n".join(f"""    - name: db{i}
      primary: {{ region: us-east-1, instance: {prefix}-primary{'' if i == 1 else f'-{i}'} }}
      replicas: [ {{ region: us-west-2, instance: {prefix}-replica{'' if i == 1 else f'-{i}'} }} ]
      fence: security-group
      fence_security_groups: [ {ISOLATING_GROUP} ]""" for i in range(1, replicas + 1))
    path = os.path.join(directory, f"{prefix}.yaml")
    with open(path, "w") as f:
        f.write(f"""name: {prefix}
regions: {{ primary: us-east-1, dr: us-west-2 }}
budgets: {{ rpo: 1h, rto: 4h }}
aws:
  databases:
{databases}
  dns:
    - {{ zone_name: {prefix}.example.com., name: app.{prefix}.example.com., type: CNAME, ttl: 60,
        values: {{ us-east-1: [app-use1.{prefix}.example.com.], us-west-2: [app-usw2.{prefix}.example.com.] }} }}
""")
    return path


def boto3_failover(prefix, replicas, zone_id, threads):
    config = Config(retries={"total_max_attempts": 3, "mode": "standard"}, max_pool_connections=max(10, threads))
    east = boto3.client("rds", region_name="us-east-1", endpoint_url=PROXY, config=config, **KEYS)
    west = boto3.client("rds", region_name="us-west-2", endpoint_url=PROXY, config=config, **KEYS)
    r53 = boto3.client("route53", region_name="us-east-1", endpoint_url=PROXY, config=config, **KEYS)

    def wait(rds, instance, done):
        while not done(rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]):
            pass

    def one(i):
        suffix = "" if i == 1 else f"-{i}"
        primary, replica = f"{prefix}-primary{suffix}", f"{prefix}-replica{suffix}"
        east.modify_db_instance(DBInstanceIdentifier=primary, VpcSecurityGroupIds=[ISOLATING_GROUP], ApplyImmediately=True)
        wait(east, primary, lambda db: db["DBInstanceStatus"] == "available")
        east.reboot_db_instance(DBInstanceIdentifier=primary)
        wait(east, primary, lambda db: db["DBInstanceStatus"] == "available")
        west.promote_read_replica(DBInstanceIdentifier=replica, BackupRetentionPeriod=7)
        wait(west, replica, lambda db: db["DBInstanceStatus"] == "available" and not db.get("ReadReplicaSourceDBInstanceIdentifier"))

    if threads == 1:
        for i in range(1, replicas + 1):
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, range(1, replicas + 1)))
    change = r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"app.{prefix}.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": f"app-usw2.{prefix}.example.com."}]}}]})
    while r53.get_change(Id=change["ChangeInfo"]["Id"])["ChangeInfo"]["Status"] != "INSYNC":
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--drctl", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--added-latency", action="store_true",
                        help="add the latency to moto's own time instead of making it each call's round trip")
    args = parser.parse_args()
    global ROUND_TRIP
    ROUND_TRIP = not args.added_latency
    # Immediate state changes: the benchmark measures calls and scheduling, not the test bed's clock.
    control(MOTO + "/_testbed/config", "POST", {"rds": {k: 0 for k in ("creating", "modifying", "backing_up", "snapshot", "copy",
                                                                      "promote", "rebooting", "stopping", "starting", "deleting")},
                                                "route53": {"insync": 0}, "s3": {"replication_delay": 0}})
    latency = args.latency_ms / 1000
    run = int(time.time()) % 100000
    drctl_runs, pool_runs, sequential = [], [], None
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEYS["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=KEYS["aws_secret_access_key"],
                   AWS_ENDPOINT_URL=PROXY, AWS_REGION="us-east-1", HOME=directory, AWS_EC2_METADATA_DISABLED="true")
        # drctl and the thread-pool script alternate, round after round: this machine's speed
        # drifts, and the medians of alternating rounds compare like with like.
        for round_ in range(args.rounds):
            prefix = f"bench{run}d{round_}"
            control(PROXY + "/_faults", "DELETE")
            topology(prefix, args.replicas)
            plan_path = plan(prefix, args.replicas, directory)
            with_latency(args.latency_ms)
            start = time.perf_counter()
            done = subprocess.run([args.drctl, "failover", "--to", "us-west-2", "--plan", plan_path, "--yes",
                                   "--state", os.path.join(directory, f"state{round_}.db"), "--output", "json"],
                                  env=env, capture_output=True, text=True)
            took = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"drctl failover failed ({done.returncode}):\n{done.stderr[-2000:]}")
            drctl_runs.append((took, calls_made(), longest_dependent_chain(latency), calls_by_operation()))

            prefix = f"bench{run}p{round_}"
            control(PROXY + "/_faults", "DELETE")
            zone_id = topology(prefix, args.replicas)
            with_latency(args.latency_ms)
            start = time.perf_counter()
            boto3_failover(prefix, args.replicas, zone_id, args.replicas)
            pool_runs.append((time.perf_counter() - start, calls_made()))

        prefix = f"bench{run}s"
        control(PROXY + "/_faults", "DELETE")
        zone_id = topology(prefix, args.replicas)
        with_latency(args.latency_ms)
        start = time.perf_counter()
        boto3_failover(prefix, args.replicas, zone_id, 1)
        sequential = (time.perf_counter() - start, calls_made())
    control(PROXY + "/_faults", "DELETE")
    control(MOTO + "/_testbed/config", "POST", {"rds": {"creating": 2, "modifying": 2, "backing_up": 1, "snapshot": 2, "copy": 2,
                                                         "promote": 3, "rebooting": 1, "stopping": 1, "starting": 1, "deleting": 1},
                                                "route53": {"insync": 2}, "s3": {"replication_delay": 2}})

    # The work's own chain: isolate → confirm → reboot → confirm → promote → confirm promoted →
    # change DNS → confirm INSYNC.
    floor = 8 * latency
    # drctl's failover also checks before it changes anything (identity, replicas, lag against the
    # RPO budget): one more dependent round of reads, which the script skips.
    floor_checked = 9 * latency
    median = statistics.median
    drctl_seconds = median(r[0] for r in drctl_runs)
    pool_seconds = median(r[0] for r in pool_runs)
    drctl_calls = max(r[1] for r in drctl_runs)
    model = ("added to moto's own time (which queues: moto answers one call at a time)" if args.added_latency
             else "per call, round trip (moto's own time inside it)")
    print(f"Failover of {args.replicas} replicas + the DNS change, {args.latency_ms} ms {model}, "
          f"medians of {args.rounds} alternating rounds (test bed state changes immediate)")
    print(f"  floor of the work: 8 dependent calls × {args.latency_ms} ms                 {floor:6.2f} s")
    print(f"  floor with a preflight: 9 dependent calls × {args.latency_ms} ms            {floor_checked:6.2f} s")
    print(f"  drctl failover (preflight + run)        {drctl_seconds:6.2f} s   {drctl_seconds / floor_checked:4.2f}× the floor with a preflight, "
          f"{drctl_seconds / floor:4.2f}× the work's   {drctl_calls:3d} API calls   (rounds: {', '.join(f'{r[0]:.2f}' for r in drctl_runs)})")
    print(f"  boto3 script, thread pool               {pool_seconds:6.2f} s   {pool_seconds / floor:4.2f}× the work's floor"
          f"                            {max(r[1] for r in pool_runs):3d} API calls   (rounds: {', '.join(f'{r[0]:.2f}' for r in pool_runs)})")
    print(f"  boto3 script, sequential                {sequential[0]:6.2f} s   {sequential[0] / floor:4.2f}× the work's floor"
          f"                            {sequential[1]:3d} API calls")
    print(f"  drctl's longest chain of dependent calls: {', '.join(str(r[2]) for r in drctl_runs)} (the floor's: 9)")
    print("  drctl's calls (last round): " + ", ".join(f"{op} {n}" for n, op in drctl_runs[-1][3]))
    print(f"  drctl / thread-pool script: {drctl_seconds / pool_seconds:4.2f}× (the test bed's own time per call weighs on both)")
    print("  goal: within 1.2× of the floor, with fewer API calls than the script")

if __name__ == "__main__":
    main()
