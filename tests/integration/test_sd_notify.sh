#!/usr/bin/env bash
# Readiness notification (sd_notify, Type=notify units) of both daemons, without systemd: a
# python listener on a unix datagram socket stands in for the service manager, its path exported
# as NOTIFY_SOCKET, as systemd does. A collector and an agent on loopback (no simulation):
#  - the collector sends READY=1 with a STATUS= line once it listens for agents and serves HTTP
#    (the API answers by then), and its STATUS= counts the agent once it has connected;
#  - the agent sends READY=1 once started (its plan applied or its first connection under way);
#  - SIGHUP gives RELOADING=1 then READY=1, also when the new file is refused (the old one runs
#    on and the daemon stays up);
#  - SIGTERM gives STOPPING=1, and both exit 0;
#  - every message comes from the daemon's own pid (NotifyAccess=main).
# About 20 s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

build=${RAJNET_BUILD:-$repo/build}
agent_bin=$build/agent/rajnet-agent
collector_bin=$build/collector/rajnet-collector
[ -x "$agent_bin" ] && [ -x "$collector_bin" ] || { echo "not ok - no build at $build (set RAJNET_BUILD)"; exit 1; }
run=$(mktemp -d /tmp/rn-sdnotify-XXXXXX)
cpid="" apid="" lpids=""
cleanup() {
    local p
    for p in $apid $cpid $lpids; do kill "$p" 2>/dev/null; done
    for p in $apid $cpid $lpids; do wait "$p" 2>/dev/null; done
    rm -rf "$run"
}
trap cleanup EXIT

# The stand-in service manager: one line per datagram, "PID<tab>VAR=... | VAR=...", the pid from
# the kernel's credentials (SO_PASSCRED), as systemd checks it for NotifyAccess=main.
cat >"$run/listener.py" <<'PY'
import os, socket, struct, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
open(log + ".ready", "w").close()
with open(log, "a", buffering=1) as out:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        out.write("%d\t%s\n" % (pid, msg.decode(errors="replace").strip().replace("\n", " | ")))
PY
listen() { # listen NAME: starts a listener on $run/NAME.sock logging to $run/NAME.notify
    /usr/bin/python3 "$run/listener.py" "$run/$1.sock" "$run/$1.notify" & lpids+=" $!"
    wait_for 5 test -f "$run/$1.notify.ready" || { not_ok "notify listener $1 starts"; exit 1; }
}
listen collector
listen agent

port=$(free_port)
hport=$(free_port)

loopback_pki "$run/pki" jaipur || { not_ok "rajnet-pki makes the certificates"; exit 1; }
loopback_topology "$run/topology.yaml"
cp "$run/topology.yaml" "$run/topology.good"
echo 'ro: { community: not-a-real-one }' >"$run/secrets.yaml"
loopback_collector "$run" "127.0.0.1:$port" "$run" \
    "http: { listen: 127.0.0.1:$hport, tokens: [{ name: t, token: viewer-token, role: viewer }] }"
loopback_agent "$run/agent" "$run/pki" jaipur "$port"
cp "$run/agent/agent.yaml" "$run/agent/agent.good"

# seen NAME [FROM] PATTERN: a message of NAME's daemon after line FROM matches PATTERN
seen() {
    local name=$1 from=0
    [ $# = 3 ] && { from=$2; shift; }
    tail -n +$((from + 1)) "$run/$name.notify" | grep -q -- "$2"
}
lines() { wc -l <"$run/$1.notify"; }
# in_order NAME FROM A B: after line FROM, the first message with A comes before the first with B
in_order() {
    tail -n +$(($2 + 1)) "$run/$1.notify" | awk -v a="$3" -v b="$4" '
        index($0, a) && !ia { ia = NR } index($0, b) && !ib { ib = NR }
        END { exit !(ia && ib && ia < ib) }'
}
# from_pid NAME PID: every message of NAME came from PID
from_pid() { awk -F'\t' -v p="$2" '$1 != p { bad = 1 } END { exit bad || NR == 0 }' "$run/$1.notify"; }
# reload_cycle NAME PID WHAT: SIGHUP gives RELOADING=1 then READY=1, and the daemon stays up
reload_cycle() {
    local n
    n=$(lines "$1")
    kill -HUP "$2"
    if wait_for 10 seen "$1" "$n" READY=1 && in_order "$1" "$n" RELOADING=1 READY=1 &&
        kill -0 "$2" 2>/dev/null; then
        ok "$1: SIGHUP ($3) gives RELOADING=1 then READY=1: $(tail -n +$((n + 1)) "$run/$1.notify" | cut -f2 | tr '\n' ';')"
    else
        not_ok "$1: SIGHUP ($3) gives RELOADING=1 then READY=1" "$(tail -n +$((n + 1)) "$run/$1.notify" | tr '\n' ';')"
    fi
}

# --- the collector --------------------------------------------------------------------------------
(cd "$run" && NOTIFY_SOCKET=$run/collector.sock exec "$collector_bin" -c "$run/collector.yaml") \
    >"$run/collector.log" 2>&1 &
cpid=$!
t0=$(date +%s%N)
if wait_for 15 seen collector READY=1; then
    ok "collector: READY=1 $(( ($(date +%s%N) - t0) / 1000000 )) ms after its start: $(grep READY=1 "$run/collector.notify" | cut -f2)"
else
    not_ok "collector: READY=1" "$(tail -3 "$run/collector.log")"; exit 1
fi
check "collector: READY=1 carries a STATUS= line" seen collector 'READY=1 | STATUS=listening for agents'
check "collector: it says ready after it listens for agents (log)" grep -q "listening for agents" "$run/collector.log"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer viewer-token' \
    "http://127.0.0.1:$hport/api/v1/status")
check "collector: the HTTP API answers once it is ready (got $code)" test "$code" = 200

# --- the agent ------------------------------------------------------------------------------------
(cd "$run/agent" && NOTIFY_SOCKET=$run/agent.sock exec "$agent_bin" -c "$run/agent/agent.yaml") \
    >"$run/agent.log" 2>&1 &
apid=$!
if wait_for 15 seen agent READY=1; then
    ok "agent: READY=1: $(grep READY=1 "$run/agent.notify" | head -1 | cut -f2)"
else
    not_ok "agent: READY=1" "$(tail -3 "$run/agent.log")"
fi
if wait_for 15 seen agent 'STATUS=plan [0-9a-f]*, connected to a collector'; then
    ok "agent: STATUS= names its plan once the collector's arrives: $(grep 'STATUS=plan' "$run/agent.notify" | tail -1 | cut -f2)"
else
    not_ok "agent: STATUS= names its plan" "$(cut -f2 "$run/agent.notify" | tr '\n' ';')"
fi
if wait_for 5 seen collector 'STATUS=1 agents connected'; then
    ok "collector: STATUS= counts the connected agent: $(grep 'STATUS=1 agents' "$run/collector.notify" | head -1 | cut -f2)"
else
    not_ok "collector: STATUS= counts the connected agent" "$(cut -f2 "$run/collector.notify" | tr '\n' ';')"
fi

# --- reloads: good files, then refused ones -------------------------------------------------------
reload_cycle collector "$cpid" "topology unchanged"
echo 'nodes: { broken: [' >"$run/topology.yaml"
reload_cycle collector "$cpid" "a broken topology, refused"
check "collector: it kept the old topology (log)" grep -q "reload: keeping the current topology" "$run/collector.log"
cp "$run/topology.good" "$run/topology.yaml"
reload_cycle agent "$apid" "configuration unchanged"
printf 'node: jaipur\nno_such_key: 1\n' >"$run/agent/agent.yaml"
reload_cycle agent "$apid" "a broken configuration, refused"
check "agent: it kept the running configuration (log)" grep -q "reload: keeping the running configuration" "$run/agent.log"
cp "$run/agent/agent.good" "$run/agent/agent.yaml"

# --- shutdown ---------------------------------------------------------------------------------------
for d in agent collector; do
    pid=$apid
    [ $d = collector ] && pid=$cpid
    kill -TERM "$pid"
    wait_for 20 seen $d STOPPING=1 || true
    st=0
    wait "$pid" || st=$?
    check "$d: SIGTERM gives STOPPING=1" seen $d STOPPING=1
    check "$d: exits 0 after SIGTERM (got $st)" test "$st" = 0
    check "$d: every message came from the daemon's pid $pid (NotifyAccess=main)" from_pid $d "$pid"
    [ $d = agent ] && apid="" || cpid=""
done
exit $((TEST_FAILS > 0))
