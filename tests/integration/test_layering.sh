#!/usr/bin/env bash
# The collector's subsystem folders call one another one way only (docs/architecture.md,
# "Layers"), read from the built objects with nm by tests/integration/layering.py:
#  - no call cycle between folders of collector/;
#  - no call cycle between the agent's modules (agent/*.c, each file a node);
#  - ctl/rajnetctl links nothing of the collector (it is a client of docs/api.md);
#  - nothing in collector/http/ or collector/report/ includes the context's header, collector.h
#    (read from the sources): the HTTP API sees the collector through rn_http_view_t (http.h),
#    report runs through rn_report_host_t (report_run.h). collector/http/collector_view.c, the
#    view's accessors, is the one file allowed to.
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
# Every #include of collector.h, whatever the spelling ("collector.h", "../collector.h", <...>),
# in a .c or .h of the two folders, but collector_view.c.
wide=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?collector\.h[">]' \
           --include='*.c' --include='*.h' "$repo/collector/http" "$repo/collector/report" \
       | grep -v '/collector/http/collector_view\.c$' | sed "s|^$repo/||")
n_files=$(find "$repo/collector/http" "$repo/collector/report" -name '*.[ch]' | wc -l)
if [ "$n_files" -gt 10 ] && [ -z "$wide" ]; then
    ok "no file of collector/http or collector/report includes collector.h ($n_files files)"
else
    not_ok "no file of collector/http or collector/report includes collector.h" "$(echo $wide)"
fi
exit $(( TEST_FAILS > 0 ))
