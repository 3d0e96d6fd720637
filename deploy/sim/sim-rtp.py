#!/usr/bin/python3
"""sim-rtp.py: a police station's stand-in recording stream for the simulated RajNet.

rajnet-sim runs one per station with a `recording:` interface (rajnet-topology(5), STATIONS),
inside the station node's network namespace: for every camera address given with --from it sends
an RTP stream (RFC 3550 header, payload type 96 "H.264", 90 kHz clock, its own SSRC) from that
address to the NVR's address (--to), port 5004 + 2 * k for the k-th camera, at --pps packets a
second (default 25, a frame a packet). rajnet-sim routes the NVR's address over the station's
recording interface, so the stream crosses it where the node's agent captures it with its RTP
tracker (agent/vc_quality.h, recording mode). `rajnet-sim recording STATION off` kills it (the
cameras stopped sending to the NVR), `on` starts it again, `loss PCT` drops packets on the way.

Sequence numbers and timestamps advance by one packet and one frame per tick, whatever happens on
the network, so a dropped packet is a gap the tracker counts as loss. Nothing is read back: the
NVR end has no listener (its ICMP "port unreachable" answers are ignored). The pid file is
written once every socket is bound (rajnet-sim waits for it as readiness). Standard library only
(run with Debian's /usr/bin/python3).
"""
import argparse
import os
import random
import signal
import socket
import struct
import sys
import time

RTP_PORT = 5004
PAYLOAD = bytes(160)  # a small stand-in frame: the tracker reads headers only


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="the station, for the log")
    ap.add_argument("--to", required=True, help="the NVR's address")
    ap.add_argument("--from", dest="sources", action="append", required=True,
                    help="a camera's address (repeat per camera)")
    ap.add_argument("--pps", type=int, default=25, help="packets a second per camera, 1..1000")
    ap.add_argument("--pidfile", required=True)
    args = ap.parse_args()
    if not 1 <= args.pps <= 1000:
        ap.error("--pps wants 1..1000")
    streams = []
    for k, src in enumerate(args.sources):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, RTP_PORT + 2 * k))
        s.setblocking(False)
        streams.append({"sock": s, "dst": (args.to, RTP_PORT + 2 * k),
                        "ssrc": random.getrandbits(32), "seq": random.getrandbits(16),
                        "ts": random.getrandbits(32)})
    with open(args.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(args.pidfile + ".tmp", args.pidfile)
    print("sim-rtp %s: %d stream(s) to %s at %d pps" % (args.name, len(streams), args.to,
                                                        args.pps), flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    period, step = 1.0 / args.pps, 90000 // args.pps
    due = time.monotonic()
    while not stop:
        for st in streams:
            hdr = struct.pack("!BBHII", 0x80, 96, st["seq"], st["ts"], st["ssrc"])
            try:
                st["sock"].sendto(hdr + PAYLOAD, st["dst"])
            except OSError:
                pass  # unreachable (NVR cut off, port unreachable answers): keep the clock going
            st["seq"] = (st["seq"] + 1) & 0xFFFF
            st["ts"] = (st["ts"] + step) & 0xFFFFFFFF
        due += period
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1:  # the host stalled: do not burst to catch up
            due = time.monotonic()
    try:
        os.unlink(args.pidfile)
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    try:
        main()
    except OSError as e:
        print("sim-rtp: %s" % e, file=sys.stderr)
        sys.exit(1)
