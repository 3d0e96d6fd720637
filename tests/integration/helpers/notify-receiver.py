#!/usr/bin/env python3
"""Loopback peers for the notifier tests (python3 standard library only).

  notify-receiver.py http PORT OUT   webhook receiver: appends each POST body as one line to OUT,
                                     answers 200 (404 for paths other than /hook)
  notify-receiver.py hang PORT       a dead webhook: accepts connections, never answers
  notify-receiver.py udp PORT OUT    syslog receiver: appends each datagram as one line to OUT
  notify-receiver.py tcp PORT OUT    syslog receiver over TCP (RFC 6587 octet counting): appends
                                     each framed message as one line to OUT
  notify-receiver.py mibs            prints a folder holding the IETF MIB files that the npm
                                     package net-snmp ships (SNMPv2-SMI, -TC, -CONF, IF-MIB):
                                     fetched with `npm pack net-snmp` once, cached under /tmp

Every server writes "ready" to OUT.ready (or PORT.ready in the cwd for hang) once listening, and
binds 127.0.0.1 only.
"""
import http.server
import os
import socket
import subprocess
import sys
import tarfile
import tempfile

MIB_CACHE = "/tmp/rn-notify-mibs"


def ready(path):
    with open(path + ".ready", "w") as f:
        f.write("ready\n")


def serve_http(port, out):
    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/hook":
                self.send_response(404)
                self.end_headers()
                return
            with open(out, "ab") as f:
                f.write(body.replace(b"\n", b" ") + b"\n")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", port), Hook)
    ready(out)
    srv.serve_forever()


def serve_hang(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    ready(str(port))
    held = []
    while True:
        conn, _ = s.accept()
        held.append(conn)  # never read, never answer


def serve_udp(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    ready(out)
    while True:
        data, _ = s.recvfrom(65536)
        with open(out, "ab") as f:
            f.write(data.replace(b"\n", b" ") + b"\n")


def serve_tcp(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4)
    ready(out)
    while True:
        conn, _ = s.accept()
        buf = b""
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
            while b" " in buf:
                length, rest = buf.split(b" ", 1)
                if len(rest) < int(length):
                    break
                with open(out, "ab") as f:
                    f.write(rest[: int(length)] + b"\n")
                buf = rest[int(length):]
        conn.close()


def mibs():
    folder = os.path.join(MIB_CACHE, "package", "lib", "mibs")
    if os.path.exists(os.path.join(folder, "SNMPv2-SMI.mib")):
        print(folder)
        return 0
    os.makedirs(MIB_CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=MIB_CACHE) as tmp:
        try:
            r = subprocess.run(["npm", "pack", "net-snmp"], cwd=tmp, capture_output=True,
                               text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("cannot run npm pack net-snmp (needed for the IETF MIB files): %s" % e,
                  file=sys.stderr)
            return 1
        tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if r.returncode != 0 or not tgz:
            print("npm pack net-snmp failed (is the npm registry reachable?): %s" % r.stderr,
                  file=sys.stderr)
            return 1
        with tarfile.open(os.path.join(tmp, tgz[0])) as t:
            members = [m for m in t.getmembers() if m.name.startswith("package/lib/mibs/")]
            t.extractall(tmp, members=members)
        # into place in one rename, so a test running beside this one never sees half the files
        try:
            os.rename(os.path.join(tmp, "package"), os.path.join(MIB_CACHE, "package"))
        except OSError:
            if not os.path.exists(os.path.join(folder, "SNMPv2-SMI.mib")):
                raise
    print(folder)
    return 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "http":
        serve_http(int(sys.argv[2]), sys.argv[3])
    elif mode == "hang":
        serve_hang(int(sys.argv[2]))
    elif mode == "udp":
        serve_udp(int(sys.argv[2]), sys.argv[3])
    elif mode == "tcp":
        serve_tcp(int(sys.argv[2]), sys.argv[3])
    elif mode == "mibs":
        return mibs()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
