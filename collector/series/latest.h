/* Latest values: the last two samples of every series the collector has received, in memory,
 * so the HTTP API and /metrics can answer "what is it now" without reading RRD files (disk) on
 * the loop thread.
 *
 * session.c notes every sample of a batch as it arrives (rn_latest_note). Per series it keeps the
 * newest sample and the one before it (rates of counters: in_bps, out_bps), never older ones. A
 * sample not newer than the series' newest (a replayed spool) is ignored. Series are grouped per
 * node; nodes sit in a hash table. Series appear once their first sample arrives after a start.
 *
 * One thread (the loop) calls everything. Pointers handed to callbacks are borrowed until the
 * callback returns. */
#ifndef RN_LATEST_H
#define RN_LATEST_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

typedef struct rn_latest rn_latest_t;

typedef struct {
    const char *node, *source, *device, *object; /* device is "" for probes */
    int64_t time_ms;            /* the newest sample's time (agent clock) */
    int64_t prev_time_ms;       /* the one before, 0 if none */
    uint64_t speed_bps;         /* "if": interface speed the agent reported, 0 unknown */
    size_t n;                   /* values per sample (the source's template) */
    const double *v;            /* newest values; NAN unknown */
    const double *prev;         /* values before, NAN when prev_time_ms is 0 */
} rn_latest_series_t;

typedef void (*rn_latest_fn)(void *ctx, const rn_latest_series_t *s);

/* Returns 0 and *out, or -ENOMEM. */
int rn_latest_new(rn_latest_t **out);

/* Frees everything; NULL is fine. */
void rn_latest_free(rn_latest_t *l);

/* Records sample s of node (values beyond 16 are not kept). Returns 0 or -ENOMEM. */
int rn_latest_note(rn_latest_t *l, const char *node, const Rn__Sample *s);

/* Calls fn for every series of node (node NULL: of every node), ordered by source, device,
 * object within a node. Returns the number of series visited. */
size_t rn_latest_foreach(const rn_latest_t *l, const char *node, rn_latest_fn fn, void *ctx);

/* The series of (node, source, device, object), or NULL. The pointers inside are valid until the
 * next rn_latest_note. */
const rn_latest_series_t *rn_latest_find(const rn_latest_t *l, const char *node,
                                         const char *source, const char *device,
                                         const char *object, rn_latest_series_t *out);

/* Samples noted (accepted) and ignored as not newer, since start. */
void rn_latest_counts(const rn_latest_t *l, uint64_t *noted, uint64_t *stale);

/* Rate of value i per second between the two newest samples of a counter; NAN when unknown (no
 * previous sample, a value unknown, or the counter went down: a wrap or a reboot). */
double rn_latest_rate(const rn_latest_series_t *s, size_t i);

#endif
