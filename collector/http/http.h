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

struct rn_collector;
struct rn_event_store;

typedef struct rn_http rn_http_t;

/* Starts serving cfg (borrowed: it must outlive the server) for collector c. Binds at once.
 * Returns 0 and *out, or a negative error (logged, naming the address). */
int rn_http_start(struct rn_collector *c, const rn_http_config_t *cfg, rn_http_t **out);

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
