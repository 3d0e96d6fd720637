/* Records the alarm engine's events in the event store: every state change in the alarm's
 * history, and outages (the source of truth for SLA reports) for root alarms that take a link or
 * a node off the network. Symptoms get history but no outage of their own: their downtime is the
 * root's, charged to the root link's vendor only.
 *
 * It also keeps the outage ledger (docs/outages.md), once rn_alarm_log_start() ran:
 *  - refinement: a link outage that closes is refined from both ends' probe files
 *    (outage_refine.h) 5 s, 30 s and 120 s after it closed (the first once the rounds around the
 *    heal are written, the later ones once a cut-off agent's spool has replayed), and the result
 *    is written back into the row (rn_event_store_outage_refine), marked refined;
 *  - restart reconciliation: outages a killed collector left open are adopted by the engine's
 *    new alarm for the same entity (one row per cut), or closed at the first good round the
 *    probe files show, or, with no evidence RN_ALARM_LOG_RECONCILE_MS after the restart, at the
 *    restart; the previous run's alarms are cleared (superseded).
 * Loop thread only; the probe files are read on the libuv pool. */
#ifndef RN_ALARM_LOG_H
#define RN_ALARM_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "alarm/alarm.h"
#include "events/event_store.h"
#include "series/rrd_store.h"
#include "topology.h"

#define RN_ALARM_LOG_RECONCILE_MS 120000 /* an open row from before a restart with no evidence
                                           * either way by then is closed at the restart */

struct rn__ledger_entry;

/* Which alarms already have a row, so an alarm re-parented after it was raised is not written
 * twice: a bitmap from base, the first id this run issues (set by the collector before the
 * first event: alarms are published out of id order, so the first id seen is not the lowest). */
typedef struct {
    rn_event_store_t *store;  /* borrowed */
    uint64_t base;            /* the first id this run issues (0: the first one seen) */
    uint8_t *written;         /* bit i: alarm base + i has a row */
    size_t bytes;
    /* the outage ledger, set by rn_alarm_log_start (all NULL/0 before: no ledger) */
    uv_loop_t *loop;
    rn_rrd_store_t **rrd;     /* the collector's fields, read when a refinement starts */
    rn_topology_t **topo;
    rn_alarm_engine_t **engine;
    int phase;                /* 0 no ledger, 1 loading the previous run's rows, 2 running */
    int64_t restart_ms;       /* when rn_alarm_log_start ran */
    struct rn__ledger_entry *entries; /* orphans, adopted rows, closed rows to refine, and
                                        * outages raised while loading */
    size_t works;             /* refinements on the pool */
} rn_alarm_log_t;

/* Queues the writes for one engine event (fire and forget: failures are logged by the store). */
void rn_alarm_log(rn_alarm_log_t *log, rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                  int64_t at_ms);

/* Starts the ledger: loads the alarms and outages the last run left open (asynchronously; the
 * outages raised meanwhile wait for them). The pointers are the collector's fields, read on the
 * loop thread whenever needed (a reload may replace *topo). Returns 0 or a negative errno. */
int rn_alarm_log_start(rn_alarm_log_t *log, uv_loop_t *loop, rn_rrd_store_t **rrd,
                       rn_topology_t **topo, rn_alarm_engine_t **engine, int64_t now_ms);

/* From the collector's cron (about once a second): starts the refinements that are due and
 * reconciles the rows left open by the last run. */
void rn_alarm_log_tick(rn_alarm_log_t *log, int64_t now_ms);

/* Frees the ledger. Refinements still on the pool finish without writing (store gone). */
void rn_alarm_log_free(rn_alarm_log_t *log);

/* Replaces the engine's maintenance windows with the store's (those ending after now_ms minus a
 * day; older ones cannot flag a new alarm), asynchronously: at startup, so a window declared
 * before a restart still marks a cut inside it as planned, and after a window is deleted.
 * *engine is read when the list arrives (NULL: dropped). Returns 0 or a negative errno. */
int rn_alarm_log_load_maintenance(rn_event_store_t *store, rn_alarm_engine_t **engine,
                                  int64_t now_ms);

#endif
