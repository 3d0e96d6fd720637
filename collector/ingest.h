/* Ingest checks on an agent's batches, kept apart from session.c so they can be tested without
 * a TLS session (tests/unit/collector/test_ingest.c):
 *
 *  - samples stamped later than now + max_future_skew_s are dropped, not stored: one burst from
 *    an agent whose clock runs ahead would move its RRD files' last update (and the alarm
 *    engine's clocks) into the future, and every correct sample after it would be "too old";
 *  - a node may feed at most RN_INGEST_MAX_SERIES distinct series (source, device, object), so
 *    one node certificate cannot fill the disk with made-up names (Sample.node counts too: an
 *    agentless child's series are its agent's);
 *  - a node's ack covers only a contiguous prefix of stored batches: when batch N fails and N+1
 *    is stored, the ack stays below N until N's resend is stored. */
#ifndef RN_INGEST_H
#define RN_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Distinct series one node may feed. The largest plan (a district hub: a few devices of 48
 * ports, its blocks' probe targets, services, captures, extra OIDs) is well under 1000; 4096
 * leaves room for growth while one node's RRD files stay bounded (~4096 x 100 kB). */
#define RN_INGEST_MAX_SERIES 4096

/* Stored batches above the contiguous ack that are remembered (a node has at most
 * RN_NODE_MAX_IN_STORE batches in the store at once, plus those read before a pause). */
#define RN_INGEST_ACK_WINDOW 64

/* What ingest keeps per node (inside rn_node_state_t; zero-initialised; free with
 * rn_ingest_node_free). */
typedef struct {
    uint64_t done[RN_INGEST_ACK_WINDOW]; /* stored seqs above the node's acked_seq; 0 = free */
    uint64_t future;           /* samples dropped: stamped too far ahead */
    uint64_t over_cap;         /* samples dropped: a new series past RN_INGEST_MAX_SERIES */
    uint64_t future_unlogged;  /* future samples dropped since the last line logged */
    int64_t future_logged_ms;  /* when that line was logged (one per 10 s at most) */
    char **series;             /* open-addressing set of "source\x1f" "device\x1f" "object" */
    size_t n_series, cap_series;
} rn_ingest_node_t;

/* Notes batch seq as stored for a node whose contiguous ack is acked. Returns the new
 * contiguous ack: acked + 1 (or seq) advanced through every remembered stored batch after it. A
 * seq above acked + 1 is remembered (when the window has room; else its resend is stored
 * again). */
uint64_t rn_ingest_ack_stored(rn_ingest_node_t *g, uint64_t acked, uint64_t seq);

/* Returns whether batch seq (above the node's ack) is known to be stored already. */
bool rn_ingest_ack_has(const rn_ingest_node_t *g, uint64_t seq);

/* Removes from b the samples stamped later than now_ms + max_skew_s, freeing them, in order.
 * Returns how many were removed; *ahead_ms is set to the furthest one's lead over now_ms (0
 * when none). */
size_t rn_ingest_drop_future(Rn__Batch *b, int64_t now_ms, uint32_t max_skew_s,
                             int64_t *ahead_ms);

/* Removes from b the samples of series (Sample.node, source, device, object) the node has not
 * fed before once it feeds RN_INGEST_MAX_SERIES, freeing them; records the new ones. Returns how many were removed, or
 * -ENOMEM (the batch as it was, less those removed so far). The first removed one's series
 * ("node/source/device/object") is written to first ("" when none). */
int rn_ingest_drop_over_cap(rn_ingest_node_t *g, Rn__Batch *b, char *first, size_t first_len);

/* Frees what g holds (not g). */
void rn_ingest_node_free(rn_ingest_node_t *g);

#endif
