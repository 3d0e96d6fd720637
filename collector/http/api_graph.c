/* GET /api/v1/graph: the renders, one at a time on a serial queue on the pool
 * (lib/serial_queue.h), and the handler (views and arguments in series/rrd_graph.c). A render
 * whose request is gone before it begins is cancelled (the job's gone hook, http_int.h), and at
 * close every waiting one (rn__graph_shutdown). */
#include "series/rrd_graph.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <rrd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "series/rrd_store.h"
#include "serial_queue.h"
#include "sources.h"
#include "util.h"
#include "http/http_int.h"
#include "series/latest.h"

#define MAX_ARGS 64

typedef struct rn_graph_job {
    rn_http_job_t job;            /* first: rn__http_job_new allocates the whole */
    rn_serial_job_t sj;
    char *argv[MAX_ARGS];
    int argc;
    char *path;
    bool svg;
    unsigned char *image;
    size_t image_len;
    char err[256];
    int status;                   /* 0, or the HTTP status of the failure */
} graph_job_t;

static void render(rn_serial_job_t *sj)
{
    graph_job_t *j = container_of(sj, graph_job_t, sj);
    struct stat st;
    if (stat(j->path, &st) != 0) {
        j->status = 404;
        snprintf(j->err, sizeof j->err, "no data for this series yet (no RRD file)");
        return;
    }
    rrd_clear_error();
    rn_rrd_graph_lock();
    rrd_info_t *info = rrd_graph_v(j->argc, j->argv);
    rn_rrd_graph_unlock();
    for (rrd_info_t *i = info; i; i = i->next)
        if (!strcmp(i->key, "image") && i->type == RD_I_BLO) {
            j->image = malloc(i->value.u_blo.size ? i->value.u_blo.size : 1);
            if (j->image) {
                memcpy(j->image, i->value.u_blo.ptr, i->value.u_blo.size);
                j->image_len = i->value.u_blo.size;
            }
        }
    if (!j->image) {
        j->status = 500;
        snprintf(j->err, sizeof j->err, "rrd_graph: %s",
                 rrd_test_error() ? rrd_get_error() : "no image");
    }
    rrd_info_free(info);
    rrd_clear_error();
}

/* Frees what the job holds besides its image. */
static void job_clear(graph_job_t *j)
{
    for (int i = 0; i < j->argc; i++)
        free(j->argv[i]);
    free(j->path);
    j->argc = 0;
    j->path = NULL;
}

/* On the loop when a render finished, or never ran (UV_ECANCELED: its request went away while
 * it waited, or the server is closing). */
static void rendered(rn_serial_job_t *sj, int status)
{
    graph_job_t *j = container_of(sj, graph_job_t, sj);
    rn_http_t *h = j->job.http;
    h->graphs_rendered += status == 0;
    /* While closing, the job below may be the last thing h waits for: h is freed inside
     * rn__http_job_done then, so nothing after it may read h. */
    bool svg = j->svg;
    unsigned char *image = j->image;
    size_t len = j->image_len;
    int st = status == UV_ECANCELED ? 503 : status ? 500 : j->status;
    char err[256];
    snprintf(err, sizeof err, "%s", status == UV_ECANCELED ? "shutting down" : j->err);
    j->image = NULL;
    job_clear(j);
    rn_http_req_t *r = rn__http_job_done(&j->job); /* frees j */
    if (r && st)
        rn__http_error(r, (unsigned)st, "%s", err);
    else if (r) {
        rn__http_reply(r, 200, svg ? "image/svg+xml" : "image/png", (char *)image, len);
        image = NULL;
    }
    free(image);
}

/* The request of a waiting render went away (from on_completed, http.c): the render is dropped
 * unless it has begun. */
static void render_unwanted(rn_http_job_t *job)
{
    graph_job_t *j = (graph_job_t *)job;
    if (j->job.http->graphs) /* NULL once shut down: every render was cancelled then */
        rn_serial_cancel(j->job.http->graphs, &j->sj); /* rendered() frees it, or it runs on */
}

void rn__graph_shutdown(rn_http_t *h)
{
    if (!h->graphs)
        return;
    /* The waiting renders are dropped (their requests get 503). A render still waiting for a
     * pool thread is cancelled too; one that has begun runs to its end, and the server is freed
     * only after its callback, because its job is counted in h->jobs. The queue frees itself
     * once that one is over. */
    rn_serial_cancel_all(h->graphs);
    rn_serial_close(h->graphs, NULL, NULL);
    h->graphs = NULL;
}

/* ---------------------------------------------------------------- the handler */

static bool one_of(const char *s, const char *a, const char *b, const char *c)
{
    return !strcmp(s, a) || !strcmp(s, b) || (c && !strcmp(s, c));
}

/* The graph's title: what a NOC engineer calls the series. */
static void title_of(char *buf, size_t len, const char *node, const char *source,
                     const char *device, const char *object, const char *view)
{
    if (!strcmp(source, RN_SRC_IF))
        snprintf(buf, len, "%s %s %s %s", node, device, object, view);
    else if (!strcmp(source, RN_SRC_ICMP))
        snprintf(buf, len, "%s to %s %s", node, object, view);
    else if (!strcmp(source, RN_SRC_RTP) || !strcmp(source, RN_SRC_TCPHS))
        snprintf(buf, len, "%s VC media (capture %s) %s", node, object, view);
    else
        snprintf(buf, len, "%s service %s %s", node, object, view);
}

/* A graph request's query, checked. */
typedef struct {
    const char *node, *source, *device, *object, *format, *view;
    bool is_if;
    int64_t start, end, width, height; /* Unix s; pixels */
} graph_args_t;

/* Reads and checks r's query into a. Returns true, or false once it has replied (400 or 404). */
static bool graph_args(rn_http_req_t *r, graph_args_t *a)
{
    static const char *const allowed[] = { "node", "source", "device", "object", "from", "to",
                                           "format", "view", "width", "height", NULL };
    if (!rn__http_args_only(r, allowed))
        return false;
    const char *node = rn__http_arg(r, "node"), *source = rn__http_arg(r, "source");
    const char *device = rn__http_arg(r, "device"), *object = rn__http_arg(r, "object");
    const char *format = rn__http_arg(r, "format"), *view = rn__http_arg(r, "view");
    const char *from = rn__http_arg(r, "from"), *to = rn__http_arg(r, "to");
    int64_t now_s = rn_clock_wall_ms() / 1000;
    if (!node)
        return rn__http_error(r, 400, "node: required"), false;
    if (!rn_topology_node(rn__http_topo(r->http), node))
        return rn__http_error(r, 404, "node: no node '%.200s' in the topology", node), false;
    if (!source || !rn_graph_default_view(source))
        return rn__http_error(r, 400, "source: '%.32s' is not if, icmp, rtp, tcphs, tcp or http",
                              source ? source : ""), false;
    bool is_if = !strcmp(source, RN_SRC_IF);
    if (is_if && (!device || !*device))
        return rn__http_error(r, 400, "device: required for source if"), false;
    if (!is_if && device && *device)
        return rn__http_error(r, 400, "device: only for source if, not %s", source), false;
    if (!object || !*object)
        return rn__http_error(r, 400, "object: required (ifName, probe target, capture or "
                              "service)"), false;
    if (!format)
        format = "png";
    if (!one_of(format, "png", "svg", NULL))
        return rn__http_error(r, 400, "format: '%.32s' is not png or svg", format), false;
    if (!view)
        view = rn_graph_default_view(source);
    char names[128];
    rn_graph_views_of(source, names, sizeof names);
    if (!rn_graph_has_view(source, view))
        return rn__http_error(r, 400, "view: '%.32s' is not %s (for source %s)", view, names,
                              source), false;
    /* Both times are within [0, RN_HTTP_TIME_MAX_S] once parsed: end - start cannot overflow. */
    if (rn__http_parse_time(from ? from : "-3600", now_s, &a->start))
        return rn__http_error(r, 400, "from: '%.64s' is not a time between 1970 and 9999 (now, "
                              "-SECONDS, Unix s or ms)", from), false;
    if (rn__http_parse_time(to ? to : "now", now_s, &a->end))
        return rn__http_error(r, 400, "to: '%.64s' is not a time between 1970 and 9999 (now, "
                              "-SECONDS, Unix s or ms)", to), false;
    if (a->end <= a->start)
        return rn__http_error(r, 400, "to: must be after from"), false;
    if (a->end - a->start > 5LL * 366 * 86400)
        return rn__http_error(r, 400, "from: the range may span at most 5 years"), false;
    if (!rn__http_arg_int(r, "width", 800, 100, 3000, &a->width) ||
        !rn__http_arg_int(r, "height", 240, 60, 1500, &a->height))
        return false;
    *a = (graph_args_t){ node, source, device, object, format, view, is_if, a->start, a->end,
                         a->width, a->height };
    return true;
}

/* GET /api/v1/graph: queues a render (one at a time, RN_GRAPH_QUEUE_MAX waiting, else 503) and
 * suspends the request until it is done. */
static void graph_request(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    rn_http_t *h = r->http;
    graph_args_t a;
    if (!graph_args(r, &a))
        return;
    const char *node = a.node, *source = a.source, *device = a.device, *object = a.object;
    const char *format = a.format, *view = a.view;
    bool is_if = a.is_if;
    int64_t start = a.start, end = a.end, width = a.width, height = a.height;
    char path[4096];
    int rc = rn_rrd_store_path(rn__http_store(h), node, source, is_if ? device : "", object, path,
                               sizeof path);
    if (rc)
        return rn__http_error(r, 400, "%s: not a valid series name", is_if ? "device" : "object");
    if (!h->graphs && rn_serial_new(rn__http_loop(h), RN_GRAPH_QUEUE_MAX, &h->graphs) != 0)
        return rn__http_error(r, 503, "out of memory");
    if (rn_serial_busy(h->graphs) && rn_serial_waiting(h->graphs) >= RN_GRAPH_QUEUE_MAX)
        return rn__http_error(r, 503, "the graph renderer is busy (%d waiting)",
                              RN_GRAPH_QUEUE_MAX);
    double speed = NAN;
    rn_latest_series_t ls;
    rn_latest_t *latest = rn__http_latest(h);
    if (is_if && latest && rn_latest_find(latest, node, RN_SRC_IF, device, object, &ls) &&
        ls.speed_bps)
        speed = (double)ls.speed_bps;
    const rn_node_t *n = rn_topology_node(rn__http_topo(h), node);
    for (size_t k = 0; is_if && isnan(speed) && k < n->n_uplinks; k++)
        if (n->uplinks[k].local.device && !strcmp(n->uplinks[k].local.device, device) &&
            !strcmp(n->uplinks[k].local.ifname, object))
            speed = n->uplinks[k].mbps * 1e6;
    char title[512];
    title_of(title, sizeof title, node, source, is_if ? device : "", object, view);
    graph_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        if (j)
            rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "out of memory");
    }
    j->svg = !strcmp(format, "svg");
    j->argc = rn_graph_source_args(source, view, path, title, j->svg ? "SVG" : "PNG",
                                   (long long)start, (long long)end, (int)width, (int)height,
                                   isnan(speed) ? 0 : speed, j->argv, MAX_ARGS);
    if (j->argc < 0) {
        j->argc = 0;
        free(j->path);
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "out of memory");
    }
    if (rn_serial_queue(h->graphs, &j->sj, render, rendered) != 0) { /* full since the check */
        job_clear(j);
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "the graph renderer is busy (%d waiting)",
                              RN_GRAPH_QUEUE_MAX);
    }
    j->job.gone = render_unwanted;
    rn__http_suspend(r); /* the render's callback cannot have fired yet (serial_queue.h) */
}

const rn_http_route_t rn_api_graph_routes[] = {
    { "GET", "/api/v1/graph", false, graph_request },
    { NULL, NULL, false, NULL },
};
