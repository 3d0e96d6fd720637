/* Event store schema: an ordered array of migrations (migration i brings PRAGMA user_version
 * i-1 to i), applied by event_sql.c at open, each in one transaction. The layout of every table
 * is here and nowhere else; event_store.h says what the store keeps and why. */
#include <stddef.h>

#include "events/event_store_int.h"

/* ---- schema ---------------------------------------------------------------------------------
 * Times are Unix milliseconds (INTEGER); booleans are 0/1; ids are the alarm engine's (alarms) or
 * SQLite's rowids (the rest). JSON columns hold arrays as text, checked with json_valid(). */
/* v5: a stored severity in the vocabulary's words, from any older spelling of the column col. */
#define RN_SEVERITY_SQL(col)                                                                       \
    "CASE lower(" col ") WHEN 'critical' THEN 'S1' WHEN 's1' THEN 'S1' WHEN '1' THEN 'S1'"        \
    " WHEN 'major' THEN 'S2' WHEN 's2' THEN 'S2' WHEN '2' THEN 'S2'"                            \
    " WHEN 'minor' THEN 'S3' WHEN 's3' THEN 'S3' WHEN '3' THEN 'S3' ELSE " col " END"

static const char *const migrations[] = {
    /* v1: the Alarms issue: alarms with their history, outages, maintenance windows. */
    "CREATE TABLE alarms ("
    " id INTEGER PRIMARY KEY,"              /* assigned by the alarm engine */
    " type TEXT NOT NULL,"                  /* link_down, node_silent, service_unreachable, ... */
    " severity TEXT NOT NULL,"              /* current severity (raise, then escalations) */
    " entity TEXT NOT NULL,"                /* what is affected: link:<circuit>, node:<id>, ... */
    " node TEXT, vendor TEXT, circuit TEXT," /* where observed; the link's vendor and circuit */
    " root_id INTEGER REFERENCES alarms(id)," /* NULL: a root alarm; else its root */
    " text TEXT NOT NULL DEFAULT '',"       /* one line for a human */
    " impact_nodes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(impact_nodes)),"
    " impact_services TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(impact_services)),"
    " raised_at_ms INTEGER NOT NULL,"
    " cleared_at_ms INTEGER,"               /* NULL while active */
    " planned INTEGER NOT NULL DEFAULT 0 CHECK (planned IN (0, 1)),"
    " acked_by TEXT, acked_at_ms INTEGER, ack_comment TEXT);" /* the last acknowledgement */
    "CREATE INDEX alarms_active ON alarms(raised_at_ms) WHERE cleared_at_ms IS NULL;"
    "CREATE INDEX alarms_raised ON alarms(raised_at_ms);"
    "CREATE INDEX alarms_cleared ON alarms(cleared_at_ms);"
    "CREATE INDEX alarms_root ON alarms(root_id) WHERE root_id IS NOT NULL;"
    "CREATE INDEX alarms_entity ON alarms(entity, raised_at_ms);"
    "CREATE TABLE alarm_events ("
    " id INTEGER PRIMARY KEY,"              /* order of the history */
    " alarm_id INTEGER NOT NULL REFERENCES alarms(id),"
    " kind TEXT NOT NULL CHECK (kind IN ('raised', 'escalated', 'symptom_of', 'promoted',"
    "  'cleared', 'acknowledged', 'comment')),"
    " at_ms INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"                 /* 'engine' or the operator */
    " severity TEXT,"                       /* raised, escalated: the severity from then on */
    " root_id INTEGER,"                     /* symptom_of: the root alarm */
    " detail TEXT NOT NULL DEFAULT '');"    /* the comment, the reason */
    "CREATE INDEX alarm_events_alarm ON alarm_events(alarm_id, id);"
    "CREATE TABLE outages ("
    " id INTEGER PRIMARY KEY,"
    " alarm_id INTEGER NOT NULL REFERENCES alarms(id)," /* the root alarm that caused it */
    " entity TEXT NOT NULL,"                /* the link or node that was out */
    " kind TEXT NOT NULL CHECK (kind IN ('link', 'node')),"
    " vendor TEXT, circuit TEXT,"           /* who the outage is attributed to */
    " root_cause TEXT NOT NULL DEFAULT '',"
    " start_ms INTEGER NOT NULL,"
    " end_ms INTEGER CHECK (end_ms IS NULL OR end_ms >= start_ms)," /* NULL: still out */
    " planned INTEGER NOT NULL DEFAULT 0 CHECK (planned IN (0, 1)),"
    " UNIQUE (alarm_id, entity));"
    "CREATE INDEX outages_start ON outages(start_ms);"
    "CREATE INDEX outages_end ON outages(end_ms);"          /* overlap: end > from or NULL */
    "CREATE INDEX outages_entity ON outages(entity, start_ms);"
    "CREATE TABLE maintenance ("
    " id INTEGER PRIMARY KEY,"
    " entity TEXT NOT NULL,"                /* link:<circuit>, node:<id> */
    " start_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL CHECK (end_ms > start_ms)," /* the window is [start, end) */
    " reason TEXT NOT NULL DEFAULT '',"
    " created_by TEXT NOT NULL,"
    " created_at_ms INTEGER NOT NULL);"
    "CREATE INDEX maintenance_start ON maintenance(start_ms);"
    "CREATE INDEX maintenance_end ON maintenance(end_ms);",
    /* v2: the collector issue: delivery state per node, the audit log of operator writes. */
    "CREATE TABLE node_delivery ("
    " node TEXT PRIMARY KEY,"               /* node id (a path) */
    " acked_seq INTEGER NOT NULL"           /* every batch <= this is stored */
    ") WITHOUT ROWID;"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " at_ms INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"                 /* who */
    " role TEXT NOT NULL DEFAULT '',"       /* as what */
    " action TEXT NOT NULL,"                /* ack, maintenance_add, ... */
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_at ON audit(at_ms);",
    /* v3: the outage ledger (docs/outages.md): rows whose start and end the collector refined
     * from both ends' probe files, so the report takes them as they are. */
    "ALTER TABLE outages ADD COLUMN refined INTEGER NOT NULL DEFAULT 0"
    " CHECK (refined IN (0, 1));",
    /* v4: the asset register (collector/assets/assets.h), so that it survives a restart and a box
     * swapped while the collector was down is still seen as replaced. */
    "CREATE TABLE asset_inventory ("
    " node TEXT NOT NULL, device TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL,"         /* when the agent last reported it */
    " inventory BLOB NOT NULL,"             /* the Rn__Inventory message, protobuf-encoded */
    " PRIMARY KEY (node, device)) WITHOUT ROWID;"
    "CREATE TABLE asset_replaced ("
    " id INTEGER PRIMARY KEY,"              /* order of the history */
    " node TEXT NOT NULL, device TEXT NOT NULL,"
    " at_ms INTEGER NOT NULL,"
    " idx INTEGER NOT NULL,"                /* entPhysicalIndex: the slot */
    " name TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '',"
    " old_serial TEXT NOT NULL, new_serial TEXT NOT NULL);"
    "CREATE INDEX asset_replaced_device ON asset_replaced(node, device, id);",
    /* v5: one vocabulary (collector/alarm/alarm.h, "VOCABULARY"): rows written before it say
     * "link down", "VC quality low", "certificate expiring" and severities "critical".."minor"
     * or "1".."3"; they are rewritten to "link_down", "vc_quality", "cert_expiring" and
     * "S1".."S3" (rn_alarm_type_parse and rn_alarm_severity_parse take the same words). A
     * word in no list (a newer collector's) is left as it is. The list is this version's and
     * stays as it is when the vocabulary grows: a migration is history, not a second table. */
    "CREATE TEMP TABLE v5_types (old TEXT PRIMARY KEY, new TEXT NOT NULL);"
    "INSERT INTO v5_types VALUES"
    " ('link down', 'link_down'),"
    " ('link degraded', 'link_degraded'),"
    " ('link flapping', 'link_flapping'),"
    " ('node silent', 'node_silent'),"
    " ('node isolated', 'node_isolated'),"
    " ('redundancy lost', 'redundancy_lost'),"
    " ('service unreachable', 'service_unreachable'),"
    " ('path lost', 'path_lost'),"
    " ('VC quality low', 'vc_quality'),"
    " ('VC_quality_low', 'vc_quality'),"
    " ('agent down', 'agent_down'),"
    " ('service down', 'service_down'),"
    " ('certificate expiring', 'cert_expiring'),"
    " ('certificate_expiring', 'cert_expiring'),"
    " ('device replaced', 'device_replaced'),"
    " ('contract expiring', 'contract_expiring'),"
    " ('camera offline', 'camera_offline');"
    "UPDATE alarms SET type = (SELECT new FROM v5_types WHERE old = alarms.type)"
    " WHERE type IN (SELECT old FROM v5_types);"
    "DROP TABLE v5_types;"
    "UPDATE alarms SET severity = " RN_SEVERITY_SQL("severity")
    " WHERE severity <> " RN_SEVERITY_SQL("severity") ";"
    "UPDATE alarm_events SET severity = " RN_SEVERITY_SQL("severity")
    " WHERE severity IS NOT NULL AND severity <> " RN_SEVERITY_SQL("severity") ";",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == RN_EVENT_STORE_VERSION,
               "one migration per schema version");

const char *rn__event_store_migration(int v)
{
    return v >= 1 && v <= RN_EVENT_STORE_VERSION ? migrations[v - 1] : NULL;
}
