/* Latest values per series (see latest.h): a hash of nodes, each with a sorted list of series. */
#include "series/latest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NODE_BUCKETS 4096
#define MAX_VALUES 16

typedef struct series {
    char *source, *device, *object;
    int64_t time_ms, prev_time_ms;
    uint64_t speed_bps;
    size_t n;
    double v[MAX_VALUES], prev[MAX_VALUES];
    struct series *next;
} series_t;

typedef struct lnode {
    char *id;
    series_t *series;       /* sorted by source, device, object */
    struct lnode *next;     /* bucket chain */
} lnode_t;

struct rn_latest {
    lnode_t *buckets[NODE_BUCKETS];
    uint64_t noted, stale;
};

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return (size_t)(h % NODE_BUCKETS);
}

int rn_latest_new(rn_latest_t **out)
{
    rn_latest_t *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    *out = l;
    return 0;
}

static void free_series(series_t *s)
{
    free(s->source);
    free(s->device);
    free(s->object);
    free(s);
}

void rn_latest_free(rn_latest_t *l)
{
    if (!l)
        return;
    for (size_t b = 0; b < NODE_BUCKETS; b++)
        while (l->buckets[b]) {
            lnode_t *n = l->buckets[b];
            l->buckets[b] = n->next;
            while (n->series) {
                series_t *s = n->series;
                n->series = s->next;
                free_series(s);
            }
            free(n->id);
            free(n);
        }
    free(l);
}

static lnode_t *find_node(const rn_latest_t *l, const char *id)
{
    for (lnode_t *n = l->buckets[hash(id)]; n; n = n->next)
        if (strcmp(n->id, id) == 0)
            return n;
    return NULL;
}

static int cmp_key(const series_t *s, const char *source, const char *device, const char *object)
{
    int c = strcmp(s->source, source);
    if (!c)
        c = strcmp(s->device, device);
    return c ? c : strcmp(s->object, object);
}

/* Finds or inserts (in order) the series; NULL on allocation failure. */
static series_t *get_series(lnode_t *n, const char *source, const char *device, const char *object)
{
    series_t **pp = &n->series;
    int c = 1;
    while (*pp && (c = cmp_key(*pp, source, device, object)) < 0)
        pp = &(*pp)->next;
    if (*pp && c == 0)
        return *pp;
    series_t *s = calloc(1, sizeof *s);
    if (!s || !(s->source = strdup(source)) || !(s->device = strdup(device)) ||
        !(s->object = strdup(object))) {
        if (s)
            free_series(s);
        return NULL;
    }
    s->next = *pp;
    *pp = s;
    return s;
}

int rn_latest_note(rn_latest_t *l, const char *node, const Rn__Sample *x)
{
    lnode_t *n = find_node(l, node);
    if (!n) {
        n = calloc(1, sizeof *n);
        if (!n || !(n->id = strdup(node))) {
            free(n);
            return -ENOMEM;
        }
        size_t b = hash(node);
        n->next = l->buckets[b];
        l->buckets[b] = n;
    }
    series_t *s = get_series(n, x->source, x->device ? x->device : "", x->object);
    if (!s)
        return -ENOMEM;
    if (s->time_ms && x->time_ms <= s->time_ms) {
        l->stale++;
        return 0;
    }
    l->noted++;
    size_t nv = x->n_values < MAX_VALUES ? x->n_values : MAX_VALUES;
    memcpy(s->prev, s->v, sizeof s->v);
    for (size_t i = s->n; i < MAX_VALUES; i++)
        s->prev[i] = NAN;
    if (!s->time_ms)
        for (size_t i = 0; i < MAX_VALUES; i++)
            s->prev[i] = NAN;
    s->prev_time_ms = s->time_ms;
    s->time_ms = x->time_ms;
    s->n = nv;
    for (size_t i = 0; i < MAX_VALUES; i++) {
        const Rn__Value *v = i < nv ? x->values[i] : NULL;
        s->v[i] = !v ? NAN : v->has_gauge ? v->gauge : v->has_counter ? (double)v->counter : NAN;
    }
    if (x->has_speed_bps)
        s->speed_bps = x->speed_bps;
    return 0;
}

static void view(const lnode_t *n, const series_t *s, rn_latest_series_t *out)
{
    *out = (rn_latest_series_t){ n->id, s->source, s->device, s->object, s->time_ms,
                                 s->prev_time_ms, s->speed_bps, s->n, s->v, s->prev };
}

static size_t visit(const lnode_t *n, rn_latest_fn fn, void *ctx)
{
    size_t k = 0;
    for (const series_t *s = n->series; s; s = s->next, k++) {
        rn_latest_series_t v;
        view(n, s, &v);
        fn(ctx, &v);
    }
    return k;
}

size_t rn_latest_foreach(const rn_latest_t *l, const char *node, rn_latest_fn fn, void *ctx)
{
    if (node) {
        const lnode_t *n = find_node(l, node);
        return n ? visit(n, fn, ctx) : 0;
    }
    size_t k = 0;
    for (size_t b = 0; b < NODE_BUCKETS; b++)
        for (const lnode_t *n = l->buckets[b]; n; n = n->next)
            k += visit(n, fn, ctx);
    return k;
}

const rn_latest_series_t *rn_latest_find(const rn_latest_t *l, const char *node,
                                         const char *source, const char *device,
                                         const char *object, rn_latest_series_t *out)
{
    const lnode_t *n = find_node(l, node);
    if (!n)
        return NULL;
    for (const series_t *s = n->series; s; s = s->next)
        if (cmp_key(s, source, device ? device : "", object) == 0) {
            view(n, s, out);
            return out;
        }
    return NULL;
}

void rn_latest_counts(const rn_latest_t *l, uint64_t *noted, uint64_t *stale)
{
    *noted = l->noted;
    *stale = l->stale;
}

double rn_latest_rate(const rn_latest_series_t *s, size_t i)
{
    if (i >= s->n || !s->prev_time_ms || s->time_ms <= s->prev_time_ms)
        return NAN;
    double a = s->prev[i], b = s->v[i];
    if (isnan(a) || isnan(b) || b < a)
        return NAN;
    return (b - a) * 1000.0 / (double)(s->time_ms - s->prev_time_ms);
}
