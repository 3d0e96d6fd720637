/* Notifier internals shared by notify*.c: the notification (an alarm event copied out of the
 * engine), the channel base every transport embeds, the transports' constructors, the journal
 * and the pure formatting helpers the unit tests call.
 *
 * A notification is shared by the channels that still have to deliver it: `pending` has one bit
 * per channel (by channel index) and the notification is freed when the last bit is cleared. A
 * channel holds its notifications in a FIFO of small queue items; only the head is ever in
 * flight, so each channel delivers in order. */
#ifndef RN_NOTIFY_INT_H
#define RN_NOTIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "notify/notify.h"

#define RN_NOTIFY_PEN 32473 /* RFC 5612 documentation PEN: RajNet must register its own (MIB) */

#define rn__container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* One notification: an alarm event, or "the monthly reports are ready" (msg). Strings are owned,
 * never NULL ("" when the alarm has no such field); month and files are set for reports only. */
typedef struct rn__notify_event {
    struct rn__notify_event *prev, *next; /* the notifier's list of live notifications */
    uint64_t seq;               /* journal sequence, unique within a state dir, > 0 */
    uint64_t pending;           /* bit i: channel i still has to deliver it */
    unsigned msg;               /* RN_NOTIFY_ALARMS or RN_NOTIFY_REPORTS (notify.h) */
    char *month, *files;        /* reports: "YYYY-MM", the paths one a line (else NULL) */
    rn_alarm_event_kind_t kind;
    int64_t at_ms;              /* event time (engine clock, Unix ms) */
    uint64_t id, root_id;
    int type, severity;
    bool planned;
    int64_t since_ms, raised_ms;
    char *type_name, *node, *entity, *vendor, *circuit, *service;
    char *impact;               /* "offices: a, b; services: vc, emitra" ("" when none) */
    char *text;
    char *json;                 /* the payload: webhook body, exec stdin, journal record */
} rn__notify_event_t;

typedef struct rn__notify_item {
    struct rn__notify_item *next;
    rn__notify_event_t *ev;
} rn__notify_item_t;

typedef struct rn__notify_chan rn__notify_chan_t;

typedef struct {
    /* Starts delivering ev. Returns 0 when the transport will call rn__notify_chan_done() exactly
     * once (possibly before returning), or a negative error (then it never calls it; why set). */
    int (*send)(rn__notify_chan_t *ch, const rn__notify_event_t *ev);
    /* Aborts what is in flight (no done call) and closes the transport's handles; calls
     * rn__notify_chan_closed(ch) once they are all closed. */
    void (*close)(rn__notify_chan_t *ch);
    /* Frees the transport's memory, ch included (the core frees ch->key). */
    void (*free)(rn__notify_chan_t *ch);
} rn__notify_chan_ops_t;

/* The part of a channel the core owns; each transport embeds it. */
struct rn__notify_chan {
    rn_notifier_t *n;
    const rn__notify_chan_ops_t *ops;
    unsigned idx;               /* bit in rn__notify_event_t.pending */
    unsigned kinds;             /* the messages it takes: RN_NOTIFY_ALARMS | RN_NOTIFY_REPORTS */
    char *key;                  /* "webhook http://…": journal key and log name; set by the
                                 * constructor (NULL: it fails -ENOMEM), freed by the core */
    rn__notify_item_t *head, *tail;
    size_t len;                 /* queued, the one in flight included */
    bool inflight, kicking, closing, closed, failing;
    bool retired;               /* replaced by a reconfigure: freed once its handles close */
    uint32_t attempts;          /* failed attempts of the head */
    uv_timer_t retry;
    int open_handles;           /* of the core's own: the retry timer */
    char why[200];              /* last failure, set by the transport */
};

/* ---- the core (notify.c) ---- */

/* Reports the outcome of the send in flight on ch (status 0: delivered; else ch->why says why). */
void rn__notify_chan_done(rn__notify_chan_t *ch, int status);

/* Reports that the transport's handles are all closed (after ops->close). */
void rn__notify_chan_closed(rn__notify_chan_t *ch);

uv_loop_t *rn__notify_loop(const rn_notifier_t *n);

/* The retry delay after `attempt` failures (1, 2, …): initial_ms doubling, at most max_ms. */
uint64_t rn__notify_backoff_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms);

/* ---- transports: each returns 0 and a channel whose base the core then fills, or -errno ---- */
int rn__notify_trap_new(rn_notifier_t *n, const rn_notify_trap_config_t *cfg,
                        rn__notify_chan_t **out);
int rn__notify_syslog_new(rn_notifier_t *n, const rn_notify_syslog_config_t *cfg,
                          rn__notify_chan_t **out);
int rn__notify_webhook_new(rn_notifier_t *n, const rn_notify_webhook_config_t *cfg,
                           rn__notify_chan_t **out);
int rn__notify_exec_new(rn_notifier_t *n, const rn_notify_exec_config_t *cfg,
                        rn__notify_chan_t **out);

/* The webhook channels share one curl multi handle owned by the notifier (notify_webhook.c). */
typedef struct rn__notify_curl rn__notify_curl_t;
rn__notify_curl_t **rn__notify_curl_slot(rn_notifier_t *n);
/* Closes the shared multi handle once no webhook channel uses it; calls done(n) when closed. */
void rn__notify_curl_close(rn_notifier_t *n, rn__notify_curl_t *c, void (*done)(rn_notifier_t *));

/* ---- formatting (notify_format.c): pure functions ---- */

/* Copies an engine alarm into a new notification (seq 0, pending 0) with its JSON built.
 * Returns NULL when out of memory. */
rn__notify_event_t *rn__notify_event_new(rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                                         int64_t at_ms);

/* Rebuilds a notification from its JSON payload (a journal record). NULL if it is not one. */
rn__notify_event_t *rn__notify_event_from_json(const char *json);

void rn__notify_event_free(rn__notify_event_t *ev);

/* ---- report messages (notify_report.c): pure functions ---- */

/* A "report ready" notification for month ("YYYY-MM") with files (paths, one a line; copied),
 * its JSON built. Returns NULL when out of memory. */
rn__notify_event_t *rn__notify_report_new(const char *month, const char *files, int64_t at_ms);

/* Rebuilds a report notification from its JSON payload. NULL if it is not one. */
rn__notify_event_t *rn__notify_report_from_json(const char *json);

/* Names ev for a log line: "alarm 12 (raised, jaipur)" or "report 2024-05". Returns buf. */
const char *rn__notify_event_label(const rn__notify_event_t *ev, char *buf, size_t len);

/* "raised", "promoted", "cleared" (the MIB's and the payload's words). */
const char *rn__notify_kind_name(rn_alarm_event_kind_t kind);

/* Formats ev as one RFC 5424 message (no framing, no newline) into buf. Returns the length
 * (truncated to len - 1 like snprintf when longer). */
size_t rn__notify_syslog_format(const rn__notify_event_t *ev, unsigned facility,
                                const char *hostname, int pid, char *buf, size_t len);

/* Parses a target "udp:IP:port", "tcp:IP:port", "udp6:[IP]:port" or "tcp6:[IP]:port" (IP a
 * literal: resolving would block the loop). Returns 0 with *tcp and *addr set, or -EINVAL. */
struct sockaddr_storage;
int rn__notify_parse_target(const char *s, bool *tcp, struct sockaddr_storage *addr);

/* Formats Unix ms as RFC 3339 UTC with milliseconds ("2024-05-01T10:00:00.123Z"). */
void rn__notify_time_format(int64_t ms, char buf[32]);

/* ---- journal (notify_store.c) ---- */
typedef struct rn__notify_store rn__notify_store_t;

/* One record read back from the journal at open. */
typedef struct {
    uint64_t seq;
    char *json;
    char **done;                /* keys of the channels that finished it */
    size_t n_done;
} rn__notify_record_t;

typedef void (*rn__notify_loaded_fn)(void *ctx, int status, rn__notify_record_t *recs,
                                     size_t n_recs, uint64_t max_seq);

/* Opens the journal in dir (created) and reads it on the thread pool; loaded(ctx, …) then runs on
 * the loop with the records in seq order (owned by the store: valid until loaded returns).
 * Returns 0 (loaded fires once) or -ENOMEM. dir NULL: loaded fires with nothing. */
int rn__notify_store_open(uv_loop_t *loop, const char *dir, rn__notify_loaded_fn loaded, void *ctx,
                          rn__notify_store_t **out);

/* Queues journal lines (appended in order, batched, fdatasync'd). Returns 0 or -ENOMEM. */
int rn__notify_store_add(rn__notify_store_t *s, uint64_t seq, const char *json);
int rn__notify_store_done(rn__notify_store_t *s, uint64_t seq, const char *key);

/* Replaces the whole journal by snapshot (owned by the store from now on; NULL: empty) once the
 * writes queued before it are done. Lines queued before it and not yet written are dropped: the
 * snapshot already says what they said. */
void rn__notify_store_rewrite(rn__notify_store_t *s, char *snapshot);

/* Lines written since the last rewrite (queued included). */
size_t rn__notify_store_lines(const rn__notify_store_t *s);

/* Finishes every queued write, then frees the store and calls cb(data) on the loop. */
void rn__notify_store_close(rn__notify_store_t *s, void (*cb)(void *data), void *data);

/* Parses a journal's text into records (exposed for tests). Incomplete last lines and malformed
 * lines are skipped. Returns 0 or -ENOMEM; *max_seq is the highest seq seen. */
int rn__notify_journal_parse(const char *text, size_t len, rn__notify_record_t **recs,
                             size_t *n_recs, uint64_t *max_seq);
void rn__notify_records_free(rn__notify_record_t *recs, size_t n);

#endif
