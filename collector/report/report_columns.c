/* The SLA report's column tables and cell formatting (report_columns.h). Getters only read
 * what report.c computed: a comparison, a breach or a penalty shown here is one of its fields,
 * never worked out again. */
#include "report/report_columns.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- values */

/* The value constructors: text (NULL as ""), a number, a number only there when positive, a
 * percentile (absent without probe data), a time. */
static rn_report_value_t text(const char *s)
{
    return (rn_report_value_t){ .have = true, .s = s ? s : "" };
}

static rn_report_value_t num(double v)
{
    return (rn_report_value_t){ .have = true, .v = v };
}

/* A class without that limit has 0. */
static rn_report_value_t num_if(double v)
{
    return (rn_report_value_t){ .have = v > 0, .v = v };
}

static rn_report_value_t measured(const rn_report_pct_t *p, bool p95)
{
    return (rn_report_value_t){ .have = p->have, .v = p95 ? p->p95 : p->p50 };
}

static rn_report_value_t when(int64_t ms)
{
    return (rn_report_value_t){ .have = true, .ms = ms };
}

/* ---------------------------------------------------------------- links */

#define LINK(row) ((const rn_report_link_t *)(row))
#define LINK_GET(name, expr)                                                                  \
    static rn_report_value_t name(const void *row)                                            \
    {                                                                                         \
        const rn_report_link_t *L = LINK(row);                                                \
        return expr;                                                                          \
    }
#define LINK_BAD(name, expr)                                                                  \
    static bool name(const void *row)                                                         \
    {                                                                                         \
        const rn_report_link_t *L = LINK(row);                                                \
        return expr;                                                                          \
    }

LINK_GET(l_vendor, text(L->vendor))
LINK_GET(l_node, text(L->node))
LINK_GET(l_circuit, text(L->circuit))
LINK_GET(l_sla, text(L->sla))
LINK_GET(l_period, num(L->period_s))
LINK_GET(l_maint, num(L->maintenance_s))
LINK_GET(l_down, num(L->downtime_s))
LINK_GET(l_avail, num(L->availability_pct))
LINK_GET(l_target, num(L->target_pct))
LINK_GET(l_b_avail, num(L->breach_availability))
LINK_GET(l_outages, num((double)L->n_outages))
LINK_GET(l_mttr, num(L->mttr_s))
LINK_GET(l_longest, num(L->longest_s))
LINK_GET(l_restore, num_if(L->restore_s))
LINK_GET(l_b_restore, num(L->breach_restore))
LINK_GET(l_lat50, measured(&L->perf.latency_ms, false))
LINK_GET(l_lat95, measured(&L->perf.latency_ms, true))
LINK_GET(l_lat_max, num_if(L->max_latency_ms))
LINK_GET(l_b_lat, num(L->breach_latency))
LINK_GET(l_loss50, measured(&L->perf.loss_pct, false))
LINK_GET(l_loss95, measured(&L->perf.loss_pct, true))
LINK_GET(l_loss_max, num(L->max_loss_pct)) /* 0 is a limit: any loss breaches */
LINK_GET(l_b_loss, num(L->breach_loss))
LINK_GET(l_jit50, measured(&L->perf.jitter_ms, false))
LINK_GET(l_jit95, measured(&L->perf.jitter_ms, true))
LINK_GET(l_jit_max, num_if(L->max_jitter_ms))
LINK_GET(l_b_jit, num(L->breach_jitter))
LINK_GET(l_charge, num(L->monthly_charge))
LINK_GET(l_pen_pct, num(L->penalty_pct))
LINK_GET(l_pen, num(L->penalty_amount))

LINK_BAD(lb_avail, L->breach_availability)
LINK_BAD(lb_restore, L->breach_restore)
LINK_BAD(lb_lat, L->breach_latency)
LINK_BAD(lb_loss, L->breach_loss)
LINK_BAD(lb_jit, L->breach_jitter)
LINK_BAD(lb_pen, L->penalty_amount > 0)

#define T RN_REPORT_COL_TEXT
#define N RN_REPORT_COL_COUNT
#define SEC RN_REPORT_COL_SECONDS
#define AV RN_REPORT_COL_AVAIL
#define LIM RN_REPORT_COL_LIMIT
#define MEA RN_REPORT_COL_MEASURE
#define FL RN_REPORT_COL_FLAG
#define AM RN_REPORT_COL_AMOUNT
#define REP RN_REPORT_COL_REPEAT

static const rn_report_column_t link_cols[] = {
    { "vendor", "Vendor", T, 0, l_vendor, NULL },
    { "node", "Node", T, REP, l_node, NULL },
    { "circuit", "Circuit", T, REP, l_circuit, NULL },
    { "sla", "SLA", T, 0, l_sla, NULL },
    { "period_s", "Period", SEC, 0, l_period, NULL },
    { "maintenance_s", "Maintenance", SEC, 0, l_maint, NULL },
    { "downtime_s", "Downtime", SEC, 0, l_down, NULL },
    { "availability_pct", "Availability %", AV, 0, l_avail, lb_avail },
    { "target_pct", "Target %", LIM, 0, l_target, NULL },
    { "availability_bar", "", T, RN_REPORT_COL_HTML_ONLY, NULL, NULL },
    { "breach_availability", "Below target", FL, 0, l_b_avail, lb_avail },
    { "outages", "Outages", N, 0, l_outages, NULL },
    { "mttr_s", "MTTR", SEC, 0, l_mttr, NULL },
    { "longest_s", "Longest", SEC, 0, l_longest, lb_restore },
    { "restore_target_s", "Restore target", SEC, 0, l_restore, NULL },
    { "breach_restore", "Restore breach", FL, 0, l_b_restore, lb_restore },
    { "latency_p50_ms", "Latency p50 ms", MEA, 0, l_lat50, NULL },
    { "latency_p95_ms", "Latency p95 ms", MEA, 0, l_lat95, lb_lat },
    { "latency_limit_ms", "Latency limit ms", LIM, 0, l_lat_max, NULL },
    { "breach_latency", "Latency breach", FL, 0, l_b_lat, lb_lat },
    { "loss_p50_pct", "Loss p50 %", MEA, 0, l_loss50, NULL },
    { "loss_p95_pct", "Loss p95 %", MEA, 0, l_loss95, lb_loss },
    { "loss_limit_pct", "Loss limit %", LIM, 0, l_loss_max, NULL },
    { "breach_loss", "Loss breach", FL, 0, l_b_loss, lb_loss },
    { "jitter_p50_ms", "Jitter p50 ms", MEA, 0, l_jit50, NULL },
    { "jitter_p95_ms", "Jitter p95 ms", MEA, 0, l_jit95, lb_jit },
    { "jitter_limit_ms", "Jitter limit ms", LIM, 0, l_jit_max, NULL },
    { "breach_jitter", "Jitter breach", FL, 0, l_b_jit, lb_jit },
    { "monthly_charge", "Monthly charge", AM, 0, l_charge, NULL },
    { "penalty_pct", "Penalty %", AM, 0, l_pen_pct, lb_pen },
    { "penalty_amount", "Penalty", AM, 0, l_pen, lb_pen },
};

/* ---------------------------------------------------------------- outages */

#define OUT(row) ((const rn_report_outage_row_t *)(row))

static rn_report_value_t o_vendor(const void *row) { return text(OUT(row)->link->vendor); }
static rn_report_value_t o_circuit(const void *row) { return text(OUT(row)->link->circuit); }
static rn_report_value_t o_start(const void *row) { return when(OUT(row)->outage->start_ms); }
static rn_report_value_t o_end(const void *row) { return when(OUT(row)->outage->end_ms); }
static rn_report_value_t o_dur(const void *row) { return num(OUT(row)->outage->duration_s); }
static rn_report_value_t o_counted(const void *row) { return num(OUT(row)->outage->counted); }
static rn_report_value_t o_open(const void *row) { return num(OUT(row)->outage->open); }
static rn_report_value_t o_cause(const void *row) { return text(OUT(row)->outage->root_cause); }

static const rn_report_column_t outage_cols[] = {
    { "outage_vendor", "Vendor", T, 0, o_vendor, NULL },
    { "circuit", "Circuit", T, 0, o_circuit, NULL },
    { "start", "Start (UTC)", RN_REPORT_COL_TIME, 0, o_start, NULL },
    { "end", "End (UTC)", RN_REPORT_COL_TIME, 0, o_end, NULL },
    { "duration_s", "Duration", SEC, 0, o_dur, NULL },
    { "counted", "Counted", FL, 0, o_counted, NULL },
    { "open", "Open", FL, 0, o_open, NULL },
    { "root_cause", "Root cause", T, 0, o_cause, NULL },
};

/* ---------------------------------------------------------------- vendor totals */

#define VEN(row) ((const rn_report_vendor_t *)(row))

static rn_report_value_t v_name(const void *row) { return text(VEN(row)->name); }
static rn_report_value_t v_display(const void *row) { return text(VEN(row)->display); }
static rn_report_value_t v_links(const void *row) { return num((double)VEN(row)->n_links); }
static rn_report_value_t v_outages(const void *row) { return num((double)VEN(row)->n_outages); }
static rn_report_value_t v_breached(const void *row) { return num((double)VEN(row)->n_breached); }
static rn_report_value_t v_down(const void *row) { return num(VEN(row)->downtime_s); }
static rn_report_value_t v_charge(const void *row) { return num(VEN(row)->charge); }
static rn_report_value_t v_pen(const void *row) { return num(VEN(row)->penalty_amount); }
static bool vb_breached(const void *row) { return VEN(row)->n_breached > 0; }
static bool vb_pen(const void *row) { return VEN(row)->penalty_amount > 0; }

static const rn_report_column_t vendor_cols[] = {
    { "vendor_total", "Vendor", T, 0, v_name, NULL },
    { "name", "Name", T, 0, v_display, NULL },
    { "links", "Links", N, 0, v_links, NULL },
    { "outages", "Outages", N, 0, v_outages, NULL },
    { "breached_links", "Links in breach", N, 0, v_breached, vb_breached },
    { "downtime_s", "Downtime", SEC, 0, v_down, NULL },
    { "charge", "Charge", AM, 0, v_charge, NULL },
    { "penalty_amount", "Penalty", AM, 0, v_pen, vb_pen },
};

/* ---------------------------------------------------------------- services */

#define SVC(row) ((const rn_report_service_t *)(row))

static rn_report_value_t s_name(const void *row) { return text(SVC(row)->name); }
static rn_report_value_t s_kind(const void *row) { return text(SVC(row)->kind); }
static rn_report_value_t s_host(const void *row) { return text(SVC(row)->host); }
static rn_report_value_t s_period(const void *row) { return num(SVC(row)->period_s); }
static rn_report_value_t s_maint(const void *row) { return num(SVC(row)->maintenance_s); }
static rn_report_value_t s_down(const void *row) { return num(SVC(row)->downtime_s); }
static rn_report_value_t s_avail(const void *row) { return num(SVC(row)->availability_pct); }
static rn_report_value_t s_outages(const void *row) { return num((double)SVC(row)->n_outages); }
static rn_report_value_t s_longest(const void *row) { return num(SVC(row)->longest_s); }
/* A service has no target: any spell down is marked. */
static bool sb_down(const void *row) { return SVC(row)->n_outages > 0; }

static const rn_report_column_t service_cols[] = {
    { "service", "Service", T, 0, s_name, NULL },
    { "kind", "Kind", T, 0, s_kind, NULL },
    { "host", "Host", T, 0, s_host, NULL },
    { "period_s", "Period", SEC, 0, s_period, NULL },
    { "maintenance_s", "Maintenance", SEC, 0, s_maint, NULL },
    { "downtime_s", "Downtime", SEC, 0, s_down, NULL },
    { "availability_pct", "Availability %", AV, 0, s_avail, sb_down },
    { "outages", "Outages", N, 0, s_outages, NULL },
    { "longest_s", "Longest", SEC, 0, s_longest, NULL },
};

#define TABLE(name, cols) { name, cols, sizeof cols / sizeof cols[0] }

const rn_report_table_t rn_report_links_table = TABLE("links", link_cols);
const rn_report_table_t rn_report_outages_table = TABLE("outages", outage_cols);
const rn_report_table_t rn_report_vendors_table = TABLE("vendors", vendor_cols);
const rn_report_table_t rn_report_services_table = TABLE("services", service_cols);

/* ---------------------------------------------------------------- formatting */

/* Seconds as people read them: "0:25:00", from a day "2 d 04:05:06". */
static void fmt_seconds(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 86400)
        snprintf(buf, len, "%ld d %02ld:%02ld:%02ld", t / 86400, t / 3600 % 24, t / 60 % 60,
                 t % 60);
    else
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

/* A UTC time, ISO 8601 for machines or "2026-11-01 00:16:40" for people. */
static void fmt_time(char *buf, size_t len, int64_t ms, bool iso)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (!strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm))
        buf[0] = '\0';
}

void rn_report_time(int64_t ms, rn_report_medium_t m, char *buf, size_t len)
{
    if (len)
        fmt_time(buf, len, ms, m == RN_REPORT_MEDIUM_CSV);
}

const char *rn_report_cell(const rn_report_column_t *c, const void *row, rn_report_medium_t m,
                           char *buf, size_t len, bool *bad)
{
    bool csv = m == RN_REPORT_MEDIUM_CSV;
    if (bad)
        *bad = c->get && c->bad && c->bad(row);
    if (!len)
        return "";
    buf[0] = '\0';
    if (!c->get)
        return buf;
    rn_report_value_t v = c->get(row);
    if (!v.have) {
        snprintf(buf, len, "%s", csv ? "" : "-");
        return buf;
    }
    switch (c->type) {
    case RN_REPORT_COL_TEXT: return v.s;
    case RN_REPORT_COL_COUNT: snprintf(buf, len, "%.0f", v.v); break;
    case RN_REPORT_COL_SECONDS:
        if (csv)
            snprintf(buf, len, "%.3f", v.v);
        else
            fmt_seconds(buf, len, v.v);
        break;
    case RN_REPORT_COL_AVAIL: snprintf(buf, len, "%.4f", v.v); break;
    case RN_REPORT_COL_LIMIT: snprintf(buf, len, csv ? "%.3f" : "%g", v.v); break;
    case RN_REPORT_COL_MEASURE: snprintf(buf, len, csv ? "%.3f" : "%.2f", v.v); break;
    case RN_REPORT_COL_FLAG:
        snprintf(buf, len, "%s", csv ? (v.v != 0 ? "1" : "0") : (v.v != 0 ? "yes" : "no"));
        break;
    case RN_REPORT_COL_AMOUNT: snprintf(buf, len, "%.2f", v.v); break;
    case RN_REPORT_COL_TIME: fmt_time(buf, len, v.ms, csv); break;
    }
    return buf;
}
