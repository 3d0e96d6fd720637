/* Plans: what one agent measures, derived from the topology.
 *
 * An agent's plan holds its node's devices with their SNMP credentials (secrets reach an agent
 * only for its own devices), and ICMP targets: its parent node (the uplink) and the root node
 * (the state data centre, where the services live), so a cut anywhere on the path shows as loss;
 * each carries the SLA limits of its path (the uplinks' classes, latency and jitter limits summed,
 * loss limits combined). Service targets: every endpoint of every service the node does not host
 * itself, one "tcp" target per port and one "http" target per URL, named "<service>-<port>" /
 * "<service>-http" ("<service>-<host node>-..." when a service has several endpoints).
 * Intervals come from the topology's settings. The digest is a SHA-256 of the encoded plan, so an
 * agent and the collector can tell whether a cached plan is current. */
#ifndef RN_PLAN_H
#define RN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "topology.h"

/* Encodes the plan of node_id as a complete wire frame (length prefix included) into a new
 * buffer owned by the caller, and copies its digest (hex, NUL-terminated) into digest.
 * Returns 0, -ENOENT for a node not in the topology, or a negative error. */
int rn_plan_encode(const rn_topology_t *topo, const char *node_id, uint8_t **frame,
                   size_t *frame_len, char digest[65]);

#endif
