/* Event store: the collector's durable record of alarms (with every state change), outages,
 * planned maintenance windows, per-node delivery state and the audit log of operator writes, in
 * one SQLite database (WAL). The only module that includes <sqlite3.h>.
 *
 * Why a dedicated thread: SQLite calls block on disk (every commit fsyncs), and the loop thread
 * never blocks on disk. One thread owns the one connection for the store's whole life: it opens
 * and migrates the file, runs every statement, and closes it. Nothing else can reach the
 * connection, and every statement goes through one helper that checks it runs on that thread, so
 * "the loop thread never runs SQL" holds by construction. A thread of its own (rather than jobs
 * on the libuv pool, as the RRD store does) keeps commits' fsyncs from occupying the pool that
 * RRD writes and file-system requests share, and pins the connection to one thread.
 *
 * How: calls on the loop thread copy their input into a job and append it to a queue (a mutex
 * and a condition variable; the mutex is never held across SQL). The worker takes every job
 * queued so far (up to 4096) and runs them in one transaction (group commit): each job in a
 * savepoint of its own, so a job that fails (unknown alarm, duplicate id, bad JSON) is rolled
 * back alone and the others commit. After COMMIT the group goes back through a uv_async and the
 * callbacks fire on the loop thread, in submission order. A write's callback with status 0 means
 * its transaction has committed and is on the disk (see durability); queries run inside the same
 * transaction and so see every write queued before them.
 *
 * Durability: journal_mode=WAL with synchronous=FULL. In WAL mode a commit appends the pages to
 * the -wal file; with FULL the WAL is fsynced before COMMIT returns, so a callback that says
 * committed means the commit is on stable storage: it survives a collector SIGKILL (NORMAL would
 * too: the written WAL is in the page cache) and also a power loss or kernel crash (NORMAL would
 * not: it fsyncs only at checkpoints, so the last commits could roll back). The cost, one fsync
 * per transaction, is shared by every job of a group. A crash at any point leaves either the old
 * or the new state of each transaction, never a corrupted file (SQLite's WAL recovery on open).
 *
 * Delivery state (the highest acked batch seq per node) changes after every stored batch, so it
 * is coalesced in memory: rn_event_store_node_acked_seq_set() only records the latest value, and
 * the values changed since the last write are written with the next transaction, or at most
 * about one second later, and at close.
 *
 * Schema: versioned by PRAGMA user_version; migrations (event_store.c) are applied at open in
 * order, one transaction each. A file newer than the code is refused, naming both versions. */
#ifndef RN_EVENT_STORE_H
#define RN_EVENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define RN_EVENT_STORE_VERSION 5 /* schema version this code writes */

typedef struct rn_event_store rn_event_store_t;

/* State changes of an alarm, as recorded in its history. */
typedef enum {
    RN_HIST_RAISED,        /* written by rn_event_store_alarm_raise() only */
    RN_HIST_ESCALATED,     /* severity changed: sets the alarm's severity */
    RN_HIST_SYMPTOM_OF,    /* attached to root_id as a symptom: sets the alarm's root_id */
    RN_HIST_PROMOTED,      /* a symptom became a root alarm: clears root_id */
    RN_HIST_CLEARED,       /* sets cleared_at_ms = at_ms */
    RN_HIST_ACKNOWLEDGED,  /* sets acked_by = actor, acked_at_ms = at_ms, ack_comment = detail */
    RN_HIST_COMMENT,       /* an operator's note: history only */
} rn_alarm_hist_kind_t;

/* One state change. Strings are borrowed by the call that takes it (copied before it returns);
 * in query results they belong to the result. */
typedef struct {
    uint64_t alarm_id;
    rn_alarm_hist_kind_t kind;
    int64_t at_ms;              /* wall clock, Unix ms */
    const char *actor;          /* "engine" or the operator; NULL means "engine" */
    const char *severity;       /* ESCALATED (and RAISED in results): the new severity */
    uint64_t root_id;           /* SYMPTOM_OF: the root alarm (must exist) */
    const char *detail;         /* free text (the comment for ACKNOWLEDGED/COMMENT); NULL = "" */
} rn_alarm_hist_t;

/* One alarm. On raise: id (from the alarm engine, > 0, not used before: continue numbering from
 * rn_event_store_max_alarm_id()), type, severity, entity and raised_at_ms are required; node,
 * vendor and circuit may be NULL; impact_* are JSON arrays as text (NULL means "[]"; anything but
 * valid JSON fails the job with -EINVAL); root_id 0 means a root alarm; the cleared, acked and
 * events fields are ignored. In query results every field is filled. */
typedef struct {
    uint64_t id;
    const char *type;           /* "link_down", "node_silent", ... (rn_alarm_type_name) */
    const char *severity;       /* current severity: "S1".."S3" (rn_alarm_severity_name) */
    const char *entity;         /* what is affected: "link:JPR-MPLS-0042", "node:jaipur", ... */
    const char *node, *vendor, *circuit;
    uint64_t root_id;
    const char *text;           /* one line for a human; NULL = "" */
    const char *impact_nodes, *impact_services;
    int64_t raised_at_ms;
    bool cleared;
    int64_t cleared_at_ms;      /* valid if cleared */
    bool planned;               /* raised inside a maintenance window */
    const char *acked_by;       /* NULL: not acknowledged */
    int64_t acked_at_ms;
    const char *ack_comment;
    const rn_alarm_hist_t *events; /* results: the alarm's history, oldest first */
    size_t n_events;
} rn_alarm_rec_t;

typedef enum { RN_OUTAGE_LINK, RN_OUTAGE_NODE } rn_outage_kind_t;

/* One outage: the source of truth for SLA reports. On open: alarm_id (an existing alarm),
 * entity, kind, start_ms required; vendor, circuit, root_cause may be NULL; id, ended and refined
 * are ignored. An alarm has at most one outage per entity. How the collector keeps one row per
 * cut, refines its times and carries it across a restart: docs/outages.md. */
typedef struct {
    uint64_t id;                /* results: the row id */
    uint64_t alarm_id;
    const char *entity;
    rn_outage_kind_t kind;
    const char *vendor, *circuit;
    const char *root_cause;     /* text naming the root alarm's cause */
    int64_t start_ms;
    bool ended;                 /* false: still open, counts until now */
    int64_t end_ms;             /* valid if ended */
    bool planned;               /* inside a maintenance window: excluded from SLA */
    bool refined;               /* results: start/end were refined from the probe files
                                 * (rn_event_store_outage_refine); reports take them as they are */
} rn_outage_rec_t;

/* One planned maintenance window [start_ms, end_ms) on an entity. On add, id is ignored,
 * end_ms > start_ms, entity and created_by required, reason may be NULL. */
typedef struct {
    uint64_t id;
    const char *entity;
    int64_t start_ms, end_ms;
    const char *reason;
    const char *created_by;
    int64_t created_at_ms;
} rn_maintenance_rec_t;

/* One operator write, for the audit log. actor and action required; role, detail may be NULL. */
typedef struct {
    int64_t at_ms;
    const char *actor;          /* who */
    const char *role;           /* as what ("operator", "admin") */
    const char *action;         /* "ack", "maintenance_add", ... */
    const char *detail;         /* the request, e.g. "alarm 42: comment ..." */
} rn_audit_rec_t;

/* Counters for /metrics and tests, maintained by the worker. */
typedef struct {
    uint64_t transactions;      /* committed transactions (groups and delivery-state flushes) */
    uint64_t jobs;              /* jobs reported (every outcome) */
    uint64_t jobs_failed;       /* of those, with a negative status */
    uint64_t seq_rows;          /* node_delivery rows written */
    uint64_t largest_group;     /* most jobs committed in one transaction */
    uint64_t writes_held;       /* ledger writes held for a full disk now (see rn_event_store_t) */
    uint64_t writes_lost;       /* ledger writes given up: held past RN_EVENT_STORE_MAX_HELD, or
                                 * still held at close */
} rn_event_store_stats_t;

/* Full disk (-ENOSPC): a write nobody waits for (callback NULL: the alarm log's ledger) is held
 * by the worker and retried, first in the next group, every second or with the next jobs, until
 * it commits; its order among the other held writes is kept. A write with a callback, and any
 * query, fails at once with -ENOSPC (its caller answers for it). At most this many are held; past
 * it the oldest are given up (counted in writes_lost and logged), and so are those still held when
 * the store closes. */
#define RN_EVENT_STORE_MAX_HELD 65536

/* The asset register's record of one device (collector/assets/assets.h): node and device (the
 * device's, not always the agent's node), when it last reported, and its latest inventory as an
 * Rn__Inventory message, protobuf-encoded (the store keeps the bytes and does not read them).
 * One row per (node, device); a put replaces it. */
typedef struct {
    const char *node, *device;
    int64_t updated_ms;
    const void *inventory;
    size_t len;                 /* 1 .. RN_EVENT_STORE_MAX_INVENTORY */
} rn_asset_inv_rec_t;
#define RN_EVENT_STORE_MAX_INVENTORY (16u << 20) /* a stack of 9 switches encodes to ~40 KiB */

/* One replacement the register saw ("device replaced"): kept for good (a few per device in its
 * life), read back as the last few of each device. */
typedef struct {
    const char *node, *device;
    int64_t at_ms;
    uint32_t index;             /* entPhysicalIndex: the slot */
    const char *name, *model, *old_serial, *new_serial;
} rn_asset_repl_rec_t;

/* Callbacks, on the loop thread. status is 0 or a negative error: -EEXIST (the id exists),
 * -ENOENT (no such alarm, outage or window), -EINVAL (input broke a constraint, e.g. JSON that is
 * not valid), -ENOSPC (disk or database full: SQLITE_FULL), -EBUSY (another process held the
 * database locked past the 5 s busy timeout), -EROFS, -EACCES, -ENOMEM, -EIO (any other SQLite
 * error). Storage errors are logged (once while the same failure repeats) with the statement's
 * name and SQLite's message; constraint failures are logged as warnings. When a transaction fails
 * as a whole (full disk, I/O error), every job of its group gets that error: none of them is
 * stored. Query results (arrays and every string in them) are owned by the store and freed when
 * the callback returns; they are NULL and n is 0 on failure. */
typedef void (*rn_event_store_cb)(void *data, int status);
typedef void (*rn_event_store_id_cb)(void *data, int status, uint64_t id);
typedef void (*rn_event_store_alarms_cb)(void *data, int status, const rn_alarm_rec_t *alarms,
                                         size_t n);
typedef void (*rn_event_store_outages_cb)(void *data, int status, const rn_outage_rec_t *outages,
                                          size_t n);
typedef void (*rn_event_store_maint_cb)(void *data, int status, const rn_maintenance_rec_t *m,
                                        size_t n);
typedef void (*rn_event_store_asset_inv_cb)(void *data, int status, const rn_asset_inv_rec_t *v,
                                            size_t n);
typedef void (*rn_event_store_asset_repl_cb)(void *data, int status,
                                             const rn_asset_repl_rec_t *v, size_t n);

/* Opens the store at path, creating the file and applying migrations as needed, and starts its
 * worker thread. Synchronous: it waits for the worker to open the file, so call it at startup.
 * Returns 0 and *out, or a negative error: RN_EVERSION (the file's schema is newer than
 * RN_EVENT_STORE_VERSION), -EIO (not a database, a migration failed, ...), -ENOSPC, -EACCES,
 * -ENOMEM, -EINVAL. The reason, naming the file (and both versions), is logged here and, when err
 * is not NULL, written to err (errlen bytes) for a caller that shows it to a user. */
int rn_event_store_open(uv_loop_t *loop, const char *path, rn_event_store_t **out, char *err,
                        size_t errlen);

/* The highest alarm id in the file when it was opened (0 if none): the alarm engine numbers new
 * alarms from the one after it, so ids stay unique across restarts. */
uint64_t rn_event_store_max_alarm_id(const rn_event_store_t *s);

/* Calls fn(data, node, seq) for every node with a delivery state: the rows read at open, updated
 * by every rn_event_store_node_acked_seq_set() since. node is borrowed until fn returns. */
void rn_event_store_node_acked_seq_load_all(rn_event_store_t *s,
                                            void (*fn)(void *data, const char *node, uint64_t seq),
                                            void *data);

/* Records that every batch of node up to seq is stored (called after every stored batch). The
 * value is written with the next transaction or within about a second; the latest value set for
 * a node wins (a lower seq after an agent's spool was reset replaces a higher one). Returns 0,
 * -EINVAL (store closing, empty node) or -ENOMEM. No disk access. */
int rn_event_store_node_acked_seq_set(rn_event_store_t *s, const char *node, uint64_t seq);

/* Asynchronous jobs. Each copies its input before returning. If it returns 0, cb fires exactly
 * once on the loop thread, after the job's transaction committed (or failed); if it returns a
 * negative error (-EINVAL: store closing or a required field missing; -ENOMEM), cb never fires.
 * For the writes cb may be NULL (a failure is still logged). */

/* Inserts the alarm and its RAISED event (actor "engine", detail = text). */
int rn_event_store_alarm_raise(rn_event_store_t *s, const rn_alarm_rec_t *a, rn_event_store_cb cb,
                               void *data);
/* Appends a state change (not RAISED) to the alarm's history and updates the alarm row as its
 * kind says. -ENOENT in cb if the alarm (or, for SYMPTOM_OF, the root) does not exist. */
int rn_event_store_alarm_event(rn_event_store_t *s, const rn_alarm_hist_t *e,
                               rn_event_store_cb cb, void *data);
/* Opens an outage (end NULL). -EEXIST in cb if the alarm already has one for that entity. */
int rn_event_store_outage_open(rn_event_store_t *s, const rn_outage_rec_t *o, rn_event_store_cb cb,
                               void *data);
/* Ends every open outage of the alarm at end_ms (clamped to each one's start). -ENOENT in cb if
 * the alarm has no open outage. */
int rn_event_store_outage_close(rn_event_store_t *s, uint64_t alarm_id, int64_t end_ms,
                                rn_event_store_cb cb, void *data);
/* Sets the start of the alarm's outage to start_ms and, if end_ms >= 0 and the outage has ended,
 * its end to end_ms, and marks it refined (evidence from the probe files: outage_refine.h). An
 * open outage keeps running. -ENOENT in cb if the alarm has no outage; -EINVAL if the new end
 * would precede the start. */
int rn_event_store_outage_refine(rn_event_store_t *s, uint64_t alarm_id, int64_t start_ms,
                                 int64_t end_ms, rn_event_store_cb cb, void *data);
/* Hands the open outage outage_id (a row id) to alarm_id (an existing alarm): after a collector
 * restart the engine raises a new alarm for a cut that an open row already records, and the row
 * continues under it instead of a second one being opened. -ENOENT in cb if no such open outage;
 * -EEXIST if alarm_id already has an outage for that entity. */
int rn_event_store_outage_adopt(rn_event_store_t *s, uint64_t outage_id, uint64_t alarm_id,
                                rn_event_store_cb cb, void *data);
/* Adds a maintenance window; cb gets its new id. */
int rn_event_store_maintenance_add(rn_event_store_t *s, const rn_maintenance_rec_t *m,
                                   rn_event_store_id_cb cb, void *data);
/* Deletes window id. -ENOENT in cb if there is none. */
int rn_event_store_maintenance_delete(rn_event_store_t *s, uint64_t id, rn_event_store_cb cb,
                                      void *data);
/* Appends an operator write to the audit log. */
int rn_event_store_audit_add(rn_event_store_t *s, const rn_audit_rec_t *a, rn_event_store_cb cb,
                             void *data);

/* Stores a device's inventory (the row of its node and device is replaced). Every field is
 * required. */
int rn_event_store_asset_put(rn_event_store_t *s, const rn_asset_inv_rec_t *r,
                             rn_event_store_cb cb, void *data);
/* Appends a replacement. node, device, old_serial and new_serial are required; name and model
 * may be NULL (""). */
int rn_event_store_asset_replaced(rn_event_store_t *s, const rn_asset_repl_rec_t *r,
                                  rn_event_store_cb cb, void *data);

/* Queries (cb required). Ranges are [from_ms, to_ms). */
/* Every stored inventory, by node then device. */
int rn_event_store_asset_inventories(rn_event_store_t *s, rn_event_store_asset_inv_cb cb,
                                     void *data);
/* The last per_device (>= 1) replacements of each device, oldest first. */
int rn_event_store_asset_replacements(rn_event_store_t *s, size_t per_device,
                                      rn_event_store_asset_repl_cb cb, void *data);
/* Maintenance windows overlapping the range (start < to and end > from), by start. */
int rn_event_store_maintenance_list(rn_event_store_t *s, int64_t from_ms, int64_t to_ms,
                                    rn_event_store_maint_cb cb, void *data);
/* Alarms not cleared, with their events, oldest first. */
int rn_event_store_alarms_active(rn_event_store_t *s, rn_event_store_alarms_cb cb, void *data);
/* Alarms active at some time in the range (raised < to, and not cleared or cleared >= from),
 * with their events, oldest first; at most limit alarms (0: no limit). */
int rn_event_store_alarms_range(rn_event_store_t *s, int64_t from_ms, int64_t to_ms, size_t limit,
                                rn_event_store_alarms_cb cb, void *data);
/* What a listing of alarms asks (rn_event_store_alarms_list): GET /api/v1/alarms. */
typedef struct {
    bool active;                /* alarms not cleared; from_ms and to_ms are then ignored */
    int64_t from_ms, to_ms;     /* otherwise alarms active at some time in [from_ms, to_ms) */
    size_t max_roots;           /* 1 .. INT64_MAX */
    size_t max_rows;            /* >= max_roots: roots and symptoms in all */
} rn_alarm_list_t;
/* The newest q->max_roots roots among the alarms q selects (a root: an alarm without root_id, or
 * whose root q does not select), newest first (raised, then id), followed by the symptoms of
 * each root in that order (q selects them too; oldest first), until q->max_rows alarms in all.
 * Without their events (events NULL, n_events 0). Its memory and time follow max_rows, not the
 * size of the store. -EINVAL when max_roots is 0 or max_rows < max_roots. */
int rn_event_store_alarms_list(rn_event_store_t *s, const rn_alarm_list_t *q,
                               rn_event_store_alarms_cb cb, void *data);
/* The alarms of node active at some time in [from_ms, to_ms), without their events: those not
 * cleared first, then the cleared ones, last cleared first; at most limit (1 .. INT64_MAX). */
int rn_event_store_alarms_node(rn_event_store_t *s, const char *node, int64_t from_ms,
                               int64_t to_ms, size_t limit, rn_event_store_alarms_cb cb,
                               void *data);
/* Alarm id alone, without its events: one alarm in cb, or none (n 0) when there is no such. */
int rn_event_store_alarm_get(rn_event_store_t *s, uint64_t id, rn_event_store_alarms_cb cb,
                             void *data);
/* Outages overlapping the range (start < to, and open or end > from), by entity then start. Times
 * are as stored; the caller clips them to the range (an open outage counts until now). */
int rn_event_store_outages_range(rn_event_store_t *s, int64_t from_ms, int64_t to_ms,
                                 rn_event_store_outages_cb cb, void *data);

/* Outages still open (end NULL), by entity then start: at startup, to reconcile what a killed
 * collector left open (docs/outages.md). */
int rn_event_store_outages_open(rn_event_store_t *s, rn_event_store_outages_cb cb, void *data);

/* Jobs queued or running, for backpressure and metrics. */
size_t rn_event_store_pending(const rn_event_store_t *s);

/* Copies the counters. */
void rn_event_store_stats(rn_event_store_t *s, rn_event_store_stats_t *out);

/* Runs every queued job (their callbacks fire first), writes the pending delivery state, closes
 * the database and the worker, frees the store, then fires cb (may be NULL). Jobs submitted
 * after close fail with -EINVAL. */
void rn_event_store_close(rn_event_store_t *s, void (*cb)(void *data), void *data);

/* Name of an event kind ("raised", "symptom_of", ...), as stored. */
const char *rn_alarm_hist_kind_name(rn_alarm_hist_kind_t kind);

/* For tests only. The SQL of migration to version v (1..RN_EVENT_STORE_VERSION), or NULL. */
const char *rn__event_store_migration(int v);
/* For tests only: limits the database file to pages pages (PRAGMA max_page_count; 0 lifts the
 * limit as far as SQLite allows), to provoke a full database. A job like the writes above. */
int rn__event_store_limit_pages(rn_event_store_t *s, uint32_t pages, rn_event_store_cb cb,
                                void *data);
/* For tests only: the worker thread's id (the only thread that runs SQL). */
uv_thread_t rn__event_store_worker_thread(rn_event_store_t *s);

#endif
