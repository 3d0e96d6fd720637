/* rrd_baseline: the bare-librrd reference for the collector's ingest figures. It takes the RRD
 * files a collector run left in a data directory (so the files, their layout and the page cache
 * are the same ones the collector wrote), and updates them from one thread, round after round,
 * with the same shape of data as the swarm sent: per round, every file gets `spp` updates of its
 * values (times continue after each file's last update, one step apart), in one call per file.
 *
 *   rrd_baseline DATA_DIR [--seconds S] [--spp K] [--via local|rrdcached|batch] [--daemon ADDR]
 *
 *   local      rrd_update_r on the file (what the collector's worker does without rrdcached)
 *   rrdcached  librrd's client, rrdc_update: one UPDATE command and round trip per file
 *   batch      rrdcached's text protocol in BATCH mode: one round trip per round of all files
 *              (ADDR is unix:/path only here; the files' paths must be under the daemon's -b dir)
 *
 * Prints "RESULT key value" lines: files, updates, seconds, updates_per_s, values_per_s.
 * Bounded by --seconds (default 10). Run by tests/bench/agent-swarm. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <rrd.h>
#include <rrd_client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *path;
    time_t last;
    unsigned long step;
    unsigned long ds;
} file_t;

static file_t *files;
static size_t n_files, cap_files;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Collects every *.rrd under dir, recursively. */
static void walk(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p;
        if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
            continue;
        struct stat st;
        size_t len = strlen(p);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(p);
            free(p);
        } else if (len > 4 && strcmp(p + len - 4, ".rrd") == 0) {
            if (n_files == cap_files) {
                cap_files = cap_files ? cap_files * 2 : 1024;
                files = realloc(files, cap_files * sizeof *files);
            }
            files[n_files++] = (file_t){ .path = p };
        } else {
            free(p);
        }
    }
    closedir(d);
}

/* Reads step, data-source count and last update of every file. */
static int read_headers(void)
{
    for (size_t i = 0; i < n_files; i++) {
        unsigned long step = 0, ds = 0;
        time_t last = 0;
        rrd_info_t *info = rrd_info_r(files[i].path), *it;
        ds = 0;
        for (it = info; it; it = it->next) {
            if (strcmp(it->key, "step") == 0)
                step = it->value.u_cnt;
            else if (strncmp(it->key, "ds[", 3) == 0 && strstr(it->key, "].index"))
                ds++;
            else if (strcmp(it->key, "last_update") == 0)
                last = (time_t)it->value.u_cnt;
        }
        rrd_info_free(info);
        if (!step || !ds) {
            fprintf(stderr, "rrd_baseline: %s: %s\n", files[i].path, rrd_get_error());
            return -1;
        }
        files[i].step = step;
        files[i].ds = ds;
        files[i].last = last;
    }
    return 0;
}

/* Formats the k-th update of a file ("t:v:v:...") into buf. The values follow the swarm's:
 * counters rising, the last value a gauge of 1. */
static void fmt_update(char *buf, size_t len, file_t *f, unsigned long k)
{
    time_t t = f->last + (time_t)f->step;
    int off = snprintf(buf, len, "%lld", (long long)t);
    for (unsigned long v = 0; v + 1 < f->ds; v++)
        off += snprintf(buf + off, len - (size_t)off, ":%lu",
                        (unsigned long)t * (v == 0 ? 12500 : v == 1 ? 8333 : v) + k);
    snprintf(buf + off, len - (size_t)off, ":1");
    f->last = t;
}

static int batch_connect(const char *addr)
{
    if (strncmp(addr, "unix:", 5) != 0)
        return -1;
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", addr + 5);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
        return -1;
    return fd;
}

/* Reads one line from fd (slow but only used for replies). */
static int read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            return -1;
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One BATCH round trip with every file's spp updates. Returns errors reported, or -1. */
static long batch_round(int fd, int spp, unsigned long k, char *out, size_t cap)
{
    size_t n = 0;
    char line[512];
    n += (size_t)snprintf(out + n, cap - n, "BATCH\n");
    for (size_t i = 0; i < n_files; i++) {
        n += (size_t)snprintf(out + n, cap - n, "UPDATE %s", files[i].path);
        for (int j = 0; j < spp; j++) {
            fmt_update(line, sizeof line, &files[i], k);
            n += (size_t)snprintf(out + n, cap - n, " %s", line);
        }
        out[n++] = '\n';
    }
    n += (size_t)snprintf(out + n, cap - n, ".\n");
    if (write_all(fd, out, n) < 0 || read_line(fd, line, sizeof line) < 0 ||
        read_line(fd, line, sizeof line) < 0)
        return -1;
    long errs = strtol(line, NULL, 10);
    for (long e = 0; e < errs; e++) {
        char msg[512];
        if (read_line(fd, msg, sizeof msg) < 0)
            return -1;
        if (e == 0)
            fprintf(stderr, "rrd_baseline: rrdcached: %s\n", msg);
    }
    return errs;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    int spp = 1;
    const char *via = "local", *daemon_addr = NULL;
    static const struct option opts[] = {
        { "seconds", 1, 0, 's' }, { "spp", 1, 0, 'k' }, { "via", 1, 0, 'v' },
        { "daemon", 1, 0, 'a' },  { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': seconds = atof(optarg); break;
        case 'k': spp = atoi(optarg); break;
        case 'v': via = optarg; break;
        case 'a': daemon_addr = optarg; break;
        default: return 2;
        }
    }
    if (optind != argc - 1 || spp < 1 || spp > 64 ||
        (strcmp(via, "local") != 0 && daemon_addr == NULL)) {
        fprintf(stderr, "usage: rrd_baseline DATA_DIR [--seconds S] [--spp K] "
                        "[--via local|rrdcached|batch] [--daemon ADDR]\n");
        return 2;
    }
    walk(argv[optind]);
    if (n_files == 0 || read_headers() != 0) {
        fprintf(stderr, "rrd_baseline: no usable RRD files under %s\n", argv[optind]);
        return 1;
    }
    int client = 0;
    int fd = -1;
    char *out = NULL;
    size_t out_cap = n_files * (size_t)spp * 256 + 64;
    if (strcmp(via, "rrdcached") == 0 && (client = 1, rrdc_connect(daemon_addr) != 0)) {
        fprintf(stderr, "rrd_baseline: cannot connect to rrdcached %s\n", daemon_addr);
        return 1;
    }
    if (strcmp(via, "batch") == 0 && ((fd = batch_connect(daemon_addr)) < 0 ||
                                      !(out = malloc(out_cap)))) {
        fprintf(stderr, "rrd_baseline: cannot connect to rrdcached %s\n", daemon_addr);
        return 1;
    }
    /* Through the daemon, its cache holds newer updates than the file headers: ask it. */
    if (daemon_addr != NULL && rrdc_connect(daemon_addr) == 0) {
        for (size_t i = 0; i < n_files; i++) {
            time_t t = rrdc_last(files[i].path);
            if (t != (time_t)-1 && t > files[i].last)
                files[i].last = t;
        }
    }
    char bufs[64][512];
    const char *argv_up[64];
    unsigned long updates = 0, failed = 0, k = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds) {
        if (fd >= 0) {
            long e = batch_round(fd, spp, k, out, out_cap);
            if (e < 0) {
                fprintf(stderr, "rrd_baseline: rrdcached connection lost\n");
                return 1;
            }
            failed += (unsigned long)e;
            updates += n_files * (unsigned long)spp;
        } else {
            for (size_t i = 0; i < n_files; i++) {
                for (int j = 0; j < spp; j++) {
                    fmt_update(bufs[j], sizeof bufs[j], &files[i], k);
                    argv_up[j] = bufs[j];
                }
                rrd_clear_error();
                int rc = client ? rrdc_update(files[i].path, spp, argv_up)
                                : rrd_update_r(files[i].path, NULL, spp, argv_up);
                if (rc != 0) {
                    if (failed++ == 0)
                        fprintf(stderr, "rrd_baseline: %s: %s\n", files[i].path, rrd_get_error());
                } else {
                    updates += (unsigned long)spp;
                }
            }
        }
        k++;
        t = now_s();
    }
    double secs = t - t0;
    printf("RESULT via %s\nRESULT files %zu\nRESULT rounds %lu\nRESULT updates %lu\n"
           "RESULT failed %lu\nRESULT seconds %.2f\nRESULT updates_per_s %.0f\n"
           "RESULT values_per_s %.0f\n",
           via, n_files, k, updates, failed, secs, updates / secs,
           updates * (double)files[0].ds / secs);
    if (client)
        rrdc_disconnect();
    if (fd >= 0)
        close(fd);
    free(out);
    return failed ? 1 : 0;
}
