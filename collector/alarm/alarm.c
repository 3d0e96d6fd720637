/* The alarm engine (see alarm.h for the rules it implements).
 *
 * How it works. Evidence updates per-entity state: node_st_t (probe rounds to the parent and to
 * the root through hysteresis counters, last frame, service checks) and link_st_t (interface
 * status of both ends, the combined down state, flap history, loss and latency windows). Each
 * state that turns bad opens an alarm_t and each that turns good closes it: the alarm's life is
 * its condition's. Alarms are one list, oldest first, and each state keeps a pointer to its own.
 *
 * Which alarm is a root is not stored as history but recomputed by correlate() whenever an alarm
 * opens or closes and on every tick: each alarm's direct cause is looked up over the tree
 * (find_cause), its root is the end of that cause chain, and the alarm moves between three states
 * accordingly -- PENDING (held: settle window, or orphaned and waiting to be promoted), ROOT
 * (published), SYMPTOM (attached to a root). Events are emitted on those moves only, so the same
 * facts always give the same events, whatever order they arrived in within a settle window. */
#include "alarm/alarm.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm/alarm_int.h"

static void states_free(node_st_t *ns, size_t n_nodes, link_st_t *ls, size_t n_links);
static int svc_carry(rn_alarm_engine_t *e, const rn_impact_t *ix, node_st_t *n,
                     const node_st_t *old);

/* ---- hysteresis and configuration ---------------------------------------------------------- */

/* Feeds one sample to a hysteresis counter. Returns true if its state changed. */
static bool hyst_feed(hyst_t *h, bool bad, int64_t t, uint32_t n_bad, uint32_t n_good)
{
    if (bad) {
        if (!h->bad++)
            h->first_bad = t;
        h->good = 0;
        if (!h->on && h->bad >= n_bad) {
            h->on = true;
            h->since = h->first_bad;
            h->changed = t;
            return true;
        }
    } else {
        if (!h->good++)
            h->first_good = t;
        h->bad = 0;
        if (h->on && h->good >= n_good) {
            h->on = false;
            h->changed = t;
            return true;
        }
    }
    return false;
}

/* Copies every non-zero knob of src over dst. */
static void knobs_overlay(rn_alarm_knobs_t *dst, const rn_alarm_knobs_t *src)
{
#define OV(f) if (src->f) dst->f = src->f
    OV(down_after); OV(up_after); OV(flap_changes); OV(flap_window_ms); OV(flap_quiet_ms);
    OV(slow_of); OV(slow_in); OV(loss_window); OV(loss_min_sent); OV(loss_alpha);
    OV(loss_clear_factor);
#undef OV
}

/* Returns the knobs of one link: built-in defaults, then the config's, its SLA class's and its
 * own. Bounds keep the ring buffers valid whatever the config says. */
static rn_alarm_knobs_t knobs_for(const rn_alarm_engine_t *e, const rn_link_t *l)
{
    rn_alarm_knobs_t k = { 2, 3, 2, 60000, 120000, 6, 10, 120, 100, 1e-6, 2.0 };
    knobs_overlay(&k, &e->cfg.knobs);
    for (size_t i = 0; l && i < e->cfg.n_classes; i++)
        if (l->sla && strcmp(e->cfg.classes[i].name, l->sla) == 0)
            knobs_overlay(&k, &e->cfg.classes[i].knobs);
    for (size_t i = 0; l && i < e->cfg.n_links; i++)
        if (strcmp(e->cfg.links[i].name, l->circuit) == 0)
            knobs_overlay(&k, &e->cfg.links[i].knobs);
    if (k.flap_changes >= RN__FLAP_MAX)
        k.flap_changes = RN__FLAP_MAX - 1;
    if (k.slow_in > 32)
        k.slow_in = 32;
    if (k.slow_of > k.slow_in)
        k.slow_of = k.slow_in;
    return k;
}

/* Copies the knob table entries (names included) into the engine. Returns 0 or -ENOMEM. */
static int copy_entries(rn_alarm_knob_entry_t **dst, const rn_alarm_knob_entry_t *src, size_t n)
{
    *dst = calloc(n + 1, sizeof **dst);
    if (!*dst)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        (*dst)[i].knobs = src[i].knobs;
        if (!((*dst)[i].name = strdup(src[i].name ? src[i].name : "")))
            return -ENOMEM;
    }
    return 0;
}

/* Fills e->cfg from cfg (may be NULL) and the topology settings, defaults where zero. */
static int config_init(rn_alarm_engine_t *e, const rn_alarm_config_t *cfg)
{
    static const int sev[RN_ALARM_TYPE_COUNT] = { 1, 2, 2, 3, 1, 2, 2, 1, 2, 3, 2, 3, 3, 3, 2, 3 };
    if (cfg)
        e->cfg = *cfg;
    const rn_settings_t *s = &e->topo->settings;
    rn_alarm_config_t *c = &e->cfg;
    if (c->probe_interval_ms <= 0)
        c->probe_interval_ms = (s->probe_interval_s ? s->probe_interval_s : 10) * 1000LL;
    if (!c->probe_count)
        c->probe_count = s->probe_count ? s->probe_count : 5;
    e->defk = knobs_for(e, NULL);
    if (c->settle_ms <= 0)
        c->settle_ms = c->probe_interval_ms * 3 / 2;
    if (c->promote_hold_ms <= 0)
        c->promote_hold_ms = (e->defk.up_after + 2) * c->probe_interval_ms;
    if (c->silent_after_ms <= 0)
        c->silent_after_ms = 30000;
    if (c->late_ms <= 0)
        c->late_ms = 10000;
    if (!(c->vc_min_mos > 0)) /* VC quality */
        c->vc_min_mos = 3.6;
    if (!(c->vc_max_loss_pct > 0))
        c->vc_max_loss_pct = 3;
    if (!c->vc_bad_in || c->vc_bad_in > 32)
        c->vc_bad_in = 5;
    if (!c->vc_bad_of || c->vc_bad_of > c->vc_bad_in)
        c->vc_bad_of = c->vc_bad_in < 3 ? c->vc_bad_in : 3;
    if (c->vc_promote_hold_ms <= 0)
        c->vc_promote_hold_ms = 20000;
    if (c->service_fresh_ms <= 0) /* a node's checks: one per probe interval */
        c->service_fresh_ms = c->late_ms > 3 * c->probe_interval_ms ? c->late_ms
                                                                    : 3 * c->probe_interval_ms;
    if (!c->service_down_min_offices)
        c->service_down_min_offices = 2;
    if (!(c->cert_warn_days > 0))
        c->cert_warn_days = 14;
    for (int i = 0; i < RN_ALARM_TYPE_COUNT; i++)
        if (c->severity[i] <= 0)
            c->severity[i] = sev[i];
    rn_alarm_knob_entry_t *classes, *links;
    int rc = copy_entries(&classes, c->classes, c->n_classes);
    c->classes = classes;
    if (!rc)
        rc = copy_entries(&links, c->links, c->n_links);
    else
        c->n_links = 0, links = NULL;
    c->links = links;
    return rc;
}

static void free_entries(const rn_alarm_knob_entry_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free((char *)v[i].name);
    free((void *)v);
}

/* ---- state arrays over one topology ---------------------------------------------------------- */

/* Sets up link l's knobs, SLA limits and loss window; old (may be NULL) is the same link's state
 * under the previous topology, whose loss window is copied when its length is unchanged.
 * Returns 0 or -ENOMEM. */
static int link_init(rn_alarm_engine_t *e, const rn_impact_t *ix, link_st_t *ls, size_t l,
                     const link_st_t *old)
{
    const rn_impact_link_t *il = &ix->links[l];
    ls->k = knobs_for(e, il->link);
    ls->max_loss = il->sla ? il->sla->max_loss_pct / 100.0 : 0;
    ls->max_latency = il->sla ? il->sla->max_latency_ms : 0;
    ls->max_jitter = il->sla ? il->sla->max_jitter_ms : 0;
    ls->win_len = ls->k.loss_window;
    ls->win_sent = calloc(2 * (size_t)ls->win_len + 1, sizeof *ls->win_sent);
    if (!ls->win_sent)
        return -ENOMEM;
    ls->win_lost = ls->win_sent + ls->win_len;
    ls->crit_n = 0;
    if (old && old->win_sent && old->win_len == ls->win_len) {
        memcpy(ls->win_sent, old->win_sent, 2 * (size_t)ls->win_len * sizeof *ls->win_sent);
        return 0;
    }
    ls->win_pos = ls->win_fill = ls->sum_sent = ls->sum_lost = 0;
    ls->loss_bad = false;
    return 0;
}

/* Builds node and link state arrays for ix, carrying state over from the engine's current ones
 * (matched by node id and circuit). Alarm pointers are left NULL; rebind() sets them. */
static int states_build(rn_alarm_engine_t *e, const rn_impact_t *ix, node_st_t **nodes_out,
                        link_st_t **links_out)
{
    node_st_t *ns = calloc(ix->n_nodes + 1, sizeof *ns);
    link_st_t *ls = calloc(ix->n_links + 1, sizeof *ls);
    int rc = ns && ls ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < ix->n_nodes; i++) {
        size_t old = e->ix ? rn_impact_find_node(e->ix, ix->nodes[i].node->id) : RN_IMPACT_NONE;
        if (old != RN_IMPACT_NONE) {
            ns[i] = e->nodes[old];
            ns[i].svc = NULL;
            rc = svc_carry(e, ix, &ns[i], &e->nodes[old]);
        }
        ns[i].a_silent = ns[i].a_isolated = ns[i].a_path = NULL;
        ns[i].a_vc = NULL; /* VC quality */
    }
    for (size_t l = 0; !rc && l < ix->n_links; l++) {
        size_t old = e->ix ? rn_impact_find_link(e->ix, ix->links[l].link->circuit)
                           : RN_IMPACT_NONE;
        const link_st_t *prev = old != RN_IMPACT_NONE ? &e->links[old] : NULL;
        if (prev)
            ls[l] = *prev;
        ls[l].win_sent = NULL;
        ls[l].a_down = ls[l].a_degraded = ls[l].a_flap = NULL;
        rc = link_init(e, ix, &ls[l], l, prev);
    }
    if (rc) {
        states_free(ns, ix->n_nodes, ls, ix->n_links);
        return rc;
    }
    *nodes_out = ns;
    *links_out = ls;
    return 0;
}

static void states_free(node_st_t *ns, size_t n_nodes, link_st_t *ls, size_t n_links)
{
    for (size_t i = 0; ns && i < n_nodes; i++)
        free(ns[i].svc);
    for (size_t l = 0; ls && l < n_links; l++)
        free(ls[l].win_sent);
    free(ns);
    free(ls);
}

/* Gives node state n a service array for ix, carrying checks over from old by service name. */
static int svc_carry(rn_alarm_engine_t *e, const rn_impact_t *ix, node_st_t *n, const node_st_t *old)
{
    if (!old->svc)
        return 0;
    n->svc = calloc(ix->topo->n_services + 1, sizeof *n->svc);
    if (!n->svc)
        return -ENOMEM;
    for (size_t s = 0; s < e->ix->topo->n_services; s++) {
        size_t to = rn_impact_find_service(ix, e->ix->topo->services[s].name);
        if (to != RN_IMPACT_NONE) {
            n->svc[to] = old->svc[s];
            n->svc[to].a = n->svc[to].a_down = n->svc[to].a_cert = NULL;
        }
    }
    return 0;
}

int rn_alarm_engine_new(const rn_topology_t *topo, const rn_alarm_config_t *cfg,
                        rn_alarm_event_fn fn, void *ctx, rn_alarm_engine_t **out)
{
    *out = NULL;
    if (!topo || !rn_topology_root(topo))
        return -EINVAL;
    rn_alarm_engine_t *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->topo = topo;
    e->fn = fn;
    e->ctx = ctx;
    e->next_id = 1;
    e->now = 0;
    int rc = config_init(e, cfg);
    rn_impact_t *ix = NULL;
    if (!rc)
        rc = rn_impact_new(topo, &ix);
    if (!rc)
        rc = states_build(e, ix, &e->nodes, &e->links);
    if (rc) {
        rn_impact_free(ix);
        rn_alarm_engine_free(e);
        return rc;
    }
    e->ix = ix;
    *out = e;
    return 0;
}

void rn_alarm_engine_free(rn_alarm_engine_t *e)
{
    if (!e)
        return;
    while (e->head)
        rn__alarm_free(e, e->head);
    if (e->ix)
        states_free(e->nodes, e->ix->n_nodes, e->links, e->ix->n_links);
    rn_impact_free(e->ix);
    free_entries(e->cfg.classes, e->cfg.n_classes);
    free_entries(e->cfg.links, e->cfg.n_links);
    for (size_t i = 0; i < e->n_mw; i++)
        free(e->mw[i].entity);
    free(e->mw);
    free(e);
}

/* Points each state's alarm slot at its alarm, and each alarm's indexes into ix; closes alarms
 * whose entity is gone. Called after a reload, with e->ix already the new index. */
static void rebind(rn_alarm_engine_t *e)
{
    for (alarm_t *a = e->head, *next; a; a = next) {
        next = a->next;
        a->node = rn_impact_find_node(e->ix, a->node_id);
        a->link = a->circuit ? rn_impact_find_link(e->ix, a->circuit) : RN_IMPACT_NONE;
        a->service = a->service_name ? rn_impact_find_service(e->ix, a->service_name)
                                     : RN_IMPACT_NONE;
        alarm_t **slot = rn__alarm_slot(e, a);
        if (!slot || *slot) {
            rn__alarm_close(e, a); /* its entity left the topology */
            continue;
        }
        *slot = a;
        rn__alarm_describe(e, a);
    }
}

int rn_alarm_engine_set_topology(rn_alarm_engine_t *e, const rn_topology_t *topo)
{
    if (!topo || !rn_topology_root(topo))
        return -EINVAL;
    rn_impact_t *ix;
    int rc = rn_impact_new(topo, &ix);
    node_st_t *ns;
    link_st_t *ls;
    if (!rc && (rc = states_build(e, ix, &ns, &ls)) != 0)
        rn_impact_free(ix);
    if (rc)
        return rc;
    states_free(e->nodes, e->ix->n_nodes, e->links, e->ix->n_links);
    rn_impact_free(e->ix);
    e->topo = topo;
    e->ix = ix;
    e->nodes = ns;
    e->links = ls;
    rebind(e);
    rn__correlate(e);
    return 0;
}

/* ---- evidence ------------------------------------------------------------------------------- */

/* Returns false (and counts it) if a sample at t is a replay: older than late_ms behind the
 * engine's clock. Spooled evidence refines outages in the event store; it never moves live
 * state, or a healed link would go down again while an agent catches up. */
static bool accept_time(rn_alarm_engine_t *e, int64_t t)
{
    if (t < e->now - e->cfg.late_ms) {
        e->late++;
        return false;
    }
    return true;
}

/* Returns the knobs that govern node n's probe rounds: those of its first uplink. */
static const rn_alarm_knobs_t *node_knobs(const rn_alarm_engine_t *e, size_t n)
{
    const rn_impact_node_t *in = &e->ix->nodes[n];
    return in->n_links ? &e->links[in->first_link].k : &e->defk;
}

/* Records a down/up change of link l at t; opens the flapping alarm when the link changed more
 * than K times within the flap window. */
static void flap_record(rn_alarm_engine_t *e, size_t l, int64_t t)
{
    link_st_t *ls = &e->links[l];
    ls->flap_t[ls->flap_pos] = t;
    ls->flap_pos = (ls->flap_pos + 1) % RN__FLAP_MAX;
    if (ls->flap_n < RN__FLAP_MAX)
        ls->flap_n++;
    uint32_t count = 0;
    int64_t oldest = t;
    for (uint32_t i = 0; i < ls->flap_n; i++)
        if (ls->flap_t[i] > t - ls->k.flap_window_ms) {
            count++;
            if (ls->flap_t[i] < oldest)
                oldest = ls->flap_t[i];
        }
    if (count > ls->k.flap_changes && !ls->flapping) {
        ls->flapping = true;
        rn__alarm_open(e, RN_ALARM_LINK_FLAPPING, e->ix->links[l].node, l, RN_IMPACT_NONE,
                       oldest);
    }
}

/* Opens or closes node n's isolation alarm (nodes with several uplinks only). */
static void isolation_update(rn_alarm_engine_t *e, size_t n, int64_t t)
{
    node_st_t *ns = &e->nodes[n];
    bool iso = e->ix->nodes[n].n_links >= 2 && rn__node_cut(e, n);
    if (iso == ns->isolated)
        return;
    ns->isolated = iso;
    if (iso)
        rn__alarm_open(e, RN_ALARM_NODE_ISOLATED, n, RN_IMPACT_NONE, RN_IMPACT_NONE, t);
    else if (ns->a_isolated)
        rn__alarm_close(e, ns->a_isolated);
}

/* How old the interface state in an ifOperStatus report may be at its time stamp: snmpd serves
 * its interface table from a cache refreshed about every 5 s, so "down" stamped T may describe
 * the link as it was at T - 5 s. */
#define IF_REPORT_AGE_MS 5000

/* Returns the time of the first report of link l's current ifOperStatus down spell (the later
 * of the two ends if both are down), or INT64_MIN if neither end reports down. */
static int64_t oper_down_since(const link_st_t *ls)
{
    int64_t t = INT64_MIN;
    for (int end = 0; end < 2; end++)
        if (ls->oper[end] < 0 && ls->oper_down_t[end] > t)
            t = ls->oper_down_t[end];
    return t;
}

/* Returns true if an end of link l reports ifOperStatus down and that report is not superseded:
 * on a node's only uplink, up_after rounds with replies in a row, all newer than the state the
 * first report of the down spell describes, show the link carries traffic (polls are slower than
 * probes: a heal must not wait for the next poll). The spell's first report, not its newest, is
 * what the rounds must outrank: a device that keeps answering "down" from its cache for a few
 * seconds after the heal repeats old news, while fresh rounds already carry traffic; and that
 * first report may itself describe the link up to IF_REPORT_AGE_MS before its time stamp. A real
 * cut is still seen: its rounds lose every echo, which resets the count and takes the link down
 * by the probes' own hysteresis. */
static bool if_down(const rn_alarm_engine_t *e, size_t l)
{
    const link_st_t *ls = &e->links[l];
    if (ls->oper[0] >= 0 && ls->oper[1] >= 0)
        return false;
    size_t n = e->ix->links[l].node;
    return !(e->ix->nodes[n].n_links == 1 && ls->good_after_down >= ls->k.up_after);
}

/* Forgets link l's loss and latency windows. The rounds around a cut or a heal (a partial round
 * before the cut is seen, the first round after it heals) are part of the outage, not a measure
 * of the link's quality: left in a 120-round window they would page "degraded" minutes after
 * every outage. */
static void degrade_reset(link_st_t *ls)
{
    if (ls->win_sent)
        memset(ls->win_sent, 0, 2 * (size_t)ls->win_len * sizeof *ls->win_sent);
    ls->win_pos = ls->win_fill = ls->sum_sent = ls->sum_lost = 0;
    ls->slow_bits = 0;
}

/* Returns when the rounds behind link l's current down spell started failing: the earliest
 * first bad round of the sides (upward, downward) that are down, else t. */
static int64_t rounds_down_since(const node_st_t *ns, int64_t t)
{
    int64_t since = t;
    if (ns->ptp.on && ns->ptp.since < since)
        since = ns->ptp.since;
    if (ns->ptc.on && ns->ptc.since < since)
        since = ns->ptc.since;
    return since;
}

/* Returns when a link that comes up at t started carrying traffic again: the first good round,
 * after the last change at `changed`, of the side that recovered last (the rounds of a side that
 * never went bad say nothing about the end); t when no round tells. */
static int64_t rounds_up_since(const node_st_t *ns, int64_t changed, int64_t t)
{
    int64_t until = INT64_MIN;
    const hyst_t *side[2] = { &ns->ptp, &ns->ptc };
    for (int i = 0; i < 2; i++)
        if (side[i]->good && side[i]->first_good > changed && side[i]->first_good > until)
            until = side[i]->first_good;
    return until == INT64_MIN ? t : until;
}

/* Recomputes whether link l is down (either end's ifOperStatus, its node's rounds to the parent,
 * or the parent's rounds to the node) after evidence at t, and follows a change: flap history,
 * the link-down alarm, the node's isolation, and a fresh start of the degradation windows. */
static void link_update(rn_alarm_engine_t *e, size_t l, int64_t t)
{
    link_st_t *ls = &e->links[l];
    size_t n = e->ix->links[l].node;
    const node_st_t *ns = &e->nodes[n];
    ls->known = true;
    bool down = ns->ptp.on || ns->ptc.on || if_down(e, l);
    if (down == ls->down)
        return;
    /* the outage ends at the first good round after the cut, not up_after rounds later */
    int64_t until = rounds_up_since(ns, ls->changed, t);
    ls->down = down;
    ls->changed = t;
    degrade_reset(ls);
    flap_record(e, l, t);
    if (down && !ls->a_down) {
        rn__alarm_open(e, RN_ALARM_LINK_DOWN, n, l, RN_IMPACT_NONE, rounds_down_since(ns, t));
    } else if (!down && ls->a_down) {
        rn__alarm_close_at(e, ls->a_down, until);
    }
    isolation_update(e, n, t);
}

/* Returns node n's uplink that carries its traffic: the first up primary, else the first up
 * link; RN_IMPACT_NONE if all are down. */
static size_t active_uplink(const rn_alarm_engine_t *e, size_t n)
{
    const rn_impact_node_t *in = &e->ix->nodes[n];
    size_t any = RN_IMPACT_NONE;
    for (size_t l = in->first_link; l < in->first_link + in->n_links; l++) {
        if (e->links[l].down)
            continue;
        const char *role = e->ix->links[l].link->role;
        if (!role || strcmp(role, "backup") != 0)
            return l;
        if (any == RN_IMPACT_NONE)
            any = l;
    }
    return any;
}

/* Returns the smallest number of lost echoes out of n that a link losing at most p would show
 * with probability below alpha (binomial upper tail, summed in log space so that large n does
 * not underflow). */
static uint32_t loss_threshold(uint32_t n, double p, double alpha)
{
    double lq = log1p(-p), lr = log(p) - lq, lpmf = n * lq, cdf = 0;
    for (uint32_t k = 0; k <= n; k++) {
        cdf += exp(lpmf);
        if (1.0 - cdf <= alpha)
            return k + 1;
        lpmf += log((double)(n - k) / (k + 1)) + lr;
    }
    return n + 1;
}

/* Updates the loss verdict of link l from its window (see alarm.h: rule "Link degraded"). */
static void loss_judge(link_st_t *ls)
{
    if (ls->max_loss <= 0 || ls->max_loss >= 1 || ls->sum_sent < ls->k.loss_min_sent) {
        ls->loss_bad = false;
        return;
    }
    if (ls->crit_n != ls->sum_sent) {
        ls->crit_n = ls->sum_sent;
        ls->crit_k = loss_threshold(ls->sum_sent, ls->max_loss, ls->k.loss_alpha);
    }
    if (!ls->loss_bad && ls->sum_lost >= ls->crit_k)
        ls->loss_bad = true;
    else if (ls->loss_bad &&
             ls->sum_lost <= ls->k.loss_clear_factor * ls->max_loss * ls->sum_sent)
        ls->loss_bad = false;
}

/* Updates the latency/jitter verdict of link l with one more round. */
static void slow_judge(link_st_t *ls, bool slow)
{
    ls->slow_bits = (ls->slow_bits << 1) | (slow ? 1u : 0u);
    uint32_t in_mask = ls->k.slow_in >= 32 ? ~0u : (1u << ls->k.slow_in) - 1;
    uint32_t of_mask = ls->k.slow_of >= 32 ? ~0u : (1u << ls->k.slow_of) - 1;
    uint32_t count = (uint32_t)__builtin_popcount(ls->slow_bits & in_mask);
    if (!ls->slow_bad && ls->k.slow_of && count >= ls->k.slow_of)
        ls->slow_bad = true;
    else if (ls->slow_bad && !(ls->slow_bits & of_mask))
        ls->slow_bad = false;
}

/* Adds a round with replies to link l's degradation windows and opens or closes its alarm. */
static void link_round(rn_alarm_engine_t *e, size_t l, int64_t t, uint32_t sent, double loss,
                       double rtt, double jitter)
{
    link_st_t *ls = &e->links[l];
    uint32_t lost = (uint32_t)lround(loss * sent / 100.0);
    if (sent > UINT16_MAX)
        lost = (uint32_t)((uint64_t)lost * UINT16_MAX / sent), sent = UINT16_MAX;
    if (ls->win_fill == ls->win_len) {
        ls->sum_sent -= ls->win_sent[ls->win_pos];
        ls->sum_lost -= ls->win_lost[ls->win_pos];
    } else {
        ls->win_fill++;
    }
    ls->win_sent[ls->win_pos] = (uint16_t)sent;
    ls->win_lost[ls->win_pos] = (uint16_t)lost;
    ls->sum_sent += sent;
    ls->sum_lost += lost;
    ls->win_pos = (ls->win_pos + 1) % ls->win_len;
    loss_judge(ls);
    slow_judge(ls, (ls->max_latency > 0 && rtt > ls->max_latency) ||
                       (ls->max_jitter > 0 && jitter > ls->max_jitter));
    bool degraded = ls->loss_bad || ls->slow_bad;
    if (degraded && !ls->a_degraded)
        rn__alarm_open(e, RN_ALARM_LINK_DEGRADED, e->ix->links[l].node, l, RN_IMPACT_NONE, t);
    else if (!degraded && ls->a_degraded)
        rn__alarm_close(e, ls->a_degraded);
}

/* Opens or closes node n's path-lost alarm: rounds to the root lost while the parent answers. */
static void path_update(rn_alarm_engine_t *e, size_t n)
{
    node_st_t *ns = &e->nodes[n];
    bool lost = ns->ptr.on && !ns->ptp.on;
    if (lost && !ns->a_path)
        rn__alarm_open(e, RN_ALARM_PATH_LOST, n, RN_IMPACT_NONE, RN_IMPACT_NONE, ns->ptr.since);
    else if (!lost && ns->a_path)
        rn__alarm_close_at(e, ns->a_path, ns->ptr.on ? 0 : ns->ptr.first_good);
}

/* Handles a round over node n's uplinks, upward (n to its parent: side = its ptp) or downward
 * (the parent to n: side = its ptc): evidence for every uplink of n, since either direction
 * failing means no uplink carries traffic (see alarm.h). Degradation windows take the upward
 * rounds, or the downward ones when n runs no agent. */
static void round_over_uplinks(rn_alarm_engine_t *e, size_t n, hyst_t *side, bool upward,
                               int64_t t, uint32_t sent, double loss, double rtt, double jitter)
{
    node_st_t *ns = &e->nodes[n];
    const rn_impact_node_t *in = &e->ix->nodes[n];
    bool stale = t <= side->last_t;
    for (size_t l = in->first_link; l < in->first_link + in->n_links; l++)
        stale = stale || t < e->links[l].changed; /* superseded by newer evidence */
    if (stale) {
        e->stale++;
        return;
    }
    side->last_t = t;
    const rn_alarm_knobs_t *k = node_knobs(e, n);
    bool bad = loss >= 100.0;
    if (!bad && t > ns->good_t)
        ns->good_t = t;
    bool changed = hyst_feed(side, bad, t, k->down_after, k->up_after);
    for (size_t l = in->first_link; l < in->first_link + in->n_links; l++) {
        link_st_t *ls = &e->links[l];
        int64_t down_since = oper_down_since(ls);
        if (bad)
            ls->good_after_down = 0;
        else if ((down_since == INT64_MIN || t > down_since - IF_REPORT_AGE_MS) &&
                 ls->good_after_down < UINT32_MAX)
            ls->good_after_down++;
        link_update(e, l, t);
    }
    if (changed && upward)
        path_update(e, n);
    if (upward != in->node->agent)
        return;
    size_t active = bad ? RN_IMPACT_NONE : active_uplink(e, n);
    if (active != RN_IMPACT_NONE)
        link_round(e, active, t, sent, loss, rtt, jitter);
}

/* Handles a round from node n to the root: path evidence. */
static void round_to_root(rn_alarm_engine_t *e, size_t n, int64_t t, double loss)
{
    node_st_t *ns = &e->nodes[n];
    bool stale = t <= ns->ptr.last_t;
    /* superseded: a link on the path changed after this round (a replayed spool's rounds from
     * a cut that the other side already saw end) */
    for (size_t x = n; !stale && x != RN_IMPACT_NONE; x = e->ix->nodes[x].parent) {
        const rn_impact_node_t *in = &e->ix->nodes[x];
        for (size_t l = in->first_link; l < in->first_link + in->n_links; l++)
            stale = stale || t < e->links[l].changed;
    }
    if (stale) {
        e->stale++;
        return;
    }
    ns->ptr.last_t = t;
    const rn_alarm_knobs_t *k = node_knobs(e, n);
    if (hyst_feed(&ns->ptr, loss >= 100.0, t, k->down_after, k->up_after))
        path_update(e, n);
}

void rn_alarm_observe_icmp(rn_alarm_engine_t *e, const char *node, const char *target,
                           int64_t t_ms, uint32_t sent, double loss_pct, double rtt_ms,
                           double jitter_ms)
{
    size_t n = rn_impact_find_node(e->ix, node), tg = rn_impact_find_node(e->ix, target);
    if (n == RN_IMPACT_NONE || tg == RN_IMPACT_NONE || isnan(loss_pct) || !accept_time(e, t_ms))
        return;
    if (!sent)
        sent = e->cfg.probe_count;
    if (tg == e->ix->nodes[n].parent)
        round_over_uplinks(e, n, &e->nodes[n].ptp, true, t_ms, sent, loss_pct, rtt_ms, jitter_ms);
    else if (e->ix->nodes[tg].parent == n)
        round_over_uplinks(e, tg, &e->nodes[tg].ptc, false, t_ms, sent, loss_pct, rtt_ms,
                           jitter_ms);
    else if (tg == e->ix->root)
        round_to_root(e, n, t_ms, loss_pct);
    if (e->dirty)
        rn__correlate(e);
}

void rn_alarm_observe_ifstatus(rn_alarm_engine_t *e, const char *node, const char *device,
                               const char *ifname, int64_t t_ms, int oper)
{
    bool remote = false;
    size_t l = rn_impact_find_if(e->ix, node, device, ifname, &remote);
    if (l == RN_IMPACT_NONE || !accept_time(e, t_ms))
        return;
    link_st_t *ls = &e->links[l];
    if (t_ms <= ls->oper_t[remote] || t_ms < ls->changed) {
        e->stale++;
        return;
    }
    int now = oper == 1 ? 1 : (oper == 2 || oper == 7) ? -1 : 0;
    if (now < 0 && ls->oper[remote] >= 0) {
        ls->oper_down_t[remote] = t_ms;
        ls->good_after_down = 0;
    }
    ls->oper_t[remote] = t_ms;
    ls->oper[remote] = now;
    link_update(e, l, t_ms);
    if (e->dirty)
        rn__correlate(e);
}

void rn_alarm_observe_service(rn_alarm_engine_t *e, const char *node, const char *service,
                              int64_t t_ms, bool reachable)
{
    size_t n = rn_impact_find_node(e->ix, node), s = rn_impact_find_service(e->ix, service);
    if (n == RN_IMPACT_NONE || s == RN_IMPACT_NONE || !accept_time(e, t_ms))
        return;
    svc_st_t *sv = rn__svc_of(e, n);
    if (!sv)
        return;
    sv += s;
    if (t_ms == sv->h.last_t && !reachable && sv->undo_good) {
        sv->h = sv->before_good; /* another target of the same round failed: the round was bad
                                  * (a round split over two batches; session.c groups the rest) */
    } else if (t_ms <= sv->h.last_t) {
        e->stale++;
        return;
    }
    sv->undo_good = reachable;
    sv->before_good = sv->h;
    sv->h.last_t = t_ms;
    if (hyst_feed(&sv->h, !reachable, t_ms, e->defk.down_after, e->defk.up_after)) {
        sv->undo_good = false; /* it closed the alarm: too late to take back */
        if (sv->h.on && !sv->a)
            rn__alarm_open(e, RN_ALARM_SERVICE_UNREACHABLE, n, RN_IMPACT_NONE, s, sv->h.since);
        else if (!sv->h.on && sv->a)
            rn__alarm_close_at(e, sv->a, sv->h.first_good);
    }
    rn__svc_eval(e, s);
    if (e->dirty)
        rn__correlate(e);
}

void rn_alarm_observe_cert(rn_alarm_engine_t *e, const char *node, const char *service,
                           int64_t t_ms, double days)
{
    size_t n = rn_impact_find_node(e->ix, node), s = rn_impact_find_service(e->ix, service);
    if (n == RN_IMPACT_NONE || s == RN_IMPACT_NONE || isnan(days) || !accept_time(e, t_ms))
        return;
    size_t host = rn__svc_host(e, s);
    svc_st_t *sv = host != RN_IMPACT_NONE ? rn__svc_of(e, host) : NULL;
    if (!sv || t_ms <= sv[s].cert_t)
        return; /* several offices report the same certificate: the newest report counts */
    sv += s;
    sv->cert_t = t_ms;
    sv->cert_days = days;
    bool warn = days < e->cfg.cert_warn_days;
    if (warn && !sv->a_cert)
        rn__alarm_open(e, RN_ALARM_CERT_EXPIRING, host, RN_IMPACT_NONE, s, t_ms);
    else if (!warn && sv->a_cert)
        rn__alarm_close_at(e, sv->a_cert, t_ms);
    else if (warn)
        rn__alarm_describe(e, sv->a_cert); /* the days left, in its text */
    if (e->dirty)
        rn__correlate(e);
}

/* ---- VC quality (agent/vc_quality.h "rtp" samples) ---- */

/* The index of the first vc service, or RN_IMPACT_NONE. */
static size_t vc_service(const rn_alarm_engine_t *e)
{
    for (size_t i = 0; i < e->topo->n_services; i++)
        if (strcmp(e->topo->services[i].kind, "vc") == 0)
            return rn_impact_find_service(e->ix, e->topo->services[i].name);
    return RN_IMPACT_NONE;
}

void rn_alarm_observe_vc(rn_alarm_engine_t *e, const char *node, int64_t t_ms, double mos,
                         double loss_pct)
{
    size_t n = rn_impact_find_node(e->ix, node);
    if (n == RN_IMPACT_NONE || isnan(mos) || isnan(loss_pct) || !accept_time(e, t_ms))
        return;
    node_st_t *ns = &e->nodes[n];
    if (t_ms <= ns->vc_last_t) {
        e->stale++;
        return;
    }
    ns->vc_last_t = t_ms;
    const rn_alarm_config_t *c = &e->cfg;
    bool bad = mos < c->vc_min_mos || loss_pct > c->vc_max_loss_pct;
    uint32_t in_mask = c->vc_bad_in >= 32 ? ~0u : (1u << c->vc_bad_in) - 1;
    uint32_t of_mask = (1u << c->vc_bad_of) - 1;
    if (bad && !(ns->vc_bits & in_mask))
        ns->vc_first_bad = t_ms; /* a new bad spell starts here */
    ns->vc_bits = ns->vc_bits << 1 | bad;
    if (bad) {
        ns->vc_mos = mos;
        ns->vc_loss = loss_pct;
    }
    if (!ns->a_vc && (uint32_t)__builtin_popcount(ns->vc_bits & in_mask) >= c->vc_bad_of)
        rn__alarm_open(e, RN_ALARM_VC_QUALITY, n, RN_IMPACT_NONE, vc_service(e),
                       ns->vc_first_bad);
    else if (ns->a_vc && !(ns->vc_bits & of_mask))
        rn__alarm_close(e, ns->a_vc);
    if (e->dirty)
        rn__correlate(e);
}

void rn_alarm_observe_node_seen(rn_alarm_engine_t *e, const char *node, int64_t t_ms)
{
    size_t n = rn_impact_find_node(e->ix, node);
    if (n == RN_IMPACT_NONE)
        return;
    node_st_t *ns = &e->nodes[n];
    if (!ns->seen || t_ms > ns->last_seen)
        ns->last_seen = t_ms;
    ns->seen = true;
    if (ns->silent && e->now - ns->last_seen <= e->cfg.silent_after_ms) {
        ns->silent = false;
        if (ns->a_silent)
            rn__alarm_close(e, ns->a_silent);
        rn__correlate(e);
    }
}

/* ---- clock ---------------------------------------------------------------------------------- */

void rn_alarm_tick(rn_alarm_engine_t *e, int64_t now_ms)
{
    if (now_ms > e->now)
        e->now = now_ms;
    for (size_t n = 0; n < e->ix->n_nodes; n++) {
        node_st_t *ns = &e->nodes[n];
        if (ns->seen && !ns->silent && e->now - ns->last_seen > e->cfg.silent_after_ms) {
            ns->silent = true;
            rn__alarm_open(e, RN_ALARM_NODE_SILENT, n, RN_IMPACT_NONE, RN_IMPACT_NONE,
                           ns->last_seen);
        }
    }
    for (size_t s = 0; s < e->topo->n_services; s++)
        rn__svc_eval(e, s); /* checks go stale with time */
    for (size_t l = 0; l < e->ix->n_links; l++) {
        link_st_t *ls = &e->links[l];
        if (ls->flapping && e->now - ls->changed >= ls->k.flap_quiet_ms) {
            ls->flapping = false;
            if (ls->a_flap)
                rn__alarm_close(e, ls->a_flap);
        }
    }
    rn__correlate(e);
}

int rn_alarm_set_maintenance(rn_alarm_engine_t *e, const char *entity, int64_t start_ms,
                             int64_t end_ms)
{
    maint_t *mw = realloc(e->mw, (e->n_mw + 1) * sizeof *mw);
    if (!mw)
        return -ENOMEM;
    e->mw = mw;
    char *copy = strdup(entity);
    if (!copy)
        return -ENOMEM;
    mw[e->n_mw++] = (maint_t){ copy, start_ms, end_ms };
    return 0;
}

void rn_alarm_clear_maintenance(rn_alarm_engine_t *e)
{
    for (size_t i = 0; i < e->n_mw; i++)
        free(e->mw[i].entity);
    e->n_mw = 0;
}

/* ---- queries -------------------------------------------------------------------------------- */

size_t rn_alarm_foreach(rn_alarm_engine_t *e, void (*fn)(void *ctx, const rn_alarm_t *a),
                        void *ctx)
{
    size_t count = 0;
    for (int pass = 0; pass < 2; pass++)
        for (const alarm_t *a = e->head; a; a = a->next) {
            bool root = a->announced_root == 0;
            if (!a->published || root != (pass == 0))
                continue;
            rn_alarm_t snap;
            rn__alarm_snapshot(a, &snap);
            fn(ctx, &snap);
            count++;
        }
    return count;
}

rn_alarm_status_t rn_alarm_link_status(const rn_alarm_engine_t *e, const char *circuit)
{
    size_t l = rn_impact_find_link(e->ix, circuit);
    return l == RN_IMPACT_NONE ? RN_STATUS_UNKNOWN : rn__link_status(&e->links[l]);
}

rn_alarm_status_t rn_alarm_node_status(const rn_alarm_engine_t *e, const char *node)
{
    size_t n = rn_impact_find_node(e->ix, node);
    if (n == RN_IMPACT_NONE)
        return RN_STATUS_UNKNOWN;
    bool known = e->nodes[n].seen;
    for (size_t i = n; i != RN_IMPACT_NONE; i = e->ix->nodes[i].parent) {
        if (rn__node_cut(e, i))
            return RN_STATUS_DOWN;
        const rn_impact_node_t *in = &e->ix->nodes[i];
        for (size_t l = in->first_link; l < in->first_link + in->n_links; l++)
            known = known || e->links[l].known;
    }
    if (e->nodes[n].silent)
        return RN_STATUS_SILENT;
    return known ? RN_STATUS_UP : RN_STATUS_UNKNOWN;
}

int rn_alarm_reaches(const rn_alarm_engine_t *e, const char *node, const char *service)
{
    size_t n = rn_impact_find_node(e->ix, node), s = rn_impact_find_service(e->ix, service);
    if (n == RN_IMPACT_NONE || s == RN_IMPACT_NONE)
        return -ENOENT;
    const rn_service_t *svc = &e->topo->services[s];
    for (size_t i = 0; i < svc->n_endpoints; i++) {
        size_t h = rn_impact_find_node(e->ix, svc->endpoints[i].node);
        if (h == RN_IMPACT_NONE)
            continue;
        bool ok = true;
        /* Up from the node to the common ancestor, then up from the host to it. */
        for (size_t x = n; ok && !rn_impact_is_under(e->ix, h, x); x = e->ix->nodes[x].parent)
            ok = !rn__node_cut(e, x);
        for (size_t x = h; ok && !rn_impact_is_under(e->ix, n, x); x = e->ix->nodes[x].parent)
            ok = !rn__node_cut(e, x);
        if (ok)
            return 1;
    }
    return 0;
}

uint64_t rn_alarm_engine_take_id(rn_alarm_engine_t *e)
{
    return e->next_id++;
}

void rn_alarm_engine_set_next_id(rn_alarm_engine_t *e, uint64_t next_id)
{
    if (next_id > e->next_id)
        e->next_id = next_id;
}
