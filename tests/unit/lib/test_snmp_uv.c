/* Tests of lib/snmp_uv.c, the net-snmp <-> libuv bridge, without snmpd: the peer is a UDP socket
 * on 127.0.0.1 in the same loop that either stays silent (net-snmp's retransmissions and timeout
 * must come from the bridge's timer) or answers a v2c GET by echoing it back as a Response (the
 * reply must come in through the bridge's uv_poll). The full exchanges with a real snmpd and
 * snmptrapd are tests/unit/agent/test_snmp_poller and tests/unit/collector/test_notify_live. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "error.h"
#include "snmp_uv.h"
#include "util.h"

typedef struct {
    uv_loop_t loop;
    uv_udp_t peer;
    bool answer;        /* the peer answers GETs */
    int port;
    rn_snmp_uv_t snmp;
    int n_io, n_closed;
    int n_timed_out, n_received, n_resend;
    uint64_t timed_out_at, started_at;
} fx_t;

static void on_peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char mem[2048];
    (void)h, (void)suggested;
    *buf = uv_buf_init(mem, sizeof mem);
}

/* Skips the tag and length of the BER element at p[*off]. Returns false if it does not fit. */
static bool ber_enter(const uint8_t *p, size_t n, size_t *off)
{
    if (*off + 2 > n)
        return false;
    size_t len_bytes = p[*off + 1] & 0x80 ? (p[*off + 1] & 0x7f) : 0;
    *off += 2 + len_bytes;
    return *off <= n;
}

/* Skips the whole BER element at p[*off] (short-form length only: version and community). */
static bool ber_skip(const uint8_t *p, size_t n, size_t *off)
{
    if (*off + 2 > n || p[*off + 1] & 0x80)
        return false;
    *off += 2 + p[*off + 1];
    return *off <= n;
}

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    free(req);
}

/* The peer: a v2c GET comes back as a Response with the same request id (its PDU tag 0xa0
 * turned into 0xa2), which net-snmp takes as the answer. */
static void on_peer_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags)
{
    fx_t *fx = container_of(h, fx_t, peer);
    (void)flags;
    if (nread <= 0 || !addr || !fx->answer)
        return;
    uint8_t *p = (uint8_t *)buf->base;
    size_t n = (size_t)nread, off = 0;
    if (!ber_enter(p, n, &off) || !ber_skip(p, n, &off) || !ber_skip(p, n, &off) || off >= n ||
        p[off] != 0xa0)
        return;
    p[off] = 0xa2;
    uv_udp_send_t *req = malloc(sizeof *req);
    uv_buf_t out = uv_buf_init(buf->base, (unsigned)n);
    if (req && uv_udp_send(req, h, &out, 1, addr, on_sent) != 0)
        free(req);
}

static int setup(void **state)
{
    static fx_t fx;
    memset(&fx, 0, sizeof fx);
    rn_snmp_uv_lib_init("test-snmp-uv");
    assert_int_equal(uv_loop_init(&fx.loop), 0);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_udp_init(&fx.loop, &fx.peer), 0);
    assert_int_equal(uv_udp_bind(&fx.peer, (struct sockaddr *)&a, 0), 0);
    int len = sizeof a;
    assert_int_equal(uv_udp_getsockname(&fx.peer, (struct sockaddr *)&a, &len), 0);
    fx.port = ntohs(a.sin_port);
    assert_int_equal(uv_udp_recv_start(&fx.peer, on_peer_alloc, on_peer_recv), 0);
    *state = &fx;
    return 0;
}

static void on_peer_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_closed(rn_snmp_uv_t *b);

static int teardown(void **state)
{
    fx_t *fx = *state;
    if (fx->snmp.sessp && !fx->snmp.closing) /* a test that failed before closing it */
        rn_snmp_uv_close(&fx->snmp, on_closed);
    uv_close((uv_handle_t *)&fx->peer, on_peer_closed);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0); /* nothing of the bridge left open */
    return 0;
}

/* The owner's net-snmp callback: only counts (it runs inside snmp_sess_read2/timeout). */
static int on_pdu(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
    fx_t *fx = magic;
    (void)s, (void)reqid, (void)pdu;
    if (op == NETSNMP_CALLBACK_OP_TIMED_OUT) {
        fx->n_timed_out++;
        fx->timed_out_at = uv_now(&fx->loop);
    } else if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
        fx->n_received++;
    } else if (op == NETSNMP_CALLBACK_OP_RESEND) {
        fx->n_resend++;
    }
    return 1;
}

static void on_io(rn_snmp_uv_t *b)
{
    fx_t *fx = container_of(b, fx_t, snmp);
    fx->n_io++;
    rn_snmp_uv_arm(b); /* as the owners do after every read and timeout */
}

static void on_closed(rn_snmp_uv_t *b)
{
    fx_t *fx = container_of(b, fx_t, snmp);
    fx->n_closed++;
    assert_null(b->sessp);
}

/* Closes the bridge and runs the loop (the peer keeps it alive) until on_closed has run. */
static void close_bridge(fx_t *fx)
{
    rn_snmp_uv_close(&fx->snmp, on_closed);
    for (int i = 0; i < 100 && fx->n_closed == 0; i++)
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(fx->n_closed, 1);
}

/* Opens a v2c session to the peer and sends one GET of sysUpTime.0. */
static void open_and_get(fx_t *fx, uint32_t timeout_ms, uint32_t retries)
{
    char peer[64], why[160] = "";
    snprintf(peer, sizeof peer, "udp:127.0.0.1:%d", fx->port);
    rn_snmp_uv_config_t cfg = { .peer = peer, .version = 2, .community = "public",
                                .timeout_ms = timeout_ms, .retries = retries };
    assert_int_equal(rn_snmp_uv_open(&fx->snmp, &fx->loop, &cfg, on_io, why, sizeof why), 0);
    assert_non_null(fx->snmp.sessp);
    static const oid uptime[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
    snmp_add_null_var(pdu, uptime, OID_LENGTH(uptime));
    assert_int_not_equal(snmp_sess_async_send(fx->snmp.sessp, pdu, on_pdu, fx), 0);
    fx->started_at = uv_now(&fx->loop);
    assert_true(rn_snmp_uv_arm(&fx->snmp)); /* one request outstanding */
}

static void test_silent_peer_times_out_through_the_timer(void **state)
{
    fx_t *fx = *state;
    open_and_get(fx, 100, 2);
    /* the peer keeps the loop alive: run it in steps */
    while (fx->n_timed_out == 0 && uv_now(&fx->loop) - fx->started_at < 3000)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(fx->n_timed_out, 1);
    assert_int_equal(fx->n_resend, 2);     /* the two retries went out */
    /* one call per expiry at least; libuv's loop time lags the clock net-snmp reads, so a timer
     * can fire a little before net-snmp's due time: that call does nothing and re-arms */
    assert_true(fx->n_io >= 3);
    uint64_t took = fx->timed_out_at - fx->started_at;
    print_message("timed out after %llu ms (3 x 100 ms)\n", (unsigned long long)took);
    assert_true(took >= 290 && took < 1500);
    assert_false(rn_snmp_uv_arm(&fx->snmp)); /* nothing outstanding any more */
    close_bridge(fx);
}

static void test_answer_comes_in_through_the_poll(void **state)
{
    fx_t *fx = *state;
    fx->answer = true;
    open_and_get(fx, 2000, 0);
    while (fx->n_received == 0 && uv_now(&fx->loop) - fx->started_at < 3000)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(fx->n_received, 1);
    assert_int_equal(fx->n_timed_out, 0);
    assert_true(fx->n_io >= 1);
    assert_true(uv_now(&fx->loop) - fx->started_at < 1000); /* not via a retransmission */
    assert_false(rn_snmp_uv_arm(&fx->snmp));
    close_bridge(fx);
}

static void test_close_with_a_request_in_flight(void **state)
{
    fx_t *fx = *state;
    open_and_get(fx, 100, 5);
    close_bridge(fx);
    uv_run(&fx->loop, UV_RUN_NOWAIT); /* nothing of the bridge fires after its close */
    assert_int_equal(fx->n_io, 0);
    assert_false(rn_snmp_uv_arm(&fx->snmp)); /* closed: no session */
}

static void test_bad_v3_settings_leave_nothing_open(void **state)
{
    fx_t *fx = *state;
    char why[160] = "";
    rn_snmp_uv_config_t cfg = { .peer = "udp:127.0.0.1:9", .version = 3, .user = "u",
                                .auth_proto = "ROT13", .auth_key = "secret-auth-key",
                                .timeout_ms = 100 };
    int rc = rn_snmp_uv_open(&fx->snmp, &fx->loop, &cfg, on_io, why, sizeof why);
    assert_int_equal(rc, -EINVAL);
    print_message("refused: %s\n", why);
    assert_true(why[0] != '\0');
    assert_null(strstr(why, "secret-auth-key"));
    assert_null(fx->snmp.sessp);
    assert_false(rn_snmp_uv_arm(&fx->snmp));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_silent_peer_times_out_through_the_timer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_answer_comes_in_through_the_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_a_request_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_v3_settings_leave_nothing_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
