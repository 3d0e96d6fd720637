/* Tests of collector/event_store: real SQLite files in a temporary directory, written through a
 * real uv loop, and read back through the store's queries and, where the file itself is the
 * point (schema version, integrity after a SIGKILL), with sqlite3 directly. The throughput and
 * latency tests print figures (events/s, ms per commit) as they go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alarm/alarm.h"
#include "alarm/alarm_log.h"
#include "error.h"
#include "events/event_store.h"

typedef struct {
    char dir[64];               /* mkdtemp */
    char path[128];             /* dir/events.db */
    uv_loop_t loop;
    rn_event_store_t *s;
    uv_thread_t loop_thread;
} fixture_t;

/* What a callback saw. */
typedef struct {
    int fired, status;
    uint64_t id;
    size_t n;
    bool on_loop_thread;
    fixture_t *fx;
} seen_t;

/* ---- helpers ------------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool on_thread(const uv_thread_t *t)
{
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&self, t);
}

static void on_done(void *data, int status)
{
    seen_t *w = data;
    w->fired++;
    w->status = status;
    w->on_loop_thread = on_thread(&w->fx->loop_thread);
}

static void on_id(void *data, int status, uint64_t id)
{
    seen_t *w = data;
    on_done(data, status);
    w->id = id;
}

static void open_store(fixture_t *fx)
{
    char err[256];
    int rc = rn_event_store_open(&fx->loop, fx->path, &fx->s, err, sizeof err);
    if (rc != 0)
        fail_msg("open: %s", err);
}

static void on_closed(void *data)
{
    *(int *)data += 1;
}

static void close_store(fixture_t *fx)
{
    int closed = 0;
    rn_event_store_close(fx->s, on_closed, &closed);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    fx->s = NULL;
}

/* Runs the loop until every queued job has reported. */
static void drain(fixture_t *fx)
{
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(rn_event_store_pending(fx->s), 0);
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rn-events-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/events.db", fx->dir);
    uv_loop_init(&fx->loop);
    fx->loop_thread = uv_thread_self();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    char cmd[160];
    if (fx->s)
        close_store(fx);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* Returns the integer result of sql on the file, opened directly. */
static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* True if PRAGMA integrity_check says ok. */
static bool integrity_ok(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    bool ok = false;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

static rn_alarm_rec_t make_alarm(uint64_t id, const char *type, const char *entity, int64_t at)
{
    return (rn_alarm_rec_t){ .id = id, .type = type, .severity = "S2", .entity = entity,
                             .node = "jaipur", .vendor = "bsnl", .circuit = "JPR-MPLS-0042",
                             .text = "uplink down", .impact_nodes = "[\"jaipur/sanganer\"]",
                             .impact_services = "[\"vc\",\"emitra\"]", .raised_at_ms = at };
}

static void raise_ok(fixture_t *fx, uint64_t id, const char *type, const char *entity, int64_t at)
{
    rn_alarm_rec_t a = make_alarm(id, type, entity, at);
    assert_int_equal(rn_event_store_alarm_raise(fx->s, &a, NULL, NULL), 0);
}

static void event(fixture_t *fx, uint64_t id, rn_alarm_hist_kind_t kind, int64_t at,
                  const char *actor, const char *detail, seen_t *w)
{
    rn_alarm_hist_t e = { .alarm_id = id, .kind = kind, .at_ms = at, .actor = actor,
                           .detail = detail, .severity = "S1", .root_id = 1 };
    assert_int_equal(rn_event_store_alarm_event(fx->s, &e, w ? on_done : NULL, w), 0);
}

/* Query results copied out of a callback (they are freed after it returns). */
typedef struct {
    int fired, status;
    size_t n;
    uint64_t ids[16];
    char what[16][160];         /* a summary line per row */
} rows_t;

static void on_alarms(void *data, int status, const rn_alarm_rec_t *a, size_t n)
{
    rows_t *r = data;
    r->fired++;
    r->status = status;
    r->n = n;
    for (size_t i = 0; i < n && i < 16; i++) {
        int len = snprintf(r->what[i], sizeof r->what[i], "%s %s root=%llu %s%s|", a[i].type,
                           a[i].severity, (unsigned long long)a[i].root_id,
                           a[i].cleared ? "cleared " : "",
                           a[i].acked_by ? a[i].acked_by : "-");
        for (size_t k = 0; k < a[i].n_events && len < 150; k++)
            len += snprintf(r->what[i] + len, sizeof r->what[i] - len, "%s,",
                            rn_alarm_hist_kind_name(a[i].events[k].kind));
        r->ids[i] = a[i].id;
    }
}

static void on_outages(void *data, int status, const rn_outage_rec_t *o, size_t n)
{
    rows_t *r = data;
    r->fired++;
    r->status = status;
    r->n = n;
    for (size_t i = 0; i < n && i < 16; i++) {
        snprintf(r->what[i], sizeof r->what[i], "%s %lld-%lld%s", o[i].entity,
                 (long long)o[i].start_ms, o[i].ended ? (long long)o[i].end_ms : -1LL,
                 o[i].planned ? " planned" : "");
        r->ids[i] = o[i].alarm_id;
    }
}

static void on_maint(void *data, int status, const rn_maintenance_rec_t *m, size_t n)
{
    rows_t *r = data;
    r->fired++;
    r->status = status;
    r->n = n;
    for (size_t i = 0; i < n && i < 16; i++) {
        snprintf(r->what[i], sizeof r->what[i], "%s %lld-%lld %s by %s", m[i].entity,
                 (long long)m[i].start_ms, (long long)m[i].end_ms, m[i].reason, m[i].created_by);
        r->ids[i] = m[i].id;
    }
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_open_creates_schema_at_current_version(void **state)
{
    fixture_t *fx = *state;
    open_store(fx);
    assert_int_equal(rn_event_store_max_alarm_id(fx->s), 0);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), RN_EVENT_STORE_VERSION);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                       " AND name IN ('alarms', 'alarm_events', 'outages',"
                                       " 'maintenance', 'node_delivery', 'audit')"), 6);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM pragma_journal_mode"
                                       " WHERE journal_mode = 'wal'"), 1);
}

static void test_reopen_keeps_data(void **state)
{
    fixture_t *fx = *state;
    seen_t w = { .fx = fx };
    rn_audit_rec_t au = { .at_ms = 5, .actor = "ravi", .role = "operator", .action = "ack",
                          .detail = "alarm 7" };
    open_store(fx);
    raise_ok(fx, 7, "link_down", "link:JPR-MPLS-0042", 1000);
    assert_int_equal(rn_event_store_audit_add(fx->s, &au, on_done, &w), 0);
    drain(fx);
    assert_int_equal(w.status, 0);
    close_store(fx);
    open_store(fx);
    assert_int_equal(rn_event_store_max_alarm_id(fx->s), 7);
    rows_t r = { 0 };
    assert_int_equal(rn_event_store_alarms_active(fx->s, on_alarms, &r), 0);
    drain(fx);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ids[0], 7);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM audit WHERE actor = 'ravi'"), 1);
}

static void test_migrates_a_v1_file(void **state)
{
    fixture_t *fx = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, rn__event_store_migration(1), NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1; INSERT INTO alarms (id, type,"
                                      " severity, entity, raised_at_ms) VALUES (41, 'link_down',"
                                      " 'major', 'link:X', 10)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    open_store(fx);
    assert_int_equal(rn_event_store_max_alarm_id(fx->s), 41);
    assert_int_equal(rn_event_store_node_acked_seq_set(fx->s, "jaipur", 9), 0);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), RN_EVENT_STORE_VERSION);
    assert_int_equal(sql_int(fx->path, "SELECT acked_seq FROM node_delivery"), 9);
    assert_int_equal(sql_int(fx->path, "SELECT id FROM alarms"), 41);
}

static void test_newer_or_foreign_file_is_refused(void **state)
{
    fixture_t *fx = *state;
    sqlite3 *db;
    char err[256], want[200];
    rn_event_store_t *s = NULL;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(rn_event_store_open(&fx->loop, fx->path, &s, err, sizeof err), RN_EVERSION);
    assert_null(s);
    snprintf(want, sizeof want, "event store %s: schema version 99 is newer than this collector"
                                " knows (%d)", fx->path, RN_EVENT_STORE_VERSION);
    assert_non_null(strstr(err, want));
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 99); /* untouched */

    snprintf(want, sizeof want, "%s/not-a-db", fx->dir);
    FILE *f = fopen(want, "w");
    fputs("these are not the pages you are looking for\n", f);
    fclose(f);
    assert_int_equal(rn_event_store_open(&fx->loop, want, &s, err, sizeof err), -EIO);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "not a database"));
}

static void test_raise_events_clear_then_active_and_history(void **state)
{
    fixture_t *fx = *state;
    seen_t dup = { .fx = fx }, unknown = { .fx = fx }, json = { .fx = fx }, ok = { .fx = fx };
    seen_t no_root = { .fx = fx };
    open_store(fx);
    raise_ok(fx, 1, "link_down", "link:JPR-MPLS-0042", 1000);
    raise_ok(fx, 2, "node_silent", "node:jaipur/sanganer", 1500);
    rn_alarm_rec_t a = make_alarm(1, "link_down", "link:X", 5);
    assert_int_equal(rn_event_store_alarm_raise(fx->s, &a, on_done, &dup), 0);
    a = make_alarm(3, "link_down", "link:Y", 5);
    a.impact_nodes = "[not json";
    assert_int_equal(rn_event_store_alarm_raise(fx->s, &a, on_done, &json), 0);
    event(fx, 99, RN_HIST_COMMENT, 1600, "ravi", "no such alarm", &unknown);
    rn_alarm_hist_t orphan = { .alarm_id = 2, .kind = RN_HIST_SYMPTOM_OF, .root_id = 77 };
    assert_int_equal(rn_event_store_alarm_event(fx->s, &orphan, on_done, &no_root), 0);
    event(fx, 2, RN_HIST_SYMPTOM_OF, 1600, NULL, "below link 1", NULL);
    event(fx, 1, RN_HIST_ESCALATED, 1700, NULL, NULL, NULL);
    event(fx, 2, RN_HIST_PROMOTED, 1800, NULL, NULL, NULL);
    event(fx, 1, RN_HIST_CLEARED, 2000, NULL, NULL, &ok);
    drain(fx);
    /* failures in the group are rolled back alone; everything else committed */
    assert_int_equal(dup.status, -EEXIST);
    assert_int_equal(json.status, -EINVAL);
    assert_int_equal(unknown.status, -ENOENT);
    assert_int_equal(no_root.status, -ENOENT);
    assert_int_equal(ok.status, 0);
    assert_true(ok.on_loop_thread);

    rows_t act = { 0 }, hist = { 0 }, late = { 0 };
    assert_int_equal(rn_event_store_alarms_active(fx->s, on_alarms, &act), 0);
    assert_int_equal(rn_event_store_alarms_range(fx->s, 0, 3000, 0, on_alarms, &hist), 0);
    assert_int_equal(rn_event_store_alarms_range(fx->s, 2001, 3000, 0, on_alarms, &late), 0);
    drain(fx);
    assert_int_equal(act.n, 1);
    assert_string_equal(act.what[0], "node_silent S2 root=0 -|raised,symptom_of,promoted,");
    assert_int_equal(hist.n, 2);
    assert_string_equal(hist.what[0], "link_down S1 root=0 cleared -|raised,escalated,"
                                      "cleared,");
    assert_int_equal(hist.ids[1], 2);
    assert_int_equal(late.n, 1); /* alarm 1 cleared at 2000, before the range */
    assert_int_equal(late.ids[0], 2);
}

static void test_acknowledge_records_actor_and_comment(void **state)
{
    fixture_t *fx = *state;
    open_store(fx);
    raise_ok(fx, 5, "link_down", "link:AJM-RF-7", 1000);
    event(fx, 5, RN_HIST_ACKNOWLEDGED, 1234, "ravi", "called BSNL; docket 8812", NULL);
    drain(fx);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarms WHERE id = 5 AND acked_by ="
                                       " 'ravi' AND acked_at_ms = 1234 AND ack_comment ="
                                       " 'called BSNL; docket 8812'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events WHERE alarm_id = 5 AND"
                                       " kind = 'acknowledged' AND actor = 'ravi'"), 1);
}

static void outage(fixture_t *fx, uint64_t alarm_id, const char *entity, int64_t start,
                   bool planned, seen_t *w)
{
    rn_outage_rec_t o = { .alarm_id = alarm_id, .entity = entity, .kind = RN_OUTAGE_LINK,
                          .vendor = "bsnl", .circuit = entity, .root_cause = "fibre cut",
                          .start_ms = start, .planned = planned };
    assert_int_equal(rn_event_store_outage_open(fx->s, &o, w ? on_done : NULL, w), 0);
}

static void test_outages_overlapping_a_range(void **state)
{
    fixture_t *fx = *state;
    seen_t again = { .fx = fx }, dup = { .fx = fx }, clamp = { .fx = fx };
    open_store(fx);
    for (uint64_t id = 1; id <= 5; id++)
        raise_ok(fx, id, "link_down", "link:L", 10);
    outage(fx, 1, "A", 100, false, NULL);        /* before the range, ends inside */
    outage(fx, 2, "B", 300, false, NULL);        /* open: counts until now */
    outage(fx, 3, "C", 50, false, NULL);         /* ends before the range */
    outage(fx, 4, "D", 250, true, NULL);         /* inside, planned */
    outage(fx, 5, "E", 500, false, NULL);
    outage(fx, 1, "A", 100, false, &dup);
    assert_int_equal(rn_event_store_outage_close(fx->s, 1, 200, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_close(fx->s, 3, 90, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_close(fx->s, 4, 260, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_close(fx->s, 3, 95, on_done, &again), 0);
    assert_int_equal(rn_event_store_outage_close(fx->s, 5, 400, on_done, &clamp), 0);
    rows_t r = { 0 }, all = { 0 };
    assert_int_equal(rn_event_store_outages_range(fx->s, 150, 400, on_outages, &r), 0);
    assert_int_equal(rn_event_store_outages_range(fx->s, 0, 10000, on_outages, &all), 0);
    drain(fx);
    assert_int_equal(dup.status, -EEXIST);
    assert_int_equal(again.status, -ENOENT);
    assert_int_equal(clamp.status, 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.what[0], "A 100-200");
    assert_string_equal(r.what[1], "B 300--1");
    assert_string_equal(r.what[2], "D 250-260 planned");
    assert_int_equal(all.n, 5);
    assert_string_equal(all.what[4], "E 500-500"); /* an end before the start is clamped */
}

/* The ledger's calls: refine sets the times and the flag (an open outage stays open), adopt
 * hands an open row to another alarm, outages_open lists what is still open. */
static void test_outage_refine_adopt_and_open_list(void **state)
{
    fixture_t *fx = *state;
    seen_t bad = { .fx = fx }, none = { .fx = fx }, closed = { .fx = fx }, taken = { .fx = fx };
    open_store(fx);
    for (uint64_t id = 1; id <= 3; id++)
        raise_ok(fx, id, "link_down", "link:L", 10);
    outage(fx, 1, "A", 1000, false, NULL);
    outage(fx, 2, "B", 2000, false, NULL);
    assert_int_equal(rn_event_store_outage_close(fx->s, 1, 5000, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_refine(fx->s, 1, 1200, 4700, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_refine(fx->s, 2, 1900, 9999, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_refine(fx->s, 1, 6000, 7000, on_done, &bad), 0);
    assert_int_equal(rn_event_store_outage_refine(fx->s, 1, 600, 500, NULL, NULL), -EINVAL);
    assert_int_equal(rn_event_store_outage_refine(fx->s, 9, 600, 700, on_done, &none), 0);
    rows_t open = { 0 };
    assert_int_equal(rn_event_store_outages_open(fx->s, on_outages, &open), 0);
    drain(fx);
    assert_int_equal(bad.status, 0); /* moved as a whole: still a valid interval */
    assert_int_equal(none.status, -ENOENT);
    assert_int_equal(open.n, 1);
    assert_string_equal(open.what[0], "B 1900--1"); /* open: the end is not set by a refine */
    assert_int_equal(rn_event_store_outage_refine(fx->s, 1, 1200, 4700, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_adopt(fx->s, 2, 3, NULL, NULL), 0);
    assert_int_equal(rn_event_store_outage_adopt(fx->s, 1, 3, on_done, &closed), 0); /* ended */
    assert_int_equal(rn_event_store_outage_adopt(fx->s, 2, 1, on_done, &taken), 0);
    rows_t all = { 0 };
    assert_int_equal(rn_event_store_outages_range(fx->s, 0, 100000, on_outages, &all), 0);
    drain(fx);
    assert_int_equal(closed.status, -ENOENT);
    assert_int_equal(taken.status, 0); /* A's alarm 1 may own B too: (alarm, entity) is unique */
    assert_int_equal(all.n, 2);
    assert_string_equal(all.what[0], "A 1200-4700");
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "SELECT refined FROM outages WHERE entity = 'A'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT alarm_id FROM outages WHERE entity = 'B'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM outages WHERE end_ms IS NULL"), 1);
}

/* A v2 file (before the ledger) gets the refined column, 0 for its rows. */
static void test_migrates_a_v2_file_to_refined_rows(void **state)
{
    fixture_t *fx = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, rn__event_store_migration(1), NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, rn__event_store_migration(2), NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2; INSERT INTO alarms (id, type,"
                                      " severity, entity, raised_at_ms) VALUES (4, 'link_down',"
                                      " 'major', 'X', 10); INSERT INTO outages (alarm_id, entity,"
                                      " kind, start_ms) VALUES (4, 'X', 'link', 10)", NULL, NULL,
                                      NULL), SQLITE_OK);
    sqlite3_close(db);
    open_store(fx);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), RN_EVENT_STORE_VERSION);
    assert_int_equal(sql_int(fx->path, "SELECT refined FROM outages WHERE alarm_id = 4"), 0);
}

/* Makes a v4 file (the schema before the vocabulary) at path with sql run after the schema. */
static void make_v4_file(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int v = 1; v <= 4; v++)
        assert_int_equal(sqlite3_exec(db, rn__event_store_migration(v), NULL, NULL, NULL),
                         SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("v4 file: %s", err);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Rows of a v4 file in every older spelling: what a collector before the vocabulary stored
 * ("link down", "VC quality low", "S1") and what other writers put there ("critical", "2"). */
static const char v4_rows[] =
    "INSERT INTO alarms (id, type, severity, entity, raised_at_ms) VALUES"
    " (1, 'link down', 'S1', 'A', 10), (2, 'VC quality low', 'S2', 'vc', 11),"
    " (3, 'certificate expiring', 'S3', 'portal', 12), (4, 'VC_quality_low', 'major', 'vc', 13),"
    " (5, 'certificate_expiring', 'minor', 'x', 14), (6, 'node silent', 'critical', 'n', 15),"
    " (7, 'camera offline', '2', 'cctv:ps', 16), (8, 'service unreachable', 's3', 'svc', 17),"
    " (9, 'link_down', 'S1', 'B', 18), (10, 'a newer word', 'S9', 'C', 19),"
    " (11, 'redundancy lost', '1', 'D', 20), (12, 'path lost', 'S2', 'E', 21),"
    " (13, 'link degraded', 'S2', 'F', 22), (14, 'link flapping', 'S2', 'G', 23),"
    " (15, 'node isolated', 'S1', 'H', 24), (16, 'agent down', 'S3', 'I', 25),"
    " (17, 'service down', 'S2', 'J', 26), (18, 'device replaced', 'S3', 'K', 27),"
    " (19, 'contract expiring', 'S3', 'L', 28);"
    "INSERT INTO alarm_events (alarm_id, kind, at_ms, actor, severity) VALUES"
    " (1, 'raised', 10, 'engine', 'critical'), (1, 'escalated', 20, 'engine', 'major'),"
    " (1, 'cleared', 30, 'engine', NULL), (2, 'raised', 11, 'engine', 'S2');";

/* Schema 5 rewrites every stored type and severity to the vocabulary's one spelling, in one
 * transaction at open; words it does not know stay as they are. */
static void test_migrates_a_v4_file_to_one_vocabulary(void **state)
{
    fixture_t *fx = *state;
    static const struct {
        uint64_t id;
        const char *type, *severity;
    } want[] = {
        { 1, "link_down", "S1" }, { 2, "vc_quality", "S2" }, { 3, "cert_expiring", "S3" },
        { 4, "vc_quality", "S2" }, { 5, "cert_expiring", "S3" }, { 6, "node_silent", "S1" },
        { 7, "camera_offline", "S2" }, { 8, "service_unreachable", "S3" }, { 9, "link_down", "S1" },
        { 10, "a newer word", "S9" }, { 11, "redundancy_lost", "S1" }, { 12, "path_lost", "S2" },
        { 13, "link_degraded", "S2" }, { 14, "link_flapping", "S2" }, { 15, "node_isolated", "S1" },
        { 16, "agent_down", "S3" }, { 17, "service_down", "S2" }, { 18, "device_replaced", "S3" },
        { 19, "contract_expiring", "S3" },
    };
    make_v4_file(fx->path, v4_rows);
    open_store(fx);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), RN_EVENT_STORE_VERSION);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT id, type, severity FROM alarms ORDER BY id",
                                        -1, &st, NULL), SQLITE_OK);
    size_t n = 0;
    bool seen[RN_ALARM_TYPE_COUNT] = { false };
    for (; sqlite3_step(st) == SQLITE_ROW; n++) {
        assert_true(n < sizeof want / sizeof want[0]);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        assert_int_equal(sqlite3_column_int64(st, 0), want[n].id);
        assert_string_equal(type, want[n].type);
        assert_string_equal((const char *)sqlite3_column_text(st, 2), want[n].severity);
        int t = rn_alarm_type_parse(type); /* the migration and the parser agree */
        if (t >= 0) {
            assert_string_equal(type, rn_alarm_type_name((rn_alarm_type_t)t));
            seen[t] = true;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(n, sizeof want / sizeof want[0]);
    /* every type a v4 collector could store had an old row (types added since have none) */
    for (int t = 0; t <= RN_ALARM_CAMERA_OFFLINE; t++)
        assert_true(seen[t]);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events WHERE alarm_id = 1"
                                       " AND kind = 'raised' AND severity = 'S1'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events WHERE alarm_id = 1"
                                       " AND kind = 'escalated' AND severity = 'S2'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events"
                                       " WHERE severity IS NULL"), 1);
}

/* A migration that fails half way leaves the file as it was: the alarms already rewritten are
 * rolled back with the rest, the version stays 4, and the open says why. */
static void test_failed_v5_migration_changes_nothing(void **state)
{
    fixture_t *fx = *state;
    char err[256];
    rn_event_store_t *s = NULL;
    /* the events' update runs after the alarms'; a trigger makes it fail */
    char sql[sizeof v4_rows + 200];
    snprintf(sql, sizeof sql, "%s CREATE TRIGGER no_update BEFORE UPDATE ON alarm_events"
                              " BEGIN SELECT RAISE(ABORT, 'read-only history'); END;", v4_rows);
    make_v4_file(fx->path, sql);
    assert_true(rn_event_store_open(&fx->loop, fx->path, &s, err, sizeof err) < 0);
    assert_null(s);
    assert_non_null(strstr(err, "migration failed: read-only history"));
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 4);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarms WHERE type = 'link down'"
                                       " AND severity = 'S1'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarms WHERE type = 'vc_quality'"),
                     0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarms WHERE id = 4"
                                       " AND severity = 'major'"), 1);
}

/* An engine alarm as the ledger sees it. */
static rn_alarm_t engine_alarm(uint64_t id, const char *circuit, int64_t since)
{
    return (rn_alarm_t){ .id = id, .type = RN_ALARM_LINK_DOWN, .severity = 1, .entity = circuit,
                         .node = "ajmer/kishangarh", .vendor = "railtel", .circuit = circuit,
                         .since_ms = since, .raised_ms = since + 3000, .text = "link down" };
}

/* Restart reconciliation (alarm_log.c): the last run (killed) left alarm 7's outage on K open
 * and alarm 8 (silent) active, and alarm 5's outage on Q open. After the restart the engine
 * raises 9 for K while the open rows are still loading and, once they are known, 10 for Q:
 * each continues the old row (one row per cut, the old start kept), the stale alarms are
 * cleared, and when 9 clears, K's row ends at its first good round. */
static void test_restart_adopts_the_open_row(void **state)
{
    fixture_t *fx = *state;
    open_store(fx);
    raise_ok(fx, 5, "link_down", "Q", 500);
    raise_ok(fx, 7, "link_down", "K", 1000);
    raise_ok(fx, 8, "node_silent", "ajmer", 1100);
    outage(fx, 5, "Q", 500, false, NULL);
    outage(fx, 7, "K", 1000, false, NULL);
    drain(fx);
    close_store(fx); /* (a SIGKILL leaves the same committed rows: test_sigkill_... ) */
    open_store(fx);
    rn_alarm_log_t log = { .store = fx->s };
    rn_rrd_store_t *rrd = NULL;
    rn_topology_t *topo = NULL;
    rn_alarm_engine_t *engine = NULL;
    assert_int_equal(rn_alarm_log_start(&log, &fx->loop, &rrd, &topo, &engine, 30000), 0);
    rn_alarm_t k = engine_alarm(9, "K", 33000), q = engine_alarm(10, "Q", 34000);
    rn_alarm_log(&log, RN_ALARM_EV_RAISED, &k, 36000); /* before the rows are loaded */
    drain(fx);
    rn_alarm_log(&log, RN_ALARM_EV_RAISED, &q, 37000);
    drain(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM outages"), 2);
    assert_int_equal(sql_int(fx->path, "SELECT alarm_id FROM outages WHERE entity = 'K'"), 9);
    assert_int_equal(sql_int(fx->path, "SELECT start_ms FROM outages WHERE entity = 'K'"), 1000);
    assert_int_equal(sql_int(fx->path, "SELECT alarm_id FROM outages WHERE entity = 'Q'"), 10);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarms WHERE id IN (5, 7, 8)"
                                       " AND cleared_at_ms IS NOT NULL"), 3);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events WHERE alarm_id = 7"
                                       " AND kind = 'cleared' AND detail LIKE"
                                       " 'superseded by alarm 9%'"), 1);
    k.until_ms = 61000;
    rn_alarm_log(&log, RN_ALARM_EV_CLEARED, &k, 64000);
    drain(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM outages WHERE entity = 'K'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT end_ms - start_ms FROM outages"
                                       " WHERE entity = 'K'"), 60000);
    /* its refinements find no probe files: the row stays as the engine closed it */
    for (int64_t t = 64000; t <= 64000 + 121000; t += 1000) {
        rn_alarm_log_tick(&log, t);
        drain(fx);
    }
    assert_int_equal(sql_int(fx->path, "SELECT refined FROM outages WHERE entity = 'K'"), 0);
    rn_alarm_log_free(&log);
}

/* An open row with no evidence either way (no alarm raised again, no probe files): closed at
 * the restart once RN_ALARM_LOG_RECONCILE_MS have passed, never before, and its alarm cleared. */
static void test_restart_without_evidence_closes_at_the_restart(void **state)
{
    fixture_t *fx = *state;
    open_store(fx);
    raise_ok(fx, 7, "link_down", "K", 1000);
    outage(fx, 7, "K", 1000, false, NULL);
    drain(fx);
    close_store(fx);
    open_store(fx);
    rn_alarm_log_t log = { .store = fx->s };
    rn_rrd_store_t *rrd = NULL;
    rn_topology_t *topo = NULL;
    rn_alarm_engine_t *engine = NULL;
    int64_t restart = 30000;
    assert_int_equal(rn_alarm_log_start(&log, &fx->loop, &rrd, &topo, &engine, restart), 0);
    drain(fx);
    for (int64_t t = restart; t < restart + RN_ALARM_LOG_RECONCILE_MS; t += 1000) {
        rn_alarm_log_tick(&log, t);
        drain(fx);
    }
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM outages WHERE end_ms IS NULL"), 1);
    rn_alarm_log_tick(&log, restart + RN_ALARM_LOG_RECONCILE_MS + 2000);
    drain(fx);
    rn_alarm_log_tick(&log, restart + RN_ALARM_LOG_RECONCILE_MS + 4000);
    drain(fx);
    assert_int_equal(sql_int(fx->path, "SELECT end_ms FROM outages WHERE entity = 'K'"), restart);
    assert_int_equal(sql_int(fx->path, "SELECT cleared_at_ms FROM alarms WHERE id = 7"), restart);
    rn_alarm_log_free(&log);
}

static void test_maintenance_add_list_delete(void **state)
{
    fixture_t *fx = *state;
    seen_t a = { .fx = fx }, b = { .fx = fx }, del = { .fx = fx }, del2 = { .fx = fx };
    rn_maintenance_rec_t m = { .entity = "link:JPR-MPLS-0042", .start_ms = 1000, .end_ms = 2000,
                               .reason = "fibre splice", .created_by = "ravi",
                               .created_at_ms = 900 };
    open_store(fx);
    assert_int_equal(rn_event_store_maintenance_add(fx->s, &m, on_id, &a), 0);
    m.entity = "node:ajmer";
    m.start_ms = 3000;
    m.end_ms = 4000;
    m.reason = NULL;
    assert_int_equal(rn_event_store_maintenance_add(fx->s, &m, on_id, &b), 0);
    m.end_ms = m.start_ms;
    assert_int_equal(rn_event_store_maintenance_add(fx->s, &m, on_id, &b), -EINVAL);
    rows_t r1 = { 0 }, r2 = { 0 };
    assert_int_equal(rn_event_store_maintenance_list(fx->s, 1500, 3500, on_maint, &r1), 0);
    drain(fx);
    assert_int_equal(a.status, 0);
    assert_int_equal(b.fired, 1);
    assert_true(a.id > 0 && b.id > a.id);
    assert_int_equal(r1.n, 2);
    assert_string_equal(r1.what[0], "link:JPR-MPLS-0042 1000-2000 fibre splice by ravi");
    assert_string_equal(r1.what[1], "node:ajmer 3000-4000  by ravi");
    assert_int_equal(rn_event_store_maintenance_delete(fx->s, a.id, on_done, &del), 0);
    assert_int_equal(rn_event_store_maintenance_delete(fx->s, a.id, on_done, &del2), 0);
    assert_int_equal(rn_event_store_maintenance_list(fx->s, 0, 2000, on_maint, &r2), 0);
    drain(fx);
    assert_int_equal(del.status, 0);
    assert_int_equal(del2.status, -ENOENT);
    assert_int_equal(r2.n, 0);
}

static void collect_seq(void *data, const char *node, uint64_t seq)
{
    uint64_t *seqs = data;
    int i = atoi(node + 4); /* "node<i>" */
    seqs[i] = seq;
}

static void on_wait_timer(uv_timer_t *t)
{
    (void)t;
}

static void test_node_acked_seq_is_coalesced(void **state)
{
    fixture_t *fx = *state;
    rn_event_store_stats_t before, after;
    uv_timer_t wait;
    char node[32];
    open_store(fx);
    rn_event_store_stats(fx->s, &before);
    for (int i = 0; i < 1000; i++) {
        snprintf(node, sizeof node, "node%d", i % 10);
        assert_int_equal(rn_event_store_node_acked_seq_set(fx->s, node, (uint64_t)i), 0);
    }
    uv_timer_init(&fx->loop, &wait);
    uv_timer_start(&wait, on_wait_timer, 1300, 0); /* past the store's ~1 s flush */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    rn_event_store_stats(fx->s, &after);
    printf("# node_acked_seq: 1000 updates of 10 nodes -> %llu transaction(s), %llu rows\n",
           (unsigned long long)(after.transactions - before.transactions),
           (unsigned long long)(after.seq_rows - before.seq_rows));
    assert_int_equal(after.transactions - before.transactions, 1);
    assert_int_equal(after.seq_rows - before.seq_rows, 10);
    assert_int_equal(sql_int(fx->path, "SELECT max(acked_seq) FROM node_delivery"), 999);
    /* later values ride with the close */
    assert_int_equal(rn_event_store_node_acked_seq_set(fx->s, "node3", 5000), 0);
    uv_close((uv_handle_t *)&wait, NULL);
    close_store(fx);
    open_store(fx);
    uint64_t seqs[10] = { 0 };
    rn_event_store_node_acked_seq_load_all(fx->s, collect_seq, seqs);
    for (int i = 0; i < 10; i++)
        assert_int_equal(seqs[i], i == 3 ? 5000 : (uint64_t)(990 + i));
}

typedef struct {
    fixture_t *fx;
    int left, failed;
    double t_last;
    double lat_sum, lat_max, t_submit;
} bench_t;

static void on_bench_event(void *data, int status)
{
    bench_t *b = data;
    b->failed += status != 0;
    if (--b->left == 0)
        b->t_last = now_s();
}

static void on_latency_event(void *data, int status);

/* Submits one comment event for the latency run. */
static void latency_next(bench_t *b)
{
    rn_alarm_hist_t e = { .alarm_id = 1, .kind = RN_HIST_COMMENT, .at_ms = 1, .detail = "l" };
    b->t_submit = now_s();
    assert_int_equal(rn_event_store_alarm_event(b->fx->s, &e, on_latency_event, b), 0);
}

static void on_latency_event(void *data, int status)
{
    bench_t *b = data;
    double lat = now_s() - b->t_submit;
    b->failed += status != 0;
    b->lat_sum += lat;
    if (lat > b->lat_max)
        b->lat_max = lat;
    if (--b->left > 0)
        latency_next(b);
}

static void test_group_commit_throughput_and_latency(void **state)
{
    fixture_t *fx = *state;
    rn_event_store_stats_t before, after;
    bench_t b = { .fx = fx, .left = 10000 };
    char detail[64];
    open_store(fx);
    raise_ok(fx, 1, "link_down", "link:L", 1);
    drain(fx);
    rn_event_store_stats(fx->s, &before);
    double t0 = now_s();
    for (int i = 0; i < 10000; i++) {
        rn_alarm_hist_t e = { .alarm_id = 1, .kind = RN_HIST_COMMENT, .at_ms = i,
                               .actor = "bench", .detail = detail };
        snprintf(detail, sizeof detail, "event %d of the group-commit run", i);
        assert_int_equal(rn_event_store_alarm_event(fx->s, &e, on_bench_event, &b), 0);
    }
    drain(fx);
    rn_event_store_stats(fx->s, &after);
    assert_int_equal(b.failed, 0);
    printf("# group commit: 10000 alarm events queued at once: %.0f events/s, %llu transactions"
           " (largest %llu), %.1f ms in all\n", 10000 / (b.t_last - t0),
           (unsigned long long)(after.transactions - before.transactions),
           (unsigned long long)after.largest_group, (b.t_last - t0) * 1e3);
    assert_true(after.transactions - before.transactions < 100);

    bench_t l = { .fx = fx, .left = 50 };
    latency_next(&l);
    drain(fx);
    assert_int_equal(l.failed, 0);
    printf("# commit latency, one event at a time (fsync each): mean %.2f ms, max %.2f ms\n",
           l.lat_sum / 50 * 1e3, l.lat_max * 1e3);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events"), 1 + 10000 + 50);
}

static void test_full_database_is_reported(void **state)
{
    fixture_t *fx = *state;
    seen_t lim = { .fx = fx }, after = { .fx = fx };
    seen_t w[200];
    char big[2048];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    open_store(fx);
    raise_ok(fx, 1, "link_down", "link:L", 1);
    drain(fx);
    int64_t pages = sql_int(fx->path, "PRAGMA page_count");
    assert_int_equal(rn__event_store_limit_pages(fx->s, (uint32_t)pages + 4, on_done, &lim), 0);
    drain(fx);
    assert_int_equal(lim.status, 0);
    int full = 0;
    for (int round = 0; round < 10 && !full; round++) {
        for (int i = 0; i < 200; i++) {
            w[i] = (seen_t){ .fx = fx };
            event(fx, 1, RN_HIST_COMMENT, i, "filler", big, &w[i]);
        }
        drain(fx);
        for (int i = 0; i < 200; i++)
            full += w[i].status == -ENOSPC;
    }
    assert_true(full > 0);
    assert_int_equal(rn__event_store_limit_pages(fx->s, 0, NULL, NULL), 0);
    event(fx, 1, RN_HIST_COMMENT, 7, "ravi", "after the disk was freed", &after);
    drain(fx);
    assert_int_equal(after.status, 0);
    close_store(fx);
    assert_true(integrity_ok(fx->path));
}

/* On a full disk the ledger's writes (no callback: the alarm log's) are held and retried, and
 * all land once there is room; a write whose caller waits fails at once with -ENOSPC. */
static void test_full_disk_holds_ledger_writes(void **state)
{
    fixture_t *fx = *state;
    seen_t lim = { .fx = fx }, waited = { .fx = fx };
    rn_event_store_stats_t st;
    char big[2048];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    open_store(fx);
    raise_ok(fx, 1, "link_down", "link:L", 1);
    drain(fx);
    int64_t pages = sql_int(fx->path, "PRAGMA page_count");
    assert_int_equal(rn__event_store_limit_pages(fx->s, (uint32_t)pages + 4, on_done, &lim), 0);
    drain(fx);
    for (int i = 0; i < 200; i++)
        event(fx, 1, RN_HIST_COMMENT, 1000 + i, "engine", big, NULL);
    char *huge = malloc(40000); /* more than the 4 pages left: cannot fit */
    assert_non_null(huge);
    memset(huge, 'y', 39999);
    huge[39999] = '\0';
    event(fx, 1, RN_HIST_COMMENT, 5000, "ravi", huge, &waited);
    free(huge);
    for (int i = 0; i < 10000 && !waited.fired; i++)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(waited.status, -ENOSPC);
    rn_event_store_stats(fx->s, &st);
    assert_true(st.writes_held > 0);
    assert_int_equal(st.writes_lost, 0);
    printf("# full database: %llu ledger writes held\n", (unsigned long long)st.writes_held);
    assert_true(rn_event_store_pending(fx->s) >= st.writes_held);
    assert_int_equal(rn__event_store_limit_pages(fx->s, 0, NULL, NULL), 0);
    drain(fx); /* the held writes are retried within a second and commit */
    rn_event_store_stats(fx->s, &st);
    assert_int_equal(st.writes_held, 0);
    assert_int_equal(st.writes_lost, 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events WHERE at_ms >= 1000 "
                                       "AND at_ms < 1200"), 200);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events WHERE at_ms = 5000"), 0);
    close_store(fx);
    assert_true(integrity_ok(fx->path));
}

static void test_close_finishes_queued_jobs(void **state)
{
    fixture_t *fx = *state;
    seen_t w[100];
    int closed = 0;
    open_store(fx);
    raise_ok(fx, 1, "link_down", "link:L", 1);
    for (int i = 0; i < 100; i++) {
        w[i] = (seen_t){ .fx = fx };
        event(fx, 1, RN_HIST_COMMENT, i, NULL, "queued", &w[i]);
    }
    rn_event_store_close(fx->s, on_closed, &closed);
    rn_alarm_hist_t e = { .alarm_id = 1, .kind = RN_HIST_COMMENT };
    assert_int_equal(rn_event_store_alarm_event(fx->s, &e, NULL, NULL), -EINVAL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    fx->s = NULL;
    assert_int_equal(closed, 1);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(w[i].fired, 1);
        assert_int_equal(w[i].status, 0);
    }
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alarm_events"), 101);
}

static void test_sql_runs_on_the_worker_only(void **state)
{
    fixture_t *fx = *state;
    seen_t w = { .fx = fx };
    open_store(fx);
    uv_thread_t worker = rn__event_store_worker_thread(fx->s);
    assert_false(uv_thread_equal(&worker, &fx->loop_thread));
    raise_ok(fx, 1, "link_down", "link:L", 1);
    event(fx, 1, RN_HIST_CLEARED, 2, NULL, NULL, &w);
    drain(fx);
    assert_int_equal(w.status, 0);
    assert_true(w.on_loop_thread); /* callbacks on the loop; statements abort off the worker */
}

/* ---- SIGKILL durability ---------------------------------------------------------------------- */

typedef struct {
    rn_event_store_t *s;
    int fd;
    uint32_t round, next;
    char detail[32];
} writer_t;

static void on_writer_event(void *data, int status);

/* Queues the writer's next event (detail "<round>:<k>"). */
static void writer_next(writer_t *w)
{
    rn_alarm_hist_t e = { .alarm_id = w->round, .kind = RN_HIST_COMMENT, .at_ms = w->next,
                           .actor = "child", .detail = w->detail };
    uint32_t *k = malloc(sizeof *k);
    *k = w->next++;
    snprintf(w->detail, sizeof w->detail, "%u:%u", w->round, *k);
    if (rn_event_store_alarm_event(w->s, &e, on_writer_event, k) != 0)
        _exit(3);
}

static writer_t *the_writer; /* the child process's one writer */

/* A committed event: tell the parent, then keep the pipeline full. */
static void on_writer_event(void *data, int status)
{
    uint32_t *k = data;
    if (status != 0 || write(the_writer->fd, k, sizeof *k) != sizeof *k)
        _exit(4);
    free(k);
    writer_next(the_writer);
}

/* The child: opens the store, raises alarm <round>, then writes events forever, 64 in flight. */
static void child_writer(const char *path, int fd, uint32_t round)
{
    uv_loop_t loop;
    writer_t w = { .fd = fd, .round = round };
    rn_alarm_rec_t a = make_alarm(round, "link_down", "link:K", 1);
    uv_loop_init(&loop);
    if (rn_event_store_open(&loop, path, &w.s, NULL, 0) != 0 ||
        rn_event_store_alarm_raise(w.s, &a, NULL, NULL) != 0)
        _exit(2);
    the_writer = &w;
    for (int i = 0; i < 64; i++)
        writer_next(&w);
    uv_run(&loop, UV_RUN_DEFAULT);
    _exit(5);
}

static void test_sigkill_loses_no_committed_event(void **state)
{
    fixture_t *fx = *state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (uint32_t round = 1; round <= 4; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        fflush(stdout);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child_writer(fx->path, p[1], round);
        }
        close(p[1]);
        size_t cap = 1 << 20, n = 0;
        uint32_t *got = malloc(cap * sizeof *got), k;
        double kill_at = now_s() + 0.1 + (rand() % 400) / 1000.0;
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        while (now_s() < kill_at)
            if (poll(&pfd, 1, 5) > 0 && read(p[0], &k, sizeof k) == sizeof k && n < cap)
                got[n++] = k;
        kill(pid, SIGKILL);
        int wst;
        assert_int_equal(waitpid(pid, &wst, 0), pid);
        assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
        while (read(p[0], &k, sizeof k) == sizeof k && n < cap)
            got[n++] = k;
        close(p[0]);
        assert_true(integrity_ok(fx->path));
        open_store(fx); /* recovers the WAL, checks the schema */
        close_store(fx);
        assert_true(integrity_ok(fx->path));
        int64_t stored = sql_int(fx->path, "SELECT count(*) FROM alarm_events WHERE kind ="
                                           " 'comment'");
        /* one pass over the round's events, then every reported one must be among them */
        uint32_t max_k = 0;
        for (size_t i = 0; i < n; i++)
            max_k = got[i] > max_k ? got[i] : max_k;
        unsigned char *present = calloc(max_k + 1, 1);
        sqlite3 *db;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT detail FROM alarm_events WHERE"
                                                " alarm_id = ?1 AND kind = 'comment'", -1, &st,
                                            NULL), SQLITE_OK);
        sqlite3_bind_int64(st, 1, round);
        while (sqlite3_step(st) == SQLITE_ROW) {
            unsigned r, kk;
            if (sscanf((const char *)sqlite3_column_text(st, 0), "%u:%u", &r, &kk) == 2 &&
                r == round && kk <= max_k)
                present[kk] = 1;
        }
        sqlite3_finalize(st);
        for (size_t i = 0; i < n; i++)
            if (!present[got[i]])
                fail_msg("round %u: event %u reported committed but missing", round, got[i]);
        free(present);
        sqlite3_close(db);
        printf("# SIGKILL round %u: %zu events reported committed, all present (%lld stored in"
               " all); integrity ok\n", round, n, (long long)stored);
        free(got);
    }
}

/* ---- the alarm listing (GET /api/v1/alarms) ------------------------------------------------ */

static void raise_under(fixture_t *fx, uint64_t id, uint64_t root, const char *node, int64_t at)
{
    rn_alarm_rec_t a = make_alarm(id, "link_down", "link:x", at);
    a.root_id = root;
    a.node = node;
    assert_int_equal(rn_event_store_alarm_raise(fx->s, &a, NULL, NULL), 0);
}

/* Runs one listing and returns its ids, in order, as "6 5 1 2 3". */
static const char *listing(fixture_t *fx, bool active, int64_t from, size_t roots, size_t rows)
{
    static char out[128];
    rows_t r = { 0 };
    rn_alarm_list_t q = { .active = active, .from_ms = from, .to_ms = 10000, .max_roots = roots,
                          .max_rows = rows };
    assert_int_equal(rn_event_store_alarms_list(fx->s, &q, on_alarms, &r), 0);
    drain(fx);
    assert_int_equal(r.fired, 1);
    assert_int_equal(r.status, 0);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r.n && i < 16; i++) {
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%llu", i ? " " : "",
                              (unsigned long long)r.ids[i]);
        assert_null(strchr(r.what[i], ',')); /* no history loaded */
    }
    return out;
}

/* 1 (roots: 2, 3), 4 cleared at 2500 (root of 5, active), 6 on ajmer (root of 7, cleared at
 * 3100). The listing gives the newest roots, then their symptoms, stops at max_rows, and takes
 * an alarm whose root it leaves out for a root. */
static void test_alarm_listing_is_bounded_and_grouped(void **state)
{
    fixture_t *fx = *state;
    open_store(fx);
    raise_under(fx, 1, 0, "jaipur", 1000);
    raise_under(fx, 2, 1, "jaipur", 1100);
    raise_under(fx, 3, 1, "jaipur", 1200);
    raise_under(fx, 4, 0, "jaipur", 2000);
    raise_under(fx, 5, 4, "jaipur", 2100);
    raise_under(fx, 6, 0, "ajmer", 3000);
    raise_under(fx, 7, 6, "jaipur", 3050);
    event(fx, 4, RN_HIST_CLEARED, 2500, NULL, NULL, NULL);
    event(fx, 7, RN_HIST_CLEARED, 3100, NULL, NULL, NULL);
    drain(fx);
    assert_string_equal(listing(fx, true, 0, 10, 100), "6 5 1 2 3"); /* 5: its root cleared */
    assert_string_equal(listing(fx, false, 0, 2, 100), "6 4 7 5");
    assert_string_equal(listing(fx, false, 0, 3, 4), "6 4 1 7");      /* max_rows */
    assert_string_equal(listing(fx, false, 2600, 10, 100), "6 5 1 7 2 3"); /* 4 out of range */
    assert_string_equal(listing(fx, true, 0, 1, 1), "6");

    rn_alarm_list_t bad = { .max_roots = 0, .max_rows = 5 };
    assert_int_equal(rn_event_store_alarms_list(fx->s, &bad, on_alarms, NULL), -EINVAL);
    bad.max_roots = 6;
    assert_int_equal(rn_event_store_alarms_list(fx->s, &bad, on_alarms, NULL), -EINVAL);

    rows_t one = { 0 }, none = { 0 }, node = { 0 };
    assert_int_equal(rn_event_store_alarm_get(fx->s, 5, on_alarms, &one), 0);
    assert_int_equal(rn_event_store_alarm_get(fx->s, 99, on_alarms, &none), 0);
    assert_int_equal(rn_event_store_alarms_node(fx->s, "jaipur", 0, 10000, 5, on_alarms, &node),
                     0);
    drain(fx);
    assert_int_equal(one.n, 1);
    assert_int_equal(one.ids[0], 5);
    assert_int_equal(none.fired, 1);
    assert_int_equal(none.n, 0);
    assert_int_equal(node.n, 5); /* active newest id first, then last cleared first; not 6 */
    uint64_t want[] = { 5, 3, 2, 1, 7 };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(node.ids[i], want[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_schema_at_current_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_a_v1_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_or_foreign_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raise_events_clear_then_active_and_history, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_acknowledge_records_actor_and_comment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outages_overlapping_a_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage_refine_adopt_and_open_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_a_v2_file_to_refined_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrates_a_v4_file_to_one_vocabulary, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_v5_migration_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_adopts_the_open_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_without_evidence_closes_at_the_restart,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_maintenance_add_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_acked_seq_is_coalesced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_throughput_and_latency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_database_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_holds_ledger_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_finishes_queued_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_runs_on_the_worker_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_loses_no_committed_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_listing_is_bounded_and_grouped, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
