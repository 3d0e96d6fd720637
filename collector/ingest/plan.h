/* Plans: what one agent measures, derived from the topology.
 *
 * An agent's plan holds its node's devices with their SNMP credentials (secrets reach an agent
 * only for its own devices and those of its agentless children), and ICMP targets: its parent
 * node (the uplink) and the root node (the state data centre, where the services live), so a cut
 * anywhere on the path shows as loss; each carries the SLA limits of its path (the uplinks'
 * classes, latency and jitter limits summed, loss limits combined).
 *
 * Downward evidence: RajNet links fail as black holes and most offices reach the collector over
 * the very uplink that failed, so a cut-off node is silent and the evidence must come from above.
 * Every agent therefore also probes each child node (IcmpTarget.child set; name = the child's
 * id, address = its first device's, the limits of the one hop: the child's uplink class), and
 * polls the devices of its agentless children (topology `agent: false`, typically villages)
 * across the link: they go in Plan.child_devices with Device.node = the child's id, and their
 * samples come back with Sample.node set (see rn_plan_agentless_child). The plan of an agentless
 * node itself (should an agent connect for it all the same) holds no devices: they are its
 * parent's to poll, and two pollers would write the same files.
 *
 * Service targets: every endpoint of every service the node does not host itself, one "tcp"
 * target per port and one "http" target per URL, named "<service>-<port>" / "<service>-http"
 * ("<service>-<host node>-..." when a service has several endpoints).
 * Police station cameras: every camera of the node's own stations (topology `stations:`) and of
 * its agentless children's (Camera.node set, their "rtsp" samples tagged with Sample.node),
 * probed with RTSP OPTIONS by its agent (agent/rtsp_probe.h), and pinged: one ICMP target per
 * camera, after the others, named "cam:<station>:<camera>" (no node id has a ':'). A station
 * with a `recording:` interface gets a capture in Plan.recordings, named after the station.
 * Intervals come from the topology's settings. The digest is a SHA-256 of the encoded plan, so an
 * agent and the collector can tell whether a cached plan is current. */
#ifndef RN_PLAN_H
#define RN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

/* The report interval of a police station's recording stream (Plan.recordings; "rec" samples):
 * the RRD step of source "rec" (collector.c) and the collector's staleness (cctv.h). */
#define RN_PLAN_REC_INTERVAL_S 5u

/* Encodes the plan of node_id as a complete wire frame (length prefix included) into a new
 * buffer owned by the caller, and copies its digest (hex, NUL-terminated) into digest.
 * Returns 0, -ENOENT for a node not in the topology, or a negative error. */
int rn_plan_encode(const rn_topology_t *topo, const char *node_id, uint8_t **frame,
                   size_t *frame_len, char digest[65]);

/* Returns the service whose probe target a "tcp" or "http" sample's object names (see
 * add_service in plan.c: "<service>[-<host>]-<port>|http"), the longest name that matches, or
 * NULL. */
const rn_service_t *rn_plan_service_of_object(const rn_topology_t *topo, const char *object);

/* Returns the node node_id if it is an agentless child of agent_node (its parent is agent_node
 * and it runs no agent: its devices are in agent_node's plan), else NULL: whether a sample with
 * Sample.node = node_id from agent_node's agent may be stored under node_id. */
const rn_node_t *rn_plan_agentless_child(const rn_topology_t *topo, const char *agent_node,
                                         const char *node_id);

/* The series a node's plan asks for, as the collector's ingest screen checks them (ingest.h):
 *  - "if" on each plan device, any object (interfaces are found by the agent's walk);
 *  - "gauge"/"counter" on each plan device, object one of that device's extra SNMP objects;
 *  - "icmp" with object an ICMP target, "udpecho" an echo peer, "tcp"/"http" a service target's
 *    object, and each capture source ("rtp", "tcphs", "pcap") a capture's name; device "";
 *  - "rtsp" with device a police station and object one of its cameras (Plan.cameras), with
 *    Sample.node the station's node when that is an agentless child.
 * A device's series carry the device's node (Sample.node) for an agentless child's devices and
 * none for the node's own. Immutable once built: rebuild it when the topology changes. */
typedef struct rn_plan_series rn_plan_series_t;

/* Builds the series set of node_id's plan into *out (free with rn_plan_series_free). Returns 0,
 * -ENOENT for a node not in the topology, or -ENOMEM. */
int rn_plan_series_new(const rn_topology_t *topo, const char *node_id, rn_plan_series_t **out);

/* Returns whether s allows the series (node: Sample.node, NULL or "" for the node's own;
 * source, device and object as the sample names them). */
bool rn_plan_series_allows(const rn_plan_series_t *s, const char *node, const char *source,
                           const char *device, const char *object);

/* Frees s (NULL is fine). */
void rn_plan_series_free(rn_plan_series_t *s);

#endif
