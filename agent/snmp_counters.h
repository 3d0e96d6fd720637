/* SNMP counter discontinuities: which interface counters of a poll can be compared with the last
 * successful poll's, and which must go out as unknown.
 *
 * Part of the SNMP poller (agent/snmp_poller.c), which fills one rn_snmp_row_t per interface
 * from its walk and hands the finished rows here. This module keeps the last successful poll
 * (its rows and sysUpTime) and judges each new row against it: a reboot (sysUpTime went back),
 * a moved ifCounterDiscontinuityTime, or an ifIndex that names another interface than before
 * makes that row's counters unknown, and this module emits the poll's "if" samples so judged.
 * Nothing here speaks net-snmp or the loop. */
#ifndef RN_SNMP_COUNTERS_H
#define RN_SNMP_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sample.h"

#define RN_SNMP_NAME_LEN 64 /* ifName (and sysName) bytes kept, with the NUL */

/* The IF-MIB columns a walk fills, then two scalars asked for as GETBULK non-repeaters:
 * sysUpTime on every poll, to tell a reboot from a counter wrap, and sysName only when a report
 * is wanted. The walk's column table (agent/snmp_poller.c) is indexed by these. */
enum { RN_COL_NAME, RN_COL_HCIN, RN_COL_HCOUT, RN_COL_HSPEED, RN_COL_OPER, RN_COL_IN,
       RN_COL_INDISC, RN_COL_INERR, RN_COL_OUT, RN_COL_OUTDISC, RN_COL_OUTERR, RN_COL_DISCTIME,
       RN_COL_SYSUPTIME, RN_COL_SYSNAME, RN_COL_N };
#define RN_COL_FIRST_SCALAR RN_COL_SYSUPTIME

/* One interface of one poll: what the walk found under its ifIndex. */
typedef struct {
    unsigned long ifindex;        /* net-snmp's oid arc */
    uint32_t have;                /* bit per column whose value arrived with the right type */
    uint64_t v[RN_COL_N];
    char name[RN_SNMP_NAME_LEN];  /* ifName, printable ASCII, "" when unknown */
} rn_snmp_row_t;

/* The last successful poll of one device, to compare the next one with. Embedded in the
 * device; owns rows. */
typedef struct {
    rn_snmp_row_t *rows; /* sorted by ifIndex */
    size_t n, cap;
    long uptime;         /* its sysUpTime.0 in hundredths of a second, -1 unknown */
} rn_snmp_counters_t;

/* Starts with nothing to compare with. */
void rn_snmp_counters_init(rn_snmp_counters_t *c);

/* Frees the kept rows. */
void rn_snmp_counters_free(rn_snmp_counters_t *c);

/* Returns true if the device rebooted since the last successful poll: its sysUpTime (-1
 * unknown) went back. (It also goes back when it wraps after 497 days; one poll of unknown
 * counters then is harmless.) */
bool rn_snmp_counters_rebooted(const rn_snmp_counters_t *c, long sys_uptime);

/* Emits one "if" sample per row of a finished walk (rows sorted by ifIndex, sys_uptime -1 when
 * unknown) for device, stamped time_ms: counters are unknown where they cannot be compared with
 * the last successful poll, oper status and speed are sent regardless; then logs why at info
 * level, once per poll. Stops early once *stop turns true (an emit callback closed the poller).
 * Returns the number emitted. */
size_t rn_snmp_counters_emit(const rn_snmp_counters_t *c, const rn_snmp_row_t *rows,
                             size_t n_rows, long sys_uptime, const char *device, int64_t time_ms,
                             rn_sample_fn emit, void *ctx, const bool *stop);

/* Keeps a successful poll as the one the next poll compares with. The row buffers swap: c takes
 * *rows (n_rows, cap_rows) and hands back its older buffer, emptied, for the next walk to reuse,
 * so memory stays bounded. */
void rn_snmp_counters_keep(rn_snmp_counters_t *c, rn_snmp_row_t **rows, size_t *n_rows,
                           size_t *cap_rows, long sys_uptime);

#endif
