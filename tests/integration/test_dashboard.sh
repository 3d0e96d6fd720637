#!/usr/bin/env bash
# The NOC dashboard, end to end in headless Chromium (Debian's chromium driven by npm
# playwright-core) against the collector on the simulated RajNet:
#  - the overview shows every node of deploy/sim/topology.yaml, grouped by district;
#  - cutting JPR-MPLS-0042 turns jaipur and its blocks red and lists exactly one root alarm,
#    with its symptoms folded under it, within 10 s and without a page reload;
#  - acknowledging that alarm is refused without a token (the server's error is shown) and
#    accepted with the operator token (shows who acked);
#  - the node page lists uplinks with vendor and circuit and loads a graph image; the service
#    page of vc lists the offices that cannot reach it;
#  - VC media quality: two G.711-like RTP streams leave ajmer for the VC MCU (as in
#    test_vc_quality.sh); ajmer's node page shows MOS, loss, jitter, streams with a verdict and
#    the rtp graph, and the vc service page lists ajmer's MOS.
# Screenshots land in tests/out/screenshots/ (overview.png, alarm.png, node.png, vc.png,
# service.png).
#   RAJNET_HTTP            the collector's HTTP address (default http://127.0.0.1:8080)
#   RAJNET_OPERATOR_TOKEN  a token with role operator (default rajnet-demo-operator)
set -uo pipefail
export RAJNET_MGMT=oob # live evidence from below the cut: jaipur and its blocks turn red from their agents
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

browser=$(cd "$here/../browser" && pwd)
export RAJNET_HTTP=${RAJNET_HTTP:-http://127.0.0.1:8080}
export RAJNET_OPERATOR_TOKEN=${RAJNET_OPERATOR_TOKEN:-rajnet-demo-operator}
export RAJNET_SIM=$STACK_REPO/deploy/sim/rajnet-sim
export RAJNET_SCREENSHOTS=${RAJNET_SCREENSHOTS:-$STACK_REPO/tests/out/screenshots}

browser_ready || exit 1

# The simulation's namespaces and addresses are machine-wide: wait while another run holds them
# rather than tearing its network down under it.
sim_free() {
    [ -z "$(ip netns list 2>/dev/null | grep '^rn-')" ] &&
        ! ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE ":($STACK_COLLECTOR_PORT|${RAJNET_HTTP##*:})\$"
}
if ! wait_for 300 sim_free; then
    not_ok "the simulated RajNet is free to start" "$(ip netns list | head -3 | tr '\n' ' ')"
    exit 1
fi

run=$(mktemp -d /tmp/rn-dashboard-XXXXXX)
sender_pid=""
trap '[ -n "$sender_pid" ] && kill "$sender_pid" 2>/dev/null; stack_stop; rm -rf "$run"' EXIT
if ! stack_start "$run"; then
    not_ok "the simulated RajNet, the collector and the agents start"
    exit 1
fi
ok "the simulated RajNet, the collector and the agents start"

api_up() { curl -fsS -o /dev/null --max-time 2 "$RAJNET_HTTP/api/v1/status"; }
if wait_for 20 api_up; then
    ok "the collector serves the HTTP API at $RAJNET_HTTP"
else
    not_ok "the collector serves the HTTP API at $RAJNET_HTTP" \
        "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$RAJNET_HTTP/api/v1/status" 2>&1)"
fi

# Live VC media from ajmer (not under the cut): 2 streams, PT 0, 20 ms, 160-byte payloads, to the
# MCU's RTP port range, which ajmer's capture on wan0 measures (see test_vc_quality.sh).
export RAJNET_VC_NODE=ajmer
cat > "$run/rtp_send.py" <<'PY'
import socket, struct, sys, time
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
socks = []
for k in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 16384 + 2 * k))
    socks.append(s)
t0, i = time.monotonic(), 0
while time.monotonic() - t0 < 600:  # stops by itself
    for k, s in enumerate(socks):
        try:
            s.sendto(struct.pack(">BBHII", 0x80, 0, i & 0xffff, (160 * i) & 0xffffffff, 0x6000 + k) + b"\xd5" * 160,
                     (dst, 16400 + 2 * k))
        except OSError:
            pass  # an ICMP unreachable from the MCU address answers on the socket
    i += 1
    time.sleep(max(0, t0 + i * 0.020 - time.monotonic()))
PY
ip netns exec "$(stack_sim ns "$RAJNET_VC_NODE")" /usr/bin/python3 "$run/rtp_send.py" \
    "$(stack_sim addr "$RAJNET_VC_NODE")" 10.77.0.10 2 &
sender_pid=$!

# The browser test prints its own ok/not ok lines; it cuts and heals the link itself.
node "$browser/dashboard.test.mjs"
rc=$?
[ $rc -eq 0 ] || TEST_FAILS=$((TEST_FAILS + 1))

collector_alive() { kill -0 "$(cat "$run/collector.pid" 2>/dev/null)" 2>/dev/null; }
check "the collector is still running after the browser session" collector_alive
check "the collector logged no error" bash -c "! grep -qE ' error: |double free|Aborted' '$run/collector.log'"
exit $((TEST_FAILS > 0))
