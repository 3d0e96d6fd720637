#!/usr/bin/env bash
# The NOC dashboard, end to end in headless Chromium (Debian's chromium driven by npm
# playwright-core) against the collector on the simulated RajNet:
#  - the overview shows every node of deploy/sim/topology.yaml, grouped by district;
#  - cutting JPR-MPLS-0042 turns jaipur and its blocks red and lists exactly one root alarm,
#    with its symptoms folded under it, within 10 s and without a page reload;
#  - acknowledging that alarm is refused without a token (the server's error is shown) and
#    accepted with the operator token (shows who acked);
#  - the node page lists uplinks with vendor and circuit and loads a graph image; the service
#    page of vc lists the offices that cannot reach it.
# Screenshots land in tests/out/screenshots/ (overview.png, alarm.png, node.png, service.png).
#   RAJNET_HTTP            the collector's HTTP address (default http://127.0.0.1:8080)
#   RAJNET_OPERATOR_TOKEN  a token with role operator (default rajnet-demo-operator)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

browser=$(cd "$here/../browser" && pwd)
export RAJNET_HTTP=${RAJNET_HTTP:-http://127.0.0.1:8080}
export RAJNET_OPERATOR_TOKEN=${RAJNET_OPERATOR_TOKEN:-rajnet-demo-operator}
export RAJNET_SIM=$STACK_REPO/deploy/sim/rajnet-sim
export RAJNET_SCREENSHOTS=${RAJNET_SCREENSHOTS:-$STACK_REPO/tests/out/screenshots}

if [ ! -x /usr/bin/chromium ]; then
    not_ok "Debian's chromium is installed" "run deploy/install-deps.sh"
    exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    not_ok "node and npm are on PATH"
    exit 1
fi
if [ ! -f "$browser/node_modules/playwright-core/package.json" ]; then
    if ! out=$(cd "$browser" && npm ci --no-audit --no-fund 2>&1); then
        not_ok "npm ci in tests/browser installs playwright-core" "$(echo "$out" | tail -3)"
        exit 1
    fi
fi

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
trap 'stack_stop; rm -rf "$run"' EXIT
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

# The browser test prints its own ok/not ok lines; it cuts and heals the link itself.
node "$browser/dashboard.test.mjs"
rc=$?
[ $rc -eq 0 ] || TEST_FAILS=$((TEST_FAILS + 1))

collector_alive() { kill -0 "$(cat "$run/collector.pid" 2>/dev/null)" 2>/dev/null; }
check "the collector is still running after the browser session" collector_alive
check "the collector logged no error" bash -c "! grep -qE ' error: |double free|Aborted' '$run/collector.log'"
exit $((TEST_FAILS > 0))
