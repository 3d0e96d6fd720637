#!/usr/bin/env bash
# Nothing is lost, on the simulated RajNet with real daemons and RRD files read with rrdtool:
#  1. an agent cut off from the collector for minutes keeps measuring into its spool; after the
#     cut every probe round and every poll of the cut period is in the RRD files;
#  2. SIGKILL of an agent while it spools: the spool is intact after restart and what was
#     spooled before the kill lands;
#  3. SIGKILL of the collector: agents spool meanwhile, and after its restart the RRD files have
#     no gap.
# A gap is a NaN row in `rrdtool fetch` at the file's step: the heartbeat is three steps, so a NaN
# row means no sample for at least that long.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

CUT_S=${DELIVERY_CUT_S:-120}
run=$(mktemp -d /tmp/rn-delivery-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
stack_start "$run" || { not_ok "stack starts"; exit 1; }

# nan_rows FILE DS START END: NaN rows of DS over [START, END] at the file's finest step.
nan_rows() {
    rrdtool fetch "$1" AVERAGE -s "$3" -e "$4" 2>/dev/null | awk -v ds="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
        NF > 1 && col { n++; if ($col ~ /nan/) bad++ }
        END { if (!n) print "none"; else print bad + 0 }'
}
no_gap() { # no_gap FILE DS START END -> prints the NaN count, succeeds when 0
    local r; r=$(nan_rows "$@"); echo "$r"; [ "$r" = 0 ]
}
caught_up() { # the file has a sample at or after time $2
    [ "$(rrd_last_time "$1")" -ge "$2" ]
}

node=jaipur/sanganer
flat=jaipur-sanganer
probe=$(stack_rrd $node icmp sdc)
ifrrd=$(stack_rrd $node if rtr1 wan0)
wait_for 30 caught_up "$probe" "$(date +%s)"

# --- 1. a long uplink cut ----------------------------------------------------------------------
t0=$(date +%s)
stack_sim isolate-mgmt $node >/dev/null
sleep "$CUT_S"
t1=$(date +%s)
spooled=$(du -sk "$run/agents/$flat/spool" | cut -f1)
stack_sim restore-mgmt $node >/dev/null
if wait_for 120 caught_up "$probe" "$t1" && wait_for 60 caught_up "$ifrrd" "$t1"; then
    ok "after a ${CUT_S} s cut ($spooled KiB spooled) the backlog reached the collector in $(( $(date +%s) - t1 )) s"
else
    not_ok "the spooled backlog reaches the collector" "probe last $(rrd_last_time "$probe"), cut ended $t1"
fi
r=$(no_gap "$probe" loss $((t0 + 2)) $((t1 - 2))) && ok "every probe round of the cut period is in the RRD file (0 gaps)" \
    || not_ok "no probe round of the cut period is missing" "$r NaN rows"
r=$(no_gap "$ifrrd" in $((t0 + 5)) $((t1 - 5))) && ok "every interface poll of the cut period is in the RRD file (0 gaps)" \
    || not_ok "no interface poll of the cut period is missing" "$r NaN rows"
check "the collector counted no sample as older than its file (replay was in order)" \
    bash -c "! grep -q 'older than their RRD' '$run/collector.log'"

# --- 2. SIGKILL of an agent while it spools -------------------------------------------------------
stack_sim isolate-mgmt $node >/dev/null
t2=$(date +%s)
sleep 20
pid=$(cat "$run/agents/$flat/pid")
kill -9 "$pid"; wait "$pid" 2>/dev/null
tk=$(date +%s)
stack_start_agent $node
sleep 10
stack_sim restore-mgmt $node >/dev/null
t3=$(date +%s)
check "the restarted agent found its spool intact (no corrupt segment)" \
    bash -c "! grep -qi 'corrupt' '$run/agents/$flat/agent.log'"
check "the restarted agent, still cut off, measured with its cached plan" \
    grep -q "starting with the cached plan" "$run/agents/$flat/agent.log"
if wait_for 60 caught_up "$probe" "$t3"; then
    # the restart takes well under the file's 6 s heartbeat, so even the kill leaves no gap
    r=$(no_gap "$probe" loss $((t2 + 2)) $((t3 - 2))) && ok "what was spooled before the kill -9 and measured after it reached the RRD file (0 gaps)" \
        || not_ok "samples spooled around kill -9 land" "$r NaN rows"
else
    not_ok "the restarted agent delivers its spool" "last $(rrd_last_time "$probe") < $t3"
fi

# --- 3. SIGKILL of the collector --------------------------------------------------------------
t4=$(date +%s)
cpid=$(cat "$run/collector.pid")
kill -9 "$cpid"; wait "$cpid" 2>/dev/null
sleep 15
stack_start_collector || not_ok "the collector restarts"
t5=$(date +%s)
all_caught_up() { # past the end of the range checked below by two steps, so its last row is
    local n        # complete (a row the newest sample only starts reads NaN in rrdtool fetch)
    for n in jaipur ajmer jaipur/sanganer jaipur/amer ajmer/kishangarh; do
        caught_up "$(stack_rrd $n icmp sdc)" "$((t5 + 6))" || return 1
    done
}
if wait_for 60 all_caught_up; then
    gaps=0
    for n in jaipur ajmer jaipur/sanganer jaipur/amer ajmer/kishangarh; do
        r=$(nan_rows "$(stack_rrd $n icmp sdc)" loss $((t4 - 10)) $((t5 + 2)))
        [ "$r" = 0 ] || { gaps=1; echo "# $n: $r NaN rows:"; rrdtool fetch "$(stack_rrd $n icmp sdc)" \
            AVERAGE -s $((t4 - 10)) -e $((t5 + 2)) 2>/dev/null | grep -i nan | sed 's/^/#   /'; }
    done
    [ $gaps = 0 ] && ok "after kill -9 of the collector every node's probe file has no gap" \
        || not_ok "no gap after kill -9 of the collector"
else
    not_ok "agents deliver to the restarted collector"
fi
exit $((TEST_FAILS > 0))
