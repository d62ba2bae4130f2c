#!/usr/bin/env python3
"""Stand-in for Google Cloud's control planes, for the drctl test bed (see README.md, "gcpbed").

One port: `/<service>/<real API path>` for the REST APIs (sqladmin, dns, container, monitoring,
storagetransfer, storage buckets, iamcredentials, sts), `/oauth2/token` for the token endpoint,
`/computeMetadata/v1/...` for the GCE metadata server and `/_gcp/...` for the unauthenticated admin
API. Every API request is checked against Google's discovery documents (gcp/discovery.py).
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gcp import admin, discovery, oauth  # noqa: E402
from gcp.core import Bed, GoogleError, OAuthError, fault_error  # noqa: E402
from gcp.identity import Identities  # noqa: E402
from gcp.request import ApiRequest, register_services  # noqa: E402


def log(msg):
    print(f"[gcpbed {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bed = ids = metadata = handlers = None

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status, ctype, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, obj, extra=()):
        self._send(status, "application/json; charset=UTF-8", json.dumps(obj, indent=1).encode(), extra)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _dispatch(self):
        t0 = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = self._body()
        self._label = path
        try:
            if path.startswith("/_gcp"):
                status, obj = admin.handle(self.bed, self.ids, self.command, path, query, body)
                return self._json(status, obj)
            if path == "/oauth2/token" and self.command == "POST":
                with self.bed.lock:
                    return self._json(200, oauth.token_endpoint(self.bed, self.ids, self.headers, body),
                                      [("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")])
            if path == "/" or path.startswith("/computeMetadata/"):
                with self.bed.lock:
                    status, ctype, out = self.metadata.handle(self.command, path, query, self.headers)
                return self._send(status, ctype, out, [("Metadata-Flavor", "Google")])
            if path.startswith("/robot/v1/metadata/x509/"):
                email = urllib.parse.unquote(path.rsplit("/", 1)[1])
                with self.bed.lock:
                    sa = self.ids.service_accounts.get(email)
                    return self._json(200, sa["keys"]) if sa else self._json(404, {"error": "not found"})
            prefix, _, rest = path[1:].partition("/")
            if prefix in discovery.SERVICES:
                return self._api(prefix, rest, query, body)
            raise GoogleError(404, f"The requested URL {path} was not found on this server.")
        except (OAuthError, GoogleError) as e:
            self._label += f" -> {e.code}"
            self._json(e.code, e.body())
        except Exception as e:  # a bug in a stand-in: answer 500 and say where, never hang the client
            import traceback
            traceback.print_exc()
            self._label += f" -> 500 {type(e).__name__}"
            self._json(500, GoogleError(500, f"test bed bug: {type(e).__name__}: {e}").body())
        finally:
            log(f"{self.command} {self.path[:100]} {self._label} in {time.monotonic() - t0:.3f}s")

    def _api(self, prefix, rest, query, body):
        bed, ids = self.bed, self.ids
        bed.advance()
        found = discovery.service(prefix).find(self.command, rest)
        if found is None:
            bed.violation(f"{self.command} /{prefix}/{rest}", self.path, "path",
                          "no method of the discovery document has this HTTP method and path")
            raise GoogleError(404, f"Method not found: {self.command} /{prefix}/{rest}", reason="notFound")
        method, path_params = found
        with bed.lock:
            bed.calls[method.id] += 1
        latency, rule = bed.decide_fault(method.id)
        if latency:
            time.sleep(latency / 1000.0)
        if rule:
            raise fault_error(rule)
        req = ApiRequest(bed, ids, method, path_params, query, body, self.headers, self.path)
        self._label = method.id
        with bed.lock:
            req.authenticate()
            req.validate()
            handler = self.handlers.get(method.id)
            if handler is None:
                raise GoogleError(501, f"{method.id} is not implemented by the test bed's stand-in.",
                                  status="UNIMPLEMENTED", reason="notImplemented")
            status, out = handler(req)
        self._json(status, out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


def main():
    ap = argparse.ArgumentParser(description="GCP control-plane stand-in for the drctl test bed")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--state-dir", required=True, help="where the key files are written")
    ap.add_argument("--project", default="drctl-dr")
    ap.add_argument("--project-number", default="123456789012")
    ap.add_argument("--ttl", type=float, default=3600)
    args = ap.parse_args()

    class Server(ThreadingHTTPServer):
        request_queue_size = 128
        daemon_threads = True

    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    bed = Bed(f"http://127.0.0.1:{port}", args.state_dir)
    ids = Identities(bed, args.project, args.project_number)
    bed.services["identities"] = ids
    paths = ids.write_files(args.state_dir)
    gce_email = f"drctl-gce@{args.project}.iam.gserviceaccount.com"
    ids.add_service_account(gce_email)
    # Workload identity federation: a file-sourced subject token (valid as long as the bed runs)
    # exchanged at STS, then impersonating the key file's account, as `gcloud iam
    # workload-identity-pools create-cred-config` writes it.
    fed = admin.workload_identity(bed, ids, {
        "subject": "drctl-ci", "token_file": os.path.join(args.state_dir, "gcp-subject-token.jwt"),
        "impersonate": f"drctl-dr@{args.project}.iam.gserviceaccount.com", "lifetime": int(args.ttl) + 600})
    admin.write_secret_file(os.path.join(args.state_dir, "gcp-external.json"), fed["external_account"])
    ids.keep_as_baseline()
    Handler.bed, Handler.ids = bed, ids
    Handler.metadata = oauth.MetadataServer(bed, ids, gce_email)
    Handler.handlers = register_services(bed, ids)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    log(f"listening on {bed.base_url}, project {args.project}, key files {sorted(paths.values())} "
        f"(ttl {args.ttl:.0f}s)")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if not stop.wait(args.ttl):
        log("ttl reached, exiting")
    os._exit(0)


if __name__ == "__main__":
    main()
