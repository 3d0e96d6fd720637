/* The topology as the alarm engine needs it: a read-only index over one loaded rn_topology_t
 * (node by id, link by circuit, link end by (node, device, ifname), service by name, the tree as
 * parent/child indexes) and the impact of a cut: which offices and which services it cuts off.
 *
 * Why a separate index: rn_topology_node() is a linear search, and the engine looks up a node,
 * a link or an interface for every sample of ~10,000 nodes. Here nodes and links are found
 * through hash tables, interfaces and services by binary search over arrays sorted once when the
 * index is built.
 *
 * The impact rule (docs/architecture.md, "The network it models"): a service is reachable from
 * a node only if every link on the
 * path to one of the service's hosts is up. So when node C is cut from its parent, every office
 * in C's subtree loses every service that has no endpoint inside that subtree.
 *
 * Ownership: the index borrows the topology; it must not outlive it. Lists returned by
 * rn_impact_cut() own their strings (copies), so they survive a topology reload. */
#ifndef RN_IMPACT_H
#define RN_IMPACT_H

#include <stdbool.h>
#include <stddef.h>

#include "topology.h"

#define RN_IMPACT_NONE ((size_t)-1)

typedef struct {
    const rn_node_t *node;
    size_t parent;               /* RN_IMPACT_NONE for the root */
    size_t first_child, next_sibling; /* the tree, RN_IMPACT_NONE-terminated */
    size_t first_link, n_links;  /* this node's uplinks, in rn_impact_t.links */
} rn_impact_node_t;

typedef struct {
    const rn_link_t *link;
    size_t node;                 /* the child node whose uplink this is (the link's local end) */
    const rn_vendor_t *vendor;   /* NULL if the topology names none */
    const rn_sla_class_t *sla;   /* NULL if the topology names none */
} rn_impact_link_t;

typedef struct {
    const char *key;
    size_t idx;
} rn_impact_key_t;

typedef struct rn_impact_if rn_impact_if_t;

typedef struct {
    const rn_topology_t *topo;
    rn_impact_node_t *nodes;     /* same order as topo->nodes */
    size_t n_nodes, root;
    rn_impact_link_t *links;     /* grouped by node, in node order */
    size_t n_links;
    rn_impact_key_t *node_by_id, *link_by_circuit, *service_by_name; /* sorted by key */
    rn_impact_if_t *ifs;         /* link ends sorted by (node, device, ifname) */
    size_t n_ifs;
    size_t *node_hash, *link_hash; /* open addressing over ids / circuits: an index or NONE */
    size_t hash_mask;              /* both tables have hash_mask + 1 slots */
} rn_impact_t;

/* A list of strings the caller owns; free with rn_impact_list_free(). */
typedef struct {
    char **v;
    size_t n;
} rn_impact_list_t;

/* Builds the index of topo (borrowed). Returns 0 or -ENOMEM. */
int rn_impact_new(const rn_topology_t *topo, rn_impact_t **out);

void rn_impact_free(rn_impact_t *ix);

/* Returns the index of node id, link circuit or service name, or RN_IMPACT_NONE. */
size_t rn_impact_find_node(const rn_impact_t *ix, const char *id);
size_t rn_impact_find_link(const rn_impact_t *ix, const char *circuit);
size_t rn_impact_find_service(const rn_impact_t *ix, const char *name);

/* Returns the link one of whose ends is interface ifname of device at node, or RN_IMPACT_NONE;
 * *remote is set to true for the parent's end. */
size_t rn_impact_find_if(const rn_impact_t *ix, const char *node, const char *device,
                         const char *ifname, bool *remote);

/* Returns true if node lies in the subtree of top (top itself included). */
bool rn_impact_is_under(const rn_impact_t *ix, size_t node, size_t top);

/* Computes what a cut above node `cut` takes away from the offices of the subtree of `offices`
 * (which lies in cut's subtree): nodes gets the offices (subtree of `offices`, pre-order),
 * services the services with no endpoint in cut's subtree, in topology order. Returns 0 or
 * -ENOMEM (lists then empty). */
int rn_impact_cut(const rn_impact_t *ix, size_t cut, size_t offices, rn_impact_list_t *nodes,
                  rn_impact_list_t *services);

/* Appends a copy of s to l. Returns 0 or -ENOMEM. */
int rn_impact_list_add(rn_impact_list_t *l, const char *s);

void rn_impact_list_free(rn_impact_list_t *l);

#endif
