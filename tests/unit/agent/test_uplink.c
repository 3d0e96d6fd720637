/* Unit tests of agent/uplink.c: its liveness check and its compressed sends, against a fake
 * collector on loopback that speaks real TLS 1.3 (lib/tls.c) and the real wire protocol.
 *
 * uplink.c is compiled into this binary with RN_UPLINK_HEARTBEAT_MS 100 (tests/unit/Makefile.inc),
 * so a session is dead after 300 ms of silence instead of 15 s. The fake collector answers each
 * heartbeat (with or without the zlib coding), or goes silent while keeping TCP open, which is
 * what a black-holed path looks like from the agent. Certificates are made at start by
 * deploy/pki/rajnet-pki in a temporary directory. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"
#include "uplink.h"
#include "wire.h"

static char pki[256];

typedef struct {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_timer_t tick, acker;   /* acker: the fake sends an Ack every 50 ms when started */
    rn_tls_ctx_t *sctx;
    /* the fake collector */
    rn_tls_stream_t *srv;
    rn_wire_reader_t rd;
    bool answer;               /* answer heartbeats */
    int codings;               /* in the answers; -1: leave the field out */
    int accepted, hellos, heartbeats, batches, bad_frames;
    /* failover tests: a second fake collector A, first in the agent's list */
    bool two;                  /* listener_a is in use */
    bool keep_old;             /* a new connection does not end the old one */
    uv_tcp_t listener_a;
    bool srv_is_a;             /* the current server stream came through listener_a */
    int accepted_a, hellos_a;
    rn_tls_stream_t *old[16];  /* earlier server streams, still open */
    rn_hostport_t hps[2];
    /* the agent side */
    char crt[300], key[300], ca[300];
    rn_hostport_t hp;
    rn_agent_config_t cfg;
    rn_uplink_t *u;
    int connected, ready, disconnected;
    uint64_t connected_ms, ready_ms, disconnected_ms;
} fix_t;

static uint64_t now_ms(void)
{
    return rn_clock_mono_ns() / 1000000;
}

/* ---- the fake collector ------------------------------------------------------------------ */

static void srv_answer(fix_t *f)
{
    Rn__Heartbeat hb = RN__HEARTBEAT__INIT;
    Rn__Frame fr = RN__FRAME__INIT;
    hb.wall_time_ms = rn_clock_wall_ms();
    hb.has_codings = f->codings >= 0;
    hb.codings = f->codings >= 0 ? (uint32_t)f->codings : 0;
    fr.body_case = RN__FRAME__BODY_HEARTBEAT;
    fr.heartbeat = &hb;
    uint8_t *buf;
    size_t len;
    assert_int_equal(rn_wire_encode(&fr, &buf, &len), 0);
    rn_tls_stream_write(f->srv, buf, len);
    free(buf);
}

static void srv_ready(rn_tls_stream_t *s, void *data) {}

/* An older collector's traffic: acks, never a heartbeat. */
static void on_acker(uv_timer_t *t)
{
    fix_t *f = t->data;
    if (!f->srv)
        return;
    Rn__Ack ack = RN__ACK__INIT;
    Rn__Frame fr = RN__FRAME__INIT;
    ack.seq = 1;
    fr.body_case = RN__FRAME__BODY_ACK;
    fr.ack = &ack;
    uint8_t *buf;
    size_t len;
    assert_int_equal(rn_wire_encode(&fr, &buf, &len), 0);
    rn_tls_stream_write(f->srv, buf, len);
    free(buf);
}

static void srv_data(rn_tls_stream_t *s, void *data, const uint8_t *buf, size_t len)
{
    fix_t *f = data;
    if (s != f->srv)
        return;
    assert_int_equal(rn_wire_reader_push(&f->rd, buf, len), 0);
    const uint8_t *body;
    size_t blen;
    int rc;
    while ((rc = rn_wire_reader_next(&f->rd, &body, &blen)) == 1) {
        Rn__Frame *fr;
        char why[256];
        if (rn_wire_decode(body, blen, &fr, why, sizeof why) != 0) {
            f->bad_frames++;
            continue;
        }
        switch (fr->body_case) {
        case RN__FRAME__BODY_HELLO: f->hellos++, f->hellos_a += f->srv_is_a; break;
        case RN__FRAME__BODY_BATCH: f->batches++; break;
        case RN__FRAME__BODY_HEARTBEAT:
            f->heartbeats++;
            if (f->answer)
                srv_answer(f);
            break;
        default: f->bad_frames++; break;
        }
        rn_wire_free(fr);
    }
    if (rc < 0)
        f->bad_frames++;
}

static void srv_closed(void *data) {}

static void srv_error(rn_tls_stream_t *s, void *data, int err, const char *why)
{
    fix_t *f = data;
    if (s == f->srv)
        f->srv = NULL;
    for (size_t i = 0; i < sizeof f->old / sizeof f->old[0]; i++)
        if (f->old[i] == s)
            f->old[i] = NULL;
    rn_tls_stream_close(s, srv_closed, NULL);
}

static const rn_tls_stream_cbs_t srv_cbs = { srv_ready, srv_data, srv_error };

static void on_connection(uv_stream_t *server, int status)
{
    fix_t *f = server->data;
    assert_int_equal(status, 0);
    size_t k = 0;
    while (f->keep_old && f->srv && k < sizeof f->old / sizeof f->old[0] - 1 && f->old[k])
        k++;
    if (f->keep_old && f->srv) /* the uplink must end it itself */
        f->old[k] = f->srv;
    else if (f->srv) /* the uplink gave up on the old one; so do we */
        rn_tls_stream_close(f->srv, srv_closed, NULL);
    f->srv_is_a = server == (uv_stream_t *)&f->listener_a;
    f->accepted_a += f->srv_is_a;
    f->srv = NULL;
    rn_wire_reader_free(&f->rd);
    rn_wire_reader_init(&f->rd);
    assert_int_equal(rn_tls_stream_accept(f->sctx, server, &srv_cbs, f, &f->srv), 0);
    f->accepted++;
}

/* ---- the agent side ---------------------------------------------------------------------- */

static void up_connected(void *ctx)
{
    fix_t *f = ctx;
    f->connected++;
    f->connected_ms = now_ms();
    Rn__Hello h = RN__HELLO__INIT;
    Rn__Frame fr = RN__FRAME__INIT;
    h.node_id = "jaipur/sanganer";
    h.agent_version = "test";
    h.wall_time_ms = rn_clock_wall_ms();
    fr.body_case = RN__FRAME__BODY_HELLO;
    fr.hello = &h;
    uint8_t *buf;
    size_t len;
    assert_int_equal(rn_wire_encode(&fr, &buf, &len), 0);
    assert_int_equal(rn_uplink_send(f->u, buf, len), 0);
}

static void up_frame(void *ctx, Rn__Frame *fr)
{
    rn_wire_free(fr);
}

static void up_disconnected(void *ctx)
{
    fix_t *f = ctx;
    f->disconnected++;
    f->disconnected_ms = now_ms();
}

static void up_ready(void *ctx)
{
    fix_t *f = ctx;
    f->ready++;
    f->ready_ms = now_ms();
}

static const rn_uplink_cbs_t up_cbs = { up_connected, up_frame, up_disconnected, up_ready };

/* ---- harness -------------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t) {}

/* Runs the loop for ms, or until *counter reaches want (want > 0). Returns *counter >= want. */
static bool run_for(fix_t *f, uint64_t ms, const int *counter, int want)
{
    uint64_t end = now_ms() + ms;
    uv_timer_start(&f->tick, on_tick, 5, 5);
    while (now_ms() < end && !(counter && *counter >= want))
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->tick);
    return counter ? *counter >= want : true;
}

static int setup(void **state)
{
    fix_t *f = calloc(1, sizeof *f);
    char err[512];
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_init(&f->loop, &f->acker);
    f->acker.data = f;
    snprintf(f->crt, sizeof f->crt, "%s/collector.crt", pki);
    snprintf(f->key, sizeof f->key, "%s/collector.key", pki);
    snprintf(f->ca, sizeof f->ca, "%s/ca.crt", pki);
    if (rn_tls_ctx_new(RN_TLS_SERVER, f->crt, f->key, f->ca, &f->sctx, err, sizeof err) != 0)
        fail_msg("server context: %s", err);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(&f->loop, &f->listener);
    f->listener.data = f;
    assert_int_equal(uv_tcp_bind(&f->listener, (struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->listener, 8, on_connection), 0);
    int n = sizeof sa;
    uv_tcp_getsockname(&f->listener, (struct sockaddr *)&sa, &n);
    rn_wire_reader_init(&f->rd);
    f->answer = true;
    f->codings = RN_WIRE_CODING_ZLIB;
    f->hp.host = "127.0.0.1";
    f->hp.port = ntohs(sa.sin_port);
    f->cfg.node_id = "jaipur/sanganer";
    f->cfg.collectors = &f->hp;
    f->cfg.n_collectors = 1;
    snprintf(f->crt, sizeof f->crt, "%s/jaipur-sanganer.crt", pki);
    snprintf(f->key, sizeof f->key, "%s/jaipur-sanganer.key", pki);
    f->cfg.tls_cert = f->crt;
    f->cfg.tls_key = f->key;
    f->cfg.tls_ca = f->ca;
    f->cfg.collector_name = "collector";
    *state = f;
    return 0;
}

static void start_uplink(fix_t *f)
{
    char err[512];
    if (rn_uplink_new(&f->loop, &f->cfg, &up_cbs, f, &f->u, err, sizeof err) != 0)
        fail_msg("uplink: %s", err);
}

static void on_uplink_closed(void *data)
{
    *(bool *)data = true;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    bool closed = false;
    if (f->u) {
        rn_uplink_close(f->u, on_uplink_closed, &closed);
        while (!closed)
            uv_run(&f->loop, UV_RUN_ONCE);
    }
    if (f->srv)
        rn_tls_stream_close(f->srv, srv_closed, NULL);
    for (size_t i = 0; i < sizeof f->old / sizeof f->old[0]; i++)
        if (f->old[i])
            rn_tls_stream_close(f->old[i], srv_closed, NULL);
    if (f->two)
        uv_close((uv_handle_t *)&f->listener_a, NULL);
    uv_close((uv_handle_t *)&f->listener, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_close((uv_handle_t *)&f->acker, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rn_tls_ctx_free(f->sctx);
    rn_wire_reader_free(&f->rd);
    free(f);
    return 0;
}

/* n encoded batch frames of one ICMP sample each, back to back, as delivery joins them. */
static uint8_t *batches(size_t n, size_t *out_len)
{
    uint8_t *all = NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        Rn__Value v[RN_ICMP_N], *vp[RN_ICMP_N];
        for (size_t k = 0; k < RN_ICMP_N; k++) {
            rn__value__init(&v[k]);
            v[k].has_gauge = 1;
            v[k].gauge = k == RN_ICMP_SENT || k == RN_ICMP_RECV ? 5 : 0.05 + (double)(i % 7) / 100;
            vp[k] = &v[k];
        }
        v[RN_ICMP_LOSS].gauge = 0;
        Rn__Sample smp = RN__SAMPLE__INIT, *smpp = &smp;
        smp.source = "icmp", smp.device = "", smp.object = "jaipur";
        smp.time_ms = 1717200000000 + (int64_t)i * 2000;
        smp.values = vp, smp.n_values = RN_ICMP_N;
        Rn__Batch b = RN__BATCH__INIT;
        b.seq = 1000 + i, b.samples = &smpp, b.n_samples = 1;
        Rn__Frame fr = RN__FRAME__INIT;
        fr.body_case = RN__FRAME__BODY_BATCH, fr.batch = &b;
        uint8_t *buf;
        size_t blen;
        assert_int_equal(rn_wire_encode(&fr, &buf, &blen), 0);
        all = realloc(all, len + blen);
        assert_non_null(all);
        memcpy(all + len, buf, blen);
        len += blen;
        free(buf);
    }
    *out_len = len;
    return all;
}

/* ---- behaviour --------------------------------------------------------------------------- */

static void test_answered_heartbeats_keep_the_session(void **state)
{
    fix_t *f = *state;
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->ready, 1));
    /* ready on the collector's answer, not on the wait for an older collector */
    assert_true(f->ready_ms - f->connected_ms < RN_UPLINK_READY_WAIT_MS / 2);
    assert_true(rn_uplink_ready(f->u));
    run_for(f, 10 * RN_UPLINK_SILENCE_MS / 3, NULL, 0); /* 10 heartbeat intervals */
    assert_int_equal(f->disconnected, 0);
    assert_int_equal(f->accepted, 1);
    assert_int_equal(f->hellos, 1);
    printf("# %d heartbeats in 10 intervals of %d ms\n", f->heartbeats, RN_UPLINK_HEARTBEAT_MS);
    assert_true(f->heartbeats >= 9 && f->heartbeats <= 12);
    assert_int_equal(f->bad_frames, 0);
}

static void test_silent_collector_is_dropped_after_three_heartbeats(void **state)
{
    fix_t *f = *state;
    f->answer = false; /* TCP stays up, nothing comes back: a black hole to the agent */
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->connected, 1));
    assert_true(run_for(f, 5000, &f->disconnected, 1));
    uint64_t took = f->disconnected_ms - f->connected_ms;
    printf("# silent collector: session closed %" PRIu64 " ms after it opened (limit %d ms)\n",
           took, RN_UPLINK_SILENCE_MS);
    /* the loop's cached clock and the test's may differ by a few ms; a loaded machine may run
     * the timer late: what matters is three heartbeat intervals, not one, and not ten */
    assert_true(took + 20 >= RN_UPLINK_SILENCE_MS && took < RN_UPLINK_SILENCE_MS + 250);
    assert_false(rn_uplink_connected(f->u));
    assert_true(f->heartbeats >= 2); /* it kept asking */
    /* and reconnects after the first backoff (~1 s), to the same collector */
    assert_true(run_for(f, 3000, &f->connected, 2));
    assert_int_equal(f->accepted, 2);
    assert_true(f->connected_ms - f->disconnected_ms < 1500);
}

static void test_any_byte_counts_as_life(void **state)
{
    fix_t *f = *state;
    f->answer = true;
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->ready, 1));
    /* answers stop: dead 300 ms after the last one, not 300 ms after they stopped being asked */
    f->answer = false;
    uint64_t stopped = now_ms();
    assert_true(run_for(f, 5000, &f->disconnected, 1));
    uint64_t took = f->disconnected_ms - stopped;
    assert_true(took >= RN_UPLINK_SILENCE_MS - RN_UPLINK_HEARTBEAT_MS - 20 &&
                took < RN_UPLINK_SILENCE_MS + 250);
}

static void test_frames_are_compressed_once_the_collector_reads_them(void **state)
{
    fix_t *f = *state;
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->ready, 1));
    size_t len, wire = 0;
    uint8_t *buf = batches(200, &len);
    assert_int_equal(rn_uplink_send_frames(f->u, buf, len, &wire), 0);
    printf("# 200 batches: %zu bytes, %zu on the wire\n", len, wire);
    assert_true(wire * 3 < len);
    assert_true(run_for(f, 5000, &f->batches, 200));
    assert_int_equal(f->bad_frames, 0);
    /* a small frame goes as it is */
    buf = batches(1, &len);
    assert_int_equal(rn_uplink_send_frames(f->u, buf, len, &wire), 0);
    assert_int_equal(wire, len);
    assert_true(run_for(f, 5000, &f->batches, 201));
}

static void test_no_compression_to_a_collector_that_does_not_read_it(void **state)
{
    fix_t *f = *state;
    f->codings = -1; /* answers heartbeats, says nothing about codings */
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->ready, 1));
    size_t len, wire = 0;
    uint8_t *buf = batches(200, &len);
    assert_int_equal(rn_uplink_send_frames(f->u, buf, len, &wire), 0);
    assert_int_equal(wire, len);
    assert_true(run_for(f, 5000, &f->batches, 200));
    assert_int_equal(f->bad_frames, 0);
}

static void test_older_collector_gets_ready_after_the_wait(void **state)
{
    fix_t *f = *state;
    f->answer = false; /* no heartbeat answers, but acks keep coming: alive, just older */
    uv_timer_start(&f->acker, on_acker, 50, 50);
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->ready, 1));
    uint64_t waited = f->ready_ms - f->connected_ms;
    assert_true(waited >= RN_UPLINK_READY_WAIT_MS - 10 && waited < RN_UPLINK_READY_WAIT_MS + 200);
    assert_int_equal(f->disconnected, 0);
    size_t len, wire = 0;
    uint8_t *buf = batches(200, &len);
    assert_int_equal(rn_uplink_send_frames(f->u, buf, len, &wire), 0);
    assert_int_equal(wire, len); /* it never said it reads compressed frames */
    assert_true(run_for(f, 5000, &f->batches, 200));
}

/* ---- failover (uplink.h): the first collector is preferred --------------------------------- */

/* Makes collector A (bound, listening when listen_a) the first of the agent's two collectors,
 * the fixture's own B the second. */
static void two_collectors(fix_t *f, bool listen_a)
{
    struct sockaddr_in sa;
    int n = sizeof sa;
    f->two = f->keep_old = true;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(&f->loop, &f->listener_a);
    f->listener_a.data = f;
    assert_int_equal(uv_tcp_bind(&f->listener_a, (struct sockaddr *)&sa, 0), 0);
    if (listen_a)
        assert_int_equal(uv_listen((uv_stream_t *)&f->listener_a, 8, on_connection), 0);
    uv_tcp_getsockname(&f->listener_a, (struct sockaddr *)&sa, &n);
    f->hps[0] = (rn_hostport_t){ .host = "127.0.0.1", .port = ntohs(sa.sin_port) };
    f->hps[1] = f->hp;
    f->cfg.collectors = f->hps;
    f->cfg.n_collectors = 2;
}

/* The first collector is away at start: the agent works with the second, probes the first, and
 * moves its session back to it by itself once it answers (the second never closed anything). */
static void test_returns_to_the_first_collector_when_it_is_back(void **state)
{
    fix_t *f = *state;
    two_collectors(f, false); /* bound, not listening: connections are refused */
    if (getenv("UPLINK_DEBUG"))
        rn_log_open("test", RN_LOG_DEBUG, false);
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->hellos, 1));
    assert_int_equal(f->accepted_a, 0);
    assert_int_equal(f->hellos_a, 0);
    assert_true(run_for(f, 1500, NULL, 0)); /* probes of A fail meanwhile; B's session stays */
    assert_int_equal(f->disconnected, 0);
    uint64_t back = now_ms();
    assert_int_equal(uv_listen((uv_stream_t *)&f->listener_a, 8, on_connection), 0);
    assert_true(run_for(f, 10000, &f->hellos_a, 1));
    printf("# back on the first collector %" PRIu64 " ms after it listened again\n",
           now_ms() - back);
    assert_int_equal(f->disconnected, 1); /* the uplink left B itself */
    assert_int_equal(f->hellos, 2);
    assert_true(run_for(f, 1000, NULL, 0)); /* and stays on A: no probing from there */
    assert_int_equal(f->hellos, 2);
    assert_int_equal(f->disconnected, 1);
}

/* A session to the first collector ends: the agent tries the first again before the second
 * (it used to move on to the next collector on every disconnect). */
static void test_after_a_session_the_first_collector_is_tried_first(void **state)
{
    fix_t *f = *state;
    two_collectors(f, true);
    f->keep_old = false; /* a new connection ends the old one, as a collector's would */
    start_uplink(f);
    assert_true(run_for(f, 5000, &f->hellos_a, 1));
    for (int round = 2; round <= 3; round++) {
        rn_tls_stream_close(f->srv, srv_closed, NULL); /* the collector ends the session */
        f->srv = NULL;
        assert_true(run_for(f, 5000, &f->hellos, round));
        assert_int_equal(f->hellos_a, round);
    }
    assert_int_equal(f->accepted, 3); /* every one on A, none on B */
    assert_int_equal(f->accepted_a, 3);
}

/* ---- PKI ------------------------------------------------------------------------------------ */

static int run_pki(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s/deploy/pki/rajnet-pki' %s >/dev/null", RN_SRCDIR, args);
    return system(cmd);
}

static int make_pki(void **state)
{
    char args[512];
    snprintf(pki, sizeof pki, "%s/rn-uplink-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(pki))
        return -1;
    snprintf(args, sizeof args, "ca %s", pki);
    int rc = run_pki(args);
    snprintf(args, sizeof args, "collector %s collector --ip 127.0.0.1", pki);
    rc |= run_pki(args);
    snprintf(args, sizeof args, "node %s jaipur/sanganer", pki);
    rc |= run_pki(args);
    return rc ? -1 : 0;
}

static int remove_pki(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
    return system(cmd) ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answered_heartbeats_keep_the_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_silent_collector_is_dropped_after_three_heartbeats,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_byte_counts_as_life, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_are_compressed_once_the_collector_reads_them,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_compression_to_a_collector_that_does_not_read_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_collector_gets_ready_after_the_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_returns_to_the_first_collector_when_it_is_back,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_a_session_the_first_collector_is_tried_first,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
