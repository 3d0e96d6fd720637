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
#include <rrd.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "alarm/alarm.h"
#include "notify/notify.h"
#include "serial_queue.h"
#include "series/rrd_store.h"
#include "events/event_store.h"
#include "series/rrd_graph.h"
#include "http/http.h"
#include "http/http_int.h"
#include "series/latest.h"
#include "report/report_run.h"

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
    assert_int_equal(rn__http_parse_time("now+90s", 1000000, &t), 0);
    assert_int_equal(t, 1000090);
    assert_int_equal(rn__http_parse_time("-5000ms", 1000000, &t), 0);
    assert_int_equal(t, 1000000 - 5);
}

/* Extreme times were multiplied and added in int64_t unchecked (signed overflow: UBSan in the
 * --enable-sanitizers build, garbage ranges otherwise). Every one is now a clean -EINVAL. */
static void test_parse_time_refuses_extremes_without_overflow(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "now+9223372036854775807", "now-9223372036854775807", "-9223372036854775807h",
        "9223372036854775807d", "now+9223372036854775807d", "-106751991167301d",
        "+2562047788015216h",
        "now-99999999999999ms", "9223372036854775807", "99999999999999999999", "-1700000000000",
        "now-1700000000000", "now+300000000000",
    };
    int64_t t = 42;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (rn__http_parse_time(bad[i], 1700000000, &t) != -EINVAL)
            fail_msg("'%s' gave %lld, not -EINVAL", bad[i], (long long)t);
    }
    assert_int_equal(rn__http_parse_time("now", -1, &t), -EINVAL);
    assert_int_equal(rn__http_parse_time("now+10", RN_HTTP_TIME_MAX_S - 10, &t), 0);
    assert_int_equal(t, RN_HTTP_TIME_MAX_S); /* 9999-12-31T23:59:59 */
    assert_int_equal(rn__http_parse_time("now+11", RN_HTTP_TIME_MAX_S - 10, &t), -EINVAL);
    assert_int_equal(rn__http_parse_time("9223372036854775", 0, &t), -EINVAL); /* ms, past 9999 */
    assert_int_equal(rn__http_parse_time("now-1700000000", 1700000000, &t), 0);
    assert_int_equal(t, 0);
}

static void test_int_and_id_arguments_are_exact(void **state)
{
    (void)state;
    int64_t v;
    uint64_t id;
    assert_int_equal(rn__http_parse_int("10000", 1, 10000, &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(rn__http_parse_int("10001", 1, 10000, &v), -EINVAL);
    assert_int_equal(rn__http_parse_int(" 5", 1, 10, &v), -EINVAL);
    assert_int_equal(rn__http_parse_int("5 ", 1, 10, &v), -EINVAL);
    assert_int_equal(rn__http_parse_int("9223372036854775808", 0, INT64_MAX, &v), -EINVAL);
    assert_int_equal(rn__http_parse_int("-0", 0, 1, &v), 0);
    assert_int_equal(rn__http_parse_id("42/ack", '/', &id), 0);
    assert_int_equal(id, 42);
    assert_int_equal(rn__http_parse_id("42", '/', &id), -EINVAL);
    assert_int_equal(rn__http_parse_id(" 42", '\0', &id), -EINVAL);
    assert_int_equal(rn__http_parse_id("-42", '\0', &id), -EINVAL);
    assert_int_equal(rn__http_parse_id("0", '\0', &id), -EINVAL);
    assert_int_equal(rn__http_parse_id("9223372036854775808", '\0', &id), -EINVAL);
}

/* DNS rebinding: a page of evil.example re-pointed at 127.0.0.1 sends Host: evil.example. */
static void test_host_header_accepts_only_our_names(void **state)
{
    (void)state;
    char *allowed[] = { "noc.rajnet.example" };
    static const char *const ok[] = {
        NULL, "127.0.0.1", "127.0.0.1:8080", "10.1.2.3:80", "[::1]:8080", "[::1]", "localhost",
        "LOCALHOST:8080", "localhost.", "noc.localhost:1", "noc.rajnet.example",
        "NOC.Rajnet.Example.:443", "collector-1",
    };
    static const char *const foreign[] = { "evil.example", "evil.example:8080", "localhost.evil",
                                           "noc.rajnet.example.evil", "127.0.0.1.evil.example",
                                           "rajnet.example", "1.2.3", "1.2.3.256" };
    static const char *const malformed[] = { "", ":80", "a b", "[::1", "[::1]x", "[zz::1]",
                                             "host:", "host:8o", "ho/st", "[::1]:" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (rn__http_host_allowed(ok[i], "collector-1", allowed, 1) != 0)
            fail_msg("Host '%s' refused", ok[i]);
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
        if (rn__http_host_allowed(foreign[i], "collector-1", allowed, 1) != -EPERM)
            fail_msg("Host '%s' not refused as foreign", foreign[i]);
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        if (rn__http_host_allowed(malformed[i], "collector-1", allowed, 1) != -EINVAL)
            fail_msg("Host '%s' not refused as malformed", malformed[i]);
}

/* Writes a collector.yaml with the given http: section into dir and loads it. */
static int load_http_config(const char *dir, const char *http, rn_collector_config_t **out,
                            char *err, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/collector.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "listen: 127.0.0.1:7400\ntopology: t.yaml\ndata_dir: /tmp\n"
               "tls: { cert: c.crt, key: c.key, ca: ca.crt }\nhttp:\n%s", http);
    fclose(f);
    return rn_collector_config_load(path, out, err, len);
}

static void test_allowed_hosts_config_is_checked_and_normalised(void **state)
{
    (void)state;
    char dir[] = "/tmp/rn-test-http-cfg-XXXXXX", err[512];
    rn_collector_config_t *c = NULL;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(load_http_config(dir, "  allowed_hosts: [NOC.Rajnet.Example., collector-1]\n",
                                      &c, err, sizeof err), 0);
    assert_int_equal(c->http.n_allowed_hosts, 2);
    assert_string_equal(c->http.allowed_hosts[0], "noc.rajnet.example");
    assert_string_equal(c->http.allowed_hosts[1], "collector-1");
    rn_collector_config_free(c);
    assert_true(load_http_config(dir, "  allowed_hosts: [\"evil.example/x\"]\n", &c, err,
                                 sizeof err) < 0);
    assert_non_null(strstr(err, "http.allowed_hosts[0]: 'evil.example/x' is not a DNS name"));
    assert_true(load_http_config(dir, "  allowed_hosts: noc.example\n", &c, err, sizeof err) < 0);
    assert_non_null(strstr(err, "http.allowed_hosts"));
    assert_int_equal(load_http_config(dir, "  listen: 127.0.0.1:8080\n", &c, err, sizeof err), 0);
    assert_int_equal(c->http.n_allowed_hosts, 0);
    rn_collector_config_free(c);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
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

/* The route tables as routes.c hands them to the server: the first route that matches wins, so
 * two routes for one method and path would leave one dead; prefixes end in '/' so that
 * /api/v1/nodes/ never swallows /api/v1/nodesX. */
static void test_route_tables_are_whole_and_unambiguous(void **state)
{
    (void)state;
    const rn_http_route_t *seen[64];
    size_t n = 0, tables = 0;
    for (const rn_http_route_t *const *t = rn_http_tables; *t; t++, tables++)
        for (const rn_http_route_t *rt = *t; rt->method; rt++) {
            assert_non_null(rt->fn);
            assert_true(rt->path[0] == '/');
            assert_true(!rt->prefix || rt->path[strlen(rt->path) - 1] == '/');
            assert_true(!strcmp(rt->method, "GET") || !strcmp(rt->method, "POST") ||
                        !strcmp(rt->method, "DELETE"));
            for (size_t k = 0; k < n; k++)
                assert_false(!strcmp(seen[k]->method, rt->method) &&
                             !strcmp(seen[k]->path, rt->path) && seen[k]->prefix == rt->prefix);
            assert_true(n < sizeof seen / sizeof seen[0]);
            seen[n++] = rt;
        }
    assert_int_equal(tables, 10); /* each resource's table, the events stream's, the dashboard's */
    assert_int_equal(n, 21);      /* the routes of docs/api.md */
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

/* What a collector would hold: the fields the server's view points at (http.h). No collector is
 * built: the server sees only its view. */
typedef struct {
    uv_loop_t *loop;
    rn_topology_t *topo;
    rn_rrd_store_t *store;
    rn_alarm_engine_t *alarms;
    struct rn_latest *latest;
    rn_event_store_t *events;
    rn_notifier_t *notifier;
    rn_collector_config_t *config;
    rn_http_t *http;
    rn_report_host_t reports;
    rn_http_view_t view;
} ctx_t;

/* Points c's view and report host at c's fields, then starts the server. Returns rn_http_start's
 * result. */
static int start_http(ctx_t *c, const rn_http_config_t *cfg)
{
    c->reports = (rn_report_host_t){ .loop = c->loop, .events = &c->events, .store = &c->store,
                                     .notifier = &c->notifier, .config = &c->config };
    c->view = (rn_http_view_t){ .loop = c->loop, .topo = &c->topo, .alarms = &c->alarms,
                                .latest = &c->latest, .store = &c->store,
                                .reports = &c->reports };
    return rn_http_start(&c->view, cfg, &c->http);
}

typedef struct fixture {
    ctx_t c;
    rn_http_config_t cfg;
    rn_http_token_t tokens[3];
    uint16_t port;
    uv_async_t done;
    uv_timer_t tick;
    uint64_t last_tick_ns, worst_gap_ns;
    bool measuring;
    uv_thread_t client;
    char tmp[64];
    /* the fixture with an event store (test_server_with_store_...) */
    rn_collector_config_t ccfg;
    uv_async_t step;              /* the client asks the loop to do steps[step_no] */
    uv_sem_t stepped;
    int step_no;
    void (*steps[8])(struct fixture *f);
    int graph_closed;
    /* results, written by the client thread */
    int statuses[48];
    char bodies[48][512];
    char headers[48][512];
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

/* A request with an extra header line (may be NULL), e.g. "Host: evil.example". The status,
 * the first 511 bytes of the body and of the response headers land in slot. */
static int req_h(fixture_t *f, int slot, const char *method, const char *path, const char *auth,
                 const char *body, const char *extra, double *secs)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[512], hdr[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port, path);
    f->bodies[slot][0] = f->headers[slot][0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f->bodies[slot]);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, f->headers[slot]);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (auth) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", auth);
        h = curl_slist_append(h, hdr);
    }
    if (extra)
        h = curl_slist_append(h, extra);
    if (h)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
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

static int req(fixture_t *f, int slot, const char *method, const char *path, const char *auth,
               const char *body, double *secs)
{
    return req_h(f, slot, method, path, auth, body, NULL, secs);
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
        "{\"entity\":\"jaipur\",\"start_ms\":1,\"end_ms\":2}", NULL);              /* 8: 403 */
    req(f, i++, "GET", "/metrics", NULL, NULL, NULL);                              /* 9 */
    req(f, i++, "GET", "/api/v1/nodes", NULL, NULL, NULL);                         /* 10 */
    req(f, i++, "DELETE", "/api/v1/status", NULL, NULL, NULL);                     /* 11 */
    i = 13; /* 12 is taken below */
    req_h(f, i++, "GET", "/api/v1/status", NULL, NULL, "Host: evil.example:8080", NULL); /* 13 */
    req_h(f, i++, "GET", "/api/v1/status", NULL, NULL, "Host: noc.rajnet.example", NULL); /* 14 */
    req_h(f, i++, "GET", "/api/v1/status", NULL, NULL, "Host: localhost:1", NULL);  /* 15 */
    req_h(f, i++, "GET", "/api/v1/nodes", NULL, NULL, "Host: a b", NULL);         /* 16 */
    req(f, i++, "GET", "/api/v1/graph?node=jaipur&source=icmp&object=sdc&"
        "from=-9223372036854775807&to=9223372036854775807", NULL, NULL, NULL);     /* 17 */
    req(f, i++, "GET", "/api/v1/graph?node=jaipur&source=icmp&object=sdc&"
        "from=now-9223372036854775807h", NULL, NULL, NULL);                        /* 18 */
    char body[160];
    snprintf(body, sizeof body, "{\"entity\":\"jaipur\",\"start_ms\":%lld,\"end_ms\":%lld}",
             (long long)(rn_clock_wall_ms() + 60000), (long long)(rn_clock_wall_ms() + 120000));
    req(f, i++, "POST", "/api/v1/maintenance", "operator-token-1", body, NULL);   /* 19: 503 */
    i = 12;
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
    static char *hosts[] = { "noc.rajnet.example" };
    f.cfg = (rn_http_config_t){ .enabled = true, .listen_host = "127.0.0.1", .tokens = f.tokens,
                                .n_tokens = 2, .max_connections = 512, .max_per_ip = 64,
                                .timeout_s = 15, .allowed_hosts = hosts, .n_allowed_hosts = 1 };
    assert_int_equal(start_http(&f.c, &f.cfg), 0);
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
    assert_int_equal(f.statuses[8], 403); /* backdated to 1970 by an operator */
    assert_non_null(strstr(f.bodies[8], "only a token with role admin may backdate"));
    assert_int_equal(f.statuses[9], 200);
    assert_non_null(strstr(f.bodies[9], "# HELP rajnet_node_up"));
    assert_int_equal(f.statuses[10], 200);
    assert_non_null(strstr(f.bodies[10], "{\"nodes\":[{\"id\":\"sdc\""));
    assert_int_equal(f.statuses[11], 405);
    assert_int_equal(f.statuses[13], 421);
    assert_non_null(strstr(f.bodies[13], "\"error\":\"Host: 'evil.example:8080' is not a name"));
    assert_non_null(strstr(f.bodies[13], "http.allowed_hosts"));
    assert_int_equal(f.statuses[14], 200);
    assert_int_equal(f.statuses[15], 200);
    assert_int_equal(f.statuses[16], 400);
    assert_int_equal(f.statuses[17], 400);
    assert_non_null(strstr(f.bodies[17], "\"error\":\"from:"));
    assert_int_equal(f.statuses[18], 400);
    assert_non_null(strstr(f.bodies[18], "\"error\":\"from:"));
    assert_int_equal(f.statuses[19], 503); /* a window ahead passes the checks, then no store */
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

/* ---------------------------------------------------------------- with an event store */

#define STORE_ALARMS 25000 /* more than an answer's 20,000 alarms: the listing is cut */
#define DAY_MS 86400000LL

static void on_written(void *data, int status)
{
    if (status)
        (*(int *)data)++;
}

/* Writes n alarms: every fifth (1, 6, 11, ...) a root, the next four its symptoms, 20 s apart
 * and ending now; all but the newest 50 cleared ten minutes after they were raised. Returns how
 * many writes failed. */
static int fill_alarms(fixture_t *f, int n)
{
    int failed = 0;
    int64_t base = rn_clock_wall_ms() - (int64_t)n * 20000;
    uint64_t root = 0;
    for (int i = 1; i <= n; i++) {
        char entity[48];
        bool is_root = (i - 1) % 5 == 0;
        snprintf(entity, sizeof entity, "node:v%05d", i);
        rn_alarm_rec_t a = { .id = (uint64_t)i, .type = is_root ? "link_down" : "node_unreachable",
                             .severity = "major", .entity = entity, .node = entity + 5,
                             .root_id = is_root ? 0 : root, .text = "test alarm",
                             .raised_at_ms = base + (int64_t)i * 20000 };
        root = is_root ? (uint64_t)i : root;
        failed += rn_event_store_alarm_raise(f->c.events, &a, on_written, &failed) != 0;
        rn_alarm_hist_t e = { .alarm_id = (uint64_t)i, .kind = RN_HIST_CLEARED,
                              .at_ms = a.raised_at_ms + 600000 };
        if (i <= n - 50)
            failed += rn_event_store_alarm_event(f->c.events, &e, on_written, &failed) != 0;
        if (i % 2000 == 0)
            uv_run(f->c.loop, UV_RUN_DEFAULT);
    }
    uv_run(f->c.loop, UV_RUN_DEFAULT);
    return failed;
}

typedef struct {
    char *p;
    size_t n;
} grow_t;

static size_t on_grow(char *p, size_t size, size_t n, void *ud)
{
    grow_t *g = ud;
    char *q = realloc(g->p, g->n + size * n + 1);
    if (!q)
        return 0;
    memcpy(q + g->n, p, size * n);
    g->p = q;
    g->n += size * n;
    q[g->n] = '\0';
    return size * n;
}

/* GETs path and parses the answer into *out (NULL when it is not JSON). Returns the status. */
static int get_json(fixture_t *f, const char *path, json_t **out, size_t *len)
{
    CURL *c = curl_easy_init();
    grow_t g = { 0 };
    char url[512];
    long st = -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_grow);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    *out = g.p ? json_loadb(g.p, g.n, 0, NULL) : NULL;
    *len = g.n;
    free(g.p);
    return (int)st;
}

/* Has the loop run f->steps[k] and waits until it did. */
static void loop_step(fixture_t *f, int k)
{
    f->step_no = k;
    uv_async_send(&f->step);
    uv_sem_wait(&f->stepped);
}

static void on_step(uv_async_t *a)
{
    fixture_t *f = a->data;
    f->steps[f->step_no](f);
    uv_sem_post(&f->stepped);
}

static void occupy_reports(fixture_t *f)
{
    f->c.reports.jobs += RN_REPORT_MAX_RUNNING; /* as if two reports were being made */
}

static void free_reports(fixture_t *f)
{
    f->c.reports.jobs -= RN_REPORT_MAX_RUNNING;
}

static void never(void *data, int status, const char *files)
{
    (void)data, (void)status, (void)files;
    fail_msg("a refused run called back");
}

static void on_scheduled(void *data, int status, char *body, size_t len)
{
    (void)len;
    *(int *)data = status ? status : 1;
    free(body);
}

/* While occupied: a run by hand is refused; a scheduled one (the cron's monthly run sets
 * .scheduled) is admitted and counted. JSON, so no PDF is drawn here. */
static void monthly_while_occupied(fixture_t *f)
{
    rn_report_req_t req = { .from_ms = 1767225600000LL, .to_ms = 1769904000000LL,
                            .format = RN_REPORT_JSON, .scheduled = true };
    f->statuses[40] = rn_report_monthly_deliver(&f->c.reports, "2026-01", never, NULL);
    f->statuses[41] = rn_report_run(&f->c.reports, &req, on_scheduled, &f->statuses[42]);
    f->statuses[43] = (int)f->c.reports.jobs;
}

/* What the client thread of the store fixture saw, checked on the test's thread. */
typedef struct {
    json_t *all, *three, *active;
    size_t all_len;
    double all_secs;
} store_seen_t;

static store_seen_t seen;

static void store_client_main(void *arg)
{
    fixture_t *f = arg;
    int i = 0;
    char path[256], body[256];
    size_t len;
    int64_t now = rn_clock_wall_ms();
    double t0 = (double)uv_hrtime() / 1e9;
    f->measuring = true; /* the worst listing a client can ask for */
    f->statuses[i++] = get_json(f, "/api/v1/alarms?state=all&since=0&limit=10000", &seen.all,
                                &seen.all_len);                                      /* 0 */
    f->measuring = false;
    seen.all_secs = (double)uv_hrtime() / 1e9 - t0;
    f->statuses[i++] = get_json(f, "/api/v1/alarms?state=all&since=0&limit=3", &seen.three,
                                &len);                                               /* 1 */
    f->statuses[i++] = get_json(f, "/api/v1/alarms", &seen.active, &len);            /* 2 */
    snprintf(path, sizeof path, "/api/v1/report?from=0&to=%lld", 500 * DAY_MS);
    req(f, i++, "GET", path, NULL, NULL, NULL);                                      /* 3 */
    loop_step(f, 0);
    req(f, i++, "GET", "/api/v1/report?month=2026-01", NULL, NULL, NULL);            /* 4 */
    req(f, i++, "POST", "/api/v1/report/deliver", "operator-token-1",
        "{\"month\":\"2026-01\"}", NULL);                                            /* 5 */
    loop_step(f, 2);
    loop_step(f, 1);
    snprintf(path, sizeof path, "/api/v1/report?from=%lld&to=%lld", (long long)(now - DAY_MS),
             (long long)now);
    req(f, i++, "GET", path, NULL, NULL, NULL);                                      /* 6 */
    now = rn_clock_wall_ms();
    snprintf(body, sizeof body, "{\"entity\":\"jaipur\",\"start_ms\":%lld,\"end_ms\":%lld}",
             (long long)(now - 600000), (long long)(now + 600000));
    req(f, i++, "POST", "/api/v1/maintenance", "operator-token-1", body, NULL);      /* 7 */
    req(f, i++, "POST", "/api/v1/maintenance", "admin-token-1", body, NULL);         /* 8 */
    snprintf(body, sizeof body, "{\"entity\":\"jaipur\",\"start_ms\":%lld,\"end_ms\":%lld}",
             (long long)(now - 60000), (long long)(now + 600000));
    req(f, i++, "POST", "/api/v1/maintenance", "operator-token-1", body, NULL);      /* 9 */
    req(f, i++, "POST", "/api/v1/alarms/24999/ack", "operator-token-1",
        "{\"comment\":\"seen\"}", NULL);                                             /* 10 */
    uv_async_send(&f->done);
}

static void on_events_closed(void *data)
{
    (void)data;
}

static void on_store_done(uv_async_t *a)
{
    fixture_t *f = a->data;
    rn_http_close(f->c.http, on_http_closed, f);
    rn_event_store_close(f->c.events, on_events_closed, f);
    uv_close((uv_handle_t *)&f->done, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_close((uv_handle_t *)&f->step, NULL);
}

/* Root ids of an answer's "alarms", and that each root's symptoms are the four after it. */
static void check_roots(json_t *answer, const uint64_t *want, size_t n)
{
    json_t *alarms = json_object_get(answer, "alarms");
    assert_int_equal(json_array_size(alarms), n);
    for (size_t k = 0; k < n; k++) {
        json_t *r = json_array_get(alarms, k), *sym = json_object_get(r, "symptoms");
        assert_int_equal(json_integer_value(json_object_get(r, "id")), want[k]);
        assert_int_equal(json_array_size(sym), 4);
        for (size_t m = 0; m < 4; m++) {
            json_t *x = json_array_get(sym, m);
            assert_int_equal(json_integer_value(json_object_get(x, "id")), want[k] + 1 + m);
            assert_int_equal(json_integer_value(json_object_get(x, "root_id")), want[k]);
        }
    }
}

/* 25,000 alarms in the store: the worst listing (state=all&since=0&limit=10000) was O(n^2) on
 * the loop (5.5 s at 20,000); it is now cut at 20,000 alarms, says so, and holds the loop for
 * a fraction of that. Reports: spans over 400 days are a 400, a third report at once a 503 with
 * Retry-After. Maintenance: a window starting 10 min ago is refused to an operator, taken from
 * an admin (the audit says "backdated"). */
static void test_server_with_store_bounds_alarms_reports_and_backdating(void **st)
{
    (void)st;
    static fixture_t f;
    char err[1024], db[128];
    uv_loop_t loop;
    uv_loop_init(&loop);
    memset(&f, 0, sizeof f);
    memset(&seen, 0, sizeof seen);
    f.c.loop = &loop;
    assert_int_equal(rn_topology_load(RN_SRCDIR "/deploy/sim/topology.yaml",
                                      RN_SRCDIR "/deploy/sim/secrets.yaml", &f.c.topo, err,
                                      sizeof err), 0);
    assert_int_equal(rn_alarm_engine_new(f.c.topo, NULL, NULL, NULL, &f.c.alarms), 0);
    snprintf(f.tmp, sizeof f.tmp, "/tmp/rn-test-http-XXXXXX");
    assert_non_null(mkdtemp(f.tmp));
    snprintf(db, sizeof db, "%s/events.db", f.tmp);
    assert_int_equal(rn_event_store_open(&loop, db, &f.c.events, err, sizeof err), 0);
    assert_int_equal(fill_alarms(&f, STORE_ALARMS), 0);
    f.ccfg.topology_path = RN_SRCDIR "/deploy/sim/topology.yaml";
    f.ccfg.secrets_path = RN_SRCDIR "/deploy/sim/secrets.yaml";
    f.ccfg.state_dir = f.tmp;
    f.c.config = &f.ccfg;
    f.tokens[0] = (rn_http_token_t){ "op", "operator-token-1", "operator" };
    f.tokens[1] = (rn_http_token_t){ "view", "viewer-token-1", "viewer" };
    f.tokens[2] = (rn_http_token_t){ "boss", "admin-token-1", "admin" };
    f.cfg = (rn_http_config_t){ .enabled = true, .listen_host = "127.0.0.1", .tokens = f.tokens,
                                .n_tokens = 3, .max_connections = 64, .max_per_ip = 64,
                                .timeout_s = 120 };
    assert_int_equal(start_http(&f.c, &f.cfg), 0);
    rn_http_set_event_store(f.c.http, f.c.events);
    f.port = MHD_get_daemon_info(f.c.http->mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
    f.steps[0] = occupy_reports;
    f.steps[1] = free_reports;
    f.steps[2] = monthly_while_occupied;
    uv_sem_init(&f.stepped, 0);
    uv_async_init(&loop, &f.done, on_store_done);
    uv_async_init(&loop, &f.step, on_step);
    uv_timer_init(&loop, &f.tick);
    f.done.data = f.tick.data = f.step.data = &f;
    uv_timer_start(&f.tick, on_tick, 10, 10);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    uv_thread_create(&f.client, store_client_main, &f);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&f.client);
    uv_sem_destroy(&f.stepped);

    printf("# state=all&since=0&limit=10000 over %d alarms: %.0f ms, %.0f kB, worst loop gap "
           "%.1f ms\n", STORE_ALARMS, seen.all_secs * 1000, (double)seen.all_len / 1024,
           (double)f.worst_gap_ns / 1e6);
    assert_int_equal(f.statuses[0], 200);
    assert_true(json_is_true(json_object_get(seen.all, "truncated")));
    json_t *all = json_object_get(seen.all, "alarms");
    size_t total = json_array_size(all);
    for (size_t k = 0; k < json_array_size(all); k++)
        total += json_array_size(json_object_get(json_array_get(all, k), "symptoms"));
    assert_int_equal(total, 20000);           /* 4,000 roots and their 16,000 symptoms */
    assert_true(f.worst_gap_ns < 1000 * 1000000ULL); /* 5.5 s at 20,000 before; ~70 ms now */
    assert_int_equal(f.statuses[1], 200);
    check_roots(seen.three, (const uint64_t[]){ 24996, 24991, 24986 }, 3);
    assert_null(json_object_get(seen.three, "truncated"));
    assert_int_equal(f.statuses[2], 200);     /* the newest 50 are active: 10 roots */
    check_roots(seen.active, (const uint64_t[]){ 24996, 24991, 24986, 24981, 24976, 24971, 24966,
                                                 24961, 24956, 24951 }, 10);
    assert_int_equal(f.statuses[3], 400);
    assert_non_null(strstr(f.bodies[3], "at most 400 days"));
    assert_int_equal(f.statuses[4], 503);
    assert_non_null(strstr(f.headers[4], "Retry-After: 30"));
    assert_int_equal(f.statuses[5], 503);
    assert_non_null(strstr(f.headers[5], "Retry-After: 30"));
    assert_int_equal(f.statuses[40], -EBUSY);
    assert_int_equal(f.statuses[41], 0);
    assert_int_equal(f.statuses[43], RN_REPORT_MAX_RUNNING + 1);
    assert_int_equal(f.statuses[42], 1); /* it ran to its end */
    assert_int_equal(f.statuses[6], 200);
    assert_int_equal(f.c.reports.jobs, 0); /* every admitted report finished and counted down */
    assert_int_equal(f.c.reports.runs, 0);
    assert_int_equal(f.statuses[7], 403);
    assert_non_null(strstr(f.bodies[7], "only a token with role admin may backdate"));
    assert_int_equal(f.statuses[8], 201);
    assert_int_equal(f.statuses[9], 201);     /* a minute ago: within the grace */
    assert_int_equal(f.statuses[10], 200);
    assert_non_null(strstr(f.bodies[10], "{\"id\":24999,"));
    assert_non_null(strstr(f.bodies[10], "\"acked_by\":\"op\""));

    sqlite3 *q;
    sqlite3_stmt *stmt;
    int backdated = 0, adds = 0;
    assert_int_equal(sqlite3_open_v2(db, &q, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(q, "SELECT actor, detail FROM audit WHERE action = "
                                        "'maintenance_add'", -1, &stmt, NULL), SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        adds++;
        const char *actor = (const char *)sqlite3_column_text(stmt, 0);
        const char *detail = (const char *)sqlite3_column_text(stmt, 1);
        const char *by = strstr(detail, " backdated by ");
        long secs = by ? strtol(by + 14, NULL, 10) : 0;
        backdated += by && secs >= 599 && secs < 660 && !strcmp(actor, "boss");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(q);
    assert_int_equal(adds, 2);
    assert_int_equal(backdated, 1);

    json_decref(seen.all);
    json_decref(seen.three);
    json_decref(seen.active);
    rn_alarm_engine_free(f.c.alarms);
    rn_topology_free(f.c.topo);
    uv_loop_close(&loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f.tmp);
    assert_int_equal(system(cmd), 0);
    curl_global_cleanup();
}

/* ---------------------------------------------------------------- shutdown with a render */

static void graph_client_main(void *arg)
{
    fixture_t *f = arg;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };
    char rq[256];
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    rn_rrd_graph_lock(); /* the render blocks in rrd_graph_v until we let it go */
    int n = snprintf(rq, sizeof rq, "GET /api/v1/graph?node=jaipur&source=icmp&object=sdc "
                                    "HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    int fds[3];
    for (int i = 0; i < 3; i++) { /* the first renders; two wait behind it in the queue */
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof sa) ||
            write(fds[i], rq, (size_t)n) != n)
            f->statuses[0] = -1;
        usleep(100 * 1000);
    }
    usleep(300 * 1000);  /* dispatched; the render waits for the lock on a pool thread */
    uv_async_send(&f->done); /* the collector shuts down now */
    usleep(300 * 1000);
    rn_rrd_graph_unlock(); /* the render ends after the server began to close */
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void on_graph_http_closed(void *data)
{
    fixture_t *f = data;
    f->graph_closed++;
}

static void on_graph_done(uv_async_t *a)
{
    fixture_t *f = a->data;
    /* a render must be in flight, two waiting: the server drops those and waits for that one */
    rn_serial_t *q = f->c.http->graphs;
    f->graph_closed = q && rn_serial_busy(q) && rn_serial_waiting(q) == 2 ? 0 : -100;
    rn_http_close(f->c.http, on_graph_http_closed, f);
    rn_rrd_store_close(f->c.store, on_store_closed, f);
    uv_close((uv_handle_t *)&f->done, NULL);
}

/* rendered() read the server after rn__http_job_done had freed it (the last job of a closing
 * server): a heap use-after-free that the --enable-sanitizers build reports here. The server
 * now waits for the render and is freed in its callback, once. */
static void test_shutdown_with_a_render_in_flight_frees_the_server_once(void **st)
{
    (void)st;
    static fixture_t f;
    char err[1024], path[4096];
    uv_loop_t loop;
    uv_loop_init(&loop);
    memset(&f, 0, sizeof f);
    f.c.loop = &loop;
    assert_int_equal(rn_topology_load(RN_SRCDIR "/deploy/sim/topology.yaml",
                                      RN_SRCDIR "/deploy/sim/secrets.yaml", &f.c.topo, err,
                                      sizeof err), 0);
    snprintf(f.tmp, sizeof f.tmp, "/tmp/rn-test-http-XXXXXX");
    assert_non_null(mkdtemp(f.tmp));
    assert_int_equal(rn_rrd_store_new(&loop, f.tmp, &f.c.store), 0);
    assert_int_equal(rn_rrd_store_path(f.c.store, "jaipur", "icmp", "", "sdc", path, sizeof path),
                     0);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && : > '%s'", path, path);
    assert_int_equal(system(cmd), 0); /* render() only needs the file to exist */
    f.cfg = (rn_http_config_t){ .enabled = true, .listen_host = "127.0.0.1",
                                .max_connections = 64, .max_per_ip = 64, .timeout_s = 15 };
    assert_int_equal(start_http(&f.c, &f.cfg), 0);
    f.port = MHD_get_daemon_info(f.c.http->mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
    uv_async_init(&loop, &f.done, on_graph_done);
    f.done.data = &f;
    uv_thread_create(&f.client, graph_client_main, &f);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&f.client);
    assert_int_equal(f.statuses[0], 0);
    assert_int_equal(f.graph_closed, 1); /* closed after the render, exactly once */
    rn_topology_free(f.c.topo);
    assert_int_equal(uv_loop_close(&loop), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f.tmp);
    assert_int_equal(system(cmd), 0);
}

/* LeakSanitizer (--enable-sanitizers) reads this: fontconfig, which librrd sets up on the pool
 * thread of a render, keeps its caches to the end of the process at times; not our leak. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time_accepts_relative_and_absolute),
        cmocka_unit_test(test_parse_time_refuses_extremes_without_overflow),
        cmocka_unit_test(test_int_and_id_arguments_are_exact),
        cmocka_unit_test(test_host_header_accepts_only_our_names),
        cmocka_unit_test(test_allowed_hosts_config_is_checked_and_normalised),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_graph_args_escape_colons_and_know_their_views),
        cmocka_unit_test(test_route_tables_are_whole_and_unambiguous),
        cmocka_unit_test(test_latest_keeps_two_newest_and_ignores_replays),
        cmocka_unit_test(test_server_answers_4xx_with_reasons_and_idle_clients_do_not_stall_the_loop),
        cmocka_unit_test(test_server_with_store_bounds_alarms_reports_and_backdating),
        cmocka_unit_test(test_shutdown_with_a_render_in_flight_frees_the_server_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
