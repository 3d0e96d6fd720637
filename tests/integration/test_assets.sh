#!/usr/bin/env bash
# The asset register against a real recorded device: Debian's snmpsim serves the recording of a
# Cisco Catalyst 3750 stack (cisco_16_switch.snmprec, a full walk with ENTITY-MIB) on loopback; a
# real collector and one agent poll it (standalone: no simulated RajNet, no stack lock).
#  - the serials and models in GET /api/v1/assets are those of the recording (read from the
#    .snmprec file, not written here), and so are sysDescr and sysObjectID;
#  - the asset file's AMC that ends in 20 days raises a "contract expiring" alarm (S3);
#  - a file entry no device reports, and the device itself when the file lacks it, are
#    discrepancies; the CSV export and the filters agree;
#  - the recording served again with the chassis serial changed and sysUpTime gone back (a box
#    swapped and booted): the agent walks the inventory again and the collector raises
#    "device replaced" with the old and new serials;
#  - the NOC dashboard's asset page in headless Chromium (tests/browser/assets.test.mjs), when
#    chromium and playwright-core are there (skipped, and said so, when not);
#  - persistence: restarted without its agent, the collector lists the register and the
#    replacement history read back from its event store; the box swapped again while the
#    collector is down is "device replaced" when the agent resends after the restart.
# Needs root (snmpsimd drops to nobody) and the snmpsim package. About 70 s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
TEST_FAILS=0

[ "$(id -u)" -eq 0 ] || { echo "not ok - test_assets needs root"; exit 1; }
command -v snmpsimd >/dev/null || { echo "not ok - snmpsimd missing (apt-get install snmpsim)"; exit 1; }
build=${RAJNET_BUILD:-$repo/build}
agent_bin=$build/agent/rajnet-agent
collector_bin=$build/collector/rajnet-collector
ctl_bin=$build/ctl/rajnetctl
[ -x "$agent_bin" ] && [ -x "$collector_bin" ] || { echo "not ok - no build at $build (set RAJNET_BUILD)"; exit 1; }
rec_gz=/usr/share/doc/snmpsim/examples/data/cisco_16_switch.snmprec.gz
[ -r "$rec_gz" ] || { echo "not ok - $rec_gz missing (snmpsim package)"; exit 1; }
run=$(mktemp -d /tmp/rn-assets-XXXXXX)
chmod 755 "$run"
cpid="" apid="" spid=""
cleanup() {
    local p
    for p in $apid $cpid $spid; do kill "$p" 2>/dev/null; done
    for p in $apid $cpid $spid; do wait "$p" 2>/dev/null; done
    rm -rf "$run"
}
trap cleanup EXIT

port=$(free_port) hport=$(free_port) sport=$(free_port)
mkdir -p "$run/sim" "$run/simcache"
chown nobody:nogroup "$run/simcache"
zcat "$rec_gz" >"$run/sim/c3750.snmprec"   # community "c3750": snmpsim names it by the file

# expected values, from the recording itself
expect() { /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
path, what = sys.argv[1], sys.argv[2]
vals = {}
for line in open(path, encoding="latin-1"):
    oid, typ, val = line.rstrip("\n").split("|", 2)
    if typ.startswith("4x"):
        val = bytes.fromhex(val).decode("latin-1")
    vals[oid] = val
ent = "1.3.6.1.2.1.47.1.1.1.1."
if what == "serials":   # index=serial for every entity with one
    rows = sorted((int(o.rsplit(".", 1)[1]), v) for o, v in vals.items()
                  if o.startswith(ent + "11.") and v.strip())
    print(" ".join(f"{i}={v.strip()}" for i, v in rows))
elif what == "models":
    rows = sorted((int(o.rsplit(".", 1)[1]), v) for o, v in vals.items()
                  if o.startswith(ent + "13.") and v.strip())
    print(" ".join(f"{i}={v.strip()}" for i, v in rows))
elif what == "chassis":  # the serial of the first entity of class 3 (chassis)
    idx = sorted(int(o.rsplit(".", 1)[1]) for o, v in vals.items()
                 if o.startswith(ent + "5.") and v == "3")
    print(idx[0], vals[ent + "11." + str(idx[0])].strip())
elif what == "sysobjid":
    print(vals["1.3.6.1.2.1.1.2.0"])
PY
}
serials=$(expect "$run/sim/c3750.snmprec" serials)
models=$(expect "$run/sim/c3750.snmprec" models)
read -r chassis_idx chassis_serial < <(expect "$run/sim/c3750.snmprec" chassis)
sysobjid=$(expect "$run/sim/c3750.snmprec" sysobjid)
echo "# recording: serials [$serials] models [$models] chassis $chassis_idx=$chassis_serial $sysobjid"
[ -n "$chassis_serial" ] || { not_ok "the recording has a chassis serial"; exit 1; }

start_sim() {
    snmpsimd --data-dir="$run/sim" --cache-dir="$run/simcache" \
        --agent-udpv4-endpoint="127.0.0.1:$sport" --process-user=nobody --process-group=nogroup \
        >"$run/snmpsim.log" 2>&1 &
    spid=$!
    wait_for 30 snmpget -v2c -c c3750 -t 1 -r 0 "127.0.0.1:$sport" 1.3.6.1.2.1.1.3.0 >/dev/null 2>&1
}
start_sim || { not_ok "snmpsimd serves the recording" "$(tail -5 "$run/snmpsim.log")"; exit 1; }
ok "snmpsimd serves the C3750 recording on 127.0.0.1:$sport"

# --- collector and agent on loopback ---------------------------------------------------------
loopback_pki "$run/pki" jaipur || { not_ok "rajnet-pki makes the certificates"; exit 1; }
cat >"$run/topology.yaml" <<EOF
settings: { poll_interval_s: 3, probe_interval_s: 1, probe_count: 3 }
vendors: { bsnl: { name: BSNL, contact: noc@bsnl.example } }
sla_classes:
  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, max_jitter_ms: 30, min_outage_s: 0,
         restore_hours: { S1: 4, S2: 16 }, penalty: [[99.5, 0], [0, 20]] }
nodes:
  sdc:
    tier: sdc
    devices: [{ name: core1, addr: 127.0.0.1, snmp: { version: 2c, secret: ro } }]
  jaipur:
    tier: district
    parent: sdc
    devices: [{ name: sw1, addr: "udp:127.0.0.1:$sport", snmp: { version: 2c, secret: ro } }]
    uplinks:
      - { circuit: JPR-1, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq, role: primary,
          local: { device: sw1, ifname: lo }, remote: { device: core1, ifname: lo } }
EOF
echo 'ro: { community: c3750 }' >"$run/secrets.yaml"
amc_end=$(date -u -d '+20 days' +%F)
far=$(date -u -d '+400 days' +%F)
cat >"$run/assets.yaml" <<EOF
assets:
  - serial: $chassis_serial
    description: VC setup switch stack, Jaipur DHQ
    department: DoIT&C
    purchase_order: DOITC/PO/2023/117
    supplier: Example Systems
    amc_vendor: Example AMC Services
    amc_end: $amc_end
    warranty_end: $far
  - serial: NOSUCHSERIAL1
    node: jaipur
    device: old-router
    department: Police
    amc_vendor: Other AMC
    amc_end: $far
EOF
loopback_collector "$run" "127.0.0.1:$port" "$run" "assets: assets.yaml" \
    "http: { listen: \"127.0.0.1:$hport\", dashboard_dir: $repo/dashboards/noc }"
"$collector_bin" -c "$run/collector.yaml" >"$run/collector.log" 2>&1 &
cpid=$!
wait_for 10 grep -q "listening for agents" "$run/collector.log" ||
    { not_ok "the collector starts" "$(tail -3 "$run/collector.log")"; exit 1; }
check "the collector loads the asset file (2 entries)" grep -q "asset file $run/assets.yaml: 2 entries" "$run/collector.log"

loopback_agent "$run/agent" "$run/pki" jaipur "$port" || { not_ok "the agent's folder"; exit 1; }
"$agent_bin" -c "$run/agent/agent.yaml" >"$run/agent.log" 2>&1 &
apid=$!

api() { curl -s "http://127.0.0.1:$hport$1"; }
secs() { /usr/bin/python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }
t0=$(date +%s.%N)
if wait_for 30 grep -q "inventory of sw1" "$run/collector.log"; then
    ok "the collector has sw1's inventory $(secs "$t0") s after the agent started ($(grep -o 'inventory of sw1: [0-9]* entities' "$run/collector.log" | head -1))"
else
    not_ok "the inventory reaches the collector" "$(tail -5 "$run/agent.log")"
fi
api "/api/v1/assets" >"$run/assets.json"
# got WHAT: what the API says, in the format expect() gives for the recording
got() { /usr/bin/python3 - "$run/assets.json" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
what = sys.argv[2]
dev = [a for a in j["assets"] if a["device"] == "sw1"]
if not dev:
    print("no-sw1"); sys.exit(0)
d = dev[0]
if what in ("serials", "models"):
    col = "serial" if what == "serials" else "model"
    print(" ".join(f'{e["index"]}={e[col]}' for e in d["entities"] if e[col]))
elif what == "sysobjid":
    print(d["sys_object_id"])
elif what == "descr":
    print((d["sys_descr"] or "")[:40])
elif what == "joined":
    print(d["entry"]["department"] if d["entry"] else "-", d["discrepancy"])
elif what == "notreported":
    print(" ".join(a["serial"] or "" for a in j["assets"] if a["discrepancy"] == "not_reported"))
elif what == "alarms":
    print(" ".join(f'{a["type"]}:{a["entity"]}' for a in j["alarms"]))
elif what == "replaced":
    print(" ".join(f'{r["index"]}:{r["old_serial"]}->{r["new_serial"]}' for r in d["replaced"]))
PY
}
count() { api "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
[ "$(got serials)" = "$serials" ] && ok "serials as in the recording: $serials" ||
    not_ok "serials as in the recording" "api [$(got serials)] recording [$serials]"
[ "$(got models)" = "$models" ] && ok "models as in the recording: $models" ||
    not_ok "models as in the recording" "api [$(got models)] recording [$models]"
[ "$(got sysobjid)" = "$sysobjid" ] && ok "sysObjectID $sysobjid, sysDescr '$(got descr)...'" ||
    not_ok "sysObjectID as in the recording" "api [$(got sysobjid)] recording [$sysobjid]"
[ "$(got joined)" = "DoIT&C None" ] && ok "sw1 joins its asset file entry by the chassis serial (department DoIT&C)" ||
    not_ok "sw1 joins the asset file" "$(got joined)"
[ "$(got notreported)" = "NOSUCHSERIAL1" ] && ok "the file entry no device reports is a discrepancy (not_reported)" ||
    not_ok "not_reported discrepancy" "$(got notreported)"
case " $(got alarms) " in
    *" contract_expiring:asset:$chassis_serial:amc "*) ok "AMC ending $amc_end raises contract_expiring (S3)";;
    *) not_ok "AMC expiry alarm" "$(got alarms)";;
esac
check "the alarm is in the collector's log as S3" grep -q "raised (S3): AMC of VC setup switch stack" "$run/collector.log"
sleep 2 # the event store commits in groups
n=$(api "/api/v1/alarms?state=active" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(1 for a in j.get("alarms", []) if a.get("type") == "contract_expiring"))' 2>/dev/null)
[ "${n:-0}" -ge 1 ] && ok "GET /api/v1/alarms lists it (stored in the event store)" || not_ok "alarm in /api/v1/alarms" "$n"
n=$(count "/api/v1/assets?expiring_within=30")
m=$(count "/api/v1/assets?amc_vendor=Other%20AMC&discrepancy=1")
d=$(count "/api/v1/assets?district=jaipur&discrepancy=0")
[ "$n/$m/$d" = "1/1/1" ] && ok "filters: expiring_within=30 -> 1, amc_vendor+discrepancy=1 -> 1, district=jaipur&discrepancy=0 -> 1" ||
    not_ok "filters" "$n/$m/$d"
api "/api/v1/assets?format=csv" >"$run/assets.csv"
if head -1 "$run/assets.csv" | grep -q '^node,device,model,serial' && grep -q "^jaipur,sw1,.*,$chassis_serial," "$run/assets.csv"; then
    ok "CSV export: header and sw1's row ($(wc -l <"$run/assets.csv") lines)"
else
    not_ok "CSV export" "$(head -3 "$run/assets.csv")"
fi
if [ -x "$ctl_bin" ] && RAJNET_URL="http://127.0.0.1:$hport" "$ctl_bin" assets 2>&1 | grep -q "$chassis_serial"; then
    ok "rajnetctl assets lists the chassis serial"
else
    not_ok "rajnetctl assets" "$(RAJNET_URL="http://127.0.0.1:$hport" "$ctl_bin" assets 2>&1 | head -3)"
fi

# --- the dashboard's asset page, in headless Chromium -----------------------------------------
browser_dir=$repo/tests/browser
if browser_ready; then
    RAJNET_HTTP="http://127.0.0.1:$hport" RAJNET_SERIAL="$chassis_serial" node "$browser_dir/assets.test.mjs" >"$run/browser.out" 2>&1
    brc=$?
    cat "$run/browser.out"
    TEST_FAILS=$((TEST_FAILS + $(grep -c '^not ok' "$run/browser.out")))
    [ "$brc" -eq 0 ] || grep -q '^not ok' "$run/browser.out" || not_ok "the browser test ran" "$(tail -3 "$run/browser.out")"
fi

# --- the box is swapped: new chassis serial, sysUpTime back -----------------------------------
new_serial=${chassis_serial%???}X9Z
kill "$spid"; wait "$spid" 2>/dev/null
sed -i -e "s/^1\.3\.6\.1\.2\.1\.47\.1\.1\.1\.1\.11\.$chassis_idx|4|$chassis_serial\$/1.3.6.1.2.1.47.1.1.1.1.11.$chassis_idx|4|$new_serial/" \
    -e 's/^1\.3\.6\.1\.2\.1\.1\.3\.0|67|.*/1.3.6.1.2.1.1.3.0|67|1500/' "$run/sim/c3750.snmprec"
grep -q "11.$chassis_idx|4|$new_serial" "$run/sim/c3750.snmprec" || not_ok "the copy of the recording has the new serial"
rm -rf "$run/simcache"/*
start_sim || { not_ok "snmpsimd serves the changed recording" "$(tail -5 "$run/snmpsim.log")"; exit 1; }
t1=$(date +%s.%N)
if wait_for 40 grep -q "device replaced at jaipur/sw1" "$run/collector.log"; then
    ok "device replaced raised $(secs "$t1") s after the swapped box answered (the reboot seen by sysUpTime)"
else
    not_ok "device replaced after the serial changed" "$(grep -i 'inventory\|reboot' "$run/agent.log" | tail -3)"
fi
api "/api/v1/assets" >"$run/assets.json"
[ "$(got replaced)" = "$chassis_idx:$chassis_serial->$new_serial" ] &&
    ok "the API shows the replacement: $(got replaced)" || not_ok "replacement in the API" "$(got replaced)"
case " $(got alarms) " in
    *" device_replaced:asset:jaipur/sw1:$chassis_idx "*) ok "device_replaced alarm is up (S3)";;
    *) not_ok "device_replaced alarm" "$(got alarms)";;
esac
[ "$(got joined)" = "- not_in_file" ] && ok "the new serial is not in the asset file: sw1 is a discrepancy (not_in_file)" ||
    not_ok "not_in_file discrepancy after the swap" "$(got joined)"

# --- SIGHUP: the file moves the AMC date and names the new serial -----------------------------
sed -i "s/amc_end: $amc_end/amc_end: $far/; s/serial: $chassis_serial/serial: $new_serial/" "$run/assets.yaml"
kill -HUP "$cpid"
if wait_for 10 grep -q "cleared (S3): AMC of VC setup" "$run/collector.log"; then
    ok "SIGHUP with the AMC renewed: contract_expiring clears"
else
    not_ok "contract alarm clears after the file renews the AMC" "$(tail -3 "$run/collector.log")"
fi
api "/api/v1/assets" >"$run/assets.json"
[ "$(got joined)" = "DoIT&C None" ] && ok "after the reload sw1 joins the entry of its new serial" || not_ok "join after reload" "$(got joined)"

# --- persistence: restart without the agent, then a swap while the collector is down ----------
start_collector() { # LOG: starts the collector on the same state_dir, logging to LOG
    "$collector_bin" -c "$run/collector.yaml" >"$1" 2>&1 &
    cpid=$!
    wait_for 10 grep -q "listening for agents" "$1"
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
stop "$apid"; apid=""
stop "$cpid"; cpid=""
start_collector "$run/collector2.log" || { not_ok "the collector starts again" "$(tail -3 "$run/collector2.log")"; exit 1; }
wait_for 10 grep -q "stored replacements read back" "$run/collector2.log"
check "the restarted collector reads the register back (no agent connected)" \
    grep -q "asset register: 1 of 1 stored inventories read back" "$run/collector2.log"
api "/api/v1/assets" >"$run/assets.json"
[ "$(got serials)" = "${serials/$chassis_idx=$chassis_serial/$chassis_idx=$new_serial}" ] &&
    ok "after the restart, before any agent: sw1's serials as last reported" ||
    not_ok "register read back after the restart" "api [$(got serials)]"
[ "$(got replaced)" = "$chassis_idx:$chassis_serial->$new_serial" ] &&
    ok "the replacement history survives the restart: $(got replaced)" || not_ok "replacement history after the restart" "$(got replaced)"
case " $(got alarms) " in
    *" device_replaced:asset:jaipur/sw1:$chassis_idx "*) ok "device_replaced (less than a day old) is up again after the restart";;
    *) not_ok "device_replaced up after the restart" "$(got alarms)";;
esac
stop "$cpid"; cpid=""
# swapped again while the collector is down; the agent (started now) walks it and keeps it
new2=${chassis_serial%???}Q7W
stop "$spid"
sed -i -e "s/^1\.3\.6\.1\.2\.1\.47\.1\.1\.1\.1\.11\.$chassis_idx|4|$new_serial\$/1.3.6.1.2.1.47.1.1.1.1.11.$chassis_idx|4|$new2/" \
    -e 's/^1\.3\.6\.1\.2\.1\.1\.3\.0|67|.*/1.3.6.1.2.1.1.3.0|67|900/' "$run/sim/c3750.snmprec"
rm -rf "$run/simcache"/*
start_sim || { not_ok "snmpsimd serves the recording swapped again" "$(tail -5 "$run/snmpsim.log")"; exit 1; }
"$agent_bin" -c "$run/agent/agent.yaml" >"$run/agent2.log" 2>&1 &
apid=$!
wait_for 30 grep -q "device sw1: inventory of" "$run/agent2.log" ||
    not_ok "the agent walks the swapped box while the collector is down" "$(tail -3 "$run/agent2.log")"
start_collector "$run/collector3.log" || { not_ok "the collector starts a third time" "$(tail -3 "$run/collector3.log")"; exit 1; }
t2=$(date +%s.%N)
if wait_for 20 grep -q "device replaced at jaipur/sw1: .* serial $new2, was $new_serial" "$run/collector3.log"; then
    ok "swapped while the collector was down: device replaced $(secs "$t2") s after its start ($new_serial -> $new2)"
else
    not_ok "device replaced detected against the stored inventory" "$(grep -i 'inventor\|replaced' "$run/collector3.log" | tail -3)"
fi
api "/api/v1/assets" >"$run/assets.json"
[ "$(got replaced)" = "$chassis_idx:$new_serial->$new2 $chassis_idx:$chassis_serial->$new_serial" ] &&
    ok "the history holds both replacements, newest first" || not_ok "history of both replacements" "$(got replaced)"
n=$(api "/api/v1/alarms?state=active" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(1 for a in j.get("alarms", []) if a.get("type") == "device_replaced"))' 2>/dev/null)
[ "${n:-0}" -ge 1 ] && ok "GET /api/v1/alarms lists device_replaced after the restart ($n active)" || not_ok "device_replaced in /api/v1/alarms" "$n"
if grep -q "AddressSanitizer\|runtime error" "$run"/collector*.log "$run"/agent*.log; then
    not_ok "no sanitizer reports in the daemons' logs" "$(grep -h 'AddressSanitizer\|runtime error' "$run"/collector*.log "$run"/agent*.log | head -3)"
fi
[ "$TEST_FAILS" -eq 0 ] && echo "# test_assets: all passed" || echo "# test_assets: $TEST_FAILS failed"
exit "$TEST_FAILS"
