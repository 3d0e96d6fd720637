/* Ingest checks on an agent's batches and the state kept per node, kept apart from session.c
 * so they can be tested without a TLS session (tests/unit/collector/test_ingest.c):
 *
 *  - samples stamped later than now + max_future_skew_s are dropped, not stored: one burst from
 *    an agent whose clock runs ahead would move its RRD files' last update (and the alarm
 *    engine's clocks) into the future, and every correct sample after it would be "too old";
 *  - a node feeds only the series its plan asks for (collector/ingest/plan.h, rn_plan_series_t: its
 *    devices' interfaces and extra objects, its probe targets, services, echo peers and
 *    captures; an agentless child's devices with Sample.node set), and at most
 *    RN_INGEST_MAX_SERIES distinct ones (the interfaces a walk finds are not in the plan), so
 *    one node certificate cannot fill the disk with made-up names;
 *  - a node's ack covers only a contiguous prefix of stored batches: when batch N fails and N+1
 *    is stored, the ack stays below N until N's resend is stored. */
#ifndef RN_INGEST_H
#define RN_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct rn_plan_series; /* collector/ingest/plan.h */
struct rn_session;     /* collector/ingest/session.h */

/* Distinct series one node may feed. The largest plan (a district hub: a few devices of 48
 * ports, its blocks' probe targets, services, captures, extra OIDs) is well under 1000; 4096
 * leaves room for growth while one node's RRD files stay bounded (~4096 x 100 kB). */
#define RN_INGEST_MAX_SERIES 4096

/* Stored batches above the contiguous ack that are remembered (a node has at most
 * RN_NODE_MAX_IN_STORE batches in the store at once, plus those read before a pause). */
#define RN_INGEST_ACK_WINDOW 64

/* What ingest keeps per node (inside rn_node_state_t below; zero-initialised; free with
 * rn_ingest_node_free). */
typedef struct {
    uint64_t done[RN_INGEST_ACK_WINDOW]; /* stored seqs above the node's acked_seq; 0 = free */
    uint64_t future;           /* samples dropped: stamped too far ahead */
    uint64_t over_cap;         /* samples dropped: a new series past RN_INGEST_MAX_SERIES */
    uint64_t unplanned;        /* samples dropped: a series the node's plan does not ask for */
    uint64_t unplanned_unlogged; /* unplanned samples dropped since the last line logged */
    int64_t unplanned_logged_ms; /* when that line was logged (monotonic; one per 10 s at most) */
    uint64_t refused;          /* batches the store refused (not acked; sent again) */
    uint64_t refused_at_log;   /* refused when the last line was logged (one per 10 s at most) */
    int64_t refused_logged_ms; /* when (monotonic clock, ms) */
    struct rn_plan_series *plan; /* the series the node's plan asks for; NULL: not built yet */
    uint64_t future_unlogged;  /* future samples dropped since the last line logged */
    int64_t future_logged_ms;  /* when that line was logged (monotonic; one per 10 s at most) */
    char **series;             /* open-addressing set of "source\x1f" "device\x1f" "object" */
    size_t n_series, cap_series;
} rn_ingest_node_t;

/* What the collector knows of one node whose agent said hello. Entries live as long as the
 * collector (the context keeps the list and frees it with rn_ingest_states_free), so a store
 * completion can always find its node, even across a topology reload or a reconnect. */
typedef struct rn_node_state {
    char *id;
    uint64_t acked_seq;        /* every batch <= this is in the RRD files */
    uint64_t submitted_seq;    /* every batch <= this is stored or being stored */
    uint64_t batches, samples, too_old, failed, duplicates;
    int64_t last_seen_ms;      /* wall clock of the last frame from its agent (API, alarm engine) */
    int64_t heard_mono_ms;     /* monotonic clock of that frame, for "silent": 0 = never */
    bool silent_logged;
    unsigned in_store;         /* its batches queued in the RRD store, not yet written */
    rn_ingest_node_t ingest;   /* future stamps, series cap, stored batches above acked_seq */
    struct rn_session *session; /* the agent's current connection, or NULL */
    struct rn_node_state *next;
} rn_node_state_t;

/* A node's session stops reading while the node has this many batches queued in the RRD store,
 * so one fast agent cannot fill the queue and starve the others: each pause ends with the
 * readiest sessions reading first. */
#define RN_NODE_MAX_IN_STORE 2

/* The one lookup of a node's state by id (the context, its HTTP API and its sessions all use
 * it). find: returns the entry of id in list, or NULL. get: the same, creating it at the head
 * of *list when missing; NULL on allocation failure. free: frees every entry, *list ends NULL. */
rn_node_state_t *rn_ingest_state_find(rn_node_state_t *list, const char *id);
rn_node_state_t *rn_ingest_state_get(rn_node_state_t **list, const char *id);
void rn_ingest_states_free(rn_node_state_t **list);

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

/* What rn_ingest_screen_series removed from one batch. */
typedef struct {
    size_t unplanned;          /* samples of series the node's plan does not ask for */
    size_t over_cap;           /* samples of new series past RN_INGEST_MAX_SERIES */
    char first_unplanned[192]; /* the first of each kind, "node/source/device/object" ("" when */
    char first_over_cap[192];  /* none; node "" for the agent's own) */
} rn_ingest_screen_t;

/* Removes from b, freeing them, the samples of series (Sample.node, source, device, object) that
 * plan does not allow (NULL: no plan check), then those of series the node has not fed before
 * once it feeds RN_INGEST_MAX_SERIES; records the new ones in g. Known series skip the plan
 * lookup. Fills *out. Returns 0, or -ENOMEM (the batch as it was, less those removed so far). */
int rn_ingest_screen_series(rn_ingest_node_t *g, const struct rn_plan_series *plan, Rn__Batch *b,
                            rn_ingest_screen_t *out);

/* Forgets g's plan series and the series it has seen (a new topology: series that were in the
 * old plan may be gone from the new one); the counters stay. */
void rn_ingest_node_replan(rn_ingest_node_t *g);

/* Frees what g holds (not g). */
void rn_ingest_node_free(rn_ingest_node_t *g);

#endif
