#!/bin/sh
# snmp_vs_collectd.sh: the agent's SNMP poller + ICMP prober and collectd 5.12 (snmp plugin with
# BulkSize 25, ping plugin) polling the same snmpds every second, side by side in one run;
# prints values polled per CPU-second and peak RSS of each, and the ratio.
#
#   tests/bench/snmp_vs_collectd.sh [-d devices] [-p veth-pairs] [-t seconds] [-w warmup]
#                                   [-b builddir] [-A]
#
# Everything runs in a network namespace the script creates (and deletes): lo plus -p veth pairs
# (default 8: 17 interfaces, as the reference figures in docs/architecture.md, "Targets"), and
# -d snmpd instances (default 6) on
# 127.0.1.1, 127.0.1.2, ... each with its own config and state directory, no AgentX. Both pollers
# ask each snmpd for the same 11 IF-MIB columns of every interface (collectd: 4 Data blocks, each
# with ifName as its Instance: 7 value columns + 4 x ifName; the agent: 7 value columns + ifName,
# ifHighSpeed and the 32-bit in/out octets it falls back to) and keep the same 7 values an
# interface; both ping every snmpd once a second. collectd has no write plugin (nothing is
# stored), the agent driver discards its samples (nothing is sent).
#
# Counted over the same window (after -w s of warm-up): CPU from /proc/PID/stat (collectd) and
# getrusage (driver); values = known values of the driver's "if" samples; for collectd,
# series x values per series x polls, with the series read back through its unixsock plugin
# (LISTVAL, only series updated in the last 3 s count). Needs root. Stops by itself.
#
# -A: also runs the real rajnet-agent in the same window, started from a cached plan
# (state_dir/plan.bin, written by the driver's -P) that holds the same devices and targets, with
# a throw-away CA and certificate (deploy/pki/rajnet-pki) and no collector listening: it polls,
# probes and spools as it would cut off. Its CPU and peak RSS are printed beside the others.
# RSS: VmHWM counts the shared library pages a process touched (libcrypto alone is ~3.4 MB in
# every process that links OpenSSL, as net-snmp does); "RSS anon" is the private part.
set -eu

ndev=6 pairs=8 t=40 warm=5 build=. real=no
src=$(cd "$(dirname "$0")/../.." && pwd)
while getopts d:p:t:w:b:A o; do
    case $o in
    d) ndev=$OPTARG ;;
    p) pairs=$OPTARG ;;
    t) t=$OPTARG ;;
    w) warm=$OPTARG ;;
    b) build=$OPTARG ;;
    A) real=yes ;;
    *) echo "usage: $0 [-d devices] [-p veth-pairs] [-t s] [-w s] [-b builddir] [-A]" >&2; exit 2 ;;
    esac
done
drv=$build/tests/bench/agent_snmp_bench
[ -x "$drv" ] || { echo "snmp_vs_collectd: no $drv (make check TESTS=)" >&2; exit 2; }
for c in /usr/sbin/snmpd /usr/sbin/collectd snmpget; do
    command -v $c >/dev/null || { echo "snmp_vs_collectd: $c missing" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "snmp_vs_collectd: needs root (netns, raw ICMP)" >&2; exit 2; }
[ "$ndev" -ge 1 ] && [ "$ndev" -le 250 ] && [ "$pairs" -ge 0 ] && [ "$pairs" -le 64 ] &&
    [ "$warm" -ge 1 ] && [ "$t" -gt "$warm" ] && [ "$t" -le 600 ] ||
    { echo "snmp_vs_collectd: 1 <= d <= 250, 0 <= p <= 64, 1 <= w < t <= 600" >&2; exit 2; }

ns=rnbench$$
dir=$(mktemp -d /tmp/rn-snmp-bench.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
in_ns() { ip netns exec "$ns" "$@"; }

# ---- the namespace: lo + veth pairs -------------------------------------------------------------
ip netns add "$ns"
ip -n "$ns" link set lo up
k=1
while [ "$k" -le "$pairs" ]; do
    ip -n "$ns" link add "vb${k}a" type veth peer name "vb${k}b"
    ip -n "$ns" link set "vb${k}a" up
    ip -n "$ns" link set "vb${k}b" up
    k=$((k + 1))
done
# an IPv4 address off loopback: getaddrinfo(AI_ADDRCONFIG), as collectd's ping plugin (liboping)
# calls it, returns no IPv4 address at all while only lo has one
[ "$pairs" -ge 1 ] && ip -n "$ns" addr add 10.99.0.1/24 dev vb1a

# ---- snmpds ---------------------------------------------------------------------------------------
i=1
: >"$dir/devices"
while [ "$i" -le "$ndev" ]; do
    mkdir -p "$dir/snmpd$i"
    printf 'rocommunity public 127.0.0.0/8\n' >"$dir/snmpd$i/snmpd.conf"
    # started with & straight from this shell (not through a function) so that $! is the daemon
    ip netns exec "$ns" env SNMP_PERSISTENT_DIR="$dir/snmpd$i" MIBS= /usr/sbin/snmpd -f \
        -Lf /dev/null -C -c "$dir/snmpd$i/snmpd.conf" -p "$dir/snmpd$i/pid" \
        "udp:127.0.1.$i:161" </dev/null >/dev/null 2>&1 &
    pids="$pids $!"
    echo "udp:127.0.1.$i:161" >>"$dir/devices"
    i=$((i + 1))
done
i=1
while [ "$i" -le "$ndev" ]; do
    tries=0
    until in_ns snmpget -v2c -c public -r0 -t1 -On "127.0.1.$i" .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt 20 ] || { echo "snmp_vs_collectd: snmpd $i does not answer" >&2; exit 1; }
        sleep 0.5
    done
    i=$((i + 1))
done
nif=$(in_ns snmpbulkwalk -v2c -c public -Cr25 -On 127.0.1.1 .1.3.6.1.2.1.31.1.1.1.1 | wc -l)

# ---- collectd --------------------------------------------------------------------------------------
col() { echo ".1.3.6.1.2.1.$1"; }
{
    cat <<EOF
Hostname "bench"
FQDNLookup false
Interval 1
BaseDir "$dir/collectd"
PIDFile "$dir/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel "warning"
  File "$dir/collectd.log"
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "$dir/collectd.sock"
  SocketGroup "root"
</Plugin>
LoadPlugin ping
<Plugin ping>
  Interval 1.0
  AddressFamily "ipv4"
EOF
    i=1
    while [ "$i" -le "$ndev" ]; do echo "  Host \"127.0.1.$i\""; i=$((i + 1)); done
    cat <<EOF
</Plugin>
LoadPlugin snmp
<Plugin snmp>
  <Data "octets">
    Type "if_octets"
    Table true
    TypeInstanceOID "$(col 31.1.1.1.1)"
    Values "$(col 31.1.1.1.6)" "$(col 31.1.1.1.10)"
  </Data>
  <Data "errors">
    Type "if_errors"
    Table true
    TypeInstanceOID "$(col 31.1.1.1.1)"
    Values "$(col 2.2.1.14)" "$(col 2.2.1.20)"
  </Data>
  <Data "dropped">
    Type "if_dropped"
    Table true
    TypeInstanceOID "$(col 31.1.1.1.1)"
    Values "$(col 2.2.1.13)" "$(col 2.2.1.19)"
  </Data>
  <Data "oper">
    Type "gauge"
    Table true
    TypeInstanceOID "$(col 31.1.1.1.1)"
    Values "$(col 2.2.1.8)"
  </Data>
EOF
    i=1
    while [ "$i" -le "$ndev" ]; do
        cat <<EOF
  <Host "d$i">
    Address "127.0.1.$i"
    Version 2
    Community "public"
    Collect "octets" "errors" "dropped" "oper"
    Interval 1
    BulkSize 25
  </Host>
EOF
        i=$((i + 1))
    done
    echo "</Plugin>"
} >"$dir/collectd.conf"
mkdir -p "$dir/collectd"

# ---- the real agent (-A): a cached plan, a throw-away certificate, no collector -------------------
if [ "$real" = yes ]; then
    [ -x "$build/agent/rajnet-agent" ] || { echo "snmp_vs_collectd: no $build/agent/rajnet-agent" >&2; exit 2; }
    mkdir -p "$dir/ra/state" "$dir/ra/pki"
    "$src/deploy/pki/rajnet-pki" ca "$dir/ra/pki" >/dev/null 2>&1
    "$src/deploy/pki/rajnet-pki" node "$dir/ra/pki" bench/agent >/dev/null 2>&1
    "$drv" -f "$dir/devices" -P "$dir/ra/state"
    cat >"$dir/ra/agent.yaml" <<EOF
node: bench/agent
collectors: ["127.0.0.1:9"]
state_dir: $dir/ra/state
log_level: warn
tls:
  cert: $dir/ra/pki/bench-agent.crt
  key: $dir/ra/pki/bench-agent.key
  ca: $dir/ra/pki/ca.crt
  collector_name: collector
spool_fsync: interval
EOF
fi

echo "snmp_vs_collectd: $ndev snmpds x $nif interfaces, every 1 s, window $((t - warm)) s after $warm s warm-up; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
ip netns exec "$ns" /usr/sbin/collectd -f -C "$dir/collectd.conf" </dev/null >"$dir/collectd.out" 2>&1 &
cpid=$!
pids="$pids $cpid"
ip netns exec "$ns" "$drv" -f "$dir/devices" -t "$t" -w "$warm" >"$dir/agent.out" 2>"$dir/agent.err" &
apid=$!
pids="$pids $apid"
rpid=""
if [ "$real" = yes ]; then
    ip netns exec "$ns" "$build/agent/rajnet-agent" -c "$dir/ra/agent.yaml" >"$dir/ra/log" 2>&1 &
    rpid=$!
    pids="$pids $rpid"
fi
stat_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
sleep "$warm"
c0=$(stat_cpu "$cpid")
[ -z "$rpid" ] || r0=$(stat_cpu "$rpid")
sleep $((t - warm))
c1=$(stat_cpu "$cpid")
chwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$cpid/status")
canon=$(awk '/^RssAnon/ { print $2 }' "/proc/$cpid/status")
if [ -n "$rpid" ]; then
    r1=$(stat_cpu "$rpid")
    rhwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$rpid/status")
    ranon=$(awk '/^RssAnon/ { print $2 }' "/proc/$rpid/status")
    kill "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
fi
# the snmp series collectd updated in the last 3 s, by type
/usr/bin/python3 - "$dir/collectd.sock" >"$dir/listval" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.write("LISTVAL\n"); f.flush()
n = int(f.readline().split()[0])
for _ in range(n):
    print(f.readline().strip())
EOF
wait "$apid"
kill "$cpid" 2>/dev/null || true
wait "$cpid" 2>/dev/null || true
now=$(date +%s)
vpp=$(awk -v now="$now" '$1 >= now - 3 && $2 ~ /\/snmp\// {
        n += ($2 ~ /\/gauge-/) ? 1 : 2 } END { print n + 0 }' "$dir/listval")
win=$((t - warm))
get() { awk -v k="$1" '$1 == k { print $2 }' "$dir/agent.out"; }
a_vals=$(get values)
a_cpu=$(get cpu_s)
c_cpu=$(echo "$c0 $c1" | awk '{ printf "%.2f", $2 - $1 }')
c_vals=$((vpp * win))

printf '\n%-28s %12s %12s\n' "figure ($win s window)" "agent" "collectd"
printf '%-28s %12s %12s\n' "values per poll round" "$(( $(get if_samples) / win * 7 ))" "$vpp"
printf '%-28s %12s %12s\n' "values polled" "$a_vals" "$c_vals"
printf '%-28s %12s %12s\n' "CPU seconds" "$a_cpu" "$c_cpu"
printf '%-28s %12s %12s\n' "CPU % of one core" \
    "$(awk -v c="$a_cpu" -v w="$win" 'BEGIN { printf "%.2f", 100 * c / w }')" \
    "$(awk -v c="$c_cpu" -v w="$win" 'BEGIN { printf "%.2f", 100 * c / w }')"
ar=$(awk -v v="$a_vals" -v c="$a_cpu" 'BEGIN { printf "%.0f", (c > 0) ? v / c : 0 }')
cr=$(awk -v v="$c_vals" -v c="$c_cpu" 'BEGIN { printf "%.0f", (c > 0) ? v / c : 0 }')
printf '%-28s %12s %12s\n' "values per CPU-second" "$ar" "$cr"
printf '%-28s %12s %12s\n' "peak RSS (VmHWM) kB" "$(get rss_peak_kb)" "$chwm"
printf '%-28s %12s %12s\n' "RSS anon (private) kB" "$(get rss_anon_kb)" "$canon"
printf '%-28s %12s %12s\n' "ping rounds answered" "$(get icmp_answered)" "-"
echo
echo "agent / collectd values per CPU-second: $(awk -v a="$ar" -v c="$cr" 'BEGIN { printf "%.2f", (c > 0) ? a / c : 0 }') (target >= 2)"
if [ -n "$rpid" ]; then
    r_cpu=$(echo "$r0 $r1" | awk '{ printf "%.2f", $2 - $1 }')
    echo "real rajnet-agent, same devices and window (it also spools every sample): CPU $r_cpu s ($(awk -v c="$r_cpu" -v w="$win" 'BEGIN { printf "%.2f", 100 * c / w }')% of one core), peak RSS (VmHWM) $rhwm kB, RSS anon $ranon kB (target <= 8192 kB with 50 devices)"
    echo "real rajnet-agent / collectd values per CPU-second (its values taken as the driver's): $(awk -v v="$a_vals" -v c="$r_cpu" -v cr="$cr" 'BEGIN { printf "%.2f", (c > 0 && cr > 0) ? v / c / cr : 0 }')"
    grep -v "connect failed" "$dir/ra/log" | sort | uniq -c | sort -rn | head -3 | sed 's/^/  /'
fi
if [ -s "$dir/agent.err" ]; then echo "agent driver said:"; sed 's/^/  /' "$dir/agent.err" | head -5; fi
if [ -s "$dir/collectd.log" ]; then echo "collectd said:"; sed 's/^/  /' "$dir/collectd.log" | sort | uniq -c | sort -rn | head -5; fi
