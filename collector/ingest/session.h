/* One agent's connection to the collector: a mutually authenticated TLS 1.3 stream.
 *
 * States: handshake and hello (the cron closes a session without hello after
 * RN_SESSION_HELLO_TIMEOUT_S) -> running. On hello the node id must equal the CN of the agent's
 * verified certificate (no agent speaks for another node) and be in the topology; the session
 * then owns that node (a previous session of the same node is closed) and sends the plan. Batches are deduplicated by
 * (node, seq), queued to the RRD store, and acked once written. */
#ifndef RN_SESSION_H
#define RN_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "collector.h"
#include "tls.h"
#include "wire.h"

#define RN_SESSION_HELLO_TIMEOUT_S 10

typedef struct rn_session {
    rn_tls_stream_t *tls;
    rn_collector_t *collector;
    rn_wire_reader_t reader;
    char peer[64];
    rn_node_state_t *node;     /* NULL until hello */
    int64_t opened_ms;
    uint64_t foreign_samples;  /* samples naming a node that is not its agentless child: dropped */
    uint64_t over_cap_samples; /* samples of new series past RN_INGEST_MAX_SERIES: dropped */
    bool closing, reading;
    struct rn_session *next, *prev;
} rn_session_t;

/* Accepts a pending connection on the collector's server. Returns 0 or a negative error. */
int rn_session_accept(rn_collector_t *c);

/* Closes the session (logging why, when why is not NULL); it is freed in the close callback. */
void rn_session_close(rn_session_t *s, const char *why);

/* Sends a complete frame; takes ownership of buf (malloc'd). */
void rn_session_send(rn_session_t *s, uint8_t *buf, size_t len);

/* Sends the session's node's current plan. */
void rn_session_send_plan(rn_session_t *s);

/* Pauses or resumes reading from the agent (backpressure). */
void rn_session_set_reading(rn_session_t *s, bool on);

/* The node a session speaks for, once its hello was accepted; NULL before. */
struct rn_node_state *rn_session_node(const rn_session_t *s);

#endif
