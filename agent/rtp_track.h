/* RTP tracker: VC media quality from captured packet headers.
 *
 * Pure code, no I/O and no libpcap: agent/pcap_capture.c hands it each captured frame (link type,
 * capture time, the first caplen bytes), and the agent asks it for a report once per interval.
 *
 * Parsing. Every frame is read through a bounds-checked cursor whose first error sticks:
 * Ethernet (with up to two VLAN tags), Linux cooked (SLL, SLL2) or raw IP; IPv4 (options,
 * first fragments only) or IPv6 (no extension headers); then UDP carrying RTP or RTCP (told apart
 * by the second byte, RFC 5761: 192..223 is RTCP), or TCP (SYN and SYN/ACK only, for passive
 * handshake RTT). Anything short, truncated or inconsistent is counted as malformed and ignored.
 *
 * Streams. A stream is keyed by SSRC and 5-tuple. Sequence numbers follow RFC 3550 A.1: a new
 * source is on probation until RN_RTP_MIN_SEQUENTIAL packets arrive in sequence, the sequence
 * is extended with a wrap count (cycles), a jump larger than MAX_DROPOUT resynchronises after two
 * packets. Expected = extended highest seq - base + 1, lost = expected - received (A.3); received
 * does not count duplicates, which a 128-packet window behind the highest seq detects (a packet
 * older than that is taken as new, RFC style). A packet below the highest seq that is not a
 * duplicate is counted as reordered. Interarrival jitter is RFC 3550 A.8, in RTP timestamp
 * units, from the capture time, with the clock rate of the payload type (static types by RFC
 * 3551; dynamic types use the configured rate).
 *
 * Memory is fixed at creation: a table of max_streams entries, a hash index with a secret seed,
 * and two LRU lists. New sources live on the probation list; a new source evicts the least
 * recently seen probation entry, or else a validated stream idle for longer than protect_ns, or
 * else it is not tracked (counted in untracked). So a flood of bogus SSRCs churns only the
 * probation list and cannot push out streams that are carrying media. Streams idle for idle_ns
 * are dropped at the next report.
 *
 * MOS. A documented simplification of the ITU-T G.107 E-model (as in Cole & Rosenbluth, 2001):
 *   d      = base_delay_ms + 2 * jitter_ms               (one-way mouth-to-ear, jitter buffer 2J)
 *   Id     = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)     (H: step function)
 *   Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl)          (G.107 eq. 7-29 with BurstR = 1)
 *   R      = 93.2 - Id - Ie_eff                          (default R0 - Is - A)
 *   MOS    = 1 if R < 0; 4.5 if R > 100; else 1 + 0.035 R + R (R - 60)(100 - R) 7e-6
 * Ppl is the loss in percent. Ie and Bpl are the codec's (G.113 Appendix I): G.711 with PLC is
 * Ie 0, Bpl 25.1 (the defaults); G.729A is Ie 11, Bpl 19.0. The one-way network delay cannot be
 * seen passively; base_delay_ms stands for it plus packetisation. */
#ifndef RN_RTP_TRACK_H
#define RN_RTP_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RN_RTP_MIN_SEQUENTIAL 2
#define RN_RTP_MAX_DROPOUT 3000
#define RN_RTP_MAX_MISORDER 100
#define RN_RTP_MAX_STREAMS_LIMIT 65536u

/* Link types of captured frames: the DLT_* values of libpcap, spelled out here so this module
 * needs no libpcap header. */
enum {
    RN_RTP_DLT_NULL = 0,     /* BSD loopback: 4-byte address family, host order */
    RN_RTP_DLT_EN10MB = 1,   /* Ethernet */
    RN_RTP_DLT_RAW = 12,     /* raw IPv4/IPv6 (Linux value) */
    RN_RTP_DLT_RAW_BSD = 14, /* raw IP on some BSDs */
    RN_RTP_DLT_RAW_LT = 101, /* LINKTYPE_RAW, as stored in pcap files */
    RN_RTP_DLT_LINUX_SLL = 113,
    RN_RTP_DLT_LINUX_SLL2 = 276,
};

/* What rn_rtp_feed found in a frame. */
typedef enum {
    RN_RTP_PKT_OTHER,     /* well-formed, not RTP/RTCP/TCP handshake (ARP, ICMP, fragments...) */
    RN_RTP_PKT_RTP,       /* an RTP packet (tracked, on probation, or untracked) */
    RN_RTP_PKT_RTCP,      /* an RTCP compound packet */
    RN_RTP_PKT_TCP,       /* a TCP SYN or SYN/ACK */
    RN_RTP_PKT_MALFORMED, /* truncated or inconsistent headers; counted, otherwise ignored */
} rn_rtp_pkt_t;

typedef struct {
    uint32_t max_streams;      /* table size, 1..RN_RTP_MAX_STREAMS_LIMIT (default 1024) */
    int64_t idle_ns;           /* a stream silent this long expires (default 10 s) */
    int64_t protect_ns;        /* a validated stream seen this recently is never evicted (1 s) */
    uint32_t dynamic_clock_hz; /* RTP clock of payload types 96..127 (default 90000) */
    double codec_ie;           /* E-model equipment impairment Ie (default 0, G.711) */
    double codec_bpl;          /* E-model packet-loss robustness Bpl (default 25.1, G.711+PLC) */
    double base_delay_ms;      /* one-way delay assumed besides jitter buffering (default 20) */
    uint64_t hash_seed;        /* secret seed of the stream index; 0 is allowed (tests) */
} rn_rtp_config_t;

/* Fills c with the defaults above. */
void rn_rtp_config_default(rn_rtp_config_t *c);

/* One stream's figures over the last interval (since the previous report), and its totals. */
typedef struct {
    uint32_t ssrc;
    uint8_t family;            /* 4 or 6 */
    uint8_t src[16], dst[16];  /* addresses (IPv4 in the first 4 bytes) */
    uint16_t sport, dport;
    uint8_t payload_type;
    uint32_t clock_hz;
    uint64_t packets;          /* received in the interval, duplicates excluded */
    int64_t expected, lost;    /* in the interval (lost may be negative after a late packet) */
    double lost_pct;           /* 100 * lost / expected, clamped to 0..100; 0 when expected 0 */
    double jitter_ms;          /* RFC 3550 jitter at the report, in milliseconds */
    double mos;
    /* totals since the stream was validated */
    uint64_t received, duplicates, reordered;
    int64_t expected_total, lost_total;
    uint32_t cycles;           /* sequence wraps (count of 65536 steps) */
    /* the last RTCP report block about this SSRC, if any */
    bool has_rtcp;
    double rtcp_fraction_lost; /* 0..1 */
    double rtcp_jitter_ms;
} rn_rtp_stream_report_t;

/* The whole capture over the last interval: what the agent sends as one "rtp" sample. */
typedef struct {
    uint32_t streams;          /* validated streams that received packets in the interval */
    uint64_t packets;          /* their packets in the interval */
    int64_t expected, lost;
    double lost_pct;           /* 100 * sum lost / sum expected, clamped; 0 when none */
    double jitter_ms;          /* mean of the streams' jitter, weighted by packets */
    double mos;                /* MOS of lost_pct and jitter_ms; 0 when no streams */
    uint64_t tcp_handshakes;   /* SYN -> SYN/ACK pairs matched in the interval */
    double tcp_rtt_ms;         /* their mean time; 0 when none */
} rn_rtp_summary_t;

/* Counters since creation. */
typedef struct {
    uint64_t frames, rtp, rtcp, tcp, other, malformed;
    uint64_t untracked;        /* RTP packets of new sources that found no free entry */
    uint64_t evicted, expired;
    uint32_t active;           /* entries in use now */
} rn_rtp_stats_t;

typedef struct rn_rtp_tracker rn_rtp_tracker_t;

/* Creates a tracker with all its memory (about 250 bytes per stream). c may be NULL for the
 * defaults. Returns 0, -EINVAL (max_streams out of range, clock 0, Bpl <= 0) or -ENOMEM. */
int rn_rtp_tracker_new(const rn_rtp_config_t *c, rn_rtp_tracker_t **out);

/* Frees the tracker. NULL is allowed. */
void rn_rtp_tracker_free(rn_rtp_tracker_t *t);

/* Accounts one captured frame: dlt is its link type (RN_RTP_DLT_*), time_ns the capture time
 * (any epoch, but one clock for all frames), data/caplen the captured bytes (borrowed).
 * Never allocates. Returns what the frame was. */
rn_rtp_pkt_t rn_rtp_feed(rn_rtp_tracker_t *t, int dlt, int64_t time_ns, const uint8_t *data,
                         size_t caplen);

/* Called by rn_rtp_report for each stream that is validated and received packets in the
 * interval; the report is borrowed until the call returns. */
typedef void (*rn_rtp_stream_fn)(void *ctx, const rn_rtp_stream_report_t *r);

/* Closes the interval at now_ns: calls cb (may be NULL) per active stream, fills sum (may be
 * NULL), starts the next interval, and expires streams idle for idle_ns. */
void rn_rtp_report(rn_rtp_tracker_t *t, int64_t now_ns, rn_rtp_stream_fn cb, void *ctx,
                   rn_rtp_summary_t *sum);

/* Copies the counters. */
void rn_rtp_stats(const rn_rtp_tracker_t *t, rn_rtp_stats_t *out);

/* The simplified E-model above: MOS of a loss (percent) and jitter (ms) with config c's codec
 * and delay. Exposed for tests and for the collector's documentation. */
double rn_rtp_mos(const rn_rtp_config_t *c, double loss_pct, double jitter_ms);

/* Returns the RTP clock rate of a payload type (RFC 3551 static types), or dynamic_hz for
 * dynamic and unassigned types. */
uint32_t rn_rtp_clock_hz(uint8_t payload_type, uint32_t dynamic_hz);

#endif
