#!/usr/bin/env bash
# RAJNET-MONITOR-MIB as an NMS sees it:
#  1. `smilint -l 6` (libsmi, the strictest common MIB checker) reports nothing for our module;
#  2. net-snmp parses it: snmptranslate maps the notification and object names to the numeric
#     OIDs the collector puts on the wire (collector/notify/notify_trap.c), and back.
# The notifier itself against real receivers (snmptrapd printing our traps with symbolic names,
# webhook, syslog, exec, dead receivers, restart) is tests/unit/collector/test_notify_live.
# Debian has no IETF MIB files; the npm package net-snmp ships them (docs/architecture.md, "Test
# peers and machine facts"): fetched once
# into /tmp by helpers/notify-receiver.py, and this test fails with its message without npm.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
mib=$repo/mibs/RAJNET-MONITOR-MIB.txt

if ! ietf=$(python3 "$here/helpers/notify-receiver.py" mibs); then
    not_ok "IETF MIB files from npm (npm pack net-snmp)" "npm unavailable?"
    exit 1
fi
ok "IETF MIB files from npm in $ietf"

out=$(SMIPATH=$ietf smilint -l 6 "$mib" 2>&1 | grep -F "$mib")
if [ -z "$out" ]; then ok "smilint -l 6: no errors or warnings in RAJNET-MONITOR-MIB"
else not_ok "smilint -l 6 RAJNET-MONITOR-MIB" "$out"; fi

translate() { snmptranslate -m RAJNET-MONITOR-MIB -M "$ietf:$repo/mibs" "$@" 2>/dev/null; }
check "snmptranslate: rnAlarmRaised is .1.3.6.1.4.1.32473.0.1" \
    test "$(translate -On RAJNET-MONITOR-MIB::rnAlarmRaised)" = ".1.3.6.1.4.1.32473.0.1"
check "snmptranslate: rnAlarmCleared is .1.3.6.1.4.1.32473.0.2" \
    test "$(translate -On RAJNET-MONITOR-MIB::rnAlarmCleared)" = ".1.3.6.1.4.1.32473.0.2"
check "snmptranslate: .1.3.6.1.4.1.32473.1.1.1.4.12 is rnAlarmNode.12" \
    test "$(translate .1.3.6.1.4.1.32473.1.1.1.4.12)" = "RAJNET-MONITOR-MIB::rnAlarmNode.12"
check "snmptranslate: .1.3.6.1.4.1.32473.1.1.1.13 is rnAlarmPlanned" \
    test "$(translate .1.3.6.1.4.1.32473.1.1.1.13)" = "RAJNET-MONITOR-MIB::rnAlarmPlanned"

[ "$TEST_FAILS" -eq 0 ]
