/* SLA report graphs (see report_graph.h): rrd_graph argument vectors built from a report link,
 * and the render into PNG blobs under the process-wide graph lock. */
#include "report/report_graph.h"

#include <errno.h>
#include <rrd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "series/rrd_graph.h"
#include "log.h"

#define MAX_ARGS 96
#define WIDTH 560
#define HEIGHT 100

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

/* True if maintenance window m applies to L (on its circuit, or on the node at its lower end:
 * the rule of report.h). */
static bool maint_applies(const rn_maintenance_rec_t *m, const rn_report_link_t *L)
{
    return m->entity && (!strcmp(m->entity, L->circuit) || !strcmp(m->entity, L->node));
}

/* Marks [start_ms, end_ms) on a graph whose first DEF is base: the span shaded in colour (with
 * alpha), and a rule at its start so a span shorter than a pixel still shows. The legend is
 * given once, on the first mark of a kind. */
static int mark(char **argv, int *n, int max, const char *base, int id, int64_t start_ms,
                int64_t end_ms, const char *colour, const char *legend)
{
    long long s = (long long)(start_ms / 1000), e = (long long)((end_ms + 999) / 1000);
    int rc = 0;
    rc |= add(argv, n, max, "CDEF:m%d=%s,POP,TIME,%lld,GE,TIME,%lld,LT,*,INF,UNKN,IF", id, base,
              s, e);
    rc |= add(argv, n, max, "AREA:m%d#%s30", id, colour);
    rc |= add(argv, n, max, "VRULE:%lld#%s%s%s", s, colour, legend ? ":" : "",
              legend ? legend : "");
    return rc;
}

int rn_report_graph_args(rn_report_graph_kind_t kind, const rn_report_link_t *L,
                         const char *path, int64_t from_ms, int64_t to_ms,
                         const rn_maintenance_rec_t *maint, size_t n_maint, char **argv, int max)
{
    char p[4200];
    int n = 0, rc = 0;
    if (kind != RN_REPORT_GRAPH_LATENCY && kind != RN_REPORT_GRAPH_LOSS)
        return -EINVAL;
    bool latency = kind == RN_REPORT_GRAPH_LATENCY;
    const char *base = latency ? "avg" : "loss";
    rn_graph_escape(path, p, sizeof p);
#define A(...) (rc |= add(argv, &n, max, __VA_ARGS__))
    A("graph");
    A("-");
    A("--imgformat");
    A("PNG");
    A("--start");
    A("%lld", (long long)(from_ms / 1000));
    A("--end");
    A("%lld", (long long)(to_ms / 1000));
    A("--width");
    A("%d", WIDTH);
    A("--height");
    A("%d", HEIGHT);
    A("--title");
    A("%s (%s) %s", L->circuit, L->node, latency ? "latency" : "loss");
    A("--vertical-label");
    A("%s", latency ? "ms" : "%");
    A("--lower-limit");
    A("0");
    if (latency) {
        A("--units-exponent"); /* "0.12" ms, not "120 m" ms */
        A("0");
        A("--left-axis-format");
        A("%%.3lg");
        A("DEF:avg=%s:rttavg:AVERAGE", p);
        A("DEF:max=%s:rttmax:MAX", p);
        A("AREA:max#c6d6ea:RTT max");
        A("LINE1:avg#1f4e99:RTT avg");
        if (L->max_latency_ms > 0)
            A("HRULE:%g#cc0000:SLA limit %g ms", L->max_latency_ms, L->max_latency_ms);
    } else {
        A("DEF:loss=%s:loss:AVERAGE", p);
        A("DEF:lossmax=%s:loss:MAX", p);
        A("AREA:loss#ff9040:Loss avg");
        A("LINE1:lossmax#b04000:Loss max");
        if (L->max_loss_pct > 0)
            A("HRULE:%g#cc0000:SLA limit %g %%", L->max_loss_pct, L->max_loss_pct);
    }
    int id = 0;
    for (size_t k = 0; !rc && k < L->n_listed && k < RN_REPORT_GRAPH_MAX_MARKS; k++, id++)
        rc |= mark(argv, &n, max, base, id, L->outages[k].start_ms, L->outages[k].end_ms,
                   "d00000", k == 0 ? "Outage" : NULL);
    size_t marked = 0;
    for (size_t k = 0; !rc && k < n_maint && marked < RN_REPORT_GRAPH_MAX_MARKS; k++) {
        const rn_maintenance_rec_t *m = &maint[k];
        if (!maint_applies(m, L) || m->end_ms <= from_ms || m->start_ms >= to_ms)
            continue;
        rc |= mark(argv, &n, max, base, id++, m->start_ms > from_ms ? m->start_ms : from_ms,
                   m->end_ms < to_ms ? m->end_ms : to_ms, "2060ff",
                   marked == 0 ? "Maintenance" : NULL);
        marked++;
    }
#undef A
    if (rc) {
        for (int i = 0; i < n; i++)
            free(argv[i]);
        return -ENOMEM;
    }
    return n;
}

/* Renders one graph into out. Returns 0, -EIO (logged) or -ENOMEM. */
static int render(rn_report_graph_kind_t kind, const rn_report_link_t *L, const char *path,
                  int64_t from_ms, int64_t to_ms, const rn_maintenance_rec_t *maint,
                  size_t n_maint, rn_report_png_t *out)
{
    char *argv[MAX_ARGS];
    int argc = rn_report_graph_args(kind, L, path, from_ms, to_ms, maint, n_maint, argv,
                                    MAX_ARGS);
    if (argc < 0)
        return argc;
    rrd_clear_error();
    rn_rrd_graph_lock();
    rrd_info_t *info = rrd_graph_v(argc, argv);
    rn_rrd_graph_unlock();
    int rc = -EIO;
    for (rrd_info_t *i = info; i && rc == -EIO; i = i->next)
        if (!strcmp(i->key, "image") && i->type == RD_I_BLO && i->value.u_blo.size) {
            out->data = malloc(i->value.u_blo.size);
            if (!out->data) {
                rc = -ENOMEM;
                break;
            }
            memcpy(out->data, i->value.u_blo.ptr, i->value.u_blo.size);
            out->len = i->value.u_blo.size;
            rc = 0;
        }
    if (rc == -EIO)
        rn_warn("report: graph of %s from %s: %s", L->circuit, path,
                rrd_test_error() ? rrd_get_error() : "no image");
    rrd_info_free(info);
    rrd_clear_error();
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

int rn_report_link_graphs(rn_report_link_t *L, const char *path, int64_t from_ms, int64_t to_ms,
                          const rn_maintenance_rec_t *maint, size_t n_maint)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -ENOENT;
    int rc = render(RN_REPORT_GRAPH_LATENCY, L, path, from_ms, to_ms, maint, n_maint,
                    &L->latency_graph);
    if (!rc)
        rc = render(RN_REPORT_GRAPH_LOSS, L, path, from_ms, to_ms, maint, n_maint,
                    &L->loss_graph);
    return rc;
}
