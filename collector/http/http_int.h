/* Internals shared by the HTTP server's files: http.c (server, routing, SSE, static files),
 * http_parse.c (parsers of request input: integers, ids, times, the Host header), api.c
 * (answers from memory), api_db.c (answers from the event store), api_alarms.c (alarm lists:
 * GET /api/v1/alarms, merging and grouping), api_graph.c (librrd renders), metrics_text.c
 * (/metrics). Not a public header.
 *
 * It includes neither alarm.h nor event_store.h: api_db.c and api_alarms.c are the files that
 * speak to the event store, api.c and metrics_text.c the ones that ask the alarm engine; what
 * api_db.c and api_alarms.c need of the engine they get through the rn__api_* functions below.
 *
 * A request is answered exactly once: a handler either replies (rn__http_reply / _json /
 * _error) or starts a job and suspends the connection (rn__http_job_new + rn__http_suspend);
 * the job's callback replies later (or drops the answer when the request is gone).
 *
 * Routes: the server (http.c) knows no resource. Each resource file exports a route table
 * (rn_api_*_routes, below) whose handlers are static in it; routes.c, the one file that knows
 * them all, hands the list of tables to the server (rn__http_serve) along with the two hooks the
 * server needs of its resources (the events stream's status, stopping graph renders). So
 * http.c -> resources is no edge: the resources call the server's helpers, never the reverse.
 *
 * The collector: no file of this folder includes collector.h. The server is given a view
 * (rn_http_view_t, http.h) that the collector fills, and the resources read it through the
 * accessors below (rn__http_topo, rn__http_alarms, ...), defined in collector_view.c. Accessors
 * read the collector's field at each call, never a copy taken at start, because the collector
 * replaces some of them while running (the topology on reload, the RRD store and the latest
 * cache set to NULL while closing); api_report.c hands the view's report host on to
 * report_run.h, whose functions take that, not the collector. */
#ifndef RN_HTTP_INT_H
#define RN_HTTP_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h> /* FILE: rn__http_text_open */
#include <uv.h>

#include "conf.h"
#include "topology.h"

struct rn_alarm_engine;
struct rn_assets;
struct rn_cctv;
struct rn_http_view;
struct rn_report_host;
struct rn_latest;
struct rn_node_state;
struct rn_rrd_store;
struct rn_event_store;
struct rn_sse_client;
struct rn_serial;

#define RN_HTTP_MAX_BODY (64 * 1024)

typedef struct rn_http rn_http_t; /* as in http.h (C11 allows the repeat) */

typedef struct rn_http_req {
    struct rn_http *http;
    struct MHD_Connection *conn;
    char method[8];
    char *path;                   /* decoded by MHD; node ids may contain '/' */
    char *body;                   /* NUL-terminated upload, NULL if none */
    size_t body_len;
    bool body_too_big;
    const rn_http_token_t *token; /* a known bearer token, or NULL */
    bool token_given;             /* an Authorization header was sent */
    bool suspended, dispatched;
    struct MHD_Response *response; /* a reply made while suspended, queued on resume */
    unsigned status;
    struct rn_http_job *job;      /* the job this request waits for, or NULL */
    struct rn_http_req *next, *prev; /* in http->waiting while suspended */
} rn_http_req_t;

/* The head of every async job's struct. req is NULL once the request is gone. */
typedef struct rn_http_job {
    struct rn_http *http;
    rn_http_req_t *req;
    /* NULL, or called (on the loop) when the request goes away before the job is done, req
     * already NULL: a job that has not begun may drop itself (api_graph.c). libmicrohttpd does
     * not watch a suspended connection, so a client that hangs up is seen only once the
     * connection is resumed; at close the server detaches its jobs instead (rn_http_close). */
    void (*gone)(struct rn_http_job *job);
} rn_http_job_t;

struct rn_http {
    const struct rn_http_view *view; /* read only through the accessors (collector_view.c) */
    const rn_http_config_t *cfg;
    const rn_http_token_t *tokens; /* cfg's, or the last rn_http_set_tokens (SIGHUP) */
    size_t n_tokens;
    const struct rn_http_site *site; /* the route tables and hooks (routes.c) */
    struct rn_event_store *events;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer, sse_timer;
    int handles_open;
    bool closing, freed;
    size_t jobs;                  /* async jobs whose callback has not fired yet */
    rn_http_req_t *waiting;       /* suspended requests */
    struct rn_sse_client *sse;
    size_t n_sse;
    struct rn_serial *graphs;     /* renders, one at a time (api_graph.c); NULL until the first */
    uint64_t requests, replies_4xx, replies_5xx, graphs_rendered, sse_dropped;
    int64_t started_ms;
    uint64_t rate_total;          /* samples_per_s: the total and time it was last taken at */
    int64_t rate_ms;
    double rate;
    char *tls_cert_pem, *tls_key_pem;
    void (*close_cb)(void *data);
    void *close_data;
};

/* Pushes an event (JSON text, borrowed) to every /api/v1/events client (also in http.h). */
void rn_http_publish_json(rn_http_t *h, const char *event, const char *json);

/* --- replies (http.c) --- */
/* Replies with body (malloc'd; taken) of content type ctype. */
void rn__http_reply(rn_http_req_t *r, unsigned status, const char *ctype, char *body, size_t len);
/* Replies with j serialized (takes the reference). */
void rn__http_json(rn_http_req_t *r, unsigned status, json_t *j);
/* Replies {"error": "<printf>"}. */
void rn__http_error(rn_http_req_t *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- async jobs (http.c) --- */
/* Allocates a job of size bytes (the header first) for r; NULL on allocation failure (then
 * reply 503 yourself). Counts it until rn__http_job_done. */
void *rn__http_job_new(rn_http_req_t *r, size_t size);
/* Suspends r: call after the job was submitted (its callback cannot have fired yet). */
void rn__http_suspend(rn_http_req_t *r);
/* The job's request (NULL when it is gone), then frees the job. Call first in the callback. */
rn_http_req_t *rn__http_job_done(rn_http_job_t *j);
/* Drops a job that could not be submitted. */
void rn__http_job_cancel(rn_http_job_t *j);

/* --- request helpers (http.c) --- */
const char *rn__http_arg(rn_http_req_t *r, const char *name);
/* Replies 400 naming the first query parameter not in allowed (NULL-terminated); false then. */
bool rn__http_args_only(rn_http_req_t *r, const char *const *allowed);
/* Reads an integer query parameter within [lo, hi]; def when absent. Replies 400 and returns
 * false when it is not one. */
bool rn__http_arg_int(rn_http_req_t *r, const char *name, int64_t def, int64_t lo, int64_t hi,
                      int64_t *out);
/* Replies 401/403 and returns false unless the request carries an operator (or admin) token. */
bool rn__http_need_writer(rn_http_req_t *r);
/* Parses the body as a JSON object; replies 400 and returns NULL when it is not one. */
json_t *rn__http_body_object(rn_http_req_t *r);

/* True if r's token has role admin (the writes only an admin may make, docs/api.md). */
bool rn__http_is_admin(const rn_http_req_t *r);
/* Replies 503 with Retry-After: retry_s and {"error": "<printf>"}: busy now, ask again later. */
void rn__http_busy(rn_http_req_t *r, unsigned retry_s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- parsers of outside input (http_parse.c; fuzzed by tests/fuzz/fuzz_http_*.c) --- */
/* The latest time a client may name: 9999-12-31T23:59:59Z. Times are held to [0, this], so
 * their sums and differences never overflow. */
#define RN_HTTP_TIME_MAX_S 253402300799LL
/* Parses a decimal integer (optional sign, nothing else) within [lo, hi]. Returns 0 and *out,
 * or -EINVAL. */
int rn__http_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out);
/* Parses a decimal id (1..INT64_MAX, digits only) ending at end_char ('\0' or '/'). Returns 0
 * and *out, or -EINVAL. */
int rn__http_parse_id(const char *s, char end_char, uint64_t *out);
/* Parses a graph time: "now", "-N" (before now), "now-N", "now+N", or Unix seconds / ms; N may
 * end in s, ms, h or d. now_s must be within [0, RN_HTTP_TIME_MAX_S]. Returns 0 and *out_s
 * (Unix seconds, within [0, RN_HTTP_TIME_MAX_S]), or -EINVAL. */
int rn__http_parse_time(const char *s, int64_t now_s, int64_t *out_s);
/* Escapes a string for a Prometheus label value into buf. Returns s itself when it needs no
 * escaping, else buf: use the returned pointer. */
const char *rn__http_label(const char *s, char *buf, size_t len);
/* Checks a Host header against DNS rebinding: accepted are no header, IP literals, localhost
 * and *.localhost, listen_host, and the n_allowed names of http.allowed_hosts (lower case); a
 * port is ignored, a trailing dot too. Returns 0, -EPERM (a name not ours) or -EINVAL (not a
 * host[:port]). */
int rn__http_host_allowed(const char *host, const char *listen_host, char *const *allowed,
                          size_t n_allowed);
/* open_memstream without its cost for large answers (metrics_text.c): *buf and *len are set
 * at fclose. Returns NULL when out of memory. */
FILE *rn__http_text_open(char **buf, size_t *len);

/* --- routes: what each resource file answers (docs/api.md) --- */
/* Answers r (exactly once, see above); arg is the path after a prefix route's path ("" for an
 * exact one). */
typedef void (*rn_http_handler_fn)(rn_http_req_t *r, const char *arg);

/* One route. A request goes to the first route, over the tables in the order routes.c gives
 * them, whose path matches and whose method is the request's (HEAD counts as GET); a path that
 * matches only under other methods is 405 (naming them, in table order), none at all 404.
 * Authorization is the handler's, not the table's: the writes refuse unknown query parameters
 * (400) before a request without an operator token (rn__http_need_writer: 401/403), and POST
 * /api/v1/alarms/{id}/other is 404 whatever the token. */
typedef struct rn_http_route {
    const char *method;      /* "GET", "POST", "DELETE"; NULL ends a table */
    const char *path;
    bool prefix;             /* path is a prefix; a match needs at least one byte after it */
    rn_http_handler_fn fn;
} rn_http_route_t;

/* The route tables, each ended by an entry with method NULL. */
extern const rn_http_route_t rn_api_routes[];         /* status, nodes, links, services, series */
extern const rn_http_route_t rn_api_alarms_routes[];  /* GET /api/v1/alarms (api_alarms.c) */
extern const rn_http_route_t rn_api_db_routes[];      /* outages, maintenance, alarm writes */
extern const rn_http_route_t rn_api_graph_routes[];   /* GET /api/v1/graph */
extern const rn_http_route_t rn_api_report_routes[];  /* SLA reports */
extern const rn_http_route_t rn_api_assets_routes[];  /* the asset register */
extern const rn_http_route_t rn_api_cctv_routes[];    /* police station cameras */
extern const rn_http_route_t rn_api_metrics_routes[]; /* /metrics */
extern const rn_http_route_t rn_http_events_routes[]; /* /api/v1/events (http.c) */
extern const rn_http_route_t rn_http_static_routes[]; /* /, /static/ (http.c) */

/* Every table above, in the order tried, NULL-terminated (routes.c). */
extern const rn_http_route_t *const rn_http_tables[];

/* What the server needs of its resources (routes.c fills it). */
typedef struct rn_http_site {
    const rn_http_route_t *const *tables; /* NULL-terminated, in priority order */
    json_t *(*status_json)(rn_http_t *h); /* the events stream's "status" (new reference) */
    void (*shutdown)(rn_http_t *h);       /* at close, before the connections end; may be NULL */
} rn_http_site_t;

/* rn_http_start with the resources of site (borrowed: it must outlive the server). Returns 0
 * and *out, or a negative error (logged). (http.c) */
int rn__http_serve(const struct rn_http_view *view, const rn_http_config_t *cfg,
                   const rn_http_site_t *site, rn_http_t **out);

/* --- the collector, as the resources see it (collector_view.c) --- */
/* Each reads the view (http.h) at the time of the call: see the comment at the top. */
uv_loop_t *rn__http_loop(const rn_http_t *h);
const rn_topology_t *rn__http_topo(const rn_http_t *h);
struct rn_alarm_engine *rn__http_alarms(const rn_http_t *h);
struct rn_latest *rn__http_latest(const rn_http_t *h);      /* NULL while closing */
struct rn_rrd_store *rn__http_store(const rn_http_t *h);    /* NULL while closing */
const struct rn_assets *rn__http_assets(const rn_http_t *h); /* NULL: no register */
/* Inventory frames dropped as naming a node their agent does not speak for. */
uint64_t rn__http_assets_foreign(const rn_http_t *h);
const struct rn_cctv *rn__http_cctv(const rn_http_t *h);     /* NULL: no cameras */
/* The per-node state (ingest/ingest.h's rn_node_state_t; read, never kept), a list by ->next. */
const struct rn_node_state *rn__http_node_states(const rn_http_t *h);
/* Agents connected now: sessions that named their node and are not closing. */
size_t rn__http_agents_connected(const rn_http_t *h);
/* Whether the collector stopped reading from agents because the RRD store is behind. */
bool rn__http_reading_paused(const rn_http_t *h);
/* What SLA report runs need (report_run.h's functions take it). */
struct rn_report_host *rn__http_reports(const rn_http_t *h);
/* Reloads the engine's maintenance windows from the event store (after a delete); the engine
 * may be replaced. Returns 0 or a negative error. */
int rn__http_reload_maintenance(rn_http_t *h);

/* --- answers from memory (api.c) --- */
/* The register's alarms up now appended to out (api_assets.c). */
void rn__api_asset_alarms(const struct rn_assets *reg, json_t *out);
/* The Status object of GET /api/v1/status, also the events stream's "status" (new reference). */
json_t *rn__api_status_json(struct rn_http *h);
/* Every published alarm of the engine as Alarm objects (flat, root_id set), roots first. */
json_t *rn__api_engine_alarms(struct rn_http *h, const char *node);
/* Tells the engine of a maintenance window. Returns 0 or -ENOMEM. */
int rn__api_set_maintenance(struct rn_http *h, const char *entity, int64_t start_ms,
                            int64_t end_ms);
/* Whether entity is a node id or circuit of the topology. */
bool rn__api_entity_known(struct rn_http *h, const char *entity);
/* The circuits of node's uplinks as a JSON array of strings (new reference). */
json_t *rn__api_node_circuits(struct rn_http *h, const char *node);

/* --- answers from the event store (api_db.c) --- */
/* With the event store: roots with symptoms from the store, merged with the engine's view
 * (api_alarms.c). */
void rn__db_alarms(rn_http_req_t *r, const char *state, int64_t since, int64_t limit);
/* Writes s as a JSON string (null when NULL): '"' and '\\' escaped, control bytes as \\u00XX,
 * everything else (UTF-8 included) as it is, as json_dumps does without JSON_ENSURE_ASCII
 * (api.c; the answers written as text, /api/v1/nodes and /api/v1/alarms, share it). */
void rn__json_put_str(FILE *f, const char *s);

/* Completes a node's answer (node: taken) with its alarms and outages, then replies. */
void rn__db_node(rn_http_req_t *r, const char *id, json_t *node);
/* Records an operator write of r's token in the audit log. detail may be NULL. */
void rn__db_audit(rn_http_req_t *r, const char *action, const char *detail);
/* Groups a flat array of Alarm objects (taken) into roots with "symptoms", newest root first,
 * at most limit roots (0: all). Returns a new array. (api_alarms.c, O(n).) */
json_t *rn__api_group_alarms(json_t *flat, int64_t limit);
/* Merges the engine's live view of node's alarms (NULL: all) into flat, Alarm objects from the
 * store: the engine's root, impact, text, severity, type and planned win; alarms the store has
 * not written yet are appended when add_missing. (api_alarms.c, O(n).) */
void rn__db_merge_engine(struct rn_http *h, json_t *flat, bool add_missing, const char *node);
/* The name of a stored alarm type in the vocabulary (collector/alarm/alarm.h), whatever spelling
 * the row holds ("link down" is "link_down"); an unknown word as it is. (api.c) */
const char *rn__api_type_name(const char *stored);
/* The API's 1..3 of a stored severity ("S1", "critical", "1", ...; 3 when unknown). (api.c) */
int rn__api_severity_num(const char *stored);

/* Jobs queued in the event store (0 without one), for /metrics. */
size_t rn__db_pending(struct rn_http *h);

/* --- graphs (api_graph.c) and /metrics (metrics_text.c) --- */
/* Drops queued renders (their requests get 503) and cancels the one queued on the pool; one
 * already rendering finishes, and the server waits for it (rn_http_close). */
void rn__graph_shutdown(struct rn_http *h);
/* Builds the exposition text (malloc'd) into *out; openmetrics selects that dialect. */
int rn__metrics_text(struct rn_http *h, bool openmetrics, char **out, size_t *len);

#endif
