/* state_swarm: the full state's probe rounds against a real collector. One libuv loop, one
 * mutually authenticated TLS 1.3 session per agent node of a topology (nodes with `agent: false`,
 * the villages, have none: their parent's agent probes them), each speaking the real protocol:
 * hello, then the plan the collector sends, then every --interval-ms one batch holding one
 * "icmp" sample per ICMP target of that plan: the parent and the root (upward rounds) and every
 * child (downward rounds, object = the child's id). Rounds of the agents are spread evenly over
 * the interval, as real agents' clocks are. Run by tests/bench/full-state, never by `make check`.
 *
 *   state_swarm --dir DIR --topology FILE [--secrets FILE] --data-dir DIR --port P
 *               --collector-pid PID [--interval-ms MS] [--warmup S] [--duration S] [--rows N]
 *
 * Disk: at 1 s rounds the production RRA layout makes ~15 MB per "icmp" file, and the full state
 * has ~10,000 of them. So once every plan is in, and before the first round, the swarm creates
 * every series' file itself in the collector's data directory (same path, step, data sources and
 * order as collector/series/rrd_store.c) with one AVERAGE RRA of --rows rows; the collector finds the
 * file and only updates it. Each update is the same librrd call as in production, on a smaller
 * file (fewer RRAs to consolidate into), so the RRD share of the figures is a lower bound.
 *
 * Certificates as tests/bench/agent_swarm.c issues them (one shared key, CN = node id), from
 * <dir>/pki/ca.{crt,key}. Results are "RESULT key value" lines; "# measuring" is printed when the
 * measured window starts and "# measured" when it ends, so a script can time other requests
 * inside it. Bounded: every phase has a deadline. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <rrd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "metrics.h"
#include "tls.h"
#include "topology.h"
#include "wire.h"

#define RING 16 /* send times kept per agent */

typedef struct swarm swarm_t;

typedef struct {
    swarm_t *sw;
    int idx;
    const char *node_id;
    rn_tls_ctx_t *ctx;
    rn_tls_stream_t *tls;
    rn_wire_reader_t reader;
    uv_timer_t timer;
    bool ready, planned, closed;
    char **targets; /* from the plan */
    size_t n_targets;
    uint64_t next_seq, acked;
    uint64_t sent_ns[RING];
} agent_t;

struct swarm {
    uv_loop_t *loop;
    const char *dir, *data_dir;
    int port, n_agents, interval_ms, warmup_s, duration_s, rows, collector_pid;
    agent_t *agents;
    int started, handshaking, planned, failed;
    size_t series;
    uv_timer_t ramp, tick;
    uint64_t start_ns, rounds_ns, measure_ns;
    int phase; /* 0 connecting, 1 rounds (warm-up), 2 measuring, 3 done */
    bool stopping;
    uint64_t sent, acked, samples_acked;
    uint32_t *lat;
    size_t n_lat, cap_lat;
    long rss_max_kb, rss_start_kb;
    double cpu_start_s;
    Rn__Sample *samples;
    Rn__Sample **sample_ptrs;
    Rn__Value values[RN_ICMP_N];
    Rn__Value *value_ptrs[RN_ICMP_N];
    size_t max_targets;
};

/* ---- figures of the collector process ----------------------------------------------------- */

/* Returns the VmRSS of pid in KB, or -1 when it is gone. */
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

/* Returns the user + system CPU seconds of pid, or -1. */
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

/* ---- certificates (as agent_swarm.c) ------------------------------------------------------ */

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

/* Issues <dir>/certs/<i>.crt (CN = node id) and <dir>/certs/node.key. Returns 0 or -1. */
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
    snprintf(path, sizeof path, "%s/certs", sw->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/certs/node.key", sw->dir);
    mode_t old = umask(077);
    f = ca && ca_key && key ? fopen(path, "w") : NULL;
    umask(old);
    int rc = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) ? 0 : -1;
    if (f)
        fclose(f);
    for (int i = 0; i < sw->n_agents && rc == 0; i++) {
        X509 *c = X509_new();
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), 1000 + i);
        X509_set_issuer_name(c, X509_get_subject_name(ca));
        X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
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
        fprintf(stderr, "state_swarm: cannot read the CA in %s/pki or issue certificates\n",
                sw->dir);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- RRD files made up front ------------------------------------------------------------- */

/* Writes s into buf escaped as collector/series/rrd_store.c names files: bytes outside
 * [A-Za-z0-9._-], and a leading '.', as %XX. Returns buf. */
static char *escape(char *buf, size_t len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 4 < len; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                     (*p == '.' && p != (const unsigned char *)s);
        if (plain) {
            buf[k++] = (char)*p;
        } else {
            buf[k++] = '%';
            buf[k++] = hex[*p >> 4];
            buf[k++] = hex[*p & 15];
        }
    }
    buf[k] = '\0';
    return buf;
}

/* Creates every directory of path up to its last '/'. */
static void mkdir_parents(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0750);
            *p = '/';
        }
}

/* Creates the "icmp" file of every (agent, target) that has none yet. Returns the number made,
 * or -1 when librrd refused one (printed). */
static int precreate(swarm_t *sw)
{
    const rn_template_t *tmpl = rn_template_find("icmp");
    unsigned step = (unsigned)(sw->interval_ms + 999) / 1000;
    char ds[RN_ICMP_N][96], rra[64], path[PATH_MAX], esc[512];
    const char *argv[RN_ICMP_N + 1];
    for (size_t i = 0; i < RN_ICMP_N; i++) {
        const rn_metric_t *m = &tmpl->metrics[i];
        char lo[32] = "U", hi[32] = "U";
        if (!isnan(m->min))
            snprintf(lo, sizeof lo, "%.17g", m->min);
        if (!isnan(m->max))
            snprintf(hi, sizeof hi, "%.17g", m->max);
        snprintf(ds[i], sizeof ds[i], "DS:%s:GAUGE:%u:%s:%s", m->name, step * 3, lo, hi);
        argv[i] = ds[i];
    }
    snprintf(rra, sizeof rra, "RRA:AVERAGE:0.5:1:%d", sw->rows);
    argv[RN_ICMP_N] = rra;
    int made = 0;
    for (int a = 0; a < sw->n_agents; a++)
        for (size_t k = 0; k < sw->agents[a].n_targets; k++) {
            snprintf(path, sizeof path, "%s/%s/icmp/%s.rrd", sw->data_dir, sw->agents[a].node_id,
                     escape(esc, sizeof esc, sw->agents[a].targets[k]));
            struct stat st;
            if (stat(path, &st) == 0)
                continue;
            mkdir_parents(path);
            rrd_clear_error();
            if (rrd_create_r2(path, step, time(NULL) - 10, 0, NULL, NULL, RN_ICMP_N + 1, argv)) {
                fprintf(stderr, "state_swarm: rrd_create %s: %s\n", path, rrd_get_error());
                return -1;
            }
            made++;
        }
    return made;
}

/* ---- one agent ---------------------------------------------------------------------------- */

static void agent_close(agent_t *a);

static void send_frame(agent_t *a, Rn__Frame *f)
{
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(f, &buf, &len) != 0)
        return;
    rn_tls_stream_write(a->tls, buf, len);
    free(buf);
}

static void send_hello(agent_t *a)
{
    Rn__Hello h = RN__HELLO__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    h.node_id = (char *)a->node_id;
    h.agent_version = "state_swarm";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.wall_time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    h.has_next_seq = 1;
    h.next_seq = a->next_seq;
    f.body_case = RN__FRAME__BODY_HELLO;
    f.hello = &h;
    send_frame(a, &f);
}

/* One round: a sample per plan target, stamped now, all echoes answered. */
static void send_round(agent_t *a)
{
    swarm_t *sw = a->sw;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t t_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (size_t k = 0; k < a->n_targets; k++) {
        sw->samples[k].object = a->targets[k];
        sw->samples[k].time_ms = t_ms;
    }
    double rtt = 2.0 + (double)(a->idx % 40);
    sw->values[RN_ICMP_RTTMIN].gauge = rtt - 0.5;
    sw->values[RN_ICMP_RTTAVG].gauge = rtt;
    sw->values[RN_ICMP_RTTMAX].gauge = rtt + 0.8;
    sw->values[RN_ICMP_RTTSD].gauge = 0.3;
    sw->values[RN_ICMP_JITTER].gauge = 0.4;
    sw->values[RN_ICMP_LOSS].gauge = 0;
    sw->values[RN_ICMP_SENT].gauge = 5;
    sw->values[RN_ICMP_RECV].gauge = 5;
    Rn__Batch b = RN__BATCH__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    b.seq = a->next_seq++;
    b.samples = sw->sample_ptrs;
    b.n_samples = a->n_targets;
    f.body_case = RN__FRAME__BODY_BATCH;
    f.batch = &b;
    a->sent_ns[b.seq % RING] = uv_hrtime();
    send_frame(a, &f);
    if (sw->phase == 2)
        sw->sent++;
}

static void on_round(uv_timer_t *t)
{
    agent_t *a = t->data;
    if (!a->closed && !a->sw->stopping)
        send_round(a);
}

static void on_ack(agent_t *a, uint64_t seq)
{
    swarm_t *sw = a->sw;
    uint64_t now = uv_hrtime();
    for (uint64_t s = a->acked + 1; s <= seq && s < a->next_seq; s++)
        if (sw->phase == 2 && now - a->sent_ns[s % RING] < 60000000000ull) {
            sw->acked++;
            sw->samples_acked += a->n_targets;
            if (sw->n_lat == sw->cap_lat) {
                size_t cap = sw->cap_lat ? 2 * sw->cap_lat : 65536;
                uint32_t *v = realloc(sw->lat, cap * sizeof *v);
                if (!v)
                    continue;
                sw->lat = v, sw->cap_lat = cap;
            }
            sw->lat[sw->n_lat++] = (uint32_t)((now - a->sent_ns[s % RING]) / 1000);
        }
    if (seq > a->acked && seq < a->next_seq)
        a->acked = seq;
}

static void on_plan(agent_t *a, const Rn__Plan *p)
{
    swarm_t *sw = a->sw;
    a->targets = calloc(p->n_icmp ? p->n_icmp : 1, sizeof *a->targets);
    for (size_t k = 0; a->targets && k < p->n_icmp; k++)
        if ((a->targets[a->n_targets] = strdup(p->icmp[k]->name)) != NULL)
            a->n_targets++;
    if (a->n_targets > sw->max_targets)
        sw->max_targets = a->n_targets;
    sw->series += a->n_targets;
    a->planned = true;
    sw->planned++;
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
        if (f->body_case == RN__FRAME__BODY_PLAN && !a->planned)
            on_plan(a, f->plan);
        else if (f->body_case == RN__FRAME__BODY_ACK)
            on_ack(a, f->ack->seq);
        rn_wire_free(f);
    }
}

static void on_ready(rn_tls_stream_t *t, void *data)
{
    agent_t *a = data;
    (void)t;
    a->ready = true;
    a->sw->handshaking--;
}

static void on_error(rn_tls_stream_t *t, void *data, int err, const char *why)
{
    agent_t *a = data;
    (void)t;
    if (!a->ready)
        a->sw->handshaking--;
    if (!a->sw->stopping && ++a->sw->failed <= 5)
        fprintf(stderr, "agent %s: %s (%d)\n", a->node_id, why, err);
    agent_close(a);
}

static void on_closed(void *data)
{
    ((agent_t *)data)->tls = NULL;
}

static void agent_close(agent_t *a)
{
    if (a->closed)
        return;
    a->closed = true;
    uv_timer_stop(&a->timer);
    if (a->tls)
        rn_tls_stream_close(a->tls, on_closed, a);
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
    uv_ip4_addr("127.0.0.1", sw->port, &sin);
    a->next_seq = 1;
    if (rn_tls_stream_connect(a->ctx, sw->loop, (struct sockaddr *)&sin, "collector", &cbs, a,
                              &a->tls) != 0)
        return -1;
    sw->handshaking++;
    send_hello(a);
    return 0;
}

/* ---- schedule ----------------------------------------------------------------------------- */

static void on_ramp(uv_timer_t *t)
{
    swarm_t *sw = t->data;
    while (sw->started < sw->n_agents && sw->handshaking < 64) {
        agent_t *a = &sw->agents[sw->started++];
        if (agent_start(a) != 0)
            sw->failed++, a->closed = true;
    }
    if (sw->started == sw->n_agents)
        uv_timer_stop(t);
}

static void stop_all(swarm_t *sw)
{
    sw->stopping = true;
    uv_timer_stop(&sw->ramp);
    uv_timer_stop(&sw->tick);
    uv_close((uv_handle_t *)&sw->ramp, NULL);
    uv_close((uv_handle_t *)&sw->tick, NULL);
    for (int i = 0; i < sw->n_agents; i++) {
        agent_close(&sw->agents[i]);
        uv_close((uv_handle_t *)&sw->agents[i].timer, NULL);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void print_results(swarm_t *sw, uint64_t now)
{
    double secs = (double)(now - sw->measure_ns) / 1e9;
    double cpu = proc_cpu_s(sw->collector_pid) - sw->cpu_start_s;
    uint32_t p50 = 0, p99 = 0, pmax = 0;
    if (sw->n_lat) {
        qsort(sw->lat, sw->n_lat, sizeof *sw->lat, cmp_u32);
        p50 = sw->lat[sw->n_lat / 2];
        p99 = sw->lat[(size_t)((double)sw->n_lat * 0.99)];
        pmax = sw->lat[sw->n_lat - 1];
    }
    printf("RESULT agents %d\nRESULT failed %d\nRESULT series %zu\nRESULT seconds %.1f\n",
           sw->n_agents, sw->failed, sw->series, secs);
    printf("RESULT rounds_sent %" PRIu64 "\nRESULT rounds_acked %" PRIu64 "\n", sw->sent,
           sw->acked);
    printf("RESULT samples_per_s %.0f\n", (double)sw->samples_acked / secs);
    printf("RESULT ack_p50_ms %.1f\nRESULT ack_p99_ms %.1f\nRESULT ack_max_ms %.1f\n", p50 / 1e3,
           p99 / 1e3, pmax / 1e3);
    printf("RESULT collector_cpu_pct %.1f\n", 100.0 * cpu / secs);
    printf("RESULT collector_rss_start_mb %.1f\nRESULT collector_rss_max_mb %.1f\n",
           sw->rss_start_kb / 1024.0, sw->rss_max_kb / 1024.0);
    fflush(stdout);
}

/* Starts every agent's round timer, spread over the interval. */
static void start_rounds(swarm_t *sw)
{
    uint64_t t = uv_hrtime();
    int made = precreate(sw);
    if (made < 0) {
        stop_all(sw);
        return;
    }
    printf("# %d agents planned, %zu series (up to %zu per agent); %d RRD files made in %.1f s\n",
           sw->planned, sw->series, sw->max_targets, made, (double)(uv_hrtime() - t) / 1e9);
    fflush(stdout);
    sw->samples = calloc(sw->max_targets ? sw->max_targets : 1, sizeof *sw->samples);
    sw->sample_ptrs = calloc(sw->max_targets ? sw->max_targets : 1, sizeof *sw->sample_ptrs);
    for (size_t k = 0; k < sw->max_targets; k++) {
        rn__sample__init(&sw->samples[k]);
        sw->samples[k].source = "icmp";
        sw->samples[k].device = "";
        sw->samples[k].values = sw->value_ptrs;
        sw->samples[k].n_values = RN_ICMP_N;
        sw->sample_ptrs[k] = &sw->samples[k];
    }
    uint64_t iv = (uint64_t)sw->interval_ms;
    for (int i = 0; i < sw->n_agents; i++)
        if (sw->agents[i].planned && !sw->agents[i].closed)
            uv_timer_start(&sw->agents[i].timer, on_round, iv * (uint64_t)i / (uint64_t)sw->n_agents,
                           iv);
    sw->phase = 1;
    sw->rounds_ns = uv_hrtime();
}

static void on_tick(uv_timer_t *t)
{
    swarm_t *sw = t->data;
    uint64_t now = uv_hrtime();
    double since = (double)(now - sw->start_ns) / 1e9;
    long rss = proc_rss_kb(sw->collector_pid);
    if (rss < 0) {
        fprintf(stderr, "state_swarm: collector %d is gone\n", sw->collector_pid);
        return stop_all(sw);
    }
    if (sw->phase == 0 && (sw->planned + sw->failed >= sw->n_agents || since > 300)) {
        printf("# connected in %.1f s: %d planned, %d failed; collector RSS %.1f MB\n", since,
               sw->planned, sw->failed, rss / 1024.0);
        return start_rounds(sw);
    }
    if (sw->phase == 1 && (double)(now - sw->rounds_ns) / 1e9 >= sw->warmup_s) {
        sw->phase = 2;
        sw->measure_ns = now;
        sw->cpu_start_s = proc_cpu_s(sw->collector_pid);
        sw->rss_start_kb = sw->rss_max_kb = rss;
        printf("# measuring %d s\n", sw->duration_s);
        fflush(stdout);
        return;
    }
    if (sw->phase == 2) {
        if (rss > sw->rss_max_kb)
            sw->rss_max_kb = rss;
        if ((double)(now - sw->measure_ns) / 1e9 >= sw->duration_s) {
            sw->phase = 3;
            printf("# measured\n");
            print_results(sw, now);
            stop_all(sw);
        }
    }
}

int main(int argc, char **argv)
{
    static swarm_t sw_;
    swarm_t *sw = &sw_;
    const char *topo_file = NULL, *secrets = NULL;
    sw->interval_ms = 1000, sw->warmup_s = 15, sw->duration_s = 60, sw->rows = 600;
    static const struct option opts[] = {
        { "dir", 1, 0, 'd' },      { "topology", 1, 0, 't' },      { "data-dir", 1, 0, 'D' },
        { "port", 1, 0, 'p' },     { "collector-pid", 1, 0, 'P' }, { "interval-ms", 1, 0, 'i' },
        { "warmup", 1, 0, 'w' },   { "duration", 1, 0, 's' },      { "rows", 1, 0, 'r' },
        { "secrets", 1, 0, 'S' },  { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': sw->dir = optarg; break;
        case 't': topo_file = optarg; break;
        case 'D': sw->data_dir = optarg; break;
        case 'p': sw->port = atoi(optarg); break;
        case 'P': sw->collector_pid = atoi(optarg); break;
        case 'i': sw->interval_ms = atoi(optarg); break;
        case 'w': sw->warmup_s = atoi(optarg); break;
        case 's': sw->duration_s = atoi(optarg); break;
        case 'r': sw->rows = atoi(optarg); break;
        case 'S': secrets = optarg; break;
        default: return 2;
        }
    }
    if (!sw->dir || !topo_file || !sw->data_dir || !sw->port || !sw->collector_pid ||
        sw->interval_ms < 100 || sw->rows < 10 || sw->duration_s < 1) {
        fprintf(stderr, "usage: state_swarm --dir DIR --topology FILE [--secrets FILE] --data-dir DIR --port P "
                        "--collector-pid PID [--interval-ms MS] [--warmup S] [--duration S] "
                        "[--rows N]\n");
        return 2;
    }
    rn_topology_t *topo;
    char err[1024];
    if (rn_topology_load(topo_file, secrets, &topo, err, sizeof err) != 0) {
        fprintf(stderr, "state_swarm: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < topo->n_nodes; i++)
        sw->n_agents += topo->nodes[i].agent;
    sw->agents = calloc((size_t)sw->n_agents, sizeof *sw->agents);
    if (!sw->agents)
        return 1;
    sw->loop = uv_default_loop();
    for (size_t i = 0, k = 0; i < topo->n_nodes; i++) {
        if (!topo->nodes[i].agent)
            continue;
        agent_t *a = &sw->agents[k];
        a->sw = sw;
        a->idx = (int)k++;
        a->node_id = topo->nodes[i].id;
        rn_wire_reader_init(&a->reader);
        uv_timer_init(sw->loop, &a->timer);
        a->timer.data = a;
    }
    for (size_t m = 0; m < RN_ICMP_N; m++) {
        rn__value__init(&sw->values[m]);
        sw->values[m].has_gauge = 1;
        sw->value_ptrs[m] = &sw->values[m];
    }
    if (make_certs(sw) != 0)
        return 1;
    printf("# %zu nodes, %d with an agent: one TLS session each, rounds every %d ms\n",
           topo->n_nodes, sw->n_agents, sw->interval_ms);
    fflush(stdout);
    sw->start_ns = uv_hrtime();
    uv_timer_init(sw->loop, &sw->ramp);
    uv_timer_init(sw->loop, &sw->tick);
    sw->ramp.data = sw->tick.data = sw;
    uv_timer_start(&sw->ramp, on_ramp, 0, 5);
    uv_timer_start(&sw->tick, on_tick, 1000, 1000);
    uv_run(sw->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < sw->n_agents; i++) {
        rn_tls_ctx_free(sw->agents[i].ctx);
        rn_wire_reader_free(&sw->agents[i].reader);
        for (size_t k = 0; k < sw->agents[i].n_targets; k++)
            free(sw->agents[i].targets[k]);
        free(sw->agents[i].targets);
    }
    rn_topology_free(topo);
    return sw->phase == 3 && sw->failed == 0 ? 0 : 1;
}
