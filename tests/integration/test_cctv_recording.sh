#!/usr/bin/env bash
# A police station's recording stream, end to end on the simulated RajNet (deploy/sim/topology.yaml:
# ps-sanganer at jaipur/sanganer says `recording: { ifname: cctv0 }`):
#  - rajnet-sim puts the station's NVR (10.77.11.60) in a station LAN namespace behind cctv0 and
#    runs a stand-in sender (deploy/sim/sim-rtp.py) streaming 25 pps of RTP from each camera's
#    address to it, so the stream crosses cctv0, where the block's agent captures it with its RTP
#    tracker (Plan.recordings, agent/vc_quality.h recording mode);
#  - the figures are stored in <block>/rec/ps-sanganer.rrd (read back with rrdtool) and shown in
#    GET /api/v1/cctv's row ("recording": streams 2, loss, jitter), and the dashboard's #/cctv;
#  - `rajnet-sim recording ps-sanganer loss 20`: an S3 recording_degraded alarm (entity
#    cctv:ps-sanganer:rec) in /api/v1/alarms and the row; heal (loss 0): cleared;
#  - `recording ps-sanganer off` (the cameras stop sending): an S2 one saying no stream reaches the
#    NVR; `on`: cleared. Raise and clear times are printed;
#  - it is not VC: no vc_quality alarm comes of it, no "rtp" series, no VC capture in the node's
#    or the services' VC views;
#  - the alarm went the common way (event store, collector log); `rajnet-sim down` stops the
#    sender.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

block=jaipur/sanganer station=ps-sanganer
INTERVAL=5 # Plan.recordings' interval (collector/ingest/plan.h, RN_PLAN_REC_INTERVAL_S)
run=$(mktemp -d /tmp/rn-cctv-rec-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
PY=/usr/bin/python3
HTTP=http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT
api() { curl -s --max-time 5 -H "Authorization: Bearer $STACK_VIEWER_TOKEN" "$HTTP$1"; }
now_ns() { date +%s%N; }
since_ms() { echo $(( ($(now_ns) - $1) / 1000000 )); }

if ! stack_start "$run"; then
    not_ok "the simulated RajNet, the collector and the agents start"
    exit 1
fi
ok "the simulated RajNet, the collector and the agents start"
ns=$(stack_sim ns "$block")
lan=rn-cctv-$station
check "rajnet-sim made the station LAN $lan with the NVR behind $block's cctv0" \
    bash -c "ip -n '$lan' -4 -o addr show dev lan0 | grep -q ' 10.77.11.60/32' && ip -n '$ns' route get 10.77.11.60 | grep -q 'dev cctv0'"
sender_pid=$(cat "/run/rajnet-sim/$ns/rtp-$station.pid" 2>/dev/null || echo "") # rajnet-sim's state
check "the stand-in sender streams to it (pid ${sender_pid:-none})" \
    bash -c "[ -n '$sender_pid' ] && kill -0 '$sender_pid'"

# --- the figures: the RRD file and the API ------------------------------------------------------
rrd=$run/rrd/$block/rec/$station.rrd
streams_are() { [ "$(rrd_last "$rrd" streams)" = "$1" ]; }
t0=$(now_ns)
if wait_for 60 streams_are 2; then
    ok "$block's agent watches the stream on cctv0: $rrd says 2 streams after $(since_ms "$t0") ms"
else
    not_ok "$rrd says 2 streams" "$(rrdtool lastupdate "$rrd" 2>&1 | tr '\n' ' ')"
fi
sleep "$INTERVAL" # one whole interval more, both streams out of probation
pkts=$(rrd_last "$rrd" packets) loss=$(rrd_last "$rrd" loss_pct) jit=$(rrd_last "$rrd" jitter_ms)
check "rrdtool reads it back: $pkts packets in ${INTERVAL} s (2 x 25 pps), loss $loss %, jitter $jit ms" \
    "$PY" -c "import sys; p, l, j = map(float, sys.argv[1:]); sys.exit(not (200 <= p <= 300 and l <= 2 and 0 <= j < 50))" "$pkts" "$loss" "$jit"

# rec_row: "state streams loss_pct alarm_id|0" of the station's recording in GET /api/v1/cctv
rec_row() {
    api "/api/v1/cctv?district=jaipur" | "$PY" -c 'import json, sys
for s in json.load(sys.stdin)["stations"]:
    if s["station"] == sys.argv[1]:
        r = s["recording"]
        if r is None:
            print("null"); break
        f = lambda v: "null" if v is None else "%g" % v
        print(r["state"], f(r["streams"]), "loss" if isinstance(r["loss_pct"], (int, float)) and r["loss_pct"] <= 2 else f(r["loss_pct"]), r["alarm_id"] or 0, r["ifname"])' "$station"
}
rec_is() { [ "$(rec_row)" = "$1" ]; }
check "GET /api/v1/cctv: $station's recording is ok, 2 streams, loss within 2 %, no alarm ($(rec_row))" \
    wait_for 10 rec_is "ok 2 loss 0 cctv0"
other=$(api "/api/v1/cctv?district=ajmer" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["stations"][0]["recording"])')
check "a station without recording: has \"recording\": null (ps-kishangarh: $other)" test "$other" = None

# alarms TYPE: "id cleared_ms|open severity node entity text" of every alarm of that type
alarms() {
    api "/api/v1/alarms?state=all" | "$PY" -c 'import json, sys
flat = []
for a in json.load(sys.stdin)["alarms"]:
    flat.append(a)
    flat.extend(a.get("symptoms") or [])
for a in flat:
    if a["type"] == sys.argv[1]:
        print(a["id"], a["cleared_ms"] or "open", a["severity"], a["node"], a["entity"], a["text"])' "$1"
}
check "no recording_degraded alarm while the stream is whole" test -z "$(alarms recording_degraded)"

# --- loss on the stream -------------------------------------------------------------------------
stack_sim recording "$station" loss 20 >/dev/null
t1=$(now_ns)
open_one() { alarms recording_degraded | grep -q ' open '; }
if wait_for $((4 * INTERVAL + 5)) open_one; then
    raise_loss_ms=$(since_ms "$t1")
    line=$(alarms recording_degraded | grep ' open ')
    id=${line%% *}
    ok "20% loss: recording_degraded alarm $id after $raise_loss_ms ms (2 bad ${INTERVAL} s intervals)"
    check "S3 at $block, entity cctv:$station:rec, its text gives the loss ($line)" \
        bash -c "grep -q '^$id open 3 $block cctv:$station:rec recording degraded at $station ($block): [0-9.]*% loss on the stream to NVR 10.77.11.60 (limit 2%, watched on cctv0)' <<<'$line'"
else
    id=""
    not_ok "20% loss: a recording_degraded alarm" "$(alarms recording_degraded)"
fi
lossy() { [[ "$(rec_row)" =~ ^degraded\ 2\ ([0-9.]+)\ ${id:-x}\ cctv0$ ]] && "$PY" -c "import sys; sys.exit(not 10 <= float(sys.argv[1]) <= 30)" "${BASH_REMATCH[1]}"; }
check "the API's row: degraded, about 20 % loss, alarm ${id:-?} ($(rec_row))" wait_for 10 lossy
loss_rrd=$(rrd_last "$rrd" loss_pct)
check "and the RRD file: loss_pct $loss_rrd" "$PY" -c "import sys; sys.exit(not 10 <= float(sys.argv[1]) <= 30)" "$loss_rrd"

browser=$STACK_REPO/tests/browser
if browser_ready; then
    RAJNET_HTTP=$HTTP RAJNET_CCTV_STATIONS=ps-sanganer RAJNET_CCTV_REC=degraded \
        node "$browser/cctv.test.mjs" jaipur "$station" gate=up lockup=up || TEST_FAILS=$((TEST_FAILS + 1))
    have_browser=1
else
    have_browser=0
fi

# it is not VC: no vc_quality alarm at the block, nothing of the station in the VC views
check "no vc_quality alarm came of it ($(alarms vc_quality | wc -l) in all)" \
    bash -c "! grep -q ' $block ' <<<'$(alarms vc_quality)'"
series=$(api "/api/v1/series?node=$block" | "$PY" -c 'import json, sys
print(" ".join(sorted("%s/%s" % (s["source"], s["object"]) for s in json.load(sys.stdin)["series"] if s["object"] == sys.argv[1])))' "$station")
check "its only series is rec/$station, no rtp, tcphs or pcap one ($series)" test "$series" = "rec/$station"
vc_node=$(api "/api/v1/nodes/jaipur%2Fsanganer" | "$PY" -c 'import json, sys; print(" ".join(v["capture"] for v in json.load(sys.stdin)["vc"]) or "none")')
check "the node's VC view lists no capture $station (captures: $vc_node)" bash -c "! grep -qw '$station' <<<'$vc_node'"
vc_svc=$(api "/api/v1/services" | "$PY" -c 'import json, sys
print(" ".join("%s:%s" % (q.get("node"), q.get("capture")) for s in json.load(sys.stdin)["services"] for q in s.get("vc_quality", [])) or "none")')
check "the services' VC views list no capture $station ($vc_svc)" bash -c "! grep -q ':$station' <<<'$vc_svc'"

stack_sim recording "$station" loss 0 >/dev/null
t2=$(now_ns)
cleared() { [ -n "$id" ] && alarms recording_degraded | grep -q "^$id [0-9]"; }
if wait_for $((4 * INTERVAL + 5)) cleared; then
    clear_loss_ms=$(since_ms "$t2")
    ok "healed: alarm $id cleared after $clear_loss_ms ms (2 good intervals)"
else
    not_ok "healed: alarm $id cleared" "$(alarms recording_degraded)"
fi
check "the API's row is ok again ($(rec_row))" wait_for 10 rec_is "ok 2 loss 0 cctv0"

# --- no stream at all -----------------------------------------------------------------------------
stack_sim recording "$station" off >/dev/null
t3=$(now_ns)
open_s2() { alarms recording_degraded | grep -q ' open 2 '; }
if wait_for $((4 * INTERVAL + 5)) open_s2; then
    raise_off_ms=$(since_ms "$t3")
    line=$(alarms recording_degraded | grep ' open ')
    id2=${line%% *}
    ok "sender off: S2 recording_degraded alarm $id2 after $raise_off_ms ms"
    check "its text says no stream reaches the NVR ($line)" \
        bash -c "grep -q 'recording degraded at $station ($block): no stream from its 2 cameras reaches NVR 10.77.11.60 (watched on cctv0)' <<<'$line'"
else
    id2=""
    not_ok "sender off: an S2 recording_degraded alarm" "$(alarms recording_degraded)"
fi
check "the API's row: degraded, 0 streams ($(rec_row))" wait_for 10 rec_is "degraded 0 null ${id2:-x} cctv0"
check "and the RRD file: streams $(rrd_last "$rrd" streams)" streams_are 0
check "the cameras still answer RTSP: no camera_offline alarm ($(alarms camera_offline | wc -l))" \
    test -z "$(alarms camera_offline)"
stack_sim recording "$station" on >/dev/null
t4=$(now_ns)
cleared2() { [ -n "$id2" ] && alarms recording_degraded | grep -q "^$id2 [0-9]"; }
if wait_for $((4 * INTERVAL + 5)) cleared2; then
    clear_on_ms=$(since_ms "$t4")
    ok "sender on: alarm $id2 cleared after $clear_on_ms ms"
else
    not_ok "sender on: alarm $id2 cleared" "$(alarms recording_degraded)"
fi
check "the API's row is ok again ($(rec_row))" wait_for 10 rec_is "ok 2 loss 0 cctv0"
if [ "$have_browser" = 1 ]; then
    RAJNET_HTTP=$HTTP RAJNET_CCTV_STATIONS=ps-sanganer RAJNET_CCTV_REC=ok \
        node "$browser/cctv.test.mjs" jaipur "$station" gate=up lockup=up || TEST_FAILS=$((TEST_FAILS + 1))
fi
# rrdtool fetch over the run: one row per 5 s step, streams 2 but where the loss or the stop was
fetched=$(rrdtool fetch "$rrd" AVERAGE -r "$INTERVAL" -s -90 2>/dev/null | awk '$1 ~ /:$/ && $2 ~ /^[0-9]/ { n++; if ($2 + 0 >= 1.5) two++ } END { print n + 0, two + 0 }')
check "rrdtool fetch of the last 90 s: $fetched (rows with figures, rows with 2 streams)" \
    bash -c "set -- $fetched; [ \$1 -ge 8 ] && [ \$2 -ge 5 ]"
echo "# times: loss raise ${raise_loss_ms:-?} ms, clear ${clear_loss_ms:-?} ms; no stream raise ${raise_off_ms:-?} ms, clear ${clear_on_ms:-?} ms (interval ${INTERVAL} s)"

# --- the common path --------------------------------------------------------------------------------
check "the event store holds both alarms as recording_degraded" \
    bash -c "[ \"\$(sqlite3 '$run/rrd/events.db' \"SELECT count(DISTINCT id) FROM alarms WHERE type = 'recording_degraded'\" 2>/dev/null)\" = 2 ]"
check "the collector logged alarm ${id:-?}'s raise and clear" \
    bash -c "grep -q 'alarm $id raised (S3): recording degraded at $station' '$run/collector.log' && grep -q 'alarm $id cleared' '$run/collector.log'"
check "the collector dropped no sample of a series outside its node's plan" \
    bash -c "! grep -q 'its plan does not ask for' '$run/collector.log'"

sim_pid=$sender_pid
stack_stop
trap 'rm -rf "$run"' EXIT
senders=$(pgrep -f "sim-rtp.py --name $station" | tr '\n' ' ')
check "rajnet-sim down stopped the sender (left: ${senders:-none}) and removed $lan" \
    bash -c "[ -z '$senders' ] && ! ip netns list | grep -qw '$lan' && ! kill -0 '${sim_pid:-0}' 2>/dev/null"
reports=$(grep -l "ERROR: .*Sanitizer\|runtime error:" "$run/collector.log" "$run"/agents/*/agent.log 2>/dev/null)
check "collector and agents stop without a sanitizer report${reports:+ ($reports)}" test -z "$reports"

[ "$TEST_FAILS" -eq 0 ]
