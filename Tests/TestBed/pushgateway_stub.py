#!/usr/bin/env python3
"""A Prometheus Pushgateway stand-in: records every request, answers with a fixed status.

  pushgateway_stub.py --port-file F --record F [--status 200] [--ttl 120]

Listens on 127.0.0.1 (a free port, written to --port-file once it listens); appends one JSON
object per request to --record: {"method","path","content_type","body"}. Exits after --ttl
seconds, or on SIGTERM.
"""
import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--ttl", type=float, default=120)
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            with lock, open(args.record, "a") as out:
                out.write(json.dumps({"method": self.command, "path": self.path,
                                      "content_type": self.headers.get("Content-Type"), "body": body}) + "\n")
            self.send_response(args.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PUT = do_POST = do_GET = do_DELETE = handle_any

        def log_message(self, *_):
            pass

    # The parent may ignore or block SIGTERM (both survive exec): stop on it explicitly.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    threading.Timer(args.ttl, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
