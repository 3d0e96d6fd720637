/* Graphs rendered by librrd for GET /api/v1/graph (see http_int.h for the entry points).
 *
 * Views: "traffic" for an interface series (source "if": bits/s in as an area, out as a line,
 * the interface speed as a rule), "rtt" for a probe series (source "icmp": the SmokePing view,
 * RTT min..max as a band around the average line, columns shaded by loss: light up to 5%,
 * orange up to 50%, red above), "jitter" (probe jitter and RTT standard deviation).
 *
 * rrd_graph_v is not thread-safe, so renders run on the libuv pool one at a time, in arrival
 * order; at most RN_GRAPH_QUEUE_MAX wait (then 503). This file and rrd_store.c are the only two
 * that speak librrd: the store writes, this one only reads. */
#ifndef RN_GRAPH_H
#define RN_GRAPH_H

#include <stddef.h>

#define RN_GRAPH_QUEUE_MAX 16

/* Builds the rrd_graph argument vector of a view into argv (at most max entries, strings
 * malloc'd). path is the RRD file; speed_bps <= 0 for none. Returns argc, or -EINVAL for an
 * unknown view, -ENOMEM. Exposed for unit tests. */
int rn_graph_args(const char *view, const char *path, const char *title, const char *format,
                  long long start_s, long long end_s, int width, int height, double speed_bps,
                  char **argv, int max);

/* Escapes ':' and '\' of a file name for an rrd_graph DEF into buf. Returns buf. */
const char *rn_graph_escape(const char *path, char *buf, size_t len);

#endif
