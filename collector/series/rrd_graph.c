/* Graph argument vectors for rrd_graph_v, and the process-wide lock around it (see rrd_graph.h). */
#include "series/rrd_graph.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"

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

/* An argument vector under construction; the first failure sticks. */
typedef struct {
    char **argv;
    int n, max, rc;
} args_t;

static void arg(args_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg(args_t *a, const char *fmt, ...)
{
    if (a->rc)
        return;
    if (a->n >= a->max) {
        a->rc = -ENOMEM;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&a->argv[a->n], fmt, ap);
    va_end(ap);
    if (rc < 0)
        a->rc = -ENOMEM;
    else
        a->n++;
}

/* Columns shaded by a loss percentage, as SmokePing does: light up to 5%, orange up to 50%,
 * red above. loss is a CDEF/DEF name. */
static void loss_columns(args_t *a, const char *loss)
{
    arg(a, "CDEF:l1=%s,0.001,5,LIMIT,UN,UNKN,INF,IF", loss);
    arg(a, "CDEF:l2=%s,5.001,50,LIMIT,UN,UNKN,INF,IF", loss);
    arg(a, "CDEF:l3=%s,50.001,100,LIMIT,UN,UNKN,INF,IF", loss);
    arg(a, "AREA:l1#ffe08a:loss <= 5%%");
    arg(a, "AREA:l2#ffa040:loss <= 50%%");
    arg(a, "AREA:l3#ff4040:loss > 50%%");
}

/* Columns where a service probe failed (its "up" below 1; unknown stays blank). */
static void down_columns(args_t *a, const char *p)
{
    arg(a, "DEF:up=%s:up:AVERAGE", p);
    arg(a, "CDEF:down=up,UN,UNKN,up,0.999,LT,INF,UNKN,IF,IF");
    arg(a, "AREA:down#ff4040:probe failed");
}

/* The last and average value of a series under the legend, so the figure reads without the
 * axis. */
static void legend_values(args_t *a, const char *name, const char *unit)
{
    arg(a, "VDEF:%s_last=%s,LAST", name, name);
    arg(a, "VDEF:%s_avg=%s,AVERAGE", name, name);
    arg(a, "GPRINT:%s_last:now %%.2lf%s", name, unit);
    arg(a, "GPRINT:%s_avg:avg %%.2lf%s\\n", name, unit);
}

/* A y axis from 0 with its unit as the label. */
static void axis_from_zero(args_t *a, const char *unit)
{
    arg(a, "--lower-limit");
    arg(a, "0");
    arg(a, "--vertical-label");
    arg(a, "%s", unit);
}

/* A series' average as a bold line over its maximum as a thin one, with the legend values. */
static void avg_over_max(args_t *a, const char *p, const char *ds, const char *name,
                         const char *max_colour, const char *colour, const char *label,
                         const char *unit)
{
    arg(a, "DEF:%s=%s:%s:AVERAGE", name, p, ds);
    arg(a, "DEF:%smax=%s:%s:MAX", name, p, ds);
    arg(a, "LINE1:%smax#%s:max", name, max_colour);
    arg(a, "LINE2:%s#%s:%s", name, colour, label);
    legend_values(a, name, unit);
}

static void view_traffic(args_t *a, const char *p, double speed_bps)
{
    axis_from_zero(a, "bit/s");
    arg(a, "DEF:in=%s:in:AVERAGE", p);
    arg(a, "DEF:out=%s:out:AVERAGE", p);
    arg(a, "CDEF:inb=in,8,*");
    arg(a, "CDEF:outb=out,8,*");
    arg(a, "AREA:inb#4caf50:In");
    arg(a, "LINE1:outb#1f4e99:Out");
    if (speed_bps > 0)
        arg(a, "HRULE:%.0f#cc0000:Speed %.1f Mbit/s", speed_bps, speed_bps / 1e6);
}

static void view_rtt(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    axis_from_zero(a, "ms");
    arg(a, "DEF:min=%s:rttmin:MIN", p);
    arg(a, "DEF:avg=%s:rttavg:AVERAGE", p);
    arg(a, "DEF:max=%s:rttmax:MAX", p);
    arg(a, "DEF:loss=%s:loss:AVERAGE", p);
    loss_columns(a, "loss");
    arg(a, "CDEF:range=max,min,-");
    arg(a, "LINE:min");
    arg(a, "AREA:range#9ab8d8:RTT min-max:STACK");
    arg(a, "LINE1:avg#1f4e99:RTT avg");
}

static void view_icmp_jitter(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    axis_from_zero(a, "ms");
    arg(a, "DEF:jit=%s:jitter:AVERAGE", p);
    arg(a, "DEF:sd=%s:rttsd:AVERAGE", p);
    arg(a, "LINE1:jit#aa3377:Jitter");
    arg(a, "LINE1:sd#777777:RTT std dev");
}

/* MOS on its own 1..5 scale, with the dashboard's verdict lines (bad below 3.6, warn below 4.0)
 * and columns shaded by RTP loss, so a dip can be read as loss or as jitter at a glance. */
static void view_mos(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    arg(a, "--lower-limit");
    arg(a, "1");
    arg(a, "--upper-limit");
    arg(a, "5");
    arg(a, "--rigid");
    arg(a, "--vertical-label");
    arg(a, "MOS");
    arg(a, "DEF:mos=%s:mos:AVERAGE", p);
    arg(a, "DEF:mosmin=%s:mos:MIN", p);
    arg(a, "DEF:loss=%s:lost_pct:AVERAGE", p);
    loss_columns(a, "loss");
    arg(a, "HRULE:4.0#e0a000:warn < 4.0");
    arg(a, "HRULE:3.6#cc0000:bad < 3.6\\n");
    arg(a, "LINE1:mosmin#9ab8d8:MOS min");
    arg(a, "LINE2:mos#1f4e99:MOS (estimated)");
    legend_values(a, "mos", "");
}

static void view_rtp_loss(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    axis_from_zero(a, "% lost");
    arg(a, "DEF:loss=%s:lost_pct:AVERAGE", p);
    arg(a, "DEF:lossmax=%s:lost_pct:MAX", p);
    arg(a, "AREA:loss#ffa040:RTP loss");
    arg(a, "LINE1:lossmax#cc0000:max");
    legend_values(a, "loss", " %%");
}

static void view_rtp_jitter(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    axis_from_zero(a, "ms");
    avg_over_max(a, p, "jitter_ms", "jit", "d8a0c8", "aa3377", "RTP jitter (RFC 3550)", " ms");
}

static void view_handshake(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    axis_from_zero(a, "ms");
    avg_over_max(a, p, "rtt_ms", "hs", "9ab8d8", "1f4e99", "TCP handshake (SYN to SYN/ACK)",
                 " ms");
}

static void view_connect(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    axis_from_zero(a, "ms");
    down_columns(a, p);
    arg(a, "DEF:conn=%s:connect_ms:AVERAGE", p);
    arg(a, "LINE2:conn#1f4e99:TCP connect");
    legend_values(a, "conn", " ms");
}

static void view_ttfb(args_t *a, const char *p, double speed_bps)
{
    (void)speed_bps;
    axis_from_zero(a, "ms");
    down_columns(a, p);
    arg(a, "DEF:total=%s:total_ms:AVERAGE", p);
    arg(a, "DEF:ttfb=%s:ttfb_ms:AVERAGE", p);
    arg(a, "LINE1:total#9ab8d8:total");
    arg(a, "LINE2:ttfb#1f4e99:time to first byte");
    legend_values(a, "ttfb", " ms");
}

/* Every view of every source; a source's first view is its default. */
static const struct {
    const char *source, *view;
    void (*build)(args_t *a, const char *p, double speed_bps);
} views[] = {
    { RN_SRC_IF, "traffic", view_traffic },
    { RN_SRC_ICMP, "rtt", view_rtt },
    { RN_SRC_ICMP, "jitter", view_icmp_jitter },
    { RN_SRC_RTP, "mos", view_mos },
    { RN_SRC_RTP, "loss", view_rtp_loss },
    { RN_SRC_RTP, "jitter", view_rtp_jitter },
    { RN_SRC_TCPHS, "handshake", view_handshake },
    { RN_SRC_TCP, "connect", view_connect },
    { RN_SRC_HTTP, "ttfb", view_ttfb },
};
#define N_VIEWS (sizeof views / sizeof views[0])

const char *rn_graph_default_view(const char *source)
{
    for (size_t i = 0; source && i < N_VIEWS; i++)
        if (!strcmp(views[i].source, source))
            return views[i].view;
    return NULL;
}

size_t rn_graph_views_of(const char *source, char *buf, size_t len)
{
    size_t n = 0, o = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; source && i < N_VIEWS; i++) {
        if (strcmp(views[i].source, source))
            continue;
        int w = snprintf(buf + o, len > o ? len - o : 0, "%s%s", n ? ", " : "", views[i].view);
        if (w > 0 && o + (size_t)w < len)
            o += (size_t)w;
        n++;
    }
    return n;
}

/* The index of (source, view) in views (source NULL: any source), or N_VIEWS. */
static size_t find_view(const char *source, const char *view)
{
    size_t v = 0;
    while (v < N_VIEWS &&
           (strcmp(views[v].view, view) || (source && strcmp(views[v].source, source))))
        v++;
    return v;
}

bool rn_graph_has_view(const char *source, const char *view)
{
    return source && view && find_view(source, view) < N_VIEWS;
}

int rn_graph_source_args(const char *source, const char *view, const char *path,
                         const char *title, const char *format, long long start_s, long long end_s,
                         int width, int height, double speed_bps, char **argv, int max)
{
    size_t v = find_view(source, view);
    if (v == N_VIEWS)
        return -EINVAL;
    char p[4200];
    rn_graph_escape(path, p, sizeof p);
    args_t a = { argv, 0, max, 0 };
    arg(&a, "graph");
    arg(&a, "-");
    arg(&a, "--imgformat");
    arg(&a, "%s", format);
    arg(&a, "--start");
    arg(&a, "%lld", start_s);
    arg(&a, "--end");
    arg(&a, "%lld", end_s);
    arg(&a, "--width");
    arg(&a, "%d", width);
    arg(&a, "--height");
    arg(&a, "%d", height);
    arg(&a, "--title");
    arg(&a, "%s", title);
    views[v].build(&a, p, speed_bps);
    if (a.rc) {
        for (int i = 0; i < a.n; i++)
            free(argv[i]);
        return a.rc;
    }
    return a.n;
}

int rn_graph_args(const char *view, const char *path, const char *title, const char *format,
                  long long start_s, long long end_s, int width, int height, double speed_bps,
                  char **argv, int max)
{
    return rn_graph_source_args(NULL, view, path, title, format, start_s, end_s, width, height,
                                speed_bps, argv, max);
}

/* ---------------------------------------------------------------- the lock */

/* rrd_graph_v keeps process-wide state: every render in the process (this queue and the SLA
 * report's graphs, report_graph.c) holds this lock around it. */
static pthread_mutex_t rrd_graph_mutex = PTHREAD_MUTEX_INITIALIZER;

void rn_rrd_graph_lock(void)
{
    pthread_mutex_lock(&rrd_graph_mutex);
}

void rn_rrd_graph_unlock(void)
{
    pthread_mutex_unlock(&rrd_graph_mutex);
}

