/* Internals of the topology loader shared by topology.c (the network), topology_check.c (its
 * consistency checks) and topology_cctv.c (police stations' cameras). Not part of the contract:
 * include topology.h. */
#ifndef RN_TOPOLOGY_INT_H
#define RN_TOPOLOGY_INT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "topology.h"
#include "yamldoc.h"

/* The error and allocation helpers of the readers and checks: static inline, so each file keeps
 * its short call sites without exporting a symbol. */

/* Reports an error found after reading, at a remembered line. Returns RN_ETOPOLOGY (or the
 * error already recorded in y: the first one sticks). */
static inline int fail_line(rn_yaml_t *y, int line, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int fail_line(rn_yaml_t *y, int line, const char *where, const char *fmt, ...)
{
    if (y->rc)
        return y->rc;
    y->rc = RN_ETOPOLOGY;
    int n = snprintf(y->err, y->err_len, "%s:%d: %s: ", y->file, line, where);
    if (n > 0 && (size_t)n < y->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(y->err + n, y->err_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return y->rc;
}

/* Allocates an array of n zeroed elements; records -ENOMEM in y on failure. Returns it or NULL. */
static inline void *alloc_array(rn_yaml_t *y, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p && !y->rc)
        y->rc = -ENOMEM;
    return p;
}

/* Returns a copy of s, or NULL with -ENOMEM recorded in y. */
static inline char *dup_or_fail(rn_yaml_t *y, const char *s)
{
    char *d = strdup(s);
    if (!d && !y->rc)
        y->rc = -ENOMEM;
    return d;
}

/* Links each node to its parent (building the id index) and checks the tree. Returns y->rc. */
int rn__topology_resolve_tree(rn_yaml_t *y, rn_topology_t *t);

/* Checks every uplink's vendor, SLA class, devices and remote node, and services' nodes; fills
 * in an uplink's remote node (the parent) when it names none. Returns y->rc. */
int rn__topology_resolve_links(rn_yaml_t *y, rn_topology_t *t);

/* Reads node n's `stations:` sequence (found at where, e.g. "nodes.jaipur.stations") into
 * n->stations; n->agent must be set already. Returns y->rc (the first error sticks). */
int rn__topology_read_stations(rn_yaml_t *y, yaml_node_t *seq, const char *where, rn_node_t *n);

/* Checks that station names are unique across the topology. Returns y->rc. */
int rn__topology_check_stations(rn_yaml_t *y, const rn_topology_t *t);

/* Frees n's stations (safe on a partly read node). */
void rn__topology_free_stations(rn_node_t *n);

#endif
