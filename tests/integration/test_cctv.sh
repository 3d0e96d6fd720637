#!/usr/bin/env bash
# Police video surveillance, end to end on the simulated RajNet (deploy/sim/topology.yaml: station
# ps-sanganer at jaipur/sanganer with cameras gate and lockup, ps-kishangarh at ajmer/kishangarh):
#  - rajnet-sim runs a stand-in camera (deploy/sim/sim-camera.py) on each camera's address, and
#    the block's agent probes it with RTSP OPTIONS: <block>/rtsp/ps-sanganer/gate.rrd says up;
#  - GET /api/v1/cctv?district=jaipur lists ps-sanganer alone with both cameras up; ajmer's
#    lists ps-kishangarh; an unknown district is a 404;
#  - `rajnet-sim camera off ps-sanganer/gate`: one "camera offline" alarm for the station in
#    /api/v1/alarms within 5 probe rounds (its text names gate, not lockup), the API's row shows
#    gate down and the alarm, and so does the dashboard page #/cctv (headless Chromium);
#    the camera's ping (ICMP target cam:<station>:<camera>) still answers in the API's row;
#  - `camera on`: the alarm clears (cleared_ms in /api/v1/alarms) and the row is all up again;
#  - the alarm went the common way: the collector's log, the event store, a webhook;
#  - the station's NVR (10.77.11.60, a stand-in too) is probed like a camera: `camera off
#    ps-sanganer/nvr` raises its own alarm saying recording is lost, `on` clears it;
#  - a station at an agentless village (ps-bagru at jaipur/sanganer/gp-bagru, added to the
#    topology here) is probed by the block's agent: its RRD and its alarm are the village's.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
# ps-bagru: a police station at the agentless village gp-bagru, below the block
topo=$(mktemp /tmp/rn-cctv-topo-XXXXXX.yaml)
awk '{ print } /^  jaipur\/sanganer\/gp-bagru:$/ { village = 1 }
     village && /^    agent: false$/ { print "    stations:\n      - { name: ps-bagru, cameras: [{ name: gate, addr: 10.77.122.61 }] }"; village = 0 }' \
    "${RAJNET_TOPOLOGY:-$here/../../deploy/sim/topology.yaml}" > "$topo"
export RAJNET_TOPOLOGY=$topo
source "$here/../../deploy/stack.sh"

PROBE_INTERVAL=2 # deploy/sim/topology.yaml settings.probe_interval_s
block=jaipur/sanganer station=ps-sanganer camera=gate
run=$(mktemp -d /tmp/rn-cctv-XXXXXX)
hook_pid=""
trap '[ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null; stack_stop; rm -rf "$run" "$topo"' EXIT
PY=/usr/bin/python3
HTTP=http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT
api() { curl -s --max-time 5 -H "Authorization: Bearer $STACK_VIEWER_TOKEN" "$HTTP$1"; }

# a webhook receiver: every POST body, one line each (notifiers take the same path as others)
hook_port=$(free_port)
"$PY" - "$hook_port" "$run/hooks" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
hook_pid=$!
export RAJNET_COLLECTOR_EXTRA="notify:
  webhooks: [{ url: \"http://127.0.0.1:$hook_port/hook\", timeout_ms: 2000 }]"

if ! stack_start "$run"; then
    not_ok "the simulated RajNet, the collector and the agents start"
    exit 1
fi
ok "the simulated RajNet, the collector and the agents start"
cams=$(stack_sim cameras)
check "rajnet-sim runs the topology's 4 stand-in cameras and ps-sanganer's NVR ($(echo $cams | tr '\n' ' '))" \
    test "$(grep -c ' on$' <<<"$cams")" -eq 5

rrd=$run/rrd/$block/rtsp/$station/$camera.rrd
rtsp_up() { [ "$(rrd_last "$rrd" up)" = "1" ]; }
check "$block's agent probes $station/$camera over RTSP: $rrd says up" wait_for 60 rtsp_up
check "the RTSP answer time is stored too (rtsp_ms $(rrd_last "$rrd" rtsp_ms))" \
    bash -c "[[ '$(rrd_last "$rrd" rtsp_ms)' =~ ^[0-9.e+-]+$ ]]"

# cctv_row DISTRICT STATION: "up down alarm_id cam=state ..." of the station's row in the API
cctv_row() {
    api "/api/v1/cctv?district=$1" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
for s in d["stations"]:
    if s["station"] == sys.argv[1]:
        print(s["up"], s["down"], s["alarm_id"] or 0, " ".join("%s=%s" % (c["name"], c["state"]) for c in s["cameras"]))
        break
else:
    print("absent", " ".join(s["station"] for s in d["stations"]))' "$2"
}
row_is() { [ "$(cctv_row "$1" "$2")" = "$3" ]; }
check "GET /api/v1/cctv?district=jaipur: $station with both cameras up ($(cctv_row jaipur $station))" \
    wait_for 20 row_is jaipur "$station" "2 0 0 gate=up lockup=up"
stations() { api "/api/v1/cctv?district=$1" | "$PY" -c 'import json, sys; print(" ".join(s["station"] for s in json.load(sys.stdin)["stations"]))'; }
check "jaipur lists only its stations ($(stations jaipur)), ajmer only its own ($(stations ajmer))" \
    test "$(stations jaipur)/$(stations ajmer)" = "ps-sanganer ps-bagru/ps-kishangarh"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $STACK_VIEWER_TOKEN" "$HTTP/api/v1/cctv?district=nosuch")
check "an unknown district is a 404 (got $code)" test "$code" = 404

# the station's camera_offline alarms in /api/v1/alarms: "id cleared_ms|open text" per line
alarms() {
    api "/api/v1/alarms?state=all" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
rows = d["alarms"] if isinstance(d, dict) else d
flat = []
for a in rows:
    flat.append(a)
    flat.extend(a.get("symptoms") or [])
for a in flat:
    if a["type"] == "camera_offline" and a["entity"] == "cctv:" + sys.argv[1]:
        print(a["id"], a["cleared_ms"] or "open", a["severity"], a["node"], a["text"])' "$station"
}
check "no camera_offline alarm while every camera answers" test -z "$(alarms)"

# --- take the stand-in camera offline -----------------------------------------------------------
t0=$(date +%s%N)
stack_sim camera off "$station/$camera" >/dev/null
one_open() { [ "$(alarms | grep -c ' open ')" -eq 1 ]; }
if wait_for $((5 * PROBE_INTERVAL + 5)) one_open; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    line=$(alarms | grep ' open ')
    id=${line%% *}
    if [ "$ms" -le $((5 * PROBE_INTERVAL * 1000)) ]; then
        ok "camera off: alarm $id in /api/v1/alarms after $ms ms (limit 5 probe rounds, $((5 * PROBE_INTERVAL)) s)"
    else
        not_ok "camera offline alarm within 5 probe rounds" "took $ms ms"
    fi
    check "its text names $camera and not lockup, S2 at $block ($line)" \
        bash -c "grep -q 'camera offline at $station ($block): $camera (1 of 2 cameras)' <<<'$line' && grep -q ' 2 $block ' <<<'$line'"
else
    id=""
    not_ok "camera off: one open camera_offline alarm for $station" "$(alarms)"
fi
check "the API's row: gate down, lockup up, alarm $id ($(cctv_row jaipur $station))" \
    wait_for 10 row_is jaipur "$station" "1 1 ${id:-x} gate=down lockup=up"
rtsp_down() { [ "$(rrd_last "$rrd" up)" = "0" ]; }
check "rtsp up is 0 in $rrd" rtsp_down
# the stand-in's address stays on its node: the camera still pings, its video server does not
ping_loss() {
    api "/api/v1/cctv?district=jaipur" | "$PY" -c 'import json, sys
for s in json.load(sys.stdin)["stations"]:
    for c in s["cameras"]:
        if s["station"] == sys.argv[1] and c["name"] == sys.argv[2]:
            print(c["ping_loss_pct"])' "$station" "$camera"
}
check "$camera still answers ping (ping_loss_pct $(ping_loss)): a hung video server, not a cable" \
    test "$(ping_loss)" = "0.0"

browser=$STACK_REPO/tests/browser
if browser_ready; then
    RAJNET_HTTP=$HTTP RAJNET_CCTV_STATIONS=ps-sanganer,ps-bagru node "$browser/cctv.test.mjs" jaipur "$station" gate=down lockup=up ||
        TEST_FAILS=$((TEST_FAILS + 1))
    have_browser=1
else
    have_browser=0
fi
sleep $((2 * PROBE_INTERVAL))
check "still one alarm for the station, not one per round ($(alarms | wc -l) rows)" \
    test "$(alarms | wc -l)" -eq 1

# --- bring it back --------------------------------------------------------------------------------
t1=$(date +%s%N)
stack_sim camera on "$station/$camera" >/dev/null
cleared() { [ -n "$id" ] && alarms | grep -q "^$id [0-9]"; }
if wait_for $((5 * PROBE_INTERVAL + 5)) cleared; then
    ok "camera on: alarm $id cleared after $(( ($(date +%s%N) - t1) / 1000000 )) ms"
else
    not_ok "camera on: alarm $id cleared" "$(alarms)"
fi
check "the API's row is all up again ($(cctv_row jaipur $station))" \
    wait_for 10 row_is jaipur "$station" "2 0 0 gate=up lockup=up"
if [ "$have_browser" = 1 ]; then
    RAJNET_HTTP=$HTTP RAJNET_CCTV_STATIONS=ps-sanganer,ps-bagru node "$browser/cctv.test.mjs" jaipur "$station" gate=up lockup=up ||
        TEST_FAILS=$((TEST_FAILS + 1))
fi

# --- the NVR: recording lost ------------------------------------------------------------------------
# nvr_alarms: "id cleared_ms|open severity node text" of the station's NVR alarm
nvr_alarms() {
    api "/api/v1/alarms?state=all" | "$PY" -c 'import json, sys
for a in json.load(sys.stdin)["alarms"]:
    if a["type"] == "camera_offline" and a["entity"] == "cctv:" + sys.argv[1] + ":nvr":
        print(a["id"], a["cleared_ms"] or "open", a["severity"], a["node"], a["text"])' "$station"
}
nvr_rrd=$run/rrd/$block/rtsp/$station/nvr.rrd
nvr_up() { [ "$(rrd_last "$nvr_rrd" up)" = "1" ]; }
check "the NVR is probed over RTSP too: $nvr_rrd says up" wait_for 20 nvr_up
check "no NVR alarm while it answers" test -z "$(nvr_alarms)"
# nvr_state: "state alarm_id|0 rtsp_ms|null" of the station's NVR in GET /api/v1/cctv
nvr_state() {
    api "/api/v1/cctv?district=jaipur" | "$PY" -c 'import json, sys
for s in json.load(sys.stdin)["stations"]:
    if s["station"] == sys.argv[1]:
        print(s["nvr_state"], s["nvr_alarm_id"] or 0, "ms" if isinstance(s["nvr_rtsp_ms"], (int, float)) else s["nvr_rtsp_ms"])' "$station"
}
nvr_state_is() { [ "$(nvr_state)" = "$1" ]; }
check "GET /api/v1/cctv: the NVR is up, with its RTSP time and no alarm ($(nvr_state))" \
    wait_for 10 nvr_state_is "up 0 ms"
t2=$(date +%s%N)
stack_sim camera off "$station/nvr" >/dev/null
nvr_open() { nvr_alarms | grep -q ' open '; }
if wait_for $((5 * PROBE_INTERVAL + 5)) nvr_open; then
    line=$(nvr_alarms | grep ' open ')
    nvr_id=${line%% *}
    ok "NVR off: alarm $nvr_id in /api/v1/alarms after $(( ($(date +%s%N) - t2) / 1000000 )) ms"
    check "its text says recording is lost, S2 at $block ($line)" \
        bash -c "grep -q ' 2 $block NVR 10.77.11.60 down at $station ($block): recording lost for its 2 cameras' <<<'$line'"
else
    nvr_id=""
    not_ok "NVR off: an open NVR alarm for $station" "$(nvr_alarms)"
fi
check "the cameras' alarm stays apart: none open ($(alarms | grep -c ' open '))" \
    test "$(alarms | grep -c ' open ')" = 0
check "GET /api/v1/cctv: the NVR is down with alarm ${nvr_id:-?} ($(nvr_state))" \
    wait_for 10 nvr_state_is "down ${nvr_id:-x} None"
if [ "$have_browser" = 1 ]; then
    RAJNET_HTTP=$HTTP RAJNET_CCTV_STATIONS=ps-sanganer,ps-bagru RAJNET_CCTV_NVR=down \
        node "$browser/cctv.test.mjs" jaipur "$station" gate=up lockup=up || TEST_FAILS=$((TEST_FAILS + 1))
fi
t3=$(date +%s%N)
stack_sim camera on "$station/nvr" >/dev/null
nvr_cleared() { [ -n "$nvr_id" ] && nvr_alarms | grep -q "^$nvr_id [0-9]"; }
if wait_for $((5 * PROBE_INTERVAL + 5)) nvr_cleared; then
    ok "NVR on: alarm $nvr_id cleared after $(( ($(date +%s%N) - t3) / 1000000 )) ms"
else
    not_ok "NVR on: alarm $nvr_id cleared" "$(nvr_alarms)"
fi
check "GET /api/v1/cctv: the NVR is up again, no alarm ($(nvr_state))" \
    wait_for 10 nvr_state_is "up 0 ms"

# --- a station at an agentless village: the block's agent probes it for the village ---------------
village=jaipur/sanganer/gp-bagru
v_rrd=$run/rrd/$village/rtsp/ps-bagru/gate.rrd
v_up() { [ "$(rrd_last "$v_rrd" up)" = "1" ]; }
check "$block's agent probes ps-bagru/gate at agentless $village: $v_rrd says up" wait_for 20 v_up
check "nothing of ps-bagru is stored under the block ($run/rrd/$block/rtsp/ps-bagru absent)" \
    test ! -e "$run/rrd/$block/rtsp/ps-bagru"
check "GET /api/v1/cctv?district=jaipur: ps-bagru's gate up ($(cctv_row jaipur ps-bagru))" \
    wait_for 10 row_is jaipur ps-bagru "1 0 0 gate=up"
# its ping series stay under the block's agent node, which sends them: the API finds them there
bagru_ping() {
    api "/api/v1/cctv?district=jaipur" | "$PY" -c 'import json, sys
for s in json.load(sys.stdin)["stations"]:
    if s["station"] == "ps-bagru":
        c = s["cameras"][0]
        print(c["ping_loss_pct"], "ms" if isinstance(c["ping_ms"], (int, float)) else c["ping_ms"])'
}
check "ps-bagru/gate's ping (series $block/icmp/cam:ps-bagru:gate) is in its row: $(bagru_ping)" \
    wait_for 10 eval '[ "$(bagru_ping)" = "0.0 ms" ]'
v_alarm() {
    api "/api/v1/alarms" | "$PY" -c 'import json, sys
for a in json.load(sys.stdin)["alarms"]:
    if a["type"] == "camera_offline" and a["entity"] == "cctv:ps-bagru":
        print(a["id"], a["node"], a["text"])'
}
t4=$(date +%s%N)
stack_sim camera off ps-bagru/gate >/dev/null
v_open() { [ -n "$(v_alarm)" ]; }
if wait_for $((5 * PROBE_INTERVAL + 5)) v_open; then
    ok "ps-bagru/gate off: alarm after $(( ($(date +%s%N) - t4) / 1000000 )) ms ($(v_alarm))"
    check "the alarm is the village's" \
        bash -c "grep -q '^[0-9]* $village camera offline at ps-bagru ($village): gate (1 of 1 camera)' <<<'$(v_alarm)'"
else
    not_ok "ps-bagru/gate off: a camera_offline alarm at $village" "$(api /api/v1/alarms | head -c 600)"
fi
stack_sim camera on ps-bagru/gate >/dev/null
check "and it clears when the camera is back" wait_for $((5 * PROBE_INTERVAL + 5)) eval '[ -z "$(v_alarm)" ]'

# --- the common publication path -------------------------------------------------------------------
check "the collector logged the raise and the clear of alarm $id" \
    bash -c "grep -q 'alarm $id raised (S2): camera offline at $station' '$run/collector.log' && grep -q 'alarm $id cleared' '$run/collector.log'"
check "the event store holds alarm $id and its events" \
    bash -c "[ \"\$(sqlite3 '$run/rrd/events.db' \"SELECT count(*) FROM alarm_events WHERE alarm_id = $id\")\" -ge 2 ]"
hooked() { grep -q "camera offline at $station" "$run/hooks" 2>/dev/null && [ "$(grep -c "camera offline at $station" "$run/hooks")" -ge 2 ]; }
check "the webhook got the raise and the clear" wait_for 10 hooked
check "the collector dropped no sample of a series outside its node's plan (ingest.h)" \
    bash -c "! grep -q 'its plan does not ask for' '$run/collector.log'"

stack_stop
reports=$(grep -l "ERROR: .*Sanitizer\|runtime error:" "$run/collector.log" "$run"/agents/*/agent.log 2>/dev/null)
check "collector and agents stop without a sanitizer report${reports:+ ($reports)}" test -z "$reports"

[ "$TEST_FAILS" -eq 0 ]
