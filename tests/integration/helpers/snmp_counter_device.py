#!/usr/bin/python3
"""A scripted SNMP device for snmpd's pass_persist (snmpd.conf(5)): its sysUpTime and interface
counters follow known rates, so a test can tell a right rate from a spike.

    pass_persist .1.3.6.1.2.1.1 /usr/bin/python3 snmp_counter_device.py CONTROL .1.3.6.1.2.1.1
    (the same for .1.3.6.1.2.1.2.2, .1.3.6.1.2.1.31.1.1 and any extra subtree)

snmpd starts one process per pass_persist line and each answers only inside its subtree (the
last argument); they agree because every value is computed from
the wall clock and the control file, a JSON object the test rewrites (atomically) to script
events:
    boot      epoch seconds of the last boot: sysUpTime counts from it; a later value is a reboot
    disc      epoch seconds of a counter discontinuity on hc0 (0: none): its counters jump up by
              DISC_JUMP and ifCounterDiscontinuityTime says when
    wrap_at   seconds after the first boot at which lc0's 32-bit counters wrap

Interfaces:
    1 hc0  HC counters (64-bit), ifHighSpeed 10000: in RATE_IN B/s, out RATE_OUT B/s
    2 lc0  32-bit counters only (no ifHCIn/OutOctets), ifHighSpeed 100: the same rates
After a reboot hc0's counters start from REBOOT_BASE, above their value before it: DERIVE's
"min 0" alone would not catch that, only the agent's sysUpTime check keeps it from a spike.
Extra objects: .1.3.6.1.4.1.9.9.109.1.1.1.1.8.1 (a CPU gauge, CPU_PCT) answers when
.1.3.6.1.4.1.9 is passed here too.
"""
import json
import sys
import time

RATE_IN = 1_000_000
RATE_OUT = 500_000
DISC_JUMP = 500_000_000
REBOOT_BASE = 1_000_000_000
CPU_PCT = 37
MIB2 = (1, 3, 6, 1, 2, 1)
IFT = MIB2 + (2, 2, 1)
IFX = MIB2 + (31, 1, 1, 1)


def control(path):
    with open(path) as f:
        return json.load(f)


def values(c, now):
    """Returns {oid tuple: (type, value)} for the device at time now."""
    first_boot, boot = c["first_boot"], c["boot"]
    up = now - boot
    rebooted = boot > first_boot
    disc = c.get("disc", 0)
    jumped = disc > boot and now >= disc
    hc_in = (REBOOT_BASE if rebooted else 0) + RATE_IN * up + (DISC_JUMP if jumped else 0)
    hc_out = (REBOOT_BASE if rebooted else 0) + RATE_OUT * up + (DISC_JUMP if jumped else 0)
    # lc0 starts so that it wraps wrap_at seconds after the first boot; a reboot restarts it at 0
    lc_base_in = 0 if rebooted else 2**32 - RATE_IN * c["wrap_at"]
    lc_base_out = 0 if rebooted else 2**32 - RATE_OUT * c["wrap_at"]
    lc_in = int(lc_base_in + RATE_IN * up) % 2**32
    lc_out = int(lc_base_out + RATE_OUT * up) % 2**32
    disc_ticks = int((disc - boot) * 100) if jumped else 0
    v = {
        MIB2 + (1, 1, 0): ("string", "rajnet scripted counter device"),
        MIB2 + (1, 3, 0): ("timeticks", int(up * 100)),
        MIB2 + (1, 5, 0): ("string", "scripted1"),
        (1, 3, 6, 1, 4, 1, 9, 9, 109, 1, 1, 1, 1, 8, 1): ("gauge", CPU_PCT),
    }
    ifs = {1: ("hc0", int(hc_in), int(hc_out), 10000, disc_ticks),
           2: ("lc0", lc_in, lc_out, 100, 0)}
    for idx, (name, vin, vout, mbps, dticks) in ifs.items():
        v[IFT + (1, idx)] = ("integer", idx)
        v[IFT + (2, idx)] = ("string", name)
        v[IFT + (8, idx)] = ("integer", 1)
        v[IFT + (10, idx)] = ("counter", vin % 2**32)
        v[IFT + (13, idx)] = ("counter", 0)
        v[IFT + (14, idx)] = ("counter", 0)
        v[IFT + (16, idx)] = ("counter", vout % 2**32)
        v[IFT + (19, idx)] = ("counter", 0)
        v[IFT + (20, idx)] = ("counter", 0)
        v[IFX + (1, idx)] = ("string", name)
        if name == "hc0":
            v[IFX + (6, idx)] = ("counter64", vin)
            v[IFX + (10, idx)] = ("counter64", vout)
        v[IFX + (15, idx)] = ("gauge", mbps)
        v[IFX + (19, idx)] = ("timeticks", dticks)
    return v


def poll_time(state):
    """Returns the time the device's values are computed for: the requests of one poll (a few
    milliseconds apart) all see the time of its first request, as if the device had taken one
    snapshot of its counters, so that a 1 s poll gives the exact rate."""
    now = time.time()
    if now - state.get("snap", 0) > 0.3:
        state["snap"] = now
    return state["snap"]


def parse_oid(s):
    return tuple(int(x) for x in s.strip().strip(".").split(".") if x != "")


def answer(out, oid, tv):
    out.write(".%s\n%s\n%s\n" % (".".join(map(str, oid)), tv[0], tv[1]))


def main():
    path, subtree = sys.argv[1], parse_oid(sys.argv[2])
    inp, out = sys.stdin, sys.stdout
    state = {}
    while True:
        cmd = inp.readline()
        if not cmd:
            return
        cmd = cmd.strip()
        if cmd == "PING":
            out.write("PONG\n")
        elif cmd in ("get", "getnext"):
            oid = parse_oid(inp.readline())
            v = {k: tv for k, tv in values(control(path), poll_time(state)).items()
                 if k[:len(subtree)] == subtree}
            if cmd == "get":
                hit = oid if oid in v else None
            else:
                later = [k for k in v if k > oid]
                hit = min(later) if later else None
            if hit is None:
                out.write("NONE\n")
            else:
                answer(out, hit, v[hit])
        elif cmd == "set":
            inp.readline()
            inp.readline()
            out.write("not-writable\n")
        else:
            out.write("NONE\n")
        out.flush()


if __name__ == "__main__":
    main()
