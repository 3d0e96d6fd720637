/* rtp_bench: how many captured packets per second the RTP tracker (agent/rtp_track.c, the code
 * rajnet-agent runs on its capture) sustains on one core.
 *
 *   rtp_bench [-f file.pcap] [-n packets] [-s streams] [-r rounds] [-m max-streams]
 *
 * With -f the frames of a pcap file (any link type the tracker knows) are loaded into memory;
 * without it a file is generated first with pcap_dump (-n packets, default 1,000,000, spread over
 * -s streams, default 200, G.711 20 ms each, 1% loss and some reordering, snap length 128) and
 * removed afterwards. The frames are then fed -r times (default 5) to a fresh tracker each round,
 * with one report per simulated second, timed with the process CPU clock (the loading is not
 * timed). Output is "key value" lines: packets, cpu_s, packets_per_s (best round), and the
 * tracker's stream count and loss, so a run also shows the figures are sane. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "rtp_track.h"

typedef struct {
    int64_t ns;
    uint32_t len;
    uint32_t off;
} frame_t;

static struct {
    frame_t *f;
    size_t n, cap;
    uint8_t *bytes;
    size_t used, bytes_cap;
    int dlt;
} F;

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8, p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16), put16(p + 2, v & 0xffff); }

/* Writes n packets over s streams to path. */
static void generate(const char *path, size_t n, unsigned s)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 128);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    if (!d) {
        fprintf(stderr, "rtp_bench: %s: %s\n", path, pcap_geterr(dead));
        exit(1);
    }
    uint8_t f[214];
    memset(f, 0, sizeof f);
    put16(f + 12, 0x0800);
    f[14] = 0x45, put16(f + 16, 200), f[22] = 64, f[23] = 17;
    f[26] = 10, f[27] = 2, f[30] = 10, f[31] = 1, f[32] = 0, f[33] = 10;
    put16(f + 38, 180);
    f[42] = 0x80;
    uint32_t x = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned st = (unsigned)(i % s);
        uint32_t k = (uint32_t)(i / s);
        x = x * 1103515245u + 12345u;
        if ((x >> 16) % 100 == 0)
            continue; /* 1% loss */
        uint32_t seq = (x >> 16) % 500 == 1 && k > 0 ? k - 1 : k; /* a few late packets */
        f[28] = (uint8_t)(st >> 8), f[29] = (uint8_t)st;
        put16(f + 34, (uint16_t)(16384 + 2 * st));
        put16(f + 36, 16400);
        put16(f + 44, (uint16_t)seq);
        put32(f + 46, 160u * seq);
        put32(f + 50, 0x1000 + st);
        int64_t ns = (int64_t)k * 20000000 + st * 1000;
        struct pcap_pkthdr h = { { (time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000) },
                                 128, sizeof f };
        pcap_dump((u_char *)d, &h, f);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void load(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p) {
        fprintf(stderr, "rtp_bench: %s\n", err);
        exit(1);
    }
    F.dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if (F.n == F.cap) {
            F.cap = F.cap ? F.cap * 2 : 65536;
            F.f = realloc(F.f, F.cap * sizeof *F.f);
        }
        if (F.used + h->caplen > F.bytes_cap) {
            F.bytes_cap = F.bytes_cap ? F.bytes_cap * 2 : 1 << 24;
            F.bytes = realloc(F.bytes, F.bytes_cap);
        }
        if (!F.f || !F.bytes) {
            fprintf(stderr, "rtp_bench: out of memory\n");
            exit(1);
        }
        memcpy(F.bytes + F.used, data, h->caplen);
        F.f[F.n++] = (frame_t){ (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec * 1000,
                                h->caplen, (uint32_t)F.used };
        F.used += h->caplen;
    }
    pcap_close(p);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    size_t n = 1000000;
    unsigned streams = 200, rounds = 5, max_streams = 1024;
    for (int o; (o = getopt(argc, argv, "f:n:s:r:m:")) != -1;) {
        switch (o) {
        case 'f': file = optarg; break;
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 's': streams = (unsigned)atoi(optarg); break;
        case 'r': rounds = (unsigned)atoi(optarg); break;
        case 'm': max_streams = (unsigned)atoi(optarg); break;
        default:
            fprintf(stderr, "usage: rtp_bench [-f file.pcap] [-n packets] [-s streams] [-r rounds] "
                            "[-m max-streams]\n");
            return 2;
        }
    }
    char tmp[] = "/tmp/rtp_bench-XXXXXX";
    if (!file) {
        int fd = mkstemp(tmp);
        if (fd < 0 || streams == 0)
            return 1;
        close(fd);
        generate(tmp, n, streams);
        file = tmp;
    }
    load(file);
    if (file == tmp)
        unlink(tmp);
    rn_rtp_config_t c;
    rn_rtp_config_default(&c);
    c.max_streams = max_streams;
    double best = 1e99, total = 0;
    rn_rtp_summary_t sum = { 0 };
    rn_rtp_stats_t st = { 0 };
    for (unsigned r = 0; r < rounds; r++) {
        rn_rtp_tracker_t *t;
        if (rn_rtp_tracker_new(&c, &t) != 0)
            return 1;
        double t0 = cpu_s();
        int64_t next = F.n ? F.f[0].ns + 1000000000 : 0;
        for (size_t i = 0; i < F.n; i++) {
            if (F.f[i].ns >= next) {
                rn_rtp_report(t, F.f[i].ns, NULL, NULL, &sum);
                next += 1000000000;
            }
            rn_rtp_feed(t, F.dlt, F.f[i].ns, F.bytes + F.f[i].off, F.f[i].len);
        }
        double dt = cpu_s() - t0;
        total += dt;
        if (dt < best)
            best = dt;
        rn_rtp_stats(t, &st);
        rn_rtp_tracker_free(t);
    }
    printf("packets %zu\n", F.n);
    printf("rounds %u\n", rounds);
    printf("cpu_s_best %.4f\n", best);
    printf("cpu_s_mean %.4f\n", total / rounds);
    printf("packets_per_s %.0f\n", best > 0 ? F.n / best : 0);
    printf("rtp %llu\n", (unsigned long long)st.rtp);
    printf("malformed %llu\n", (unsigned long long)st.malformed);
    printf("streams_last_interval %u\n", sum.streams);
    printf("loss_pct_last_interval %.3f\n", sum.lost_pct);
    printf("mos_last_interval %.3f\n", sum.mos);
    free(F.f);
    free(F.bytes);
    return 0;
}
