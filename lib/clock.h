/* Time: one monotonic clock in nanoseconds for schedules and durations, and the wall clock in
 * Unix milliseconds for sample timestamps. Tests may replace both with rn_clock_set_source(). */
#ifndef RN_CLOCK_H
#define RN_CLOCK_H

#include <stdint.h>

typedef uint64_t rn_mono_ns_t;

rn_mono_ns_t rn_clock_mono_ns(void);
int64_t rn_clock_wall_ms(void);

/* Replaces the clock sources (NULL restores the system clocks). For tests only. */
void rn_clock_set_source(rn_mono_ns_t (*mono)(void), int64_t (*wall)(void));

/* Returns the next deadline of a schedule that does not drift: the first start + k * period
 * strictly after now. Jitter is added once, at the schedule's start, by the caller. */
rn_mono_ns_t rn_clock_next_tick(rn_mono_ns_t start, rn_mono_ns_t period, rn_mono_ns_t now);

#endif
