/* The alarm engine's view of the topology (see impact.h): sorted key arrays for lookups, the
 * tree as index links, and the impact of a cut. Built once per loaded topology; read-only after. */
#include "alarm/impact.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rn_impact_if {
    const char *node, *device, *ifname;
    size_t link;
    bool remote;
};

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const rn_impact_key_t *)a)->key, ((const rn_impact_key_t *)b)->key);
}

static int cmp_if(const void *a, const void *b)
{
    const rn_impact_if_t *x = a, *y = b;
    int c = strcmp(x->node, y->node);
    if (!c)
        c = strcmp(x->device, y->device);
    return c ? c : strcmp(x->ifname, y->ifname);
}

/* Returns the idx of key in a sorted key array, or RN_IMPACT_NONE. */
static size_t find_key(const rn_impact_key_t *keys, size_t n, const char *key)
{
    if (!key || !keys)
        return RN_IMPACT_NONE;
    rn_impact_key_t k = { key, 0 };
    const rn_impact_key_t *hit = bsearch(&k, keys, n, sizeof *keys, cmp_key);
    return hit ? hit->idx : RN_IMPACT_NONE;
}

/* FNV-1a of a string. */
static size_t hash_str(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32));
}

/* Fills table (mask + 1 slots) with the indexes 0..n-1 under the keys key_of(i). */
static void hash_fill(size_t *table, size_t mask, size_t n, const char *(*key_of)(const rn_impact_t *,
                      size_t), const rn_impact_t *ix)
{
    for (size_t i = 0; i <= mask; i++)
        table[i] = RN_IMPACT_NONE;
    for (size_t i = 0; i < n; i++) {
        const char *k = key_of(ix, i);
        if (!k)
            continue;
        size_t h = hash_str(k) & mask;
        while (table[h] != RN_IMPACT_NONE && strcmp(key_of(ix, table[h]), k) != 0)
            h = (h + 1) & mask;
        if (table[h] == RN_IMPACT_NONE) /* the first of duplicate keys wins */
            table[h] = i;
    }
}

static const char *node_key(const rn_impact_t *ix, size_t i)
{
    return ix->topo->nodes[i].id;
}

static const char *link_key(const rn_impact_t *ix, size_t i)
{
    return ix->links[i].link->circuit;
}

/* Returns the index stored under key in a table filled by hash_fill, or RN_IMPACT_NONE. */
static size_t hash_find(const rn_impact_t *ix, const size_t *table,
                        const char *(*key_of)(const rn_impact_t *, size_t), const char *key)
{
    if (!key || !table)
        return RN_IMPACT_NONE;
    for (size_t h = hash_str(key) & ix->hash_mask;; h = (h + 1) & ix->hash_mask) {
        size_t i = table[h];
        if (i == RN_IMPACT_NONE || strcmp(key_of(ix, i), key) == 0)
            return i;
    }
}

/* Builds the node and link hash tables (at most half full). Returns 0 or -ENOMEM. */
static int build_hashes(rn_impact_t *ix)
{
    size_t n = ix->n_nodes > ix->n_links ? ix->n_nodes : ix->n_links, slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    ix->hash_mask = slots - 1;
    ix->node_hash = malloc(slots * sizeof *ix->node_hash);
    ix->link_hash = malloc(slots * sizeof *ix->link_hash);
    if (!ix->node_hash || !ix->link_hash)
        return -ENOMEM;
    hash_fill(ix->node_hash, ix->hash_mask, ix->n_nodes, node_key, ix);
    hash_fill(ix->link_hash, ix->hash_mask, ix->n_links, link_key, ix);
    return 0;
}

/* Returns the vendor or SLA class named name in a topology array, or NULL. */
static const void *find_named(const void *arr, size_t n, size_t size, const char *name)
{
    for (size_t i = 0; name && i < n; i++) {
        const void *el = (const char *)arr + i * size;
        if (strcmp(*(char *const *)el, name) == 0) /* every named struct starts with its name */
            return el;
    }
    return NULL;
}

/* Fills nodes[] (parent, children, links) and links[]. Returns 0 or -ENOMEM. */
static int build_tree(rn_impact_t *ix)
{
    const rn_topology_t *t = ix->topo;
    ix->root = RN_IMPACT_NONE;
    for (size_t i = 0; i < t->n_nodes; i++)
        ix->n_links += t->nodes[i].n_uplinks;
    ix->links = calloc(ix->n_links ? ix->n_links : 1, sizeof *ix->links);
    if (!ix->links)
        return -ENOMEM;
    size_t l = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        rn_impact_node_t *n = &ix->nodes[i];
        n->node = &t->nodes[i];
        n->parent = n->first_child = n->next_sibling = RN_IMPACT_NONE;
        n->first_link = l;
        n->n_links = n->node->n_uplinks;
        for (size_t u = 0; u < n->n_links; u++, l++) {
            const rn_link_t *lk = &n->node->uplinks[u];
            ix->links[l] = (rn_impact_link_t){
                lk, i, find_named(t->vendors, t->n_vendors, sizeof *t->vendors, lk->vendor),
                find_named(t->sla_classes, t->n_sla_classes, sizeof *t->sla_classes, lk->sla) };
        }
    }
    /* Children are linked in reverse file order; walk them backwards to keep file order. */
    for (size_t i = t->n_nodes; i-- > 0;) {
        const rn_node_t *p = t->nodes[i].parent;
        if (!p) {
            ix->root = i;
            continue;
        }
        size_t pi = (size_t)(p - t->nodes);
        ix->nodes[i].parent = pi;
        ix->nodes[i].next_sibling = ix->nodes[pi].first_child;
        ix->nodes[pi].first_child = i;
    }
    return 0;
}

/* Adds both ends of every link to ifs[] and sorts them. Returns 0 or -ENOMEM. */
static int build_ifs(rn_impact_t *ix)
{
    ix->ifs = calloc(ix->n_links ? 2 * ix->n_links : 1, sizeof *ix->ifs);
    if (!ix->ifs)
        return -ENOMEM;
    for (size_t l = 0; l < ix->n_links; l++) {
        const rn_link_t *lk = ix->links[l].link;
        const char *local_node = ix->nodes[ix->links[l].node].node->id;
        if (lk->local.device && lk->local.ifname)
            ix->ifs[ix->n_ifs++] = (rn_impact_if_t){ local_node, lk->local.device,
                                                     lk->local.ifname, l, false };
        if (lk->remote_node && lk->remote.device && lk->remote.ifname)
            ix->ifs[ix->n_ifs++] = (rn_impact_if_t){ lk->remote_node, lk->remote.device,
                                                     lk->remote.ifname, l, true };
    }
    qsort(ix->ifs, ix->n_ifs, sizeof *ix->ifs, cmp_if);
    return 0;
}

/* Builds the sorted key arrays. Returns 0 or -ENOMEM. */
static int build_keys(rn_impact_t *ix)
{
    const rn_topology_t *t = ix->topo;
    ix->node_by_id = calloc(t->n_nodes + 1, sizeof *ix->node_by_id);
    ix->link_by_circuit = calloc(ix->n_links + 1, sizeof *ix->link_by_circuit);
    ix->service_by_name = calloc(t->n_services + 1, sizeof *ix->service_by_name);
    if (!ix->node_by_id || !ix->link_by_circuit || !ix->service_by_name)
        return -ENOMEM;
    for (size_t i = 0; i < t->n_nodes; i++)
        ix->node_by_id[i] = (rn_impact_key_t){ t->nodes[i].id, i };
    for (size_t i = 0; i < ix->n_links; i++)
        ix->link_by_circuit[i] = (rn_impact_key_t){ ix->links[i].link->circuit, i };
    for (size_t i = 0; i < t->n_services; i++)
        ix->service_by_name[i] = (rn_impact_key_t){ t->services[i].name, i };
    qsort(ix->node_by_id, t->n_nodes, sizeof *ix->node_by_id, cmp_key);
    qsort(ix->link_by_circuit, ix->n_links, sizeof *ix->link_by_circuit, cmp_key);
    qsort(ix->service_by_name, t->n_services, sizeof *ix->service_by_name, cmp_key);
    return 0;
}

int rn_impact_new(const rn_topology_t *topo, rn_impact_t **out)
{
    *out = NULL;
    rn_impact_t *ix = calloc(1, sizeof *ix);
    if (!ix)
        return -ENOMEM;
    ix->topo = topo;
    ix->n_nodes = topo->n_nodes;
    ix->nodes = calloc(topo->n_nodes + 1, sizeof *ix->nodes);
    int rc = ix->nodes ? build_tree(ix) : -ENOMEM;
    if (!rc)
        rc = build_ifs(ix);
    if (!rc)
        rc = build_keys(ix);
    if (!rc)
        rc = build_hashes(ix);
    if (rc) {
        rn_impact_free(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void rn_impact_free(rn_impact_t *ix)
{
    if (!ix)
        return;
    free(ix->nodes);
    free(ix->links);
    free(ix->ifs);
    free(ix->node_by_id);
    free(ix->link_by_circuit);
    free(ix->service_by_name);
    free(ix->node_hash);
    free(ix->link_hash);
    free(ix);
}

size_t rn_impact_find_node(const rn_impact_t *ix, const char *id)
{
    return hash_find(ix, ix->node_hash, node_key, id);
}

size_t rn_impact_find_link(const rn_impact_t *ix, const char *circuit)
{
    return hash_find(ix, ix->link_hash, link_key, circuit);
}

size_t rn_impact_find_service(const rn_impact_t *ix, const char *name)
{
    return find_key(ix->service_by_name, ix->topo->n_services, name);
}

size_t rn_impact_find_if(const rn_impact_t *ix, const char *node, const char *device,
                         const char *ifname, bool *remote)
{
    if (!node || !device || !ifname)
        return RN_IMPACT_NONE;
    rn_impact_if_t k = { node, device, ifname, 0, false };
    const rn_impact_if_t *hit = bsearch(&k, ix->ifs, ix->n_ifs, sizeof *ix->ifs, cmp_if);
    if (!hit)
        return RN_IMPACT_NONE;
    *remote = hit->remote;
    return hit->link;
}

bool rn_impact_is_under(const rn_impact_t *ix, size_t node, size_t top)
{
    for (size_t i = node; i != RN_IMPACT_NONE; i = ix->nodes[i].parent)
        if (i == top)
            return true;
    return false;
}

int rn_impact_list_add(rn_impact_list_t *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    l->v = v;
    if (!(v[l->n] = strdup(s)))
        return -ENOMEM;
    l->n++;
    return 0;
}

void rn_impact_list_free(rn_impact_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Adds top and its subtree, pre-order, to l. Returns 0 or -ENOMEM. Iterative: the tree may be
 * deep enough (villages) that recursion per node is not worth the risk. */
static int add_subtree(const rn_impact_t *ix, size_t top, rn_impact_list_t *l)
{
    size_t i = top;
    while (i != RN_IMPACT_NONE) {
        if (rn_impact_list_add(l, ix->nodes[i].node->id))
            return -ENOMEM;
        if (ix->nodes[i].first_child != RN_IMPACT_NONE) {
            i = ix->nodes[i].first_child;
            continue;
        }
        while (i != top && ix->nodes[i].next_sibling == RN_IMPACT_NONE)
            i = ix->nodes[i].parent;
        i = i == top ? RN_IMPACT_NONE : ix->nodes[i].next_sibling;
    }
    return 0;
}

/* Returns true if service s has an endpoint inside the subtree of node top. */
static bool service_inside(const rn_impact_t *ix, const rn_service_t *s, size_t top)
{
    for (size_t e = 0; e < s->n_endpoints; e++) {
        size_t host = rn_impact_find_node(ix, s->endpoints[e].node);
        if (host != RN_IMPACT_NONE && rn_impact_is_under(ix, host, top))
            return true;
    }
    return false;
}

int rn_impact_cut(const rn_impact_t *ix, size_t cut, size_t offices, rn_impact_list_t *nodes,
                  rn_impact_list_t *services)
{
    int rc = add_subtree(ix, offices, nodes);
    for (size_t s = 0; !rc && s < ix->topo->n_services; s++)
        if (!service_inside(ix, &ix->topo->services[s], cut))
            rc = rn_impact_list_add(services, ix->topo->services[s].name);
    if (rc) {
        rn_impact_list_free(nodes);
        rn_impact_list_free(services);
    }
    return rc;
}
