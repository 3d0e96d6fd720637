/* GET /api/v1/alarms (docs/api.md) and the two mechanisms every alarm answer shares: merging the
 * alarm engine's live view into the event store's records, and grouping symptoms under their
 * roots. Both go through an id -> index hash map: a scan of the list per alarm made them
 * O(n^2), and an answer over 40,000 alarms held the loop for 26 s.
 *
 * What the loop does for one listing is bounded whatever the store holds: the store returns at
 * most `limit` roots and RN_API_ALARMS_MAX_ROWS alarms in all (rn_event_store_alarms_list, newest
 * roots first), and the answer is written as JSON text straight from the store's records, not
 * built as jansson objects and dumped (a fifth of the loop time, a quarter of the memory: see
 * tests/bench/README.md, "api-alarms"). Only the engine's alarms, bounded by the topology, are
 * jansson objects. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h> /* ssize_t */

#include "clock.h"
#include "error.h"
#include "events/event_store.h"
#include "http/http_int.h"

/* An answer has at most this many alarms, roots and symptoms (docs/api.md): about 8 MB of JSON. */
#define RN_API_ALARMS_MAX_ROWS 20000

/* ---------------------------------------------------------------- ids to indexes */

typedef struct {
    uint64_t *ids;                /* 0: an empty slot (alarm ids start at 1) */
    size_t *idx;
    size_t mask;
} id_map_t;

/* Sizes m for n ids (at most half full). Returns 0 or -ENOMEM. */
static int id_map_init(id_map_t *m, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    m->ids = calloc(cap, sizeof *m->ids);
    m->idx = malloc(cap * sizeof *m->idx);
    m->mask = cap - 1;
    if (m->ids && m->idx)
        return 0;
    free(m->ids);
    free(m->idx);
    return -ENOMEM;
}

/* Frees m's table (not m). */
static void id_map_free(id_map_t *m)
{
    free(m->ids);
    free(m->idx);
}

/* The slot of id: its own, or the empty one where it would go. */
static size_t id_map_slot(const id_map_t *m, uint64_t id)
{
    size_t i = (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 17) & m->mask;
    while (m->ids[i] && m->ids[i] != id)
        i = (i + 1) & m->mask;
    return i;
}

/* Adds id at index i; an id already there keeps its first index. */
static void id_map_put(id_map_t *m, uint64_t id, size_t i)
{
    size_t k = id_map_slot(m, id);
    if (!m->ids[k]) {
        m->ids[k] = id;
        m->idx[k] = i;
    }
}

/* True (and *i) if id is in m. */
static bool id_map_get(const id_map_t *m, uint64_t id, size_t *i)
{
    size_t k = id_map_slot(m, id);
    if (!m->ids[k])
        return false;
    *i = m->idx[k];
    return true;
}

/* The "id" of an Alarm object (0 when it has none). */
static uint64_t id_of(json_t *a)
{
    return (uint64_t)json_integer_value(json_object_get(a, "id"));
}

/* What the engine knows better than the store: its current root, impact and text. */
static const char *const engine_keys[] = { "root_id", "impact_nodes", "impact_services", "text",
                                           "severity", "type", "planned" };
#define N_ENGINE_KEYS (sizeof engine_keys / sizeof engine_keys[0])

void rn__db_merge_engine(rn_http_t *h, json_t *flat, bool add_missing, const char *node)
{
    json_t *live = rn__api_engine_alarms(h, node), *e;
    id_map_t m;
    size_t i, k;
    if (id_map_init(&m, json_array_size(flat) + json_array_size(live))) {
        json_decref(live);
        return; /* out of memory: the store's view alone */
    }
    for (k = 0; k < json_array_size(flat); k++)
        id_map_put(&m, id_of(json_array_get(flat, k)), k);
    json_array_foreach(live, i, e) {
        json_t *found = id_map_get(&m, id_of(e), &k) ? json_array_get(flat, k) : NULL;
        if (found) {
            for (size_t x = 0; x < N_ENGINE_KEYS; x++)
                json_object_set(found, engine_keys[x], json_object_get(e, engine_keys[x]));
        } else if (add_missing) {
            id_map_put(&m, id_of(e), json_array_size(flat));
            json_array_append(flat, e);
        }
    }
    id_map_free(&m);
    json_decref(live);
}

/* ---------------------------------------------------------------- grouping */

/* One alarm of an answer, for grouping and ordering. */
typedef struct {
    uint64_t id, root;
    int64_t raised;
    size_t next;                  /* the next symptom of the same root, or SIZE_MAX */
    size_t head, tail;            /* a root's symptoms, SIZE_MAX when none */
    bool is_root;
} item_t;

/* Orders root indexes newest first (raised, then id). */
static int cmp_items_desc(const void *x, const void *y, void *ctx)
{
    const item_t *it = ctx, *a = &it[*(const size_t *)x], *b = &it[*(const size_t *)y];
    if (a->raised != b->raised)
        return a->raised < b->raised ? 1 : -1;
    return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

/* Groups items: a root is an alarm without root_id, or whose root is not among the items; every
 * other alarm goes, in item order, under its root when that is a root (else nowhere, as a
 * symptom of a symptom). Returns how many roots, their indexes newest first in *out (free it),
 * or -ENOMEM. */
static ssize_t group(item_t *it, size_t n, size_t **out)
{
    id_map_t m;
    size_t *roots = malloc((n ? n : 1) * sizeof *roots), nroots = 0, k;
    if (!roots || id_map_init(&m, n)) {
        free(roots);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        id_map_put(&m, it[i].id, i);
    for (size_t i = 0; i < n; i++) {
        it[i].next = it[i].head = it[i].tail = SIZE_MAX;
        it[i].is_root = !it[i].root || !id_map_get(&m, it[i].root, &k);
        if (it[i].is_root)
            roots[nroots++] = i;
    }
    for (size_t i = 0; i < n; i++) {
        if (it[i].is_root || !id_map_get(&m, it[i].root, &k) || !it[k].is_root)
            continue;
        if (it[k].tail == SIZE_MAX)
            it[k].head = i;
        else
            it[it[k].tail].next = i;
        it[k].tail = i;
    }
    id_map_free(&m);
    qsort_r(roots, nroots, sizeof *roots, cmp_items_desc, it);
    *out = roots;
    return (ssize_t)nroots;
}

/* Also api.c's, for the engine's alarms without an event store. */
json_t *rn__api_group_alarms(json_t *flat, int64_t limit)
{
    size_t n = json_array_size(flat), *roots = NULL;
    item_t *it = calloc(n ? n : 1, sizeof *it);
    json_t *out = json_array();
    ssize_t nroots = it ? 0 : -ENOMEM;
    for (size_t i = 0; it && i < n; i++) {
        json_t *a = json_array_get(flat, i);
        it[i] = (item_t){ .id = id_of(a),
                          .root = (uint64_t)json_integer_value(json_object_get(a, "root_id")),
                          .raised = json_integer_value(json_object_get(a, "raised_ms")) };
    }
    if (it)
        nroots = group(it, n, &roots);
    for (ssize_t r = 0; r < nroots && (limit <= 0 || r < limit); r++) {
        json_t *root = json_array_get(flat, roots[r]), *sym = json_array();
        for (size_t s = it[roots[r]].head; s != SIZE_MAX; s = it[s].next)
            json_array_append(sym, json_array_get(flat, s));
        json_object_set_new(root, "symptoms", sym);
        json_array_append(out, root);
    }
    free(roots);
    free(it);
    json_decref(flat);
    return out;
}

/* ---------------------------------------------------------------- GET /api/v1/alarms as text */

/* Writes a jansson value (the engine's) as JSON. */
static void put_value(FILE *f, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    fputs(s ? s : "null", f);
    free(s);
}

/* Writes an impact column: JSON the store checked (json_valid); anything but an array is []. */
static void put_impact(FILE *f, const char *s)
{
    size_t skip = s ? strspn(s, " \t\r\n") : 0;
    fputs(s && s[skip] == '[' ? s : "[]", f);
}

/* Writes the fields of store alarm a, as api_db.c's alarm_rec_json names them, the engine's
 * values (e, may be NULL) taking the place of the store's for engine_keys; no closing brace. */
static void put_record(FILE *f, const rn_alarm_rec_t *a, json_t *e)
{
    fprintf(f, "{\"id\":%" PRIu64 ",\"type\":", a->id);
    e ? put_value(f, json_object_get(e, "type")) : rn__json_put_str(f, rn__api_type_name(a->type));
    fputs(",\"severity\":", f);
    e ? put_value(f, json_object_get(e, "severity"))
      : (void)fprintf(f, "%d", rn__api_severity_num(a->severity));
    fputs(",\"node\":", f), rn__json_put_str(f, a->node);
    fputs(",\"entity\":", f), rn__json_put_str(f, a->entity);
    fputs(",\"vendor\":", f), rn__json_put_str(f, a->vendor);
    fputs(",\"circuit\":", f), rn__json_put_str(f, a->circuit);
    fputs(",\"root_id\":", f);
    e ? put_value(f, json_object_get(e, "root_id")) : (void)fprintf(f, "%" PRIu64, a->root_id);
    fputs(",\"text\":", f);
    e ? put_value(f, json_object_get(e, "text")) : rn__json_put_str(f, a->text ? a->text : "");
    fputs(",\"impact_nodes\":", f);
    e ? put_value(f, json_object_get(e, "impact_nodes")) : put_impact(f, a->impact_nodes);
    fputs(",\"impact_services\":", f);
    e ? put_value(f, json_object_get(e, "impact_services")) : put_impact(f, a->impact_services);
    fprintf(f, ",\"raised_ms\":%" PRId64 ",\"cleared_ms\":", a->raised_at_ms);
    a->cleared ? (void)fprintf(f, "%" PRId64, a->cleared_at_ms) : (void)fputs("null", f);
    fputs(",\"planned\":", f);
    e ? put_value(f, json_object_get(e, "planned")) : (void)fputs(a->planned ? "true" : "false", f);
    fputs(",\"acked_by\":", f), rn__json_put_str(f, a->acked_by);
    fputs(",\"acked_ms\":", f);
    a->acked_by ? (void)fprintf(f, "%" PRId64, a->acked_at_ms) : (void)fputs("null", f);
    fputs(",\"ack_comment\":", f), rn__json_put_str(f, a->acked_by ? a->ack_comment : NULL);
}

/* One listing being written: the store's n records, then the engine's alarms the store has not
 * written yet (live[extra[k]]), and per record the engine's view of it (NULL: none). */
typedef struct {
    FILE *f;
    const rn_alarm_rec_t *a;
    size_t n;
    json_t *live;
    json_t **engine;              /* n entries */
    size_t *extra, n_extra;
    item_t *it;
} listing_t;

/* Writes item i, as a root with its symptoms when root. */
static void put_item(listing_t *l, size_t i, bool root)
{
    if (i < l->n) {
        put_record(l->f, &l->a[i], l->engine[i]);
    } else { /* the engine's object: its text without the closing brace */
        char *s = json_dumps(json_array_get(l->live, l->extra[i - l->n]), JSON_COMPACT);
        size_t len = s ? strlen(s) : 0;
        if (len > 1 && s[len - 1] == '}')
            fwrite(s, 1, len - 1, l->f);
        else
            fputs("{\"id\":0", l->f);
        free(s);
    }
    if (root) {
        fputs(",\"symptoms\":[", l->f);
        for (size_t s = l->it[i].head; s != SIZE_MAX; s = l->it[s].next) {
            put_item(l, s, false);
            if (l->it[s].next != SIZE_MAX)
                putc(',', l->f);
        }
        putc(']', l->f);
    }
    putc('}', l->f);
}

/* Matches the engine's live alarms to the records (l->engine) and lists the others (l->extra);
 * fills l->it for grouping. Returns 0 or -ENOMEM. */
static int listing_items(listing_t *l)
{
    size_t n_live = json_array_size(l->live), k, i;
    id_map_t m;
    l->engine = calloc(l->n ? l->n : 1, sizeof *l->engine);
    l->extra = malloc((n_live ? n_live : 1) * sizeof *l->extra);
    l->it = calloc(l->n + n_live + 1, sizeof *l->it);
    if (!l->engine || !l->extra || !l->it || id_map_init(&m, l->n + n_live))
        return -ENOMEM;
    for (k = 0; k < l->n; k++)
        id_map_put(&m, l->a[k].id, k);
    for (i = 0; i < n_live; i++) {
        json_t *e = json_array_get(l->live, i);
        if (id_map_get(&m, id_of(e), &k) && k < l->n) {
            l->engine[k] = e;
        } else {
            id_map_put(&m, id_of(e), l->n + l->n_extra);
            l->extra[l->n_extra++] = i;
        }
    }
    id_map_free(&m);
    for (k = 0; k < l->n; k++)
        l->it[k] = (item_t){ .id = l->a[k].id, .root = l->a[k].root_id,
                             .raised = l->a[k].raised_at_ms };
    for (k = 0; k < l->n; k++)
        if (l->engine[k])
            l->it[k].root = (uint64_t)json_integer_value(json_object_get(l->engine[k], "root_id"));
    for (i = 0; i < l->n_extra; i++) {
        json_t *e = json_array_get(l->live, l->extra[i]);
        l->it[l->n + i] = (item_t){ .id = id_of(e),
                                    .root = (uint64_t)json_integer_value(
                                        json_object_get(e, "root_id")),
                                    .raised = json_integer_value(json_object_get(e, "raised_ms")) };
    }
    return 0;
}

/* Writes {"truncated": true (when), "alarms": [roots with symptoms]} into *body. */
static int write_listing(rn_http_t *h, const rn_alarm_rec_t *a, size_t n, bool truncated,
                         int64_t limit, char **body, size_t *len)
{
    listing_t l = { .a = a, .n = n, .live = rn__api_engine_alarms(h, NULL) };
    size_t *roots = NULL;
    ssize_t nroots = listing_items(&l) ? -ENOMEM : group(l.it, n + l.n_extra, &roots);
    if (nroots >= 0 && !(l.f = rn__http_text_open(body, len)))
        nroots = -ENOMEM;
    if (nroots >= 0) {
        fputs(truncated ? "{\"truncated\":true,\"alarms\":[" : "{\"alarms\":[", l.f);
        for (ssize_t r = 0; r < nroots && r < limit; r++) {
            if (r)
                putc(',', l.f);
            put_item(&l, roots[r], true);
        }
        fputs("]}\n", l.f);
        if (fclose(l.f) != 0)
            nroots = -ENOMEM;
    }
    free(roots);
    free(l.engine);
    free(l.extra);
    free(l.it);
    json_decref(l.live);
    return nroots < 0 ? (int)nroots : 0;
}

typedef struct {
    rn_http_job_t job;
    int64_t limit;
} alarms_job_t;

/* The store's listing is in: merge, group, write, reply (or drop it when the request is gone). */
static void alarms_done(void *data, int status, const rn_alarm_rec_t *a, size_t n)
{
    alarms_job_t *j = data;
    int64_t limit = j->limit;
    rn_http_t *h = j->job.http;
    rn_http_req_t *r = rn__http_job_done(&j->job);
    char *body = NULL;
    size_t len = 0;
    if (!r)
        return;
    if (status)
        return rn__http_error(r, status == -EINVAL ? 400 : 503, "event store: %s",
                              rn_strerror(status));
    bool truncated = n > RN_API_ALARMS_MAX_ROWS; /* the store was asked for one more */
    if (write_listing(h, a, truncated ? RN_API_ALARMS_MAX_ROWS : n, truncated, limit, &body,
                      &len))
        return rn__http_error(r, 503, "out of memory");
    rn__http_reply(r, 200, "application/json", body, len);
}

void rn__db_alarms(rn_http_req_t *r, const char *state, int64_t since, int64_t limit)
{
    rn_http_t *h = r->http;
    alarms_job_t *j = rn__http_job_new(r, sizeof *j);
    if (!j)
        return rn__http_error(r, 503, "out of memory");
    j->limit = limit > 0 ? limit : 1;
    /* limit roots (1..10000, api.c), and at most RN_API_ALARMS_MAX_ROWS alarms in all: what the
     * loop writes is bounded whatever the store holds. One row more tells of truncation. */
    rn_alarm_list_t q = { .active = strcmp(state, "all") != 0, .from_ms = since,
                          .to_ms = rn_clock_wall_ms() + 1, .max_roots = (size_t)j->limit,
                          .max_rows = RN_API_ALARMS_MAX_ROWS + 1 };
    if (q.max_roots > RN_API_ALARMS_MAX_ROWS)
        q.max_roots = RN_API_ALARMS_MAX_ROWS;
    int rc = rn_event_store_alarms_list(h->events, &q, alarms_done, j);
    if (rc) {
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "event store: %s", rn_strerror(rc));
    }
    rn__http_suspend(r);
}

/* GET /api/v1/alarms: from the event store merged with the engine's view, or from the engine
 * alone without a store. */
static void api_alarms(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    static const char *const allowed[] = { "state", "since", "limit", NULL };
    rn_http_t *h = r->http;
    if (!rn__http_args_only(r, allowed))
        return;
    const char *state = rn__http_arg(r, "state");
    if (state && strcmp(state, "active") && strcmp(state, "all"))
        return rn__http_error(r, 400, "state: '%.32s' is not active or all", state);
    int64_t since, limit;
    int64_t now = rn_clock_wall_ms();
    if (!rn__http_arg_int(r, "since", now - 7 * 86400000LL, 0, INT64_MAX / 2, &since) ||
        !rn__http_arg_int(r, "limit", 100, 1, 10000, &limit))
        return;
    bool all = state && !strcmp(state, "all");
    if (h->events)
        return rn__db_alarms(r, all ? "all" : "active", since, limit);
    rn__http_json(r, 200, json_pack("{s:o}", "alarms",
                                    rn__api_group_alarms(rn__api_engine_alarms(h, NULL), limit)));
}

const rn_http_route_t rn_api_alarms_routes[] = {
    { "GET", "/api/v1/alarms", false, api_alarms },
    { NULL, NULL, false, NULL },
};
