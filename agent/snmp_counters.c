/* SNMP counter discontinuities: the bookkeeping that keeps a reboot or a renumbered interface
 * from showing up as a traffic spike.
 *
 * Why it exists: the collector stores counters as DERIVE (min 0): a counter that went down gives
 * unknown there by itself, but one that restarted and has already climbed past its old value (a
 * reboot, a line card reset, an ifIndex that now names another port) would give a
 * plausible-looking wrong rate or a spike. IF-MIB tells us when counters cannot be compared with
 * the last poll: sysUpTime went back, ifCounterDiscontinuityTime moved, or the ifIndex -> ifName
 * map changed. Such a poll's counters are sent as unknown, which also makes the RRD restart its
 * rate from the next poll. A 32-bit counter that wrapped between two polls is left to the DERIVE
 * rule: one unknown.
 *
 * How: the device keeps the rows of its last successful poll, sorted by ifIndex, and that poll's
 * sysUpTime (rn_snmp_counters_t). Each new row is looked up by ifIndex (binary search) and
 * compared; a new ifIndex is also looked up by name, to see a port that moved. The poll's "if"
 * samples are emitted from here, with the counters of such rows unknown. After a successful poll
 * the walk's buffer and the kept one swap. */
#include "snmp_counters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "sources.h"

/* True if the row's column col arrived. */
static bool has(const rn_snmp_row_t *row, int col)
{
    return (row->have & (1u << col)) != 0;
}

/* Writes the series object of row into buf: its ifName, or "ifIndex<n>" without one. */
static void row_object(const rn_snmp_row_t *row, char *buf, size_t len)
{
    if (row->name[0])
        snprintf(buf, len, "%s", row->name);
    else
        snprintf(buf, len, "ifIndex%lu", row->ifindex);
}

void rn_snmp_counters_init(rn_snmp_counters_t *c)
{
    memset(c, 0, sizeof *c);
    c->uptime = -1;
}

void rn_snmp_counters_free(rn_snmp_counters_t *c)
{
    free(c->rows);
    c->rows = NULL;
    c->n = c->cap = 0;
}

/* Returns the row of ifIndex idx in a sorted row array, or NULL. */
static const rn_snmp_row_t *row_find(const rn_snmp_row_t *rows, size_t n, unsigned long idx)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rows[mid].ifindex == idx)
            return &rows[mid];
        if (rows[mid].ifindex < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool rn_snmp_counters_rebooted(const rn_snmp_counters_t *c, long sys_uptime)
{
    return c->uptime >= 0 && sys_uptime >= 0 && sys_uptime < c->uptime;
}

/* Returns why the counters of row cannot be compared with the last successful poll's, or NULL
 * when they can or when there is nothing to compare with. */
static const char *row_discontinuity(const rn_snmp_counters_t *c, const rn_snmp_row_t *row)
{
    if (c->n == 0)
        return NULL;
    const rn_snmp_row_t *prev = row_find(c->rows, c->n, row->ifindex);
    if (!prev) { /* a new ifIndex: did its name live under another one last time? */
        for (size_t i = 0; row->name[0] && i < c->n; i++)
            if (strcmp(c->rows[i].name, row->name) == 0)
                return "moved to another ifIndex";
        return NULL;
    }
    if (strcmp(prev->name, row->name) != 0)
        return "its ifIndex named another interface before";
    if (has(prev, RN_COL_DISCTIME) && has(row, RN_COL_DISCTIME) &&
        prev->v[RN_COL_DISCTIME] != row->v[RN_COL_DISCTIME])
        return "ifCounterDiscontinuityTime changed";
    if (has(prev, RN_COL_HCIN) != has(row, RN_COL_HCIN) ||
        has(prev, RN_COL_HCOUT) != has(row, RN_COL_HCOUT))
        return "octet counters switched between 32 and 64 bits";
    return NULL;
}

/* Sets v from a counter column of row if present. Returns true if it was. */
static bool set_counter(rn_value_t *v, const rn_snmp_row_t *row, int col)
{
    if (!has(row, col))
        return false;
    v->kind = RN_VALUE_COUNTER;
    v->counter = row->v[col];
    return true;
}

/* Fills the counter values of an "if" sample from row: HC octets where the device has them,
 * else the 32-bit ones. What the row lacks stays as it was. */
static void set_counters(rn_value_t *v, const rn_snmp_row_t *row)
{
    if (!set_counter(&v[RN_IF_IN], row, RN_COL_HCIN))
        set_counter(&v[RN_IF_IN], row, RN_COL_IN);
    if (!set_counter(&v[RN_IF_OUT], row, RN_COL_HCOUT))
        set_counter(&v[RN_IF_OUT], row, RN_COL_OUT);
    set_counter(&v[RN_IF_INERR], row, RN_COL_INERR);
    set_counter(&v[RN_IF_OUTERR], row, RN_COL_OUTERR);
    set_counter(&v[RN_IF_INDISC], row, RN_COL_INDISC);
    set_counter(&v[RN_IF_OUTDISC], row, RN_COL_OUTDISC);
}

/* Logs, at info level and once per poll, why some counters of this poll go out as unknown:
 * the reboot, or the first interface with a discontinuity and how many more there are. */
static void log_discontinuity(const char *device, bool rebooted, const rn_snmp_row_t *first,
                              const char *why, size_t n_broken)
{
    char obj[RN_SNMP_NAME_LEN + 16];
    if (rebooted) {
        rn_info("%s: sysUpTime went back (reboot): counters of this poll sent as unknown",
                device);
        return;
    }
    if (n_broken == 0)
        return;
    row_object(first, obj, sizeof obj);
    if (n_broken == 1)
        rn_info("%s: %s (ifIndex %lu) %s: its counters of this poll sent as unknown", device, obj,
                first->ifindex, why);
    else
        rn_info("%s: %s (ifIndex %lu) %s, and %zu more interfaces have a counter "
                "discontinuity: their counters of this poll sent as unknown",
                device, obj, first->ifindex, why, n_broken - 1);
}

size_t rn_snmp_counters_emit(const rn_snmp_counters_t *c, const rn_snmp_row_t *rows,
                             size_t n_rows, long sys_uptime, const char *device, int64_t time_ms,
                             rn_sample_fn emit, void *ctx, const bool *stop)
{
    bool rebooted = rn_snmp_counters_rebooted(c, sys_uptime);
    const rn_snmp_row_t *first_broken = NULL;
    const char *first_why = NULL;
    size_t n = 0, n_broken = 0;
    for (size_t i = 0; i < n_rows && !*stop; i++) {
        const rn_snmp_row_t *row = &rows[i];
        rn_value_t v[RN_IF_N];
        memset(v, 0, sizeof v); /* RN_VALUE_UNKNOWN */
        const char *why = rebooted ? NULL : row_discontinuity(c, row);
        if (why && n_broken++ == 0)
            first_broken = row, first_why = why;
        if (!rebooted && !why)
            set_counters(v, row);
        if (has(row, RN_COL_OPER)) {
            v[RN_IF_OPER].kind = RN_VALUE_GAUGE;
            v[RN_IF_OPER].gauge = (double)row->v[RN_COL_OPER];
        }
        char obj[RN_SNMP_NAME_LEN + 16];
        row_object(row, obj, sizeof obj);
        uint64_t speed =
            has(row, RN_COL_HSPEED) ? row->v[RN_COL_HSPEED] * 1000000ull : 0;
        emit(ctx, RN_SRC_IF, device, obj, time_ms, v, RN_IF_N, speed);
        n++;
    }
    log_discontinuity(device, rebooted, first_broken, first_why, n_broken);
    return n;
}

void rn_snmp_counters_keep(rn_snmp_counters_t *c, rn_snmp_row_t **rows, size_t *n_rows,
                           size_t *cap_rows, long sys_uptime)
{
    rn_snmp_row_t *older = c->rows;
    size_t older_cap = c->cap;
    c->rows = *rows, c->n = *n_rows, c->cap = *cap_rows;
    *rows = older, *n_rows = 0, *cap_rows = older_cap;
    c->uptime = sys_uptime;
}
