/* Alarm lifecycle and correlation (see alarm.h for the rules, alarm.c for the evidence side).
 *
 * An alarm lives exactly as long as its condition: rn__alarm_open() when the condition turns bad,
 * rn__alarm_close() when it turns good. In between, rn__correlate() decides what the NOC sees:
 *
 *   PENDING --no cause, deadline passed--> ROOT       (RAISED, or PROMOTED if it was a symptom)
 *   PENDING --cause found----------------> SYMPTOM    (SYMPTOM_OF once its root is published)
 *   ROOT    --cause found----------------> SYMPTOM    (SYMPTOM_OF: re-parented after the fact)
 *   SYMPTOM --cause gone (root cleared)--> PENDING    (held promote_hold_ms, may clear meanwhile)
 *
 * The cause of an alarm is found over the tree (find_cause) each time, never remembered, so the
 * outcome depends on the facts, not on the order they arrived in. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm/alarm_int.h"

#define CHAIN_MAX 64 /* cause chains are short (tree depth x a few types); this bounds a bug */

/* ---- strings -------------------------------------------------------------------------------- */

typedef struct {
    char buf[768];
    size_t len;
} text_t;

/* Appends printf-style text, truncating silently at the buffer's end. */
static void text_add(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text_t *t, const char *fmt, ...)
{
    if (t->len >= sizeof t->buf - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < sizeof t->buf ? t->len + (size_t)n : sizeof t->buf - 1;
}

/* Appends a list as "a, b, c" or "a, b, c, d and 12 more". */
static void text_list(text_t *t, const rn_impact_list_t *l)
{
    size_t shown = l->n > 5 ? 4 : l->n;
    for (size_t i = 0; i < shown; i++)
        text_add(t, "%s%s", i ? ", " : "", l->v[i]);
    if (shown < l->n)
        text_add(t, " and %zu more", l->n - shown);
}

/* Appends "JPR-MPLS-0042 (BSNL, mpls 34 Mbit/s)". */
static void text_link(text_t *t, const rn_impact_link_t *il)
{
    const rn_link_t *l = il->link;
    text_add(t, "%s (%s, %s %g Mbit/s)", l->circuit,
             il->vendor && il->vendor->display ? il->vendor->display : l->vendor,
             l->kind ? l->kind : "link", l->mbps);
}

/* Appends ": X, Y lose S1, S2" or ": X, Y cut off" from the alarm's impact. */
static void text_impact(text_t *t, const alarm_t *a)
{
    if (!a->inodes.n)
        return;
    text_add(t, ": ");
    text_list(t, &a->inodes);
    if (a->iservices.n) {
        text_add(t, " lose ");
        text_list(t, &a->iservices);
    } else {
        text_add(t, " cut off");
    }
}

/* Appends the type-specific description of a link alarm. */
static void text_link_alarm(rn_alarm_engine_t *e, alarm_t *a, text_t *t)
{
    const link_st_t *ls = &e->links[a->link];
    text_add(t, "link ");
    text_link(t, &e->ix->links[a->link]);
    switch (a->type) {
    case RN_ALARM_LINK_DOWN:
        text_add(t, " down");
        break;
    case RN_ALARM_REDUNDANCY_LOST:
        text_add(t, " down: %s runs on its other uplink, redundancy lost", a->node_id);
        break;
    case RN_ALARM_LINK_FLAPPING:
        text_add(t, " flapping: more than %u changes in %lld s", ls->k.flap_changes,
                 (long long)(ls->k.flap_window_ms / 1000));
        break;
    default: /* degraded */
        if (ls->loss_bad)
            text_add(t, " degraded: loss %.1f%% over the last %u echoes (SLA %g%%)",
                     ls->sum_sent ? 100.0 * ls->sum_lost / ls->sum_sent : 0.0, ls->sum_sent,
                     ls->max_loss * 100);
        else
            text_add(t, " degraded: latency or jitter over the SLA's %g/%g ms in %u of the "
                     "last %u rounds", ls->max_latency, ls->max_jitter, ls->k.slow_of,
                     ls->k.slow_in);
        break;
    }
    text_impact(t, a);
}

/* Appends the description of a node or service alarm. */
static void text_node_alarm(rn_alarm_engine_t *e, alarm_t *a, text_t *t)
{
    const rn_impact_node_t *in = &e->ix->nodes[a->node];
    switch (a->type) {
    case RN_ALARM_NODE_ISOLATED:
        text_add(t, "node %s isolated, all %zu uplinks down", a->node_id, in->n_links);
        break;
    case RN_ALARM_NODE_SILENT:
        text_add(t, "node %s silent: no frame from its agent for %lld s", a->node_id,
                 (long long)(e->cfg.silent_after_ms / 1000));
        break;
    case RN_ALARM_AGENT_DOWN:
        text_add(t, "agent of %s down: no frame for %lld s while %s still reaches the node "
                 "(no link fault)", a->node_id, (long long)(e->cfg.silent_after_ms / 1000),
                 in->parent != RN_IMPACT_NONE ? e->ix->nodes[in->parent].node->id : "?");
        return;
    case RN_ALARM_PATH_LOST:
        text_add(t, "node %s reaches %s but not %s", a->node_id,
                 in->parent != RN_IMPACT_NONE ? e->ix->nodes[in->parent].node->id : "?",
                 e->ix->nodes[e->ix->root].node->id);
        break;
    case RN_ALARM_VC_QUALITY: /* VC media capture */
        text_add(t, "VC quality low at %s: MOS %.2f, loss %.1f%% (limits: MOS %.2f, loss %.1f%%)"
                 " in %u of the last %u intervals", a->node_id, e->nodes[a->node].vc_mos,
                 e->nodes[a->node].vc_loss, e->cfg.vc_min_mos, e->cfg.vc_max_loss_pct,
                 e->cfg.vc_bad_of, e->cfg.vc_bad_in);
        return;
    case RN_ALARM_SERVICE_DOWN:
        text_add(t, "service %s down at %s: unreachable from all %zu offices that check it (",
                 a->service_name, a->node_id, a->inodes.n);
        text_list(t, &a->inodes);
        text_add(t, ") while their paths are fine");
        return;
    case RN_ALARM_CERT_EXPIRING: {
        const svc_st_t *sv = e->nodes[a->node].svc ? &e->nodes[a->node].svc[a->service] : NULL;
        text_add(t, "certificate of service %s at %s expires in %.1f days (warning under %g)",
                 a->service_name, a->node_id, sv ? sv->cert_days : 0.0, e->cfg.cert_warn_days);
        return;
    }
    default: /* service */
        text_add(t, "service %s unreachable from %s", a->service_name, a->node_id);
        return;
    }
    text_impact(t, a);
}

/* ---- describe ------------------------------------------------------------------------------- */

/* Returns true if node n has an uplink other than l that is not down. */
static bool other_uplink_up(const rn_alarm_engine_t *e, size_t n, size_t l)
{
    const rn_impact_node_t *in = &e->ix->nodes[n];
    for (size_t i = in->first_link; i < in->first_link + in->n_links; i++)
        if (i != l && !e->links[i].down)
            return true;
    return false;
}

bool rn__node_cut(const rn_alarm_engine_t *e, size_t n)
{
    const rn_impact_node_t *in = &e->ix->nodes[n];
    for (size_t i = in->first_link; i < in->first_link + in->n_links; i++)
        if (!e->links[i].down)
            return false;
    return in->n_links > 0;
}

/* Computes a's impact lists from its type (see alarm.h, IMPACT). */
static void describe_impact(rn_alarm_engine_t *e, alarm_t *a)
{
    size_t n = a->node;
    switch (a->type) {
    case RN_ALARM_LINK_DOWN:
    case RN_ALARM_NODE_ISOLATED:
        rn_impact_cut(e->ix, n, n, &a->inodes, &a->iservices);
        break;
    case RN_ALARM_LINK_FLAPPING:
        if (e->ix->nodes[n].n_links == 1)
            rn_impact_cut(e->ix, n, n, &a->inodes, &a->iservices);
        break;
    case RN_ALARM_PATH_LOST:
        if (e->ix->nodes[n].parent != RN_IMPACT_NONE)
            rn_impact_cut(e->ix, e->ix->nodes[n].parent, n, &a->inodes, &a->iservices);
        break;
    case RN_ALARM_SERVICE_DOWN: /* the offices that lost it, as rn__svc_eval counts them */
        for (size_t i = 0; i < e->ix->n_nodes; i++) {
            const svc_st_t *sv = e->nodes[i].svc ? &e->nodes[i].svc[a->service] : NULL;
            if (sv && rn__svc_office_fails(&sv->h) && rn__svc_fresh(e, i, a->service) &&
                !rn__service_path_cause(e, i, a->service) &&
                rn_impact_list_add(&a->inodes, e->ix->nodes[i].node->id))
                break;
        }
        if (rn_impact_list_add(&a->iservices, a->service_name))
            rn_impact_list_free(&a->iservices);
        break;
    case RN_ALARM_CERT_EXPIRING: /* nobody lost it yet: the service it is about */
        if (rn_impact_list_add(&a->iservices, a->service_name))
            rn_impact_list_free(&a->iservices);
        break;
    case RN_ALARM_SERVICE_UNREACHABLE:
    case RN_ALARM_VC_QUALITY:
        if (rn_impact_list_add(&a->inodes, a->node_id) ||
            (a->service_name && rn_impact_list_add(&a->iservices, a->service_name))) {
            rn_impact_list_free(&a->inodes);
            rn_impact_list_free(&a->iservices);
        }
        break;
    default:
        break;
    }
}

/* Returns true if node n's parent reaches it now: the parent's latest round to n, no older than
 * late_ms, is part of a good spell. */
static bool parent_reaches(const rn_alarm_engine_t *e, size_t n)
{
    const hyst_t *ptc = &e->nodes[n].ptc;
    return ptc->last_t && !ptc->on && ptc->good && e->now - ptc->last_t <= e->cfg.late_ms;
}

void rn__alarm_describe(rn_alarm_engine_t *e, alarm_t *a)
{
    if (a->type == RN_ALARM_LINK_DOWN || a->type == RN_ALARM_REDUNDANCY_LOST)
        a->type = other_uplink_up(e, a->node, a->link) ? RN_ALARM_REDUNDANCY_LOST
                                                       : RN_ALARM_LINK_DOWN;
    if (a->type == RN_ALARM_NODE_SILENT || a->type == RN_ALARM_AGENT_DOWN)
        a->type = parent_reaches(e, a->node) ? RN_ALARM_AGENT_DOWN : RN_ALARM_NODE_SILENT;
    a->severity = e->cfg.severity[a->type];
    free(a->vendor);
    free(a->text);
    a->vendor = a->text = NULL;
    if (a->link != RN_IMPACT_NONE && e->ix->links[a->link].link->vendor)
        a->vendor = strdup(e->ix->links[a->link].link->vendor);
    rn_impact_list_free(&a->inodes);
    rn_impact_list_free(&a->iservices);
    describe_impact(e, a);
    text_t t = { .len = 0 };
    if (a->link != RN_IMPACT_NONE)
        text_link_alarm(e, a, &t);
    else
        text_node_alarm(e, a, &t);
    a->text = strdup(t.buf);
}

/* ---- open, close ---------------------------------------------------------------------------- */

alarm_t **rn__alarm_slot(rn_alarm_engine_t *e, const alarm_t *a)
{
    if (a->node == RN_IMPACT_NONE)
        return NULL;
    node_st_t *ns = &e->nodes[a->node];
    switch (a->type) {
    case RN_ALARM_LINK_DOWN:
    case RN_ALARM_REDUNDANCY_LOST:
        return a->link == RN_IMPACT_NONE ? NULL : &e->links[a->link].a_down;
    case RN_ALARM_LINK_DEGRADED:
        return a->link == RN_IMPACT_NONE ? NULL : &e->links[a->link].a_degraded;
    case RN_ALARM_LINK_FLAPPING:
        return a->link == RN_IMPACT_NONE ? NULL : &e->links[a->link].a_flap;
    case RN_ALARM_NODE_SILENT:
    case RN_ALARM_AGENT_DOWN:
        return &ns->a_silent;
    case RN_ALARM_NODE_ISOLATED:
        return &ns->a_isolated;
    case RN_ALARM_PATH_LOST:
        return &ns->a_path;
    case RN_ALARM_SERVICE_UNREACHABLE:
        return a->service == RN_IMPACT_NONE || !ns->svc ? NULL : &ns->svc[a->service].a;
    case RN_ALARM_SERVICE_DOWN:
        return a->service == RN_IMPACT_NONE || !ns->svc ? NULL : &ns->svc[a->service].a_down;
    case RN_ALARM_CERT_EXPIRING:
        return a->service == RN_IMPACT_NONE || !ns->svc ? NULL : &ns->svc[a->service].a_cert;
    case RN_ALARM_VC_QUALITY:
        return &ns->a_vc;
    default:
        return NULL;
    }
}

/* Returns true if a maintenance window covers alarm a's start (see alarm.h, MAINTENANCE). */
static bool in_maintenance(const rn_alarm_engine_t *e, const alarm_t *a)
{
    for (size_t i = 0; i < e->n_mw; i++) {
        const maint_t *m = &e->mw[i];
        if (a->since_ms < m->start || a->since_ms >= m->end)
            continue;
        if ((a->circuit && strcmp(m->entity, a->circuit) == 0) ||
            strcmp(m->entity, a->entity) == 0)
            return true;
        size_t top = rn_impact_find_node(e->ix, m->entity);
        if (top != RN_IMPACT_NONE && rn_impact_is_under(e->ix, a->node, top))
            return true;
    }
    return false;
}

/* Returns true if something above a's node could explain it: then a new root waits the settle
 * window. Link and isolation alarms of a node hanging off the root have nothing above them. */
static bool may_have_upstream(const rn_alarm_engine_t *e, const alarm_t *a)
{
    bool link_level = a->link != RN_IMPACT_NONE || a->type == RN_ALARM_NODE_ISOLATED;
    return !(link_level && e->ix->nodes[a->node].parent == e->ix->root);
}

alarm_t *rn__alarm_open(rn_alarm_engine_t *e, rn_alarm_type_t type, size_t node, size_t link,
                        size_t service, int64_t since_ms)
{
    alarm_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    *a = (alarm_t){ .id = e->next_id++, .type = type, .state = ST_PENDING, .since_ms = since_ms,
                    .node = node, .link = link, .service = service };
    const char *node_id = e->ix->nodes[node].node->id;
    const char *circuit = link != RN_IMPACT_NONE ? e->ix->links[link].link->circuit : NULL;
    const char *svc = service != RN_IMPACT_NONE ? e->topo->services[service].name : NULL;
    a->node_id = strdup(node_id);
    a->circuit = circuit ? strdup(circuit) : NULL;
    a->service_name = svc ? strdup(svc) : NULL;
    a->entity = strdup(circuit ? circuit : svc ? svc : node_id);
    alarm_t **slot = rn__alarm_slot(e, a);
    if (!a->node_id || !a->entity || (circuit && !a->circuit) || (svc && !a->service_name) ||
        !slot) {
        rn__alarm_free(e, a);
        return NULL;
    }
    a->planned = in_maintenance(e, a);
    a->deadline_ms = e->now + (may_have_upstream(e, a) ? e->cfg.settle_ms : 0);
    if (type == RN_ALARM_SERVICE_UNREACHABLE || type == RN_ALARM_SERVICE_DOWN)
        a->deadline_ms += e->cfg.probe_interval_ms; /* a check fails at its timeout, late in
                                                     * the round that shows a cut: give the
                                                     * cut's probe rounds one more round */
    rn__alarm_describe(e, a);
    *slot = a;
    a->prev = e->tail;
    if (e->tail)
        e->tail->next = a;
    else
        e->head = a;
    e->tail = a;
    e->dirty = true;
    return a;
}

/* Sends one event about a. */
static void emit(rn_alarm_engine_t *e, rn_alarm_event_kind_t kind, const alarm_t *a)
{
    rn_alarm_t snap;
    rn__alarm_snapshot(a, &snap);
    if (e->fn)
        e->fn(e->ctx, kind, &snap, e->now);
}

void rn__alarm_close_at(rn_alarm_engine_t *e, alarm_t *a, int64_t until_ms)
{
    if (until_ms >= a->since_ms)
        a->until_ms = until_ms;
    rn__alarm_close(e, a);
}

void rn__alarm_close(rn_alarm_engine_t *e, alarm_t *a)
{
    if (a->published)
        emit(e, RN_ALARM_EV_CLEARED, a);
    for (alarm_t *b = e->head; b; b = b->next) {
        if (b->root == a)
            b->root = NULL;
        if (b->cause == a)
            b->cause = NULL;
    }
    alarm_t **slot = rn__alarm_slot(e, a);
    if (slot && *slot == a)
        *slot = NULL;
    rn__alarm_free(e, a);
    e->dirty = true;
}

void rn__alarm_free(rn_alarm_engine_t *e, alarm_t *a)
{
    if (a->prev || e->head == a) {
        if (a->prev)
            a->prev->next = a->next;
        else
            e->head = a->next;
        if (a->next)
            a->next->prev = a->prev;
        else
            e->tail = a->prev;
    }
    free(a->entity);
    free(a->node_id);
    free(a->vendor);
    free(a->circuit);
    free(a->service_name);
    free(a->text);
    rn_impact_list_free(&a->inodes);
    rn_impact_list_free(&a->iservices);
    free(a);
}

void rn__alarm_snapshot(const alarm_t *a, rn_alarm_t *out)
{
    bool planned = a->planned || (a->state == ST_SYMPTOM && a->root && a->root->planned);
    *out = (rn_alarm_t){
        .id = a->id, .type = a->type, .severity = a->severity, .entity = a->entity,
        .node = a->node_id, .vendor = a->vendor, .circuit = a->circuit,
        .service = a->service_name, .root_id = a->announced_root, .since_ms = a->since_ms,
        .raised_ms = a->raised_ms, .until_ms = a->until_ms, .planned = planned,
        .impact_nodes = (const char *const *)a->inodes.v, .n_impact_nodes = a->inodes.n,
        .impact_services = (const char *const *)a->iservices.v,
        .n_impact_services = a->iservices.n, .text = a->text ? a->text : "" };
}

/* ---- correlation ---------------------------------------------------------------------------- */

/* Returns the alarm that cuts node n off its parent: its isolation, or the flapping or down
 * alarm of its only uplink; NULL if none. */
static alarm_t *cut_alarm(const rn_alarm_engine_t *e, size_t n)
{
    const rn_impact_node_t *in = &e->ix->nodes[n];
    if (e->nodes[n].a_isolated)
        return e->nodes[n].a_isolated;
    if (in->n_links != 1)
        return NULL;
    const link_st_t *ls = &e->links[in->first_link];
    if (ls->a_flap)
        return ls->a_flap;
    return ls->a_down && ls->a_down->type == RN_ALARM_LINK_DOWN ? ls->a_down : NULL;
}

/* Returns the highest cut on the way from node `from` (included) to the root, or NULL. */
static alarm_t *upstream_cut(const rn_alarm_engine_t *e, size_t from)
{
    alarm_t *best = NULL;
    for (size_t n = from; n != RN_IMPACT_NONE; n = e->ix->nodes[n].parent) {
        alarm_t *c = cut_alarm(e, n);
        if (c)
            best = c;
    }
    return best;
}

/* Returns the highest path-lost (silent = false) or silent alarm from node `from` up. */
static alarm_t *upstream_node(const rn_alarm_engine_t *e, size_t from, bool silent)
{
    alarm_t *best = NULL;
    for (size_t n = from; n != RN_IMPACT_NONE; n = e->ix->nodes[n].parent) {
        alarm_t *c = silent ? e->nodes[n].a_silent : e->nodes[n].a_path;
        if (c)
            best = c;
    }
    return best;
}

/* Returns the oldest path-lost alarm among a's siblings if it is older than a, else NULL. */
static alarm_t *sibling_path(const rn_alarm_engine_t *e, const alarm_t *a)
{
    size_t p = e->ix->nodes[a->node].parent;
    alarm_t *first = NULL;
    for (size_t c = p == RN_IMPACT_NONE ? RN_IMPACT_NONE : e->ix->nodes[p].first_child;
         c != RN_IMPACT_NONE; c = e->ix->nodes[c].next_sibling) {
        alarm_t *x = e->nodes[c].a_path;
        if (x && x->id < a->id && (!first || x->id < first->id))
            first = x;
    }
    return first;
}

alarm_t *rn__service_path_cause(const rn_alarm_engine_t *e, size_t node, size_t service)
{
    const rn_service_t *s = &e->topo->services[service];
    alarm_t *best = NULL;
    for (size_t n = node; n != RN_IMPACT_NONE; n = e->ix->nodes[n].parent) {
        bool hosts_below = false;
        for (size_t i = 0; i < s->n_endpoints && !hosts_below; i++) {
            size_t h = rn_impact_find_node(e->ix, s->endpoints[i].node);
            hosts_below = h != RN_IMPACT_NONE && rn_impact_is_under(e->ix, h, n);
        }
        if (hosts_below)
            break; /* the common ancestor: links above it are off the path */
        alarm_t *c = cut_alarm(e, n);
        if (c)
            best = c;
    }
    for (size_t i = 0; i < s->n_endpoints && !best; i++) {
        size_t h = rn_impact_find_node(e->ix, s->endpoints[i].node);
        for (size_t n = h; n != RN_IMPACT_NONE && !rn_impact_is_under(e->ix, node, n);
             n = e->ix->nodes[n].parent)
            if (!best)
                best = cut_alarm(e, n);
    }
    return best ? best : upstream_node(e, node, false);
}

/* Returns the cause of a service alarm: a cut on the path between its node and the service's
 * hosts (or a path-lost alarm on its way), else the service down at its host, else the same
 * service unreachable from an ancestor. */
static alarm_t *service_cause(const rn_alarm_engine_t *e, const alarm_t *a)
{
    alarm_t *best = rn__service_path_cause(e, a->node, a->service);
    size_t host = rn__svc_host(e, a->service);
    if (!best && host != RN_IMPACT_NONE && e->nodes[host].svc)
        best = e->nodes[host].svc[a->service].a_down;
    for (size_t n = e->ix->nodes[a->node].parent; !best && n != RN_IMPACT_NONE;
         n = e->ix->nodes[n].parent)
        if (e->nodes[n].svc && e->nodes[n].svc[a->service].a)
            best = e->nodes[n].svc[a->service].a;
    return best;
}

/* VC quality: the cause is the highest cut, flapping, down or degraded link between the office
 * and the VC service's host (the whole way to the root when there is no vc service). */
static alarm_t *vc_cause(const rn_alarm_engine_t *e, const alarm_t *a)
{
    const rn_service_t *s = a->service != RN_IMPACT_NONE ? &e->topo->services[a->service] : NULL;
    alarm_t *best = NULL;
    for (size_t n = a->node; n != RN_IMPACT_NONE; n = e->ix->nodes[n].parent) {
        bool hosts_below = false;
        for (size_t i = 0; s && i < s->n_endpoints && !hosts_below; i++) {
            size_t h = rn_impact_find_node(e->ix, s->endpoints[i].node);
            hosts_below = h != RN_IMPACT_NONE && rn_impact_is_under(e->ix, h, n);
        }
        if (hosts_below)
            break;
        const rn_impact_node_t *in = &e->ix->nodes[n];
        alarm_t *c = cut_alarm(e, n);
        for (size_t l = in->first_link; !c && l < in->first_link + in->n_links; l++) {
            const link_st_t *ls = &e->links[l];
            c = ls->a_flap ? ls->a_flap : ls->a_down ? ls->a_down : ls->a_degraded;
        }
        if (c)
            best = c;
    }
    return best;
}

/* Returns the direct cause of alarm a, or NULL if nothing known explains it (the rules are in
 * alarm.h, CORRELATION; causes always lie higher in the tree or higher in the same node's
 * order isolated > flapping > down > degraded, so chains never loop). */
static alarm_t *find_cause(const rn_alarm_engine_t *e, const alarm_t *a)
{
    size_t n = a->node, parent = e->ix->nodes[n].parent;
    const node_st_t *ns = &e->nodes[n];
    const link_st_t *ls = a->link != RN_IMPACT_NONE ? &e->links[a->link] : NULL;
    alarm_t *c = NULL;
    switch (a->type) {
    case RN_ALARM_LINK_DEGRADED:
        if (!(c = upstream_cut(e, parent)) && !(c = ns->a_isolated) && !(c = ls->a_flap))
            c = ls->a_down;
        return c;
    case RN_ALARM_LINK_DOWN:
    case RN_ALARM_REDUNDANCY_LOST:
        if (!(c = upstream_cut(e, parent)) && !(c = ns->a_isolated))
            c = ls->a_flap;
        return c;
    case RN_ALARM_LINK_FLAPPING:
        return (c = upstream_cut(e, parent)) ? c : ns->a_isolated;
    case RN_ALARM_NODE_ISOLATED:
        return upstream_cut(e, parent);
    case RN_ALARM_PATH_LOST:
        if (!(c = upstream_cut(e, n)) && parent != RN_IMPACT_NONE)
            c = upstream_node(e, parent, false);
        return c ? c : sibling_path(e, a);
    case RN_ALARM_NODE_SILENT:
    case RN_ALARM_AGENT_DOWN:
        if (!(c = upstream_cut(e, n)) && !(c = upstream_node(e, n, false)) &&
            parent != RN_IMPACT_NONE)
            c = upstream_node(e, parent, true);
        return c;
    case RN_ALARM_SERVICE_UNREACHABLE:
        return service_cause(e, a);
    case RN_ALARM_VC_QUALITY: /* VC media capture */
        return (c = vc_cause(e, a)) ? c : upstream_node(e, n, false);
    default:
        return NULL;
    }
}

/* Publishes a as a root: RAISED, or PROMOTED if the NOC knew it as a symptom. */
static void publish_root(rn_alarm_engine_t *e, alarm_t *a)
{
    bool promoted = a->published && a->announced_root;
    rn__alarm_describe(e, a); /* impact and link-down vs redundancy as of now */
    a->state = ST_ROOT;
    a->root = NULL;
    a->orphaned = false;
    a->announced_root = 0;
    a->published = true;
    if (!a->raised_ms)
        a->raised_ms = e->now;
    emit(e, promoted ? RN_ALARM_EV_PROMOTED : RN_ALARM_EV_RAISED, a);
}

/* Clock skew between two agents' round stamps that upstream_proven() allows for, ms. */
#define PROOF_MARGIN_MS 250

/* Returns true if nothing above link-level alarm a can explain it: every uplink between a's
 * node's parent and the root carried a round that started after a's evidence did. Then the
 * settle window has nothing to wait for (a cut above would have lost those rounds), and the root
 * is published at once. Only for the alarms that wait on an upstream cut. */
static bool upstream_proven(const rn_alarm_engine_t *e, const alarm_t *a)
{
    if (a->type != RN_ALARM_LINK_DOWN && a->type != RN_ALARM_REDUNDANCY_LOST &&
        a->type != RN_ALARM_NODE_ISOLATED)
        return false;
    for (size_t n = e->ix->nodes[a->node].parent; n != RN_IMPACT_NONE && n != e->ix->root;
         n = e->ix->nodes[n].parent)
        if (e->nodes[n].good_t <= a->since_ms + PROOF_MARGIN_MS)
            return false;
    return true;
}

/* How long a symptom whose root cleared waits before it is promoted: its own evidence needs time
 * to recover. A silent agent below a healed link needs the longest: it must notice its dead
 * session and reconnect before its next frame can clear the silence. */
static int64_t promote_hold(const rn_alarm_engine_t *e, const alarm_t *a)
{
    switch (a->type) {
    case RN_ALARM_VC_QUALITY:
        return e->cfg.vc_promote_hold_ms;
    case RN_ALARM_NODE_SILENT:
    case RN_ALARM_AGENT_DOWN:
        return e->cfg.silent_after_ms > e->cfg.promote_hold_ms ? e->cfg.silent_after_ms
                                                               : e->cfg.promote_hold_ms;
    default:
        return e->cfg.promote_hold_ms;
    }
}

/* Moves a according to its root (NULL: nothing explains it), per the state diagram above. */
static void transition(rn_alarm_engine_t *e, alarm_t *a, alarm_t *root)
{
    switch (a->state) {
    case ST_PENDING:
    case ST_ROOT:
        if (root) {
            a->state = ST_SYMPTOM;
            a->root = root;
        } else if (a->state == ST_PENDING &&
                   (e->now >= a->deadline_ms || (!a->orphaned && upstream_proven(e, a)) ||
                    (a->type == RN_ALARM_SERVICE_DOWN && rn__svc_paths_proven(e, a->service)))) {
            publish_root(e, a);
        }
        break;
    case ST_SYMPTOM:
        a->root = root;
        if (root)
            break;
        if (a->published && !a->announced_root) {
            a->state = ST_ROOT; /* its move under a root was never told: still a root outside */
        } else {
            a->state = ST_PENDING;
            a->orphaned = a->published;
            if (a->published)
                a->deadline_ms = e->now + promote_hold(e, a);
        }
        break;
    }
}

void rn__correlate(rn_alarm_engine_t *e)
{
    e->dirty = false;
    for (alarm_t *a = e->head; a; a = a->next)
        a->cause = find_cause(e, a);
    for (alarm_t *a = e->head; a; a = a->next) {
        alarm_t *root = a->cause;
        for (int i = 0; root && root->cause && i < CHAIN_MAX; i++)
            root = root->cause;
        transition(e, a, root == a ? NULL : root);
    }
    for (alarm_t *a = e->head; a; a = a->next) {
        if (a->state != ST_SYMPTOM || a->root->state != ST_ROOT ||
            a->announced_root == a->root->id)
            continue;
        a->announced_root = a->root->id;
        a->published = true;
        if (a->type == RN_ALARM_AGENT_DOWN)
            rn__alarm_describe(e, a); /* under a cut now: "silent", not "agent down" */
        if (!a->raised_ms)
            a->raised_ms = e->now;
        emit(e, RN_ALARM_EV_SYMPTOM_OF, a);
    }
}
