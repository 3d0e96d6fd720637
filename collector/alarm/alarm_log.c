#include "alarm/alarm_log.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "series/outage_refine.h"

/* A JSON array of strings as new text (free()), or NULL on allocation failure ("[]" then). */
static char *json_list(const char *const *items, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_string(items[i]));
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

/* Root alarms of these types take something off the network: they open an outage. */
static bool makes_outage(const rn_alarm_t *a)
{
    return a->type == RN_ALARM_LINK_DOWN || a->type == RN_ALARM_NODE_ISOLATED ||
           a->type == RN_ALARM_PATH_LOST;
}

static void raise_alarm(rn_event_store_t *store, const rn_alarm_t *a)
{
    char *nodes = json_list(a->impact_nodes, a->n_impact_nodes);
    char *services = json_list(a->impact_services, a->n_impact_services);
    rn_alarm_rec_t r = { 0 };
    r.id = a->id;
    r.type = rn_alarm_type_name(a->type);
    r.severity = rn_alarm_severity_name(a->severity);
    r.entity = a->entity;
    r.node = a->node;
    r.vendor = a->vendor;
    r.circuit = a->circuit;
    r.root_id = a->root_id;
    r.text = a->text;
    r.impact_nodes = nodes;
    r.impact_services = services;
    r.raised_at_ms = a->raised_ms ? a->raised_ms : a->since_ms;
    r.planned = a->planned;
    rn_event_store_alarm_raise(store, &r, NULL, NULL);
    free(nodes);
    free(services);
}

static void add_history(rn_event_store_t *store, rn_alarm_hist_kind_t kind, const rn_alarm_t *a,
                        int64_t at_ms)
{
    rn_alarm_hist_t h = { 0 };
    h.alarm_id = a->id;
    h.kind = kind;
    h.at_ms = at_ms;
    h.root_id = a->root_id;
    rn_event_store_alarm_event(store, &h, NULL, NULL);
}

/* Marks alarm id as written; returns whether it already was. */
static bool mark_written(rn_alarm_log_t *log, uint64_t id)
{
    if (!log->base)
        log->base = id;
    if (id < log->base)
        return true; /* older than this process: written by an earlier run */
    size_t bit = (size_t)(id - log->base), byte = bit / 8;
    if (byte >= log->bytes) {
        size_t n = byte * 2 + 64;
        uint8_t *grown = realloc(log->written, n);
        if (!grown)
            return false;
        memset(grown + log->bytes, 0, n - log->bytes);
        log->written = grown;
        log->bytes = n;
    }
    bool was = log->written[byte] & (1u << (bit % 8));
    log->written[byte] |= (uint8_t)(1u << (bit % 8));
    return was;
}

/* ---- the outage ledger (docs/outages.md) ------------------------------------------------------
 * Entries, loop thread only: an ORPHAN is an open row the last run left (outage_id known); it is
 * ADOPTED by the engine's new alarm for its entity, or closed from the evidence. A DEFERRED entry
 * is an outage raised while the orphans were loading (opened, or adopting one, once they are
 * known). CLOSED entries wait for their refinements (stage 0..2 at REFINE_AT[stage] after the
 * close). An entry on the pool (busy) is never freed under it. */
typedef enum { L_DEFERRED, L_ORPHAN, L_ADOPTED, L_CLOSED } lstate_t;

typedef struct rn__ledger_entry {
    struct rn__ledger_entry *next;
    lstate_t state;
    uint64_t alarm_id;          /* the row's owner now */
    uint64_t stale_id;          /* the last run's alarm, still active in the store (0: none) */
    uint64_t outage_id;         /* ORPHAN: the row */
    rn_outage_rec_t o;          /* entity, circuit, vendor, root_cause owned; start/end as known */
    int stage;                  /* CLOSED: refinements done */
    int64_t due_ms;             /* the next refinement or reconciliation attempt */
    bool busy, dead, free_end;  /* dead: free it when its work returns; free_end: see refine */
    bool deferred_closed;       /* DEFERRED: it ended before the orphans were known */
    bool no_refine;             /* DEFERRED: it ended as a symptom, not at a heal */
    int64_t closed_ms;          /* CLOSED: when it closed (the refinements count from here) */
} entry_t;

static const int64_t REFINE_AT[] = { 5000, 30000, 120000 };
#define N_REFINES (sizeof REFINE_AT / sizeof REFINE_AT[0])
#define ORPHAN_RETRY_MS 2000

/* Frees an entry and its strings. */
static void entry_free(entry_t *e)
{
    free((char *)e->o.entity);
    free((char *)e->o.circuit);
    free((char *)e->o.vendor);
    free((char *)e->o.root_cause);
    free(e);
}

/* Returns a new entry for outage o (strings copied), linked into the ledger, or NULL (logged). */
static entry_t *entry_new(rn_alarm_log_t *log, lstate_t state, const rn_outage_rec_t *o)
{
    entry_t *e = calloc(1, sizeof *e);
    if (e) {
        e->o = *o;
        e->o.entity = o->entity ? strdup(o->entity) : NULL;
        e->o.circuit = o->circuit ? strdup(o->circuit) : NULL;
        e->o.vendor = o->vendor ? strdup(o->vendor) : NULL;
        e->o.root_cause = o->root_cause ? strdup(o->root_cause) : NULL;
        e->alarm_id = o->alarm_id;
        e->state = state;
    }
    if (!e || !e->o.entity || (o->circuit && !e->o.circuit) || (o->vendor && !e->o.vendor) ||
        (o->root_cause && !e->o.root_cause)) {
        rn_error("outage ledger: out of memory (alarm %" PRIu64 ")", o->alarm_id);
        if (e)
            entry_free(e);
        return NULL;
    }
    e->next = log->entries;
    log->entries = e;
    return e;
}

/* Unlinks e and frees it, or leaves that to its work's completion if it is on the pool. */
static void entry_drop(rn_alarm_log_t *log, entry_t *e)
{
    for (entry_t **p = &log->entries; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            break;
        }
    e->next = NULL;
    if (e->busy)
        e->dead = true;
    else
        entry_free(e);
}

/* Returns the entry in state with alarm_id (0: any) and entity (NULL: any), or NULL. */
static entry_t *entry_find(rn_alarm_log_t *log, lstate_t state, uint64_t alarm_id,
                           const char *entity)
{
    for (entry_t *e = log->entries; e; e = e->next)
        if (e->state == state && (!alarm_id || e->alarm_id == alarm_id) &&
            (!entity || (e->o.entity && !strcmp(e->o.entity, entity))))
            return e;
    return NULL;
}

/* Clears the last run's alarm id (it is no longer the engine's) at at_ms, saying why. */
static void clear_stale(rn_alarm_log_t *log, uint64_t id, int64_t at_ms, const char *why)
{
    rn_alarm_hist_t h = { .alarm_id = id, .kind = RN_HIST_CLEARED, .at_ms = at_ms,
                          .detail = why };
    rn_event_store_alarm_event(log->store, &h, NULL, NULL);
}

/* Schedules the refinements of a link outage that has just closed (others have no probe files). */
static void schedule_refines(rn_alarm_log_t *log, entry_t *e, int64_t end_ms, int64_t now_ms)
{
    e->o.ended = true;
    e->o.end_ms = end_ms < e->o.start_ms ? e->o.start_ms : end_ms;
    if (e->o.kind != RN_OUTAGE_LINK || !e->o.circuit || e->o.planned || log->phase == 0) {
        entry_drop(log, e);
        return;
    }
    e->state = L_CLOSED;
    e->stage = 0;
    e->closed_ms = now_ms;
    e->due_ms = now_ms + REFINE_AT[0];
}

/* The engine raised (or promoted) a root that owns an outage: the row of the same entity that
 * the last run left open continues under it (one row per cut); otherwise a new row. */
static void outage_begin(rn_alarm_log_t *log, const rn_outage_rec_t *o, int64_t at_ms)
{
    entry_t *orphan = NULL;
    for (entry_t *e = log->entries; e; e = e->next) /* the oldest open row of the entity */
        if (e->state == L_ORPHAN && e->o.kind == o->kind &&
            !strcmp(e->o.entity, o->entity) && (!orphan || e->o.start_ms < orphan->o.start_ms))
            orphan = e;
    if (!orphan) {
        rn_event_store_outage_open(log->store, o, NULL, NULL);
        return;
    }
    rn_event_store_outage_adopt(log->store, orphan->outage_id, o->alarm_id, NULL, NULL);
    rn_info("outage ledger: %s: the row opened at %" PRId64 " ms before the restart continues "
            "under alarm %" PRIu64, o->entity, orphan->o.start_ms, o->alarm_id);
    if (orphan->stale_id) {
        char why[96];
        snprintf(why, sizeof why, "superseded by alarm %" PRIu64 " after a collector restart",
                 o->alarm_id);
        clear_stale(log, orphan->stale_id, at_ms, why);
    }
    orphan->state = L_ADOPTED;
    orphan->alarm_id = o->alarm_id;
    orphan->stale_id = 0;
}

/* A root that owns an outage was raised or promoted: its row (deferred while loading). */
static void open_outage(rn_alarm_log_t *log, const rn_alarm_t *a, int64_t at_ms)
{
    rn_outage_rec_t o = { 0 };
    o.alarm_id = a->id;
    o.entity = a->entity;
    o.kind = a->type == RN_ALARM_LINK_DOWN ? RN_OUTAGE_LINK : RN_OUTAGE_NODE;
    o.vendor = a->vendor;
    o.circuit = a->circuit;
    o.root_cause = a->text;
    o.start_ms = a->since_ms; /* when the evidence began (agents' clocks), not when it was paged */
    o.planned = a->planned;
    if (log->phase == 1) /* the last run's open rows are not known yet */
        entry_new(log, L_DEFERRED, &o);
    else
        outage_begin(log, &o, at_ms);
}

/* A root that owns an outage cleared at end_ms: the row closes, and a link's is refined later. */
static void close_outage(rn_alarm_log_t *log, const rn_alarm_t *a, int64_t end_ms, int64_t at_ms)
{
    entry_t *d = entry_find(log, L_DEFERRED, a->id, NULL);
    if (d) {
        d->deferred_closed = true;
        d->o.end_ms = end_ms;
        return;
    }
    rn_event_store_outage_close(log->store, a->id, end_ms, NULL, NULL);
    entry_t *e = entry_find(log, L_ADOPTED, a->id, NULL); /* keeps the start before the restart */
    if (!e && log->phase) {
        rn_outage_rec_t o = { .alarm_id = a->id, .entity = a->entity, .circuit = a->circuit,
                              .kind = a->type == RN_ALARM_LINK_DOWN ? RN_OUTAGE_LINK
                                                                    : RN_OUTAGE_NODE,
                              .start_ms = a->since_ms, .planned = a->planned };
        e = entry_new(log, L_CLOSED, &o);
    }
    if (e)
        schedule_refines(log, e, end_ms, at_ms);
}

/* The engine publishes an alarm first as RAISED (a root) or SYMPTOM_OF (born under a root, or
 * re-parented after it was raised); the store's row is written the first time, and every later
 * event only adds history. Roots that cut something off own an outage from raise to clear. */
void rn_alarm_log(rn_alarm_log_t *log, rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                  int64_t at_ms)
{
    rn_event_store_t *store = log->store;
    if (!store)
        return;
    switch (kind) {
    case RN_ALARM_EV_RAISED:
        if (!mark_written(log, a->id))
            raise_alarm(store, a);
        if (makes_outage(a))
            open_outage(log, a, at_ms);
        break;
    case RN_ALARM_EV_SYMPTOM_OF:
        if (!mark_written(log, a->id)) {
            raise_alarm(store, a);
        } else if (makes_outage(a)) { /* raised as a root, now under one: its root owns it */
            entry_t *d = entry_find(log, L_DEFERRED, a->id, NULL);
            entry_t *adopted = entry_find(log, L_ADOPTED, a->id, NULL);
            if (d && !d->deferred_closed) { /* ends at the re-parenting, not at a heal */
                d->deferred_closed = d->no_refine = true;
                d->o.end_ms = at_ms;
            } else if (!d) {
                rn_event_store_outage_close(store, a->id, at_ms, NULL, NULL);
            }
            if (adopted)
                entry_drop(log, adopted);
        }
        add_history(store, RN_HIST_SYMPTOM_OF, a, at_ms);
        break;
    case RN_ALARM_EV_PROMOTED:
        add_history(store, RN_HIST_PROMOTED, a, at_ms);
        if (makes_outage(a))
            open_outage(log, a, at_ms);
        break;
    case RN_ALARM_EV_CLEARED:
        add_history(store, RN_HIST_CLEARED, a, at_ms);
        /* The outage ends with the first good evidence, not up_after rounds later; both ends
         * then come from the same (agent) clock, as the start does. */
        if (makes_outage(a) && !a->root_id)
            close_outage(log, a, a->until_ms ? a->until_ms : at_ms, at_ms);
        break;
    }
}

/* ---- refinement and reconciliation on the pool -------------------------------------------------- */

typedef struct {
    uv_work_t req;
    rn_alarm_log_t *log;
    entry_t *e;
    char child[4096], parent[4096];
    rn_outage_rec_t o;          /* start_ms, ended, end_ms only */
    int64_t now_ms;
    unsigned flags;
    int mask;
    rn_outage_span_t span;
} work_t;

/* On the pool: reads the probe files (librrd). */
static void on_refine_work(uv_work_t *req)
{
    work_t *w = req->data;
    w->mask = rn_outage_refine_files(w->child[0] ? w->child : NULL,
                                     w->parent[0] ? w->parent : NULL, &w->o, w->now_ms, w->flags,
                                     &w->span);
}

/* A closed outage's refinement came back: the row takes the evidence's times (marked refined). */
static void closed_refined(rn_alarm_log_t *log, entry_t *e, const work_t *w)
{
    if (w->span.sides) {
        e->o.start_ms = w->o.start_ms;
        e->o.end_ms = w->o.end_ms;
        rn_event_store_outage_refine(log->store, e->alarm_id, e->o.start_ms, e->o.end_ms, NULL,
                                     NULL);
        rn_info("outage ledger: %s (alarm %" PRIu64 "): %" PRId64 " .. %" PRId64 " ms, %.1f s "
                "(refinement %d, probe files: %s)", e->o.entity, e->alarm_id, e->o.start_ms,
                e->o.end_ms, (double)(e->o.end_ms - e->o.start_ms) / 1000.0, e->stage + 1,
                w->span.sides == 3 ? "both ends" : w->span.sides == 1 ? "child" : "parent");
    }
    if (++e->stage >= (int)N_REFINES)
        entry_drop(log, e);
    else
        e->due_ms = e->closed_ms + REFINE_AT[e->stage];
}

/* Closes a row the last run left open at end_ms, clears its stale alarm, and refines it later
 * (its end may be a guess: free_end lets the evidence move it anywhere after the start). */
static void orphan_close(rn_alarm_log_t *log, entry_t *e, int64_t end_ms, int64_t now_ms)
{
    rn_event_store_outage_close(log->store, e->alarm_id, end_ms, NULL, NULL);
    if (e->stale_id)
        clear_stale(log, e->stale_id, end_ms, "collector restarted; the outage was closed from "
                    "the evidence after the restart");
    e->stale_id = 0;
    e->free_end = true;
    schedule_refines(log, e, end_ms, now_ms);
}

/* An orphan link outage's evidence came back: closed at the first good round if the files show
 * one; left open while they show a loss that goes on (the engine's alarm will adopt it, or the
 * heal will show); closed at the restart when nothing says anything by the bound. */
static void orphan_refined(rn_alarm_log_t *log, entry_t *e, const work_t *w)
{
    int64_t now = w->now_ms;
    if (w->span.have_end) {
        e->o.start_ms = w->o.start_ms;
        rn_info("outage ledger: %s: the row left open by the last run ends at %" PRId64
                " ms, the first good round in the probe files", e->o.entity, w->span.end_ms);
        orphan_close(log, e, w->span.end_ms, now);
    } else if (w->span.sides && now - w->span.lost_until_ms < 30000) {
        e->due_ms = now + ORPHAN_RETRY_MS; /* still cut: wait for the engine or the heal */
    } else if (now - log->restart_ms >= RN_ALARM_LOG_RECONCILE_MS) {
        rn_warn("outage ledger: %s: no evidence of the end of the outage open since %" PRId64
                " ms within %d s of the restart: closed at the restart (%" PRId64 " ms)",
                e->o.entity, e->o.start_ms, RN_ALARM_LOG_RECONCILE_MS / 1000, log->restart_ms);
        orphan_close(log, e, log->restart_ms, now);
    } else {
        e->due_ms = now + ORPHAN_RETRY_MS;
    }
}

/* Back on the loop: the entry takes the evidence (or, if it was dropped meanwhile, is freed). */
static void on_refine_done(uv_work_t *req, int status)
{
    work_t *w = req->data;
    rn_alarm_log_t *log = w->log;
    entry_t *e = w->e;
    log->works--;
    e->busy = false;
    if (e->dead)
        entry_free(e);
    else if (status || !log->store)
        e->due_ms = w->now_ms + ORPHAN_RETRY_MS;
    else if (e->state == L_CLOSED)
        closed_refined(log, e, w);
    else if (e->state == L_ORPHAN)
        orphan_refined(log, e, w);
    free(w);
}

/* Reads the entry's probe files on the pool. Returns 0 or a negative errno (then retried). */
static int start_work(rn_alarm_log_t *log, entry_t *e, int64_t now_ms)
{
    work_t *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->log = log;
    w->e = e;
    w->o.start_ms = e->o.start_ms;
    w->o.ended = e->state == L_CLOSED;
    w->o.end_ms = e->o.end_ms;
    w->now_ms = now_ms;
    w->flags = e->free_end ? RN_OUTAGE_REFINE_FREE_END : 0;
    if (!*log->rrd || !*log->topo ||
        rn_outage_refine_paths(*log->rrd, *log->topo, e->o.circuit, w->child, w->parent,
                               sizeof w->child) != 0)
        w->child[0] = w->parent[0] = '\0'; /* no files: the evidence says nothing */
    w->req.data = w;
    int rc = uv_queue_work(log->loop, &w->req, on_refine_work, on_refine_done);
    if (rc) {
        free(w);
        return rc;
    }
    e->busy = true;
    log->works++;
    return 0;
}

/* A node outage left open by the last run: no probe files to read; closed at the restart once
 * the engine sees the node up again, or at the bound. */
static void orphan_node_check(rn_alarm_log_t *log, entry_t *e, int64_t now_ms)
{
    rn_alarm_status_t st = *log->engine ? rn_alarm_node_status(*log->engine, e->o.entity)
                                        : RN_STATUS_UNKNOWN;
    if (st == RN_STATUS_UP || now_ms - log->restart_ms >= RN_ALARM_LOG_RECONCILE_MS) {
        rn_warn("outage ledger: %s: the node outage open since %" PRId64 " ms before the restart "
                "is closed at the restart (%" PRId64 " ms): %s", e->o.entity, e->o.start_ms,
                log->restart_ms, st == RN_STATUS_UP ? "the node is up" : "no evidence");
        orphan_close(log, e, log->restart_ms, now_ms);
    } else {
        e->due_ms = now_ms + ORPHAN_RETRY_MS;
    }
}

void rn_alarm_log_tick(rn_alarm_log_t *log, int64_t now_ms)
{
    if (log->phase != 2 || !log->store)
        return;
    for (entry_t *e = log->entries, *next; e; e = next) {
        next = e->next;
        if (e->busy || now_ms < e->due_ms || (e->state != L_CLOSED && e->state != L_ORPHAN))
            continue;
        if (e->state == L_ORPHAN && (e->o.kind != RN_OUTAGE_LINK || !e->o.circuit))
            orphan_node_check(log, e, now_ms);
        else if (start_work(log, e, now_ms) != 0)
            e->due_ms = now_ms + ORPHAN_RETRY_MS;
    }
}

/* ---- loading the last run's open rows ---------------------------------------------------------- */

typedef struct {
    rn_alarm_log_t *log;
    uint64_t *ids;              /* alarms active in the store at the start */
    bool *owned;                /* ids[i] owns an open outage */
    size_t n;
} load_t;

/* Outages raised while loading, oldest first: opened (or adopting a row) now; those that already
 * ended are closed and refined too. */
static void run_deferred(rn_alarm_log_t *log, int64_t now_ms)
{
    entry_t *list = NULL;
    for (entry_t **p = &log->entries; *p;) { /* unlink them, reversing into raise order */
        entry_t *e = *p;
        if (e->state != L_DEFERRED) {
            p = &e->next;
            continue;
        }
        *p = e->next;
        e->next = list;
        list = e;
    }
    while (list) {
        entry_t *d = list;
        list = d->next;
        d->next = NULL;
        outage_begin(log, &d->o, now_ms);
        if (!d->deferred_closed) {
            entry_free(d);
            continue;
        }
        rn_event_store_outage_close(log->store, d->alarm_id, d->o.end_ms, NULL, NULL);
        entry_t *adopted = entry_find(log, L_ADOPTED, d->alarm_id, NULL);
        if (adopted && d->no_refine) {
            entry_drop(log, adopted);
        } else if (adopted) {
            schedule_refines(log, adopted, d->o.end_ms, now_ms);
        } else if (!d->no_refine) {
            d->next = log->entries;
            log->entries = d;
            schedule_refines(log, d, d->o.end_ms, now_ms);
            continue;
        }
        entry_free(d);
    }
}

/* Ends loading: stale alarms that own no open row are cleared, deferred outages go out. */
static void load_done(load_t *ld, int status)
{
    rn_alarm_log_t *log = ld->log;
    size_t orphans = 0, cleared = 0;
    for (entry_t *e = log->entries; e; e = e->next)
        orphans += e->state == L_ORPHAN;
    for (size_t i = 0; log->store && i < ld->n; i++)
        if (!ld->owned[i]) {
            clear_stale(log, ld->ids[i], log->restart_ms, "collector restarted; the engine "
                        "raises it again if it still holds");
            cleared++;
        }
    if (status)
        rn_error("outage ledger: the rows left open by the last run could not be read: %s",
                 rn_strerror(status));
    else if (orphans || cleared)
        rn_info("outage ledger: %zu outages left open by the last run to reconcile, %zu of its "
                "alarms cleared as stale", orphans, cleared);
    log->phase = 2;
    if (log->store)
        run_deferred(log, log->restart_ms);
    free(ld->ids);
    free(ld->owned);
    free(ld);
}

/* The rows the last run left open: each becomes an orphan; its alarm, if active, is stale. */
static void on_open_outages(void *data, int status, const rn_outage_rec_t *o, size_t n)
{
    load_t *ld = data;
    for (size_t i = 0; !status && i < n; i++) {
        entry_t *e = entry_new(ld->log, L_ORPHAN, &o[i]);
        if (!e)
            continue;
        e->outage_id = o[i].id;
        e->due_ms = ld->log->restart_ms + ORPHAN_RETRY_MS;
        for (size_t k = 0; k < ld->n; k++)
            if (ld->ids[k] == o[i].alarm_id && !ld->owned[k]) {
                ld->owned[k] = true;
                e->stale_id = o[i].alarm_id;
            }
    }
    load_done(ld, status);
}

/* The alarms the last run left active (all stale: this run has raised none yet); then the open
 * rows. */
static void on_open_alarms(void *data, int status, const rn_alarm_rec_t *a, size_t n)
{
    load_t *ld = data;
    if (!status && n) {
        ld->ids = calloc(n, sizeof *ld->ids);
        ld->owned = calloc(n, sizeof *ld->owned);
        if (!ld->ids || !ld->owned)
            status = -ENOMEM;
        for (size_t i = 0; !status && i < n; i++)
            ld->ids[ld->n++] = a[i].id;
    }
    if (!status && ld->log->store)
        status = rn_event_store_outages_open(ld->log->store, on_open_outages, ld);
    if (status) {
        ld->n = 0;
        load_done(ld, status);
    }
}

int rn_alarm_log_start(rn_alarm_log_t *log, uv_loop_t *loop, rn_rrd_store_t **rrd,
                       rn_topology_t **topo, rn_alarm_engine_t **engine, int64_t now_ms)
{
    if (!log->store)
        return -EINVAL;
    load_t *ld = calloc(1, sizeof *ld);
    if (!ld)
        return -ENOMEM;
    ld->log = log;
    log->loop = loop;
    log->rrd = rrd;
    log->topo = topo;
    log->engine = engine;
    log->restart_ms = now_ms;
    log->phase = 1;
    int rc = rn_event_store_alarms_active(log->store, on_open_alarms, ld);
    if (rc) {
        free(ld);
        log->phase = 2;
    }
    return rc;
}

static void on_windows(void *data, int status, const rn_maintenance_rec_t *m, size_t n)
{
    rn_alarm_engine_t *e = *(rn_alarm_engine_t **)data;
    if (status) {
        rn_warn("maintenance windows not loaded from the event store: %s", rn_strerror(status));
        return;
    }
    if (!e)
        return;
    rn_alarm_clear_maintenance(e);
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++)
        loaded += rn_alarm_set_maintenance(e, m[i].entity, m[i].start_ms, m[i].end_ms) == 0;
    if (loaded < n)
        rn_error("maintenance windows: %zu of %zu loaded (out of memory)", loaded, n);
    else
        rn_info("maintenance windows: %zu current or future loaded", n);
}

int rn_alarm_log_load_maintenance(rn_event_store_t *store, rn_alarm_engine_t **engine,
                                  int64_t now_ms)
{
    return rn_event_store_maintenance_list(store, now_ms - 86400000LL, INT64_MAX, on_windows,
                                           engine);
}

void rn_alarm_log_free(rn_alarm_log_t *log)
{
    while (log->entries)
        entry_drop(log, log->entries);
    log->phase = 0;
    free(log->written);
    log->written = NULL;
    log->bytes = 0;
}
