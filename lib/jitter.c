/* First-round delays (jitter.h). */
#include "jitter.h"

#include <stdint.h>

rn_mono_ns_t rn_jitter_spread(rn_mono_ns_t period_ns, rn_mono_ns_t max_ns)
{
    return period_ns / 10 < max_ns ? period_ns / 10 : max_ns;
}

rn_mono_ns_t rn_jitter_first(rn_mono_ns_t period_ns, rn_mono_ns_t max_ns, const void *salt)
{
    rn_mono_ns_t spread = rn_jitter_spread(period_ns, max_ns);
    if (spread == 0)
        return 0;
    /* splitmix64's finaliser: two schedules set up in the same microsecond, or objects at
     * neighbouring addresses, still land far apart in the window */
    uint64_t x = rn_clock_mono_ns() ^ (uint64_t)(uintptr_t)salt;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x % spread;
}
