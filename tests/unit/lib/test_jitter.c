/* First-round delays (lib/jitter.c): inside the window, the window a tenth of the period up to
 * the caller's bound, and neighbouring schedules started in the same instant spread over it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jitter.h"

static rn_mono_ns_t fixed_now;
static rn_mono_ns_t fixed_mono(void) { return fixed_now; }

static void test_spread_is_a_tenth_up_to_the_bound(void **state)
{
    (void)state;
    assert_int_equal(rn_jitter_spread(10000000000ull, 100000000ull), 100000000ull);
    assert_int_equal(rn_jitter_spread(500000000ull, 100000000ull), 50000000ull);
    assert_int_equal(rn_jitter_spread(60000000000ull, 1000000000ull), 1000000000ull);
    assert_int_equal(rn_jitter_spread(9, 100), 0);
}

static void test_empty_window_gives_no_delay(void **state)
{
    (void)state;
    assert_int_equal(rn_jitter_first(9, 100, &fixed_now), 0);
    assert_int_equal(rn_jitter_first(10000000000ull, 0, &fixed_now), 0);
}

/* 256 schedules (neighbouring addresses) set up at the same clock reading: every delay inside
 * the window, and they fill it: each tenth of the window gets some. */
static void test_same_instant_neighbours_spread_over_the_window(void **state)
{
    (void)state;
    static char objects[256][64];
    unsigned tenths[10] = { 0 };
    rn_clock_set_source(fixed_mono, NULL);
    fixed_now = 123456789012345ull;
    for (size_t i = 0; i < 256; i++) {
        rn_mono_ns_t d = rn_jitter_first(10000000000ull, 100000000ull, objects[i]);
        assert_true(d < 100000000ull);
        tenths[d / 10000000ull]++;
    }
    for (size_t k = 0; k < 10; k++)
        assert_true(tenths[k] > 0);
    /* the same schedule at the same instant gets the same delay: tests can repeat a run */
    assert_int_equal(rn_jitter_first(10000000000ull, 100000000ull, objects[7]),
                     rn_jitter_first(10000000000ull, 100000000ull, objects[7]));
    rn_clock_set_source(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_is_a_tenth_up_to_the_bound),
        cmocka_unit_test(test_empty_window_gives_no_delay),
        cmocka_unit_test(test_same_instant_neighbours_spread_over_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
