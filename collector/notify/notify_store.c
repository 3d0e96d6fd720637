/* Notification journal: what the notifier still has to deliver survives a restart.
 *
 * Why a journal and not SQLite: the notifier only ever appends ("notification N is pending",
 * "channel K is done with N") and reads the whole thing back once, at start. An append-only text
 * file with one record per line does that with one write + fdatasync per batch, can be read by
 * an operator (`cat pending.journal`), and a crash can only leave a torn last line, which the
 * reader skips.
 *
 * Format, one record per line:
 *   A <seq> <json>\n      notification seq (its JSON payload, never contains a newline)
 *   D <seq> <key>\n       channel key is done with seq (delivered or dropped)
 * A records appear in increasing seq order. A notification is pending on a channel while the
 * journal has its A record and no D record for that channel's key.
 *
 * How: the loop thread formats lines into a buffer; the jobs run on a serial queue on the libuv
 * thread pool (lib/serial_queue.h: one at a time, in order), and a new append job is made only
 * when none is queued or running, so it takes everything buffered meanwhile: appends are batched
 * under load and applied in order. A rewrite (compaction) writes "<path>.tmp", fsyncs it and
 * renames it over the journal. Only the jobs touch the file; errors are logged on the loop, once
 * per failing streak. */
#include "notify/notify_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "serial_queue.h"

enum { OP_LOAD, OP_APPEND, OP_REWRITE };

typedef struct job {
    rn_serial_job_t sj;         /* the queue's; rn__container_of gives the job back */
    rn__notify_store_t *s;
    int op;
    char *buf;                  /* what to write (owned) */
    size_t len;
    int status;
    rn__notify_record_t *recs;  /* OP_LOAD results */
    size_t n_recs;
    uint64_t max_seq;
} job_t;

struct rn__notify_store {
    uv_loop_t *loop;
    char *dir, *path, *tmp;     /* NULL dir: nothing is written */
    rn_serial_t *q;             /* the jobs, one at a time */
    bool closing, failing;
    char *wbuf;                 /* lines not yet handed to a job */
    size_t wlen, wcap, lines;
    rn__notify_loaded_fn loaded;
    void *ctx;
    void (*close_cb)(void *data);
    void *close_data;
};

static void pump(rn__notify_store_t *s);

/* ---- worker side ----------------------------------------------------------------------------- */

/* mkdir -p dir (mode 0700: alarm texts name the network). Returns 0 or -errno. */
static int mkdir_p(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return -errno;
        if (c == '\0')
            break;
        *p = c;
    }
    return 0;
}

/* Writes all of buf to fd. Returns 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads the whole journal into a new buffer (*len bytes plus a NUL). Missing file: empty.
 * Returns 0 or -errno. */
static int read_all(const char *path, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (!buf)
        return -ENOMEM;
    if (fd < 0) {
        int err = errno;
        *out = buf, *len = 0, buf[0] = '\0';
        return err == ENOENT ? 0 : -err;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf), close(fd);
                return -ENOMEM;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int err = r < 0 ? -errno : 0;
            close(fd);
            buf[n] = '\0';
            *out = buf, *len = n;
            return err;
        }
        n += (size_t)r;
    }
}

/* Replaces the journal with job->buf through a fsync'd temporary file. Returns 0 or -errno. */
static int do_rewrite(rn__notify_store_t *s, job_t *j)
{
    int fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, j->buf ? j->buf : "", j->len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && rename(s->tmp, s->path) < 0)
        rc = -errno;
    int dfd = rc == 0 ? open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return rc;
}

/* Runs one job on the thread pool. */
static void on_work(rn_serial_job_t *sj)
{
    job_t *j = rn__container_of(sj, job_t, sj);
    rn__notify_store_t *s = j->s;
    if (!s->dir)
        return;
    if (j->op == OP_LOAD) {
        char *text = NULL;
        size_t len = 0;
        j->status = mkdir_p(s->dir);
        if (j->status == 0)
            j->status = read_all(s->path, &text, &len);
        if (j->status == 0)
            j->status = rn__notify_journal_parse(text, len, &j->recs, &j->n_recs, &j->max_seq);
        free(text);
    } else if (j->op == OP_APPEND) {
        int fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        j->status = fd < 0 ? -errno : write_all(fd, j->buf, j->len);
        if (fd >= 0 && j->status == 0 && fdatasync(fd) < 0)
            j->status = -errno;
        if (fd >= 0)
            close(fd);
    } else {
        j->status = do_rewrite(s, j);
    }
}

/* ---- loop side ------------------------------------------------------------------------------- */

/* Back on the loop: report, free the job, hand the lines buffered meanwhile to the next. Jobs are
 * never cancelled (status is always 0). */
static void on_work_done(rn_serial_job_t *sj, int status)
{
    (void)status;
    job_t *j = rn__container_of(sj, job_t, sj);
    rn__notify_store_t *s = j->s;
    if (j->status != 0 && !s->failing)
        rn_error("notify: journal %s: %s", s->path, rn_strerror(j->status));
    else if (j->status == 0 && s->failing && j->op != OP_LOAD)
        rn_info("notify: journal %s: writing again", s->path);
    if (j->op != OP_LOAD)
        s->failing = j->status != 0;
    if (j->op == OP_LOAD) {
        s->loaded(s->ctx, j->status, j->recs, j->n_recs, j->max_seq);
        rn__notify_records_free(j->recs, j->n_recs);
    }
    free(j->buf);
    free(j);
    pump(s);
}

/* Queues a job after the others (it cannot be refused: the queue has no bound, and nothing is
 * queued once it is closing). */
static void enqueue(rn__notify_store_t *s, job_t *j)
{
    j->s = s;
    if (rn_serial_queue(s->q, &j->sj, on_work, on_work_done) != 0) {
        free(j->buf);
        free(j);
    }
}

/* Hands the buffered lines to an append job. */
static void flush(rn__notify_store_t *s)
{
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        return; /* the lines stay buffered; the next call tries again */
    j->op = OP_APPEND;
    j->buf = s->wbuf, j->len = s->wlen;
    s->wbuf = NULL, s->wlen = s->wcap = 0;
    enqueue(s, j);
}

/* Flushes the buffered lines when no job is queued or running; else the job that ends last
 * (on_work_done) does, so one append takes every line buffered while it waited. */
static void pump(rn__notify_store_t *s)
{
    if (s->wlen > 0 && !s->closing && !rn_serial_busy(s->q) && rn_serial_waiting(s->q) == 0)
        flush(s);
}

int rn__notify_store_open(uv_loop_t *loop, const char *dir, rn__notify_loaded_fn loaded, void *ctx,
                          rn__notify_store_t **out)
{
    rn__notify_store_t *s = calloc(1, sizeof *s);
    job_t *j = calloc(1, sizeof *j);
    if (s && rn_serial_new(loop, 0, &s->q) != 0)
        s->q = NULL;
    if (s && dir) {
        s->dir = strdup(dir);
        if (asprintf(&s->path, "%s/pending.journal", dir) < 0)
            s->path = NULL;
        if (asprintf(&s->tmp, "%s/pending.journal.tmp", dir) < 0)
            s->tmp = NULL;
    }
    if (!s || !j || !s->q || (dir && (!s->dir || !s->path || !s->tmp))) {
        if (s && s->q)
            rn_serial_close(s->q, NULL, NULL);
        if (s)
            free(s->dir), free(s->path), free(s->tmp);
        free(s), free(j);
        return -ENOMEM;
    }
    s->loop = loop;
    s->loaded = loaded, s->ctx = ctx;
    j->op = OP_LOAD;
    enqueue(s, j);
    *out = s;
    return 0;
}

/* Appends one formatted line to the buffer. Returns 0 or -ENOMEM. */
static int buffer_line(rn__notify_store_t *s, const char *tag, uint64_t seq, const char *rest)
{
    if (!s->dir)
        return 0;
    size_t need = strlen(rest) + 32;
    if (s->wlen + need > s->wcap) {
        size_t cap = s->wcap ? s->wcap * 2 : 4096;
        while (cap < s->wlen + need)
            cap *= 2;
        char *nb = realloc(s->wbuf, cap);
        if (!nb)
            return -ENOMEM;
        s->wbuf = nb, s->wcap = cap;
    }
    s->wlen += (size_t)snprintf(s->wbuf + s->wlen, s->wcap - s->wlen, "%s %" PRIu64 " %s\n", tag,
                                seq, rest);
    s->lines++;
    pump(s);
    return 0;
}

int rn__notify_store_add(rn__notify_store_t *s, uint64_t seq, const char *json)
{
    return buffer_line(s, "A", seq, json);
}

int rn__notify_store_done(rn__notify_store_t *s, uint64_t seq, const char *key)
{
    return buffer_line(s, "D", seq, key);
}

void rn__notify_store_rewrite(rn__notify_store_t *s, char *snapshot)
{
    job_t *j = s->dir ? calloc(1, sizeof *j) : NULL;
    if (!j) { /* no persistence, or no memory: the journal just stays longer */
        free(snapshot);
        return;
    }
    free(s->wbuf);
    s->wbuf = NULL, s->wlen = s->wcap = 0;
    j->op = OP_REWRITE;
    j->buf = snapshot, j->len = snapshot ? strlen(snapshot) : 0;
    s->lines = 0;
    for (const char *p = snapshot; p && (p = strchr(p, '\n')); p++)
        s->lines++;
    enqueue(s, j);
}

size_t rn__notify_store_lines(const rn__notify_store_t *s)
{
    return s->lines;
}

/* The queue is closed: every job ran. Frees s, then calls its close callback. */
static void on_queue_closed(void *data)
{
    rn__notify_store_t *s = data;
    void (*cb)(void *) = s->close_cb;
    void *cb_data = s->close_data;
    free(s->wbuf), free(s->dir), free(s->path), free(s->tmp), free(s);
    cb(cb_data);
}

void rn__notify_store_close(rn__notify_store_t *s, void (*cb)(void *data), void *data)
{
    s->close_cb = cb, s->close_data = data;
    if (s->wlen > 0)
        flush(s); /* the last lines, after every job queued before */
    s->closing = true;
    rn_serial_close(s->q, on_queue_closed, s);
}

/* ---- parsing --------------------------------------------------------------------------------- */

/* Returns the record with seq (binary search over the increasing seqs), or NULL. */
static rn__notify_record_t *find_rec(rn__notify_record_t *recs, size_t n, uint64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (recs[mid].seq == seq)
            return &recs[mid];
        if (recs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Applies one complete line (NUL-terminated, without its newline). Returns 0 or -ENOMEM;
 * malformed lines are ignored. */
static int parse_line(char *line, rn__notify_record_t **recs, size_t *n, size_t *cap,
                      uint64_t *max_seq)
{
    char *end;
    if ((line[0] != 'A' && line[0] != 'D') || line[1] != ' ')
        return 0;
    unsigned long long seq = strtoull(line + 2, &end, 10);
    if (end == line + 2 || *end != ' ' || seq == 0)
        return 0;
    const char *rest = end + 1;
    if (line[0] == 'D') {
        rn__notify_record_t *r = find_rec(*recs, *n, seq);
        if (!r)
            return 0;
        char **nd = realloc(r->done, (r->n_done + 1) * sizeof *nd);
        if (!nd)
            return -ENOMEM;
        r->done = nd;
        if (!(nd[r->n_done] = strdup(rest)))
            return -ENOMEM;
        r->n_done++;
        return 0;
    }
    if (*n && (*recs)[*n - 1].seq >= seq)
        return 0; /* out of order: not something we wrote */
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        rn__notify_record_t *nr = realloc(*recs, nc * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        *recs = nr, *cap = nc;
    }
    rn__notify_record_t *r = &(*recs)[*n];
    memset(r, 0, sizeof *r);
    r->seq = seq;
    if (!(r->json = strdup(rest)))
        return -ENOMEM;
    (*n)++;
    if (seq > *max_seq)
        *max_seq = seq;
    return 0;
}

int rn__notify_journal_parse(const char *text, size_t len, rn__notify_record_t **recs,
                             size_t *n_recs, uint64_t *max_seq)
{
    size_t n = 0, cap = 0;
    rn__notify_record_t *r = NULL;
    int rc = 0;
    *max_seq = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        if (!nl)
            break; /* a torn last line */
        size_t ll = (size_t)(nl - (text + pos));
        char *line = malloc(ll + 1);
        if (!line) {
            rc = -ENOMEM;
            break;
        }
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        if (memchr(line, '\0', ll) == NULL)
            rc = parse_line(line, &r, &n, &cap, max_seq);
        free(line);
        pos += ll + 1;
    }
    if (rc != 0) {
        rn__notify_records_free(r, n);
        return rc;
    }
    *recs = r, *n_recs = n;
    return 0;
}

void rn__notify_records_free(rn__notify_record_t *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(recs[i].json);
        for (size_t k = 0; k < recs[i].n_done; k++)
            free(recs[i].done[k]);
        free(recs[i].done);
    }
    free(recs);
}
