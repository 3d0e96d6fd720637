#!/usr/bin/env bash
# The collector's subsystem folders call one another one way only (docs/architecture.md,
# "Layers"), read from the built objects with nm by tests/integration/layering.py:
#  - no call cycle between folders of collector/;
#  - no call cycle between the agent's modules (agent/*.c, each file a node);
#  - ctl/rajnetctl links nothing of the collector (it is a client of docs/api.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
build=${RAJNET_BUILD:-$repo/build}
[ -d "$build/collector" ] || { echo "not ok - no build at $build (set RAJNET_BUILD)"; exit 1; }

out=$("$here/layering.py" "$build" collector); rc=$?
sed 's/^/# /' <<<"$out"
edges=$(grep -c -- ' -> ' <<<"$out")
if [ "$rc" -eq 0 ] && [ "$edges" -gt 5 ]; then
    ok "no call cycle between the collector's folders ($edges edges)"
else
    not_ok "no call cycle between the collector's folders" "$(grep CYCLE <<<"$out" | tr '\n' ' ')"
fi

out=$("$here/layering.py" "$build" agent --modules); rc=$?
edges=$(grep -c -- ' -> ' <<<"$out")
if [ "$rc" -eq 0 ] && [ "$edges" -gt 10 ]; then
    ok "no call cycle between the agent's modules ($edges edges)"
else
    not_ok "no call cycle between the agent's modules" "$(grep CYCLE <<<"$out" | tr '\n' ' ')"
fi

ctl_objs=$(find "$build/ctl" -name '*.o')
lib_syms=$(find "$build/collector" -name '*.o' -exec nm --defined-only {} + 2>/dev/null \
           | awk '$2 ~ /[TDBR]/ {print $3}' | sort -u)
ctl_undef=$(nm -u $ctl_objs | awk '{print $2}' | sort -u)
shared=$(comm -12 <(echo "$lib_syms") <(echo "$ctl_undef"))
if [ -n "$ctl_objs" ] && [ -z "$shared" ]; then
    ok "rajnetctl links nothing of the collector"
else
    not_ok "rajnetctl links nothing of the collector" "$(echo $shared)"
fi
exit $(( TEST_FAILS > 0 ))
