/* Records the alarm engine's events in the event store: every state change in the alarm's
 * history, and outages (the source of truth for SLA reports) for root alarms that take a link or
 * a node off the network. Symptoms get history but no outage of their own: their downtime is the
 * root's, charged to the root link's vendor only. */
#ifndef RN_ALARM_LOG_H
#define RN_ALARM_LOG_H

#include <stdint.h>

#include "alarm.h"
#include "event_store.h"

/* Which alarms already have a row, so an alarm re-parented after it was raised is not written
 * twice. Ids are issued in order, so a bitmap from the first id seen is enough. */
typedef struct {
    rn_event_store_t *store;  /* borrowed */
    uint64_t base;            /* the first id seen, 0 before any */
    uint8_t *written;         /* bit i: alarm base + i has a row */
    size_t bytes;
} rn_alarm_log_t;

/* Queues the writes for one engine event (fire and forget: failures are logged by the store). */
void rn_alarm_log(rn_alarm_log_t *log, rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                  int64_t at_ms);

void rn_alarm_log_free(rn_alarm_log_t *log);

/* Replaces the engine's maintenance windows with the store's (those ending after now_ms minus a
 * day; older ones cannot flag a new alarm), asynchronously: at startup, so a window declared
 * before a restart still marks a cut inside it as planned, and after a window is deleted.
 * *engine is read when the list arrives (NULL: dropped). Returns 0 or a negative errno. */
int rn_alarm_log_load_maintenance(rn_event_store_t *store, rn_alarm_engine_t **engine,
                                  int64_t now_ms);

#endif
