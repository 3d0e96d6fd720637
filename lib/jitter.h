/* The delay before a schedule's first round. Hundreds of agents start together (a power cut
 * ends, a package upgrade restarts them all), and each prober and poller runs its rounds at
 * start + k * period (rn_clock_next_tick): without a random first delay their rounds would leave
 * in the same millisecond for good. So every schedule starts after a delay drawn once, within a
 * tenth of its period and at most a bound of the caller's (a probe round within 100 ms of being
 * planned, an SNMP device within 1 s), and never drifts from there. */
#ifndef RN_JITTER_H
#define RN_JITTER_H

#include "clock.h"

/* Returns the window of a first round: a tenth of period_ns, at most max_ns. */
rn_mono_ns_t rn_jitter_spread(rn_mono_ns_t period_ns, rn_mono_ns_t max_ns);

/* Returns a delay in [0, rn_jitter_spread(period_ns, max_ns)), 0 when that window is empty. It
 * differs between agents and between the schedules of one agent: the monotonic clock (through
 * rn_clock_mono_ns, so tests that replace the clock get repeatable delays) mixed with salt, the
 * schedule's own address. Not for anything that must be unpredictable. */
rn_mono_ns_t rn_jitter_first(rn_mono_ns_t period_ns, rn_mono_ns_t max_ns, const void *salt);

#endif
