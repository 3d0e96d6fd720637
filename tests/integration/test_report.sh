#!/usr/bin/env bash
# SLA reports on the simulated RajNet, end to end, in compressed time (the report's period is the
# test's own window, through --from/--to instead of --month):
#  - a 30 s cut of the district link JPR-MPLS-0042 (BSNL) is charged to it alone: the two blocks
#    below it (JPR-SNG-MPLS-3301 BSNL, JPR-AMR-RF-0009 AirJaldi) are symptoms and get nothing;
#  - a 25 s cut of the block link JPR-AMR-RF-0009 (AirJaldi) and a 40 s cut of AJM-KSG-LL-2210
#    (RailTel) are charged to them;
#  - a 30 s cut of AJM-LL-0107 inside a 60 s maintenance window is not downtime, and the window is
#    taken out of that link's period;
#  - 5% loss on JPR-SNG-MPLS-3301 (partial loss does not count as down in the sim's classes);
#  then each link's downtime must be within ±2 s of what was injected, and the penalty of each
#  link and vendor equal to a hand computation from the topology's slabs and charges. The report
#  renders as CSV (one file per vendor), HTML with every link's latency and loss graphs embedded
#  (each decodes to a PNG) and PDF carrying them (pages to PNG with pdftoppm, non-empty).
#  SAVE_SAMPLE=DIR copies the rendered report there (docs/sample-report was made this way).
set -uo pipefail
export RAJNET_MGMT=oob # live evidence from below the cuts: the symptoms that keep blocks uncharged
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

run=$(mktemp -d /tmp/rn-report-XXXXXX)
trap 'stack_stop; rm -rf "$run"' EXIT
# The sim's block class counts outages from 60 s; the compressed schedule uses 10 s.
sed 's/min_outage_s: 60/min_outage_s: 10/' "$STACK_REPO/deploy/sim/topology.yaml" > "$run/topology.yaml"
export RAJNET_TOPOLOGY=$run/topology.yaml
STACK_TOPOLOGY=$RAJNET_TOPOLOGY
ctl() { "$STACK_BUILD/ctl/rajnetctl" --url "http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT" \
        --token "$STACK_OPERATOR_TOKEN" "$@"; }
now_ms() { date +%s%3N; }
# cut LINK SECONDS: cuts, waits, heals; appends "LINK injected_ms" to $run/injected
cut_for() {
    local a b
    a=$(now_ms); stack_sim cut "$1" >/dev/null; b=$(now_ms)
    sleep "$2"
    local c d
    c=$(now_ms); stack_sim heal "$1" >/dev/null; d=$(now_ms)
    echo "$1 $(( (c + d) / 2 - (a + b) / 2 ))" >> "$run/injected"
}

stack_start "$run" || { not_ok "stack starts"; exit 1; }
sleep 12
t0=$(now_ms)
sleep 2
: > "$run/injected"
# Cuts in different districts run side by side (as real outages overlap); what must not
# overlap stays apart: a district cut and the cut of a block below it, and the ajmer window
# (it covers the ajmer subtree) and AJM-KSG-LL-2210's cut.
cut_for JPR-MPLS-0042 30 & p1=$!
cut_for AJM-KSG-LL-2210 40 & p2=$!
wait "$p1" "$p2"
sleep 15
now=$(now_ms)
curl -s -o /dev/null -X POST -H "Authorization: Bearer $STACK_OPERATOR_TOKEN" \
    -d "{\"entity\": \"AJM-LL-0107\", \"start_ms\": $now, \"end_ms\": $((now + 60000)), \"reason\": \"fibre splicing\"}" \
    "http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT/api/v1/maintenance"
sleep 5
cut_for AJM-LL-0107 30 & p1=$! # planned: not downtime
cut_for JPR-AMR-RF-0009 25 & p2=$!
stack_sim degrade JPR-SNG-MPLS-3301 --loss 5 >/dev/null
sleep 20
stack_sim heal JPR-SNG-MPLS-3301 >/dev/null
wait "$p1" "$p2"
sleep 25 # every alarm cleared, the maintenance window over
t1=$(now_ms)
cat "$run/injected"

ctl report --from "$t0" --to "$t1" --format json -o "$run/report.json" >/dev/null
check "rajnetctl report --format json answers" test -s "$run/report.json"
/usr/bin/python3 - "$run/report.json" "$run/injected" "$RAJNET_TOPOLOGY" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
inj = {l.split()[0]: int(l.split()[1]) / 1000.0 for l in open(sys.argv[2]) if l.strip()}
links = {l["circuit"]: l for l in r["links"]}
fails = 0
def check(ok, what):
    global fails
    print(("ok - " if ok else "not ok - ") + what)
    fails += 0 if ok else 1
# what was injected, and who is charged
expect = {"JPR-MPLS-0042": inj["JPR-MPLS-0042"], "JPR-AMR-RF-0009": inj["JPR-AMR-RF-0009"],
          "AJM-KSG-LL-2210": inj["AJM-KSG-LL-2210"], "JPR-SNG-MPLS-3301": 0.0, "AJM-LL-0107": 0.0}
for c, want in expect.items():
    got = links[c]["downtime_s"]
    check(abs(got - want) <= 2.0, "%s downtime %.1f s, injected %.1f s (±2 s)" % (c, got, want))
check(links["JPR-SNG-MPLS-3301"]["outages"] == 0 and links["JPR-AMR-RF-0009"]["outages"] == 1,
      "the district cut is not charged to the blocks below it (symptoms)")
m = links["AJM-LL-0107"]["maintenance_s"]
check(59.5 <= m <= 60.5, "the maintenance window (%.1f s in the period) is taken out of AJM-LL-0107" % m)
check(links["AJM-LL-0107"]["availability_pct"] == 100.0, "the cut inside it costs nothing (100%)")
# hand computation: the sim's slabs and charges (deploy/sim/topology.yaml)
dhq = [(99.5, 0), (99.0, 5), (98.0, 10), (0, 20)]
bhq = [(99.0, 0), (97.0, 10), (0, 25)]
charge = {"JPR-MPLS-0042": (250000, dhq), "AJM-LL-0107": (180000, dhq),
          "JPR-SNG-MPLS-3301": (40000, bhq), "JPR-AMR-RF-0009": (25000, bhq),
          "AJM-KSG-LL-2210": (30000, bhq)}
period = (r["to_ms"] - r["from_ms"]) / 1000.0
vend = {}
# the village links (no agent below them; what is known of them depends on their block's probes
# down to them) are not asserted: their penalties count into their vendors' totals as reported
villages = ["JPR-AMR-KND-RF-0101", "JPR-SNG-BGR-VS-0202", "AJM-KSG-TLN-RF-0303"]
check(all(c in links for c in villages), "the report lists the three village links")
for c in villages:
    if c in links:
        vend[links[c]["vendor"]] = vend.get(links[c]["vendor"], 0) + links[c]["penalty_amount"]
for c, (money, slabs) in charge.items():
    base = period - links[c]["maintenance_s"]
    avail = (base - expect[c]) / base * 100
    pct = next((p for a, p in slabs if avail >= a), slabs[-1][1])
    want = pct / 100.0 * money
    got = links[c]["penalty_amount"]
    check(abs(got - want) < 0.01, "%s penalty %.2f = %g%% of %d (availability %.3f%%)" % (c, got, pct, money, avail))
    vend[links[c]["vendor"]] = vend.get(links[c]["vendor"], 0) + want
for v in r["vendors"]:
    check(abs(v["penalty_amount"] - vend[v["name"]]) < 0.01,
          "vendor %s penalty %.2f (hand: %.2f)" % (v["name"], v["penalty_amount"], vend[v["name"]]))
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] || TEST_FAILS=$((TEST_FAILS + 1))

mkdir -p "$run/out"
ctl report --from "$t0" --to "$t1" --format csv --dir "$run/out" >/dev/null
check "CSV: one file per vendor (4)" test "$(ls "$run/out"/*.csv 2>/dev/null | wc -l)" = 4
check "the BSNL CSV lists its district link's outage" grep -q "^bsnl,JPR-MPLS-0042," <(cat "$run/out"/*-bsnl.csv)
ctl report --from "$t0" --to "$t1" --format html -o "$run/out/report.html" >/dev/null
check "HTML renders (vendors' sections, ends with </html>)" \
    bash -c "grep -q 'AirJaldi Radio' '$run/out/report.html' && tail -1 '$run/out/report.html' | grep -q '</html>'"
# every link's latency and loss graphs (librrd PNGs) are embedded as data: URIs
/usr/bin/python3 - "$run/out/report.html" 5 3 <<'PY'
import base64, re, struct, sys
html = open(sys.argv[1]).read()
# the 5 links with an agent below them must have graphs; the 3 village links may (once their
# block's agent probes down to them)
want = 2 * int(sys.argv[2])
most = want + 2 * int(sys.argv[3])
imgs = re.findall(r"<img alt='(latency|loss) of ([^']+)' src='data:image/png;base64,([A-Za-z0-9+/=]*)'", html)
bad = []
for kind, circuit, b64 in imgs:
    png = base64.b64decode(b64, validate=True)
    w, h = struct.unpack(">II", png[16:24]) if len(png) > 24 else (0, 0)
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 2000 or w < 560 or h < 100:
        bad.append("%s of %s: %d bytes, %dx%d" % (kind, circuit, len(png), w, h))
links = {c for k, c, b in imgs}
ok = want <= len(imgs) <= most and len(links) == len(imgs) // 2 and not bad
sizes = sorted(len(base64.b64decode(b)) for k, c, b in imgs)
print(("ok - " if ok else "not ok - ") + "HTML embeds %d graphs (want %d to %d: latency and loss of %d links), "
      "each a PNG of at least 560x100 (%s bytes)%s" % (len(imgs), want, most, len(links),
      "%d..%d" % (sizes[0], sizes[-1]) if sizes else "no", ": " + "; ".join(bad) if bad else ""))
sys.exit(0 if ok else 1)
PY
[ $? = 0 ] || TEST_FAILS=$((TEST_FAILS + 1))
ctl report --from "$t0" --to "$t1" --format pdf -o "$run/out/report.pdf" >/dev/null
check "PDF renders" bash -c "head -c 5 '$run/out/report.pdf' | grep -q '%PDF-'"
n_img=$(pdfimages -list "$run/out/report.pdf" 2>/dev/null | awk 'NR > 2 && $3 == "image"' | wc -l)
check "the PDF carries the 10 graphs as images (pdfimages: $n_img)" test "$n_img" -ge 10
pages=$(pdfinfo "$run/out/report.pdf" 2>/dev/null | awk '/^Pages:/ { print $2 }')
pdftoppm -png -r 60 "$run/out/report.pdf" "$run/out/page" 2>/dev/null
n_png=0
for png in "$run/out"/page*.png; do [ -s "$png" ] && n_png=$((n_png + 1)); done
check "pdftoppm turns each of the ${pages:-?} pages into a non-empty PNG" test "$n_png" = "${pages:-x}"
png=$(ls "$run/out"/page*.png 2>/dev/null | head -1)
if [ -n "${SAVE_SAMPLE:-}" ]; then
    mkdir -p "$SAVE_SAMPLE"
    rm -f "$SAVE_SAMPLE"/*.csv "$SAVE_SAMPLE"/report-page*.png
    cp "$run/out"/*.csv "$run/out/report.html" "$run/out/report.pdf" "$SAVE_SAMPLE/"
    for p in "$run/out"/page*.png; do [ -s "$p" ] && cp "$p" "$SAVE_SAMPLE/report-$(basename "$p")"; done
fi
exit $((TEST_FAILS > 0))
