#!/usr/bin/env bash
# Alarms on the simulated RajNet, end to end (real agents, real probes, real link cuts):
#  - cutting the first district's uplink raises exactly ONE root alarm (that link, vendor and
#    circuit), its two blocks are symptoms, the impact lists VC and the portal at all three
#    offices; healing clears all of them;
#  - a link flapping every few seconds raises one flapping alarm, not one per change;
#  - 1% random round-trip loss for minutes raises nothing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

SOAK_S=${ALARM_SOAK_S:-180}
run=$(mktemp -d /tmp/rn-alarms-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
stack_start "$run" || { not_ok "stack starts"; exit 1; }
log=$run/collector.log
raised() { grep -E "alarm [0-9]+ (raised|promoted)" "$log"; }
count() { grep -cE "$1" "$log"; }
# every agent has delivered a few probe rounds
sleep 10

# --- 1. one root alarm for a district cut ------------------------------------------------------
mark=$(wc -l < "$log")
since() { tail -n +"$((mark + 1))" "$log"; }
stack_sim cut JPR-MPLS-0042 >/dev/null
has_symptoms() { [ "$(since | grep -cE 'alarm [0-9]+ symptom of .*reaches jaipur but not sdc')" -ge 2 ]; }
wait_for 20 has_symptoms
sleep 4
roots=$(since | grep -E "alarm [0-9]+ raised" )
if [ "$(echo "$roots" | grep -c .)" = 1 ] && [[ "$roots" == *"link JPR-MPLS-0042 (BSNL, mpls 34 Mbit/s) down"* ]]; then
    ok "cut JPR-MPLS-0042: exactly one root alarm, naming the link, its vendor and circuit"
else
    not_ok "exactly one root alarm for the cut" "$roots"
fi
root_id=$(echo "$roots" | sed -E 's/.*alarm ([0-9]+) raised.*/\1/' | head -1)
check "its impact lists VC and the portal at jaipur and both blocks" \
    grep -qF "down: jaipur, jaipur/sanganer, jaipur/amer lose vc, emitra" <(echo "$roots")
for b in jaipur/sanganer jaipur/amer; do
    check "$b is a symptom under alarm $root_id, not a root" \
        grep -qE "symptom of \(S[0-9], under alarm $root_id\): node $b " <(since)
done
stack_sim heal JPR-MPLS-0042 >/dev/null
cleared() { since | grep -qE "alarm $root_id cleared"; }
check "heal clears the root alarm" wait_for 20 cleared
sleep 6
check "and its symptoms" test "$(since | grep -cE 'cleared .*reaches jaipur but not sdc')" -ge 2

# --- 2. flapping --------------------------------------------------------------------------------
mark=$(wc -l < "$log")
# each state lasts long enough to be seen (down: 2 rounds at 100%; up: 3 rounds with replies)
for i in $(seq 6); do
    stack_sim cut AJM-LL-0107 >/dev/null; sleep 8
    stack_sim heal AJM-LL-0107 >/dev/null; sleep 8
done
flaps=$(since | grep -cE "alarm [0-9]+ raised .*AJM-LL-0107.*flapping")
downs=$(since | grep -cE "alarm [0-9]+ raised .*link AJM-LL-0107 .* down")
if [ "$flaps" = 1 ] && [ "$downs" -le 1 ]; then
    ok "a link cut and healed 6 times in 96 s raised one flapping alarm ($downs link-down page before it)"
else
    not_ok "one flapping alarm for a flapping link" "$flaps flapping, $downs link-down raises"
fi

# --- 3. 1% loss soak ----------------------------------------------------------------------------
sleep 130 # let the flapping alarm clear (quiet time 120 s)
mark=$(wc -l < "$log")
# rajnet-sim's loss applies in each direction: 0.5% each way is about 1% of round trips
stack_sim degrade JPR-MPLS-0042 --loss 0.5 >/dev/null
sleep "$SOAK_S"
stack_sim heal JPR-MPLS-0042 >/dev/null
n=$(since | grep -cE "alarm [0-9]+ (raised|promoted)")
check "1% random loss on JPR-MPLS-0042 for $SOAK_S s raised no alarm ($n)" test "$n" = 0
exit $((TEST_FAILS > 0))
