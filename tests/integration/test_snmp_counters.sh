#!/usr/bin/env bash
# Counter wraps, discontinuities and reboots give no spike in the RRD (issue 3). A real snmpd on
# 127.0.0.1 serves a scripted device (helpers/snmp_counter_device.py through pass_persist, with
# snmpd's own system/interfaces modules left out) whose counters move at known rates; a real
# collector and agent (mutual TLS on loopback, certificates from deploy/pki/rajnet-pki) poll it
# every second, and the RRD files are read back with `rrdtool fetch`:
#  - hc0 (64-bit HC counters) and lc0 (32-bit only) store the scripted rates;
#  - lc0's 32-bit counters wrap: no spike, the rate is right again after it;
#  - hc0's counters jump up with a new ifCounterDiscontinuityTime: no spike (DERIVE alone would
#    store the jump as a rate), and the agent logs why it sent that poll's counters as unknown;
#  - the device reboots (sysUpTime back to 0) with hc0's counters above their old value: no spike,
#    the agent logs the reboot, and the rates are right afterwards;
#  - extra OIDs of the device (topology devices[].extra): a CPU gauge lands in its own RRD file
#    with the device's value, and one the device lacks is stored as unknown and logged once; a
#    typo in an extra's kind or oid makes `rajnet-collector --check-config` exit 2 naming the line.
# No simulated RajNet (netns) is needed, so the machine-wide stack lock is not taken.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

build=${RAJNET_BUILD:-$repo/build}
device=$here/helpers/snmp_counter_device.py
RATE_IN=1000000 RATE_OUT=500000 # helpers/snmp_counter_device.py
WRAP_AT=12                      # s after the first boot: lc0's 32-bit counters wrap
DISC_AT=20                      # s after the first boot: hc0's counter discontinuity
REBOOT_AT=28                    # s after the first boot: the device reboots
END_AT=37

for tool in /usr/sbin/snmpd rrdtool /usr/bin/python3 openssl; do
    command -v "$tool" >/dev/null || { not_ok "needs $tool"; exit 1; }
done
run=$(mktemp -d /tmp/rn-snmp-counters-XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    if [ -n "${RAJNET_KEEP_RUN:-}" ]; then echo "# kept $run"; else rm -rf "$run"; fi
}
trap cleanup EXIT

set_control() { # set_control BOOT DISC: rewrite the device's control file atomically
    printf '{"first_boot": %s, "boot": %s, "disc": %s, "wrap_at": %s}\n' \
        "$t0" "$1" "$2" "$WRAP_AT" > "$run/control.tmp" && mv "$run/control.tmp" "$run/control.json"
}

# --- the scripted device ------------------------------------------------------------------------
snmp_port=$(free_port udp)
t0=$(date +%s)
set_control "$t0" 0
{
    echo "rocommunity rn-counters 127.0.0.1"
    echo "dontLogTCPWrappersConnects yes"
    for subtree in .1.3.6.1.2.1.1 .1.3.6.1.2.1.2.2 .1.3.6.1.2.1.31.1.1 .1.3.6.1.4.1.9; do
        echo "pass_persist $subtree /usr/bin/python3 $device $run/control.json $subtree"
    done
} > "$run/snmpd.conf"
SNMP_PERSISTENT_DIR=$run MIBS='' /usr/sbin/snmpd -f -Lf "$run/snmpd.log" -C -c "$run/snmpd.conf" \
    -I -system_mib,ifTable,ifXTable,interfaces "udp:127.0.0.1:$snmp_port" &
pids+=($!)
sys_name() { MIBS='' snmpget -v2c -c rn-counters -r0 -t0.5 -Oqv "127.0.0.1:$snmp_port" .1.3.6.1.2.1.1.5.0; }
if wait_for 10 sys_name >/dev/null && [ "$(sys_name)" = '"scripted1"' ]; then
    ok "snmpd serves the scripted device (sysName $(sys_name)) on udp 127.0.0.1:$snmp_port"
else
    not_ok "snmpd serves the scripted device" "$(tail -5 "$run/snmpd.log")"
    exit 1
fi

# --- collector and agent --------------------------------------------------------------------------
coll_port=$(free_port tcp)
pki=$run/pki
loopback_pki "$pki" lab || { not_ok "rajnet-pki makes certificates"; exit 1; }
cat > "$run/topology.yaml" <<YAML
settings: { poll_interval_s: 1, probe_interval_s: 60 }
vendors: { lab: { name: Lab } }
sla_classes:
  lab: { availability: 99.0, max_latency_ms: 100, max_loss_pct: 1.0 }
nodes:
  lab:
    tier: sdc
    devices:
      - name: rtr1
        addr: "udp:127.0.0.1:$snmp_port"
        snmp: { version: 2c, secret: lab-ro }
        extra:
          - { name: cpu, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.8.1, kind: gauge }
          - { name: temp, oid: 1.3.6.1.4.1.9.9.13.1.3.1.3.1, kind: gauge }
YAML
echo "lab-ro: { community: rn-counters }" > "$run/secrets.yaml"
cat > "$run/collector.yaml" <<YAML
listen: 127.0.0.1:$coll_port
topology: $run/topology.yaml
secrets: $run/secrets.yaml
data_dir: $run/rrd
log_level: info
tls: { cert: $pki/collector.crt, key: $pki/collector.key, ca: $pki/ca.crt }
YAML
mkdir -p "$run/agent"
cat > "$run/agent.yaml" <<YAML
node: lab
collectors: ["127.0.0.1:$coll_port"]
state_dir: $run/agent
log_level: info
tls: { cert: $pki/lab.crt, key: $pki/lab.key, ca: $pki/ca.crt, collector_name: collector }
YAML
"$build/collector/rajnet-collector" -c "$run/collector.yaml" >"$run/collector.log" 2>&1 &
pids+=($!)
check "the collector starts" wait_for 10 grep -q "listening for agents" "$run/collector.log"
"$build/agent/rajnet-agent" -c "$run/agent.yaml" >"$run/agent.log" 2>&1 &
pids+=($!)

hc0=$run/rrd/lab/if/rtr1/hc0.rrd
lc0=$run/rrd/lab/if/rtr1/lc0.rrd
if wait_for 20 test -s "$hc0" -a -s "$lc0"; then
    ok "the interface RRD files of hc0 and lc0 appear"
else
    not_ok "the interface RRD files of hc0 and lc0 appear" "$(tail -5 "$run/agent.log" "$run/collector.log")"
    exit 1
fi
first=$(rrd_last_time "$hc0")

# --- the script: wrap (by itself at WRAP_AT), discontinuity, reboot --------------------------------
sleep_until() { local now; now=$(date +%s); [ "$1" -gt "$now" ] && sleep $(( $1 - now )); return 0; }
sleep_until $((t0 + DISC_AT))
t_disc=$(date +%s)
set_control "$t0" "$t_disc"
sleep_until $((t0 + REBOOT_AT))
t_boot=$(date +%s)
set_control "$t_boot" "$t_disc"
t_end=$((t0 + END_AT))
updated_to_end() { [ "$(rrd_last_time "$hc0")" -ge "$t_end" ] && [ "$(rrd_last_time "$lc0")" -ge "$t_end" ]; }
check "both files are updated up to the end of the script" wait_for $((END_AT - REBOOT_AT + 10)) updated_to_end
t_wrap=$((t0 + WRAP_AT))

# stats FILE DS START END: "known max min nan" of DS's 1 s rows in (START, END]
stats() {
    rrdtool fetch "$1" AVERAGE -r 1 -s "$3" -e "$4" 2>/dev/null | awk -v ds="$2" -v s="$3" -v e="$4" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
        NF > 1 && col { t = $1; sub(":", "", t); if (t <= s || t > e) next
                        if ($col ~ /nan/) { nan++; next }
                        v = $col + 0; n++; if (n == 1 || v > max) max = v; if (n == 1 || v < min) min = v }
        END { printf "%d %.0f %.0f %d\n", n, max, min, nan }'
}
# The agent stamps a poll when it starts and the device reads its counters a few ms later; under
# load that delay varies, so a right rate is one within 5% of the scripted one. A mishandled
# event here is at least 100 times the rate, so "no spike" is "nothing above 1.25 times it".
# rate_ok FILE DS RATE START END: every row known and within 5% of RATE
rate_ok() {
    read -r n max min nan <<<"$(stats "$1" "$2" "$4" "$5")"
    echo "$n rows known, $nan unknown, min $min max $max B/s"
    [ "$n" -ge 2 ] && [ "$nan" -eq 0 ] &&
        awk -v a="$min" -v b="$max" -v r="$3" 'BEGIN { exit !(a >= 0.95 * r && b <= 1.05 * r) }'
}
# no_spike FILE DS RATE: no row of the whole run above 1.25 times RATE
no_spike() {
    read -r n max min nan <<<"$(stats "$1" "$2" "$first" "$t_end")"
    echo "$n rows known, $nan unknown, max $max B/s"
    [ "$n" -ge 20 ] && awk -v b="$max" -v r="$3" 'BEGIN { exit !(b <= 1.25 * r) }'
}
expect() { # expect NAME CMD...: ok/not ok with CMD's output as the detail
    local name=$1 out; shift
    if out=$("$@"); then ok "$name ($out)"; else not_ok "$name" "$out"; fi
}

for f in hc0 lc0; do
    file=$run/rrd/lab/if/rtr1/$f.rrd
    expect "$f in: rate before the events is $RATE_IN B/s" rate_ok "$file" in $RATE_IN $((first + 2)) $((t_wrap - 2))
    expect "$f out: rate before the events is $RATE_OUT B/s" rate_ok "$file" out $RATE_OUT $((first + 2)) $((t_wrap - 2))
    expect "$f in: no spike over the wrap, the discontinuity and the reboot" no_spike "$file" in $RATE_IN
    expect "$f out: no spike over the wrap, the discontinuity and the reboot" no_spike "$file" out $RATE_OUT
    expect "$f in: rate after the reboot is $RATE_IN B/s again" rate_ok "$file" in $RATE_IN $((t_boot + 3)) "$t_end"
done
# wrap_unknown: the rows around lc0's wrap hold an unknown (DERIVE min 0 on a decrease), no rate
wrap_unknown() {
    read -r n max min nan <<<"$(stats "$lc0" in $((t_wrap - 2)) $((t_wrap + 2)))"
    echo "$nan unknown, max $max B/s"
    [ "$nan" -ge 1 ] && awk -v b="$max" -v r="$RATE_IN" 'BEGIN { exit !(b <= 1.25 * r) }'
}
expect "lc0 in: the poll over its 32-bit wrap is stored as unknown" wrap_unknown
expect "lc0 in: rate after its 32-bit wrap is right again" rate_ok "$lc0" in $RATE_IN $((t_wrap + 3)) $((t_boot - 1))
expect "lc0 out: rate after its 32-bit wrap is right again" rate_ok "$lc0" out $RATE_OUT $((t_wrap + 3)) $((t_boot - 1))
expect "hc0 in: rate after the discontinuity is right again" rate_ok "$hc0" in $RATE_IN $((t_disc + 3)) $((t_boot - 1))
check "the agent logged hc0's discontinuity" \
    grep -q "rtr1: hc0 (ifIndex 1) ifCounterDiscontinuityTime changed: its counters of this poll sent as unknown" "$run/agent.log"
check "the agent logged the reboot once" \
    test "$(grep -c "rtr1: sysUpTime went back (reboot): counters of this poll sent as unknown" "$run/agent.log")" = 1
cpu=$run/rrd/lab/gauge/rtr1/cpu.rrd temp=$run/rrd/lab/gauge/rtr1/temp.rrd
check "the extra gauge cpu is in its RRD file with the device's value 37 ($(rrd_last "$cpu" value))" \
    test "$(rrd_last "$cpu" value)" = 37
read -r n max min nan <<<"$(stats "$cpu" value $((first + 2)) "$t_end")"
check "cpu is stored every second at 37 ($n rows, $nan unknown, min $min max $max)" \
    test "$n" -ge 20 -a "$nan" = 0 -a "$min" = 37 -a "$max" = 37
check "the extra temp the device lacks is stored as unknown ($(rrd_last "$temp" value))" \
    test "$(rrd_last "$temp" value)" = U
check "the agent said once that temp is missing" \
    test "$(grep -c "extra temp (1.3.6.1.4.1.9.9.13.1.3.1.3.1): noSuch.*; sent as unknown" "$run/agent.log")" = 1
# bad_extra SED_EXPR WANT: the topology edited by SED_EXPR fails --check-config with WANT
bad_extra() {
    local out rc line
    sed "$1" "$run/topology.yaml" > "$run/bad-topology.yaml"
    sed "s|^topology: .*|topology: $run/bad-topology.yaml|" "$run/collector.yaml" > "$run/bad-collector.yaml"
    out=$("$build/collector/rajnet-collector" -c "$run/bad-collector.yaml" --check-config 2>&1); rc=$?
    line=$(grep -n "name: temp" "$run/bad-topology.yaml" | cut -d: -f1)
    echo "rc=$rc: $out"
    [ "$rc" -eq 2 ] && [[ "$out" == *"$run/bad-topology.yaml:$line: nodes.lab.devices[0].extra[1]"*"$2"* ]]
}
expect "a typo in an extra's kind is refused" bad_extra '/name: temp/s/kind: gauge/kind: gage/' "kind 'gage' is not gauge or counter"
expect "a typo in an extra's oid is refused" bad_extra 's/1.3.6.1.4.1.9.9.13.1.3.1.3.1/1.3.6.1.4.1.9.9.13.1.3.1.3.x/' \
    "oid '1.3.6.1.4.1.9.9.13.1.3.1.3.x' is not a numeric OID"
check "the agent and the collector logged no error" bash -c "! grep -E ' error: ' '$run/agent.log' '$run/collector.log'"
[ "$TEST_FAILS" -gt 0 ] && sed 's/^/# agent: /' "$run/agent.log" | tail -20
exit $((TEST_FAILS > 0))
