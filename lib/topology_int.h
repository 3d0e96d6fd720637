/* Internals of the topology loader shared by topology.c (the network) and topology_cctv.c
 * (police stations' cameras). Not part of the contract: include topology.h. */
#ifndef RN_TOPOLOGY_INT_H
#define RN_TOPOLOGY_INT_H

#include "topology.h"
#include "yamldoc.h"

/* Reads node n's `stations:` sequence (found at where, e.g. "nodes.jaipur.stations") into
 * n->stations; n->agent must be set already. Returns y->rc (the first error sticks). */
int rn__topology_read_stations(rn_yaml_t *y, yaml_node_t *seq, const char *where, rn_node_t *n);

/* Checks that station names are unique across the topology. Returns y->rc. */
int rn__topology_check_stations(rn_yaml_t *y, const rn_topology_t *t);

/* Frees n's stations (safe on a partly read node). */
void rn__topology_free_stations(rn_node_t *n);

#endif
