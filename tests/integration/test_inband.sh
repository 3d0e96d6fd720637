#!/usr/bin/env bash
# RajNet as it really fails, end to end, with in-band management (every agent reaches the
# collector over the data path up the tree, so a cut link also cuts off the agents below it):
#   phase 1, at once, on different branches:
#     - a block's radio link black-holed (JPR-AMR-RF-0009: interfaces stay up; the block's agent
#       is cut off, so only the district's rounds down to it are heard live);
#     - a village link black-holed (AJM-KSG-TLN-RF-0303: gp-tilonia runs no agent; kishangarh's
#       agent probes it from above);
#     - an interface-down cut of a block link (JPR-SNG-MPLS-3301);
#     - the agent of a district stopped on a healthy network (ajmer): "agent down", no link fault;
#   phase 2: the district link JPR-MPLS-0042 black-holed, its whole subtree cut off with it.
# For each: the alarm's type, severity and time from the cut (limit 8 s at the simulation's 2 s
# rounds), exactly one outage row per cut with its duration, and the SLA report's downtime, each
# against the injected duration (±2 s); the silent agents under a cut are symptoms, not roots;
# the stopped agent costs no vendor anything.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
export RAJNET_MGMT=inband
source "$here/../../deploy/stack.sh"

run=$(mktemp -d /tmp/rn-inband-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
# The block and village classes count outages from 60 s; the compressed schedule cuts for 40-60 s.
sed 's/min_outage_s: 60/min_outage_s: 10/' "$STACK_REPO/deploy/sim/topology.yaml" > "$run/topology.yaml"
export RAJNET_TOPOLOGY=$run/topology.yaml
STACK_TOPOLOGY=$RAJNET_TOPOLOGY
api="http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT"
ctl() { "$STACK_BUILD/ctl/rajnetctl" --url "$api" --token "$STACK_OPERATOR_TOKEN" "$@"; }
now_ms() { date +%s%3N; }
get() { curl -sf -H "Authorization: Bearer $STACK_OPERATOR_TOKEN" "$api$1"; }
# cut_bg NAME SECONDS CMD...: runs the cut command, waits, heals; appends
# "NAME start_ms end_ms" (each the midpoint of the sim command) to $run/injected.
cut_bg() {
    local name=$1 secs=$2 a b c d; shift 2
    a=$(now_ms); stack_sim "$@" >/dev/null; b=$(now_ms)
    sleep "$secs"
    c=$(now_ms); stack_sim heal "$name" >/dev/null; d=$(now_ms)
    echo "$name $(( (a + b) / 2 )) $(( (c + d) / 2 ))" >> "$run/injected"
}

stack_start "$run" || { not_ok "stack starts"; exit 1; }
check "the simulation runs in-band (no management bridge)" bash -c '! ip link show rn-mgmt >/dev/null 2>&1'
# every agent connected over the data path, and history for the downward probes
agents_connected() { # agents_connected N: true when at least N agents are connected
    get /api/v1/status | /usr/bin/python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["agents_connected"] < int(sys.argv[1]))' "$1"
}
wait_for 60 agents_connected 6 || not_ok "all 6 agents connect in-band" "$(get /api/v1/status)"
sleep 15
t0=$(now_ms)
sleep 2
: > "$run/injected"

# phase 1
cuts=()
cut_bg JPR-AMR-RF-0009 60 cut JPR-AMR-RF-0009 --blackhole & cuts+=($!)
cut_bg AJM-KSG-TLN-RF-0303 60 cut AJM-KSG-TLN-RF-0303 --blackhole & cuts+=($!)
cut_bg JPR-SNG-MPLS-3301 45 cut JPR-SNG-MPLS-3301 & cuts+=($!)
a=$(now_ms); stack_stop_agent ajmer
sleep 60
stack_start_agent ajmer; b=$(now_ms)
echo "agent:ajmer $a $b" >> "$run/injected"
wait "${cuts[@]}" # not a bare wait: the agents are this shell's children too
sleep 30 # replays land, alarms clear
# phase 2
cut_bg JPR-MPLS-0042 60 cut JPR-MPLS-0042 --blackhole
sleep 45 # the subtree's agents reconnect and replay; the ledger refines from both sides
t1=$(now_ms)
cat "$run/injected"

get "/api/v1/alarms?state=all&since=$t0&limit=1000" > "$run/alarms.json"
get "/api/v1/outages?from=$t0&to=$t1" > "$run/outages.json"
ctl report --from "$t0" --to "$t1" --format json -o "$run/report.json" >/dev/null
check "alarms, outages and the report answer" test -s "$run/alarms.json" -a -s "$run/outages.json" -a -s "$run/report.json"
/usr/bin/python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
inj = {}
for l in open(run + "/injected"):
    if l.strip():
        n, a, b = l.split()
        inj[n] = (int(a), int(b))
alarms = []
for r in json.load(open(run + "/alarms.json"))["alarms"]:
    alarms.append(r)
    alarms.extend(r.get("symptoms", []))
outages = json.load(open(run + "/outages.json"))["outages"]
links = {l["circuit"]: l for l in json.load(open(run + "/report.json"))["links"]}
fails = 0
def check(ok, what):
    global fails
    print(("ok - " if ok else "not ok - ") + what)
    fails += 0 if ok else 1
def alarms_of(entity, typ=None):
    return [a for a in alarms if a["entity"] == entity and (typ is None or a["type"] == typ)]
LIMIT = 8000 # ms from the cut to the root alarm at 2 s rounds
for c, what in (("JPR-AMR-RF-0009", "block black hole (in-band)"),
                ("AJM-KSG-TLN-RF-0303", "village link black hole (agentless)"),
                ("JPR-SNG-MPLS-3301", "interface-down cut (in-band)"),
                ("JPR-MPLS-0042", "district black hole with its subtree (in-band)")):
    start, end = inj[c]
    want = (end - start) / 1000.0
    roots = [a for a in alarms_of(c, "link_down") if a["root_id"] == 0 and a["raised_ms"] >= start - 5000]
    a = roots[0] if roots else None
    check(len(roots) == 1, "%s: one root link_down on %s (%d)" % (what, c, len(roots)))
    if len(roots) != 1: # what the NOC saw instead
        for x in alarms_of(c) + [y for y in alarms if y["node"] == c]:
            print("#   %s %s S%d root=%s raised %+.1f s cleared %s: %s" % (x["id"], x["type"], x["severity"],
                  x["root_id"], (x["raised_ms"] - start) / 1000.0, x["cleared_ms"], x["text"]))
    if a:
        check(a["severity"] == 1, "%s: severity S%d (want S1)" % (what, a["severity"]))
        d = a["raised_ms"] - start
        check(0 <= d <= LIMIT, "%s: raised %.1f s after the cut (limit %.0f s)" % (what, d / 1000.0, LIMIT / 1000.0))
        check(a["cleared_ms"] is not None, "%s: cleared after the heal" % what)
    rows = [o for o in outages if o["circuit"] == c]
    check(len(rows) == 1, "%s: one outage row (%d)" % (what, len(rows)))
    if rows:
        o = rows[0]
        dur = ((o["end_ms"] or 0) - o["start_ms"]) / 1000.0
        check(o["end_ms"] is not None and abs(dur - want) <= 2.0,
              "%s: outage row %.1f s, injected %.1f s (±2 s)" % (what, dur, want))
    got = links[c]["downtime_s"]
    check(abs(got - want) <= 2.0, "%s: report downtime %.1f s, injected %.1f s (±2 s)" % (what, got, want))
# the district black hole: its silent subtree is symptoms of it, nothing else is a root
start, end = inj["JPR-MPLS-0042"]
root = [a for a in alarms_of("JPR-MPLS-0042", "link_down") if a["root_id"] == 0 and a["raised_ms"] >= start - 5000]
if root:
    rid = root[0]["id"]
    for n in ("jaipur", "jaipur/sanganer", "jaipur/amer"):
        sil = [a for a in alarms_of(n) if a["type"] in ("node_silent", "agent_down") and a["raised_ms"] >= start]
        check(sil and all(a["root_id"] == rid and a["type"] == "node_silent" for a in sil),
              "district black hole: %s silent as a symptom of the link (%s)" % (n, [(a["type"], a["root_id"]) for a in sil]))
    others = [a for a in alarms if a["root_id"] == 0 and start <= a["raised_ms"] <= end + 10000 and a["id"] != rid]
    check(not others, "district black hole: no other root alarm (%s)" % [(a["type"], a["entity"]) for a in others])
# the stopped agent: agent down, S3, no vendor, no link alarm, nothing charged
a0, b0 = inj["agent:ajmer"]
ad = [a for a in alarms_of("ajmer", "agent_down") if a0 <= a["raised_ms"] <= b0 + 5000]
check(len(ad) == 1 and ad[0]["root_id"] == 0 and ad[0]["severity"] == 3 and not ad[0]["vendor"],
      "agent stopped: one root agent_down S3 with no vendor (%s)" % [(a["type"], a["severity"], a["vendor"]) for a in ad])
check(not [a for a in alarms if a["node"] == "ajmer" and a["type"] in ("node_silent", "link_down")],
      "agent stopped: never reported as node silent or link down")
check(not alarms_of("AJM-LL-0107"), "agent stopped: no alarm on its uplink AJM-LL-0107")
check(links["AJM-LL-0107"]["downtime_s"] == 0 and not [o for o in outages if o["circuit"] == "AJM-LL-0107"],
      "agent stopped: nothing charged to RailTel's AJM-LL-0107")
sys.exit(1 if fails else 0)
PY
if [ $? != 0 ]; then
    TEST_FAILS=$((TEST_FAILS + 1))
    echo "# collector log, alarm lines:"; grep -E "alarm [0-9]+ " "$run/collector.log" | tail -40 | sed 's/^/#   /'
fi
exit $((TEST_FAILS > 0))
