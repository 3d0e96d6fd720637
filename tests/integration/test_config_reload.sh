#!/usr/bin/env bash
# collector.yaml read again on SIGHUP (collector/conf.c, rn_collector_config_reload), with one
# collector on loopback (no simulation, no agent):
#  1. log_level info -> debug, an operator token replaced, the notify exec hook replaced, and the
#     agents' listen port changed; after SIGHUP the old token gets 401 and the new one 202, debug
#     lines appear, the next report goes to the new hook and not the old one, and the listen
#     change is logged as needing a restart while the old port still accepts;
#  2. a collector.yaml with a YAML syntax error, then one with a bad value: each is logged with
#     file:line and the reason, the collector keeps running with the settings it had (the new
#     token still works, the old one is still refused, the new hook still gets reports).
# Reports are asked for by hand (POST /api/v1/report/deliver): a write that needs an operator
# token, and a "report ready" message through the notifier.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
build=${RAJNET_BUILD:-$here/../../build}
collector_bin=$build/collector/rajnet-collector
[ -x "$collector_bin" ] || { echo "not ok - no build at $build (set RAJNET_BUILD)"; exit 1; }

run=$(mktemp -d /tmp/rn-config-reload-XXXXXX)
cpid=""
trap '[ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null; rm -rf "$run"' EXIT
port=$(free_port)
port2=$(free_port)
hport=$(free_port)

loopback_pki "$run/pki" jaipur || { not_ok "rajnet-pki makes the certificates"; exit 1; }
loopback_topology "$run/topology.yaml"
echo 'ro: { community: not-a-real-one }' >"$run/secrets.yaml"
# hook NAME: an exec hook that notes "NAME EVENT MONTH" per delivery
for h in old new; do
    printf '#!/bin/sh\ncat >/dev/null\necho "%s $RAJNET_EVENT $RAJNET_REPORT_MONTH" >> "%s/hooks.log"\n' \
        "$h" "$run" >"$run/hook-$h.sh"
    chmod +x "$run/hook-$h.sh"
done
# config LEVEL TOKEN HOOK LISTEN_PORT: writes collector.yaml
config() {
    cat >"$run/collector.yaml" <<EOF
listen: 127.0.0.1:$4
topology: topology.yaml
secrets: secrets.yaml
data_dir: $run/rrd
state_dir: $run/state
log_level: $1
tls: { cert: pki/collector.crt, key: pki/collector.key, ca: pki/ca.crt }
notify:
  exec: [{ command: "$run/hook-$3.sh", timeout_ms: 5000, alarms: false }]
http:
  listen: 127.0.0.1:$hport
  tokens:
    - { name: viewer, token: viewer-token-1, role: viewer }
    - { name: noc-shift, token: $2, role: operator }
EOF
}
config info old-token-aaaa old "$port"

# the sanitizer build: fontconfig (under the reports' graphs) keeps its cache for the process's life
printf 'leak:libfontconfig.so\n' >"$run/lsan.supp"
(cd "$run" && LSAN_OPTIONS=suppressions=$run/lsan.supp exec "$collector_bin" -c "$run/collector.yaml") \
    >"$run/collector.log" 2>&1 &
cpid=$!
log=$run/collector.log
if ! wait_for 15 grep -q "http: API on" "$log"; then
    not_ok "collector starts" "$(tail -3 "$log")"; exit 1
fi
api=http://127.0.0.1:$hport
month=$(date -u -d "$(date -u +%Y-%m)-01 -1 month" +%Y-%m)
# deliver TOKEN: POSTs a report run of last month, prints the HTTP status
deliver() {
    curl -s -o "$run/deliver.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' -d "{\"month\": \"$month\"}" "$api/api/v1/report/deliver"
}
hooked() { [ "$(grep -c "^$1 report $month$" "$run/hooks.log" 2>/dev/null)" = "$2" ]; }
mark=0
since() { tail -n +"$((mark + 1))" "$log"; }
hup() { mark=$(wc -l < "$log"); kill -HUP "$cpid"; }

code=$(deliver old-token-aaaa)
check "before the reload: the operator token old-token-aaaa is accepted (got $code)" test "$code" = 202
check "before the reload: the report goes to the old exec hook" wait_for 10 hooked old 1
check "before the reload (log_level info): no debug line" test -z "$(grep -F ' debug: ' "$log")"

# --- 1. log level, token, notify hook and listen port changed ----------------------------------
config debug new-token-bbbb new "$port2"
t0=$(date +%s%3N)
hup
reloaded() { since | grep -qF "reload: $run/collector.yaml read:"; }
check "SIGHUP: the collector reads collector.yaml again" wait_for 5 reloaded
echo "# reload logged $(( $(date +%s%3N) - t0 )) ms after SIGHUP: $(since | grep -F 'reload:' | sed 's/^[^ ]* //' | tr '\n' '|')"
check "it logs the new log level" bash -c "tail -n +$((mark + 1)) '$log' | grep -qF 'reload: log_level info -> debug'"
check "it logs the listen change as needing a restart" \
    bash -c "tail -n +$((mark + 1)) '$log' | grep -qF 'reload: $run/collector.yaml: listen changed: needs a restart'"
check "and the agents' port $port still accepts (the old value stays)" \
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
check "the new port $port2 does not" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port2) 2>/dev/null"
check "the notifier is reconfigured" bash -c "tail -n +$((mark + 1)) '$log' | grep -qF 'notify: reconfigured: 1 channel(s)'"
code=$(deliver old-token-aaaa)
check "after the reload: the old token is refused (got $code: $(head -c 100 "$run/deliver.out"))" test "$code" = 401
code=$(deliver new-token-bbbb)
check "after the reload: the new token is accepted (got $code)" test "$code" = 202
check "the report goes to the new exec hook" wait_for 10 hooked new 1
check "and not to the old one" hooked old 1
debug_seen() { since | grep -qF ' debug: '; }
check "debug lines are written after the reload: $(since | grep -F ' debug: ' | head -1 | cut -c1-100)" wait_for 5 debug_seen

# --- 2. broken files change nothing ------------------------------------------------------------
cp "$run/collector.yaml" "$run/collector.good"
sed -i 's/^log_level: debug$/log_level: info/; s/new-token-bbbb/third-token-cccc/' "$run/collector.yaml"
sed -i 's/^data_dir: /  data_dir: /' "$run/collector.yaml" # indented deeper than its siblings
bad_line=$(grep -n '^  data_dir: ' "$run/collector.yaml" | cut -d: -f1)
hup
refused() { since | grep -qE "reload: keeping the current settings: $run/collector.yaml:$1: .*$2"; }
check "a YAML syntax error: refused with collector.yaml:$bad_line and the reason" \
    wait_for 5 refused "$bad_line" "mapping values are not allowed"
echo "# $(since | grep -F 'reload: keeping' | sed 's/^[^ ]* //')"
cp "$run/collector.good" "$run/collector.yaml"
sed -i 's/^log_level: debug$/log_level: loud/; s/new-token-bbbb/third-token-cccc/' "$run/collector.yaml"
bad_line=$(grep -n '^log_level: loud' "$run/collector.yaml" | cut -d: -f1)
hup
check "a bad log_level: refused with collector.yaml:$bad_line and the reason" \
    wait_for 5 refused "$bad_line" "log_level: 'loud' is not error, warn, info or debug"
echo "# $(since | grep -F 'reload: keeping' | sed 's/^[^ ]* //')"
sleep 1
check "the collector still runs" kill -0 "$cpid"
code=$(deliver third-token-cccc)
check "the token of the refused files is refused (got $code)" test "$code" = 401
code=$(deliver old-token-aaaa)
check "the old token is still refused (got $code)" test "$code" = 401
code=$(deliver new-token-bbbb)
check "the token in force is still accepted (got $code)" test "$code" = 202
check "the report still goes to the hook in force" wait_for 10 hooked new 2
debug_again() { since | grep -qF ' debug: '; }
check "the log level in force (debug) is kept" wait_for 5 debug_again
kill "$cpid"
wait "$cpid"
rc=$?
cpid=""
check "the collector stops cleanly on SIGTERM (exit $rc$([ "$rc" = 0 ] || echo ": $(tail -3 "$log" | tr '\n' ' ')"))" test "$rc" = 0
asan=$(grep -E "ERROR: AddressSanitizer|runtime error:|LeakSanitizer" "$log")
check "no sanitizer report${asan:+: $(grep -A12 -E 'Sanitizer|runtime error' "$log" | grep -E '#[0-9] .* in ' | head -12 | tr -s ' ' | tr '\n' ';')}" test -z "$asan"
exit $((TEST_FAILS > 0))
