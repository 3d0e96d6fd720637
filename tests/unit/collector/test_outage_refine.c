/* Outage refinement (collector/series/outage_refine.c) against real probe files made with librrd, laid
 * out as the collector lays them out (<dir>/<child>/icmp/<parent>.rrd and <dir>/<parent>/icmp/
 * <child>.rrd). Each side is simulated as the agent probes: a round every 2 s from its own phase,
 * 5 echoes spread over the first second, stamped with the round's start (whole seconds, as the
 * RRD store writes them); an echo sent while the link is cut is lost. The cut and the heal fall
 * between rounds or inside them, and each test checks the refined edges against the truth
 * (print_message shows the errors). */
#include <errno.h>
#include <math.h>
#include <rrd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "series/outage_refine.h"

#define STEP 2
#define T0 1790000000LL /* s: the files start here */
/* Within a second and a half per edge: the RRD store writes whole seconds (a round stamped up to
 * 1 s early) and a row blends the two rounds that straddle its step when they are not aligned
 * to it; a duration (both edges of one side shift alike) is closer. */
#define TOL_MS 1500

static char dir[64], child_path[160], parent_path[160];

typedef struct {
    double phase_s;      /* the side's rounds start at T0 + phase + k * STEP */
    double cut_s, heal_s; /* the link is cut over [cut, heal) (s after T0) */
    double until_s;      /* rounds up to here are in the file (later ones not replayed yet) */
    double broken_from_s, broken_to_s; /* the side's own prober loses everything here */
} side_sim_t;

/* Loss percent of the round stamped t (s after T0) on a side. */
static double round_loss(const side_sim_t *s, double t)
{
    int lost = 0;
    for (int k = 0; k < 5; k++) {
        double e = t + k * 0.2;
        lost += (e >= s->cut_s && e < s->heal_s) || (e >= s->broken_from_s && e < s->broken_to_s);
    }
    return lost * 20.0;
}

/* Creates path (and its directories) with the probe file's data sources. */
static void create_file(const char *path)
{
    char d[160];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(d, 0755);
            *p = '/';
        }
    const char *def[] = { "DS:rttavg:GAUGE:10:0:U", "DS:loss:GAUGE:10:0:100",
                          "RRA:AVERAGE:0.5:1:9000" };
    assert_int_equal(rrd_create_r(path, STEP, T0 - STEP, 3, def), 0);
}

/* Appends the side's rounds stamped in (from_s, s->until_s] to path. */
static void write_rounds(const char *path, const side_sim_t *s, double from_s)
{
    char buf[96];
    const char *argv[1] = { buf };
    for (double t = s->phase_s; t <= s->until_s; t += STEP) {
        if (t <= from_s)
            continue;
        double loss = round_loss(s, t);
        if (loss >= 100)
            snprintf(buf, sizeof buf, "%lld:U:100", T0 + (long long)floor(t));
        else
            snprintf(buf, sizeof buf, "%lld:%.2f:%.1f", T0 + (long long)floor(t), 12.5, loss);
        assert_int_equal(rrd_update_r(path, NULL, 1, argv), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/rn-test-refine-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(child_path, sizeof child_path, "%s/ajmer/kishangarh/icmp/ajmer.rrd", dir);
    snprintf(parent_path, sizeof parent_path, "%s/ajmer/icmp/ajmer%%2Fkishangarh.rrd", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The outage as the engine recorded it: start at the first full-loss round of the child, end
 * at the first good round (a few seconds off the truth: what refinement corrects). */
static rn_outage_rec_t recorded(double cut_s, double heal_s)
{
    rn_outage_rec_t o = { 0 };
    o.kind = RN_OUTAGE_LINK;
    o.start_ms = (T0 + (int64_t)cut_s + 3) * 1000;
    o.ended = true;
    o.end_ms = (T0 + (int64_t)heal_s + 4) * 1000;
    return o;
}

static int64_t ms(double s)
{
    return (int64_t)llround((T0 + s) * 1000);
}

static void test_child_side_only(void **state)
{
    (void)state;
    side_sim_t c = { .phase_s = 0.3, .cut_s = 1000.7, .heal_s = 1060.7, .until_s = 1200 };
    create_file(child_path);
    write_rounds(child_path, &c, -1);
    rn_outage_rec_t o = recorded(c.cut_s, c.heal_s);
    rn_outage_span_t sp;
    int mask = rn_outage_refine_files(child_path, parent_path, &o, ms(1300), 0, &sp);
    print_message("child only: start %+lld ms, end %+lld ms, sides %u\n",
                  (long long)(o.start_ms - ms(c.cut_s)), (long long)(o.end_ms - ms(c.heal_s)),
                  sp.sides);
    assert_int_equal(mask, 3);
    assert_int_equal(sp.sides, 1);
    assert_true(llabs(o.start_ms - ms(c.cut_s)) <= TOL_MS);
    assert_true(llabs(o.end_ms - ms(c.heal_s)) <= TOL_MS);
}

static void test_parent_side_only(void **state)
{
    (void)state;
    side_sim_t p = { .phase_s = 1.1, .cut_s = 1000.2, .heal_s = 1045.9, .until_s = 1200 };
    create_file(parent_path);
    write_rounds(parent_path, &p, -1);
    rn_outage_rec_t o = recorded(p.cut_s, p.heal_s);
    rn_outage_span_t sp;
    int mask = rn_outage_refine_files(NULL, parent_path, &o, ms(1300), 0, &sp);
    print_message("parent only: start %+lld ms, end %+lld ms\n",
                  (long long)(o.start_ms - ms(p.cut_s)), (long long)(o.end_ms - ms(p.heal_s)));
    assert_int_equal(mask, 3);
    assert_int_equal(sp.sides, 2);
    assert_true(llabs(o.start_ms - ms(p.cut_s)) <= TOL_MS);
    assert_true(llabs(o.end_ms - ms(p.heal_s)) <= TOL_MS);
}

/* Both sides, rounds at different phases: each brackets the edges differently; combined, the
 * edges are at least as close as the worse side's and within the second. */
static void test_both_sides_different_edges(void **state)
{
    (void)state;
    double cut = 1001.5, heal = 1061.2; /* between the child's rounds, inside the parent's */
    side_sim_t c = { .phase_s = 0.0, .cut_s = cut, .heal_s = heal, .until_s = 1200 };
    side_sim_t p = { .phase_s = 1.3, .cut_s = cut, .heal_s = heal, .until_s = 1200 };
    create_file(child_path);
    create_file(parent_path);
    write_rounds(child_path, &c, -1);
    write_rounds(parent_path, &p, -1);
    rn_outage_rec_t oc = recorded(cut, heal), op = oc, ob = oc;
    rn_outage_span_t sp;
    rn_outage_refine_files(child_path, NULL, &oc, ms(1300), 0, NULL);
    rn_outage_refine_files(NULL, parent_path, &op, ms(1300), 0, NULL);
    assert_int_equal(rn_outage_refine_files(child_path, parent_path, &ob, ms(1300), 0, &sp), 3);
    long long es[3] = { oc.start_ms - ms(cut), op.start_ms - ms(cut), ob.start_ms - ms(cut) };
    long long ee[3] = { oc.end_ms - ms(heal), op.end_ms - ms(heal), ob.end_ms - ms(heal) };
    print_message("start error child %+lld, parent %+lld, both %+lld ms; end error %+lld, %+lld, "
                  "%+lld ms\n", es[0], es[1], es[2], ee[0], ee[1], ee[2]);
    assert_int_equal(sp.sides, 3);
    assert_true(llabs(es[2]) <= TOL_MS && llabs(ee[2]) <= TOL_MS);
    assert_true(llabs(es[2]) <= (llabs(es[0]) > llabs(es[1]) ? llabs(es[0]) : llabs(es[1])));
    assert_true(llabs(ee[2]) <= (llabs(ee[0]) > llabs(ee[1]) ? llabs(ee[0]) : llabs(ee[1])));
}

/* In-band management: the cut-off child's rounds reach its file only when its spool replays.
 * Before: the parent's file alone gives the end. After: both, and the same answer within the
 * second. */
static void test_replay_arrives_later(void **state)
{
    (void)state;
    double cut = 1000.9, heal = 1050.4;
    side_sim_t c = { .phase_s = 0.6, .cut_s = cut, .heal_s = heal, .until_s = cut + 0.5 };
    side_sim_t p = { .phase_s = 1.7, .cut_s = cut, .heal_s = heal, .until_s = 1200 };
    create_file(child_path);
    create_file(parent_path);
    write_rounds(child_path, &c, -1);
    write_rounds(parent_path, &p, -1);
    rn_outage_rec_t o = recorded(cut, heal);
    rn_outage_span_t sp;
    assert_int_equal(rn_outage_refine_files(child_path, parent_path, &o, ms(1300), 0, &sp), 3);
    assert_int_equal(sp.sides, 2); /* the child's file has no full-loss row yet */
    int64_t before_start = o.start_ms, before_end = o.end_ms;
    c.until_s = 1200; /* the spool replays */
    write_rounds(child_path, &c, cut + 0.5);
    o = recorded(cut, heal);
    rn_outage_refine_files(child_path, parent_path, &o, ms(1300), 0, &sp);
    print_message("before the replay: start %+lld, end %+lld ms; after: %+lld, %+lld ms\n",
                  (long long)(before_start - ms(cut)), (long long)(before_end - ms(heal)),
                  (long long)(o.start_ms - ms(cut)), (long long)(o.end_ms - ms(heal)));
    assert_int_equal(sp.sides, 3);
    assert_true(llabs(before_start - ms(cut)) <= TOL_MS && llabs(before_end - ms(heal)) <= TOL_MS);
    assert_true(llabs(o.start_ms - ms(cut)) <= TOL_MS && llabs(o.end_ms - ms(heal)) <= TOL_MS);
}

/* The parent's rounds keep failing 10 s past the child's first good round (a route back to one
 * end not yet restored): the link is down while either side fails, so the outage ends at the
 * parent's first good round, the side that recovered last. */
static void test_side_recovering_last_ends_it(void **state)
{
    (void)state;
    double cut = 1000.5, heal = 1040.5, late = heal + 10;
    side_sim_t c = { .phase_s = 0.2, .cut_s = cut, .heal_s = heal, .until_s = 1200 };
    side_sim_t p = { .phase_s = 0.9, .cut_s = cut, .heal_s = heal, .until_s = 1200,
                     .broken_from_s = heal - 1, .broken_to_s = late };
    create_file(child_path);
    create_file(parent_path);
    write_rounds(child_path, &c, -1);
    write_rounds(parent_path, &p, -1);
    rn_outage_rec_t o = recorded(cut, late);
    rn_outage_refine_files(child_path, parent_path, &o, ms(1300), 0, NULL);
    print_message("parent recovering 10 s late: end %+lld ms from its recovery\n",
                  (long long)(o.end_ms - ms(late)));
    assert_true(llabs(o.end_ms - ms(late)) <= TOL_MS);
    assert_true(llabs(o.start_ms - ms(cut)) <= TOL_MS);
}

/* A recorded end further than RN_OUTAGE_REFINE_MAX_MS from the evidence stays, unless the end
 * was only a guess (a restart), and then the evidence's end is taken. No evidence: no change. */
static void test_guard_and_free_end(void **state)
{
    (void)state;
    side_sim_t c = { .phase_s = 0.3, .cut_s = 1000.7, .heal_s = 1030.7, .until_s = 1200 };
    create_file(child_path);
    write_rounds(child_path, &c, -1);
    rn_outage_rec_t o = recorded(c.cut_s, c.heal_s);
    o.end_ms = ms(c.heal_s + 50);
    assert_int_equal(rn_outage_refine_files(child_path, NULL, &o, ms(1300), 0, NULL), 1);
    assert_int_equal(o.end_ms, ms(c.heal_s + 50));
    assert_int_equal(rn_outage_refine_files(child_path, NULL, &o, ms(1300),
                                            RN_OUTAGE_REFINE_FREE_END, NULL), 2);
    assert_true(llabs(o.end_ms - ms(c.heal_s)) <= TOL_MS);
    /* an open outage: the start moves, the end is only reported */
    rn_outage_rec_t open = recorded(c.cut_s, c.heal_s);
    rn_outage_span_t sp;
    open.ended = false;
    assert_int_equal(rn_outage_refine_files(child_path, NULL, &open, ms(1300), 0, &sp), 1);
    assert_true(sp.have_end && llabs(sp.end_ms - ms(c.heal_s)) <= TOL_MS);
    rn_outage_rec_t none = recorded(500, 530);
    assert_int_equal(rn_outage_refine_files(child_path, parent_path, &none, ms(1300), 0, &sp), 0);
    assert_int_equal(sp.sides, 0);
}

/* The pure combination: a partly lost round pins the cut down to an instant. */
static void test_span_partial_round_is_a_point(void **state)
{
    (void)state;
    double a[] = { 0, 0, 40, 100, 100, 100, 60, 0, 0 }; /* round i stamped 100 + 2 (i + 1) */
    rn_outage_side_t s = { .loss = a, .n = 9, .t0_s = 100, .step_s = 2 };
    rn_outage_span_t sp;
    assert_int_equal(rn_outage_refine_span(&s, 1, 108000, &sp), 0);
    /* round at 106 lost its last 40%: cut at 106 + 0.6 * 1; round at 114 lost its first 60% */
    assert_int_equal(sp.start_ms, 106600);
    assert_true(sp.have_end);
    assert_int_equal(sp.end_ms, 114600);
    assert_int_equal(rn_outage_refine_span(&s, 1, 200000, &sp), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_child_side_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_side_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_sides_different_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_arrives_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_side_recovering_last_ends_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guard_and_free_end, setup, teardown),
        cmocka_unit_test(test_span_partial_round_is_a_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
