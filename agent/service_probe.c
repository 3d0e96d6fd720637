/* Service prober (see service_probe.h): TCP connects and HTTP(S) GETs to service endpoints from
 * the agent's loop.
 *
 * Why libcurl. A service check needs a TCP connect with a timeout, an HTTP/1.1 client that reads
 * a status line and survives odd servers, TLS with the system's CA store (no client certificate:
 * lib/tls is built for our mutual-TLS uplink and requires one), the server certificate's expiry,
 * time to first byte, and name resolution that never blocks the loop. libcurl's multi interface
 * does all of that, is driven from an outside event loop through two callbacks, resolves names on
 * its own thread (the threaded resolver of Debian's libcurl; checked at start), and caches the
 * parsed CA store in the multi handle (CURLOPT_CA_CACHE_TIMEOUT, a day), so the loop does not read
 * the bundle per probe. Writing the same on uv_tcp + OpenSSL BIO pairs + uv_getaddrinfo + an HTTP
 * parser would be several hundred lines of the kind of code libcurl has had fuzzed for years.
 *
 * How it is wired (curl's "multi_socket" API, as in its multi-uv.c example):
 *   - curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION): one uv_poll per socket,
 *     its context attached with curl_multi_assign, closed when curl says CURL_POLL_REMOVE (curl
 *     says so before it closes the fd);
 *   - curl tells us when to call it back (CURLMOPT_TIMERFUNCTION): one uv_timer, `curl_timer`;
 *   - either event calls curl_multi_socket_action, then take_results() reads finished transfers,
 *     emits their samples and frees their easy handles, outside any curl callback.
 * Rounds follow a drift-free schedule on `round_timer`; each round starts one fresh easy handle
 * per target (FRESH_CONNECT + FORBID_REUSE, so every probe measures a real handshake; the multi
 * handle keeps the DNS and CA caches). A "tcp" probe is curl with CONNECT_ONLY on an http:// URL:
 * it stops once the TCP connection is up, and nothing is sent.
 *
 * libcurl is not linked: http_lib.h loads it the first time a plan has a tcp or http target, and
 * the calls below go through its table (`curl->easy_init()` for curl_easy_init()).
 *
 * Lifetime: the prober embeds its two timers; poll contexts are on a list and freed in their close
 * callbacks; the prober is freed by the last close callback after rn_service_prober_close. */
#include "service_probe.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "http_lib.h"
#include "jitter.h"
#include "log.h"
#include "metrics.h"
#include "sources.h"
#include "util.h"

#define MAX_BODY (1u << 20)          /* body bytes read before an HTTP probe stops reading */
#define MAX_JITTER_NS 100000000ull   /* first round within 100 ms */
#define CA_CACHE_S 86400L
#define WHY_LEN 128


/* One socket curl asked us to watch. */
typedef struct svc_poll {
    rn_service_prober_t *p;
    uv_poll_t poll;
    curl_socket_t fd;
    struct svc_poll *next, **prevp;
} svc_poll_t;

/* One target and its probe in flight (easy != NULL). */
typedef struct {
    char *name, *object, *url;
    bool http;
    CURL *easy;
    int64_t wall_ms;   /* the round's start, the sample's time */
    size_t body;       /* bytes of body read */
    char why[WHY_LEN]; /* why the last probe failed, "" if it did not */
} svc_t;

struct rn_service_prober {
    uv_loop_t *loop;
    rn_sample_fn emit;
    void *ctx;
    CURLM *multi;
    uv_timer_t curl_timer, round_timer;
    svc_t *targets;
    size_t n_targets;
    uint32_t interval_s, timeout_ms;
    rn_mono_ns_t sched_start;
    char *ca_file;
    svc_poll_t *polls;
    int pending_closes;
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;
};

static void on_round_timer(uv_timer_t *t);

/* libcurl's functions (http_lib.h), set by the first prober that gets a target; the library and
 * its global state are process-wide, like net-snmp's. */
static const rn_http_lib_t *curl;

/* ---- curl's sockets and timer on the loop ---------------------------------------------------- */

/* Feeds an event (a socket's readiness, or the timeout when fd is CURL_SOCKET_TIMEOUT) to curl,
 * then collects finished transfers. */
static void drive(rn_service_prober_t *p, curl_socket_t fd, int flags);

/* Drops one pending close; the last one after rn_service_prober_close frees the prober and
 * fires its callback. Returns nothing. */
static void prober_unref(rn_service_prober_t *p)
{
    if (--p->pending_closes > 0 || !p->closing)
        return;
    void (*cb)(void *) = p->close_cb;
    void *data = p->close_data;
    free(p->ca_file);
    free(p);
    if (cb)
        cb(data);
}

static void on_poll_closed(uv_handle_t *h)
{
    svc_poll_t *sp = container_of((uv_poll_t *)h, svc_poll_t, poll);
    rn_service_prober_t *p = sp->p;
    free(sp);
    prober_unref(p);
}

/* Stops watching a socket and closes its poll (freed in the close callback). */
static void poll_close(svc_poll_t *sp)
{
    *sp->prevp = sp->next;
    if (sp->next)
        sp->next->prevp = sp->prevp;
    sp->p->pending_closes++;
    uv_poll_stop(&sp->poll);
    uv_close((uv_handle_t *)&sp->poll, on_poll_closed);
}

static void on_socket_ready(uv_poll_t *h, int status, int events)
{
    svc_poll_t *sp = container_of(h, svc_poll_t, poll);
    int flags = status < 0 ? CURL_CSELECT_ERR : 0;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    drive(sp->p, sp->fd, flags);
}

/* curl's CURLMOPT_SOCKETFUNCTION: watch socket s for `what`, or stop watching it. Returns 0
 * (-1 tells curl the socket cannot be watched, which fails that transfer). */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    rn_service_prober_t *p = userp;
    svc_poll_t *sp = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (sp) {
            curl->multi_assign(p->multi, s, NULL);
            poll_close(sp);
        }
        return 0;
    }
    if (!sp) {
        if (!(sp = calloc(1, sizeof *sp)) || uv_poll_init_socket(p->loop, &sp->poll, s) != 0) {
            free(sp);
            return -1;
        }
        sp->p = p;
        sp->fd = s;
        sp->next = p->polls;
        sp->prevp = &p->polls;
        if (p->polls)
            p->polls->prevp = &sp->next;
        p->polls = sp;
        curl->multi_assign(p->multi, s, sp);
    }
    int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&sp->poll, events, on_socket_ready);
    return 0;
}

static void on_curl_timer(uv_timer_t *t)
{
    drive(container_of(t, rn_service_prober_t, curl_timer), CURL_SOCKET_TIMEOUT, 0);
}

/* curl's CURLMOPT_TIMERFUNCTION: call curl back after timeout_ms (-1: never). Returns 0. */
static int on_curl_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    rn_service_prober_t *p = userp;
    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&p->curl_timer);
    else
        uv_timer_start(&p->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- one probe ------------------------------------------------------------------------------ */

/* Discards the body of an HTTP answer, counting it; stops the transfer beyond MAX_BODY. Returns
 * the bytes taken (fewer than offered ends the transfer with CURLE_WRITE_ERROR). */
static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    svc_t *t = userp;
    (void)data;
    t->body += size * n;
    return t->body > MAX_BODY ? 0 : size * n;
}

/* Returns the days until the server certificate of a finished HTTPS transfer expires (negative
 * once expired), or NAN when there is none: plain http, or no handshake. curl gives the leaf's
 * "Expire date" as OpenSSL prints it: "Jan  2 03:04:05 2030 GMT". */
static double cert_days(CURL *easy)
{
    struct curl_certinfo *ci = NULL;
    if (curl->easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
        return NAN;
    for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
        if (strncmp(l->data, "Expire date:", 12) != 0)
            continue;
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(l->data + 12, "%b %d %H:%M:%S %Y GMT", &tm);
        if (!end)
            return NAN;
        return (double)(timegm(&tm) - time(NULL)) / 86400.0;
    }
    return NAN;
}

/* Returns a curl time info (microseconds) in milliseconds, or NAN when curl has none. */
static double info_ms(CURL *easy, CURLINFO what)
{
    curl_off_t us = 0;
    if (curl->easy_getinfo(easy, what, &us) != CURLE_OK || us <= 0)
        return NAN;
    return (double)us / 1000.0;
}

/* Writes why a probe failed into t->why ("" when it did not). */
static void set_why(rn_service_prober_t *p, svc_t *t, CURLcode res, long status)
{
    t->why[0] = '\0';
    if (res == CURLE_OPERATION_TIMEDOUT)
        snprintf(t->why, WHY_LEN, "timed out after %u ms", p->timeout_ms);
    else if (res == CURLE_COULDNT_CONNECT)
        snprintf(t->why, WHY_LEN, "connection refused or unreachable");
    else if (res != CURLE_OK && !(res == CURLE_WRITE_ERROR && status > 0))
        snprintf(t->why, WHY_LEN, "%s", curl->easy_strerror(res));
    else if (t->http && (status < 200 || status >= 400))
        snprintf(t->why, WHY_LEN, "HTTP %ld", status);
}

/* Emits the sample of target t's finished probe. Returns nothing. */
static void emit_result(rn_service_prober_t *p, svc_t *t, CURLcode res)
{
    long status = 0;
    curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    set_why(p, t, res, status);
    double g[RN_HTTP_N];
    size_t n;
    const char *source;
    if (t->http) {
        source = RN_SRC_HTTP;
        n = RN_HTTP_N;
        bool answered = status >= 100 && status <= 999;
        g[RN_HTTP_STATUS] = answered ? (double)status : NAN;
        g[RN_HTTP_TTFB] = answered ? info_ms(t->easy, CURLINFO_STARTTRANSFER_TIME_T) : NAN;
        g[RN_HTTP_TOTAL] = answered ? info_ms(t->easy, CURLINFO_TOTAL_TIME_T) : NAN;
        g[RN_HTTP_CERTDAYS] = cert_days(t->easy);
        g[RN_HTTP_UP] = t->why[0] ? 0 : 1;
    } else {
        source = RN_SRC_TCP;
        n = RN_TCP_N;
        double c = info_ms(t->easy, CURLINFO_CONNECT_TIME_T);
        double dns = info_ms(t->easy, CURLINFO_NAMELOOKUP_TIME_T);
        g[RN_TCP_CONNECT] = res == CURLE_OK ? (isnan(dns) ? c : c - dns) : NAN;
        g[RN_TCP_UP] = res == CURLE_OK ? 1 : 0;
        if (res == CURLE_OK && isnan(g[RN_TCP_CONNECT]))
            g[RN_TCP_CONNECT] = 0; /* connected within curl's microsecond: loopback */
    }
    rn_value_t v[RN_HTTP_N];
    for (size_t i = 0; i < n; i++)
        v[i] = (rn_value_t){ isnan(g[i]) ? RN_VALUE_UNKNOWN : RN_VALUE_GAUGE, 0, g[i] };
    if (t->why[0])
        rn_debug("service %s (%s): %s", t->object, t->url, t->why);
    p->emit(p->ctx, source, "", t->object, t->wall_ms, v, n, 0);
}

/* Ends target t's probe in flight without a sample. Returns nothing. */
static void abandon(rn_service_prober_t *p, svc_t *t)
{
    if (!t->easy)
        return;
    curl->multi_remove_handle(p->multi, t->easy);
    curl->easy_cleanup(t->easy);
    t->easy = NULL;
}

/* Reads every finished transfer off the multi handle, emits its sample and frees its handle. */
static void take_results(rn_service_prober_t *p)
{
    CURLMsg *m;
    int left;
    while ((m = curl->multi_info_read(p->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        svc_t *t = NULL;
        CURLcode res = m->data.result;
        curl->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (!t || t->easy != m->easy_handle)
            continue;
        emit_result(p, t, res);
        abandon(p, t);
    }
}

static void drive(rn_service_prober_t *p, curl_socket_t fd, int flags)
{
    int running;
    if (p->closing)
        return;
    curl->multi_socket_action(p->multi, fd, flags, &running);
    take_results(p);
}

/* Starts the probe of target t. Returns 0, or -ENOMEM / -EPROTO when curl refuses (the target
 * then gets no sample this round; logged). */
static int probe_start(rn_service_prober_t *p, svc_t *t, int64_t wall_ms)
{
    CURL *e = curl->easy_init();
    if (!e)
        return -ENOMEM;
    t->wall_ms = wall_ms;
    t->body = 0;
    curl->easy_setopt(e, CURLOPT_URL, t->url);
    curl->easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
    curl->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl->easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl->easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl->easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
    curl->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)p->timeout_ms);
    curl->easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, CA_CACHE_S);
    if (t->http) {
        curl->easy_setopt(e, CURLOPT_USERAGENT, "rajnet-agent service probe");
        curl->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl->easy_setopt(e, CURLOPT_WRITEDATA, t);
        curl->easy_setopt(e, CURLOPT_CERTINFO, 1L);
        if (p->ca_file)
            curl->easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
    } else {
        curl->easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    }
    t->easy = e;
    if (curl->multi_add_handle(p->multi, e) != CURLM_OK) {
        rn_error("service %s: curl refused the probe", t->object);
        curl->easy_cleanup(e);
        t->easy = NULL;
        return -EPROTO;
    }
    return 0;
}

/* Runs one round: every target whose previous probe has finished starts a new one. The timeout
 * is below the interval, so a probe still running is rare (a stalled loop); it is left alone. */
static void on_round_timer(uv_timer_t *timer)
{
    rn_service_prober_t *p = container_of(timer, rn_service_prober_t, round_timer);
    if (!p->multi)
        return; /* no target yet, or libcurl missing (logged once; why() says so) */
    rn_mono_ns_t period = (rn_mono_ns_t)p->interval_s * 1000000000ull;
    rn_mono_ns_t now = rn_clock_mono_ns();
    rn_mono_ns_t next = rn_clock_next_tick(p->sched_start, period, now + period / 2);
    uv_timer_start(&p->round_timer, on_round_timer, (next - now + 999999) / 1000000, 0);
    int64_t wall = rn_clock_wall_ms();
    for (size_t i = 0; i < p->n_targets; i++) {
        if (p->targets[i].easy)
            rn_debug("service %s: previous probe still running", p->targets[i].object);
        else
            probe_start(p, &p->targets[i], wall);
    }
}

/* ---- targets -------------------------------------------------------------------------------- */

/* Frees an array of n targets, abandoning their probes in flight. Returns nothing. */
static void targets_free(rn_service_prober_t *p, svc_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        abandon(p, &t[i]);
        free(t[i].name);
        free(t[i].object);
        free(t[i].url);
    }
    free(t);
}

/* Fills t from a plan target: a tcp target's URL is http://addr:port/ with an IPv6 address in
 * brackets. Returns 0, -EINVAL (logged) for a target that cannot be probed, or -ENOMEM. */
static int target_init(svc_t *t, const Rn__ServiceTarget *src)
{
    const char *kind = src->kind ? src->kind : "";
    const char *object = src->object ? src->object : "?";
    memset(t, 0, sizeof *t);
    t->http = strcmp(kind, "http") == 0;
    if (t->http && src->url) {
        t->url = strdup(src->url);
    } else if (strcmp(kind, "tcp") == 0 && src->addr && src->has_port) {
        char buf[RN_WIRE_MAX_NAME + 32];
        bool v6 = strchr(src->addr, ':') != NULL;
        snprintf(buf, sizeof buf, "http://%s%s%s:%u/", v6 ? "[" : "", src->addr, v6 ? "]" : "",
                 src->port);
        t->url = strdup(buf);
    } else {
        rn_error("service target %s: kind \"%s\" without what it needs; skipped", object, kind);
        return -EINVAL;
    }
    t->name = strdup(src->name ? src->name : "");
    t->object = strdup(object);
    if (!t->url || !t->name || !t->object) {
        free(t->url), free(t->name), free(t->object);
        return -ENOMEM;
    }
    return 0;
}

/* Loads libcurl (http_lib.h) and makes the multi handle, the first time the prober has a target.
 * Returns 0, or the error of rn_http_lib_get (logged there) or -ENOMEM, with *why set. */
static int multi_open(rn_service_prober_t *p, const char **why)
{
    if (p->multi)
        return 0;
    int rc = rn_http_lib_get(&curl, why);
    if (rc)
        return rc;
    if (!(p->multi = curl->multi_init())) {
        *why = "out of memory";
        return -ENOMEM;
    }
    curl->multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl->multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
    curl->multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer_set);
    curl->multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
    return 0;
}

int rn_service_prober_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx,
                          rn_service_prober_t **out)
{
    rn_service_prober_t *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->loop = loop;
    p->emit = emit;
    p->ctx = ctx;
    p->interval_s = 1;
    uv_timer_init(loop, &p->curl_timer);
    uv_timer_init(loop, &p->round_timer);
    *out = p;
    return 0;
}

int rn_service_prober_set_targets(rn_service_prober_t *p, Rn__ServiceTarget *const *targets,
                                  size_t n, uint32_t interval_s)
{
    if (interval_s == 0)
        return -EINVAL;
    svc_t *nt = calloc(n ? n : 1, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = target_init(&nt[m], targets[i]);
        if (rc == -ENOMEM) {
            targets_free(p, nt, m);
            return rc;
        }
        m += rc == 0;
    }
    targets_free(p, p->targets, p->n_targets);
    p->targets = nt;
    p->n_targets = m;
    p->interval_s = interval_s;
    uint64_t t = (uint64_t)interval_s * 900;
    p->timeout_ms = (uint32_t)(t < RN_SERVICE_MAX_TIMEOUT_MS ? t : RN_SERVICE_MAX_TIMEOUT_MS);
    rn_mono_ns_t jitter =
        rn_jitter_first((rn_mono_ns_t)interval_s * 1000000000ull, MAX_JITTER_NS, p);
    p->sched_start = rn_clock_mono_ns() + jitter;
    const char *why = "";
    if (m > 0 && multi_open(p, &why) != 0) {
        for (size_t i = 0; i < m; i++) /* kept, so that `rajnet-agent check` can say why */
            snprintf(nt[i].why, WHY_LEN, "%s", why);
        uv_timer_stop(&p->round_timer);
        return 0; /* the rest of the plan still applies */
    }
    uv_timer_start(&p->round_timer, on_round_timer, jitter / 1000000, 0);
    rn_info("service probes: %zu targets every %u s (timeout %u ms)", m, interval_s,
            p->timeout_ms);
    return 0;
}

int rn_service_prober_set_ca(rn_service_prober_t *p, const char *ca_file)
{
    char *copy = ca_file ? strdup(ca_file) : NULL;
    if (ca_file && !copy)
        return -ENOMEM;
    free(p->ca_file);
    p->ca_file = copy;
    return 0;
}

const char *rn_service_prober_why(const rn_service_prober_t *p, const char *object)
{
    for (size_t i = 0; i < p->n_targets; i++)
        if (strcmp(p->targets[i].object, object) == 0)
            return p->targets[i].why;
    return NULL;
}

static void on_timer_closed(uv_handle_t *h)
{
    prober_unref(h->data);
}

void rn_service_prober_close(rn_service_prober_t *p, void (*cb)(void *data), void *data)
{
    p->close_cb = cb;
    p->close_data = data;
    targets_free(p, p->targets, p->n_targets); /* curl tells us to drop their sockets */
    p->targets = NULL;
    p->n_targets = 0;
    if (p->multi)
        curl->multi_cleanup(p->multi);
    p->multi = NULL;
    p->closing = true;
    while (p->polls)
        poll_close(p->polls);
    p->pending_closes += 2;
    p->curl_timer.data = p->round_timer.data = p;
    uv_close((uv_handle_t *)&p->curl_timer, on_timer_closed);
    uv_close((uv_handle_t *)&p->round_timer, on_timer_closed);
}
