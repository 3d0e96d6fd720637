/* Tests of the collector's HTTP server (collector/http*.c, api*.c, graph.c, latest.c): the pure
 * helpers, then a real server on a real uv loop over the simulated topology, driven by libcurl
 * and raw sockets from a second thread while the loop measures its own lag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "collector.h"
#include "graph.h"
#include "http.h"
#include "http_int.h"
#include "latest.h"

/* ---------------------------------------------------------------- helpers */

static void test_parse_time_accepts_relative_and_absolute(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(rn__http_parse_time("now", 1000000, &t), 0);
    assert_int_equal(t, 1000000);
    assert_int_equal(rn__http_parse_time("-3600", 1000000, &t), 0);
    assert_int_equal(t, 1000000 - 3600);
    assert_int_equal(rn__http_parse_time("now-2h", 1000000, &t), 0);
    assert_int_equal(t, 1000000 - 7200);
    assert_int_equal(rn__http_parse_time("-1d", 1000000, &t), 0);
    assert_int_equal(t, 1000000 - 86400);
    assert_int_equal(rn__http_parse_time("1700000000", 0, &t), 0);
    assert_int_equal(t, 1700000000);
    assert_int_equal(rn__http_parse_time("1700000000123", 0, &t), 0); /* Unix ms */
    assert_int_equal(t, 1700000000);
    assert_int_equal(rn__http_parse_time("yesterday", 0, &t), -EINVAL);
    assert_int_equal(rn__http_parse_time("-", 0, &t), -EINVAL);
    assert_int_equal(rn__http_parse_time("12x", 0, &t), -EINVAL);
    assert_int_equal(rn__http_parse_time("", 0, &t), -EINVAL);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(rn__http_label("a\"b\\c\nd", buf, sizeof buf), "a\\\"b\\\\c\\nd");
    assert_string_equal(rn__http_label("jaipur/sanganer", buf, sizeof buf), "jaipur/sanganer");
}

static void test_graph_args_escape_colons_and_know_their_views(void **state)
{
    (void)state;
    char *argv[64];
    int n = rn_graph_args("rtt", "/data/x:y/sdc.rrd", "t", "PNG", 1, 2, 800, 240, 0, argv, 64);
    assert_true(n > 10);
    bool def = false;
    for (int i = 0; i < n; i++) {
        def |= strcmp(argv[i], "DEF:avg=/data/x\\:y/sdc.rrd:rttavg:AVERAGE") == 0;
        free(argv[i]);
    }
    assert_true(def);
    n = rn_graph_args("traffic", "/a.rrd", "t", "SVG", 1, 2, 800, 240, 34e6, argv, 64);
    bool rule = false;
    for (int i = 0; i < n; i++) {
        rule |= strncmp(argv[i], "HRULE:34000000#", 15) == 0;
        free(argv[i]);
    }
    assert_true(rule);
    assert_int_equal(rn_graph_args("pie", "/a.rrd", "t", "PNG", 1, 2, 8, 2, 0, argv, 64), -EINVAL);
}

static Rn__Sample *sample(const char *source, const char *device, const char *object, int64_t t,
                          double in, double out)
{
    static Rn__Sample s;
    static Rn__Value v[2], *pv[2];
    rn__sample__init(&s);
    for (int i = 0; i < 2; i++) {
        rn__value__init(&v[i]);
        v[i].has_counter = 1;
        pv[i] = &v[i];
    }
    v[0].counter = (uint64_t)in;
    v[1].counter = (uint64_t)out;
    s.source = (char *)source;
    s.device = (char *)device;
    s.object = (char *)object;
    s.time_ms = t;
    s.n_values = 2;
    s.values = pv;
    return &s;
}

static void count_series(void *ctx, const rn_latest_series_t *s)
{
    (void)s;
    (*(int *)ctx)++;
}

static void test_latest_keeps_two_newest_and_ignores_replays(void **state)
{
    (void)state;
    rn_latest_t *l;
    rn_latest_series_t s;
    assert_int_equal(rn_latest_new(&l), 0);
    rn_latest_note(l, "jaipur", sample("if", "rtr1", "wan0", 10000, 1000, 50));
    assert_non_null(rn_latest_find(l, "jaipur", "if", "rtr1", "wan0", &s));
    assert_true(isnan(rn_latest_rate(&s, 0)));              /* one sample: no rate */
    rn_latest_note(l, "jaipur", sample("if", "rtr1", "wan0", 12000, 3000, 50));
    rn_latest_note(l, "jaipur", sample("if", "rtr1", "wan0", 11000, 9, 9)); /* a replay */
    assert_non_null(rn_latest_find(l, "jaipur", "if", "rtr1", "wan0", &s));
    assert_true(fabs(rn_latest_rate(&s, 0) - 1000.0) < 1e-9); /* 2000 octets in 2 s */
    rn_latest_note(l, "jaipur", sample("if", "rtr1", "wan0", 14000, 10, 60)); /* reboot */
    assert_non_null(rn_latest_find(l, "jaipur", "if", "rtr1", "wan0", &s));
    assert_true(isnan(rn_latest_rate(&s, 0)));
    rn_latest_note(l, "jaipur", sample("icmp", "", "sdc", 1, 1, 1));
    rn_latest_note(l, "ajmer", sample("icmp", "", "sdc", 1, 1, 1));
    uint64_t noted, stale;
    rn_latest_counts(l, &noted, &stale);
    assert_int_equal(noted, 5);
    assert_int_equal(stale, 1);
    int n = 0;
    assert_int_equal(rn_latest_foreach(l, "jaipur", count_series, &n), 2);
    assert_int_equal(rn_latest_foreach(l, NULL, count_series, &n), 3);
    assert_null(rn_latest_find(l, "udaipur", "icmp", "", "sdc", &s));
    rn_latest_free(l);
}

/* ---------------------------------------------------------------- a real server */

#define IDLE_CLIENTS 200

typedef struct {
    rn_collector_t c;
    rn_http_config_t cfg;
    rn_http_token_t tokens[2];
    uint16_t port;
    uv_async_t done;
    uv_timer_t tick;
    uint64_t last_tick_ns, worst_gap_ns;
    bool measuring;
    uv_thread_t client;
    char tmp[64];
    /* results, written by the client thread */
    int statuses[32];
    char bodies[32][512];
    int idle_connected;
    double status_secs_while_idle;
} fixture_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    char *b = ud;
    size_t have = strlen(b), k = size * n, take = have + k < 511 ? k : 511 - have;
    memcpy(b + have, p, take); /* keeps the first 511 bytes */
    b[have + take] = '\0';
    return k;
}

static int req(fixture_t *f, int slot, const char *method, const char *path, const char *auth,
               const char *body, double *secs)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[512], hdr[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port, path);
    f->bodies[slot][0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f->bodies[slot]);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    if (auth) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", auth);
        h = curl_slist_append(h, hdr);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long st = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    if (secs)
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, secs);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    f->statuses[slot] = (int)st;
    return (int)st;
}

static void client_main(void *arg)
{
    fixture_t *f = arg;
    int i = 0;
    req(f, i++, "GET", "/api/v1/status", NULL, NULL, NULL);                        /* 0 */
    req(f, i++, "GET", "/api/v1/nodes/jaipur%2Fnowhere", NULL, NULL, NULL);        /* 1 */
    req(f, i++, "GET", "/api/v1/alarms?since=yesterday", NULL, NULL, NULL);        /* 2 */
    req(f, i++, "GET", "/api/v1/graph?node=jaipur&source=icmp&object=sdc&format=gif", NULL,
        NULL, NULL);                                                               /* 3 */
    req(f, i++, "GET", "/nope", NULL, NULL, NULL);                                 /* 4 */
    req(f, i++, "POST", "/api/v1/maintenance", NULL, "{}", NULL);                  /* 5 */
    req(f, i++, "POST", "/api/v1/maintenance", "viewer-token-1", "{}", NULL);      /* 6 */
    req(f, i++, "POST", "/api/v1/maintenance", "operator-token-1", "{\"entity\":", NULL); /* 7 */
    req(f, i++, "POST", "/api/v1/maintenance", "operator-token-1",
        "{\"entity\":\"jaipur\",\"start_ms\":1,\"end_ms\":2}", NULL);              /* 8: 503 */
    req(f, i++, "GET", "/metrics", NULL, NULL, NULL);                              /* 9 */
    req(f, i++, "GET", "/api/v1/nodes", NULL, NULL, NULL);                         /* 10 */
    req(f, i++, "DELETE", "/api/v1/status", NULL, NULL, NULL);                     /* 11 */
    /* idle clients: connect and send nothing */
    int fds[IDLE_CLIENTS];
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    f->measuring = true;
    for (int k = 0; k < IDLE_CLIENTS; k++) {
        fds[k] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in src = { .sin_family = AF_INET };
        inet_pton(AF_INET, "127.0.0.2", &src.sin_addr); /* another "client address" */
        if (fds[k] >= 0 && bind(fds[k], (struct sockaddr *)&src, sizeof src) == 0 &&
            connect(fds[k], (struct sockaddr *)&sa, sizeof sa) == 0)
            f->idle_connected++;
    }
    usleep(300 * 1000);
    req(f, i++, "GET", "/api/v1/status", NULL, NULL, &f->status_secs_while_idle); /* 12 */
    usleep(200 * 1000);
    f->measuring = false;
    for (int k = 0; k < IDLE_CLIENTS; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    uv_async_send(&f->done);
}

static void on_http_closed(void *data)
{
    (void)data;
}

static void on_store_closed(void *data)
{
    (void)data;
}

static void on_done(uv_async_t *a)
{
    fixture_t *f = a->data;
    rn_http_close(f->c.http, on_http_closed, f);
    rn_rrd_store_close(f->c.store, on_store_closed, f);
    uv_close((uv_handle_t *)&f->done, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
}

static void on_tick(uv_timer_t *t)
{
    fixture_t *f = t->data;
    uint64_t now = uv_hrtime();
    if (f->measuring && f->last_tick_ns && now - f->last_tick_ns > f->worst_gap_ns)
        f->worst_gap_ns = now - f->last_tick_ns;
    f->last_tick_ns = now;
}

static void test_server_answers_4xx_with_reasons_and_idle_clients_do_not_stall_the_loop(void **st)
{
    (void)st;
    static fixture_t f;
    char err[1024];
    uv_loop_t loop;
    uv_loop_init(&loop);
    memset(&f, 0, sizeof f);
    f.c.loop = &loop;
    assert_int_equal(rn_topology_load(RN_SRCDIR "/deploy/sim/topology.yaml",
                                      RN_SRCDIR "/deploy/sim/secrets.yaml", &f.c.topo, err,
                                      sizeof err), 0);
    assert_int_equal(rn_alarm_engine_new(f.c.topo, NULL, NULL, NULL, &f.c.alarms), 0);
    rn_alarm_tick(f.c.alarms, rn_clock_wall_ms());
    snprintf(f.tmp, sizeof f.tmp, "/tmp/rn-test-http-XXXXXX");
    assert_non_null(mkdtemp(f.tmp));
    assert_int_equal(rn_rrd_store_new(&loop, f.tmp, &f.c.store), 0);
    assert_int_equal(rn_latest_new(&f.c.latest), 0);
    f.tokens[0] = (rn_http_token_t){ "op", "operator-token-1", "operator" };
    f.tokens[1] = (rn_http_token_t){ "view", "viewer-token-1", "viewer" };
    f.cfg = (rn_http_config_t){ true, "127.0.0.1", 0, NULL, f.tokens, 2, NULL, NULL, 512, 64, 15 };
    assert_int_equal(rn_http_start(&f.c, &f.cfg, &f.c.http), 0);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(f.c.http->mhd, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    f.port = info->port;
    uv_async_init(&loop, &f.done, on_done);
    uv_timer_init(&loop, &f.tick);
    f.done.data = f.tick.data = &f;
    uv_timer_start(&f.tick, on_tick, 10, 10);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    uv_thread_create(&f.client, client_main, &f);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&f.client);

    assert_int_equal(f.statuses[0], 200);
    assert_non_null(strstr(f.bodies[0], "\"agents_connected\":0"));
    assert_int_equal(f.statuses[1], 404);
    assert_non_null(strstr(f.bodies[1], "{\"error\":\"id: no node 'jaipur/nowhere'"));
    assert_int_equal(f.statuses[2], 400);
    assert_non_null(strstr(f.bodies[2], "\"error\":\"since:"));
    assert_int_equal(f.statuses[3], 400);
    assert_non_null(strstr(f.bodies[3], "\"error\":\"format:"));
    assert_int_equal(f.statuses[4], 404);
    assert_int_equal(f.statuses[5], 401);
    assert_int_equal(f.statuses[6], 403);
    assert_int_equal(f.statuses[7], 400);
    assert_non_null(strstr(f.bodies[7], "\"error\":\"body: malformed JSON"));
    assert_int_equal(f.statuses[8], 503); /* no event store in this fixture */
    assert_int_equal(f.statuses[9], 200);
    assert_non_null(strstr(f.bodies[9], "# HELP rajnet_node_up"));
    assert_int_equal(f.statuses[10], 200);
    assert_non_null(strstr(f.bodies[10], "{\"nodes\":[{\"id\":\"sdc\""));
    assert_int_equal(f.statuses[11], 405);
    assert_int_equal(f.statuses[12], 200);
    assert_true(f.idle_connected >= 64); /* the per-IP limit lets 64 stay; the rest are refused */
    assert_true(f.status_secs_while_idle < 0.5);
    printf("# %d idle connections; /api/v1/status in %.1f ms while they were open; worst loop "
           "gap %.1f ms\n", f.idle_connected, f.status_secs_while_idle * 1000,
           (double)f.worst_gap_ns / 1e6);
    assert_true(f.worst_gap_ns < 100 * 1000000ULL);

    rn_latest_free(f.c.latest);
    rn_alarm_engine_free(f.c.alarms);
    rn_topology_free(f.c.topo);
    uv_loop_close(&loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f.tmp);
    assert_int_equal(system(cmd), 0);
    curl_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time_accepts_relative_and_absolute),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_graph_args_escape_colons_and_know_their_views),
        cmocka_unit_test(test_latest_keeps_two_newest_and_ignores_replays),
        cmocka_unit_test(test_server_answers_4xx_with_reasons_and_idle_clients_do_not_stall_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
