#!/usr/bin/env bash
# UDP echo between agents on the simulated RajNet (real agents and reflectors, real collector,
# RRD files read with rrdtool). The topology names two pairs, each across one link:
#   jaipur - sdc               (JPR-MPLS-0042)  50 packets per 2 s round
#   ajmer/kishangarh - ajmer   (AJM-KSG-LL-2210) 50 packets per 2 s round
# and the collector puts each peer into both agents' plans, so there are four "udpecho" series.
#  1. clean: all four RRD files appear, with 0% loss each way and a small RTT, and
#     `rajnet-agent check` at jaipur prints the peer sdc with its figures;
#  2. one direction: in jaipur's namespace 20% of the UDP packets to port 8862 (its requests to
#     sdc's reflector) are dropped: jaipur sees ~20% forward loss and ~0 backward, while sdc, whose
#     requests to jaipur and jaipur's replies do not match the rule, sees ~0 both ways;
#  3. both directions: `rajnet-sim degrade AJM-KSG-LL-2210 --loss 10 --delay 5 --jitter 3` drops
#     10% and delays 5 +- 3 ms in each direction: both ends see ~10% forward and ~10% backward,
#     an RTT of ~10 ms, and RFC 3550 jitter of ~2 ms (E|U1 - U2| for U uniform on +-3 ms) each way.
# Figures are the mean of the RRD's 10 s rows over the injection, ~20 rounds of 50 packets: the
# bounds are several standard deviations (~1.5 points) wide.
set -uo pipefail
export RAJNET_MGMT=oob # live evidence from below the degraded link: kishangarh's rounds must land at once
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

INJECT_S=${UDP_ECHO_INJECT_S:-40}
run=$(mktemp -d /tmp/rn-udpecho-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
cp "$STACK_REPO/deploy/sim/topology.yaml" "$run/topology.yaml"
cat >> "$run/topology.yaml" <<'YAML'

udp_echo:
  - { a: jaipur, b: sdc, count: 50 }
  - { a: ajmer/kishangarh, b: ajmer, count: 50 }
YAML
export RAJNET_TOPOLOGY=$run/topology.yaml
STACK_TOPOLOGY=$RAJNET_TOPOLOGY

stack_start "$run" || { not_ok "stack starts"; exit 1; }

# mean FILE DS START END: the mean of DS's known rows over [START, END], or "none".
mean() {
    rrdtool fetch "$1" AVERAGE -r 10 -s "$3" -e "$4" 2>/dev/null | awk -v ds="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
        NF > 1 && col && $col !~ /nan/ { s += $col; n++ }
        END { if (n) printf "%.2f\n", s / n; else print "none" }'
}
# within X LO HI: LO <= X <= HI
within() { [ "$1" != none ] && awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }

# each series: "node peer"
series=("jaipur sdc" "sdc jaipur" "ajmer/kishangarh ajmer" "ajmer ajmer/kishangarh")
file_of() { stack_rrd "$1" udpecho "$(printf '%s' "$2" | sed 's,/,%2F,g')"; }

# --- 1. clean -------------------------------------------------------------------------------------
all_files() { for s in "${series[@]}"; do set -- $s; [ -f "$(file_of "$1" "$2")" ] || return 1; done; }
check "four udpecho RRD files appear (each end of both pairs measures)" wait_for 40 all_files
sleep 6 # a few rounds after every reflector is up: the first ones may have started before
for s in "${series[@]}"; do
    set -- $s
    f=$(file_of "$1" "$2")
    has_rounds() { [ -n "$(rrd_last "$f" sent)" ] && [ "$(rrd_last "$f" sent)" != U ]; }
    wait_for 20 has_rounds
    sent=$(rrd_last "$f" sent) fl=$(rrd_last "$f" fwd_loss) bl=$(rrd_last "$f" bwd_loss) rtt=$(rrd_last "$f" rtt_ms)
    if within "$sent" 50 50 && within "$fl" 0 0 && within "$bl" 0 0 && within "$rtt" 0 20; then
        ok "$1 -> $2 clean: 50 sent, 0% loss each way, rtt $rtt ms"
    else
        not_ok "$1 -> $2 clean" "sent $sent fwd_loss $fl bwd_loss $bl rtt_ms $rtt"
    fi
done

# `rajnet-agent check` at jaipur (the engineer's report) shows the peer, and --json the figures
out=$(ip netns exec "$(stack_sim ns jaipur)" "$STACK_BUILD/agent/rajnet-agent" check \
      -c "$run/agents/jaipur/agent.yaml" 2>/dev/null)
sed -n '/^UDP ECHO/,/^$/p' <<<"$out" | sed 's/^/# /'
check "rajnet-agent check at jaipur reports UDP echo with sdc: ok" \
    grep -Eq '^  sdc +10\.77\.0\.1 +[0-9.]+ms +0% +0% .* ok$' <<<"$out"

# --- 2 and 3. loss one way on one link, both ways on the other -------------------------------------
jns=$(stack_sim ns jaipur)
ip netns exec "$jns" iptables -A OUTPUT -p udp --dport 8862 -m statistic --mode random \
    --probability 0.2 -j DROP || not_ok "iptables rule in $jns"
stack_sim degrade AJM-KSG-LL-2210 --loss 10 --delay 5 --jitter 3 >/dev/null ||
    not_ok "degrade AJM-KSG-LL-2210"
t0=$(date +%s)
sleep "$INJECT_S"
t1=$(date +%s)
ip netns exec "$jns" iptables -D OUTPUT -p udp --dport 8862 -m statistic --mode random \
    --probability 0.2 -j DROP
stack_sim heal AJM-KSG-LL-2210 >/dev/null
# whole 10 s rows inside the injection (a row is stamped with its end)
s=$(( (t0 / 10 + 2) * 10 )) e=$(( (t1 / 10) * 10 ))

# expect NODE PEER FWD_LO FWD_HI BWD_LO BWD_HI WHAT
expect() {
    local f fl bl
    f=$(file_of "$1" "$2")
    fl=$(mean "$f" fwd_loss "$s" "$e") bl=$(mean "$f" bwd_loss "$s" "$e")
    if within "$fl" "$3" "$4" && within "$bl" "$5" "$6"; then
        ok "$1 -> $2 $7: forward loss $fl%, backward $bl%"
    else
        not_ok "$1 -> $2 $7" "forward loss $fl% (want $3..$4), backward $bl% (want $5..$6)"
    fi
}
expect jaipur sdc 14 26 0 1 "with 20% of its requests dropped at jaipur"
expect sdc jaipur 0 1 0 1 "(the rule does not touch this direction)"
expect ajmer/kishangarh ajmer 5 15 5 15 "with 10% loss each way on AJM-KSG-LL-2210"
expect ajmer ajmer/kishangarh 5 15 5 15 "with 10% loss each way on AJM-KSG-LL-2210"
for s_ in "ajmer/kishangarh ajmer" "ajmer ajmer/kishangarh"; do
    set -- $s_
    f=$(file_of "$1" "$2")
    rtt=$(mean "$f" rtt_ms "$s" "$e") fj=$(mean "$f" fwd_jitter_ms "$s" "$e") bj=$(mean "$f" bwd_jitter_ms "$s" "$e")
    check "$1 -> $2 with 5 +- 3 ms each way: rtt $rtt ms, jitter $fj ms forward, $bj ms backward" \
        bash -c "$(declare -f within); within '$rtt' 8 20 && within '$fj' 0.7 4 && within '$bj' 0.7 4"
done

check "agents logged no error" bash -c "! grep -h ' error: ' '$run'/agents/*/agent.log"
exit $(( TEST_FAILS > 0 ))
