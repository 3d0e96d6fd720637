#!/usr/bin/env bash
# Topology reload (SIGHUP) on the simulated RajNet, with real agents in their namespaces:
#  1. a changed topology (probe interval 2 s -> 3 s) reaches every connected agent as a new plan
#     within seconds, and no session is dropped: no agent connects again, the collector logs no
#     disconnect, /metrics still counts every agent connected, and probe data keeps landing;
#  2. a topology with a YAML syntax error, and one with a link to an unknown node, are refused:
#     the collector keeps running, logs why with file:line, and keeps serving the old plan (an
#     agent that comes back without its cached plan gets the old digest again);
#  3. a node removed from the topology: its session is closed with "node is no longer in the
#     topology", its agent's reconnects are refused while it is absent, the other sessions stay;
#     put back, the node's agent is accepted again and gets its plan.
# Uses a four-node cut of the sim topology (sdc, jaipur and two blocks) to start quickly.
# collector.yaml read again on SIGHUP (log level, notify, tokens): test_config_reload.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

run=$(mktemp -d /tmp/rn-reload-XXXXXX)
topo=$run/topology.yaml
# stack_stop reads the node list from the topology: put the full one back before it runs
trap 'cp "$run/topology.full" "$topo" 2>/dev/null; stack_stop; rm -rf "$run"' EXIT
cat > "$topo" <<'YAML'
# test_reload.sh: sdc, one district, two blocks. Every uplink on one line, so an error in one is
# reported at that line.
settings:
  poll_interval_s: 5
  probe_interval_s: 2
  probe_count: 5

vendors:
  bsnl:     { name: BSNL, contact: noc@bsnl.example }
  airjaldi: { name: AirJaldi Radio, contact: support@airjaldi.example }

sla_classes:
  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, max_jitter_ms: 30, min_outage_s: 0, restore_hours: { S1: 4, S2: 16 }, penalty: [[99.5, 0], [0, 20]] }
  bhq: { availability: 99.0, max_latency_ms: 150, max_loss_pct: 2.0, max_jitter_ms: 50, min_outage_s: 60, restore_hours: { S1: 8, S2: 24 }, penalty: [[99.0, 0], [0, 25]] }

services:
  vc: { kind: vc, rtp_ports: [16384, 32767], endpoints: [{ node: sdc, addr: 10.77.0.10, tcp: [1720] }] }

nodes:
  sdc:
    tier: sdc
    devices: [{ name: core1, addr: 10.77.0.1, snmp: { version: 3, user: noc, secret: sdc-core } }]
  jaipur:
    tier: district
    parent: sdc
    devices: [{ name: rtr1, addr: 10.77.1.1, snmp: { version: 2c, secret: jaipur-ro } }]
    uplinks:
      - { circuit: JPR-MPLS-0042, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq, role: primary, local: { device: rtr1, ifname: wan0 }, remote: { device: core1, ifname: jaipur } }
  jaipur/sanganer:
    tier: block
    parent: jaipur
    devices: [{ name: rtr1, addr: 10.77.11.1, snmp: { version: 3, user: blockmon, secret: sanganer-v3 } }]
    uplinks:
      - { circuit: JPR-SNG-MPLS-3301, vendor: bsnl, kind: mpls, mbps: 8, sla: bhq, role: primary, local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, ifname: sanganer } }
  jaipur/amer:
    tier: block
    parent: jaipur
    devices: [{ name: rtr1, addr: 10.77.12.1, snmp: { version: 2c, secret: amer-ro } }]
    uplinks:
      - { circuit: JPR-AMR-RF-0009, vendor: airjaldi, kind: radio, mbps: 4, sla: bhq, role: primary, local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, ifname: amer } }
YAML
cp "$topo" "$run/topology.full"
export RAJNET_TOPOLOGY=$topo
STACK_TOPOLOGY=$topo
nodes="sdc jaipur jaipur/sanganer jaipur/amer"

stack_start "$run" || { not_ok "stack starts"; exit 1; }
log=$run/collector.log
cpid=$(cat "$run/collector.pid")
alog() { echo "$run/agents/${1//\//-}/agent.log"; }
# the digest of the last plan an agent applied ("" when none)
digest() { grep -oE 'plan [0-9a-f]{12} applied' "$(alog "$1")" | tail -1 | cut -d' ' -f2; }
connects() { grep -c "connected to collector" "$(alog "$1")"; }
metric() { # metric NAME -> its value from the collector's /metrics
    curl -s -H "Authorization: Bearer $STACK_VIEWER_TOKEN" "http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT/metrics" |
        awk -v m="$1" '$1 == m { print $2 + 0 }'
}
mark=0
since() { tail -n +"$((mark + 1))" "$log"; }
hup() { mark=$(wc -l < "$log"); kill -HUP "$cpid"; }
# sessions_kept NAME FROM_LINE: no agent connected again since it started, and the collector
# logged no disconnect, close or new connection after line FROM_LINE of its log
sessions_kept() {
    local n bad="" lines
    for n in $nodes; do
        [ "$(connects "$n")" = 1 ] || bad+=" $n connected $(connects "$n") times;"
    done
    lines=$(tail -n +"$(($2 + 1))" "$log" | grep -E "disconnected|closing:|connected from")
    [ -n "$lines" ] && bad+=" collector: $(echo "$lines" | head -2)"
    [ -z "$bad" ] && ok "$1" || not_ok "$1" "$bad"
}

all_planned() { local n; for n in $nodes; do [ -n "$(digest "$n")" ] || return 1; done; }
check "every agent connected and applied its first plan" wait_for 30 all_planned
all_connected() { [ "$(metric rajnet_collector_agents_connected)" = 4 ]; }
check "/metrics counts 4 agents connected" wait_for 10 all_connected
declare -A d0
for n in $nodes; do d0[$n]=$(digest "$n"); done

# --- 1. a changed topology reaches the agents, no session dropped ---------------------------------
sed -i 's/^  probe_interval_s: 2$/  probe_interval_s: 3/' "$topo"
start1=$(wc -l < "$log")
probe=$(stack_rrd jaipur/sanganer icmp jaipur)
hup
t_hup=$(date +%s)
reloaded() { since | grep -qF "reload: topology $topo loaded (4 nodes)"; }
check "SIGHUP: the collector loads the changed topology" wait_for 5 reloaded
sent_to() { since | grep -qF "reload: plans sent to $1 connected agents"; }
check "and sends the new plans on the 4 open sessions" wait_for 5 sent_to 4
new_plans() {
    local n
    for n in $nodes; do
        [ "$(digest "$n")" != "${d0[$n]}" ] && grep -q "plan $(digest "$n") applied: .*every 3 s$" "$(alog "$n")" || return 1
    done
}
if wait_for 5 new_plans; then
    ok "every agent applied a new plan (probes every 3 s) within $(( $(date +%s) - t_hup )) s of SIGHUP"
else
    not_ok "every agent applies the new plan within 5 s" \
        "$(for n in $nodes; do echo -n "$n: ${d0[$n]} -> $(digest "$n"); "; done)"
fi
sessions_kept "no agent reconnected and the collector dropped no session" "$start1"
check "/metrics still counts 4 agents connected" all_connected
landed() { [ "$(rrd_last_time "$probe")" -gt "$t_hup" ]; }
check "probe rounds keep landing in the RRD files after the reload" wait_for 10 landed
declare -A d1
for n in $nodes; do d1[$n]=$(digest "$n"); done

# --- 2. broken topologies are refused, the old one stays --------------------------------------------
cp "$topo" "$run/topology.good"
start2=$(wc -l < "$log")
# 2a. YAML syntax error: a key indented deeper than its siblings
sed -i 's/^  probe_count: 5$/   probe_count: 5/' "$topo"
bad_line=$(grep -n '^   probe_count: 5$' "$topo" | cut -d: -f1)
hup
refused() { since | grep -qE "reload: keeping the current topology: $topo:$1: .*$2"; }
check "YAML error: refused with $topo:$bad_line and libyaml's reason" \
    wait_for 5 refused "$bad_line" 'YAML syntax error: mapping values are not allowed'
cp "$run/topology.good" "$topo"
# 2b. semantic error: the sanganer block's link ends at a node that does not exist
sed -i '/JPR-SNG-MPLS-3301/s/remote: { device: rtr1/remote: { node: bikaner, device: rtr1/' "$topo"
bad_line=$(grep -n 'node: bikaner' "$topo" | cut -d: -f1)
hup
check "unknown node: refused with $topo:$bad_line and the reason" \
    wait_for 5 refused "$bad_line" "unknown node 'bikaner'"
sleep 3
check "the collector still runs" kill -0 "$cpid"
same_plans() { local n; for n in $nodes; do [ "$(digest "$n")" = "${d1[$n]}" ] || return 1; done; }
check "no agent applied another plan after the refused reloads" same_plans
sessions_kept "no session was dropped by the refused reloads" "$start2"
# the old plan is still served: an agent coming back without its cached plan gets it again
stack_stop_agent jaipur/sanganer
rm -f "$run/agents/jaipur-sanganer/plan.bin"
: > "$(alog jaipur/sanganer)"
stack_start_agent jaipur/sanganer
same_plan() { [ "$(digest jaipur/sanganer)" = "${d1[jaipur/sanganer]}" ]; }
if wait_for 15 same_plan; then
    ok "a restarted agent gets the last good plan (${d1[jaipur/sanganer]}, every 3 s)"
else
    not_ok "a restarted agent gets the last good plan" "wanted ${d1[jaipur/sanganer]}, got '$(digest jaipur/sanganer)'"
fi
cp "$run/topology.good" "$topo"

# --- 3. a node removed from the topology ------------------------------------------------------------
# jaipur/amer goes: its block is the last six lines of the file
head -n -6 "$run/topology.good" > "$topo"
grep -q amer "$topo" && not_ok "test setup: jaipur/amer is still in the cut topology"
conn_before=$(grep -c "connected from" "$log")
hup
check "SIGHUP: the topology without jaipur/amer loads (3 nodes)" \
    wait_for 5 bash -c "tail -n +$((mark + 1)) '$log' | grep -qF 'reload: topology $topo loaded (3 nodes)'"
closed() { since | grep -qE "agent jaipur/amer \(.*\): closing: node is no longer in the topology"; }
check "its session is closed: \"agent jaipur/amer (...): closing: node is no longer in the topology\"" wait_for 5 closed
refused_again() { since | grep -qE "refused: certificate for 'jaipur/amer', which is not a node of the topology"; }
check "its agent's reconnects are refused while it is absent" wait_for 10 refused_again
check "the plans go to the 3 sessions that stay" sent_to 3
three() { [ "$(metric rajnet_collector_agents_connected)" = 3 ]; }
check "/metrics counts 3 agents connected" wait_for 5 three
others_stay() {
    [ "$(since | grep -cE 'closing:|disconnected')" = "$(since | grep -cE 'agent jaipur/amer .*(closing:|disconnected)')" ] &&
        [ "$(grep -c "connected from" "$log")" = "$conn_before" ]
}
check "no other session was dropped or reopened" others_stay
# put it back
cp "$run/topology.good" "$topo"
hup
back() { since | grep -qE "agent jaipur/amer connected from"; }
check "put back, jaipur/amer's agent is accepted again" wait_for 40 back
four() { [ "$(metric rajnet_collector_agents_connected)" = 4 ]; }
check "/metrics counts 4 agents connected again" wait_for 5 four
check "the collector never crashed over all reloads" kill -0 "$cpid"
asan=$(grep -lE "ERROR: AddressSanitizer|runtime error:" "$log" "$run"/agents/*/agent.log 2>/dev/null)
check "no sanitizer report in any log" test -z "$asan"

exit $(( TEST_FAILS > 0 ))
