/* UDP echo between agents (see udp_echo.h): a reflector that answers test packets, and a sender
 * that measures each peer of the plan in rounds.
 *
 * Why its own packets and not ICMP or a TWAMP implementation: ICMP gives the round trip only, and
 * full TWAMP needs a TCP control session per pair; TWAMP-light's idea (a stateless-looking
 * reflector that stamps its own receive and send times) is enough once the reflector also counts
 * what it received from each sender, which is what splits loss by direction.
 *
 * How it works. Sockets are plain non-blocking UDP sockets watched by uv_poll (not uv_udp: we
 * want recvmsg's SO_TIMESTAMPNS kernel receive times). The reflector's sockets (IPv4, IPv6 where
 * the host has it) answer in their readable callback through rn_udp_echo_table_answer, which
 * holds the per-sender counters in a fixed table (linear scan: at most RN_UDP_ECHO_MAX_SENDERS
 * entries, a few microseconds per packet) with a token bucket per sender and one for all.
 * The sender has one socket per family on an ephemeral port. Rounds follow a drift-free schedule
 * (start + k * interval) on one uv_timer; peer p's k-th packet of a round is due at
 * offset_p + k * step_p, step_p = (interval / 2) / count_p, so every packet has at least half an
 * interval to come back before the round ends and its sample is emitted. Each peer keeps the
 * state of its last `ring` packets (a power of two, at least 4 rounds' worth) indexed by
 * seq % ring; a slot answers only to its own seq, so a reply older than that is just late.
 * All per-peer memory is allocated in set_peers; nothing is allocated per packet.
 * The packet's encoding and the reflector's table are in udp_echo_wire.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct in6_pktinfo */
#endif
#include "udp_echo.h"
#include "udp_echo_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "jitter.h"
#include "log.h"
#include "metrics.h"
#include "sources.h"
#include "util.h"

#define MAX_COUNT 1000               /* packets per peer and round */
#define MAX_JITTER_NS 100000000ull   /* the first round starts within 100 ms */
#define RECV_BURST 256               /* datagrams read per readable callback */
#define JITTER_GAIN 16.0             /* RFC 3550 */

/* ---- sockets --------------------------------------------------------------------------------- */

typedef struct {
    rn_udp_echo_t *e;
    uv_poll_t poll;
    int fd;
    bool open, reflector;
} echo_sock_t;

/* One packet of a peer, by seq % ring. */
typedef struct {
    uint32_t seq;     /* 0: never used */
    bool got;
    uint32_t count, epoch;
    int64_t tx_ns, rx_ns, refl_rx_ns, refl_tx_ns; /* wall clock: one-way transit (jitter) */
    int64_t tx_mono, rx_mono;                      /* CLOCK_MONOTONIC: the RTT */
} slot_t;

typedef struct {
    char *name;
    int family;
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr;
    socklen_t addrlen;
    uint32_t count, next_k, sent;  /* packets per round; next to send; sent this round */
    uint64_t offset, step;
    uint32_t session, seq_next;    /* seq_next: the next seq to send, from 1 */
    uint32_t hi;                   /* highest seq answered (0: none) */
    uint32_t done;                 /* seqs up to here are accounted: later replies are late */
    uint32_t anchor_seq, anchor_count, anchor_epoch;
    bool anchor_epoch_known, have_prev;
    double prev_fwd, prev_bwd, jit_fwd, jit_bwd; /* transit times (ns) and jitter (ns) */
    uint32_t reordered, duplicates;
    uint32_t ring;                 /* slots, a power of two */
    slot_t *slots;
} peer_t;

struct rn_udp_echo {
    uv_loop_t *loop;
    rn_sample_fn emit;
    void *ctx;
    echo_sock_t s4, s6, r4, r6; /* sender's, reflector's */
    rn_udp_echo_table_t *table;
    uint16_t reflector_port;
    uv_timer_t timer;
    peer_t *peers;
    size_t n_peers;
    uint32_t interval_s;
    bool in_round;
    uint64_t sched_start, round_start, round_end;
    int64_t round_wall_ms;
    uint64_t late;
    rn_udp_echo_drop_fn drop;
    void *drop_ctx;
    struct sockaddr_storage *allow; /* the plan's peers: the only senders the reflector answers */
    size_t n_allow;
    bool has_src4, has_src6;        /* requests leave from our own plan address */
    struct in_addr src4;
    struct in6_addr src6;
    int pending_closes;
    void (*close_cb)(void *data);
    void *close_data;
};

static void on_readable(uv_poll_t *h, int status, int events);
static void on_timer(uv_timer_t *t);

/* Returns the time of clock id in nanoseconds. */
static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Returns the current CLOCK_REALTIME in nanoseconds (the clock of SO_TIMESTAMPNS). */
static int64_t real_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

/* Opens a UDP socket of family bound to addr:port (addr NULL: any) and starts watching it.
 * Returns 0 or a negative errno; *bound gets the port bound. */
static int sock_open(rn_udp_echo_t *e, echo_sock_t *s, int family, const char *addr,
                     uint16_t port, bool reflector, uint16_t *bound)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
        struct sockaddr_storage ss;
    } a = { 0 };
    socklen_t alen;
    if (family == AF_INET) {
        a.v4.sin_family = AF_INET;
        a.v4.sin_port = htons(port);
        a.v4.sin_addr.s_addr = htonl(INADDR_ANY);
        if (addr && inet_pton(AF_INET, addr, &a.v4.sin_addr) != 1)
            return -EINVAL;
        alen = sizeof a.v4;
    } else {
        a.v6.sin6_family = AF_INET6;
        a.v6.sin6_port = htons(port);
        a.v6.sin6_addr = in6addr_any;
        if (addr && inet_pton(AF_INET6, addr, &a.v6.sin6_addr) != 1)
            return -EINVAL;
        alen = sizeof a.v6;
    }
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (family == AF_INET6) /* IPv4 has its own socket */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    /* a reflector learns the address each request was sent to, and answers from it */
    if (reflector && family == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    if (reflector && family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    if (bind(fd, &a.sa, alen) != 0 || getsockname(fd, &a.sa, &alen) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    int rc = uv_poll_init(e->loop, &s->poll, fd);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    s->e = e;
    s->fd = fd;
    s->open = true;
    s->reflector = reflector;
    uv_poll_start(&s->poll, UV_READABLE, on_readable);
    if (bound)
        *bound = ntohs(family == AF_INET ? a.v4.sin_port : a.v6.sin6_port);
    return 0;
}

/* A message's receive time: the kernel's stamp (SO_TIMESTAMPNS, CLOCK_REALTIME), or now, in
 * *wall; and the same moved to CLOCK_MONOTONIC by the clocks' offset read now, or now when the
 * moved stamp lands after now (a step of the wall clock in between), in *mono. Why: as in
 * icmp_probe.c, the kernel has no monotonic receive stamp, and RTTs must not see clock steps. */
static void recv_time(struct msghdr *m, int64_t *wall, int64_t *mono)
{
    int64_t now = clock_ns(CLOCK_MONOTONIC), real = real_ns();
    *wall = real;
    *mono = now;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            *wall = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            int64_t rx = *wall - (real - now);
            *mono = rx <= now ? rx : now;
        }
    }
}

/* ---- the reflector --------------------------------------------------------------------------- */

/* Control data of one datagram: receive time and destination address in, source address out. */
typedef union {
    char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + 32];
    struct cmsghdr align;
} ctl_t;

/* Writes into ctl the control message that makes a reply leave from the address the request in
 * `in` was sent to (a host with several addresses would otherwise answer from the one its route
 * picks, and the sender, which checks where replies come from, would drop them). Returns its
 * length, 0 when the request carried no destination address. */
static size_t reply_source(struct msghdr *in, ctl_t *ctl)
{
    memset(ctl, 0, sizeof *ctl);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(in); c; c = CMSG_NXTHDR(in, c)) {
        struct cmsghdr *o = (struct cmsghdr *)ctl->buf;
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo got, out = { 0 };
            memcpy(&got, CMSG_DATA(c), sizeof got);
            out.ipi_spec_dst = got.ipi_addr;
            o->cmsg_level = IPPROTO_IP, o->cmsg_type = IP_PKTINFO;
            o->cmsg_len = CMSG_LEN(sizeof out);
            memcpy(CMSG_DATA(o), &out, sizeof out);
            return CMSG_SPACE(sizeof out);
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo got, out = { 0 };
            memcpy(&got, CMSG_DATA(c), sizeof got);
            out.ipi6_addr = got.ipi6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(&got.ipi6_addr))
                out.ipi6_ifindex = got.ipi6_ifindex; /* a link-local address needs its link */
            o->cmsg_level = IPPROTO_IPV6, o->cmsg_type = IPV6_PKTINFO;
            o->cmsg_len = CMSG_LEN(sizeof out);
            memcpy(CMSG_DATA(o), &out, sizeof out);
            return CMSG_SPACE(sizeof out);
        }
    }
    return 0;
}

/* Answers the request in m (its datagram in buf), received at rx_ns (wall) and rx_mono.
 * Returns nothing: what is not answered is counted by the table. */
static void reflect(rn_udp_echo_t *e, echo_sock_t *s, struct msghdr *m, const uint8_t *buf,
                    size_t len, int64_t rx_ns, int64_t rx_mono)
{
    uint8_t reply[RN_UDP_ECHO_LEN];
    /* the send time is the receive time plus the turnaround on the monotonic clock, so the
     * turnaround the sender subtracts from its RTT never holds a step of our wall clock */
    int64_t tx_ns = rx_ns + (clock_ns(CLOCK_MONOTONIC) - rx_mono);
    if (!rn_udp_echo_table_answer(e->table, m->msg_name, m->msg_namelen, buf, len, rx_ns,
                                  tx_ns, rn_clock_mono_ns(), reply))
        return;
    if (e->drop && e->drop(e->drop_ctx, true, rn_udp_echo_get32(reply + 8)))
        return;
    ctl_t ctl;
    struct iovec iov = { reply, sizeof reply };
    struct msghdr out = { .msg_name = m->msg_name, .msg_namelen = m->msg_namelen,
                          .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf };
    out.msg_controllen = reply_source(m, &ctl);
    if (!out.msg_controllen)
        out.msg_control = NULL;
    if (sendmsg(s->fd, &out, 0) < 0)
        rn_debug("udp echo: reply not sent: %s", rn_strerror(-errno));
}

/* ---- the sender: replies --------------------------------------------------------------------- */

/* Returns the peer a reply from `from` with this session belongs to, or NULL. */
static peer_t *peer_of(rn_udp_echo_t *e, const struct sockaddr_storage *from, uint32_t session)
{
    for (size_t i = 0; i < e->n_peers; i++) {
        peer_t *p = &e->peers[i];
        if (p->session != session || p->family != from->ss_family)
            continue;
        if (p->family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)from;
            if (a->sin_port == p->addr.v4.sin_port &&
                a->sin_addr.s_addr == p->addr.v4.sin_addr.s_addr)
                return p;
        } else {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
            if (a->sin6_port == p->addr.v6.sin6_port &&
                memcmp(&a->sin6_addr, &p->addr.v6.sin6_addr, 16) == 0)
                return p;
        }
    }
    return NULL;
}

/* Takes one reply received at rx_ns (wall) and rx_mono. Returns nothing: replies that match no
 * packet in flight are counted late; a second reply to one packet is a duplicate. */
static void take_reply(rn_udp_echo_t *e, const struct sockaddr_storage *from,
                       const uint8_t *buf, size_t len, int64_t rx_ns, int64_t rx_mono)
{
    rn_udp_echo_pkt_t r;
    if (rn_udp_echo_parse(buf, len, &r) != 0 || r.type != RN_UDP_ECHO_REPLY)
        return;
    peer_t *p = peer_of(e, from, r.session);
    if (!p || r.seq == 0 || r.seq >= p->seq_next || r.seq <= p->done) {
        e->late++;
        return;
    }
    slot_t *s = &p->slots[r.seq & (p->ring - 1)];
    if (s->seq != r.seq) {
        e->late++;
        return;
    }
    if (s->got) {
        p->duplicates++;
        return;
    }
    if (r.seq < p->hi)
        p->reordered++; /* a later packet came back first */
    else
        p->hi = r.seq;
    s->got = true;
    s->count = r.refl_count;
    s->epoch = r.refl_epoch;
    s->rx_ns = rx_ns;
    s->rx_mono = rx_mono >= s->tx_mono ? rx_mono : clock_ns(CLOCK_MONOTONIC); /* stepped: now */
    s->refl_rx_ns = r.refl_rx_ns;
    s->refl_tx_ns = r.refl_tx_ns;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    echo_sock_t *s = container_of(h, echo_sock_t, poll);
    (void)status, (void)events;
    for (int i = 0; i < RECV_BURST; i++) {
        uint8_t buf[RN_UDP_ECHO_LEN + 1]; /* one more: a longer datagram is not ours */
        struct sockaddr_storage from;
        ctl_t ctl;
        struct iovec iov = { buf, sizeof buf };
        struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                            .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof ctl.buf };
        ssize_t n = recvmsg(s->fd, &m, MSG_DONTWAIT);
        if (n < 0)
            break; /* EAGAIN, or an ICMP error queued on the socket */
        if (m.msg_flags & MSG_TRUNC)
            continue;
        int64_t wall, mono;
        recv_time(&m, &wall, &mono);
        if (s->reflector)
            reflect(s->e, s, &m, buf, (size_t)n, wall, mono);
        else
            take_reply(s->e, &from, buf, (size_t)n, wall, mono);
    }
}

/* ---- the sender: rounds ---------------------------------------------------------------------- */

/* The figures of one peer's round. */
typedef struct {
    double rtt_ms, fwd_loss, bwd_loss;
    uint32_t recv;
} round_fig_t;

/* Moves the anchor to just before the first reply of epoch `epoch` in (lo, hi], for a reflector
 * that started counting afresh. Returns nothing. */
static void reanchor(peer_t *p, uint32_t lo, uint32_t epoch)
{
    uint32_t min_seq = 0, min_count = UINT32_MAX;
    for (uint32_t q = lo + 1; q <= p->hi; q++) {
        const slot_t *s = &p->slots[q & (p->ring - 1)];
        if (s->seq != q || !s->got || s->epoch != epoch)
            continue;
        min_seq = min_seq ? min_seq : q;
        min_count = s->count < min_count ? s->count : min_count;
    }
    p->anchor_seq = min_seq - 1;
    p->anchor_count = min_count - 1;
    p->anchor_epoch = epoch;
    p->anchor_epoch_known = true;
}

/* Accounts the replies of peer p up to the highest seq answered (see udp_echo.h) and fills f.
 * Returns nothing; f->recv is 0 (and the rest NAN) when nothing new came back. */
static void account(peer_t *p, round_fig_t *f)
{
    *f = (round_fig_t){ NAN, NAN, NAN, 0 };
    if (p->hi <= p->done)
        return;
    /* slots older than the ring were overwritten: they are sent packets without replies */
    uint32_t lo = p->hi - p->anchor_seq > p->ring ? p->hi - p->ring : p->anchor_seq;
    uint32_t epoch = p->slots[p->hi & (p->ring - 1)].epoch;
    bool mixed = p->anchor_epoch_known && p->anchor_epoch != epoch;
    for (uint32_t q = lo + 1; q <= p->hi && !mixed; q++) {
        const slot_t *s = &p->slots[q & (p->ring - 1)];
        mixed = s->seq == q && s->got && s->epoch != epoch;
    }
    if (mixed) {
        reanchor(p, lo, epoch);
        lo = p->anchor_seq;
    }
    p->anchor_epoch = epoch;
    p->anchor_epoch_known = true;
    double rtt_sum = 0;
    uint32_t cmax = p->anchor_count, n = 0;
    for (uint32_t q = lo + 1; q <= p->hi; q++) {
        const slot_t *s = &p->slots[q & (p->ring - 1)];
        if (s->seq != q || !s->got)
            continue;
        n++;
        cmax = s->count > cmax ? s->count : cmax;
        /* in double: the reflector's times come off the network and may be anything */
        double rx = (double)s->rx_ns, tx = (double)s->tx_ns;
        double rrx = (double)s->refl_rx_ns, rtx = (double)s->refl_tx_ns;
        /* RTT on our monotonic clock; transit times (jitter) on the hosts' wall clocks */
        double rtt = (double)(s->rx_mono - s->tx_mono) - (rtx - rrx);
        double fwd = rrx - tx, bwd = rx - rtx;
        rtt_sum += rtt > 0 ? rtt : 0;
        if (p->have_prev) { /* RFC 3550 6.4.1: J += (|D| - J) / 16 */
            p->jit_fwd += (fabs(fwd - p->prev_fwd) - p->jit_fwd) / JITTER_GAIN;
            p->jit_bwd += (fabs(bwd - p->prev_bwd) - p->jit_bwd) / JITTER_GAIN;
        }
        p->prev_fwd = fwd, p->prev_bwd = bwd, p->have_prev = true;
    }
    uint32_t sent = p->hi - p->anchor_seq, fwd_recv = cmax - p->anchor_count;
    fwd_recv = fwd_recv > sent ? sent : fwd_recv;
    fwd_recv = fwd_recv < n ? n : fwd_recv;
    f->recv = n;
    f->rtt_ms = n ? rtt_sum / n / 1e6 : NAN;
    f->fwd_loss = sent ? 100.0 * (sent - fwd_recv) / sent : NAN;
    f->bwd_loss = fwd_recv ? 100.0 * (fwd_recv - n) / fwd_recv : NAN;
    p->anchor_seq = p->done = p->hi;
    p->anchor_count = cmax;
}

/* Emits one sample per peer for the round that ends now. Returns nothing. */
static void round_finish(rn_udp_echo_t *e)
{
    if (e->s4.open)
        on_readable(&e->s4.poll, 0, UV_READABLE); /* what the kernel already holds counts */
    if (e->s6.open)
        on_readable(&e->s6.poll, 0, UV_READABLE);
    e->in_round = false;
    for (size_t i = 0; i < e->n_peers; i++) {
        peer_t *p = &e->peers[i];
        round_fig_t f;
        account(p, &f);
        bool known = f.recv > 0;
        double g[RN_UDPECHO_N] = {
            [RN_UDPECHO_RTT] = f.rtt_ms, [RN_UDPECHO_FWD_LOSS] = f.fwd_loss,
            [RN_UDPECHO_BWD_LOSS] = f.bwd_loss,
            [RN_UDPECHO_FWD_JITTER] = known ? p->jit_fwd / 1e6 : NAN,
            [RN_UDPECHO_BWD_JITTER] = known ? p->jit_bwd / 1e6 : NAN,
            [RN_UDPECHO_REORDERED] = p->reordered, [RN_UDPECHO_DUPLICATES] = p->duplicates,
            [RN_UDPECHO_SENT] = p->sent, [RN_UDPECHO_RECV] = f.recv,
        };
        rn_value_t v[RN_UDPECHO_N];
        for (size_t m = 0; m < RN_UDPECHO_N; m++)
            v[m] = (rn_value_t){ isnan(g[m]) ? RN_VALUE_UNKNOWN : RN_VALUE_GAUGE, 0, g[m] };
        e->emit(e->ctx, RN_SRC_UDPECHO, "", p->name, e->round_wall_ms, v, RN_UDPECHO_N, 0);
        p->reordered = p->duplicates = 0;
    }
}

/* Sends peer p's next packet of the round. Returns nothing: a packet the kernel refuses counts
 * as lost. */
static void send_one(rn_udp_echo_t *e, peer_t *p)
{
    echo_sock_t *s = p->family == AF_INET ? &e->s4 : &e->s6;
    if (p->seq_next == UINT32_MAX) { /* after 2^32 packets: a new session rather than a wrap */
        uint32_t session = p->session + 1 ? p->session + 1 : 1;
        p->seq_next = 1;
        p->hi = p->done = p->anchor_seq = p->anchor_count = 0;
        p->anchor_epoch_known = false;
        p->session = session;
        memset(p->slots, 0, p->ring * sizeof *p->slots);
    }
    uint32_t seq = p->seq_next++;
    p->next_k++;
    p->sent++;
    slot_t *sl = &p->slots[seq & (p->ring - 1)];
    rn_udp_echo_pkt_t pkt = { .type = RN_UDP_ECHO_REQUEST, .seq = seq, .session = p->session };
    *sl = (slot_t){ .seq = seq, .tx_ns = real_ns(), .tx_mono = clock_ns(CLOCK_MONOTONIC) };
    pkt.tx_ns = sl->tx_ns;
    uint8_t buf[RN_UDP_ECHO_LEN];
    rn_udp_echo_encode(&pkt, buf);
    if (e->drop && e->drop(e->drop_ctx, false, seq))
        return;
    /* from our plan address when we know it: the peer's reflector answers only that one */
    ctl_t ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = { buf, sizeof buf };
    struct msghdr m = { .msg_name = &p->addr, .msg_namelen = p->addrlen, .msg_iov = &iov,
                        .msg_iovlen = 1 };
    struct cmsghdr *c = (struct cmsghdr *)ctl.buf;
    if (p->family == AF_INET && e->has_src4) {
        struct in_pktinfo pi = { .ipi_spec_dst = e->src4 };
        c->cmsg_level = IPPROTO_IP, c->cmsg_type = IP_PKTINFO, c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        m.msg_control = ctl.buf, m.msg_controllen = CMSG_SPACE(sizeof pi);
    } else if (p->family == AF_INET6 && e->has_src6) {
        struct in6_pktinfo pi = { .ipi6_addr = e->src6 };
        c->cmsg_level = IPPROTO_IPV6, c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        m.msg_control = ctl.buf, m.msg_controllen = CMSG_SPACE(sizeof pi);
    }
    if (sendmsg(s->fd, &m, 0) < 0)
        rn_debug("udp echo to %s: not sent: %s", p->name, rn_strerror(-errno));
}

/* Returns the due time of peer p's next packet, or UINT64_MAX when it has sent them all. */
static uint64_t next_due(const rn_udp_echo_t *e, const peer_t *p)
{
    return p->next_k >= p->count ? UINT64_MAX
                                 : e->round_start + p->offset + (uint64_t)p->next_k * p->step;
}

/* The round timer: finishes a round and starts the next when due, sends every packet due, and
 * re-arms for the earliest packet left or the round's end. Returns nothing. */
static void round_tick(rn_udp_echo_t *e)
{
    uint64_t now = rn_clock_mono_ns(), period = (uint64_t)e->interval_s * 1000000000ull;
    if (!e->in_round || now >= e->round_end) {
        uint64_t start = e->in_round ? e->round_end : e->sched_start;
        if (e->in_round)
            round_finish(e);
        if (now >= start + period) /* a stalled loop: rejoin the schedule */
            start = rn_clock_next_tick(e->sched_start, period, now) - period;
        e->in_round = true;
        e->round_start = start;
        e->round_end = start + period;
        e->round_wall_ms = rn_clock_wall_ms();
        for (size_t i = 0; i < e->n_peers; i++)
            e->peers[i].next_k = e->peers[i].sent = 0;
    }
    uint64_t wake = e->round_end;
    for (size_t i = 0; i < e->n_peers; i++) {
        peer_t *p = &e->peers[i];
        uint64_t due;
        while ((due = next_due(e, p)) <= now + 500000) /* within half a millisecond */
            send_one(e, p);
        wake = due < wake ? due : wake;
    }
    uint64_t now2 = rn_clock_mono_ns();
    uv_timer_start(&e->timer, on_timer, wake > now2 ? (wake - now2 + 999999) / 1000000 : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    round_tick(container_of(t, rn_udp_echo_t, timer));
}

/* ---- peers ----------------------------------------------------------------------------------- */

static void peers_free(peer_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].slots);
    }
    free(p);
}

/* Returns a session id that differs from one set_peers (and agent start) to the next. */
static uint32_t new_session(const void *salt, size_t i)
{
    uint64_t x = (uint64_t)real_ns() ^ (uint64_t)(uintptr_t)salt ^ ((uint64_t)getpid() << 32) ^
                 (i * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33, x *= 0xff51afd7ed558ccdull, x ^= x >> 33;
    return (uint32_t)x ? (uint32_t)x : 1;
}

/* Fills p from a plan peer. Returns 0, -EINVAL (logged) when it cannot be measured, -ENOMEM. */
static int peer_init(rn_udp_echo_t *e, peer_t *p, const Rn__EchoPeer *src, uint32_t default_count,
                     size_t index)
{
    const char *name = src->name ? src->name : "?", *addr = src->addr ? src->addr : "";
    uint16_t port = src->has_port && src->port ? (uint16_t)src->port : RN_UDP_ECHO_DEFAULT_PORT;
    memset(p, 0, sizeof *p);
    if (inet_pton(AF_INET, addr, &p->addr.v4.sin_addr) == 1) {
        p->family = p->addr.v4.sin_family = AF_INET;
        p->addr.v4.sin_port = htons(port);
        p->addrlen = sizeof p->addr.v4;
    } else if (inet_pton(AF_INET6, addr, &p->addr.v6.sin6_addr) == 1) {
        p->family = p->addr.v6.sin6_family = AF_INET6;
        p->addr.v6.sin6_port = htons(port);
        p->addrlen = sizeof p->addr.v6;
    } else {
        rn_error("udp echo peer %s: address \"%s\" is not a numeric IPv4/IPv6 address; skipped",
                 name, addr);
        return -EINVAL;
    }
    if (!(p->family == AF_INET ? e->s4.open : e->s6.open)) {
        rn_error("udp echo peer %s (%s): no UDP socket for its family; skipped", name, addr);
        return -EINVAL;
    }
    uint32_t c = src->has_count && src->count ? src->count : default_count;
    p->count = c == 0 ? 1 : c > MAX_COUNT ? MAX_COUNT : c;
    for (p->ring = 16; p->ring < 4 * p->count; p->ring *= 2)
        ;
    p->name = strdup(name);
    p->slots = calloc(p->ring, sizeof *p->slots);
    if (!p->name || !p->slots) {
        free(p->name), free(p->slots);
        return -ENOMEM;
    }
    p->session = new_session(e, index);
    p->seq_next = 1;
    return 0;
}

/* Parses a numeric address into a (port 0). Returns true if it is IPv4 or IPv6. */
static bool parse_addr(const char *addr, struct sockaddr_storage *a)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in *v4 = (struct sockaddr_in *)a;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)a;
    if (addr && inet_pton(AF_INET, addr, &v4->sin_addr) == 1)
        return v4->sin_family = AF_INET, true;
    if (addr && inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1)
        return v6->sin6_family = AF_INET6, true;
    return false;
}

int rn_udp_echo_allow(rn_udp_echo_t *e, Rn__EchoPeer *const *peers, size_t n)
{
    struct sockaddr_storage *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += parse_addr(peers[i]->addr, &v[m]); /* a bad one is logged by set_peers */
    if (e->table && rn_udp_echo_table_allow(e->table, v, m) != 0) {
        free(v);
        return -ENOMEM;
    }
    free(e->allow);
    e->allow = v;
    e->n_allow = m;
    return 0;
}

int rn_udp_echo_set_source(rn_udp_echo_t *e, const char *addr)
{
    struct sockaddr_storage a;
    e->has_src4 = e->has_src6 = false;
    if (!addr)
        return 0;
    if (!parse_addr(addr, &a))
        return -EINVAL;
    /* ours only if a socket can be bound to it; else the route picks, as without it */
    int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    socklen_t len = a.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                           : sizeof(struct sockaddr_in6);
    int rc = fd < 0 ? -errno : bind(fd, (struct sockaddr *)&a, len) != 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    if (rc) {
        rn_info("udp echo: %s is not an address of this host (%s): requests leave from the "
                "route's source address, which peers' reflectors may refuse", addr,
                rn_strerror(rc));
        return rc;
    }
    if (a.ss_family == AF_INET)
        e->has_src4 = true, e->src4 = ((struct sockaddr_in *)&a)->sin_addr;
    else
        e->has_src6 = true, e->src6 = ((struct sockaddr_in6 *)&a)->sin6_addr;
    return 0;
}

int rn_udp_echo_set_peers(rn_udp_echo_t *e, Rn__EchoPeer *const *peers, size_t n,
                          uint32_t interval_s, uint32_t default_count)
{
    if (interval_s == 0)
        return -EINVAL;
    if (rn_udp_echo_allow(e, peers, n) != 0) /* the pairs are symmetric: whom we ask asks us */
        return -ENOMEM;
    peer_t *np = calloc(n ? n : 1, sizeof *np);
    if (!np)
        return -ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = peer_init(e, &np[m], peers[i], default_count, i);
        if (rc == -ENOMEM) {
            peers_free(np, m);
            return rc;
        }
        m += rc == 0;
    }
    uint64_t half = (uint64_t)interval_s * 500000000ull;
    for (size_t i = 0; i < m; i++) { /* spread the peers over their first step */
        np[i].step = half / np[i].count;
        np[i].offset = np[i].step * i / m;
    }
    peers_free(e->peers, e->n_peers);
    e->peers = np;
    e->n_peers = m;
    e->interval_s = interval_s;
    e->in_round = false;
    uint64_t jitter =
        rn_jitter_first((rn_mono_ns_t)interval_s * 1000000000ull, MAX_JITTER_NS, e);
    e->sched_start = rn_clock_mono_ns() + jitter;
    if (m)
        uv_timer_start(&e->timer, on_timer, jitter / 1000000, 0);
    else
        uv_timer_stop(&e->timer);
    rn_info("udp echo: %zu peers every %u s", m, interval_s);
    return 0;
}

/* ---- life ------------------------------------------------------------------------------------ */

int rn_udp_echo_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx, rn_udp_echo_t **out)
{
    rn_udp_echo_t *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->loop = loop;
    e->emit = emit;
    e->ctx = ctx;
    e->interval_s = 1;
    int rc4 = sock_open(e, &e->s4, AF_INET, NULL, 0, false, NULL);
    int rc6 = sock_open(e, &e->s6, AF_INET6, NULL, 0, false, NULL);
    if (rc4 != 0 && rc6 != 0) {
        rn_error("udp echo: no UDP socket to send from: %s", rn_strerror(rc4));
        free(e);
        return rc4;
    }
    if (rc6 != 0)
        rn_debug("udp echo: no IPv6 socket (%s): IPv4 peers only", rn_strerror(rc6));
    uv_timer_init(loop, &e->timer);
    *out = e;
    return 0;
}

int rn_udp_echo_reflect(rn_udp_echo_t *e, const char *addr, uint16_t port)
{
    if (e->reflector_port)
        return -EALREADY;
    if (!e->table && (rn_udp_echo_table_new(RN_UDP_ECHO_MAX_SENDERS, &e->table) != 0 ||
                      rn_udp_echo_table_allow(e->table, e->allow, e->n_allow) != 0))
        return -ENOMEM; /* the table is freed with the module */
    struct in6_addr a6;
    uint16_t bound = 0;
    int rc;
    if (addr && inet_pton(AF_INET6, addr, &a6) == 1) {
        rc = sock_open(e, &e->r6, AF_INET6, addr, port, true, &bound);
    } else {
        rc = sock_open(e, &e->r4, AF_INET, addr, port, true, &bound);
        /* every address: IPv6 too, on the port IPv4 got, where the host has IPv6 */
        int rc6 = rc == 0 && !addr ? sock_open(e, &e->r6, AF_INET6, NULL, bound, true, NULL) : 0;
        if (rc6 != 0)
            rn_debug("udp echo: reflector on IPv4 only (%s)", rn_strerror(rc6));
    }
    if (rc != 0) {
        rn_warn("udp echo: no reflector on %s port %u: %s", addr ? addr : "any address",
                 (unsigned)port, rn_strerror(rc));
        return rc;
    }
    e->reflector_port = bound;
    rn_info("udp echo: reflector on %s port %u", addr ? addr : "every address", (unsigned)bound);
    return 0;
}

uint16_t rn_udp_echo_reflector_port(const rn_udp_echo_t *e)
{
    return e->reflector_port;
}

void rn_udp_echo_reflector_stats(const rn_udp_echo_t *e, rn_udp_echo_table_stats_t *out)
{
    if (e->table)
        rn_udp_echo_table_stats(e->table, out);
    else
        memset(out, 0, sizeof *out);
}

void rn_udp_echo_set_drop_hook(rn_udp_echo_t *e, rn_udp_echo_drop_fn fn, void *ctx)
{
    e->drop = fn;
    e->drop_ctx = ctx;
}

static void on_handle_closed(uv_handle_t *h)
{
    rn_udp_echo_t *e = h->data;
    if (--e->pending_closes > 0)
        return;
    echo_sock_t *socks[] = { &e->s4, &e->s6, &e->r4, &e->r6 };
    for (size_t i = 0; i < 4; i++)
        if (socks[i]->open)
            close(socks[i]->fd); /* the fds go after their uv_poll handles */
    void (*cb)(void *) = e->close_cb;
    void *data = e->close_data;
    peers_free(e->peers, e->n_peers);
    rn_udp_echo_table_free(e->table);
    free(e->allow);
    free(e);
    if (cb)
        cb(data);
}

void rn_udp_echo_close(rn_udp_echo_t *e, void (*cb)(void *data), void *data)
{
    e->close_cb = cb;
    e->close_data = data;
    e->timer.data = e;
    e->pending_closes = 1;
    uv_close((uv_handle_t *)&e->timer, on_handle_closed);
    echo_sock_t *socks[] = { &e->s4, &e->s6, &e->r4, &e->r6 };
    for (size_t i = 0; i < 4; i++) {
        if (!socks[i]->open)
            continue;
        uv_poll_stop(&socks[i]->poll);
        socks[i]->poll.data = e;
        e->pending_closes++;
        uv_close((uv_handle_t *)&socks[i]->poll, on_handle_closed);
    }
}
