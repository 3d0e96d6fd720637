#!/usr/bin/env bash
# Foundation, end to end on the simulated RajNet with real snmpds, real RRD files read back with
# rrdtool:
#  - a block's interface RRD holds the same ifHCInOctets that snmpget reads (within one poll);
#  - cutting a district's uplink shows 100% loss in the probe RRDs of the district and its blocks
#    within three probe intervals, and not in the other district; healing brings RTT back;
#  - a typo in a config or the topology exits 2 naming file, line and field.
set -uo pipefail
export RAJNET_MGMT=oob # live evidence from below the cut: the blocks' probe loss must land during it
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

PROBE_INTERVAL=2      # deploy/sim/topology.yaml settings.probe_interval_s
run=$(mktemp -d /tmp/rn-foundation-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT

if ! stack_start "$run"; then
    not_ok "the simulated RajNet, the collector and the agents start"
    exit 1
fi
ok "the simulated RajNet, the collector and the agents start"

# --- 1. interface counters: RRD against snmpget -------------------------------------------------
block=jaipur/sanganer
ns=$(stack_sim ns "$block")
addr=$(stack_sim addr "$block")
rrd_if=$(stack_rrd "$block" if rtr1 wan0)
ifindex=$(ip netns exec "$ns" cat /sys/class/net/wan0/ifindex)
snmp_in() {
    ip netns exec "$ns" snmpget -v2c -c sim-ro -On -Oqv "$addr" "1.3.6.1.2.1.31.1.1.1.6.$ifindex"
}
rrd_has_in() { [[ "$(rrd_last "$rrd_if" in)" =~ ^[0-9]+$ ]]; }

start=$(date +%s)
if wait_for 120 rrd_has_in; then
    ok "interface RRD of $block has counters after $(( $(date +%s) - start )) s"
else
    not_ok "interface RRD of $block has counters within 120 s" "$(ls -R "$run/rrd" 2>&1 | head -20)"
fi

c1=$(snmp_in); t1=$(date +%s)
updated_after() { [ "$(rrd_last_time "$rrd_if")" -gt "$t1" ]; }
wait_for 30 updated_after
v=$(rrd_last "$rrd_if" in)
c2=$(snmp_in)
# snmpd caches its counters for a few seconds, so all three readings may be equal; what must hold
# is the order: a poll made after the first snmpget and before the second lies between them.
if [[ "$c1" =~ ^[0-9]+$ && "$v" =~ ^[0-9]+$ && "$c2" =~ ^[0-9]+$ ]] && [ "$c1" -le "$v" ] && [ "$v" -le "$c2" ]; then
    ok "rrdtool lastupdate in=$v lies between snmpget readings $c1 and $c2 taken around that poll"
else
    not_ok "RRD counter agrees with snmpget" "snmpget $c1, then RRD $v, then snmpget $c2"
fi
in_grew() { [ "$(rrd_last "$rrd_if" in)" -gt "$v" ]; }
check "the stored counter moves with the probe traffic crossing wan0" wait_for 30 in_grew
check "ifOperStatus of wan0 is stored as up (1)" [ "$(rrd_last "$rrd_if" oper)" = "1" ]

# --- 2. cut and heal the link above a district --------------------------------------------------
cut_nodes="jaipur jaipur/sanganer jaipur/amer"
loss_is() { # loss_is VALUE NODE...: the last probe round to sdc of every NODE shows VALUE % loss
    local want=$1 n; shift
    for n in "$@"; do
        [ "$(rrd_last "$(stack_rrd "$n" icmp sdc)" loss)" = "$want" ] || return 1
    done
}
rtt_known() {
    local n
    for n in "$@"; do
        [[ "$(rrd_last "$(stack_rrd "$n" icmp sdc)" rttavg)" =~ ^[0-9.e+-]+$ ]] || return 1
    done
}
# shellcheck disable=SC2086
check "before the cut, probes to sdc see no loss" wait_for 20 loss_is 0 $cut_nodes ajmer

t0=$(date +%s%N)
stack_sim cut JPR-MPLS-0042
# shellcheck disable=SC2086
if wait_for $((3 * PROBE_INTERVAL + 4)) loss_is 100 $cut_nodes; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ "$ms" -le $((3 * PROBE_INTERVAL * 1000)) ]; then
        ok "cut JPR-MPLS-0042: 100% loss in the probe RRDs of jaipur and its blocks after $ms ms (limit $((3 * PROBE_INTERVAL)) s)"
    else
        not_ok "100% loss within three probe intervals" "took $ms ms"
    fi
else
    not_ok "cut JPR-MPLS-0042 shows 100% loss at jaipur and its blocks" \
        "$(for n in $cut_nodes; do echo -n "$n=$(rrd_last "$(stack_rrd "$n" icmp sdc)" loss) "; done)"
fi
check "the other district (ajmer) still sees no loss during the cut" loss_is 0 ajmer

stack_sim heal JPR-MPLS-0042
# shellcheck disable=SC2086
if wait_for $((4 * PROBE_INTERVAL)) loss_is 0 $cut_nodes && rtt_known $cut_nodes; then
    ok "heal JPR-MPLS-0042: RTT is back and loss is 0 at jaipur and its blocks"
else
    not_ok "heal brings RTT back" \
        "$(for n in $cut_nodes; do echo -n "$n=$(rrd_last "$(stack_rrd "$n" icmp sdc)" loss)/$(rrd_last "$(stack_rrd "$n" icmp sdc)" rttavg) "; done)"
fi

# --- 3. typos exit 2 naming file, line and field ------------------------------------------------
bad_topo="$run/bad-topology.yaml"
sed 's/vendor: railtel, kind: leased, mbps: 16/vendor: raltel, kind: leased, mbps: 16/' "$STACK_TOPOLOGY" > "$bad_topo"
sed "s|^topology: .*|topology: $bad_topo|" "$run/collector.yaml" > "$run/bad-collector.yaml"
out=$("$STACK_BUILD/collector/rajnet-collector" -c "$run/bad-collector.yaml" --check-config 2>&1); rc=$?
line=$(grep -n "raltel" "$bad_topo" | cut -d: -f1)
if [ $rc -eq 2 ] && [[ "$out" == *"$bad_topo:$line: nodes.ajmer.uplinks[0]"*"unknown vendor 'raltel'"* ]]; then
    ok "a topology typo exits 2: $out"
else
    not_ok "a topology typo exits 2 naming file, line and field" "rc=$rc: $out"
fi
sed 's/^log_level:/log_levle:/' "$run/collector.yaml" > "$run/typo.yaml"
out=$("$STACK_BUILD/collector/rajnet-collector" -c "$run/typo.yaml" 2>&1); rc=$?
check "a collector config typo exits 2 naming line and field ($out)" \
    test $rc -eq 2 -a -n "$(echo "$out" | grep -F "$run/typo.yaml:5: (top).log_levle: unknown key")"
sed 's/^collectors: .*/collectors: ["10.78.0.1:port"]/' "$run/agents/jaipur/agent.yaml" > "$run/agent-typo.yaml"
out=$("$STACK_BUILD/agent/rajnet-agent" -c "$run/agent-typo.yaml" 2>&1); rc=$?
check "an agent config typo exits 2 naming line and field ($out)" \
    test $rc -eq 2 -a -n "$(echo "$out" | grep -F "$run/agent-typo.yaml:2: collectors: '10.78.0.1:port' is not host:port")"

check "the collector logged no error" bash -c "! grep -E ' error: ' '$run/collector.log'"
check "the collector dropped no sample of a series outside its node's plan (ingest.h)" \
    bash -c "! grep -q 'its plan does not ask for' '$run/collector.log'"
exit $((TEST_FAILS > 0))
