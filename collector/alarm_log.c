#include "alarm_log.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *const severity_names[] = { "S0", "S1", "S2", "S3" };

static const char *severity_name(int s)
{
    return s >= 1 && s <= 3 ? severity_names[s] : "S3";
}

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

static void open_outage(rn_event_store_t *store, const rn_alarm_t *a)
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
    rn_event_store_outage_open(store, &o, NULL, NULL);
}

static void raise_alarm(rn_event_store_t *store, const rn_alarm_t *a)
{
    char *nodes = json_list(a->impact_nodes, a->n_impact_nodes);
    char *services = json_list(a->impact_services, a->n_impact_services);
    rn_alarm_rec_t r = { 0 };
    r.id = a->id;
    r.type = rn_alarm_type_name(a->type);
    r.severity = severity_name(a->severity);
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
            open_outage(store, a);
        break;
    case RN_ALARM_EV_SYMPTOM_OF:
        if (!mark_written(log, a->id))
            raise_alarm(store, a);
        else if (makes_outage(a)) /* raised as a root, now under one: its root owns the outage */
            rn_event_store_outage_close(store, a->id, at_ms, NULL, NULL);
        add_history(store, RN_HIST_SYMPTOM_OF, a, at_ms);
        break;
    case RN_ALARM_EV_PROMOTED:
        add_history(store, RN_HIST_PROMOTED, a, at_ms);
        if (makes_outage(a))
            open_outage(store, a);
        break;
    case RN_ALARM_EV_CLEARED:
        add_history(store, RN_HIST_CLEARED, a, at_ms);
        /* The outage ends with the first good evidence, not up_after rounds later; both ends
         * then come from the same (agent) clock, as the start does. */
        if (makes_outage(a) && !a->root_id)
            rn_event_store_outage_close(store, a->id, a->until_ms ? a->until_ms : at_ms, NULL,
                                        NULL);
        break;
    }
}

static void on_windows(void *data, int status, const rn_maintenance_rec_t *m, size_t n)
{
    rn_alarm_engine_t *e = *(rn_alarm_engine_t **)data;
    if (status) {
        rn_warn("maintenance windows not loaded from the event store: %s", strerror(-status));
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
    free(log->written);
    log->written = NULL;
    log->bytes = 0;
}
