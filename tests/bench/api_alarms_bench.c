/* api-alarms: the worst GET /api/v1/alarms a client can send against an event store of N alarms
 * (default 100,000), timed on the collector's loop thread. See tests/bench/README.md, "api-alarms".
 *
 * A child process writes the store through the event store's own API (roots with symptoms, all
 * but the newest few hundred cleared, spread over the last weeks) and exits, so its memory does
 * not count. The parent opens the file as the collector does, starts the real HTTP server on the
 * simulated topology (collector/http/http.h) on a loop that ticks every millisecond, and a client
 * thread asks each request of the list once. Per request it prints: the client's time, the
 * longest gap between two ticks of the loop while it ran (the loop's stall), the growth of the
 * process's peak RSS (getrusage ru_maxrss) and the size of the answer.
 *
 *   api_alarms_bench [-n alarms] [-s symptoms-per-root] [-k] [-o file] [-t timeout-s] [PATH...]
 *
 * PATH defaults to the worst requests we know (state=all&since=0 with the largest limit, ...).
 * -k keeps the store file (its path is printed) to look at; -o writes the first answer to file;
 * -t is the client's timeout. -r sets up what GET /api/v1/report reads as well: the collector's
 * config (the simulated topology) and an RRD store whose every link has a probe file laid out as
 * collector/series/rrd_store.c lays them out (10 s step; 2 days at 10 s, 40 at 5 min, 400 at 1 h, 5
 * years at 1 day), so a report's PATH can be timed too. */
#define _GNU_SOURCE /* asprintf */
#include <curl/curl.h>
#include <errno.h>
#include <rrd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alarm/alarm.h"
#include "clock.h"
#include "collector.h"
#include "events/event_store.h"
#include "http/http.h"
#include "http/http_int.h"
#include "metrics.h"
#include "topology.h"

#define MAX_PATHS 16

typedef struct {
    rn_collector_t c;
    rn_http_config_t cfg;
    uint16_t port;
    uv_async_t done;
    uv_timer_t tick;
    uint64_t last_tick_ns, worst_gap_ns;
    bool measuring;
    const char *paths[MAX_PATHS];
    int n_paths;
    long timeout_s;
    int closed;
    const char *out_path;          /* -o: the first answer goes here */
} bench_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ---------------------------------------------------------------- building the store */

static void on_written(void *data, int status)
{
    int *failed = data;
    if (status)
        (*failed)++;
}

/* Writes n alarms into path: every (sym + 1)th a root, the others its symptoms; all but the
 * newest 300 cleared ten minutes after they were raised. Returns 0 or -1. */
static int build_store(const char *path, int n, int sym)
{
    uv_loop_t loop;
    rn_event_store_t *s;
    char err[256];
    int failed = 0;
    uv_loop_init(&loop);
    if (rn_event_store_open(&loop, path, &s, err, sizeof err)) {
        fprintf(stderr, "open %s: %s\n", path, err);
        return -1;
    }
    int64_t now = rn_clock_wall_ms(), base = now - (int64_t)n * 20000;
    uint64_t root = 0;
    double t0 = now_s();
    for (int i = 1; i <= n && !failed; i++) {
        char entity[64], node[32], text[96];
        bool is_root = (i - 1) % (sym + 1) == 0;
        snprintf(node, sizeof node, "village-%05d", i % 20000);
        snprintf(entity, sizeof entity, "node:%s", node);
        snprintf(text, sizeof text, "%s is unreachable (bench alarm %d)", node, i);
        rn_alarm_rec_t a = { .id = (uint64_t)i, .type = is_root ? "link_down" : "node_unreachable",
                             .severity = is_root ? "critical" : "major", .entity = entity,
                             .node = node, .root_id = is_root ? 0 : root, .text = text,
                             .impact_nodes = "[\"jaipur\",\"sanganer\"]",
                             .raised_at_ms = base + (int64_t)i * 20000 };
        if (is_root)
            root = (uint64_t)i;
        if (rn_event_store_alarm_raise(s, &a, on_written, &failed))
            failed++;
        if (i <= n - 300) {
            rn_alarm_hist_t e = { .alarm_id = (uint64_t)i, .kind = RN_HIST_CLEARED,
                                  .at_ms = a.raised_at_ms + 600000 };
            if (rn_event_store_alarm_event(s, &e, on_written, &failed))
                failed++;
        }
        if (i % 2000 == 0)
            uv_run(&loop, UV_RUN_DEFAULT); /* a bounded queue */
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    rn_event_store_close(s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    fprintf(stderr, "# store: %d alarms (%d symptoms a root) written in %.1f s, %d failed\n", n,
            sym, now_s() - t0, failed);
    return failed ? -1 : 0;
}

/* ---------------------------------------------------------------- -r: what a report reads */

/* Creates every link's probe file (both ends), empty, under the store's layout. Returns 0 or -1. */
static int make_probe_files(rn_collector_t *c)
{
    static const char *const rras[] = {
        "RRA:AVERAGE:0.5:1:17280", "RRA:AVERAGE:0.5:30:11520", "RRA:MIN:0.5:30:11520",
        "RRA:MAX:0.5:30:11520", "RRA:AVERAGE:0.5:360:9600", "RRA:MIN:0.5:360:9600",
        "RRA:MAX:0.5:360:9600", "RRA:AVERAGE:0.5:8640:1826", "RRA:MIN:0.5:8640:1826",
        "RRA:MAX:0.5:8640:1826",
    };
    const rn_template_t *t = rn_template_find("icmp");
    char *argv[64];
    int argc = 0, made = 0;
    for (size_t i = 0; t && i < t->n_metrics && argc < 40; i++)
        if (asprintf(&argv[argc++], "DS:%s:GAUGE:30:U:U", t->metrics[i].name) < 0)
            return -1;
    for (size_t i = 0; i < sizeof rras / sizeof rras[0]; i++)
        argv[argc++] = (char *)rras[i];
    for (size_t n = 0; t && n < c->topo->n_nodes; n++)
        for (size_t u = 0; u < c->topo->nodes[n].n_uplinks; u++) {
            const rn_node_t *node = &c->topo->nodes[n];
            const char *ends[2][2] = { { node->id, node->uplinks[u].remote_node },
                                       { node->uplinks[u].remote_node, node->id } };
            for (int e = 0; e < 2; e++) {
                char path[4096], cmd[4200];
                if (rn_rrd_store_path(c->store, ends[e][0], "icmp", "", ends[e][1], path,
                                      sizeof path))
                    continue;
                snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
                if (system(cmd) != 0)
                    return -1;
                rrd_clear_error();
                if (rrd_create_r(path, 10, time(NULL) - 86400, argc, (const char **)argv)) {
                    fprintf(stderr, "rrd_create %s: %s\n", path, rrd_get_error());
                    return -1;
                }
                made++;
            }
        }
    fprintf(stderr, "# %d probe files for the report\n", made);
    return made ? 0 : -1;
}

/* ---------------------------------------------------------------- the client */

typedef struct {
    size_t n;
    FILE *save;                    /* NULL: count only */
} body_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    body_t *b = ud;
    b->n += size * n;
    if (b->save)
        fwrite(p, size, n, b->save);
    return size * n;
}

static void client_main(void *arg)
{
    bench_t *b = arg;
    printf("%-58s %6s %10s %12s %10s %10s\n", "request", "status", "client_ms", "loop_stall_ms",
           "rss_kb+", "body_kb");
    for (int i = 0; i < b->n_paths; i++) {
        CURL *c = curl_easy_init();
        char url[512];
        body_t body = { 0, i == 0 && b->out_path ? fopen(b->out_path, "w") : NULL };
        long st = -1;
        snprintf(url, sizeof url, "http://127.0.0.1:%u%s", b->port, b->paths[i]);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, b->timeout_s);
        usleep(200 * 1000); /* let the loop settle */
        long rss0 = maxrss_kb();
        b->worst_gap_ns = 0;
        b->last_tick_ns = 0;
        b->measuring = true;
        double t0 = now_s();
        CURLcode rc = curl_easy_perform(c);
        double secs = now_s() - t0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        usleep(100 * 1000);
        b->measuring = false;
        printf("%-58s %6ld %10.1f %12.1f %10ld %10.1f%s\n", b->paths[i], st, secs * 1000,
               (double)b->worst_gap_ns / 1e6, maxrss_kb() - rss0, (double)body.n / 1024,
               rc == CURLE_OK ? "" : " (client gave up)");
        fflush(stdout);
        curl_easy_cleanup(c);
        if (body.save)
            fclose(body.save);
        if (rc != CURLE_OK)
            break; /* the loop is stuck: later figures would be its */
    }
    uv_async_send(&b->done);
}

/* ---------------------------------------------------------------- the server's loop */

static void on_closed(void *data)
{
    (*(int *)data)++;
}

static void on_done(uv_async_t *a)
{
    bench_t *b = a->data;
    rn_http_close(b->c.http, on_closed, &b->closed);
    rn_http_set_event_store(b->c.http, NULL);
    uv_close((uv_handle_t *)&b->done, NULL);
    uv_close((uv_handle_t *)&b->tick, NULL);
}

static void on_tick(uv_timer_t *t)
{
    bench_t *b = t->data;
    uint64_t now = uv_hrtime();
    if (b->measuring && b->last_tick_ns && now - b->last_tick_ns > b->worst_gap_ns)
        b->worst_gap_ns = now - b->last_tick_ns;
    b->last_tick_ns = now;
}

static void usage(void)
{
    fprintf(stderr, "usage: api_alarms_bench [-n alarms] [-s symptoms-per-root] [-k] [-o file] "
                    "[-r] [-t timeout-s] [PATH...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static bench_t b;
    int n = 100000, sym = 4, opt;
    bool keep = false;
    b.timeout_s = 600;
    bool reports = false;
    static rn_collector_config_t ccfg;
    while ((opt = getopt(argc, argv, "n:s:ko:rt:")) != -1) {
        if (opt == 'n')
            n = atoi(optarg);
        else if (opt == 's')
            sym = atoi(optarg);
        else if (opt == 'k')
            keep = true;
        else if (opt == 'o')
            b.out_path = optarg;
        else if (opt == 'r')
            reports = true;
        else if (opt == 't')
            b.timeout_s = atol(optarg);
        else
            usage();
    }
    if (n < 1 || sym < 0)
        usage();
    for (int i = optind; i < argc && b.n_paths < MAX_PATHS; i++)
        b.paths[b.n_paths++] = argv[i];
    if (!b.n_paths) {
        b.paths[b.n_paths++] = "/api/v1/alarms?state=all&since=0&limit=10000";
        b.paths[b.n_paths++] = "/api/v1/alarms?state=all&since=0&limit=100";
        b.paths[b.n_paths++] = "/api/v1/alarms";
        b.paths[b.n_paths++] = "/api/v1/nodes/jaipur";
    }
    char dir[] = "/tmp/rn-api-alarms-XXXXXX", path[64], err[1024];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/events.db", dir);
    pid_t pid = fork();
    if (pid == 0)
        _exit(build_store(path, n, sym) ? 1 : 0);
    int wst;
    if (pid < 0 || waitpid(pid, &wst, 0) != pid || !WIFEXITED(wst) || WEXITSTATUS(wst))
        return 1;

    uv_loop_t loop;
    uv_loop_init(&loop);
    b.c.loop = &loop;
    if (rn_topology_load(RN_SRCDIR "/deploy/sim/topology.yaml",
                         RN_SRCDIR "/deploy/sim/secrets.yaml", &b.c.topo, err, sizeof err) ||
        rn_alarm_engine_new(b.c.topo, NULL, NULL, NULL, &b.c.alarms) ||
        rn_event_store_open(&loop, path, &b.c.events, err, sizeof err)) {
        fprintf(stderr, "setup: %s\n", err);
        return 1;
    }
    rn_alarm_tick(b.c.alarms, rn_clock_wall_ms());
    if (reports) {
        char rrd_dir[80];
        snprintf(rrd_dir, sizeof rrd_dir, "%s/rrd", dir);
        ccfg.topology_path = RN_SRCDIR "/deploy/sim/topology.yaml";
        ccfg.secrets_path = RN_SRCDIR "/deploy/sim/secrets.yaml";
        ccfg.state_dir = dir;
        b.c.config = &ccfg;
        if (mkdir(rrd_dir, 0755) || rn_rrd_store_new(&loop, rrd_dir, &b.c.store) ||
            make_probe_files(&b.c))
            return 1;
    }
    b.cfg = (rn_http_config_t){ .enabled = true, .listen_host = "127.0.0.1", .max_connections = 64,
                                .max_per_ip = 64, .timeout_s = 900 };
    /* what the server sees of the collector (http.h): the bench's own fields */
    rn_report_host_t report_host = { .loop = &loop, .events = &b.c.events, .store = &b.c.store,
                                 .notifier = &b.c.notifier, .config = &b.c.config };
    rn_http_view_t view = { .loop = &loop, .topo = &b.c.topo, .alarms = &b.c.alarms,
                            .latest = &b.c.latest, .store = &b.c.store, .nodes = &b.c.nodes,
                            .reports = &report_host };
    if (rn_http_start(&view, &b.cfg, &b.c.http))
        return 1;
    rn_http_set_event_store(b.c.http, b.c.events);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(b.c.http->mhd,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    b.port = info ? info->port : 0;
    uv_async_init(&loop, &b.done, on_done);
    uv_timer_init(&loop, &b.tick);
    b.done.data = b.tick.data = &b;
    uv_timer_start(&b.tick, on_tick, 1, 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("# %d alarms, %d symptoms a root; peak RSS before the first request %ld kB\n", n, sym,
           maxrss_kb());
    uv_thread_t client;
    uv_thread_create(&client, client_main, &b);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&client);
    rn_event_store_close(b.c.events, NULL, NULL);
    if (b.c.store)
        rn_rrd_store_close(b.c.store, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    rn_alarm_engine_free(b.c.alarms);
    rn_topology_free(b.c.topo);
    uv_loop_close(&loop);
    curl_global_cleanup();
    if (keep) {
        printf("# store kept: %s\n", path);
    } else if (reports) {
        char cmd[96];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    } else {
        unlink(path);
        char aux[80];
        snprintf(aux, sizeof aux, "%s-wal", path);
        unlink(aux);
        snprintf(aux, sizeof aux, "%s-shm", path);
        unlink(aux);
        rmdir(dir);
    }
    return 0;
}
