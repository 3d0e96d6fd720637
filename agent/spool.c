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
 * saves the in-memory index to dir/index (index_write) so that a restart, or a reload that
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

#include <dirent.h>
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
#include <zlib.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define RECORD_MAGIC 0x31534e52u /* "RNS1" read little-endian */
#define READ_BLOCK (256u << 10)
#define SEG_NAME_LEN 28 /* "seg-" + 20 digits + ".rns" */
#define INDEX_MAGIC "rajnet-spool-index 1"
#define INDEX_LINE 256
#define NS_PER_S 1000000000ll

typedef struct {
    uint64_t name;                                  /* the file's seq: seg-<name>.rns */
    uint64_t first_seq, last_seq, n_records, bytes; /* bytes: the valid prefix of the file */
    int64_t written_ns; /* last write, monotonic; below 0 for a segment older than this boot */
    bool sealed;        /* never appended to again: the file goes on past `bytes`, or its fsync failed */
} seg_t;

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

/* A forward-moving read buffer over one file: it holds [pos, pos + n). */
typedef struct {
    int fd;
    uint8_t *buf;
    size_t cap, n;
    uint64_t pos;
} reader_t;

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
    seg_t *segs;
    size_t n_segs, cap_segs;
    int wfd;                    /* the last segment, open for appending, or -1 */
    bool dirty;                 /* written since the last fsync */
    rn_mono_ns_t last_sync_ns;
    uint64_t acked_seq;
    cursor_t cursor;            /* where the last read stopped */
    reader_t rd;
    uint64_t rd_seg;            /* which segment rd.fd has open (when rd.fd >= 0) */
    rn_spool_stats_t w;         /* counters */
    drop_t *drops;
    size_t n_drops, cap_drops;
};

/* ---- records ----------------------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Returns the CRC of a record: over its seq and len fields (header bytes 4..16) and payload. */
static uint32_t record_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr + 4, 12);
    return (uint32_t)crc32(c, payload, (uInt)len);
}

/* Fills hdr (RN_SPOOL_RECORD_HEADER bytes) for a record. */
static void record_header(uint8_t *hdr, uint64_t seq, const uint8_t *payload, size_t len)
{
    put32(hdr, RECORD_MAGIC);
    put64(hdr + 4, seq);
    put32(hdr + 12, (uint32_t)len);
    put32(hdr + 16, record_crc(hdr, payload, len));
}

/* Returns a pointer to bytes [off, off + len) of the reader's file, reading from disk when they
 * are not buffered; NULL at end of file, on a short read or an error. */
static const uint8_t *rd_at(reader_t *r, uint64_t off, size_t len)
{
    if (off >= r->pos && off + len <= r->pos + r->n)
        return r->buf + (off - r->pos);
    size_t want = len > READ_BLOCK ? len : READ_BLOCK;
    if (want > r->cap) {
        uint8_t *b = realloc(r->buf, want);
        if (!b)
            return NULL;
        r->buf = b;
        r->cap = want;
    }
    r->pos = off;
    r->n = 0;
    while (r->n < want) {
        ssize_t got = pread(r->fd, r->buf + r->n, want - r->n, (off_t)(off + r->n));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        r->n += (size_t)got;
    }
    return r->n >= len ? r->buf : NULL;
}

/* Reads and checks the record at off of the reader's file, which is valid up to limit. Returns 1
 * and its seq, payload (pointer into the buffer) and total size, 0 at limit (clean end), or -1
 * when the bytes there are not a whole valid record with a seq above prev_seq. */
static int record_at(reader_t *r, uint64_t off, uint64_t limit, uint64_t prev_seq, uint64_t *seq,
                     const uint8_t **payload, size_t *len)
{
    if (off >= limit)
        return 0;
    if (limit - off < RN_SPOOL_RECORD_HEADER)
        return -1;
    const uint8_t *h = rd_at(r, off, RN_SPOOL_RECORD_HEADER);
    if (!h || get32(h) != RECORD_MAGIC)
        return -1;
    uint32_t n = get32(h + 12);
    if (n > RN_SPOOL_MAX_RECORD || limit - off - RN_SPOOL_RECORD_HEADER < n)
        return -1;
    h = rd_at(r, off, RN_SPOOL_RECORD_HEADER + n); /* header and payload in one buffer */
    if (!h || get64(h + 4) <= prev_seq || record_crc(h, h + RN_SPOOL_RECORD_HEADER, n) != get32(h + 16))
        return -1;
    *seq = get64(h + 4);
    *payload = h + RN_SPOOL_RECORD_HEADER;
    *len = n;
    return 1;
}

uint64_t rn__spool_scan(const uint8_t *data, size_t len, uint64_t prev_seq, uint64_t *n_records,
                        uint64_t *last_seq)
{
    /* the whole input is the reader's buffer, so record_at never reads the (absent) file */
    reader_t r = { .fd = -1, .buf = malloc(len ? len : 1), .cap = len, .n = len, .pos = 0 };
    uint64_t off = 0, seq;
    const uint8_t *p;
    size_t n;
    *n_records = 0;
    *last_seq = prev_seq;
    if (!r.buf)
        return 0;
    if (len)
        memcpy(r.buf, data, len);
    while (record_at(&r, off, len, *last_seq, &seq, &p, &n) == 1) {
        (*n_records)++;
        *last_seq = seq;
        off += RN_SPOOL_RECORD_HEADER + n;
    }
    free(r.buf);
    return off;
}

/* ---- segments ---------------------------------------------------------------------------- */

static void seg_path(const rn_spool_t *s, uint64_t first_seq, char *out, size_t n)
{
    snprintf(out, n, "%s/seg-%020" PRIu64 ".rns", s->dir, first_seq);
}

/* Appends a segment to the index. Returns it, or NULL when out of memory. */
static seg_t *seg_push(rn_spool_t *s, uint64_t first_seq)
{
    if (s->n_segs == s->cap_segs) {
        size_t cap = s->cap_segs ? s->cap_segs * 2 : 16;
        seg_t *g = realloc(s->segs, cap * sizeof *g);
        if (!g)
            return NULL;
        s->segs = g;
        s->cap_segs = cap;
    }
    seg_t *g = &s->segs[s->n_segs++];
    *g = (seg_t){ .name = first_seq, .first_seq = first_seq };
    return g;
}

/* Closes the append file if segment i has it open. */
static void seg_close_append(rn_spool_t *s, size_t i)
{
    if (i == s->n_segs - 1 && s->wfd >= 0) {
        close(s->wfd);
        s->wfd = -1;
        s->dirty = false;
    }
}

/* Unlinks segment i and removes it from the index (closing the append file if it is the last). */
static void seg_delete(rn_spool_t *s, size_t i)
{
    char path[4096];
    seg_path(s, s->segs[i].name, path, sizeof path);
    seg_close_append(s, i);
    if (s->rd.fd >= 0 && s->rd_seg == s->segs[i].name) {
        close(s->rd.fd);
        s->rd.fd = -1;
    }
    if (s->cursor.valid && s->cursor.seg == s->segs[i].name)
        s->cursor.valid = false;
    if (unlink(path) != 0 && errno != ENOENT)
        rn_error("spool %s: cannot remove: %s", path, strerror(errno));
    memmove(&s->segs[i], &s->segs[i + 1], (s->n_segs - i - 1) * sizeof *s->segs);
    s->n_segs--;
}

/* Seals segment i: nothing is appended to it again (the next record starts a new segment). */
static void seg_seal(rn_spool_t *s, size_t i)
{
    s->segs[i].sealed = true;
    seg_close_append(s, i);
}

static void complain_dropped(rn_spool_t *s, uint64_t n, uint64_t first, uint64_t last);

/* Removes the oldest segment to respect a limit or make room on a full disk, counting the records
 * in it that were never acked (exact when seqs are consecutive) and queueing a report for the
 * loop thread. A limit logs each drop; disk-full drops go to the rate-limited complaint. */
static void seg_drop_oldest(rn_spool_t *s, const char *why)
{
    seg_t g = s->segs[0];
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
    for (size_t i = 0; i < s->n_segs; i++)
        total += s->segs[i].bytes;
    while (s->n_segs > 1 && total > s->cfg.max_bytes) {
        total -= s->segs[0].bytes;
        seg_drop_oldest(s, "max_bytes");
    }
    while (s->n_segs > 0 &&
           (int64_t)now - s->segs[0].written_ns > (int64_t)s->cfg.max_age_s * NS_PER_S)
        seg_drop_oldest(s, "max_age");
}

/* ---- open -------------------------------------------------------------------------------- */

/* Scans one segment file into g: counts its valid records and sets its valid size. A bad record
 * ends the scan: in the last segment it is a torn tail and is cut off; in an older one the rest
 * of the file is skipped, counted and logged, and the segment sealed (should it become the last
 * one, when the files after it hold nothing). g->written_ns gets the file's mtime (wall clock,
 * ns) for load_segments to turn into an age. Returns 0 or a negative errno. */
static int scan_segment(rn_spool_t *s, const char *path, seg_t *g, uint64_t prev_seq, bool last)
{
    int fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    reader_t r = { .fd = fd, .buf = s->rd.buf, .cap = s->rd.cap };
    uint64_t off = 0, seq, size = (uint64_t)st.st_size;
    const uint8_t *p;
    size_t len;
    int got;
    while ((got = record_at(&r, off, size, prev_seq, &seq, &p, &len)) == 1) {
        if (g->n_records++ == 0)
            g->first_seq = seq;
        g->last_seq = prev_seq = seq;
        off += RN_SPOOL_RECORD_HEADER + len;
    }
    s->rd.buf = r.buf, s->rd.cap = r.cap;
    if (off < size && last) {
        s->w.torn_bytes += size - off;
        rn_warn("spool %s: cut %" PRIu64 " bytes of torn tail at offset %" PRIu64, path,
                size - off, off);
        if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
            rn_error("spool %s: cannot cut the torn tail: %s", path, strerror(errno));
            g->sealed = true;
        }
    } else if (off < size) {
        g->sealed = true;
        s->w.corrupt_segments++;
        s->w.corrupt_bytes += size - off;
        rn_error("spool %s: unreadable record at offset %" PRIu64 "; %" PRIu64
                 " bytes after it skipped", path, off, size - off);
    }
    g->bytes = off;
    g->written_ns = (int64_t)st.st_mtim.tv_sec * NS_PER_S + st.st_mtim.tv_nsec;
    close(fd);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists the segment files of the spool directory by first seq. Returns 0 and a malloc'd array
 * (*out, *n), or a negative errno. Other files are ignored. */
static int list_segments(const char *dir, uint64_t **out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    uint64_t *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strlen(nm) != SEG_NAME_LEN || strncmp(nm, "seg-", 4) != 0 || strcmp(nm + 24, ".rns"))
            continue;
        if (strspn(nm + 4, "0123456789") != 20)
            continue;
        if (cnt == cap) {
            uint64_t *g = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
            if (!g) {
                free(v);
                closedir(d);
                return -ENOMEM;
            }
            v = g;
        }
        v[cnt++] = strtoull(nm + 4, NULL, 10);
    }
    closedir(d);
    if (cnt > 1)
        qsort(v, cnt, sizeof *v, cmp_u64);
    *out = v;
    *n = cnt;
    return 0;
}

static bool index_load(rn_spool_t *s, const uint64_t *firsts, size_t n);

/* Builds the index from dir/index when a clean close left one that matches the files, else from
 * the files on disk, removing segments with no valid record; then removes dir/index, so that a
 * crash after this open is followed by a scan. */
static int load_segments(rn_spool_t *s, char *err, size_t err_len)
{
    uint64_t *firsts = NULL, prev = 0;
    size_t n = 0;
    int rc = list_segments(s->dir, &firsts, &n);
    if (rc)
        snprintf(err, err_len, "spool %s: cannot list: %s", s->dir, rn_strerror(rc));
    char ipath[4096];
    snprintf(ipath, sizeof ipath, "%s/index", s->dir);
    if (rc == 0 && index_load(s, firsts, n)) {
        free(firsts);
        if (unlink(ipath) == 0)
            return 0;
        rn_warn("spool %s: cannot remove: %s; scanning the segments", ipath, strerror(errno));
        s->n_segs = 0;
        rc = list_segments(s->dir, &firsts, &n);
    }
    unlink(ipath);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[4096];
        seg_path(s, firsts[i], path, sizeof path);
        seg_t *g = seg_push(s, firsts[i]);
        rc = g ? scan_segment(s, path, g, prev, i == n - 1) : -ENOMEM;
        if (rc) {
            snprintf(err, err_len, "spool %s: %s", path, rn_strerror(rc));
        } else if (g->n_records == 0) {
            s->n_segs--;
            unlink(path);
        } else {
            prev = g->last_seq;
        }
    }
    free(firsts);
    /* ages from the mtimes, relative to the newest segment: how long the agent was stopped is
     * not known (the wall clock may have been stepped meanwhile) and does not count */
    int64_t newest = INT64_MIN, now = (int64_t)rn_clock_mono_ns();
    for (size_t i = 0; i < s->n_segs; i++)
        newest = s->segs[i].written_ns > newest ? s->segs[i].written_ns : newest;
    for (size_t i = 0; i < s->n_segs; i++) {
        int64_t age = newest - s->segs[i].written_ns;
        s->segs[i].written_ns = now - (age > 0 ? age : 0);
    }
    return rc;
}

/* ---- the index a clean close leaves ------------------------------------------------------ */

/* One segment's line in dir/index. */
static int index_line(char *buf, size_t n, const seg_t *g, const struct stat *st, int64_t age_ms)
{
    return snprintf(buf, n, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                    " %lld %ld %" PRIu64 " %" PRId64 " %d\n", g->name, g->first_seq, g->last_seq,
                    g->n_records, g->bytes, (uint64_t)st->st_size, (long long)st->st_mtim.tv_sec,
                    (long)st->st_mtim.tv_nsec, (uint64_t)st->st_ino, age_ms, (int)g->sealed);
}

/* Writes dir/index: a line per segment with its counts, the file's size, mtime and inode (which
 * the next open checks), and its age; then "end <segments> <crc32 of the lines before>". Written
 * to a temporary name and renamed, fsync'd unless "never". Returns 0 or a negative errno (then
 * the next open scans). */
static int index_write(rn_spool_t *s)
{
    char tmp[4096], path[4096], line[INDEX_LINE];
    snprintf(tmp, sizeof tmp, "%s/index.tmp", s->dir);
    snprintf(path, sizeof path, "%s/index", s->dir);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -errno;
    int64_t now = (int64_t)rn_clock_mono_ns();
    uLong crc = crc32(0L, Z_NULL, 0);
    int len = snprintf(line, sizeof line, "%s\n", INDEX_MAGIC), rc = 0;
    crc = crc32(crc, (const Bytef *)line, (uInt)len);
    fputs(line, f);
    for (size_t i = 0; i < s->n_segs && rc == 0; i++) {
        char sp[4096];
        struct stat st;
        seg_path(s, s->segs[i].name, sp, sizeof sp);
        if (stat(sp, &st) != 0) {
            rc = -errno;
            break;
        }
        int64_t age = now - s->segs[i].written_ns;
        len = index_line(line, sizeof line, &s->segs[i], &st, age > 0 ? age / 1000000 : 0);
        crc = crc32(crc, (const Bytef *)line, (uInt)len);
        fputs(line, f);
    }
    fprintf(f, "end %zu %08lx\n", s->n_segs, (unsigned long)crc);
    if (rc == 0 && (fflush(f) != 0 || ferror(f) ||
                    (s->cfg.fsync != RN_SPOOL_FSYNC_NEVER && fsync(fileno(f)) != 0)))
        rc = errno ? -errno : -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (s->cfg.fsync != RN_SPOOL_FSYNC_NEVER) {
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            fsync(dfd), close(dfd);
    }
    return 0;
}

/* Parses one line of dir/index into g (age in *age_ms) and checks it against segment file
 * `name` on disk. Returns true when it matches. */
static bool index_match(rn_spool_t *s, const char *line, uint64_t name, seg_t *g, int64_t *age_ms)
{
    unsigned long long sz, ino;
    long long sec;
    long nsec;
    int sealed, end = -1;
    if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %llu %lld %ld "
               "%llu %" SCNd64 " %d%n", &g->name, &g->first_seq, &g->last_seq, &g->n_records,
               &g->bytes, &sz, &sec, &nsec, &ino, age_ms, &sealed, &end) != 11 ||
        line[end] != '\n' || g->name != name)
        return false;
    char sp[4096];
    struct stat st;
    seg_path(s, name, sp, sizeof sp);
    if (stat(sp, &st) != 0 || (unsigned long long)st.st_size != sz || st.st_ino != ino ||
        st.st_mtim.tv_sec != sec || st.st_mtim.tv_nsec != nsec)
        return false;
    g->sealed = sealed != 0 || g->bytes < sz;
    return g->n_records > 0 && g->first_seq >= name && g->first_seq <= g->last_seq &&
           g->last_seq - g->first_seq >= g->n_records - 1 && g->bytes <= sz && *age_ms >= 0;
}

/* Fills the segment index from dir/index when it names exactly the segment files firsts[0..n)
 * and each still has the size, mtime and inode it had at the clean close. Returns true if used;
 * otherwise the index is left empty and the segments are to be scanned. */
static bool index_load(rn_spool_t *s, const uint64_t *firsts, size_t n)
{
    char path[4096], line[INDEX_LINE];
    snprintf(path, sizeof path, "%s/index", s->dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    uLong crc = crc32(0L, Z_NULL, 0);
    bool ok = fgets(line, sizeof line, f) && strcmp(line, INDEX_MAGIC "\n") == 0;
    crc = crc32(crc, (const Bytef *)line, (uInt)strlen(line));
    int64_t now = (int64_t)rn_clock_mono_ns(), age_ms;
    uint64_t prev = 0;
    for (size_t i = 0; ok && i < n; i++) {
        seg_t *g = seg_push(s, firsts[i]);
        ok = g && fgets(line, sizeof line, f) && index_match(s, line, firsts[i], g, &age_ms) &&
             g->first_seq > prev;
        if (ok) {
            crc = crc32(crc, (const Bytef *)line, (uInt)strlen(line));
            g->written_ns = now - age_ms * 1000000;
            prev = g->last_seq;
        }
    }
    char want[64];
    snprintf(want, sizeof want, "end %zu %08lx\n", n, (unsigned long)crc);
    ok = ok && fgets(line, sizeof line, f) && strcmp(line, want) == 0 && fgetc(f) == EOF;
    fclose(f);
    if (!ok)
        s->n_segs = 0;
    return ok;
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
    free(s->segs);
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
        rc = load_segments(s, err, err_len);
    if (rc) {
        spool_free(s);
        return rc;
    }
    size_segments(s);
    enforce_limits(s, rn_clock_mono_ns());
    s->n_drops = 0; /* counted and logged; the drop callback reports only drops after open */
    s->last_seq = s->n_segs ? s->segs[s->n_segs - 1].last_seq : 0;
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
        seg_seal(s, s->n_segs - 1);
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
    seg_t *last = s->n_segs ? &s->segs[s->n_segs - 1] : NULL;
    char path[4096];
    struct stat st;
    if (last && last->sealed && last->n_records == 0)
        seg_delete(s, s->n_segs - 1), last = NULL; /* an empty file: its name is taken again */
    if (last && !last->sealed && (last->bytes == 0 || last->bytes + rec <= s->seg_bytes)) {
        if (s->wfd >= 0)
            return 0;
        seg_path(s, last->name, path, sizeof path);
        s->wfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (s->wfd < 0)
            return -errno;
        if (fstat(s->wfd, &st) == 0 && (uint64_t)st.st_size == last->bytes)
            return 0;
        rn_warn("spool %s: goes on past its last readable record; sealed", path);
        seg_seal(s, s->n_segs - 1); /* O_APPEND would write where no read looks */
    }
    if (s->cfg.fsync != RN_SPOOL_FSYNC_NEVER)
        do_sync(s);
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = -1;
    s->dirty = false;
    seg_path(s, seq, path, sizeof path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    seg_t *g = seg_push(s, seq);
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
    seg_t *g = &s->segs[s->n_segs - 1];
    record_header(hdr, op->seq, op->payload, op->len);
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
        rn_error("spool %s: cannot cut a failed append: %s", s->dir, strerror(errno));
        seg_seal(s, s->n_segs - 1);
    }
    return rc;
}

/* Makes room on a full disk by dropping the oldest segment (the newest batches matter more),
 * unless all that is left is the empty segment being written. Returns true if one went. */
static bool make_room(rn_spool_t *s)
{
    if (s->n_segs == 0 || (s->n_segs == 1 && s->segs[0].n_records == 0))
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
    while (s->n_segs > 0 && s->segs[0].n_records > 0 && s->segs[0].last_seq <= seq)
        seg_delete(s, 0);
}

/* Opens segment g for reading in the shared reader (dropping what the buffer held). */
static int reader_open(rn_spool_t *s, const seg_t *g)
{
    if (s->rd.fd >= 0 && s->rd_seg == g->name)
        return 0;
    if (s->rd.fd >= 0)
        close(s->rd.fd);
    char path[4096];
    seg_path(s, g->name, path, sizeof path);
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
    for (size_t i = 0; i < s->n_segs && (op->n_recs == 0 || bytes < op->len); i++) {
        seg_t *g = &s->segs[i];
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
               (got = record_at(&s->rd, off, g->bytes, prev, &seq, &p, &len)) == 1) {
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
    int rc = s->close_pass ? index_write(s) : 0;
    if (rc)
        rn_warn("spool %s: cannot write the index: %s; the next open scans the segments",
                s->dir, rn_strerror(rc));
}

/* ---- loop side --------------------------------------------------------------------------- */

/* Copies the worker's index and counters into the snapshot (only while no work runs). */
static void snapshot(rn_spool_t *s)
{
    rn_spool_stats_t st = s->w;
    st.segments = s->n_segs;
    st.segment_bytes = s->seg_bytes;
    st.records = st.bytes = st.first_seq = st.last_seq = 0;
    for (size_t i = 0; i < s->n_segs; i++) {
        st.records += s->segs[i].n_records;
        st.bytes += s->segs[i].bytes;
    }
    for (size_t i = 0; i < s->n_segs && !st.first_seq; i++)
        st.first_seq = s->segs[i].n_records ? s->segs[i].first_seq : 0;
    for (size_t i = s->n_segs; i > 0 && !st.last_seq; i--)
        st.last_seq = s->segs[i - 1].n_records ? s->segs[i - 1].last_seq : 0;
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
