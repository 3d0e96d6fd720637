/* Producing an SLA report inside the collector: gathers outages, maintenance windows and loss
 * degradations from the event store (its own thread), then on the libuv pool reloads the
 * topology file (a snapshot that a reload cannot change under the job), reads the links' probe
 * RRD files (<data_dir>/<node>/icmp/<parent>.rrd: rttavg, loss, jitter) with rrd_fetch_r for
 * p50/p95, computes (report.c) and renders. The loop thread only copies records.
 *
 * Used by GET /api/v1/report (http/api_report.c) and the monthly generation (the collector's
 * cron). Neither hands it the collector: runs see only rn_report_host_t below. */
#ifndef RN_REPORT_RUN_H
#define RN_REPORT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"

struct rn_event_store;
struct rn_notifier;
struct rn_rrd_store;

/* What report runs need of the collector. It lives in the context, which fills it once before
 * the first run (the HTTP server's view points at it); its pointers point at the context's own
 * fields and are read at each use (the event store, RRD store and notifier go NULL as they
 * close), the pattern of ingest/session.h's rn_ingest_host_t and alarm/alarm_log.h. The two
 * counters are the runs' own state, kept here so that it is one per collector. */
typedef struct rn_report_host {
    uv_loop_t *loop;
    struct rn_event_store *const *events;     /* outages, maintenance, alarms; NULL: no reports */
    struct rn_rrd_store *const *store;        /* where the probe files are; NULL: closing */
    struct rn_notifier *const *notifier;      /* delivers the monthly reports */
    rn_collector_config_t *const *config;     /* topology_path, secrets_path, state_dir */
    unsigned jobs;                            /* reports running (admits RN_REPORT_MAX_RUNNING) */
    unsigned runs;                            /* monthly runs (cron or by hand) still writing */
} rn_report_host_t;

typedef enum { RN_REPORT_CSV, RN_REPORT_HTML, RN_REPORT_PDF, RN_REPORT_JSON } rn_report_format_t;

/* Parses "csv", "html", "pdf" or "json". Returns 0 or -EINVAL. */
int rn_report_format_parse(const char *s, rn_report_format_t *out);
/* The MIME type of a format. */
const char *rn_report_format_mime(rn_report_format_t f);

typedef struct {
    int64_t from_ms, to_ms;     /* the period, [from, to) */
    const char *vendor;         /* NULL or "": every vendor */
    rn_report_format_t format;
    const char *out_dir;        /* not NULL: write every format, one set per vendor, into this
                                 * directory as <prefix>-<vendor>.{csv,html,pdf}; body is then the
                                 * list of files written, one a line */
    const char *prefix;         /* file name prefix with out_dir, e.g. "2026-11" */
    bool scheduled;             /* the monthly cron's run: admitted even when
                                 * RN_REPORT_MAX_RUNNING reports run (it counts among them) */
} rn_report_req_t;

/* What one report may cost. A report's memory and pool time grow with its period (every probe
 * file is read over it, every outage and alarm of it is loaded), and a report holds a libuv pool
 * thread, which the RRD writes share: a year and a month at most, and two at a time, so two
 * pool threads stay for the writes (docs/api.md). */
#define RN_REPORT_MAX_SPAN_MS (400LL * 86400000)
#define RN_REPORT_MAX_RUNNING 2
/* What a client refused for RN_REPORT_MAX_RUNNING is told to wait (Retry-After, seconds). */
#define RN_REPORT_RETRY_S 30

/* body: the rendered report (free() it), len its size; NULL and 0 on failure. status is 0 or a
 * negative error (-EINVAL: unknown vendor or empty period; -EIO: the topology could not be
 * read, a file could not be written). */
typedef void (*rn_report_cb)(void *data, int status, char *body, size_t len);

/* Starts a report; the request's strings are copied. Returns 0 (cb fires once, on the loop
 * thread) or a negative error, and then cb never fires: -EINVAL (no event store, empty period),
 * -E2BIG (the period is longer than RN_REPORT_MAX_SPAN_MS), -EBUSY (RN_REPORT_MAX_RUNNING reports
 * are running and req is not scheduled), -ENOMEM. */
int rn_report_run(rn_report_host_t *host, const rn_report_req_t *req, rn_report_cb cb,
                  void *data);

/* Monthly reports (report_monthly.c). True (and month = "YYYY-MM", the month before) when
 * now_ms is within window_ms after 00:05:00 UTC on the 1st of a month. */
bool rn_report_monthly_due(int64_t now_ms, int64_t window_ms, char month[8]);
/* Writes month's reports (every vendor, CSV/HTML/PDF) into <state_dir>/reports, then hands the
 * file list to the notifier (rn_notifier_report): its webhooks and exec hooks that take reports
 * deliver it. Returns 0 or -errno. */
int rn_report_monthly_run(rn_report_host_t *host, const char *month);
/* The monthly run is done: status 0 and files (one path a line, borrowed until the callback
 * returns) with the delivery queued on the notifier, or a negative error and "". */
typedef void (*rn_report_deliver_cb)(void *data, int status, const char *files);
/* rn_report_monthly_run with a callback, for a run by hand (POST /api/v1/report/deliver). Returns
 * 0 (cb fires once, on the loop thread) or a negative error (-EINVAL: bad month or no event
 * store; -EBUSY: RN_REPORT_MAX_RUNNING reports are running; -ENOMEM), and then cb never fires.
 * Does not check rn_report_monthly_busy(): callers do. With cb NULL (the cron's run,
 * rn_report_monthly_run) it is never refused for -EBUSY. */
int rn_report_monthly_deliver(rn_report_host_t *host, const char *month,
                              rn_report_deliver_cb cb, void *data);
/* True while a monthly run (the cron's or one by hand) has not finished writing. */
bool rn_report_monthly_busy(const rn_report_host_t *host);
/* From the collector's cron (every window_ms): starts the monthly run when it is due. */
void rn_report_monthly_tick(rn_report_host_t *host, int64_t now_ms, int64_t window_ms);

#endif
