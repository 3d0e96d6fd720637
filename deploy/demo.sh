#!/usr/bin/env bash
# The main job: installs what rajnet-mon needs, builds it, brings up the simulated RajNet
# (state data centre, two districts, three blocks and three agentless villages in network
# namespaces, each with its own snmpd), and runs one collector and one agent per node that has
# one. Management is in band by default, as on the real WAN (agents reach the collector over the
# data path, so a cut silences the agents below it); RAJNET_MGMT=oob gives every agent a
# separate management path instead. Runs until Ctrl-C, or for --duration SECONDS; cleans up
# either way.
set -euo pipefail

usage() {
    echo "usage: [RAJNET_MGMT=inband|oob] deploy/demo.sh [--duration SECONDS] [--run-dir DIR]"
    echo "  Run as root. RRD files land under RUN_DIR/rrd (default build/demo/rrd)."
    echo "  RAJNET_MGMT: how agents reach the collector (default inband: over the data path)."
}

duration=0
repo=$(cd "$(dirname "$0")/.." && pwd)
run_dir=$repo/build/demo
while [ $# -gt 0 ]; do
    case $1 in
        --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
        --run-dir) run_dir=${2:?--run-dir needs a folder}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: must run as root (it installs packages and creates network namespaces)" >&2
    exit 1
fi

"$repo/deploy/install-deps.sh"
"$repo/deploy/build.sh"
# shellcheck source=deploy/stack.sh
source "$repo/deploy/stack.sh"

rm -rf "$run_dir"
trap 'stack_stop; echo "demo: stopped and cleaned up"' EXIT
trap 'exit 0' INT TERM
stack_start "$run_dir"

cat <<TXT

demo: the simulated RajNet is up; collector and agents are running.
  management:      $( [ "$STACK_MGMT" = inband ] \
      && echo "in band: agents reach the collector at $STACK_COLLECTOR_ADDR over the data path, so a cut silences the agents below it" \
      || echo "out of band: agents reach the collector at $STACK_COLLECTOR_ADDR over the management bridge" )
  villages:        jaipur/amer/gp-kunda, jaipur/sanganer/gp-bagru, ajmer/kishangarh/gp-tilonia (no agent)
  NOC dashboard:   http://127.0.0.1:8080/   (operator token for acks: rajnet-demo-operator)
  collector log:   $run_dir/collector.log
  agent logs:      $run_dir/agents/<node>/agent.log
  RRD files:       $run_dir/rrd/<node>/if/<device>/<ifname>.rrd   (interface counters)
                   $run_dir/rrd/<node>/icmp/<target>.rrd          (probe RTT and loss)
Try, in another shell:
  rrdtool lastupdate $run_dir/rrd/jaipur/sanganer/if/rtr1/wan0.rrd
  rrdtool lastupdate $run_dir/rrd/jaipur/sanganer/icmp/sdc.rrd
  $repo/deploy/sim/rajnet-sim cut JPR-MPLS-0042     # cut Jaipur's uplink; heal it with 'heal'
  $repo/deploy/sim/rajnet-sim cut AJM-LL-0107 --blackhole   # interfaces stay up, packets vanish
$( [ "$duration" -gt 0 ] && echo "Stopping by itself after $duration s." || echo "Ctrl-C stops everything." )
TXT

# sleep in the background and wait, so a signal runs the trap at once
if [ "$duration" -gt 0 ]; then
    sleep "$duration" & wait $!
else
    while :; do sleep 3600 & wait $!; done
fi
