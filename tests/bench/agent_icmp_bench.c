/* agent_icmp_bench: runs the agent's ICMP prober (agent/icmp_probe.c, the same code rajnet-agent
 * runs) alone on a loop against N loopback targets for a fixed time, and prints what
 * tests/bench/icmp_vs_fping.sh compares with fping: CPU seconds, peak RSS, the send-schedule
 * error (how far each echo request left from the time it was due) and the mean RTT per target.
 *
 *   agent_icmp_bench [-n targets] [-a first-address] [-t seconds] [-c count] [-w warmup-s]
 *                    [-r rtt-file]
 *
 * Targets are consecutive IPv4 addresses from -a (default 127.1.0.1; all of 127/8 is routed to
 * lo). The schedule error comes from rn_icmp_prober_set_send_hook(); sends in the first -w
 * seconds (default 2) are left out so start-up does not count. With -r, one line per target
 * "address mean-rtt-ms rounds-answered" is written for comparison with fping's summary.
 * Output is "key value" lines on stdout, one per figure. Everything stops by itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "icmp_probe.h"

#define HIST_US 100000 /* 1 us bins up to 100 ms; beyond counts in the last bin */

static struct {
    size_t n;
    char (*addr)[INET_ADDRSTRLEN];
    double *rtt_sum;
    uint32_t *rtt_n;
    uint64_t *hist; /* |sent - due| in us */
    uint64_t n_sends, n_early, n_samples, n_recv, n_sent;
    uint64_t measure_from;
    bool closed;
} B;

static void on_send(void *ctx, uint64_t due_ns, uint64_t sent_ns)
{
    (void)ctx;
    if (due_ns < B.measure_from)
        return;
    int64_t err = (int64_t)(sent_ns - due_ns);
    if (err < 0) {
        B.n_early++;
        err = -err;
    }
    uint64_t us = (uint64_t)err / 1000;
    B.hist[us < HIST_US ? us : HIST_US - 1]++;
    B.n_sends++;
}

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *v, size_t n_values, uint64_t speed_bps)
{
    (void)ctx, (void)source, (void)device, (void)time_ms, (void)n_values, (void)speed_bps;
    size_t i = strtoul(object + 1, NULL, 10); /* names are "t<index>" */
    B.n_samples++;
    if (i >= B.n)
        return;
    B.n_sent += (uint64_t)v[RN_ICMP_SENT].gauge;
    B.n_recv += (uint64_t)v[RN_ICMP_RECV].gauge;
    if (v[RN_ICMP_RTTAVG].kind == RN_VALUE_GAUGE) {
        B.rtt_sum[i] += v[RN_ICMP_RTTAVG].gauge;
        B.rtt_n[i]++;
    }
}

/* Returns the smallest bin (us) at or below which fraction q of the measured sends fall. */
static double hist_quantile(double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)B.n_sends), seen = 0;
    for (size_t us = 0; us < HIST_US; us++) {
        seen += B.hist[us];
        if (seen >= want && want > 0)
            return (double)us;
    }
    return NAN;
}

/* Returns the process's peak resident set (VmHWM) in kB, or 0. */
static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void on_closed(void *data) { *(bool *)data = true; }
static void on_stop(uv_timer_t *t) { uv_stop(t->loop); }

int main(int argc, char **argv)
{
    size_t n = 2000;
    const char *first = "127.1.0.1", *rtt_file = NULL;
    unsigned seconds = 30, count = 1, warmup = 2;
    int opt;
    while ((opt = getopt(argc, argv, "n:a:t:c:w:r:")) != -1) {
        switch (opt) {
        case 'n': n = strtoul(optarg, NULL, 10); break;
        case 'a': first = optarg; break;
        case 't': seconds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'c': count = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'w': warmup = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'r': rtt_file = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-n targets] [-a first] [-t s] [-c count] [-w s] "
                            "[-r file]\n", argv[0]);
            return 2;
        }
    }
    struct in_addr a0;
    if (n == 0 || n > 60000 || seconds == 0 || seconds > 3600 ||
        inet_pton(AF_INET, first, &a0) != 1) {
        fprintf(stderr, "agent_icmp_bench: bad arguments\n");
        return 2;
    }
    rn_log_open("agent_icmp_bench", RN_LOG_WARN, false);
    B.n = n;
    B.addr = calloc(n, sizeof *B.addr);
    B.rtt_sum = calloc(n, sizeof *B.rtt_sum);
    B.rtt_n = calloc(n, sizeof *B.rtt_n);
    B.hist = calloc(HIST_US, sizeof *B.hist);
    Rn__IcmpTarget *tg = calloc(n, sizeof *tg);
    Rn__IcmpTarget **tp = calloc(n, sizeof *tp);
    char (*names)[16] = calloc(n, sizeof *names);
    if (!B.addr || !B.rtt_sum || !B.rtt_n || !B.hist || !tg || !tp || !names)
        return 1;
    for (size_t i = 0; i < n; i++) {
        struct in_addr a = { htonl(ntohl(a0.s_addr) + (uint32_t)i) };
        inet_ntop(AF_INET, &a, B.addr[i], sizeof B.addr[i]);
        snprintf(names[i], sizeof names[i], "t%zu", i);
        Rn__IcmpTarget init = RN__ICMP_TARGET__INIT;
        tg[i] = init;
        tg[i].name = names[i];
        tg[i].addr = B.addr[i];
        tp[i] = &tg[i];
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_icmp_prober_t *p;
    int rc = rn_icmp_prober_new(&loop, on_sample, NULL, &p);
    if (rc != 0) {
        fprintf(stderr, "agent_icmp_bench: prober: %s\n", strerror(-rc));
        return 1;
    }
    rn_icmp_prober_set_send_hook(p, on_send, NULL);
    B.measure_from = rn_clock_mono_ns() + (uint64_t)warmup * 1000000000ull;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    rn_mono_ns_t t0 = rn_clock_mono_ns();
    if ((rc = rn_icmp_prober_set_targets(p, tp, n, 1, count)) != 0) {
        fprintf(stderr, "agent_icmp_bench: targets: %s\n", strerror(-rc));
        return 1;
    }
    uv_timer_t stop;
    uv_timer_init(&loop, &stop);
    uv_timer_start(&stop, on_stop, (uint64_t)seconds * 1000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    getrusage(RUSAGE_SELF, &r1);
    double wall = (double)(rn_clock_mono_ns() - t0) / 1e9;
    rn_icmp_prober_close(p, on_closed, &B.closed);
    uv_close((uv_handle_t *)&stop, NULL);
    while (!B.closed)
        uv_run(&loop, UV_RUN_ONCE);
    uv_loop_close(&loop);

    double ut = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6;
    double st = (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    uint64_t answered = 0;
    for (size_t i = 0; i < n; i++)
        answered += B.rtt_n[i] > 0;
    printf("targets %zu\nseconds %.2f\nsamples %llu\nsent %llu\nreceived %llu\n", n, wall,
           (unsigned long long)B.n_samples, (unsigned long long)B.n_sent,
           (unsigned long long)B.n_recv);
    printf("targets_answered %llu\n", (unsigned long long)answered);
    printf("cpu_user_s %.3f\ncpu_sys_s %.3f\ncpu_pct %.2f\n", ut, st, 100.0 * (ut + st) / wall);
    printf("sched_measured %llu\nsched_early %llu\n", (unsigned long long)B.n_sends,
           (unsigned long long)B.n_early);
    printf("sched_err_p50_us %.0f\nsched_err_p99_us %.0f\nsched_err_p999_us %.0f\n",
           hist_quantile(0.5), hist_quantile(0.99), hist_quantile(0.999));
    printf("rss_peak_kb %ld\n", vm_hwm_kb());
    if (rtt_file) {
        FILE *f = fopen(rtt_file, "w");
        if (!f) {
            fprintf(stderr, "agent_icmp_bench: %s: %s\n", rtt_file, strerror(errno));
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            if (B.rtt_n[i])
                fprintf(f, "%s %.4f %u\n", B.addr[i], B.rtt_sum[i] / B.rtt_n[i], B.rtt_n[i]);
        fclose(f);
    }
    free(tg), free(tp), free(names);
    free(B.addr), free(B.rtt_sum), free(B.rtt_n), free(B.hist);
    return 0;
}
