/* Delivery: the sending policy between the agent core and the uplink.
 *
 * Every batch the agent closes goes into the disk spool (spool.h) and stays there until the
 * collector acks it; delivery decides what is sent when:
 *   - In seq order, always. After a (re)connect everything unacked is sent again, oldest first,
 *     read from disk in chunks (never the whole backlog in memory); batches submitted meanwhile
 *     wait their turn and go out when the replay reaches them, so every RRD file receives its
 *     points in time order. The collector drops duplicates by (node, seq).
 *   - At most window_bytes of sent-but-unacked frames in flight (one frame is always allowed),
 *     and, when rate_bytes_per_s is set, no faster than that on average, so a replay after a long
 *     outage does not choke a thin link. Both count bytes on the wire, after the link's
 *     compression; coalesce_bytes joins consecutive frames into one send so that there is
 *     something worth compressing (a replay is mostly small batches).
 *   - When the backlog found at connect is acked, one line says how long that took and how many
 *     bytes it needed, on the wire and before compression.
 *   - Nothing is deleted before it is acked (acks are cumulative); what the spool drops to stay
 *     within its size and age limits is counted and logged, never silent.
 *   - Batch numbers never go back: the next seq is kept in the file next_seq of the spool
 *     directory, a block ahead (RN_DELIVERY_SEQ_RESERVE), so that neither a clock that is behind
 *     at start nor a crash hands out a seq twice. An ack above every seq handed out (the collector
 *     has that node's batches from an earlier life: a lost spool directory) moves the numbering
 *     above it, with a log line and a count of the unacked batches it gives up.
 * The newest submitted frames are also kept in memory (memory_bytes) so that, once caught up,
 * live batches are sent without reading them back from disk. Nothing here blocks the loop: the
 * spool does its I/O on a worker. All functions and callbacks run on the loop thread. */
#ifndef RN_DELIVERY_H
#define RN_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "spool.h"

#define RN_DELIVERY_DEFAULT_WINDOW_BYTES (512u << 10)
#define RN_DELIVERY_DEFAULT_CHUNK_BYTES (256u << 10)
#define RN_DELIVERY_DEFAULT_MEMORY_BYTES (1u << 20)
#define RN_DELIVERY_SEQ_FILE "next_seq"   /* in the spool directory: a decimal seq and '\n' */
#define RN_DELIVERY_SEQ_RESERVE 1024      /* seqs handed out between two writes of it */

typedef struct rn_delivery rn_delivery_t;

/* Sends len bytes of one or more whole frames (several when coalesce_bytes joins them); takes
 * ownership of frame (malloc'd) in every case. *wire_len comes in as len; the link lowers it to
 * what it put on the wire when it compressed (the rate cap and the window count that). Returns
 * 0, or a negative error (-ENOTCONN when the link is down): delivery then stops sending until
 * the next rn_delivery_connected(). rn_uplink_send_frames() has this shape. */
typedef int (*rn_delivery_send_fn)(void *ctx, uint8_t *frame, size_t len, size_t *wire_len);

/* Zero values mean the defaults. */
typedef struct {
    rn_spool_config_t spool;
    uint64_t window_bytes;       /* unacked bytes in flight; default 512 KiB */
    uint64_t rate_bytes_per_s;   /* average send rate cap; 0 = no cap */
    size_t chunk_bytes;          /* replay read from disk this much at a time; default 256 KiB */
    size_t memory_bytes;         /* newest frames also kept in memory; default 1 MiB */
    size_t coalesce_bytes;       /* join frames at hand into sends of up to this; 0 = never */
    uint64_t seq_seed;           /* lowest first seq; default the wall clock in ms */
} rn_delivery_config_t;

typedef struct {
    rn_spool_stats_t spool;      /* on disk, dropped by limits, corruption found, write errors */
    uint64_t next_seq;           /* the seq the next batch must carry */
    uint64_t acked_seq;          /* highest seq the collector acked (0: none since start) */
    uint64_t sent_seq;           /* highest seq sent on this connection */
    uint64_t backlog_seqs;       /* seqs submitted but not yet sent on this connection */
    uint64_t inflight_records, inflight_bytes; /* sent, not yet acked */
    uint64_t sent_records, sent_bytes;         /* since open, resends included; wire bytes */
    uint64_t sent_raw_bytes;                   /* the same before compression */
    uint64_t dropped_records;    /* spool limit drops + failed appends + refused submits
                                  * + seq_jump_records */
    uint64_t seq_jumps;          /* acks above next_seq: numbering moved above them */
    uint64_t seq_jump_records;   /* unacked batches those jumps gave up (numbers the collector
                                  * already had) */
    uint64_t seq_file_errors;    /* writes of the next_seq file that failed (logged) */
    bool connected, replaying;   /* replaying: sending from disk, live batches wait */
} rn_delivery_stats_t;

/* Opens the spool in spool_dir (see rn_spool_open: synchronous, cuts a torn tail) and starts
 * disconnected. cfg may be NULL. The first seq is max(seq_seed, last seq on disk + 1, the seq in
 * spool_dir/next_seq); that file is then rewritten a reserve ahead (synchronously: tmp, fsync
 * unless the spool's policy is "never", rename). An unreadable next_seq file is logged and
 * ignored. Returns 0 and *out, or a negative error with the reason in err. */
int rn_delivery_open(uv_loop_t *loop, const char *spool_dir, const rn_delivery_config_t *cfg,
                     rn_delivery_send_fn send, void *ctx, rn_delivery_t **out, char *err,
                     size_t err_len);

/* The seq the next submitted batch must carry (encode it into the Batch and the Hello). */
uint64_t rn_delivery_next_seq(const rn_delivery_t *d);

/* Takes ownership of one encoded frame (malloc'd) carrying seq, which must be >= next_seq; next_seq
 * becomes seq + 1. The frame is spooled, and sent now if the link is up, the replay has caught
 * up and the window and rate allow; otherwise it is sent when they do. Returns 0, or -EINVAL
 * (seq too low), -ESHUTDOWN, -ENOMEM, RN_ETOOBIG: the frame is freed and counted as dropped. */
int rn_delivery_submit(rn_delivery_t *d, uint64_t seq, uint8_t *frame, size_t len);

/* The link is up (the hello is already sent): resend everything unacked from disk, oldest first,
 * then the live batches. */
void rn_delivery_connected(rn_delivery_t *d);

/* The link is down: stop sending; everything unacked is kept for the next connection. */
void rn_delivery_disconnected(rn_delivery_t *d);

/* The collector's cumulative ack: everything <= seq is stored there. Opens the window and trims
 * the spool (whole segments). An ack >= next_seq means the collector holds this node's batches
 * from an earlier life under the numbers in use here: next_seq becomes seq + 1 (written to the
 * next_seq file at once), and the unacked batches, whose numbers it already has, are given up;
 * both are logged and counted (seq_jumps, seq_jump_records). */
void rn_delivery_acked(rn_delivery_t *d, uint64_t seq);

void rn_delivery_stats(const rn_delivery_t *d, rn_delivery_stats_t *out);

/* Stops sending, writes the exact next seq to the next_seq file (so a reopen leaves no gap),
 * finishes the spool's queued writes (fsync unless "never") and frees the delivery in the last
 * callback; cb (may be NULL) then fires once. */
void rn_delivery_close(rn_delivery_t *d, void (*cb)(void *data), void *data);

#endif
