/* Tests of agent/udp_echo.c: the packet and the reflector's table by hand, then live rounds on
 * loopback in one loop: one module as the sender, another as the reflector, with drops injected
 * by the module's drop hook (so the expected losses are exact), and a reflector played by the test
 * itself that sends replies out of order and twice. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "log.h"
#include "metrics.h"
#include "../../../agent/udp_echo.h" /* no -I for agent/ in tests/unit/Makefile.inc */

typedef struct {
    char object[64];
    rn_value_t v[RN_UDPECHO_N];
} got_t;

static struct {
    uv_loop_t loop;
    got_t got[64];
    size_t n_got, want_n;
} T;

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *values, size_t n_values,
                      uint64_t speed_bps)
{
    assert_string_equal(source, "udpecho");
    assert_string_equal(device, "");
    assert_int_equal(n_values, RN_UDPECHO_N);
    assert_true(time_ms > 0);
    if (T.n_got == sizeof T.got / sizeof T.got[0])
        return;
    got_t *g = &T.got[T.n_got++];
    snprintf(g->object, sizeof g->object, "%s", object);
    memcpy(g->v, values, sizeof g->v);
    if (T.n_got >= T.want_n)
        uv_stop(&T.loop);
}

/* Returns a value of the n-th sample; NAN when unknown. */
static double val(size_t n, int m)
{
    const rn_value_t *v = &T.got[n].v[m];
    return v->kind == RN_VALUE_GAUGE ? v->gauge : NAN;
}

static int setup(void **state)
{
    memset(&T, 0, sizeof T);
    rn_log_open("test_udp_echo", RN_LOG_WARN, false);
    return uv_loop_init(&T.loop);
}

static void on_closed(void *data)
{
    (*(int *)data)--;
}

static void close_all(rn_udp_echo_t *a, rn_udp_echo_t *b)
{
    int open = 0;
    if (a)
        open++, rn_udp_echo_close(a, on_closed, &open);
    if (b)
        open++, rn_udp_echo_close(b, on_closed, &open);
    while (open > 0) /* other handles (a test's own) may stay open */
        uv_run(&T.loop, UV_RUN_ONCE);
}

static void close_left(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int teardown(void **state)
{
    uv_walk(&T.loop, close_left, NULL); /* what a failed test left open (leaked, not hung on) */
    uv_run(&T.loop, UV_RUN_DEFAULT);
    return uv_loop_close(&T.loop);
}

static void on_guard(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop until n samples arrived or 10 s passed. */
static void run_for_samples(size_t n)
{
    uv_timer_t guard;
    T.want_n = n;
    uv_timer_init(&T.loop, &guard);
    uv_timer_start(&guard, on_guard, 10000, 0);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&T.loop, UV_RUN_NOWAIT);
    assert_true(T.n_got >= n);
}

static Rn__EchoPeer peer(const char *name, const char *addr, uint16_t port, uint32_t count)
{
    Rn__EchoPeer p = RN__ECHO_PEER__INIT;
    p.name = (char *)name;
    p.addr = (char *)addr;
    p.has_port = 1;
    p.port = port;
    p.has_count = 1;
    p.count = count;
    return p;
}

/* ---- the packet and the table ---------------------------------------------------------------- */

static rn_udp_echo_pkt_t request(uint32_t seq, uint32_t session)
{
    return (rn_udp_echo_pkt_t){ .type = RN_UDP_ECHO_REQUEST, .seq = seq, .session = session,
                                .tx_ns = 1700000000123456789 };
}

static void test_packet_round_trips_and_junk_is_refused(void **state)
{
    uint8_t buf[RN_UDP_ECHO_LEN + 1] = { 0 };
    rn_udp_echo_pkt_t p = request(7, 42), q;
    rn_udp_echo_encode(&p, buf);
    assert_int_equal(rn_udp_echo_parse(buf, RN_UDP_ECHO_LEN, &q), 0);
    assert_int_equal(q.seq, 7);
    assert_int_equal(q.session, 42);
    assert_true(q.tx_ns == p.tx_ns);
    assert_int_equal(rn_udp_echo_parse(buf, RN_UDP_ECHO_LEN - 1, &q), -EBADMSG);
    assert_int_equal(rn_udp_echo_parse(buf, RN_UDP_ECHO_LEN + 1, &q), -EBADMSG);
    assert_int_equal(rn_udp_echo_parse(buf, 0, &q), -EBADMSG);
    buf[4] = 2; /* version */
    assert_int_equal(rn_udp_echo_parse(buf, RN_UDP_ECHO_LEN, &q), -EBADMSG);
    buf[4] = 1, buf[5] = 3; /* type */
    assert_int_equal(rn_udp_echo_parse(buf, RN_UDP_ECHO_LEN, &q), -EBADMSG);
    buf[5] = 1, buf[0] = 'X'; /* magic */
    assert_int_equal(rn_udp_echo_parse(buf, RN_UDP_ECHO_LEN, &q), -EBADMSG);
}

static struct sockaddr_in from_v4(uint32_t addr, uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(addr);
    return a;
}

/* Answers a request of (seq, session) from a; returns the reply's count, 0 when dropped. */
static uint32_t answer(rn_udp_echo_table_t *t, struct sockaddr_in a, uint32_t seq,
                       uint32_t session, uint64_t now, uint32_t *epoch)
{
    uint8_t req[RN_UDP_ECHO_LEN], rep[RN_UDP_ECHO_LEN];
    rn_udp_echo_pkt_t p = request(seq, session), r;
    rn_udp_echo_encode(&p, req);
    if (!rn_udp_echo_table_answer(t, (struct sockaddr *)&a, sizeof a, req, sizeof req, 11, 22,
                                  now, rep))
        return 0;
    assert_int_equal(rn_udp_echo_parse(rep, sizeof rep, &r), 0);
    assert_int_equal(r.type, RN_UDP_ECHO_REPLY);
    assert_int_equal(r.seq, seq);
    assert_int_equal(r.session, session);
    assert_true(r.tx_ns == p.tx_ns && r.refl_rx_ns == 11 && r.refl_tx_ns == 22);
    if (epoch)
        *epoch = r.refl_epoch;
    return r.refl_count;
}

static void test_table_counts_each_sender_session_apart(void **state)
{
    rn_udp_echo_table_t *t;
    assert_int_equal(rn_udp_echo_table_new(2, &t), 0);
    struct sockaddr_in a = from_v4(0x0a000001, 5000), b = from_v4(0x0a000002, 5000);
    uint64_t now = 1000000000;
    uint32_t e1, e2, e3;
    assert_int_equal(answer(t, a, 10, 1, now, &e1), 1);
    assert_int_equal(answer(t, a, 12, 1, now, NULL), 2); /* counts what arrived, not seqs */
    assert_int_equal(answer(t, b, 10, 1, now, NULL), 1); /* another address */
    assert_int_equal(answer(t, a, 13, 1, now + 1, NULL), 3);
    /* a third sender evicts the least recently heard (b), a's count goes on */
    assert_int_equal(answer(t, a, 1, 2, now + 2, &e2), 1);
    assert_int_not_equal(e2, e1);
    assert_int_equal(answer(t, a, 14, 1, now + 3, NULL), 4);
    /* b comes back: a new epoch, counting from 1 */
    assert_int_equal(answer(t, b, 11, 1, now + 4, &e3), 1);
    assert_int_not_equal(e3, e1);
    rn_udp_echo_table_stats_t st;
    rn_udp_echo_table_stats(t, &st);
    assert_int_equal(st.answered, 7);
    assert_int_equal(st.evicted, 2);
    /* a request that is a reply, or junk, is not answered */
    uint8_t junk[RN_UDP_ECHO_LEN] = "GET / HTTP/1.0", rep[RN_UDP_ECHO_LEN];
    assert_false(rn_udp_echo_table_answer(t, (struct sockaddr *)&a, sizeof a, junk, sizeof junk,
                                          0, 0, now, rep));
    rn_udp_echo_table_stats(t, &st);
    assert_int_equal(st.malformed, 1);
    rn_udp_echo_table_free(t);
}

static void test_table_limits_the_rate_of_one_sender(void **state)
{
    rn_udp_echo_table_t *t;
    assert_int_equal(rn_udp_echo_table_new(4, &t), 0);
    struct sockaddr_in a = from_v4(0x0a000001, 5000), b = from_v4(0x0a000002, 5000);
    uint64_t now = 1000000000;
    uint32_t answered = 0;
    for (uint32_t i = 1; i <= 1000; i++) /* 1000 at once: the burst (2 s worth) passes */
        answered += answer(t, a, i, 1, now, NULL) != 0;
    assert_int_equal(answered, 2 * RN_UDP_ECHO_SENDER_PPS);
    assert_int_not_equal(answer(t, b, 1, 1, now, NULL), 0); /* others are not starved */
    assert_int_equal(answer(t, a, 1001, 1, now, NULL), 0);
    /* a second later a has a second's worth again */
    assert_int_equal(answer(t, a, 1002, 1, now + 1000000000, NULL),
                     2 * RN_UDP_ECHO_SENDER_PPS + 1);
    rn_udp_echo_table_stats_t st;
    rn_udp_echo_table_stats(t, &st);
    assert_int_equal(st.rate_limited, 1000 - 2 * RN_UDP_ECHO_SENDER_PPS + 1);
    rn_udp_echo_table_free(t);
}

/* The rate limit is per source address: more sessions and ports do not earn more replies. */
static void test_table_limits_the_rate_per_address_not_per_session(void **state)
{
    rn_udp_echo_table_t *t;
    assert_int_equal(rn_udp_echo_table_new(64, &t), 0);
    uint64_t now = 1000000000;
    uint32_t answered = 0;
    for (uint32_t session = 1; session <= 10; session++) { /* 10 sessions x 100, from 10 ports */
        struct sockaddr_in a = from_v4(0x0a000001, (uint16_t)(5000 + session));
        for (uint32_t i = 1; i <= 100; i++)
            answered += answer(t, a, i, session, now, NULL) != 0;
    }
    assert_int_equal(answered, 2 * RN_UDP_ECHO_SENDER_PPS);
    rn_udp_echo_table_free(t);
}

/* An allowed table answers its addresses only (any port), and counts the refused. */
static void test_table_answers_allowed_addresses_only(void **state)
{
    rn_udp_echo_table_t *t;
    assert_int_equal(rn_udp_echo_table_new(8, &t), 0);
    struct sockaddr_storage ok;
    memset(&ok, 0, sizeof ok);
    struct sockaddr_in peer_a = from_v4(0x0a000002, 0);
    memcpy(&ok, &peer_a, sizeof peer_a);
    assert_int_equal(rn_udp_echo_table_allow(t, &ok, 1), 0);
    uint64_t now = 1000000000;
    assert_int_equal(answer(t, from_v4(0x0a000003, 5000), 1, 1, now, NULL), 0);
    assert_int_equal(answer(t, from_v4(0x0a000002, 5000), 1, 1, now, NULL), 1);
    assert_int_equal(answer(t, from_v4(0x0a000002, 6000), 1, 7, now, NULL), 1);
    rn_udp_echo_table_stats_t st;
    rn_udp_echo_table_stats(t, &st);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.answered, 2);
    assert_int_equal(rn_udp_echo_table_allow(t, NULL, 0), 0); /* no peers: nobody */
    assert_int_equal(answer(t, from_v4(0x0a000002, 5000), 2, 1, now, NULL), 0);
    rn_udp_echo_table_free(t);
}

/* ---- a wall-clock step, as this binary sees it ----------------------------------------------- */

/* From W.at_ns (true CLOCK_REALTIME) on, CLOCK_REALTIME reads and the kernel's receive stamps
 * (SCM_TIMESTAMPNS) are off by W.step_ns, as after a real step; the system clock is never
 * touched: clock_gettime and recvmsg are defined here, so the module's calls land here first. */
static struct {
    int64_t step_ns, at_ns;
    bool active;
} W;

static int64_t shifted(int64_t t)
{
    return W.active && t >= W.at_ns ? t + W.step_ns : t;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = (int)syscall(SYS_clock_gettime, id, ts);
    if (rc == 0 && id == CLOCK_REALTIME) {
        int64_t t = shifted((int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec);
        ts->tv_sec = t / 1000000000, ts->tv_nsec = t % 1000000000;
    }
    return rc;
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    ssize_t n = (ssize_t)syscall(SYS_recvmsg, fd, m, flags);
    for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(m) : NULL; c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        int64_t t = shifted((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
        ts.tv_sec = t / 1000000000, ts.tv_nsec = t % 1000000000;
        memcpy(CMSG_DATA(c), &ts, sizeof ts);
    }
    return n;
}

/* ---- live rounds on loopback ----------------------------------------------------------------- */

/* Sends one well-formed request from a socket bound to src to 127.0.0.1:port and returns true if
 * a reply comes back within 300 ms. */
static bool asked_from(const char *src, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET }, to = from_v4(0x7f000001, port);
    inet_pton(AF_INET, src, &a.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    uint8_t req[RN_UDP_ECHO_LEN], rep[RN_UDP_ECHO_LEN + 1];
    rn_udp_echo_pkt_t p = request(1, 99);
    rn_udp_echo_encode(&p, req);
    assert_int_equal(sendto(fd, req, sizeof req, 0, (struct sockaddr *)&to, sizeof to),
                     (ssize_t)sizeof req);
    bool got = false;
    for (int i = 0; i < 30 && !got; i++) {
        uv_run(&T.loop, UV_RUN_NOWAIT); /* the reflector answers in its readable callback */
        got = recv(fd, rep, sizeof rep, 0) == RN_UDP_ECHO_LEN;
        if (!got)
            usleep(10000);
    }
    close(fd);
    return got;
}

/* The reflector answers the plan's echo peers only: a well-formed request from any other
 * address gets nothing back (a reflector that answers anyone is a free traffic source). */
static void test_reflector_answers_only_the_plans_peers(void **state)
{
    rn_udp_echo_t *r;
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &r), 0);
    assert_int_equal(rn_udp_echo_reflect(r, "127.0.0.1", 0), 0);
    uint16_t port = rn_udp_echo_reflector_port(r);
    assert_false(asked_from("127.0.0.2", port)); /* no plan yet: nobody */
    Rn__EchoPeer p = peer("sdc", "127.0.0.2", 9, 5), *pp = &p;
    assert_int_equal(rn_udp_echo_allow(r, &pp, 1), 0);
    assert_false(asked_from("127.0.0.3", port));
    assert_true(asked_from("127.0.0.2", port));
    rn_udp_echo_table_stats_t st;
    rn_udp_echo_reflector_stats(r, &st);
    assert_int_equal(st.refused, 2);
    assert_int_equal(st.answered, 1);
    close_all(NULL, r);
}

/* A sender told its own address sends from it, so the peer's reflector, which knows it by that
 * address, answers; an address of another host is refused and the route picks as before. */
static void test_sender_asks_from_its_plan_address(void **state)
{
    rn_udp_echo_t *s, *r;
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &s), 0);
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &r), 0);
    assert_int_equal(rn_udp_echo_reflect(r, "127.0.0.1", 0), 0);
    Rn__EchoPeer me = peer("jaipur", "127.0.0.7", 0, 5), *mp = &me;
    assert_int_equal(rn_udp_echo_allow(r, &mp, 1), 0);
    assert_int_not_equal(rn_udp_echo_set_source(s, "192.0.2.1"), 0);
    assert_int_equal(rn_udp_echo_set_source(s, "127.0.0.7"), 0);
    Rn__EchoPeer p = peer("sdc", "127.0.0.1", rn_udp_echo_reflector_port(r), 5), *pp = &p;
    assert_int_equal(rn_udp_echo_set_peers(s, &pp, 1, 1, 5), 0);
    run_for_samples(1);
    assert_true(val(0, RN_UDPECHO_RECV) == 5);
    close_all(s, r);
}

/* Drops requests whose seq % fwd_mod == 0 and replies whose seq % bwd_mod == 1. */
static struct {
    uint32_t fwd_mod, bwd_mod;
} D;

static bool drop(void *ctx, bool reply, uint32_t seq)
{
    return reply ? D.bwd_mod && seq % D.bwd_mod == 1 : D.fwd_mod && seq % D.fwd_mod == 0;
}

/* Starts a reflector module on 127.0.0.1 and a sender module measuring it (20 packets a second).
 * Returns the reflector's port. */
static uint16_t start_pair(rn_udp_echo_t **sender, rn_udp_echo_t **reflector)
{
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, sender), 0);
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, reflector), 0);
    assert_int_equal(rn_udp_echo_reflect(*reflector, "127.0.0.1", 0), 0);
    uint16_t port = rn_udp_echo_reflector_port(*reflector);
    assert_int_not_equal(port, 0);
    Rn__EchoPeer p = peer("jaipur/sanganer", "127.0.0.1", port, 20), *pp = &p;
    assert_int_equal(rn_udp_echo_allow(*reflector, &pp, 1), 0); /* the sender is its peer */
    assert_int_equal(rn_udp_echo_set_peers(*sender, &pp, 1, 1, 5), 0);
    return port;
}

static void test_clean_loopback_has_no_loss_and_a_small_rtt(void **state)
{
    rn_udp_echo_t *s, *r;
    start_pair(&s, &r);
    run_for_samples(2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(T.got[i].object, "jaipur/sanganer");
        assert_true(val(i, RN_UDPECHO_SENT) == 20);
        assert_true(val(i, RN_UDPECHO_FWD_LOSS) == 0);
        assert_true(val(i, RN_UDPECHO_BWD_LOSS) == 0);
        double rtt = val(i, RN_UDPECHO_RTT);
        assert_true(rtt >= 0 && rtt < 50);
        assert_true(val(i, RN_UDPECHO_FWD_JITTER) >= 0 && val(i, RN_UDPECHO_BWD_JITTER) >= 0);
        assert_true(val(i, RN_UDPECHO_REORDERED) == 0 && val(i, RN_UDPECHO_DUPLICATES) == 0);
    }
    /* the first round's last reply may straddle nothing: every reply is taken by round two */
    assert_true(val(0, RN_UDPECHO_RECV) + val(1, RN_UDPECHO_RECV) >= 39);
    rn_udp_echo_table_stats_t st;
    rn_udp_echo_reflector_stats(r, &st);
    assert_true(st.answered >= 40 && st.malformed == 0 && st.rate_limited == 0);
    close_all(s, r);
}

/* A reflector on every address answers from the address it was asked at: a request to
 * 127.0.0.2 would otherwise be answered from 127.0.0.1 (the route's choice), and dropped. */
static void test_replies_leave_from_the_address_asked(void **state)
{
    rn_udp_echo_t *s, *r;
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &s), 0);
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &r), 0);
    assert_int_equal(rn_udp_echo_reflect(r, NULL, 0), 0);
    Rn__EchoPeer p = peer("sdc", "127.0.0.2", rn_udp_echo_reflector_port(r), 5), *pp = &p;
    assert_int_equal(rn_udp_echo_set_peers(s, &pp, 1, 1, 5), 0);
    Rn__EchoPeer me = peer("jaipur", "127.0.0.1", 0, 5), *mp = &me;
    assert_int_equal(rn_udp_echo_allow(r, &mp, 1), 0);
    run_for_samples(1);
    assert_true(val(0, RN_UDPECHO_RECV) == 5);
    assert_true(val(0, RN_UDPECHO_FWD_LOSS) == 0 && val(0, RN_UDPECHO_BWD_LOSS) == 0);
    close_all(s, r);
}

static void test_drops_each_way_are_told_apart(void **state)
{
    rn_udp_echo_t *s, *r;
    start_pair(&s, &r);
    D.fwd_mod = 5; /* requests 5, 10, 15, 20, ... never reach the reflector: 20% forward */
    D.bwd_mod = 4; /* replies to 1, 9, 13, 17, 21, ... never come back: 25% of what arrived */
    rn_udp_echo_set_drop_hook(s, drop, NULL);
    rn_udp_echo_set_drop_hook(r, drop, NULL);
    run_for_samples(3);
    /* round 1 is judged up to seq 19 (20 went unanswered): 3 of 19 lost forward, 4 of 16 back */
    assert_true(fabs(val(0, RN_UDPECHO_FWD_LOSS) - 100.0 * 3 / 19) < 1e-9);
    assert_true(fabs(val(0, RN_UDPECHO_BWD_LOSS) - 25.0) < 1e-9);
    assert_true(val(0, RN_UDPECHO_RECV) == 12);
    /* later rounds take the tail before them: exactly 20% and 25% */
    for (size_t i = 1; i < 3; i++) {
        assert_true(fabs(val(i, RN_UDPECHO_FWD_LOSS) - 20.0) < 1e-9);
        assert_true(fabs(val(i, RN_UDPECHO_BWD_LOSS) - 25.0) < 1e-9);
        assert_true(val(i, RN_UDPECHO_RECV) == 12);
        assert_true(val(i, RN_UDPECHO_SENT) == 20);
    }
    memset(&D, 0, sizeof D);
    close_all(s, r);
}

static void test_a_silent_peer_gives_unknown_loss_and_jitter(void **state)
{
    rn_udp_echo_t *s;
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &s), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0); /* a port that is bound but never answers */
    struct sockaddr_in a = from_v4(0x7f000001, 0);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    Rn__EchoPeer p = peer("ajmer", "127.0.0.1", ntohs(a.sin_port), 4), *pp = &p;
    Rn__EchoPeer bad = peer("nowhere", "not-an-address", 8862, 4), *pb = &bad;
    Rn__EchoPeer *both[] = { pb, pp };
    assert_int_equal(rn_udp_echo_set_peers(s, both, 2, 1, 5), 0); /* the bad one is skipped */
    run_for_samples(1);
    assert_string_equal(T.got[0].object, "ajmer");
    assert_true(val(0, RN_UDPECHO_SENT) == 4);
    assert_true(val(0, RN_UDPECHO_RECV) == 0);
    assert_int_equal(T.got[0].v[RN_UDPECHO_RTT].kind, RN_VALUE_UNKNOWN);
    assert_int_equal(T.got[0].v[RN_UDPECHO_FWD_LOSS].kind, RN_VALUE_UNKNOWN);
    assert_int_equal(T.got[0].v[RN_UDPECHO_BWD_LOSS].kind, RN_VALUE_UNKNOWN);
    assert_int_equal(T.got[0].v[RN_UDPECHO_FWD_JITTER].kind, RN_VALUE_UNKNOWN);
    close(fd);
    close_all(s, NULL);
}

/* A reflector played by the test: answers in arrival order except that it holds the reply to
 * seq 3 until it has answered seq 4, answers seq 6 twice, and also sends junk. */
static struct {
    uv_poll_t poll;
    int fd;
    uint32_t count;
    uint8_t held[RN_UDP_ECHO_LEN];
    struct sockaddr_storage held_to;
    socklen_t held_len;
    bool crazy; /* reflector times at the ends of int64 */
} F;

static void fake_reply(const uint8_t *req, const struct sockaddr_storage *to, socklen_t len,
                       uint8_t out[RN_UDP_ECHO_LEN])
{
    rn_udp_echo_pkt_t p;
    assert_int_equal(rn_udp_echo_parse(req, RN_UDP_ECHO_LEN, &p), 0);
    p.type = RN_UDP_ECHO_REPLY;
    p.refl_count = ++F.count;
    p.refl_epoch = 99;
    p.refl_rx_ns = p.refl_tx_ns = p.tx_ns + 1000;
    if (F.crazy)
        p.refl_rx_ns = INT64_MIN, p.refl_tx_ns = INT64_MAX;
    rn_udp_echo_encode(&p, out);
}

static void on_fake_readable(uv_poll_t *h, int status, int events)
{
    uint8_t req[RN_UDP_ECHO_LEN], rep[RN_UDP_ECHO_LEN];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n;
    while ((n = recvfrom(F.fd, req, sizeof req, MSG_DONTWAIT, (struct sockaddr *)&from,
                         &flen)) == RN_UDP_ECHO_LEN) {
        rn_udp_echo_pkt_t p;
        assert_int_equal(rn_udp_echo_parse(req, sizeof req, &p), 0);
        fake_reply(req, &from, flen, rep);
        if (p.seq == 3) {
            memcpy(F.held, rep, sizeof rep), F.held_to = from, F.held_len = flen;
            continue;
        }
        sendto(F.fd, rep, sizeof rep, 0, (struct sockaddr *)&from, flen);
        sendto(F.fd, "junk", 4, 0, (struct sockaddr *)&from, flen);
        if (p.seq == 4)
            sendto(F.fd, F.held, sizeof F.held, 0, (struct sockaddr *)&F.held_to, F.held_len);
        if (p.seq == 6)
            sendto(F.fd, rep, sizeof rep, 0, (struct sockaddr *)&from, flen);
        flen = sizeof from;
    }
}

static void test_reordered_and_duplicate_replies_are_counted(void **state)
{
    memset(&F, 0, sizeof F);
    F.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = from_v4(0x7f000001, 0);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(F.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(F.fd, (struct sockaddr *)&a, &alen), 0);
    uv_poll_init(&T.loop, &F.poll, F.fd);
    uv_poll_start(&F.poll, UV_READABLE, on_fake_readable);
    rn_udp_echo_t *s;
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &s), 0);
    Rn__EchoPeer p = peer("sdc", "127.0.0.1", ntohs(a.sin_port), 10), *pp = &p;
    assert_int_equal(rn_udp_echo_set_peers(s, &pp, 1, 1, 5), 0);
    run_for_samples(1);
    assert_true(val(0, RN_UDPECHO_REORDERED) == 1);
    assert_true(val(0, RN_UDPECHO_DUPLICATES) == 1);
    assert_true(val(0, RN_UDPECHO_RECV) == 10);
    assert_true(val(0, RN_UDPECHO_FWD_LOSS) == 0 && val(0, RN_UDPECHO_BWD_LOSS) == 0);
    /* the one-way transits are all 1 us on the fake's clock side: jitter comes from ours only */
    assert_true(val(0, RN_UDPECHO_FWD_JITTER) < 50);
    uv_close((uv_handle_t *)&F.poll, NULL);
    close_all(s, NULL);
    close(F.fd);
}

/* A reflector's times are whatever it sends: absurd ones give finite figures, not a crash (the
 * ASan/UBSan build checks the arithmetic). */
static void test_absurd_reflector_times_give_finite_figures(void **state)
{
    memset(&F, 0, sizeof F);
    F.crazy = true;
    F.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = from_v4(0x7f000001, 0);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(F.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(F.fd, (struct sockaddr *)&a, &alen), 0);
    uv_poll_init(&T.loop, &F.poll, F.fd);
    uv_poll_start(&F.poll, UV_READABLE, on_fake_readable);
    rn_udp_echo_t *s;
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &s), 0);
    Rn__EchoPeer p = peer("sdc", "127.0.0.1", ntohs(a.sin_port), 4), *pp = &p;
    assert_int_equal(rn_udp_echo_set_peers(s, &pp, 1, 1, 5), 0);
    run_for_samples(1);
    for (int m = 0; m < RN_UDPECHO_N; m++)
        assert_true(T.got[0].v[m].kind == RN_VALUE_GAUGE && isfinite(T.got[0].v[m].gauge));
    uv_close((uv_handle_t *)&F.poll, NULL);
    close_all(s, NULL);
    close(F.fd);
}

/* The sender's drop hook: steps the wall clock an hour forward as request 25 (in round two)
 * leaves, after its send time was read and before anything stamps its way back. */
static bool step_at_25(void *ctx, bool reply, uint32_t seq)
{
    if (!reply && seq == 25 && !W.active) {
        struct timespec ts;
        syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
        W.at_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        W.step_ns = 3600 * 1000000000ll;
        W.active = true;
    }
    return false;
}

/* A wall-clock step in a round changes no RTT (it is on the monotonic clock): no spike of an
 * hour for the packets in flight. */
static void test_wall_clock_step_changes_no_rtt(void **state)
{
    rn_udp_echo_t *s, *r;
    start_pair(&s, &r);
    memset(&W, 0, sizeof W);
    rn_udp_echo_set_drop_hook(s, step_at_25, NULL);
    run_for_samples(3);
    assert_true(W.active);
    for (size_t i = 0; i < 3; i++) {
        double rtt = val(i, RN_UDPECHO_RTT);
        print_message("round %zu: RTT %.3f ms\n", i + 1, rtt);
        assert_true(rtt > 0 && rtt < 50);
    }
    close_all(s, r);
    memset(&W, 0, sizeof W);
}

static void test_a_reflector_restart_starts_the_count_afresh(void **state)
{
    rn_udp_echo_t *s, *r;
    uint16_t port = start_pair(&s, &r);
    run_for_samples(1);
    close_all(NULL, r); /* the reflector restarts on the same port: a new epoch, counts from 1 */
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &r), 0);
    Rn__EchoPeer me = peer("jaipur/sanganer", "127.0.0.1", 0, 5), *mp = &me;
    assert_int_equal(rn_udp_echo_allow(r, &mp, 1), 0); /* before it starts, this time */
    assert_int_equal(rn_udp_echo_reflect(r, "127.0.0.1", port), 0);
    run_for_samples(4);
    for (size_t i = 2; i < 4; i++) { /* once settled, no loss invented by the restart */
        assert_true(val(i, RN_UDPECHO_FWD_LOSS) == 0);
        assert_true(val(i, RN_UDPECHO_BWD_LOSS) == 0);
    }
    for (size_t i = 0; i < 4; i++) /* and never a figure out of range */
        assert_true(T.got[i].v[RN_UDPECHO_FWD_LOSS].kind == RN_VALUE_UNKNOWN ||
                    (val(i, RN_UDPECHO_FWD_LOSS) >= 0 && val(i, RN_UDPECHO_FWD_LOSS) <= 100));
    close_all(s, r);
}

static void test_reflector_port_in_use_is_an_error_not_a_crash(void **state)
{
    rn_udp_echo_t *a, *b;
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &a), 0);
    assert_int_equal(rn_udp_echo_new(&T.loop, on_sample, NULL, &b), 0);
    assert_int_equal(rn_udp_echo_reflect(a, "127.0.0.1", 0), 0);
    assert_int_equal(rn_udp_echo_reflect(b, "127.0.0.1", rn_udp_echo_reflector_port(a)),
                     -EADDRINUSE);
    assert_int_equal(rn_udp_echo_reflector_port(b), 0);
    assert_int_equal(rn_udp_echo_reflect(b, "no-such-address", 0), -EINVAL);
    close_all(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_packet_round_trips_and_junk_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_table_counts_each_sender_session_apart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_table_limits_the_rate_per_address_not_per_session,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_answers_allowed_addresses_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reflector_answers_only_the_plans_peers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sender_asks_from_its_plan_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wall_clock_step_changes_no_rtt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_limits_the_rate_of_one_sender, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_clean_loopback_has_no_loss_and_a_small_rtt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replies_leave_from_the_address_asked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drops_each_way_are_told_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_silent_peer_gives_unknown_loss_and_jitter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reordered_and_duplicate_replies_are_counted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_absurd_reflector_times_give_finite_figures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_reflector_restart_starts_the_count_afresh, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reflector_port_in_use_is_an_error_not_a_crash,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
