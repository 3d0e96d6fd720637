/* The spool's files (see spool_file.h): the record format, the segment files and what opening
 * finds in them, and the index a clean close leaves. Called from agent/spool.c's worker side and
 * its open; nothing here keeps state of its own. */
#include "spool_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "error.h"
#include "log.h"

#define RECORD_MAGIC 0x31534e52u /* "RNS1" read little-endian */
#define READ_BLOCK (256u << 10)
#define SEG_NAME_LEN 28 /* "seg-" + 20 digits + ".rns" */
#define INDEX_MAGIC "rajnet-spool-index 1"
#define INDEX_LINE 256
#define NS_PER_S 1000000000ll

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

void rn__spool_record_header(uint8_t *hdr, uint64_t seq, const uint8_t *payload, size_t len)
{
    put32(hdr, RECORD_MAGIC);
    put64(hdr + 4, seq);
    put32(hdr + 12, (uint32_t)len);
    put32(hdr + 16, record_crc(hdr, payload, len));
}

/* Returns a pointer to bytes [off, off + len) of the reader's file, reading from disk when they
 * are not buffered; NULL at end of file, on a short read or an error. */
static const uint8_t *rd_at(rn_spool_reader_t *r, uint64_t off, size_t len)
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

int rn__spool_record_at(rn_spool_reader_t *r, uint64_t off, uint64_t limit, uint64_t prev_seq,
                        uint64_t *seq, const uint8_t **payload, size_t *len)
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
    if (!h || get64(h + 4) <= prev_seq ||
        record_crc(h, h + RN_SPOOL_RECORD_HEADER, n) != get32(h + 16))
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
    rn_spool_reader_t r = { .fd = -1, .buf = malloc(len ? len : 1), .cap = len, .n = len,
                            .pos = 0 };
    uint64_t off = 0, seq;
    const uint8_t *p;
    size_t n;
    *n_records = 0;
    *last_seq = prev_seq;
    if (!r.buf)
        return 0;
    if (len)
        memcpy(r.buf, data, len);
    while (rn__spool_record_at(&r, off, len, *last_seq, &seq, &p, &n) == 1) {
        (*n_records)++;
        *last_seq = seq;
        off += RN_SPOOL_RECORD_HEADER + n;
    }
    free(r.buf);
    return off;
}

void rn__spool_seg_path(const char *dir, uint64_t first_seq, char *out, size_t n)
{
    snprintf(out, n, "%s/seg-%020" PRIu64 ".rns", dir, first_seq);
}

rn_spool_seg_t *rn__spool_seg_push(rn_spool_segs_t *s, uint64_t first_seq)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        rn_spool_seg_t *g = realloc(s->v, cap * sizeof *g);
        if (!g)
            return NULL;
        s->v = g;
        s->cap = cap;
    }
    rn_spool_seg_t *g = &s->v[s->n++];
    *g = (rn_spool_seg_t){ .name = first_seq, .first_seq = first_seq };
    return g;
}

/* ---- opening -------------------------------------------------------------------------------- */

/* Scans one segment file into g: counts its valid records and sets its valid size. A bad record
 * ends the scan: in the last segment it is a torn tail and is cut off; in an older one the rest
 * of the file is skipped, counted and logged, and the segment sealed (should it become the last
 * one, when the files after it hold nothing). g->written_ns gets the file's mtime (wall clock,
 * ns) for load_segments to turn into an age. Returns 0 or a negative errno. */
static int scan_segment(rn_spool_reader_t *rd, rn_spool_stats_t *w, const char *path,
                        rn_spool_seg_t *g, uint64_t prev_seq, bool last)
{
    int fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    rn_spool_reader_t r = { .fd = fd, .buf = rd->buf, .cap = rd->cap };
    uint64_t off = 0, seq, size = (uint64_t)st.st_size;
    const uint8_t *p;
    size_t len;
    int got;
    while ((got = rn__spool_record_at(&r, off, size, prev_seq, &seq, &p, &len)) == 1) {
        if (g->n_records++ == 0)
            g->first_seq = seq;
        g->last_seq = prev_seq = seq;
        off += RN_SPOOL_RECORD_HEADER + len;
    }
    rd->buf = r.buf, rd->cap = r.cap;
    if (off < size && last) {
        w->torn_bytes += size - off;
        rn_warn("spool %s: cut %" PRIu64 " bytes of torn tail at offset %" PRIu64, path,
                size - off, off);
        if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
            rn_error("spool %s: cannot cut the torn tail: %s", path, rn_strerror(-errno));
            g->sealed = true;
        }
    } else if (off < size) {
        g->sealed = true;
        w->corrupt_segments++;
        w->corrupt_bytes += size - off;
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

static bool index_load(rn_spool_segs_t *s, const uint64_t *firsts, size_t n);

int rn__spool_load(rn_spool_segs_t *s, rn_spool_reader_t *rd, rn_spool_stats_t *w, char *err,
                    size_t err_len)
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
        rn_warn("spool %s: cannot remove: %s; scanning the segments", ipath, rn_strerror(-errno));
        s->n = 0;
        rc = list_segments(s->dir, &firsts, &n);
    }
    unlink(ipath);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[4096];
        rn__spool_seg_path(s->dir, firsts[i], path, sizeof path);
        rn_spool_seg_t *g = rn__spool_seg_push(s, firsts[i]);
        rc = g ? scan_segment(rd, w, path, g, prev, i == n - 1) : -ENOMEM;
        if (rc) {
            snprintf(err, err_len, "spool %s: %s", path, rn_strerror(rc));
        } else if (g->n_records == 0) {
            s->n--;
            unlink(path);
        } else {
            prev = g->last_seq;
        }
    }
    free(firsts);
    /* ages from the mtimes, relative to the newest segment: how long the agent was stopped is
     * not known (the wall clock may have been stepped meanwhile) and does not count */
    int64_t newest = INT64_MIN, now = (int64_t)rn_clock_mono_ns();
    for (size_t i = 0; i < s->n; i++)
        newest = s->v[i].written_ns > newest ? s->v[i].written_ns : newest;
    for (size_t i = 0; i < s->n; i++) {
        int64_t age = newest - s->v[i].written_ns;
        s->v[i].written_ns = now - (age > 0 ? age : 0);
    }
    return rc;
}

/* ---- the index a clean close leaves ------------------------------------------------------ */

/* One segment's line in dir/index. */
static int index_line(char *buf, size_t n, const rn_spool_seg_t *g, const struct stat *st,
                      int64_t age_ms)
{
    return snprintf(buf, n, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                    " %lld %ld %" PRIu64 " %" PRId64 " %d\n", g->name, g->first_seq, g->last_seq,
                    g->n_records, g->bytes, (uint64_t)st->st_size, (long long)st->st_mtim.tv_sec,
                    (long)st->st_mtim.tv_nsec, (uint64_t)st->st_ino, age_ms, (int)g->sealed);
}

int rn__spool_index_write(const rn_spool_segs_t *s, bool sync)
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
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        char sp[4096];
        struct stat st;
        rn__spool_seg_path(s->dir, s->v[i].name, sp, sizeof sp);
        if (stat(sp, &st) != 0) {
            rc = -errno;
            break;
        }
        int64_t age = now - s->v[i].written_ns;
        len = index_line(line, sizeof line, &s->v[i], &st, age > 0 ? age / 1000000 : 0);
        crc = crc32(crc, (const Bytef *)line, (uInt)len);
        fputs(line, f);
    }
    fprintf(f, "end %zu %08lx\n", s->n, (unsigned long)crc);
    if (rc == 0 && (fflush(f) != 0 || ferror(f) ||
                    (sync && fsync(fileno(f)) != 0)))
        rc = errno ? -errno : -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (sync) {
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            fsync(dfd), close(dfd);
    }
    return 0;
}

/* Parses one line of dir/index into g (age in *age_ms) and checks it against segment file
 * `name` on disk. Returns true when it matches. */
static bool index_match(const rn_spool_segs_t *s, const char *line, uint64_t name,
                        rn_spool_seg_t *g, int64_t *age_ms)
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
    rn__spool_seg_path(s->dir, name, sp, sizeof sp);
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
static bool index_load(rn_spool_segs_t *s, const uint64_t *firsts, size_t n)
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
        rn_spool_seg_t *g = rn__spool_seg_push(s, firsts[i]);
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
        s->n = 0;
    return ok;
}

