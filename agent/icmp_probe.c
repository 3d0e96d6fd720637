/* ICMP echo prober: latency, jitter and loss to every target of the plan, from the agent's loop.
 *
 * Why it exists: link alarms and SLA reports need many echo requests per interval per target
 * (one packet per probe, as blackbox_exporter sends, says nothing about jitter), and fping-style
 * precision without a process per target.
 *
 * How it works. One socket per address family, watched by a uv_poll: an unprivileged ICMP
 * datagram ("ping") socket where net.ipv4.ping_group_range allows it, else a raw socket. Rounds
 * follow a drift-free schedule (start + k * interval, jittered once at the start). In a round each
 * target sends `count` echo requests spread over the first half of the interval; target t's k-th
 * request is due at offset_t + k * step_t, where step_t = (interval / 2) / count and offset_t
 * staggers the targets inside the first step, on a 1 ms grid so that the targets sharing a slot
 * are due at the same instant. A binary heap keyed by due time holds the targets that still have
 * requests to send this round, so a wake-up costs O(log n) per request, not a scan of every target.
 * One timer fires at the earliest due request and sends every request due within BATCH_NS in one
 * sendmmsg() per socket. The timer is a timerfd (nanosecond resolution, watched by a uv_poll) so
 * requests leave within tens of microseconds of their due time; a uv_timer (millisecond
 * resolution) stands in if timerfd_create fails. At the round's end (the next round's start) the
 * sockets are drained and one "icmp" sample per target is emitted.
 *
 * Efficiency (tests/bench/icmp_vs_fping.sh): fping spends most of its time in one sendto() and
 * one recvmsg() per packet. We send a slot's requests with one sendmmsg(), read replies with
 * recvmmsg() (a short read means the socket is empty: no extra EAGAIN call), and a raw IPv4
 * socket passes only echo replies (ICMP_FILTER) that carry our echo id (a BPF socket filter), so
 * echo requests and other processes' replies, which every raw socket also sees, never wake us.
 *
 * Matching replies (fping's seqmap): every request takes the next 16-bit sequence number, and
 * seqmap[seq] remembers (target, probe index, round). A reply counts only if its sequence maps
 * to a probe of the current round, its source is that target's address, it is the first reply
 * to that probe, and the kernel received it before the round ended. Raw sockets also see other
 * processes' traffic, so they also check the echo id; a datagram socket's id is rewritten by the
 * kernel to the socket's port and the kernel already filtered on it.
 *
 * Timing: RTTs are on CLOCK_MONOTONIC, so a step of the wall clock never gives a zero or a spike
 * the size of the step. CLOCK_MONOTONIC is read just before and after sendmmsg() and each
 * request's send time interpolated between the two by its place in the batch. The receive time
 * is the kernel's (SO_TIMESTAMPNS), so loop latency does not inflate RTTs; but the kernel stamps
 * received packets on CLOCK_REALTIME only (SO_TIMESTAMPING's software stamps too; there is no
 * monotonic receive stamp for a socket), so each stamp is moved to the monotonic clock by the
 * offset between the two clocks read when the packet is taken (rx_mono). That is exact unless
 * the wall clock is stepped between the packet's arrival and that read (microseconds); then the
 * moved stamp lands before the request was sent or after now, and the monotonic time of the read
 * stands in (an RTT late by the loop's latency, never by the step). Reading CLOCK_MONOTONIC in
 * user space alone would add the loop's latency to every RTT.
 * All per-target state is allocated in set_targets; nothing is allocated per packet. */
#include "icmp_probe.h"

#include <errno.h>
#include <math.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "jitter.h"
#include "log.h"
#include "metrics.h"
#include "sources.h"
#include "util.h"

#define PAYLOAD_LEN 56           /* as ping(8): 64-byte ICMP messages */
#define MAX_COUNT 1000           /* echo requests per target and round */
#define BATCH_NS 200000ull       /* requests due within 0.2 ms go out together */
#define SLOT_NS 1000000ull       /* target offsets sit on a 1 ms grid */
#define MAX_JITTER_NS 100000000ull
#define SEQ_SLOTS 65536
#define RECV_BURST 256           /* replies read per readable callback */
#define SEND_VLEN 32             /* requests per sendmmsg */
#define RECV_VLEN 32             /* replies per recvmmsg */
#define RECV_BUF 256             /* bytes kept of a reply: IP header + ICMP header + payload */
#define PKT_LEN (8 + PAYLOAD_LEN)

#ifndef ICMP_FILTER /* <linux/icmp.h> clashes with <netinet/ip_icmp.h> */
#define ICMP_FILTER 1
struct icmp_filter {
    uint32_t data; /* bit per ICMP type: set = blocked */
};
#endif


typedef struct {
    uint32_t target; /* index + 1; 0 = never used */
    uint16_t probe;
    uint16_t round;  /* low 16 bits of the round number */
} seq_slot_t;

typedef struct {
    char *name;
    int family;
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr;
    socklen_t addrlen;
    uint32_t count, next, n_recv;
    rn_mono_ns_t offset, step;
    int64_t *sent_ns; /* CLOCK_MONOTONIC at sendto, per probe */
    double *rtt_ms;   /* per probe; < 0 when no reply (yet) */
} target_t;

/* The reply buffers of one recvmmsg. */
typedef struct {
    struct mmsghdr msg[RECV_VLEN];
    struct iovec iov[RECV_VLEN];
    struct sockaddr_storage from[RECV_VLEN];
    uint8_t buf[RECV_VLEN][RECV_BUF];
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
        struct cmsghdr align;
    } ctl[RECV_VLEN];
} recv_vec_t;

typedef struct {
    rn_icmp_prober_t *p;
    uv_poll_t poll;
    int fd, family;
    bool raw, open;
    /* requests queued for the next sendmmsg */
    unsigned n_q;
    struct mmsghdr q_msg[SEND_VLEN];
    struct iovec q_iov[SEND_VLEN];
    uint8_t q_pkt[SEND_VLEN][PKT_LEN];
    uint32_t q_target[SEND_VLEN], q_probe[SEND_VLEN];
    rn_mono_ns_t q_due[SEND_VLEN];
} icmp_sock_t;

struct rn_icmp_prober {
    uv_loop_t *loop;
    rn_sample_fn emit;
    void *ctx;
    icmp_sock_t s4, s6;
    uv_timer_t timer; /* stands in for the timerfd when there is none */
    uv_poll_t tpoll;  /* watches tfd */
    int tfd;          /* timerfd, or -1 */
    uint32_t *heap;   /* target indexes with requests left this round, by next due time */
    size_t heap_n;
    recv_vec_t *rv;   /* recvmmsg buffers, shared by both sockets */
    target_t *targets;
    size_t n_targets;
    uint32_t interval_s, max_count;
    double *scratch; /* max_count RTTs for rn_icmp_stats */
    uint16_t ident, next_seq;
    uint32_t round;
    bool in_round;
    rn_mono_ns_t sched_start, round_start, round_end;
    int64_t round_end_mono, round_wall_ms; /* round_end on CLOCK_MONOTONIC itself */
    seq_slot_t *seqmap;
    uint64_t late, sent_total;
    rn_icmp_send_hook_fn send_hook;
    void *send_hook_ctx;
    int pending_closes;
    void (*close_cb)(void *data);
    void *close_data;
};

static void on_icmp_readable(uv_poll_t *h, int status, int events);
static void on_round_timer(uv_timer_t *timer);

/* ---- statistics ---------------------------------------------------------------------------- */

void rn_icmp_stats(const double *rtts_ms, size_t n_recv, size_t n_sent, rn_icmp_stats_t *out)
{
    out->loss_pct = n_sent ? 100.0 * (double)(n_sent - (n_recv < n_sent ? n_recv : n_sent)) /
                                 (double)n_sent
                           : NAN;
    if (n_recv == 0) {
        out->min = out->avg = out->max = out->sd = out->jitter = NAN;
        return;
    }
    double min = rtts_ms[0], max = rtts_ms[0], sum = 0, jit = 0;
    for (size_t i = 0; i < n_recv; i++) {
        min = rtts_ms[i] < min ? rtts_ms[i] : min;
        max = rtts_ms[i] > max ? rtts_ms[i] : max;
        sum += rtts_ms[i];
        if (i > 0)
            jit += fabs(rtts_ms[i] - rtts_ms[i - 1]);
    }
    double avg = sum / (double)n_recv, var = 0;
    for (size_t i = 0; i < n_recv; i++)
        var += (rtts_ms[i] - avg) * (rtts_ms[i] - avg);
    out->min = min;
    out->max = max;
    out->avg = avg;
    out->sd = sqrt(var / (double)n_recv);
    out->jitter = n_recv > 1 ? jit / (double)(n_recv - 1) : 0;
}

/* ---- sockets -------------------------------------------------------------------------------- */

/* Attaches to a raw socket a BPF filter that passes only ICMP messages carrying our echo id, so
 * replies to other processes (a raw socket sees them all) are dropped in the kernel. Returns
 * nothing: without the filter, parse_reply() still checks the id. */
static void sock_filter_ident(const icmp_sock_t *s, uint16_t ident)
{
    /* IPv4 raw sockets see the IP header (skip IHL * 4 bytes); IPv6 ones start at ICMPv6 */
    struct sock_filter v4[] = {
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_filter v6[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = s->family == AF_INET
                                 ? (struct sock_fprog){ sizeof v4 / sizeof v4[0], v4 }
                                 : (struct sock_fprog){ sizeof v6 / sizeof v6[0], v6 };
    if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        rn_debug("icmp: no echo id filter on the raw socket: %s", rn_strerror(-errno));
}

/* Opens the ICMP socket of one family: datagram first, raw if the kernel refuses that. Returns
 * 0 or a negative errno (the family is then unavailable). */
static int sock_open(rn_icmp_prober_t *p, icmp_sock_t *s, int family)
{
    int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    const char *fam = family == AF_INET ? "IPv4" : "IPv6";
    s->p = p;
    s->family = family;
    s->raw = false;
    s->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (s->fd < 0 && (errno == EACCES || errno == EPERM)) {
        s->raw = true;
        s->fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    }
    if (s->fd < 0) {
        int err = -errno;
        rn_warn("icmp: no %s ICMP socket (datagram or raw): %s", fam, rn_strerror(err));
        return err;
    }
    int one = 1, rcvbuf = 256 * 1024;
    setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (family == AF_INET && s->raw) { /* only echo replies wake us */
        struct icmp_filter f = { ~(1u << ICMP_ECHOREPLY) };
        setsockopt(s->fd, SOL_RAW, ICMP_FILTER, &f, sizeof f);
    }
    if (family == AF_INET6 && s->raw) {
        struct icmp6_filter f;
        ICMP6_FILTER_SETBLOCKALL(&f);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
        setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
    }
    if (s->raw)
        sock_filter_ident(s, p->ident);
    int rc = uv_poll_init(p->loop, &s->poll, s->fd);
    if (rc != 0) {
        close(s->fd);
        return rc;
    }
    s->open = true;
    uv_poll_start(&s->poll, UV_READABLE, on_icmp_readable);
    rn_info("icmp: %s probes use a %s socket", fam,
            s->raw ? "raw (ping_group_range excludes us)" : "datagram (unprivileged ping)");
    return 0;
}

/* Returns the 16-bit one's complement checksum of buf. */
static uint16_t inet_cksum(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (len & 1)
        sum += (uint32_t)b[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

/* Returns the time of clock id in nanoseconds. */
static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Returns CLOCK_MONOTONIC in ns: the RTT clock (rn_clock_mono_ns may be a test's stand-in). */
static int64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* Sends the requests queued on a socket with sendmmsg, stamping their send times first.
 * Returns nothing: a request the kernel refuses counts as a lost probe. */
static void sock_flush(rn_icmp_prober_t *p, icmp_sock_t *s)
{
    unsigned n = s->n_q, done = 0;
    if (n == 0)
        return;
    s->n_q = 0;
    rn_mono_ns_t mono = p->send_hook ? rn_clock_mono_ns() : 0;
    for (unsigned i = 0; i < n && p->send_hook; i++)
        p->send_hook(p->send_hook_ctx, s->q_due[i], mono);
    p->sent_total += n;
    int64_t before = mono_ns();
    while (done < n) {
        int rc = sendmmsg(s->fd, &s->q_msg[done], n - done, 0);
        if (rc > 0) {
            done += (unsigned)rc;
            continue;
        }
        if (rc < 0 && errno == EINTR)
            continue;
        rn_debug("icmp: send to %s failed: %s", p->targets[s->q_target[done]].name,
                 rc < 0 ? rn_strerror(-errno) : "nothing sent");
        done++; /* skip the refused request, send the rest */
    }
    /* request i left between before and after, after the i before it: interpolate, so batching
     * adds at most a share of one send's cost to an RTT (on loopback the kernel answers each
     * request inside the same call, so request i's reply comes after i requests' worth of work) */
    int64_t span = mono_ns() - before;
    for (unsigned i = 0; i < n; i++) {
        target_t *t = &p->targets[s->q_target[i]];
        t->sent_ns[s->q_probe[i]] = before + span * (int64_t)i / (int64_t)n;
    }
}

/* Queues probe k of target ti (due at due) for its socket's next sendmmsg, flushing a full queue
 * first. Returns nothing. */
static void queue_probe(rn_icmp_prober_t *p, size_t ti, uint32_t k, rn_mono_ns_t due)
{
    target_t *t = &p->targets[ti];
    icmp_sock_t *s = t->family == AF_INET ? &p->s4 : &p->s6;
    if (s->n_q == SEND_VLEN)
        sock_flush(p, s);
    unsigned i = s->n_q++;
    uint8_t *pkt = s->q_pkt[i];
    uint16_t seq = p->next_seq++;
    memset(pkt, 0, PKT_LEN);
    pkt[0] = t->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
    memcpy(pkt + 4, &(uint16_t){ htons(p->ident) }, 2);
    memcpy(pkt + 6, &(uint16_t){ htons(seq) }, 2);
    for (size_t b = 8; b < PKT_LEN; b++)
        pkt[b] = (uint8_t)b;
    if (t->family == AF_INET) {
        uint16_t ck = inet_cksum(pkt, PKT_LEN);
        memcpy(pkt + 2, &ck, 2);
    } /* ICMPv6: the kernel computes the checksum over the pseudo-header */
    p->seqmap[seq] = (seq_slot_t){ (uint32_t)ti + 1, (uint16_t)k, (uint16_t)p->round };
    s->q_iov[i] = (struct iovec){ pkt, PKT_LEN };
    s->q_msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &t->addr, .msg_namelen = t->addrlen,
                                                 .msg_iov = &s->q_iov[i], .msg_iovlen = 1 } };
    s->q_target[i] = (uint32_t)ti;
    s->q_probe[i] = k;
    s->q_due[i] = due;
}

/* Parses one received datagram. Returns true and sets *seq when it is an echo reply for us. */
static bool parse_reply(const icmp_sock_t *s, const uint8_t *buf, size_t len, uint16_t ident,
                        uint16_t *seq)
{
    if (s->family == AF_INET && s->raw) { /* raw IPv4 sockets deliver the IP header too */
        if (len < sizeof(struct ip))
            return false;
        size_t hl = (size_t)(buf[0] & 0x0f) * 4;
        if (hl < sizeof(struct ip) || hl > len)
            return false;
        buf += hl;
        len -= hl;
    }
    if (len < 8)
        return false;
    uint8_t want = s->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
    uint16_t id, sq;
    memcpy(&id, buf + 4, 2);
    memcpy(&sq, buf + 6, 2);
    if (buf[0] != want || (s->raw && ntohs(id) != ident))
        return false;
    *seq = ntohs(sq);
    return true;
}

/* Returns true if the sender of a reply is the target's address. */
static bool same_source(const target_t *t, const struct sockaddr_storage *from)
{
    if (from->ss_family != t->family)
        return false;
    if (t->family == AF_INET)
        return ((const struct sockaddr_in *)from)->sin_addr.s_addr == t->addr.v4.sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr, &t->addr.v6.sin6_addr,
                  sizeof t->addr.v6.sin6_addr) == 0;
}

/* Returns the receive time of a message on CLOCK_MONOTONIC: the kernel's CLOCK_REALTIME stamp
 * moved by the clocks' offset read now (see the top), or now when there is no stamp or the moved
 * one lands after now (take_reply also refuses one before the send). */
static int64_t recv_time(struct msghdr *mh)
{
    int64_t mono = mono_ns(), off = clock_ns(CLOCK_REALTIME) - mono;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            int64_t rx = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - off;
            return rx <= mono ? rx : mono;
        }
    }
    return mono;
}

/* Accounts one echo reply with sequence seq from `from`, received at rx_ns (CLOCK_MONOTONIC).
 * Returns nothing;
 * replies that are not for a probe of this round, duplicates and late replies are dropped. */
static void take_reply(rn_icmp_prober_t *p, uint16_t seq, const struct sockaddr_storage *from,
                       int64_t rx_ns)
{
    seq_slot_t slot = p->seqmap[seq];
    if (!p->in_round || slot.target == 0 || slot.target > p->n_targets ||
        slot.round != (uint16_t)p->round) {
        p->late++;
        return;
    }
    target_t *t = &p->targets[slot.target - 1];
    if (slot.probe >= t->next || t->rtt_ms[slot.probe] >= 0 || !same_source(t, from))
        return;
    if (rx_ns < t->sent_ns[slot.probe]) /* the wall clock stepped as it came in: see the top */
        rx_ns = mono_ns();
    if (rx_ns > p->round_end_mono) {
        p->late++;
        return;
    }
    double rtt = (double)(rx_ns - t->sent_ns[slot.probe]) / 1e6;
    t->rtt_ms[slot.probe] = rtt > 0 ? rtt : 0;
    t->n_recv++;
}

/* Reads every pending datagram of a socket (at most about RECV_BURST) with recvmmsg. Returns the
 * number read. */
static int sock_drain(rn_icmp_prober_t *p, icmp_sock_t *s)
{
    recv_vec_t *rv = p->rv;
    int total = 0;
    while (total < RECV_BURST) {
        for (unsigned i = 0; i < RECV_VLEN; i++) {
            rv->iov[i] = (struct iovec){ rv->buf[i], RECV_BUF };
            rv->msg[i].msg_hdr = (struct msghdr){ .msg_name = &rv->from[i],
                                                  .msg_namelen = sizeof rv->from[i],
                                                  .msg_iov = &rv->iov[i], .msg_iovlen = 1,
                                                  .msg_control = rv->ctl[i].buf,
                                                  .msg_controllen = sizeof rv->ctl[i].buf };
        }
        int n = recvmmsg(s->fd, rv->msg, RECV_VLEN, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break; /* EAGAIN, or an ICMP error queued on a datagram socket */
        for (int i = 0; i < n; i++) {
            size_t len = rv->msg[i].msg_len < RECV_BUF ? rv->msg[i].msg_len : RECV_BUF;
            uint16_t seq;
            if (parse_reply(s, rv->buf[i], len, p->ident, &seq))
                take_reply(p, seq, &rv->from[i], recv_time(&rv->msg[i].msg_hdr));
        }
        total += n;
        if (n < RECV_VLEN)
            break; /* a short read: the socket is empty */
    }
    return total;
}

static void on_icmp_readable(uv_poll_t *h, int status, int events)
{
    icmp_sock_t *s = container_of(h, icmp_sock_t, poll);
    sock_drain(s->p, s);
}

/* ---- rounds ---------------------------------------------------------------------------------- */

/* Emits the samples of the round that ends now. Returns nothing. */
static void round_finish(rn_icmp_prober_t *p)
{
    if (p->s4.open)
        sock_drain(p, &p->s4);
    if (p->s6.open)
        sock_drain(p, &p->s6);
    p->in_round = false;
    for (size_t i = 0; i < p->n_targets; i++) {
        const target_t *t = &p->targets[i];
        size_t n = 0;
        for (uint32_t k = 0; k < t->next; k++)
            if (t->rtt_ms[k] >= 0)
                p->scratch[n++] = t->rtt_ms[k];
        rn_icmp_stats_t st;
        rn_icmp_stats(p->scratch, n, t->next, &st);
        double g[RN_ICMP_N] = { [RN_ICMP_RTTMIN] = st.min, [RN_ICMP_RTTAVG] = st.avg,
                                [RN_ICMP_RTTMAX] = st.max, [RN_ICMP_RTTSD] = st.sd,
                                [RN_ICMP_JITTER] = st.jitter, [RN_ICMP_LOSS] = st.loss_pct,
                                [RN_ICMP_SENT] = t->next, [RN_ICMP_RECV] = (double)n };
        rn_value_t v[RN_ICMP_N];
        for (size_t m = 0; m < RN_ICMP_N; m++)
            v[m] = (rn_value_t){ isnan(g[m]) ? RN_VALUE_UNKNOWN : RN_VALUE_GAUGE, 0, g[m] };
        p->emit(p->ctx, RN_SRC_ICMP, "", t->name, p->round_wall_ms, v, RN_ICMP_N, 0);
    }
}

/* Returns the due time of target t's next request, or UINT64_MAX when it has sent them all. */
static rn_mono_ns_t next_due(const rn_icmp_prober_t *p, const target_t *t)
{
    if (t->next >= t->count)
        return UINT64_MAX;
    return p->round_start + t->offset + (rn_mono_ns_t)t->next * t->step;
}

/* Returns the due time of the request at the heap's position i. */
static rn_mono_ns_t heap_key(const rn_icmp_prober_t *p, size_t i)
{
    return next_due(p, &p->targets[p->heap[i]]);
}

/* Moves the heap entry at i down until its children are due no earlier. Returns nothing. */
static void heap_sift_down(rn_icmp_prober_t *p, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->heap_n && heap_key(p, l) < heap_key(p, m))
            m = l;
        if (r < p->heap_n && heap_key(p, r) < heap_key(p, m))
            m = r;
        if (m == i)
            return;
        uint32_t tmp = p->heap[i];
        p->heap[i] = p->heap[m];
        p->heap[m] = tmp;
        i = m;
    }
}

/* Puts every target in the heap (a round starts with requests to send for all). Returns
 * nothing. */
static void heap_build(rn_icmp_prober_t *p)
{
    p->heap_n = p->n_targets;
    for (size_t i = 0; i < p->n_targets; i++)
        p->heap[i] = (uint32_t)i;
    for (size_t i = p->heap_n / 2; i-- > 0;)
        heap_sift_down(p, i);
}

/* Starts a round at start (a tick of the schedule). Returns nothing. */
static void round_begin(rn_icmp_prober_t *p, rn_mono_ns_t start)
{
    rn_mono_ns_t now = rn_clock_mono_ns();
    p->round++;
    p->in_round = true;
    p->round_start = start;
    p->round_end = start + (rn_mono_ns_t)p->interval_s * 1000000000ull;
    p->round_end_mono = mono_ns() + (int64_t)(p->round_end - now);
    p->round_wall_ms = rn_clock_wall_ms();
    for (size_t i = 0; i < p->n_targets; i++) {
        target_t *t = &p->targets[i];
        t->next = t->n_recv = 0;
        for (uint32_t k = 0; k < t->count; k++)
            t->rtt_ms[k] = -1;
    }
    heap_build(p);
}

/* Arms the round timer to fire in delta_ns (0: at once). Returns nothing. */
static void arm_timer(rn_icmp_prober_t *p, rn_mono_ns_t delta_ns)
{
    if (p->tfd < 0) {
        uv_timer_start(&p->timer, on_round_timer, (delta_ns + 999999) / 1000000, 0);
        return;
    }
    if (delta_ns == 0)
        delta_ns = 1; /* an it_value of zero would disarm it */
    struct itimerspec its = { .it_value = { (time_t)(delta_ns / 1000000000ull),
                                            (long)(delta_ns % 1000000000ull) } };
    /* re-arming also resets the expiry count, so the fd stops being readable: no read() needed */
    timerfd_settime(p->tfd, 0, &its, NULL);
}

/* The round timer: starts a round when one is due, sends every request due within BATCH_NS, and
 * re-arms itself for the earliest request left or the round's end. Returns nothing. */
static void round_tick(rn_icmp_prober_t *p)
{
    rn_mono_ns_t now = rn_clock_mono_ns();
    rn_mono_ns_t period = (rn_mono_ns_t)p->interval_s * 1000000000ull;
    if (!p->in_round || now >= p->round_end) {
        rn_mono_ns_t start = p->in_round ? p->round_end : p->sched_start;
        if (p->in_round)
            round_finish(p);
        if (now >= start + period) /* very late (a stalled loop): rejoin the schedule */
            start = rn_clock_next_tick(p->sched_start, period, now) - period;
        round_begin(p, start);
    }
    rn_mono_ns_t wake = p->round_end, due;
    while (p->heap_n > 0 && (due = heap_key(p, 0)) <= now + BATCH_NS) {
        uint32_t ti = p->heap[0];
        target_t *t = &p->targets[ti];
        queue_probe(p, ti, t->next++, due);
        if (t->next >= t->count)
            p->heap[0] = p->heap[--p->heap_n]; /* all sent: it leaves the heap */
        heap_sift_down(p, 0);
    }
    if (p->s4.open)
        sock_flush(p, &p->s4);
    if (p->s6.open)
        sock_flush(p, &p->s6);
    if (p->heap_n > 0 && (due = heap_key(p, 0)) < wake)
        wake = due;
    rn_mono_ns_t now2 = rn_clock_mono_ns();
    arm_timer(p, wake > now2 ? wake - now2 : 0);
}

static void on_round_timer(uv_timer_t *timer)
{
    round_tick(container_of(timer, rn_icmp_prober_t, timer));
}

static void on_timerfd(uv_poll_t *h, int status, int events)
{
    round_tick(container_of(h, rn_icmp_prober_t, tpoll));
}

/* ---- targets ---------------------------------------------------------------------------------- */

/* Frees what one target owns (not the target itself). Returns nothing. */
static void target_release(target_t *t)
{
    free(t->name);
    free(t->sent_ns);
    free(t->rtt_ms);
}

/* Frees an array of n targets. Returns nothing. */
static void targets_free(target_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        target_release(&t[i]);
    free(t);
}

/* Fills t from a plan target. Returns 0, -EINVAL (logged) when it cannot be probed, or -ENOMEM. */
static int target_init(rn_icmp_prober_t *p, target_t *t, const Rn__IcmpTarget *src,
                       uint32_t default_count)
{
    const char *name = src->name ? src->name : "?", *addr = src->addr ? src->addr : "";
    memset(t, 0, sizeof *t);
    if (inet_pton(AF_INET, addr, &t->addr.v4.sin_addr) == 1) {
        t->family = t->addr.v4.sin_family = AF_INET;
        t->addrlen = sizeof t->addr.v4;
    } else if (inet_pton(AF_INET6, addr, &t->addr.v6.sin6_addr) == 1) {
        t->family = t->addr.v6.sin6_family = AF_INET6;
        t->addrlen = sizeof t->addr.v6;
    } else {
        rn_error("icmp target %s: address \"%s\" is not a numeric IPv4/IPv6 address; skipped",
                 name, addr);
        return -EINVAL;
    }
    if (!(t->family == AF_INET ? p->s4.open : p->s6.open)) {
        rn_error("icmp target %s (%s): no ICMP socket for its family; skipped", name, addr);
        return -EINVAL;
    }
    uint32_t c = src->has_count && src->count ? src->count : default_count;
    t->count = c == 0 ? 1 : c > MAX_COUNT ? MAX_COUNT : c;
    t->name = strdup(name);
    t->sent_ns = calloc(t->count, sizeof *t->sent_ns);
    t->rtt_ms = calloc(t->count, sizeof *t->rtt_ms);
    if (!t->name || !t->sent_ns || !t->rtt_ms) {
        target_release(t);
        return -ENOMEM;
    }
    return 0;
}

int rn_icmp_prober_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx, rn_icmp_prober_t **out)
{
    rn_icmp_prober_t *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->seqmap = calloc(SEQ_SLOTS, sizeof *p->seqmap);
    p->rv = malloc(sizeof *p->rv);
    if (!p->seqmap || !p->rv) {
        free(p->seqmap), free(p->rv), free(p);
        return -ENOMEM;
    }
    p->loop = loop;
    p->emit = emit;
    p->ctx = ctx;
    p->interval_s = 1;
    /* an id of our own for raw sockets, where every process's replies arrive */
    p->ident = (uint16_t)(getpid() ^ (rn_clock_mono_ns() >> 10) ^ (uintptr_t)p);
    p->next_seq = (uint16_t)(rn_clock_mono_ns() >> 20);
    int rc4 = sock_open(p, &p->s4, AF_INET);
    int rc6 = sock_open(p, &p->s6, AF_INET6);
    if (rc4 != 0 && rc6 != 0) {
        free(p->seqmap), free(p->rv), free(p);
        return rc4;
    }
    uv_timer_init(loop, &p->timer);
    p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (p->tfd >= 0 && uv_poll_init(loop, &p->tpoll, p->tfd) != 0) {
        close(p->tfd);
        p->tfd = -1;
    }
    if (p->tfd >= 0)
        uv_poll_start(&p->tpoll, UV_READABLE, on_timerfd);
    else
        rn_warn("icmp: no timerfd (%s): sends keep to the millisecond only", rn_strerror(-errno));
    *out = p;
    return 0;
}

int rn_icmp_prober_set_targets(rn_icmp_prober_t *p, Rn__IcmpTarget *const *targets, size_t n,
                               uint32_t interval_s, uint32_t default_count)
{
    if (interval_s == 0)
        return -EINVAL;
    target_t *nt = calloc(n ? n : 1, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    size_t m = 0;
    uint32_t max_count = 1;
    for (size_t i = 0; i < n; i++) {
        int rc = target_init(p, &nt[m], targets[i], default_count);
        if (rc == -ENOMEM) {
            targets_free(nt, m);
            return rc;
        }
        if (rc == 0)
            max_count = nt[m++].count > max_count ? nt[m - 1].count : max_count;
    }
    double *scratch = calloc(max_count, sizeof *scratch);
    uint32_t *heap = calloc(m ? m : 1, sizeof *heap);
    if (!scratch || !heap) {
        free(scratch), free(heap);
        targets_free(nt, m);
        return -ENOMEM;
    }
    /* spread: target i's first request comes i/m of its step after the round's start, rounded
     * down to the 1 ms grid so that targets sharing a slot go out in one sendmmsg */
    rn_mono_ns_t half = (rn_mono_ns_t)interval_s * 500000000ull;
    for (size_t i = 0; i < m; i++) {
        nt[i].step = half / nt[i].count;
        nt[i].offset = nt[i].step * i / m / SLOT_NS * SLOT_NS;
    }
    targets_free(p->targets, p->n_targets); /* a round in flight is abandoned */
    free(p->scratch);
    free(p->heap);
    p->heap = heap;
    p->heap_n = 0;
    p->targets = nt;
    p->n_targets = m;
    p->scratch = scratch;
    p->max_count = max_count;
    p->interval_s = interval_s;
    p->in_round = false;
    p->round++; /* replies to the old targets' probes no longer match */
    rn_mono_ns_t jitter =
        rn_jitter_first((rn_mono_ns_t)interval_s * 1000000000ull, MAX_JITTER_NS, p);
    p->sched_start = rn_clock_mono_ns() + jitter;
    arm_timer(p, jitter);
    rn_info("icmp: %zu targets every %u s", m, interval_s);
    return 0;
}

void rn_icmp_prober_set_send_hook(rn_icmp_prober_t *p, rn_icmp_send_hook_fn fn, void *ctx)
{
    p->send_hook = fn;
    p->send_hook_ctx = ctx;
}

static void on_handle_closed(uv_handle_t *h)
{
    rn_icmp_prober_t *p = h->data;
    if (--p->pending_closes > 0)
        return;
    if (p->s4.open)
        close(p->s4.fd); /* the fds go after their uv_poll handles */
    if (p->s6.open)
        close(p->s6.fd);
    if (p->tfd >= 0)
        close(p->tfd);
    void (*cb)(void *) = p->close_cb;
    void *data = p->close_data;
    targets_free(p->targets, p->n_targets);
    free(p->scratch);
    free(p->heap);
    free(p->rv);
    free(p->seqmap);
    free(p);
    if (cb)
        cb(data);
}

void rn_icmp_prober_close(rn_icmp_prober_t *p, void (*cb)(void *data), void *data)
{
    p->close_cb = cb;
    p->close_data = data;
    p->timer.data = p;
    p->pending_closes = 1;
    uv_close((uv_handle_t *)&p->timer, on_handle_closed);
    if (p->tfd >= 0) {
        uv_poll_stop(&p->tpoll);
        p->tpoll.data = p;
        p->pending_closes++;
        uv_close((uv_handle_t *)&p->tpoll, on_handle_closed);
    }
    icmp_sock_t *socks[] = { &p->s4, &p->s6 };
    for (size_t i = 0; i < 2; i++) {
        if (!socks[i]->open)
            continue;
        uv_poll_stop(&socks[i]->poll);
        socks[i]->poll.data = p;
        p->pending_closes++;
        uv_close((uv_handle_t *)&socks[i]->poll, on_handle_closed);
    }
}
