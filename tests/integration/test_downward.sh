#!/usr/bin/env bash
# Downward evidence, end to end on the simulated RajNet (villages with `agent: false`):
#  - the district's agent probes its blocks and the block's agent its village: probe RRD files
#    <district>/icmp/<block>.rrd and <block>/icmp/<village>.rrd fill with RTTs and no loss;
#  - the block's agent polls the village's router across the link: its interfaces are stored
#    under the village's own id (<village>/if/rtr1/wan0.rrd, oper up) and shown by the API
#    under that id;
#  - black-holing the village's uplink shows 100% loss in <block>/icmp/<village>.rrd within three
#    probe intervals, while the village itself says nothing (it has no agent); healing clears it;
#  - the collector drops no sample as "not an agentless child".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

PROBE_INTERVAL=2 # deploy/sim/topology.yaml settings.probe_interval_s
district=jaipur block=jaipur/sanganer village=jaipur/sanganer/gp-bagru
run=$(mktemp -d /tmp/rn-downward-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT

agentless=$("$STACK_BUILD/deploy/sim/rajnet-topo" flat "$STACK_TOPOLOGY" "$STACK_SECRETS" |
            awk '$1 == "node" && $5 == "noagent" { print $2 }')
if ! grep -qx "$village" <<<"$agentless"; then
    not_ok "the topology has the agentless village $village" "agentless: $agentless"
    exit 1
fi
# A node without an agent gets none here either, whatever the stack does for it.
eval "stack_start_agent_all() $(declare -f stack_start_agent | tail -n +2)"
stack_start_agent() { grep -qx "$1" <<<"$agentless" || stack_start_agent_all "$1"; }

if ! stack_start "$run"; then
    not_ok "the simulated RajNet, the collector and the agents start"
    exit 1
fi
ok "the simulated RajNet, the collector and the agents start"
check "no agent runs for $village" test ! -e "$run/agents/${village//\//-}/pid"

# stack_rrd escapes nothing: a probe target is a node id, stored with '/' as %2F
down_rrd() { stack_rrd "$1" icmp "${2//\//%2F}"; }
rtt_ok() { # rtt_ok FILE: the last round has an RTT and no loss
    [[ "$(rrd_last "$1" rttavg)" =~ ^[0-9.e+-]+$ ]] && [ "$(rrd_last "$1" loss)" = "0" ]
}
village_probe=$(down_rrd "$block" "$village")
block_probe=$(down_rrd "$district" "$block")
check "$block probes its village down the tree: $village_probe, RTT and no loss" \
    wait_for 60 rtt_ok "$village_probe"
check "$district probes its block down the tree: $block_probe, RTT and no loss" \
    wait_for 20 rtt_ok "$block_probe"

village_if=$(stack_rrd "$village" if rtr1 wan0)
oper_up() { [ "$(rrd_last "$village_if" oper)" = "1" ]; }
if wait_for 90 oper_up; then
    ok "the village's router, polled by $block's agent, is stored under its own id: $village_if (oper up)"
else
    not_ok "village interface RRD under the village's id" "$(cd "$run/rrd" && find . -path "*gp-bagru*" | head)"
fi
# the village router's interfaces are not mixed into the block router's files
block_ifs=$(cd "$run/rrd/$block/if/rtr1" 2>/dev/null && ls | sort | tr '\n' ' ')
village_ifs=$(cd "$run/rrd/$village/if/rtr1" 2>/dev/null && ls | sort | tr '\n' ' ')
ns=$(stack_sim ns "$block")
want_block=$(ip netns exec "$ns" ls /sys/class/net | sed 's/$/.rrd/' | sort | tr '\n' ' ')
check "$block/if/rtr1 holds the block router's interfaces ($block_ifs)" \
    test "$block_ifs" = "$want_block"
vns=$(stack_sim ns "$village")
want_village=$(ip netns exec "$vns" ls /sys/class/net | sed 's/$/.rrd/' | sort | tr '\n' ' ')
check "$village/if/rtr1 holds the village router's interfaces, none of the block's ($village_ifs)" \
    test "$village_ifs" = "$want_village"

api_village_ifs() {
    curl -s --max-time 5 -H "Authorization: Bearer $STACK_VIEWER_TOKEN" \
        "http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT/api/v1/nodes/${village//\//%2F}" |
        /usr/bin/python3 -c 'import json, sys
n = json.load(sys.stdin)
print(" ".join(sorted(i["device"] + "/" + i["ifname"] for i in n["interfaces"])))'
}
check "the API lists the village's interfaces under its id ($(api_village_ifs 2>&1))" \
    grep -q "rtr1/wan0" <<<"$(api_village_ifs 2>/dev/null)"

# --- black-hole the village's uplink: only the block can tell -----------------------------------
circuit=JPR-SNG-BGR-VS-0202 # the village's uplink (deploy/sim/topology.yaml)
loss_is() { [ "$(rrd_last "$village_probe" loss)" = "$1" ]; }
t0=$(date +%s%N)
stack_sim cut "$circuit" --blackhole >/dev/null # both ends stay up, as on RajNet
if wait_for $((3 * PROBE_INTERVAL + 4)) loss_is 100; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ "$ms" -le $((3 * PROBE_INTERVAL * 1000)) ]; then
        ok "cut $circuit: 100% loss in $village_probe after $ms ms (limit $((3 * PROBE_INTERVAL)) s)"
    else
        not_ok "100% loss within $((3 * PROBE_INTERVAL)) s of the cut" "took $ms ms"
    fi
else
    not_ok "cut $circuit: 100% loss in $village_probe" "loss $(rrd_last "$village_probe" loss)"
fi
check "the block's probe to its parent is unaffected by the village's cut" \
    rtt_ok "$(stack_rrd "$block" icmp "$district")"
stack_sim heal "$circuit" >/dev/null
check "healed: the village answers its block again" wait_for 20 rtt_ok "$village_probe"

check "the collector dropped no sample as not an agentless child" \
    bash -c "! grep -q 'not an agentless child' '$run/collector.log'"
check "the collector dropped no sample of a series outside its node's plan (ingest.h)" \
    bash -c "! grep -q 'its plan does not ask for' '$run/collector.log'"

# stopped by hand so that the logs outlive it: a sanitizer build reports at exit
stack_stop
reports=$(grep -l "ERROR: .*Sanitizer\|runtime error:" "$run/collector.log" "$run"/agents/*/agent.log 2>/dev/null)
check "collector and agents stop without a sanitizer report${reports:+ ($reports)}" test -z "$reports"

[ "$TEST_FAILS" -eq 0 ]
