/* One consistent picture of every node's and link's status and of every node's path to every
 * service, taken from the alarm engine in one pass. Listings of the whole network (GET
 * /api/v1/nodes, /metrics) used to ask rn_alarm_node_status and rn_alarm_reaches per node: each
 * call hashes the id and walks the path to the root, ~64,000 walks for the full state's 9,204
 * nodes and 7 services, a third of the answer's time (docs/architecture.md, "HTTP on the loop").
 * The view gives the same answers as those calls, indexed like the topology. */
#ifndef RN_ALARM_VIEW_H
#define RN_ALARM_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "alarm/alarm.h"

typedef struct {
    size_t n_nodes, n_services;
    rn_alarm_status_t *node;  /* per topology node: rn_alarm_node_status */
    rn_alarm_status_t *link;  /* per uplink, node by node in topology order: rn_alarm_link_status */
    size_t *first_link;       /* per node: index of its first uplink in link[] */
    uint8_t *reaches;         /* n_nodes x n_services, node-major: rn_alarm_reaches == 1 */
} rn_alarm_view_t;

/* Takes the view of e now. Returns 0 or -ENOMEM (then *v is empty and needs no free). */
int rn_alarm_view_take(const rn_alarm_engine_t *e, rn_alarm_view_t *v);

void rn_alarm_view_free(rn_alarm_view_t *v);

/* The status of node i's k-th uplink. */
static inline rn_alarm_status_t rn_alarm_view_link(const rn_alarm_view_t *v, size_t i, size_t k)
{
    return v->link[v->first_link[i] + k];
}

/* True if node i reaches service s (topology indexes). */
static inline int rn_alarm_view_reaches(const rn_alarm_view_t *v, size_t i, size_t s)
{
    return v->reaches[i * v->n_services + s];
}

#endif
