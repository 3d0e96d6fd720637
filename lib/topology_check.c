/* The topology's consistency checks, run by the loader (topology.c) once every section is read:
 * the node index and lookups, the tree (one root, parents exist and form no cycle, agentless
 * nodes have an agent above them) and the links (vendors, SLA classes, devices and remote nodes
 * exist; services sit on known nodes). Kept apart from the readers, which only turn YAML into
 * structs. Every failure names file, line and field. */
#include "topology_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "wire.h"

static int cmp_node_id(const void *a, const void *b)
{
    return strcmp((*(rn_node_t *const *)a)->id, (*(rn_node_t *const *)b)->id);
}

static int cmp_key_node(const void *key, const void *elem)
{
    return strcmp(key, (*(rn_node_t *const *)elem)->id);
}

/* Builds t->by_id. Returns the node defined a second time with the lowest line, or NULL when
 * every id is unique (the index is then complete; on allocation failure it stays NULL). */
static const rn_node_t *index_nodes(rn_topology_t *t)
{
    const rn_node_t *dup = NULL;
    t->by_id = malloc((t->n_nodes ? t->n_nodes : 1) * sizeof *t->by_id);
    if (!t->by_id)
        return NULL;
    for (size_t i = 0; i < t->n_nodes; i++)
        t->by_id[i] = &t->nodes[i];
    qsort(t->by_id, t->n_nodes, sizeof *t->by_id, cmp_node_id);
    for (size_t i = 1; i < t->n_nodes; i++) {
        if (strcmp(t->by_id[i - 1]->id, t->by_id[i]->id) != 0)
            continue;
        const rn_node_t *later = t->by_id[i]->line > t->by_id[i - 1]->line ? t->by_id[i]
                                                                             : t->by_id[i - 1];
        if (!dup || later->line < dup->line)
            dup = later;
    }
    return dup;
}

const rn_node_t *rn_topology_node(const rn_topology_t *t, const char *id)
{
    if (t->by_id) {
        rn_node_t **hit = bsearch(id, t->by_id, t->n_nodes, sizeof *t->by_id, cmp_key_node);
        return hit ? *hit : NULL;
    }
    for (size_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].id && strcmp(t->nodes[i].id, id) == 0)
            return &t->nodes[i];
    return NULL;
}

const rn_node_t *rn_topology_root(const rn_topology_t *t)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        if (!t->nodes[i].parent_id)
            return &t->nodes[i];
    return NULL;
}

const char *rn_topology_district(const rn_node_t *n)
{
    for (; n; n = n->parent)
        if (n->tier && strcmp(n->tier, "district") == 0)
            return n->id;
    return NULL;
}

static const rn_device_t *node_device(const rn_node_t *n, const char *name)
{
    for (size_t i = 0; i < n->n_devices; i++)
        if (strcmp(n->devices[i].name, name) == 0)
            return &n->devices[i];
    return NULL;
}

static bool has_named(const void *arr, size_t n, size_t size, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(*(char *const *)((const char *)arr + i * size), name) == 0)
            return true;
    return false;
}

/* Links each node to its parent and checks the tree: one root, parents exist, a path id's
 * parent is its dirname, no cycles. */
int rn__topology_resolve_tree(rn_yaml_t *y, rn_topology_t *t)
{
    char where[512];
    size_t roots = 0;
    const rn_node_t *dup = index_nodes(t);
    if (dup) {
        free(t->by_id);
        t->by_id = NULL;
        snprintf(where, sizeof where, "nodes.%s.parent", dup->id);
        return fail_line(y, dup->line, where, "node '%s' is defined twice", dup->id);
    }
    for (size_t i = 0; i < t->n_nodes && !y->rc; i++) {
        rn_node_t *n = &t->nodes[i];
        snprintf(where, sizeof where, "nodes.%s.parent", n->id);
        const char *slash = strrchr(n->id, '/');
        if (!n->parent_id) {
            if (slash)
                return fail_line(y, n->line, where, "required: the parent of '%s' is '%.*s'",
                                 n->id, (int)(slash - n->id), n->id);
            if (++roots > 1)
                return fail_line(y, n->line, where, "only the root (the state data centre) "
                                 "may have no parent");
            continue;
        }
        if (slash && (strlen(n->parent_id) != (size_t)(slash - n->id) ||
                      strncmp(n->parent_id, n->id, (size_t)(slash - n->id)) != 0))
            return fail_line(y, n->line, where, "'%s' must be the path above '%s'", n->parent_id,
                             n->id);
        n->parent = (rn_node_t *)rn_topology_node(t, n->parent_id);
        if (!n->parent)
            return fail_line(y, n->line, where, "unknown node '%s'", n->parent_id);
    }
    if (!y->rc && roots == 0)
        return fail_line(y, 1, "nodes", "no root node (one node must have no parent)");
    for (size_t i = 0; i < t->n_nodes && !y->rc; i++) {
        size_t depth = 0;
        for (const rn_node_t *p = &t->nodes[i]; p; p = p->parent)
            if (++depth > t->n_nodes)
                return fail_line(y, t->nodes[i].line, "nodes", "parents of '%s' form a cycle",
                                 t->nodes[i].id);
    }
    /* an agentless node is probed and polled by its parent's agent (collector/ingest/plan.h), whose
     * plan must hold its devices with the parent's own */
    size_t *polled = alloc_array(y, t->n_nodes ? t->n_nodes : 1, sizeof *polled);
    for (size_t i = 0; polled && i < t->n_nodes; i++)
        polled[i] = t->nodes[i].agent ? t->nodes[i].n_devices : 0;
    for (size_t i = 0; polled && i < t->n_nodes && !y->rc; i++) {
        const rn_node_t *n = &t->nodes[i];
        snprintf(where, sizeof where, "nodes.%s.agent", n->id);
        if (!n->agent && !n->parent)
            fail_line(y, n->line, where, "the root must run an agent");
        else if (!n->agent && !n->parent->agent)
            fail_line(y, n->line, where, "'%s' has no agent, so its parent '%s' must run one "
                      "(the parent's agent probes and polls it)", n->id, n->parent->id);
        else if (!n->agent && (polled[n->parent - t->nodes] += n->n_devices) > RN_WIRE_MAX_DEVICES)
            fail_line(y, n->line, where, "'%s' and its agentless children have more than %u "
                      "devices, more than one plan holds", n->parent->id, RN_WIRE_MAX_DEVICES);
    }
    free(polled);
    return y->rc;
}

/* Checks every uplink's vendor, SLA class, devices and remote node, and services' nodes. */
int rn__topology_resolve_links(rn_yaml_t *y, rn_topology_t *t)
{
    char where[512];
    for (size_t i = 0; i < t->n_nodes && !y->rc; i++) {
        rn_node_t *n = &t->nodes[i];
        if (n->n_uplinks && !n->parent)
            return fail_line(y, n->uplinks[0].line, "uplinks", "the root node has no uplinks");
        for (size_t j = 0; j < n->n_uplinks && !y->rc; j++) {
            rn_link_t *l = &n->uplinks[j];
            snprintf(where, sizeof where, "nodes.%s.uplinks[%zu]", n->id, j);
            if (!has_named(t->vendors, t->n_vendors, sizeof *t->vendors, l->vendor))
                return fail_line(y, l->line, where, "vendor: unknown vendor '%s'", l->vendor);
            if (!has_named(t->sla_classes, t->n_sla_classes, sizeof *t->sla_classes, l->sla))
                return fail_line(y, l->line, where, "sla: unknown SLA class '%s'", l->sla);
            if (!node_device(n, l->local.device))
                return fail_line(y, l->line, where, "local.device: no device '%s' at node '%s'",
                                 l->local.device, n->id);
            if (!l->remote_node && !(l->remote_node = dup_or_fail(y, n->parent_id)))
                return y->rc;
            const rn_node_t *r = rn_topology_node(t, l->remote_node);
            if (!r)
                return fail_line(y, l->line, where, "remote.node: unknown node '%s'",
                                 l->remote_node);
            if (!node_device(r, l->remote.device))
                return fail_line(y, l->line, where, "remote.device: no device '%s' at node '%s'",
                                 l->remote.device, r->id);
        }
    }
    for (size_t i = 0; i < t->n_services && !y->rc; i++)
        for (size_t j = 0; j < t->services[i].n_endpoints && !y->rc; j++)
            if (!rn_topology_node(t, t->services[i].endpoints[j].node)) {
                snprintf(where, sizeof where, "services.%s.endpoints[%zu].node",
                         t->services[i].name, j);
                return fail_line(y, 1, where, "unknown node '%s'",
                                 t->services[i].endpoints[j].node);
            }
    return y->rc;
}
