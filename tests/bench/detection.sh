#!/usr/bin/env bash
# Detection and clear latency on the simulated RajNet at 1 s probing (docs/architecture.md,
# "Targets": link cut -> alarm raised in <= 3 s, cleared <= 5 s after heal). Cuts and heals LINK
# ROUNDS times and prints, per round, the time from the cut to the collector's "raised" line and
# from the heal to its "cleared" line (both from the collector's log timestamps), then
# min/median/max. Cuts are 65 s apart: closer, the alarm engine rightly calls the link flapping
# (3 changes in 60 s).
#   tests/bench/detection.sh [ROUNDS] [LINK]   (root; uses RAJNET_BUILD, default build/)
# LINK defaults to JPR-MPLS-0042 (a district's uplink into sdc). The way it fails:
#   RN_DETECT_CUT=blackhole|ifdown   interfaces stay up and every packet is dropped (the usual
#                                    RajNet failure), or both ends go down [blackhole]
#   RN_DETECT_MGMT=inband|oob        agents reach the collector over the data path (a cut silences
#                                    the agents below it: only the side above is heard) or over a
#                                    separate management network [inband]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:-5}
link=${2:-JPR-MPLS-0042}
cut_args=(cut "$link")
case ${RN_DETECT_CUT:-blackhole} in
    blackhole) cut_args+=(--blackhole) ;;
    ifdown) ;;
    *) echo "detection: RN_DETECT_CUT is blackhole or ifdown" >&2; exit 2 ;;
esac
export RAJNET_MGMT=${RN_DETECT_MGMT:-inband}
echo "detection: $link, ${RN_DETECT_CUT:-blackhole} cut, $RAJNET_MGMT management, 1 s probing, $rounds rounds"
run=$(mktemp -d /tmp/rn-detect-XXXXXX)
topo=$run/topology-1s.yaml
sed 's/^  probe_interval_s: .*/  probe_interval_s: 1     # 1 s probing for this benchmark/' \
    "$here/../../deploy/sim/topology.yaml" > "$topo"
export RAJNET_TOPOLOGY=$topo
source "$here/../../deploy/stack.sh"
trap 'stack_stop; rm -rf "$run"' EXIT
stack_start "$run/stack" >/dev/null || { echo "detection: stack did not start" >&2; exit 1; }
log=$run/stack/collector.log
sleep 8

ms_of_line() { # the log line's timestamp in Unix ms
    date -d "$(echo "$1" | cut -c1-23)Z" +%s%3N
}
wait_line() { # wait_line PATTERN FROM_LINE -> prints the first matching line after FROM_LINE
    local i
    for i in $(seq 200); do
        local l; l=$(tail -n +"$(($2 + 1))" "$log" | grep -m1 -E "$1") && { echo "$l"; return 0; }
        sleep 0.1
    done
    return 1
}
raise=() clear=()
for r in $(seq "$rounds"); do
    mark=$(wc -l < "$log")
    t0=$(date +%s%3N); stack_sim "${cut_args[@]}" >/dev/null
    l=$(wait_line "alarm [0-9]+ raised .*$link" "$mark") || { echo "round $r: no alarm in 20 s"; continue; }
    raise+=($(( $(ms_of_line "$l") - t0 )))
    sleep 3
    mark=$(wc -l < "$log")
    t1=$(date +%s%3N); stack_sim heal "$link" >/dev/null
    l=$(wait_line "alarm [0-9]+ cleared .*link $link" "$mark") || { echo "round $r: not cleared in 20 s"; continue; }
    clear+=($(( $(ms_of_line "$l") - t1 )))
    printf 'round %d: cut -> raised %5d ms   heal -> cleared %5d ms\n' "$r" "${raise[-1]}" "${clear[-1]}"
    [ "$r" -lt "$rounds" ] && sleep $(( 65 - ($(date +%s%3N) - t0) / 1000 ))
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "min %d  median %d  max %d ms", a[1], a[int((NR+1)/2)], a[NR]}'; }
echo "detection (target <= 3000 ms): $(stats "${raise[@]}")"
echo "clear     (target <= 5000 ms): $(stats "${clear[@]}")"
