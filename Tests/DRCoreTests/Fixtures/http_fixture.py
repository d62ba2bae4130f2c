#!/usr/bin/env python3
"""HTTP/1.1 test server for the curl transport tests (standard library only).

Binds 127.0.0.1 on an ephemeral port, prints the port as the first line of stdout and serves
until the TTL passes or stdin reaches EOF (so it dies with the test process that started it).

Routes (query parameters in brackets):
  /echo[/anything]           method, path, headers (in order, as sent) and body (base64) as JSON
  /delay [ms]                answers after ms milliseconds
  /hang                      never answers; returns when the client closes the connection
  /reset                     reads the request, then closes with RST (SO_LINGER 0)
  /big [bytes, chunked=1]    a body of `bytes` bytes, with Content-Length or chunked
  /status [code]             an empty response with that status
  /barrier [n, timeout]      holds every request until n are inside at once, then answers all
                             200 with the concurrency reached; 504 after timeout seconds
  /connections               the number of TCP connections accepted so far

--proxy      also act as a forward proxy: absolute-form requests ("GET http://host/path") are
             answered by this server itself with the header X-Fixture-Proxied: yes.
--tls C K    serve HTTPS with certificate C and key K (PEM).
"""
import argparse
import base64
import json
import os
import select
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FixtureState:
    def __init__(self):
        self.lock = threading.Condition()
        self.connections = 0
        self.inside_barrier = 0
        self.barrier_generation = 0
        self.released_at = 0


STATE = FixtureState()
PROXY_MODE = False


class FixtureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive unless the client says otherwise

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.connections += 1

    def log_message(self, format, *args):
        pass

    # Every method goes through one dispatcher; HEAD gets the GET answer without a body.
    def do_GET(self): self.dispatch()
    def do_POST(self): self.dispatch()
    def do_PUT(self): self.dispatch()
    def do_DELETE(self): self.dispatch()
    def do_PATCH(self): self.dispatch()
    def do_HEAD(self): self.dispatch()

    def dispatch(self):
        self.proxied = False
        target = self.path
        if target.startswith("http://") or target.startswith("https://"):
            # Absolute form: what a client sends to a forward proxy (RFC 9112 §3.2.2).
            self.proxied = PROXY_MODE
            parts = urllib.parse.urlsplit(target)
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
        split = urllib.parse.urlsplit(target)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        body = self.read_body()
        route = {
            "/echo": self.echo, "/delay": self.delay, "/hang": self.hang, "/reset": self.reset,
            "/big": self.big, "/status": self.status, "/barrier": self.barrier,
            "/connections": self.connection_count,
        }.get("/echo" if split.path.startswith("/echo/") else split.path)
        if route is None:
            self.respond(404, b"no such route\n")
        else:
            route(query, body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(length) if length else b""

    def respond(self, code, body, content_type="text/plain", extra=()):
        self.send_response(code)
        if self.proxied:
            self.send_header("X-Fixture-Proxied", "yes")
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def respond_json(self, code, value):
        self.respond(code, json.dumps(value).encode(), "application/json")

    def echo(self, query, body):
        self.respond_json(200, {
            "method": self.command,
            "path": self.path,
            "headers": [[name, value] for name, value in self.headers.items()],
            "body_base64": base64.b64encode(body).decode(),
        })

    def delay(self, query, body):
        time.sleep(int(query.get("ms", "0")) / 1000)
        self.respond(200, b"delayed\n")

    def hang(self, query, body):
        # Nothing more is expected from the client, so readable means EOF or reset.
        self.close_connection = True
        while True:
            readable, _, _ = select.select([self.connection], [], [], 0.5)
            if readable:
                try:
                    if not self.connection.recv(1024):
                        return
                except OSError:
                    return

    def reset(self, query, body):
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds a reference to the socket; close it first so close() really closes (RST).
        self.rfile.close()
        self.connection.close()

    def big(self, query, body):
        size = int(query.get("bytes", "0"))
        if query.get("chunked") == "1":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"a" * 65536
            remaining = size
            while remaining > 0:
                part = chunk[:min(remaining, len(chunk))]
                try:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                except OSError:
                    self.close_connection = True
                    return
                remaining -= len(part)
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                remaining = size
                while remaining > 0:
                    step = min(remaining, 65536)
                    self.wfile.write(b"a" * step)
                    remaining -= step
            except OSError:
                self.close_connection = True

    def status(self, query, body):
        self.respond(int(query.get("code", "200")), b"")

    def barrier(self, query, body):
        needed = int(query.get("n", "64"))
        timeout = float(query.get("timeout", "10"))
        with STATE.lock:
            generation = STATE.barrier_generation
            STATE.inside_barrier += 1
            if STATE.inside_barrier >= needed:
                STATE.released_at = STATE.inside_barrier
                STATE.barrier_generation += 1
                STATE.lock.notify_all()
                released = True
            else:
                released = STATE.lock.wait_for(lambda: STATE.barrier_generation != generation, timeout)
            STATE.inside_barrier -= 1
            concurrency = STATE.released_at
        if released:
            self.respond_json(200, {"concurrency": concurrency})
        else:
            self.respond_json(504, {"concurrency": None})

    def connection_count(self, query, body):
        with STATE.lock:
            count = STATE.connections
        self.respond_json(200, {"connections": count})


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256   # 64 clients connect at once; the default backlog of 5 drops SYNs
    tls_context = None

    def get_request(self):
        sock, address = super().get_request()
        if self.tls_context is not None:
            # The handshake runs on the handler's thread (first read), not on the accept loop.
            sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        pass   # clients that reset or reject the certificate are part of the tests


def exit_on_stdin_eof():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    os._exit(0)


def main():
    global PROXY_MODE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ttl", type=float, default=120, help="seconds before exiting (default 120)")
    parser.add_argument("--proxy", action="store_true", help="answer absolute-form requests as a proxy")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    parser.add_argument("--no-stdin-watch", action="store_true", help="do not exit when stdin closes")
    args = parser.parse_args()
    PROXY_MODE = args.proxy

    server = FixtureServer(("127.0.0.1", 0), FixtureHandler)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.tls_context = context

    threading.Timer(args.ttl, lambda: os._exit(0)).start()
    if not args.no_stdin_watch:
        threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
