/* agent_swarm: a load generator for the collector. One process, one libuv loop, N simulated
 * agents, each with its own mutually authenticated TLS 1.3 connection (lib/tls.h) and its own
 * certificate (CN = node id, as the collector checks), speaking the real protocol: hello, wait
 * for the plan, then batches of "if" samples (7 values each) with increasing seq and timestamps,
 * acks tracked per batch for latency. Run by tests/bench/agent-swarm, never by `make check`.
 *
 *   agent_swarm topology FILE N STEP     writes a topology of N block nodes (+ sdc, districts)
 *   agent_swarm run [options]            runs the swarm against a running collector
 *
 * Certificates: issuing 10,000 certificates with the openssl CLI takes minutes, so the swarm
 * issues them itself with libcrypto from the CA made by deploy/pki/rajnet-pki (EC P-256,
 * ECDSA-SHA256, the same extensions as `rajnet-pki node`), into <dir>/certs. The swarm's agents
 * share one private key (each certificate binds it to a different CN): generating 10,000 keys
 * buys nothing for a load test. This file speaks libcrypto directly; it is a test tool, not one
 * of the daemons' adapters.
 *
 * Modes:
 *   throughput  every agent keeps --window batches in flight (a new one on each ack) of one
 *               sample per series; after every agent's first batch is acked (files created) the
 *               swarm measures --duration seconds: acked updates/s, values/s, p99 ack latency,
 *               collector RSS and CPU.
 *   hold        every agent sends one batch every --interval-ms (spread evenly over the interval)
 *               for --duration seconds; the collector's RSS is printed every --report-s seconds
 *               and the run fails when it grows more than --max-growth-pct after warm-up.
 * Sample times are synthetic: batch k of an agent carries time t0 + k * spp * step (spp samples
 * per series per batch, one step apart), so a run never waits for the wall clock.
 *
 * Results are printed as "RESULT key value" lines for the script. Bounded: every phase has a
 * deadline and the process ends by itself. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "tls.h"
#include "wire.h"

#define RING 64           /* send times kept per agent: window must stay below */
#define N_VALUES 7        /* the "if" template */
#define BLOCKS_PER_DISTRICT 300

typedef struct swarm swarm_t;

typedef struct {
    swarm_t *sw;
    int idx;
    char node_id[32];
    rn_tls_ctx_t *ctx;
    rn_tls_stream_t *tls;
    rn_wire_reader_t reader;
    uv_timer_t timer;       /* hold: the send schedule */
    bool connecting, ready, planned, closed, failed, first_acked;
    uint64_t next_seq, acked;
    uint64_t sent_ns[RING];
    uint64_t batch_k;        /* batches made so far (timestamps) */
} agent_t;

typedef struct {
    uint32_t *v;
    size_t n, cap;
} lat_t;

struct swarm {
    uv_loop_t *loop;
    const char *mode, *dir, *addr;
    int port, n_agents, series, spp, window, duration_s, interval_ms, report_s, step;
    double max_growth_pct;
    int collector_pid;
    int64_t t0;
    agent_t *agents;
    int started, connected, planned, first_acked, failed, handshaking;
    uv_timer_t ramp, tick;
    uint64_t start_ns, measure_ns, end_ns;
    bool measuring, stopping;
    uint64_t acked_batches, acked_samples, sent_batches; /* during the measurement */
    uint64_t total_acked_batches, total_sent_batches;
    lat_t lat;
    /* scratch batch, reused for every frame (encoding is synchronous) */
    Rn__Sample *samples;
    Rn__Sample **sample_ptrs;
    Rn__Value *values;
    Rn__Value **value_ptrs;
    char (*objects)[32];
    /* collector figures */
    long rss_warm_kb, rss_max_kb, rss_last_kb;
    double cpu_start_s;
    int reports;
};

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

/* ---- collector process figures ------------------------------------------------------------ */

static long proc_rss_kb(int pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static double proc_cpu_s(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ---- certificates ------------------------------------------------------------------------ */

static int add_ext(X509 *cert, X509 *ca, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Issues <dir>/certs/<i>.crt for every agent (CN = node id) and one shared <dir>/certs/node.key,
 * signed by <dir>/pki/ca.{crt,key}. Returns 0 or -1 (printed). */
static int make_certs(swarm_t *sw)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/pki/ca.crt", sw->dir);
    FILE *f = fopen(path, "r");
    X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/pki/ca.key", sw->dir);
    f = fopen(path, "r");
    EVP_PKEY *ca_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!ca || !ca_key || !key) {
        fprintf(stderr, "agent_swarm: cannot read the CA in %s/pki or make a key\n", sw->dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/certs", sw->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/certs/node.key", sw->dir);
    mode_t old = umask(077);
    f = fopen(path, "w");
    umask(old);
    if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) {
        fprintf(stderr, "agent_swarm: cannot write %s\n", path);
        return -1;
    }
    fclose(f);
    int rc = 0;
    for (int i = 0; i < sw->n_agents && rc == 0; i++) {
        X509 *c = X509_new();
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), 1000 + i);
        X509_set_issuer_name(c, X509_get_subject_name(ca));
        X509_NAME *name = X509_get_subject_name(c);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)sw->agents[i].node_id, -1, -1, 0);
        X509_gmtime_adj(X509_getm_notBefore(c), -3600);
        X509_gmtime_adj(X509_getm_notAfter(c), 400L * 86400);
        X509_set_pubkey(c, key);
        if (add_ext(c, ca, NID_basic_constraints, "critical,CA:FALSE") ||
            add_ext(c, ca, NID_key_usage, "critical,digitalSignature") ||
            add_ext(c, ca, NID_ext_key_usage, "clientAuth") || !X509_sign(c, ca_key, EVP_sha256()))
            rc = -1;
        snprintf(path, sizeof path, "%s/certs/%d.crt", sw->dir, i);
        f = rc ? NULL : fopen(path, "w");
        if (!f || !PEM_write_X509(f, c))
            rc = -1;
        if (f)
            fclose(f);
        X509_free(c);
    }
    if (rc)
        fprintf(stderr, "agent_swarm: issuing certificates failed\n");
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- node ids and topology ---------------------------------------------------------------- */

static void node_id(int i, char *buf, size_t len)
{
    snprintf(buf, len, "d%02d/b%04d", i / BLOCKS_PER_DISTRICT, i % BLOCKS_PER_DISTRICT);
}

static int write_topology(const char *file, int n, int step)
{
    FILE *f = fopen(file, "w");
    if (!f)
        return -1;
    fprintf(f, "# generated by agent_swarm: %d block nodes\nsettings:\n  poll_interval_s: %d\n"
               "  probe_interval_s: 10\nvendors:\n  bsnl: { name: BSNL }\nsla_classes:\n"
               "  bhq: { availability: 99.0, max_latency_ms: 150, max_loss_pct: 2.0 }\n"
               "nodes:\n  sdc: { tier: sdc }\n", n, step);
    for (int d = 0; d * BLOCKS_PER_DISTRICT < n; d++)
        fprintf(f, "  d%02d: { tier: district, parent: sdc }\n", d);
    char id[32];
    for (int i = 0; i < n; i++) {
        node_id(i, id, sizeof id);
        fprintf(f, "  %s: { tier: block, parent: d%02d }\n", id, i / BLOCKS_PER_DISTRICT);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- one agent ---------------------------------------------------------------------------- */

static void agent_close(agent_t *a);
static void maybe_finish(swarm_t *sw);

static void send_frame(agent_t *a, Rn__Frame *f)
{
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(f, &buf, &len) != 0) {
        fprintf(stderr, "agent_swarm: encode failed\n");
        return;
    }
    if (rn_tls_stream_write(a->tls, buf, len) != 0)
        a->failed = true;
    free(buf);
}

static void send_hello(agent_t *a)
{
    Rn__Hello h = RN__HELLO__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    h.node_id = a->node_id;
    h.agent_version = "agent_swarm";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.wall_time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    h.has_next_seq = 1;
    h.next_seq = a->next_seq;
    f.body_case = RN__FRAME__BODY_HELLO;
    f.hello = &h;
    send_frame(a, &f);
}

/* Builds and sends the agent's next batch: spp samples of each series, one step apart. */
static void send_batch(agent_t *a)
{
    swarm_t *sw = a->sw;
    size_t n = (size_t)sw->series * (size_t)sw->spp;
    for (size_t j = 0; j < n; j++) {
        uint64_t k = a->batch_k * (uint64_t)sw->spp + j % (size_t)sw->spp;
        Rn__Sample *s = &sw->samples[j];
        s->object = sw->objects[j / (size_t)sw->spp];
        s->time_ms = (sw->t0 + (int64_t)(k + 1) * sw->step) * 1000;
        Rn__Value *v = &sw->values[j * N_VALUES];
        for (int m = 0; m < N_VALUES - 1; m++)
            v[m].counter = k * (uint64_t)(m == 0 ? 750000 : m == 1 ? 500000 : m) + (uint64_t)a->idx;
        v[N_VALUES - 1].gauge = 1;
    }
    Rn__Batch b = RN__BATCH__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    b.seq = a->next_seq++;
    b.samples = sw->sample_ptrs;
    b.n_samples = n;
    f.body_case = RN__FRAME__BODY_BATCH;
    f.batch = &b;
    a->sent_ns[b.seq % RING] = now_ns();
    a->batch_k++;
    send_frame(a, &f);
    sw->total_sent_batches++;
    if (sw->measuring)
        sw->sent_batches++;
}

static void lat_add(lat_t *l, uint32_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint32_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = us;
}

/* Throughput mode: keeps `window` batches in flight. */
static void fill_window(agent_t *a)
{
    swarm_t *sw = a->sw;
    while (!sw->stopping && !a->failed && a->next_seq - 1 - a->acked < (uint64_t)sw->window)
        send_batch(a);
}

static void on_ack(agent_t *a, uint64_t seq)
{
    swarm_t *sw = a->sw;
    uint64_t t = now_ns();
    for (uint64_t s = a->acked + 1; s <= seq && s < a->next_seq; s++) {
        sw->total_acked_batches++;
        if (sw->measuring) {
            sw->acked_batches++;
            sw->acked_samples += (uint64_t)sw->series * (uint64_t)sw->spp;
            lat_add(&sw->lat, (uint32_t)((t - a->sent_ns[s % RING]) / 1000));
        }
    }
    if (seq > a->acked)
        a->acked = seq < a->next_seq ? seq : a->next_seq - 1;
    if (!a->first_acked && a->acked >= 1) {
        a->first_acked = true;
        sw->first_acked++;
    }
    if (strcmp(sw->mode, "throughput") == 0)
        fill_window(a);
}

static void on_hold_timer(uv_timer_t *t)
{
    agent_t *a = t->data;
    if (a->planned && !a->closed && !a->sw->stopping)
        send_batch(a);
}

static void on_data(rn_tls_stream_t *t, void *data, const uint8_t *buf, size_t len)
{
    agent_t *a = data;
    (void)t;
    if (rn_wire_reader_push(&a->reader, buf, len) != 0)
        return agent_close(a);
    const uint8_t *body;
    size_t blen;
    while (!a->closed && rn_wire_reader_next(&a->reader, &body, &blen) == 1) {
        Rn__Frame *f;
        char why[256];
        if (rn_wire_decode(body, blen, &f, why, sizeof why) != 0) {
            fprintf(stderr, "agent %s: bad frame: %s\n", a->node_id, why);
            return agent_close(a);
        }
        if (f->body_case == RN__FRAME__BODY_PLAN && !a->planned) {
            a->planned = true;
            a->sw->planned++;
            if (strcmp(a->sw->mode, "throughput") == 0) {
                fill_window(a);
            } else {
                uint64_t iv = (uint64_t)a->sw->interval_ms;
                uv_timer_start(&a->timer, on_hold_timer,
                               iv * (uint64_t)a->idx / (uint64_t)a->sw->n_agents, iv);
            }
        } else if (f->body_case == RN__FRAME__BODY_ACK) {
            on_ack(a, f->ack->seq);
        }
        rn_wire_free(f);
    }
}

static void on_ready(rn_tls_stream_t *t, void *data)
{
    agent_t *a = data;
    (void)t;
    a->ready = true;
    a->sw->handshaking--;
    a->sw->connected++;
}

static void on_error(rn_tls_stream_t *t, void *data, int err, const char *why)
{
    agent_t *a = data;
    (void)t;
    if (!a->ready)
        a->sw->handshaking--;
    if (!a->sw->stopping) {
        a->sw->failed++;
        if (a->sw->failed <= 5)
            fprintf(stderr, "agent %s: %s (%d)\n", a->node_id, why, err);
    }
    a->failed = true;
    agent_close(a);
}

static void on_stream_closed(void *data)
{
    agent_t *a = data;
    a->tls = NULL;
    maybe_finish(a->sw);
}

static void agent_close(agent_t *a)
{
    if (a->closed)
        return;
    a->closed = true;
    uv_timer_stop(&a->timer);
    if (a->tls)
        rn_tls_stream_close(a->tls, on_stream_closed, a);
}

static int agent_start(agent_t *a)
{
    static const rn_tls_stream_cbs_t cbs = { on_ready, on_data, on_error };
    swarm_t *sw = a->sw;
    char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], err[512];
    snprintf(cert, sizeof cert, "%s/certs/%d.crt", sw->dir, a->idx);
    snprintf(key, sizeof key, "%s/certs/node.key", sw->dir);
    snprintf(ca, sizeof ca, "%s/pki/ca.crt", sw->dir);
    if (rn_tls_ctx_new(RN_TLS_CLIENT, cert, key, ca, &a->ctx, err, sizeof err) != 0) {
        fprintf(stderr, "agent %s: %s\n", a->node_id, err);
        return -1;
    }
    rn_tls_ctx_set_handshake_timeout(a->ctx, 60000);
    struct sockaddr_in sin;
    uv_ip4_addr(sw->addr, sw->port, &sin);
    a->next_seq = 1;
    if (rn_tls_stream_connect(a->ctx, sw->loop, (struct sockaddr *)&sin, "collector", &cbs, a,
                              &a->tls) != 0)
        return -1;
    sw->handshaking++;
    send_hello(a); /* held until the handshake completes */
    return 0;
}

/* ---- swarm schedule ----------------------------------------------------------------------- */

/* Starts connections, at most 64 handshakes at a time (the listen backlog is 128). */
static void on_ramp(uv_timer_t *t)
{
    swarm_t *sw = t->data;
    while (sw->started < sw->n_agents && sw->handshaking < 64 && !sw->stopping) {
        agent_t *a = &sw->agents[sw->started++];
        if (agent_start(a) != 0) {
            sw->failed++;
            a->failed = a->closed = true;
        }
    }
    if (sw->started == sw->n_agents)
        uv_timer_stop(t);
}

static void stop_all(swarm_t *sw)
{
    if (sw->stopping)
        return;
    sw->stopping = true;
    uv_timer_stop(&sw->ramp);
    uv_timer_stop(&sw->tick);
    for (int i = 0; i < sw->n_agents; i++)
        agent_close(&sw->agents[i]);
    uv_close((uv_handle_t *)&sw->ramp, NULL);
    uv_close((uv_handle_t *)&sw->tick, NULL);
    for (int i = 0; i < sw->n_agents; i++)
        uv_close((uv_handle_t *)&sw->agents[i].timer, NULL);
    maybe_finish(sw);
}

static void maybe_finish(swarm_t *sw)
{
    (void)sw; /* the loop ends when every handle is closed */
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void print_results(swarm_t *sw)
{
    double secs = (double)(sw->end_ns - sw->measure_ns) / 1e9;
    double cpu = proc_cpu_s(sw->collector_pid) - sw->cpu_start_s;
    uint32_t p50 = 0, p99 = 0, pmax = 0;
    if (sw->lat.n) {
        qsort(sw->lat.v, sw->lat.n, sizeof *sw->lat.v, cmp_u32);
        p50 = sw->lat.v[sw->lat.n / 2];
        p99 = sw->lat.v[(size_t)((double)sw->lat.n * 0.99)];
        pmax = sw->lat.v[sw->lat.n - 1];
    }
    printf("RESULT agents %d\nRESULT connected %d\nRESULT failed %d\n", sw->n_agents,
           sw->connected, sw->failed);
    printf("RESULT seconds %.1f\nRESULT batches %" PRIu64 "\nRESULT updates %" PRIu64 "\n", secs,
           sw->acked_batches, sw->acked_samples);
    printf("RESULT updates_per_s %.0f\nRESULT values_per_s %.0f\n",
           (double)sw->acked_samples / secs, (double)sw->acked_samples * N_VALUES / secs);
    printf("RESULT ack_p50_ms %.1f\nRESULT ack_p99_ms %.1f\nRESULT ack_max_ms %.1f\n", p50 / 1e3,
           p99 / 1e3, pmax / 1e3);
    printf("RESULT collector_rss_mb %.1f\nRESULT collector_rss_max_mb %.1f\n",
           sw->rss_last_kb / 1024.0, sw->rss_max_kb / 1024.0);
    printf("RESULT collector_cpu_pct %.0f\nRESULT swarm_cpu_s %.1f\n", 100.0 * cpu / secs,
           self_cpu_s());
    printf("RESULT unacked_batches %" PRIu64 "\n", sw->total_sent_batches - sw->total_acked_batches);
    if (strcmp(sw->mode, "hold") == 0) {
        double growth = sw->rss_warm_kb > 0
                            ? 100.0 * (double)(sw->rss_last_kb - sw->rss_warm_kb) / sw->rss_warm_kb
                            : 0;
        printf("RESULT rss_warm_mb %.1f\nRESULT rss_growth_pct %.1f\nRESULT hold %s\n",
               sw->rss_warm_kb / 1024.0, growth,
               growth <= sw->max_growth_pct && sw->failed == 0 ? "flat" : "GROWING");
    }
    fflush(stdout);
}

/* Once a second: progress, phase changes, RSS sampling, deadlines. */
static void on_tick(uv_timer_t *t)
{
    swarm_t *sw = t->data;
    uint64_t now = now_ns();
    double since = (double)(now - sw->start_ns) / 1e9;
    long rss = proc_rss_kb(sw->collector_pid);
    if (rss < 0) {
        fprintf(stderr, "agent_swarm: collector %d is gone\n", sw->collector_pid);
        sw->end_ns = now;
        stop_all(sw);
        return;
    }
    sw->rss_last_kb = rss;
    if (sw->measuring && rss > sw->rss_max_kb)
        sw->rss_max_kb = rss;
    bool all_in = sw->first_acked + sw->failed >= sw->n_agents;
    if (!sw->measuring && (all_in || since > 600)) {
        /* warm-up over: every agent has been acked once (its files exist) */
        sw->measuring = true;
        sw->measure_ns = now;
        sw->cpu_start_s = proc_cpu_s(sw->collector_pid);
        sw->rss_warm_kb = rss;
        sw->rss_max_kb = rss;
        printf("# warm-up done in %.1f s: %d connected, %d acked once, %d failed; RSS %.1f MB\n",
               since, sw->connected, sw->first_acked, sw->failed, rss / 1024.0);
        fflush(stdout);
        return;
    }
    if (!sw->measuring)
        return;
    double in = (double)(now - sw->measure_ns) / 1e9;
    if (strcmp(sw->mode, "hold") == 0 && (int)in / sw->report_s > sw->reports) {
        sw->reports = (int)in / sw->report_s;
        printf("# hold t=%4.0f s  collector RSS %.1f MB  acked batches %" PRIu64
               " (unacked %" PRIu64 ")  updates/s %.0f\n",
               in, rss / 1024.0, sw->acked_batches, sw->total_sent_batches - sw->total_acked_batches,
               (double)sw->acked_samples / in);
        fflush(stdout);
    }
    if (in >= sw->duration_s) {
        sw->end_ns = now;
        print_results(sw);
        stop_all(sw);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: agent_swarm topology FILE N STEP\n"
            "       agent_swarm run --dir DIR --port P --collector-pid PID [--mode throughput|hold]\n"
            "             [--agents N] [--series S] [--spp K] [--window W] [--duration S]\n"
            "             [--interval-ms MS] [--report-s S] [--step S] [--t0 UNIX] [--max-growth-pct P]\n");
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "topology") == 0)
        return write_topology(argv[2], atoi(argv[3]), atoi(argv[4])) ? 1 : 0;
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        usage();
        return 2;
    }
    static swarm_t sw_;
    swarm_t *sw = &sw_;
    sw->mode = "throughput";
    sw->addr = "127.0.0.1";
    sw->n_agents = 200;
    sw->series = 5;
    sw->spp = 1;
    sw->window = 4;
    sw->duration_s = 30;
    sw->interval_ms = 60000;
    sw->report_s = 30;
    sw->step = 60;
    sw->max_growth_pct = 5;
    sw->t0 = time(NULL) - 40L * 86400;
    static const struct option opts[] = {
        { "dir", 1, 0, 'd' },      { "port", 1, 0, 'p' },   { "collector-pid", 1, 0, 'P' },
        { "mode", 1, 0, 'm' },     { "agents", 1, 0, 'n' }, { "series", 1, 0, 's' },
        { "spp", 1, 0, 'k' },      { "window", 1, 0, 'w' }, { "duration", 1, 0, 'D' },
        { "interval-ms", 1, 0, 'i' }, { "report-s", 1, 0, 'r' }, { "step", 1, 0, 'S' },
        { "t0", 1, 0, 'T' },       { "max-growth-pct", 1, 0, 'g' }, { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': sw->dir = optarg; break;
        case 'p': sw->port = atoi(optarg); break;
        case 'P': sw->collector_pid = atoi(optarg); break;
        case 'm': sw->mode = optarg; break;
        case 'n': sw->n_agents = atoi(optarg); break;
        case 's': sw->series = atoi(optarg); break;
        case 'k': sw->spp = atoi(optarg); break;
        case 'w': sw->window = atoi(optarg); break;
        case 'D': sw->duration_s = atoi(optarg); break;
        case 'i': sw->interval_ms = atoi(optarg); break;
        case 'r': sw->report_s = atoi(optarg); break;
        case 'S': sw->step = atoi(optarg); break;
        case 'T': sw->t0 = atoll(optarg); break;
        case 'g': sw->max_growth_pct = atof(optarg); break;
        default: usage(); return 2;
        }
    }
    if (!sw->dir || !sw->port || !sw->collector_pid || sw->n_agents < 1 || sw->series < 1 ||
        sw->spp < 1 || sw->window < 1 || sw->window >= RING || sw->step < 1 ||
        (strcmp(sw->mode, "throughput") && strcmp(sw->mode, "hold")) ||
        (size_t)sw->series * (size_t)sw->spp > RN_WIRE_MAX_SAMPLES) {
        usage();
        return 2;
    }
    sw->agents = calloc((size_t)sw->n_agents, sizeof *sw->agents);
    size_t n = (size_t)sw->series * (size_t)sw->spp;
    sw->samples = calloc(n, sizeof *sw->samples);
    sw->sample_ptrs = calloc(n, sizeof *sw->sample_ptrs);
    sw->values = calloc(n * N_VALUES, sizeof *sw->values);
    sw->value_ptrs = calloc(n * N_VALUES, sizeof *sw->value_ptrs);
    sw->objects = calloc((size_t)sw->series, sizeof *sw->objects);
    if (!sw->agents || !sw->samples || !sw->sample_ptrs || !sw->values || !sw->value_ptrs ||
        !sw->objects)
        return 1;
    for (int i = 0; i < sw->series; i++)
        snprintf(sw->objects[i], sizeof sw->objects[i], "Gi0/%d", i);
    for (size_t j = 0; j < n; j++) {
        Rn__Sample *s = &sw->samples[j];
        rn__sample__init(s);
        s->source = "if";
        s->device = "rtr1";
        s->has_speed_bps = 1;
        s->speed_bps = 1000000000ull;
        for (int m = 0; m < N_VALUES; m++) {
            Rn__Value *v = &sw->values[j * N_VALUES + (size_t)m];
            rn__value__init(v);
            v->has_counter = m < N_VALUES - 1;
            v->has_gauge = m == N_VALUES - 1;
            sw->value_ptrs[j * N_VALUES + (size_t)m] = v;
        }
        s->values = &sw->value_ptrs[j * N_VALUES];
        s->n_values = N_VALUES;
        sw->sample_ptrs[j] = s;
    }
    sw->loop = uv_default_loop();
    for (int i = 0; i < sw->n_agents; i++) {
        agent_t *a = &sw->agents[i];
        a->sw = sw;
        a->idx = i;
        node_id(i, a->node_id, sizeof a->node_id);
        rn_wire_reader_init(&a->reader);
        uv_timer_init(sw->loop, &a->timer);
        a->timer.data = a;
    }
    uint64_t t = now_ns();
    if (make_certs(sw) != 0)
        return 1;
    printf("# issued %d agent certificates in %.2f s\n", sw->n_agents, (double)(now_ns() - t) / 1e9);
    printf("# %s: %d agents x %d series x %d samples per batch, step %d s, %s\n", sw->mode,
           sw->n_agents, sw->series, sw->spp, sw->step,
           strcmp(sw->mode, "hold") == 0 ? "one batch per interval" : "window of acks");
    fflush(stdout);
    sw->start_ns = now_ns();
    uv_timer_init(sw->loop, &sw->ramp);
    uv_timer_init(sw->loop, &sw->tick);
    sw->ramp.data = sw->tick.data = sw;
    uv_timer_start(&sw->ramp, on_ramp, 0, 5);
    uv_timer_start(&sw->tick, on_tick, 1000, 1000);
    uv_run(sw->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < sw->n_agents; i++) {
        rn_tls_ctx_free(sw->agents[i].ctx);
        rn_wire_reader_free(&sw->agents[i].reader);
    }
    return sw->failed ? 1 : 0;
}
