/* Tests of agent/rtsp_probe.c: the status-line parser by hand, then live rounds on loopback
 * against a server played by the test in the same loop: a camera that answers 200, one that
 * answers garbage, one whose port is closed, and one that accepts and never answers (timeout). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "metrics.h"
#include "rtsp_probe.h"

static int parse(const char *s)
{
    return rn_rtsp_parse_status((const uint8_t *)s, strlen(s));
}

static void test_status_line_parses(void **state)
{
    (void)state;
    assert_int_equal(parse("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"), 200);
    assert_int_equal(parse("RTSP/1.0 401 Unauthorized\r\n"), 401);
    assert_int_equal(parse("RTSP/1.0 200\r\n"), 200);
    assert_int_equal(parse("RTSP/1.0 404 Not Found\n"), 404);
}

static void test_partial_line_needs_more(void **state)
{
    (void)state;
    assert_int_equal(parse(""), 0);
    assert_int_equal(parse("RTS"), 0);
    assert_int_equal(parse("RTSP/1.0 200 O"), 0);
}

static void test_bad_replies_are_errors(void **state)
{
    (void)state;
    assert_int_equal(parse("HTTP/1.1 200 OK\r\n"), RN_EPARSE);
    assert_int_equal(parse("RTSP/1.0 20\r\n"), RN_EPARSE);
    assert_int_equal(parse("RTSP/1.0 2000 OK\r\n"), RN_EPARSE);
    assert_int_equal(parse("RTSP/1.0 099 x\r\n"), RN_EPARSE);
    assert_int_equal(parse("RTSP/1.0 abc\r\n"), RN_EPARSE);
    char big[RN_RTSP_MAX_REPLY + 8];
    memset(big, 'x', sizeof big);
    memcpy(big, "RTSP/1.0 200 ", 13);
    assert_int_equal(rn_rtsp_parse_status((uint8_t *)big, sizeof big), RN_EPARSE);
    assert_int_equal(rn_rtsp_parse_status((uint8_t *)big, RN_RTSP_MAX_REPLY - 1), 0);
}

static void test_up_codes(void **state)
{
    (void)state;
    assert_true(rn_rtsp_status_up(200));
    assert_true(rn_rtsp_status_up(401));
    assert_false(rn_rtsp_status_up(404));
    assert_false(rn_rtsp_status_up(503));
}

/* ---- live: a loopback server with one behaviour per listening port ---- */

typedef enum { ANSWER_OK, ANSWER_GARBAGE, ANSWER_NEVER } behaviour_t;

typedef struct {
    uv_tcp_t listen;
    behaviour_t b;
    int port;
    char request[512];
    size_t req_len;
} server_t;

typedef struct {
    uv_tcp_t tcp;
    server_t *srv;
    uv_write_t w;
    char buf[256];
} conn_t;

typedef struct {
    char object[64];
    char node[64]; /* Sample.node: "" for the agent's own */
    double up, ms;
    int n;
} got_t;

static got_t got[4];
static int64_t first_round; /* the round the live test counts (later rounds are ignored) */
static uv_loop_t loop;

static void on_sample(void *ctx, const char *node, const char *source, const char *device,
                      const char *object, int64_t t, const rn_value_t *v, size_t n,
                      uint64_t speed)
{
    (void)ctx, (void)speed;
    if (!first_round)
        first_round = t;
    if (t != first_round)
        return; /* the second round may start before the test stops the loop */
    assert_string_equal(source, "rtsp");
    assert_string_equal(device, "ps-test");
    assert_int_equal(n, RN_RTSP_N);
    for (size_t i = 0; i < 4; i++)
        if (!got[i].n || !strcmp(got[i].object, object)) {
            snprintf(got[i].object, sizeof got[i].object, "%s", object);
            snprintf(got[i].node, sizeof got[i].node, "%s", node ? node : "");
            got[i].up = v[RN_RTSP_UP].gauge;
            got[i].ms = v[RN_RTSP_MS].kind == RN_VALUE_GAUGE ? v[RN_RTSP_MS].gauge : NAN;
            got[i].n++;
            return;
        }
    fail_msg("unexpected object %s", object);
}

static void on_conn_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_srv_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    conn_t *c = h->data;
    (void)s;
    *b = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_srv_written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, on_conn_closed);
}

static void on_srv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn_t *c = s->data;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_conn_closed);
        return;
    }
    size_t room = sizeof c->srv->request - 1 - c->srv->req_len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(c->srv->request + c->srv->req_len, b->base, take);
    c->srv->req_len += take;
    if (!strstr(c->srv->request, "\r\n\r\n") || c->srv->b == ANSWER_NEVER)
        return;
    static char ok[] = "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n";
    static char junk[] = "SSH-2.0-OpenSSH_9.2\r\n";
    char *reply = c->srv->b == ANSWER_OK ? ok : junk;
    uv_buf_t out = uv_buf_init(reply, (unsigned)strlen(reply));
    uv_read_stop(s);
    uv_write(&c->w, s, &out, 1, on_srv_written);
}

static void on_connection(uv_stream_t *l, int status)
{
    assert_int_equal(status, 0);
    conn_t *c = calloc(1, sizeof *c);
    c->srv = l->data;
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_srv_alloc, on_srv_read);
}

static void server_start(server_t *s, behaviour_t b)
{
    struct sockaddr_in sa;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    memset(s, 0, sizeof *s);
    s->b = b;
    uv_tcp_init(&loop, &s->listen);
    s->listen.data = s;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&s->listen, (struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&s->listen, 8, on_connection), 0);
    uv_tcp_getsockname(&s->listen, (struct sockaddr *)&bound, &len);
    s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static bool closed;
static void on_prober_closed(void *d)
{
    (void)d;
    closed = true;
}

static void on_stop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void test_live_round_up_down_timeout(void **state)
{
    (void)state;
    server_t ok, junk, never, gone;
    uv_loop_init(&loop);
    server_start(&ok, ANSWER_OK);
    server_start(&junk, ANSWER_GARBAGE);
    server_start(&never, ANSWER_NEVER);
    server_start(&gone, ANSWER_OK);
    int closed_port = gone.port;
    uv_close((uv_handle_t *)&gone.listen, NULL); /* its port now refuses connections */
    Rn__Camera cams[4], *ptrs[4];
    const char *names[4] = { "gate", "junk", "mute", "gone" };
    int ports[4] = { ok.port, junk.port, never.port, closed_port };
    for (int i = 0; i < 4; i++) {
        rn__camera__init(&cams[i]);
        cams[i].station = "ps-test";
        cams[i].name = (char *)names[i];
        cams[i].addr = "127.0.0.1";
        cams[i].has_port = 1;
        cams[i].port = (uint32_t)ports[i];
        ptrs[i] = &cams[i];
    }
    cams[0].node = "jaipur/sanganer/gp-bagru"; /* an agentless child's station */
    rn_rtsp_prober_t *p;
    memset(got, 0, sizeof got);
    first_round = 0;
    assert_int_equal(rn_rtsp_prober_new(&loop, on_sample, NULL, &p), 0);
    /* 1 s interval: a timeout of 900 ms; stop after 1.5 s, one round done */
    assert_int_equal(rn_rtsp_prober_set_cameras(p, ptrs, 4, 1), 0);
    assert_int_equal(rn_rtsp_prober_count(p), 4);
    uv_timer_t stop;
    uv_timer_init(&loop, &stop);
    uv_timer_start(&stop, on_stop, 1500, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 4; i++) {
        got_t *g = NULL;
        for (int k = 0; k < 4; k++)
            if (!strcmp(got[k].object, names[i]))
                g = &got[k];
        assert_non_null(g);
        assert_int_equal(g->n, 1);
        assert_true(g->up == (i == 0 ? 1.0 : 0.0));
        /* Camera.node comes back as Sample.node; none for the agent's own */
        assert_string_equal(g->node, i == 0 ? "jaipur/sanganer/gp-bagru" : "");
        if (i == 0)
            assert_true(g->ms >= 0 && g->ms < 900);
        else
            assert_true(isnan(g->ms));
    }
    assert_non_null(strstr(ok.request, "OPTIONS rtsp://127.0.0.1:"));
    assert_non_null(strstr(ok.request, " RTSP/1.0\r\nCSeq: 1\r\n"));
    rn_rtsp_prober_close(p, on_prober_closed, NULL);
    uv_close((uv_handle_t *)&ok.listen, NULL);
    uv_close((uv_handle_t *)&junk.listen, NULL);
    uv_close((uv_handle_t *)&never.listen, NULL);
    uv_close((uv_handle_t *)&stop, NULL);
    uv_run(&loop, UV_RUN_DEFAULT); /* the never-answering conn closes on the prober's close */
    assert_true(closed);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_line_parses),
        cmocka_unit_test(test_partial_line_needs_more),
        cmocka_unit_test(test_bad_replies_are_errors),
        cmocka_unit_test(test_up_codes),
        cmocka_unit_test(test_live_round_up_down_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
