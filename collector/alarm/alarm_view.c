/* The engine's state as one view for whole-network listings (alarm_view.h). Node and path
 * answers come from per-node sums taken root-down once, instead of a walk to the root per
 * question: cuts[i] counts the cut nodes from i up to the root, so the cuts strictly below the
 * common ancestor a of i and a service's host h are cuts[i] - cuts[a] and cuts[h] - cuts[a]. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "alarm/alarm_int.h"
#include "alarm/alarm_view.h"

rn_alarm_status_t rn__link_status(const link_st_t *ls)
{
    if (!ls->known)
        return RN_STATUS_UNKNOWN;
    if (ls->flapping)
        return RN_STATUS_FLAPPING;
    if (ls->down)
        return RN_STATUS_DOWN;
    return ls->loss_bad || ls->slow_bad ? RN_STATUS_DEGRADED : RN_STATUS_UP;
}

typedef struct {
    uint32_t *cuts, *depth;
    bool *known; /* some uplink from the node up to the root has evidence */
    bool *done;
    size_t *stack;
} paths_t;

/* Returns true if one of node i's own uplinks has evidence. */
static bool links_known(const rn_alarm_engine_t *e, size_t i)
{
    const rn_impact_node_t *in = &e->ix->nodes[i];
    for (size_t l = in->first_link; l < in->first_link + in->n_links; l++)
        if (e->links[l].known)
            return true;
    return false;
}

/* Fills p for every node: each walk up stops at the first node already done, so O(nodes). */
static void fill_paths(const rn_alarm_engine_t *e, paths_t *p)
{
    const rn_impact_t *ix = e->ix;
    for (size_t i = 0; i < ix->n_nodes; i++) {
        size_t sp = 0;
        for (size_t x = i; x != RN_IMPACT_NONE && !p->done[x] && sp < ix->n_nodes;
             x = ix->nodes[x].parent)
            p->stack[sp++] = x;
        while (sp) {
            size_t x = p->stack[--sp], up = ix->nodes[x].parent;
            bool top = up == RN_IMPACT_NONE;
            p->cuts[x] = (rn__node_cut(e, x) ? 1 : 0) + (top ? 0 : p->cuts[up]);
            p->depth[x] = top ? 0 : p->depth[up] + 1;
            p->known[x] = links_known(e, x) || (!top && p->known[up]);
            p->done[x] = true;
        }
    }
}

/* The common ancestor of a and b (either may be it), or RN_IMPACT_NONE in different trees. */
static size_t common_ancestor(const rn_impact_t *ix, const paths_t *p, size_t a, size_t b)
{
    while (a != RN_IMPACT_NONE && b != RN_IMPACT_NONE && p->depth[a] > p->depth[b])
        a = ix->nodes[a].parent;
    while (a != RN_IMPACT_NONE && b != RN_IMPACT_NONE && p->depth[b] > p->depth[a])
        b = ix->nodes[b].parent;
    while (a != RN_IMPACT_NONE && b != RN_IMPACT_NONE && a != b) {
        a = ix->nodes[a].parent;
        b = ix->nodes[b].parent;
    }
    return a == b ? a : RN_IMPACT_NONE;
}

/* Sets v->reaches as rn_alarm_reaches answers: a node reaches a service if the path to one of
 * its hosts has no cut node below their common ancestor. */
static void fill_reaches(const rn_alarm_engine_t *e, const paths_t *p, rn_alarm_view_t *v)
{
    size_t ns = v->n_services;
    for (size_t s = 0; s < ns; s++) {
        const rn_service_t *svc = &e->topo->services[s];
        for (size_t k = 0; k < svc->n_endpoints; k++) {
            size_t h = rn_impact_find_node(e->ix, svc->endpoints[k].node);
            for (size_t i = 0; h != RN_IMPACT_NONE && i < v->n_nodes; i++) {
                size_t a = common_ancestor(e->ix, p, i, h);
                uint32_t above = a == RN_IMPACT_NONE ? 0 : p->cuts[a];
                if (p->cuts[i] == above && p->cuts[h] == above)
                    v->reaches[i * ns + s] = 1;
            }
        }
    }
}

int rn_alarm_view_take(const rn_alarm_engine_t *e, rn_alarm_view_t *v)
{
    const rn_impact_t *ix = e->ix;
    size_t n = ix->n_nodes, ns = e->topo->n_services;
    *v = (rn_alarm_view_t){ .n_nodes = n, .n_services = ns };
    paths_t p = { calloc(n + 1, sizeof *p.cuts), calloc(n + 1, sizeof *p.depth),
                  calloc(n + 1, sizeof *p.known), calloc(n + 1, sizeof *p.done),
                  calloc(n + 1, sizeof *p.stack) };
    v->node = calloc(n + 1, sizeof *v->node);
    v->link = calloc(ix->n_links + 1, sizeof *v->link);
    v->first_link = calloc(n + 1, sizeof *v->first_link);
    v->reaches = calloc(n * ns + 1, 1);
    int rc = 0;
    if (!p.cuts || !p.depth || !p.known || !p.done || !p.stack || !v->node || !v->link ||
        !v->first_link || !v->reaches) {
        rn_alarm_view_free(v);
        rc = -ENOMEM;
        goto out;
    }
    fill_paths(e, &p);
    for (size_t l = 0; l < ix->n_links; l++)
        v->link[l] = rn__link_status(&e->links[l]);
    for (size_t i = 0; i < n; i++) {
        const node_st_t *st = &e->nodes[i];
        v->first_link[i] = ix->nodes[i].first_link;
        if (p.cuts[i])
            v->node[i] = RN_STATUS_DOWN;
        else if (st->silent)
            v->node[i] = RN_STATUS_SILENT;
        else
            v->node[i] = st->seen || p.known[i] ? RN_STATUS_UP : RN_STATUS_UNKNOWN;
    }
    fill_reaches(e, &p, v);
out:
    free(p.cuts);
    free(p.depth);
    free(p.known);
    free(p.done);
    free(p.stack);
    return rc;
}

void rn_alarm_view_free(rn_alarm_view_t *v)
{
    free(v->node);
    free(v->link);
    free(v->first_link);
    free(v->reaches);
    *v = (rn_alarm_view_t){ 0 };
}
