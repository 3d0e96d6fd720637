/* The graphs of an SLA report: per link, its latency (RTT avg and max) and loss over the
 * report's period, drawn by librrd from the link's probe file, with the link's outages (red: a
 * rule at the start, the span shaded) and maintenance windows (blue) marked, and the SLA class's
 * limit as a horizontal rule. PNG, so the HTML embeds them as data: URIs and the PDF as images.
 *
 * Runs on the report's worker thread (report_run.c). rrd_graph_v is not thread-safe, so each
 * render holds rn_rrd_graph_lock() (graph.c), which the dashboard's renders hold too. */
#ifndef RN_REPORT_GRAPH_H
#define RN_REPORT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "events/event_store.h"
#include "report/report.h"

typedef enum { RN_REPORT_GRAPH_LATENCY, RN_REPORT_GRAPH_LOSS } rn_report_graph_kind_t;

/* At most this many outages and maintenance windows are marked on one graph (the first ones). */
#define RN_REPORT_GRAPH_MAX_MARKS 12

/* Builds the rrd_graph argument vector of one graph of L into argv (at most max entries,
 * strings malloc'd; free each). path is L's probe RRD file; maint every maintenance window of
 * the period (those on L's circuit or its node are marked). Returns argc, -EINVAL for an
 * unknown kind, or -ENOMEM (too many entries). Exposed for unit tests. */
int rn_report_graph_args(rn_report_graph_kind_t kind, const rn_report_link_t *L,
                         const char *path, int64_t from_ms, int64_t to_ms,
                         const rn_maintenance_rec_t *maint, size_t n_maint, char **argv, int max);

/* Renders both graphs of L over [from_ms, to_ms) from its probe file path into
 * L->latency_graph and L->loss_graph (replacing nothing: both must be empty). Returns 0,
 * -ENOENT (no such file: L keeps no graphs), -EIO (librrd failed; logged with the file) or
 * -ENOMEM. Call off the loop thread. */
int rn_report_link_graphs(rn_report_link_t *L, const char *path, int64_t from_ms, int64_t to_ms,
                          const rn_maintenance_rec_t *maint, size_t n_maint);

#endif
