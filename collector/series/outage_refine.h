/* Outage refinement: the start and end of a link outage to about half a probe round, from the
 * probe files on both ends of the link. One function for everyone who states an outage's length:
 * the collector writes its result back into the outage row (alarm_log.c, after the outage closes
 * and again once a cut-off agent's replay has landed), and the SLA report (report_run.c) applies
 * it to rows the collector has not refined yet (open ones, rows from before a restart). So the
 * row, the dashboard and the report give the same duration. The rule is in docs/outages.md.
 *
 * Evidence. Each end of a link probes the other: the child's file <data_dir>/<child>/icmp/
 * <parent>.rrd and the parent's file <data_dir>/<parent>/icmp/<child>.rrd ("loss" column, one
 * row per round at the finest step). Either file may be missing or have gaps (a cut-off agent's
 * rows arrive when its spool replays, seconds to a minute after the heal).
 *
 * The rule: a link is down while either side's rounds fail (the engine's rule, alarm.h). Both
 * probes are round trips over the same link, so a cut or a black hole in either direction fails
 * both sides' rounds alike, and the sides differ only by where their rounds fell: each brackets
 * the cut between its last good and first lost round (the heal between its last lost and first
 * good round), the truth lies in the intersection of the brackets, and we take its middle (or
 * the instant a partly lost round pins down). Sides that contradict each other by more than a
 * round (one side still failing while the other answers: a route back to one end's address not
 * yet restored, or a prober fault) fall back to the rule itself: down from the first lost round
 * on either side until the first good round of the side that recovered last. A side without
 * data after its lost rounds (a gap, a replay not landed yet) says nothing about the end.
 *
 * librrd (rrd_fetch_r, reentrant) is read here, read-only, like report_graph.c and graph.c; the
 * file functions block on disk: call them on a worker thread. */
#ifndef RN_OUTAGE_REFINE_H
#define RN_OUTAGE_REFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event_store.h"
#include "series/rrd_store.h"
#include "topology.h"

#define RN_OUTAGE_REFINE_MAX_MS 20000 /* a refined edge further than this from the recorded one is
                                        * evidence of something else: left alone */

/* The loss column of one side's probe file: row i holds the round stamped t0_s + (i + 1) * step_s
 * (loss percent 0..100, NAN: no data). Borrowed. */
typedef struct {
    const double *loss;
    size_t n;
    int64_t t0_s;
    int64_t step_s;
} rn_outage_side_t;

/* What the evidence says about one outage. start_ms is valid if have_start; end_ms if have_end
 * (a good round after the loss was seen); lost_until_ms (valid with have_start) is where the
 * latest side's run of lost rounds ends so far (its last lost round's echoes), to tell a cut that
 * still goes on from evidence gone stale. sides: bit 0 the child's file, bit 1 the parent's. */
typedef struct {
    bool have_start, have_end;
    int64_t start_ms, end_ms, lost_until_ms;
    unsigned sides;
} rn_outage_span_t;

/* Pure: the outage around hint_start_ms in up to two sides' rows (a side with n 0 is absent).
 * A side counts if it has a row at 100% loss within RN_OUTAGE_REFINE_MAX_MS of the hint; its run
 * of such rows (gaps end it) brackets the cut and, if a row with data follows, the heal. Returns
 * 0 with *out filled, or -ENOENT when no side has such a row. */
int rn_outage_refine_span(const rn_outage_side_t *sides, size_t n_sides, int64_t hint_start_ms,
                          rn_outage_span_t *out);

/* Reads the "loss" column of path over [from_s, to_s] at its finest step into *side (side->loss
 * is malloc'd: free it). Returns 0, -ENOENT (no such file) or -EIO (librrd refused, no loss
 * column, or a step over 10 s: too coarse to refine, e.g. rows older than two days). Blocking. */
int rn_outage_refine_fetch(const char *path, int64_t from_s, int64_t to_s, rn_outage_side_t *side);

/* The two probe files of the link with this circuit: child (its lower end's file about its
 * remote end) and parent (the remote end's file about the child). Returns 0, -ENOENT (no such
 * circuit) or the path error of rn_rrd_store_path. The files need not exist. */
int rn_outage_refine_paths(const rn_rrd_store_t *store, const rn_topology_t *topo,
                           const char *circuit, char *child, char *parent, size_t len);

/* Flags of rn_outage_refine_files(). */
#define RN_OUTAGE_REFINE_FREE_END 1u /* the recorded end is only a guess (a restart): take the
                                      * evidence's end wherever it is after the start */

/* Refines *o (a link outage: start_ms, ended, end_ms) from the two files (either may be NULL or
 * missing): the span around o->start_ms, searched up to the recorded end (or now_ms while open)
 * plus a minute. The start moves if the evidence's start is within RN_OUTAGE_REFINE_MAX_MS of the
 * recorded one; the end (of an ended outage) likewise, or with RN_OUTAGE_REFINE_FREE_END anywhere
 * after the start. span (may be NULL) receives what the evidence said (sides 0: nothing).
 * Returns a mask: 1 the start changed, 2 the end changed; 0 when nothing applies. Blocking. */
int rn_outage_refine_files(const char *child, const char *parent, rn_outage_rec_t *o,
                           int64_t now_ms, unsigned flags, rn_outage_span_t *span);

#endif
