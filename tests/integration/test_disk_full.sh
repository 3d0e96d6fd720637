#!/usr/bin/env bash
# Full disks at the collector, with a real collector and agent on loopback (no simulation: the
# agent's node probes its parent at 127.0.0.1 and checks TCP services there). The collector's RRD
# directory and its state directory (the event store, SQLite) are each a small tmpfs, filled to
# the last byte with a filler file; then a topology reload gives the agent a new service to check,
# whose RRD file cannot be created and whose service_unreachable alarm cannot be written:
#  - each gives a clear error, once (not one line per file or per batch);
#  - no batch that needed the new file is acked: the agent keeps it in its spool (no RRD file
#    appears while the disk is full), and what was acked before is in the files (no gap);
#  - the collector keeps running, and recovers by itself when the filler goes: the spooled
#    batches arrive, `rrdtool fetch` shows no gap in the new service's file over the full period,
#    and the alarm raised while the disk was full is in the event store;
#  - nothing is counted lost (no sample "could not be written", no ledger write lost).
# Needs root (mount). About 90 s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "not ok - test_disk_full needs root (mount)"; exit 1; }
build=${RAJNET_BUILD:-$repo/build}
agent_bin=$build/agent/rajnet-agent
collector_bin=$build/collector/rajnet-collector
[ -x "$agent_bin" ] && [ -x "$collector_bin" ] || { echo "not ok - no build at $build (set RAJNET_BUILD)"; exit 1; }
FULL_S=${DISK_FULL_S:-40}
run=$(mktemp -d /tmp/rn-diskfull-XXXXXX)
cpid="" apid=""
cleanup() {
    local p
    for p in $apid $cpid; do kill "$p" 2>/dev/null; done
    for p in $apid $cpid; do wait "$p" 2>/dev/null; done
    umount "$run/rrd" "$run/state" 2>/dev/null
    rm -rf "$run"
}
trap cleanup EXIT
[ -n "${KEEP_LOG:-}" ] && trap "cp $run/collector.log $KEEP_LOG; cp $run/agent/agent.log $KEEP_LOG.agent; cleanup" EXIT

mkdir -p "$run/rrd" "$run/state"
mount -t tmpfs -o size=24m tmpfs "$run/rrd" && mount -t tmpfs -o size=4m tmpfs "$run/state" ||
    { not_ok "tmpfs mounts for the RRD and state directories"; exit 1; }
port=$(free_port)
loopback_pki "$run/pki" jaipur || { not_ok "rajnet-pki makes the certificates"; exit 1; }
cat >"$run/topo1.yaml" <<'EOF'
settings: { poll_interval_s: 60, probe_interval_s: 2, probe_count: 2 }
vendors: { bsnl: { name: BSNL, contact: noc@bsnl.example } }
sla_classes:
  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, max_jitter_ms: 30, min_outage_s: 0,
         restore_hours: { S1: 4, S2: 16 }, penalty: [[99.5, 0], [0, 20]] }
services:
  vc: { kind: vc, endpoints: [{ node: sdc, addr: 127.0.0.1, tcp: [1720] }] }
nodes:
  sdc:
    tier: sdc
    devices: [{ name: core1, addr: 127.0.0.1, snmp: { version: 2c, secret: ro } }]
  jaipur:
    tier: district
    parent: sdc
    devices: [{ name: rtr1, addr: 127.0.0.1, snmp: { version: 2c, secret: ro } }]
    uplinks:
      - { circuit: JPR-1, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq, role: primary,
          local: { device: rtr1, ifname: lo }, remote: { device: core1, ifname: lo } }
EOF
# the same with a second service, "emitra" on a port nobody listens on: a new series (a new RRD
# file) and, after a few failed checks, a service_unreachable alarm (a new event store row)
sed 's/^services:$/services:\n  emitra: { kind: egov, endpoints: [{ node: sdc, addr: 127.0.0.1, tcp: [1721] }] }/' \
    "$run/topo1.yaml" >"$run/topo2.yaml"
cp "$run/topo1.yaml" "$run/topology.yaml"
echo 'ro: { community: not-a-real-one }' >"$run/secrets.yaml"
loopback_collector "$run" "127.0.0.1:$port" "$run/state"
clog=$run/collector.log
"$collector_bin" -c "$run/collector.yaml" >"$clog" 2>&1 &
cpid=$!
wait_for 10 grep -q "listening for agents" "$clog" ||
    { not_ok "the collector starts" "$(tail -3 "$clog")"; exit 1; }
loopback_agent "$run/agent" "$run/pki" jaipur "$port" || { not_ok "the agent's folder"; exit 1; }
alog=$run/agent/agent.log
"$agent_bin" -c "$run/agent/agent.yaml" >"$alog" 2>&1 &
apid=$!
probe=$run/rrd/jaipur/icmp/sdc.rrd
newsvc=$run/rrd/jaipur/tcp/emitra-1721.rrd
# nan_rows FILE DS START END: NaN rows of DS over [START, END] at the file's finest step ("none"
# when there are no rows)
nan_rows() {
    rrdtool fetch "$1" AVERAGE -s "$3" -e "$4" 2>/dev/null | awk -v ds="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
        NF > 1 && col { n++; if ($col ~ /nan/) bad++ }
        END { if (!n) print "none"; else print bad + 0 }'
}
caught_up() { [ "$(rrd_last_time "$1" 2>/dev/null || echo 0)" -ge "$2" ] 2>/dev/null; }
wait_for 20 test -s "$probe" || { not_ok "probes reach the collector" "$(tail -3 "$alog")"; exit 1; }
first=$(rrd_last_time "$probe")
wait_for 20 caught_up "$probe" "$(($(date +%s) + 2))"
t0=$(date +%s)
# the rows looked at start 10 s before the fill, or at the file's first sample if it is younger:
# rows before it are no gap
from=$((t0 - 10)); [ "$from" -gt "$first" ] || from=$first

# --- fill both disks, then give the agent a new series -------------------------------------------
fill() { dd if=/dev/zero of="$1/filler" bs=64k status=none 2>/dev/null; sync; }
fill "$run/rrd"; fill "$run/state"
echo "# full: rrd $(df --output=avail -k "$run/rrd" | tail -1) KiB free, state $(df --output=avail -k "$run/state" | tail -1) KiB free"
cp "$run/topo2.yaml" "$run/topology.yaml"
kill -HUP "$cpid"
t1=$(date +%s)
sleep "$FULL_S"
t2=$(date +%s)
check "the collector runs on with both disks full" kill -0 "$cpid"
check "the RRD store says its directory is full, once" \
    test "$(grep -c "rrd: $run/rrd is full" "$clog")" -eq 1
n_create=$(grep -c "cannot create" "$clog")
check "librrd's error for the new file is logged once, not per batch ($n_create lines)" test "$n_create" -le 1
check "the event store says it holds the ledger writes for a full disk, once" \
    test "$(grep -c "event store .*disk full: .* ledger writes held" "$clog")" -eq 1
check "no RRD file was made for the new service while the disk was full (its batches not acked)" \
    test ! -e "$newsvc"
refused=$(grep -c "not stored: No space left on device" "$clog")
check "batches were refused, not acked, said at most once per 10 s ($refused lines over ${FULL_S} s)" \
    test "$refused" -ge 1 -a "$refused" -le $((FULL_S / 10 + 1))
spool_kib=$(du -sk "$run/agent/state" | cut -f1)
echo "# agent state (spool) after ${FULL_S} s: $spool_kib KiB"
r=$(nan_rows "$probe" loss "$from" $((t1 - 2)))
check "the probe file, acked before the fill, has no gap up to it (NaN rows $r)" test "$r" = 0

# --- room again ------------------------------------------------------------------------------
rm -f "$run/rrd/filler" "$run/state/filler"
t3=$(date +%s)
if wait_for 60 caught_up "$newsvc" "$((t3 + 4))"; then
    ok "after the filler went the new service's file caught up in $(( $(date +%s) - t3 )) s"
else
    not_ok "the spooled batches reach the collector once there is room" "$(tail -5 "$clog")"
fi
wait_for 20 caught_up "$probe" "$((t3 + 4))"
r=$(nan_rows "$newsvc" up $((t1 + 10)) $((t3 + 2)))
check "the new service's file holds every check of the full period, from the spool (NaN rows $r, $((t3 - t1)) s)" \
    test "$r" = 0
r=$(nan_rows "$probe" loss "$from" $((t3 + 2)))
check "the probe file has no gap before, during or after the full period (NaN rows $r)" test "$r" = 0
check "the RRD store says there is room again" grep -q "rrd: $run/rrd has room again" "$clog"
if wait_for 15 grep -q "event store .*room again" "$clog"; then
    ok "the event store committed its held writes: $(grep -o 'event store .*room again.*' "$clog" | sed 's|.*room again|room again|' | head -1)"
else
    not_ok "the event store's held writes commit once there is room"
fi
alarms=$(sqlite3 "file:$run/state/events.db?mode=ro" \
    "SELECT count(*) FROM alarms WHERE type = 'service_unreachable' AND text LIKE '%emitra%'" 2>&1)
check "the alarm raised while the state disk was full is in the event store ($alarms)" test "$alarms" = 1
if grep -q 'could not be written' "$clog"; then
    not_ok "no sample was counted as not written" \
        "$(grep -B3 'could not be written' "$clog" | grep -v 'connected from\|plan sent' | tail -8 | tr '\n' '|')"
else
    ok "no sample was counted as not written"
fi
check "no ledger write was lost" bash -c "! grep -q 'ledger writes lost' '$clog'"
echo "# disk full from $t0 to $t3; $(grep -c 'not stored' "$clog") 'not stored' lines for $(grep -c 'closing: storage failed\|connected from' "$clog") log lines of sessions"
exit $((TEST_FAILS > 0))
