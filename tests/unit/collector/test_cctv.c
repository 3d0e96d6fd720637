/* Tests of collector/cctv/cctv.c on the simulated topology's stations: one alarm per station that
 * lists every camera down in the round it was raised, N bad rounds to go down, one good round
 * to come back, the clear only when the last camera is back, staleness, and a reload. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "cctv/cctv.h"
#include "topology.h"

#define SIM_TOPOLOGY RN_SRCDIR "/deploy/sim/topology.yaml"
#define SIM_SECRETS RN_SRCDIR "/deploy/sim/secrets.yaml"
#define NODE "jaipur/sanganer"
#define ROUND 2000 /* the simulation's probe interval, ms */

typedef struct {
    int raised, cleared;
    uint64_t last_id;
    char text[512], entity[80], node[80];
    int64_t since, until;
    int severity;
    rn_cctv_kind_t kind;
} events_t;

static void on_alarm(void *ctx, bool raised, rn_cctv_alarm_t *a, int64_t at_ms)
{
    events_t *ev = ctx;
    (void)at_ms;
    if (raised) {
        a->id = 100 + (uint64_t)ev->raised;
        ev->raised++;
    } else {
        ev->cleared++;
        ev->until = a->until_ms;
    }
    ev->last_id = a->id;
    ev->since = a->since_ms;
    ev->severity = a->severity;
    ev->kind = a->kind;
    snprintf(ev->text, sizeof ev->text, "%s", a->text);
    snprintf(ev->entity, sizeof ev->entity, "%s", a->entity);
    snprintf(ev->node, sizeof ev->node, "%s", a->node);
}

static rn_topology_t *topo;

static int setup(void **state)
{
    char err[1024];
    (void)state;
    return rn_topology_load(SIM_TOPOLOGY, SIM_SECRETS, &topo, err, sizeof err);
}

static int teardown(void **state)
{
    (void)state;
    rn_topology_free(topo);
    return 0;
}

/* One round at time t: gate and lockup up (1) or down (0). */
static void round_at(rn_cctv_t *c, int64_t t, int gate, int lockup)
{
    rn_cctv_observe(c, NODE, "ps-sanganer", "gate", t, gate, gate ? 3.5 : NAN);
    rn_cctv_observe(c, NODE, "ps-sanganer", "lockup", t, lockup, lockup ? 4.0 : NAN);
    rn_cctv_tick(c, t + 500);
}

static rn_cctv_state_t state_of(rn_cctv_t *c, const char *cam)
{
    rn_cctv_camera_t v;
    assert_int_equal(rn_cctv_camera(c, "ps-sanganer", cam, &v), 0);
    return v.state;
}

static void test_both_down_one_alarm_listing_both(void **state)
{
    (void)state;
    events_t ev = { 0 };
    rn_cctv_t *c;
    assert_int_equal(rn_cctv_new(topo, 2, on_alarm, &ev, &c), 0);
    int64_t t = 1000000;
    round_at(c, t, 1, 1);
    assert_int_equal(state_of(c, "gate"), RN_CCTV_UP);
    round_at(c, t += ROUND, 0, 0); /* one bad round: not yet */
    assert_int_equal(ev.raised, 0);
    assert_int_equal(state_of(c, "gate"), RN_CCTV_UP);
    round_at(c, t += ROUND, 0, 0);
    assert_int_equal(ev.raised, 1);
    assert_string_equal(ev.entity, "cctv:ps-sanganer");
    assert_string_equal(ev.node, NODE);
    assert_string_equal(ev.text, "camera offline at ps-sanganer (jaipur/sanganer): gate, lockup "
                                 "(2 of 2 cameras)");
    assert_int_equal(ev.since, t - ROUND); /* the first bad round */
    assert_int_equal(rn_cctv_station_alarm(c, "ps-sanganer"), 100);
    round_at(c, t += ROUND, 0, 0);
    assert_int_equal(ev.raised, 1); /* still one */
    round_at(c, t += ROUND, 1, 0); /* gate back, lockup still down: holds */
    assert_int_equal(state_of(c, "gate"), RN_CCTV_UP);
    assert_int_equal(ev.cleared, 0);
    round_at(c, t += ROUND, 1, 1); /* the last one back: clears */
    assert_int_equal(ev.cleared, 1);
    assert_int_equal(ev.last_id, 100);
    assert_int_equal(ev.until, t);
    assert_int_equal(rn_cctv_station_alarm(c, "ps-sanganer"), 0);
    rn_cctv_free(c);
}

static void test_single_bad_round_and_other_nodes_ignored(void **state)
{
    (void)state;
    events_t ev = { 0 };
    rn_cctv_t *c;
    assert_int_equal(rn_cctv_new(topo, 2, on_alarm, &ev, &c), 0);
    int64_t t = 5000000;
    for (int i = 0; i < 10; i++) /* every other round lost: never two in a row */
        round_at(c, t += ROUND, i % 2, 1);
    assert_int_equal(ev.raised, 0);
    /* the station is not at ajmer/kishangarh: a sample from there says nothing */
    rn_cctv_observe(c, "ajmer/kishangarh", "ps-sanganer", "lockup", t + 1, 0, NAN);
    rn_cctv_observe(c, "ajmer/kishangarh", "ps-sanganer", "lockup", t + 2, 0, NAN);
    rn_cctv_tick(c, t + 3);
    assert_int_equal(ev.raised, 0);
    rn_cctv_camera_t v;
    assert_int_equal(rn_cctv_camera(c, "ps-sanganer", "nosuch", &v), -ENOENT);
    assert_int_equal(rn_cctv_camera(c, "ps-nosuch", "gate", &v), -ENOENT);
    rn_cctv_free(c);
}

static void test_stale_camera_is_unknown_but_holds_alarm(void **state)
{
    (void)state;
    events_t ev = { 0 };
    rn_cctv_t *c;
    assert_int_equal(rn_cctv_new(topo, 2, on_alarm, &ev, &c), 0);
    int64_t t = 9000000;
    round_at(c, t += ROUND, 1, 0);
    round_at(c, t += ROUND, 1, 0);
    assert_int_equal(ev.raised, 1);
    assert_string_equal(ev.text, "camera offline at ps-sanganer (jaipur/sanganer): lockup "
                                 "(1 of 2 cameras)");
    rn_cctv_tick(c, t + (RN_CCTV_STALE_ROUNDS + 1) * ROUND); /* the agent went silent */
    assert_int_equal(state_of(c, "lockup"), RN_CCTV_UNKNOWN);
    assert_int_equal(ev.cleared, 0); /* nothing says it came back */
    rn_cctv_free(c);
}

static void test_reload_keeps_state_and_clears_gone_station(void **state)
{
    (void)state;
    events_t ev = { 0 };
    rn_cctv_t *c;
    assert_int_equal(rn_cctv_new(topo, 2, on_alarm, &ev, &c), 0);
    int64_t t = 12000000;
    round_at(c, t += ROUND, 0, 1);
    round_at(c, t += ROUND, 0, 1);
    assert_int_equal(ev.raised, 1);
    /* the same topology again: the alarm and the camera states carry over */
    assert_int_equal(rn_cctv_set_topology(c, topo, 2, t + 600), 0);
    assert_int_equal(rn_cctv_station_alarm(c, "ps-sanganer"), 100);
    rn_cctv_tick(c, t + 700);
    assert_int_equal(ev.raised, 1);
    assert_int_equal(state_of(c, "gate"), RN_CCTV_DOWN);
    /* a topology without the station: its alarm clears */
    rn_topology_t empty = { .n_nodes = 0 };
    assert_int_equal(rn_cctv_set_topology(c, &empty, 2, t + 800), 0);
    assert_int_equal(ev.cleared, 1);
    assert_int_equal(ev.last_id, 100);
    rn_cctv_free(c);
}

/* The station's NVR (ps-sanganer's 10.77.11.60), probed as camera "nvr": down after the same
 * 2 bad rounds, an alarm of its own that says recording is lost, beside (not inside) the
 * cameras' alarm; it clears at its first good round and carries over a reload. A station without
 * an NVR (ps-kishangarh) has no "nvr" camera. */
static void test_nvr_down_is_recording_lost(void **state)
{
    (void)state;
    events_t ev = { 0 };
    rn_cctv_t *c;
    assert_int_equal(rn_cctv_new(topo, 2, on_alarm, &ev, &c), 0);
    int64_t t = 20000000;
    rn_cctv_observe(c, NODE, "ps-sanganer", "nvr", t, 1, 2.0);
    round_at(c, t, 1, 1);
    assert_int_equal(state_of(c, "nvr"), RN_CCTV_UP);
    for (int i = 0; i < 2; i++) { /* two bad rounds, the cameras fine */
        rn_cctv_observe(c, NODE, "ps-sanganer", "nvr", t += ROUND, 0, NAN);
        round_at(c, t, 1, 1);
    }
    assert_int_equal(state_of(c, "nvr"), RN_CCTV_DOWN);
    assert_int_equal(ev.raised, 1);
    assert_string_equal(ev.entity, "cctv:ps-sanganer:nvr");
    assert_string_equal(ev.node, NODE);
    assert_string_equal(ev.text, "NVR 10.77.11.60 down at ps-sanganer (jaipur/sanganer): "
                                 "recording lost for its 2 cameras");
    assert_int_equal(ev.since, t - ROUND);
    assert_int_equal(rn_cctv_nvr_alarm(c, "ps-sanganer"), 100);
    assert_int_equal(rn_cctv_station_alarm(c, "ps-sanganer"), 0); /* not a camera */
    /* a camera failing meanwhile gets the cameras' alarm, apart */
    for (int i = 0; i < 2; i++) {
        rn_cctv_observe(c, NODE, "ps-sanganer", "nvr", t += ROUND, 0, NAN);
        round_at(c, t, 0, 1);
    }
    assert_int_equal(ev.raised, 2);
    assert_string_equal(ev.text, "camera offline at ps-sanganer (jaipur/sanganer): gate "
                                 "(1 of 2 cameras)");
    assert_int_equal(rn_cctv_station_alarm(c, "ps-sanganer"), 101);
    /* a reload keeps the NVR's alarm open */
    assert_int_equal(rn_cctv_set_topology(c, topo, 2, t + 600), 0);
    assert_int_equal(rn_cctv_nvr_alarm(c, "ps-sanganer"), 100);
    rn_cctv_observe(c, NODE, "ps-sanganer", "nvr", t += ROUND, 1, 2.0); /* back */
    round_at(c, t, 0, 1);
    assert_int_equal(ev.cleared, 1);
    assert_int_equal(ev.last_id, 100);
    assert_int_equal(ev.until, t);
    assert_int_equal(rn_cctv_nvr_alarm(c, "ps-sanganer"), 0);
    assert_int_equal(rn_cctv_station_alarm(c, "ps-sanganer"), 101); /* the camera still down */
    rn_cctv_camera_t v;
    assert_int_equal(rn_cctv_camera(c, "ps-kishangarh", "nvr", &v), -ENOENT);
    /* a topology without the station clears both */
    rn_topology_t empty = { .n_nodes = 0 };
    assert_int_equal(rn_cctv_set_topology(c, &empty, 2, t + 800), 0);
    assert_int_equal(ev.cleared, 2);
    rn_cctv_free(c);
}

/* One recording interval at t (ps-sanganer's stream to its NVR, topology `recording:`), the
 * cameras and the NVR up (or the cameras as given), then a tick. */
static void rec_at(rn_cctv_t *c, int64_t t, double streams, double loss, int cams_up)
{
    rn_cctv_observe(c, NODE, "ps-sanganer", "nvr", t, 1, 2.0);
    rn_cctv_observe(c, NODE, "ps-sanganer", "gate", t, cams_up, cams_up ? 3.5 : NAN);
    rn_cctv_observe(c, NODE, "ps-sanganer", "lockup", t, cams_up, cams_up ? 4.0 : NAN);
    rn_cctv_observe_rec(c, "ps-sanganer", t, streams, loss, streams > 0 ? 1.5 : NAN);
    rn_cctv_tick(c, t + 500);
}

/* The recording stream: no stream for 2 intervals with everything up raises an S2 "recording
 * degraded" alarm of its own (entity cctv:<station>:rec); one good interval does not clear it,
 * two do; loss above max_loss_pct (2 % by default) raises an S3 one; a stream that is missing
 * while the cameras are down raises nothing (their alarm says why); a station without a
 * recording interface ignores "rec" samples; stale figures are unknown; a reload carries the
 * alarm, a topology without the station clears it. */
static void test_recording_stream(void **state)
{
    (void)state;
    events_t ev = { 0 };
    rn_cctv_t *c;
    rn_cctv_recording_t r;
    assert_int_equal(rn_cctv_new(topo, 2, on_alarm, &ev, &c), 0);
    int64_t t = 30000000, step = 5000;
    rec_at(c, t, 2, 0, 1);
    assert_int_equal(rn_cctv_recording(c, "ps-sanganer", &r), 0);
    assert_true(r.watched);
    assert_false(r.degraded);
    assert_true(r.streams == 2 && r.loss_pct == 0 && r.jitter_ms == 1.5);
    assert_int_equal(r.last_ms, t);
    rec_at(c, t += step, 0, NAN, 1); /* one bad interval: nothing yet */
    assert_int_equal(ev.raised, 0);
    rec_at(c, t += step, 0, NAN, 1);
    assert_int_equal(ev.raised, 1);
    assert_int_equal(ev.kind, RN_CCTV_ALARM_RECORDING);
    assert_int_equal(ev.severity, 2);
    assert_string_equal(ev.entity, "cctv:ps-sanganer:rec");
    assert_string_equal(ev.text, "recording degraded at ps-sanganer (jaipur/sanganer): no stream "
                                 "from its 2 cameras reaches NVR 10.77.11.60 (watched on cctv0)");
    assert_int_equal(ev.since, t - step);
    assert_int_equal(rn_cctv_recording(c, "ps-sanganer", &r), 0);
    assert_true(r.degraded);
    assert_int_equal(r.alarm_id, 100);
    assert_true(isnan(r.loss_pct)); /* no stream: no loss to speak of */
    rec_at(c, t += step, 2, 0, 1);
    assert_int_equal(ev.cleared, 0); /* one good interval is not enough */
    rec_at(c, t += step, 2, 0, 1);
    assert_int_equal(ev.cleared, 1);
    assert_int_equal(ev.until, t);
    /* loss: S3 */
    rec_at(c, t += step, 2, 10, 1);
    rec_at(c, t += step, 2, 12.5, 1);
    assert_int_equal(ev.raised, 2);
    assert_int_equal(ev.severity, 3);
    assert_string_equal(ev.text, "recording degraded at ps-sanganer (jaipur/sanganer): 12.5% loss "
                                 "on the stream to NVR 10.77.11.60 (limit 2%, watched on cctv0)");
    /* a reload carries it; a topology without the station clears it */
    assert_int_equal(rn_cctv_set_topology(c, topo, 2, t + 600), 0);
    assert_int_equal(rn_cctv_recording(c, "ps-sanganer", &r), 0);
    assert_int_equal(r.alarm_id, 101);
    rn_topology_t empty = { .n_nodes = 0 };
    assert_int_equal(rn_cctv_set_topology(c, &empty, 2, t + 800), 0);
    assert_int_equal(ev.cleared, 2);
    assert_int_equal(ev.last_id, 101);
    rn_cctv_free(c);

    /* cameras down: a missing stream is theirs to explain; no recording alarm */
    memset(&ev, 0, sizeof ev);
    assert_int_equal(rn_cctv_new(topo, 2, on_alarm, &ev, &c), 0);
    for (int i = 0; i < 3; i++)
        rec_at(c, t += step, 0, NAN, 0);
    assert_int_equal(ev.raised, 1);
    assert_int_equal(ev.kind, RN_CCTV_ALARM_CAMERAS);
    /* stale: unknown figures */
    rn_cctv_tick(c, t + RN_CCTV_REC_STALE_MS + 1000);
    assert_int_equal(rn_cctv_recording(c, "ps-sanganer", &r), 0);
    assert_true(isnan(r.streams));
    /* a station without `recording:` ignores "rec" samples */
    rn_cctv_observe_rec(c, "ps-kishangarh", t, 0, NAN, NAN);
    assert_int_equal(rn_cctv_recording(c, "ps-kishangarh", &r), 0);
    assert_false(r.watched);
    assert_int_equal(r.last_ms, 0);
    assert_int_equal(rn_cctv_recording(c, "nosuch", &r), -ENOENT);
    rn_cctv_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_down_one_alarm_listing_both),
        cmocka_unit_test(test_single_bad_round_and_other_nodes_ignored),
        cmocka_unit_test(test_stale_camera_is_unknown_but_holds_alarm),
        cmocka_unit_test(test_reload_keeps_state_and_clears_gone_station),
        cmocka_unit_test(test_nvr_down_is_recording_lost),
        cmocka_unit_test(test_recording_stream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
