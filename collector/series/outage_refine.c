/* Outage refinement from both ends' probe files (the rule: outage_refine.h, docs/outages.md).
 *
 * How a side's rows become brackets. An agent stamps a round with its start T and spreads its
 * echoes over [T, T + h], h = step / 2; the RRD row ending at R = t0 + (i + 1) * step holds the
 * round stamped R (rows blend samples that straddle a step boundary, hence "about" half a round).
 * So row i saw the link during [R_i, R_i + h]. A cut between two rounds lies in
 * (R_last_good + h, R_first_lost]; a round that lost the fraction f of its echoes at the start of
 * a cut lost its last f, so the cut was at R + (1 - f) h, a point. A heal likewise lies in
 * (R_last_lost + h, R_first_good], or at R + f h when the first good round lost its first f. */
#include "series/outage_refine.h"

#include <errno.h>
#include <math.h>
#include <rrd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sources.h"

#define FULL_LOSS 99.9  /* a row at 100% loss (averaging can leave 99.99...) */
#define PARTIAL 0.1     /* a row with at least this loss lost part of its round */
#define MAX_STEP_S 10   /* coarser rows cannot place an edge within a few seconds */

/* One side's evidence: brackets (ms) of the cut and of the heal; lo == hi for a point. */
typedef struct {
    bool found, end_seen;
    double start_lo, start_hi, end_lo, end_hi;
} side_eval_t;

/* Brackets the outage around hint_s in one side's rows. Returns whether a run was found. */
static bool side_eval(const rn_outage_side_t *sd, double hint_s, side_eval_t *ev)
{
    memset(ev, 0, sizeof *ev);
    if (!sd->loss || !sd->n || sd->step_s <= 0)
        return false;
    double st = (double)sd->step_s, h = st / 2, best = 1e18;
    size_t n = sd->n, first = n;
#define ROW_T(i) ((double)sd->t0_s + (double)((i) + 1) * st)
    for (size_t i = 0; i < n; i++) { /* the full-loss row nearest the hint */
        double dist = fabs(ROW_T(i) - hint_s);
        if (sd->loss[i] >= FULL_LOSS && dist < best) {
            best = dist;
            first = i;
        }
    }
    if (first == n || best > RN_OUTAGE_REFINE_MAX_MS / 1000.0)
        return false;
    size_t last = first;
    while (first > 0 && sd->loss[first - 1] >= FULL_LOSS)
        first--;
    while (last + 1 < n && sd->loss[last + 1] >= FULL_LOSS)
        last++;
    ev->found = true;
    ev->start_lo = ROW_T(first) - (st - h); /* the previous round's echoes ended here */
    ev->start_hi = ROW_T(first);
    if (first > 0 && !isnan(sd->loss[first - 1]) && sd->loss[first - 1] > PARTIAL)
        ev->start_lo = ev->start_hi = ROW_T(first - 1) + (1 - sd->loss[first - 1] / 100.0) * h;
    ev->end_lo = ROW_T(last) + h;
    ev->end_hi = ROW_T(last) + st;
    ev->end_seen = last + 1 < n && !isnan(sd->loss[last + 1]);
    if (ev->end_seen && sd->loss[last + 1] > PARTIAL)
        ev->end_lo = ev->end_hi = ROW_T(last + 1) + sd->loss[last + 1] / 100.0 * h;
#undef ROW_T
    return true;
}

/* Combines brackets [lo_i, hi_i] into one instant: the middle of their intersection (the sides
 * agree, up to where their rounds fell), or, when they contradict each other by more than slop,
 * the earliest hi for a start (the first lost round on either side) and the latest hi for an
 * end (the first good round of the side that recovered last): down while either side fails. */
static double combine(const double *lo, const double *hi, size_t n, double slop, bool end)
{
    double L = lo[0], H = hi[0], Hmax = hi[0];
    for (size_t i = 1; i < n; i++) {
        L = lo[i] > L ? lo[i] : L;
        H = hi[i] < H ? hi[i] : H;
        Hmax = hi[i] > Hmax ? hi[i] : Hmax;
    }
    if (L - H > slop)
        return end ? Hmax : H;
    return (L + H) / 2;
}

int rn_outage_refine_span(const rn_outage_side_t *sides, size_t n_sides, int64_t hint_start_ms,
                          rn_outage_span_t *out)
{
    double slo[2], shi[2], elo[2], ehi[2], slop = 0, lost_until = 0;
    size_t ns = 0, ne = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n_sides && i < 2; i++) {
        side_eval_t ev;
        if (!side_eval(&sides[i], (double)hint_start_ms / 1000.0, &ev))
            continue;
        out->sides |= 1u << i;
        slop = (double)sides[i].step_s > slop ? (double)sides[i].step_s : slop;
        lost_until = ev.end_lo > lost_until ? ev.end_lo : lost_until;
        slo[ns] = ev.start_lo;
        shi[ns++] = ev.start_hi;
        if (ev.end_seen) {
            elo[ne] = ev.end_lo;
            ehi[ne++] = ev.end_hi;
        }
    }
    if (!ns)
        return -ENOENT;
    out->have_start = true;
    out->start_ms = (int64_t)llround(combine(slo, shi, ns, slop, false) * 1000);
    out->lost_until_ms = (int64_t)llround(lost_until * 1000);
    if (ne) {
        double end = combine(elo, ehi, ne, slop, true);
        out->have_end = end * 1000 > (double)out->start_ms;
        out->end_ms = (int64_t)llround(end * 1000);
    }
    return 0;
}

int rn_outage_refine_fetch(const char *path, int64_t from_s, int64_t to_s, rn_outage_side_t *side)
{
    time_t start = (time_t)from_s, end = (time_t)to_s;
    unsigned long step = 1, n_ds = 0;
    char **names = NULL;
    rrd_value_t *data = NULL;
    memset(side, 0, sizeof *side);
    if (access(path, R_OK) != 0)
        return -ENOENT;
    if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &n_ds, &names, &data) != 0) {
        rrd_clear_error();
        return -EIO;
    }
    size_t rows = step ? (size_t)((end - start) / (time_t)step) : 0;
    double *v = step <= MAX_STEP_S ? malloc((rows ? rows : 1) * sizeof *v) : NULL;
    int rc = -EIO;
    for (unsigned long d = 0; v && d < n_ds; d++)
        if (!strcmp(names[d], "loss")) {
            for (size_t r = 0; r < rows; r++)
                v[r] = data[r * n_ds + d];
            rc = 0;
        }
    for (unsigned long d = 0; d < n_ds; d++)
        rrd_freemem(names[d]);
    rrd_freemem(names);
    rrd_freemem(data);
    if (rc) {
        free(v);
        return rc;
    }
    *side = (rn_outage_side_t){ .loss = v, .n = rows, .t0_s = (int64_t)start,
                                .step_s = (int64_t)step };
    return 0;
}

int rn_outage_refine_paths(const rn_rrd_store_t *store, const rn_topology_t *topo,
                           const char *circuit, char *child, char *parent, size_t len)
{
    for (size_t i = 0; circuit && i < topo->n_nodes; i++)
        for (size_t u = 0; u < topo->nodes[i].n_uplinks; u++) {
            const rn_node_t *n = &topo->nodes[i];
            const rn_link_t *l = &n->uplinks[u];
            if (strcmp(l->circuit, circuit) != 0 || !l->remote_node)
                continue;
            int rc = rn_rrd_store_path(store, n->id, RN_SRC_ICMP, "", l->remote_node, child, len);
            return rc ? rc : rn_rrd_store_path(store, l->remote_node, RN_SRC_ICMP, "", n->id,
                                               parent, len);
        }
    return -ENOENT;
}

int rn_outage_refine_files(const char *child, const char *parent, rn_outage_rec_t *o,
                           int64_t now_ms, unsigned flags, rn_outage_span_t *span)
{
    const char *paths[2] = { child, parent };
    rn_outage_side_t sides[2];
    int64_t until_ms = o->ended ? o->end_ms : now_ms;
    for (int i = 0; i < 2; i++)
        if (!paths[i] || rn_outage_refine_fetch(paths[i], o->start_ms / 1000 - 60,
                                                until_ms / 1000 + 60, &sides[i]) != 0)
            memset(&sides[i], 0, sizeof sides[i]);
    rn_outage_span_t sp;
    int mask = 0;
    int found = rn_outage_refine_span(sides, 2, o->start_ms, &sp);
    if (span)
        *span = sp;
    if (found == 0) {
        if (llabs(sp.start_ms - o->start_ms) <= RN_OUTAGE_REFINE_MAX_MS &&
            sp.start_ms != o->start_ms) {
            o->start_ms = sp.start_ms;
            mask |= 1;
        }
        if (sp.have_end && sp.end_ms > o->start_ms) {
            if (o->ended && sp.end_ms != o->end_ms &&
                ((flags & RN_OUTAGE_REFINE_FREE_END) ||
                 llabs(sp.end_ms - o->end_ms) <= RN_OUTAGE_REFINE_MAX_MS)) {
                o->end_ms = sp.end_ms;
                mask |= 2;
            }
        }
    }
    free((void *)sides[0].loss);
    free((void *)sides[1].loss);
    return mask;
}
