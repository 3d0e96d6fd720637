#!/usr/bin/python3
"""sim-camera.py: a stand-in IP camera for the simulated RajNet.

rajnet-sim runs one per camera of the topology's police stations (`stations:`), inside the
station node's network namespace, on the camera's address: an RTSP server that answers every
request with "RTSP/1.0 200 OK" and the request's CSeq, as a camera answers OPTIONS, so the agent's
RTSP probe (agent/rtsp_probe.h) has something real to reach. No media: the probe never asks for
any. `rajnet-sim camera off NAME` kills it (the camera is offline: connections are refused),
`camera on NAME` starts it again.

Requests are read up to their blank line, at most 4 KiB; a connection idle for 10 s is closed.
The pid file is written once the socket is bound (rajnet-sim waits for it as readiness).
Standard library only (run with Debian's /usr/bin/python3).
"""
import argparse
import asyncio
import os
import re
import signal
import sys

MAX_REQUEST = 4096
IDLE_S = 10


async def serve_client(reader, writer):
    """Answers each request on one connection until the peer closes it."""
    try:
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_S)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    asyncio.TimeoutError, ConnectionError):
                return
            m = re.search(rb"(?im)^CSeq:\s*(\d+)", head)
            cseq = m.group(1).decode() if m else "0"
            writer.write(("RTSP/1.0 200 OK\r\nCSeq: %s\r\nServer: rajnet-sim camera\r\n"
                          "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
                          % cseq).encode())
            await writer.drain()
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="station/camera, for the log")
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, default=554)
    ap.add_argument("--pidfile", required=True)
    args = ap.parse_args()
    server = await asyncio.start_server(serve_client, args.addr, args.port, limit=MAX_REQUEST)
    with open(args.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(args.pidfile + ".tmp", args.pidfile)
    print("sim-camera %s: RTSP on %s:%d" % (args.name, args.addr, args.port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    try:
        os.unlink(args.pidfile)
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as e:
        print("sim-camera: %s" % e, file=sys.stderr)
        sys.exit(1)
