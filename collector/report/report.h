/* SLA reports to link vendors: per link availability, downtime, outages, MTTR, latency/loss/
 * jitter percentiles against the SLA class's limits, breach flags and the penalty; per vendor
 * totals. This module only computes (no I/O, no clock, no librrd): report_run.c gathers the
 * inputs off the loop thread, report_graph.c draws each link's graphs into the result, and
 * report_csv.c / report_html.c / report_pdf.c render it, all three walking the column tables of
 * report_columns.h: every figure, comparison and breach a rendering shows is a field here.
 *
 * The rules (the same ones vendors are paid on):
 *  - the period is [from_ms, to_ms); planned maintenance is the union of the windows on the
 *    link's circuit or on the node at its lower end, clipped to the period;
 *  - availability = (period - maintenance - downtime) / (period - maintenance) * 100;
 *  - downtime comes only from outages whose root cause is this link (outage circuit, or entity,
 *    equals the link's circuit) and that are not marked planned. Symptoms never own an outage
 *    (alarm_log.c), so a block's downtime caused by the district link above it is charged to the
 *    district link's vendor only. Node outages without a circuit (a node isolated with several
 *    uplinks, a node down) are not charged to any vendor;
 *  - an outage is clipped to the period (an open one counts until now_ms) and its time inside
 *    maintenance is removed; one whose whole length is under the class's min_outage_s is listed
 *    but not counted; overlapping outages of one link are counted once;
 *  - with partial_loss_counts, intervals of loss degradation of the link (given by the caller)
 *    count as down like outages;
 *  - MTTR is the mean charged duration of counted outages; a restore breach is a counted outage
 *    longer than the class's S1 restore target (link down is S1);
 *  - penalty: the first slab (availability descending) with availability >= slab.availability
 *    gives pct; below every slab, the last slab's pct; amount = pct / 100 * monthly_charge.
 *
 * Beside the links, each service's availability, the view of the department that owns it:
 * downtime is the time the service was down at its host (root "service down" alarms: every
 * office that checks it failed while their paths were fine), merged, clipped to the period,
 * outside maintenance windows on the service's name or its host node. A service unreachable
 * from some offices because of a link is the link's downtime, not the service's. */
#ifndef RN_REPORT_H
#define RN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "events/event_store.h"
#include "topology.h"

/* An interval of loss degradation of a circuit (partial_loss_counts). */
typedef struct {
    const char *circuit;
    int64_t start_ms, end_ms;
} rn_report_interval_t;

/* A spell of a service down at its host (a root SERVICE_DOWN alarm; end_ms: now if open). */
typedef struct {
    const char *service;
    int64_t start_ms, end_ms;
} rn_report_svc_down_t;

/* Percentiles of one metric over the period; have is false when there was no data. */
typedef struct {
    bool have;
    double p50, p95;
} rn_report_pct_t;

typedef struct {
    const char *circuit;
    rn_report_pct_t latency_ms, loss_pct, jitter_ms;
} rn_report_perf_t;

/* What a report is computed from. Everything is borrowed for the call. */
typedef struct {
    const rn_outage_rec_t *outages;
    size_t n_outages;
    const rn_maintenance_rec_t *maint;
    size_t n_maint;
    const rn_report_interval_t *degraded;
    size_t n_degraded;
    const rn_report_perf_t *perf;
    size_t n_perf;
    const rn_report_svc_down_t *service_down;
    size_t n_service_down;
    int64_t now_ms;             /* open outages count until here */
} rn_report_input_t;

typedef struct {
    int64_t start_ms, end_ms;   /* clipped to the period */
    bool open;                  /* still open at now_ms */
    double duration_s;          /* charged: clipped, maintenance removed */
    bool counted;               /* false: shorter than min_outage_s */
    char *root_cause;
} rn_report_outage_t;

/* A PNG image in memory (data NULL: none). */
typedef struct {
    unsigned char *data;
    size_t len;
} rn_report_png_t;

typedef struct {
    char *node, *circuit, *vendor, *sla, *kind;
    double monthly_charge;
    double period_s, maintenance_s, downtime_s, availability_pct, target_pct;
    size_t n_outages;           /* counted */
    double mttr_s, longest_s;
    rn_report_outage_t *outages; /* every outage that touched the period, by start */
    size_t n_listed;
    rn_report_perf_t perf;      /* circuit points to this link's circuit */
    double max_latency_ms, max_loss_pct, max_jitter_ms, restore_s;
    bool breach_availability, breach_latency, breach_loss, breach_jitter, breach_restore;
    double penalty_pct, penalty_amount;
    /* The period's graphs from the link's probe file (report_graph.c; none without the file):
     * latency (RTT avg and max) and loss, outages and maintenance marked. Owned: freed by
     * rn_report_free. The renderers embed them (HTML: data: URIs; PDF: images). */
    rn_report_png_t latency_graph, loss_graph;
} rn_report_link_t;

typedef struct {
    char *name, *display, *contact;
    size_t n_links, n_outages, n_breached;
    double downtime_s, charge, penalty_amount;
} rn_report_vendor_t;

/* One service's month (see the rules above). */
typedef struct {
    char *name, *kind, *host;
    double period_s, maintenance_s, downtime_s, availability_pct, longest_s;
    size_t n_outages;           /* spells down that touched the period */
} rn_report_service_t;

typedef struct {
    int64_t from_ms, to_ms;
    rn_report_service_t *services; /* every service of the topology, in its order */
    size_t n_services;
    rn_report_link_t *links;    /* by vendor, then node */
    size_t n_links;
    rn_report_vendor_t *vendors;
    size_t n_vendors;
} rn_report_t;

/* Computes the report of [from_ms, to_ms) for every link of topo (vendor NULL) or of one vendor.
 * Returns 0 and *out (free with rn_report_free), -EINVAL (empty period, unknown vendor) or
 * -ENOMEM. The result copies what it keeps. */
int rn_report_compute(const rn_topology_t *topo, const rn_report_input_t *in, int64_t from_ms,
                      int64_t to_ms, const char *vendor, rn_report_t **out);

void rn_report_free(rn_report_t *r);

/* The penalty pct of an availability under a table (see the rules above); 0 without slabs. */
double rn_report_penalty_pct(const rn_penalty_slab_t *slabs, size_t n, double availability);

/* Parses "YYYY-MM" into the month's [from_ms, to_ms) in UTC. Returns 0 or -EINVAL. */
int rn_report_month(const char *month, int64_t *from_ms, int64_t *to_ms);

/* Percentiles (nearest rank) of n values; NaNs are skipped. values is reordered. */
rn_report_pct_t rn_report_percentiles(double *values, size_t n);

/* Renderers (report_csv.c, report_html.c, report_pdf.c). vendor NULL: every vendor. Each
 * returns 0 or a negative errno. */
int rn_report_csv(const rn_report_t *r, const char *vendor, FILE *f);
int rn_report_html(const rn_report_t *r, const char *vendor, FILE *f);
int rn_report_pdf(const rn_report_t *r, const char *vendor, const char *path);

#endif
