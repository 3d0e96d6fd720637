/* The RRD store's memory of each file's last update (rrd_store.c), so a batch does not read the
 * header of every file it writes: a chained hash table from file path to time, grown by doubling.
 *
 * Threading: used by the store's worker only (one thread at a time). Out of memory is never an
 * error: an entry not kept only means the next batch reads the file. */
#ifndef RN_RRD_CACHE_H
#define RN_RRD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct rn_rrd_cache_entry rn_rrd_cache_entry_t;

/* Zero-initialise; free with rn_rrd_cache_free. */
typedef struct {
    rn_rrd_cache_entry_t **slots;
    size_t n_slots, n;
} rn_rrd_cache_t;

/* Returns true and sets *last if path's last update is known, else false. */
bool rn_rrd_cache_get(const rn_rrd_cache_t *c, const char *path, time_t *last);

/* Records the last update of path (a copy of path is kept). */
void rn_rrd_cache_set(rn_rrd_cache_t *c, const char *path, time_t last);

/* Forgets path, so its last update is read from the file next time. */
void rn_rrd_cache_drop(rn_rrd_cache_t *c, const char *path);

/* Frees every entry and the table, and zeroes c. */
void rn_rrd_cache_free(rn_rrd_cache_t *c);

#endif
