"""State shared by every GCP stand-in: one lock, the clock, errors in Google's shape, call counts,
contract violations, fault rules and timed transitions.

Timed transitions are lazy: a mutation schedules a callback at a due time, and every request (and
every admin read) first runs the callbacks that are due. From outside this is indistinguishable
from a timer, and it keeps one lock and no threads.
"""
import collections
import heapq
import itertools
import random
import threading
import time

# https://cloud.google.com/apis/design/errors#handling_errors: HTTP status <-> canonical status.
CANONICAL = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
             409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
             503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
REASONS = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 409: "conflict",
           412: "conditionNotMet", 429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}


class GoogleError(Exception):
    """An error answered in the JSON shape every googleapis.com REST API uses:
    {"error": {"code", "message", "status", "errors": [{"message", "domain", "reason"}]}}."""

    def __init__(self, code, message, status=None, reason=None, details=None):
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or CANONICAL.get(code, "UNKNOWN")
        self.reason = reason or REASONS.get(code, "unknown")
        self.details = details

    def body(self):
        err = {"code": self.code, "message": self.message, "status": self.status,
               "errors": [{"message": self.message, "domain": "global", "reason": self.reason}]}
        if self.details:
            err["details"] = self.details
        return {"error": err}


class OAuthError(Exception):
    """An error of the OAuth2 token endpoint (RFC 6749 section 5.2), which is not Google's API shape."""

    def __init__(self, code, error, description):
        super().__init__(description)
        self.code, self.error, self.description = code, error, description

    def body(self):
        return {"error": self.error, "error_description": self.description}


FAULTS = {"throttle", "error5xx", "latency"}


class Bed:
    """Everything the stand-ins know. Callers hold `lock` while they read or change it."""

    def __init__(self, base_url, state_dir):
        self.lock = threading.RLock()
        self.base_url, self.state_dir = base_url, state_dir
        self.services = {}  # name -> per-service state object with .reset()
        self.reset()

    def reset(self):
        with self.lock:
            self.calls = collections.Counter()
            self.callers = collections.Counter()  # (method id, principal, x-goog-user-project) -> calls
            self.violations = []
            self.rules, self.rng = [], random.Random(0)
            self.timers, self.seq = [], itertools.count()
            self.config = {"token_lifetime": 3599}
            self.fail_next = collections.Counter()  # operation kind -> how many of the next ones fail
            for s in self.services.values():
                s.reset()

    # ---- time -------------------------------------------------------------
    def now(self):
        return time.time()

    def after(self, seconds, fn):
        """Runs fn() (under the lock) once `seconds` have passed and someone looks."""
        heapq.heappush(self.timers, (self.now() + max(0.0, seconds), next(self.seq), fn))

    def advance(self):
        with self.lock:
            while self.timers and self.timers[0][0] <= self.now():
                _, _, fn = heapq.heappop(self.timers)
                fn()

    # ---- bookkeeping ------------------------------------------------------
    def violation(self, method, path, field, problem):
        with self.lock:
            self.violations.append({"t": self.now(), "method": method, "path": path, "field": field,
                                    "problem": problem})

    def set_faults(self, spec):
        rules = []
        for r in spec.get("rules", []):
            if r.get("fault") not in FAULTS:
                raise ValueError(f"unknown fault {r.get('fault')!r}; use one of {sorted(FAULTS)}")
            r = dict(r, fired=0)
            r["method"] = normalize_method_id(r.get("method", "*"))
            rules.append(r)
        with self.lock:
            self.rules, self.rng = rules, random.Random(spec.get("seed"))

    def decide_fault(self, method_id):
        """(latency_ms, fault rule or None), deterministic for a seed and a request sequence."""
        with self.lock:
            latency, chosen = 0.0, None
            for r in self.rules:
                if r["method"] not in ("*", method_id):
                    continue
                if "times" in r and r["fired"] >= int(r["times"]):
                    continue
                if "probability" in r and self.rng.random() >= float(r["probability"]):
                    continue
                r["fired"] += 1
                if r["fault"] == "latency":
                    latency += float(r.get("ms", 0))
                else:
                    chosen = r
                    break
            return latency, chosen


def fault_error(rule):
    if rule["fault"] == "throttle":
        # What Google front ends answer on quota exhaustion (RESOURCE_EXHAUSTED, reason rateLimitExceeded).
        return GoogleError(429, rule.get("message", "Quota exceeded for quota metric 'Queries' and limit "
                                                    "'Queries per minute' of service."), reason="rateLimitExceeded")
    status = int(rule.get("status", 503))
    msg = rule.get("message", "The service is currently unavailable." if status == 503 else "Internal error encountered.")
    return GoogleError(status, msg, reason="backendError")


def normalize_method_id(method_id):
    """Cloud SQL Admin's discovery ids start with `sql.` (sql.instances.get) although the service is
    named sqladmin; accept either spelling in rules and look-ups."""
    if method_id.startswith("sqladmin."):
        return "sql." + method_id[len("sqladmin."):]
    return method_id


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)
