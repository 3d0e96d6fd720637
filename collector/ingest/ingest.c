/* Ingest checks on an agent's batches, and the per-node state (see ingest.h). */
#include "ingest/ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/plan.h"

uint64_t rn_ingest_ack_stored(rn_ingest_node_t *g, uint64_t acked, uint64_t seq)
{
    if (seq <= acked)
        return acked;
    if (seq > acked + 1) {
        for (size_t i = 0; i < RN_INGEST_ACK_WINDOW; i++)
            if (g->done[i] == seq || g->done[i] == 0) {
                g->done[i] = seq;
                break;
            }
        return acked;
    }
    acked = seq;
    for (bool moved = true; moved;) { /* a few entries: a linear pass per step is cheap */
        moved = false;
        for (size_t i = 0; i < RN_INGEST_ACK_WINDOW; i++) {
            if (g->done[i] && g->done[i] <= acked)
                g->done[i] = 0;
            else if (g->done[i] == acked + 1) {
                acked = g->done[i];
                g->done[i] = 0;
                moved = true;
            }
        }
    }
    return acked;
}

bool rn_ingest_ack_has(const rn_ingest_node_t *g, uint64_t seq)
{
    for (size_t i = 0; seq && i < RN_INGEST_ACK_WINDOW; i++)
        if (g->done[i] == seq)
            return true;
    return false;
}

size_t rn_ingest_drop_future(Rn__Batch *b, int64_t now_ms, uint32_t max_skew_s,
                             int64_t *ahead_ms)
{
    int64_t limit = now_ms + (int64_t)max_skew_s * 1000;
    size_t keep = 0, dropped = 0;
    *ahead_ms = 0;
    for (size_t i = 0; i < b->n_samples; i++) {
        Rn__Sample *x = b->samples[i];
        if (x->time_ms > limit) {
            if (x->time_ms - now_ms > *ahead_ms)
                *ahead_ms = x->time_ms - now_ms;
            rn__sample__free_unpacked(x, NULL);
            dropped++;
        } else {
            b->samples[keep++] = x;
        }
    }
    b->n_samples = keep;
    return dropped;
}

/* FNV-1a of a series name: the set's hash. */
static size_t hash_of(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    return (size_t)h;
}

/* Returns the set slot of name k: where it is, or the free slot where it would go. */
static char **slot_of(const rn_ingest_node_t *g, const char *k)
{
    size_t i = hash_of(k) & (g->cap_series - 1);
    while (g->series[i] && strcmp(g->series[i], k) != 0)
        i = (i + 1) & (g->cap_series - 1);
    return &g->series[i];
}

/* Makes room for one more name (load under one half). Returns 0 or -ENOMEM. */
static int grow(rn_ingest_node_t *g)
{
    if ((g->n_series + 1) * 2 <= g->cap_series)
        return 0;
    size_t cap = g->cap_series ? g->cap_series * 2 : 64;
    char **old = g->series;
    size_t old_cap = g->cap_series;
    if (!(g->series = calloc(cap, sizeof *g->series))) {
        g->series = old;
        return -ENOMEM;
    }
    g->cap_series = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            *slot_of(g, old[i]) = old[i];
    free(old);
    return 0;
}

/* Writes series name "node/source/device/object" of x into buf. */
static void series_name(const Rn__Sample *x, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/%s/%s", x->node ? x->node : "", x->source ? x->source : "",
             x->device ? x->device : "", x->object ? x->object : "");
}

int rn_ingest_screen_series(rn_ingest_node_t *g, const rn_plan_series_t *plan, Rn__Batch *b,
                            rn_ingest_screen_t *out)
{
    size_t keep = 0, i = 0;
    int rc = 0;
    char key[4 * (RN_WIRE_MAX_NAME + 1)];
    memset(out, 0, sizeof *out);
    for (; i < b->n_samples; i++) {
        Rn__Sample *x = b->samples[i];
        series_name(x, key, sizeof key);
        char **slot = g->cap_series ? slot_of(g, key) : NULL;
        if (slot && *slot) {
            b->samples[keep++] = x;
        } else if (plan && !rn_plan_series_allows(plan, x->node, x->source, x->device,
                                                   x->object)) {
            if (out->unplanned++ == 0)
                snprintf(out->first_unplanned, sizeof out->first_unplanned, "%s", key);
            rn__sample__free_unpacked(x, NULL);
        } else if (g->n_series >= RN_INGEST_MAX_SERIES) {
            if (out->over_cap++ == 0)
                snprintf(out->first_over_cap, sizeof out->first_over_cap, "%s", key);
            rn__sample__free_unpacked(x, NULL);
        } else if ((rc = grow(g)) != 0 || !(*(slot = slot_of(g, key)) = strdup(key))) {
            rc = -ENOMEM;
            break;
        } else {
            g->n_series++;
            b->samples[keep++] = x;
        }
    }
    for (; i < b->n_samples; i++) /* after a failure: keep the rest as they are */
        b->samples[keep++] = b->samples[i];
    b->n_samples = keep;
    return rc;
}

/* Frees the seen-series set. */
static void forget_series(rn_ingest_node_t *g)
{
    for (size_t i = 0; i < g->cap_series; i++)
        free(g->series[i]);
    free(g->series);
    g->series = NULL;
    g->n_series = g->cap_series = 0;
}

void rn_ingest_node_replan(rn_ingest_node_t *g)
{
    rn_plan_series_free(g->plan);
    g->plan = NULL;
    forget_series(g);
}

void rn_ingest_node_free(rn_ingest_node_t *g)
{
    rn_ingest_node_replan(g);
}

/* A list, not a hash: a few hundred agents, and the lookups that matter (hello, a store
 * completion) hold the entry itself after the first; listings sort a copy (http/api.c). */
rn_node_state_t *rn_ingest_state_find(rn_node_state_t *list, const char *id)
{
    for (rn_node_state_t *n = list; n; n = n->next)
        if (strcmp(n->id, id) == 0)
            return n;
    return NULL;
}

rn_node_state_t *rn_ingest_state_get(rn_node_state_t **list, const char *id)
{
    rn_node_state_t *n = rn_ingest_state_find(*list, id);
    if (n)
        return n;
    if (!(n = calloc(1, sizeof *n)) || !(n->id = strdup(id))) {
        free(n);
        return NULL;
    }
    n->next = *list;
    *list = n;
    return n;
}

void rn_ingest_states_free(rn_node_state_t **list)
{
    while (*list) {
        rn_node_state_t *n = *list;
        *list = n->next;
        free(n->id);
        rn_ingest_node_free(&n->ingest);
        free(n);
    }
}
