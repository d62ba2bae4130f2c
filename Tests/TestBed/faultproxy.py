#!/usr/bin/env python3
"""Fault-injecting reverse HTTP proxy in front of motobed.

Requests are forwarded byte-exact (method, raw path+query, every header incl. Host,
body) because SigV4 signs all of them. Each request is classified by service (SigV4
credential scope) and operation, and the current rule set may throttle it (in the
protocol's own error shape), fail it with a 5xx, delay it, reset the TCP connection
or hang. Control API (unauthenticated, never forwarded) under /_faults; see README.md.
"""
import argparse
import collections
import http.client
import json
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"}
FAULTS = {"throttle", "error5xx", "latency", "reset", "hang"}


def log(msg):
    print(f"[faultproxy {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Request classification
# ---------------------------------------------------------------------------
_models = {}
_models_lock = threading.Lock()


def _model(service):
    """(protocol, [(method, path_regex, required_query_keys, score, op)]) from botocore's model."""
    with _models_lock:
        if service not in _models:
            try:
                import botocore.loaders

                m = botocore.loaders.Loader().load_service_model(service, "service-2")
                routes = []
                for op, spec in m["operations"].items():
                    http_ = spec.get("http", {})
                    path, _, q = http_.get("requestUri", "/").partition("?")
                    keys = [kv.split("=")[0] for kv in q.split("&") if kv]
                    # Ops sharing a URI differ by required query params / headers
                    # (AbortMultipartUpload: uploadId; CopyObject: x-amz-copy-source).
                    shape = m["shapes"].get(spec.get("input", {}).get("shape"), {})
                    hdrs = []
                    for name in shape.get("required", []):
                        mem = shape.get("members", {}).get(name, {})
                        if mem.get("location") == "querystring":
                            keys.append(mem.get("locationName", name))
                        elif mem.get("location") == "header":
                            hdrs.append(mem.get("locationName", name).lower())
                    rx, literal = "", 0
                    for part in re.split(r"(\{[^}]+\})", path.rstrip("/")):
                        if part.startswith("{"):
                            rx += ".+" if part.endswith("+}") else "[^/]+"
                        else:
                            rx += re.escape(part)
                            literal += len(part)
                    routes.append((http_.get("method", "POST"), re.compile("^" + rx + "/?$"), keys, hdrs,
                                   (len(keys) + len(hdrs), literal), op))
                _models[service] = (m["metadata"].get("protocol"), routes)
            except Exception:
                _models[service] = (None, [])
        return _models[service]


def classify(method, raw_path, headers, body):
    """Return (service, operation, protocol)."""
    url = urllib.parse.urlsplit(raw_path)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    headers = {k.lower(): v for k, v in headers.items()}
    auth = headers.get("authorization", "")
    scope = re.search(r"Credential=([^,\s]+)", auth)
    cred = scope.group(1) if scope else (query.get("X-Amz-Credential") or [""])[0]
    parts = cred.split("/")
    service = parts[3] if len(parts) >= 5 else "unknown"
    protocol, routes = _model(service) if service != "unknown" else (None, [])

    target = headers.get("x-amz-target")
    if target:
        return service, target.split(".")[-1], "json"
    action = (query.get("Action") or [None])[0]
    if not action and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        try:
            action = (urllib.parse.parse_qs(body.decode("utf-8")).get("Action") or [None])[0]
        except UnicodeDecodeError:
            action = None
    if service == "unknown" and action in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
        service = "sts"  # unsigned by design, as AWS accepts them
    if action:
        return service, action, ("ec2" if protocol == "ec2" else "query")

    path = url.path
    if service == "s3":
        host = headers.get("host", "")
        m = re.match(r"^([^.]+)\.s3[.-]", host)  # virtual-hosted style: bucket in Host
        if m:
            path = "/" + m.group(1) + path
    best = None
    for m_, rx, keys, hdrs, score, op in routes:
        if m_ == method and rx.match(path) and all(k in query for k in keys) and all(h in headers for h in hdrs):
            if best is None or score > best[0]:
                best = (score, op)
    op = best[1] if best else f"{method} {path}"
    return service, op, protocol or "rest-json"


# Parameters that may carry a secret are never recorded.
SECRET_PARAMS = re.compile(r"password|secretstring|secretbinary|token|privatekey", re.I)


def call_detail(method, raw_path, headers, body, protocol):
    """What an IAM evaluator needs of a request: the region it is signed for and its parameters
    (Query: the form fields; JSON: the body's top level; REST: path and query), secrets left out."""
    url = urllib.parse.urlsplit(raw_path)
    headers = {k.lower(): v for k, v in headers.items()}
    scope = re.search(r"Credential=([^,\s]+)", headers.get("authorization", ""))
    parts = scope.group(1).split("/") if scope else []
    params = {}
    if protocol in ("query", "ec2"):
        fields = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            try:
                fields.update(urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                pass
        params = {k: v[0] for k, v in fields.items() if k not in ("Action", "Version")}
    elif body and headers.get("x-amz-target") or protocol in ("json", "rest-json") and body:
        try:
            decoded = json.loads(body)
            params = decoded if isinstance(decoded, dict) else {}
        except ValueError:
            params = {}
    else:
        params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
    params = {k: ("<redacted>" if SECRET_PARAMS.search(k) else v) for k, v in params.items()}
    path = urllib.parse.unquote(url.path)
    host = headers.get("host", "")
    m = re.match(r"^([^.]+)\.s3[.-]", host)
    if m:
        path = "/" + m.group(1) + path
    return {"region": parts[2] if len(parts) >= 5 else None, "method": method, "path": path, "params": params}


# ---------------------------------------------------------------------------
# Error bodies in each protocol's shape
# ---------------------------------------------------------------------------
def error_response(service, protocol, fault, rule, req_headers):
    rid = os.urandom(16).hex()
    if fault == "throttle":
        status = 503 if service == "s3" else (429 if protocol == "rest-json" else
                                             503 if protocol == "ec2" else 400)
        code = {"s3": "SlowDown"}.get(service) or {"json": "ThrottlingException", "rest-json": "ThrottlingException",
                                                    "ec2": "RequestLimitExceeded"}.get(protocol, "Throttling")
        msg = "Please reduce your request rate." if service == "s3" else "Rate exceeded"
    else:
        status = int(rule.get("status", 500))
        code = "ServiceUnavailable" if status == 503 else "InternalError"
        msg = "We encountered an internal error. Please try again." if status != 503 else "Service unavailable"
    code = rule.get("code", code)
    msg = rule.get("message", msg)
    hdrs = [("x-amzn-RequestId", rid)]
    if protocol in ("json", "rest-json"):
        ctype = req_headers.get("Content-Type") if protocol == "json" else None
        body = json.dumps({"__type": code, "message": msg}).encode()
        hdrs += [("Content-Type", ctype or "application/json"), ("x-amzn-ErrorType", code)]
    elif service == "s3":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{msg}</Message>"
                f"<RequestId>{rid[:16].upper()}</RequestId><HostId>{rid}</HostId></Error>").encode()
        hdrs = [("x-amz-request-id", rid[:16].upper()), ("Content-Type", "application/xml")]
    elif protocol == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{msg}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>").encode()
        hdrs.append(("Content-Type", "text/xml;charset=UTF-8"))
    else:  # query and rest-xml (Route 53, CloudFront, ...)
        body = (f"<?xml version=\"1.0\"?>\n<ErrorResponse><Error><Type>{'Sender' if status < 500 else 'Receiver'}"
                f"</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>{rid}</RequestId>"
                "</ErrorResponse>").encode()
        hdrs.append(("Content-Type", "text/xml"))
    return status, hdrs, body


# ---------------------------------------------------------------------------
# Rules and counters
# ---------------------------------------------------------------------------
class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.release_hangs = threading.Event()
        self.clear()

    def clear(self):
        self.rules, self.seed = [], None
        self.rng = random.Random(0)
        self.requests = collections.Counter()
        self.faults = collections.Counter()
        self.log = collections.deque(maxlen=500)
        # Every forwarded call with what IAM would authorize it against (GET /_faults/calls).
        self.calls = collections.deque(maxlen=50000)

    def set_rules(self, spec):
        rules = []
        for r in spec.get("rules", []):
            if r.get("fault") not in FAULTS:
                raise ValueError(f"unknown fault {r.get('fault')!r}; use one of {sorted(FAULTS)}")
            r = dict(r)
            r.setdefault("service", "*")
            r.setdefault("operation", "*")
            r["fired"] = 0
            rules.append(r)
        with self.lock:
            self.rules, self.seed = rules, spec.get("seed")
            self.rng = random.Random(self.seed)

    def decide(self, service, op):
        """Count the request; return (latency_ms, round_trip_ms, fault_rule_or_None). Deterministic per seed.

        A latency rule adds `ms` before the request is forwarded; with "round_trip": true it is
        instead the least time from request to response, the upstream's own time included (as a
        cloud API's latency includes its servers'): moto answers one request at a time, and twenty
        requests arriving together would otherwise each wait for the others on top of `ms`."""
        with self.lock:
            self.requests[(service, op)] += 1
            latency, round_trip, chosen = 0.0, 0.0, None
            for r in self.rules:
                if r["service"] not in ("*", service) or r["operation"] not in ("*", op):
                    continue
                if "times" in r and r["fired"] >= int(r["times"]):
                    continue
                if "probability" in r and self.rng.random() >= float(r["probability"]):
                    continue
                r["fired"] += 1
                self.faults[(service, op, r["fault"])] += 1
                if r["fault"] == "latency" and r.get("round_trip"):
                    round_trip = max(round_trip, float(r.get("ms", 0)))
                elif r["fault"] == "latency":
                    latency += float(r.get("ms", 0))
                else:
                    chosen = r
                    break
            self.log.append({"t": time.time(), "service": service, "operation": op,
                             "fault": chosen["fault"] if chosen else ("latency" if latency or round_trip else None)})
            return latency, round_trip, chosen

    def counts(self):
        with self.lock:
            req, flt = {}, {}
            for (s, o), n in self.requests.items():
                req.setdefault(s, {})[o] = n
            for (s, o, f), n in self.faults.items():
                flt.setdefault(s, {}).setdefault(o, {})[f] = n
            return {"requests": req, "faults": flt, "total_requests": sum(self.requests.values()),
                    "total_faults": sum(self.faults.values())}


STATE = State()


# ---------------------------------------------------------------------------
# HTTP handling
# ---------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for clients that reuse connections
    upstream = None  # (host, port)
    max_hang = 300.0

    def log_message(self, fmt, *args):  # quiet: we log our own line per request
        pass

    def setup(self):
        super().setup()
        # No Nagle: a response written in pieces must not wait for the client's delayed ACK
        # (40 ms on Linux per request, which would add to every injected latency).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:  # keep the chunk framing: forwarded as-is
            raw = bytearray()
            while True:
                line = self.rfile.readline(65537)
                raw += line
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers up to the empty line
                        t = self.rfile.readline(65537)
                        raw += t
                        if t in (b"\r\n", b"\n", b""):
                            return bytes(raw)
                raw += self.rfile.read(size + 2)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _hold(self):
        """Waits until a round-trip latency rule lets the response go."""
        delay = getattr(self, "_respond_at", 0) - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _send(self, status, headers, body):
        self._hold()
        head = f"HTTP/1.1 {status} {http.client.responses.get(status, 'Unknown')}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        if not any(k.lower() == "content-length" for k, _ in headers):
            head += f"Content-Length: {len(body)}\r\n"
        if self.close_connection:
            head += "Connection: close\r\n"
        self.wfile.write((head + "\r\n").encode("latin-1") + (body if self.command != "HEAD" else b""))
        self.wfile.flush()

    def _json(self, status, obj):
        self._send(status, [("Content-Type", "application/json")], json.dumps(obj, indent=1).encode())

    def _control(self, body):
        path = self.path.split("?")[0].rstrip("/")
        try:
            if path == "/_faults" and self.command == "POST":
                STATE.set_rules(json.loads(body or b"{}"))
                return self._json(200, {"rules": STATE.rules, "seed": STATE.seed})
            if path == "/_faults" and self.command == "GET":
                return self._json(200, {"rules": STATE.rules, "seed": STATE.seed})
            if path == "/_faults" and self.command == "DELETE":
                with STATE.lock:
                    STATE.clear()
                STATE.release_hangs.set()  # let hung connections go
                STATE.release_hangs = threading.Event()
                return self._json(200, {"status": "cleared"})
            if path == "/_faults/counts":
                return self._json(200, STATE.counts())
            if path == "/_faults/log":
                with STATE.lock:
                    return self._json(200, list(STATE.log))
            if path == "/_faults/calls" and self.command == "DELETE":
                with STATE.lock:
                    STATE.calls.clear()
                return self._json(200, {"status": "cleared"})
            if path == "/_faults/calls":
                with STATE.lock:
                    return self._json(200, list(STATE.calls))
            if path == "/_faults/health":
                return self._json(200, {"status": "ok", "upstream": "%s:%d" % self.upstream})
            return self._json(404, {"error": f"no {self.command} {path}"})
        except (ValueError, TypeError, AttributeError) as e:
            return self._json(400, {"error": str(e)})

    def _reset(self):
        # SO_LINGER 0 makes close() send RST instead of FIN: the client sees ECONNRESET.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _hang(self, rule):
        deadline = time.monotonic() + float(rule.get("max_s", self.max_hang))
        release = STATE.release_hangs
        while time.monotonic() < deadline and not release.is_set():
            r, _, _ = select.select([self.connection], [], [], 0.5)
            if r:
                try:
                    if not self.connection.recv(65536, socket.MSG_PEEK):
                        break  # client gave up
                except OSError:
                    break
                time.sleep(0.1)  # client sent more data (pipelining); keep hanging
        self.close_connection = True

    def _forward(self, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=self.max_hang + 30)
        try:
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():  # original order/case, Host included
                conn.putheader(k, v)
            conn.endheaders(body or None)  # with TCP_NODELAY the body does not wait for an ACK of the head
            resp = conn.getresponse()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            length = resp.getheader("Content-Length")
            if self.command == "HEAD" or resp.status in (204, 304) or length is not None:
                self._hold()
                head = f"HTTP/1.1 {resp.status} {resp.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
                if self.close_connection:
                    head += "Connection: close\r\n"
                self.wfile.write((head + "\r\n").encode("latin-1"))
                while self.command != "HEAD":  # stream the body
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                self.wfile.flush()
            else:  # no length from upstream: buffer so we can still keep the client connection
                self._send(resp.status, headers, resp.read())
            return resp.status
        finally:
            conn.close()

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            body = self._read_body()
            if self.path.startswith("/_faults"):
                return self._control(body)
            t0 = time.monotonic()
            service, op, protocol = classify(self.command, self.path, self.headers, body)
            latency, round_trip, rule = STATE.decide(service, op)
            self._respond_at = t0 + round_trip / 1000.0
            if latency:
                time.sleep(latency / 1000.0)
            fault = rule["fault"] if rule else None
            if fault == "reset":
                outcome = "RESET"
                self._reset()
            elif fault == "hang":
                outcome = "HANG"
                self._hang(rule)
            elif fault in ("throttle", "error5xx"):
                status, hdrs, ebody = error_response(service, protocol, fault, rule, self.headers)
                outcome = f"{status} ({fault})"
                self._send(status, hdrs, ebody)
            else:
                try:
                    outcome = self._forward(body)
                except (OSError, http.client.HTTPException) as e:
                    outcome = f"502 upstream: {e}"
                    self._send(502, [("Content-Type", "text/plain")], f"upstream error: {e}".encode())
            with STATE.lock:
                STATE.calls.append(dict(call_detail(self.command, self.path, self.headers, body, protocol),
                                        t=time.time(), service=service, operation=op, outcome=str(outcome)))
            log(f"{self.command} {self.path[:80]} {service}:{op} -> {outcome}"
                f"{' +%dms' % latency if latency else ''} in {time.monotonic() - t0:.3f}s")
        except (ConnectionError, socket.timeout, OSError):
            self.close_connection = True


def main():
    ap = argparse.ArgumentParser(description="fault-injecting reverse proxy for the drctl test bed")
    ap.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--ttl", type=float, default=3600)
    ap.add_argument("--max-hang", type=float, default=300)
    args = ap.parse_args()

    up = urllib.parse.urlsplit(args.upstream)
    Handler.upstream = (up.hostname, up.port or 80)
    Handler.max_hang = args.max_hang
    class Server(ThreadingHTTPServer):
        # The default backlog of 5 drops the SYNs of a client opening twenty connections at once;
        # the client then retries after 1 s — a stall no cloud endpoint has.
        request_queue_size = 128
        daemon_threads = True

    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    log(f"listening on http://127.0.0.1:{port} -> {args.upstream} (ttl {args.ttl:.0f}s)")
    print(port, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if not stop.wait(args.ttl):
        log("ttl reached, exiting")
    os._exit(0)


if __name__ == "__main__":
    main()
