/* API answers from the event store (docs/api.md): alarms with their history of acks, outages,
 * maintenance windows, and the writes (ack, comment, maintenance add/delete), each recorded in
 * the audit log with the token's name. Every call here is a job on the event store's thread: the
 * request is suspended until the job's callback fires on the loop.
 *
 * This file includes event_store.h and never alarm.h (see http_int.h); what it needs of the
 * alarm engine comes through rn__api_*. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "events/event_store.h"
#include "http/http_int.h"
#include "log.h"

#define DAY_MS 86400000LL
/* How far before now a maintenance window may start without role admin: time for a form to be
 * filled in, not for a past outage to be declared planned (docs/api.md). */
#define MAINT_GRACE_MS (5 * 60 * 1000LL)
#define NODE_CLEARED_MAX 20
/* A node's answer reads at most this many of its alarms from the store, active ones first. */
#define NODE_ALARMS_MAX 500

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *json_text_array(const char *s)
{
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    if (!json_is_array(j)) {
        json_decref(j);
        j = json_array();
    }
    return j;
}

static json_t *alarm_rec_json(const rn_alarm_rec_t *a)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer((json_int_t)a->id));
    json_object_set_new(j, "type", json_string(rn__api_type_name(a->type)));
    json_object_set_new(j, "severity", json_integer(rn__api_severity_num(a->severity)));
    json_object_set_new(j, "node", str_or_null(a->node));
    json_object_set_new(j, "entity", str_or_null(a->entity));
    json_object_set_new(j, "vendor", str_or_null(a->vendor));
    json_object_set_new(j, "circuit", str_or_null(a->circuit));
    json_object_set_new(j, "root_id", json_integer((json_int_t)a->root_id));
    json_object_set_new(j, "text", json_string(a->text ? a->text : ""));
    json_object_set_new(j, "impact_nodes", json_text_array(a->impact_nodes));
    json_object_set_new(j, "impact_services", json_text_array(a->impact_services));
    json_object_set_new(j, "raised_ms", json_integer(a->raised_at_ms));
    json_object_set_new(j, "cleared_ms", a->cleared ? json_integer(a->cleared_at_ms) : json_null());
    json_object_set_new(j, "planned", json_boolean(a->planned));
    json_object_set_new(j, "acked_by", str_or_null(a->acked_by));
    json_object_set_new(j, "acked_ms", a->acked_by ? json_integer(a->acked_at_ms) : json_null());
    json_object_set_new(j, "ack_comment", a->acked_by ? str_or_null(a->ack_comment) : json_null());
    return j;
}

static json_t *outage_json(const rn_outage_rec_t *o)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:b, s:b}", "id",
                     (json_int_t)o->id, "alarm_id", (json_int_t)o->alarm_id, "entity",
                     o->entity ? o->entity : "", "kind", o->kind == RN_OUTAGE_LINK ? "link" : "node",
                     "vendor", str_or_null(o->vendor), "circuit", str_or_null(o->circuit),
                     "root_cause", str_or_null(o->root_cause), "start_ms", (json_int_t)o->start_ms,
                     "end_ms", o->ended ? json_integer(o->end_ms) : json_null(), "planned",
                     o->planned, "refined", o->refined);
}

static json_t *maint_json(const rn_maintenance_rec_t *m)
{
    return json_pack("{s:I, s:s, s:I, s:I, s:o, s:o}", "id", (json_int_t)m->id, "entity",
                     m->entity ? m->entity : "", "start_ms", (json_int_t)m->start_ms, "end_ms",
                     (json_int_t)m->end_ms, "reason", str_or_null(m->reason), "created_by",
                     str_or_null(m->created_by));
}

/* HTTP status for an event store error. */
static unsigned status_of(int err)
{
    return err == -ENOENT ? 404 : err == -EINVAL ? 400 : err == -EEXIST ? 409 : 503;
}

static void audit(rn_http_t *h, const rn_http_token_t *t, const char *action, const char *detail)
{
    rn_audit_rec_t a = { rn_clock_wall_ms(), t->name, t->role, action, detail };
    rn_event_store_audit_add(h->events, &a, NULL, NULL);
}

/* report.h: the audit entry of POST /api/v1/report/deliver (report_api.c). */
void rn__db_audit(rn_http_req_t *r, const char *action, const char *detail)
{
    if (r->http->events && r->token && !r->http->closing)
        audit(r->http, r->token, action, detail);
}

/* Replies 503 and returns false without an event store. */
static bool need_store(rn_http_req_t *r)
{
    if (r->http->events)
        return true;
    rn__http_error(r, 503, "the event store is not available");
    return false;
}

size_t rn__db_pending(rn_http_t *h)
{
    return h->events ? rn_event_store_pending(h->events) : 0;
}

/* ---------------------------------------------------------------- GET /api/v1/nodes/{id} */

typedef struct {
    rn_http_job_t job;
    json_t *node;                 /* the answer so far */
    json_t *circuits;
    char *id;
    int pending, err;
    json_t *alarms, *outages;
} node_job_t;

static void node_finish(node_job_t *j)
{
    if (--j->pending > 0)
        return;
    rn_http_t *h = j->job.http;
    json_t *node = j->node, *alarms = j->alarms, *outages = j->outages;
    int err = j->err;
    char *id = j->id;
    json_decref(j->circuits);
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (r && err) {
        rn__http_error(r, status_of(err), "event store: %s", rn_strerror(err));
    } else if (r) {
        rn__db_merge_engine(h, alarms, true, id);
        json_object_set_new(node, "alarms", alarms);
        json_object_set_new(node, "outages", outages);
        rn__http_json(r, 200, node);
        node = alarms = outages = NULL;
    }
    json_decref(node);
    json_decref(alarms);
    json_decref(outages);
    free(id);
}

static int cmp_cleared_desc(const void *x, const void *y)
{
    const rn_alarm_rec_t *a = *(const rn_alarm_rec_t *const *)x, *b = *(const rn_alarm_rec_t *const *)y;
    return a->cleared_at_ms < b->cleared_at_ms ? 1 : a->cleared_at_ms > b->cleared_at_ms ? -1 : 0;
}

static void node_alarms_done(void *data, int status, const rn_alarm_rec_t *a, size_t n)
{
    node_job_t *j = data;
    if (status)
        j->err = status;
    const rn_alarm_rec_t **cleared = calloc(n ? n : 1, sizeof *cleared);
    size_t nc = 0;
    for (size_t i = 0; i < n && cleared; i++) {
        if (!a[i].node || strcmp(a[i].node, j->id))
            continue;
        if (a[i].cleared)
            cleared[nc++] = &a[i];
        else
            json_array_append_new(j->alarms, alarm_rec_json(&a[i]));
    }
    if (cleared) {
        qsort(cleared, nc, sizeof *cleared, cmp_cleared_desc);
        for (size_t i = 0; i < nc && i < NODE_CLEARED_MAX; i++)
            json_array_append_new(j->alarms, alarm_rec_json(cleared[i]));
    }
    free(cleared);
    node_finish(j);
}

static void node_outages_done(void *data, int status, const rn_outage_rec_t *o, size_t n)
{
    node_job_t *j = data;
    if (status)
        j->err = status;
    for (size_t i = 0; i < n; i++) {
        bool mine = o[i].entity && !strcmp(o[i].entity, j->id);
        size_t k;
        json_t *c;
        json_array_foreach(j->circuits, k, c)
            mine |= (o[i].circuit && !strcmp(o[i].circuit, json_string_value(c))) ||
                    (o[i].entity && !strcmp(o[i].entity, json_string_value(c)));
        if (mine)
            json_array_append_new(j->outages, outage_json(&o[i]));
    }
    node_finish(j);
}

void rn__db_node(rn_http_req_t *r, const char *id, json_t *node)
{
    rn_http_t *h = r->http;
    node_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j || !(j->id = strdup(id))) {
        if (j)
            rn__http_job_cancel(&j->job);
        json_decref(node);
        return rn__http_error(r, 503, "out of memory");
    }
    j->node = node;
    j->circuits = rn__api_node_circuits(h, id);
    j->alarms = json_array();
    j->outages = json_array();
    int64_t now = rn_clock_wall_ms();
    j->pending = 1; /* ours, until both are submitted */
    if (rn_event_store_alarms_node(h->events, id, now - 30 * DAY_MS, now + 1, NODE_ALARMS_MAX,
                                   node_alarms_done, j) == 0)
        j->pending++;
    if (rn_event_store_outages_range(h->events, now - 30 * DAY_MS, now + 1, node_outages_done,
                                     j) == 0)
        j->pending++;
    else
        j->err = -EIO;
    if (j->pending == 1) { /* nothing submitted: answer now */
        node_finish(j);
        return;
    }
    rn__http_suspend(r);
    node_finish(j); /* drops our count; the callbacks cannot have fired yet */
}

/* ---------------------------------------------------------------- outages, maintenance */

typedef struct {
    rn_http_job_t job;
    char vendor[128];
    bool has_vendor;
} outages_job_t;

static void outages_done(void *data, int status, const rn_outage_rec_t *o, size_t n)
{
    outages_job_t *j = data;
    char vendor[128];
    bool has_vendor = j->has_vendor;
    memcpy(vendor, j->vendor, sizeof vendor);
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (!r)
        return;
    if (status)
        return rn__http_error(r, status_of(status), "event store: %s", rn_strerror(status));
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        if (!has_vendor || (o[i].vendor && !strcmp(o[i].vendor, vendor)))
            json_array_append_new(out, outage_json(&o[i]));
    rn__http_json(r, 200, json_pack("{s:o}", "outages", out));
}

/* GET /api/v1/outages: closed and open outages from the event store (503 without one). */
static void db_outages(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    static const char *const allowed[] = { "from", "to", "vendor", NULL };
    rn_http_t *h = r->http;
    int64_t now = rn_clock_wall_ms(), from, to;
    if (!rn__http_args_only(r, allowed) ||
        !rn__http_arg_int(r, "from", now - 30 * DAY_MS, 0, INT64_MAX / 2, &from) ||
        !rn__http_arg_int(r, "to", now + 1, 0, INT64_MAX / 2, &to))
        return;
    if (to <= from)
        return rn__http_error(r, 400, "to: must be after from");
    const char *vendor = rn__http_arg(r, "vendor");
    if (vendor && strlen(vendor) >= 128)
        return rn__http_error(r, 400, "vendor: too long");
    if (!need_store(r))
        return;
    outages_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j)
        return rn__http_error(r, 503, "out of memory");
    if (vendor) {
        j->has_vendor = true;
        snprintf(j->vendor, sizeof j->vendor, "%s", vendor);
    }
    int rc = rn_event_store_outages_range(h->events, from, to, outages_done, j);
    if (rc) {
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "event store: %s", rn_strerror(rc));
    }
    rn__http_suspend(r);
}

static void maint_list_done(void *data, int status, const rn_maintenance_rec_t *m, size_t n)
{
    rn_http_job_t *j = data;
    rn_http_req_t *r = rn__http_job_done(j);
    if (!r)
        return;
    if (status)
        return rn__http_error(r, status_of(status), "event store: %s", rn_strerror(status));
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, maint_json(&m[i]));
    rn__http_json(r, 200, json_pack("{s:o}", "maintenance", out));
}

/* GET /api/v1/maintenance: the maintenance windows in the event store. */
static void db_maintenance_list(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    static const char *const allowed[] = { "from", "to", NULL };
    rn_http_t *h = r->http;
    int64_t now = rn_clock_wall_ms(), from, to;
    if (!rn__http_args_only(r, allowed) ||
        !rn__http_arg_int(r, "from", now - 7 * DAY_MS, 0, INT64_MAX / 2, &from) ||
        !rn__http_arg_int(r, "to", INT64_MAX / 2, 0, INT64_MAX / 2, &to))
        return;
    if (to <= from)
        return rn__http_error(r, 400, "to: must be after from");
    if (!need_store(r))
        return;
    rn_http_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j)
        return rn__http_error(r, 503, "out of memory");
    int rc = rn_event_store_maintenance_list(h->events, from, to, maint_list_done, j);
    if (rc) {
        rn__http_job_cancel(j);
        return rn__http_error(r, 503, "event store: %s", rn_strerror(rc));
    }
    rn__http_suspend(r);
}

typedef struct {
    rn_http_job_t job;
    rn_maintenance_rec_t m;
    char *entity, *reason, *created_by;
    const rn_http_token_t *token;
} maint_add_job_t;

static void maint_add_done(void *data, int status, uint64_t id)
{
    maint_add_job_t *j = data;
    rn_http_t *h = j->job.http;
    const rn_http_token_t *t = j->token;
    j->m.id = id;
    json_t *w = status ? NULL : maint_json(&j->m);
    if (!status) {
        char detail[512];
        char back[48] = ""; /* only an admin's window gets past the grace */
        if (j->m.created_at_ms - j->m.start_ms > MAINT_GRACE_MS)
            snprintf(back, sizeof back, " backdated by %" PRId64 " s",
                     (j->m.created_at_ms - j->m.start_ms) / 1000);
        snprintf(detail, sizeof detail, "window %" PRIu64 " on %s [%" PRId64 ", %" PRId64 ")%s: %s",
                 id, j->entity, j->m.start_ms, j->m.end_ms, back, j->reason ? j->reason : "");
        if (rn__api_set_maintenance(h, j->entity, j->m.start_ms, j->m.end_ms) != 0)
            status = -ENOMEM;
        if (!h->closing)
            audit(h, t, "maintenance_add", detail);
    }
    free(j->entity);
    free(j->reason);
    free(j->created_by);
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (r && status)
        rn__http_error(r, status_of(status), "event store: %s", rn_strerror(status));
    else if (r)
        return rn__http_json(r, 201, w);
    json_decref(w);
}

static bool get_ms(rn_http_req_t *r, json_t *body, const char *key, int64_t *out)
{
    json_t *v = json_object_get(body, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        rn__http_error(r, 400, "%s: an integer time in Unix milliseconds is required", key);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

/* POST /api/v1/maintenance (operator): stores a window, then tells the engine; 201. */
static void db_maintenance_add(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    rn_http_t *h = r->http;
    if (!rn__http_args_only(r, NULL) || !rn__http_need_writer(r))
        return;
    json_t *b = rn__http_body_object(r);
    if (!b)
        return;
    const char *entity = json_string_value(json_object_get(b, "entity"));
    json_t *reason = json_object_get(b, "reason");
    int64_t start, end;
    const char *key;
    json_t *v;
    json_object_foreach(b, key, v)
        if (strcmp(key, "entity") && strcmp(key, "start_ms") && strcmp(key, "end_ms") &&
            strcmp(key, "reason")) {
            rn__http_error(r, 400, "%.64s: unknown field", key);
            return json_decref(b);
        }
    if (!entity || !*entity)
        rn__http_error(r, 400, "entity: a node id or circuit is required");
    else if (!rn__api_entity_known(h, entity))
        rn__http_error(r, 400, "entity: '%.200s' is neither a node nor a circuit", entity);
    else if (!get_ms(r, b, "start_ms", &start) || !get_ms(r, b, "end_ms", &end))
        ;
    else if (end <= start)
        rn__http_error(r, 400, "end_ms: must be after start_ms");
    else if (start < rn_clock_wall_ms() - MAINT_GRACE_MS && !rn__http_is_admin(r))
        rn__http_error(r, 403, "start_ms: %" PRId64 " is more than %lld minutes ago; a window "
                       "in the past erases the penalties of what happened in it, so only a token "
                       "with role admin may backdate one", start, MAINT_GRACE_MS / 60000);
    else if (reason && !json_is_string(reason))
        rn__http_error(r, 400, "reason: must be a string");
    else if (need_store(r)) {
        maint_add_job_t *j = rn__http_job_new(r, sizeof *j);
        if (!j || !(j->entity = strdup(entity)) || !(j->created_by = strdup(r->token->name)) ||
            (reason && !(j->reason = strdup(json_string_value(reason))))) {
            if (j) {
                free(j->entity);
                free(j->created_by);
                rn__http_job_cancel(&j->job);
            }
            rn__http_error(r, 503, "out of memory");
            return json_decref(b);
        }
        j->token = r->token;
        j->m = (rn_maintenance_rec_t){ 0, j->entity, start, end, j->reason, j->created_by,
                                       rn_clock_wall_ms() };
        int rc = rn_event_store_maintenance_add(h->events, &j->m, maint_add_done, j);
        if (rc) {
            free(j->entity);
            free(j->reason);
            free(j->created_by);
            rn__http_job_cancel(&j->job);
            rn__http_error(r, status_of(rc), "event store: %s", rn_strerror(rc));
        } else {
            rn__http_suspend(r);
        }
    }
    json_decref(b);
}

/* Parses a decimal id at the start of s, ending at end_char ('\0' or '/'). */
static bool parse_id(const char *s, char end_char, uint64_t *out)
{
    return rn__http_parse_id(s, end_char, out) == 0;
}

typedef struct {
    rn_http_job_t job;
    uint64_t id;
    const rn_http_token_t *token;
} simple_job_t;

static void maint_delete_done(void *data, int status)
{
    simple_job_t *j = data;
    uint64_t id = j->id;
    rn_http_t *h = j->job.http;
    if (!status && !h->closing) {
        char detail[64];
        snprintf(detail, sizeof detail, "window %" PRIu64, id);
        audit(h, j->token, "maintenance_delete", detail);
        if (rn__http_reload_maintenance(h) != 0)
            rn_warn("maintenance window %" PRIu64 " deleted; the engine still has it until the "
                    "next restart", id);
    }
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (!r)
        return;
    if (status == -ENOENT)
        return rn__http_error(r, 404, "id: no maintenance window %" PRIu64, id);
    if (status)
        return rn__http_error(r, status_of(status), "event store: %s", rn_strerror(status));
    rn__http_reply(r, 204, NULL, NULL, 0);
}

/* DELETE /api/v1/maintenance/{id} (operator): removes a window and reloads the engine's. */
static void db_maintenance_delete(rn_http_req_t *r, const char *arg)
{
    uint64_t id;
    if (!rn__http_args_only(r, NULL) || !rn__http_need_writer(r))
        return;
    if (!parse_id(arg, '\0', &id))
        return rn__http_error(r, 400, "id: '%.64s' is not a maintenance window id", arg);
    if (!need_store(r))
        return;
    simple_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j)
        return rn__http_error(r, 503, "out of memory");
    j->id = id;
    j->token = r->token;
    int rc = rn_event_store_maintenance_delete(r->http->events, id, maint_delete_done, j);
    if (rc) {
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "event store: %s", rn_strerror(rc));
    }
    rn__http_suspend(r);
}

/* ---------------------------------------------------------------- ack, comment */

typedef struct {
    rn_http_job_t job;
    uint64_t id;
    const rn_http_token_t *token;
    char *comment;
    bool ack;
} alarm_write_job_t;

static void ack_fetch_done(void *data, int status, const rn_alarm_rec_t *a, size_t n);

/* Answers with the alarm just acknowledged, read back by its id. */
static void ack_fetch(alarm_write_job_t *j)
{
    rn_http_t *h = j->job.http;
    int rc = rn_event_store_alarm_get(h->events, j->id, ack_fetch_done, j);
    if (rc) {
        free(j->comment);
        rn_http_req_t *r = rn__http_job_done(&j->job);
        if (r)
            rn__http_error(r, 503, "event store: %s", rn_strerror(rc));
    }
}

static void ack_fetch_done(void *data, int status, const rn_alarm_rec_t *a, size_t n)
{
    alarm_write_job_t *j = data;
    rn_http_t *h = j->job.http;
    json_t *found = n && a[0].id == j->id ? alarm_rec_json(&a[0]) : NULL;
    if (found) {
        json_t *one = json_array();
        json_array_append(one, found);
        rn__db_merge_engine(h, one, false, NULL);
        json_decref(one);
        json_t *ev = json_pack("{s:s, s:O}", "kind", "acknowledged", "alarm", found);
        char *s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        json_decref(ev);
        if (s)
            rn_http_publish_json(h, "alarm", s);
        free(s);
    }
    uint64_t id = j->id;
    free(j->comment);
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (r && found)
        return rn__http_json(r, 200, found);
    json_decref(found);
    if (r)
        rn__http_error(r, status ? status_of(status) : 500,
                       "id: alarm %" PRIu64 " acknowledged, but it could not be read back", id);
}

static void alarm_write_done(void *data, int status)
{
    alarm_write_job_t *j = data;
    rn_http_t *h = j->job.http;
    if (!status && !h->closing) {
        char detail[600];
        snprintf(detail, sizeof detail, "alarm %" PRIu64 ": %s", j->id, j->comment);
        audit(h, j->token, j->ack ? "ack" : "comment", detail);
        if (j->ack && j->job.req)
            return ack_fetch(j);
    }
    uint64_t id = j->id;
    json_t *ok = status ? NULL
                        : json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "comment", j->comment,
                                    "by", j->token->name);
    free(j->comment);
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (r && status == -ENOENT)
        rn__http_error(r, 404, "id: no alarm %" PRIu64, id);
    else if (r && status)
        rn__http_error(r, status_of(status), "event store: %s", rn_strerror(status));
    else if (r)
        return rn__http_json(r, 200, ok);
    json_decref(ok);
}

static void alarm_write(rn_http_req_t *r, const char *arg, bool ack)
{
    uint64_t id;
    if (!rn__http_args_only(r, NULL) || !rn__http_need_writer(r))
        return;
    if (!parse_id(arg, '/', &id))
        return rn__http_error(r, 400, "id: '%.*s' is not an alarm id",
                              (int)strcspn(arg, "/") > 64 ? 64 : (int)strcspn(arg, "/"), arg);
    const char *comment = "";
    json_t *b = NULL;
    if (r->body_len || !ack) {
        if (!(b = rn__http_body_object(r)))
            return;
        json_t *c = json_object_get(b, "comment");
        const char *key;
        json_t *v;
        json_object_foreach(b, key, v)
            if (strcmp(key, "comment")) {
                rn__http_error(r, 400, "%.64s: unknown field", key);
                return json_decref(b);
            }
        if (c && !json_is_string(c)) {
            rn__http_error(r, 400, "comment: must be a string");
            return json_decref(b);
        }
        comment = c ? json_string_value(c) : "";
        if (!ack && !*comment) {
            rn__http_error(r, 400, "comment: a non-empty string is required");
            return json_decref(b);
        }
    }
    if (!need_store(r))
        return json_decref(b);
    alarm_write_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j || !(j->comment = strdup(comment))) {
        if (j)
            rn__http_job_cancel(&j->job);
        json_decref(b);
        return rn__http_error(r, 503, "out of memory");
    }
    j->id = id;
    j->token = r->token;
    j->ack = ack;
    rn_alarm_hist_t e = { id, ack ? RN_HIST_ACKNOWLEDGED : RN_HIST_COMMENT, rn_clock_wall_ms(),
                           r->token->name, NULL, 0, j->comment };
    int rc = rn_event_store_alarm_event(r->http->events, &e, alarm_write_done, j);
    json_decref(b);
    if (rc) {
        free(j->comment);
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "event store: %s", rn_strerror(rc));
    }
    rn__http_suspend(r);
}

/* POST /api/v1/alarms/{id}/ack and /comment; another POST under /api/v1/alarms/ is 404 before
 * any token is looked at. */
static void db_alarm_post(rn_http_req_t *r, const char *rest)
{
    const char *slash = strchr(rest, '/');
    if (slash && strcmp(slash, "/ack") == 0)
        return alarm_write(r, rest, true);
    if (slash && strcmp(slash, "/comment") == 0)
        return alarm_write(r, rest, false);
    rn__http_error(r, 404, "no such endpoint: POST %s (use /api/v1/alarms/{id}/ack or /comment)",
                   r->path);
}

/* The answers from the event store and the writes (http_int.h: how routes are matched). */
const rn_http_route_t rn_api_db_routes[] = {
    { "POST", "/api/v1/alarms/", true, db_alarm_post },
    { "GET", "/api/v1/outages", false, db_outages },
    { "GET", "/api/v1/maintenance", false, db_maintenance_list },
    { "POST", "/api/v1/maintenance", false, db_maintenance_add },
    { "DELETE", "/api/v1/maintenance/", true, db_maintenance_delete },
    { NULL, NULL, false, NULL },
};
