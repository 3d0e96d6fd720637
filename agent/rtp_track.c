/* RTP tracker (see rtp_track.h): header parsing, per-stream RFC 3550 state in a fixed table,
 * interval reports with an E-model MOS.
 *
 * The table is an array of stream_t; entries are linked into exactly one of three lists by index
 * (free, probation, validated), the two live lists in most-recently-seen-first order, and chained
 * into a hash index keyed by (SSRC, 5-tuple) under a secret seed. Nothing here allocates after
 * rn_rtp_tracker_new. */
#include "rtp_track.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_MOD 65536u
#define WINDOW 128u     /* duplicate detection window behind the highest seq */
#define SYN_SLOTS 256u  /* pending TCP SYNs for handshake RTT */
#define NIL (-1)

enum { LIST_FREE, LIST_PROBATION, LIST_VALID, N_LISTS };

typedef struct {
    uint32_t ssrc;
    uint16_t sport, dport;
    uint8_t family, pad[7];
    uint8_t src[16], dst[16];
} flow_key_t; /* 48 bytes, no implicit padding: compared and hashed as bytes */

typedef struct {
    flow_key_t key;
    int32_t hnext, prev, next;
    uint8_t list, pt;
    uint16_t max_seq;
    uint32_t cycles, base_seq, bad_seq, probation, clock_hz;
    uint64_t received, received_prior, dup, reord;
    int64_t expected_prior;
    uint64_t win[2];  /* bit i: ext_max - i was received */
    int64_t seen_ns;  /* last packet of any kind */
    int64_t last_ns;  /* arrival of the last counted packet, for jitter */
    uint32_t last_ts;
    bool have_last, has_rtcp;
    double jitter;    /* RFC 3550 A.8, timestamp units */
    double rtcp_fl, rtcp_jitter_ms;
} stream_t;

typedef struct {
    int32_t head, tail;
} list_t;

typedef struct {
    flow_key_t key; /* client -> server; ssrc unused */
    int64_t ns;
    bool used;
} syn_t;

struct rn_rtp_tracker {
    rn_rtp_config_t cfg;
    stream_t *s;
    int32_t *buckets;
    uint32_t n_buckets; /* power of two */
    list_t lists[N_LISTS];
    syn_t syn[SYN_SLOTS];
    uint64_t hs_count;
    double hs_sum_ms;
    rn_rtp_stats_t st;
};

/* ---- bounds-checked cursor: the first error sticks, reads after it return 0 ---------------- */

typedef struct {
    const uint8_t *p;
    size_t len, at;
    bool bad;
} cur_t;

static bool need(cur_t *c, size_t n)
{
    if (c->bad || c->len - c->at < n) {
        c->bad = true;
        return false;
    }
    return true;
}

static uint8_t rd8(cur_t *c)
{
    return need(c, 1) ? c->p[c->at++] : 0;
}

static uint16_t rd16(cur_t *c)
{
    if (!need(c, 2))
        return 0;
    uint16_t v = (uint16_t)(c->p[c->at] << 8 | c->p[c->at + 1]);
    c->at += 2;
    return v;
}

static uint32_t rd32(cur_t *c)
{
    if (!need(c, 4))
        return 0;
    const uint8_t *q = c->p + c->at;
    c->at += 4;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static void rdn(cur_t *c, uint8_t *dst, size_t n)
{
    if (need(c, n)) {
        memcpy(dst, c->p + c->at, n);
        c->at += n;
    } else {
        memset(dst, 0, n);
    }
}

static void skip(cur_t *c, size_t n)
{
    if (need(c, n))
        c->at += n;
}

/* A sub-cursor over the next n bytes, or fewer if the capture ends first (so headers can be
 * checked against the wire length while reads stay inside the captured bytes). */
static cur_t sub(const cur_t *c, size_t n)
{
    cur_t s = { c->p + c->at, c->len - c->at, 0, c->bad };
    if (s.len > n)
        s.len = n;
    return s;
}

/* ---- lists and hash ------------------------------------------------------------------------ */

static void list_unlink(rn_rtp_tracker_t *t, int32_t i)
{
    stream_t *e = &t->s[i];
    list_t *l = &t->lists[e->list];
    if (e->prev != NIL)
        t->s[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next != NIL)
        t->s[e->next].prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NIL;
}

static void list_push_head(rn_rtp_tracker_t *t, int32_t i, uint8_t which)
{
    stream_t *e = &t->s[i];
    list_t *l = &t->lists[which];
    e->list = which;
    e->prev = NIL;
    e->next = l->head;
    if (l->head != NIL)
        t->s[l->head].prev = i;
    l->head = i;
    if (l->tail == NIL)
        l->tail = i;
}

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Keyed hash of a key. Not cryptographic, but with a secret seed an outsider cannot aim packets
 * at one chain; and every chain is bounded by the table size anyway. */
static uint32_t key_hash(const rn_rtp_tracker_t *t, const flow_key_t *k)
{
    uint64_t h = t->cfg.hash_seed ^ 0x9e3779b97f4a7c15ULL, w;
    const uint8_t *p = (const uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i += 8) {
        memcpy(&w, p + i, 8);
        h = mix64(h ^ w);
    }
    return (uint32_t)h & (t->n_buckets - 1);
}

static int32_t lookup(const rn_rtp_tracker_t *t, const flow_key_t *k, uint32_t h)
{
    for (int32_t i = t->buckets[h]; i != NIL; i = t->s[i].hnext)
        if (memcmp(&t->s[i].key, k, sizeof *k) == 0)
            return i;
    return NIL;
}

/* Removes entry i from the index and its list and returns it to the free list. */
static void release(rn_rtp_tracker_t *t, int32_t i)
{
    uint32_t h = key_hash(t, &t->s[i].key);
    for (int32_t *pp = &t->buckets[h]; *pp != NIL; pp = &t->s[*pp].hnext)
        if (*pp == i) {
            *pp = t->s[i].hnext;
            break;
        }
    list_unlink(t, i);
    list_push_head(t, i, LIST_FREE);
    t->st.active--;
}

/* Finds an entry for a new source: a free one, the LRU probation one, or a validated one idle
 * past protect_ns. Returns NIL when every entry is protected. */
static int32_t grab(rn_rtp_tracker_t *t, int64_t now)
{
    int32_t i = t->lists[LIST_FREE].head;
    if (i != NIL) {
        list_unlink(t, i);
        return i;
    }
    i = t->lists[LIST_PROBATION].tail;
    if (i == NIL) {
        i = t->lists[LIST_VALID].tail;
        if (i == NIL || now - t->s[i].seen_ns <= t->cfg.protect_ns)
            return NIL;
    }
    release(t, i);
    t->st.evicted++;
    list_unlink(t, i);
    return i;
}

/* ---- RFC 3550 A.1 sequence state ----------------------------------------------------------- */

static void init_seq(stream_t *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = SEQ_MOD + 1;
    s->cycles = 0;
    s->received = s->received_prior = 0;
    s->expected_prior = 0;
    s->win[0] = 1;
    s->win[1] = 0;
    s->have_last = false;
}

static void win_shift(stream_t *s, uint32_t k)
{
    if (k >= WINDOW) {
        s->win[0] = s->win[1] = 0;
    } else if (k >= 64) {
        s->win[1] = s->win[0] << (k - 64);
        s->win[0] = 0;
    } else if (k > 0) {
        s->win[1] = s->win[1] << k | s->win[0] >> (64 - k);
        s->win[0] <<= k;
    }
    s->win[0] |= 1;
}

static bool win_test_set(stream_t *s, uint32_t dist)
{
    uint64_t *w = &s->win[dist / 64], bit = 1ULL << (dist % 64);
    bool was = *w & bit;
    *w |= bit;
    return was;
}

enum { SEQ_IGNORED, SEQ_NEW, SEQ_DUP };

/* Updates the sequence state with one packet; says whether it counts as received. */
static int update_seq(stream_t *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (s->probation) {
        if (seq == (uint16_t)(s->max_seq + 1)) {
            s->probation--;
            s->max_seq = seq;
            if (s->probation == 0) {
                init_seq(s, seq);
                s->received++;
                return SEQ_NEW;
            }
        } else {
            s->probation = RN_RTP_MIN_SEQUENTIAL - 1;
            s->max_seq = seq;
        }
        return SEQ_IGNORED;
    }
    if (udelta == 0) {
        s->dup++;
        return SEQ_DUP;
    }
    if (udelta < RN_RTP_MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles++; /* wrapped */
        s->max_seq = seq;
        win_shift(s, udelta);
    } else if (udelta <= SEQ_MOD - RN_RTP_MAX_MISORDER) {
        if (seq != s->bad_seq) {
            s->bad_seq = (seq + 1) & (SEQ_MOD - 1);
            return SEQ_IGNORED;
        }
        init_seq(s, seq); /* two sequential packets after a jump: the source restarted */
    } else {
        uint32_t dist = (uint16_t)(s->max_seq - seq);
        if (dist < WINDOW && win_test_set(s, dist)) {
            s->dup++;
            return SEQ_DUP;
        }
        s->reord++;
    }
    s->received++;
    return SEQ_NEW;
}

/* ---- packets -------------------------------------------------------------------------------- */

uint32_t rn_rtp_clock_hz(uint8_t pt, uint32_t dynamic_hz)
{
    switch (pt) {
    case 0: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 13: case 15: case 18:
        return 8000;
    case 6: return 16000;
    case 10: case 11: return 44100;
    case 14: case 25: case 26: case 28: case 31: case 32: case 33: case 34: return 90000;
    case 16: return 11025;
    case 17: return 22050;
    default: return dynamic_hz;
    }
}

static void on_rtp(rn_rtp_tracker_t *t, flow_key_t *k, int64_t ns, uint8_t pt, uint16_t seq,
                   uint32_t ts)
{
    uint32_t h = key_hash(t, k);
    int32_t i = lookup(t, k, h);
    if (i == NIL) {
        i = grab(t, ns);
        if (i == NIL) {
            t->st.untracked++;
            return;
        }
        stream_t *e = &t->s[i];
        memset(e, 0, sizeof *e);
        e->key = *k;
        e->hnext = t->buckets[h];
        t->buckets[h] = i;
        e->probation = RN_RTP_MIN_SEQUENTIAL;
        e->max_seq = (uint16_t)(seq - 1);
        e->pt = pt;
        e->clock_hz = rn_rtp_clock_hz(pt, t->cfg.dynamic_clock_hz);
        list_push_head(t, i, LIST_PROBATION);
        t->st.active++;
    }
    stream_t *e = &t->s[i];
    bool was_probation = e->probation != 0;
    int r = update_seq(e, seq);
    e->seen_ns = ns;
    list_unlink(t, i);
    list_push_head(t, i, e->probation ? LIST_PROBATION : LIST_VALID);
    if (r != SEQ_NEW)
        return;
    if (was_probation || e->pt != pt) { /* validated now, or the codec changed: restart jitter */
        e->pt = pt;
        e->clock_hz = rn_rtp_clock_hz(pt, t->cfg.dynamic_clock_hz);
        e->have_last = false;
    }
    if (e->have_last) {
        double d = (double)(ns - e->last_ns) * e->clock_hz / 1e9 - (double)(int32_t)(ts - e->last_ts);
        e->jitter += (fabs(d) - e->jitter) / 16.0;
    }
    e->have_last = true;
    e->last_ns = ns;
    e->last_ts = ts;
}

/* RTCP report blocks: remember the latest about each SSRC we track (a scan, bounded by the
 * table; RTCP is a few packets per stream every few seconds). */
static void rtcp_blocks(rn_rtp_tracker_t *t, cur_t *c, unsigned rc)
{
    for (unsigned b = 0; b < rc; b++) {
        uint32_t ssrc = rd32(c);
        uint8_t fl = rd8(c);
        skip(c, 3 + 4); /* cumulative lost, extended highest seq */
        uint32_t jit = rd32(c);
        skip(c, 8);     /* LSR, DLSR */
        if (c->bad)
            return;
        for (int32_t i = t->lists[LIST_VALID].head; i != NIL; i = t->s[i].next) {
            stream_t *e = &t->s[i];
            if (e->key.ssrc != ssrc)
                continue;
            e->has_rtcp = true;
            e->rtcp_fl = fl / 256.0;
            e->rtcp_jitter_ms = (double)jit * 1000.0 / e->clock_hz;
        }
    }
}

/* Walks an RTCP compound packet of wire length len. Returns false if its headers are
 * inconsistent; parsing stops quietly where the capture ends. */
static bool on_rtcp(rn_rtp_tracker_t *t, cur_t *c, size_t len)
{
    size_t done = 0;
    while (done < len) {
        if (len - done < 4)
            return false;
        cur_t h = sub(c, 4);
        uint8_t b0 = rd8(&h), pt = rd8(&h);
        uint16_t words = rd16(&h);
        if (h.bad)
            return true; /* capture ended */
        size_t plen = ((size_t)words + 1) * 4;
        if ((b0 >> 6) != 2 || plen > len - done)
            return false;
        cur_t p = sub(c, plen);
        skip(&p, 4);
        unsigned rc = b0 & 0x1f;
        if (pt == 200) {
            skip(&p, 4 + 20); /* sender SSRC, NTP, RTP ts, packet and octet counts */
            rtcp_blocks(t, &p, rc);
        } else if (pt == 201) {
            skip(&p, 4);
            rtcp_blocks(t, &p, rc);
        }
        if (c->len - c->at < plen)
            return true; /* truncated capture */
        c->at += plen;
        done += plen;
    }
    return true;
}

static rn_rtp_pkt_t on_udp(rn_rtp_tracker_t *t, cur_t *c, size_t ip_payload, flow_key_t *k,
                           int64_t ns)
{
    k->sport = rd16(c);
    k->dport = rd16(c);
    uint16_t ulen = rd16(c);
    skip(c, 2);
    if (c->bad || ulen < 8 || ulen > ip_payload)
        return RN_RTP_PKT_MALFORMED;
    size_t plen = ulen - 8u;
    cur_t p = sub(c, plen);
    if (plen < 2)
        return RN_RTP_PKT_OTHER;
    uint8_t b0 = rd8(&p), b1 = rd8(&p);
    if (p.bad)
        return RN_RTP_PKT_MALFORMED;
    if ((b0 >> 6) != 2)
        return RN_RTP_PKT_OTHER;
    if (b1 >= 192 && b1 <= 223) {
        p.at = 0;
        return on_rtcp(t, &p, plen) ? RN_RTP_PKT_RTCP : RN_RTP_PKT_MALFORMED;
    }
    size_t hdr = 12 + 4u * (b0 & 0x0f);
    uint16_t seq = rd16(&p);
    uint32_t ts = rd32(&p);
    k->ssrc = rd32(&p);
    if (p.bad || hdr > plen)
        return RN_RTP_PKT_MALFORMED;
    on_rtp(t, k, ns, b1 & 0x7f, seq, ts);
    return RN_RTP_PKT_RTP;
}

static uint32_t syn_slot(const rn_rtp_tracker_t *t, const flow_key_t *k)
{
    return key_hash(t, k) & (SYN_SLOTS - 1);
}

static rn_rtp_pkt_t on_tcp(rn_rtp_tracker_t *t, cur_t *c, size_t ip_payload, flow_key_t *k,
                           int64_t ns)
{
    k->sport = rd16(c);
    k->dport = rd16(c);
    skip(c, 8);
    uint8_t off = rd8(c) >> 4, flags = rd8(c);
    if (c->bad || off < 5 || off * 4u > ip_payload)
        return RN_RTP_PKT_MALFORMED;
    bool syn = flags & 0x02, ack = flags & 0x10;
    if (syn && !ack) {
        syn_t *s = &t->syn[syn_slot(t, k)];
        s->key = *k;
        s->ns = ns;
        s->used = true;
        return RN_RTP_PKT_TCP;
    }
    if (syn && ack) { /* the reverse of a pending SYN? */
        flow_key_t r = *k;
        memcpy(r.src, k->dst, 16);
        memcpy(r.dst, k->src, 16);
        r.sport = k->dport;
        r.dport = k->sport;
        syn_t *s = &t->syn[syn_slot(t, &r)];
        if (s->used && memcmp(&s->key, &r, sizeof r) == 0 && ns >= s->ns) {
            t->hs_count++;
            t->hs_sum_ms += (double)(ns - s->ns) / 1e6;
            s->used = false;
        }
        return RN_RTP_PKT_TCP;
    }
    return RN_RTP_PKT_OTHER;
}

static rn_rtp_pkt_t on_transport(rn_rtp_tracker_t *t, cur_t *c, uint8_t proto, size_t len,
                                 flow_key_t *k, int64_t ns)
{
    if (proto == 17)
        return on_udp(t, c, len, k, ns);
    if (proto == 6)
        return on_tcp(t, c, len, k, ns);
    return RN_RTP_PKT_OTHER;
}

static rn_rtp_pkt_t on_ipv4(rn_rtp_tracker_t *t, cur_t *c, int64_t ns)
{
    flow_key_t k;
    memset(&k, 0, sizeof k);
    uint8_t vihl = rd8(c);
    skip(c, 1);
    uint16_t total = rd16(c);
    skip(c, 2);
    uint16_t frag = rd16(c);
    skip(c, 1);
    uint8_t proto = rd8(c);
    skip(c, 2);
    rdn(c, k.src, 4);
    rdn(c, k.dst, 4);
    size_t ihl = (vihl & 0x0f) * 4u;
    if (c->bad || vihl >> 4 != 4 || ihl < 20 || total < ihl)
        return RN_RTP_PKT_MALFORMED;
    if (frag & 0x1fff)
        return RN_RTP_PKT_OTHER; /* not the first fragment: no transport header */
    skip(c, ihl - 20);
    if (c->bad)
        return RN_RTP_PKT_MALFORMED;
    k.family = 4;
    cur_t p = sub(c, total - ihl);
    return on_transport(t, &p, proto, total - ihl, &k, ns);
}

static rn_rtp_pkt_t on_ipv6(rn_rtp_tracker_t *t, cur_t *c, int64_t ns)
{
    flow_key_t k;
    memset(&k, 0, sizeof k);
    uint8_t v = rd8(c);
    skip(c, 3);
    size_t plen = rd16(c);
    uint8_t nh = rd8(c);
    skip(c, 1);
    rdn(c, k.src, 16);
    rdn(c, k.dst, 16);
    if (c->bad || v >> 4 != 6)
        return RN_RTP_PKT_MALFORMED;
    cur_t p = sub(c, plen);
    for (int n = 0; n < 4 && (nh == 0 || nh == 43 || nh == 60 || nh == 44); n++) {
        uint8_t next = rd8(&p);
        uint8_t hlen = rd8(&p);
        size_t ext = nh == 44 ? 8 : ((size_t)hlen + 1) * 8;
        if (nh == 44) {
            uint16_t off = rd16(&p);
            if (off & 0xfff8)
                return p.bad ? RN_RTP_PKT_MALFORMED : RN_RTP_PKT_OTHER;
            skip(&p, 4);
        } else {
            skip(&p, ext - 2);
        }
        if (p.bad || ext > plen)
            return RN_RTP_PKT_MALFORMED;
        plen -= ext;
        nh = next;
    }
    k.family = 6;
    return on_transport(t, &p, nh, plen, &k, ns);
}

static rn_rtp_pkt_t on_ethertype(rn_rtp_tracker_t *t, cur_t *c, uint16_t type, int64_t ns)
{
    if (c->bad)
        return RN_RTP_PKT_MALFORMED;
    if (type == 0x0800)
        return on_ipv4(t, c, ns);
    if (type == 0x86dd)
        return on_ipv6(t, c, ns);
    return RN_RTP_PKT_OTHER;
}

static rn_rtp_pkt_t classify(rn_rtp_tracker_t *t, int dlt, int64_t ns, cur_t *c)
{
    uint16_t type;
    switch (dlt) {
    case RN_RTP_DLT_EN10MB:
        skip(c, 12);
        type = rd16(c);
        for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
            skip(c, 2);
            type = rd16(c);
        }
        return on_ethertype(t, c, type, ns);
    case RN_RTP_DLT_LINUX_SLL:
        skip(c, 14);
        return on_ethertype(t, c, rd16(c), ns);
    case RN_RTP_DLT_LINUX_SLL2:
        type = rd16(c);
        skip(c, 18);
        return on_ethertype(t, c, type, ns);
    case RN_RTP_DLT_NULL: {
        uint32_t fam = rd32(c);
        if (fam == 2 || fam == 0x02000000u)
            return on_ethertype(t, c, 0x0800, ns);
        if (fam == 24 || fam == 28 || fam == 30 || fam == 0x18000000u || fam == 0x1c000000u ||
            fam == 0x1e000000u)
            return on_ethertype(t, c, 0x86dd, ns);
        return c->bad ? RN_RTP_PKT_MALFORMED : RN_RTP_PKT_OTHER;
    }
    case RN_RTP_DLT_RAW: case RN_RTP_DLT_RAW_BSD: case RN_RTP_DLT_RAW_LT:
        if (c->len == 0)
            return RN_RTP_PKT_MALFORMED;
        return on_ethertype(t, c, c->p[0] >> 4 == 6 ? 0x86dd : 0x0800, ns);
    default:
        return RN_RTP_PKT_OTHER;
    }
}

rn_rtp_pkt_t rn_rtp_feed(rn_rtp_tracker_t *t, int dlt, int64_t time_ns, const uint8_t *data,
                         size_t caplen)
{
    cur_t c = { data, data ? caplen : 0, 0, false };
    rn_rtp_pkt_t r = classify(t, dlt, time_ns, &c);
    t->st.frames++;
    switch (r) {
    case RN_RTP_PKT_RTP: t->st.rtp++; break;
    case RN_RTP_PKT_RTCP: t->st.rtcp++; break;
    case RN_RTP_PKT_TCP: t->st.tcp++; break;
    case RN_RTP_PKT_MALFORMED: t->st.malformed++; break;
    default: t->st.other++; break;
    }
    return r;
}

/* ---- reports -------------------------------------------------------------------------------- */

double rn_rtp_mos(const rn_rtp_config_t *c, double loss_pct, double jitter_ms)
{
    if (!(loss_pct > 0))
        loss_pct = 0;
    if (loss_pct > 100)
        loss_pct = 100;
    if (!(jitter_ms > 0))
        jitter_ms = 0;
    double d = c->base_delay_ms + 2 * jitter_ms;
    double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
    double ie = c->codec_ie + (95 - c->codec_ie) * loss_pct / (loss_pct + c->codec_bpl);
    double r = 93.2 - id - ie;
    if (r <= 0)
        return 1;
    if (r >= 100)
        return 4.5;
    double mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
    return mos < 1 ? 1 : mos;
}

static double pct(int64_t lost, int64_t expected)
{
    if (expected <= 0 || lost <= 0)
        return 0;
    return lost >= expected ? 100 : 100.0 * (double)lost / (double)expected;
}

static void fill_report(const rn_rtp_tracker_t *t, const stream_t *e, int64_t expected,
                        rn_rtp_stream_report_t *r)
{
    memset(r, 0, sizeof *r);
    r->ssrc = e->key.ssrc;
    r->family = e->key.family;
    memcpy(r->src, e->key.src, 16);
    memcpy(r->dst, e->key.dst, 16);
    r->sport = e->key.sport;
    r->dport = e->key.dport;
    r->payload_type = e->pt;
    r->clock_hz = e->clock_hz;
    r->packets = e->received - e->received_prior;
    r->expected = expected - e->expected_prior;
    r->lost = r->expected - (int64_t)r->packets;
    r->lost_pct = pct(r->lost, r->expected);
    r->jitter_ms = e->jitter * 1000.0 / e->clock_hz;
    r->mos = rn_rtp_mos(&t->cfg, r->lost_pct, r->jitter_ms);
    r->received = e->received;
    r->duplicates = e->dup;
    r->reordered = e->reord;
    r->expected_total = expected;
    r->lost_total = expected - (int64_t)e->received;
    r->cycles = e->cycles;
    r->has_rtcp = e->has_rtcp;
    r->rtcp_fraction_lost = e->rtcp_fl;
    r->rtcp_jitter_ms = e->rtcp_jitter_ms;
}

/* Drops the entries of one list idle since before now - idle_ns (oldest first). */
static void expire(rn_rtp_tracker_t *t, uint8_t which, int64_t now)
{
    int32_t i;
    while ((i = t->lists[which].tail) != NIL && now - t->s[i].seen_ns > t->cfg.idle_ns) {
        release(t, i);
        t->st.expired++;
    }
}

void rn_rtp_report(rn_rtp_tracker_t *t, int64_t now_ns, rn_rtp_stream_fn cb, void *ctx,
                   rn_rtp_summary_t *sum)
{
    rn_rtp_summary_t s;
    memset(&s, 0, sizeof s);
    double jsum = 0;
    for (int32_t i = t->lists[LIST_VALID].head; i != NIL; i = t->s[i].next) {
        stream_t *e = &t->s[i];
        int64_t expected = (int64_t)e->cycles * SEQ_MOD + e->max_seq - e->base_seq + 1;
        rn_rtp_stream_report_t r;
        fill_report(t, e, expected, &r);
        e->received_prior = e->received;
        e->expected_prior = expected;
        if (r.packets == 0)
            continue;
        s.streams++;
        s.packets += r.packets;
        s.expected += r.expected;
        s.lost += r.lost;
        jsum += r.jitter_ms * (double)r.packets;
        if (cb)
            cb(ctx, &r);
    }
    if (s.streams) {
        s.lost_pct = pct(s.lost, s.expected);
        s.jitter_ms = jsum / (double)s.packets;
        s.mos = rn_rtp_mos(&t->cfg, s.lost_pct, s.jitter_ms);
    }
    s.tcp_handshakes = t->hs_count;
    s.tcp_rtt_ms = t->hs_count ? t->hs_sum_ms / (double)t->hs_count : 0;
    t->hs_count = 0;
    t->hs_sum_ms = 0;
    expire(t, LIST_VALID, now_ns);
    expire(t, LIST_PROBATION, now_ns);
    if (sum)
        *sum = s;
}

void rn_rtp_stats(const rn_rtp_tracker_t *t, rn_rtp_stats_t *out)
{
    *out = t->st;
}

/* ---- life ------------------------------------------------------------------------------------ */

void rn_rtp_config_default(rn_rtp_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->max_streams = 1024;
    c->idle_ns = 10000000000LL;
    c->protect_ns = 1000000000LL;
    c->dynamic_clock_hz = 90000;
    c->codec_ie = 0;
    c->codec_bpl = 25.1;
    c->base_delay_ms = 20;
}

int rn_rtp_tracker_new(const rn_rtp_config_t *c, rn_rtp_tracker_t **out)
{
    rn_rtp_config_t def;
    if (!c) {
        rn_rtp_config_default(&def);
        c = &def;
    }
    if (c->max_streams == 0 || c->max_streams > RN_RTP_MAX_STREAMS_LIMIT ||
        c->dynamic_clock_hz == 0 || !(c->codec_bpl > 0) || c->idle_ns <= 0 || c->protect_ns < 0)
        return -EINVAL;
    rn_rtp_tracker_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->cfg = *c;
    t->n_buckets = 1;
    while (t->n_buckets < 2 * c->max_streams)
        t->n_buckets <<= 1;
    t->s = calloc(c->max_streams, sizeof *t->s);
    t->buckets = malloc(t->n_buckets * sizeof *t->buckets);
    if (!t->s || !t->buckets) {
        rn_rtp_tracker_free(t);
        return -ENOMEM;
    }
    for (uint32_t b = 0; b < t->n_buckets; b++)
        t->buckets[b] = NIL;
    for (int l = 0; l < N_LISTS; l++)
        t->lists[l].head = t->lists[l].tail = NIL;
    for (uint32_t i = c->max_streams; i-- > 0;)
        list_push_head(t, (int32_t)i, LIST_FREE);
    *out = t;
    return 0;
}

void rn_rtp_tracker_free(rn_rtp_tracker_t *t)
{
    if (!t)
        return;
    free(t->s);
    free(t->buckets);
    free(t);
}
