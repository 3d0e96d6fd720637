/* The whole-network view (alarm_view.h) against the per-call answers it replaces in listings:
 * every node's status, every uplink's status and every (node, service) reachability must be
 * what rn_alarm_node_status, rn_alarm_link_status and rn_alarm_reaches say, on the simulated
 * RajNet and on the full state, healthy, with cuts at several tiers, and with silent agents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alarm/alarm.h"
#include "alarm/alarm_view.h"
#include "topology.h"

#define T0 1700000000000LL

static void on_event(void *ctx, rn_alarm_event_kind_t kind, const rn_alarm_t *a, int64_t at)
{
    (void)ctx, (void)kind, (void)a, (void)at;
}

/* True if node i is cut (its id is in cuts) or lies below a cut node. */
static bool behind(const rn_node_t *n, const char *const *cuts)
{
    for (; n; n = n->parent)
        for (const char *const *c = cuts; *c; c++)
            if (!strcmp(n->id, *c))
                return true;
    return false;
}

/* Feeds rounds: every agent probes its parent and its children; the uplinks of the nodes in cuts
 * lose everything. Agents behind a cut say nothing, agents in mute send no rounds' frames. */
static void feed(rn_alarm_engine_t *e, const rn_topology_t *t, const char *const *cuts,
                 const char *const *mute, int rounds, int64_t *now)
{
    for (int r = 0; r < rounds; r++, *now += 1000) {
        for (size_t i = 0; i < t->n_nodes; i++) {
            const rn_node_t *n = &t->nodes[i];
            if (!n->parent)
                continue;
            bool cut = false;
            for (const char *const *c = cuts; *c; c++)
                cut = cut || !strcmp(n->id, *c);
            double loss = cut ? 100.0 : 0.0;
            if (n->agent && !behind(n, cuts)) /* upward */
                rn_alarm_observe_icmp(e, n->id, n->parent->id, *now - 200, 4, loss, 10.0, 1.0);
            if (n->parent->agent && !behind(n->parent, cuts)) /* downward */
                rn_alarm_observe_icmp(e, n->parent->id, n->id, *now - 200, 4, loss, 10.0, 1.0);
        }
        for (size_t i = 0; i < t->n_nodes; i++) {
            bool muted = false;
            for (const char *const *m = mute; *m; m++)
                muted = muted || !strcmp(t->nodes[i].id, *m);
            if (t->nodes[i].agent && !muted && !behind(&t->nodes[i], cuts))
                rn_alarm_observe_node_seen(e, t->nodes[i].id, *now);
        }
        rn_alarm_tick(e, *now);
    }
}

/* Asserts the view equals the per-call answers for every node, uplink and service. */
static void assert_view_matches(const rn_alarm_engine_t *e, const rn_topology_t *t,
                                size_t *n_down)
{
    rn_alarm_view_t v;
    assert_int_equal(rn_alarm_view_take(e, &v), 0);
    assert_int_equal(v.n_nodes, t->n_nodes);
    *n_down = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const rn_node_t *n = &t->nodes[i];
        rn_alarm_status_t want = rn_alarm_node_status(e, n->id);
        if (v.node[i] != want)
            fail_msg("%s: view %d, engine %d", n->id, v.node[i], want);
        *n_down += want == RN_STATUS_DOWN;
        for (size_t k = 0; k < n->n_uplinks; k++)
            assert_int_equal(rn_alarm_view_link(&v, i, k),
                             rn_alarm_link_status(e, n->uplinks[k].circuit));
        for (size_t s = 0; s < t->n_services; s++) {
            int want_r = rn_alarm_reaches(e, n->id, t->services[s].name) == 1;
            if (rn_alarm_view_reaches(&v, i, s) != want_r)
                fail_msg("%s -> %s: view %d, engine %d", n->id, t->services[s].name,
                         rn_alarm_view_reaches(&v, i, s), want_r);
        }
    }
    rn_alarm_view_free(&v);
}

static void run(const char *topo_path, const char *secrets, const char *const *cuts,
                const char *const *mute)
{
    char err[512];
    rn_topology_t *t;
    if (rn_topology_load(topo_path, secrets, &t, err, sizeof err) != 0)
        fail_msg("%s", err);
    rn_alarm_config_t cfg = { 0 };
    cfg.probe_interval_ms = 1000;
    cfg.probe_count = 4;
    rn_alarm_engine_t *e;
    assert_int_equal(rn_alarm_engine_new(t, &cfg, on_event, NULL, &e), 0);
    size_t n_down;
    assert_view_matches(e, t, &n_down); /* nothing seen yet: all unknown */
    assert_int_equal(n_down, 0);
    int64_t now = T0;
    static const char *const none[] = { NULL };
    feed(e, t, none, none, 4, &now);
    assert_view_matches(e, t, &n_down);
    assert_int_equal(n_down, 0);
    feed(e, t, cuts, mute, 90, &now); /* past the silence threshold too */
    assert_view_matches(e, t, &n_down);
    assert_true(n_down > 0); /* the cuts took something down: the comparison saw both states */
    rn_alarm_engine_free(e);
    rn_topology_free(t);
}

static void test_sim_cuts(void **state)
{
    (void)state;
    static const char *const cuts[] = { "jaipur/amer", "ajmer", NULL };
    static const char *const mute[] = { "jaipur/sanganer", NULL };
    run(RN_SRCDIR "/deploy/sim/topology.yaml", RN_SRCDIR "/deploy/sim/secrets.yaml", cuts, mute);
}

static void test_full_state_cuts(void **state)
{
    (void)state;
    static const char *const cuts[] = { "jaipur", "ajmer/srinagar", "udaipur/girwa/sherpura",
                                        NULL };
    static const char *const mute[] = { "bikaner", NULL };
    run(RN_SRCDIR "/deploy/examples/rajasthan/topology.yaml",
        RN_SRCDIR "/deploy/examples/rajasthan/secrets.yaml", cuts, mute);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_cuts),
        cmocka_unit_test(test_full_state_cuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
