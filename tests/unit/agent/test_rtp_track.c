/* Tests of agent/rtp_track.c: every scenario is written to a pcap file with libpcap's pcap_dump
 * (snap length 128, as the capture uses), read back with pcap_open_offline and fed through the
 * tracker; loss, jitter and MOS are checked against values worked out by hand in each test.
 *
 * The stream shape used throughout: G.711 (PT 0, 8 kHz), 20 ms packets, timestamp step 160.
 * RFC 3550 A.1 keeps a new source on probation for its first packet, so the first packet of
 * every stream is never counted: base_seq is the second packet's seq. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "../../../agent/rtp_track.h"

#define SNAP 128
#define MS 1000000LL /* ns */

typedef struct {
    uint8_t src[4], dst[4];
    uint16_t sport, dport;
    uint32_t ssrc;
} flow_t;

static const flow_t A = { { 10, 2, 0, 10 }, { 10, 1, 0, 10 }, 16384, 16400, 0x11223344 };

/* ---- frames ------------------------------------------------------------------------------- */

static size_t put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8, p[1] = v & 0xff;
    return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16), put16(p + 2, v & 0xffff);
    return 4;
}

/* Ethernet + IPv4 + UDP around a payload of n bytes (copied). Returns the frame length. */
static size_t build_udp(uint8_t *f, const flow_t *fl, const uint8_t *payload, size_t n)
{
    memset(f, 0, 42);
    memset(f, 0x02, 12);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 8 + n));
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, fl->src, 4);
    memcpy(ip + 16, fl->dst, 4);
    uint8_t *u = ip + 20;
    put16(u, fl->sport);
    put16(u + 2, fl->dport);
    put16(u + 4, (uint16_t)(8 + n));
    memcpy(u + 8, payload, n);
    return 42 + n;
}

/* An RTP packet with a 160-byte payload. */
static size_t build_rtp(uint8_t *f, const flow_t *fl, uint8_t pt, uint16_t seq, uint32_t ts)
{
    uint8_t r[12 + 160] = { 0x80, pt };
    put16(r + 2, seq);
    put32(r + 4, ts);
    put32(r + 8, fl->ssrc);
    return build_udp(f, fl, r, sizeof r);
}

/* ---- pcap files ----------------------------------------------------------------------------- */

typedef struct {
    char path[64];
    pcap_t *dead;
    pcap_dumper_t *d;
} writer_t;

static void w_open(writer_t *w)
{
    snprintf(w->path, sizeof w->path, "/tmp/rn-rtp-test-XXXXXX");
    int fd = mkstemp(w->path);
    assert_true(fd >= 0);
    close(fd);
    w->dead = pcap_open_dead(DLT_EN10MB, SNAP);
    assert_non_null(w->dead);
    w->d = pcap_dump_open(w->dead, w->path);
    assert_non_null(w->d);
}

/* Records a frame captured at time_ns (microsecond resolution in the file), cut to caplen (or
 * to the snap length, whichever is shorter). */
static void w_add_cut(writer_t *w, int64_t time_ns, const uint8_t *f, size_t len, size_t caplen)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = time_ns / 1000000000LL;
    h.ts.tv_usec = (time_ns % 1000000000LL) / 1000;
    h.len = (bpf_u_int32)len;
    h.caplen = (bpf_u_int32)(caplen < SNAP ? caplen : SNAP);
    pcap_dump((u_char *)w->d, &h, f);
}

static void w_add(writer_t *w, int64_t time_ns, const uint8_t *f, size_t len)
{
    w_add_cut(w, time_ns, f, len, len);
}

static void w_close(writer_t *w)
{
    pcap_dump_close(w->d);
    pcap_close(w->dead);
}

/* Feeds every frame of the file to t. Returns the number of frames. */
static size_t replay_file(const char *path, rn_rtp_tracker_t *t)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    assert_non_null(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    size_t n = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        int64_t ns = (int64_t)h->ts.tv_sec * 1000000000LL + (int64_t)h->ts.tv_usec * 1000;
        rn_rtp_feed(t, pcap_datalink(p), ns, data, h->caplen);
        n++;
    }
    pcap_close(p);
    return n;
}

/* replay_file, then removes the (generated) file. */
static size_t replay(const char *path, rn_rtp_tracker_t *t)
{
    size_t n = replay_file(path, t);
    unlink(path);
    return n;
}

static rn_rtp_tracker_t *tracker(void)
{
    rn_rtp_tracker_t *t;
    assert_int_equal(rn_rtp_tracker_new(NULL, &t), 0);
    return t;
}

typedef struct {
    rn_rtp_stream_report_t r[8];
    size_t n;
} reports_t;

static void on_stream(void *ctx, const rn_rtp_stream_report_t *r)
{
    reports_t *rs = ctx;
    if (rs->n < 8)
        rs->r[rs->n++] = *r;
}

/* The simplified E-model of rtp_track.h, worked out step by step for the default G.711 codec. */
static double hand_mos(double loss_pct, double jitter_ms, double ie, double bpl)
{
    double d = 20 + 2 * jitter_ms;
    double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
    double ie_eff = ie + (95 - ie) * loss_pct / (loss_pct + bpl);
    double r = 93.2 - id - ie_eff;
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_mos_matches_hand_values(void **state)
{
    (void)state;
    rn_rtp_config_t c;
    rn_rtp_config_default(&c);
    /* clean: d = 20, Id = 0.48, R = 92.72, MOS = 1 + 3.2452 + 92.72*32.72*7.28*7e-6 = 4.39980 */
    assert_float_equal(rn_rtp_mos(&c, 0, 0), 4.39980, 1e-4);
    /* 5% loss, 30 ms jitter: d = 80, Id = 1.92, Ie_eff = 95*5/30.1 = 15.781, R = 75.499,
     * MOS = 1 + 2.64246 + 75.499*15.499*24.501*7e-6 = 3.84317 */
    assert_float_equal(rn_rtp_mos(&c, 5, 30), 3.84317, 1e-4);
    /* G.729A (Ie 11, Bpl 19), clean: R = 92.72 - 11 = 81.72, MOS = 4.08732 */
    c.codec_ie = 11, c.codec_bpl = 19;
    assert_float_equal(rn_rtp_mos(&c, 0, 0), 4.08732, 1e-4);
    assert_float_equal(rn_rtp_mos(&c, 100, 500), 1.0, 1e-9); /* R < 0 */
}

static void test_clean_stream_has_no_loss_no_jitter(void **state)
{
    (void)state;
    writer_t w;
    w_open(&w);
    uint8_t f[256];
    for (int i = 0; i < 1000; i++)
        w_add(&w, 1000 * MS + i * 20 * MS, f, build_rtp(f, &A, 0, (uint16_t)(100 + i), 1000u + 160u * i));
    w_close(&w);
    rn_rtp_tracker_t *t = tracker();
    assert_int_equal(replay(w.path, t), 1000);
    reports_t rs = { 0 };
    rn_rtp_summary_t s;
    rn_rtp_report(t, 21000 * MS, on_stream, &rs, &s);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].ssrc, A.ssrc);
    assert_int_equal(rs.r[0].packets, 999); /* the first was on probation */
    assert_int_equal(rs.r[0].expected, 999);
    assert_int_equal(rs.r[0].lost, 0);
    assert_float_equal(rs.r[0].jitter_ms, 0, 1e-9);
    assert_float_equal(rs.r[0].mos, 4.39980, 1e-4);
    assert_int_equal(s.streams, 1);
    assert_int_equal(s.packets, 999);
    assert_float_equal(s.lost_pct, 0, 1e-9);
    assert_int_equal(rs.r[0].dport, 16400);
    rn_rtp_tracker_free(t);
}

static void test_five_percent_loss(void **state)
{
    (void)state;
    writer_t w;
    w_open(&w);
    uint8_t f[256];
    /* 2000 packets sent, every one with i % 20 == 10 dropped: 100 lost of 1999 expected (packet
     * 0 is the probation packet) = 5.0025%; Ie_eff = 95*5.0025/30.1025 = 15.787, R = 76.933,
     * MOS = 3.90299. */
    for (int i = 0; i < 2000; i++)
        if (i % 20 != 10)
            w_add(&w, i * 20 * MS, f, build_rtp(f, &A, 0, (uint16_t)i, 160u * i));
    w_close(&w);
    rn_rtp_tracker_t *t = tracker();
    replay(w.path, t);
    reports_t rs = { 0 };
    rn_rtp_summary_t s;
    rn_rtp_report(t, 40000 * MS, on_stream, &rs, &s);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].expected, 1999);
    assert_int_equal(rs.r[0].lost, 100);
    assert_float_equal(rs.r[0].lost_pct, 100.0 * 100 / 1999, 1e-9);
    assert_float_equal(s.lost_pct, 5.0025, 1e-4);
    assert_float_equal(s.mos, 3.90299, 1e-4);
    assert_float_equal(s.mos, hand_mos(100.0 * 100 / 1999, 0, 0, 25.1), 1e-9);
    rn_rtp_tracker_free(t);
}

static void test_jitter_follows_rfc3550(void **state)
{
    (void)state;
    writer_t w;
    w_open(&w);
    uint8_t f[256];
    /* Odd packets arrive 10 ms late: every transit difference D is +-10 ms = 80 units at 8 kHz.
     * J starts at the validating packet 1, so packets 2..N-1 give N-2 updates of
     * J += (80 - J)/16, i.e. J = 80 (1 - (15/16)^(N-2)) units; in ms divide by 8. */
    const int n = 200;
    for (int i = 0; i < n; i++)
        w_add(&w, i * 20 * MS + (i % 2 ? 10 * MS : 0), f, build_rtp(f, &A, 0, (uint16_t)i, 160u * i));
    w_close(&w);
    rn_rtp_tracker_t *t = tracker();
    replay(w.path, t);
    reports_t rs = { 0 };
    rn_rtp_report(t, 5000 * MS, on_stream, &rs, NULL);
    double want = 10.0 * (1 - pow(15.0 / 16, n - 2));
    assert_float_equal(rs.r[0].jitter_ms, want, 1e-6);
    assert_float_equal(rs.r[0].jitter_ms, 10.0, 1e-3);
    assert_float_equal(rs.r[0].mos, hand_mos(0, want, 0, 25.1), 1e-9);
    assert_int_equal(rs.r[0].lost, 0);

    /* A short exact run: arrivals (ms) 0, 20, 45, 60, 80 with timestamps 160 apart. From packet
     * 1: D2 = (25 ms - 20 ms) * 8 = 40 -> J = 40/16 = 2.5; D3 = -5 ms = -40 -> J = 2.5 + 37.5/16
     * = 4.84375; D4 = 0 -> J = 4.84375 * 15/16 = 4.541015625 units = 0.567626953125 ms. */
    rn_rtp_tracker_free(t);
    w_open(&w);
    const int at[] = { 0, 20, 45, 60, 80 };
    for (int i = 0; i < 5; i++)
        w_add(&w, at[i] * MS, f, build_rtp(f, &A, 0, (uint16_t)(7 + i), 160u * i));
    w_close(&w);
    t = tracker();
    replay(w.path, t);
    rs.n = 0;
    rn_rtp_report(t, 100 * MS, on_stream, &rs, NULL);
    assert_float_equal(rs.r[0].jitter_ms, 0.567626953125, 1e-9);
    rn_rtp_tracker_free(t);
}

static void test_reordered_and_duplicated_packets(void **state)
{
    (void)state;
    writer_t w;
    w_open(&w);
    uint8_t f[256];
    /* seq order: 0..99, 101, 100, 102..199, 150 again (late duplicate), 200, 200 (duplicate),
     * 201..299: nothing lost, 2 duplicates, 1 reordered. */
    int order[400], n = 0;
    for (int i = 0; i < 100; i++)
        order[n++] = i;
    order[n++] = 101, order[n++] = 100;
    for (int i = 102; i < 200; i++)
        order[n++] = i;
    order[n++] = 150, order[n++] = 200, order[n++] = 200;
    for (int i = 201; i < 300; i++)
        order[n++] = i;
    for (int k = 0; k < n; k++)
        w_add(&w, k * 20 * MS, f, build_rtp(f, &A, 0, (uint16_t)order[k], 160u * order[k]));
    w_close(&w);
    rn_rtp_tracker_t *t = tracker();
    replay(w.path, t);
    reports_t rs = { 0 };
    rn_rtp_report(t, 10000 * MS, on_stream, &rs, NULL);
    assert_int_equal(rs.r[0].expected, 299);
    assert_int_equal(rs.r[0].packets, 299);
    assert_int_equal(rs.r[0].lost, 0);
    assert_int_equal(rs.r[0].duplicates, 2);
    assert_int_equal(rs.r[0].reordered, 1);
    rn_rtp_tracker_free(t);
}

static void test_sequence_wrap_is_extended(void **state)
{
    (void)state;
    writer_t w;
    w_open(&w);
    uint8_t f[256];
    /* 1000 packets from seq 65000: wraps after 65535 at i = 536; seqs 3, 4 and 5 after the wrap
     * dropped. Expected = 999 (from 65001 to 65000 + 999 extended), lost 3. */
    for (int i = 0; i < 1000; i++) {
        uint16_t seq = (uint16_t)(65000 + i);
        if (seq >= 3 && seq <= 5)
            continue;
        w_add(&w, i * 20 * MS, f, build_rtp(f, &A, 0, seq, 0xfffff000u + 160u * i));
    }
    w_close(&w);
    rn_rtp_tracker_t *t = tracker();
    replay(w.path, t);
    reports_t rs = { 0 };
    rn_rtp_report(t, 20000 * MS, on_stream, &rs, NULL);
    assert_int_equal(rs.r[0].cycles, 1);
    assert_int_equal(rs.r[0].expected, 999);
    assert_int_equal(rs.r[0].lost, 3);
    assert_float_equal(rs.r[0].jitter_ms, 0, 1e-9); /* the timestamp wrapped too: no spike */
    rn_rtp_tracker_free(t);
}

static void test_intervals_report_their_own_loss(void **state)
{
    (void)state;
    writer_t w1, w2;
    uint8_t f[256];
    w_open(&w1);
    for (int i = 0; i < 101; i++) /* 100 counted, none lost */
        w_add(&w1, i * 20 * MS, f, build_rtp(f, &A, 0, (uint16_t)i, 160u * i));
    w_close(&w1);
    w_open(&w2);
    for (int i = 101; i < 201; i++) /* 100 expected, 10 lost (105, 115, ... 195) */
        if (i % 10 != 5)
            w_add(&w2, i * 20 * MS, f, build_rtp(f, &A, 0, (uint16_t)i, 160u * i));
    w_close(&w2);
    rn_rtp_tracker_t *t = tracker();
    reports_t rs = { 0 };
    rn_rtp_summary_t s;
    replay(w1.path, t);
    rn_rtp_report(t, 2020 * MS, on_stream, &rs, &s);
    assert_int_equal(s.expected, 100);
    assert_int_equal(s.lost, 0);
    replay(w2.path, t);
    rn_rtp_report(t, 4020 * MS, on_stream, &rs, &s);
    assert_int_equal(s.expected, 100);
    assert_int_equal(s.lost, 10);
    assert_float_equal(s.lost_pct, 10.0, 1e-9);
    assert_int_equal(rs.n, 2);
    assert_int_equal(rs.r[1].expected_total, 200);
    assert_int_equal(rs.r[1].lost_total, 10);
    rn_rtp_tracker_free(t);
}

static void test_truncated_and_malformed_frames_are_counted(void **state)
{
    (void)state;
    writer_t w;
    w_open(&w);
    uint8_t f[256], g[256];
    size_t len = build_rtp(f, &A, 0, 1, 0);
    /* every cut shorter than the RTP fixed header (14 + 20 + 8 + 12 = 54 bytes) */
    for (size_t cut = 0; cut < 54; cut++)
        w_add_cut(&w, 0, f, len, cut);
    /* IHL 4 */
    memcpy(g, f, len);
    g[14] = 0x44;
    w_add(&w, 0, g, len);
    /* IPv4 total length smaller than its header */
    memcpy(g, f, len);
    put16(g + 16, 10);
    w_add(&w, 0, g, len);
    /* UDP length beyond the IP payload */
    memcpy(g, f, len);
    put16(g + 38, 4000);
    w_add(&w, 0, g, len);
    /* UDP length below 8 */
    memcpy(g, f, len);
    put16(g + 38, 3);
    w_add(&w, 0, g, len);
    /* RTP CSRC count larger than the datagram */
    uint8_t small[12] = { 0x8f, 0 };
    w_add(&w, 0, g, build_udp(g, &A, small, sizeof small));
    /* RTCP RR whose length field runs past the datagram */
    uint8_t rr[8] = { 0x81, 201, 0, 40 };
    w_add(&w, 0, g, build_udp(g, &A, rr, sizeof rr));
    /* IPv6 with a bad version nibble */
    memcpy(g, f, len);
    put16(g + 12, 0x86dd);
    w_add(&w, 0, g, len);
    w_close(&w);
    rn_rtp_tracker_t *t = tracker();
    assert_int_equal(replay(w.path, t), 54 + 7);
    rn_rtp_stats_t st;
    rn_rtp_stats(t, &st);
    assert_int_equal(st.malformed, 54 + 7);
    assert_int_equal(st.rtp, 0);
    assert_int_equal(st.active, 0);
    /* non-RTP UDP (version 1) and a non-first IPv4 fragment are "other", not malformed */
    uint8_t v1[12] = { 0x40, 0 };
    assert_int_equal(rn_rtp_feed(t, RN_RTP_DLT_EN10MB, 0, g, build_udp(g, &A, v1, sizeof v1)),
                     RN_RTP_PKT_OTHER);
    memcpy(g, f, len);
    put16(g + 20, 0x0010);
    assert_int_equal(rn_rtp_feed(t, RN_RTP_DLT_EN10MB, 0, g, len), RN_RTP_PKT_OTHER);
    assert_int_equal(rn_rtp_feed(t, RN_RTP_DLT_EN10MB, 0, NULL, 0), RN_RTP_PKT_MALFORMED);
    rn_rtp_tracker_free(t);
}

static void test_ssrc_flood_cannot_evict_a_live_stream(void **state)
{
    (void)state;
    writer_t w;
    w_open(&w);
    uint8_t f[256];
    flow_t bogus = A;
    bogus.sport = 9;
    /* a real stream, 20 ms apart; from its 10th packet on, 200 bogus SSRCs between every two
     * of its packets, every other one with a second packet in sequence (so it validates too).
     * A stream that starts during such a flood is not guaranteed a slot: the point is that one
     * carrying media keeps it, and memory stays fixed. */
    uint32_t x = 12345;
    int64_t now = 0;
    for (int i = 0; i < 500; i++) {
        now = i * 20 * MS;
        w_add(&w, now, f, build_rtp(f, &A, 0, (uint16_t)i, 160u * i));
        for (int k = 0; k < (i >= 10 ? 200 : 0); k++) {
            x = x * 1103515245u + 12345u;
            bogus.ssrc = x;
            w_add(&w, now + k * 1000, f, build_rtp(f, &bogus, 0, 7, 0));
            if (k % 2)
                w_add(&w, now + k * 1000, f, build_rtp(f, &bogus, 0, 8, 160));
        }
    }
    w_close(&w);
    rn_rtp_config_t c;
    rn_rtp_config_default(&c);
    c.max_streams = 64;
    c.hash_seed = 42;
    rn_rtp_tracker_t *t;
    assert_int_equal(rn_rtp_tracker_new(&c, &t), 0);
    replay(w.path, t);
    rn_rtp_stats_t st;
    rn_rtp_stats(t, &st);
    assert_true(st.active <= 64);
    assert_true(st.evicted + st.untracked > 10000);
    reports_t rs = { 0 };
    rn_rtp_report(t, now + 20 * MS, on_stream, &rs, NULL);
    size_t found = 0;
    for (size_t i = 0; i < rs.n; i++)
        if (rs.r[i].ssrc == A.ssrc) {
            found++;
            assert_int_equal(rs.r[i].expected, 499);
            assert_int_equal(rs.r[i].lost, 0);
        }
    assert_int_equal(found, 1);
    rn_rtp_tracker_free(t);
}

static void test_rtcp_receiver_report_is_read(void **state)
{
    (void)state;
    rn_rtp_tracker_t *t = tracker();
    uint8_t f[256];
    for (int i = 0; i < 10; i++)
        rn_rtp_feed(t, RN_RTP_DLT_EN10MB, i * 20 * MS, f, build_rtp(f, &A, 0, (uint16_t)i, 160u * i));
    /* RR from the far side about A.ssrc: fraction lost 13/256, jitter 240 units = 30 ms */
    uint8_t rr[32] = { 0x81, 201, 0, 7 };
    put32(rr + 4, 0xabcdef01);
    put32(rr + 8, A.ssrc);
    rr[12] = 13;
    put32(rr + 20, 240);
    flow_t back = { { 10, 1, 0, 10 }, { 10, 2, 0, 10 }, 16401, 16385, 0 };
    assert_int_equal(rn_rtp_feed(t, RN_RTP_DLT_EN10MB, 200 * MS, f, build_udp(f, &back, rr, 32)),
                     RN_RTP_PKT_RTCP);
    reports_t rs = { 0 };
    rn_rtp_report(t, 220 * MS, on_stream, &rs, NULL);
    assert_true(rs.r[0].has_rtcp);
    assert_float_equal(rs.r[0].rtcp_fraction_lost, 13 / 256.0, 1e-12);
    assert_float_equal(rs.r[0].rtcp_jitter_ms, 30.0, 1e-12);
    rn_rtp_tracker_free(t);
}

/* A VLAN-tagged IPv6 frame with an RTP payload. */
static size_t build_rtp6_vlan(uint8_t *f, uint16_t seq, uint32_t ts)
{
    memset(f, 0, 256);
    put16(f + 12, 0x8100);
    put16(f + 14, 42);
    put16(f + 16, 0x86dd);
    uint8_t *ip = f + 18;
    ip[0] = 0x60;
    put16(ip + 4, 8 + 12 + 160);
    ip[6] = 17;
    ip[7] = 64;
    ip[8] = 0x20, ip[9] = 0x01, ip[39] = 1; /* 2001::/.. -> ::1 */
    uint8_t *u = ip + 40;
    put16(u, 5004), put16(u + 2, 5006), put16(u + 4, 8 + 12 + 160);
    u[8] = 0x80, u[9] = 96;
    put16(u + 10, seq), put32(u + 12, ts), put32(u + 16, 0x600d);
    return 18 + 40 + 8 + 12 + 160;
}

static void test_ipv6_vlan_stream_and_tcp_handshake(void **state)
{
    (void)state;
    rn_rtp_tracker_t *t = tracker();
    uint8_t f[256];
    for (int i = 0; i < 50; i++) /* PT 96: dynamic, 90 kHz; 33 ms video frames of 3000 units */
        assert_int_equal(rn_rtp_feed(t, RN_RTP_DLT_EN10MB, i * 33333333LL, f,
                                     build_rtp6_vlan(f, (uint16_t)(i + 1), 3000u * i)),
                         RN_RTP_PKT_RTP);
    /* TCP SYN to a portal at t = 3 s, SYN/ACK back 12.5 ms later */
    uint8_t s[54] = { 0 };
    put16(s + 12, 0x0800);
    s[14] = 0x45, put16(s + 16, 40), s[23] = 6;
    uint8_t cli[4] = { 10, 2, 0, 50 }, srv[4] = { 10, 1, 0, 20 };
    memcpy(s + 26, cli, 4), memcpy(s + 30, srv, 4);
    put16(s + 34, 40000), put16(s + 36, 443), s[46] = 0x50, s[47] = 0x02;
    assert_int_equal(rn_rtp_feed(t, RN_RTP_DLT_EN10MB, 3000 * MS, s, 54), RN_RTP_PKT_TCP);
    memcpy(s + 26, srv, 4), memcpy(s + 30, cli, 4);
    put16(s + 34, 443), put16(s + 36, 40000), s[47] = 0x12;
    assert_int_equal(rn_rtp_feed(t, RN_RTP_DLT_EN10MB, 3000 * MS + 12500000, s, 54),
                     RN_RTP_PKT_TCP);
    reports_t rs = { 0 };
    rn_rtp_summary_t sum;
    rn_rtp_report(t, 3100 * MS, on_stream, &rs, &sum);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].family, 6);
    assert_int_equal(rs.r[0].clock_hz, 90000);
    assert_int_equal(rs.r[0].lost, 0);
    /* arrivals every 33.333333 ms = 2999.99997 units vs 3000: jitter ~0 */
    assert_true(rs.r[0].jitter_ms < 0.001);
    assert_int_equal(sum.tcp_handshakes, 1);
    assert_float_equal(sum.tcp_rtt_ms, 12.5, 1e-9);
    rn_rtp_tracker_free(t);
}

static void test_idle_streams_expire(void **state)
{
    (void)state;
    rn_rtp_tracker_t *t = tracker();
    uint8_t f[256];
    for (int i = 0; i < 5; i++)
        rn_rtp_feed(t, RN_RTP_DLT_EN10MB, i * 20 * MS, f, build_rtp(f, &A, 0, (uint16_t)i, 160u * i));
    rn_rtp_stats_t st;
    rn_rtp_report(t, 5000 * MS, NULL, NULL, NULL);
    rn_rtp_stats(t, &st);
    assert_int_equal(st.active, 1);
    rn_rtp_summary_t s;
    rn_rtp_report(t, 10081 * MS, NULL, NULL, &s); /* 10 s after the last packet */
    rn_rtp_stats(t, &st);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.expired, 1);
    assert_int_equal(s.streams, 0);
    assert_float_equal(s.mos, 0, 0);
    rn_rtp_tracker_free(t);
    rn_rtp_config_t c;
    rn_rtp_config_default(&c);
    c.max_streams = 0;
    assert_int_equal(rn_rtp_tracker_new(&c, &t), -22);
    rn_rtp_tracker_free(NULL);
}

/* A recorded capture: libpcap on lo (snap length 128) while a sender sent 300 G.711 packets
 * 20 ms apart with seq 0..299 and skipped every one with seq % 20 == 7 (15 of them; none is the
 * probation packet 0). Expected 299 (1..299), lost 15 = 5.0167%; the jitter is the real
 * scheduling noise of the sender (well under 2 ms); MOS follows from both. */
static void test_recorded_capture_with_five_percent_loss(void **state)
{
    (void)state;
    rn_rtp_tracker_t *t = tracker();
    assert_int_equal(replay_file(RN_SRCDIR "/tests/unit/agent/data/rtp-g711-lo-5pct.pcap", t), 285);
    reports_t rs = { 0 };
    rn_rtp_summary_t s;
    rn_rtp_report(t, INT64_MAX / 2, on_stream, &rs, &s); /* wall-clock times: report later */
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].ssrc, 0xabc);
    assert_int_equal(rs.r[0].expected, 299);
    assert_int_equal(rs.r[0].lost, 15);
    assert_float_equal(s.lost_pct, 100.0 * 15 / 299, 1e-9);
    assert_true(s.jitter_ms >= 0 && s.jitter_ms < 2.0);
    assert_float_equal(s.mos, hand_mos(100.0 * 15 / 299, s.jitter_ms, 0, 25.1), 1e-9);
    assert_true(s.mos > 3.85 && s.mos < 3.91);
    rn_rtp_tracker_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mos_matches_hand_values),
        cmocka_unit_test(test_clean_stream_has_no_loss_no_jitter),
        cmocka_unit_test(test_five_percent_loss),
        cmocka_unit_test(test_jitter_follows_rfc3550),
        cmocka_unit_test(test_reordered_and_duplicated_packets),
        cmocka_unit_test(test_sequence_wrap_is_extended),
        cmocka_unit_test(test_intervals_report_their_own_loss),
        cmocka_unit_test(test_truncated_and_malformed_frames_are_counted),
        cmocka_unit_test(test_ssrc_flood_cannot_evict_a_live_stream),
        cmocka_unit_test(test_rtcp_receiver_report_is_read),
        cmocka_unit_test(test_ipv6_vlan_stream_and_tcp_handshake),
        cmocka_unit_test(test_idle_streams_expire),
        cmocka_unit_test(test_recorded_capture_with_five_percent_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
