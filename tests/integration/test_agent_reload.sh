#!/usr/bin/env bash
# The agent's reload (SIGHUP), its privileges and --check-config with TLS files, with a real
# collector and agent on loopback (no simulation: the agent's node probes its parent at 127.0.0.1):
#  - the agent runs as nobody with CAP_NET_RAW ambient (as the unit starts it); once its first
#    plan is applied CapPrm/CapEff/CapInh/CapAmb hold no CAP_NET_RAW, and its probes keep working;
#  - SIGHUP with log_level debug and spool_fsync always: both take effect (the log says so, debug
#    lines follow, the spool is reopened); a changed collector list reconnects; a changed node is
#    "needs a restart";
#  - SIGHUP with a broken file (file:line) or an unreadable TLS key: the agent keeps running with
#    the old configuration and stays connected;
#  - the probe RRD file has no gap over all the reloads, and no sample came in out of order;
#  - a topology change that adds a VC capture: the agent, without CAP_NET_RAW, says the capture
#    needs it and exits 3; started again, it opens the capture from its cached plan and drops the
#    capability again;
#  - --check-config names an unreadable key (exit 2) and passes with readable files.
# Needs root (setpriv, chown). About 60 s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "not ok - test_agent_reload needs root (setpriv)"; exit 1; }
build=${RAJNET_BUILD:-$repo/build}
agent_bin=$build/agent/rajnet-agent
collector_bin=$build/collector/rajnet-collector
[ -x "$agent_bin" ] && [ -x "$collector_bin" ] || { echo "not ok - no build at $build (set RAJNET_BUILD)"; exit 1; }
run=$(mktemp -d /tmp/rn-reload-XXXXXX)
chmod 755 "$run"
cpid="" apid=""
cleanup() {
    local p
    for p in $apid $cpid; do kill "$p" 2>/dev/null; done
    for p in $apid $cpid; do wait "$p" 2>/dev/null; done
    rm -rf "$run"
}
trap cleanup EXIT

port=$(free_port)
port2=$(free_port)

# --- the collector: two nodes; jaipur's uplink ends on lo, its parent sdc is 127.0.0.1 ----------
loopback_pki "$run/pki" jaipur || { not_ok "rajnet-pki makes the certificates"; exit 1; }
loopback_topology "$run/topo1.yaml" \
    "services:" "  vc: { kind: vc, endpoints: [{ node: sdc, addr: 127.0.0.1, tcp: [1720] }] }"
# the same with VC media (RTP ports): jaipur's plan then captures on its uplink's interface
sed 's/tcp: \[1720\] }\] }/tcp: [1720] }], rtp_ports: [16384, 32767] }/' "$run/topo1.yaml" >"$run/topo2.yaml"
cp "$run/topo1.yaml" "$run/topology.yaml"
echo 'ro: { community: not-a-real-one }' >"$run/secrets.yaml"
loopback_collector "$run" "127.0.0.1:$port" "$run"
"$collector_bin" -c "$run/collector.yaml" >"$run/collector.log" 2>&1 &
cpid=$!
wait_for 10 grep -q "listening for agents" "$run/collector.log" ||
    { not_ok "the collector starts" "$(tail -3 "$run/collector.log")"; exit 1; }

# --- the agent as nobody with CAP_NET_RAW, as the unit's AmbientCapabilities start it ------------
mkdir -p "$run/agent"
cp "$run/pki/jaipur.crt" "$run/pki/jaipur.key" "$run/pki/ca.crt" "$run/agent/"
chown -R nobody:nogroup "$run/agent"
chmod 600 "$run/agent/jaipur.key"
cfg=$run/agent/agent.yaml
# write_cfg LOG_LEVEL SPOOL_FSYNC COLLECTORS [NODE] [KEY]
write_cfg() {
    cat >"$cfg.tmp" <<EOF
node: ${4:-jaipur}
collectors: [$3]
state_dir: $run/agent/state
log_level: $1
tls: { cert: jaipur.crt, key: ${5:-jaipur.key}, ca: ca.crt, collector_name: collector }
spool_fsync: $2
EOF
    chown nobody:nogroup "$cfg.tmp"
    mv "$cfg.tmp" "$cfg"
}
write_cfg info interval "\"127.0.0.1:$port\""
log=$run/agent/agent.log
start_agent() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+net_raw \
        --ambient-caps=-all,+net_raw -- "$agent_bin" -c "$cfg" >>"$log" 2>&1 &
    apid=$!
}
start_agent
capline() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$apid/status" 2>/dev/null; }
# net_raw_in HEX: CAP_NET_RAW (bit 13) is set in the mask
net_raw_in() { [ $(( 0x$1 & 0x2000 )) -ne 0 ]; }
if wait_for 15 grep -q "gave up CAP_NET_RAW" "$log"; then
    ok "the agent applies its first plan and gives up CAP_NET_RAW: $(grep -o 'gave up CAP_NET_RAW.*' "$log" | head -1)"
else
    not_ok "the agent gives up CAP_NET_RAW after its first plan" "$(tail -5 "$log")"
fi
prm=$(capline CapPrm) eff=$(capline CapEff) inh=$(capline CapInh) amb=$(capline CapAmb)
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$apid/status" 2>/dev/null)
if [ -n "$prm" ] && ! net_raw_in "$prm" && ! net_raw_in "$eff" && ! net_raw_in "$inh" && ! net_raw_in "$amb" &&
   [ "$uid" = "$(id -u nobody)" ]; then
    ok "as nobody (uid $uid) it holds no CAP_NET_RAW: CapPrm $prm CapEff $eff CapInh $inh CapAmb $amb"
else
    not_ok "no CAP_NET_RAW left after start" "uid $uid CapPrm $prm CapEff $eff CapInh $inh CapAmb $amb"
fi
check "its ICMP socket is raw (ping_group_range excludes nobody), opened before the drop" \
    grep -q "IPv4 probes use a raw" "$log"
rrd=$run/rrd/jaipur/icmp/sdc.rrd
if wait_for 20 test -s "$rrd"; then ok "probes of sdc (127.0.0.1) reach the collector's RRD file"
else not_ok "probes reach the RRD file" "$(ls -R "$run/rrd" 2>&1 | head -5)"; fi
sleep 3
t0=$(date +%s)

# --- reloads --------------------------------------------------------------------------------------
hup() { kill -HUP "$apid"; sleep "${1:-2}"; }
n_log() { grep -c "$1" "$log"; }

write_cfg debug always "\"127.0.0.1:$port\""
hup 3
check "SIGHUP: log_level debug and spool_fsync always are applied (log says so)" \
    grep -q "reload: $cfg applied (log_level debug, spool settings)" "$log"
check "the spool was reopened, not reset" grep -q "reload: spool reopened" "$log"
check "debug lines follow the reload" sh -c "sed -n '/reload: .* applied (log_level debug/,\$p' '$log' | grep -q ' debug: '"

before=$(n_log "connected to collector")
printf 'node: jaipur\ncollectors: [\n' >"$cfg.tmp"; chown nobody "$cfg.tmp"; mv "$cfg.tmp" "$cfg"
hup 2
check "SIGHUP with a broken file: the error names file:line, the old configuration stays" \
    grep -qE "reload: keeping the running configuration: $cfg:[0-9]+" "$log"
check "the agent keeps running after the broken reload" kill -0 "$apid"

write_cfg info interval "\"127.0.0.1:$port\"" jaipur missing.key
hup 2
check "SIGHUP with a TLS key that cannot be read: tls.key named, the old configuration stays" \
    grep -q "reload: keeping the running configuration: $cfg: tls.key: cannot read $run/agent/missing.key" "$log"
check "no reconnect came of the refused reloads" [ "$(n_log "connected to collector")" -eq "$before" ]

write_cfg info interval "\"127.0.0.1:$port2\", \"127.0.0.1:$port\"" jaipur/amer
hup 1
check "SIGHUP: a changed node id is 'needs a restart'" grep -q "node jaipur/amer needs a restart; still jaipur" "$log"
check "SIGHUP: changed collectors reconnect" grep -q "applied (log_level info, spool settings, new collectors: reconnecting)" "$log"
if wait_for 40 sh -c "[ \$(grep -c 'connected to collector 127.0.0.1:$port ' '$log') -gt $before ]"; then
    ok "after trying the new first collector (nothing listens on $port2) it connects to the second"
else
    not_ok "the agent reconnects through the new collector list" "$(tail -5 "$log")"
fi
check "the agent still runs after four reloads" kill -0 "$apid"
write_cfg info interval "\"127.0.0.1:$port\"" # what the restart below reads (no SIGHUP)
sleep 4
t1=$(date +%s)

# --- nothing lost across the reloads ----------------------------------------------------------------
nan=$(rrdtool fetch "$rrd" AVERAGE -s $((t0 - 2)) -e $((t1 - 3)) 2>/dev/null | awk '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "loss") col = i + 1; next }
    NF > 1 && col { n++; if ($col ~ /nan/) bad++ } END { print (n ? bad + 0 : "none") " " n + 0 }')
check "the probe RRD file has no gap over the reloads ($t0..$t1: NaN rows, rows = $nan)" \
    [ "${nan%% *}" = 0 ]
check "the collector saw no sample older than its file" bash -c "! grep -q 'older than their RRD' '$run/collector.log'"

# --- a new capture after the drop: restart to open it --------------------------------------------
cp "$run/topo2.yaml" "$run/topology.yaml"
kill -HUP "$cpid"
wait "$apid" 2>/dev/null
rc=$?
if [ $rc -eq 3 ] && grep -q "vc capture vc needs CAP_NET_RAW: restart the agent" "$log"; then
    ok "a plan with a new VC capture: 'needs CAP_NET_RAW: restart the agent', exit 3 (systemd restarts)"
else
    not_ok "a new capture after the drop makes the agent exit 3" "rc=$rc $(grep -i 'capture\|CAP_NET' "$log" | tail -3)"
fi
mark=$(wc -l <"$log")
start_agent
if wait_for 15 sh -c "tail -n +$mark '$log' | grep -q 'gave up CAP_NET_RAW: the ICMP sockets and 1 VC captures are open'"; then
    ok "restarted, it opens the capture from its cached plan, then gives up CAP_NET_RAW again"
else
    not_ok "the restarted agent opens the capture" "$(tail -n +$mark "$log" | grep -i 'capture\|CAP_NET\|plan' | tail -4)"
fi
prm=$(capline CapPrm)
check "... and holds no CAP_NET_RAW (CapPrm $prm)" sh -c "[ -n '$prm' ] && [ \$(( 0x$prm & 0x2000 )) -eq 0 ]"
kill "$apid"; wait "$apid" 2>/dev/null; apid=""

# --- --check-config opens the TLS files -------------------------------------------------------------
write_cfg info interval "\"127.0.0.1:$port\""
chown root "$run/agent/jaipur.key"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$agent_bin" --check-config -c "$cfg" 2>&1)
rc=$?
check "--check-config as nobody with a key only root reads: exit 2, '$out'" \
    sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'tls.key: cannot read $run/agent/jaipur.key: Permission denied'"
chown nobody "$run/agent/jaipur.key"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$agent_bin" --check-config -c "$cfg" 2>&1)
rc=$?
check "--check-config passes when the agent's user reads its TLS files: '$out'" [ $rc -eq 0 ]

[ "$TEST_FAILS" -eq 0 ]
