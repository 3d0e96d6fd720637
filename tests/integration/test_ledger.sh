#!/usr/bin/env bash
# The outage ledger across a collector crash (docs/outages.md), on the simulated RajNet:
# AJM-KSG-LL-2210 (RailTel) is cut for 60 s; 20 s into the cut the collector is killed with
# SIGKILL and started again 15 s later; the link heals at 60 s. Then:
#  - there is exactly one outage row for the circuit (GET /api/v1/outages and sqlite3 on the
#    event store agree), it is closed, refined from the probe files, and lasts 60 ± 2 s;
#  - no link_down alarm of the circuit is left active (the one from before the crash is cleared
#    as superseded, the new one cleared by the heal);
#  - the SLA report charges the link 60 ± 2 s, the same figure as the row (± 0.01 s).
set -uo pipefail
export RAJNET_MGMT=oob # agents keep their management path during a cut (today's simulation)
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

run=$(mktemp -d /tmp/rn-ledger-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
# The sim's block class lists outages under 60 s without counting them: a cut of 60 ± 1 s must
# count, whichever side of 60 s it falls.
sed 's/min_outage_s: 60/min_outage_s: 10/' "$STACK_REPO/deploy/sim/topology.yaml" > "$run/topology.yaml"
export RAJNET_TOPOLOGY=$run/topology.yaml
STACK_TOPOLOGY=$RAJNET_TOPOLOGY
CIRCUIT=AJM-KSG-LL-2210
api() { curl -s -H "Authorization: Bearer $STACK_VIEWER_TOKEN" \
        "http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT$1"; }
now_ms() { date +%s%3N; }

stack_start "$run" || { not_ok "stack starts"; exit 1; }
sleep 12
t0=$(now_ms) # the report's period starts 2 s before the cut, so it does not clip the row
sleep 2
a=$(now_ms); stack_sim cut "$CIRCUIT" >/dev/null; b=$(now_ms)
sleep 20
kill -9 "$(cat "$run/collector.pid")"
wait "$(cat "$run/collector.pid")" 2>/dev/null
check "the collector is killed 20 s into the cut" bash -c "! kill -0 $(cat "$run/collector.pid") 2>/dev/null"
sleep 15
stack_start_collector || not_ok "the collector starts again"
# heal 60 s after the cut
sleep $(( (a + 60000 - $(now_ms)) / 1000 )).$(( (a + 60000 - $(now_ms)) % 1000 / 100 ))
c=$(now_ms); stack_sim heal "$CIRCUIT" >/dev/null; d=$(now_ms)
injected=$(( (c + d) / 2 - (a + b) / 2 ))
echo "# injected cut: $injected ms"
# the heal is seen within a few rounds; the first refinement runs 5 s after the close
sleep 15
t1=$(now_ms)

api "/api/v1/outages?from=$t0&to=$t1" > "$run/outages.json"
db=$run/rrd/events.db # state_dir defaults to data_dir
echo "# event store: $db"
rows=$(sqlite3 "$db" "SELECT id, alarm_id, start_ms, IFNULL(end_ms, 'open'), refined FROM outages WHERE circuit = '$CIRCUIT'" 2>&1)
echo "# rows in the event store: ${rows//$'\n'/; }"
active=$(sqlite3 "$db" "SELECT COUNT(*) FROM alarms WHERE circuit = '$CIRCUIT' AND type = 'link_down' AND cleared_at_ms IS NULL" 2>&1)
all_alarms=$(sqlite3 "$db" "SELECT id, type, raised_at_ms, IFNULL(cleared_at_ms, 'active') FROM alarms WHERE circuit = '$CIRCUIT'" 2>&1)
echo "# alarms of the circuit: ${all_alarms//$'\n'/; }"
check "sqlite3: exactly one outage row for $CIRCUIT" test "$(printf '%s\n' "$rows" | grep -c .)" = 1
check "no link down alarm of $CIRCUIT is left active (sqlite3: $active)" test "$active" = 0
check "the restart adopted the row: the log says so" grep -q "continues under alarm" "$run/collector.log"

ctl() { "$STACK_BUILD/ctl/rajnetctl" --url "http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT" \
        --token "$STACK_OPERATOR_TOKEN" "$@"; }
ctl report --from "$t0" --to "$t1" --format json -o "$run/report.json" >/dev/null
check "rajnetctl report --format json answers" test -s "$run/report.json"
/usr/bin/python3 - "$run/outages.json" "$run/report.json" "$injected" "$CIRCUIT" <<'PY'
import json, sys
outs = [o for o in json.load(open(sys.argv[1]))["outages"] if o["circuit"] == sys.argv[4]]
rep = {l["circuit"]: l for l in json.load(open(sys.argv[2]))["links"]}
inj = int(sys.argv[3]) / 1000.0
fails = 0
def check(ok, what):
    global fails
    print(("ok - " if ok else "not ok - ") + what)
    fails += 0 if ok else 1
check(len(outs) == 1, "GET /api/v1/outages: one outage for %s (%d)" % (sys.argv[4], len(outs)))
if outs:
    o = outs[0]
    check(o["end_ms"] is not None, "the outage is closed")
    dur = ((o["end_ms"] or 0) - o["start_ms"]) / 1000.0
    check(abs(dur - inj) <= 2.0 and abs(dur - 60) <= 2.0,
          "the row lasts %.2f s, injected %.2f s (60 ± 2 s)" % (dur, inj))
    check(o.get("refined") is True, "the row is refined from the probe files")
    down = rep[sys.argv[4]]["downtime_s"]
    check(abs(down - 60) <= 2.0 and abs(down - inj) <= 2.0,
          "the SLA report charges %.2f s (60 ± 2 s)" % down)
    check(abs(down - dur) <= 0.01, "report and row agree: %.2f s vs %.2f s" % (down, dur))
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] || TEST_FAILS=$((TEST_FAILS + 1))
exit $((TEST_FAILS > 0))
