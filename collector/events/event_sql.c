/* Event store, worker side: everything that speaks SQLite. Runs only on the store's worker
 * thread (every statement passes through prep() or exec_script(), which check it).
 *
 * Why a file of its own, and the threading and durability model: event_store_int.h and
 * event_store.h. This file holds (the schema itself is event_schema.c):
 *   - the migrations applied at open, each in one transaction;
 *   - the statement table: every statement the worker runs, by name, prepared once (the name is
 *     what a failure is logged with); strings are always bound, never formatted into SQL;
 *   - the job runners (writes and queries) and the group transaction: BEGIN IMMEDIATE, a
 *     savepoint per job (a failed job is rolled back alone), the delivery state, COMMIT.
 * Errors: an SQLite failure is logged once (repeats of the same failure are not, until a commit
 * succeeds) with the statement's name and sqlite3_errmsg(), and mapped to a negative errno. A full
 * disk is SQLITE_FULL (-ENOSPC): SQLite rolls the transaction back, every job of the group is
 * told, and the store goes on (the next group tries again). */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "events/event_store_int.h"
#include "log.h"

#define BUSY_TIMEOUT_MS 5000    /* another process (rajnetctl, sqlite3 shell) holding a lock */
#define WAL_LIMIT_BYTES 67108864 /* the WAL is truncated to this after a checkpoint */
#define RN_STR_(x) #x
#define RN_STR(x) RN_STR_(x)

/* ---- statements ------------------------------------------------------------------------------
 * Parameters keep one numbering per family so that a runner can bind them all: unused trailing
 * ones are skipped (see bind_*). Alarm events: ?1 alarm, ?2 at, ?3 actor, ?4 detail, ?5 severity,
 * ?6 root, ?7 kind name. */
#define ALARM_COLS "id, type, severity, entity, node, vendor, circuit, root_id, text," \
    " impact_nodes, impact_services, raised_at_ms, cleared_at_ms, planned, acked_by," \
    " acked_at_ms, ack_comment"
#define OUTAGE_COLS "id, alarm_id, entity, kind, vendor, circuit, root_cause, start_ms," \
    " end_ms, planned, refined"
enum {
    S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
    S_ALARM_INSERT, S_EVENT_INSERT,
    S_EV_ESCALATED, S_EV_SYMPTOM_OF, S_EV_PROMOTED, S_EV_CLEARED, S_EV_ACKNOWLEDGED, S_EV_COMMENT,
    S_OUTAGE_INSERT, S_OUTAGE_CLOSE, S_OUTAGE_REFINE, S_OUTAGE_ADOPT, S_MAINT_INSERT, S_MAINT_DELETE, S_AUDIT_INSERT, S_SEQ_UPSERT,
    S_ALARMS_ACTIVE, S_ALARMS_RANGE, S_ALARM_ROOTS_ACTIVE, S_ALARM_ROOTS_RANGE, S_ALARM_SYMPTOMS,
    S_ALARM_ONE, S_ALARMS_NODE, S_ALARM_EVENTS, S_OUTAGES_RANGE, S_OUTAGES_OPEN, S_MAINT_LIST,
    S_MAX_ALARM, S_SEQ_ALL, S_ASSET_PUT, S_ASSET_REPL_INSERT, S_ASSET_INVS, S_ASSET_REPLS,
    N_STMTS
};
_Static_assert(N_STMTS == RN__ES_N_STMTS, "event_store_int.h counts the statements");
static const struct {
    const char *name, *sql;
} stmt_defs[N_STMTS] = {
    [S_BEGIN] = { "begin", "BEGIN IMMEDIATE" },
    [S_COMMIT] = { "commit", "COMMIT" },
    [S_ROLLBACK] = { "rollback", "ROLLBACK" },
    [S_SAVEPOINT] = { "savepoint", "SAVEPOINT job" },
    [S_RELEASE] = { "release", "RELEASE job" },
    [S_ROLLBACK_TO] = { "rollback_to", "ROLLBACK TO job" },
    [S_ALARM_INSERT] = { "alarm_insert", "INSERT INTO alarms (id, type, severity, entity, node,"
        " vendor, circuit, root_id, text, impact_nodes, impact_services, raised_at_ms, planned)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)" },
    [S_EVENT_INSERT] = { "event_insert", "INSERT INTO alarm_events (alarm_id, kind, at_ms, actor,"
        " severity, root_id, detail) VALUES (?1, ?7, ?2, ?3, ?5, ?6, ?4)" },
    [S_EV_ESCALATED] = { "event_escalated", "UPDATE alarms SET severity = ?5 WHERE id = ?1" },
    [S_EV_SYMPTOM_OF] = { "event_symptom_of", "UPDATE alarms SET root_id = ?6 WHERE id = ?1" },
    [S_EV_PROMOTED] = { "event_promoted", "UPDATE alarms SET root_id = NULL WHERE id = ?1" },
    [S_EV_CLEARED] = { "event_cleared", "UPDATE alarms SET cleared_at_ms = ?2 WHERE id = ?1" },
    [S_EV_ACKNOWLEDGED] = { "event_acknowledged", "UPDATE alarms SET acked_by = ?3,"
        " acked_at_ms = ?2, ack_comment = ?4 WHERE id = ?1" },
    [S_EV_COMMENT] = { "event_comment", /* no change: finds the alarm; not its key (FK scans) */
        "UPDATE alarms SET planned = planned WHERE id = ?1" },
    [S_OUTAGE_INSERT] = { "outage_insert", "INSERT INTO outages (alarm_id, entity, kind, vendor,"
        " circuit, root_cause, start_ms, planned) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
    [S_OUTAGE_CLOSE] = { "outage_close", "UPDATE outages SET end_ms = MAX(?2, start_ms)"
        " WHERE alarm_id = ?1 AND end_ms IS NULL" },
    [S_OUTAGE_REFINE] = { "outage_refine", "UPDATE outages SET start_ms = ?3,"
        " end_ms = CASE WHEN ?2 < 0 OR end_ms IS NULL THEN end_ms ELSE ?2 END, refined = 1"
        " WHERE alarm_id = ?1" },
    [S_OUTAGE_ADOPT] = { "outage_adopt", "UPDATE outages SET alarm_id = ?2"
        " WHERE id = ?1 AND end_ms IS NULL" },
    [S_MAINT_INSERT] = { "maintenance_insert", "INSERT INTO maintenance (entity, start_ms, end_ms,"
        " reason, created_by, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
    [S_MAINT_DELETE] = { "maintenance_delete", "DELETE FROM maintenance WHERE id = ?1" },
    [S_AUDIT_INSERT] = { "audit_insert", "INSERT INTO audit (at_ms, actor, role, action, detail)"
        " VALUES (?1, ?2, ?3, ?4, ?5)" },
    [S_SEQ_UPSERT] = { "delivery_upsert", "INSERT INTO node_delivery (node, acked_seq)"
        " VALUES (?1, ?2) ON CONFLICT (node) DO UPDATE SET acked_seq = excluded.acked_seq" },
    [S_ALARMS_ACTIVE] = { "alarms_active", "SELECT " ALARM_COLS " FROM alarms"
        " WHERE cleared_at_ms IS NULL ORDER BY raised_at_ms, id" },
    [S_ALARMS_RANGE] = { "alarms_range", "SELECT " ALARM_COLS " FROM alarms"
        " WHERE raised_at_ms < ?2 AND (cleared_at_ms IS NULL OR cleared_at_ms >= ?1)"
        " ORDER BY raised_at_ms, id LIMIT ?3" },
    /* The listing (w_alarm_list): ?1 from, ?2 to, ?3 limit, ?4 the root. A root is an alarm
     * without root_id or whose root the same filter leaves out; newest first, so a LIMIT ends
     * the index scan early whatever the table holds. */
    [S_ALARM_ROOTS_ACTIVE] = { "alarm_roots_active", "SELECT " ALARM_COLS " FROM alarms a"
        " WHERE cleared_at_ms IS NULL AND (root_id IS NULL OR NOT EXISTS (SELECT 1 FROM alarms r"
        " WHERE r.id = a.root_id AND r.cleared_at_ms IS NULL))"
        " ORDER BY raised_at_ms DESC, id DESC LIMIT ?3" },
    [S_ALARM_ROOTS_RANGE] = { "alarm_roots_range", "SELECT " ALARM_COLS " FROM alarms a"
        " WHERE raised_at_ms < ?2 AND (cleared_at_ms IS NULL OR cleared_at_ms >= ?1)"
        " AND (root_id IS NULL OR NOT EXISTS (SELECT 1 FROM alarms r WHERE r.id = a.root_id"
        " AND r.raised_at_ms < ?2 AND (r.cleared_at_ms IS NULL OR r.cleared_at_ms >= ?1)))"
        " ORDER BY raised_at_ms DESC, id DESC LIMIT ?3" },
    [S_ALARM_SYMPTOMS] = { "alarm_symptoms", "SELECT " ALARM_COLS " FROM alarms"
        " WHERE root_id = ?4 AND raised_at_ms < ?2 AND (cleared_at_ms IS NULL"
        " OR cleared_at_ms >= ?1) ORDER BY raised_at_ms, id LIMIT ?3" },
    [S_ALARM_ONE] = { "alarm_one", "SELECT " ALARM_COLS " FROM alarms WHERE id = ?1" },
    [S_ALARMS_NODE] = { "alarms_node", "SELECT " ALARM_COLS " FROM alarms WHERE node = ?4"
        " AND raised_at_ms < ?2 AND (cleared_at_ms IS NULL OR cleared_at_ms >= ?1)"
        " ORDER BY cleared_at_ms IS NOT NULL, cleared_at_ms DESC, id DESC LIMIT ?3" },
    [S_ALARM_EVENTS] = { "alarm_events", "SELECT kind, at_ms, actor, severity, root_id, detail"
        " FROM alarm_events WHERE alarm_id = ?1 ORDER BY id" },
    [S_OUTAGES_RANGE] = { "outages_range", "SELECT " OUTAGE_COLS " FROM outages"
        " WHERE start_ms < ?2 AND (end_ms IS NULL OR end_ms > ?1) ORDER BY entity, start_ms" },
    [S_OUTAGES_OPEN] = { "outages_open", "SELECT " OUTAGE_COLS " FROM outages"
        " WHERE end_ms IS NULL ORDER BY entity, start_ms" },
    [S_MAINT_LIST] = { "maintenance_list", "SELECT id, entity, start_ms, end_ms, reason,"
        " created_by, created_at_ms FROM maintenance WHERE start_ms < ?2 AND end_ms > ?1"
        " ORDER BY start_ms, id" },
    [S_MAX_ALARM] = { "max_alarm_id", "SELECT COALESCE(MAX(id), 0) FROM alarms" },
    [S_SEQ_ALL] = { "delivery_load", "SELECT node, acked_seq FROM node_delivery" },
    [S_ASSET_PUT] = { "asset_put", "INSERT INTO asset_inventory (node, device, updated_ms,"
        " inventory) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (node, device) DO UPDATE SET"
        " updated_ms = excluded.updated_ms, inventory = excluded.inventory" },
    [S_ASSET_REPL_INSERT] = { "asset_replaced_insert", "INSERT INTO asset_replaced (node, device,"
        " at_ms, idx, name, model, old_serial, new_serial) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
    [S_ASSET_INVS] = { "asset_inventories", "SELECT node, device, updated_ms, inventory"
        " FROM asset_inventory ORDER BY node, device" },
    [S_ASSET_REPLS] = { "asset_replacements", "SELECT node, device, at_ms, idx, name, model,"
        " old_serial, new_serial FROM (SELECT *, row_number() OVER (PARTITION BY node, device"
        " ORDER BY id DESC) AS k FROM asset_replaced) WHERE k <= ?1 ORDER BY id" },
};

static const char *const kind_names[] = { "raised", "escalated", "symptom_of", "promoted",
                                          "cleared", "acknowledged", "comment" };
static const int kind_stmt[] = { -1, S_EV_ESCALATED, S_EV_SYMPTOM_OF, S_EV_PROMOTED,
                                 S_EV_CLEARED, S_EV_ACKNOWLEDGED, S_EV_COMMENT };

/* ---- worker: statements ---------------------------------------------------------------------- */

/* Aborts unless called on the worker thread: the connection is the worker's alone, and every
 * statement passes here, so SQL on the loop thread cannot happen quietly. */
static void assert_worker(rn_event_store_t *s)
{
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &s->worker_self)) {
        rn_error("event store %s: SQL off the worker thread (a bug)", s->path);
        abort();
    }
}

/* Maps an SQLite (extended) result code to a negative errno. */
static int map_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_READONLY: return -EROFS;
    case SQLITE_CANTOPEN: case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
            return -EEXIST;
        return rc == SQLITE_CONSTRAINT_FOREIGNKEY ? -ENOENT : -EINVAL;
    default: return -EIO;
    }
}

/* Logs a failure of statement id (once while the same failure repeats) and returns it as a
 * negative errno. Constraint failures are the caller's input, logged as warnings. */
static int fail(rn_event_store_t *s, int id, int rc)
{
    int err = map_err(rc);
    if (id != s->last_err_stmt || rc != s->last_err_rc) {
        rn_log((rc & 0xff) == SQLITE_CONSTRAINT ? RN_LOG_WARN : RN_LOG_ERROR,
               "event store %s: statement %s: %s", s->path, stmt_defs[id].name,
               sqlite3_errmsg(s->db));
        if ((rc & 0xff) != SQLITE_CONSTRAINT) {
            s->last_err_stmt = id;
            s->last_err_rc = rc;
        }
    }
    return err;
}

/* Returns statement id, prepared on first use, or NULL (logged). */
static sqlite3_stmt *prep(rn_event_store_t *s, int id)
{
    assert_worker(s);
    if (s->st[id] == NULL) {
        int rc = sqlite3_prepare_v3(s->db, stmt_defs[id].sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->st[id], NULL);
        if (rc != SQLITE_OK) {
            (void)fail(s, id, rc);
            s->st[id] = NULL;
        }
    }
    return s->st[id];
}

/* Binds an integer, text (NULL as SQL NULL) or id (0 as NULL) to parameter i if the statement has
 * it: runners of a family bind every parameter, each statement uses its own subset. */
static void bind_i64(sqlite3_stmt *st, int i, int64_t v)
{
    if (i <= sqlite3_bind_parameter_count(st))
        sqlite3_bind_int64(st, i, v);
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
    if (i <= sqlite3_bind_parameter_count(st))
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC); /* the job outlives the step */
}

static void bind_id(sqlite3_stmt *st, int i, uint64_t v)
{
    if (v == 0 && i <= sqlite3_bind_parameter_count(st))
        sqlite3_bind_null(st, i);
    else
        bind_i64(st, i, (int64_t)v);
}

/* Steps statement id (bound already) to its end and resets it. Returns 0 or a negative error. */
static int run(rn_event_store_t *s, int id)
{
    sqlite3_stmt *st = s->st[id];
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        err = fail(s, id, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

/* Prepares and runs a statement without parameters. */
static int exec_stmt(rn_event_store_t *s, int id)
{
    return prep(s, id) ? run(s, id) : -EIO;
}

/* ---- worker: open and migrations ------------------------------------------------------------- */

/* Records why the open failed (logged by the opener) and returns err. */
static int open_fail(rn_event_store_t *s, int err, const char *what)
{
    snprintf(s->open_err, sizeof s->open_err, "event store %s: %s: %s", s->path, what,
             s->db ? sqlite3_errmsg(s->db) : rn_strerror(err));
    return err;
}

/* Runs a script of statements. Returns 0 or a negative error, with the reason in open_err. */
static int exec_script(rn_event_store_t *s, const char *sql, const char *what)
{
    assert_worker(s);
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : open_fail(s, map_err(sqlite3_extended_errcode(s->db)), what);
}

/* Reads the integer result of a one-row statement (PRAGMA, aggregate) into *out. */
static int query_int(rn_event_store_t *s, const char *sql, int64_t *out, const char *what)
{
    sqlite3_stmt *st;
    assert_worker(s);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    int err = rc == SQLITE_OK ? 0 : open_fail(s, map_err(sqlite3_extended_errcode(s->db)), what);
    sqlite3_finalize(st);
    return err;
}

/* Sets the connection's durability and integrity settings (see event_store.h). */
static int set_pragmas(rn_event_store_t *s)
{
    assert_worker(s);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        rc = mode && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_CANTOPEN;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return open_fail(s, map_err(rc), "cannot switch to WAL mode");
    return exec_script(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                          "PRAGMA journal_size_limit = " RN_STR(WAL_LIMIT_BYTES) ";",
                       "cannot set pragmas");
}

/* Brings the schema to RN_EVENT_STORE_VERSION, one transaction per migration. A file newer than
 * the code is refused with RN_EVERSION. */
static int migrate(rn_event_store_t *s)
{
    int64_t v;
    int rc = query_int(s, "PRAGMA user_version", &v, "cannot read the schema version");
    if (rc < 0)
        return rc;
    if (v > RN_EVENT_STORE_VERSION || v < 0) {
        snprintf(s->open_err, sizeof s->open_err,
                 "event store %s: schema version %" PRId64 " is newer than this collector knows"
                 " (%d); upgrade rajnet-collector or use another file", s->path, v,
                 RN_EVENT_STORE_VERSION);
        return RN_EVERSION;
    }
    for (int64_t from = v; v < RN_EVENT_STORE_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %" PRId64 ";", v + 1);
        if ((rc = exec_script(s, "BEGIN IMMEDIATE", "cannot start a migration")) < 0)
            return rc;
        if ((rc = exec_script(s, rn__event_store_migration((int)v + 1), "migration failed")) < 0 ||
            (rc = exec_script(s, bump, "migration failed")) < 0 ||
            (rc = exec_script(s, "COMMIT", "cannot commit a migration")) < 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        if (v + 1 == RN_EVENT_STORE_VERSION)
            rn_info("event store %s: schema migrated from version %" PRId64 " to %d", s->path,
                    from, RN_EVENT_STORE_VERSION);
    }
    return 0;
}

/* Reads what the loop side needs at start: the highest alarm id and the delivery state. */
static int load_state(rn_event_store_t *s)
{
    int64_t max;
    int rc = query_int(s, stmt_defs[S_MAX_ALARM].sql, &max, "cannot read alarms");
    sqlite3_stmt *st = rc == 0 ? prep(s, S_SEQ_ALL) : NULL;
    if (st == NULL)
        return rc < 0 ? rc : open_fail(s, -EIO, "cannot read the delivery state");
    s->max_alarm_id = (uint64_t)max;
    uv_mutex_lock(&s->mu);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        seq_entry_t *e = rn__es_seq_entry(s, (const char *)sqlite3_column_text(st, 0));
        if (e == NULL)
            break;
        e->seq = (uint64_t)sqlite3_column_int64(st, 1);
    }
    uv_mutex_unlock(&s->mu);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return open_fail(s, rc == SQLITE_ROW ? -ENOMEM : map_err(rc),
                         "cannot read the delivery state");
    return 0;
}

/* Opens the database (see event_store_int.h). */
int rn__es_db_open(rn_event_store_t *s)
{
    assert_worker(s);
    int rc = sqlite3_open_v2(s->path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        rc = open_fail(s, map_err(rc), "cannot open");
    } else {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        if ((rc = set_pragmas(s)) == 0 && (rc = migrate(s)) == 0)
            rc = load_state(s);
    }
    if (rc < 0) {
        for (int i = 0; i < N_STMTS; i++)
            sqlite3_finalize(s->st[i]);
        memset(s->st, 0, sizeof s->st);
        sqlite3_close(s->db);
        s->db = NULL;
    }
    return rc;
}

/* Finalizes the statements and closes the connection (the last close checkpoints the WAL). */
void rn__es_db_close(rn_event_store_t *s)
{
    assert_worker(s);
    for (int i = 0; i < N_STMTS; i++)
        sqlite3_finalize(s->st[i]);
    if (sqlite3_close(s->db) != SQLITE_OK)
        rn_error("event store %s: close: %s", s->path, sqlite3_errmsg(s->db));
    s->db = NULL;
}

/* ---- worker: jobs ---------------------------------------------------------------------------- */

/* Appends a zeroed element of size bytes to v. Returns it, or NULL when out of memory. */
static void *vec_push(vec_t *v, size_t size)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *p = realloc(v->p, cap * size);
        if (p == NULL)
            return NULL;
        v->p = p;
        v->cap = cap;
    }
    void *e = (char *)v->p + v->n++ * size;
    memset(e, 0, size);
    return e;
}

/* Copies text column i of the current row into the job's memory. NULL for SQL NULL; on out of
 * memory returns NULL and marks the job. */
static const char *col_str(job_t *job, sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    char *c;
    if (t == NULL)
        return NULL;
    if ((c = rn__es_own(job, strdup(t))) == NULL)
        job->oom = true;
    return c;
}

/* Binds an event's fields in the event family's numbering (see the statement table). */
static void bind_event(sqlite3_stmt *st, const rn_alarm_hist_t *e)
{
    bind_i64(st, 1, (int64_t)e->alarm_id);
    bind_i64(st, 2, e->at_ms);
    bind_str(st, 3, e->actor);
    bind_str(st, 4, e->detail);
    bind_str(st, 5, e->severity);
    bind_id(st, 6, e->root_id);
    bind_str(st, 7, kind_names[e->kind]);
}

/* Appends one row to alarm_events. */
static int insert_event(rn_event_store_t *s, const rn_alarm_hist_t *e)
{
    sqlite3_stmt *st = prep(s, S_EVENT_INSERT);
    if (st == NULL)
        return -EIO;
    bind_event(st, e);
    return run(s, S_EVENT_INSERT);
}

/* Inserts an alarm row and its RAISED event. */
static int w_alarm_raise(rn_event_store_t *s, job_t *job)
{
    const rn_alarm_rec_t *a = &job->in.alarm;
    sqlite3_stmt *st = prep(s, S_ALARM_INSERT);
    if (st == NULL)
        return -EIO;
    const char *strs[] = { a->type, a->severity, a->entity, a->node, a->vendor, a->circuit };
    bind_i64(st, 1, (int64_t)a->id);
    for (int i = 0; i < 6; i++)
        bind_str(st, 2 + i, strs[i]);
    bind_id(st, 8, a->root_id);
    bind_str(st, 9, a->text);
    bind_str(st, 10, a->impact_nodes);
    bind_str(st, 11, a->impact_services);
    bind_i64(st, 12, a->raised_at_ms);
    bind_i64(st, 13, a->planned);
    int rc = run(s, S_ALARM_INSERT);
    if (rc < 0)
        return rc;
    rn_alarm_hist_t ev = { .alarm_id = a->id, .kind = RN_HIST_RAISED, .at_ms = a->raised_at_ms,
                            .actor = "engine", .severity = a->severity, .root_id = a->root_id,
                            .detail = a->text };
    return insert_event(s, &ev);
}

/* Updates the alarm row as the event's kind says, then appends the event. */
static int w_alarm_event(rn_event_store_t *s, job_t *job)
{
    const rn_alarm_hist_t *e = &job->in.ev;
    int id = kind_stmt[e->kind];
    sqlite3_stmt *st = prep(s, id);
    if (st == NULL)
        return -EIO;
    bind_event(st, e);
    int rc = run(s, id);
    if (rc < 0)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return -ENOENT;
    return insert_event(s, e);
}

/* Runs a write statement bound by the caller; -ENOENT if it changed no row. */
static int run_changing(rn_event_store_t *s, int id)
{
    int rc = run(s, id);
    return rc < 0 ? rc : sqlite3_changes(s->db) == 0 ? -ENOENT : 0;
}

/* Runs one of the simple writes: outages, maintenance, audit. */
static int w_write(rn_event_store_t *s, job_t *job, int id)
{
    sqlite3_stmt *st = prep(s, id);
    const rn_outage_rec_t *o = &job->in.outage;
    const rn_maintenance_rec_t *m = &job->in.maint;
    const rn_audit_rec_t *a = &job->in.audit;
    if (st == NULL)
        return -EIO;
    switch (id) {
    case S_OUTAGE_INSERT:
        bind_i64(st, 1, (int64_t)o->alarm_id);
        bind_str(st, 2, o->entity);
        bind_str(st, 3, o->kind == RN_OUTAGE_NODE ? "node" : "link");
        bind_str(st, 4, o->vendor);
        bind_str(st, 5, o->circuit);
        bind_str(st, 6, o->root_cause);
        bind_i64(st, 7, o->start_ms);
        bind_i64(st, 8, o->planned);
        return run(s, id);
    case S_OUTAGE_CLOSE:
    case S_OUTAGE_REFINE:
    case S_OUTAGE_ADOPT:
    case S_MAINT_DELETE:
        bind_i64(st, 1, (int64_t)job->in.arg.id);
        bind_i64(st, 2, job->in.arg.to_ms);   /* close, refine: the end; adopt: the new alarm */
        bind_i64(st, 3, job->in.arg.from_ms); /* refine: the start */
        return run_changing(s, id);
    case S_MAINT_INSERT:
        bind_str(st, 1, m->entity);
        bind_i64(st, 2, m->start_ms);
        bind_i64(st, 3, m->end_ms);
        bind_str(st, 4, m->reason);
        bind_str(st, 5, m->created_by);
        bind_i64(st, 6, m->created_at_ms);
        if (run(s, id) < 0)
            return map_err(sqlite3_extended_errcode(s->db));
        job->out_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
        return 0;
    default:
        bind_i64(st, 1, a->at_ms);
        bind_str(st, 2, a->actor);
        bind_str(st, 3, a->role);
        bind_str(st, 4, a->action);
        bind_str(st, 5, a->detail);
        return run(s, id);
    }
}

/* Reads an alarm row (columns ALARM_COLS) into a. */
static void read_alarm(job_t *job, sqlite3_stmt *st, rn_alarm_rec_t *a)
{
    a->id = (uint64_t)sqlite3_column_int64(st, 0);
    a->type = col_str(job, st, 1);
    a->severity = col_str(job, st, 2);
    a->entity = col_str(job, st, 3);
    a->node = col_str(job, st, 4);
    a->vendor = col_str(job, st, 5);
    a->circuit = col_str(job, st, 6);
    a->root_id = (uint64_t)sqlite3_column_int64(st, 7); /* NULL reads as 0 */
    a->text = col_str(job, st, 8);
    a->impact_nodes = col_str(job, st, 9);
    a->impact_services = col_str(job, st, 10);
    a->raised_at_ms = sqlite3_column_int64(st, 11);
    a->cleared = sqlite3_column_type(st, 12) != SQLITE_NULL;
    a->cleared_at_ms = sqlite3_column_int64(st, 12);
    a->planned = sqlite3_column_int(st, 13) != 0;
    a->acked_by = col_str(job, st, 14);
    a->acked_at_ms = sqlite3_column_int64(st, 15);
    a->ack_comment = col_str(job, st, 16);
}

/* Loads the history of alarm a into the job's memory. */
static int load_events(rn_event_store_t *s, job_t *job, rn_alarm_rec_t *a)
{
    sqlite3_stmt *st = prep(s, S_ALARM_EVENTS);
    vec_t v = { 0 };
    int rc;
    if (st == NULL)
        return -EIO;
    bind_i64(st, 1, (int64_t)a->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rn_alarm_hist_t *e = vec_push(&v, sizeof *e);
        if (e == NULL) {
            job->oom = true;
            break;
        }
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        for (size_t k = 0; kind && k < sizeof kind_names / sizeof kind_names[0]; k++)
            if (strcmp(kind, kind_names[k]) == 0)
                e->kind = (rn_alarm_hist_kind_t)k;
        e->alarm_id = a->id;
        e->at_ms = sqlite3_column_int64(st, 1);
        e->actor = col_str(job, st, 2);
        e->severity = col_str(job, st, 3);
        e->root_id = (uint64_t)sqlite3_column_int64(st, 4);
        e->detail = col_str(job, st, 5);
    }
    int err = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, S_ALARM_EVENTS, rc);
    sqlite3_reset(st);
    if (v.n > 0 && rn__es_own(job, v.p) == NULL)
        job->oom = true;
    a->events = job->oom ? NULL : v.p;
    a->n_events = job->oom ? 0 : v.n;
    return err;
}

/* Steps query statement id, bound already, reading each row with read(). */
static int w_rows(rn_event_store_t *s, job_t *job, int id, size_t size,
                  void (*read)(job_t *, sqlite3_stmt *, void *))
{
    sqlite3_stmt *st = s->st[id];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        void *row = vec_push(&job->rows, size);
        if (row == NULL) {
            job->oom = true;
            break;
        }
        read(job, st, row);
    }
    int err = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, id, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err < 0 ? err : job->oom ? -ENOMEM : 0;
}

/* Row readers for w_rows. */
static void read_alarm_row(job_t *job, sqlite3_stmt *st, void *row)
{
    read_alarm(job, st, row);
}

static void read_outage_row(job_t *job, sqlite3_stmt *st, void *row)
{
    rn_outage_rec_t *o = row;
    const char *kind = (const char *)sqlite3_column_text(st, 3);
    o->id = (uint64_t)sqlite3_column_int64(st, 0);
    o->alarm_id = (uint64_t)sqlite3_column_int64(st, 1);
    o->entity = col_str(job, st, 2);
    o->kind = kind && strcmp(kind, "node") == 0 ? RN_OUTAGE_NODE : RN_OUTAGE_LINK;
    o->vendor = col_str(job, st, 4);
    o->circuit = col_str(job, st, 5);
    o->root_cause = col_str(job, st, 6);
    o->start_ms = sqlite3_column_int64(st, 7);
    o->ended = sqlite3_column_type(st, 8) != SQLITE_NULL;
    o->end_ms = sqlite3_column_int64(st, 8);
    o->planned = sqlite3_column_int(st, 9) != 0;
    o->refined = sqlite3_column_int(st, 10) != 0;
}

static void read_maint_row(job_t *job, sqlite3_stmt *st, void *row)
{
    rn_maintenance_rec_t *m = row;
    m->id = (uint64_t)sqlite3_column_int64(st, 0);
    m->entity = col_str(job, st, 1);
    m->start_ms = sqlite3_column_int64(st, 2);
    m->end_ms = sqlite3_column_int64(st, 3);
    m->reason = col_str(job, st, 4);
    m->created_by = col_str(job, st, 5);
    m->created_at_ms = sqlite3_column_int64(st, 6);
}

/* Runs a query job: binds the range and reads the rows (for alarms, with their events). */
static int w_query(rn_event_store_t *s, job_t *job)
{
    static const struct {
        int stmt;
        size_t size;
        void (*read)(job_t *, sqlite3_stmt *, void *);
    } q[] = {
        [J_MAINT_LIST] = { S_MAINT_LIST, sizeof(rn_maintenance_rec_t), read_maint_row },
        [J_ALARMS_ACTIVE] = { S_ALARMS_ACTIVE, sizeof(rn_alarm_rec_t), read_alarm_row },
        [J_ALARMS_RANGE] = { S_ALARMS_RANGE, sizeof(rn_alarm_rec_t), read_alarm_row },
        [J_OUTAGES] = { S_OUTAGES_RANGE, sizeof(rn_outage_rec_t), read_outage_row },
        [J_OUTAGES_OPEN] = { S_OUTAGES_OPEN, sizeof(rn_outage_rec_t), read_outage_row },
    };
    sqlite3_stmt *st = prep(s, q[job->kind].stmt);
    if (st == NULL)
        return -EIO;
    bind_i64(st, 1, job->in.arg.from_ms);
    bind_i64(st, 2, job->in.arg.to_ms);
    bind_i64(st, 3, job->in.arg.limit ? (int64_t)job->in.arg.limit : -1);
    int rc = w_rows(s, job, q[job->kind].stmt, q[job->kind].size, q[job->kind].read);
    if (job->kind == J_ALARMS_ACTIVE || job->kind == J_ALARMS_RANGE)
        for (size_t i = 0; rc == 0 && i < job->rows.n; i++)
            rc = load_events(s, job, (rn_alarm_rec_t *)job->rows.p + i);
    return rc < 0 ? rc : job->oom ? -ENOMEM : 0;
}

/* Lists alarms as rn_event_store_alarms_list says: the roots, then each root's symptoms while
 * rows remain. Returns the job's status. */
static int w_alarm_list(rn_event_store_t *s, job_t *job)
{
    const rn_alarm_list_t *q = &job->in.list;
    int roots = q->active ? S_ALARM_ROOTS_ACTIVE : S_ALARM_ROOTS_RANGE;
    /* Active: "cleared_at_ms >= INT64_MAX" holds for no cleared alarm, "raised < INT64_MAX" for
     * every one, so the symptoms' statement needs no second form. */
    int64_t from = q->active ? INT64_MAX : q->from_ms, to = q->active ? INT64_MAX : q->to_ms;
    sqlite3_stmt *st = prep(s, roots);
    if (st == NULL)
        return -EIO;
    bind_i64(st, 1, from);
    bind_i64(st, 2, to);
    bind_i64(st, 3, (int64_t)q->max_roots);
    int rc = w_rows(s, job, roots, sizeof(rn_alarm_rec_t), read_alarm_row);
    size_t n_roots = job->rows.n;
    for (size_t i = 0; rc == 0 && i < n_roots && job->rows.n < q->max_rows; i++) {
        if ((st = prep(s, S_ALARM_SYMPTOMS)) == NULL)
            return -EIO;
        bind_i64(st, 1, from);
        bind_i64(st, 2, to);
        bind_i64(st, 3, (int64_t)(q->max_rows - job->rows.n));
        bind_i64(st, 4, (int64_t)((rn_alarm_rec_t *)job->rows.p)[i].id); /* rows.p moves */
        rc = w_rows(s, job, S_ALARM_SYMPTOMS, sizeof(rn_alarm_rec_t), read_alarm_row);
    }
    return rc;
}

/* Reads a node's alarms (rn_event_store_alarms_node), without their events. Returns the job's
 * status. */
static int w_alarms_node(rn_event_store_t *s, job_t *job)
{
    sqlite3_stmt *st = prep(s, S_ALARMS_NODE);
    if (st == NULL)
        return -EIO;
    bind_i64(st, 1, job->in.arg.from_ms);
    bind_i64(st, 2, job->in.arg.to_ms);
    bind_i64(st, 3, (int64_t)job->in.arg.limit);
    bind_str(st, 4, job->in.arg.node);
    return w_rows(s, job, S_ALARMS_NODE, sizeof(rn_alarm_rec_t), read_alarm_row);
}

/* Reads one alarm by id, without its events. Returns the job's status (0 also for none). */
static int w_alarm_get(rn_event_store_t *s, job_t *job)
{
    sqlite3_stmt *st = prep(s, S_ALARM_ONE);
    if (st == NULL)
        return -EIO;
    bind_i64(st, 1, (int64_t)job->in.arg.id);
    return w_rows(s, job, S_ALARM_ONE, sizeof(rn_alarm_rec_t), read_alarm_row);
}

/* Writes the asset register's rows (J_ASSET_PUT, J_ASSET_REPLACED). Returns the job's status. */
static int w_asset_write(rn_event_store_t *s, job_t *job)
{
    int id = job->kind == J_ASSET_PUT ? S_ASSET_PUT : S_ASSET_REPL_INSERT;
    sqlite3_stmt *st = prep(s, id);
    if (st == NULL)
        return -EIO;
    if (id == S_ASSET_PUT) {
        const rn_asset_inv_rec_t *r = &job->in.inv;
        const char *strs[] = { r->node, r->device };
        for (int i = 0; i < 2; i++)
            bind_str(st, 1 + i, strs[i]);
        bind_i64(st, 3, r->updated_ms);
        sqlite3_bind_blob(st, 4, r->inventory, (int)r->len, SQLITE_STATIC);
        return run(s, id);
    }
    const rn_asset_repl_rec_t *r = &job->in.repl;
    const char *strs[] = { r->node, r->device, r->name, r->model, r->old_serial, r->new_serial };
    for (int i = 0; i < 6; i++)
        bind_str(st, i < 2 ? 1 + i : 3 + i, strs[i]);
    bind_i64(st, 3, r->at_ms);
    bind_i64(st, 4, r->index);
    return run(s, id);
}

/* Row readers of the asset queries. */
static void read_asset_inv(job_t *job, sqlite3_stmt *st, void *row)
{
    rn_asset_inv_rec_t *r = row;
    const void *b = sqlite3_column_blob(st, 3);
    size_t len = (size_t)sqlite3_column_bytes(st, 3);
    void *copy = len ? malloc(len) : NULL;
    r->node = col_str(job, st, 0);
    r->device = col_str(job, st, 1);
    r->updated_ms = sqlite3_column_int64(st, 2);
    if (copy)
        memcpy(copy, b, len);
    if (len && rn__es_own(job, copy) == NULL)
        job->oom = true;
    r->inventory = copy, r->len = copy ? len : 0;
}

static void read_asset_repl(job_t *job, sqlite3_stmt *st, void *row)
{
    rn_asset_repl_rec_t *r = row;
    r->node = col_str(job, st, 0);
    r->device = col_str(job, st, 1);
    r->at_ms = sqlite3_column_int64(st, 2);
    r->index = (uint32_t)sqlite3_column_int64(st, 3);
    r->name = col_str(job, st, 4);
    r->model = col_str(job, st, 5);
    r->old_serial = col_str(job, st, 6);
    r->new_serial = col_str(job, st, 7);
}

/* Reads the asset register's rows (J_ASSET_INVS, J_ASSET_REPLS). Returns the job's status. */
static int w_asset_query(rn_event_store_t *s, job_t *job)
{
    bool inv = job->kind == J_ASSET_INVS;
    int id = inv ? S_ASSET_INVS : S_ASSET_REPLS;
    sqlite3_stmt *st = prep(s, id);
    if (st == NULL)
        return -EIO;
    bind_i64(st, 1, (int64_t)job->in.arg.limit);
    return w_rows(s, job, id, inv ? sizeof(rn_asset_inv_rec_t) : sizeof(rn_asset_repl_rec_t),
                  inv ? read_asset_inv : read_asset_repl);
}

/* Runs one job inside the open transaction. Returns its status. */
static int run_job(rn_event_store_t *s, job_t *job)
{
    char sql[64];
    switch (job->kind) {
    case J_RAISE: return w_alarm_raise(s, job);
    case J_EVENT: return w_alarm_event(s, job);
    case J_OUTAGE_OPEN: return w_write(s, job, S_OUTAGE_INSERT);
    case J_OUTAGE_CLOSE: return w_write(s, job, S_OUTAGE_CLOSE);
    case J_OUTAGE_REFINE: return w_write(s, job, S_OUTAGE_REFINE);
    case J_OUTAGE_ADOPT: return w_write(s, job, S_OUTAGE_ADOPT);
    case J_MAINT_ADD: return w_write(s, job, S_MAINT_INSERT);
    case J_MAINT_DEL: return w_write(s, job, S_MAINT_DELETE);
    case J_AUDIT: return w_write(s, job, S_AUDIT_INSERT);
    case J_LIMIT:
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %" PRIu64, job->in.arg.id);
        return exec_script(s, sql, "max_page_count");
    case J_CLOSE: return 0;
    case J_ALARMS_LIST: return w_alarm_list(s, job);
    case J_ALARM_GET: return w_alarm_get(s, job);
    case J_ALARMS_NODE: return w_alarms_node(s, job);
    case J_ASSET_PUT:
    case J_ASSET_REPLACED: return w_asset_write(s, job);
    case J_ASSET_INVS:
    case J_ASSET_REPLS: return w_asset_query(s, job);
    default: return w_query(s, job);
    }
}

/* ---- worker: group transaction --------------------------------------------------------------- */

/* Runs a job in a savepoint: a failed job is rolled back alone. Returns 0 if the transaction is
 * still usable, or a negative error when it is not (SQLite rolled it back, e.g. on a full disk). */
static int run_in_savepoint(rn_event_store_t *s, job_t *job)
{
    int rc = exec_stmt(s, S_SAVEPOINT);
    if (rc < 0)
        return rc;
    job->status = run_job(s, job);
    if (job->status == 0)
        return exec_stmt(s, S_RELEASE);
    if (sqlite3_get_autocommit(s->db))
        return job->status;
    if ((rc = exec_stmt(s, S_ROLLBACK_TO)) == 0)
        rc = exec_stmt(s, S_RELEASE);
    return rc;
}

/* Writes the delivery state taken for this transaction. */
static int write_seqs(rn_event_store_t *s, const seq_write_t *w, size_t n)
{
    sqlite3_stmt *st = n ? prep(s, S_SEQ_UPSERT) : NULL;
    if (n && st == NULL)
        return -EIO;
    for (size_t i = 0; i < n; i++) {
        bind_str(st, 1, w[i].e->node);
        bind_i64(st, 2, (int64_t)w[i].seq);
        int rc = run(s, S_SEQ_UPSERT);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Runs a group as one transaction (see event_store_int.h). */
int rn__es_run_group(rn_event_store_t *s, job_t *group, const seq_write_t *w, size_t n_w)
{
    assert_worker(s);
    int rc = exec_stmt(s, S_BEGIN);
    for (job_t *job = group; rc == 0 && job; job = job->next)
        rc = run_in_savepoint(s, job);
    if (rc == 0)
        rc = write_seqs(s, w, n_w);
    if (rc == 0)
        rc = exec_stmt(s, S_COMMIT);
    if (rc == 0) {
        s->last_err_stmt = -1; /* a later failure is news again */
        return 0;
    }
    if (!sqlite3_get_autocommit(s->db))
        (void)exec_stmt(s, S_ROLLBACK);
    for (job_t *job = group; job; job = job->next)
        if (job->status == 0)
            job->status = rc;
    return rc;
}

/* ---- names ----------------------------------------------------------------------------------- */

const char *rn_alarm_hist_kind_name(rn_alarm_hist_kind_t kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

