#!/usr/bin/env python3
"""botocore doing the same work as drctl-bench, in the same run, as the baseline.

  botocore_baseline.py sign N [ROUNDS]   -> signatures per second (SigV4Auth.add_auth), median of ROUNDS
  botocore_baseline.py signature         -> the Authorization header for the fixed request/date
  botocore_baseline.py roundtrips N C    -> signed STS GetCallerIdentity round trips/s at concurrency C
Prints one JSON object on stdout.
"""
import datetime
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL = "https://rds.us-west-2.amazonaws.com/"
BODY = "Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier=orders-primary"
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def request():
    return AWSRequest(method="POST", url=URL, data=BODY,
                      headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def sign(n, rounds=5):
    """Median of `rounds` timed rounds after one warm-up round, as drctl-bench does."""
    auth = SigV4Auth(CREDS, "rds", "us-west-2")
    rates = []
    for r in range(rounds + 1):
        start = time.perf_counter()
        for _ in range(n):
            auth.add_auth(request())
        if r:
            rates.append(n / (time.perf_counter() - start))
    rates.sort()
    return {"signatures_per_second": rates[len(rates) // 2], "rounds": rates, "iterations": n}


def signature():
    fixed = datetime.datetime(2026, 11, 26, 12, 0, 0)
    with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
        req = request()
        SigV4Auth(CREDS, "rds", "us-west-2").add_auth(req)
    return {"authorization": req.headers["Authorization"]}


def roundtrips(n, concurrency):
    import boto3
    from botocore.config import Config
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=os.environ["DRCTL_TESTBED_MOTO_URL"],
                       aws_access_key_id=os.environ["DRCTL_TESTBED_ACCESS_KEY_ID"],
                       aws_secret_access_key=os.environ["DRCTL_TESTBED_SECRET_ACCESS_KEY"],
                       config=Config(max_pool_connections=max(10, concurrency), retries={"max_attempts": 1}))
    sts.get_caller_identity()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda _: sts.get_caller_identity(), range(n)))
    elapsed = time.perf_counter() - start
    return {"round_trips_per_second": n / elapsed, "iterations": n, "concurrency": concurrency}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "sign":
        out = sign(int(sys.argv[2]), rounds=int(sys.argv[3]) if len(sys.argv) > 3 else 5)
    elif mode == "signature":
        out = signature()
    else:
        out = roundtrips(int(sys.argv[2]), int(sys.argv[3]))
    out["botocore"] = botocore.__version__
    print(json.dumps(out))
