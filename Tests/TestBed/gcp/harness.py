"""Starts a private gcpbed for a test class (its own port and key files), and talks to it with
Google's own client libraries: google-auth for credentials, google-api-python-client for the APIs."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from google.oauth2 import service_account
from googleapiclient.discovery import build

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLOUD = "https://www.googleapis.com/auth/cloud-platform"
FAST = {"sql.promoteReplica": 0.6, "sql.failover": 0.4, "sql.switchover": 0.6, "sql.patch": 0.3,
        "sql.backupRuns.insert": 0.3, "sql.restoreBackup": 0.3, "sql.clone": 0.3, "sql.demote": 0.3,
        "sql.demoteMaster": 0.3, "sql.delete": 0.2, "container.setSize": 0.5, "container.setAutoscaling": 0.3,
        "dns.change": 0.3}


def _read(path):
    with open(path) as f:
        return f.read()


class BedTestCase(unittest.TestCase):
    project = "drctl-dr"

    @classmethod
    def setUpClass(cls):
        cls.state = tempfile.mkdtemp(prefix="gcpbed-test.")
        port_file = os.path.join(cls.state, "gcp.port")
        cls.log = open(os.path.join(cls.state, "gcpbed.log"), "w")
        cls.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "gcpbed.py"), "--port", "0", "--port-file",
                                     port_file, "--state-dir", cls.state, "--ttl", "600"],
                                    stdin=subprocess.DEVNULL, stdout=cls.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if os.path.exists(port_file) and _read(port_file).strip():
                break
            if cls.proc.poll() is not None:
                raise RuntimeError(f"gcpbed exited; see {cls.state}/gcpbed.log")
            time.sleep(0.1)
        cls.url = f"http://127.0.0.1:{_read(port_file).strip()}"
        cls.key_file = os.path.join(cls.state, "gcp-sa.json")
        cls.key = json.loads(_read(cls.key_file))

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.log.close()

    def setUp(self):
        self.admin("reset")
        self.admin("config", {"durations": FAST})

    # ---- helpers ----------------------------------------------------------------------------
    def admin(self, path, body=None, method=None):
        data = json.dumps(body).encode() if body is not None else (b"" if method in (None, "POST") else None)
        req = urllib.request.Request(f"{self.url}/_gcp/{path}", data=data,
                                     method=method or ("POST" if data is not None else "GET"))
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def raw(self, method, path, body=None, headers=None, form=None):
        """(status, headers, parsed JSON or text) of one hand-made request."""
        data = None
        hdrs = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, h, text = r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            status, h, text = e.code, e.headers, e.read().decode()
        try:
            return status, h, json.loads(text)
        except ValueError:
            return status, h, text

    def credentials(self, scopes=(CLOUD,), info=None):
        return service_account.Credentials.from_service_account_info(info or self.key, scopes=list(scopes))

    def token(self, scopes=(CLOUD,), info=None):
        import google.auth.transport.requests
        creds = self.credentials(scopes, info)
        creds.refresh(google.auth.transport.requests.Request())
        return creds.token

    def client(self, name, version, credentials=None):
        service_path = "storage/v1/" if name == "storage" else ""
        return build(name, version, credentials=credentials or self.credentials(), static_discovery=True,
                     client_options={"api_endpoint": f"{self.url}/{name}/{service_path}"})

    def error_of(self, call):
        """(HTTP status, Google error object) of a googleapiclient call that must fail."""
        from googleapiclient.errors import HttpError
        with self.assertRaises(HttpError) as ctx:
            call.execute()
        return ctx.exception.resp.status, json.loads(ctx.exception.content)["error"]

    def wait_sql(self, sql, op, timeout=10):
        deadline = time.monotonic() + timeout
        seen = [op["status"]]
        while time.monotonic() < deadline:
            op = sql.operations().get(project=self.project, operation=op["name"]).execute()
            if op["status"] != seen[-1]:
                seen.append(op["status"])
            if op["status"] == "DONE":
                return op, seen
            time.sleep(0.1)
        self.fail(f"operation {op['name']} not DONE after {timeout}s: {seen}")

    def assertNoViolations(self):
        self.assertEqual(self.admin("violations", method="GET"), [])
