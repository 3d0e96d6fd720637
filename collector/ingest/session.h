/* One agent's connection to the collector: a mutually authenticated TLS 1.3 stream.
 *
 * States: handshake and hello (the context's cron closes a session without hello once
 * rn_session_hello_overdue says so) -> running. On hello the node id must equal the CN of the
 * agent's verified certificate (no agent speaks for another node) and be in the topology; the
 * session then owns that node (a previous session of the same node is closed) and sends the
 * plan. Batches are deduplicated by (node, seq), queued to the RRD store, and acked once
 * written.
 *
 * A session sees the collector only through rn_ingest_host_t: the few subsystems it feeds, two
 * config limits, and a table of what only the context can do. It never includes collector.h,
 * so ingest sits below the context and nothing in collector/ingest/ calls back into it by
 * name. */
#ifndef RN_SESSION_H
#define RN_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "alarm/alarm.h"
#include "events/event_store.h"
#include "ingest/ingest.h"
#include "series/rrd_store.h"
#include "tls.h"
#include "topology.h"
#include "wire.h"

#define RN_SESSION_HELLO_TIMEOUT_S 10

struct rn_latest; /* series/latest.h */
struct rn_session;

/* What only the context can do for a session; every call gets the host's ctx first. */
typedef struct rn_ingest_ops {
    /* Returns the state of node id, creating it (rn_ingest_state_get on the context's list);
     * NULL on allocation failure. */
    rn_node_state_t *(*node)(void *ctx, const char *id);
    /* Called after a batch of n was queued to the store and after one was written: the context
     * pauses or resumes every session by the store's queue, then returns whether n's session
     * may read now (not while the store is behind, nor while n has RN_NODE_MAX_IN_STORE batches
     * in it). */
    bool (*backpressure)(void *ctx, const rn_node_state_t *n);
    /* s is closed: the context takes it off its list (and, while stopping, may finish). s is
     * freed when this returns. */
    void (*closed)(void *ctx, struct rn_session *s);
    /* An Inventory frame from node's agent (the asset register). */
    void (*inventory)(void *ctx, const char *node, const Rn__Inventory *m);
    /* Every sample of a batch, as node's (police station cameras take the "rtsp" ones). */
    void (*sample)(void *ctx, const char *node, const Rn__Sample *x);
} rn_ingest_ops_t;

/* What the context hands its sessions. It lives in the context, which fills it before it
 * listens and keeps it current: a topology reload swaps topo (before plans are sent again), a
 * config reload the limits, and store and events go NULL as they close. Sessions read it on
 * every use and copy nothing from it. */
typedef struct rn_ingest_host {
    const rn_topology_t *topo;   /* nodes, plans, services */
    rn_rrd_store_t *store;       /* batches are written here */
    rn_alarm_engine_t *alarms;   /* evidence: probe rounds, interfaces, services, VC, seen */
    struct rn_latest *latest;    /* last value per series for the HTTP API; NULL: none */
    rn_event_store_t *events;    /* each node's acked seq is kept here; NULL once closed */
    uint32_t max_clock_skew_s;   /* collector.yaml: an agent clock further off is logged */
    uint32_t max_future_skew_s;  /* collector.yaml: samples stamped further ahead are dropped */
    const rn_ingest_ops_t *ops;
    void *ctx;
} rn_ingest_host_t;

typedef struct rn_session {
    rn_tls_stream_t *tls;
    const rn_ingest_host_t *host; /* borrowed: the context's, outlives every session */
    rn_wire_reader_t reader;
    char peer[64];
    rn_node_state_t *node;     /* NULL until hello */
    int64_t opened_ms;         /* monotonic clock at accept (the hello timeout) */
    uint64_t foreign_samples;  /* samples naming a node that is not its agentless child: dropped */
    uint64_t over_cap_samples; /* samples of new series past RN_INGEST_MAX_SERIES: dropped */
    bool closing, reading;
    struct rn_session *next, *prev; /* the context's list of sessions; ingest never walks it */
} rn_session_t;

/* Accepts a pending connection on server (the context's listener) with TLS context tls.
 * Returns 0 with *out reading, or a negative error (nothing made). The caller keeps the new
 * session on its list until host->ops->closed. */
int rn_session_accept(const rn_ingest_host_t *host, rn_tls_ctx_t *tls, uv_stream_t *server,
                      rn_session_t **out);

/* Closes the session (logging why, when why is not NULL); it is freed in the close callback,
 * after host->ops->closed. */
void rn_session_close(rn_session_t *s, const char *why);

/* Sends a complete frame; takes ownership of buf (malloc'd). */
void rn_session_send(rn_session_t *s, uint8_t *buf, size_t len);

/* Sends the session's node's current plan (from host->topo). */
void rn_session_send_plan(rn_session_t *s);

/* Pauses or resumes reading from the agent (backpressure). */
void rn_session_set_reading(rn_session_t *s, bool on);

/* The node a session speaks for, once its hello was accepted; NULL before. */
rn_node_state_t *rn_session_node(const rn_session_t *s);

/* Returns whether s has gone RN_SESSION_HELLO_TIMEOUT_S without a hello at now_mono_ms (the
 * monotonic clock in ms: a wall clock step must not close or keep sessions). */
bool rn_session_hello_overdue(const rn_session_t *s, int64_t now_mono_ms);

#endif
