#!/usr/bin/env python3
"""A local stand-in for one Route 53 ARC cluster endpoint (moto has no route53-recovery-cluster).

Binds 127.0.0.1 on a free port and prints the port on the first stdout line. Speaks AWS JSON 1.0
and checks each request against botocore's `route53-recovery-cluster` model: POST, Content-Type
application/x-amz-json-1.0, X-Amz-Target ToggleCustomerAPI.<operation of the model>, a SigV4
Authorization whose scope names route53-recovery-cluster, body members that exist in the input
shape, required members present, enum values valid. A bad request gets 400 ValidationException.
Keeps routing control states in memory (unknown ARN: 404 ResourceNotFoundException).
  --control ARN=On|Off   a routing control and its initial state (repeatable)
  --ttl SECONDS          exits by itself (default 120)
  GET /calls             JSON of request counts by operation
"""
import argparse
import json
import os
import re
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

MODEL = botocore.session.Session().get_service_model("route53-recovery-cluster")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", action="append", default=[])
    parser.add_argument("--ttl", type=float, default=120.0)
    args = parser.parse_args()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    states = dict(item.split("=", 1) for item in args.control)
    calls = {}
    lock = threading.Lock()

    def validate(operation, body):
        shape = MODEL.operation_model(operation).input_shape
        for key, value in body.items():
            if key not in shape.members:
                return f"{key} is not a member of {shape.name}"
            enum = shape.members[key].enum
            if enum and value not in enum:
                return f"{key} must be one of {enum}"
        for required in shape.required_members:
            if required not in body:
                return f"{required} is required"
        return None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, status, payload, error_type=None):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("x-amzn-RequestId", "arc-stub-request-1")
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/calls":
                with lock:
                    self.reply(200, calls)
            else:
                self.reply(404, {"message": "not found"})

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target", "")
            prefix, _, operation = target.partition(".")
            with lock:
                calls[operation or target] = calls.get(operation or target, 0) + 1
            scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", self.headers.get("Authorization", ""))
            if not scope or scope.group(2) != MODEL.metadata["signingName"]:
                return self.reply(403, {"message": "missing or wrong SigV4 scope"}, "AccessDeniedException")
            if prefix != MODEL.metadata["targetPrefix"] or operation not in MODEL.operation_names:
                return self.reply(400, {"message": f"unknown target {target}"}, "ValidationException")
            if self.headers.get("Content-Type") != "application/x-amz-json-1.0":
                return self.reply(400, {"message": "Content-Type must be application/x-amz-json-1.0"}, "ValidationException")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self.reply(400, {"message": "body is not JSON"}, "ValidationException")
            problem = validate(operation, body)
            if problem:
                return self.reply(400, {"message": problem}, "ValidationException")
            arn = body.get("RoutingControlArn")
            with lock:
                if operation in ("GetRoutingControlState", "UpdateRoutingControlState") and arn not in states:
                    return self.reply(404, {"message": f"no routing control {arn}", "resourceId": arn}, "ResourceNotFoundException")
                if operation == "GetRoutingControlState":
                    return self.reply(200, {"RoutingControlArn": arn, "RoutingControlState": states[arn],
                                            "RoutingControlName": arn.rsplit("/", 1)[-1]})
                if operation == "UpdateRoutingControlState":
                    states[arn] = body["RoutingControlState"]
                    return self.reply(200, {})
            return self.reply(400, {"message": f"{operation} is not implemented by the stub"}, "ValidationException")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Timer(args.ttl, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
