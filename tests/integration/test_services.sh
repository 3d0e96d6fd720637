#!/usr/bin/env bash
# Service alarms on the simulated RajNet, end to end (real agents probing the stand-in services
# of deploy/sim/sim-service.py, real link cuts):
#  - the e-Mitra service stopped at its host (sdc) for 60 s while the network is healthy raises
#    exactly ONE root alarm, "service down" at sdc, within 3 probe rounds, with every office that
#    checks it in its impact, each office's own "service unreachable" its symptom; it clears
#    once the service is back; a real snmptrapd prints the raise and the clear by name
#    (serviceDown, rnAlarmService), the webhook and the syslog receiver get both;
#  - a block's path black-holed (rajnet-sim cut --blackhole): that block's service failures are
#    a symptom of the link alarm, and no service alarm is a root;
#  - an HTTPS e-governance service (Raj SSO, added to the topology here) whose certificate
#    rajnet-sim signed for 10 days at `up`, trusted by the agents through `service_ca:`: the
#    agents' probes report cert_days, and the collector raises cert_expiring (S3) at its host;
#  - the monthly report's services section (JSON and CSV) charges the stop to emitra;
#  - each VC capture's libpcap counters land in <node>/pcap/<capture>.rrd;
#  - with no agent left, the API says every service is unknown, not fine.
# Figures (time to raise, to clear) are printed as "# ..." lines.
set -uo pipefail
export RAJNET_MGMT=oob # live evidence from below the cut: the blocks' agents keep their sessions
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
# Raj SSO: an HTTPS stand-in at sdc beside the topology's services (deploy/sim/sim-service.py)
topo=$(mktemp /tmp/rn-services-topo-XXXXXX.yaml)
sed 's|^services:$|services:\n  rajsso: { kind: egov, endpoints: [{ node: sdc, addr: 10.77.0.21, url: "https://10.77.0.21:8443/health" }] }|' \
    "${RAJNET_TOPOLOGY:-$here/../../deploy/sim/topology.yaml}" > "$topo"
export RAJNET_TOPOLOGY=$topo RAJNET_SIM_CERT_DAYS=10
source "$here/../../deploy/stack.sh"

STOP_S=${SERVICE_STOP_S:-60}
run=$(mktemp -d /tmp/rn-services-XXXXXX)
helper=$here/helpers/notify-receiver.py
trapd_pid="" hook_pid="" syslog_pid=""
cleanup() {
    stack_stop
    kill $trapd_pid $hook_pid $syslog_pid 2>/dev/null
    rm -rf "$run" "$topo"
}
trap cleanup EXIT

mibs=$(python3 "$helper" mibs) || { not_ok "the IETF MIB files for snmptrapd (npm net-snmp)"; exit 1; }
mkdir -p "$run/nms"
printf 'disableAuthorization yes\n' > "$run/nms/snmptrapd.conf"
SNMP_PERSISTENT_DIR=$run/nms /usr/sbin/snmptrapd -f -Lf "$run/nms/traps.log" -C -c "$run/nms/snmptrapd.conf" \
    -m ALL -M "$mibs:$here/../../mibs" udp:127.0.0.1:17262 & trapd_pid=$!
python3 "$helper" http 17280 "$run/nms/hooks.log" & hook_pid=$!
python3 "$helper" udp 17214 "$run/nms/syslog.log" & syslog_pid=$!
export RAJNET_COLLECTOR_EXTRA="notify:
  traps: [{ target: \"udp:127.0.0.1:17262\", version: 2c, community: rajnet-nms }]
  syslog: [{ target: \"udp:127.0.0.1:17214\" }]
  webhooks: [{ url: \"http://127.0.0.1:17280/hook\", timeout_ms: 2000 }]"

api() { curl -s -H "Authorization: Bearer $STACK_OPERATOR_TOKEN" "http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT$1"; }
svc_field() { # svc_field SERVICE FIELD: one field of GET /api/v1/services
    api /api/v1/services | python3 -c 'import json, sys
s = {x["name"]: x for x in json.load(sys.stdin)["services"]}
print(s[sys.argv[1]].get(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

stack_start "$run" || { not_ok "stack starts"; exit 1; }
t_up=$(date +%s%3N)
log=$run/collector.log
probe_s=$(awk '/probe_interval_s:/ { print $2; exit }' "$STACK_TOPOLOGY")

# --- 0. every office checks the service (its state without evidence: section 5) ---------------
all_up() { [ "$(svc_field emitra state)" = up ] && [ "$(svc_field emitra offices_checking)" = 5 ]; }
check "every office (5 agents but the host) checks emitra and reaches it" wait_for 30 all_up

# --- 0b. a certificate that expires within 14 days: cert_expiring (S3) at its host ----------------
cert_alarm() { # prints the alarm JSON, fails while there is none
    api "/api/v1/alarms" | python3 -c 'import json, sys
a = [x for x in json.load(sys.stdin)["alarms"] if x["type"] == "cert_expiring"]
sys.exit(not a or print(json.dumps(a)))' 2>/dev/null
}
if wait_for 30 cert_alarm >/dev/null; then
    echo "# agents started -> cert_expiring in GET /api/v1/alarms: $(( $(date +%s%3N) - t_up )) ms"
fi
python3 - <<PY && ok "API: one cert_expiring S3 at sdc on rajsso, 9-10 days left, said in its text" || not_ok "cert_expiring alarm in the API" "$(cert_alarm | head -c 600)"
import json
a = json.loads('''$(cert_alarm)''')
assert len(a) == 1, a
a = a[0]
print("# alarm:", a["text"] if "text" in a else a)
assert a["severity"] == 3 and a["node"] == "sdc" and a["entity"] == "rajsso", a
assert a["root_id"] == 0 and not a.get("cleared_ms"), a
text = json.dumps(a)
import re
assert re.search(r"certificate of service rajsso at sdc expires in (9\.[0-9]|10\.0) days", text), text
PY
check "the log says it was raised once" \
    test "$(grep -cE "alarm [0-9]+ raised .*certificate of service rajsso at sdc expires in (9\.[0-9]|10\.0) days" "$log")" = 1
cert_rrd=$(stack_rrd jaipur http rajsso-http)
days=$(rrd_last "$cert_rrd" cert_days 2>/dev/null)
check "jaipur's probe stores cert_days ($days) and up in http/rajsso-http.rrd" \
    python3 -c 'import sys; d = float(sys.argv[1]); sys.exit(not 9 < d <= 10)' "$days"
check "API services: rajsso up, cert_days $(svc_field rajsso cert_days)" \
    python3 -c 'import sys; sys.exit(not (sys.argv[1] == "up" and 9 < float(sys.argv[2]) <= 10))' \
    "$(svc_field rajsso state)" "$(svc_field rajsso cert_days)"

# --- 1. the service stopped at its host: one root alarm ----------------------------------------
pidfile=/run/rajnet-sim/rn-sdc/service-emitra.pid
svc_pid=$(cat "$pidfile" 2>/dev/null)
mapfile -d '' svc_argv < "/proc/$svc_pid/cmdline" 2>/dev/null
if [ -z "$svc_pid" ] || [ "${#svc_argv[@]}" -lt 2 ]; then
    not_ok "the stand-in emitra service runs at sdc ($pidfile)"; exit 1
fi
mark=$(wc -l < "$log")
since() { tail -n +"$((mark + 1))" "$log"; }
t_stop=$(date +%s%3N)
kill "$svc_pid"
down_raised() { since | grep -qE "alarm [0-9]+ raised .*service emitra down at sdc"; }
wait_for 30 down_raised
t_raised=$(date +%s%3N)
echo "# service stopped -> root alarm raised: $(( t_raised - t_stop )) ms (probe interval ${probe_s} s)"
check "service down raised within 3 probe rounds ($(( t_raised - t_stop )) ms)" \
    test $(( t_raised - t_stop )) -le $(( 3 * probe_s * 1000 ))
sleep 4 # the symptoms of late offices
roots=$(since | grep -E "alarm [0-9]+ (raised|promoted)")
if [ "$(grep -c . <<<"$roots")" = 1 ]; then ok "exactly one root alarm: $(sed -E 's/.*\): //' <<<"$roots" | cut -c1-140)"
else not_ok "exactly one root alarm for the stopped service" "$roots"; fi
root_id=$(sed -nE 's/.*alarm ([0-9]+) raised.*/\1/p' <<<"$roots" | head -1)
check "each office's own failure is a symptom under alarm $root_id" \
    test "$(since | grep -cE "symptom_of \(S[0-9], under alarm $root_id\): service emitra unreachable from")" -ge 5
api "/api/v1/alarms" > "$run/alarms.json"
python3 - "$run/alarms.json" "${root_id:-0}" <<'PY' && ok "API: the root is service_down S2 at sdc on emitra, impact: every checking office" || not_ok "API shows the root with its impact" "$(head -c 800 "$run/alarms.json")"
import json, sys
alarms = json.load(open(sys.argv[1]))["alarms"]
a = [x for x in alarms if x["id"] == int(sys.argv[2])][0]
want = {"jaipur", "ajmer", "jaipur/sanganer", "jaipur/amer", "ajmer/kishangarh"}
assert a["type"] == "service_down" and a["severity"] == 2 and a["node"] == "sdc", a
assert a["entity"] == "emitra" and a["root_id"] == 0, a
assert set(a["impact_nodes"]) == want and a["impact_services"] == ["emitra"], a
sym = [x for x in a.get("symptoms", []) if x["type"] == "service_unreachable"]
assert {x["node"] for x in sym} == want, sym
PY
check "API services: emitra state down" test "$(svc_field emitra state)" = down
sleep $(( STOP_S - ( $(date +%s%3N) - t_stop ) / 1000 ))
t_start=$(date +%s%3N)
stack_nolock setsid ip netns exec rn-sdc "${svc_argv[@]}" </dev/null >>"$run/emitra.log" 2>&1 &
cleared() { since | grep -qE "alarm $root_id cleared"; }
wait_for 40 cleared
t_cleared=$(date +%s%3N)
echo "# service back -> root alarm cleared: $(( t_cleared - t_start )) ms (after ${STOP_S} s down)"
check "the root clears after the service is back ($(( t_cleared - t_start )) ms)" \
    test $(( t_cleared - t_start )) -le $(( 6 * probe_s * 1000 ))
check "API services: emitra up again" wait_for 10 eval '[ "$(svc_field emitra state)" = up ]'
trap_has() { grep -q "$1" "$run/nms/traps.log"; }
check "snmptrapd printed the raise by name (rnAlarmRaised, serviceDown, rnAlarmService emitra)" \
    wait_for 10 trap_has "rnAlarmRaised.*rnAlarmType.$root_id = INTEGER: serviceDown(11).*rnAlarmService.$root_id = STRING: emitra"
check "and the clear (rnAlarmCleared)" wait_for 10 trap_has "rnAlarmCleared.*rnAlarmType.$root_id = INTEGER: serviceDown"
check "one trap for the stop, none for the symptoms (the certificate warning's aside)" \
    test "$(grep -v certExpiring "$run/nms/traps.log" | grep -o 'OID: RAJNET-MONITOR-MIB::rnAlarmRaised[[:space:]]' | wc -l)" = 1
check "the certificate warning went out as a trap too (certExpiring, rajsso)" \
    trap_has "rnAlarmRaised.*rnAlarmType.[0-9]* = INTEGER: certExpiring(12).*rnAlarmService.[0-9]* = STRING: rajsso"
hook_has() { [ "$(grep -c "\"alarm_id\": *$root_id\|\"id\": *$root_id" "$run/nms/hooks.log")" -ge 2 ]; }
check "the webhook received the raise and the clear" wait_for 10 hook_has
check "the syslog receiver got the raise with type \"service_down\"" \
    wait_for 10 grep -q "type=\"service_down\".*service emitra down at sdc" "$run/nms/syslog.log"

# --- 2. a block's path black-holed: its service failures are the link's symptoms ---------------
sleep 5
mark=$(wc -l < "$log")
stack_sim cut JPR-SNG-MPLS-3301 --blackhole >/dev/null
sym() { since | grep -qE "symptom_of \(S[0-9], under alarm [0-9]+\): service emitra unreachable from jaipur/sanganer"; }
check "the block's emitra failures are a symptom" wait_for 40 sym
link_id=$(since | sed -nE 's/.*alarm ([0-9]+) raised .*link JPR-SNG-MPLS-3301 .* down.*/\1/p' | head -1)
check "of the link alarm ${link_id:-none} (JPR-SNG-MPLS-3301)" \
    grep -qE "symptom_of \(S[0-9], under alarm ${link_id:-x}\): service emitra unreachable from jaipur/sanganer" <(since)
sleep $(( 2 * probe_s ))
check "no service alarm is a root (no service down, no own root)" \
    test "$(since | grep -cE "alarm [0-9]+ (raised|promoted) .*service (emitra|vc) (down|unreachable)")" = 0
stack_sim heal JPR-SNG-MPLS-3301 >/dev/null
link_cleared() { since | grep -qE "alarm ${link_id:-x} cleared"; }
check "the heal clears the link alarm and its symptom" wait_for 30 link_cleared

# --- 3. the services' availability beside the vendors' report ------------------------------------
month=$(date -u +%Y-%m)
api "/api/v1/report?month=$month&format=json" > "$run/report.json"
python3 - "$run/report.json" "$STOP_S" <<'PY' && ok "report (JSON): emitra down ~${STOP_S} s this month, vc 100%" || not_ok "report services" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("services"))' "$run/report.json" 2>&1 | head -c 600)"
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["services"]}
stop = float(sys.argv[2])
e = s["emitra"]
print("# report: emitra downtime %.1f s, availability %.4f%%, outages %d" % (e["downtime_s"], e["availability_pct"], e["outages"]))
assert e["host"] == "sdc" and e["outages"] == 1, e
assert stop - 15 <= e["downtime_s"] <= stop + 20, e
assert s["vc"]["downtime_s"] == 0, s["vc"]
PY
api "/api/v1/report?month=$month&format=csv" > "$run/report.csv"
check "report (CSV): a services section with emitra" grep -qE "^emitra,egov,sdc," "$run/report.csv"
# a vendor's files carry the services beside its links (collector/report/)
api "/api/v1/report?month=$month&vendor=bsnl&format=csv" > "$run/report-bsnl.csv"
check "BSNL's CSV: its links and the services (emitra with 1 outage, rajsso)" \
    bash -c "grep -q '^bsnl,jaipur,JPR-MPLS-0042,' '$run/report-bsnl.csv' && grep -qE '^emitra,egov,sdc,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,1,' '$run/report-bsnl.csv' && grep -q '^rajsso,egov,sdc,' '$run/report-bsnl.csv'"
api "/api/v1/report?month=$month&vendor=bsnl&format=html" > "$run/report-bsnl.html"
check "BSNL's HTML: a Services table with emitra" \
    bash -c "grep -q '<h2>Services</h2>' '$run/report-bsnl.html' && grep -q '<tr><td>emitra</td><td>egov</td><td>sdc</td>' '$run/report-bsnl.html'"
api "/api/v1/report?month=$month&vendor=bsnl&format=pdf" > "$run/report-bsnl.pdf"
check "BSNL's PDF (pdftotext): the services with emitra and rajsso" \
    bash -c "pdftotext -layout '$run/report-bsnl.pdf' - | grep -q 'Services (availability at the host' && pdftotext -layout '$run/report-bsnl.pdf' - | grep -qE '^ *emitra +egov +sdc' && pdftotext -layout '$run/report-bsnl.pdf' - | grep -qE '^ *rajsso +egov +sdc'"

api "/api/v1/report?month=$month&vendor=bsnl&format=json" > "$run/report-bsnl.json"
jpr_limits=$(python3 -c 'import json, sys
l = [x for x in json.load(open(sys.argv[1]))["links"] if x["circuit"] == "JPR-MPLS-0042"][0]
print(l["restore_target_s"], l["latency_limit_ms"], l["loss_limit_pct"], l["jitter_limit_ms"])' \
    "$run/report-bsnl.json" 2>&1)
check "BSNL's JSON: JPR-MPLS-0042 carries its class's limits like the CSV (restore, latency, loss, jitter: $jpr_limits)" \
    test "$jpr_limits" = "14400.0 80.0 1.0 30.0"

# --- 4. capture statistics: libpcap's counters land beside the RTP figures ------------------------
pcap_rrd=$(stack_rrd jaipur pcap vc)
pcap_known() { v=$(rrd_last "$pcap_rrd" received) && [ -n "$v" ] && [ "$v" != U ] && [ "$(rrd_last "$pcap_rrd" dropped)" != U ]; }
check "jaipur's VC capture reports its own counters (pcap/vc.rrd: received $(rrd_last "$pcap_rrd" received 2>/dev/null), dropped $(rrd_last "$pcap_rrd" dropped 2>/dev/null))" \
    wait_for 15 pcap_known

# --- 5. no agent connected: every service is unknown again, never "up" ---------------------------
for node in $(stack_nodes); do stack_stop_agent "$node"; done
unknown_all() { [ "$(svc_field emitra state)" = unknown ] && [ "$(svc_field vc state)" = unknown ]; }
t_stopped=$(date +%s%3N)
wait_for 30 unknown_all
t_unknown=$(date +%s%3N)
echo "# every agent stopped -> services unknown: $(( t_unknown - t_stopped )) ms"
if unknown_all && [ $(( t_unknown - t_stopped )) -le 15000 ]; then ok "with every agent stopped, emitra and vc are unknown within 15 s (no evidence is not up)"
else not_ok "services unknown without agents within 15 s" "emitra $(svc_field emitra state), vc $(svc_field vc state) after $(( t_unknown - t_stopped )) ms"; fi

exit $((TEST_FAILS > 0))
