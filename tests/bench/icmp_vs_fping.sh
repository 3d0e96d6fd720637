#!/bin/sh
# icmp_vs_fping.sh: the agent's ICMP prober and fping on the same N loopback targets at 1 probe/s
# each, side by side in one run; prints CPU share, the agent's send-schedule error and the RTT
# agreement per target.
#
#   tests/bench/icmp_vs_fping.sh [-n targets] [-t seconds] [-b builddir] [-B other-driver]
#                                [-N nice]
#
# -b: the build tree that holds tests/bench/agent_icmp_bench (default: the current directory;
#     build it with `make check TESTS=`). -B: a second driver binary (e.g. one built from an older
#     icmp_probe.c) run at the same time on the same targets, so a change can be judged in one run.
# -N: run every prober (fping too) at this niceness (e.g. -10), so that other jobs on a shared
#     machine delay their wake-ups less: the send-schedule error then shows the prober, not the
#     neighbours. CPU seconds do not depend on it.
# Targets are 127.1.0.1 onwards (all of 127/8 is routed to lo). fping runs as
# `fping -c T -p 1000 -i I -q` with I small enough for N packets per second. Needs root (raw ICMP
# sockets for both). Everything stops by itself after about T seconds.
set -eu

n=2000 t=40 build=. other="" nice=0
while getopts n:t:b:B:N: o; do
    case $o in
    n) n=$OPTARG ;;
    t) t=$OPTARG ;;
    b) build=$OPTARG ;;
    B) other=$OPTARG ;;
    N) nice=$OPTARG ;;
    *) echo "usage: $0 [-n targets] [-t seconds] [-b builddir] [-B other-driver] [-N nice]" >&2; exit 2 ;;
    esac
done
drv=$build/tests/bench/agent_icmp_bench
[ -x "$drv" ] || { echo "icmp_vs_fping: no $drv (make check TESTS=)" >&2; exit 2; }
command -v fping >/dev/null || { echo "icmp_vs_fping: fping missing (apt-get install fping)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "icmp_vs_fping: needs root (raw ICMP sockets)" >&2; exit 2; }
[ "$n" -ge 1 ] && [ "$n" -le 60000 ] && [ "$t" -ge 5 ] && [ "$t" -le 600 ] || {
    echo "icmp_vs_fping: 1 <= n <= 60000, 5 <= t <= 600" >&2; exit 2; }

dir=$(mktemp -d /tmp/rn-icmp-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# the targets, 127.1.0.1 + i
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) { a = 65536 + i;
    printf "127.%d.%d.%d\n", int(a / 65536), int(a / 256) % 256, a % 256 } }' >"$dir/targets"
# fping's minimum gap between any two packets (ms): a quarter of what N per second needs
gap=$(awk -v n="$n" 'BEGIN { g = 250 / n; if (g > 10) g = 10; printf "%.3f", g }')

run_timed() { # run_timed NAME CMD...: runs CMD, then writes its children's CPU times to NAME.times
    name=$1; shift
    ( nice -n "$nice" "$@"; times >"$dir/$name.times" )
}
cpu_of() { # cpu_of NAME: user+sys seconds of the children line of `times`
    awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); sub("s", "", u[2]); sub("s", "", s[2]);
                   print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$dir/$1.times"
}

echo "icmp_vs_fping: $n targets, 1 probe/s each, $t s; fping -i $gap; niceness $nice; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
run_timed fping fping -c "$t" -p 1000 -i "$gap" -q -f "$dir/targets" 2>"$dir/fping.out" &
p1=$!
run_timed ours "$drv" -n "$n" -t "$t" -r "$dir/ours.rtt" >"$dir/ours.out" &
p2=$!
p3=""
if [ -n "$other" ]; then
    run_timed other "$other" -n "$n" -t "$t" -r "$dir/other.rtt" >"$dir/other.out" &
    p3=$!
fi
wait $p1 || true # fping exits 1 when some target did not answer
wait $p2
[ -z "$p3" ] || wait $p3
wall=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.2f", $2 - $1 }')

get() { awk -v k="$2" '$1 == k { print $2 }' "$dir/$1.out"; }
fping_cpu=$(cpu_of fping)
ours_cpu=$(cpu_of ours)
ours_wall=$(get ours seconds)
# fping's summary: "addr : xmt/rcv/%loss = 40/40/0%, min/avg/max = 0.005/0.008/0.012"
awk '/min\/avg\/max/ { split($NF, m, "/"); print $1, m[2] }' "$dir/fping.out" >"$dir/fping.rtt"
fping_sent=$(awk -F'[=/]' '/xmt\/rcv/ { s += $4 } END { print s + 0 }' "$dir/fping.out")

# RTT agreement: per target, |our mean RTT - fping's mean RTT|
agree() { # agree RTTFILE
    awk 'NR == FNR { f[$1] = $2; next } ($1 in f) { d = $2 - f[$1]; if (d < 0) d = -d;
                     print d, $2, f[$1] }' "$dir/fping.rtt" "$1" | sort -n >"$dir/agree"
    awk '{ d[NR] = $1; s += $1; o += $2; f += $3 } END { if (NR == 0) { print "n/a"; exit }
          printf "%d targets in both, mean |diff| %.4f ms, p50 %.4f ms, p95 %.4f ms, max %.4f ms; mean RTT ours %.4f ms, fping %.4f ms\n",
                 NR, s / NR, d[int(NR * 0.5 + 0.5)], d[int(NR * 0.95 + 0.5)], d[NR], o / NR, f / NR }' "$dir/agree"
}

printf '\n%-22s %12s %12s\n' "figure" "agent" "fping"
printf '%-22s %12s %12s\n' "echo requests sent" "$(get ours sent)" "$fping_sent"
printf '%-22s %12s %12s\n' "CPU seconds" "$ours_cpu" "$fping_cpu"
printf '%-22s %12s %12s\n' "CPU % of one core" \
    "$(awk -v c="$ours_cpu" -v w="$ours_wall" 'BEGIN { printf "%.2f", 100 * c / w }')" \
    "$(awk -v c="$fping_cpu" -v w="$wall" 'BEGIN { printf "%.2f", 100 * c / w }')"
printf '%-22s %12s %12s\n' "peak RSS kB" "$(get ours rss_peak_kb)" "-"
echo
echo "agent CPU / fping CPU: $(awk -v a="$ours_cpu" -v f="$fping_cpu" 'BEGIN { printf "%.2f", (f > 0) ? a / f : 0 }') (target <= 0.50)"
echo "agent send-schedule error: p50 $(get ours sched_err_p50_us) us, p99 $(get ours sched_err_p99_us) us, p99.9 $(get ours sched_err_p999_us) us over $(get ours sched_measured) requests ($(get ours sched_early) early) (target p99 < 1000 us)"
echo "RTT agreement: $(agree "$dir/ours.rtt") (target mean |diff| <= 0.1 ms)"
# how often runnable tasks waited for a CPU meanwhile (other jobs on the machine): the tail of the
# schedule error follows this, not the prober
[ -r /proc/pressure/cpu ] && echo "CPU pressure at the end (PSI, % of time some task waited for a CPU): $(awk '/^some/ { print $2, $3 }' /proc/pressure/cpu)"
if [ -n "$other" ]; then
    other_cpu=$(cpu_of other)
    echo
    echo "other driver ($other), same run:"
    echo "  CPU seconds $other_cpu ($(awk -v c="$other_cpu" -v w="$(get other seconds)" 'BEGIN { printf "%.2f", 100 * c / w }')% of one core), sent $(get other sent), peak RSS $(get other rss_peak_kb) kB"
    echo "  send-schedule error: p50 $(get other sched_err_p50_us) us, p99 $(get other sched_err_p99_us) us, p99.9 $(get other sched_err_p999_us) us"
    echo "  RTT agreement: $(agree "$dir/other.rtt")"
fi
