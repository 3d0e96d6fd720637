/* Unit tests of lib/tls.c: real TLS 1.3 on loopback with a real libuv loop.
 *
 * Certificates are made at start by deploy/pki/rajnet-pki in a temporary directory: the state CA,
 * a collector "collector.test" (SANs 127.0.0.1, localhost), an imposter collector, the node
 * "jaipur/sanganer" (valid and expired), and the same node under another CA.
 * With RN_TLS_BENCH=1 in the environment, also prints handshake times and throughput. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "tls.h"

#define MIB (1024 * 1024)

static char pki[256];

typedef struct harness harness_t;

typedef struct {
    harness_t *h;
    rn_tls_stream_t *s;
    bool close_requested;
    int ready, errors, closed, data_after_close;
    int err;
    char why[400], cn[256];
    bool resumed;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    bool count_only, keep_open_on_error;
    uint64_t ready_ns;
} peer_t;

struct harness {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_timer_t guard;
    bool guard_fired;
    struct sockaddr_in addr;
    rn_tls_ctx_t *sctx, *cctx;
    peer_t srv, cli;
    int accepted;
    bool close_on_accept;
};

static void path(char *out, size_t size, const char *file)
{
    snprintf(out, size, "%s/%s", pki, file);
}

/* ---- peer callbacks (what an owner does) -------------------------------------------------- */

static void on_closed(void *data)
{
    ((peer_t *)data)->closed++;
}

static void peer_close(peer_t *p)
{
    if (p->s && !p->close_requested) {
        p->close_requested = true;
        rn_tls_stream_close(p->s, on_closed, p);
    }
}

static void on_ready(rn_tls_stream_t *s, void *data)
{
    peer_t *p = data;
    assert_false(p->close_requested);
    p->ready++;
    p->ready_ns = uv_hrtime();
    p->resumed = rn_tls_stream_resumed(s);
    snprintf(p->cn, sizeof p->cn, "%s", rn_tls_stream_peer_cn(s));
}

static void on_data(rn_tls_stream_t *s, void *data, const uint8_t *buf, size_t len)
{
    peer_t *p = data;
    (void)s;
    if (p->close_requested)
        p->data_after_close++;
    if (!p->count_only) {
        if (p->rx_len + len > p->rx_cap) {
            p->rx_cap = (p->rx_len + len) * 2;
            p->rx = realloc(p->rx, p->rx_cap);
            assert_non_null(p->rx);
        }
        memcpy(p->rx + p->rx_len, buf, len);
    }
    p->rx_len += len;
}

/* As an owner must: the error is final, close the stream (from inside the callback). */
static void on_error(rn_tls_stream_t *s, void *data, int err, const char *why)
{
    peer_t *p = data;
    (void)s;
    assert_false(p->close_requested);
    p->errors++;
    p->err = err;
    snprintf(p->why, sizeof p->why, "%s", why);
    if (getenv("RN_TLS_VERBOSE"))
        printf("    %s error %d: %s\n", p == &p->h->srv ? "server" : "client", err, why);
    if (!p->keep_open_on_error)
        peer_close(p);
}

static const rn_tls_stream_cbs_t cbs = { on_ready, on_data, on_error };

static void on_connection(uv_stream_t *server, int status)
{
    harness_t *h = server->data;
    assert_int_equal(status, 0);
    h->accepted++;
    free(h->srv.rx);
    h->srv = (peer_t){ .h = h };
    assert_int_equal(rn_tls_stream_accept(h->sctx, server, &cbs, &h->srv, &h->srv.s), 0);
    if (h->close_on_accept)
        peer_close(&h->srv);
}

/* ---- harness -------------------------------------------------------------------------------- */

static rn_tls_ctx_t *server_ctx(const char *name)
{
    char crt[300], key[300], ca[300], err[512];
    char fcrt[64], fkey[64];
    snprintf(fcrt, sizeof fcrt, "%s.crt", name);
    snprintf(fkey, sizeof fkey, "%s.key", name);
    path(crt, sizeof crt, fcrt);
    path(key, sizeof key, fkey);
    path(ca, sizeof ca, "ca.crt");
    rn_tls_ctx_t *c = NULL;
    int rc = rn_tls_ctx_new(RN_TLS_SERVER, crt, key, ca, &c, err, sizeof err);
    if (rc)
        fail_msg("server ctx: %s", err);
    return c;
}

/* A client context for the node certificate `stem` (NULL: no certificate) under CA dir. */
static rn_tls_ctx_t *client_ctx(const char *stem)
{
    char crt[300], key[300], ca[300], err[512], f[128];
    snprintf(f, sizeof f, "%s.crt", stem ? stem : "");
    path(crt, sizeof crt, f);
    snprintf(f, sizeof f, "%s.key", stem ? stem : "");
    path(key, sizeof key, f);
    path(ca, sizeof ca, "ca.crt");
    rn_tls_ctx_t *c = NULL;
    int rc = rn_tls_ctx_new(RN_TLS_CLIENT, stem ? crt : NULL, stem ? key : NULL, ca, &c, err,
                            sizeof err);
    if (rc)
        fail_msg("client ctx: %s", err);
    return c;
}

static harness_t *harness_new(const char *server_cert, const char *client_cert)
{
    harness_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    h->sctx = server_ctx(server_cert);
    h->cctx = client_ctx(client_cert);
    uv_tcp_init(&h->loop, &h->listener);
    h->listener.data = h;
    uv_ip4_addr("127.0.0.1", 0, &h->addr);
    assert_int_equal(uv_tcp_bind(&h->listener, (struct sockaddr *)&h->addr, 0), 0);
    int len = sizeof h->addr;
    uv_tcp_getsockname(&h->listener, (struct sockaddr *)&h->addr, &len);
    assert_int_equal(uv_listen((uv_stream_t *)&h->listener, 64, on_connection), 0);
    uv_timer_init(&h->loop, &h->guard);
    h->guard.data = h;
    return h;
}

static void connect_client(harness_t *h, const char *expected)
{
    free(h->cli.rx);
    h->cli = (peer_t){ .h = h };
    assert_int_equal(rn_tls_stream_connect(h->cctx, &h->loop, (struct sockaddr *)&h->addr,
                                           expected, &cbs, &h->cli, &h->cli.s), 0);
}

static void on_guard(uv_timer_t *t)
{
    ((harness_t *)t->data)->guard_fired = true;
}

/* Runs the loop until pred(h) holds or ms pass. Returns pred(h). */
static bool run_until(harness_t *h, bool (*pred)(harness_t *), uint64_t ms)
{
    h->guard_fired = false;
    uv_timer_start(&h->guard, on_guard, ms, 0);
    while (!pred(h) && !h->guard_fired)
        uv_run(&h->loop, UV_RUN_ONCE);
    uv_timer_stop(&h->guard);
    return pred(h);
}

static bool both_ready(harness_t *h) { return h->srv.ready && h->cli.ready; }
static bool both_done(harness_t *h)
{
    return (h->srv.ready || h->srv.errors) && (h->cli.ready || h->cli.errors);
}
static bool both_errored(harness_t *h) { return h->srv.errors && h->cli.errors; }
static bool srv_errored(harness_t *h) { return h->srv.errors > 0; }
static bool both_closed(harness_t *h)
{
    return (!h->srv.s || h->srv.closed) && (!h->cli.s || h->cli.closed);
}
static bool never(harness_t *h) { (void)h; return false; }

/* Closes what is open, runs the loop dry, and checks every handle was closed. */
static void harness_free(harness_t *h)
{
    peer_close(&h->srv);
    peer_close(&h->cli);
    assert_true(run_until(h, both_closed, 5000));
    assert_int_equal(h->srv.data_after_close + h->cli.data_after_close, 0);
    uv_close((uv_handle_t *)&h->listener, NULL);
    uv_close((uv_handle_t *)&h->guard, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    rn_tls_ctx_free(h->sctx);
    rn_tls_ctx_free(h->cctx);
    free(h->srv.rx);
    free(h->cli.rx);
    free(h);
}

/* Closes both ends of one connection and waits for the close callbacks. */
static void close_both(harness_t *h)
{
    peer_close(&h->cli);
    peer_close(&h->srv);
    assert_true(run_until(h, both_closed, 5000));
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static int run_pki(const char *fmt, ...)
{
    char args[512], cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "bash '%s/deploy/pki/rajnet-pki' %s >/dev/null", RN_SRCDIR, args);
    return system(cmd);
}

static int make_pki(void **state)
{
    (void)state;
    snprintf(pki, sizeof pki, "%s/rn-tls-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(pki))
        return -1;
    int rc = run_pki("ca %s", pki);
    rc |= run_pki("collector %s collector.test --ip 127.0.0.1 --dns localhost", pki);
    rc |= run_pki("collector %s imposter.test --ip 127.0.0.1", pki);
    rc |= run_pki("node %s jaipur/sanganer", pki);
    rc |= run_pki("expired %s jaipur/sanganer", pki);
    rc |= run_pki("ca %s/other", pki);
    rc |= run_pki("node %s/other jaipur/sanganer", pki);
    return rc ? -1 : 0;
}

static int remove_pki(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
    return system(cmd) ? -1 : 0;
}

/* Deterministic test bytes: byte i of stream `seed`. */
static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_mutual_auth_gives_both_sides_the_peer_cn(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    connect_client(h, "collector.test");
    assert_true(run_until(h, both_ready, 5000));
    assert_string_equal(h->srv.cn, "jaipur/sanganer");
    assert_string_equal(h->cli.cn, "collector.test");
    assert_false(h->srv.resumed);
    assert_false(h->cli.resumed);
    assert_int_equal(strncmp(rn_tls_stream_peer_addr(h->srv.s), "127.0.0.1:", 10), 0);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%u", ntohs(h->addr.sin_port));
    assert_string_equal(rn_tls_stream_peer_addr(h->cli.s), want);
    assert_int_equal(rn_tls_stream_write(h->cli.s, (const uint8_t *)"hello", 5), 0);
    assert_true(run_until(h, never, 100) || h->srv.rx_len == 5);
    assert_memory_equal(h->srv.rx, "hello", 5);
    /* A clean close from the client reaches the server as EOF. */
    peer_close(&h->cli);
    assert_true(run_until(h, srv_errored, 5000));
    assert_int_equal(h->srv.err, UV_EOF);
    assert_string_equal(h->srv.why, "peer closed the connection");
    harness_free(h);
}

static bool mib_arrived(harness_t *h) { return h->srv.rx_len >= MIB && h->cli.rx_len >= MIB; }

/* Writes len bytes of buf in random chunk sizes (1 byte to 70 KB). */
static void write_in_chunks(rn_tls_stream_t *s, const uint8_t *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        size_t n = 1 + (size_t)rand() % 70000;
        if (n > len - off)
            n = len - off;
        assert_int_equal(rn_tls_stream_write(s, buf + off, n), 0);
        off += n;
    }
}

/* The client writes before the handshake is done (held, then sent in order); the server writes
 * after ready. */
static void test_one_mib_each_way_arrives_intact_and_in_order(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    uint8_t *up = malloc(MIB), *down = malloc(MIB);
    fill(up, MIB, 1);
    fill(down, MIB, 2);
    srand(42);
    connect_client(h, "collector.test");
    write_in_chunks(h->cli.s, up, MIB);
    assert_true(rn_tls_stream_pending_bytes(h->cli.s) >= MIB);
    assert_true(run_until(h, both_ready, 5000));
    write_in_chunks(h->srv.s, down, MIB);
    if (!run_until(h, mib_arrived, 10000))
        fail_msg("srv rx %zu err %d '%s' / cli rx %zu err %d '%s'", h->srv.rx_len, h->srv.err,
                 h->srv.why, h->cli.rx_len, h->cli.err, h->cli.why);
    assert_int_equal(h->srv.rx_len, MIB);
    assert_int_equal(h->cli.rx_len, MIB);
    assert_memory_equal(h->srv.rx, up, MIB);
    assert_memory_equal(h->cli.rx, down, MIB);
    free(up);
    free(down);
    harness_free(h);
}

/* Neither side may see `ready` when the server refuses the client's certificate. */
static void assert_client_refused(harness_t *h, const char *server_why, const char *client_why)
{
    assert_true(run_until(h, both_errored, 5000));
    assert_int_equal(h->srv.ready, 0);
    assert_int_equal(h->cli.ready, 0);
    assert_int_equal(h->srv.err, -EACCES);
    assert_int_equal(h->cli.err, -EACCES);
    if (!strstr(h->srv.why, server_why))
        fail_msg("server why: '%s' lacks '%s'", h->srv.why, server_why);
    if (!strstr(h->cli.why, client_why))
        fail_msg("client why: '%s' lacks '%s'", h->cli.why, client_why);
}

static void test_client_cert_from_another_ca_is_refused(void **state)
{
    harness_t *h = harness_new("collector.test", "other/jaipur-sanganer");
    connect_client(h, "collector.test");
    assert_client_refused(h, "unable to get local issuer certificate", "unknown CA");
    harness_free(h);
}

static void test_expired_client_cert_is_refused(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer-expired");
    connect_client(h, "collector.test");
    assert_client_refused(h, "certificate has expired", "expired");
    assert_non_null(strstr(h->srv.why, "jaipur/sanganer"));
    harness_free(h);
}

static void test_client_without_cert_is_refused(void **state)
{
    harness_t *h = harness_new("collector.test", NULL);
    connect_client(h, "collector.test");
    assert_client_refused(h, "peer did not return a certificate", "certificate required");
    harness_free(h);
}

static void test_server_cert_for_another_name_is_refused_by_client(void **state)
{
    harness_t *h = harness_new("imposter.test", "jaipur-sanganer");
    connect_client(h, "collector.test");
    assert_true(run_until(h, both_errored, 5000));
    assert_int_equal(h->cli.ready + h->srv.ready, 0);
    assert_int_equal(h->cli.err, -EACCES);
    assert_string_equal(h->cli.why, "peer certificate refused: it is for 'imposter.test', not "
                                    "the expected 'collector.test'");
    harness_free(h);
}

/* The expected name may be any of the server certificate's SANs, or unchecked (NULL). */
static void test_expected_name_may_be_a_san_or_absent(void **state)
{
    const char *names[] = { "127.0.0.1", "localhost", NULL };
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    for (size_t i = 0; i < 3; i++) {
        connect_client(h, names[i]);
        assert_true(run_until(h, both_ready, 5000));
        assert_string_equal(h->cli.cn, "collector.test");
        close_both(h);
    }
    connect_client(h, "127.0.0.2");
    assert_true(run_until(h, both_errored, 5000));
    harness_free(h);
}

static void test_reconnect_from_same_client_ctx_resumes(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    for (int i = 0; i < 3; i++) {
        connect_client(h, "collector.test");
        assert_true(run_until(h, both_ready, 5000));
        assert_int_equal(h->cli.resumed, i > 0);
        assert_int_equal(h->srv.resumed, i > 0);
        assert_string_equal(h->srv.cn, "jaipur/sanganer"); /* the ticket carries the identity */
        assert_string_equal(h->cli.cn, "collector.test");
        assert_int_equal(rn_tls_stream_write(h->cli.s, (const uint8_t *)"x", 1), 0);
        assert_int_equal(rn_tls_stream_write(h->srv.s, (const uint8_t *)"y", 1), 0);
        run_until(h, never, 50);
        assert_int_equal(h->srv.rx_len + h->cli.rx_len, 2);
        close_both(h);
    }
    /* A restarted collector (new server context, new ticket key) cannot resume the old ticket:
     * the client falls back to a full handshake, and resumes again after that. */
    rn_tls_ctx_free(h->sctx);
    h->sctx = server_ctx("collector.test");
    for (int i = 0; i < 2; i++) {
        connect_client(h, "collector.test");
        assert_true(run_until(h, both_ready, 5000));
        assert_int_equal(h->cli.resumed, i > 0);
        assert_int_equal(h->srv.resumed, i > 0);
        close_both(h);
    }
    /* Another client context has no ticket: full handshake. */
    rn_tls_ctx_free(h->cctx);
    h->cctx = client_ctx("jaipur-sanganer");
    connect_client(h, "collector.test");
    assert_true(run_until(h, both_ready, 5000));
    assert_false(h->cli.resumed);
    assert_false(h->srv.resumed);
    harness_free(h);
}

/* A raw TCP peer (no TLS) for the garbage and silence tests. */
typedef struct {
    uv_tcp_t tcp;
    uv_connect_t req;
    uv_write_t wreq;
    bool connected;
} raw_t;

static void on_raw_written(uv_write_t *req, int status) { (void)req; (void)status; }

static void on_raw_connect(uv_connect_t *req, int status)
{
    raw_t *r = req->data;
    r->connected = status == 0;
}

static bool raw_connected(harness_t *h) { return h->accepted > 0; }

static void raw_connect(harness_t *h, raw_t *r)
{
    uv_tcp_init(&h->loop, &r->tcp);
    r->req.data = r;
    assert_int_equal(uv_tcp_connect(&r->req, &r->tcp, (struct sockaddr *)&h->addr, on_raw_connect), 0);
    assert_true(run_until(h, raw_connected, 5000));
}

static void test_garbage_from_peer_gives_error(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    raw_t r = { 0 };
    raw_connect(h, &r);
    static uint8_t junk[4096];
    memcpy(junk, "GET / HTTP/1.1\r\nHost: collector\r\n\r\n", 35);
    fill(junk + 35, sizeof junk - 35, 7);
    uv_buf_t b = uv_buf_init((char *)junk, sizeof junk);
    assert_int_equal(uv_write(&r.wreq, (uv_stream_t *)&r.tcp, &b, 1, on_raw_written), 0);
    assert_true(run_until(h, srv_errored, 5000));
    assert_int_equal(h->srv.err, -EPROTO);
    assert_non_null(strstr(h->srv.why, "TLS handshake failed: "));
    assert_int_equal(h->srv.ready, 0);
    /* Random bytes that are not a TLS record either. */
    raw_t r2 = { 0 };
    h->accepted = 0;
    raw_connect(h, &r2);
    fill(junk, sizeof junk, 9);
    b = uv_buf_init((char *)junk, sizeof junk);
    assert_int_equal(uv_write(&r2.wreq, (uv_stream_t *)&r2.tcp, &b, 1, on_raw_written), 0);
    assert_true(run_until(h, srv_errored, 5000));
    assert_int_equal(h->srv.ready, 0);
    uv_close((uv_handle_t *)&r.tcp, NULL);
    uv_close((uv_handle_t *)&r2.tcp, NULL);
    harness_free(h);
}

static void test_silent_peer_hits_handshake_timeout(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    rn_tls_ctx_set_handshake_timeout(h->sctx, 200);
    raw_t r = { 0 };
    uint64_t t0 = uv_hrtime();
    raw_connect(h, &r);
    assert_true(run_until(h, srv_errored, 5000));
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    assert_int_equal(h->srv.err, UV_ETIMEDOUT);
    assert_string_equal(h->srv.why, "TLS handshake timed out");
    assert_true(ms >= 190 && ms < 2000);
    uv_close((uv_handle_t *)&r.tcp, NULL);
    harness_free(h);
}

/* Closing a client before TCP connects, a server as it accepts, and both mid-handshake: no
 * callback after close, every handle closed, nothing leaked (see valgrind). */
static void test_close_during_handshake_is_safe(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    connect_client(h, "collector.test");
    peer_close(&h->cli); /* TCP connect still pending */
    run_until(h, never, 100);
    assert_int_equal(h->cli.closed, 1);
    assert_int_equal(h->cli.ready + h->cli.errors, 0);
    close_both(h);

    h->close_on_accept = true;
    connect_client(h, "collector.test");
    assert_true(run_until(h, both_closed, 5000) || run_until(h, both_done, 5000));
    assert_int_equal(h->srv.ready + h->srv.errors, 0);
    assert_int_equal(h->cli.ready, 0);
    assert_int_equal(h->cli.errors, 1);
    close_both(h);

    h->close_on_accept = false;
    for (int spins = 0; spins < 6; spins++) {
        h->accepted = 0;
        connect_client(h, "collector.test");
        assert_true(run_until(h, raw_connected, 5000));
        for (int i = 0; i < spins; i++)
            uv_run(&h->loop, UV_RUN_NOWAIT);
        int before = h->srv.ready + h->srv.errors;
        close_both(h);
        run_until(h, never, 20);
        assert_int_equal(h->srv.ready + h->srv.errors, before);
    }
    harness_free(h);
}

static bool srv_has_100k(harness_t *h) { return h->srv.rx_len >= 100000; }

static void test_reading_can_be_paused_and_resumed(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    connect_client(h, "collector.test");
    assert_true(run_until(h, both_ready, 5000));
    rn_tls_stream_set_reading(h->srv.s, false);
    uint8_t *buf = malloc(100000);
    fill(buf, 100000, 3);
    assert_int_equal(rn_tls_stream_write(h->cli.s, buf, 100000), 0);
    run_until(h, never, 200);
    assert_int_equal(h->srv.rx_len, 0);
    rn_tls_stream_set_reading(h->srv.s, true);
    assert_true(run_until(h, srv_has_100k, 5000));
    assert_int_equal(h->srv.rx_len, 100000);
    assert_memory_equal(h->srv.rx, buf, 100000);
    assert_int_equal(rn_tls_stream_pending_bytes(h->cli.s), 0);
    free(buf);
    harness_free(h);
}

static void test_write_after_error_is_refused(void **state)
{
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    connect_client(h, "collector.test");
    assert_true(run_until(h, both_ready, 5000));
    h->srv.keep_open_on_error = true; /* an owner that closes later */
    peer_close(&h->cli);
    assert_true(run_until(h, srv_errored, 5000));
    assert_int_equal(h->srv.err, UV_EOF);
    assert_int_equal(rn_tls_stream_write(h->srv.s, (const uint8_t *)"late", 4), -EPIPE);
    run_until(h, never, 50);
    assert_int_equal(h->srv.errors, 1); /* at most once */
    harness_free(h);
}

static void test_ctx_new_names_the_bad_file(void **state)
{
    char crt[300], key[300], nkey[300], ca[300], err[512];
    rn_tls_ctx_t *c = NULL;
    path(crt, sizeof crt, "collector.test.crt");
    path(key, sizeof key, "collector.test.key");
    path(nkey, sizeof nkey, "jaipur-sanganer.key");
    path(ca, sizeof ca, "ca.crt");
    assert_int_equal(rn_tls_ctx_new(RN_TLS_SERVER, "/nonexistent/c.crt", key, ca, &c, err, sizeof err),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/c.crt"));
    assert_int_equal(rn_tls_ctx_new(RN_TLS_SERVER, crt, nkey, ca, &c, err, sizeof err), -EINVAL);
    if (!strstr(err, "does not match"))
        fail_msg("%s", err);
    assert_int_equal(rn_tls_ctx_new(RN_TLS_SERVER, crt, crt, ca, &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "private key"));
    assert_int_equal(rn_tls_ctx_new(RN_TLS_CLIENT, crt, key, key, &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "CA bundle"));
    assert_int_equal(rn_tls_ctx_new(RN_TLS_SERVER, NULL, NULL, ca, &c, err, sizeof err), -EINVAL);
    assert_int_equal(rn_tls_ctx_new(RN_TLS_SERVER, crt, key, ca, &c, NULL, 0), 0);
    rn_tls_ctx_free(c);
}

/* ---- figures (RN_TLS_BENCH=1) --------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median ms from connect to both sides ready, n times; fresh client ctx each time unless resume. */
static double handshake_ms(harness_t *h, int n, bool resume)
{
    uint64_t *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++) {
        if (!resume) {
            rn_tls_ctx_free(h->cctx);
            h->cctx = client_ctx("jaipur-sanganer");
        }
        uint64_t t0 = uv_hrtime();
        connect_client(h, "collector.test");
        assert_true(run_until(h, both_ready, 5000));
        assert_int_equal(h->cli.resumed, resume);
        uint64_t end = h->cli.ready_ns > h->srv.ready_ns ? h->cli.ready_ns : h->srv.ready_ns;
        t[i] = end - t0;
        close_both(h);
    }
    qsort(t, (size_t)n, sizeof *t, cmp_u64);
    double ms = (double)t[n / 2] / 1e6;
    free(t);
    return ms;
}

typedef struct {
    harness_t *h;
    uint8_t *chunk;
    size_t sent, total, chunk_len;
} pump_t;

/* Writes while less than 4 MiB is queued: the backpressure an owner would apply. */
static void on_pump(uv_prepare_t *p)
{
    pump_t *pm = p->data;
    while (pm->sent < pm->total && rn_tls_stream_pending_bytes(pm->h->cli.s) < 4 * MIB) {
        assert_int_equal(rn_tls_stream_write(pm->h->cli.s, pm->chunk, pm->chunk_len), 0);
        pm->sent += pm->chunk_len;
    }
}

static size_t bench_total;
static bool all_arrived(harness_t *h) { return h->srv.rx_len >= bench_total; }

static void test_figures(void **state)
{
    if (!getenv("RN_TLS_BENCH"))
        skip();
    harness_t *h = harness_new("collector.test", "jaipur-sanganer");
    double full = handshake_ms(h, 50, false);
    connect_client(h, "collector.test"); /* prime a ticket */
    assert_true(run_until(h, both_ready, 5000));
    close_both(h);
    double resumed = handshake_ms(h, 50, true);
    printf("handshake on loopback, median of 50: full %.3f ms, resumed %.3f ms\n", full, resumed);

    connect_client(h, "collector.test");
    assert_true(run_until(h, both_ready, 5000));
    h->srv.count_only = true;
    bench_total = 64 * (size_t)MIB;
    pump_t pm = { h, malloc(256 * 1024), 0, bench_total, 256 * 1024 };
    fill(pm.chunk, pm.chunk_len, 5);
    uv_prepare_t prep;
    uv_prepare_init(&h->loop, &prep);
    prep.data = &pm;
    uint64_t t0 = uv_hrtime();
    uv_prepare_start(&prep, on_pump);
    assert_true(run_until(h, all_arrived, 60000));
    double s = (double)(uv_hrtime() - t0) / 1e9;
    uv_close((uv_handle_t *)&prep, NULL);
    printf("throughput, 64 MiB through one stream in 256 KiB writes: %.0f MiB/s (%.3f s)\n",
           64.0 / s, s);
    free(pm.chunk);
    harness_free(h);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the daemons do: a dead peer is an error, not a signal */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutual_auth_gives_both_sides_the_peer_cn),
        cmocka_unit_test(test_one_mib_each_way_arrives_intact_and_in_order),
        cmocka_unit_test(test_client_cert_from_another_ca_is_refused),
        cmocka_unit_test(test_expired_client_cert_is_refused),
        cmocka_unit_test(test_client_without_cert_is_refused),
        cmocka_unit_test(test_server_cert_for_another_name_is_refused_by_client),
        cmocka_unit_test(test_expected_name_may_be_a_san_or_absent),
        cmocka_unit_test(test_reconnect_from_same_client_ctx_resumes),
        cmocka_unit_test(test_garbage_from_peer_gives_error),
        cmocka_unit_test(test_silent_peer_hits_handshake_timeout),
        cmocka_unit_test(test_close_during_handshake_is_safe),
        cmocka_unit_test(test_reading_can_be_paused_and_resumed),
        cmocka_unit_test(test_write_after_error_is_refused),
        cmocka_unit_test(test_ctx_new_names_the_bad_file),
        cmocka_unit_test(test_figures),
    };
    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
