/* RTSP prober (rtsp_probe.h). A small libuv TCP client rather than a media library: all we need
 * to know is whether the camera's RTSP server answers, and an OPTIONS request with one status
 * line back says that without setting up a stream.
 *
 * Structure: the prober owns a round timer and the cameras (copied from the plan, addresses
 * parsed once). Each round starts one probe per camera; a probe embeds its TCP handle, connect
 * and write requests, a timeout timer and a fixed reply buffer, and is freed in the last close
 * callback of its two handles. Probes in flight sit in a list so set_cameras and close can
 * abandon them (no sample: the round they belong to no longer exists). A probe reports once,
 * on the first of: status line parsed, bad reply, connection error or EOF, timeout. */
#include "rtsp_probe.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "sources.h"
#include "util.h"

typedef struct {
    char *station, *name;
    char *node; /* Camera.node: an agentless child's station; NULL: our own */
    char addr[64];
    struct sockaddr_storage sa;
} camera_t;

typedef struct probe {
    struct probe *prev, *next;
    rn_rtsp_prober_t *owner;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t timeout;
    char station[RN_WIRE_MAX_NAME + 1], name[RN_WIRE_MAX_NAME + 1];
    char node[RN_WIRE_MAX_NAME + 1]; /* "" for our own node */
    char request[384];
    uint8_t reply[RN_RTSP_MAX_REPLY];
    size_t len;
    uint64_t start_ns;
    int64_t round_ms;
    bool done;
    int closing;
} probe_t;

struct rn_rtsp_prober {
    uv_loop_t *loop;
    uv_timer_t round;
    rn_rtsp_sample_fn emit;
    void *ctx;
    camera_t *cams;
    size_t n_cams;
    uint32_t interval_ms;
    probe_t *inflight;
    bool closing;
    int open_handles;         /* the round timer and every probe's two handles */
    void (*close_cb)(void *data);
    void *close_data;
};

int rn_rtsp_parse_status(const uint8_t *buf, size_t len)
{
    static const char prefix[] = "RTSP/1.";
    size_t n = len < RN_RTSP_MAX_REPLY ? len : RN_RTSP_MAX_REPLY;
    const uint8_t *eol = memchr(buf, '\n', n);
    for (size_t i = 0; i < n && i < sizeof prefix - 1; i++) /* fail early on other protocols */
        if (buf[i] != (uint8_t)prefix[i])
            return RN_EPARSE;
    if (!eol)
        return len >= RN_RTSP_MAX_REPLY ? RN_EPARSE : 0;
    size_t line = (size_t)(eol - buf);
    /* "RTSP/1.x NNN" then a space or the line end */
    if (line < 12 || buf[7] < '0' || buf[7] > '9' || buf[8] != ' ')
        return RN_EPARSE;
    int code = 0;
    for (size_t i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return RN_EPARSE;
        code = code * 10 + (buf[i] - '0');
    }
    if (line > 12 && buf[12] != ' ' && buf[12] != '\r')
        return RN_EPARSE;
    return code >= 100 && code <= 599 ? code : RN_EPARSE;
}

int rn_rtsp_status_up(int status)
{
    return (status >= 200 && status <= 299) || status == 401;
}

/* ---- one probe ---- */

static void on_probe_closed(uv_handle_t *h)
{
    probe_t *pr = h->data;
    rn_rtsp_prober_t *p = pr->owner;
    if (--pr->closing > 0)
        return;
    free(pr);
    if (--p->open_handles == 0 && p->closing) {
        void (*cb)(void *) = p->close_cb;
        void *data = p->close_data;
        free(p);
        if (cb)
            cb(data);
    }
}

/* Unlinks the probe and closes its handles; it is freed in the last close callback. */
static void probe_close(probe_t *pr)
{
    rn_rtsp_prober_t *p = pr->owner;
    if (pr->closing)
        return;
    if (pr->prev)
        pr->prev->next = pr->next;
    else
        p->inflight = pr->next;
    if (pr->next)
        pr->next->prev = pr->prev;
    pr->done = true;
    pr->closing = 2;
    uv_close((uv_handle_t *)&pr->tcp, on_probe_closed);
    uv_close((uv_handle_t *)&pr->timeout, on_probe_closed);
}

/* Reports the probe's result (once), then closes it. status: the RTSP code, or <= 0 for no
 * answer; why is logged at debug level for a camera that is down. */
static void probe_finish(probe_t *pr, int status, const char *why)
{
    rn_rtsp_prober_t *p = pr->owner;
    if (pr->done)
        return;
    pr->done = true;
    bool up = status > 0 && rn_rtsp_status_up(status);
    rn_value_t v[RN_RTSP_N] = { 0 };
    v[RN_RTSP_UP] = (rn_value_t){ .kind = RN_VALUE_GAUGE, .gauge = up ? 1 : 0 };
    if (up)
        v[RN_RTSP_MS] = (rn_value_t){ .kind = RN_VALUE_GAUGE,
                                      .gauge = (double)(uv_hrtime() - pr->start_ns) / 1e6 };
    if (!up)
        rn_debug("rtsp %s/%s: down: %s", pr->station, pr->name, why);
    p->emit(p->ctx, pr->node[0] ? pr->node : NULL, RN_SRC_RTSP, pr->station, pr->name,
            pr->round_ms, v, RN_RTSP_N, 0);
    probe_close(pr);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    probe_t *pr = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)pr->reply + pr->len, (unsigned)(sizeof pr->reply - pr->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    probe_t *pr = s->data;
    char why[64];
    (void)buf;
    if (pr->done || nread == 0)
        return;
    if (nread < 0) {
        snprintf(why, sizeof why, "%s before a status line", uv_strerror((int)nread));
        return probe_finish(pr, 0, why);
    }
    pr->len += (size_t)nread;
    int rc = rn_rtsp_parse_status(pr->reply, pr->len);
    if (rc > 0) {
        snprintf(why, sizeof why, "RTSP %d", rc);
        probe_finish(pr, rc, why);
    } else if (rc < 0 || pr->len >= sizeof pr->reply) {
        probe_finish(pr, 0, "not an RTSP reply");
    }
}

static void on_written(uv_write_t *w, int status)
{
    probe_t *pr = container_of(w, probe_t, write);
    if (pr->done)
        return;
    if (status < 0)
        probe_finish(pr, 0, uv_strerror(status));
}

static void on_connected(uv_connect_t *c, int status)
{
    probe_t *pr = container_of(c, probe_t, connect);
    if (pr->done)
        return;
    if (status < 0)
        return probe_finish(pr, 0, uv_strerror(status));
    uv_buf_t b = uv_buf_init(pr->request, (unsigned)strlen(pr->request));
    int rc = uv_write(&pr->write, (uv_stream_t *)&pr->tcp, &b, 1, on_written);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&pr->tcp, on_alloc, on_read);
    if (rc < 0)
        probe_finish(pr, 0, uv_strerror(rc));
}

static void on_timeout(uv_timer_t *t)
{
    probe_t *pr = container_of(t, probe_t, timeout);
    probe_finish(pr, 0, "timed out");
}

/* Starts one probe of camera c for the round that started at round_ms. A camera that cannot
 * even be tried (no memory, no socket) gives its down sample at once. */
static void probe_start(rn_rtsp_prober_t *p, const camera_t *c, int64_t round_ms,
                        uint32_t timeout_ms)
{
    probe_t *pr = calloc(1, sizeof *pr);
    if (!pr) {
        rn_value_t v[RN_RTSP_N] = { { .kind = RN_VALUE_GAUGE, .gauge = 0 } };
        p->emit(p->ctx, c->node, RN_SRC_RTSP, c->station, c->name, round_ms, v, RN_RTSP_N, 0);
        return;
    }
    pr->owner = p;
    snprintf(pr->station, sizeof pr->station, "%s", c->station);
    snprintf(pr->name, sizeof pr->name, "%s", c->name);
    snprintf(pr->node, sizeof pr->node, "%s", c->node ? c->node : "");
    unsigned port = ntohs(c->sa.ss_family == AF_INET6
                              ? ((const struct sockaddr_in6 *)&c->sa)->sin6_port
                              : ((const struct sockaddr_in *)&c->sa)->sin_port);
    snprintf(pr->request, sizeof pr->request,
             "OPTIONS rtsp://%s%s%s:%u/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: rajnet-agent\r\n\r\n",
             c->sa.ss_family == AF_INET6 ? "[" : "", c->addr,
             c->sa.ss_family == AF_INET6 ? "]" : "", port);
    pr->round_ms = round_ms;
    pr->start_ns = uv_hrtime();
    uv_tcp_init(p->loop, &pr->tcp);
    uv_timer_init(p->loop, &pr->timeout);
    pr->tcp.data = pr->timeout.data = pr;
    p->open_handles++;
    pr->next = p->inflight;
    if (p->inflight)
        p->inflight->prev = pr;
    p->inflight = pr;
    uv_timer_start(&pr->timeout, on_timeout, timeout_ms, 0);
    int rc = uv_tcp_connect(&pr->connect, &pr->tcp, (const struct sockaddr *)&c->sa,
                            on_connected);
    if (rc < 0)
        probe_finish(pr, 0, uv_strerror(rc));
}

/* ---- rounds and cameras ---- */

static void on_round(uv_timer_t *t)
{
    rn_rtsp_prober_t *p = container_of(t, rn_rtsp_prober_t, round);
    uint32_t timeout = p->interval_ms / 10 * 9;
    if (timeout > RN_RTSP_TIMEOUT_MS)
        timeout = RN_RTSP_TIMEOUT_MS;
    int64_t now = rn_clock_wall_ms();
    for (size_t i = 0; i < p->n_cams; i++)
        probe_start(p, &p->cams[i], now, timeout ? timeout : 1);
}

int rn_rtsp_prober_new(uv_loop_t *loop, rn_rtsp_sample_fn emit, void *ctx,
                       rn_rtsp_prober_t **out)
{
    rn_rtsp_prober_t *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->loop = loop;
    p->emit = emit;
    p->ctx = ctx;
    uv_timer_init(loop, &p->round);
    p->open_handles = 1;
    *out = p;
    return 0;
}

static void free_cams(camera_t *cams, size_t n)
{
    for (size_t i = 0; cams && i < n; i++)
        free(cams[i].station), free(cams[i].name), free(cams[i].node);
    free(cams);
}

/* Abandons every probe in flight (no sample). */
static void abandon_all(rn_rtsp_prober_t *p)
{
    while (p->inflight)
        probe_close(p->inflight);
}

int rn_rtsp_prober_set_cameras(rn_rtsp_prober_t *p, Rn__Camera *const *cams, size_t n,
                               uint32_t interval_s)
{
    if (interval_s == 0)
        return -EINVAL;
    camera_t *c = calloc(n ? n : 1, sizeof *c);
    size_t k = 0;
    for (size_t i = 0; c && i < n; i++) {
        camera_t *x = &c[k];
        unsigned port = cams[i]->has_port ? cams[i]->port : RN_RTSP_PORT;
        struct sockaddr_in *v4 = (struct sockaddr_in *)&x->sa;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&x->sa;
        if (uv_ip4_addr(cams[i]->addr, (int)port, v4) != 0 &&
            uv_ip6_addr(cams[i]->addr, (int)port, v6) != 0) {
            rn_warn("rtsp %s/%s: address '%s' does not parse: skipped", cams[i]->station,
                    cams[i]->name, cams[i]->addr);
            continue;
        }
        snprintf(x->addr, sizeof x->addr, "%s", cams[i]->addr);
        x->station = strdup(cams[i]->station);
        x->name = strdup(cams[i]->name);
        x->node = cams[i]->node ? strdup(cams[i]->node) : NULL;
        k++;
        if (!x->station || !x->name || (cams[i]->node && !x->node)) {
            free_cams(c, k);
            return -ENOMEM;
        }
    }
    if (!c)
        return -ENOMEM;
    abandon_all(p);
    free_cams(p->cams, p->n_cams);
    p->cams = c;
    p->n_cams = k;
    p->interval_ms = interval_s * 1000;
    uv_timer_stop(&p->round);
    if (k)
        uv_timer_start(&p->round, on_round, p->interval_ms / 10 < 100 ? p->interval_ms / 10 : 100,
                       p->interval_ms);
    return 0;
}

size_t rn_rtsp_prober_count(const rn_rtsp_prober_t *p)
{
    return p->n_cams;
}

static void on_round_closed(uv_handle_t *h)
{
    rn_rtsp_prober_t *p = container_of((uv_timer_t *)h, rn_rtsp_prober_t, round);
    if (--p->open_handles == 0) {
        void (*cb)(void *) = p->close_cb;
        void *data = p->close_data;
        free(p);
        if (cb)
            cb(data);
    }
}

void rn_rtsp_prober_close(rn_rtsp_prober_t *p, void (*cb)(void *data), void *data)
{
    p->closing = true;
    p->close_cb = cb;
    p->close_data = data;
    abandon_all(p);
    free_cams(p->cams, p->n_cams);
    p->cams = NULL;
    p->n_cams = 0;
    uv_close((uv_handle_t *)&p->round, on_round_closed);
}
