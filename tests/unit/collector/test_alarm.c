/* The alarm engine over the simulated RajNet (deploy/sim/topology.yaml): a small network model in
 * this file turns cuts, heals, loss and latency into the probe rounds, interface polls and agent
 * frames the collector would receive, with explicit times, and the tests assert on the events
 * the NOC would see: one root per fault, symptoms attached, impact named, timing budgets met. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "alarm/alarm.h"
#include "topology.h"

#define SIM_TOPOLOGY RN_SRCDIR "/deploy/sim/topology.yaml"
#define SIM_SECRETS RN_SRCDIR "/deploy/sim/secrets.yaml"
#define T0 1700000000000LL /* an epoch time in ms: engines see realistic clocks */
#define MAX_EVENTS 4096

/* ---- recorded events ------------------------------------------------------------------------ */

typedef struct {
    rn_alarm_event_kind_t kind;
    rn_alarm_type_t type;
    uint64_t id, root_id;
    int severity;
    bool planned;
    int64_t at, since, until;
    char entity[64], node[64], vendor[32], circuit[64], text[800];
    char impact_nodes[256], impact_services[128]; /* joined with ',' */
} event_t;

static event_t events[MAX_EVENTS];
static size_t n_events;

/* Joins a string list with ','. */
static void join(char *out, size_t len, const char *const *v, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", v[i]);
}

static void on_event(void *ctx, rn_alarm_event_kind_t kind, const rn_alarm_t *a, int64_t at)
{
    (void)ctx;
    assert_true(n_events < MAX_EVENTS);
    event_t *ev = &events[n_events++];
    *ev = (event_t){ .kind = kind, .type = a->type, .id = a->id, .root_id = a->root_id,
                     .severity = a->severity, .planned = a->planned, .at = at,
                     .since = a->since_ms, .until = a->until_ms };
    snprintf(ev->entity, sizeof ev->entity, "%s", a->entity);
    snprintf(ev->node, sizeof ev->node, "%s", a->node);
    snprintf(ev->vendor, sizeof ev->vendor, "%s", a->vendor ? a->vendor : "");
    snprintf(ev->circuit, sizeof ev->circuit, "%s", a->circuit ? a->circuit : "");
    snprintf(ev->text, sizeof ev->text, "%s", a->text);
    join(ev->impact_nodes, sizeof ev->impact_nodes, a->impact_nodes, a->n_impact_nodes);
    join(ev->impact_services, sizeof ev->impact_services, a->impact_services,
         a->n_impact_services);
    if (getenv("RN_TEST_VERBOSE"))
        printf("  %+8.1f s  %-10s #%llu %-19s %-18s root=%llu  %s\n", (at - T0) / 1000.0,
               rn_alarm_event_name(kind), (unsigned long long)a->id, rn_alarm_type_name(a->type),
               a->entity, (unsigned long long)a->root_id, a->text);
}

/* Returns how many events of kind (and type, if type >= 0) were recorded. */
static size_t count(rn_alarm_event_kind_t kind, int type)
{
    size_t c = 0;
    for (size_t i = 0; i < n_events; i++)
        c += events[i].kind == kind && (type < 0 || events[i].type == (rn_alarm_type_t)type);
    return c;
}

/* Returns the first event of kind (and type if >= 0, entity if not NULL), or NULL. */
static const event_t *find(rn_alarm_event_kind_t kind, int type, const char *entity)
{
    for (size_t i = 0; i < n_events; i++)
        if (events[i].kind == kind && (type < 0 || events[i].type == (rn_alarm_type_t)type) &&
            (!entity || strcmp(events[i].entity, entity) == 0))
            return &events[i];
    return NULL;
}

/* ---- the network model ---------------------------------------------------------------------- */

#define N_NODES 6
#define NEVER INT64_MAX

/* What happens to the simulated network. Times are absolute ms. */
typedef struct {
    const char *id, *parent, *device_if[2]; /* uplink ends: "node|device|ifname" pieces below */
} sim_node_t;

static const sim_node_t sim_nodes[N_NODES] = {
    { "sdc", NULL, { NULL, NULL } },
    { "jaipur", "sdc", { "rtr1|wan0", "core1|jaipur" } },
    { "ajmer", "sdc", { "rtr1|wan0", "core1|ajmer" } },
    { "jaipur/sanganer", "jaipur", { "rtr1|wan0", "rtr1|sanganer" } },
    { "jaipur/amer", "jaipur", { "rtr1|wan0", "rtr1|amer" } },
    { "ajmer/kishangarh", "ajmer", { "rtr1|wan0", "rtr1|kishangarh" } },
};

typedef struct {
    rn_topology_t *topo;
    rn_alarm_engine_t *e;
    int64_t interval;           /* probe interval, ms */
    int64_t now;
    int64_t cut_at[N_NODES], heal_at[N_NODES]; /* of each node's uplink */
    int64_t lag[N_NODES];       /* a node's probes see the network this much late */
    int64_t phase[N_NODES];     /* a node's rounds start this much after the interval's */
    double rand_loss[N_NODES];  /* per-echo random loss on the node's uplink */
    double rtt[N_NODES];        /* rtt to the parent, ms */
    bool mute[N_NODES];         /* its agent sends nothing */
    int64_t flap_period[N_NODES]; /* the cut uplink goes down and up with this period */
    bool if_polls;              /* poll ifOperStatus every 5 s (or poll_every ms) */
    int64_t poll_every;         /* ms between polls; 0: 5000 */
    int64_t if_cache;           /* polls report the interface as it was this much earlier */
    bool sdc_if_only;           /* only sdc's agent reports interfaces */
    bool no_probes;             /* rounds are not fed */
    bool downward;              /* every agent also probes its children (as the daemon's plan) */
    bool inband;                /* an agent cut off from sdc delivers nothing live: its rounds
                                 * wait in its spool and replay when its path heals */
    bool blackhole[N_NODES];    /* the cut leaves the uplink's interfaces up */
    struct { const char *target; int64_t t; double loss; } spool[N_NODES][512];
    int n_spool[N_NODES];
} sim_t;

static int sim_index(const char *id)
{
    for (int i = 0; i < N_NODES; i++)
        if (strcmp(sim_nodes[i].id, id) == 0)
            return i;
    fail_msg("no node %s", id);
    return 0; /* not reached */
}

/* Returns true if node i's own uplink is cut at time t (down half of each flap period). */
static bool uplink_cut(const sim_t *s, int i, int64_t t)
{
    if (t < s->cut_at[i] || t >= s->heal_at[i])
        return false;
    return !s->flap_period[i] || (t - s->cut_at[i]) % s->flap_period[i] < s->flap_period[i] / 2;
}

/* Returns true if any uplink on the path from node i to the root is cut at t. */
static bool path_cut(const sim_t *s, int i, int64_t t)
{
    for (; sim_nodes[i].parent; i = sim_index(sim_nodes[i].parent))
        if (uplink_cut(s, i, t))
            return true;
    return false;
}

/* Hands one round from node i to the engine. */
static void sim_deliver(sim_t *s, int i, const char *target, int64_t t, double loss)
{
    double rtt = loss >= 100 ? NAN : s->rtt[i] ? s->rtt[i] : 12.0;
    rn_alarm_observe_icmp(s->e, sim_nodes[i].id, target, t, 5, loss, rtt,
                          loss >= 100 ? NAN : 1.5);
}

/* Returns true if node i's agent is cut off from the collector at t (in-band management). */
static bool cut_off(const sim_t *s, int i, int64_t t)
{
    return s->inband && path_cut(s, i, t);
}

/* Sends one round of 5 echoes from node i, started at t, to its parent (to_root false) or the
 * root, or (child >= 0) down to that child; an echo at t + k*interval/5 is lost if the path is
 * cut then. A cut-off agent spools the round. */
static void sim_round_to(sim_t *s, int i, int64_t t, bool to_root, int child)
{
    int lost = 0;
    for (int k = 0; k < 5; k++) {
        int64_t at = t + k * s->interval / 5 - s->lag[i];
        bool cut = child >= 0 ? uplink_cut(s, child, at)
                              : to_root ? path_cut(s, i, at) : uplink_cut(s, i, at);
        double rl = s->rand_loss[child >= 0 ? child : i];
        if (cut || (rl > 0 && (double)rand() / RAND_MAX < rl))
            lost++;
    }
    const char *target = child >= 0 ? sim_nodes[child].id : to_root ? "sdc" : sim_nodes[i].parent;
    if (cut_off(s, i, s->now)) {
        assert_true(s->n_spool[i] < 512);
        int k = s->n_spool[i]++;
        s->spool[i][k].target = target;
        s->spool[i][k].t = t;
        s->spool[i][k].loss = lost * 20.0;
        return;
    }
    sim_deliver(s, i, target, t, lost * 20.0);
}

static void sim_round(sim_t *s, int i, int64_t t, bool to_root)
{
    sim_round_to(s, i, t, to_root, -1);
}

/* Polls both ends of node i's uplink at t: the remote end by the parent's agent, the local end
 * by the node's own (unless only sdc's agent reports interfaces, or the agent is mute). */
static void sim_poll(sim_t *s, int i, int64_t t)
{
    int oper = uplink_cut(s, i, t - s->lag[i] - s->if_cache) && !s->blackhole[i] ? 2 : 1;
    int p = sim_index(sim_nodes[i].parent);
    char dev[32], ifn[32];
    if (cut_off(s, i, t))
        return; /* polls are spooled too; their replays are late for the engine */
    if (!s->mute[p] && !cut_off(s, p, t) && (!s->sdc_if_only || p == 0)) {
        sscanf(sim_nodes[i].device_if[1], "%31[^|]|%31s", dev, ifn);
        rn_alarm_observe_ifstatus(s->e, sim_nodes[p].id, dev, ifn, t, oper);
    }
    if (!s->mute[i] && !s->sdc_if_only) {
        sscanf(sim_nodes[i].device_if[0], "%31[^|]|%31s", dev, ifn);
        rn_alarm_observe_ifstatus(s->e, sim_nodes[i].id, dev, ifn, t, oper);
    }
}

#define RES 10 /* the model's clock resolution, ms */

/* Advances the model by RES: a node whose round completes now (its rounds start at multiples of
 * the interval plus its phase) delivers it together with a frame; interfaces are polled every
 * 5 s; then the engine ticks. */
static void sim_step(sim_t *s)
{
    s->now += RES;
    rn_alarm_tick(s->e, s->now);
    for (int i = 0; i < N_NODES; i++) {
        int64_t rel = ((s->now - T0 - s->phase[i]) % s->interval + s->interval) % s->interval;
        if (s->mute[i] || rel != 0)
            continue;
        if (!cut_off(s, i, s->now)) {
            for (int k = 0; k < s->n_spool[i]; k++) /* replay, oldest first */
                sim_deliver(s, i, s->spool[i][k].target, s->spool[i][k].t, s->spool[i][k].loss);
            s->n_spool[i] = 0;
            rn_alarm_observe_node_seen(s->e, sim_nodes[i].id, s->now);
        }
        if (s->no_probes)
            continue;
        for (int c = 0; s->downward && c < N_NODES; c++)
            if (sim_nodes[c].parent && strcmp(sim_nodes[c].parent, sim_nodes[i].id) == 0)
                sim_round_to(s, i, s->now - s->interval, false, c);
        if (!sim_nodes[i].parent)
            continue;
        sim_round(s, i, s->now - s->interval, false);
        if (strcmp(sim_nodes[i].parent, "sdc") != 0)
            sim_round(s, i, s->now - s->interval, true);
    }
    if (s->if_polls && (s->now - T0) % (s->poll_every ? s->poll_every : 5000) == 0)
        for (int i = 1; i < N_NODES; i++)
            sim_poll(s, i, s->now);
}

/* Runs the model for ms. */
static void sim_run(sim_t *s, int64_t ms)
{
    for (int64_t end = s->now + ms; s->now < end;)
        sim_step(s);
}

/* Starts a model at T0 with the given probe interval and config (NULL: defaults), runs it a
 * minute so every stream has history, and clears the event log. */
static void sim_start(sim_t *s, int64_t interval, const rn_alarm_config_t *cfg)
{
    char err[512];
    memset(s, 0, sizeof *s);
    assert_int_equal(rn_topology_load(SIM_TOPOLOGY, SIM_SECRETS, &s->topo, err, sizeof err), 0);
    rn_alarm_config_t c = cfg ? *cfg : (rn_alarm_config_t){ 0 };
    c.probe_interval_ms = interval;
    assert_int_equal(rn_alarm_engine_new(s->topo, &c, on_event, NULL, &s->e), 0);
    s->interval = interval;
    s->now = T0;
    for (int i = 0; i < N_NODES; i++)
        s->cut_at[i] = s->heal_at[i] = NEVER;
    s->if_polls = true;
    rn_alarm_tick(s->e, s->now);
    sim_run(s, 60000);
    n_events = 0;
}

static void sim_stop(sim_t *s)
{
    rn_alarm_engine_free(s->e);
    rn_topology_free(s->topo);
}

/* Cuts node id's uplink at t (absolute), healing it at heal (NEVER: not). */
static void sim_cut(sim_t *s, const char *id, int64_t t, int64_t heal)
{
    s->cut_at[sim_index(id)] = t;
    s->heal_at[sim_index(id)] = heal;
}

/* Collects the ids of published alarms. */
typedef struct {
    size_t roots, symptoms;
    char list[1024];
} census_t;

static void on_alarm(void *ctx, const rn_alarm_t *a)
{
    census_t *c = ctx;
    if (a->root_id)
        c->symptoms++;
    else
        c->roots++;
    snprintf(c->list + strlen(c->list), sizeof c->list - strlen(c->list), "%s%s:%s",
             c->list[0] ? " " : "", a->root_id ? "symptom" : "root", a->entity);
}

static census_t census(sim_t *s)
{
    census_t c = { 0 };
    rn_alarm_foreach(s->e, on_alarm, &c);
    return c;
}

/* ---- tests ---------------------------------------------------------------------------------- */

#define JPR 1
#define AJM 2
#define SNG 3
#define AMR 4

/* The jaipur uplink is cut: one root naming vendor and circuit, the blocks as symptoms, the
 * impact computed from the tree; the heal clears all of it. 2 s probing as in the simulation. */
static void test_jaipur_cut_is_one_root_with_block_symptoms(void **state)
{
    sim_t s;
    sim_start(&s, 2000, NULL);
    sim_cut(&s, "jaipur", s.now + 700, NEVER);
    sim_run(&s, 30000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(r);
    assert_string_equal(r->vendor, "bsnl");
    assert_string_equal(r->circuit, "JPR-MPLS-0042");
    assert_string_equal(r->node, "jaipur");
    assert_int_equal(r->severity, 1);
    assert_int_equal(r->root_id, 0);
    assert_string_equal(r->impact_nodes, "jaipur,jaipur/sanganer,jaipur/sanganer/gp-bagru,jaipur/amer,jaipur/amer/gp-kunda");
    assert_string_equal(r->impact_services, "vc,emitra");
    assert_string_equal(r->text, "link JPR-MPLS-0042 (BSNL, mpls 34 Mbit/s) down: jaipur, "
                                 "jaipur/sanganer, jaipur/sanganer/gp-bagru, jaipur/amer, "
                                 "jaipur/amer/gp-kunda lose vc, emitra");
    assert_int_equal(count(RN_ALARM_EV_SYMPTOM_OF, -1), 2);
    const char *blocks[] = { "jaipur/sanganer", "jaipur/amer" };
    for (int i = 0; i < 2; i++) {
        const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_PATH_LOST, blocks[i]);
        assert_non_null(sy);
        assert_int_equal(sy->root_id, r->id);
    }
    census_t c = census(&s);
    assert_int_equal(c.roots, 1);
    assert_int_equal(c.symptoms, 2);
    assert_int_equal(rn_alarm_reaches(s.e, "jaipur/amer", "vc"), 0);
    assert_int_equal(rn_alarm_reaches(s.e, "jaipur", "emitra"), 0);
    assert_int_equal(rn_alarm_reaches(s.e, "ajmer/kishangarh", "emitra"), 1);
    assert_int_equal(rn_alarm_reaches(s.e, "bikaner", "emitra"), -ENOENT);
    assert_int_equal(rn_alarm_link_status(s.e, "JPR-MPLS-0042"), RN_STATUS_DOWN);
    assert_int_equal(rn_alarm_link_status(s.e, "AJM-LL-0107"), RN_STATUS_UP);
    assert_int_equal(rn_alarm_node_status(s.e, "jaipur/amer"), RN_STATUS_DOWN);
    assert_int_equal(rn_alarm_node_status(s.e, "ajmer"), RN_STATUS_UP);

    n_events = 0;
    s.heal_at[JPR] = s.now + 300;
    sim_run(&s, 30000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1) + count(RN_ALARM_EV_PROMOTED, -1), 0);
    assert_int_equal(count(RN_ALARM_EV_CLEARED, -1), 3);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042"));
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_PATH_LOST, "jaipur/sanganer"));
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_PATH_LOST, "jaipur/amer"));
    assert_int_equal(census(&s).roots + census(&s).symptoms, 0);
    assert_int_equal(rn_alarm_reaches(s.e, "jaipur/amer", "vc"), 1);
    sim_stop(&s);
}

/* The race at 1 s probing: the blocks' rounds to sdc go bad one interval before jaipur's own.
 * Their candidate roots wait the settle window (1.5 s) and are re-parented when the link alarm
 * comes; nothing but the link is ever raised. Budget: the cut falls just after jaipur's round
 * started, so that round still gets a reply (80% loss, not evidence); the next two rounds are
 * 100% and the second completes 2 intervals + (interval - 10 ms) after the cut: N = 2 and no
 * settle for a link into the root give raised <= 3 s. Heal: the round running at the heal and
 * the next two have replies (M = 3), cleared <= 3 s + the poll-free override, within 5 s. */
static void test_race_block_first_is_held_and_reparented_within_budget(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    s.phase[JPR] = -10; /* jaipur's rounds start 10 ms before the blocks' */
    int64_t cut = s.now + 999;
    sim_cut(&s, "jaipur", cut, NEVER);
    sim_run(&s, 10000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(r);
    assert_true(r->at - cut <= 3000);
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_PATH_LOST, "jaipur/sanganer");
    assert_non_null(sy);
    assert_int_equal(sy->root_id, r->id);
    assert_true(sy->since < r->since); /* the block's evidence did come first */
    assert_non_null(find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_PATH_LOST, "jaipur/amer"));

    n_events = 0;
    int64_t heal = s.now + 437;
    s.heal_at[JPR] = heal;
    sim_run(&s, 15000);
    const event_t *cl = find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(cl);
    assert_true(cl->at - heal <= 5000);
    assert_int_equal(count(RN_ALARM_EV_CLEARED, RN_ALARM_PATH_LOST), 2);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1) + count(RN_ALARM_EV_PROMOTED, -1), 0);
    sim_stop(&s);
}

/* At 1 s probing and 1 s polling, a device that answers ifOperStatus from a 5 s cache keeps
 * saying "down" for 5 s after the heal. The fresh rounds outrank that repeated old news: the link
 * clears after the up_after good rounds (3 s), and the outage ends at the first good round, not
 * at the clear, so SLA downtime is right to a probe interval. */
static void test_cached_oper_down_does_not_hold_the_clear(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    s.poll_every = 1000;
    s.if_cache = 5000;
    int64_t cut = s.now + 500, heal = cut + 20000;
    sim_cut(&s, "jaipur", cut, heal);
    sim_run(&s, 20000);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(r);
    n_events = 0;
    sim_run(&s, 15000);
    const event_t *cl = find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(cl);
    assert_true(cl->at - heal <= 3500);
    assert_true(cl->until >= heal - 1000 && cl->until <= heal + 1000); /* first good round */
    assert_true(cl->until < cl->at);
    assert_true(cl->since >= cut - 1000 && cl->since <= cut + 1000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1) + count(RN_ALARM_EV_PROMOTED, -1), 0);
    sim_stop(&s);
}

/* The same cache the other way round: a 5 s cut whose first ifOperStatus "down" is read only
 * after the heal (6 s cache). The rounds with replies that follow that report outrank it. */
static void test_late_first_oper_down_does_not_hold_the_clear(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    s.poll_every = 1000;
    s.if_cache = 6000;
    int64_t cut = s.now + 500, heal = cut + 5000;
    sim_cut(&s, "jaipur", cut, heal);
    sim_run(&s, 5000);
    assert_non_null(find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042"));
    sim_run(&s, 15000);
    const event_t *cl = find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(cl);
    assert_true(cl->at - heal <= 4500);
    assert_true(cl->until >= heal - 1000 && cl->until <= heal + 1000);
    sim_stop(&s);
}

/* A link that goes down and up every 8 s for two minutes: one FLAPPING alarm, at most the first
 * outage raised before it (it cannot be told from a real cut), no raise/clear per flap. */
static void test_flapping_link_is_one_alarm(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    sim_cut(&s, "jaipur", s.now + 500, s.now + 120500);
    s.flap_period[JPR] = 8000;
    sim_run(&s, 120000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_LINK_FLAPPING), 1);
    assert_true(count(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN) <= 1);
    assert_int_equal(count(RN_ALARM_EV_PROMOTED, -1), 0);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1 + count(RN_ALARM_EV_RAISED,
                                                               RN_ALARM_LINK_DOWN));
    const event_t *f = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_FLAPPING, "JPR-MPLS-0042");
    assert_int_equal(f->severity, 2);
    assert_int_equal(rn_alarm_link_status(s.e, "JPR-MPLS-0042"), RN_STATUS_FLAPPING);
    assert_true(count(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_LINK_DOWN) >= 5); /* recorded, not paged */

    n_events = 0;
    sim_run(&s, 200000); /* stable and up: flapping ends after the quiet time */
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_FLAPPING, "JPR-MPLS-0042"));
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1) + count(RN_ALARM_EV_PROMOTED, -1), 0);
    assert_int_equal(census(&s).roots + census(&s).symptoms, 0);
    sim_stop(&s);
}

/* 1% random loss on every link for 10 minutes of 1 s rounds of 5 echoes: no alarm at all. One
 * lost echo is 20% of a round; the loss rule sums 120 rounds and asks for significance. */
static void test_one_percent_random_loss_raises_nothing(void **state)
{
    sim_t s;
    srand(42);
    sim_start(&s, 1000, NULL);
    for (int i = 1; i < N_NODES; i++)
        s.rand_loss[i] = 0.01;
    sim_run(&s, 600000);
    assert_int_equal(n_events, 0);
    assert_int_equal(rn_alarm_link_status(s.e, "JPR-MPLS-0042"), RN_STATUS_UP);
    sim_stop(&s);
}

/* Outages are not loss: cuts and heals that land mid-round leave partly lost rounds around each
 * outage; with 1% random loss on top, eight outages 65 s apart (not flapping) at 2 s probing
 * page eight link-down alarms and never "degraded". */
static void test_outage_edges_do_not_count_as_loss(void **state)
{
    sim_t s;
    srand(7);
    sim_start(&s, 2000, NULL);
    s.rand_loss[sim_index("ajmer")] = 0.01;
    for (int k = 0; k < 8; k++) {
        int64_t at = s.now + 21000; /* mid-round: rounds start on even seconds */
        sim_cut(&s, "ajmer", at, at + 10000);
        sim_run(&s, 65000);
    }
    sim_run(&s, 60000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN), 8);
    assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DEGRADED), 0);
    sim_stop(&s);
}

/* 5% loss on a 1% (dhq) link: LINK_DEGRADED S2 once the window makes it significant, cleared
 * when the window is back under twice the limit. Latency over the SLA (bhq: 150 ms) in 6 of 10
 * rounds: degraded too, cleared after 6 clean rounds. */
static void test_degraded_by_loss_and_by_latency(void **state)
{
    sim_t s;
    srand(7);
    sim_start(&s, 1000, NULL);
    s.rand_loss[AJM] = 0.05;
    sim_run(&s, 300000);
    const event_t *d = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DEGRADED, "AJM-LL-0107");
    assert_non_null(d);
    assert_int_equal(d->severity, 2);
    assert_int_equal(d->root_id, 0);
    assert_non_null(strstr(d->text, "degraded: loss"));
    assert_true(d->at - T0 - 60000 >= 60000); /* needs a window's worth of evidence */
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_int_equal(rn_alarm_link_status(s.e, "AJM-LL-0107"), RN_STATUS_DEGRADED);
    s.rand_loss[AJM] = 0;
    sim_run(&s, 180000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DEGRADED, "AJM-LL-0107"));

    n_events = 0;
    s.rtt[AMR] = 200;
    int64_t slow_from = s.now;
    sim_run(&s, 10000);
    d = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DEGRADED, "JPR-AMR-RF-0009");
    assert_non_null(d);
    assert_true(d->at - slow_from <= 6000 + 1000 + 1500 + 10); /* 6 rounds + settle */
    assert_non_null(strstr(d->text, "latency"));
    s.rtt[AMR] = 0;
    sim_run(&s, 10000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DEGRADED, "JPR-AMR-RF-0009"));
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    sim_stop(&s);
}

/* Both jaipur's and sanganer's uplinks are cut; jaipur's heals first: sanganer's link-down, a
 * symptom so far, is promoted to a root of its own, with its own impact. */
static void test_root_clears_persisting_symptom_is_promoted(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    sim_cut(&s, "jaipur", s.now + 300, s.now + 20300);
    sim_cut(&s, "jaipur/sanganer", s.now + 500, NEVER);
    sim_run(&s, 15000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(r);
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_LINK_DOWN, "JPR-SNG-MPLS-3301");
    assert_non_null(sy);
    assert_int_equal(sy->root_id, r->id);
    n_events = 0;
    sim_run(&s, 20000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042"));
    const event_t *p = find(RN_ALARM_EV_PROMOTED, RN_ALARM_LINK_DOWN, "JPR-SNG-MPLS-3301");
    assert_non_null(p);
    assert_int_equal(p->root_id, 0);
    assert_string_equal(p->vendor, "bsnl");
    assert_string_equal(p->impact_nodes, "jaipur/sanganer,jaipur/sanganer/gp-bagru");
    assert_string_equal(p->impact_services, "vc,emitra");
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 0);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_PATH_LOST, "jaipur/amer"));
    census_t c = census(&s);
    assert_int_equal(c.roots, 1);
    assert_int_equal(c.symptoms, 0);
    sim_stop(&s);
}

/* An agent that stops sending: NODE_SILENT (S3) after silent_after_ms, cleared by its next
 * frame. A silent node under a down link is a symptom of the link. */
static void test_node_silent_and_silent_under_cut_is_symptom(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    s.mute[AMR] = true;
    int64_t from = s.now;
    sim_run(&s, 35000);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_NODE_SILENT, "jaipur/amer");
    assert_non_null(r);
    assert_int_equal(r->severity, 3);
    assert_true(r->at - from > 30000 && r->at - from <= 30000 + 1500 + 20);
    assert_int_equal(rn_alarm_node_status(s.e, "jaipur/amer"), RN_STATUS_SILENT);
    s.mute[AMR] = false;
    sim_run(&s, 2000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_NODE_SILENT, "jaipur/amer"));

    n_events = 0;
    sim_cut(&s, "jaipur", s.now + 100, NEVER);
    s.mute[AMR] = true;
    sim_run(&s, 40000);
    r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(r);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_NODE_SILENT, "jaipur/amer");
    assert_non_null(sy);
    assert_int_equal(sy->root_id, r->id);
    sim_stop(&s);
}

/* Only sdc's agent reports interfaces. With jaipur's probes also failing, the interface and the
 * probes are one alarm. With jaipur's agent cut off too (it reports over the cut link), sdc's
 * interface alone raises the link, and jaipur's silence is a symptom of it. */
static void test_sdc_end_ifstatus_is_the_same_link_alarm(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    s.sdc_if_only = true;
    sim_cut(&s, "jaipur", s.now + 4100, NEVER); /* 0.9 s before a poll: the poll comes first */
    sim_run(&s, 20000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_non_null(find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042"));
    s.heal_at[JPR] = s.now;
    sim_run(&s, 20000);
    assert_int_equal(count(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN), 1);
    sim_run(&s, 60000); /* out of the flap window: the next cut is a new outage, not a flap */

    n_events = 0;
    sim_cut(&s, "jaipur", s.now + 4100, NEVER);
    s.heal_at[JPR] = NEVER;
    int64_t mute_at = s.now + 4100;
    while (s.now < mute_at)
        sim_step(&s);
    s.mute[JPR] = s.mute[SNG] = s.mute[AMR] = true;
    sim_run(&s, 40000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(r);
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_NODE_SILENT, "jaipur");
    assert_non_null(sy);
    assert_int_equal(sy->root_id, r->id);
    assert_int_equal(count(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_NODE_SILENT), 3);
    sim_stop(&s);
}

/* A cut inside a maintenance window is planned, and so are its symptoms; others are not. */
static void test_maintenance_window_flags_planned(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    assert_int_equal(rn_alarm_set_maintenance(s.e, "AJM-LL-0107", s.now, s.now + 600000), 0);
    sim_cut(&s, "ajmer", s.now + 200, NEVER);
    sim_cut(&s, "jaipur/amer", s.now + 200, NEVER);
    sim_run(&s, 10000);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "AJM-LL-0107");
    assert_non_null(r);
    assert_true(r->planned);
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_PATH_LOST, "ajmer/kishangarh");
    assert_non_null(sy);
    assert_true(sy->planned);
    r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-AMR-RF-0009");
    assert_non_null(r);
    assert_false(r->planned);
    assert_int_equal(r->severity, 1);
    assert_string_equal(r->text, "link JPR-AMR-RF-0009 (AirJaldi Radio, radio 4 Mbit/s) down: "
                                 "jaipur/amer, jaipur/amer/gp-kunda lose vc, emitra");
    sim_stop(&s);
}

/* A topology reload keeps open alarms (no events) and the state behind them: the heal after the
 * reload clears them as usual. */
static void test_topology_reload_keeps_alarms(void **state)
{
    sim_t s;
    char err[512];
    sim_start(&s, 1000, NULL);
    sim_cut(&s, "jaipur", s.now + 300, NEVER);
    sim_run(&s, 10000);
    census_t before = census(&s);
    assert_int_equal(before.roots, 1);
    size_t n_before = n_events;
    rn_topology_t *t2;
    assert_int_equal(rn_topology_load(SIM_TOPOLOGY, SIM_SECRETS, &t2, err, sizeof err), 0);
    assert_int_equal(rn_alarm_engine_set_topology(s.e, t2), 0);
    rn_topology_free(s.topo);
    s.topo = t2;
    assert_int_equal(n_events, n_before);
    census_t after = census(&s);
    assert_string_equal(after.list, before.list);
    s.heal_at[JPR] = s.now;
    sim_run(&s, 15000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042"));
    assert_int_equal(census(&s).roots + census(&s).symptoms, 0);
    sim_stop(&s);
}

/* A district with a backup uplink: the primary down is REDUNDANCY_LOST (S2, no impact); both down
 * is NODE_ISOLATED (S1, impact) with the link alarms as its symptoms. */
static void test_backup_uplink_redundancy_lost_then_isolated(void **state)
{
    FILE *f = fopen(SIM_TOPOLOGY, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *anchor = "remote: { device: core1, ifname: ajmer } }\n";
    char *at = strstr(text, anchor);
    assert_non_null(at);
    at += strlen(anchor);
    static char out[70000];
    snprintf(out, sizeof out, "%.*s      - { circuit: AJM-VSAT-0001, vendor: airjaldi, kind: vsat, "
             "mbps: 2, sla: dhq, role: backup,\n          local: { device: rtr1, ifname: sat0 }, "
             "remote: { device: core1, ifname: ajmer-sat } }\n%s", (int)(at - text), text, at);
    static char secrets[8192];
    assert_non_null(f = fopen(SIM_SECRETS, "r"));
    n = fread(secrets, 1, sizeof secrets - 1, f);
    fclose(f);
    rn_topology_t *t;
    char err[512];
    assert_int_equal(rn_topology_load_buffers("bk.yaml", (const uint8_t *)out, strlen(out),
                                              (const uint8_t *)secrets, n, &t, err, sizeof err),
                     0);
    rn_alarm_engine_t *e;
    assert_int_equal(rn_alarm_engine_new(t, NULL, on_event, NULL, &e), 0);
    n_events = 0;
    int64_t now = T0;
    rn_alarm_tick(e, now);
    rn_alarm_observe_ifstatus(e, "sdc", "core1", "ajmer", now, 2);
    rn_alarm_tick(e, now += 1000);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_REDUNDANCY_LOST, "AJM-LL-0107");
    assert_non_null(r);
    assert_int_equal(r->severity, 2);
    assert_string_equal(r->impact_nodes, "");
    assert_int_equal(rn_alarm_reaches(e, "ajmer/kishangarh", "vc"), 1);
    rn_alarm_observe_ifstatus(e, "ajmer", "rtr1", "sat0", now, 2);
    rn_alarm_tick(e, now += 1000);
    const event_t *iso = find(RN_ALARM_EV_RAISED, RN_ALARM_NODE_ISOLATED, "ajmer");
    assert_non_null(iso);
    assert_int_equal(iso->severity, 1);
    assert_string_equal(iso->impact_nodes, "ajmer,ajmer/kishangarh,ajmer/kishangarh/gp-tilonia");
    assert_string_equal(iso->impact_services, "vc,emitra");
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 2);
    assert_int_equal(count(RN_ALARM_EV_SYMPTOM_OF, -1), 2); /* both links under the isolation */
    assert_int_equal(rn_alarm_reaches(e, "ajmer/kishangarh", "vc"), 0);
    rn_alarm_engine_free(e);
    rn_topology_free(t);
}

/* A service check failing from a block under a cut is a symptom of the cut; failing on its own
 * it is a root (S2) after the settle window. */
static void test_service_unreachable_correlates(void **state)
{
    sim_t s;
    sim_start(&s, 1000, NULL);
    for (int i = 0; i < 5; i++) {
        sim_run(&s, 1000);
        rn_alarm_observe_service(s.e, "ajmer/kishangarh", "emitra", s.now, false);
    }
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_SERVICE_UNREACHABLE, "emitra");
    assert_non_null(r);
    assert_string_equal(r->node, "ajmer/kishangarh");
    assert_int_equal(r->severity, 2);
    n_events = 0;
    sim_cut(&s, "jaipur", s.now + 100, NEVER);
    for (int i = 0; i < 8; i++) {
        sim_run(&s, 1000);
        rn_alarm_observe_service(s.e, "jaipur/amer", "vc", s.now, i < 1);
    }
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_SERVICE_UNREACHABLE, "vc");
    assert_non_null(sy);
    assert_int_equal(sy->root_id,
                     find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042")->id);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    sim_stop(&s);
}

/* ---- services down at their host (alarm_svc.c) ---- */

/* Every office with an agent checks service at the model's now: it fails when the service is
 * stopped at its host or when the office's path to sdc is cut. */
static void svc_checks(sim_t *s, const char *service, bool stopped)
{
    for (int i = 1; i < N_NODES; i++)
        rn_alarm_observe_service(s->e, sim_nodes[i].id, service, s->now,
                                 !stopped && !path_cut(s, i, s->now));
}

/* Runs the model for ms with one round of checks of service per probe interval. */
static void svc_run(sim_t *s, const char *service, int64_t ms, bool stopped)
{
    for (int64_t end = s->now + ms; s->now < end;) {
        sim_run(s, s->interval);
        svc_checks(s, service, stopped);
    }
}

/* The e-Mitra service stopped at sdc for 60 s while every path is fine: ONE root alarm naming
 * the service and its host, raised within 3 probe rounds, every office in its impact and each
 * office's own alarm its symptom; cleared when the checks succeed again. */
static void test_service_down_at_host_is_one_root(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    svc_run(&s, "emitra", 10000, false);
    rn_alarm_service_state_t st;
    assert_int_equal(rn_alarm_service_state(s.e, "emitra", &st), 0);
    assert_int_equal(st.n_ok, 5);
    n_events = 0;
    int64_t stop = s.now;
    svc_run(&s, "emitra", 60000, true);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_SERVICE_DOWN, "emitra");
    assert_non_null(r);
    assert_string_equal(r->node, "sdc");
    assert_int_equal(r->severity, 2);
    assert_true(r->at - stop <= 2 * s.interval); /* one failed round at every office */
    assert_string_equal(r->impact_nodes,
                        "jaipur,ajmer,jaipur/sanganer,jaipur/amer,ajmer/kishangarh");
    assert_string_equal(r->impact_services, "emitra");
    assert_non_null(strstr(r->text, "service emitra down at sdc"));
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_int_equal(count(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_SERVICE_UNREACHABLE), 5);
    for (size_t i = 0; i < n_events; i++)
        if (events[i].kind == RN_ALARM_EV_SYMPTOM_OF)
            assert_int_equal(events[i].root_id, r->id);
    assert_int_equal(rn_alarm_service_state(s.e, "emitra", &st), 0);
    assert_true(st.down && st.n_failing == 5 && st.n_ok == 0);
    int64_t start = s.now;
    svc_run(&s, "emitra", 20000, false);
    const event_t *c = find(RN_ALARM_EV_CLEARED, RN_ALARM_SERVICE_DOWN, "emitra");
    assert_non_null(c);
    assert_true(c->at - start <= 4 * s.interval); /* M = 3 good checks */
    assert_true(c->until >= start && c->until <= start + s.interval);
    assert_int_equal(count(RN_ALARM_EV_CLEARED, RN_ALARM_SERVICE_UNREACHABLE), 5);
    assert_int_equal(count(RN_ALARM_EV_PROMOTED, -1), 0);
    sim_stop(&s);
}

/* A block cut off while the other offices reach the service: its check failures are a symptom
 * of the link alarm, and the service is not "down at its host". */
static void test_service_behind_cut_is_symptom_not_down(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    svc_run(&s, "emitra", 10000, false);
    n_events = 0;
    sim_cut(&s, "jaipur/sanganer", s.now + 300, NEVER);
    svc_run(&s, "emitra", 30000, false);
    const event_t *l = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-SNG-MPLS-3301");
    assert_non_null(l);
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_SERVICE_UNREACHABLE, "emitra");
    assert_non_null(sy);
    assert_string_equal(sy->node, "jaipur/sanganer");
    assert_int_equal(sy->root_id, l->id);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_null(find(RN_ALARM_EV_RAISED, RN_ALARM_SERVICE_DOWN, NULL));
    sim_stop(&s);
}

/* One office failing a service the others reach, with no fault on its way: an alarm of its own,
 * not the service's. */
static void test_service_unreachable_from_one_office_is_its_own(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    for (int k = 0; k < 10; k++) {
        sim_run(&s, s.interval);
        for (int i = 1; i < N_NODES; i++)
            rn_alarm_observe_service(s.e, sim_nodes[i].id, "vc", s.now, i != 2 || k < 3);
    }
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_SERVICE_UNREACHABLE, "vc");
    assert_non_null(r);
    assert_string_equal(r->node, "ajmer");
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    sim_stop(&s);
}

/* A round's TCP target answered but its HTTP health check failed, the two in separate batches:
 * the round is bad, as if they had come together; a plain duplicate still counts once. */
static void test_service_round_split_over_batches_is_bad(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    for (int k = 0; k < 6; k++) {
        sim_run(&s, s.interval);
        rn_alarm_observe_service(s.e, "ajmer", "emitra", s.now, true);  /* emitra-8080 */
        rn_alarm_observe_service(s.e, "ajmer", "emitra", s.now, false); /* emitra-http: 503 */
        rn_alarm_observe_service(s.e, "ajmer", "emitra", s.now, true);  /* a resend: ignored */
    }
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_SERVICE_UNREACHABLE, "emitra");
    assert_non_null(r);
    assert_string_equal(r->node, "ajmer");
    sim_stop(&s);
}

/* No fresh checks: the service is unknown (n_checking 0), not fine; stale checks do not keep a
 * service-down alarm alive either. */
static void test_service_without_evidence_is_unknown(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    rn_alarm_service_state_t st;
    assert_int_equal(rn_alarm_service_state(s.e, "emitra", &st), 0);
    assert_int_equal(st.n_checking, 0);
    assert_false(st.down);
    assert_true(isnan(st.cert_days));
    assert_int_equal(rn_alarm_service_state(s.e, "nope", &st), -ENOENT);
    svc_run(&s, "emitra", 10000, true);
    assert_int_equal(rn_alarm_service_state(s.e, "emitra", &st), 0);
    assert_true(st.down && st.n_checking == 5);
    sim_run(&s, 60000); /* the agents stop checking */
    assert_int_equal(rn_alarm_service_state(s.e, "emitra", &st), 0);
    assert_int_equal(st.n_checking, 0);
    assert_false(st.down);
    sim_stop(&s);
}

/* An HTTPS certificate 9.5 days from its notAfter raises one S3 warning at the service's host,
 * whichever offices report it; a renewed certificate clears it. Unknown days say nothing. */
static void test_cert_expiring_warns_s3(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    rn_alarm_observe_cert(s.e, "jaipur", "emitra", s.now, 30.0);
    rn_alarm_observe_cert(s.e, "jaipur", "emitra", s.now + 1, NAN);
    sim_run(&s, 5000);
    assert_int_equal(n_events, 0);
    for (int k = 0; k < 3; k++) {
        rn_alarm_observe_cert(s.e, "ajmer", "emitra", s.now, 9.5);
        rn_alarm_observe_cert(s.e, "jaipur/amer", "emitra", s.now, 9.5);
        sim_run(&s, 2000);
    }
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_CERT_EXPIRING, "emitra");
    assert_non_null(r);
    assert_int_equal(r->severity, 3);
    assert_string_equal(r->node, "sdc");
    assert_non_null(strstr(r->text, "expires in 9.5 days"));
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    rn_alarm_service_state_t st;
    assert_int_equal(rn_alarm_service_state(s.e, "emitra", &st), 0);
    assert_true(st.cert_days == 9.5);
    rn_alarm_observe_cert(s.e, "ajmer", "emitra", s.now, 89.0);
    sim_run(&s, 1000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_CERT_EXPIRING, "emitra"));
    sim_stop(&s);
}

/* ---- VC quality (agent/vc_quality.h "rtp" samples) ---- */

/* Feeds n intervals of 5 s of VC figures from node, running the model in between. */
static void vc_feed(sim_t *s, const char *node, int n, double mos, double loss)
{
    for (int i = 0; i < n; i++) {
        sim_run(s, 5000);
        rn_alarm_observe_vc(s->e, node, s->now, mos, loss);
    }
}

/* M of N: 3 bad intervals of the last 5 raise it (2 do not), 3 good ones in a row clear it;
 * with no link alarm it is a root of its own, naming the office, MOS and loss. */
static void test_vc_quality_low_is_m_of_n(void **state)
{
    sim_t s;
    (void)state;
    sim_start(&s, 1000, NULL);
    vc_feed(&s, "ajmer/kishangarh", 3, 4.4, 0);
    vc_feed(&s, "ajmer/kishangarh", 1, 3.2, 6); /* bad, good, bad: 2 of 5 */
    vc_feed(&s, "ajmer/kishangarh", 1, 4.4, 0);
    vc_feed(&s, "ajmer/kishangarh", 1, 4.3, 4.0); /* loss 4% > 3%: bad */
    sim_run(&s, 2000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_VC_QUALITY), 0);
    vc_feed(&s, "ajmer/kishangarh", 1, 3.5, 1.0); /* MOS 3.5 < 3.6: 3 of the last 5 */
    sim_run(&s, 2000);                            /* the settle window */
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_VC_QUALITY, NULL);
    assert_non_null(r);
    assert_string_equal(r->node, "ajmer/kishangarh");
    assert_string_equal(r->entity, "vc");
    assert_int_equal(r->severity, 2);
    assert_int_equal(r->root_id, 0);
    assert_non_null(strstr(r->text, "VC quality low at ajmer/kishangarh: MOS 3.50, loss 1.0%"));
    assert_string_equal(r->impact_services, "vc");
    vc_feed(&s, "ajmer/kishangarh", 2, 4.4, 0);
    vc_feed(&s, "ajmer/kishangarh", 1, NAN, NAN); /* no media: says nothing */
    assert_int_equal(count(RN_ALARM_EV_CLEARED, RN_ALARM_VC_QUALITY), 0);
    vc_feed(&s, "ajmer/kishangarh", 1, 4.4, 0);
    assert_int_equal(count(RN_ALARM_EV_CLEARED, RN_ALARM_VC_QUALITY), 1);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    sim_stop(&s);
}

/* A degraded uplink (latency over the SLA) explains the VC alarm at the office below it and at
 * the district: both are symptoms of the link alarm, never roots; healing clears everything. */
static void test_vc_quality_under_degraded_link_is_its_symptom(void **state)
{
    sim_t s;
    (void)state;
    sim_start(&s, 1000, NULL);
    vc_feed(&s, "jaipur", 2, 4.4, 0);
    s.rtt[JPR] = 200; /* JPR-MPLS-0042 slow: degraded after 6 of 10 rounds */
    vc_feed(&s, "jaipur", 4, 3.8, 5.2);
    vc_feed(&s, "jaipur/amer", 4, 3.7, 5.0);
    const event_t *d = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DEGRADED, "JPR-MPLS-0042");
    assert_non_null(d);
    assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_VC_QUALITY), 0);
    assert_int_equal(count(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_VC_QUALITY), 2);
    for (size_t i = 0; i < n_events; i++)
        if (events[i].type == RN_ALARM_VC_QUALITY)
            assert_int_equal(events[i].root_id, d->id);
    s.rtt[JPR] = 0; /* healed: the link clears within seconds, the VC figures take 3 intervals */
    for (int i = 0; i < 3; i++) {
        sim_run(&s, 5000);
        rn_alarm_observe_vc(s.e, "jaipur", s.now, 4.4, 0);
        rn_alarm_observe_vc(s.e, "jaipur/amer", s.now, 4.4, 0);
    }
    sim_run(&s, 10000);
    assert_int_equal(count(RN_ALARM_EV_CLEARED, RN_ALARM_VC_QUALITY), 2);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DEGRADED, "JPR-MPLS-0042"));
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_int_equal(count(RN_ALARM_EV_PROMOTED, -1), 0);
    sim_stop(&s);
}

/* The VC alarm that comes first is published as a root, then re-parented (SYMPTOM_OF) when the
 * link alarm appears. */
static void test_vc_quality_before_the_link_alarm_is_reparented(void **state)
{
    sim_t s;
    (void)state;
    sim_start(&s, 1000, NULL);
    vc_feed(&s, "ajmer", 3, 3.0, 8);
    sim_run(&s, 2000);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_VC_QUALITY, NULL);
    assert_non_null(r);
    uint64_t vc_id = r->id;
    s.rtt[AJM] = 200;
    vc_feed(&s, "ajmer", 3, 3.0, 8);
    const event_t *d = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DEGRADED, "AJM-LL-0107");
    assert_non_null(d);
    const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_VC_QUALITY, NULL);
    assert_non_null(sy);
    assert_int_equal(sy->id, vc_id);
    assert_int_equal(sy->root_id, d->id);
    sim_stop(&s);
}

/* ---- RajNet as it fails: black holes, in-band management, silent agents ---------------------- */

/* Returns the number of events of any kind about entity. */
static size_t count_entity(const char *entity)
{
    size_t c = 0;
    for (size_t i = 0; i < n_events; i++)
        c += strcmp(events[i].entity, entity) == 0;
    return c;
}

/* A block's radio link black-holes (interfaces stay up) and the block's agent reaches the
 * collector only over that link: its side is silent, so the district's rounds down to it carry
 * the detection. One S1 root on the right circuit within 3 s at 1 s probing; the block's silence
 * is its symptom, never "agent down"; the heal clears everything, and the spool's replay of the
 * cut (bad rounds, old stamps) raises nothing again. */
static void test_blackhole_inband_block_is_link_down_from_above(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 1000, NULL);
    s.downward = s.inband = true;
    s.blackhole[AMR] = true;
    sim_run(&s, 5000);
    n_events = 0;
    int64_t cut = s.now + 430, heal = cut + 90000;
    sim_cut(&s, "jaipur/amer", cut, heal);
    sim_run(&s, 10000);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-AMR-RF-0009");
    assert_non_null(r);
    assert_int_equal(r->severity, 1);
    assert_string_equal(r->vendor, "airjaldi");
    assert_int_equal(r->root_id, 0);
    assert_true(r->at - cut <= 3000);
    assert_true(r->since >= cut - 1000 && r->since <= cut + 1000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    sim_run(&s, heal - s.now - 1); /* the block's agent falls silent under the cut */
    const event_t *sil = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_NODE_SILENT, "jaipur/amer");
    assert_non_null(sil);
    assert_int_equal(sil->root_id, r->id);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_AGENT_DOWN) +
                         count(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_AGENT_DOWN), 0);
    sim_run(&s, 60000);
    const event_t *c = find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-AMR-RF-0009");
    assert_non_null(c);
    assert_true(c->until >= heal - 1000 && c->until <= heal + 1000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_NODE_SILENT, "jaipur/amer"));
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_int_equal(count(RN_ALARM_EV_PROMOTED, -1), 0);
    assert_int_equal(census(&s).roots + census(&s).symptoms, 0);
    sim_stop(&s);
}

/* The district's uplink black-holes in-band: the district and both blocks fall silent together
 * while sdc's rounds down to the district are lost. One root on JPR-MPLS-0042 within 8 s at the
 * simulation's 2 s rounds, the three silent agents its symptoms, nothing else raised. */
static void test_blackhole_inband_district_is_one_root_with_silent_subtree(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    s.downward = s.inband = true;
    s.blackhole[JPR] = true;
    sim_run(&s, 6000);
    n_events = 0;
    int64_t cut = s.now + 1170, heal = cut + 90000;
    sim_cut(&s, "jaipur", cut, heal);
    sim_run(&s, heal - s.now - 1);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-MPLS-0042");
    assert_non_null(r);
    assert_true(r->at - cut <= 8000);
    assert_string_equal(r->impact_nodes, "jaipur,jaipur/sanganer,jaipur/sanganer/gp-bagru,jaipur/amer,jaipur/amer/gp-kunda");
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    const char *silent[] = { "jaipur", "jaipur/sanganer", "jaipur/amer" };
    for (int i = 0; i < 3; i++) {
        const event_t *sy = find(RN_ALARM_EV_SYMPTOM_OF, RN_ALARM_NODE_SILENT, silent[i]);
        assert_non_null(sy);
        assert_int_equal(sy->root_id, r->id);
    }
    assert_int_equal(count_entity("JPR-SNG-MPLS-3301") + count_entity("JPR-AMR-RF-0009"), 0);
    census_t c = census(&s);
    assert_int_equal(c.roots, 1);
    sim_run(&s, 60000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1) + count(RN_ALARM_EV_PROMOTED, -1), 1);
    assert_int_equal(census(&s).roots + census(&s).symptoms, 0);
    sim_stop(&s);
}

/* A block's agent stops on a healthy network: the district still reaches the block, so the NOC
 * sees "agent down" (S3, no vendor), never a link alarm; its next frame clears it. */
static void test_agent_down_is_not_link_down(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    s.downward = true;
    sim_run(&s, 6000);
    n_events = 0;
    s.mute[AMR] = true;
    sim_run(&s, 60000);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_AGENT_DOWN, "jaipur/amer");
    assert_non_null(r);
    assert_int_equal(r->severity, 3);
    assert_string_equal(r->vendor, "");
    assert_non_null(strstr(r->text, "agent of jaipur/amer down"));
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    assert_int_equal(count_entity("JPR-AMR-RF-0009"), 0);
    assert_int_equal(rn_alarm_link_status(s.e, "JPR-AMR-RF-0009"), RN_STATUS_UP);
    s.mute[AMR] = false;
    sim_run(&s, 5000);
    assert_non_null(find(RN_ALARM_EV_CLEARED, RN_ALARM_AGENT_DOWN, "jaipur/amer"));
    assert_int_equal(census(&s).roots, 0);
    sim_stop(&s);
}

/* Out-of-band, both sides are heard: whichever side loses its rounds first takes the link down,
 * and the link is up again only when both sides answer; the outage ends at the first good round
 * of the side that recovered last. */
static void test_both_sides_heard_link_down_once(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 1000, NULL);
    s.downward = true;
    s.blackhole[SNG] = true;
    sim_run(&s, 5000);
    n_events = 0;
    int64_t cut = s.now + 250, heal = cut + 20000;
    sim_cut(&s, "jaipur/sanganer", cut, heal);
    sim_run(&s, 40000);
    assert_int_equal(count(RN_ALARM_EV_RAISED, -1), 1);
    const event_t *r = find(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN, "JPR-SNG-MPLS-3301");
    assert_non_null(r);
    assert_true(r->at - cut <= 3000);
    const event_t *c = find(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN, "JPR-SNG-MPLS-3301");
    assert_non_null(c);
    assert_true(llabs(c->until - heal) <= 1000);
    assert_true(llabs((c->until - r->since) - (heal - cut)) <= 2000);
    sim_stop(&s);
}

/* An interface-down cut of a block in-band: the block's agent is cut off, so its first poll after
 * the heal may come from snmpd's cache and say "down" for a link whose rounds already answer on
 * both sides. That stale report must not take the link down again (down, up, down: flapping). */
static void test_inband_cached_down_after_heal_is_not_a_flap(void **state)
{
    (void)state;
    sim_t s;
    sim_start(&s, 2000, NULL);
    s.downward = s.inband = true;
    s.if_cache = 4500;
    sim_run(&s, 6000);
    n_events = 0;
    for (int64_t off = 0; off < 5000; off += 1000) { /* heals at every phase of the 5 s polls */
        int64_t cut = s.now + 700 + off, heal = cut + 45000;
        sim_cut(&s, "jaipur/sanganer", cut, heal);
        sim_run(&s, heal - s.now + 70000);
        assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_LINK_FLAPPING), 0);
        assert_int_equal(count(RN_ALARM_EV_RAISED, RN_ALARM_LINK_DOWN), 1);
        assert_int_equal(count(RN_ALARM_EV_CLEARED, RN_ALARM_LINK_DOWN), 1);
        assert_int_equal(census(&s).roots + census(&s).symptoms, 0);
        n_events = 0;
        s.cut_at[SNG] = s.heal_at[SNG] = NEVER;
        sim_run(&s, 70000); /* past the flap window */
    }
    sim_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jaipur_cut_is_one_root_with_block_symptoms),
        cmocka_unit_test(test_race_block_first_is_held_and_reparented_within_budget),
        cmocka_unit_test(test_cached_oper_down_does_not_hold_the_clear),
        cmocka_unit_test(test_late_first_oper_down_does_not_hold_the_clear),
        cmocka_unit_test(test_flapping_link_is_one_alarm),
        cmocka_unit_test(test_one_percent_random_loss_raises_nothing),
        cmocka_unit_test(test_outage_edges_do_not_count_as_loss),
        cmocka_unit_test(test_degraded_by_loss_and_by_latency),
        cmocka_unit_test(test_root_clears_persisting_symptom_is_promoted),
        cmocka_unit_test(test_node_silent_and_silent_under_cut_is_symptom),
        cmocka_unit_test(test_sdc_end_ifstatus_is_the_same_link_alarm),
        cmocka_unit_test(test_maintenance_window_flags_planned),
        cmocka_unit_test(test_topology_reload_keeps_alarms),
        cmocka_unit_test(test_backup_uplink_redundancy_lost_then_isolated),
        cmocka_unit_test(test_service_unreachable_correlates),
        cmocka_unit_test(test_service_down_at_host_is_one_root),
        cmocka_unit_test(test_service_behind_cut_is_symptom_not_down),
        cmocka_unit_test(test_service_unreachable_from_one_office_is_its_own),
        cmocka_unit_test(test_service_round_split_over_batches_is_bad),
        cmocka_unit_test(test_service_without_evidence_is_unknown),
        cmocka_unit_test(test_cert_expiring_warns_s3),
        cmocka_unit_test(test_vc_quality_low_is_m_of_n), /* VC quality */
        cmocka_unit_test(test_vc_quality_under_degraded_link_is_its_symptom),
        cmocka_unit_test(test_vc_quality_before_the_link_alarm_is_reparented),
        cmocka_unit_test(test_blackhole_inband_block_is_link_down_from_above),
        cmocka_unit_test(test_blackhole_inband_district_is_one_root_with_silent_subtree),
        cmocka_unit_test(test_agent_down_is_not_link_down),
        cmocka_unit_test(test_both_sides_heard_link_down_once),
        cmocka_unit_test(test_inband_cached_down_after_heal_is_not_a_flap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
