/* The collector's HTTP server: the JSON API of docs/api.md, graphs, /metrics, server-sent events
 * and the NOC dashboard's static files. libmicrohttpd driven by the collector's libuv loop.
 *
 * How it runs on the loop: MHD in "external" epoll mode (MHD_USE_EPOLL, no thread of its own).
 * Its epoll fd is watched by one uv_poll; a uv_timer follows MHD_get_timeout(); either calls
 * MHD_run(), which does a bounded amount of non-blocking work. So a slow or silent client costs
 * a socket and a little memory, never loop time: connections are capped in all and per IP, idle
 * ones are closed after timeout_s, request bodies are capped at 64 KiB.
 *
 * Answers built from memory (topology, alarm engine, per-node state, the latest-value cache) are
 * made on the loop at once. Answers that need the event store (SQLite, its own thread) or librrd
 * (graphs, one render at a time on the libuv pool) suspend the connection
 * (MHD_suspend_connection) and resume it when the job's callback fires on the loop.
 *
 * Writes (ack, comment, maintenance) need a bearer token whose role is operator or admin; each is
 * written to the event store's audit log with the token's name. Only admin may backdate a
 * maintenance window (api_db.c).
 *
 * Every request's Host header must name this server (an IP literal, localhost, the listen host or
 * http.allowed_hosts; http_parse.c), or it is answered 421: a locally bound API is otherwise open
 * to DNS rebinding from any web page its users visit. */
#ifndef RN_HTTP_H
#define RN_HTTP_H

#include "alarm/alarm.h"
#include "conf.h"

struct rn_assets;
struct rn_cctv;
struct rn_event_store;
struct rn_latest;
struct rn_node_state;
struct rn_report_host;
struct rn_rrd_store;

typedef struct rn_http rn_http_t;

/* What the server sees of the collector: it never reads the collector's context (collector.h).
 * The context fills this before rn_http_start and keeps it until the server is closed. Its
 * pointers point at the context's own fields and are read at every use, never copied: the
 * context replaces the topology on reload, a maintenance reload may replace the alarm engine,
 * and the RRD store and latest-value cache go NULL while closing (the pattern of the outage
 * ledger, alarm/alarm_log.h). */
typedef struct rn_http_view {
    uv_loop_t *loop;
    rn_topology_t *const *topo;
    rn_alarm_engine_t **alarms;           /* the server may replace it (maintenance reload) */
    struct rn_latest *const *latest;      /* NULL: none (closing) */
    struct rn_rrd_store *const *store;    /* NULL: closing */
    struct rn_assets *const *assets;      /* NULL: no register */
    const uint64_t *assets_foreign;       /* Inventory frames dropped as not the agent's own */
    struct rn_cctv *const *cctv;          /* NULL: no cameras */
    struct rn_node_state *const *nodes;   /* per-node state (ingest/ingest.h), a list by ->next */
    const bool *reading_paused;           /* reading from agents stopped: the store is behind */
    struct rn_report_host *reports;       /* SLA report runs (report/report_run.h) */
    /* Agents connected now: sessions that named their node and are not closing. */
    size_t (*agents_connected)(void *ctx);
    void *ctx;
} rn_http_view_t;

/* Starts serving cfg (borrowed: it must outlive the server) over view (borrowed likewise). Binds
 * at once. Returns 0 and *out, or a negative error (logged, naming the address). */
int rn_http_start(const rn_http_view_t *view, const rn_http_config_t *cfg, rn_http_t **out);

/* Replaces the bearer tokens (SIGHUP): requests that arrive from now on are checked against
 * tokens[0..n). Borrowed, and the old ones too: a request or job in flight keeps a pointer to its
 * token, so both must stay valid until the server is closed. */
void rn_http_set_tokens(rn_http_t *h, const rn_http_token_t *tokens, size_t n);

/* Gives the server the event store (NULL: none; alarms then come from the engine alone, and
 * writes, outages and maintenance answer 503). Borrowed: call again with NULL before closing it. */
void rn_http_set_event_store(rn_http_t *h, struct rn_event_store *events);

/* Pushes an alarm event to every /api/v1/events client (called from the alarm event callback).
 * a is borrowed until the call returns. */
void rn_http_publish_alarm(rn_http_t *h, rn_alarm_event_kind_t kind, const rn_alarm_t *a);

/* Pushes an "acknowledged" alarm event (JSON object text, borrowed) to the SSE clients. */
void rn_http_publish_json(rn_http_t *h, const char *event, const char *json);

/* Stops listening, ends every connection, waits for its jobs, frees the server, then calls cb
 * (may be NULL). */
void rn_http_close(rn_http_t *h, void (*cb)(void *data), void *data);

#endif
