#!/usr/bin/env bash
# VC media quality from the wire, end to end on the simulated RajNet:
#  - four G.711 RTP streams (PT 0, 20 ms, 160-byte payloads, own SSRCs) leave jaipur for the VC
#    MCU at sdc (10.77.0.10, the vc service's RTP port range 16384-32767); jaipur's agent captures
#    them on its uplink wan0 with the plan's BPF filter and reports "rtp" every 5 s;
#  - clean link: the agent's RRD shows 4 streams, no loss, MOS above 4.2;
#  - `rajnet-sim degrade JPR-MPLS-0042 --loss 5 --delay 50 --jitter 30`: loss averaged over six
#    intervals is within 20% of 5%, RFC 3550 jitter within 20% of what the injected jitter gives,
#    and MOS falls;
#  - heal: loss and jitter are back near zero.
#
# Where the impairment sits: rajnet-sim drops and delays a link's packets in the child's
# netfilter hooks. A capture tap on wan0 sees an *outgoing* packet after POSTROUTING (so after the
# drop and the delay) but an *incoming* one before PREROUTING (before the drop). The media stream
# therefore goes from jaipur up to the MCU: what jaipur's capture sees is what the link delivers.
#
# What the injected jitter gives: the delay helper holds each packet for delay + uniform(-J, +J),
# independently. For independent transit times the RFC 3550 estimator tends to E|T1 - T2| = 2J/3
# (20 ms for J = 30), a little more (about 21.8 ms, by simulation) once reordering is counted, so
# the check is against 2J/3 with the issue's 20% band.
#
# Needs root (namespaces). Run: RAJNET_BUILD=<builddir> tests/integration/test_vc_quality.sh
set -uo pipefail
export RAJNET_MGMT=oob # live evidence from below the degraded link: jaipur's VC symptom within 30 s
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

LOSS=5 DELAY=50 JITTER=30 STREAMS=4 INTERVAL=5
run=$(mktemp -d /tmp/rn-vc-XXXXXX)
sender_pid=""
# Tear down only a stack this run holds the lock of: stopped while still waiting for the lock,
# stack_stop would take down the simulation of the run that holds it.
cleanup() {
    [ -n "$sender_pid" ] && kill "$sender_pid" 2>/dev/null
    if [ -n "${STACK_LOCK_FD:-}" ] && flock -n "$STACK_LOCK_FD"; then
        stack_stop
    fi
    rm -rf "$run"
}
trap cleanup EXIT

if ! stack_start "$run"; then
    not_ok "the simulated RajNet, the collector and the agents start"
    exit 1
fi
ok "the simulated RajNet, the collector and the agents start"

node=jaipur
agent_log=$run/agents/$node/agent.log
rrd=$(stack_rrd "$node" rtp vc)
capturing() { grep -q "vc capture vc on wan0" "$agent_log"; }
check "jaipur's agent captures VC media on wan0 from its plan" wait_for 30 capturing

# --- the sender: STREAMS RTP streams from jaipur to the MCU, on an absolute 20 ms schedule ----
cat > "$run/rtp_send.py" <<'PY'
import os, socket, struct, sys, time
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
socks = []
for k in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 16384 + 2 * k))
    socks.append(s)
payload = b"\xd5" * 160
t0 = time.monotonic()
i = 0
while True:
    for k, s in enumerate(socks):
        hdr = struct.pack(">BBHII", 0x80, 0, i & 0xffff, (160 * i) & 0xffffffff, 0x5000 + k)
        try:
            s.sendto(hdr + payload, (dst, 16400 + 2 * k))
        except OSError:
            pass  # an ICMP unreachable from the MCU address answers on the socket; ignore
    i += 1
    delay = t0 + i * 0.020 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
PY
ns=$(stack_sim ns "$node")
src=$(stack_sim addr "$node")
ip netns exec "$ns" /usr/bin/python3 "$run/rtp_send.py" "$src" 10.77.0.10 "$STREAMS" &
sender_pid=$!

# Averages of a data source over the primary points in [now - secs, now - INTERVAL]; "nan" when
# there are none. rrdtool fetch prints "time: v1 v2 ..." with DS names in the header.
rrd_mean() { # rrd_mean DS SECS
    rrdtool fetch "$rrd" AVERAGE -r "$INTERVAL" -s "now-$2" -e "now-$INTERVAL" 2>/dev/null | awk -v ds="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1 }
        NR > 2 && col && $col != "-nan" && $col != "nan" { s += $col; n++ }
        END { if (n) printf "%.3f", s / n; else print "nan" }'
}
streams_seen() { [ "$(rrd_last "$rrd" streams)" = "$STREAMS" ] 2>/dev/null ||
                 [ "$(printf '%.0f' "$(rrd_last "$rrd" streams)" 2>/dev/null)" = "$STREAMS" ]; }
if wait_for 40 streams_seen; then
    ok "the agent reports $STREAMS RTP streams in $rrd"
else
    not_ok "the agent reports $STREAMS RTP streams" "last: $(rrdtool lastupdate "$rrd" 2>&1 | tail -1)"
fi
sleep $((3 * INTERVAL))
clean_loss=$(rrd_mean lost_pct 20); clean_jit=$(rrd_mean jitter_ms 20); clean_mos=$(rrd_mean mos 20)
check "clean link: loss $clean_loss %, jitter $clean_jit ms, MOS $clean_mos (loss < 0.5, jitter < 3, MOS > 4.2)" \
    awk -v l="$clean_loss" -v j="$clean_jit" -v m="$clean_mos" 'BEGIN { exit !(l < 0.5 && j < 3 && m > 4.2) }'

# --- degrade -------------------------------------------------------------------------------------
stack_sim degrade JPR-MPLS-0042 --loss "$LOSS" --delay "$DELAY" --jitter "$JITTER" >/dev/null
sleep $((2 * INTERVAL + 2))  # let the interval that straddles the change pass
sleep $((6 * INTERVAL + 1))
loss=$(rrd_mean lost_pct $((7 * INTERVAL))); jit=$(rrd_mean jitter_ms $((7 * INTERVAL)))
mos=$(rrd_mean mos $((7 * INTERVAL)))
want_jit=$(awk -v j="$JITTER" 'BEGIN { printf "%.1f", 2 * j / 3 }')
check "degraded: loss $loss % is within 20% of the injected $LOSS %" \
    awk -v x="$loss" -v w="$LOSS" 'BEGIN { exit !(x >= 0.8 * w && x <= 1.2 * w) }'
check "degraded: jitter $jit ms is within 20% of $want_jit ms (RFC 3550 of uniform +-$JITTER ms)" \
    awk -v x="$jit" -v w="$want_jit" 'BEGIN { exit !(x >= 0.8 * w && x <= 1.2 * w) }'
check "degraded: MOS falls from $clean_mos to $mos" \
    awk -v a="$clean_mos" -v b="$mos" 'BEGIN { exit !(b < a - 0.3) }'

# --- VC quality alarm, as a symptom of the degraded link (collector/alarm/alarm.c) ----------------------
log=$run/collector.log
vc_alarm() { grep -qE "VC quality low at jaipur" "$log"; }
check "the collector raises \"VC quality low at jaipur\"" wait_for 30 vc_alarm
vc_symptom() { grep -qE "symptom_of .*VC quality low at jaipur" "$log"; }
check "... as a symptom of the degraded link JPR-MPLS-0042" wait_for 30 vc_symptom
check "... and never as a root (raised or promoted)" \
    bash -c "! grep -E '(raised|promoted).*VC quality low at jaipur' '$log'"
echo "# $(grep -E 'JPR-MPLS-0042|VC quality' "$log" | grep -E 'raised|symptom' | head -4)"

# --- heal ------------------------------------------------------------------------------------------
stack_sim heal JPR-MPLS-0042 >/dev/null
sleep $((2 * INTERVAL + 2))
sleep $((3 * INTERVAL + 1))
loss=$(rrd_mean lost_pct $((4 * INTERVAL))); jit=$(rrd_mean jitter_ms $((4 * INTERVAL)))
mos=$(rrd_mean mos $((4 * INTERVAL)))
check "healed: loss $loss %, jitter $jit ms, MOS $mos (loss < 0.5, jitter < 3, MOS > 4.2)" \
    awk -v l="$loss" -v j="$jit" -v m="$mos" 'BEGIN { exit !(l < 0.5 && j < 3 && m > 4.2) }'
vc_cleared() { grep -qE "cleared.*VC quality low at jaipur" "$log"; }
check "healing clears the VC-quality alarm" wait_for 40 vc_cleared
check "... without promoting it to a root on the way" \
    bash -c "! grep -E '(raised|promoted).*VC quality low at jaipur' '$log'"
check "jaipur's agent logged no capture error" bash -c "! grep -E 'vc capture .*not started' '$agent_log'"
exit $((TEST_FAILS > 0))
