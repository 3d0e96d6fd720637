/* VC media quality (see vc_quality.h): glue between the plan, the captures and the trackers. */
#include "vc_quality.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pcap_capture.h"
#include "privs.h"
#include "sources.h"

typedef struct cap cap_t;

struct rn_vc_quality {
    uv_loop_t *loop;
    rn_sample_fn emit;
    void *ctx;
    cap_t *caps[RN_VC_MAX_CAPTURES];
    size_t n_caps;
    int closing;
    void (*done)(void *);
    void *done_data;
    bool rec; /* recording mode: police station recording streams, "rec" samples only */
};

struct cap {
    rn_vc_quality_t *q;
    char *name, *ifname, *filter;
    uint32_t interval_s;
    double ie, bpl;
    rn_rtp_tracker_t *tracker;
    rn_pcap_capture_t *pcap;
    uv_timer_t timer;
    uint64_t pcap_recv, pcap_drop; /* pcap_stats at the last report */
    int closing;  /* handles still closing */
    bool counted; /* counted in q->closing (closed by rn_vc_quality_close) */
};

static void on_capture_frame(void *ctx, int dlt, int64_t time_ns, const uint8_t *data,
                             size_t caplen, size_t len)
{
    cap_t *c = ctx;
    (void)len;
    rn_rtp_feed(c->tracker, dlt, time_ns, data, caplen);
}

static rn_value_t gauge(double v, bool known)
{
    rn_value_t x = { known ? RN_VALUE_GAUGE : RN_VALUE_UNKNOWN, 0, known ? v : 0 };
    return x;
}

/* Returns how far a libpcap counter moved since prev (its u_int fields wrap at 2^32; a counter
 * that went back by less than half of that was reset, or pcap_stats failed: 0), and stores cur
 * in prev. */
static uint64_t counter_step(uint64_t *prev, uint64_t cur)
{
    uint64_t d = cur >= *prev                  ? cur - *prev
                 : *prev - cur > (1ull << 31) ? cur + (1ull << 32) - *prev
                                              : 0;
    *prev = cur;
    return d;
}

/* Reads the capture's counters, emits them as a "pcap" sample, and takes the packets the
 * capture dropped in the interval out of the RTP loss: a drop there leaves the same sequence
 * gap as a loss on the network, and only the network's is the office's problem. The drops are
 * taken from the capture's total (they may be any packet the filter passed, so this can only
 * under-count loss, never blame the WAN for the capture). */
static void discount_drops(cap_t *c, int64_t now_ms, rn_rtp_summary_t *s)
{
    uint64_t recv = 0, drop = 0;
    rn_pcap_capture_stats(c->pcap, &recv, &drop);
    uint64_t d_recv = counter_step(&c->pcap_recv, recv);
    uint64_t d_drop = counter_step(&c->pcap_drop, drop);
    rn_value_t v[RN_PCAP_N];
    v[RN_PCAP_RECEIVED] = (rn_value_t){ RN_VALUE_GAUGE, 0, (double)d_recv };
    v[RN_PCAP_DROPPED] = (rn_value_t){ RN_VALUE_GAUGE, 0, (double)d_drop };
    if (!c->q->rec) /* a recording's plan asks for "rec" alone (collector/ingest/plan.c) */
        c->q->emit(c->q->ctx, RN_SRC_PCAP, "", c->name, now_ms, v, RN_PCAP_N, 0);
    if (!d_drop || s->lost <= 0 || s->expected <= 0)
        return;
    s->lost = (uint64_t)s->lost > d_drop ? s->lost - (int64_t)d_drop : 0;
    s->lost_pct = 100.0 * (double)s->lost / (double)s->expected;
    rn_rtp_config_t rc;
    rn_rtp_config_default(&rc);
    rc.codec_ie = c->ie;
    rc.codec_bpl = c->bpl;
    s->mos = rn_rtp_mos(&rc, s->lost_pct, s->jitter_ms);
}

/* Emits a recording interval's "rec" sample: streams, packets, loss, jitter; no MOS, no
 * handshakes (a camera's video to its recorder is not a call). */
static void emit_recording(cap_t *c, int64_t now_ms, const rn_rtp_summary_t *s)
{
    bool seen = s->streams > 0;
    rn_value_t v[RN_REC_N];
    v[RN_REC_STREAMS] = gauge(s->streams, true);
    v[RN_REC_PACKETS] = gauge((double)s->packets, true);
    v[RN_REC_LOSS_PCT] = gauge(s->lost_pct, seen);
    v[RN_REC_JITTER_MS] = gauge(s->jitter_ms, seen);
    c->q->emit(c->q->ctx, RN_SRC_REC, "", c->name, now_ms, v, RN_REC_N, 0);
}

static void on_report_timer(uv_timer_t *t)
{
    cap_t *c = t->data;
    int64_t now_ms = rn_clock_wall_ms();
    rn_rtp_summary_t s;
    rn_rtp_report(c->tracker, now_ms * 1000000LL, NULL, NULL, &s);
    discount_drops(c, now_ms, &s);
    if (c->q->rec) {
        emit_recording(c, now_ms, &s);
        return;
    }
    bool seen = s.streams > 0;
    rn_value_t v[RN_RTP_N];
    v[RN_RTP_PACKETS] = gauge((double)s.packets, true);
    v[RN_RTP_LOST_PCT] = gauge(s.lost_pct, seen);
    v[RN_RTP_JITTER_MS] = gauge(s.jitter_ms, seen);
    v[RN_RTP_MOS] = gauge(s.mos, seen);
    v[RN_RTP_STREAMS] = gauge(s.streams, true);
    c->q->emit(c->q->ctx, RN_SRC_RTP, "", c->name, now_ms, v, RN_RTP_N, 0);
    rn_value_t h[RN_TCPHS_N];
    h[RN_TCPHS_COUNT] = gauge((double)s.tcp_handshakes, true);
    h[RN_TCPHS_RTT_MS] = gauge(s.tcp_rtt_ms, s.tcp_handshakes > 0);
    c->q->emit(c->q->ctx, RN_SRC_TCPHS, "", c->name, now_ms, h, RN_TCPHS_N, 0);
}

static void cap_free(cap_t *c)
{
    rn_rtp_tracker_free(c->tracker);
    free(c->name);
    free(c->ifname);
    free(c->filter);
    free(c);
}

static void cap_part_closed(cap_t *c)
{
    if (--c->closing > 0)
        return;
    rn_vc_quality_t *q = c->q;
    bool counted = c->counted;
    cap_free(c);
    if (counted && --q->closing == 0) {
        if (q->done)
            q->done(q->done_data);
        free(q);
    }
}

static void on_pcap_closed(void *data)
{
    cap_part_closed(data);
}

static void on_timer_closed(uv_handle_t *h)
{
    cap_part_closed(h->data);
}

/* Stops a capture; it frees itself when its handles are closed. */
static void cap_close(cap_t *c)
{
    c->closing = 1 + !!c->pcap;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    if (c->pcap)
        rn_pcap_capture_close(c->pcap, on_pcap_closed, c);
}

static bool same(const cap_t *c, const Rn__Capture *p)
{
    return strcmp(c->name, p->name) == 0 && strcmp(c->ifname, p->ifname) == 0 &&
           strcmp(c->filter, p->filter) == 0 &&
           c->interval_s == (p->has_interval_s ? p->interval_s : RN_VC_DEFAULT_INTERVAL_S) &&
           c->ie == (p->has_codec_ie ? p->codec_ie : 0) &&
           c->bpl == (p->has_codec_bpl ? p->codec_bpl : 25.1);
}

/* Opens one capture of the plan. Returns 0 or a negative error (logged). */
static int cap_open(rn_vc_quality_t *q, const Rn__Capture *p, cap_t **out)
{
    cap_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->q = q;
    c->name = strdup(p->name);
    c->ifname = strdup(p->ifname);
    c->filter = strdup(p->filter);
    c->interval_s = p->has_interval_s ? p->interval_s : RN_VC_DEFAULT_INTERVAL_S;
    c->ie = p->has_codec_ie ? p->codec_ie : 0;
    c->bpl = p->has_codec_bpl ? p->codec_bpl : 25.1;
    rn_rtp_config_t rc;
    rn_rtp_config_default(&rc);
    rc.codec_ie = c->ie;
    rc.codec_bpl = c->bpl;
    uint64_t seed = rn_clock_mono_ns() ^ (uint64_t)(uintptr_t)c;
    rc.hash_seed = seed * 0x9e3779b97f4a7c15ULL;
    int err = !c->name || !c->ifname || !c->filter ? -ENOMEM : rn_rtp_tracker_new(&rc, &c->tracker);
    char why[512] = "";
    if (err == 0)
        err = rn_pcap_capture_open(q->loop, c->ifname, c->filter, on_capture_frame, c, &c->pcap,
                                   why, sizeof why);
    const char *kind = q->rec ? "recording capture" : "vc capture";
    if (err == -EPERM && !rn_privs_have_net_raw()) /* given up after the first plan: privs.h */
        rn_error("%s %s needs CAP_NET_RAW: restart the agent (%s)", kind, p->name, why);
    else if (err)
        rn_error("%s %s: not started: %s", kind, p->name, why[0] ? why : strerror(-err));
    if (err) {
        cap_free(c);
        return err;
    }
    uv_timer_init(q->loop, &c->timer);
    c->timer.data = c;
    uint64_t ms = c->interval_s * 1000ull;
    uv_timer_start(&c->timer, on_report_timer, ms, ms);
    rn_info("%s %s on %s every %u s, filter \"%s\"", kind, c->name, c->ifname, c->interval_s,
            c->filter);
    *out = c;
    return 0;
}

int rn_vc_quality_set_captures(rn_vc_quality_t *q, Rn__Capture *const *caps, size_t n)
{
    cap_t *keep[RN_VC_MAX_CAPTURES] = { 0 };
    size_t n_keep = 0;
    int first = 0;
    if (n > RN_VC_MAX_CAPTURES)
        n = RN_VC_MAX_CAPTURES;
    for (size_t i = 0; i < n; i++) {
        cap_t *c = NULL;
        for (size_t k = 0; k < q->n_caps; k++)
            if (q->caps[k] && same(q->caps[k], caps[i])) {
                c = q->caps[k];
                q->caps[k] = NULL;
                break;
            }
        int err = c ? 0 : cap_open(q, caps[i], &c);
        if (err && !first)
            first = err;
        if (c)
            keep[n_keep++] = c;
    }
    for (size_t k = 0; k < q->n_caps; k++)
        if (q->caps[k])
            cap_close(q->caps[k]);
    memcpy(q->caps, keep, sizeof keep);
    q->n_caps = n_keep;
    return first;
}

size_t rn_vc_quality_running(const rn_vc_quality_t *q)
{
    return q->n_caps;
}

int rn_vc_quality_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx, rn_vc_quality_t **out)
{
    rn_vc_quality_t *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->loop = loop;
    q->emit = emit;
    q->ctx = ctx;
    *out = q;
    return 0;
}

int rn_vc_quality_new_recording(uv_loop_t *loop, rn_sample_fn emit, void *ctx,
                                rn_vc_quality_t **out)
{
    int rc = rn_vc_quality_new(loop, emit, ctx, out);
    if (rc == 0)
        (*out)->rec = true;
    return rc;
}

/* Closing: each capture's last handle ends in cap_part_closed, which counts q->closing down
 * (one per capture, plus one for the call itself, released below). */
static void on_idle_done(uv_handle_t *h)
{
    rn_vc_quality_t *q = h->data;
    free(h);
    if (--q->closing == 0) {
        if (q->done)
            q->done(q->done_data);
        free(q);
    }
}

void rn_vc_quality_close(rn_vc_quality_t *q, void (*cb)(void *data), void *data)
{
    q->done = cb;
    q->done_data = data;
    q->closing = 1 + (int)q->n_caps;
    for (size_t k = 0; k < q->n_caps; k++) {
        q->caps[k]->counted = true;
        cap_close(q->caps[k]);
    }
    q->n_caps = 0;
    /* the callback never fires inside this call: a closed idle handle carries the last count */
    uv_idle_t *idle = malloc(sizeof *idle);
    if (!idle) { /* cannot defer: finish now if nothing else is pending */
        if (--q->closing == 0) {
            if (cb)
                cb(data);
            free(q);
        }
        return;
    }
    uv_idle_init(q->loop, idle);
    idle->data = q;
    uv_close((uv_handle_t *)idle, on_idle_done);
}
