/* Event store, loop side and the worker thread's plumbing. This file never calls SQLite; the SQL
 * is in event_sql.c (why two files: event_store_int.h; the model: event_store.h).
 *
 * How: an API call copies its input into a job (strings duplicated, owned by the job) and appends
 * it to the queue under s->mu, signalling the worker. The worker (worker_main) takes every queued
 * job (up to MAX_GROUP) and the delivery state changed since the last transaction, runs them as
 * one transaction (rn__es_run_group), appends the group to the done list and wakes the loop with
 * uv_async_send. on_async, on the loop thread, fires the callbacks in order and frees the jobs.
 * The async handle is referenced only while jobs are pending, so an idle store does not keep the
 * loop alive (like uv_queue_work). The close job is always the last: the worker runs it, closes
 * the database and ends; on_async joins the thread and closes the handles; the store is freed in
 * the last close callback.
 *
 * Delivery state: a hash map node -> entry (seq, dirty flag, dirty list), entries never freed
 * before the store. The loop thread is the only one that inserts entries or sets seq (under mu;
 * the worker reads seq and the dirty list under mu), so the loop thread may read it without the
 * lock. A set arms a one-shot 1 s timer; when it fires with dirty entries it wakes the worker,
 * which writes them in a transaction of their own, unless a group took them first.
 * Lock: s->mu guards the queue, the done list, the dirty list, seq and the counters; it is never
 * held across SQL, so the loop thread waits at most for a list splice. */
#include "events/event_store.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "events/event_store_int.h"
#include "log.h"
#include "util.h"

#define MAX_GROUP 4096          /* jobs per transaction, at most */
#define SEQ_FLUSH_MS 1000       /* delivery state reaches the disk within about this */
#define HELD_RETRY_NS 1000000000ull /* writes held for a full disk are retried this often */
#define RN_STR_(x) #x
#define RN_STR(x) RN_STR_(x)

/* ---- worker thread ---------------------------------------------------------------------------- */

/* Marks the entries of a failed delivery-state write dirty again, so the next one retries. */
static void redirty(rn_event_store_t *s, const seq_write_t *w, size_t n)
{
    uv_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        seq_entry_t *e = w[i].e;
        if (!e->dirty) {
            e->dirty = true;
            e->next_dirty = s->dirty;
            s->dirty = e;
            s->n_dirty++;
        }
    }
    uv_mutex_unlock(&s->mu);
}

static job_t *take_group(rn_event_store_t *s, job_t **last, size_t *n)
{
    job_t *first = s->q_head, *j = first;
    *n = 0;
    *last = NULL;
    if (first == NULL)
        return NULL;
    for (*n = 1; j->next && *n < MAX_GROUP; (*n)++)
        j = j->next;
    s->q_head = j->next;
    if (s->q_head == NULL)
        s->q_tail = NULL;
    j->next = NULL;
    *last = j;
    return first;
}

/* Takes the delivery state changed since the last take (under mu). On out of memory the entries
 * stay dirty for the next transaction. */
static seq_write_t *take_seqs(rn_event_store_t *s, size_t *n)
{
    seq_write_t *w = s->n_dirty ? malloc(s->n_dirty * sizeof *w) : NULL;
    *n = 0;
    if (w == NULL)
        return NULL;
    for (seq_entry_t *e = s->dirty; e; e = e->next_dirty) {
        w[(*n)++] = (seq_write_t){ e, e->seq };
        e->dirty = false;
    }
    s->dirty = NULL;
    s->n_dirty = 0;
    return w;
}

/* Hands a finished group to the loop thread and updates the counters. */
static void publish(rn_event_store_t *s, job_t *group, job_t *last, size_t n, bool committed,
                    size_t n_w)
{
    uv_mutex_lock(&s->mu);
    if (group) {
        if (s->d_tail)
            s->d_tail->next = group;
        else
            s->d_head = group;
        s->d_tail = last;
    }
    for (job_t *j = group; j; j = j->next)
        s->stats.jobs_failed += j->status < 0;
    s->stats.jobs += n;
    s->stats.transactions += committed;
    s->stats.seq_rows += committed ? n_w : 0;
    if (committed && n > s->stats.largest_group)
        s->stats.largest_group = n;
    bool signal = group && s->async_ok;
    uv_mutex_unlock(&s->mu);
    if (signal)
        uv_async_send(&s->async);
}

/* True for a write nobody waits for: the alarm log's ledger (event_store.h). */
static bool ledger_write(const job_t *j)
{
    return j->kind < J_MAINT_LIST && j->kind != J_LIMIT && j->cb.done == NULL;
}

/* Appends job j to the held list. */
static void hold(rn_event_store_t *s, job_t *j)
{
    j->next = NULL;
    if (s->n_held++ == 0 && !s->full_logged)
        s->held_since_ms = uv_hrtime() / 1000000;
    *(s->held_tail ? &s->held_tail->next : &s->held) = j;
    s->held_tail = j;
}

/* Moves the ledger writes of a finished group that failed for a full disk to the held list (or,
 * when closing, fails them as lost); gives up the oldest held past RN_EVENT_STORE_MAX_HELD.
 * Updates *group, *last and *n to what is left to report. */
static void hold_full(rn_event_store_t *s, job_t **group, job_t **last, size_t *n, bool closing)
{
    job_t *keep = NULL, **tail = &keep, *kept_last = NULL, *next;
    size_t lost = 0;
    for (job_t *j = *group; j; j = next) {
        next = j->next;
        j->next = NULL;
        if (j->status == -ENOSPC && ledger_write(j) && !closing) {
            hold(s, j);
            (*n)--;
            continue;
        }
        lost += j->status == -ENOSPC && ledger_write(j);
        *tail = kept_last = j;
        tail = &j->next;
    }
    while (s->n_held > RN_EVENT_STORE_MAX_HELD) { /* the oldest go, reported as failed */
        job_t *j = s->held;
        s->held = j->next;
        s->n_held--;
        j->next = NULL;
        j->status = -ENOSPC;
        *tail = kept_last = j;
        tail = &j->next;
        (*n)++;
        lost++;
    }
    if (!s->held)
        s->held_tail = NULL;
    *group = keep;
    *last = kept_last;
    uv_mutex_lock(&s->mu);
    s->stats.writes_held = s->n_held;
    s->stats.writes_lost += lost;
    uv_mutex_unlock(&s->mu);
    if (s->n_held && !s->full_logged)
        rn_error("event store %s: disk full: %zu ledger writes held, retried every second "
                 "until there is room (lost only if the collector stops first)", s->path,
                 s->n_held);
    s->full_logged = s->n_held > 0;
    if (lost)
        rn_error("event store %s: disk full: %zu ledger writes lost (%s)", s->path, lost,
                 closing ? "still held at close" : "more than " RN_STR(RN_EVENT_STORE_MAX_HELD)
                                                   " held");
}

/* Retries the held writes in a transaction of their own (so that a full disk fails no query or
 * operator write queued behind them); those that fail for a full disk again are held again,
 * the others are reported. Returns nothing. */
static void retry_held(rn_event_store_t *s, bool closing)
{
    job_t *group = s->held, *last = s->held_tail;
    size_t n = s->n_held;
    s->held = s->held_tail = NULL;
    s->n_held = 0;
    bool committed = rn__es_run_group(s, group, NULL, 0) == 0;
    hold_full(s, &group, &last, &n, closing);
    if (!s->held)
        rn_info("event store %s: room again: the held ledger writes are committed, %.0f s "
                "after the first was held", s->path,
                (double)(uv_hrtime() / 1000000 - s->held_since_ms) / 1e3);
    publish(s, group, last, n, committed, 0);
}

/* While writes are held, the group's ledger writes queue behind them without running (they
 * must commit in order: an event needs its alarm's row). Updates *group, *last and *n. */
static void queue_behind_held(rn_event_store_t *s, job_t **group, job_t **last, size_t *n)
{
    job_t *keep = NULL, **tail = &keep, *next;
    *last = NULL;
    for (job_t *j = *group; j; j = next) {
        next = j->next;
        j->next = NULL;
        if (ledger_write(j)) {
            hold(s, j);
            (*n)--;
        } else {
            *tail = *last = j;
            tail = &j->next;
        }
    }
    *group = keep;
    uv_mutex_lock(&s->mu);
    s->stats.writes_held = s->n_held;
    uv_mutex_unlock(&s->mu);
}

/* The worker thread: opens the database, reports to the opener, then runs groups until the
 * close job, after which it closes the database and ends. */
static void worker_main(void *arg)
{
    rn_event_store_t *s = arg;
    s->worker_self = uv_thread_self();
    int rc = rn__es_db_open(s);
    uv_mutex_lock(&s->mu);
    s->open_rc = rc;
    s->open_done = true;
    uv_cond_broadcast(&s->cond);
    uv_mutex_unlock(&s->mu);
    for (bool closing = rc < 0; !closing;) {
        job_t *group, *last;
        size_t n, n_w;
        uv_mutex_lock(&s->mu);
        while (s->q_head == NULL && !s->flush_wanted)
            if (!s->held)
                uv_cond_wait(&s->cond, &s->mu);
            else if (uv_cond_timedwait(&s->cond, &s->mu, HELD_RETRY_NS) == UV_ETIMEDOUT)
                break; /* retry the held writes */
        group = take_group(s, &last, &n);
        s->flush_wanted = false;
        seq_write_t *w = take_seqs(s, &n_w);
        uv_mutex_unlock(&s->mu);
        closing = last && last->kind == J_CLOSE;
        if (s->held)
            retry_held(s, closing);
        if (s->held)
            queue_behind_held(s, &group, &last, &n);
        bool committed = false;
        if (group || n_w) {
            committed = rn__es_run_group(s, group, w, n_w) == 0;
            if (!committed)
                redirty(s, w, n_w);
        }
        free(w);
        hold_full(s, &group, &last, &n, closing);
        if (closing)
            rn__es_db_close(s);
        publish(s, group, last, n, committed, n_w);
    }
}

/* ---- jobs and delivery state ------------------------------------------------------------------ */

/* Registers p with the job (see event_store_int.h). */
void *rn__es_own(job_t *job, void *p)
{
    if (p == NULL)
        return NULL;
    if (job->n_owned == job->cap_owned) {
        size_t cap = job->cap_owned ? job->cap_owned * 2 : 16;
        void **o = realloc(job->owned, cap * sizeof *o);
        if (o == NULL) {
            free(p);
            return NULL;
        }
        job->owned = o;
        job->cap_owned = cap;
    }
    return job->owned[job->n_owned++] = p;
}

/* Frees a job and everything it owns. */
static void job_free(job_t *job)
{
    for (size_t i = 0; i < job->n_owned; i++)
        free(job->owned[i]);
    free(job->owned);
    free(job->rows.p);
    free(job);
}

/* Returns a new job of kind for data, or NULL when out of memory. */
static job_t *job_new(job_kind_t kind, void *data)
{
    job_t *job = calloc(1, sizeof *job);
    if (job) {
        job->kind = kind;
        job->data = data;
    }
    return job;
}

/* Replaces each non-NULL string *f[i] with a copy owned by the job. Returns 0 or -ENOMEM. */
static int dup_strs(job_t *job, const char **f[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (*f[i] != NULL && (*f[i] = rn__es_own(job, strdup(*f[i]))) == NULL)
            return -ENOMEM;
    return 0;
}

/* Queues a job for the worker. The loop is kept alive while any job is pending. Returns 0. */
static int submit(rn_event_store_t *s, job_t *job)
{
    uv_mutex_lock(&s->mu);
    if (s->q_tail)
        s->q_tail->next = job;
    else
        s->q_head = job;
    s->q_tail = job;
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->mu);
    if (s->pending++ == 0 && s->async_ok)
        uv_ref((uv_handle_t *)&s->async);
    return 0;
}

/* Copies the strings of job's input, then queues it; on failure frees the job. Returns 0 or
 * -ENOMEM. */
static int submit_copy(rn_event_store_t *s, job_t *job, const char **f[], size_t n)
{
    if (dup_strs(job, f, n) < 0) {
        job_free(job);
        return -ENOMEM;
    }
    return submit(s, job);
}

/* True if the store takes jobs. */
static bool usable(const rn_event_store_t *s)
{
    return s != NULL && !s->closing;
}

/* Hashes a node id (FNV-1a) to its bucket. */
static size_t seq_bucket(const char *node)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)node; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % RN__ES_SEQ_BUCKETS);
}

seq_entry_t *rn__es_seq_entry(rn_event_store_t *s, const char *node)
{
    size_t b = seq_bucket(node), len = strlen(node);
    for (seq_entry_t *e = s->seqs[b]; e; e = e->next)
        if (strcmp(e->node, node) == 0)
            return e;
    seq_entry_t *e = calloc(1, sizeof *e + len + 1);
    if (e == NULL)
        return NULL;
    memcpy(e->node, node, len + 1);
    e->next = s->seqs[b];
    s->seqs[b] = e;
    return e;
}

/* ---- completion and lifetime (loop thread) ---------------------------------------------------- */

/* Fires a finished job's callback with its outcome; query results only on success. */
static void report(job_t *job)
{
    int st = job->status;
    void *rows = st == 0 ? job->rows.p : NULL;
    size_t n = st == 0 ? job->rows.n : 0;
    switch (job->kind) {
    case J_MAINT_ADD:
        if (job->cb.id)
            job->cb.id(job->data, st, st == 0 ? job->out_id : 0);
        break;
    case J_MAINT_LIST: job->cb.maint(job->data, st, rows, n); break;
    case J_ALARMS_ACTIVE:
    case J_ALARMS_RANGE:
    case J_ALARMS_LIST:
    case J_ALARMS_NODE:
    case J_ALARM_GET: job->cb.alarms(job->data, st, rows, n); break;
    case J_OUTAGES:
    case J_OUTAGES_OPEN: job->cb.outages(job->data, st, rows, n); break;
    case J_ASSET_INVS: job->cb.asset_inv(job->data, st, rows, n); break;
    case J_ASSET_REPLS: job->cb.asset_repl(job->data, st, rows, n); break;
    default:
        if (job->cb.done)
            job->cb.done(job->data, st);
        break;
    }
}

/* Frees the store and everything it still owns. The worker has ended. */
static void store_free(rn_event_store_t *s)
{
    for (size_t b = 0; b < RN__ES_SEQ_BUCKETS; b++)
        for (seq_entry_t *e = s->seqs[b], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    if (s->close_job)
        job_free(s->close_job);
    uv_cond_destroy(&s->cond);
    uv_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

/* Close callback of the async and timer handles: the last one frees the store, then fires the
 * close callback. */
static void on_handle_closed(uv_handle_t *h)
{
    rn_event_store_t *s = h->data;
    if (--s->handles_open > 0)
        return;
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    store_free(s);
    if (cb)
        cb(data);
}

/* Loop thread, woken by the worker: reports every finished job in order. After the close job
 * (always the last) it joins the worker and closes the handles. */
static void on_async(uv_async_t *h)
{
    rn_event_store_t *s = container_of(h, rn_event_store_t, async);
    uv_mutex_lock(&s->mu);
    job_t *job = s->d_head;
    s->d_head = s->d_tail = NULL;
    uv_mutex_unlock(&s->mu);
    while (job) {
        job_t *next = job->next;
        if (--s->pending == 0)
            uv_unref((uv_handle_t *)&s->async);
        if (job->kind == J_CLOSE) {
            s->close_job = job; /* freed with the store */
            uv_thread_join(&s->thread);
            uv_close((uv_handle_t *)&s->async, on_handle_closed);
            uv_close((uv_handle_t *)&s->flush_timer, on_handle_closed);
            return;
        }
        report(job);
        job_free(job);
        job = next;
    }
}

/* The flush timer: asks the worker for a delivery-state transaction if anything changed. */
static void on_flush_timer(uv_timer_t *t)
{
    rn_event_store_t *s = container_of(t, rn_event_store_t, flush_timer);
    uv_mutex_lock(&s->mu);
    if (s->n_dirty > 0) {
        s->flush_wanted = true;
        uv_cond_signal(&s->cond);
    }
    uv_mutex_unlock(&s->mu);
}

/* Stops a worker whose store never got its handles (open failed after the thread started). */
static void stop_worker_sync(rn_event_store_t *s)
{
    job_t *job = s->close_job;
    s->close_job = NULL;
    uv_mutex_lock(&s->mu);
    s->q_head = s->q_tail = job;
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->mu);
    uv_thread_join(&s->thread);
    job_free(job);
}

/* ---- public API ------------------------------------------------------------------------------- */

/* Starts the worker and waits for it to open the file. Returns 0 or its error (s->open_err). */
static int start_worker(rn_event_store_t *s)
{
    int rc = uv_thread_create(&s->thread, worker_main, s);
    if (rc < 0) {
        snprintf(s->open_err, sizeof s->open_err, "event store %s: cannot start a thread: %s",
                 s->path, rn_strerror(rc));
        return rc;
    }
    uv_mutex_lock(&s->mu);
    while (!s->open_done)
        uv_cond_wait(&s->cond, &s->mu);
    rc = s->open_rc;
    uv_mutex_unlock(&s->mu);
    if (rc < 0) {
        uv_thread_join(&s->thread);
        return rc;
    }
    if ((rc = uv_async_init(s->loop, &s->async, on_async)) < 0) {
        snprintf(s->open_err, sizeof s->open_err, "event store %s: uv_async_init: %s", s->path,
                 rn_strerror(rc));
        stop_worker_sync(s);
        return rc;
    }
    uv_timer_init(s->loop, &s->flush_timer);
    s->async.data = s->flush_timer.data = s;
    uv_unref((uv_handle_t *)&s->async);
    uv_unref((uv_handle_t *)&s->flush_timer);
    s->handles_open = 2;
    s->async_ok = true; /* published to the worker with the first job, under mu */
    return 0;
}

int rn_event_store_open(uv_loop_t *loop, const char *path, rn_event_store_t **out, char *err,
                        size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (loop == NULL || path == NULL || *path == '\0' || out == NULL)
        return -EINVAL;
    rn_event_store_t *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL ||
        (s->close_job = job_new(J_CLOSE, NULL)) == NULL) {
        if (s)
            free(s->path);
        free(s);
        if (err && errlen)
            snprintf(err, errlen, "event store %s: out of memory", path);
        return -ENOMEM;
    }
    s->loop = loop;
    s->last_err_stmt = -1;
    uv_mutex_init(&s->mu);
    uv_cond_init(&s->cond);
    int rc = start_worker(s);
    if (rc < 0) {
        rn_error("%s", s->open_err);
        if (err && errlen)
            snprintf(err, errlen, "%s", s->open_err);
        store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

uint64_t rn_event_store_max_alarm_id(const rn_event_store_t *s)
{
    return s->max_alarm_id;
}

void rn_event_store_node_acked_seq_load_all(rn_event_store_t *s,
                                            void (*fn)(void *data, const char *node, uint64_t seq),
                                            void *data)
{
    /* The loop thread is the only writer of entries and seq: no lock needed to read them. */
    for (size_t b = 0; b < RN__ES_SEQ_BUCKETS; b++)
        for (seq_entry_t *e = s->seqs[b]; e; e = e->next)
            fn(data, e->node, e->seq);
}

int rn_event_store_node_acked_seq_set(rn_event_store_t *s, const char *node, uint64_t seq)
{
    if (!usable(s) || node == NULL || *node == '\0')
        return -EINVAL;
    uv_mutex_lock(&s->mu);
    seq_entry_t *e = rn__es_seq_entry(s, node);
    if (e) {
        e->seq = seq;
        if (!e->dirty) {
            e->dirty = true;
            e->next_dirty = s->dirty;
            s->dirty = e;
            s->n_dirty++;
        }
    }
    uv_mutex_unlock(&s->mu);
    if (e == NULL)
        return -ENOMEM;
    if (!uv_is_active((uv_handle_t *)&s->flush_timer))
        uv_timer_start(&s->flush_timer, on_flush_timer, SEQ_FLUSH_MS, 0);
    return 0;
}

int rn_event_store_alarm_raise(rn_event_store_t *s, const rn_alarm_rec_t *a, rn_event_store_cb cb,
                               void *data)
{
    if (!usable(s) || a == NULL || a->id == 0 || a->id > INT64_MAX || a->type == NULL ||
        a->severity == NULL || a->entity == NULL || a->root_id == a->id)
        return -EINVAL;
    job_t *job = job_new(J_RAISE, data);
    if (job == NULL)
        return -ENOMEM;
    rn_alarm_rec_t *c = &job->in.alarm;
    *c = *a;
    c->acked_by = c->ack_comment = NULL;
    c->events = NULL;
    c->text = c->text ? c->text : "";
    c->impact_nodes = c->impact_nodes ? c->impact_nodes : "[]";
    c->impact_services = c->impact_services ? c->impact_services : "[]";
    job->cb.done = cb;
    const char **f[] = { &c->type, &c->severity, &c->entity, &c->node, &c->vendor, &c->circuit,
                         &c->text, &c->impact_nodes, &c->impact_services };
    return submit_copy(s, job, f, sizeof f / sizeof f[0]);
}

int rn_event_store_alarm_event(rn_event_store_t *s, const rn_alarm_hist_t *e,
                               rn_event_store_cb cb, void *data)
{
    if (!usable(s) || e == NULL || e->alarm_id == 0 || e->alarm_id > INT64_MAX ||
        e->kind <= RN_HIST_RAISED || e->kind > RN_HIST_COMMENT ||
        (e->kind == RN_HIST_ESCALATED && e->severity == NULL) ||
        (e->kind == RN_HIST_SYMPTOM_OF && (e->root_id == 0 || e->root_id == e->alarm_id)))
        return -EINVAL;
    job_t *job = job_new(J_EVENT, data);
    if (job == NULL)
        return -ENOMEM;
    rn_alarm_hist_t *c = &job->in.ev;
    *c = *e;
    c->actor = c->actor ? c->actor : "engine";
    c->detail = c->detail ? c->detail : "";
    if (c->kind != RN_HIST_ESCALATED)
        c->severity = NULL;
    if (c->kind != RN_HIST_SYMPTOM_OF)
        c->root_id = 0;
    job->cb.done = cb;
    const char **f[] = { &c->actor, &c->detail, &c->severity };
    return submit_copy(s, job, f, 3);
}

int rn_event_store_outage_open(rn_event_store_t *s, const rn_outage_rec_t *o, rn_event_store_cb cb,
                               void *data)
{
    if (!usable(s) || o == NULL || o->alarm_id == 0 || o->alarm_id > INT64_MAX ||
        o->entity == NULL || (o->kind != RN_OUTAGE_LINK && o->kind != RN_OUTAGE_NODE))
        return -EINVAL;
    job_t *job = job_new(J_OUTAGE_OPEN, data);
    if (job == NULL)
        return -ENOMEM;
    rn_outage_rec_t *c = &job->in.outage;
    *c = *o;
    c->root_cause = c->root_cause ? c->root_cause : "";
    job->cb.done = cb;
    const char **f[] = { &c->entity, &c->vendor, &c->circuit, &c->root_cause };
    return submit_copy(s, job, f, 4);
}

/* Returns a job whose input is an id and times (outage close, maintenance delete, queries, the
 * page limit), or NULL when out of memory. */
static job_t *arg_job(job_kind_t kind, uint64_t id, int64_t from_ms, int64_t to_ms, size_t limit,
                      void *data)
{
    job_t *job = job_new(kind, data);
    if (job) {
        job->in.arg.id = id;
        job->in.arg.from_ms = from_ms;
        job->in.arg.to_ms = to_ms;
        job->in.arg.limit = limit;
    }
    return job;
}

int rn_event_store_outage_close(rn_event_store_t *s, uint64_t alarm_id, int64_t end_ms,
                                rn_event_store_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || alarm_id == 0 || alarm_id > INT64_MAX)
        return -EINVAL;
    if ((job = arg_job(J_OUTAGE_CLOSE, alarm_id, 0, end_ms, 0, data)) == NULL)
        return -ENOMEM;
    job->cb.done = cb;
    return submit(s, job);
}

int rn_event_store_outage_refine(rn_event_store_t *s, uint64_t alarm_id, int64_t start_ms,
                                 int64_t end_ms, rn_event_store_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || alarm_id == 0 || alarm_id > INT64_MAX || start_ms < 0 ||
        (end_ms >= 0 && end_ms < start_ms))
        return -EINVAL;
    if ((job = arg_job(J_OUTAGE_REFINE, alarm_id, start_ms, end_ms < 0 ? -1 : end_ms, 0,
                       data)) == NULL)
        return -ENOMEM;
    job->cb.done = cb;
    return submit(s, job);
}

int rn_event_store_outage_adopt(rn_event_store_t *s, uint64_t outage_id, uint64_t alarm_id,
                                rn_event_store_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || outage_id == 0 || outage_id > INT64_MAX || alarm_id == 0 ||
        alarm_id > INT64_MAX)
        return -EINVAL;
    if ((job = arg_job(J_OUTAGE_ADOPT, outage_id, 0, (int64_t)alarm_id, 0, data)) == NULL)
        return -ENOMEM;
    job->cb.done = cb;
    return submit(s, job);
}

int rn_event_store_maintenance_add(rn_event_store_t *s, const rn_maintenance_rec_t *m,
                                   rn_event_store_id_cb cb, void *data)
{
    if (!usable(s) || m == NULL || m->entity == NULL || m->created_by == NULL ||
        m->end_ms <= m->start_ms)
        return -EINVAL;
    job_t *job = job_new(J_MAINT_ADD, data);
    if (job == NULL)
        return -ENOMEM;
    rn_maintenance_rec_t *c = &job->in.maint;
    *c = *m;
    c->reason = c->reason ? c->reason : "";
    job->cb.id = cb;
    const char **f[] = { &c->entity, &c->reason, &c->created_by };
    return submit_copy(s, job, f, 3);
}

int rn_event_store_maintenance_delete(rn_event_store_t *s, uint64_t id, rn_event_store_cb cb,
                                      void *data)
{
    job_t *job;
    if (!usable(s) || id == 0 || id > INT64_MAX)
        return -EINVAL;
    if ((job = arg_job(J_MAINT_DEL, id, 0, 0, 0, data)) == NULL)
        return -ENOMEM;
    job->cb.done = cb;
    return submit(s, job);
}

int rn_event_store_audit_add(rn_event_store_t *s, const rn_audit_rec_t *a, rn_event_store_cb cb,
                             void *data)
{
    if (!usable(s) || a == NULL || a->actor == NULL || a->action == NULL)
        return -EINVAL;
    job_t *job = job_new(J_AUDIT, data);
    if (job == NULL)
        return -ENOMEM;
    rn_audit_rec_t *c = &job->in.audit;
    *c = *a;
    c->role = c->role ? c->role : "";
    c->detail = c->detail ? c->detail : "";
    job->cb.done = cb;
    const char **f[] = { &c->actor, &c->role, &c->action, &c->detail };
    return submit_copy(s, job, f, 4);
}

/* Queues a query job made by arg_job (NULL: it was out of memory). Returns 0 or -ENOMEM. */
static int submit_query(rn_event_store_t *s, job_t *job)
{
    if (job == NULL)
        return -ENOMEM;
    return submit(s, job);
}

int rn_event_store_maintenance_list(rn_event_store_t *s, int64_t from_ms, int64_t to_ms,
                                    rn_event_store_maint_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL)
        return -EINVAL;
    if ((job = arg_job(J_MAINT_LIST, 0, from_ms, to_ms, 0, data)) != NULL)
        job->cb.maint = cb;
    return submit_query(s, job);
}

int rn_event_store_alarms_active(rn_event_store_t *s, rn_event_store_alarms_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL)
        return -EINVAL;
    if ((job = arg_job(J_ALARMS_ACTIVE, 0, 0, 0, 0, data)) != NULL)
        job->cb.alarms = cb;
    return submit_query(s, job);
}

int rn_event_store_alarms_range(rn_event_store_t *s, int64_t from_ms, int64_t to_ms, size_t limit,
                                rn_event_store_alarms_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL || limit > INT64_MAX)
        return -EINVAL;
    if ((job = arg_job(J_ALARMS_RANGE, 0, from_ms, to_ms, limit, data)) != NULL)
        job->cb.alarms = cb;
    return submit_query(s, job);
}

int rn_event_store_alarms_list(rn_event_store_t *s, const rn_alarm_list_t *q,
                               rn_event_store_alarms_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL || q == NULL || q->max_roots == 0 ||
        q->max_roots > INT64_MAX || q->max_rows < q->max_roots || q->max_rows > INT64_MAX)
        return -EINVAL;
    if ((job = job_new(J_ALARMS_LIST, data)) != NULL) {
        job->in.list = *q;
        job->cb.alarms = cb;
    }
    return submit_query(s, job);
}

int rn_event_store_alarms_node(rn_event_store_t *s, const char *node, int64_t from_ms,
                               int64_t to_ms, size_t limit, rn_event_store_alarms_cb cb,
                               void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL || node == NULL || limit == 0 || limit > INT64_MAX)
        return -EINVAL;
    if ((job = arg_job(J_ALARMS_NODE, 0, from_ms, to_ms, limit, data)) == NULL)
        return -ENOMEM;
    job->cb.alarms = cb;
    job->in.arg.node = node;
    const char **f[] = { &job->in.arg.node };
    return submit_copy(s, job, f, 1);
}

int rn_event_store_alarm_get(rn_event_store_t *s, uint64_t id, rn_event_store_alarms_cb cb,
                             void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL || id == 0 || id > INT64_MAX)
        return -EINVAL;
    if ((job = arg_job(J_ALARM_GET, id, 0, 0, 0, data)) != NULL)
        job->cb.alarms = cb;
    return submit_query(s, job);
}

int rn_event_store_outages_range(rn_event_store_t *s, int64_t from_ms, int64_t to_ms,
                                 rn_event_store_outages_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL)
        return -EINVAL;
    if ((job = arg_job(J_OUTAGES, 0, from_ms, to_ms, 0, data)) != NULL)
        job->cb.outages = cb;
    return submit_query(s, job);
}

int rn_event_store_outages_open(rn_event_store_t *s, rn_event_store_outages_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL)
        return -EINVAL;
    if ((job = arg_job(J_OUTAGES_OPEN, 0, 0, 0, 0, data)) != NULL)
        job->cb.outages = cb;
    return submit_query(s, job);
}

/* ---- the asset register's rows (event_store.h) ---- */

int rn_event_store_asset_put(rn_event_store_t *s, const rn_asset_inv_rec_t *r,
                             rn_event_store_cb cb, void *data)
{
    if (!usable(s) || !r || !r->node || !r->device || !r->inventory || r->len == 0 ||
        r->len > RN_EVENT_STORE_MAX_INVENTORY)
        return -EINVAL;
    job_t *job = job_new(J_ASSET_PUT, data);
    void *copy = job ? rn__es_own(job, malloc(r->len)) : NULL;
    if (!copy) {
        if (job)
            job_free(job);
        return -ENOMEM;
    }
    memcpy(copy, r->inventory, r->len);
    job->in.inv = *r;
    job->in.inv.inventory = copy;
    job->cb.done = cb;
    const char **f[] = { &job->in.inv.node, &job->in.inv.device };
    return submit_copy(s, job, f, 2);
}

int rn_event_store_asset_replaced(rn_event_store_t *s, const rn_asset_repl_rec_t *r,
                                  rn_event_store_cb cb, void *data)
{
    if (!usable(s) || !r || !r->node || !r->device || !r->old_serial || !r->new_serial)
        return -EINVAL;
    job_t *job = job_new(J_ASSET_REPLACED, data);
    if (job == NULL)
        return -ENOMEM;
    rn_asset_repl_rec_t *c = &job->in.repl;
    *c = *r;
    c->name = c->name ? c->name : "";
    c->model = c->model ? c->model : "";
    job->cb.done = cb;
    const char **f[] = { &c->node, &c->device, &c->name, &c->model, &c->old_serial,
                         &c->new_serial };
    return submit_copy(s, job, f, 6);
}

int rn_event_store_asset_inventories(rn_event_store_t *s, rn_event_store_asset_inv_cb cb,
                                     void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL)
        return -EINVAL;
    if ((job = arg_job(J_ASSET_INVS, 0, 0, 0, 0, data)) != NULL)
        job->cb.asset_inv = cb;
    return submit_query(s, job);
}

int rn_event_store_asset_replacements(rn_event_store_t *s, size_t per_device,
                                      rn_event_store_asset_repl_cb cb, void *data)
{
    job_t *job;
    if (!usable(s) || cb == NULL || per_device == 0 || per_device > INT64_MAX)
        return -EINVAL;
    if ((job = arg_job(J_ASSET_REPLS, 0, 0, 0, per_device, data)) != NULL)
        job->cb.asset_repl = cb;
    return submit_query(s, job);
}

int rn__event_store_limit_pages(rn_event_store_t *s, uint32_t pages, rn_event_store_cb cb,
                                void *data)
{
    job_t *job;
    if (!usable(s))
        return -EINVAL;
    if ((job = arg_job(J_LIMIT, pages ? pages : 4294967294u, 0, 0, 0, data)) == NULL)
        return -ENOMEM;
    job->cb.done = cb;
    return submit(s, job);
}

uv_thread_t rn__event_store_worker_thread(rn_event_store_t *s)
{
    return s->worker_self;
}

size_t rn_event_store_pending(const rn_event_store_t *s)
{
    return s->pending;
}

void rn_event_store_stats(rn_event_store_t *s, rn_event_store_stats_t *out)
{
    uv_mutex_lock(&s->mu);
    *out = s->stats;
    uv_mutex_unlock(&s->mu);
}

void rn_event_store_close(rn_event_store_t *s, void (*cb)(void *data), void *data)
{
    if (!usable(s))
        return;
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    uv_timer_stop(&s->flush_timer);
    job_t *job = s->close_job;
    s->close_job = NULL; /* comes back through on_async */
    submit(s, job);
}
