/* The alarm engine over the simulated RajNet (alarm_sim.h): what runs over the links. Service
 * checks from every office (one SERVICE_DOWN root at the host, or symptoms of a cut: alarm_svc.c),
 * certificates about to expire, and VC quality from the offices' RTP figures, alone and under a
 * link alarm. The links themselves are in test_alarm.c. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_unreachable_correlates),
        cmocka_unit_test(test_service_down_at_host_is_one_root),
        cmocka_unit_test(test_service_behind_cut_is_symptom_not_down),
        cmocka_unit_test(test_service_unreachable_from_one_office_is_its_own),
        cmocka_unit_test(test_service_round_split_over_batches_is_bad),
        cmocka_unit_test(test_service_without_evidence_is_unknown),
        cmocka_unit_test(test_cert_expiring_warns_s3),
        cmocka_unit_test(test_vc_quality_low_is_m_of_n),
        cmocka_unit_test(test_vc_quality_under_degraded_link_is_its_symptom),
        cmocka_unit_test(test_vc_quality_before_the_link_alarm_is_reparented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
