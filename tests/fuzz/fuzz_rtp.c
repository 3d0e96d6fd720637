/* libFuzzer harness of agent/rtp_track.c: the captured-frame parser and the stream table.
 *
 * The first input byte picks the link type (Ethernet, raw IP, Linux cooked v1/v2, BSD loopback);
 * the rest is a sequence of frames, each a 2-byte big-endian length and that many bytes (the
 * last frame takes what is left if its length runs past the end), fed 20 ms apart to a tracker
 * with a 4-entry table so eviction and expiry paths run too. The rest is also fed whole as one
 * frame. A report is taken halfway and at the end, and its figures must be sane: loss within
 * 0..100 %, jitter finite and non-negative, MOS within 1..4.5. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../agent/rtp_track.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *ctx, const rn_rtp_stream_report_t *r)
{
    (void)ctx;
    if (!(r->lost_pct >= 0 && r->lost_pct <= 100) || !(r->jitter_ms >= 0) ||
        !isfinite(r->jitter_ms) || !(r->mos >= 1 && r->mos <= 4.5))
        abort();
}

static void report(rn_rtp_tracker_t *t, int64_t now)
{
    rn_rtp_summary_t s;
    rn_rtp_report(t, now, check, NULL, &s);
    if (s.streams && !(s.mos >= 1 && s.mos <= 4.5))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int dlts[] = { RN_RTP_DLT_EN10MB, RN_RTP_DLT_RAW, RN_RTP_DLT_LINUX_SLL,
                                RN_RTP_DLT_LINUX_SLL2, RN_RTP_DLT_NULL, RN_RTP_DLT_RAW_LT };
    if (size < 1)
        return 0;
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    data++, size--;
    rn_rtp_config_t c;
    rn_rtp_config_default(&c);
    c.max_streams = 4;
    c.protect_ns = 30000000; /* 30 ms: validated entries become evictable within the input */
    rn_rtp_tracker_t *t;
    if (rn_rtp_tracker_new(&c, &t) != 0)
        abort();
    int64_t now = 0;
    rn_rtp_feed(t, dlt, now, data, size);
    for (size_t at = 0; at + 2 <= size;) {
        size_t len = (size_t)data[at] << 8 | data[at + 1];
        at += 2;
        if (len > size - at)
            len = size - at;
        now += 20000000;
        rn_rtp_feed(t, dlt, now, data + at, len);
        at += len;
        if (at > size / 2 && at - len <= size / 2)
            report(t, now);
    }
    report(t, now + 1);
    report(t, now + 20000000000LL); /* everything expires */
    rn_rtp_stats_t st;
    rn_rtp_stats(t, &st);
    if (st.active != 0)
        abort();
    rn_rtp_tracker_free(t);
    return 0;
}
