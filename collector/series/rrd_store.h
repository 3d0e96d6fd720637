/* RRD store: the only module that speaks librrd. Maps each series to one RRD file and writes
 * batches of samples off the loop thread.
 *
 * Path scheme (documented in the README): <data_dir>/<node id>/<source>/<device>/<object>.rrd
 * for device sources ("if"), <data_dir>/<node id>/<source>/<object>.rrd for probes ("icmp"),
 * where device and object are escaped: bytes outside [A-Za-z0-9._-] become %XX ('/' -> %2F),
 * and so does a leading '.' ("." -> %2E, so a device is never "." or "..").
 * Node ids are paths ("jaipur/sanganer") and so make nested directories; the topology forbids
 * a node segment named like a source, so the two never collide.
 *
 * Files are created on first sample from the source's template (lib/metrics.h): counters as
 * DERIVE (min 0, max from the interface speed when known), gauges as GAUGE; step is the source's
 * interval; RRAs keep AVERAGE at 1 step for 2 days, and AVERAGE, MIN and MAX at 5 min for
 * 40 days, 1 h for 400 days, 1 day for 5 years (rows and file sizes in rrd_store.c, the design
 * in docs/storage.md).
 *
 * Writes of one node's batches are applied in submission order on a worker thread; a sample at or
 * before a file's last update is not written but counted in the result (never silently lost). */
#ifndef RN_RRD_STORE_H
#define RN_RRD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "wire.h"

typedef struct rn_rrd_store rn_rrd_store_t;

typedef struct {
    uint32_t written;   /* samples stored */
    uint32_t too_old;   /* samples at or before their file's last update */
    uint32_t failed;    /* samples librrd refused for another reason (logged with the file) */
} rn_rrd_result_t;

/* Called on the loop thread once the batch is done. status is 0, or a negative error when the
 * batch could not be attempted at all (e.g. the data directory is not writable) or the disk is
 * full (-ENOSPC, -EDQUOT: a file it needs could not be created or written; the rest of it may be
 * stored, and is at or before its files' last update when sent again); in that case the caller
 * must not ack the batch. A full disk is logged when it starts and when a file can be created
 * again, not once per file. */
typedef void (*rn_rrd_store_cb)(void *data, int status, const rn_rrd_result_t *result);

/* Creates a store writing under data_dir (created if missing). Returns 0 or a negative error. */
int rn_rrd_store_new(uv_loop_t *loop, const char *data_dir, rn_rrd_store_t **out);

/* Sends writes through rrdcached at addr: "unix:/path" (or "/path") or "host[:port]" (default
 * port 42217), or, with addr NULL, writes the files directly (the default). Updates of a batch go
 * to the daemon in one round trip with its BATCH command; the environment variable
 * RAJNET_RRDCACHED_PROTOCOL=update (read here; for benchmarks) sends one UPDATE per file through
 * librrd's client instead. Files are created and their last update read through the daemon (so
 * its cache and journal stay authoritative); the paths sent are absolute, so data_dir must be
 * the directory rrdcached serves (its -b, when it runs with -B), and since rrdcached does not
 * make directories, the store makes them under data_dir itself (a remote daemon needs data_dir
 * mounted at the same path, or directories made beforehand). A daemon that cannot be reached
 * fails the batch with a negative status (not acked: the agent resends). The client is
 * series/rrdc.h. Call before the first write. Returns 0, -EINVAL (malformed address) or -ENOMEM. */
int rn_rrd_store_set_rrdcached(rn_rrd_store_t *s, const char *addr);

/* Sets the RRD step, in seconds, used when creating files of a source ("if", "icmp"). Defaults:
 * "icmp" 10 s, any other source 60 s. Applies to writes queued after the call; existing files
 * keep the step they were created with. */
void rn_rrd_store_set_step(rn_rrd_store_t *s, const char *source, uint32_t step_s);

/* Queues the samples of one batch from node_id. Takes ownership of batch (freed with
 * rn_wire_free once written). cb fires exactly once if this returns 0, never if it fails.
 * Returns 0, or -EINVAL (store closing, frame without a batch, unsafe node id: empty, leading
 * '/', empty, "." or ".." segments) or -ENOMEM; on failure the caller still owns batch_frame. */
int rn_rrd_store_write(rn_rrd_store_t *s, const char *node_id, Rn__Frame *batch_frame,
                       rn_rrd_store_cb cb, void *data);

/* Builds the file path of a series into buf. device is "" (or NULL) for probe sources.
 * Returns 0, -EINVAL (unsafe node id, source not [a-z0-9_]+, empty object), or -ENAMETOOLONG
 * (buf too small, or an escaped name longer than a file name may be). */
int rn_rrd_store_path(const rn_rrd_store_t *s, const char *node_id, const char *source,
                      const char *device, const char *object, char *buf, size_t len);

/* Number of writes queued or running (for backpressure and metrics). */
size_t rn_rrd_store_pending(const rn_rrd_store_t *s);

/* Finishes queued writes (their callbacks fire first), then frees the store; cb (may be NULL)
 * fires then. Writes after close fail with -EINVAL. */
void rn_rrd_store_close(rn_rrd_store_t *s, void (*cb)(void *data), void *data);

#endif
