#!/usr/bin/env python3
"""moto (5.2.1) in-process server, patched to behave more like real AWS.

Why: drctl's waiters, timeouts, RTO measurement and resume logic must be exercised
against state that changes over time and against real SigV4 checking. Stock moto
makes everything `available` at once, keeps promoted replicas attached, never
replicates S3 objects and reports Route 53 changes INSYNC with one constant id.

Control API (unauthenticated, same port): /_testbed/{health,config,reset,credentials}.
See README.md next to this file.
"""
import argparse
import copy
import io
import itertools
import json
import os
import signal
import sys
import threading
import time
import traceback

import boto3
import requests
from botocore.config import Config
from werkzeug.serving import make_server

from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import _RESTError
from moto.iam import access_control
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

USER_NAME = "drctl-testbed"
ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)

DEFAULT_CONFIG = {
    "rds": {
        "creating": 2, "modifying": 2, "backing_up": 1, "snapshot": 2, "copy": 2,
        "promote": 3, "rebooting": 1, "stopping": 1, "starting": 1, "deleting": 1,
    },
    "s3": {"replication_delay": 2},
    "route53": {"insync": 2},
}
CONFIG = copy.deepcopy(DEFAULT_CONFIG)

# One lock serialises moto request handling and our timer callbacks: moto's
# backends are not thread-safe and the timers mutate the same objects.
LOCK = threading.RLock()
# Bumped on /_testbed/reset so timers scheduled before a reset become no-ops.
GENERATION = [0]
_tokens = itertools.count(1)
_tls = threading.local()  # raw request body of the request this thread serves


def log(msg):
    print(f"[motobed {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def later(delay, fn):
    """Run fn under LOCK after `delay` seconds (immediately if 0), unless a reset happened."""
    gen = GENERATION[0]

    def run():
        with LOCK:
            if gen != GENERATION[0]:
                return
            try:
                fn()
            except Exception:  # a failed transition must not kill the server
                log("timer failed:\n" + traceback.format_exc())

    if delay <= 0:
        run()
    else:
        t = threading.Timer(delay, run)
        t.daemon = True
        t.start()


def transition(obj, now_status, delay, final_status="available", after=None):
    """Set obj.status now; set final_status after delay unless another transition superseded it."""
    token = next(_tokens)
    obj._tb_token = token
    obj.status = now_status

    def finish():
        if getattr(obj, "_tb_token", None) == token:
            obj.status = final_status
            if after:
                after()

    later(delay, finish)


# ---------------------------------------------------------------------------
# SigV4 fixes
# ---------------------------------------------------------------------------
UNSIGNED_STS_ACTIONS = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


def _patch_auth():
    # moto routes unsigned AssumeRoleWithWebIdentity/SAML to STS but then demands a signature;
    # AWS does not (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
    from moto.core.authorization import ActionAuthenticatorMixin

    orig_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
        if "Authorization" not in self.headers and self._get_action() in UNSIGNED_STS_ACTIONS:
            return
        return orig_authenticate(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action

    base = access_control.IAMRequestBase
    orig_init = base.__init__

    def _create_aws_request(self):
        # moto 5.2.1 passes `data=self._body or self._data`: for a bodiless GET/HEAD/DELETE
        # the parsed querystring/headers dict gets url-encoded into a fake body, so the
        # payload hash (and signature) never matches. Sign over the exact bytes received.
        from botocore.awsrequest import AWSRequest

        signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
        headers = self._create_headers_for_aws_request(signed, self._headers)
        raw = getattr(_tls, "raw_body", None)
        data = raw if raw is not None else (self._body or self._data)
        url = self._path
        raw_path = getattr(_tls, "raw_path", None)
        if raw_path:
            # Keep moto's scheme/host/query, replace only the path with the bytes received.
            from urllib.parse import urlsplit, urlunsplit
            parts = urlsplit(self._path)
            url = urlunsplit((parts.scheme, parts.netloc, raw_path, parts.query, parts.fragment)) if parts.netloc else (
                raw_path + ("?" + parts.query if parts.query else ""))
        request = AWSRequest(method=self._method, url=url, data=data, headers=headers)
        request.context["timestamp"] = headers.get("X-Amz-Date") or self._headers.get("X-Amz-Date")
        return request

    def __init__(self, *args, **kwargs):
        headers = kwargs.get("headers") if "headers" in kwargs else args[5]
        if "Authorization" not in headers:
            # moto raises KeyError -> HTTP 500. Real AWS: 403 MissingAuthenticationToken
            # (S3: 403 AccessDenied for an anonymous request).
            if isinstance(self, access_control.S3IAMRequest):
                from moto.s3.exceptions import S3AccessDeniedError

                raise S3AccessDeniedError()
            err = _RESTError("MissingAuthenticationToken", "Missing Authentication Token")
            err.code = 403
            raise err
        orig_init(self, *args, **kwargs)

    base._create_aws_request = _create_aws_request
    base.__init__ = __init__

    # moto renders auth errors as Query-XML even for JSON-protocol services; botocore
    # then only sees the X-Amzn-ErrorType header. Answer in JSON when X-Amz-Target is set.
    orig_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
        try:
            return orig_auth(self, iam_request_cls, resource)
        except _RESTError as e:
            if self.headers.get("X-Amz-Target") and type(e).__module__.startswith("moto.core"):
                raise e.to_json()
            raise

    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action


# ---------------------------------------------------------------------------
# RDS: state over time, promotion that detaches
# ---------------------------------------------------------------------------
def _patch_rds():
    from moto.rds import models as rds
    from moto.rds.exceptions import RDSClientError

    B = rds.RDSBackend
    cfg = lambda k: float(CONFIG["rds"].get(k, 0))  # noqa: E731

    def _require_available(backend, ident):
        # Real RDS rejects most changes while an instance is busy; this is what makes waiters necessary.
        db = backend.databases.get(ident)
        if db is None:
            raise rds.DBInstanceNotFoundError(ident)
        if db.status != "available":
            raise RDSClientError("InvalidDBInstanceState", f"Instance {ident} is not in available state.")
        return db

    orig_option_groups = B.describe_option_groups

    def describe_option_groups(self, option_group_kwargs):
        # RDS lists no option groups as an empty list; moto says OptionGroupNotFound unless a name was asked for.
        try:
            return orig_option_groups(self, option_group_kwargs)
        except rds.OptionGroupNotFoundFaultError:
            if option_group_kwargs.get("option_group_name"):
                raise
            return []

    B.describe_option_groups = describe_option_groups

    orig_create = B.create_db_instance

    def create_db_instance(self, db_kwargs):
        db = orig_create(self, db_kwargs)  # also used by Restore*FromDBSnapshot / ToPointInTime
        transition(db, "creating", cfg("creating"))
        return db

    orig_replica = B.create_db_instance_read_replica

    def create_db_instance_read_replica(self, db_kwargs):
        db = orig_replica(self, db_kwargs)
        transition(db, "creating", cfg("creating"))
        return db

    orig_modify = B.modify_db_instance

    def modify_db_instance(self, db_instance_identifier, db_kwargs):
        _require_available(self, db_instance_identifier)
        db = orig_modify(self, db_instance_identifier, db_kwargs)
        transition(db, "modifying", cfg("modifying"))
        return db

    orig_reboot = B.reboot_db_instance

    def reboot_db_instance(self, db_instance_identifier, *a, **kw):
        _require_available(self, db_instance_identifier)
        db = orig_reboot(self, db_instance_identifier, *a, **kw)
        transition(db, "rebooting", cfg("rebooting"))
        return db

    orig_stop = B.stop_db_instance

    def stop_db_instance(self, db_instance_identifier, db_snapshot_identifier=None):
        # Real RDS refuses to stop a read replica or an instance that has read replicas, with
        # InvalidDBInstanceState (HTTP 400); moto stops a primary with replicas, and answers
        # InvalidDBClusterStateFault for a replica.
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html#USER_StopInstance.Limitations
        db = self.databases.get(db_instance_identifier)
        if db is not None and db.is_replica:
            raise RDSClientError("InvalidDBInstanceState", "Cannot stop or start a Read-Replica instance")
        if db is not None and db.replicas:
            raise RDSClientError("InvalidDBInstanceState",
                                 f"Cannot stop or start DB instance {db_instance_identifier} because it has read replicas.")
        db = orig_stop(self, db_instance_identifier, db_snapshot_identifier)
        transition(db, "stopping", cfg("stopping"), final_status="stopped")
        return db

    orig_start = B.start_db_instance

    def start_db_instance(self, db_instance_identifier):
        db = orig_start(self, db_instance_identifier)
        transition(db, "starting", cfg("starting"))
        return db

    orig_delete = B.delete_db_instance

    def delete_db_instance(self, db_instance_identifier, *a, **kw):
        primary_before = self.databases.get(db_instance_identifier)
        if primary_before is not None and primary_before.is_replica:
            # moto's remove_replica only knows same-region ids; cross-region replicas are
            # registered on the source by ARN -> ValueError. Detach robustly ourselves.
            _detach(self, primary_before)
            primary_before.is_replica = False
        db = orig_delete(self, db_instance_identifier, *a, **kw)
        # Keep it visible as `deleting` for a while, then really gone.
        self.databases[db_instance_identifier] = db
        token = next(_tokens)
        db._tb_token = token
        db.status = "deleting"

        def gone():
            if self.databases.get(db_instance_identifier) is db and db._tb_token == token:
                del self.databases[db_instance_identifier]

        later(cfg("deleting"), gone)
        return db

    orig_snap = B.create_db_snapshot

    def create_db_snapshot(self, db_instance_identifier, db_snapshot_identifier, snapshot_type="manual", *a, **kw):
        if snapshot_type == "manual" and db_instance_identifier in self.databases and \
                self.databases[db_instance_identifier].status not in ("available", "stopping", "deleting"):
            _require_available(self, db_instance_identifier)  # stop/delete take their own final snapshot
        snap = orig_snap(self, db_instance_identifier, db_snapshot_identifier, snapshot_type, *a, **kw)
        if snapshot_type == "manual":
            db = self.databases.get(db_instance_identifier)
            if db is not None and db.status == "available":
                transition(db, "backing-up", cfg("backing_up"))
            transition(snap, "creating", cfg("snapshot"))
        return snap

    orig_copy = B.copy_db_snapshot

    def copy_db_snapshot(self, source_db_snapshot_identifier, target_db_snapshot_identifier, *a, **kw):
        src = source_db_snapshot_identifier
        if src.startswith("arn:") and src.split(":")[3] != self.region_name:
            # Cross-region copy: moto only looks in the target region. Find the source in its
            # own region and register the copy here.
            parts = src.split(":")
            other = rds.rds_backends[parts[4]][parts[3]]
            source = other.get_db_snapshot(parts[-1])
            if target_db_snapshot_identifier in self.database_snapshots:
                raise rds.DBSnapshotAlreadyExistsError(target_db_snapshot_identifier)
            tags = kw.get("tags") or (source.tags if kw.get("copy_tags") else [])
            snap = rds.DBSnapshot(self, source.database, target_db_snapshot_identifier, tags=tags,
                                  kms_key_id=kw.get("kms_key_id"),
                                  original_created_at=source.original_snapshot_create_time)
            self.database_snapshots[target_db_snapshot_identifier] = snap
        else:
            snap = orig_copy(self, source_db_snapshot_identifier, target_db_snapshot_identifier, *a, **kw)
        transition(snap, "pending", cfg("copy"))
        return snap

    def _detach(backend, db):
        """Remove db from its source's replica list (source may be in another region or gone)."""
        src = db.source_db_instance_identifier
        if not src:
            return
        try:
            primary = backend.find_db_from_id(src)
        except Exception:
            return  # source deleted (e.g. the DR case): nothing to detach from
        for ident in (db.db_instance_identifier, db.db_instance_arn):
            while ident in primary.replicas:
                primary.replicas.remove(ident)

    orig_promote = B.promote_read_replica

    def promote_read_replica(self, db_kwargs):
        ident = db_kwargs["db_instance_identifier"]
        db = _require_available(self, ident)
        if not db.is_replica or not db.source_db_instance_identifier:
            raise RDSClientError("InvalidDBInstanceState", "DB Instance is not a read replica.")
        # Keep moto's kwargs handling (e.g. BackupRetentionPeriod) but stay a replica until
        # the promotion completes, as real RDS reports the source until then.
        orig_promote(self, db_kwargs)
        db.is_replica = True

        def detach():
            _detach(self, db)
            db.is_replica = False
            db.source_db_instance_identifier = None

        transition(db, "modifying", cfg("promote"), after=detach)
        return db

    for name, fn in list(locals().items()):
        if callable(fn) and hasattr(B, name) and not name.startswith("_"):
            setattr(B, name, fn)


# ---------------------------------------------------------------------------
# S3: asynchronous replication with x-amz-replication-status
# ---------------------------------------------------------------------------
def _rule_matches(rule, key):
    if rule.get("Status") != "Enabled":
        return False
    prefix = rule.get("Prefix")
    flt = rule.get("Filter")
    if isinstance(flt, dict):
        prefix = flt.get("Prefix", (flt.get("And") or {}).get("Prefix", prefix))
    return key.startswith(prefix or "")


def _patch_s3():
    from moto.s3 import models as s3

    orig_put = s3.S3Backend.put_object

    def put_object(self, bucket_name, key_name, value, *a, **kw):
        key = orig_put(self, bucket_name, key_name, value, *a, **kw)
        if getattr(_tls, "replicating", False):
            return key
        repl = getattr(self.get_bucket(bucket_name), "replication", None) or {}
        rules = sorted(repl.get("Rule") or [], key=lambda r: -int(r.get("Priority") or 0))
        rule = next((r for r in rules if _rule_matches(r, key_name)), None)
        if rule is None:
            return key
        key._tb_repl = "PENDING"
        dest = rule.get("Destination") or {}
        dest_bucket = str(dest.get("Bucket", "")).split(":::")[-1]

        def replicate():
            try:
                target = self.get_bucket(dest_bucket)
            except Exception:
                target = None
            if target is None or not target.is_versioned:
                log(f"s3 replication of {bucket_name}/{key_name} to {dest_bucket!r} FAILED "
                    f"({'no such bucket' if target is None else 'destination not versioned'})")
                key._tb_repl = "FAILED"
                return
            _tls.replicating = True
            try:
                copy_ = orig_put(self, dest_bucket, key_name, key.value,
                                 storage=dest.get("StorageClass") or key.storage_class,
                                 disable_notification=False)
            finally:
                _tls.replicating = False
            copy_.set_metadata(dict(key.metadata))
            copy_._tb_repl = "REPLICA"
            key._tb_repl = "COMPLETED"

        later(float(CONFIG["s3"].get("replication_delay", 0)), replicate)
        return key

    s3.S3Backend.put_object = put_object

    # moto's GetBucketReplication hard-codes Filter {Prefix: ""} and drops what was stored.
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    def get_bucket_replication(self):
        self.data["Action"] = "GetBucketReplication"
        repl = self.backend.get_bucket_replication(self.bucket_name)
        if not repl:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = []
        for r in repl["Rule"]:
            rule = {k: v for k, v in r.items() if k in ("ID", "Status", "Filter", "Prefix", "Destination",
                                                          "DeleteMarkerReplication", "SourceSelectionCriteria",
                                                          "ExistingObjectReplication")}
            rule["Priority"] = int(r.get("Priority") or 0)
            if "Filter" not in rule and "Prefix" not in rule:
                rule["Filter"] = {"Prefix": ""}
            rules.append(rule)
        return self.serialized(ActionResult({"ReplicationConfiguration": {"Role": repl["Role"], "Rules": rules}}))

    S3Response.get_bucket_replication = get_bucket_replication

    orig_rd = s3.FakeKey.response_dict.fget

    def response_dict(self):
        res = orig_rd(self)
        if getattr(self, "_tb_repl", None):
            res["x-amz-replication-status"] = self._tb_repl
        return res

    s3.FakeKey.response_dict = property(response_dict)


# ---------------------------------------------------------------------------
# Route 53: unique change ids, PENDING then INSYNC
# ---------------------------------------------------------------------------
CHANGES = {}  # change id (without /change/) -> time it becomes INSYNC



# ---------------------------------------------------------------------------
# IAM: SimulatePrincipalPolicy (moto 5.2.1 has none)
# ---------------------------------------------------------------------------
def _patch_iam_simulation():
    """The principal's identity policies — inline and attached, a user's groups' too — evaluated
    per action and resource by iam_evaluate.py, with the request's context entries, as IAM's
    simulator does for one account without SCPs, boundaries or resource policies.
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html"""
    from xml.sax.saxutils import escape

    from moto.iam.models import iam_backends
    from moto.iam.responses import IamResponse

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import iam_evaluate

    def documents(holder):
        docs = list(getattr(holder, "policies", {}).values())
        for policy in getattr(holder, "managed_policies", {}).values():
            version = next((v for v in policy.versions if v.is_default), None)
            if version is not None:
                docs.append(version.document)
        return docs

    def statements(arn):
        account = arn.split(":")[4]
        backend = iam_backends[account]["aws"]
        kind, _, name = arn.split(":", 5)[5].partition("/")
        name = name.rsplit("/", 1)[-1]
        if kind == "user":
            user = backend.get_user(name)
            docs = documents(user)
            for group in backend.get_groups_for_user(name):
                docs += documents(group)
        elif kind == "role":
            docs = documents(backend.get_role(name))
        else:
            raise KeyError(arn)
        out = []
        for doc in docs:
            parsed = json.loads(doc) if isinstance(doc, str) else doc
            out += iam_evaluate.as_list(parsed.get("Statement", []))
        return out

    def simulate_principal_policy(self):
        q = self.querystring
        def listed(prefix):
            keys = sorted((k for k in q if k.startswith(prefix + ".member.") and k.count(".") == prefix.count(".") + 2),
                          key=lambda k: int(k.rsplit(".", 1)[1]))
            return [q[k][0] for k in keys]
        source = q.get("PolicySourceArn", [""])[0]
        actions = listed("ActionNames")
        resources = listed("ResourceArns") or ["*"]
        context = {}
        index = 1
        while f"ContextEntries.member.{index}.ContextKeyName" in q:
            name = q[f"ContextEntries.member.{index}.ContextKeyName"][0]
            values = listed(f"ContextEntries.member.{index}.ContextKeyValues")
            context[name] = values if len(values) != 1 else values[0]
            index += 1
        try:
            policy = statements(source)
        except Exception:
            err = _RESTError("NoSuchEntity", f"The principal {source} cannot be found.")
            err.code = 404
            raise err
        members = []
        for action in actions:
            per_resource = []
            for resource in resources:
                decision = "allowed" if iam_evaluate.allowed(policy, action, resource, context) else "implicitDeny"
                per_resource.append((resource, decision))
            overall = "allowed" if all(d == "allowed" for _, d in per_resource) else "implicitDeny"
            specific = "".join(f"<member><EvalResourceName>{escape(r)}</EvalResourceName><EvalResourceDecision>{d}</EvalResourceDecision></member>"
                               for r, d in per_resource)
            members.append(f"<member><EvalActionName>{escape(action)}</EvalActionName><EvalResourceName>*</EvalResourceName>"
                           f"<EvalDecision>{overall}</EvalDecision><ResourceSpecificResults>{specific}</ResourceSpecificResults></member>")
        return ('<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>'
                f'<IsTruncated>false</IsTruncated><EvaluationResults>{"".join(members)}</EvaluationResults></SimulatePrincipalPolicyResult>'
                '<ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>')

    IamResponse.simulate_principal_policy = simulate_principal_policy

def _patch_route53():
    from moto.route53.responses import Route53

    def _wrap(name):
        orig = getattr(Route53, name)

        def fn(self):
            res = orig(self)
            info = res.result.get("ChangeInfo") if isinstance(res.result, dict) else None
            if info is not None:
                cid = "C" + os.urandom(10).hex().upper()[:19]
                CHANGES[cid] = time.time() + float(CONFIG["route53"].get("insync", 0))
                info["Id"] = f"/change/{cid}"
                info["Status"] = _change_status(cid)
            return res

        setattr(Route53, name, fn)

    for name in ("change_resource_record_sets", "create_hosted_zone", "delete_hosted_zone",
                 "associate_vpc_with_hosted_zone", "disassociate_vpc_from_hosted_zone"):
        if hasattr(Route53, name):
            _wrap(name)

    orig_get = Route53.get_change

    def get_change(self):
        res = orig_get(self)
        cid = str(res.result["ChangeInfo"]["Id"]).split("/")[-1]
        res.result["ChangeInfo"]["Id"] = f"/change/{cid}"
        if cid in CHANGES:
            res.result["ChangeInfo"]["Status"] = _change_status(cid)
        return res

    Route53.get_change = get_change


def _change_status(cid):
    return "INSYNC" if time.time() >= CHANGES[cid] else "PENDING"


# ---------------------------------------------------------------------------
# CloudWatch: GetMetricData periods start on whole minutes, as in AWS
# ---------------------------------------------------------------------------
def _patch_cloudwatch():
    """AWS rounds GetMetricData's StartTime down to the whole minute (for data less than 15 days
    old), so one-minute periods, and the timestamps that name them, start on whole minutes; moto
    starts them wherever StartTime says. A datapoint then names the minute it aggregates, which is
    what a check "measured after this moment" must reason about.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html"""
    from moto.cloudwatch.models import CloudWatchBackend

    orig = CloudWatchBackend.get_metric_data

    def get_metric_data(self, queries, start_time, end_time, *args, **kwargs):
        return orig(self, queries, start_time.replace(second=0, microsecond=0), end_time, *args, **kwargs)

    CloudWatchBackend.get_metric_data = get_metric_data


# ---------------------------------------------------------------------------
# Secrets Manager: StopReplicationToReplica (moto 5.2.1 has none)
# ---------------------------------------------------------------------------
def _patch_secretsmanager():
    """Promotes a replica secret to a standalone secret in its region, as AWS does: the replica
    keeps its ARN, name, value and tags, and leaves the primary's ReplicationStatus.
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_StopReplicationToReplica.html"""
    from moto.secretsmanager import models as sm
    from moto.secretsmanager.exceptions import InvalidRequestException, SecretNotFoundException
    from moto.secretsmanager.responses import SecretsManagerResponse

    def stop_replication_to_replica(backend, secret_id):
        replica = backend.secrets.get(secret_id)
        if replica is None:
            raise SecretNotFoundException()
        if not isinstance(replica, sm.ReplicaSecret):
            raise InvalidRequestException(
                f"Operation is not permitted: {replica.name} in {backend.region_name} is not a replica secret.")
        source = replica.source
        standalone = copy.copy(source)
        standalone.region = backend.region_name
        standalone.arn = replica.arn
        standalone.replicas = []
        standalone.versions = copy.deepcopy(source.versions)
        standalone.tags = copy.deepcopy(source.tags)
        standalone.rotation_enabled = False  # rotation stays with the old primary until set up here
        dict.pop(backend.secrets, replica.arn, None)
        backend.secrets[standalone.name] = standalone
        if replica in source.replicas:
            source.replicas.remove(replica)
        return replica.arn

    def response(self):
        return json.dumps({"ARN": stop_replication_to_replica(self.backend, self._get_param("SecretId"))})

    SecretsManagerResponse.stop_replication_to_replica = response


# ---------------------------------------------------------------------------
# Bootstrap and the WSGI wrapper
# ---------------------------------------------------------------------------
class Bed:
    def __init__(self):
        self.url = None
        self.creds = None
        self.moto_app = DomainDispatcherApplication(create_backend_app)

    def _post(self, path, body):
        r = requests.post(self.url + path, data=body, headers={"Content-Type": "text/plain"}, timeout=30)
        r.raise_for_status()

    def bootstrap(self):
        """Create the admin user + key while auth is off, then require SigV4 for everything."""
        self._post("/moto-api/reset-auth", b"inf")
        iam = boto3.client("iam", endpoint_url=self.url, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
                           config=Config(retries={"max_attempts": 1}))
        user = iam.create_user(UserName=USER_NAME)["User"]
        iam.put_user_policy(UserName=USER_NAME, PolicyName="admin", PolicyDocument=ADMIN_POLICY)
        key = iam.create_access_key(UserName=USER_NAME)["AccessKey"]
        if self.creds is None:
            self.creds = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
                          "account_id": user["Arn"].split(":")[4], "user_arn": user["Arn"],
                          "user_name": USER_NAME}
        else:
            # After a reset keep the keys the tests already hold.
            with LOCK:
                backend = iam_backends[self.creds["account_id"]]["aws"]
                k = backend.access_keys.pop(key["AccessKeyId"])
                k.access_key_id = self.creds["access_key_id"]
                k.secret_access_key = self.creds["secret_access_key"]
                backend.access_keys[k.access_key_id] = k
        self._post("/moto-api/reset-auth", b"0")

    def reset(self):
        with LOCK:
            GENERATION[0] += 1
            CHANGES.clear()
        self._post("/moto-api/reset", b"")
        self.bootstrap()

    def control(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        status, body = "200 OK", None
        try:
            if path == "/_testbed/health":
                body = {"status": "ok", "ready": self.creds is not None, "auth": settings.INITIAL_NO_AUTH_ACTION_COUNT == 0}
            elif path == "/_testbed/credentials":
                body = self.creds
            elif path == "/_testbed/config" and method == "GET":
                body = CONFIG
            elif path == "/_testbed/config" and method == "POST":
                n = int(environ.get("CONTENT_LENGTH") or 0)
                patch = json.loads(environ["wsgi.input"].read(n) or b"{}")
                for section, values in patch.items():
                    if section not in CONFIG or not isinstance(values, dict):
                        raise ValueError(f"unknown section {section!r}")
                    for k, v in values.items():
                        if k not in CONFIG[section] or not isinstance(v, (int, float)) or v < 0:
                            raise ValueError(f"bad setting {section}.{k}={v!r}")
                        CONFIG[section][k] = float(v)
                body = CONFIG
            elif path == "/_testbed/reset" and method == "POST":
                self.reset()
                body = {"status": "reset"}
            else:
                status, body = "404 Not Found", {"error": f"no {method} {path}"}
        except ValueError as e:
            status, body = "400 Bad Request", {"error": str(e)}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def unsigned_error(environ, raw):
        """Unsigned Query/JSON request: moto cannot even tell the service (it routes to S3).
        Answer like AWS: 403 MissingAuthenticationToken in the protocol's shape."""
        if environ.get("HTTP_AUTHORIZATION") or "X-Amz-Credential" in environ.get("QUERY_STRING", ""):
            return None
        if environ.get("HTTP_X_AMZ_TARGET"):
            body = json.dumps({"__type": "MissingAuthenticationTokenException",
                               "message": "Missing Authentication Token"}).encode()
            return "403 Forbidden", [("Content-Type", "application/x-amz-json-1.0"),
                                     ("x-amzn-ErrorType", "MissingAuthenticationTokenException"),
                                     ("Content-Length", str(len(body)))], body
        form = raw.decode("latin-1") if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") else ""
        if any(f"Action={action}" in form or f"Action={action}" in environ.get("QUERY_STRING", "")
               for action in UNSIGNED_STS_ACTIONS):
            return None  # real STS takes these unsigned: the token or assertion is the proof
        if "Action=" in environ.get("QUERY_STRING", "") or "Action=" in form:
            rid = os.urandom(16).hex()
            body = ("<ErrorResponse><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>"
                    "<Message>Request is missing Authentication Token</Message></Error>"
                    f"<RequestId>{rid}</RequestId></ErrorResponse>").encode()
            return "403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body
        return None

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_testbed/"):
            return self.control(environ, start_response)
        # Buffer the exact request bytes so the SigV4 check hashes what the client signed.
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            raw = stream.read()
        else:
            n = int(environ.get("CONTENT_LENGTH") or 0)
            raw = stream.read(n) if n > 0 else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        unsigned = self.unsigned_error(environ, raw)
        if unsigned:
            status, headers, body = unsigned
            start_response(status, headers)
            return [body]
        with LOCK:
            _tls.raw_body = raw
            # The path exactly as sent (still percent-encoded): real AWS signs over that, while
            # moto rebuilds it from werkzeug's decoded PATH_INFO ('%2B' became '+', 'é' raw...).
            _tls.raw_path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?", 1)[0] or None
            try:
                resp = self.moto_app(environ, start_response)
                return [b"".join(resp)]  # materialise under the lock
            finally:
                _tls.raw_body = None
                _tls.raw_path = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--creds-file", help="write the bootstrap credentials as JSON here")
    ap.add_argument("--ttl", type=float, default=3600, help="exit after this many seconds")
    ap.add_argument("--config", help="initial config JSON (same shape as POST /_testbed/config)")
    args = ap.parse_args()

    _patch_auth()
    _patch_rds()
    _patch_s3()
    _patch_route53()
    _patch_iam_simulation()
    _patch_cloudwatch()
    _patch_secretsmanager()

    bed = Bed()
    server = make_server("127.0.0.1", args.port, bed, threaded=True)
    port = server.server_port
    bed.url = f"http://127.0.0.1:{port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if args.config:
        for s, v in json.loads(args.config).items():
            CONFIG[s].update({k: float(x) for k, x in v.items()})
    bed.bootstrap()
    if args.creds_file:
        tmp = args.creds_file + ".tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(bed.creds, f)
        os.replace(tmp, args.creds_file)
    if args.port_file:  # written last: its presence means "ready"
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    log(f"listening on {bed.url} (auth on, user {bed.creds['user_arn']}, ttl {args.ttl:.0f}s)")
    print(port, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if not stop.wait(args.ttl):
        log("ttl reached, exiting")
    os._exit(0)  # timers/threads are daemons; exit without waiting on in-flight requests


if __name__ == "__main__":
    main()
