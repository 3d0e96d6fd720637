#include "clock.h"

#include <stddef.h>
#include <time.h>

static rn_mono_ns_t system_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (rn_mono_ns_t)ts.tv_sec * 1000000000ull + (rn_mono_ns_t)ts.tv_nsec;
}

static int64_t system_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rn_mono_ns_t (*mono_source)(void) = system_mono;
static int64_t (*wall_source)(void) = system_wall;

rn_mono_ns_t rn_clock_mono_ns(void) { return mono_source(); }
int64_t rn_clock_wall_ms(void) { return wall_source(); }

void rn_clock_set_source(rn_mono_ns_t (*mono)(void), int64_t (*wall)(void))
{
    mono_source = mono ? mono : system_mono;
    wall_source = wall ? wall : system_wall;
}

rn_mono_ns_t rn_clock_next_tick(rn_mono_ns_t start, rn_mono_ns_t period, rn_mono_ns_t now)
{
    if (period == 0 || now < start)
        return start;
    return start + ((now - start) / period + 1) * period;
}
