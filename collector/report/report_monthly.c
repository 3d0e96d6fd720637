/* Monthly SLA reports: on the 1st of each month at 00:05 UTC the collector writes last month's
 * reports (CSV, HTML and PDF per vendor) into <state_dir>/reports and hands the list of files to
 * the notifier as a "report ready" message (rn_notifier_report): every exec hook that takes
 * reports runs with RAJNET_EVENT=report, RAJNET_REPORT_MONTH and RAJNET_REPORT_FILES (one path a
 * line), and every such webhook gets {"event": "report", "month", "files": [...]} by POST, with
 * the notifier's retries, exec timeout and journal (collector/notify/notify.h, "Report messages").
 * Nothing here delivers: one delivery path for alarms and reports.
 *
 * Stateless by design: the collector's 1 s cron asks rn_report_monthly_due() whether this tick is
 * the one that crosses 00:05:00 on the 1st, so nothing is kept between ticks. A collector that is
 * down at that second misses the run: `rajnetctl report --month YYYY-MM --format csv|html|pdf`
 * gives the same reports by hand.
 *
 * Testing the delivery without waiting for the 1st: RAJNET_REPORT_CLOCK_SKEW_MS (signed ms) in
 * the collector's environment shifts the clock that this schedule sees, and nothing else, so a
 * test can make 00:05 on the 1st come a few seconds after the collector starts and check the
 * files and the hooks (tests/integration/test_report_delivery.sh).
 *
 * Redelivery by hand: POST /api/v1/report/deliver (report_api.c, `rajnetctl report --deliver`)
 * runs rn_report_monthly_deliver, the same path as the cron, for any month that has begun. One
 * run at a time is asked of the API (409 otherwise): two runs of one month would write the same
 * files from two pool threads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "notify/notify.h"
#include "report/report.h"
#include "report/report_run.h"

#define DUE_OFFSET_MS (5 * 60 * 1000)

bool rn_report_monthly_due(int64_t now_ms, int64_t window_ms, char month[8])
{
    time_t t = (time_t)((now_ms - DUE_OFFSET_MS) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_mday != 1)
        return false;
    int64_t into = (now_ms - DUE_OFFSET_MS) % 86400000LL;
    if (into < 0 || into >= window_ms)
        return false;
    int y = tm.tm_year + 1900, m = tm.tm_mon; /* tm_mon is 0-based: m is last month, 1-based */
    if (m == 0) {
        y--;
        m = 12;
    }
    snprintf(month, 8, "%04d-%02d", y, m);
    return true;
}

typedef struct {
    rn_report_host_t *host;
    char month[8];
    rn_report_deliver_cb cb; /* NULL for the cron's run */
    void *cb_data;
} monthly_t;

bool rn_report_monthly_busy(const rn_report_host_t *host)
{
    return host->runs > 0;
}

/* Hands the files written to the notifier: its webhooks and exec hooks that take reports deliver
 * them with their own queue, retries, timeout and journal (collector/notify/notify.h). */
static void deliver(rn_report_host_t *host, const char *month, const char *files)
{
    size_t channels = rn_notifier_report(*host->notifier, month, files, rn_clock_wall_ms());
    if (channels)
        rn_info("report: the SLA reports of %s handed to %zu notify channel(s)", month, channels);
    else
        rn_warn("report: the SLA reports of %s are not delivered: no notify webhook or exec hook "
                "takes reports", month);
}

static void on_monthly_done(void *data, int status, char *body, size_t len)
{
    monthly_t *m = data;
    m->host->runs--;
    if (status) {
        rn_error("report: monthly reports for %s: %s", m->month, rn_strerror(status));
    } else {
        rn_info("report: monthly reports for %s written (%zu bytes of file names)", m->month, len);
        deliver(m->host, m->month, body ? body : "");
    }
    if (m->cb)
        m->cb(m->cb_data, status, status ? "" : body ? body : "");
    free(body);
    free(m);
}

int rn_report_monthly_deliver(rn_report_host_t *host, const char *month,
                              rn_report_deliver_cb cb, void *data)
{
    /* The cron's run (no cb) is never refused because API reports are running: it would be
     * lost until someone redoes it by hand. It is one month, and one at a time (host->runs). */
    rn_report_req_t req = { .prefix = month, .scheduled = cb == NULL };
    char dir[4096];
    if (rn_report_month(month, &req.from_ms, &req.to_ms))
        return -EINVAL;
    snprintf(dir, sizeof dir, "%s/reports", (*host->config)->state_dir);
    req.out_dir = dir;
    monthly_t *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->host = host;
    m->cb = cb;
    m->cb_data = data;
    snprintf(m->month, sizeof m->month, "%s", month);
    host->runs++; /* before: on_monthly_done takes it back */
    int rc = rn_report_run(host, &req, on_monthly_done, m);
    if (rc) {
        host->runs--;
        free(m);
    }
    return rc;
}

int rn_report_monthly_run(rn_report_host_t *host, const char *month)
{
    return rn_report_monthly_deliver(host, month, NULL, NULL);
}

/* RAJNET_REPORT_CLOCK_SKEW_MS, or 0 when unset or not a number. */
static int64_t clock_skew_ms(void)
{
    const char *s = getenv("RAJNET_REPORT_CLOCK_SKEW_MS");
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;
    return s && *s && !*end ? (int64_t)v : 0;
}

void rn_report_monthly_tick(rn_report_host_t *host, int64_t now_ms, int64_t window_ms)
{
    char month[8];
    now_ms += clock_skew_ms();
    if (*host->events && rn_report_monthly_due(now_ms, window_ms, month)) {
        rn_info("report: generating the SLA reports of %s", month);
        if (rn_report_monthly_busy(host)) { /* a run by hand is writing: never two at once */
            rn_error("report: monthly reports for %s skipped: a run started by hand is still "
                     "writing; redo it with `rajnetctl report --deliver --month %s`", month,
                     month);
            return;
        }
        int rc = rn_report_monthly_run(host, month);
        if (rc)
            rn_error("report: monthly reports for %s: %s", month, rn_strerror(rc));
    }
}
