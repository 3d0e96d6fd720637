/* Graphs (see graph.h): argument vectors for rrd_graph_v, the render queue and the handler. */
#include "graph.h"

#include <errno.h>
#include <math.h>
#include <rrd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "collector.h"
#include "http_int.h"
#include "latest.h"

#define MAX_ARGS 64

typedef struct rn_graph_job {
    rn_http_job_t job;
    uv_work_t work;
    char *argv[MAX_ARGS];
    int argc;
    char *path;
    bool svg;
    unsigned char *image;
    size_t image_len;
    char err[256];
    int status;                   /* 0, or the HTTP status of the failure */
    struct rn_graph_job *next;
} graph_job_t;

const char *rn_graph_escape(const char *path, char *buf, size_t len)
{
    size_t o = 0;
    for (; *path && o + 3 < len; path++) {
        if (*path == ':' || *path == '\\')
            buf[o++] = '\\';
        buf[o++] = *path;
    }
    buf[o] = '\0';
    return buf;
}

static int add(char **argv, int *argc, int max, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add(char **argv, int *argc, int max, const char *fmt, ...)
{
    if (*argc >= max)
        return -ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&argv[*argc], fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -ENOMEM;
    (*argc)++;
    return 0;
}

int rn_graph_args(const char *view, const char *path, const char *title, const char *format,
                  long long start_s, long long end_s, int width, int height, double speed_bps,
                  char **argv, int max)
{
    char p[4200];
    int n = 0, rc = 0;
    rn_graph_escape(path, p, sizeof p);
#define A(...) (rc |= add(argv, &n, max, __VA_ARGS__))
    A("graph");
    A("-");
    A("--imgformat");
    A("%s", format);
    A("--start");
    A("%lld", start_s);
    A("--end");
    A("%lld", end_s);
    A("--width");
    A("%d", width);
    A("--height");
    A("%d", height);
    A("--title");
    A("%s", title);
    A("--lower-limit");
    A("0");
    if (!strcmp(view, "traffic")) {
        A("--vertical-label");
        A("bit/s");
        A("DEF:in=%s:in:AVERAGE", p);
        A("DEF:out=%s:out:AVERAGE", p);
        A("CDEF:inb=in,8,*");
        A("CDEF:outb=out,8,*");
        A("AREA:inb#4caf50:In");
        A("LINE1:outb#1f4e99:Out");
        if (speed_bps > 0)
            A("HRULE:%.0f#cc0000:Speed %.1f Mbit/s", speed_bps, speed_bps / 1e6);
    } else if (!strcmp(view, "rtt")) {
        A("--vertical-label");
        A("ms");
        A("DEF:min=%s:rttmin:MIN", p);
        A("DEF:avg=%s:rttavg:AVERAGE", p);
        A("DEF:max=%s:rttmax:MAX", p);
        A("DEF:loss=%s:loss:AVERAGE", p);
        A("CDEF:l1=loss,0.001,5,LIMIT,UN,UNKN,INF,IF");
        A("CDEF:l2=loss,5.001,50,LIMIT,UN,UNKN,INF,IF");
        A("CDEF:l3=loss,50.001,100,LIMIT,UN,UNKN,INF,IF");
        A("AREA:l1#ffe08a:loss <= 5%%");
        A("AREA:l2#ffa040:loss <= 50%%");
        A("AREA:l3#ff4040:loss > 50%%");
        A("CDEF:range=max,min,-");
        A("LINE:min");
        A("AREA:range#9ab8d8:RTT min-max:STACK");
        A("LINE1:avg#1f4e99:RTT avg");
    } else if (!strcmp(view, "jitter")) {
        A("--vertical-label");
        A("ms");
        A("DEF:jit=%s:jitter:AVERAGE", p);
        A("DEF:sd=%s:rttsd:AVERAGE", p);
        A("LINE1:jit#aa3377:Jitter");
        A("LINE1:sd#777777:RTT std dev");
    } else {
        rc = -EINVAL;
    }
#undef A
    if (rc) {
        for (int i = 0; i < n; i++)
            free(argv[i]);
        return rc == -EINVAL ? -EINVAL : -ENOMEM;
    }
    return n;
}

/* ---------------------------------------------------------------- the render queue */

static void start_next(rn_http_t *h);

static void render(uv_work_t *w)
{
    graph_job_t *j = w->data;
    struct stat st;
    if (stat(j->path, &st) != 0) {
        j->status = 404;
        snprintf(j->err, sizeof j->err, "no data for this series yet (no RRD file)");
        return;
    }
    rrd_clear_error();
    rrd_info_t *info = rrd_graph_v(j->argc, j->argv);
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

static void rendered(uv_work_t *w, int status)
{
    graph_job_t *j = w->data;
    rn_http_t *h = j->job.http;
    h->graph_busy = false;
    h->graphs_rendered++;
    bool svg = j->svg;
    unsigned char *image = j->image;
    size_t len = j->image_len;
    int st = status ? 500 : j->status;
    char err[256];
    snprintf(err, sizeof err, "%s", j->err);
    j->image = NULL;
    for (int i = 0; i < j->argc; i++)
        free(j->argv[i]);
    free(j->path);
    rn_http_req_t *r = rn__http_job_done(&j->job); /* frees j */
    if (r && st)
        rn__http_error(r, (unsigned)st, "%s", err);
    else if (r) {
        rn__http_reply(r, 200, svg ? "image/svg+xml" : "image/png", (char *)image, len);
        image = NULL;
    }
    free(image);
    if (!h->closing)
        start_next(h);
}

static void start_next(rn_http_t *h)
{
    while (!h->graph_busy && h->graph_head) {
        graph_job_t *j = h->graph_head;
        h->graph_head = j->next;
        if (!h->graph_head)
            h->graph_tail = NULL;
        h->graph_queued--;
        if (!j->job.req) { /* gone while queued */
            for (int i = 0; i < j->argc; i++)
                free(j->argv[i]);
            free(j->path);
            j->argc = 0;
            j->path = NULL;
            rn__http_job_cancel(&j->job);
            continue;
        }
        j->work.data = j;
        if (uv_queue_work(h->c->loop, &j->work, render, rendered) != 0) {
            for (int i = 0; i < j->argc; i++)
                free(j->argv[i]);
            free(j->path);
            rn_http_req_t *r = rn__http_job_done(&j->job);
            if (r)
                rn__http_error(r, 503, "cannot queue the render");
            continue;
        }
        h->graph_busy = true;
    }
}

void rn__graph_shutdown(rn_http_t *h)
{
    while (h->graph_head) {
        graph_job_t *j = h->graph_head;
        h->graph_head = j->next;
        for (int i = 0; i < j->argc; i++)
            free(j->argv[i]);
        free(j->path);
        rn_http_req_t *r = rn__http_job_done(&j->job);
        if (r)
            rn__http_error(r, 503, "shutting down");
    }
    h->graph_tail = NULL;
    h->graph_queued = 0;
}

/* ---------------------------------------------------------------- the handler */

static bool one_of(const char *s, const char *a, const char *b, const char *c)
{
    return !strcmp(s, a) || !strcmp(s, b) || (c && !strcmp(s, c));
}

void rn__graph_request(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    static const char *const allowed[] = { "node", "source", "device", "object", "from", "to",
                                           "format", "view", "width", "height", NULL };
    rn_http_t *h = r->http;
    rn_collector_t *c = h->c;
    if (!rn__http_args_only(r, allowed))
        return;
    const char *node = rn__http_arg(r, "node"), *source = rn__http_arg(r, "source");
    const char *device = rn__http_arg(r, "device"), *object = rn__http_arg(r, "object");
    const char *format = rn__http_arg(r, "format"), *view = rn__http_arg(r, "view");
    const char *from = rn__http_arg(r, "from"), *to = rn__http_arg(r, "to");
    int64_t now_s = rn_clock_wall_ms() / 1000, start, end, width, height;
    if (!node)
        return rn__http_error(r, 400, "node: required");
    if (!rn_topology_node(c->topo, node))
        return rn__http_error(r, 404, "node: no node '%.200s' in the topology", node);
    if (!source || !one_of(source, "if", "icmp", NULL))
        return rn__http_error(r, 400, "source: '%.32s' is not if or icmp", source ? source : "");
    bool is_if = !strcmp(source, "if");
    if (is_if && (!device || !*device))
        return rn__http_error(r, 400, "device: required for source if");
    if (!object || !*object)
        return rn__http_error(r, 400, "object: required (ifName or probe target)");
    if (!format)
        format = "png";
    if (!one_of(format, "png", "svg", NULL))
        return rn__http_error(r, 400, "format: '%.32s' is not png or svg", format);
    if (!view)
        view = is_if ? "traffic" : "rtt";
    if (is_if ? strcmp(view, "traffic") != 0 : !one_of(view, "rtt", "jitter", NULL))
        return rn__http_error(r, 400, "view: '%.32s' is not %s", view,
                              is_if ? "traffic" : "rtt or jitter");
    if (rn__http_parse_time(from ? from : "-3600", now_s, &start))
        return rn__http_error(r, 400, "from: '%.64s' is not a time (now, -SECONDS, Unix s or ms)",
                              from);
    if (rn__http_parse_time(to ? to : "now", now_s, &end))
        return rn__http_error(r, 400, "to: '%.64s' is not a time (now, -SECONDS, Unix s or ms)",
                              to);
    if (end <= start)
        return rn__http_error(r, 400, "to: must be after from");
    if (end - start > 5LL * 366 * 86400)
        return rn__http_error(r, 400, "from: the range may span at most 5 years");
    if (!rn__http_arg_int(r, "width", 800, 100, 3000, &width) ||
        !rn__http_arg_int(r, "height", 240, 60, 1500, &height))
        return;
    char path[4096];
    int rc = rn_rrd_store_path(c->store, node, source, is_if ? device : "", object, path,
                               sizeof path);
    if (rc)
        return rn__http_error(r, 400, "%s: not a valid series name", is_if ? "device" : "object");
    if (h->graph_queued >= RN_GRAPH_QUEUE_MAX)
        return rn__http_error(r, 503, "the graph renderer is busy (%d waiting)", RN_GRAPH_QUEUE_MAX);
    double speed = NAN;
    rn_latest_series_t ls;
    if (is_if && c->latest && rn_latest_find(c->latest, node, "if", device, object, &ls) &&
        ls.speed_bps)
        speed = (double)ls.speed_bps;
    const rn_node_t *n = rn_topology_node(c->topo, node);
    for (size_t k = 0; is_if && isnan(speed) && k < n->n_uplinks; k++)
        if (n->uplinks[k].local.device && !strcmp(n->uplinks[k].local.device, device) &&
            !strcmp(n->uplinks[k].local.ifname, object))
            speed = n->uplinks[k].mbps * 1e6;
    char title[512];
    snprintf(title, sizeof title, "%s %s%s%s %s", node, is_if ? device : "", is_if ? " " : "to ",
             object, view);
    graph_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        if (j)
            rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "out of memory");
    }
    j->svg = !strcmp(format, "svg");
    j->argc = rn_graph_args(view, path, title, j->svg ? "SVG" : "PNG", (long long)start,
                            (long long)end, (int)width, (int)height, isnan(speed) ? 0 : speed,
                            j->argv, MAX_ARGS);
    if (j->argc < 0) {
        j->argc = 0;
        free(j->path);
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "out of memory");
    }
    if (h->graph_tail)
        h->graph_tail->next = j;
    else
        h->graph_head = j;
    h->graph_tail = j;
    h->graph_queued++;
    rn__http_suspend(r); /* first: a failure below replies through the suspended path */
    start_next(h);
}
