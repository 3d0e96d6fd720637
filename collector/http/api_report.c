/* GET /api/v1/report (docs/api.md): an SLA report for a month (month=YYYY-MM) or any period
 * (from/to, Unix ms), all vendors or one, as json (default), csv, html or pdf. The request is
 * suspended while report_run.c gathers and renders off the loop thread.
 * POST /api/v1/report/deliver: the monthly run (report_monthly.c) of a month again, by hand; the
 * request is suspended until the files are written, then answered 202 with their list while
 * the hooks deliver them.
 * Both are admitted by rn_report_run (report_run.h): a period of at most RN_REPORT_MAX_SPAN_MS
 * (400 days, else 400 naming the limit) and RN_REPORT_MAX_RUNNING reports at once (else 503 with
 * Retry-After), so no request can take the collector's memory or its pool threads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "http/http_int.h"
#include "log.h"
#include "report/report.h"
#include "report/report_run.h"

typedef struct {
    rn_http_job_t job;
    rn_report_format_t format;
} report_job_t;

static void report_done(void *data, int status, char *body, size_t len)
{
    report_job_t *j = data;
    rn_report_format_t format = j->format;
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (!r) {
        free(body);
        return;
    }
    if (status)
        return rn__http_error(r, status == -EINVAL ? 400 : 500, "report: %s", rn_strerror(status));
    rn__http_reply(r, 200, rn_report_format_mime(format), body, len);
}

/* Answers a report that rn_report_run would not start (rc, negative). */
static void refused(rn_http_req_t *r, int rc)
{
    if (rc == -EBUSY)
        return rn__http_busy(r, RN_REPORT_RETRY_S, "report: %d reports are being made; try again "
                             "in %d s", RN_REPORT_MAX_RUNNING, RN_REPORT_RETRY_S);
    if (rc == -E2BIG)
        return rn__http_error(r, 400, "report: a report may span at most %lld days",
                              RN_REPORT_MAX_SPAN_MS / 86400000);
    rn__http_error(r, 503, "report: %s", rn_strerror(rc));
}

/* GET /api/v1/report: see the top of this file. */
static void api_report(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    static const char *const allowed[] = { "month", "from", "to", "vendor", "format", NULL };
    if (!rn__http_args_only(r, allowed))
        return;
    rn_report_req_t req = { .format = RN_REPORT_JSON, .vendor = rn__http_arg(r, "vendor") };
    const char *month = rn__http_arg(r, "month"), *format = rn__http_arg(r, "format");
    if (format && rn_report_format_parse(format, &req.format))
        return rn__http_error(r, 400, "format: must be json, csv, html or pdf");
    if (month) {
        if (rn__http_arg(r, "from") || rn__http_arg(r, "to"))
            return rn__http_error(r, 400, "give month or from/to, not both");
        if (rn_report_month(month, &req.from_ms, &req.to_ms))
            return rn__http_error(r, 400, "month: must be YYYY-MM");
    } else if (!rn__http_arg(r, "from") || !rn__http_arg(r, "to")) {
        return rn__http_error(r, 400, "month (YYYY-MM) or from and to (Unix ms) required");
    } else if (!rn__http_arg_int(r, "from", 0, 0, INT64_MAX / 2, &req.from_ms) ||
               !rn__http_arg_int(r, "to", 0, 0, INT64_MAX / 2, &req.to_ms)) {
        return;
    }
    if (req.to_ms <= req.from_ms)
        return rn__http_error(r, 400, "to: must be after from");
    if (req.to_ms - req.from_ms > RN_REPORT_MAX_SPAN_MS) /* both within [0, INT64_MAX / 2] */
        return rn__http_error(r, 400, "to: a report may span at most %lld days (asked: %lld)",
                              RN_REPORT_MAX_SPAN_MS / 86400000,
                              (long long)((req.to_ms - req.from_ms) / 86400000));
    if (!r->http->events)
        return rn__http_error(r, 503, "event store not available");
    report_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j)
        return rn__http_error(r, 503, "out of memory");
    j->format = req.format;
    int rc = rn_report_run(rn__http_reports(r->http), &req, report_done, j);
    if (rc) {
        rn__http_job_cancel(&j->job);
        return refused(r, rc);
    }
    rn__http_suspend(r);
}

/* ---- POST /api/v1/report/deliver {"month": "YYYY-MM"}: the monthly run again, by hand ------ */

typedef struct {
    rn_http_job_t job;
    char month[8];
} deliver_job_t;

/* Reports written and hooks started: 202 with the files (the hooks deliver on their own). */
static void deliver_done(void *data, int status, const char *files)
{
    deliver_job_t *j = data;
    char month[sizeof j->month];
    memcpy(month, j->month, sizeof month);
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (!r)
        return;
    if (status)
        return rn__http_error(r, status == -EINVAL ? 400 : 500, "report: %s: %s", month,
                              rn_strerror(status));
    json_t *list = json_array();
    for (const char *p = files; *p;) {
        size_t k = strcspn(p, "\n");
        if (k)
            json_array_append_new(list, json_stringn(p, k));
        p += k + (p[k] == '\n');
    }
    rn__http_json(r, 202, json_pack("{s:s,s:o}", "month", month, "files", list));
}

/* The month of body: "YYYY-MM" that has begun. Replies 400 and returns false otherwise. */
static bool deliver_month(rn_http_req_t *r, json_t *body, char month[8])
{
    const char *key;
    json_t *v;
    int64_t from_ms, to_ms;
    json_object_foreach(body, key, v)
        if (strcmp(key, "month")) {
            rn__http_error(r, 400, "%.64s: unknown field", key);
            return false;
        }
    const char *m = json_string_value(json_object_get(body, "month"));
    if (!m || strlen(m) != 7 || rn_report_month(m, &from_ms, &to_ms)) {
        rn__http_error(r, 400, "month: \"YYYY-MM\" is required");
        return false;
    }
    if (from_ms > rn_clock_wall_ms()) {
        rn__http_error(r, 400, "month: %s has not begun", m);
        return false;
    }
    memcpy(month, m, 8);
    return true;
}

/* POST /api/v1/report/deliver (operator): see the top of this file. */
static void api_report_deliver(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    char month[8];
    if (!rn__http_args_only(r, NULL) || !rn__http_need_writer(r))
        return;
    json_t *b = rn__http_body_object(r);
    if (!b)
        return;
    bool ok = deliver_month(r, b, month);
    json_decref(b);
    if (!ok)
        return;
    if (!r->http->events)
        return rn__http_error(r, 503, "event store not available");
    if (rn_report_monthly_busy(rn__http_reports(r->http)))
        return rn__http_error(r, 409, "a monthly report run is in progress; try again when it "
                                      "is done");
    deliver_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j)
        return rn__http_error(r, 503, "out of memory");
    memcpy(j->month, month, sizeof j->month);
    int rc = rn_report_monthly_deliver(rn__http_reports(r->http), month, deliver_done, j);
    if (rc) {
        rn__http_job_cancel(&j->job);
        return refused(r, rc);
    }
    char detail[64];
    snprintf(detail, sizeof detail, "month %s", month);
    rn__db_audit(r, "report_deliver", detail);
    rn_info("report: delivering the SLA reports of %s again, asked by %s", month, r->token->name);
    rn__http_suspend(r);
}

const rn_http_route_t rn_api_report_routes[] = {
    { "GET", "/api/v1/report", false, api_report },
    { "POST", "/api/v1/report/deliver", false, api_report_deliver }, /* a monthly run again */
    { NULL, NULL, false, NULL },
};
