/* Last-update cache of the RRD store (rrd_cache.h): FNV-1a over the path, chained buckets, as
 * many slots as entries before it doubles (1024 at first: a district's files). */
#include "series/rrd_cache.h"

#include <stdlib.h>
#include <string.h>

/* Last update time of one file, chained in a hash bucket. */
struct rn_rrd_cache_entry {
    rn_rrd_cache_entry_t *next;
    uint64_t hash;
    time_t last;
    char path[];
};

/* FNV-1a over the path. */
static uint64_t hash_path(const char *p)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

/* Returns the entry of path, or NULL. */
static rn_rrd_cache_entry_t *find(const rn_rrd_cache_t *c, const char *path)
{
    if (c->n_slots == 0)
        return NULL;
    uint64_t h = hash_path(path);
    for (rn_rrd_cache_entry_t *e = c->slots[h % c->n_slots]; e; e = e->next)
        if (e->hash == h && strcmp(e->path, path) == 0)
            return e;
    return NULL;
}

/* Doubles the table (1024 slots at first). Returns 0, or -1 when out of memory. */
static int grow(rn_rrd_cache_t *c)
{
    size_t n_slots = c->n_slots ? c->n_slots * 2 : 1024;
    rn_rrd_cache_entry_t **slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < c->n_slots; i++) {
        for (rn_rrd_cache_entry_t *e = c->slots[i], *next; e; e = next) {
            next = e->next;
            e->next = slots[e->hash % n_slots];
            slots[e->hash % n_slots] = e;
        }
    }
    free(c->slots);
    c->slots = slots;
    c->n_slots = n_slots;
    return 0;
}

bool rn_rrd_cache_get(const rn_rrd_cache_t *c, const char *path, time_t *last)
{
    const rn_rrd_cache_entry_t *e = find(c, path);
    if (e == NULL)
        return false;
    *last = e->last;
    return true;
}

void rn_rrd_cache_set(rn_rrd_cache_t *c, const char *path, time_t last)
{
    rn_rrd_cache_entry_t *e = find(c, path);
    if (e != NULL) {
        e->last = last;
        return;
    }
    if (c->n >= c->n_slots && grow(c) < 0)
        return;
    size_t n = strlen(path);
    if ((e = malloc(sizeof *e + n + 1)) == NULL)
        return;
    memcpy(e->path, path, n + 1);
    e->hash = hash_path(path);
    e->last = last;
    e->next = c->slots[e->hash % c->n_slots];
    c->slots[e->hash % c->n_slots] = e;
    c->n++;
}

void rn_rrd_cache_drop(rn_rrd_cache_t *c, const char *path)
{
    if (c->n_slots == 0)
        return;
    uint64_t h = hash_path(path);
    for (rn_rrd_cache_entry_t **pp = &c->slots[h % c->n_slots]; *pp; pp = &(*pp)->next) {
        if ((*pp)->hash == h && strcmp((*pp)->path, path) == 0) {
            rn_rrd_cache_entry_t *e = *pp;
            *pp = e->next;
            free(e);
            c->n--;
            return;
        }
    }
}

void rn_rrd_cache_free(rn_rrd_cache_t *c)
{
    for (size_t i = 0; i < c->n_slots; i++) {
        for (rn_rrd_cache_entry_t *e = c->slots[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(c->slots);
    memset(c, 0, sizeof *c);
}
