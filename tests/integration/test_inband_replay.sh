#!/usr/bin/env bash
# ci: own lane (ten minutes of timers: tests/run-all.sh runs it beside everything else)
# In-band management cut (issue: an agent cut off from its collector must notice the dead session
# fast and be current again fast after the heal). No simulated RajNet: two network namespaces of
# our own joined by a veth pair,
#     collector ns  [blk0 10.200.0.1 (collector, "sdc"), 10.200.0.2 ("dist")] ==veth==
#     agent ns      [wan0 10.200.0.9] + an snmpd on lan0 10.201.0.1 (the block router, 4 interfaces)
#                   and on lan1 10.201.1.1-3 (three agentless village routers below the block)
# A block agent (dist/blk) probes its parent and the root (ICMP every 2 s), its three villages
# (down the tree), two services (TCP and HTTP, answered by a small server in the collector ns),
# and polls its router and the villages' every 5 s; its config caps sending at 64 kbit/s
# (uplink_rate_kbps). During the cut the villages keep answering, as they would. Then the path becomes a black hole for
# RN_REPLAY_CUT_S seconds (default 600): iptables DROP on INPUT at both ends, so both interfaces
# stay up, nothing is refused, and every packet just vanishes, as when the MPLS cloud beyond the
# router fails. Asserts:
#   - the agent logs the dead session once, within 3 heartbeats (15 s) of the cut;
#   - after the heal its probe file is current (rrdtool lastupdate within 4 s of now) within 15 s;
#   - the probe file has no unknown row across the cut (rrdtool fetch of "loss", which is 100
#     during the cut and known throughout when nothing was lost);
#   - the agent logged no error.
# Prints the figures: detection time, reconnect time after the heal, time to current, bytes of
# the replay on the wire and before compression. It needs no simulated RajNet, so
# tests/run-all.sh runs it in its background group; about RN_REPLAY_CUT_S + 60 s.
# RN_REPLAY_CUT=session cuts only the collector's TCP port, so the probes keep answering and the
# backlog holds every value: the largest a block agent's 10 minutes get (for the figures).
# The village nodes need the topology's `agent: false` children (Plan.child_devices).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

CUT_S=${RN_REPLAY_CUT_S:-600}
CUT=${RN_REPLAY_CUT:-all}
[ "$(id -u)" -eq 0 ] || { echo "not ok - test_inband_replay needs root (namespaces)"; exit 1; }
build=${RAJNET_BUILD:-$repo/build}
agent_bin=$build/agent/rajnet-agent
collector_bin=$build/collector/rajnet-collector
[ -x "$agent_bin" ] && [ -x "$collector_bin" ] || { echo "not ok - no build at $build (set RAJNET_BUILD)"; exit 1; }
for tool in /usr/sbin/snmpd rrdtool iptables /usr/bin/python3 openssl; do
    command -v "$tool" >/dev/null || { echo "not ok - $tool is missing"; exit 1; }
done

tag=rnir$$
nsc=$tag-c nsa=$tag-a
run=$(mktemp -d /tmp/rn-inreplay-XXXXXX)
chmod 755 "$run"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -f "$run/snmpd.pid" ] && kill "$(cat "$run/snmpd.pid")" 2>/dev/null
    ip netns del "$nsc" 2>/dev/null
    ip netns del "$nsa" 2>/dev/null
    [ -n "${RN_KEEP:-}" ] && echo "# kept $run" || rm -rf "$run"
}
trap cleanup EXIT
# inc/ina CMD...: run CMD in the collector's or the agent's namespace. Daemons are started with
# `ip netns exec` itself, not these functions, so that $! is the daemon (ip execs it) and the
# cleanup's kill reaches it.
inc() { ip netns exec "$nsc" "$@"; }
ina() { ip netns exec "$nsa" "$@"; }

# --- the two namespaces --------------------------------------------------------------------------
caddr=10.200.0.1 paddr=10.200.0.2 aaddr=10.200.0.9 raddr=10.201.0.1
ip netns add "$nsc" && ip netns add "$nsa" &&
ip link add "${tag}c" type veth peer name "${tag}a" &&
ip link set "${tag}c" netns "$nsc" && ip link set "${tag}a" netns "$nsa" &&
inc ip link set "${tag}c" name blk0 && ina ip link set "${tag}a" name wan0 &&
inc ip addr add "$caddr/24" dev blk0 && inc ip addr add "$paddr/24" dev blk0 &&
ina ip addr add "$aaddr/24" dev wan0 &&
ina ip link add lan0 type veth peer name lan1 &&
ina ip addr add "$raddr/24" dev lan0 &&
for v in 1 2 3; do ina ip addr add "10.201.1.$v/24" dev lan1 || exit 1; done &&
for l in lo blk0; do inc ip link set "$l" up || exit 1; done &&
for l in lo wan0 lan0 lan1; do ina ip link set "$l" up || exit 1; done ||
    { not_ok "namespaces $nsc and $nsa with a veth pair"; exit 1; }
wait_for 5 ina ping -c1 -W1 "$caddr" >/dev/null || { not_ok "the veth pair carries packets"; exit 1; }

# --- the block's router: snmpd in the agent ns, its interfaces lo, wan0, lan0, lan1 ---------------
printf 'agentAddress udp:%s:161,udp:10.201.1.1:161,udp:10.201.1.2:161,udp:10.201.1.3:161\nrocommunity blk-ro\nrocommunity gp-ro\nsysName blk-rtr1\ndontLogTCPWrappersConnects yes\n' \
    "$raddr" >"$run/snmpd.conf"
mkdir -p "$run/snmp"
SNMP_PERSISTENT_DIR=$run/snmp MIBS='' ina /usr/sbin/snmpd -C -c "$run/snmpd.conf" -Lf "$run/snmpd.log" \
    -p "$run/snmpd.pid" </dev/null >>"$run/snmpd.log" 2>&1
sysname() { MIBS='' ina snmpget -v2c -c blk-ro -r0 -t0.5 -Oqv "$raddr" .1.3.6.1.2.1.1.5.0; }
wait_for 10 sysname >/dev/null || { not_ok "snmpd answers in $nsa" "$(tail -3 "$run/snmpd.log")"; exit 1; }

# --- services in the collector ns: VC signalling (TCP 1720) and a portal (HTTP 8080) --------------
mkdir -p "$run/www" && echo ok >"$run/www/health"
for port in 1720 8080; do
    ip netns exec "$nsc" /usr/bin/python3 -m http.server --bind "$caddr" --directory "$run/www" "$port" \
        >"$run/http-$port.log" 2>&1 &
    pids+=($!)
done

# --- PKI, topology, collector ---------------------------------------------------------------------
pki=$repo/deploy/pki/rajnet-pki
{ "$pki" ca "$run/pki" && "$pki" collector "$run/pki" collector --ip "$caddr" &&
  "$pki" node "$run/pki" dist/blk; } >/dev/null || { not_ok "rajnet-pki makes the certificates"; exit 1; }
cat >"$run/topology.yaml" <<EOF
settings: { poll_interval_s: 5, probe_interval_s: 2, probe_count: 5 }
vendors: { bsnl: { name: BSNL, contact: noc@bsnl.example } }
sla_classes:
  bhq: { availability: 99.0, max_latency_ms: 150, max_loss_pct: 2.0, max_jitter_ms: 50, min_outage_s: 60,
         restore_hours: { S1: 8, S2: 24 }, penalty: [[99.0, 0], [0, 25]] }
services:
  vc:     { kind: vc, endpoints: [{ node: sdc, addr: $caddr, tcp: [1720] }] }
  emitra: { kind: egov, endpoints: [{ node: sdc, addr: $caddr, tcp: [8080], url: "http://$caddr:8080/health" }] }
nodes:
  sdc: { tier: sdc, devices: [{ name: core1, addr: $caddr, snmp: { version: 2c, secret: ro } }] }
  dist:
    tier: district
    parent: sdc
    devices: [{ name: rtr1, addr: $paddr, snmp: { version: 2c, secret: ro } }]
    uplinks:
      - { circuit: DST-1, vendor: bsnl, kind: mpls, mbps: 34, sla: bhq, role: primary,
          local: { device: rtr1, ifname: up0 }, remote: { device: core1, ifname: dist } }
  dist/blk:
    tier: block
    parent: dist
    devices: [{ name: rtr1, addr: $raddr, snmp: { version: 2c, secret: blk } }]
    uplinks:
      - { circuit: BLK-1, vendor: bsnl, kind: mpls, mbps: 8, sla: bhq, role: primary,
          local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, ifname: blk } }
EOF
for v in 1 2 3; do cat >>"$run/topology.yaml" <<EOF
  dist/blk/gp$v:
    tier: village
    parent: dist/blk
    agent: false
    devices: [{ name: rtr1, addr: 10.201.1.$v, snmp: { version: 2c, secret: gp } }]
    uplinks:
      - { circuit: GP-$v, vendor: bsnl, kind: radio, mbps: 2, sla: bhq, role: primary,
          local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, ifname: gp$v } }
EOF
done
printf 'ro: { community: not-polled }\nblk: { community: blk-ro }\ngp: { community: gp-ro }\n' >"$run/secrets.yaml"
loopback_collector "$run" "$caddr:7400" "$run"
ip netns exec "$nsc" "$collector_bin" -c "$run/collector.yaml" >"$run/collector.log" 2>&1 &
pids+=($!)
wait_for 10 grep -q "listening for agents" "$run/collector.log" ||
    { not_ok "the collector starts" "$(tail -3 "$run/collector.log")"; exit 1; }

# --- the agent, capped at 64 kbit/s -----------------------------------------------------------------
mkdir -p "$run/agent"
cat >"$run/agent/agent.yaml" <<EOF
node: dist/blk
collectors: ["$caddr:7400"]
state_dir: $run/agent/state
log_level: info
tls: { cert: $run/pki/dist-blk.crt, key: $run/pki/dist-blk.key, ca: $run/pki/ca.crt, collector_name: collector }
spool_fsync: interval
uplink_rate_kbps: 64
udp_echo_port: 0
EOF
alog=$run/agent/agent.log
ip netns exec "$nsa" "$agent_bin" -c "$run/agent/agent.yaml" >"$alog" 2>&1 &
pids+=($!)
rrd=$run/rrd/dist/blk/icmp/dist.rrd
if wait_for 30 test -s "$rrd"; then ok "the agent's probes of its parent reach $rrd"
else not_ok "the probe file appears" "$(ls -R "$run/rrd" 2>&1 | head; tail -5 "$alog")"; exit 1; fi
iffile=$(wait_for 20 bash -c "ls $run/rrd/dist/blk/if/*/*.rrd >/dev/null" && ls "$run"/rrd/dist/blk/if/*/*.rrd | head -1)
check "the router's interfaces are polled over SNMP (${iffile:-none})" test -n "$iffile"
sleep 20 # a few more rounds, so the figures below are of a running agent

# --- the cut: a black hole both ways, interfaces up -------------------------------------------------
# now_ms: wall clock in ms; since NAME T0_MS: seconds from T0_MS to now, 0.1 s resolution
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
n_lines() { grep -c "$1" "$alog"; }
silence_re='heard nothing for'
conn_before=$(n_lines "connected to collector")
silent_before=$(n_lines "$silence_re")
t_cut=$(now_ms)
# cut_rules -I|-D: the black hole's rules, inserted or deleted
cut_rules() {
    if [ "$CUT" = session ]; then
        inc iptables "$1" INPUT -i blk0 -p tcp --dport 7400 -j DROP &&
        ina iptables "$1" INPUT -i wan0 -p tcp --sport 7400 -j DROP
    else
        inc iptables "$1" INPUT -i blk0 -j DROP && ina iptables "$1" INPUT -i wan0 -j DROP
    fi
}
cut_rules -I || { not_ok "iptables black hole"; exit 1; }
echo "# cut ($CUT) at $(date +%T) for $CUT_S s"
if wait_for 30 bash -c "[ \$(grep -c '$silence_re' '$alog') -gt $silent_before ]"; then
    detect=$(since "$t_cut")
else
    detect=none
fi
# 15 s after the last byte heard, which came just before the cut; 1 s more for the two iptables
# calls and this loop's 0.2 s polling
if [ "$detect" != none ] && awk -v d="$detect" 'BEGIN { exit !(d <= 16) }'; then
    ok "the agent notices the dead session ${detect} s after the cut (3 heartbeats = 15 s): $(grep "$silence_re" "$alog" | tail -1 | cut -c1-160)"
else
    not_ok "the agent notices the dead session within 3 heartbeats" "after ${detect} s; $(tail -3 "$alog")"
fi
sleep $(( CUT_S > 30 ? CUT_S - 30 : 1 ))
while [ $(( $(now_ms) - t_cut )) -lt $(( CUT_S * 1000 )) ]; do sleep 0.2; done
silent_lines=$(( $(n_lines "$silence_re") - silent_before ))
check "the dead session is logged once over the cut (got $silent_lines silence lines)" test "$silent_lines" -eq 1

# --- the heal ------------------------------------------------------------------------------------
cut_rules -D || not_ok "iptables heal"
t_heal=$(now_ms)
echo "# healed at $(date +%T)"
if wait_for 150 bash -c "[ \$(grep -c 'connected to collector' '$alog') -gt $conn_before ]"; then
    reconnect=$(since "$t_heal")
else
    reconnect=none
fi
current() { local t; t=$(rrd_last_time "$rrd"); [ -n "$t" ] && [ "$t" -ge $(( $(date +%s) - 4 )) ]; }
if wait_for 180 current; then current_s=$(since "$t_heal"); else current_s=none; fi
if [ "$current_s" != none ] && awk -v d="$current_s" 'BEGIN { exit !(d <= 15) }'; then
    ok "the probe file is current again ${current_s} s after the heal (reconnected after ${reconnect} s)"
else
    not_ok "the probe file is current within 15 s of the heal" \
        "after ${current_s} s (reconnected after ${reconnect} s); last update $(rrd_last_time "$rrd"), now $(date +%s)"
fi

# --- nothing lost: every row of loss across the cut is known ------------------------------------
sleep 5 # the rows up to the heal are complete
step=$(rrdtool info "$rrd" | awk -F' = ' '$1 == "step" { print $2 }')
last=$(rrd_last_time "$rrd")
# from shortly before the cut to shortly after the heal (and no later than the last update)
s=$(( (t_cut / 1000 - 10) / step * step )) e=$(( t_heal / 1000 + 10 ))
# the row that ends after the last update is not complete yet: stop one step before it
[ "$e" -le $(( last - step )) ] || e=$(( last - step ))
e=$(( e / step * step ))
rows=$(rrdtool fetch "$rrd" AVERAGE -r "$step" -s "$s" -e "$e" 2>/dev/null | awk -v l="$last" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "loss") col = i + 1; next }
    NF > 1 && col && $1 + 0 <= l { n++; if ($col ~ /nan/) u++; else if ($col + 0 >= 99) c++ }
    END { printf "%d %d %d\n", n, u, c }')
read -r n_rows unknown cut_rows <<<"$rows"
want_cut_rows=$(( CUT_S / step - 2 ))
[ "$CUT" = session ] && want_cut_rows=0 # the probes kept answering
if [ "${n_rows:-0}" -gt $(( CUT_S / step )) ] && [ "${unknown:-1}" -eq 0 ] &&
   [ "${cut_rows:-0}" -ge "$want_cut_rows" ]; then
    ok "no unknown row across the cut: $n_rows rows of $step s, $unknown unknown, $cut_rows at 100% loss (the cut, replayed)"
else
    not_ok "no unknown row across the cut" "$n_rows rows of $step s from $s to $e, $unknown unknown, $cut_rows at 100% loss"
    # where the unknown rows are, against the cut and the heal, and what the collector said
    rrdtool fetch "$rrd" AVERAGE -r "$step" -s "$s" -e "$e" 2>/dev/null |
        awk -v c=$(( t_cut / 1000 )) -v h=$(( t_heal / 1000 )) -v l="$last" '
            NR == 1 { for (i = 1; i <= NF; i++) if ($i == "loss") col = i + 1; next }
            NF > 1 && col && $col ~ /nan/ { t = $1 + 0
                printf "# unknown row at %d: cut %+d s, heal %+d s, last update %+d s\n", t, t - c, t - h, t - l }'
    grep -E "older than|too old|not stored|dropped|refus" "$run/collector.log" | tail -5 | sed 's/^/# collector: /'
fi

# --- figures -------------------------------------------------------------------------------------
replay=$(grep 'delivery: caught up' "$alog" | tail -1)
echo "# figures: cut ($CUT) ${CUT_S} s, cap 64 kbit/s: dead session noticed after ${detect} s; reconnected ${reconnect} s after the heal; current after ${current_s} s"
echo "# replay: ${replay:-no 'caught up' line}"
echo "# failed connection attempts during the cut logged as warnings: $(grep -c 'collector .*7400: ' "$alog")"
check "the agent logged no error" bash -c "! grep ' error: ' '$alog'"
exit $(( TEST_FAILS > 0 ))
