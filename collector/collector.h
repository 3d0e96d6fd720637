/* The collector's context: it owns the loop's handles (the agent listener, signals, the cron
 * timer), the topology, the RRD store, the agent sessions and the state kept per node.
 *
 * Data flow: session.c reads frames from an agent, hands batches to the RRD store, and the
 * store's completion acks them (at least once, duplicates dropped by (node, seq)). */
#ifndef RN_COLLECTOR_H
#define RN_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "alarm/alarm.h"
#include "alarm/alarm_log.h"
#include "assets/assets.h"
#include "conf.h"
#include "ingest/ingest.h"
#include "notify/notify.h"
#include "series/rrd_store.h"
#include "tls.h"
#include "topology.h"

struct rn_session;
struct rn_http;   /* HTTP API (http.h) */
struct rn_latest; /* latest value per series (latest.h) */

/* What the collector knows of one node. Entries live as long as the collector, so a store
 * completion can always find its node, even across a topology reload or a reconnect. */
typedef struct rn_node_state {
    char *id;
    uint64_t acked_seq;        /* every batch <= this is in the RRD files */
    uint64_t submitted_seq;    /* every batch <= this is stored or being stored */
    uint64_t batches, samples, too_old, failed, duplicates;
    int64_t last_seen_ms;      /* wall clock of the last frame from its agent */
    bool silent_logged;
    unsigned in_store;         /* its batches queued in the RRD store, not yet written */
    rn_ingest_node_t ingest;   /* future stamps, series cap, stored batches above acked_seq */
    struct rn_session *session; /* the agent's current connection, or NULL */
    struct rn_node_state *next;
} rn_node_state_t;

typedef struct rn_collector {
    uv_loop_t *loop;
    char *config_path;
    rn_collector_config_t *config;
    rn_topology_t *topo;
    rn_rrd_store_t *store;
    rn_alarm_engine_t *alarms;
    rn_event_store_t *events;  /* SQLite: alarms, outages, maintenance, delivery state */
    rn_alarm_log_t alarm_log;
    rn_notifier_t *notifier;   /* traps, syslog, webhooks, exec hooks */
    rn_tls_ctx_t *tls;
    uv_tcp_t server;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t cron;
    struct rn_session *sessions;
    rn_node_state_t *nodes;
    bool reading_paused;       /* backpressure: the store is behind */
    unsigned pauses_unlogged;  /* pauses since the last one logged (one line per 10 s at most) */
    int64_t pause_logged_ms;
    struct rn_http *http;      /* HTTP API, NULL when config has no http: section */
    struct rn_latest *latest;  /* last samples per series, fed by session.c */
    struct rn_assets *assets;  /* the asset register (collector/asset_register.c) */
    struct rn_cctv *cctv;      /* police station cameras (collector/cctv_collector.c) */
    int64_t assets_ticked_ms;
    uint64_t assets_foreign;   /* Inventory frames naming a node their agent does not speak for */
    int64_t assets_foreign_logged_ms;
    unsigned report_runs;      /* monthly report runs (cron or by hand) still writing */
    unsigned report_jobs;      /* SLA reports running (report_run.c admits RN_REPORT_MAX_RUNNING) */
    bool stopping, store_closed, events_closed, finished;
    int handles_open;
} rn_collector_t;

/* Takes ownership of config and topo. Creates the store and starts listening. Returns 0 or a
 * negative error (logged). On failure call rn_collector_stop() and run the loop to close. */
int rn_collector_start(rn_collector_t *c, uv_loop_t *loop, const char *config_path,
                       rn_collector_config_t *config, rn_topology_t *topo);

/* Closes sessions, drains the store, closes every handle; the loop then ends. Idempotent. */
void rn_collector_stop(rn_collector_t *c);

/* Returns the state of node id, creating it; NULL on allocation failure. */
rn_node_state_t *rn_collector_node(rn_collector_t *c, const char *id);

/* Backpressure: called by sessions after queueing a write and by the store's completions. */
void rn_collector_check_backpressure(rn_collector_t *c);

/* Whether a node's session may read: not while the store is behind, and not while the node has
 * RN_NODE_MAX_IN_STORE batches queued in it (so one fast agent cannot fill the queue and starve
 * the others: each pause ends with the readiest sessions reading first). */
#define RN_NODE_MAX_IN_STORE 2
bool rn_collector_may_read(const rn_collector_t *c, const rn_node_state_t *n);

/* Publishes an alarm raised outside the engine (the asset register's) as the engine's own are:
 * event store, notifiers, HTTP events, log. */
void rn_collector_publish_alarm(rn_collector_t *c, rn_alarm_event_kind_t kind,
                                const rn_alarm_t *a, int64_t at_ms);

/* The asset register (collector/asset_register.c). start: creates it and loads the configured
 * file (an error there is logged, and the register runs without a file); returns 0 or -ENOMEM.
 * reload: reads the file again (SIGHUP), keeping the old one if the new one has an error.
 * tick: about once a minute, from the cron. inventory: an agent's Inventory frame (dropped,
 * counted in assets_foreign, unless it names the agent's node or one of its agentless children).
 * free: at the end, without events. The register is kept in the event store and read back at
 * start. */
int rn_collector_assets_start(rn_collector_t *c);
void rn_collector_assets_reload(rn_collector_t *c);
void rn_collector_assets_tick(rn_collector_t *c, int64_t now_ms);
void rn_collector_assets_inventory(rn_collector_t *c, const char *node, const Rn__Inventory *m);
void rn_collector_assets_free(rn_collector_t *c);

/* Police station cameras (collector/cctv_collector.c). start: builds the camera state from the
 * topology; returns 0 or -ENOMEM. reload: after a new topology is in place. tick: once a second,
 * from the cron (raises and clears "camera offline"). observe: one sample of node's agent
 * (anything but "rtsp" is ignored). free: at the end, without events. */
int rn_collector_cctv_start(rn_collector_t *c);
void rn_collector_cctv_reload(rn_collector_t *c);
void rn_collector_cctv_tick(rn_collector_t *c, int64_t now_ms);
void rn_collector_cctv_observe(rn_collector_t *c, const char *node, const Rn__Sample *s);
void rn_collector_cctv_free(rn_collector_t *c);

/* While stopping: frees what is left once the store is drained and every session closed. */
void rn_collector_try_finish(rn_collector_t *c);

#endif
