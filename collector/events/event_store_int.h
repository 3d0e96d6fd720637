/* Event store internals shared by its two files (not for other modules).
 *
 * The event store is one module split in two files because it is too long for one: event_store.c
 * is the loop side and the worker thread's plumbing (queue, group hand-over, delivery-state map,
 * public API) and never calls SQLite; event_sql.c is everything that speaks SQLite (schema and
 * migrations, statements, the job runners, the group transaction), and runs only on the worker
 * thread. Cross-file names are rn__es_*. */
#ifndef RN_EVENT_STORE_INT_H
#define RN_EVENT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "events/event_store.h"

#define RN__ES_N_STMTS 39      /* statements in event_sql.c's table */
#define RN__ES_SEQ_BUCKETS 4096

struct sqlite3;
struct sqlite3_stmt;

/* What a job does; the order of the queries matters to event_sql.c's query table. */
typedef enum {
    J_RAISE, J_EVENT, J_OUTAGE_OPEN, J_OUTAGE_CLOSE, J_OUTAGE_REFINE, J_OUTAGE_ADOPT, J_MAINT_ADD,
    J_MAINT_DEL, J_AUDIT, J_LIMIT,
    J_ASSET_PUT, J_ASSET_REPLACED, /* the asset register's (event_store.h) */
    J_MAINT_LIST, J_ALARMS_ACTIVE, J_ALARMS_RANGE, J_OUTAGES, J_OUTAGES_OPEN,
    J_ALARMS_LIST, J_ALARM_GET, J_ALARMS_NODE, /* run by w_alarm_*, not the query table */
    J_ASSET_INVS, J_ASSET_REPLS, /* run by w_asset_*, not the query table */
    J_CLOSE
} job_kind_t;

/* A growable array of fixed-size elements. */
typedef struct {
    void *p;
    size_t n, cap;
} vec_t;

/* One queued operation: its input (strings copied, owned through `owned`), its callback, and
 * after the worker ran it, its status and result rows. */
typedef struct job {
    struct job *next;
    job_kind_t kind;
    int status;
    bool oom;                   /* a result string could not be copied */
    union {
        rn_event_store_cb done;
        rn_event_store_id_cb id;
        rn_event_store_alarms_cb alarms;
        rn_event_store_outages_cb outages;
        rn_event_store_maint_cb maint;
        rn_event_store_asset_inv_cb asset_inv;
        rn_event_store_asset_repl_cb asset_repl;
    } cb;
    void *data;
    union {
        rn_alarm_rec_t alarm;
        rn_alarm_hist_t ev;
        rn_outage_rec_t outage;
        rn_maintenance_rec_t maint;
        rn_audit_rec_t audit;
        rn_alarm_list_t list;   /* J_ALARMS_LIST */
        rn_asset_inv_rec_t inv; /* J_ASSET_PUT */
        rn_asset_repl_rec_t repl; /* J_ASSET_REPLACED */
        struct {
            uint64_t id;
            int64_t from_ms, to_ms;
            size_t limit;
            const char *node;   /* J_ALARMS_NODE */
        } arg;
    } in;
    uint64_t out_id;
    vec_t rows;
    void **owned;               /* every string and array of the job, freed with it */
    size_t n_owned, cap_owned;
} job_t;

/* Delivery state of one node; entries live until the store is freed. */
typedef struct seq_entry {
    struct seq_entry *next, *next_dirty;
    uint64_t seq;
    bool dirty;                 /* changed since it was last taken for writing */
    char node[];
} seq_entry_t;

typedef struct {
    seq_entry_t *e;
    uint64_t seq;
} seq_write_t;

struct rn_event_store {
    uv_loop_t *loop;
    char *path;
    uv_thread_t thread;
    uv_async_t async;
    uv_timer_t flush_timer;
    uv_mutex_t mu;
    uv_cond_t cond;
    /* under mu */
    job_t *q_head, *q_tail;     /* queued for the worker */
    job_t *d_head, *d_tail;     /* done, to report on the loop thread */
    seq_entry_t *seqs[RN__ES_SEQ_BUCKETS];
    seq_entry_t *dirty;
    size_t n_dirty;
    bool flush_wanted;
    bool open_done;
    int open_rc;
    rn_event_store_stats_t stats;
    bool async_ok;              /* set before any job is queued: the worker may signal async */
    /* loop thread */
    job_t *close_job;           /* preallocated, so close cannot fail */
    size_t pending;
    bool closing;
    int handles_open;
    void (*close_cb)(void *data);
    void *close_data;
    /* worker thread (and, before the worker starts, nobody) */
    uv_thread_t worker_self;
    struct sqlite3 *db;
    struct sqlite3_stmt *st[RN__ES_N_STMTS];
    int last_err_stmt, last_err_rc; /* the last failure logged, to log repeats once */
    job_t *held, *held_tail;    /* ledger writes held for a full disk (event_store.h) */
    size_t n_held;
    uint64_t held_since_ms;     /* when the first of them was held (monotonic) */
    bool full_logged;           /* the full disk is logged: not again until writes commit */
    uint64_t max_alarm_id;
    char open_err[512];
};

/* event_store.c */

/* Registers p (may be NULL) as owned by the job, freed with it. Returns p, or NULL (p freed) when
 * it cannot be registered. */
void *rn__es_own(job_t *job, void *p);

/* Returns the delivery-state entry of node, creating it (not dirty, seq 0); NULL when out of
 * memory. Call with s->mu held. */
seq_entry_t *rn__es_seq_entry(rn_event_store_t *s, const char *node);

/* event_sql.c, worker thread only */

/* Opens s->path: connection, pragmas, migrations, then s->max_alarm_id and the delivery state.
 * Returns 0, or a negative error with the reason in s->open_err and no connection left open. */
int rn__es_db_open(rn_event_store_t *s);

/* Finalizes the statements and closes the connection. */
void rn__es_db_close(rn_event_store_t *s);

/* Runs a group of jobs (may be NULL) and the delivery-state writes as one transaction, each job in
 * a savepoint. Sets every job's status. Returns 0 if it committed, else the transaction's error
 * (also given to every job that had not failed on its own). */
int rn__es_run_group(rn_event_store_t *s, job_t *group, const seq_write_t *w, size_t n_w);

#endif
