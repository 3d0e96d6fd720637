/* Delivery (see delivery.h for the rules it keeps).
 *
 * Why this shape: the spool on disk is the only copy that matters; everything here is a cursor
 * over it. `cursor` is the highest seq sent on this connection; the next frame to send is the
 * first one above it, taken from one of two places:
 *   - `mem`, a queue of the newest submitted frames, which holds every submitted seq above
 *     `mem_floor` (frames leave it from the front when sent, or when it passes memory_bytes:
 *     they are on disk anyway);
 *   - when cursor < mem_floor, the frames in between are only on disk: a chunk of them is read
 *     (rn_spool_read, on the spool's worker) into `replay` and sent from there.
 * A disk read that finds nothing above the cursor means those seqs were dropped or never stored
 * (counted by the spool), and the cursor jumps over them. `flight` lists (seq, len) of what was
 * sent and not yet acked, for the window. A connection generation number makes a disk read that
 * completes after a disconnect harmless.
 *
 * Replay after a long cut: with coalesce_bytes set, the frames at hand (rest of the replay chunk,
 * then memory) are joined into one send of up to that many bytes, which the link (the uplink)
 * may compress as one; a 10-minute backlog of a block agent is several hundred batches of a few
 * hundred bytes, and compressing them one by one would save little. The rate cap and the window count what the
 * link reports it put on the wire. */
#include "delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define BURST_NS (50 * 1000000ull)   /* rate cap: credit an idle link may bank */
#define READ_RETRY_MS 1000
#define RESEND_RETRY_MS 1000

typedef struct mem {
    struct mem *next;
    uint64_t seq;
    uint8_t *frame;
    size_t len;
} mem_t;

typedef struct {
    uint64_t seq;
    size_t len;
} flight_t;

struct rn_delivery {
    uv_loop_t *loop;
    rn_spool_t *spool;
    char *dir;                   /* the spool directory, home of the next_seq file */
    rn_delivery_config_t cfg;
    rn_delivery_send_fn send;
    void *ctx;
    uv_timer_t timer;            /* rate cap wait, or a disk read retry */
    bool connected, closing, reading;
    bool resync;                 /* a send failed on a live link: rewind when the timer fires */
    uint64_t gen, read_gen, read_limit;
    uint64_t next_seq, last_submitted, acked, cursor, mem_floor;
    uint64_t reserved;           /* the seq in the next_seq file: above every seq handed out */
    /* for seq_jump_records: the seq below the first one at hand at open, and the seqs
     * hole_lo+1..hole_hi between the spool's last and next_seq at open, never handed out */
    uint64_t base, hole_lo, hole_hi;
    uint64_t seq_jumps, seq_jump_records, seq_file_errors;
    mem_t *mem_head, *mem_tail;
    size_t mem_bytes;
    rn_spool_record_t *replay;
    size_t n_replay, i_replay;
    flight_t *flight;            /* ring */
    size_t fl_head, fl_n, fl_cap;
    uint64_t fl_bytes;
    rn_mono_ns_t pace_at;        /* rate cap: earliest time of the next send */
    uint64_t sent_records, sent_bytes, sent_raw_bytes, dropped;
    /* the backlog found at connect: its last seq (0: none or done), when the replay started,
     * what it took on the wire and before compression */
    uint64_t catchup_to, catchup_n, catchup_wire, catchup_raw;
    rn_mono_ns_t catchup_start;
    int closing_parts;
    void (*close_cb)(void *);
    void *close_data;
};

static void pump(rn_delivery_t *d);

/* ---- small queues ------------------------------------------------------------------------ */

/* Removes the front of mem (it stays on disk); the floor moves up to it. */
static void mem_pop(rn_delivery_t *d, bool free_frame)
{
    mem_t *m = d->mem_head;
    d->mem_head = m->next;
    if (!d->mem_head)
        d->mem_tail = NULL;
    d->mem_bytes -= m->len;
    d->mem_floor = m->seq;
    if (free_frame)
        free(m->frame);
    free(m);
}

/* Frees the replay chunk and whatever frames of it were not sent. */
static void replay_clear(rn_delivery_t *d)
{
    for (size_t i = d->i_replay; i < d->n_replay; i++)
        free(d->replay[i].data);
    free(d->replay);
    d->replay = NULL;
    d->n_replay = d->i_replay = 0;
}

/* Records a sent frame for the window. Returns 0 or -ENOMEM. */
static int flight_push(rn_delivery_t *d, uint64_t seq, size_t len)
{
    if (d->fl_n == d->fl_cap) {
        size_t cap = d->fl_cap ? d->fl_cap * 2 : 64;
        flight_t *f = malloc(cap * sizeof *f);
        if (!f)
            return -ENOMEM;
        for (size_t i = 0; i < d->fl_n; i++)
            f[i] = d->flight[(d->fl_head + i) % d->fl_cap];
        free(d->flight);
        d->flight = f;
        d->fl_cap = cap;
        d->fl_head = 0;
    }
    d->flight[(d->fl_head + d->fl_n++) % d->fl_cap] = (flight_t){ seq, len };
    d->fl_bytes += len;
    return 0;
}

/* Forgets in-flight frames up to seq (all of them with UINT64_MAX). */
static void flight_trim(rn_delivery_t *d, uint64_t seq)
{
    while (d->fl_n && d->flight[d->fl_head].seq <= seq) {
        d->fl_bytes -= d->flight[d->fl_head].len;
        d->fl_head = (d->fl_head + 1) % d->fl_cap;
        d->fl_n--;
    }
}

/* ---- sending ----------------------------------------------------------------------------- */

static void reset_connection(rn_delivery_t *d);

/* Continues after a rate cap wait or a failed read; after a failed send, first rewinds to the
 * last ack. */
static void on_timer(uv_timer_t *t)
{
    rn_delivery_t *d = container_of(t, rn_delivery_t, timer);
    if (d->resync) {
        d->resync = false;
        reset_connection(d);
    }
    pump(d);
}

/* True if the window and the rate cap let a frame of len bytes go now; if only the rate cap
 * holds it back, arms the timer for when it will. */
static bool may_send(rn_delivery_t *d, size_t len)
{
    if (d->fl_bytes > 0 && d->fl_bytes + len > d->cfg.window_bytes)
        return false; /* an ack will pump */
    if (!d->cfg.rate_bytes_per_s)
        return true;
    rn_mono_ns_t now = rn_clock_mono_ns();
    if (now >= d->pace_at)
        return true;
    if (!uv_is_active((uv_handle_t *)&d->timer))
        uv_timer_start(&d->timer, on_timer, (d->pace_at - now + 999999) / 1000000, 0);
    return false;
}

/* Hands frames first..last (joined in one buffer, owned) to the link and advances the cursor.
 * Returns 0, or the send error: the link is down and sending stops until the next connect. */
static int send_one(rn_delivery_t *d, uint64_t first, uint64_t last, size_t n, uint8_t *frame,
                    size_t len)
{
    size_t wire = len;
    int rc = d->send(d->ctx, frame, len, &wire);
    if (rc == -ENOTCONN) {
        rn_debug("delivery: link down at batch %" PRIu64 "; waiting for a reconnect", first);
        d->connected = false;
        return rc;
    }
    if (rc) { /* the link is up but lost this frame: start over from the last ack, later */
        rn_warn("delivery: send of batch %" PRIu64 " failed: %s; resending from %" PRIu64
                " in %d ms", first, rn_strerror(rc), d->acked + 1, RESEND_RETRY_MS);
        d->resync = true;
        uv_timer_start(&d->timer, on_timer, RESEND_RETRY_MS, 0);
        return rc;
    }
    d->cursor = last;
    while (d->mem_head && d->mem_head->seq <= last)
        mem_pop(d, true);
    if (flight_push(d, last, wire) != 0)
        rn_warn("delivery: out of memory; the window does not count batch %" PRIu64, last);
    d->sent_records += n;
    d->sent_bytes += wire;
    d->sent_raw_bytes += len;
    if (d->catchup_to && first <= d->catchup_to) {
        d->catchup_n += n;
        d->catchup_wire += wire;
        d->catchup_raw += len;
    }
    if (d->cfg.rate_bytes_per_s) {
        rn_mono_ns_t now = rn_clock_mono_ns();
        rn_mono_ns_t base = d->pace_at + BURST_NS > now ? d->pace_at : now - BURST_NS;
        d->pace_at = base + wire * 1000000000ull / d->cfg.rate_bytes_per_s;
    }
    return 0;
}

/* The next frame above `after` that is at hand without a disk read: in the replay chunk (its
 * records at or below `after` are dropped on the way), else in memory once `after` has reached
 * it. Returns true with its seq and length; take() then takes it. */
static bool peek(rn_delivery_t *d, uint64_t after, uint64_t *seq, size_t *len)
{
    while (d->i_replay < d->n_replay && d->replay[d->i_replay].seq <= after)
        free(d->replay[d->i_replay++].data);
    if (d->i_replay < d->n_replay) {
        *seq = d->replay[d->i_replay].seq;
        *len = d->replay[d->i_replay].len;
        return true;
    }
    if (d->n_replay)
        replay_clear(d);
    if (after < d->mem_floor)
        return false;
    while (d->mem_head && d->mem_head->seq <= after) /* sent from the replay chunk */
        mem_pop(d, true);
    if (!d->mem_head)
        return false;
    *seq = d->mem_head->seq;
    *len = d->mem_head->len;
    return true;
}

/* Takes the frame peek() found; the caller owns it. */
static uint8_t *take(rn_delivery_t *d)
{
    if (d->i_replay < d->n_replay)
        return d->replay[d->i_replay++].data;
    uint8_t *frame = d->mem_head->frame;
    mem_pop(d, false);
    return frame;
}

/* Sends the frame peek() found above the cursor, joined with the frames at hand after it while
 * the join stays within coalesce_bytes and the window. Returns 0 or the send error. */
static int send_next(rn_delivery_t *d, uint64_t first, size_t len)
{
    uint8_t *frame = take(d), *joined = NULL;
    uint64_t last = first, seq;
    size_t n = 1, more;
    while (d->cfg.coalesce_bytes && peek(d, last, &seq, &more) &&
           len + more <= d->cfg.coalesce_bytes && d->fl_bytes + len + more <= d->cfg.window_bytes) {
        if (!joined) {
            if (!(joined = malloc(d->cfg.coalesce_bytes)))
                break; /* send the one frame alone */
            memcpy(joined, frame, len);
            free(frame);
            frame = joined;
        }
        uint8_t *next = take(d);
        memcpy(joined + len, next, more);
        free(next);
        len += more;
        last = seq;
        n++;
    }
    return send_one(d, first, last, n, frame, len);
}

static void on_read(void *data, int status, rn_spool_record_t *recs, size_t n);

/* Asks the spool for the next chunk above the cursor, unless a read is already out. */
static void start_read(rn_delivery_t *d)
{
    if (d->reading)
        return;
    d->reading = true;
    d->read_gen = d->gen;
    d->read_limit = d->last_submitted;
    int rc = rn_spool_read(d->spool, d->cursor, d->cfg.chunk_bytes, on_read, d);
    if (rc) {
        d->reading = false;
        rn_error("delivery: cannot read the spool: %s; retrying", rn_strerror(rc));
        uv_timer_start(&d->timer, on_timer, READ_RETRY_MS, 0);
    }
}

/* Sends frames in seq order while the link, the window and the rate allow: first the replay
 * chunk, then memory once the cursor has reached it; in between, reads the next chunk. */
static void pump(rn_delivery_t *d)
{
    while (d->connected && !d->closing && !d->resync) {
        uint64_t seq;
        size_t len;
        if (!peek(d, d->cursor, &seq, &len)) {
            replay_clear(d);
            if (d->cursor < d->mem_floor)
                start_read(d);
            return;
        }
        if (!may_send(d, len) || send_next(d, seq, len))
            return;
    }
}

/* A chunk from disk: keep it for pump(), unless the connection it was read for is gone. An empty
 * chunk means no stored record lies between the cursor and what was submitted when the read was
 * asked for, so the cursor moves past that gap (the spool counted those records). */
static void on_read(void *data, int status, rn_spool_record_t *recs, size_t n)
{
    rn_delivery_t *d = data;
    d->reading = false;
    bool stale = d->closing || !d->connected || d->read_gen != d->gen;
    if (status || stale) {
        for (size_t i = 0; i < n; i++)
            free(recs[i].data);
        if (status && status != -ECANCELED && !d->closing) {
            rn_error("delivery: spool read failed: %s; retrying", rn_strerror(status));
            uv_timer_start(&d->timer, on_timer, READ_RETRY_MS, 0);
        } else if (!d->closing) {
            pump(d);
        }
        return;
    }
    if (n == 0) {
        uint64_t to = d->read_limit < d->mem_floor ? d->read_limit : d->mem_floor;
        if (to > d->cursor) {
            rn_warn("delivery: batches %" PRIu64 "..%" PRIu64 " are not in the spool any more "
                    "(dropped, see above); skipped", d->cursor + 1, to);
            d->cursor = to;
        }
    } else if ((d->replay = malloc(n * sizeof *recs)) != NULL) {
        memcpy(d->replay, recs, n * sizeof *recs);
        d->n_replay = n;
        d->i_replay = 0;
    } else {
        for (size_t i = 0; i < n; i++)
            free(recs[i].data);
        uv_timer_start(&d->timer, on_timer, READ_RETRY_MS, 0);
        return;
    }
    pump(d);
}

/* ---- the next_seq file ------------------------------------------------------------------ */

/* Why a file of its own: with an empty spool (all acked, or a new one) the seq had nothing to
 * continue from but the wall clock, and a clock that is behind at start made the agent number
 * its batches below what the collector had stored, which took them for duplicates. */

/* Reads dir/next_seq. Returns the seq in it, or 0 when there is none or it is unreadable (the
 * latter logged: the spool and the seed still give a floor). */
static uint64_t seq_file_read(const char *dir)
{
    char path[4096], buf[32];
    snprintf(path, sizeof path, "%s/%s", dir, RN_DELIVERY_SEQ_FILE);
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno != ENOENT)
            rn_warn("delivery: cannot read %s: %s; ignored", path, rn_strerror(-errno));
        return 0;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end = buf;
    errno = 0;
    uint64_t seq = n && buf[0] >= '0' && buf[0] <= '9' ? strtoull(buf, &end, 10) : 0;
    if (errno || end == buf || *end != '\n' || end[1] != '\0') {
        rn_warn("delivery: %s does not hold a seq; ignored", path);
        return 0;
    }
    return seq;
}

/* Writes seq to dir/next_seq: a temporary file, fsync'd unless the spool's policy is "never",
 * renamed over the old one, then the directory fsync'd. Returns 0 or a negative errno (the old
 * file, if any, is intact). */
static int seq_file_write(const rn_delivery_t *d, uint64_t seq)
{
    char tmp[4096], path[4096];
    bool sync = d->cfg.spool.fsync != RN_SPOOL_FSYNC_NEVER;
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", d->dir, RN_DELIVERY_SEQ_FILE);
    snprintf(path, sizeof path, "%s/%s", d->dir, RN_DELIVERY_SEQ_FILE);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%" PRIu64 "\n", seq), rc = 0;
    if (write(fd, buf, (size_t)len) != len || (sync && fsync(fd) != 0))
        rc = errno ? -errno : -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    int dfd = sync ? open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0)
        fsync(dfd), close(dfd);
    return 0;
}

/* Makes sure the next_seq file lies above seq before seq is handed out, a reserve ahead so that
 * this happens once per RN_DELIVERY_SEQ_RESERVE batches. A crash then never reuses a seq; it
 * leaves a gap of up to the reserve, which nothing minds. On the loop thread, synchronously: a
 * few bytes and an fsync that rare are cheaper than ordering a worker's write before the send.
 * A failed write is logged and counted, and tried again at the next block. */
static void seq_reserve(rn_delivery_t *d, uint64_t seq)
{
    if (seq < d->reserved)
        return;
    uint64_t r = seq + 1 + RN_DELIVERY_SEQ_RESERVE;
    int rc = seq_file_write(d, r);
    if (rc) {
        d->seq_file_errors++;
        rn_error("delivery: cannot write %s/%s: %s; after a crash this agent may number batches "
                 "the collector already has", d->dir, RN_DELIVERY_SEQ_FILE, rn_strerror(rc));
    }
    d->reserved = r;
}

/* The collector acked `ack` >= next_seq: it stored batches of this node under numbers this
 * agent has not handed out, in an earlier life (a spool directory lost or replaced). Batches
 * numbered below it would be taken for duplicates, so numbering continues above; the unacked
 * batches at hand carry such numbers and are given up, logged and counted, never silently. */
static void seq_jump(rn_delivery_t *d, uint64_t ack)
{
    uint64_t from = d->acked > d->base ? d->acked : d->base;
    uint64_t lost = d->last_submitted > from ? d->last_submitted - from : 0;
    uint64_t lo = from > d->hole_lo ? from : d->hole_lo;
    uint64_t hi = d->last_submitted < d->hole_hi ? d->last_submitted : d->hole_hi;
    if (hi > lo)
        lost -= hi - lo;
    char given_up[160] = "";
    if (lost)
        snprintf(given_up, sizeof given_up, "; unacked batches %" PRIu64 "..%" PRIu64 " (%" PRIu64
                 ") carry numbers it has already and are given up", from + 1, d->last_submitted,
                 lost);
    rn_warn("delivery: the collector has batches up to %" PRIu64 " stored, but this agent numbers "
            "its next one %" PRIu64 " (its spool directory is new or was lost): numbering "
            "continues at %" PRIu64 "%s", ack, d->next_seq, ack + 1, given_up);
    d->seq_jumps++;
    d->seq_jump_records += lost;
    d->dropped += lost;
    d->catchup_to = 0; /* that backlog is not stored: no "caught up" line */
    d->next_seq = ack + 1;
    seq_reserve(d, d->next_seq);
}

/* ---- the agent's calls ------------------------------------------------------------------- */

/* Counts a record the spool could not store (it logged why); a copy may still be in memory and
 * sent, but it would not survive a restart. */
static void on_appended(void *data, uint64_t seq, int status)
{
    rn_delivery_t *d = data;
    if (status)
        d->dropped++;
}

/* Counts what the spool dropped to keep within its limits (it logged the range). */
static void on_spool_drop(void *ctx, uint64_t first, uint64_t last, uint64_t n, uint64_t bytes,
                          const char *why)
{
    rn_delivery_t *d = ctx;
    d->dropped += n;
}

int rn_delivery_open(uv_loop_t *loop, const char *spool_dir, const rn_delivery_config_t *cfg,
                     rn_delivery_send_fn send, void *ctx, rn_delivery_t **out, char *err,
                     size_t err_len)
{
    rn_delivery_t *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, err_len, "delivery: out of memory");
        return -ENOMEM;
    }
    if (cfg)
        d->cfg = *cfg;
    if (!d->cfg.window_bytes)
        d->cfg.window_bytes = RN_DELIVERY_DEFAULT_WINDOW_BYTES;
    if (!d->cfg.chunk_bytes)
        d->cfg.chunk_bytes = RN_DELIVERY_DEFAULT_CHUNK_BYTES;
    if (!d->cfg.memory_bytes)
        d->cfg.memory_bytes = RN_DELIVERY_DEFAULT_MEMORY_BYTES;
    d->loop = loop;
    d->send = send;
    d->ctx = ctx;
    int rc = (d->dir = strdup(spool_dir)) ? 0 : -ENOMEM;
    if (rc == 0)
        rc = rn_spool_open(loop, spool_dir, &d->cfg.spool, on_spool_drop, d, &d->spool, err,
                           err_len);
    if (rc) {
        if (!d->dir)
            snprintf(err, err_len, "delivery: out of memory");
        free(d->dir);
        free(d);
        return rc;
    }
    uint64_t last = rn_spool_last_seq(d->spool);
    uint64_t seed = d->cfg.seq_seed ? d->cfg.seq_seed : (uint64_t)rn_clock_wall_ms();
    uint64_t kept = seq_file_read(spool_dir);
    d->next_seq = seed > last + 1 ? seed : last + 1;
    if (kept > d->next_seq)
        d->next_seq = kept;
    rn_spool_stats_t sp;
    rn_spool_stats(d->spool, &sp);
    d->base = sp.first_seq ? sp.first_seq - 1 : d->next_seq - 1;
    d->hole_lo = last;
    d->hole_hi = sp.first_seq ? d->next_seq - 1 : last;
    d->last_submitted = d->mem_floor = last;
    seq_reserve(d, d->next_seq);
    uv_timer_init(loop, &d->timer);
    *out = d;
    return 0;
}

uint64_t rn_delivery_next_seq(const rn_delivery_t *d)
{
    return d->next_seq;
}

int rn_delivery_submit(rn_delivery_t *d, uint64_t seq, uint8_t *frame, size_t len)
{
    int rc = d->closing ? -ESHUTDOWN : seq < d->next_seq ? -EINVAL : 0;
    if (!rc)
        seq_reserve(d, seq); /* before it can reach the spool or the link */
    uint8_t *copy = rc ? NULL : malloc(len ? len : 1); /* the spool's own, freed once written */
    mem_t *m = copy ? malloc(sizeof *m) : NULL;
    if (!rc && !m) {
        free(copy);
        rc = -ENOMEM;
    } else if (!rc) {
        memcpy(copy, frame, len);
        rc = rn_spool_append(d->spool, seq, copy, len, on_appended, d);
    }
    if (rc) {
        rn_error("delivery: batch %" PRIu64 " dropped: %s", seq, rn_strerror(rc));
        d->dropped++;
        free(frame);
        free(m);
        return rc;
    }
    d->next_seq = seq + 1;
    d->last_submitted = seq;
    *m = (mem_t){ NULL, seq, frame, len };
    if (d->mem_tail)
        d->mem_tail->next = m;
    else
        d->mem_head = m;
    d->mem_tail = m;
    d->mem_bytes += len;
    while (d->mem_bytes > d->cfg.memory_bytes && d->mem_head != m)
        mem_pop(d, true);
    pump(d);
    return 0;
}

/* Forgets what was sent on the connection that ended (it may not have arrived). */
static void reset_connection(rn_delivery_t *d)
{
    d->gen++;
    d->resync = false;
    replay_clear(d);
    flight_trim(d, UINT64_MAX);
    uv_timer_stop(&d->timer);
    d->cursor = d->acked;
    d->pace_at = rn_clock_mono_ns();
    d->catchup_to = 0;
}

void rn_delivery_connected(rn_delivery_t *d)
{
    if (d->closing)
        return;
    reset_connection(d);
    d->connected = true;
    if (d->last_submitted > d->cursor) {
        rn_info("delivery: sending %" PRIu64 " batches not acked yet, from %" PRIu64,
                d->last_submitted - d->cursor, d->cursor + 1);
        d->catchup_to = d->last_submitted;
        d->catchup_start = rn_clock_mono_ns();
        d->catchup_n = d->catchup_wire = d->catchup_raw = 0;
    }
    pump(d);
}

void rn_delivery_disconnected(rn_delivery_t *d)
{
    if (d->closing)
        return;
    d->connected = false;
    reset_connection(d);
}

void rn_delivery_acked(rn_delivery_t *d, uint64_t seq)
{
    if (d->closing || seq <= d->acked)
        return;
    if (seq >= d->next_seq)
        seq_jump(d, seq);
    d->acked = seq;
    flight_trim(d, seq);
    if (d->catchup_to && seq >= d->catchup_to) {
        rn_info("delivery: caught up: the backlog of %" PRIu64 " batches is stored, %.1f s after "
                "the connect; %" PRIu64 " bytes on the wire, %" PRIu64 " before compression",
                d->catchup_n, (double)(rn_clock_mono_ns() - d->catchup_start) / 1e9,
                d->catchup_wire, d->catchup_raw);
        d->catchup_to = 0;
    }
    if (d->cursor < seq) /* the collector has these already */
        d->cursor = seq;
    while (d->mem_head && d->mem_head->seq <= d->cursor)
        mem_pop(d, true);
    rn_spool_ack(d->spool, seq);
    pump(d);
}

void rn_delivery_stats(const rn_delivery_t *d, rn_delivery_stats_t *out)
{
    memset(out, 0, sizeof *out);
    rn_spool_stats(d->spool, &out->spool);
    out->next_seq = d->next_seq;
    out->acked_seq = d->acked;
    out->sent_seq = d->cursor;
    out->backlog_seqs = d->last_submitted > d->cursor ? d->last_submitted - d->cursor : 0;
    out->inflight_records = d->fl_n;
    out->inflight_bytes = d->fl_bytes;
    out->sent_records = d->sent_records;
    out->sent_bytes = d->sent_bytes;
    out->sent_raw_bytes = d->sent_raw_bytes;
    out->dropped_records = d->dropped;
    out->seq_jumps = d->seq_jumps;
    out->seq_jump_records = d->seq_jump_records;
    out->seq_file_errors = d->seq_file_errors;
    out->connected = d->connected;
    out->replaying = d->cursor < d->mem_floor || d->i_replay < d->n_replay;
}

static void on_part_closed(void *data)
{
    rn_delivery_t *d = data;
    if (--d->closing_parts > 0)
        return;
    void (*cb)(void *) = d->close_cb;
    void *cb_data = d->close_data;
    free(d->flight);
    free(d->dir);
    free(d);
    if (cb)
        cb(cb_data);
}

static void on_timer_closed(uv_handle_t *h)
{
    on_part_closed(container_of((uv_timer_t *)h, rn_delivery_t, timer));
}

void rn_delivery_close(rn_delivery_t *d, void (*cb)(void *data), void *data)
{
    if (d->closing)
        return;
    d->closing = true;
    d->connected = false;
    d->close_cb = cb;
    d->close_data = data;
    int rc = seq_file_write(d, d->next_seq); /* exact: the next open continues without a gap */
    if (rc) /* the reserve written earlier still covers every seq handed out */
        rn_warn("delivery: cannot write %s/%s: %s", d->dir, RN_DELIVERY_SEQ_FILE,
                rn_strerror(rc));
    replay_clear(d);
    while (d->mem_head)
        mem_pop(d, true);
    d->closing_parts = 2;
    uv_close((uv_handle_t *)&d->timer, on_timer_closed);
    rn_spool_close(d->spool, on_part_closed, d);
}
