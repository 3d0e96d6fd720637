/* Unit tests of lib/clock.c: schedules that do not drift, and replaceable clock sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

#define MS 1000000ull
#define S (1000 * MS)

static void test_next_tick_is_strictly_after_now(void **state)
{
    assert_int_equal(rn_clock_next_tick(100 * S, S, 100 * S), 101 * S); /* now on a tick */
    assert_int_equal(rn_clock_next_tick(100 * S, S, 100 * S + 1), 101 * S);
    assert_int_equal(rn_clock_next_tick(100 * S, S, 101 * S - 1), 101 * S);
    assert_int_equal(rn_clock_next_tick(100 * S, S, 101 * S), 102 * S);
}

static void test_next_tick_before_start_is_start(void **state)
{
    assert_int_equal(rn_clock_next_tick(100 * S, S, 5 * S), 100 * S);
    assert_int_equal(rn_clock_next_tick(100 * S, S, 100 * S - 1), 100 * S);
}

/* A loop that wakes late every time (work, scheduling latency) still lands on start + k * period:
 * lateness never accumulates. */
static void test_next_tick_does_not_drift_when_wakeups_are_late(void **state)
{
    const rn_mono_ns_t start = 12345 * MS + 17, period = 250 * MS;
    rn_mono_ns_t deadline = start;
    for (unsigned k = 1; k <= 10000; k++) {
        rn_mono_ns_t woke = deadline + (k * 7919u) % (200 * MS); /* late by 0..200 ms */
        deadline = rn_clock_next_tick(start, period, woke);
        assert_int_equal(deadline, start + (rn_mono_ns_t)k * period);
    }
}

/* A wakeup more than a period late skips the missed ticks instead of firing them in a burst. */
static void test_next_tick_skips_missed_ticks(void **state)
{
    assert_int_equal(rn_clock_next_tick(0, 10 * S, 35 * S), 40 * S);
    assert_int_equal(rn_clock_next_tick(7, 10 * S, 3600 * S), 3600 * S + 7);
}

static void test_next_tick_with_period_zero_returns_start(void **state)
{
    assert_int_equal(rn_clock_next_tick(100 * S, 0, 50 * S), 100 * S);
    assert_int_equal(rn_clock_next_tick(100 * S, 0, 100 * S), 100 * S);
    assert_int_equal(rn_clock_next_tick(100 * S, 0, 500 * S), 100 * S);
}

static void test_next_tick_handles_a_large_clock(void **state)
{
    const rn_mono_ns_t now = 400ull * 24 * 3600 * S; /* 400 days of uptime */
    assert_int_equal(rn_clock_next_tick(3, 60 * S, now), now + 3);
}

static rn_mono_ns_t fake_mono_now;
static int64_t fake_wall_now;
static rn_mono_ns_t fake_mono(void) { return fake_mono_now; }
static int64_t fake_wall(void) { return fake_wall_now; }

static void test_set_source_replaces_both_clocks(void **state)
{
    fake_mono_now = 42 * S;
    fake_wall_now = 1717200000123;
    rn_clock_set_source(fake_mono, fake_wall);
    assert_int_equal(rn_clock_mono_ns(), 42 * S);
    assert_true(rn_clock_wall_ms() == 1717200000123);
    fake_mono_now += S;
    assert_int_equal(rn_clock_mono_ns(), 43 * S);
    rn_clock_set_source(NULL, NULL);
}

static void test_set_source_null_restores_the_system_clocks(void **state)
{
    rn_clock_set_source(fake_mono, fake_wall);
    rn_clock_set_source(NULL, NULL);
    struct timespec mono, wall;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    rn_mono_ns_t m = rn_clock_mono_ns();
    int64_t w = rn_clock_wall_ms();
    rn_mono_ns_t sys_m = (rn_mono_ns_t)mono.tv_sec * S + (rn_mono_ns_t)mono.tv_nsec;
    int64_t sys_w = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    assert_true(m >= sys_m && m - sys_m < 5 * S);
    assert_true(w >= sys_w && w - sys_w < 5000);
    assert_true(rn_clock_mono_ns() >= m); /* monotonic */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_tick_is_strictly_after_now),
        cmocka_unit_test(test_next_tick_before_start_is_start),
        cmocka_unit_test(test_next_tick_does_not_drift_when_wakeups_are_late),
        cmocka_unit_test(test_next_tick_skips_missed_ticks),
        cmocka_unit_test(test_next_tick_with_period_zero_returns_start),
        cmocka_unit_test(test_next_tick_handles_a_large_clock),
        cmocka_unit_test(test_set_source_replaces_both_clocks),
        cmocka_unit_test(test_set_source_null_restores_the_system_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
