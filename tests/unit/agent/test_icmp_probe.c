/* Tests of agent/icmp_probe.c: the statistics by hand, and live rounds over loopback.
 *
 * As root the test first moves itself into a network namespace of its own (unshare), brings its
 * lo up, and then may change that namespace freely: an iptables rule that drops ICMP to
 * 127.0.0.77 (a target that never answers), and net.ipv4.ping_group_range, which decides whether
 * the prober gets an unprivileged datagram socket or falls back to a raw one, so both paths run.
 * The late-reply test sniffs the prober's echo requests on lo with a packet socket and forges the
 * target's reply itself, after the round has ended. Without root those tests are skipped. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sched.h>
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
#include "../../../agent/icmp_probe.h" /* no -I for agent/ in tests/unit/Makefile.inc */

typedef struct {
    char object[64];
    rn_value_t v[RN_ICMP_N];
} got_t;

static struct {
    bool root_netns; /* we run as root in a namespace of our own */
    uv_loop_t loop;
    got_t got[256];
    size_t n_got;
    const char *want; /* stop the loop after this many samples of this object */
    size_t want_n;
    void (*on_got)(const got_t *g);
} T;

/* ---- helpers ------------------------------------------------------------------------------ */

static size_t count_got(const char *object)
{
    size_t n = 0;
    for (size_t i = 0; i < T.n_got; i++)
        n += strcmp(T.got[i].object, object) == 0;
    return n;
}

/* Returns the k-th (0-based) sample of object, or NULL. */
static const got_t *nth_got(const char *object, size_t k)
{
    for (size_t i = 0; i < T.n_got; i++)
        if (strcmp(T.got[i].object, object) == 0 && k-- == 0)
            return &T.got[i];
    return NULL;
}

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *values, size_t n_values,
                      uint64_t speed_bps)
{
    assert_string_equal(source, "icmp");
    assert_string_equal(device, "");
    assert_int_equal(n_values, RN_ICMP_N);
    if (T.n_got == sizeof T.got / sizeof T.got[0])
        return;
    got_t *g = &T.got[T.n_got++];
    snprintf(g->object, sizeof g->object, "%s", object);
    memcpy(g->v, values, sizeof g->v);
    if (T.on_got)
        T.on_got(g);
    if (T.want && count_got(T.want) >= T.want_n)
        uv_stop(&T.loop);
}

static void on_deadline(uv_timer_t *t) { uv_stop(t->loop); }

/* Runs the loop until `n` samples of `object` arrived, or ms passed. */
static void run_until(const char *object, size_t n, uint64_t ms)
{
    uv_timer_t deadline;
    T.want = object;
    T.want_n = n;
    uv_timer_init(&T.loop, &deadline);
    uv_timer_start(&deadline, on_deadline, ms, 0);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&T.loop, UV_RUN_NOWAIT);
    T.want = NULL;
}

static void on_closed(void *data) { *(bool *)data = true; }

/* Closes the prober and checks that its callback fires and the loop holds nothing after. */
static void close_prober(rn_icmp_prober_t *p)
{
    bool closed = false;
    rn_icmp_prober_close(p, on_closed, &closed);
    assert_false(closed);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    assert_true(closed);
}

static void set_ping_group_range(const char *v)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "w");
    assert_non_null(f);
    fprintf(f, "%s\n", v);
    assert_int_equal(fclose(f), 0);
}

/* Starts a prober with one target per (name, addr) pair. */
static rn_icmp_prober_t *start_prober(uint32_t count, size_t n, const char *const *names,
                                      const char *const *addrs)
{
    Rn__IcmpTarget t[4], *tp[4];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        Rn__IcmpTarget init = RN__ICMP_TARGET__INIT;
        t[i] = init;
        t[i].name = (char *)names[i];
        t[i].addr = (char *)addrs[i];
        tp[i] = &t[i];
    }
    rn_icmp_prober_t *p = NULL;
    T.n_got = 0;
    int rc = rn_icmp_prober_new(&T.loop, on_sample, NULL, &p);
    if (rc != 0) {
        print_message("SKIP: no ICMP socket available here (%s)\n", strerror(-rc));
        skip();
    }
    assert_int_equal(rn_icmp_prober_set_targets(p, tp, n, 1, count), 0);
    return p;
}

static void assert_good_round(const got_t *g, double count)
{
    assert_non_null(g);
    for (int m = RN_ICMP_RTTMIN; m < RN_ICMP_N; m++)
        assert_int_equal(g->v[m].kind, RN_VALUE_GAUGE);
    assert_true(g->v[RN_ICMP_SENT].gauge == count);
    assert_true(g->v[RN_ICMP_RECV].gauge == count);
    assert_true(g->v[RN_ICMP_LOSS].gauge == 0);
    assert_true(g->v[RN_ICMP_RTTMIN].gauge > 0);
    /* a reply within the round (1 s); how fast loopback answers is the bench's business
     * (tests/bench/icmp_vs_fping.sh): with the suite's other lanes running, 5 ms was exceeded */
    assert_true(g->v[RN_ICMP_RTTMAX].gauge < 1000);
    assert_true(g->v[RN_ICMP_RTTMIN].gauge <= g->v[RN_ICMP_RTTAVG].gauge);
    assert_true(g->v[RN_ICMP_RTTAVG].gauge <= g->v[RN_ICMP_RTTMAX].gauge);
}

/* ---- a wall-clock step, as this binary sees it ----------------------------------------------- */

/* Once armed, the step starts just after the next CLOCK_REALTIME read: every later read, and
 * every kernel receive stamp (SCM_TIMESTAMPNS, which is CLOCK_REALTIME) taken after that moment,
 * is off by step_ns, as after a real step. The system clock is never touched: clock_gettime and
 * recvmmsg are defined here, so the prober's calls land here first. */
static struct {
    int64_t step_ns, at_ns; /* the step, and when it happened (true CLOCK_REALTIME) */
    bool armed, active;
} W;

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = (int)syscall(SYS_clock_gettime, id, ts);
    if (rc != 0 || id != CLOCK_REALTIME)
        return rc;
    int64_t t = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
    if (W.armed) {
        W.armed = false;
        W.active = true;
        W.at_ns = t + 1;
    } else if (W.active && t >= W.at_ns) {
        t += W.step_ns;
        ts->tv_sec = t / 1000000000, ts->tv_nsec = t % 1000000000;
    }
    return 0;
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *timeout)
{
    int got = (int)syscall(SYS_recvmmsg, fd, v, n, flags, timeout);
    for (int i = 0; i < got && W.active; i++) {
        struct msghdr *m = &v[i].msg_hdr;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
                continue;
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            if (t >= W.at_ns)
                t += W.step_ns;
            ts.tv_sec = t / 1000000000, ts.tv_nsec = t % 1000000000;
            memcpy(CMSG_DATA(c), &ts, sizeof ts);
        }
    }
    return got;
}

static bool want_step;

/* The send hook: the step comes with the first request of the round, between the prober's
 * reading of its send time and the kernel's stamping of the reply. */
static void step_on_send(void *ctx, uint64_t due_ns, uint64_t sent_ns)
{
    if (want_step)
        W.armed = true, want_step = false;
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    rn_log_open("test", RN_LOG_INFO, false);
    if (geteuid() != 0)
        return 0;
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "unshare(CLONE_NEWNET): %s; staying in this namespace\n",
                strerror(errno));
        return 0;
    }
    T.root_netns = system("ip link set lo up") == 0;
    return T.root_netns ? 0 : -1;
}

static int test_setup(void **state)
{
    T.n_got = 0;
    T.on_got = NULL;
    return uv_loop_init(&T.loop);
}

static int test_teardown(void **state)
{
    uv_run(&T.loop, UV_RUN_NOWAIT);
    return uv_loop_close(&T.loop) == 0 ? 0 : -1;
}

#define NEED_ROOT_NETNS()                                                                      \
    do {                                                                                       \
        if (!T.root_netns) {                                                                   \
            print_message("SKIP: needs root (own network namespace, iptables, sysctl)\n");     \
            skip();                                                                            \
        }                                                                                      \
    } while (0)

/* ---- statistics ---------------------------------------------------------------------------- */

static void test_stats_by_hand(void **state)
{
    rn_icmp_stats_t s;
    const double r[] = { 1.0, 2.0, 4.0 };
    rn_icmp_stats(r, 3, 4, &s);
    assert_true(s.min == 1.0 && s.max == 4.0);
    assert_true(fabs(s.avg - 7.0 / 3.0) < 1e-12);
    assert_true(fabs(s.sd - sqrt(14.0 / 9.0)) < 1e-12); /* population: (16+1+25)/9/3 */
    assert_true(fabs(s.jitter - 1.5) < 1e-12);          /* (|2-1| + |4-2|) / 2 */
    assert_true(s.loss_pct == 25.0);

    const double one[] = { 3.5 };
    rn_icmp_stats(one, 1, 1, &s);
    assert_true(s.min == 3.5 && s.avg == 3.5 && s.max == 3.5);
    assert_true(s.sd == 0 && s.jitter == 0 && s.loss_pct == 0);

    const double zig[] = { 1, 3, 1, 3 };
    rn_icmp_stats(zig, 4, 4, &s);
    assert_true(s.avg == 2 && s.sd == 1 && s.jitter == 2);
}

static void test_stats_nothing_received_is_total_loss_and_unknown_rtt(void **state)
{
    rn_icmp_stats_t s;
    rn_icmp_stats(NULL, 0, 5, &s);
    assert_true(s.loss_pct == 100.0);
    assert_true(isnan(s.min) && isnan(s.avg) && isnan(s.max) && isnan(s.sd) && isnan(s.jitter));
    rn_icmp_stats(NULL, 0, 0, &s); /* nothing sent: loss unknown too */
    assert_true(isnan(s.loss_pct));
}

/* ---- live rounds --------------------------------------------------------------------------- */

static void live_round(const char *range)
{
    if (range) {
        NEED_ROOT_NETNS();
        set_ping_group_range(range);
    }
    const char *names[] = { "lo4", "lo6" }, *addrs[] = { "127.0.0.1", "::1" };
    rn_icmp_prober_t *p = start_prober(5, 2, names, addrs);
    run_until("lo6", 1, 3000);
    const got_t *g4 = nth_got("lo4", 0), *g6 = nth_got("lo6", 0);
    assert_good_round(g4, 5);
    assert_good_round(g6, 5);
    print_message("loopback RTT avg: IPv4 %.3f ms, IPv6 %.3f ms (jitter %.3f / %.3f ms)\n",
                  g4->v[RN_ICMP_RTTAVG].gauge, g6->v[RN_ICMP_RTTAVG].gauge,
                  g4->v[RN_ICMP_JITTER].gauge, g6->v[RN_ICMP_JITTER].gauge);
    close_prober(p);
    if (range)
        set_ping_group_range("1 0");
}

static void test_live_round_loopback(void **state) { live_round(NULL); }

/* A wall-clock step of an hour, forward then back, in the middle of a round changes no RTT: no
 * spike of an hour, no zero, no reply taken for late. */
static void test_wall_clock_step_changes_no_rtt(void **state)
{
    const int64_t steps[] = { 3600 * 1000000000ll, -3600 * 1000000000ll };
    for (size_t i = 0; i < 2; i++) {
        const char *names[] = { "lo4" }, *addrs[] = { "127.0.0.1" };
        rn_icmp_prober_t *p = start_prober(5, 1, names, addrs);
        memset(&W, 0, sizeof W);
        W.step_ns = steps[i];
        want_step = true;
        rn_icmp_prober_set_send_hook(p, step_on_send, NULL);
        run_until("lo4", 1, 3000);
        assert_true(W.active);
        const got_t *g = nth_got("lo4", 0);
        print_message("step %+lld s: RTT min %.3f max %.3f ms, %g of 5 received\n",
                      (long long)(steps[i] / 1000000000), g->v[RN_ICMP_RTTMIN].gauge,
                      g->v[RN_ICMP_RTTMAX].gauge, g->v[RN_ICMP_RECV].gauge);
        assert_good_round(g, 5);
        close_prober(p);
        memset(&W, 0, sizeof W);
    }
}
static void test_live_round_raw_socket(void **state) { live_round("1 0"); }
static void test_live_round_datagram_socket(void **state) { live_round("0 2147483647"); }

static void test_unanswered_target_is_total_loss(void **state)
{
    NEED_ROOT_NETNS();
    assert_int_equal(system("iptables -A INPUT -d 127.0.0.77 -p icmp -j DROP"), 0);
    const char *names[] = { "mute", "lo4" }, *addrs[] = { "127.0.0.77", "127.0.0.1" };
    rn_icmp_prober_t *p = start_prober(3, 2, names, addrs);
    run_until("lo4", 1, 3000);
    const got_t *g = nth_got("mute", 0);
    assert_non_null(g);
    assert_true(g->v[RN_ICMP_LOSS].gauge == 100);
    assert_true(g->v[RN_ICMP_SENT].gauge == 3 && g->v[RN_ICMP_RECV].gauge == 0);
    for (int m = RN_ICMP_RTTMIN; m <= RN_ICMP_JITTER; m++)
        assert_int_equal(g->v[m].kind, RN_VALUE_UNKNOWN);
    assert_good_round(nth_got("lo4", 0), 3); /* the other target is unaffected */
    close_prober(p);
    assert_int_equal(system("iptables -D INPUT -d 127.0.0.77 -p icmp -j DROP"), 0);
}

/* The late-reply test: a packet socket on lo sees the prober's requests to 127.0.0.77 (which
 * iptables keeps from the stack); the test answers the first request of round 1 at once, and the
 * second only after round 1's sample came out. */
static struct {
    int sniff, forge;
    uv_poll_t poll;
    uint8_t held[64 + 20];
    size_t held_len;
    struct in_addr held_src;
    int seen;
} L;

/* Sends an echo reply from 127.0.0.77 for the captured request (IP packet `req`). */
static void forge_reply(const uint8_t *req, size_t len)
{
    size_t hl = (size_t)(req[0] & 0x0f) * 4;
    uint8_t icmp[128];
    size_t n = len - hl < sizeof icmp ? len - hl : sizeof icmp;
    memcpy(icmp, req + hl, n);
    icmp[0] = ICMP_ECHOREPLY;
    icmp[2] = icmp[3] = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(icmp[i] << 8 | icmp[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    icmp[2] = (uint8_t)(~sum >> 8);
    icmp[3] = (uint8_t)~sum;
    struct sockaddr_in to = { .sin_family = AF_INET };
    memcpy(&to.sin_addr, req + 12, 4); /* back to the request's source */
    assert_int_equal(sendto(L.forge, icmp, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);
}

static void on_sniffed(uv_poll_t *h, int status, int events)
{
    uint8_t buf[256];
    ssize_t len;
    while ((len = recv(L.sniff, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        if (len < 28 || buf[9] != IPPROTO_ICMP || buf[20] != ICMP_ECHO ||
            memcmp(buf + 16, "\x7f\x00\x00\x4d", 4) != 0) /* to 127.0.0.77 */
            continue;
        if (L.seen++ == 0) {
            forge_reply(buf, (size_t)len); /* in time: counts */
        } else if (L.seen == 2) {
            memcpy(L.held, buf, (size_t)len < sizeof L.held ? (size_t)len : sizeof L.held);
            L.held_len = (size_t)len < sizeof L.held ? (size_t)len : sizeof L.held;
        }
    }
}

static void on_late_got(const got_t *g)
{
    if (strcmp(g->object, "mute") == 0 && count_got("mute") == 1 && L.held_len)
        forge_reply(L.held, L.held_len); /* round 1 is over: too late */
}

static void late_reply(const char *range)
{
    NEED_ROOT_NETNS();
    set_ping_group_range(range);
    assert_int_equal(system("iptables -A INPUT -d 127.0.0.77 -p icmp -j DROP"), 0);
    memset(&L, 0, sizeof L);
    L.sniff = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_IP));
    struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                              .sll_ifindex = (int)if_nametoindex("lo") };
    assert_int_equal(bind(L.sniff, (struct sockaddr *)&ll, sizeof ll), 0);
    L.forge = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    struct sockaddr_in from = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.77", &from.sin_addr);
    assert_int_equal(bind(L.forge, (struct sockaddr *)&from, sizeof from), 0);
    uv_poll_init(&T.loop, &L.poll, L.sniff);
    uv_poll_start(&L.poll, UV_READABLE, on_sniffed);
    T.on_got = on_late_got;

    const char *names[] = { "mute" }, *addrs[] = { "127.0.0.77" };
    rn_icmp_prober_t *p = start_prober(2, 1, names, addrs);
    run_until("mute", 2, 4000);
    const got_t *r1 = nth_got("mute", 0), *r2 = nth_got("mute", 1);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_true(r1->v[RN_ICMP_RECV].gauge == 1 && r1->v[RN_ICMP_LOSS].gauge == 50);
    assert_true(r2->v[RN_ICMP_RECV].gauge == 0 && r2->v[RN_ICMP_LOSS].gauge == 100);
    uv_close((uv_handle_t *)&L.poll, NULL);
    close_prober(p);
    close(L.sniff);
    close(L.forge);
    assert_int_equal(system("iptables -D INPUT -d 127.0.0.77 -p icmp -j DROP"), 0);
    set_ping_group_range("1 0");
}

static void test_late_reply_is_not_counted_raw(void **state) { late_reply("1 0"); }
static void test_late_reply_is_not_counted_datagram(void **state) { late_reply("0 2147483647"); }

static void test_bad_address_is_skipped_and_close_frees(void **state)
{
    const char *names[] = { "bad", "lo4" }, *addrs[] = { "not-an-ip", "127.0.0.1" };
    rn_icmp_prober_t *p = start_prober(1, 2, names, addrs);
    run_until("lo4", 1, 3000);
    assert_int_equal(count_got("bad"), 0);
    assert_int_equal(count_got("lo4"), 1);
    close_prober(p);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_by_hand),
        cmocka_unit_test(test_stats_nothing_received_is_total_loss_and_unknown_rtt),
        T_(test_live_round_loopback),
        T_(test_wall_clock_step_changes_no_rtt),
        T_(test_live_round_raw_socket),
        T_(test_live_round_datagram_socket),
        T_(test_unanswered_target_is_total_loss),
        T_(test_late_reply_is_not_counted_raw),
        T_(test_late_reply_is_not_counted_datagram),
        T_(test_bad_address_is_skipped_and_close_frees),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
