/* Tests of agent/spool.c and its files (agent/spool_file.c): real segment files in a temporary
 * directory, a real uv loop.
 *
 * The kill -9 test runs this same binary as a driver (`test_spool --crash-driver DIR`): it appends
 * records with fsync "always" and writes each seq to stdout once its append callback reported it
 * stored; the test kills it at random moments, reopens the spool and checks that every seq the
 * driver reported is there, intact and in order. test_measure_throughput prints the figures. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "spool.h"

static char self_exe[4096];
static bool skip_payload_check; /* the figures use one template payload */

typedef struct {
    uv_loop_t loop;
    char dir[64];
    rn_spool_t *s;
    uint64_t appended, append_errors;  /* append callbacks seen */
    /* read_all() results */
    uint64_t *seqs;
    size_t n_seqs, cap_seqs, n_reads, max_chunk_bytes;
    bool read_done;
    int read_status;
    /* drop callback */
    uint64_t drop_n, drop_first, drop_last, drop_calls;
    const char *drop_why;
    uint64_t last_seen;                /* kill -9 test: last seq on disk */
    char mnt[96];                      /* a tmpfs mounted by the test, unmounted in teardown */
    int saved_stderr;                  /* fd + 1 of stderr while a test captures it; 0: none */
} fix_t;

/* fdatasync as the spool sees it in this binary: the next fail_fsyncs calls fail with EIO, as a
 * dying disk's would; the rest go to the kernel. */
static int fail_fsyncs;

int fdatasync(int fd)
{
    if (fail_fsyncs > 0) {
        fail_fsyncs--;
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fdatasync, fd);
}

/* ---- helpers ----------------------------------------------------------------------------- */

/* The payload of record seq: its length and bytes both follow from seq, so a reader can check
 * any record without knowing what was written. */
static size_t payload_len(uint64_t seq, size_t base) { return base ? base : 1 + (seq * 7919) % 3000; }

static uint8_t *payload_make(uint64_t seq, size_t len)
{
    uint8_t *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seq * 31 + i * 7);
    return p;
}

static bool payload_ok(uint64_t seq, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != (uint8_t)(seq * 31 + i * 7))
            return false;
    return true;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    fix_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rn-spool-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    uv_loop_init(&f->loop);
    *state = f;
    return 0;
}

static void on_closed(void *data);

static int teardown(void **state)
{
    fix_t *f = *state;
    rn_clock_set_source(NULL, NULL); /* first: a failed test must not leave its clock behind */
    if (f->saved_stderr) {
        dup2(f->saved_stderr - 1, 2);
        close(f->saved_stderr - 1);
    }
    fail_fsyncs = 0;
    if (f->s) { /* a test that failed half-way */
        bool closed = false;
        rn_spool_close(f->s, on_closed, &closed);
    }
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (f->mnt[0])
        umount2(f->mnt, MNT_DETACH);
    if (strstr(f->dir, "/tmpfs/")) /* the disk-full test points dir into its mount */
        *strstr(f->dir, "/tmpfs/") = 0;
    assert_int_equal(uv_loop_close(&f->loop), 0);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f->seqs);
    free(f);
    rn_clock_set_source(NULL, NULL);
    return 0;
}

static void on_drop(void *ctx, uint64_t first, uint64_t last, uint64_t n, uint64_t bytes,
                    const char *why)
{
    fix_t *f = ctx;
    if (f->drop_calls++ == 0)
        f->drop_first = first;
    f->drop_last = last;
    f->drop_n += n;
    f->drop_why = why;
}

static void open_spool(fix_t *f, const rn_spool_config_t *cfg)
{
    char err[256] = "";
    int rc = rn_spool_open(&f->loop, f->dir, cfg, on_drop, f, &f->s, err, sizeof err);
    if (rc)
        fail_msg("open: %s", err);
}

static void on_closed(void *data) { *(bool *)data = true; }

static void close_spool(fix_t *f)
{
    bool closed = false;
    rn_spool_close(f->s, on_closed, &closed);
    while (!closed)
        uv_run(&f->loop, UV_RUN_ONCE);
    f->s = NULL;
}

static void on_appended(void *data, uint64_t seq, int status)
{
    fix_t *f = data;
    f->appended++;
    f->append_errors += status != 0;
}

/* Appends seqs first..last (payload length len, or varying when 0) and waits until stored. */
static void append_range(fix_t *f, uint64_t first, uint64_t last, size_t len)
{
    uint64_t want = f->appended + (last - first + 1);
    for (uint64_t q = first; q <= last; q++) {
        size_t n = payload_len(q, len);
        assert_int_equal(rn_spool_append(f->s, q, payload_make(q, n), n, on_appended, f), 0);
    }
    while (f->appended < want)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(f->append_errors, 0);
}

static void on_read(void *data, int status, rn_spool_record_t *recs, size_t n);

/* Reads every record after `after` in chunks of chunk bytes into f->seqs, checking payloads. */
static void read_all(fix_t *f, uint64_t after, size_t chunk, size_t len)
{
    f->n_seqs = f->n_reads = f->max_chunk_bytes = 0;
    f->read_done = false;
    f->read_status = 0;
    f->cap_seqs = f->cap_seqs ? f->cap_seqs : 1024;
    f->seqs = f->seqs ? f->seqs : malloc(f->cap_seqs * sizeof *f->seqs);
    struct { fix_t *f; size_t chunk, len; } *ctx = malloc(sizeof *ctx);
    ctx->f = f, ctx->chunk = chunk, ctx->len = len;
    assert_int_equal(rn_spool_read(f->s, after, chunk, on_read, ctx), 0);
    while (!f->read_done)
        uv_run(&f->loop, UV_RUN_ONCE);
    free(ctx);
    assert_int_equal(f->read_status, 0);
}

static void on_read(void *data, int status, rn_spool_record_t *recs, size_t n)
{
    struct { fix_t *f; size_t chunk, len; } *ctx = data;
    fix_t *f = ctx->f;
    size_t bytes = 0;
    f->n_reads++;
    for (size_t i = 0; i < n; i++) {
        if (f->n_seqs == f->cap_seqs)
            f->seqs = realloc(f->seqs, (f->cap_seqs *= 2) * sizeof *f->seqs);
        if (f->n_seqs)
            assert_true(recs[i].seq > f->seqs[f->n_seqs - 1]);
        assert_int_equal(recs[i].len, payload_len(recs[i].seq, ctx->len));
        assert_true(skip_payload_check || payload_ok(recs[i].seq, recs[i].data, recs[i].len));
        f->seqs[f->n_seqs++] = recs[i].seq;
        bytes += recs[i].len;
        free(recs[i].data);
    }
    if (bytes > f->max_chunk_bytes)
        f->max_chunk_bytes = bytes;
    if (status || n == 0) {
        f->read_status = status;
        f->read_done = true;
        return;
    }
    assert_int_equal(rn_spool_read(f->s, recs[n - 1].seq, ctx->chunk, on_read, ctx), 0);
}

static int count_segment_files(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '^seg-'", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (fscanf(p, "%d", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

/* Returns the path of the newest (last) segment file. */
static void last_segment(const char *dir, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s/seg-* | tail -1", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(fgets(out, (int)n, p));
    out[strcspn(out, "\n")] = 0;
    pclose(p);
}

static void first_segment(const char *dir, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s/seg-* | head -1", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(fgets(out, (int)n, p));
    out[strcspn(out, "\n")] = 0;
    pclose(p);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static double now_s(void)
{
    return (double)rn_clock_mono_ns() / 1e9;
}


/* ---- behaviour --------------------------------------------------------------------------- */

/* Records survive a close and reopen, across many segments, and read back in order in chunks. */
static void test_append_reopen_replay_round_trip(void **state)
{
    fix_t *f = *state;
    rn_spool_config_t cfg = { .segment_bytes = 64 << 10, .max_bytes = 64 << 20 };
    open_spool(f, &cfg);
    assert_int_equal(rn_spool_last_seq(f->s), 0);
    append_range(f, 1001, 2000, 0);
    close_spool(f);
    open_spool(f, &cfg);
    rn_spool_stats_t st;
    rn_spool_stats(f->s, &st);
    assert_int_equal(rn_spool_last_seq(f->s), 2000);
    assert_int_equal(st.records, 1000);
    assert_int_equal(st.first_seq, 1001);
    assert_int_equal(st.last_seq, 2000);
    assert_true(st.segments > 10);
    assert_int_equal(st.segments, count_segment_files(f->dir));
    assert_int_equal(st.torn_bytes + st.corrupt_segments, 0);
    read_all(f, 0, 16 << 10, 0);
    assert_int_equal(f->n_seqs, 1000);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(f->seqs[i], 1001 + i);
    assert_true(f->n_reads > 50);
    /* reading from the middle; appends after reopen continue the same numbering */
    read_all(f, 1500, 16 << 10, 0);
    assert_int_equal(f->n_seqs, 500);
    assert_int_equal(f->seqs[0], 1501);
    assert_int_equal(rn_spool_append(f->s, 2000, payload_make(2000, 5), 5, NULL, NULL), -EINVAL);
    append_range(f, 2001, 2010, 0);
    read_all(f, 1995, 1 << 20, 0);
    assert_int_equal(f->n_seqs, 15);
    assert_int_equal(f->n_reads, 2);
    close_spool(f);
}

/* A record cut short at the end of the last segment is cut off at open; all before survives. */
static void test_torn_tail_is_cut_off(void **state)
{
    fix_t *f = *state;
    char last[4096];
    open_spool(f, NULL);
    append_range(f, 1, 100, 0);
    close_spool(f);
    last_segment(f->dir, last, sizeof last);
    off_t size = file_size(last);
    assert_int_equal(truncate(last, size - 7), 0);
    open_spool(f, NULL);
    rn_spool_stats_t st;
    rn_spool_stats(f->s, &st);
    assert_int_equal(rn_spool_last_seq(f->s), 99);
    assert_int_equal(st.records, 99);
    assert_int_equal(st.torn_bytes, RN_SPOOL_RECORD_HEADER + payload_len(100, 0) - 7);
    assert_int_equal(file_size(last), size - RN_SPOOL_RECORD_HEADER - payload_len(100, 0));
    append_range(f, 100, 110, 0); /* the lost seq can be written again */
    read_all(f, 0, 1 << 20, 0);
    assert_int_equal(f->n_seqs, 110);
    close_spool(f);
}

/* A bad CRC in the last record is a torn tail too. */
static void test_bad_crc_at_tail_is_cut_off(void **state)
{
    fix_t *f = *state;
    char last[4096];
    open_spool(f, NULL);
    append_range(f, 1, 50, 100);
    close_spool(f);
    last_segment(f->dir, last, sizeof last);
    flip_byte(last, file_size(last) - 3);
    open_spool(f, NULL);
    rn_spool_stats_t st;
    rn_spool_stats(f->s, &st);
    assert_int_equal(rn_spool_last_seq(f->s), 49);
    assert_int_equal(st.torn_bytes, RN_SPOOL_RECORD_HEADER + 100);
    assert_int_equal(st.corrupt_segments, 0);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->n_seqs, 49);
    close_spool(f);
}

/* Corruption inside an older segment skips the rest of that segment only, and is counted. */
static void test_corrupt_older_segment_skips_its_rest(void **state)
{
    fix_t *f = *state;
    char first[4096];
    rn_spool_config_t cfg = { .segment_bytes = 1200, .max_bytes = 1 << 20 }; /* 10 x 120 B */
    open_spool(f, &cfg);
    append_range(f, 1, 30, 100);
    close_spool(f);
    assert_int_equal(count_segment_files(f->dir), 3);
    first_segment(f->dir, first, sizeof first);
    flip_byte(first, 4 * 120 + RN_SPOOL_RECORD_HEADER + 10); /* payload of seq 5 */
    open_spool(f, &cfg);
    rn_spool_stats_t st;
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.corrupt_segments, 1);
    assert_int_equal(st.corrupt_bytes, 6 * 120);
    assert_int_equal(st.records, 24);
    assert_int_equal(st.torn_bytes, 0);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->n_seqs, 24);
    assert_int_equal(f->seqs[3], 4);
    assert_int_equal(f->seqs[4], 11);
    close_spool(f);
}

/* An ack deletes only segments whose every record it covers, the one being written included. */
static void test_ack_trims_whole_segments_only(void **state)
{
    fix_t *f = *state;
    rn_spool_config_t cfg = { .segment_bytes = 1200, .max_bytes = 1 << 20 };
    rn_spool_stats_t st;
    open_spool(f, &cfg);
    append_range(f, 1, 50, 100);
    assert_int_equal(count_segment_files(f->dir), 5);
    rn_spool_ack(f->s, 15);
    append_range(f, 51, 51, 100); /* a pass of the worker after the ack */
    assert_int_equal(count_segment_files(f->dir), 5); /* 11..20, .. 41..50, 51 */
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.first_seq, 11);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->seqs[0], 11); /* 11..15 stay until their segment is all acked */
    rn_spool_ack(f->s, 20);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->seqs[0], 21);
    assert_int_equal(count_segment_files(f->dir), 4);
    rn_spool_ack(f->s, 51);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->n_seqs, 0);
    assert_int_equal(count_segment_files(f->dir), 0);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.records + st.bytes + st.segments + st.dropped_records, 0);
    append_range(f, 52, 53, 100);
    close_spool(f);
    open_spool(f, &cfg);
    assert_int_equal(rn_spool_last_seq(f->s), 53);
    close_spool(f);
}

/* Past max_bytes the oldest segments go; the unacked records in them are counted and reported. */
static void test_max_bytes_drops_oldest_and_counts(void **state)
{
    fix_t *f = *state;
    rn_spool_config_t cfg = { .segment_bytes = 1200, .max_bytes = 3600 };
    rn_spool_stats_t st;
    open_spool(f, &cfg);
    append_range(f, 1, 100, 100);
    rn_spool_stats(f->s, &st);
    assert_true(st.bytes <= 3600);
    assert_int_equal(st.records + st.dropped_records, 100);
    assert_int_equal(st.dropped_records, f->drop_n);
    assert_int_equal(st.dropped_bytes, f->drop_n * 120);
    assert_int_equal(f->drop_first, 1);
    assert_int_equal(f->drop_last, st.first_seq - 1);
    assert_string_equal(f->drop_why, "max_bytes");
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->seqs[0], st.first_seq);
    assert_int_equal(f->seqs[f->n_seqs - 1], 100);
    /* records already acked are not counted as dropped */
    rn_spool_ack(f->s, 95);
    uint64_t before = f->drop_n;
    append_range(f, 101, 130, 100);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.dropped_records - before, f->drop_n - before);
    assert_int_equal(st.records + (f->drop_n - before), 130 - 95);
    close_spool(f);
}

static int64_t fake_wall_ms;
static int64_t fake_wall(void) { return fake_wall_ms; }
static rn_mono_ns_t fake_mono_ns;
static rn_mono_ns_t fake_mono(void) { return fake_mono_ns; }
#define S_NS 1000000000ull

static void remove_index(const fix_t *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/index", f->dir);
    unlink(path);
}

/* Segments last written more than max_age_s ago, by the monotonic clock, are dropped, counted
 * and reported: while running, across a clean restart (the index keeps their ages; the time the
 * agent was stopped does not count), and after a crash by the files' mtimes relative to the
 * newest segment. */
static void test_age_limit(void **state)
{
    fix_t *f = *state;
    rn_spool_config_t cfg = { .segment_bytes = 1200, .max_bytes = 1 << 20, .max_age_s = 3600 };
    rn_spool_stats_t st;
    fake_mono_ns = rn_clock_mono_ns();
    rn_clock_set_source(fake_mono, NULL);
    open_spool(f, &cfg);
    append_range(f, 1, 20, 100);
    fake_mono_ns += 1800 * S_NS;
    append_range(f, 21, 30, 100);
    fake_mono_ns += 2000 * S_NS; /* 1..20 are 3800 s old, 21..30 2000 s */
    append_range(f, 31, 31, 100);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.dropped_records, 20);
    assert_int_equal(f->drop_n, 20);
    assert_int_equal(f->drop_first, 1);
    assert_int_equal(f->drop_last, 20);
    assert_string_equal(f->drop_why, "max_age");
    assert_int_equal(st.first_seq, 21);
    close_spool(f);
    fake_mono_ns += 3 * 86400 * S_NS; /* stopped for 3 days: does not count */
    open_spool(f, &cfg);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.dropped_records, 0);
    assert_int_equal(st.first_seq, 21);
    fake_mono_ns += 1700 * S_NS; /* 21..30 are 3700 s old */
    append_range(f, 32, 45, 100);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.dropped_records, 10);
    assert_int_equal(st.first_seq, 31);
    close_spool(f);
    /* a crash leaves no index: 31..40 written 7200 s before 41..45, by their mtimes */
    remove_index(f);
    char first[4096];
    first_segment(f->dir, first, sizeof first);
    struct timespec old[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, first, old, 0), 0);
    open_spool(f, &cfg);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.dropped_records, 10);
    assert_int_equal(st.first_seq, 41);
    close_spool(f);
}

/* A step of the wall clock (8 days forward, then back) ages nothing: 100 unacked records stay. */
static void test_wall_clock_step_drops_nothing(void **state)
{
    fix_t *f = *state;
    rn_spool_config_t cfg = { .segment_bytes = 1200, .max_bytes = 1 << 20 }; /* 7-day age limit */
    rn_spool_stats_t st;
    fake_wall_ms = rn_clock_wall_ms();
    rn_clock_set_source(NULL, fake_wall);
    open_spool(f, &cfg);
    append_range(f, 1, 100, 100);
    fake_wall_ms += 8 * 86400 * 1000ll;
    append_range(f, 101, 101, 100);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.dropped_records, 0);
    assert_int_equal(f->drop_n, 0);
    assert_int_equal(st.records, 101);
    fake_wall_ms -= 16 * 86400 * 1000ll;
    append_range(f, 102, 102, 100);
    close_spool(f);
    open_spool(f, &cfg);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->n_seqs, 102);
    close_spool(f);
}

/* Each fsync policy is honoured: always syncs before the callback, interval within its period,
 * never not at all. A bad configuration is refused. */
static void test_fsync_policies_selectable(void **state)
{
    fix_t *f = *state;
    rn_spool_stats_t st;
    rn_spool_config_t always = { .fsync = RN_SPOOL_FSYNC_ALWAYS };
    open_spool(f, &always);
    append_range(f, 1, 20, 0);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.synced_seq, 20);
    close_spool(f);

    rn_spool_config_t never = { .fsync = RN_SPOOL_FSYNC_NEVER };
    open_spool(f, &never);
    append_range(f, 21, 40, 0);
    uv_sleep(30);
    append_range(f, 41, 41, 0);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.written_seq, 41);
    assert_int_equal(st.synced_seq, 20); /* what open found */
    close_spool(f);

    rn_spool_config_t interval = { .fsync = RN_SPOOL_FSYNC_INTERVAL, .fsync_interval_ms = 100 };
    open_spool(f, &interval);
    double t0 = now_s();
    append_range(f, 42, 60, 0);
    rn_spool_stats(f->s, &st);
    if (now_s() - t0 < 0.09)
        assert_int_equal(st.synced_seq, 41);
    while (st.synced_seq != 60 && now_s() - t0 < 2) {
        uv_run(&f->loop, UV_RUN_ONCE);
        rn_spool_stats(f->s, &st);
    }
    assert_int_equal(st.synced_seq, 60);
    assert_true(now_s() - t0 >= 0.09);
    close_spool(f);

    char err[256];
    rn_spool_config_t bad = { .segment_bytes = 1 << 20, .max_bytes = 1 << 20 };
    assert_int_equal(rn_spool_open(&f->loop, f->dir, &bad, NULL, NULL, &f->s, err, sizeof err),
                     -EINVAL);
    rn_spool_config_t bad2 = { .fsync = 7 };
    assert_int_equal(rn_spool_open(&f->loop, f->dir, &bad2, NULL, NULL, &f->s, err, sizeof err),
                     -EINVAL);
}

/* A second opener of the same directory is refused while the first holds it. */
static void test_second_opener_is_refused(void **state)
{
    fix_t *f = *state;
    rn_spool_t *other;
    char err[256];
    open_spool(f, NULL);
    assert_int_equal(rn_spool_open(&f->loop, f->dir, NULL, NULL, NULL, &other, err, sizeof err),
                     -EBUSY);
    assert_non_null(strstr(err, "another agent"));
    close_spool(f);
}

/* A replay of 4 MiB reads it in chunks of the size asked for, never all at once. */
static void test_replay_reads_in_chunks_from_disk(void **state)
{
    fix_t *f = *state;
    open_spool(f, &(rn_spool_config_t){ .fsync = RN_SPOOL_FSYNC_NEVER });
    append_range(f, 1, 2048, 2048);
    close_spool(f);
    open_spool(f, NULL);
    read_all(f, 0, 64 << 10, 2048);
    assert_int_equal(f->n_seqs, 2048);
    assert_int_equal(f->n_reads, 2048 / 32 + 1);
    assert_int_equal(f->max_chunk_bytes, 64 << 10);
    close_spool(f);
}

/* A read queued before close is cancelled; appends queued before close are stored. */
static void test_close_finishes_appends_and_cancels_reads(void **state)
{
    fix_t *f = *state;
    open_spool(f, NULL);
    append_range(f, 1, 1, 10);
    for (uint64_t q = 2; q <= 50; q++)
        assert_int_equal(rn_spool_append(f->s, q, payload_make(q, 10), 10, on_appended, f), 0);
    f->read_done = false;
    struct { fix_t *f; size_t chunk, len; } ctx = { f, 1 << 20, 10 };
    assert_int_equal(rn_spool_read(f->s, 0, 1 << 20, on_read, &ctx), 0);
    close_spool(f);
    assert_int_equal(f->appended, 50);
    assert_true(f->read_done);
    assert_int_equal(f->read_status, -ECANCELED);
    open_spool(f, NULL);
    assert_int_equal(rn_spool_last_seq(f->s), 50);
    close_spool(f);
}

/* Returns the bytes this process has read through read()-like calls (/proc/self/io rchar). */
static uint64_t bytes_read_so_far(void)
{
    FILE *p = fopen("/proc/self/io", "r");
    unsigned long long v = 0;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "rchar: %llu", &v), 1);
    fclose(p);
    return v;
}

/* A reopen after a clean close (a restart, a reload) takes the index the close wrote instead of
 * reading the whole spool again; a file changed since (here a torn tail) means a scan. */
static void test_reopen_after_clean_close_reads_no_records(void **state)
{
    fix_t *f = *state;
    rn_spool_config_t cfg = { .segment_bytes = 1 << 20, .max_bytes = 1ull << 30,
                              .fsync = RN_SPOOL_FSYNC_NEVER };
    rn_spool_stats_t st;
    open_spool(f, &cfg);
    append_range(f, 1, 16384, 2048); /* 32 MiB in 33 segments */
    close_spool(f);
    uint64_t r0 = bytes_read_so_far();
    double t0 = now_s();
    open_spool(f, &cfg);
    double t_index = now_s() - t0;
    uint64_t read_index = bytes_read_so_far() - r0;
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.records, 16384);
    assert_int_equal(rn_spool_last_seq(f->s), 16384);
    assert_true(read_index < (64u << 10));
    append_range(f, 16385, 16390, 2048);
    read_all(f, 16000, 1 << 20, 2048);
    assert_int_equal(f->n_seqs, 390);
    close_spool(f);
    remove_index(f); /* as after a crash */
    r0 = bytes_read_so_far();
    t0 = now_s();
    open_spool(f, &cfg);
    double t_scan = now_s() - t0;
    uint64_t read_scan = bytes_read_so_far() - r0;
    assert_true(read_scan >= (32u << 20));
    close_spool(f);
    printf("# reopen of 32 MiB: %.1f ms and %" PRIu64 " bytes read with the index, %.1f ms and "
           "%.1f MiB read by a scan\n", t_index * 1e3, read_index, t_scan * 1e3,
           read_scan / 1048576.0);
    char last[4096];
    last_segment(f->dir, last, sizeof last);
    assert_int_equal(truncate(last, file_size(last) - 7), 0);
    open_spool(f, &cfg);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.torn_bytes, 2048 + RN_SPOOL_RECORD_HEADER - 7);
    assert_int_equal(rn_spool_last_seq(f->s), 16389);
    close_spool(f);
}

/* After a power cut with fsync "never" the newest segment can come back empty, leaving an older
 * one with an unreadable tail as the last: it is sealed, so records appended after the cut go to
 * a new segment and every record reported stored reads back. */
static void test_damaged_older_segment_is_never_written_to(void **state)
{
    fix_t *f = *state;
    char first[4096], last[4096];
    rn_spool_config_t cfg = { .segment_bytes = 1200, .max_bytes = 1 << 20,
                              .fsync = RN_SPOOL_FSYNC_NEVER };
    rn_spool_stats_t st;
    open_spool(f, &cfg);
    append_range(f, 1, 20, 100); /* 1..10, 11..20 */
    close_spool(f);
    remove_index(f);
    first_segment(f->dir, first, sizeof first);
    last_segment(f->dir, last, sizeof last);
    flip_byte(first, 9 * 120 + RN_SPOOL_RECORD_HEADER + 10); /* payload of seq 10 */
    assert_int_equal(truncate(last, 0), 0);
    open_spool(f, &cfg);
    assert_int_equal(rn_spool_last_seq(f->s), 9);
    append_range(f, 10, 11, 100);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.records, 11);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->n_seqs, 11);
    assert_int_equal(f->seqs[10], 11);
    close_spool(f);
    remove_index(f);
    open_spool(f, &cfg);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->n_seqs, 11);
    close_spool(f);
}

/* With fsync "always", a failed fsync does not make stored records look lost: their appends
 * report success (they are in the spool and are read back and sent), the failure is counted
 * (sync_errors, unsynced_records, never dropped_records or write_errors), and the records after
 * them go to a fresh segment that is fsync'd as usual. */
static void test_failed_fsync_keeps_records_and_says_so(void **state)
{
    fix_t *f = *state;
    rn_spool_stats_t st;
    open_spool(f, &(rn_spool_config_t){ .fsync = RN_SPOOL_FSYNC_ALWAYS });
    append_range(f, 1, 10, 100);
    fail_fsyncs = 1;
    append_range(f, 11, 20, 100); /* asserts every append reported 0 */
    assert_int_equal(fail_fsyncs, 0);
    append_range(f, 21, 30, 100);
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.sync_errors, 1);
    assert_true(st.unsynced_records >= 1 && st.unsynced_records <= 10);
    assert_int_equal(st.write_errors + st.dropped_records, 0);
    assert_int_equal(st.synced_seq, 30);
    assert_int_equal(st.records, 30);
    assert_int_equal(count_segment_files(f->dir), 2);
    read_all(f, 0, 1 << 20, 100);
    assert_int_equal(f->n_seqs, 30);
    close_spool(f);
}

/* Counts the lines of a file that contain needle. */
static int count_lines_with(const char *path, const char *needle)
{
    FILE *p = fopen(path, "r");
    char line[1024];
    int n = 0;
    while (p && fgets(line, sizeof line, p))
        n += strstr(line, needle) != NULL;
    if (p)
        fclose(p);
    return n;
}

/* A full disk (a 512 KiB tmpfs, 1 MB of batches): the oldest batches are dropped to make room,
 * counted and reported as "disk_full", so all 1,000 appends succeed and the newest are kept;
 * the complaint is one log line, not one per record. With no room at all (a file fills the
 * disk) appends fail and are counted; once the file goes, appends succeed again by themselves. */
static void test_full_disk_drops_oldest_and_recovers(void **state)
{
    fix_t *f = *state;
    rn_spool_stats_t st;
    snprintf(f->mnt, sizeof f->mnt, "%s/tmpfs", f->dir);
    assert_int_equal(mkdir(f->mnt, 0700), 0);
    if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=512k") != 0) {
        f->mnt[0] = 0;
        print_message("# no tmpfs mount (%s): skipped\n", strerror(errno));
        skip();
    }
    char spool[160], log[160], blocker[160];
    snprintf(spool, sizeof spool, "%s/spool", f->mnt);
    snprintf(log, sizeof log, "%s/log", f->dir);
    snprintf(blocker, sizeof blocker, "%s/blocker", f->mnt);
    snprintf(f->dir, sizeof f->dir, "%s", spool); /* the fixture's helpers use f->dir */
    int saved = dup(2), lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    f->saved_stderr = saved + 1;
    dup2(lf, 2);
    open_spool(f, NULL);
    append_range(f, 1, 1000, 1000); /* asserts every append reported 0 */
    rn_spool_stats(f->s, &st);
    assert_int_equal(st.segment_bytes, 32 << 10);
    assert_int_equal(st.write_errors, 0);
    assert_true(st.disk_full > 0);
    assert_true(st.dropped_records >= 400);
    assert_int_equal(st.records + st.dropped_records, 1000);
    assert_int_equal(f->drop_n, st.dropped_records);
    assert_string_equal(f->drop_why, "disk_full");
    assert_int_equal(st.last_seq, 1000);
    read_all(f, 0, 1 << 20, 1000);
    assert_int_equal(f->n_seqs, st.records);
    assert_int_equal(f->seqs[0], st.first_seq);
    uint64_t dropped = st.dropped_records;
    /* no room at all: everything acked (deleted), then a file takes the whole disk */
    rn_spool_ack(f->s, 1000);
    append_range(f, 1001, 1001, 1000);
    rn_spool_ack(f->s, 1001);
    int bf = open(blocker, O_WRONLY | O_CREAT, 0600);
    char zeros[4096] = { 0 };
    while (write(bf, zeros, sizeof zeros) > 0)
        ;
    close(bf);
    for (uint64_t q = 1002; q <= 1011; q++)
        assert_int_equal(rn_spool_append(f->s, q, payload_make(q, 1000), 1000, on_appended, f), 0);
    while (f->appended < 1011)
        uv_run(&f->loop, UV_RUN_ONCE);
    rn_spool_stats(f->s, &st);
    /* A few records may still fit in the segment's last, already allocated page; past that each
     * append either fails or makes room by dropping the oldest unacked: every record is in one
     * of the three counts, and the disk cannot have taken all ten. */
    uint64_t lost = f->append_errors + (st.dropped_records - dropped);
    assert_int_equal(st.write_errors, f->append_errors);
    assert_int_equal(lost + st.records, 10);
    assert_true(lost > 0);
    assert_true(st.records < 10);
    rn_spool_ack(f->s, 1011);
    /* room again: no restart, no reopen */
    assert_int_equal(unlink(blocker), 0);
    f->append_errors = 0;
    append_range(f, 1012, 1020, 1000);
    read_all(f, 1001, 1 << 20, 1000);
    assert_int_equal(f->n_seqs, 9);
    assert_int_equal(f->seqs[0], 1012);
    close_spool(f);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    f->saved_stderr = 0;
    close(lf);
    int lines = count_lines_with(log, "spool");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sed 's/^/# log: /' %s", log);
    assert_int_equal(system(cmd), 0);
    print_message("# full disk: 1000 appends, %" PRIu64 " oldest dropped to make room, 0 failed; "
                  "then 10 failed with no room at all; %d error lines logged\n", dropped, lines);
    /* the first trouble at once, the rest within RN_SPOOL_COMPLAIN_S: one line, and one more at
     * close for the failures counted since */
    assert_true(lines >= 1 && lines <= 2);
    assert_int_equal(umount2(f->mnt, 0), 0);
    f->mnt[0] = 0;
}

/* ---- kill -9 ----------------------------------------------------------------------------- */

typedef struct {
    rn_spool_t *s;
    uint64_t next;
} driver_t;

static void driver_append(driver_t *d);

/* The driver reports a seq on stdout only once the spool says it is stored (fsync'd). */
static void on_driver_appended(void *data, uint64_t seq, int status)
{
    if (status || write(1, &seq, sizeof seq) != sizeof seq)
        _exit(3);
    driver_append(data);
}

static void driver_append(driver_t *d)
{
    uint64_t q = d->next++;
    size_t n = payload_len(q, 0);
    if (rn_spool_append(d->s, q, payload_make(q, n), n, on_driver_appended, d) != 0)
        _exit(4);
}

/* `test_spool --crash-driver DIR`: appends forever with fsync "always", 8 appends outstanding,
 * until killed. */
static int crash_driver(const char *dir)
{
    uv_loop_t loop;
    driver_t d;
    char err[256];
    rn_spool_config_t cfg = { .fsync = RN_SPOOL_FSYNC_ALWAYS, .segment_bytes = 64 << 10 };
    uv_loop_init(&loop);
    rn_log_open("crash-driver", RN_LOG_ERROR, false);
    if (rn_spool_open(&loop, dir, &cfg, NULL, NULL, &d.s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    d.next = rn_spool_last_seq(d.s) + 1;
    for (int i = 0; i < 8; i++)
        driver_append(&d);
    return uv_run(&loop, UV_RUN_DEFAULT);
}

/* Runs the driver for ms milliseconds, then SIGKILLs it. Returns the highest seq it reported
 * stored (checking that reports are consecutive from first), or 0 if none. */
static uint64_t run_driver_and_kill(const char *dir, int ms, uint64_t first)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(self_exe, self_exe, "--crash-driver", dir, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    uint8_t buf[8192];
    size_t have = 0;
    uint64_t expect = first, best = 0;
    double deadline = now_s() + ms / 1000.0;
    bool killed = false;
    for (;;) {
        if (!killed && now_s() >= deadline) {
            kill(pid, SIGKILL);
            killed = true;
        }
        struct pollfd pfd = { p[0], POLLIN, 0 };
        if (poll(&pfd, 1, killed ? 1000 : 1) <= 0)
            continue;
        ssize_t n = read(p[0], buf + have, sizeof buf - have);
        if (n <= 0)
            break; /* EOF: the driver is dead */
        have += (size_t)n;
        size_t used = 0;
        for (; have - used >= 8; used += 8) {
            uint64_t q;
            memcpy(&q, buf + used, 8);
            assert_int_equal(q, expect);
            best = q;
            expect++;
        }
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    return best;
}

/* kill -9 at random moments never loses a record the driver was told is stored, never corrupts
 * the spool (at most one torn tail per kill), and seqs stay consecutive. */
static void test_kill9_loses_only_unreported_records(void **state)
{
    fix_t *f = *state;
    uint64_t reported = 0, total_torn = 0;
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int round = 0; round < 12; round++) {
        int ms = 30 + rand() % 250;
        uint64_t best = run_driver_and_kill(f->dir, ms, f->last_seen + 1);
        if (best)
            reported = best;
        open_spool(f, NULL);
        rn_spool_stats_t st;
        rn_spool_stats(f->s, &st);
        assert_int_equal(st.corrupt_segments, 0);
        assert_true(st.torn_bytes <= RN_SPOOL_RECORD_HEADER + 3000);
        total_torn += st.torn_bytes > 0;
        assert_true(rn_spool_last_seq(f->s) >= reported);
        read_all(f, 0, 1 << 20, 0);
        assert_int_equal(f->n_seqs, rn_spool_last_seq(f->s));
        for (size_t i = 0; i < f->n_seqs; i++)
            assert_int_equal(f->seqs[i], i + 1);
        f->last_seen = rn_spool_last_seq(f->s);
        close_spool(f);
    }
    assert_true(reported > 100);
    printf("# kill -9: 12 rounds (seed %u), %" PRIu64 " records reported stored, all present; "
           "%" PRIu64 " torn tails cut\n", seed, reported, total_torn);
}

/* ---- figures ----------------------------------------------------------------------------- */

typedef struct {
    rn_spool_t *s;
    uint8_t *tmpl;
    uint64_t next, done, max_n;
    double until;
    int outstanding;
} bench_t;

static void bench_append(bench_t *b);

static void on_bench_appended(void *data, uint64_t seq, int status)
{
    bench_t *b = data;
    b->done++;
    b->outstanding--;
    assert_int_equal(status, 0);
    if (b->next <= b->max_n && now_s() < b->until)
        bench_append(b);
}

static void bench_append(bench_t *b)
{
    uint8_t *p = malloc(2048);
    memcpy(p, b->tmpl, 2048);
    b->outstanding++;
    assert_int_equal(rn_spool_append(b->s, b->next++, p, 2048, on_bench_appended, b), 0);
}

/* Appends 2 KiB records with `window` appends outstanding for at most max_s seconds or max_n
 * records into dir/sub, and prints the rate. */
static void bench_policy(fix_t *f, const char *sub, rn_spool_fsync_t pol, int window,
                         double max_s, uint64_t max_n)
{
    char dir[128], err[256];
    snprintf(dir, sizeof dir, "%s/%s", f->dir, sub);
    rn_spool_config_t cfg = { .fsync = pol, .max_bytes = 1ull << 30 };
    bench_t b = { .tmpl = payload_make(7, 2048), .next = 1, .max_n = max_n };
    assert_int_equal(rn_spool_open(&f->loop, dir, &cfg, NULL, NULL, &b.s, err, sizeof err), 0);
    double t0 = now_s();
    b.until = t0 + max_s;
    for (int i = 0; i < window; i++)
        bench_append(&b);
    while (b.outstanding > 0)
        uv_run(&f->loop, UV_RUN_ONCE);
    double dt = now_s() - t0;
    printf("# append fsync=%-8s %2d outstanding: %7" PRIu64 " records in %.2f s = %8.0f records/s, "
           "%7.1f MB/s\n", sub, window, b.done, dt, b.done / dt, b.done * 2048 / dt / 1e6);
    f->s = b.s;
    close_spool(f);
    free(b.tmpl);
}

/* Measures appends under each fsync policy and replay reads; prints the figures. */
static void test_measure_throughput(void **state)
{
    fix_t *f = *state;
    bench_policy(f, "never", RN_SPOOL_FSYNC_NEVER, 64, 3, 50000);
    bench_policy(f, "interval", RN_SPOOL_FSYNC_INTERVAL, 64, 3, 50000);
    bench_policy(f, "always", RN_SPOOL_FSYNC_ALWAYS, 64, 2, 50000);
    bench_policy(f, "always1", RN_SPOOL_FSYNC_ALWAYS, 1, 2, 50000);
    char dir[128], err[256];
    snprintf(dir, sizeof dir, "%s/never", f->dir);
    skip_payload_check = true;
    for (int cold = 0; cold < 2; cold++) {
        if (cold) { /* evict the (clean, synced) pages: a read from the device */
            char cmd[256];
            snprintf(cmd, sizeof cmd, "sync; for x in %s/seg-*; do dd of=$x oflag=nocache "
                     "conv=notrunc,fdatasync count=0 status=none; done", dir);
            if (system(cmd) != 0)
                continue;
        }
        assert_int_equal(rn_spool_open(&f->loop, dir, NULL, NULL, NULL, &f->s, err, sizeof err), 0);
        double t0 = now_s();
        read_all(f, 0, 256 << 10, 2048);
        double dt = now_s() - t0;
        printf("# replay read (%s cache), 256 KiB chunks: %zu records in %.2f s = %.0f records/s, "
               "%.1f MB/s\n", cold ? "evicted" : "warm", f->n_seqs, dt, f->n_seqs / dt,
               f->n_seqs * 2048 / dt / 1e6);
        close_spool(f);
    }
    skip_payload_check = false;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--crash-driver") == 0)
        return crash_driver(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        return 1;
    self_exe[n] = 0;
    rn_log_open("test_spool", RN_LOG_ERROR, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_reopen_replay_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_crc_at_tail_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_older_segment_skips_its_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_trims_whole_segments_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_bytes_drops_oldest_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_age_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wall_clock_step_drops_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_after_clean_close_reads_no_records, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_damaged_older_segment_is_never_written_to, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_fsync_keeps_records_and_says_so, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_drops_oldest_and_recovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fsync_policies_selectable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_opener_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_reads_in_chunks_from_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_finishes_appends_and_cancels_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kill9_loses_only_unreported_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_measure_throughput, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
