#!/usr/bin/env python3
"""Opens N TCP connections to HOST:PORT from source address SRC, sends nothing, holds them for
SECONDS, then closes them. Prints how many connected and how many the server still held open at
the end (the rest it refused or closed). Bounded: N <= 2000, SECONDS <= 120.

usage: idle_clients.py HOST PORT SRC N SECONDS"""
import select
import socket
import sys
import time

host, port, src, n, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], min(int(sys.argv[4]), 2000), min(float(sys.argv[5]), 120)
socks, failed = [], 0
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.bind((src, 0))
        s.connect((host, port))
        s.setblocking(False)
        socks.append(s)
    except OSError:
        failed += 1
        s.close()
print(f"connected {len(socks)} failed {failed}", flush=True)
deadline = time.time() + secs
closed = set()
while time.time() < deadline and len(closed) < len(socks):
    live = [s for s in socks if s.fileno() not in closed]
    r, _, _ = select.select(live, [], [], min(1.0, max(0.0, deadline - time.time())))
    for s in r:
        try:
            if not s.recv(4096):
                closed.add(s.fileno())
        except OSError:
            closed.add(s.fileno())
print(f"held_open {len(socks) - len(closed)} closed_by_server {len(closed)}", flush=True)
for s in socks:
    s.close()
