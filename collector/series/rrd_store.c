/* RRD store: turns batches of samples into RRD files, off the loop thread.
 *
 * Why: librrd calls block on disk (open, lock, read header, write, close per file), so the loop
 * thread only queues batches here and gets a callback with the outcome. Files and updates are
 * written here, or through rrdcached with its client in rrdc.c.
 *
 * How: rn_rrd_store_write() appends a job to a FIFO. At most one run of jobs is on the store's
 * own worker thread at a time (lib/worker.h; not libuv's pool, which reports, graphs and static
 * files share: none of them may hold back an ack): the queued jobs, up to MAX_RUN of them, applied
 * one after the other, so a busy store pays one thread hand-over per run, not per batch (that
 * hand-over, not librrd, bounded ingest once the files got small). Its after callback, on the
 * loop thread, starts the next run and then fires the callers' callbacks in order. So batches are
 * applied in submission order and the worker side state (rrd_cache.h, each file's last update
 * time) is touched by one thread at a time; the hand-over through libuv's queue orders those
 * accesses. A job:
 *   1. checks that the data directory is still a writable directory (else the whole batch fails
 *      with a negative status: nothing is stored, the caller must not ack);
 *   2. maps each sample to its file path, then sorts (path, position in batch) so that the samples
 *      of one file form one run, in batch order;
 *   3. for each file: learns its last update (cache, else rrd_last_r, else creates the file from
 *      the source's template), drops samples at or before it (too_old: RRD time is whole seconds,
 *      so a second sample in the same second is too old as well), and hands all the others to one
 *      rrd_update_r call. If librrd refuses, the error is logged once with the path, the file's
 *      last update is read back to count what did land, and the rest is counted failed.
 * librrd keeps its error text per thread (rrd_get_context()), so the worker clears it before each
 * call and reads it right after.
 *
 * RRAs (xff 0.5) come from these tiers, sized for all of RajNet (docs/storage.md has the why and
 * the sums): AVERAGE at one step for 2 days (no MIN/MAX there: over one step they equal AVERAGE,
 * and librrd 1.7's fetch, so rrd_graph too, serves any function from a one-step RRA); then
 * AVERAGE, MIN and MAX at 5 min for 40 days (a month's SLA report reads its p50/p95 here:
 * rrd_fetch takes the finest RRA that covers the whole month, so a report rerun by hand until
 * the 9th of the next month gives the same figures), 1 h for 400 days (an SLA year), 1 day for
 * 5 years (1826 days). steps per row = round(resolution / step), a tier finer than the step is
 * skipped, and a (function, steps per row) pair two tiers give is one RRA with the longer
 * history; rows = ceil(history / (steps per row * step)). Files, as librrd 1.7.2 makes them:
 *   step 60 ("if", 7 DS):   AVERAGE 1 x 2880, then x3: 5 x 11520, 60 x 9600, 1440 x 1826
 *                           = 4,024,856 bytes (was 8,219,512 with 5 tiers x 3 functions)
 *   step 10 ("icmp", 8 DS): AVERAGE 1 x 17280, then x3: 30 x 11520, 360 x 9600, 8640 x 1826
 *                           = 5,521,232 bytes (was 12,713,552)
 * Data sources: counters DERIVE (min 0; max = speed_bps / 8 for the octet counters "in"/"out" when
 * the first sample carries a speed, else U), gauges GAUGE with the template's bounds; heartbeat is
 * 3 steps. A new file starts one step before its first sample and is built under "<path>.tmp",
 * then renamed, so a crash never leaves a half-written file at the real path. */
#include "series/rrd_store.h"
#include "series/rrd_cache.h"
#include "series/rrdc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <rrd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "metrics.h"
#include "sources.h"
#include "util.h"
#include "worker.h"

#define MAX_RUN 32 /* write jobs applied by one worker hand-over */
#define MAX_SOURCES 16 /* sources with a step of their own (if, icmp, rtp, pcap, rtsp, ...) */
#define DEFAULT_STEP 60u
#define HEARTBEAT_STEPS 3u
#define NAME_ROOM (255 - 8) /* an escaped file name plus ".rrd.tmp" must fit NAME_MAX */
#define MAX_DS 32            /* data sources per template, at most */
#define MAX_RRAS 10         /* (function, steps per row) pairs the tiers give, at most */

typedef struct {
    char source[32];
    uint32_t step;
} step_t;

/* One UPDATE command of a BATCH, accounted for when the daemon answers. */
typedef struct {
    char *path;
    time_t last;            /* the file's last update once the command is applied */
    uint32_t n;             /* updates in the command */
} daemon_cmd_t;

typedef struct job {
    rn_worker_req_t req;
    struct job *next;
    rn_rrd_store_t *s;
    bool is_close;          /* the close sentinel: runs after every write, then frees the store */
    char *node_id;
    Rn__Frame *frame;       /* owned; freed on the worker once applied */
    rn_rrd_store_cb cb;
    void *data;
    int status;
    rn_rrd_result_t result;
    unsigned created;       /* files this job created */
    step_t steps[MAX_SOURCES]; /* snapshot at submission, so set_step never races a worker */
    size_t n_steps;
    /* rrdcached BATCH mode: the commands of this job, sent in one round trip */
    rn_rrdc_cmds_t batch;
    daemon_cmd_t *cmds;
    size_t n_cmds, cap_cmds;
} job_t;

/* One sample of a batch on its way to its file. */
typedef struct {
    char *path;
    size_t idx;             /* position in the batch: keeps batch order within a file */
    time_t t;
    const Rn__Sample *sample;
    const rn_template_t *tmpl;
} item_t;

struct rn_rrd_store {
    uv_loop_t *loop;
    rn_worker_t *worker;    /* the thread that applies the jobs */
    char *data_dir;
    step_t steps[MAX_SOURCES];
    size_t n_steps;
    job_t *head, *tail;     /* queued, not started */
    job_t *running;
    size_t pending;         /* queued + running writes (not the close sentinel) */
    bool closing;
    job_t *close_job;       /* preallocated so close cannot fail */
    void (*close_cb)(void *data);
    void *close_data;
    /* Worker side: only the running job touches these. */
    rn_rrd_cache_t cache;
    bool dir_bad;           /* the data directory was found unusable: log the change only */
    bool full;              /* a batch failed for a full disk: log its files once, and the end */
    /* rrdcached: set before the first write, then used by the worker only; NULL: files are
     * written directly */
    rn_rrdc_t *rrdc;
};

/* ---- path scheme ------------------------------------------------------------------------- */

/* Appends s escaped into buf at *pos: bytes outside [A-Za-z0-9._-], and a leading '.', become
 * %XX. Returns 0, -EINVAL for an empty name, or -ENAMETOOLONG. */
static int append_escaped(char *buf, size_t len, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = *pos;
    if (*s == '\0')
        return -EINVAL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                     (*p == '.' && p != (const unsigned char *)s);
        size_t need = plain ? 1 : 3;
        if (*pos + need >= len || *pos + need - start > NAME_ROOM)
            return -ENAMETOOLONG;
        if (plain) {
            buf[(*pos)++] = (char)*p;
        } else {
            buf[(*pos)++] = '%';
            buf[(*pos)++] = hex[*p >> 4];
            buf[(*pos)++] = hex[*p & 15];
        }
    }
    buf[*pos] = '\0';
    return 0;
}

/* Appends s verbatim. Returns 0 or -ENAMETOOLONG. */
static int append_raw(char *buf, size_t len, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + n >= len)
        return -ENAMETOOLONG;
    memcpy(buf + *pos, s, n + 1);
    *pos += n;
    return 0;
}

/* True if node_id is a relative path of non-empty segments, none of them "." or "..". Node ids
 * are validated by the wire layer already; this only guards the file system. */
static bool node_id_safe(const char *id)
{
    if (id == NULL || *id == '\0' || *id == '/')
        return false;
    for (const char *seg = id;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (!end)
            return true;
        seg = end + 1;
    }
}

/* True if source is a plain name ([a-z0-9_]+) that can be a directory as it is. */
static bool source_safe(const char *source)
{
    if (source == NULL || *source == '\0')
        return false;
    for (const char *p = source; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

int rn_rrd_store_path(const rn_rrd_store_t *s, const char *node_id, const char *source,
                      const char *device, const char *object, char *buf, size_t len)
{
    size_t pos = 0;
    int rc;
    if (!node_id_safe(node_id) || !source_safe(source) || object == NULL || len == 0)
        return -EINVAL;
    buf[0] = '\0';
    if ((rc = append_raw(buf, len, &pos, s->data_dir)) < 0 ||
        (rc = append_raw(buf, len, &pos, "/")) < 0 ||
        (rc = append_raw(buf, len, &pos, node_id)) < 0 ||
        (rc = append_raw(buf, len, &pos, "/")) < 0 ||
        (rc = append_raw(buf, len, &pos, source)) < 0 ||
        (rc = append_raw(buf, len, &pos, "/")) < 0)
        return rc;
    if (device != NULL && *device != '\0') {
        if ((rc = append_escaped(buf, len, &pos, device)) < 0 ||
            (rc = append_raw(buf, len, &pos, "/")) < 0)
            return rc;
    }
    if ((rc = append_escaped(buf, len, &pos, object)) < 0 ||
        (rc = append_raw(buf, len, &pos, ".rrd")) < 0)
        return rc;
    return 0;
}

/* Creates every missing directory of path up to its last '/' (or all of it when whole is set),
 * like mkdir -p. Returns 0 or a negative errno. */
static int mkdir_p(const char *path, bool whole)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof tmp)
        return -ENAMETOOLONG;
    memcpy(tmp, path, n + 1);
    if (!whole) {
        char *slash = strrchr(tmp, '/');
        if (slash == NULL)
            return 0;
        *slash = '\0';
    }
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        if (c == '\0')
            break;
        *p = c;
    }
    struct stat st;
    if (stat(tmp, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* ---- creating a file --------------------------------------------------------------------- */

/* Returns the step of source from a step table, or the built-in default. */
static uint32_t step_of(const step_t *steps, size_t n, const char *source)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(steps[i].source, source) == 0)
            return steps[i].step;
    /* a device's extra SNMP objects are polled with its interfaces: the "if" step */
    if (strcmp(source, RN_SRC_GAUGE) == 0 || strcmp(source, RN_SRC_COUNTER) == 0)
        return step_of(steps, n, RN_SRC_IF);
    /* probe rounds ("udpecho": UDP echo between agents) default to the ICMP step */
    return !strcmp(source, RN_SRC_ICMP) || !strcmp(source, RN_SRC_UDPECHO) ? 10u : DEFAULT_STEP;
}

/* Formats a bound for a DS definition: "U" when unbounded. */
static void fmt_bound(char *buf, size_t len, double v)
{
    if (isnan(v))
        snprintf(buf, len, "U");
    else
        snprintf(buf, len, "%.17g", v);
}

/* Writes the DS definition of metric i of tmpl into buf, for a file created at the given step
 * whose first sample reports speed_bps (0 = unknown). */
static void ds_def(char *buf, size_t len, const rn_template_t *tmpl, size_t i, uint32_t step,
                   uint64_t speed_bps)
{
    const rn_metric_t *m = &tmpl->metrics[i];
    char lo[32], hi[32];
    if (m->kind == RN_METRIC_COUNTER) {
        bool octets = strcmp(tmpl->source, RN_SRC_IF) == 0 &&
                      (strcmp(m->name, "in") == 0 || strcmp(m->name, "out") == 0);
        snprintf(lo, sizeof lo, "0");
        if (octets && speed_bps > 0)
            snprintf(hi, sizeof hi, "%" PRIu64, speed_bps / 8);
        else
            snprintf(hi, sizeof hi, "U");
    } else {
        fmt_bound(lo, sizeof lo, m->min);
        fmt_bound(hi, sizeof hi, m->max);
    }
    snprintf(buf, len, "DS:%s:%s:%u:%s:%s", m->name,
             m->kind == RN_METRIC_COUNTER ? "DERIVE" : "GAUGE", step * HEARTBEAT_STEPS, lo, hi);
}

/* Writes the RRA definitions for a step into defs (see the header comment of this file): one
 * per tier and consolidation function, a tier finer than the step skipped, and a (function,
 * steps per row) pair that two tiers give merged into one RRA with the longer history.
 * Returns how many. */
static int rra_defs(char defs[][48], uint32_t step)
{
    enum { CF_AVG = 1, CF_MIN = 2, CF_MAX = 4 }; /* bit (1 << i) is cf_name[i] */
    static const struct { uint32_t res, span; unsigned cfs; } tiers[] = {
        { 0, 2 * 86400, CF_AVG },        /* res 0 = one step; librrd reads MIN/MAX from it too */
        { 300, 40 * 86400, CF_AVG | CF_MIN | CF_MAX },
        { 3600, 400 * 86400, CF_AVG | CF_MIN | CF_MAX },
        { 86400, 1826 * 86400, CF_AVG | CF_MIN | CF_MAX },
    };
    static const char *const cf_name[] = { "AVERAGE", "MIN", "MAX" };
    struct rra { unsigned cf; uint32_t pdp, rows; } rra[MAX_RRAS];
    int n = 0;
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
        uint32_t res = tiers[i].res ? tiers[i].res : step;
        if (res < step)
            continue;
        uint32_t p = (res + step / 2) / step;
        uint32_t r = (tiers[i].span + p * step - 1) / (p * step);
        for (unsigned cf = 0; cf < 3; cf++) {
            if (!(tiers[i].cfs & (1u << cf)))
                continue;
            int k = 0;
            while (k < n && !(rra[k].cf == cf && rra[k].pdp == p))
                k++;
            if (k == n && n < MAX_RRAS)
                rra[n++] = (struct rra){ cf, p, 0 };
            if (k < n && r > rra[k].rows)
                rra[k].rows = r;
        }
    }
    for (int i = 0; i < n; i++)
        snprintf(defs[i], 48, "RRA:%s:0.5:%u:%u", cf_name[rra[i].cf], rra[i].pdp, rra[i].rows);
    return n;
}

/* True for errors that say the disk (or its quota) is full: the batch is not stored, and not
 * acked, so the agent keeps it and sends it again (rather than counting its samples failed). */
static bool is_full(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT;
}

#define FULL_BELOW_BYTES 65536 /* a file system with less room than this is full for an RRD file */

/* True when the file system of path has less room than need bytes (at least FULL_BELOW_BYTES)
 * or no inode left, for an unprivileged writer. */
static bool dir_is_full(const char *path, uint64_t need)
{
    char dir[PATH_MAX];
    struct statvfs fs;
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    return statvfs(slash ? dir : ".", &fs) == 0 &&
           ((uint64_t)fs.f_bavail * fs.f_frsize < (need > FULL_BELOW_BYTES ? need : FULL_BELOW_BYTES) ||
            fs.f_favail == 0);
}

/* Returns the error of librrd's last failure on this thread for path (err_no: errno right after
 * it): -ENOSPC or -EDQUOT when the disk is full, else RN_ERRD. librrd 1.7 often says no more than
 * "unknown error" for a short write, and its cleanup overwrites errno, so the file system of
 * path is asked too: full when it has less room than need bytes (the size of the file being
 * written) now, or had so before the write (full_before: the filler may have gone in between,
 * and a batch counted failed for it would be acked and lost). */
static int rrd_failure(const char *path, int err_no, uint64_t need, bool full_before)
{
    const char *err = rrd_get_error();
    if (err_no == ENOSPC || (err && strstr(err, strerror(ENOSPC))))
        return -ENOSPC;
    if (err_no == EDQUOT || (err && strstr(err, strerror(EDQUOT))))
        return -EDQUOT;
    if (full_before || dir_is_full(path, need))
        return -ENOSPC;
    return RN_ERRD;
}

/* Logs librrd's error for path (this thread's context) and clears it. */
static void log_rrd_error(const char *what, const char *path)
{
    const char *err = rrd_get_error();
    rn_error("rrd: %s %s: %s", what, path, err && *err ? err : "unknown librrd error");
    rrd_clear_error();
}

/* Logs librrd's error for path, unless it is a full disk already logged (s->full), and clears
 * it. Returns rrd_failure(path, err_no, need, full_before). */
static int log_rrd_failure(rn_rrd_store_t *s, const char *what, const char *path, int err_no,
                           uint64_t need, bool full_before)
{
    int rc = rrd_failure(path, err_no, need, full_before);
    if (!is_full(rc) || !s->full)
        log_rrd_error(what, path);
    rrd_clear_error();
    return rc;
}

/* Returns about how many bytes a file of n_ds data sources and these RRA definitions takes: its
 * rows (8 bytes per data source each) and a page of headers. */
static uint64_t file_bytes(size_t n_ds, char defs[][48], int n_rra)
{
    uint64_t rows = 0;
    for (int i = 0; i < n_rra; i++) {
        const char *r = strrchr(defs[i], ':');
        rows += r ? strtoull(r + 1, NULL, 10) : 0;
    }
    return rows * n_ds * 8 + 4096;
}

/* Creates the RRD file at path for tmpl, starting at start, via "<path>.tmp" and rename.
 * Returns 0 or a negative error (logged; -ENOSPC/-EDQUOT for a full disk, once per episode). */
static int create_file(rn_rrd_store_t *s, const char *path, const rn_template_t *tmpl,
                       uint32_t step, time_t start, uint64_t speed_bps)
{
    char ds[MAX_DS][96], rra[MAX_RRAS][48], tmp[PATH_MAX];
    const char *argv[sizeof ds / sizeof ds[0] + MAX_RRAS];
    int argc = 0, rc;
    if (tmpl->n_metrics > sizeof ds / sizeof ds[0])
        return -EINVAL;
    if ((rc = mkdir_p(path, false)) < 0) {
        if (!is_full(rc) || !s->full)
            rn_error("rrd: cannot create the directory of %s: %s", path, rn_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < tmpl->n_metrics; i++) {
        ds_def(ds[i], sizeof ds[i], tmpl, i, step, speed_bps);
        argv[argc++] = ds[i];
    }
    int n_rra = rra_defs(rra, step);
    for (int i = 0; i < n_rra; i++)
        argv[argc++] = rra[i];
    if (s->rrdc != NULL) {
        if (rn_rrdc_create(s->rrdc, path, step, start, argc, argv) != 0)
            return log_rrd_failure(s, "rrdcached cannot create", path, errno, 0, false);
        rn_debug("rrd: created %s through rrdcached (step %u s)", path, step);
        return 0;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    uint64_t need = file_bytes(tmpl->n_metrics, rra, n_rra);
    bool full_before = dir_is_full(tmp, need);
    rrd_clear_error();
    if (rrd_create_r2(tmp, step, start, 0, NULL, NULL, argc, argv) != 0) {
        rc = log_rrd_failure(s, "cannot create", tmp, errno, need, full_before);
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) < 0) {
        rc = -errno;
        rn_error("rrd: cannot rename %s into place: %s", tmp, rn_strerror(rc));
        unlink(tmp);
        return rc;
    }
    rn_debug("rrd: created %s (step %u s)", path, step);
    return 0;
}

/* ---- writing one file -------------------------------------------------------------------- */

/* Formats one value for an update: counters as integers, gauges as doubles, "U" when unknown.
 * Returns the number of bytes written. */
static int fmt_value(char *p, size_t room, const rn_metric_t *m, const Rn__Value *v)
{
    if (v != NULL && v->has_counter)
        return snprintf(p, room, ":%" PRIu64, v->counter);
    if (v != NULL && v->has_gauge && m->kind == RN_METRIC_GAUGE && isfinite(v->gauge))
        return snprintf(p, room, ":%.17g", v->gauge);
    return snprintf(p, room, ":U");
}

/* ---- through rrdcached (rrdc.h) --------------------------------------------------------- */

/* Queues "UPDATE path argv..." for the job's BATCH, remembering what it stores. Returns 0 or
 * -ENOMEM. */
static int queue_update(job_t *job, const char *path, int argc, const char **argv, time_t last)
{
    if (job->n_cmds == job->cap_cmds) {
        size_t cap = job->cap_cmds ? job->cap_cmds * 2 : 64;
        daemon_cmd_t *c = realloc(job->cmds, cap * sizeof *c);
        if (c == NULL)
            return -ENOMEM;
        job->cmds = c;
        job->cap_cmds = cap;
    }
    char *p = strdup(path);
    if (p == NULL || rn_rrdc_cmds_add_update(&job->batch, path, argc, argv) < 0) {
        free(p);
        return -ENOMEM;
    }
    job->cmds[job->n_cmds++] = (daemon_cmd_t){ p, last, (uint32_t)argc };
    return 0;
}

/* Sends the job's commands as one BATCH and counts the outcome into the job. Returns 0, or a
 * negative error when the daemon could not be asked (nothing is counted: the caller fails the
 * whole job, so it is not acked and the agent resends). */
static int send_batch(rn_rrd_store_t *s, job_t *job)
{
    bool *bad = calloc(job->n_cmds, sizeof *bad);
    int rc = bad ? rn_rrdc_send(s->rrdc, &job->batch, bad) : -ENOMEM;
    for (size_t i = 0; i < job->n_cmds; i++) {
        daemon_cmd_t *c = &job->cmds[i];
        if (rc < 0 || bad[i]) {
            /* rrdcached keeps what came before a bad value: the next batch re-reads the file */
            rn_rrd_cache_drop(&s->cache, c->path);
            job->result.failed += rc < 0 ? 0 : c->n;
        } else {
            job->result.written += c->n;
            rn_rrd_cache_set(&s->cache, c->path, c->last);
        }
    }
    free(bad);
    return rc;
}

/* Frees the job's BATCH commands. */
static void drop_batch(job_t *job)
{
    for (size_t i = 0; i < job->n_cmds; i++)
        free(job->cmds[i].path);
    free(job->cmds);
    job->cmds = NULL;
    job->n_cmds = job->cap_cmds = 0;
    rn_rrdc_cmds_reset(&job->batch);
}

/* Finds the last update of the file of a run of items, creating the file if it does not exist.
 * Returns 0 and sets *last, or a negative error (logged). */
static int file_last(rn_rrd_store_t *s, job_t *job, const item_t *it, size_t n, time_t *last)
{
    struct stat st;
    if (rn_rrd_cache_get(&s->cache, it[0].path, last))
        return 0;
    if (s->rrdc != NULL) {
        int rc = rn_rrdc_last(s->rrdc, it[0].path, last);
        if (rc != -ENOENT)
            return rc;
    } else if (stat(it[0].path, &st) == 0) {
        rrd_clear_error();
        time_t t = rrd_last_r(it[0].path);
        if (t == (time_t)-1) {
            log_rrd_error("cannot read the last update of", it[0].path);
            return RN_ERRD;
        }
        *last = t;
        return 0;
    }
    else if (errno != ENOENT) {
        int rc = -errno;
        rn_error("rrd: cannot stat %s: %s", it[0].path, rn_strerror(rc));
        return rc;
    }
    uint64_t speed = 0;
    for (size_t i = 0; i < n && speed == 0; i++)
        if (it[i].sample->has_speed_bps)
            speed = it[i].sample->speed_bps;
    uint32_t step = step_of(job->steps, job->n_steps, it[0].tmpl->source);
    int rc = create_file(s, it[0].path, it[0].tmpl, step, it[0].t - (time_t)step, speed);
    if (rc < 0)
        return rc;
    job->created++;
    *last = it[0].t - (time_t)step;
    return 0;
}

/* Counts, after a failed update of a file, which of its argc updates landed: those at or before
 * the file's last update as read back now. */
static uint32_t count_landed(const rn_rrd_store_t *s, const char *path, const time_t *times,
                             int argc)
{
    time_t last = (time_t)-1;
    rrd_clear_error();
    if (s->rrdc == NULL)
        last = rrd_last_r(path);
    else if (rn_rrdc_last(s->rrdc, path, &last) < 0)
        last = (time_t)-1;
    rrd_clear_error();
    uint32_t landed = 0;
    for (int i = 0; i < argc && last != (time_t)-1; i++)
        if (times[i] <= last)
            landed++;
    return landed;
}

/* Writes a run of n items that share one file: one rrd_update_r call with every sample newer
 * than the file's last update, in batch order. Adds the outcome to job->result. */
static void write_file(rn_rrd_store_t *s, job_t *job, const item_t *it, size_t n)
{
    time_t last = 0;
    int rc = file_last(s, job, it, n, &last);
    if (is_full(rc)) { /* the batch fails as a whole: not acked, sent again (rrd_store.h) */
        job->status = job->status ? job->status : rc;
        return;
    }
    if (rc < 0) {
        job->result.failed += (uint32_t)n;
        return;
    }
    size_t line_len = 24 + it[0].tmpl->n_metrics * 28;
    char *lines = malloc(n * line_len);
    const char **argv = malloc(n * sizeof *argv);
    time_t *times = malloc(n * sizeof *times);
    int argc = 0;
    if (lines == NULL || argv == NULL || times == NULL) {
        job->result.failed += (uint32_t)n;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (it[i].t <= last) {
            job->result.too_old++;
            continue;
        }
        char *p = lines + (size_t)argc * line_len;
        size_t off = (size_t)snprintf(p, line_len, "%lld", (long long)it[i].t);
        for (size_t v = 0; v < it[i].tmpl->n_metrics; v++)
            off += (size_t)fmt_value(p + off, line_len - off, &it[i].tmpl->metrics[v],
                                     it[i].sample->values[v]);
        times[argc] = last = it[i].t;
        argv[argc++] = p;
    }
    if (argc == 0)
        goto out;
    if (s->rrdc != NULL && rn_rrdc_batched(s->rrdc)) {
        /* Sent with the rest of the job in one BATCH; counted when the daemon answers. */
        if (queue_update(job, it[0].path, argc, argv, last) < 0)
            job->result.failed += (uint32_t)argc;
        goto out;
    }
    rrd_clear_error();
    if (s->rrdc != NULL ? rn_rrdc_update(s->rrdc, it[0].path, argc, argv) != 0
                        : rrd_update_r(it[0].path, NULL, argc, argv) != 0) {
        rc = log_rrd_failure(s, "cannot update", it[0].path, errno, 0, false);
        rn_rrd_cache_drop(&s->cache, it[0].path);
        if (is_full(rc)) { /* what landed is too old on the resend, the rest is written then */
            job->status = job->status ? job->status : rc;
            goto out;
        }
        uint32_t landed = count_landed(s, it[0].path, times, argc);
        job->result.written += landed;
        job->result.failed += (uint32_t)argc - landed;
        rn_rrd_cache_drop(&s->cache, it[0].path);
        goto out;
    }
    job->result.written += (uint32_t)argc;
    rn_rrd_cache_set(&s->cache, it[0].path, last);
out:
    free(lines);
    free(argv);
    free(times);
}

/* ---- applying a batch (worker thread) ---------------------------------------------------- */

/* Orders items by file, then by position in the batch. */
static int cmp_items(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Returns 0 if the data directory is a directory we may write, else a negative errno, logging
 * only when that changes. */
static int check_data_dir(rn_rrd_store_t *s)
{
    struct stat st;
    int rc = 0;
    if (stat(s->data_dir, &st) < 0)
        rc = -errno;
    else if (!S_ISDIR(st.st_mode))
        rc = -ENOTDIR;
    else if (access(s->data_dir, W_OK | X_OK) < 0)
        rc = -errno;
    if (rc < 0 && !s->dir_bad)
        rn_error("rrd: data directory %s is unusable: %s", s->data_dir, rn_strerror(rc));
    else if (rc == 0 && s->dir_bad)
        rn_info("rrd: data directory %s is usable again", s->data_dir);
    s->dir_bad = rc < 0;
    return rc;
}

/* Maps sample i of the job's batch to an item. Returns 0, or a negative error when the sample
 * cannot be stored (unknown source, wrong value count, bad time or name), logged once per batch
 * through *logged. */
static int make_item(const job_t *job, size_t i, item_t *item, bool *logged)
{
    const Rn__Sample *sm = job->frame->batch->samples[i];
    char path[PATH_MAX];
    int rc = -EINVAL;
    item->sample = sm;
    item->idx = i;
    item->tmpl = sm->source ? rn_template_find(sm->source) : NULL;
    /* floor(ms / 1000), also for times before 1970 */
    item->t = (time_t)(sm->time_ms >= 0 ? sm->time_ms / 1000 : -((-sm->time_ms + 999) / 1000));
    if (item->tmpl != NULL && sm->n_values == item->tmpl->n_metrics && item->t > 0 &&
        sm->object != NULL &&
        (rc = rn_rrd_store_path(job->s, job->node_id, sm->source, sm->device, sm->object, path,
                                sizeof path)) == 0) {
        if ((item->path = strdup(path)) != NULL)
            return 0;
        rc = -ENOMEM;
    }
    if (!*logged)
        rn_warn("rrd: node %s: sample %s/%s/%s at %" PRId64 " ms cannot be stored: %s",
                job->node_id, sm->source ? sm->source : "?", sm->device ? sm->device : "?",
                sm->object ? sm->object : "?", sm->time_ms,
                rc == -EINVAL ? "unknown source, wrong value count, bad time or name"
                              : rn_strerror(rc));
    *logged = true;
    return rc;
}

/* Logs the start of a full-disk episode (the first batch refused for it) and its end (the
 * first batch stored that created a file); the files' errors in between are not logged again. */
static void note_full(rn_rrd_store_t *s, const job_t *job)
{
    if (is_full(job->status) && !s->full)
        rn_error("rrd: %s is full: batches that need a new file (or more room) are refused, "
                 "not acked, until there is room: their agents keep them in their spools and "
                 "send them again (node %s the first)", s->data_dir, job->node_id);
    else if (job->status == 0 && s->full && job->created)
        rn_info("rrd: %s has room again: batches are stored (node %s the first)", s->data_dir,
                job->node_id);
    else
        return;
    s->full = job->status != 0;
}

/* Applies the job's batch: groups its samples by file and writes each file once. */
static void apply_batch(job_t *job)
{
    rn_rrd_store_t *s = job->s;
    const Rn__Batch *b = job->frame->batch;
    item_t *items;
    size_t n = 0;
    bool logged = false;
    if ((job->status = check_data_dir(s)) < 0)
        return;
    if (b->n_samples == 0)
        return;
    if ((items = calloc(b->n_samples, sizeof *items)) == NULL) {
        job->status = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < b->n_samples; i++) {
        if (make_item(job, i, &items[n], &logged) == 0)
            n++;
        else
            job->result.failed++;
    }
    qsort(items, n, sizeof *items, cmp_items);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(items[j].path, items[i].path) == 0; j++)
            ;
        write_file(s, job, items + i, j - i);
    }
    if (job->n_cmds > 0) {
        int rc = send_batch(s, job);
        if (rc < 0)
            job->status = rc;
    }
    note_full(s, job);
    drop_batch(job);
    for (size_t i = 0; i < n; i++)
        free(items[i].path);
    free(items);
}

/* Worker thread: applies a run of write jobs in order and releases their frames; the close
 * sentinel (always alone) does nothing. */
static void on_work(rn_worker_req_t *req)
{
    for (job_t *job = container_of(req, job_t, req); job; job = job->next) {
        if (job->is_close)
            return;
        apply_batch(job);
        rn_wire_free(job->frame);
        job->frame = NULL;
    }
}

/* ---- queue (loop thread) ----------------------------------------------------------------- */

static void on_after_work(rn_worker_req_t *req);

/* Starts the oldest queued jobs, up to MAX_RUN of them and never the close sentinel with others,
 * as one run if none is running. */
static void start_next(rn_rrd_store_t *s)
{
    if (s->running != NULL || s->head == NULL)
        return;
    job_t *job = s->head, *last = job;
    for (size_t n = 1; n < MAX_RUN && !last->is_close && last->next && !last->next->is_close; n++)
        last = last->next;
    s->head = last->next;
    if (s->head == NULL)
        s->tail = NULL;
    last->next = NULL;
    s->running = job;
    rn_worker_queue(s->worker, &job->req, on_work, on_after_work);
}

/* Appends a job to the FIFO and starts it if the worker is idle. */
static void enqueue(rn_rrd_store_t *s, job_t *job)
{
    if (s->tail)
        s->tail->next = job;
    else
        s->head = job;
    s->tail = job;
    start_next(s);
}

/* Frees the store and everything it still owns. */
static void store_free(rn_rrd_store_t *s)
{
    rn_rrdc_free(s->rrdc);
    rn_rrd_cache_free(&s->cache);
    free(s->close_job);
    free(s->data_dir);
    free(s);
}

/* After the worker stopped: frees the store, then fires the close callback. */
static void on_worker_closed(void *arg)
{
    rn_rrd_store_t *s = arg;
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    store_free(s);
    if (cb)
        cb(data);
}

/* Loop thread, after a job ran: starts the next job, then reports this one. After the close
 * sentinel (always the last job) it stops the worker, frees the store and fires the close
 * callback. */
static void on_after_work(rn_worker_req_t *req)
{
    job_t *job = container_of(req, job_t, req);
    rn_rrd_store_t *s = job->s;
    s->running = NULL;
    if (job->is_close) {
        rn_worker_close(s->worker, on_worker_closed, s);
        return;
    }
    for (job_t *j = job; j; j = j->next)
        s->pending--;
    start_next(s);
    while (job) {
        job_t *next = job->next;
        job->cb(job->data, job->status, &job->result);
        free(job->node_id);
        free(job);
        job = next;
    }
}

/* ---- public API -------------------------------------------------------------------------- */

int rn_rrd_store_new(uv_loop_t *loop, const char *data_dir, rn_rrd_store_t **out)
{
    if (loop == NULL || data_dir == NULL || *data_dir == '\0' || out == NULL)
        return -EINVAL;
    rn_rrd_store_t *s = calloc(1, sizeof *s);
    if (s == NULL || (s->data_dir = strdup(data_dir)) == NULL ||
        (s->close_job = calloc(1, sizeof *s->close_job)) == NULL) {
        if (s)
            store_free(s);
        return -ENOMEM;
    }
    for (size_t n = strlen(s->data_dir); n > 1 && s->data_dir[n - 1] == '/'; n--)
        s->data_dir[n - 1] = '\0';
    int rc = mkdir_p(s->data_dir, true);
    if (rc < 0) {
        rn_error("rrd: cannot create data directory %s: %s", s->data_dir, rn_strerror(rc));
        store_free(s);
        return rc;
    }
    s->loop = loop;
    if ((rc = rn_worker_new(loop, "rn-rrd", &s->worker)) != 0) {
        rn_error("rrd: cannot start its worker thread: %s", rn_strerror(rc));
        store_free(s);
        return rc;
    }
    s->close_job->s = s;
    s->close_job->is_close = true;
    *out = s;
    return 0;
}

int rn_rrd_store_set_rrdcached(rn_rrd_store_t *s, const char *addr)
{
    rn_rrdc_t *c = NULL;
    int rc = addr != NULL ? rn_rrdc_new(addr, &c) : 0;
    if (rc < 0)
        return rc;
    rn_rrdc_free(s->rrdc);
    s->rrdc = c;
    if (c != NULL)
        rn_info("rrd: writing through rrdcached %s (rrdcached %s mode)", addr,
                rn_rrdc_batched(c) ? "batch" : "update");
    return 0;
}

void rn_rrd_store_set_step(rn_rrd_store_t *s, const char *source, uint32_t step_s)
{
    size_t i;
    if (step_s == 0 || source == NULL || strlen(source) >= sizeof s->steps[0].source)
        return;
    for (i = 0; i < s->n_steps; i++)
        if (strcmp(s->steps[i].source, source) == 0)
            break;
    if (i == MAX_SOURCES) {
        rn_warn("rrd: too many sources with their own step; %s keeps the default", source);
        return;
    }
    if (i == s->n_steps) {
        snprintf(s->steps[i].source, sizeof s->steps[i].source, "%s", source);
        s->n_steps++;
    }
    s->steps[i].step = step_s;
}

int rn_rrd_store_write(rn_rrd_store_t *s, const char *node_id, Rn__Frame *batch_frame,
                       rn_rrd_store_cb cb, void *data)
{
    if (s == NULL || s->closing || cb == NULL || batch_frame == NULL ||
        batch_frame->body_case != RN__FRAME__BODY_BATCH || batch_frame->batch == NULL ||
        !node_id_safe(node_id))
        return -EINVAL;
    job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (job->node_id = strdup(node_id)) == NULL) {
        free(job);
        return -ENOMEM;
    }
    job->s = s;
    job->frame = batch_frame;
    job->cb = cb;
    job->data = data;
    memcpy(job->steps, s->steps, sizeof job->steps);
    job->n_steps = s->n_steps;
    s->pending++;
    enqueue(s, job);
    return 0;
}

size_t rn_rrd_store_pending(const rn_rrd_store_t *s)
{
    return s->pending;
}

void rn_rrd_store_close(rn_rrd_store_t *s, void (*cb)(void *data), void *data)
{
    if (s == NULL || s->closing)
        return;
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    enqueue(s, s->close_job);
}
