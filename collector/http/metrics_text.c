/* GET /metrics: the collector's state as Prometheus text exposition (version 0.0.4), or as
 * OpenMetrics 1.0 when the scraper asks for it (Accept: application/openmetrics-text). Both
 * end with "# EOF" (a comment in the Prometheus format). Built on the loop from memory: the
 * topology, the alarm engine, the per-node state and the latest-value cache.
 *
 * The two dialects differ only in counters: OpenMetrics names the family without "_total" on
 * its TYPE/HELP lines, the Prometheus format names the sample. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "alarm/alarm_view.h"
#include "clock.h"
#include "ingest/ingest.h"
#include "http/http_int.h"
#include "series/latest.h"
#include "series/rrd_store.h"
#include "metrics.h"
#include "sources.h"

typedef struct {
    FILE *f;
    bool om;
    rn_http_t *h;
    rn_alarm_view_t v; /* the engine's state, taken once for the whole answer */
} out_t;

/* HELP and TYPE of a family; name is the sample name (with _total for counters). */
static void family(out_t *o, const char *name, const char *type, const char *help)
{
    size_t n = strlen(name);
    int len = (int)n;
    if (o->om && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
        len -= 6;
    fprintf(o->f, "# HELP %.*s %s\n# TYPE %.*s %s\n", len, name, help, len, name, type);
}

static void value(out_t *o, double v)
{
    if (isnan(v))
        fputs(" NaN\n", o->f);
    else if (v == (double)(int64_t)v && fabs(v) < 9e15)
        fprintf(o->f, " %" PRId64 "\n", (int64_t)v);
    else
        fprintf(o->f, " %.9g\n", v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void nodes(out_t *o)
{
    const rn_topology_t *t = rn__http_topo(o->h);
    char a[512], b[128], d[512];
    family(o, "rajnet_node_up", "gauge",
           "1 if the node is reachable (up or degraded), 0 if down, silent or unknown");
    for (size_t i = 0; i < t->n_nodes; i++) {
        const rn_node_t *n = &t->nodes[i];
        rn_alarm_status_t s = o->v.node[i];
        fprintf(o->f, "rajnet_node_up{node=\"%s\",tier=\"%s\",district=\"%s\"}",
                rn__http_label(n->id, a, sizeof a), rn__http_label(n->tier, b, sizeof b),
                rn__http_label(rn_topology_district(n), d, sizeof d));
        value(o, s == RN_STATUS_UP || s == RN_STATUS_DEGRADED || s == RN_STATUS_FLAPPING);
    }
    family(o, "rajnet_node_agent_connected", "gauge", "1 if the node's agent is connected");
    /* the connected agents' ids, sorted: a walk of the node list per node was O(nodes x agents) */
    size_t n_conn = 0;
    for (const rn_node_state_t *st = rn__http_node_states(o->h); st; st = st->next)
        n_conn += st->session != NULL;
    const char **conn = malloc((n_conn ? n_conn : 1) * sizeof *conn);
    n_conn = 0;
    for (const rn_node_state_t *st = rn__http_node_states(o->h); conn && st; st = st->next)
        if (st->session)
            conn[n_conn++] = st->id;
    if (conn)
        qsort(conn, n_conn, sizeof *conn, cmp_str);
    for (size_t i = 0; i < t->n_nodes; i++) {
        const char *id = t->nodes[i].id;
        fprintf(o->f, "rajnet_node_agent_connected{node=\"%s\"}", rn__http_label(id, a, sizeof a));
        value(o, conn && bsearch(&id, conn, n_conn, sizeof *conn, cmp_str) != NULL);
    }
    free(conn);
}

static bool link_up(rn_alarm_status_t s)
{
    return s == RN_STATUS_UP || s == RN_STATUS_DEGRADED || s == RN_STATUS_FLAPPING;
}

static bool link_degraded(rn_alarm_status_t s)
{
    return s == RN_STATUS_DEGRADED || s == RN_STATUS_FLAPPING;
}

/* Writes family name's line for every link: its circuit, vendor and node, and one(status). */
static void link_family(out_t *o, const char *name, bool (*one)(rn_alarm_status_t))
{
    const rn_topology_t *t = rn__http_topo(o->h);
    char a[512], b[128], d[512];
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t k = 0; k < t->nodes[i].n_uplinks; k++) {
            const rn_link_t *l = &t->nodes[i].uplinks[k];
            fprintf(o->f, "%s{circuit=\"%s\",vendor=\"%s\",node=\"%s\"}", name,
                    rn__http_label(l->circuit, a, sizeof a), rn__http_label(l->vendor, b, sizeof b),
                    rn__http_label(t->nodes[i].id, d, sizeof d));
            value(o, one(rn_alarm_view_link(&o->v, i, k)));
        }
}

static void links(out_t *o)
{
    const rn_topology_t *t = rn__http_topo(o->h);
    char a[512], d[512];
    family(o, "rajnet_link_up", "gauge", "1 if the link is up (degraded and flapping count as up)");
    link_family(o, "rajnet_link_up", link_up);
    family(o, "rajnet_link_degraded", "gauge", "1 if the link is degraded or flapping");
    link_family(o, "rajnet_link_degraded", link_degraded);
    family(o, "rajnet_service_reachable", "gauge",
           "1 if every link on the node's path to the service is up");
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t s = 0; s < t->n_services; s++) {
            fprintf(o->f, "rajnet_service_reachable{node=\"%s\",service=\"%s\"}",
                    rn__http_label(t->nodes[i].id, a, sizeof a),
                    rn__http_label(t->services[s].name, d, sizeof d));
            value(o, rn_alarm_view_reaches(&o->v, i, s));
        }
}

/* The latest-value families, one pass per family over the cache. */
typedef struct {
    out_t *o;
    int which;
} pass_t;

enum { P_RTT, P_JITTER, P_LOSS, P_OCTETS, P_OPER, P_SPEED };

static void series_pass(void *ctx, const rn_latest_series_t *s)
{
    pass_t *p = ctx;
    FILE *f = p->o->f;
    bool icmp = !strcmp(s->source, RN_SRC_ICMP) && s->n >= RN_ICMP_N;
    bool ifs = !strcmp(s->source, RN_SRC_IF) && s->n >= RN_IF_N;
    char ab[512], bb[512], db[512];
    const char *a = rn__http_label(s->node, ab, sizeof ab);
    const char *b = rn__http_label(s->object, bb, sizeof bb);
    const char *d = rn__http_label(s->device, db, sizeof db);
    switch (p->which) {
    case P_RTT:
    case P_JITTER:
    case P_LOSS:
        if (!icmp)
            return;
        if (p->which == P_RTT) {
            static const struct { const char *stat; int i; } st[] = {
                { "min", RN_ICMP_RTTMIN }, { "avg", RN_ICMP_RTTAVG }, { "max", RN_ICMP_RTTMAX } };
            for (size_t k = 0; k < 3; k++) {
                fprintf(f, "rajnet_probe_rtt_seconds{node=\"%s\",target=\"%s\",stat=\"%s\"}", a,
                        b, st[k].stat);
                value(p->o, s->v[st[k].i] / 1000.0);
            }
        } else if (p->which == P_JITTER) {
            fprintf(f, "rajnet_probe_jitter_seconds{node=\"%s\",target=\"%s\"}", a, b);
            value(p->o, s->v[RN_ICMP_JITTER] / 1000.0);
        } else {
            fprintf(f, "rajnet_probe_loss_ratio{node=\"%s\",target=\"%s\"}", a, b);
            value(p->o, s->v[RN_ICMP_LOSS] / 100.0);
        }
        return;
    case P_OCTETS:
        if (!ifs)
            return;
        if (!isnan(s->v[RN_IF_IN])) {
            fprintf(f, "rajnet_interface_octets_total{node=\"%s\",device=\"%s\",ifname=\"%s\","
                       "direction=\"in\"}", a, d, b);
            value(p->o, s->v[RN_IF_IN]);
        }
        if (!isnan(s->v[RN_IF_OUT])) {
            fprintf(f, "rajnet_interface_octets_total{node=\"%s\",device=\"%s\",ifname=\"%s\","
                       "direction=\"out\"}", a, d, b);
            value(p->o, s->v[RN_IF_OUT]);
        }
        return;
    case P_OPER:
        if (!ifs || isnan(s->v[RN_IF_OPER]))
            return;
        fprintf(f, "rajnet_interface_oper_status{node=\"%s\",device=\"%s\",ifname=\"%s\"}", a, d, b);
        value(p->o, s->v[RN_IF_OPER]);
        return;
    case P_SPEED:
        if (!ifs || !s->speed_bps)
            return;
        fprintf(f, "rajnet_interface_speed_bytes{node=\"%s\",device=\"%s\",ifname=\"%s\"}", a, d, b);
        value(p->o, (double)s->speed_bps / 8.0);
        return;
    }
}

static void latest(out_t *o)
{
    rn_latest_t *l = rn__http_latest(o->h);
    static const struct { int which; const char *name, *type, *help; } fams[] = {
        { P_RTT, "rajnet_probe_rtt_seconds", "gauge",
          "Round-trip time of the last probe round (stat: min, avg, max)" },
        { P_JITTER, "rajnet_probe_jitter_seconds", "gauge",
          "Mean difference of consecutive RTTs in the last probe round" },
        { P_LOSS, "rajnet_probe_loss_ratio", "gauge", "Share of echoes lost in the last probe round" },
        { P_OCTETS, "rajnet_interface_octets_total", "counter",
          "Interface octet counter as last polled (ifHCInOctets / ifHCOutOctets)" },
        { P_OPER, "rajnet_interface_oper_status", "gauge",
          "IF-MIB ifOperStatus as last polled (1 up, 2 down, 7 lowerLayerDown, ...)" },
        { P_SPEED, "rajnet_interface_speed_bytes", "gauge",
          "Interface speed in bytes per second as the agent reported it" },
    };
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
        family(o, fams[i].name, fams[i].type, fams[i].help);
        pass_t p = { o, fams[i].which };
        if (l)
            rn_latest_foreach(l, NULL, series_pass, &p);
    }
}

static void count_alarm(void *ctx, const rn_alarm_t *a)
{
    size_t *n = ctx;
    n[a->severity >= 1 && a->severity <= 3 ? a->severity : 3]++;
}

static void collector_health(out_t *o)
{
    rn_http_t *h = o->h;
    size_t sev[4] = { 0 }, agents = rn__http_agents_connected(h);
    uint64_t batches = 0, samples = 0, too_old = 0, failed = 0, dups = 0, noted = 0, stale = 0;
    uint64_t future = 0, over_cap = 0, unplanned = 0, refused = 0;
    rn_alarm_foreach(rn__http_alarms(h), count_alarm, sev);
    family(o, "rajnet_alarms_active", "gauge", "Published alarms not cleared, by severity (1 worst)");
    for (int s = 1; s <= 3; s++) {
        fprintf(o->f, "rajnet_alarms_active{severity=\"%d\"}", s);
        value(o, (double)sev[s]);
    }
    for (const rn_node_state_t *n = rn__http_node_states(h); n; n = n->next) {
        batches += n->batches;
        samples += n->samples;
        too_old += n->too_old;
        failed += n->failed;
        dups += n->duplicates;
        future += n->ingest.future;
        over_cap += n->ingest.over_cap;
        unplanned += n->ingest.unplanned;
        refused += n->ingest.refused;
    }
    rn_latest_t *latest = rn__http_latest(h);
    rn_rrd_store_t *store = rn__http_store(h);
    if (latest)
        rn_latest_counts(latest, &noted, &stale);
    const union MHD_DaemonInfo *ci =
        h->mhd ? MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;
    const struct { const char *name, *type, *help; double v; } m[] = {
        { "rajnet_collector_start_time_seconds", "gauge", "When the collector's HTTP server started",
          (double)h->started_ms / 1000.0 },
        { "rajnet_collector_agents_connected", "gauge", "Agents with a session past hello",
          (double)agents },
        { "rajnet_collector_batches_total", "counter", "Batches stored in RRD files", (double)batches },
        { "rajnet_collector_samples_total", "counter", "Samples stored in RRD files", (double)samples },
        { "rajnet_collector_samples_too_old_total", "counter",
          "Samples not stored: at or before their RRD file's last update", (double)too_old },
        { "rajnet_collector_samples_failed_total", "counter",
          "Samples librrd refused for another reason", (double)failed },
        { "rajnet_collector_duplicate_batches_total", "counter",
          "Batches received again (at-least-once delivery) and dropped", (double)dups },
        { "rajnet_collector_samples_future_total", "counter",
          "Samples dropped: stamped later than now + max_future_skew_s", (double)future },
        { "rajnet_collector_samples_over_series_cap_total", "counter",
          "Samples dropped: a new series past the per-node series cap", (double)over_cap },
        { "rajnet_collector_samples_unplanned_total", "counter",
          "Samples dropped: a series the node's plan does not ask for", (double)unplanned },
        { "rajnet_collector_batches_refused_total", "counter",
          "Batches not stored (e.g. a full disk): not acked, so their agents send them again",
          (double)refused },
        { "rajnet_collector_store_queue_depth", "gauge", "Batches queued for the RRD writer",
          (double)(store ? rn_rrd_store_pending(store) : 0) },
        { "rajnet_collector_event_store_queue_depth", "gauge",
          "Jobs queued for the event store (SQLite)", (double)rn__db_pending(h) },
        { "rajnet_collector_reading_paused", "gauge", "1 while reading from agents is paused (RRD backpressure)",
          (double)rn__http_reading_paused(h) },
        { "rajnet_collector_latest_stale_samples_total", "counter",
          "Samples not newer than their series' latest (spool replays)", (double)stale },
        { "rajnet_collector_http_requests_total", "counter", "HTTP requests received",
          (double)h->requests },
        { "rajnet_collector_http_client_errors_total", "counter", "HTTP replies with a 4xx status",
          (double)h->replies_4xx },
        { "rajnet_collector_http_server_errors_total", "counter", "HTTP replies with a 5xx status",
          (double)h->replies_5xx },
        { "rajnet_collector_http_connections", "gauge", "Open HTTP connections",
          ci ? (double)ci->num_connections : NAN },
        { "rajnet_collector_http_event_clients", "gauge", "Open /api/v1/events streams",
          (double)h->n_sse },
        { "rajnet_collector_graphs_rendered_total", "counter", "Graphs rendered by librrd",
          (double)h->graphs_rendered },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        family(o, m[i].name, m[i].type, m[i].help);
        fputs(m[i].name, o->f);
        value(o, m[i].v);
    }
}

/* ---- a write-only memory stream for big answers ----
 * open_memstream grows its buffer through glibc's string-stream overflow path, which zeroes
 * and copies it again and again: at the full state's size (an 8-13 MB /metrics) that was half of
 * the request's time. Here stdio buffers 64 KB and each flush appends to a buffer that doubles
 * (realloc, no zeroing). */
typedef struct {
    char **buf;
    size_t *len;
    char *p;
    size_t n, cap;
    char io[65536];
} text_sink_t;

static ssize_t sink_write(void *cookie, const char *data, size_t size)
{
    text_sink_t *s = cookie;
    if (s->n + size + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1 << 20;
        while (cap < s->n + size + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p)
            return -1;
        s->p = p, s->cap = cap;
    }
    memcpy(s->p + s->n, data, size);
    s->n += size;
    s->p[s->n] = '\0';
    return (ssize_t)size;
}

/* At fclose: hands the text over (or NULL when nothing was written or memory ran out). */
static int sink_close(void *cookie)
{
    text_sink_t *s = cookie;
    *s->buf = s->p ? s->p : calloc(1, 1);
    *s->len = s->n;
    int rc = *s->buf ? 0 : -1;
    free(s);
    return rc;
}

FILE *rn__http_text_open(char **buf, size_t *len)
{
    text_sink_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->buf = buf, s->len = len;
    *buf = NULL, *len = 0;
    FILE *f = fopencookie(s, "w", (cookie_io_functions_t){ NULL, sink_write, NULL, sink_close });
    if (!f) {
        free(s);
        return NULL;
    }
    setvbuf(f, s->io, _IOFBF, sizeof s->io);
    /* the stream is this answer's alone: without this every putc takes the stream's lock,
     * which was half the time of a full-state node listing */
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    return f;
}

int rn__metrics_text(rn_http_t *h, bool openmetrics, char **out, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = rn__http_text_open(&buf, &n);
    if (!f)
        return -ENOMEM;
    out_t o = { f, openmetrics, h, { 0 } };
    if (rn_alarm_view_take(rn__http_alarms(h), &o.v) != 0) {
        fclose(f);
        free(buf);
        return -ENOMEM;
    }
    nodes(&o);
    links(&o);
    rn_alarm_view_free(&o.v);
    latest(&o);
    collector_health(&o);
    fputs("# EOF\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* GET /metrics: Prometheus text, or OpenMetrics when the client's Accept asks for it. */
static void metrics(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    if (!rn__http_args_only(r, NULL))
        return;
    const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
    bool om = accept && strstr(accept, "application/openmetrics-text");
    char *text;
    size_t len;
    if (rn__metrics_text(r->http, om, &text, &len) != 0)
        return rn__http_error(r, 503, "out of memory");
    rn__http_reply(r, 200,
                   om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                      : "text/plain; version=0.0.4; charset=utf-8",
                   text, len);
}

const rn_http_route_t rn_api_metrics_routes[] = {
    { "GET", "/metrics", false, metrics },
    { NULL, NULL, false, NULL },
};
