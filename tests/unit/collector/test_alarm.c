/* The alarm engine over the simulated RajNet (alarm_sim.h): links. Cuts, heals, flaps, loss and
 * latency, black holes and in-band management, maintenance and topology reloads, as the rounds,
 * polls and frames the collector would receive; the tests assert on the events the NOC would
 * see: one root per fault, symptoms attached, impact named, timing budgets met. Services,
 * certificates and VC quality are in test_alarm_svc.c. */
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

#include "alarm_sim.h"

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
        cmocka_unit_test(test_blackhole_inband_block_is_link_down_from_above),
        cmocka_unit_test(test_blackhole_inband_district_is_one_root_with_silent_subtree),
        cmocka_unit_test(test_agent_down_is_not_link_down),
        cmocka_unit_test(test_both_sides_heard_link_down_once),
        cmocka_unit_test(test_inband_cached_down_after_heal_is_not_a_flap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
