/* The collector's context: it owns the loop's handles (the agent listener, signals, the cron
 * timer), the topology, the RRD store, the agent sessions and the state kept per node.
 *
 * Data flow: session.c reads frames from an agent, hands batches to the RRD store, and the
 * store's completion acks them (at least once, duplicates dropped by (node, seq)). Sessions see
 * the context only through ingest_host (ingest/session.h), which collector.c fills and keeps
 * current; the HTTP API through http_view (http/http.h), report runs through report_host
 * (report/report_run.h), both filled once at start with pointers to the fields below. */
#ifndef RN_COLLECTOR_H
#define RN_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "alarm/alarm.h"
#include "alarm/alarm_log.h"
#include "assets/assets.h"
#include "conf.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "ingest/session.h"
#include "notify/notify.h"
#include "report/report_run.h"
#include "series/rrd_store.h"
#include "tls.h"
#include "topology.h"

struct rn_latest; /* latest value per series (latest.h) */

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
    /* The context keeps the session list, not ingest: it owns the listener that accepts them,
     * and every walk of the list (backpressure, plans after a reload, hello timeouts, stop,
     * systemd's status, the HTTP API's counts) is the context's; a session knows only itself. */
    rn_session_t *sessions;
    rn_node_state_t *nodes;    /* per node (ingest.h): rn_ingest_state_find/get */
    rn_ingest_host_t ingest_host; /* what sessions see of the context (session.h) */
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
    rn_report_host_t report_host; /* what SLA report runs see of the context (report_run.h) */
    rn_http_view_t http_view;  /* what the HTTP API sees of the context (http.h) */
    bool stopping, store_closed, events_closed, finished;
    int handles_open;
} rn_collector_t;

/* Takes ownership of config and topo. Creates the store and starts listening. Returns 0 or a
 * negative error (logged). On failure call rn_collector_stop() and run the loop to close. */
int rn_collector_start(rn_collector_t *c, uv_loop_t *loop, const char *config_path,
                       rn_collector_config_t *config, rn_topology_t *topo);

/* Closes sessions, drains the store, closes every handle; the loop then ends. Idempotent. */
void rn_collector_stop(rn_collector_t *c);

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

#endif
