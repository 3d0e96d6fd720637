/* Graphs rendered by librrd for GET /api/v1/graph (see http_int.h for the entry points).
 *
 * Views per source (the first is the default):
 *   "if":    "traffic" (bits/s in as an area, out as a line, the interface speed as a rule);
 *   "icmp":  "rtt" (the SmokePing view: RTT min..max as a band around the average line, columns
 *            shaded by loss: light up to 5%, orange up to 50%, red above), "jitter" (probe
 *            jitter and RTT standard deviation);
 *   "rtp":   "mos" (estimated MOS on a fixed 1..5 axis with rules at 4.0 (warn) and 3.6 (bad),
 *            columns shaded by RTP loss as in "rtt"), "loss" (RTP loss %), "jitter" (RFC 3550
 *            jitter ms) of one VC capture;
 *   "tcphs": "handshake" (passive SYN -> SYN/ACK time of the same capture);
 *   "tcp":   "connect" (service probe connect ms, columns red where the probe failed);
 *   "http":  "ttfb" (time to first byte and total ms, failed probes red).
 *
 * rrd_graph_v is not thread-safe, so renders run on the libuv pool one at a time, in arrival
 * order; at most RN_GRAPH_QUEUE_MAX wait (then 503). This file and rrd_store.c are the only two
 * that speak librrd: the store writes, this one only reads. */
#ifndef RN_GRAPH_H
#define RN_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#define RN_GRAPH_QUEUE_MAX 16

/* Builds the rrd_graph argument vector of view of source into argv (at most max entries,
 * strings malloc'd, the caller frees them). path is the RRD file; speed_bps <= 0 for none.
 * source NULL takes the first source that has such a view. Returns argc, or -EINVAL for an
 * unknown (source, view), -ENOMEM (nothing left allocated). */
int rn_graph_source_args(const char *source, const char *view, const char *path,
                         const char *title, const char *format, long long start_s, long long end_s,
                         int width, int height, double speed_bps, char **argv, int max);

/* rn_graph_source_args with source NULL (the "if" and "icmp" views). Exposed for unit tests. */
int rn_graph_args(const char *view, const char *path, const char *title, const char *format,
                  long long start_s, long long end_s, int width, int height, double speed_bps,
                  char **argv, int max);

/* The default view of source, or NULL when source has no graphs. */
const char *rn_graph_default_view(const char *source);

/* True if source has a view of that name. */
bool rn_graph_has_view(const char *source, const char *view);

/* Writes the views of source into buf as "a, b, c" (cut to fit len). Returns how many. */
size_t rn_graph_views_of(const char *source, char *buf, size_t len);

/* Escapes ':' and '\' of a file name for an rrd_graph DEF into buf. Returns buf. */
const char *rn_graph_escape(const char *path, char *buf, size_t len);

/* librrd's graph code is not thread-safe: hold this lock around every rrd_graph_v call in the
 * process (the render queue here, the SLA report's graphs). Never held across anything else. */
void rn_rrd_graph_lock(void);
void rn_rrd_graph_unlock(void);

#endif
