/* GET /api/v1/report (docs/api.md): an SLA report for a month (month=YYYY-MM) or any period
 * (from/to, Unix ms), all vendors or one, as json (default), csv, html or pdf. The request is
 * suspended while report_run.c gathers and renders off the loop thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "report.h"
#include "report_run.h"

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
        return rn__http_error(r, status == -EINVAL ? 400 : 500, "report: %s", strerror(-status));
    rn__http_reply(r, 200, rn_report_format_mime(format), body, len);
}

void rn__api_report(rn_http_req_t *r, const char *arg)
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
    if (!r->http->events)
        return rn__http_error(r, 503, "event store not available");
    report_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j)
        return rn__http_error(r, 503, "out of memory");
    j->format = req.format;
    int rc = rn_report_run(r->http->c, &req, report_done, j);
    if (rc) {
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "report: %s", strerror(-rc));
    }
    rn__http_suspend(r);
}
