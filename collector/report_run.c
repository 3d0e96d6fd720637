/* Runs an SLA report for the collector (see report_run.h): three event store queries chained on
 * the loop, then one uv_queue_work job that does everything that touches the disk. librrd is
 * read here (rrd_fetch_r, which is reentrant) besides rrd_store.c and graph.c: read-only, and
 * only the probe files of links; report_graph.c draws the links' graphs for HTML and PDF. */
#include "report_run.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "collector.h"
#include "event_store.h"
#include "log.h"
#include "report.h"
#include "report_graph.h"
#include "rrd_store.h"

typedef struct {
    uv_work_t work;
    rn_collector_t *c;
    char *topo_path, *secrets_path, *vendor, *out_dir, *prefix;
    int64_t from_ms, to_ms, now_ms;
    rn_report_format_t format;
    rn_outage_rec_t *outages;
    size_t n_outages;
    rn_maintenance_rec_t *maint;
    size_t n_maint;
    rn_report_interval_t *degraded;
    size_t n_degraded;
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
    const rn_collector_t *c = j->c;
    char path[4096];
    out->circuit = l->circuit;
    if (!c->store || rn_rrd_store_path(c->store, node, "icmp", "", l->remote_node, path,
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
    json_t *root = json_pack("{s:I,s:I,s:o,s:o}", "from_ms", (json_int_t)r->from_ms, "to_ms",
                             (json_int_t)r->to_ms, "links", links, "vendors", vendors);
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
                rn_error("report: %s: %s", path, strerror(-rc));
        }
    }
    if (fclose(list) && !rc)
        rc = -EIO;
    return rc;
}

/* The loss column of the link's probe file over [from_s, to_s] at its finest step: *out (free)
 * with *n rows, row i covering (t0 + i * step, t0 + (i + 1) * step]. Returns 0 or -1. */
static int fetch_loss(const char *path, time_t from_s, time_t to_s, double **out, size_t *n,
                      time_t *t0, unsigned long *step_out)
{
    time_t start = from_s, end = to_s;
    unsigned long step = 1, n_ds = 0;
    char **names = NULL;
    rrd_value_t *data = NULL;
    if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &n_ds, &names, &data) != 0) {
        rrd_clear_error();
        return -1;
    }
    size_t rows = step ? (size_t)((end - start) / (time_t)step) : 0;
    double *v = malloc((rows ? rows : 1) * sizeof *v);
    int rc = -1;
    for (unsigned long d = 0; v && d < n_ds; d++)
        if (!strcmp(names[d], "loss")) {
            for (size_t r = 0; r < rows; r++)
                v[r] = data[r * n_ds + d];
            rc = 0;
        }
    for (unsigned long d = 0; d < n_ds; d++)
        rrd_freemem(names[d]);
    rrd_freemem(names);
    rrd_freemem(data);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = rows;
    *t0 = start;
    *step_out = step;
    return 0;
}

/* Refines a link outage's start and end from the agent's probe evidence (the RRD file the agent's
 * samples, replayed after a reconnect too, were written to): the run of rounds at 100% loss
 * around the recorded start, with the partly lost rounds at either edge counted pro rata (a
 * round that lost 40% of its echoes at the start of a cut lost its last 40%; timing below). The
 * alarm engine
 * records the start at the first bad round and the end when enough good rounds were seen, so
 * the end is late by the clear hysteresis; this puts both within about half a round of the
 * truth. (RRD rows blend samples that straddle a step boundary, hence "about".)
 * Changes nothing when the evidence is missing or disagrees by more than REFINE_MAX_S. */
#define REFINE_MAX_S 20
static void refine_outage(const rn_collector_t *c, const rn_topology_t *topo, rn_outage_rec_t *o,
                          int64_t now_ms)
{
    const rn_node_t *node = NULL;
    const rn_link_t *link = NULL;
    for (size_t i = 0; !link && o->circuit && i < topo->n_nodes; i++)
        for (size_t u = 0; u < topo->nodes[i].n_uplinks; u++)
            if (!strcmp(topo->nodes[i].uplinks[u].circuit, o->circuit)) {
                node = &topo->nodes[i];
                link = &node->uplinks[u];
            }
    char path[4096];
    if (!link || !c->store || rn_rrd_store_path(c->store, node->id, "icmp", "", link->remote_node,
                                                path, sizeof path) < 0 || access(path, R_OK))
        return;
    int64_t end_ms = o->ended ? o->end_ms : now_ms;
    double *loss = NULL;
    size_t n = 0;
    time_t t0 = 0;
    unsigned long step = 0;
    if (fetch_loss(path, (time_t)(o->start_ms / 1000) - 60, (time_t)(end_ms / 1000) + 60, &loss,
                   &n, &t0, &step) || !n || step > 10) {
        free(loss);
        return;
    }
    /* the full-loss row nearest the recorded start */
    size_t first = n;
    double best = 1e18;
    for (size_t i = 0; i < n; i++) {
        double row_end = (double)t0 + (double)(i + 1) * (double)step;
        double dist = row_end - (double)o->start_ms / 1000.0;
        if (dist < 0)
            dist = -dist;
        if (loss[i] >= 99.9 && dist < best) {
            best = dist;
            first = i;
        }
    }
    if (first == n || best > REFINE_MAX_S) {
        free(loss);
        return;
    }
    size_t last = first;
    while (first > 0 && loss[first - 1] >= 99.9)
        first--;
    while (last + 1 < n && loss[last + 1] >= 99.9)
        last++;
    /* An agent stamps a round with its start T and spreads its echoes over [T, T + step/2];
     * the RRD row ending at R = t0 + (i + 1) * step holds the round stamped R. So row i saw the
     * path during [R_i, R_i + h], h = step / 2. A cut lost the last f of the round before the
     * first full loss (at R + (1 - f) h), or, with f = 0, fell between that round's end and the
     * next round's start (midpoint); a heal symmetrically. */
    double st = (double)step, h = st / 2;
#define ROW_T(i) ((double)t0 + (double)((i) + 1) * st)
    double start_s = ROW_T(first) - (st - h) / 2;
    if (first > 0 && !isnan(loss[first - 1]) && loss[first - 1] > 0.1)
        start_s = ROW_T(first - 1) + (1 - loss[first - 1] / 100.0) * h;
    double end_s = ROW_T(last) + h + (st - h) / 2;
    bool end_seen = last + 1 < n && !isnan(loss[last + 1]);
    if (end_seen && loss[last + 1] > 0.1)
        end_s = ROW_T(last + 1) + loss[last + 1] / 100.0 * h;
#undef ROW_T
    int64_t ns = (int64_t)(start_s * 1000), ne = (int64_t)(end_s * 1000);
    if (llabs(ns - o->start_ms) <= REFINE_MAX_S * 1000)
        o->start_ms = ns;
    if (o->ended && end_seen && ne > o->start_ms && llabs(ne - o->end_ms) <= REFINE_MAX_S * 1000)
        o->end_ms = ne;
    free(loss);
}

/* Draws the latency and loss graphs of every link of r that has a probe file (for HTML and PDF;
 * a graph that fails is left out, the report still renders). */
static void link_graphs(const job_t *j, const rn_topology_t *topo, rn_report_t *r)
{
    char path[4096];
    size_t drawn = 0;
    for (size_t i = 0; j->c->store && i < r->n_links; i++) {
        rn_report_link_t *L = &r->links[i];
        const rn_node_t *node = rn_topology_node(topo, L->node);
        for (size_t u = 0; node && u < node->n_uplinks; u++)
            if (!strcmp(node->uplinks[u].circuit, L->circuit) &&
                !rn_rrd_store_path(j->c->store, node->id, "icmp", "",
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
            refine_outage(j->c, topo, &j->outages[i], j->now_ms);
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
                             .perf = perf, .n_perf = k, .now_ms = j->now_ms };
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
    if (!j->degraded) {
        finish(j, -ENOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!a[i].circuit || a[i].root_id || !a[i].type || strcmp(a[i].type, "link_degraded"))
            continue;
        rn_report_interval_t *d = &j->degraded[j->n_degraded++];
        d->circuit = strdup(a[i].circuit);
        d->start_ms = a[i].raised_at_ms;
        d->end_ms = a[i].cleared ? a[i].cleared_at_ms : j->now_ms;
    }
    j->work.data = j;
    int rc = uv_queue_work(j->c->loop, &j->work, on_work, on_work_done);
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
    int rc = rn_event_store_alarms_range(j->c->events, j->from_ms, j->to_ms, 0, on_alarms, j);
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
    int rc = rn_event_store_maintenance_list(j->c->events, j->from_ms, j->to_ms, on_maint, j);
    if (rc)
        finish(j, rc);
}

int rn_report_run(rn_collector_t *c, const rn_report_req_t *req, rn_report_cb cb, void *data)
{
    if (!c->events || req->to_ms <= req->from_ms)
        return -EINVAL;
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->c = c;
    j->cb = cb;
    j->data = data;
    j->from_ms = req->from_ms;
    j->to_ms = req->to_ms;
    j->now_ms = rn_clock_wall_ms();
    j->format = req->format;
    j->topo_path = strdup(c->config->topology_path);
    j->secrets_path = dup_or_null(c->config->secrets_path);
    j->vendor = req->vendor && *req->vendor ? strdup(req->vendor) : NULL;
    j->out_dir = dup_or_null(req->out_dir);
    j->prefix = dup_or_null(req->prefix);
    if (!j->topo_path) {
        job_free(j);
        return -ENOMEM;
    }
    int rc = rn_event_store_outages_range(c->events, req->from_ms, req->to_ms, on_outages, j);
    if (rc)
        job_free(j);
    return rc;
}
