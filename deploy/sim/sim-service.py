#!/usr/bin/python3
"""sim-service.py: stand-in service endpoints for the simulated RajNet.

rajnet-sim runs one of these per service inside the service node's network namespace, so the
agent's TCP and HTTP probes have something real to reach:
  * every --tcp port that is not the --url's port gets a listener that accepts and closes at once
    (a VC MCU stand-in: the probe only needs the handshake);
  * an http:// --url gets an HTTP server on its port answering 200 "ok" on the URL's path and 404
    elsewhere (an e-governance health check);
  * an https:// --url gets the same over TLS with --cert and --key (rajnet-sim makes them at `up`,
    signed by its own service CA, valid for a few days only so the agents' certificate-expiry
    warning has something to see). Without them its port falls back to accept-and-close.
The pid file is written once every socket is bound, so rajnet-sim can wait for it as readiness.
Standard library only (run with Debian's /usr/bin/python3).
"""
import argparse
import http.server
import os
import selectors
import signal
import socket
import ssl
import sys
import threading
import urllib.parse


class HealthHandler(http.server.BaseHTTPRequestHandler):
    """Answers 200 "ok" on the health path, 404 elsewhere."""

    server_version = "rajnet-sim"
    health_path = "/"
    tls = None  # an ssl.SSLContext for https

    def setup(self):
        # the TLS handshake in the connection's own thread, not in accept(): a client that
        # stalls it blocks nobody else
        if self.tls:
            self.request.settimeout(10)
            self.request = self.tls.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, OSError):
            pass  # a probe that gave up mid-handshake

    def _answer(self, with_body):
        path = urllib.parse.urlsplit(self.path).path
        if path == self.health_path:
            code, body = 200, b"ok\n"
        else:
            code, body = 404, b"not found\n"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._answer(True)

    def do_HEAD(self):  # noqa: N802
        self._answer(False)

    def log_message(self, fmt, *args):
        pass  # probes every second would flood the log


class ReusingHTTPServer(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, OSError)):
            super().handle_error(request, client_address)  # a probe that gave up is no news


def listen_tcp(addr, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((addr, port))
    except OSError as e:
        sys.exit(f"sim-service: cannot listen on {addr}:{port}: {e.strerror}")
    sock.listen(128)
    sock.setblocking(False)
    return sock


def parse_args():
    ap = argparse.ArgumentParser(description="Stand-in service endpoint for the simulated RajNet.")
    ap.add_argument("--name", required=True, help="service name (for messages)")
    ap.add_argument("--addr", help="address to listen on (default: the URL's host)")
    ap.add_argument("--tcp", default="", help="comma-separated TCP ports")
    ap.add_argument("--url", help="http:// or https:// URL whose path answers 200 ok")
    ap.add_argument("--cert", help="PEM certificate (chain) for an https:// URL")
    ap.add_argument("--key", help="PEM private key of --cert")
    ap.add_argument("--pidfile", required=True)
    return ap.parse_args()


def main():
    args = parse_args()
    ports = [int(p) for p in args.tcp.split(",") if p]
    addr = args.addr
    http_port = None
    http_path = "/"
    tls = None

    if args.url:
        url = urllib.parse.urlsplit(args.url)
        if url.scheme == "https" and args.cert and args.key:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(args.cert, args.key)
        if url.scheme == "http" or tls:
            http_port = url.port or (443 if tls else 80)
            http_path = url.path or "/"
            addr = addr or url.hostname
            if url.hostname != addr:
                print(f"sim-service {args.name}: URL host {url.hostname} is not {addr}; "
                      f"serving HTTP on {addr}", file=sys.stderr)
        else:
            print(f"sim-service {args.name}: {url.scheme}:// is not simulated (https needs "
                  f"--cert and --key); its port accepts and closes only", file=sys.stderr)
            if url.port:
                ports.append(url.port)
    if addr is None:
        sys.exit(f"sim-service {args.name}: no address to listen on")

    sel = selectors.DefaultSelector()
    for port in sorted(set(ports)):
        if port != http_port:
            sel.register(listen_tcp(addr, port), selectors.EVENT_READ)
    if http_port is not None:
        HealthHandler.health_path = http_path
        try:
            httpd = ReusingHTTPServer((addr, http_port), HealthHandler)
        except OSError as e:
            sys.exit(f"sim-service {args.name}: cannot serve HTTP on {addr}:{http_port}: {e.strerror}")
        HealthHandler.tls = tls
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.pidfile + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(args.pidfile + ".tmp", args.pidfile)
    print(f"sim-service {args.name}: listening on {addr} tcp {sorted(set(ports))} "
          f"{'https' if tls else 'http'} {http_port} {http_path}", file=sys.stderr, flush=True)

    while True:
        events = sel.select(timeout=None) if sel.get_map() else []
        if not events:
            signal.pause()
        for key, _ in events:
            try:
                conn, _peer = key.fileobj.accept()
                conn.close()
            except (BlockingIOError, ConnectionError):
                pass


if __name__ == "__main__":
    main()
