/* Tests of agent/vc_quality.c and agent/pcap_capture.c: live capture on the loop.
 *
 * As root the test moves itself into a network namespace of its own (unshare) and brings its lo
 * up; it then sends a G.711 RTP stream over lo from a libuv timer (20 ms, every packet with
 * seq % 20 == 7 skipped: 5% loss) while the module captures lo with a BPF filter, and checks the
 * "rtp" samples it emits. Without root the live tests are skipped; the error paths (bad filter,
 * no such interface) run either way where they can. */
#define _GNU_SOURCE /* unshare */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "metrics.h"
#include "../../../agent/vc_quality.h"

static struct {
    bool live; /* root, in a namespace of our own, lo up */
    uv_loop_t loop;
    uv_timer_t send_timer, stop_timer;
    int fd;
    uint32_t seq;
    rn_value_t rtp[8][RN_RTP_N];
    rn_value_t rec[8][RN_REC_N]; /* recording mode's "rec" samples */
    size_t n_rtp, n_tcphs, n_pcap, n_rec;
    double pcap_received, pcap_dropped; /* the capture's own counters, summed */
} T;

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *v, size_t n, uint64_t speed)
{
    (void)ctx, (void)device, (void)time_ms, (void)speed;
    if (strcmp(source, "rec") == 0) { /* recording mode: the capture is named after a station */
        assert_string_equal(object, "ps-test");
        assert_int_equal(n, RN_REC_N);
        if (T.n_rec < 8)
            memcpy(T.rec[T.n_rec], v, sizeof T.rec[0]);
        T.n_rec++;
        return;
    }
    assert_string_equal(object, "vc");
    if (strcmp(source, "rtp") == 0 && T.n_rtp < 8) {
        assert_int_equal(n, RN_RTP_N);
        memcpy(T.rtp[T.n_rtp++], v, sizeof T.rtp[0]);
    } else if (strcmp(source, "tcphs") == 0) {
        assert_int_equal(n, RN_TCPHS_N);
        T.n_tcphs++;
    } else if (strcmp(source, "pcap") == 0) { /* libpcap's counters of the interval */
        assert_int_equal(n, RN_PCAP_N);
        assert_true(v[RN_PCAP_RECEIVED].kind == RN_VALUE_GAUGE);
        T.pcap_received += v[RN_PCAP_RECEIVED].gauge;
        T.pcap_dropped += v[RN_PCAP_DROPPED].gauge;
        T.n_pcap++;
    }
}

static void on_send(uv_timer_t *t)
{
    (void)t;
    uint32_t i = T.seq++;
    if (i % 20 == 7)
        return;
    uint8_t pkt[12 + 160] = { 0x80, 0 };
    uint16_t seq = htons((uint16_t)i);
    uint32_t ts = htonl(160 * i), ssrc = htonl(0x1234);
    memcpy(pkt + 2, &seq, 2), memcpy(pkt + 4, &ts, 4), memcpy(pkt + 8, &ssrc, 4);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(16400) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(sendto(T.fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) > 0);
}

static void on_stop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static Rn__Capture capture(const char *ifname, const char *filter)
{
    Rn__Capture c = RN__CAPTURE__INIT;
    c.name = "vc";
    c.ifname = (char *)ifname;
    c.filter = (char *)filter;
    c.has_interval_s = 1;
    c.interval_s = 1;
    return c;
}

static void closed(void *data)
{
    *(bool *)data = true;
}

static void test_live_capture_reports_loss_of_a_stream(void **state)
{
    (void)state;
    if (!T.live)
        skip();
    rn_vc_quality_t *q;
    assert_int_equal(rn_vc_quality_new(&T.loop, on_sample, NULL, &q), 0);
    Rn__Capture c = capture("lo", "udp portrange 16384-32767"), *cp = &c;
    assert_int_equal(rn_vc_quality_set_captures(q, &cp, 1), 0);
    assert_int_equal(rn_vc_quality_running(q), 1);
    T.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(T.fd >= 0);
    uv_timer_init(&T.loop, &T.send_timer);
    uv_timer_init(&T.loop, &T.stop_timer);
    uv_timer_start(&T.send_timer, on_send, 20, 20);
    uv_timer_start(&T.stop_timer, on_stop, 4500, 0);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&T.send_timer, NULL);
    uv_close((uv_handle_t *)&T.stop_timer, NULL);
    /* the same plan again keeps the capture; an empty one stops it */
    assert_int_equal(rn_vc_quality_set_captures(q, &cp, 1), 0);
    assert_int_equal(rn_vc_quality_set_captures(q, NULL, 0), 0);
    assert_int_equal(rn_vc_quality_running(q), 0);
    bool done = false;
    rn_vc_quality_close(q, closed, &done);
    assert_false(done); /* never inside the call */
    uv_run(&T.loop, UV_RUN_DEFAULT);
    assert_true(done);
    close(T.fd);
    /* 4 reports; the full intervals in the middle hold about 50 packets with 5% lost */
    assert_true(T.n_rtp >= 3);
    assert_int_equal(T.n_tcphs, T.n_rtp);
    uint64_t packets = 0;
    for (size_t i = 1; i + 1 < T.n_rtp; i++) {
        assert_int_equal(T.rtp[i][RN_RTP_STREAMS].gauge, 1);
        assert_true(T.rtp[i][RN_RTP_MOS].kind == RN_VALUE_GAUGE);
        assert_true(T.rtp[i][RN_RTP_JITTER_MS].gauge < 5);
        packets += (uint64_t)T.rtp[i][RN_RTP_PACKETS].gauge;
    }
    /* loss over the whole run, from the counts: every 20th packet */
    double lost = 0, got = 0;
    for (size_t i = 0; i < T.n_rtp; i++)
        if (T.rtp[i][RN_RTP_LOST_PCT].kind == RN_VALUE_GAUGE) {
            double p = T.rtp[i][RN_RTP_PACKETS].gauge, l = T.rtp[i][RN_RTP_LOST_PCT].gauge;
            lost += p * l / (100 - l);
            got += p;
        }
    assert_true(packets > 0);
    assert_float_equal(100 * lost / (lost + got), 5.0, 1.5);
    /* one "pcap" sample per interval; the capture received at least the RTP it reported (the
     * loss above is the sender's gaps, none of it the capture's: it dropped nothing) */
    assert_int_equal(T.n_pcap, T.n_rtp);
    assert_true(T.pcap_received >= got);
    assert_float_equal(T.pcap_dropped, 0, 0);
}

/* Recording mode (a police station's stream to its NVR): the same stream gives "rec" samples
 * named after the station (streams, packets, loss, jitter) and nothing else: no "rtp", "tcphs"
 * or "pcap", which the VC views and the VC-quality alarm read. */
static void test_recording_mode_emits_rec_only(void **state)
{
    (void)state;
    if (!T.live)
        skip();
    size_t rtp0 = T.n_rtp, tcphs0 = T.n_tcphs, pcap0 = T.n_pcap;
    T.seq = 0;
    rn_vc_quality_t *q;
    assert_int_equal(rn_vc_quality_new_recording(&T.loop, on_sample, NULL, &q), 0);
    Rn__Capture c = capture("lo", "udp and dst host 127.0.0.1 and (src host 127.0.0.1)"), *cp = &c;
    c.name = "ps-test";
    assert_int_equal(rn_vc_quality_set_captures(q, &cp, 1), 0);
    T.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(T.fd >= 0);
    uv_timer_init(&T.loop, &T.send_timer);
    uv_timer_init(&T.loop, &T.stop_timer);
    uv_timer_start(&T.send_timer, on_send, 20, 20);
    uv_timer_start(&T.stop_timer, on_stop, 3500, 0);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&T.send_timer, NULL);
    uv_close((uv_handle_t *)&T.stop_timer, NULL);
    bool done = false;
    rn_vc_quality_close(q, closed, &done);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    assert_true(done);
    close(T.fd);
    assert_true(T.n_rec >= 2);
    assert_int_equal(T.n_rtp, rtp0);
    assert_int_equal(T.n_tcphs, tcphs0);
    assert_int_equal(T.n_pcap, pcap0);
    double lost = 0, got = 0;
    for (size_t i = 1; i < T.n_rec && i < 8; i++) { /* the first interval holds the probation */
        assert_int_equal(T.rec[i][RN_REC_STREAMS].gauge, 1);
        assert_true(T.rec[i][RN_REC_JITTER_MS].kind == RN_VALUE_GAUGE);
        double p = T.rec[i][RN_REC_PACKETS].gauge, l = T.rec[i][RN_REC_LOSS_PCT].gauge;
        lost += p * l / (100 - l);
        got += p;
    }
    assert_true(got > 0);
    assert_float_equal(100 * lost / (lost + got), 5.0, 2.5);
}

static void test_bad_filter_and_interface_are_errors(void **state)
{
    (void)state;
    if (!T.live)
        skip();
    rn_vc_quality_t *q;
    assert_int_equal(rn_vc_quality_new(&T.loop, on_sample, NULL, &q), 0);
    Rn__Capture c = capture("lo", "udp portrange nonsense"), *cp = &c;
    assert_int_equal(rn_vc_quality_set_captures(q, &cp, 1), -EINVAL);
    c = capture("rn-nosuch0", "udp");
    assert_int_equal(rn_vc_quality_set_captures(q, &cp, 1), -ENODEV);
    assert_int_equal(rn_vc_quality_running(q), 0);
    bool done = false;
    rn_vc_quality_close(q, closed, &done);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    assert_true(done);
}

int main(void)
{
    if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)
        T.live = system("ip link set lo up") == 0;
    else
        fprintf(stderr, "not root or no namespaces: live capture tests skipped\n");
    uv_loop_init(&T.loop);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_capture_reports_loss_of_a_stream),
        cmocka_unit_test(test_recording_mode_emits_rec_only),
        cmocka_unit_test(test_bad_filter_and_interface_are_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    uv_loop_close(&T.loop);
    return rc;
}
