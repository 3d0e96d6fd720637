/* The agent's disk spool: every batch is kept on disk until the collector acks it.
 *
 * A directory of append-only segment files, seg-<first seq, 20 digits>.rns, each a run of records:
 *
 *   magic u32 | seq u64 | len u32 | crc32 u32 | payload (len bytes)      (integers little-endian)
 *
 * where crc32 is zlib's crc32 of the seq, len and payload bytes. Seqs increase strictly across the
 * whole spool. A record counts once its append callback reports 0; with fsync "always" it has been
 * fsync'd by then, or the fsync failed, which is counted (sync_errors, unsynced_records) and
 * logged: the record stays in the spool and is read back, but a power cut may lose it. A kill -9
 * at any moment loses at most the records whose append callback had not fired, and leaves at most
 * one torn record at the end of the last segment, which the next open cuts off. A segment whose
 * file goes on past its last readable record (a power cut, corruption) is sealed: never appended
 * to again, so a record reported stored can always be read back.
 *
 * Ages (max_age_s) run on the monotonic clock, so a step of the wall clock never drops anything.
 * A clean close writes dir/index (each segment's counts, size, mtime, inode and age); the next
 * open uses it instead of reading every record when every file still matches, and removes it, so
 * after a crash the segments are scanned. Without the index, segment ages come from the files'
 * mtimes relative to the newest one: time the agent was stopped does not count.
 *
 * Disk full (ENOSPC, EDQUOT): the oldest segments are dropped until the record fits (counted as
 * drops, "disk_full"), so the newest batches are kept; on a small filesystem segments are made
 * smaller (at most a sixteenth of it) so that a drop frees little. What still cannot be stored
 * is counted in write_errors. Both are logged at most once per RN_SPOOL_COMPLAIN_S with counts,
 * and once more when writes have gone through for that long again; nothing needs restarting.
 *
 * All file I/O after open runs on one worker (uv_queue_work, one work item at a time, each taking
 * every operation queued so far, in order), so the loop never blocks on the disk and operations
 * take effect in the order they were called. Callbacks run on the loop thread. */
#ifndef RN_SPOOL_H
#define RN_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "wire.h"

#define RN_SPOOL_RECORD_HEADER 20u
#define RN_SPOOL_MAX_RECORD (RN_WIRE_HEADER_LEN + RN_WIRE_MAX_FRAME) /* payload bytes */
#define RN_SPOOL_DEFAULT_SEGMENT_BYTES (4ull << 20)
#define RN_SPOOL_DEFAULT_MAX_BYTES (256ull << 20)
#define RN_SPOOL_DEFAULT_MAX_AGE_S (7u * 24 * 3600)
#define RN_SPOOL_DEFAULT_FSYNC_INTERVAL_MS 1000u
#define RN_SPOOL_MIN_SEGMENT_BYTES (16u << 10) /* floor of the small-filesystem segment size */
#define RN_SPOOL_COMPLAIN_S 30                 /* write trouble: one log line per this, with counts */

typedef struct rn_spool rn_spool_t;

typedef enum {
    RN_SPOOL_FSYNC_INTERVAL = 0, /* fsync at most every fsync_interval_ms (the default) */
    RN_SPOOL_FSYNC_ALWAYS,       /* fsync before an append callback reports success */
    RN_SPOOL_FSYNC_NEVER,        /* leave it to the kernel: survives kill -9, not power loss */
} rn_spool_fsync_t;

/* Zero values mean the defaults above. */
typedef struct {
    uint64_t segment_bytes;      /* a new segment starts when a record would pass this */
    uint64_t max_bytes;          /* whole spool; at least 2 * segment_bytes */
    uint32_t max_age_s;          /* segments last written longer ago than this (monotonic) are dropped */
    rn_spool_fsync_t fsync;
    uint32_t fsync_interval_ms;
} rn_spool_config_t;

typedef struct {
    uint64_t seq;
    uint8_t *data;               /* malloc'd payload */
    size_t len;
} rn_spool_record_t;

typedef struct {
    uint64_t segments, records, bytes;   /* on disk now (bytes include record headers) */
    uint64_t first_seq, last_seq;        /* on disk now; 0 when empty */
    uint64_t written_seq;                /* highest seq written (in the page cache at least) */
    uint64_t synced_seq;                 /* highest seq known fsync'd */
    uint64_t dropped_records, dropped_bytes; /* unacked records removed by max_bytes/max_age/disk full */
    uint64_t corrupt_segments, corrupt_bytes; /* older segments whose tail was unreadable */
    uint64_t torn_bytes;                 /* cut from the end of the last segment at open */
    uint64_t write_errors;               /* appends that failed (disk full, I/O error) */
    uint64_t disk_full;                  /* ENOSPC/EDQUOT met (each one made room or failed) */
    uint64_t sync_errors;                /* fsyncs that failed */
    uint64_t unsynced_records;           /* kept, but written before a failed fsync */
    uint64_t segment_bytes;              /* the segment size in use (smaller on a small disk) */
} rn_spool_stats_t;

/* Reports unacked records removed to respect max_bytes or max_age_s, or to make room on a full
 * disk: seqs first..last (gaps possible), n records, bytes on disk, why ("max_bytes", "max_age",
 * "disk_full"). Runs on the loop thread. */
typedef void (*rn_spool_drop_fn)(void *ctx, uint64_t first_seq, uint64_t last_seq, uint64_t n,
                                 uint64_t bytes, const char *why);

/* status is 0 once the record is written and will be read back (under "always" fsync'd too,
 * unless the fsync failed: see the top), or a negative error: the record is not in the spool. */
typedef void (*rn_spool_append_cb)(void *data, uint64_t seq, int status);

/* status 0: recs[0..n) are the next records in seq order (n == 0: none left after the seq asked
 * for). The callback owns every recs[i].data (free it or pass it on); the array itself is freed
 * by the spool after the callback returns. status -ECANCELED when the spool closed first. */
typedef void (*rn_spool_read_cb)(void *data, int status, rn_spool_record_t *recs, size_t n);

/* Opens (creating it if missing) and locks the spool in dir, synchronously: takes the index a
 * clean close left, or else scans the segments in order, cuts a torn tail off the last one, skips
 * (counts, logs) and seals unreadable tails of older ones, removes empty ones; then applies
 * max_bytes and max_age_s (what that drops is logged and counted in the stats; drop, which may be
 * NULL, reports only later drops). cfg may be NULL (defaults).
 * Returns 0 and *out, or a negative error with a reason naming the file in err (-EBUSY: another
 * process holds the spool). */
int rn_spool_open(uv_loop_t *loop, const char *dir, const rn_spool_config_t *cfg,
                  rn_spool_drop_fn drop, void *ctx, rn_spool_t **out, char *err, size_t err_len);

/* The highest seq on disk at open or appended since (0 if none): the next append must be above
 * it. An agent continues numbering at max(its own seed, this + 1). */
uint64_t rn_spool_last_seq(const rn_spool_t *s);

/* Appends one record. Always takes ownership of payload (malloc'd; freed on failure too). seq
 * must be above rn_spool_last_seq(). Returns 0 (cb, which may be NULL, fires once), -EINVAL (seq
 * not increasing), RN_ETOOBIG (len over RN_SPOOL_MAX_RECORD), -ENOMEM or -ESHUTDOWN (closing). */
int rn_spool_append(rn_spool_t *s, uint64_t seq, uint8_t *payload, size_t len,
                    rn_spool_append_cb cb, void *data);

/* Cumulative ack: deletes every segment whose records all have seq <= seq (the segment being
 * written too, when all of it is acked). Records are only ever deleted as whole segments. */
void rn_spool_ack(rn_spool_t *s, uint64_t seq);

/* Reads, from disk on the worker, the records with seq > after_seq in order, stopping once
 * max_bytes of payload are collected (at least one record is returned if any is left). A read that
 * continues where the previous one stopped does not rescan the segment. Returns 0 (cb fires
 * once), -ENOMEM or -ESHUTDOWN. */
int rn_spool_read(rn_spool_t *s, uint64_t after_seq, size_t max_bytes, rn_spool_read_cb cb,
                  void *data);

/* A snapshot of the counters, as of the last completed worker pass. */
void rn_spool_stats(const rn_spool_t *s, rn_spool_stats_t *out);

/* Finishes every queued append and ack (fsync unless "never"), cancels queued reads, writes the
 * index for the next open, closes the files and frees the spool in the last callback; cb (may be
 * NULL) then fires once. */
void rn_spool_close(rn_spool_t *s, void (*cb)(void *data), void *data);

/* Internal, for tests/fuzz/fuzz_spool.c: scans a segment's bytes data[0..len) as opening a spool
 * scans a file (records checked with their CRC, seqs increasing above prev_seq). Returns the
 * length of the valid prefix, with its record count and last seq (prev_seq when none); 0 when
 * out of memory. */
uint64_t rn__spool_scan(const uint8_t *data, size_t len, uint64_t prev_seq, uint64_t *n_records,
                        uint64_t *last_seq);

#endif
