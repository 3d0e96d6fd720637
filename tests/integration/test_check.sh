#!/usr/bin/env bash
# `rajnet-agent check` on the simulated RajNet, as a district engineer would run it at a block:
#  - healthy: exit 0; the report lists rtr1 with wan0 up and its rates, ICMP probes to jaipur and
#    sdc with verdict ok, the vc and emitra service probes ok, and the uplink ok;
#  - --json parses and says the same;
#  - JPR-MPLS-0042 cut: exit 2 (down), naming the probe to sdc at 100% loss;
#  - JPR-SNG-MPLS-3301 degraded with 100 ms delay each way (200 ms RTT, the bhq limit is 150 ms):
#    exit 1 (degraded), naming the probe to jaipur over its limit;
#  - without a cached plan it fetches one from the collector; usage and config errors exit 64/78.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

run=$(mktemp -d /tmp/rn-check-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT

if ! stack_start "$run"; then
    not_ok "the simulated RajNet, the collector and the agents start"
    exit 1
fi
ok "the simulated RajNet, the collector and the agents start"

node=jaipur/sanganer
flat=${node//\//-}
ns=$(stack_sim ns "$node")
cfg=$run/agents/$flat/agent.yaml
agent=$STACK_BUILD/agent/rajnet-agent

# run_check ARGS...: runs the check in the block's namespace; sets out and rc, keeps stderr.
run_check() {
    out=$(ip netns exec "$ns" "$agent" check "$@" 2>"$run/check.err"); rc=$?
}
# has REGEX: the last report has a line matching REGEX (extended).
has() { grep -Eq "$1" <<<"$out"; }
# note: the report as TAP comment lines, so the test log shows what the engineer sees.
note() { sed 's/^/# /' <<<"$out"; }
# show: the report and stderr, for a failure message.
show() { echo; echo "$out"; sed 's/^/stderr: /' "$run/check.err"; }

check "the agent of $node has cached its plan" wait_for 30 test -s "$run/agents/$flat/plan.bin"
# probes need a round or two before the paths are warm (ARP, routes)
sleep 2

# --- 1. healthy ---------------------------------------------------------------------------------
run_check -c "$cfg"
echo "$out" > "$run/healthy.txt"
note
if [ $rc -eq 0 ]; then ok "healthy site: check exits 0"; else not_ok "healthy site: check exits 0" "rc=$rc$(show)"; fi
check "the report names the plan's source (the cache)" has '^rajnet-agent check: node jaipur/sanganer, plan [0-9a-f]{12} \(cache\)'
check "the report says rates come from two polls ~5 s apart" has '^rates: from two SNMP polls [45]\.[0-9] s apart'
check "device rtr1 answers, with sysName and uptime" has '^DEVICE rtr1 \(10\.77\.11\.1\): ok'
check "interface wan0 is up with in/out rates" has '^  wan0 +up +[0-9.]+ [kMG]?b/s +[0-9.]+ [kMG]?b/s +[0-9.]+ [kMG]?b/s +[0-9.]+/s'
check "probe to jaipur is ok against the bhq limits (150 ms / 2%)" has '^  jaipur +10\.77\.1\.1 .*150ms/2\.0%/50ms +ok'
check "probe to sdc is ok against the path's limits (bhq+dhq: 230 ms)" has '^  sdc +10\.77\.0\.1 .*230ms/.* +ok'
check "service probe vc-1720 connects" has '^  vc-1720 +10\.77\.0\.10:1720 +connect [0-9.]+ms +ok'
check "service probe emitra-http answers 200" has '^  emitra-http +http://10\.77\.0\.20:8080/health +HTTP 200, ttfb [0-9.]+ms.* +ok'
check "the uplink is ok (mutual TLS)" has "^UPLINK to ${STACK_COLLECTOR_ADDR//./\\.}:$STACK_COLLECTOR_PORT: ok \\(mutual TLS session in [0-9]+ ms\\)"
check "the verdict line says healthy" has '^RESULT: healthy \(exit 0\)'
# downward evidence: the agentless village below the block (collector/ingest/plan.h)
check "the village's router is polled as an agentless child's device" has '^DEVICE rtr1 of jaipur/sanganer/gp-bagru, agentless child \(10\.77\.122\.1\): ok'
check "probes down the tree get a section of their own" has '^PROBES DOWN \(ICMP to child nodes'
check "the probe down to the village is ok against its uplink's gp limits (600 ms / 3%)" has '^  jaipur/sanganer/gp-bagru +10\.77\.122\.1 .*600ms/3\.0%/80ms +ok'

# --- 2. JSON --------------------------------------------------------------------------------------
run_check -c "$cfg" --json
echo "$out" > "$run/healthy.json"
if [ $rc -eq 0 ] && /usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$out"; then
    ok "--json parses (python3 json.load) and exits 0"
else
    not_ok "--json parses and exits 0" "rc=$rc$(show)"
fi
summary=$(/usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["status"], r["exit"], r["uplink"]["status"],
      " ".join(d["name"] + ":" + str(d["reachable"]) for d in r["devices"]),
      " ".join(p["target"] + ":" + p["status"] for p in r["probes"]),
      " ".join(s["object"] + ":" + s["status"] for s in r["services"]))' <<<"$out" 2>&1)
check "--json holds the same verdicts ($summary)" \
    test "$summary" = "ok 0 ok rtr1:True rtr1:True jaipur:ok sdc:ok jaipur/sanganer/gp-bagru:ok cam:ps-sanganer:gate:ok cam:ps-sanganer:lockup:ok cam:ps-sanganer:nvr:ok vc-1720:ok emitra-8080:ok emitra-http:ok"

# --- 3. cut the district's uplink: down -------------------------------------------------------------
stack_sim cut JPR-MPLS-0042 >/dev/null
run_check -c "$cfg"
echo "$out" > "$run/cut.txt"
note
if [ $rc -eq 2 ]; then ok "JPR-MPLS-0042 cut: check exits 2 (down)"; else not_ok "JPR-MPLS-0042 cut: check exits 2" "rc=$rc$(show)"; fi
check "the probe to sdc is named at 100% loss, down" has '^  sdc +10\.77\.0\.1 .* 100% .*down: 100% loss'
check "the probe to jaipur stays ok (below the cut)" has '^  jaipur +10\.77\.1\.1 .* +ok'
check "the services at sdc are down" has '^  vc-1720 .* down'
check "the verdict line says down" has '^RESULT: down \(exit 2\)'
stack_sim heal JPR-MPLS-0042 >/dev/null

# --- 4. degrade the block's uplink: degraded ------------------------------------------------------------
stack_sim degrade JPR-SNG-MPLS-3301 --delay 100 >/dev/null
sleep 1
run_check -c "$cfg"
echo "$out" > "$run/degraded.txt"
note
if [ $rc -eq 1 ]; then ok "JPR-SNG-MPLS-3301 +100 ms each way: check exits 1 (degraded)"; else not_ok "degraded link: check exits 1" "rc=$rc$(show)"; fi
check "the probe to jaipur is degraded: RTT over the 150 ms limit" has '^  jaipur +10\.77\.1\.1 +(19|2[0-9])[0-9]\.[0-9]ms .*degraded: RTT [0-9.]+ ms over the limit 150 ms'
check "the verdict line says degraded" has '^RESULT: degraded \(exit 1\)'
stack_sim heal JPR-SNG-MPLS-3301 >/dev/null

# --- 5. no cached plan: ask the collector ---------------------------------------------------------------
mkdir -p "$run/fresh"
sed "s|^state_dir: .*|state_dir: $run/fresh|" "$cfg" > "$run/fresh.yaml"
run_check -c "$run/fresh.yaml"
if [ $rc -eq 0 ] && has '^rajnet-agent check: node jaipur/sanganer, plan [0-9a-f]{12} \(collector\)'; then
    ok "without a cached plan, check gets one from the collector and exits 0"
else
    not_ok "without a cached plan, check gets one from the collector" "rc=$rc$(show)"
fi
check "check wrote nothing into the state dir" test -z "$(ls -A "$run/fresh")"

# --- 6. usage and configuration errors ----------------------------------------------------------------
run_check --bogus
check "an unknown option exits 64 (usage)" test $rc -eq 64
run_check -c "$run/missing.yaml"
check "a missing configuration exits 78, not 2 (which means down)" test $rc -eq 78

exit $((TEST_FAILS > 0))
