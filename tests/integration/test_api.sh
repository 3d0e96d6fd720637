#!/usr/bin/env bash
# The collector's HTTP API (docs/api.md) on the simulated RajNet, from the outside, as the
# dashboard, Prometheus and an operator with rajnetctl would use it:
#  - every read endpoint answers with the documented shape (checked by api_check.py);
#  - bad input is a 4xx with {"error": ...} naming the parameter: unknown node, bad time, bad
#    format, unknown parameter, malformed JSON body, unknown route (404), wrong method (405);
#  - cutting JPR-MPLS-0042 gives a root alarm in /api/v1/alarms and an "alarm" event on
#    /api/v1/events; ack without a token is 401, with the viewer token 403, with the operator
#    token 200 and the alarm shows acked_by;
#  - /metrics passes promtool check metrics;
#  - graphs: a PNG is a PNG (magic), an SVG parses as XML;
#  - 500 idle TCP connections to the HTTP port do not slow ingest: the probe RRDs keep updating
#    every probe interval while they are open, and /api/v1/status answers in < 1 s;
#  - rajnetctl status, alarms, ack, maintenance add/list and graph, with and without --json.
#   RAJNET_HTTP_PORT   the HTTP port the stack's collector serves (default 8080)
set -uo pipefail
export RAJNET_MGMT=oob # live evidence from below the cut: unreachable_from lists the agents below it
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

PROBE_INTERVAL=2
HTTP="http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT"
OP="Authorization: Bearer $STACK_OPERATOR_TOKEN"
VIEW="Authorization: Bearer $STACK_VIEWER_TOKEN"
CTL="$STACK_BUILD/ctl/rajnetctl"
PY=/usr/bin/python3
run=$(mktemp -d /tmp/rn-api-XXXXXX)
trap 'kill "${sse_pid:-}" 2>/dev/null; stack_sim heal JPR-MPLS-0042 >/dev/null 2>&1; stack_stop; rm -rf "$run"' EXIT

# get PATH [CURL ARGS...]: body in $run/body, status in $code, seconds in $secs
get() {
    local path=$1; shift
    read -r code secs < <(curl -s -o "$run/body" -w '%{http_code} %{time_total}\n' --max-time 10 "$@" "$HTTP$path")
}
shape() { "$PY" "$here/api_check.py" "$1" < "$run/body"; }
error_names() { # error_names WORD: the body is {"error": ...} and the reason mentions WORD
    shape error && grep -q -- "$1" "$run/body"
}
expect() { # expect NAME STATUS WORD PATH [CURL ARGS...]
    local name=$1 want=$2 word=$3 path=$4; shift 4
    get "$path" "$@"
    if [ "$code" = "$want" ] && error_names "$word"; then
        ok "$name: $want $(cat "$run/body")"
    else
        not_ok "$name" "got $code $(head -c 300 "$run/body")"
    fi
}

if ! stack_start "$run" 2>"$run/stack.err"; then
    not_ok "the simulated RajNet, the collector (with http) and the agents start" "$(cat "$run/stack.err")"
    exit 1
fi
ok "the simulated RajNet, the collector (with http on $HTTP) and the agents start"

agents_in() { get /api/v1/status && [ "$code" = 200 ] &&
    [ "$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["agents_connected"])' < "$run/body")" = 6 ]; }
check "/api/v1/status reports all 6 agents connected" wait_for 60 agents_in
# the three villages have no agent: their state depends on probes from their blocks (not asserted)
nodes_up() { get /api/v1/nodes && "$PY" -c '
import json, sys
st = {n["id"]: n["status"] for n in json.load(sys.stdin)["nodes"]}
agents = ["sdc", "jaipur", "ajmer", "jaipur/sanganer", "jaipur/amer", "ajmer/kishangarh"]
sys.exit(len(st) != 9 or any(st.get(n) != "up" for n in agents))' < "$run/body"; }
check "all 9 nodes are listed and the 6 with an agent are up" wait_for 60 nodes_up
has_probes() { get "/api/v1/nodes/jaipur" && "$PY" -c 'import json,sys; sys.exit(not json.load(sys.stdin)["probes"])' < "$run/body"; }
wait_for 30 has_probes

# --- 1. shapes ------------------------------------------------------------------------------------
for ep in status nodes links services alarms series; do
    get "/api/v1/$ep"
    if [ "$code" = 200 ] && shape "$ep" 2>"$run/why"; then ok "GET /api/v1/$ep has the documented shape"
    else not_ok "GET /api/v1/$ep has the documented shape" "$code $(cat "$run/why") $(head -c 200 "$run/body")"; fi
done
get "/api/v1/nodes/jaipur%2Fsanganer"
if [ "$code" = 200 ] && shape node 2>"$run/why" && grep -q '"id":"jaipur/sanganer"' "$run/body"; then
    ok "GET /api/v1/nodes/jaipur%2Fsanganer: a Node with interfaces, probes, alarms, outages"
else not_ok "GET /api/v1/nodes/jaipur%2Fsanganer" "$code $(cat "$run/why") $(head -c 300 "$run/body")"; fi
"$PY" - "$run/body" <<'PY' && ok "node detail: interfaces carry in/out bit rates and speed, probes RTT and loss" || not_ok "node detail has live values" "$(head -c 400 "$run/body")"
import json, sys
j = json.load(open(sys.argv[1]))
i = [x for x in j["interfaces"] if x["ifname"] == "wan0"]
p = [x for x in j["probes"] if x["target"] == "jaipur"]
sys.exit(not (i and i[0]["speed_bps"] and i[0]["oper"] == "up" and p and p[0]["loss_pct"] is not None))
PY
get "/api/v1/outages"; events=$code
if [ "$code" = 200 ] && shape outages; then ok "GET /api/v1/outages has the documented shape"
elif [ "$code" = 503 ]; then ok "GET /api/v1/outages # SKIP the collector has no event store wired ($(cat "$run/body"))"
else not_ok "GET /api/v1/outages" "$code $(head -c 200 "$run/body")"; fi
get "/api/v1/maintenance"
if [ "$code" = 200 ] && shape maintenance; then ok "GET /api/v1/maintenance has the documented shape"
elif [ "$code" = 503 ]; then ok "GET /api/v1/maintenance # SKIP no event store"
else not_ok "GET /api/v1/maintenance" "$code $(head -c 200 "$run/body")"; fi

# --- 2. bad input ---------------------------------------------------------------------------------
expect "unknown node" 404 "jaipur/nowhere" "/api/v1/nodes/jaipur%2Fnowhere"
expect "bad time (since=yesterday)" 400 "since" "/api/v1/alarms?since=yesterday"
expect "bad state" 400 "state" "/api/v1/alarms?state=open"
expect "bad limit" 400 "limit" "/api/v1/alarms?limit=-5"
expect "unknown query parameter" 400 "colour" "/api/v1/nodes?colour=red"
expect "graph: bad time" 400 "from" "/api/v1/graph?node=jaipur&source=icmp&object=sdc&from=last-week"
expect "graph: bad format" 400 "format" "/api/v1/graph?node=jaipur&source=icmp&object=sdc&format=gif"
expect "graph: unknown node" 404 "node" "/api/v1/graph?node=udaipur&source=icmp&object=sdc"
expect "graph: bad source" 400 "source" "/api/v1/graph?node=jaipur&source=snmp&object=sdc"
expect "graph: if without device" 400 "device" "/api/v1/graph?node=jaipur&source=if&object=wan0"
expect "graph: from after to" 400 "to" "/api/v1/graph?node=jaipur&source=icmp&object=sdc&from=-60&to=-3600"
expect "series: unknown node" 404 "node" "/api/v1/series?node=udaipur"
expect "outages: bad time" 400 "from" "/api/v1/outages?from=abc"
expect "unknown route" 404 "/api/v2/nodes" "/api/v2/nodes"
expect "wrong method" 405 "GET" "/api/v1/nodes" -X DELETE
expect "malformed JSON body" 400 "body" "/api/v1/maintenance" -X POST -H "$OP" --data '{"entity": "jaipur",'
expect "body that is not an object" 400 "body" "/api/v1/maintenance" -X POST -H "$OP" --data '[1,2]'
expect "maintenance: unknown entity" 400 "entity" "/api/v1/maintenance" -X POST -H "$OP" \
    --data '{"entity": "udaipur", "start_ms": 1, "end_ms": 2}'
expect "maintenance: end before start" 400 "end_ms" "/api/v1/maintenance" -X POST -H "$OP" \
    --data '{"entity": "jaipur", "start_ms": 5000, "end_ms": 10}'
expect "ack: bad alarm id" 400 "id" "/api/v1/alarms/abc/ack" -X POST -H "$OP"
expect "write without a token" 401 "Authorization" "/api/v1/maintenance" -X POST --data '{}'
expect "write with an unknown token" 401 "Authorization" "/api/v1/maintenance" -X POST -H "Authorization: Bearer nope-nope-nope" --data '{}'
expect "write with the viewer token" 403 "viewer" "/api/v1/maintenance" -X POST -H "$VIEW" --data '{}'
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
expect "body over 64 KiB" 413 "body" "/api/v1/maintenance" -X POST -H "$OP" --data "{\"reason\": \"$big\"}"

# --- 3. /metrics ----------------------------------------------------------------------------------
curl -s --max-time 10 "$HTTP/metrics" > "$run/metrics"
if promtool check metrics < "$run/metrics" > "$run/promtool" 2>&1; then
    ok "promtool check metrics passes on /metrics ($(grep -vc '^#' "$run/metrics") samples, $(grep -c '^# TYPE' "$run/metrics") families)"
else
    not_ok "promtool check metrics passes on /metrics" "$(head -5 "$run/promtool")"
fi
for m in 'rajnet_node_up{node="jaipur",tier="district",district="jaipur"} 1' 'rajnet_link_up{circuit="JPR-MPLS-0042",vendor="bsnl",node="jaipur"} 1' \
         'rajnet_service_reachable{node="jaipur/amer",service="vc"} 1' 'rajnet_probe_loss_ratio{node="jaipur",target="sdc"}' \
         'rajnet_interface_octets_total{node="jaipur",device="rtr1",ifname="wan0",direction="in"}' \
         'rajnet_collector_agents_connected 6' 'rajnet_collector_samples_total'; do
    check "/metrics has $m" grep -qF "$m" "$run/metrics"
done
ct=$(curl -s -o /dev/null -w '%{content_type}' "$HTTP/metrics")
check "/metrics is served as text/plain; version=0.0.4 ($ct)" grep -q "version=0.0.4" <<<"$ct"
tail -1 "$run/metrics" | grep -qx '# EOF' && ok "/metrics ends with # EOF" || not_ok "/metrics ends with # EOF"
curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' "$HTTP/metrics" > "$run/om"
check "OpenMetrics dialect on request: counter families without _total" grep -q '^# TYPE rajnet_interface_octets counter' "$run/om"

# --- 4. graphs ------------------------------------------------------------------------------------
get "/api/v1/graph?node=jaipur&source=icmp&object=sdc&from=-600&format=png"
if [ "$code" = 200 ] && [ "$(head -c 8 "$run/body" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
    ok "RTT graph (SmokePing view) is a PNG: $(stat -c %s "$run/body") bytes in ${secs}s"
else not_ok "RTT graph is a PNG" "$code $(head -c 200 "$run/body")"; fi
get "/api/v1/graph?node=jaipur&source=if&device=rtr1&object=wan0&from=-600&format=svg"
if [ "$code" = 200 ] && "$PY" -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(not r.tag.endswith("svg"))' "$run/body"; then
    ok "traffic graph as SVG parses as XML with an <svg> root ($(stat -c %s "$run/body") bytes)"
else not_ok "traffic graph SVG parses" "$code $(head -c 200 "$run/body")"; fi
get "/api/v1/graph?node=jaipur&source=icmp&object=sdc&view=jitter"
check "jitter graph renders" [ "$code" = 200 ]

# VC media quality and service probes (issue 8): jaipur's agent reports its VC capture "vc" every
# 5 s (no media flows here, so MOS is unknown but the series exist) and probes vc and emitra.
is_png() { [ "$code" = 200 ] && [ "$(head -c 8 "$run/body" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
vc_series() { [ -f "$(stack_rrd jaipur rtp vc)" ] && [ -f "$(stack_rrd jaipur tcphs vc)" ] &&
              [ -f "$(stack_rrd jaipur tcp vc-1720)" ] && [ -f "$(stack_rrd jaipur http emitra-http)" ]; }
check "jaipur has rtp, tcphs, tcp and http series" wait_for 30 vc_series
for q in "rtp&object=vc" "rtp&object=vc&view=loss" "rtp&object=vc&view=jitter" "tcphs&object=vc" \
         "tcp&object=vc-1720" "http&object=emitra-http"; do
    get "/api/v1/graph?node=jaipur&source=$q&from=-600&format=png"
    if is_png; then ok "graph source=$q is a PNG: $(stat -c %s "$run/body") bytes in ${secs}s"
    else not_ok "graph source=$q is a PNG" "$code $(head -c 200 "$run/body")"; fi
done
get "/api/v1/graph?node=jaipur&source=rtp&object=vc"
check "graph source=rtp defaults to the MOS view" is_png
expect "graph: a view of another source" 400 "view" "/api/v1/graph?node=jaipur&source=rtp&object=vc&view=rtt"
expect "graph: the error lists the source's views" 400 "mos, loss, jitter" "/api/v1/graph?node=jaipur&source=rtp&object=vc&view=pie"
expect "graph: device on a capture" 400 "device" "/api/v1/graph?node=jaipur&source=rtp&device=rtr1&object=vc"
expect "graph: capture without object" 400 "object" "/api/v1/graph?node=jaipur&source=tcphs"
expect "graph: bad width" 400 "width" "/api/v1/graph?node=jaipur&source=rtp&object=vc&width=5"
expect "graph: unknown capture" 404 "RRD" "/api/v1/graph?node=jaipur&source=rtp&object=nosuch"
get "/api/v1/nodes/jaipur"
"$PY" - "$run/body" <<'PY' && ok "node detail lists jaipur's VC capture with packets, MOS/loss/jitter (null without media), handshakes and a fresh time" || not_ok "node detail has the VC capture" "$(head -c 600 "$run/body")"
import json, sys, time
j = json.load(open(sys.argv[1]))
v = [x for x in j.get("vc", []) if x["capture"] == "vc"]
keys = {"capture", "packets", "loss_pct", "jitter_ms", "mos", "streams", "handshakes", "handshake_ms", "time_ms"}
sys.exit(not (v and keys <= v[0].keys() and v[0]["packets"] is not None and
              abs(time.time() * 1000 - v[0]["time_ms"]) < 30000 and
              all(v[0][k] is None or isinstance(v[0][k], (int, float)) for k in keys - {"capture"})))
PY
vc_offices() { get "/api/v1/services" && "$PY" - "$run/body" <<'PY'
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["services"]}
q = s["vc"].get("vc_quality", [])
nodes = sorted(x["node"] for x in q)
sys.exit(not (nodes == sorted(["jaipur", "ajmer", "jaipur/sanganer", "jaipur/amer", "ajmer/kishangarh"]) and
              all(x["capture"] == "vc" and "mos" in x and "loss_pct" in x and "jitter_ms" in x for x in q) and
              "vc_quality" not in s["emitra"]))
PY
}
if wait_for 20 vc_offices; then ok "services: vc lists vc_quality per capturing office (every node but sdc), egov services do not"
else not_ok "services carry vc_quality" "$(head -c 600 "$run/body")"; fi

# --- 5. idle connections do not slow ingest -------------------------------------------------------
rrd=$(stack_rrd ajmer icmp sdc)
"$PY" "$here/idle_clients.py" "$STACK_HTTP_ADDR" "$STACK_HTTP_PORT" 127.0.0.2 500 14 > "$run/idle" &
idle_pid=$!
sleep 1
worst=0; late=0; slow=0
for i in $(seq 6); do
    t_before=$(rrd_last_time "$rrd")
    get /api/v1/status
    [ "$code" = 200 ] && awk -v s="$secs" 'BEGIN { exit !(s < 1.0) }' || slow=$((slow + 1))
    awk -v s="$secs" -v w="$worst" 'BEGIN { exit !(s > w) }' && worst=$secs
    sleep "$PROBE_INTERVAL"
    t_after=$(rrd_last_time "$rrd")
    [ -n "$t_after" ] && [ "$t_after" -gt "${t_before:-0}" ] || late=$((late + 1))
done
wait "$idle_pid"
idle=$(tr '\n' ' ' < "$run/idle")
if [ "$late" -le 1 ] && [ "$slow" = 0 ]; then
    ok "500 idle connections from 127.0.0.2 ($idle): probe RRD kept updating ($late late of 6 intervals), /api/v1/status worst ${worst}s"
else
    not_ok "500 idle connections do not slow ingest" "$idle; $late of 6 probe intervals without an update, $slow status calls >= 1 s (worst ${worst}s)"
fi
get /api/v1/status
check "the server answers after the idle clients are gone" [ "$code" = 200 ]

# --- 6. alarms, SSE, ack --------------------------------------------------------------------------
curl -s -N --max-time 40 "$HTTP/api/v1/events" > "$run/sse" 2>/dev/null &
sse_pid=$!
sleep 1
stack_sim cut JPR-MPLS-0042
alarm_id() {
    get "/api/v1/alarms" && "$PY" - "$run/body" > "$run/alarm_id" <<'PY'
import json, sys
for a in json.load(open(sys.argv[1]))["alarms"]:
    if a["circuit"] == "JPR-MPLS-0042" and a["root_id"] == 0 and a["cleared_ms"] is None:
        print(a["id"]); sys.exit(0)
sys.exit(1)
PY
}
if wait_for 30 alarm_id; then
    id=$(cat "$run/alarm_id")
    shape alarms && ok "cut JPR-MPLS-0042: root alarm $id in /api/v1/alarms with symptoms, documented shape" \
        || not_ok "alarms shape after the cut" "$(head -c 300 "$run/body")"
else
    id=""; not_ok "cut JPR-MPLS-0042 gives a root alarm in /api/v1/alarms within 30 s" "$(head -c 300 "$run/body")"
fi
sse_alarm() { grep -q '^event: alarm' "$run/sse" && grep -q '"kind":"raised"' "$run/sse"; }
check "/api/v1/events streamed the raised alarm" wait_for 10 sse_alarm
get /api/v1/services
check "services: vc is unreachable from jaipur and its blocks" "$PY" -c '
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["services"]}
got = {u["node"] for u in s["vc"]["unreachable_from"]}
need = {"jaipur", "jaipur/sanganer", "jaipur/amer"}
sys.exit(not need <= got <= need | {"jaipur/sanganer/gp-bagru", "jaipur/amer/gp-kunda"})' "$run/body"
if [ -n "$id" ]; then
    expect "ack without a token" 401 "Authorization" "/api/v1/alarms/$id/ack" -X POST --data '{"comment": "x"}'
    expect "ack with the viewer token" 403 "viewer" "/api/v1/alarms/$id/ack" -X POST -H "$VIEW" --data '{"comment": "x"}'
    get "/api/v1/alarms/$id/ack" -X POST -H "$OP" --data '{"comment": "BSNL docket 4711"}'
    if [ "$code" = 200 ] && shape alarm && grep -q '"acked_by":"demo-operator"' "$run/body"; then
        ok "ack with the operator token: 200, acked_by demo-operator"
        acked() { get "/api/v1/alarms" && grep -q '"acked_by":"demo-operator"' "$run/body"; }
        check "the alarm shows acked_by in /api/v1/alarms" wait_for 5 acked
    elif [ "$code" = 503 ]; then
        ok "ack with the operator token # SKIP no event store wired ($(cat "$run/body"))"
    else
        not_ok "ack with the operator token" "$code $(head -c 300 "$run/body")"
    fi
    expect "ack of an unknown alarm" 404 "999999" "/api/v1/alarms/999999/ack" -X POST -H "$OP" --data '{}'
fi

# --- 7. rajnetctl ---------------------------------------------------------------------------------
export RAJNET_URL=$HTTP
"$CTL" status > "$run/ctl" 2>&1 && grep -q "JPR\|jaipur" "$run/ctl" && grep -q "^NODE" "$run/ctl" \
    && ok "rajnetctl status prints a table ($(wc -l < "$run/ctl") lines)" || not_ok "rajnetctl status" "$(head -5 "$run/ctl")"
"$CTL" --json status | "$PY" -c 'import json,sys; sys.exit(json.load(sys.stdin)["nodes"]["total"] != 9)' \
    && ok "rajnetctl --json status is JSON" || not_ok "rajnetctl --json status"
"$CTL" alarms > "$run/ctl" 2>&1 && grep -q "link_down" "$run/ctl" \
    && ok "rajnetctl alarms lists the link_down root" || not_ok "rajnetctl alarms" "$(head -5 "$run/ctl")"
"$CTL" --json alarms | "$PY" "$here/api_check.py" alarms && ok "rajnetctl --json alarms has the API's shape" || not_ok "rajnetctl --json alarms"
"$CTL" ack 1 > /dev/null 2>"$run/ctl"; rc=$?
[ "$rc" = 1 ] && grep -q "401" "$run/ctl" && ok "rajnetctl ack without a token exits 1 with the reason: $(cat "$run/ctl")" \
    || not_ok "rajnetctl ack without a token" "rc $rc $(cat "$run/ctl")"
if [ "$events" = 200 ]; then
    if [ -n "$id" ]; then
        RAJNET_TOKEN=$STACK_OPERATOR_TOKEN "$CTL" ack "$id" --comment "from rajnetctl" > "$run/ctl" 2>&1 \
            && ok "rajnetctl ack $id: $(cat "$run/ctl")" || not_ok "rajnetctl ack" "$(cat "$run/ctl")"
    fi
    RAJNET_TOKEN=$STACK_OPERATOR_TOKEN "$CTL" --json maintenance add jaipur/amer --start now --end +1h \
        --reason "radio mast work" > "$run/body" 2>&1 && shape window \
        && ok "rajnetctl maintenance add: 201 with the window" || not_ok "rajnetctl maintenance add" "$(cat "$run/body")"
    "$CTL" maintenance list > "$run/ctl" 2>&1 && grep -q "radio mast work" "$run/ctl" && grep -q demo-operator "$run/ctl" \
        && ok "rajnetctl maintenance list shows it with who created it" || not_ok "rajnetctl maintenance list" "$(cat "$run/ctl")"
else
    ok "rajnetctl ack / maintenance add|list # SKIP no event store wired"
fi
(cd "$run" && "$CTL" graph jaipur --source icmp --object sdc --from -600 -o rtt.png > ctl 2>&1) \
    && [ "$(head -c 4 "$run/rtt.png" | od -An -c | tr -d ' ')" = "211PNG" ] \
    && ok "rajnetctl graph saves a PNG: $(cat "$run/ctl")" || not_ok "rajnetctl graph" "$(cat "$run/ctl")"

# --- 7b. HTTPS: the optional http.tls section -----------------------------------------------------
# A second collector (its own data, agents' port and HTTP port) serving its API over TLS with a
# certificate from the state CA.
"$STACK_REPO/deploy/pki/rajnet-pki" collector "$run/pki" https-api --ip 127.0.0.1 >/dev/null
sed -e "s|^listen: .*|listen: 127.0.0.1:17499|" -e "s|^data_dir: .*|data_dir: $run/https-data|" \
    -e "s|^  listen: .*|  listen: 127.0.0.1:18443\n  tls: { cert: $run/pki/https-api.crt, key: $run/pki/https-api.key }|" \
    "$run/collector.yaml" > "$run/https.yaml"
"$STACK_BUILD/collector/rajnet-collector" -c "$run/https.yaml" > "$run/https.log" 2>&1 &
https_pid=$!
https_up() { curl -sf --cacert "$run/pki/ca.crt" https://127.0.0.1:18443/api/v1/status > "$run/https.json"; }
if wait_for 10 https_up && python3 -c 'import json,sys; json.load(open(sys.argv[1]))["version"]' "$run/https.json"; then
    ok "with http.tls the API answers over HTTPS, verified against the state CA"
else
    not_ok "the API over HTTPS" "$(tail -3 "$run/https.log")"
fi
check "and refuses plain HTTP on that port" bash -c "! curl -sf -m 3 http://127.0.0.1:18443/api/v1/status"
kill "$https_pid" 2>/dev/null; wait "$https_pid" 2>/dev/null

# --- 8. heal --------------------------------------------------------------------------------------
stack_sim heal JPR-MPLS-0042
cleared() { grep -q '"kind":"cleared"' "$run/sse"; }
check "healing JPR-MPLS-0042 streams a cleared event" wait_for 30 cleared
kill "$sse_pid" 2>/dev/null
sse_pid=""
check "the collector log has no HTTP errors" bash -c "! grep -q 'http:.*error\|http: cannot' '$run/collector.log'"
exit $((TEST_FAILS > 0))
