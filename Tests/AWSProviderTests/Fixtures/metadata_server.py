#!/usr/bin/env python3
"""A local stand-in for the ECS container credentials endpoint and EC2 IMDSv2, for tests.

Binds 127.0.0.1 on a free port and prints the port on the first stdout line. Routes:
  GET  /ecs/credentials                       needs Authorization == --container-token (if given)
  PUT  /latest/api/token                      needs X-aws-ec2-metadata-token-ttl-seconds
  GET  /latest/meta-data/iam/security-credentials/[ROLE]   needs X-aws-ec2-metadata-token
  GET  /calls                                 JSON of request counts by "METHOD path"
Options: --container-token T, --role NAME (empty: no role, listing gives 404), --ttl SECONDS.
Exits by itself after --ttl seconds (default 120) so a crashed test cannot leave it running.
"""
import argparse
import datetime
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IMDS_TOKEN = "imds-session-token-1"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--container-token", default=None)
    parser.add_argument("--role", default="drctl-instance-role")
    parser.add_argument("--ttl", type=float, default=120.0)
    args = parser.parse_args()
    # The test runner may block SIGTERM in the threads that spawn us; take it back.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    calls = {}
    lock = threading.Lock()

    def credentials(prefix, token_key="Token"):
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return {
            "Code": "Success",
            "AccessKeyId": prefix,
            "SecretAccessKey": "test-secret-" + prefix.lower(),
            token_key: "test-session-token-" + prefix.lower(),
            "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def count(self):
            with lock:
                key = f"{self.command} {self.path}"
                calls[key] = calls.get(key, 0) + 1

        def reply(self, status, body, content_type="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self):
            self.count()
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if self.path != "/latest/api/token":
                return self.reply(404, "not found", "text/plain")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not ttl.isdigit() or not (1 <= int(ttl) <= 21600):
                return self.reply(400, "missing or bad ttl", "text/plain")
            self.reply(200, IMDS_TOKEN, "text/plain")

        def do_GET(self):
            self.count()
            if self.path == "/calls":
                with lock:
                    return self.reply(200, json.dumps(calls))
            if self.path.startswith("/ecs/"):
                if args.container_token is not None and self.headers.get("Authorization") != args.container_token:
                    return self.reply(401, '{"message":"bad token"}')
                return self.reply(200, json.dumps(credentials("ASIACONTAINER")))
            if self.path.startswith(CREDS_PATH):
                if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                    return self.reply(401, "", "text/plain")
                role = self.path[len(CREDS_PATH):]
                if role == "":
                    if not args.role:
                        return self.reply(404, "", "text/plain")
                    return self.reply(200, args.role, "text/plain")
                if role == args.role:
                    return self.reply(200, json.dumps(credentials("ASIAINSTANCE")))
            self.reply(404, "not found", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Timer(args.ttl, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
