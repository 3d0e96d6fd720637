/* The disk spool (see spool.h for the record format and the contract).
 *
 * Why segments: the collector acks cumulatively, so what is trimmed is always the oldest data;
 * keeping it in files of a few MiB lets a trim be an unlink, never a rewrite, and a file is only
 * ever appended to, so a crash can damage at most the record being written at its end.
 *
 * How it is split between threads: the loop thread owns the queue of pending operations and a
 * snapshot of the counters. The worker side (the segment index, the open file, the replay cursor
 * and the counters) is touched by one uv_queue_work item at a time, which takes the whole pending
 * queue as its batch and runs it in order; the loop reads the worker side only in the after-work
 * callback, when no item runs. Because one item takes many appends, "always" fsyncs once per
 * batch (group commit) before any append of the batch is reported: each record is still fsync'd
 * before its callback says it is stored.
 *
 * Opening scans every record once (CRC included), so the index knows each segment's first and
 * last seq, record count and size; reads then never trust more of a file than the scan did. A
 * file that goes on past what the scan trusted is sealed, never appended to: O_APPEND would put
 * the next record after the unreadable bytes, where no read would look for it. A clean close
 * saves the in-memory index to dir/index (agent/spool_file.c) so that a restart, or a reload that
 * reopens the spool, does not read the whole spool again.
 *
 * Time: segment ages are kept on the monotonic clock (written_ns), never compared with the wall
 * clock while running, so a clock step cannot age anything. Ages cross a clean restart in the
 * index; after a crash they come from the mtimes relative to the newest segment.
 *
 * A full disk: the oldest segments go first (make_room), as spool_max_mb does, and the trouble
 * is reported by `complain`: the first event at once, then one line per RN_SPOOL_COMPLAIN_S with
 * the counts, and one when writes have gone through for that long again. */
#include "spool.h"
#include "spool_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define NS_PER_S 1000000000ll

/* Write trouble (a full disk, I/O errors, failed fsyncs) waiting to be logged. */
typedef struct {
    bool active, logged;
    int err;                                  /* the last error */
    rn_mono_ns_t since_ns, last_log_ns, last_event_ns;
    uint64_t failed, dropped, unsynced;       /* since the last line */
    uint64_t total_failed, total_dropped;     /* since the trouble began */
    uint64_t drop_first, drop_last;           /* seqs dropped since the last line */
} complain_t;

typedef enum { OP_APPEND, OP_ACK, OP_READ, OP_SYNC, OP_CLOSE } op_kind_t;

typedef struct op {
    struct op *next;
    op_kind_t kind;
    uint64_t seq;               /* append: its seq; ack: acked seq; read: read after this */
    uint8_t *payload;           /* append: owned until written */
    size_t len;                 /* append: payload bytes; read: byte budget */
    rn_spool_append_cb append_cb;
    rn_spool_read_cb read_cb;
    void *data;
    int status;
    bool cancelled;
    rn_spool_record_t *recs;    /* read result */
    size_t n_recs;
} op_t;

typedef struct {
    uint64_t first, last, n, bytes;
    const char *why;
} drop_t;

typedef struct {
    bool valid;
    uint64_t seg, offset, last_seq; /* segment name, offset after the record last_seq */
} cursor_t;

struct rn_spool {
    uv_loop_t *loop;
    char *dir;
    rn_spool_config_t cfg;
    rn_spool_drop_fn drop;
    void *ctx;
    int lock_fd;
    /* loop side */
    uint64_t last_seq;
    op_t *pend_head, *pend_tail;
    uv_work_t work;
    uv_timer_t sync_timer;
    bool busy, closing, sync_queued;
    void (*close_cb)(void *);
    void *close_data;
    rn_spool_stats_t snap;
    /* worker side */
    op_t *batch;
    rn_mono_ns_t batch_now_ns;
    bool close_pass;            /* the batch holds OP_CLOSE: write the index after it */
    uint64_t seg_bytes;         /* segment size in use: cfg.segment_bytes, less on a small disk */
    uint64_t unsynced_n;        /* records written since the last fsync */
    complain_t trouble;
    rn_spool_segs_t segs;       /* segments, oldest first (agent/spool_file.h) */
    int wfd;                    /* the last segment, open for appending, or -1 */
    bool dirty;                 /* written since the last fsync */
    rn_mono_ns_t last_sync_ns;
    uint64_t acked_seq;
    cursor_t cursor;            /* where the last read stopped */
    rn_spool_reader_t rd;
    uint64_t rd_seg;            /* which segment rd.fd has open (when rd.fd >= 0) */
    rn_spool_stats_t w;         /* counters */
    drop_t *drops;
    size_t n_drops, cap_drops;
};

/* ---- segments ---------------------------------------------------------------------------- */

/* Closes the append file if segment i has it open. */
static void seg_close_append(rn_spool_t *s, size_t i)
{
    if (i == s->segs.n - 1 && s->wfd >= 0) {
        close(s->wfd);
        s->wfd = -1;
        s->dirty = false;
    }
}

/* Unlinks segment i and removes it from the index (closing the append file if it is the last). */
static void seg_delete(rn_spool_t *s, size_t i)
{
    char path[4096];
    rn__spool_seg_path(s->dir, s->segs.v[i].name, path, sizeof path);
    seg_close_append(s, i);
    if (s->rd.fd >= 0 && s->rd_seg == s->segs.v[i].name) {
        close(s->rd.fd);
        s->rd.fd = -1;
    }
    if (s->cursor.valid && s->cursor.seg == s->segs.v[i].name)
        s->cursor.valid = false;
    if (unlink(path) != 0 && errno != ENOENT)
        rn_error("spool %s: cannot remove: %s", path, rn_strerror(-errno));
    memmove(&s->segs.v[i], &s->segs.v[i + 1], (s->segs.n - i - 1) * sizeof *s->segs.v);
    s->segs.n--;
}

/* Seals segment i: nothing is appended to it again (the next record starts a new segment). */
static void seg_seal(rn_spool_t *s, size_t i)
{
    s->segs.v[i].sealed = true;
    seg_close_append(s, i);
}

static void complain_dropped(rn_spool_t *s, uint64_t n, uint64_t first, uint64_t last);

/* Removes the oldest segment to respect a limit or make room on a full disk, counting the records
 * in it that were never acked (exact when seqs are consecutive) and queueing a report for the
 * loop thread. A limit logs each drop; disk-full drops go to the rate-limited complaint. */
static void seg_drop_oldest(rn_spool_t *s, const char *why)
{
    rn_spool_seg_t g = s->segs.v[0];
    uint64_t from = g.first_seq > s->acked_seq ? g.first_seq : s->acked_seq + 1;
    uint64_t n = g.last_seq >= from ? g.last_seq - from + 1 : 0;
    if (n > g.n_records)
        n = g.n_records;
    seg_delete(s, 0);
    if (n == 0)
        return;
    s->w.dropped_records += n;
    s->w.dropped_bytes += g.bytes;
    if (strcmp(why, "disk_full") == 0)
        complain_dropped(s, n, from, g.last_seq);
    else
        rn_warn("spool %s: %s exceeded: dropped %" PRIu64 " unacked records, seq %" PRIu64
                "..%" PRIu64 " (%" PRIu64 " dropped so far)", s->dir, why, n, from, g.last_seq,
                s->w.dropped_records);
    if (s->n_drops == s->cap_drops) {
        size_t cap = s->cap_drops ? s->cap_drops * 2 : 4;
        drop_t *d = realloc(s->drops, cap * sizeof *d);
        if (!d)
            return; /* counted and logged; only the callback is missed */
        s->drops = d;
        s->cap_drops = cap;
    }
    s->drops[s->n_drops++] = (drop_t){ from, g.last_seq, n, g.bytes, why };
}

/* Applies max_bytes (never removing the last segment) and max_age_s at monotonic time now. */
static void enforce_limits(rn_spool_t *s, rn_mono_ns_t now)
{
    uint64_t total = 0;
    for (size_t i = 0; i < s->segs.n; i++)
        total += s->segs.v[i].bytes;
    while (s->segs.n > 1 && total > s->cfg.max_bytes) {
        total -= s->segs.v[0].bytes;
        seg_drop_oldest(s, "max_bytes");
    }
    while (s->segs.n > 0 &&
           (int64_t)now - s->segs.v[0].written_ns > (int64_t)s->cfg.max_age_s * NS_PER_S)
        seg_drop_oldest(s, "max_age");
}

/* Fills in defaults and checks the configuration. Returns 0 or -EINVAL with a reason in err. */
static int check_config(rn_spool_config_t *c, char *err, size_t err_len)
{
    if (!c->segment_bytes)
        c->segment_bytes = RN_SPOOL_DEFAULT_SEGMENT_BYTES;
    if (!c->max_bytes)
        c->max_bytes = RN_SPOOL_DEFAULT_MAX_BYTES;
    if (!c->max_age_s)
        c->max_age_s = RN_SPOOL_DEFAULT_MAX_AGE_S;
    if (!c->fsync_interval_ms)
        c->fsync_interval_ms = RN_SPOOL_DEFAULT_FSYNC_INTERVAL_MS;
    if (c->fsync > RN_SPOOL_FSYNC_NEVER) {
        snprintf(err, err_len, "spool: unknown fsync policy %d", (int)c->fsync);
        return -EINVAL;
    }
    if (c->max_bytes < 2 * c->segment_bytes) {
        snprintf(err, err_len, "spool: max_bytes %" PRIu64 " is under twice segment_bytes %" PRIu64,
                 c->max_bytes, c->segment_bytes);
        return -EINVAL;
    }
    return 0;
}

/* Creates dir if missing and takes an exclusive lock on dir/lock, so two agents never share a
 * spool. Returns the lock's fd or a negative errno. */
static int lock_dir(const char *dir)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return -errno;
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static void spool_free(rn_spool_t *s)
{
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->rd.fd >= 0)
        close(s->rd.fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->rd.buf);
    free(s->segs.v);
    free(s->drops);
    free(s->dir);
    free(s);
}

static void snapshot(rn_spool_t *s);

/* Sets the segment size in use: segment_bytes, or a sixteenth of a small filesystem (at least
 * RN_SPOOL_MIN_SEGMENT_BYTES), so that making room on a full disk drops a small share of the
 * spool, not all of it. */
static void size_segments(rn_spool_t *s)
{
    struct statvfs v;
    s->seg_bytes = s->cfg.segment_bytes;
    if (statvfs(s->dir, &v) != 0)
        return;
    uint64_t cap = (uint64_t)v.f_blocks * v.f_frsize / 16;
    cap = cap < RN_SPOOL_MIN_SEGMENT_BYTES ? RN_SPOOL_MIN_SEGMENT_BYTES : cap;
    if (cap < s->seg_bytes) {
        s->seg_bytes = cap;
        rn_info("spool %s: a small filesystem (%" PRIu64 " KiB): segments of %" PRIu64 " KiB",
                s->dir, (uint64_t)v.f_blocks * v.f_frsize >> 10, cap >> 10);
    }
}

int rn_spool_open(uv_loop_t *loop, const char *dir, const rn_spool_config_t *cfg,
                  rn_spool_drop_fn drop, void *ctx, rn_spool_t **out, char *err, size_t err_len)
{
    rn_spool_t *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        return snprintf(err, err_len, "spool %s: out of memory", dir), -ENOMEM;
    }
    s->loop = loop, s->drop = drop, s->ctx = ctx;
    s->segs.dir = s->dir;
    s->wfd = s->rd.fd = s->lock_fd = -1;
    if (cfg)
        s->cfg = *cfg;
    int rc = check_config(&s->cfg, err, err_len);
    if (rc == 0) {
        s->lock_fd = lock_dir(dir);
        rc = s->lock_fd < 0 ? s->lock_fd : 0;
        if (rc)
            snprintf(err, err_len, "spool %s: cannot lock: %s%s", dir, rn_strerror(rc),
                     rc == -EBUSY ? " (another agent uses it)" : "");
    }
    if (rc == 0)
        rc = rn__spool_load(&s->segs, &s->rd, &s->w, err, err_len);
    if (rc) {
        spool_free(s);
        return rc;
    }
    size_segments(s);
    enforce_limits(s, rn_clock_mono_ns());
    s->n_drops = 0; /* counted and logged; the drop callback reports only drops after open */
    s->last_seq = s->segs.n ? s->segs.v[s->segs.n - 1].last_seq : 0;
    s->w.written_seq = s->w.synced_seq = s->last_seq;
    s->last_sync_ns = rn_clock_mono_ns();
    uv_timer_init(loop, &s->sync_timer);
    snapshot(s);
    rn_info("spool %s: %" PRIu64 " records in %" PRIu64 " segments (%" PRIu64 " bytes), seq %"
            PRIu64 "..%" PRIu64, dir, s->snap.records, s->snap.segments, s->snap.bytes,
            s->snap.first_seq, s->snap.last_seq);
    *out = s;
    return 0;
}

/* ---- worker ------------------------------------------------------------------------------ */

/* ---- write trouble, rate-limited ---------------------------------------------------------- */

/* Starts or continues a spell of write trouble with error err. */
static complain_t *trouble(rn_spool_t *s, int err)
{
    complain_t *c = &s->trouble;
    rn_mono_ns_t now = rn_clock_mono_ns();
    if (!c->active)
        *c = (complain_t){ .active = true, .since_ns = now };
    c->err = err;
    c->last_event_ns = now;
    return c;
}

static void complain_dropped(rn_spool_t *s, uint64_t n, uint64_t first, uint64_t last)
{
    complain_t *c = trouble(s, -ENOSPC);
    if (!c->dropped)
        c->drop_first = first;
    c->drop_last = last;
    c->dropped += n;
    c->total_dropped += n;
}

/* Logs the trouble of the spell under way: the first event at once, then at most one line per
 * RN_SPOOL_COMPLAIN_S with what happened since the line before (at once with force: closing);
 * and one line when writes have gone through for RN_SPOOL_COMPLAIN_S. Returns nothing. */
static void complain(rn_spool_t *s, bool force)
{
    complain_t *c = &s->trouble;
    rn_mono_ns_t now = rn_clock_mono_ns(), period = RN_SPOOL_COMPLAIN_S * (rn_mono_ns_t)NS_PER_S;
    if (!c->active)
        return;
    if ((c->failed || c->dropped || c->unsynced) &&
        (!c->logged || now - c->last_log_ns >= period || force)) {
        char what[3][96] = { "", "", "" };
        if (c->failed)
            snprintf(what[0], sizeof what[0], ", %" PRIu64 " records not stored", c->failed);
        if (c->dropped)
            snprintf(what[1], sizeof what[1], ", %" PRIu64 " oldest unacked records dropped to "
                     "make room (seq %" PRIu64 "..%" PRIu64 ")", c->dropped, c->drop_first,
                     c->drop_last);
        if (c->unsynced)
            snprintf(what[2], sizeof what[2], ", %" PRIu64 " records kept though their fsync "
                     "failed", c->unsynced);
        rn_error("spool %s: %s%s%s%s in %.0f s (next report in %d s at the earliest)", s->dir,
                 rn_strerror(c->err), what[0], what[1], what[2],
                 (double)(now - (c->logged ? c->last_log_ns : c->since_ns)) / 1e9,
                 RN_SPOOL_COMPLAIN_S);
        c->logged = true;
        c->last_log_ns = now;
        c->failed = c->dropped = c->unsynced = 0;
    }
    if (now - c->last_event_ns >= period) {
        rn_warn("spool %s: writing normally again after %.0f s of trouble: %" PRIu64
                " records not stored and %" PRIu64 " dropped to make room in all", s->dir,
                (double)(c->last_event_ns - c->since_ns) / 1e9, c->total_failed,
                c->total_dropped);
        c->active = false;
    }
}

/* fsyncs the segment being written. Returns 0 or a negative errno. A failure is counted and
 * reported with the write trouble; the records stay in the spool (they are readable and will be
 * sent, only not known to be on the disk), and the segment is sealed: after a failed fsync the
 * kernel may report the next one clean though the data never made it, so the records after
 * these go to a fresh file. */
static int do_sync(rn_spool_t *s)
{
    if (!s->dirty || s->wfd < 0)
        return 0;
    if (fdatasync(s->wfd) != 0) {
        int rc = -errno;
        s->w.sync_errors++;
        s->w.unsynced_records += s->unsynced_n;
        trouble(s, rc)->unsynced += s->unsynced_n;
        s->unsynced_n = 0;
        seg_seal(s, s->segs.n - 1);
        return rc;
    }
    s->dirty = false;
    s->unsynced_n = 0;
    s->w.synced_seq = s->w.written_seq;
    s->last_sync_ns = rn_clock_mono_ns();
    return 0;
}

/* Makes the last segment ready for a record of rec bytes with this seq: opens it for appending,
 * or starts a new one when there is none or the record would pass segment_bytes. */
static int prepare_segment(rn_spool_t *s, uint64_t seq, size_t rec)
{
    rn_spool_seg_t *last = s->segs.n ? &s->segs.v[s->segs.n - 1] : NULL;
    char path[4096];
    struct stat st;
    if (last && last->sealed && last->n_records == 0)
        seg_delete(s, s->segs.n - 1), last = NULL; /* an empty file: its name is taken again */
    if (last && !last->sealed && (last->bytes == 0 || last->bytes + rec <= s->seg_bytes)) {
        if (s->wfd >= 0)
            return 0;
        rn__spool_seg_path(s->dir, last->name, path, sizeof path);
        s->wfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (s->wfd < 0)
            return -errno;
        if (fstat(s->wfd, &st) == 0 && (uint64_t)st.st_size == last->bytes)
            return 0;
        rn_warn("spool %s: goes on past its last readable record; sealed", path);
        seg_seal(s, s->segs.n - 1); /* O_APPEND would write where no read looks */
    }
    if (s->cfg.fsync != RN_SPOOL_FSYNC_NEVER)
        do_sync(s);
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = -1;
    s->dirty = false;
    rn__spool_seg_path(s->dir, seq, path, sizeof path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    rn_spool_seg_t *g = rn__spool_seg_push(&s->segs, seq);
    if (!g) {
        close(fd);
        unlink(path);
        return -ENOMEM;
    }
    g->written_ns = (int64_t)s->batch_now_ns;
    s->wfd = fd;
    if (s->cfg.fsync == RN_SPOOL_FSYNC_ALWAYS) { /* make the new name itself durable */
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            fsync(dfd), close(dfd);
    }
    return 0;
}

/* Writes one record at the end of the last segment. Returns 0 or a negative errno; on failure
 * the segment is cut back to its last whole record (or sealed if it cannot be), so a failed
 * append leaves nothing behind. */
static int write_record(rn_spool_t *s, op_t *op)
{
    uint8_t hdr[RN_SPOOL_RECORD_HEADER];
    size_t rec = RN_SPOOL_RECORD_HEADER + op->len;
    int rc = prepare_segment(s, op->seq, rec);
    if (rc)
        return rc;
    rn_spool_seg_t *g = &s->segs.v[s->segs.n - 1];
    rn__spool_record_header(hdr, op->seq, op->payload, op->len);
    struct iovec iov[2] = { { hdr, sizeof hdr }, { op->payload, op->len } };
    ssize_t n;
    while ((n = writev(s->wfd, iov, 2)) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)rec) {
        if (g->n_records++ == 0)
            g->first_seq = op->seq;
        g->last_seq = op->seq;
        g->bytes += rec;
        g->written_ns = (int64_t)s->batch_now_ns;
        s->dirty = true;
        s->unsynced_n++;
        s->w.written_seq = op->seq;
        return 0;
    }
    rc = n < 0 ? -errno : -ENOSPC;
    s->rd.n = 0; /* the reader may hold the bytes being cut */
    if (ftruncate(s->wfd, (off_t)g->bytes) != 0) {
        rn_error("spool %s: cannot cut a failed append: %s", s->dir, rn_strerror(-errno));
        seg_seal(s, s->segs.n - 1);
    }
    return rc;
}

/* Makes room on a full disk by dropping the oldest segment (the newest batches matter more),
 * unless all that is left is the empty segment being written. Returns true if one went. */
static bool make_room(rn_spool_t *s)
{
    if (s->segs.n == 0 || (s->segs.n == 1 && s->segs.v[0].n_records == 0))
        return false;
    seg_drop_oldest(s, "disk_full");
    return true;
}

/* Stores one record, dropping the oldest segments while the disk is full. */
static void do_append(rn_spool_t *s, op_t *op)
{
    int rc;
    while ((rc = write_record(s, op)) == -ENOSPC || rc == -EDQUOT) {
        s->w.disk_full++;
        if (!make_room(s))
            break;
    }
    if (rc) {
        s->w.write_errors++;
        complain_t *c = trouble(s, rc);
        c->failed++;
        c->total_failed++;
    }
    op->status = rc;
    free(op->payload);
    op->payload = NULL;
}

static void do_ack(rn_spool_t *s, uint64_t seq)
{
    if (seq > s->acked_seq)
        s->acked_seq = seq;
    while (s->segs.n > 0 && s->segs.v[0].n_records > 0 && s->segs.v[0].last_seq <= seq)
        seg_delete(s, 0);
}

/* Opens segment g for reading in the shared reader (dropping what the buffer held). */
static int reader_open(rn_spool_t *s, const rn_spool_seg_t *g)
{
    if (s->rd.fd >= 0 && s->rd_seg == g->name)
        return 0;
    if (s->rd.fd >= 0)
        close(s->rd.fd);
    char path[4096];
    rn__spool_seg_path(s->dir, g->name, path, sizeof path);
    s->rd.fd = open(path, O_RDONLY | O_CLOEXEC);
    s->rd.n = 0;
    s->rd_seg = g->name;
    return s->rd.fd >= 0 ? 0 : -errno;
}

/* Adds a copy of one record to a read result. Returns 0 or -ENOMEM. */
static int read_keep(op_t *op, size_t *cap, uint64_t seq, const uint8_t *p, size_t len)
{
    if (op->n_recs == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        rn_spool_record_t *g = realloc(op->recs, c * sizeof *g);
        if (!g)
            return -ENOMEM;
        op->recs = g;
        *cap = c;
    }
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        return -ENOMEM;
    memcpy(d, p, len);
    op->recs[op->n_recs++] = (rn_spool_record_t){ seq, d, len };
    return 0;
}

/* Collects records with seq > op->seq until op->len payload bytes, segment by segment, resuming
 * at the cursor when the read continues the previous one. An unreadable record ends its segment
 * (counted, logged); the read goes on with the next. */
static void do_read(rn_spool_t *s, op_t *op)
{
    size_t cap = 0, bytes = 0;
    uint64_t after = op->seq;
    for (size_t i = 0; i < s->segs.n && (op->n_recs == 0 || bytes < op->len); i++) {
        rn_spool_seg_t *g = &s->segs.v[i];
        if (g->n_records == 0 || g->last_seq <= after)
            continue;
        if ((op->status = reader_open(s, g)) != 0) {
            rn_error("spool %s: cannot read segment %" PRIu64 ": %s", s->dir, g->name,
                     rn_strerror(op->status));
            return;
        }
        bool resume = s->cursor.valid && s->cursor.seg == g->name &&
                      s->cursor.last_seq == after;
        uint64_t off = resume ? s->cursor.offset : 0, seq, prev = resume ? after : 0;
        const uint8_t *p;
        size_t len;
        int got = 0;
        while ((op->n_recs == 0 || bytes < op->len) &&
               (got = rn__spool_record_at(&s->rd, off, g->bytes, prev, &seq, &p, &len)) == 1) {
            off += RN_SPOOL_RECORD_HEADER + len;
            prev = seq;
            if (seq <= after)
                continue;
            if ((op->status = read_keep(op, &cap, seq, p, len)) != 0)
                return;
            bytes += len;
            after = seq;
            s->cursor = (cursor_t){ true, g->name, off, seq };
        }
        if (got < 0) {
            s->w.corrupt_segments++;
            s->w.corrupt_bytes += g->bytes - off;
            rn_error("spool %s: segment %" PRIu64 " unreadable at offset %" PRIu64
                     "; rest skipped", s->dir, g->name, off);
            g->bytes = off; /* never read past it again, nor append after it */
            seg_seal(s, i);
        }
    }
}

/* Runs one batch of operations in order, then applies the fsync policy and the limits. */
static void on_work(uv_work_t *w)
{
    rn_spool_t *s = container_of(w, rn_spool_t, work);
    bool appended = false;
    for (op_t *op = s->batch; op; op = op->next) {
        switch (op->kind) {
        case OP_APPEND: do_append(s, op); appended = true; break;
        case OP_ACK: do_ack(s, op->seq); break;
        case OP_READ: if (!op->cancelled) do_read(s, op); break;
        case OP_SYNC: do_sync(s); break;
        case OP_CLOSE:
            if (s->cfg.fsync != RN_SPOOL_FSYNC_NEVER)
                do_sync(s);
            s->close_pass = true;
            break;
        }
    }
    /* a failed fsync leaves the appends' status 0: their records are in the spool (do_sync) */
    if (s->cfg.fsync == RN_SPOOL_FSYNC_ALWAYS && s->dirty)
        do_sync(s);
    else if (s->cfg.fsync == RN_SPOOL_FSYNC_INTERVAL && s->dirty &&
             rn_clock_mono_ns() - s->last_sync_ns >= s->cfg.fsync_interval_ms * 1000000ull)
        do_sync(s);
    if (appended)
        enforce_limits(s, s->batch_now_ns);
    complain(s, s->close_pass);
    int rc = s->close_pass ? rn__spool_index_write(&s->segs, s->cfg.fsync != RN_SPOOL_FSYNC_NEVER) : 0;
    if (rc)
        rn_warn("spool %s: cannot write the index: %s; the next open scans the segments",
                s->dir, rn_strerror(rc));
}

/* ---- loop side --------------------------------------------------------------------------- */

/* Copies the worker's index and counters into the snapshot (only while no work runs). */
static void snapshot(rn_spool_t *s)
{
    rn_spool_stats_t st = s->w;
    st.segments = s->segs.n;
    st.segment_bytes = s->seg_bytes;
    st.records = st.bytes = st.first_seq = st.last_seq = 0;
    for (size_t i = 0; i < s->segs.n; i++) {
        st.records += s->segs.v[i].n_records;
        st.bytes += s->segs.v[i].bytes;
    }
    for (size_t i = 0; i < s->segs.n && !st.first_seq; i++)
        st.first_seq = s->segs.v[i].n_records ? s->segs.v[i].first_seq : 0;
    for (size_t i = s->segs.n; i > 0 && !st.last_seq; i--)
        st.last_seq = s->segs.v[i - 1].n_records ? s->segs.v[i - 1].last_seq : 0;
    s->snap = st;
}

static void on_work_done(uv_work_t *w, int status);

/* Starts a worker pass over everything queued, unless one runs. */
static void kick(rn_spool_t *s)
{
    if (s->busy || !s->pend_head)
        return;
    s->batch = s->pend_head;
    s->pend_head = s->pend_tail = NULL;
    s->batch_now_ns = rn_clock_mono_ns();
    s->busy = true;
    uv_queue_work(s->loop, &s->work, on_work, on_work_done);
}

/* Queues op and starts the worker if idle. */
static void enqueue(rn_spool_t *s, op_t *op)
{
    if (s->pend_tail)
        s->pend_tail->next = op;
    else
        s->pend_head = op;
    s->pend_tail = op;
    kick(s);
}

static op_t *op_new(op_kind_t kind, uint64_t seq)
{
    op_t *op = calloc(1, sizeof *op);
    if (op)
        op->kind = kind, op->seq = seq;
    return op;
}

static void on_sync_timer(uv_timer_t *t)
{
    rn_spool_t *s = container_of(t, rn_spool_t, sync_timer);
    op_t *op = s->closing || s->sync_queued ? NULL : op_new(OP_SYNC, 0);
    if (op)
        s->sync_queued = true, enqueue(s, op);
}

static void on_timer_closed(uv_handle_t *h)
{
    rn_spool_t *s = container_of((uv_timer_t *)h, rn_spool_t, sync_timer);
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    spool_free(s);
    if (cb)
        cb(data);
}

/* Reports a finished batch: callbacks in order, then drops; arms the interval fsync; continues
 * with what was queued meanwhile, or finishes closing. */
static void on_work_done(uv_work_t *w, int status)
{
    rn_spool_t *s = container_of(w, rn_spool_t, work);
    op_t *op = s->batch;
    s->batch = NULL;
    s->busy = false;
    snapshot(s);
    while (op) {
        op_t *next = op->next;
        if (op->kind == OP_SYNC)
            s->sync_queued = false;
        if (op->kind == OP_APPEND && op->append_cb)
            op->append_cb(op->data, op->seq, op->status);
        if (op->kind == OP_READ)
            op->read_cb(op->data, op->cancelled ? -ECANCELED : op->status, op->recs, op->n_recs);
        free(op->recs);
        free(op);
        op = next;
    }
    for (size_t i = 0; i < s->n_drops; i++)
        if (s->drop)
            s->drop(s->ctx, s->drops[i].first, s->drops[i].last, s->drops[i].n,
                    s->drops[i].bytes, s->drops[i].why);
    s->n_drops = 0;
    if (s->dirty && s->cfg.fsync == RN_SPOOL_FSYNC_INTERVAL && !s->closing &&
        !uv_is_active((uv_handle_t *)&s->sync_timer))
        uv_timer_start(&s->sync_timer, on_sync_timer, s->cfg.fsync_interval_ms, 0);
    kick(s);
    if (s->closing && !s->busy && !uv_is_closing((uv_handle_t *)&s->sync_timer))
        uv_close((uv_handle_t *)&s->sync_timer, on_timer_closed);
}

uint64_t rn_spool_last_seq(const rn_spool_t *s)
{
    return s->last_seq;
}

int rn_spool_append(rn_spool_t *s, uint64_t seq, uint8_t *payload, size_t len,
                    rn_spool_append_cb cb, void *data)
{
    int rc = s->closing ? -ESHUTDOWN : seq <= s->last_seq ? -EINVAL
           : len > RN_SPOOL_MAX_RECORD ? RN_ETOOBIG : 0;
    op_t *op = rc ? NULL : op_new(OP_APPEND, seq);
    if (!op) {
        free(payload);
        return rc ? rc : -ENOMEM;
    }
    op->payload = payload;
    op->len = len;
    op->append_cb = cb;
    op->data = data;
    s->last_seq = seq;
    enqueue(s, op);
    return 0;
}

void rn_spool_ack(rn_spool_t *s, uint64_t seq)
{
    op_t *op = s->closing ? NULL : op_new(OP_ACK, seq);
    if (op)
        enqueue(s, op);
}

int rn_spool_read(rn_spool_t *s, uint64_t after_seq, size_t max_bytes, rn_spool_read_cb cb,
                  void *data)
{
    if (s->closing)
        return -ESHUTDOWN;
    op_t *op = op_new(OP_READ, after_seq);
    if (!op)
        return -ENOMEM;
    op->len = max_bytes;
    op->read_cb = cb;
    op->data = data;
    enqueue(s, op);
    return 0;
}

void rn_spool_stats(const rn_spool_t *s, rn_spool_stats_t *out)
{
    *out = s->snap;
}

void rn_spool_close(rn_spool_t *s, void (*cb)(void *data), void *data)
{
    if (s->closing)
        return;
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    uv_timer_stop(&s->sync_timer);
    for (op_t *op = s->pend_head; op; op = op->next)
        op->cancelled = op->kind == OP_READ;
    op_t *op = op_new(OP_CLOSE, 0);
    if (op)
        enqueue(s, op);
    else if (!s->busy)
        uv_close((uv_handle_t *)&s->sync_timer, on_timer_closed);
}
