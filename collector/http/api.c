/* API answers built from memory on the loop thread (docs/api.md): status, nodes, links,
 * services, series, the engine's alarms; the Node, Link and Alarm objects. Nothing here blocks:
 * it reads the topology, the alarm engine, the per-node state and the latest-value cache. */
#include <config.h> /* autoconf's: PACKAGE_VERSION */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm/alarm_view.h"
#include "clock.h"
#include "ingest/ingest.h"
#include "http/http.h"
#include "http/http_int.h"
#include "series/latest.h"
#include "series/rrd_store.h"
#include "metrics.h"
#include "sources.h"

#define RATE_WINDOW_MS 5000

/* The vocabulary (collector/alarm/alarm.h) for api_db.c and api_alarms.c, which speak to the
 * event store and not to the engine: the name of a stored type in any spelling a row may hold. */
const char *rn__api_type_name(const char *stored)
{
    return stored ? rn_alarm_type_canonical(stored) : "unknown";
}

int rn__api_severity_num(const char *stored)
{
    int s = rn_alarm_severity_parse(stored);
    return s > 0 ? s : 3;
}

static const char *status_name(rn_alarm_status_t s)
{
    switch (s) {
    case RN_STATUS_UP: return "up";
    case RN_STATUS_DOWN: return "down";
    case RN_STATUS_DEGRADED: return "degraded";
    case RN_STATUS_FLAPPING: return "flapping";
    case RN_STATUS_SILENT: return "silent";
    default: return "unknown";
    }
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *num_or_null(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *ms_or_null(int64_t ms)
{
    return ms ? json_integer(ms) : json_null();
}

/* ---------------------------------------------------------------- objects */

static const rn_vendor_t *vendor_of(const rn_topology_t *t, const char *key)
{
    for (size_t i = 0; key && i < t->n_vendors; i++)
        if (strcmp(t->vendors[i].name, key) == 0)
            return &t->vendors[i];
    return NULL;
}

static json_t *link_json(rn_http_t *h, const rn_node_t *n, const rn_link_t *l)
{
    const rn_vendor_t *v = vendor_of(rn__http_topo(h), l->vendor);
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:s}", "circuit", l->circuit,
                     "node", n->id, "remote_node",
                     str_or_null(l->remote_node ? l->remote_node : n->parent_id), "vendor",
                     str_or_null(l->vendor), "vendor_name",
                     str_or_null(v && v->display ? v->display : l->vendor), "kind",
                     str_or_null(l->kind), "mbps", l->mbps, "sla", str_or_null(l->sla), "role",
                     str_or_null(l->role), "status",
                     status_name(rn_alarm_link_status(rn__http_alarms(h), l->circuit)));
}

static const rn_node_state_t *state_of(const rn_http_t *h, const char *id)
{
    for (const rn_node_state_t *s = rn__http_node_states(h); s; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    return NULL;
}

/* True if an uplink in state ls makes an up node "degraded" (degraded, flapping, a down
 * backup). */
static bool impairs(rn_alarm_status_t ls)
{
    return ls == RN_STATUS_DEGRADED || ls == RN_STATUS_FLAPPING || ls == RN_STATUS_DOWN;
}

/* up|down|degraded|silent|unknown from the node's status s; impaired: one of its uplinks
 * impairs it. */
static const char *status_text(rn_alarm_status_t s, bool impaired)
{
    if (s == RN_STATUS_UP && impaired)
        return "degraded";
    return s == RN_STATUS_DEGRADED || s == RN_STATUS_FLAPPING ? "degraded" : status_name(s);
}

/* status_text for one node, asking the engine. */
static const char *node_status(rn_http_t *h, const rn_node_t *n)
{
    bool impaired = false;
    for (size_t i = 0; i < n->n_uplinks; i++)
        impaired = impaired || impairs(rn_alarm_link_status(rn__http_alarms(h), n->uplinks[i].circuit));
    return status_text(rn_alarm_node_status(rn__http_alarms(h), n->id), impaired);
}

static json_t *node_json(rn_http_t *h, const rn_node_t *n)
{
    const rn_node_state_t *st = state_of(h, n->id);
    const rn_topology_t *t = rn__http_topo(h);
    json_t *uplinks = json_array(), *reaches = json_object();
    for (size_t i = 0; i < n->n_uplinks; i++)
        json_array_append_new(uplinks, link_json(h, n, &n->uplinks[i]));
    for (size_t i = 0; i < t->n_services; i++) {
        int rc = rn_alarm_reaches(rn__http_alarms(h), n->id, t->services[i].name);
        json_object_set_new(reaches, t->services[i].name, json_boolean(rc == 1));
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:s, s:b, s:o, s:o, s:o}", "id", n->id, "tier",
                     str_or_null(n->tier), "parent", str_or_null(n->parent_id), "district",
                     str_or_null(rn_topology_district(n)), "status", node_status(h, n), "connected",
                     st && st->session != NULL, "last_seen_ms",
                     ms_or_null(st ? st->last_seen_ms : 0), "uplinks", uplinks, "reaches",
                     reaches);
}

static json_t *alarm_json(const rn_alarm_t *a, int64_t cleared_ms)
{
    json_t *in = json_array(), *is = json_array();
    for (size_t i = 0; i < a->n_impact_nodes; i++)
        json_array_append_new(in, json_string(a->impact_nodes[i]));
    for (size_t i = 0; i < a->n_impact_services; i++)
        json_array_append_new(is, json_string(a->impact_services[i]));
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer((json_int_t)a->id));
    json_object_set_new(j, "type", json_string(rn_alarm_type_name(a->type)));
    json_object_set_new(j, "severity", json_integer(a->severity));
    json_object_set_new(j, "node", str_or_null(a->node));
    json_object_set_new(j, "entity", str_or_null(a->entity));
    json_object_set_new(j, "vendor", str_or_null(a->vendor));
    json_object_set_new(j, "circuit", str_or_null(a->circuit));
    json_object_set_new(j, "root_id", json_integer((json_int_t)a->root_id));
    json_object_set_new(j, "text", str_or_null(a->text));
    json_object_set_new(j, "impact_nodes", in);
    json_object_set_new(j, "impact_services", is);
    json_object_set_new(j, "raised_ms", json_integer(a->raised_ms ? a->raised_ms : a->since_ms));
    json_object_set_new(j, "cleared_ms", ms_or_null(cleared_ms));
    json_object_set_new(j, "planned", json_boolean(a->planned));
    json_object_set_new(j, "acked_by", json_null());
    json_object_set_new(j, "acked_ms", json_null());
    json_object_set_new(j, "ack_comment", json_null());
    return j;
}

typedef struct {
    json_t *out;
    const char *node;
} collect_t;

static void collect_alarm(void *ctx, const rn_alarm_t *a)
{
    collect_t *k = ctx;
    if (!k->node || (a->node && strcmp(a->node, k->node) == 0))
        json_array_append_new(k->out, alarm_json(a, 0));
}

json_t *rn__api_engine_alarms(rn_http_t *h, const char *node)
{
    collect_t k = { json_array(), node };
    rn_alarm_foreach(rn__http_alarms(h), collect_alarm, &k);
    return k.out;
}

/* rn__api_group_alarms is in api_db.c, beside the store's alarms it mostly groups. */

/* ---------------------------------------------------------------- handlers */

json_t *rn__api_status_json(rn_http_t *h)
{
    int64_t now = rn_clock_wall_ms();
    const rn_topology_t *t = rn__http_topo(h);
    size_t agents = rn__http_agents_connected(h);
    size_t up = 0, down = 0, degraded = 0, silent = 0, unknown = 0;
    uint64_t total = 0;
    for (const rn_node_state_t *s = rn__http_node_states(h); s; s = s->next)
        total += s->samples;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const char *st = node_status(h, &t->nodes[i]);
        if (!strcmp(st, "up"))
            up++;
        else if (!strcmp(st, "down"))
            down++;
        else if (!strcmp(st, "degraded"))
            degraded++;
        else if (!strcmp(st, "silent"))
            silent++;
        else
            unknown++;
    }
    if (!h->rate_ms)
        h->rate_ms = now, h->rate_total = total;
    else if (now - h->rate_ms >= RATE_WINDOW_MS) {
        h->rate = (double)(total - h->rate_total) * 1000.0 / (double)(now - h->rate_ms);
        h->rate_ms = now;
        h->rate_total = total;
    }
    json_t *alarms = rn__api_engine_alarms(h, NULL);
    size_t active = json_array_size(alarms);
    json_decref(alarms);
    return json_pack("{s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:f}", "version",
                     PACKAGE_VERSION, "started_ms", (json_int_t)h->started_ms, "now_ms",
                     (json_int_t)now, "agents_connected", (json_int_t)agents, "nodes", "total",
                     (json_int_t)t->n_nodes, "up", (json_int_t)up, "down", (json_int_t)down,
                     "degraded", (json_int_t)degraded, "silent", (json_int_t)silent, "unknown",
                     (json_int_t)unknown, "alarms_active", (json_int_t)active, "samples_per_s",
                     h->rate);
}

/* GET /api/v1/status: counts of nodes by status, agents, active alarms, samples per second. */
static void api_status(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    if (rn__http_args_only(r, NULL))
        rn__http_json(r, 200, rn__api_status_json(r->http));
}

/* ---------------------------------------------------------------- GET /api/v1/nodes
 *
 * The node list is written as JSON text straight into a buffer, not built as jansson objects
 * and dumped: at the full state's size (~10,000 nodes, ~5 MB) the objects, their hash tables
 * and json_dumps' growing buffer cost ~300 ms of the loop thread a request; this costs a tenth
 * (tests/bench/README.md, "full-state"). The fields and their order are node_json()'s: change
 * both together (tests/integration/api_check.py compares them). */

void rn__json_put_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    /* runs of plain characters go out in one call: a locked putc per character was 60 % of
     * the full state's node listing */
    static const char special[] = "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
                                  "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
                                  "\x1b\x1c\x1d\x1e\x1f";
    putc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t run = strcspn((const char *)p, special);
        fwrite(p, 1, run, f);
        p += run;
        if (!*p)
            break;
        if (*p == '"' || *p == '\\')
            putc('\\', f), putc(*p, f);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else
            fprintf(f, "\\u%04X", *p);
        p++;
    }
    putc('"', f);
}

/* Writes v as jansson writes a real: %.17g, with ".0" when that reads as an integer. */
static void put_real(FILE *f, double v)
{
    char buf[40];
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, f);
    if (!strpbrk(buf, ".eE"))
        fputs(".0", f);
}

typedef struct {
    const char *id;
    const rn_node_state_t *st;
} state_key_t;

static int cmp_state_key(const void *a, const void *b)
{
    return strcmp(((const state_key_t *)a)->id, ((const state_key_t *)b)->id);
}

/* The per-node state (agents that ever said hello) sorted by id, for one listing: looking each
 * node up in the list instead made the listing O(nodes x agents). Returns NULL (then no node
 * shows connected) when out of memory; *n is the count. */
static state_key_t *states_sorted(const rn_http_t *h, size_t *n)
{
    size_t k = 0, cap = 0;
    for (const rn_node_state_t *s = rn__http_node_states(h); s; s = s->next)
        cap++;
    state_key_t *v = malloc((cap ? cap : 1) * sizeof *v);
    for (const rn_node_state_t *s = rn__http_node_states(h); v && s; s = s->next)
        v[k++] = (state_key_t){ s->id, s };
    if (v)
        qsort(v, k, sizeof *v, cmp_state_key);
    *n = v ? k : 0;
    return v;
}

/* Writes one Node object, topology node i (node_json's fields; brief: id, tier, parent,
 * district, status), its states from the view v. */
static void put_node(FILE *f, rn_http_t *h, const rn_alarm_view_t *v, size_t i,
                     const state_key_t *states, size_t n_states, bool brief)
{
    const rn_topology_t *t = rn__http_topo(h);
    const rn_node_t *n = &t->nodes[i];
    const rn_alarm_status_t *ls = &v->link[v->first_link[i]];
    fputs("{\"id\":", f);
    rn__json_put_str(f, n->id);
    fputs(",\"tier\":", f);
    rn__json_put_str(f, n->tier);
    fputs(",\"parent\":", f);
    rn__json_put_str(f, n->parent_id);
    fputs(",\"district\":", f);
    rn__json_put_str(f, rn_topology_district(n));
    fputs(",\"status\":", f);
    bool impaired = false;
    for (size_t k = 0; k < n->n_uplinks; k++)
        impaired = impaired || impairs(ls[k]);
    rn__json_put_str(f, status_text(v->node[i], impaired));
    if (brief) {
        putc('}', f);
        return;
    }
    state_key_t key = { n->id, NULL };
    const state_key_t *sk =
        states ? bsearch(&key, states, n_states, sizeof *states, cmp_state_key) : NULL;
    const rn_node_state_t *st = sk ? sk->st : NULL;
    fprintf(f, ",\"connected\":%s,\"last_seen_ms\":", st && st->session ? "true" : "false");
    if (st && st->last_seen_ms)
        fprintf(f, "%lld", (long long)st->last_seen_ms);
    else
        fputs("null", f);
    fputs(",\"uplinks\":[", f);
    for (size_t k = 0; k < n->n_uplinks; k++) {
        const rn_link_t *l = &n->uplinks[k];
        const rn_vendor_t *vd = vendor_of(t, l->vendor);
        fputs(k ? ",{\"circuit\":" : "{\"circuit\":", f);
        rn__json_put_str(f, l->circuit);
        fputs(",\"node\":", f);
        rn__json_put_str(f, n->id);
        fputs(",\"remote_node\":", f);
        rn__json_put_str(f, l->remote_node ? l->remote_node : n->parent_id);
        fputs(",\"vendor\":", f);
        rn__json_put_str(f, l->vendor);
        fputs(",\"vendor_name\":", f);
        rn__json_put_str(f, vd && vd->display ? vd->display : l->vendor);
        fputs(",\"kind\":", f);
        rn__json_put_str(f, l->kind);
        fputs(",\"mbps\":", f);
        put_real(f, l->mbps);
        fputs(",\"sla\":", f);
        rn__json_put_str(f, l->sla);
        fputs(",\"role\":", f);
        rn__json_put_str(f, l->role);
        fputs(",\"status\":", f);
        rn__json_put_str(f, status_name(ls[k]));
        putc('}', f);
    }
    fputs("],\"reaches\":{", f);
    for (size_t sv = 0; sv < t->n_services; sv++) {
        if (sv)
            putc(',', f);
        rn__json_put_str(f, t->services[sv].name);
        fputs(rn_alarm_view_reaches(v, i, sv) ? ":true" : ":false", f);
    }
    fputs("}}", f);
}

/* Returns the topology's node indexes parents before children (depth first from the root,
 * children in file order; nodes not under the root last), or NULL when out of memory. */
static size_t *nodes_in_order(const rn_topology_t *t)
{
    size_t n = t->n_nodes, k = 0;
    size_t *first = malloc((n + 1) * sizeof *first), *next = malloc((n + 1) * sizeof *next);
    size_t *stack = malloc((n + 1) * sizeof *stack), *order = malloc((n + 1) * sizeof *order);
    bool *done = calloc(n + 1, sizeof *done);
    if (!first || !next || !stack || !done || !order) {
        free(order);
        order = NULL;
        goto out;
    }
    for (size_t i = 0; i <= n; i++)
        first[i] = next[i] = SIZE_MAX;
    for (size_t i = n; i-- > 0;) { /* children lists in file order */
        const rn_node_t *p = t->nodes[i].parent;
        size_t pi = p ? (size_t)(p - t->nodes) : n; /* n: the virtual top */
        next[i] = first[pi];
        first[pi] = i;
    }
    size_t sp = 0;
    for (size_t x = first[n]; x != SIZE_MAX; x = next[x])
        stack[sp++] = x;
    /* the stack is LIFO: reverse each pushed run so the first child comes out first */
    for (size_t base = 0;;) {
        for (size_t a = base, b = sp ? sp - 1 : 0; a < b; a++, b--) {
            size_t x = stack[a];
            stack[a] = stack[b];
            stack[b] = x;
        }
        if (!sp)
            break;
        size_t i = stack[--sp];
        base = sp;
        if (done[i])
            continue;
        done[i] = true;
        order[k++] = i;
        for (size_t x = first[i]; x != SIZE_MAX && sp < n; x = next[x])
            stack[sp++] = x;
    }
    for (size_t i = 0; i < n; i++)
        if (!done[i])
            order[k++] = i;
out:
    free(first);
    free(next);
    free(stack);
    free(done);
    return order;
}

/* True if node n is top or lies below it. */
static bool node_under(const rn_node_t *n, const rn_node_t *top)
{
    for (; n; n = n->parent)
        if (n == top)
            return true;
    return false;
}

/* GET /api/v1/nodes[?under=ID][&tier=T][&brief=1]: the Node objects, parents first; under
 * keeps ID and its subtree, tier one tier, brief only id, tier, parent, district and status
 * (what a dashboard needs to roll 10,000 nodes up by district: ~1 MB instead of ~5 MB). */
static void api_nodes(rn_http_req_t *r, const char *arg)
{
    static const char *const allowed[] = { "under", "tier", "brief", NULL };
    (void)arg;
    if (!rn__http_args_only(r, allowed))
        return;
    rn_http_t *h = r->http;
    const rn_topology_t *t = rn__http_topo(h);
    const char *under = rn__http_arg(r, "under"), *tier = rn__http_arg(r, "tier");
    const char *brief_s = rn__http_arg(r, "brief");
    const rn_node_t *top = under ? rn_topology_node(t, under) : NULL;
    if (under && !top)
        return rn__http_error(r, 404, "under: no node '%.200s' in the topology", under);
    if (brief_s && strcmp(brief_s, "1") && strcmp(brief_s, "0") && strcmp(brief_s, "true") &&
        strcmp(brief_s, "false"))
        return rn__http_error(r, 400, "brief: '%.40s' is not 1 or 0", brief_s);
    bool brief = brief_s && (!strcmp(brief_s, "1") || !strcmp(brief_s, "true"));
    size_t n_states = 0, len = 0;
    state_key_t *states = brief ? NULL : states_sorted(h, &n_states);
    size_t *order = nodes_in_order(t);
    rn_alarm_view_t view;
    bool have_view = rn_alarm_view_take(rn__http_alarms(h), &view) == 0;
    char *buf = NULL;
    FILE *f = order && have_view ? rn__http_text_open(&buf, &len) : NULL;
    if (!f) {
        free(states);
        free(order);
        if (have_view)
            rn_alarm_view_free(&view);
        return rn__http_error(r, 503, "out of memory");
    }
    fputs("{\"nodes\":[", f);
    bool any = false;
    for (size_t k = 0; k < t->n_nodes; k++) {
        const rn_node_t *n = &t->nodes[order[k]];
        if ((top && !node_under(n, top)) || (tier && (!n->tier || strcmp(n->tier, tier))))
            continue;
        if (any)
            putc(',', f);
        any = true;
        put_node(f, h, &view, order[k], states, n_states, brief);
    }
    fputs("]}\n", f);
    free(states);
    free(order);
    rn_alarm_view_free(&view);
    if (fclose(f) != 0) {
        free(buf);
        return rn__http_error(r, 503, "out of memory");
    }
    rn__http_reply(r, 200, "application/json", buf, len);
}

static const char *oper_name(double v)
{
    static const char *const names[] = { "unknown", "up", "down", "testing", "unknown",
                                         "dormant", "notpresent", "lowerlayerdown" };
    int i = isnan(v) ? 0 : (int)v;
    return i >= 1 && i <= 7 ? names[i] : "unknown";
}

/* Speed of an interface: what the agent reported, else the link it terminates. */
static double speed_of(rn_http_t *h, const rn_latest_series_t *s)
{
    if (s->speed_bps)
        return (double)s->speed_bps;
    const rn_topology_t *t = rn__http_topo(h);
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t k = 0; k < t->nodes[i].n_uplinks; k++) {
            const rn_link_t *l = &t->nodes[i].uplinks[k];
            const char *rn = l->remote_node ? l->remote_node : t->nodes[i].parent_id;
            bool local = !strcmp(t->nodes[i].id, s->node) && l->local.device &&
                         !strcmp(l->local.device, s->device) && !strcmp(l->local.ifname, s->object);
            bool remote = rn && !strcmp(rn, s->node) && l->remote.device &&
                          !strcmp(l->remote.device, s->device) &&
                          !strcmp(l->remote.ifname, s->object);
            if (local || remote)
                return l->mbps * 1e6;
        }
    return NAN;
}

typedef struct {
    rn_http_t *h;
    json_t *ifs, *probes, *vc;
} node_detail_t;

/* One VC capture's latest figures (docs/api.md, VcCapture): its "rtp" and "tcphs" series, either
 * of which may be missing (NULL). A value the agent sent as unknown (no stream in the interval)
 * is null. */
static json_t *vc_capture_json(const rn_latest_series_t *rtp, const rn_latest_series_t *hs)
{
    const rn_latest_series_t *any = rtp ? rtp : hs;
    double nan = NAN;
    const double *v = rtp && rtp->n >= RN_RTP_N ? rtp->v : NULL;
    const double *t = hs && hs->n >= RN_TCPHS_N ? hs->v : NULL;
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "capture", any->object,
                     "packets", num_or_null(v ? v[RN_RTP_PACKETS] : nan), "loss_pct",
                     num_or_null(v ? v[RN_RTP_LOST_PCT] : nan), "jitter_ms",
                     num_or_null(v ? v[RN_RTP_JITTER_MS] : nan), "mos",
                     num_or_null(v ? v[RN_RTP_MOS] : nan), "streams",
                     num_or_null(v ? v[RN_RTP_STREAMS] : nan), "handshakes",
                     num_or_null(t ? t[RN_TCPHS_COUNT] : nan), "handshake_ms",
                     num_or_null(t ? t[RN_TCPHS_RTT_MS] : nan), "time_ms",
                     (json_int_t)(rtp ? rtp->time_ms : hs->time_ms));
}

/* A capture's entry, made when its "rtp" series is visited (it sorts before "tcphs"), or by its
 * "tcphs" series when it has no "rtp" one. */
static void vc_capture_add(const rn_latest_t *l, const rn_latest_series_t *s, json_t *out)
{
    rn_latest_series_t other;
    if (!strcmp(s->source, RN_SRC_RTP)) {
        const rn_latest_series_t *hs =
            rn_latest_find(l, s->node, RN_SRC_TCPHS, "", s->object, &other);
        json_array_append_new(out, vc_capture_json(s, hs));
    } else if (!rn_latest_find(l, s->node, RN_SRC_RTP, "", s->object, &other)) {
        json_array_append_new(out, vc_capture_json(NULL, s));
    }
}

static void detail_series(void *ctx, const rn_latest_series_t *s)
{
    node_detail_t *d = ctx;
    if (!strcmp(s->source, RN_SRC_IF)) {
        json_array_append_new(
            d->ifs, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:I}", "device", s->device, "ifname",
                              s->object, "oper", oper_name(s->n > RN_IF_OPER ? s->v[RN_IF_OPER] : NAN),
                              "in_bps", num_or_null(rn_latest_rate(s, RN_IF_IN) * 8), "out_bps",
                              num_or_null(rn_latest_rate(s, RN_IF_OUT) * 8), "speed_bps",
                              num_or_null(speed_of(d->h, s)), "time_ms", (json_int_t)s->time_ms));
    } else if (!strcmp(s->source, RN_SRC_ICMP) && s->n >= RN_ICMP_N) {
        json_array_append_new(
            d->probes, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I}", "target", s->object,
                                 "rtt_ms", num_or_null(s->v[RN_ICMP_RTTAVG]), "rtt_min_ms",
                                 num_or_null(s->v[RN_ICMP_RTTMIN]), "rtt_max_ms",
                                 num_or_null(s->v[RN_ICMP_RTTMAX]), "loss_pct",
                                 num_or_null(s->v[RN_ICMP_LOSS]), "jitter_ms",
                                 num_or_null(s->v[RN_ICMP_JITTER]), "time_ms",
                                 (json_int_t)s->time_ms));
    } else if (!strcmp(s->source, RN_SRC_RTP) || !strcmp(s->source, RN_SRC_TCPHS)) {
        vc_capture_add(rn__http_latest(d->h), s, d->vc);
    }
}

/* GET /api/v1/nodes/{id}: one Node with its interfaces, VC captures, alarms and outages. */
static void api_node(rn_http_req_t *r, const char *id)
{
    rn_http_t *h = r->http;
    if (!rn__http_args_only(r, NULL))
        return;
    const rn_node_t *n = rn_topology_node(rn__http_topo(h), id);
    if (!n)
        return rn__http_error(r, 404, "id: no node '%.200s' in the topology", id);
    node_detail_t d = { h, json_array(), json_array(), json_array() };
    if (rn__http_latest(h))
        rn_latest_foreach(rn__http_latest(h), n->id, detail_series, &d);
    json_t *j = node_json(h, n);
    json_object_set_new(j, "interfaces", d.ifs);
    json_object_set_new(j, "probes", d.probes);
    json_object_set_new(j, "vc", d.vc);
    if (!h->events) {
        json_object_set_new(j, "alarms", rn__api_engine_alarms(h, n->id));
        json_object_set_new(j, "outages", json_array());
        return rn__http_json(r, 200, j);
    }
    rn__db_node(r, n->id, j);
}

/* GET /api/v1/links: every uplink of the topology as a Link object. */
static void api_links(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    rn_http_t *h = r->http;
    if (!rn__http_args_only(r, NULL))
        return;
    const rn_topology_t *t = rn__http_topo(h);
    json_t *links = json_array();
    for (size_t i = 0; i < t->n_nodes; i++) {
        const rn_node_t *n = &t->nodes[i];
        for (size_t k = 0; k < n->n_uplinks; k++)
            json_array_append_new(links, link_json(h, n, &n->uplinks[k]));
    }
    rn__http_json(r, 200, json_pack("{s:o}", "links", links));
}

/* Which active alarm explains that node does not reach service. */
typedef struct {
    const char *node, *service;
    uint64_t id;
    char reason[256];
    int rank; /* 2: SERVICE_UNREACHABLE of (node, service); 1: a root cutting node off */
} why_t;

static void find_why(void *ctx, const rn_alarm_t *a)
{
    why_t *w = ctx;
    if (a->type == RN_ALARM_SERVICE_UNREACHABLE && a->node && a->service &&
        !strcmp(a->node, w->node) && !strcmp(a->service, w->service)) {
        if (w->rank < 2) {
            w->rank = 2;
            w->id = a->root_id ? a->root_id : a->id;
            snprintf(w->reason, sizeof w->reason, "%s", a->text ? a->text : "unreachable");
        }
        return;
    }
    if (a->root_id || w->rank >= 1)
        return;
    bool node_hit = false, svc_hit = false;
    for (size_t i = 0; i < a->n_impact_nodes; i++)
        node_hit |= !strcmp(a->impact_nodes[i], w->node);
    for (size_t i = 0; i < a->n_impact_services; i++)
        svc_hit |= !strcmp(a->impact_services[i], w->service);
    if (node_hit && svc_hit) {
        w->rank = 1;
        w->id = a->id;
        snprintf(w->reason, sizeof w->reason, "%s", a->text ? a->text : "cut off");
    }
}

typedef struct {
    const rn_latest_t *l;
    json_t *out;
} vc_offices_t;

static void vc_office(void *ctx, const rn_latest_series_t *s)
{
    vc_offices_t *k = ctx;
    if (strcmp(s->source, RN_SRC_RTP) && strcmp(s->source, RN_SRC_TCPHS))
        return;
    size_t before = json_array_size(k->out);
    vc_capture_add(k->l, s, k->out);
    if (json_array_size(k->out) > before)
        json_object_set_new(json_array_get(k->out, before), "node", json_string(s->node));
}

/* Every office whose agent captures VC media, with its captures' latest figures. */
static json_t *vc_offices(rn_http_t *h)
{
    vc_offices_t k = { rn__http_latest(h), json_array() };
    if (rn__http_latest(h))
        rn_latest_foreach(rn__http_latest(h), NULL, vc_office, &k);
    return k.out;
}

/* Marks, by topology index, the offices whose own checks of a service fail. */
typedef struct {
    const rn_topology_t *t;
    const char *service;
    bool *failing;
} failing_t;

static void mark_failing(void *ctx, const rn_alarm_t *a)
{
    failing_t *f = ctx;
    const rn_node_t *n;
    if (a->type == RN_ALARM_SERVICE_UNREACHABLE && a->service && !strcmp(a->service, f->service) &&
        (n = rn_topology_node(f->t, a->node)))
        f->failing[n - f->t->nodes] = true;
}

/* GET /api/v1/services: each service's state and the nodes that cannot reach it. */
static void api_services(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    rn_http_t *h = r->http;
    const rn_topology_t *t = rn__http_topo(h);
    if (!rn__http_args_only(r, NULL))
        return;
    json_t *out = json_array();
    for (size_t s = 0; s < t->n_services; s++) {
        const rn_service_t *svc = &t->services[s];
        json_t *from = json_array();
        failing_t f = { t, svc->name, calloc(t->n_nodes + 1, sizeof *f.failing) };
        if (f.failing) /* one pass over the alarms, not one per office */
            rn_alarm_foreach(rn__http_alarms(h), mark_failing, &f);
        for (size_t i = 0; i < t->n_nodes; i++) {
            if (rn_alarm_reaches(rn__http_alarms(h), t->nodes[i].id, svc->name) != 0 &&
                !(f.failing && f.failing[i]))
                continue; /* the network reaches it and its checks do not fail */
            why_t w = { t->nodes[i].id, svc->name, 0, "", 0 };
            rn_alarm_foreach(rn__http_alarms(h), find_why, &w);
            json_array_append_new(from, json_pack("{s:s, s:o, s:s}", "node", t->nodes[i].id,
                                                  "alarm_id",
                                                  w.id ? json_integer((json_int_t)w.id) : json_null(),
                                                  "reason", w.rank ? w.reason
                                                                   : "a link on its path is down"));
        }
        rn_alarm_service_state_t st = { 0 };
        rn_alarm_service_state(rn__http_alarms(h), svc->name, &st);
        /* no fresh check from any office: unknown, however the paths look */
        const char *state = st.down ? "down"
                            : st.n_failing || json_array_size(from) ? "degraded"
                            : st.n_checking ? "up" : "unknown";
        free(f.failing);
        json_t *sj = json_pack("{s:s, s:o, s:o, s:o, s:s, s:I, s:I, s:I, s:o}", "name", svc->name,
                               "kind", str_or_null(svc->kind), "host",
                               str_or_null(svc->n_endpoints ? svc->endpoints[0].node : NULL),
                               "unreachable_from", from, "state", state, "offices_checking",
                               (json_int_t)st.n_checking, "offices_ok", (json_int_t)st.n_ok,
                               "offices_failing", (json_int_t)st.n_failing, "cert_days",
                               isnan(st.cert_days) ? json_null() : json_real(st.cert_days));
        if (svc->kind && !strcmp(svc->kind, "vc"))
            json_object_set_new(sj, "vc_quality", vc_offices(h));
        json_array_append_new(out, sj);
    }
    rn__http_json(r, 200, json_pack("{s:o}", "services", out));
}

typedef struct {
    rn_http_t *h;
    json_t *out;
} series_ctx_t;

static void series_one(void *ctx, const rn_latest_series_t *s)
{
    series_ctx_t *k = ctx;
    char path[4096];
    if (rn_rrd_store_path(rn__http_store(k->h), s->node, s->source, s->device, s->object, path,
                          sizeof path) != 0)
        return;
    json_array_append_new(k->out, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "node", s->node,
                                            "source", s->source, "device", s->device, "object",
                                            s->object, "path", path, "time_ms",
                                            (json_int_t)s->time_ms));
}

/* GET /api/v1/series[?node=ID]: the series with a latest value and their RRD files. */
static void api_series(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    static const char *const allowed[] = { "node", NULL };
    rn_http_t *h = r->http;
    if (!rn__http_args_only(r, allowed))
        return;
    const char *node = rn__http_arg(r, "node");
    if (node && !rn_topology_node(rn__http_topo(h), node))
        return rn__http_error(r, 404, "node: no node '%.200s' in the topology", node);
    series_ctx_t k = { h, json_array() };
    if (rn__http_latest(h) && rn__http_store(h))
        rn_latest_foreach(rn__http_latest(h), node, series_one, &k);
    rn__http_json(r, 200, json_pack("{s:o}", "series", k.out));
}

/* The answers from memory (http_int.h: how routes are matched). */
const rn_http_route_t rn_api_routes[] = {
    { "GET", "/api/v1/status", false, api_status },
    { "GET", "/api/v1/nodes", false, api_nodes },
    { "GET", "/api/v1/nodes/", true, api_node },
    { "GET", "/api/v1/links", false, api_links },
    { "GET", "/api/v1/services", false, api_services },
    { "GET", "/api/v1/series", false, api_series },
    { NULL, NULL, false, NULL },
};

/* ---------------------------------------------------------------- for api_db.c */

int rn__api_set_maintenance(rn_http_t *h, const char *entity, int64_t start_ms, int64_t end_ms)
{
    return rn_alarm_set_maintenance(rn__http_alarms(h), entity, start_ms, end_ms);
}

bool rn__api_entity_known(rn_http_t *h, const char *entity)
{
    const rn_topology_t *t = rn__http_topo(h);
    if (rn_topology_node(t, entity))
        return true;
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t k = 0; k < t->nodes[i].n_uplinks; k++)
            if (!strcmp(t->nodes[i].uplinks[k].circuit, entity))
                return true;
    return false;
}

json_t *rn__api_node_circuits(rn_http_t *h, const char *node)
{
    json_t *out = json_array();
    const rn_node_t *n = rn_topology_node(rn__http_topo(h), node);
    for (size_t k = 0; n && k < n->n_uplinks; k++)
        json_array_append_new(out, json_string(n->uplinks[k].circuit));
    return out;
}

/* ---------------------------------------------------------------- SSE alarm events */

void rn_http_publish_alarm(rn_http_t *h, rn_alarm_event_kind_t kind, const rn_alarm_t *a)
{
    if (!h || !h->sse || (unsigned)kind > RN_ALARM_EV_CLEARED)
        return;
    json_t *j = json_pack("{s:s, s:o}", "kind", rn_alarm_event_name(kind), "alarm",
                          alarm_json(a, kind == RN_ALARM_EV_CLEARED ? rn_clock_wall_ms() : 0));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s)
        rn_http_publish_json(h, "alarm", s);
    free(s);
}
