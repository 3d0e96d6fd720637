/* agent_snmp_bench: runs the agent's SNMP poller and ICMP prober (agent/snmp_poller.c and
 * agent/icmp_probe.c, the code rajnet-agent runs) on one loop against the devices listed in a
 * file, every second, for a fixed time, and prints what tests/bench/snmp_vs_collectd.sh compares
 * with collectd: values polled, CPU seconds and peak RSS.
 *
 *   agent_snmp_bench -f devices-file [-t seconds] [-w warmup-s] [-c community] [-n] [-I]
 *   agent_snmp_bench -f devices-file -P state-dir [-c community]
 *
 * devices-file: one net-snmp peer address a line ("udp:127.0.1.1:161"); each is polled with
 * SNMPv2c and, unless -I, probed with one ICMP echo request a second (the address without
 * "udp:" and port). -n: no polling at all (start-up and idle cost only, for the RSS floor).
 * Counting starts after -w seconds (default 3) so that start-up (sessions, the first walk) does
 * not count; CPU is read with getrusage over the same window. A value is one known value of an
 * "if" sample (7 per interface and poll: in/out octets, errors, discards, oper status), the
 * same 7 the collectd configuration of snmp_vs_collectd.sh asks for. Output is "key value"
 * lines. Everything stops by itself.
 *
 * -P: instead, writes state-dir/plan.bin (agent/plan_cache.h) holding these devices and ICMP
 * targets at 1 s, so that a real rajnet-agent started on state-dir measures them at once without
 * a collector. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "icmp_probe.h"
#include "plan_cache.h"
#include "snmp_poller.h"

#define MAX_DEVS 1024

static struct {
    bool counting, closed_snmp, closed_icmp;
    uint64_t if_samples, if_values, icmp_samples, icmp_recv;
    struct rusage r0;
    rn_mono_ns_t t0;
} B;

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *v, size_t n, uint64_t speed_bps);

/* The poller's callback: a device's samples (node: an agentless child's, unused here). */
static void on_dev_sample(void *ctx, const char *node, const char *source, const char *device,
                          const char *object, int64_t time_ms, const rn_value_t *v, size_t n,
                          uint64_t speed_bps)
{
    on_sample(ctx, source, device, object, time_ms, v, n, speed_bps);
}

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *v, size_t n, uint64_t speed_bps)
{
    (void)ctx, (void)device, (void)object, (void)time_ms, (void)speed_bps;
    if (!B.counting)
        return;
    if (strcmp(source, "if") == 0) {
        B.if_samples++;
        for (size_t i = 0; i < n; i++)
            B.if_values += v[i].kind != RN_VALUE_UNKNOWN;
    } else {
        B.icmp_samples++;
        B.icmp_recv += v[RN_ICMP_RECV].kind == RN_VALUE_GAUGE && v[RN_ICMP_RECV].gauge > 0;
    }
}

/* Returns a "Key: N kB" line of /proc/self/status (key with its colon) in kB, or 0. */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    size_t len = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0 && sscanf(line + len, "%ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static double tv_s(struct timeval a, struct timeval b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) / 1e6;
}

static void on_closed(void *data) { *(bool *)data = true; }

static void on_warm(uv_timer_t *t)
{
    (void)t;
    B.counting = true;
    getrusage(RUSAGE_SELF, &B.r0);
    B.t0 = rn_clock_mono_ns();
}

static void on_stop(uv_timer_t *t) { uv_stop(t->loop); }

/* Writes state_dir/plan.bin with the n devices and targets, probed and polled every second.
 * Returns 0 or 1 (said on stderr). */
static int write_plan(const char *state_dir, Rn__Device **devs, Rn__IcmpTarget **tgs, size_t n)
{
    Rn__Plan plan = RN__PLAN__INIT;
    plan.digest = "agent-snmp-bench";
    plan.poll_interval_s = 1;
    plan.probe_interval_s = 1;
    plan.n_devices = n;
    plan.devices = devs;
    plan.n_icmp = n;
    plan.icmp = tgs;
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_plan_cache_t *c;
    bool closed = false;
    if (rn_plan_cache_new(&loop, state_dir, &c) != 0) {
        fprintf(stderr, "agent_snmp_bench: plan cache for %s\n", state_dir);
        return 1;
    }
    rn_plan_cache_save(c, &plan);
    rn_plan_cache_close(c, on_closed, &closed); /* waits for the save */
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
    uv_loop_close(&loop);
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *community = "public", *plan_dir = NULL;
    unsigned seconds = 30, warmup = 3;
    bool poll = true, icmp = true;
    int opt;
    while ((opt = getopt(argc, argv, "f:t:w:c:nIP:")) != -1) {
        switch (opt) {
        case 'f': file = optarg; break;
        case 't': seconds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'w': warmup = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'c': community = optarg; break;
        case 'n': poll = false; break;
        case 'I': icmp = false; break;
        case 'P': plan_dir = optarg; break;
        default:
            fprintf(stderr, "usage: %s -f devices [-t s] [-w s] [-c community] [-n] [-I]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!file || seconds == 0 || seconds > 3600 || warmup >= seconds) {
        fprintf(stderr, "agent_snmp_bench: need -f, 0 < -w < -t <= 3600\n");
        return 2;
    }
    static char addr[MAX_DEVS][96], host[MAX_DEVS][64], name[MAX_DEVS][16];
    static Rn__Device dev[MAX_DEVS], *devp[MAX_DEVS];
    static Rn__SnmpCredentials cred[MAX_DEVS];
    static Rn__IcmpTarget tg[MAX_DEVS], *tgp[MAX_DEVS];
    size_t n = 0;
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    while (n < MAX_DEVS && fscanf(f, "%95s", addr[n]) == 1) {
        const char *h = strncmp(addr[n], "udp:", 4) == 0 ? addr[n] + 4 : addr[n];
        snprintf(host[n], sizeof host[n], "%s", h);
        char *colon = strrchr(host[n], ':');
        if (colon)
            *colon = '\0';
        snprintf(name[n], sizeof name[n], "d%zu", n);
        Rn__Device di = RN__DEVICE__INIT;
        Rn__SnmpCredentials ci = RN__SNMP_CREDENTIALS__INIT;
        Rn__IcmpTarget ti = RN__ICMP_TARGET__INIT;
        dev[n] = di, cred[n] = ci, tg[n] = ti;
        dev[n].name = name[n];
        dev[n].addr = addr[n];
        dev[n].snmp = &cred[n];
        cred[n].version = 2;
        cred[n].community = (char *)community;
        tg[n].name = name[n];
        tg[n].addr = host[n];
        tg[n].has_count = 1; /* one echo request a round, as collectd's ping plugin sends */
        tg[n].count = 1;
        devp[n] = &dev[n];
        tgp[n] = &tg[n];
        n++;
    }
    fclose(f);
    rn_log_open("agent_snmp_bench", RN_LOG_WARN, false);
    if (plan_dir)
        return write_plan(plan_dir, devp, tgp, n);

    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_snmp_poller_t *sp = NULL;
    rn_icmp_prober_t *ip = NULL;
    int rc = rn_snmp_poller_new(&loop, on_dev_sample, NULL, &sp);
    if (rc == 0 && poll)
        rc = rn_snmp_poller_set_devices(sp, devp, n, 1);
    if (rc == 0 && icmp && poll && (rc = rn_icmp_prober_new(&loop, on_sample, NULL, &ip)) == 0)
        rc = rn_icmp_prober_set_targets(ip, tgp, n, 1, 1);
    if (rc != 0) {
        fprintf(stderr, "agent_snmp_bench: start: error %d\n", rc);
        return 1;
    }
    uv_timer_t warm, stop;
    uv_timer_init(&loop, &warm);
    uv_timer_init(&loop, &stop);
    uv_timer_start(&warm, on_warm, (uint64_t)warmup * 1000, 0);
    uv_timer_start(&stop, on_stop, (uint64_t)seconds * 1000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    struct rusage r1;
    getrusage(RUSAGE_SELF, &r1);
    double wall = (double)(rn_clock_mono_ns() - B.t0) / 1e9;
    long hwm = status_kb("VmHWM:"), anon = status_kb("RssAnon:");
    rn_snmp_poller_close(sp, on_closed, &B.closed_snmp);
    if (ip)
        rn_icmp_prober_close(ip, on_closed, &B.closed_icmp);
    else
        B.closed_icmp = true;
    uv_close((uv_handle_t *)&warm, NULL);
    uv_close((uv_handle_t *)&stop, NULL);
    while (!B.closed_snmp || !B.closed_icmp)
        uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);

    double cpu = tv_s(B.r0.ru_utime, r1.ru_utime) + tv_s(B.r0.ru_stime, r1.ru_stime);
    printf("devices %zu\nwindow_s %.2f\n", n, wall);
    printf("if_samples %llu\nvalues %llu\nicmp_samples %llu\nicmp_answered %llu\n",
           (unsigned long long)B.if_samples, (unsigned long long)B.if_values,
           (unsigned long long)B.icmp_samples, (unsigned long long)B.icmp_recv);
    printf("cpu_user_s %.3f\ncpu_sys_s %.3f\ncpu_s %.3f\n", tv_s(B.r0.ru_utime, r1.ru_utime),
           tv_s(B.r0.ru_stime, r1.ru_stime), cpu);
    printf("values_per_cpu_s %.0f\nrss_peak_kb %ld\nrss_anon_kb %ld\n",
           cpu > 0 ? (double)B.if_values / cpu : 0, hwm, anon);
    return 0;
}
