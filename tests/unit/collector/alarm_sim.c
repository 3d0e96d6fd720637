/* The simulated RajNet for the alarm engine's tests (alarm_sim.h). */
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

#include "alarm_sim.h"

/* ---- recorded events ------------------------------------------------------------------------ */
event_t events[MAX_EVENTS];
size_t n_events;

/* Joins a string list with ','. */
static void join(char *out, size_t len, const char *const *v, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", v[i]);
}

void on_event(void *ctx, rn_alarm_event_kind_t kind, const rn_alarm_t *a, int64_t at)
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
size_t count(rn_alarm_event_kind_t kind, int type)
{
    size_t c = 0;
    for (size_t i = 0; i < n_events; i++)
        c += events[i].kind == kind && (type < 0 || events[i].type == (rn_alarm_type_t)type);
    return c;
}

/* Returns the first event of kind (and type if >= 0, entity if not NULL), or NULL. */
const event_t *find(rn_alarm_event_kind_t kind, int type, const char *entity)
{
    for (size_t i = 0; i < n_events; i++)
        if (events[i].kind == kind && (type < 0 || events[i].type == (rn_alarm_type_t)type) &&
            (!entity || strcmp(events[i].entity, entity) == 0))
            return &events[i];
    return NULL;
}

/* ---- the network model ---------------------------------------------------------------------- */

const sim_node_t sim_nodes[N_NODES] = {
    { "sdc", NULL, { NULL, NULL } },
    { "jaipur", "sdc", { "rtr1|wan0", "core1|jaipur" } },
    { "ajmer", "sdc", { "rtr1|wan0", "core1|ajmer" } },
    { "jaipur/sanganer", "jaipur", { "rtr1|wan0", "rtr1|sanganer" } },
    { "jaipur/amer", "jaipur", { "rtr1|wan0", "rtr1|amer" } },
    { "ajmer/kishangarh", "ajmer", { "rtr1|wan0", "rtr1|kishangarh" } },
};

int sim_index(const char *id)
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
bool path_cut(const sim_t *s, int i, int64_t t)
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
void sim_step(sim_t *s)
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
void sim_run(sim_t *s, int64_t ms)
{
    for (int64_t end = s->now + ms; s->now < end;)
        sim_step(s);
}

/* Starts a model at T0 with the given probe interval and config (NULL: defaults), runs it a
 * minute so every stream has history, and clears the event log. */
void sim_start(sim_t *s, int64_t interval, const rn_alarm_config_t *cfg)
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

void sim_stop(sim_t *s)
{
    rn_alarm_engine_free(s->e);
    rn_topology_free(s->topo);
}

/* Cuts node id's uplink at t (absolute), healing it at heal (NEVER: not). */
void sim_cut(sim_t *s, const char *id, int64_t t, int64_t heal)
{
    s->cut_at[sim_index(id)] = t;
    s->heal_at[sim_index(id)] = heal;
}

/* Counts one published alarm into the census ctx. */
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

census_t census(sim_t *s)
{
    census_t c = { 0 };
    rn_alarm_foreach(s->e, on_alarm, &c);
    return c;
}