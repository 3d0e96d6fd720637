/* The spool's files, apart from the threads and queues that use them (agent/spool.c).
 *
 * A spool directory holds segment files seg-<first seq, 20 digits>.rns, each a run of records
 * (format in spool.h: magic, seq, length, CRC, payload), and after a clean close an index file
 * with a line per segment, so that the next open need not read every record again.
 *
 * Threads: rn__spool_load runs in rn_spool_open (the caller's thread, before the spool exists);
 * the rest runs on the spool's worker side, one item at a time (agent/spool.c says how). Nothing
 * here keeps state between calls: the segment table and the read buffer belong to the caller. */
#ifndef RN_SPOOL_FILE_H
#define RN_SPOOL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool.h"

/* One segment file as the spool knows it. */
typedef struct {
    uint64_t name;                                  /* the file's seq: seg-<name>.rns */
    uint64_t first_seq, last_seq, n_records, bytes; /* bytes: the valid prefix of the file */
    int64_t written_ns; /* last write, monotonic; below 0 for a segment older than this boot */
    bool sealed;        /* never appended to again: the file goes on past `bytes`, or its
                         * fsync failed */
} rn_spool_seg_t;

/* The segments of a spool directory, oldest first. */
typedef struct {
    const char *dir;   /* borrowed */
    rn_spool_seg_t *v; /* malloc'd, owned by the table's owner */
    size_t n, cap;
} rn_spool_segs_t;

/* A forward-moving read buffer over one file: it holds [pos, pos + n). buf is malloc'd and kept
 * across files; fd is the caller's. */
typedef struct {
    int fd;
    uint8_t *buf;
    size_t cap, n;
    uint64_t pos;
} rn_spool_reader_t;

/* Fills hdr (RN_SPOOL_RECORD_HEADER bytes) for a record of seq with payload[0..len). */
void rn__spool_record_header(uint8_t *hdr, uint64_t seq, const uint8_t *payload, size_t len);

/* Reads and checks the record at off of the reader's file, which is valid up to limit. Returns 1
 * and its seq, payload (pointer into r's buffer, valid until the next read) and payload size, 0
 * at limit (clean end), or -1 when the bytes there are not a whole valid record with a seq above
 * prev_seq. */
int rn__spool_record_at(rn_spool_reader_t *r, uint64_t off, uint64_t limit, uint64_t prev_seq,
                        uint64_t *seq, const uint8_t **payload, size_t *len);

/* Writes the path of the segment file that starts at first_seq into out[0..n). */
void rn__spool_seg_path(const char *dir, uint64_t first_seq, char *out, size_t n);

/* Appends an empty segment named first_seq to t. Returns it, or NULL when out of memory. */
rn_spool_seg_t *rn__spool_seg_push(rn_spool_segs_t *t, uint64_t first_seq);

/* Fills t (empty, t->dir set) from t->dir: from dir/index when a clean close left one that
 * matches the files, else by scanning every record of every segment file, cutting a torn tail off
 * the last one, sealing an older one with an unreadable record (counted in w's torn_bytes,
 * corrupt_segments, corrupt_bytes) and removing segments with no valid record. Then removes
 * dir/index, so that a crash after this open is followed by a scan. Segment ages come out on the
 * monotonic clock. rd lends its buffer. Returns 0, or a negative errno with a reason in err. */
int rn__spool_load(rn_spool_segs_t *t, rn_spool_reader_t *rd, rn_spool_stats_t *w, char *err,
                   size_t err_len);

/* Writes dir/index: a line per segment with its counts, the file's size, mtime and inode (which
 * the next open checks), and its age; then "end <segments> <crc32 of the lines before>". Written
 * to a temporary name and renamed, fsync'd (file and directory) when sync. Returns 0 or a
 * negative errno (then the next open scans). */
int rn__spool_index_write(const rn_spool_segs_t *t, bool sync);

#endif
