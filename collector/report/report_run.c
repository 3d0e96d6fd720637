/* Runs an SLA report for the collector (see report_run.h): three event store queries chained on
 * the loop, then one uv_queue_work job that does everything that touches the disk. librrd is
 * read here (rrd_fetch_r, which is reentrant) besides rrd_store.c and rrd_graph.c: read-only, and
 * only the probe files of links, for percentiles; outage_refine.c refines outages the collector
 * has not refined yet, and report_graph.c draws the links' graphs for HTML and PDF. */
#include "report/report_run.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alarm/alarm.h"
#include "clock.h"
#include "error.h"
#include "events/event_store.h"
#include "log.h"
#include "sources.h"
#include "series/outage_refine.h"
#include "report/report.h"
#include "report/report_graph.h"
#include "series/rrd_store.h"

typedef struct {
    uv_work_t work;
    rn_report_host_t *host;
    rn_rrd_store_t *store;        /* *host->store when the pool job was queued (on the loop) */
    char *topo_path, *secrets_path, *vendor, *out_dir, *prefix;
    int64_t from_ms, to_ms, now_ms;
    rn_report_format_t format;
    rn_outage_rec_t *outages;
    size_t n_outages;
    rn_maintenance_rec_t *maint;
    size_t n_maint;
    rn_report_interval_t *degraded;
    size_t n_degraded;
    rn_report_svc_down_t *svc_down; /* root "service down" alarms of the period */
    size_t n_svc_down;
    int status;
    char *body;
    size_t len;
    rn_report_cb cb;
    void *data;
} job_t;

int rn_report_format_parse(const char *s, rn_report_format_t *out)
{
    static const char *const names[] = { "csv", "html", "pdf", "json" };
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (rn_report_format_t)i;
            return 0;
        }
    return -EINVAL;
}

const char *rn_report_format_mime(rn_report_format_t f)
{
    switch (f) {
    case RN_REPORT_CSV: return "text/csv; charset=utf-8";
    case RN_REPORT_HTML: return "text/html; charset=utf-8";
    case RN_REPORT_PDF: return "application/pdf";
    default: return "application/json";
    }
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void job_free(job_t *j)
{
    for (size_t i = 0; i < j->n_outages; i++) {
        free((char *)j->outages[i].entity);
        free((char *)j->outages[i].vendor);
        free((char *)j->outages[i].circuit);
        free((char *)j->outages[i].root_cause);
    }
    free(j->outages);
    for (size_t i = 0; i < j->n_maint; i++)
        free((char *)j->maint[i].entity);
    free(j->maint);
    for (size_t i = 0; i < j->n_degraded; i++)
        free((char *)j->degraded[i].circuit);
    free(j->degraded);
    for (size_t i = 0; i < j->n_svc_down; i++)
        free((char *)j->svc_down[i].service);
    free(j->svc_down);
    free(j->topo_path);
    free(j->secrets_path);
    free(j->vendor);
    free(j->out_dir);
    free(j->prefix);
    free(j->body);
    free(j);
}

static void finish(job_t *j, int status)
{
    char *body = status ? NULL : j->body;
    size_t len = status ? 0 : j->len;
    j->host->jobs--; /* first: the callback may start the next report */
    if (!status)
        j->body = NULL;
    j->cb(j->data, status, body, len);
    job_free(j);
}

/* ---------------------------------------------------------------- on the pool */

/* True if the round stamped t_s (seconds) falls in an outage of the link or a maintenance
 * window on it: its loss is downtime already, not a performance figure. */
static bool excluded(const job_t *j, const rn_link_t *l, const char *node, double t_s)
{
    int64_t t = (int64_t)(t_s * 1000);
    for (size_t i = 0; i < j->n_outages; i++) {
        const rn_outage_rec_t *o = &j->outages[i];
        if (o->circuit && !strcmp(o->circuit, l->circuit) && t >= o->start_ms - 2000 &&
            (!o->ended || t < o->end_ms + 2000))
            return true;
    }
    for (size_t i = 0; i < j->n_maint; i++) {
        const rn_maintenance_rec_t *m = &j->maint[i];
        if ((!strcmp(m->entity, l->circuit) || !strcmp(m->entity, node)) && t >= m->start_ms &&
            t < m->end_ms)
            return true;
    }
    return false;
}

/* p50/p95 of the link's probe file over the period, outside its outages and maintenance (no
 * file, no data: have = false). */
static void link_perf(const job_t *j, const rn_link_t *l, const char *node, int64_t from_ms,
                      int64_t to_ms, rn_report_perf_t *out)
{
    char path[4096];
    out->circuit = l->circuit;
    if (!j->store || rn_rrd_store_path(j->store, node, RN_SRC_ICMP, "", l->remote_node, path,
                                       sizeof path) < 0 || access(path, R_OK) != 0)
        return;
    time_t start = (time_t)(from_ms / 1000), end = (time_t)(to_ms / 1000);
    unsigned long step = 1, n_ds = 0;
    char **names = NULL;
    rrd_value_t *data = NULL;
    if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &n_ds, &names, &data) != 0) {
        rn_warn("report: %s: %s", path, rrd_get_error());
        rrd_clear_error();
        return;
    }
    size_t rows = step ? (size_t)((end - start) / (time_t)step) : 0;
    double *v = malloc((rows ? rows : 1) * sizeof *v);
    static const char *const want[] = { "rttavg", "loss", "jitter" };
    rn_report_pct_t *dst[] = { &out->latency_ms, &out->loss_pct, &out->jitter_ms };
    for (int w = 0; v && w < 3; w++)
        for (unsigned long d = 0; d < n_ds; d++)
            if (!strcmp(names[d], want[w])) {
                for (size_t r = 0; r < rows; r++)
                    v[r] = excluded(j, l, node, (double)start + (double)(r + 1) * (double)step)
                               ? NAN : data[r * n_ds + d];
                *dst[w] = rn_report_percentiles(v, rows);
            }
    free(v);
    for (unsigned long d = 0; d < n_ds; d++)
        rrd_freemem(names[d]);
    rrd_freemem(names);
    rrd_freemem(data);
}

static json_t *pct_json(const rn_report_pct_t *p)
{
    return p->have ? json_pack("{s:f,s:f}", "p50", p->p50, "p95", p->p95) : json_null();
}

/* Returns a limit of the SLA class as JSON: null when the class sets none (0). */
static json_t *limit_json(double v)
{
    return v > 0 ? json_real(v) : json_null();
}

/* Returns the report as JSON text (malloc'd), or NULL without memory. The links carry the same
 * facts as the CSV's columns (report_columns.c), some grouped (percentiles, breaches). */
static char *render_json(const rn_report_t *r)
{
    json_t *links = json_array(), *vendors = json_array();
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        json_t *outs = json_array();
        for (size_t k = 0; k < L->n_listed; k++) {
            const rn_report_outage_t *o = &L->outages[k];
            json_array_append_new(outs, json_pack("{s:I,s:I,s:f,s:b,s:b,s:s}", "start_ms",
                                                  (json_int_t)o->start_ms, "end_ms",
                                                  (json_int_t)o->end_ms, "duration_s",
                                                  o->duration_s, "counted", o->counted, "open",
                                                  o->open, "root_cause", o->root_cause));
        }
        json_t *l = json_pack("{s:s,s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:f,s:I,s:f,s:f,s:f,s:f}",
                              "node", L->node, "circuit", L->circuit, "vendor", L->vendor,
                              "sla", L->sla, "period_s", L->period_s, "maintenance_s",
                              L->maintenance_s, "downtime_s", L->downtime_s, "availability_pct",
                              L->availability_pct, "target_pct", L->target_pct, "outages",
                              (json_int_t)L->n_outages, "mttr_s", L->mttr_s, "longest_s",
                              L->longest_s, "penalty_pct", L->penalty_pct, "penalty_amount",
                              L->penalty_amount);
        json_object_set_new(l, "monthly_charge", json_real(L->monthly_charge));
        json_object_set_new(l, "restore_target_s", limit_json(L->restore_s));
        json_object_set_new(l, "latency_limit_ms", limit_json(L->max_latency_ms));
        json_object_set_new(l, "loss_limit_pct", limit_json(L->max_loss_pct));
        json_object_set_new(l, "jitter_limit_ms", limit_json(L->max_jitter_ms));
        json_object_set_new(l, "latency_ms", pct_json(&L->perf.latency_ms));
        json_object_set_new(l, "loss_pct", pct_json(&L->perf.loss_pct));
        json_object_set_new(l, "jitter_ms", pct_json(&L->perf.jitter_ms));
        json_object_set_new(l, "breach", json_pack("{s:b,s:b,s:b,s:b,s:b}", "availability",
                                                   L->breach_availability, "latency",
                                                   L->breach_latency, "loss", L->breach_loss,
                                                   "jitter", L->breach_jitter, "restore",
                                                   L->breach_restore));
        json_object_set_new(l, "outage_list", outs);
        json_array_append_new(links, l);
    }
    for (size_t i = 0; i < r->n_vendors; i++) {
        const rn_report_vendor_t *v = &r->vendors[i];
        json_array_append_new(vendors, json_pack("{s:s,s:s,s:I,s:I,s:I,s:f,s:f,s:f}", "name",
                                                 v->name, "display", v->display, "links",
                                                 (json_int_t)v->n_links, "outages",
                                                 (json_int_t)v->n_outages, "breached_links",
                                                 (json_int_t)v->n_breached, "downtime_s",
                                                 v->downtime_s, "charge", v->charge,
                                                 "penalty_amount", v->penalty_amount));
    }
    json_t *services = json_array();
    for (size_t i = 0; i < r->n_services; i++) {
        const rn_report_service_t *S = &r->services[i];
        json_array_append_new(services, json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:I,s:f}", "name",
                                                  S->name, "kind", S->kind, "host", S->host,
                                                  "period_s", S->period_s, "maintenance_s",
                                                  S->maintenance_s, "downtime_s", S->downtime_s,
                                                  "availability_pct", S->availability_pct,
                                                  "outages", (json_int_t)S->n_outages,
                                                  "longest_s", S->longest_s));
    }
    json_t *root = json_pack("{s:I,s:I,s:o,s:o,s:o}", "from_ms", (json_int_t)r->from_ms, "to_ms",
                             (json_int_t)r->to_ms, "links", links, "vendors", vendors,
                             "services", services);
    char *s = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    json_decref(root);
    return s;
}

static int slurp(const char *path, char **body, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct stat st;
    int rc = fstat(fileno(f), &st) ? -errno : 0;
    char *b = rc ? NULL : malloc((size_t)st.st_size + 1);
    if (!rc && !b)
        rc = -ENOMEM;
    if (!rc && fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        rc = -EIO;
    fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    *body = b;
    *len = (size_t)st.st_size;
    return 0;
}

/* Renders r in format f for vendor (NULL: all) into memory. */
static int render_mem(const rn_report_t *r, const char *vendor, rn_report_format_t f,
                      char **body, size_t *len)
{
    if (f == RN_REPORT_JSON) {
        *body = render_json(r);
        *len = *body ? strlen(*body) : 0;
        return *body ? 0 : -ENOMEM;
    }
    if (f == RN_REPORT_PDF) {
        char tmp[] = "/tmp/rn-report-XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0)
            return -errno;
        close(fd);
        int rc = rn_report_pdf(r, vendor, tmp);
        if (!rc)
            rc = slurp(tmp, body, len);
        unlink(tmp);
        return rc;
    }
    FILE *m = open_memstream(body, len);
    if (!m)
        return -ENOMEM;
    int rc = f == RN_REPORT_CSV ? rn_report_csv(r, vendor, m) : rn_report_html(r, vendor, m);
    if (fclose(m) && !rc)
        rc = -EIO;
    return rc;
}

/* Writes <dir>/<prefix>-<vendor>.{csv,html,pdf} for every vendor of r; body lists the files. */
static int render_dir(const rn_report_t *r, const char *dir, const char *prefix, char **body,
                      size_t *len)
{
    FILE *list = open_memstream(body, len);
    if (!list)
        return -ENOMEM;
    int rc = mkdir(dir, 0750) && errno != EEXIST ? -errno : 0;
    char path[4096];
    for (size_t i = 0; i < r->n_vendors && !rc; i++) {
        const char *v = r->vendors[i].name;
        for (int f = RN_REPORT_CSV; f <= RN_REPORT_PDF && !rc; f++) {
            static const char *const ext[] = { "csv", "html", "pdf" };
            snprintf(path, sizeof path, "%s/%s-%s.%s", dir, prefix ? prefix : "report", v,
                     ext[f]);
            if (f == RN_REPORT_PDF) {
                rc = rn_report_pdf(r, v, path);
            } else {
                FILE *out = fopen(path, "w");
                rc = !out ? -errno
                          : f == RN_REPORT_CSV ? rn_report_csv(r, v, out)
                                               : rn_report_html(r, v, out);
                if (out && fclose(out) && !rc)
                    rc = -EIO;
            }
            if (!rc)
                fprintf(list, "%s\n", path);
            else
                rn_error("report: %s: %s", path, rn_strerror(rc));
        }
    }
    if (fclose(list) && !rc)
        rc = -EIO;
    return rc;
}

/* Refines a link outage the collector has not refined (open, or from before the ledger) with
 * the same function the collector uses (outage_refine.h), from both ends' probe files, so the
 * report and the row agree; rows marked refined are taken as they are. */
static void refine_outage(const rn_rrd_store_t *store, const rn_topology_t *topo,
                          rn_outage_rec_t *o, int64_t now_ms)
{
    char child[4096], parent[4096];
    if (o->refined || !store ||
        rn_outage_refine_paths(store, topo, o->circuit, child, parent, sizeof child) != 0)
        return;
    rn_outage_refine_files(child, parent, o, now_ms, 0, NULL);
}

/* Draws the latency and loss graphs of every link of r that has a probe file (for HTML and PDF;
 * a graph that fails is left out, the report still renders). */
static void link_graphs(const job_t *j, const rn_topology_t *topo, rn_report_t *r)
{
    char path[4096];
    size_t drawn = 0;
    for (size_t i = 0; j->store && i < r->n_links; i++) {
        rn_report_link_t *L = &r->links[i];
        const rn_node_t *node = rn_topology_node(topo, L->node);
        for (size_t u = 0; node && u < node->n_uplinks; u++)
            if (!strcmp(node->uplinks[u].circuit, L->circuit) &&
                !rn_rrd_store_path(j->store, node->id, RN_SRC_ICMP, "",
                                   node->uplinks[u].remote_node, path, sizeof path) &&
                !rn_report_link_graphs(L, path, r->from_ms, r->to_ms, j->maint, j->n_maint))
                drawn++;
    }
    rn_debug("report: graphs of %zu of %zu links drawn", drawn, r->n_links);
}

static void on_work(uv_work_t *w)
{
    job_t *j = w->data;
    rn_topology_t *topo = NULL;
    char err[512] = "";
    int rc = rn_topology_load(j->topo_path, j->secrets_path, &topo, err, sizeof err);
    if (rc) {
        rn_error("report: %s", err);
        j->status = -EIO;
        return;
    }
    for (size_t i = 0; i < j->n_outages; i++)
        if (!j->outages[i].planned && j->outages[i].kind == RN_OUTAGE_LINK)
            refine_outage(j->store, topo, &j->outages[i], j->now_ms);
    size_t n_links = 0;
    for (size_t i = 0; i < topo->n_nodes; i++)
        n_links += topo->nodes[i].n_uplinks;
    rn_report_perf_t *perf = calloc(n_links ? n_links : 1, sizeof *perf);
    size_t k = 0;
    for (size_t i = 0; perf && i < topo->n_nodes; i++)
        for (size_t u = 0; u < topo->nodes[i].n_uplinks; u++)
            link_perf(j, &topo->nodes[i].uplinks[u], topo->nodes[i].id, j->from_ms, j->to_ms,
                      &perf[k++]);
    rn_report_input_t in = { .outages = j->outages, .n_outages = j->n_outages,
                             .maint = j->maint, .n_maint = j->n_maint,
                             .degraded = j->degraded, .n_degraded = j->n_degraded,
                             .perf = perf, .n_perf = k, .now_ms = j->now_ms,
                             .service_down = j->svc_down, .n_service_down = j->n_svc_down };
    rn_report_t *r = NULL;
    rc = perf ? rn_report_compute(topo, &in, j->from_ms, j->to_ms, j->vendor, &r) : -ENOMEM;
    if (!rc && (j->out_dir || j->format == RN_REPORT_HTML || j->format == RN_REPORT_PDF))
        link_graphs(j, topo, r);
    if (!rc)
        rc = j->out_dir ? render_dir(r, j->out_dir, j->prefix, &j->body, &j->len)
                        : render_mem(r, j->vendor, j->format, &j->body, &j->len);
    j->status = rc;
    rn_report_free(r);
    free(perf);
    rn_topology_free(topo);
}

static void on_work_done(uv_work_t *w, int status)
{
    job_t *j = w->data;
    finish(j, status ? status : j->status);
}

/* ---------------------------------------------------------------- event store chain */

static void on_alarms(void *data, int status, const rn_alarm_rec_t *a, size_t n)
{
    job_t *j = data;
    if (status) {
        finish(j, status);
        return;
    }
    j->degraded = calloc(n ? n : 1, sizeof *j->degraded);
    j->svc_down = calloc(n ? n : 1, sizeof *j->svc_down);
    if (!j->degraded || !j->svc_down) {
        finish(j, -ENOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int type = rn_alarm_type_parse(a[i].type); /* any spelling a row may hold */
        if (!a[i].root_id && a[i].entity && type == RN_ALARM_SERVICE_DOWN &&
            (j->svc_down[j->n_svc_down].service = strdup(a[i].entity))) {
            rn_report_svc_down_t *d = &j->svc_down[j->n_svc_down++];
            d->start_ms = a[i].raised_at_ms;
            d->end_ms = a[i].cleared ? a[i].cleared_at_ms : j->now_ms;
        }
        if (!a[i].circuit || a[i].root_id || type != RN_ALARM_LINK_DEGRADED)
            continue;
        rn_report_interval_t *d = &j->degraded[j->n_degraded++];
        d->circuit = strdup(a[i].circuit);
        d->start_ms = a[i].raised_at_ms;
        d->end_ms = a[i].cleared ? a[i].cleared_at_ms : j->now_ms;
    }
    j->work.data = j;
    j->store = *j->host->store; /* the pool thread reads no field of the collector's */
    int rc = uv_queue_work(j->host->loop, &j->work, on_work, on_work_done);
    if (rc)
        finish(j, rc);
}

static void on_maint(void *data, int status, const rn_maintenance_rec_t *m, size_t n)
{
    job_t *j = data;
    if (status) {
        finish(j, status);
        return;
    }
    j->maint = calloc(n ? n : 1, sizeof *j->maint);
    if (!j->maint) {
        finish(j, -ENOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        j->maint[i] = m[i];
        j->maint[i].entity = strdup(m[i].entity);
        j->maint[i].reason = j->maint[i].created_by = NULL;
        j->n_maint = i + 1;
    }
    int rc = rn_event_store_alarms_range(*j->host->events, j->from_ms, j->to_ms, 0, on_alarms, j);
    if (rc)
        finish(j, rc);
}

static void on_outages(void *data, int status, const rn_outage_rec_t *o, size_t n)
{
    job_t *j = data;
    if (status) {
        finish(j, status);
        return;
    }
    j->outages = calloc(n ? n : 1, sizeof *j->outages);
    if (!j->outages) {
        finish(j, -ENOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        j->outages[i] = o[i];
        j->outages[i].entity = dup_or_null(o[i].entity);
        j->outages[i].vendor = dup_or_null(o[i].vendor);
        j->outages[i].circuit = dup_or_null(o[i].circuit);
        j->outages[i].root_cause = dup_or_null(o[i].root_cause);
        j->n_outages = i + 1;
    }
    int rc = rn_event_store_maintenance_list(*j->host->events, j->from_ms, j->to_ms, on_maint, j);
    if (rc)
        finish(j, rc);
}

int rn_report_run(rn_report_host_t *host, const rn_report_req_t *req, rn_report_cb cb,
                  void *data)
{
    if (!*host->events || req->to_ms <= req->from_ms)
        return -EINVAL;
    if ((uint64_t)req->to_ms - (uint64_t)req->from_ms > (uint64_t)RN_REPORT_MAX_SPAN_MS)
        return -E2BIG;
    if (host->jobs >= RN_REPORT_MAX_RUNNING && !req->scheduled)
        return -EBUSY;
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->host = host;
    j->cb = cb;
    j->data = data;
    j->from_ms = req->from_ms;
    j->to_ms = req->to_ms;
    j->now_ms = rn_clock_wall_ms();
    j->format = req->format;
    const rn_collector_config_t *cfg = *host->config;
    j->topo_path = strdup(cfg->topology_path);
    j->secrets_path = dup_or_null(cfg->secrets_path);
    j->vendor = req->vendor && *req->vendor ? strdup(req->vendor) : NULL;
    j->out_dir = dup_or_null(req->out_dir);
    j->prefix = dup_or_null(req->prefix);
    if (!j->topo_path) {
        job_free(j);
        return -ENOMEM;
    }
    int rc = rn_event_store_outages_range(*host->events, req->from_ms, req->to_ms, on_outages, j);
    if (rc)
        job_free(j);
    else
        host->jobs++; /* until finish() */
    return rc;
}
