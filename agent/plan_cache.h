/* The agent's copy of its last plan, in <state_dir>/plan.bin, so an agent that (re)starts while
 * cut off from the collector measures at once with what it was last told.
 *
 * The file is one complete wire frame (length prefix and a Plan body), written to a temporary
 * file, fsynced and renamed into place on the thread pool, so a crash leaves the old plan or the
 * new one, never a torn file; and it is read back through rn_wire_decode like any frame. */
#ifndef RN_PLAN_CACHE_H
#define RN_PLAN_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "wire.h"

typedef struct rn_plan_cache rn_plan_cache_t;

/* Creates the cache for state_dir. Returns 0 or -ENOMEM. */
int rn_plan_cache_new(uv_loop_t *loop, const char *state_dir, rn_plan_cache_t **out);

/* Reads the cached plan, at startup (synchronous). Returns 0 and a frame owned by the caller
 * (free with rn_wire_free), -ENOENT when there is none, or another error (logged, with the
 * file named) when the file cannot be read or is not a valid plan. */
int rn_plan_cache_load(rn_plan_cache_t *c, Rn__Frame **out);

/* Saves plan off the loop thread. A save requested while one runs replaces any queued one, so
 * the newest plan always ends up on disk. Failures are logged. */
void rn_plan_cache_save(rn_plan_cache_t *c, const Rn__Plan *plan);

/* Waits for a running save, then frees the cache; cb (may be NULL) fires then. */
void rn_plan_cache_close(rn_plan_cache_t *c, void (*cb)(void *data), void *data);

#endif
