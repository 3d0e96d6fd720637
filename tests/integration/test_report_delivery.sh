#!/usr/bin/env bash
# Monthly SLA report delivery on the simulated RajNet, without waiting for the 1st: the collector
# is restarted with RAJNET_REPORT_CLOCK_SKEW_MS so that its monthly schedule (and nothing else)
# sees 00:05 UTC on the 1st of next month a few seconds later; the same cron code path as in
# production then must
#  - write this month's reports, CSV, HTML and PDF per vendor, into <state_dir>/reports, the
#    HTML with every link's latency and loss graphs embedded (each decodes to a PNG) and the PDF
#    readable by pdftoppm;
#  - run the exec hook once with RAJNET_EVENT=report, RAJNET_REPORT_MONTH and
#    RAJNET_REPORT_FILES (the files written, one a line);
#  - POST {"event": "report", "month", "files"} to the webhook (a python receiver on 127.0.0.1);
#  - deliver through the notifier (collector/notify/notify.h, "Report messages"): a second exec
#    hook that takes reports only (alarms: false) and hangs is killed after its timeout_ms, with
#    its whole process group, and retried with backoff, while the other hook and the webhook
#    deliver; the journal holds the report until each channel is done;
#  - do it once only;
#  - deliver it again by hand (POST /api/v1/report/deliver, `rajnetctl report --deliver`): a viewer
#    token gets 403, a bad or future month 400; the operator's call answers 202 with the same
#    files, the exec hook and the webhook get a second delivery with the same list, the audit log
#    has a report_deliver entry, and a call while a run is still writing gets 409.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../../deploy/stack.sh"

run=$(mktemp -d /tmp/rn-report-delivery-XXXXXX)
hook_pid="" cpid=""
# (a collector paused by the test below is resumed first, or stack_stop would wait on it)
trap '[ -n "$cpid" ] && kill -CONT "$cpid" 2>/dev/null; stack_stop; [ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null; rm -rf "$run"' EXIT
port=17191
python3 "$here/helpers/notify-receiver.py" http "$port" "$run/webhook.log" & hook_pid=$!
wait_for 10 test -f "$run/webhook.log.ready" || { not_ok "webhook receiver on 127.0.0.1:$port"; exit 1; }

# The exec hook keeps what a report delivery hands it (alarms go to the same hook: skipped).
cat > "$run/hook.sh" <<'SH'
#!/bin/sh
[ "$RAJNET_EVENT" = report ] || { cat >/dev/null; exit 0; }
d=$(dirname "$0")
printf '%s\n' "$RAJNET_REPORT_MONTH" > "$d/hook.month"
printf '%s\n' "$RAJNET_REPORT_FILES" | grep . > "$d/hook.files"
echo x >> "$d/hook.runs"
SH
chmod +x "$run/hook.sh"
# A hook that never ends: it notes its pid, its child's, the event and when it started (first
# thing: the shell starts a few tens of ms after the collector's timer), then waits on the child.
cat > "$run/hang.sh" <<'SH'
#!/bin/sh
t=$(date +%s%3N)
cat >/dev/null
sleep 600 &
echo "$$ $! $RAJNET_EVENT $t" >> "$(dirname "$0")/hang.pids"
wait
SH
chmod +x "$run/hang.sh"
export RAJNET_COLLECTOR_EXTRA="notify:
  webhooks: [{ url: \"http://127.0.0.1:$port/hook\", timeout_ms: 2000 }]
  exec:
    - { command: \"$run/hook.sh\", timeout_ms: 5000 }
    - { command: \"$run/hang.sh\", timeout_ms: 1500, alarms: false }"

stack_start "$run" || { not_ok "stack starts"; exit 1; }
sleep 15 # a few probe rounds in every link's RRD file
reports=$run/rrd/reports # state_dir defaults to data_dir
check "no reports before the 1st" test ! -e "$reports"

# 00:05:00 UTC on the 1st of next month, as the collector's monthly schedule will see it 6 s after
# this restart; the reports are then this month's.
month=$(date -u +%Y-%m)
due_ms=$(( $(date -u -d "$month-01 +1 month" +%s) * 1000 + 300000 ))
stack_stop_collector
export RAJNET_REPORT_CLOCK_SKEW_MS=$(( due_ms - ($(date +%s%3N) + 6000) ))
stack_start_collector || { not_ok "collector restarts"; exit 1; }
unset RAJNET_REPORT_CLOCK_SKEW_MS
t_start=$(date +%s)

delivered() { [ -s "$run/hook.files" ] && grep -q '"event": *"report"' "$run/webhook.log"; }
wait_for 40 delivered
echo "# delivered $(( $(date +%s) - t_start )) s after the restart (due after 6 s)"
check "the collector logs the monthly run of $month" \
    grep -q "report: generating the SLA reports of $month" "$run/collector.log"
ls "$reports" 2>/dev/null | sed 's/^/# /'
want=""
for v in airjaldi bsnl nelco railtel; do
    for ext in csv html pdf; do want+="$reports/$month-$v.$ext"$'\n'; done
done
got=$(ls -d "$reports"/* 2>/dev/null | sort)
check "12 files in <state_dir>/reports: CSV, HTML and PDF of each vendor" \
    test "$got" = "$(printf '%s' "$want" | sort)"
empty=$(find "$reports" -type f -empty 2>/dev/null)
check "none of them is empty" test -z "$empty"
check "exec hook: RAJNET_REPORT_MONTH=$month" test "$(cat "$run/hook.month" 2>/dev/null)" = "$month"
check "exec hook: RAJNET_REPORT_FILES lists the 12 files" \
    test "$(sort "$run/hook.files" 2>/dev/null)" = "$got"
/usr/bin/python3 - "$run/webhook.log" "$month" "$got" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
posts = []
for l in lines:
    try:
        j = json.loads(l)
    except ValueError:
        continue
    if j.get("event") == "report":
        posts.append(j)
want = sorted(sys.argv[3].split("\n"))
ok = len(posts) >= 1 and posts[0].get("month") == sys.argv[2] and sorted(posts[0].get("files", [])) == want
print(("ok - " if ok else "not ok - ") + "webhook: {\"event\": \"report\", \"month\": \"%s\", \"files\": [12 files]} (got %s)"
      % (sys.argv[2], json.dumps(posts[0])[:200] if posts else "nothing"))
sys.exit(0 if ok else 1)
PY
[ $? = 0 ] || TEST_FAILS=$((TEST_FAILS + 1))

# graphs in the delivered HTML: every link of the vendor, latency and loss, each a PNG
/usr/bin/python3 - "$reports" "$month" <<'PY'
import base64, re, struct, sys
# links per vendor with an agent at their lower end, and all of its links (deploy/sim/topology.yaml):
# a village link has graphs only once its block's agent probes down to it (not asserted here)
want = {"airjaldi": (1, 3), "bsnl": (2, 2), "nelco": (0, 1), "railtel": (2, 2)}
fails = 0
for v, (n, most) in want.items():
    html = open("%s/%s-%s.html" % (sys.argv[1], sys.argv[2], v)).read()
    imgs = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]*)'", html)
    good = 0
    for b in imgs:
        png = base64.b64decode(b, validate=True)
        w, h = struct.unpack(">II", png[16:24]) if len(png) > 24 else (0, 0)
        good += png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000 and w >= 560 and h >= 100
    ok = 2 * n <= len(imgs) <= 2 * most and len(imgs) % 2 == 0 and good == len(imgs)
    fails += not ok
    print(("ok - " if ok else "not ok - ") + "%s HTML embeds %d graphs of its %d links, %d decode to PNGs"
          % (v, len(imgs), n, good))
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] || TEST_FAILS=$((TEST_FAILS + 1))
pdftoppm -png -r 40 -f 2 -l 2 "$reports/$month-bsnl.pdf" "$run/page" 2>/dev/null
png=$(ls "$run"/page*.png 2>/dev/null | head -1)
check "pdftoppm turns the BSNL PDF's vendor page into a non-empty PNG" test -s "${png:-/nonexistent}"

# The hung hook: killed, child and all, 1.5 s after it started; the channel retries it.
wait_for 10 test -s "$run/hang.pids"
read -r hang_sh hang_sleep _ t_hang < "$run/hang.pids"
gone() { ! kill -0 "$hang_sh" 2>/dev/null && ! kill -0 "$hang_sleep" 2>/dev/null; }
wait_for 6 gone
killed_line() { grep -F "notify: exec $run/hang.sh: killed after 1500 ms" "$run/collector.log" | head -1; }
logged_kill() { [ -n "$(killed_line)" ]; }
check "the collector logs it: \"exec $run/hang.sh: killed after 1500 ms\"" wait_for 3 logged_kill
# when: the log line's stamp (written as the run is reaped) against the start the hook noted
lived=$(( $(date -u -d "$(killed_line | cut -d' ' -f1)" +%s%3N 2>/dev/null || echo 0) - t_hang ))
if gone && [ "$lived" -ge 1250 ] && [ "$lived" -le 2500 ]; then
    ok "the hung exec hook (pid $hang_sh) and its child (pid $hang_sleep) are killed ${lived} ms after it started (timeout_ms 1500)"
else
    not_ok "the hung exec hook and its child are killed 1.5 s after it started" \
        "pids $hang_sh $hang_sleep, killed $lived ms after the start; alive: $(ps -o pid=,args= -p "$hang_sh,$hang_sleep" | tr '\n' ';')"
fi
check "the hung hook is retried (a second run)" wait_for 10 test "$(wc -l < "$run/hang.pids")" -ge 2
check "the hung hook was handed reports only (alarms: false): $(cut -d' ' -f3 "$run/hang.pids" | sort | uniq -c | tr -s ' \n' ' ')" \
    test -z "$(awk '$3 != "report"' "$run/hang.pids")"
check "the journal still holds the report for the hung hook" \
    grep -qF "D $(grep -o '^A [0-9]* {"source":"rajnet-collector","event":"report"' "$run/rrd/notify/pending.journal" | head -1 | cut -d' ' -f2) exec $run/hook.sh" "$run/rrd/notify/pending.journal"

sleep 3 # past the due second: the schedule must not fire again
check "the exec hook ran once" test "$(wc -l < "$run/hook.runs" 2>/dev/null)" = 1
check "the webhook got one report POST" test "$(grep -c '"event": *"report"' "$run/webhook.log")" = 1
check "one monthly run" test "$(grep -c 'report: generating the SLA reports' "$run/collector.log")" = 1

# --- redelivery by hand: POST /api/v1/report/deliver -----------------------------------------------
api=http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT
# post_deliver TOKEN BODY OUT: prints the HTTP status of the call
post_deliver() {
    curl -s -o "$3" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
        -H 'Content-Type: application/json' -d "$2" "$api/api/v1/report/deliver"
}
code=$(post_deliver "$STACK_VIEWER_TOKEN" "{\"month\": \"$month\"}" "$run/viewer.out")
check "redelivery with a viewer token: 403 (got $code: $(head -c 120 "$run/viewer.out"))" test "$code" = 403
code=$(post_deliver "$STACK_OPERATOR_TOKEN" '{"month": "2026-13"}' "$run/bad.out")
check "redelivery of month 2026-13: 400 (got $code: $(head -c 120 "$run/bad.out"))" test "$code" = 400
next=$(date -u -d "$month-01 +1 month" +%Y-%m)
code=$(post_deliver "$STACK_OPERATOR_TOKEN" "{\"month\": \"$next\"}" "$run/future.out")
check "redelivery of $next, not begun: 400 (got $code: $(head -c 120 "$run/future.out"))" test "$code" = 400
t0=$(date +%s%3N)
out=$(RAJNET_URL=$api RAJNET_TOKEN=$STACK_OPERATOR_TOKEN \
    "$RAJNET_BUILD/ctl/rajnetctl" --json report --deliver --month "$month" 2>&1)
rc=$?
echo "# rajnetctl report --deliver answered in $(( $(date +%s%3N) - t0 )) ms"
listed=$(printf '%s' "$out" | /usr/bin/python3 -c 'import json, sys; print("\n".join(sorted(json.load(sys.stdin)["files"])))' 2>/dev/null)
check "rajnetctl report --deliver --month $month: exit 0, the 12 files listed (rc $rc)" \
    test "$rc" = 0 -a "$listed" = "$got"
redelivered() { [ "$(wc -l < "$run/hook.runs")" = 2 ] && [ "$(grep -c '"event": *"report"' "$run/webhook.log")" = 2 ]; }
wait_for 20 redelivered
check "redelivery: the exec hook ran a second time" test "$(wc -l < "$run/hook.runs")" = 2
check "redelivery: the exec hook got the same 12 files" test "$(sort "$run/hook.files")" = "$got"
/usr/bin/python3 - "$run/webhook.log" "$month" "$got" <<'PY'
import json, sys
posts = []
for l in open(sys.argv[1]):
    try:
        j = json.loads(l)
    except ValueError:
        continue
    if j.get("event") == "report":
        posts.append(j)
want = sorted(sys.argv[3].split("\n"))
ok = len(posts) == 2 and posts[1].get("month") == sys.argv[2] and sorted(posts[1].get("files", [])) == want
print(("ok - " if ok else "not ok - ") + "redelivery: the webhook got a second POST with the same 12 files (%d report POSTs)" % len(posts))
sys.exit(0 if ok else 1)
PY
[ $? = 0 ] || TEST_FAILS=$((TEST_FAILS + 1))
audit=$(sqlite3 "$run/rrd/events.db" "SELECT actor, role, action, detail FROM audit WHERE action = 'report_deliver'" 2>&1)
check "audit log: demo-operator|operator|report_deliver|month $month (got '$audit')" \
    test "$audit" = "demo-operator|operator|report_deliver|month $month"
check "the collector logs the redelivery" \
    grep -q "report: delivering the SLA reports of $month again, asked by demo-operator" "$run/collector.log"
# Two calls at once. A run writes in ~0.1 s here, too short to aim a second call into, so the
# collector is paused (SIGSTOP) while both connect and send, then resumed: it reads both before
# the first run can finish, and exactly one of them must be refused.
cpid=$(cat "$run/collector.pid")
kill -STOP "$cpid"
post_deliver "$STACK_OPERATOR_TOKEN" "{\"month\": \"$month\"}" "$run/a.out" >"$run/a.code" & pa=$!
post_deliver "$STACK_OPERATOR_TOKEN" "{\"month\": \"$month\"}" "$run/b.out" >"$run/b.code" & pb=$!
sleep 1
kill -CONT "$cpid"
wait "$pa" "$pb"
codes=$(printf '%s\n%s\n' "$(cat "$run/a.code")" "$(cat "$run/b.code")" | sort | tr '\n' ' ')
check "two calls at once: one 202, one 409 while the other writes (got $codes: $(cat "$run/a.out" "$run/b.out" | grep -o '"error":"[^"]*"'))" \
    test "$codes" = "202 409 "
exit $((TEST_FAILS > 0))
