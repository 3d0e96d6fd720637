#!/usr/bin/env bash
# Collector security, with real TLS between real daemons on the simulated RajNet: an agent with a
# certificate from another CA, an expired certificate, a certificate for a node that is not in
# the topology, or a valid certificate whose hello speaks for another node, is refused and logged
# with its peer address; the real agents keep delivering meanwhile.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

run=$(mktemp -d /tmp/rn-security-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
stack_start "$run" || { not_ok "stack starts"; exit 1; }
pki="$STACK_REPO/deploy/pki/rajnet-pki"

# Runs an extra agent in NODE's namespace for a few seconds with the given identity and cert.
# rogue_agent NAME NS_NODE CLAIMED_NODE CERT KEY CA
rogue_agent() {
    local name=$1 ns_node=$2 claimed=$3 cert=$4 key=$5 ca=$6
    mkdir -p "$run/rogue/$name"
    cat > "$run/rogue/$name/agent.yaml" <<YAML
node: $claimed
collectors: ["$STACK_COLLECTOR_ADDR:$STACK_COLLECTOR_PORT"]
state_dir: $run/rogue/$name
tls: { cert: $cert, key: $key, ca: $ca, collector_name: collector }
YAML
    timeout 4 ip netns exec "$(stack_sim ns "$ns_node")" "$STACK_BUILD/agent/rajnet-agent" \
        -c "$run/rogue/$name/agent.yaml" > "$run/rogue/$name/agent.log" 2>&1
}
# the rogues run in jaipur's namespace: the collector names them by the address it sees jaipur at
collector_says() { grep -F -- "$1" "$run/collector.log" | grep -qF "$(stack_sim mgmt-addr jaipur)"; }

"$pki" ca "$run/other-ca" >/dev/null && "$pki" node "$run/other-ca" jaipur >/dev/null
rogue_agent foreign-ca jaipur jaipur "$run/other-ca/jaipur.crt" "$run/other-ca/jaipur.key" "$run/pki/ca.crt"
check "a certificate from another CA is refused, with the reason and the peer address" \
    wait_for 5 collector_says "unable to get local issuer certificate"

"$pki" expired "$run/pki" jaipur >/dev/null
rogue_agent expired jaipur jaipur "$run/pki/jaipur-expired.crt" "$run/pki/jaipur-expired.key" "$run/pki/ca.crt"
check "an expired certificate is refused" wait_for 5 collector_says "certificate has expired"

"$pki" node "$run/pki" bikaner >/dev/null
rogue_agent unknown jaipur bikaner "$run/pki/bikaner.crt" "$run/pki/bikaner.key" "$run/pki/ca.crt"
check "a certificate for a node outside the topology is refused" \
    wait_for 5 collector_says "certificate for 'bikaner', which is not a node of the topology"

rogue_agent impostor jaipur jaipur/amer "$run/pki/jaipur.crt" "$run/pki/jaipur.key" "$run/pki/ca.crt"
check "an agent whose hello speaks for another node is cut off" \
    wait_for 5 collector_says "certificate is for 'jaipur' but hello speaks for 'jaipur/amer'"
check "the impostor never got a plan" bash -c "! grep -q 'plan .* applied' '$run/rogue/impostor/agent.log'"
check "the refused agents say why on their side too" \
    grep -q "refused\|unknown CA\|certificate" "$run/rogue/foreign-ca/agent.log"

# The genuine agents were never disturbed: jaipur's probe file keeps getting fresh rounds.
rrd=$(stack_rrd jaipur icmp sdc)
fresh() { [ $(( $(date +%s) - $(rrd_last_time "$rrd") )) -le 4 ]; }
check "the genuine jaipur agent kept delivering throughout" wait_for 6 fresh
check "the genuine jaipur agent was never replaced" \
    bash -c "! grep -q 'replaced by a new connection' '$run/collector.log'"
exit $((TEST_FAILS > 0))
