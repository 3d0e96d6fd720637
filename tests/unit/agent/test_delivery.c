/* Tests of agent/delivery.c: a real spool in a temporary directory, a real uv loop, and a fake
 * link that records what it is given (frames here are 8 bytes of seq and filler; delivery never
 * looks inside them). Acks come back asynchronously, from a timer, as they would from the
 * network. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clock.h"
#include "delivery.h"
#include "error.h"
#include "log.h"

#define MAX_SENT 20000

typedef struct {
    uv_loop_t loop;
    char dir[64];
    rn_delivery_t *d;
    rn_delivery_config_t cfg;
    bool link_up;                 /* the fake link refuses frames when down */
    bool fail_next;               /* ... and loses the next one with -ENOMEM */
    uint64_t sent[MAX_SENT];
    size_t n_sent;
    uint64_t sent_bytes, max_inflight;
    double first_sent_at, last_sent_at;
    uv_timer_t acker;             /* acks everything sent so far, every ack_ms */
    uv_timer_t tick;              /* wakes run_until() */
    bool acking;
    /* joined sends (coalesce_bytes): every frame is frame_len bytes, so a send of len bytes
     * holds len / frame_len frames; squeeze > 1 plays a link that compresses by that factor */
    size_t frame_len, max_send, n_sends;
    unsigned squeeze;
} fix_t;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static double now_s(void) { return (double)rn_clock_mono_ns() / 1e9; }

static uint8_t *frame_make(uint64_t seq, size_t len)
{
    uint8_t *p = calloc(1, len);
    memcpy(p, &seq, sizeof seq);
    return p;
}

/* The fake link: checks the frames, records their seqs and the bytes in flight, frees them. */
static int fake_send(void *ctx, uint8_t *frame, size_t len, size_t *wire_len)
{
    fix_t *f = ctx;
    size_t n = f->frame_len ? len / f->frame_len : 1;
    uint64_t seqs[64];
    assert_true(n >= 1 && n <= 64);
    if (f->frame_len)
        assert_int_equal(len % f->frame_len, 0);
    for (size_t i = 0; i < n; i++)
        memcpy(&seqs[i], frame + i * f->frame_len, sizeof seqs[i]);
    free(frame);
    if (!f->link_up)
        return -ENOTCONN;
    if (f->fail_next) {
        f->fail_next = false;
        return -ENOMEM;
    }
    if (f->squeeze > 1)
        *wire_len = len / f->squeeze;
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    if (st.inflight_bytes + *wire_len > f->max_inflight)
        f->max_inflight = st.inflight_bytes + *wire_len;
    for (size_t i = 0; i < n; i++) {
        assert_true(f->n_sent < MAX_SENT);
        f->sent[f->n_sent++] = seqs[i];
    }
    f->n_sends++;
    if (len > f->max_send)
        f->max_send = len;
    f->sent_bytes += *wire_len;
    f->last_sent_at = now_s();
    if (f->n_sends == 1)
        f->first_sent_at = f->last_sent_at;
    return 0;
}

static void on_acker(uv_timer_t *t)
{
    fix_t *f = t->data;
    if (f->acking && f->link_up && f->n_sent)
        rn_delivery_acked(f->d, f->sent[f->n_sent - 1]);
}

static int setup(void **state)
{
    fix_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rn-delivery-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    uv_loop_init(&f->loop);
    uv_timer_init(&f->loop, &f->acker);
    f->acker.data = f;
    uv_timer_init(&f->loop, &f->tick);
    f->cfg.seq_seed = 1;
    *state = f;
    return 0;
}

static void on_closed(void *data) { *(bool *)data = true; }

static void close_delivery(fix_t *f)
{
    bool closed = false;
    f->acking = false;
    uv_timer_stop(&f->acker);
    rn_delivery_close(f->d, on_closed, &closed);
    while (!closed)
        uv_run(&f->loop, UV_RUN_ONCE);
    f->d = NULL;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    if (f->d)
        close_delivery(f);
    uv_close((uv_handle_t *)&f->acker, NULL);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void open_delivery(fix_t *f)
{
    char err[256] = "";
    int rc = rn_delivery_open(&f->loop, f->dir, &f->cfg, fake_send, f, &f->d, err, sizeof err);
    if (rc)
        fail_msg("open: %s", err);
}

/* Submits n frames of len bytes with the next seqs. Returns the last seq. */
static uint64_t submit_n(fix_t *f, size_t n, size_t len)
{
    uint64_t q = 0;
    for (size_t i = 0; i < n; i++) {
        q = rn_delivery_next_seq(f->d);
        assert_int_equal(rn_delivery_submit(f->d, q, frame_make(q, len), len), 0);
    }
    return q;
}

static void on_tick(uv_timer_t *t) {}

/* Runs the loop until pred holds or seconds pass. Returns pred's value. */
static bool run_until(fix_t *f, bool (*pred)(fix_t *), double seconds)
{
    double end = now_s() + seconds;
    uv_timer_start(&f->tick, on_tick, 5, 5); /* wakes the loop */
    while (!pred(f) && now_s() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->tick);
    return pred(f);
}

static uint64_t want_sent, want_written;
static bool sent_enough(fix_t *f) { return f->n_sent >= want_sent; }
static bool all_acked(fix_t *f)
{
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    return st.inflight_records == 0;
}
static bool spool_written(fix_t *f)
{
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    return st.spool.written_seq >= want_written;
}

static void connect_link(fix_t *f)
{
    f->link_up = true;
    rn_delivery_connected(f->d);
}

static void disconnect_link(fix_t *f)
{
    f->link_up = false;
    rn_delivery_disconnected(f->d);
}

/* Checks that sent[from..n_sent) is exactly first, first + 1, ... */
static void assert_sent_run(fix_t *f, size_t from, uint64_t first)
{
    for (size_t i = from; i < f->n_sent; i++)
        if (f->sent[i] != first + (i - from))
            fail_msg("sent[%zu] = %" PRIu64 ", expected %" PRIu64, i, f->sent[i],
                     first + (i - from));
}

static void start_acking(fix_t *f, unsigned ms)
{
    f->acking = true;
    uv_timer_start(&f->acker, on_acker, ms, ms);
}

/* ---- behaviour --------------------------------------------------------------------------- */

/* While the link is down, batches go to disk and nothing is sent. */
static void test_disconnected_submits_go_to_disk_only(void **state)
{
    fix_t *f = *state;
    open_delivery(f);
    assert_int_equal(rn_delivery_next_seq(f->d), 1);
    want_written = submit_n(f, 20, 500);
    assert_true(run_until(f, spool_written, 5));
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(st.spool.records, 20);
    assert_int_equal(st.next_seq, 21);
    assert_int_equal(st.backlog_seqs, 20);
    assert_false(st.connected);
}

/* On connect the backlog goes out from disk oldest first; batches submitted during the replay
 * wait for it; every seq is sent once, in order. */
static void test_connect_sends_backlog_then_live_in_order(void **state)
{
    fix_t *f = *state;
    f->cfg.memory_bytes = 4 << 10;
    f->cfg.chunk_bytes = 16 << 10;
    f->cfg.window_bytes = 64 << 10;
    open_delivery(f);
    want_written = submit_n(f, 300, 1024);
    assert_true(run_until(f, spool_written, 5));
    start_acking(f, 2);
    connect_link(f);
    submit_n(f, 50, 1024); /* live, while the replay has barely started */
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_true(st.replaying);
    want_sent = 100;
    assert_true(run_until(f, sent_enough, 5));
    submit_n(f, 50, 1024);
    want_sent = 400;
    assert_true(run_until(f, sent_enough, 5));
    assert_int_equal(f->n_sent, 400);
    assert_sent_run(f, 0, 1);
    rn_delivery_stats(f->d, &st);
    assert_false(st.replaying);
    assert_int_equal(st.backlog_seqs, 0);
    /* caught up (and the window empty once the acks are in): a live batch goes out at once,
     * from memory */
    assert_true(run_until(f, all_acked, 5));
    submit_n(f, 1, 1024);
    assert_int_equal(f->n_sent, 401);
    assert_int_equal(f->sent[400], 401);
}

/* No more than the window is in flight until acks arrive. */
static void test_window_limits_bytes_in_flight(void **state)
{
    fix_t *f = *state;
    f->cfg.window_bytes = 8 << 10;
    open_delivery(f);
    connect_link(f);
    submit_n(f, 100, 1024);
    want_sent = 1000; /* never: just run 100 ms */
    run_until(f, sent_enough, 0.1);
    assert_int_equal(f->n_sent, 8);
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_int_equal(st.inflight_bytes, 8 << 10);
    assert_int_equal(st.inflight_records, 8);
    rn_delivery_acked(f->d, 4);
    assert_int_equal(f->n_sent, 12);
    start_acking(f, 1);
    want_sent = 100;
    assert_true(run_until(f, sent_enough, 5));
    assert_sent_run(f, 0, 1);
    assert_true(f->max_inflight <= 8 << 10);
}

/* A disconnect and reconnect resends everything not acked, in order; acked batches never again,
 * and the spool is empty once all is acked. */
static void test_reconnect_resends_unacked(void **state)
{
    fix_t *f = *state;
    open_delivery(f);
    connect_link(f);
    submit_n(f, 30, 700);
    assert_int_equal(f->n_sent, 30);
    rn_delivery_acked(f->d, 10);
    disconnect_link(f);
    connect_link(f);
    want_sent = 50;
    assert_true(run_until(f, sent_enough, 5));
    assert_sent_run(f, 30, 11);
    /* the same again, and a send that fails because the link went down under us */
    f->link_up = false;
    submit_n(f, 1, 700); /* seq 31: the send fails; it stays spooled */
    disconnect_link(f);
    connect_link(f);
    want_sent = 71;
    assert_true(run_until(f, sent_enough, 5));
    assert_sent_run(f, 50, 11);
    rn_delivery_acked(f->d, 31);
    disconnect_link(f);
    connect_link(f);
    want_written = 31;
    run_until(f, spool_written, 1);
    uv_sleep(20);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->n_sent, 71);
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_int_equal(st.acked_seq, 31);
    assert_int_equal(st.inflight_records, 0);
    assert_int_equal(st.spool.records, 0);
}

/* A frame the link loses while up (out of memory) makes delivery start again from the last ack,
 * a little later, so nothing is skipped. */
static void test_send_error_on_a_live_link_rewinds(void **state)
{
    fix_t *f = *state;
    open_delivery(f);
    connect_link(f);
    submit_n(f, 10, 100);
    rn_delivery_acked(f->d, 10);
    f->fail_next = true;
    submit_n(f, 5, 100); /* 11 is lost, 12..15 wait */
    assert_int_equal(f->n_sent, 10);
    want_sent = 15;
    assert_true(run_until(f, sent_enough, 3));
    assert_sent_run(f, 0, 1);
}

/* With a rate cap the replay goes out at about that rate. */
static void test_rate_cap_observed(void **state)
{
    fix_t *f = *state;
    f->cfg.rate_bytes_per_s = 1000000;
    f->cfg.window_bytes = 8 << 20;
    open_delivery(f);
    want_written = submit_n(f, 500, 2000);
    assert_true(run_until(f, spool_written, 5));
    start_acking(f, 5);
    connect_link(f);
    want_sent = 500;
    assert_true(run_until(f, sent_enough, 10));
    assert_sent_run(f, 0, 1);
    double dt = f->last_sent_at - f->first_sent_at;
    double rate = (double)(f->sent_bytes - 2000) / dt;
    printf("# rate cap 1000000 B/s: %" PRIu64 " bytes in %.3f s = %.0f B/s\n", f->sent_bytes, dt,
           rate);
    assert_true(rate > 0.85e6 && rate < 1.15e6);
}

/* Numbering continues after what is on disk, or from the seed if that is higher. */
static void test_next_seq_continues_after_the_spool(void **state)
{
    fix_t *f = *state;
    f->cfg.seq_seed = 1000;
    open_delivery(f);
    assert_int_equal(rn_delivery_next_seq(f->d), 1000);
    submit_n(f, 10, 100);
    close_delivery(f);
    f->cfg.seq_seed = 5;
    open_delivery(f);
    assert_int_equal(rn_delivery_next_seq(f->d), 1010);
    close_delivery(f);
    f->cfg.seq_seed = 99999;
    open_delivery(f);
    assert_int_equal(rn_delivery_next_seq(f->d), 99999);
    /* a seq below next_seq is refused and counted */
    assert_int_equal(rn_delivery_submit(f->d, 5, frame_make(5, 10), 10), -EINVAL);
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_int_equal(st.dropped_records, 1);
    /* the backlog from the previous run goes out on connect */
    connect_link(f);
    want_sent = 10;
    assert_true(run_until(f, sent_enough, 5));
    assert_sent_run(f, 0, 1000);
}

/* What the spool dropped to stay within max_bytes is counted, and the replay skips the gap. */
static void test_spool_drops_are_counted_and_skipped(void **state)
{
    fix_t *f = *state;
    f->cfg.spool = (rn_spool_config_t){ .segment_bytes = 1200, .max_bytes = 3600 };
    f->cfg.memory_bytes = 256;
    open_delivery(f);
    want_written = submit_n(f, 100, 100);
    assert_true(run_until(f, spool_written, 5));
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_int_equal(st.dropped_records, 70);
    assert_int_equal(st.spool.first_seq, 71);
    connect_link(f);
    want_sent = 30;
    assert_true(run_until(f, sent_enough, 5));
    uv_sleep(20);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->n_sent, 30);
    assert_sent_run(f, 0, 71);
}

/* Closing in the middle of a replay (a disk read out) frees everything and calls back once. */
static void test_close_during_replay(void **state)
{
    fix_t *f = *state;
    f->cfg.memory_bytes = 1024;
    f->cfg.chunk_bytes = 4096;
    open_delivery(f);
    submit_n(f, 200, 1000);
    connect_link(f);
    close_delivery(f);
    assert_true(f->n_sent < 200);
}

/* ---- joined and compressed sends (replay after a long cut) ---------------------------------- */

static void test_coalesced_replay_joins_frames_in_order_within_the_limit(void **state)
{
    fix_t *f = *state;
    f->frame_len = 100;
    f->cfg.coalesce_bytes = 1000;
    f->cfg.memory_bytes = 8 << 10;  /* most of the backlog is read back from disk */
    f->cfg.chunk_bytes = 4 << 10;
    open_delivery(f);
    want_written = submit_n(f, 500, 100);
    assert_true(run_until(f, spool_written, 5));
    start_acking(f, 2);
    connect_link(f);
    want_sent = 500;
    assert_true(run_until(f, sent_enough, 5));
    assert_int_equal(f->n_sent, 500);
    assert_sent_run(f, 0, 1);
    printf("# 500 frames of 100 bytes in %zu sends, the largest %zu bytes\n", f->n_sends,
           f->max_send);
    assert_true(f->max_send <= 1000);
    assert_true(f->n_sends <= 80); /* ~10 per send; chunk and memory edges cut a few short */
    /* caught up: a live frame goes out alone, at once */
    size_t sends = f->n_sends;
    submit_n(f, 1, 100);
    assert_int_equal(f->n_sends, sends + 1);
    assert_int_equal(f->sent[500], 501);
}

static void test_coalescing_keeps_to_the_window(void **state)
{
    fix_t *f = *state;
    f->frame_len = 100;
    f->cfg.coalesce_bytes = 6400;
    f->cfg.window_bytes = 1000;
    open_delivery(f);
    want_written = submit_n(f, 200, 100);
    assert_true(run_until(f, spool_written, 5));
    start_acking(f, 2);
    connect_link(f);
    want_sent = 200;
    assert_true(run_until(f, sent_enough, 5));
    assert_sent_run(f, 0, 1);
    assert_true(f->max_send <= 1000);
    assert_true(f->max_inflight <= 1000);
}

/* The rate cap counts what the link put on the wire: a link that compresses 4:1 carries a
 * replay of 2 MB raw at 500 kB/s in ~1 s, not 4 s. */
static void test_rate_cap_counts_compressed_bytes(void **state)
{
    fix_t *f = *state;
    f->frame_len = 2000;
    f->squeeze = 4;
    f->cfg.coalesce_bytes = 32000;
    f->cfg.rate_bytes_per_s = 500000;
    f->cfg.window_bytes = 8 << 20;
    open_delivery(f);
    want_written = submit_n(f, 1000, 2000);
    assert_true(run_until(f, spool_written, 5));
    start_acking(f, 5);
    connect_link(f);
    double t0 = now_s();
    want_sent = 1000;
    assert_true(run_until(f, sent_enough, 10));
    double dt = now_s() - t0;
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    printf("# 2000000 bytes raw, %" PRIu64 " on the wire, in %.2f s at a cap of 500000 B/s\n",
           st.sent_bytes, dt);
    assert_sent_run(f, 0, 1);
    assert_int_equal(st.sent_raw_bytes, 2000000);
    assert_int_equal(st.sent_bytes, 500000);
    assert_true(dt > 0.8 && dt < 1.4);
}

/* ---- seq numbering that never goes back ---------------------------------------------------- */

/* The seq in dir/next_seq, or 0 when the file is missing. */
static uint64_t seq_file(const char *dir)
{
    char path[128];
    unsigned long long v = 0;
    snprintf(path, sizeof path, "%s/%s", dir, RN_DELIVERY_SEQ_FILE);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    assert_int_equal(fscanf(fp, "%llu", &v), 1);
    fclose(fp);
    return v;
}

/* Removes everything in dir but the next_seq file: the spool as a new one finds it. */
static void empty_spool(const char *dir)
{
    static const char *names[] = { "index", "lock" };
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -f %s/seg-*.rns", dir);
    assert_int_equal(system(cmd), 0);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(cmd, sizeof cmd, "%s/%s", dir, names[i]);
        unlink(cmd);
    }
}

/* An agent whose clock is far behind at start numbers from its seed; the collector, which has
 * this node's batches up to a much higher seq, acks that seq at the hello. Every batch submitted
 * from then on must still be sent (numbered above the ack), and the batches spooled before the
 * ack, whose numbers the collector already has, are counted as given up, not lost silently. */
static void test_clock_behind_still_delivers_every_new_batch(void **state)
{
    fix_t *f = *state;
    f->cfg.seq_seed = 1000;                 /* the wall clock in ms, far behind */
    open_delivery(f);
    submit_n(f, 3, 100);                    /* 1000..1002, spooled before the link came up */
    want_written = 1002;
    assert_true(run_until(f, spool_written, 5));
    rn_delivery_acked(f->d, 5000000);       /* the collector's ack right after the hello */
    connect_link(f);
    start_acking(f, 5);
    uint64_t first = rn_delivery_next_seq(f->d);
    assert_int_equal(first, 5000001);
    submit_n(f, 20, 100);
    want_sent = 20;
    assert_true(run_until(f, sent_enough, 5));
    assert_true(run_until(f, all_acked, 5));
    assert_int_equal(f->n_sent, 20);
    assert_sent_run(f, 0, first);
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_int_equal(st.seq_jumps, 1);
    assert_int_equal(st.seq_jump_records, 3);
    assert_int_equal(st.dropped_records, 3);
    assert_int_equal(st.acked_seq, first + 19);
    /* the jump is on disk: a restart with the same clock continues above it */
    close_delivery(f);
    assert_int_equal(seq_file(f->dir), first + 20);
    open_delivery(f);
    assert_int_equal(rn_delivery_next_seq(f->d), first + 20);
}

/* A spool that is empty at open (all acked and trimmed) still continues the numbering: the
 * next_seq file keeps it, whatever the clock says. */
static void test_persisted_seq_survives_reopen_with_an_empty_spool(void **state)
{
    fix_t *f = *state;
    f->cfg.seq_seed = 700000;
    open_delivery(f);
    submit_n(f, 10, 100);                   /* 700000..700009 */
    close_delivery(f);
    assert_int_equal(seq_file(f->dir), 700010);
    empty_spool(f->dir);
    f->cfg.seq_seed = 5;                    /* the clock went back */
    open_delivery(f);
    assert_int_equal(rn_delivery_next_seq(f->d), 700010);
    rn_delivery_stats_t st;
    rn_delivery_stats(f->d, &st);
    assert_int_equal(st.spool.records, 0);
    /* an unreadable file is ignored: the seed and the spool still give a floor */
    close_delivery(f);
    empty_spool(f->dir);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, RN_DELIVERY_SEQ_FILE);
    FILE *fp = fopen(path, "w");
    fputs("12x\n", fp);
    fclose(fp);
    open_delivery(f);
    assert_int_equal(rn_delivery_next_seq(f->d), 5);
}

/* A crash (no close) never hands out a seq twice, even when the batches sent last never reached
 * the spool's disk: the next_seq file lies above every seq handed out at all times, including
 * across a reserve block, and the seqs after a restart start above it. */
static void test_crash_never_reuses_a_seq(void **state)
{
    fix_t *f = *state;
    char crashed[64];
    snprintf(crashed, sizeof crashed, "/tmp/rn-delivery-XXXXXX");
    assert_non_null(mkdtemp(crashed));
    f->cfg.seq_seed = 1;
    open_delivery(f);
    connect_link(f);
    uint64_t n = RN_DELIVERY_SEQ_RESERVE + 50, last = 0;
    for (uint64_t i = 0; i < n; i++) {
        last = submit_n(f, 1, 16);
        assert_true(seq_file(f->dir) > last);
    }
    assert_int_equal(f->n_sent, n);         /* all went out from memory */
    /* what a crash leaves: the next_seq file, and none of the spool's queued writes */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp %s/%s %s/", f->dir, RN_DELIVERY_SEQ_FILE, crashed);
    assert_int_equal(system(cmd), 0);
    close_delivery(f);
    char err[256] = "";
    rn_delivery_t *d2;
    assert_int_equal(rn_delivery_open(&f->loop, crashed, &f->cfg, fake_send, f, &d2, err,
                                      sizeof err), 0);
    uint64_t next = rn_delivery_next_seq(d2);
    printf("# %" PRIu64 " batches handed out, next after the crash %" PRIu64 "\n", last, next);
    assert_true(next > last);
    assert_true(next <= last + 1 + RN_DELIVERY_SEQ_RESERVE); /* a gap, bounded */
    bool closed = false;
    rn_delivery_close(d2, on_closed, &closed);
    while (!closed)
        uv_run(&f->loop, UV_RUN_ONCE);
    nftw(crashed, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    rn_log_open("test_delivery", RN_LOG_ERROR, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disconnected_submits_go_to_disk_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_connect_sends_backlog_then_live_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_window_limits_bytes_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_resends_unacked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_error_on_a_live_link_rewinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_cap_observed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_seq_continues_after_the_spool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_drops_are_counted_and_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_during_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesced_replay_joins_frames_in_order_within_the_limit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalescing_keeps_to_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_cap_counts_compressed_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_behind_still_delivers_every_new_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_persisted_seq_survives_reopen_with_an_empty_spool,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_never_reuses_a_seq, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
